/* socket.c - the WebSocket object both ends share: the WHATWG interface
 * (readyState machine, events and listeners, send/close rules,
 * bufferedAmount) over the protocol core and the TCP transport. How the
 * connection is made and the opening handshake run is the role's business
 * (client.c, server.c).
 *
 * Lifetime: every entry from the loop (transport callbacks, timers) is wrapped
 * in enter()/leave(). wsc_socket_free() inside a listener only marks the
 * socket; leave() releases it once no call into it is in progress, and the
 * core is told to stop consuming input at once. */
#include "api/socket.h"

#include <stdlib.h>
#include <string.h>

#include "api/loop.h"
#include "proto/close.h"
#include "proto/utf8.h"

#define container_of(p, type, member) ((type *)(void *)((char *)(p) - offsetof(type, member)))
#define socket_of(t) container_of(t, wsc_socket, tcp)


static void on_timeout(wsc__tcp *t);
static void arm_open_timer(wsc_socket *ws, uint64_t now);

/* ---- lifetime ----------------------------------------------------------- */

wsc_socket *wsc__socket_alloc(const wsc__socket_cfg *cfg) {
  wsc_socket *ws = calloc(1, sizeof *ws);
  if (!ws) return NULL;
  ws->cfg = cfg;
  ws->ready_state = WSC_CONNECTING;
  ws->binary_type = WSC_BINARY_BLOB;
  wsc__conn_init(&ws->conn, &cfg->core, ws);
  wsc__tcp_init(&ws->tcp, cfg->loop, &wsc__socket_tcp_callbacks);
  cfg->loop->nsockets++;
  return ws;
}

wsc__socket_ext *wsc__socket_ext_get(wsc_socket *ws) {
  if (!ws->ext) ws->ext = calloc(1, sizeof *ws->ext);
  return ws->ext;
}

void wsc__socket_release(wsc_socket *ws) {
  wsc_loop *loop = ws->cfg->loop; /* a client's cfg goes with its role data */
  if (ws->cfg->role->release) ws->cfg->role->release(ws);
  wsc__conn_free(&ws->conn);
  wsc__socket_ext *x = ws->ext;
  if (x) {
    wsc__tls_free(&x->tls);
    wsc__loop_buffer_give(loop, &x->msg);
    wsc__blob_file_discard(&x->spill);
    free(x->more);
    free(x->protocol);
    free(x->extensions);
    free(x);
  }
  loop->nsockets--;
  free(ws);
}

const char *const *wsc__copy_strv(const char *const *v, size_t n) {
  size_t bytes = n * sizeof(char *);
  for (size_t i = 0; i < n; i++) bytes += strlen(v[i]) + 1;
  char **out = malloc(bytes ? bytes : 1);
  if (!out) return NULL;
  char *p = (char *)(out + n);
  for (size_t i = 0; i < n; i++) {
    size_t len = strlen(v[i]) + 1;
    memcpy(p, v[i], len);
    out[i] = p;
    p += len;
  }
  return (const char *const *)out;
}

void wsc__socket_enter(wsc_socket *ws) { ws->dispatching++; }

/* Listener i, in the order added (the first is spread over the socket's
 * fields to save its padding; the others are in ext->more). */
static wsc__listener get_listener(const wsc_socket *ws, unsigned i) {
  if (i) return ws->ext->more[i - 1];
  return (wsc__listener){ws->first_fn, ws->first_user, ws->first_type, ws->first_handler,
                         ws->first_removed};
}

static void put_listener(wsc_socket *ws, unsigned i, wsc__listener l) {
  if (i) {
    ws->ext->more[i - 1] = l;
    return;
  }
  ws->first_fn = l.fn;
  ws->first_user = l.user;
  ws->first_type = l.type;
  ws->first_handler = l.is_handler != 0;
  ws->first_removed = l.removed != 0;
}

/* Drop the listeners removed during a dispatch. */
static void compact_listeners(wsc_socket *ws) {
  unsigned k = 0;
  for (unsigned i = 0; i < ws->nlisteners; i++) {
    wsc__listener l = get_listener(ws, i);
    if (!l.removed) put_listener(ws, k++, l);
  }
  ws->nlisteners = (uint16_t)k;
  ws->listeners_dirty = 0;
}

/* Returns 1 if the socket is gone (the caller must not touch it). */
int wsc__socket_leave(wsc_socket *ws) {
  if (--ws->dispatching) return 0;
  if (ws->listeners_dirty) compact_listeners(ws);
  if (!ws->free_requested) return 0;
  if (!ws->transport_closed) {
    wsc__tcp_close(&ws->tcp); /* on_closed releases the memory */
    return 1;
  }
  wsc__loop_lock(ws->cfg->loop);
  unsigned posted = ws->posted;
  wsc__loop_unlock(ws->cfg->loop);
  if (!posted) wsc__socket_release(ws); /* else the last posted call does */
  return 1;
}

#define enter wsc__socket_enter
#define leave wsc__socket_leave

/* ---- events ------------------------------------------------------------- */

static void dispatch(wsc_socket *ws, const wsc_event *ev) {
  unsigned n = ws->nlisteners; /* listeners added during dispatch wait for the next event */
  enter(ws);
  for (unsigned i = 0; i < n && !ws->free_requested; i++) {
    wsc__listener l = get_listener(ws, i);
    if (l.type == ev->type && !l.removed && l.fn) l.fn(ws, ev, l.user);
  }
  ws->dispatching--; /* the caller's own enter() keeps the socket alive */
}

