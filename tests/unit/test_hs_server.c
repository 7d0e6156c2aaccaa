/* test_hs_server.c - the server side of the opening handshake. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/handshake.h"
#include "test.h"
#include "wsc.h"

#define RFC_KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define RFC_ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

#define RL "GET /chat HTTP/1.1\r\n"
#define HOST "Host: server.example.com\r\n"
#define UPG "Upgrade: websocket\r\n"
#define CON "Connection: Upgrade\r\n"
#define KEY "Sec-WebSocket-Key: " RFC_KEY "\r\n"
#define VER "Sec-WebSocket-Version: 13\r\n"

/* RFC 6455 section 1.2 */
#define RFC_REQUEST                                                                      \
  "GET /chat HTTP/1.1\r\n"                                                               \
  "Host: server.example.com\r\n"                                                         \
  "Upgrade: websocket\r\n"                                                               \
  "Connection: Upgrade\r\n"                                                              \
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"                                      \
  "Origin: http://example.com\r\n"                                                       \
  "Sec-WebSocket-Protocol: chat, superchat\r\n"                                          \
  "Sec-WebSocket-Version: 13\r\n"                                                        \
  "\r\n"

static int feed_request(wsc__hs_server *hs, size_t max, const char *req, size_t len) {
  wsc__hs_server_init(hs, max);
  size_t consumed = 77;
  int rc = wsc__hs_server_recv(hs, (const uint8_t *)req, len, &consumed);
  if (rc == 0 || rc > 0) CHECK_EQ(consumed, len);
  if (rc < 0) {
    CHECK_EQ(consumed, 0);
    CHECK(hs->error != NULL);
  } else {
    CHECK_EQ(hs->status, 0);
  }
  return rc;
}

static void expect_status(const char *req, int want_rc, int want_status, const char *want_error) {
  wsc__hs_server hs;
  int rc = feed_request(&hs, 0, req, strlen(req));
  if (rc != want_rc) fprintf(stderr, "request: %s\nerror: %s\n", req, hs.error ? hs.error : "-");
  CHECK_EQ(rc, want_rc);
  CHECK_EQ(hs.status, want_status);
  if (want_error) CHECK_STR(hs.error, want_error);
  size_t consumed = 3; /* sticky */
  CHECK_EQ(wsc__hs_server_recv(&hs, (const uint8_t *)"x", 1, &consumed), want_rc);
  CHECK_EQ(consumed, 0);
  wsc__hs_server_free(&hs);
  wsc__hs_server_free(&hs);
}

static void expect_ok(const char *req) { expect_status(req, 1, 0, NULL); }

static int str_is(wsc__http_str s, const char *want) {
  return s.ptr && s.len == strlen(want) && memcmp(s.ptr, want, s.len) == 0;
}

/* ---- Valid requests ------------------------------------------------------- */

