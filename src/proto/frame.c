/* frame.c - frame header encoding, decoding and validation. */
#include "proto/frame.h"

#include <string.h>

#include "wsc.h"

size_t wsc__frame_write_header(uint8_t out[WSC__FRAME_MAX_HEADER], int fin, unsigned rsv,
                               unsigned opcode, uint64_t len, const uint8_t *key) {
  size_t n;
  out[0] = (uint8_t)((fin ? WSC__FIN : 0) | (rsv & 0x70) | (opcode & 0x0F));
  uint8_t mask = key ? WSC__MASK_BIT : 0;
  if (len < 126) {
    out[1] = (uint8_t)(mask | len);
    n = 2;
  } else if (len <= 0xFFFF) {
    out[1] = mask | 126;
    out[2] = (uint8_t)(len >> 8);
    out[3] = (uint8_t)len;
    n = 4;
  } else {
    out[1] = mask | 127;
    for (int i = 0; i < 8; i++) out[2 + i] = (uint8_t)(len >> (56 - 8 * i));
    n = 10;
  }
  if (key) {
    memcpy(out + n, key, 4);
    n += 4;
  }
  return n;
}

void wsc__frame_decode_header(const uint8_t *p, wsc__frame *f) {
  f->fin = (p[0] & WSC__FIN) != 0;
  f->rsv = p[0] & 0x70;
  f->opcode = p[0] & 0x0F;
  f->masked = (p[1] & WSC__MASK_BIT) != 0;
  uint64_t len = p[1] & 0x7F;
  size_t at = 2;
  if (len == 126) {
    len = (uint64_t)p[2] << 8 | p[3];
    at = 4;
  } else if (len == 127) {
    len = 0;
    for (int i = 0; i < 8; i++) len = len << 8 | p[2 + i];
    at = 10;
  }
  f->len = len;
  f->long_len = (at == 4 && len < 126) || (at == 10 && len <= 0xFFFF);
  if (f->masked)
    memcpy(f->key, p + at, 4);
  else
    memset(f->key, 0, 4);
}

static int known_opcode(unsigned op) {
  return op <= WSC__OP_BINARY || (op >= WSC__OP_CLOSE && op <= WSC__OP_PONG);
}

int wsc__frame_check(const wsc__frame *f, const wsc__frame_rules *rules, const char **why) {
  const char *w = NULL;
  int rc = WSC_EPROTO;
  if (f->rsv & ~rules->rsv_allowed & 0x70)
    w = "reserved bit set without a negotiated extension";
  else if (!known_opcode(f->opcode))
    w = "reserved opcode";
  else if (f->len >> 63)
    w = "payload length has the most significant bit set";
  else if (f->long_len) /* RFC 6455 5.2: "the minimal number of bytes MUST be used" */
    w = "payload length not in its shortest encoding";
  else if (f->masked != (rules->expect_masked != 0))
    w = f->masked ? "masked frame from server" : "unmasked frame from client";
  else if (wsc__op_is_control(f->opcode) && !f->fin)
    w = "fragmented control frame";
  else if (wsc__op_is_control(f->opcode) && f->len > WSC__CONTROL_MAX)
    w = "control frame payload over 125 bytes";
  else if (wsc__op_is_control(f->opcode) && (f->rsv & 0x70))
    w = "reserved bit set on a control frame";
  else if (f->len > rules->max_payload) {
    w = "frame payload over the size limit";
    rc = WSC_ETOOBIG;
  }
  if (!w) return 0;
  if (why) *why = w;
  return rc;
}
