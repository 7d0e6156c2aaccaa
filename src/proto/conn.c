/* conn.c - the WebSocket connection state machine (RFC 6455 sections 5-7).
 *
 * Receiving: headers are parsed straight from the input when complete there
 * (the common case) and assembled in c->hdr only when split across reads.
 * Payloads are unmasked in place and handed out as slices of the input, so a
 * data frame costs no copy. Every rule is checked as early as the bytes allow:
 * size limits on the header, UTF-8 on each slice (fail-fast).
 *
 * Sending: each frame's header and, for small payloads, the payload itself go
 * out in one on_send call; client payloads are masked while being copied into
 * a stack buffer, never in the caller's memory.
 *
 * permessage-deflate (when attached): a compressed message is inflated into a
 * stack chunk of WSC__DEFLATE_CHUNK bytes and handed out chunk by chunk, so
 * neither the compressed nor the inflated message is ever held whole. If an
 * event callback stops wsc__conn_recv while zlib has not taken all of a read,
 * the untaken payload bytes are masked again and reported as not consumed
 * (the caller feeds them again, as for any stop).
 */
#include "proto/conn.h"

#include <stdlib.h>
#include <string.h>

#include "proto/close.h"
#include "proto/deflate.h"
#include "proto/mask.h"
#include "proto/random.h"
#include "wsc.h"

#define SEND_CHUNK 8192 /* stack buffer for one frame's header + masked payload */

static uint64_t max_frame(const wsc__conn *c) {
  return c->cfg->max_frame ? c->cfg->max_frame : WSC_DEFAULT_MAX_FRAME;
}
static uint64_t max_message(const wsc__conn *c) {
  return c->cfg->max_message ? c->cfg->max_message : WSC_DEFAULT_MAX_MESSAGE;
}

void wsc__conn_init(wsc__conn *c, const wsc__conn_config *cfg, void *user) {
  memset(c, 0, sizeof *c);
  c->cfg = cfg;
  c->user = user;
}

void wsc__conn_free(wsc__conn *c) {
  free(c->ctl);
  c->ctl = NULL;
  wsc__deflate_free(c->deflate);
  c->deflate = NULL;
}

void wsc__conn_set_rsv_allowed(wsc__conn *c, unsigned rsv) {
  c->rsv_allowed = (uint8_t)(rsv & 0x70);
}

static int window_ok(unsigned b) { return b >= WSC__PMD_MIN_BITS && b <= WSC__PMD_MAX_BITS; }

int wsc__conn_set_deflate(wsc__conn *c, const wsc__pmd_params *params, size_t threshold) {
  if (c->deflate || !params || !window_ok(params->server_max_window_bits) ||
      !window_ok(params->client_max_window_bits))
    return WSC_EINVAL;
  c->deflate = wsc__deflate_new(params, c->cfg->role == WSC__SERVER, threshold);
  if (!c->deflate) return WSC_ENOMEM;
  c->rsv_allowed |= WSC__RSV1;
  return 0;
}

int wsc__conn_set_deflate_level(wsc__conn *c, int level) {
  if (!c->deflate || level < 0 || level > 9) return WSC_EINVAL;
  c->deflate->level = (uint8_t)level;
  return 0;
}

size_t wsc__conn_deflate_memory(const wsc__conn *c, size_t *peak) {
  return wsc__deflate_memory(c->deflate, peak);
}

/* ---- sending ------------------------------------------------------------ */

static int send_frame(wsc__conn *c, int fin, unsigned rsv, unsigned op, const uint8_t *data,
                      size_t len) {
  uint8_t buf[SEND_CHUNK];
  uint8_t key[4];
  const uint8_t *k = NULL;
  int rc;
  if (c->cfg->role == WSC__CLIENT) {
    rc = c->cfg->make_mask ? c->cfg->make_mask(c->user, key) : wsc__random(key, 4);
    if (rc) return rc;
    k = key;
  }
  size_t hl = wsc__frame_write_header(buf, fin, rsv, op, len, k);
  if (!k) {
    if (len <= sizeof buf - hl) { /* small: one call, one write */
      if (len) memcpy(buf + hl, data, len);
      return c->cfg->on_send(c->user, buf, hl + len);
    }
    rc = c->cfg->on_send(c->user, buf, hl);
    return rc ? rc : c->cfg->on_send(c->user, data, len);
  }
  /* masked: copy-and-mask through the stack buffer, chunk by chunk */
  size_t take = len < sizeof buf - hl ? len : sizeof buf - hl;
  unsigned phase = wsc__mask_copy(buf + hl, data, take, key, 0);
  rc = c->cfg->on_send(c->user, buf, hl + take);
  for (size_t off = take; rc == 0 && off < len; off += take) {
    take = len - off < sizeof buf ? len - off : sizeof buf;
    phase = wsc__mask_copy(buf, data + off, take, key, phase);
    rc = c->cfg->on_send(c->user, buf, take);
  }
  return rc;
}

