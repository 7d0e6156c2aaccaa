/* test_url.c - WebSocket URL parsing and the subprotocol check (the checks of
 * `new WebSocket(url, protocols)`). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/url.h"
#include "test.h"
#include "wsc.h"

/* ---- helpers --------------------------------------------------------------- */

/* Parse in; it must succeed with these fields. NULL for a field means "do not
 * check". port < 0 means "do not check" (port_explicit is then not checked). */
static void expect_url(int line, const char *in, const char *href, const char *host,
                       const char *resource, const char *host_header, long port,
                       int port_explicit) {
  wsc__url u;
  int rc = wsc__url_parse(in, &u);
  if (rc != 0) wsc_test_fail(__FILE__, line, "parse(\"%s\") = %s, want 0", in, wsc_err_name(rc));
#define FIELD_(name, want)                                                                 \
  do {                                                                                     \
    if ((want) && strcmp(u.name, (want)) != 0)                                             \
      wsc_test_fail(__FILE__, line, "parse(\"%s\")." #name " = \"%s\", want \"%s\"", in, u.name, \
                    (want));                                                               \
  } while (0)
  FIELD_(href, href);
  FIELD_(host, host);
  FIELD_(resource, resource);
  FIELD_(host_header, host_header);
#undef FIELD_
  if (port >= 0 && (u.port != port || u.port_explicit != port_explicit))
    wsc_test_fail(__FILE__, line, "parse(\"%s\"): port %u explicit %d, want %ld explicit %d", in,
                  (unsigned)u.port, u.port_explicit, port, port_explicit);
  /* invariants of every parsed URL */
  if (u.resource[0] != '/' || strcmp(u.href + strlen(u.href) - strlen(u.resource), u.resource) != 0)
    wsc_test_fail(__FILE__, line, "parse(\"%s\"): resource \"%s\" is not href's tail", in,
                  u.resource);
  wsc__url_free(&u);
}
#define URL_OK(in, href, host, resource, host_header, port, explicit_) \
  expect_url(__LINE__, in, href, host, resource, host_header, port, explicit_)
/* Only href. */
#define HREF(in, href) expect_url(__LINE__, in, href, NULL, NULL, NULL, -1, 0)

static void expect_err(int line, const char *in, int want) {
  wsc__url u;
  memset(&u, 0xa5, sizeof u);
  int rc = wsc__url_parse(in, &u);
  if (rc != want)
    wsc_test_fail(__FILE__, line, "parse(\"%s\") = %s, want %s (href \"%s\")", in, wsc_err_name(rc),
                  wsc_err_name(want), rc == 0 ? u.href : "");
  wsc__url z;
  memset(&z, 0, sizeof z);
  if (memcmp(&u, &z, sizeof u) != 0)
    wsc_test_fail(__FILE__, line, "parse(\"%s\") failed but left *out non-zero", in);
}
#define URL_SYNTAX(in) expect_err(__LINE__, in, WSC_ESYNTAX)
#define URL_SECURITY(in) expect_err(__LINE__, in, WSC_ESECURITY)

/* ---- web-platform-tests websockets/ constructor cases ------------------------- */

TEST(url_wpt_constructor_examples) {
  /* Create-invalid-urls, constructor/0xx: what a C caller can reproduce (no
   * base URL, so relative URLs fail here where a page would resolve them). */
  URL_SYNTAX("ws://foo bar.com/");
  URL_SYNTAX("wss://foo bar.com/");
  URL_SYNTAX("ftp://example.com/");
  URL_SYNTAX("mailto:example@example.org");
  URL_SYNTAX("about:blank");
  URL_SYNTAX("ws://example.com/#");
  URL_SYNTAX("ws://example.com/#test");
  URL_SYNTAX("#test");
  URL_SYNTAX("?test");
  URL_SYNTAX("/x");
  URL_SYNTAX("wss://example.com:65536");
  URL_SECURITY("ws://example.com:6666");
  /* constructor/008: 80 and 443 are never blocked, with either scheme */
  URL_OK("ws://example.invalid:80/", "ws://example.invalid/", "example.invalid", "/",
         "example.invalid", 80, 0);
  URL_OK("ws://example.invalid:443/", "ws://example.invalid:443/", "example.invalid", "/",
         "example.invalid:443", 443, 1);
  URL_OK("wss://example.invalid:80/", "wss://example.invalid:80/", "example.invalid", "/",
         "example.invalid:80", 80, 1);
  URL_OK("wss://example.invalid:443/", "wss://example.invalid/", "example.invalid", "/",
         "example.invalid", 443, 0);
  /* constructor/017: too few slashes are fine for a special scheme */
  URL_OK("ws:example.com/echo", "ws://example.com/echo", "example.com", "/echo", "example.com",
         80, 0);
  URL_OK("wss:/example.com:8443/echo", "wss://example.com:8443/echo", "example.com", "/echo",
         "example.com:8443", 8443, 1);
  /* constructor/019 and 020: uppercase scheme and host */
  URL_OK("WS://EXAMPLE.COM:8080/Echo", "ws://example.com:8080/Echo", "example.com", "/Echo",
         "example.com:8080", 8080, 1);
  /* http(s) URLs become ws(s) */
  URL_OK("http://x/", "ws://x/", "x", "/", "x", 80, 0);
  URL_OK("https://x/", "wss://x/", "x", "/", "x", 443, 0);
  /* IPv6 with a port, path and query */
  URL_OK("ws://[::1]:8080/path?q", "ws://[::1]:8080/path?q", "[::1]", "/path?q", "[::1]:8080",
         8080, 1);
  /* Create-Secure-url-with-space: a space in the query is percent-encoded */
  URL_OK("wss://example.com/echo?test=a b", "wss://example.com/echo?test=a%20b", "example.com",
         "/echo?test=a%20b", "example.com", 443, 0);
  /* Create-url-with-windows-1252-encoding: the query is always UTF-8 */
  HREF("ws://example.com/echo?\xc3\xa5", "ws://example.com/echo?%C3%A5");
}

