/* blob.h - the wsc_blob behind binaryType "blob" (internal).
 *
 * Three kinds of blob:
 *   borrowed  on the stack of the message event, pointing at the message
 *             where it already is (the read buffer or the socket's assembly
 *             buffer): an in-memory message costs no allocation unless the
 *             application keeps it. wsc_blob_ref promotes it to the heap
 *             (taking over the assembly buffer, or copying from the read
 *             buffer) and remembers the promoted blob, so later references
 *             in the same event share it.
 *   memory    on the heap, owning its bytes (a promoted borrowed blob).
 *   file      on the heap: an unlinked temporary file, mapped read-only.
 *   slice     on the heap: a range of a memory or file blob, holding a
 *             reference to it (wsc_blob_slice).
 * Heap blobs are reference counted (atomically: a reference may travel to
 * another thread). The event holds one reference of its own to a file blob
 * or a promoted blob during dispatch, so a listener that takes and drops a
 * reference cannot free the bytes under the next listener.
 *
 * A file-backed message is written by a wsc__blob_file as its DATA pieces
 * arrive: the bytes assembled so far are flushed to the file when the
 * message passes the threshold, then every piece is appended, and the last
 * one turns the file into a blob. */
#ifndef WSC_API_BLOB_H
#define WSC_API_BLOB_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/buf.h"
#include "wsc.h"

enum { WSC__BLOB_BORROWED = 0, WSC__BLOB_MEMORY = 1, WSC__BLOB_FILE = 2, WSC__BLOB_SLICE = 3 };

struct wsc_blob {
  atomic_size_t refs;   /* heap blobs only */
  const uint8_t *data;  /* the bytes (a file blob: the mapping) */
  uint64_t size;
  int fd;               /* file blob: the unlinked file; else -1 */
  uint8_t kind;
  void *map;            /* file blob: mmap'ed region (NULL when size is 0) */
  void *owned;          /* memory blob: the bytes to free */
  wsc__buf *held;       /* borrowed: the buffer holding data, taken over by a
                           reference instead of copied (NULL: copy) */
  wsc_blob *promoted;   /* borrowed: the heap blob its first reference made */
  wsc_blob *parent;     /* slice: the memory or file blob it holds a reference to */
  uint64_t offset;      /* slice: where it starts in parent */
};

extern const uint8_t wsc__blob_empty[1];

/* Make b a borrowed blob of data/len for one message event; held, if not
 * NULL, is the buffer whose data this is (a reference may take it over and
 * leaves it zeroed). Inline and without memset: it runs for every binary
 * message (refs is not used by a borrowed blob). */
static inline void wsc__blob_borrow(wsc_blob *b, const void *data, size_t len, wsc__buf *held) {
  b->data = data ? (const uint8_t *)data : wsc__blob_empty;
  b->size = len;
  b->fd = -1;
  b->kind = WSC__BLOB_BORROWED;
  b->map = NULL;
  b->owned = NULL;
  b->held = held;
  b->promoted = NULL;
}
/* The event is over: drop the event's reference to the promoted blob. */
static inline void wsc__blob_borrow_end(wsc_blob *b) {
  if (b->promoted) wsc_blob_unref(b->promoted);
  b->promoted = NULL;
}

/* A message being written to a file. Zeroed = none open. */
typedef struct wsc__blob_file {
  int fd;
  uint8_t open;
  uint64_t size;
} wsc__blob_file;

/* Add a piece of a message to the file, creating it first (in dir, or
 * $TMPDIR, or /tmp) and flushing pending (the bytes assembled so far, then
 * freed) into it. When last is set the file becomes a blob: *done gets it,
 * with one reference for the caller; otherwise *done is NULL. Returns 0, or
 * a negated errno with a message in err (the file is discarded then). */
int wsc__blob_file_add(wsc__blob_file *f, const char *dir, wsc__buf *pending, const void *data,
                       size_t len, int last, wsc_blob **done, char *err, size_t errlen);
/* Discard an unfinished file (closes it; the system deletes it). */
void wsc__blob_file_discard(wsc__blob_file *f);

/* The Close code a failure of wsc__blob_file_add calls for: 1009 when the
 * message does not fit (disk full, quota, file or mapping too big), 1011
 * otherwise. */
int wsc__blob_close_code(int err);

#endif
