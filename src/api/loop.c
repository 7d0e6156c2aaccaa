/* loop.c - wsc_loop: a uv_loop_t plus what wsc keeps per loop (a read buffer
 * shared by every socket of the loop, spare message buffers, the count of
 * attached sockets, and the queue of calls posted from other threads). */
#include "api/loop.h"

#include <stdlib.h>
#include <string.h>

#include "net/poller.h"
#include "wsc.h"

static wsc_loop *default_loop;

void wsc__loop_lock(wsc_loop *l) { uv_mutex_lock(&l->mu); }
void wsc__loop_unlock(wsc_loop *l) { uv_mutex_unlock(&l->mu); }

/* Run what other threads posted, in order; calls posted meanwhile wait for
 * the next wake-up (which uv_async_send guarantees). */
static void run_posted(uv_async_t *a) {
  wsc_loop *l = a->data;
  uv_mutex_lock(&l->mu);
  wsc__post *p = l->head;
  l->head = l->tail = NULL;
  uv_mutex_unlock(&l->mu);
  while (p) {
    wsc__post *next = p->next;
    p->fn(l, p->arg);
    free(p);
    p = next;
  }
}

int wsc_loop_post(wsc_loop *l, void (*fn)(wsc_loop *loop, void *arg), void *arg) {
  if (!l || !fn) return WSC_EINVAL;
  wsc__post *p = malloc(sizeof *p);
  if (!p) return WSC_ENOMEM;
  p->next = NULL;
  p->fn = fn;
  p->arg = arg;
  uv_mutex_lock(&l->mu);
  if (l->tail)
    l->tail->next = p;
  else
    l->head = p;
  l->tail = p;
  uv_mutex_unlock(&l->mu);
  return uv_async_send(&l->async);
}

static int make(uv_loop_t *uv, int owned, wsc_loop **out) {
  wsc_loop *l = calloc(1, sizeof *l);
  if (!l) return WSC_ENOMEM;
  l->uv = uv;
  l->owned = owned;
  if (uv_mutex_init(&l->mu) != 0) {
    free(l);
    return WSC_ENOMEM;
  }
  int rc = uv_async_init(uv, &l->async, run_posted);
  if (rc) {
    uv_mutex_destroy(&l->mu);
    free(l);
    return rc;
  }
  l->async.data = l;
  uv_unref((uv_handle_t *)&l->async);
  *out = l;
  return 0;
}

int wsc__loop_buffer_reserve(wsc_loop *l, wsc__buf *b, size_t extra) {
  if (!b->data) {
    wsc__buf *best = NULL;
    for (int i = 0; i < WSC__SPARE_BUFS; i++)
      if (l->spare[i].data && (!best || l->spare[i].cap > best->cap)) best = &l->spare[i];
    if (best) {
      *b = *best;
      b->len = 0;
      memset(best, 0, sizeof *best);
    }
  }
  return wsc__buf_reserve(b, extra);
}

void wsc__loop_buffer_give(wsc_loop *l, wsc__buf *b) {
  for (int i = 0; b->data && b->cap <= WSC__SPARE_MAX && i < WSC__SPARE_BUFS; i++) {
    if (!l->spare[i].data) {
      l->spare[i] = *b;
      memset(b, 0, sizeof *b);
      return;
    }
  }
  wsc__buf_free(b);
}

static void release(wsc_loop *l) {
  run_posted(&l->async); /* nothing posted is lost silently: run it */
  uv_mutex_destroy(&l->mu);
  for (int i = 0; i < WSC__SPARE_BUFS; i++) wsc__buf_free(&l->spare[i]);
  free(l->readbuf);
  free(l->plainbuf);
  free(l);
}

static void on_async_closed(uv_handle_t *h) { release(h->data); }

wsc_loop *wsc_loop_default(void) {
  if (!default_loop && make(uv_default_loop(), 0, &default_loop) != 0) return NULL;
  return default_loop;
}

int wsc_loop_new(wsc_loop **out) {
  if (!out) return WSC_EINVAL;
  uv_loop_t *uv = malloc(sizeof *uv);
  if (!uv) return WSC_ENOMEM;
  int rc = uv_loop_init(uv);
  if (rc) {
    free(uv);
    return rc;
  }
  rc = make(uv, 1, out);
  if (rc) {
    uv_loop_close(uv);
    free(uv);
  }
  return rc;
}

int wsc_loop_wrap(void *uv_loop, wsc_loop **out) {
  if (!uv_loop || !out) return WSC_EINVAL;
  return make(uv_loop, 0, out);
}

int wsc_loop_run(wsc_loop *loop) { return uv_run(loop->uv, UV_RUN_DEFAULT); }

void *wsc_loop_uv(wsc_loop *loop) { return loop->uv; }

int wsc_loop_free(wsc_loop *loop) {
  if (!loop) return 0;
  run_posted(&loop->async); /* may release sockets that waited for their calls */
  if (loop->nsockets) return WSC_EINVALIDSTATE;
  if (loop == default_loop) default_loop = NULL;
  wsc__poller_free(loop->poller);
  uv_close((uv_handle_t *)&loop->async, on_async_closed);
  if (loop->owned) {
    uv_loop_t *uv = loop->uv;
    uv_run(uv, UV_RUN_NOWAIT); /* pending close callbacks run; the wrapper goes */
    uv_loop_close(uv);
    free(uv);
  } /* a wrapped loop releases the wrapper when its owner runs it next */
  return 0;
}
