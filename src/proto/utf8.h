/* utf8.h - incremental UTF-8 validation, RFC 3629 (internal).
 *
 * Accepts exactly the well-formed UTF-8 of RFC 3629 / Unicode table 3-7: no
 * overlong forms, no surrogates (U+D800..U+DFFF), nothing above U+10FFFF, no
 * truncated sequences. A stream may be fed in pieces split at any byte; the
 * validator fails at the first byte that cannot continue a valid prefix
 * (so "F4 90" fails at the 0x90 without waiting for more input), which lets a
 * WebSocket endpoint fail an invalid text message as early as possible even
 * when the bad sequence straddles frames or reads.
 *
 * Long ASCII runs take a fast path; multi-byte text is checked with SIMD
 * (lookup-table method) where the CPU has it, with a scalar DFA fallback.
 */
#ifndef WSC_PROTO_UTF8_H
#define WSC_PROTO_UTF8_H

#include <stddef.h>
#include <stdint.h>

typedef struct wsc__utf8 {
  uint32_t state; /* 0 = at a character boundary; opaque otherwise */
} wsc__utf8;

static inline void wsc__utf8_init(wsc__utf8 *v) { v->state = 0; }

/* Feed the next n bytes. Returns 0 if everything fed so far is a valid prefix
 * of UTF-8; -1 if p[i] is the first byte that makes it invalid, storing i in
 * *bad when bad is not NULL. After -1 every further call returns -1 (with
 * *bad = 0). */
int wsc__utf8_feed(wsc__utf8 *v, const uint8_t *p, size_t n, size_t *bad);

/* 0 if the stream fed so far ends at a character boundary, -1 if it ends
 * inside a sequence (or failed earlier). */
int wsc__utf8_finish(const wsc__utf8 *v);

/* One shot: 0 if p[0..n) is complete, valid UTF-8, else -1. */
int wsc__utf8_valid(const uint8_t *p, size_t n);

/* Reference implementation (byte-at-a-time DFA, no SIMD), same contract as
 * wsc__utf8_feed. Used by tests, the fuzzer and benchmarks to cross-check. */
int wsc__utf8_feed_scalar(wsc__utf8 *v, const uint8_t *p, size_t n, size_t *bad);

/* Name of the implementation wsc__utf8_feed uses for bulk data on this CPU. */
const char *wsc__utf8_impl_name(void);

#endif
