/* socket.c - the WebSocket object: the WHATWG interface (readyState machine,
 * events and listeners, send/close rules, bufferedAmount) over the protocol
 * core and the TCP transport.
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

#define DEFAULT_CONNECT_TIMEOUT 10000
#define DEFAULT_HANDSHAKE_TIMEOUT 10000
#define DEFAULT_CLOSE_TIMEOUT 5000

#define container_of(p, type, member) ((type *)(void *)((char *)(p) - offsetof(type, member)))

static void finish(wsc_socket *ws);
static void on_timeout(uv_timer_t *t);

/* ---- lifetime ----------------------------------------------------------- */

static void release_memory(wsc_socket *ws) {
  wsc__hs_client_free(&ws->hs);
  wsc__conn_free(&ws->conn);
  wsc__tls_free(&ws->tls);
  SSL_CTX_free(ws->tls_ctx);
  wsc__url_free(&ws->url);
  wsc__buf_free(&ws->owned);
  wsc__buf_free(&ws->msg);
  for (int i = 0; i < 4; i++) free(ws->listeners[i].v);
  free(ws->origin);
  free(ws->protocol);
  free(ws->extensions);
  free((void *)ws->hs_cfg.protocols);
  free((void *)ws->hs_cfg.headers);
  ws->loop->nsockets--;
  free(ws);
}

static void enter(wsc_socket *ws) { ws->dispatching++; }

/* Returns 1 if the socket is gone (the caller must not touch it). */
static int leave(wsc_socket *ws) {
  if (--ws->dispatching) return 0;
  for (int t = 0; t < 4; t++) { /* drop listeners removed during dispatch */
    wsc__listeners *L = &ws->listeners[t];
    size_t k = 0;
    for (size_t i = 0; i < L->n; i++)
      if (!L->v[i].removed) L->v[k++] = L->v[i];
    L->n = k;
  }
  if (!ws->free_requested) return 0;
  if (ws->transport_closed)
    release_memory(ws);
  else
    wsc__tcp_close(&ws->tcp); /* on_closed releases the memory */
  return 1;
}

/* ---- events ------------------------------------------------------------- */

static void dispatch(wsc_socket *ws, const wsc_event *ev) {
  wsc__listeners *L = &ws->listeners[ev->type];
  size_t n = L->n; /* listeners added during dispatch wait for the next event */
  enter(ws);
  for (size_t i = 0; i < n && !ws->free_requested; i++) {
    wsc__listener l = L->v[i];
    if (!l.removed && l.fn) l.fn(ws, ev, l.user);
  }
  ws->dispatching--; /* the caller's own enter() keeps the socket alive */
}

static void set_error(wsc_socket *ws, int err, const char *msg) {
  ws->error = err;
  snprintf(ws->error_msg, sizeof ws->error_msg, "%s", msg ? msg : wsc_strerror(err));
}

/* Fail the WebSocket connection: error and close (1006) fire once the
 * transport is down. A Close frame the core queued still goes out first. */
static void fail(wsc_socket *ws, int err, const char *msg) {
  if (ws->failed || ws->close_fired) return;
  ws->failed = 1;
  set_error(ws, err, msg);
  if (ws->ready_state != WSC_CLOSED) ws->ready_state = WSC_CLOSING;
  ws->close_code = WSC_CLOSE_ABNORMAL;
  ws->close_reason_len = 0;
  if (ws->tcp.connected && (ws->tcp.writing || ws->tcp.pending.len)) {
    /* let the Close frame out, then the FIN; close when the peer ends or
     * after a short grace period */
    wsc__tcp_shutdown(&ws->tcp);
    wsc__tcp_timer(&ws->tcp, 1000, on_timeout);
    return;
  }
  wsc__tcp_close(&ws->tcp);
}

