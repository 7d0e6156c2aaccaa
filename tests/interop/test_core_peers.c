/* test_core_peers.c - the sans-I/O core (handshake + conn) against real peers.
 *
 * A blocking socket client (bclient.c) drives wsc__hs_client_* and wsc__conn
 * against Python's websockets (py_server.py), Node's ws (node_server.js), a
 * misbehaving hand-written server (evil_server.py) and an HTTP CONNECT proxy
 * (connect_proxy.py). Every peer listens on a free loopback port, is started
 * by the test that uses it and stopped by PID at its end (or at exit when a
 * CHECK fails). Each TEST is its own CTest test (label "interop").
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bclient.h"
#include "proto/frame.h"
#include "spawn.h"
#include "test.h"
#include "wsc.h"

#define MIB (1024 * 1024)
#define WAIT_MS 20000 /* for one event; the CTest timeout is 60 s */

/* ---- helpers -------------------------------------------------------------- */

static const char *script_of(peer_lang lang) {
  return lang == PEER_NODE ? "node_server.js" : "py_server.py";
}

/* Start py_server.py or node_server.js with args (NULL-terminated). */
static int start_ws(peer_proc *p, peer_lang lang, const char *const args[]) {
  int port = peer_start_script(p, lang, script_of(lang), args);
  CHECK_INT(port, >, 0);
  return port;
}

static int start_evil(peer_proc *p, const char *mode) {
  int port = peer_start_py(p, "evil_server.py", "--mode", mode, NULL);
  CHECK_INT(port, >, 0);
  return port;
}

/* Connect to 127.0.0.1:port and run the handshake; the result of bc_handshake. */
static int open_ws_cfg(bclient *c, const char *host, int port, wsc__hs_client_config *hs,
                       const wsc__conn_config *conn_cfg) {
  char hostport[64];
  CHECK_EQ(bc_connect(c, host, port), 0);
  if (!hs->host) {
    snprintf(hostport, sizeof hostport, strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, port);
    hs->host = hostport;
  }
  int rc = bc_handshake(c, hs, conn_cfg);
  hs->host = NULL;
  return rc;
}

static void open_ws(bclient *c, int port) {
  wsc__hs_client_config hs = {0};
  CHECK_EQ(open_ws_cfg(c, "127.0.0.1", port, &hs, NULL), 1);
}

/* Deterministic payloads: binary from xorshift32; text is valid UTF-8 of
 * exactly n bytes mixing 1- to 4-byte sequences. */
static void fill_binary(uint8_t *p, size_t n, uint32_t seed) {
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    p[i] = (uint8_t)x;
  }
}

static void fill_text(uint8_t *p, size_t n, uint32_t seed) {
  static const char *const pieces[] = {"a", "\xc3\xa9", "b", "\xe2\x82\xac", " ",
                                       "\xf0\x9d\x84\x9e", "Z", "\xd0\x96", "0", "\xe4\xb8\xad"};
  size_t i = 0, k = seed;
  while (i < n) {
    const char *s = pieces[k++ % 10];
    size_t len = strlen(s);
    if (len > n - i) s = "x", len = 1;
    memcpy(p + i, s, len);
    i += len;
  }
}

/* Send one message and expect it back unchanged. */
static void round_trip(bclient *c, unsigned op, const uint8_t *data, size_t n) {
  CHECK_EQ(wsc__conn_send(&c->conn, op, data, n), 0);
  int rc = bc_next(c, WAIT_MS);
  if (rc != BC_MESSAGE)
    fprintf(stderr, "size %zu: bc_next = %d (%s), conn error: %s\n", n, rc, wsc_err_name(rc),
            c->conn.error_msg ? c->conn.error_msg : "-");
  CHECK_EQ(rc, BC_MESSAGE);
  CHECK_EQ(c->msg_op, op);
  CHECK_EQ(c->msg.len, n);
  if (n) CHECK_MEM(c->msg.data, data, n);
}

