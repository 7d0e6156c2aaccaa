/* blob.c - wsc_blob: a received binary message as a read-only object, in
 * memory or in an unlinked temporary file (see blob.h). */
#define _GNU_SOURCE /* O_TMPFILE, mkostemp */
#include "api/blob.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

const uint8_t wsc__blob_empty[1];

/* ---- the public object -------------------------------------------------- */

uint64_t wsc_blob_size(const wsc_blob *b) { return b ? b->size : 0; }

const void *wsc_blob_data(const wsc_blob *b) { return b ? b->data : wsc__blob_empty; }

int wsc_blob_fd(const wsc_blob *b) { return b ? b->fd : -1; }

int64_t wsc_blob_read(const wsc_blob *b, uint64_t offset, void *buf, size_t n) {
  if (!b || (!buf && n)) return WSC_EINVAL;
  if (offset >= b->size) return 0;
  if (n > b->size - offset) n = (size_t)(b->size - offset);
  if (n > (size_t)SSIZE_MAX) n = (size_t)SSIZE_MAX;
  if (b->kind == WSC__BLOB_SLICE) return wsc_blob_read(b->parent, b->offset + offset, buf, n);
  if (b->kind != WSC__BLOB_FILE) {
    memcpy(buf, b->data + offset, n);
    return (int64_t)n;
  }
  /* pread, not the mapping: reading does not make the file resident in the
   * process, and it is safe from any thread (no shared file offset) */
  size_t got = 0;
  while (got < n) {
    ssize_t r = pread(b->fd, (uint8_t *)buf + got, n - got, (off_t)(offset + got));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -errno;
    if (r == 0) break; /* cannot happen unless someone truncated the file */
    got += (size_t)r;
  }
  return (int64_t)got;
}

static wsc_blob *heap_blob(int kind, const void *data, uint64_t size) {
  wsc_blob *h = malloc(sizeof *h);
  if (!h) return NULL;
  memset(h, 0, sizeof *h);
  atomic_init(&h->refs, 1);
  h->kind = (uint8_t)kind;
  h->data = data ? data : wsc__blob_empty;
  h->size = size;
  h->fd = -1;
  return h;
}

wsc_blob *wsc_blob_ref(const wsc_blob *cb) {
  if (!cb) return NULL;
  /* the event's borrowed blob is a non-const object on the event's stack */
  wsc_blob *b = (wsc_blob *)cb;
  if (b->kind == WSC__BLOB_BORROWED) {
    if (!b->promoted) {
      void *bytes = NULL;
      int take = b->held && b->size && b->held->data == b->data;
      if (!take && b->size) {
        bytes = malloc((size_t)b->size);
        if (!bytes) return NULL;
        memcpy(bytes, b->data, (size_t)b->size);
      }
      wsc_blob *h = heap_blob(WSC__BLOB_MEMORY, take ? b->held->data : bytes, b->size);
      if (!h) {
        free(bytes);
        return NULL;
      }
      if (take) { /* the assembly buffer is the blob's now; the socket starts a new one */
        h->owned = b->held->data;
        *b->held = (wsc__buf){0};
      } else {
        h->owned = bytes;
      }
      b->held = NULL;
      b->promoted = h; /* its first reference is the event's */
    }
    b = b->promoted;
  }
  atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
  return b;
}

void wsc_blob_unref(wsc_blob *b) {
  if (!b || b->kind == WSC__BLOB_BORROWED) return;
  if (atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) != 1) return;
  if (b->map) munmap(b->map, (size_t)b->size);
  if (b->fd >= 0) close(b->fd);
  free(b->owned);
  wsc_blob_unref(b->parent);
  free(b);
}

/* Blob.slice's clamping of a relative position to 0..size. */
static uint64_t clamp_pos(int64_t pos, uint64_t size) {
  if (pos < 0) {
    uint64_t back = pos == INT64_MIN ? (uint64_t)INT64_MAX + 1 : (uint64_t)-pos;
    return back >= size ? 0 : size - back;
  }
  return (uint64_t)pos < size ? (uint64_t)pos : size;
}

