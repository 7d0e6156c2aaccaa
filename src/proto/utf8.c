/* utf8.c - incremental, fail-fast UTF-8 validation (see utf8.h).
 *
 * Two parts:
 *
 * 1. A DFA over bytes (the reference, wsc__utf8_feed_scalar, and the helper
 *    every fast path ends with). Its states say what the next byte must be;
 *    Unicode table 3-7 gives them directly:
 *
 *      state  meaning                          next byte allowed
 *      ACC    at a character boundary          00..7F, C2..F4 (leads)
 *      N1     1 continuation to go             80..BF
 *      N2     2 to go                          80..BF
 *      N2E0   2 to go after E0 (no overlong)   A0..BF
 *      N2ED   2 to go after ED (no surrogate)  80..9F
 *      N3     3 to go                          80..BF
 *      N3F0   3 to go after F0 (no overlong)   90..BF
 *      N3F4   3 to go after F4 (<= U+10FFFF)   80..8F
 *      REJ    failed (absorbing)
 *
 *    It is run as a "shift DFA": for each byte b, rows[b] packs the next state
 *    of every state into 6-bit fields, and a state is stored as its field's bit
 *    offset, so one step is `st = rows[b] >> st` - a single shift on the
 *    dependency chain (x86 masks shift counts to 6 bits, so the bits above the
 *    current field may hold junk until the final `& 63`).
 *
 * 2. Bulk validators using the lookup-table method of Keiser and Lemire
 *    ("Validating UTF-8 In Less Than One Instruction Per Byte", 2021), written
 *    here from the paper's description. For every byte position the error
 *    classes that can apply to the pair (previous byte, this byte) are
 *    looked up three times by nibble - previous byte's high nibble, previous
 *    byte's low nibble, this byte's high nibble - and ANDed, so a bit survives
 *    only if all three nibbles allow that error. Bits (derived below):
 *
 *      SHORT   0x01  lead (11xxxxxx) followed by a non-continuation
 *      LONG    0x02  ASCII followed by a continuation
 *      OVL2    0x04  C0/C1 followed by a continuation (2-byte overlong)
 *      OVL3    0x08  E0 followed by 80..9F (3-byte overlong)
 *      SURR    0x10  ED followed by A0..BF (surrogates)
 *      F_8     0x20  F0 followed by 80..8F (4-byte overlong) or
 *                    F5..FF followed by 80..8F (above U+10FFFF). One bit
 *                    serves both: high nibble F x low nibble {0,5..F} x
 *                    second high nibble 8 contains only those two cases.
 *      F_9AB   0x40  F4..FF followed by 90..BF (above U+10FFFF)
 *      CONT2   0x80  continuation followed by continuation: right exactly
 *                    when this byte is the 3rd/4th byte of a sequence
 *
 *    The three tables (index = nibble value 0..F):
 *      prev high: 0-7 LONG=02; 8-B CONT2=80; C SHORT|OVL2=05; D SHORT=01;
 *                 E SHORT|OVL3|SURR=19; F SHORT|F_8|F_9AB=61
 *      prev low:  every entry has SHORT|LONG|CONT2 (83); plus 0: OVL2|OVL3|F_8
 *                 (AF); 1: OVL2 (87); 2,3: 83; 4: F_9AB (C3); 5-C,E,F:
 *                 F_8|F_9AB (E3); D: SURR|F_8|F_9AB (F3)
 *      this high: 0-7 SHORT=01; 8 LONG|CONT2|OVL2|OVL3|F_8=AE;
 *                 9 LONG|CONT2|OVL2|OVL3|F_9AB=CE; A,B LONG|CONT2|OVL2|SURR|F_9AB=D6;
 *                 C-F SHORT=01
 *    (E.g. F4 90: 61 & C3 & CE = 40, an error; F4 8F: 61 & C3 & AE = 00.)
 *    Separately, "must be a continuation" = the byte two back is >= E0 or the
 *    byte three back is >= F0; saturating subtraction of 0x60 resp. 0x70 puts
 *    that in bit 7. XORing it into the looked-up bits cancels CONT2 exactly
 *    where two continuations in a row are required and flags a missing one.
 *    A byte is bad where the result is non-zero.
 *
 *    What this does not see by itself: whether the very last byte checked is
 *    a bad lead (C0, C1, F5..FF are only caught by the byte after them) and
 *    whether the input ends inside a sequence. So the bulk scan returns the
 *    first flagged position f (or the end): everything before f-1 is then a
 *    valid prefix, and the DFA restarts at the last sequence start before f
 *    (at most 4 bytes back, a character boundary) to settle the rest. That is
 *    at most a few bytes when all is well (the tail), and on an error it stops
 *    at the exact first bad byte, which is what fail-fast reporting needs.
 */
