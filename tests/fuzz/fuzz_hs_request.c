/* fuzz_hs_request.c - the server's request parser on arbitrary bytes.
 *
 * The input is the byte stream a client sends. It is fed once in one piece
 * and once split at points derived from the data; both runs must agree on
 * everything (result, status, error, consumed, parsed fields). A valid
 * upgrade is answered with wsc__hs_server_accept() and the answer must be
 * accepted by a client holding the same key; a failure is answered with
 * wsc__hs_server_reject() and a client must read that status back.
 */
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/handshake.h"
#include "wsc.h"
#include "fuzz_split.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A small limit now and then, so the size checks are reached too. */
static size_t pick_max(const uint8_t *data, size_t size) {
  return size && (data[size - 1] & 7) == 7 ? 64 + data[size - 1] : 0;
}

static int feed(void *p, const uint8_t *d, size_t n, size_t *consumed) {
  return wsc__hs_server_recv((wsc__hs_server *)p, d, n, consumed);
}

static int feed_split(wsc__hs_server *p, const uint8_t *data, size_t size, size_t *total) {
  return fuzz_feed_split(feed, p, data, size, total);
}

static int same_str(wsc__http_str a, wsc__http_str b) {
  if (!a.ptr || !b.ptr) return !a.ptr && !b.ptr;
  return a.len == b.len && memcmp(a.ptr, b.ptr, a.len) == 0;
}

static void check_views(const wsc__hs_server *hs) {
  const char *lo = (const char *)hs->head.buf.data, *hi = lo + hs->head.buf.len;
  const wsc__http_str *v[] = {&hs->method, &hs->target, &hs->path,   &hs->query,     &hs->version,
                              &hs->host,   &hs->origin, &hs->key,    &hs->ws_version};
  for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
    if (v[i]->ptr) ENSURE(v[i]->ptr >= lo && v[i]->ptr + v[i]->len <= hi);
  for (size_t i = 0; i < hs->head.nheaders; i++) {
    const wsc__http_header *h = &hs->head.headers[i];
    ENSURE(strlen(h->name) == h->name_len && strlen(h->value) == h->value_len);
    ENSURE(wsc__http_is_token(h->name, h->name_len));
    ENSURE(wsc__http_is_field_value(h->value, h->value_len));
  }
}

/* Answer a valid upgrade and check that a client with the same key agrees. */
static void answer_upgrade(const wsc__hs_server *hs) {
  wsc__hs_iter it = {0};
  wsc__http_str p;
  char proto[256] = "";
  if (wsc__hs_server_protocol_next(hs, &it, &p) && p.len < sizeof proto) {
    memcpy(proto, p.ptr, p.len);
    proto[p.len] = 0;
    ENSURE(wsc__hs_server_offered(hs, proto));
  }
  wsc__buf out = {0};
  ENSURE(wsc__hs_server_accept(hs, *proto ? proto : NULL, NULL, NULL, 0, &out) == 0);

  uint8_t key[18];
  ENSURE(EVP_DecodeBlock(key, (const unsigned char *)hs->key.ptr, 24) == 18);
  const char *protos[1] = {proto};
  wsc__hs_client_config cfg = {0};
  cfg.host = "fuzz";
  cfg.protocols = protos;
  cfg.nprotocols = *proto ? 1 : 0;
  wsc__hs_client c;
  wsc__buf req = {0};
  ENSURE(wsc__hs_client_start_with_key(&c, &cfg, key, &req) == 0);
  ENSURE(c.key[23] == '=' && memcmp(c.key, hs->key.ptr, 24) == 0);
  size_t consumed;
  ENSURE(wsc__hs_client_recv(&c, out.data, out.len, &consumed) == 1);
  ENSURE(consumed == out.len);
  ENSURE(strcmp(c.protocol, proto) == 0);
  wsc__hs_client_free(&c);
  wsc__buf_free(&req);
  wsc__buf_free(&out);
}

/* Answer a failure with its status and check a client reads it back. */
static void answer_failure(const wsc__hs_server *hs) {
  ENSURE(hs->status >= 400 && hs->status <= 599 && hs->error);
  wsc__buf out = {0};
  ENSURE(wsc__hs_server_reject(hs->status, hs->error, NULL, 0, &out) == 0);
  wsc__hs_client_config cfg = {0};
  cfg.host = "fuzz";
  wsc__hs_client c;
  wsc__buf req = {0};
  ENSURE(wsc__hs_client_start_with_key(&c, &cfg, (const uint8_t *)"0123456789abcdef", &req) == 0);
  size_t consumed;
  ENSURE(wsc__hs_client_recv(&c, out.data, out.len, &consumed) == WSC_EHANDSHAKE);
  ENSURE(c.status == hs->status);
  wsc__hs_client_free(&c);
  wsc__buf_free(&req);
  wsc__buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  size_t max = pick_max(data, size);
  wsc__hs_server a, b;
  wsc__hs_server_init(&a, max);
  wsc__hs_server_init(&b, max);

  size_t ca = (size_t)-1;
  int ra = wsc__hs_server_recv(&a, data, size, &ca);
  ENSURE(ca <= size);
  size_t cb;
  int rb = feed_split(&b, data, size, &cb);

  ENSURE(ra == rb);
  ENSURE(a.status == b.status);
  ENSURE((a.error == NULL) == (b.error == NULL));
  if (a.error) ENSURE(strcmp(a.error, b.error) == 0);
  if (ra == 0) ENSURE(ca == size && cb == size);
  if (ra < 0) ENSURE(ca == 0);
  ENSURE(a.head.buf.len <= a.max_size && b.head.buf.len <= b.max_size);
  if (ra > 0) {
    ENSURE(ca == cb && ca == a.head.buf.len);
    ENSURE(a.head.nheaders == b.head.nheaders);
    ENSURE(same_str(a.method, b.method) && same_str(a.target, b.target));
    ENSURE(same_str(a.path, b.path) && same_str(a.query, b.query));
    ENSURE(same_str(a.host, b.host) && same_str(a.origin, b.origin));
    ENSURE(same_str(a.key, b.key) && same_str(a.ws_version, b.ws_version));
    check_views(&a);
    if (ra == 1) answer_upgrade(&a);
  } else if (ra < 0) {
    answer_failure(&a);
  }
  /* results are sticky */
  size_t c2 = 1;
  ENSURE(wsc__hs_server_recv(&a, data, size, &c2) == ra || ra == 0);

  wsc__hs_server_free(&a);
  wsc__hs_server_free(&b);
  return 0;
}
