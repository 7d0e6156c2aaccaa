/* test_hs_client.c - the client side of the opening handshake. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/handshake.h"
#include "test.h"
#include "wsc.h"

/* RFC 6455 section 1.3: the key is base64 of these 16 bytes. */
static const uint8_t SAMPLE_NONCE[16] = "the sample nonce";
#define RFC_KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define RFC_ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

#define ST "HTTP/1.1 101 Switching Protocols\r\n"
#define UPG "Upgrade: websocket\r\n"
#define CON "Connection: Upgrade\r\n"
#define ACC "Sec-WebSocket-Accept: " RFC_ACCEPT "\r\n"
#define OK_RESPONSE ST UPG CON ACC "\r\n"

static const char *const PROTOS[] = {"chat", "superchat"};

static wsc__hs_client_config std_config(void) {
  wsc__hs_client_config cfg = {0};
  cfg.host = "server.example.com";
  cfg.target = "/chat";
  cfg.protocols = PROTOS;
  cfg.nprotocols = 2;
  cfg.extensions = "permessage-deflate; client_max_window_bits, x-ext";
  return cfg;
}

static void start_std(wsc__hs_client *hs, size_t max_size) {
  wsc__hs_client_config cfg = std_config();
  cfg.max_size = max_size;
  wsc__buf out = {0};
  CHECK_EQ(wsc__hs_client_start_with_key(hs, &cfg, SAMPLE_NONCE, &out), 0);
  wsc__buf_free(&out);
}

/* Start the standard client, feed response in one piece, return the result.
 * The caller frees hs. */
static int feed_response(wsc__hs_client *hs, const char *response) {
  start_std(hs, 0);
  size_t consumed = 99;
  int rc = wsc__hs_client_recv(hs, (const uint8_t *)response, strlen(response), &consumed);
  if (rc == 0) CHECK_EQ(consumed, strlen(response));
  if (rc < 0) CHECK_EQ(consumed, 0);
  if (rc == 1) CHECK_EQ(consumed, strlen(response));
  return rc;
}

static void expect_failure(const char *response, int want_rc, const char *want_error) {
  wsc__hs_client hs;
  int rc = feed_response(&hs, response);
  CHECK_EQ(rc, want_rc);
  CHECK_STR(hs.error, want_error);
  /* the failure is sticky */
  size_t consumed = 1;
  CHECK_EQ(wsc__hs_client_recv(&hs, (const uint8_t *)"x", 1, &consumed), want_rc);
  CHECK_EQ(consumed, 0);
  wsc__hs_client_free(&hs);
}

static void expect_ok(const char *response) {
  wsc__hs_client hs;
  int rc = feed_response(&hs, response);
  if (rc != 1) fprintf(stderr, "error: %s\n", hs.error);
  CHECK_EQ(rc, 1);
  wsc__hs_client_free(&hs);
}

/* ---- Key and request ------------------------------------------------------ */

TEST(hs_accept_key_rfc_example) {
  char out[WSC__HS_ACCEPT_LEN + 1];
  CHECK_EQ(wsc__hs_accept_key(RFC_KEY, strlen(RFC_KEY), out), 0);
  CHECK_STR(out, RFC_ACCEPT);
}

TEST(hs_client_request_bytes) {
  static const char *const headers[] = {"User-Agent:  wsc-test ", "X-Empty:"};
  wsc__hs_client_config cfg = std_config();
  cfg.origin = "http://example.com";
  cfg.headers = headers;
  cfg.nheaders = 2;
  wsc__hs_client hs;
  wsc__buf out = {0};
  wsc__buf_puts(&out, "previous"); /* appended to, not overwritten */
  CHECK_EQ(wsc__hs_client_start_with_key(&hs, &cfg, SAMPLE_NONCE, &out), 0);
  const char *want = "previous"
                     "GET /chat HTTP/1.1\r\n"
                     "Host: server.example.com\r\n"
                     "Upgrade: websocket\r\n"
                     "Connection: Upgrade\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\n"
                     "Origin: http://example.com\r\n"
                     "Sec-WebSocket-Protocol: chat, superchat\r\n"
                     "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits, x-ext\r\n"
                     "User-Agent: wsc-test\r\n"
                     "X-Empty: \r\n"
                     "\r\n";
  CHECK_EQ(out.len, strlen(want));
  CHECK_MEM(out.data, want, out.len);
  CHECK_STR(hs.key, RFC_KEY);
  CHECK_STR(hs.accept, RFC_ACCEPT);
  wsc__hs_client_free(&hs);
  wsc__buf_free(&out);
}

