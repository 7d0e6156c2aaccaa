/* test_autobahn_agent.c - the Autobahn-style conformance run
 * (tests/conformance/fuzzer.py) as interop tests:
 *   - the `wsc autobahn` client agent through the whole case list against
 *     the fuzzer's server mode: no case may FAIL;
 *   - the fuzzer's client mode against Node ws and Python websockets echo
 *     servers, which validates the fuzzer itself (no false FAILED);
 *   - and the fuzzer catching broken peers in both modes (a server that
 *     masks its frames, a client that does not), so a fuzzer that passes
 *     everything would fail here. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "spawn.h"
#include "test.h"

#define FUZZER WSC_SOURCE_DIR "/tests/conformance/fuzzer.py"
#define RUN_TIMEOUT_MS 50000

/* The wsc binary under test: $WSC_TEST_WSC or the one this build made. */
static const char *wsc_binary(void) {
  const char *e = getenv("WSC_TEST_WSC");
  return e && *e ? e : WSC_BINARY_DIR "/wsc";
}

/* Run argv[0] (a path) with argv and wait up to timeout_ms. Returns its exit
 * status, 128 + signal if killed by one, or -1 if it could not be started or
 * had to be killed at the deadline. */
static int run_wait(const char *const argv[], int timeout_ms) {
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    execv(argv[0], (char *const *)argv);
    fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
    _exit(127);
  }
  long long deadline = peer_now_ms() + timeout_ms;
  int status;
  for (;;) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) return -1;
    if (peer_now_ms() >= deadline) {
      fprintf(stderr, "%s: still running after %d ms, killed\n", argv[0], timeout_ms);
      kill(pid, SIGKILL);
      while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      return -1;
    }
    usleep(20000);
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1;
}

/* The whole file as a NUL-terminated string (malloc'd), or NULL. */
static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 1 << 16, len = 0;
  char *buf = malloc(cap);
  while (buf) {
    size_t n = fread(buf + len, 1, cap - len - 1, f);
    len += n;
    if (n == 0) break;
    if (cap - len - 1 == 0) {
      if (cap >= (64u << 20)) break; /* reports are far smaller */
      char *nb = realloc(buf, cap * 2);
      if (!nb) {
        free(buf);
        buf = NULL;
        break;
      }
      buf = nb;
      cap *= 2;
    }
  }
  fclose(f);
  if (buf) buf[len] = 0;
  return buf;
}

/* How many times needle occurs in s. */
static int count_of(const char *s, const char *needle) {
  int n = 0;
  size_t k = strlen(needle);
  for (const char *p = strstr(s, needle); p; p = strstr(p + k, needle)) n++;
  return n;
}

/* The integer after `"key": ` in s, or -1. */
static long json_int(const char *s, const char *key) {
  char pat[64];
  snprintf(pat, sizeof pat, "\"%s\": ", key);
  const char *p = strstr(s, pat);
  if (!p) return -1;
  char *end;
  long v = strtol(p + strlen(pat), &end, 10);
  return end == p + strlen(pat) ? -1 : v;
}

/* Print every case whose verdict is FAILED, with its notes (for the log). */
static void show_failed(const char *report) {
  const char *p = report;
  while ((p = strstr(p, "\"verdict\": \"FAILED\""))) {
    const char *id = p;
    while (id > report && strncmp(id, "\"id\": ", 6) != 0) id--;
    const char *notes = strstr(p, "\"notes\"");
    const char *end = notes ? strchr(notes, ']') : NULL;
    fprintf(stderr, "  FAILED %.*s ... %.*s\n", (int)(strchr(id, ',') ? strchr(id, ',') - id : 0),
            id, end ? (int)(end - notes + 1) : 0, notes ? notes : "");
    p += 10;
  }
}

/* Check a report: every case of the list ran and none FAILED. Returns the
 * number of cases. */
static long check_report(const char *path) {
  char *r = slurp(path);
  if (!r) wsc_test_fail(__FILE__, __LINE__, "no report at %s", path);
  long total = json_int(r, "cases_total");
  int verdicts = count_of(r, "\"verdict\": ");
  int failed = count_of(r, "\"verdict\": \"FAILED\"");
  int nonstrict = count_of(r, "\"verdict\": \"NON-STRICT\"");
  fprintf(stderr, "%s: %d cases, %d FAILED, %d NON-STRICT\n", path, verdicts, failed, nonstrict);
  if (failed) show_failed(r);
  free(r);
  CHECK_INT(total, >=, 300); /* the full list, not a subset */
  CHECK_EQ(verdicts, total);
  CHECK_EQ(failed, 0);
  return total;
}

