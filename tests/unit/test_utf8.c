/* test_utf8.c - RFC 3629 UTF-8 validation: the reference DFA against an
 * independent code-point reference, the RFC/Unicode boundary cases, the
 * Autobahn Testsuite section 6 payloads, fail-fast positions, every split
 * point, and every bulk implementation against the DFA on random text. */
#include "proto/utf8.h"

#include "proto/utf8_impl.h"
#include "test.h"

#define S(lit) (const uint8_t *)(lit), sizeof(lit) - 1

/* ---- helpers -------------------------------------------------------------- */

static uint64_t rng_state = 0x243F6A8885A308D3ull;
static uint32_t rnd(void) { /* xorshift64*, fixed seed */
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return (uint32_t)((rng_state * 0x2545F4914F6CDD1Dull) >> 32);
}

/* Independent reference, from code points rather than byte tables: can the
 * partial code point `cp` (the bits seen so far of a len-byte sequence with
 * `have` bytes seen) still become a Unicode scalar value that needs exactly
 * len bytes? */
static int viable(uint32_t cp, int len, int have) {
  int rem = 6 * (len - have);
  uint32_t lo = cp << rem, hi = lo | ((1u << rem) - 1);
  uint32_t min = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
  uint32_t a = lo > min ? lo : min, b = hi < 0x10FFFF ? hi : 0x10FFFF;
  if (a > b) return 0;                      /* overlong or too large */
  if (a >= 0xD800 && b <= 0xDFFF) return 0; /* surrogates only */
  return 1;
}
/* Index of the first byte that cannot continue a valid prefix, or -1; then
 * *complete says whether p ends at a character boundary. */
static long naive_first_bad(const uint8_t *p, size_t n, int *complete) {
  size_t i = 0;
  *complete = 0;
  while (i < n) {
    uint8_t b = p[i];
    int len;
    uint32_t cp;
    if (b < 0x80) {
      i++;
      continue;
    } else if (b >= 0xC0 && b < 0xE0) {
      len = 2, cp = b & 0x1F;
    } else if (b >= 0xE0 && b < 0xF0) {
      len = 3, cp = b & 0x0F;
    } else if (b >= 0xF0 && b < 0xF8) {
      len = 4, cp = b & 0x07;
    } else {
      return (long)i; /* continuation without a lead, or F8..FF */
    }
    if (!viable(cp, len, 1)) return (long)i;
    for (int k = 1; k < len; k++) {
      if (i + (size_t)k >= n) return -1; /* truncated: a valid prefix */
      uint8_t c = p[i + (size_t)k];
      if ((c & 0xC0) != 0x80) return (long)(i + (size_t)k);
      cp = cp << 6 | (c & 0x3F);
      if (!viable(cp, len, k + 1)) return (long)(i + (size_t)k);
    }
    i += (size_t)len;
  }
  *complete = 1;
  return -1;
}

static size_t encode(uint8_t *o, uint32_t cp) {
  if (cp < 0x80) {
    o[0] = (uint8_t)cp;
    return 1;
  } else if (cp < 0x800) {
    o[0] = (uint8_t)(0xC0 | cp >> 6), o[1] = (uint8_t)(0x80 | (cp & 0x3F));
    return 2;
  } else if (cp < 0x10000) {
    o[0] = (uint8_t)(0xE0 | cp >> 12), o[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
    o[2] = (uint8_t)(0x80 | (cp & 0x3F));
    return 3;
  }
  o[0] = (uint8_t)(0xF0 | cp >> 18), o[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3F));
  o[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3F)), o[3] = (uint8_t)(0x80 | (cp & 0x3F));
  return 4;
}

/* A random scalar value, weighted towards real text and the boundaries. */
static uint32_t random_cp(void) {
  static const uint32_t edges[] = {0x0,    0x7F,   0x80,    0x7FF,   0x800,
                                   0xFFF,  0x1000, 0xD7FF,  0xE000,  0xFFFD,
                                   0xFFFF, 0x10000, 0x3FFFF, 0x40000, 0x10FFFF};
  switch (rnd() % 10) {
  case 0: case 1: case 2: return 0x20 + rnd() % 0x5F;           /* ASCII */
  case 3: return 0xC0 + rnd() % 0x40;                            /* Latin-1 accents */
  case 4: return 0x391 + rnd() % 0x39;                           /* Greek */
  case 5: return 0x410 + rnd() % 0x40;                           /* Cyrillic */
  case 6: return 0x4E00 + rnd() % 0x5200;                        /* CJK */
  case 7: return 0x1F600 + rnd() % 0x50;                         /* emoji */
  case 8: return edges[rnd() % (sizeof edges / sizeof edges[0])];
  default: {
    uint32_t cp;
    do cp = rnd() % 0x110000;
    while (cp >= 0xD800 && cp <= 0xDFFF);
    return cp;
  }
  }
}
/* n bytes of valid text (complete characters; ASCII fills the last gap). */
static void random_text(uint8_t *o, size_t n, int ascii_bias) {
  size_t i = 0;
  while (i < n) {
    uint8_t tmp[4];
    uint32_t cp = (int)(rnd() % 100) < ascii_bias ? 0x20 + rnd() % 0x5F : random_cp();
    size_t k = encode(tmp, cp);
    if (k > n - i) {
      o[i++] = 'x';
      continue;
    }
    memcpy(o + i, tmp, k);
    i += k;
  }
}

