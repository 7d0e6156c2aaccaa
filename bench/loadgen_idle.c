/* loadgen_idle.c - wsc-loadgen idle mode: open N WebSocket connections, hold
 * them without traffic, and report how much the server's resident memory grew
 * (with --server-pid), i.e. what an idle connection costs the server.
 *
 * With --deflate, every connection first exchanges one compressed message
 * (-s bytes, --payload json or a pattern; the echo is inflated and checked)
 * and only then counts as open: what is measured is an idle connection whose
 * server already holds the compression state a conversation leaves behind
 * (with context takeover, its zlib streams and windows). The generator frees
 * its own zlib state once the echo is verified. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "loadgen.h"
#include "proto/frame.h"
#include "proto/mask.h"

#define MAX_PENDING_OPENS 128
#define SETTLE_NS 500000000ull /* let the server finish its bookkeeping before reading RSS */

/* --deflate: the one message of every connection. */
typedef struct idle_msg {
  const lg_opts *o;
  uint8_t *msg;    /* [size] the message (the same for every connection) */
  uint8_t *zout;   /* [zcap] scratch for compressing */
  size_t zcap;
  uint8_t *ibuf;   /* [IDLE_IBUF] inflated output */
  size_t rcap;     /* receive buffer per connection while waiting for the echo */
} idle_msg;

#define IDLE_IBUF 16384

/* The handshake of c completed: compress the message and send it in one
 * frame. The socket buffer is empty, so the frame (compressed -s bytes plus
 * 14) goes out in one send unless -s is very large. Returns 0 or -1 (c
 * closed). */
static int send_one(idle_msg *im, lg_conn *c) {
  c->zs = lg_zs_new(&c->pmd_params, im->o->level);
  c->wbuf = malloc(im->rcap);
  if (!c->zs || !c->wbuf) {
    lg_error(c->id, "out of memory");
    lg_conn_close(c, 0);
    return -1;
  }
  long zl = lg_zs_compress(c->zs, im->msg, im->o->size, im->zout, im->zcap);
  if (zl < 0 || (size_t)zl + 14 > im->rcap) {
    lg_error(c->id, "compressing the message failed");
    lg_conn_close(c, 0);
    return -1;
  }
  uint64_t len = (uint64_t)zl;
  uint8_t *h = c->wbuf; /* the receive buffer, not in use yet */
  size_t i = wsc__frame_write_header(h, 1, WSC__RSV1, (im->o->text ? 1 : 2), len, c->mask);
  wsc__mask_copy(h + i, im->zout, (size_t)len, c->mask, 0);
  ssize_t n = send(c->fd, h, i + (size_t)len, MSG_NOSIGNAL);
  if (n != (ssize_t)(i + (size_t)len)) {
    lg_error(c->id, "sending the message: %s", n < 0 ? strerror(errno) : "short write");
    lg_conn_close(c, 0);
    return -1;
  }
  c->wlen = 0; /* bytes of the echo received */
  c->msg_off = 0;
  return 0;
}

/* Check the echo collected in c->wbuf[0, c->wlen). Returns 1 when it is
 * complete and right (the zlib state and buffer are freed), 0 when more is
 * needed, -1 after an error (c closed). */