/* Record the cause of a failure (dropped when out of memory: the code
 * WSC_ENOMEM-free path still reports close 1006). */
static void set_error(wsc_socket *ws, int err, const char *msg) {
  wsc__socket_ext *x = wsc__socket_ext_get(ws);
  if (!x) return;
  x->error = err;
  snprintf(x->error_msg, sizeof x->error_msg, "%s", msg ? msg : wsc_strerror(err));
}

void wsc__socket_timer(wsc_socket *ws, uint32_t ms) { wsc__tcp_timer(&ws->tcp, ms); }

/* End our side of the stream once the queue is out: over TLS a close_notify
 * first (RFC 6455 7.1.1: close the TLS session too, so the peer can tell our
 * end from a truncation), then the FIN. */
static void end_stream(wsc_socket *ws) {
  wsc__tls *tls = wsc__socket_tls(ws);
  if (tls) wsc__tls_shutdown(tls);
  wsc__tcp_shutdown(&ws->tcp);
}

/* The peer ended after the closing handshake: over TLS our close_notify
 * answers its own before we close (best effort: written now, as closing
 * drops whatever is still corked or queued). */
static void close_stream(wsc_socket *ws) {
  wsc__tls *tls = wsc__socket_tls(ws);
  if (tls) {
    wsc__tls_shutdown(tls); /* nothing new when ours went out already */
    wsc__tcp_uncork(&ws->tcp);
  }
  wsc__tcp_close(&ws->tcp);
}

/* Fail the WebSocket connection: error and close (1006) fire once the
 * transport is down. A Close frame the core queued still goes out first. */
void wsc__socket_fail(wsc_socket *ws, int err, const char *msg) {
  if (ws->failed || ws->close_fired) return;
  ws->failed = 1;
  set_error(ws, err, msg);
  if (ws->ready_state != WSC_CLOSED) ws->ready_state = WSC_CLOSING;
  ws->close_code = WSC_CLOSE_ABNORMAL;
  if (ws->ext) ws->ext->close_reason_len = 0;
  if (ws->tcp.connected && wsc__tcp_queued(&ws->tcp)) {
    /* let the Close frame out, then the FIN; close when the peer ends or
     * after a short grace period */
    end_stream(ws);
    wsc__socket_timer(ws, 1000);
    return;
  }
  wsc__tcp_close(&ws->tcp);
}
#define fail wsc__socket_fail

/* The transport is down: readyState CLOSED, then error (if failed) and close. */
static void finish(wsc_socket *ws) {
  if (ws->close_fired) return;
  ws->close_fired = 1;
  ws->ready_state = WSC_CLOSED;
  if (ws->free_requested) return; /* no events for a freed socket */
  if (!ws->hs_done && ws->cfg->server) return; /* never handed out: no events */
  wsc_event ev;
  if (ws->failed) {
    ev.type = WSC_EVENT_ERROR;
    ev.u.error.error = ws->ext ? ws->ext->error : WSC_ENOMEM;
    ev.u.error.message = ws->ext ? ws->ext->error_msg : "out of memory";
    dispatch(ws, &ev);
    if (ws->free_requested) return;
  }
  ev.type = WSC_EVENT_CLOSE;
  ev.u.close.code = ws->close_code ? ws->close_code : WSC_CLOSE_ABNORMAL;
  ev.u.close.reason = "";
  ev.u.close.reason_length = 0;
  if (ws->ext) {
    ws->ext->close_reason[ws->ext->close_reason_len] = 0;
    ev.u.close.reason = ws->ext->close_reason;
    ev.u.close.reason_length = ws->ext->close_reason_len;
  }
  ev.u.close.was_clean = !ws->failed && wsc__conn_closed(&ws->conn);
  dispatch(ws, &ev);
}

/* ---- the core's callbacks ----------------------------------------------- */

/* Payload was queued: watch the high-water mark and the buffer limit. */
static void queued_payload(wsc_socket *ws) {
  uint64_t queued = wsc__tcp_buffered(&ws->tcp);
  if (ws->cfg->high_water_mark && queued > ws->cfg->high_water_mark) ws->above_hwm = 1;
  if (ws->cfg->max_buffered && queued > ws->cfg->max_buffered && !ws->failed) {
    /* a peer that does not read: do not buffer without bound */
    wsc__conn_close(&ws->conn, WSC_CLOSE_POLICY_VIOLATION, "send buffer limit", 17);
    fail(ws, WSC_EPOLICY, "the peer does not read: bufferedAmount over the limit");
  }
}

static int write_bytes(wsc_socket *ws, const uint8_t *data, size_t len, uint64_t payload) {
  wsc__tls *tls = wsc__socket_tls(ws);
  int rc = tls ? wsc__tls_write(tls, data, len, payload)
               : wsc__tcp_write(&ws->tcp, data, len, payload);
  if (rc == 0 && payload) queued_payload(ws);
  return rc;
}

/* Bytes from the core are framing plus payload; bufferedAmount counts payload
 * only. send_message sets payload_hint to the message length and each chunk
 * is charged up to what is left of it, so the total charged is exact. */
static int core_send(void *user, const uint8_t *data, size_t len) {
  wsc_socket *ws = user;
  wsc_loop *l = ws->cfg->loop;
  uint64_t payload = l->payload_hint < len ? l->payload_hint : len;
  l->payload_hint -= payload;
  return write_bytes(ws, data, len, payload);
}

