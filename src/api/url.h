/* url.h - the checks `new WebSocket(url, protocols)` makes (internal).
 *
 * The browser's WebSocket constructor (WHATWG WebSockets Standard) parses its
 * url argument with the WHATWG URL Standard's parser, maps http/https to
 * ws/wss, refuses anything else, refuses a fragment, and checks the
 * subprotocol list. This module does the same for C callers, without I/O
 * (host names are parsed, never resolved).
 *
 * URL parsing follows the URL Standard's basic URL parser for the special
 * schemes ws, wss, http and https, with no base URL and no state override:
 *
 *   - Leading and trailing C0 controls and spaces (bytes 0x00-0x20) are
 *     stripped; tab, LF and CR are removed everywhere.
 *   - The scheme is case-insensitive. http becomes ws, https becomes wss; any
 *     other scheme, and any relative URL ("/chat", "?q", "//host/": there is
 *     no base URL to resolve against), is WSC_ESYNTAX.
 *   - Any number of '/' or '\' may follow "ws:" ("ws:host", "ws:\\\\host" and
 *     "ws:////host" all mean "ws://host/"), as the URL Standard says for
 *     special schemes; '\' is a '/' everywhere in the authority and path.
 *   - Userinfo ("user:pass@") is parsed and percent-encoded with the userinfo
 *     set; an '@' before the last one becomes %40. It stays in href (the
 *     browser's ws.url shows it too) and is available in username/password,
 *     but never reaches host, host_header or resource. This module makes no
 *     Authorization header of it; whether the client sends one is the
 *     client's decision.
 *   - Host: "[...]" is an IPv6 address (RFC 4291 text forms, including a
 *     trailing dotted IPv4 part; zone IDs are not URL syntax), serialised
 *     compressed and lowercase ("[0:0::1]" -> "[::1]", "[::ffff:1.2.3.4]" ->
 *     "[::ffff:102:304]"). Anything else is percent-decoded, ASCII-lowercased
 *     and checked for forbidden domain code points (C0 controls, space, DEL,
 *     and # % / : < > ? @ [ \ ] ^ |); a host whose last label is a number is
 *     an IPv4 address in any URL-Standard form (decimal, 0x hex, 0 octal,
 *     1 to 4 parts: "0x7f.1" -> "127.0.0.1", "2130706433" -> "127.0.0.1")
 *     and must be a valid one.
 *   - Non-ASCII host names (after percent-decoding) are WSC_ESYNTAX: the
 *     URL Standard would run UTS #46 (IDNA) on them, which needs Unicode
 *     mapping and normalisation tables this library does not carry. Pass the
 *     punycode form ("xn--...") instead. ASCII labels starting with "xn--"
 *     are accepted as they are (lowercased); their punycode is not decoded
 *     or validated, where a browser would reject invalid punycode.
 *   - Port: digits only, leading zeros allowed, at most 65535, else
 *     WSC_ESYNTAX. The scheme's default port (80 for ws/http, 443 for
 *     wss/https) is elided from href and host_header ("ws://h:80/" ->
 *     "ws://h/").
 *   - Path: "." and ".." segments (also as %2e) are resolved; bytes in the
 *     path percent-encode set (C0 controls, space, " # < > ? ^ ` { }, DEL and
 *     every non-ASCII byte) are percent-encoded, existing %XX escapes are
 *     kept as they are. The path is never empty ("ws://h" -> "/").
 *   - Query: percent-encoded with the special-query set (C0 controls, space,
 *     " # ' < >, DEL, non-ASCII). Always UTF-8, as the WebSocket
 *     constructor's parser uses UTF-8 whatever the document encoding.
 *   - A fragment ('#' anywhere after the scheme) is WSC_ESYNTAX, as the
 *     WebSockets Standard says.
 *   - The input must be valid UTF-8 (a browser's URL is a USVString, always
 *     valid Unicode): invalid UTF-8 is WSC_ESYNTAX.
 *   - A port on the Fetch Standard's bad-port list (which includes port 0
 *     since 2025) is WSC_ESECURITY. Every syntax check comes first: a URL
 *     that is both malformed and on a bad port is WSC_ESYNTAX. (Browsers used
 *     to throw SecurityError here; the current standards let the constructor
 *     succeed and fail the connection instead. Refusing early is simpler for
 *     a C caller and gives the same end result: no connection.)
 */
