/* server.c - wsc_server: listen, accept, run the server side of the opening
 * handshake (origin check, the application's decision, 101 or a refusal, or
 * a plain HTTP answer), then hand the connection out as a wsc_socket, the
 * same object a client uses. Also the server's list of sockets, broadcast and
 * graceful shutdown. */
#define _GNU_SOURCE /* accept4 */
#include "api/server.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api/deflate_opts.h"
#include "api/loop.h"

#define DEFAULT_BACKLOG 511
#define DEFAULT_MAX_CONNECTIONS 100000
#define DEFAULT_HANDSHAKE_TIMEOUT 10000
#define DEFAULT_CLOSE_TIMEOUT 5000
#define DEFAULT_SHUTDOWN_TIMEOUT 5000
#define DEFAULT_HIGH_WATER_MARK (1024 * 1024)
#define DEFAULT_MAX_BUFFERED ((uint64_t)64 * 1024 * 1024)
#define HS_SPARE 128 /* handshake states kept for reuse per server (hs_take) */

struct wsc__hs_spare {
  struct wsc__hs_spare *next;
};

#define container_of(p, type, member) ((type *)(void *)((char *)(p) - offsetof(type, member)))

static void maybe_done(wsc_server *srv);

/* ---- the server role of a socket ---------------------------------------- */

static void unlink_socket(wsc_socket *ws) {
  wsc_server *srv = ws->cfg->server;
  if (!ws->srv_linked) return;
  if (ws->srv_prev) ws->srv_prev->srv_next = ws->srv_next;
  else srv->sockets = ws->srv_next;
  if (ws->srv_next) ws->srv_next->srv_prev = ws->srv_prev;
  ws->srv_prev = ws->srv_next = NULL;
  ws->srv_linked = 0;
  srv->nconns--;
  maybe_done(srv);
}

/* The server's memory goes once it is freed, its handles are closed and the
 * last of its sockets (which read its shared settings) is released. */
static void maybe_free(wsc_server *srv) {
  if (!srv->free_requested || srv->open_handles || srv->alive) return;
  while (srv->hs_spare) {
    struct wsc__hs_spare *h = srv->hs_spare;
    srv->hs_spare = h->next;
    free(h);
  }
  free((void *)srv->protocols);
  free((void *)srv->origins);
  free(srv->blob_dir);
  free(srv);
}

/* Handshake states (3.5 KB each, needed only until OPEN) are kept for the
 * next handshakes, up to HS_SPARE per server (a list through their first
 * bytes): allocated and freed for every connection, they left holes among
 * the long-lived 240-byte sockets, and an idle connection cost 249-258 bytes
 * instead of 240 (bench/compare.sh --scenarios idle). */

static wsc__hs_server *hs_take(wsc_server *srv) {
  struct wsc__hs_spare *h = srv->hs_spare;
  if (!h) return malloc(sizeof(wsc__hs_server));
  srv->hs_spare = h->next;
  srv->nhs_spare--;
  return (wsc__hs_server *)(void *)h;
}

/* Done with the handshake state of ws (if it still has one). */
static void hs_drop(wsc_socket *ws) {
  wsc__hs_server *hs = ws->role_data;
  if (!hs) return;
  ws->role_data = NULL;
  wsc__hs_server_free(hs);
  wsc_server *srv = ws->cfg->server;
  if (srv->nhs_spare >= HS_SPARE) {
    free(hs);
    return;
  }
  struct wsc__hs_spare *h = (struct wsc__hs_spare *)(void *)hs;
  h->next = srv->hs_spare;
  srv->hs_spare = h;
  srv->nhs_spare++;
}

static void release(wsc_socket *ws) {
  hs_drop(ws);
  unlink_socket(ws);
  wsc_server *srv = ws->cfg->server;
  srv->alive--;
  maybe_free(srv);
}

/* Server sockets belong to the server: freed once closed. */
static void closed(wsc_socket *ws) { wsc_socket_free(ws); }

static int origin_allowed(const wsc_server *srv, const wsc__hs_server *hs) {
  if (!srv->opts.norigins) return 1;
  if (!hs->origin.ptr) return 0;
  for (size_t i = 0; i < srv->opts.norigins; i++)
    if (strlen(srv->origins[i]) == hs->origin.len &&
        memcmp(srv->origins[i], hs->origin.ptr, hs->origin.len) == 0)
      return 1;
  return 0;
}

