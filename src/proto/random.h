/* random.h - cryptographically secure random bytes, batched (internal).
 *
 * RFC 6455 requires masking keys and the Sec-WebSocket-Key nonce to be
 * unpredictable. Bytes come from OpenSSL's CSPRNG, drawn in batches into a
 * per-thread pool so a masking key costs a few loads, not a library call.
 */
#ifndef WSC_PROTO_RANDOM_H
#define WSC_PROTO_RANDOM_H

#include <stddef.h>
#include <stdint.h>

/* Fill buf with n random bytes. 0, or WSC_EINTERNAL if the CSPRNG fails. */
int wsc__random(void *buf, size_t n);

#endif
