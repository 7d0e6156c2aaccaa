/* buf.h - a growable byte buffer with a hard cap (internal). */
#ifndef WSC_PROTO_BUF_H
#define WSC_PROTO_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct wsc__buf {
  uint8_t *data; /* owned; NULL until the first append */
  size_t len;
  size_t cap;
} wsc__buf;

/* Make room for `extra` more bytes. 0, or WSC_ENOMEM. */
int wsc__buf_reserve(wsc__buf *b, size_t extra);
/* Append bytes / a NUL-terminated string / a formatted string (no NUL stored).
 * 0, or WSC_ENOMEM (the buffer is unchanged then). */
int wsc__buf_append(wsc__buf *b, const void *p, size_t n);
int wsc__buf_puts(wsc__buf *b, const char *s);
int wsc__buf_printf(wsc__buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Drop the first n bytes (n <= len). */
void wsc__buf_consume(wsc__buf *b, size_t n);
void wsc__buf_reset(wsc__buf *b); /* len = 0, keeps the memory */
void wsc__buf_free(wsc__buf *b);  /* frees and zeroes */

#endif
