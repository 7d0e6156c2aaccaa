/* loadgen_conn.c - wsc-loadgen connections: non-blocking connect to
 * 127.0.0.1, the client opening handshake (request, 101 check with
 * Sec-WebSocket-Accept computed by the core's wsc__hs_accept_key), epoll
 * registration and closing. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "loadgen.h"
#include "proto/handshake.h"
#include "proto/random.h"

int lg_epoll(void) { return epoll_create1(EPOLL_CLOEXEC); }

void lg_conn_watch(int ep, lg_conn *c, uint32_t events) {
  if (c->events == events || c->fd < 0) return;
  struct epoll_event ev = {.events = events, .data.ptr = c};
  if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) == 0) c->events = events;
}

void lg_conn_close(lg_conn *c, int send_close) {
  if (c->fd < 0) return;
  if (send_close && c->state == LG_OPEN) {
    /* Close 1000, masked with the connection's key; best effort: a full
     * socket buffer just means the server sees EOF instead. */
    uint8_t f[8] = {0x88, 0x82, c->mask[0], c->mask[1], c->mask[2], c->mask[3],
                    (uint8_t)(0x03 ^ c->mask[0]), (uint8_t)(0xE8 ^ c->mask[1])};
    ssize_t n = send(c->fd, f, sizeof f, MSG_NOSIGNAL);
    (void)n;
  }
  close(c->fd); /* epoll forgets the fd with its last reference */
  c->fd = -1;
  c->state = LG_DEAD;
}

int lg_conn_start(int ep, lg_conn *c, const lg_opts *o) {
  uint8_t raw[16];
  char key[32];
  char ext[WSC__PMD_MAX_HEADER + 40] = "";
  c->fd = -1;
  c->deflate = (uint8_t)o->deflate;
  c->pmd = 0;
  c->state = LG_DEAD;
  c->events = 0;
  c->hs_len = c->hs_off = 0;
  if (wsc__random(raw, sizeof raw) != 0 || wsc__random(c->mask, sizeof c->mask) != 0) {
    lg_error(c->id, "no random bytes");
    return -1;
  }
  if (EVP_EncodeBlock((unsigned char *)key, raw, (int)sizeof raw) != 24 ||
      wsc__hs_accept_key(key, 24, c->accept) != 0) {
    lg_error(c->id, "cannot compute the accept key");
    return -1;
  }
  if (o->deflate != LG_DEFLATE_OFF) {
    wsc__pmd_offer offer;
    char v[WSC__PMD_MAX_HEADER];
    lg_pmd_offer(o->deflate, &offer);
    if (wsc__pmd_offer_build(&offer, v, sizeof v) < 0) {
      lg_error(c->id, "cannot build the permessage-deflate offer");
      return -1;
    }
    snprintf(ext, sizeof ext, "Sec-WebSocket-Extensions: %s\r\n", v);
  }
  int len = snprintf(c->hs, sizeof c->hs,
                     "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                     "Sec-WebSocket-Version: 13\r\n%s\r\n",
                     o->path, o->port, key, ext);
  if (len <= 0 || (size_t)len >= sizeof c->hs) {
    lg_error(c->id, "request too long");
    return -1;
  }
  c->hs_len = (size_t)len;

  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    lg_error(c->id, "socket: %s", strerror(errno));
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)o->port)};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  c->t_start = lg_now_ns();
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0 && errno != EINPROGRESS) {
    lg_error(c->id, "connect: %s", strerror(errno));
    close(fd);
    return -1;
  }
  struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};
  if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
    lg_error(c->id, "epoll_ctl: %s", strerror(errno));
    close(fd);
    return -1;
  }
  c->fd = fd;
  c->events = EPOLLOUT;
  c->state = LG_CONNECTING;
  return 0;
}

/* The value of header `name` (with its colon) in the head [p, end), trimmed,
 * through val and vlen. Returns 1 if found (the first occurrence), else 0. */
static int find_header(const char *p, const char *end, const char *name, const char **val,
                       size_t *vlen) {
  size_t nlen = strlen(name);
  const char *line = memchr(p, '\n', (size_t)(end - p)); /* skip the status line */
  while (line && line + 1 < end) {
    line++;
    const char *eol = memchr(line, '\n', (size_t)(end - line));
    if (!eol) break;
    if ((size_t)(eol - line) > nlen && strncasecmp(line, name, nlen) == 0) {
      const char *v = line + nlen, *ve = eol;
      while (v < ve && (*v == ' ' || *v == '\t')) v++;
      while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t')) ve--;
      *val = v;
      *vlen = (size_t)(ve - v);
      return 1;
    }
    line = eol;
  }
  return 0;
}