/* The transport is down: readyState CLOSED, then error (if failed) and close. */
static void finish(wsc_socket *ws) {
  if (ws->close_fired) return;
  ws->close_fired = 1;
  ws->ready_state = WSC_CLOSED;
  if (ws->free_requested) return; /* no events for a freed socket */
  wsc_event ev;
  if (ws->failed) {
    ev.type = WSC_EVENT_ERROR;
    ev.u.error.error = ws->error;
    ev.u.error.message = ws->error_msg;
    dispatch(ws, &ev);
    if (ws->free_requested) return;
  }
  ev.type = WSC_EVENT_CLOSE;
  ev.u.close.code = ws->close_code ? ws->close_code : WSC_CLOSE_ABNORMAL;
  ws->close_reason[ws->close_reason_len] = 0;
  ev.u.close.reason = ws->close_reason;
  ev.u.close.reason_length = ws->close_reason_len;
  ev.u.close.was_clean = !ws->failed && wsc__conn_closed(&ws->conn);
  dispatch(ws, &ev);
}

/* ---- the core's callbacks ----------------------------------------------- */

/* Bytes from the core are framing plus payload; bufferedAmount counts payload
 * only. send_message sets payload_hint to the message length and each chunk
 * is charged up to what is left of it, so the total charged is exact. */
static int core_send(void *user, const uint8_t *data, size_t len) {
  wsc_socket *ws = user;
  uint64_t payload = ws->payload_hint < len ? ws->payload_hint : len;
  ws->payload_hint -= payload;
  if (ws->tls.ssl) return wsc__tls_write(&ws->tls, data, len, payload);
  return wsc__tcp_write(&ws->tcp, data, len, payload);
}

static int deliver(wsc_socket *ws, const void *data, size_t len, int text) {
  if (ws->ready_state != WSC_OPEN) return 0; /* not delivered once closing */
  wsc_event ev;
  ev.type = WSC_EVENT_MESSAGE;
  ev.u.message.data = data;
  ev.u.message.length = len;
  ev.u.message.is_text = text;
  ev.u.message.origin = ws->origin;
  dispatch(ws, &ev);
  return ws->free_requested;
}

static int core_event(void *user, const wsc__event *e) {
  wsc_socket *ws = user;
  switch (e->type) {
  case WSC__EV_DATA:
    if (e->first && e->last) /* whole message in this read: no copy */
      return deliver(ws, e->data, e->len, e->opcode == WSC__OP_TEXT);
    if (e->first) {
      wsc__buf_reset(&ws->msg);
      ws->msg_text = e->opcode == WSC__OP_TEXT;
    }
    if (wsc__buf_append(&ws->msg, e->data, e->len) != 0) {
      fail(ws, WSC_ENOMEM, "out of memory assembling a message");
      return 1;
    }
    if (!e->last) return 0;
    int gone = deliver(ws, ws->msg.data, ws->msg.len, ws->msg_text);
    if (!gone && ws->msg.cap > 2 * WSC__READ_BUFFER) wsc__buf_free(&ws->msg); /* don't hoard */
    return gone;
  case WSC__EV_CLOSE:
    ws->close_code = e->code;
    ws->close_reason_len = e->len;
    memcpy(ws->close_reason, e->data, e->len);
    if (ws->ready_state == WSC_OPEN) ws->ready_state = WSC_CLOSING;
    /* the closing handshake is complete: the server closes TCP first; wait */
    wsc__tcp_timer(&ws->tcp, ws->opts.close_timeout_ms, on_timeout);
    return 0;
  case WSC__EV_PONG:
    ws->ping_outstanding = 0; /* the peer is alive */
    return 0;
  default:
    return 0; /* pings are answered by the core */
  }
}

/* ---- the transport's callbacks ------------------------------------------ */

/* Send the HTTP upgrade request (over TLS when secure). */
static void start_ws_handshake(wsc_socket *ws) {
  wsc__buf req = {0};
  int rc = wsc__hs_client_start(&ws->hs, &ws->hs_cfg, &req);
  if (rc == 0) rc = core_send(ws, req.data, req.len); /* payload_hint is 0: all framing */
  wsc__buf_free(&req);
  if (rc) fail(ws, rc, "could not start the opening handshake");
}

