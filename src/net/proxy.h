/* proxy.h - HTTP proxy policy and the CONNECT exchange, without I/O (internal).
 *
 * Everything here is strings and bytes in, strings and bytes out: the
 * runtime (src/api/socket.c) does the connecting. It lives in src/net/ because
 * it is runtime policy (environment variables), but it never opens a socket,
 * so it is unit-tested and fuzzed like the protocol core.
 *
 * How a client uses it:
 *   1. wsc__proxy_for_target(): which proxy, if any, for this target (the
 *      application's explicit option, else http_proxy / https_proxy /
 *      all_proxy, minus no_proxy), parsed into a wsc__proxy.
 *   2. Resolve and connect TCP to proxy.hostname_for_connect : proxy.port
 *      (not to the target).
 *   3. wsc__proxy_connect_request(): the CONNECT request; send it.
 *   4. wsc__proxy_reply_feed() with every chunk read until it returns 1
 *      (tunnel open) or an error; bytes of the last chunk after the reply
 *      head already belong to the tunnelled stream.
 *   5. TLS (SNI and certificate checks for the *target* host) and the
 *      WebSocket handshake (Host: the target) over the same TCP connection.
 *
 * Proxy URLs: `[http://][user[:password]@]host[:port][/]`
 *   - The scheme is optional and case-insensitive; only http is supported
 *     (a plain-TCP proxy; the tunnel carries TLS end to end for wss://).
 *     "https://" (TLS to the proxy itself) and "socks*://" are refused with a
 *     message saying so, as is any other scheme.
 *   - The default port is 1080 (WSC__PROXY_DEFAULT_PORT), as curl's. Note that
 *     most HTTP proxies listen on 3128 or 8080: write the port.
 *   - host: a domain name (letters, digits, '-', '.', '_'; lowercased), a
 *     dotted IPv4 address, or an IPv6 address in brackets ("[::1]"; zone IDs
 *     are not supported). Percent-encoding is not allowed in the host.
 *   - user and password are percent-decoded (write '@' as %40, ':' in the user
 *     as %3A, '/' as %2F); the last '@' before the first '/' ends them, so an
 *     unencoded '@' in the password also works. %00 is refused. Credentials
 *     are sent as `Proxy-Authorization: Basic base64(user ":" password)` when
 *     the userinfo is not empty ("user@host" sends "user:"). Nothing after the
 *     authority but one optional '/' (no path, query or fragment).
 *   - Leading and trailing spaces, tabs, CR and LF are ignored (a value
 *     pasted into an environment file often carries them).
 *
 * Environment (wsc__proxy_env_url), as curl reads it:
 *   - ws:// uses `http_proxy`, lower-case only: `HTTP_PROXY` is ignored
 *     because CGI servers put the client's "Proxy:" request header into
 *     HTTP_PROXY (the "httpoxy" problem), so a remote party could set it.
 *   - wss:// uses `https_proxy`, then `HTTPS_PROXY`.
 *   - Then `all_proxy`, then `ALL_PROXY`, for both.
 *   - A variable set to the empty string counts as unset (curl_getenv()
 *     behaves the same way).
 *   - `no_proxy`, else `NO_PROXY`, lists hosts reached directly; see
 *     wsc__proxy_no_proxy_match() for the syntax. Loopback addresses and
 *     "localhost" are NOT implicitly excluded (curl does not exclude them
 *     either): list them in no_proxy if a proxy must not see them.
 *   - An explicit proxy option from the application overrides the environment
 *     entirely, no_proxy included; the empty string means "connect directly
 *     even if the environment names a proxy" (wsc__proxy_choose). (curl would
 *     still apply the environment's no_proxy to an explicit proxy; an
 *     application that sets a proxy explicitly is taken at its word here.)
 */
#ifndef WSC_NET_PROXY_H
#define WSC_NET_PROXY_H

#include <stddef.h>
#include <stdint.h>

#include "proto/buf.h"
#include "proto/http.h"

/* The port used when a proxy URL names none (curl's default). */
#define WSC__PROXY_DEFAULT_PORT 1080
/* Default limit on the proxy's reply head(s). */
#define WSC__PROXY_DEFAULT_MAX_HEAD (8u * 1024u)
/* Longer proxy URLs are refused (after trimming). */
#define WSC__PROXY_MAX_URL 4096

/* A parsed proxy. All strings are NUL-terminated, owned by the struct and
 * released by wsc__proxy_free(). */
