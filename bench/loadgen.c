/* loadgen.c - wsc-loadgen: options, clocks, /proc readers, error counting.
 * The modes are in loadgen_echo.c, loadgen_idle.c and loadgen_handshake.c;
 * connections and the client handshake in loadgen_conn.c. */
#include "loadgen.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static uint64_t error_count;
static int error_print_limit = 10;

uint64_t lg_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t lg_self_cpu_ns(void) {
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
  return ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) * 1000000000u +
         ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000u;
}

/* Read /proc/<pid>/<name> into buf (NUL-terminated). Returns the length or -1. */
static ssize_t read_proc(pid_t pid, const char *name, char *buf, size_t size) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%ld/%s", (long)pid, name);
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  size_t n = fread(buf, 1, size - 1, f);
  fclose(f);
  buf[n] = '\0';
  return (ssize_t)n;
}

int64_t lg_proc_cpu_ns(pid_t pid) {
  char buf[1024];
  if (pid <= 0 || read_proc(pid, "stat", buf, sizeof buf) < 0) return -1;
  /* The command name may hold spaces and parentheses: fields restart after
   * the last ')'. Then: state(3) ... utime(14) stime(15). */
  char *p = strrchr(buf, ')');
  if (!p) return -1;
  p++;
  unsigned long long utime = 0, stime = 0;
  int field = 2;
  char *save = NULL;
  for (char *tok = strtok_r(p, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
    field++;
    if (field == 14) utime = strtoull(tok, NULL, 10);
    if (field == 15) {
      stime = strtoull(tok, NULL, 10);
      break;
    }
  }
  if (field != 15) return -1;
  long hz = sysconf(_SC_CLK_TCK);
  if (hz <= 0) hz = 100;
  return (int64_t)((utime + stime) * (1000000000ull / (unsigned long long)hz));
}

long lg_proc_rss_kib(pid_t pid) {
  char buf[4096];
  if (pid <= 0 || read_proc(pid, "status", buf, sizeof buf) < 0) return -1;
  const char *p = strstr(buf, "VmRSS:");
  if (!p) return -1;
  return strtol(p + 6, NULL, 10);
}

void lg_error(int conn_id, const char *fmt, ...) {
  error_count++;
  if (error_count > (uint64_t)error_print_limit) return;
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "wsc-loadgen: conn %d: ", conn_id);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  if (error_count == (uint64_t)error_print_limit) fprintf(stderr, "wsc-loadgen: (further errors not shown)\n");
}

uint64_t lg_errors(void) { return error_count; }

void lg_raise_nofile(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

/* ---- histogram ------------------------------------------------------------ */

/* Bucket of v: values below 2^SUB exactly, then 2^SUB sub-buckets per power
 * of two (the HdrHistogram layout). */
static unsigned hist_index(uint64_t v) {
  if (v < (1u << LG_HIST_SUB_BITS)) return (unsigned)v;
  unsigned e = 63u - (unsigned)__builtin_clzll(v); /* >= SUB */
  unsigned sub = (unsigned)(v >> (e - LG_HIST_SUB_BITS)) & ((1u << LG_HIST_SUB_BITS) - 1);
  return ((e - LG_HIST_SUB_BITS + 1) << LG_HIST_SUB_BITS) + sub;
}

/* The middle of bucket i. */
static uint64_t hist_value(unsigned i) {
  if (i < (1u << LG_HIST_SUB_BITS)) return i;
  unsigned e = (i >> LG_HIST_SUB_BITS) + LG_HIST_SUB_BITS - 1;
  uint64_t sub = i & ((1u << LG_HIST_SUB_BITS) - 1);
  uint64_t lo = (1ull << e) + (sub << (e - LG_HIST_SUB_BITS));
  return lo + (1ull << (e - LG_HIST_SUB_BITS)) / 2;
}

void lg_hist_add(lg_hist *h, uint64_t v) {
  h->bucket[hist_index(v)]++;
  h->count++;
  if (v > h->max) h->max = v;
}

uint64_t lg_hist_quantile(const lg_hist *h, double q) {
  if (h->count == 0) return 0;
  uint64_t rank = (uint64_t)(q * (double)h->count);
  if (rank >= h->count) rank = h->count - 1;
  uint64_t seen = 0;
  for (unsigned i = 0; i < LG_HIST_BUCKETS; i++) {
    seen += h->bucket[i];
    if (seen > rank) {
      uint64_t v = hist_value(i);
      return v > h->max ? h->max : v;
    }
  }
  return h->max;
}

/* ---- options ---------------------------------------------------------------- */

static void usage(FILE *f) {
  fputs("usage: wsc-loadgen MODE -p PORT [options]    (connects to 127.0.0.1 only)\n"
        "  echo       -c N connections, -k K messages in flight each, -s S payload bytes\n"
        "             (>= 16: a 16-hex-digit sequence number, then a pattern), -d seconds\n"
        "             measured after -w seconds of warm-up; --text (ASCII text) or --utf8\n"
        "             (multi-byte UTF-8 text). Every echoed byte is checked.\n"
        "             --payload json: 4 KiB-style JSON records as text (-s >= 64).\n"
        "  idle       open -c N connections (handshakes done), print `ALL_OPEN`, hold them\n"
        "             --hold seconds, close. With --server-pid, the server's VmRSS growth.\n"
        "             --base B: open B connections first and take the baseline RSS then, so\n"
        "             the figure is the cost of the other N-B (one-time costs excluded).\n"
        "  handshake  -c C concurrent loops of connect, upgrade, Close, wait for EOF,\n"
        "             for -d seconds after -w seconds of warm-up.\n"
        "  --server-pid PID   also report the server's CPU time over the measured window\n"
        "  --path /P          request target (default /)\n"
        "  --deflate [takeover|no-takeover]   (echo, idle) offer permessage-deflate (no-takeover:\n"
        "             client_ and server_no_context_takeover); fail if the server declines.\n"
        "             Messages are compressed and the echoes inflated and checked; echo\n"
        "             reports tx_ratio/rx_ratio (payload / compressed bytes); idle first\n"
        "             exchanges one compressed -s byte message on every connection.\n"
        "  --deflate-level N  zlib level of the generator's compressor (default 6)\n"
        "Prints one `RESULT mode=...` line; exits 1 on any verification error.\n",
        f);
}

/* Parse a non-negative number with optional fraction. Returns 0 or -1. */
static int parse_double(const char *s, double *out) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || end == s || *end || !(v >= 0) || v > 1e7) return -1;
  *out = v;
  return 0;
}

