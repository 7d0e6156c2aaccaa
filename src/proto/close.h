/* close.h - Close frame payloads, RFC 6455 sections 5.5.1 and 7.4 (internal). */
#ifndef WSC_PROTO_CLOSE_H
#define WSC_PROTO_CLOSE_H

#include <stddef.h>
#include <stdint.h>

#define WSC__CLOSE_REASON_MAX 123 /* 125-byte control payload minus the code */

/* 1 if code may be sent in a Close frame: 1000-1003, 1007-1014 (defined or
 * reserved for future IANA registration) and 3000-4999 (registered and
 * private use). 0-999, 1004-1006, 1015, 1016-2999 and >= 5000 may not. */
int wsc__close_code_valid(unsigned code);

/* Decode a received Close payload. An empty payload yields code 1005 (no
 * status) and no reason. Returns 0, WSC_EPROTO (a 1-byte payload or a code
 * that may not be sent) or WSC_EBADDATA (the reason is not UTF-8); *why gets
 * a static description on failure. */
int wsc__close_parse(const uint8_t *p, size_t n, int *code, const uint8_t **reason,
                     size_t *reason_len, const char **why);

/* Encode a Close payload into out: code 0 gives an empty payload (and no
 * reason), anything else the code in network order followed by the reason.
 * Returns the payload length, or WSC_EINVAL when the code may not be sent or
 * the reason is over 123 bytes, or WSC_ESYNTAX when it is not UTF-8. */
int wsc__close_build(uint8_t out[2 + WSC__CLOSE_REASON_MAX], int code, const void *reason,
                     size_t reason_len);

#endif
