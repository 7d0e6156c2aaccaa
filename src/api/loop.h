/* loop.h - the wsc_loop behind the public handle (internal). */
#ifndef WSC_API_LOOP_H
#define WSC_API_LOOP_H

#include <uv.h>

#define WSC__READ_BUFFER (64 * 1024)

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
  /* Posted calls: a mutex-protected FIFO and an async handle (unref'd, so
   * it does not keep the loop alive) that wakes the loop to run them. */
  uv_async_t async;
  uv_mutex_t mu;
  wsc__post *head, *tail;
};

/* Lock / unlock the loop's mutex (also guards wsc_socket.posted). */
void wsc__loop_lock(struct wsc_loop *l);
void wsc__loop_unlock(struct wsc_loop *l);

#endif