wsc_blob *wsc_blob_slice(const wsc_blob *blob, int64_t start, int64_t end) {
  if (!blob) return NULL;
  uint64_t from = clamp_pos(start, blob->size), to = clamp_pos(end, blob->size);
  if (to < from) to = from;
  wsc_blob *whole = wsc_blob_ref(blob); /* a borrowed blob moves to the heap here */
  if (!whole) return NULL;
  if (whole->kind == WSC__BLOB_SLICE) { /* refer to the original, not to a chain */
    wsc_blob *orig = wsc_blob_ref(whole->parent);
    from += whole->offset;
    to += whole->offset;
    wsc_blob_unref(whole);
    whole = orig;
  }
  wsc_blob *s = heap_blob(WSC__BLOB_SLICE, whole->data + from, to - from);
  if (!s) {
    wsc_blob_unref(whole);
    return NULL;
  }
  s->parent = whole; /* the reference taken above */
  s->offset = from;
  return s;
}

/* ---- file-backed messages ----------------------------------------------- */

static int failed(char *err, size_t errlen, int rc, const char *what, const char *dir) {
  if (dir)
    snprintf(err, errlen, "binaryType blob: %s in %s: %s", what, dir, wsc_strerror(rc));
  else
    snprintf(err, errlen, "binaryType blob: %s: %s", what, wsc_strerror(rc));
  return rc;
}

/* An unlinked file in dir: O_TMPFILE where the file system has it, else
 * mkostemp and unlink at once. Either way the file disappears with its
 * last descriptor, also when the process dies. */
static int create(wsc__blob_file *f, const char *dir, char *err, size_t errlen) {
  if (!dir) {
    dir = getenv("TMPDIR");
    if (!dir || !*dir) dir = "/tmp";
  }
  int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
    char path[PATH_MAX];
    int n = snprintf(path, sizeof path, "%s/wsc-blob-XXXXXX", dir);
    if (n < 0 || (size_t)n >= sizeof path)
      return failed(err, errlen, -ENAMETOOLONG, "cannot create a temporary file", dir);
    fd = mkostemp(path, O_CLOEXEC);
    if (fd >= 0) unlink(path);
  }
  if (fd < 0) return failed(err, errlen, -errno, "cannot create a temporary file", dir);
  f->fd = fd;
  f->open = 1;
  f->size = 0;
  return 0;
}

static int put(wsc__blob_file *f, const void *data, size_t len, char *err, size_t errlen) {
  const uint8_t *p = data;
  while (len) {
    ssize_t w = write(f->fd, p, len);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0)
      return failed(err, errlen, w < 0 ? -errno : -EIO, "cannot write the message file", NULL);
    p += w;
    len -= (size_t)w;
    f->size += (uint64_t)w;
  }
  return 0;
}

static int finish(wsc__blob_file *f, wsc_blob **done, char *err, size_t errlen) {
  if (f->size > SIZE_MAX)
    return failed(err, errlen, -EFBIG, "cannot map the message file", NULL);
  void *map = NULL;
  if (f->size) {
    map = mmap(NULL, (size_t)f->size, PROT_READ, MAP_SHARED, f->fd, 0);
    if (map == MAP_FAILED) return failed(err, errlen, -errno, "cannot map the message file", NULL);
  }
  wsc_blob *b = heap_blob(WSC__BLOB_FILE, map, f->size);
  if (!b) {
    if (map) munmap(map, (size_t)f->size);
    return failed(err, errlen, -ENOMEM, "cannot map the message file", NULL);
  }
  b->map = map;
  b->fd = f->fd;
  f->open = 0;
  *done = b;
  return 0;
}

int wsc__blob_file_add(wsc__blob_file *f, const char *dir, wsc__buf *pending, const void *data,
                       size_t len, int last, wsc_blob **done, char *err, size_t errlen) {
  *done = NULL;
  int rc = 0;
  if (!f->open) {
    rc = create(f, dir, err, errlen);
    if (rc) return rc;
    if (pending->len) rc = put(f, pending->data, pending->len, err, errlen);
    wsc__buf_free(pending); /* memory held stays below the threshold plus a piece */
  }
  if (!rc && len) rc = put(f, data, len, err, errlen);
  if (!rc && last) rc = finish(f, done, err, errlen);
  if (rc) wsc__blob_file_discard(f);
  return rc;
}

void wsc__blob_file_discard(wsc__blob_file *f) {
  if (f->open) close(f->fd);
  f->open = 0;
  f->size = 0;
}

int wsc__blob_close_code(int err) {
  switch (err) {
  case -ENOSPC:
  case -EDQUOT:
  case -EFBIG:
  case -ENOMEM:
    return WSC_CLOSE_MESSAGE_TOO_BIG;
  default:
    return WSC_CLOSE_INTERNAL_ERROR;
  }
}