/* ---- scheme ------------------------------------------------------------------ */

TEST(url_scheme_mapping) {
  wsc__url u;
  CHECK_EQ(wsc__url_parse("ws://h/", &u), 0);
  CHECK_EQ(u.secure, 0);
  wsc__url_free(&u);
  CHECK_EQ(wsc__url_parse("wss://h/", &u), 0);
  CHECK_EQ(u.secure, 1);
  wsc__url_free(&u);
  CHECK_EQ(wsc__url_parse("HtTp://h/", &u), 0);
  CHECK_EQ(u.secure, 0);
  CHECK_STR(u.href, "ws://h/");
  wsc__url_free(&u);
  CHECK_EQ(wsc__url_parse("HTTPS://h/", &u), 0);
  CHECK_EQ(u.secure, 1);
  CHECK_STR(u.href, "wss://h/");
  wsc__url_free(&u);
  HREF("Ws://h", "ws://h/");
  HREF("wSS://h", "wss://h/");
}

TEST(url_scheme_rejected) {
  URL_SYNTAX("ftp://h/");
  URL_SYNTAX("file:///etc/passwd");
  URL_SYNTAX("javascript:alert(1)");
  URL_SYNTAX("data:text/plain,x");
  URL_SYNTAX("wsx://h/");
  URL_SYNTAX("ws+tls://h/");
  URL_SYNTAX("xws://h/");
  URL_SYNTAX("httpss://h/");
  URL_SYNTAX("w s://h/");
  URL_SYNTAX("1ws://h/");
  URL_SYNTAX("ws");
  URL_SYNTAX("ws//h/");
  URL_SYNTAX(":ws://h/");
}

TEST(url_authority_slashes) {
  /* a special scheme skips any run of '/' and '\' before the authority */
  HREF("ws:x", "ws://x/");
  HREF("ws:/x", "ws://x/");
  HREF("ws:///x", "ws://x/");
  HREF("ws:\\\\x\\y", "ws://x/y");
  HREF("ws:/\\/\\x/y", "ws://x/y");
}

TEST(url_relative_rejected) {
  URL_SYNTAX("/x");
  URL_SYNTAX("x");
  URL_SYNTAX("x/y");
  URL_SYNTAX("example.com");
  URL_SYNTAX("example.com:80");  /* scheme "example.com", not ws */
  URL_SYNTAX("//example.com/");
  URL_SYNTAX("\\\\example.com\\");
  URL_SYNTAX("?q");
  URL_SYNTAX("./x");
  URL_SYNTAX("../x");
}

TEST(url_empty_input) {
  URL_SYNTAX("");
  URL_SYNTAX(" ");
  URL_SYNTAX("\t\r\n");
  URL_SYNTAX("\x01\x1f \x02");
}

TEST(url_fragment_rejected) {
  URL_SYNTAX("ws://h/#");
  URL_SYNTAX("ws://h#");
  URL_SYNTAX("ws://h/p#frag");
  URL_SYNTAX("ws://h/p?q#frag");
  URL_SYNTAX("ws://h/?#");
  URL_SYNTAX("ws://u#@h/");
  URL_SYNTAX("ws://h:80#");
  URL_SYNTAX("ws://[::1]#");
  URL_SYNTAX("ws:#");
  /* even on a bad port: the syntax error comes first */
  URL_SYNTAX("ws://h:6666/#");
  /* a percent-encoded '#' is no fragment */
  HREF("ws://h/a%23b?c%23d", "ws://h/a%23b?c%23d");
}

/* ---- ports ------------------------------------------------------------------- */

/* The Fetch Standard's bad ports (https://fetch.spec.whatwg.org/#port-blocking),
 * port 0 included (added in 2025). */
static const unsigned bad_ports[] = {
    0,    1,    7,    9,    11,   13,   15,   17,   19,   20,   21,   22,   23,   25,
    37,   42,   43,   53,   69,   77,   79,   87,   95,   101,  102,  103,  104,  109,
    110,  111,  113,  115,  117,  119,  123,  135,  137,  139,  143,  161,  179,  389,
    427,  465,  512,  513,  514,  515,  526,  530,  531,  532,  540,  548,  554,  556,
    563,  587,  601,  636,  989,  990,  993,  995,  1719, 1720, 1723, 2049, 3659, 4045,
    4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080};

