/* handshake.h - the RFC 6455 section 4 opening handshake, both roles (internal).
 *
 * Sans-I/O: these functions read bytes handed to them and write bytes into a
 * wsc__buf; they never touch a socket or a clock. Both parsers take the
 * peer's head in pieces split at any byte, look at each byte once, buffer at
 * most max_size bytes (default WSC_DEFAULT_MAX_HANDSHAKE) and report how many
 * bytes of the last piece belonged to the head: whatever follows is already
 * WebSocket frames (client) or the caller's business (server).
 *
 * HTTP syntax rules (CRLF only, no obs-fold, at most WSC__HTTP_MAX_HEADERS
 * header fields, ...) are described in http.h.
 *
 * Client:                               Server:
 *   wsc__hs_client_start()  -> request    wsc__hs_server_init()
 *   wsc__hs_client_recv()  <- response    wsc__hs_server_recv()  <- request
 *   read hs.protocol / hs.extensions      wsc__hs_server_accept() -> 101
 *   wsc__hs_client_free()                 or wsc__hs_server_reject() -> 4xx
 *                                         wsc__hs_server_free()
 */
#ifndef WSC_PROTO_HANDSHAKE_H
#define WSC_PROTO_HANDSHAKE_H

#include <stddef.h>
#include <stdint.h>

#include "proto/buf.h"
#include "proto/http.h"

/* The GUID of RFC 6455 section 1.3, appended to the key before hashing. */
#define WSC__HS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
/* Lengths of a Sec-WebSocket-Key (base64 of 16 bytes) and of a
 * Sec-WebSocket-Accept (base64 of a 20-byte SHA-1), without the NUL. */
#define WSC__HS_KEY_LEN 24
#define WSC__HS_ACCEPT_LEN 28

/* ---- Shared helpers ------------------------------------------------------- */

/* Sec-WebSocket-Accept for a Sec-WebSocket-Key: base64(SHA-1(key + GUID)).
 * key[0..key_len) is used as sent (it is not decoded). Writes 28 characters
 * and a NUL to out.
 *   0 on success, WSC_EINTERNAL if OpenSSL fails. */
int wsc__hs_accept_key(const char *key, size_t key_len, char out[WSC__HS_ACCEPT_LEN + 1]);

/* 1 if key[0..len) is a valid Sec-WebSocket-Key: exactly the canonical
 * base64 encoding of 16 bytes (24 characters ending in "=="). */
int wsc__hs_key_valid(const char *key, size_t len);

/* ---- Client --------------------------------------------------------------- */

/* What the client asks for. Only read during wsc__hs_client_start(); nothing
 * needs to outlive that call. */
typedef struct wsc__hs_client_config {
  /* Host header value: the host, with ":port" when the port is not the
   * scheme's default, IPv6 literals in brackets ("[::1]:8080"). Required;
   * visible ASCII only. */
  const char *host;
  /* Request target: path and query ("/chat?room=1"). NULL means "/".
   * Visible ASCII only (percent-encode anything else). */
  const char *target;
  /* Origin header value, or NULL to send none. */
  const char *origin;
  /* Subprotocols to offer, in order of preference. Each must be a non-empty
   * token (RFC 7230) and appear once, else WSC_ESYNTAX. */
  const char *const *protocols;
  size_t nprotocols;
  /* The Sec-WebSocket-Extensions offer, e.g.
   * "permessage-deflate; client_max_window_bits", or NULL. Must parse as an
   * extension list; the names offered are the only ones the server may
   * accept. */
  const char *extensions;
  /* Extra header lines "Name: value" (no CRLF), sent as given after OWS
   * around the value is trimmed. The name must be a token and the value must
   * not contain control characters (CR, LF, NUL, ...). Headers the handshake
   * owns are refused: Host, Upgrade, Connection, Sec-WebSocket-Key,
   * Sec-WebSocket-Version, Sec-WebSocket-Accept, Sec-WebSocket-Protocol,
   * Sec-WebSocket-Extensions, and also Content-Length and Transfer-Encoding
   * (a body would be taken for WebSocket frames), and Origin when origin is
   * set. */
  const char *const *headers;
  size_t nheaders;
  /* Limit on the size of the response head; 0 means WSC_DEFAULT_MAX_HANDSHAKE. */
  size_t max_size;
} wsc__hs_client_config;