/* Close with 1000 and expect the server's Close and then EOF. */
static void close_normally(bclient *c) {
  CHECK_EQ(wsc__conn_close(&c->conn, 1000, "done", 4), 0);
  int rc = bc_next(c, WAIT_MS);
  CHECK_EQ(rc, BC_CLOSE);
  CHECK_EQ(c->close_code, 1000);
  CHECK(wsc__conn_closed(&c->conn));
  CHECK_EQ(bc_next(c, WAIT_MS), WSC_ECLOSED); /* the server closes TCP after the handshake */
}

static const size_t sizes[] = {0, 1, 125, 126, 65535, 65536, 1 * MIB, 16 * MIB};

static void echo_sizes(peer_lang lang, unsigned op) {
  peer_proc p;
  bclient c;
  int port = start_ws(&p, lang, (const char *const[]){"--mode", "echo", NULL});
  open_ws(&c, port);
  uint8_t *data = malloc(16 * MIB);
  CHECK(data);
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    if (op == WSC__OP_TEXT)
      fill_text(data, sizes[i], (uint32_t)i);
    else
      fill_binary(data, sizes[i], (uint32_t)i + 1);
    round_trip(&c, op, data, sizes[i]);
  }
  free(data);
  close_normally(&c);
  bc_free(&c);
  peer_stop(&p);
}

TEST(py_echo_text_sizes) { echo_sizes(PEER_PYTHON, WSC__OP_TEXT); }
TEST(py_echo_binary_sizes) { echo_sizes(PEER_PYTHON, WSC__OP_BINARY); }
TEST(node_echo_text_sizes) { echo_sizes(PEER_NODE, WSC__OP_TEXT); }
TEST(node_echo_binary_sizes) { echo_sizes(PEER_NODE, WSC__OP_BINARY); }

/* Fragments sent with wsc__conn_send_fragment, a Ping between two of them, a
 * UTF-8 sequence split across fragments; then a message the conn splits
 * itself (fragment_size) and a fragmented message ending in an empty frame. */
static void echo_fragmented(peer_lang lang) {
  peer_proc p;
  bclient c;
  int port = start_ws(&p, lang, (const char *const[]){"--mode", "echo", NULL});
  wsc__conn_config cfg = {.fragment_size = 1000};
  wsc__hs_client_config hs = {0};
  CHECK_EQ(open_ws_cfg(&c, "127.0.0.1", port, &hs, &cfg), 1);

  CHECK_EQ(wsc__conn_send_fragment(&c.conn, WSC__OP_TEXT, "Hel", 3, 0), 0);
  CHECK_EQ(wsc__conn_ping(&c.conn, "mid", 3), 0);
  CHECK_EQ(wsc__conn_send_fragment(&c.conn, WSC__OP_TEXT, "lo w\xc3", 5, 0), 0);
  CHECK_EQ(wsc__conn_send_fragment(&c.conn, WSC__OP_TEXT, "\xb6rld", 4, 1), 0);
  /* The Pong is sent as the Ping arrives, the echo once the message is whole. */
  int got_pong = 0, got_msg = 0;
  for (int i = 0; i < 2; i++) {
    int rc = bc_next(&c, WAIT_MS);
    if (rc == BC_PONG) {
      CHECK_EQ(c.ctl_len, 3);
      CHECK_MEM(c.ctl, "mid", 3);
      got_pong++;
    } else {
      CHECK_EQ(rc, BC_MESSAGE);
      CHECK_EQ(c.msg_op, WSC__OP_TEXT);
      CHECK_EQ(c.msg.len, 12);
      CHECK_MEM(c.msg.data, "Hello w\xc3\xb6rld", 12);
      got_msg++;
    }
  }
  CHECK_EQ(got_pong, 1);
  CHECK_EQ(got_msg, 1);

  /* fragment_size = 1000: 66 frames out, one message back */
  uint8_t *data = malloc(65536);
  CHECK(data);
  fill_binary(data, 65536, 7);
  round_trip(&c, WSC__OP_BINARY, data, 65536);

  /* binary in three pieces, the last one empty */
  CHECK_EQ(wsc__conn_send_fragment(&c.conn, WSC__OP_BINARY, data, 30000, 0), 0);
  CHECK_EQ(wsc__conn_send_fragment(&c.conn, WSC__OP_BINARY, data + 30000, 35536, 0), 0);
  CHECK_EQ(wsc__conn_send_fragment(&c.conn, WSC__OP_BINARY, NULL, 0, 1), 0);
  CHECK_EQ(bc_next(&c, WAIT_MS), BC_MESSAGE);
  CHECK_EQ(c.msg_op, WSC__OP_BINARY);
  CHECK_EQ(c.msg.len, 65536);
  CHECK_MEM(c.msg.data, data, 65536);
  free(data);

  close_normally(&c);
  bc_free(&c);
  peer_stop(&p);
}

