/* loadgen_echo.c - wsc-loadgen echo mode: N connections keep K messages of S
 * bytes in flight each; every echoed byte is compared with what was sent.
 *
 * Message i of a connection carries i as 16 hex digits, then the
 * connection's pattern (random bytes, printable ASCII, or multi-byte UTF-8).
 * Frames are pre-built: the masked pattern is computed once per connection
 * and each frame is a 30-byte head (header, mask key, masked sequence number)
 * plus that shared tail, sent K at a time with writev. Echoes arrive in order
 * on a connection, so the expected message is always the pattern with the
 * next sequence number: one memcmp per received piece, no copy. A connection
 * is refilled to K in flight once at most K/2 remain (see top_up).
 *
 * --payload json: the pattern is JSON-like text (loadgen_json.c) and the
 * sequence number sits inside it, at LG_JSON_SEQ_OFF; the head then carries
 * the payload up to the sequence's end.
 *
 * --deflate: messages must differ from each other, or context takeover would
 * compress each to a reference to the last one. A pool of distinct messages
 * (shared by all connections) is drawn from in turn, each with its sequence
 * number; every message is compressed on its own (zlib stream per
 * connection, reused), masked into the connection's send buffer and written
 * from there. Echoes with RSV1 are inflated piece by piece into one shared
 * buffer and compared with the expected message as they come. Nothing is
 * allocated per message. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "loadgen.h"
#include "proto/frame.h"
#include "proto/mask.h"

#define MAX_PENDING_OPENS 128 /* handshakes in progress at once */
#define RBUF_SIZE (256 * 1024)
#define MAX_READS_PER_EVENT 8
#define IOV_BATCH 512
#define IBUF_SIZE 16384             /* inflated output compared per step */
#define POOL_BYTES (4u << 20)       /* --deflate: at most this much of distinct messages */
#define POOL_MAX 256                /* ... and at most this many */
#define MAX_FRAME_HEAD 14           /* 10-byte header + mask key */

typedef struct echo_run {
  const lg_opts *o;
  int ep;
  lg_conn *conns;
  uint8_t opcode;     /* 1 text, 2 binary */
  size_t hdr_size;    /* 2, 4 or 10 */
  size_t seq_off;     /* where the sequence number is in the payload */
  size_t pre;         /* seq_off + LG_SEQ_LEN: payload bytes carried by each head */
  size_t head_len;    /* hdr_size + 4 + pre */
  size_t frame_len;   /* head_len + size - pre */
  int sending;        /* new messages may be queued */
  int measuring;      /* completed messages count */
  uint64_t msgs;
  uint64_t bytes;
  lg_hist hist;
  uint8_t *rbuf;
  /* --deflate */
  uint8_t *pool;      /* [pool_n * size] distinct messages */
  size_t pool_n;
  uint8_t *msg;       /* [size] the message being compressed */
  uint8_t *zout;      /* [zcap] its compressed form */
  size_t zcap;
  uint8_t *ibuf;      /* [IBUF_SIZE] inflated echo being compared */
  uint64_t tx_payload, tx_wire; /* compressed messages sent: payload and wire bytes */
  uint64_t rx_payload, rx_wire; /* ... and received */
} echo_run;

/* Write seq as 16 lowercase hex digits to out. */
static void put_seq(uint8_t *out, uint64_t seq) {
  static const char hex[] = "0123456789abcdef";
  for (int i = LG_SEQ_LEN - 1; i >= 0; i--, seq >>= 4) out[i] = (uint8_t)hex[seq & 15];
}

/* Fill p[0, n) with the connection's pattern: random bytes (binary), printable
 * ASCII (text) or a mix of 1- to 4-byte UTF-8 characters of exactly n bytes. */
static void fill_pattern(uint8_t *p, size_t n, uint32_t seed, int text, int utf8) {
  static const char *const pieces[] = {"a", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9d\x84\x9e",
                                       "\xd0\x96", "\xe4\xb8\xad", " ", "\xf0\x9f\x98\x80"};
  uint32_t x = seed * 2654435761u + 1;
  size_t i = 0;
  while (i < n) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    if (utf8) {
      const char *s = pieces[x % 8];
      size_t len = strlen(s);
      if (len > n - i) s = "z", len = 1;
      memcpy(p + i, s, len);
      i += len;
    } else {
      p[i++] = text ? (uint8_t)(0x20 + x % 95) : (uint8_t)(x >> 7);
    }
  }
}