TEST(hs_server_request_fields) {
  const char *req = "GET /chat/room?id=1&x=%20 HTTP/1.1\r\n"
                    "host: server.example.com:8080\r\n"
                    "User-Agent: test\r\n"
                    "Upgrade: websocket\r\n"
                    "Connection: keep-alive, Upgrade\r\n"
                    "Sec-WebSocket-Key: " RFC_KEY "\r\n"
                    "Origin: http://example.com\r\n"
                    "Sec-WebSocket-Protocol: chat, , superchat\r\n"
                    "Sec-WebSocket-Protocol: v2.json\r\n"
                    "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
                    "Sec-WebSocket-Extensions: x-webkit-deflate-frame\r\n"
                    "Sec-WebSocket-Version: 13\r\n"
                    "\r\n";
  wsc__hs_server hs;
  CHECK_EQ(feed_request(&hs, 0, req, strlen(req)), 1);
  CHECK(str_is(hs.method, "GET"));
  CHECK(str_is(hs.target, "/chat/room?id=1&x=%20"));
  CHECK_STR(hs.target.ptr, "/chat/room?id=1&x=%20"); /* NUL-terminated */
  CHECK(str_is(hs.path, "/chat/room"));
  CHECK(str_is(hs.query, "id=1&x=%20"));
  CHECK_STR(hs.query.ptr, "id=1&x=%20");
  CHECK(str_is(hs.version, "HTTP/1.1"));
  CHECK(str_is(hs.host, "server.example.com:8080"));
  CHECK_STR(hs.host.ptr, "server.example.com:8080");
  CHECK(str_is(hs.origin, "http://example.com"));
  CHECK(str_is(hs.key, RFC_KEY));
  CHECK(str_is(hs.ws_version, "13"));

  /* subprotocols across headers, empty elements skipped */
  const char *want[] = {"chat", "superchat", "v2.json"};
  wsc__hs_iter it = {0};
  wsc__http_str p;
  size_t n = 0;
  while (wsc__hs_server_protocol_next(&hs, &it, &p)) {
    CHECK(n < 3);
    CHECK(str_is(p, want[n]));
    n++;
  }
  CHECK_EQ(n, 3);
  CHECK(wsc__hs_server_offered(&hs, "superchat"));
  CHECK(!wsc__hs_server_offered(&hs, "Chat"));
  CHECK(!wsc__hs_server_offered(&hs, "super"));

  /* header lookup, case-insensitive */
  CHECK_STR(wsc__hs_server_header(&hs, "USER-AGENT")->value, "test");
  CHECK_STR(wsc__hs_server_header(&hs, "user-agent")->name, "User-Agent");
  CHECK(wsc__hs_server_header(&hs, "X-Missing") == NULL);
  CHECK_EQ(hs.head.nheaders, 11);
  size_t pos = 0;
  const wsc__http_header *hd = wsc__hs_server_header_next(&hs, "sec-websocket-extensions", &pos);
  CHECK_STR(hd->value, "permessage-deflate; client_max_window_bits");
  hd = wsc__hs_server_header_next(&hs, "sec-websocket-extensions", &pos);
  CHECK_STR(hd->value, "x-webkit-deflate-frame");
  CHECK(wsc__hs_server_header_next(&hs, "sec-websocket-extensions", &pos) == NULL);
  wsc__hs_server_free(&hs);
}

TEST(hs_server_no_query_no_origin) {
  wsc__hs_server hs;
  const char *req = "GET / HTTP/1.1\r\n" HOST UPG CON KEY VER "\r\n";
  CHECK_EQ(feed_request(&hs, 0, req, strlen(req)), 1);
  CHECK(str_is(hs.path, "/"));
  CHECK(hs.query.ptr == NULL);
  CHECK(hs.origin.ptr == NULL);
  wsc__hs_iter it = {0};
  wsc__http_str p;
  CHECK_EQ(wsc__hs_server_protocol_next(&hs, &it, &p), 0);
  wsc__hs_server_free(&hs);
  CHECK(hs.path.ptr == NULL);
  /* "?" with an empty query */
  req = "GET /x? HTTP/1.1\r\n" HOST UPG CON KEY VER "\r\n";
  CHECK_EQ(feed_request(&hs, 0, req, strlen(req)), 1);
  CHECK(str_is(hs.path, "/x"));
  CHECK(hs.query.ptr != NULL);
  CHECK_EQ(hs.query.len, 0);
  wsc__hs_server_free(&hs);
}

TEST(hs_server_request_every_split) {
  const char *head = RFC_REQUEST;
  size_t hlen = strlen(head), len = hlen + 6;
  uint8_t *data = malloc(len);
  memcpy(data, head, hlen);
  memcpy(data + hlen, "\x81\x80" "abcd", 6);
  for (size_t k = 1; k <= len; k++) {
    wsc__hs_server hs;
    wsc__hs_server_init(&hs, 0);
    size_t consumed = 0;
    int rc = wsc__hs_server_recv(&hs, data, k, &consumed);
    if (k < hlen) {
      CHECK_EQ(rc, 0);
      CHECK_EQ(consumed, k);
      rc = wsc__hs_server_recv(&hs, data + k, len - k, &consumed);
      CHECK_EQ(rc, 1);
      CHECK_EQ(consumed, hlen - k);
    } else {
      CHECK_EQ(rc, 1);
      CHECK_EQ(consumed, hlen);
    }
    CHECK(str_is(hs.key, RFC_KEY));
    CHECK(wsc__hs_server_offered(&hs, "chat"));
    wsc__hs_server_free(&hs);
  }
  free(data);
}

