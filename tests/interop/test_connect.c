/* test_connect.c - `wsc connect` as users run it: the built binary as a child
 * with pipes, against Python websockets, Node ws and the frame-reporting
 * evil_server (which prints every frame and Close it receives). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runcli.h"
#include "spawn.h"
#include "test.h"

#define T 10000 /* ms: bound on every wait */

static char url[128];

/* Start a peer and set url to ws://127.0.0.1:PORT/path. */
static void start_py(peer_proc *peer, const char *script, const char *a1, const char *a2,
                     const char *a3, const char *a4) {
  int port = peer_start_py(peer, script, a1, a2, a3, a4, NULL);
  CHECK_INT(port, >, 0);
  snprintf(url, sizeof url, "ws://127.0.0.1:%d/some/path", port);
}

static void start_node(peer_proc *peer, const char *a1, const char *a2, const char *a3,
                       const char *a4) {
  int port = peer_start_node(peer, "node_server.js", a1, a2, a3, a4, NULL);
  CHECK_INT(port, >, 0);
  snprintf(url, sizeof url, "ws://127.0.0.1:%d/some/path", port);
}

/* Run `wsc ARGS` to completion with no input; returns the exit status. */
static int run_to_end(cli_proc *p, const char *const args[]) {
  CHECK_EQ(cli_start(p, args, "/dev/null"), 0);
  return cli_wait(p, T);
}

/* Several lines, UTF-8 and an empty one, out and back; EOF closes with 1000. */
static void roundtrip(void) {
  cli_proc p;
  const char *args[] = {"connect", url, NULL};
  CHECK_EQ(cli_start(&p, args, NULL), 0);
  const char *in = "hello\nw\xc3\xb6rld \xe2\x9c\x93 \xf0\x9f\x98\x80\n\nlast one\r\n";
  CHECK_EQ(cli_send(&p, in, strlen(in), T), 0);
  CHECK_STR(cli_read_line(&p, T), "hello");
  CHECK_STR(cli_read_line(&p, T), "w\xc3\xb6rld \xe2\x9c\x93 \xf0\x9f\x98\x80");
  CHECK_STR(cli_read_line(&p, T), "");
  CHECK_STR(cli_read_line(&p, T), "last one"); /* the CR went with the newline */
  cli_close_stdin(&p);
  CHECK_EQ(cli_wait(&p, T), 0);
  CHECK(strstr(cli_stderr(&p), "closed: 1000\n") != NULL);
  CHECK_EQ(p.out_len, p.out_pos); /* nothing else printed */
  cli_free(&p);
}

TEST(connect_py_roundtrip) {
  peer_proc peer;
  start_py(&peer, "py_server.py", "--mode", "echo", NULL, NULL);
  roundtrip();
  peer_stop(&peer);
}

TEST(connect_node_roundtrip) {
  peer_proc peer;
  start_node(&peer, "--mode", "echo", NULL, NULL);
  roundtrip();
  peer_stop(&peer);
}

/* Headers, Origin and offered subprotocols as the server saw them, and the
 * negotiated protocol reported with -v. node: 1 for Node's JSON spacing. */
static void headers_seen(peer_proc *peer, int node) {
  cli_proc p;
  const char *args[] = {"connect", "-v", "-p", "chat", "-p", "json", "-H", "X-Test: 1",
                        "--header", "Authorization: Bearer t0k",
                        "--origin", "http://example.com", "-x", "hi", url, NULL};
  CHECK_EQ(run_to_end(&p, args), 0);
  CHECK_STR(cli_read_line(&p, T), "hi");
  const char *err = cli_stderr(&p);
  CHECK(strstr(err, "protocol: json\n") != NULL); /* server's choice (its list: json only) */
  CHECK(strstr(err, "closed: 1000") != NULL);
  char line[4096];
  CHECK_EQ(peer_wait_line(peer, "HEADERS ", line, sizeof line, T), 1);
  const char *sep = node ? "\",\"" : "\", \"";
  char want[128];
  snprintf(want, sizeof want, "[\"X-Test%s1\"]", sep);
  CHECK(strstr(line, want) != NULL);
  snprintf(want, sizeof want, "[\"Authorization%sBearer t0k\"]", sep);
  CHECK(strstr(line, want) != NULL);
  snprintf(want, sizeof want, "[\"Origin%shttp://example.com\"]", sep);
  CHECK(strstr(line, want) != NULL);
  snprintf(want, sizeof want, "[\"Sec-WebSocket-Protocol%schat, json\"]", sep);
  CHECK(strstr(line, want) != NULL);
  CHECK(strstr(line, "/some/path") != NULL);
  cli_free(&p);
}

