/* test_server.c - the wsc server (wsc_server_*, wsc_request_accept/reject,
 * server sockets) against real clients: Python websockets and Node ws, run as
 * child processes on the server's loop (srvharness.h). Echo up to 16 MiB,
 * fragmented messages, subprotocol selection, refusals from the upgrade
 * handler, closes from either side, a client dropping TCP, wss, 1000
 * concurrent clients, graceful shutdown, the drain event, pause/resume, no
 * SIGPIPE when writing to a client that reset the connection, back-off when
 * out of descriptors. */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "spawn.h"
#include "srvharness.h"
#include "test.h"

#define BIG_SIZES "0,1,125,126,65535,65536,1048576,16777216"

/* Every ECHO/FRAG line the clients print for sizes x kinds. */
static void check_lines(sh_ctx *t, sh_proc *p, const char *what, const char *sizes,
                        const char *kinds) {
  char s[256], k[64], line[128];
  snprintf(s, sizeof s, "%s", sizes);
  for (char *sz = strtok(s, ","); sz; sz = strtok(NULL, ",")) {
    snprintf(k, sizeof k, "%s", kinds);
    char *save;
    for (char *kind = strtok_r(k, ",", &save); kind; kind = strtok_r(NULL, ",", &save)) {
      snprintf(line, sizeof line, "%s %s %s ok", what, kind, sz);
      SH_HAS_LINE(p, line);
    }
  }
}

static void echo_with(int node, const char *mode, const char *sizes) {
  sh_ctx c, *t = &c;
  sh_init(t, NULL);
  char url[128];
  sh_url(t, "ws", "/echo", url, sizeof url);
  sh_proc *p = node ? sh_node(t, "node_client.js", url, "--mode", mode, "--sizes", sizes, NULL)
                    : sh_py(t, "py_client.py", url, "--mode", mode, "--sizes", sizes, NULL);
  sh_wait_ok(t, p, 50);
  check_lines(t, p, strcmp(mode, "echo") == 0 ? "ECHO" : "FRAG", sizes, "text,binary");
  SH_HAS_LINE(p, "CLOSED 1000 "); /* the server echoes the code, not the reason */
  CHECK(strncmp(sh_log(t), "open:- ", 7) == 0);
  CHECK(strstr(sh_log(t), " close:1000:done:clean") != NULL);
  CHECK_EQ(t->errors, 0);
  CHECK_EQ(t->closes, 1);
  sh_finish(t);
}

TEST(server_echo_python) { echo_with(0, "echo", BIG_SIZES); }
TEST(server_echo_node) { echo_with(1, "echo", BIG_SIZES); }

/* Python sends an iterable as fragments; Node uses send(chunk, {fin: false}).
 * Text pieces from Node may split a UTF-8 character between frames. */
TEST(server_fragmented_python) { echo_with(0, "fragment", "0,1,7,1000,100000,1048576"); }
TEST(server_fragmented_node) { echo_with(1, "fragment", "0,1,7,1000,100000,1048576"); }

/* ---- subprotocols ---------------------------------------------------------- */

static void offer(sh_ctx *t, int node, const char *path, const char *offered,
                  const char *expected_line) {
  char url[128];
  sh_url(t, "ws", path, url, sizeof url);
  sh_proc *p = node ? sh_node(t, "node_client.js", url, "--mode", "protocol", "--subprotocols",
                              offered, NULL)
                    : sh_py(t, "py_client.py", url, "--mode", "protocol", "--subprotocols",
                            offered, NULL);
  sh_wait_ok(t, p, 30);
  SH_HAS_LINE(p, expected_line);
}

