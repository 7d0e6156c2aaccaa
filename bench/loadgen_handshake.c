/* loadgen_handshake.c - wsc-loadgen handshake mode: C loops, each connects,
 * upgrades (101 and Sec-WebSocket-Accept checked), sends Close 1000, reads
 * the server's Close and waits for its EOF, then starts over. Counts complete
 * cycles per second; the latency is connect() to the 101.
 *
 * The server closes TCP first (RFC 6455 section 7.1.1), so TIME_WAIT stays on
 * the server's side and the client's ephemeral ports are not exhausted. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "loadgen.h"

#define CYCLE_TIMEOUT_NS 5000000000ull /* one connect-upgrade-close cycle */

typedef struct hs_run {
  int ep;
  int measuring;
  uint64_t cycles, resets;
  lg_hist hist;
} hs_run;

/* After the 101: send a masked Close 1000 and wait for the server's. */
static void start_close(hs_run *r, lg_conn *c) {
  uint8_t f[8] = {0x88, 0x82, c->mask[0], c->mask[1], c->mask[2], c->mask[3],
                  (uint8_t)(0x03 ^ c->mask[0]), (uint8_t)(0xE8 ^ c->mask[1])};
  ssize_t n = send(c->fd, f, sizeof f, MSG_NOSIGNAL);
  if (n != (ssize_t)sizeof f) { /* 8 bytes into an empty socket buffer: cannot be short */
    lg_error(c->id, "sending Close: %s", n < 0 ? strerror(errno) : "short write");
    lg_conn_close(c, 0);
    return;
  }
  c->state = LG_CLOSING;
  c->msg_off = 0; /* bytes received since the 101 */
  lg_conn_watch(r->ep, c, EPOLLIN);
}

/* Bytes of the server's closing: the first must start a Close frame. Returns
 * 1 when the cycle is complete (EOF), 0 for more, -1 after an error. */
static int closing_bytes(lg_conn *c, const uint8_t *p, size_t n) {
  if (n > 0 && c->msg_off == 0 && p[0] != 0x88) {
    lg_error(c->id, "the server answered Close with a frame of opcode %u", p[0] & 0x0f);
    return -1;
  }
  c->msg_off += n;
  return 0;
}

/* c is readable while closing. Returns 1 when done, 0 for more, -1 error. */
static int on_closing(hs_run *r, lg_conn *c) {
  uint8_t buf[256];
  for (int i = 0; i < 16; i++) {
    ssize_t n = recv(c->fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return 0;
    if (n < 0 && errno == ECONNRESET) {
      r->resets += r->measuring;
      return 1;
    }
    if (n < 0) {
      lg_error(c->id, "reading the Close: %s", strerror(errno));
      return -1;
    }
    if (n == 0) {
      if (c->msg_off == 0) {
        lg_error(c->id, "EOF without a Close frame");
        return -1;
      }
      return 1;
    }
    if (closing_bytes(c, buf, (size_t)n) != 0) return -1;
  }
  return 0;
}

int lg_run_handshake(const lg_opts *o) {
  hs_run r = {.ep = lg_epoll()};
  lg_conn *conns = calloc((size_t)o->conns, sizeof *conns);
  if (r.ep < 0 || !conns) {
    fprintf(stderr, "wsc-loadgen: out of memory\n");
    return 2;
  }
  uint64_t t0 = lg_now_ns();
  uint64_t t_measure = t0 + (uint64_t)(o->warmup * 1e9);
  uint64_t t_end = t_measure + (uint64_t)(o->seconds * 1e9);
  uint64_t tm0 = 0, self0 = 0;
  int64_t srv0 = -1;
  struct epoll_event evs[256];

  for (int i = 0; i < o->conns; i++) {
    conns[i].id = i;
    conns[i].fd = -1;
    conns[i].state = LG_DEAD;
  }
  for (;;) {
    uint64_t now = lg_now_ns();
    if (!r.measuring && now >= t_measure) {
      r.measuring = 1;
      tm0 = now;
      self0 = lg_self_cpu_ns();
      srv0 = lg_proc_cpu_ns(o->server_pid);
    }
    if (now >= t_end) break;
    /* (Re)start idle slots; time out stuck ones. Too many errors: stop. */
    if (lg_errors() > 100) break;
    for (int i = 0; i < o->conns; i++) {
      lg_conn *c = &conns[i];
      if (c->state != LG_DEAD && now - c->t_start > CYCLE_TIMEOUT_NS) {
        lg_error(c->id, "connect-upgrade-close took over 5 s (state %d)", (int)c->state);
        lg_conn_close(c, 0);
      }
      if (c->state == LG_DEAD) lg_conn_start(r.ep, c, o);
    }
    int n = epoll_wait(r.ep, evs, 256, 10);
    if (n < 0 && errno != EINTR) {
      perror("wsc-loadgen: epoll_wait");
      break;
    }
    for (int i = 0; i < n; i++) {
      lg_conn *c = evs[i].data.ptr;
      if (c->state == LG_DEAD) continue;
      if (c->state == LG_CLOSING) {
        int rc = on_closing(&r, c);
        if (rc == 0) continue;
        if (rc > 0 && r.measuring) r.cycles++;
        lg_conn_close(c, 0);
        if (rc > 0 && lg_now_ns() < t_end) lg_conn_start(r.ep, c, o);
        continue;
      }
      int rc = lg_conn_handshake(r.ep, c, evs[i].events);
      if (rc <= 0) continue;
      if (r.measuring) lg_hist_add(&r.hist, lg_now_ns() - c->t_start);
      if (c->hs_len > c->hs_off) {
        lg_error(c->id, "data before any message was sent");
        lg_conn_close(c, 0);
        continue;
      }
      start_close(&r, c);
    }
  }
  uint64_t tm1 = lg_now_ns();
  uint64_t self1 = lg_self_cpu_ns();
  int64_t srv1 = lg_proc_cpu_ns(o->server_pid);
  for (int i = 0; i < o->conns; i++) lg_conn_close(&conns[i], 0);

  double secs = r.measuring ? (double)(tm1 - tm0) / 1e9 : 0;
  char srv_pct[32] = "na", srv_us[32] = "na";
  if (r.measuring && srv0 >= 0 && srv1 >= srv0 && secs > 0) {
    snprintf(srv_pct, sizeof srv_pct, "%.1f", (double)(srv1 - srv0) / (secs * 1e9) * 100);
    if (r.cycles)
      snprintf(srv_us, sizeof srv_us, "%.1f", (double)(srv1 - srv0) / 1e3 / (double)r.cycles);
  }
  printf("RESULT mode=handshake conns=%d seconds=%.3f handshakes=%llu hs_per_s=%.0f "
         "p50_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f resets=%llu gen_cpu_pct=%.1f "
         "server_cpu_pct=%s server_us_per_hs=%s errors=%llu\n",
         o->conns, secs, (unsigned long long)r.cycles, secs > 0 ? (double)r.cycles / secs : 0,
         (double)lg_hist_quantile(&r.hist, 0.50) / 1e3, (double)lg_hist_quantile(&r.hist, 0.99) / 1e3,
         (double)lg_hist_quantile(&r.hist, 0.999) / 1e3, (double)r.hist.max / 1e3,
         (unsigned long long)r.resets,
         secs > 0 ? (double)(self1 - self0) / (secs * 1e9) * 100 : 0, srv_pct, srv_us,
         (unsigned long long)lg_errors());
  fflush(stdout);
  free(conns);
  close(r.ep);
  return lg_errors() || r.cycles == 0 ? 1 : 0;
}
