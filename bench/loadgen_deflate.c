/* loadgen_deflate.c - wsc-loadgen's side of permessage-deflate (RFC 7692):
 * the offer, and zlib streams used directly rather than through the core's
 * wsc__deflate, which frees its streams after every message without context
 * takeover: here they are created once per connection and reset (no
 * allocation) so the generator's hot path stays allocation-free.
 *
 * Sending: raw DEFLATE with the agreed client window (9 for 8: zlib refuses
 * 8 for raw streams, and never reaches beyond 2^bits - 262 anyway, see
 * proto/pmd.h), one Z_SYNC_FLUSH per message, the 00 00 ff ff removed.
 * Receiving: a 32 KiB window whatever the server announced (a larger window
 * reads a smaller one's output), 00 00 ff ff appended after each message,
 * reset after each message when the server does not keep context. A server
 * that ends a DEFLATE stream (BFINAL) inside a message is reported as an
 * error: none of the servers compared does, and supporting it with takeover
 * would need the window carried across streams. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "loadgen.h"
#include "proto/deflate.h"

typedef struct lg_zs {
  z_stream tx, rx;
  uint8_t tx_ok, rx_ok;       /* initialised */
  uint8_t tx_reset, rx_reset; /* no context takeover in that direction */
  uint8_t rx_tail;            /* bytes of the 00 00 ff ff tail fed */
} lg_zs;

void lg_pmd_offer(int mode, wsc__pmd_offer *o) {
  wsc__pmd_offer_init(o);
  if (mode == LG_DEFLATE_NO_TAKEOVER) o->server_no_context_takeover = o->client_no_context_takeover = 1;
}

lg_zs *lg_zs_new(const wsc__pmd_params *p, int level) {
  lg_zs *z = calloc(1, sizeof *z);
  if (!z) return NULL;
  unsigned bits = p->client_max_window_bits < 9 ? 9 : p->client_max_window_bits;
  if (deflateInit2(&z->tx, level, Z_DEFLATED, -(int)bits, wsc__deflate_mem_level(bits),
                   Z_DEFAULT_STRATEGY) != Z_OK) {
    free(z);
    return NULL;
  }
  z->tx_ok = 1;
  if (inflateInit2(&z->rx, -15) != Z_OK) {
    lg_zs_free(z);
    return NULL;
  }
  z->rx_ok = 1;
  z->tx_reset = p->client_no_context_takeover;
  z->rx_reset = p->server_no_context_takeover;
  return z;
}

void lg_zs_free(lg_zs *z) {
  if (!z) return;
  if (z->tx_ok) deflateEnd(&z->tx);
  if (z->rx_ok) inflateEnd(&z->rx);
  free(z);
}

size_t lg_zs_bound(size_t n) { return n + n / 8 + 64; }

long lg_zs_compress(lg_zs *z, const uint8_t *in, size_t n, uint8_t *out, size_t cap) {
  z->tx.next_in = (Bytef *)(uintptr_t)in;
  z->tx.avail_in = (uInt)n;
  z->tx.next_out = out;
  z->tx.avail_out = (uInt)cap;
  int rc = deflate(&z->tx, Z_SYNC_FLUSH);
  size_t len = cap - z->tx.avail_out;
  /* All input taken and room left over: the flush is complete. */
  if (rc != Z_OK || z->tx.avail_in != 0 || z->tx.avail_out == 0 || len < 4 ||
      memcmp(out + len - 4, "\x00\x00\xff\xff", 4) != 0)
    return -1;
  if (z->tx_reset) deflateReset(&z->tx);
  return (long)(len - 4);
}

int lg_zs_inflate(lg_zs *z, const uint8_t **in, size_t *n, int end, uint8_t *out, size_t cap,
                  size_t *got, const char **why) {
  static const uint8_t tail[4] = {0x00, 0x00, 0xff, 0xff};
  z_stream *s = &z->rx;
  int from_tail = *n == 0 && end && z->rx_tail < 4;
  s->next_in = (Bytef *)(uintptr_t)(from_tail ? tail + z->rx_tail : *in);
  s->avail_in = (uInt)(from_tail ? 4u - z->rx_tail : *n);
  s->next_out = out;
  s->avail_out = (uInt)cap;
  uInt before = s->avail_in;
  int rc = inflate(s, Z_SYNC_FLUSH);
  size_t used = before - s->avail_in;
  if (from_tail) {
    z->rx_tail = (uint8_t)(z->rx_tail + used);
  } else {
    *in += used;
    *n -= used;
  }
  *got = cap - s->avail_out;
  if (rc == Z_STREAM_END) {
    *why = "the server ended the DEFLATE stream (BFINAL) inside a message: not supported";
    z->rx_tail = 0;
    return -1;
  }
  if (rc != Z_OK && rc != Z_BUF_ERROR) {
    *why = s->msg ? s->msg : "invalid DEFLATE data";
    z->rx_tail = 0;
    return -1;
  }
  if (used == 0 && *got == 0 && (from_tail || *n > 0)) {
    *why = "inflate made no progress";
    z->rx_tail = 0;
    return -1;
  }
  if (s->avail_out == 0 || *n > 0 || (end && z->rx_tail < 4)) return 1;
  if (end) {
    z->rx_tail = 0;
    if (z->rx_reset) inflateReset(s);
  }
  return 0;
}
