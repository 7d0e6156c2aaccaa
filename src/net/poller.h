/* poller.h - what every connection of a loop shares (internal): one epoll
 * set behind one uv_poll_t, one timer heap behind one uv_timer_t, the list of
 * transports whose close callback is due, and the cork buffer.
 *
 * Why not a uv_tcp_t per connection: a libuv stream handle with its write
 * request and timer is about 600 bytes, more than twice the whole budget of an
 * idle server connection (256 bytes), and libuv's write path costs an extra
 * write() and an epoll_ctl() per burst of messages. Here a connection is a
 * file descriptor in the loop's epoll set plus a deadline in the loop's heap;
 * libuv still runs the loop, DNS and the application's own handles.
 * Linux only (epoll); see docs/architecture.md.
 */
#ifndef WSC_NET_POLLER_H
#define WSC_NET_POLLER_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct wsc_loop;
struct wsc__tcp;

/* Something in the epoll set other than a connection (a listener). A
 * connection is registered by its wsc__tcp with the low bit set (it has no
 * room for a function pointer of its own). */
typedef struct wsc__pollee {
  /* events: EPOLLIN / EPOLLOUT / EPOLLERR / EPOLLHUP as epoll reported them */
  void (*on_events)(struct wsc__pollee *p, uint32_t events);
} wsc__pollee;

typedef struct wsc__poller {
  struct wsc_loop *loop;
  int epfd;
  unsigned nfds;           /* descriptors in the set: the poll handle runs while > 0 */
  uv_poll_t poll;
  uv_timer_t timer;
  uv_idle_t idle;          /* runs the due close callbacks */
  struct wsc__tcp **heap;  /* deadlines: a binary min-heap */
  uint32_t nheap, capheap;
  struct wsc__tcp *closing; /* closed transports whose on_closed is due */
  /* The cork: while one connection's event is handled, what it writes is
   * gathered here and leaves in one write() at the end. */
  struct wsc__tcp *corked;
  uint8_t *cork;
  size_t cork_len, cork_cap;
  uint64_t cork_payload;
  unsigned open_handles;   /* poll, timer, idle: until their close callbacks */
} wsc__poller;

/* The loop's poller, created on first use. NULL (and *err) on failure. */
wsc__poller *wsc__poller_get(struct wsc_loop *loop, int *err);
/* Close the poller's handles and free it once they are closed (the loop is
 * being freed; nothing may be registered any more). */
void wsc__poller_free(wsc__poller *p);

/* Add / change / remove a descriptor. who: a wsc__pollee, or a wsc__tcp
 * tagged with WSC__POLL_TCP. events: EPOLLIN | EPOLLOUT (0 = keep it in the
 * set with no interest). 0 or a negative errno. */
#define WSC__POLL_TCP 1u
int wsc__poller_add(wsc__poller *p, int fd, uintptr_t who, uint32_t events);
int wsc__poller_mod(wsc__poller *p, int fd, uintptr_t who, uint32_t events);
void wsc__poller_del(wsc__poller *p, int fd);

/* t's on_closed is due: call it (through wsc__tcp_finish_close) from the
 * loop's next turn. */
void wsc__poller_closing(wsc__poller *p, struct wsc__tcp *t);
/* Put t in the timer heap with this deadline (uv_now ms), or move it.
 * 0 or WSC_ENOMEM. */
int wsc__poller_heap_set(wsc__poller *p, struct wsc__tcp *t, uint64_t deadline);
/* Take t out of the heap (nothing when it is not in). */
void wsc__poller_heap_remove(wsc__poller *p, struct wsc__tcp *t);

#endif
