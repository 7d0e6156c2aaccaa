/* test_frame.c - frame header encoding, decoding and the per-frame rules. */
#include "proto/frame.h"
#include "test.h"
#include "wsc.h"

static const wsc__frame_rules server_rules = {0, 1, WSC_DEFAULT_MAX_FRAME};
static const wsc__frame_rules client_rules = {0, 0, WSC_DEFAULT_MAX_FRAME};

static int check_bytes(const uint8_t *h, const wsc__frame_rules *r) {
  wsc__frame f;
  const char *why = NULL;
  wsc__frame_decode_header(h, &f);
  int rc = wsc__frame_check(&f, r, &why);
  CHECK(rc == 0 || why != NULL);
  return rc;
}

TEST(frame_header_7bit) {
  uint8_t h[14];
  CHECK_EQ(wsc__frame_write_header(h, 1, 0, WSC__OP_TEXT, 5, NULL), 2);
  CHECK_MEM(h, "\x81\x05", 2);
  CHECK_EQ(wsc__frame_write_header(h, 1, 0, WSC__OP_BINARY, 125, NULL), 2);
  CHECK_MEM(h, "\x82\x7d", 2);
}

TEST(frame_header_16bit) { /* RFC 6455 5.7: 256 bytes binary, unmasked */
  uint8_t h[14];
  CHECK_EQ(wsc__frame_write_header(h, 1, 0, WSC__OP_BINARY, 256, NULL), 4);
  CHECK_MEM(h, "\x82\x7e\x01\x00", 4);
  CHECK_EQ(wsc__frame_write_header(h, 1, 0, WSC__OP_BINARY, 126, NULL), 4);
  CHECK_MEM(h, "\x82\x7e\x00\x7e", 4);
  CHECK_EQ(wsc__frame_write_header(h, 1, 0, WSC__OP_BINARY, 65535, NULL), 4);
  CHECK_MEM(h, "\x82\x7e\xff\xff", 4);
}

TEST(frame_header_64bit) { /* RFC 6455 5.7: 64 KiB binary, unmasked */
  uint8_t h[14];
  CHECK_EQ(wsc__frame_write_header(h, 1, 0, WSC__OP_BINARY, 65536, NULL), 10);
  CHECK_MEM(h, "\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10);
  CHECK_EQ(wsc__frame_write_header(h, 0, 0, WSC__OP_CONT, 0x0102030405060708ull, NULL), 10);
  CHECK_MEM(h, "\x00\x7f\x01\x02\x03\x04\x05\x06\x07\x08", 10);
}

TEST(frame_header_masked) { /* RFC 6455 5.7: masked "Hello" */
  uint8_t h[14];
  const uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d};
  CHECK_EQ(wsc__frame_write_header(h, 1, 0, WSC__OP_TEXT, 5, key), 6);
  CHECK_MEM(h, "\x81\x85\x37\xfa\x21\x3d", 6);
  CHECK_EQ(wsc__frame_write_header(h, 1, WSC__RSV1, WSC__OP_TEXT, 70000, key), 14);
  CHECK_MEM(h, "\xc1\xff\x00\x00\x00\x00\x00\x01\x11\x70\x37\xfa\x21\x3d", 14);
}

TEST(frame_decode_roundtrip) {
  const uint8_t key[4] = {1, 2, 3, 4};
  const uint64_t lens[] = {0, 1, 125, 126, 127, 65535, 65536, 0x7fffffffffffffffull};
  for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
    for (int m = 0; m < 2; m++) {
      uint8_t h[14];
      size_t n = wsc__frame_write_header(h, i & 1, WSC__RSV1, WSC__OP_BINARY, lens[i], m ? key : NULL);
      CHECK_EQ(wsc__frame_header_size(h[0], h[1]), n);
      wsc__frame f;
      wsc__frame_decode_header(h, &f);
      CHECK(f.len == lens[i]);
      CHECK_EQ(f.fin, i & 1);
      CHECK_EQ(f.rsv, WSC__RSV1);
      CHECK_EQ(f.opcode, WSC__OP_BINARY);
      CHECK_EQ(f.masked, m);
      if (m) CHECK_MEM(f.key, key, 4);
    }
  }
}