#include "proto/utf8.h"

#include <string.h>

#include "proto/utf8_impl.h"

#if (defined(__x86_64__) || defined(_M_X64)) && (defined(__GNUC__) || defined(__clang__)) && \
    !defined(WSC_NO_SIMD)
#define WSC_UTF8_X86 1
#include <immintrin.h>
#else
#define WSC_UTF8_X86 0
#endif

/* ---- the DFA ------------------------------------------------------------ */

/* States as bit offsets of their 6-bit field. ACC must be 0 (utf8.h). */
enum { ACC = 0, N1 = 6, N2 = 12, N2E0 = 18, N2ED = 24, N3 = 30, N3F0 = 36, N3F4 = 42, REJ = 48 };

/* One row: the next state for each current state, in table order. */
#define ROW(acc, n1, n2, n2e0, n2ed, n3, n3f0, n3f4)                                          \
  (((uint64_t)(acc) << ACC) | ((uint64_t)(n1) << N1) | ((uint64_t)(n2) << N2) |              \
   ((uint64_t)(n2e0) << N2E0) | ((uint64_t)(n2ed) << N2ED) | ((uint64_t)(n3) << N3) |        \
   ((uint64_t)(n3f0) << N3F0) | ((uint64_t)(n3f4) << N3F4) | ((uint64_t)REJ << REJ))
/*                                  ACC   N1   N2   N2E0 N2ED N3   N3F0 N3F4 */
#define R_ASCII /* 00..7F */    ROW(ACC,  REJ, REJ, REJ, REJ, REJ, REJ, REJ)
#define R_C80 /* 80..8F */      ROW(REJ,  ACC, N1,  REJ, N1,  N2,  REJ, N2)
#define R_C90 /* 90..9F */      ROW(REJ,  ACC, N1,  REJ, N1,  N2,  N2,  REJ)
#define R_CA0 /* A0..BF */      ROW(REJ,  ACC, N1,  N1,  REJ, N2,  N2,  REJ)
#define R_L2 /* C2..DF */       ROW(N1,   REJ, REJ, REJ, REJ, REJ, REJ, REJ)
#define R_E0 /* E0 */           ROW(N2E0, REJ, REJ, REJ, REJ, REJ, REJ, REJ)
#define R_L3 /* E1..EC EE EF */ ROW(N2,   REJ, REJ, REJ, REJ, REJ, REJ, REJ)
#define R_ED /* ED */           ROW(N2ED, REJ, REJ, REJ, REJ, REJ, REJ, REJ)
#define R_F0 /* F0 */           ROW(N3F0, REJ, REJ, REJ, REJ, REJ, REJ, REJ)
#define R_L4 /* F1..F3 */       ROW(N3,   REJ, REJ, REJ, REJ, REJ, REJ, REJ)
#define R_F4 /* F4 */           ROW(N3F4, REJ, REJ, REJ, REJ, REJ, REJ, REJ)
#define R_BAD /* C0 C1 F5..FF */ ROW(REJ, REJ, REJ, REJ, REJ, REJ, REJ, REJ)

