/* test_proxy.c - proxy URLs, environment selection, no_proxy, CONNECT. */
#include <stdlib.h>
#include <string.h>

#include "net/proxy.h"
#include "test.h"
#include "wsc.h"

/* ---- Proxy URL parsing --------------------------------------------------------- */

/* Parse url, which must succeed, and check the fields (auth NULL = none). */
static void parse_ok(const char *url, const char *host, const char *hfc, unsigned port,
                     const char *auth) {
  wsc__proxy p;
  char err[160] = "unset";
  int rc = wsc__proxy_parse(url, &p, err, sizeof err);
  if (rc != 0) wsc_test_fail(__FILE__, __LINE__, "parse \"%s\": %d (%s)", url, rc, err);
  CHECK_STR(err, "");
  CHECK_STR(p.host, host);
  CHECK_STR(p.hostname_for_connect, hfc);
  CHECK_EQ(p.port, port);
  if (auth)
    CHECK_STR(p.authorization, auth);
  else
    CHECK(p.authorization == NULL);
  wsc__proxy_free(&p);
  CHECK(p.host == NULL && p.authorization == NULL);
  wsc__proxy_free(&p); /* twice is harmless */
}

/* Parse url, which must fail with rc and a message containing want. */
static void parse_bad(const char *url, int want_rc, const char *want) {
  wsc__proxy p;
  char err[160] = "";
  int rc = wsc__proxy_parse(url, &p, err, sizeof err);
  if (rc != want_rc || !strstr(err, want))
    wsc_test_fail(__FILE__, __LINE__, "parse \"%s\": %d \"%s\", want %d \"%s\"", url, rc, err,
                  want_rc, want);
  CHECK(p.host == NULL && p.hostname_for_connect == NULL && p.authorization == NULL);
  CHECK_EQ(p.port, 0);
  wsc__proxy_free(&p);
}

TEST(proxy_parse_hosts_and_ports) {
  parse_ok("proxy.example:3128", "proxy.example", "proxy.example", 3128, NULL);
  parse_ok("http://proxy.example", "proxy.example", "proxy.example", 1080, NULL);
  parse_ok("proxy.example", "proxy.example", "proxy.example", WSC__PROXY_DEFAULT_PORT, NULL);
  parse_ok("HTTP://Proxy.Example:8080/", "proxy.example", "proxy.example", 8080, NULL);
  parse_ok("HtTp://p_x-1.example.:1", "p_x-1.example.", "p_x-1.example.", 1, NULL);
  parse_ok("  http://proxy:65535/ \r\n", "proxy", "proxy", 65535, NULL);
  parse_ok("http://proxy:0080", "proxy", "proxy", 80, NULL);
  parse_ok("10.0.0.1:3128", "10.0.0.1", "10.0.0.1", 3128, NULL);
  parse_ok("http://127.0.0.1", "127.0.0.1", "127.0.0.1", 1080, NULL);
  parse_ok("http://[::1]:8080", "[::1]", "::1", 8080, NULL);
  parse_ok("[::1]", "[::1]", "::1", 1080, NULL);
  parse_ok("http://[0:0::1]/", "[::1]", "::1", 1080, NULL);
  parse_ok("http://[2001:DB8::A]:3128", "[2001:db8::a]", "2001:db8::a", 3128, NULL);
  parse_ok("http://[::ffff:1.2.3.4]:1", "[::ffff:1.2.3.4]", "::ffff:1.2.3.4", 1, NULL);
}

