/* pmd.h - permessage-deflate negotiation, RFC 7692 sections 5 and 7.1
 * (internal, sans-I/O: strings in, strings and parameters out).
 *
 * Client:                                   Server:
 *   wsc__pmd_offer_init(&o), tune o             wsc__pmd_server_init(&s), tune s
 *   wsc__pmd_offer_build(&o, buf, cap)          wsc__pmd_server_negotiate(&s, hs, &params,
 *     -> hs_cfg.extensions = buf                                          resp, cap)
 *   ... handshake ...                             -> 1: accept with extensions = resp
 *   wsc__pmd_client_accept(&o, hs.extensions,   then wsc__conn_set_deflate(conn, &params, ..)
 *                          &params, &why)
 *     -> 1: wsc__conn_set_deflate(conn, &params, ..)
 *
 * The negotiated parameters are the same on both sides: each peer compresses
 * with its own role's window/context settings and inflates with the other's.
 *
 * Window bits 8: zlib's deflate cannot use a 256-byte window (raw deflate
 * with windowBits 8 is refused), so the deflater runs with 9. That is still
 * correct for a peer that inflates with 8: zlib never emits a match distance
 * beyond its window size minus MIN_LOOKAHEAD (262), i.e. at most 250 with a
 * 512-byte window (test `deflate_window_8_sender_fits_256_byte_window`).
 * 8 is therefore negotiated and reported as 8 (RFC 7692 section 7.1.2.1/2).
 * The inflater uses max(bits, 9) so a peer whose zlib quietly turned 8 into a
 * genuine 512-byte window is still understood.
 */
#ifndef WSC_PROTO_PMD_H
#define WSC_PROTO_PMD_H

#include <stddef.h>
#include <stdint.h>

#include "proto/handshake.h"

#define WSC__PMD_NAME "permessage-deflate"
#define WSC__PMD_MIN_BITS 8
#define WSC__PMD_MAX_BITS 15
/* Longest string wsc__pmd_offer_build / the server response can produce, with NUL. */
#define WSC__PMD_MAX_HEADER 160

/* The negotiated agreement (what the response said, defaults filled in). */
typedef struct wsc__pmd_params {
  uint8_t server_no_context_takeover; /* the server resets its compressor per message */
  uint8_t client_no_context_takeover; /* the client resets its compressor per message */
  uint8_t server_max_window_bits;     /* 8..15: window the server compresses with */
  uint8_t client_max_window_bits;     /* 8..15: window the client compresses with */
} wsc__pmd_params;

/* What a client offers. */
typedef struct wsc__pmd_offer {
  /* Ask the server not to keep its compression context between messages
   * (saves the client's inflater memory between messages). */
  uint8_t server_no_context_takeover;
  /* Tell the server the client will not keep context (the server may then
   * free its inflater between messages). The client honours it either way. */
  uint8_t client_no_context_takeover;
  /* Ask the server to use a window of at most 2^n bytes: 0 = do not ask,
   * 8..15. */
  uint8_t server_max_window_bits;
  /* client_max_window_bits: WSC__PMD_CMWB_ABSENT = not offered (the server
   * then cannot limit the client's window), WSC__PMD_CMWB_ANY = offered with
   * no value (the server may choose any 8..15; what browsers send), 8..15 =
   * the client will use at most 2^n. */
  uint8_t client_max_window_bits;
} wsc__pmd_offer;

#define WSC__PMD_CMWB_ABSENT 0
#define WSC__PMD_CMWB_ANY 1

/* What a server accepts. */
typedef struct wsc__pmd_server {
  uint8_t enabled;                    /* 0: decline every offer */
  uint8_t server_no_context_takeover; /* always reset our compressor per message */
  uint8_t client_no_context_takeover; /* require the client to reset its compressor */
  uint8_t server_max_window_bits;     /* largest window we compress with, 8..15 */
  uint8_t client_max_window_bits;     /* largest window we accept from the client, 8..15;
                                         below 15 an offer without client_max_window_bits
                                         is declined (we could not bound the client) */
} wsc__pmd_server;

/* The default offer: "permessage-deflate; client_max_window_bits". */
void wsc__pmd_offer_init(wsc__pmd_offer *o);

/* Write the offer as a Sec-WebSocket-Extensions value, NUL-terminated, into
 * out[0..cap). Returns its length, or WSC_EINVAL for a value out of range or
 * a buffer that is too small (WSC__PMD_MAX_HEADER is always enough). */
int wsc__pmd_offer_build(const wsc__pmd_offer *o, char *out, size_t cap);

/* Check the server's answer: ext is the negotiated Sec-WebSocket-Extensions
 * (hs.extensions, "" when none), the offer is what was sent.
 *   1  permessage-deflate was accepted; *params holds the agreement
 *   0  it was not (no permessage-deflate element in ext)
 *   WSC_EEXTENSION  the response breaks RFC 7692 (permessage-deflate twice,
 *      an unknown, duplicate or malformed parameter, a value out of range or
 *      above what was offered, client_max_window_bits not offered, a
 *      requested server_no_context_takeover or server_max_window_bits
 *      missing); *why (if not NULL) says which. Fail the connection (1010).
 * Other extensions in ext are ignored. */
int wsc__pmd_client_accept(const wsc__pmd_offer *o, const char *ext, size_t len,
                           wsc__pmd_params *params, const char **why);

/* Server defaults: enabled, context takeover both ways, windows 15. */
void wsc__pmd_server_init(wsc__pmd_server *s);

/* Examine one offer element's parameters (the part after the name, as
 * wsc__http_ext_next returns it) against the server's settings.
 *   1  acceptable: *params is the agreement
 *   0  not acceptable (*why says why: malformed, unknown or duplicate
 *      parameter, value out of range, or a requirement we cannot meet) */
int wsc__pmd_server_consider(const wsc__pmd_server *s, const char *params, size_t len,
                             wsc__pmd_params *out, const char **why);

/* Write the response element for an agreement, e.g.
 * "permessage-deflate; server_no_context_takeover; client_max_window_bits=10".
 * Parameters equal to the defaults are left out, except that every parameter
 * the offer carried which needs an answer is answered (offer_cmwb /
 * offer_smwb: the offer had client_max_window_bits / server_max_window_bits).
 * Returns the length, or WSC_EINVAL when cap is too small. */
int wsc__pmd_response_build(const wsc__pmd_params *p, int offer_smwb, int offer_cmwb, char *out,
                            size_t cap);

/* Pick the first permessage-deflate offer (in the order of the request's
 * Sec-WebSocket-Extensions headers and elements) the server can honour and
 * write the response element into out (NUL-terminated).
 *   1  accepted: *params is the agreement, out the value to send
 *      (add it to wsc__hs_server_accept's extensions)
 *   0  none acceptable (or disabled, or not offered): out = ""
 *   WSC_EINVAL  cap too small
 * A malformed Sec-WebSocket-Extensions list stops the search at the bad
 * element (offers before it still count). */
int wsc__pmd_server_negotiate(const wsc__pmd_server *s, const wsc__hs_server *hs,
                              wsc__pmd_params *params, char *out, size_t cap);

#endif