/* Start the fuzzing server with its reports in dir and extra arguments. */
static int start_fuzzer_server(peer_proc *p, const char *dir, const char *cases) {
  const char *argv[16];
  int n = 0;
  argv[n++] = peer_python();
  argv[n++] = FUZZER;
  argv[n++] = "server";
  argv[n++] = "--port";
  argv[n++] = "0";
  argv[n++] = "--report";
  argv[n++] = dir;
  argv[n++] = "--quiet"; /* nobody reads CASE lines from the pipe */
  argv[n++] = "--max-seconds";
  argv[n++] = "120";
  if (cases) {
    argv[n++] = "--cases";
    argv[n++] = cases;
  }
  argv[n] = NULL;
  return peer_start(p, argv);
}

TEST(autobahn_wsc_client_all_cases) {
  char dir[256], url[64], line[256], path[300];
  CHECK_EQ(peer_tmpdir(dir, sizeof dir), 0);
  peer_proc p;
  int port = start_fuzzer_server(&p, dir, NULL);
  CHECK_INT(port, >, 0);
  snprintf(url, sizeof url, "ws://127.0.0.1:%d", port);
  const char *argv[] = {wsc_binary(), "autobahn", url, "--agent", "wsc", "--quiet",
                        "--case-timeout", "40", NULL};
  CHECK_EQ(run_wait(argv, RUN_TIMEOUT_MS), 0);
  CHECK_EQ(peer_wait_line(&p, "SUMMARY", line, sizeof line, 10000), 1);
  fprintf(stderr, "%s\n", line);
  snprintf(path, sizeof path, "%s/wsc.json", dir);
  check_report(path);
  peer_stop(&p);
}

/* The agent exits non-zero with a message when the server is not a fuzzing
 * server (getCaseCount gives no count). */
TEST(autobahn_wsc_client_no_case_count) {
  peer_proc p;
  char url[64];
  int port = peer_start_py(&p, "py_server.py", "--mode", "echo", NULL);
  CHECK_INT(port, >, 0);
  snprintf(url, sizeof url, "ws://127.0.0.1:%d/", port);
  const char *argv[] = {wsc_binary(), "autobahn", url, "--case-timeout", "2", NULL};
  CHECK_EQ(run_wait(argv, 20000), 1);
  peer_stop(&p);
}

/* Run the fuzzer's client mode against ws://127.0.0.1:port; returns its
 * exit status and leaves the report at path. */
static int fuzz_server(int port, const char *path, const char *agent, const char *cases) {
  char url[64];
  snprintf(url, sizeof url, "ws://127.0.0.1:%d/", port);
  const char *argv[] = {peer_python(), FUZZER, "client", url, "--report", path, "--agent", agent,
                        "--quiet", "--max-seconds", "45", cases ? "--cases" : NULL, cases, NULL};
  return run_wait(argv, RUN_TIMEOUT_MS);
}

TEST(autobahn_fuzzer_vs_node_ws) {
  char dir[256], path[300];
  CHECK_EQ(peer_tmpdir(dir, sizeof dir), 0);
  snprintf(path, sizeof path, "%s/node.json", dir);
  peer_proc p;
  int port = peer_start_node(&p, "node_server.js", "--mode", "echo", NULL);
  CHECK_INT(port, >, 0);
  CHECK_EQ(fuzz_server(port, path, "node-ws", NULL), 0);
  check_report(path);
  peer_stop(&p);
}

TEST(autobahn_fuzzer_vs_python_websockets) {
  char dir[256], path[300];
  CHECK_EQ(peer_tmpdir(dir, sizeof dir), 0);
  snprintf(path, sizeof path, "%s/python.json", dir);
  peer_proc p;
  int port = peer_start_py(&p, "py_server.py", "--mode", "echo", "--no-deflate", NULL);
  CHECK_INT(port, >, 0);
  CHECK_EQ(fuzz_server(port, path, "python-websockets", NULL), 0);
  check_report(path);
  peer_stop(&p);
}

/* A server that masks its frames (evil_server masked-frames) FAILS a case:
 * the fuzzer's client mode exits 1 and says why. */
TEST(autobahn_fuzzer_fails_masking_server) {
  char dir[256], path[300];
  CHECK_EQ(peer_tmpdir(dir, sizeof dir), 0);
  snprintf(path, sizeof path, "%s/evil.json", dir);
  peer_proc p;
  int port = peer_start_py(&p, "evil_server.py", "--mode", "masked-frames", NULL);
  CHECK_INT(port, >, 0);
  CHECK_EQ(fuzz_server(port, path, "evil", "1.1.1"), 1);
  char *r = slurp(path);
  CHECK(r != NULL);
  CHECK_EQ(count_of(r, "\"verdict\": \"FAILED\""), 1);
  CHECK(strstr(r, "server sent a masked frame") != NULL);
  free(r);
  peer_stop(&p);
}

