/* fuzz_split.h - shared by the fuzz targets that compare a parser fed whole
 * with the same parser fed in pieces (handshake request and response, the
 * proxy's CONNECT reply). Header-only: each target is its own program. */
#ifndef WSC_FUZZ_SPLIT_H
#define WSC_FUZZ_SPLIT_H

#include <stddef.h>
#include <stdint.h>

#define ENSURE(c)               \
  do {                          \
    if (!(c)) __builtin_trap(); \
  } while (0)

/* An incremental parser's feed: 0 need more (all taken), non-zero final. */
typedef int (*fuzz_feed_fn)(void *parser, const uint8_t *data, size_t len, size_t *consumed);

/* Feed data in chunks whose lengths (0 to 23, empty ones included) come from
 * a generator seeded by the data, checking the consumed-bytes contract on
 * every call. Returns the final result (0 if the data ran out first);
 * *total = bytes consumed over all calls. */
static inline int fuzz_feed_split(fuzz_feed_fn feed, void *parser, const uint8_t *data,
                                  size_t size, size_t *total) {
  uint32_t x = 2166136261u;
  for (size_t i = 0; i < size; i++) x = (x ^ data[i]) * 16777619u;
  size_t off = 0;
  *total = 0;
  for (;;) {
    x ^= x << 13, x ^= x >> 17, x ^= x << 5;
    size_t n = (x % 4 == 0) ? 0 : 1 + x % 23;
    if (n > size - off) n = size - off;
    size_t consumed = (size_t)-1;
    int rc = feed(parser, data + off, n, &consumed);
    ENSURE(consumed <= n);
    *total += consumed;
    if (rc != 0) return rc;
    ENSURE(consumed == n);
    off += n;
    if (off == size) return 0;
  }
}

#endif
