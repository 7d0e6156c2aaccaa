/* test_client.c - the browser-shaped client API (wsc_socket_*) against real
 * peers: Python websockets, Node ws, and misbehaving servers. Each test runs
 * its own loop and writes what the application saw as one line:
 *   "open msg:text:5 msg:binary:1048576 close:1000:done:clean"
 * with the readyState at each event checked along the way. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <uv.h>

#include "proto/buf.h"
#include "spawn.h"
#include "test.h"
#include "wsc.h"

typedef struct rec {
  wsc_loop *loop;        /* made for this socket by open_rec, freed by close_rec */
  wsc__buf log;
  wsc_socket *ws;
  const uint8_t *expect; /* every message must equal this (for echoes) */
  size_t expect_len;
  int messages;
  int close_after;       /* close(1000, "done") after this many messages */
  int free_in;           /* free the socket inside this event type + 1 */
  int state_ok;          /* readyState was right at every event */
} rec;

static void logf_(rec *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(rec *r, const char *fmt, ...) {
  char tmp[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (r->log.len) wsc__buf_puts(&r->log, " ");
  wsc__buf_puts(&r->log, tmp);
}

static const char *log_str(rec *r) {
  wsc__buf_append(&r->log, "", 1);
  r->log.len--;
  return (const char *)r->log.data;
}

static void on_open(wsc_socket *ws, const wsc_event *ev, void *user) {
  rec *r = user;
  (void)ev;
  if (wsc_socket_ready_state(ws) != WSC_OPEN) r->state_ok = 0;
  logf_(r, "open");
  if (r->free_in == WSC_EVENT_OPEN + 1) wsc_socket_free(ws);
}

static void on_message(wsc_socket *ws, const wsc_event *ev, void *user) {
  rec *r = user;
  const wsc_message_event *m = wsc_event_message(ev);
  if (wsc_socket_ready_state(ws) != WSC_OPEN) r->state_ok = 0;
  logf_(r, "msg:%s:%zu", m->is_text ? "text" : "binary", m->length);
  if (r->expect && (m->length != r->expect_len || memcmp(m->data, r->expect, m->length) != 0))
    logf_(r, "MISMATCH");
  if (r->free_in == WSC_EVENT_MESSAGE + 1) {
    wsc_socket_free(ws);
    return;
  }
  if (++r->messages == r->close_after) {
    CHECK_EQ(wsc_socket_close(ws, 1000, "done", 4), 0);
    CHECK_EQ(wsc_socket_ready_state(ws), WSC_CLOSING);
  }
}

static void on_error(wsc_socket *ws, const wsc_event *ev, void *user) {
  rec *r = user;
  if (wsc_socket_ready_state(ws) != WSC_CLOSED) r->state_ok = 0;
  logf_(r, "error:%s", wsc_err_name(wsc_event_error(ev)->error));
}

static void on_close(wsc_socket *ws, const wsc_event *ev, void *user) {
  rec *r = user;
  const wsc_close_event *c = wsc_event_close(ev);
  if (wsc_socket_ready_state(ws) != WSC_CLOSED) r->state_ok = 0;
  logf_(r, "close:%d:%s:%s", c->code, c->reason, c->was_clean ? "clean" : "unclean");
}

/* A new loop and a socket on it with all four handlers recording into r. */
static wsc_socket *open_rec(rec *r, const char *url, const char *const *protos, size_t n,
                            const wsc_options *opts) {
  memset(r, 0, sizeof *r);
  r->state_ok = 1;
  CHECK_EQ(wsc_loop_new(&r->loop), 0);
  wsc_socket *ws = NULL;
  int rc = wsc_socket_new(r->loop, url, protos, n, opts, &ws);
  if (rc) wsc_test_fail(__FILE__, __LINE__, "wsc_socket_new(%s): %s", url, wsc_strerror(rc));
  CHECK_EQ(wsc_socket_ready_state(ws), WSC_CONNECTING);
  CHECK_STR(wsc_socket_protocol(ws), "");
  CHECK_STR(wsc_socket_extensions(ws), "");
  CHECK_EQ(wsc_socket_set_onopen(ws, on_open, r), 0);
  CHECK_EQ(wsc_socket_set_onmessage(ws, on_message, r), 0);
  CHECK_EQ(wsc_socket_set_onerror(ws, on_error, r), 0);
  CHECK_EQ(wsc_socket_set_onclose(ws, on_close, r), 0);
  r->ws = ws;
  return ws;
}

/* Free the socket (unless the test freed it already), the log, and the loop,
 * which must have nothing left attached. */
static void close_rec(rec *r, int socket_freed) {
  if (!socket_freed) wsc_socket_free(r->ws);
  wsc__buf_free(&r->log);
  CHECK_EQ(wsc_loop_free(r->loop), 0);
}

static void run(wsc_loop *loop) {
  long long t0 = peer_now_ms();
  wsc_loop_run(loop);
  CHECK_INT(peer_now_ms() - t0, <, 30000);
}

static char url_buf[128];
static const char *url_for(int port, const char *path) {
  snprintf(url_buf, sizeof url_buf, "ws://127.0.0.1:%d%s", port, path);
  return url_buf;
}

/* ---- echo against both peers -------------------------------------------- */

typedef struct sender {
  const void *data;
  size_t len;
  int text;
} sender;

static void send_on_open(wsc_socket *ws, const wsc_event *ev, void *user) {
  sender *s = user;
  (void)ev;
  int rc = s->text ? wsc_socket_send_text(ws, s->data, s->len)
                   : wsc_socket_send_binary(ws, s->data, s->len);
  CHECK_EQ(rc, 0);
  CHECK_INT(wsc_socket_buffered_amount(ws), <=, s->len);
}

static void echo_roundtrip(int port, size_t n, int text) {
  uint8_t *data = malloc(n ? n : 1);
  for (size_t k = 0; k < n; k++) data[k] = text ? (uint8_t)('a' + k % 26) : (uint8_t)(k * 31 + (k >> 8));
  rec r;
  wsc_socket *ws = open_rec(&r, url_for(port, "/echo"), NULL, 0, NULL);
  r.expect = data;
  r.expect_len = n;
  r.close_after = 1;
  sender s = {data, n, text};
  CHECK_EQ(wsc_socket_add_listener(ws, WSC_EVENT_OPEN, send_on_open, &s), 0);
  CHECK_EQ(wsc_socket_send_binary(ws, data, n), WSC_EINVALIDSTATE); /* still CONNECTING */
  run(r.loop);
  char want[128];
  snprintf(want, sizeof want, "open msg:%s:%zu close:1000:done:clean", text ? "text" : "binary", n);
  CHECK_STR(log_str(&r), want);
  CHECK(r.state_ok);
  CHECK_EQ(wsc_socket_ready_state(ws), WSC_CLOSED);
  CHECK_EQ(wsc_socket_buffered_amount(ws), 0);
  close_rec(&r, 0);
  free(data);
}

static const size_t echo_lens[] = {0, 1, 125, 126, 65535, 65536, 1 << 20, 16 << 20};

TEST(client_echo_python) {
  peer_proc p;
  int port = peer_start_py(&p, "py_server.py", "--mode", "echo", "--no-deflate", NULL);
  CHECK_INT(port, >, 0);
  for (size_t i = 0; i < sizeof echo_lens / sizeof echo_lens[0]; i++) {
    echo_roundtrip(port, echo_lens[i], 0);
    echo_roundtrip(port, echo_lens[i], 1);
  }
  peer_stop(&p);
}

TEST(client_echo_node) {
  peer_proc p;
  int port = peer_start_node(&p, "node_server.js", "--mode", "echo", NULL);
  CHECK_INT(port, >, 0);
  for (size_t i = 0; i < sizeof echo_lens / sizeof echo_lens[0]; i++) {
    echo_roundtrip(port, echo_lens[i], 0);
    echo_roundtrip(port, echo_lens[i], 1);
  }
  peer_stop(&p);
}

static int closed_port(void);

/* ---- zero-copy sends ----------------------------------------------------- */

typedef struct owned_send {
  uint8_t *buf;        /* handed over; freed by release */
  size_t len;
  int text;
  int released;        /* release calls so far */
  int released_at_send; /* ... right after wsc_socket_send_owned returned */
} owned_send;

static void release_owned(void *data, void *arg) {
  owned_send *o = arg;
  CHECK(data == o->buf);
  o->released++;
  free(data);
}

static void send_owned_on_open(wsc_socket *ws, const wsc_event *ev, void *user) {
  owned_send *o = user;
  (void)ev;
  CHECK_EQ(wsc_socket_send_owned(ws, o->buf, o->len, o->text, release_owned, o), 0);
  o->released_at_send = o->released;
}

/* A buffer handed over is echoed intact (the client masks it in place, so
 * compare with a copy), released exactly once, and a message bigger than the
 * kernel's socket buffers is still held after the call: kept by reference,
 * not copied. */
TEST(client_send_owned_python) {
  peer_proc p;
  int port = peer_start_py(&p, "py_server.py", "--mode", "echo", "--no-deflate", NULL);
  CHECK_INT(port, >, 0);
  const size_t lens[] = {0, 1000, 64 << 20};
  for (size_t i = 0; i < 3; i++) {
    for (int text = 0; text <= 1; text++) {
      size_t n = lens[i];
      owned_send o = {malloc(n ? n : 1), n, text, 0, -1};
      uint8_t *pristine = malloc(n ? n : 1);
      for (size_t k = 0; k < n; k++) o.buf[k] = (uint8_t)(text ? 'a' + k % 26 : k * 7 + (k >> 9));
      memcpy(pristine, o.buf, n);
      rec r;
      wsc_options opts;
      wsc_options_init(&opts);
      opts.max_message = opts.max_frame = 65 << 20;
      wsc_socket *ws = open_rec(&r, url_for(port, "/echo"), NULL, 0, &opts);
      r.expect = pristine;
      r.expect_len = n;
      r.close_after = 1;
      CHECK_EQ(wsc_socket_add_listener(ws, WSC_EVENT_OPEN, send_owned_on_open, &o), 0);
      run(r.loop);
      char want[128];
      snprintf(want, sizeof want, "open msg:%s:%zu close:1000:done:clean", text ? "text" : "binary",
               n);
      CHECK_STR(log_str(&r), want);
      CHECK_EQ(o.released, 1);
      if (n == lens[2]) CHECK_EQ(o.released_at_send, 0); /* held by reference */
      close_rec(&r, 0);
      free(pristine);
    }
  }
  peer_stop(&p);
}

/* Every refusal still releases the buffer, once. */
TEST(client_send_owned_errors_release) {
  rec r;
  wsc_socket *ws = open_rec(&r, url_for(closed_port(), "/"), NULL, 0, NULL);
  owned_send o = {malloc(4), 4, 0, 0, 0};
  CHECK_EQ(wsc_socket_send_owned(ws, o.buf, 4, 0, release_owned, &o), WSC_EINVALIDSTATE);
  CHECK_EQ(o.released, 1);
  owned_send t = {malloc(2), 2, 1, 0, 0};
  t.buf[0] = 0xc3;
  t.buf[1] = 0x28; /* not UTF-8 */
  CHECK_EQ(wsc_socket_send_owned(ws, t.buf, 2, 1, release_owned, &t), WSC_ESYNTAX);
  CHECK_EQ(t.released, 1);
  run(r.loop);
  close_rec(&r, 0);
}

/* ---- the scenarios of the standard -------------------------------------- */

static void scenario(peer_proc *p, const char *path, const char *const *protos, size_t n,
                     const char *send_text, const char *expected, const char *protocol) {
  rec r;
  wsc_socket *ws = open_rec(&r, url_for(p->port, path), protos, n, NULL);
  sender s = {send_text, send_text ? strlen(send_text) : 0, 1};
  if (send_text) CHECK_EQ(wsc_socket_add_listener(ws, WSC_EVENT_OPEN, send_on_open, &s), 0);
  r.close_after = 1; /* close after the first message, if one comes */
  run(r.loop);
  CHECK_STR(log_str(&r), expected);
  CHECK(r.state_ok);
  if (protocol) CHECK_STR(wsc_socket_protocol(ws), protocol);
  close_rec(&r, 0);
}

TEST(client_subprotocol_selected) {
  peer_proc p;
  CHECK_INT(peer_start_py(&p, "py_server.py", "--mode", "echo", "--subprotocols", "b", NULL), >, 0);
  const char *protos[] = {"a", "b"};
  scenario(&p, "/", protos, 2, "x", "open msg:text:1 close:1000:done:clean", "b");
  peer_stop(&p);
}

TEST(client_server_closes_with_code_and_reason) {
  peer_proc p;
  CHECK_INT(peer_start_node(&p, "node_server.js", "--mode", "close", "--code", "4001", "--reason",
                            "bye now", NULL), >, 0);
  scenario(&p, "/", NULL, 0, "x", "open close:4001:bye now:clean", NULL);
  peer_stop(&p);
}

TEST(client_server_drops_tcp) {
  peer_proc p;
  CHECK_INT(peer_start_py(&p, "py_server.py", "--mode", "drop", NULL), >, 0);
  rec r;
  wsc_socket *ws = open_rec(&r, url_for(p.port, "/"), NULL, 0, NULL);
  sender s = {"x", 1, 1};
  CHECK_EQ(wsc_socket_add_listener(ws, WSC_EVENT_OPEN, send_on_open, &s), 0);
  run(r.loop);
  /* error then close 1006, whether the drop came as FIN or RST */
  const char *got = log_str(&r);
  CHECK(strncmp(got, "open error:", 11) == 0);
  CHECK(strstr(got, " close:1006::unclean") != NULL);
  close_rec(&r, 0);
  peer_stop(&p);
}

TEST(client_handshake_refused) {
  peer_proc p;
  CHECK_INT(peer_start_py(&p, "py_server.py", "--mode", "reject", "--status", "403", NULL), >, 0);
  rec r;
  wsc_socket *ws = open_rec(&r, url_for(p.port, "/"), NULL, 0, NULL);
  run(r.loop);
  CHECK_STR(log_str(&r), "error:EHANDSHAKE close:1006::unclean");
  const char *msg;
  CHECK_EQ(wsc_socket_error(ws, &msg), WSC_EHANDSHAKE);
  CHECK(strstr(msg, "403") != NULL);
  close_rec(&r, 0);
  peer_stop(&p);
}

static int closed_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  CHECK_EQ(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
  CHECK_EQ(getsockname(fd, (struct sockaddr *)&a, &len), 0);
  close(fd); /* nothing listens there now */
  return ntohs(a.sin_port);
}

TEST(client_connection_refused) {
  rec r;
  open_rec(&r, url_for(closed_port(), "/"), NULL, 0, NULL);
  run(r.loop);
  CHECK_STR(log_str(&r), "error:ECONNREFUSED close:1006::unclean");
  CHECK(r.state_ok);
  close_rec(&r, 0);
}

TEST(client_handshake_timeout) {
  /* a listener that never answers: the TCP handshake completes in the
   * backlog, the WebSocket handshake never does */
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  CHECK_EQ(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
  CHECK_EQ(listen(fd, 4), 0);
  CHECK_EQ(getsockname(fd, (struct sockaddr *)&a, &len), 0);
  wsc_options o;
  wsc_options_init(&o);
  o.handshake_timeout_ms = 300;
  rec r;
  open_rec(&r, url_for(ntohs(a.sin_port), "/"), NULL, 0, &o);
  long long t0 = peer_now_ms();
  run(r.loop);
  CHECK_INT(peer_now_ms() - t0, >=, 250);
  CHECK_STR(log_str(&r), "error:ETIMEDOUT close:1006::unclean");
  close_rec(&r, 0);
  close(fd);
}

TEST(client_close_while_connecting) {
  peer_proc p;
  CHECK_INT(peer_start_py(&p, "py_server.py", "--mode", "echo", NULL), >, 0);
  rec r;
  wsc_socket *ws = open_rec(&r, url_for(p.port, "/"), NULL, 0, NULL);
  CHECK_EQ(wsc_socket_close(ws, 0, NULL, 0), 0);
  CHECK_EQ(wsc_socket_ready_state(ws), WSC_CLOSING);
  CHECK_STR(log_str(&r), ""); /* the events come from the loop, not from close() */
  CHECK_EQ(wsc_socket_close(ws, 1000, NULL, 0), 0); /* twice: nothing */
  run(r.loop);
  CHECK_STR(log_str(&r), "error:ECLOSED close:1006::unclean");
  close_rec(&r, 0);
  peer_stop(&p);
}

static void send_after_close(wsc_socket *ws, const wsc_event *ev, void *user) {
  (void)ev, (void)user;
  CHECK_EQ(wsc_socket_close(ws, 3000, "custom", 6), 0);
  uint64_t before = wsc_socket_buffered_amount(ws);
  CHECK_EQ(wsc_socket_send_text(ws, "discarded", 9), 0);
  CHECK_EQ(wsc_socket_buffered_amount(ws), before + 9);
}

TEST(client_send_after_close_counts_in_buffered_amount) {
  peer_proc p;
  CHECK_INT(peer_start_node(&p, "node_server.js", "--mode", "echo", NULL), >, 0);
  rec r;
  wsc_socket *ws = open_rec(&r, url_for(p.port, "/"), NULL, 0, NULL);
  CHECK_EQ(wsc_socket_add_listener(ws, WSC_EVENT_OPEN, send_after_close, NULL), 0);
  run(r.loop);
  CHECK_STR(log_str(&r), "open close:3000:custom:clean");
  CHECK_EQ(wsc_socket_buffered_amount(ws), 9); /* never sent, never forgotten */
  close_rec(&r, 0);
  peer_stop(&p);
}

TEST(client_free_inside_message_callback) {
  peer_proc p;
  CHECK_INT(peer_start_py(&p, "py_server.py", "--mode", "echo", NULL), >, 0);
  rec r;
  wsc_socket *ws = open_rec(&r, url_for(p.port, "/"), NULL, 0, NULL);
  r.free_in = WSC_EVENT_MESSAGE + 1;
  sender s = {"x", 1, 1};
  CHECK_EQ(wsc_socket_add_listener(ws, WSC_EVENT_OPEN, send_on_open, &s), 0);
  run(r.loop); /* ends: the freed socket's handles are closed */
  CHECK_STR(log_str(&r), "open msg:text:1"); /* and no event after the free */
  close_rec(&r, 1);
  peer_stop(&p);
}

/* ---- hostile servers ----------------------------------------------------- */

static void evil(const char *mode, const char *expected) {
  peer_proc p;
  CHECK_INT(peer_start_py(&p, "evil_server.py", "--mode", mode, NULL), >, 0);
  const char *protos[] = {"chat"};
  scenario(&p, "/", protos, 1, NULL, expected, NULL);
  peer_stop(&p);
}

TEST(client_evil_bad_accept) { evil("bad-accept", "error:EHANDSHAKE close:1006::unclean"); }
TEST(client_evil_unoffered_protocol) {
  evil("unoffered-protocol", "error:EHANDSHAKE close:1006::unclean");
}
TEST(client_evil_unoffered_extension) {
  /* permessage-deflate is offered by default; any other name is not */
  peer_proc p;
  CHECK_INT(peer_start_py(&p, "evil_server.py", "--mode", "unoffered-extension", "--extension",
                          "x-unoffered", NULL), >, 0);
  const char *protos[] = {"chat"};
  scenario(&p, "/", protos, 1, NULL, "error:EEXTENSION close:1006::unclean", NULL);
  peer_stop(&p);
}
TEST(client_evil_masked_frames) { evil("masked-frames", "open error:EPROTO close:1006::unclean"); }
TEST(client_evil_huge_message) { evil("huge-message", "open error:ETOOBIG close:1006::unclean"); }
TEST(client_evil_endless_handshake) {
  evil("endless-handshake", "error:EHEADERSIZE close:1006::unclean");
}

/* ---- constructor and method errors (no network) ------------------------- */

TEST(client_constructor_errors) {
  wsc_loop *loop;
  CHECK_EQ(wsc_loop_new(&loop), 0);
  wsc_socket *ws = (wsc_socket *)1;
  CHECK_EQ(wsc_socket_new(loop, "ftp://example.com/", NULL, 0, NULL, &ws), WSC_ESYNTAX);
  CHECK(ws == NULL);
  CHECK_EQ(wsc_socket_new(loop, "ws://example.com/#frag", NULL, 0, NULL, &ws), WSC_ESYNTAX);
  CHECK_EQ(wsc_socket_new(loop, "not a url", NULL, 0, NULL, &ws), WSC_ESYNTAX);
  CHECK_EQ(wsc_socket_new(loop, "ws://127.0.0.1:6666/", NULL, 0, NULL, &ws), WSC_ESECURITY);
  const char *dup[] = {"a", "a"}, *empty[] = {""}, *space[] = {"a b"};
  CHECK_EQ(wsc_socket_new(loop, "ws://127.0.0.1:1234/", dup, 2, NULL, &ws), WSC_ESYNTAX);
  CHECK_EQ(wsc_socket_new(loop, "ws://127.0.0.1:1234/", empty, 1, NULL, &ws), WSC_ESYNTAX);
  CHECK_EQ(wsc_socket_new(loop, "ws://127.0.0.1:1234/", space, 1, NULL, &ws), WSC_ESYNTAX);
  wsc_options o;
  wsc_options_init(&o);
  const char *bad_header[] = {"X-Evil: a\r\nInjected: b"};
  o.headers = bad_header;
  o.nheaders = 1;
  CHECK_EQ(wsc_socket_new(loop, "ws://127.0.0.1:1234/", NULL, 0, &o, &ws), WSC_EINVAL);
  CHECK_EQ(wsc_loop_free(loop), 0); /* nothing leaked into the loop */
}

TEST(client_method_errors_and_attributes) {
  wsc_loop *loop;
  CHECK_EQ(wsc_loop_new(&loop), 0);
  wsc_socket *ws;
  CHECK_EQ(wsc_socket_new(loop, "HTTP://127.0.0.1:80/a/../b?q=1 2", NULL, 0, NULL, &ws), 0);
  CHECK_STR(wsc_socket_url(ws), "ws://127.0.0.1/b?q=1%202");
  CHECK_EQ(wsc_socket_binary_type(ws), WSC_BINARY_BLOB);
  wsc_socket_set_binary_type(ws, WSC_BINARY_ARRAYBUFFER);
  CHECK_EQ(wsc_socket_binary_type(ws), WSC_BINARY_ARRAYBUFFER);
  CHECK_EQ(wsc_socket_send_text(ws, "x", 1), WSC_EINVALIDSTATE);
  CHECK_EQ(wsc_socket_send_text(ws, "\xff", 1), WSC_ESYNTAX);
  CHECK_EQ(wsc_socket_close(ws, 999, NULL, 0), WSC_EINVALIDACCESS);
  CHECK_EQ(wsc_socket_close(ws, 1001, NULL, 0), WSC_EINVALIDACCESS);
  CHECK_EQ(wsc_socket_close(ws, 5000, NULL, 0), WSC_EINVALIDACCESS);
  char reason[124];
  memset(reason, 'r', sizeof reason);
  CHECK_EQ(wsc_socket_close(ws, 1000, reason, 124), WSC_ESYNTAX);
  CHECK_EQ(wsc_socket_close(ws, 1000, "\xc3", 1), WSC_ESYNTAX);
  CHECK_EQ(wsc_socket_ready_state(ws), WSC_CONNECTING);
  wsc_socket_free(ws); /* before it ever ran: released cleanly */
  wsc_loop_run(loop);
  CHECK_EQ(wsc_loop_free(loop), 0);
}

/* ---- listeners ----------------------------------------------------------- */

static wsc__buf order;
static void l1(wsc_socket *ws, const wsc_event *ev, void *u);
static void l2(wsc_socket *ws, const wsc_event *ev, void *u) {
  (void)ev, (void)u;
  wsc__buf_puts(&order, "2");
  /* removing a later listener during dispatch: it is not called */
  wsc_socket_remove_listener(ws, WSC_EVENT_ERROR, l1, (void *)3);
}
static void l1(wsc_socket *ws, const wsc_event *ev, void *u) {
  (void)ws, (void)ev;
  wsc__buf_puts(&order, u == (void *)1 ? "1" : "3");
}
static void lh(wsc_socket *ws, const wsc_event *ev, void *u) {
  (void)ws, (void)ev, (void)u;
  wsc__buf_puts(&order, "h");
}

TEST(client_listener_order_and_removal) {
  wsc_loop *loop;
  CHECK_EQ(wsc_loop_new(&loop), 0);
  wsc_socket *ws;
  CHECK_EQ(wsc_socket_new(loop, url_for(closed_port(), "/"), NULL, 0, NULL, &ws), 0);
  CHECK_EQ(wsc_socket_add_listener(ws, WSC_EVENT_ERROR, l1, (void *)1), 0);
  CHECK_EQ(wsc_socket_set_onerror(ws, lh, NULL), 0);  /* takes its place here */
  CHECK_EQ(wsc_socket_add_listener(ws, WSC_EVENT_ERROR, l2, NULL), 0);
  CHECK_EQ(wsc_socket_add_listener(ws, WSC_EVENT_ERROR, l1, (void *)3), 0);
  CHECK_EQ(wsc_socket_add_listener(ws, WSC_EVENT_ERROR, l1, (void *)1), 0); /* duplicate */
  CHECK_EQ(wsc_socket_set_onerror(ws, lh, (void *)9), 0); /* replaced in place */
  CHECK_EQ(wsc_socket_add_listener(ws, 7, l1, NULL), WSC_EINVAL);
  run(loop);
  wsc__buf_append(&order, "", 1);
  CHECK_STR((const char *)order.data, "1h2");
  wsc_socket_free(ws);
  wsc__buf_free(&order);
  CHECK_EQ(wsc_loop_free(loop), 0);
}

/* ---- what the server sees ------------------------------------------------- */

TEST(client_extra_headers_origin_and_path_reach_the_server) {
  peer_proc p;
  CHECK_INT(peer_start_node(&p, "node_server.js", "--mode", "echo", "--log-headers",
                            "--subprotocols", "chat", NULL), >, 0);
  wsc_options o;
  wsc_options_init(&o);
  const char *headers[] = {"Authorization: Bearer t0k3n", "Cookie: a=1; b=2",
                           "User-Agent: wsc-test/1"};
  o.headers = headers;
  o.nheaders = 3;
  o.origin = "https://app.example";
  const char *protos[] = {"chat", "other"};
  rec r;
  char url[128];
  snprintf(url, sizeof url, "ws://127.0.0.1:%d/room/%%41?x=1&y=%%20", p.port);
  wsc_socket *ws = open_rec(&r, url, protos, 2, &o);
  r.close_after = 1;
  sender s = {"hi", 2, 1};
  CHECK_EQ(wsc_socket_add_listener(ws, WSC_EVENT_OPEN, send_on_open, &s), 0);
  run(r.loop);
  CHECK_STR(log_str(&r), "open msg:text:2 close:1000:done:clean");
  CHECK_STR(wsc_socket_protocol(ws), "chat");
  char line[4096];
  CHECK_EQ(peer_wait_line(&p, "HEADERS ", line, sizeof line, 5000), 1);
  CHECK(strstr(line, "\"path\":\"/room/%41?x=1&y=%20\"") != NULL);
  CHECK(strstr(line, "Bearer t0k3n") != NULL);
  CHECK(strstr(line, "a=1; b=2") != NULL);
  CHECK(strstr(line, "wsc-test/1") != NULL);
  CHECK(strstr(line, "https://app.example") != NULL);
  CHECK(strstr(line, "chat, other") != NULL);
  close_rec(&r, 0);
  peer_stop(&p);
}

/* ---- wss:// --------------------------------------------------------------- */

typedef struct tls_case {
  const char *host;       /* in the URL */
  const char *cert, *key; /* the server's, from the test CA's directory */
  int trust_ca;           /* give the client ca.pem (else: the system store) */
  int insecure;
  int node;               /* Node ws instead of Python websockets */
  const char *dir;        /* certificates already made there; NULL: a fresh test CA */
} tls_case;

/* Echo "over tls" through a TLS server and check what the application saw
 * and, for failures, that the error message names the cause. */
static void wss_expect(const tls_case *tc, const char *expected, const char *error_part) {
  char dir[256], cert[300], key[300], ca[300], url[128];
  if (tc->dir) {
    snprintf(dir, sizeof dir, "%s", tc->dir);
  } else {
    CHECK_EQ(peer_tmpdir(dir, sizeof dir), 0);
    CHECK_EQ(peer_make_ca(dir), 0);
  }
  snprintf(cert, sizeof cert, "%s/%s", dir, tc->cert);
  snprintf(key, sizeof key, "%s/%s", dir, tc->key);
  snprintf(ca, sizeof ca, "%s/ca.pem", dir);
  peer_proc p;
  int port = tc->node ? peer_start_node(&p, "node_server.js", "--mode", "echo", "--tls", cert, key, NULL)
                      : peer_start_py(&p, "py_server.py", "--mode", "echo", "--tls", cert, key, NULL);
  CHECK_INT(port, >, 0);
  wsc_options o;
  wsc_options_init(&o);
  if (tc->trust_ca) o.tls_ca_file = ca;
  o.tls_insecure = tc->insecure;
  snprintf(url, sizeof url, "wss://%s:%d/secure", tc->host, port);
  rec r;
  wsc_socket *ws = open_rec(&r, url, NULL, 0, &o);
  r.close_after = 1;
  r.expect = (const uint8_t *)"over tls";
  r.expect_len = 8;
  sender s = {"over tls", 8, 1};
  CHECK_EQ(wsc_socket_add_listener(ws, WSC_EVENT_OPEN, send_on_open, &s), 0);
  run(r.loop);
  CHECK_STR(log_str(&r), expected);
  CHECK(r.state_ok);
  if (error_part) {
    const char *msg;
    CHECK_EQ(wsc_socket_error(ws, &msg), WSC_ETLS);
    fprintf(stderr, "error message: %s\n", msg);
    if (!strstr(msg, error_part)) wsc_test_fail(__FILE__, __LINE__, "error message: %s", msg);
  }
  close_rec(&r, 0);
  peer_stop(&p);
}

static const char *ok_log = "open msg:text:8 close:1000:done:clean";
static const char *tls_failed = "error:ETLS close:1006::unclean";

/* RFC 6455 7.1.1: close the TLS session as well as TCP. The server closes
 * (Close 1000 "bye"), then sends its close_notify and waits for the
 * client's: the wsc client answers it before closing TCP. */
TEST(client_wss_answers_close_notify) {
  peer_certs certs;
  CHECK_EQ(peer_make_certs(&certs), 0);
  peer_proc p;
  int port = peer_start_py(&p, "tls_close_server.py", certs.cert, certs.key, NULL);
  CHECK_INT(port, >, 0);
  wsc_options o;
  wsc_options_init(&o);
  o.tls_ca_file = certs.ca;
  char url[128];
  snprintf(url, sizeof url, "wss://localhost:%d/", port);
  rec r;
  open_rec(&r, url, NULL, 0, &o);
  run(r.loop);
  CHECK_STR(log_str(&r), "open close:1000:bye:clean");
  char line[256];
  CHECK_EQ(peer_wait_line(&p, "CLOSE ", line, sizeof line, 10000), 1);
  CHECK_STR(line, "CLOSE 1000");
  CHECK_EQ(peer_wait_line(&p, "CLOSE_NOTIFY", line, sizeof line, 10000), 1);
  close_rec(&r, 0);
  peer_stop(&p);
}

TEST(client_wss_verified_by_name_python) {
  tls_case tc = {"localhost", "server-chain.pem", "server.key", 1, 0, 0, NULL};
  wss_expect(&tc, ok_log, NULL);
}

TEST(client_wss_verified_by_ip_node) {
  tls_case tc = {"127.0.0.1", "server-chain.pem", "server.key", 1, 0, 1, NULL};
  wss_expect(&tc, ok_log, NULL);
}

TEST(client_wss_untrusted_certificate_fails) {
  /* the system store does not know the test CA */
  tls_case tc = {"localhost", "server-chain.pem", "server.key", 0, 0, 0, NULL};
  wss_expect(&tc, tls_failed, "certificate verification failed");
}

TEST(client_wss_insecure_option_accepts_it) {
  tls_case tc = {"localhost", "server-chain.pem", "server.key", 0, 1, 0, NULL};
  wss_expect(&tc, ok_log, NULL);
}

/* A certificate from the test CA for another name (made with the openssl CLI). */
static void make_other_cert(const char *dir) {
  char cmd[1024];
  snprintf(cmd, sizeof cmd,
           "cd '%s' && openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
           "-keyout other.key -out other.csr -subj /CN=other.invalid 2>/dev/null && "
           "printf 'subjectAltName=DNS:other.invalid\\n' > other.ext && "
           "openssl x509 -req -in other.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
           "-out other.pem -days 2 -extfile other.ext 2>/dev/null",
           dir);
  CHECK_EQ(system(cmd), 0);
}

TEST(client_wss_wrong_host_fails) {
  /* trusted CA, valid chain, but issued for other.invalid */
  char dir[256];
  CHECK_EQ(peer_tmpdir(dir, sizeof dir), 0);
  CHECK_EQ(peer_make_ca(dir), 0);
  make_other_cert(dir);
  tls_case tc = {"localhost", "other.pem", "other.key", 1, 0, 0, dir};
  wss_expect(&tc, tls_failed, "hostname mismatch");
}

TEST(client_wss_missing_ca_file_fails) {
  wsc_options o;
  wsc_options_init(&o);
  o.tls_ca_file = "/nonexistent/ca.pem";
  rec r;
  char url[64];
  /* the CA is loaded when connecting: any listening port will do */
  peer_proc p;
  CHECK_INT(peer_start_py(&p, "py_server.py", "--mode", "echo", NULL), >, 0);
  snprintf(url, sizeof url, "wss://127.0.0.1:%d/", p.port);
  wsc_socket *ws = open_rec(&r, url, NULL, 0, &o);
  run(r.loop);
  CHECK_STR(log_str(&r), tls_failed);
  const char *msg;
  CHECK_EQ(wsc_socket_error(ws, &msg), WSC_ETLS);
  CHECK(strstr(msg, "trusted certificates") != NULL);
  close_rec(&r, 0);
  peer_stop(&p);
}

/* ---- keepalive ------------------------------------------------------------ */

TEST(client_keepalive_detects_a_dead_peer) {
  peer_proc p; /* answers the handshake, then never answers anything */
  CHECK_INT(peer_start_py(&p, "evil_server.py", "--mode", "no-close", NULL), >, 0);
  wsc_options o;
  wsc_options_init(&o);
  o.ping_interval_ms = 100;
  rec r;
  open_rec(&r, url_for(p.port, "/"), NULL, 0, &o);
  long long t0 = peer_now_ms();
  run(r.loop);
  long long took = peer_now_ms() - t0;
  CHECK_INT(took, >=, 190); /* one Ping, one interval without its Pong */
  CHECK_INT(took, <, 5000);
  CHECK_STR(log_str(&r), "open error:ETIMEDOUT close:1006::unclean");
  close_rec(&r, 0);
  peer_stop(&p);
}

static void close_later(uv_timer_t *t) {
  wsc_socket *ws = t->data;
  CHECK_EQ(wsc_socket_close(ws, 1000, "done", 4), 0);
  uv_close((uv_handle_t *)t, NULL);
}

TEST(client_keepalive_keeps_a_live_peer) {
  peer_proc p;
  CHECK_INT(peer_start_node(&p, "node_server.js", "--mode", "echo", NULL), >, 0);
  wsc_options o;
  wsc_options_init(&o);
  o.ping_interval_ms = 20; /* ~15 Pings answered before the close */
  rec r;
  wsc_socket *ws = open_rec(&r, url_for(p.port, "/"), NULL, 0, &o);
  uv_timer_t t;
  uv_timer_init(wsc_loop_uv(r.loop), &t);
  t.data = ws;
  uv_timer_start(&t, close_later, 300, 0);
  run(r.loop);
  CHECK_STR(log_str(&r), "open close:1000:done:clean");
  close_rec(&r, 0);
  peer_stop(&p);
}

/* ---- messages sent in pieces ---------------------------------------------- */

static void send_pieces_on_open(wsc_socket *ws, const wsc_event *ev, void *user) {
  (void)ev, (void)user;
  /* "κόσμε" cut inside its first character */
  CHECK_EQ(wsc_socket_send_fragment(ws, "\xce", 1, 1, 0), 0);
  CHECK_EQ(wsc_socket_send_text(ws, "x", 1), WSC_EINVALIDSTATE); /* a message is open */
  CHECK_EQ(wsc_socket_send_fragment(ws, "ab", 2, 0, 0), WSC_EINVAL); /* not binary */
  CHECK_EQ(wsc_socket_send_fragment(ws, "\xff", 1, 1, 0), WSC_ESYNTAX);
  CHECK_EQ(wsc_socket_send_fragment(ws, "\xba\xe1\xbd", 3, 1, 1), WSC_ESYNTAX); /* unfinished */
  CHECK_EQ(wsc_socket_send_fragment(ws, "\xba\xe1\xbd", 3, 1, 0), 0);
  CHECK_EQ(wsc_socket_send_fragment(ws, "\xb9\xcf\x83\xce\xbc\xce\xb5", 7, 1, 1), 0);
  CHECK_EQ(wsc_socket_send_text(ws, "after", 5), 0);
}

static void log_text(wsc_socket *ws, const wsc_event *ev, void *user) {
  (void)ws;
  const wsc_message_event *m = wsc_event_message(ev);
  logf_(user, "[%.*s]", (int)m->length, (const char *)m->data);
}

TEST(client_send_fragments) {
  peer_proc p;
  CHECK_INT(peer_start_node(&p, "node_server.js", "--mode", "echo", NULL), >, 0);
  rec r;
  wsc_socket *ws = open_rec(&r, url_for(p.port, "/"), NULL, 0, NULL);
  r.close_after = 2;
  CHECK_EQ(wsc_socket_send_fragment(ws, "x", 1, 1, 0), WSC_EINVALIDSTATE); /* CONNECTING */
  CHECK_EQ(wsc_socket_add_listener(ws, WSC_EVENT_OPEN, send_pieces_on_open, NULL), 0);
  CHECK_EQ(wsc_socket_add_listener(ws, WSC_EVENT_MESSAGE, log_text, &r), 0);
  run(r.loop);
  CHECK_STR(log_str(&r), "open msg:text:11 [\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5] msg:text:5 [after] "
                         "close:1000:done:clean");
  close_rec(&r, 0);
  peer_stop(&p);
}

/* ---- through an HTTP proxy (explicit option and environment) ------------- */

typedef struct proxy_case {
  const char *option;    /* wsc_options.proxy; NULL: the environment */
  const char *env_var;   /* set to the proxy URL when not NULL */
  const char *no_proxy;  /* no_proxy value, or NULL */
  const char *auth;      /* the proxy wants these credentials ("user:pass") */
  const char *userinfo;  /* credentials in the proxy URL ("user:pass@"), or "" */
  int secure;            /* wss:// through the tunnel */
  int expect_tunnel;     /* 1: the proxy must have opened a tunnel */
} proxy_case;

static void proxy_expect(const proxy_case *pc, const char *expected) {
  unsetenv("http_proxy");
  unsetenv("https_proxy");
  unsetenv("HTTPS_PROXY");
  unsetenv("all_proxy");
  unsetenv("ALL_PROXY");
  unsetenv("no_proxy");
  unsetenv("NO_PROXY");
  peer_certs certs;
  peer_proc srv, proxy;
  int port;
  if (pc->secure) {
    CHECK_EQ(peer_make_certs(&certs), 0);
    port = peer_start_py(&srv, "py_server.py", "--mode", "echo", "--tls", certs.chain, certs.key,
                         NULL);
  } else {
    port = peer_start_py(&srv, "py_server.py", "--mode", "echo", NULL);
  }
  CHECK_INT(port, >, 0);
  int proxy_port = pc->auth ? peer_start_py(&proxy, "connect_proxy.py", "--auth", pc->auth, NULL)
                            : peer_start_py(&proxy, "connect_proxy.py", NULL);
  CHECK_INT(proxy_port, >, 0);
  char proxy_url[160], url[128];
  snprintf(proxy_url, sizeof proxy_url, "http://%s127.0.0.1:%d", pc->userinfo, proxy_port);
  if (pc->env_var) setenv(pc->env_var, proxy_url, 1);
  if (pc->no_proxy) setenv("no_proxy", pc->no_proxy, 1);
  wsc_options o;
  wsc_options_init(&o);
  o.proxy = pc->option && strcmp(pc->option, "URL") == 0 ? proxy_url : pc->option;
  if (pc->secure) o.tls_ca_file = certs.ca;
  snprintf(url, sizeof url, "%s://localhost:%d/via-proxy", pc->secure ? "wss" : "ws", port);
  rec r;
  wsc_socket *ws = open_rec(&r, url, NULL, 0, &o);
  r.close_after = 1;
  r.expect = (const uint8_t *)"tunnelled";
  r.expect_len = 9;
  sender s = {"tunnelled", 9, 1};
  CHECK_EQ(wsc_socket_add_listener(ws, WSC_EVENT_OPEN, send_on_open, &s), 0);
  run(r.loop);
  CHECK_STR(log_str(&r), expected);
  CHECK(r.state_ok);
  char line[256];
  if (pc->expect_tunnel) {
    CHECK_EQ(peer_wait_line(&proxy, "TUNNEL ", line, sizeof line, 2000), 1);
    char want[64];
    snprintf(want, sizeof want, "localhost:%d", port);
    CHECK(strstr(line, want) != NULL);
  }
  close_rec(&r, 0);
  peer_stop(&proxy);
  if (!pc->expect_tunnel) /* nothing went through the proxy */
    CHECK_EQ(peer_wait_line(&proxy, "TUNNEL ", line, sizeof line, 100), 0);
  peer_stop(&srv);
}

static const char *proxied_ok = "open msg:text:9 close:1000:done:clean";

TEST(client_proxy_option) {
  proxy_case pc = {"URL", NULL, NULL, NULL, "", 0, 1};
  proxy_expect(&pc, proxied_ok);
}

TEST(client_proxy_from_http_proxy_env) {
  proxy_case pc = {NULL, "http_proxy", NULL, NULL, "", 0, 1};
  proxy_expect(&pc, proxied_ok);
}

TEST(client_proxy_wss_from_https_proxy_env) {
  proxy_case pc = {NULL, "https_proxy", NULL, NULL, "", 1, 1};
  proxy_expect(&pc, proxied_ok);
}

TEST(client_proxy_basic_auth) {
  proxy_case pc = {"URL", NULL, NULL, "alice:s3cr%t", "alice:s3cr%25t@", 0, 1};
  proxy_expect(&pc, proxied_ok);
}

TEST(client_proxy_auth_refused_is_eproxy) {
  proxy_case pc = {"URL", NULL, NULL, "alice:secret", "alice:wrong@", 0, 0};
  proxy_expect(&pc, "error:EPROXY close:1006::unclean");
}

TEST(client_proxy_no_proxy_goes_direct) {
  proxy_case pc = {NULL, "http_proxy", "example.org, localhost", NULL, "", 0, 0};
  proxy_expect(&pc, proxied_ok);
}

TEST(client_proxy_empty_option_overrides_env) {
  proxy_case pc = {"", "http_proxy", NULL, NULL, "", 0, 0};
  proxy_expect(&pc, proxied_ok);
}

TEST(client_proxy_bad_url_is_einval) {
  wsc_loop *loop;
  CHECK_EQ(wsc_loop_new(&loop), 0);
  wsc_options o;
  wsc_options_init(&o);
  o.proxy = "socks5://127.0.0.1:1080";
  wsc_socket *ws = NULL;
  CHECK_EQ(wsc_socket_new(loop, "ws://localhost:8080/", NULL, 0, &o, &ws), WSC_EINVAL);
  CHECK(ws == NULL);
  unsetenv("all_proxy");
  unsetenv("ALL_PROXY");
  setenv("http_proxy", "https://127.0.0.1:3128", 1);
  CHECK_EQ(wsc_socket_new(loop, "ws://localhost:8080/", NULL, 0, NULL, &ws), WSC_EINVAL);
  CHECK_EQ(wsc_loop_free(loop), 0);
}