/* The outcome of one stream: failed (and where, as a stream offset) or not,
 * and whether it ended at a boundary. */
typedef struct {
  int failed;
  size_t bad;
  int complete;
  uint32_t state;
} verdict;

/* Feed p[0..n) to fn in pieces ending at cuts[0] < cuts[1] < ... (n implied). */
static verdict run(wsc__utf8_fn fn, const uint8_t *p, size_t n, const size_t *cuts, size_t ncuts) {
  verdict r = {0, 0, 0, 0};
  wsc__utf8 v;
  wsc__utf8_init(&v);
  size_t at = 0;
  for (size_t c = 0; c <= ncuts; c++) {
    size_t end = c < ncuts ? cuts[c] : n;
    size_t bad = 12345;
    int rc = fn(&v, p + at, end - at, &bad);
    if (rc != 0) {
      CHECK_EQ(rc, -1);
      CHECK(bad < end - at);
      r.failed = 1;
      r.bad = at + bad;
      /* sticky: every later call fails with *bad = 0 */
      size_t bad2 = 999;
      CHECK_EQ(fn(&v, p, n, &bad2), -1);
      CHECK_EQ(bad2, 0);
      CHECK_EQ(fn(&v, p, 0, &bad2), -1);
      CHECK_EQ(bad2, 0);
      CHECK_EQ(fn(&v, p, 0, NULL), -1);
      CHECK_EQ(wsc__utf8_finish(&v), -1);
      return r;
    }
    CHECK_EQ(bad, 12345); /* untouched on success */
    at = end;
  }
  r.complete = wsc__utf8_finish(&v) == 0;
  r.state = v.state;
  return r;
}
static verdict run1(wsc__utf8_fn fn, const uint8_t *p, size_t n) { return run(fn, p, n, NULL, 0); }

#define CHECK_VERDICT(got, want, what)                                                         \
  do {                                                                                         \
    verdict g_ = (got), w_ = (want);                                                           \
    if (g_.failed != w_.failed || (g_.failed && g_.bad != w_.bad) ||                           \
        (!g_.failed && (g_.complete != w_.complete || g_.state != w_.state)))                  \
      wsc_test_fail(__FILE__, __LINE__,                                                        \
                    "%s: got failed=%d bad=%zu complete=%d state=%u, want failed=%d bad=%zu "  \
                    "complete=%d state=%u",                                                    \
                    what, g_.failed, g_.bad, g_.complete, (unsigned)g_.state, w_.failed,        \
                    w_.bad, w_.complete, (unsigned)w_.state);                                  \
  } while (0)

/* Every implementation, plus the dispatching wsc__utf8_feed. */
static size_t all_fns(wsc__utf8_fn *fns, const char **names) {
  size_t k = 0;
  for (const wsc__utf8_impl *m = wsc__utf8_impls(); m->name; m++)
    if (m->available) names[k] = m->name, fns[k++] = m->feed;
  names[k] = "wsc__utf8_feed", fns[k++] = wsc__utf8_feed;
  return k;
}

/* A valid complete string of exactly n bytes: mixed 1-4 byte characters. */
static void filler(uint8_t *o, size_t n, uint32_t seed) {
  static const char *chars[] = {"a", "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80", "Z",
                                "\xCE\xBA", "\xE4\xB8\xAD"};
  size_t i = 0;
  while (i < n) {
    const char *c = chars[(seed++ * 7u) % 7];
    size_t k = strlen(c);
    if (k > n - i) c = "b", k = 1;
    memcpy(o + i, c, k);
    i += k;
  }
}

/* Check one case: the expected first bad index (-1 for none) and, if none,
 * whether it ends at a boundary. For every implementation: one shot, byte by
 * byte, every single split point; wsc__utf8_valid; then again embedded after
 * valid prefixes of many lengths (so the bulk paths, not only the short-input
 * path, see it) and before ASCII suffixes. */
