/* deflate.c - permessage-deflate with zlib; see deflate.h. */
#include "proto/deflate.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "wsc.h"

static const uint8_t flush_tail[4] = {0x00, 0x00, 0xff, 0xff};

/* ---- accounted allocation ------------------------------------------------ */

/* Every zlib allocation carries its size in front, so the state can report
 * exactly what a connection holds (tests bound it; docs quote it). */
typedef union hdr {
  size_t n;
  max_align_t align;
} hdr;

static void *acct_alloc(wsc__deflate *d, size_t n) {
  if (n > SIZE_MAX - sizeof(hdr)) return NULL;
  hdr *h = malloc(sizeof(hdr) + n);
  if (!h) return NULL;
  h->n = n;
  d->zmem += n;
  if (d->zmem > d->zmem_peak) d->zmem_peak = d->zmem;
  return h + 1;
}

static void acct_free(wsc__deflate *d, void *p) {
  if (!p) return;
  hdr *h = (hdr *)p - 1;
  d->zmem -= h->n;
  free(h);
}

/* zlib's hooks: opaque is the wsc__deflate. */
static voidpf z_alloc(voidpf opaque, uInt items, uInt size) {
  if (size && items > SIZE_MAX / size) return Z_NULL;
  return acct_alloc(opaque, (size_t)items * size);
}
static void z_free(voidpf opaque, voidpf p) { acct_free(opaque, p); }

/* ---- life cycle ------------------------------------------------------------ */

static uint8_t zlib_bits(unsigned bits) { return (uint8_t)(bits < 9 ? 9 : bits > 15 ? 15 : bits); }

wsc__deflate *wsc__deflate_new(const wsc__pmd_params *p, int is_server, size_t threshold) {
  wsc__deflate *d = calloc(1, sizeof *d);
  if (!d) return NULL;
  d->params = *p;
  d->is_server = (uint8_t)(is_server != 0);
  d->threshold = threshold;
  unsigned mine = is_server ? p->server_max_window_bits : p->client_max_window_bits;
  d->tx_bits = zlib_bits(mine);
  /* The inflater always gets the full 32 KiB window, whatever the peer's
   * negotiated window. zlib checks a back-reference against its window plus
   * the output of the current inflate() call, so with a smaller window a
   * peer reaching too far back was refused or accepted depending on how the
   * reads happened to be cut (the fuzzer found it). With 15 bits no valid
   * DEFLATE distance is ever too far once 32 KiB have been produced, and
   * before that the check only depends on the total output: the outcome no
   * longer depends on the reads. A peer using a bigger window than it
   * negotiated is accepted (RFC 7692 lets the receiver be lenient). */
  d->rx_bits = 15;
  d->tx_reset = is_server ? p->server_no_context_takeover : p->client_no_context_takeover;
  d->rx_reset = is_server ? p->client_no_context_takeover : p->server_no_context_takeover;
  return d;
}

static void free_tx(wsc__deflate *d) {
  if (!d->tx) return;
  deflateEnd(d->tx);
  acct_free(d, d->tx);
  d->tx = NULL;
}

static void free_rx(wsc__deflate *d) {
  if (!d->rx) return;
  inflateEnd(d->rx);
  acct_free(d, d->rx);
  d->rx = NULL;
}

void wsc__deflate_free(wsc__deflate *d) {
  if (!d) return;
  free_tx(d);
  free_rx(d);
  free(d);
}

size_t wsc__deflate_memory(const wsc__deflate *d, size_t *peak) {
  if (peak) *peak = d ? d->zmem_peak : 0;
  return d ? d->zmem : 0;
}

static z_stream *new_stream(wsc__deflate *d) {
  z_stream *z = acct_alloc(d, sizeof *z);
  if (!z) return NULL;
  memset(z, 0, sizeof *z);
  z->zalloc = z_alloc;
  z->zfree = z_free;
  z->opaque = d;
  return z;
}