static int tls_to_tcp(void *user, const uint8_t *data, size_t len, uint64_t payload) {
  wsc_socket *ws = user;
  return wsc__tcp_write(&ws->tcp, data, len, payload);
}

static void start_tls(wsc_socket *ws) {
  wsc__tls_config cfg = {ws->opts.tls_ca_file, ws->opts.tls_cert_file, ws->opts.tls_key_file,
                         ws->opts.tls_insecure};
  char err[160];
  ws->tls_ctx = wsc__tls_client_ctx(&cfg, err, sizeof err);
  if (!ws->tls_ctx) {
    fail(ws, WSC_ETLS, err);
    return;
  }
  int rc = wsc__tls_client_start(&ws->tls, ws->tls_ctx, ws->url.hostname_for_connect,
                                 ws->url.host_kind != WSC__URL_HOST_DOMAIN, tls_to_tcp, ws);
  if (rc) fail(ws, rc, ws->tls.error);
}

static void tcp_connected(void *user, int status, const char *message) {
  wsc_socket *ws = user;
  enter(ws);
  if (status) {
    fail(ws, status, message);
  } else {
    /* the handshake timeout covers TLS and the HTTP upgrade */
    wsc__tcp_timer(&ws->tcp, ws->opts.handshake_timeout_ms, on_timeout);
    int rc = wsc__tcp_read_start(&ws->tcp);
    if (rc)
      fail(ws, rc, uv_strerror(rc));
    else if (ws->url.secure)
      start_tls(ws);
    else
      start_ws_handshake(ws);
  }
  leave(ws);
}

static void frames(wsc_socket *ws, uint8_t *data, size_t len) {
  size_t used = 0;
  int rc = wsc__conn_recv(&ws->conn, data, len, &used);
  if (ws->free_requested) return;
  if (rc) fail(ws, rc, ws->conn.error_msg);
}

static void handshake_done(wsc_socket *ws) {
  ws->hs_done = 1;
  free(ws->protocol);
  free(ws->extensions);
  ws->protocol = strdup(ws->hs.protocol);
  ws->extensions = strdup(ws->hs.extensions);
  wsc__hs_client_free(&ws->hs);
  if (!ws->protocol || !ws->extensions) {
    fail(ws, WSC_ENOMEM, "out of memory");
    return;
  }
  wsc__tcp_timer_stop(&ws->tcp);
  if (ws->opts.ping_interval_ms) /* while OPEN the timer is the keepalive */
    wsc__tcp_timer(&ws->tcp, ws->opts.ping_interval_ms, on_timeout);
  ws->ready_state = WSC_OPEN;
  wsc_event ev;
  ev.type = WSC_EVENT_OPEN;
  dispatch(ws, &ev);
}

/* Plaintext from the peer: the 101 response, then frames. Returns non-zero
 * when the caller must stop feeding (failed or freed). */
static int plaintext(void *user, uint8_t *data, size_t len) {
  wsc_socket *ws = user;
  if (ws->failed || ws->free_requested) return 1;
  if (!ws->hs_done) {
    size_t used = 0;
    int rc = wsc__hs_client_recv(&ws->hs, data, len, &used);
    if (rc < 0) {
      fail(ws, rc, ws->hs.error);
    } else if (rc == 1) {
      handshake_done(ws);
      if (!ws->free_requested && !ws->failed && used < len) frames(ws, data + used, len - used);
    }
  } else {
    frames(ws, data, len);
  }
  return ws->failed || ws->free_requested;
}

static void tcp_end(void *user, int status);

static void tcp_read(void *user, uint8_t *data, size_t len) {
  wsc_socket *ws = user;
  enter(ws);
  if (!ws->tls.ssl) {
    plaintext(ws, data, len);
  } else if (!ws->failed && !ws->free_requested) {
    wsc_loop *l = ws->loop;
    if (!l->plainbuf) l->plainbuf = malloc(WSC__READ_BUFFER);
    int rc = l->plainbuf ? wsc__tls_feed(&ws->tls, data, len, plaintext, ws, l->plainbuf,
                                         WSC__READ_BUFFER)
                         : WSC_ENOMEM;
    if (rc == 1) { /* TLS is up: now the WebSocket handshake */
      start_ws_handshake(ws);
      if (!ws->failed) rc = wsc__tls_feed(&ws->tls, NULL, 0, plaintext, ws, l->plainbuf,
                                          WSC__READ_BUFFER);
    }
    if (rc == 2) /* close_notify: the peer's end of the stream */
      tcp_end(ws, 0);
    else if (rc < 0)
      fail(ws, rc, rc == WSC_ETLS ? ws->tls.error : wsc_strerror(rc));
  }
  leave(ws);
}

