/* micro.h - shared pieces of the core microbenchmarks (bench/micro*.c). */
#ifndef WSC_BENCH_MICRO_H
#define WSC_BENCH_MICRO_H

#include <stddef.h>
#include <stdint.h>

/* Monotonic time in seconds. */
double micro_now(void);
/* Run fn(arg) repeatedly for about `seconds`; return the best throughput in
 * GB/s given that one call processes `bytes` bytes (best of several rounds). */
double micro_gbps(void (*fn)(void *arg), void *arg, size_t bytes, double seconds);
/* Print one result line: "group  name  value unit". */
void micro_report(const char *group, const char *name, double value, const char *unit);
/* Keep the optimiser from discarding a computed value. */
extern volatile uint64_t micro_sink;

void micro_mask(double seconds);  /* micro_mask.c */
void micro_utf8(double seconds);  /* micro_utf8.c */
void micro_frame(double seconds); /* micro_frame.c */

#endif