static void expect_case(const uint8_t *p, size_t n, long want_bad, int want_complete) {
  wsc__utf8_fn fns[8];
  const char *names[8];
  size_t nf = all_fns(fns, names);
  int nc;
  long nb = naive_first_bad(p, n, &nc); /* the case itself must agree with the reference */
  CHECK_EQ(nb, want_bad);
  if (want_bad < 0) CHECK_EQ(nc, want_complete);
  verdict want = {want_bad >= 0, want_bad >= 0 ? (size_t)want_bad : 0, want_complete, 0};
  want.state = run1(wsc__utf8_feed_scalar, p, n).state;
  size_t cuts[512];
  CHECK(n < 512);
  for (size_t f = 0; f < nf; f++) {
    CHECK_VERDICT(run1(fns[f], p, n), want, names[f]);
    for (size_t i = 0; i + 1 < n; i++) cuts[i] = i + 1;
    CHECK_VERDICT(run(fns[f], p, n, cuts, n ? n - 1 : 0), want, names[f]);
    for (size_t s = 0; s <= n; s++) {
      cuts[0] = s;
      CHECK_VERDICT(run(fns[f], p, n, cuts, 1), want, names[f]);
    }
  }
  CHECK_EQ(wsc__utf8_valid(p, n), (want_bad < 0 && want_complete) ? 0 : -1);

  static const size_t pres[] = {0, 1, 2, 3, 4, 13, 15, 16, 17, 29, 30, 31, 32, 33, 47, 60,
                                61, 62, 63, 64, 65, 95, 96, 97, 127, 128, 129, 200};
  static const size_t sufs[] = {0, 1, 3, 17, 40, 64, 70};
  uint8_t buf[512];
  for (size_t a = 0; a < sizeof pres / sizeof pres[0]; a++)
    for (size_t b = 0; b < sizeof sufs / sizeof sufs[0]; b++) {
      size_t pre = pres[a], suf = sufs[b], len = pre + n + suf;
      filler(buf, pre, (uint32_t)(a + b));
      memcpy(buf + pre, p, n);
      memset(buf + pre + n, 'z', suf);
      verdict w = {0, 0, 1, 0};
      if (want_bad >= 0)
        w.failed = 1, w.bad = pre + (size_t)want_bad;
      else if (!want_complete && suf > 0)
        w.failed = 1, w.bad = pre + n; /* ASCII where a continuation is due */
      else if (!want_complete)
        w.complete = 0, w.state = want.state;
      for (size_t f = 0; f < nf; f++) {
        CHECK_VERDICT(run1(fns[f], buf, len), w, names[f]);
        cuts[0] = pre;
        cuts[1] = pre + n;
        CHECK_VERDICT(run(fns[f], buf, len, cuts, 2), w, names[f]);
      }
    }
}
#define VALID(lit) expect_case(S(lit), -1, 1)
#define INCOMPLETE(lit) expect_case(S(lit), -1, 0)
#define BAD_AT(lit, i) expect_case(S(lit), i, 0)

/* ---- the reference DFA ---------------------------------------------------- */

/* Every string of 1, 2 and 3 bytes, and 4-byte strings over every lead and
 * second byte with representative third and fourth bytes: the DFA agrees
 * with the code-point reference on the verdict, the bad index and whether
 * the input ended at a boundary. */
TEST(utf8_dfa_matches_codepoint_reference_exhaustive) {
  static const uint8_t reps[] = {0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0,
                                 0xBF, 0xC0, 0xC2, 0xDF, 0xE0, 0xED, 0xF0, 0xF4, 0xFF};
  uint8_t s[4];
  for (uint32_t x = 0; x < (1u << 24) + (1u << 16) + 256; x++) {
    size_t n;
    if (x < 256)
      n = 1, s[0] = (uint8_t)x;
    else if (x < 256 + 65536)
      n = 2, s[0] = (uint8_t)((x - 256) >> 8), s[1] = (uint8_t)(x - 256);
    else
      n = 3, s[0] = (uint8_t)((x - 65792) >> 16), s[1] = (uint8_t)((x - 65792) >> 8),
      s[2] = (uint8_t)(x - 65792);
    int complete;
    long nb = naive_first_bad(s, n, &complete);
    wsc__utf8 v;
    wsc__utf8_init(&v);
    size_t bad = 0;
    int rc = wsc__utf8_feed_scalar(&v, s, n, &bad);
    if (rc != (nb >= 0 ? -1 : 0) || (rc && (long)bad != nb) ||
        (!rc && (wsc__utf8_finish(&v) == 0) != complete))
      wsc_test_fail(__FILE__, __LINE__, "%zu bytes %02x %02x %02x: dfa %d/%zu, reference %ld/%d",
                    n, s[0], s[1], s[2], rc, bad, nb, complete);
  }
  for (unsigned b0 = 0xC0; b0 <= 0xFF; b0++)
    for (unsigned b1 = 0; b1 < 256; b1++)
      for (size_t i = 0; i < sizeof reps; i++)
        for (size_t j = 0; j < sizeof reps; j++) {
          s[0] = (uint8_t)b0, s[1] = (uint8_t)b1, s[2] = reps[i], s[3] = reps[j];
          int complete;
          long nb = naive_first_bad(s, 4, &complete);
          wsc__utf8 v;
          wsc__utf8_init(&v);
          size_t bad = 0;
          int rc = wsc__utf8_feed_scalar(&v, s, 4, &bad);
          CHECK_EQ(rc, nb >= 0 ? -1 : 0);
          if (rc) CHECK_EQ(bad, nb);
          else CHECK_EQ(wsc__utf8_finish(&v) == 0, complete);
        }
}