TEST(py_echo_fragmented) { echo_fragmented(PEER_PYTHON); }
TEST(node_echo_fragmented) { echo_fragmented(PEER_NODE); }

/* Our Ping is answered with a Pong carrying its payload; the server's Ping is
 * answered automatically by the conn (the server reports the Pong). */
static void ping_pong(peer_lang lang) {
  peer_proc p;
  bclient c;
  int port = start_ws(&p, lang, (const char *const[]){"--mode", "echo", "--ping", NULL});
  open_ws(&c, port);
  /* the server's Ping may come in the same read as the 101: bytes after the
   * head go to the conn */
  fprintf(stderr, "%s: %zu frame bytes arrived with the response head\n", script_of(lang),
          c.rx.len);
  CHECK_EQ(bc_next(&c, WAIT_MS), BC_PING);
  CHECK_EQ(c.ctl_len, 8);
  CHECK_MEM(c.ctl, "wsc-ping", 8);
  char line[256];
  CHECK_EQ(peer_wait_line(&p, "PONG", line, sizeof line, WAIT_MS), 1);
  CHECK_STR(line, "PONG wsc-ping");

  uint8_t payload[125];
  fill_binary(payload, sizeof payload, 3);
  const size_t lens[] = {0, 1, 125};
  for (size_t i = 0; i < 3; i++) {
    CHECK_EQ(wsc__conn_ping(&c.conn, payload, lens[i]), 0);
    CHECK_EQ(bc_next(&c, WAIT_MS), BC_PONG);
    CHECK_EQ(c.ctl_len, lens[i]);
    if (lens[i]) CHECK_MEM(c.ctl, payload, lens[i]);
  }
  CHECK_EQ(wsc__conn_ping(&c.conn, payload, 126), WSC_EINVAL);
  close_normally(&c);
  bc_free(&c);
  peer_stop(&p);
}

TEST(py_ping_pong) { ping_pong(PEER_PYTHON); }
TEST(node_ping_pong) { ping_pong(PEER_NODE); }

/* Offer "a", "b" to a server that supports only "b": "b" is chosen; offer
 * only "a": no subprotocol. */
static void subprotocol(peer_lang lang) {
  peer_proc p;
  bclient c;
  int port =
      start_ws(&p, lang, (const char *const[]){"--mode", "echo", "--subprotocols", "b", NULL});
  const char *const both[] = {"a", "b"};
  wsc__hs_client_config hs = {.protocols = both, .nprotocols = 2};
  CHECK_EQ(open_ws_cfg(&c, "127.0.0.1", port, &hs, NULL), 1);
  CHECK_STR(c.hs.protocol, "b");
  round_trip(&c, WSC__OP_TEXT, (const uint8_t *)"sub", 3);
  close_normally(&c);
  bc_free(&c);

  const char *const only_a[] = {"a"};
  wsc__hs_client_config hs2 = {.protocols = only_a, .nprotocols = 1};
  CHECK_EQ(open_ws_cfg(&c, "127.0.0.1", port, &hs2, NULL), 1);
  CHECK_STR(c.hs.protocol, "");
  close_normally(&c);
  bc_free(&c);
  peer_stop(&p);
}

TEST(py_subprotocol) { subprotocol(PEER_PYTHON); }
TEST(node_subprotocol) { subprotocol(PEER_NODE); }

/* The server sends Close 4001 "bye now ✓" after the first message: the conn
 * reports it and echoes it, and the server then closes TCP at once (it would
 * wait for its close timeout if the echo had not arrived). */
