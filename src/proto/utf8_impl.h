/* utf8_impl.h - the individual UTF-8 validators behind wsc__utf8_feed, for
 * tests, the fuzzer and benchmarks (internal; see utf8.h for the contract).
 */
#ifndef WSC_PROTO_UTF8_IMPL_H
#define WSC_PROTO_UTF8_IMPL_H

#include "proto/utf8.h"

/* Each entry has the signature and contract of wsc__utf8_feed. Entries whose
 * CPU feature is missing have available == 0 and must not be called. Ordered
 * slowest to fastest; the list ends with name == NULL. Names: "scalar" (the
 * reference DFA), "words" (DFA with a 64-bit-word ASCII fast path, the choice
 * without SIMD), "ssse3" and "avx2" (lookup-table validators). */
typedef int (*wsc__utf8_fn)(wsc__utf8 *v, const uint8_t *p, size_t n, size_t *bad);
typedef struct wsc__utf8_impl {
  const char *name;
  wsc__utf8_fn feed;
  int available;
} wsc__utf8_impl;
const wsc__utf8_impl *wsc__utf8_impls(void);

#endif