/* Send payload as frames of at most fragment_size bytes; the first carries
 * first_op and rsv, the rest are continuations; the last has FIN when fin is
 * set. */
static int send_pieces(wsc__conn *c, unsigned first_op, unsigned rsv, const uint8_t *data,
                       size_t len, int fin) {
  size_t piece = c->cfg->fragment_size ? c->cfg->fragment_size : len;
  unsigned op = first_op;
  size_t off = 0;
  do {
    size_t take = len - off < piece ? len - off : piece;
    int last = off + take == len;
    int rc = send_frame(c, last && fin, rsv, op, take ? data + off : data, take); /* data may be NULL when len is 0 */
    if (rc) return rc;
    off += take;
    op = WSC__OP_CONT;
    rsv = 0;
  } while (off < len);
  return 0;
}

/* Compressed output goes out as frames: RSV1 and the opcode on the message's
 * first frame only (RFC 7692 section 6), FIN on the last piece of the last
 * call. */
typedef struct zsend {
  wsc__conn *c;
  unsigned op, rsv;
  int fin;
} zsend;

static int zsink(void *ctx, const uint8_t *p, size_t n, int last) {
  zsend *s = ctx;
  int rc = send_pieces(s->c, s->op, s->rsv, p, n, s->fin && last);
  s->op = WSC__OP_CONT;
  s->rsv = 0;
  return rc;
}

/* Send a piece of a message compressed: op is the opcode of its first frame
 * (WSC__OP_CONT for later pieces). */
static int send_compressed(wsc__conn *c, unsigned op, const void *data, size_t len, int fin) {
  zsend s = {c, op, op == WSC__OP_CONT ? 0u : (unsigned)WSC__RSV1, fin};
  return wsc__deflate_compress(c->deflate, data, len, fin, zsink, &s);
}

static int can_send(const wsc__conn *c) {
  return c->close_sent || c->error ? WSC_EINVALIDSTATE : 0;
}

int wsc__conn_send(wsc__conn *c, unsigned opcode, const void *data, size_t len) {
  if (opcode != WSC__OP_TEXT && opcode != WSC__OP_BINARY) return WSC_EINVAL;
  int rc = can_send(c);
  if (rc) return rc;
  if (c->send_op) return WSC_EINVALIDSTATE;
  if (c->deflate && len >= c->deflate->threshold)
    return send_compressed(c, opcode, data, len, 1);
  return send_pieces(c, opcode, 0, data, len, 1);
}

int wsc__conn_send_header(wsc__conn *c, unsigned opcode, uint8_t *data, size_t len,
                          uint8_t hdr[WSC__FRAME_MAX_HEADER]) {
  if (opcode != WSC__OP_TEXT && opcode != WSC__OP_BINARY) return WSC_EINVAL;
  int rc = can_send(c);
  if (rc) return rc;
  if (c->send_op) return WSC_EINVALIDSTATE;
  if ((c->deflate && len >= c->deflate->threshold) ||
      (c->cfg->fragment_size && len > c->cfg->fragment_size))
    return 0;
  uint8_t key[4];
  const uint8_t *k = NULL;
  if (c->cfg->role == WSC__CLIENT) {
    rc = c->cfg->make_mask ? c->cfg->make_mask(c->user, key) : wsc__random(key, 4);
    if (rc) return rc;
    wsc__mask(data, len, key, 0);
    k = key;
  }
  return (int)wsc__frame_write_header(hdr, 1, 0, opcode, len, k);
}

int wsc__conn_send_fragment(wsc__conn *c, unsigned opcode, const void *data, size_t len,
                            int fin) {
  if (opcode != WSC__OP_TEXT && opcode != WSC__OP_BINARY) return WSC_EINVAL;
  int rc = can_send(c);
  if (rc) return rc;
  if (c->send_op && c->send_op != opcode) return WSC_EINVAL;
  unsigned op = c->send_op ? WSC__OP_CONT : opcode;
  if (c->deflate) {
    wsc__deflate *d = c->deflate;
    if (!c->send_op) d->tx_msg = len >= d->threshold ? 1 : 2; /* decided by the first piece */
    rc = d->tx_msg == 1 ? send_compressed(c, op, data, len, fin)
                        : send_pieces(c, op, 0, data, len, fin);
    if (fin) d->tx_msg = 0;
  } else {
    rc = send_pieces(c, op, 0, data, len, fin);
  }
  if (rc) return rc;
  c->send_op = fin ? 0 : (uint8_t)opcode;
  return 0;
}