/* The server's own preference: the first of its protocols the client offered. */
static const char *default_protocol(const wsc_server *srv, const wsc__hs_server *hs) {
  for (size_t i = 0; i < srv->opts.nprotocols; i++)
    if (wsc__hs_server_offered(hs, srv->protocols[i])) return srv->protocols[i];
  return NULL;
}

static void refuse(wsc_socket *ws, int status, const char *body) {
  wsc__buf out = {0};
  if (wsc__hs_server_reject(status, body, NULL, 0, &out) == 0 && out.len)
    wsc__socket_write_raw(ws, out.data, out.len);
  wsc__buf_free(&out);
  wsc__socket_fail(ws, WSC_EHANDSHAKE, body);
}

void wsc__request_send(wsc_request *req, const wsc__buf *response) {
  wsc__socket_write_raw(req->ws, response->data, response->len);
  /* one request per connection: close once the response is out */
  wsc__socket_fail(req->ws, WSC_ECLOSED, "HTTP response sent");
}

static void call_on_connection(wsc_socket *ws, void *arg) {
  wsc_request *req = arg;
  wsc_server *srv = req->srv;
  if (srv->on_connection) srv->on_connection(srv, ws, req, srv->connection_user);
}

static void request_done(wsc_request *req) {
  free(req->path);
  free(req->protocols);
}

static int request_init(wsc_request *req, wsc_socket *ws, wsc__hs_server *hs, int upgrade) {
  memset(req, 0, sizeof *req);
  req->srv = ws->cfg->server;
  req->ws = ws;
  req->hs = hs;
  req->upgrade = upgrade;
  req->path = malloc(hs->path.len + 1);
  if (!req->path) return WSC_ENOMEM;
  memcpy(req->path, hs->path.ptr, hs->path.len);
  req->path[hs->path.len] = 0;
  return 0;
}

/* A complete upgrade request: check, decide, answer. 1 when OPEN, -1 else. */
static int upgrade(wsc_socket *ws, wsc__hs_server *hs) {
  wsc_server *srv = ws->cfg->server;
  if (!origin_allowed(srv, hs)) {
    refuse(ws, 403, "origin not allowed");
    return -1;
  }
  wsc_request req;
  if (request_init(&req, ws, hs, 1) != 0) {
    refuse(ws, 500, "out of memory");
    return -1;
  }
  if (srv->on_upgrade) srv->on_upgrade(srv, &req, srv->upgrade_user);
  if (ws->free_requested || ws->failed || (req.decided && !req.accepted)) {
    request_done(&req);
    return -1;
  }
  const char *protocol = req.decided ? req.protocol : default_protocol(srv, hs);
  /* permessage-deflate: the first offer we can honour; attached to the conn
   * before the 101 goes out, so running out of memory is still a clean 500 */
  char ext[WSC__PMD_MAX_HEADER] = "";
  wsc__pmd_params pmd;
  wsc__conn_init(&ws->conn, &srv->scfg.core, ws);
  int rc = req.no_deflate ? 0 : wsc__pmd_server_negotiate(&srv->pmd, hs, &pmd, ext, sizeof ext);
  if (rc == 1)
    rc = wsc__deflate_opts_attach(&srv->opts.deflate, &ws->conn, &pmd);
  if (rc < 0) {
    request_done(&req);
    refuse(ws, 500, "could not set up permessage-deflate");
    return -1;
  }
  wsc__buf out = {0};
  rc = wsc__hs_server_accept(hs, protocol, ext[0] ? ext : NULL, NULL, 0, &out);
  if (rc == 0) rc = wsc__socket_write_raw(ws, out.data, out.len);
  wsc__buf_free(&out);
  if (rc) {
    request_done(&req);
    wsc__socket_fail(ws, rc, "could not send the 101 response");
    return -1;
  }
  wsc__socket_open(ws, protocol, ext, call_on_connection, &req);
  request_done(&req);
  return 1;
}

