/* test_deflate_api.c - permessage-deflate through the public API
 * (wsc_options.deflate / wsc_server_options.deflate) and the CLI, against
 * real peers: Python's websockets and Node's ws, as servers for a wsc client
 * and as clients of a wsc server.
 *
 * Each combination checks the exact Sec-WebSocket-Extensions on both sides
 * (wsc_socket_extensions against the header the peer sent or received, and
 * the parameters expected in it), echoes messages of several sizes, and
 * checks what crossed the wire: bytes wsc queued for a send (the transport's
 * write buffers, measured around the call) and bytes it read (the transport's
 * read callback, wrapped), so compressible data that travels uncompressed
 * fails the test, and so does a message under the threshold that went out
 * compressed. Bad responses fail a client with WSC_EEXTENSION; a 10 MB
 * "bomb" of compressed zeros is stopped with 1009 at max_message. */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "api/socket.h"
#include "runcli.h"
#include "spawn.h"
#include "srvharness.h"
#include "test.h"
#include "wsc.h"

#define KIB 1024
#define MIB (1024 * 1024)
#define WAIT_MS 20000

/* ---- wire accounting ----------------------------------------------------- */

static uint64_t wire_in; /* bytes every wsc socket of this process has read */
static const wsc__tcp_callbacks *orig_cb;
static wsc__tcp_callbacks counting_cb;

static void counting_read(wsc__tcp *t, uint8_t *data, size_t len) {
  wire_in += len;
  orig_cb->on_read(t, data, len);
}

/* Count what ws reads from now on (the transport's callbacks, wrapped). */
static void count_reads(wsc_socket *ws) {
  orig_cb = ws->tcp.cb;
  counting_cb = *orig_cb;
  counting_cb.on_read = counting_read;
  ws->tcp.cb = &counting_cb;
}

/* Bytes ws's protocol core has handed to the transport so far: a send's wire
 * size is the difference across the call (no TLS here). Counted by wrapping
 * the core's on_send in a copy of the socket's core configuration (one copy
 * per configuration, which a server's sockets share). */
static uint64_t wire_out_total;
static int (*orig_send)(void *user, const uint8_t *data, size_t len);
static struct {
  const wsc__conn_config *orig;
  wsc__conn_config copy;
} send_cfgs[16];

static int counting_send(void *user, const uint8_t *data, size_t len) {
  wire_out_total += len;
  return orig_send(user, data, len);
}

static uint64_t queued(wsc_socket *ws) {
  if (ws->conn.cfg->on_send != counting_send) {
    size_t i = 0;
    while (i < 16 && send_cfgs[i].orig && send_cfgs[i].orig != ws->conn.cfg) i++;
    CHECK(i < 16);
    if (!send_cfgs[i].orig) {
      send_cfgs[i].orig = ws->conn.cfg;
      send_cfgs[i].copy = *ws->conn.cfg;
      orig_send = ws->conn.cfg->on_send;
      send_cfgs[i].copy.on_send = counting_send;
    }
    ws->conn.cfg = &send_cfgs[i].copy;
  }
  return wire_out_total;
}

/* Compressible: words from a small vocabulary (ASCII, so also text);
 * otherwise random bytes. */
static void fill(uint8_t *p, size_t n, int compressible, uint32_t seed) {
  static const char *const words[] = {"hello ", "world ", "deflate ", "data ",
                                      "wsc ",   "zlib ",  "window ",  "bits "};
  uint32_t x = seed * 2654435761u + 1;
  size_t i = 0;
  while (i < n) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    if (!compressible) {
      p[i++] = (uint8_t)x;
      continue;
    }
    const char *w = words[x % 8];
    for (size_t k = 0; w[k] && i < n; k++) p[i++] = (uint8_t)w[k];
  }
}

/* The value after "EXT " the peer printed, "" for "-". */
static const char *peer_ext(const char *line) {
  const char *v = line + 4;
  return strcmp(v, "-") == 0 ? "" : v;
}

static void check_params(const char *ext, const char *const *want) {
  for (size_t i = 0; want && want[i]; i++)
    if (!strstr(ext, want[i]))
      wsc_test_fail(__FILE__, __LINE__, "extensions \"%s\" lack \"%s\"", ext, want[i]);
}

/* ---- a wsc client on its own loop ---------------------------------------- */

typedef struct cl {
  wsc_loop *loop;
  uv_timer_t tick; /* wakes the loop so waits can check the time */
  wsc_socket *ws;
  wsc__buf log;
  int opened, closed, messages;
  wsc__buf got;
  int got_text;
} cl;