static int send_control(wsc__conn *c, unsigned op, const void *data, size_t len) {
  if (len > WSC__CONTROL_MAX) return WSC_EINVAL;
  int rc = can_send(c);
  return rc ? rc : send_frame(c, 1, 0, op, data, len);
}

int wsc__conn_ping(wsc__conn *c, const void *data, size_t len) {
  return send_control(c, WSC__OP_PING, data, len);
}

int wsc__conn_pong(wsc__conn *c, const void *data, size_t len) {
  return send_control(c, WSC__OP_PONG, data, len);
}

int wsc__conn_close(wsc__conn *c, int code, const void *reason, size_t len) {
  uint8_t body[2 + WSC__CLOSE_REASON_MAX];
  if (c->close_sent) return WSC_EINVALIDSTATE;
  int n = wsc__close_build(body, code, reason, len);
  if (n < 0) return n;
  c->close_sent = 1; /* even if the write fails: nothing may follow a Close */
  return send_frame(c, 1, 0, WSC__OP_CLOSE, body, (size_t)n);
}

/* ---- receiving ---------------------------------------------------------- */

/* Fail the connection: send a Close with the code the error calls for (once)
 * and make the error sticky. */
static int fail(wsc__conn *c, int err, const char *why) {
  c->error = err;
  c->error_msg = why;
  if (!c->close_sent) {
    size_t n = strlen(why);
    wsc__conn_close(c, wsc_close_code_for(err), why,
                    n > WSC__CLOSE_REASON_MAX ? WSC__CLOSE_REASON_MAX : n);
  }
  return err;
}

static int emit(wsc__conn *c, wsc__event *ev) {
  return c->cfg->on_event ? c->cfg->on_event(c->user, ev) : 0;
}

/* A complete header was read: check it against the rules and the state of
 * the message in progress, then start reading its payload. */
static int on_header(wsc__conn *c, const uint8_t *h) {
  wsc__frame f;
  const char *why = NULL;
  wsc__frame_decode_header(h, &f);
  wsc__frame_rules rules = {c->rsv_allowed, c->cfg->role == WSC__SERVER, max_frame(c)};
  int rc = wsc__frame_check(&f, &rules, &why);
  if (rc) return fail(c, rc, why);
  if (!wsc__op_is_control(f.opcode)) {
    if (f.opcode == WSC__OP_CONT) {
      if (!c->msg_op) return fail(c, WSC_EPROTO, "continuation frame without a message to continue");
      if (f.rsv & WSC__RSV1) return fail(c, WSC_EPROTO, "RSV1 set on a continuation frame");
    } else {
      if (c->msg_op) return fail(c, WSC_EPROTO, "new message started before the previous one ended");
      c->msg_op = f.opcode;
      c->msg_len = 0;
      c->msg_emitted = 0;
      wsc__utf8_init(&c->utf8);
      if (c->deflate && (f.rsv & WSC__RSV1) && (rc = wsc__inflate_begin(c->deflate)) != 0)
        return fail(c, rc, "out of memory");
    }
    if (c->deflate && c->deflate->rx_msg) {
      /* the inflated size is checked as it is produced; the compressed
       * size is held to twice the limit (DEFLATE's worst-case overhead is
       * far smaller) so a stream of empty blocks cannot go on forever */
      uint64_t lim = max_message(c) > UINT64_MAX / 2 - 1024 ? UINT64_MAX : max_message(c) * 2 + 1024;
      if (f.len > lim - c->deflate->wire)
        return fail(c, WSC_ETOOBIG, "compressed message over the size limit");
      c->deflate->wire += f.len;
    } else if (f.len > max_message(c) - c->msg_len) {
      return fail(c, WSC_ETOOBIG, "message over the size limit");
    }
  }
  c->op = f.opcode;
  c->fin = f.fin;
  c->masked = f.masked;
  memcpy(c->key, f.key, 4);
  c->phase = 0;
  c->remaining = f.len;
  c->ctl_len = 0;
  c->in_payload = 1;
  return 0;
}

