/* pmd.c - permessage-deflate negotiation (RFC 7692 section 7.1); see pmd.h. */
#include "proto/pmd.h"

#include <stdio.h>
#include <string.h>

#include "proto/http.h"
#include "wsc.h"

/* ---- parameter parsing -------------------------------------------------- */

enum { P_SNCT, P_CNCT, P_SMWB, P_CMWB, P_COUNT };
static const char *const param_names[P_COUNT] = {
    "server_no_context_takeover", "client_no_context_takeover", "server_max_window_bits",
    "client_max_window_bits"};

/* One element's parameters, decoded. */
typedef struct parsed {
  uint8_t seen[P_COUNT];
  uint8_t has_value[P_COUNT];
  uint8_t bits[P_COUNT]; /* window bits when has_value (8..15) */
} parsed;

static int is_ows(char c) { return c == ' ' || c == '\t'; }

/* The window-bits grammar of RFC 7692 section 7.1.2: "8".."15", no leading
 * zero, no sign. Returns the value or 0. */
static unsigned window_bits(const char *v, size_t n) {
  if (n == 1 && (v[0] == '8' || v[0] == '9')) return (unsigned)(v[0] - '0');
  if (n == 2 && v[0] == '1' && v[1] >= '0' && v[1] <= '5') return 10u + (unsigned)(v[1] - '0');
  return 0;
}

/* Parse "; name[=value]; ..." (what wsc__http_ext_next gives as params).
 * 0 on success, -1 with *why on a malformed, unknown or duplicate parameter
 * or a bad value. */
static int parse_params(const char *s, size_t len, parsed *out, const char **why) {
  memset(out, 0, sizeof *out);
  if (!s) return 0; /* no parameters (wsc__http_ext_next leaves ptr NULL) */
  const char *p = s, *end = s + len;
  for (;;) {
    while (p < end && is_ows(*p)) p++;
    if (p == end) return 0;
    if (*p != ';') return *why = "malformed extension parameters", -1;
    p++;
    while (p < end && is_ows(*p)) p++;
    const char *name = p;
    while (p < end && wsc__http_is_tchar((unsigned char)*p)) p++;
    size_t nlen = (size_t)(p - name);
    if (nlen == 0) return *why = "malformed extension parameters", -1;
    while (p < end && is_ows(*p)) p++;
    char val[8];
    size_t vlen = 0;
    int has_value = 0, too_long = 0;
    if (p < end && *p == '=') {
      has_value = 1;
      p++;
      while (p < end && is_ows(*p)) p++;
      if (p < end && *p == '"') { /* quoted-string: unquote (RFC 7692 section 7.1) */
        p++;
        while (p < end && *p != '"') {
          if (*p == '\\') {
            if (++p == end) return *why = "malformed extension parameters", -1;
          }
          if (vlen < sizeof val) val[vlen++] = *p;
          else too_long = 1;
          p++;
        }
        if (p == end) return *why = "malformed extension parameters", -1;
        p++;
      } else {
        const char *v = p;
        while (p < end && wsc__http_is_tchar((unsigned char)*p)) p++;
        if (p == v) return *why = "malformed extension parameters", -1;
        if ((size_t)(p - v) > sizeof val) too_long = 1;
        else memcpy(val, v, vlen = (size_t)(p - v));
      }
    }
    int k;
    for (k = 0; k < P_COUNT; k++)
      if (wsc__http_eq_nocase(name, nlen, param_names[k])) break;
    if (k == P_COUNT) return *why = "unknown permessage-deflate parameter", -1;
    if (out->seen[k]) return *why = "duplicate permessage-deflate parameter", -1;
    out->seen[k] = 1;
    out->has_value[k] = (uint8_t)has_value;
    if (k == P_SNCT || k == P_CNCT) {
      if (has_value) return *why = "no_context_takeover parameter with a value", -1;
    } else if (has_value) {
      unsigned b = too_long ? 0 : window_bits(val, vlen);
      if (!b) return *why = "max_window_bits value not in 8..15", -1;
      out->bits[k] = (uint8_t)b;
    }
  }
}

/* ---- client ---------------------------------------------------------------- */

void wsc__pmd_offer_init(wsc__pmd_offer *o) {
  memset(o, 0, sizeof *o);
  o->client_max_window_bits = WSC__PMD_CMWB_ANY;
}

static int bits_ok(unsigned b) { return b >= WSC__PMD_MIN_BITS && b <= WSC__PMD_MAX_BITS; }