static void server_close(peer_lang lang) {
  peer_proc p;
  bclient c;
  int port = start_ws(&p, lang,
                      (const char *const[]){"--mode", "close", "--code", "4001", "--reason",
                                            "bye now \xe2\x9c\x93", NULL});
  open_ws(&c, port);
  CHECK_EQ(wsc__conn_send(&c.conn, WSC__OP_TEXT, "x", 1), 0);
  CHECK_EQ(bc_next(&c, WAIT_MS), BC_CLOSE);
  CHECK_EQ(c.close_code, 4001);
  CHECK_EQ(c.ctl_len, 11);
  CHECK_MEM(c.ctl, "bye now \xe2\x9c\x93", 11);
  CHECK(c.conn.close_received);
  CHECK(c.conn.close_sent); /* echoed */
  CHECK(wsc__conn_closed(&c.conn));
  CHECK_EQ(wsc__conn_send(&c.conn, WSC__OP_TEXT, "y", 1), WSC_EINVALIDSTATE);
  long long t0 = peer_now_ms();
  CHECK_EQ(bc_next(&c, WAIT_MS), WSC_ECLOSED);
  CHECK_INT(peer_now_ms() - t0, <, 1500);
  bc_free(&c);
  peer_stop(&p);
}

TEST(py_server_close) { server_close(PEER_PYTHON); }
TEST(node_server_close) { server_close(PEER_NODE); }

/* The client closes with 1000; the server's Close completes the handshake. */
static void client_close(peer_lang lang) {
  peer_proc p;
  bclient c;
  int port = start_ws(&p, lang, (const char *const[]){"--mode", "echo", NULL});
  open_ws(&c, port);
  round_trip(&c, WSC__OP_TEXT, (const uint8_t *)"before close", 12);
  CHECK_EQ(wsc__conn_close(&c.conn, 1000, "done", 4), 0);
  CHECK(c.conn.close_sent);
  CHECK(!wsc__conn_closed(&c.conn));
  CHECK_EQ(wsc__conn_send(&c.conn, WSC__OP_TEXT, "late", 4), WSC_EINVALIDSTATE);
  CHECK_EQ(wsc__conn_close(&c.conn, 1000, NULL, 0), WSC_EINVALIDSTATE);
  CHECK_EQ(bc_next(&c, WAIT_MS), BC_CLOSE);
  CHECK_EQ(c.close_code, 1000);
  CHECK(wsc__conn_closed(&c.conn));
  CHECK_EQ(bc_next(&c, WAIT_MS), WSC_ECLOSED);
  bc_free(&c);
  peer_stop(&p);
}

TEST(py_client_close) { client_close(PEER_PYTHON); }
TEST(node_client_close) { client_close(PEER_NODE); }

/* The server aborts TCP after the first message: EOF without a Close. */
static void server_drop(peer_lang lang) {
  peer_proc p;
  bclient c;
  int port = start_ws(&p, lang, (const char *const[]){"--mode", "drop", NULL});
  open_ws(&c, port);
  CHECK_EQ(wsc__conn_send(&c.conn, WSC__OP_BINARY, "x", 1), 0);
  CHECK_EQ(bc_next(&c, WAIT_MS), WSC_ECLOSED);
  CHECK(!c.conn.close_received);
  CHECK(!c.conn.close_sent);
  bc_free(&c);
  peer_stop(&p);
}

TEST(py_server_drop) { server_drop(PEER_PYTHON); }
TEST(node_server_drop) { server_drop(PEER_NODE); }

/* The server refuses the upgrade with 403 (and, on a second connection, the
 * peer still works): WSC_EHANDSHAKE with the status. */
static void server_reject(peer_lang lang) {
  peer_proc p;
  bclient c;
  int port = start_ws(&p, lang, (const char *const[]){"--mode", "reject", "--status", "403", NULL});
  wsc__hs_client_config hs = {0};
  CHECK_EQ(open_ws_cfg(&c, "127.0.0.1", port, &hs, NULL), WSC_EHANDSHAKE);
  CHECK_EQ(c.hs.status, 403);
  CHECK(strstr(c.hs.error, "403") != NULL);
  bc_free(&c);
  peer_stop(&p);
}

TEST(py_server_reject) { server_reject(PEER_PYTHON); }
TEST(node_server_reject) { server_reject(PEER_NODE); }