static const uint64_t rows[256] = {
    [0x00 ... 0x7F] = R_ASCII, [0x80 ... 0x8F] = R_C80, [0x90 ... 0x9F] = R_C90,
    [0xA0 ... 0xBF] = R_CA0,   [0xC0 ... 0xC1] = R_BAD, [0xC2 ... 0xDF] = R_L2,
    [0xE0] = R_E0,             [0xE1 ... 0xEC] = R_L3,  [0xED] = R_ED,
    [0xEE ... 0xEF] = R_L3,    [0xF0] = R_F0,           [0xF1 ... 0xF3] = R_L4,
    [0xF4] = R_F4,             [0xF5 ... 0xFF] = R_BAD,
};

/* Stores the verdict: state, and on failure *bad. */
static int reject(wsc__utf8 *v, size_t at, size_t *bad) {
  v->state = REJ;
  if (bad) *bad = at;
  return -1;
}

int wsc__utf8_feed_scalar(wsc__utf8 *v, const uint8_t *p, size_t n, size_t *bad) {
  uint64_t st = v->state;
  if (st == REJ) return reject(v, 0, bad);
  for (size_t i = 0; i < n; i++) {
    st = (rows[p[i]] >> st) & 63;
    if (st == REJ) return reject(v, i, bad);
  }
  v->state = (uint32_t)st;
  return 0;
}

/* The DFA for the fast paths: 8 steps between checks (REJ absorbs, so a
 * failed group is replayed to find the byte). Runs p[0..n) from *stp; returns
 * n, or the index of the first bad byte (and *stp = REJ). */
static size_t dfa_run(uint64_t *stp, const uint8_t *p, size_t n) {
  uint64_t st = *stp;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t s0 = st;
    for (int j = 0; j < 8; j++) st = rows[p[i + j]] >> (st & 63);
    if ((st & 63) == REJ) {
      st = s0;
      for (;; i++) {
        st = rows[p[i]] >> (st & 63);
        if ((st & 63) == REJ) break;
      }
      *stp = REJ;
      return i;
    }
  }
  for (; i < n; i++) {
    st = rows[p[i]] >> (st & 63);
    if ((st & 63) == REJ) {
      *stp = REJ;
      return i;
    }
  }
  *stp = st & 63;
  return n;
}

static int is_ascii8(const uint8_t *p) {
  uint64_t w;
  memcpy(&w, p, 8);
  return (w & 0x8080808080808080ull) == 0;
}

/* Finish any sequence left open by the previous call. Returns 1 if the feed
 * is complete (result in *ret), else 0 with *i at a character boundary. */
static int resume(wsc__utf8 *v, const uint8_t *p, size_t n, size_t *bad, size_t *i, int *ret) {
  uint64_t st = v->state;
  *i = 0;
  if (st == ACC) return 0;
  if (st == REJ) {
    *ret = reject(v, 0, bad);
    return 1;
  }
  size_t k = 0;
  while (k < n && st != ACC) {
    st = (rows[p[k]] >> st) & 63;
    if (st == REJ) {
      *ret = reject(v, k, bad);
      return 1;
    }
    k++;
  }
  v->state = (uint32_t)st;
  if (st != ACC) { /* input ended inside the sequence */
    *ret = 0;
    return 1;
  }
  *i = k;
  return 0;
}

/* Without SIMD: skip ASCII 16 bytes at a time while at a boundary, run the
 * DFA over the rest in 64-byte pieces. */
static int feed_words(wsc__utf8 *v, const uint8_t *p, size_t n, size_t *bad) {
  size_t i;
  int ret;
  if (resume(v, p, n, bad, &i, &ret)) return ret;
  uint64_t st = ACC;
  while (i < n) {
    if (st == ACC)
      while (i + 16 <= n && is_ascii8(p + i) && is_ascii8(p + i + 8)) i += 16;
    size_t e = n - i > 64 ? i + 64 : n;
    size_t r = dfa_run(&st, p + i, e - i);
    if (st == REJ) return reject(v, i + r, bad);
    i = e;
  }
  v->state = (uint32_t)st;
  return 0;
}