TEST(server_subprotocol_server_preference) {
  sh_ctx c, *t = &c;
  wsc_server_options o;
  wsc_server_options_init(&o);
  const char *protos[] = {"chat.v2", "chat.v1"};
  o.protocols = protos;
  o.nprotocols = 2;
  sh_init(t, &o);
  offer(t, 0, "/", "chat.v1,chat.v2", "PROTOCOL chat.v2"); /* the server's order wins */
  offer(t, 1, "/", "chat.v1,chat.v2", "PROTOCOL chat.v2");
  offer(t, 0, "/", "chat.v1,other", "PROTOCOL chat.v1");
  offer(t, 0, "/", "other", "PROTOCOL -"); /* (Node's ws fails a handshake without one) */
  SH_CHECK_LOG("open:chat.v2 close:1000:done:clean open:chat.v2 close:1000:done:clean "
               "open:chat.v1 close:1000:done:clean open:- close:1000:done:clean");
  sh_finish(t);
}

/* The upgrade handler: /pick/NAME accepts with NAME, /none accepts with no
 * subprotocol, /reject refuses with 451; anything else is not decided. */
static void on_upgrade(wsc_server *srv, wsc_request *req, void *user) {
  int *accept_rc = user;
  (void)srv;
  CHECK(wsc_request_is_upgrade(req));
  CHECK_STR(wsc_request_method(req), "GET");
  const char *path = wsc_request_path(req);
  if (strncmp(path, "/pick/", 6) == 0) {
    *accept_rc = wsc_request_accept(req, path + 6);
    if (*accept_rc == 0) CHECK_EQ(wsc_request_accept(req, NULL), WSC_EINVALIDSTATE);
  } else if (strcmp(path, "/none") == 0) {
    CHECK_EQ(wsc_request_accept(req, NULL), 0);
  } else if (strcmp(path, "/reject") == 0) {
    CHECK_EQ(wsc_request_reject(req, 299, NULL), WSC_EINVAL);
    CHECK_EQ(wsc_request_reject(req, 451, "not here"), 0);
    CHECK_EQ(wsc_request_reject(req, 451, "twice"), WSC_EINVALIDSTATE);
  }
}

TEST(server_subprotocol_from_upgrade_handler) {
  sh_ctx c, *t = &c;
  wsc_server_options o;
  wsc_server_options_init(&o);
  const char *protos[] = {"chat.v2", "chat.v1"};
  o.protocols = protos;
  o.nprotocols = 2;
  sh_init(t, &o);
  int accept_rc = 99;
  wsc_server_set_onupgrade(t->srv, on_upgrade, &accept_rc);
  offer(t, 0, "/pick/chat.v1", "chat.v1,chat.v2", "PROTOCOL chat.v1");
  CHECK_EQ(accept_rc, 0);
  offer(t, 1, "/pick/chat.v1", "chat.v2,chat.v1", "PROTOCOL chat.v1");
  offer(t, 0, "/none", "chat.v1,chat.v2", "PROTOCOL -");
  offer(t, 0, "/none", "chat.v1", "PROTOCOL -");
  /* not offered: accept refuses, and the default choice applies */
  offer(t, 0, "/pick/zzz", "chat.v1,chat.v2", "PROTOCOL chat.v2");
  CHECK_EQ(accept_rc, WSC_EINVAL);
  SH_CHECK_LOG("open:chat.v1 close:1000:done:clean open:chat.v1 close:1000:done:clean "
               "open:- close:1000:done:clean open:- close:1000:done:clean "
               "open:chat.v2 close:1000:done:clean");
  sh_finish(t);
}

TEST(server_reject_from_upgrade_handler) {
  sh_ctx c, *t = &c;
  sh_init(t, NULL);
  int accept_rc = 0;
  wsc_server_set_onupgrade(t->srv, on_upgrade, &accept_rc);
  char url[128];
  sh_url(t, "ws", "/reject", url, sizeof url);
  sh_proc *py = sh_py(t, "py_client.py", url, "--mode", "reject", NULL);
  sh_proc *node = sh_node(t, "node_client.js", url, "--mode", "reject", NULL);
  sh_wait_ok(t, py, 30);
  sh_wait_ok(t, node, 30);
  SH_HAS_LINE(py, "STATUS 451");
  SH_HAS_LINE(node, "STATUS 451");
  SH_CHECK_LOG(""); /* never handed out: no events */
  CHECK_EQ(t->connections, 0);
  sh_finish(t);
}