/* The request as the server saw it: target, Origin, extra headers. */
static void request_headers(peer_lang lang) {
  peer_proc p;
  bclient c;
  int port = start_ws(&p, lang, (const char *const[]){"--mode", "echo", "--log-headers", NULL});
  const char *const extra[] = {"X-Wsc-Test: yes", "X-Wsc-Other:  two words  "};
  wsc__hs_client_config hs = {.target = "/chat?room=1",
                              .origin = "http://origin.test",
                              .headers = extra,
                              .nheaders = 2};
  CHECK_EQ(open_ws_cfg(&c, "127.0.0.1", port, &hs, NULL), 1);
  char line[4096];
  CHECK_EQ(peer_wait_line(&p, "HEADERS ", line, sizeof line, WAIT_MS), 1);
  CHECK(strstr(line, "\"path\": \"/chat?room=1\"") || strstr(line, "\"path\":\"/chat?room=1\""));
  CHECK(strstr(line, "[\"X-Wsc-Test\", \"yes\"]") || strstr(line, "[\"X-Wsc-Test\",\"yes\"]"));
  CHECK(strstr(line, "[\"X-Wsc-Other\", \"two words\"]") ||
        strstr(line, "[\"X-Wsc-Other\",\"two words\"]"));
  CHECK(strstr(line, "http://origin.test") != NULL);
  CHECK(strstr(line, "Sec-WebSocket-Version") != NULL);
  round_trip(&c, WSC__OP_TEXT, (const uint8_t *)"h", 1);
  close_normally(&c);
  bc_free(&c);
  peer_stop(&p);
}

TEST(py_request_headers) { request_headers(PEER_PYTHON); }
TEST(node_request_headers) { request_headers(PEER_NODE); }

/* wss: a test CA made by make-ca.sh, the server's certificate checked for
 * the name "localhost" and for the IP 127.0.0.1. */
static void tls_echo(peer_lang lang) {
  peer_certs certs;
  CHECK_EQ(peer_make_certs(&certs), 0);
  peer_proc p;
  bclient c;
  int port = start_ws(&p, lang,
                      (const char *const[]){"--mode", "echo", "--tls", certs.cert, certs.key, NULL});
  const char *names[] = {"localhost", "127.0.0.1"};
  uint8_t *data = malloc(MIB);
  CHECK(data);
  fill_binary(data, MIB, 11);
  for (int i = 0; i < 2; i++) {
    CHECK_EQ(bc_connect(&c, "127.0.0.1", port), 0);
    CHECK_EQ(bc_tls(&c, certs.ca, names[i]), 0);
    char host[64];
    snprintf(host, sizeof host, "%s:%d", names[i], port);
    wsc__hs_client_config hs = {.host = host};
    CHECK_EQ(bc_handshake(&c, &hs, NULL), 1);
    round_trip(&c, WSC__OP_TEXT, (const uint8_t *)"hello tls", 9);
    round_trip(&c, WSC__OP_BINARY, data, MIB);
    close_normally(&c);
    bc_free(&c);
  }
  free(data);
  peer_stop(&p);
}

TEST(py_tls_echo) { tls_echo(PEER_PYTHON); }
TEST(node_tls_echo) { tls_echo(PEER_NODE); }

/* The same over ::1 (Host: [::1]:port). */
static void ipv6_echo(peer_lang lang) {
  peer_proc p;
  bclient c;
  int port = start_ws(&p, lang, (const char *const[]){"--mode", "echo", "--host", "::1", NULL});
  wsc__hs_client_config hs = {0};
  CHECK_EQ(open_ws_cfg(&c, "::1", port, &hs, NULL), 1);
  uint8_t data[70000];
  fill_text(data, sizeof data, 5);
  round_trip(&c, WSC__OP_TEXT, data, sizeof data);
  close_normally(&c);
  bc_free(&c);
  peer_stop(&p);
}

TEST(py_ipv6_echo) { ipv6_echo(PEER_PYTHON); }
TEST(node_ipv6_echo) { ipv6_echo(PEER_NODE); }

/* permessage-deflate is negotiated (the core does not compress yet: only the
 * handshake is checked) when the server has it on, and not when it is off. */
