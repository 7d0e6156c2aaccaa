/* wqueue.h - bytes a connection has to write that the kernel has not taken
 * yet (internal): a list of segments, each either a copy (small pieces are
 * packed into one segment) or a buffer handed over by the caller and released
 * once written. Tracks the payload bytes it holds (bufferedAmount).
 *
 * Payload is counted per segment. A segment's payload is normally at most its
 * bytes (a frame's header is not payload) and is taken to leave with its last
 * bytes; it may exceed them when a compressed message is charged its full
 * length (wsc__wqueue_charge): the surplus stays until the segment is
 * written. The count is exact when all of the queue has been written or none
 * of it; in between, a segment holding several messages' bytes releases
 * their payload as its bytes go, header first.
 */
#ifndef WSC_NET_WQUEUE_H
#define WSC_NET_WQUEUE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

typedef struct wsc__wseg {
  struct wsc__wseg *next;
  const uint8_t *ptr;  /* unwritten bytes start here */
  size_t len;          /* unwritten bytes */
  size_t cap;          /* copy segments: room in data[] (0 for handed-over ones) */
  void (*release)(void *data, void *arg); /* handed over: called once written */
  void *base, *arg;
  uint64_t payload;    /* payload charged to the unwritten bytes */
  uint8_t data[];
} wsc__wseg;

typedef struct wsc__wqueue {
  wsc__wseg *head, *tail;
  size_t bytes;     /* unwritten bytes in all segments */
  uint64_t payload; /* payload charged to them: the segments' sum */
} wsc__wqueue;

/* Append a copy of data. 0 or WSC_ENOMEM (nothing appended). */
int wsc__wqueue_copy(wsc__wqueue *q, const void *data, size_t len, uint64_t payload);
/* Append a handed-over buffer (not copied). 0 or WSC_ENOMEM (nothing
 * appended, release not called). */
int wsc__wqueue_own(wsc__wqueue *q, const void *data, size_t len, uint64_t payload,
                    void (*release)(void *data, void *arg), void *arg);
/* Add payload to the last segment (the end of the last message queued). */
void wsc__wqueue_charge(wsc__wqueue *q, uint64_t payload);
/* What is left of payload charged to len bytes once k of them are written:
 * the header goes first, and anything beyond len (a surplus) goes last. */
static inline uint64_t wsc__payload_left(uint64_t payload, size_t len, size_t k) {
  uint64_t rest = len - k;
  return payload > len ? payload - k : payload < rest ? payload : rest;
}
/* Up to max iovecs describing the unwritten bytes, in order. Returns the count. */
int wsc__wqueue_iov(const wsc__wqueue *q, struct iovec *iov, int max);
/* n bytes were written: drop them (releasing handed-over buffers). */
void wsc__wqueue_consume(wsc__wqueue *q, size_t n);
/* Drop everything (releasing handed-over buffers). */
void wsc__wqueue_clear(wsc__wqueue *q);

#endif