/* --deflate: the pool message c sends as its message seq (without the
 * sequence number). */
static const uint8_t *pool_msg(const echo_run *r, const lg_conn *c, uint64_t seq) {
  return r->pool + (size_t)((seq + (uint64_t)c->id * 7u) % r->pool_n) * r->o->size;
}

/* c->expect becomes message seq. */
static void expect_msg(const echo_run *r, lg_conn *c, uint64_t seq) {
  if (r->pool) memcpy(c->expect, pool_msg(r, c, seq), r->o->size);
  put_seq(c->expect + r->seq_off, seq);
}

/* The pre-built head of frame seq (its slot is seq % inflight). */
static uint8_t *head_of(const echo_run *r, lg_conn *c, uint64_t seq) {
  return c->heads + (size_t)(seq % (uint64_t)r->o->inflight) * LG_HEAD_STRIDE;
}

/* Allocate c's buffers and build its pattern and masked template. Returns 0
 * or -1. */
static int echo_conn_init(echo_run *r, lg_conn *c) {
  size_t k = (size_t)r->o->inflight, s = r->o->size;
  c->sent_ns = calloc(k, sizeof *c->sent_ns);
  c->heads = malloc(k * LG_HEAD_STRIDE);
  c->expect = malloc(s);
  c->masked = malloc(s);
  if (!c->sent_ns || !c->heads || !c->expect || !c->masked) return -1;
  if (r->pool) {
    c->wcap = k * (r->zcap + MAX_FRAME_HEAD);
    c->wbuf = malloc(c->wcap);
    if (!c->wbuf) return -1;
  } else if (r->o->json) {
    lg_json_fill(c->expect, s, (uint32_t)c->id + 1);
  } else {
    fill_pattern(c->expect + LG_SEQ_LEN, s - LG_SEQ_LEN, (uint32_t)c->id + 1, r->o->text, r->o->utf8);
  }
  expect_msg(r, c, 0);
  return 0;
}

/* Once the mask is known (lg_conn_start draws it): the masked tail. */
static void echo_conn_mask(echo_run *r, lg_conn *c) {
  for (size_t i = r->pre; i < r->o->size; i++) c->masked[i] = c->expect[i] ^ c->mask[i & 3];
}

/* Queue the next message of c: build its head in its slot and stamp it. */
static void queue_one(echo_run *r, lg_conn *c, uint64_t now) {
  uint64_t seq = c->next_send++;
  uint8_t *h = head_of(r, c, seq);
  uint64_t len = r->o->size;
  size_t i = wsc__frame_write_header(h, 1, 0, r->opcode, len, c->mask);
  memcpy(h + i, c->expect, r->seq_off);
  put_seq(h + i + r->seq_off, seq);
  for (size_t j = 0; j < r->pre; j++) h[i + j] ^= c->mask[j & 3];
  c->sent_ns[seq % (uint64_t)r->o->inflight] = now;
}

/* --deflate: compress the next message of c and append it, framed with RSV1
 * and masked, to c's send buffer. Returns 0 or -1 after an error (c closed). */
static int queue_compressed(echo_run *r, lg_conn *c, uint64_t now) {
  uint64_t seq = c->next_send++;
  size_t size = r->o->size;
  memcpy(r->msg, pool_msg(r, c, seq), size);
  put_seq(r->msg + r->seq_off, seq);
  long zl = lg_zs_compress(c->zs, r->msg, size, r->zout, r->zcap);
  if (zl < 0) {
    lg_error(c->id, "compressing message %llu failed", (unsigned long long)seq);
    lg_conn_close(c, 0);
    return -1;
  }
  if (c->wpos > 0) { /* drop what was written */
    memmove(c->wbuf, c->wbuf + c->wpos, c->wlen - c->wpos);
    c->wlen -= c->wpos;
    c->wpos = 0;
  }
  uint64_t len = (uint64_t)zl;
  if (c->wlen + MAX_FRAME_HEAD + len > c->wcap) { /* at most K frames of zcap: cannot happen */
    lg_error(c->id, "send buffer overflow");
    lg_conn_close(c, 0);
    return -1;
  }
  uint8_t *h = c->wbuf + c->wlen;
  size_t i = wsc__frame_write_header(h, 1, WSC__RSV1, r->opcode, len, c->mask);
  wsc__mask_copy(h + i, r->zout, (size_t)len, c->mask, 0);
  c->wlen += i + (size_t)len;
  c->sent_ns[seq % (uint64_t)r->o->inflight] = now;
  r->tx_payload += size;
  r->tx_wire += len;
  return 0;
}

