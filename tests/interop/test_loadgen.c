/* test_loadgen.c - smoke checks of the benchmark load generator
 * (build/bench/wsc-loadgen) against the Node ws peer: it completes echo
 * round trips with every byte verified, and it reports failure when the
 * server misbehaves. No timing is asserted.
 *
 * wsc-loadgen exists only when the tree is configured with WSC_BENCH=ON; when
 * it is missing these tests print a skip message and pass. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "spawn.h"
#include "test.h"

#define LOADGEN WSC_BINARY_DIR "/bench/wsc-loadgen"

/* 1 if the load generator was built; otherwise prints why the test is
 * skipped and returns 0. */
static int have_loadgen(void) {
  if (access(LOADGEN, X_OK) == 0) return 1;
  printf("SKIP: %s not built (configure with -DWSC_BENCH=ON)\n", LOADGEN);
  return 0;
}

/* Run the load generator with args (after the port) against port; its
 * RESULT line goes to result (empty if none). Returns its exit status, or
 * -1 if it did not exit normally. */
static int run_loadgen(int port, const char *args, char *result, size_t size) {
  char cmd[512];
  snprintf(cmd, sizeof cmd, "'%s' %s -p %d 2>&1", LOADGEN, args, port);
  FILE *f = popen(cmd, "r");
  CHECK(f != NULL);
  char line[1024];
  result[0] = '\0';
  while (fgets(line, sizeof line, f)) {
    fputs(line, stdout); /* shown by ctest --output-on-failure */
    if (strncmp(line, "RESULT ", 7) == 0) snprintf(result, size, "%s", line);
  }
  int st = pclose(f);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The unsigned value of " key=" in a RESULT line, or -1 if absent. */
static long long result_field(const char *result, const char *key) {
  char pat[64];
  snprintf(pat, sizeof pat, " %s=", key);
  const char *p = strstr(result, pat);
  if (!p) return -1;
  return strtoll(p + strlen(pat), NULL, 10);
}

TEST(loadgen_echo_node) {
  if (!have_loadgen()) return;
  peer_proc p;
  int port = peer_start_node(&p, "node_server.js", "--mode", "echo", NULL);
  CHECK_INT(port, >, 0);
  char result[1024];
  int rc = run_loadgen(port, "echo -c 4 -k 2 -s 100 -d 1 -w 0.2", result, sizeof result);
  CHECK_EQ(rc, 0);
  CHECK(strstr(result, "mode=echo") != NULL);
  CHECK_INT(result_field(result, "msgs"), >, 0);
  CHECK_EQ(result_field(result, "errors"), 0);

  /* Multi-byte UTF-8 text over 64 KiB (the 8-byte length form). */
  rc = run_loadgen(port, "echo -c 2 -k 2 -s 70000 --utf8 -d 0.5 -w 0.1", result, sizeof result);
  CHECK_EQ(rc, 0);
  CHECK_INT(result_field(result, "msgs"), >, 0);
  CHECK_EQ(result_field(result, "errors"), 0);
  peer_stop(&p);
}

/* A server that drops the connection after the first message: the
 * generator must notice and exit non-zero, not report a clean run. */
TEST(loadgen_reports_broken_server) {
  if (!have_loadgen()) return;
  peer_proc p;
  int port = peer_start_node(&p, "node_server.js", "--mode", "drop", NULL);
  CHECK_INT(port, >, 0);
  char result[1024];
  int rc = run_loadgen(port, "echo -c 2 -k 1 -s 32 -d 0.3 -w 0.1", result, sizeof result);
  CHECK_INT(rc, !=, 0);
  CHECK_INT(result_field(result, "errors"), >, 0);
  peer_stop(&p);
}

/* --deflate against Python websockets with compression on (its defaults:
 * 12-bit windows, which the generator must honour for its own compressor),
 * both takeover modes: messages compressed, echoes inflated and verified,
 * compression ratios reported and plausible for the JSON payload. */
TEST(loadgen_deflate_python) {
  if (!have_loadgen()) return;
  peer_proc p;
  int port = peer_start_py(&p, "py_server.py", "--mode", "echo", "--deflate", NULL);
  CHECK_INT(port, >, 0);
  static const char *const modes[] = {"takeover", "no-takeover"};
  for (int i = 0; i < 2; i++) {
    char args[256], result[1024];
    snprintf(args, sizeof args,
             "echo -c 3 -k 2 -s 4096 --payload json --deflate %s -d 0.5 -w 0.1", modes[i]);
    int rc = run_loadgen(port, args, result, sizeof result);
    CHECK_EQ(rc, 0);
    char want[64];
    snprintf(want, sizeof want, " deflate=%s ", modes[i]);
    CHECK(strstr(result, want) != NULL);
    CHECK_INT(result_field(result, "msgs"), >, 0);
    CHECK_EQ(result_field(result, "errors"), 0);
    /* tx_ratio=N.NN: the integer part; JSON records compress at least 2x */
    CHECK_INT(result_field(result, "tx_ratio"), >=, 2);
    CHECK_INT(result_field(result, "rx_ratio"), >=, 2);
  }
  /* A message over 64 KiB (several inflate steps per echo) and the idle
   * mode's one compressed exchange per connection. */
  char result[1024];
  int rc = run_loadgen(port, "echo -c 2 -k 2 -s 70000 --payload json --deflate -d 0.3 -w 0.1",
                       result, sizeof result);
  CHECK_EQ(rc, 0);
  CHECK_EQ(result_field(result, "errors"), 0);
  rc = run_loadgen(port, "idle -c 20 --hold 0.1 -s 4096 --payload json --deflate no-takeover",
                   result, sizeof result);
  CHECK_EQ(rc, 0);
  CHECK(strstr(result, " deflate=no-takeover ") != NULL);
  CHECK_EQ(result_field(result, "held"), 20);
  CHECK_EQ(result_field(result, "errors"), 0);
  peer_stop(&p);
}

/* A server that does not accept permessage-deflate: the run must fail
 * loudly, not measure uncompressed traffic. */
TEST(loadgen_deflate_refused) {
  if (!have_loadgen()) return;
  peer_proc p;
  int port = peer_start_py(&p, "py_server.py", "--mode", "echo", "--no-deflate", NULL);
  CHECK_INT(port, >, 0);
  char result[1024];
  int rc = run_loadgen(port, "echo -c 2 -k 1 -s 4096 --payload json --deflate -d 0.3 -w 0.1",
                       result, sizeof result);
  CHECK_INT(rc, !=, 0);
  CHECK_INT(result_field(result, "errors"), >, 0);
  CHECK_EQ(result_field(result, "msgs"), 0);
  rc = run_loadgen(port, "idle -c 2 --hold 0.1 --deflate", result, sizeof result);
  CHECK_INT(rc, !=, 0);
  CHECK_INT(result_field(result, "errors"), >, 0);
  peer_stop(&p);
}
