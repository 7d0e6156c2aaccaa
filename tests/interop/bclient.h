/* bclient.h - a blocking test client that drives the sans-I/O core over a
 * real socket (tests/interop).
 *
 * Plain POSIX sockets with SO_RCVTIMEO / SO_SNDTIMEO, optionally wrapped in
 * OpenSSL (blocking), optionally through an HTTP CONNECT proxy:
 *
 *   bclient c;
 *   bc_connect(&c, "127.0.0.1", port);          // TCP
 *   bc_tls(&c, ca_file, "localhost");           // optional: wss
 *   bc_handshake(&c, &hs_cfg, &conn_cfg_or_NULL); // wsc__hs_client_* then wsc__conn
 *   wsc__conn_send(&c.conn, WSC__OP_TEXT, "hi", 2);
 *   bc_next(&c, 5000);                          // -> BC_MESSAGE, c.msg holds it
 *   bc_free(&c);
 *
 * Nothing blocks for longer than the socket timeouts, and every loop is bounded
 * by a deadline.
 */
#ifndef WSC_TEST_BCLIENT_H
#define WSC_TEST_BCLIENT_H

#include <openssl/ssl.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/buf.h"
#include "proto/conn.h"
#include "proto/handshake.h"
#include "proto/pmd.h"

#define BC_IO_TIMEOUT_MS 10000 /* SO_RCVTIMEO / SO_SNDTIMEO */

/* What bc_next() returns besides negative errors. */
enum { BC_MESSAGE = 1, BC_PING, BC_PONG, BC_CLOSE };

typedef struct bclient {
  int fd;
  SSL_CTX *ssl_ctx;
  SSL *ssl;

  wsc__hs_client hs;
  int hs_started;
  size_t hs_fed;       /* response bytes handed to wsc__hs_client_recv */
  size_t hs_last;      /* size of the last piece handed to it */

  wsc__conn_config cfg;
  wsc__conn conn;
  int conn_ready;

  wsc__buf rx; /* received bytes not yet processed by the conn */

  /* the event bc_next() returned */
  int event;
  wsc__buf msg;         /* BC_MESSAGE: the whole message */
  unsigned msg_op;      /* its opcode */
  size_t msg_pieces;    /* DATA events it came in */
  int msg_complete;
  uint8_t ctl[125];     /* BC_PING / BC_PONG payload, BC_CLOSE reason */
  size_t ctl_len;
  int close_code;       /* BC_CLOSE */

  /* socket-level facts */
  int io_error;         /* errno of the last failed read/write, 0 if none */
  size_t bytes_sent;
  size_t bytes_received; /* after the handshake response */

  /* permessage-deflate (bc_handshake_deflate) */
  int pmd_accepted;      /* the server accepted the offer */
  wsc__pmd_params pmd;   /* the agreement then */
  const char *pmd_why;   /* why a response was refused (WSC_EEXTENSION) */
  int eof;              /* the peer closed the connection (or reset it) */
} bclient;

/* TCP connect to host:port (a numeric loopback address). 0 or -errno. */
int bc_connect(bclient *c, const char *host, int port);
/* TLS over the connected socket, verifying the peer against ca_file and
 * server name / IP `name` (SNI is sent for names, not IPs). 0 or -1 (the
 * OpenSSL error queue is printed). */
int bc_tls(bclient *c, const char *ca_file, const char *name);
/* Ask an HTTP CONNECT proxy (to which c is connected) for a tunnel to
 * target ("127.0.0.1:1234"). auth is "user:pass" or NULL. Returns the
 * proxy's status code (200 = tunnel open) or a negative error. */
int bc_proxy_connect(bclient *c, const char *target, const char *auth);

/* The opening handshake, then a client wsc__conn configured from conn_cfg
 * (NULL: defaults). Bytes after the response head go to the conn. Returns 1
 * when the connection is open, or the negative result of
 * wsc__hs_client_start / wsc__hs_client_recv (c->hs.status, c->hs.error say
 * more), WSC_ECLOSED when the server closed first, -EAGAIN on timeout. */
int bc_handshake(bclient *c, const wsc__hs_client_config *hs_cfg,
                 const wsc__conn_config *conn_cfg);

/* bc_handshake offering permessage-deflate as `offer` describes (it replaces
 * hs_cfg->extensions); when the server accepts, the agreement is checked
 * (wsc__pmd_client_accept) and attached to the conn with the given
 * compression threshold. Returns as bc_handshake, or WSC_EEXTENSION when the
 * response breaks RFC 7692 (c->pmd_why says how). */
int bc_handshake_deflate(bclient *c, const wsc__hs_client_config *hs_cfg,
                         const wsc__conn_config *conn_cfg, const wsc__pmd_offer *offer,
                         size_t threshold);

/* Read and process until an event: BC_MESSAGE (a whole message: c->msg,
 * c->msg_op), BC_PING / BC_PONG (c->ctl), BC_CLOSE (c->close_code, c->ctl as
 * the reason). Otherwise a negative error: the conn's (WSC_EPROTO, ...),
 * WSC_ECLOSED at EOF, WSC_ETIMEDOUT after timeout_ms. */
int bc_next(bclient *c, int timeout_ms);

/* Write raw bytes (bypassing the conn). 0 or -errno. */
int bc_write_raw(bclient *c, const void *data, size_t len);

/* Shut the write side / close everything; bc_free releases all. */
void bc_free(bclient *c);

#endif
