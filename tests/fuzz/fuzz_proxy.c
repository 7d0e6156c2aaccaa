/* fuzz_proxy.c - the proxy module on arbitrary bytes.
 *
 * One input drives three checks:
 *   - as a proxy URL (NUL-terminated copy): wsc__proxy_parse must return 0
 *     or WSC_EINVAL; on success the host is visible ASCII, the bracket forms
 *     agree, the Authorization value is "Basic " + valid base64, the proxy
 *     written back as "http://host:port" parses to the same host and port,
 *     and a CONNECT request to that host is accepted;
 *   - as "no_proxy list NUL host": the match must not crash, must be
 *     monotonic (adding an entry never removes a match) and "*" must match;
 *   - as a proxy's reply to CONNECT: fed in one piece and split at points
 *     derived from the data, both runs must agree on the result, the bytes
 *     consumed, the status and the message; a tunnel only opens on 2xx.
 * Anything else traps.
 */
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/proxy.h"
#include "wsc.h"
#include "fuzz_split.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_visible(const char *s) {
  for (; *s; s++) ENSURE((unsigned char)*s > 0x20 && (unsigned char)*s < 0x7f);
}

static void fuzz_url(const char *in) {
  wsc__proxy p;
  char err[160];
  int rc = wsc__proxy_parse(in, &p, err, sizeof err);
  ENSURE(rc == 0 || rc == WSC_EINVAL);
  if (rc != 0) {
    ENSURE(p.host == NULL && err[0] != '\0');
    return;
  }
  check_visible(p.host);
  check_visible(p.hostname_for_connect);
  ENSURE(p.port != 0);
  size_t hl = strlen(p.host), nl = strlen(p.hostname_for_connect);
  ENSURE(nl > 0);
  if (p.host[0] == '[')
    ENSURE(hl == nl + 2 && p.host[hl - 1] == ']' &&
           !memcmp(p.host + 1, p.hostname_for_connect, nl));
  else
    ENSURE(strcmp(p.host, p.hostname_for_connect) == 0);
  if (p.authorization) {
    ENSURE(strncmp(p.authorization, "Basic ", 6) == 0);
    const char *b = p.authorization + 6;
    size_t bl = strlen(b);
    ENSURE(bl > 0 && bl % 4 == 0);
    unsigned char *dec = malloc(bl);
    ENSURE(dec != NULL);
    ENSURE(EVP_DecodeBlock(dec, (const unsigned char *)b, (int)bl) >= 0);
    free(dec);
  }
  char again[600];
  int n = snprintf(again, sizeof again, "http://%s:%u/", p.host, (unsigned)p.port);
  ENSURE(n > 0 && (size_t)n < sizeof again);
  wsc__proxy q;
  ENSURE(wsc__proxy_parse(again, &q, err, sizeof err) == 0);
  ENSURE(strcmp(p.host, q.host) == 0 &&
         strcmp(p.hostname_for_connect, q.hostname_for_connect) == 0);
  ENSURE(p.port == q.port && q.authorization == NULL);
  wsc__proxy_free(&q);
  wsc__buf out = {0};
  ENSURE(wsc__proxy_connect_request(&out, p.hostname_for_connect, p.port, p.authorization) == 0);
  ENSURE(out.len > 0 && memchr(out.data, 0, out.len) == NULL);
  wsc__buf_free(&out);
  wsc__proxy_free(&p);
}

static void fuzz_no_proxy(const char *in, size_t size, uint16_t port) {
  size_t ll = strlen(in);
  const char *host = ll < size ? in + ll + 1 : "";
  int m = wsc__proxy_no_proxy_match(in, host, port);
  ENSURE(m == 0 || m == 1);
  if (ll > 1000) return;
  char more[1100];
  snprintf(more, sizeof more, "%s,never.invalid", in);
  ENSURE(wsc__proxy_no_proxy_match(more, host, port) >= m);
  snprintf(more, sizeof more, "%s,*", in);
  ENSURE(wsc__proxy_no_proxy_match(more, host, port) == 1);
}

static int feed(void *p, const uint8_t *d, size_t n, size_t *consumed) {
  return wsc__proxy_reply_feed((wsc__proxy_reply *)p, d, n, consumed);
}

static int feed_split(wsc__proxy_reply *p, const uint8_t *data, size_t size, size_t *total) {
  return fuzz_feed_split(feed, p, data, size, total);
}

static void fuzz_reply(const uint8_t *data, size_t size) {
  size_t max = size && (data[size - 1] & 7) == 7 ? 32 + data[size - 1] : 0;
  wsc__proxy_reply a, b;
  wsc__proxy_reply_init(&a, max);
  wsc__proxy_reply_init(&b, max);
  size_t ca = (size_t)-1, cb;
  int ra = wsc__proxy_reply_feed(&a, data, size, &ca);
  int rb = feed_split(&b, data, size, &cb);
  ENSURE(ra == rb && a.status == b.status && strcmp(a.error, b.error) == 0);
  ENSURE(ra == 0 || ra == 1 || ra == WSC_EPROXY || ra == WSC_EHEADERSIZE);
  if (ra == 0) ENSURE(ca == size && cb == size && a.error[0] == 0 && a.status == 0);
  if (ra == 1) ENSURE(ca == cb && ca <= size && a.status >= 200 && a.status < 300 && !a.error[0]);
  if (ra < 0) {
    ENSURE(ca == 0 && a.error[0] != 0);
    ENSURE(a.status == 0 || a.status < 200 || a.status >= 300);
  }
  ENSURE(memchr(a.error, 0, sizeof a.error) != NULL);
  int re = wsc__proxy_reply_eof(&a);
  ENSURE(ra == 0 ? re == WSC_EPROXY : re == ra);
  wsc__proxy_reply_free(&a);
  wsc__proxy_reply_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 1 << 14) return 0;
  char *in = malloc(size + 1);
  if (!in) return 0;
  memcpy(in, data, size);
  in[size] = '\0';
  fuzz_url(in);
  fuzz_no_proxy(in, size, (uint16_t)(size ? data[0] * 257u : 80));
  free(in);
  fuzz_reply(data, size);
  return 0;
}
