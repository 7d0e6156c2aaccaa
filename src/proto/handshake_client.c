/* handshake_client.c - the client's side of the opening handshake
 * (RFC 6455 sections 4.1 and 4.2.2 from the client's point of view). */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/handshake.h"
#include "proto/random.h"
#include "wsc.h"

static int all_vchar(const char *s) {
  if (!*s) return 0;
  for (; *s; s++)
    if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f) return 0;
  return 1;
}

/* Check the configuration and remember the offered names in hs->offers. */
static int check_config(wsc__hs_client *hs, const wsc__hs_client_config *cfg) {
  if (!cfg || !cfg->host || !all_vchar(cfg->host)) return WSC_EINVAL;
  if (cfg->target && !all_vchar(cfg->target)) return WSC_EINVAL;
  if (cfg->origin && (!*cfg->origin || !wsc__http_is_field_value(cfg->origin, strlen(cfg->origin))))
    return WSC_EINVAL;
  if (cfg->nprotocols && !cfg->protocols) return WSC_EINVAL;
  if (cfg->nheaders && !cfg->headers) return WSC_EINVAL;

  for (size_t i = 0; i < cfg->nprotocols; i++) {
    const char *p = cfg->protocols[i];
    if (!p || !wsc__http_is_token(p, strlen(p))) return WSC_ESYNTAX;
    for (size_t j = 0; j < i; j++)
      if (strcmp(cfg->protocols[j], p) == 0) return WSC_ESYNTAX;
    if (wsc__buf_append(&hs->offers, p, strlen(p) + 1)) return WSC_ENOMEM;
  }
  hs->nprotocols = cfg->nprotocols;

  if (cfg->extensions) {
    size_t n = strlen(cfg->extensions);
    if (!wsc__http_is_field_value(cfg->extensions, n)) return WSC_EINVAL;
    const char *p = cfg->extensions, *end = p + n;
    wsc__http_str name, params;
    int rc;
    while ((rc = wsc__http_ext_next(&p, end, &name, &params)) == 1) {
      if (wsc__buf_append(&hs->offers, name.ptr, name.len) ||
          wsc__buf_append(&hs->offers, "", 1))
        return WSC_ENOMEM;
      hs->nextnames++;
    }
    if (rc < 0) return WSC_EINVAL;
  }

  for (size_t i = 0; i < cfg->nheaders; i++) {
    wsc__http_str name, value;
    if (wsc__hs_split_header(cfg->headers[i], wsc__hs_reserved, WSC__HS_NRESERVED, &name, &value))
      return WSC_EINVAL;
    if (cfg->origin && wsc__http_eq_nocase(name.ptr, name.len, "Origin"))
      return WSC_EINVAL; /* would send two Origin fields */
  }
  return 0;
}

static int write_request(const wsc__hs_client *hs, const wsc__hs_client_config *cfg,
                         wsc__buf *out) {
  int rc = wsc__buf_printf(out,
                           "GET %s HTTP/1.1\r\n"
                           "Host: %s\r\n"
                           "Upgrade: websocket\r\n"
                           "Connection: Upgrade\r\n"
                           "Sec-WebSocket-Key: %s\r\n"
                           "Sec-WebSocket-Version: 13\r\n",
                           cfg->target ? cfg->target : "/", cfg->host, hs->key);
  if (!rc && cfg->origin) rc = wsc__buf_printf(out, "Origin: %s\r\n", cfg->origin);
  for (size_t i = 0; !rc && i < cfg->nprotocols; i++)
    rc = wsc__buf_printf(out, "%s%s%s", i ? ", " : "Sec-WebSocket-Protocol: ", cfg->protocols[i],
                         i + 1 == cfg->nprotocols ? "\r\n" : "");
  if (!rc && hs->nextnames)
    rc = wsc__buf_printf(out, "Sec-WebSocket-Extensions: %s\r\n", cfg->extensions);
  for (size_t i = 0; !rc && i < cfg->nheaders; i++) {
    wsc__http_str name, value;
    wsc__hs_split_header(cfg->headers[i], NULL, 0, &name, &value); /* checked already */
    rc = wsc__buf_printf(out, "%.*s: %.*s\r\n", (int)name.len, name.ptr, (int)value.len,
                         value.ptr);
  }
  if (!rc) rc = wsc__buf_puts(out, "\r\n");
  return rc;
}

int wsc__hs_client_start_with_key(wsc__hs_client *hs, const wsc__hs_client_config *cfg,
                                  const uint8_t key[16], wsc__buf *out) {
  memset(hs, 0, sizeof *hs);
  hs->protocol = hs->extensions = "";
  size_t mark = out->len;
  int rc = check_config(hs, cfg);
  if (!rc && EVP_EncodeBlock((unsigned char *)hs->key, key, 16) != WSC__HS_KEY_LEN)
    rc = WSC_EINTERNAL;
  if (!rc) rc = wsc__hs_accept_key(hs->key, WSC__HS_KEY_LEN, hs->accept);
  if (!rc) rc = write_request(hs, cfg, out);
  if (rc) {
    out->len = mark;
    wsc__hs_client_free(hs);
    return rc;
  }
  wsc__http_head_init(&hs->head, cfg->max_size);
  return 0;
}

int wsc__hs_client_start(wsc__hs_client *hs, const wsc__hs_client_config *cfg, wsc__buf *out) {
  uint8_t key[16];
  int rc = wsc__random(key, sizeof key);
  if (rc) {
    memset(hs, 0, sizeof *hs);
    hs->protocol = hs->extensions = "";
    return rc;
  }
  return wsc__hs_client_start_with_key(hs, cfg, key, out);
}