/* ---- closing ---------------------------------------------------------------- */

TEST(server_close_from_client) {
  sh_ctx c, *t = &c;
  sh_init(t, NULL);
  char url[128];
  sh_url(t, "ws", "/", url, sizeof url);
  sh_proc *py = sh_py(t, "py_client.py", url, "--mode", "close", "--code", "4002", "--reason",
                      "py bye", NULL);
  sh_wait_ok(t, py, 30);
  SH_HAS_LINE(py, "CLOSED 4002 "); /* the code echoed */
  sh_wait_count(t, &t->closes, 1, 10, "the close event");
  sh_proc *node = sh_node(t, "node_client.js", url, "--mode", "close", "--code", "1000",
                          "--reason", "node bye \xc3\xa9", NULL);
  sh_wait_ok(t, node, 30);
  SH_HAS_LINE(node, "CLOSED 1000 ");
  sh_wait_count(t, &t->closes, 2, 10, "the close event");
  SH_CHECK_LOG("open:- close:4002:py bye:clean open:- close:1000:node bye \xc3\xa9:clean");
  sh_finish(t);
}

TEST(server_close_from_server) {
  sh_ctx c, *t = &c;
  sh_init(t, NULL);
  char url[128];
  sh_url(t, "ws", "/", url, sizeof url);
  sh_proc *py = sh_py(t, "py_client.py", url, "--mode", "wait-close", "--send",
                      "cmd:close:4003:server bye", NULL);
  sh_wait_ok(t, py, 30);
  SH_HAS_LINE(py, "CLOSED 4003 server bye");
  sh_wait_count(t, &t->closes, 1, 10, "the close event");
  sh_proc *node = sh_node(t, "node_client.js", url, "--mode", "wait-close", "--send",
                          "cmd:close:1000:", NULL);
  sh_wait_ok(t, node, 30);
  SH_HAS_LINE(node, "CLOSED 1000 ");
  sh_wait_count(t, &t->closes, 2, 10, "the close event");
  /* the close event reports the code the client sent back */
  SH_CHECK_LOG("open:- msg:text:25 close:4003:server bye:clean "
               "open:- msg:text:15 close:1000::clean");
  sh_finish(t);
}

TEST(server_client_drops_tcp) {
  sh_ctx c, *t = &c;
  sh_init(t, NULL);
  char url[128];
  sh_url(t, "ws", "/", url, sizeof url);
  sh_proc *py = sh_py(t, "py_client.py", url, "--mode", "drop", NULL);
  sh_wait_ok(t, py, 30);
  SH_HAS_LINE(py, "DROPPED");
  sh_wait_count(t, &t->closes, 1, 10, "the close event");
  /* error (ECONNRESET or ECLOSED, as the drop came), then close 1006 */
  const char *log = sh_log(t);
  CHECK(strncmp(log, "open:- msg:text:15 error:", 25) == 0);
  CHECK(strstr(log, " close:1006::unclean") != NULL);
  CHECK_EQ(t->errors, 1);
  CHECK_EQ(wsc_server_connection_count(t->srv), 0);
  sh_finish(t);
}

/* A library must not kill its process: writing to a peer that reset the
 * connection raises SIGPIPE unless the write says MSG_NOSIGNAL. The test
 * process keeps SIGPIPE's default action (death) while the server writes a
 * 16 MB burst to a client that resets after 200 KB (the queue is then
 * written in several writes after the reset); it gets an error event
 * instead. Before MSG_NOSIGNAL, this test died of SIGPIPE. */
