/* loadgen.h - wsc-loadgen, the echo-server load generator (bench/loadgen*.c).
 *
 * One thread, Linux epoll on non-blocking loopback sockets, its own client
 * handshake. It must cost much less per message than the servers it drives,
 * so frames are pre-built (a fixed random mask per connection: the server
 * unmasks whatever the key), K frames go out in one writev, reads are large
 * and shared by all connections, and the server's frames are parsed and
 * verified incrementally without copying.
 *
 * Modes (see usage() in loadgen.c): echo, idle, handshake. Each prints one
 * `RESULT mode=... key=value ...` line on stdout and exits non-zero when any
 * echoed byte, frame or handshake was wrong.
 */
#ifndef WSC_BENCH_LOADGEN_H
#define WSC_BENCH_LOADGEN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "proto/pmd.h"

/* ---- options -------------------------------------------------------------- */

typedef struct lg_opts {
  const char *mode;  /* "echo", "idle" or "handshake" */
  int port;          /* on 127.0.0.1 */
  const char *path;  /* request target, "/" */
  int conns;         /* -c: connections (concurrent ones for handshake) */
  int inflight;      /* -k: messages in flight per connection (echo) */
  size_t size;       /* -s: payload bytes per message (echo) */
  double seconds;    /* -d: measured seconds (echo, handshake) */
  double warmup;     /* -w: seconds run before measuring (echo, handshake) */
  double hold;       /* --hold: seconds the idle connections stay open */
  int base;          /* --base: idle connections opened before the baseline RSS */
  int text;          /* --text: text messages (ASCII unless utf8) */
  int utf8;          /* --utf8: text messages of multi-byte UTF-8 */
  int json;          /* --payload json: text messages of JSON-like records (see loadgen_json.c) */
  int deflate;       /* --deflate: LG_DEFLATE_OFF, _TAKEOVER or _NO_TAKEOVER */
  int level;         /* --deflate-level: zlib level of the generator's compressor */
  pid_t server_pid;  /* --server-pid: read its CPU time and RSS (0: none) */
  int max_errors;    /* error lines printed before going quiet */
} lg_opts;

enum { LG_DEFLATE_OFF, LG_DEFLATE_TAKEOVER, LG_DEFLATE_NO_TAKEOVER };

/* ---- time, CPU, memory ------------------------------------------------------ */

/* Monotonic nanoseconds. */
uint64_t lg_now_ns(void);
/* This process's user+system CPU time in nanoseconds (getrusage). */
uint64_t lg_self_cpu_ns(void);
/* pid's utime+stime from /proc/PID/stat in nanoseconds, or -1 if unreadable. */
int64_t lg_proc_cpu_ns(pid_t pid);
/* pid's VmRSS from /proc/PID/status in KiB, or -1 if unreadable. */
long lg_proc_rss_kib(pid_t pid);

/* ---- errors ------------------------------------------------------------------ */

/* Count one error and print it to stderr (the first opts->max_errors only).
 * Returns nothing; the count is lg_errors(). */
