/* micro.c - core microbenchmarks: masking GB/s, UTF-8 validation GB/s, frames
 * parsed per second. Usage: wsc-microbench [--seconds S] [mask|utf8|frame]...
 * Figures are recorded in docs/benchmarks.md. */
#include "micro.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

volatile uint64_t micro_sink;

double micro_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double micro_gbps(void (*fn)(void *arg), void *arg, size_t bytes, double seconds) {
  double best = 0;
  double end = micro_now() + seconds;
  do { /* rounds of ~1/10 of the time; keep the best to skip noise */
    double t0 = micro_now(), t;
    size_t calls = 0;
    do {
      fn(arg);
      calls++;
      t = micro_now();
    } while (t - t0 < seconds / 10);
    double gbps = (double)bytes * (double)calls / (t - t0) / 1e9;
    if (gbps > best) best = gbps;
  } while (micro_now() < end);
  return best;
}

void micro_report(const char *group, const char *name, double value, const char *unit) {
  printf("%-6s %-36s %10.2f %s\n", group, name, value, unit);
  fflush(stdout);
}

int main(int argc, char **argv) {
  double seconds = 1.0;
  int want_mask = 0, want_utf8 = 0, want_frame = 0, any = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
      seconds = strtod(argv[++i], NULL);
      if (!(seconds > 0)) seconds = 1.0;
    } else if (strcmp(argv[i], "mask") == 0) {
      want_mask = any = 1;
    } else if (strcmp(argv[i], "utf8") == 0) {
      want_utf8 = any = 1;
    } else if (strcmp(argv[i], "frame") == 0) {
      want_frame = any = 1;
    } else {
      fprintf(stderr, "usage: %s [--seconds S] [mask|utf8|frame]...\n", argv[0]);
      return 2;
    }
  }
  if (!any) want_mask = want_utf8 = want_frame = 1;
  if (want_mask) micro_mask(seconds);
  if (want_utf8) micro_utf8(seconds);
  if (want_frame) micro_frame(seconds);
  return 0;
}
