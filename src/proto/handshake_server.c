/* handshake_server.c - the server's side of the opening handshake
 * (RFC 6455 section 4.2). */
#include <string.h>

#include "proto/handshake.h"
#include "wsc.h"

void wsc__hs_server_init(wsc__hs_server *hs, size_t max_size) {
  memset(hs, 0, sizeof *hs);
  wsc__http_head_init(&hs->head, max_size);
  hs->max_size = hs->head.max_size;
}

void wsc__hs_server_free(wsc__hs_server *hs) {
  wsc__http_head_free(&hs->head);
  hs->head.max_size = 0; /* marks hs as not initialised */
  hs->method = hs->target = hs->path = hs->query = hs->version = (wsc__http_str){0};
  hs->host = hs->origin = hs->key = hs->ws_version = (wsc__http_str){0};
}

static int fail(wsc__hs_server *hs, int rc, int status, const char *msg) {
  hs->result = rc;
  hs->status = status;
  hs->error = msg;
  return rc;
}

static wsc__http_str value_of(const wsc__http_header *hd) {
  return hd ? (wsc__http_str){hd->value, hd->value_len} : (wsc__http_str){0};
}

static int any_has_token(const wsc__http_head *h, const char *name, const char *token) {
  size_t pos = 0;
  const wsc__http_header *hd;
  while ((hd = wsc__http_head_next(h, name, &pos)))
    if (wsc__http_list_has_token(hd->value, hd->value_len, token)) return 1;
  return 0;
}

/* 1 if every Content-Length is a run of zeros and there is no
 * Transfer-Encoding: the request has no body. */
static int has_no_body(const wsc__http_head *h) {
  if (wsc__http_head_get(h, "Transfer-Encoding")) return 0;
  size_t pos = 0;
  const wsc__http_header *hd;
  while ((hd = wsc__http_head_next(h, "Content-Length", &pos))) {
    if (hd->value_len == 0) return 0;
    for (size_t i = 0; i < hd->value_len; i++)
      if (hd->value[i] != '0') return 0;
  }
  return 1;
}

/* The head is complete: parse it and decide. */
static int classify(wsc__hs_server *hs) {
  wsc__http_head *h = &hs->head;
  const char *err = NULL;
  int rc = wsc__http_head_parse(h, 1, &err);
  if (rc) return fail(hs, rc, rc == WSC_EHEADERSIZE ? 431 : 400, err);

  hs->method = h->start[0];
  hs->target = h->start[1];
  hs->version = h->start[2];
  const char *q = memchr(hs->target.ptr, '?', hs->target.len);
  hs->path = (wsc__http_str){hs->target.ptr, q ? (size_t)(q - hs->target.ptr) : hs->target.len};
  if (q) hs->query = (wsc__http_str){q + 1, hs->target.len - hs->path.len - 1};

  /* HTTP/1.0 is fine for a plain request, not for an upgrade (RFC 6455
   * section 4.1: at least 1.1). Other major versions do not use this syntax. */
  if (hs->version.ptr[5] != '1') return fail(hs, WSC_EHANDSHAKE, 400, "unsupported HTTP version");
  int http11 = hs->version.ptr[7] != '0';

  size_t nhost = wsc__http_head_count(h, "Host");
  if (nhost > 1) return fail(hs, WSC_EHANDSHAKE, 400, "duplicate Host");
  if (nhost == 0 && http11) return fail(hs, WSC_EHANDSHAKE, 400, "missing Host");
  hs->host = value_of(wsc__http_head_get(h, "Host"));
  if (wsc__http_head_count(h, "Origin") > 1)
    return fail(hs, WSC_EHANDSHAKE, 400, "duplicate Origin");
  hs->origin = value_of(wsc__http_head_get(h, "Origin"));

  size_t nkey = wsc__http_head_count(h, "Sec-WebSocket-Key");
  int upgrade_ws = any_has_token(h, "Upgrade", "websocket");
  if (!upgrade_ws && nkey == 0) {
    hs->result = 2; /* plain HTTP */
    return 2;
  }

  /* A WebSocket upgrade: RFC 6455 section 4.2.1. */
  if (hs->method.len != 3 || memcmp(hs->method.ptr, "GET", 3) != 0) /* case-sensitive */
    return fail(hs, WSC_EHANDSHAKE, 405, "WebSocket upgrade with a method other than GET");
  if (!http11) return fail(hs, WSC_EHANDSHAKE, 400, "WebSocket upgrade needs HTTP/1.1");
  if (hs->host.len == 0) return fail(hs, WSC_EHANDSHAKE, 400, "missing Host");
  if (!upgrade_ws) return fail(hs, WSC_EHANDSHAKE, 400, "missing Upgrade: websocket");
  if (!any_has_token(h, "Connection", "upgrade"))
    return fail(hs, WSC_EHANDSHAKE, 400, "missing Connection: upgrade");

  size_t nver = wsc__http_head_count(h, "Sec-WebSocket-Version");
  hs->ws_version = value_of(wsc__http_head_get(h, "Sec-WebSocket-Version"));
  if (nver == 0) return fail(hs, WSC_EHANDSHAKE, 426, "missing Sec-WebSocket-Version");
  if (nver > 1 || hs->ws_version.len != 2 || memcmp(hs->ws_version.ptr, "13", 2) != 0)
    return fail(hs, WSC_EHANDSHAKE, 426, "Sec-WebSocket-Version is not 13");

  if (nkey == 0) return fail(hs, WSC_EHANDSHAKE, 400, "missing Sec-WebSocket-Key");
  if (nkey > 1) return fail(hs, WSC_EHANDSHAKE, 400, "duplicate Sec-WebSocket-Key");
  hs->key = value_of(wsc__http_head_get(h, "Sec-WebSocket-Key"));
  if (!wsc__hs_key_valid(hs->key.ptr, hs->key.len))
    return fail(hs, WSC_EHANDSHAKE, 400, "Sec-WebSocket-Key is not base64 of 16 bytes");

  if (!has_no_body(h))
    return fail(hs, WSC_EHANDSHAKE, 400, "request body on a WebSocket upgrade");

  wsc__hs_iter it = {0};
  wsc__http_str p;
  while (wsc__hs_server_protocol_next(hs, &it, &p))
    if (!wsc__http_is_token(p.ptr, p.len))
      return fail(hs, WSC_EHANDSHAKE, 400, "invalid subprotocol in Sec-WebSocket-Protocol");

  hs->result = 1;
  return 1;
}

