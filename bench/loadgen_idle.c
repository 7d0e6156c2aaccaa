/* loadgen_idle.c - wsc-loadgen idle mode: open N WebSocket connections, hold
 * them without traffic, and report how much the server's resident memory grew
 * (with --server-pid), i.e. what an idle connection costs the server. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "loadgen.h"

#define MAX_PENDING_OPENS 128
#define SETTLE_NS 500000000ull /* let the server finish its bookkeeping before reading RSS */

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
  if (ep < 0 || !conns) {
    fprintf(stderr, "wsc-loadgen: out of memory\n");
    return 2;
  }
  long rss0 = lg_proc_rss_kib(o->server_pid);
  uint64_t t0 = lg_now_ns();
  uint64_t deadline = t0 + 20000000000ull + (uint64_t)o->conns * 5000000ull;
  uint64_t t_open = 0, t_settled = 0, t_release = 0;
  long rss1 = -1;
  int started = 0, pending = 0, open = 0, dead = 0;
  struct epoll_event evs[256];

  for (;;) {
    while (pending < MAX_PENDING_OPENS && started < o->conns) {
      lg_conn *c = &conns[started];
      c->id = started++;
      if (lg_conn_start(ep, c, o) == 0) pending++;
      else dead++;
    }
    uint64_t now = lg_now_ns();
    if (!t_open && open + dead == o->conns) {
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
      } else {
        drain(c);
        if (c->state == LG_DEAD) open--, dead++;
      }
    }
  }
  int held = open;
  for (int i = 0; i < o->conns; i++) lg_conn_close(&conns[i], 1);
  double open_s = t_open ? (double)(t_open - t0) / 1e9 : 0;
  char growth[32] = "na", per_conn[32] = "na", r0[32] = "na", r1[32] = "na";
  if (rss0 >= 0 && rss1 >= 0) {
    snprintf(r0, sizeof r0, "%ld", rss0);
    snprintf(r1, sizeof r1, "%ld", rss1);
    snprintf(growth, sizeof growth, "%ld", rss1 - rss0);
    if (held > 0) snprintf(per_conn, sizeof per_conn, "%.0f", (double)(rss1 - rss0) * 1024.0 / held);
  }
  printf("RESULT mode=idle conns=%d held=%d open_s=%.3f server_rss0_kib=%s server_rss1_kib=%s "
         "server_rss_growth_kib=%s bytes_per_conn=%s errors=%llu\n",
         o->conns, held, open_s, r0, r1, growth, per_conn, (unsigned long long)lg_errors());
  fflush(stdout);
  free(conns);
  close(ep);
  return lg_errors() || held != o->conns ? 1 : 0;
}
