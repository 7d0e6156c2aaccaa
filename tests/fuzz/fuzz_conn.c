/* fuzz_conn.c - the frame parser and connection state machine under hostile
 * input. The first byte picks the role, limits and extension bits; the rest
 * is fed once in one piece and once cut at points derived from the input.
 * Both runs must tell the same story (same events, same bytes sent back, same
 * error) and obey the core's invariants; anything else traps. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/conn.h"
#include "proto/utf8.h"
#include "wsc.h"
#include "fuzz_conn_feed.h"

typedef struct run {
  uint64_t story;  /* rolling hash of events */
  uint64_t sent;   /* rolling hash of bytes sent */
  size_t sent_len;
  int closes_sent;
  uint64_t msg_len; /* bytes of the message being delivered */
  int in_msg;
  wsc__utf8 text;   /* independent check of delivered text */
} run;

static uint64_t mix(uint64_t h, uint64_t v) { return (h ^ v) * 0x100000001b3ull; }

static int on_event(void *user, const wsc__event *ev) {
  run *r = user;
  /* data may arrive in differently cut pieces: the story is the bytes, and
   * the metadata of whole messages and control frames */
  for (size_t i = 0; i < ev->len; i++) r->story = mix(r->story, ev->data[i]);
  if (ev->type != WSC__EV_DATA || ev->last)
    r->story = mix(r->story, (uint64_t)ev->type << 32 | (uint64_t)ev->code << 8 | ev->opcode);
  if (ev->type == WSC__EV_DATA) {
    if (ev->first) {
      if (r->in_msg) __builtin_trap(); /* a new message before the last ended */
      r->in_msg = 1;
      r->msg_len = 0;
      wsc__utf8_init(&r->text);
    } else if (!r->in_msg) {
      __builtin_trap();
    }
    r->msg_len += ev->len;
    if (r->msg_len > 4096) __builtin_trap(); /* max_message below */
    if (ev->opcode == WSC__OP_TEXT) {
      if (wsc__utf8_feed_scalar(&r->text, ev->data, ev->len, NULL) != 0) __builtin_trap();
      if (ev->last && wsc__utf8_finish(&r->text) != 0) __builtin_trap();
    }
    if (ev->last) r->in_msg = 0;
  } else if (ev->type == WSC__EV_CLOSE) {
    if (ev->code != 1005 && !(ev->code >= 1000 && ev->code <= 4999)) __builtin_trap();
  } else if (ev->len > 125) {
    __builtin_trap();
  }
  return 0;
}

static int on_send(void *user, const uint8_t *data, size_t len) {
  run *r = user;
  for (size_t i = 0; i < len; i++) r->sent = mix(r->sent, data[i]);
  r->sent_len += len;
  if (len >= 1 && (data[0] & 0x0f) == WSC__OP_CLOSE) r->closes_sent++;
  return 0;
}

static int fixed_mask(void *user, uint8_t key[4]) {
  (void)user;
  memcpy(key, "\x11\x22\x33\x44", 4);
  return 0;
}

static int feed(const wsc__conn_config *cfg, unsigned rsv, const uint8_t *in, size_t n,
                const uint8_t *cuts, size_t ncuts, run *r) {
  uint8_t *buf = malloc(n ? n : 1);
  if (n) memcpy(buf, in, n);
  wsc__conn c;
  memset(r, 0, sizeof *r);
  wsc__conn_init(&c, cfg, r);
  wsc__conn_set_rsv_allowed(&c, rsv);
  int rc = fuzz_conn_feed(&c, buf, n, cuts, ncuts);
  if (rc) {
    size_t used = 1;
    if (wsc__conn_recv(&c, buf, n, &used) != rc || used != 0) __builtin_trap(); /* sticky */
  }
  if (r->closes_sent > 1) __builtin_trap(); /* at most one Close ever */
  if (c.ctl && c.in_payload == 0) __builtin_trap(); /* control buffer only while split */
  wsc__conn_free(&c);
  free(buf);
  return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2) return 0;
  uint8_t sel = data[0], ncuts = data[1] & 15;
  data += 2, size -= 2;
  if (ncuts > size) ncuts = (uint8_t)size;
  const uint8_t *cuts = data;
  data += ncuts, size -= ncuts;
  wsc__conn_config cfg = {0};
  cfg.role = (sel & 1) ? WSC__SERVER : WSC__CLIENT;
  cfg.max_frame = (sel & 2) ? 100 : 4096;
  cfg.max_message = 4096;
  cfg.no_auto_pong = (sel & 4) != 0;
  cfg.fragment_size = (sel & 16) ? 7 : 0;
  cfg.on_event = on_event;
  cfg.on_send = on_send;
  cfg.make_mask = fixed_mask;
  unsigned rsv = (sel & 8) ? WSC__RSV1 : 0;
  run whole, split;
  int rc1 = feed(&cfg, rsv, data, size, NULL, 0, &whole);
  int rc2 = feed(&cfg, rsv, data, size, cuts, ncuts, &split);
  /* after an error the cut run may have delivered a few more bytes of the
   * doomed message first (pieces go out as they are validated), so the
   * stories are compared only for clean runs; the bytes sent always match */
  if (rc1 != rc2 || (rc1 == 0 && whole.story != split.story) || whole.sent != split.sent ||
      whole.sent_len != split.sent_len)
    __builtin_trap();
  return 0;
}