TEST(url_bad_ports_security_error) {
  char in[64];
  for (size_t i = 0; i < sizeof bad_ports / sizeof bad_ports[0]; i++) {
    snprintf(in, sizeof in, "ws://example.com:%u/", bad_ports[i]);
    URL_SECURITY(in);
    snprintf(in, sizeof in, "wss://example.com:%u/chat?x", bad_ports[i]);
    URL_SECURITY(in);
    snprintf(in, sizeof in, "http://[::1]:%u", bad_ports[i]);
    URL_SECURITY(in);
    snprintf(in, sizeof in, "ws://1.2.3.4:000%u", bad_ports[i]); /* leading zeros */
    URL_SECURITY(in);
  }
}

TEST(url_bad_ports_nothing_else_blocked) {
  char in[64];
  size_t next = 0, nbad = sizeof bad_ports / sizeof bad_ports[0];
  for (unsigned port = 0; port <= 65535; port++) {
    int bad = next < nbad && bad_ports[next] == port;
    if (bad) next++;
    snprintf(in, sizeof in, "ws://h:%u", port);
    wsc__url u;
    int rc = wsc__url_parse(in, &u);
    if (rc != (bad ? WSC_ESECURITY : 0))
      wsc_test_fail(__FILE__, __LINE__, "port %u: %s", port, wsc_err_name(rc));
    if (rc == 0) {
      CHECK_EQ(u.port, port);
      CHECK_EQ(u.port_explicit, port != 80);
    }
    wsc__url_free(&u);
  }
  CHECK_EQ(next, nbad);
}

TEST(url_port_edges) {
  URL_SECURITY("ws://h:0/");
  URL_SECURITY("ws://h:00000/");
  URL_OK("ws://h:65535/", "ws://h:65535/", "h", "/", "h:65535", 65535, 1);
  URL_OK("ws://h:1024", "ws://h:1024/", "h", "/", "h:1024", 1024, 1);
  URL_SYNTAX("ws://h:65536/");
  URL_SYNTAX("wss://h:99999/");
  URL_SYNTAX("ws://h:18446744073709551617/"); /* 2^64 + 1: no wrap-around */
  URL_SYNTAX("ws://h:4294967376/");           /* 2^32 + 80 */
  URL_OK("ws://h:000000000000000000008080/", "ws://h:8080/", "h", "/", "h:8080", 8080, 1);
  URL_SYNTAX("ws://h:8a/");
  URL_SYNTAX("ws://h:-1/");
  URL_SYNTAX("ws://h:+80/");
  URL_SYNTAX("ws://h:0x50/");
  URL_SYNTAX("ws://h: 80/");
  URL_SYNTAX("ws://h:80:80/");
  URL_SYNTAX("ws://h:80 /");
  /* an empty port is no port */
  URL_OK("ws://h:/", "ws://h/", "h", "/", "h", 80, 0);
  URL_OK("wss://h:?q", "wss://h/?q", "h", "/?q", "h", 443, 0);
  /* a port ends at any terminator, '\' included */
  URL_OK("ws://h:8080\\x", "ws://h:8080/x", "h", "/x", "h:8080", 8080, 1);
  URL_OK("ws://h:8080?x", "ws://h:8080/?x", "h", "/?x", "h:8080", 8080, 1);
}

TEST(url_default_port_elision) {
  URL_OK("ws://h:80/", "ws://h/", "h", "/", "h", 80, 0);
  URL_OK("ws://h:0080/", "ws://h/", "h", "/", "h", 80, 0);
  URL_OK("ws://h/", "ws://h/", "h", "/", "h", 80, 0);
  URL_OK("wss://h:443/", "wss://h/", "h", "/", "h", 443, 0);
  URL_OK("wss://h/", "wss://h/", "h", "/", "h", 443, 0);
  URL_OK("ws://h:443/", "ws://h:443/", "h", "/", "h:443", 443, 1);
  URL_OK("wss://h:80/", "wss://h:80/", "h", "/", "h:80", 80, 1);
  URL_OK("http://h:80/", "ws://h/", "h", "/", "h", 80, 0);
  URL_OK("https://h:443/", "wss://h/", "h", "/", "h", 443, 0);
  URL_OK("http://h:443/", "ws://h:443/", "h", "/", "h:443", 443, 1);
  URL_OK("https://h:80/", "wss://h:80/", "h", "/", "h:80", 80, 1);
  URL_OK("ws://[::1]:80/", "ws://[::1]/", "[::1]", "/", "[::1]", 80, 0);
  URL_OK("wss://10.0.0.1:443/x", "wss://10.0.0.1/x", "10.0.0.1", "/x", "10.0.0.1", 443, 0);
}

/* ---- hosts ------------------------------------------------------------------- */

static void expect_host(int line, const char *in, const char *host, const char *connect,
                        wsc__url_host_kind kind) {
  wsc__url u;
  int rc = wsc__url_parse(in, &u);
  if (rc != 0) wsc_test_fail(__FILE__, line, "parse(\"%s\") = %s", in, wsc_err_name(rc));
  if (strcmp(u.host, host) != 0 || strcmp(u.hostname_for_connect, connect) != 0 ||
      u.host_kind != kind)
    wsc_test_fail(__FILE__, line, "parse(\"%s\"): host \"%s\" connect \"%s\" kind %d", in, u.host,
                  u.hostname_for_connect, (int)u.host_kind);
  wsc__url_free(&u);
}
#define HOST(in, host, connect, kind) expect_host(__LINE__, in, host, connect, kind)
#define V4(in, host) HOST(in, host, host, WSC__URL_HOST_IPV4)
#define V6(in, host, connect) HOST(in, host, connect, WSC__URL_HOST_IPV6)
#define DOMAIN(in, host) HOST(in, host, host, WSC__URL_HOST_DOMAIN)

