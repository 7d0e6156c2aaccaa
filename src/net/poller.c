/* poller.c - the loop's epoll set, timer heap, close list and cork buffer. */
#include "net/poller.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "api/loop.h"
#include "net/tcp.h"
#include "wsc.h"

#define MAX_EVENTS 256

/* ---- epoll -------------------------------------------------------------- */

static void on_poll(uv_poll_t *h, int status, int events) {
  (void)status;
  (void)events;
  wsc__poller *p = h->data;
  struct epoll_event ev[MAX_EVENTS];
  int n = epoll_wait(p->epfd, ev, MAX_EVENTS, 0);
  for (int i = 0; i < n; i++) {
    uintptr_t who = (uintptr_t)ev[i].data.u64;
    if (who & WSC__POLL_TCP)
      wsc__tcp_events((wsc__tcp *)(who & ~(uintptr_t)WSC__POLL_TCP), ev[i].events);
    else
      ((wsc__pollee *)who)->on_events((wsc__pollee *)who, ev[i].events);
  }
}

static void update_poll(wsc__poller *p) {
  if (p->nfds)
    uv_poll_start(&p->poll, UV_READABLE, on_poll);
  else
    uv_poll_stop(&p->poll);
}

int wsc__poller_add(wsc__poller *p, int fd, uintptr_t who, uint32_t events) {
  struct epoll_event ev = {.events = events, .data.u64 = who};
  if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) return -errno;
  if (p->nfds++ == 0) update_poll(p);
  return 0;
}

int wsc__poller_mod(wsc__poller *p, int fd, uintptr_t who, uint32_t events) {
  struct epoll_event ev = {.events = events, .data.u64 = who};
  return epoll_ctl(p->epfd, EPOLL_CTL_MOD, fd, &ev) != 0 ? -errno : 0;
}

void wsc__poller_del(wsc__poller *p, int fd) {
  struct epoll_event ev = {0};
  if (epoll_ctl(p->epfd, EPOLL_CTL_DEL, fd, &ev) == 0 && --p->nfds == 0) update_poll(p);
}

/* ---- closing ------------------------------------------------------------ */

static void on_idle(uv_idle_t *h) {
  wsc__poller *p = h->data;
  wsc__tcp *list = p->closing;
  p->closing = NULL;
  while (list) {
    wsc__tcp *t = list;
    list = t->u.next_closing;
    wsc__tcp_finish_close(t); /* may free t */
  }
  if (!p->closing) uv_idle_stop(&p->idle);
}

void wsc__poller_closing(wsc__poller *p, wsc__tcp *t) {
  t->u.next_closing = p->closing;
  p->closing = t;
  uv_idle_start(&p->idle, on_idle);
}

/* ---- timers: a min-heap of deadlines ------------------------------------ */

static void heap_set(wsc__poller *p, uint32_t i, wsc__tcp *t) {
  p->heap[i - 1] = t;
  t->heap_idx = i;
}

static void sift_up(wsc__poller *p, uint32_t i) {
  wsc__tcp *t = p->heap[i - 1];
  while (i > 1) {
    wsc__tcp *parent = p->heap[i / 2 - 1];
    if (parent->deadline <= t->deadline) break;
    heap_set(p, i, parent);
    i /= 2;
  }
  heap_set(p, i, t);
}

static void sift_down(wsc__poller *p, uint32_t i) {
  wsc__tcp *t = p->heap[i - 1];
  for (;;) {
    uint32_t c = 2 * i;
    if (c > p->nheap) break;
    if (c < p->nheap && p->heap[c]->deadline < p->heap[c - 1]->deadline) c++;
    if (p->heap[c - 1]->deadline >= t->deadline) break;
    heap_set(p, i, p->heap[c - 1]);
    i = c;
  }
  heap_set(p, i, t);
}

static void on_timer(uv_timer_t *h);

static void arm(wsc__poller *p) {
  if (!p->nheap) {
    uv_timer_stop(&p->timer);
    return;
  }
  uint64_t now = uv_now(p->loop->uv), due = p->heap[0]->deadline;
  uv_timer_start(&p->timer, on_timer, due > now ? due - now : 0, 0);
}

void wsc__poller_heap_remove(wsc__poller *p, wsc__tcp *t) {
  uint32_t i = t->heap_idx;
  if (!i) return;
  t->heap_idx = 0;
  wsc__tcp *last = p->heap[--p->nheap];
  if (i <= p->nheap) {
    heap_set(p, i, last);
    sift_down(p, i);
    sift_up(p, last->heap_idx);
  }
  if (i == 1 || !p->nheap) arm(p);
}

int wsc__poller_heap_set(wsc__poller *p, wsc__tcp *t, uint64_t deadline) {
  if (t->heap_idx) {
    uint64_t old = t->deadline;
    t->deadline = deadline;
    if (deadline < old) sift_up(p, t->heap_idx);
    else sift_down(p, t->heap_idx);
  } else {
    if (p->nheap == p->capheap) {
      uint32_t cap = p->capheap ? 2 * p->capheap : 64;
      wsc__tcp **h = realloc(p->heap, cap * sizeof *h);
      if (!h) return WSC_ENOMEM;
      p->heap = h;
      p->capheap = cap;
    }
    t->deadline = deadline;
    p->heap[p->nheap++] = t;
    t->heap_idx = p->nheap;
    sift_up(p, p->nheap);
  }
  if (p->heap[0] == t) arm(p);
  return 0;
}

static void on_timer(uv_timer_t *h) {
  wsc__poller *p = h->data;
  uint64_t now = uv_now(p->loop->uv);
  /* bounded: timers re-armed for "now" by their handlers wait for the next turn */
  for (uint32_t budget = p->nheap; budget && p->nheap && p->heap[0]->deadline <= now; budget--) {
    wsc__tcp *t = p->heap[0];
    wsc__poller_heap_remove(p, t);
    wsc__tcp_fire_timer(t);
  }
  arm(p);
}

/* ---- the poller --------------------------------------------------------- */

wsc__poller *wsc__poller_get(wsc_loop *loop, int *err) {
  if (loop->poller) return loop->poller;
  wsc__poller *p = calloc(1, sizeof *p);
  if (!p) {
    *err = WSC_ENOMEM;
    return NULL;
  }
  p->loop = loop;
  p->epfd = epoll_create1(EPOLL_CLOEXEC);
  if (p->epfd < 0) {
    *err = -errno;
    free(p);
    return NULL;
  }
  int rc = uv_poll_init(loop->uv, &p->poll, p->epfd);
  if (rc) {
    close(p->epfd);
    free(p);
    *err = rc;
    return NULL;
  }
  uv_timer_init(loop->uv, &p->timer);
  uv_idle_init(loop->uv, &p->idle);
  p->poll.data = p->timer.data = p->idle.data = p;
  p->open_handles = 3;
  loop->poller = p;
  return p;
}

static void on_handle_closed(uv_handle_t *h) {
  wsc__poller *p = h->data;
  if (--p->open_handles) return;
  close(p->epfd);
  free(p->heap);
  free(p->cork);
  free(p);
}

void wsc__poller_free(wsc__poller *p) {
  if (!p) return;
  p->loop->poller = NULL;
  uv_close((uv_handle_t *)&p->poll, on_handle_closed);
  uv_close((uv_handle_t *)&p->timer, on_handle_closed);
  uv_close((uv_handle_t *)&p->idle, on_handle_closed);
}