int wsc__socket_tls_to_tcp(void *user, const uint8_t *data, size_t len, uint64_t payload) {
  wsc_socket *ws = user;
  return wsc__tcp_write(&ws->tcp, data, len, payload);
}

int wsc__socket_write_raw(wsc_socket *ws, const void *data, size_t len) {
  return write_bytes(ws, data, len, 0);
}

/* held: the buffer data lives in, which a blob reference may take over;
 * file: the message as a file-backed blob (data is its mapping). */
static int deliver(wsc_socket *ws, const void *data, size_t len, int text, wsc__buf *held,
                   const wsc_blob *file) {
  if (ws->ready_state != WSC_OPEN) return 0; /* not delivered once closing */
  wsc_event ev;
  wsc_blob borrowed; /* in-memory blobs cost nothing unless referenced */
  ev.type = WSC_EVENT_MESSAGE;
  ev.u.message.data = data;
  ev.u.message.length = len;
  ev.u.message.is_text = text;
  ev.u.message.origin = ws->cfg->origin;
  ev.u.message.blob = NULL;
  if (!text && ws->binary_type == WSC_BINARY_BLOB) {
    if (!file) wsc__blob_borrow(&borrowed, data, len, held);
    ev.u.message.blob = file ? file : &borrowed;
  }
  dispatch(ws, &ev);
  if (ev.u.message.blob == &borrowed) wsc__blob_borrow_end(&borrowed);
  return ws->free_requested;
}

/* binaryType blob with a threshold: a binary message over it goes to a file. */
static int spills(const wsc_socket *ws, const wsc__event *e, uint64_t size) {
  return ws->cfg->blob_threshold && size > ws->cfg->blob_threshold && e->opcode == WSC__OP_BINARY &&
         ws->binary_type == WSC_BINARY_BLOB;
}

static int spill(wsc_socket *ws, const wsc__event *e) {
  wsc_blob *b;
  char err[160];
  wsc__socket_ext *x = ws->ext; /* present: core_event made it */
  int rc = wsc__blob_file_add(&x->spill, ws->cfg->blob_dir, &x->msg, e->data, e->len, e->last, &b,
                              err, sizeof err);
  if (rc) {
    int code = wsc__blob_close_code(rc); /* 1009 disk full, 1011 other */
    const char *why = code == WSC_CLOSE_MESSAGE_TOO_BIG ? "no room for the message"
                                                        : "cannot store the message";
    wsc__conn_close(&ws->conn, code, why, strlen(why));
    fail(ws, rc, err);
    return 1;
  }
  if (!b) return 0;
  int gone = deliver(ws, wsc_blob_data(b), (size_t)wsc_blob_size(b), 0, NULL, b);
  wsc_blob_unref(b); /* the application holds its own references */
  return gone;
}

/* Room in x->msg for `now` bytes and the rest of the frame (`ahead`), but
 * never for more than twice what has arrived (plus a read): a peer
 * announcing a huge frame gets no memory for bytes it has not sent. */
static int make_room(wsc_socket *ws, wsc__socket_ext *x, size_t now, uint64_t ahead) {
  size_t have = x->msg.len + now;
  if (ahead > have + WSC__READ_BUFFER) ahead = have + WSC__READ_BUFFER;
  return wsc__loop_buffer_reserve(ws->cfg->loop, &x->msg, now + (size_t)ahead);
}

/* Add a piece to the message assembled in x->msg. A piece that was read
 * straight into place (tcp_read_into) is there already. */
static int assemble(wsc_socket *ws, wsc__socket_ext *x, const wsc__event *e) {
  if (x->msg.data && e->data == x->msg.data + x->msg.len) {
    x->msg.len += e->len;
    return 0;
  }
  if (e->len == 0) return 0;
  int rc = make_room(ws, x, e->len, wsc__conn_payload_ahead(&ws->conn));
  if (rc) return rc;
  memcpy(x->msg.data + x->msg.len, e->data, e->len);
  x->msg.len += e->len;
  return 0;
}

static int core_event(void *user, const wsc__event *e) {
  wsc_socket *ws = user;
  wsc__socket_ext *x;
  switch (e->type) {
  case WSC__EV_DATA:
    if (e->first && e->last && !spills(ws, e, e->len)) /* whole message in this read: no copy */
      return deliver(ws, e->data, e->len, e->opcode == WSC__OP_TEXT, NULL, NULL);
    x = wsc__socket_ext_get(ws);
    if (!x) {
      fail(ws, WSC_ENOMEM, "out of memory assembling a message");
      return 1;
    }
    if (e->first) {
      wsc__buf_reset(&x->msg);
      ws->msg_text = e->opcode == WSC__OP_TEXT ? 1 : 0;
    }
    if (x->spill.open || spills(ws, e, (uint64_t)x->msg.len + e->len)) return spill(ws, e);
    if (assemble(ws, x, e) != 0) {
      fail(ws, WSC_ENOMEM, "out of memory assembling a message");
      return 1;
    }
    if (!e->last) return 0;
    int gone = deliver(ws, x->msg.data, x->msg.len, ws->msg_text, &x->msg, NULL);
    if (!gone) wsc__loop_buffer_give(ws->cfg->loop, &x->msg); /* hold nothing between messages */
    return gone;
  case WSC__EV_CLOSE:
    ws->close_code = e->code;
    x = wsc__socket_ext_get(ws);
    if (x) { /* out of memory: the code without its reason */
      x->close_reason_len = e->len;
      memcpy(x->close_reason, e->data, e->len);
    }
    if (ws->ready_state == WSC_OPEN) ws->ready_state = WSC_CLOSING;
    if (ws->cfg->server) /* our Close went out with the answer: the server closes TCP first */
      end_stream(ws);
    /* the client waits for the server to close TCP */
    wsc__socket_timer(ws, ws->cfg->close_timeout_ms);
    return 0;
  case WSC__EV_PONG:
    ws->ping_outstanding = 0; /* the peer is alive */
    return 0;
  default:
    return 0; /* pings are answered by the core */
  }
}

