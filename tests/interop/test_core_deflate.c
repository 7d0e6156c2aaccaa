/* test_core_deflate.c - permessage-deflate in the sans-I/O core against real
 * peers: Python's websockets (py_server.py) and Node's ws (node_server.js),
 * each with every parameter combination it supports. For each: the exact
 * negotiated Sec-WebSocket-Extensions and agreement, then echoes of text and
 * binary messages of several sizes (over 64 KiB included), compressible and
 * incompressible, whole and in fragments; compressible data must really
 * travel compressed both ways (bytes on the wire), so a peer or a conn that
 * silently stopped compressing fails the test. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bclient.h"
#include "proto/deflate.h"
#include "spawn.h"
#include "test.h"
#include "wsc.h"

#define KIB 1024
#define MIB (1024 * 1024)
#define WAIT_MS 20000

typedef struct combo {
  peer_lang lang;
  const char *const *args; /* server arguments after --mode echo */
  wsc__pmd_offer offer;
  const char *want_ext;    /* the exact response value */
  wsc__pmd_params want;    /* the agreement */
} combo;

static void fill_text(uint8_t *p, size_t n, uint32_t seed) {
  /* compressible UTF-8: words from a small vocabulary, 1- to 4-byte chars */
  static const char *const words[] = {"hello ", "w\xc3\xb6rld ", "\xe2\x82\xac ", "data ",
                                      "\xf0\x9d\x84\x9e ", "deflate ", "\xd0\x96 ", "x "};
  uint32_t x = seed * 2654435761u + 7;
  size_t i = 0;
  while (i < n) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    const char *w = words[x % 8];
    size_t len = strlen(w);
    if (len > n - i) w = "y", len = 1;
    memcpy(p + i, w, len);
    i += len;
  }
}

static void fill_random(uint8_t *p, size_t n, uint32_t seed) {
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    p[i] = (uint8_t)x;
  }
}

/* Send a message (whole, or in three fragments) and expect it back; returns
 * the bytes that crossed the wire each way in *sent / *received. */
static void echo(bclient *c, unsigned op, const uint8_t *data, size_t n, int fragments,
                 size_t *sent, size_t *received) {
  size_t s0 = c->bytes_sent, r0 = c->bytes_received;
  if (fragments && n >= 3) {
    CHECK_EQ(wsc__conn_send_fragment(&c->conn, op, data, n / 3, 0), 0);
    CHECK_EQ(wsc__conn_send_fragment(&c->conn, op, data + n / 3, n / 3, 0), 0);
    CHECK_EQ(wsc__conn_send_fragment(&c->conn, op, data + 2 * (n / 3), n - 2 * (n / 3), 1), 0);
  } else {
    CHECK_EQ(wsc__conn_send(&c->conn, op, data, n), 0);
  }
  int rc = bc_next(c, WAIT_MS);
  if (rc != BC_MESSAGE)
    fprintf(stderr, "size %zu: bc_next = %d (%s), conn error: %s\n", n, rc, wsc_err_name(rc),
            c->conn.error_msg ? c->conn.error_msg : "-");
  CHECK_EQ(rc, BC_MESSAGE);
  CHECK_EQ(c->msg_op, op);
  CHECK_EQ(c->msg.len, n);
  if (n) CHECK_MEM(c->msg.data, data, n);
  if (sent) *sent = c->bytes_sent - s0;
  if (received) *received = c->bytes_received - r0;
}