/* ---- sending --------------------------------------------------------------- */

int wsc__deflate_mem_level(unsigned bits) {
  int m = (int)bits - 7;
  return m < 1 ? 1 : m > 8 ? 8 : m;
}

static int tx_open(wsc__deflate *d) {
  if (d->tx) return 0;
  z_stream *z = new_stream(d);
  if (!z) return WSC_ENOMEM;
  int level = d->level ? d->level : Z_DEFAULT_COMPRESSION;
  int rc = deflateInit2(z, level, Z_DEFLATED, -(int)d->tx_bits,
                        wsc__deflate_mem_level(d->tx_bits), Z_DEFAULT_STRATEGY);
  if (rc != Z_OK) {
    acct_free(d, z);
    return rc == Z_MEM_ERROR ? WSC_ENOMEM : WSC_EINTERNAL;
  }
  d->tx = z;
  return 0;
}

int wsc__deflate_compress(wsc__deflate *d, const uint8_t *in, size_t len, int fin,
                          wsc__deflate_sink sink, void *ctx) {
  int rc = tx_open(d);
  if (rc) return rc;
  z_stream *z = d->tx;
  uint8_t buf[WSC__DEFLATE_CHUNK];
  size_t have = 0, left = len;
  int produced = 0;
  if (d->tx_tail) { /* the previous fragment's flush marker belongs in the stream */
    memcpy(buf, flush_tail, 4);
    have = 4;
    d->tx_tail = 0;
  }
  for (;;) {
    uInt a = left > (UINT_MAX >> 1) ? (UINT_MAX >> 1) : (uInt)left;
    z->next_in = (Bytef *)(uintptr_t)(in ? in + (len - left) : in); /* in is NULL when len is 0 */
    z->avail_in = a;
    z->next_out = buf + have;
    z->avail_out = (uInt)(sizeof buf - have);
    int zr = deflate(z, Z_SYNC_FLUSH);
    if (zr != Z_OK && zr != Z_BUF_ERROR) return WSC_EINTERNAL;
    left -= a - z->avail_in;
    size_t now = sizeof buf - z->avail_out;
    if (now > have) produced = 1;
    have = now;
    if (z->avail_out == 0) { /* full: send all but 4 bytes, which may be the tail */
      rc = sink(ctx, buf, have - 4, 0);
      if (rc) return rc;
      memmove(buf, buf + have - 4, 4);
      have = 4;
      continue;
    }
    if (left == 0) break; /* everything taken and flushed */
  }
  if (!produced && have == 0) {
    /* zlib had nothing to flush (the last piece was flushed already): write
     * the empty stored block it would have written; the stream is
     * byte-aligned after a flush, so this is a valid continuation */
    memcpy(buf, "\x00\x00\x00\xff\xff", 5);
    have = 5;
  }
  if (have < 4 || memcmp(buf + have - 4, flush_tail, 4) != 0) return WSC_EINTERNAL;
  rc = sink(ctx, buf, have - 4, 1);
  if (rc) return rc;
  if (!fin) {
    d->tx_tail = 1;
  } else if (d->tx_reset) {
    free_tx(d); /* no context takeover: nothing to keep until the next message */
  }
  return 0;
}

/* ---- receiving ------------------------------------------------------------- */

/* The stream ended with a final block (BFINAL) and more data follows, in this
 * message or a later one: start a new stream that keeps the window, so the
 * sender may still refer back to what came before (RFC 7692 section 7.2.3.4
 * shows a final block followed by more bytes in the same message). */
static int rx_restart(wsc__deflate *d) {
  z_stream *z = d->rx;
  uint8_t *dict = acct_alloc(d, (size_t)1 << d->rx_bits);
  if (!dict) return WSC_ENOMEM;
  uInt have = 0;
  int rc = inflateGetDictionary(z, dict, &have);
  if (rc == Z_OK) rc = inflateReset(z);
  if (rc == Z_OK && have) rc = inflateSetDictionary(z, dict, have);
  acct_free(d, dict);
  d->rx_ended = 0;
  return rc == Z_OK ? 0 : WSC_EINTERNAL;
}