TEST(connect_py_headers_protocols) {
  peer_proc peer;
  start_py(&peer, "py_server.py", "--log-headers", "--subprotocols", "json", NULL);
  headers_seen(&peer, 0);
  peer_stop(&peer);
}

TEST(connect_node_headers_protocols) {
  peer_proc peer;
  start_node(&peer, "--log-headers", "--subprotocols", "json", NULL);
  headers_seen(&peer, 1);
  peer_stop(&peer);
}

/* -b sends lines as binary; the echoes print as hex by default. */
TEST(connect_binary_hex) {
  peer_proc peer;
  start_py(&peer, "py_server.py", "--mode", "echo", NULL, NULL);
  cli_proc p;
  const char *args[] = {"connect", "-b", url, NULL};
  CHECK_EQ(cli_start(&p, args, NULL), 0);
  CHECK_EQ(cli_send(&p, "abc\n\xff\x00\x01\r\n", 9, T), 0);
  CHECK_STR(cli_read_line(&p, T), "616263");
  CHECK_STR(cli_read_line(&p, T), "ff00010d"); /* binary keeps the CR */
  cli_close_stdin(&p);
  CHECK_EQ(cli_wait(&p, T), 0);
  cli_free(&p);
  peer_stop(&peer);
}

/* --binary-out raw writes exactly the bytes received, nothing added. */
TEST(connect_binary_raw) {
  peer_proc peer;
  start_node(&peer, "--mode", "echo", NULL, NULL);
  cli_proc p;
  const char *args[] = {"connect", "--binary", "--binary-out", "raw", url, NULL};
  CHECK_EQ(cli_start(&p, args, NULL), 0);
  CHECK_EQ(cli_send(&p, "abc\n", 4, T), 0);
  const char *got = cli_read_bytes(&p, 3, T);
  CHECK(got != NULL);
  CHECK_MEM(got, "abc", 3);
  CHECK_EQ(cli_send(&p, "\x00\xff\n", 3, T), 0);
  got = cli_read_bytes(&p, 2, T);
  CHECK(got != NULL);
  CHECK_MEM(got, "\x00\xff", 2);
  cli_close_stdin(&p);
  CHECK_EQ(cli_wait(&p, T), 0);
  CHECK_EQ(p.out_len, 5); /* no newlines */
  cli_free(&p);
  peer_stop(&peer);
}

/* -x: one message, the first reply printed, close 1000, exit 0. */
TEST(connect_execute_one_shot) {
  peer_proc peer;
  start_node(&peer, "--mode", "echo", NULL, NULL);
  cli_proc p;
  const char *args[] = {"connect", "-x", "ping \xe2\x9c\x93", "--timeout", "5", url, NULL};
  CHECK_EQ(run_to_end(&p, args), 0);
  CHECK_EQ(p.out_len, strlen("ping \xe2\x9c\x93\n"));
  CHECK_STR(p.out, "ping \xe2\x9c\x93\n");
  CHECK(strstr(cli_stderr(&p), "closed: 1000") != NULL);
  cli_free(&p);
  peer_stop(&peer);
}

/* -x against a server that never answers: --timeout ends it with 1. */
TEST(connect_execute_timeout) {
  peer_proc peer;
  start_py(&peer, "evil_server.py", "--mode", "no-close", NULL, NULL);
  cli_proc p;
  const char *args[] = {"connect", "-x", "anyone?", "--timeout", "0.5", url, NULL};
  CHECK_EQ(run_to_end(&p, args), 1);
  CHECK(strstr(cli_stderr(&p), "timed out") != NULL);
  cli_free(&p);
  peer_stop(&peer);
}

/* --close CODE:REASON goes out at end of input, as the server saw it. */
TEST(connect_close_code_reason) {
  peer_proc peer;
  start_py(&peer, "evil_server.py", "--mode", "early-frames", NULL, NULL);
  cli_proc p;
  const char *args[] = {"connect", "--close", "4001:bye now \xe2\x9c\x93", url, NULL};
  CHECK_EQ(cli_start(&p, args, NULL), 0);
  CHECK_STR(cli_read_line(&p, T), "hello"); /* the server's early text frame */
  CHECK_EQ(cli_send(&p, "one\n", 4, T), 0);
  cli_close_stdin(&p);
  char line[512];
  CHECK_EQ(peer_wait_line(&peer, "FRAME 1 ", line, sizeof line, T), 1);
  CHECK_STR(line, "FRAME 1 3");
  CHECK_EQ(peer_wait_line(&peer, "CLOSE ", line, sizeof line, T), 1);
  CHECK_STR(line, "CLOSE 4001 bye now \xe2\x9c\x93");
  CHECK_EQ(cli_wait(&p, T), 0);
  CHECK(strstr(cli_stderr(&p), "closed: 4001") != NULL); /* it echoes the code */
  cli_free(&p);
  peer_stop(&peer);
}