void lg_error(int conn_id, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Errors counted so far. */
uint64_t lg_errors(void);

/* ---- latency histogram (log-linear buckets, ~1.6 % precision) -------------- */

#define LG_HIST_SUB_BITS 6
#define LG_HIST_BUCKETS ((64 - LG_HIST_SUB_BITS + 1) << LG_HIST_SUB_BITS)

typedef struct lg_hist {
  uint64_t count;
  uint64_t max;
  uint64_t bucket[LG_HIST_BUCKETS];
} lg_hist;

/* Record one value (nanoseconds). */
void lg_hist_add(lg_hist *h, uint64_t v);
/* The value at quantile q (0..1): the middle of the bucket holding it; 0 when
 * the histogram is empty. */
uint64_t lg_hist_quantile(const lg_hist *h, double q);

/* ---- connections ---------------------------------------------------------------- */

typedef enum lg_state {
  LG_CONNECTING, /* connect() in progress */
  LG_REQUEST,    /* writing the upgrade request */
  LG_RESPONSE,   /* reading the 101 response */
  LG_OPEN,       /* handshake done */
  LG_CLOSING,    /* Close frame sent, reading until EOF (handshake mode) */
  LG_DEAD        /* closed */
} lg_state;

#define LG_HS_BUF 1024 /* request out, then response in */
#define LG_HEAD_STRIDE 48 /* one pre-built frame head: header + mask + payload up to the sequence's end */
#define LG_SEQ_LEN 16     /* the sequence number: 16 hex digits at the start of the payload */
#define LG_JSON_SEQ_OFF 8 /* with --payload json, after `{"seq":"` */

struct lg_zs;

typedef struct lg_conn {
  int fd;
  int id;
  lg_state state;
  uint32_t events;          /* what epoll watches now */
  uint64_t t_start;         /* when connect() was called */
  uint64_t deadline;        /* for the handshake / close */
  uint8_t mask[4];
  char accept[32];          /* expected Sec-WebSocket-Accept */
  char hs[LG_HS_BUF];
  size_t hs_len, hs_off;
  uint8_t deflate;           /* permessage-deflate offered (LG_DEFLATE_*) */
  uint8_t pmd;               /* ... and accepted: pmd_params is the agreement */
  wsc__pmd_params pmd_params;
  struct lg_zs *zs;          /* zlib streams once open with pmd (loadgen_deflate.c) */

  /* echo: frame parser of the server's (unmasked) frames */
  uint8_t hdr[14];
  uint8_t hdr_len;           /* header bytes collected */
  uint8_t in_frame;          /* header complete, payload_left to read */
  uint8_t frame_opcode;      /* of the frame being read */
  uint8_t frame_fin;
  uint8_t in_msg;            /* inside a fragmented message */
  uint8_t msg_bad;           /* this message already counted as an error */
  uint64_t payload_left;     /* of the frame being read */
  uint64_t msg_off;          /* payload bytes of the message seen so far */
  uint8_t msg_comp;          /* the message being received is compressed (RSV1) */

  /* echo: sending */
  uint64_t next_send;        /* sequence number of the next frame queued */
  uint64_t next_recv;        /* sequence number of the next echo expected */
  uint64_t wseq;             /* first frame not yet fully written */
  size_t woff;               /* bytes of frame wseq already written */
  uint64_t *sent_ns;         /* [inflight] queue time by seq % inflight */
  uint8_t *heads;            /* [inflight * LG_HEAD_STRIDE] pre-built heads */
  uint8_t *expect;           /* [size] unmasked payload; [0,16) = next_recv */
  uint8_t *masked;           /* [size] masked payload template (after the sequence: sent) */
  /* echo with --deflate: compressed frames queued, not yet written */
  uint8_t *wbuf;
  size_t wcap, wlen, wpos;
} lg_conn;

/* Raise RLIMIT_NOFILE's soft limit to its hard limit. */
void lg_raise_nofile(void);
/* Create the epoll instance. Returns its fd or -1. */
int lg_epoll(void);
/* Start a non-blocking connect of c to 127.0.0.1:port and register it with
 * epoll for EPOLLOUT; fills the request and the expected accept key. Returns
 * 0, or -1 after lg_error(). */
int lg_conn_start(int ep, lg_conn *c, const lg_opts *o);
/* Advance c's handshake on an epoll event. Returns 1 when the handshake just
 * completed (c->state is LG_OPEN; bytes that followed the response are in
 * c->hs[c->hs_off, c->hs_len)), 0 when more is needed, -1 after lg_error()
 * (c is closed). */
int lg_conn_handshake(int ep, lg_conn *c, uint32_t events);
/* Change what epoll watches for c (no call when unchanged). */
void lg_conn_watch(int ep, lg_conn *c, uint32_t events);
/* Close c's socket (LG_DEAD); with a Close frame first when send_close. */
void lg_conn_close(lg_conn *c, int send_close);

/* ---- payloads (loadgen_json.c) --------------------------------------------- */

/* Fill p[0, n) (n >= 64) with JSON-like text: `{"seq":"<16 hex digits>",
 * "records":[...]}` padded with spaces to exactly n bytes, records of a chat /
 * dashboard feed (repeated keys, values drawn from seed). The sequence digits
 * are zeros; the caller writes them at LG_JSON_SEQ_OFF. */
void lg_json_fill(uint8_t *p, size_t n, uint32_t seed);

/* ---- permessage-deflate (loadgen_deflate.c) ----------------------------------- */

/* The offer for mode (LG_DEFLATE_TAKEOVER or _NO_TAKEOVER): client_max_window_bits
 * with no value, and for no-takeover both no_context_takeover parameters. */
void lg_pmd_offer(int mode, wsc__pmd_offer *o);
/* zlib streams for an agreement: a compressor with the client's window and
 * level, an inflater with a 32 KiB window (any server window fits). NULL when
 * out of memory. Reused for every message (reset, not reallocated, when there
 * is no context takeover). */
struct lg_zs *lg_zs_new(const wsc__pmd_params *p, int level);
void lg_zs_free(struct lg_zs *z);
/* Output room lg_zs_compress needs for n input bytes. */
size_t lg_zs_bound(size_t n);
/* Compress a whole message in[0, n) into out (cap >= lg_zs_bound(n)), the
 * trailing 00 00 ff ff removed (RFC 7692 section 7.2.1). Returns the length,
 * or -1 (zlib failed). */
long lg_zs_compress(struct lg_zs *z, const uint8_t *in, size_t n, uint8_t *out, size_t cap);
/* Inflate the next piece *in[0, *n) of a compressed message (advancing both)
 * into out[0, cap), *got = bytes written; with end (the message's last
 * frame, all of it handed in) the 00 00 ff ff tail is fed after it. Returns 1
 * when called again it may produce more, 0 when the piece (and with end, the
 * message) is done, -1 on invalid data (*why says what). */
int lg_zs_inflate(struct lg_zs *z, const uint8_t **in, size_t *n, int end, uint8_t *out, size_t cap,
                  size_t *got, const char **why);

/* ---- modes --------------------------------------------------------------------- */

/* Each returns the process exit status (0: no error) after printing RESULT. */
int lg_run_echo(const lg_opts *o);
int lg_run_idle(const lg_opts *o);
int lg_run_handshake(const lg_opts *o);

#endif