/* Check the complete response head c->hs[0, head). Returns 0 or -1 after
 * lg_error(). */
static int check_response(lg_conn *c, size_t head) {
  const char *p = c->hs, *end = c->hs + head;
  const char *v;
  size_t vlen;
  if (head < 12 || memcmp(p, "HTTP/1.1 101", 12) != 0) {
    const char *eol = memchr(p, '\r', head);
    lg_error(c->id, "handshake refused: %.*s", (int)(eol ? eol - p : 40), p);
    return -1;
  }
  if (!find_header(p, end, "sec-websocket-accept:", &v, &vlen) || vlen != WSC__HS_ACCEPT_LEN ||
      memcmp(v, c->accept, vlen) != 0) {
    lg_error(c->id, "missing or wrong Sec-WebSocket-Accept");
    return -1;
  }
  if (!find_header(p, end, "upgrade:", &v, &vlen) || vlen != 9 || strncasecmp(v, "websocket", 9)) {
    lg_error(c->id, "missing Upgrade: websocket");
    return -1;
  }
  int has_ext = find_header(p, end, "sec-websocket-extensions:", &v, &vlen);
  if (c->deflate == LG_DEFLATE_OFF) {
    if (has_ext) {
      lg_error(c->id, "server accepted an extension that was not offered");
      return -1;
    }
    return 0;
  }
  /* Offered permessage-deflate: a run that silently goes uncompressed would
   * measure the wrong thing, so a refusal is an error. */
  wsc__pmd_offer offer;
  const char *why = NULL;
  lg_pmd_offer(c->deflate, &offer);
  int rc = has_ext ? wsc__pmd_client_accept(&offer, v, vlen, &c->pmd_params, &why) : 0;
  if (rc == 0) {
    lg_error(c->id, "the server did not accept permessage-deflate (%s)",
             has_ext ? "not in its Sec-WebSocket-Extensions" : "no Sec-WebSocket-Extensions");
    return -1;
  }
  if (rc < 0) {
    lg_error(c->id, "bad permessage-deflate response: %s", why ? why : "?");
    return -1;
  }
  /* We said we would not keep context: do as said, whatever was answered. */
  if (c->deflate == LG_DEFLATE_NO_TAKEOVER) c->pmd_params.client_no_context_takeover = 1;
  c->pmd = 1;
  return 0;
}

int lg_conn_handshake(int ep, lg_conn *c, uint32_t events) {
  if (c->state == LG_CONNECTING) {
    int err = 0;
    socklen_t len = sizeof err;
    if (events & (EPOLLERR | EPOLLHUP)) {
      getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
      lg_error(c->id, "connect: %s", strerror(err ? err : ECONNREFUSED));
      lg_conn_close(c, 0);
      return -1;
    }
    if (!(events & EPOLLOUT)) return 0;
    c->state = LG_REQUEST;
  }
  if (c->state == LG_REQUEST) {
    while (c->hs_off < c->hs_len) {
      ssize_t n = send(c->fd, c->hs + c->hs_off, c->hs_len - c->hs_off, MSG_NOSIGNAL);
      if (n < 0 && errno == EAGAIN) return 0;
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        lg_error(c->id, "sending the request: %s", strerror(errno));
        lg_conn_close(c, 0);
        return -1;
      }
      c->hs_off += (size_t)n;
    }
    c->state = LG_RESPONSE;
    c->hs_len = c->hs_off = 0;
    lg_conn_watch(ep, c, EPOLLIN);
    return 0;
  }
  if (c->state != LG_RESPONSE) return 0;
  for (;;) {
    if (c->hs_len >= sizeof c->hs - 1) {
      lg_error(c->id, "response head longer than %zu bytes", sizeof c->hs - 1);
      lg_conn_close(c, 0);
      return -1;
    }
    ssize_t n = recv(c->fd, c->hs + c->hs_len, sizeof c->hs - 1 - c->hs_len, 0);
    if (n < 0 && errno == EAGAIN) return 0;
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      lg_error(c->id, "connection closed during the handshake%s%s", n ? ": " : "",
               n ? strerror(errno) : "");
      lg_conn_close(c, 0);
      return -1;
    }
    size_t from = c->hs_len >= 3 ? c->hs_len - 3 : 0;
    c->hs_len += (size_t)n;
    c->hs[c->hs_len] = '\0';
    for (size_t i = from; i + 4 <= c->hs_len; i++) {
      if (memcmp(c->hs + i, "\r\n\r\n", 4) == 0) {
        if (check_response(c, i + 4) != 0) {
          lg_conn_close(c, 0);
          return -1;
        }
        c->hs_off = i + 4; /* what follows is frames */
        c->state = LG_OPEN;
        return 1;
      }
    }
  }
}
