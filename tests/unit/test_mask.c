/* test_mask.c - RFC 6455 section 5.3 masking: every implementation against a
 * byte-by-byte reference, at every length up to 300, every phase, many
 * alignments, in place and copying, and in pieces. */
#include "proto/mask.h"

#include "test.h"

/* The reference, written from the RFC: octet i of the transformed data is
 * octet i of the original XOR octet (i + phase) mod 4 of the key. */
static unsigned ref_mask(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t key[4],
                         unsigned phase) {
  for (size_t i = 0; i < len; i++) dst[i] = src[i] ^ key[(i + phase) % 4];
  return (unsigned)((phase + len) % 4);
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(void) { /* xorshift64*, fixed seed: reproducible */
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return (uint32_t)((rng_state * 0x2545F4914F6CDD1Dull) >> 32);
}
static void fill_random(uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++) p[i] = (uint8_t)rnd();
}

static const uint8_t keys[][4] = {
    {0x37, 0xfa, 0x21, 0x3d}, {0x00, 0x00, 0x00, 0x00}, {0xff, 0xff, 0xff, 0xff},
    {0x01, 0x80, 0x7f, 0xfe}};

TEST(mask_rfc6455_example) {
  /* RFC 6455 section 5.7: "Hello" masked with 37 fa 21 3d. */
  static const uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d};
  static const uint8_t want[5] = {0x7f, 0x9f, 0x4d, 0x51, 0x58};
  for (const wsc__mask_impl *m = wsc__mask_impls(); m->name; m++) {
    if (!m->available) continue;
    uint8_t buf[5];
    memcpy(buf, "Hello", 5);
    CHECK_EQ(m->fn(buf, buf, 5, key, 0), 1);
    CHECK_MEM(buf, want, 5);
  }
  uint8_t buf[5];
  memcpy(buf, "Hello", 5);
  CHECK_EQ(wsc__mask(buf, 5, key, 0), 1);
  CHECK_MEM(buf, want, 5);
  CHECK_EQ(wsc__mask(buf, 5, key, 0), 1);
  CHECK_MEM(buf, "Hello", 5);
}

TEST(mask_impl_table) {
  const wsc__mask_impl *all = wsc__mask_impls();
  int n = 0, have_bytes = 0, have_words = 0, chosen_listed = 0;
  const char *chosen = wsc__mask_impl_name();
  CHECK(chosen != NULL);
  for (const wsc__mask_impl *m = all; m->name; m++, n++) {
    CHECK(m->fn != NULL);
    for (const wsc__mask_impl *o = all; o != m; o++) CHECK(strcmp(o->name, m->name) != 0);
    if (strcmp(m->name, "bytes") == 0) have_bytes = m->available;
    if (strcmp(m->name, "words") == 0) have_words = m->available;
    if (strcmp(m->name, chosen) == 0) chosen_listed = m->available;
  }
  CHECK(n >= 2);
  CHECK(have_bytes && have_words);
  CHECK(chosen_listed);
  CHECK(wsc__mask_impls() == all);
#if defined(__x86_64__) && !defined(WSC_NO_SIMD)
  CHECK(strcmp(chosen, "bytes") != 0 && strcmp(chosen, "words") != 0); /* SSE2 at least */
#endif
}

/* Copying: every impl, lengths 0..300, phases 0..3, source and destination
 * offsets 0..63 (mod 64 against a 64-aligned base), guard bytes untouched. */
TEST(mask_impls_copy_all_lengths_phases_alignments) {
  enum { MAXLEN = 300, PAD = 64 };
  static _Alignas(64) uint8_t src[MAXLEN + 2 * PAD], dst[MAXLEN + 2 * PAD], want[MAXLEN];
  fill_random(src, sizeof src);
  for (const wsc__mask_impl *m = wsc__mask_impls(); m->name; m++) {
    if (!m->available) continue;
    for (size_t len = 0; len <= MAXLEN; len++)
      for (unsigned phase = 0; phase < 4; phase++)
        for (size_t so = 0; so < 64; so += (len < 80 ? 1 : 5)) {
          size_t dof = (so * 37 + len) % 64;
          const uint8_t *key = keys[(len + so) % 4];
          memset(dst, 0xA5, sizeof dst);
          unsigned want_phase = ref_mask(want, src + so, len, key, phase);
          unsigned got = m->fn(dst + dof, src + so, len, key, phase);
          if (got != want_phase || memcmp(dst + dof, want, len) != 0)
            wsc_test_fail(__FILE__, __LINE__, "%s len %zu phase %u src+%zu dst+%zu: wrong", m->name,
                          len, phase, so, dof);
          for (size_t i = 0; i < dof; i++) CHECK_EQ(dst[i], 0xA5);
          for (size_t i = dof + len; i < sizeof dst; i++) CHECK_EQ(dst[i], 0xA5);
        }
  }
}