int wsc__pmd_offer_build(const wsc__pmd_offer *o, char *out, size_t cap) {
  if (o->server_max_window_bits && !bits_ok(o->server_max_window_bits)) return WSC_EINVAL;
  unsigned cm = o->client_max_window_bits;
  if (cm > WSC__PMD_CMWB_ANY && !bits_ok(cm)) return WSC_EINVAL;
  char smwb[32] = "", cmwb[32] = "";
  if (o->server_max_window_bits)
    snprintf(smwb, sizeof smwb, "; server_max_window_bits=%u", o->server_max_window_bits);
  if (cm == WSC__PMD_CMWB_ANY) snprintf(cmwb, sizeof cmwb, "; client_max_window_bits");
  else if (cm) snprintf(cmwb, sizeof cmwb, "; client_max_window_bits=%u", cm);
  int n = snprintf(out, cap, "%s%s%s%s%s", WSC__PMD_NAME,
                   o->server_no_context_takeover ? "; server_no_context_takeover" : "",
                   o->client_no_context_takeover ? "; client_no_context_takeover" : "", smwb,
                   cmwb);
  if (n < 0 || (size_t)n >= cap) return WSC_EINVAL;
  return n;
}

static int reject(const char **why, const char *msg) {
  if (why) *why = msg;
  return WSC_EEXTENSION;
}

int wsc__pmd_client_accept(const wsc__pmd_offer *o, const char *ext, size_t len,
                           wsc__pmd_params *params, const char **why) {
  const char *p = ext, *end = ext + len;
  wsc__http_str name, pstr;
  int rc, found = 0;
  parsed pp;
  while ((rc = wsc__http_ext_next(&p, end, &name, &pstr)) == 1) {
    if (!wsc__http_eq_nocase(name.ptr, name.len, WSC__PMD_NAME)) continue;
    if (found) return reject(why, "permessage-deflate accepted twice");
    found = 1;
    const char *w = NULL;
    if (parse_params(pstr.ptr, pstr.len, &pp, &w) < 0) return reject(why, w);
  }
  if (rc < 0) return reject(why, "malformed Sec-WebSocket-Extensions");
  if (!found) return 0;

  wsc__pmd_params r = {0, 0, WSC__PMD_MAX_BITS, WSC__PMD_MAX_BITS};
  r.server_no_context_takeover = pp.seen[P_SNCT];
  r.client_no_context_takeover = pp.seen[P_CNCT];
  if (o->server_no_context_takeover && !pp.seen[P_SNCT])
    return reject(why, "server ignored server_no_context_takeover");
  /* server_max_window_bits may come unasked (section 7.1.2.1), must have a
   * value, and must not exceed what we asked for */
  if (pp.seen[P_SMWB]) {
    if (!pp.has_value[P_SMWB]) return reject(why, "server_max_window_bits without a value");
    if (o->server_max_window_bits && pp.bits[P_SMWB] > o->server_max_window_bits)
      return reject(why, "server_max_window_bits above the offer");
    r.server_max_window_bits = pp.bits[P_SMWB];
  } else if (o->server_max_window_bits) {
    return reject(why, "server ignored server_max_window_bits");
  }
  /* client_max_window_bits only if offered (section 7.1.2.2), with a value */
  if (pp.seen[P_CMWB]) {
    if (o->client_max_window_bits == WSC__PMD_CMWB_ABSENT)
      return reject(why, "client_max_window_bits was not offered");
    if (!pp.has_value[P_CMWB]) return reject(why, "client_max_window_bits without a value");
    if (o->client_max_window_bits > WSC__PMD_CMWB_ANY &&
        pp.bits[P_CMWB] > o->client_max_window_bits)
      return reject(why, "client_max_window_bits above the offer");
    r.client_max_window_bits = pp.bits[P_CMWB];
  } else if (o->client_max_window_bits > WSC__PMD_CMWB_ANY) {
    r.client_max_window_bits = o->client_max_window_bits; /* we promised it */
  }
  if (o->client_no_context_takeover) r.client_no_context_takeover = 1; /* we promised it */
  *params = r;
  return 1;
}

/* ---- server ---------------------------------------------------------------- */

void wsc__pmd_server_init(wsc__pmd_server *s) {
  memset(s, 0, sizeof *s);
  s->enabled = 1;
  s->server_max_window_bits = WSC__PMD_MAX_BITS;
  s->client_max_window_bits = WSC__PMD_MAX_BITS;
}