TEST(server_write_after_reset_no_sigpipe) {
  sh_ctx c, *t = &c;
  sh_init(t, NULL); /* (sets SIGPIPE to SIG_IGN for the harness's pipes) */
  char port[16], script[512];
  snprintf(port, sizeof port, "%d", wsc_server_port(t->srv));
  snprintf(script, sizeof script, "%s/raw_client.py", peer_dir());
  const char *argv[] = {peer_python(), script,      "127.0.0.1", port,   "--mode", "reset",
                        "--send",      "cmd:burst:2000:8192", "--count", "200000", NULL};
  sh_proc *p = sh_spawn(t, argv);
  signal(SIGPIPE, SIG_DFL);
  sh_wait_ok(t, p, 30);
  SH_HAS_LINE(p, "RESET");
  sh_wait_count(t, &t->closes, 1, 10, "the close event");
  signal(SIGPIPE, SIG_IGN);
  CHECK_EQ(t->errors, 1);
  CHECK(strstr(sh_log(t), " close:1006::unclean") != NULL);
  sh_finish(t);
}

/* Out of descriptors (EMFILE): the listener cannot accept, yet stays
 * readable, so a server that just retried would spin the loop at full speed.
 * wsc stops listening for 100 ms at a time instead: over 600 ms without
 * descriptors the loop turns a few dozen times (the harness's 20 ms tick, the
 * back-off timer), not the hundreds of thousands of a spin; and once
 * descriptors are free again every waiting connection is accepted. */
static unsigned loop_turns;
static void count_turn(uv_check_t *h) {
  (void)h;
  loop_turns++;
}
static int time_passed(sh_ctx *t, void *arg) { return uv_now(t->uv) >= *(uint64_t *)arg; }
static void run_for(sh_ctx *t, uint64_t ms) {
  uint64_t until = uv_now(t->uv) + ms;
  sh_wait(t, time_passed, &until, 5, "time to pass");
}

TEST(server_out_of_descriptors_backs_off) {
  sh_ctx c, *t = &c;
  sh_init(t, NULL);
  struct sockaddr_in sa;
  uv_ip4_addr("127.0.0.1", wsc_server_port(t->srv), &sa);
  enum { N = 8 };
  int fds[N];
  for (int i = 0; i < N; i++) { /* connected by the kernel's backlog, not yet accepted */
    fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK_INT(fds[i], >=, 0);
    CHECK_EQ(connect(fds[i], (struct sockaddr *)&sa, sizeof sa), 0);
  }
  struct rlimit old, low;
  CHECK_EQ(getrlimit(RLIMIT_NOFILE, &old), 0);
  int next = open("/dev/null", O_RDONLY); /* the lowest free descriptor: room for 2 more */
  CHECK_INT(next, >=, 0);
  close(next);
  low = old;
  low.rlim_cur = (rlim_t)next + 2;
  uv_check_t check;
  CHECK_EQ(uv_check_init(t->uv, &check), 0);
  CHECK_EQ(uv_check_start(&check, count_turn), 0);
  CHECK_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
  loop_turns = 0;
  run_for(t, 600);
  unsigned turns = loop_turns;
  size_t accepted = wsc_server_connection_count(t->srv);
  CHECK_EQ(setrlimit(RLIMIT_NOFILE, &old), 0);
  CHECK_EQ(accepted, 2);
  CHECK_INT(turns, <, 1000);
  run_for(t, 300); /* the back-off ends: the others are accepted */
  CHECK_EQ(wsc_server_connection_count(t->srv), N);
  uv_close((uv_handle_t *)&check, NULL);
  for (int i = 0; i < N; i++) close(fds[i]);
  sh_finish(t);
}

/* ---- wss -------------------------------------------------------------------- */

/* A test CA and a server certificate signed by it, and options using them. */
static void tls_setup(peer_certs *f, wsc_server_options *o) {
  CHECK_EQ(peer_make_certs(f), 0);
  wsc_server_options_init(o);
  o->tls_cert_file = f->cert;
  o->tls_key_file = f->key;
}

