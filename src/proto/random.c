/* random.c - batched CSPRNG output from OpenSSL's RAND_bytes. */
#include "proto/random.h"

#include <limits.h>
#include <openssl/rand.h>
#include <string.h>

#include "wsc.h"

#define POOL_SIZE 4096

static _Thread_local struct {
  uint8_t bytes[POOL_SIZE];
  size_t left; /* unused bytes at the end of bytes[] */
} pool;

int wsc__random(void *buf, size_t n) {
  uint8_t *out = buf;
  while (n > POOL_SIZE / 4) { /* large requests bypass the pool */
    int take = n > INT_MAX ? INT_MAX : (int)n;
    if (RAND_bytes(out, take) != 1) return WSC_EINTERNAL;
    out += take;
    n -= (size_t)take;
  }
  if (pool.left < n) {
    if (RAND_bytes(pool.bytes, POOL_SIZE) != 1) return WSC_EINTERNAL;
    pool.left = POOL_SIZE;
  }
  uint8_t *src = pool.bytes + POOL_SIZE - pool.left;
  memcpy(out, src, n);
  memset(src, 0, n); /* a used key never lingers in the pool */
  pool.left -= n;
  return 0;
}