TEST(mask_impls_inplace_all_lengths_phases_alignments) {
  enum { MAXLEN = 300, PAD = 64 };
  static _Alignas(64) uint8_t orig[MAXLEN + 2 * PAD], buf[MAXLEN + 2 * PAD], want[MAXLEN];
  fill_random(orig, sizeof orig);
  for (const wsc__mask_impl *m = wsc__mask_impls(); m->name; m++) {
    if (!m->available) continue;
    for (size_t len = 0; len <= MAXLEN; len++)
      for (unsigned phase = 0; phase < 4; phase++)
        for (size_t off = 0; off < 64; off += (len < 80 ? 1 : 3)) {
          const uint8_t *key = keys[(len + off + phase) % 4];
          memcpy(buf, orig, sizeof buf);
          unsigned want_phase = ref_mask(want, orig + off, len, key, phase);
          unsigned got = m->fn(buf + off, buf + off, len, key, phase);
          if (got != want_phase || memcmp(buf + off, want, len) != 0)
            wsc_test_fail(__FILE__, __LINE__, "%s in place len %zu phase %u off %zu: wrong",
                          m->name, len, phase, off);
          CHECK_MEM(buf, orig, off);
          CHECK_MEM(buf + off + len, orig + off + len, sizeof buf - off - len);
        }
  }
}

/* The public entry points (they take a short-length shortcut, then dispatch). */
TEST(mask_dispatch_matches_reference) {
  enum { MAXLEN = 300 };
  static uint8_t orig[MAXLEN + 64], buf[MAXLEN + 64], copy[MAXLEN + 64], want[MAXLEN];
  fill_random(orig, sizeof orig);
  for (size_t len = 0; len <= MAXLEN; len++)
    for (unsigned phase = 0; phase < 4; phase++)
      for (size_t off = 0; off < 64; off += 7) {
        const uint8_t *key = keys[(len + off) % 4];
        unsigned wp = ref_mask(want, orig + off, len, key, phase);
        memcpy(buf, orig, sizeof buf);
        CHECK_EQ(wsc__mask(buf + off, len, key, phase), wp);
        CHECK_MEM(buf + off, want, len);
        memset(copy, 0, sizeof copy);
        CHECK_EQ(wsc__mask_copy(copy + (63 - off), orig + off, len, key, phase), wp);
        CHECK_MEM(copy + (63 - off), want, len);
      }
}

/* dst == src through wsc__mask_copy gives the same as wsc__mask; the copying
 * form leaves its source alone. */
TEST(mask_copy_vs_inplace) {
  enum { N = 4099 };
  static uint8_t orig[N], a[N], b[N], src[N];
  fill_random(orig, N);
  static const uint8_t key[4] = {0xde, 0xad, 0xbe, 0xef};
  for (unsigned phase = 0; phase < 4; phase++) {
    memcpy(a, orig, N);
    memcpy(src, orig, N);
    unsigned pa = wsc__mask(a, N, key, phase);
    unsigned pb = wsc__mask_copy(b, src, N, key, phase);
    CHECK_EQ(pa, pb);
    CHECK_MEM(a, b, N);
    CHECK_MEM(src, orig, N);
    memcpy(b, orig, N);
    CHECK_EQ(wsc__mask_copy(b, b, N, key, phase), pa);
    CHECK_MEM(a, b, N);
  }
}