static void tls_echo(int node) {
  peer_certs files;
  wsc_server_options o;
  tls_setup(&files, &o);
  const char *ca = files.ca;
  sh_ctx c, *t = &c;
  sh_init(t, &o);
  char url[128];
  sh_url(t, "wss", "/tls", url, sizeof url);
  const char *sizes = "0,1,125,65536,1048576";
  sh_proc *e = node ? sh_node(t, "node_client.js", url, "--mode", "echo", "--sizes", sizes, "--ca",
                              ca, NULL)
                    : sh_py(t, "py_client.py", url, "--mode", "echo", "--sizes", sizes, "--ca",
                            ca, NULL);
  sh_proc *f = node ? sh_node(t, "node_client.js", url, "--mode", "fragment", "--sizes", "1000",
                              "--ca", ca, NULL)
                    : sh_py(t, "py_client.py", url, "--mode", "fragment", "--sizes", "1000",
                            "--ca", ca, NULL);
  sh_wait_ok(t, e, 50);
  sh_wait_ok(t, f, 50);
  check_lines(t, e, "ECHO", sizes, "text,binary");
  check_lines(t, f, "FRAG", "1000", "text,binary");
  SH_HAS_LINE(e, "CLOSED 1000 ");
  sh_wait_count(t, &t->closes, 2, 10, "the close events");
  CHECK_EQ(t->clean_closes, 2);
  CHECK_EQ(t->errors, 0);
  sh_finish(t);
}

TEST(server_tls_python) { tls_echo(0); }
TEST(server_tls_node) { tls_echo(1); }

/* Over wss the server ends its side of the TLS session (close_notify) before
 * its FIN, after a closing handshake and after failing a connection alike;
 * the raw client reads with ragged EOFs reported (`EOF SSLError` when the
 * stream ends without close_notify). */
TEST(server_tls_close_notify) {
  peer_certs files;
  wsc_server_options o;
  tls_setup(&files, &o);
  sh_ctx c, *t = &c;
  sh_init(t, &o);
  char port[16];
  snprintf(port, sizeof port, "%d", wsc_server_port(t->srv));
  sh_proc *clean = sh_py(t, "raw_client.py", "127.0.0.1", port, "--mode", "close", "--ca",
                         files.ca, NULL);
  sh_proc *bad = sh_py(t, "raw_client.py", "127.0.0.1", port, "--mode", "unmasked", "--ca",
                       files.ca, NULL);
  sh_wait_ok(t, clean, 30);
  sh_wait_ok(t, bad, 30);
  SH_HAS_LINE(clean, "CLOSE 1000 ");
  SH_HAS_LINE(clean, "EOF");
  if (!sh_line(bad, "CLOSE 1002 ")) sh_fail_dump(t, __FILE__, __LINE__, "no CLOSE 1002 line");
  SH_HAS_LINE(bad, "EOF");
  sh_wait_count(t, &t->closes, 2, 10, "both close events");
  CHECK_EQ(t->clean_closes, 1);
  CHECK_EQ(t->errors, 1);
  CHECK_EQ(t->last_error, WSC_EPROTO);
  sh_finish(t);
}

/* ---- many clients ----------------------------------------------------------- */

static void many(int node, const char *clients) {
  CHECK_INT(sh_raise_nofile(8192), >=, 2200);
  sh_ctx c, *t = &c;
  sh_init(t, NULL);
  char url[128];
  sh_url(t, "ws", "/many", url, sizeof url);
  sh_proc *p = node ? sh_node(t, "node_client.js", url, "--mode", "many", "--clients", clients,
                              "--count", "20", NULL)
                    : sh_py(t, "py_client.py", url, "--mode", "many", "--clients", clients,
                            "--count", "20", NULL);
  sh_wait_ok(t, p, 55);
  char line[64];
  int n = atoi(clients); /* a test constant */
  snprintf(line, sizeof line, "MANY %d %d", n, n * 20);
  SH_HAS_LINE(p, line);
  sh_wait_count(t, &t->closes, n, 10, "every close event");
  CHECK_EQ(t->messages, n * 20);
  CHECK_EQ(t->clean_closes, n);
  CHECK_EQ(wsc_server_connection_count(t->srv), 0);
  sh_finish(t);
}

