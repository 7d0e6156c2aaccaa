/* tcp.c - TCP transport on libuv: DNS, connect with fallback, reads into the
 * loop's shared buffer, a two-buffer coalescing write queue. */
#include "net/tcp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/loop.h"
#include "wsc.h"

#define container_of(p, type, member) ((type *)(void *)((char *)(p) - offsetof(type, member)))

static void try_next(wsc__tcp *t);

void wsc__tcp_init(wsc__tcp *t, struct wsc_loop *loop, const wsc__tcp_callbacks *cb, void *user) {
  memset(t, 0, sizeof *t);
  t->loop = loop;
  t->cb = cb;
  t->user = user;
}

static void connect_done(wsc__tcp *t, int status, const char *message) {
  t->connecting = 0;
  uv_timer_stop(&t->timer);
  if (t->addrs) uv_freeaddrinfo(t->addrs);
  t->addrs = t->next_addr = NULL;
  if (status == 0) t->connected = 1;
  t->cb->on_connect(t->user, status, message);
}

static void on_connect_timeout(uv_timer_t *timer) {
  wsc__tcp *t = container_of(timer, wsc__tcp, timer);
  if (!t->connecting) return;
  uv_cancel((uv_req_t *)&t->dns); /* harmless when it already finished */
  connect_done(t, WSC_ETIMEDOUT, "timed out connecting");
}

/* open_handles counts what libuv still holds a pointer to: the timer, the
 * tcp handle and a pending DNS request. on_closed fires when it reaches 0
 * after wsc__tcp_close. */
static void release(wsc__tcp *t) {
  if (--t->open_handles == 0 && t->closing) t->cb->on_closed(t->user);
}

static void on_handle_closed(uv_handle_t *h) { release(h->data); }

static void on_attempt_closed(uv_handle_t *h) {
  wsc__tcp *t = h->data;
  release(t);
  if (!t->closing) try_next(t);
}

static void on_tcp_connected(uv_connect_t *req, int status) {
  wsc__tcp *t = container_of(req, wsc__tcp, connect_req);
  if (!t->connecting || t->closing) return;
  if (status == 0) {
    uv_tcp_nodelay(&t->handle, 1);
    connect_done(t, 0, NULL);
    return;
  }
  t->last_error = status; /* this address failed: release the handle, try the next */
  t->tcp_open = 0;
  uv_close((uv_handle_t *)&t->handle, on_attempt_closed);
}

static void try_next(wsc__tcp *t) {
  while (t->connecting && t->next_addr) {
    struct addrinfo *a = t->next_addr;
    t->next_addr = a->ai_next;
    int rc = uv_tcp_init(t->loop->uv, &t->handle);
    if (rc) {
      t->last_error = rc;
      continue;
    }
    t->handle.data = t;
    t->open_handles++;
    t->tcp_open = 1;
    rc = uv_tcp_connect(&t->connect_req, &t->handle, a->ai_addr, on_tcp_connected);
    if (rc == 0) return;
    t->last_error = rc;
    t->tcp_open = 0;
    uv_close((uv_handle_t *)&t->handle, on_attempt_closed);
    return;
  }
  if (t->connecting)
    connect_done(t, t->last_error ? t->last_error : WSC_EDNS,
                 t->last_error ? uv_strerror(t->last_error) : "no address to connect to");
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res) {
  wsc__tcp *t = container_of(req, wsc__tcp, dns);
  if (!t->connecting || t->closing) {
    if (res) uv_freeaddrinfo(res);
  } else if (status) {
    connect_done(t, WSC_EDNS, uv_strerror(status));
  } else {
    t->addrs = t->next_addr = res;
    try_next(t);
  }
  release(t);
}

int wsc__tcp_connect(wsc__tcp *t, const char *host, uint16_t port, uint32_t timeout_ms) {
  char service[8];
  snprintf(service, sizeof service, "%u", (unsigned)port);
  struct addrinfo hints;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  int rc = uv_timer_init(t->loop->uv, &t->timer);
  if (rc) return rc;
  t->timer.data = t;
  t->open_handles = 1;
  t->connecting = 1;
  uv_timer_start(&t->timer, on_connect_timeout, timeout_ms, 0);
  rc = uv_getaddrinfo(t->loop->uv, &t->dns, on_resolved, host, service, &hints);
  if (rc) {
    t->connecting = 0;
    uv_timer_stop(&t->timer);
    return rc;
  }
  t->open_handles++;
  return 0;
}

int wsc__tcp_accept(wsc__tcp *t, void *server_stream) {
  int rc = uv_timer_init(t->loop->uv, &t->timer);
  if (rc) return rc;
  t->timer.data = t;
  t->open_handles = 1;
  rc = uv_tcp_init(t->loop->uv, &t->handle);
  if (rc) return rc; /* the timer is closed by wsc__tcp_close */
  t->handle.data = t;
  t->open_handles++;
  t->tcp_open = 1;
  rc = uv_accept((uv_stream_t *)server_stream, (uv_stream_t *)&t->handle);
  if (rc) return rc;
  uv_tcp_nodelay(&t->handle, 1);
  t->connected = 1;
  return 0;
}