static void run_combo(const combo *k) {
  const char *args[16] = {"--mode", "echo"};
  size_t na = 2;
  for (size_t i = 0; k->args && k->args[i]; i++) args[na++] = k->args[i];
  args[na] = NULL;
  peer_proc p;
  int port = peer_start_script(&p, k->lang, k->lang == PEER_NODE ? "node_server.js" : "py_server.py",
                               args);
  CHECK_INT(port, >, 0);
  bclient c;
  CHECK_EQ(bc_connect(&c, "127.0.0.1", port), 0);
  char host[64];
  snprintf(host, sizeof host, "127.0.0.1:%d", port);
  wsc__hs_client_config hs = {0};
  hs.host = host;
  int rc = bc_handshake_deflate(&c, &hs, NULL, &k->offer, 0);
  if (rc != 1) fprintf(stderr, "handshake %d %s: %s\n", rc, wsc_err_name(rc), c.pmd_why ? c.pmd_why : c.hs.error);
  CHECK_EQ(rc, 1);
  if (strcmp(c.hs.extensions, k->want_ext) != 0)
    wsc_test_fail(__FILE__, __LINE__, "negotiated \"%s\", expected \"%s\"", c.hs.extensions,
                  k->want_ext);
  CHECK_EQ(c.pmd_accepted, 1);
  CHECK_MEM(&c.pmd, &k->want, sizeof c.pmd);

  uint8_t *data = malloc(2 * MIB);
  CHECK(data);
  static const size_t text_sizes[] = {0, 1, 125, 1000, 65537, 300000, 1 * MIB};
  size_t sent, received;
  for (size_t i = 0; i < sizeof text_sizes / sizeof text_sizes[0]; i++) {
    size_t n = text_sizes[i];
    fill_text(data, n, (uint32_t)i);
    echo(&c, WSC__OP_TEXT, data, n, 0, &sent, &received);
    if (n >= 65537) { /* it went compressed both ways */
      CHECK_INT(sent, <, n / 2);
      CHECK_INT(received, <, n / 2);
    }
    echo(&c, WSC__OP_TEXT, data, n, 1, NULL, NULL); /* in fragments */
  }
  static const size_t bin_sizes[] = {1, 1000, 70000, 1 * MIB + 3};
  for (size_t i = 0; i < sizeof bin_sizes / sizeof bin_sizes[0]; i++) {
    size_t n = bin_sizes[i];
    fill_random(data, n, (uint32_t)i + 11); /* incompressible */
    echo(&c, WSC__OP_BINARY, data, n, 0, &sent, &received);
    if (n >= 1000) { /* and barely grew */
      CHECK_INT(sent, <, n + n / 40 + 64);
      CHECK_INT(received, <, n + n / 40 + 64);
    }
    echo(&c, WSC__OP_BINARY, data, n, 1, NULL, NULL);
    memset(data, (int)i, n); /* very compressible */
    echo(&c, WSC__OP_BINARY, data, n, 0, &sent, &received);
    if (n >= 70000) {
      CHECK_INT(sent, <, n / 20);
      CHECK_INT(received, <, n / 20);
    }
  }
  free(data);
  /* memory the conn keeps between messages matches the agreement */
  size_t held = wsc__conn_deflate_memory(&c.conn, NULL);
  if (c.pmd.client_no_context_takeover && c.pmd.server_no_context_takeover) CHECK_EQ(held, 0);
  else CHECK_INT(held, >, 0);

  CHECK_EQ(wsc__conn_close(&c.conn, 1000, "done", 4), 0);
  CHECK_EQ(bc_next(&c, WAIT_MS), BC_CLOSE);
  CHECK_EQ(c.close_code, 1000);
  bc_free(&c);
  peer_stop(&p);
}

/* ---- Python websockets 10.4 ------------------------------------------------ */

TEST(py_deflate_default_server) {
  /* websockets' default server factory: 12-bit windows both ways, memLevel 5 */
  combo k = {PEER_PYTHON, NULL, {0, 0, 0, WSC__PMD_CMWB_ANY},
             "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12",
             {0, 0, 12, 12}};
  run_combo(&k);
}

TEST(py_deflate_server_no_context_takeover_both) {
  combo k = {PEER_PYTHON,
             (const char *const[]){"--deflate-server-no-context-takeover",
                                   "--deflate-client-no-context-takeover", NULL},
             {0, 0, 0, WSC__PMD_CMWB_ANY},
             "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
             {1, 1, 15, 15}};
  run_combo(&k);
}