TEST(hs_server_plain_http_request) {
  expect_status("GET /index.html HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n", 2, 0, NULL);
  expect_status("POST /form HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n", 2, 0, NULL);
  expect_status("GET / HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n", 2, 0,
                NULL);
  expect_status("GET / HTTP/1.0\r\n\r\n", 2, 0, NULL); /* HTTP/1.0 needs no Host */
  wsc__hs_server hs;
  const char *req = "GET /a?b HTTP/1.1\r\nHost: a\r\n\r\nbody";
  CHECK_EQ(feed_request(&hs, 0, req, strlen(req) - 4), 2);
  CHECK(str_is(hs.path, "/a"));
  CHECK(str_is(hs.query, "b"));
  wsc__buf out = {0};
  CHECK_EQ(wsc__hs_server_accept(&hs, NULL, NULL, NULL, 0, &out), WSC_EINVAL);
  CHECK_EQ(out.len, 0);
  wsc__hs_server_free(&hs);
}

TEST(hs_server_content_length_zero_ok) {
  expect_ok(RL HOST UPG CON KEY VER "Content-Length: 0\r\n\r\n");
}

TEST(hs_server_case_insensitive_tokens) {
  expect_ok(RL "HOST: h\r\nupgrade: WebSocket\r\nconnection: UPGRADE\r\n"
               "sec-websocket-key: " RFC_KEY "\r\nSEC-WEBSOCKET-VERSION: 13\r\n\r\n");
}

TEST(hs_server_http_1_x_later_ok) {
  expect_ok("GET /chat HTTP/1.2\r\n" HOST UPG CON KEY VER "\r\n");
}

/* ---- Failures ------------------------------------------------------------- */

TEST(hs_server_malformed_request_line) {
  static const char *const bad[] = {
      "GET /chat HTTP/1.1 x\r\n",  "GET  /chat HTTP/1.1\r\n", "GET /chat  HTTP/1.1\r\n",
      "GET /chat\r\n",             "GET\r\n",                 "/chat HTTP/1.1\r\n",
      "GET /chat HTTP/1.1 \r\n",   ("GET /ch\x7f" "at HTTP/1.1\r\n"), "GET /ch\xc3\xa4t HTTP/1.1\r\n",
      "G(T /chat HTTP/1.1\r\n",    "GET /chat HTTP/11\r\n",   "GET /chat http/1.1\r\n",
      "GET /chat HTTP/1.1x\r\n",   " GET /chat HTTP/1.1\r\n", "GET\t/chat HTTP/1.1\r\n",
      "\r\n",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char req[512];
    snprintf(req, sizeof req, "%s%s", bad[i],
             strcmp(bad[i], "\r\n") == 0 ? "" : HOST UPG CON KEY VER "\r\n");
    expect_status(req, WSC_EHANDSHAKE, 400, "malformed request line");
  }
}

TEST(hs_server_http_version_too_old) {
  expect_status("GET /chat HTTP/1.0\r\n" HOST UPG CON KEY VER "\r\n", WSC_EHANDSHAKE, 400,
                "WebSocket upgrade needs HTTP/1.1");
  expect_status("GET /chat HTTP/0.9\r\n" HOST UPG CON KEY VER "\r\n", WSC_EHANDSHAKE, 400,
                "unsupported HTTP version");
  expect_status("GET /chat HTTP/2.0\r\n" HOST UPG CON KEY VER "\r\n", WSC_EHANDSHAKE, 400,
                "unsupported HTTP version");
}

TEST(hs_server_missing_host) {
  expect_status(RL UPG CON KEY VER "\r\n", WSC_EHANDSHAKE, 400, "missing Host");
  expect_status(RL "Host:\r\n" UPG CON KEY VER "\r\n", WSC_EHANDSHAKE, 400, "missing Host");
  expect_status("GET / HTTP/1.1\r\n\r\n", WSC_EHANDSHAKE, 400, "missing Host"); /* plain too */
}

TEST(hs_server_duplicate_host) {
  expect_status(RL HOST "host: other\r\n" UPG CON KEY VER "\r\n", WSC_EHANDSHAKE, 400,
                "duplicate Host");
}

