/* fuzz_deflate.c - a server-role conn with permessage-deflate negotiated,
 * under hostile input. The first byte picks the agreement (context takeover
 * each way, window bits), the second the number of cut points; the rest is
 * fed once whole and once cut. Both runs must tell the same story; delivered
 * messages respect max_message and UTF-8, zlib memory stays within one
 * compressor, one decompressor and one window copy, and every complete
 * message is sent back compressed (exercising the compressor with the
 * fuzzer's data). Anything else traps. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/conn.h"
#include "proto/deflate.h"
#include "proto/utf8.h"
#include "wsc.h"
#include "fuzz_conn_feed.h"

#define MAX_MESSAGE 65536

typedef struct run {
  wsc__conn *c;
  uint64_t story;
  uint64_t msg_len;
  int in_msg, closes_sent;
  wsc__utf8 text;
  uint8_t *msg; /* the message being delivered, to echo it */
} run;

static uint64_t mix(uint64_t h, uint64_t v) { return (h ^ v) * 0x100000001b3ull; }

static int on_event(void *user, const wsc__event *ev) {
  run *r = user;
  for (size_t i = 0; i < ev->len; i++) r->story = mix(r->story, ev->data[i]);
  if (ev->type != WSC__EV_DATA || ev->last)
    r->story = mix(r->story, (uint64_t)ev->type << 32 | (uint64_t)ev->code << 8 | ev->opcode);
  if (ev->type != WSC__EV_DATA) return 0;
  if (ev->first) {
    if (r->in_msg) __builtin_trap();
    r->in_msg = 1;
    r->msg_len = 0;
    wsc__utf8_init(&r->text);
  } else if (!r->in_msg) {
    __builtin_trap();
  }
  if (ev->len > WSC__DEFLATE_CHUNK) __builtin_trap(); /* chunked delivery */
  if (r->msg_len + ev->len > MAX_MESSAGE) __builtin_trap();
  if (ev->len) memcpy(r->msg + r->msg_len, ev->data, ev->len);
  r->msg_len += ev->len;
  if (ev->opcode == WSC__OP_TEXT) {
    if (wsc__utf8_feed_scalar(&r->text, ev->data, ev->len, NULL) != 0) __builtin_trap();
    if (ev->last && wsc__utf8_finish(&r->text) != 0) __builtin_trap();
  }
  if (ev->last) {
    r->in_msg = 0;
    /* echo it, compressed (the conn may refuse after a Close: fine) */
    int rc = wsc__conn_send(r->c, ev->opcode, r->msg, (size_t)r->msg_len);
    if (rc && rc != WSC_EINVALIDSTATE) __builtin_trap();
  }
  return 0;
}

static int on_send(void *user, const uint8_t *data, size_t len) {
  run *r = user;
  if (len >= 1 && (data[0] & 0x0f) == WSC__OP_CLOSE && (data[0] & 0x80) && len <= 127) r->closes_sent++;
  return 0;
}

static int feed(const wsc__conn_config *cfg, const wsc__pmd_params *pm, const uint8_t *in,
                size_t n, const uint8_t *cuts, size_t ncuts, run *r) {
  uint8_t *buf = malloc(n ? n : 1);
  if (n) memcpy(buf, in, n);
  wsc__conn c;
  memset(r, 0, sizeof *r);
  r->c = &c;
  r->msg = malloc(MAX_MESSAGE);
  wsc__conn_init(&c, cfg, r);
  if (wsc__conn_set_deflate(&c, pm, 0) != 0) __builtin_trap();
  int rc = fuzz_conn_feed(&c, buf, n, cuts, ncuts);
  size_t peak;
  wsc__conn_deflate_memory(&c, &peak);
  /* deflate at 15 bits (~262 KiB) + inflate (~40 KiB) + a window copy */
  if (peak > 360 * 1024) __builtin_trap();
  wsc__conn_free(&c);
  free(r->msg);
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
  wsc__pmd_params pm;
  pm.server_no_context_takeover = sel & 1;
  pm.client_no_context_takeover = (sel >> 1) & 1;
  pm.server_max_window_bits = (uint8_t)(8 + ((sel >> 2) & 7));
  pm.client_max_window_bits = (sel & 0x20) ? 15 : (uint8_t)(8 + ((sel >> 2) & 7));
  wsc__conn_config cfg = {0};
  cfg.role = WSC__SERVER;
  cfg.max_frame = MAX_MESSAGE;
  cfg.max_message = MAX_MESSAGE;
  cfg.fragment_size = (sel & 0x40) ? 100 : 0;
  cfg.on_event = on_event;
  cfg.on_send = on_send;
  run whole, split;
  int rc1 = feed(&cfg, &pm, data, size, NULL, 0, &whole);
  int rc2 = feed(&cfg, &pm, data, size, cuts, ncuts, &split);
  if (rc1 != rc2 || (rc1 == 0 && whole.story != split.story)) __builtin_trap();
  if (whole.closes_sent > 1 || split.closes_sent > 1) __builtin_trap();
  return 0;
}