static void plain_http(wsc_socket *ws, wsc__hs_server *hs) {
  wsc_server *srv = ws->cfg->server;
  wsc_request req;
  if (request_init(&req, ws, hs, 0) != 0) {
    refuse(ws, 500, "out of memory");
    return;
  }
  if (srv->on_http) srv->on_http(srv, &req, srv->http_user);
  if (!req.decided && !ws->free_requested && !ws->failed) refuse(ws, 404, "not found");
  request_done(&req);
}

static int handshake_recv(wsc_socket *ws, uint8_t *data, size_t len, size_t *used) {
  wsc__hs_server *hs = ws->role_data;
  int rc = wsc__hs_server_recv(hs, data, len, used);
  if (rc == 0) return 0;
  if (rc < 0) {
    refuse(ws, hs->status ? hs->status : 400, hs->error ? hs->error : "bad request");
    return -1;
  }
  if (rc == 2) {
    plain_http(ws, hs);
    return -1;
  }
  rc = upgrade(ws, hs);
  hs_drop(ws); /* the request's views are no longer needed */
  return rc;
}

static const wsc__role_ops server_role = {NULL, handshake_recv, NULL, release, closed};

/* ---- accepting ---------------------------------------------------------- */

/* A new connection's descriptor: a socket in its handshake. */
static void accept_one(wsc_server *srv, int fd) {
  wsc_socket *ws = wsc__socket_alloc(&srv->scfg);
  if (ws) srv->alive++; /* its release takes it back */
  wsc__hs_server *hs = ws ? hs_take(srv) : NULL;
  if (!hs) { /* out of memory: drop the connection */
    if (ws) {
      ws->transport_closed = 1;
      wsc__socket_release(ws);
    }
    close(fd);
    return;
  }
  wsc__hs_server_init(hs, srv->opts.max_handshake);
  ws->role_data = hs;
  ws->srv_linked = 1;
  ws->srv_next = srv->sockets;
  if (srv->sockets) srv->sockets->srv_prev = ws;
  srv->sockets = ws;
  srv->nconns++;
  wsc__socket_enter(ws);
  int rc = wsc__tcp_adopt(&ws->tcp, fd, 1); /* TCP_NODELAY: inherited from the listener */
  if (rc == 0) rc = wsc__tcp_read_start(&ws->tcp);
  if (rc) {
    wsc__socket_fail(ws, rc, uv_strerror(rc));
  } else if (srv->nconns > srv->opts.max_connections) {
    refuse(ws, 503, "too many connections");
  } else {
    wsc__socket_timer(ws, srv->opts.handshake_timeout_ms); /* slow clients are dropped */
    if (srv->tls_ctx) {
      wsc__socket_ext *x = wsc__socket_ext_get(ws);
      rc = x ? wsc__tls_server_start(&x->tls, srv->tls_ctx, wsc__socket_tls_to_tcp, ws)
             : WSC_ENOMEM;
      if (rc) wsc__socket_fail(ws, rc, x ? x->tls.error : "out of memory");
    }
  }
  wsc__socket_leave(ws);
}

static void listen_again(uv_timer_t *t) {
  wsc_server *srv = t->data;
  if (srv->listening)
    wsc__poller_mod(srv->loop->poller, srv->lfd, (uintptr_t)&srv->lpollee, EPOLLIN);
}

/* The listening descriptor is readable: accept what is pending (a bounded
 * number per turn, so established connections are served too). */
static void on_listener(wsc__pollee *pe, uint32_t events) {
  (void)events;
  wsc_server *srv = container_of(pe, wsc_server, lpollee);
  for (int i = 0; i < 256 && srv->listening && !srv->closing; i++) {
    int fd = accept4(srv->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      accept_one(srv, fd);
      continue;
    }
    if (errno == EINTR || errno == ECONNABORTED) continue;
    if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
      /* out of descriptors: stop listening for a moment instead of spinning */
      wsc__poller_mod(srv->loop->poller, srv->lfd, (uintptr_t)&srv->lpollee, 0);
      uv_timer_start(&srv->backoff_timer, listen_again, 100, 0);
    }
    return;
  }
}

/* ---- the server object -------------------------------------------------- */

void wsc_server_options_init(wsc_server_options *o) { memset(o, 0, sizeof *o); }