#ifndef WSC_API_URL_H
#define WSC_API_URL_H

#include <stddef.h>
#include <stdint.h>

/* What kind of host a URL names. */
typedef enum wsc__url_host_kind {
  WSC__URL_HOST_DOMAIN = 0, /* a domain name (resolve it; verify the certificate's DNS name) */
  WSC__URL_HOST_IPV4 = 1,   /* an IPv4 address (no DNS, no SNI) */
  WSC__URL_HOST_IPV6 = 2    /* an IPv6 address (no DNS, no SNI) */
} wsc__url_host_kind;

/* A parsed WebSocket URL. All strings are NUL-terminated, live in one
 * allocation owned by the struct, and are released by wsc__url_free(). */
typedef struct wsc__url {
  int secure; /* 1 for wss (and https), 0 for ws (and http) */
  /* The serialised absolute URL, as the browser's ws.url shows it:
   * "ws://example.com/chat?x=1", "wss://user:pw@[::1]:8443/". The scheme is
   * always ws or wss. ASCII only. */
  char *href;
  /* The userinfo, percent-encoded as in href; "" when absent. */
  char *username;
  char *password;
  /* The host as serialised in href: a lowercase domain, dotted IPv4, or
   * IPv6 in brackets ("[::1]"). Never empty. */
  char *host;
  wsc__url_host_kind host_kind;
  /* The host for getaddrinfo(): host without the IPv6 brackets ("::1"). */
  char *hostname_for_connect;
  /* The port to connect to, the scheme's default (80/443) filled in. */
  uint16_t port;
  /* 1 when the URL names a port other than the scheme's default (so it
   * appears in href and host_header); 0 when the port is the default, whether
   * written ("ws://h:80/") or not. */
  int port_explicit;
  /* The request-target: path, then "?" and the query when the URL has one
   * (even an empty one: "ws://h/?" -> "/?"). Starts with "/". Points into
   * href (it is href's tail). Visible ASCII only. */
  char *resource;
  /* The Host header value: host, plus ":port" when port_explicit
   * ("example.com", "[::1]:8080"). Never contains userinfo. */
  char *host_header;
} wsc__url;

/* Parse input (a NUL-terminated string) as the WebSocket constructor does.
 *   0               *out is filled; release it with wsc__url_free()
 *   WSC_ESYNTAX     not a valid absolute ws/wss/http/https URL, or it has a
 *                   fragment (SyntaxError)
 *   WSC_ESECURITY   the port is a bad port (SecurityError)
 *   WSC_ENOMEM      out of memory (nothing is leaked)
 *   WSC_EINVAL      input or out is NULL
 *   WSC_EINTERNAL   an output-size bound was wrong (a bug; never expected:
 *                   the fuzzer checks it)
 * On any error *out is zeroed (wsc__url_free() on it is harmless). Memory
 * used: two allocations, a scratch area of about 5x the input's length that
 * is freed before returning, and the result. */
int wsc__url_parse(const char *input, wsc__url *out);

/* wsc__url_parse(), with every allocation made by alloc, which must return
 * memory that free() releases (or NULL to report exhaustion). For tests that
 * inject allocation failures. */
int wsc__url_parse_with(const char *input, wsc__url *out, void *(*alloc)(size_t));

/* Release what u holds and zero it. Safe on a zeroed struct, twice, or NULL. */
void wsc__url_free(wsc__url *u);

/* The `protocols` check of the WebSocket constructor: each element must be
 * a non-empty RFC 7230 token (the syntax of a Sec-WebSocket-Protocol element)
 * and appear only once. Comparison is case-sensitive, as the WebSockets
 * Standard says ("chat" and "Chat" are two protocols). Quadratic in n:
 * protocol lists are short.
 *   0             the list is fine (also for protocols NULL with n = 0)
 *   WSC_ESYNTAX   an element is empty, not a token (space, comma, separator,
 *                 control or non-ASCII byte), or a duplicate (SyntaxError)
 *   WSC_EINVAL    protocols NULL with n > 0, or an element is NULL */
int wsc__subprotocols_check(const char *const *protocols, size_t n);

#endif