#if WSC_UTF8_X86

/* Nibble tables (see the top of the file), one 16-byte copy per lane. */
#define UTF8_T_PREV_HIGH \
  0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x80, 0x80, 0x80, 0x80, 0x05, 0x01, 0x19, 0x61
#define UTF8_T_PREV_LOW \
  0xAF, 0x87, 0x83, 0x83, 0xC3, 0xE3, 0xE3, 0xE3, 0xE3, 0xE3, 0xE3, 0xE3, 0xE3, 0xF3, 0xE3, 0xE3
#define UTF8_T_THIS_HIGH \
  0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0xAE, 0xCE, 0xD6, 0xD6, 0x01, 0x01, 0x01, 0x01

/* ---- AVX2: 32 bytes per vector ---- */

#define A8(a, b, c, d, e, f, g, h) \
  (char)(a), (char)(b), (char)(c), (char)(d), (char)(e), (char)(f), (char)(g), (char)(h)
#define A16(a0, a1, a2, a3, a4, a5, a6, a7, b0, b1, b2, b3, b4, b5, b6, b7) \
  A8(a0, a1, a2, a3, a4, a5, a6, a7), A8(b0, b1, b2, b3, b4, b5, b6, b7)
#define TABLE16(t) A16(t) /* t expands to 16 arguments before A16 sees them */

/* Non-zero bytes where cur (preceded by prev, the previous 32 bytes) errs. */
__attribute__((target("avx2"))) static inline __m256i check32(__m256i cur, __m256i prev) {
  const __m256i t_ph = _mm256_setr_epi8(TABLE16(UTF8_T_PREV_HIGH), TABLE16(UTF8_T_PREV_HIGH));
  const __m256i t_pl = _mm256_setr_epi8(TABLE16(UTF8_T_PREV_LOW), TABLE16(UTF8_T_PREV_LOW));
  const __m256i t_th = _mm256_setr_epi8(TABLE16(UTF8_T_THIS_HIGH), TABLE16(UTF8_T_THIS_HIGH));
  const __m256i nib = _mm256_set1_epi8(0x0F);
  /* [prev high half, cur low half]: alignr works per 128-bit lane, so this
   * supplies each lane's predecessor bytes. */
  __m256i t = _mm256_permute2x128_si256(prev, cur, 0x21);
  __m256i p1 = _mm256_alignr_epi8(cur, t, 15);
  __m256i p2 = _mm256_alignr_epi8(cur, t, 14);
  __m256i p3 = _mm256_alignr_epi8(cur, t, 13);
  __m256i ph = _mm256_shuffle_epi8(t_ph, _mm256_and_si256(_mm256_srli_epi16(p1, 4), nib));
  __m256i pl = _mm256_shuffle_epi8(t_pl, _mm256_and_si256(p1, nib));
  __m256i th = _mm256_shuffle_epi8(t_th, _mm256_and_si256(_mm256_srli_epi16(cur, 4), nib));
  __m256i sc = _mm256_and_si256(_mm256_and_si256(ph, pl), th);
  __m256i must = _mm256_or_si256(_mm256_subs_epu8(p2, _mm256_set1_epi8(0x60)),
                                 _mm256_subs_epu8(p3, _mm256_set1_epi8(0x70)));
  return _mm256_xor_si256(sc, _mm256_and_si256(must, _mm256_set1_epi8((char)0x80)));
}

/* Non-zero if the last bytes of v start a sequence that needs more bytes. */
__attribute__((target("avx2"))) static inline __m256i open32(__m256i v) {
  const __m256i max = _mm256_setr_epi8(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                       -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                       (char)0xEF, (char)0xDF, (char)0xBF);
  return _mm256_subs_epu8(v, max);
}

__attribute__((target("avx2"))) static inline uint32_t bad_bits32(__m256i err) {
  return ~(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(err, _mm256_setzero_si256()));
}