static void set_error(wsc_server *srv, int err, const char *msg) {
  srv->error = err;
  snprintf(srv->error_msg, sizeof srv->error_msg, "%s", msg ? msg : wsc_strerror(err));
}

static void handle_closed(uv_handle_t *h) {
  wsc_server *srv = h->data;
  srv->open_handles--;
  maybe_free(srv);
}

int wsc_server_new(wsc_loop *loop, const wsc_server_options *opts, wsc_server **out) {
  if (!loop || !out) return WSC_EINVAL;
  *out = NULL;
  wsc_server_options o;
  if (opts) o = *opts; else wsc_server_options_init(&o);
  if ((o.nprotocols && !o.protocols) || (o.norigins && !o.origins)) return WSC_EINVAL;
  if ((o.tls_cert_file == NULL) != (o.tls_key_file == NULL)) return WSC_EINVAL;
  if (wsc__deflate_opts_check(&o.deflate)) return WSC_EINVAL;
  for (size_t i = 0; i < o.nprotocols; i++)
    if (!o.protocols[i] || !wsc__http_is_token(o.protocols[i], strlen(o.protocols[i])))
      return WSC_ESYNTAX;
  wsc_server *srv = calloc(1, sizeof *srv);
  if (!srv) return WSC_ENOMEM;
  srv->loop = loop;
  if (!o.backlog) o.backlog = DEFAULT_BACKLOG;
  if (!o.max_connections) o.max_connections = DEFAULT_MAX_CONNECTIONS;
  if (!o.handshake_timeout_ms) o.handshake_timeout_ms = DEFAULT_HANDSHAKE_TIMEOUT;
  if (!o.close_timeout_ms) o.close_timeout_ms = DEFAULT_CLOSE_TIMEOUT;
  if (!o.high_water_mark) o.high_water_mark = DEFAULT_HIGH_WATER_MARK;
  if (!o.max_buffered) o.max_buffered = DEFAULT_MAX_BUFFERED;
  srv->protocols = wsc__copy_strv(o.protocols, o.nprotocols);
  srv->origins = wsc__copy_strv(o.origins, o.norigins);
  if (!srv->protocols || !srv->origins) goto nomem;
  if (o.blob_dir && !(srv->blob_dir = strdup(o.blob_dir))) goto nomem;
  o.blob_dir = NULL; /* not kept: sockets use srv->blob_dir */
  if (o.tls_cert_file) {
    char err[160];
    srv->tls_ctx = wsc__tls_server_ctx(o.tls_cert_file, o.tls_key_file, o.tls_client_ca_file, err,
                                       sizeof err);
    if (!srv->tls_ctx) {
      free((void *)srv->protocols);
      free((void *)srv->origins);
      free(srv->blob_dir);
      free(srv);
      return WSC_ETLS;
    }
  }
  o.protocols = srv->protocols;
  o.origins = srv->origins;
  o.tls_cert_file = o.tls_key_file = o.tls_client_ca_file = NULL; /* not kept */
  srv->opts = o;
  wsc__deflate_opts_server(&o.deflate, &srv->pmd);
  wsc__conn_config_init(&srv->scfg.core, WSC__SERVER, o.max_frame, o.max_message);
  srv->scfg.loop = loop;
  srv->scfg.server = srv;
  srv->scfg.role = &server_role;
  srv->scfg.origin = "";
  srv->scfg.close_timeout_ms = o.close_timeout_ms;
  srv->scfg.ping_interval_ms = o.ping_interval_ms;
  srv->scfg.idle_timeout_ms = o.idle_timeout_ms;
  srv->scfg.high_water_mark = o.high_water_mark;
  srv->scfg.max_buffered = o.max_buffered;
  srv->scfg.blob_threshold = o.blob_file_threshold;
  srv->scfg.blob_dir = srv->blob_dir;
  int rc = uv_timer_init(loop->uv, &srv->shutdown_timer);
  if (rc) {
    SSL_CTX_free(srv->tls_ctx);
    free((void *)srv->protocols);
    free((void *)srv->origins);
    free(srv->blob_dir);
    free(srv);
    return rc;
  }
  srv->shutdown_timer.data = srv;
  uv_unref((uv_handle_t *)&srv->shutdown_timer);
  uv_timer_init(loop->uv, &srv->backoff_timer);
  srv->backoff_timer.data = srv;
  srv->open_handles = 2;
  loop->nsockets++; /* a server keeps its loop from being freed, like a socket */
  *out = srv;
  return 0;
nomem:
  free((void *)srv->protocols);
  free((void *)srv->origins);
  free(srv->blob_dir);
  free(srv);
  return WSC_ENOMEM;
}