void wsc__conn_config_init(wsc__conn_config *cfg, wsc__role role, uint64_t max_frame,
                           uint64_t max_message) {
  memset(cfg, 0, sizeof *cfg);
  cfg->role = role;
  cfg->max_frame = max_frame;
  cfg->max_message = max_message;
  cfg->on_event = core_event;
  cfg->on_send = core_send;
}

/* ---- the transport's callbacks ------------------------------------------ */

static void frames(wsc_socket *ws, uint8_t *data, size_t len) {
  size_t used = 0;
  int rc = wsc__conn_recv(&ws->conn, data, len, &used);
  if (ws->free_requested) return;
  if (rc) fail(ws, rc, ws->conn.error_msg);
}

void wsc__socket_open(wsc_socket *ws, const char *protocol, const char *extensions,
                      void (*before_open)(wsc_socket *ws, void *arg), void *arg) {
  ws->hs_done = 1;
  int has_p = protocol && *protocol, has_x = extensions && *extensions;
  const wsc__socket_cfg *cfg = ws->cfg;
  /* the optional part only when there is something to keep in it: an idle
   * plain connection without subprotocol, extension or timers has none */
  if (has_p || has_x || cfg->ping_interval_ms || cfg->idle_timeout_ms) {
    wsc__socket_ext *x = wsc__socket_ext_get(ws);
    if (!x || (has_p && !(x->protocol = strdup(protocol))) ||
        (has_x && !(x->extensions = strdup(extensions)))) {
      fail(ws, WSC_ENOMEM, "out of memory");
      return;
    }
    uint64_t now = uv_now(cfg->loop->uv);
    x->last_read_ms = now;
    x->next_ping_ms = now + cfg->ping_interval_ms;
  }
  wsc__tcp_timer_stop(&ws->tcp);
  arm_open_timer(ws, uv_now(cfg->loop->uv)); /* keepalive and idle timeout, if set */
  ws->ready_state = WSC_OPEN;
  if (before_open) {
    before_open(ws, arg);
    if (ws->free_requested || ws->ready_state != WSC_OPEN) return;
  }
  wsc_event ev;
  ev.type = WSC_EVENT_OPEN;
  dispatch(ws, &ev);
}

/* Plaintext from the peer: the handshake head, then frames. Returns non-zero
 * when the caller must stop feeding (failed or freed). */
int wsc__socket_plaintext(void *user, uint8_t *data, size_t len) {
  wsc_socket *ws = user;
  if (ws->failed || ws->free_requested) return 1;
  if (!ws->hs_done) {
    size_t used = 0;
    int rc = ws->cfg->role->handshake_recv(ws, data, len, &used);
    if (rc < 0) return 1;
    if (rc == 1 && !ws->free_requested && !ws->failed && used < len)
      frames(ws, data + used, len - used);
  } else {
    frames(ws, data, len);
  }
  return ws->failed || ws->free_requested;
}

static void tcp_connected(wsc__tcp *t, int status, const char *message) {
  wsc_socket *ws = socket_of(t);
  enter(ws);
  ws->cfg->role->connected(ws, status, message);
  leave(ws);
}

static void tcp_end(wsc__tcp *t, int status);

/* A large payload of a message being assembled is read straight into the
 * message's buffer (the core then unmasks and validates it there, and
 * assemble() finds it in place): one copy fewer per byte. Not for TLS (the
 * bytes read are ciphertext), compressed messages (the core inflates them
 * elsewhere) or messages that may go to a file. */
static uint8_t *tcp_read_into(wsc__tcp *t, size_t *cap) {
  wsc_socket *ws = socket_of(t);
  wsc__socket_ext *x = ws->ext;
  uint64_t ahead = wsc__conn_payload_ahead(&ws->conn);
  if (ahead < WSC__READ_BUFFER || !x || !ws->hs_done || ws->failed || ws->free_requested ||
      wsc__socket_tls(ws) || x->spill.open ||
      (ws->cfg->blob_threshold && ws->binary_type == WSC_BINARY_BLOB))
    return NULL;
  if (make_room(ws, x, 0, ahead) != 0) return NULL; /* the shared buffer then */
  size_t room = x->msg.cap - x->msg.len;
  if (room < WSC__READ_BUFFER) return NULL;
  *cap = ahead < room ? (size_t)ahead : room;
  return x->msg.data + x->msg.len;
}