TEST(hs_server_duplicate_origin) {
  expect_status(RL HOST "Origin: http://a\r\nOrigin: http://b\r\n" UPG CON KEY VER "\r\n",
                WSC_EHANDSHAKE, 400, "duplicate Origin");
}

TEST(hs_server_missing_upgrade) {
  expect_status(RL HOST CON KEY VER "\r\n", WSC_EHANDSHAKE, 400, "missing Upgrade: websocket");
  expect_status(RL HOST "Upgrade: h2c\r\n" CON KEY VER "\r\n", WSC_EHANDSHAKE, 400,
                "missing Upgrade: websocket");
}

TEST(hs_server_missing_connection_upgrade) {
  expect_status(RL HOST UPG KEY VER "\r\n", WSC_EHANDSHAKE, 400, "missing Connection: upgrade");
  expect_status(RL HOST UPG "Connection: keep-alive\r\n" KEY VER "\r\n", WSC_EHANDSHAKE, 400,
                "missing Connection: upgrade");
}

TEST(hs_server_missing_key) {
  expect_status(RL HOST UPG CON VER "\r\n", WSC_EHANDSHAKE, 400, "missing Sec-WebSocket-Key");
}

TEST(hs_server_duplicate_key) {
  expect_status(RL HOST UPG CON KEY KEY VER "\r\n", WSC_EHANDSHAKE, 400,
                "duplicate Sec-WebSocket-Key");
}

TEST(hs_server_bad_key) {
  static const char *const bad[] = {
      "",
      "dGhlIHNhbXBsZSBub25jZQ=",          /* 23 chars */
      "dGhlIHNhbXBsZSBub25jZQ===",        /* 25 chars */
      "dGhlIHNhbXBsZSBub25jZQ",           /* unpadded */
      "dGhlIHNhbXBsZSBub25jZR==",         /* non-canonical: stray bits */
      "dGhlIHNhbXBsZSBub25j*Q==",         /* not base64 */
      "dGhlIHNhbXBsZSBub25jZQ=A",
      "dGhlIHNhbXBsZSBub25jZXg=",         /* 17 bytes */
      "dGhlIHNhbXBsZSBub25jZXh4eA==",     /* 19 bytes */
      "dGhlIHNh bXBsZSBub25jZQ==",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char req[512];
    snprintf(req, sizeof req, RL HOST UPG CON "Sec-WebSocket-Key: %s\r\n" VER "\r\n", bad[i]);
    expect_status(req, WSC_EHANDSHAKE, 400, "Sec-WebSocket-Key is not base64 of 16 bytes");
  }
  CHECK(wsc__hs_key_valid("AAAAAAAAAAAAAAAAAAAAAA==", 24));
  CHECK(wsc__hs_key_valid("/////////////////////w==", 24));
}

TEST(hs_server_method_not_get) {
  expect_status("POST /chat HTTP/1.1\r\n" HOST UPG CON KEY VER "\r\n", WSC_EHANDSHAKE, 405,
                "WebSocket upgrade with a method other than GET");
  expect_status("get /chat HTTP/1.1\r\n" HOST UPG CON KEY VER "\r\n", WSC_EHANDSHAKE, 405, NULL);
  expect_status("CONNECT /chat HTTP/1.1\r\n" HOST KEY "\r\n", WSC_EHANDSHAKE, 405, NULL);
}

TEST(hs_server_version_missing) {
  expect_status(RL HOST UPG CON KEY "\r\n", WSC_EHANDSHAKE, 426, "missing Sec-WebSocket-Version");
}

TEST(hs_server_version_not_13) {
  expect_status(RL HOST UPG CON KEY "Sec-WebSocket-Version: 8\r\n\r\n", WSC_EHANDSHAKE, 426,
                "Sec-WebSocket-Version is not 13");
  expect_status(RL HOST UPG CON KEY "Sec-WebSocket-Version: 13, 8\r\n\r\n", WSC_EHANDSHAKE, 426,
                "Sec-WebSocket-Version is not 13");
  expect_status(RL HOST UPG CON KEY VER VER "\r\n", WSC_EHANDSHAKE, 426,
                "Sec-WebSocket-Version is not 13");
  expect_status(RL HOST UPG CON KEY "Sec-WebSocket-Version: 013\r\n\r\n", WSC_EHANDSHAKE, 426,
                NULL);
}