/* A 1 MiB last line, stdin closed right after it: all of it goes out before
 * the Close (the frames as the server counted them). stdin_file: the same
 * input from a regular file rather than a pipe. */
static void large_last_line(const char *stdin_file) {
  peer_proc peer;
  start_py(&peer, "evil_server.py", "--mode", "early-frames", NULL, NULL);
  size_t big = 1024 * 1024;
  char *data = malloc(big + 16);
  CHECK(data != NULL);
  memcpy(data, "first\n", 6);
  memset(data + 6, 'x', big);
  data[6 + big] = '\n';
  size_t total = 7 + big;
  char path[300];
  if (stdin_file) {
    char dir[256];
    CHECK_EQ(peer_tmpdir(dir, sizeof dir), 0);
    snprintf(path, sizeof path, "%s/input.txt", dir);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    CHECK_EQ(fwrite(data, 1, total - 1, f), total - 1); /* no final newline: sent too */
    fclose(f);
  }
  cli_proc p;
  const char *args[] = {"connect", url, NULL};
  CHECK_EQ(cli_start(&p, args, stdin_file ? path : NULL), 0);
  if (!stdin_file) {
    CHECK_EQ(cli_send(&p, data, total, T), 0);
    cli_close_stdin(&p);
  }
  char line[512];
  CHECK_EQ(peer_wait_line(&peer, "FRAME 1 ", line, sizeof line, T), 1);
  CHECK_STR(line, "FRAME 1 5");
  CHECK_EQ(peer_wait_line(&peer, "FRAME ", line, sizeof line, T), 1);
  CHECK_STR(line, "FRAME 1 1048576");
  CHECK_EQ(peer_wait_line(&peer, "CLOSE ", line, sizeof line, T), 1);
  CHECK_STR(line, "CLOSE 1000 ");
  CHECK_EQ(cli_wait(&p, T), 0);
  cli_free(&p);
  free(data);
  peer_stop(&peer);
}

TEST(connect_eof_large_last_line_pipe) { large_last_line(NULL); }
TEST(connect_eof_large_last_line_file) { large_last_line("file"); }

/* A 1 MiB line echoed back whole. */
TEST(connect_large_echo) {
  peer_proc peer;
  start_py(&peer, "py_server.py", "--mode", "echo", NULL, NULL);
  size_t big = 1024 * 1024;
  char *data = malloc(big + 1);
  CHECK(data != NULL);
  for (size_t i = 0; i < big; i++) data[i] = (char)('a' + i % 26);
  data[big] = '\n';
  cli_proc p;
  const char *args[] = {"connect", url, NULL};
  CHECK_EQ(cli_start(&p, args, NULL), 0);
  CHECK_EQ(cli_send(&p, data, big + 1, T), 0);
  const char *got = cli_read_line(&p, T);
  CHECK(got != NULL);
  CHECK_EQ(strlen(got), big);
  CHECK_MEM(got, data, big);
  cli_close_stdin(&p);
  CHECK_EQ(cli_wait(&p, T), 0);
  cli_free(&p);
  free(data);
  peer_stop(&peer);
}

/* A text line that is not UTF-8 is reported and skipped; the next goes. */
TEST(connect_invalid_utf8_line) {
  peer_proc peer;
  start_py(&peer, "py_server.py", "--mode", "echo", NULL, NULL);
  cli_proc p;
  const char *args[] = {"connect", url, NULL};
  CHECK_EQ(cli_start(&p, args, NULL), 0);
  CHECK_EQ(cli_send(&p, "\xff\xfe\nok\n", 6, T), 0);
  CHECK_STR(cli_read_line(&p, T), "ok");
  CHECK(strstr(cli_stderr(&p), "line 1 is not valid UTF-8") != NULL);
  cli_close_stdin(&p);
  CHECK_EQ(cli_wait(&p, T), 0);
  cli_free(&p);
  peer_stop(&peer);
}

/* Ctrl-C closes gracefully with 1000 and exits 0. */
TEST(connect_sigint_closes) {
  peer_proc peer;
  start_py(&peer, "evil_server.py", "--mode", "early-frames", NULL, NULL);
  cli_proc p;
  const char *args[] = {"connect", url, NULL};
  CHECK_EQ(cli_start(&p, args, NULL), 0);
  CHECK_STR(cli_read_line(&p, T), "hello"); /* open */
  CHECK_EQ(cli_signal(&p, SIGINT), 0);
  char line[512];
  CHECK_EQ(peer_wait_line(&peer, "CLOSE ", line, sizeof line, T), 1);
  CHECK_STR(line, "CLOSE 1000 ");
  CHECK_EQ(cli_wait(&p, T), 0);
  CHECK(strstr(cli_stderr(&p), "closed: 1000") != NULL);
  cli_free(&p);
  peer_stop(&peer);
}