TEST(frame_rule_rsv_bits) {
  CHECK_EQ(check_bytes((const uint8_t *)"\xc1\x00", &client_rules), WSC_EPROTO);
  CHECK_EQ(check_bytes((const uint8_t *)"\xa1\x00", &client_rules), WSC_EPROTO);
  CHECK_EQ(check_bytes((const uint8_t *)"\x91\x00", &client_rules), WSC_EPROTO);
  wsc__frame_rules deflate = client_rules;
  deflate.rsv_allowed = WSC__RSV1;
  CHECK_EQ(check_bytes((const uint8_t *)"\xc1\x00", &deflate), 0);
  CHECK_EQ(check_bytes((const uint8_t *)"\xa1\x00", &deflate), WSC_EPROTO);
  /* an extension's RSV1 never applies to control frames */
  CHECK_EQ(check_bytes((const uint8_t *)"\xc9\x00", &deflate), WSC_EPROTO);
}

TEST(frame_rule_opcodes) {
  for (unsigned op = 0; op < 16; op++) {
    uint8_t h[2] = {(uint8_t)(0x80 | op), 0};
    int known = op <= 2 || (op >= 8 && op <= 10);
    CHECK_EQ(check_bytes(h, &client_rules), known ? 0 : WSC_EPROTO);
  }
}

TEST(frame_rule_control_frames) {
  CHECK_EQ(check_bytes((const uint8_t *)"\x09\x00", &client_rules), WSC_EPROTO); /* no FIN */
  CHECK_EQ(check_bytes((const uint8_t *)"\x89\x7d", &client_rules), 0);          /* 125 */
  CHECK_EQ(check_bytes((const uint8_t *)"\x89\x7e\x00\x7e", &client_rules), WSC_EPROTO);
  CHECK_EQ(check_bytes((const uint8_t *)"\x88\x7e\x00\x7d", &client_rules), WSC_EPROTO); /* 16-bit form */
}

TEST(frame_rule_masking) {
  CHECK_EQ(check_bytes((const uint8_t *)"\x81\x00", &server_rules), WSC_EPROTO);
  CHECK_EQ(check_bytes((const uint8_t *)"\x81\x80\x01\x02\x03\x04", &server_rules), 0);
  CHECK_EQ(check_bytes((const uint8_t *)"\x81\x80\x01\x02\x03\x04", &client_rules), WSC_EPROTO);
  CHECK_EQ(check_bytes((const uint8_t *)"\x81\x00", &client_rules), 0);
}

TEST(frame_rule_length_top_bit) {
  CHECK_EQ(check_bytes((const uint8_t *)"\x82\x7f\x80\x00\x00\x00\x00\x00\x00\x00", &client_rules),
           WSC_EPROTO);
  wsc__frame_rules unlimited = client_rules;
  unlimited.max_payload = UINT64_MAX;
  CHECK_EQ(check_bytes((const uint8_t *)"\x82\x7f\x7f\xff\xff\xff\xff\xff\xff\xff", &unlimited), 0);
}

TEST(frame_rule_shortest_length_encoding) {
  CHECK_EQ(check_bytes((const uint8_t *)"\x82\x7e\x00\x7e", &client_rules), 0);
  CHECK_EQ(check_bytes((const uint8_t *)"\x82\x7e\x00\x7d", &client_rules), WSC_EPROTO);
  CHECK_EQ(check_bytes((const uint8_t *)"\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00", &client_rules), 0);
  CHECK_EQ(check_bytes((const uint8_t *)"\x82\x7f\x00\x00\x00\x00\x00\x00\xff\xff", &client_rules),
           WSC_EPROTO);
}

TEST(frame_rule_max_payload) {
  wsc__frame_rules r = client_rules;
  r.max_payload = 1000;
  CHECK_EQ(check_bytes((const uint8_t *)"\x82\x7e\x03\xe8", &r), 0);
  CHECK_EQ(check_bytes((const uint8_t *)"\x82\x7e\x03\xe9", &r), WSC_ETOOBIG);
}