/* --deflate: write c's send buffer until done or EAGAIN. Returns 0 or -1
 * after an error (c closed). */
static int flush_compressed(echo_run *r, lg_conn *c) {
  while (c->wpos < c->wlen) {
    ssize_t w = send(c->fd, c->wbuf + c->wpos, c->wlen - c->wpos, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        lg_conn_watch(r->ep, c, EPOLLIN | EPOLLOUT);
        return 0;
      }
      lg_error(c->id, "write: %s", strerror(errno));
      lg_conn_close(c, 0);
      return -1;
    }
    c->wpos += (size_t)w;
  }
  c->wpos = c->wlen = 0;
  lg_conn_watch(r->ep, c, EPOLLIN);
  return 0;
}

/* Write the queued frames of c with writev until done or EAGAIN. Returns 0
 * or -1 after an error (c closed). */
static int flush(echo_run *r, lg_conn *c) {
  if (r->pool) return flush_compressed(r, c);
  struct iovec iov[IOV_BATCH];
  size_t tail_len = r->o->size - r->pre;
  while (c->wseq < c->next_send) {
    int n = 0;
    size_t off = c->woff;
    for (uint64_t s = c->wseq; s < c->next_send && n + 2 <= IOV_BATCH; s++, off = 0) {
      if (off < r->head_len) {
        iov[n].iov_base = head_of(r, c, s) + off;
        iov[n++].iov_len = r->head_len - off;
        off = 0;
      } else {
        off -= r->head_len;
      }
      if (tail_len > off) {
        iov[n].iov_base = c->masked + r->pre + off;
        iov[n++].iov_len = tail_len - off;
      }
    }
    ssize_t w = writev(c->fd, iov, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        lg_conn_watch(r->ep, c, EPOLLIN | EPOLLOUT);
        return 0;
      }
      lg_error(c->id, "write: %s", strerror(errno));
      lg_conn_close(c, 0);
      return -1;
    }
    size_t left = (size_t)w;
    while (left > 0) {
      size_t rem = r->frame_len - c->woff;
      if (left >= rem) {
        left -= rem;
        c->wseq++;
        c->woff = 0;
      } else {
        c->woff += left;
        left = 0;
      }
    }
  }
  lg_conn_watch(r->ep, c, EPOLLIN);
  return 0;
}

/* Once at most K/2 messages are in flight (while sending), queue up to K
 * again, then write: every write carries at least K/2 frames (K when the
 * server answers a burst at once), which keeps the generator's system calls
 * per message well below the server's. */
static int top_up(echo_run *r, lg_conn *c, uint64_t now) {
  uint64_t k = (uint64_t)r->o->inflight;
  if (r->sending && c->next_send - c->next_recv <= k / 2)
    while (c->next_send - c->next_recv < k) {
      if (!r->pool) queue_one(r, c, now);
      else if (queue_compressed(r, c, now) != 0) return -1;
    }
  return flush(r, c);
}

/* A frame header is complete in c->hdr: check it and start its payload.
 * Returns 0, or -1 after a fatal error (c closed). */