static void tcp_read(wsc__tcp *t, uint8_t *data, size_t len) {
  wsc_socket *ws = socket_of(t);
  enter(ws);
  if (ws->cfg->idle_timeout_ms && ws->ext) ws->ext->last_read_ms = uv_now(ws->cfg->loop->uv);
  wsc__tls *tls = wsc__socket_tls(ws);
  if (!tls) {
    wsc__socket_plaintext(ws, data, len);
  } else if (!ws->failed && !ws->free_requested) {
    wsc_loop *l = ws->cfg->loop;
    if (!l->plainbuf) l->plainbuf = malloc(WSC__READ_BUFFER);
    int rc = l->plainbuf ? wsc__tls_feed(tls, data, len, wsc__socket_plaintext, ws,
                                         l->plainbuf, WSC__READ_BUFFER)
                         : WSC_ENOMEM;
    if (rc == 1) { /* TLS is up: now the WebSocket handshake */
      if (ws->cfg->role->tls_up) ws->cfg->role->tls_up(ws);
      if (!ws->failed)
        rc = wsc__tls_feed(tls, NULL, 0, wsc__socket_plaintext, ws, l->plainbuf,
                           WSC__READ_BUFFER);
    }
    if (rc == 2) /* close_notify: the peer's end of the stream */
      tcp_end(&ws->tcp, 0);
    else if (rc < 0)
      fail(ws, rc, rc == WSC_ETLS ? tls->error : wsc_strerror(rc));
  }
  leave(ws);
}

static void tcp_end(wsc__tcp *t, int status) {
  wsc_socket *ws = socket_of(t);
  enter(ws);
  /* TCP ending before the closing handshake completed fails the connection
   * (error, then close 1006), as browsers report it; after it, it is the
   * clean end the RFC asks for (the server closes first) */
  if (ws->failed)
    wsc__tcp_close(&ws->tcp); /* our Close frame is out; the peer is gone */
  else if (!ws->hs_done)
    fail(ws, status ? status : WSC_EHANDSHAKE,
         status ? uv_strerror(status) : "connection closed during the opening handshake");
  else if (!wsc__conn_closed(&ws->conn))
    fail(ws, status ? status : WSC_ECLOSED,
         status ? uv_strerror(status) : "connection closed without a closing handshake");
  else
    close_stream(ws);
  leave(ws);
}

static void tcp_closed(wsc__tcp *t) {
  wsc_socket *ws = socket_of(t);
  enter(ws);
  ws->transport_closed = 1;
  if (ws->ext) wsc__blob_file_discard(&ws->ext->spill); /* a message cut short: free its disk space now */
  finish(ws);
  if (ws->cfg->role->closed) ws->cfg->role->closed(ws);
  leave(ws);
}

static void tcp_drain(wsc__tcp *t) {
  wsc_socket *ws = socket_of(t);
  if (!ws->above_hwm || ws->ready_state != WSC_OPEN) return;
  ws->above_hwm = 0;
  enter(ws);
  wsc_event ev;
  ev.type = WSC_EVENT_DRAIN;
  dispatch(ws, &ev);
  leave(ws);
}

const wsc__tcp_callbacks wsc__socket_tcp_callbacks = {
    .on_connect = tcp_connected,
    .on_read = tcp_read,
    .read_into = tcp_read_into,
    .on_end = tcp_end,
    .on_closed = tcp_closed,
    .on_drain = tcp_drain,
    .on_timer = on_timeout,
};

/* The closing handshake from OPEN: send Close and wait for the peer's, up to
 * the close timeout. Called inside enter()/leave(). */
static void start_close(wsc_socket *ws, int code, const char *reason, size_t len) {
  ws->ready_state = WSC_CLOSING;
  int rc = wsc__conn_close(&ws->conn, code, reason, len);
  if (rc)
    fail(ws, rc, "could not send the Close frame");
  else
    wsc__socket_timer(ws, ws->cfg->close_timeout_ms);
}

/* While OPEN the socket's timer serves two clocks: the keepalive Ping (every
 * ping_interval_ms; the Pong must be back by the next one) and the idle
 * timeout (idle_timeout_ms without receiving anything). It is armed for
 * whichever comes first. */
static void arm_open_timer(wsc_socket *ws, uint64_t now) {
  const wsc__socket_ext *x = ws->ext; /* made at open when either clock is set */
  if (!x) return;
  uint64_t due = UINT64_MAX;
  if (ws->cfg->ping_interval_ms) due = x->next_ping_ms;
  if (ws->cfg->idle_timeout_ms && x->last_read_ms + ws->cfg->idle_timeout_ms < due)
    due = x->last_read_ms + ws->cfg->idle_timeout_ms;
  if (due != UINT64_MAX) wsc__socket_timer(ws, due > now ? (uint32_t)(due - now) : 0);
}

static void keepalive_tick(wsc_socket *ws) {
  uint64_t now = uv_now(ws->cfg->loop->uv);
  wsc__socket_ext *x = ws->ext;
  if (!x) return;
  if (ws->cfg->idle_timeout_ms && now - x->last_read_ms >= ws->cfg->idle_timeout_ms) {
    start_close(ws, WSC_CLOSE_GOING_AWAY, "idle timeout", 12);
    return;
  }
  if (ws->cfg->ping_interval_ms && now >= x->next_ping_ms) {
    if (ws->ping_outstanding) {
      fail(ws, WSC_ETIMEDOUT, "no Pong to the keepalive Ping: peer unresponsive");
      return;
    }
    int rc = wsc__conn_ping(&ws->conn, "wsc", 3);
    if (rc) {
      fail(ws, rc, "could not send a keepalive Ping");
      return;
    }
    ws->ping_outstanding = 1;
    x->next_ping_ms = now + ws->cfg->ping_interval_ms;
  }
  arm_open_timer(ws, now);
}