static int check_echo(idle_msg *im, lg_conn *c) {
  size_t off = 0;
  const uint8_t *b = c->wbuf;
  while (c->wlen - off >= 2) {
    uint8_t b0 = b[off], b1 = b[off + 1];
    size_t hl = 2;
    uint64_t len = b1 & 0x7f;
    if (len == 126) hl = 4;
    if (len == 127) hl = 10;
    if (c->wlen - off < hl) break;
    if (len == 126) len = ((uint64_t)b[off + 2] << 8) | b[off + 3];
    if (len == 127) {
      len = 0;
      for (size_t k = 2; k < 10; k++) len = (len << 8) | b[off + k];
    }
    if (b1 & 0x80 || len > im->rcap) {
      lg_error(c->id, "bad frame from the server (masked, or longer than %zu)", im->rcap);
      goto fail;
    }
    if (c->wlen - off - hl < len) break;
    const uint8_t *p = b + off + hl;
    uint8_t op = b0 & 0x0f, fin = b0 >> 7;
    off += hl + (size_t)len;
    if (op == 9 || op == 10) continue; /* a ping or pong: ignored */
    if (op == 8 || op > 2 || (b0 & 0x30) || ((b0 & 0x40) && op == 0) ||
        (op != 0) != !c->in_msg) {
      lg_error(c->id, "unexpected frame from the server (0x%02x)", b0);
      goto fail;
    }
    if (op != 0) c->msg_comp = (b0 & 0x40) != 0, c->in_msg = 1;
    size_t m = (size_t)len;
    for (int guard = 0;; guard++) {
      size_t got = 0;
      const char *why = "different or longer bytes";
      int rc = c->msg_comp ? lg_zs_inflate(c->zs, &p, &m, fin, im->ibuf, IDLE_IBUF, &got, &why) : 0;
      const uint8_t *out = c->msg_comp ? im->ibuf : p;
      if (!c->msg_comp) got = m, m = 0;
      if (got > im->o->size - c->msg_off || memcmp(out, im->msg + c->msg_off, got) != 0) rc = -1;
      c->msg_off += got;
      if (rc < 0 || guard > 1000) {
        lg_error(c->id, "the echo differs from the message sent (%s)", why);
        goto fail;
      }
      if (rc == 0) break;
    }
    if (fin) {
      if (c->msg_off != im->o->size) {
        lg_error(c->id, "echo of %llu bytes, not %zu", (unsigned long long)c->msg_off, im->o->size);
        goto fail;
      }
      lg_zs_free(c->zs);
      free(c->wbuf);
      c->zs = NULL;
      c->wbuf = NULL;
      c->in_msg = 0;
      return 1;
    }
  }
  memmove(c->wbuf, c->wbuf + off, c->wlen - off);
  c->wlen -= off;
  return 0;
fail:
  lg_conn_close(c, 0);
  return -1;
}