static void tcp_end(void *user, int status) {
  wsc_socket *ws = user;
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
    wsc__tcp_close(&ws->tcp);
  leave(ws);
}

static void tcp_closed(void *user) {
  wsc_socket *ws = user;
  enter(ws);
  ws->transport_closed = 1;
  finish(ws);
  leave(ws);
}

static const wsc__tcp_callbacks tcp_callbacks = {tcp_connected, tcp_read, tcp_end, tcp_closed};

static void on_timeout(uv_timer_t *t) {
  wsc_socket *ws = container_of(container_of(t, wsc__tcp, timer), wsc_socket, tcp);
  enter(ws);
  if (ws->failed || wsc__conn_closed(&ws->conn))
    wsc__tcp_close(&ws->tcp); /* the peer did not end TCP in time: we do */
  else if (!ws->hs_done)
    fail(ws, WSC_ETIMEDOUT, "timed out waiting for the opening handshake");
  else if (ws->ready_state == WSC_OPEN && ws->ping_outstanding)
    fail(ws, WSC_ETIMEDOUT, "no Pong to the keepalive Ping: peer unresponsive");
  else if (ws->ready_state == WSC_OPEN) { /* keepalive tick */
    int rc = wsc__conn_ping(&ws->conn, "wsc", 3);
    if (rc)
      fail(ws, rc, "could not send a keepalive Ping");
    else {
      ws->ping_outstanding = 1;
      wsc__tcp_timer(&ws->tcp, ws->opts.ping_interval_ms, on_timeout);
    }
  } else
    fail(ws, WSC_ETIMEDOUT, "timed out waiting for the closing handshake");
  leave(ws);
}

/* ---- construction ------------------------------------------------------- */

void wsc_options_init(wsc_options *o) { memset(o, 0, sizeof *o); }

static void copy_options(wsc_socket *ws, const wsc_options *in) {
  if (in) ws->opts = *in;
  wsc_options *o = &ws->opts;
  if (!o->connect_timeout_ms) o->connect_timeout_ms = DEFAULT_CONNECT_TIMEOUT;
  if (!o->handshake_timeout_ms) o->handshake_timeout_ms = DEFAULT_HANDSHAKE_TIMEOUT;
  if (!o->close_timeout_ms) o->close_timeout_ms = DEFAULT_CLOSE_TIMEOUT;
}