static void on_timeout(wsc__tcp *t) {
  wsc_socket *ws = socket_of(t);
  enter(ws);
  if (ws->failed || wsc__conn_closed(&ws->conn))
    wsc__tcp_close(&ws->tcp); /* the peer did not end TCP in time: we do */
  else if (!ws->hs_done)
    fail(ws, WSC_ETIMEDOUT, "timed out waiting for the opening handshake");
  else if (ws->ready_state == WSC_OPEN)
    keepalive_tick(ws);
  else
    fail(ws, WSC_ETIMEDOUT, "timed out waiting for the closing handshake");
  leave(ws);
}

/* ---- public: lifetime and attributes ------------------------------------ */

void wsc_options_init(wsc_options *o) { memset(o, 0, sizeof *o); }

void wsc_socket_free(wsc_socket *ws) {
  if (!ws || ws->free_requested) return;
  ws->free_requested = 1;
  enter(ws);
  leave(ws);
}

int wsc_socket_ready_state(const wsc_socket *ws) { return ws->ready_state; }
uint64_t wsc_socket_buffered_amount(const wsc_socket *ws) {
  return wsc__tcp_buffered(&ws->tcp) + (ws->ext ? ws->ext->discarded : 0);
}
const char *wsc_socket_extensions(const wsc_socket *ws) {
  return ws->ext && ws->ext->extensions ? ws->ext->extensions : "";
}
const char *wsc_socket_protocol(const wsc_socket *ws) {
  return ws->ext && ws->ext->protocol ? ws->ext->protocol : "";
}
wsc_binary_type wsc_socket_binary_type(const wsc_socket *ws) { return ws->binary_type; }
void wsc_socket_set_binary_type(wsc_socket *ws, wsc_binary_type t) { ws->binary_type = t; }
void wsc_socket_set_user(wsc_socket *ws, void *user) { ws->user = user; }
void *wsc_socket_user(const wsc_socket *ws) { return ws->user; }
int wsc_socket_error(const wsc_socket *ws, const char **message) {
  int err = ws->ext ? ws->ext->error : 0;
  if (message) *message = err ? ws->ext->error_msg : "";
  return err;
}
struct wsc_server *wsc_socket_server(const wsc_socket *ws) {
  return ws->srv_linked ? ws->cfg->server : NULL;
}

int wsc_socket_pause(wsc_socket *ws) {
  if (ws->ready_state == WSC_CLOSED) return WSC_EINVALIDSTATE;
  ws->paused = 1;
  wsc__tcp_read_stop(&ws->tcp);
  return 0;
}

int wsc_socket_resume(wsc_socket *ws) {
  if (ws->ready_state == WSC_CLOSED) return WSC_EINVALIDSTATE;
  if (!ws->paused) return 0;
  ws->paused = 0;
  int rc = wsc__tcp_read_start(&ws->tcp);
  return rc;
}

/* ---- send and close ----------------------------------------------------- */

/* 0 when a message may be queued now; 1 when it is to be discarded (and
 * counted); or an error. */
static int send_gate(wsc_socket *ws, size_t len) {
  if (ws->ready_state == WSC_CONNECTING) return WSC_EINVALIDSTATE;
  if (ws->ready_state != WSC_OPEN || ws->conn.close_sent || ws->failed) {
    wsc__socket_ext *x = wsc__socket_ext_get(ws);
    if (x) x->discarded += len; /* the standard: counted, never sent */
    return 1;
  }
  return 0;
}

/* After the core sent a message (or piece): payload_hint is what its frames
 * did not carry, which is more than 0 when it was compressed. bufferedAmount
 * counts the application's bytes (the standard), so the rest is charged to
 * the end of what is queued and leaves with the message's last byte. */
static void settle_payload(wsc_socket *ws, int rc) {
  wsc_loop *l = ws->cfg->loop;
  uint64_t rest = l->payload_hint;
  l->payload_hint = 0;
  if (rc || !rest || ws->failed) return;
  wsc__tcp_charge(&ws->tcp, rest);
  queued_payload(ws);
}

static int send_message(wsc_socket *ws, unsigned op, const void *data, size_t len) {
  int gate = send_gate(ws, len);
  if (gate) return gate < 0 ? gate : 0;
  if (ws->conn.send_op) return WSC_EINVALIDSTATE; /* a fragmented message is open */
  ws->cfg->loop->payload_hint = len;
  int rc = wsc__conn_send(&ws->conn, op, data, len);
  settle_payload(ws, rc);
  if (rc == WSC_ENOMEM) return rc;
  if (rc) fail(ws, rc, "could not queue a message");
  return 0;
}

int wsc_socket_send_text(wsc_socket *ws, const char *text, size_t length) {
  if (length && wsc__utf8_valid((const uint8_t *)text, length) != 0) return WSC_ESYNTAX;
  return send_message(ws, WSC__OP_TEXT, text, length);
}

int wsc_socket_send_binary(wsc_socket *ws, const void *data, size_t length) {
  return send_message(ws, WSC__OP_BINARY, data, length);
}

