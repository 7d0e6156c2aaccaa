/* http.c - incremental HTTP/1.1 head scanning and in-place parsing. */
#include "proto/http.h"

#include <string.h>

#include "wsc.h"

/* ---- Grammar helpers ------------------------------------------------------ */

int wsc__http_is_tchar(int c) {
  /* tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
   *         "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA */
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return 1;
  switch (c) {
  case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
  case '-': case '.': case '^': case '_': case '`': case '|': case '~':
    return 1;
  default:
    return 0;
  }
}

int wsc__http_is_token(const char *s, size_t n) {
  if (n == 0) return 0;
  for (size_t i = 0; i < n; i++)
    if (!wsc__http_is_tchar((unsigned char)s[i])) return 0;
  return 1;
}

static int is_field_char(unsigned char c) { return c == '\t' || (c >= 0x20 && c != 0x7f); }

int wsc__http_is_field_value(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!is_field_char((unsigned char)s[i])) return 0;
  return 1;
}

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c; }

int wsc__http_eq_nocase(const char *a, size_t an, const char *b) {
  size_t bn = strlen(b);
  if (an != bn) return 0;
  for (size_t i = 0; i < an; i++)
    if (lower((unsigned char)a[i]) != lower((unsigned char)b[i])) return 0;
  return 1;
}

static int is_ows(char c) { return c == ' ' || c == '\t'; }

int wsc__http_list_next(const char **p, const char *end, wsc__http_str *elem) {
  const char *s = *p;
  while (s < end && (*s == ',' || is_ows(*s))) s++;
  if (s == end) {
    *p = s;
    return 0;
  }
  const char *e = s;
  while (e < end && *e != ',') e++;
  *p = e;
  while (e > s && is_ows(e[-1])) e--;
  elem->ptr = s;
  elem->len = (size_t)(e - s);
  return 1;
}

int wsc__http_list_has_token(const char *s, size_t n, const char *token) {
  const char *p = s, *end = s + n;
  wsc__http_str e;
  while (wsc__http_list_next(&p, end, &e))
    if (wsc__http_eq_nocase(e.ptr, e.len, token)) return 1;
  return 0;
}

static const char *skip_ows(const char *s, const char *end) {
  while (s < end && is_ows(*s)) s++;
  return s;
}

static const char *skip_token(const char *s, const char *end) {
  while (s < end && wsc__http_is_tchar((unsigned char)*s)) s++;
  return s;
}

/* qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text; quoted-pair = "\" (HTAB / SP / VCHAR / obs-text) */
static const char *skip_quoted(const char *s, const char *end) {
  /* s is just past the opening quote; returns just past the closing one, or NULL. */
  while (s < end) {
    unsigned char c = (unsigned char)*s;
    if (c == '"') return s + 1;
    if (c == '\\') {
      if (++s == end || !is_field_char((unsigned char)*s)) return NULL;
    } else if (!is_field_char(c)) {
      return NULL;
    }
    s++;
  }
  return NULL;
}

int wsc__http_ext_next(const char **p, const char *end, wsc__http_str *name,
                       wsc__http_str *params) {
  const char *s = *p;
  while (s < end && (*s == ',' || is_ows(*s))) s++;
  if (s == end) {
    *p = s;
    return 0;
  }
  *p = s; /* where the element starts, in case it is bad */
  const char *q = skip_token(s, end);
  if (q == s) return -1;
  name->ptr = s;
  name->len = (size_t)(q - s);
  params->ptr = NULL;
  params->len = 0;
  const char *pend = NULL; /* end of the last parameter */
  for (;;) {
    q = skip_ows(q, end);
    if (q == end || *q == ',') break;
    if (*q != ';') return -1;
    if (!params->ptr) params->ptr = q;
    q = skip_ows(q + 1, end);
    const char *t = skip_token(q, end);
    if (t == q) return -1;
    q = t;
    const char *r = skip_ows(q, end);
    if (r < end && *r == '=') {
      r = skip_ows(r + 1, end);
      if (r < end && *r == '"') {
        r = skip_quoted(r + 1, end);
        if (!r) return -1;
      } else {
        t = skip_token(r, end);
        if (t == r) return -1;
        r = t;
      }
      q = r;
    }
    pend = q;
  }
  if (params->ptr) params->len = (size_t)(pend - params->ptr);
  if (q < end) q++; /* the comma */
  *p = q;
  return 1;
}