TEST(hs_client_request_minimal) {
  wsc__hs_client_config cfg = {0};
  cfg.host = "[::1]:8080";
  wsc__hs_client hs;
  wsc__buf out = {0};
  CHECK_EQ(wsc__hs_client_start_with_key(&hs, &cfg, SAMPLE_NONCE, &out), 0);
  const char *want = "GET / HTTP/1.1\r\n"
                     "Host: [::1]:8080\r\n"
                     "Upgrade: websocket\r\n"
                     "Connection: Upgrade\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\n"
                     "\r\n";
  CHECK_EQ(out.len, strlen(want));
  CHECK_MEM(out.data, want, out.len);
  wsc__hs_client_free(&hs);
  wsc__buf_free(&out);
}

TEST(hs_client_random_key) {
  wsc__hs_client_config cfg = {0};
  cfg.host = "example.com";
  wsc__hs_client a, b;
  wsc__buf out = {0};
  CHECK_EQ(wsc__hs_client_start(&a, &cfg, &out), 0);
  CHECK_EQ(wsc__hs_client_start(&b, &cfg, &out), 0);
  CHECK_EQ(strlen(a.key), WSC__HS_KEY_LEN);
  CHECK(wsc__hs_key_valid(a.key, strlen(a.key)));
  CHECK(wsc__hs_key_valid(b.key, strlen(b.key)));
  CHECK(strcmp(a.key, b.key) != 0);
  char acc[WSC__HS_ACCEPT_LEN + 1];
  CHECK_EQ(wsc__hs_accept_key(a.key, WSC__HS_KEY_LEN, acc), 0);
  CHECK_STR(a.accept, acc);
  CHECK(strstr((const char *)out.data, a.key) != NULL);
  wsc__hs_client_free(&a);
  wsc__hs_client_free(&b);
  wsc__buf_free(&out);
}

/* ---- Config validation ---------------------------------------------------- */

static int start_rc(const wsc__hs_client_config *cfg) {
  wsc__hs_client hs;
  wsc__buf out = {0};
  wsc__buf_puts(&out, "keep");
  int rc = wsc__hs_client_start_with_key(&hs, cfg, SAMPLE_NONCE, &out);
  if (rc) { /* out untouched, hs empty */
    CHECK_EQ(out.len, 4);
    CHECK_STR(hs.protocol, "");
  }
  wsc__hs_client_free(&hs);
  wsc__hs_client_free(&hs); /* twice is safe */
  wsc__buf_free(&out);
  return rc;
}

TEST(hs_client_cfg_bad_protocol_token) {
  static const char *const bad[] = {"", "a b", "a,b", "chat\r\n", "\xc3\xa4", "a\"b", "(x)"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    wsc__hs_client_config cfg = std_config();
    const char *p[] = {"ok", bad[i]};
    cfg.protocols = p;
    cfg.nprotocols = 2;
    CHECK_EQ(start_rc(&cfg), WSC_ESYNTAX);
  }
  wsc__hs_client_config cfg = std_config();
  const char *p[] = {NULL};
  cfg.protocols = p;
  cfg.nprotocols = 1;
  CHECK_EQ(start_rc(&cfg), WSC_ESYNTAX);
}

TEST(hs_client_cfg_duplicate_protocol) {
  wsc__hs_client_config cfg = std_config();
  const char *p[] = {"chat", "superchat", "chat"};
  cfg.protocols = p;
  cfg.nprotocols = 3;
  CHECK_EQ(start_rc(&cfg), WSC_ESYNTAX);
  const char *q[] = {"chat", "Chat"}; /* subprotocols are case-sensitive: distinct */
  cfg.protocols = q;
  cfg.nprotocols = 2;
  CHECK_EQ(start_rc(&cfg), 0);
}

