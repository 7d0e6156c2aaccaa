/* srvharness.c - the wsc server under test and its client processes on one
 * loop; see srvharness.h. */
#include "srvharness.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "spawn.h"
#include "test.h"

#define TICK_MS 20

/* ---- the server's event log ---------------------------------------------- */

static void logf_(sh_ctx *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(sh_ctx *t, const char *fmt, ...) {
  char tmp[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (t->log.len) wsc__buf_puts(&t->log, " ");
  wsc__buf_puts(&t->log, tmp);
}

/* Returns the log NUL-terminated (the terminator is not counted in len). */
const char *sh_log(sh_ctx *t) {
  wsc__buf_append(&t->log, "", 1);
  t->log.len--;
  return (const char *)t->log.data;
}

/* A socket streaming messages (cmd:stream): its timer and what is left. */
typedef struct streamer {
  uv_timer_t timer;
  sh_ctx *t;
  wsc_socket *ws; /* NULL once the socket closed */
  int left;
  size_t size;
  uint8_t *data;
} streamer;

static void streamer_closed(uv_handle_t *h) {
  streamer *s = h->data;
  free(s->data);
  free(s);
}

static void streamer_stop(streamer *s) {
  if (!uv_is_closing((uv_handle_t *)&s->timer)) uv_close((uv_handle_t *)&s->timer, streamer_closed);
}

/* Returns nothing; sends one message per tick while the socket is OPEN. */
static void stream_tick(uv_timer_t *timer) {
  streamer *s = timer->data;
  if (!s->ws || s->left <= 0 || wsc_socket_ready_state(s->ws) != WSC_OPEN) {
    if (s->ws) wsc_socket_set_user(s->ws, NULL);
    streamer_stop(s);
    return;
  }
  uint64_t b = wsc_socket_buffered_amount(s->ws);
  if (b > s->t->peak_buffered) s->t->peak_buffered = b;
  s->left--;
  CHECK_EQ(wsc_socket_send_binary(s->ws, s->data, s->size), 0);
}

static void run_command(sh_ctx *t, wsc_socket *ws, const char *cmd, size_t len) {
  char buf[256];
  if (len >= sizeof buf) return;
  memcpy(buf, cmd, len);
  buf[len] = 0;
  int code, n;
  size_t size;
  char reason[128] = "";
  if (sscanf(buf, "cmd:close:%d:%127[^\n]", &code, reason) >= 1) {
    CHECK_EQ(wsc_socket_close(ws, code, reason, strlen(reason)), 0);
  } else if (sscanf(buf, "cmd:burst:%d:%zu", &n, &size) == 2) {
    uint8_t *data = calloc(1, size ? size : 1);
    for (int i = 0; i < n; i++) CHECK_EQ(wsc_socket_send_binary(ws, data, size), 0);
    free(data);
  } else if (sscanf(buf, "cmd:stream:%d:%zu", &n, &size) == 2) {
    streamer *s = calloc(1, sizeof *s);
    s->t = t;
    s->ws = ws;
    s->left = n;
    s->size = size;
    s->data = calloc(1, size ? size : 1);
    CHECK_EQ(uv_timer_init(t->uv, &s->timer), 0);
    s->timer.data = s;
    wsc_socket_set_user(ws, s);
    uv_timer_start(&s->timer, stream_tick, 1, 1);
  }
}

static void ev_open(wsc_socket *ws, const wsc_event *ev, void *user) {
  sh_ctx *t = user;
  (void)ev;
  CHECK_EQ(wsc_socket_ready_state(ws), WSC_OPEN);
  const char *p = wsc_socket_protocol(ws);
  logf_(t, "open:%s", *p ? p : "-");
  t->opened++;
  t->last = ws;
}

static void ev_message(wsc_socket *ws, const wsc_event *ev, void *user) {
  sh_ctx *t = user;
  const wsc_message_event *m = wsc_event_message(ev);
  CHECK_EQ(wsc_socket_ready_state(ws), WSC_OPEN);
  t->messages++;
  if (t->messages <= 64) /* long runs are checked by counters */
    logf_(t, "msg:%s:%zu", m->is_text ? "text" : "binary", m->length);
  if (m->is_text && m->length >= 4 && memcmp(m->data, "cmd:", 4) == 0) {
    run_command(t, ws, m->data, m->length);
    return;
  }
  if (!t->echo) return;
  int rc = m->is_text ? wsc_socket_send_text(ws, m->data, m->length)
                      : wsc_socket_send_binary(ws, m->data, m->length);
  CHECK_EQ(rc, 0);
}

static void ev_error(wsc_socket *ws, const wsc_event *ev, void *user) {
  sh_ctx *t = user;
  CHECK_EQ(wsc_socket_ready_state(ws), WSC_CLOSED);
  t->errors++;
  t->last_error = wsc_event_error(ev)->error;
  logf_(t, "error:%s", wsc_err_name(wsc_event_error(ev)->error));
}

static void ev_close(wsc_socket *ws, const wsc_event *ev, void *user) {
  sh_ctx *t = user;
  const wsc_close_event *c = wsc_event_close(ev);
  CHECK_EQ(wsc_socket_ready_state(ws), WSC_CLOSED);
  t->closes++;
  if (c->was_clean) t->clean_closes++;
  logf_(t, "close:%d:%s:%s", c->code, c->reason, c->was_clean ? "clean" : "unclean");
  streamer *s = wsc_socket_user(ws);
  if (s) s->ws = NULL; /* the server frees the socket after this event */
  if (t->last == ws) t->last = NULL;
}

static void ev_drain(wsc_socket *ws, const wsc_event *ev, void *user) {
  sh_ctx *t = user;
  (void)ev;
  CHECK_EQ(wsc_socket_buffered_amount(ws), 0);
  t->drains++;
  logf_(t, "drain");
}

static void on_connection(wsc_server *srv, wsc_socket *ws, const wsc_request *req, void *user) {
  sh_ctx *t = user;
  (void)req;
  CHECK(wsc_socket_server(ws) == srv);
  CHECK_EQ(wsc_socket_ready_state(ws), WSC_OPEN);
  t->connections++;
  wsc_socket_set_binary_type(ws, WSC_BINARY_ARRAYBUFFER);
  CHECK_EQ(wsc_socket_set_onopen(ws, ev_open, t), 0);
  CHECK_EQ(wsc_socket_set_onmessage(ws, ev_message, t), 0);
  CHECK_EQ(wsc_socket_set_onerror(ws, ev_error, t), 0);
  CHECK_EQ(wsc_socket_set_onclose(ws, ev_close, t), 0);
  CHECK_EQ(wsc_socket_set_ondrain(ws, ev_drain, t), 0);
  if (t->pause_on_open) CHECK_EQ(wsc_socket_pause(ws), 0);
}

/* ---- setup and teardown -------------------------------------------------- */

static void on_tick(uv_timer_t *timer) { (void)timer; }

void sh_init(sh_ctx *t, const wsc_server_options *opts) {
  memset(t, 0, sizeof *t);
  t->echo = 1;
  signal(SIGPIPE, SIG_IGN);
  setenv("NODE_PATH", "/usr/share/nodejs:/usr/lib/nodejs", 1);
  CHECK_EQ(wsc_loop_new(&t->loop), 0);
  t->uv = wsc_loop_uv(t->loop);
  CHECK_EQ(uv_timer_init(t->uv, &t->tick), 0);
  uv_timer_start(&t->tick, on_tick, TICK_MS, TICK_MS);
  int rc = wsc_server_new(t->loop, opts, &t->srv);
  if (rc) wsc_test_fail(__FILE__, __LINE__, "wsc_server_new: %s", wsc_strerror(rc));
  wsc_server_set_onconnection(t->srv, on_connection, t);
  rc = wsc_server_listen(t->srv, "127.0.0.1:0");
  if (rc) wsc_test_fail(__FILE__, __LINE__, "wsc_server_listen: %s", wsc_strerror(rc));
  CHECK_INT(wsc_server_port(t->srv), >, 0);
}

static void on_done(wsc_server *srv, void *user) {
  sh_ctx *t = user;
  CHECK(srv == t->srv);
  t->done_called++;
}

void sh_shutdown(sh_ctx *t, uint32_t timeout_ms) {
  CHECK_EQ(wsc_server_close(t->srv, timeout_ms, on_done, t), 0);
}

static int all_exited(sh_ctx *t, void *arg) {
  (void)arg;
  for (int i = 0; i < t->nprocs; i++)
    if (t->procs[i].started && (!t->procs[i].exited || t->procs[i].open_handles)) return 0;
  return 1;
}

static int done_called(sh_ctx *t, void *arg) {
  (void)arg;
  return t->done_called > 0;
}

void sh_finish(sh_ctx *t) {
  for (int i = 0; i < t->nprocs; i++) sh_close_stdin(&t->procs[i]);
  sh_wait(t, all_exited, NULL, 15, "every client to exit");
  if (t->srv) {
    if (!t->done_called) {
      sh_shutdown(t, 3000);
      sh_wait(t, done_called, NULL, 10, "the server's close callback");
    }
    wsc_server_free(t->srv);
    t->srv = NULL;
  }
  uv_close((uv_handle_t *)&t->tick, NULL);
  long long deadline = peer_now_ms() + 10000;
  while (uv_run(t->uv, UV_RUN_NOWAIT) && peer_now_ms() < deadline) uv_sleep(1);
  for (int i = 0; i < t->nprocs; i++) wsc__buf_free(&t->procs[i].output);
  wsc__buf_free(&t->log);
  CHECK_EQ(wsc_loop_free(t->loop), 0);
}

const char *sh_url(sh_ctx *t, const char *scheme, const char *path, char *buf, size_t n) {
  snprintf(buf, n, "%s://127.0.0.1:%d%s", scheme, wsc_server_port(t->srv), path);
  return buf;
}

/* ---- client processes ---------------------------------------------------- */

static void proc_handle_closed(uv_handle_t *h) {
  sh_proc *p = h->data;
  p->open_handles--;
}

static void proc_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  (void)h;
  (void)hint;
  static char space[65536];
  *buf = uv_buf_init(space, sizeof space);
}

static void proc_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  sh_proc *p = s->data;
  if (n > 0) {
    if (p->output.len < 4u << 20) wsc__buf_append(&p->output, buf->base, (size_t)n);
  } else if (n < 0) {
    uv_close((uv_handle_t *)s, proc_handle_closed);
  }
}

