/* mask.c - RFC 6455 section 5.3 payload masking (see mask.h).
 *
 * Byte i of a payload is XORed with key[i % 4]. A piece that starts at payload
 * offset `phase` (mod 4) therefore uses the key rotated left by `phase` bytes:
 * kr[j] = key[(phase + j) % 4]. Every implementation builds kr once, widens it
 * to its word or vector size (the 4-byte pattern repeated), and as long as it
 * consumes whole multiples of 4 bytes the pattern stays in step; only the last
 * (len % 4) bytes need kr[j] individually.
 *
 * Implementations, slowest to fastest:
 *   bytes   the obvious loop; reference and baseline
 *   words   64-bit words through memcpy (no alignment or aliasing UB)
 *   sse2    16-byte vectors (baseline on x86-64)
 *   avx2    32-byte vectors, stores aligned after a short head
 *   avx512  64-byte vectors (AVX-512F); offered for tests and benchmarks but
 *           only dispatched to when WSC_MASK_PREFER_AVX512 is defined, since
 *           on the CPUs measured it is no clear win over AVX2 (see bench/)
 * wsc__mask and wsc__mask_copy pick the fastest available once, lazily, with
 * an atomic pointer (racing initialisers compute and store the same value).
 */
#include "proto/mask.h"

#include <string.h>

#if (defined(__x86_64__) || defined(_M_X64)) && (defined(__GNUC__) || defined(__clang__)) && \
    !defined(WSC_NO_SIMD)
#define WSC_MASK_X86 1
#include <immintrin.h>
#else
#define WSC_MASK_X86 0
#endif

/* kr[j] = key[(phase + j) % 4] for j = 0..7 (two periods, for 64-bit words). */
static inline void rotate_key(uint8_t kr[8], const uint8_t key[4], unsigned phase) {
  for (unsigned j = 0; j < 8; j++) kr[j] = key[(phase + j) & 3];
}

/* The last len (< 4 when called from the wide paths, but any len works) bytes,
 * starting in step with kr. */
static inline void mask_bytes_kr(uint8_t *dst, const uint8_t *src, size_t len,
                                 const uint8_t kr[8]) {
  for (size_t i = 0; i < len; i++) dst[i] = (uint8_t)(src[i] ^ kr[i & 3]);
}

/* len bytes with 64-bit words, then bytes; kr in step at dst[0]. */
static inline void mask_words_kr(uint8_t *dst, const uint8_t *src, size_t len,
                                 const uint8_t kr[8]) {
  uint64_t k;
  memcpy(&k, kr, 8);
  size_t i = 0;
  for (; i + 32 <= len; i += 32) {
    uint64_t a, b, c, d;
    memcpy(&a, src + i, 8);
    memcpy(&b, src + i + 8, 8);
    memcpy(&c, src + i + 16, 8);
    memcpy(&d, src + i + 24, 8);
    a ^= k;
    b ^= k;
    c ^= k;
    d ^= k;
    memcpy(dst + i, &a, 8);
    memcpy(dst + i + 8, &b, 8);
    memcpy(dst + i + 16, &c, 8);
    memcpy(dst + i + 24, &d, 8);
  }
  for (; i + 8 <= len; i += 8) {
    uint64_t a;
    memcpy(&a, src + i, 8);
    a ^= k;
    memcpy(dst + i, &a, 8);
  }
  mask_bytes_kr(dst + i, src + i, len - i, kr); /* i % 4 == 0: still in step */
}

static unsigned mask_bytes(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t key[4],
                           unsigned phase) {
  phase &= 3;
  for (size_t i = 0; i < len; i++) dst[i] = (uint8_t)(src[i] ^ key[(phase + i) & 3]);
  return (unsigned)((phase + len) & 3);
}

static unsigned mask_words(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t key[4],
                           unsigned phase) {
  uint8_t kr[8];
  phase &= 3;
  rotate_key(kr, key, phase);
  mask_words_kr(dst, src, len, kr);
  return (unsigned)((phase + len) & 3);
}