TEST(server_1000_concurrent_node) { many(1, "1000"); }
TEST(server_300_concurrent_python) { many(0, "300"); }

/* ---- shutdown, backpressure -------------------------------------------------- */

TEST(server_graceful_shutdown) {
  sh_ctx c, *t = &c;
  sh_init(t, NULL);
  char url[128];
  sh_url(t, "ws", "/", url, sizeof url);
  sh_proc *p[4];
  for (int i = 0; i < 3; i++) p[i] = sh_py(t, "py_client.py", url, "--mode", "wait-close", NULL);
  p[3] = sh_node(t, "node_client.js", url, "--mode", "wait-close", NULL);
  sh_wait_count(t, &t->opened, 4, 20, "four open sockets");
  CHECK_EQ(wsc_server_connection_count(t->srv), 4);
  sh_shutdown(t, 5000);
  CHECK_EQ(wsc_server_close(t->srv, 5000, NULL, NULL), WSC_EINVALIDSTATE);
  CHECK_EQ(wsc_server_listen(t->srv, "127.0.0.1:0"), WSC_EINVALIDSTATE);
  sh_wait_count(t, &t->done_called, 1, 10, "the close callback");
  for (int i = 0; i < 4; i++) {
    sh_wait_ok(t, p[i], 10);
    SH_HAS_LINE(p[i], "CLOSED 1001 server shutting down");
  }
  CHECK_EQ(t->closes, 4);
  CHECK_EQ(t->clean_closes, 4);
  CHECK_EQ(t->done_called, 1);
  CHECK_EQ(wsc_server_connection_count(t->srv), 0);
  CHECK(strstr(sh_log(t), "close:1001:server shutting down:clean") != NULL);
  sh_finish(t);
}

/* A client that never answers the Close: at the shutdown timeout it is
 * dropped, and the application, which saw it open, sees it close. */
TEST(server_shutdown_timeout_drops_with_events) {
  sh_ctx c, *t = &c;
  sh_init(t, NULL); /* close_timeout_ms 5000: the shutdown's 300 ms comes first */
  char url[128], port[16], script[512];
  sh_url(t, "ws", "/", url, sizeof url);
  snprintf(port, sizeof port, "%d", wsc_server_port(t->srv));
  snprintf(script, sizeof script, "%s/raw_client.py", peer_dir());
  const char *argv[] = {peer_python(), script, "127.0.0.1", port, "--mode", "no-read",
                        "--send", "x", NULL};
  sh_proc *deaf = sh_spawn(t, argv);
  sh_proc *good = sh_py(t, "py_client.py", url, "--mode", "wait-close", NULL);
  sh_wait_count(t, &t->opened, 2, 20, "two open sockets");
  sh_wait_count(t, &t->messages, 1, 20, "the deaf client's message");
  sh_shutdown(t, 300);
  sh_wait_count(t, &t->done_called, 1, 10, "the close callback");
  sh_wait_ok(t, good, 10);
  SH_HAS_LINE(good, "CLOSED 1001 server shutting down");
  CHECK_EQ(t->closes, 2);
  CHECK_EQ(t->clean_closes, 1);
  CHECK(strstr(sh_log(t), "error:ETIMEDOUT close:1006::unclean") != NULL);
  CHECK_EQ(wsc_server_connection_count(t->srv), 0);
  sh_close_stdin(deaf);
  sh_finish(t);
}