static void proc_exit(uv_process_t *h, int64_t status, int sig) {
  sh_proc *p = h->data;
  p->exited = 1;
  p->exit_status = status;
  p->term_signal = sig;
  uv_close((uv_handle_t *)h, proc_handle_closed);
}

sh_proc *sh_spawn(sh_ctx *t, const char *const *argv) {
  CHECK_INT(t->nprocs, <, SH_MAX_PROCS);
  sh_proc *p = &t->procs[t->nprocs++];
  memset(p, 0, sizeof *p);
  const char *name = argv[0];
  for (int i = 0; argv[i]; i++) {
    size_t n = strlen(argv[i]);
    if (n > 3 && (!strcmp(argv[i] + n - 3, ".py") || !strcmp(argv[i] + n - 3, ".js"))) {
      name = argv[i];
      break;
    }
  }
  const char *slash = strrchr(name, '/');
  snprintf(p->name, sizeof p->name, "%s#%d", slash ? slash + 1 : name, t->nprocs);
  CHECK_EQ(uv_pipe_init(t->uv, &p->out, 0), 0);
  CHECK_EQ(uv_pipe_init(t->uv, &p->in, 0), 0);
  p->out.data = p->in.data = p->handle.data = p;
  p->open_handles = 3;
  p->in_open = 1;
  uv_stdio_container_t stdio[3];
  stdio[0].flags = UV_CREATE_PIPE | UV_READABLE_PIPE;
  stdio[0].data.stream = (uv_stream_t *)&p->in;
  stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
  stdio[1].data.stream = (uv_stream_t *)&p->out;
  stdio[2].flags = UV_INHERIT_FD;
  stdio[2].data.fd = 2;
  uv_process_options_t o;
  memset(&o, 0, sizeof o);
  o.file = argv[0];
  o.args = (char **)argv;
  o.exit_cb = proc_exit;
  o.stdio = stdio;
  o.stdio_count = 3;
  int rc = uv_spawn(t->uv, &p->handle, &o);
  if (rc) wsc_test_fail(__FILE__, __LINE__, "uv_spawn %s: %s", argv[0], uv_strerror(rc));
  p->started = 1;
  CHECK_EQ(uv_read_start((uv_stream_t *)&p->out, proc_alloc, proc_read), 0);
  return p;
}