int wsc__tcp_peer_name(const wsc__tcp *t, char *out, size_t n) {
  struct sockaddr_storage ss;
  int len = sizeof ss;
  int rc = uv_tcp_getpeername(&t->handle, (struct sockaddr *)&ss, &len);
  if (rc) return rc;
  char ip[64] = "";
  if (ss.ss_family == AF_INET6) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
    uv_ip6_name(a, ip, sizeof ip);
    snprintf(out, n, "[%s]:%u", ip, (unsigned)ntohs(a->sin6_port));
  } else {
    struct sockaddr_in *a = (struct sockaddr_in *)&ss;
    uv_ip4_name(a, ip, sizeof ip);
    snprintf(out, n, "%s:%u", ip, (unsigned)ntohs(a->sin_port));
  }
  return 0;
}

/* ---- writing ------------------------------------------------------------ */

/* Buffers grown by a burst are released once empty, so an idle connection
 * holds no write memory. */
#define KEEP_WRITE_BUFFER (64 * 1024)

static void start_write(wsc__tcp *t);

static void on_written(uv_write_t *req, int status) {
  wsc__tcp *t = container_of(req, wsc__tcp, write_req);
  t->writing = 0;
  t->inflight.len = 0;
  t->inflight_payload = 0;
  if (t->closing) return;
  if (status) {
    t->cb->on_end(t->user, status);
    return;
  }
  if (t->inflight.cap > KEEP_WRITE_BUFFER) wsc__buf_free(&t->inflight);
  if (t->pending.len) {
    start_write(t);
    return;
  }
  if (t->pending.cap > KEEP_WRITE_BUFFER) wsc__buf_free(&t->pending);
  if (t->shutdown_after_write)
    wsc__tcp_shutdown(t);
  else if (t->cb->on_drain)
    t->cb->on_drain(t->user);
}

static void start_write(wsc__tcp *t) {
  /* swap: what was gathered goes out in one write */
  wsc__buf tmp = t->inflight;
  t->inflight = t->pending;
  t->pending = tmp;
  t->pending.len = 0;
  t->inflight_payload = t->pending_payload;
  t->pending_payload = 0;
  uv_buf_t b = uv_buf_init((char *)t->inflight.data, (unsigned)t->inflight.len);
  int rc = uv_write(&t->write_req, (uv_stream_t *)&t->handle, &b, 1, on_written);
  if (rc) {
    t->cb->on_end(t->user, rc);
    return;
  }
  t->writing = 1;
}

int wsc__tcp_write(wsc__tcp *t, const void *data, size_t len, uint64_t payload) {
  if (!t->connected || t->closing) return WSC_ECLOSED;
  int rc = wsc__buf_append(&t->pending, data, len);
  if (rc) return rc;
  t->pending_payload += payload;
  if (!t->writing) start_write(t);
  return 0;
}

static void on_shutdown(uv_shutdown_t *req, int status) {
  (void)status;
  free(req);
}

void wsc__tcp_shutdown(wsc__tcp *t) {
  if (!t->connected || t->closing) return;
  if (t->writing || t->pending.len) {
    t->shutdown_after_write = 1;
    return;
  }
  uv_shutdown_t *req = malloc(sizeof *req);
  if (req && uv_shutdown(req, (uv_stream_t *)&t->handle, on_shutdown) != 0) free(req);
}

/* ---- reading ------------------------------------------------------------ */

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  (void)hint;
  wsc__tcp *t = h->data;
  struct wsc_loop *l = t->loop;
  if (!l->readbuf) l->readbuf = malloc(WSC__READ_BUFFER);
  *buf = uv_buf_init(l->readbuf, l->readbuf ? WSC__READ_BUFFER : 0);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  wsc__tcp *t = s->data;
  (void)buf;
  if (n > 0) {
    t->cb->on_read(t->user, (uint8_t *)buf->base, (size_t)n);
  } else if (n < 0) {
    wsc__tcp_read_stop(t);
    t->cb->on_end(t->user, n == UV_EOF ? 0 : (int)n);
  }
}

int wsc__tcp_read_start(wsc__tcp *t) {
  if (!t->connected || t->closing || t->reading) return 0;
  int rc = uv_read_start((uv_stream_t *)&t->handle, on_alloc, on_read);
  if (rc == 0) t->reading = 1;
  return rc;
}

void wsc__tcp_read_stop(wsc__tcp *t) {
  if (t->reading && !t->closing) uv_read_stop((uv_stream_t *)&t->handle);
  t->reading = 0;
}

void wsc__tcp_timer(wsc__tcp *t, uint32_t ms, void (*fn)(uv_timer_t *)) {
  if (t->closing || !t->open_handles) return;
  uv_timer_start(&t->timer, fn, ms, 0);
}

void wsc__tcp_timer_stop(wsc__tcp *t) {
  if (t->open_handles && !t->closing) uv_timer_stop(&t->timer);
}

void wsc__tcp_close(wsc__tcp *t) {
  if (t->closing) return;
  t->closing = 1;
  t->connecting = 0;
  t->connected = 0;
  if (t->addrs) uv_freeaddrinfo(t->addrs);
  t->addrs = t->next_addr = NULL;
  wsc__buf_free(&t->pending);
  wsc__buf_free(&t->inflight);
  t->pending_payload = t->inflight_payload = 0;
  if (t->open_handles == 0) {
    t->cb->on_closed(t->user);
    return;
  }
  uv_cancel((uv_req_t *)&t->dns);
  uv_close((uv_handle_t *)&t->timer, on_handle_closed);
  if (t->tcp_open) {
    t->tcp_open = 0;
    uv_close((uv_handle_t *)&t->handle, on_handle_closed);
  }
}