TEST(hs_client_cfg_header_injection) {
  static const char *const bad[] = {
      "X-A: b\r\nHost: evil", "X-A: b\nX-B: c", "X-A: b\rc", "X-A: \x01", "X-A: \x7f",
      "X A: b",               "X-A : b",        "X-A",       ": b",       "X\xc3\xa4: b",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    wsc__hs_client_config cfg = std_config();
    const char *h[] = {"X-Fine: yes", bad[i]};
    cfg.headers = h;
    cfg.nheaders = 2;
    CHECK_EQ(start_rc(&cfg), WSC_EINVAL);
  }
  wsc__hs_client_config cfg = std_config();
  const char *h[] = {"X-Fine: yes\twith tab \xc3\xa4"};
  cfg.headers = h;
  cfg.nheaders = 1;
  CHECK_EQ(start_rc(&cfg), 0);
}

TEST(hs_client_cfg_reserved_header) {
  static const char *const bad[] = {
      "Host: x",  "host: x", "Upgrade: websocket", "CONNECTION: close", "Sec-WebSocket-Key: x",
      "sec-websocket-version: 8", "Sec-WebSocket-Accept: x", "Sec-WebSocket-Protocol: x",
      "Sec-WebSocket-Extensions: x", "Content-Length: 0", "Transfer-Encoding: chunked",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    wsc__hs_client_config cfg = std_config();
    const char *h[] = {bad[i]};
    cfg.headers = h;
    cfg.nheaders = 1;
    CHECK_EQ(start_rc(&cfg), WSC_EINVAL);
  }
}

TEST(hs_client_cfg_origin_twice) {
  wsc__hs_client_config cfg = std_config();
  const char *h[] = {"origin: http://other"};
  cfg.headers = h;
  cfg.nheaders = 1;
  CHECK_EQ(start_rc(&cfg), 0); /* as an extra header alone: fine */
  cfg.origin = "http://example.com";
  CHECK_EQ(start_rc(&cfg), WSC_EINVAL);
  CHECK_EQ(start_rc(NULL), WSC_EINVAL);
}

TEST(hs_client_cfg_bad_host_target_origin) {
  static const char *const bad_host[] = {"", "a b", "a\r\nX: y", "h\xc3\xa4"};
  wsc__hs_client_config cfg = std_config();
  cfg.host = NULL;
  CHECK_EQ(start_rc(&cfg), WSC_EINVAL);
  for (size_t i = 0; i < sizeof bad_host / sizeof bad_host[0]; i++) {
    cfg = std_config();
    cfg.host = bad_host[i];
    CHECK_EQ(start_rc(&cfg), WSC_EINVAL);
  }
  cfg = std_config();
  cfg.target = "/a b";
  CHECK_EQ(start_rc(&cfg), WSC_EINVAL);
  cfg.target = "";
  CHECK_EQ(start_rc(&cfg), WSC_EINVAL);
  cfg = std_config();
  cfg.origin = "http://x\r\nEvil: 1";
  CHECK_EQ(start_rc(&cfg), WSC_EINVAL);
  cfg.origin = "";
  CHECK_EQ(start_rc(&cfg), WSC_EINVAL);
}

TEST(hs_client_cfg_bad_extensions) {
  static const char *const bad[] = {"a;", "a; ;b", "a; b=", "a; b=\"x", "a b", ";a",
                                    "a\r\nHost: x", "a; b=c d"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    wsc__hs_client_config cfg = std_config();
    cfg.extensions = bad[i];
    CHECK_EQ(start_rc(&cfg), WSC_EINVAL);
  }
}

/* ---- Receiving a valid response ------------------------------------------- */