static sh_proc *spawn_script(sh_ctx *t, const char *interp, const char *script, va_list ap) {
  const char *argv[64];
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", peer_dir(), script);
  int n = 0;
  argv[n++] = interp;
  argv[n++] = path;
  const char *a;
  while ((a = va_arg(ap, const char *)) != NULL) {
    CHECK_INT(n, <, 63);
    argv[n++] = a;
  }
  argv[n] = NULL;
  return sh_spawn(t, argv);
}

sh_proc *sh_py(sh_ctx *t, const char *script, ...) {
  va_list ap;
  va_start(ap, script);
  sh_proc *p = spawn_script(t, peer_python(), script, ap);
  va_end(ap);
  return p;
}

sh_proc *sh_node(sh_ctx *t, const char *script, ...) {
  va_list ap;
  va_start(ap, script);
  sh_proc *p = spawn_script(t, peer_node(), script, ap);
  va_end(ap);
  return p;
}

void sh_close_stdin(sh_proc *p) {
  if (!p->started || !p->in_open) return;
  p->in_open = 0;
  uv_close((uv_handle_t *)&p->in, proc_handle_closed);
}

/* ---- output lines -------------------------------------------------------- */

/* Calls fn for each line until it returns non-zero; returns that value. */
static int each_line(sh_proc *p, int (*fn)(const char *line, size_t len, void *arg), void *arg) {
  const char *s = (const char *)p->output.data;
  size_t n = p->output.len, i = 0;
  while (i < n) {
    const char *nl = memchr(s + i, '\n', n - i);
    size_t len = nl ? (size_t)(nl - (s + i)) : n - i;
    int r = fn(s + i, len, arg);
    if (r) return r;
    i += len + 1;
  }
  return 0;
}

