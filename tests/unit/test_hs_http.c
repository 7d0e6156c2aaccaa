/* test_hs_http.c - the HTTP grammar helpers the handshake is built on. */
#include <string.h>

#include "proto/http.h"
#include "test.h"
#include "wsc.h"

static int tok(const char *s) { return wsc__http_is_token(s, strlen(s)); }
static int has(const char *list, const char *t) {
  return wsc__http_list_has_token(list, strlen(list), t);
}

TEST(hs_http_token) {
  CHECK(tok("websocket"));
  CHECK(tok("!#$%&'*+-.^_`|~09azAZ"));
  CHECK(!tok(""));
  CHECK(!tok("a b"));
  CHECK(!tok("a,b"));
  CHECK(!tok("a:b"));
  CHECK(!tok("\"a\""));
  CHECK(!tok("a\x7f"));
  CHECK(!tok("\xc3\xa4"));
  for (int c = 0; c < 256; c++) {
    int want = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
               (c && strchr("!#$%&'*+-.^_`|~", c) != NULL);
    CHECK_EQ(wsc__http_is_tchar(c), want);
  }
}

TEST(hs_http_list_has_token) {
  CHECK(has("Upgrade", "upgrade"));
  CHECK(has("keep-alive, Upgrade", "upgrade"));
  CHECK(has(" ,, UPGRADE\t,", "upgrade"));
  CHECK(has("a,upgrade,b", "upgrade"));
  CHECK(!has("upgrades", "upgrade"));
  CHECK(!has("up grade", "upgrade"));
  CHECK(!has("", "upgrade"));
  CHECK(!has("upgrade2, xupgrade", "upgrade"));
}

TEST(hs_http_list_next_skips_empty) {
  const char *s = " a , ,b,, c ,";
  const char *p = s, *end = s + strlen(s);
  wsc__http_str e;
  const char *want[] = {"a", "b", "c"};
  int n = 0;
  while (wsc__http_list_next(&p, end, &e)) {
    CHECK(n < 3);
    CHECK_EQ(e.len, strlen(want[n]));
    CHECK_MEM(e.ptr, want[n], e.len);
    n++;
  }
  CHECK_EQ(n, 3);
}

TEST(hs_http_eq_nocase) {
  CHECK(wsc__http_eq_nocase("Sec-WebSocket-Key", 17, "sec-websocket-key"));
  CHECK(!wsc__http_eq_nocase("Sec-WebSocket-Key", 16, "sec-websocket-key"));
  CHECK(!wsc__http_eq_nocase("Host", 4, "Hosts"));
  CHECK(!wsc__http_eq_nocase("\xc4", 1, "\xe4")); /* ASCII only */
}

TEST(hs_http_extension_list) {
  const char *s = "permessage-deflate; client_max_window_bits; server_max_window_bits=10 ,"
                  " , x-a;q=\"1,;2\\\"\" , x-b";
  const char *p = s, *end = s + strlen(s);
  wsc__http_str name, params;
  CHECK_EQ(wsc__http_ext_next(&p, end, &name, &params), 1);
  CHECK_EQ(name.len, 18);
  CHECK_MEM(name.ptr, "permessage-deflate", 18);
  const char *wp = "; client_max_window_bits; server_max_window_bits=10";
  CHECK_EQ(params.len, strlen(wp));
  CHECK_MEM(params.ptr, wp, params.len);
  CHECK_EQ(wsc__http_ext_next(&p, end, &name, &params), 1);
  CHECK_MEM(name.ptr, "x-a", 3);
  CHECK_EQ(params.len, strlen(";q=\"1,;2\\\"\""));
  CHECK_EQ(wsc__http_ext_next(&p, end, &name, &params), 1);
  CHECK_EQ(name.len, 3);
  CHECK_MEM(name.ptr, "x-b", 3);
  CHECK_EQ(params.len, 0);
  CHECK_EQ(wsc__http_ext_next(&p, end, &name, &params), 0);

  static const char *const bad[] = {"a;", "a b", "a;b=", "a;b=\"x", "a;b=\"x\\", "=a", "a;b=c=d",
                                    "a;=c", "a;b c", "\"a\""};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    p = bad[i];
    CHECK_EQ(wsc__http_ext_next(&p, bad[i] + strlen(bad[i]), &name, &params), -1);
  }
  static const char *const good[] = {"a", "a;b", "a ; b = c", "a;b=\"\"", "a;b=\"x y\"", "a,b"};
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    p = good[i];
    int rc;
    while ((rc = wsc__http_ext_next(&p, good[i] + strlen(good[i]), &name, &params)) == 1) {
    }
    CHECK_EQ(rc, 0);
  }
}

TEST(hs_http_head_parse_in_place) {
  wsc__http_head h;
  wsc__http_head_init(&h, 0);
  const char *r = "HTTP/1.1 404 Not  Found \r\nA: 1\r\nB:\r\nc:  x y \r\n\r\nrest";
  size_t consumed;
  const char *err = NULL;
  CHECK_EQ(wsc__http_head_feed(&h, (const uint8_t *)r, strlen(r), &consumed, &err), 1);
  CHECK_EQ(consumed, strlen(r) - 4);
  CHECK_EQ(wsc__http_head_parse(&h, 0, &err), 0);
  CHECK_STR(h.start[0].ptr, "HTTP/1.1");
  CHECK_STR(h.start[1].ptr, "404");
  CHECK_STR(h.start[2].ptr, "Not  Found ");
  CHECK_EQ(h.nheaders, 3);
  CHECK_STR(h.headers[0].name, "A");
  CHECK_STR(h.headers[0].value, "1");
  CHECK_STR(h.headers[1].value, "");
  CHECK_EQ(h.headers[1].value_len, 0);
  CHECK_STR(h.headers[2].name, "c");
  CHECK_STR(h.headers[2].value, "x y");
  CHECK_EQ(h.headers[2].value_len, 3);
  CHECK_STR(wsc__http_head_get(&h, "C")->value, "x y");
  CHECK_EQ(wsc__http_head_count(&h, "a"), 1);
  wsc__http_head_free(&h);
}

TEST(hs_http_scan_is_linear) {
  /* Feeding byte by byte must look at each byte once: the buffer grows by
   * exactly one byte per call and the end is found at the right byte. */
  wsc__http_head h;
  wsc__http_head_init(&h, 0);
  const char *r = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
  size_t n = strlen(r), consumed;
  const char *err;
  for (size_t i = 0; i < n; i++) {
    int rc = wsc__http_head_feed(&h, (const uint8_t *)r + i, 1, &consumed, &err);
    CHECK_EQ(rc, i + 1 == n ? 1 : 0);
    CHECK_EQ(consumed, 1);
    CHECK_EQ(h.buf.len, i + 1);
  }
  wsc__http_head_free(&h);
}