TEST(hs_client_response_every_split) {
  const char *head = ST "Upgrade: websocket\r\nConnection: Upgrade\r\n" ACC
                        "Sec-WebSocket-Protocol: chat\r\n"
                        "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n";
  const char frame[] = "\x81\x02hi";
  size_t hlen = strlen(head), len = hlen + 4;
  uint8_t *data = malloc(len);
  memcpy(data, head, hlen);
  memcpy(data + hlen, frame, 4);
  for (size_t k = 1; k <= len; k++) {
    wsc__hs_client hs;
    start_std(&hs, 0);
    size_t consumed = 0;
    int rc = wsc__hs_client_recv(&hs, data, k, &consumed);
    if (k < hlen) {
      CHECK_EQ(rc, 0);
      CHECK_EQ(consumed, k);
      rc = wsc__hs_client_recv(&hs, data + k, len - k, &consumed);
      CHECK_EQ(rc, 1);
      CHECK_EQ(consumed, hlen - k);
    } else {
      CHECK_EQ(rc, 1);
      CHECK_EQ(consumed, hlen);
    }
    CHECK_EQ(hs.status, 101);
    CHECK_STR(hs.protocol, "chat");
    CHECK_STR(hs.extensions, "permessage-deflate");
    CHECK_STR(hs.error, "");
    /* later calls: same result, nothing consumed */
    CHECK_EQ(wsc__hs_client_recv(&hs, data, len, &consumed), 1);
    CHECK_EQ(consumed, 0);
    wsc__hs_client_free(&hs);
  }
  /* one byte at a time */
  wsc__hs_client hs;
  start_std(&hs, 0);
  size_t i = 0, consumed;
  int rc = 0;
  while (rc == 0 && i < len) {
    rc = wsc__hs_client_recv(&hs, data + i, 1, &consumed);
    CHECK_EQ(consumed, 1);
    i++;
  }
  CHECK_EQ(rc, 1);
  CHECK_EQ(i, hlen);
  wsc__hs_client_free(&hs);
  free(data);
}

TEST(hs_client_response_no_protocol_no_extensions) {
  wsc__hs_client hs;
  CHECK_EQ(feed_response(&hs, OK_RESPONSE), 1);
  CHECK_STR(hs.protocol, "");
  CHECK_STR(hs.extensions, "");
  wsc__hs_client_free(&hs);
  CHECK_STR(hs.protocol, "");
}

TEST(hs_client_header_names_case_insensitive) {
  expect_ok("HTTP/1.1 101 Switching Protocols\r\nUPGRADE: WebSocket\r\nconnection: UPGRADE\r\n"
            "sec-websocket-accept: " RFC_ACCEPT "\r\n\r\n");
}

TEST(hs_client_values_ows_trimmed) {
  expect_ok(ST "Upgrade:websocket\r\nConnection: \t Upgrade \t\r\n"
               "Sec-WebSocket-Accept:  \t" RFC_ACCEPT "\t \r\n\r\n");
}

TEST(hs_client_connection_token_list) {
  expect_ok(ST UPG "Connection: keep-alive, , Upgrade\r\n" ACC "\r\n");
  expect_ok(ST UPG "Connection: keep-alive\r\nConnection: upgrade\r\n" ACC "\r\n");
  expect_failure(ST UPG "Connection: upgrades\r\n" ACC "\r\n", WSC_EHANDSHAKE,
                 "missing Connection: upgrade");
  expect_failure(ST UPG "Connection: up grade\r\n" ACC "\r\n", WSC_EHANDSHAKE,
                 "missing Connection: upgrade");
}

TEST(hs_client_status_without_reason) {
  expect_ok("HTTP/1.1 101\r\n" UPG CON ACC "\r\n");
  expect_ok("HTTP/1.1 101 \r\n" UPG CON ACC "\r\n");
}

TEST(hs_client_extensions_joined_with_quoted_params) {
  wsc__hs_client hs;
  CHECK_EQ(feed_response(&hs, ST UPG CON ACC
                         "Sec-WebSocket-Extensions: permessage-deflate; a=\"1,2\"; b\r\n"
                         "Sec-WebSocket-Extensions: \r\n"
                         "Sec-WebSocket-Extensions: x-ext\r\n\r\n"),
           1);
  CHECK_STR(hs.extensions, "permessage-deflate; a=\"1,2\"; b, x-ext");
  wsc__hs_client_free(&hs);
}

