/* tcp.c - TCP transport: DNS and connect with fallback on libuv, then the
 * descriptor in the loop's epoll set (poller.c), direct writes with a cork
 * and a queue for what the kernel does not take (wqueue.c). */
#include "net/tcp.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api/loop.h"
#include "wsc.h"

#define container_of(p, type, member) ((type *)(void *)((char *)(p) - offsetof(type, member)))

#define MAX_IOV 64
#define CORK_FLUSH (256 * 1024) /* a cork this full is written at once */
#define READS_PER_EVENT 4       /* full 64 KiB reads before yielding to others */

static int interest(wsc__tcp *t);
static void end(wsc__tcp *t, int status);

/* ---- connecting (client) ------------------------------------------------ */

typedef struct wsc__connector {
  wsc__tcp *t;
  uv_getaddrinfo_t dns;
  uv_tcp_t handle;
  uv_connect_t req;
  struct addrinfo *addrs, *next_addr;
  int last_error;
  unsigned open_handles; /* DNS request, tcp handle: still held by libuv */
  uint8_t tcp_open;
} wsc__connector;

static wsc__poller *poller(wsc__tcp *t) {
  int err;
  return wsc__poller_get(t->loop, &err);
}

void wsc__tcp_init(wsc__tcp *t, struct wsc_loop *loop, const wsc__tcp_callbacks *cb) {
  memset(t, 0, sizeof *t);
  t->loop = loop;
  t->cb = cb;
  t->fd = -1;
}

/* The connector is gone once libuv holds nothing of it; a transport closed
 * meanwhile gets its on_closed then. */
static void connector_release(wsc__connector *c) {
  if (--c->open_handles) return;
  wsc__tcp *t = c->t;
  if (c->addrs) uv_freeaddrinfo(c->addrs);
  free(c);
  if (t) {
    t->u.conn = NULL;
    if (t->closing) wsc__poller_closing(poller(t), t);
  }
}

static void try_next(wsc__connector *c);
static void on_handle_closed(uv_handle_t *h);

static void connect_done(wsc__tcp *t, int status, const char *message) {
  wsc__connector *c = t->u.conn;
  wsc__poller_heap_remove(poller(t), t);
  c->t = NULL; /* the connector finishes on its own */
  t->u.conn = NULL;
  if (c->addrs) uv_freeaddrinfo(c->addrs);
  c->addrs = c->next_addr = NULL;
  if (status && c->tcp_open) { /* timed out while an attempt is in flight */
    c->tcp_open = 0;
    uv_close((uv_handle_t *)&c->handle, on_handle_closed);
  }
  if (c->open_handles == 0) free(c);
  if (status == 0) t->connected = 1;
  t->cb->on_connect(t, status, message);
}

/* A failed attempt's handle is closed: try the next address (before letting
 * go of the old handle, so the connector stays alive meanwhile). */
static void on_attempt_closed(uv_handle_t *h) {
  wsc__connector *c = h->data;
  if (c->t && !c->t->closing) try_next(c);
  connector_release(c);
}

static void on_handle_closed(uv_handle_t *h) { connector_release(h->data); }

/* The connection is up: keep a duplicate of libuv's descriptor and let libuv
 * close its handle; from here on the poller serves it. */
static void on_tcp_connected(uv_connect_t *req, int status) {
  wsc__connector *c = container_of(req, wsc__connector, req);
  wsc__tcp *t = c->t;
  if (!t || t->closing) return;
  if (status == 0) {
    uv_os_fd_t fd;
    status = uv_fileno((uv_handle_t *)&c->handle, &fd);
    int dup_fd = status == 0 ? fcntl(fd, F_DUPFD_CLOEXEC, 0) : -1;
    if (status == 0 && dup_fd < 0) status = -errno;
    c->tcp_open = 0;
    uv_close((uv_handle_t *)&c->handle, on_handle_closed);
    if (status == 0) {
      status = wsc__tcp_adopt(t, dup_fd, 0);
      connect_done(t, status, status ? uv_strerror(status) : NULL);
      return;
    }
    c->last_error = status;
    try_next(c);
    return;
  }
  c->last_error = status; /* this address failed: release the handle, try the next */
  c->tcp_open = 0;
  uv_close((uv_handle_t *)&c->handle, on_attempt_closed);
}