void wsc_server_set_onupgrade(wsc_server *srv, wsc_upgrade_fn fn, void *user) {
  srv->on_upgrade = fn;
  srv->upgrade_user = user;
}
void wsc_server_set_onconnection(wsc_server *srv, wsc_connection_fn fn, void *user) {
  srv->on_connection = fn;
  srv->connection_user = user;
}
void wsc_server_set_onhttp(wsc_server *srv, wsc_http_fn fn, void *user) {
  srv->on_http = fn;
  srv->http_user = user;
}

/* "host:port", "[v6]:port" -> a socket address. */
static int parse_address(const char *address, struct sockaddr_storage *ss) {
  const char *colon = strrchr(address, ':');
  if (!colon || !colon[1]) return WSC_EINVAL;
  char *end;
  long port = strtol(colon + 1, &end, 10);
  if (*end || port < 0 || port > 65535) return WSC_EINVAL;
  char host[64];
  size_t hl = (size_t)(colon - address);
  if (hl >= sizeof host) return WSC_EINVAL;
  memcpy(host, address, hl);
  host[hl] = 0;
  if (host[0] == '[') {
    if (hl < 2 || host[hl - 1] != ']') return WSC_EINVAL;
    host[hl - 1] = 0;
    return uv_ip6_addr(host + 1, (int)port, (struct sockaddr_in6 *)ss) ? WSC_EINVAL : 0;
  }
  if (strcmp(host, "localhost") == 0 || host[0] == 0)
    snprintf(host, sizeof host, "%s", host[0] ? "127.0.0.1" : "0.0.0.0");
  return uv_ip4_addr(host, (int)port, (struct sockaddr_in *)ss) ? WSC_EINVAL : 0;
}

int wsc_server_listen(wsc_server *srv, const char *address) {
  if (!srv || !address) return WSC_EINVAL;
  if (srv->listening || srv->closing) return WSC_EINVALIDSTATE;
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  int rc = parse_address(address, &ss);
  if (rc) {
    set_error(srv, rc, "bad listen address (expected HOST:PORT or [IPv6]:PORT)");
    return rc;
  }
  /* the listening socket is a bare descriptor in the loop's poller, like
   * every connection it accepts (net/poller.h) */
  int on = 1;
  int lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  /* TCP_NODELAY on the listener: accepted connections inherit it (Linux) */
  if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
      setsockopt(lfd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) != 0 ||
      (srv->opts.reuse_port && setsockopt(lfd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) != 0) ||
      bind(lfd, (struct sockaddr *)&ss, ss.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                                 : sizeof(struct sockaddr_in)) != 0 ||
      listen(lfd, srv->opts.backlog) != 0)
    rc = -errno;
  wsc__poller *poller = rc == 0 ? wsc__poller_get(srv->loop, &rc) : NULL;
  if (poller) {
    srv->lpollee.on_events = on_listener;
    rc = wsc__poller_add(poller, lfd, (uintptr_t)&srv->lpollee, EPOLLIN);
  }
  if (rc) {
    set_error(srv, rc, uv_strerror(rc));
    if (lfd >= 0) close(lfd);
    return rc;
  }
  srv->lfd = lfd;
  srv->listening = 1;
  struct sockaddr_storage bound;
  socklen_t len = sizeof bound;
  getsockname(lfd, (struct sockaddr *)&bound, &len);
  char ip[48] = "";
  if (bound.ss_family == AF_INET6) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&bound;
    uv_ip6_name(a, ip, sizeof ip);
    srv->port = ntohs(a->sin6_port);
    snprintf(srv->address, sizeof srv->address, "[%s]:%d", ip, srv->port);
  } else {
    struct sockaddr_in *a = (struct sockaddr_in *)&bound;
    uv_ip4_name(a, ip, sizeof ip);
    srv->port = ntohs(a->sin_port);
    snprintf(srv->address, sizeof srv->address, "%s:%d", ip, srv->port);
  }
  return 0;
}

