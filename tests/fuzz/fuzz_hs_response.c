/* fuzz_hs_response.c - the client's response parser on arbitrary bytes.
 *
 * The client offers the RFC 6455 example key ("the sample nonce", so the
 * expected accept is s3pPLMBiTxaQ9kYGzzhZRbK+xOo=), subprotocols chat and
 * superchat and two extensions. The input is what the server sends. It is fed
 * once in one piece and once split at points derived from the data; both
 * runs must agree on everything, and a success must only ever report what was
 * offered.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/handshake.h"
#include "wsc.h"
#include "fuzz_split.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const PROTOS[] = {"chat", "superchat"};

static void start(wsc__hs_client *hs, size_t max) {
  wsc__hs_client_config cfg = {0};
  cfg.host = "server.example.com";
  cfg.target = "/chat";
  cfg.protocols = PROTOS;
  cfg.nprotocols = 2;
  cfg.extensions = "permessage-deflate; client_max_window_bits, x-webkit-deflate-frame";
  cfg.max_size = max;
  wsc__buf out = {0};
  ENSURE(wsc__hs_client_start_with_key(hs, &cfg, (const uint8_t *)"the sample nonce", &out) == 0);
  wsc__buf_free(&out);
}

static size_t pick_max(const uint8_t *data, size_t size) {
  return size && (data[size - 1] & 7) == 7 ? 64 + data[size - 1] : 0;
}

static int feed(void *p, const uint8_t *d, size_t n, size_t *consumed) {
  return wsc__hs_client_recv((wsc__hs_client *)p, d, n, consumed);
}

static int feed_split(wsc__hs_client *p, const uint8_t *data, size_t size, size_t *total) {
  return fuzz_feed_split(feed, p, data, size, total);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  size_t max = pick_max(data, size);
  wsc__hs_client a, b;
  start(&a, max);
  start(&b, max);

  size_t ca = (size_t)-1, cb;
  int ra = wsc__hs_client_recv(&a, data, size, &ca);
  ENSURE(ca <= size);
  int rb = feed_split(&b, data, size, &cb);

  ENSURE(ra == rb);
  ENSURE(a.status == b.status);
  ENSURE(strcmp(a.error, b.error) == 0);
  ENSURE(strcmp(a.protocol, b.protocol) == 0);
  ENSURE(strcmp(a.extensions, b.extensions) == 0);
  ENSURE(a.head.buf.len <= a.head.max_size);
  if (ra == 0) ENSURE(ca == size && cb == size && a.error[0] == 0);
  if (ra < 0) ENSURE(ca == 0 && a.error[0] != 0);
  if (ra == 1) {
    ENSURE(ca == cb && ca == a.head.buf.len && a.status == 101 && a.error[0] == 0);
    ENSURE(!*a.protocol || !strcmp(a.protocol, "chat") || !strcmp(a.protocol, "superchat"));
    const char *p = a.extensions, *end = p + strlen(p);
    wsc__http_str name, params;
    int rc;
    while ((rc = wsc__http_ext_next(&p, end, &name, &params)) == 1)
      ENSURE((name.len == 18 && !memcmp(name.ptr, "permessage-deflate", 18)) ||
             (name.len == 22 && !memcmp(name.ptr, "x-webkit-deflate-frame", 22)));
    ENSURE(rc == 0);
  } else {
    ENSURE(!*a.protocol && !*a.extensions);
  }
  size_t c2 = 1;
  if (ra != 0) ENSURE(wsc__hs_client_recv(&a, data, size, &c2) == ra && c2 == 0);

  wsc__hs_client_free(&a);
  wsc__hs_client_free(&b);
  return 0;
}