/* ---- RFC 3629 / Unicode table 3-7 boundaries ------------------------------ */

TEST(utf8_boundary_code_points_accepted) {
  VALID("");
  expect_case((const uint8_t *)"\0", 1, -1, 1); /* U+0000 */
  VALID("\x7F");                                /* U+007F */
  VALID("\xC2\x80");                            /* U+0080 */
  VALID("\xDF\xBF");                            /* U+07FF */
  VALID("\xE0\xA0\x80");                        /* U+0800 */
  VALID("\xED\x9F\xBF");                        /* U+D7FF */
  VALID("\xEE\x80\x80");                        /* U+E000 */
  VALID("\xEF\xBF\xBF");                        /* U+FFFF */
  VALID("\xF0\x90\x80\x80");                    /* U+10000 */
  VALID("\xF4\x8F\xBF\xBF");                    /* U+10FFFF */
  VALID("\x00\x7F\xC2\x80\xDF\xBF\xE0\xA0\x80\xEF\xBF\xBF\xF0\x90\x80\x80\xF4\x8F\xBF\xBF");
}

TEST(utf8_overlong_forms_rejected) {
  BAD_AT("\xC0\x80", 0);         /* U+0000 in 2 bytes */
  BAD_AT("\xC1\xBF", 0);         /* U+007F in 2 bytes */
  BAD_AT("\xE0\x80\x80", 1);     /* U+0000 in 3 bytes */
  BAD_AT("\xE0\x9F\xBF", 1);     /* U+07FF in 3 bytes */
  BAD_AT("\xF0\x80\x80\x80", 1); /* U+0000 in 4 bytes */
  BAD_AT("\xF0\x8F\xBF\xBF", 1); /* U+FFFF in 4 bytes */
  BAD_AT("\xC0", 0);
  BAD_AT("\xC1", 0);
}

TEST(utf8_surrogates_rejected) {
  BAD_AT("\xED\xA0\x80", 1); /* U+D800 */
  BAD_AT("\xED\xAF\xBF", 1); /* U+DBFF */
  BAD_AT("\xED\xB0\x80", 1); /* U+DC00 */
  BAD_AT("\xED\xBF\xBF", 1); /* U+DFFF */
  BAD_AT("\xED\xA0", 1);     /* fails without the third byte */
}

TEST(utf8_above_10ffff_rejected) {
  BAD_AT("\xF4\x90\x80\x80", 1); /* U+110000 */
  BAD_AT("\xF4\x90", 1);         /* fails at 0x90, without more input */
  BAD_AT("\xF4\xBF\xBF\xBF", 1);
  for (unsigned b = 0xF5; b <= 0xFF; b++) {
    uint8_t s[4] = {(uint8_t)b, 0x80, 0x80, 0x80};
    expect_case(s, 1, 0, 0);
    expect_case(s, 4, 0, 0);
  }
}

TEST(utf8_lone_and_extra_continuations_rejected) {
  for (unsigned b = 0x80; b <= 0xBF; b++) {
    uint8_t s[3] = {(uint8_t)b, 'a', 'b'};
    expect_case(s, 1, 0, 0);
    expect_case(s, 3, 0, 0);
  }
  BAD_AT("a\x80", 1);
  BAD_AT("\xC2\x80\x80", 2);
  BAD_AT("\xE2\x82\xAC\xAC", 3);
  BAD_AT("\xF0\x9F\x98\x80\x80", 4);
}

TEST(utf8_missing_continuations_rejected) {
  BAD_AT("\xC2\x41", 1);
  BAD_AT("\xC2\xC2\x80", 1);
  BAD_AT("\xE1\x80\x41", 2);
  BAD_AT("\xE1\x41", 1);
  BAD_AT("\xF1\x80\x80\x41", 3);
  BAD_AT("\xF1\x80\xE1", 2);
  BAD_AT("\xF0\x90\x80\xF0\x90\x80\x80", 3);
}

TEST(utf8_truncated_at_finish) {
  INCOMPLETE("\xC2");
  INCOMPLETE("\xDF");
  INCOMPLETE("\xE0");
  INCOMPLETE("\xE0\xA0");
  INCOMPLETE("\xED\x9F");
  INCOMPLETE("\xEF\xBF");
  INCOMPLETE("\xF0");
  INCOMPLETE("\xF0\x90");
  INCOMPLETE("\xF0\x90\x80");
  INCOMPLETE("\xF4\x8F\xBF");
  INCOMPLETE("abc\xE2\x82");
  CHECK_EQ(wsc__utf8_valid(S("\xE2\x82")), -1);
  CHECK_EQ(wsc__utf8_valid(S("\xE2\x82\xAC")), 0);
}