typedef struct match {
  const char *text;
  int exact, count;
  const char *found;
  size_t found_len;
} match;

static int match_line(const char *line, size_t len, void *arg) {
  match *m = arg;
  size_t k = strlen(m->text);
  if (m->exact ? (len == k && memcmp(line, m->text, k) == 0)
               : (len >= k && memcmp(line, m->text, k) == 0)) {
    m->count++;
    if (!m->found) {
      m->found = line;
      m->found_len = len;
    }
  }
  return 0;
}

const char *sh_line(sh_proc *p, const char *prefix) {
  static char out[4096];
  match m = {prefix, 0, 0, NULL, 0};
  each_line(p, match_line, &m);
  if (!m.found) return NULL;
  size_t len = m.found_len < sizeof out - 1 ? m.found_len : sizeof out - 1;
  memcpy(out, m.found, len);
  out[len] = 0;
  return out;
}

int sh_count_lines(sh_proc *p, const char *prefix) {
  match m = {prefix, 0, 0, NULL, 0};
  each_line(p, match_line, &m);
  return m.count;
}

int sh_has_line(sh_proc *p, const char *line) {
  match m = {line, 1, 0, NULL, 0};
  each_line(p, match_line, &m);
  return m.count > 0;
}

/* ---- waiting ------------------------------------------------------------- */