static void try_next(wsc__connector *c) {
  wsc__tcp *t = c->t;
  while (t && c->next_addr) {
    struct addrinfo *a = c->next_addr;
    c->next_addr = a->ai_next;
    int rc = uv_tcp_init(t->loop->uv, &c->handle);
    if (rc) {
      c->last_error = rc;
      continue;
    }
    c->handle.data = c;
    c->tcp_open = 1;
    c->open_handles++;
    rc = uv_tcp_connect(&c->req, &c->handle, a->ai_addr, on_tcp_connected);
    if (rc == 0) {
      uv_tcp_nodelay(&c->handle, 1);
      return;
    }
    c->last_error = rc;
    c->tcp_open = 0;
    uv_close((uv_handle_t *)&c->handle, on_attempt_closed);
    return;
  }
  if (t)
    connect_done(t, c->last_error ? c->last_error : WSC_EDNS,
                 c->last_error ? uv_strerror(c->last_error) : "no address to connect to");
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res) {
  wsc__connector *c = container_of(req, wsc__connector, dns);
  wsc__tcp *t = c->t;
  if (!t || t->closing) {
    if (res) uv_freeaddrinfo(res);
  } else if (status) {
    connect_done(t, WSC_EDNS, uv_strerror(status));
  } else {
    c->addrs = c->next_addr = res;
    try_next(c);
  }
  connector_release(c);
}

int wsc__tcp_connect(wsc__tcp *t, const char *host, uint16_t port, uint32_t timeout_ms) {
  char service[8];
  snprintf(service, sizeof service, "%u", (unsigned)port);
  struct addrinfo hints;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  int err = 0;
  wsc__poller *p = wsc__poller_get(t->loop, &err);
  if (!p) return err;
  wsc__connector *c = calloc(1, sizeof *c);
  if (!c) return WSC_ENOMEM;
  c->t = t;
  int rc = uv_getaddrinfo(t->loop->uv, &c->dns, on_resolved, host, service, &hints);
  if (rc) {
    free(c);
    return rc;
  }
  c->open_handles = 1;
  t->u.conn = c;
  wsc__poller_heap_set(p, t, uv_now(t->loop->uv) + timeout_ms);
  return 0;
}

int wsc__tcp_adopt(wsc__tcp *t, int fd, int nodelay_set) {
  int err = 0, on = 1;
  wsc__poller_get(t->loop, &err); /* the loop's epoll set, made on first use */
  if (!err && !nodelay_set) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  if (err) {
    close(fd);
    return err;
  }
  t->fd = fd;
  t->connected = 1;
  return 0;
}

int wsc__tcp_peer_name(const wsc__tcp *t, char *out, size_t n) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (getpeername(t->fd, (struct sockaddr *)&ss, &len) != 0) return -errno;
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

/* Write what the kernel takes now; a failed write (the peer is gone) counts
 * as written: epoll reports the error and the read side ends the connection. */
static size_t write_now(wsc__tcp *t, struct iovec *iov, int n) {
  /* before a FIN: MSG_MORE holds the last bytes back so that the FIN (sent
   * by shutdown() right after, once the queue drains) rides with them in one
   * packet instead of a packet of its own */
  struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)n};
  int flags = MSG_NOSIGNAL | (t->shutdown_after_write ? MSG_MORE : 0);
  for (;;) {
    ssize_t w = sendmsg(t->fd, &mh, flags);
    if (w >= 0) return (size_t)w;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
    size_t all = 0;
    for (int i = 0; i < n; i++) all += iov[i].iov_len;
    return all;
  }
}

static int ensure_wq(wsc__tcp *t) {
  if (t->wq) return 0;
  t->wq = calloc(1, sizeof *t->wq);
  return t->wq ? 0 : WSC_ENOMEM;
}

/* Write a then b (either may be empty) now; what the kernel leaves is queued:
 * a copied, b copied or (release != NULL) kept as handed over. */
