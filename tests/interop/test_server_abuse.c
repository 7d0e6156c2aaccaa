/* test_server_abuse.c - hostile clients (peers/raw_client.py) against the wsc
 * server, each while a well-behaved Python client is being served at the same
 * time: unmasked frames (1002), invalid UTF-8 (1007), a frame over max_frame
 * (1009), 10,000 pings, a client that never reads while the server sends
 * (failed with WSC_EPOLICY once bufferedAmount passes max_buffered), a frame
 * announcing 1 GiB (memory follows what arrives, not what is announced); and
 * large messages in odd frames with pings between, whose payloads the server
 * reads straight into the message (echoed byte for byte; bad UTF-8 deep in a
 * frame read that way is 1007). */
#include <stdio.h>
#include <string.h>

#include "spawn.h"
#include "srvharness.h"
#include "test.h"

/* raw_client.py in mode with up to 8 more arguments (NULL-terminated). */
#define raw(t, mode, ...) raw_args(t, mode, (const char *[]){__VA_ARGS__})
static sh_proc *raw_args(sh_ctx *t, const char *mode, const char *const *args) {
  char port[16], script[512];
  snprintf(port, sizeof port, "%d", wsc_server_port(t->srv));
  snprintf(script, sizeof script, "%s/raw_client.py", peer_dir());
  const char *argv[16] = {peer_python(), script, "127.0.0.1", port, "--mode", mode};
  int n = 6;
  while (n < 14 && *args) argv[n++] = *args++;
  argv[n] = NULL;
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
static void violation(const char *mode, const char *const *args, const char *close_line, int err,
                      const wsc_server_options *o) {
  sh_ctx c, *t = &c;
  sh_init(t, o);
  sh_proc *good = steady(t);
  sh_proc *bad = raw_args(t, mode, args);
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
  violation("unmasked", (const char *[]){NULL}, "CLOSE 1002 ", WSC_EPROTO, NULL);
}

TEST(server_invalid_utf8_1007) {
  violation("bad-utf8", (const char *[]){NULL}, "CLOSE 1007 ", WSC_EBADDATA, NULL);
}

TEST(server_frame_over_max_frame_1009) {
  wsc_server_options o;
  wsc_server_options_init(&o);
  o.max_frame = 1024 * 1024;
  violation("big-frame", (const char *[]){"--length", "2097152", NULL}, "CLOSE 1009 ", WSC_ETOOBIG,
            &o);
}

TEST(server_ping_flood_answered) {
  sh_ctx c, *t = &c;
  sh_init(t, NULL);
  sh_proc *good = steady(t);
  sh_proc *flood = raw(t, "ping-flood", "--count", "10000", NULL);
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
  long rss0 = sh_status_kib("VmRSS");
  sh_proc *good = steady(t);
  /* 256 KiB per loop tick, up to 1 GiB, to a client that reads nothing */
  sh_proc *bad = raw(t, "no-read", "--send", "cmd:stream:4096:262144", NULL);
  sh_wait_line(t, bad, "SENT", 20);
  sh_wait_count(t, &t->errors, 1, 30, "the server to fail the reader");
  CHECK_EQ(t->last_error, WSC_EPOLICY);
  check_steady(t, good);
  sh_wait_count(t, &t->closes, 2, 10, "both close events");
  /* bounded: nothing beyond the limit was ever queued (a full queue fails the
   * socket on the send that crosses it) */
  CHECK_INT(t->peak_buffered, <=, o.max_buffered);
  long rss1 = sh_status_kib("VmRSS");
  if (rss0 > 0 && rss1 > 0) CHECK_INT(rss1 - rss0, <, 64 * 1024);
  CHECK(strstr(sh_log(t), "error:EPOLICY close:1006::unclean") != NULL);
  sh_close_stdin(bad); /* now it may read: the server has closed its end */
  sh_wait_ok(t, bad, 20);
  CHECK(sh_line(bad, "UNREAD ") != NULL);
  CHECK_EQ(wsc_server_connection_count(t->srv), 0);
  sh_finish(t);
}

/* Frames of these sizes cross the 64 KiB read buffer at odd places, so most
 * of their payload is read in place and the rest through the shared buffer:
 * masking phases, UTF-8 sequences and frame ends fall on every kind of edge. */
#define ODD_FRAMES "70000,1,p,300000,65536,p,65537,200000,1048576,3"
#define ODD_TOTAL "1749653"

static void odd_frames(int text) {
  sh_ctx c, *t = &c;
  sh_init(t, NULL);
  sh_proc *good = steady(t);
  sh_proc *p =
      raw(t, "pieces", "--frames", ODD_FRAMES, "--repeat", "3", text ? "--text" : NULL, NULL);
  sh_wait_ok(t, p, 60);
  SH_HAS_LINE(p, "ECHO 0 " ODD_TOTAL " ok");
  SH_HAS_LINE(p, "ECHO 1 " ODD_TOTAL " ok");
  SH_HAS_LINE(p, "ECHO 2 " ODD_TOTAL " ok");
  SH_HAS_LINE(p, "PONGS 6");
  check_steady(t, good);
  sh_wait_count(t, &t->closes, 2, 10, "both close events");
  CHECK_EQ(t->errors, 0);
  CHECK(strstr(sh_log(t), "close:1000:pieces done:clean") != NULL);
  sh_finish(t);
}

TEST(server_large_binary_in_odd_frames) { odd_frames(0); }
TEST(server_large_text_in_odd_frames) { odd_frames(1); }

/* Offset 1,000,000 lies in the 1 MiB frame, far from its first read. */
TEST(server_bad_utf8_deep_in_a_large_frame_1007) {
  violation("pieces",
            (const char *[]){"--frames", ODD_FRAMES, "--text", "--bad-at", "1000000", NULL},
            "CLOSE 1007 ", WSC_EBADDATA, NULL);
}

static int time_passed(sh_ctx *t, void *arg) { return uv_now(t->uv) >= *(uint64_t *)arg; }

/* A frame announcing 1 GiB (allowed here) of which 300,000 bytes come: the
 * server reserves memory as bytes arrive (at most about twice), not for what
 * is announced, so its address space grows by a few MiB, not by 1 GiB. */
TEST(server_huge_announced_frame_reserves_little) {
  wsc_server_options o;
  wsc_server_options_init(&o);
  o.max_frame = o.max_message = 2ull << 30;
  sh_ctx c, *t = &c;
  sh_init(t, &o);
  long vm0 = sh_status_kib("VmSize");
  sh_proc *bad =
      raw(t, "big-frame", "--length", "1073741824", "--send-bytes", "300000", "--hold", NULL);
  sh_wait_line(t, bad, "ACKED", 20);
  uint64_t until = uv_now(t->uv) + 300; /* the server reads what its kernel holds */
  sh_wait(t, time_passed, &until, 5, "300 ms");
  long vm1 = sh_status_kib("VmSize");
  CHECK_INT(vm0, >, 0);
  CHECK_INT(vm1 - vm0, <, 64 * 1024);
  CHECK_EQ(t->errors, 0);
  sh_finish(t);
}