int wsc_socket_send_fragment(wsc_socket *ws, const void *data, size_t length, int is_text,
                             int fin) {
  unsigned op = is_text ? WSC__OP_TEXT : WSC__OP_BINARY;
  if (ws->ready_state == WSC_CONNECTING) return WSC_EINVALIDSTATE;
  if (ws->conn.send_op && ws->conn.send_op != op) return WSC_EINVAL;
  int gate = send_gate(ws, length);
  if (gate) return gate < 0 ? gate : 0;
  if (is_text) { /* validate on a copy: a rejected piece leaves no trace */
    wsc__socket_ext *x = wsc__socket_ext_get(ws);
    if (!x) return WSC_ENOMEM;
    wsc__utf8 v = ws->conn.send_op ? x->out_utf8 : (wsc__utf8){0};
    if (wsc__utf8_feed(&v, data, length, NULL) != 0 || (fin && wsc__utf8_finish(&v) != 0))
      return WSC_ESYNTAX;
    x->out_utf8 = v;
  }
  ws->cfg->loop->payload_hint = length;
  int rc = wsc__conn_send_fragment(&ws->conn, op, data, length, fin);
  settle_payload(ws, rc);
  if (rc == WSC_ENOMEM) return rc;
  if (rc) fail(ws, rc, "could not queue a message fragment");
  return 0;
}

int wsc_socket_send_owned(wsc_socket *ws, void *data, size_t length, int is_text,
                          void (*release)(void *data, void *arg), void *arg) {
  unsigned op = is_text ? WSC__OP_TEXT : WSC__OP_BINARY;
  int rc;
  if (is_text && length && wsc__utf8_valid(data, length) != 0) {
    rc = WSC_ESYNTAX;
  } else if ((rc = send_gate(ws, length)) != 0) {
    if (rc > 0) rc = 0; /* discarded and counted */
  } else {
    uint8_t hdr[WSC__FRAME_MAX_HEADER];
    int hl = wsc__socket_tls(ws) ? 0 : wsc__conn_send_header(&ws->conn, op, data, length, hdr);
    if (hl < 0) {
      rc = hl;
    } else if (hl == 0) {
      rc = send_message(ws, op, data, length); /* transformed anyway: one copy */
    } else {
      /* one plain frame: its header, then the caller's bytes by reference; once
       * the header is accepted a failure breaks the stream, so the connection */
      rc = wsc__tcp_write(&ws->tcp, hdr, (size_t)hl, 0);
      if (rc == 0) {
        rc = wsc__tcp_write_owned(&ws->tcp, data, length, length, release, arg);
        release = NULL; /* the transport releases it, also on error */
        if (rc == 0)
          queued_payload(ws);
        else
          rc = WSC_ECLOSED;
      }
      if (rc && rc != WSC_ENOMEM) {
        fail(ws, rc, "could not queue a message");
        rc = 0;
      }
    }
  }
  if (release) release(data, arg);
  return rc;
}

int wsc_broadcast(wsc_socket *const *sockets, size_t n, const void *data, size_t length,
                  int is_text) {
  if (n && !sockets) return WSC_EINVAL;
  if (is_text && length && wsc__utf8_valid((const uint8_t *)data, length) != 0)
    return WSC_ESYNTAX;
  unsigned op = is_text ? WSC__OP_TEXT : WSC__OP_BINARY;
  /* a server's frame is unmasked: one header serves every server socket */
  uint8_t hdr[WSC__FRAME_MAX_HEADER];
  size_t hlen = wsc__frame_write_header(hdr, 1, 0, op, length, NULL);
  int count = 0;
  for (size_t i = 0; i < n; i++) {
    wsc_socket *ws = sockets[i];
    if (!ws || ws->ready_state != WSC_OPEN) continue;
    if (!ws->cfg->server || ws->conn.send_op || ws->conn.rsv_allowed || wsc__socket_tls(ws)) {
      /* masking, an open fragmented message, an extension or TLS: per socket */
      if (send_message(ws, op, data, length) == 0 && !ws->failed) count++;
      continue;
    }
    if (send_gate(ws, length)) continue;
    int rc = write_bytes(ws, hdr, hlen, 0);
    if (rc == 0) rc = write_bytes(ws, data, length, length);
    if (rc == WSC_ENOMEM) return rc;
    if (rc)
      fail(ws, rc, "could not queue a message");
    else
      count++;
  }
  return count;
}

int wsc_socket_close(wsc_socket *ws, int code, const char *reason, size_t reason_length) {
  if (code != 0 && code != 1000 && (code < 3000 || code > 4999)) return WSC_EINVALIDACCESS;
  if (reason_length > WSC__CLOSE_REASON_MAX) return WSC_ESYNTAX;
  if (reason_length && wsc__utf8_valid((const uint8_t *)reason, reason_length) != 0)
    return WSC_ESYNTAX;
  if (ws->ready_state == WSC_CLOSING || ws->ready_state == WSC_CLOSED) return 0;
  enter(ws);
  if (ws->ready_state == WSC_CONNECTING) {
    fail(ws, WSC_ECLOSED, "closed before the connection was established");
  } else {
    start_close(ws, code, reason, reason_length);
  }
  leave(ws);
  return 0;
}

int wsc__socket_close_going_away(wsc_socket *ws) {
  if (ws->ready_state != WSC_OPEN) return 0;
  enter(ws);
  start_close(ws, WSC_CLOSE_GOING_AWAY, "server shutting down", 20);
  leave(ws);
  return 0;
}

/* ---- from other threads ------------------------------------------------ */

typedef struct posted_op {
  wsc_socket *ws;
  int kind; /* 0 text, 1 binary, 2 close */
  int code;
  size_t len;
  char data[]; /* the message or the reason */
} posted_op;