static int send_now(wsc__tcp *t, const uint8_t *a, size_t alen, uint64_t apay, const uint8_t *b,
                    size_t blen, uint64_t bpay, void (*release)(void *, void *), void *arg) {
  struct iovec iov[2];
  int n = 0;
  if (alen) iov[n++] = (struct iovec){(void *)a, alen};
  if (blen) iov[n++] = (struct iovec){(void *)b, blen};
  size_t w = n ? write_now(t, iov, n) : 0;
  int rc = 0;
  if (w < alen) {
    size_t left = alen - w;
    rc = ensure_wq(t);
    if (rc == 0) rc = wsc__wqueue_copy(t->wq, a + w, left, wsc__payload_left(apay, alen, w));
    w = alen;
  }
  size_t wb = w - alen;
  if (rc == 0 && wb < blen) {
    size_t left = blen - wb;
    uint64_t pay = wsc__payload_left(bpay, blen, wb);
    rc = ensure_wq(t);
    if (rc == 0 && release) {
      rc = wsc__wqueue_own(t->wq, b, blen, pay, release, arg);
      if (rc == 0) {
        t->wq->tail->ptr += wb; /* the part already written */
        t->wq->tail->len -= wb;
        t->wq->bytes -= wb;
        release = NULL;
      }
    } else if (rc == 0) {
      rc = wsc__wqueue_copy(t->wq, b + wb, left, pay);
    }
  }
  if (release) release((void *)b, arg);
  if (rc && (w > 0 || alen)) {
    /* out of memory with part of the stream gone or bytes already accepted
     * (the cork) lost: the byte stream is broken, so is the connection */
    t->connected = 0;
    rc = WSC_ECLOSED;
  }
  if (t->wq) interest(t);
  return rc;
}

static void reset_cork(wsc__poller *p) {
  p->cork_len = 0;
  p->cork_payload = 0;
}

static int cork_append(wsc__poller *p, const void *data, size_t len, uint64_t payload) {
  if (p->cork_cap - p->cork_len < len) {
    size_t cap = p->cork_cap ? p->cork_cap : 16384;
    while (cap - p->cork_len < len) cap *= 2;
    uint8_t *c = realloc(p->cork, cap);
    if (!c) return WSC_ENOMEM;
    p->cork = c;
    p->cork_cap = cap;
  }
  memcpy(p->cork + p->cork_len, data, len);
  p->cork_len += len;
  p->cork_payload += payload;
  return 0;
}

static int write_any(wsc__tcp *t, const void *data, size_t len, uint64_t payload,
                     void (*release)(void *, void *), void *arg) {
  int rc;
  if (!t->connected || t->closing || t->fd < 0) {
    rc = WSC_ECLOSED;
    goto out;
  }
  if (!len) {
    rc = 0;
    goto out;
  }
  wsc__poller *p = t->loop->poller;
  if (t->wq) { /* the kernel is behind: keep the order */
    rc = release ? wsc__wqueue_own(t->wq, data, len, payload, release, arg)
                 : wsc__wqueue_copy(t->wq, data, len, payload);
    if (rc == 0) return 0;
    goto out;
  }
  if (p->corked == t) {
    if (len < WSC__TCP_BIG && !release) {
      rc = cork_append(p, data, len, payload);
      if (rc == 0 && p->cork_len >= CORK_FLUSH) {
        rc = send_now(t, p->cork, p->cork_len, p->cork_payload, NULL, 0, 0, NULL, NULL);
        reset_cork(p);
      }
      return rc;
    }
    /* big: the cork and the piece leave together */
    rc = send_now(t, p->cork, p->cork_len, p->cork_payload, data, len, payload, release, arg);
    reset_cork(p);
    return rc;
  }
  return send_now(t, NULL, 0, 0, data, len, payload, release, arg);
out:
  if (release) release((void *)data, arg);
  return rc;
}

int wsc__tcp_write(wsc__tcp *t, const void *data, size_t len, uint64_t payload) {
  return write_any(t, data, len, payload, NULL, NULL);
}

int wsc__tcp_write_owned(wsc__tcp *t, const void *data, size_t len, uint64_t payload,
                         void (*release)(void *data, void *arg), void *arg) {
  return write_any(t, data, len, payload, release, arg);
}