/* ---- Response failures ---------------------------------------------------- */

TEST(hs_client_status_not_101) {
  wsc__hs_client hs;
  CHECK_EQ(feed_response(&hs, "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"),
           WSC_EHANDSHAKE);
  CHECK_EQ(hs.status, 403);
  CHECK_STR(hs.error, "status 403, expected 101");
  wsc__hs_client_free(&hs);
  expect_failure("HTTP/1.1 200 OK\r\n" UPG CON ACC "\r\n", WSC_EHANDSHAKE,
                 "status 200, expected 101");
}

TEST(hs_client_malformed_status_line) {
  static const char *const bad[] = {
      "HTTP/1.1 10x Switching\r\n\r\n", "HTTP/1.1101 Switching\r\n\r\n",
      "HTP/1.1 101 Switching\r\n\r\n",  "HTTP/1.1  101 Switching\r\n\r\n",
      "HTTP/1.1 1011 Switching\r\n\r\n", "HTTP/11 101 Switching\r\n\r\n",
      "\r\n",                            "HTTP/1.1 101 Sw\x01itching\r\n\r\n",
      " HTTP/1.1 101 x\r\n\r\n",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    wsc__hs_client hs;
    CHECK_EQ(feed_response(&hs, bad[i]), WSC_EHANDSHAKE);
    CHECK_STR(hs.error, "malformed status line");
    CHECK_EQ(hs.status, 0);
    wsc__hs_client_free(&hs);
  }
}

TEST(hs_client_status_line_http10) {
  expect_failure("HTTP/1.0 101 Switching Protocols\r\n" UPG CON ACC "\r\n", WSC_EHANDSHAKE,
                 "status line is not HTTP/1.1");
  expect_failure("HTTP/2.0 101 Switching Protocols\r\n" UPG CON ACC "\r\n", WSC_EHANDSHAKE,
                 "status line is not HTTP/1.1");
}

TEST(hs_client_missing_upgrade) {
  expect_failure(ST CON ACC "\r\n", WSC_EHANDSHAKE, "missing Upgrade: websocket");
  expect_failure(ST "Upgrade: h2c\r\n" CON ACC "\r\n", WSC_EHANDSHAKE,
                 "missing Upgrade: websocket");
  expect_failure(ST "Upgrade: websocket2\r\n" CON ACC "\r\n", WSC_EHANDSHAKE,
                 "missing Upgrade: websocket");
}

TEST(hs_client_missing_connection) {
  expect_failure(ST UPG ACC "\r\n", WSC_EHANDSHAKE, "missing Connection: upgrade");
}

TEST(hs_client_accept_mismatch) {
  expect_failure(ST UPG CON "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo\r\n\r\n",
                 WSC_EHANDSHAKE, "Sec-WebSocket-Accept mismatch");
  expect_failure(ST UPG CON "Sec-WebSocket-Accept: S3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
                 WSC_EHANDSHAKE, "Sec-WebSocket-Accept mismatch");
  expect_failure(ST UPG CON "Sec-WebSocket-Accept: " RFC_KEY "\r\n\r\n", WSC_EHANDSHAKE,
                 "Sec-WebSocket-Accept mismatch");
}

TEST(hs_client_accept_missing) {
  expect_failure(ST UPG CON "\r\n", WSC_EHANDSHAKE, "missing Sec-WebSocket-Accept");
}

TEST(hs_client_accept_duplicate) {
  expect_failure(ST UPG CON ACC ACC "\r\n", WSC_EHANDSHAKE, "duplicate Sec-WebSocket-Accept");
}

TEST(hs_client_protocol_not_offered) {
  expect_failure(OK_RESPONSE, 1, ""); /* sanity: the base response is fine */
  expect_failure(ST UPG CON ACC "Sec-WebSocket-Protocol: other\r\n\r\n", WSC_EHANDSHAKE,
                 "server selected a subprotocol that was not offered");
  expect_failure(ST UPG CON ACC "Sec-WebSocket-Protocol: Chat\r\n\r\n", WSC_EHANDSHAKE,
                 "server selected a subprotocol that was not offered");
  expect_failure(ST UPG CON ACC "Sec-WebSocket-Protocol:\r\n\r\n", WSC_EHANDSHAKE,
                 "server selected a subprotocol that was not offered");
}

