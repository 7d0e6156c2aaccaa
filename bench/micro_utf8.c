/* micro_utf8.c - UTF-8 validation throughput: the scalar reference DFA and
 * each bulk implementation (the last listed is what wsc__utf8_feed uses), on
 * 1 MiB of ASCII, 1 MiB of mixed multi-byte text, and 4 KiB messages of
 * mixed text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "micro.h"
#include "proto/utf8.h"
#include "proto/utf8_impl.h"

typedef struct {
  wsc__utf8_fn fn;
  const uint8_t *p;
  size_t len, msg; /* validated as len/msg separate messages of msg bytes */
} utf8_arg;

static void run_utf8(void *p) {
  utf8_arg *a = p;
  for (size_t at = 0; at < a->len; at += a->msg) {
    wsc__utf8 v;
    wsc__utf8_init(&v);
    int rc = a->fn(&v, a->p + at, a->msg, NULL);
    micro_sink += (uint64_t)(rc + wsc__utf8_finish(&v));
  }
}

static uint32_t seed = 12345;
static uint32_t rnd(void) {
  seed = seed * 1103515245u + 12345u;
  return seed >> 8;
}
static size_t put(uint8_t *o, uint32_t cp) {
  if (cp < 0x80) return o[0] = (uint8_t)cp, 1;
  if (cp < 0x800) return o[0] = (uint8_t)(0xC0 | cp >> 6), o[1] = (uint8_t)(0x80 | (cp & 0x3F)), 2;
  if (cp < 0x10000)
    return o[0] = (uint8_t)(0xE0 | cp >> 12), o[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3F)),
           o[2] = (uint8_t)(0x80 | (cp & 0x3F)), 3;
  return o[0] = (uint8_t)(0xF0 | cp >> 18), o[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3F)),
         o[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3F)), o[3] = (uint8_t)(0x80 | (cp & 0x3F)), 4;
}

/* Deterministic "real world" text: words of 2-8 characters, each word in
 * one script - French/German (ASCII letters with Latin-1 accents), Greek,
 * Cyrillic, CJK (3 bytes), or emoji (4 bytes) - separated by spaces and the
 * odd punctuation. Every 64-byte block holds multi-byte characters. Message
 * boundaries (every `msg` bytes) fall on character boundaries. */
static void mixed_text(uint8_t *o, size_t n, size_t msg) {
  static const char accents[] = "\xE9\xE8\xEA\xE0\xE7\xF4\xFC\xF6\xE4\xDF"; /* Latin-1 code points */
  size_t i = 0;
  while (i < n) {
    uint8_t w[64];
    size_t k = 0, chars = 2 + rnd() % 7;
    unsigned script = rnd() % 6;
    for (size_t c = 0; c < chars; c++) {
      uint32_t cp;
      switch (script) {
      case 0: cp = rnd() % 4 ? 'a' + rnd() % 26 : (uint8_t)accents[rnd() % 10]; break;
      case 1: cp = 0x3B1 + rnd() % 25; break;  /* Greek */
      case 2: cp = 0x430 + rnd() % 32; break;  /* Cyrillic */
      case 3: case 4: cp = 0x4E00 + rnd() % 0x4000; break; /* CJK */
      default: cp = rnd() % 3 ? 0x1F600 + rnd() % 0x50 : 0x1F300 + rnd() % 0x100; break; /* emoji */
      }
      k += put(w + k, cp);
    }
    w[k++] = rnd() % 8 ? ' ' : ',';
    size_t room = msg - i % msg; /* pad with spaces rather than split a word */
    if (k > room) {
      memset(o + i, ' ', room < n - i ? room : n - i);
      i += room;
      continue;
    }
    if (k > n - i) k = n - i;
    memcpy(o + i, w, k);
    i += k;
  }
}

void micro_utf8(double seconds) {
  enum { N = 1 << 20, MSG = 4096 };
  uint8_t *ascii = malloc(N), *mixed = malloc(N), *msgs = malloc(N);
  if (!ascii || !mixed || !msgs) return;
  for (size_t i = 0; i < N; i++) ascii[i] = (uint8_t)(' ' + (i * 7) % 95);
  mixed_text(mixed, N, N);
  mixed_text(msgs, N, MSG);
  if (wsc__utf8_valid(ascii, N) || wsc__utf8_valid(mixed, N) || wsc__utf8_valid(msgs, N)) {
    fprintf(stderr, "micro_utf8: generated text is not valid UTF-8\n");
    abort();
  }
  size_t mb[4] = {0}, chars = 0; /* characters by encoded length */
  for (size_t i = 0; i < N; i++)
    if ((mixed[i] & 0xC0) != 0x80) {
      mb[mixed[i] < 0x80 ? 0 : mixed[i] >= 0xF0 ? 3 : mixed[i] >= 0xE0 ? 2 : 1]++;
      chars++;
    }
  printf("utf8   mixed text: %zu chars, %.0f%% 1-byte, %.0f%% 2-byte, %.0f%% 3-byte, %.0f%% 4-byte\n",
         chars, 100.0 * (double)mb[0] / (double)chars, 100.0 * (double)mb[1] / (double)chars,
         100.0 * (double)mb[2] / (double)chars, 100.0 * (double)mb[3] / (double)chars);
  struct {
    const char *what;
    const uint8_t *p;
    size_t msg;
  } inputs[] = {{"ascii 1MiB", ascii, N}, {"mixed 1MiB", mixed, N}, {"mixed 4KiB msgs", msgs, MSG}};
  char name[64];
  for (size_t in = 0; in < 3; in++)
    for (const wsc__utf8_impl *m = wsc__utf8_impls(); m->name; m++) {
      if (!m->available) continue;
      utf8_arg a = {m->feed, inputs[in].p, N, inputs[in].msg};
      snprintf(name, sizeof name, "%s %s", m->name, inputs[in].what);
      micro_report("utf8", name, micro_gbps(run_utf8, &a, N, seconds), "GB/s");
    }
  for (size_t in = 0; in < 3; in++) {
    utf8_arg a = {wsc__utf8_feed, inputs[in].p, N, inputs[in].msg};
    snprintf(name, sizeof name, "feed(%s) %s", wsc__utf8_impl_name(), inputs[in].what);
    micro_report("utf8", name, micro_gbps(run_utf8, &a, N, seconds), "GB/s");
  }
  free(ascii);
  free(mixed);
  free(msgs);
}
