/* client.c - the client role of wsc_socket: new WebSocket(url, protocols).
 * Parses the URL, resolves and connects, starts TLS for wss, sends the
 * upgrade request and checks the response; from then on socket.c runs the
 * connection. */
#include <stdlib.h>
#include <string.h>

#include "api/deflate_opts.h"
#include "api/loop.h"
#include "api/socket.h"
#include "net/proxy.h"

#define DEFAULT_CONNECT_TIMEOUT 10000
#define DEFAULT_HANDSHAKE_TIMEOUT 10000
#define DEFAULT_CLOSE_TIMEOUT 5000
#define DEFAULT_HIGH_WATER_MARK (1024 * 1024)

/* What only a client socket holds. */
typedef struct wsc__client {
  wsc__url url;
  char *origin;                /* serialised origin of url, for MessageEvent */
  wsc_options opts;            /* copied; strings below are owned copies */
  wsc__buf owned;              /* storage for the copied option strings */
  wsc__hs_client_config hs_cfg;
  wsc__hs_client hs;
  wsc__socket_cfg scfg;        /* the socket's settings (ws->cfg) */
  SSL_CTX *tls_ctx;
  wsc__proxy proxy;            /* when proxy.host is set: tunnel through it */
  wsc__proxy_reply reply;      /* the proxy's answer to CONNECT */
  uint8_t tunnel_pending;      /* CONNECT sent, reply not complete */
  uint8_t pmd_offered;         /* permessage-deflate was offered */
  wsc__pmd_offer pmd;          /* what was offered */
  char pmd_header[WSC__PMD_MAX_HEADER]; /* the offer, hs_cfg.extensions */
  char *blob_dir;              /* opts.blob_dir, copied */
} wsc__client;

static wsc__client *client_of(const wsc_socket *ws) { return ws->role_data; }

const char *wsc_socket_url(const wsc_socket *ws) {
  return ws->cfg->server ? "" : client_of(ws)->url.href;
}

/* ---- the handshake ------------------------------------------------------ */

/* Send the HTTP upgrade request (over TLS when secure). */
static void start_ws_handshake(wsc_socket *ws) {
  wsc__client *c = client_of(ws);
  wsc__buf req = {0};
  int rc = wsc__hs_client_start(&c->hs, &c->hs_cfg, &req);
  if (rc == 0) rc = wsc__socket_write_raw(ws, req.data, req.len);
  wsc__buf_free(&req);
  if (rc) wsc__socket_fail(ws, rc, "could not start the opening handshake");
}

static void start_tls(wsc_socket *ws) {
  wsc__client *c = client_of(ws);
  wsc__tls_config cfg = {c->opts.tls_ca_file, c->opts.tls_cert_file, c->opts.tls_key_file,
                         c->opts.tls_insecure};
  char err[160];
  c->tls_ctx = wsc__tls_client_ctx(&cfg, err, sizeof err);
  if (!c->tls_ctx) {
    wsc__socket_fail(ws, WSC_ETLS, err);
    return;
  }
  wsc__socket_ext *x = wsc__socket_ext_get(ws);
  if (!x) {
    wsc__socket_fail(ws, WSC_ENOMEM, "out of memory");
    return;
  }
  int rc = wsc__tls_client_start(&x->tls, c->tls_ctx, c->url.hostname_for_connect,
                                 c->url.host_kind != WSC__URL_HOST_DOMAIN, wsc__socket_tls_to_tcp, ws);
  if (rc) wsc__socket_fail(ws, rc, x->tls.error);
}

/* Ask the proxy for a tunnel to the target. */
static void start_tunnel(wsc_socket *ws) {
  wsc__client *c = client_of(ws);
  wsc__buf req = {0};
  int rc = wsc__proxy_connect_request(&req, c->url.hostname_for_connect, c->url.port,
                                      c->proxy.authorization);
  if (rc == 0) rc = wsc__socket_write_raw(ws, req.data, req.len);
  wsc__buf_free(&req);
  if (rc) {
    wsc__socket_fail(ws, rc, "could not send the CONNECT request");
    return;
  }
  wsc__proxy_reply_init(&c->reply, c->opts.max_handshake);
  c->tunnel_pending = 1;
}

/* The tunnel's first bytes: TLS or the upgrade, as without a proxy. */
static void start_over_transport(wsc_socket *ws) {
  if (client_of(ws)->url.secure)
    start_tls(ws);
  else
    start_ws_handshake(ws);
}

static void connected(wsc_socket *ws, int status, const char *message) {
  wsc__client *c = client_of(ws);
  if (status) {
    wsc__socket_fail(ws, status, message);
  } else {
    /* the handshake timeout covers TLS and the HTTP upgrade */
    wsc__socket_timer(ws, c->opts.handshake_timeout_ms);
    int rc = wsc__tcp_read_start(&ws->tcp);
    if (rc)
      wsc__socket_fail(ws, rc, uv_strerror(rc));
    else if (c->proxy.host)
      start_tunnel(ws);
    else
      start_over_transport(ws);
  }
}

