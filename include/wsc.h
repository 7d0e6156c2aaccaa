/*
 * wsc.h - WebSocket for C.
 *
 * The browser's WebSocket interface (WHATWG), RFC 6455 and RFC 7692, in C.
 * This header is the whole public API and reads as its reference manual.
 *
 * Conventions
 *   - Functions that can fail return an int: 0 (or a non-negative count) on
 *     success, a negative error code on failure. wsc_strerror() and
 *     wsc_err_name() describe any code.
 *   - The four exceptions a browser throws map to named codes:
 *     SyntaxError -> WSC_ESYNTAX, SecurityError -> WSC_ESECURITY,
 *     InvalidAccessError -> WSC_EINVALIDACCESS,
 *     InvalidStateError -> WSC_EINVALIDSTATE.
 *   - Codes outside the wsc range are negated errno values (as libuv uses),
 *     so an I/O error keeps its cause: wsc_strerror(-ECONNREFUSED) works.
 */
#ifndef WSC_H
#define WSC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(WSC_BUILDING) && (defined(__GNUC__) || defined(__clang__))
#define WSC_EXTERN __attribute__((visibility("default")))
#else
#define WSC_EXTERN
#endif

#define WSC_VERSION_MAJOR 0
#define WSC_VERSION_MINOR 1
#define WSC_VERSION_PATCH 0
#define WSC_VERSION_STRING "0.1.0"

/* Returns WSC_VERSION_STRING of the library actually linked. */
WSC_EXTERN const char *wsc_version(void);

/* ---- Error codes ----------------------------------------------------------
 * XX(name, value, message). Values are stable across releases.
 */
#define WSC_ERRNO_MAP(XX)                                                          \
  XX(ESYNTAX, -30001, "SyntaxError: invalid syntax (URL, subprotocol, UTF-8 or reason)") \
  XX(ESECURITY, -30002, "SecurityError: port is blocked")                          \
  XX(EINVALIDACCESS, -30003, "InvalidAccessError: close code must be 1000 or 3000-4999") \
  XX(EINVALIDSTATE, -30004, "InvalidStateError: not allowed in the current readyState") \
  XX(ENOMEM, -30005, "out of memory")                                              \
  XX(EINVAL, -30006, "invalid argument")                                           \
  XX(EPROTO, -30007, "peer violated the WebSocket protocol (close 1002)")          \
  XX(EBADDATA, -30008, "invalid payload data, e.g. bad UTF-8 (close 1007)")        \
  XX(ETOOBIG, -30009, "message or frame exceeds the configured limit (close 1009)") \
  XX(EPOLICY, -30010, "policy violation (close 1008)")                             \
  XX(EHANDSHAKE, -30011, "invalid or rejected opening handshake")                  \
  XX(EHEADERSIZE, -30012, "opening handshake exceeds the size limit")              \
  XX(ECLOSED, -30013, "the connection is closed")                                  \
  XX(ETIMEDOUT, -30014, "timed out")                                               \
  XX(ETLS, -30015, "TLS error")                                                    \
  XX(EDNS, -30016, "host name could not be resolved")                              \
  XX(EEXTENSION, -30017, "extension negotiation failed (close 1010)")              \
  XX(EINTERNAL, -30018, "internal error (close 1011)")

typedef enum wsc_errno {
#define WSC_XX_ENUM(name, value, msg) WSC_##name = value,
  WSC_ERRNO_MAP(WSC_XX_ENUM)
#undef WSC_XX_ENUM
  WSC_ERRNO_MIN_ = -30018
} wsc_errno;

/* Human-readable message for any error code (wsc or negated errno). Never NULL;
 * the string is static. */
WSC_EXTERN const char *wsc_strerror(int err);
/* The code's name without the WSC_ prefix ("ESYNTAX"), or "UNKNOWN". Static. */
WSC_EXTERN const char *wsc_err_name(int err);

/* ---- Close codes (RFC 6455 section 7.4) ---------------------------------- */
enum wsc_close_code {
  WSC_CLOSE_NORMAL = 1000,
  WSC_CLOSE_GOING_AWAY = 1001,
  WSC_CLOSE_PROTOCOL_ERROR = 1002,
  WSC_CLOSE_UNSUPPORTED_DATA = 1003,
  WSC_CLOSE_NO_STATUS = 1005,       /* reported only, never sent */
  WSC_CLOSE_ABNORMAL = 1006,        /* reported only, never sent */
  WSC_CLOSE_INVALID_PAYLOAD = 1007,
  WSC_CLOSE_POLICY_VIOLATION = 1008,
  WSC_CLOSE_MESSAGE_TOO_BIG = 1009,
  WSC_CLOSE_MANDATORY_EXTENSION = 1010,
  WSC_CLOSE_INTERNAL_ERROR = 1011,
  WSC_CLOSE_TLS_HANDSHAKE = 1015    /* reported only, never sent */
};

/* The close code an error code calls for when the connection is failed
 * (WSC_EPROTO -> 1002, WSC_EBADDATA -> 1007, ...); 1006 for anything that is
 * not a protocol-level failure. */
WSC_EXTERN int wsc_close_code_for(int err);

/* ---- Limits ---------------------------------------------------------------
 * Every input from the network is bounded. These are the defaults; each can be
 * changed per connection.
 */
#define WSC_DEFAULT_MAX_HANDSHAKE (8u * 1024u)              /* request/response head */
#define WSC_DEFAULT_MAX_FRAME ((uint64_t)64 * 1024 * 1024)  /* one frame's payload */
#define WSC_DEFAULT_MAX_MESSAGE ((uint64_t)64 * 1024 * 1024) /* one whole message */

#ifdef __cplusplus
}
#endif
#endif /* WSC_H */