TEST(server_drain_event) {
  wsc_server_options o;
  wsc_server_options_init(&o);
  o.high_water_mark = 256 * 1024;
  sh_ctx c, *t = &c;
  sh_init(t, &o);
  char url[128];
  sh_url(t, "ws", "/", url, sizeof url);
  /* 64 x 256 KiB at once, more than the kernel's socket buffers take:
   * bufferedAmount goes over 256 KiB, then drains */
  sh_proc *p = sh_py(t, "py_client.py", url, "--mode", "recv", "--send", "cmd:burst:64:262144",
                     "--count", "64", NULL);
  sh_wait_ok(t, p, 30);
  SH_HAS_LINE(p, "RECV 64 16777216");
  sh_wait_count(t, &t->closes, 1, 10, "the close event");
  SH_CHECK_LOG("open:- msg:text:19 drain close:1000:done:clean");
  /* below the mark: no drain */
  sh_proc *q = sh_py(t, "py_client.py", url, "--mode", "recv", "--send", "cmd:burst:2:1000",
                     "--count", "2", NULL);
  sh_wait_ok(t, q, 30);
  sh_wait_count(t, &t->closes, 2, 10, "the close event");
  CHECK_EQ(t->drains, 1);
  sh_finish(t);
}

typedef struct pauser {
  sh_ctx *t;
  uv_timer_t timer;
  int messages_while_paused;
  int resumed;
} pauser;

static void resume_later(uv_timer_t *timer) {
  pauser *pa = timer->data;
  if (!pa->t->last) return; /* not open yet */
  pa->messages_while_paused = pa->t->messages;
  CHECK_EQ(wsc_socket_resume(pa->t->last), 0);
  CHECK_EQ(wsc_socket_resume(pa->t->last), 0); /* twice: nothing */
  pa->resumed = 1;
  uv_timer_stop(timer);
}

TEST(server_pause_resume) {
  sh_ctx c, *t = &c;
  sh_init(t, NULL);
  t->pause_on_open = 1;
  pauser pa = {t, {0}, -1, 0};
  CHECK_EQ(uv_timer_init(t->uv, &pa.timer), 0);
  pa.timer.data = &pa;
  char url[128];
  sh_url(t, "ws", "/", url, sizeof url);
  sh_proc *p = sh_py(t, "py_client.py", url, "--mode", "echo", "--sizes", "5,70000", NULL);
  sh_wait_count(t, &t->opened, 1, 20, "the open event");
  /* paused: whatever the client sends is not read, however long we wait */
  uv_timer_start(&pa.timer, resume_later, 300, 50);
  sh_wait_ok(t, p, 30);
  CHECK(pa.resumed);
  CHECK_EQ(pa.messages_while_paused, 0);
  check_lines(t, p, "ECHO", "5,70000", "text,binary");
  uv_close((uv_handle_t *)&pa.timer, NULL);
  sh_finish(t);
}

static void free_in_done(wsc_server *srv, void *user) {
  sh_ctx *t = user;
  CHECK_EQ(t->closes, 1); /* the socket's close event came first */
  wsc_server_free(srv);
  t->srv = NULL;
  t->done_called++;
}

/* The header allows freeing the server from the close callback. */
TEST(server_free_from_done_callback) {
  sh_ctx c, *t = &c;
  sh_init(t, NULL);
  char url[128];
  sh_url(t, "ws", "/", url, sizeof url);
  sh_proc *p = sh_py(t, "py_client.py", url, "--mode", "wait-close", NULL);
  sh_wait_count(t, &t->opened, 1, 20, "the open event");
  CHECK_EQ(wsc_server_close(t->srv, 2000, free_in_done, t), 0);
  sh_wait_count(t, &t->done_called, 1, 10, "the close callback");
  sh_wait_ok(t, p, 10);
  SH_HAS_LINE(p, "CLOSED 1001 server shutting down");
  CHECK(t->srv == NULL);
  sh_finish(t);
}

/* ---- idle timeout and SO_REUSEPORT ------------------------------------------ */

/* A client that sends nothing is closed with 1001 once idle_timeout_ms has
 * passed; one that keeps talking past several idle periods is not. */