/* ---- Scanning ------------------------------------------------------------- */

enum {
  SCAN_LINE_START = 0, /* at the start of a line */
  SCAN_IN_LINE,        /* inside a line */
  SCAN_CR,             /* just after a CR that ends a non-empty line */
  SCAN_EMPTY_CR,       /* just after a CR at the start of a line */
  SCAN_DONE
};

void wsc__http_head_init(wsc__http_head *h, size_t max_size) {
  memset(h, 0, sizeof *h);
  h->max_size = max_size ? max_size : WSC_DEFAULT_MAX_HANDSHAKE;
  h->state = SCAN_LINE_START;
}

void wsc__http_head_free(wsc__http_head *h) {
  wsc__buf_free(&h->buf);
  h->nheaders = 0;
}

int wsc__http_head_feed(wsc__http_head *h, const uint8_t *data, size_t len, size_t *consumed,
                        const char **err) {
  *consumed = 0;
  if (h->state == SCAN_DONE) return 1;
  /* Only the bytes that still fit under the limit are looked at: the outcome
   * is decided by the first max_size bytes of the stream, however split. */
  size_t room = h->max_size - h->buf.len;
  size_t n = len < room ? len : room;
  unsigned st = h->state;
  size_t i;
  for (i = 0; i < n; i++) {
    uint8_t c = data[i];
    if (st == SCAN_CR || st == SCAN_EMPTY_CR) {
      if (c != '\n') {
        *err = "bare CR in head (lines must end in CRLF)";
        return WSC_EHANDSHAKE;
      }
      if (st == SCAN_EMPTY_CR) {
        i++;
        st = SCAN_DONE;
        break;
      }
      st = SCAN_LINE_START;
    } else if (c == '\r') {
      st = st == SCAN_LINE_START ? SCAN_EMPTY_CR : SCAN_CR;
    } else if (c == '\n') {
      *err = "bare LF in head (lines must end in CRLF)";
      return WSC_EHANDSHAKE;
    } else if (c == 0) {
      *err = "NUL byte in head";
      return WSC_EHANDSHAKE;
    } else {
      st = SCAN_IN_LINE;
    }
  }
  if (wsc__buf_append(&h->buf, data, i)) {
    *err = "out of memory";
    return WSC_ENOMEM;
  }
  h->state = st;
  if (st == SCAN_DONE) {
    *consumed = i;
    return 1;
  }
  if (h->buf.len >= h->max_size) {
    *err = "head exceeds the size limit";
    return WSC_EHEADERSIZE;
  }
  *consumed = len;
  return 0;
}

/* ---- Parsing -------------------------------------------------------------- */

static int is_vchar(unsigned char c) { return c > 0x20 && c < 0x7f; }

/* "HTTP/" DIGIT "." DIGIT */
static int is_http_version(const char *s, size_t n) {
  return n == 8 && memcmp(s, "HTTP/", 5) == 0 && s[5] >= '0' && s[5] <= '9' && s[6] == '.' &&
         s[7] >= '0' && s[7] <= '9';
}

static int parse_request_line(wsc__http_head *h, char *s, char *e) {
  char *sp1 = memchr(s, ' ', (size_t)(e - s));
  if (!sp1 || !wsc__http_is_token(s, (size_t)(sp1 - s))) return -1;
  char *t = sp1 + 1, *sp2 = t;
  while (sp2 < e && is_vchar((unsigned char)*sp2)) sp2++;
  if (sp2 == t || sp2 == e || *sp2 != ' ') return -1;
  char *v = sp2 + 1;
  if (!is_http_version(v, (size_t)(e - v))) return -1;
  h->start[0] = (wsc__http_str){s, (size_t)(sp1 - s)};
  h->start[1] = (wsc__http_str){t, (size_t)(sp2 - t)};
  h->start[2] = (wsc__http_str){v, (size_t)(e - v)};
  *sp1 = *sp2 = *e = '\0';
  return 0;
}