void wsc__tcp_charge(wsc__tcp *t, uint64_t payload) {
  wsc__poller *p = t->loop->poller;
  if (t->wq && t->wq->tail)
    wsc__wqueue_charge(t->wq, payload);
  else if (p && p->corked == t && p->cork_len)
    p->cork_payload += payload;
  /* else the bytes are all with the kernel: nothing is buffered */
}

uint64_t wsc__tcp_buffered(const wsc__tcp *t) {
  uint64_t n = t->wq ? t->wq->payload : 0;
  const wsc__poller *p = t->loop->poller;
  if (p && p->corked == t) n += p->cork_payload;
  return n;
}

size_t wsc__tcp_queued(const wsc__tcp *t) {
  size_t n = t->wq ? t->wq->bytes : 0;
  const wsc__poller *p = t->loop->poller;
  if (p && p->corked == t) n += p->cork_len;
  return n;
}

static void do_shutdown(wsc__tcp *t) {
  t->shutdown_after_write = 0;
  shutdown(t->fd, SHUT_WR);
}

/* The queue emptied: FIN if asked, then tell the socket. */
static void drained(wsc__tcp *t) {
  if (t->shutdown_after_write) do_shutdown(t);
  if (t->cb->on_drain) t->cb->on_drain(t);
}

static void flush(wsc__tcp *t) {
  struct iovec iov[MAX_IOV];
  while (t->wq && t->wq->bytes) {
    int n = wsc__wqueue_iov(t->wq, iov, MAX_IOV);
    size_t want = 0;
    for (int i = 0; i < n; i++) want += iov[i].iov_len;
    size_t w = write_now(t, iov, n);
    wsc__wqueue_consume(t->wq, w);
    if (w < want) return; /* the kernel is full: wait for EPOLLOUT */
  }
  if (t->wq) {
    wsc__wqueue_clear(t->wq);
    free(t->wq);
    t->wq = NULL;
  }
  interest(t);
  drained(t);
}

void wsc__tcp_shutdown(wsc__tcp *t) {
  if (!t->connected || t->closing) return;
  if (wsc__tcp_queued(t)) {
    t->shutdown_after_write = 1;
    return;
  }
  do_shutdown(t);
}

/* ---- cork --------------------------------------------------------------- */

int wsc__tcp_cork(wsc__tcp *t) {
  wsc__poller *p = t->loop->poller;
  if (!p || p->corked) return 0;
  p->corked = t;
  return 1;
}

void wsc__tcp_uncork(wsc__tcp *t) {
  wsc__poller *p = t->loop->poller;
  if (!p || p->corked != t) return;
  p->corked = NULL;
  if (!p->cork_len) return;
  if (t->closing) {
    reset_cork(p);
    return;
  }
  int rc = send_now(t, p->cork, p->cork_len, p->cork_payload, NULL, 0, 0, NULL, NULL);
  reset_cork(p);
  if (rc)
    end(t, WSC_ENOMEM); /* the stream is broken (send_now): fail the connection */
  else if (!t->wq)
    drained(t);
}

/* ---- reading and events -------------------------------------------------- */

/* Tell epoll what t waits for. The descriptor joins the set the first time
 * it waits for anything, which is wsc__tcp_read_start for every connection
 * (so one epoll_ctl serves a connection that only ever reads, and a failure
 * to join is reported there). 0 or a negative errno. */
static int interest(wsc__tcp *t) {
  if (t->fd < 0 || t->closing) return 0;
  unsigned in = t->reading && !t->eof, out = t->wq != NULL;
  unsigned want = in | out << 1;
  if (want == t->interest) return 0;
  uint32_t ev = (in ? EPOLLIN : 0) | (out ? (uint32_t)EPOLLOUT : 0);
  uintptr_t who = (uintptr_t)t | WSC__POLL_TCP;
  if (t->registered) {
    wsc__poller_mod(t->loop->poller, t->fd, who, ev);
  } else {
    int err = wsc__poller_add(t->loop->poller, t->fd, who, ev);
    if (err) return err;
    t->registered = 1;
  }
  t->interest = want & 3;
  return 0;
}

static void end(wsc__tcp *t, int status) {
  t->eof = 1;
  t->reading = 0;
  t->cb->on_end(t, status);
  interest(t); /* (usually closed by now: no epoll_ctl then) */
}