TEST(proxy_parse_credentials) {
  parse_ok("http://user:pass@proxy:3128", "proxy", "proxy", 3128, "Basic dXNlcjpwYXNz");
  parse_ok("user:pass@proxy", "proxy", "proxy", 1080, "Basic dXNlcjpwYXNz");
  /* a user alone is sent with an empty password, as curl does */
  parse_ok("http://user@proxy:1", "proxy", "proxy", 1, "Basic dXNlcjo=");
  /* percent-decoded user and password: '@', ':' and '/' escaped */
  parse_ok("http://us%40er:p%3Aa%2fss@proxy:1", "proxy", "proxy", 1, "Basic dXNAZXI6cDphL3Nz");
  /* an unescaped '@' in the password: the last '@' ends the userinfo */
  parse_ok("http://u:p@ss@proxy:1", "proxy", "proxy", 1, "Basic dTpwQHNz");
  /* ':' in the password needs no escape: the first ':' splits */
  parse_ok("http://u:p:w@proxy:1", "proxy", "proxy", 1, "Basic dTpwOnc=");
  parse_ok("http://a:b%25c@[::1]:1", "[::1]", "::1", 1, "Basic YTpiJWM=");
  parse_ok("http://:pw@proxy:1", "proxy", "proxy", 1, "Basic OnB3");
  parse_ok("http://Aladdin:open%20sesame@proxy:1", "proxy", "proxy", 1,
           "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
  /* UTF-8, raw and percent-encoded */
  parse_ok("http://j\xc3\xb6rg:p%C3%A4ss@proxy:1", "proxy", "proxy", 1, "Basic asO2cmc6cMOkc3M=");
  /* empty userinfo: no credentials */
  parse_ok("http://@proxy:1", "proxy", "proxy", 1, NULL);
  /* special characters that need no escape */
  parse_ok("http://u!$&'()*+,;=~:p#?[]@proxy:1", "proxy", "proxy", 1,
           "Basic dSEkJicoKSorLDs9fjpwIz9bXQ==");
}

TEST(proxy_parse_errors) {
  parse_bad("", WSC_EINVAL, "empty");
  parse_bad(" \t\r\n", WSC_EINVAL, "empty");
  parse_bad("https://proxy:443", WSC_EINVAL, "https:// proxies");
  parse_bad("HTTPS://proxy", WSC_EINVAL, "https:// proxies");
  parse_bad("socks5://proxy:1080", WSC_EINVAL, "SOCKS");
  parse_bad("socks5h://proxy", WSC_EINVAL, "SOCKS");
  parse_bad("ftp://proxy", WSC_EINVAL, "unsupported proxy scheme \"ftp\"");
  parse_bad("1http://proxy", WSC_EINVAL, "invalid scheme");
  parse_bad("://proxy", WSC_EINVAL, "invalid scheme");
  parse_bad("http://", WSC_EINVAL, "no host");
  parse_bad("http://:8080", WSC_EINVAL, "no host");
  parse_bad("http://user:pw@", WSC_EINVAL, "no host");
  parse_bad("http://proxy:0", WSC_EINVAL, "port");
  parse_bad("http://proxy:65536", WSC_EINVAL, "port");
  parse_bad("http://proxy:", WSC_EINVAL, "port");
  parse_bad("http://proxy:80x", WSC_EINVAL, "port");
  parse_bad("http://proxy:123456", WSC_EINVAL, "port");
  parse_bad("http://proxy:1:2", WSC_EINVAL, "port");
  parse_bad("http://proxy:-1", WSC_EINVAL, "port");
  parse_bad("http://proxy/path", WSC_EINVAL, "no path");
  parse_bad("http://proxy//", WSC_EINVAL, "no path");
  parse_bad("http://proxy/?q", WSC_EINVAL, "no path");
  parse_bad("http://proxy?q", WSC_EINVAL, "invalid character");
  parse_bad("http://proxy#f", WSC_EINVAL, "invalid character");
  parse_bad("http://pro xy", WSC_EINVAL, "invalid character");
  parse_bad("http://pr%6fxy", WSC_EINVAL, "invalid character");
  parse_bad("http://pr\xc3\xb6xy", WSC_EINVAL, "invalid character");
  parse_bad("http://[::1", WSC_EINVAL, "unterminated");
  parse_bad("http://[::g]", WSC_EINVAL, "IPv6");
  parse_bad("http://[1.2.3.4]", WSC_EINVAL, "IPv6");
  parse_bad("http://[]", WSC_EINVAL, "IPv6");
  parse_bad("http://[fe80::1%25eth0]", WSC_EINVAL, "IPv6");
  parse_bad("http://[::1]x", WSC_EINVAL, "after the proxy host");
  parse_bad("http://::1", WSC_EINVAL, "no host");
  parse_bad("http://999.1.1.1", WSC_EINVAL, "IPv4");
  parse_bad("http://1.2.3", WSC_EINVAL, "IPv4");
  parse_bad("http://u%zz@proxy", WSC_EINVAL, "percent-encoding");
  parse_bad("http://u%4@proxy", WSC_EINVAL, "percent-encoding");
  parse_bad("http://u:p%@proxy", WSC_EINVAL, "percent-encoding");
  parse_bad("http://u%00@proxy", WSC_EINVAL, "%00");
  parse_bad("http://u\x01:p@proxy", WSC_EINVAL, "control");
  parse_bad("http://u:p w@proxy", WSC_EINVAL, "space");
  parse_bad("http://u:p\x7f@proxy", WSC_EINVAL, "control");
  parse_bad("http://u:p/w@proxy", WSC_EINVAL, "no path");

  /* the password never shows in a message */
  wsc__proxy p;
  char err[160];
  CHECK_EQ(wsc__proxy_parse("http://user:s3cr3t@proxy:0", &p, err, sizeof err), WSC_EINVAL);
  CHECK(strstr(err, "s3cr3t") == NULL);
  CHECK_EQ(wsc__proxy_parse("s3cr3t://proxy", &p, err, sizeof err), WSC_EINVAL);

  /* length bound */
  size_t n = WSC__PROXY_MAX_URL + 1;
  char *big = malloc(n + 1);
  CHECK(big != NULL);
  memset(big, 'a', n);
  big[n] = '\0';
  parse_bad(big, WSC_EINVAL, "longer than");
  free(big);

  /* NULL arguments; err may be NULL */
  CHECK_EQ(wsc__proxy_parse(NULL, &p, err, sizeof err), WSC_EINVAL);
  CHECK_EQ(wsc__proxy_parse("proxy", NULL, err, sizeof err), WSC_EINVAL);
  CHECK_EQ(wsc__proxy_parse("proxy:0", &p, NULL, 0), WSC_EINVAL);
  wsc__proxy_free(NULL);
}

TEST(proxy_parse_long_credentials) {
  /* A long password (within the URL limit) is encoded whole. */
  char url[WSC__PROXY_MAX_URL + 1];
  const char *tail = "@proxy:1";
  size_t n = WSC__PROXY_MAX_URL - strlen(tail);
  memcpy(url, "u:", 2);
  memset(url + 2, 'p', n - 2);
  memcpy(url + n, tail, strlen(tail) + 1);
  CHECK_EQ(strlen(url), WSC__PROXY_MAX_URL);
  wsc__proxy p;
  char err[160];
  CHECK_EQ(wsc__proxy_parse(url, &p, err, sizeof err), 0);
  CHECK_EQ(strlen(p.authorization), 6 + 4 * ((n + 2) / 3));
  CHECK(strncmp(p.authorization, "Basic dTpwcH", 12) == 0);
  wsc__proxy_free(&p);
}

/* ---- no_proxy ----------------------------------------------------------------- */

static int np(const char *list, const char *host, unsigned port) {
  return wsc__proxy_no_proxy_match(list, host, (uint16_t)port);
}

TEST(proxy_no_proxy_names) {
  CHECK(np("example.com", "example.com", 80));
  CHECK(np("example.com", "a.example.com", 80));
  CHECK(np("example.com", "a.b.example.com", 80));
  CHECK(!np("example.com", "badexample.com", 80));
  CHECK(!np("example.com", "example.com.evil", 80));
  CHECK(!np("example.com", "com", 80));
  CHECK(!np("a.example.com", "example.com", 80));
  /* leading dot, "*." and trailing dot */
  CHECK(np(".example.com", "example.com", 80));
  CHECK(np(".example.com", "a.example.com", 80));
  CHECK(!np(".example.com", "badexample.com", 80));
  CHECK(np("*.example.com", "a.example.com", 80));
  CHECK(np("*.example.com", "example.com", 80));
  CHECK(np("example.com.", "a.example.com", 80));
  CHECK(np("example.com", "a.example.com.", 80));
  /* case-insensitive */
  CHECK(np("EXAMPLE.Com", "a.example.com", 80));
  CHECK(np("example.com", "A.EXAMPLE.COM", 80));
  /* lists: commas, whitespace, empty entries */
  CHECK(np("foo.org,example.com", "example.com", 80));
  CHECK(np(" foo.org , example.com ", "example.com", 80));
  CHECK(np("foo.org example.com", "example.com", 80));
  CHECK(np(",,\tfoo.org,\n,example.com,,", "x.example.com", 80));
  CHECK(!np("foo.org, bar.org", "example.com", 80));
  CHECK(!np("", "example.com", 80));
  CHECK(!np(" , ,", "example.com", 80));
  CHECK(!np(".", "example.com", 80));
  CHECK(!np(NULL, "example.com", 80));
  CHECK(!np("example.com", NULL, 80));
  /* localhost is only excluded when listed */
  CHECK(!np("example.com", "localhost", 80));
  CHECK(np("localhost", "localhost", 80));
}

TEST(proxy_no_proxy_wildcard) {
  CHECK(np("*", "example.com", 80));
  CHECK(np("*", "127.0.0.1", 1));
  CHECK(np("*", "::1", 443));
  CHECK(np(" * ", "example.com", 80));
  CHECK(np("foo.org,*", "example.com", 80));
  CHECK(!np("*foo.org", "example.com", 80));
  CHECK(!np("**", "example.com", 80));
}

TEST(proxy_no_proxy_ports) {
  CHECK(np("example.com:8080", "example.com", 8080));
  CHECK(np("example.com:8080", "a.example.com", 8080));
  CHECK(!np("example.com:8080", "example.com", 80));
  CHECK(np("example.com:8080,example.com:443", "example.com", 443));
  CHECK(np("127.0.0.1:9000", "127.0.0.1", 9000));
  CHECK(!np("127.0.0.1:9000", "127.0.0.1", 9001));
  CHECK(np("[::1]:9000", "::1", 9000));
  CHECK(!np("[::1]:9000", "::1", 9001));
  CHECK(np("[::1]", "::1", 9001));
  /* malformed ports match nothing */
  CHECK(!np("example.com:", "example.com", 80));
  CHECK(!np("example.com:0", "example.com", 80));
  CHECK(!np("example.com:x", "example.com", 80));
  CHECK(!np("example.com:65536", "example.com", 0));
  CHECK(!np("[::1]x", "::1", 80));
  CHECK(!np("[::1", "::1", 80));
}

TEST(proxy_no_proxy_addresses) {
  CHECK(np("127.0.0.1", "127.0.0.1", 80));
  CHECK(!np("127.0.0.1", "127.0.0.2", 80));
  /* addresses are never suffixes of one another, nor of names */
  CHECK(!np("0.0.1", "10.0.0.1", 80));
  CHECK(!np("0.1", "10.0.0.1", 80));
  CHECK(!np("1", "10.0.0.1", 80));
  CHECK(!np("127.0.0.1", "x.127.0.0.1", 80));
  /* IPv6, bare or bracketed, on either side, compared as addresses */
  CHECK(np("::1", "::1", 80));
  CHECK(np("::1", "[::1]", 80));
  CHECK(np("[::1]", "::1", 80));
  CHECK(np("0:0::1", "::1", 80));
  CHECK(np("2001:DB8::1", "2001:db8:0:0:0:0:0:1", 80));
  CHECK(!np("::1", "::2", 80));
  CHECK(!np("::1", "127.0.0.1", 80));
  CHECK(!np("127.0.0.1", "::1", 80));
  CHECK(!np("::ffff:127.0.0.1", "127.0.0.1", 80));
  /* loopback is not implicit */
  CHECK(!np("example.com", "127.0.0.1", 80));
  CHECK(!np("example.com", "::1", 80));
  CHECK(!np("localhost", "127.0.0.1", 80));
}

TEST(proxy_no_proxy_cidr) {
  CHECK(np("10.0.0.0/8", "10.1.2.3", 80));
  CHECK(!np("10.0.0.0/8", "11.1.2.3", 80));
  CHECK(np("192.168.1.0/24", "192.168.1.200", 80));
  CHECK(!np("192.168.1.0/24", "192.168.2.1", 80));
  CHECK(np("192.168.1.128/25", "192.168.1.200", 80));
  CHECK(!np("192.168.1.128/25", "192.168.1.100", 80));
  CHECK(np("0.0.0.0/0", "8.8.8.8", 80));
  CHECK(np("1.2.3.4/32", "1.2.3.4", 80));
  CHECK(!np("1.2.3.4/32", "1.2.3.5", 80));
  CHECK(np("fe80::/10", "fe80::1", 80));
  CHECK(np("fe80::/10", "febf::1", 80));
  CHECK(!np("fe80::/10", "fec0::1", 80));
  CHECK(np("[fe80::]/10", "fe80::1", 80) == 0); /* brackets go around the address only */
  CHECK(np("10.0.0.0/8:8080", "10.9.9.9", 8080));
  CHECK(!np("10.0.0.0/8:8080", "10.9.9.9", 80));
  /* families, names and bad prefixes never match */
  CHECK(!np("10.0.0.0/8", "::ffff:10.0.0.1", 80));
  CHECK(!np("10.0.0.0/8", "ten.example", 80));
  CHECK(!np("10.0.0.0/33", "10.0.0.1", 80));
  CHECK(!np("::/129", "::1", 80));
  CHECK(!np("10.0.0.0/", "10.0.0.1", 80));
  CHECK(!np("10.0.0.0/x", "10.0.0.1", 80));
  CHECK(!np("10.0.0.0/0008", "10.0.0.1", 80));
  CHECK(!np("example.com/8", "example.com", 80));
}

/* ---- Environment ----------------------------------------------------------------- */

/* A fake environment: NULL-terminated name, value pairs. */
static const char *fake_get(void *user, const char *name) {
  const char *const *kv = user;
  for (; kv[0]; kv += 2)
    if (strcmp(kv[0], name) == 0) return kv[1];
  return NULL;
}

static const char *envurl(const char *const *envp, int secure, const char *host, unsigned port,
                          const char **var) {
  return wsc__proxy_env_url(secure, host, (uint16_t)port, fake_get, (void *)envp, var);
}

TEST(proxy_env_ws_uses_lowercase_http_proxy_only) {
  const char *var;
  const char *e1[] = {"http_proxy", "http://p1:1", "HTTP_PROXY", "http://p2:2", NULL};
  CHECK_STR(envurl(e1, 0, "example.com", 80, &var), "http://p1:1");
  CHECK_STR(var, "http_proxy");
  /* HTTP_PROXY is ignored (httpoxy) */
  const char *e2[] = {"HTTP_PROXY", "http://p2:2", NULL};
  CHECK(envurl(e2, 0, "example.com", 80, &var) == NULL);
  CHECK(var == NULL);
  /* https_proxy is for wss only */
  const char *e3[] = {"https_proxy", "http://p3:3", "HTTPS_PROXY", "http://p4:4", NULL};
  CHECK(envurl(e3, 0, "example.com", 80, &var) == NULL);
  CHECK_STR(envurl(e3, 1, "example.com", 443, &var), "http://p3:3");
  CHECK_STR(var, "https_proxy");
  /* http_proxy is for ws only */
  CHECK(envurl(e1, 1, "example.com", 443, &var) == NULL);
}

TEST(proxy_env_wss_order) {
  const char *var;
  const char *e1[] = {"HTTPS_PROXY", "http://upper:1", NULL};
  CHECK_STR(envurl(e1, 1, "h", 443, &var), "http://upper:1");
  CHECK_STR(var, "HTTPS_PROXY");
  const char *e2[] = {"HTTPS_PROXY", "http://upper:1", "https_proxy", "http://lower:1", NULL};
  CHECK_STR(envurl(e2, 1, "h", 443, &var), "http://lower:1");
  /* all_proxy, then ALL_PROXY, after the scheme's own variables */
  const char *e3[] = {"ALL_PROXY", "http://ALL:1", "all_proxy", "http://all:1", NULL};
  CHECK_STR(envurl(e3, 1, "h", 443, &var), "http://all:1");
  CHECK_STR(var, "all_proxy");
  CHECK_STR(envurl(e3, 0, "h", 80, &var), "http://all:1");
  const char *e4[] = {"ALL_PROXY", "http://ALL:1", NULL};
  CHECK_STR(envurl(e4, 1, "h", 443, &var), "http://ALL:1");
  CHECK_STR(var, "ALL_PROXY");
  CHECK_STR(envurl(e4, 0, "h", 80, &var), "http://ALL:1");
  const char *e5[] = {"all_proxy", "http://all:1", "https_proxy", "http://s:1", "http_proxy",
                      "http://p:1", NULL};
  CHECK_STR(envurl(e5, 1, "h", 443, &var), "http://s:1");
  CHECK_STR(envurl(e5, 0, "h", 80, &var), "http://p:1");
  /* nothing set */
  const char *e6[] = {NULL};
  CHECK(envurl(e6, 0, "h", 80, &var) == NULL);
  CHECK(envurl(e6, 1, "h", 443, NULL) == NULL);
}

TEST(proxy_env_empty_counts_as_unset) {
  const char *var;
  const char *e1[] = {"https_proxy", "", "HTTPS_PROXY", "http://upper:1", NULL};
  CHECK_STR(envurl(e1, 1, "h", 443, &var), "http://upper:1");
  const char *e2[] = {"http_proxy", "", "all_proxy", "http://all:1", NULL};
  CHECK_STR(envurl(e2, 0, "h", 80, &var), "http://all:1");
  const char *e3[] = {"http_proxy", "", NULL};
  CHECK(envurl(e3, 0, "h", 80, &var) == NULL);
}

TEST(proxy_env_no_proxy) {
  const char *var = "x";
  const char *e1[] = {"https_proxy", "http://p:1", "no_proxy", ".internal, 10.0.0.0/8", NULL};
  CHECK(envurl(e1, 1, "svc.internal", 443, &var) == NULL);
  CHECK(var == NULL);
  CHECK(envurl(e1, 1, "10.2.3.4", 443, &var) == NULL);
  CHECK_STR(envurl(e1, 1, "example.com", 443, &var), "http://p:1");
  /* NO_PROXY when no_proxy is unset or empty; no_proxy wins over it */
  const char *e2[] = {"http_proxy", "http://p:1", "NO_PROXY", "example.com", NULL};
  CHECK(envurl(e2, 0, "example.com", 80, &var) == NULL);
  const char *e3[] = {"http_proxy", "http://p:1", "no_proxy", "", "NO_PROXY", "example.com", NULL};
  CHECK(envurl(e3, 0, "example.com", 80, &var) == NULL);
  const char *e4[] = {"http_proxy", "http://p:1", "no_proxy", "other.org", "NO_PROXY",
                      "example.com", NULL};
  CHECK_STR(envurl(e4, 0, "example.com", 80, &var), "http://p:1");
  /* '*' disables every proxy; ports restrict */
  const char *e5[] = {"all_proxy", "http://p:1", "no_proxy", "*", NULL};
  CHECK(envurl(e5, 0, "example.com", 80, &var) == NULL);
  CHECK(envurl(e5, 1, "::1", 443, &var) == NULL);
  const char *e6[] = {"all_proxy", "http://p:1", "no_proxy", "example.com:8443", NULL};
  CHECK(envurl(e6, 1, "example.com", 8443, &var) == NULL);
  CHECK_STR(envurl(e6, 1, "example.com", 443, &var), "http://p:1");
  /* loopback still goes through the proxy unless listed */
  CHECK_STR(envurl(e6, 1, "127.0.0.1", 443, &var), "http://p:1");
  CHECK_STR(envurl(e6, 1, "::1", 443, &var), "http://p:1");
  CHECK_STR(envurl(e6, 1, "localhost", 443, &var), "http://p:1");
}

TEST(proxy_choose_precedence) {
  const char *src;
  const char *e[] = {"https_proxy", "http://envp:1", "http_proxy", "http://envp:2", "no_proxy",
                     "example.com", NULL};
  void *u = (void *)e;
  /* NULL option: the environment */
  CHECK_STR(wsc__proxy_choose(NULL, 1, "other.org", 443, fake_get, u, &src), "http://envp:1");
  CHECK_STR(src, "https_proxy");
  CHECK_STR(wsc__proxy_choose(NULL, 0, "other.org", 80, fake_get, u, &src), "http://envp:2");
  CHECK(wsc__proxy_choose(NULL, 1, "example.com", 443, fake_get, u, &src) == NULL);
  CHECK(src == NULL);
  /* an explicit option overrides the environment, no_proxy included */
  CHECK_STR(wsc__proxy_choose("http://opt:3", 1, "other.org", 443, fake_get, u, &src),
            "http://opt:3");
  CHECK_STR(src, "proxy option");
  CHECK_STR(wsc__proxy_choose("http://opt:3", 1, "example.com", 443, fake_get, u, &src),
            "http://opt:3");
  /* "" means no proxy even though the environment names one */
  src = "x";
  CHECK(wsc__proxy_choose("", 1, "other.org", 443, fake_get, u, &src) == NULL);
  CHECK(src == NULL);
  CHECK(wsc__proxy_choose("", 0, "other.org", 80, fake_get, u, NULL) == NULL);
}

TEST(proxy_for_target) {
  const char *e[] = {"https_proxy", "http://u:p@envp:3128", "http_proxy", "socks5://x:1",
                     "no_proxy", "direct.example", NULL};
  void *u = (void *)e;
  wsc__proxy p;
  char err[160];
  CHECK_EQ(wsc__proxy_for_target(NULL, 1, "example.com", 443, fake_get, u, &p, err, sizeof err), 1);
  CHECK_STR(p.hostname_for_connect, "envp");
  CHECK_EQ(p.port, 3128);
  CHECK_STR(p.authorization, "Basic dTpw");
  wsc__proxy_free(&p);
  /* direct */
  CHECK_EQ(wsc__proxy_for_target(NULL, 1, "direct.example", 443, fake_get, u, &p, err, sizeof err),
           0);
  CHECK(p.host == NULL);
  CHECK_EQ(wsc__proxy_for_target("", 1, "example.com", 443, fake_get, u, &p, err, sizeof err), 0);
  /* explicit */
  CHECK_EQ(
      wsc__proxy_for_target("[::1]:8080", 0, "example.com", 80, fake_get, u, &p, err, sizeof err),
      1);
  CHECK_STR(p.host, "[::1]");
  CHECK(p.authorization == NULL);
  wsc__proxy_free(&p);
  /* a bad setting is an error that names it */
  CHECK_EQ(wsc__proxy_for_target(NULL, 0, "example.com", 80, fake_get, u, &p, err, sizeof err),
           WSC_EINVAL);
  CHECK(strncmp(err, "http_proxy: SOCKS", 17) == 0);
  CHECK(p.host == NULL);
  CHECK_EQ(wsc__proxy_for_target("https://x", 0, "h", 80, fake_get, u, &p, err, sizeof err),
           WSC_EINVAL);
  CHECK(strncmp(err, "proxy option: https:// proxies", 30) == 0);
}

/* Save and restore the proxy variables around a test that sets them (the
 * runner may run every test in one process). */
static const char *const SAVED_VARS[] = {"https_proxy", "no_proxy", "NO_PROXY"};
static char *saved_vals[3];

static void env_save(void) {
  for (int i = 0; i < 3; i++) {
    const char *v = getenv(SAVED_VARS[i]);
    saved_vals[i] = v ? strdup(v) : NULL;
  }
}

static void env_restore(void) {
  for (int i = 0; i < 3; i++) {
    if (saved_vals[i])
      setenv(SAVED_VARS[i], saved_vals[i], 1);
    else
      unsetenv(SAVED_VARS[i]);
    free(saved_vals[i]);
    saved_vals[i] = NULL;
  }
}

TEST(proxy_getenv_wrapper) {
  /* The convenience getter reads the real environment. */
  env_save();
  CHECK_EQ(setenv("WSC_TEST_PROXY_VAR", "http://e:1", 1), 0);
  CHECK_STR(wsc__proxy_getenv(NULL, "WSC_TEST_PROXY_VAR"), "http://e:1");
  CHECK_EQ(unsetenv("WSC_TEST_PROXY_VAR"), 0);
  CHECK(wsc__proxy_getenv(NULL, "WSC_TEST_PROXY_VAR") == NULL);
  /* get NULL means getenv */
  CHECK_EQ(setenv("https_proxy", "http://real-env:3128", 1), 0);
  CHECK_EQ(unsetenv("no_proxy"), 0);
  CHECK_EQ(unsetenv("NO_PROXY"), 0);
  const char *var;
  CHECK_STR(wsc__proxy_env_url(1, "example.com", 443, NULL, NULL, &var), "http://real-env:3128");
  wsc__proxy p;
  char err[160];
  CHECK_EQ(wsc__proxy_for_target(NULL, 1, "example.com", 443, NULL, NULL, &p, err, sizeof err), 1);
  CHECK_STR(p.host, "real-env");
  wsc__proxy_free(&p);
  CHECK_EQ(setenv("no_proxy", "example.com", 1), 0);
  CHECK_EQ(wsc__proxy_for_target(NULL, 1, "example.com", 443, NULL, NULL, &p, err, sizeof err), 0);
  env_restore();
}

/* ---- CONNECT request ---------------------------------------------------------------- */

static void connect_ok(const char *host, unsigned port, const char *auth, const char *want) {
  wsc__buf b = {0};
  CHECK_EQ(wsc__buf_puts(&b, "prefix|"), 0);
  int rc = wsc__proxy_connect_request(&b, host, (uint16_t)port, auth);
  if (rc != 0) wsc_test_fail(__FILE__, __LINE__, "connect_request(%s): %d", host, rc);
  CHECK_EQ(b.len, 7 + strlen(want));
  CHECK_MEM(b.data, "prefix|", 7);
  CHECK_MEM(b.data + 7, want, strlen(want));
  wsc__buf_free(&b);
}

static void connect_bad(const char *host, unsigned port, const char *auth) {
  wsc__buf b = {0};
  CHECK_EQ(wsc__buf_puts(&b, "prefix|"), 0);
  int rc = wsc__proxy_connect_request(&b, host, (uint16_t)port, auth);
  if (rc != WSC_EINVAL)
    wsc_test_fail(__FILE__, __LINE__, "connect_request(%s): %d, want EINVAL", host ? host : "NULL",
                  rc);
  CHECK_EQ(b.len, 7);
  wsc__buf_free(&b);
}

TEST(proxy_connect_request_bytes) {
  connect_ok("example.com", 443, NULL,
             "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
  connect_ok("example.com", 80, NULL,
             "CONNECT example.com:80 HTTP/1.1\r\nHost: example.com:80\r\n\r\n");
  connect_ok("127.0.0.1", 8080, NULL,
             "CONNECT 127.0.0.1:8080 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n");
  connect_ok("::1", 9000, NULL, "CONNECT [::1]:9000 HTTP/1.1\r\nHost: [::1]:9000\r\n\r\n");
  connect_ok("[2001:db8::1]", 443, NULL,
             "CONNECT [2001:db8::1]:443 HTTP/1.1\r\nHost: [2001:db8::1]:443\r\n\r\n");
  connect_ok("example.com", 443, "Basic dXNlcjpwYXNz",
             "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n"
             "Proxy-Authorization: Basic dXNlcjpwYXNz\r\n\r\n");
  connect_ok("x", 65535, "",
             "CONNECT x:65535 HTTP/1.1\r\nHost: x:65535\r\nProxy-Authorization: \r\n\r\n");

  /* with a parsed proxy, as the socket will call it */
  wsc__proxy p;
  CHECK_EQ(wsc__proxy_parse("http://Aladdin:open%20sesame@proxy:3128", &p, NULL, 0), 0);
  connect_ok("ws.example", 443, p.authorization,
             "CONNECT ws.example:443 HTTP/1.1\r\nHost: ws.example:443\r\n"
             "Proxy-Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n\r\n");
  wsc__proxy_free(&p);
}

TEST(proxy_connect_request_refuses) {
  connect_bad(NULL, 80, NULL);
  connect_bad("", 80, NULL);
  connect_bad("example.com", 0, NULL);
  connect_bad("a b", 80, NULL);
  connect_bad("example.com\r\nX-Evil: 1", 80, NULL);
  connect_bad("a/b", 80, NULL);
  connect_bad("u@h", 80, NULL);
  connect_bad("h:80", 80, NULL);
  connect_bad("[h]", 80, NULL);
  connect_bad("[::1", 80, NULL);
  connect_bad("[]", 80, NULL);
  connect_bad("::g", 80, NULL);
  connect_bad("h\xc3\xa4", 80, NULL);
  connect_bad("h", 80, "Basic x\r\nX-Evil: 1");
  connect_bad("h", 80, "Basic \x01");
  CHECK_EQ(wsc__proxy_connect_request(NULL, "h", 80, NULL), WSC_EINVAL);
}

/* ---- The reply ------------------------------------------------------------------------ */

/* Feed resp[0..n) to a fresh reply parser in two calls split at i.
 * Returns the final rc; *head = bytes of resp that belonged to the reply when
 * rc == 1. The parser is left in r (free it). */
static int feed2(wsc__proxy_reply *r, size_t max, const char *resp, size_t n, size_t i,
                 size_t *head) {
  wsc__proxy_reply_init(r, max);
  const uint8_t *d = (const uint8_t *)resp;
  size_t c = (size_t)-1;
  int rc = wsc__proxy_reply_feed(r, d, i, &c);
  *head = 0;
  if (rc == 1) {
    CHECK(c <= i);
    *head = c;
    return rc;
  }
  if (rc < 0) {
    CHECK_EQ(c, 0);
    return rc;
  }
  CHECK_EQ(c, i);
  c = (size_t)-1;
  rc = wsc__proxy_reply_feed(r, d + i, n - i, &c);
  if (rc == 1) {
    CHECK(c <= n - i);
    *head = i + c;
  } else if (rc == 0) {
    CHECK_EQ(c, n - i);
  } else {
    CHECK_EQ(c, 0);
  }
  return rc;
}

/* Feed one byte at a time; same contract as feed2. */
static int feed_bytes(wsc__proxy_reply *r, size_t max, const char *resp, size_t n, size_t *head) {
  wsc__proxy_reply_init(r, max);
  *head = 0;
  for (size_t i = 0; i < n; i++) {
    size_t c = (size_t)-1;
    int rc = wsc__proxy_reply_feed(r, (const uint8_t *)resp + i, 1, &c);
    if (rc == 1) {
      CHECK_EQ(c, 1);
      *head = i + 1;
      return 1;
    }
    if (rc < 0) {
      CHECK_EQ(c, 0);
      return rc;
    }
    CHECK_EQ(c, 1);
  }
  return 0;
}

/* The reply must give want_rc (and for 1, want_head bytes of head; for an
 * error, want_err as the message or its prefix) whatever the split. */
static void reply_case(size_t max, const char *resp, size_t n, int want_rc, size_t want_head,
                       int want_status, const char *want_err) {
  for (size_t i = 0; i <= n; i++) {
    wsc__proxy_reply r;
    size_t head;
    int rc = feed2(&r, max, resp, n, i, &head);
    if (rc != want_rc)
      wsc_test_fail(__FILE__, __LINE__, "split at %zu: rc %d, want %d (%s)", i, rc, want_rc,
                    r.error);
    CHECK_EQ(r.status, want_status);
    if (want_rc == 1) {
      CHECK_EQ(head, want_head);
      CHECK_STR(r.error, "");
      /* sticky: more data is not taken */
      size_t c = 5;
      CHECK_EQ(wsc__proxy_reply_feed(&r, (const uint8_t *)"xyz", 3, &c), 1);
      CHECK_EQ(c, 0);
      CHECK_EQ(wsc__proxy_reply_eof(&r), 1);
    } else if (want_rc < 0) {
      if (strncmp(r.error, want_err, strlen(want_err)) != 0)
        wsc_test_fail(__FILE__, __LINE__, "split at %zu: error \"%s\", want \"%s\"", i, r.error,
                      want_err);
      size_t c = 5;
      CHECK_EQ(wsc__proxy_reply_feed(&r, (const uint8_t *)"xyz", 3, &c), want_rc);
      CHECK_EQ(c, 0);
      CHECK_EQ(wsc__proxy_reply_eof(&r), want_rc);
    }
    wsc__proxy_reply_free(&r);
    wsc__proxy_reply_free(&r);
  }
  wsc__proxy_reply r;
  size_t head;
  CHECK_EQ(feed_bytes(&r, max, resp, n, &head), want_rc);
  if (want_rc == 1) CHECK_EQ(head, want_head);
  wsc__proxy_reply_free(&r);
}

#define REPLY_OK(resp, tail_len, status)                                                     \
  reply_case(0, resp, sizeof(resp) - 1, 1, sizeof(resp) - 1 - (tail_len), status, "")
#define REPLY_ERR(resp, rc, status, msg) reply_case(0, resp, sizeof(resp) - 1, rc, 0, status, msg)

TEST(proxy_reply_200_every_split) {
  REPLY_OK("HTTP/1.1 200 Connection established\r\n\r\n", 0, 200);
  REPLY_OK("HTTP/1.0 200 Connection established\r\n\r\n", 0, 200);
  REPLY_OK("HTTP/1.1 200\r\n\r\n", 0, 200);
  REPLY_OK("HTTP/1.1 204 No Content\r\n\r\n", 0, 204);
  REPLY_OK("HTTP/1.1 299 Whatever\r\n\r\n", 0, 299);
  REPLY_OK("HTTP/1.1 200 OK\r\nProxy-Agent: test/1.0\r\nVia: 1.1 p\r\n\r\n", 0, 200);
  /* Content-Length on a 2xx reply to CONNECT is ignored: what follows is the tunnel */
  REPLY_OK("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 5, 200);
  REPLY_OK("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 0, 200);
}

TEST(proxy_reply_200_with_trailing_bytes) {
  /* The start of a TLS ServerHello / a server's first bytes after the head
   * are handed back, not swallowed. */
  static const char resp[] = "HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x03\x00\x7a"
                             "\x02\x00";
  REPLY_OK(resp, 7, 200);
  static const char resp2[] = "HTTP/1.1 200 OK\r\n\r\nHTTP/1.1 101 Switching Protocols\r\n\r\n";
  REPLY_OK(resp2, sizeof resp2 - 1 - 19, 200);
  /* in one chunk: consumed points at the first tunnelled byte */
  wsc__proxy_reply r;
  wsc__proxy_reply_init(&r, 0);
  size_t c;
  CHECK_EQ(wsc__proxy_reply_feed(&r, (const uint8_t *)resp, sizeof resp - 1, &c), 1);
  CHECK_EQ(c, 39);
  CHECK_MEM((const uint8_t *)resp + c, "\x16\x03\x03", 3);
  wsc__proxy_reply_free(&r);
}

TEST(proxy_reply_refusals) {
  REPLY_ERR("HTTP/1.1 407 Proxy Authentication Required\r\n"
            "Proxy-Authenticate: Basic realm=\"proxy\"\r\nContent-Length: 13\r\n\r\n"
            "access denied",
            WSC_EPROXY, 407, "proxy refused CONNECT: 407 Proxy Authentication Required");
  REPLY_ERR("HTTP/1.1 403 Forbidden\r\n\r\n", WSC_EPROXY, 403,
            "proxy refused CONNECT: 403 Forbidden");
  REPLY_ERR("HTTP/1.0 502 Bad Gateway\r\n\r\n", WSC_EPROXY, 502,
            "proxy refused CONNECT: 502 Bad Gateway");
  REPLY_ERR("HTTP/1.1 503\r\n\r\n", WSC_EPROXY, 503, "proxy refused CONNECT: 503");
  REPLY_ERR("HTTP/1.1 300 Multiple\r\n\r\n", WSC_EPROXY, 300,
            "proxy refused CONNECT: 300 Multiple");
  REPLY_ERR("HTTP/1.1 101 Switching Protocols\r\n\r\n", WSC_EPROXY, 101,
            "proxy refused CONNECT: 101 Switching Protocols");
  /* exact message, and the reason phrase is made printable and short */
  wsc__proxy_reply r;
  size_t head;
  static const char resp[] = "HTTP/1.1 407 Proxy Authentication Required\r\n\r\n";
  CHECK_EQ(feed2(&r, 0, resp, sizeof resp - 1, 3, &head), WSC_EPROXY);
  CHECK_STR(r.error, "proxy refused CONNECT: 407 Proxy Authentication Required");
  wsc__proxy_reply_free(&r);
  static const char odd[] = "HTTP/1.1 403 Nope\xff\x80\t!\r\n\r\n";
  CHECK_EQ(feed2(&r, 0, odd, sizeof odd - 1, 0, &head), WSC_EPROXY);
  CHECK_STR(r.error, "proxy refused CONNECT: 403 Nope??" "?!");
  wsc__proxy_reply_free(&r);
  char longr[400];
  size_t n = (size_t)snprintf(longr, sizeof longr, "HTTP/1.1 403 %0300d\r\n\r\n", 0);
  CHECK_EQ(feed2(&r, 0, longr, n, n / 2, &head), WSC_EPROXY);
  CHECK(strncmp(r.error, "proxy refused CONNECT: 403 0000", 31) == 0);
  CHECK(strlen(r.error) < sizeof r.error);
  wsc__proxy_reply_free(&r);
}

TEST(proxy_reply_interim_1xx_skipped) {
  static const char resp[] = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\nXY";
  REPLY_OK(resp, 2, 200);
  REPLY_OK("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\nA: b\r\n\r\n"
           "HTTP/1.1 200 OK\r\n\r\n",
           0, 200);
  REPLY_ERR("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 407 Auth\r\n\r\n", WSC_EPROXY, 407,
            "proxy refused CONNECT: 407 Auth");
  REPLY_ERR("HTTP/1.1 100 Continue\r\n\r\ngarbage\r\n\r\n", WSC_EPROXY, 0,
            "malformed proxy response");
  /* interim heads count towards the limit: 30 + 30 bytes of 1xx, then a
   * 19-byte 200 fits in 80 but not in 78 */
  static const char two[] = "HTTP/1.1 100 Continue\r\nA: b\r\n\r\n"
                            "HTTP/1.1 100 Continue\r\nA: b\r\n\r\nHTTP/1.1 200 OK\r\n\r\n";
  CHECK_EQ(sizeof two - 1, 31 + 31 + 19);
  reply_case(81, two, sizeof two - 1, 1, sizeof two - 1, 200, "");
  reply_case(80, two, sizeof two - 1, WSC_EHEADERSIZE, 0, 0, "proxy response head exceeds 80");
  reply_case(62, two, sizeof two - 1, WSC_EHEADERSIZE, 0, 0, "proxy response head exceeds 62");
}

TEST(proxy_reply_malformed) {
  const char *m = "malformed proxy response";
  REPLY_ERR("garbage\r\n\r\n", WSC_EPROXY, 0, m);
  REPLY_ERR("SSH-2.0-OpenSSH_9.2\r\n\r\n", WSC_EPROXY, 0, m);
  REPLY_ERR("HTTP/2.0 200 OK\r\n\r\n", WSC_EPROXY, 0, "malformed proxy response (HTTP/2.0");
  REPLY_ERR("HTTP/0.9 200 OK\r\n\r\n", WSC_EPROXY, 0, m);
  REPLY_ERR("HTTP/1.1 2000 OK\r\n\r\n", WSC_EPROXY, 0, m);
  REPLY_ERR("HTTP/1.1 20 OK\r\n\r\n", WSC_EPROXY, 0, m);
  REPLY_ERR("HTTP/1.1 099 Low\r\n\r\n", WSC_EPROXY, 0, m);
  REPLY_ERR("HTTP/1.1  200 OK\r\n\r\n", WSC_EPROXY, 0, m);
  REPLY_ERR("http/1.1 200 OK\r\n\r\n", WSC_EPROXY, 0, m);
  REPLY_ERR("HTTP/1.1 200 OK\n\n", WSC_EPROXY, 0, "malformed proxy response (bare LF");
  REPLY_ERR("HTTP/1.1 200 OK\r\r\n\r\n", WSC_EPROXY, 0, "malformed proxy response (bare CR");
  REPLY_ERR("HTTP/1.1 200 OK\r\nA\0: b\r\n\r\n", WSC_EPROXY, 0, "malformed proxy response (NUL");
  REPLY_ERR("HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", WSC_EPROXY, 0, m);
  REPLY_ERR("HTTP/1.1 200 OK\r\n folded\r\n\r\n", WSC_EPROXY, 0, m);
  REPLY_ERR("HTTP/1.1 200 OK\r\nName : v\r\n\r\n", WSC_EPROXY, 0, m);
  REPLY_ERR("\r\n", WSC_EPROXY, 0, m);
  REPLY_ERR("\r\n\r\n", WSC_EPROXY, 0, m);
}

TEST(proxy_reply_oversize) {
  /* default limit: 8 KiB; a head that has not ended by then is refused */
  size_t n = WSC__PROXY_DEFAULT_MAX_HEAD + 100;
  char *big = malloc(n);
  CHECK(big != NULL);
  memcpy(big, "HTTP/1.1 200 OK\r\nX: ", 20);
  memset(big + 20, 'a', n - 20);
  wsc__proxy_reply r;
  size_t head;
  CHECK_EQ(feed2(&r, 0, big, n, 4000, &head), WSC_EHEADERSIZE);
  CHECK_STR(r.error, "proxy response head exceeds 8192 bytes");
  wsc__proxy_reply_free(&r);
  CHECK_EQ(feed_bytes(&r, 0, big, n, &head), WSC_EHEADERSIZE);
  wsc__proxy_reply_free(&r);
  /* a head of exactly 8192 bytes fits; one byte more does not */
  size_t hl = WSC__PROXY_DEFAULT_MAX_HEAD;
  memcpy(big + hl - 4, "\r\n\r\n", 4);
  CHECK_EQ(feed2(&r, 0, big, hl + 10, 100, &head), 1);
  CHECK_EQ(head, hl);
  wsc__proxy_reply_free(&r);
  big[hl - 4] = 'a';
  memcpy(big + hl - 3, "\r\n\r\n", 4);
  CHECK_EQ(feed2(&r, 0, big, hl + 10, 100, &head), WSC_EHEADERSIZE);
  wsc__proxy_reply_free(&r);
  free(big);
  /* a small configured limit, and every split */
  static const char resp[] = "HTTP/1.1 200 OK\r\nProxy-Agent: a-long-proxy-agent\r\n\r\n";
  reply_case(sizeof resp - 1, resp, sizeof resp - 1, 1, sizeof resp - 1, 200, "");
  reply_case(sizeof resp - 2, resp, sizeof resp - 1, WSC_EHEADERSIZE, 0, 0,
             "proxy response head exceeds");
  /* too many header fields */
  wsc__buf b = {0};
  CHECK_EQ(wsc__buf_puts(&b, "HTTP/1.1 200 OK\r\n"), 0);
  for (int i = 0; i <= WSC__HTTP_MAX_HEADERS; i++) CHECK_EQ(wsc__buf_puts(&b, "A: b\r\n"), 0);
  CHECK_EQ(wsc__buf_puts(&b, "\r\n"), 0);
  CHECK_EQ(feed2(&r, 0, (const char *)b.data, b.len, 7, &head), WSC_EHEADERSIZE);
  CHECK(strstr(r.error, "header fields") != NULL);
  wsc__proxy_reply_free(&r);
  wsc__buf_free(&b);
}

TEST(proxy_reply_eof) {
  wsc__proxy_reply r;
  wsc__proxy_reply_init(&r, 0);
  CHECK_EQ(wsc__proxy_reply_eof(&r), WSC_EPROXY);
  CHECK_STR(r.error, "proxy closed the connection before the tunnel was established");
  wsc__proxy_reply_free(&r);
  wsc__proxy_reply_init(&r, 0);
  size_t c;
  CHECK_EQ(wsc__proxy_reply_feed(&r, (const uint8_t *)"HTTP/1.1 200 OK\r\n", 17, &c), 0);
  CHECK_EQ(c, 17);
  CHECK_EQ(wsc__proxy_reply_eof(&r), WSC_EPROXY);
  CHECK_EQ(wsc__proxy_reply_feed(&r, (const uint8_t *)"\r\n", 2, &c), WSC_EPROXY);
  CHECK_EQ(c, 0);
  wsc__proxy_reply_free(&r);
  /* empty feeds are harmless */
  wsc__proxy_reply_init(&r, 0);
  CHECK_EQ(wsc__proxy_reply_feed(&r, NULL, 0, &c), 0);
  CHECK_EQ(c, 0);
  wsc__proxy_reply_free(&r);
}
