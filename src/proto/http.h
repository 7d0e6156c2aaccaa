/* http.h - HTTP/1.1 message heads for the opening handshake (internal).
 *
 * Just enough of RFC 7230 (HTTP/1.1 message syntax) to read and check the
 * head of a WebSocket upgrade request or response, written for hostile input:
 *
 *   - A head is fed in pieces split at any byte and is scanned incrementally:
 *     every byte is looked at once (O(n) in total, whatever the split).
 *   - The head is accumulated in one buffer that never holds more than
 *     max_size bytes: a peer sending an endless head is cut off with
 *     WSC_EHEADERSIZE once max_size bytes are buffered.
 *   - Parsed fields are views into that buffer (no allocation per header),
 *     held in a fixed array of WSC__HTTP_MAX_HEADERS slots.
 *
 * Syntax accepted (anything else is refused):
 *   - Lines end in CRLF. A bare CR, a bare LF or a NUL anywhere in the head is
 *     an error. RFC 7230 section 3.5 lets a recipient accept a bare LF; this
 *     parser does not, because a handshake head has no legitimate reason to
 *     use one and disagreeing with an intermediary about where a line or the
 *     head ends is how request smuggling starts. Every real client and server
 *     sends CRLF.
 *   - Header lines are `token ":" OWS field-value OWS`. Refused: obs-fold
 *     (a line starting with SP or HT), whitespace between the name and the
 *     colon (RFC 7230 section 3.2.4 says MUST reject), a line without a colon,
 *     an empty or non-token name, control characters in the value.
 *   - Names compare case-insensitively (ASCII only, locale-independent).
 *
 * Nothing here knows about WebSocket; handshake.h builds on it.
 */
#ifndef WSC_PROTO_HTTP_H
#define WSC_PROTO_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "proto/buf.h"

/* At most this many header fields in one head; more is WSC_EHEADERSIZE. */
#define WSC__HTTP_MAX_HEADERS 100

/* A view of len bytes at ptr. ptr is NULL when the item is absent; an
 * item that is present but empty has a non-NULL ptr and len 0. */
typedef struct wsc__http_str {
  const char *ptr;
  size_t len;
} wsc__http_str;

/* One header field. Both strings point into the head buffer and are
 * NUL-terminated there (the colon and the line end are overwritten), so they
 * can be used as C strings or with their lengths. The value has leading and
 * trailing OWS (SP / HT) removed; it may be empty. */
typedef struct wsc__http_header {
  const char *name;
  size_t name_len;
  const char *value;
  size_t value_len;
} wsc__http_header;

/* An HTTP head being received. Fields are read-only for users; the views in
 * start[] and headers[] are valid after wsc__http_head_parse() returned 0,
 * until wsc__http_head_free(). */
typedef struct wsc__http_head {
  wsc__buf buf;     /* the head bytes received so far, at most max_size */
  size_t max_size;  /* limit on the head, including the final CRLF CRLF */
  unsigned state;   /* scanner state (private) */
  /* The start line split in three at its first two spaces, each view
   * NUL-terminated: method / request-target / HTTP-version for a request,
   * HTTP-version / status-code / reason-phrase for a response. */
  wsc__http_str start[3];
  wsc__http_header headers[WSC__HTTP_MAX_HEADERS];
  size_t nheaders;
} wsc__http_head;

/* Prepare h to receive a head of at most max_size bytes (0 means
 * WSC_DEFAULT_MAX_HANDSHAKE). Allocates nothing. */
void wsc__http_head_init(wsc__http_head *h, size_t max_size);

/* Feed the next len bytes of the stream. Only bytes up to and including the
 * CRLF CRLF that ends the head are taken.
 *   0  the head is not complete yet; all len bytes were taken (*consumed = len).
 *   1  the head is complete; *consumed = the bytes of data that belong to it
 *      (the rest of data follows the head and was not looked at).
 *   WSC_EHANDSHAKE  a NUL, bare CR or bare LF; *err says which.
 *   WSC_EHEADERSIZE the head does not end within max_size bytes.
 *   WSC_ENOMEM
 * On a negative return *consumed is 0; do not feed h again. The outcome
 * depends only on the bytes, never on how they were split. */
