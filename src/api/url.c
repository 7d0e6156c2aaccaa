/* url.c - WebSocket URL parsing (WHATWG URL Standard, special schemes) and
 * the subprotocol-list check of the WebSocket constructor. See url.h.
 *
 * The parser reads the input once, front to back, following the URL
 * Standard's state machine for a special scheme with no base URL: scheme,
 * special authority slashes, authority (userinfo), host, port, path, query.
 * It writes the serialised URL as it goes into a scratch buffer whose size is
 * bounded in advance (no byte of input produces more than 3 bytes of output,
 * plus a small constant), then copies the pieces into one exact-size block. */
#include "api/url.h"

#include <stdlib.h>
#include <string.h>

#include "proto/http.h"
#include "proto/utf8.h"
#include "wsc.h"

/* ---- character classes ----------------------------------------------------- */

static int is_alpha(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static int is_digit(int c) { return c >= '0' && c <= '9'; }
static int is_alnum(int c) { return is_alpha(c) || is_digit(c); }
static int hex_val(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
static int to_lower(int c) { return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c; }

/* The URL Standard's percent-encode sets, for one byte of UTF-8. Every byte
 * >= 0x80 is in all of them (C0 control percent-encode set: > U+007E). */
enum { SET_USERINFO, SET_PATH, SET_SPECIAL_QUERY };

static int in_c0_set(unsigned c) { return c < 0x20 || c > 0x7e; }
static int in_query_set(unsigned c) {
  return in_c0_set(c) || c == ' ' || c == '"' || c == '#' || c == '<' || c == '>';
}
static int in_special_query_set(unsigned c) { return in_query_set(c) || c == '\''; }
static int in_path_set(unsigned c) {
  return in_query_set(c) || c == '?' || c == '^' || c == '`' || c == '{' || c == '}';
}
static int in_userinfo_set(unsigned c) {
  return in_path_set(c) || c == '/' || c == ':' || c == ';' || c == '=' || c == '@' ||
         (c >= '[' && c <= '^') || c == '|';
}
static int in_set(unsigned c, int set) {
  switch (set) {
  case SET_USERINFO: return in_userinfo_set(c);
  case SET_PATH: return in_path_set(c);
  default: return in_special_query_set(c);
  }
}

/* Forbidden domain code points (after percent-decoding; ASCII only here). */
static int is_forbidden_domain(unsigned c) {
  if (c <= 0x20 || c == 0x7f) return 1; /* C0 controls, space, DEL */
  switch (c) {
  case '#': case '%': case '/': case ':': case '<': case '>': case '?':
  case '@': case '[': case '\\': case ']': case '^': case '|':
    return 1;
  default:
    return 0;
  }
}

/* Terminators of the authority, host and port states for a special URL. */
static int is_auth_end(int c) { return c == '/' || c == '\\' || c == '?' || c == '#'; }

/* ---- bad ports (Fetch Standard, "port blocking") ----------------------------- */

static const uint16_t bad_ports[] = {
    0,    1,    7,    9,    11,   13,   15,   17,   19,   20,   21,   22,    23,
    25,   37,   42,   43,   53,   69,   77,   79,   87,   95,   101,  102,   103,
    104,  109,  110,  111,  113,  115,  117,  119,  123,  135,  137,  139,   143,
    161,  179,  389,  427,  465,  512,  513,  514,  515,  526,  530,  531,   532,
    540,  548,  554,  556,  563,  587,  601,  636,  989,  990,  993,  995,   1719,
    1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666,  6667,
    6668, 6669, 6679, 6697, 10080};

static int port_is_bad(unsigned port) {
  size_t lo = 0, hi = sizeof bad_ports / sizeof bad_ports[0];
  while (lo < hi) { /* the table is sorted */
    size_t mid = lo + (hi - lo) / 2;
    if (bad_ports[mid] == port) return 1;
    if (bad_ports[mid] < port) lo = mid + 1;
    else hi = mid;
  }
  return 0;
}

/* ---- output buffer ----------------------------------------------------------- */

/* A writer into a buffer sized in advance. The size is an upper bound proved
 * by the construction (see wsc__url_parse_with); `len > cap` would mean that
 * proof is wrong, and is reported as WSC_EINTERNAL rather than overflowing. */
typedef struct wbuf {
  char *p;
  size_t len, cap;
} wbuf;

static void put(wbuf *w, char c) {
  if (w->len < w->cap) w->p[w->len] = c;
  w->len++;
}
static void put_str(wbuf *w, const char *s) {
  while (*s) put(w, *s++);
}
static void put_enc(wbuf *w, unsigned char c, int set) {
  static const char hex[] = "0123456789ABCDEF";
  if (in_set(c, set)) {
    put(w, '%');
    put(w, hex[c >> 4]);
    put(w, hex[c & 15]);
  } else {
    put(w, (char)c);
  }
}
static void put_dec(wbuf *w, uint32_t v) {
  char d[10];
  int n = 0;
  do {
    d[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  while (n) put(w, d[--n]);
}
static int overflowed(const wbuf *w) { return w->len > w->cap; }

/* ---- IPv4 (URL Standard "IPv4 parser") ----------------------------------------- */

/* One part: decimal, 0x hex or 0 octal; "0x" alone is 0. Values above
 * 2^32 - 1 saturate at 2^32 (still "too big"). 0, or -1 if not a number. */
static int ipv4_number(const char *s, size_t n, uint64_t *out) {
  if (n == 0) return -1;
  unsigned radix = 10;
  if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    s += 2, n -= 2, radix = 16;
  } else if (n >= 2 && s[0] == '0') {
    s += 1, n -= 1, radix = 8;
  }
  uint64_t v = 0;
  for (size_t i = 0; i < n; i++) {
    int d = hex_val((unsigned char)s[i]);
    if (d < 0 || (unsigned)d >= radix) return -1;
    v = v * radix + (unsigned)d;
    if (v > 0xffffffffu) v = (uint64_t)1 << 32;
  }
  *out = v;
  return 0;
}

/* The URL Standard's "ends in a number": the last label (ignoring one
 * trailing dot) is all digits or parses as an IPv4 number. */
static int ends_in_number(const char *s, size_t n) {
  if (n > 0 && s[n - 1] == '.') n--;
  size_t start = n;
  while (start > 0 && s[start - 1] != '.') start--;
  const char *last = s + start;
  size_t len = n - start;
  if (len == 0) return 0;
  size_t i = 0;
  while (i < len && is_digit(last[i])) i++;
  if (i == len) return 1;
  uint64_t v;
  return ipv4_number(last, len, &v) == 0;
}

/* 0 with *addr, or -1. s does end in a number. */
static int ipv4_parse(const char *s, size_t n, uint32_t *addr) {
  if (n > 0 && s[n - 1] == '.') n--; /* one empty last part is dropped */
  uint64_t num[4];
  size_t count = 0, start = 0;
  for (size_t i = 0; i <= n; i++) {
    if (i < n && s[i] != '.') continue;
    if (count == 4) return -1; /* more than 4 parts */
    if (ipv4_number(s + start, i - start, &num[count]) != 0) return -1;
    count++;
    start = i + 1;
  }
  for (size_t i = 0; i + 1 < count; i++)
    if (num[i] > 255) return -1;
  if (num[count - 1] >= (uint64_t)1 << (8 * (5 - count))) return -1;
  uint64_t v = num[count - 1];
  for (size_t i = 0; i + 1 < count; i++) v += num[i] << (8 * (3 - i));
  *addr = (uint32_t)v;
  return 0;
}

static void ipv4_serialize(wbuf *w, uint32_t a) {
  for (int i = 3; i >= 0; i--) {
    put_dec(w, (a >> (8 * i)) & 255);
    if (i) put(w, '.');
  }
}

/* ---- IPv6 (URL Standard "IPv6 parser" / "IPv6 serializer") --------------------- */

static int ipv6_parse(const char *s, size_t n, uint16_t a[8]) {
  size_t p = 0;
  int piece = 0, compress = -1;
#define C_ (p < n ? (int)(unsigned char)s[p] : -1)
  memset(a, 0, 8 * sizeof a[0]);
  if (C_ == ':') {
    if (p + 1 >= n || s[p + 1] != ':') return -1;
    p += 2;
    piece++;
    compress = piece;
  }
  while (C_ != -1) {
    if (piece == 8) return -1;
    if (C_ == ':') {
      if (compress != -1) return -1;
      p++;
      piece++;
      compress = piece;
      continue;
    }
    unsigned value = 0, length = 0;
    while (length < 4 && C_ != -1 && hex_val(C_) >= 0) {
      value = value * 16 + (unsigned)hex_val(C_);
      p++;
      length++;
    }
    if (C_ == '.') { /* a dotted IPv4 tail: the last 32 bits */
      if (length == 0) return -1;
      p -= length;
      if (piece > 6) return -1;
      int seen = 0;
      while (C_ != -1) {
        int v4 = -1;
        if (seen > 0) {
          if (C_ == '.' && seen < 4) p++;
          else return -1;
        }
        if (C_ == -1 || !is_digit(C_)) return -1;
        while (C_ != -1 && is_digit(C_)) {
          int d = C_ - '0';
          if (v4 == -1) v4 = d;
          else if (v4 == 0) return -1; /* leading zero */
          else v4 = v4 * 10 + d;
          if (v4 > 255) return -1;
          p++;
        }
        a[piece] = (uint16_t)(a[piece] * 0x100 + v4);
        seen++;
        if (seen == 2 || seen == 4) piece++;
      }
      if (seen != 4) return -1;
      break;
    } else if (C_ == ':') {
      p++;
      if (C_ == -1) return -1;
    } else if (C_ != -1) {
      return -1;
    }
    a[piece] = (uint16_t)value;
    piece++;
  }
#undef C_
  if (compress != -1) {
    int swaps = piece - compress;
    piece = 7;
    while (piece != 0 && swaps > 0) {
      uint16_t t = a[piece];
      a[piece] = a[compress + swaps - 1];
      a[compress + swaps - 1] = t;
      piece--;
      swaps--;
    }
  } else if (piece != 8) {
    return -1;
  }
  return 0;
}

static void ipv6_serialize(wbuf *w, const uint16_t a[8]) {
  static const char hex[] = "0123456789abcdef";
  int best = -1, best_len = 1; /* the first longest run of >= 2 zero pieces */
  for (int i = 0; i < 8;) {
    if (a[i] != 0) {
      i++;
      continue;
    }
    int j = i;
    while (j < 8 && a[j] == 0) j++;
    if (j - i > best_len) best = i, best_len = j - i;
    i = j;
  }
  int ignore0 = 0;
  for (int i = 0; i < 8; i++) {
    if (ignore0 && a[i] == 0) continue;
    ignore0 = 0;
    if (best == i) {
      put_str(w, i == 0 ? "::" : ":");
      ignore0 = 1;
      continue;
    }
    int started = 0;
    for (int shift = 12; shift >= 0; shift -= 4) {
      unsigned d = (a[i] >> shift) & 15;
      if (d || started || shift == 0) {
        put(w, hex[d]);
        started = 1;
      }
    }
    if (i != 7) put(w, ':');
  }
}

/* ---- host parser ------------------------------------------------------------ */

/* Parse h[0..n) (non-empty) and write its serialisation. tmp has room for n
 * bytes. */
static int parse_host(const char *h, size_t n, char *tmp, wbuf *w, wsc__url_host_kind *kind) {
  if (h[0] == '[') {
    uint16_t a[8];
    if (n < 2 || h[n - 1] != ']') return WSC_ESYNTAX;
    if (ipv6_parse(h + 1, n - 2, a) != 0) return WSC_ESYNTAX;
    put(w, '[');
    ipv6_serialize(w, a);
    put(w, ']');
    *kind = WSC__URL_HOST_IPV6;
    return 0;
  }
  /* Percent-decode (a '%' not followed by two hex digits stays a '%', which
   * is then forbidden), then domain to ASCII: non-ASCII is out of scope
   * (IDNA), ASCII is lowercased and checked. */
  size_t dl = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned c = (unsigned char)h[i];
    if (c == '%' && i + 2 < n && hex_val((unsigned char)h[i + 1]) >= 0 &&
        hex_val((unsigned char)h[i + 2]) >= 0) {
      c = (unsigned)(hex_val((unsigned char)h[i + 1]) * 16 + hex_val((unsigned char)h[i + 2]));
      i += 2;
    }
    if (c >= 0x80) return WSC_ESYNTAX;
    c = (unsigned)to_lower((int)c);
    if (is_forbidden_domain(c)) return WSC_ESYNTAX;
    tmp[dl++] = (char)c;
  }
  if (ends_in_number(tmp, dl)) {
    uint32_t addr;
    if (ipv4_parse(tmp, dl, &addr) != 0) return WSC_ESYNTAX;
    ipv4_serialize(w, addr);
    *kind = WSC__URL_HOST_IPV4;
    return 0;
  }
  for (size_t i = 0; i < dl; i++) put(w, tmp[i]);
  *kind = WSC__URL_HOST_DOMAIN;
  return 0;
}

/* ---- the URL parser ---------------------------------------------------------- */

/* Where the pieces of the serialised URL are in the output buffer. */
typedef struct parsed {
  int secure;
  size_t user_off, user_len, pass_off, pass_len;
  size_t host_off, host_len;
  size_t res_off; /* resource: from here to the end */
  wsc__url_host_kind kind;
  uint16_t port;
  int port_explicit;
} parsed;

static int eq_nocase(const char *a, size_t n, const char *b) {
  return wsc__http_eq_nocase(a, n, b);
}

/* "." or "%2e" (any case). */
static int is_single_dot(const char *s, size_t n) {
  return (n == 1 && s[0] == '.') || eq_nocase(s, n, "%2e");
}
/* "..", ".%2e", "%2e.", "%2e%2e" (any case). */
static int is_double_dot(const char *s, size_t n) {
  return (n == 2 && s[0] == '.' && s[1] == '.') || eq_nocase(s, n, ".%2e") ||
         eq_nocase(s, n, "%2e.") || eq_nocase(s, n, "%2e%2e");
}

static int parse(const char *s, size_t n, char *tmp, wbuf *w, parsed *u) {
  size_t i = 0;

  /* scheme start / scheme state: [A-Za-z][A-Za-z0-9+-.]* ":"; anything else
   * is a relative URL ("no scheme state"), a failure without a base URL. */
  if (n == 0 || !is_alpha((unsigned char)s[0])) return WSC_ESYNTAX;
  while (i < n && (is_alnum((unsigned char)s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.'))
    i++;
  if (i == n || s[i] != ':') return WSC_ESYNTAX;
  unsigned default_port;
  if (eq_nocase(s, i, "ws") || eq_nocase(s, i, "http")) {
    u->secure = 0;
    default_port = 80;
  } else if (eq_nocase(s, i, "wss") || eq_nocase(s, i, "https")) {
    u->secure = 1;
    default_port = 443;
  } else {
    return WSC_ESYNTAX;
  }
  i++;
  put_str(w, u->secure ? "wss://" : "ws://");

  /* special authority (ignore) slashes state */
  while (i < n && (s[i] == '/' || s[i] == '\\')) i++;

  /* authority state: up to the first terminator; the last '@' in it ends the
   * userinfo. */
  size_t auth = i, auth_end = i, at = (size_t)-1;
  while (auth_end < n && !is_auth_end((unsigned char)s[auth_end])) {
    if (s[auth_end] == '@') at = auth_end;
    auth_end++;
  }
  size_t host = auth;
  u->user_off = u->pass_off = w->len;
  u->user_len = u->pass_len = 0;
  if (at != (size_t)-1) {
    host = at + 1;
    if (host == auth_end) return WSC_ESYNTAX; /* "user@" with no host */
    const char *colon = memchr(s + auth, ':', at - auth);
    size_t user_end = colon ? (size_t)(colon - s) : at;
    u->user_off = w->len;
    for (size_t k = auth; k < user_end; k++) put_enc(w, (unsigned char)s[k], SET_USERINFO);
    u->user_len = w->len - u->user_off;
    u->pass_off = w->len;
    if (colon) {
      put(w, ':');
      u->pass_off = w->len;
      for (size_t k = user_end + 1; k < at; k++) put_enc(w, (unsigned char)s[k], SET_USERINFO);
      u->pass_len = w->len - u->pass_off;
      if (u->pass_len == 0) w->len = u->pass_off = u->pass_off - 1; /* drop the ':' */
    }
    if (u->user_len || u->pass_len) put(w, '@');
  }

  /* host state: up to a ':' outside brackets */
  size_t host_end = host;
  int in_brackets = 0;
  while (host_end < auth_end) {
    char c = s[host_end];
    if (c == ':' && !in_brackets) break;
    if (c == '[') in_brackets = 1;
    else if (c == ']') in_brackets = 0;
    host_end++;
  }
  if (host_end == host) return WSC_ESYNTAX; /* empty host */
  u->host_off = w->len;
  int rc = parse_host(s + host, host_end - host, tmp, w, &u->kind);
  if (rc) return rc;
  u->host_len = w->len - u->host_off;

  /* port state */
  uint32_t port = default_port;
  u->port_explicit = 0;
  if (host_end + 1 < auth_end) { /* ":" then at least one byte */
    uint32_t v = 0;
    for (size_t k = host_end + 1; k < auth_end; k++) {
      if (!is_digit((unsigned char)s[k])) return WSC_ESYNTAX;
      v = v * 10 + (uint32_t)(s[k] - '0');
      if (v > 65535) v = 65536; /* saturate; still reject a non-digit later */
    }
    if (v > 65535) return WSC_ESYNTAX;
    if (v != default_port) {
      port = v;
      u->port_explicit = 1;
      put(w, ':');
      put_dec(w, v);
    }
  }
  u->port = (uint16_t)port;

  /* path start state, then path state: one segment at a time, each written
   * as "/" + segment, dot segments undone in the output. */
  i = auth_end;
  u->res_off = w->len;
  size_t path_start = w->len;
  if (i < n && (s[i] == '/' || s[i] == '\\')) i++;
  for (;;) {
    size_t seg = w->len;
    put(w, '/');
    while (i < n && s[i] != '/' && s[i] != '\\' && s[i] != '?' && s[i] != '#')
      put_enc(w, (unsigned char)s[i++], SET_PATH);
    if (overflowed(w)) return WSC_EINTERNAL;
    int slash = i < n && (s[i] == '/' || s[i] == '\\');
    const char *text = w->p + seg + 1;
    size_t text_len = w->len - seg - 1;
    if (is_double_dot(text, text_len)) {
      /* shorten the path: drop the last segment written before this one */
      size_t k = seg;
      while (k > path_start && w->p[k - 1] != '/') k--;
      w->len = k > path_start ? k - 1 : path_start;
      if (!slash) put(w, '/');
    } else if (is_single_dot(text, text_len)) {
      w->len = seg;
      if (!slash) put(w, '/');
    }
    if (!slash) break;
    i++;
  }

  /* query state */
  if (i < n && s[i] == '?') {
    put(w, '?');
    i++;
    while (i < n && s[i] != '#') put_enc(w, (unsigned char)s[i++], SET_SPECIAL_QUERY);
  }
  if (overflowed(w)) return WSC_EINTERNAL;

  /* fragment: the WebSocket constructor refuses any */
  if (i < n) return WSC_ESYNTAX;

  if (port_is_bad(port)) return WSC_ESECURITY;
  return 0;
}

/* Copy the pieces into one exact-size block owned by out. */
static int finish(const wbuf *w, const parsed *u, wsc__url *out, void *(*alloc)(size_t)) {
  size_t href_len = w->len;
  size_t host_len = u->host_len;
  size_t name_off = u->host_off, name_len = host_len;
  if (u->kind == WSC__URL_HOST_IPV6) name_off++, name_len -= 2;
  size_t hh_len = u->res_off - u->host_off; /* host plus ":port" */
  size_t total = (href_len + 1) + (host_len + 1) + (name_len + 1) + (hh_len + 1) +
                 (u->user_len + 1) + (u->pass_len + 1);
  char *b = alloc(total);
  if (!b) return WSC_ENOMEM;
  char *p = b;
#define TAKE_(field, off, len)        \
  do {                                \
    out->field = p;                   \
    memcpy(p, w->p + (off), (len));   \
    p[(len)] = '\0';                  \
    p += (len) + 1;                   \
  } while (0)
  TAKE_(href, 0, href_len);
  TAKE_(host, u->host_off, host_len);
  TAKE_(hostname_for_connect, name_off, name_len);
  TAKE_(host_header, u->host_off, hh_len);
  TAKE_(username, u->user_off, u->user_len);
  TAKE_(password, u->pass_off, u->pass_len);
#undef TAKE_
  out->resource = out->href + u->res_off;
  out->secure = u->secure;
  out->host_kind = u->kind;
  out->port = u->port;
  out->port_explicit = u->port_explicit;
  return 0;
}

int wsc__url_parse_with(const char *input, wsc__url *out, void *(*alloc)(size_t)) {
  if (!out) return WSC_EINVAL;
  memset(out, 0, sizeof *out);
  if (!input || !alloc) return WSC_EINVAL;

  /* Strip leading and trailing C0 controls and spaces. */
  size_t b = 0, e = strlen(input);
  while (b < e && (unsigned char)input[b] <= 0x20) b++;
  while (e > b && (unsigned char)input[e - 1] <= 0x20) e--;
  size_t n = e - b;
  if (wsc__utf8_valid((const uint8_t *)input + b, n) != 0) return WSC_ESYNTAX;

  /* Scratch: the input without tab/LF/CR (n + 1), the decoded host (n + 1)
   * and the serialised URL. Every input byte becomes at most 3 output bytes
   * (percent-encoding; "@" in userinfo becomes "%40", '\' becomes '/'). On
   * top of that: "//" after the scheme, the "/" of an empty path, an
   * IPv4 serialisation longer than its input (at most 15 bytes for 1) and an
   * IPv6 serialisation (at most 41 bytes for at least 4). 128 covers it. */
  if (n > (SIZE_MAX - 256) / 6) return WSC_ENOMEM;
  size_t href_cap = 3 * n + 128;
  char *mem = alloc((n + 1) + (n + 1) + href_cap);
  if (!mem) return WSC_ENOMEM;
  char *s = mem, *tmp = mem + n + 1;
  size_t sl = 0;
  for (size_t i = b; i < e; i++) {
    char c = input[i];
    if (c != '\t' && c != '\n' && c != '\r') s[sl++] = c;
  }
  s[sl] = '\0';

  wbuf w = {tmp + n + 1, 0, href_cap};
  parsed u;
  memset(&u, 0, sizeof u);
  int rc = parse(s, sl, tmp, &w, &u);
  if (rc == 0) rc = finish(&w, &u, out, alloc);
  free(mem);
  if (rc) memset(out, 0, sizeof *out);
  return rc;
}

static void *default_alloc(size_t n) { return malloc(n); }

int wsc__url_parse(const char *input, wsc__url *out) {
  return wsc__url_parse_with(input, out, default_alloc);
}

void wsc__url_free(wsc__url *u) {
  if (!u) return;
  free(u->href); /* the block starts with href */
  memset(u, 0, sizeof *u);
}

/* ---- subprotocols ------------------------------------------------------------- */

int wsc__subprotocols_check(const char *const *protocols, size_t n) {
  if (n == 0) return 0;
  if (!protocols) return WSC_EINVAL;
  for (size_t i = 0; i < n; i++)
    if (!protocols[i]) return WSC_EINVAL;
  for (size_t i = 0; i < n; i++) {
    const char *p = protocols[i];
    if (!wsc__http_is_token(p, strlen(p))) return WSC_ESYNTAX;
    for (size_t j = 0; j < i; j++)
      if (strcmp(protocols[j], p) == 0) return WSC_ESYNTAX;
  }
  return 0;
}