/* A server that closes first: its code and reason are printed, exit 0. */
TEST(connect_server_closes) {
  peer_proc peer;
  start_node(&peer, "--mode", "close", "--code", "4321");
  cli_proc p;
  const char *args[] = {"connect", url, NULL};
  CHECK_EQ(cli_start(&p, args, NULL), 0);
  CHECK_EQ(cli_send(&p, "go\n", 3, T), 0);
  CHECK_EQ(cli_wait(&p, T), 0);
  CHECK(strstr(cli_stderr(&p), "closed: 4321") != NULL);
  cli_free(&p);
  peer_stop(&peer);
}

/* Nobody listening: exit 1 with the cause. */
TEST(connect_refused) {
  int port = cli_free_port();
  CHECK_INT(port, >, 0);
  snprintf(url, sizeof url, "ws://127.0.0.1:%d/", port);
  cli_proc p;
  const char *args[] = {"connect", url, NULL};
  CHECK_EQ(run_to_end(&p, args), 1);
  CHECK(strstr(cli_stderr(&p), "wsc: connect failed: connection refused") != NULL);
  CHECK(strstr(cli_stderr(&p), "closed: 1006") != NULL);
  cli_free(&p);
}

/* A server that refuses the handshake: exit 1. */
TEST(connect_rejected) {
  peer_proc peer;
  start_py(&peer, "py_server.py", "--mode", "reject", "--status", "403");
  cli_proc p;
  const char *args[] = {"connect", "-q", url, NULL};
  CHECK_EQ(run_to_end(&p, args), 1);
  CHECK(strstr(cli_stderr(&p), "connect failed: ") != NULL);
  CHECK(strstr(cli_stderr(&p), "403") != NULL);
  CHECK(strstr(cli_stderr(&p), "closed:") == NULL); /* -q */
  cli_free(&p);
  peer_stop(&peer);
}

/* Usage errors exit 2 with a message; --help exits 0. */
TEST(connect_usage_errors) {
  static const char *const cases[][6] = {
      {"connect", NULL},
      {"connect", "ftp://example.com/", NULL},
      {"connect", "ws://example.com/#frag", NULL},
      {"connect", "--bogus", "ws://127.0.0.1:1234/", NULL},
      {"connect", "--close", "2000", "ws://127.0.0.1:1234/", NULL},
      {"connect", "--binary-out", "octal", "ws://127.0.0.1:1234/", NULL},
      {"connect", "-H", "no colon", "ws://127.0.0.1:1234/", NULL},
      {"connect", "--timeout", "soon", "ws://127.0.0.1:1234/", NULL},
      {"connect", "ws://a/", "ws://b/", NULL},
  };
  static const char *const expect[] = {"missing URL", "SyntaxError", "SyntaxError",
                                       "unknown option", "--close", "--binary-out",
                                       "-H", "--timeout",
                                       "more than one URL"};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    cli_proc p;
    int st = run_to_end(&p, cases[i]);
    if (st != 2 || !strstr(cli_stderr(&p), expect[i]))
      fprintf(stderr, "case %zu: status %d, stderr: %s\n", i, st, cli_stderr(&p));
    CHECK_EQ(st, 2);
    CHECK(strstr(cli_stderr(&p), expect[i]) != NULL);
    cli_free(&p);
  }
  cli_proc p;
  const char *help[] = {"connect", "--help", NULL};
  CHECK_EQ(run_to_end(&p, help), 0);
  CHECK(strstr(p.out, "usage: wsc connect") != NULL);
  CHECK(strstr(p.out, "--execute") != NULL);
  cli_free(&p);
}

/* wss:// with --ca (a test CA): the handshake verifies and the echo works. */
TEST(connect_wss_with_ca) {
  peer_certs certs;
  CHECK_EQ(peer_make_certs(&certs), 0);
  peer_proc peer;
  int port = peer_start_py(&peer, "py_server.py", "--tls", certs.cert, certs.key, NULL);
  CHECK_INT(port, >, 0);
  snprintf(url, sizeof url, "wss://localhost:%d/", port);
  cli_proc p;
  const char *args[] = {"connect", "--ca", certs.ca, "-x", "secure", url, NULL};
  CHECK_EQ(run_to_end(&p, args), 0);
  CHECK_STR(cli_read_line(&p, T), "secure");
  cli_free(&p);
  const char *untrusted[] = {"connect", "-x", "secure", url, NULL}; /* system store only */
  CHECK_EQ(run_to_end(&p, untrusted), 1);
  CHECK(strstr(cli_stderr(&p), "connect failed") != NULL);
  cli_free(&p);
  peer_stop(&peer);
}
