/* peer.c - see peer.h. Decodes frames independently of the library (plain
 * byte loops) so a bug in the code under test cannot cancel itself out. */
#include "peer.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "wsc.h"

static const uint8_t test_key[4] = {0x37, 0xfa, 0x21, 0x3d};

static void logf_(peer *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(peer *p, const char *fmt, ...) {
  char tmp[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (p->log.len) wsc__buf_puts(&p->log, " ");
  wsc__buf_puts(&p->log, tmp);
}

/* "text(5):Hello" for short printable payloads, "binary(70000)#a1b2c3d4" otherwise. */
static void describe(char *out, size_t cap, const char *what, const uint8_t *d, size_t n) {
  int printable = n <= 32;
  for (size_t i = 0; i < n && printable; i++) printable = d[i] >= 0x20 && d[i] < 0x7f;
  if (printable) {
    snprintf(out, cap, "%s(%zu)%s%.*s", what, n, n ? ":" : "", (int)n, (const char *)d);
  } else {
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < n; i++) h = (h ^ d[i]) * 16777619u;
    snprintf(out, cap, "%s(%zu)#%08x", what, n, h);
  }
}

static int on_event(void *user, const wsc__event *ev) {
  peer *p = user;
  char d[160];
  peer_drain(p); /* what the conn sent before telling us, e.g. an automatic pong */
  switch (ev->type) {
  case WSC__EV_DATA:
    if (ev->first) wsc__buf_reset(&p->msg);
    wsc__buf_append(&p->msg, ev->data, ev->len);
    if (ev->last) {
      describe(d, sizeof d, ev->opcode == WSC__OP_TEXT ? "text" : "binary", p->msg.data,
               p->msg.len);
      logf_(p, "%s", d);
    }
    break;
  case WSC__EV_PING:
    describe(d, sizeof d, "ping", ev->data, ev->len);
    logf_(p, "%s", d);
    break;
  case WSC__EV_PONG:
    describe(d, sizeof d, "pong", ev->data, ev->len);
    logf_(p, "%s", d);
    break;
  case WSC__EV_CLOSE:
    logf_(p, "close(%d%s%.*s)", ev->code, ev->len ? "," : "", (int)ev->len, (const char *)ev->data);
    break;
  }
  return p->stop_every;
}

static int on_send(void *user, const uint8_t *data, size_t len) {
  peer *p = user;
  return wsc__buf_append(&p->out, data, len);
}

static int fixed_mask(void *user, uint8_t key[4]) {
  (void)user;
  memcpy(key, test_key, 4);
  return 0;
}

void peer_init(peer *p, wsc__role role) {
  memset(p, 0, sizeof *p);
  p->cfg.role = role;
  p->cfg.on_event = on_event;
  p->cfg.on_send = on_send;
  p->cfg.make_mask = fixed_mask;
  wsc__conn_init(&p->conn, &p->cfg, p);
}

void peer_free(peer *p) {
  wsc__conn_free(&p->conn);
  wsc__buf_free(&p->out);
  wsc__buf_free(&p->msg);
  wsc__buf_free(&p->log);
}

void peer_drain(peer *p) {
  /* frames sent by a client are masked, by a server not */
  size_t i = 0;
  uint8_t *b = p->out.data;
  while (i + 2 <= p->out.len) {
    unsigned op = b[i] & 0x0f, fin = b[i] >> 7, masked = b[i + 1] >> 7;
    uint64_t n = b[i + 1] & 0x7f;
    size_t h = 2;
    if (n == 126) n = (uint64_t)b[i + 2] << 8 | b[i + 3], h = 4;
    else if (n == 127) {
      n = 0;
      for (int k = 0; k < 8; k++) n = n << 8 | b[i + 2 + k];
      h = 10;
    }
    const uint8_t *key = b + i + h;
    if (masked) h += 4;
    if (masked != (p->cfg.role == WSC__CLIENT)) logf_(p, "->WRONG-MASKING");
    if (i + h + n > p->out.len) {
      logf_(p, "->TRUNCATED");
      break;
    }
    uint8_t *pl = b + i + h;
    for (uint64_t k = 0; masked && k < n; k++) pl[k] ^= key[k % 4];
    char d[160];
    static const char *names[16] = {"cont", "text", "binary", 0, 0, 0, 0, 0, "close", "ping", "pong"};
    if (op == WSC__OP_CLOSE) {
      if (n >= 2)
        logf_(p, "->close(%d%s%.*s)", pl[0] << 8 | pl[1], n > 2 ? "," : "", (int)(n - 2),
              (const char *)pl + 2);
      else
        logf_(p, "->close()");
    } else {
      describe(d, sizeof d, names[op] ? names[op] : "op?", pl, (size_t)n);
      logf_(p, "->%s%s", d, fin ? "" : "+");
    }
    i += h + (size_t)n;
  }
  p->out.len = 0;
}

const char *peer_log(peer *p) {
  wsc__buf_append(&p->log, "", 1);
  p->log.len--; /* NUL-terminated, length unchanged */
  return (const char *)p->log.data;
}

const char *peer_feed(peer *p, const uint8_t *data, size_t len, size_t chunk) {
  uint8_t *copy = malloc(len ? len : 1); /* the conn unmasks in place */
  if (len) memcpy(copy, data, len);
  size_t off = 0;
  if (chunk == 0) chunk = len;
  while (off < len) {
    size_t n = len - off < chunk ? len - off : chunk;
    size_t used = 0;
    int rc;
    do { /* with stop_every, resume until the piece is eaten */
      size_t c = 0;
      rc = wsc__conn_recv(&p->conn, copy + off + used, n - used, &c);
      used += c;
    } while (rc == 0 && used < n);
    off += n;
    if (rc) {
      p->error = rc;
      peer_drain(p);
      logf_(p, "ERR:%s", wsc_err_name(rc));
      break;
    }
  }
  free(copy);
  peer_drain(p);
  return peer_log(p);
}

static void run_one(wsc__role role, const uint8_t *data, size_t len, const char *expected,
                    const char *file, int line, const char *how, size_t split, int stop) {
  peer p;
  peer_init(&p, role);
  p.stop_every = stop;
  const char *got;
  if (split && split < len) { /* two pieces */
    got = peer_feed(&p, data, split, 0);
    if (!p.error) got = peer_feed(&p, data + split, len - split, 0);
  } else {
    got = peer_feed(&p, data, len, split ? split : 0);
  }
  if (strcmp(got, expected) != 0)
    wsc_test_fail(file, line, "%s (%zu): expected\n  %s\ngot\n  %s", how, split, expected, got);
  peer_free(&p);
}

void peer_expect(wsc__role role, const uint8_t *data, size_t len, const char *expected,
                 const char *file, int line) {
  run_one(role, data, len, expected, file, line, "one read", 0, 0);
  run_one(role, data, len, expected, file, line, "one read, stopping after each event", 0, 1);
  if (len <= 4096)
    for (size_t k = 1; k < len; k++) run_one(role, data, len, expected, file, line, "split at", k, 0);
  if (len <= 65536) {
    peer p;
    peer_init(&p, role);
    const char *got = peer_feed(&p, data, len, 1);
    if (strcmp(got, expected) != 0)
      wsc_test_fail(file, line, "byte by byte: expected\n  %s\ngot\n  %s", expected, got);
    peer_free(&p);
  }
  peer p;
  peer_init(&p, role);
  const char *got = peer_feed(&p, data, len, 997);
  if (strcmp(got, expected) != 0)
    wsc_test_fail(file, line, "997-byte reads: expected\n  %s\ngot\n  %s", expected, got);
  peer_free(&p);
}

void put_frame(wsc__buf *b, int fin, unsigned rsv, unsigned op, const void *payload,
               size_t len, int masked) {
  uint8_t h[14];
  size_t n = 0;
  h[n++] = (uint8_t)((fin ? 0x80 : 0) | rsv | op);
  uint8_t m = masked ? 0x80 : 0;
  if (len < 126) h[n++] = (uint8_t)(m | len);
  else if (len < 65536) {
    h[n++] = m | 126;
    h[n++] = (uint8_t)(len >> 8);
    h[n++] = (uint8_t)len;
  } else {
    h[n++] = m | 127;
    for (int i = 7; i >= 0; i--) h[n++] = (uint8_t)((uint64_t)len >> (8 * i));
  }
  if (masked) memcpy(h + n, test_key, 4), n += 4;
  wsc__buf_append(b, h, n);
  size_t at = b->len;
  wsc__buf_append(b, payload, len);
  for (size_t i = 0; masked && i < len; i++) b->data[at + i] ^= test_key[i % 4];
}

void put_text(wsc__buf *b, const char *s) { put_frame(b, 1, 0, WSC__OP_TEXT, s, strlen(s), 1); }

void put_close(wsc__buf *b, int code, const char *reason) {
  uint8_t body[256];
  size_t n = 0;
  if (code >= 0) {
    body[n++] = (uint8_t)(code >> 8);
    body[n++] = (uint8_t)code;
    size_t r = reason ? strlen(reason) : 0;
    if (r) memcpy(body + n, reason, r);
    n += r;
  }
  put_frame(b, 1, 0, WSC__OP_CLOSE, body, n, 1);
}