typedef struct wsc__hs_client {
  /* The response's status code, set as soon as the status line has been
   * parsed (whether or not it is 101); 0 before that. */
  int status;
  /* Why the handshake failed; "" while it has not. A fixed message except
   * for the status ("status 403, expected 101"). */
  char error[64];
  /* After wsc__hs_client_recv() returned 1: the subprotocol the server chose
   * and its Sec-WebSocket-Extensions (all fields joined with ", "), "" when
   * none. Valid until wsc__hs_client_free(). */
  const char *protocol;
  const char *extensions;
  /* The key sent and the accept value expected (NUL-terminated). */
  char key[WSC__HS_KEY_LEN + 1];
  char accept[WSC__HS_ACCEPT_LEN + 1];

  /* private */
  int result;        /* 0 while receiving, then the final return value */
  wsc__buf offers;   /* offered protocol names, then offered extension names, each NUL-terminated */
  size_t nprotocols; /* how many names in offers are protocols */
  size_t nextnames;  /* how many names follow them */
  wsc__buf joined;   /* the negotiated extensions string */
  wsc__http_head head;
} wsc__hs_client;

/* Begin a client handshake: initialise hs (it need not be zeroed), make a
 * random 16-byte key, and append the upgrade request to out:
 *
 *   GET <target> HTTP/1.1
 *   Host: <host>
 *   Upgrade: websocket
 *   Connection: Upgrade
 *   Sec-WebSocket-Key: <key>
 *   Sec-WebSocket-Version: 13
 *   Origin: <origin>                     (if given)
 *   Sec-WebSocket-Protocol: <a>, <b>     (if any)
 *   Sec-WebSocket-Extensions: <offer>    (if given)
 *   <extra headers>
 *   <empty line>
 *
 *   0               request written
 *   WSC_ESYNTAX     a protocol is not a token, or is offered twice
 *   WSC_EINVAL      cfg NULL, missing or bad host, bad target/origin/extensions,
 *                   a bad or reserved extra header
 *   WSC_ENOMEM, WSC_EINTERNAL (CSPRNG or OpenSSL failure)
 * On failure out is left as it was and hs holds nothing (wsc__hs_client_free
 * is still safe). */
int wsc__hs_client_start(wsc__hs_client *hs, const wsc__hs_client_config *cfg, wsc__buf *out);

/* wsc__hs_client_start() with a given 16-byte key instead of a random one.
 * For tests only: a predictable key defeats the purpose of the key. */
int wsc__hs_client_start_with_key(wsc__hs_client *hs, const wsc__hs_client_config *cfg,
                                  const uint8_t key[16], wsc__buf *out);

/* Feed response bytes, split anywhere.
 *   0  need more: all len bytes were taken (*consumed = len).
 *   1  the response is complete and valid; *consumed = the bytes of this
 *      call's data that belong to the head. data[*consumed..len) are the
 *      first WebSocket frame bytes, for the caller to pass on.
 *   WSC_EHANDSHAKE   the response is malformed or refuses the upgrade;
 *                    hs->error says why, hs->status has the status if the
 *                    status line was parsed. Checked, in this order: the
 *                    status line (HTTP/1.1 or a later 1.x), header syntax,
 *                    status 101, Upgrade contains the token "websocket",
 *                    Connection contains the token "upgrade", exactly one
 *                    Sec-WebSocket-Accept equal to hs->accept,
 *                    Sec-WebSocket-Protocol absent or one field holding one of
 *                    the offered protocols.
 *   WSC_EEXTENSION   an extension named in Sec-WebSocket-Extensions was not
 *                    offered, or the list is malformed (checked last).
 *   WSC_EHEADERSIZE  the head did not end within max_size bytes, or has more
 *                    than WSC__HTTP_MAX_HEADERS fields.
 *   WSC_ENOMEM
 *   WSC_EINVAL       hs was not started.
 * On failure *consumed is 0. Once a final result (1 or negative) has been
 * returned, later calls return it again with *consumed = 0. */
