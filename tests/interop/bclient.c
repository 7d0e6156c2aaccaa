/* bclient.c - a blocking test client on the sans-I/O core; see bclient.h. */
#include "bclient.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "spawn.h"
#include "wsc.h"

#define READ_CHUNK (256 * 1024)

/* ---- transport ------------------------------------------------------------ */

int bc_connect(bclient *c, const char *host, int port) {
  memset(c, 0, sizeof *c);
  c->fd = -1;
  struct addrinfo hints = {0}, *ai = NULL;
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
  hints.ai_socktype = SOCK_STREAM;
  char service[16];
  snprintf(service, sizeof service, "%d", port);
  if (getaddrinfo(host, service, &hints, &ai) != 0 || !ai) return -EINVAL;
  int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    int e = errno;
    freeaddrinfo(ai);
    return -e;
  }
  struct timeval tv = {BC_IO_TIMEOUT_MS / 1000, (BC_IO_TIMEOUT_MS % 1000) * 1000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv); /* also bounds connect() */
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
    int e = errno;
    close(fd);
    freeaddrinfo(ai);
    return -e;
  }
  freeaddrinfo(ai);
  c->fd = fd;
  return 0;
}

static void print_ssl_errors(const char *what) {
  fprintf(stderr, "bclient: %s failed\n", what);
  unsigned long e;
  char buf[256];
  while ((e = ERR_get_error()) != 0) {
    ERR_error_string_n(e, buf, sizeof buf);
    fprintf(stderr, "  %s\n", buf);
  }
}

int bc_tls(bclient *c, const char *ca_file, const char *name) {
  c->ssl_ctx = SSL_CTX_new(TLS_client_method());
  if (!c->ssl_ctx) return print_ssl_errors("SSL_CTX_new"), -1;
  SSL_CTX_set_verify(c->ssl_ctx, SSL_VERIFY_PEER, NULL);
  if (SSL_CTX_load_verify_locations(c->ssl_ctx, ca_file, NULL) != 1)
    return print_ssl_errors("loading the CA"), -1;
  c->ssl = SSL_new(c->ssl_ctx);
  if (!c->ssl) return print_ssl_errors("SSL_new"), -1;
  unsigned char ip[16];
  int is_ip = inet_pton(AF_INET, name, ip) == 1 || inet_pton(AF_INET6, name, ip) == 1;
  if (is_ip) {
    X509_VERIFY_PARAM *param = SSL_get0_param(c->ssl);
    if (X509_VERIFY_PARAM_set1_ip_asc(param, name) != 1) return print_ssl_errors("set1_ip"), -1;
  } else {
    if (SSL_set_tlsext_host_name(c->ssl, name) != 1) return print_ssl_errors("SNI"), -1;
    if (SSL_set1_host(c->ssl, name) != 1) return print_ssl_errors("set1_host"), -1;
  }
  SSL_set_fd(c->ssl, c->fd);
  if (SSL_connect(c->ssl) != 1) {
    long v = SSL_get_verify_result(c->ssl);
    fprintf(stderr, "bclient: certificate verification: %s\n", X509_verify_cert_error_string(v));
    return print_ssl_errors("SSL_connect"), -1;
  }
  return 0;
}

/* >0 bytes, 0 at EOF, -EAGAIN on timeout, -errno otherwise. */
static long io_read(bclient *c, void *buf, size_t n) {
  if (c->ssl) {
    ERR_clear_error();
    int r = SSL_read(c->ssl, buf, n > INT32_MAX ? INT32_MAX : (int)n);
    if (r > 0) return r;
    int e = SSL_get_error(c->ssl, r);
    if (e == SSL_ERROR_ZERO_RETURN) return 0;
    if (e == SSL_ERROR_SYSCALL) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return -EAGAIN;
      return errno ? -errno : 0; /* errno 0: EOF without close_notify */
    }
    return -EPROTO;
  }
  for (;;) {
    ssize_t r = recv(c->fd, buf, n, 0);
    if (r >= 0) return (long)r;
    if (errno == EINTR) continue;
    if (errno == EWOULDBLOCK) return -EAGAIN;
    return -errno;
  }
}

/* Wait until something can be read, at most ms. 1 ready, 0 timeout. */
static int io_wait(bclient *c, int ms) {
  if (c->ssl && SSL_pending(c->ssl) > 0) return 1;
  struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
  for (;;) {
    int r = poll(&pfd, 1, ms);
    if (r < 0 && errno == EINTR) continue;
    return r > 0;
  }
}

