/* socket.h - the wsc_socket behind the public handle (internal). */
#ifndef WSC_API_SOCKET_H
#define WSC_API_SOCKET_H

#include "api/url.h"
#include "net/tcp.h"
#include "net/tls.h"
#include "proto/buf.h"
#include "proto/conn.h"
#include "proto/handshake.h"
#include "wsc.h"

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

struct wsc_socket {
  wsc_loop *loop;
  wsc__url url;
  char *origin;                /* serialised origin of url, for MessageEvent */
  wsc_options opts;            /* copied; strings below are owned copies */
  wsc__buf owned;              /* storage for the copied option strings */
  wsc__hs_client_config hs_cfg;
  wsc__hs_client hs;
  wsc__conn_config conn_cfg;
  wsc__conn conn;
  wsc__tcp tcp;
  wsc__tls tls;                /* wss: tls.ssl != NULL once started */
  SSL_CTX *tls_ctx;
  wsc__buf msg;                /* a message arriving in several pieces */
  uint8_t msg_text;
  int ready_state;
  wsc_binary_type binary_type;
  uint64_t discarded;          /* bytes passed to send after closing began */
  uint64_t payload_hint;       /* payload bytes of the send in progress */
  wsc__utf8 out_utf8;          /* text being sent in fragments */
  uint8_t ping_outstanding;    /* keepalive: a Ping is waiting for its Pong */
  char *protocol, *extensions; /* negotiated; "" before open */
  void *user;
  int error;                   /* cause of a failure, for wsc_socket_error */
  char error_msg[160];
  int close_code;              /* CloseEvent to fire */
  char close_reason[124];
  size_t close_reason_len;
  wsc__listeners listeners[4];
  unsigned dispatching;        /* depth of listener calls in progress */
  uint8_t free_requested;      /* wsc_socket_free called: release when safe */
  uint8_t hs_done;             /* opening handshake complete */
  uint8_t failed;              /* the connection was failed */
  uint8_t close_fired;         /* the close event has been dispatched */
  uint8_t transport_closed;    /* on_closed has run */
};

#endif