/* Bytes of the echo arrived on c. Returns as check_echo. */
static int read_echo(idle_msg *im, lg_conn *c) {
  for (int i = 0; i < 16; i++) {
    if (c->wlen == im->rcap) {
      lg_error(c->id, "echo larger than %zu bytes", im->rcap);
      lg_conn_close(c, 0);
      return -1;
    }
    ssize_t n = recv(c->fd, c->wbuf + c->wlen, im->rcap - c->wlen, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return 0;
    if (n <= 0) {
      lg_error(c->id, "connection closed before the echo%s%s", n ? ": " : "", n ? strerror(errno) : "");
      lg_conn_close(c, 0);
      return -1;
    }
    c->wlen += (size_t)n;
    int rc = check_echo(im, c);
    if (rc != 0) return rc;
  }
  return 0;
}

/* A held connection is readable: discard what the server sent (a ping, say);
 * EOF or an error is counted. */
static void drain(lg_conn *c) {
  char buf[512];
  for (int i = 0; i < 16; i++) {
    ssize_t n = recv(c->fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    if (n <= 0) {
      lg_error(c->id, "idle connection closed by the server%s%s", n ? ": " : "",
               n ? strerror(errno) : "");
      lg_conn_close(c, 0);
      return;
    }
  }
}

int lg_run_idle(const lg_opts *o) {
  int ep = lg_epoll();
  lg_conn *conns = calloc((size_t)o->conns, sizeof *conns);
  idle_msg im = {.o = o};
  if (ep < 0 || !conns) {
    fprintf(stderr, "wsc-loadgen: out of memory\n");
    return 2;
  }
  if (o->deflate != LG_DEFLATE_OFF) {
    im.zcap = lg_zs_bound(o->size);
    im.rcap = im.zcap + o->size + 1024; /* an echo sent uncompressed fits too */
    im.msg = malloc(o->size);
    im.zout = malloc(im.zcap);
    im.ibuf = malloc(IDLE_IBUF);
    if (!im.msg || !im.zout || !im.ibuf) {
      fprintf(stderr, "wsc-loadgen: out of memory\n");
      return 2;
    }
    if (o->json) {
      lg_json_fill(im.msg, o->size, 1);
    } else {
      for (size_t i = 0; i < o->size; i++) im.msg[i] = (uint8_t)(o->text ? 'a' + i % 26 : i * 7);
    }
  }
  int exchanged = 0; /* --deflate: connections whose echo was verified */
  /* --base: the baseline is taken once the first `base` connections are
   * open and settled, so one-time costs (code paths touched, buffers) are
   * not counted per connection */
  int base = o->base > 0 && o->base < o->conns ? o->base : 0;
  long rss0 = base ? -1 : lg_proc_rss_kib(o->server_pid);
  uint64_t t_base = 0;
  uint64_t t0 = lg_now_ns();
  uint64_t deadline = t0 + 20000000000ull + (uint64_t)o->conns * 5000000ull;
  uint64_t t_open = 0, t_settled = 0, t_release = 0;
  long rss1 = -1;
  int started = 0, pending = 0, open = 0, dead = 0;
  struct epoll_event evs[256];

  for (;;) {
    int limit = base && rss0 < 0 ? base : o->conns;
    while (pending < MAX_PENDING_OPENS && started < limit) {
      lg_conn *c = &conns[started];
      c->id = started++;
      if (lg_conn_start(ep, c, o) == 0) pending++;
      else dead++;
    }
    uint64_t now = lg_now_ns();
    if (base && rss0 < 0 && !t_base && open + dead == base &&
        (o->deflate == LG_DEFLATE_OFF || exchanged == open))
      t_base = now + SETTLE_NS;
    if (t_base && rss0 < 0 && now >= t_base) rss0 = lg_proc_rss_kib(o->server_pid);
    if (!t_open && open + dead == o->conns && (o->deflate == LG_DEFLATE_OFF || exchanged == open)) {
      t_open = now;
      t_settled = now + SETTLE_NS;
    }
    if (!t_open && now > deadline) {
      lg_error(-1, "only %d of %d connections opened in time", open, o->conns);
      break;
    }
    if (t_settled && !t_release && now >= t_settled) {
      rss1 = lg_proc_rss_kib(o->server_pid);
      printf("ALL_OPEN conns=%d\n", open);
      fflush(stdout);
      t_release = now + (uint64_t)(o->hold * 1e9);
    }
    if (t_release && now >= t_release) break;
    int n = epoll_wait(ep, evs, 256, 10);
    if (n < 0 && errno != EINTR) {
      perror("wsc-loadgen: epoll_wait");
      break;
    }
    for (int i = 0; i < n; i++) {
      lg_conn *c = evs[i].data.ptr;
      if (c->state == LG_DEAD) continue;
      if (c->state != LG_OPEN) {
        int rc = lg_conn_handshake(ep, c, evs[i].events);
        if (rc == 0) continue;
        pending--;
        if (rc < 0) {
          dead++;
          continue;
        }
        open++; /* bytes after the 101 (a ping, say) are ignored, as later ones are */
        if (o->deflate != LG_DEFLATE_OFF && send_one(&im, c) != 0) open--, dead++;
      } else if (c->wbuf) { /* --deflate: waiting for the echo */
        int rc = read_echo(&im, c);
        if (rc > 0) exchanged++;
        if (rc < 0) open--, dead++;
      } else {
        drain(c);
        if (c->state == LG_DEAD) {
          open--, dead++;
          exchanged -= o->deflate != LG_DEFLATE_OFF;
        }
      }
    }
  }
  int held = open;
  for (int i = 0; i < o->conns; i++) {
    lg_conn_close(&conns[i], 1);
    lg_zs_free(conns[i].zs);
    free(conns[i].wbuf);
  }
  free(im.msg);
  free(im.zout);
  free(im.ibuf);
  double open_s = t_open ? (double)(t_open - t0) / 1e9 : 0;
  char growth[32] = "na", per_conn[32] = "na", r0[32] = "na", r1[32] = "na";
  if (rss0 >= 0 && rss1 >= 0) {
    snprintf(r0, sizeof r0, "%ld", rss0);
    snprintf(r1, sizeof r1, "%ld", rss1);
    snprintf(growth, sizeof growth, "%ld", rss1 - rss0);
    if (held > base)
      snprintf(per_conn, sizeof per_conn, "%.0f", (double)(rss1 - rss0) * 1024.0 / (held - base));
  }
  printf("RESULT mode=idle conns=%d base=%d held=%d%s open_s=%.3f server_rss0_kib=%s server_rss1_kib=%s "
         "server_rss_growth_kib=%s bytes_per_conn=%s errors=%llu\n",
         o->conns, base, held,
         o->deflate == LG_DEFLATE_OFF          ? ""
         : o->deflate == LG_DEFLATE_TAKEOVER ? " deflate=takeover"
                                             : " deflate=no-takeover", open_s, r0, r1, growth, per_conn, (unsigned long long)lg_errors());
  fflush(stdout);
  free(conns);
  close(ep);
  return lg_errors() || held != o->conns ? 1 : 0;
}
