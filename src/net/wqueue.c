/* wqueue.c - the unwritten-bytes queue of a connection. */
#include "net/wqueue.h"

#include <stdlib.h>
#include <string.h>

#include "wsc.h"

#define SEGMENT_MIN 4096 /* copy segments are at least this big, so small pieces pack */

static void append(wsc__wqueue *q, wsc__wseg *s, uint64_t payload) {
  s->next = NULL;
  if (q->tail)
    q->tail->next = s;
  else
    q->head = s;
  q->tail = s;
  s->payload = payload;
  q->bytes += s->len;
  q->payload += payload;
}

int wsc__wqueue_copy(wsc__wqueue *q, const void *data, size_t len, uint64_t payload) {
  if (!len) return 0;
  wsc__wseg *t = q->tail;
  if (t && t->cap) { /* pack into the last copy segment when it has room */
    size_t used = (size_t)(t->ptr - t->data) + t->len;
    if (t->cap - used >= len) {
      memcpy(t->data + used, data, len);
      t->len += len;
      t->payload += payload;
      q->bytes += len;
      q->payload += payload;
      return 0;
    }
  }
  size_t cap = len < SEGMENT_MIN ? SEGMENT_MIN : len;
  wsc__wseg *s = malloc(sizeof *s + cap);
  if (!s) return WSC_ENOMEM;
  memcpy(s->data, data, len);
  s->ptr = s->data;
  s->len = len;
  s->cap = cap;
  s->release = NULL;
  s->base = s->arg = NULL;
  append(q, s, payload);
  return 0;
}

int wsc__wqueue_own(wsc__wqueue *q, const void *data, size_t len, uint64_t payload,
                    void (*release)(void *data, void *arg), void *arg) {
  wsc__wseg *s = malloc(sizeof *s);
  if (!s) return WSC_ENOMEM;
  s->ptr = data;
  s->len = len;
  s->cap = 0;
  s->release = release;
  s->base = (void *)data;
  s->arg = arg;
  append(q, s, payload);
  return 0;
}

int wsc__wqueue_iov(const wsc__wqueue *q, struct iovec *iov, int max) {
  int n = 0;
  for (const wsc__wseg *s = q->head; s && n < max; s = s->next) {
    if (!s->len) continue;
    iov[n].iov_base = (void *)s->ptr;
    iov[n].iov_len = s->len;
    n++;
  }
  return n;
}

void wsc__wqueue_charge(wsc__wqueue *q, uint64_t payload) {
  if (!q->tail) return;
  q->tail->payload += payload;
  q->payload += payload;
}

static void drop_head(wsc__wqueue *q) {
  wsc__wseg *s = q->head;
  q->payload -= s->payload;
  q->head = s->next;
  if (!q->head) q->tail = NULL;
  if (s->release) s->release(s->base, s->arg);
  free(s);
}

void wsc__wqueue_consume(wsc__wqueue *q, size_t n) {
  q->bytes -= n;
  while (n && q->head) {
    wsc__wseg *s = q->head;
    size_t k = n < s->len ? n : s->len;
    uint64_t left = wsc__payload_left(s->payload, s->len, k);
    q->payload -= s->payload - left;
    s->payload = left;
    s->ptr += k;
    s->len -= k;
    n -= k;
    if (!s->len) drop_head(q);
  }
  while (q->head && !q->head->len) drop_head(q);
}

void wsc__wqueue_clear(wsc__wqueue *q) {
  while (q->head) drop_head(q);
  q->bytes = 0;
  q->payload = 0;
}