static int parse_status_line(wsc__http_head *h, char *s, char *e) {
  /* status-line = HTTP-version SP status-code SP reason-phrase. A missing
   * "SP reason-phrase" is tolerated (seen in the wild, harmless). */
  if (e - s < 12 || !is_http_version(s, 8) || s[8] != ' ') return -1;
  char *code = s + 9;
  for (int i = 0; i < 3; i++)
    if (code[i] < '0' || code[i] > '9') return -1;
  char *r = code + 3;
  if (r < e && *r != ' ') return -1;
  char *reason = r < e ? r + 1 : e;
  for (char *p = reason; p < e; p++)
    if (!is_field_char((unsigned char)*p)) return -1;
  h->start[0] = (wsc__http_str){s, 8};
  h->start[1] = (wsc__http_str){code, 3};
  h->start[2] = (wsc__http_str){reason, (size_t)(e - reason)};
  s[8] = *r = *e = '\0';
  return 0;
}

static int parse_header_line(wsc__http_head *h, char *s, char *e, const char **err) {
  if (is_ows(*s)) {
    *err = "obsolete line folding in header";
    return WSC_EHANDSHAKE;
  }
  char *colon = (char *)skip_token(s, e);
  if (colon == e) {
    *err = "header line without a colon";
    return WSC_EHANDSHAKE;
  }
  if (*colon != ':') {
    if (!memchr(colon, ':', (size_t)(e - colon)))
      *err = "header line without a colon";
    else if (is_ows(*colon))
      *err = "whitespace before the colon in a header";
    else
      *err = "invalid header name";
    return WSC_EHANDSHAKE;
  }
  if (colon == s) {
    *err = "empty header name";
    return WSC_EHANDSHAKE;
  }
  char *v = (char *)skip_ows(colon + 1, e), *ve = e;
  while (ve > v && is_ows(ve[-1])) ve--;
  if (!wsc__http_is_field_value(v, (size_t)(ve - v))) {
    *err = "control character in a header value";
    return WSC_EHANDSHAKE;
  }
  if (h->nheaders == WSC__HTTP_MAX_HEADERS) {
    *err = "too many header fields";
    return WSC_EHEADERSIZE;
  }
  wsc__http_header *hd = &h->headers[h->nheaders++];
  hd->name = s;
  hd->name_len = (size_t)(colon - s);
  hd->value = v;
  hd->value_len = (size_t)(ve - v);
  *colon = '\0';
  *ve = '\0'; /* ve < e or ve == e (the CR): always inside the line's bytes */
  return 0;
}

int wsc__http_head_parse(wsc__http_head *h, int is_request, const char **err) {
  h->nheaders = 0;
  memset(h->start, 0, sizeof h->start);
  if (h->state != SCAN_DONE) {
    *err = "head is not complete";
    return WSC_EINVAL;
  }
  /* The scanner guarantees: the head ends in CRLF CRLF (or is one CRLF), every
   * CR is followed by LF, every LF follows a CR, and there is no NUL. */
  char *s = (char *)h->buf.data, *end = s + h->buf.len;
  char *e = memchr(s, '\r', (size_t)(end - s));
  int bad = is_request ? parse_request_line(h, s, e) : parse_status_line(h, s, e);
  if (bad) {
    *err = is_request ? "malformed request line" : "malformed status line";
    return WSC_EHANDSHAKE;
  }
  for (s = e + 2; s < end; s = e + 2) {
    e = memchr(s, '\r', (size_t)(end - s));
    if (e == s) break; /* the empty line */
    int rc = parse_header_line(h, s, e, err);
    if (rc) return rc;
  }
  return 0;
}

/* ---- Lookup --------------------------------------------------------------- */

const wsc__http_header *wsc__http_head_next(const wsc__http_head *h, const char *name,
                                            size_t *pos) {
  for (size_t i = *pos; i < h->nheaders; i++) {
    const wsc__http_header *hd = &h->headers[i];
    if (wsc__http_eq_nocase(hd->name, hd->name_len, name)) {
      *pos = i + 1;
      return hd;
    }
  }
  *pos = h->nheaders;
  return NULL;
}

const wsc__http_header *wsc__http_head_get(const wsc__http_head *h, const char *name) {
  size_t pos = 0;
  return wsc__http_head_next(h, name, &pos);
}

size_t wsc__http_head_count(const wsc__http_head *h, const char *name) {
  size_t pos = 0, n = 0;
  while (wsc__http_head_next(h, name, &pos)) n++;
  return n;
}