static unsigned cfg_bits(unsigned b) { return bits_ok(b) ? b : WSC__PMD_MAX_BITS; }

/* As wsc__pmd_server_consider, also saying which window parameters the offer
 * carried (they shape the response). */
static int consider(const wsc__pmd_server *s, const char *params, size_t len,
                    wsc__pmd_params *out, int *smwb, int *cmwb, const char **why) {
  parsed pp;
  const char *w = "";
  if (parse_params(params, len, &pp, &w) < 0) return *why = w, 0;
  if (pp.seen[P_SMWB] && !pp.has_value[P_SMWB])
    return *why = "server_max_window_bits without a value", 0;
  wsc__pmd_params r;
  r.server_no_context_takeover = (uint8_t)(s->server_no_context_takeover || pp.seen[P_SNCT]);
  r.client_no_context_takeover = (uint8_t)(s->client_no_context_takeover || pp.seen[P_CNCT]);
  unsigned sb = cfg_bits(s->server_max_window_bits), cb = cfg_bits(s->client_max_window_bits);
  if (pp.seen[P_SMWB] && pp.bits[P_SMWB] < sb) sb = pp.bits[P_SMWB];
  r.server_max_window_bits = (uint8_t)sb;
  if (pp.seen[P_CMWB]) {
    if (pp.has_value[P_CMWB] && pp.bits[P_CMWB] < cb) cb = pp.bits[P_CMWB];
  } else if (cb < WSC__PMD_MAX_BITS) {
    return *why = "client cannot limit its window (no client_max_window_bits)", 0;
  }
  r.client_max_window_bits = (uint8_t)cb;
  *out = r;
  *smwb = pp.seen[P_SMWB];
  *cmwb = pp.seen[P_CMWB];
  return 1;
}

int wsc__pmd_server_consider(const wsc__pmd_server *s, const char *params, size_t len,
                             wsc__pmd_params *out, const char **why) {
  int smwb, cmwb;
  const char *w = "";
  int rc = consider(s, params, len, out, &smwb, &cmwb, &w);
  if (why) *why = rc ? NULL : w;
  return rc;
}

int wsc__pmd_response_build(const wsc__pmd_params *p, int offer_smwb, int offer_cmwb, char *out,
                            size_t cap) {
  char smwb[32] = "", cmwb[32] = "";
  /* server_max_window_bits: required when asked, and sent unasked when we
   * use a smaller window (section 7.1.2.1) */
  if (offer_smwb || p->server_max_window_bits < WSC__PMD_MAX_BITS)
    snprintf(smwb, sizeof smwb, "; server_max_window_bits=%u", p->server_max_window_bits);
  /* client_max_window_bits: only when offered; sent when it limits the client */
  if (offer_cmwb && p->client_max_window_bits < WSC__PMD_MAX_BITS)
    snprintf(cmwb, sizeof cmwb, "; client_max_window_bits=%u", p->client_max_window_bits);
  int n = snprintf(out, cap, "%s%s%s%s%s", WSC__PMD_NAME,
                   p->server_no_context_takeover ? "; server_no_context_takeover" : "",
                   p->client_no_context_takeover ? "; client_no_context_takeover" : "", smwb,
                   cmwb);
  if (n < 0 || (size_t)n >= cap) return WSC_EINVAL;
  return n;
}

int wsc__pmd_server_negotiate(const wsc__pmd_server *s, const wsc__hs_server *hs,
                              wsc__pmd_params *params, char *out, size_t cap) {
  if (cap == 0) return WSC_EINVAL;
  out[0] = '\0';
  if (!s->enabled) return 0;
  size_t pos = 0;
  const wsc__http_header *hd;
  while ((hd = wsc__hs_server_header_next(hs, "Sec-WebSocket-Extensions", &pos))) {
    const char *p = hd->value, *end = p + hd->value_len;
    wsc__http_str name, pstr;
    while (wsc__http_ext_next(&p, end, &name, &pstr) == 1) {
      if (!wsc__http_eq_nocase(name.ptr, name.len, WSC__PMD_NAME)) continue;
      wsc__pmd_params r;
      int smwb, cmwb;
      const char *why;
      if (!consider(s, pstr.ptr, pstr.len, &r, &smwb, &cmwb, &why)) continue; /* decline it */
      int n = wsc__pmd_response_build(&r, smwb, cmwb, out, cap);
      if (n < 0) {
        out[0] = '\0';
        return n;
      }
      *params = r;
      return 1;
    }
  }
  return 0;
}