/* Large buffers at odd lengths and alignments, every impl. */
TEST(mask_impls_large_buffers) {
  static const size_t lens[] = {4096, 65535, 65536 + 13, (1u << 20) + 7, (1u << 20)};
  size_t cap = (1u << 20) + 128;
  uint8_t *orig = malloc(cap), *buf = malloc(cap), *want = malloc(cap), *out = malloc(cap);
  CHECK(orig && buf && want && out);
  fill_random(orig, cap);
  static const uint8_t key[4] = {0x12, 0x34, 0x56, 0x78};
  for (const wsc__mask_impl *m = wsc__mask_impls(); m->name; m++) {
    if (!m->available) continue;
    for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++)
      for (size_t off = 0; off < 64; off += 21) {
        size_t len = lens[li];
        unsigned phase = (unsigned)(off + li) % 4;
        unsigned wp = ref_mask(want, orig + off, len, key, phase);
        memcpy(buf, orig, cap);
        CHECK_EQ(m->fn(buf + off, buf + off, len, key, phase), wp);
        CHECK_MEM(buf + off, want, len);
        CHECK_MEM(buf + off + len, orig + off + len, cap - off - len);
        CHECK_EQ(m->fn(out + 3, orig + off, len, key, phase), wp);
        CHECK_MEM(out + 3, want, len);
      }
  }
  free(orig);
  free(buf);
  free(want);
  free(out);
}

/* A payload masked in random pieces, each continuing at the returned phase,
 * equals the payload masked in one go. */
TEST(mask_phase_continuation) {
  enum { N = 5000 };
  static uint8_t orig[N], whole[N], pieces[N];
  fill_random(orig, N);
  static const uint8_t key[4] = {0xa1, 0xb2, 0xc3, 0xd4};
  ref_mask(whole, orig, N, key, 0);
  for (int round = 0; round < 50; round++) {
    for (const wsc__mask_impl *m = wsc__mask_impls(); m->name; m++) {
      if (!m->available) continue;
      memcpy(pieces, orig, N);
      unsigned phase = 0;
      size_t at = 0;
      while (at < N) {
        size_t piece = rnd() % (round < 25 ? 9 : 700);
        if (piece > N - at) piece = N - at;
        phase = m->fn(pieces + at, pieces + at, piece, key, phase);
        CHECK_EQ(phase, (at + piece) % 4);
        at += piece;
      }
      CHECK_MEM(pieces, whole, N);
    }
    memcpy(pieces, orig, N);
    unsigned phase = 0;
    for (size_t at = 0; at < N;) {
      size_t piece = rnd() % 300;
      if (piece > N - at) piece = N - at;
      phase = wsc__mask(pieces + at, piece, key, phase);
      at += piece;
    }
    CHECK_MEM(pieces, whole, N);
  }
}

/* Masking is an involution, and a payload starting at phase p equals the tail
 * of a payload starting at phase 0 from offset p. */
TEST(mask_involution_and_phase_offset) {
  enum { N = 777 };
  static uint8_t orig[N + 4], a[N + 4], b[N];
  fill_random(orig, sizeof orig);
  static const uint8_t key[4] = {0x0f, 0xf0, 0x55, 0xaa};
  memcpy(a, orig, sizeof a);
  wsc__mask(a, sizeof a, key, 0);
  CHECK(memcmp(a, orig, sizeof a) != 0);
  for (unsigned p = 0; p < 4; p++) {
    CHECK_EQ(wsc__mask_copy(b, orig + p, N, key, p), (p + N) % 4);
    CHECK_MEM(b, a + p, N);
  }
  wsc__mask(a, sizeof a, key, 0);
  CHECK_MEM(a, orig, sizeof a);
}

/* The returned phase is (phase + len) mod 4 for every impl, even len 0. */
TEST(mask_returns_next_phase) {
  static const uint8_t key[4] = {1, 2, 3, 4};
  uint8_t buf[64] = {0};
  for (const wsc__mask_impl *m = wsc__mask_impls(); m->name; m++) {
    if (!m->available) continue;
    for (unsigned phase = 0; phase < 4; phase++)
      for (size_t len = 0; len < 64; len++)
        CHECK_EQ(m->fn(buf, buf, len, key, phase), (phase + len) % 4);
  }
  CHECK_EQ(wsc__mask(NULL, 0, key, 3), 3);
  CHECK_EQ(wsc__mask_copy(NULL, NULL, 0, key, 2), 2);
}