TEST(server_idle_timeout) {
  sh_ctx c, *t = &c;
  wsc_server_options o;
  wsc_server_options_init(&o);
  o.idle_timeout_ms = 300;
  sh_init(t, &o);
  char url[128];
  sh_url(t, "ws", "/", url, sizeof url);
  /* talks every 150 ms for 8 rounds (over 1 s, four idle periods): stays
   * open and closes normally */
  sh_proc *busy = sh_py(t, "py_client.py", url, "--mode", "echo", "--sizes", "10", "--kinds",
                        "text", "--repeat", "8", "--delay", "0.15", NULL);
  sh_wait_ok(t, busy, 30); /* exit 0: every round echoed, then its own close 1000 */
  CHECK(sh_line(busy, "CLOSED 1000") != NULL);
  sh_proc *quiet = sh_py(t, "py_client.py", url, "--mode", "wait-close", NULL);
  sh_wait_ok(t, quiet, 30);
  SH_HAS_LINE(quiet, "CLOSED 1001 idle timeout");
  sh_wait_count(t, &t->closes, 2, 10, "both close events");
  CHECK(strstr(sh_log(t), "close:1001:idle timeout:clean") != NULL ||
        strstr(sh_log(t), "close:1001::clean") != NULL);
  sh_finish(t);
}

TEST(server_reuse_port) {
  wsc_loop *loop;
  CHECK_EQ(wsc_loop_new(&loop), 0);
  wsc_server_options o;
  wsc_server_options_init(&o);
  o.reuse_port = 1;
  wsc_server *a, *b, *plain;
  CHECK_EQ(wsc_server_new(loop, &o, &a), 0);
  CHECK_EQ(wsc_server_new(loop, &o, &b), 0);
  CHECK_EQ(wsc_server_new(loop, NULL, &plain), 0);
  CHECK_EQ(wsc_server_listen(a, "127.0.0.1:0"), 0);
  char addr[64];
  snprintf(addr, sizeof addr, "127.0.0.1:%d", wsc_server_port(a));
  CHECK_EQ(wsc_server_listen(b, addr), 0); /* shares the port */
  CHECK_EQ(wsc_server_port(b), wsc_server_port(a));
  CHECK_EQ(wsc_server_listen(plain, addr), UV_EADDRINUSE); /* without the option: refused */
  const char *msg;
  CHECK_EQ(wsc_server_error(plain, &msg), UV_EADDRINUSE);
  CHECK(msg[0] != 0);
  wsc_server_free(a);
  wsc_server_free(b);
  wsc_server_free(plain);
  wsc_loop_run(loop);
  CHECK_EQ(wsc_loop_free(loop), 0);
}

static void free_server_posted(wsc_loop *loop, void *arg) {
  (void)loop;
  sh_ctx *t = arg;
  wsc_server_free(t->srv);
  t->srv = NULL;
}

/* wsc_server_free with connections still open: they are dropped without
 * events (the application let go of the server), the peers see 1006, and the
 * server's memory outlives its sockets, which read its shared settings until
 * they are released. Freed from a posted call, i.e. from the loop's poll
 * phase, after which libuv closes the server's timers before the sockets'
 * transports finish closing (a use after free here shows under ASan). */
TEST(server_free_with_open_connections) {
  sh_ctx c, *t = &c;
  sh_init(t, NULL);
  char url[128];
  sh_url(t, "ws", "/", url, sizeof url);
  sh_proc *p[3];
  for (int i = 0; i < 3; i++) p[i] = sh_py(t, "py_client.py", url, "--mode", "wait-close", NULL);
  sh_wait_count(t, &t->opened, 3, 20, "three open events");
  CHECK_EQ(wsc_loop_post(t->loop, free_server_posted, t), 0);
  for (int i = 0; i < 3; i++) {
    sh_wait_ok(t, p[i], 20);
    CHECK_EQ(sh_count_lines(p[i], "CLOSED 1006"), 1);
  }
  CHECK_EQ(t->closes, 0); /* no events after the server was freed */
  sh_finish(t);
}