static int frame_start(echo_run *r, lg_conn *c) {
  uint8_t b0 = c->hdr[0], b1 = c->hdr[1];
  uint64_t len = b1 & 0x7f;
  if (len == 126) {
    len = ((uint64_t)c->hdr[2] << 8) | c->hdr[3];
  } else if (len == 127) {
    len = 0;
    for (int i = 2; i < 10; i++) len = (len << 8) | c->hdr[i];
  }
  c->frame_fin = b0 >> 7;
  c->frame_opcode = b0 & 0x0f;
  /* RSV1 (compressed) is allowed on the first frame of a data message once
   * permessage-deflate is agreed, nowhere else. */
  uint8_t rsv_ok = c->pmd && (c->frame_opcode == 1 || c->frame_opcode == 2) ? 0x40 : 0;
  if (b0 & 0x70 & ~rsv_ok) {
    lg_error(c->id, "reserved bits set in a frame from the server (0x%02x)", b0);
    goto fatal;
  }
  if (b1 & 0x80) {
    lg_error(c->id, "masked frame from the server");
    goto fatal;
  }
  if (c->frame_opcode >= 8) {
    if (!c->frame_fin || len > 125) {
      lg_error(c->id, "bad control frame (opcode %u, length %llu)", c->frame_opcode,
               (unsigned long long)len);
      goto fatal;
    }
    if (c->frame_opcode == 8) {
      lg_error(c->id, "the server closed the connection (Close frame)");
      goto fatal;
    }
    if (c->frame_opcode != 9 && c->frame_opcode != 10) {
      lg_error(c->id, "unknown control opcode %u", c->frame_opcode);
      goto fatal;
    }
  } else if (c->frame_opcode == 0) {
    if (!c->in_msg) {
      lg_error(c->id, "continuation frame outside a message");
      goto fatal;
    }
  } else if (c->frame_opcode == 1 || c->frame_opcode == 2) {
    if (c->in_msg) {
      lg_error(c->id, "new message inside a fragmented one");
      goto fatal;
    }
    c->in_msg = 1;
    c->msg_off = 0;
    c->msg_bad = 0;
    c->msg_comp = (b0 & 0x40) != 0;
    if (c->frame_opcode != r->opcode) {
      lg_error(c->id, "echo of a %s message came back as %s", r->opcode == 1 ? "text" : "binary",
               r->opcode == 1 ? "binary" : "text");
      c->msg_bad = 1;
    }
    if (c->next_recv >= c->next_send) {
      lg_error(c->id, "an echo of a message that was not sent");
      goto fatal;
    }
  } else {
    lg_error(c->id, "unknown data opcode %u", c->frame_opcode);
    goto fatal;
  }
  if (c->frame_opcode < 8 && c->msg_comp) {
    r->rx_wire += len;
  } else if (c->frame_opcode < 8 && len > r->o->size - c->msg_off) {
    lg_error(c->id, "echo longer than the %zu bytes sent", r->o->size);
    goto fatal;
  }
  c->payload_left = len;
  c->in_frame = 1;
  return 0;
fatal:
  lg_conn_close(c, 0);
  return -1;
}

/* Payload bytes p[0, m) of the message being received (inflated if it was
 * compressed): compare with what was sent. Returns 0 or -1 (c closed). */
static int check_piece(echo_run *r, lg_conn *c, const uint8_t *p, size_t m) {
  if (m > r->o->size - c->msg_off) {
    lg_error(c->id, "echo of message %llu is longer than the %zu bytes sent",
             (unsigned long long)c->next_recv, r->o->size);
    lg_conn_close(c, 0);
    return -1;
  }
  if (!c->msg_bad && memcmp(p, c->expect + c->msg_off, m) != 0) {
    size_t at = 0;
    while (at < m && p[at] == c->expect[c->msg_off + at]) at++;
    lg_error(c->id, "echo of message %llu differs at byte %llu (0x%02x, sent 0x%02x)",
             (unsigned long long)c->next_recv, (unsigned long long)(c->msg_off + at), p[at],
             c->expect[c->msg_off + at]);
    c->msg_bad = 1;
  }
  c->msg_off += m;
  return 0;
}

/* Compressed bytes p[0, m) of the message being received (end: the message
 * is complete, feed the 00 00 ff ff tail): inflate into r->ibuf and check.
 * Bounded: every step either takes input or produces output, and the output
 * may not exceed what was sent. Returns 0 or -1 (c closed). */
