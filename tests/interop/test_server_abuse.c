/* test_server_abuse.c - hostile clients (peers/raw_client.py) against the wsc
 * server, each while a well-behaved Python client is being served at the same
 * time: unmasked frames (1002), invalid UTF-8 (1007), a frame over max_frame
 * (1009), 10,000 pings, and a client that never reads while the server sends
 * (failed with WSC_EPOLICY once bufferedAmount passes max_buffered). */
#include <stdio.h>
#include <string.h>

#include "spawn.h"
#include "srvharness.h"
#include "test.h"

static sh_proc *raw(sh_ctx *t, const char *mode, const char *a1, const char *a2) {
  char port[16], script[512];
  snprintf(port, sizeof port, "%d", wsc_server_port(t->srv));
  snprintf(script, sizeof script, "%s/raw_client.py", peer_dir());
  const char *argv[] = {peer_python(), script, "127.0.0.1", port, "--mode", mode, a1, a2, NULL};
  return sh_spawn(t, argv);
}

/* A client sending and checking echoes the whole time the abuse goes on. */
static sh_proc *steady(sh_ctx *t) {
  char url[128];
  sh_url(t, "ws", "/steady", url, sizeof url);
  return sh_py(t, "py_client.py", url, "--mode", "echo", "--sizes", "1,1000", "--repeat", "40",
               "--delay", "0.01", NULL);
}

static void check_steady(sh_ctx *t, sh_proc *good) {
  sh_wait_ok(t, good, 40);
  SH_HAS_LINE(good, "ECHO text 1000 ok");
  SH_HAS_LINE(good, "CLOSED 1000 ");
}

/* The raw client's violation: it sees `CLOSE <code>`, the server reports
 * error <err> and close 1006 for that socket. */
static void violation(const char *mode, const char *a1, const char *a2, const char *close_line,
                      int err, const wsc_server_options *o) {
  sh_ctx c, *t = &c;
  sh_init(t, o);
  sh_proc *good = steady(t);
  sh_proc *bad = raw(t, mode, a1, a2);
  sh_wait_ok(t, bad, 30);
  if (!sh_line(bad, close_line)) sh_fail_dump(t, __FILE__, __LINE__, "no %s line", close_line);
  SH_HAS_LINE(bad, "EOF");
  check_steady(t, good);
  sh_wait_count(t, &t->closes, 2, 10, "both close events");
  CHECK_EQ(t->errors, 1);
  CHECK_EQ(t->last_error, err);
  char want[128];
  snprintf(want, sizeof want, "error:%s close:1006::unclean", wsc_err_name(err));
  if (!strstr(sh_log(t), want)) sh_fail_dump(t, __FILE__, __LINE__, "no \"%s\" in the log", want);
  CHECK_EQ(t->clean_closes, 1); /* the steady client's */
  sh_finish(t);
}

TEST(server_unmasked_frame_1002) {
  violation("unmasked", NULL, NULL, "CLOSE 1002 ", WSC_EPROTO, NULL);
}

TEST(server_invalid_utf8_1007) {
  violation("bad-utf8", NULL, NULL, "CLOSE 1007 ", WSC_EBADDATA, NULL);
}

TEST(server_frame_over_max_frame_1009) {
  wsc_server_options o;
  wsc_server_options_init(&o);
  o.max_frame = 1024 * 1024;
  violation("big-frame", "--length", "2097152", "CLOSE 1009 ", WSC_ETOOBIG, &o);
}

TEST(server_ping_flood_answered) {
  sh_ctx c, *t = &c;
  sh_init(t, NULL);
  sh_proc *good = steady(t);
  sh_proc *flood = raw(t, "ping-flood", "--count", "10000");
  sh_wait_ok(t, flood, 40);
  SH_HAS_LINE(flood, "PONGS 10000");
  CHECK(sh_line(flood, "CLOSE 1000 ") != NULL);
  check_steady(t, good);
  sh_wait_count(t, &t->closes, 2, 10, "both close events");
  CHECK_EQ(t->errors, 0);
  CHECK_EQ(t->clean_closes, 2);
  CHECK(strstr(sh_log(t), "close:1000:flood over:clean") != NULL);
  sh_finish(t);
}

TEST(server_client_never_reads_1008) {
  wsc_server_options o;
  wsc_server_options_init(&o);
  o.max_buffered = 1024 * 1024;
  sh_ctx c, *t = &c;
  sh_init(t, &o);
  long rss0 = sh_rss_kib();
  sh_proc *good = steady(t);
  /* 256 KiB per loop tick, up to 1 GiB, to a client that reads nothing */
  sh_proc *bad = raw(t, "no-read", "--send", "cmd:stream:4096:262144");
  sh_wait_line(t, bad, "SENT", 20);
  sh_wait_count(t, &t->errors, 1, 30, "the server to fail the reader");
  CHECK_EQ(t->last_error, WSC_EPOLICY);
  check_steady(t, good);
  sh_wait_count(t, &t->closes, 2, 10, "both close events");
  /* bounded: nothing beyond the limit was ever queued (a full queue fails the
   * socket on the send that crosses it) */
  CHECK_INT(t->peak_buffered, <=, o.max_buffered);
  long rss1 = sh_rss_kib();
  if (rss0 > 0 && rss1 > 0) CHECK_INT(rss1 - rss0, <, 64 * 1024);
  CHECK(strstr(sh_log(t), "error:EPOLICY close:1006::unclean") != NULL);
  sh_close_stdin(bad); /* now it may read: the server has closed its end */
  sh_wait_ok(t, bad, 20);
  CHECK(sh_line(bad, "UNREAD ") != NULL);
  CHECK_EQ(wsc_server_connection_count(t->srv), 0);
  sh_finish(t);
}