int wsc__hs_client_recv(wsc__hs_client *hs, const uint8_t *data, size_t len, size_t *consumed);

/* Release everything hs holds; hs.protocol and hs.extensions become invalid.
 * Safe to call twice, and after a failed start. */
void wsc__hs_client_free(wsc__hs_client *hs);

/* ---- Server --------------------------------------------------------------- */

/* An iterator over the subprotocols a client offered. Zero it to start. */
typedef struct wsc__hs_iter {
  size_t header; /* index of the next Sec-WebSocket-Protocol header to look at */
  size_t off;    /* offset inside that header's value */
} wsc__hs_iter;

typedef struct wsc__hs_server {
  /* Limit on the request head; set by wsc__hs_server_init(). */
  size_t max_size;
  /* After a failure: the HTTP status to answer with (400, 405, 426, 431,
   * or 500 for WSC_ENOMEM); 0 otherwise. */
  int status;
  /* After a failure: a static description of the problem; NULL otherwise. */
  const char *error;

  /* The request, after wsc__hs_server_recv() returned 1 or 2. Views into the
   * buffered head, valid until wsc__hs_server_free(); absent items have
   * ptr == NULL. All are NUL-terminated except path when a query follows it. */
  wsc__http_str method;  /* "GET" */
  wsc__http_str target;  /* "/chat?room=1" */
  wsc__http_str path;    /* "/chat" */
  wsc__http_str query;   /* "room=1" (after the '?'); absent without '?' */
  wsc__http_str version; /* "HTTP/1.1" */
  wsc__http_str host;    /* Host */
  wsc__http_str origin;  /* Origin */
  wsc__http_str key;     /* Sec-WebSocket-Key (upgrade only) */
  wsc__http_str ws_version; /* Sec-WebSocket-Version (upgrade only) */
  /* All header fields: head.headers[0..head.nheaders). Look them up with
   * wsc__hs_server_header() / wsc__hs_server_header_next(); the extension
   * offers are every "Sec-WebSocket-Extensions" header. */
  wsc__http_head head;

  /* private */
  int result;
} wsc__hs_server;

/* Prepare hs for a request head of at most max_size bytes (0 means
 * WSC_DEFAULT_MAX_HANDSHAKE). Allocates nothing. */
void wsc__hs_server_init(wsc__hs_server *hs, size_t max_size);

/* Feed request bytes, split anywhere.
 *   0  need more: all len bytes were taken (*consumed = len).
 *   1  a complete, valid WebSocket upgrade request. *consumed = the bytes of
 *      this call's data that belong to the head (a client must not send
 *      frames before the 101, but whatever follows is left to the caller).
 *   2  a complete, well-formed HTTP request that is not a WebSocket upgrade
 *      (no "websocket" in Upgrade and no Sec-WebSocket-Key), for a plain
 *      HTTP handler; *consumed as for 1 (a body, if any, follows).
 *   WSC_EHANDSHAKE   a bad request; hs->status is what to answer with:
 *      400  malformed request line, HTTP version not 1.x (x >= 1; 1.0 is
 *           allowed only for plain requests), bad header syntax, missing or
 *           duplicate Host, duplicate Origin; and for upgrades: missing
 *           Upgrade: websocket, missing Connection: upgrade, missing,
 *           duplicate or malformed Sec-WebSocket-Key, an offered subprotocol
 *           that is not a token, a body (Content-Length other than 0, or
 *           Transfer-Encoding)
 *      405  an upgrade with a method other than GET
 *      426  Sec-WebSocket-Version missing, repeated, or not 13
 *   WSC_EHEADERSIZE  status 431: the head does not end within max_size
 *                    bytes, or has more than WSC__HTTP_MAX_HEADERS fields
 *   WSC_ENOMEM       status 500
 * hs->error describes any failure. On failure *consumed is 0. Once a final
 * result has been returned, later calls return it again with *consumed = 0. */