TEST(url_ipv4_forms) {
  V4("ws://127.0.0.1/", "127.0.0.1");
  V4("ws://0x7f.1/", "127.0.0.1");
  V4("ws://0X7F.1/", "127.0.0.1");
  V4("ws://127.1/", "127.0.0.1");
  V4("ws://127.0.1/", "127.0.0.1");
  V4("ws://2130706433/", "127.0.0.1");
  V4("ws://0x7F000001/", "127.0.0.1");
  V4("ws://017700000001/", "127.0.0.1");
  V4("ws://0177.0.0.1/", "127.0.0.1");
  V4("ws://0177.0x0.00.0x1/", "127.0.0.1");
  V4("ws://1.2.3.4./", "1.2.3.4"); /* one trailing dot */
  V4("ws://0/", "0.0.0.0");
  V4("ws://0x/", "0.0.0.0");
  V4("ws://00/", "0.0.0.0");
  V4("ws://255.255.255.255/", "255.255.255.255");
  V4("ws://4294967295/", "255.255.255.255");
  V4("ws://0xffffffff/", "255.255.255.255");
  V4("ws://1.2.65535/", "1.2.255.255");
  V4("ws://1.16777215/", "1.255.255.255");
  V4("ws://%31%32%37.0.0.1/", "127.0.0.1"); /* percent-decoded first */
}

TEST(url_ipv4_host_header_and_resource) {
  URL_OK("ws://0x7f.1:8080/a?b", "ws://127.0.0.1:8080/a?b", "127.0.0.1", "/a?b", "127.0.0.1:8080",
         8080, 1);
}

TEST(url_ipv4_invalid) {
  URL_SYNTAX("ws://4294967296/");
  URL_SYNTAX("ws://0x100000000/");
  URL_SYNTAX("ws://99999999999999999999999/");
  URL_SYNTAX("ws://256.0.0.1/");
  URL_SYNTAX("ws://1.256.1/");
  URL_SYNTAX("ws://1.2.3.256/");
  URL_SYNTAX("ws://1.2.65536/");
  URL_SYNTAX("ws://1.2.3.4.5/");
  URL_SYNTAX("ws://1.2.3.09/"); /* 09 is bad octal */
  URL_SYNTAX("ws://08/");
  URL_SYNTAX("ws://1..2/");
  URL_SYNTAX("ws://.1/");
  URL_SYNTAX("ws://foo.1.2.3.4/");
  URL_SYNTAX("ws://foo.09/"); /* ends in a number, so it must be IPv4 */
  URL_SYNTAX("ws://foo.0x/");
  URL_SYNTAX("ws://foo.1/");
  URL_SYNTAX("ws://0xg.1/");
}

TEST(url_ipv4_lookalikes_are_domains) {
  DOMAIN("ws://0xg/", "0xg");
  DOMAIN("ws://1.2.3.4x/", "1.2.3.4x");
  DOMAIN("ws://1.2.3.x4/", "1.2.3.x4");
  DOMAIN("ws://1a/", "1a");
  DOMAIN("ws://1.2.3.4../", "1.2.3.4.."); /* the last label is empty */
}

TEST(url_ipv6_forms) {
  V6("ws://[::1]/", "[::1]", "::1");
  V6("ws://[0:0::1]/", "[::1]", "::1");
  V6("ws://[0:0:0:0:0:0:0:1]/", "[::1]", "::1");
  V6("ws://[::]/", "[::]", "::");
  V6("ws://[0::0]/", "[::]", "::");
  V6("ws://[1::]/", "[1::]", "1::");
  V6("ws://[1:0::]/", "[1::]", "1::");
  V6("ws://[ABCD:EF01::0001]/", "[abcd:ef01::1]", "abcd:ef01::1");
  V6("ws://[1:2:3:4:5:6:7:8]/", "[1:2:3:4:5:6:7:8]", "1:2:3:4:5:6:7:8");
  V6("ws://[1:0:0:4:0:0:0:8]/", "[1:0:0:4::8]", "1:0:0:4::8");       /* longest run */
  V6("ws://[1:0:0:4:5:0:0:8]/", "[1::4:5:0:0:8]", "1::4:5:0:0:8");    /* first of equals */
  V6("ws://[0:1:0:1:0:1:0:1]/", "[0:1:0:1:0:1:0:1]", "0:1:0:1:0:1:0:1"); /* no run of 2 */
  V6("ws://[1:2:3:4:5:6:7::]/", "[1:2:3:4:5:6:7:0]", "1:2:3:4:5:6:7:0");
  V6("ws://[::ffff:1.2.3.4]/", "[::ffff:102:304]", "::ffff:102:304");
  V6("ws://[::127.0.0.1]/", "[::7f00:1]", "::7f00:1");
  V6("ws://[1:2:3:4:5:6:1.2.3.4]/", "[1:2:3:4:5:6:102:304]", "1:2:3:4:5:6:102:304");
  V6("ws://[::0.0.0.0]/", "[::]", "::");
  URL_OK("wss://[0:0::1]:8443/x?y", "wss://[::1]:8443/x?y", "[::1]", "/x?y", "[::1]:8443", 8443,
         1);
  URL_OK("ws://u:p@[::1]/", "ws://u:p@[::1]/", "[::1]", "/", "[::1]", 80, 0);
}