void sh_fail_dump(sh_ctx *t, const char *file, int line, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  fprintf(stderr, "server log: %s\n", sh_log(t));
  for (int i = 0; i < t->nprocs; i++) {
    sh_proc *p = &t->procs[i];
    wsc__buf_append(&p->output, "", 1);
    size_t len = p->output.len - 1;
    const char *s = (const char *)p->output.data;
    if (len > 4000) s += len - 4000; /* the end is what matters */
    fprintf(stderr, "--- %s (%s, status %lld) printed:\n%s\n", p->name,
            p->exited ? "exited" : "running", (long long)p->exit_status, s);
    p->output.len--;
  }
  wsc_test_fail(file, line, "%s", msg);
}

void sh_wait(sh_ctx *t, sh_cond cond, void *arg, double seconds, const char *what) {
  long long deadline = peer_now_ms() + (long long)(seconds * 1000);
  while (!cond(t, arg)) {
    if (peer_now_ms() > deadline)
      sh_fail_dump(t, __FILE__, __LINE__, "timed out after %.0f s waiting for %s", seconds, what);
    uv_run(t->uv, UV_RUN_ONCE); /* the tick timer bounds each round */
  }
}

static int proc_exited(sh_ctx *t, void *arg) {
  (void)t;
  sh_proc *p = arg;
  return p->exited;
}

void sh_wait_exit(sh_ctx *t, sh_proc *p, double seconds) {
  sh_wait(t, proc_exited, p, seconds, p->name);
}

void sh_wait_ok(sh_ctx *t, sh_proc *p, double seconds) {
  sh_wait_exit(t, p, seconds);
  if (p->exit_status != 0 || p->term_signal)
    sh_fail_dump(t, __FILE__, __LINE__, "%s exited with status %lld (signal %d)", p->name,
                 (long long)p->exit_status, p->term_signal);
}

typedef struct line_wait {
  sh_proc *p;
  const char *prefix;
} line_wait;

static int has_prefix(sh_ctx *t, void *arg) {
  (void)t;
  line_wait *w = arg;
  return sh_line(w->p, w->prefix) != NULL;
}

void sh_wait_line(sh_ctx *t, sh_proc *p, const char *prefix, double seconds) {
  line_wait w = {p, prefix};
  char what[256];
  snprintf(what, sizeof what, "%s to print \"%s...\"", p->name, prefix);
  sh_wait(t, has_prefix, &w, seconds, what);
}

static int counter_reached(sh_ctx *t, void *arg) {
  (void)t;
  const int **c = arg;
  return *c[0] >= *c[1];
}

void sh_wait_count(sh_ctx *t, const int *counter, int n, double seconds, const char *what) {
  const int *c[2] = {counter, &n};
  sh_wait(t, counter_reached, (void *)c, seconds, what);
}

/* ---- process limits ------------------------------------------------------ */

long sh_raise_nofile(long n) {
  struct rlimit r;
  if (getrlimit(RLIMIT_NOFILE, &r) != 0) return -1;
  if ((long)r.rlim_cur < n) {
    r.rlim_cur = (rlim_t)n < r.rlim_max ? (rlim_t)n : r.rlim_max;
    setrlimit(RLIMIT_NOFILE, &r);
    getrlimit(RLIMIT_NOFILE, &r);
  }
  return (long)r.rlim_cur;
}

long sh_status_kib(const char *field) {
  FILE *f = fopen("/proc/self/status", "r");
  if (!f) return -1;
  char line[256];
  size_t n = strlen(field);
  long kib = -1;
  while (fgets(line, sizeof line, f))
    if (!strncmp(line, field, n) && line[n] == ':' && sscanf(line + n + 1, "%ld", &kib) == 1)
      break;
  fclose(f);
  return kib;
}
