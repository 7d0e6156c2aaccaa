/* tcp.h - the runtime's TCP transport (internal): resolve, connect with
 * fallback across addresses, read into the loop's shared buffer, and a
 * coalescing write queue that tracks how many payload bytes are still queued
 * (the socket's bufferedAmount).
 *
 * Bytes queued while a write is in flight are gathered into one buffer and go
 * out in the next single write, so many small messages cost one system call.
 */
#ifndef WSC_NET_TCP_H
#define WSC_NET_TCP_H

#include <stdint.h>
#include <uv.h>

#include "proto/buf.h"

struct wsc_loop;

typedef struct wsc__tcp_callbacks {
  /* The connection is up (status 0) or every address failed / timed out
   * (status < 0, with a static message). Called once. */
  void (*on_connect)(void *user, int status, const char *message);
  /* Bytes arrived; they live in the loop's read buffer until the call returns
   * (they may be modified in place). */
  void (*on_read)(void *user, uint8_t *data, size_t len);
  /* The peer closed its side (status 0), or reading/writing failed (< 0). */
  void (*on_end)(void *user, int status);
  /* All handles are closed: the transport's memory may be released. */
  void (*on_closed)(void *user);
  /* Everything queued has been handed to the kernel (may be NULL). */
  void (*on_drain)(void *user);
} wsc__tcp_callbacks;

typedef struct wsc__tcp {
  struct wsc_loop *loop;
  const wsc__tcp_callbacks *cb;
  void *user;
  uv_tcp_t handle;
  uv_timer_t timer;
  uv_getaddrinfo_t dns;
  uv_connect_t connect_req;
  uv_write_t write_req;
  struct addrinfo *addrs, *next_addr;
  wsc__buf pending;          /* queued, not yet written */
  wsc__buf inflight;         /* being written */
  uint64_t pending_payload;  /* payload bytes in pending */
  uint64_t inflight_payload; /* payload bytes in inflight */
  int last_error;
  uint8_t connecting, connected, writing, reading, closing, tcp_open;
  unsigned open_handles; /* timer, tcp handle, DNS request still held by libuv */
  uint8_t shutdown_after_write;
} wsc__tcp;

void wsc__tcp_init(wsc__tcp *t, struct wsc_loop *loop, const wsc__tcp_callbacks *cb, void *user);
/* Resolve host (no brackets) and connect to port, trying each address in
 * turn, all within timeout_ms. 0 or a libuv error (then on_connect is not
 * called). */
int wsc__tcp_connect(wsc__tcp *t, const char *host, uint16_t port, uint32_t timeout_ms);
/* Take the next connection from a listening uv_tcp_t (passed as void *).
 * 0, or a libuv error (then call wsc__tcp_close; on_closed follows). */
int wsc__tcp_accept(wsc__tcp *t, void *server_stream);
/* The peer's address, "1.2.3.4:5" or "[::1]:5". 0 or a libuv error. */
int wsc__tcp_peer_name(const wsc__tcp *t, char *out, size_t n);
/* Queue bytes; payload is how many of them count towards bufferedAmount
 * (the rest is framing). 0, WSC_ENOMEM, or WSC_ECLOSED. */
int wsc__tcp_write(wsc__tcp *t, const void *data, size_t len, uint64_t payload);
/* Payload bytes queued and not yet accepted by the kernel. */
static inline uint64_t wsc__tcp_buffered(const wsc__tcp *t) {
  return t->pending_payload + t->inflight_payload;
}
/* Start / stop (or pause) reading. */
int wsc__tcp_read_start(wsc__tcp *t);
void wsc__tcp_read_stop(wsc__tcp *t);
/* Half-close once the queue is written (FIN after our last bytes). */
void wsc__tcp_shutdown(wsc__tcp *t);
/* Arm the transport's timer (one per transport; re-arming replaces it). */
void wsc__tcp_timer(wsc__tcp *t, uint32_t ms, void (*fn)(uv_timer_t *));
void wsc__tcp_timer_stop(wsc__tcp *t);
/* Close everything now (queued data is dropped); on_closed follows. */
void wsc__tcp_close(wsc__tcp *t);

#endif