TEST(url_ipv6_invalid) {
  URL_SYNTAX("ws://[::1/");
  URL_SYNTAX("ws://[::1");
  URL_SYNTAX("ws://::1/");
  URL_SYNTAX("ws://[::1]x/");
  URL_SYNTAX("ws://x[::1]/");
  URL_SYNTAX("ws://[]/");
  URL_SYNTAX("ws://[/");
  URL_SYNTAX("ws://[:]/");
  URL_SYNTAX("ws://[:1]/");
  URL_SYNTAX("ws://[1:]/");
  URL_SYNTAX("ws://[1:2:3:4:5:6:7]/");
  URL_SYNTAX("ws://[1:2:3:4:5:6:7:8:9]/");
  URL_SYNTAX("ws://[1::2::3]/");
  URL_SYNTAX("ws://[:::]/");
  URL_SYNTAX("ws://[12345::]/");
  URL_SYNTAX("ws://[g::]/");
  URL_SYNTAX("ws://[::1.2.3]/");
  URL_SYNTAX("ws://[::1.2.3.4.5]/");
  URL_SYNTAX("ws://[::01.2.3.4]/");
  URL_SYNTAX("ws://[::1.2.3.256]/");
  URL_SYNTAX("ws://[::1.2.3.]/");
  URL_SYNTAX("ws://[::.1.2.3]/");
  URL_SYNTAX("ws://[1:2:3:4:5:6:7:1.2.3.4]/");
  URL_SYNTAX("ws://[1:2:3:4:5:6:7:8:1.2.3.4]/");
  URL_SYNTAX("ws://[::1%25eth0]/"); /* zone IDs are not URL syntax */
  URL_SYNTAX("ws://[::%31]/");      /* no percent-decoding in IPv6 */
  URL_SYNTAX("ws://[::1] /");
}

TEST(url_host_case_and_percent_decoding) {
  DOMAIN("ws://EXAMPLE.com/", "example.com");
  DOMAIN("ws://ExAmPlE.CoM./", "example.com.");
  DOMAIN("ws://%45xample.com/", "example.com");
  DOMAIN("ws://example%2Ecom/", "example.com");
  DOMAIN("ws://a_b-c.d/", "a_b-c.d");
  DOMAIN("ws://a!$&'()*+,;=b/", "a!$&'()*+,;=b");
  DOMAIN("ws://./", ".");
  DOMAIN("ws://xn--mnchen-3ya.de/", "xn--mnchen-3ya.de");
  DOMAIN("ws://XN--MNCHEN-3YA.DE/", "xn--mnchen-3ya.de");
}

TEST(url_host_forbidden_code_points) {
  URL_SYNTAX("ws://a b/");
  URL_SYNTAX("ws://a<b/");
  URL_SYNTAX("ws://a>b/");
  URL_SYNTAX("ws://a^b/");
  URL_SYNTAX("ws://a|b/");
  URL_SYNTAX("ws://a[b/");
  URL_SYNTAX("ws://a]b/");
  URL_SYNTAX("ws://a%b/");
  URL_SYNTAX("ws://a\x01" "b/");
  URL_SYNTAX("ws://a\x7f" "b/");
  /* forbidden after percent-decoding */
  URL_SYNTAX("ws://a%20b/");
  URL_SYNTAX("ws://a%00b/");
  URL_SYNTAX("ws://a%2fb/");
  URL_SYNTAX("ws://a%3ab/");
  URL_SYNTAX("ws://a%40b/");
  URL_SYNTAX("ws://a%25b/");
  URL_SYNTAX("ws://a%7Cb/");
  URL_SYNTAX("ws://a%7fb/");
  URL_SYNTAX("ws://a%09b/");
  /* bad percent-encoding leaves a '%', which is forbidden */
  URL_SYNTAX("ws://%zz/");
  URL_SYNTAX("ws://a%/");
  URL_SYNTAX("ws://a%4/");
  URL_SYNTAX("ws://%%41/");
}

TEST(url_host_non_ascii_rejected) {
  URL_SYNTAX("ws://ex\xc3\xa4mple.com/");    /* exämple.com: IDNA is out of scope */
  URL_SYNTAX("ws://%C3%A4.com/");            /* the same after percent-decoding */
  URL_SYNTAX("ws://\xef\xbd\x85x.com/");     /* fullwidth e */
  URL_SYNTAX("ws://%FF/");                   /* not UTF-8 once decoded */
}

TEST(url_empty_host) {
  URL_SYNTAX("ws://");
  URL_SYNTAX("ws:");
  URL_SYNTAX("ws:/");
  URL_SYNTAX("ws:///");
  URL_SYNTAX("ws://?q");
  URL_SYNTAX("ws://:80/");
  URL_SYNTAX("ws://u@/");
  URL_SYNTAX("ws://u:p@/");
  URL_SYNTAX("ws://u@:80/");
  URL_SYNTAX("ws://@/");
  URL_SYNTAX("ws://@");
  URL_SYNTAX("http://");
}

