/* test_chat_server.c - `wsc chat` against clients written with Python's
 * websockets (peers/chat_clients.py).
 *
 * Each test runs one scenario of chat_clients.py, which starts
 * `WSC_BINARY_DIR/wsc chat --listen 127.0.0.1:0` itself, prints the server's
 * PORT, drives it with real clients and prints `RESULT ok ...` or
 * `RESULT fail <why>`, then stops the server by PID. The scenario bounds its
 * own time (--timeout); the test waits a little longer for the RESULT line.
 */
#include <stdio.h>
#include <string.h>

#include "spawn.h"
#include "test.h"

#define CHAT_WSC WSC_BINARY_DIR "/wsc"

/* Runs chat_clients.py --mode mode (plus extra arguments, NULL-terminated in
 * extra) with a scenario bound of timeout_s; fails the test unless it
 * reports RESULT ok. */
static void run_scenario(const char *mode, int timeout_s, const char *const *extra) {
  char timeout[16];
  snprintf(timeout, sizeof timeout, "%d", timeout_s);
  const char *args[16] = {"--wsc", CHAT_WSC, "--mode", mode, "--timeout", timeout};
  size_t n = 6;
  for (size_t i = 0; extra && extra[i] && n + 1 < sizeof args / sizeof args[0]; i++)
    args[n++] = extra[i];
  args[n] = NULL;

  peer_proc p;
  memset(&p, 0, sizeof p);
  CHECK_INT(peer_start_script(&p, PEER_PYTHON, "chat_clients.py", args), >, 0);
  char line[1024];
  int rc = peer_wait_line(&p, "RESULT ", line, sizeof line, (timeout_s + 10) * 1000);
  peer_stop(&p);
  if (rc != 1) fprintf(stderr, "chat_clients.py --mode %s: no RESULT line (%d)\n", mode, rc);
  CHECK_EQ(rc, 1);
  fprintf(stderr, "%s\n", line);
  CHECK(strncmp(line, "RESULT ok", 9) == 0);
}

/* Invalid JSON, non-objects, bad field types, binary: an error each to the
 * sender only; its connection stays up. */
TEST(chat_malformed_json) { run_scenario("malformed", 30, NULL); }

/* Unknown "type" values: an error each; the connection stays up. */
TEST(chat_unknown_type) { run_scenario("unknown", 30, NULL); }

/* Exactly 64 KiB passes; 64 KiB + 1 closes that client with 1009. */
TEST(chat_oversize_closes_1009) { run_scenario("oversize", 30, NULL); }

/* A smaller --max-message is enforced the same way. */
TEST(chat_oversize_custom_limit) {
  const char *extra[] = {"--max-message", "1000", NULL};
  run_scenario("oversize", 30, extra);
}

/* The same name three times: alice, alice2, alice3 (rejectusername);
 * renames and leaves update everyone's user list. */
TEST(chat_duplicate_names_renamed) { run_scenario("rename", 30, NULL); }

/* HTML tags are stripped from messages and names. */
TEST(chat_html_stripped) { run_scenario("html", 30, NULL); }

/* Subprotocol json chosen, no-offer and "/" accepted, other paths 404, the
 * page served at /. */
TEST(chat_endpoints) { run_scenario("endpoints", 30, NULL); }

/* 200 clients x 50 numbered messages: every client receives all 10,000, in
 * order per sender. */
TEST(chat_fanout_200x50) { run_scenario("fanout", 160, NULL); }

/* SIGTERM: every client gets close 1001, the server exits 0. */
TEST(chat_graceful_shutdown) { run_scenario("shutdown", 30, NULL); }