int wsc_server_port(const wsc_server *srv) { return srv->port; }
const char *wsc_server_address(const wsc_server *srv) { return srv->address; }
size_t wsc_server_connection_count(const wsc_server *srv) { return srv->nconns; }
int wsc_server_error(const wsc_server *srv, const char **message) {
  if (message) *message = srv->error ? srv->error_msg : "";
  return srv->error;
}

int wsc_server_broadcast(wsc_server *srv, const void *data, size_t length, int is_text) {
  size_t n = 0;
  for (wsc_socket *ws = srv->sockets; ws; ws = ws->srv_next)
    if (ws->ready_state == WSC_OPEN) n++;
  if (!n) return 0;
  wsc_socket **v = malloc(n * sizeof *v);
  if (!v) return WSC_ENOMEM;
  size_t k = 0;
  for (wsc_socket *ws = srv->sockets; ws && k < n; ws = ws->srv_next)
    if (ws->ready_state == WSC_OPEN) v[k++] = ws;
  int rc = wsc_broadcast(v, k, data, length, is_text);
  free(v);
  return rc;
}

/* ---- shutdown ----------------------------------------------------------- */

static void stop_listening(wsc_server *srv) {
  if (!srv->listening) return;
  srv->listening = 0;
  wsc__poller_del(srv->loop->poller, srv->lfd);
  uv_timer_stop(&srv->backoff_timer);
  close(srv->lfd);
  srv->lfd = -1;
}

static void maybe_done(wsc_server *srv) {
  if (!srv->closing || srv->nconns || srv->done_called) return;
  srv->done_called = 1;
  uv_timer_stop(&srv->shutdown_timer);
  if (srv->on_closed) srv->on_closed(srv, srv->closed_user);
}

static void drop_all(wsc_server *srv) {
  while (srv->sockets) {
    wsc_socket *ws = srv->sockets;
    unlink_socket(ws); /* the server no longer knows it; it still closes */
    wsc_socket_free(ws);
  }
}

/* The shutdown's time is up: drop what is left. A socket the application saw
 * open still gets its error and close (1006) events, as for any failed
 * connection; done follows once the last one is closed. */
static void on_shutdown_timeout(uv_timer_t *t) {
  wsc_server *srv = t->data;
  for (wsc_socket *ws = srv->sockets, *next; ws; ws = next) {
    next = ws->srv_next;
    wsc__socket_enter(ws);
    wsc__socket_fail(ws, WSC_ETIMEDOUT, "server shutdown timed out: connection dropped");
    wsc__tcp_close(&ws->tcp); /* now: no grace period for queued bytes */
    wsc__socket_leave(ws);
  }
  maybe_done(srv);
}

int wsc_server_close(wsc_server *srv, uint32_t timeout_ms,
                     void (*done)(wsc_server *srv, void *user), void *user) {
  if (srv->closing) return WSC_EINVALIDSTATE;
  srv->closing = 1;
  srv->on_closed = done;
  srv->closed_user = user;
  stop_listening(srv);
  for (wsc_socket *ws = srv->sockets, *next; ws; ws = next) {
    next = ws->srv_next;
    if (ws->ready_state == WSC_OPEN)
      wsc__socket_close_going_away(ws);
    else if (!ws->hs_done)
      wsc_socket_free(ws); /* still handshaking: never handed out */
  }
  uv_ref((uv_handle_t *)&srv->shutdown_timer);
  uv_timer_start(&srv->shutdown_timer, on_shutdown_timeout,
                 timeout_ms ? timeout_ms : DEFAULT_SHUTDOWN_TIMEOUT, 0);
  maybe_done(srv);
  return 0;
}

void wsc_server_free(wsc_server *srv) {
  if (!srv || srv->free_requested) return;
  srv->free_requested = 1;
  drop_all(srv);
  SSL_CTX_free(srv->tls_ctx);
  srv->tls_ctx = NULL;
  srv->loop->nsockets--;
  stop_listening(srv);
  uv_close((uv_handle_t *)&srv->shutdown_timer, handle_closed);
  uv_close((uv_handle_t *)&srv->backoff_timer, handle_closed);
}
