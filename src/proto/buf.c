/* buf.c - growable byte buffer. Growth doubles, so appends are amortised O(1). */
#include "proto/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wsc.h"

int wsc__buf_reserve(wsc__buf *b, size_t extra) {
  if (extra <= b->cap - b->len) return 0;
  if (extra > SIZE_MAX / 2 - b->len) return WSC_ENOMEM;
  size_t need = b->len + extra;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < need) cap *= 2;
  uint8_t *p = realloc(b->data, cap);
  if (!p) return WSC_ENOMEM;
  b->data = p;
  b->cap = cap;
  return 0;
}

int wsc__buf_append(wsc__buf *b, const void *p, size_t n) {
  if (n == 0) return 0;
  int rc = wsc__buf_reserve(b, n);
  if (rc) return rc;
  memcpy(b->data + b->len, p, n);
  b->len += n;
  return 0;
}

int wsc__buf_puts(wsc__buf *b, const char *s) { return wsc__buf_append(b, s, strlen(s)); }

int wsc__buf_printf(wsc__buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0) return WSC_EINVAL;
  int rc = wsc__buf_reserve(b, (size_t)n + 1);
  if (rc) return rc;
  va_start(ap, fmt);
  vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
  return 0;
}

void wsc__buf_consume(wsc__buf *b, size_t n) {
  if (n >= b->len) {
    b->len = 0;
    return;
  }
  memmove(b->data, b->data + n, b->len - n);
  b->len -= n;
}

void wsc__buf_reset(wsc__buf *b) { b->len = 0; }

void wsc__buf_free(wsc__buf *b) {
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}