TEST(url_invalid_utf8_rejected) {
  URL_SYNTAX("ws://h/\xff");
  URL_SYNTAX("ws://h/?\xc3");
  URL_SYNTAX("ws://h/\xed\xa0\x80"); /* a surrogate */
  URL_SYNTAX("ws://h/\xc0\xaf");     /* overlong '/' */
}

/* ---- path and query ------------------------------------------------------------ */

TEST(url_path_percent_encoding) {
  URL_OK("ws://h/a b", "ws://h/a%20b", "h", "/a%20b", "h", 80, 0);
  HREF("ws://h/\"<>`{}^", "ws://h/%22%3C%3E%60%7B%7D%5E");
  HREF("ws://h/\x01\x1f\x7f", "ws://h/%01%1F%7F");
  HREF("ws://h/\xc3\xa9", "ws://h/%C3%A9");                 /* é */
  HREF("ws://h/\xf0\x9f\x98\x80", "ws://h/%F0%9F%98%80");   /* U+1F600 */
  /* not in the path set: kept */
  HREF("ws://h/!$&'()*+,;=:@[]|~-._", "ws://h/!$&'()*+,;=:@[]|~-._");
  /* existing escapes are kept, malformed ones too */
  HREF("ws://h/%41%2f%7E", "ws://h/%41%2f%7E");
  HREF("ws://h/%zz%", "ws://h/%zz%");
  HREF("ws://h/%2", "ws://h/%2");
  /* '\' is '/', and an empty path is "/" */
  URL_OK("ws://h\\a\\b", "ws://h/a/b", "h", "/a/b", "h", 80, 0);
  URL_OK("ws://h", "ws://h/", "h", "/", "h", 80, 0);
  URL_OK("ws://h//a//", "ws://h//a//", "h", "//a//", "h", 80, 0);
}

TEST(url_query_percent_encoding) {
  URL_OK("ws://h/p?a b", "ws://h/p?a%20b", "h", "/p?a%20b", "h", 80, 0);
  HREF("ws://h/?\"<>'", "ws://h/?%22%3C%3E%27");
  HREF("ws://h/?\x01\x7f", "ws://h/?%01%7F");
  HREF("ws://h/?\xc3\xa9", "ws://h/?%C3%A9");
  /* not in the special-query set: kept, including what the path encodes */
  HREF("ws://h/?`{}^|?/\\:@!$&()*+,;=[]~", "ws://h/?`{}^|?/\\:@!$&()*+,;=[]~");
  HREF("ws://h/?%41%zz%", "ws://h/?%41%zz%");
  /* dot segments mean nothing in a query */
  HREF("ws://h/a?/../.", "ws://h/a?/../.");
  /* an empty query is still a query */
  URL_OK("ws://h/?", "ws://h/?", "h", "/?", "h", 80, 0);
  URL_OK("ws://h?", "ws://h/?", "h", "/?", "h", 80, 0);
  URL_OK("ws://h??", "ws://h/??", "h", "/??", "h", 80, 0);
}

TEST(url_dot_segments) {
  HREF("ws://h/a/./b", "ws://h/a/b");
  HREF("ws://h/a/../b", "ws://h/b");
  HREF("ws://h/a/b/../../c", "ws://h/c");
  HREF("ws://h/..", "ws://h/");
  HREF("ws://h/../../x", "ws://h/x");
  HREF("ws://h/a/..", "ws://h/");
  HREF("ws://h/a/.", "ws://h/a/");
  HREF("ws://h/a/..?q", "ws://h/?q");
  HREF("ws://h/.", "ws://h/");
  HREF("ws://h/./", "ws://h/");
  HREF("ws://h/a/b/..", "ws://h/a/");
  HREF("ws://h/a/%2e/b", "ws://h/a/b");
  HREF("ws://h/a/%2E%2e/b", "ws://h/b");
  HREF("ws://h/a/.%2e/b", "ws://h/b");
  HREF("ws://h/a/%2e./b", "ws://h/b");
  HREF("ws://h\\a\\..\\b", "ws://h/b");
  HREF("ws://h/a//../b", "ws://h/a/b"); /* ".." removes the empty segment */
  /* not dot segments */
  HREF("ws://h/.../a", "ws://h/.../a");
  HREF("ws://h/.a/..b/a.", "ws://h/.a/..b/a.");
  HREF("ws://h/%2e%2e%2e", "ws://h/%2e%2e%2e");
  HREF("ws://h/. /", "ws://h/.%20/");
}

TEST(url_whitespace_stripping) {
  URL_OK("  ws://h/  ", "ws://h/", "h", "/", "h", 80, 0);
  URL_OK("\x01\x1f ws://h/p \x7f", "ws://h/p%20%7F", "h", "/p%20%7F", "h", 80, 0);
  URL_OK("\t\n ws://h/x\r\n", "ws://h/x", "h", "/x", "h", 80, 0);
  /* tab, LF and CR vanish everywhere, even inside the scheme and host */
  URL_OK("w\ts\n:/\r/exa\tmple.com:8\n0/pa\tth?q\nq", "ws://example.com/path?qq", "example.com",
         "/path?qq", "example.com", 80, 0);
  /* other controls and spaces inside are not stripped */
  URL_SYNTAX("ws://exa mple.com/");
  URL_SYNTAX("ws://example.com\x01/");
  HREF("ws://h/a\x0b" "b", "ws://h/a%0Bb");
}