TEST(hs_client_protocol_when_none_offered) {
  wsc__hs_client_config cfg = {0};
  cfg.host = "h";
  wsc__hs_client hs;
  wsc__buf out = {0};
  CHECK_EQ(wsc__hs_client_start_with_key(&hs, &cfg, SAMPLE_NONCE, &out), 0);
  const char *r = ST UPG CON ACC "Sec-WebSocket-Protocol: chat\r\n\r\n";
  size_t consumed;
  CHECK_EQ(wsc__hs_client_recv(&hs, (const uint8_t *)r, strlen(r), &consumed), WSC_EHANDSHAKE);
  CHECK_STR(hs.error, "server selected a subprotocol that was not offered");
  wsc__hs_client_free(&hs);
  wsc__buf_free(&out);
}

TEST(hs_client_protocol_more_than_one) {
  expect_failure(ST UPG CON ACC "Sec-WebSocket-Protocol: chat, superchat\r\n\r\n",
                 WSC_EHANDSHAKE, "server selected more than one subprotocol");
  expect_failure(ST UPG CON ACC "Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Protocol: chat\r\n\r\n",
                 WSC_EHANDSHAKE, "server selected more than one subprotocol");
}

TEST(hs_client_extension_not_offered) {
  expect_failure(ST UPG CON ACC "Sec-WebSocket-Extensions: x-other\r\n\r\n", WSC_EEXTENSION,
                 "server selected an extension that was not offered");
  expect_failure(ST UPG CON ACC "Sec-WebSocket-Extensions: x-ext\r\n"
                                "Sec-WebSocket-Extensions: x-ext, client_max_window_bits\r\n\r\n",
                 WSC_EEXTENSION, "server selected an extension that was not offered");
  /* a parameter name is not an extension name */
  expect_failure(ST UPG CON ACC "Sec-WebSocket-Extensions: client_max_window_bits\r\n\r\n",
                 WSC_EEXTENSION, "server selected an extension that was not offered");
}

TEST(hs_client_extension_when_none_offered) {
  wsc__hs_client_config cfg = {0};
  cfg.host = "h";
  wsc__hs_client hs;
  wsc__buf out = {0};
  CHECK_EQ(wsc__hs_client_start_with_key(&hs, &cfg, SAMPLE_NONCE, &out), 0);
  const char *r = ST UPG CON ACC "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n";
  size_t consumed;
  CHECK_EQ(wsc__hs_client_recv(&hs, (const uint8_t *)r, strlen(r), &consumed), WSC_EEXTENSION);
  CHECK_STR(hs.error, "server selected an extension that was not offered");
  wsc__hs_client_free(&hs);
  wsc__buf_free(&out);
}

TEST(hs_client_extension_malformed) {
  static const char *const bad[] = {"x-ext;", "x-ext; a=\"1", "x-ext a", "x-ext; =1",
                                    "x-ext; a=\"\x01\""};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char r[256];
    snprintf(r, sizeof r, ST UPG CON ACC "Sec-WebSocket-Extensions: %s\r\n\r\n", bad[i]);
    wsc__hs_client hs;
    int rc = feed_response(&hs, r);
    /* extension negotiation fails, unless the header itself is bad */
    if (strcmp(hs.error, "control character in a header value") == 0) {
      CHECK_EQ(rc, WSC_EHANDSHAKE);
    } else {
      CHECK_EQ(rc, WSC_EEXTENSION);
      CHECK_STR(hs.error, "malformed Sec-WebSocket-Extensions");
    }
    wsc__hs_client_free(&hs);
  }
}

/* ---- Header syntax -------------------------------------------------------- */