TEST(utf8_failure_is_sticky) {
  wsc__utf8 v;
  wsc__utf8_init(&v);
  size_t bad = 77;
  CHECK_EQ(wsc__utf8_feed(&v, S("ab\xFF"), &bad), -1);
  CHECK_EQ(bad, 2);
  bad = 77;
  CHECK_EQ(wsc__utf8_feed(&v, S("valid text"), &bad), -1);
  CHECK_EQ(bad, 0);
  CHECK_EQ(wsc__utf8_feed(&v, NULL, 0, &bad), -1);
  CHECK_EQ(wsc__utf8_finish(&v), -1);
  wsc__utf8_init(&v); /* init starts over */
  CHECK_EQ(wsc__utf8_feed(&v, S("valid text"), &bad), 0);
  CHECK_EQ(wsc__utf8_finish(&v), 0);
}

TEST(utf8_empty_feeds_change_nothing) {
  wsc__utf8 v;
  wsc__utf8_init(&v);
  CHECK_EQ(wsc__utf8_feed(&v, NULL, 0, NULL), 0);
  CHECK_EQ(wsc__utf8_finish(&v), 0);
  CHECK_EQ(wsc__utf8_feed(&v, S("\xE2"), NULL), 0);
  CHECK_EQ(wsc__utf8_feed(&v, NULL, 0, NULL), 0);
  CHECK_EQ(wsc__utf8_finish(&v), -1);
  CHECK_EQ(wsc__utf8_feed(&v, S("\x82"), NULL), 0);
  CHECK_EQ(wsc__utf8_feed(&v, S("\xAC"), NULL), 0);
  CHECK_EQ(wsc__utf8_finish(&v), 0);
  CHECK_EQ(wsc__utf8_valid(NULL, 0), 0);
}

/* A sequence left open by one call is finished, or failed, by the next. */
TEST(utf8_sequence_across_calls) {
  wsc__utf8 v;
  size_t bad = 0;
  wsc__utf8_init(&v);
  CHECK_EQ(wsc__utf8_feed(&v, S("xyz\xF0\x9F"), &bad), 0);
  CHECK_EQ(wsc__utf8_feed(&v, S("\x98\x80 and more text after the emoji"), &bad), 0);
  CHECK_EQ(wsc__utf8_finish(&v), 0);
  wsc__utf8_init(&v);
  CHECK_EQ(wsc__utf8_feed(&v, S("xyz\xF4"), &bad), 0);
  CHECK_EQ(wsc__utf8_feed(&v, S("\x90 more text after the bad byte......"), &bad), -1);
  CHECK_EQ(bad, 0);
  wsc__utf8_init(&v);
  CHECK_EQ(wsc__utf8_feed(&v, S("xyz\xE2\x82"), &bad), 0);
  CHECK_EQ(wsc__utf8_feed(&v, S("\xAC\xAC"), &bad), -1);
  CHECK_EQ(bad, 1);
}

/* ---- Autobahn Testsuite, section 6 (UTF-8 handling) -------------------- */

#define KOSME "\xCE\xBA\xE1\xBD\xB9\xCF\x83\xCE\xBC\xCE\xB5" /* "κόσμε", 11 bytes */

TEST(utf8_autobahn_6_2_valid_text) {
  VALID("Hello-\xC2\xB5@\xC3\x9F\xC3\xB6\xC3\xA4\xC3\xBC\xC3\xA0\xC3\xA1-UTF-8!!");
}

TEST(utf8_autobahn_6_3_invalid_in_the_middle) {
  BAD_AT(KOSME "\xED\xA0\x80" "edited", 12); /* 6.3.1/6.3.2: surrogate after κόσμε */
}

TEST(utf8_autobahn_6_4_fail_fast) {
  BAD_AT(KOSME "\xF4\x90\x80\x80" "edited", 12); /* 6.4.1/6.4.3 */
  BAD_AT(KOSME "\xF4\x90", 12);                  /* 6.4.2/6.4.4: fail before the rest */
  INCOMPLETE(KOSME "\xF4");                       /* still a valid prefix */
  /* 6.4.x deliver the payload in chops; the failure is reported in the call
   * that brings the 0x90, at its index there. */
  wsc__utf8 v;
  size_t bad = 9;
  wsc__utf8_init(&v);
  CHECK_EQ(wsc__utf8_feed(&v, S(KOSME), &bad), 0);
  CHECK_EQ(wsc__utf8_feed(&v, S("\xF4"), &bad), 0);
  CHECK_EQ(wsc__utf8_feed(&v, S("\x90\x80\x80" "edited"), &bad), -1);
  CHECK_EQ(bad, 0);
}