TEST(url_userinfo) {
  wsc__url u;
  CHECK_EQ(wsc__url_parse("ws://user:pass@example.com:8080/p?q", &u), 0);
  CHECK_STR(u.href, "ws://user:pass@example.com:8080/p?q");
  CHECK_STR(u.username, "user");
  CHECK_STR(u.password, "pass");
  CHECK_STR(u.host, "example.com");
  CHECK_STR(u.hostname_for_connect, "example.com");
  CHECK_STR(u.host_header, "example.com:8080");
  CHECK_STR(u.resource, "/p?q");
  CHECK_EQ(u.port, 8080);
  wsc__url_free(&u);

  CHECK_EQ(wsc__url_parse("ws://example.com/", &u), 0);
  CHECK_STR(u.username, "");
  CHECK_STR(u.password, "");
  wsc__url_free(&u);

  URL_OK("ws://@h/", "ws://h/", "h", "/", "h", 80, 0);
  URL_OK("ws://:@h/", "ws://h/", "h", "/", "h", 80, 0);
  URL_OK("ws://u:@h/", "ws://u@h/", "h", "/", "h", 80, 0);
  URL_OK("ws://:p@h/", "ws://:p@h/", "h", "/", "h", 80, 0);
  URL_OK("ws://a@b@h/", "ws://a%40b@h/", "h", "/", "h", 80, 0);
  URL_OK("ws://a:b:c@h/", "ws://a:b%3Ac@h/", "h", "/", "h", 80, 0);
  URL_OK("ws://a:b@c:d@h:81/", "ws://a:b%40c%3Ad@h:81/", "h", "/", "h:81", 81, 1);
  URL_OK("ws://u s\"<>`{};=[]|^%41:p@h/", "ws://u%20s%22%3C%3E%60%7B%7D%3B%3D%5B%5D%7C%5E%41:p@h/",
         "h", "/", "h", 80, 0);
  URL_OK("ws://\xc3\xa9:\xc3\xa9@h/", "ws://%C3%A9:%C3%A9@h/", "h", "/", "h", 80, 0);
  /* userinfo never reaches host_header, resource or hostname_for_connect */
  CHECK_EQ(wsc__url_parse("ws://a:b@[::1]:9000", &u), 0);
  CHECK_STR(u.host_header, "[::1]:9000");
  CHECK_STR(u.hostname_for_connect, "::1");
  CHECK_STR(u.resource, "/");
  CHECK_STR(u.username, "a");
  CHECK_STR(u.password, "b");
  wsc__url_free(&u);
}

TEST(url_userinfo_backslash_ends_authority) {
  /* '\' ends the authority in a special URL: "u" is the host, "@h" path */
  URL_OK("ws://u\\@h/", "ws://u/@h/", "u", "/@h/", "u", 80, 0);
}

TEST(url_host_header_and_resource) {
  URL_OK("ws://example.com", "ws://example.com/", "example.com", "/", "example.com", 80, 0);
  URL_OK("ws://example.com:8080", "ws://example.com:8080/", "example.com", "/",
         "example.com:8080", 8080, 1);
  URL_OK("wss://example.com/chat?room=1&x=%20", "wss://example.com/chat?room=1&x=%20",
         "example.com", "/chat?room=1&x=%20", "example.com", 443, 0);
  URL_OK("ws://[2001:db8::1]:9000/a/b", "ws://[2001:db8::1]:9000/a/b", "[2001:db8::1]", "/a/b",
         "[2001:db8::1]:9000", 9000, 1);
  URL_OK("ws://1.2.3.4?x", "ws://1.2.3.4/?x", "1.2.3.4", "/?x", "1.2.3.4", 80, 0);
}

/* ---- API contract ---------------------------------------------------------------- */

static int alloc_calls, alloc_fail_at;
static void *failing_alloc(size_t n) {
  if (++alloc_calls == alloc_fail_at) return NULL;
  return malloc(n);
}

TEST(url_enomem_leaks_nothing) {
  static const char *const inputs[] = {"ws://u:p@example.com:8080/a/../b?c d",
                                       "wss://[::1]/", "http://0x7f.1", "ws://h:6666/"};
  for (size_t k = 0; k < sizeof inputs / sizeof inputs[0]; k++) {
    int want = -1;
    for (int fail = 1;; fail++) {
      wsc__url u;
      alloc_calls = 0;
      alloc_fail_at = fail;
      int rc = wsc__url_parse_with(inputs[k], &u, failing_alloc);
      if (alloc_calls < fail) { /* no allocation failed: the real outcome */
        want = rc;
        wsc__url_free(&u);
        break;
      }
      CHECK_EQ(rc, WSC_ENOMEM);
      CHECK(u.href == NULL && u.host == NULL && u.resource == NULL);
      wsc__url_free(&u);
    }
    CHECK_EQ(want, k == 3 ? WSC_ESECURITY : 0);
  }
  /* leaks are caught by LeakSanitizer in the sanitizer build */
}