int wsc__http_head_feed(wsc__http_head *h, const uint8_t *data, size_t len, size_t *consumed,
                        const char **err);

/* Parse a complete head (after wsc__http_head_feed returned 1) in place:
 * fills start[] and headers[]. is_request selects the start-line form.
 * Checks the syntax of the header lines and that each start-line part is
 * non-empty and made of allowed characters; the meaning of the start line
 * (method, version, status) is left to the caller.
 *   0                on success
 *   WSC_EHANDSHAKE   malformed start line or header line; *err says what
 *   WSC_EHEADERSIZE  more than WSC__HTTP_MAX_HEADERS header fields
 *   WSC_EINVAL       the head is not complete
 * Call it once: it writes NUL terminators into the buffer. */
int wsc__http_head_parse(wsc__http_head *h, int is_request, const char **err);

/* Free the buffer; h can be initialised again. Safe on a zeroed struct. */
void wsc__http_head_free(wsc__http_head *h);

/* Header lookup by case-insensitive name. Starting at index *pos (set it to 0
 * first), returns the next header called name and leaves *pos just past it;
 * NULL when there are no more. */
const wsc__http_header *wsc__http_head_next(const wsc__http_head *h, const char *name,
                                            size_t *pos);
/* The first header called name, or NULL. */
const wsc__http_header *wsc__http_head_get(const wsc__http_head *h, const char *name);
/* How many headers are called name. */
size_t wsc__http_head_count(const wsc__http_head *h, const char *name);

/* ---- Grammar helpers (RFC 7230 section 3.2.6) ---------------------------- */

/* 1 if c is a tchar: the characters allowed in a token. */
int wsc__http_is_tchar(int c);
/* 1 if s[0..n) is a token: non-empty and all tchar. */
int wsc__http_is_token(const char *s, size_t n);
/* 1 if s[0..n) may be a field value: no control characters other than HT
 * (so no CR, LF or NUL), no DEL. Bytes >= 0x80 (obs-text) are allowed. */
int wsc__http_is_field_value(const char *s, size_t n);
/* 1 if a[0..an) equals the NUL-terminated b, ignoring ASCII case. */
int wsc__http_eq_nocase(const char *a, size_t an, const char *b);

/* Iterate a comma-separated list (RFC 7230 section 7 "#rule"): from *p up to
 * end, stores the next element with surrounding OWS removed in *elem and
 * advances *p. Empty elements ("a, , b") are skipped, as the RFC requires.
 * Returns 1 with an element, 0 at the end of the list. Elements are not
 * checked; use wsc__http_is_token() where they must be tokens. Quoted strings
 * are not understood (use wsc__http_ext_next for extension lists). */
int wsc__http_list_next(const char **p, const char *end, wsc__http_str *elem);

/* 1 if the comma-separated list s[0..n) has an element equal to token,
 * ignoring ASCII case ("keep-alive, Upgrade" contains "upgrade"). */
int wsc__http_list_has_token(const char *s, size_t n, const char *token);

/* Iterate an extension list (RFC 6455 section 9.1):
 *   extension-list = 1#( token *( OWS ";" OWS token [ "=" ( token / quoted-string ) ] ) )
 * From *p up to end, stores the next extension's name in *name and its
 * parameters in *params (from the first ";" to the end of the element, OWS
 * trimmed, len 0 when there are none; ptr may be NULL then) and advances *p.
 * Empty list elements are skipped. Commas inside quoted strings do not end an
 * element.
 *   1   an extension was stored
 *   0   end of the list
 *   -1  syntax error (then *p is left where the bad element starts) */
int wsc__http_ext_next(const char **p, const char *end, wsc__http_str *name,
                       wsc__http_str *params);

#endif
