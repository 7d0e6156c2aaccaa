/* fuzz_conn_feed.h - shared by the fuzz targets that drive a protocol core
 * connection (fuzz_conn, fuzz_deflate): feed it in pieces and check the
 * contract of wsc__conn_recv on every call. Header-only: each target is its
 * own program. */
#ifndef WSC_FUZZ_CONN_FEED_H
#define WSC_FUZZ_CONN_FEED_H

#include <stddef.h>
#include <stdint.h>

#include "proto/conn.h"
#include "wsc.h"

/* Feed buf[0..n) to c in pieces whose lengths (1 to 64) come from cuts, the
 * rest at once. Every call must take all it was given unless it fails; a
 * failure must be a peer's fault (EPROTO, EBADDATA, ETOOBIG), recorded in the
 * conn with a message and answered with a Close. Returns the final result. */
static inline int fuzz_conn_feed(wsc__conn *c, uint8_t *buf, size_t n, const uint8_t *cuts,
                                 size_t ncuts) {
  size_t off = 0, k = 0;
  int rc = 0;
  while (off < n && rc == 0) {
    size_t piece = n - off;
    if (k < ncuts) piece = 1 + cuts[k++] % (piece < 64 ? piece : 64);
    size_t used = 0;
    rc = wsc__conn_recv(c, buf + off, piece, &used);
    if (used > piece || (rc == 0 && used != piece)) __builtin_trap();
    off += piece;
  }
  if (rc) {
    if (rc != WSC_EPROTO && rc != WSC_EBADDATA && rc != WSC_ETOOBIG) __builtin_trap();
    if (c->error != rc || !c->error_msg || !c->close_sent) __builtin_trap();
  }
  return rc;
}

#endif