TEST(hs_server_body_on_upgrade) {
  expect_status(RL HOST UPG CON KEY VER "Content-Length: 5\r\n\r\n", WSC_EHANDSHAKE, 400,
                "request body on a WebSocket upgrade");
  expect_status(RL HOST UPG CON KEY VER "Content-Length: 0\r\nContent-Length: 1\r\n\r\n",
                WSC_EHANDSHAKE, 400, "request body on a WebSocket upgrade");
  expect_status(RL HOST UPG CON KEY VER "Content-Length: x\r\n\r\n", WSC_EHANDSHAKE, 400,
                "request body on a WebSocket upgrade");
  expect_status(RL HOST UPG CON KEY VER "Transfer-Encoding: chunked\r\n\r\n", WSC_EHANDSHAKE,
                400, "request body on a WebSocket upgrade");
}

TEST(hs_server_bad_subprotocol) {
  expect_status(RL HOST UPG CON KEY VER "Sec-WebSocket-Protocol: chat, a b\r\n\r\n",
                WSC_EHANDSHAKE, 400, "invalid subprotocol in Sec-WebSocket-Protocol");
  expect_status(RL HOST UPG CON KEY VER "Sec-WebSocket-Protocol: \"chat\"\r\n\r\n",
                WSC_EHANDSHAKE, 400, "invalid subprotocol in Sec-WebSocket-Protocol");
  expect_ok(RL HOST UPG CON KEY VER "Sec-WebSocket-Protocol:\r\n\r\n"); /* empty list: none */
}