int wsc__inflate_begin(wsc__deflate *d) {
  d->rx_msg = 1;
  d->rx_tail = 0;
  d->rx_pending = 0;
  d->wire = 0;
  if (d->rx && d->rx_ended) return rx_restart(d);
  d->rx_ended = 0;
  if (d->rx) return 0;
  z_stream *z = new_stream(d);
  if (!z) return WSC_ENOMEM;
  int rc = inflateInit2(z, -(int)d->rx_bits);
  if (rc != Z_OK) {
    acct_free(d, z);
    return rc == Z_MEM_ERROR ? WSC_ENOMEM : WSC_EINTERNAL;
  }
  d->rx = z;
  return 0;
}

int wsc__inflate_step(wsc__deflate *d, const uint8_t *in, size_t n, int end, uint8_t *out,
                      size_t cap, size_t *used, size_t *produced, int *done) {
  z_stream *z = d->rx;
  size_t took_in = 0;
  int rc;
  *used = *produced = 0;
  *done = 0;
  if (!z) return WSC_EINTERNAL;
  if (cap > UINT_MAX) cap = UINT_MAX;
  z->next_out = out;
  z->avail_out = (uInt)cap;
  for (;;) {
    const uint8_t *src = NULL;
    size_t avail = 0;
    int is_tail = 0;
    if (d->rx_ended && took_in < n && (rc = rx_restart(d)) != 0) return rc;
    if (took_in < n) {
      src = in + took_in;
      avail = n - took_in;
    } else if (end && d->rx_tail < 4 && !d->rx_ended) {
      src = flush_tail + d->rx_tail;
      avail = 4u - d->rx_tail;
      is_tail = 1;
    }
    if (avail == 0 && !d->rx_pending) break;
    uInt a = avail > UINT_MAX ? UINT_MAX : (uInt)avail;
    uInt room = z->avail_out;
    z->next_in = (Bytef *)(uintptr_t)src;
    z->avail_in = a;
    int zr = inflate(z, Z_SYNC_FLUSH);
    size_t took = a - z->avail_in;
    if (is_tail) d->rx_tail = (uint8_t)(d->rx_tail + took);
    else took_in += took;
    z->next_in = Z_NULL;
    z->avail_in = 0;
    if (zr == Z_STREAM_END) {
      d->rx_ended = 1;
    } else if (zr != Z_OK && zr != Z_BUF_ERROR) {
      /* report what came out before the bad bytes too: the caller checks
       * it first, so the outcome does not depend on how reads were cut */
      *used = took_in;
      *produced = cap - z->avail_out;
      return zr == Z_MEM_ERROR ? WSC_ENOMEM : WSC_EBADDATA;
    }
    d->rx_pending = z->avail_out == 0; /* zlib may have more for us */
    if (z->avail_out == 0) break;
    if (took == 0 && room == z->avail_out) break; /* no progress possible */
  }
  *used = took_in;
  *produced = cap - z->avail_out;
  if (took_in == n && !d->rx_pending && (!end || d->rx_tail == 4 || d->rx_ended)) {
    /* a message must stop between blocks (data_type bit 128: inflate waits
     * for a block header), else the next message would continue a block */
    if (end && !d->rx_ended && !(z->data_type & 128)) {
      *produced = cap - z->avail_out;
      return WSC_EBADDATA;
    }
    *done = 1;
  }
  return 0;
}

void wsc__inflate_finish(wsc__deflate *d) {
  if (d->rx_reset) {
    free_rx(d); /* no context takeover: nothing to keep until the next message */
    d->rx_ended = 0;
  } /* else a stream that ended (rx_ended) is restarted by the next message */
  d->rx_msg = 0;
  d->rx_tail = 0;
  d->rx_pending = 0;
  d->wire = 0;
}