static void run_op(wsc_loop *loop, void *arg) {
  posted_op *op = arg;
  wsc_socket *ws = op->ws;
  wsc__loop_lock(loop);
  ws->posted--;
  wsc__loop_unlock(loop);
  enter(ws);
  if (!ws->free_requested) {
    if (op->kind == 0)
      wsc_socket_send_text(ws, op->data, op->len);
    else if (op->kind == 1)
      wsc_socket_send_binary(ws, op->data, op->len);
    else
      wsc_socket_close(ws, op->code, op->data, op->len);
  }
  free(op);
  leave(ws); /* releases a socket freed meanwhile once this was its last call */
}

static int post(wsc_socket *ws, int kind, int code, const void *data, size_t len) {
  posted_op *op = malloc(sizeof *op + (len ? len : 1));
  if (!op) return WSC_ENOMEM;
  op->ws = ws;
  op->kind = kind;
  op->code = code;
  op->len = len;
  if (len) memcpy(op->data, data, len);
  wsc__loop_lock(ws->cfg->loop);
  ws->posted++;
  wsc__loop_unlock(ws->cfg->loop);
  int rc = wsc_loop_post(ws->cfg->loop, run_op, op);
  if (rc) { /* not queued: undo */
    wsc__loop_lock(ws->cfg->loop);
    ws->posted--;
    wsc__loop_unlock(ws->cfg->loop);
    free(op);
    return rc == WSC_ENOMEM ? rc : WSC_ENOMEM;
  }
  return 0;
}

int wsc_socket_post_send(wsc_socket *ws, const void *data, size_t length, int is_text) {
  return post(ws, is_text ? 0 : 1, 0, data, length);
}

int wsc_socket_post_close(wsc_socket *ws, int code, const char *reason, size_t reason_length) {
  return post(ws, 2, code, reason, reason_length);
}

/* ---- listeners ---------------------------------------------------------- */

static int add(wsc_socket *ws, wsc_event_type type, wsc_listener_fn fn, void *user,
               int is_handler) {
  if ((unsigned)type >= WSC__NEVENTS || !fn) return WSC_EINVAL;
  for (unsigned i = 0; i < ws->nlisteners; i++) {
    wsc__listener l = get_listener(ws, i);
    if (l.removed || l.type != type) continue;
    if (is_handler && l.is_handler) { /* the attribute keeps its place */
      l.fn = fn;
      l.user = user;
      put_listener(ws, i, l);
      return 0;
    }
    if (!is_handler && !l.is_handler && l.fn == fn && l.user == user) return 0;
  }
  if (ws->nlisteners == UINT16_MAX) return WSC_ENOMEM;
  if (ws->nlisteners >= 1) { /* beyond the first: in the optional part */
    wsc__socket_ext *x = wsc__socket_ext_get(ws);
    if (!x) return WSC_ENOMEM;
    if (ws->nlisteners - 1u == x->capmore) {
      unsigned cap = x->capmore ? 2u * x->capmore : 4u;
      if (cap > UINT16_MAX) cap = UINT16_MAX;
      wsc__listener *v = realloc(x->more, cap * sizeof *v);
      if (!v) return WSC_ENOMEM;
      x->more = v;
      x->capmore = (uint16_t)cap;
    }
  }
  put_listener(ws, ws->nlisteners++, (wsc__listener){fn, user, (uint8_t)type, (uint8_t)is_handler, 0});
  return 0;
}

static int remove_matching(wsc_socket *ws, wsc_event_type type, wsc_listener_fn fn, void *user,
                           int is_handler) {
  if ((unsigned)type >= WSC__NEVENTS) return WSC_EINVAL;
  for (unsigned i = 0; i < ws->nlisteners; i++) {
    wsc__listener l = get_listener(ws, i);
    if (l.removed || l.type != type || l.is_handler != is_handler) continue;
    if (is_handler || (l.fn == fn && l.user == user)) {
      l.removed = 1;
      l.fn = NULL;
      put_listener(ws, i, l);
      if (ws->dispatching)
        ws->listeners_dirty = 1;
      else
        compact_listeners(ws);
      return 0;
    }
  }
  return 0;
}

static int set_handler(wsc_socket *ws, wsc_event_type type, wsc_listener_fn fn, void *user) {
  return fn ? add(ws, type, fn, user, 1) : remove_matching(ws, type, NULL, NULL, 1);
}

int wsc_socket_set_onopen(wsc_socket *ws, wsc_listener_fn fn, void *user) {
  return set_handler(ws, WSC_EVENT_OPEN, fn, user);
}
int wsc_socket_set_onmessage(wsc_socket *ws, wsc_listener_fn fn, void *user) {
  return set_handler(ws, WSC_EVENT_MESSAGE, fn, user);
}
int wsc_socket_set_onerror(wsc_socket *ws, wsc_listener_fn fn, void *user) {
  return set_handler(ws, WSC_EVENT_ERROR, fn, user);
}
int wsc_socket_set_onclose(wsc_socket *ws, wsc_listener_fn fn, void *user) {
  return set_handler(ws, WSC_EVENT_CLOSE, fn, user);
}
int wsc_socket_set_ondrain(wsc_socket *ws, wsc_listener_fn fn, void *user) {
  return set_handler(ws, WSC_EVENT_DRAIN, fn, user);
}
int wsc_socket_add_listener(wsc_socket *ws, wsc_event_type type, wsc_listener_fn fn,
                            void *user) {
  return add(ws, type, fn, user, 0);
}
int wsc_socket_remove_listener(wsc_socket *ws, wsc_event_type type, wsc_listener_fn fn,
                               void *user) {
  if (!fn) return WSC_EINVAL;
  return remove_matching(ws, type, fn, user, 0);
}