#if WSC_MASK_X86
static unsigned mask_sse2(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t key[4],
                          unsigned phase) {
  uint8_t kr[8];
  uint32_t k32;
  phase &= 3;
  rotate_key(kr, key, phase);
  memcpy(&k32, kr, 4);
  const __m128i k = _mm_set1_epi32((int)k32);
  size_t i = 0;
  for (; i + 64 <= len; i += 64) {
    __m128i a = _mm_loadu_si128((const __m128i *)(const void *)(src + i));
    __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(src + i + 16));
    __m128i c = _mm_loadu_si128((const __m128i *)(const void *)(src + i + 32));
    __m128i d = _mm_loadu_si128((const __m128i *)(const void *)(src + i + 48));
    _mm_storeu_si128((__m128i *)(void *)(dst + i), _mm_xor_si128(a, k));
    _mm_storeu_si128((__m128i *)(void *)(dst + i + 16), _mm_xor_si128(b, k));
    _mm_storeu_si128((__m128i *)(void *)(dst + i + 32), _mm_xor_si128(c, k));
    _mm_storeu_si128((__m128i *)(void *)(dst + i + 48), _mm_xor_si128(d, k));
  }
  for (; i + 16 <= len; i += 16) {
    __m128i a = _mm_loadu_si128((const __m128i *)(const void *)(src + i));
    _mm_storeu_si128((__m128i *)(void *)(dst + i), _mm_xor_si128(a, k));
  }
  mask_words_kr(dst + i, src + i, len - i, kr);
  return (unsigned)((phase + len) & 3);
}

__attribute__((target("avx2"))) static unsigned mask_avx2(uint8_t *dst, const uint8_t *src,
                                                          size_t len, const uint8_t key[4],
                                                          unsigned phase) {
  uint8_t kr[8];
  uint32_t k32;
  const unsigned end_phase = (unsigned)((phase + len) & 3);
  phase &= 3;
  if (len >= 256) { /* bring dst to a 32-byte boundary: no store splits a line */
    size_t head = (size_t)(-(uintptr_t)dst & 31);
    if (head) {
      rotate_key(kr, key, phase);
      mask_bytes_kr(dst, src, head, kr);
      dst += head;
      src += head;
      len -= head;
      phase = (unsigned)((phase + head) & 3);
    }
  }
  rotate_key(kr, key, phase);
  memcpy(&k32, kr, 4);
  const __m256i k = _mm256_set1_epi32((int)k32);
  size_t i = 0;
  for (; i + 128 <= len; i += 128) {
    __m256i a = _mm256_loadu_si256((const __m256i *)(const void *)(src + i));
    __m256i b = _mm256_loadu_si256((const __m256i *)(const void *)(src + i + 32));
    __m256i c = _mm256_loadu_si256((const __m256i *)(const void *)(src + i + 64));
    __m256i d = _mm256_loadu_si256((const __m256i *)(const void *)(src + i + 96));
    _mm256_storeu_si256((__m256i *)(void *)(dst + i), _mm256_xor_si256(a, k));
    _mm256_storeu_si256((__m256i *)(void *)(dst + i + 32), _mm256_xor_si256(b, k));
    _mm256_storeu_si256((__m256i *)(void *)(dst + i + 64), _mm256_xor_si256(c, k));
    _mm256_storeu_si256((__m256i *)(void *)(dst + i + 96), _mm256_xor_si256(d, k));
  }
  for (; i + 32 <= len; i += 32) {
    __m256i a = _mm256_loadu_si256((const __m256i *)(const void *)(src + i));
    _mm256_storeu_si256((__m256i *)(void *)(dst + i), _mm256_xor_si256(a, k));
  }
  if (i + 16 <= len) {
    __m128i a = _mm_loadu_si128((const __m128i *)(const void *)(src + i));
    _mm_storeu_si128((__m128i *)(void *)(dst + i), _mm_xor_si128(a, _mm256_castsi256_si128(k)));
    i += 16;
  }
  mask_words_kr(dst + i, src + i, len - i, kr);
  return end_phase;
}