static void do_read(wsc__tcp *t) {
  struct wsc_loop *l = t->loop;
  if (!l->readbuf) l->readbuf = malloc(WSC__READ_BUFFER);
  if (!l->readbuf) return;
  for (int i = 0; i < READS_PER_EVENT && t->reading && !t->closing; i++) {
    size_t cap = 0;
    uint8_t *buf = t->cb->read_into ? t->cb->read_into(t, &cap) : NULL;
    if (!buf) {
      buf = (uint8_t *)l->readbuf;
      cap = WSC__READ_BUFFER;
    }
    ssize_t n = read(t->fd, buf, cap);
    if (n > 0) {
      int corked = wsc__tcp_cork(t);
      t->cb->on_read(t, buf, (size_t)n);
      if (corked) wsc__tcp_uncork(t);
      if ((size_t)n < cap) return;
    } else if (n == 0) {
      end(t, 0);
      return;
    } else if (errno == EINTR) {
      i--;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      return;
    } else {
      end(t, -errno);
      return;
    }
  }
}

void wsc__tcp_events(wsc__tcp *t, uint32_t events) {
  if (t->closing || t->fd < 0) return;
  if (events & EPOLLOUT) flush(t);
  if (t->closing) return;
  if (t->reading && (events & (EPOLLIN | EPOLLERR | EPOLLHUP))) {
    do_read(t);
  } else if ((events & (EPOLLERR | EPOLLHUP)) && !t->eof) {
    /* not reading (paused, or before the handshake), but the connection broke */
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(t->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    end(t, err ? -err : 0);
  }
}

int wsc__tcp_read_start(wsc__tcp *t) {
  if (!t->connected || t->closing || t->reading) return 0;
  t->reading = 1;
  int err = interest(t);
  if (err) t->reading = 0;
  return err;
}

void wsc__tcp_read_stop(wsc__tcp *t) {
  t->reading = 0;
  interest(t);
}

/* ---- timer and close ---------------------------------------------------- */

void wsc__tcp_timer(wsc__tcp *t, uint32_t ms) {
  if (t->closing) return;
  wsc__poller *p = poller(t);
  if (p) wsc__poller_heap_set(p, t, uv_now(t->loop->uv) + ms);
}

void wsc__tcp_timer_stop(wsc__tcp *t) {
  if (t->heap_idx) wsc__poller_heap_remove(t->loop->poller, t);
}

void wsc__tcp_fire_timer(wsc__tcp *t) {
  if (t->closing) return;
  if (t->u.conn) {
    wsc__connector *c = t->u.conn;
    uv_cancel((uv_req_t *)&c->dns); /* harmless when it already finished */
    connect_done(t, WSC_ETIMEDOUT, "timed out connecting");
    return;
  }
  int corked = wsc__tcp_cork(t);
  t->cb->on_timer(t);
  if (corked) wsc__tcp_uncork(t);
}

void wsc__tcp_close(wsc__tcp *t) {
  if (t->closing) return;
  t->closing = 1;
  t->connected = 0;
  t->reading = 0;
  wsc__poller *p = poller(t);
  if (p) {
    if (p->corked == t) {
      p->corked = NULL;
      reset_cork(p);
    }
    wsc__poller_heap_remove(p, t);
  }
  if (t->wq) {
    wsc__wqueue_clear(t->wq);
    free(t->wq);
    t->wq = NULL;
  }
  if (t->fd >= 0) {
    if (p && t->registered) wsc__poller_del(p, t->fd);
    t->registered = 0;
    close(t->fd);
    t->fd = -1;
  }
  wsc__connector *c = t->u.conn;
  if (c) { /* on_closed once libuv has let go of the connector */
    if (c->addrs) uv_freeaddrinfo(c->addrs);
    c->addrs = c->next_addr = NULL;
    uv_cancel((uv_req_t *)&c->dns);
    if (c->tcp_open) {
      c->tcp_open = 0;
      uv_close((uv_handle_t *)&c->handle, on_handle_closed);
    }
    return;
  }
  if (p)
    wsc__poller_closing(p, t);
  else
    t->cb->on_closed(t); /* no poller (out of memory): nothing is pending either */
}

void wsc__tcp_finish_close(wsc__tcp *t) { t->cb->on_closed(t); }
