/* proxy.c - proxy URL parsing, environment selection, no_proxy, CONNECT. */
#include "net/proxy.h"

#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wsc.h"

/* ---- Small helpers ---------------------------------------------------------- */

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c; }

static int is_digit(int c) { return c >= '0' && c <= '9'; }

static int is_alpha(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

static int hexval(int c) {
  if (is_digit(c)) return c - '0';
  c = lower(c);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

/* 1 if a[0..n) equals b[0..n) ignoring ASCII case. */
static int eq_nocase_n(const char *a, const char *b, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (lower((unsigned char)a[i]) != lower((unsigned char)b[i])) return 0;
  return 1;
}

/* Format a message into err (if any). Returns rc, so callers can
 * `return fail(...)`. */
__attribute__((format(printf, 4, 5))) static int fail(char *err, size_t errlen, int rc,
                                                      const char *fmt, ...) {
  if (err && errlen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
  }
  return rc;
}

/* Parse a port: 1 to 5 digits, value 1..65535. Returns it, or 0 if invalid. */
static uint16_t parse_port(const char *s, size_t n) {
  if (n == 0 || n > 5) return 0;
  unsigned v = 0;
  for (size_t i = 0; i < n; i++) {
    if (!is_digit((unsigned char)s[i])) return 0;
    v = v * 10 + (unsigned)(s[i] - '0');
  }
  return v <= 65535 ? (uint16_t)v : 0;
}

/* An IP address in binary: family AF_INET (4 bytes) or AF_INET6 (16). */
typedef struct ipaddr {
  int family;
  unsigned char b[16];
} ipaddr;

/* Parse s[0..n) as a dotted IPv4 or a textual IPv6 address (no brackets).
 * 1 on success, 0 if it is not one. */
static int parse_ip(const char *s, size_t n, ipaddr *ip) {
  char tmp[64];
  if (n == 0 || n >= sizeof tmp) return 0;
  memcpy(tmp, s, n);
  tmp[n] = '\0';
  if (memchr(s, ':', n)) {
    ip->family = AF_INET6;
    return inet_pton(AF_INET6, tmp, ip->b) == 1;
  }
  ip->family = AF_INET;
  return inet_pton(AF_INET, tmp, ip->b) == 1;
}

static char *dup_n(const char *s, size_t n) {
  char *p = malloc(n + 1);
  if (!p) return NULL;
  memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

/* ---- Proxy URL ---------------------------------------------------------------- */

void wsc__proxy_free(wsc__proxy *p) {
  if (!p) return;
  free(p->host);
  free(p->hostname_for_connect);
  if (p->authorization) {
    OPENSSL_cleanse(p->authorization, strlen(p->authorization));
    free(p->authorization);
  }
  memset(p, 0, sizeof *p);
}

/* Percent-decode userinfo part s[0..n) into out (room for n bytes).
 * Raw bytes allowed: visible ASCII and bytes >= 0x80 (UTF-8 from an
 * environment file). Returns the decoded length, or -1 with a message. */
static long decode_userinfo(const char *s, size_t n, char *out, const char **why) {
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '%') {
      if (n - i < 3 || hexval((unsigned char)s[i + 1]) < 0 || hexval((unsigned char)s[i + 2]) < 0) {
        *why = "bad percent-encoding in the credentials";
        return -1;
      }
      int v = hexval((unsigned char)s[i + 1]) * 16 + hexval((unsigned char)s[i + 2]);
      if (v == 0) {
        *why = "%00 in the credentials";
        return -1;
      }
      out[o++] = (char)v;
      i += 2;
    } else if (c <= 0x20 || c == 0x7f) {
      *why = "control character or space in the credentials";
      return -1;
    } else {
      out[o++] = (char)c;
    }
  }
  return (long)o;
}

/* "Basic " + base64(user ":" pass). NULL on allocation failure. */
static char *basic_auth(const char *user, size_t ulen, const char *pass, size_t plen) {
  size_t n = ulen + 1 + plen;
  unsigned char *raw = malloc(n);
  if (!raw) return NULL;
  memcpy(raw, user, ulen);
  raw[ulen] = ':';
  memcpy(raw + ulen + 1, pass, plen);
  size_t b64 = 4 * ((n + 2) / 3);
  char *out = malloc(6 + b64 + 1);
  if (out) {
    memcpy(out, "Basic ", 6);
    /* n <= WSC__PROXY_MAX_URL, so the int conversion cannot overflow. */
    int w = EVP_EncodeBlock((unsigned char *)out + 6, raw, (int)n);
    if (w < 0 || (size_t)w != b64) {
      free(out);
      out = NULL;
    } else {
      out[6 + b64] = '\0';
    }
  }
  OPENSSL_cleanse(raw, n);
  free(raw);
  return out;
}

static int is_host_char(int c) {
  return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_';
}

int wsc__proxy_parse(const char *url, wsc__proxy *out, char *err, size_t errlen) {
  if (err && errlen) err[0] = '\0';
  if (!out) return fail(err, errlen, WSC_EINVAL, "no output for the proxy URL");
  memset(out, 0, sizeof *out);
  if (!url) return fail(err, errlen, WSC_EINVAL, "no proxy URL");

  const char *s = url, *end = url + strlen(url);
  while (s < end && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')) s++;
  while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' || end[-1] == '\n'))
    end--;
  if (s == end) return fail(err, errlen, WSC_EINVAL, "empty proxy URL");
  if ((size_t)(end - s) > WSC__PROXY_MAX_URL)
    return fail(err, errlen, WSC_EINVAL, "proxy URL longer than %u bytes",
                (unsigned)WSC__PROXY_MAX_URL);

  /* Scheme: whatever comes before the first "://", if anything does. */
  for (const char *p = s; end - p >= 3; p++) {
    if (memcmp(p, "://", 3) != 0) continue;
    size_t sl = (size_t)(p - s);
    int ok = sl > 0 && is_alpha((unsigned char)s[0]);
    for (size_t i = 1; ok && i < sl; i++) {
      int c = (unsigned char)s[i];
      ok = is_alpha(c) || is_digit(c) || c == '+' || c == '-' || c == '.';
    }
    if (!ok) return fail(err, errlen, WSC_EINVAL, "invalid scheme in the proxy URL");
    if (sl == 4 && eq_nocase_n(s, "http", 4)) {
      s = p + 3;
      break;
    }
    if (sl == 5 && eq_nocase_n(s, "https", 5))
      return fail(err, errlen, WSC_EINVAL,
                  "https:// proxies (TLS to the proxy) are not supported (use http://)");
    if (sl >= 5 && eq_nocase_n(s, "socks", 5))
      return fail(err, errlen, WSC_EINVAL, "SOCKS proxies are not supported (use http://)");
    return fail(err, errlen, WSC_EINVAL, "unsupported proxy scheme \"%.*s\" (use http://)",
                sl > 16 ? 16 : (int)sl, s);
  }

  /* Authority: up to the first '/', after which at most that '/' may follow. */
  const char *ae = memchr(s, '/', (size_t)(end - s));
  if (!ae) ae = end;
  if (ae < end && end - ae != 1)
    return fail(err, errlen, WSC_EINVAL, "a proxy URL has no path, query or fragment");

  /* Userinfo: up to the last '@' in the authority. */
  const char *at = NULL;
  for (const char *p = s; p < ae; p++)
    if (*p == '@') at = p;
  const char *hs = at ? at + 1 : s;

  /* Host. */
  const char *he, *hn; /* end of the host, start of the name inside brackets */
  size_t hnl;
  int v6 = 0;
  char v6text[INET6_ADDRSTRLEN];
  if (hs < ae && *hs == '[') {
    const char *rb = memchr(hs, ']', (size_t)(ae - hs));
    if (!rb) return fail(err, errlen, WSC_EINVAL, "unterminated [IPv6] host in the proxy URL");
    ipaddr ip;
    if (!parse_ip(hs + 1, (size_t)(rb - hs - 1), &ip) || ip.family != AF_INET6)
      return fail(err, errlen, WSC_EINVAL, "invalid IPv6 address in the proxy URL");
    if (!inet_ntop(AF_INET6, ip.b, v6text, sizeof v6text))
      return fail(err, errlen, WSC_EINVAL, "invalid IPv6 address in the proxy URL");
    v6 = 1;
    hn = v6text;
    hnl = strlen(v6text);
    he = rb + 1;
  } else {
    he = hs;
    while (he < ae && *he != ':') he++;
    if (he == hs) return fail(err, errlen, WSC_EINVAL, "no host in the proxy URL");
    for (const char *p = hs; p < he; p++)
      if (!is_host_char((unsigned char)*p))
        return fail(err, errlen, WSC_EINVAL, "invalid character in the proxy host");
    if (he - hs > 255) return fail(err, errlen, WSC_EINVAL, "proxy host name too long");
    /* A host whose last label is numeric must be an IPv4 address, or
     * getaddrinfo would try it as one and fail obscurely later. */
    const char *last = he;
    while (last > hs && last[-1] == '.') last--;
    const char *ls = last;
    while (ls > hs && ls[-1] != '.') ls--;
    int numeric = ls < last;
    for (const char *p = ls; numeric && p < last; p++) numeric = is_digit((unsigned char)*p);
    if (numeric) {
      ipaddr ip;
      if (!parse_ip(hs, (size_t)(he - hs), &ip))
        return fail(err, errlen, WSC_EINVAL, "invalid IPv4 address in the proxy URL");
    }
    hn = hs;
    hnl = (size_t)(he - hs);
  }

  /* Port. */
  uint16_t port = WSC__PROXY_DEFAULT_PORT;
  if (he < ae) {
    if (*he != ':')
      return fail(err, errlen, WSC_EINVAL, "unexpected character after the proxy host");
    port = parse_port(he + 1, (size_t)(ae - he - 1));
    if (!port) return fail(err, errlen, WSC_EINVAL, "invalid proxy port (1 to 65535)");
  }

  /* Credentials. */
  char *auth = NULL;
  if (at && at > s) {
    size_t ul = (size_t)(at - s);
    char *dec = malloc(ul);
    if (!dec) return fail(err, errlen, WSC_ENOMEM, "out of memory");
    const char *colon = memchr(s, ':', ul);
    const char *ue = colon ? colon : at;
    const char *why = NULL;
    long un = decode_userinfo(s, (size_t)(ue - s), dec, &why);
    long pn =
        un < 0 || !colon ? 0 : decode_userinfo(colon + 1, (size_t)(at - colon - 1), dec + un, &why);
    if (un >= 0 && pn >= 0) auth = basic_auth(dec, (size_t)un, dec + un, (size_t)pn);
    OPENSSL_cleanse(dec, ul);
    free(dec);
    if (un < 0 || pn < 0) return fail(err, errlen, WSC_EINVAL, "%s", why);
    if (!auth) return fail(err, errlen, WSC_ENOMEM, "out of memory");
  }

  out->port = port;
  out->authorization = auth;
  out->hostname_for_connect = dup_n(hn, hnl);
  out->host = malloc(hnl + 3);
  if (!out->hostname_for_connect || !out->host) {
    wsc__proxy_free(out);
    return fail(err, errlen, WSC_ENOMEM, "out of memory");
  }
  for (size_t i = 0; i < hnl; i++) out->hostname_for_connect[i] = (char)lower((unsigned char)hn[i]);
  if (v6)
    snprintf(out->host, hnl + 3, "[%s]", out->hostname_for_connect);
  else
    memcpy(out->host, out->hostname_for_connect, hnl + 1);
  return 0;
}

/* ---- no_proxy ---------------------------------------------------------------- */

/* 1 if the first `bits` bits of a and b agree. */
static int prefix_eq(const unsigned char *a, const unsigned char *b, unsigned bits) {
  unsigned full = bits / 8, rest = bits % 8;
  if (memcmp(a, b, full) != 0) return 0;
  if (!rest) return 1;
  unsigned char m = (unsigned char)(0xff << (8 - rest));
  return (a[full] & m) == (b[full] & m);
}

/* Does one no_proxy entry e[0..n) match the target? host[0..hl) is the
 * normalised host (no brackets, no trailing dot); hip is its address when
 * host_is_ip. */
static int entry_match(const char *e, size_t n, const char *host, size_t hl, int host_is_ip,
                       const ipaddr *hip, uint16_t port) {
  if (n == 1 && e[0] == '*') return 1;
  const char *name = e, *pe = NULL; /* pe: start of the port digits */
  size_t nl = n;
  if (e[0] == '[') {
    const char *rb = memchr(e, ']', n);
    if (!rb) return 0;
    name = e + 1;
    nl = (size_t)(rb - name);
    const char *r = rb + 1;
    if (r < e + n) {
      if (*r != ':') return 0;
      pe = r + 1;
    }
  } else {
    const char *c1 = memchr(e, ':', n);
    if (c1 && !memchr(c1 + 1, ':', (size_t)(e + n - c1 - 1))) { /* exactly one colon */
      nl = (size_t)(c1 - e);
      pe = c1 + 1;
    }
  }
  if (pe) {
    uint16_t p = parse_port(pe, (size_t)(e + n - pe));
    if (!p || p != port) return 0;
  }

  const char *slash = memchr(name, '/', nl);
  if (slash) { /* CIDR */
    if (!host_is_ip) return 0;
    ipaddr net;
    if (!parse_ip(name, (size_t)(slash - name), &net) || net.family != hip->family) return 0;
    size_t bl = (size_t)(name + nl - slash - 1);
    if (bl == 0 || bl > 3) return 0;
    unsigned bits = 0;
    for (size_t i = 0; i < bl; i++) {
      if (!is_digit((unsigned char)slash[1 + i])) return 0;
      bits = bits * 10 + (unsigned)(slash[1 + i] - '0');
    }
    if (bits > (net.family == AF_INET ? 32u : 128u)) return 0;
    return prefix_eq(net.b, hip->b, bits);
  }

  if (nl >= 2 && name[0] == '*' && name[1] == '.') name++, nl--;
  if (nl && name[0] == '.') name++, nl--;
  if (nl && name[nl - 1] == '.') nl--;
  if (nl == 0) return 0;

  ipaddr eip;
  int entry_is_ip = parse_ip(name, nl, &eip);
  if (host_is_ip || entry_is_ip) {
    if (!host_is_ip || !entry_is_ip || eip.family != hip->family) return 0;
    return memcmp(eip.b, hip->b, eip.family == AF_INET ? 4 : 16) == 0;
  }
  if (nl > hl) return 0;
  if (!eq_nocase_n(host + hl - nl, name, nl)) return 0;
  return nl == hl || host[hl - nl - 1] == '.';
}

static int is_list_sep(char c) {
  return c == ',' || c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int wsc__proxy_no_proxy_match(const char *list, const char *host, uint16_t port) {
  if (!list || !host) return 0;
  size_t hl = strlen(host);
  if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') host++, hl -= 2;
  if (hl && host[hl - 1] == '.') hl--;
  ipaddr hip;
  int host_is_ip = parse_ip(host, hl, &hip);
  for (const char *p = list; *p;) {
    while (*p && is_list_sep(*p)) p++;
    const char *e = p;
    while (*p && !is_list_sep(*p)) p++;
    if (p > e && entry_match(e, (size_t)(p - e), host, hl, host_is_ip, &hip, port)) return 1;
  }
  return 0;
}

/* ---- Environment ----------------------------------------------------------- */

const char *wsc__proxy_getenv(void *user, const char *name) {
  (void)user;
  return getenv(name);
}

/* get(name), with "" treated as unset. */
static const char *env(wsc__proxy_getenv_fn get, void *user, const char *name) {
  const char *v = get(user, name);
  return v && *v ? v : NULL;
}

const char *wsc__proxy_env_url(int secure, const char *host, uint16_t port,
                               wsc__proxy_getenv_fn get, void *user, const char **var) {
  /* http_proxy is lower-case only (httpoxy: CGI sets HTTP_PROXY from a
   * request header); the others are read in both cases, lower first. */
  static const char *const ws_vars[] = {"http_proxy", "all_proxy", "ALL_PROXY", NULL};
  static const char *const wss_vars[] = {"https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY",
                                         NULL};
  if (var) *var = NULL;
  if (!get) get = wsc__proxy_getenv;
  const char *url = NULL, *name = NULL;
  for (const char *const *v = secure ? wss_vars : ws_vars; *v && !url; v++)
    if ((url = env(get, user, *v)) != NULL) name = *v;
  if (!url) return NULL;
  const char *np = env(get, user, "no_proxy");
  if (!np) np = env(get, user, "NO_PROXY");
  if (np && wsc__proxy_no_proxy_match(np, host, port)) return NULL;
  if (var) *var = name;
  return url;
}

const char *wsc__proxy_choose(const char *option, int secure, const char *host, uint16_t port,
                              wsc__proxy_getenv_fn get, void *user, const char **source) {
  if (source) *source = NULL;
  if (option) {
    if (!*option) return NULL;
    if (source) *source = "proxy option";
    return option;
  }
  return wsc__proxy_env_url(secure, host, port, get, user, source);
}

int wsc__proxy_for_target(const char *option, int secure, const char *host, uint16_t port,
                          wsc__proxy_getenv_fn get, void *user, wsc__proxy *out, char *err,
                          size_t errlen) {
  if (err && errlen) err[0] = '\0';
  if (!out) return fail(err, errlen, WSC_EINVAL, "no output for the proxy");
  memset(out, 0, sizeof *out);
  const char *source = NULL;
  const char *url = wsc__proxy_choose(option, secure, host, port, get, user, &source);
  if (!url) return 0;
  char why[128];
  int rc = wsc__proxy_parse(url, out, why, sizeof why);
  if (rc < 0) return fail(err, errlen, rc, "%s: %s", source ? source : "proxy", why);
  return 1;
}

/* ---- CONNECT ------------------------------------------------------------------ */

/* Bytes allowed in the host of a CONNECT authority: unreserved and
 * sub-delims of RFC 3986 plus ':' for IPv6 (brackets handled apart). */
static int is_authority_char(int c) {
  return is_alpha(c) || is_digit(c) || (c && strchr("-._~!$&'()*+,;=:", c) != NULL);
}

int wsc__proxy_connect_request(wsc__buf *out, const char *host, uint16_t port,
                               const char *authorization) {
  if (!out || !host || !*host || port == 0) return WSC_EINVAL;
  size_t hl = strlen(host);
  int bracketed = host[0] == '[';
  const char *h = host;
  size_t n = hl;
  if (bracketed) {
    if (hl < 3 || host[hl - 1] != ']') return WSC_EINVAL;
    h = host + 1;
    n = hl - 2;
  }
  for (size_t i = 0; i < n; i++)
    if (!is_authority_char((unsigned char)h[i])) return WSC_EINVAL;
  /* A colon means IPv6, and then it must be one ("host:80" is not a host). */
  int v6 = memchr(h, ':', n) != NULL;
  ipaddr ip;
  if (v6 && (!parse_ip(h, n, &ip) || ip.family != AF_INET6)) return WSC_EINVAL;
  if (bracketed && !v6) return WSC_EINVAL;
  if (authorization && !wsc__http_is_field_value(authorization, strlen(authorization)))
    return WSC_EINVAL;
  const char *lb = v6 ? "[" : "", *rb = v6 ? "]" : "";
  int hn = (int)n;
  size_t before = out->len;
  int rc = wsc__buf_printf(out, "CONNECT %s%.*s%s:%u HTTP/1.1\r\nHost: %s%.*s%s:%u\r\n", lb, hn,
                           h, rb, (unsigned)port, lb, hn, h, rb, (unsigned)port);
  if (!rc && authorization) rc = wsc__buf_printf(out, "Proxy-Authorization: %s\r\n", authorization);
  if (!rc) rc = wsc__buf_puts(out, "\r\n");
  if (rc) {
    out->len = before;
    return WSC_ENOMEM;
  }
  return 0;
}

/* ---- The reply ------------------------------------------------------------------ */

void wsc__proxy_reply_init(wsc__proxy_reply *r, size_t max_size) {
  memset(r, 0, sizeof *r);
  r->max_size = max_size ? max_size : WSC__PROXY_DEFAULT_MAX_HEAD;
  wsc__http_head_init(&r->head, r->max_size);
}

void wsc__proxy_reply_free(wsc__proxy_reply *r) { wsc__http_head_free(&r->head); }

static int reply_fail(wsc__proxy_reply *r, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int reply_fail(wsc__proxy_reply *r, int rc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->error, sizeof r->error, fmt, ap);
  va_end(ap);
  r->result = rc;
  return rc;
}

/* Judge a complete head. 1 tunnel open, 2 an interim 1xx head to skip, or
 * a negative error. */
static int judge(wsc__proxy_reply *r) {
  const char *why = NULL;
  int rc = wsc__http_head_parse(&r->head, 0, &why);
  if (rc == WSC_EHEADERSIZE)
    return reply_fail(r, rc, "proxy response has more than %d header fields",
                      WSC__HTTP_MAX_HEADERS);
  if (rc == WSC_ENOMEM) return reply_fail(r, rc, "out of memory");
  if (rc) return reply_fail(r, WSC_EPROXY, "malformed proxy response (%s)", why ? why : "?");
  const wsc__http_str *st = r->head.start;
  if (memcmp(st[0].ptr, "HTTP/1.", 7) != 0)
    return reply_fail(r, WSC_EPROXY, "malformed proxy response (%.8s, expected HTTP/1.x)",
                      st[0].ptr);
  int code = (st[1].ptr[0] - '0') * 100 + (st[1].ptr[1] - '0') * 10 + (st[1].ptr[2] - '0');
  if (code < 100) return reply_fail(r, WSC_EPROXY, "malformed proxy response (status %03d)", code);
  if (code >= 100 && code < 200 && code != 101) return 2;
  r->status = code;
  if (code >= 200 && code < 300) {
    r->result = 1;
    return 1;
  }
  /* The reason phrase is hostile text: keep it short and printable. */
  char reason[64];
  size_t n = st[2].len < sizeof reason - 1 ? st[2].len : sizeof reason - 1;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)st[2].ptr[i];
    reason[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
  }
  reason[n] = '\0';
  return reply_fail(r, WSC_EPROXY, "proxy refused CONNECT: %03d%s%s", code, n ? " " : "", reason);
}

int wsc__proxy_reply_feed(wsc__proxy_reply *r, const uint8_t *data, size_t len,
                          size_t *consumed) {
  *consumed = 0;
  if (r->result) return r->result;
  if (len == 0) return 0; /* (data may be NULL then) */
  size_t off = 0;
  for (;;) {
    size_t c = 0;
    const char *why = NULL;
    int rc = wsc__http_head_feed(&r->head, data + off, len - off, &c, &why);
    if (rc == 0) {
      *consumed = len;
      return 0;
    }
    if (rc == WSC_EHEADERSIZE)
      return reply_fail(r, rc, "proxy response head exceeds %zu bytes", r->max_size);
    if (rc == WSC_ENOMEM) return reply_fail(r, rc, "out of memory");
    if (rc < 0) return reply_fail(r, WSC_EPROXY, "malformed proxy response (%s)", why ? why : "?");
    off += c;
    rc = judge(r);
    if (rc < 0) return rc;
    if (rc == 1) {
      *consumed = off;
      return 1;
    }
    /* An interim 1xx head: the next head starts right after it, within what
     * is left of the overall limit. */
    r->used += r->head.buf.len;
    wsc__http_head_free(&r->head);
    if (r->used >= r->max_size)
      return reply_fail(r, WSC_EHEADERSIZE, "proxy response head exceeds %zu bytes", r->max_size);
    wsc__http_head_init(&r->head, r->max_size - r->used);
  }
}

int wsc__proxy_reply_eof(wsc__proxy_reply *r) {
  if (r->result) return r->result;
  return reply_fail(r, WSC_EPROXY, "proxy closed the connection before the tunnel was established");
}