int bc_write_raw(bclient *c, const void *data, size_t len) {
  const uint8_t *p = data;
  while (len > 0) {
    long r;
    if (c->ssl) {
      ERR_clear_error();
      int w = SSL_write(c->ssl, p, len > 1 << 20 ? 1 << 20 : (int)len);
      r = w > 0 ? w : (errno ? -errno : -EPIPE);
    } else {
      ssize_t w = send(c->fd, p, len, MSG_NOSIGNAL);
      r = w >= 0 ? (long)w : -errno;
      if (r == -EINTR) continue;
    }
    if (r <= 0) {
      c->io_error = r < 0 ? (int)-r : EPIPE;
      return r < 0 ? (int)r : -EPIPE;
    }
    p += r;
    len -= (size_t)r;
    c->bytes_sent += (size_t)r;
  }
  return 0;
}

/* ---- HTTP CONNECT ------------------------------------------------------- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void base64(const char *in, char *out) {
  size_t n = strlen(in), o = 0;
  const unsigned char *s = (const unsigned char *)in;
  for (size_t i = 0; i < n; i += 3) {
    unsigned v = (unsigned)s[i] << 16 | (i + 1 < n ? (unsigned)s[i + 1] << 8 : 0) |
                 (i + 2 < n ? s[i + 2] : 0);
    out[o++] = b64[v >> 18 & 63];
    out[o++] = b64[v >> 12 & 63];
    out[o++] = i + 1 < n ? b64[v >> 6 & 63] : '=';
    out[o++] = i + 2 < n ? b64[v & 63] : '=';
  }
  out[o] = '\0';
}

int bc_proxy_connect(bclient *c, const char *target, const char *auth) {
  char req[1024], cred[512] = "", enc[400];
  if (auth) {
    if (strlen(auth) > 250) return -EINVAL;
    base64(auth, enc);
    snprintf(cred, sizeof cred, "Proxy-Authorization: Basic %s\r\n", enc);
  }
  int n = snprintf(req, sizeof req, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n%s\r\n", target, target, cred);
  int rc = bc_write_raw(c, req, (size_t)n);
  if (rc) return rc;
  /* Read the response head one byte at a time: nothing after it may be taken
   * from the tunnel. Bounded by the buffer and the socket timeout. */
  char head[4096];
  size_t len = 0;
  while (len < sizeof head - 1) {
    long r = io_read(c, head + len, 1);
    if (r <= 0) return r == 0 ? WSC_ECLOSED : (int)r;
    len++;
    if (len >= 4 && memcmp(head + len - 4, "\r\n\r\n", 4) == 0) break;
  }
  head[len] = '\0';
  int status;
  if (sscanf(head, "HTTP/1.%*d %d", &status) != 1) return WSC_EHANDSHAKE;
  return status;
}

/* ---- the WebSocket connection ------------------------------------------- */

static int on_send(void *user, const uint8_t *data, size_t len) {
  return bc_write_raw(user, data, len);
}

static int on_event(void *user, const wsc__event *ev) {
  bclient *c = user;
  switch (ev->type) {
  case WSC__EV_DATA:
    if (ev->first) {
      wsc__buf_reset(&c->msg);
      c->msg_op = ev->opcode;
      c->msg_pieces = 0;
      c->msg_complete = 0;
    }
    if (ev->len && wsc__buf_append(&c->msg, ev->data, ev->len) != 0) return WSC_ENOMEM;
    c->msg_pieces++;
    if (!ev->last) return 0;
    c->msg_complete = 1;
    c->event = BC_MESSAGE;
    return 1;
  case WSC__EV_PING:
  case WSC__EV_PONG:
    memcpy(c->ctl, ev->data, ev->len);
    c->ctl_len = ev->len;
    c->event = ev->type == WSC__EV_PING ? BC_PING : BC_PONG;
    return 1;
  case WSC__EV_CLOSE:
    memcpy(c->ctl, ev->data, ev->len);
    c->ctl_len = ev->len;
    c->close_code = ev->code;
    c->event = BC_CLOSE;
    return 1;
  }
  return 0;
}

/* Hand c->rx to the conn until an event or until it is all consumed.
 * >0 an event, 0 all consumed, <0 error. */
static int feed(bclient *c) {
  while (c->rx.len > 0) {
    size_t used = 0;
    c->event = 0;
    int rc = wsc__conn_recv(&c->conn, c->rx.data, c->rx.len, &used);
    wsc__buf_consume(&c->rx, used);
    if (rc < 0) return rc;
    if (c->event) return c->event;
    if (used == 0) break; /* cannot happen without an event; never spin */
  }
  return 0;
}