TEST(utf8_autobahn_6_5_and_6_6_kosme_and_its_prefixes) {
  VALID(KOSME);
  static const uint8_t k[] = KOSME;
  for (size_t n = 0; n <= 11; n++) {
    int boundary = n == 0 || n == 2 || n == 5 || n == 7 || n == 9 || n == 11;
    expect_case(k, n, -1, boundary);
  }
}

TEST(utf8_autobahn_6_7_to_6_11_boundaries) {
  VALID("\x00"); /* 6.7.1: U+0000 */
  VALID("\xC2\x80");
  VALID("\xE0\xA0\x80");
  VALID("\xF0\x90\x80\x80");
  BAD_AT("\xF8\x88\x80\x80\x80", 0);     /* 6.8.1: 5-byte form */
  BAD_AT("\xFC\x84\x80\x80\x80\x80", 0); /* 6.8.2: 6-byte form */
  VALID("\x7F");                         /* 6.9.x: last of each length */
  VALID("\xDF\xBF");
  VALID("\xEF\xBF\xBF");
  VALID("\xF4\x8F\xBF\xBF");
  BAD_AT("\xF7\xBF\xBF\xBF", 0);         /* 6.10.x */
  BAD_AT("\xFB\xBF\xBF\xBF\xBF", 0);
  BAD_AT("\xFD\xBF\xBF\xBF\xBF\xBF", 0);
  VALID("\xED\x9F\xBF");                 /* 6.11.x */
  VALID("\xEE\x80\x80");
  VALID("\xEF\xBF\xBD");
  VALID("\xF4\x8F\xBF\xBF");
  BAD_AT("\xF4\x90\x80\x80", 1);
}

TEST(utf8_autobahn_6_12_unexpected_continuations) {
  BAD_AT("\x80", 0);
  BAD_AT("\xBF", 0);
  BAD_AT("\x80\xBF", 0);
  BAD_AT("\x80\xBF\x80", 0);
  BAD_AT("\x80\xBF\x80\xBF", 0);
  BAD_AT("\x80\xBF\x80\xBF\x80", 0);
  BAD_AT("\x80\xBF\x80\xBF\x80\xBF", 0);
  uint8_t all[64];
  for (int i = 0; i < 64; i++) all[i] = (uint8_t)(0x80 + i); /* 6.12.8 */
  expect_case(all, 64, 0, 0);
}

TEST(utf8_autobahn_6_13_lonely_start_bytes) {
  uint8_t s[64];
  for (int i = 0; i < 32; i++) s[2 * i] = (uint8_t)(0xC0 + i), s[2 * i + 1] = ' '; /* 6.13.1 */
  expect_case(s, 64, 0, 0);    /* C0 fails at once */
  expect_case(s + 4, 60, 1, 0); /* C2 fails at the space */
  for (int i = 0; i < 16; i++) s[2 * i] = (uint8_t)(0xE0 + i), s[2 * i + 1] = ' '; /* 6.13.2 */
  expect_case(s, 32, 1, 0);
  for (int i = 0; i < 8; i++) s[2 * i] = (uint8_t)(0xF0 + i), s[2 * i + 1] = ' '; /* 6.13.3 */
  expect_case(s, 16, 1, 0);
  BAD_AT("\xF8 \xF9 \xFA \xFB ", 0); /* 6.13.4 */
  BAD_AT("\xFC \xFD ", 0);           /* 6.13.5 */
}

TEST(utf8_autobahn_6_14_last_continuation_missing) {
  BAD_AT("\xC0", 0);
  BAD_AT("\xE0\x80", 1);
  BAD_AT("\xF0\x80\x80", 1);
  BAD_AT("\xF8\x80\x80\x80", 0);
  BAD_AT("\xFC\x80\x80\x80\x80", 0);
  INCOMPLETE("\xDF");
  INCOMPLETE("\xEF\xBF");
  BAD_AT("\xF7\xBF\xBF", 0);
  BAD_AT("\xFB\xBF\xBF\xBF", 0);
  BAD_AT("\xFD\xBF\xBF\xBF\xBF", 0);
}

TEST(utf8_autobahn_6_15_to_6_17_impossible_and_overlong_ascii) {
  BAD_AT("\xC0\xE0\x80\xF0\x80\x80\xF8\x80\x80\x80\xFC\x80\x80\x80\x80"
         "\xDF\xEF\xBF\xF7\xBF\xBF\xFB\xBF\xBF\xBF\xFD\xBF\xBF\xBF\xBF", 0); /* 6.15.1 */
  BAD_AT("\xFE", 0); /* 6.16.x */
  BAD_AT("\xFF", 0);
  BAD_AT("\xFE\xFE\xFF\xFF", 0);
  BAD_AT("\xC0\xAF", 0); /* 6.17.x: overlong '/' */
  BAD_AT("\xE0\x80\xAF", 1);
  BAD_AT("\xF0\x80\x80\xAF", 1);
  BAD_AT("\xF8\x80\x80\x80\xAF", 0);
  BAD_AT("\xFC\x80\x80\x80\x80\xAF", 0);
}