/* First flagged position of p[0..n) (p[0] at a boundary), or n. */
__attribute__((target("avx2"))) static size_t scan_avx2(const uint8_t *p, size_t n) {
  __m256i prev = _mm256_setzero_si256();
  size_t k = 0;
  const __m256i high = _mm256_set1_epi8((char)0x80);
  while (k + 64 <= n) {
    __m256i a = _mm256_loadu_si256((const __m256i *)(const void *)(p + k));
    __m256i b = _mm256_loadu_si256((const __m256i *)(const void *)(p + k + 32));
    if (_mm256_testz_si256(_mm256_or_si256(a, b), high)) {
      /* ASCII acts like the zero bytes before the start: only a sequence
       * left open by prev can fail here. */
      __m256i o = open32(prev);
      if (_mm256_testz_si256(o, o)) {
        /* An ASCII run: nothing to carry over; skip 128 bytes at a time. */
        prev = _mm256_setzero_si256();
        k += 64;
        while (k + 128 <= n) {
          __m256i c0 = _mm256_loadu_si256((const __m256i *)(const void *)(p + k));
          __m256i c1 = _mm256_loadu_si256((const __m256i *)(const void *)(p + k + 32));
          __m256i c2 = _mm256_loadu_si256((const __m256i *)(const void *)(p + k + 64));
          __m256i c3 = _mm256_loadu_si256((const __m256i *)(const void *)(p + k + 96));
          __m256i any = _mm256_or_si256(_mm256_or_si256(c0, c1), _mm256_or_si256(c2, c3));
          if (!_mm256_testz_si256(any, high)) break;
          k += 128;
        }
        continue;
      }
    }
    __m256i ea = check32(a, prev), eb = check32(b, a);
    __m256i e = _mm256_or_si256(ea, eb);
    if (!_mm256_testz_si256(e, e)) {
      uint64_t m = (uint64_t)bad_bits32(ea) | (uint64_t)bad_bits32(eb) << 32;
      return k + (size_t)__builtin_ctzll(m);
    }
    prev = b;
    k += 64;
  }
  if (k + 32 <= n) {
    __m256i a = _mm256_loadu_si256((const __m256i *)(const void *)(p + k));
    uint32_t m = bad_bits32(check32(a, prev));
    if (m) return k + (size_t)__builtin_ctz(m);
    prev = a;
    k += 32;
  }
  if (k < n) { /* the last 1..31 bytes, zero-padded; flags past n ignored */
    uint8_t tmp[32] = {0};
    size_t r = n - k;
    memcpy(tmp, p + k, r);
    __m256i a = _mm256_loadu_si256((const __m256i *)(const void *)tmp);
    uint32_t m = bad_bits32(check32(a, prev)) & (((uint32_t)1 << r) - 1);
    if (m) return k + (size_t)__builtin_ctz(m);
  }
  return n;
}

/* ---- SSSE3: 16 bytes per vector (x86-64 without AVX2) ---- */

__attribute__((target("ssse3"))) static inline __m128i check16(__m128i cur, __m128i prev) {
  const __m128i t_ph = _mm_setr_epi8(TABLE16(UTF8_T_PREV_HIGH));
  const __m128i t_pl = _mm_setr_epi8(TABLE16(UTF8_T_PREV_LOW));
  const __m128i t_th = _mm_setr_epi8(TABLE16(UTF8_T_THIS_HIGH));
  const __m128i nib = _mm_set1_epi8(0x0F);
  __m128i p1 = _mm_alignr_epi8(cur, prev, 15);
  __m128i p2 = _mm_alignr_epi8(cur, prev, 14);
  __m128i p3 = _mm_alignr_epi8(cur, prev, 13);
  __m128i ph = _mm_shuffle_epi8(t_ph, _mm_and_si128(_mm_srli_epi16(p1, 4), nib));
  __m128i pl = _mm_shuffle_epi8(t_pl, _mm_and_si128(p1, nib));
  __m128i th = _mm_shuffle_epi8(t_th, _mm_and_si128(_mm_srli_epi16(cur, 4), nib));
  __m128i sc = _mm_and_si128(_mm_and_si128(ph, pl), th);
  __m128i must = _mm_or_si128(_mm_subs_epu8(p2, _mm_set1_epi8(0x60)),
                              _mm_subs_epu8(p3, _mm_set1_epi8(0x70)));
  return _mm_xor_si128(sc, _mm_and_si128(must, _mm_set1_epi8((char)0x80)));
}