TEST(py_deflate_client_asks_no_context_takeover) {
  combo k = {PEER_PYTHON, (const char *const[]){"--deflate-server-max-window-bits", "15", NULL},
             {1, 1, 0, WSC__PMD_CMWB_ABSENT},
             "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
             "server_max_window_bits=15",
             {1, 1, 15, 15}};
  run_combo(&k);
}

TEST(py_deflate_client_asks_small_windows) {
  combo k = {PEER_PYTHON, (const char *const[]){"--deflate-server-max-window-bits", "15", NULL},
             {0, 0, 9, 10},
             "permessage-deflate; server_max_window_bits=9; client_max_window_bits=10",
             {0, 0, 9, 10}};
  run_combo(&k);
}

TEST(py_deflate_server_limits_windows) {
  combo k = {PEER_PYTHON,
             (const char *const[]){"--deflate-server-max-window-bits", "10",
                                   "--deflate-client-max-window-bits", "11", NULL},
             {0, 0, 0, WSC__PMD_CMWB_ANY},
             "permessage-deflate; server_max_window_bits=10; client_max_window_bits=11",
             {0, 0, 10, 11}};
  run_combo(&k);
}

/* ---- Node ws 8 --------------------------------------------------------------- */

TEST(node_deflate_default_threshold_0) {
  combo k = {PEER_NODE, (const char *const[]){"--deflate-options", "{\"threshold\":0}", NULL},
             {0, 0, 0, WSC__PMD_CMWB_ANY}, "permessage-deflate", {0, 0, 15, 15}};
  run_combo(&k);
}

TEST(node_deflate_default_threshold_1024) {
  /* ws's default: messages under 1 KiB come back uncompressed (no RSV1) */
  combo k = {PEER_NODE, (const char *const[]){"--deflate", NULL},
             {0, 0, 0, WSC__PMD_CMWB_ANY}, "permessage-deflate", {0, 0, 15, 15}};
  run_combo(&k);
}

TEST(node_deflate_no_context_takeover_both) {
  combo k = {PEER_NODE,
             (const char *const[]){"--deflate-options",
                                   "{\"threshold\":0,\"serverNoContextTakeover\":true,"
                                   "\"clientNoContextTakeover\":true}", NULL},
             {0, 0, 0, WSC__PMD_CMWB_ANY},
             "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
             {1, 1, 15, 15}};
  run_combo(&k);
}

TEST(node_deflate_client_asks_everything) {
  combo k = {PEER_NODE, (const char *const[]){"--deflate-options", "{\"threshold\":0}", NULL},
             {1, 1, 10, 9},
             "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
             "server_max_window_bits=10; client_max_window_bits=9",
             {1, 1, 10, 9}};
  run_combo(&k);
}

TEST(node_deflate_server_limits_windows) {
  combo k = {PEER_NODE,
             (const char *const[]){"--deflate-options",
                                   "{\"threshold\":0,\"serverMaxWindowBits\":11,"
                                   "\"clientMaxWindowBits\":10}", NULL},
             {0, 0, 0, WSC__PMD_CMWB_ANY},
             "permessage-deflate; client_max_window_bits=10; server_max_window_bits=11",
             {0, 0, 11, 10}};
  run_combo(&k);
}

TEST(node_deflate_windows_8) {
  /* 8-bit windows: our compressor runs zlib at 9 bits, which never reaches
   * back more than 250 bytes, so a peer inflating with 256 bytes copes */
  combo k = {PEER_NODE, (const char *const[]){"--deflate-options", "{\"threshold\":0}", NULL},
             {0, 0, 8, 8}, "permessage-deflate; server_max_window_bits=8; client_max_window_bits=8",
             {0, 0, 8, 8}};
  run_combo(&k);
}