/* Parse an integer in [lo, hi]. Returns 0 or -1. */
static int parse_long(const char *s, long lo, long hi, long *out) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || end == s || *end || v < lo || v > hi) return -1;
  *out = v;
  return 0;
}

int main(int argc, char **argv) {
  lg_opts o = {
      .mode = NULL, .port = 0, .path = "/", .conns = 10, .inflight = 1, .size = 32,
      .seconds = 5, .warmup = 1, .hold = 3, .max_errors = 10, .level = 6,
  };
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    long n;
    double d;
    int used = 1; /* consumed v */
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      usage(stdout);
      return 0;
    } else if (strcmp(a, "--text") == 0) {
      o.text = 1, used = 0;
    } else if (strcmp(a, "--utf8") == 0) {
      o.text = o.utf8 = 1, used = 0;
    } else if (strcmp(a, "--deflate") == 0) {
      /* optional value */
      o.deflate = LG_DEFLATE_TAKEOVER, used = 0;
      if (v && strcmp(v, "takeover") == 0) {
        used = 1;
      } else if (v && strcmp(v, "no-takeover") == 0) {
        o.deflate = LG_DEFLATE_NO_TAKEOVER, used = 1;
      }
    } else if (!v && a[0] == '-') {
      fprintf(stderr, "wsc-loadgen: %s needs a value\n", a);
      return 2;
    } else if (strcmp(a, "-p") == 0 || strcmp(a, "--port") == 0) {
      if (parse_long(v, 1, 65535, &n)) goto bad;
      o.port = (int)n;
    } else if (strcmp(a, "-c") == 0) {
      if (parse_long(v, 1, 1000000, &n)) goto bad;
      o.conns = (int)n;
    } else if (strcmp(a, "-k") == 0) {
      if (parse_long(v, 1, 4096, &n)) goto bad;
      o.inflight = (int)n;
    } else if (strcmp(a, "-s") == 0) {
      if (parse_long(v, LG_SEQ_LEN, 256L * 1024 * 1024, &n)) goto bad;
      o.size = (size_t)n;
    } else if (strcmp(a, "-d") == 0) {
      if (parse_double(v, &d) || d <= 0) goto bad;
      o.seconds = d;
    } else if (strcmp(a, "-w") == 0) {
      if (parse_double(v, &d)) goto bad;
      o.warmup = d;
    } else if (strcmp(a, "--hold") == 0) {
      if (parse_double(v, &d)) goto bad;
      o.hold = d;
    } else if (strcmp(a, "--base") == 0) {
      if (parse_long(v, 0, INT_MAX, &n)) goto bad;
      o.base = (int)n;
    } else if (strcmp(a, "--server-pid") == 0) {
      if (parse_long(v, 1, INT_MAX, &n)) goto bad;
      o.server_pid = (pid_t)n;
    } else if (strcmp(a, "--deflate-level") == 0) {
      if (parse_long(v, 0, 9, &n)) goto bad;
      o.level = (int)n;
    } else if (strcmp(a, "--payload") == 0) {
      if (strcmp(v, "json") == 0) o.json = o.text = 1;
      else if (strcmp(v, "pattern") != 0) goto bad;
    } else if (strcmp(a, "--path") == 0) {
      if (v[0] != '/' || strlen(v) > 200 || strpbrk(v, " \r\n")) goto bad;
      o.path = v;
    } else if (a[0] != '-' && !o.mode) {
      o.mode = a, used = 0;
    } else {
      fprintf(stderr, "wsc-loadgen: unknown argument %s\n", a);
      usage(stderr);
      return 2;
    }
    i += used;
    continue;
  bad:
    fprintf(stderr, "wsc-loadgen: bad value for %s: %s\n", a, v);
    return 2;
  }
  if (!o.mode || !o.port) {
    usage(stderr);
    return 2;
  }
  if (o.json && (o.utf8 || o.size < 64)) {
    fprintf(stderr, "wsc-loadgen: --payload json needs -s >= 64 and no --utf8\n");
    return 2;
  }
  error_print_limit = o.max_errors;
  lg_raise_nofile();
  if (strcmp(o.mode, "echo") == 0) return lg_run_echo(&o);
  if (strcmp(o.mode, "idle") == 0) return lg_run_idle(&o);
  if (strcmp(o.mode, "handshake") == 0) return lg_run_handshake(&o);
  fprintf(stderr, "wsc-loadgen: unknown mode %s\n", o.mode);
  return 2;
}
