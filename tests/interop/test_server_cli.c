/* test_server_cli.c - `wsc echo` as a process: it prints its address, echoes
 * for Python and Node clients, exits 0 on SIGTERM with its clients told 1001,
 * and passes every case of the Autobahn-style fuzzer
 * (tests/conformance/fuzzer.py client). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spawn.h"
#include "srvharness.h"
#include "test.h"

/* Start `wsc echo --listen 127.0.0.1:0` plus up to 4 extra arguments (NULL
 * terminated, may be NULL); the port from its first line. */
static sh_proc *start_echo_with(sh_ctx *t, int *port, const char *const *extra) {
  const char *argv[10] = {WSC_BINARY_DIR "/wsc", "echo", "--listen", "127.0.0.1:0"};
  int n = 4;
  for (int i = 0; extra && extra[i] && n < 8; i++) argv[n++] = extra[i];
  argv[n] = NULL;
  sh_proc *e = sh_spawn(t, argv);
  sh_wait_line(t, e, "listening on ", 10);
  const char *line = sh_line(e, "listening on 127.0.0.1:");
  if (!line) sh_fail_dump(t, __FILE__, __LINE__, "wsc echo printed no IPv4 address");
  char *end;
  long p = strtol(line + strlen("listening on 127.0.0.1:"), &end, 10);
  CHECK(*end == 0 && p > 0 && p < 65536);
  *port = (int)p;
  return e;
}

static sh_proc *start_echo(sh_ctx *t, int *port) { return start_echo_with(t, port, NULL); }

TEST(server_wsc_echo_process) {
  sh_ctx c, *t = &c;
  sh_init(t, NULL); /* the in-process server stays idle: the loop runs the clients */
  int port;
  sh_proc *echo = start_echo(t, &port);
  char url[128];
  snprintf(url, sizeof url, "ws://127.0.0.1:%d/", port);
  const char *sizes = "0,1,125,65536,1048576";
  sh_proc *py = sh_py(t, "py_client.py", url, "--mode", "echo", "--sizes", sizes, NULL);
  sh_proc *node = sh_node(t, "node_client.js", url, "--mode", "fragment", "--sizes", "1000,70000",
                          NULL);
  sh_wait_ok(t, py, 30);
  sh_wait_ok(t, node, 30);
  SH_HAS_LINE(py, "ECHO text 1048576 ok");
  SH_HAS_LINE(py, "ECHO binary 1048576 ok");
  SH_HAS_LINE(node, "FRAG text 70000 ok");
  /* clients still connected when SIGTERM comes are told 1001 */
  sh_proc *w1 = sh_py(t, "py_client.py", url, "--mode", "wait-close", NULL);
  sh_proc *w2 = sh_node(t, "node_client.js", url, "--mode", "wait-close", NULL);
  sh_wait_line(t, w1, "OPEN", 20);
  sh_wait_line(t, w2, "OPEN", 20);
  CHECK_EQ(uv_process_kill(&echo->handle, SIGTERM), 0);
  sh_wait_exit(t, echo, 15);
  if (echo->exit_status != 0 || echo->term_signal)
    sh_fail_dump(t, __FILE__, __LINE__, "wsc echo exited with %lld (signal %d)",
                 (long long)echo->exit_status, echo->term_signal);
  sh_wait_ok(t, w1, 10);
  sh_wait_ok(t, w2, 10);
  SH_HAS_LINE(w1, "CLOSED 1001 server shutting down");
  SH_HAS_LINE(w2, "CLOSED 1001 server shutting down");
  sh_finish(t);
}

TEST(server_wsc_echo_fuzzer) {
  sh_ctx c, *t = &c;
  sh_init(t, NULL);
  int port;
  sh_proc *echo = start_echo(t, &port);
  char url[128], dir[256], report[300], fuzzer[512];
  snprintf(url, sizeof url, "ws://127.0.0.1:%d", port);
  CHECK_EQ(peer_tmpdir(dir, sizeof dir), 0);
  snprintf(report, sizeof report, "%s/report.json", dir);
  snprintf(fuzzer, sizeof fuzzer, "%s/tests/conformance/fuzzer.py", WSC_SOURCE_DIR);
  const char *argv[] = {peer_python(), fuzzer,   "client",        url, "--report",
                        report,        "--agent", "wsc-echo-test", "--max-seconds", "50",
                        "--quiet",     NULL};
  sh_proc *f = sh_spawn(t, argv);
  sh_wait_exit(t, f, 55);
  const char *summary = sh_line(f, "SUMMARY ");
  if (!summary || !strstr(summary, " FAILED=0 ") || !strstr(summary, " missing=0") ||
      f->exit_status != 0)
    sh_fail_dump(t, __FILE__, __LINE__, "fuzzer: %s (status %lld); report in %s",
                 summary ? summary : "no SUMMARY line", (long long)f->exit_status, report);
  FILE *r = fopen(report, "r");
  CHECK(r != NULL);
  fclose(r);
  CHECK_EQ(uv_process_kill(&echo->handle, SIGTERM), 0);
  sh_wait_ok(t, echo, 15);
  sh_finish(t);
}