__attribute__((target("ssse3"))) static inline uint32_t bad_bits16(__m128i err) {
  return ~(uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(err, _mm_setzero_si128())) & 0xFFFF;
}

__attribute__((target("ssse3"))) static size_t scan_ssse3(const uint8_t *p, size_t n) {
  const __m128i max = _mm_setr_epi8(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, (char)0xEF,
                                    (char)0xDF, (char)0xBF);
  __m128i prev = _mm_setzero_si128();
  size_t k = 0;
  for (; k + 64 <= n; k += 64) {
    __m128i a = _mm_loadu_si128((const __m128i *)(const void *)(p + k));
    __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(p + k + 16));
    __m128i c = _mm_loadu_si128((const __m128i *)(const void *)(p + k + 32));
    __m128i d = _mm_loadu_si128((const __m128i *)(const void *)(p + k + 48));
    __m128i any = _mm_or_si128(_mm_or_si128(a, b), _mm_or_si128(c, d));
    if (_mm_movemask_epi8(any) == 0 &&
        _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_subs_epu8(prev, max), _mm_setzero_si128())) ==
            0xFFFF) {
      prev = _mm_setzero_si128();
      continue;
    }
    __m128i ea = check16(a, prev), eb = check16(b, a), ec = check16(c, b), ed = check16(d, c);
    __m128i e = _mm_or_si128(_mm_or_si128(ea, eb), _mm_or_si128(ec, ed));
    if (_mm_movemask_epi8(_mm_cmpeq_epi8(e, _mm_setzero_si128())) != 0xFFFF) {
      uint64_t m = (uint64_t)bad_bits16(ea) | (uint64_t)bad_bits16(eb) << 16 |
                   (uint64_t)bad_bits16(ec) << 32 | (uint64_t)bad_bits16(ed) << 48;
      return k + (size_t)__builtin_ctzll(m);
    }
    prev = d;
  }
  for (; k + 16 <= n; k += 16) {
    __m128i a = _mm_loadu_si128((const __m128i *)(const void *)(p + k));
    uint32_t m = bad_bits16(check16(a, prev));
    if (m) return k + (size_t)__builtin_ctz(m);
    prev = a;
  }
  if (k < n) {
    uint8_t tmp[16] = {0};
    size_t r = n - k;
    memcpy(tmp, p + k, r);
    __m128i a = _mm_loadu_si128((const __m128i *)(const void *)tmp);
    uint32_t m = bad_bits16(check16(a, prev)) & (((uint32_t)1 << r) - 1);
    if (m) return k + (size_t)__builtin_ctz(m);
  }
  return n;
}

/* Finish a feed with the DFA from position q (a character boundary) of p. */
static int dfa_finish(wsc__utf8 *v, const uint8_t *p, size_t q, size_t n, size_t *bad) {
  uint64_t st = ACC;
  size_t r = dfa_run(&st, p + q, n - q);
  if (st == REJ) return reject(v, q + r, bad);
  v->state = (uint32_t)st;
  return 0;
}

/* The start of the last sequence before position f of p, searching back at
 * most 4 bytes and not before lo (a boundary): when every byte before f - 1
 * is known to be a valid prefix from lo, that is a character boundary. */
static size_t last_seq_start(const uint8_t *p, size_t lo, size_t f) {
  size_t lim = f - lo > 4 ? f - 4 : lo, q = f;
  while (q > lim) {
    q--;
    if ((p[q] & 0xC0) != 0x80) return q;
  }
  return lo; /* four continuations: not a valid prefix; restart safely at lo */
}