TEST(hs_client_rejects_obs_fold) {
  expect_failure(ST UPG CON ACC "X-A: 1\r\n 2\r\n\r\n", WSC_EHANDSHAKE,
                 "obsolete line folding in header");
  expect_failure(ST UPG CON ACC "X-A: 1\r\n\t2\r\n\r\n", WSC_EHANDSHAKE,
                 "obsolete line folding in header");
}

TEST(hs_client_rejects_nul) {
  wsc__hs_client hs;
  start_std(&hs, 0);
  const char r[] = ST UPG "X-A: a\0b\r\n" CON ACC "\r\n";
  size_t consumed;
  CHECK_EQ(wsc__hs_client_recv(&hs, (const uint8_t *)r, sizeof r - 1, &consumed), WSC_EHANDSHAKE);
  CHECK_STR(hs.error, "NUL byte in head");
  wsc__hs_client_free(&hs);
}

TEST(hs_client_rejects_bare_cr) {
  expect_failure(ST UPG "X-A: a\rb\r\n" CON ACC "\r\n", WSC_EHANDSHAKE,
                 "bare CR in head (lines must end in CRLF)");
  expect_failure(ST UPG CON ACC "\r\r\n", WSC_EHANDSHAKE, "bare CR in head (lines must end in CRLF)");
}

TEST(hs_client_rejects_bare_lf) {
  expect_failure("HTTP/1.1 101 Switching Protocols\nUpgrade: websocket\n\n", WSC_EHANDSHAKE,
                 "bare LF in head (lines must end in CRLF)");
  expect_failure(ST UPG CON ACC "\n", WSC_EHANDSHAKE, "bare LF in head (lines must end in CRLF)");
}

TEST(hs_client_rejects_missing_colon) {
  expect_failure(ST UPG CON ACC "X-A 1\r\n\r\n", WSC_EHANDSHAKE, "header line without a colon");
  expect_failure(ST UPG CON ACC "X-A\r\n\r\n", WSC_EHANDSHAKE, "header line without a colon");
}

TEST(hs_client_rejects_space_before_colon) {
  expect_failure(ST UPG CON "Sec-WebSocket-Accept : " RFC_ACCEPT "\r\n\r\n", WSC_EHANDSHAKE,
                 "whitespace before the colon in a header");
  expect_failure(ST UPG CON ACC "X-A\t: 1\r\n\r\n", WSC_EHANDSHAKE,
                 "whitespace before the colon in a header");
}

TEST(hs_client_rejects_bad_header_name) {
  expect_failure(ST UPG CON ACC "X(A): 1\r\n\r\n", WSC_EHANDSHAKE, "invalid header name");
  expect_failure(ST UPG CON ACC "X\xc3\xa4: 1\r\n\r\n", WSC_EHANDSHAKE, "invalid header name");
  expect_failure(ST UPG CON ACC ": 1\r\n\r\n", WSC_EHANDSHAKE, "empty header name");
}

TEST(hs_client_rejects_control_in_value) {
  expect_failure(ST UPG CON ACC "X-A: a\x01" "b\r\n\r\n", WSC_EHANDSHAKE,
                 "control character in a header value");
  expect_failure(ST UPG CON ACC "X-A: a\x7f\r\n\r\n", WSC_EHANDSHAKE,
                 "control character in a header value");
  expect_ok(ST UPG CON ACC "X-A: a\tb \xc3\xa4\r\n\r\n"); /* HT and obs-text are fine */
}

TEST(hs_client_too_many_headers) {
  wsc__buf r = {0};
  wsc__buf_puts(&r, ST UPG CON ACC);
  for (int i = 0; i < WSC__HTTP_MAX_HEADERS - 3; i++) wsc__buf_printf(&r, "X-%d: %d\r\n", i, i);
  wsc__buf_puts(&r, "\r\n");
  wsc__buf_append(&r, "", 1);
  expect_ok((const char *)r.data); /* exactly the maximum */
  r.len -= 3;
  wsc__buf_puts(&r, "X-Last: 1\r\n\r\n");
  wsc__buf_append(&r, "", 1);
  expect_failure((const char *)r.data, WSC_EHEADERSIZE, "too many header fields");
  wsc__buf_free(&r);
}

/* ---- Size limit ----------------------------------------------------------- */