/* ---- permessage-deflate: sections 12 and 13 of the fuzzer ------------------- */

/* The whole file at path (NUL-terminated, malloc'd) or NULL. */
static char *read_all(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 1 << 16, len = 0;
  char *b = malloc(cap);
  for (size_t n; b && (n = fread(b + len, 1, cap - 1 - len, f)) > 0;) {
    len += n;
    if (len + 1 == cap) {
      char *nb = realloc(b, cap *= 2);
      if (!nb) free(b);
      b = nb;
    }
  }
  fclose(f);
  if (b) b[len] = 0;
  return b;
}

/* In the report: how many cases' agreement ("agreed": "...") there are, and
 * how many of them contain want (NULL: any). */
static int agreements(const char *report, const char *want, int *with) {
  int n = 0;
  *with = 0;
  for (const char *p = strstr(report, "\"agreed\": \""); p; p = strstr(p + 1, "\"agreed\": \"")) {
    const char *end = strchr(p, '\n');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    char line[512];
    snprintf(line, sizeof line, "%.*s", (int)(len < sizeof line - 1 ? len : sizeof line - 1), p);
    n++;
    if (!want || strstr(line, want)) ++*with;
  }
  return n;
}

/* Run the fuzzer client's sections 12 and 13 against `wsc echo` started
 * with extra; every case must run with permessage-deflate in force (no
 * UNIMPLEMENTED), none may FAIL, each agreement must contain want and none
 * forbid (NULL: no check). */
static void deflate_fuzz(const char *const *extra, const char *agent, const char *want,
                         const char *forbid) {
  sh_ctx c, *t = &c;
  sh_init(t, NULL);
  int port;
  sh_proc *echo = start_echo_with(t, &port, extra);
  char url[128], dir[256], report[300], fuzzer[512];
  snprintf(url, sizeof url, "ws://127.0.0.1:%d", port);
  CHECK_EQ(peer_tmpdir(dir, sizeof dir), 0);
  snprintf(report, sizeof report, "%s/report.json", dir);
  snprintf(fuzzer, sizeof fuzzer, "%s/tests/conformance/fuzzer.py", WSC_SOURCE_DIR);
  const char *argv[] = {peer_python(), fuzzer,    "client", url,           "--report",
                        report,        "--agent", agent,    "--cases",     "12.*,13.*",
                        "--quiet",     "--max-seconds", "100", NULL};
  sh_proc *f = sh_spawn(t, argv);
  sh_wait_exit(t, f, 110);
  const char *summary = sh_line(f, "SUMMARY ");
  if (!summary || !strstr(summary, " run=216 ") || !strstr(summary, " FAILED=0 ") ||
      !strstr(summary, " UNIMPLEMENTED=0 ") || !strstr(summary, " missing=0") ||
      f->exit_status != 0)
    sh_fail_dump(t, __FILE__, __LINE__, "fuzzer: %s (status %lld); report in %s",
                 summary ? summary : "no SUMMARY line", (long long)f->exit_status, report);
  fprintf(stderr, "%s\n", summary);
  char *r = read_all(report);
  CHECK(r != NULL);
  int with, n = agreements(r, want, &with);
  fprintf(stderr, "%d agreements, %d with %s\n", n, with, want ? want : "(anything)");
  CHECK_EQ(n, 216);
  CHECK_EQ(with, 216);
  if (forbid) {
    agreements(r, forbid, &with);
    CHECK_EQ(with, 0);
  }
  free(r);
  CHECK_EQ(uv_process_kill(&echo->handle, SIGTERM), 0);
  sh_wait_ok(t, echo, 15);
  sh_finish(t);
}

TEST(server_wsc_echo_deflate_fuzzer) {
  const char *extra[] = {"--deflate", NULL};
  deflate_fuzz(extra, "wsc-echo-deflate", "permessage-deflate", NULL);
}

TEST(server_wsc_echo_deflate_no_takeover_fuzzer) {
  const char *extra[] = {"--deflate", "--deflate-no-takeover", NULL};
  deflate_fuzz(extra, "wsc-echo-deflate-nct", "server_no_context_takeover", NULL);
}

TEST(server_wsc_echo_deflate_window9_fuzzer) {
  const char *extra[] = {"--deflate", "--deflate-window", "9", NULL};
  /* 9, or 8 where the fuzzer asks for 8 (13.3, 13.5, 13.7); never 10-15 */
  deflate_fuzz(extra, "wsc-echo-deflate-w9", "server_max_window_bits=",
               "server_max_window_bits=1");
}