__attribute__((target("avx512f"))) static unsigned mask_avx512(uint8_t *dst, const uint8_t *src,
                                                               size_t len, const uint8_t key[4],
                                                               unsigned phase) {
  uint8_t kr[8];
  uint32_t k32;
  const unsigned end_phase = (unsigned)((phase + len) & 3);
  phase &= 3;
  if (len >= 512) { /* bring dst to a 64-byte (cache line) boundary */
    size_t head = (size_t)(-(uintptr_t)dst & 63);
    if (head) {
      rotate_key(kr, key, phase);
      mask_bytes_kr(dst, src, head, kr);
      dst += head;
      src += head;
      len -= head;
      phase = (unsigned)((phase + head) & 3);
    }
  }
  rotate_key(kr, key, phase);
  memcpy(&k32, kr, 4);
  const __m512i k = _mm512_set1_epi32((int)k32);
  size_t i = 0;
  for (; i + 256 <= len; i += 256) {
    __m512i a = _mm512_loadu_si512((const void *)(src + i));
    __m512i b = _mm512_loadu_si512((const void *)(src + i + 64));
    __m512i c = _mm512_loadu_si512((const void *)(src + i + 128));
    __m512i d = _mm512_loadu_si512((const void *)(src + i + 192));
    _mm512_storeu_si512((void *)(dst + i), _mm512_xor_si512(a, k));
    _mm512_storeu_si512((void *)(dst + i + 64), _mm512_xor_si512(b, k));
    _mm512_storeu_si512((void *)(dst + i + 128), _mm512_xor_si512(c, k));
    _mm512_storeu_si512((void *)(dst + i + 192), _mm512_xor_si512(d, k));
  }
  for (; i + 64 <= len; i += 64) {
    __m512i a = _mm512_loadu_si512((const void *)(src + i));
    _mm512_storeu_si512((void *)(dst + i), _mm512_xor_si512(a, k));
  }
  const __m128i k16 = _mm512_castsi512_si128(k);
  for (; i + 16 <= len; i += 16) {
    __m128i a = _mm_loadu_si128((const __m128i *)(const void *)(src + i));
    _mm_storeu_si128((__m128i *)(void *)(dst + i), _mm_xor_si128(a, k16));
  }
  mask_words_kr(dst + i, src + i, len - i, kr);
  return end_phase;
}

static int cpu_has_avx2(void) {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2");
}
static int cpu_has_avx512(void) {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f");
}
#endif /* WSC_MASK_X86 */

#define NIMPLS 6
static wsc__mask_impl impls[NIMPLS];
static int impls_ready; /* 0, then 1 once impls[] is filled (atomic) */

const wsc__mask_impl *wsc__mask_impls(void) {
  if (__atomic_load_n(&impls_ready, __ATOMIC_ACQUIRE)) return impls;
  /* Racing callers write identical values; the release store publishes them. */
  wsc__mask_impl t[NIMPLS];
  int n = 0;
  t[n++] = (wsc__mask_impl){"bytes", mask_bytes, 1};
  t[n++] = (wsc__mask_impl){"words", mask_words, 1};
#if WSC_MASK_X86
  t[n++] = (wsc__mask_impl){"sse2", mask_sse2, 1};
  t[n++] = (wsc__mask_impl){"avx2", mask_avx2, cpu_has_avx2()};
  t[n++] = (wsc__mask_impl){"avx512", mask_avx512, cpu_has_avx512()};
#endif
  t[n++] = (wsc__mask_impl){NULL, NULL, 0};
  for (int i = 0; i < n; i++) {
    __atomic_store_n(&impls[i].name, t[i].name, __ATOMIC_RELAXED);
    __atomic_store_n(&impls[i].fn, t[i].fn, __ATOMIC_RELAXED);
    __atomic_store_n(&impls[i].available, t[i].available, __ATOMIC_RELAXED);
  }
  __atomic_store_n(&impls_ready, 1, __ATOMIC_RELEASE);
  return impls;
}

static const wsc__mask_impl *best_impl(void) {
  const wsc__mask_impl *all = wsc__mask_impls(), *best = &all[0];
  for (const wsc__mask_impl *m = all; m->name; m++) {
    if (!m->available) continue;
#ifndef WSC_MASK_PREFER_AVX512
    if (strcmp(m->name, "avx512") == 0) continue;
#endif
    best = m; /* the table is ordered slowest to fastest */
  }
  return best;
}

static wsc__mask_fn chosen_fn;

static wsc__mask_fn mask_fn(void) {
  wsc__mask_fn fn = __atomic_load_n(&chosen_fn, __ATOMIC_ACQUIRE);
  if (fn) return fn;
  fn = best_impl()->fn;
  __atomic_store_n(&chosen_fn, fn, __ATOMIC_RELEASE);
  return fn;
}

const char *wsc__mask_impl_name(void) { return best_impl()->name; }

unsigned wsc__mask_copy(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t key[4],
                        unsigned phase) {
  if (len < 16) return mask_bytes(dst, src, len, key, phase); /* not worth a call */
  return mask_fn()(dst, src, len, key, phase);
}

unsigned wsc__mask(uint8_t *data, size_t len, const uint8_t key[4], unsigned phase) {
  return wsc__mask_copy(data, data, len, key, phase);
}