/* A valid response of exactly n bytes (padding in an X-Pad header). */
static char *response_of_size(size_t n) {
  const char *base = OK_RESPONSE;
  size_t blen = strlen(base), fixed = blen + strlen("X-Pad: \r\n");
  CHECK(n > fixed);
  char *r = malloc(n + 1);
  size_t hl = blen - 2; /* without the final CRLF */
  memcpy(r, base, hl);
  size_t pos = hl;
  memcpy(r + pos, "X-Pad: ", 7);
  pos += 7;
  memset(r + pos, 'p', n - fixed);
  pos += n - fixed;
  memcpy(r + pos, "\r\n\r\n", 4);
  pos += 4;
  r[pos] = 0;
  CHECK_EQ(pos, n);
  return r;
}

TEST(hs_client_size_limit_edge) {
  const size_t max = 512;
  char *r = response_of_size(max);
  for (size_t k = 1; k <= max; k += 37) { /* exactly at the limit: accepted, any split */
    wsc__hs_client hs;
    start_std(&hs, max);
    size_t c1 = 0, c2 = 0;
    int rc = wsc__hs_client_recv(&hs, (const uint8_t *)r, k, &c1);
    if (rc == 0) rc = wsc__hs_client_recv(&hs, (const uint8_t *)r + k, max - k, &c2);
    CHECK_EQ(rc, 1);
    CHECK_EQ(c1 + c2, max);
    CHECK(hs.head.buf.len <= max);
    wsc__hs_client_free(&hs);
  }
  free(r);
  r = response_of_size(max + 1); /* one byte more: refused */
  for (size_t k = 1; k <= max + 1; k += 37) {
    wsc__hs_client hs;
    start_std(&hs, max);
    size_t c1 = 0, c2 = 0;
    int rc = wsc__hs_client_recv(&hs, (const uint8_t *)r, k, &c1);
    if (rc == 0) rc = wsc__hs_client_recv(&hs, (const uint8_t *)r + k, max + 1 - k, &c2);
    CHECK_EQ(rc, WSC_EHEADERSIZE);
    CHECK(hs.head.buf.len <= max);
    wsc__hs_client_free(&hs);
  }
  free(r);
}

TEST(hs_client_size_limit_default) {
  wsc__hs_client hs;
  start_std(&hs, 0);
  CHECK_EQ(hs.head.max_size, WSC_DEFAULT_MAX_HANDSHAKE);
  wsc__hs_client_free(&hs);
}

TEST(hs_client_endless_head_bounded) {
  wsc__hs_client hs;
  start_std(&hs, 0);
  const char *st = "HTTP/1.1 101 Switching Protocols\r\nX-Pad: ";
  size_t consumed;
  CHECK_EQ(wsc__hs_client_recv(&hs, (const uint8_t *)st, strlen(st), &consumed), 0);
  uint8_t chunk[4096];
  memset(chunk, 'a', sizeof chunk);
  int rc = 0;
  size_t fed = 0;
  while (rc == 0 && fed < (1u << 30)) { /* a peer sending 1 GiB of header */
    rc = wsc__hs_client_recv(&hs, chunk, sizeof chunk, &consumed);
    fed += sizeof chunk;
    CHECK(hs.head.buf.len <= WSC_DEFAULT_MAX_HANDSHAKE);
  }
  CHECK_EQ(rc, WSC_EHEADERSIZE);
  CHECK(fed <= WSC_DEFAULT_MAX_HANDSHAKE + sizeof chunk);
  CHECK_EQ(wsc__hs_client_recv(&hs, chunk, 1, &consumed), WSC_EHEADERSIZE);
  wsc__hs_client_free(&hs);
}

TEST(hs_client_recv_not_started) {
  wsc__hs_client hs;
  memset(&hs, 0, sizeof hs);
  size_t consumed = 5;
  CHECK_EQ(wsc__hs_client_recv(&hs, (const uint8_t *)"x", 1, &consumed), WSC_EINVAL);
  CHECK_EQ(consumed, 0);
  wsc__hs_client_free(&hs);
}