/* A copy of a string array in one allocation: the pointers, then the strings. */
static const char *const *copy_strv(const char *const *v, size_t n) {
  size_t bytes = n * sizeof(char *);
  for (size_t i = 0; i < n; i++) bytes += strlen(v[i]) + 1;
  char **out = malloc(bytes);
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

static char *make_origin(const wsc__url *u) {
  size_t n = strlen(u->host) + 24;
  char *s = malloc(n);
  if (!s) return NULL;
  if (u->port_explicit) /* set only for a non-default port */
    snprintf(s, n, "%s://%s:%u", u->secure ? "wss" : "ws", u->host, (unsigned)u->port);
  else
    snprintf(s, n, "%s://%s", u->secure ? "wss" : "ws", u->host);
  return s;
}

int wsc_socket_new(wsc_loop *loop, const char *url, const char *const *protocols,
                   size_t nprotocols, const wsc_options *opts, wsc_socket **out) {
  if (!loop || !url || !out || (nprotocols && !protocols)) return WSC_EINVAL;
  *out = NULL;
  wsc_socket *ws = calloc(1, sizeof *ws);
  if (!ws) return WSC_ENOMEM;
  ws->loop = loop;
  loop->nsockets++;
  int rc = wsc__url_parse(url, &ws->url);
  if (rc == 0) rc = wsc__subprotocols_check(protocols, nprotocols);
  if (rc) goto fail;
  copy_options(ws, opts);
  rc = WSC_ENOMEM;
  ws->origin = make_origin(&ws->url);
  ws->protocol = strdup("");
  ws->extensions = strdup("");
  if (!ws->origin || !ws->protocol || !ws->extensions) goto fail;
  /* the handshake config: validate it now so a bad header is the caller's
   * error, not an asynchronous failure */
  wsc__hs_client_config *h = &ws->hs_cfg;
  h->host = ws->url.host_header;
  h->target = ws->url.resource;
  h->max_size = ws->opts.max_handshake;
  if (nprotocols && !(h->protocols = copy_strv(protocols, nprotocols))) goto fail;
  h->nprotocols = nprotocols;
  if (ws->opts.nheaders && !(h->headers = copy_strv(ws->opts.headers, ws->opts.nheaders)))
    goto fail;
  h->nheaders = ws->opts.nheaders;
  ws->opts.headers = NULL; /* the caller's array is not kept */
  if (ws->opts.origin) {
    if (wsc__buf_append(&ws->owned, ws->opts.origin, strlen(ws->opts.origin) + 1)) goto fail;
    h->origin = (const char *)ws->owned.data;
  }
  ws->opts.origin = NULL;
  {
    wsc__buf probe = {0};
    rc = wsc__hs_client_start(&ws->hs, h, &probe);
    wsc__buf_free(&probe);
    wsc__hs_client_free(&ws->hs);
    if (rc) goto fail;
  }
  ws->conn_cfg.role = WSC__CLIENT;
  ws->conn_cfg.max_frame = ws->opts.max_frame;
  ws->conn_cfg.max_message = ws->opts.max_message;
  ws->conn_cfg.on_event = core_event;
  ws->conn_cfg.on_send = core_send;
  wsc__conn_init(&ws->conn, &ws->conn_cfg, ws);
  ws->ready_state = WSC_CONNECTING;
  ws->binary_type = WSC_BINARY_BLOB;
  wsc__tcp_init(&ws->tcp, loop, &tcp_callbacks, ws);
  rc = wsc__tcp_connect(&ws->tcp, ws->url.hostname_for_connect, ws->url.port,
                        ws->opts.connect_timeout_ms);
  if (rc) fail(ws, rc, uv_strerror(rc)); /* reported through the events */
  *out = ws;
  return 0;
fail:
  ws->transport_closed = 1;
  release_memory(ws);
  return rc;
}

void wsc_socket_free(wsc_socket *ws) {
  if (!ws || ws->free_requested) return;
  ws->free_requested = 1;
  enter(ws);
  leave(ws);
}

/* ---- attributes --------------------------------------------------------- */

const char *wsc_socket_url(const wsc_socket *ws) { return ws->url.href; }
int wsc_socket_ready_state(const wsc_socket *ws) { return ws->ready_state; }
uint64_t wsc_socket_buffered_amount(const wsc_socket *ws) {
  return wsc__tcp_buffered(&ws->tcp) + ws->discarded;
}
const char *wsc_socket_extensions(const wsc_socket *ws) { return ws->extensions; }
const char *wsc_socket_protocol(const wsc_socket *ws) { return ws->protocol; }
wsc_binary_type wsc_socket_binary_type(const wsc_socket *ws) { return ws->binary_type; }
void wsc_socket_set_binary_type(wsc_socket *ws, wsc_binary_type t) { ws->binary_type = t; }
void wsc_socket_set_user(wsc_socket *ws, void *user) { ws->user = user; }
void *wsc_socket_user(const wsc_socket *ws) { return ws->user; }
int wsc_socket_error(const wsc_socket *ws, const char **message) {
  if (message) *message = ws->error ? ws->error_msg : "";
  return ws->error;
}

/* ---- send and close ----------------------------------------------------- */

static int send_message(wsc_socket *ws, unsigned op, const void *data, size_t len) {
  if (ws->ready_state == WSC_CONNECTING) return WSC_EINVALIDSTATE;
  if (ws->ready_state != WSC_OPEN || ws->conn.close_sent) {
    ws->discarded += len; /* the standard: counted, never sent */
    return 0;
  }
  if (ws->conn.send_op) return WSC_EINVALIDSTATE; /* a fragmented message is open */
  ws->payload_hint = len;
  int rc = wsc__conn_send(&ws->conn, op, data, len);
  ws->payload_hint = 0;
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
  if (ws->ready_state != WSC_OPEN || ws->conn.close_sent) {
    ws->discarded += length;
    return 0;
  }
  if (is_text) { /* validate on a copy: a rejected piece leaves no trace */
    wsc__utf8 v = ws->conn.send_op ? ws->out_utf8 : (wsc__utf8){0};
    if (wsc__utf8_feed(&v, data, length, NULL) != 0 || (fin && wsc__utf8_finish(&v) != 0))
      return WSC_ESYNTAX;
    ws->out_utf8 = v;
  }
  ws->payload_hint = length;
  int rc = wsc__conn_send_fragment(&ws->conn, op, data, length, fin);
  ws->payload_hint = 0;
  if (rc == WSC_ENOMEM) return rc;
  if (rc) fail(ws, rc, "could not queue a message fragment");
  return 0;
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
    ws->ready_state = WSC_CLOSING;
    int rc = wsc__conn_close(&ws->conn, code, reason, reason_length);
    if (rc)
      fail(ws, rc, "could not send the Close frame");
    else
      wsc__tcp_timer(&ws->tcp, ws->opts.close_timeout_ms, on_timeout);
  }
  leave(ws);
  return 0;
}