TEST(hs_server_bad_header_syntax) {
  static const struct {
    const char *line;
    const char *error;
  } bad[] = {
      {"X-A: 1\r\n 2\r\n", "obsolete line folding in header"},
      {"X-A: 1\r\n\t2\r\n", "obsolete line folding in header"},
      {"X-A : 1\r\n", "whitespace before the colon in a header"},
      {"X-A\r\n", "header line without a colon"},
      {": 1\r\n", "empty header name"},
      {"X[A]: 1\r\n", "invalid header name"},
      {"X-A: \x01\r\n", "control character in a header value"},
      {"X-A: a\rb\r\n", "bare CR in head (lines must end in CRLF)"},
      {"X-A: a\nX-B: b\r\n", "bare LF in head (lines must end in CRLF)"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char req[512];
    snprintf(req, sizeof req, RL HOST UPG "%s" CON KEY VER "\r\n", bad[i].line);
    expect_status(req, WSC_EHANDSHAKE, 400, bad[i].error);
  }
  /* NUL needs an explicit length */
  const char req[] = RL HOST "X-A: \0\r\n" UPG CON KEY VER "\r\n";
  wsc__hs_server hs;
  CHECK_EQ(feed_request(&hs, 0, req, sizeof req - 1), WSC_EHANDSHAKE);
  CHECK_EQ(hs.status, 400);
  CHECK_STR(hs.error, "NUL byte in head");
  wsc__hs_server_free(&hs);
}

TEST(hs_server_too_many_headers) {
  wsc__buf r = {0};
  wsc__buf_puts(&r, RL HOST UPG CON KEY VER);
  for (int i = 0; i < WSC__HTTP_MAX_HEADERS - 5; i++) wsc__buf_printf(&r, "X-%d: %d\r\n", i, i);
  wsc__buf_puts(&r, "\r\n");
  wsc__buf_append(&r, "", 1);
  expect_ok((const char *)r.data);
  r.len -= 3;
  wsc__buf_puts(&r, "X-Last: 1\r\n\r\n");
  wsc__buf_append(&r, "", 1);
  expect_status((const char *)r.data, WSC_EHEADERSIZE, 431, "too many header fields");
  wsc__buf_free(&r);
}

/* A valid request of exactly n bytes. */
static char *request_of_size(size_t n) {
  const char *base = RL HOST UPG CON KEY VER;
  size_t blen = strlen(base), fixed = blen + strlen("X-Pad: \r\n\r\n");
  CHECK(n > fixed);
  char *r = malloc(n + 1);
  memcpy(r, base, blen);
  memcpy(r + blen, "X-Pad: ", 7);
  memset(r + blen + 7, 'p', n - fixed);
  memcpy(r + n - 4, "\r\n\r\n", 5);
  return r;
}

TEST(hs_server_size_limit_edge) {
  const size_t max = 700;
  char *r = request_of_size(max);
  wsc__hs_server hs;
  for (size_t k = 1; k <= max; k += 13) {
    wsc__hs_server_init(&hs, max);
    size_t c1 = 0, c2 = 0;
    int rc = wsc__hs_server_recv(&hs, (const uint8_t *)r, k, &c1);
    if (rc == 0) rc = wsc__hs_server_recv(&hs, (const uint8_t *)r + k, max - k, &c2);
    CHECK_EQ(rc, 1);
    CHECK_EQ(c1 + c2, max);
    wsc__hs_server_free(&hs);
  }
  free(r);
  r = request_of_size(max + 1);
  for (size_t k = 1; k <= max + 1; k += 13) {
    wsc__hs_server_init(&hs, max);
    size_t c1 = 0, c2 = 0;
    int rc = wsc__hs_server_recv(&hs, (const uint8_t *)r, k, &c1);
    if (rc == 0) rc = wsc__hs_server_recv(&hs, (const uint8_t *)r + k, max + 1 - k, &c2);
    CHECK_EQ(rc, WSC_EHEADERSIZE);
    CHECK_EQ(hs.status, 431);
    CHECK(hs.head.buf.len <= max);
    wsc__hs_server_free(&hs);
  }
  free(r);
  wsc__hs_server_init(&hs, 0);
  CHECK_EQ(hs.max_size, WSC_DEFAULT_MAX_HANDSHAKE);
  wsc__hs_server_free(&hs);
}

TEST(hs_server_endless_head_bounded) {
  wsc__hs_server hs;
  wsc__hs_server_init(&hs, 0);
  uint8_t chunk[3000];
  memset(chunk, 'a', sizeof chunk);
  size_t consumed, fed = 0;
  int rc = 0;
  while (rc == 0 && fed < (1u << 30)) {
    rc = wsc__hs_server_recv(&hs, chunk, sizeof chunk, &consumed);
    fed += sizeof chunk;
    CHECK(hs.head.buf.len <= WSC_DEFAULT_MAX_HANDSHAKE);
  }
  CHECK_EQ(rc, WSC_EHEADERSIZE);
  CHECK_EQ(hs.status, 431);
  CHECK_EQ(fed, 9000);
  wsc__hs_server_free(&hs);
}

TEST(hs_server_recv_not_initialised) {
  wsc__hs_server hs;
  memset(&hs, 0, sizeof hs);
  size_t consumed = 1;
  CHECK_EQ(wsc__hs_server_recv(&hs, (const uint8_t *)"x", 1, &consumed), WSC_EINVAL);
  CHECK_EQ(consumed, 0);
}

/* ---- Responses ------------------------------------------------------------ */

TEST(hs_server_accept_bytes) {
  wsc__hs_server hs;
  CHECK_EQ(feed_request(&hs, 0, RFC_REQUEST, strlen(RFC_REQUEST)), 1);
  wsc__buf out = {0};
  CHECK_EQ(wsc__hs_server_accept(&hs, "chat", NULL, NULL, 0, &out), 0);
  const char *want = "HTTP/1.1 101 Switching Protocols\r\n"
                     "Upgrade: websocket\r\n"
                     "Connection: Upgrade\r\n"
                     "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
                     "Sec-WebSocket-Protocol: chat\r\n"
                     "\r\n";
  CHECK_EQ(out.len, strlen(want));
  CHECK_MEM(out.data, want, out.len);

  wsc__buf_reset(&out);
  static const char *const extra[] = {"Server:  wsc ", "Set-Cookie: a=b"};
  CHECK_EQ(wsc__hs_server_accept(&hs, NULL, "permessage-deflate; server_no_context_takeover",
                                 extra, 2, &out),
           0);
  want = "HTTP/1.1 101 Switching Protocols\r\n"
         "Upgrade: websocket\r\n"
         "Connection: Upgrade\r\n"
         "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
         "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n"
         "Server: wsc\r\n"
         "Set-Cookie: a=b\r\n"
         "\r\n";
  CHECK_EQ(out.len, strlen(want));
  CHECK_MEM(out.data, want, out.len);
  wsc__buf_free(&out);
  wsc__hs_server_free(&hs);
}

TEST(hs_server_accept_invalid_arguments) {
  wsc__hs_server hs;
  wsc__buf out = {0};
  wsc__hs_server_init(&hs, 0);
  CHECK_EQ(wsc__hs_server_accept(&hs, NULL, NULL, NULL, 0, &out), WSC_EINVAL); /* nothing received */
  CHECK_EQ(feed_request(&hs, 0, RFC_REQUEST, strlen(RFC_REQUEST)), 1);
  CHECK_EQ(wsc__hs_server_accept(&hs, "other", NULL, NULL, 0, &out), WSC_EINVAL);
  CHECK_EQ(wsc__hs_server_accept(&hs, "Chat", NULL, NULL, 0, &out), WSC_EINVAL);
  CHECK_EQ(wsc__hs_server_accept(&hs, "", NULL, NULL, 0, &out), WSC_EINVAL);
  CHECK_EQ(wsc__hs_server_accept(&hs, NULL, "a\r\nX: y", NULL, 0, &out), WSC_EINVAL);
  CHECK_EQ(wsc__hs_server_accept(&hs, NULL, "a;", NULL, 0, &out), WSC_EINVAL);
  const char *h1[] = {"Sec-WebSocket-Accept: x"};
  CHECK_EQ(wsc__hs_server_accept(&hs, NULL, NULL, h1, 1, &out), WSC_EINVAL);
  const char *h2[] = {"X-A: b\r\nX-B: c"};
  CHECK_EQ(wsc__hs_server_accept(&hs, NULL, NULL, h2, 1, &out), WSC_EINVAL);
  const char *h3[] = {"content-length: 0"};
  CHECK_EQ(wsc__hs_server_accept(&hs, NULL, NULL, h3, 1, &out), WSC_EINVAL);
  CHECK_EQ(out.len, 0);
  wsc__buf_free(&out);
  wsc__hs_server_free(&hs);
  /* a failed request cannot be accepted either */
  const char *bad = RL HOST UPG CON KEY "\r\n";
  CHECK_EQ(feed_request(&hs, 0, bad, strlen(bad)), WSC_EHANDSHAKE);
  CHECK_EQ(wsc__hs_server_accept(&hs, NULL, NULL, NULL, 0, &out), WSC_EINVAL);
  wsc__hs_server_free(&hs);
}

TEST(hs_server_reject_426_carries_version) {
  wsc__buf out = {0};
  CHECK_EQ(wsc__hs_server_reject(426, NULL, NULL, 0, &out), 0);
  const char *want = "HTTP/1.1 426 Upgrade Required\r\n"
                     "Sec-WebSocket-Version: 13\r\n"
                     "Upgrade: websocket\r\n"
                     "Content-Length: 0\r\n"
                     "Connection: Upgrade, close\r\n"
                     "\r\n";
  CHECK_EQ(out.len, strlen(want));
  CHECK_MEM(out.data, want, out.len);
  wsc__buf_free(&out);
}

TEST(hs_server_reject_bytes) {
  wsc__buf out = {0};
  static const char *const extra[] = {"Server: wsc"};
  CHECK_EQ(wsc__hs_server_reject(403, "origin not allowed\n", extra, 1, &out), 0);
  const char *want = "HTTP/1.1 403 Forbidden\r\n"
                     "Server: wsc\r\n"
                     "Content-Type: text/plain; charset=utf-8\r\n"
                     "Content-Length: 19\r\n"
                     "Connection: close\r\n"
                     "\r\n"
                     "origin not allowed\n";
  CHECK_EQ(out.len, strlen(want));
  CHECK_MEM(out.data, want, out.len);

  wsc__buf_reset(&out);
  CHECK_EQ(wsc__hs_server_reject(405, NULL, NULL, 0, &out), 0);
  want = "HTTP/1.1 405 Method Not Allowed\r\n"
         "Allow: GET\r\n"
         "Content-Length: 0\r\n"
         "Connection: close\r\n"
         "\r\n";
  CHECK_EQ(out.len, strlen(want));
  CHECK_MEM(out.data, want, out.len);

  wsc__buf_reset(&out);
  CHECK_EQ(wsc__hs_server_reject(431, NULL, NULL, 0, &out), 0);
  CHECK(strncmp((const char *)out.data, "HTTP/1.1 431 Request Header Fields Too Large\r\n", 46) == 0);
  wsc__buf_reset(&out);
  CHECK_EQ(wsc__hs_server_reject(499, NULL, NULL, 0, &out), 0);
  CHECK(strncmp((const char *)out.data, "HTTP/1.1 499 Client Error\r\n", 27) == 0);
  wsc__buf_free(&out);
}

TEST(hs_server_reject_invalid_arguments) {
  wsc__buf out = {0};
  CHECK_EQ(wsc__hs_server_reject(101, NULL, NULL, 0, &out), WSC_EINVAL);
  CHECK_EQ(wsc__hs_server_reject(200, NULL, NULL, 0, &out), WSC_EINVAL);
  CHECK_EQ(wsc__hs_server_reject(600, NULL, NULL, 0, &out), WSC_EINVAL);
  const char *h1[] = {"Connection: keep-alive"};
  CHECK_EQ(wsc__hs_server_reject(400, NULL, h1, 1, &out), WSC_EINVAL);
  const char *h2[] = {"Content-Length: 5"};
  CHECK_EQ(wsc__hs_server_reject(400, NULL, h2, 1, &out), WSC_EINVAL);
  const char *h3[] = {"X: a\r\n\r\n<html>"};
  CHECK_EQ(wsc__hs_server_reject(400, NULL, h3, 1, &out), WSC_EINVAL);
  CHECK_EQ(out.len, 0);
  wsc__buf_free(&out);
}

/* ---- Both roles ----------------------------------------------------------- */

TEST(hs_roundtrip_client_server) {
  static const char *const protos[] = {"v1.chat", "v2.chat"};
  wsc__hs_client_config cfg = {0};
  cfg.host = "localhost:9001";
  cfg.target = "/ws?x=1";
  cfg.origin = "https://example.org";
  cfg.protocols = protos;
  cfg.nprotocols = 2;
  cfg.extensions = "permessage-deflate; client_max_window_bits";
  wsc__hs_client c;
  wsc__buf req = {0}, resp = {0};
  CHECK_EQ(wsc__hs_client_start(&c, &cfg, &req), 0);

  wsc__hs_server s;
  wsc__hs_server_init(&s, 0);
  size_t consumed;
  CHECK_EQ(wsc__hs_server_recv(&s, req.data, req.len, &consumed), 1);
  CHECK_EQ(consumed, req.len);
  CHECK(str_is(s.path, "/ws"));
  CHECK(str_is(s.host, "localhost:9001"));
  CHECK(str_is(s.key, c.key));
  CHECK_EQ(wsc__hs_server_accept(&s, "v2.chat", "permessage-deflate", NULL, 0, &resp), 0);
  CHECK_EQ(wsc__hs_client_recv(&c, resp.data, resp.len, &consumed), 1);
  CHECK_EQ(consumed, resp.len);
  CHECK_STR(c.protocol, "v2.chat");
  CHECK_STR(c.extensions, "permessage-deflate");

  /* and a refusal is read by the client as its status */
  wsc__hs_client c2;
  wsc__buf_reset(&req);
  CHECK_EQ(wsc__hs_client_start(&c2, &cfg, &req), 0);
  wsc__buf_reset(&resp);
  CHECK_EQ(wsc__hs_server_reject(426, "upgrade required", NULL, 0, &resp), 0);
  CHECK_EQ(wsc__hs_client_recv(&c2, resp.data, resp.len, &consumed), WSC_EHANDSHAKE);
  CHECK_EQ(c2.status, 426);

  wsc__hs_client_free(&c);
  wsc__hs_client_free(&c2);
  wsc__hs_server_free(&s);
  wsc__buf_free(&req);
  wsc__buf_free(&resp);
}