int wsc__hs_server_recv(wsc__hs_server *hs, const uint8_t *data, size_t len, size_t *consumed) {
  *consumed = 0;
  if (hs->head.max_size == 0) return fail(hs, WSC_EINVAL, 500, "handshake not initialised");
  if (hs->result) return hs->result;
  const char *err = "";
  size_t used = 0;
  int rc = wsc__http_head_feed(&hs->head, data, len, &used, &err);
  if (rc < 0)
    return fail(hs, rc, rc == WSC_EHEADERSIZE ? 431 : rc == WSC_ENOMEM ? 500 : 400, err);
  if (rc == 1) rc = classify(hs);
  if (rc >= 0) *consumed = used;
  return rc;
}

const wsc__http_header *wsc__hs_server_header(const wsc__hs_server *hs, const char *name) {
  return wsc__http_head_get(&hs->head, name);
}

const wsc__http_header *wsc__hs_server_header_next(const wsc__hs_server *hs, const char *name,
                                                   size_t *pos) {
  return wsc__http_head_next(&hs->head, name, pos);
}

int wsc__hs_server_protocol_next(const wsc__hs_server *hs, wsc__hs_iter *it, wsc__http_str *out) {
  const wsc__http_head *h = &hs->head;
  for (; it->header < h->nheaders; it->header++, it->off = 0) {
    const wsc__http_header *hd = &h->headers[it->header];
    if (!wsc__http_eq_nocase(hd->name, hd->name_len, "Sec-WebSocket-Protocol")) continue;
    if (it->off > hd->value_len) continue;
    const char *p = hd->value + it->off;
    if (wsc__http_list_next(&p, hd->value + hd->value_len, out)) {
      it->off = (size_t)(p - hd->value);
      return 1;
    }
  }
  return 0;
}

int wsc__hs_server_offered(const wsc__hs_server *hs, const char *protocol) {
  size_t n = strlen(protocol);
  wsc__hs_iter it = {0};
  wsc__http_str p;
  while (wsc__hs_server_protocol_next(hs, &it, &p))
    if (p.len == n && memcmp(p.ptr, protocol, n) == 0) return 1;
  return 0;
}

/* Append the extra headers (already checked) to out. */
static int write_headers(const char *const *headers, size_t nheaders, wsc__buf *out) {
  for (size_t i = 0; i < nheaders; i++) {
    wsc__http_str name, value;
    wsc__hs_split_header(headers[i], NULL, 0, &name, &value);
    int rc = wsc__buf_printf(out, "%.*s: %.*s\r\n", (int)name.len, name.ptr, (int)value.len,
                             value.ptr);
    if (rc) return rc;
  }
  return 0;
}

static int extensions_valid(const char *s) {
  size_t n = strlen(s);
  if (!wsc__http_is_field_value(s, n)) return 0;
  const char *p = s, *end = s + n;
  wsc__http_str name, params;
  int rc;
  while ((rc = wsc__http_ext_next(&p, end, &name, &params)) == 1) {
  }
  return rc == 0;
}