void wsc__hs_client_free(wsc__hs_client *hs) {
  wsc__buf_free(&hs->offers);
  wsc__buf_free(&hs->joined);
  wsc__http_head_free(&hs->head);
  hs->head.max_size = 0; /* marks hs as not started */
  hs->protocol = hs->extensions = "";
}

/* ---- Receiving the response ----------------------------------------------- */

static int fail(wsc__hs_client *hs, int rc, const char *msg) {
  snprintf(hs->error, sizeof hs->error, "%s", msg);
  hs->result = rc;
  return rc;
}

/* The i-th offered name: protocols first, then extension names. */
static int offered(const wsc__hs_client *hs, size_t first, size_t count, const char *s,
                   size_t n) {
  const char *p = (const char *)hs->offers.data;
  for (size_t i = 0; i < first + count; i++) {
    size_t len = strlen(p);
    if (i >= first && len == n && memcmp(p, s, n) == 0) return 1;
    p += len + 1;
  }
  return 0;
}

/* Does some header called name have token in its comma-separated list? */
static int any_has_token(const wsc__http_head *h, const char *name, const char *token) {
  size_t pos = 0;
  const wsc__http_header *hd;
  while ((hd = wsc__http_head_next(h, name, &pos)))
    if (wsc__http_list_has_token(hd->value, hd->value_len, token)) return 1;
  return 0;
}

static int validate(wsc__hs_client *hs) {
  wsc__http_head *h = &hs->head;
  const char *err = NULL;
  int rc = wsc__http_head_parse(h, 0, &err);
  if (h->start[1].ptr) hs->status = atoi(h->start[1].ptr); /* three digits, checked */
  if (rc) return fail(hs, rc, err);
  if (h->start[0].ptr[5] != '1' || h->start[0].ptr[7] == '0')
    return fail(hs, WSC_EHANDSHAKE, "status line is not HTTP/1.1");
  if (hs->status != 101) {
    snprintf(hs->error, sizeof hs->error, "status %d, expected 101", hs->status);
    hs->result = WSC_EHANDSHAKE;
    return WSC_EHANDSHAKE;
  }
  if (!any_has_token(h, "Upgrade", "websocket"))
    return fail(hs, WSC_EHANDSHAKE, "missing Upgrade: websocket");
  if (!any_has_token(h, "Connection", "upgrade"))
    return fail(hs, WSC_EHANDSHAKE, "missing Connection: upgrade");

  size_t n = wsc__http_head_count(h, "Sec-WebSocket-Accept");
  if (n == 0) return fail(hs, WSC_EHANDSHAKE, "missing Sec-WebSocket-Accept");
  if (n > 1) return fail(hs, WSC_EHANDSHAKE, "duplicate Sec-WebSocket-Accept");
  const wsc__http_header *hd = wsc__http_head_get(h, "Sec-WebSocket-Accept");
  if (hd->value_len != WSC__HS_ACCEPT_LEN || memcmp(hd->value, hs->accept, WSC__HS_ACCEPT_LEN))
    return fail(hs, WSC_EHANDSHAKE, "Sec-WebSocket-Accept mismatch");

  n = wsc__http_head_count(h, "Sec-WebSocket-Protocol");
  if (n > 0) {
    hd = wsc__http_head_get(h, "Sec-WebSocket-Protocol");
    if (n > 1 || memchr(hd->value, ',', hd->value_len))
      return fail(hs, WSC_EHANDSHAKE, "server selected more than one subprotocol");
    if (!offered(hs, 0, hs->nprotocols, hd->value, hd->value_len))
      return fail(hs, WSC_EHANDSHAKE, "server selected a subprotocol that was not offered");
  }
  const char *protocol = n ? hd->value : "";

  size_t pos = 0;
  while ((hd = wsc__http_head_next(h, "Sec-WebSocket-Extensions", &pos))) {
    const char *p = hd->value, *end = p + hd->value_len;
    wsc__http_str name, params;
    int more;
    size_t count = 0;
    while ((more = wsc__http_ext_next(&p, end, &name, &params)) == 1) {
      if (!offered(hs, hs->nprotocols, hs->nextnames, name.ptr, name.len))
        return fail(hs, WSC_EEXTENSION, "server selected an extension that was not offered");
      count++;
    }
    if (more < 0) return fail(hs, WSC_EEXTENSION, "malformed Sec-WebSocket-Extensions");
    if (count == 0) continue; /* an empty field, or only empty list elements */
    if ((hs->joined.len && wsc__buf_append(&hs->joined, ", ", 2)) ||
        wsc__buf_append(&hs->joined, hd->value, hd->value_len))
      return fail(hs, WSC_ENOMEM, "out of memory");
  }
  if (hs->joined.len) {
    if (wsc__buf_append(&hs->joined, "", 1)) return fail(hs, WSC_ENOMEM, "out of memory");
    hs->extensions = (const char *)hs->joined.data;
  }
  hs->protocol = protocol;
  hs->result = 1;
  return 1;
}

int wsc__hs_client_recv(wsc__hs_client *hs, const uint8_t *data, size_t len, size_t *consumed) {
  *consumed = 0;
  if (hs->head.max_size == 0) return fail(hs, WSC_EINVAL, "handshake not started");
  if (hs->result) return hs->result;
  const char *err = "";
  size_t used = 0;
  int rc = wsc__http_head_feed(&hs->head, data, len, &used, &err);
  if (rc < 0) return fail(hs, rc, err);
  if (rc == 1) rc = validate(hs);
  if (rc >= 0) *consumed = used;
  return rc;
}