static void deflate_negotiation(peer_lang lang) {
  const char *on_off[] = {"--deflate", "--no-deflate"};
  for (int i = 0; i < 2; i++) {
    peer_proc p;
    bclient c;
    int port = start_ws(&p, lang, (const char *const[]){"--mode", "echo", on_off[i], NULL});
    wsc__hs_client_config hs = {.extensions = "permessage-deflate; client_max_window_bits"};
    CHECK_EQ(open_ws_cfg(&c, "127.0.0.1", port, &hs, NULL), 1);
    fprintf(stderr, "%s %s: Sec-WebSocket-Extensions: %s\n", script_of(lang), on_off[i],
            c.hs.extensions);
    if (i == 0)
      CHECK(strncmp(c.hs.extensions, "permessage-deflate", 18) == 0);
    else
      CHECK_STR(c.hs.extensions, "");
    close_normally(&c); /* control frames are never compressed */
    bc_free(&c);
    peer_stop(&p);
  }
}

TEST(py_deflate_negotiation) { deflate_negotiation(PEER_PYTHON); }
TEST(node_deflate_negotiation) { deflate_negotiation(PEER_NODE); }

/* ---- hostile servers ------------------------------------------------------ */

static int evil_handshake(const char *mode, bclient *c, peer_proc *p,
                          const char *const *protocols, size_t nprotocols) {
  int port = start_evil(p, mode);
  wsc__hs_client_config hs = {.protocols = protocols, .nprotocols = nprotocols};
  return open_ws_cfg(c, "127.0.0.1", port, &hs, NULL);
}

TEST(evil_bad_accept) {
  peer_proc p;
  bclient c;
  CHECK_EQ(evil_handshake("bad-accept", &c, &p, NULL, 0), WSC_EHANDSHAKE);
  CHECK_EQ(c.hs.status, 101);
  fprintf(stderr, "bad-accept: %s\n", c.hs.error);
  bc_free(&c);
  peer_stop(&p);
}

TEST(evil_unoffered_protocol) {
  peer_proc p;
  bclient c;
  /* offering nothing */
  CHECK_EQ(evil_handshake("unoffered-protocol", &c, &p, NULL, 0), WSC_EHANDSHAKE);
  fprintf(stderr, "unoffered-protocol (none offered): %s\n", c.hs.error);
  bc_free(&c);
  peer_stop(&p);
  /* offering others */
  const char *const offer[] = {"a", "b"};
  CHECK_EQ(evil_handshake("unoffered-protocol", &c, &p, offer, 2), WSC_EHANDSHAKE);
  fprintf(stderr, "unoffered-protocol (a, b offered): %s\n", c.hs.error);
  bc_free(&c);
  peer_stop(&p);
}

TEST(evil_unoffered_extension) {
  peer_proc p;
  bclient c;
  CHECK_EQ(evil_handshake("unoffered-extension", &c, &p, NULL, 0), WSC_EEXTENSION);
  fprintf(stderr, "unoffered-extension: %s\n", c.hs.error);
  bc_free(&c);
  peer_stop(&p);
}

TEST(evil_status) {
  peer_proc p;
  bclient c;
  CHECK_EQ(evil_handshake("status", &c, &p, NULL, 0), WSC_EHANDSHAKE);
  CHECK_EQ(c.hs.status, 403);
  bc_free(&c);
  peer_stop(&p);
}

/* A masked frame from the server: WSC_EPROTO, and a Close 1002 goes out (the
 * server reports what it received). */
TEST(evil_masked_frames) {
  peer_proc p;
  bclient c;
  CHECK_EQ(evil_handshake("masked-frames", &c, &p, NULL, 0), 1);
  CHECK_EQ(bc_next(&c, WAIT_MS), WSC_EPROTO);
  CHECK(c.conn.close_sent);
  fprintf(stderr, "masked-frames: %s\n", c.conn.error_msg);
  CHECK_EQ(bc_next(&c, WAIT_MS), WSC_EPROTO); /* sticky */
  char line[256];
  CHECK_EQ(peer_wait_line(&p, "CLOSE ", line, sizeof line, WAIT_MS), 1);
  CHECK(strncmp(line, "CLOSE 1002", 10) == 0);
  bc_free(&c);
  peer_stop(&p);
}