int wsc__hs_server_accept(const wsc__hs_server *hs, const char *protocol, const char *extensions,
                          const char *const *headers, size_t nheaders, wsc__buf *out) {
  if (hs->result != 1) return WSC_EINVAL;
  if (protocol && !wsc__hs_server_offered(hs, protocol)) return WSC_EINVAL;
  if (extensions && !extensions_valid(extensions)) return WSC_EINVAL;
  if (nheaders && !headers) return WSC_EINVAL;
  for (size_t i = 0; i < nheaders; i++) {
    wsc__http_str name, value;
    if (wsc__hs_split_header(headers[i], wsc__hs_reserved, WSC__HS_NRESERVED, &name, &value))
      return WSC_EINVAL;
  }
  char accept[WSC__HS_ACCEPT_LEN + 1];
  int rc = wsc__hs_accept_key(hs->key.ptr, hs->key.len, accept);
  if (rc) return rc;

  size_t mark = out->len;
  rc = wsc__buf_printf(out,
                       "HTTP/1.1 101 Switching Protocols\r\n"
                       "Upgrade: websocket\r\n"
                       "Connection: Upgrade\r\n"
                       "Sec-WebSocket-Accept: %s\r\n",
                       accept);
  if (!rc && protocol) rc = wsc__buf_printf(out, "Sec-WebSocket-Protocol: %s\r\n", protocol);
  if (!rc && extensions && *extensions)
    rc = wsc__buf_printf(out, "Sec-WebSocket-Extensions: %s\r\n", extensions);
  if (!rc) rc = write_headers(headers, nheaders, out);
  if (!rc) rc = wsc__buf_puts(out, "\r\n");
  if (rc) out->len = mark;
  return rc;
}

static const char *reason_phrase(int status) {
  switch (status) {
  case 300: return "Multiple Choices";
  case 301: return "Moved Permanently";
  case 302: return "Found";
  case 303: return "See Other";
  case 304: return "Not Modified";
  case 307: return "Temporary Redirect";
  case 308: return "Permanent Redirect";
  case 400: return "Bad Request";
  case 401: return "Unauthorized";
  case 403: return "Forbidden";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 406: return "Not Acceptable";
  case 408: return "Request Timeout";
  case 409: return "Conflict";
  case 410: return "Gone";
  case 411: return "Length Required";
  case 413: return "Content Too Large";
  case 414: return "URI Too Long";
  case 415: return "Unsupported Media Type";
  case 426: return "Upgrade Required";
  case 429: return "Too Many Requests";
  case 431: return "Request Header Fields Too Large";
  case 500: return "Internal Server Error";
  case 501: return "Not Implemented";
  case 502: return "Bad Gateway";
  case 503: return "Service Unavailable";
  case 504: return "Gateway Timeout";
  case 505: return "HTTP Version Not Supported";
  default:
    return status < 400 ? "Redirection" : status < 500 ? "Client Error" : "Server Error";
  }
}

int wsc__hs_server_reject(int status, const char *body, const char *const *headers,
                          size_t nheaders, wsc__buf *out) {
  static const char *const reserved[] = {"Connection", "Content-Length", "Transfer-Encoding"};
  if (status < 300 || status > 599) return WSC_EINVAL;
  if (nheaders && !headers) return WSC_EINVAL;
  int has_type = 0, has_allow = 0, has_version = 0, has_upgrade = 0;
  for (size_t i = 0; i < nheaders; i++) {
    wsc__http_str name, value;
    if (wsc__hs_split_header(headers[i], reserved, 3, &name, &value)) return WSC_EINVAL;
    has_type |= wsc__http_eq_nocase(name.ptr, name.len, "Content-Type");
    has_allow |= wsc__http_eq_nocase(name.ptr, name.len, "Allow");
    has_version |= wsc__http_eq_nocase(name.ptr, name.len, "Sec-WebSocket-Version");
    has_upgrade |= wsc__http_eq_nocase(name.ptr, name.len, "Upgrade");
  }
  size_t blen = body ? strlen(body) : 0;

  size_t mark = out->len;
  int rc = wsc__buf_printf(out, "HTTP/1.1 %d %s\r\n", status, reason_phrase(status));
  if (!rc) rc = write_headers(headers, nheaders, out);
  if (!rc && status == 426 && !has_version) rc = wsc__buf_puts(out, "Sec-WebSocket-Version: 13\r\n");
  /* RFC 7231 section 6.5.15: a 426 MUST carry Upgrade; RFC 7230 section 6.7:
   * whoever sends Upgrade also lists "upgrade" in Connection. */
  if (!rc && status == 426 && !has_upgrade) rc = wsc__buf_puts(out, "Upgrade: websocket\r\n");
  /* RFC 7231 section 6.5.5: a 405 MUST carry Allow. */
  if (!rc && status == 405 && !has_allow) rc = wsc__buf_puts(out, "Allow: GET\r\n");
  if (!rc && blen && !has_type) rc = wsc__buf_puts(out, "Content-Type: text/plain; charset=utf-8\r\n");
  if (!rc)
    rc = wsc__buf_printf(out, "Content-Length: %zu\r\nConnection: %s\r\n\r\n", blen,
                         status == 426 ? "Upgrade, close" : "close");
  if (!rc) rc = wsc__buf_append(out, body, blen);
  if (rc) out->len = mark;
  return rc;
}
