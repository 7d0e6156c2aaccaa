/* micro_mask.c - masking throughput: each implementation, and the dispatching
 * wsc__mask, unmasking a 1 MiB buffer in place (in cache), plus the
 * dispatcher on typical message sizes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "micro.h"
#include "proto/mask.h"

typedef struct {
  wsc__mask_fn fn; /* NULL: wsc__mask */
  uint8_t *buf;
  size_t len, reps; /* reps calls per run, so small sizes outweigh the timer */
  unsigned phase;
} mask_arg;

static const uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d};

static void run_mask(void *p) {
  mask_arg *a = p;
  for (size_t r = 0; r < a->reps; r++) {
    if (a->fn)
      a->phase = a->fn(a->buf, a->buf, a->len, key, a->phase);
    else
      a->phase = wsc__mask(a->buf, a->len, key, a->phase);
    __asm__ volatile("" ::: "memory"); /* each call really happens */
  }
  micro_sink += a->buf[a->len / 2];
}

void micro_mask(double seconds) {
  size_t cap = (1u << 20) + 64;
  uint8_t *mem = malloc(cap);
  if (!mem) return;
  for (size_t i = 0; i < cap; i++) mem[i] = (uint8_t)(i * 131 + 7);
  uint8_t *buf = mem + 64 - ((uintptr_t)mem & 63); /* cache-line aligned */
  char name[64];
  for (const wsc__mask_impl *m = wsc__mask_impls(); m->name; m++) {
    if (!m->available) continue;
    mask_arg a = {m->fn, buf, 1u << 20, 1, 0};
    snprintf(name, sizeof name, "%s 1MiB in place", m->name);
    micro_report("mask", name, micro_gbps(run_mask, &a, a.len, seconds), "GB/s");
  }
  static const size_t sizes[] = {1u << 20, 4096, 125};
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    mask_arg a = {NULL, buf, sizes[i], (1u << 20) / sizes[i], 0};
    snprintf(name, sizeof name, "wsc__mask(%s) %zu B", wsc__mask_impl_name(), sizes[i]);
    micro_report("mask", name, micro_gbps(run_mask, &a, a.len * a.reps, seconds), "GB/s");
  }
  mask_arg a = {NULL, buf + 1, (1u << 20) - 1, 1, 0}; /* misaligned start, odd length */
  snprintf(name, sizeof name, "wsc__mask(%s) 1MiB-1 at +1", wsc__mask_impl_name());
  micro_report("mask", name, micro_gbps(run_mask, &a, a.len, seconds), "GB/s");
  free(mem);
}