/* A frame announcing 2^40 bytes: WSC_ETOOBIG at the header, Close 1009. */
TEST(evil_huge_message) {
  peer_proc p;
  bclient c;
  CHECK_EQ(evil_handshake("huge-message", &c, &p, NULL, 0), 1);
  CHECK_EQ(bc_next(&c, WAIT_MS), WSC_ETOOBIG);
  CHECK(c.conn.close_sent);
  CHECK_EQ(c.msg.len, 0); /* nothing of it was delivered */
  char line[256];
  CHECK_EQ(peer_wait_line(&p, "CLOSE ", line, sizeof line, WAIT_MS), 1);
  CHECK(strncmp(line, "CLOSE 1009", 10) == 0);
  bc_free(&c);
  peer_stop(&p);
}

/* A response head that never ends: WSC_EHEADERSIZE once 8 KiB have been
 * buffered, without reading much more than that. */
TEST(evil_endless_handshake) {
  peer_proc p;
  bclient c;
  long long t0 = peer_now_ms();
  CHECK_EQ(evil_handshake("endless-handshake", &c, &p, NULL, 0), WSC_EHEADERSIZE);
  fprintf(stderr, "endless-handshake: %s after %zu + %zu bytes, %lld ms\n", c.hs.error, c.hs_fed,
          c.hs_last, peer_now_ms() - t0);
  CHECK_INT(c.hs_fed, <=, WSC_DEFAULT_MAX_HANDSHAKE);
  CHECK_INT(c.hs_fed + c.hs_last, >, WSC_DEFAULT_MAX_HANDSHAKE);
  CHECK_INT(peer_now_ms() - t0, <, 10000);
  bc_free(&c);
  peer_stop(&p);
}

/* Random bytes after a valid handshake: some protocol error, a Close sent. */
TEST(evil_garbage) {
  peer_proc p;
  bclient c;
  CHECK_EQ(evil_handshake("garbage", &c, &p, NULL, 0), 1);
  int rc = bc_next(&c, WAIT_MS);
  fprintf(stderr, "garbage: %s (%s)\n", wsc_err_name(rc), c.conn.error_msg);
  CHECK(rc == WSC_EPROTO || rc == WSC_EBADDATA || rc == WSC_ETOOBIG);
  CHECK(c.conn.close_sent);
  bc_free(&c);
  peer_stop(&p);
}

/* Frames in the same segment as the 101: they reach the conn, in order. */
TEST(evil_early_frames) {
  peer_proc p;
  bclient c;
  CHECK_EQ(evil_handshake("early-frames", &c, &p, NULL, 0), 1);
  CHECK_EQ(c.rx.len, 7 + 3);
  CHECK_EQ(bc_next(&c, WAIT_MS), BC_MESSAGE);
  CHECK_EQ(c.msg_op, WSC__OP_TEXT);
  CHECK_EQ(c.msg.len, 5);
  CHECK_MEM(c.msg.data, "hello", 5);
  CHECK_EQ(bc_next(&c, WAIT_MS), BC_PING);
  CHECK_EQ(c.ctl_len, 1);
  char line[256];
  CHECK_EQ(peer_wait_line(&p, "FRAME 10 1", line, sizeof line, WAIT_MS), 1); /* our Pong */
  close_normally(&c);
  CHECK_EQ(peer_wait_line(&p, "CLOSE ", line, sizeof line, WAIT_MS), 1);
  CHECK_STR(line, "CLOSE 1000 done");
  bc_free(&c);
  peer_stop(&p);
}

/* A server that never answers our Close: the closing handshake stays open
 * and nothing else arrives; the wait is bounded by our own timeout. */
TEST(evil_no_close) {
  peer_proc p;
  bclient c;
  CHECK_EQ(evil_handshake("no-close", &c, &p, NULL, 0), 1);
  CHECK_EQ(wsc__conn_close(&c.conn, 1000, "bye", 3), 0);
  char line[256];
  CHECK_EQ(peer_wait_line(&p, "CLOSE ", line, sizeof line, WAIT_MS), 1);
  CHECK_STR(line, "CLOSE 1000 bye");
  long long t0 = peer_now_ms();
  CHECK_EQ(bc_next(&c, 300), WSC_ETIMEDOUT);
  CHECK_INT(peer_now_ms() - t0, <, 2000);
  CHECK(!wsc__conn_closed(&c.conn));
  bc_free(&c);
  peer_stop(&p);
}

