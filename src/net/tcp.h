/* tcp.h - the runtime's TCP transport (internal): resolve and connect with
 * fallback across addresses (libuv), or adopt an accepted descriptor; then
 * read into the loop's shared buffer and write straight to the kernel, with a
 * queue only for what the kernel did not take (its payload bytes are the
 * socket's bufferedAmount).
 *
 * Writes made while the connection's own event is being handled (a read, a
 * timer) are corked: gathered in the loop's cork buffer and written with one
 * write() when the handler returns, so an echo of many messages that arrived
 * in one read costs one system call. A large piece (>= WSC__TCP_BIG) is not
 * copied into the cork: the cork and the piece leave together in one writev().
 * An idle connection holds no buffer: the queue exists only while the kernel
 * is behind.
 */
#ifndef WSC_NET_TCP_H
#define WSC_NET_TCP_H

#include <stdint.h>
#include <uv.h>

#include "net/poller.h"
#include "net/wqueue.h"

struct wsc_loop;
struct wsc__connector;

#define WSC__TCP_BIG (16 * 1024)

struct wsc__tcp;

/* Each is called with the transport; its owner finds itself from there
 * (the transport is embedded in it). */
typedef struct wsc__tcp_callbacks {
  /* The connection is up (status 0) or every address failed / timed out
   * (status < 0, with a static message). Called once. */
  void (*on_connect)(struct wsc__tcp *t, int status, const char *message);
  /* Bytes arrived; they live in the loop's read buffer until the call returns
   * (they may be modified in place), or where read_into said. */
  void (*on_read)(struct wsc__tcp *t, uint8_t *data, size_t len);
  /* May be NULL. Asked before each read: a place of at least *cap bytes for
   * the next read instead of the loop's buffer (a large payload read straight
   * to where its message is assembled); sets *cap to at most what the owner
   * expects, or returns NULL for the loop's buffer. */
  uint8_t *(*read_into)(struct wsc__tcp *t, size_t *cap);
  /* The peer closed its side (status 0), or reading/writing failed (< 0). */
  void (*on_end)(struct wsc__tcp *t, int status);
  /* The transport is closed: its memory may be released. Never called from
   * inside another of these callbacks or from wsc__tcp_close itself. */
  void (*on_closed)(struct wsc__tcp *t);
  /* The write queue has emptied (may be NULL). */
  void (*on_drain)(struct wsc__tcp *t);
  /* The deadline set with wsc__tcp_timer has passed. */
  void (*on_timer)(struct wsc__tcp *t);
} wsc__tcp_callbacks;

typedef struct wsc__tcp {
  const wsc__tcp_callbacks *cb;
  struct wsc_loop *loop;
  union {
    struct wsc__connector *conn;   /* while resolving / connecting (client) */
    struct wsc__tcp *next_closing; /* closed, on the loop's list for on_closed */
  } u;
  wsc__wqueue *wq;             /* bytes the kernel has not taken; NULL when none */
  uint64_t deadline;           /* uv_now() ms of the timer; heap_idx 0 = none */
  uint32_t heap_idx;           /* 1-based position in the loop's heap */
  int fd;                      /* -1 until connected / adopted */
  uint8_t connected : 1, reading : 1, closing : 1, shutdown_after_write : 1, eof : 1;
  uint8_t registered : 1;      /* in the loop's epoll set */
  uint8_t interest : 2;        /* waited for: 1 EPOLLIN, 2 EPOLLOUT */
} wsc__tcp;

void wsc__tcp_init(wsc__tcp *t, struct wsc_loop *loop, const wsc__tcp_callbacks *cb);
/* Resolve host (no brackets) and connect to port, trying each address in
 * turn, all within timeout_ms. 0 or a libuv error (then on_connect is not
 * called). */
int wsc__tcp_connect(wsc__tcp *t, const char *host, uint16_t port, uint32_t timeout_ms);
/* Take over a connected, non-blocking descriptor; TCP_NODELAY is set here
 * unless nodelay_set (an accepted descriptor inherits it from a listener
 * that has it). It joins the loop's epoll set when it first waits for
 * something. 0, or a negative errno (the descriptor is closed; call
 * wsc__tcp_close). */
int wsc__tcp_adopt(wsc__tcp *t, int fd, int nodelay_set);
/* The peer's address, "1.2.3.4:5" or "[::1]:5". 0 or a negative errno. */
int wsc__tcp_peer_name(const wsc__tcp *t, char *out, size_t n);
/* Queue bytes (copied); payload is how many of them count towards
 * bufferedAmount (the rest is framing). 0, WSC_ENOMEM, or WSC_ECLOSED. */
int wsc__tcp_write(wsc__tcp *t, const void *data, size_t len, uint64_t payload);
/* Queue bytes the caller hands over: release(data, arg) is called exactly
 * once when they are no longer needed (written, dropped at close, or at once
 * on error), and they are never copied unless the kernel is behind and they
 * are small. */
int wsc__tcp_write_owned(wsc__tcp *t, const void *data, size_t len, uint64_t payload,
                         void (*release)(void *data, void *arg), void *arg);
/* Charge payload bytes to the end of what is queued (the cork or the write
 * queue; nothing when the kernel has taken it all): a compressed message
 * counts its full length in bufferedAmount until its last byte is written. */
void wsc__tcp_charge(wsc__tcp *t, uint64_t payload);
/* Payload bytes queued and not yet accepted by the kernel. */
uint64_t wsc__tcp_buffered(const wsc__tcp *t);
/* Bytes of any kind waiting to be written. */
size_t wsc__tcp_queued(const wsc__tcp *t);
/* Start / stop (or pause) reading. 0 or a negative errno. */
int wsc__tcp_read_start(wsc__tcp *t);
void wsc__tcp_read_stop(wsc__tcp *t);
/* Half-close once the queue is written (FIN after our last bytes, in the
 * same packet as they are). */
void wsc__tcp_shutdown(wsc__tcp *t);
/* Call on_timer after ms (one deadline per transport; re-arming replaces it). */
void wsc__tcp_timer(wsc__tcp *t, uint32_t ms);
void wsc__tcp_timer_stop(wsc__tcp *t);
/* Close now (queued data is dropped); on_closed follows from the loop. */
void wsc__tcp_close(wsc__tcp *t);

/* Cork t: its writes are gathered until wsc__tcp_uncork (which writes them).
 * Used around the handling of t's own events; nesting is not supported: a
 * second cork while another transport is corked does nothing and returns 0. */
int wsc__tcp_cork(wsc__tcp *t);
void wsc__tcp_uncork(wsc__tcp *t);

/* poller.c calls these. */
void wsc__tcp_events(wsc__tcp *t, uint32_t events);
void wsc__tcp_fire_timer(wsc__tcp *t);
void wsc__tcp_finish_close(wsc__tcp *t);

#endif