/* Shared driver: finish an open sequence with the DFA, bulk-scan the rest,
 * settle the last sequence (or locate the error) with the DFA. */
static inline int feed_bulk(size_t (*scan)(const uint8_t *, size_t), wsc__utf8 *v,
                            const uint8_t *p, size_t n, size_t *bad) {
  size_t i;
  int ret;
  if (resume(v, p, n, bad, &i, &ret)) return ret;
  if (n - i < 16) return dfa_finish(v, p, i, n, bad);
  size_t f = i + scan(p + i, n - i);
  return dfa_finish(v, p, last_seq_start(p, i, f), n, bad);
}

static int feed_avx2(wsc__utf8 *v, const uint8_t *p, size_t n, size_t *bad) {
  return feed_bulk(scan_avx2, v, p, n, bad);
}
static int feed_ssse3(wsc__utf8 *v, const uint8_t *p, size_t n, size_t *bad) {
  return feed_bulk(scan_ssse3, v, p, n, bad);
}

static int cpu_has(int which) {
  __builtin_cpu_init();
  return which == 2 ? __builtin_cpu_supports("avx2") : __builtin_cpu_supports("ssse3");
}
#endif /* WSC_UTF8_X86 */

/* ---- dispatch ------------------------------------------------------------ */

#define NIMPLS 5
static wsc__utf8_impl impls[NIMPLS];
static int impls_ready;

const wsc__utf8_impl *wsc__utf8_impls(void) {
  if (__atomic_load_n(&impls_ready, __ATOMIC_ACQUIRE)) return impls;
  /* Racing callers store identical values; the release store publishes them. */
  wsc__utf8_impl t[NIMPLS];
  int n = 0;
  t[n++] = (wsc__utf8_impl){"scalar", wsc__utf8_feed_scalar, 1};
  t[n++] = (wsc__utf8_impl){"words", feed_words, 1};
#if WSC_UTF8_X86
  t[n++] = (wsc__utf8_impl){"ssse3", feed_ssse3, cpu_has(1)};
  t[n++] = (wsc__utf8_impl){"avx2", feed_avx2, cpu_has(2)};
#endif
  t[n++] = (wsc__utf8_impl){NULL, NULL, 0};
  for (int i = 0; i < n; i++) {
    __atomic_store_n(&impls[i].name, t[i].name, __ATOMIC_RELAXED);
    __atomic_store_n(&impls[i].feed, t[i].feed, __ATOMIC_RELAXED);
    __atomic_store_n(&impls[i].available, t[i].available, __ATOMIC_RELAXED);
  }
  __atomic_store_n(&impls_ready, 1, __ATOMIC_RELEASE);
  return impls;
}

static const wsc__utf8_impl *best_impl(void) {
  const wsc__utf8_impl *all = wsc__utf8_impls(), *best = &all[0];
  for (const wsc__utf8_impl *m = all; m->name; m++)
    if (m->available) best = m;
  return best;
}

static wsc__utf8_fn chosen;

const char *wsc__utf8_impl_name(void) { return best_impl()->name; }

int wsc__utf8_feed(wsc__utf8 *v, const uint8_t *p, size_t n, size_t *bad) {
  if (n == 0) return wsc__utf8_feed_scalar(v, p, 0, bad); /* p may be NULL */
  wsc__utf8_fn fn = __atomic_load_n(&chosen, __ATOMIC_ACQUIRE);
  if (!fn) {
    fn = best_impl()->feed;
    __atomic_store_n(&chosen, fn, __ATOMIC_RELEASE);
  }
  return fn(v, p, n, bad);
}

int wsc__utf8_finish(const wsc__utf8 *v) { return v->state == ACC ? 0 : -1; }

int wsc__utf8_valid(const uint8_t *p, size_t n) {
  wsc__utf8 v;
  wsc__utf8_init(&v);
  if (wsc__utf8_feed(&v, p, n, NULL) != 0) return -1;
  return wsc__utf8_finish(&v);
}