static void cl_logf(cl *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void cl_logf(cl *c, const char *fmt, ...) {
  char tmp[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (c->log.len) wsc__buf_puts(&c->log, " ");
  wsc__buf_puts(&c->log, tmp);
}

static const char *cl_log(cl *c) {
  wsc__buf_append(&c->log, "", 1);
  c->log.len--;
  return (const char *)c->log.data;
}

static void cl_open(wsc_socket *ws, const wsc_event *ev, void *user) {
  (void)ws;
  (void)ev;
  cl *c = user;
  c->opened = 1;
  cl_logf(c, "open");
}
static void cl_message(wsc_socket *ws, const wsc_event *ev, void *user) {
  (void)ws;
  cl *c = user;
  const wsc_message_event *m = wsc_event_message(ev);
  c->got.len = 0;
  CHECK_EQ(wsc__buf_append(&c->got, m->data, m->length), 0);
  c->got_text = m->is_text;
  c->messages++;
}
static void cl_error(wsc_socket *ws, const wsc_event *ev, void *user) {
  (void)ws;
  cl_logf(user, "error:%s", wsc_err_name(wsc_event_error(ev)->error));
}
static void cl_close(wsc_socket *ws, const wsc_event *ev, void *user) {
  (void)ws;
  cl *c = user;
  const wsc_close_event *e = wsc_event_close(ev);
  c->closed = 1;
  cl_logf(c, "close:%d:%s:%s", e->code, e->reason, e->was_clean ? "clean" : "unclean");
}
static void on_tick(uv_timer_t *t) { (void)t; }

static void cl_start(cl *c, int port, const wsc_options *o) {
  memset(c, 0, sizeof *c);
  CHECK_EQ(wsc_loop_new(&c->loop), 0);
  uv_timer_init(wsc_loop_uv(c->loop), &c->tick);
  uv_timer_start(&c->tick, on_tick, 10, 10);
  char url[64];
  snprintf(url, sizeof url, "ws://127.0.0.1:%d/", port);
  CHECK_EQ(wsc_socket_new(c->loop, url, NULL, 0, o, &c->ws), 0);
  count_reads(c->ws);
  wsc_socket_set_onopen(c->ws, cl_open, c);
  wsc_socket_set_onmessage(c->ws, cl_message, c);
  wsc_socket_set_onerror(c->ws, cl_error, c);
  wsc_socket_set_onclose(c->ws, cl_close, c);
}

/* Run the loop until *flag is at least want (or the socket closed). */
static void cl_wait(cl *c, const int *flag, int want, const char *what) {
  long long end = peer_now_ms() + WAIT_MS;
  while (*flag < want && !(c->closed && flag != &c->closed)) {
    if (peer_now_ms() > end) wsc_test_fail(__FILE__, __LINE__, "timed out waiting for %s (%s)",
                                           what, cl_log(c));
    uv_run(wsc_loop_uv(c->loop), UV_RUN_ONCE);
  }
}

static void cl_finish(cl *c) {
  if (c->ws) wsc_socket_free(c->ws);
  uv_close((uv_handle_t *)&c->tick, NULL);
  wsc_loop_run(c->loop);
  CHECK_EQ(wsc_loop_free(c->loop), 0);
  wsc__buf_free(&c->log);
  wsc__buf_free(&c->got);
}

/* Send one message and expect it back; *out / *in = bytes on the wire. */
static void cl_echo(cl *c, int text, const uint8_t *data, size_t n, size_t *out, size_t *in) {
  int before = c->messages;
  uint64_t q0 = queued(c->ws);
  uint64_t r0 = wire_in;
  CHECK_EQ(text ? wsc_socket_send_text(c->ws, (const char *)data, n)
                : wsc_socket_send_binary(c->ws, data, n), 0);
  *out = (size_t)(queued(c->ws) - q0);
  cl_wait(c, &c->messages, before + 1, "an echo");
  *in = (size_t)(wire_in - r0);
  CHECK_EQ(c->got.len, n);
  CHECK_EQ(c->got_text, text);
  if (n) CHECK_MEM(c->got.data, data, n);
}

typedef struct client_case {
  peer_lang lang;
  const char *const *peer_args; /* after --mode echo --log-extensions */
  wsc_deflate_options d;
  const char *const *want;      /* parameters the extensions must contain; NULL: none */
  int peer_threshold;           /* messages below it come back uncompressed */
} client_case;

/* A wsc client against a peer echo server: negotiation, echoes, wire sizes. */
static void run_client(const client_case *k) {
  const char *args[16] = {"--mode", "echo", "--log-extensions"};
  size_t na = 3;
  for (size_t i = 0; k->peer_args && k->peer_args[i]; i++) args[na++] = k->peer_args[i];
  args[na] = NULL;
  peer_proc p;
  int port = peer_start_script(&p, k->lang, k->lang == PEER_NODE ? "node_server.js" : "py_server.py",
                               args);
  CHECK_INT(port, >, 0);
  wsc_options o;
  wsc_options_init(&o);
  o.deflate = k->d;
  cl c;
  cl_start(&c, port, &o);
  cl_wait(&c, &c.opened, 1, "open");
  CHECK_EQ(c.opened, 1);
  char line[512];
  CHECK_EQ(peer_wait_line(&p, "EXT ", line, sizeof line, WAIT_MS), 1);
  const char *ext = wsc_socket_extensions(c.ws);
  fprintf(stderr, "negotiated: \"%s\"\n", ext);
  CHECK_STR(ext, peer_ext(line)); /* exactly what the server sent */
  int on = k->want != NULL;
  if (on) {
    CHECK(strncmp(ext, "permessage-deflate", 18) == 0);
    check_params(ext, k->want);
  } else {
    CHECK_STR(ext, "");
  }
  uint32_t threshold = k->d.threshold ? k->d.threshold : WSC_DEFLATE_DEFAULT_THRESHOLD;
  uint8_t *data = malloc(MIB);
  CHECK(data);
  static const struct { size_t n; int text, compressible; } msgs[] = {
      {0, 1, 1},      {1, 0, 1},       {199, 1, 1},      {200, 1, 1},     {200, 0, 0},
      {65537, 1, 1},  {65537, 0, 0},   {65537, 0, 1},    {MIB, 1, 1},     {MIB, 0, 0}};
  for (size_t i = 0; i < sizeof msgs / sizeof msgs[0]; i++) {
    size_t n = msgs[i].n, out, in;
    fill(data, n, msgs[i].compressible, (uint32_t)i);
    cl_echo(&c, msgs[i].text, data, n, &out, &in);
    size_t plain = n + 2 + (n > 125 ? 2 : 0) + (n > 65535 ? 6 : 0); /* header, unmasked */
    if (!on || n < threshold) {
      CHECK_EQ(out, plain + 4); /* as is, with the mask key */
    } else if (msgs[i].compressible) {
      CHECK_INT(out, <, n > 1000 ? n / 2 : plain + 4); /* compressed */
    } else {
      CHECK_INT(out, <, n + n / 40 + 64); /* barely grew */
    }
    if (!on || (n && (int)n < k->peer_threshold)) CHECK_EQ(in, plain); /* ws compresses empty ones */
    else if (msgs[i].compressible && n > 1000) CHECK_INT(in, <, n / 2);
  }
  free(data);
  CHECK_EQ(wsc_socket_close(c.ws, 1000, "done", 4), 0);
  cl_wait(&c, &c.closed, 1, "close");
  CHECK(strstr(cl_log(&c), "close:1000:done:clean") != NULL);
  cl_finish(&c);
  peer_stop(&p);
}

/* bufferedAmount counts the application's bytes of a compressed message (the
 * standard), not the few bytes it compresses to: sent from a message event
 * (the socket's output is corked until the event returns), 1 MiB of
 * compressible text is 1 MiB buffered; once it has all gone, 0. */
typedef struct big_send {
  cl *c;
  uint8_t *data;
  uint64_t wire, buffered; /* of the big send, right after it */
} big_send;

static void send_big_on_reply(wsc_socket *ws, const wsc_event *ev, void *user) {
  (void)ev;
  big_send *b = user;
  if (b->c->messages != 1) return; /* the reply to the first message */
  uint64_t q0 = queued(ws);
  CHECK_EQ(wsc_socket_send_text(ws, (const char *)b->data, MIB), 0);
  b->wire = queued(ws) - q0;
  b->buffered = wsc_socket_buffered_amount(ws);
}

TEST(api_client_buffered_amount_counts_uncompressed_bytes) {
  const char *args[] = {"--mode", "echo", "--log-extensions", NULL};
  peer_proc p;
  int port = peer_start_script(&p, PEER_PYTHON, "py_server.py", args);
  CHECK_INT(port, >, 0);
  cl c;
  cl_start(&c, port, NULL); /* the client offers permessage-deflate by default */
  big_send b = {&c, malloc(MIB), 0, 0};
  CHECK(b.data);
  fill(b.data, MIB, 1, 1);
  CHECK_EQ(wsc_socket_add_listener(c.ws, WSC_EVENT_MESSAGE, send_big_on_reply, &b), 0);
  cl_wait(&c, &c.opened, 1, "open");
  CHECK(strncmp(wsc_socket_extensions(c.ws), "permessage-deflate", 18) == 0);
  CHECK_EQ(wsc_socket_send_text(c.ws, "go", 2), 0);
  cl_wait(&c, &c.messages, 2, "the echo of the big message");
  fprintf(stderr, "1 MiB compressed to %llu bytes; bufferedAmount after send: %llu\n",
          (unsigned long long)b.wire, (unsigned long long)b.buffered);
  CHECK_INT(b.wire, <, MIB / 4);
  CHECK_EQ(b.buffered, MIB);
  CHECK_EQ(c.got.len, MIB);
  CHECK_MEM(c.got.data, b.data, MIB);
  CHECK_EQ(wsc_socket_buffered_amount(c.ws), 0);
  free(b.data);
  cl_finish(&c);
  peer_stop(&p);
}

#define PARAMS(...) ((const char *const[]){__VA_ARGS__, NULL})
#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})
#define D(...) ((wsc_deflate_options){__VA_ARGS__})

/* Python websockets 10.4: its default server factory answers with 12-bit
 * windows both ways; it compresses every message. */
TEST(api_client_py_default) {
  client_case k = {PEER_PYTHON, NULL, D(0),
                   PARAMS("server_max_window_bits=12", "client_max_window_bits=12"), 0};
  run_client(&k);
}
TEST(api_client_py_server_no_context_takeover) {
  client_case k = {PEER_PYTHON, NULL, D(.server_no_context_takeover = 1),
                   PARAMS("server_no_context_takeover"), 0};
  run_client(&k);
}
TEST(api_client_py_client_no_context_takeover) {
  client_case k = {PEER_PYTHON, NULL, D(.client_no_context_takeover = 1),
                   PARAMS("client_no_context_takeover"), 0};
  run_client(&k);
}
TEST(api_client_py_server_window_9) {
  client_case k = {PEER_PYTHON, NULL, D(.server_max_window_bits = 9),
                   PARAMS("server_max_window_bits=9"), 0};
  run_client(&k);
}
TEST(api_client_py_client_window_9_threshold_200) {
  client_case k = {PEER_PYTHON, NULL, D(.client_max_window_bits = 9, .threshold = 200),
                   PARAMS("client_max_window_bits=9"), 0};
  run_client(&k);
}
TEST(api_client_py_windows_12) {
  client_case k = {PEER_PYTHON, ARGS("--deflate-server-max-window-bits", "15"),
                   D(.server_max_window_bits = 12, .client_max_window_bits = 12),
                   PARAMS("server_max_window_bits=12"), 0};
  run_client(&k);
}
TEST(api_client_py_no_takeover_both) {
  client_case k = {PEER_PYTHON, NULL,
                   D(.server_no_context_takeover = 1, .client_no_context_takeover = 1),
                   PARAMS("server_no_context_takeover", "client_no_context_takeover"), 0};
  run_client(&k);
}
TEST(api_client_py_deflate_off) {
  client_case k = {PEER_PYTHON, NULL, D(.mode = WSC_DEFLATE_OFF), NULL, 0};
  run_client(&k);
}
TEST(api_client_py_server_declines) {
  client_case k = {PEER_PYTHON, ARGS("--no-deflate"), D(0), NULL, 0};
  run_client(&k);
}

/* Node ws 8: its threshold (1 KiB) applies only when it does not keep
 * context (server_no_context_takeover); otherwise it compresses everything. */
TEST(api_client_node_default) {
  client_case k = {PEER_NODE, ARGS("--deflate"), D(0), PARAMS("permessage-deflate"), 0};
  run_client(&k);
}
TEST(api_client_node_server_no_context_takeover) {
  client_case k = {PEER_NODE, ARGS("--deflate"), D(.server_no_context_takeover = 1),
                   PARAMS("server_no_context_takeover"), 1024};
  run_client(&k);
}
TEST(api_client_node_client_no_context_takeover) {
  client_case k = {PEER_NODE, ARGS("--deflate"), D(.client_no_context_takeover = 1),
                   PARAMS("client_no_context_takeover"), 0};
  run_client(&k);
}
TEST(api_client_node_windows_9_and_12) {
  client_case k = {PEER_NODE, ARGS("--deflate"),
                   D(.server_max_window_bits = 9, .client_max_window_bits = 12),
                   PARAMS("server_max_window_bits=9", "client_max_window_bits=12"), 0};
  run_client(&k);
}
TEST(api_client_node_no_takeover_both) {
  client_case k = {PEER_NODE, ARGS("--deflate"),
                   D(.server_no_context_takeover = 1, .client_no_context_takeover = 1),
                   PARAMS("server_no_context_takeover", "client_no_context_takeover"), 1024};
  run_client(&k);
}
TEST(api_client_node_server_off) {
  client_case k = {PEER_NODE, NULL, D(0), NULL, 0};
  run_client(&k);
}

/* ---- bad responses: WSC_EEXTENSION, then close 1006 ---------------------- */

static void bad_response(const wsc_deflate_options *d, const char *response) {
  peer_proc p;
  int port = peer_start_py(&p, "evil_server.py", "--mode", "unoffered-extension", "--extension",
                           response, NULL);
  CHECK_INT(port, >, 0);
  wsc_options o;
  wsc_options_init(&o);
  o.deflate = *d;
  cl c;
  cl_start(&c, port, &o);
  cl_wait(&c, &c.closed, 1, "close");
  const char *why;
  wsc_socket_error(c.ws, &why);
  fprintf(stderr, "\"%s\": %s (%s)\n", response, cl_log(&c), why);
  CHECK_STR(cl_log(&c), "error:EEXTENSION close:1006::unclean");
  CHECK_STR(wsc_socket_extensions(c.ws), "");
  cl_finish(&c);
  peer_stop(&p);
}

TEST(api_client_bad_responses) {
  wsc_deflate_options def = D(0);
  bad_response(&D(.mode = WSC_DEFLATE_OFF), "permessage-deflate"); /* not offered */
  bad_response(&def, "permessage-deflate; server_max_window_bits=10; server_max_window_bits=10");
  bad_response(&def, "permessage-deflate; client_no_context_takeover; client_no_context_takeover");
  bad_response(&def, "permessage-deflate; client_max_window_bits=16");
  bad_response(&def, "permessage-deflate; server_max_window_bits=7");
  bad_response(&def, "permessage-deflate; x-unknown");
  bad_response(&def, "permessage-deflate, permessage-deflate");
  bad_response(&def, "permessage-deflate; =10");
  bad_response(&def, "x-other");
  /* more than was asked for, or a request ignored */
  bad_response(&D(.server_max_window_bits = 10), "permessage-deflate; server_max_window_bits=12");
  bad_response(&D(.server_max_window_bits = 10), "permessage-deflate");
  bad_response(&D(.client_max_window_bits = 10), "permessage-deflate; client_max_window_bits=12");
  bad_response(&D(.server_no_context_takeover = 1), "permessage-deflate");
}

TEST(api_options_out_of_range) {
  wsc_loop *loop;
  CHECK_EQ(wsc_loop_new(&loop), 0);
  static const wsc_deflate_options bad[] = {
      {.mode = 3},  {.mode = -1}, {.server_max_window_bits = 7}, {.server_max_window_bits = 16},
      {.client_max_window_bits = 16}, {.client_max_window_bits = 1},
      {.server_no_context_takeover = 2}, {.client_no_context_takeover = -1},
      {.level = 10}, {.level = -1}};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    wsc_options o;
    wsc_options_init(&o);
    o.deflate = bad[i];
    wsc_socket *ws = NULL;
    CHECK_EQ(wsc_socket_new(loop, "ws://127.0.0.1:1234/", NULL, 0, &o, &ws), WSC_EINVAL);
    wsc_server_options so;
    wsc_server_options_init(&so);
    so.deflate = bad[i];
    so.deflate.mode = bad[i].mode ? bad[i].mode : WSC_DEFLATE_ON;
    wsc_server *srv = NULL;
    CHECK_EQ(wsc_server_new(loop, &so, &srv), WSC_EINVAL);
  }
  CHECK_EQ(wsc_loop_free(loop), 0);
}

/* ---- a wsc server and peer clients ---------------------------------------- */

typedef struct srv_state {
  char ext[256];       /* the last server socket's extensions */
  uint64_t payload_in, payload_out, wire_out;
  wsc__buf log;
} srv_state;
static srv_state S;

static void s_logf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void s_logf(const char *fmt, ...) {
  char tmp[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (S.log.len) wsc__buf_puts(&S.log, " ");
  wsc__buf_puts(&S.log, tmp);
  wsc__buf_append(&S.log, "", 1);
  S.log.len--;
}

static void s_message(wsc_socket *ws, const wsc_event *ev, void *user) {
  (void)user;
  const wsc_message_event *m = wsc_event_message(ev);
  S.payload_in += m->length;
  uint64_t q0 = queued(ws);
  if (m->is_text) wsc_socket_send_text(ws, m->data, m->length);
  else wsc_socket_send_binary(ws, m->data, m->length);
  S.payload_out += m->length;
  S.wire_out += queued(ws) - q0;
}
static void s_error(wsc_socket *ws, const wsc_event *ev, void *user) {
  (void)ws;
  (void)user;
  s_logf("error:%s", wsc_err_name(wsc_event_error(ev)->error));
}
static void s_close(wsc_socket *ws, const wsc_event *ev, void *user) {
  (void)ws;
  sh_ctx *t = user;
  const wsc_close_event *e = wsc_event_close(ev);
  s_logf("close:%d:%s", e->code, e->was_clean ? "clean" : "unclean");
  t->closes++;
}
static void s_connection(wsc_server *srv, wsc_socket *ws, const wsc_request *req, void *user) {
  (void)srv;
  (void)req;
  snprintf(S.ext, sizeof S.ext, "%s", wsc_socket_extensions(ws));
  s_logf("open");
  count_reads(ws);
  wsc_socket_set_binary_type(ws, WSC_BINARY_ARRAYBUFFER);
  wsc_socket_set_onmessage(ws, s_message, user);
  wsc_socket_set_onerror(ws, s_error, user);
  wsc_socket_set_onclose(ws, s_close, user);
}

static void s_init(sh_ctx *t, const wsc_server_options *o) {
  memset(&S, 0, sizeof S);
  wire_in = 0;
  sh_init(t, o);
  wsc_server_set_onconnection(t->srv, s_connection, t);
}

typedef struct server_case {
  int node;                    /* 0 py_client.py, 1 node_client.js */
  const char *const *client_args; /* deflate options of the client; NULL: offers nothing */
  wsc_deflate_options d;
  const char *const *want;     /* parameters expected; NULL: not negotiated */
  int text_only;               /* the client's binary payload does not compress */
} server_case;
static wsc_upgrade_fn server_upgrade; /* run_server's upgrade callback, if any */

static void run_server(const server_case *k) {
  sh_ctx c, *t = &c;
  wsc_server_options o;
  wsc_server_options_init(&o);
  o.deflate = k->d;
  s_init(t, &o);
  if (server_upgrade) wsc_server_set_onupgrade(t->srv, server_upgrade, NULL);
  char url[128];
  sh_url(t, "ws", "/", url, sizeof url);
  /* node_client's binary payload never compresses (a byte ramp that does not
   * repeat within a window), py_client's (0..255 repeated) not at 9 bits
   * (zlib reaches back at most 250 bytes): text only there */
  char script[512];
  snprintf(script, sizeof script, "%s/%s", peer_dir(), k->node ? "node_client.js" : "py_client.py");
  const char *argv[28] = {k->node ? peer_node() : peer_python(), script, url, "--mode", "echo",
                          "--sizes", "0,1,200,65537,1048576", "--kinds",
                          k->node || k->text_only ? "text" : "text,binary"};
  size_t na = 9;
  for (size_t i = 0; k->client_args && k->client_args[i]; i++) argv[na++] = k->client_args[i];
  argv[na] = NULL;
  if (k->node) setenv("NODE_PATH", "/usr/share/nodejs:/usr/lib/nodejs", 1); /* as sh_node */
  sh_proc *p = sh_spawn(t, argv);
  sh_wait_ok(t, p, 60);
  SH_HAS_LINE(p, "ECHO text 1048576 ok");
  if (!sh_line(p, "CLOSED 1000")) sh_fail_dump(t, __FILE__, __LINE__, "no CLOSED 1000");
  fprintf(stderr, "server sent: \"%s\"\n", S.ext);
  if (k->client_args) {
    const char *line = sh_line(p, "EXT ");
    if (!line) sh_fail_dump(t, __FILE__, __LINE__, "the client printed no EXT line");
    CHECK_STR(S.ext, peer_ext(line)); /* exactly what the client received */
  }
  if (k->want) {
    CHECK(strncmp(S.ext, "permessage-deflate", 18) == 0);
    check_params(S.ext, k->want);
    /* the 1 MiB messages dominate: compressed both ways */
    CHECK_INT(wire_in, <, S.payload_in / 2);
    CHECK_INT(S.wire_out, <, S.payload_out / 2);
  } else {
    CHECK_STR(S.ext, "");
    CHECK_INT(wire_in, >, S.payload_in);
    CHECK_INT(S.wire_out, >, S.payload_out);
  }
  sh_wait_count(t, &t->closes, 1, 10, "the close event");
  CHECK(strstr((const char *)S.log.data, "close:1000:clean") != NULL);
  sh_finish(t);
  wsc__buf_free(&S.log);
}

#define ON(...) D(.mode = WSC_DEFLATE_ON, __VA_ARGS__)

TEST(api_server_py_defaults) {
  /* our default when ON: a 12-bit server window, the client's window free */
  server_case k = {0, ARGS("--deflate"), ON(.threshold = 0),
                   PARAMS("server_max_window_bits=12"), 0};
  run_server(&k);
  CHECK(strstr(S.ext, "client_max_window_bits") == NULL);
}
TEST(api_server_py_server_no_context_takeover) {
  server_case k = {0, ARGS("--deflate"), ON(.server_no_context_takeover = 1),
                   PARAMS("server_no_context_takeover"), 0};
  run_server(&k);
}
TEST(api_server_py_client_no_context_takeover) {
  server_case k = {0, ARGS("--deflate"), ON(.client_no_context_takeover = 1),
                   PARAMS("client_no_context_takeover"), 0};
  run_server(&k);
}
TEST(api_server_py_windows_9) {
  server_case k = {0, ARGS("--deflate"),
                   ON(.server_max_window_bits = 9, .client_max_window_bits = 9),
                   PARAMS("server_max_window_bits=9", "client_max_window_bits=9"), 1};
  run_server(&k);
}
TEST(api_server_py_client_asks) {
  server_case k = {0,
                   ARGS("--deflate", "--deflate-server-no-context-takeover",
                        "--deflate-client-no-context-takeover",
                        "--deflate-server-max-window-bits", "12",
                        "--deflate-client-max-window-bits", "12"),
                   ON(.server_max_window_bits = 15),
                   PARAMS("server_no_context_takeover", "client_no_context_takeover",
                          "server_max_window_bits=12", "client_max_window_bits=12"), 0};
  run_server(&k);
}
TEST(api_server_py_level) {
  /* the same echoes at level 1 and 9: the option reaches the compressor */
  server_case fast = {0, ARGS("--deflate"), ON(.level = 1), PARAMS("server_max_window_bits=12"), 0};
  run_server(&fast);
  uint64_t wire_fast = S.wire_out, payload = S.payload_out;
  server_case small = {0, ARGS("--deflate"), ON(.level = 9), PARAMS("server_max_window_bits=12"),
                       0};
  run_server(&small);
  fprintf(stderr, "level 1: %llu bytes, level 9: %llu bytes for %llu\n",
          (unsigned long long)wire_fast, (unsigned long long)S.wire_out,
          (unsigned long long)payload);
  CHECK_EQ(S.payload_out, payload);
  CHECK_INT(S.wire_out, <, wire_fast);
}
static void decline_deflate(wsc_server *srv, wsc_request *req, void *user) {
  (void)srv;
  (void)user;
  CHECK_EQ(wsc_request_accept(req, NULL), 0);
  CHECK_EQ(wsc_request_decline_deflate(req), 0); /* after accepting: still in time */
}
TEST(api_server_py_upgrade_declines_deflate) {
  /* the server allows it and the client offers it; the upgrade callback says no */
  server_case k = {0, ARGS("--deflate"), ON(.threshold = 0), NULL, 0};
  server_upgrade = decline_deflate;
  run_server(&k);
  server_upgrade = NULL;
}
TEST(api_server_py_server_off) {
  server_case k = {0, ARGS("--deflate"), D(0), NULL, 0}; /* the server's default: declined */
  run_server(&k);
}
TEST(api_server_py_client_off) {
  server_case k = {0, NULL, ON(.threshold = 0), NULL, 0};
  run_server(&k);
}
TEST(api_server_node_defaults) {
  server_case k = {1, ARGS("--deflate-options", "{}"), ON(.threshold = 0),
                   PARAMS("server_max_window_bits=12"), 0};
  run_server(&k);
}
TEST(api_server_node_no_takeover_both) {
  server_case k = {1, ARGS("--deflate-options", "{}"),
                   ON(.server_no_context_takeover = 1, .client_no_context_takeover = 1),
                   PARAMS("server_no_context_takeover", "client_no_context_takeover"), 0};
  run_server(&k);
}
TEST(api_server_node_client_asks_windows) {
  server_case k = {1,
                   ARGS("--deflate-options",
                        "{\"serverMaxWindowBits\":9,\"clientMaxWindowBits\":12}"),
                   ON(.server_max_window_bits = 15),
                   PARAMS("server_max_window_bits=9", "client_max_window_bits=12"), 0};
  run_server(&k);
}
TEST(api_server_node_server_off) {
  server_case k = {1, ARGS("--deflate-options", "{}"), D(.mode = WSC_DEFLATE_OFF), NULL, 0};
  run_server(&k);
}

/* ---- the bomb: 10 MB of zeros in about 10 KB, max_message 1 MiB ---------- */

TEST(api_server_deflate_bomb_1009) {
  sh_ctx c, *t = &c;
  wsc_server_options o;
  wsc_server_options_init(&o);
  o.deflate.mode = WSC_DEFLATE_ON;
  o.max_message = MIB;
  s_init(t, &o);
  long rss0 = sh_status_kib("VmRSS");
  char port[16], script[512];
  snprintf(port, sizeof port, "%d", wsc_server_port(t->srv));
  snprintf(script, sizeof script, "%s/raw_client.py", peer_dir());
  const char *argv[] = {peer_python(), script, "127.0.0.1", port, "--mode", "deflate-bomb",
                        "--length", "10000000", NULL};
  sh_proc *p = sh_spawn(t, argv);
  sh_wait_ok(t, p, 30);
  SH_HAS_LINE(p, "EXT permessage-deflate; server_max_window_bits=12");
  if (!sh_line(p, "CLOSE 1009 ")) sh_fail_dump(t, __FILE__, __LINE__, "no CLOSE 1009");
  sh_wait_count(t, &t->closes, 1, 10, "the close event");
  CHECK_STR((const char *)S.log.data, "open error:ETOOBIG close:1006:unclean");
  CHECK_INT(wire_in, <, 100 * KIB); /* it was a bomb */
  long rss1 = sh_status_kib("VmRSS");
  fprintf(stderr, "RSS %ld -> %ld KiB\n", rss0, rss1);
  if (rss0 > 0 && rss1 > 0) CHECK_INT(rss1 - rss0, <, 8 * 1024); /* nowhere near 10 MB */
  sh_finish(t);
  wsc__buf_free(&S.log);
}

TEST(api_client_deflate_bomb_1009) {
  peer_proc p;
  int port = peer_start_py(&p, "evil_server.py", "--mode", "deflate-bomb", NULL);
  CHECK_INT(port, >, 0);
  wsc_options o;
  wsc_options_init(&o);
  o.max_message = MIB;
  cl c;
  cl_start(&c, port, &o);
  cl_wait(&c, &c.closed, 1, "close");
  const char *why;
  wsc_socket_error(c.ws, &why);
  fprintf(stderr, "%s: %s\n", cl_log(&c), why);
  CHECK_STR(cl_log(&c), "open error:ETOOBIG close:1006::unclean");
  char line[256];
  CHECK_EQ(peer_wait_line(&p, "CLOSE ", line, sizeof line, WAIT_MS), 1);
  CHECK(strncmp(line, "CLOSE 1009 ", 11) == 0);
  size_t peak = 0;
  wsc__conn_deflate_memory(&c.ws->conn, &peak);
  size_t msg_cap = c.ws->ext ? c.ws->ext->msg.cap : 0;
  fprintf(stderr, "zlib peak %zu bytes, message buffer %zu\n", peak, msg_cap);
  CHECK_INT(peak, <, 64 * KIB);   /* the inflater only */
  CHECK_INT(msg_cap, <=, 2 * MIB); /* never more than the limit's worth */
  CHECK_INT(wire_in, <, 100 * KIB);
  cl_finish(&c);
  peer_stop(&p);
}

/* ---- the CLI ----------------------------------------------------------------- */

static sh_proc *start_echo(sh_ctx *t, const char *opt, const char *val, int *port) {
  const char *argv[] = {WSC_BINARY_DIR "/wsc", "echo", "--listen", "127.0.0.1:0", opt, val, NULL};
  sh_proc *e = sh_spawn(t, argv);
  sh_wait_line(t, e, "listening on ", 10);
  const char *line = sh_line(e, "listening on 127.0.0.1:");
  if (!line) sh_fail_dump(t, __FILE__, __LINE__, "wsc echo printed no IPv4 address");
  *port = atoi(line + strlen("listening on 127.0.0.1:"));
  return e;
}

static void cli_echo_deflate(const char *opt, const char *val, const char *want) {
  sh_ctx c, *t = &c;
  sh_init(t, NULL);
  int port;
  sh_proc *e = start_echo(t, opt, val, &port);
  char url[64];
  snprintf(url, sizeof url, "ws://127.0.0.1:%d/", port);
  sh_proc *py = sh_py(t, "py_client.py", url, "--mode", "echo", "--sizes", "0,200,70000",
                      "--deflate", NULL);
  sh_proc *node = sh_node(t, "node_client.js", url, "--mode", "echo", "--sizes", "0,200,70000",
                          "--deflate-options", "{}", NULL);
  sh_wait_ok(t, py, 30);
  sh_wait_ok(t, node, 30);
  char line[256];
  snprintf(line, sizeof line, "EXT %s", want);
  SH_HAS_LINE(py, line);
  SH_HAS_LINE(node, line);
  SH_HAS_LINE(py, "ECHO binary 70000 ok");
  SH_HAS_LINE(node, "ECHO binary 70000 ok");
  CHECK_EQ(uv_process_kill(&e->handle, SIGTERM), 0);
  sh_wait_ok(t, e, 15);
  sh_finish(t);
}

TEST(cli_echo_deflate) { cli_echo_deflate("--deflate", NULL, "permessage-deflate; server_max_window_bits=12"); }
TEST(cli_echo_deflate_no_takeover) {
  cli_echo_deflate("--deflate-no-takeover", NULL, "permessage-deflate; server_no_context_takeover; "
                                            "client_no_context_takeover; server_max_window_bits=12");
}
TEST(cli_echo_deflate_window) {
  cli_echo_deflate("--deflate-window", "10", "permessage-deflate; server_max_window_bits=10; "
                                       "client_max_window_bits=10");
}

/* `wsc connect` offers like a browser; --no-deflate offers nothing. */
static void cli_connect_offer(const char *opt, const char *want_header, const char *want_ext) {
  peer_proc p;
  int port = peer_start_py(&p, "py_server.py", "--mode", "echo", "--log-headers", NULL);
  CHECK_INT(port, >, 0);
  char url[64];
  snprintf(url, sizeof url, "ws://127.0.0.1:%d/", port);
  const char *args[] = {"connect", "-v", "-x", "hello", url, opt, NULL};
  cli_proc c;
  CHECK_EQ(cli_start(&c, args, "/dev/null"), 0);
  CHECK_EQ(cli_wait(&c, WAIT_MS), 0);
  char line[4096];
  CHECK_EQ(peer_wait_line(&p, "HEADERS ", line, sizeof line, WAIT_MS), 1);
  fprintf(stderr, "%s\n%s", line, cli_stderr(&c));
  if (want_header) CHECK(strstr(line, want_header) != NULL);
  else CHECK(strstr(line, "Sec-WebSocket-Extensions") == NULL);
  CHECK(strstr(cli_stderr(&c), want_ext) != NULL);
  cli_free(&c);
  peer_stop(&p);
}

TEST(cli_connect_offers_deflate) {
  cli_connect_offer(NULL, "[\"Sec-WebSocket-Extensions\", \"permessage-deflate; client_max_window_bits\"]",
                    "extensions: permessage-deflate; server_max_window_bits=12; "
                    "client_max_window_bits=12");
}
TEST(cli_connect_no_deflate) { cli_connect_offer("--no-deflate", NULL, "extensions: (none)"); }