typedef struct wsc__proxy {
  /* The host as written in a URL or an HTTP authority: a lowercase domain,
   * dotted IPv4, or IPv6 in brackets, compressed ("[::1]"). For messages. */
  char *host;
  /* The host for getaddrinfo(): host without the IPv6 brackets ("::1"). */
  char *hostname_for_connect;
  uint16_t port;
  /* The Proxy-Authorization header value, "Basic <base64(user:password)>",
   * or NULL when the URL had no credentials. Wiped on free. */
  char *authorization;
} wsc__proxy;

/* Parse a proxy URL (syntax above). err (errlen bytes, may be NULL) gets a
 * message on failure, e.g. "https:// proxies are not supported (use
 * http://)"; it never contains the password.
 *   0            *out filled; release it with wsc__proxy_free()
 *   WSC_EINVAL   not a supported proxy URL (or url/out NULL)
 *   WSC_ENOMEM   out of memory
 * On error *out is zeroed (wsc__proxy_free() on it is harmless). */
int wsc__proxy_parse(const char *url, wsc__proxy *out, char *err, size_t errlen);

/* Release what p holds (wiping the credentials) and zero it. Safe on a
 * zeroed struct, twice, or NULL. */
void wsc__proxy_free(wsc__proxy *p);

/* ---- Choosing a proxy ------------------------------------------------------ */

/* Reads one environment variable: the value (borrowed; it must stay valid
 * until the wsc__proxy_* call that asked returns), or NULL when unset. */
typedef const char *(*wsc__proxy_getenv_fn)(void *user, const char *name);

/* A wsc__proxy_getenv_fn over the process environment: getenv(name). */
const char *wsc__proxy_getenv(void *user, const char *name);

/* 1 if the no_proxy list says host:port is reached directly, else 0
 * (also for a NULL or empty list, or a NULL host).
 * host is the target as in its URL: a domain, IPv4, or IPv6 with or without
 * brackets; ASCII case and one trailing dot are ignored.
 * The list: entries separated by commas and/or whitespace; each entry is
 *   *                 matches every host
 *   name              name itself and every subdomain, case-insensitively:
 *                     "example.com" matches example.com and a.example.com,
 *                     not badexample.com. A leading "." or "*." is ignored
 *                     (".example.com" is the same entry), as is a trailing ".".
 *   IPv4 / IPv6       that address only (compared as addresses, so "::1"
 *                     matches "0:0::1"), never as a suffix of another address;
 *                     IPv6 with or without brackets.
 *   addr/bits         CIDR: every address in that network ("10.0.0.0/8",
 *                     "fe80::/10"), as curl >= 7.86.
 *   any of these + ":port"  only that port ("example.com:8080",
 *                     "[::1]:8080"; a bare IPv6 address cannot carry a port).
 * A name never matches an IP address host or the reverse (no DNS here).
 * Malformed entries (bad port, bad CIDR) match nothing. */
int wsc__proxy_no_proxy_match(const char *list, const char *host, uint16_t port);

/* The proxy URL the environment asks for when connecting to host:port
 * (secure = 1 for wss://), read through get(user, name) (variables and
 * order in the comment at the top), or NULL when there is none or no_proxy
 * excludes the target. The result is borrowed from get. If var is not NULL
 * it is set to the name of the variable the URL came from (a static string),
 * or NULL. */
const char *wsc__proxy_env_url(int secure, const char *host, uint16_t port,
                               wsc__proxy_getenv_fn get, void *user, const char **var);

/* The precedence rule: option is the application's explicit proxy setting.
 *   option NULL   -> the environment: wsc__proxy_env_url(...)
 *   option ""     -> NULL: no proxy, whatever the environment says
 *   otherwise     -> option itself (no_proxy is not consulted)
 * Returns the proxy URL to use (borrowed: option or get's string) or NULL to
 * connect directly. *source (if source is not NULL) names where it came from:
 * "proxy option", the variable's name, or NULL. get NULL means
 * wsc__proxy_getenv. */
const char *wsc__proxy_choose(const char *option, int secure, const char *host, uint16_t port,
                              wsc__proxy_getenv_fn get, void *user, const char **source);

/* wsc__proxy_choose() and then wsc__proxy_parse(): all a client needs.
 *   1            a proxy applies; *out is filled (free with wsc__proxy_free)
 *   0            connect directly; *out is zeroed
 *   WSC_EINVAL   the chosen proxy URL is invalid; err says which setting
 *                ("https_proxy: ...") and why
 *   WSC_ENOMEM
 * get NULL means the process environment. */