/* The proxy's reply. 1 when the tunnel is up (*used = bytes of the reply),
 * 0 for more, -1 when failed. */
static int tunnel_recv(wsc_socket *ws, uint8_t *data, size_t len, size_t *used) {
  wsc__client *c = client_of(ws);
  int rc = wsc__proxy_reply_feed(&c->reply, data, len, used);
  if (rc == 0) return 0;
  if (rc < 0) {
    wsc__socket_fail(ws, rc, c->reply.error);
    return -1;
  }
  c->tunnel_pending = 0;
  wsc__proxy_reply_free(&c->reply);
  if (c->url.secure && *used < len) { /* the TLS client speaks first */
    wsc__socket_fail(ws, WSC_EPROXY, "unexpected bytes from the proxy after its reply");
    return -1;
  }
  start_over_transport(ws);
  return ws->failed ? -1 : 1;
}

/* The server's answer to our permessage-deflate offer: attach the agreement,
 * or fail the connection (before open: error, then close 1006). hs.extensions
 * can only name permessage-deflate (the handshake refuses names not
 * offered), so it is the negotiated value as the server sent it. */
static int accept_deflate(wsc_socket *ws) {
  wsc__client *c = client_of(ws);
  wsc__pmd_params params;
  const char *why = NULL;
  int rc = wsc__pmd_client_accept(&c->pmd, c->hs.extensions, strlen(c->hs.extensions), &params,
                                  &why);
  if (rc < 0) {
    char msg[160];
    snprintf(msg, sizeof msg, "permessage-deflate: %s", why ? why : "invalid response");
    wsc__socket_fail(ws, WSC_EEXTENSION, msg);
    return -1;
  }
  if (rc == 0) return 0; /* declined */
  rc = wsc__deflate_opts_attach(&c->opts.deflate, &ws->conn, &params);
  if (rc) {
    wsc__socket_fail(ws, rc, "could not set up permessage-deflate");
    return -1;
  }
  return 0;
}

static int handshake_recv(wsc_socket *ws, uint8_t *data, size_t len, size_t *used) {
  wsc__client *c = client_of(ws);
  if (c->tunnel_pending) {
    int rc = tunnel_recv(ws, data, len, used);
    if (rc != 1 || *used == len) return rc < 0 ? -1 : 0;
    size_t head = *used, more = 0; /* the server answered at once: go on */
    rc = handshake_recv(ws, data + head, len - head, &more);
    *used = head + more;
    return rc;
  }
  int rc = wsc__hs_client_recv(&c->hs, data, len, used);
  if (rc < 0) {
    wsc__socket_fail(ws, rc, c->hs.error);
    return -1;
  }
  if (rc == 0) return 0;
  if (c->pmd_offered && accept_deflate(ws) != 0) return -1;
  wsc__socket_open(ws, c->hs.protocol, c->hs.extensions, NULL, NULL);
  wsc__hs_client_free(&c->hs);
  return 1;
}

static void release(wsc_socket *ws) {
  wsc__client *c = client_of(ws);
  if (!c) return;
  wsc__hs_client_free(&c->hs);
  wsc__proxy_free(&c->proxy);
  wsc__proxy_reply_free(&c->reply);
  SSL_CTX_free(c->tls_ctx);
  wsc__url_free(&c->url);
  wsc__buf_free(&c->owned);
  free(c->origin);
  free(c->blob_dir);
  free((void *)c->hs_cfg.protocols);
  free((void *)c->hs_cfg.headers);
  free(c);
}

static const wsc__role_ops client_role = {connected, handshake_recv, start_ws_handshake, release, NULL};

/* ---- construction ------------------------------------------------------- */

static void copy_options(wsc__client *c, const wsc_options *in) {
  if (in) c->opts = *in;
  wsc_options *o = &c->opts;
  if (!o->connect_timeout_ms) o->connect_timeout_ms = DEFAULT_CONNECT_TIMEOUT;
  if (!o->handshake_timeout_ms) o->handshake_timeout_ms = DEFAULT_HANDSHAKE_TIMEOUT;
  if (!o->close_timeout_ms) o->close_timeout_ms = DEFAULT_CLOSE_TIMEOUT;
  if (!o->high_water_mark) o->high_water_mark = DEFAULT_HIGH_WATER_MARK;
}

