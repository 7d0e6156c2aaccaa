/* fuzz_url.c - libFuzzer target: wsc__url_parse on arbitrary bytes.
 *
 * The input (NUL-terminated copy) must parse without a sanitizer report.
 * When it parses, the result must be consistent (resource is href's tail and
 * starts with "/", host_header is host plus an optional ":port", the port
 * agrees with port_explicit) and parsing href again must give the same URL:
 * same href, host, hostname_for_connect, host_header, resource, port and
 * flags (the serialisation is a fixed point). Every byte of every output
 * string must be visible ASCII. Anything else traps. The subprotocol check
 * is also run on the input split at NUL bytes, against a reference. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/url.h"
#include "wsc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_visible(const char *s) {
  for (; *s; s++)
    if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f) __builtin_trap();
}

static void check_consistent(const wsc__url *u) {
  check_visible(u->href);
  check_visible(u->host);
  check_visible(u->resource);
  check_visible(u->host_header);
  if (u->resource[0] != '/') __builtin_trap();
  size_t hl = strlen(u->href), rl = strlen(u->resource);
  if (rl > hl || u->resource != u->href + (hl - rl)) __builtin_trap();
  size_t nl = strlen(u->host);
  if (nl == 0 || strncmp(u->host_header, u->host, nl) != 0) __builtin_trap();
  if (u->port_explicit != (u->host_header[nl] == ':')) __builtin_trap();
  if (!u->port_explicit && u->port != (u->secure ? 443 : 80)) __builtin_trap();
  if (u->port_explicit && u->port == (u->secure ? 443 : 80)) __builtin_trap();
  if (strncmp(u->href, u->secure ? "wss://" : "ws://", u->secure ? 6 : 5) != 0) __builtin_trap();
  if (u->host_kind == WSC__URL_HOST_IPV6) {
    if (u->host[0] != '[' || strlen(u->hostname_for_connect) != nl - 2 ||
        memcmp(u->hostname_for_connect, u->host + 1, nl - 2) != 0)
      __builtin_trap();
  } else if (strcmp(u->hostname_for_connect, u->host) != 0) {
    __builtin_trap();
  }
}

static int ref_subprotocols(char **p, size_t n) {
  static const char tchar[] = "!#$%&'*+-.^_`|~";
  for (size_t i = 0; i < n; i++) {
    if (!p[i][0]) return WSC_ESYNTAX;
    for (const char *c = p[i]; *c; c++) {
      int ok = (*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
               strchr(tchar, *c) != NULL;
      if (!ok) return WSC_ESYNTAX;
    }
    for (size_t j = 0; j < i; j++)
      if (strcmp(p[i], p[j]) == 0) return WSC_ESYNTAX;
  }
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 1 << 16) return 0;
  char *in = malloc(size + 1);
  if (!in) return 0;
  memcpy(in, data, size);
  in[size] = '\0';

  wsc__url a;
  int rc = wsc__url_parse(in, &a);
  if (rc != 0 && rc != WSC_ESYNTAX && rc != WSC_ESECURITY) __builtin_trap();
  if (rc != 0 && a.href != NULL) __builtin_trap();
  if (rc == 0) {
    check_consistent(&a);
    wsc__url b;
    if (wsc__url_parse(a.href, &b) != 0) __builtin_trap();
    check_consistent(&b);
    if (strcmp(a.href, b.href) != 0 || strcmp(a.host, b.host) != 0 ||
        strcmp(a.hostname_for_connect, b.hostname_for_connect) != 0 ||
        strcmp(a.host_header, b.host_header) != 0 || strcmp(a.resource, b.resource) != 0 ||
        strcmp(a.username, b.username) != 0 || strcmp(a.password, b.password) != 0 ||
        a.port != b.port || a.port_explicit != b.port_explicit || a.secure != b.secure ||
        a.host_kind != b.host_kind)
      __builtin_trap();
    wsc__url_free(&b);
    wsc__url_free(&a);
  }

  /* subprotocols: the input split at NUL bytes (at most 16 elements) */
  char *elems[16];
  size_t n = 0, start = 0;
  for (size_t i = 0; i <= size && n < 16; i++) {
    if (i == size || data[i] == 0) {
      in[i] = '\0';
      elems[n++] = in + start;
      start = i + 1;
    }
  }
  if (wsc__subprotocols_check((const char *const *)elems, n) != ref_subprotocols(elems, n))
    __builtin_trap();
  free(in);
  return 0;
}