TEST(utf8_autobahn_6_18_and_6_19_maximal_overlongs_and_null) {
  BAD_AT("\xC1\xBF", 0);
  BAD_AT("\xE0\x9F\xBF", 1);
  BAD_AT("\xF0\x8F\xBF\xBF", 1);
  BAD_AT("\xF8\x87\xBF\xBF\xBF", 0);
  BAD_AT("\xFC\x83\xBF\xBF\xBF\xBF", 0);
  BAD_AT("\xC0\x80", 0);
  BAD_AT("\xE0\x80\x80", 1);
  BAD_AT("\xF0\x80\x80\x80", 1);
  BAD_AT("\xF8\x80\x80\x80\x80", 0);
  BAD_AT("\xFC\x80\x80\x80\x80\x80", 0);
}

TEST(utf8_autobahn_6_20_and_6_21_surrogates) {
  static const char *single[] = {"\xED\xA0\x80", "\xED\xAD\xBF", "\xED\xAE\x80", "\xED\xAF\xBF",
                                 "\xED\xB0\x80", "\xED\xBE\x80", "\xED\xBF\xBF"};
  for (size_t i = 0; i < 7; i++) expect_case((const uint8_t *)single[i], 3, 1, 0);
  static const char *paired[] = {"\xED\xA0\x80\xED\xB0\x80", "\xED\xA0\x80\xED\xBF\xBF",
                                 "\xED\xAD\xBF\xED\xB0\x80", "\xED\xAD\xBF\xED\xBF\xBF",
                                 "\xED\xAE\x80\xED\xB0\x80", "\xED\xAE\x80\xED\xBF\xBF",
                                 "\xED\xAF\xBF\xED\xB0\x80", "\xED\xAF\xBF\xED\xBF\xBF"};
  for (size_t i = 0; i < 8; i++) expect_case((const uint8_t *)paired[i], 6, 1, 0);
}

TEST(utf8_autobahn_6_22_and_6_23_noncharacters_and_specials_valid) {
  VALID("\xEF\xBF\xBE");     /* U+FFFE */
  VALID("\xEF\xBF\xBF");     /* U+FFFF */
  VALID("\xF0\x9F\xBF\xBE"); /* U+1FFFE */
  VALID("\xF0\x9F\xBF\xBF");
  VALID("\xF4\x8F\xBF\xBE"); /* U+10FFFE */
  VALID("\xEF\xB7\x90");     /* U+FDD0 */
  VALID("\xEF\xB7\xAF");     /* U+FDEF */
  VALID("\xEF\xBF\xB9\xEF\xBF\xBA\xEF\xBF\xBB"); /* U+FFF9..FFFB */
  VALID("\xEF\xBF\xBD");     /* U+FFFD */
  VALID("\xEF\xBB\xBF");     /* U+FEFF (BOM) */
  VALID("\xE2\x80\xA8\xE2\x80\xA9");
}

/* ---- bulk implementations against the DFA ------------------------------ */

TEST(utf8_impl_table) {
  const wsc__utf8_impl *all = wsc__utf8_impls();
  CHECK_STR(all[0].name, "scalar");
  CHECK(all[0].available && all[0].feed == wsc__utf8_feed_scalar);
  int listed = 0;
  for (const wsc__utf8_impl *m = all; m->name; m++)
    if (strcmp(m->name, wsc__utf8_impl_name()) == 0) listed = m->available;
  CHECK(listed);
#if defined(__x86_64__) && !defined(WSC_NO_SIMD)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2")) CHECK_STR(wsc__utf8_impl_name(), "avx2");
#endif
}

static void compare_all(const uint8_t *p, size_t n, const char *what) {
  wsc__utf8_fn fns[8];
  const char *names[8];
  size_t nf = all_fns(fns, names);
  verdict want = run1(wsc__utf8_feed_scalar, p, n);
  int complete;
  long nb = naive_first_bad(p, n, &complete);
  CHECK_EQ(want.failed ? (long)want.bad : -1, nb);
  for (size_t f = 0; f < nf; f++) {
    verdict got = run1(fns[f], p, n);
    if (got.failed != want.failed || got.bad != want.bad || got.state != want.state) {
      wsc_test_hexdump("input", p, n);
      wsc_test_fail(__FILE__, __LINE__, "%s %s (n=%zu): failed %d at %zu, scalar %d at %zu",
                    names[f], what, n, got.failed, got.bad, want.failed, want.bad);
    }
  }
}

/* An invalid byte of each kind at every position of a mixed text long enough
 * to cross several 16/32/64-byte blocks, at several alignments. */