int wsc__hs_server_recv(wsc__hs_server *hs, const uint8_t *data, size_t len, size_t *consumed);

/* Header lookup in a received request, by case-insensitive name: the first
 * such header, or NULL. */
const wsc__http_header *wsc__hs_server_header(const wsc__hs_server *hs, const char *name);
/* Iterate the headers called name: *pos = 0 to begin; NULL at the end. */
const wsc__http_header *wsc__hs_server_header_next(const wsc__hs_server *hs, const char *name,
                                                   size_t *pos);

/* Iterate the offered subprotocols, across all Sec-WebSocket-Protocol
 * headers, in order. 1 with the next one in *out (a view, not NUL-terminated),
 * 0 at the end. */
int wsc__hs_server_protocol_next(const wsc__hs_server *hs, wsc__hs_iter *it, wsc__http_str *out);
/* 1 if the client offered exactly this subprotocol (case-sensitive), else 0. */
int wsc__hs_server_offered(const wsc__hs_server *hs, const char *protocol);

/* Append the 101 response accepting the upgrade hs received:
 *
 *   HTTP/1.1 101 Switching Protocols
 *   Upgrade: websocket
 *   Connection: Upgrade
 *   Sec-WebSocket-Accept: <accept>
 *   Sec-WebSocket-Protocol: <protocol>      (if not NULL)
 *   Sec-WebSocket-Extensions: <extensions>  (if not NULL)
 *   <extra headers>
 *   <empty line>
 *
 * protocol must be one the client offered; extensions is the negotiated
 * extension list (its syntax is checked); headers are "Name: value" lines
 * validated as for the client (the same names are reserved).
 *   0            written
 *   WSC_EINVAL   hs has not received a valid upgrade (recv did not return 1),
 *                protocol not offered, bad extensions, bad or reserved header
 *   WSC_ENOMEM, WSC_EINTERNAL
 * On failure out is left as it was. */
int wsc__hs_server_accept(const wsc__hs_server *hs, const char *protocol, const char *extensions,
                          const char *const *headers, size_t nheaders, wsc__buf *out);

/* Append a complete refusal: "HTTP/1.1 <status> <reason>", the extra
 * headers, Content-Type: text/plain; charset=utf-8 (when there is a body and
 * the extra headers do not set one), Content-Length, Connection: close, the
 * body (NULL for none). Added automatically unless the extra headers carry
 * them: for 426, "Sec-WebSocket-Version: 13" and "Upgrade: websocket" (with
 * "Connection: Upgrade, close", RFC 7230 section 6.7); for 405,
 * "Allow: GET". status must be 300..599. Extra headers must not set
 * Connection, Content-Length or Transfer-Encoding.
 *   0 written; WSC_EINVAL bad status or header; WSC_ENOMEM.
 * On failure out is left as it was. */
int wsc__hs_server_reject(int status, const char *body, const char *const *headers,
                          size_t nheaders, wsc__buf *out);

/* Release the buffered head; the views in hs become invalid. Safe to call
 * twice. */
void wsc__hs_server_free(wsc__hs_server *hs);

/* ---- Shared by the two roles (internal to the handshake files) ----------- */

/* Header names the handshake writes itself, refused in extra headers (see
 * wsc__hs_client_config.headers); WSC__HS_NRESERVED entries. */
#define WSC__HS_NRESERVED 10
extern const char *const wsc__hs_reserved[WSC__HS_NRESERVED];

/* Check one extra header line "Name: value" and split it: 0 with the name
 * and the OWS-trimmed value in *name / *value, or WSC_EINVAL if the name is
 * not a token, the value has a control character, or the name is one of
 * reserved[0..nreserved) (case-insensitively). */
int wsc__hs_split_header(const char *line, const char *const *reserved, size_t nreserved,
                         wsc__http_str *name, wsc__http_str *value);

#endif