int wsc__proxy_for_target(const char *option, int secure, const char *host, uint16_t port,
                          wsc__proxy_getenv_fn get, void *user, wsc__proxy *out, char *err,
                          size_t errlen);

/* ---- The CONNECT exchange ---------------------------------------------------- */

/* Append the CONNECT request for the target host:port to out:
 *   CONNECT host:port HTTP/1.1\r\n
 *   Host: host:port\r\n
 *   [Proxy-Authorization: <authorization>\r\n]
 *   \r\n
 * host is the target's host as in wsc__url.hostname_for_connect (a domain,
 * IPv4, or IPv6 without brackets, which this function brackets; an already
 * bracketed one is kept). The port is always written, as CONNECT requires.
 * authorization is wsc__proxy.authorization (NULL for none).
 *   0            appended
 *   WSC_EINVAL   host empty or with bytes that have no place in an authority
 *                (controls, space, '/', '@', ...), port 0, or an authorization
 *                value with control characters
 *   WSC_ENOMEM   (out is unchanged then) */
int wsc__proxy_connect_request(wsc__buf *out, const char *host, uint16_t port,
                               const char *authorization);

/* The proxy's reply to CONNECT, received incrementally. */
typedef struct wsc__proxy_reply {
  /* The final status code once the reply head is complete (whether 2xx or
   * not), 0 before. */
  int status;
  /* Why the exchange failed, "" while it has not: "proxy refused CONNECT:
   * 407 Proxy Authentication Required", "malformed proxy response (...)",
   * "proxy response head exceeds 8192 bytes", "proxy closed the connection
   * before the tunnel was established". The reason phrase comes from the
   * network: it is truncated and non-printable bytes become '?'. */
  char error[160];

  /* private */
  int result;      /* 0 while receiving, then the final return value */
  size_t max_size; /* limit on all heads together */
  size_t used;     /* bytes of earlier (1xx) heads */
  wsc__http_head head;
} wsc__proxy_reply;

/* Prepare r for a reply whose head(s) may take at most max_size bytes in all
 * (0 means WSC__PROXY_DEFAULT_MAX_HEAD). Allocates nothing. */
void wsc__proxy_reply_init(wsc__proxy_reply *r, size_t max_size);

/* Feed the next len bytes read from the proxy, split anywhere.
 *   0                 need more; all len bytes were taken (*consumed = len)
 *   1                 tunnel established (any 2xx status): *consumed = how
 *                     many bytes of data belonged to the reply; the remaining
 *                     len - *consumed bytes are the tunnel's first bytes
 *                     (e.g. the start of a TLS ServerHello) and must be given
 *                     to the next layer, not dropped
 *   WSC_EPROXY        a non-2xx status ("proxy refused CONNECT: 407 ...";
 *                     status is set), or a malformed reply (not HTTP/1.x,
 *                     bad status line or header line, bare CR/LF, NUL)
 *   WSC_EHEADERSIZE   the reply head does not end within max_size bytes, or
 *                     has more than WSC__HTTP_MAX_HEADERS fields
 *   WSC_ENOMEM
 * error says why on any negative return. Interim 1xx heads ("100 Continue")
 * are skipped, as RFC 9110 asks; 101 is refused. A body after a refusal
 * (e.g. a 407 page with Content-Length) is not read: the caller closes the
 * connection. Headers of a 2xx reply are checked for syntax only
 * (Content-Length and Transfer-Encoding in a 2xx reply to CONNECT are
 * ignored, RFC 9110 section 9.3.6). Once 1 or an error was returned, every
 * further call returns the same with *consumed = 0. The result depends only
 * on the bytes, never on how they were split. */
int wsc__proxy_reply_feed(wsc__proxy_reply *r, const uint8_t *data, size_t len,
                          size_t *consumed);

/* The proxy closed the connection (EOF). Returns WSC_EPROXY with error set
 * ("proxy closed the connection before the tunnel was established"), or the
 * result already reached (1 or an error) if the reply was complete. */
int wsc__proxy_reply_eof(wsc__proxy_reply *r);

/* Free what r holds. Safe on a zeroed struct and twice. */
void wsc__proxy_reply_free(wsc__proxy_reply *r);

#endif
