/* deflate.h - permessage-deflate compression with zlib, RFC 7692 section 7.2
 * (internal; conn.c drives it).
 *
 * One wsc__deflate per connection that negotiated the extension, allocated
 * when the agreement is attached (about 48 bytes). The zlib streams inside
 * are created lazily, at the first compressed message in each direction, and
 * freed after every message when the direction has no context takeover, so
 * an idle connection without takeover holds no zlib state at all.
 *
 * Sending: raw DEFLATE (negative windowBits) flushed with Z_SYNC_FLUSH at the
 * end of every piece handed in; the 00 00 ff ff that ends a flush is removed
 * from the end of the message (section 7.2.1) and, between fragments of one
 * message, carried to the front of the next piece so it is never lost.
 *
 * Receiving: the caller inflates chunk by chunk into a buffer of its own
 * (no allocation per message); 00 00 ff ff is appended after the last frame
 * (section 7.2.2). A message must end at a DEFLATE block boundary or right
 * after a final block (BFINAL). Data after a final block, in the same message
 * (RFC 7692 section 7.2.3.4) or a later one, starts a new DEFLATE stream that
 * keeps the window (copied out and back in with inflateGetDictionary /
 * inflateSetDictionary, a transient allocation of one window).
 *
 * Memory (zlib's formulas, window 2^bits, memLevel m = bits - 7), each plus
 * a 112-byte z_stream; measured figures are in docs/protocol-notes.md:
 *   deflate: (1 << (bits+2)) + (1 << (m+9)) + ~5.9 KiB   (262 KiB at 15 bits)
 *   inflate: (1 << bits) + ~7.1 KiB                        (39 KiB at 15 bits)
 * wsc__deflate_memory reports the exact bytes held (zlib allocates through
 * hooks that count).
 */
#ifndef WSC_PROTO_DEFLATE_H
#define WSC_PROTO_DEFLATE_H

#include <stddef.h>
#include <stdint.h>

#include "proto/pmd.h"

/* Output chunk for both directions: inflated data is handed out in pieces of
 * at most this many bytes; compressed data is framed in frames of at most
 * this many bytes. Lives on the stack of the call that uses it. */
#define WSC__DEFLATE_CHUNK 16384

struct z_stream_s;

typedef struct wsc__deflate {
  struct z_stream_s *tx; /* compressor, NULL until needed */
  struct z_stream_s *rx; /* decompressor, NULL until needed */
  size_t threshold;      /* whole messages shorter than this go uncompressed */
  size_t zmem;           /* bytes zlib (and the z_streams) hold now */
  size_t zmem_peak;      /* the most they ever held */
  uint64_t wire;         /* compressed bytes of the message being received */
  wsc__pmd_params params;
  uint8_t is_server;
  uint8_t tx_bits;  /* windowBits for the compressor (8 becomes 9) */
  uint8_t level;    /* zlib level for the compressor, 1..9; 0 = zlib's default (6) */
  uint8_t rx_bits;  /* for the inflater: always 15 (see wsc__deflate_new) */
  uint8_t tx_reset, rx_reset; /* no context takeover in that direction */
  /* receiving */
  uint8_t rx_msg;     /* 1: a compressed message is being received */
  uint8_t rx_tail;    /* bytes of the 00 00 ff ff tail fed so far */
  uint8_t rx_ended;   /* the stream ended (BFINAL); restart it before more data */
  uint8_t rx_pending; /* zlib may hold output not yet handed out */
  /* sending */
  uint8_t tx_msg;  /* fragmented message being sent: 0 none, 1 compressed, 2 plain */
  uint8_t tx_tail; /* a 00 00 ff ff held back from the previous fragment */
} wsc__deflate;

/* A new state for an agreement; is_server selects which half of the
 * parameters applies to sending. NULL when out of memory. */
wsc__deflate *wsc__deflate_new(const wsc__pmd_params *p, int is_server, size_t threshold);
/* Free d and its zlib streams. NULL is fine. */
void wsc__deflate_free(wsc__deflate *d);

/* Where compressed output goes: piece p[0..n), last = 1 on the final piece of
 * this wsc__deflate_compress call. Return 0 or a negative error. */
typedef int (*wsc__deflate_sink)(void *ctx, const uint8_t *p, size_t n, int last);

/* Compress the next piece of a message (fin = 1 for the last piece) and pass
 * the output to sink in pieces of at most WSC__DEFLATE_CHUNK bytes; sink is
 * called at least once. Returns 0, WSC_ENOMEM, WSC_EINTERNAL (zlib refused),
 * or the sink's error. */
int wsc__deflate_compress(wsc__deflate *d, const uint8_t *in, size_t len, int fin,
                          wsc__deflate_sink sink, void *ctx);

/* A compressed message starts (RSV1 on its first frame): create the
 * decompressor if needed. 0 or WSC_ENOMEM. */
int wsc__inflate_begin(wsc__deflate *d);

/* Inflate from in[0..n) (and, when end is set and all of in is taken, the
 * 00 00 ff ff tail) into out[0..cap). *used = input bytes taken, *produced =
 * bytes written, *done = 1 when all input is taken and no output is pending
 * (call again while it is 0 and there is room). Returns 0, WSC_EBADDATA
 * (invalid DEFLATE data, or a message that does not end at a block boundary)
 * or WSC_ENOMEM; *used and *produced then still count what came before the
 * fault (valid output the caller should check first, so that which error
 * wins does not depend on how the input was split). */
int wsc__inflate_step(wsc__deflate *d, const uint8_t *in, size_t n, int end, uint8_t *out,
                      size_t cap, size_t *used, size_t *produced, int *done);

/* The compressed message ended: reset the per-message state; free the
 * decompressor when the peer does not keep context. */
void wsc__inflate_finish(wsc__deflate *d);

/* The memLevel used with a window of 2^bits: bits - 7 (at most 8). The hash
 * table then has one entry per window byte (zlib's default 8 at 15 bits; 5
 * at 12, what Python's websockets picks for servers), and a block holds
 * 2^(m+6) symbols, half the window: a larger block outgrows a small window,
 * and a block whose start has left the window can no longer be sent stored,
 * so incompressible data would grow by several percent instead of ~2% at 9
 * bits and ~0.1% at 15. */
int wsc__deflate_mem_level(unsigned bits);

/* Bytes of zlib state held now; *peak (if not NULL) the most ever held. */
size_t wsc__deflate_memory(const wsc__deflate *d, size_t *peak);

#endif