static int inflate_piece(echo_run *r, lg_conn *c, const uint8_t *p, size_t m, int end) {
  for (;;) {
    size_t got = 0;
    const char *why = NULL;
    int rc = lg_zs_inflate(c->zs, &p, &m, end, r->ibuf, IBUF_SIZE, &got, &why);
    if (got > 0 && check_piece(r, c, r->ibuf, got) != 0) return -1;
    if (rc < 0) {
      lg_error(c->id, "echo of message %llu: %s", (unsigned long long)c->next_recv, why);
      lg_conn_close(c, 0);
      return -1;
    }
    if (rc == 0) return 0;
  }
}

/* The payload of the current frame is complete. Returns 0 or -1 (c closed). */
static int frame_end(echo_run *r, lg_conn *c, uint64_t now) {
  c->in_frame = 0;
  c->hdr_len = 0;
  if (c->frame_opcode >= 8 || !c->frame_fin) return 0; /* ping/pong skipped; fragment */
  c->in_msg = 0;
  if (c->msg_comp) {
    if (inflate_piece(r, c, NULL, 0, 1) != 0) return -1;
    r->rx_payload += c->msg_off;
  }
  if (c->msg_off != r->o->size) {
    lg_error(c->id, "echo of message %llu is %llu bytes, not %zu", (unsigned long long)c->next_recv,
             (unsigned long long)c->msg_off, r->o->size);
    lg_conn_close(c, 0);
    return -1;
  }
  if (r->measuring && !c->msg_bad) {
    r->msgs++;
    r->bytes += r->o->size;
    lg_hist_add(&r->hist, now - c->sent_ns[c->next_recv % (uint64_t)r->o->inflight]);
  }
  c->next_recv++;
  expect_msg(r, c, c->next_recv);
  return 0;
}

/* Parse and verify bytes the server sent on c. Returns 0 or -1 (c closed). */
static int parse(echo_run *r, lg_conn *c, const uint8_t *p, size_t n, uint64_t now) {
  while (n > 0) {
    if (!c->in_frame) {
      size_t need = 2;
      if (c->hdr_len >= 2) {
        uint8_t l7 = c->hdr[1] & 0x7f;
        need = 2 + (l7 == 126 ? 2 : l7 == 127 ? 8 : 0) + ((c->hdr[1] & 0x80) ? 4 : 0);
      }
      while (c->hdr_len < need && n > 0) {
        c->hdr[c->hdr_len++] = *p++;
        n--;
        if (c->hdr_len == 2) {
          uint8_t l7 = c->hdr[1] & 0x7f;
          need = 2 + (l7 == 126 ? 2 : l7 == 127 ? 8 : 0) + ((c->hdr[1] & 0x80) ? 4 : 0);
        }
      }
      if (c->hdr_len < need) return 0;
      if (frame_start(r, c) != 0) return -1;
      if (c->payload_left == 0 && frame_end(r, c, now) != 0) return -1;
      continue;
    }
    size_t m = n < c->payload_left ? n : (size_t)c->payload_left;
    if (c->frame_opcode < 8) {
      if (c->msg_comp ? inflate_piece(r, c, p, m, 0) != 0 : check_piece(r, c, p, m) != 0) return -1;
    }
    p += m;
    n -= m;
    c->payload_left -= m;
    if (c->payload_left == 0 && frame_end(r, c, now) != 0) return -1;
  }
  return 0;
}

