/* server.h - the wsc_server and wsc_request behind the public handles
 * (internal). server.c listens, accepts and runs the server handshake;
 * request.c answers requests (accessors, accept/reject/respond);
 * static_file.c serves files. */
#ifndef WSC_API_SERVER_H
#define WSC_API_SERVER_H

#include "api/socket.h"

struct wsc_server {
  wsc_loop *loop;
  wsc_server_options opts;      /* copied; the arrays below are owned copies */
  const char *const *protocols; /* opts.protocols, copied */
  const char *const *origins;   /* opts.origins, copied */
  char *blob_dir;               /* opts.blob_dir, copied (sockets borrow it) */
  wsc__socket_cfg scfg;         /* shared by every socket */
  SSL_CTX *tls_ctx;             /* wss when set */
  wsc__pmd_server pmd;          /* permessage-deflate: what we accept (opts.deflate) */
  int lfd;                      /* listening descriptor, in the loop's poller */
  wsc__pollee lpollee;
  uv_timer_t shutdown_timer;
  uv_timer_t backoff_timer;     /* accept paused after EMFILE */
  wsc_socket *sockets;          /* every connection, handshaking or not */
  size_t nconns;                /* sockets in the list */
  size_t alive;                 /* sockets not yet released (listed or not) */
  struct wsc__hs_spare *hs_spare; /* handshake states kept for reuse (server.c) */
  unsigned nhs_spare;
  wsc_upgrade_fn on_upgrade;
  void *upgrade_user;
  wsc_connection_fn on_connection;
  void *connection_user;
  wsc_http_fn on_http;
  void *http_user;
  void (*on_closed)(wsc_server *srv, void *user);
  void *closed_user;
  int port;
  char address[64];
  int error;
  char error_msg[160];
  unsigned open_handles;        /* listener and timers, until their close callbacks */
  uint8_t listening, closing, done_called, free_requested;
};

/* A request being answered, on the stack of the server handshake. */
struct wsc_request {
  wsc_server *srv;
  wsc_socket *ws;
  wsc__hs_server *hs;
  int upgrade;            /* 1 upgrade, 0 plain HTTP */
  int decided;            /* accept / reject / respond was called */
  int accepted;           /* the upgrade was accepted */
  int no_deflate;         /* answer without permessage-deflate */
  const char *protocol;   /* chosen subprotocol, NULL = none */
  char *path;             /* NUL-terminated copy of hs->path */
  char *protocols;        /* offered subprotocols, each NUL-terminated (lazily) */
  size_t nprotocols;
  char peer[64];
};

/* Write an HTTP response to the request's connection and close it once
 * written. */
void wsc__request_send(wsc_request *req, const wsc__buf *response);

#endif