/* ---- through an HTTP CONNECT proxy ---------------------------------------- */

TEST(proxy_tunnel_echo) {
  peer_proc ws, proxy;
  bclient c;
  int ws_port = start_ws(&ws, PEER_PYTHON, (const char *const[]){"--mode", "echo", NULL});
  int proxy_port = peer_start_py(&proxy, "connect_proxy.py", NULL);
  CHECK_INT(proxy_port, >, 0);
  char target[64], line[256], want[80];
  snprintf(target, sizeof target, "127.0.0.1:%d", ws_port);
  CHECK_EQ(bc_connect(&c, "127.0.0.1", proxy_port), 0);
  CHECK_EQ(bc_proxy_connect(&c, target, NULL), 200);
  wsc__hs_client_config hs = {.host = target};
  CHECK_EQ(bc_handshake(&c, &hs, NULL), 1);
  uint8_t data[200000];
  fill_binary(data, sizeof data, 9);
  round_trip(&c, WSC__OP_BINARY, data, sizeof data);
  close_normally(&c);
  bc_free(&c);
  CHECK_EQ(peer_wait_line(&proxy, "TUNNEL ", line, sizeof line, WAIT_MS), 1);
  snprintf(want, sizeof want, "TUNNEL 1 %s", target);
  CHECK_STR(line, want);
  peer_stop(&proxy);
  peer_stop(&ws);
}

TEST(proxy_auth_and_refusals) {
  peer_proc ws, proxy;
  bclient c;
  int ws_port = start_ws(&ws, PEER_NODE, (const char *const[]){"--mode", "echo", NULL});
  int proxy_port = peer_start_py(&proxy, "connect_proxy.py", "--auth", "user:pass", NULL);
  CHECK_INT(proxy_port, >, 0);
  char target[64], line[256];
  snprintf(target, sizeof target, "127.0.0.1:%d", ws_port);

  const char *bad[] = {NULL, "user:wrong"};
  for (int i = 0; i < 2; i++) {
    CHECK_EQ(bc_connect(&c, "127.0.0.1", proxy_port), 0);
    CHECK_EQ(bc_proxy_connect(&c, target, bad[i]), 407);
    bc_free(&c);
    CHECK_EQ(peer_wait_line(&proxy, "REFUSED ", line, sizeof line, WAIT_MS), 1);
    CHECK(strncmp(line, "REFUSED 407", 11) == 0);
  }
  /* only loopback targets (refused before any connection attempt) */
  const char *remote[] = {"192.0.2.1:80", "example.com:443"};
  for (int i = 0; i < 2; i++) {
    CHECK_EQ(bc_connect(&c, "127.0.0.1", proxy_port), 0);
    CHECK_EQ(bc_proxy_connect(&c, remote[i], "user:pass"), 403);
    bc_free(&c);
    CHECK_EQ(peer_wait_line(&proxy, "REFUSED ", line, sizeof line, WAIT_MS), 1);
    CHECK(strncmp(line, "REFUSED 403", 11) == 0);
  }
  CHECK_EQ(bc_connect(&c, "127.0.0.1", proxy_port), 0);
  CHECK_EQ(bc_proxy_connect(&c, target, "user:pass"), 200);
  wsc__hs_client_config hs = {.host = target};
  CHECK_EQ(bc_handshake(&c, &hs, NULL), 1);
  round_trip(&c, WSC__OP_TEXT, (const uint8_t *)"via proxy", 9);
  close_normally(&c);
  bc_free(&c);
  CHECK_EQ(peer_wait_line(&proxy, "TUNNEL ", line, sizeof line, WAIT_MS), 1);
  CHECK(strncmp(line, "TUNNEL 1 ", 9) == 0);
  peer_stop(&proxy);
  peer_stop(&ws);
}