/* Connect to 127.0.0.1:port, upgrade on path; returns the socket (receive
 * timeout 10 s) with the 101 head consumed, or -1. */
static int raw_upgrade(int port, const char *path) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {0};
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  struct timeval tv = {10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) goto bad;
  char req[512];
  int n = snprintf(req, sizeof req,
                   "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                   "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                   "Sec-WebSocket-Version: 13\r\n\r\n", path, port);
  if (write(fd, req, (size_t)n) != n) goto bad;
  char head[1024];
  size_t have = 0;
  while (have < sizeof head - 1) { /* byte by byte: leave the frames unread */
    if (read(fd, head + have, 1) != 1) goto bad;
    have++;
    head[have] = 0;
    if (have >= 4 && memcmp(head + have - 4, "\r\n\r\n", 4) == 0)
      return strncmp(head, "HTTP/1.1 101", 12) == 0 ? fd : (close(fd), -1);
  }
bad:
  close(fd);
  return -1;
}

/* Send a masked empty Close, then read until the peer closes TCP (bounded
 * by the receive timeout). */
static void drain(int fd) {
  char buf[4096];
  ssize_t w = write(fd, "\x88\x80\x00\x00\x00\x00", 6); /* the peer may be gone */
  (void)w;
  for (int i = 0; i < 1000 && read(fd, buf, sizeof buf) > 0; i++) {
  }
  close(fd);
}

/* A client that does not mask its frames FAILS: the fuzzer's server mode
 * reports it. */
TEST(autobahn_fuzzer_fails_unmasked_client) {
  char dir[256], path[300], line[256];
  CHECK_EQ(peer_tmpdir(dir, sizeof dir), 0);
  peer_proc p;
  int port = start_fuzzer_server(&p, dir, "1.1.2");
  CHECK_INT(port, >, 0);
  int fd = raw_upgrade(port, "/runCase?case=1&agent=bad");
  CHECK(fd >= 0);
  /* the case sends 125 '*'; echo them unmasked (drain sends the Close) */
  uint8_t frame[2 + 125];
  frame[0] = 0x81;
  frame[1] = 125;
  memset(frame + 2, '*', 125);
  CHECK_EQ(write(fd, frame, sizeof frame), (ssize_t)sizeof frame);
  drain(fd);
  fd = raw_upgrade(port, "/updateReports?agent=bad");
  CHECK(fd >= 0);
  CHECK_EQ(peer_wait_line(&p, "SUMMARY", line, sizeof line, 10000), 1);
  CHECK(strstr(line, "FAILED=1") != NULL);
  drain(fd);
  snprintf(path, sizeof path, "%s/bad.json", dir);
  char *r = slurp(path);
  CHECK(r != NULL);
  CHECK(strstr(r, "client sent an unmasked frame") != NULL);
  free(r);
  peer_stop(&p);
}

/* `wsc autobahn --deflate` through the permessage-deflate sections (12, 13)
 * of the fuzzing server: every case runs with the extension in force (the
 * agent's offer allows every parameter set: no UNIMPLEMENTED) and none
 * FAILS: echoes inflate byte for byte with the agreed window and context
 * rules in both directions. */
TEST(autobahn_wsc_client_deflate) {
  char dir[256], url[64], line[256], path[300];
  CHECK_EQ(peer_tmpdir(dir, sizeof dir), 0);
  peer_proc p;
  int port = start_fuzzer_server(&p, dir, "12.*,13.*");
  CHECK_INT(port, >, 0);
  snprintf(url, sizeof url, "ws://127.0.0.1:%d", port);
  const char *argv[] = {wsc_binary(), "autobahn", url, "--agent", "wsc-deflate", "--deflate",
                        "--quiet", "--case-timeout", "40", NULL};
  CHECK_EQ(run_wait(argv, 100000), 0);
  CHECK_EQ(peer_wait_line(&p, "SUMMARY", line, sizeof line, 10000), 1);
  fprintf(stderr, "%s\n", line);
  CHECK(strstr(line, " run=216 ") != NULL);
  CHECK(strstr(line, " FAILED=0 ") != NULL);
  CHECK(strstr(line, " UNIMPLEMENTED=0 ") != NULL);
  CHECK(strstr(line, " missing=0") != NULL);
  snprintf(path, sizeof path, "%s/wsc-deflate.json", dir);
  char *r = slurp(path);
  CHECK(r != NULL);
  if (strstr(r, "\"verdict\": \"FAILED\"")) show_failed(r);
  CHECK_EQ(count_of(r, "\"agreed\": \"permessage-deflate"), 216);
  free(r);
  peer_stop(&p);
}