/* A whole control frame payload is here. Returns 0, >0 to stop, <0 error. */
static int on_control(wsc__conn *c, uint8_t *p, size_t n) {
  wsc__event ev = {0};
  ev.data = p;
  ev.len = n;
  int rc = 0;
  switch (c->op) {
  case WSC__OP_PING:
    /* answer first: the callback may destroy the connection */
    if (!c->cfg->no_auto_pong && !c->close_sent) rc = wsc__conn_pong(c, p, n);
    if (rc) return fail(c, rc, "could not send pong");
    ev.type = WSC__EV_PING;
    return emit(c, &ev);
  case WSC__OP_PONG:
    ev.type = WSC__EV_PONG;
    return emit(c, &ev);
  default: { /* WSC__OP_CLOSE */
    const uint8_t *reason;
    const char *why = NULL;
    rc = wsc__close_parse(p, n, &ev.code, &reason, &ev.len, &why);
    if (rc) return fail(c, rc, why);
    ev.type = WSC__EV_CLOSE;
    ev.data = p + 2;
    if (ev.len == 0) ev.data = p;
    c->close_received = 1;
    if (!c->close_sent) /* echo the code; an empty Close is answered empty */
      wsc__conn_close(c, ev.code == WSC_CLOSE_NO_STATUS ? 0 : ev.code, NULL, 0);
    return emit(c, &ev);
  }
  }
}

#define ZPIECE 8192 /* payload unmasked and fed to zlib at a time */

/* Payload bytes p[0..n) of a compressed message's frame, n <= c->remaining:
 * inflate them chunk by chunk and hand each chunk out. Before each event the
 * conn is left as if the read stopped there (the callback may stop it, or
 * destroy c, and then neither c nor p may be touched): payload not yet taken
 * by zlib is masked again and *used says how much was taken. With n == 0 at
 * the end of the frame, output zlib still holds is drained. */
static int on_payload_z(wsc__conn *c, uint8_t *p, size_t n, size_t *used) {
  wsc__deflate *d = c->deflate;
  const unsigned ph0 = c->phase;
  const uint64_t rem0 = c->remaining;
  const int end = c->fin && rem0 == n; /* the message's compressed bytes end here */
  uint8_t out[WSC__DEFLATE_CHUNK];
  size_t off = 0, fed = 0; /* p[off..fed) is unmasked and not yet taken by zlib */
  for (;;) {
    if (fed == off && fed < n) {
      size_t k = n - fed < ZPIECE ? n - fed : ZPIECE;
      if (c->masked) wsc__mask(p + fed, k, c->key, (ph0 + fed) & 3);
      fed += k;
    }
    size_t took, got;
    int sdone;
    int rc = wsc__inflate_step(d, p + off, fed - off, end && fed == n, out, sizeof out, &took,
                               &got, &sdone);
    off += took;
    int all = sdone && fed == n; /* nothing of this read left to do */
    int last = end && all && rc == 0;
    /* the first bad output byte decides, and a fault in the compressed data
     * comes after all output before it: the same error whatever the reads */
    uint64_t room = max_message(c) - c->msg_len;
    size_t ok = got > room ? (size_t)room : got;
    if (c->msg_op == WSC__OP_TEXT && ok && wsc__utf8_feed(&c->utf8, out, ok, NULL) != 0)
      return fail(c, WSC_EBADDATA, "invalid UTF-8 in a text message");
    if (got > room) return fail(c, WSC_ETOOBIG, "message over the size limit");
    if (rc) return fail(c, rc, rc == WSC_EBADDATA ? "invalid compressed data" : "out of memory");
    if (!sdone && took == 0 && got == 0) return fail(c, WSC_EBADDATA, "invalid compressed data");
    if (c->msg_op == WSC__OP_TEXT) {
      if (last && wsc__utf8_finish(&c->utf8) != 0)
        return fail(c, WSC_EBADDATA, "text message ends inside a UTF-8 sequence");
    }
    c->msg_len += got;
    if (got || last) {
      /* leave everything as if we stop here */
      if (c->masked && fed > off) wsc__mask(p + off, fed - off, c->key, (ph0 + off) & 3);
      fed = off;
      c->remaining = rem0 - off;
      c->phase = (uint8_t)((ph0 + off) & 3);
      c->in_payload = c->remaining != 0 || !all;
      *used = off;
      wsc__event ev = {0};
      ev.type = WSC__EV_DATA;
      ev.opcode = c->msg_op;
      ev.first = !c->msg_emitted;
      ev.last = (uint8_t)last;
      ev.data = out;
      ev.len = got;
      c->msg_emitted = 1;
      if (last) {
        c->msg_op = 0;
        wsc__inflate_finish(d);
      }
      rc = emit(c, &ev);
      if (rc) return rc; /* c and p are not ours any more */
    }
    if (all) break;
  }
  c->remaining = rem0 - n;
  c->phase = (uint8_t)((ph0 + n) & 3);
  c->in_payload = c->remaining != 0;
  *used = n;
  return 0;
}

