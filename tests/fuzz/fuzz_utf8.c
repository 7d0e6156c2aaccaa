/* fuzz_utf8.c - libFuzzer target: every UTF-8 implementation agrees with the
 * reference DFA (verdict, first bad index, end state) whatever the input and
 * however it is split; wsc__utf8_valid agrees with the one-shot verdict.
 *
 * Input: byte 0 picks the split pattern, bytes 1..2 seed the split lengths,
 * the rest is the text. Any disagreement traps. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "proto/utf8.h"
#include "proto/utf8_impl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
  int rc;
  size_t bad; /* stream offset of the first bad byte when rc == -1 */
  uint32_t state;
} outcome;

static uint32_t next_len(uint32_t *seed, unsigned mode) {
  *seed = *seed * 1103515245u + 12345u;
  uint32_t r = *seed >> 16;
  switch (mode & 3) {
  case 0: return 1 + r % 4;    /* tiny pieces: sequences straddle calls */
  case 1: return 1 + r % 40;   /* around the SIMD block sizes */
  case 2: return 1 + r % 300;
  default: return (uint32_t)-1; /* one shot */
  }
}

static outcome run(wsc__utf8_fn fn, const uint8_t *p, size_t n, unsigned mode, uint32_t seed) {
  outcome o = {0, 0, 0};
  wsc__utf8 v;
  wsc__utf8_init(&v);
  size_t at = 0;
  do {
    size_t len = next_len(&seed, mode);
    if (len > n - at) len = n - at;
    size_t bad = (size_t)-1;
    if (fn(&v, p + at, len, &bad) != 0) {
      if (bad >= len) __builtin_trap();
      o.rc = -1;
      o.bad = at + bad;
      size_t bad2 = 1;
      if (fn(&v, p, n, &bad2) != -1 || bad2 != 0) __builtin_trap(); /* sticky */
      if (wsc__utf8_finish(&v) != -1) __builtin_trap();
      return o;
    }
    if (bad != (size_t)-1) __builtin_trap();
    at += len;
  } while (at < n);
  o.state = v.state;
  return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 3) return 0;
  unsigned mode = data[0];
  uint32_t seed = (uint32_t)data[1] << 8 | data[2];
  const uint8_t *p = data + 3;
  size_t n = size - 3;

  /* p is libFuzzer's exact-size copy (ASan catches reads past its end); q is
   * the same text at an alignment chosen by the input. */
  static uint8_t buf[1 << 20];
  if (n > sizeof buf - 64) return 0;
  size_t al = (mode >> 2) & 63;
  memcpy(buf + al, p, n);
  const uint8_t *q = buf + al;

  outcome ref = run(wsc__utf8_feed_scalar, p, n, 3, 0);
  outcome ref_split = run(wsc__utf8_feed_scalar, p, n, mode, seed);
  if (ref_split.rc != ref.rc || ref_split.bad != ref.bad || ref_split.state != ref.state)
    __builtin_trap();

  for (const wsc__utf8_impl *m = wsc__utf8_impls(); m->name; m++) {
    if (!m->available) continue;
    outcome one = run(m->feed, q, n, 3, 0);
    outcome split = run(m->feed, q, n, mode, seed);
    if (one.rc != ref.rc || one.bad != ref.bad || one.state != ref.state) __builtin_trap();
    if (split.rc != ref.rc || split.bad != ref.bad || split.state != ref.state) __builtin_trap();
  }
  outcome disp = run(wsc__utf8_feed, p, n, mode, seed);
  if (disp.rc != ref.rc || disp.bad != ref.bad || disp.state != ref.state) __builtin_trap();

  int want_valid = (ref.rc == 0 && ref.state == 0) ? 0 : -1;
  if (wsc__utf8_valid(p, n) != want_valid) __builtin_trap();
  if (wsc__utf8_valid(q, n) != want_valid) __builtin_trap();
  return 0;
}
