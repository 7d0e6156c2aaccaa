/* socket.h - the wsc_socket behind the public handle (internal).
 *
 * One object for both ends. socket.c holds what the two share: the WHATWG
 * rules (readyState, events and listeners, send/close, bufferedAmount), the
 * protocol core's callbacks and the transport's. What differs is behind
 * `role`: client.c makes the connection and runs the client handshake,
 * server.c accepts it and runs the server handshake.
 */
#ifndef WSC_API_SOCKET_H
#define WSC_API_SOCKET_H

#include "api/blob.h"
#include "api/url.h"
#include "net/tcp.h"
#include "net/tls.h"
#include "proto/buf.h"
#include "proto/conn.h"
#include "proto/handshake.h"
#include "wsc.h"

#define WSC__NEVENTS 5 /* open, message, error, close, drain */

typedef struct wsc__listener {
  wsc_listener_fn fn;
  void *user;
  uint8_t is_handler; /* the on<event> attribute's slot */
  uint8_t removed;    /* removed during dispatch; compacted afterwards */
} wsc__listener;

typedef struct wsc__listeners {
  wsc__listener *v;
  size_t n, cap;
} wsc__listeners;

/* What a role does differently. */
typedef struct wsc__role_ops {
  /* Client: the TCP connection is up (status 0) or could not be made. */
  void (*connected)(wsc_socket *ws, int status, const char *message);
  /* Plaintext bytes before the opening handshake is complete. Returns 1 when
   * the socket went OPEN (*used = bytes of the head; frames follow), 0 for
   * more, or -1 when the connection was failed or handed over (stop). */
  int (*handshake_recv)(wsc_socket *ws, uint8_t *data, size_t len, size_t *used);
  /* TLS is up (client: send the upgrade request). */
  void (*tls_up)(wsc_socket *ws);
  /* Free what the role allocated; the socket's memory follows. */
  void (*release)(wsc_socket *ws);
  /* The transport is closed and the close event (if any) dispatched; called
   * also for a socket being freed (server: free the socket). */
  void (*closed)(wsc_socket *ws);
} wsc__role_ops;

struct wsc_socket {
  wsc_loop *loop;
  const wsc__role_ops *role;
  void *role_data;             /* client: wsc__client; server: wsc__srv_pending until OPEN */
  struct wsc_server *server;   /* NULL for a client socket */
  wsc_socket *srv_prev, *srv_next; /* the server's list of sockets */
  const char *origin;          /* serialised origin for MessageEvent (borrowed) */
  wsc__conn_config *conn_cfg;  /* client: its own; server: shared by all */
  wsc__conn conn;
  wsc__tcp tcp;
  wsc__tls tls;                /* wss: tls.ssl != NULL once started */
  wsc__buf msg;                /* a message arriving in several pieces */
  uint8_t msg_text;
  wsc__blob_file spill;        /* binaryType blob: a large message going to a file */
  uint64_t blob_threshold;     /* spill binary messages above this size; 0 = never */
  const char *blob_dir;        /* their directory (NULL: $TMPDIR, /tmp); borrowed
                                  from the client or server, which own a copy */
  int ready_state;
  wsc_binary_type binary_type;
  uint64_t discarded;          /* bytes passed to send after closing began */
  uint64_t payload_hint;       /* payload bytes of the send in progress */
  uint64_t high_water_mark, max_buffered; /* 0: none */
  uint64_t last_read_ms;       /* uv_now of the last bytes received (idle timeout) */
  uint64_t next_ping_ms;       /* uv_now when the next keepalive Ping is due */
  uint32_t close_timeout_ms, ping_interval_ms, idle_timeout_ms;
  wsc__utf8 out_utf8;          /* text being sent in fragments */
  uint8_t ping_outstanding;    /* keepalive: a Ping is waiting for its Pong */
  uint8_t above_hwm;           /* bufferedAmount went over the high-water mark */
  uint8_t paused;              /* reading stopped by wsc_socket_pause */
  char *protocol, *extensions; /* negotiated; "" before open */
  void *user;
  int error;                   /* cause of a failure, for wsc_socket_error */
  char error_msg[160];
  int close_code;              /* CloseEvent to fire */
  char close_reason[124];
  size_t close_reason_len;
  wsc__listeners listeners[WSC__NEVENTS];
  unsigned dispatching;        /* depth of listener calls in progress */
  unsigned posted;             /* calls posted from other threads not yet run
                                  (under the loop's mutex) */
  uint8_t free_requested;      /* wsc_socket_free called: release when safe */
  uint8_t hs_done;             /* opening handshake complete */
  uint8_t failed;              /* the connection was failed */
  uint8_t close_fired;         /* the close event has been dispatched */
  uint8_t transport_closed;    /* on_closed has run */
};

/* Shared by client.c and server.c. */
extern const wsc__tcp_callbacks wsc__socket_tcp_callbacks;

/* A zeroed socket attached to loop (counted in loop->nsockets), with
 * protocol and extensions "", readyState CONNECTING, binaryType blob and
 * the transport initialised (not connected). NULL when out of memory. */
wsc_socket *wsc__socket_alloc(wsc_loop *loop, const wsc__role_ops *role);
/* Release everything (the transport must be closed or never used). */
void wsc__socket_release(wsc_socket *ws);

/* A copy of a string array in one allocation (the pointers, then the
 * strings); free() it. NULL when out of memory. */
const char *const *wsc__copy_strv(const char *const *v, size_t n);

/* Guard a call from the loop: between enter and leave the socket is not
 * freed. leave returns 1 when the socket is gone. */
void wsc__socket_enter(wsc_socket *ws);
int wsc__socket_leave(wsc_socket *ws);

/* Fail the WebSocket connection: error and close (1006) once the transport
 * is down. */
void wsc__socket_fail(wsc_socket *ws, int err, const char *msg);
/* Write handshake bytes (no payload) through TLS when it is on. */
int wsc__socket_write_raw(wsc_socket *ws, const void *data, size_t len);
/* The opening handshake is complete: take the negotiated values (copied),
 * go OPEN, start keepalive, and fire open (after `before_open`, if any, has
 * run: the server's connection callback). */
void wsc__socket_open(wsc_socket *ws, const char *protocol, const char *extensions,
                      void (*before_open)(wsc_socket *ws, void *arg), void *arg);
/* Feed received plaintext (after TLS). Returns non-zero when the caller must
 * stop feeding. */
int wsc__socket_plaintext(void *user, uint8_t *data, size_t len);
/* The TLS session's network output goes to TCP (the write callback of
 * wsc__tls_*_start). */
int wsc__socket_tls_to_tcp(void *user, const uint8_t *data, size_t len, uint64_t payload);
/* A core configuration for either role whose callbacks are the socket's. */
void wsc__conn_config_init(wsc__conn_config *cfg, wsc__role role, uint64_t max_frame,
                           uint64_t max_message);
/* Close with 1001 Going Away (the server's shutdown; close() refuses 1001). */
int wsc__socket_close_going_away(wsc_socket *ws);
/* Arm the socket's timer (handshake, close, keepalive). */
void wsc__socket_timer(wsc_socket *ws, uint32_t ms);

#endif
