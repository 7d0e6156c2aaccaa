/* mask.h - RFC 6455 section 5.3 payload masking at memory speed (internal).
 *
 * Masking XORs payload byte i with key[(i + phase) % 4]. All functions accept
 * any alignment and any length; the fastest implementation the CPU supports
 * (AVX2, SSE2, 64-bit words, bytes) is chosen once at run time.
 */
#ifndef WSC_PROTO_MASK_H
#define WSC_PROTO_MASK_H

#include <stddef.h>
#include <stdint.h>

/* Mask (or unmask: the operation is its own inverse) len bytes at data in
 * place. key is the 4-byte masking key in wire order; phase (0..3) is the
 * payload offset of data[0] modulo 4, so a payload processed in several
 * pieces continues correctly. Returns the phase for the byte after the last. */
unsigned wsc__mask(uint8_t *data, size_t len, const uint8_t key[4], unsigned phase);

/* Same, reading src and writing dst. dst == src is allowed; other overlap is not. */
unsigned wsc__mask_copy(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t key[4],
                        unsigned phase);

/* The individual implementations, for tests and benchmarks. Each has the
 * signature of wsc__mask_copy. Entries whose CPU feature is missing have
 * available == 0 and must not be called. The list ends with name == NULL. */
typedef unsigned (*wsc__mask_fn)(uint8_t *dst, const uint8_t *src, size_t len,
                                 const uint8_t key[4], unsigned phase);
typedef struct wsc__mask_impl {
  const char *name; /* "bytes", "words", "sse2", "avx2", ... */
  wsc__mask_fn fn;
  int available;
} wsc__mask_impl;
const wsc__mask_impl *wsc__mask_impls(void);
/* Name of the implementation wsc__mask uses on this CPU. */
const char *wsc__mask_impl_name(void);

#endif