TEST(utf8_impls_error_at_every_position) {
  enum { N = 300 };
  static const uint8_t kinds[][2] = {{0xFF, 0}, {0x80, 0}, {0xC0, 0}, {0xC2, 'a'}, {0xED, 0xA0},
                                     {0xF4, 0x90}, {0xE0, 0x80}, {0xF0, 0x8F}, {'a', 0},
                                     {0xE1, 0x80}, {0xF5, 0x80}};
  static uint8_t base[N], buf[N + 64];
  filler(base, N, 3);
  for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
    for (size_t pos = 0; pos < N; pos++)
      for (size_t al = 0; al < 64; al += 21) {
        uint8_t *p = buf + al;
        memcpy(p, base, N);
        p[pos] = kinds[k][0];
        if (kinds[k][1] && pos + 1 < N) p[pos + 1] = kinds[k][1];
        compare_all(p, N, "mutated");
        compare_all(p, pos + 1, "cut after the mutation");
      }
}

/* Random mostly-valid text with mutations, at all alignments 0..63 and at
 * lengths around the 16/32/64-byte block sizes: every implementation gives
 * the DFA's verdict, first bad index and end state. */
TEST(utf8_impls_random_differential) {
  enum { CAP = 4096 };
  static uint8_t text[CAP], buf[CAP + 64];
  rng_state = 0x5DEECE66Dull;
  for (int iter = 0; iter < 20000; iter++) {
    size_t n;
    switch (iter % 4) {
    case 0: n = rnd() % 300; break;
    case 1: n = 32 * (1 + rnd() % 8) + rnd() % 7 - 3; break;
    case 2: n = 64 * (1 + rnd() % 16) + rnd() % 9 - 4; break;
    default: n = rnd() % CAP; break;
    }
    random_text(text, n, (int)(rnd() % 4) * 30);
    int muts = (int)(rnd() % 4); /* 0: valid text */
    for (int m = 0; m < muts && n > 0; m++) {
      size_t at = rnd() % n;
      switch (rnd() % 6) {
      case 0: text[at] = (uint8_t)rnd(); break;
      case 1: text[at] = (uint8_t)(0x80 | (rnd() & 0x3F)); break;
      case 2: text[at] = (uint8_t)(0xC0 | (rnd() & 0x3F)); break;
      case 3: memmove(text + at, text + at + 1, n - at - 1), n--; break; /* drop a byte */
      case 4: n = at; break;                                          /* truncate */
      default: text[at] ^= (uint8_t)(1u << (rnd() % 8)); break;
      }
    }
    size_t al = rnd() % 64;
    memcpy(buf + al, text, n);
    compare_all(buf + al, n, "random");
  }
}

/* Random splits of random text: same verdict as one shot, for every impl. */
TEST(utf8_impls_random_splits) {
  enum { CAP = 2048 };
  static uint8_t text[CAP];
  wsc__utf8_fn fns[8];
  const char *names[8];
  size_t nf = all_fns(fns, names);
  rng_state = 0xC0FFEEull;
  for (int iter = 0; iter < 3000; iter++) {
    size_t n = rnd() % CAP;
    random_text(text, n, (int)(rnd() % 3) * 40);
    if (n && rnd() % 2) text[rnd() % n] = (uint8_t)rnd();
    verdict want = run1(wsc__utf8_feed_scalar, text, n);
    size_t cuts[64], nc = 0, at = 0;
    while (nc < 64) {
      at += rnd() % (rnd() % 2 ? 8 : 200);
      if (at >= n) break;
      cuts[nc++] = at;
    }
    for (size_t f = 0; f < nf; f++) CHECK_VERDICT(run(fns[f], text, n, cuts, nc), want, names[f]);
  }
}

/* Long inputs: 1 MiB of ASCII, and of mixed text, with one error placed at
 * various distances from the end and from block edges. */
TEST(utf8_impls_long_inputs) {
  enum { N = 1 << 20 };
  uint8_t *a = malloc(N), *m = malloc(N);
  CHECK(a && m);
  memset(a, 'a', N);
  random_text(m, N, 20);
  compare_all(a, N, "ascii");
  compare_all(m, N, "mixed");
  CHECK_EQ(wsc__utf8_valid(a, N), 0);
  CHECK_EQ(wsc__utf8_valid(m, N), 0);
  static const size_t at[] = {0, 1, 31, 32, 63, 64, 65, 4095, 65536, N - 65, N - 64, N - 33,
                              N - 32, N - 31, N - 4, N - 2, N - 1};
  for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
    uint8_t sa = a[at[i]], sm = m[at[i]];
    a[at[i]] = 0xC0;
    m[at[i]] = 0xFF;
    compare_all(a, N, "ascii with error");
    compare_all(m, N, "mixed with error");
    a[at[i]] = sa;
    m[at[i]] = sm;
  }
  a[N - 1] = 0xE2; /* ends inside a sequence */
  compare_all(a, N, "ascii, open at the end");
  free(a);
  free(m);
}