/* ---- listeners ---------------------------------------------------------- */

static int add(wsc_socket *ws, wsc_event_type type, wsc_listener_fn fn, void *user,
               int is_handler) {
  if ((unsigned)type > WSC_EVENT_CLOSE || !fn) return WSC_EINVAL;
  wsc__listeners *L = &ws->listeners[type];
  for (size_t i = 0; i < L->n; i++) {
    wsc__listener *l = &L->v[i];
    if (l->removed) continue;
    if (is_handler && l->is_handler) { /* the attribute keeps its place */
      l->fn = fn;
      l->user = user;
      return 0;
    }
    if (!is_handler && !l->is_handler && l->fn == fn && l->user == user) return 0;
  }
  if (L->n == L->cap) {
    size_t cap = L->cap ? 2 * L->cap : 4;
    wsc__listener *v = realloc(L->v, cap * sizeof *v);
    if (!v) return WSC_ENOMEM;
    L->v = v;
    L->cap = cap;
  }
  L->v[L->n++] = (wsc__listener){fn, user, (uint8_t)is_handler, 0};
  return 0;
}

static int remove_matching(wsc_socket *ws, wsc_event_type type, wsc_listener_fn fn, void *user,
                           int is_handler) {
  if ((unsigned)type > WSC_EVENT_CLOSE) return WSC_EINVAL;
  wsc__listeners *L = &ws->listeners[type];
  for (size_t i = 0; i < L->n; i++) {
    wsc__listener *l = &L->v[i];
    if (l->removed || l->is_handler != is_handler) continue;
    if (is_handler || (l->fn == fn && l->user == user)) {
      l->removed = 1;
      l->fn = NULL;
      if (!ws->dispatching) { /* compact now */
        memmove(l, l + 1, (L->n - i - 1) * sizeof *l);
        L->n--;
      }
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
int wsc_socket_add_listener(wsc_socket *ws, wsc_event_type type, wsc_listener_fn fn,
                            void *user) {
  return add(ws, type, fn, user, 0);
}
int wsc_socket_remove_listener(wsc_socket *ws, wsc_event_type type, wsc_listener_fn fn,
                               void *user) {
  if (!fn) return WSC_EINVAL;
  return remove_matching(ws, type, fn, user, 0);
}