/* c is readable: read (a few large reads), verify, queue more, write. */
static void on_readable(echo_run *r, lg_conn *c) {
  for (int i = 0; i < MAX_READS_PER_EVENT; i++) {
    ssize_t n = recv(c->fd, r->rbuf, RBUF_SIZE, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    if (n <= 0) {
      lg_error(c->id, "connection closed by the server%s%s", n ? ": " : "", n ? strerror(errno) : "");
      lg_conn_close(c, 0);
      return;
    }
    if (parse(r, c, r->rbuf, (size_t)n, lg_now_ns()) != 0) return;
    if ((size_t)n < RBUF_SIZE) break;
  }
  top_up(r, c, lg_now_ns());
}

/* The handshake of c completed: frames that came with the 101, then the
 * first K messages. */
static void on_open(echo_run *r, lg_conn *c) {
  uint64_t now = lg_now_ns();
  if (r->pool) {
    c->zs = c->pmd ? lg_zs_new(&c->pmd_params, r->o->level) : NULL;
    if (!c->zs) {
      lg_error(c->id, c->pmd ? "out of memory for zlib" : "permessage-deflate not negotiated");
      lg_conn_close(c, 0);
      return;
    }
  } else {
    echo_conn_mask(r, c);
  }
  if (c->hs_len > c->hs_off &&
      parse(r, c, (const uint8_t *)c->hs + c->hs_off, c->hs_len - c->hs_off, now) != 0)
    return;
  top_up(r, c, now);
}

int lg_run_echo(const lg_opts *o) {
  echo_run r = {.o = o, .opcode = o->text ? 1 : 2};
  r.seq_off = o->json ? LG_JSON_SEQ_OFF : 0;
  r.pre = r.seq_off + LG_SEQ_LEN;
  r.hdr_size = o->size < 126 ? 2 : o->size < 65536 ? 4 : 10;
  r.head_len = r.hdr_size + 4 + r.pre;
  r.frame_len = r.head_len + o->size - r.pre;
  r.ep = lg_epoll();
  r.rbuf = malloc(RBUF_SIZE);
  r.conns = calloc((size_t)o->conns, sizeof *r.conns);
  if (r.ep < 0 || !r.rbuf || !r.conns) {
    fprintf(stderr, "wsc-loadgen: out of memory\n");
    return 2;
  }
  if (o->deflate != LG_DEFLATE_OFF) {
    r.pool_n = POOL_BYTES / o->size;
    if (r.pool_n > POOL_MAX) r.pool_n = POOL_MAX;
    if (r.pool_n < 2) r.pool_n = 2;
    r.zcap = lg_zs_bound(o->size);
    r.pool = malloc(r.pool_n * o->size);
    r.msg = malloc(o->size);
    r.zout = malloc(r.zcap);
    r.ibuf = malloc(IBUF_SIZE);
    if (!r.pool || !r.msg || !r.zout || !r.ibuf) {
      fprintf(stderr, "wsc-loadgen: out of memory\n");
      return 2;
    }
    for (size_t i = 0; i < r.pool_n; i++) {
      uint8_t *m = r.pool + i * o->size;
      if (o->json) lg_json_fill(m, o->size, (uint32_t)i + 1);
      else fill_pattern(m, o->size, (uint32_t)i + 1, o->text, o->utf8);
    }
  }
  for (int i = 0; i < o->conns; i++) {
    r.conns[i].id = i;
    r.conns[i].fd = -1;
    r.conns[i].state = LG_DEAD;
    if (echo_conn_init(&r, &r.conns[i]) != 0) {
      fprintf(stderr, "wsc-loadgen: out of memory\n");
      return 2;
    }
  }

  /* Phases: opening (messages flow as soon as a connection is open), warm-up
   * from when all are open, then the measured window. Every phase has an
   * end time, so the loop is bounded. */
  uint64_t t0 = lg_now_ns();
  uint64_t open_deadline = t0 + 10000000000ull + (uint64_t)o->conns * 2000000ull;
  uint64_t t_measure = 0, t_end = 0;
  uint64_t self0 = 0, tm0 = 0;
  int64_t srv0 = -1;
  int started = 0, pending = 0, open = 0, dead = 0;
  struct epoll_event evs[256];
  r.sending = 1;

  for (;;) {
    while (pending < MAX_PENDING_OPENS && started < o->conns) {
      lg_conn *c = &r.conns[started++];
      if (lg_conn_start(r.ep, c, o) == 0) pending++;
      else dead++;
    }
    uint64_t now = lg_now_ns();
    if (!t_measure && open + dead == o->conns) {
      if (open == 0) break;
      t_measure = now + (uint64_t)(o->warmup * 1e9);
      t_end = t_measure + (uint64_t)(o->seconds * 1e9);
    }
    if (!t_measure && now > open_deadline) {
      lg_error(-1, "only %d of %d connections opened in time", open, o->conns);
      break;
    }
    if (t_measure && !r.measuring && now >= t_measure) {
      r.measuring = 1;
      r.msgs = r.bytes = 0;
      tm0 = now;
      self0 = lg_self_cpu_ns();
      srv0 = lg_proc_cpu_ns(o->server_pid);
    }
    if (t_end && now >= t_end) break;
    if (t_measure && open == 0) break; /* every connection failed */
    int n = epoll_wait(r.ep, evs, 256, 10);
    if (n < 0 && errno != EINTR) {
      perror("wsc-loadgen: epoll_wait");
      break;
    }
    for (int i = 0; i < n; i++) {
      lg_conn *c = evs[i].data.ptr;
      if (c->state == LG_DEAD) continue;
      if (c->state != LG_OPEN) {
        int rc = lg_conn_handshake(r.ep, c, evs[i].events);
        if (rc == 0) continue;
        pending--;
        if (rc < 0) {
          dead++;
          continue;
        }
        open++;
        on_open(&r, c);
      } else {
        if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) on_readable(&r, c);
        if (c->state == LG_OPEN && (evs[i].events & EPOLLOUT)) flush(&r, c);
      }
      if (c->state == LG_DEAD) open--, dead++;
    }
  }
  uint64_t tm1 = lg_now_ns();
  uint64_t self1 = lg_self_cpu_ns();
  int64_t srv1 = lg_proc_cpu_ns(o->server_pid);
  r.sending = 0;
  for (int i = 0; i < o->conns; i++) lg_conn_close(&r.conns[i], 1);

  double secs = r.measuring ? (double)(tm1 - tm0) / 1e9 : 0;
  if (!r.measuring) lg_error(-1, "the measured window never started");
  char srv_pct[32] = "na", srv_us[32] = "na";
  if (r.measuring && srv0 >= 0 && srv1 >= srv0) {
    snprintf(srv_pct, sizeof srv_pct, "%.1f", (double)(srv1 - srv0) / (secs * 1e9) * 100);
    if (r.msgs)
      snprintf(srv_us, sizeof srv_us, "%.3f", (double)(srv1 - srv0) / 1e3 / (double)r.msgs);
  }
  /* Compression ratios (payload bytes / compressed bytes) over every
   * compressed message of the run, each way. */
  char zinfo[160] = "";
  if (o->deflate != LG_DEFLATE_OFF)
    snprintf(zinfo, sizeof zinfo, "deflate=%s level=%d tx_ratio=%.2f rx_ratio=%.2f ",
             o->deflate == LG_DEFLATE_TAKEOVER ? "takeover" : "no-takeover", o->level,
             r.tx_wire ? (double)r.tx_payload / (double)r.tx_wire : 0,
             r.rx_wire ? (double)r.rx_payload / (double)r.rx_wire : 0);
  printf("RESULT mode=echo conns=%d inflight=%d size=%zu type=%s %sseconds=%.3f msgs=%llu "
         "msgs_per_s=%.0f mb_per_s=%.2f p50_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f "
         "gen_cpu_pct=%.1f server_cpu_pct=%s server_us_per_msg=%s errors=%llu\n",
         o->conns, o->inflight, o->size,
         o->json ? "json" : o->utf8 ? "utf8" : o->text ? "text" : "binary", zinfo, secs,
         (unsigned long long)r.msgs, secs > 0 ? (double)r.msgs / secs : 0,
         secs > 0 ? (double)r.bytes / secs / 1e6 : 0,
         (double)lg_hist_quantile(&r.hist, 0.50) / 1e3, (double)lg_hist_quantile(&r.hist, 0.99) / 1e3,
         (double)lg_hist_quantile(&r.hist, 0.999) / 1e3, (double)r.hist.max / 1e3,
         secs > 0 ? (double)(self1 - self0) / (secs * 1e9) * 100 : 0, srv_pct, srv_us,
         (unsigned long long)lg_errors());
  fflush(stdout);
  for (int i = 0; i < o->conns; i++) {
    free(r.conns[i].sent_ns);
    free(r.conns[i].heads);
    free(r.conns[i].expect);
    free(r.conns[i].masked);
    free(r.conns[i].wbuf);
    lg_zs_free(r.conns[i].zs);
  }
  free(r.conns);
  free(r.rbuf);
  free(r.pool);
  free(r.msg);
  free(r.zout);
  free(r.ibuf);
  close(r.ep);
  return lg_errors() || r.msgs == 0 ? 1 : 0;
}