static char *make_origin(const wsc__url *u) {
  size_t n = strlen(u->host) + 24;
  char *s = malloc(n);
  if (!s) return NULL;
  if (u->port_explicit) /* set only for a non-default port */
    snprintf(s, n, "%s://%s:%u", u->secure ? "wss" : "ws", u->host, (unsigned)u->port);
  else
    snprintf(s, n, "%s://%s", u->secure ? "wss" : "ws", u->host);
  return s;
}

/* Validate and copy the handshake configuration, so that a bad header is the
 * caller's error, not an asynchronous failure. */
static int setup_handshake(wsc__client *c, const char *const *protocols, size_t nprotocols) {
  wsc__hs_client_config *h = &c->hs_cfg;
  h->host = c->url.host_header;
  h->target = c->url.resource;
  h->max_size = c->opts.max_handshake;
  if (nprotocols && !(h->protocols = wsc__copy_strv(protocols, nprotocols))) return WSC_ENOMEM;
  h->nprotocols = nprotocols;
  if (c->opts.nheaders && !(h->headers = wsc__copy_strv(c->opts.headers, c->opts.nheaders)))
    return WSC_ENOMEM;
  h->nheaders = c->opts.nheaders;
  c->opts.headers = NULL; /* the caller's array is not kept */
  if (c->opts.origin) {
    if (wsc__buf_append(&c->owned, c->opts.origin, strlen(c->opts.origin) + 1))
      return WSC_ENOMEM;
    h->origin = (const char *)c->owned.data;
  }
  c->opts.origin = NULL;
  int rc = wsc__deflate_opts_check(&c->opts.deflate);
  if (rc) return rc;
  c->pmd_offered = (uint8_t)wsc__deflate_opts_offer(&c->opts.deflate, &c->pmd);
  if (c->pmd_offered) {
    rc = wsc__pmd_offer_build(&c->pmd, c->pmd_header, sizeof c->pmd_header);
    if (rc < 0) return rc;
    h->extensions = c->pmd_header;
  }
  wsc__buf probe = {0};
  rc = wsc__hs_client_start(&c->hs, h, &probe);
  wsc__buf_free(&probe);
  wsc__hs_client_free(&c->hs);
  return rc;
}

int wsc_socket_new(wsc_loop *loop, const char *url, const char *const *protocols,
                   size_t nprotocols, const wsc_options *opts, wsc_socket **out) {
  if (!loop || !url || !out || (nprotocols && !protocols)) return WSC_EINVAL;
  *out = NULL;
  wsc__client *c = calloc(1, sizeof *c);
  if (!c) return WSC_ENOMEM;
  c->scfg.loop = loop;
  c->scfg.role = &client_role;
  c->scfg.origin = "";
  wsc_socket *ws = wsc__socket_alloc(&c->scfg);
  if (!ws) {
    free(c);
    return WSC_ENOMEM;
  }
  ws->role_data = c;
  int rc = wsc__url_parse(url, &c->url);
  if (rc == 0) rc = wsc__subprotocols_check(protocols, nprotocols);
  if (rc) goto fail;
  copy_options(c, opts);
  rc = WSC_ENOMEM;
  if (!(c->origin = make_origin(&c->url))) goto fail;
  c->scfg.origin = c->origin;
  rc = setup_handshake(c, protocols, nprotocols);
  if (rc) goto fail;
  char err[160];
  rc = wsc__proxy_for_target(c->opts.proxy, c->url.secure, c->url.hostname_for_connect,
                             c->url.port, NULL, NULL, &c->proxy, err, sizeof err);
  if (rc < 0) goto fail;
  c->opts.proxy = NULL; /* not kept */
  c->scfg.close_timeout_ms = c->opts.close_timeout_ms;
  c->scfg.ping_interval_ms = c->opts.ping_interval_ms;
  c->scfg.high_water_mark = c->opts.high_water_mark;
  rc = WSC_ENOMEM;
  if (c->opts.blob_dir && !(c->blob_dir = strdup(c->opts.blob_dir))) goto fail;
  c->opts.blob_dir = NULL; /* not kept */
  c->scfg.blob_threshold = c->opts.blob_file_threshold;
  c->scfg.blob_dir = c->blob_dir;
  wsc__conn_config_init(&c->scfg.core, WSC__CLIENT, c->opts.max_frame, c->opts.max_message);
  rc = c->proxy.host ? wsc__tcp_connect(&ws->tcp, c->proxy.hostname_for_connect, c->proxy.port,
                                         c->opts.connect_timeout_ms)
                     : wsc__tcp_connect(&ws->tcp, c->url.hostname_for_connect, c->url.port,
                                        c->opts.connect_timeout_ms);
  if (rc) wsc__socket_fail(ws, rc, uv_strerror(rc)); /* reported through the events */
  *out = ws;
  return 0;
fail:
  ws->transport_closed = 1;
  wsc__socket_release(ws);
  return rc;
}