/* Payload bytes p[0..n) of the current frame, n <= c->remaining. *used = the
 * bytes taken (n, except for a compressed message that stopped early). */
static int on_payload(wsc__conn *c, uint8_t *p, size_t n, size_t *used) {
  *used = n;
  if (!wsc__op_is_control(c->op) && c->deflate && c->deflate->rx_msg)
    return on_payload_z(c, p, n, used);
  if (c->masked && n) c->phase = (uint8_t)wsc__mask(p, n, c->key, c->phase);
  c->remaining -= n;
  if (wsc__op_is_control(c->op)) {
    if (c->remaining == 0 && c->ctl_len == 0) { /* whole payload in this read */
      c->in_payload = 0;
      return on_control(c, p, n);
    }
    if (!c->ctl && !(c->ctl = malloc(WSC__CONTROL_MAX))) return fail(c, WSC_ENOMEM, "out of memory");
    memcpy(c->ctl + c->ctl_len, p, n);
    c->ctl_len = (uint8_t)(c->ctl_len + n);
    if (c->remaining) return 0;
    c->in_payload = 0;
    /* hand the payload out from the stack so the buffer can go now */
    uint8_t copy[WSC__CONTROL_MAX];
    size_t len = c->ctl_len;
    memcpy(copy, c->ctl, len);
    free(c->ctl);
    c->ctl = NULL;
    return on_control(c, copy, len);
  }
  int last = c->fin && c->remaining == 0;
  if (c->msg_op == WSC__OP_TEXT) {
    if (n && wsc__utf8_feed(&c->utf8, p, n, NULL) != 0)
      return fail(c, WSC_EBADDATA, "invalid UTF-8 in a text message");
    if (last && wsc__utf8_finish(&c->utf8) != 0)
      return fail(c, WSC_EBADDATA, "text message ends inside a UTF-8 sequence");
  }
  c->msg_len += n;
  if (c->remaining == 0) c->in_payload = 0;
  if (n == 0 && !last && c->msg_emitted) return 0; /* nothing worth telling */
  wsc__event ev = {0};
  ev.type = WSC__EV_DATA;
  ev.opcode = c->msg_op;
  ev.first = !c->msg_emitted;
  ev.last = (uint8_t)last;
  ev.data = p;
  ev.len = n;
  c->msg_emitted = 1;
  if (last) c->msg_op = 0;
  return emit(c, &ev);
}

uint64_t wsc__conn_payload_ahead(const wsc__conn *c) {
  if (!c->in_payload || c->error || c->close_received || !c->msg_op || !c->msg_emitted ||
      wsc__op_is_control(c->op) || (c->deflate && c->deflate->rx_msg))
    return 0;
  return c->remaining;
}

int wsc__conn_recv(wsc__conn *c, uint8_t *data, size_t len, size_t *consumed) {
  size_t i = 0;
  int rc = 0;
  *consumed = 0;
  if (c->error) return c->error;
  while (i < len || (c->in_payload && c->remaining == 0)) {
    if (c->close_received) { /* nothing may follow a Close: ignore it */
      i = len;
      break;
    }
    if (!c->in_payload) {
      const uint8_t *h;
      size_t avail = len - i;
      if (c->hdr_have == 0 && avail >= 2 &&
          avail >= wsc__frame_header_size(data[i], data[i + 1])) {
        h = data + i; /* the whole header is in this read */
        i += wsc__frame_header_size(data[i], data[i + 1]);
      } else {
        size_t need = c->hdr_have < 2 ? 2 : wsc__frame_header_size(c->hdr[0], c->hdr[1]);
        while (c->hdr_have < need && i < len) {
          c->hdr[c->hdr_have++] = data[i++];
          if (c->hdr_have == 2) need = wsc__frame_header_size(c->hdr[0], c->hdr[1]);
        }
        if (c->hdr_have < need) break; /* wait for the rest of the header */
        h = c->hdr;
        c->hdr_have = 0;
      }
      rc = on_header(c, h);
    } else {
      size_t take = len - i, used = 0;
      if (take > c->remaining) take = (size_t)c->remaining;
      rc = on_payload(c, data + i, take, &used);
      i += used;
    }
    if (rc) break;
  }
  *consumed = i;
  return rc < 0 ? rc : 0;
}
