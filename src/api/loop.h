/* loop.h - the wsc_loop behind the public handle (internal). */
#ifndef WSC_API_LOOP_H
#define WSC_API_LOOP_H

#include <uv.h>

#include "proto/buf.h"

#define WSC__READ_BUFFER (64 * 1024)
/* Spare buffers for messages that arrive in pieces: how many a loop keeps
 * and the largest it keeps (larger ones are freed after their message). */
#define WSC__SPARE_BUFS 4
#define WSC__SPARE_MAX (4u * 1024 * 1024)

struct wsc_loop;

/* A call posted from another thread (wsc_loop_post), run on the loop. */
typedef struct wsc__post {
  struct wsc__post *next;
  void (*fn)(struct wsc_loop *loop, void *arg);
  void *arg;
} wsc__post;

struct wsc_loop {
  uv_loop_t *uv;
  int owned;         /* uv was created by wsc_loop_new */
  size_t nsockets;   /* sockets attached and not yet freed */
  char *readbuf;     /* shared by all sockets: libuv reads into it and the
                        core consumes it before the next read */
  uint8_t *plainbuf; /* decrypted TLS input, shared the same way */
  struct wsc__poller *poller; /* the connections' epoll set and timers (net/poller.h) */
  /* Payload bytes of the send in progress (one at a time on the loop's
   * thread): how much of what the core writes counts as bufferedAmount. */
  uint64_t payload_hint;
  /* Assembly buffers of delivered messages, handed to the next message that
   * arrives in pieces on any connection: large messages reuse memory already
   * mapped instead of faulting in fresh pages each time, and a connection
   * holds no buffer between messages. */
  wsc__buf spare[WSC__SPARE_BUFS];
  /* Posted calls: a mutex-protected FIFO and an async handle (unref'd, so
   * it does not keep the loop alive) that wakes the loop to run them. */
  uv_async_t async;
  uv_mutex_t mu;
  wsc__post *head, *tail;
};

/* Make room in b, a message being assembled, for `extra` more bytes; a
 * buffer without memory first takes the loop's largest spare one. 0 or
 * WSC_ENOMEM. */
int wsc__loop_buffer_reserve(struct wsc_loop *l, wsc__buf *b, size_t extra);
/* The message in b was delivered: keep its memory as a spare (when there is
 * a free place and it is not over WSC__SPARE_MAX) or free it; b is zeroed. */
void wsc__loop_buffer_give(struct wsc_loop *l, wsc__buf *b);

/* Lock / unlock the loop's mutex (also guards wsc_socket.posted). */
void wsc__loop_lock(struct wsc_loop *l);
void wsc__loop_unlock(struct wsc_loop *l);

#endif