TEST(url_einval_and_free) {
  wsc__url u;
  CHECK_EQ(wsc__url_parse(NULL, &u), WSC_EINVAL);
  CHECK(u.href == NULL);
  CHECK_EQ(wsc__url_parse("ws://h/", NULL), WSC_EINVAL);
  CHECK_EQ(wsc__url_parse_with("ws://h/", &u, NULL), WSC_EINVAL);
  wsc__url_free(NULL);
  memset(&u, 0, sizeof u);
  wsc__url_free(&u);
  CHECK_EQ(wsc__url_parse("ws://h/", &u), 0);
  wsc__url_free(&u);
  CHECK(u.href == NULL);
  wsc__url_free(&u); /* twice is harmless */
}

TEST(url_reparse_is_identity) {
  static const char *const inputs[] = {
      "WS://User:P%41ss@EXAMPLE.com:0080/a/./b/../c d?e f'g",
      "https://[0:0::FFFF:1.2.3.4]:8443\\x\\y?\xc3\xa9",
      "ws:0x7f.1:81/%2e%2E/",
      "ws://a@b@c/",
  };
  for (size_t k = 0; k < sizeof inputs / sizeof inputs[0]; k++) {
    wsc__url a, b;
    CHECK_EQ(wsc__url_parse(inputs[k], &a), 0);
    CHECK_EQ(wsc__url_parse(a.href, &b), 0);
    CHECK_STR(a.href, b.href);
    CHECK_STR(a.host_header, b.host_header);
    CHECK_STR(a.resource, b.resource);
    CHECK_EQ(a.port, b.port);
    wsc__url_free(&a);
    wsc__url_free(&b);
  }
}

/* ---- subprotocols ------------------------------------------------------------------ */

static int sp1(const char *p) { return wsc__subprotocols_check(&p, 1); }

TEST(subproto_valid) {
  CHECK_EQ(wsc__subprotocols_check(NULL, 0), 0);
  const char *one[] = {"chat"};
  CHECK_EQ(wsc__subprotocols_check(one, 1), 0);
  const char *two[] = {"chat", "superchat"};
  CHECK_EQ(wsc__subprotocols_check(two, 2), 0);
  CHECK_EQ(sp1("v10.stomp"), 0);
  CHECK_EQ(sp1("!#$%&'*+-.^_`|~09azAZ"), 0);
  const char *ignored[] = {"", " "};
  CHECK_EQ(wsc__subprotocols_check(ignored, 0), 0); /* n = 0: nothing to check */
}

TEST(subproto_empty_rejected) {
  CHECK_EQ(sp1(""), WSC_ESYNTAX);
  const char *l[] = {"chat", ""};
  CHECK_EQ(wsc__subprotocols_check(l, 2), WSC_ESYNTAX);
}

TEST(subproto_space_rejected) {
  CHECK_EQ(sp1("ec ho"), WSC_ESYNTAX);
  CHECK_EQ(sp1(" echo"), WSC_ESYNTAX);
  CHECK_EQ(sp1("echo "), WSC_ESYNTAX);
  CHECK_EQ(sp1("\techo"), WSC_ESYNTAX);
}

TEST(subproto_comma_rejected) {
  CHECK_EQ(sp1("a,b"), WSC_ESYNTAX);
  CHECK_EQ(sp1(","), WSC_ESYNTAX);
  CHECK_EQ(sp1("a, b"), WSC_ESYNTAX);
}

TEST(subproto_separators_rejected) {
  const char *seps = "()<>@,;:\\\"/[]?={} \t";
  for (const char *c = seps; *c; c++) {
    char p[4] = {'a', *c, 'b', 0};
    if (sp1(p) != WSC_ESYNTAX) wsc_test_fail(__FILE__, __LINE__, "separator 0x%02x accepted", *c);
  }
}

TEST(subproto_controls_rejected) {
  for (int c = 1; c < 0x20; c++) {
    char p[2] = {(char)c, 0};
    CHECK_EQ(sp1(p), WSC_ESYNTAX);
  }
  CHECK_EQ(sp1("a\x7f"), WSC_ESYNTAX);
}

TEST(subproto_non_ascii_rejected) {
  CHECK_EQ(sp1("\xc3\xa9"), WSC_ESYNTAX); /* é */
  CHECK_EQ(sp1("chat\xc2\xa0"), WSC_ESYNTAX);
  CHECK_EQ(sp1("\x80"), WSC_ESYNTAX);
  CHECK_EQ(sp1("\xff"), WSC_ESYNTAX);
}

TEST(subproto_duplicates_rejected) {
  const char *l2[] = {"chat", "chat"};
  CHECK_EQ(wsc__subprotocols_check(l2, 2), WSC_ESYNTAX);
  const char *l3[] = {"a", "b", "c", "b"};
  CHECK_EQ(wsc__subprotocols_check(l3, 4), WSC_ESYNTAX);
  const char *prefix[] = {"chat", "chat2", "cha"};
  CHECK_EQ(wsc__subprotocols_check(prefix, 3), 0);
}

TEST(subproto_case_sensitive_distinct) {
  const char *l[] = {"a", "A"};
  CHECK_EQ(wsc__subprotocols_check(l, 2), 0);
  const char *m[] = {"chat", "Chat", "CHAT"};
  CHECK_EQ(wsc__subprotocols_check(m, 3), 0);
}

TEST(subproto_null_is_einval) {
  CHECK_EQ(wsc__subprotocols_check(NULL, 1), WSC_EINVAL);
  const char *l[] = {"chat", NULL};
  CHECK_EQ(wsc__subprotocols_check(l, 2), WSC_EINVAL);
}