int bc_handshake(bclient *c, const wsc__hs_client_config *hs_cfg,
                 const wsc__conn_config *conn_cfg) {
  wsc__buf req = {0};
  int rc = wsc__hs_client_start(&c->hs, hs_cfg, &req);
  if (rc < 0) {
    wsc__buf_free(&req);
    return rc;
  }
  c->hs_started = 1;
  rc = bc_write_raw(c, req.data, req.len);
  wsc__buf_free(&req);
  if (rc) return rc;

  uint8_t buf[16384];
  long long deadline = peer_now_ms() + BC_IO_TIMEOUT_MS;
  for (;;) {
    long long left = deadline - peer_now_ms();
    if (left <= 0 || !io_wait(c, (int)left)) return -EAGAIN;
    long r = io_read(c, buf, sizeof buf);
    if (r == 0) return WSC_ECLOSED;
    if (r == -EAGAIN) continue;
    if (r < 0) return (int)r;
    size_t used = 0;
    c->hs_last = (size_t)r;
    rc = wsc__hs_client_recv(&c->hs, buf, (size_t)r, &used);
    if (rc < 0) return rc;
    c->hs_fed += rc == 1 ? used : (size_t)r;
    if (rc == 1) {
      if (conn_cfg) c->cfg = *conn_cfg;
      c->cfg.role = WSC__CLIENT;
      c->cfg.on_event = on_event;
      c->cfg.on_send = on_send;
      wsc__conn_init(&c->conn, &c->cfg, c);
      c->conn_ready = 1;
      if ((size_t)r > used && wsc__buf_append(&c->rx, buf + used, (size_t)r - used) != 0)
        return WSC_ENOMEM;
      c->bytes_received += (size_t)r - used;
      return 1;
    }
  }
}

int bc_handshake_deflate(bclient *c, const wsc__hs_client_config *hs_cfg,
                         const wsc__conn_config *conn_cfg, const wsc__pmd_offer *offer,
                         size_t threshold) {
  char ext[WSC__PMD_MAX_HEADER];
  int rc = wsc__pmd_offer_build(offer, ext, sizeof ext);
  if (rc < 0) return rc;
  wsc__hs_client_config hs = *hs_cfg;
  hs.extensions = ext;
  rc = bc_handshake(c, &hs, conn_cfg);
  if (rc != 1) return rc;
  c->pmd_why = NULL;
  int acc = wsc__pmd_client_accept(offer, c->hs.extensions, strlen(c->hs.extensions), &c->pmd,
                                   &c->pmd_why);
  if (acc < 0) return acc;
  c->pmd_accepted = acc;
  if (acc && (rc = wsc__conn_set_deflate(&c->conn, &c->pmd, threshold)) != 0) return rc;
  return 1;
}

int bc_next(bclient *c, int timeout_ms) {
  long long deadline = peer_now_ms() + timeout_ms;
  c->event = 0;
  for (;;) {
    int rc = feed(c);
    if (rc != 0) return rc;
    if (c->eof) return WSC_ECLOSED;
    long long left = deadline - peer_now_ms();
    if (left <= 0 || !io_wait(c, (int)left)) return WSC_ETIMEDOUT;
    if (wsc__buf_reserve(&c->rx, READ_CHUNK) != 0) return WSC_ENOMEM;
    long r = io_read(c, c->rx.data + c->rx.len, READ_CHUNK);
    if (r == -EAGAIN) continue;
    if (r <= 0) {
      c->eof = 1;
      if (r < 0) c->io_error = (int)-r;
      continue;
    }
    c->rx.len += (size_t)r;
    c->bytes_received += (size_t)r;
  }
}

void bc_free(bclient *c) {
  if (c->conn_ready) wsc__conn_free(&c->conn);
  c->conn_ready = 0;
  if (c->hs_started) wsc__hs_client_free(&c->hs);
  c->hs_started = 0;
  if (c->ssl) {
    SSL_free(c->ssl); /* no close_notify: the tests decide what is sent */
    c->ssl = NULL;
  }
  if (c->ssl_ctx) {
    SSL_CTX_free(c->ssl_ctx);
    c->ssl_ctx = NULL;
  }
  if (c->fd >= 0) close(c->fd);
  c->fd = -1;
  wsc__buf_free(&c->rx);
  wsc__buf_free(&c->msg);
}
