/* test_autobahn.c - the Autobahn Testsuite's cases of sections 1-7, as far as
 * they concern the protocol core, replayed against a server-role connection.
 * The case numbers are the suite's. Where the suite echoes messages, these
 * tests check the message events instead; the frames the connection sends on
 * its own (pongs, closes) are checked on the wire. Every input is also fed at
 * every split point, byte by byte and in 997-byte reads (peer_expect). */
#include <stdlib.h>

#include "peer.h"
#include "test.h"
#include "wsc.h"

#define T WSC__OP_TEXT
#define B WSC__OP_BINARY
#define C WSC__OP_CONT
#define PING WSC__OP_PING
#define PONG WSC__OP_PONG
#define CLOSE WSC__OP_CLOSE

static wsc__buf in;

static void frame(int fin, unsigned rsv, unsigned op, const void *p, size_t n) {
  put_frame(&in, fin, rsv, op, p, n, 1);
}
static void expect(const char *expected, int line) {
  peer_expect(WSC__SERVER, in.data, in.len, expected, __FILE__, line);
  wsc__buf_free(&in);
}
#define EXPECT(s) expect(s, __LINE__)

static char *filled(size_t n, char c) {
  char *p = malloc(n + 1);
  memset(p, c, n);
  p[n] = 0;
  return p;
}

/* ---- 1: framing --------------------------------------------------------- */

TEST(ab_1_1_text_lengths) { /* 1.1.1-1.1.6: 0, 125, 126, 127, 128, 65535, 65536 */
  const size_t lens[] = {0, 125, 126, 127, 128, 65535, 65536};
  const char *want[] = {"text(0)", "text(125)#", "text(126)#", "text(127)#", "text(128)#",
                        "text(65535)#", "text(65536)#"};
  for (size_t i = 0; i < 7; i++) {
    char *p = filled(lens[i], '*');
    peer s;
    peer_init(&s, WSC__SERVER);
    frame(1, 0, T, p, lens[i]);
    const char *got = peer_feed(&s, in.data, in.len, 0);
    CHECK(strncmp(got, want[i], strlen(want[i])) == 0);
    CHECK_EQ(s.msg.len, lens[i]);
    if (lens[i]) CHECK_MEM(s.msg.data, p, lens[i]);
    peer_free(&s);
    wsc__buf_free(&in);
    free(p);
  }
}

TEST(ab_1_1_8_text_65536_in_997_byte_chunks) {
  char *p = filled(65536, '*');
  frame(1, 0, T, p, 65536);
  EXPECT("text(65536)#c5949dc5");
  free(p);
}

TEST(ab_1_2_binary_lengths) { /* 1.2.1-1.2.8 */
  const size_t lens[] = {0, 125, 126, 127, 128, 65535, 65536};
  for (size_t i = 0; i < 7; i++) {
    char *p = filled(lens[i], (char)0xfe);
    peer s;
    peer_init(&s, WSC__SERVER);
    frame(1, 0, B, p, lens[i]);
    peer_feed(&s, in.data, in.len, 0);
    CHECK_EQ(s.msg.len, lens[i]);
    if (lens[i]) CHECK_MEM(s.msg.data, p, lens[i]);
    CHECK(s.error == 0);
    peer_free(&s);
    wsc__buf_free(&in);
    free(p);
  }
}

/* ---- 2: pings and pongs ------------------------------------------------- */

TEST(ab_2_1_ping_empty) {
  frame(1, 0, PING, "", 0);
  EXPECT("->pong(0) ping(0)");
}

TEST(ab_2_2_ping_text_payload) {
  frame(1, 0, PING, "Hello, world!", 13);
  EXPECT("->pong(13):Hello, world! ping(13):Hello, world!");
}

TEST(ab_2_3_ping_binary_payload) {
  frame(1, 0, PING, "\x00\xff\xfe\xfd\xfc\xfb\x00\xff", 8);
  EXPECT("->pong(8)#ae45616d ping(8)#ae45616d");
}

TEST(ab_2_4_ping_125_bytes) {
  char *p = filled(125, (char)0xfe);
  frame(1, 0, PING, p, 125);
  EXPECT("->pong(125)#f046f9d1 ping(125)#f046f9d1");
  free(p);
}

TEST(ab_2_5_ping_126_bytes_fails) {
  char *p = filled(126, (char)0xfe);
  frame(1, 0, PING, p, 126);
  EXPECT("->close(1002,control frame payload over 125 bytes) ERR:EPROTO");
  free(p);
}

TEST(ab_2_7_2_8_unsolicited_pongs) {
  frame(1, 0, PONG, "", 0);
  frame(1, 0, PONG, "unsolicited pong payload", 24);
  EXPECT("pong(0) pong(24):unsolicited pong payload");
}

TEST(ab_2_9_pong_then_ping) {
  frame(1, 0, PONG, "unsolicited pong payload", 24);
  frame(1, 0, PING, "ping payload", 12);
  EXPECT("pong(24):unsolicited pong payload ->pong(12):ping payload ping(12):ping payload");
}

TEST(ab_2_10_2_11_ten_pings) {
  char want[2048] = "";
  for (int i = 0; i < 10; i++) {
    char pl[32];
    int n = snprintf(pl, sizeof pl, "payload-%d", i);
    frame(1, 0, PING, pl, (size_t)n);
    char one[128];
    snprintf(one, sizeof one, "%s->pong(%d):%s ping(%d):%s", i ? " " : "", n, pl, n, pl);
    strcat(want, one);
  }
  EXPECT(want);
}

/* ---- 3: reserved bits --------------------------------------------------- */

TEST(ab_3_1_rsv1_text) {
  frame(1, WSC__RSV1, T, "Hello, world!", 13);
  EXPECT("->close(1002,reserved bit set without a negotiated extension) ERR:EPROTO");
}

TEST(ab_3_2_rsv2_after_valid_text) {
  frame(1, 0, T, "Hello, world!", 13);
  frame(1, WSC__RSV2, T, "Hello, world!", 13);
  frame(1, 0, PING, "", 0);
  EXPECT("text(13):Hello, world! ->close(1002,reserved bit set without a negotiated extension) ERR:EPROTO");
}

TEST(ab_3_3_to_3_7_rsv_combinations) {
  const unsigned rsv[] = {WSC__RSV1 | WSC__RSV2, WSC__RSV3, WSC__RSV1 | WSC__RSV3,
                          WSC__RSV2 | WSC__RSV3, 0x70};
  const unsigned op[] = {T, B, B, PING, CLOSE};
  for (int i = 0; i < 5; i++) {
    frame(1, rsv[i], op[i], "\x03\xe8", 2);
    EXPECT("->close(1002,reserved bit set without a negotiated extension) ERR:EPROTO");
  }
}

/* ---- 4: opcodes --------------------------------------------------------- */

TEST(ab_4_1_reserved_data_opcodes) { /* 3-7, after a valid frame, then a ping */
  for (unsigned op = 3; op <= 7; op++) {
    frame(1, 0, T, "Hello", 5);
    frame(1, 0, op, "reserved", op & 1 ? 8 : 0);
    frame(1, 0, PING, "", 0);
    EXPECT("text(5):Hello ->close(1002,reserved opcode) ERR:EPROTO");
  }
}

TEST(ab_4_2_reserved_control_opcodes) { /* 11-15 */
  for (unsigned op = 11; op <= 15; op++) {
    frame(1, 0, T, "Hello", 5);
    frame(1, 0, op, "reserved", op & 1 ? 0 : 8);
    EXPECT("text(5):Hello ->close(1002,reserved opcode) ERR:EPROTO");
  }
}

/* ---- 5: fragmentation --------------------------------------------------- */

TEST(ab_5_1_fragmented_ping) {
  frame(0, 0, PING, "fragment1", 9);
  frame(1, 0, C, "fragment2", 9);
  EXPECT("->close(1002,fragmented control frame) ERR:EPROTO");
}

TEST(ab_5_2_fragmented_pong) {
  frame(0, 0, PONG, "fragment1", 9);
  frame(1, 0, C, "fragment2", 9);
  EXPECT("->close(1002,fragmented control frame) ERR:EPROTO");
}

TEST(ab_5_3_to_5_5_text_in_two_fragments) {
  frame(0, 0, T, "fragment1", 9);
  frame(1, 0, C, "fragment2", 9);
  EXPECT("text(18):fragment1fragment2");
}

TEST(ab_5_6_to_5_8_ping_between_fragments) {
  frame(0, 0, T, "fragment1", 9);
  frame(1, 0, PING, "ping payload", 12);
  frame(1, 0, C, "fragment2", 9);
  EXPECT("->pong(12):ping payload ping(12):ping payload text(18):fragment1fragment2");
}

TEST(ab_5_9_to_5_11_continuation_without_start) {
  frame(1, 0, C, "non-continuation payload", 24);
  frame(1, 0, T, "Hello, world!", 13);
  EXPECT("->close(1002,continuation frame without a message to continue) ERR:EPROTO");
}

TEST(ab_5_12_to_5_14_unfinished_continuation_without_start) {
  frame(0, 0, C, "non-continuation payload", 24);
  frame(1, 0, T, "Hello, world!", 13);
  EXPECT("->close(1002,continuation frame without a message to continue) ERR:EPROTO");
}

TEST(ab_5_15_text_after_finished_fragmented_message) {
  frame(0, 0, T, "fragment1", 9);
  frame(1, 0, C, "fragment2", 9);
  frame(0, 0, C, "fragment3", 9);
  frame(1, 0, C, "fragment4", 9);
  EXPECT("text(18):fragment1fragment2 ->close(1002,continuation frame without a message to continue) ERR:EPROTO");
}

TEST(ab_5_16_5_17_continuation_text_continuation) {
  for (int fin = 0; fin < 2; fin++) {
    frame(fin, 0, C, "fragment1", 9);
    frame(0, 0, T, "fragment2", 9);
    frame(1, 0, C, "fragment3", 9);
    EXPECT("->close(1002,continuation frame without a message to continue) ERR:EPROTO");
  }
}

TEST(ab_5_18_new_text_inside_fragmented_message) {
  frame(0, 0, T, "fragment1", 9);
  frame(1, 0, T, "fragment2", 9);
  EXPECT("->close(1002,new message started before the previous one ended) ERR:EPROTO");
}

TEST(ab_5_19_5_20_pings_among_five_fragments) {
  frame(0, 0, T, "fragment1", 9);
  frame(0, 0, C, "fragment2", 9);
  frame(1, 0, PING, "pongme 1!", 9);
  frame(0, 0, C, "fragment3", 9);
  frame(0, 0, C, "fragment4", 9);
  frame(1, 0, PING, "pongme 2!", 9);
  frame(1, 0, C, "fragment5", 9);
  EXPECT("->pong(9):pongme 1! ping(9):pongme 1! ->pong(9):pongme 2! ping(9):pongme 2! "
         "text(45)#12c4dc98");
}

/* ---- 6: UTF-8 handling in messages -------------------------------------- */

TEST(ab_6_1_empty_text_frames) {
  frame(1, 0, T, "", 0); /* 6.1.1 */
  frame(0, 0, T, "", 0); /* 6.1.2 */
  frame(0, 0, C, "", 0);
  frame(1, 0, C, "", 0);
  frame(0, 0, T, "", 0); /* 6.1.3 */
  frame(0, 0, C, "middle frame payload", 20);
  frame(1, 0, C, "", 0);
  EXPECT("text(0) text(0) text(20):middle frame payload");
}

TEST(ab_6_2_valid_utf8_fragmented_anywhere) {
  /* "Hello-µ@ßöäüàá-UTF-8!!" split at every byte boundary into two frames */
  const char *s = "Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4\xc3\xbc\xc3\xa0\xc3\xa1-UTF-8!!";
  size_t n = strlen(s);
  for (size_t k = 0; k <= n; k++) {
    frame(0, 0, T, s, k);
    frame(1, 0, C, s + k, n - k);
    EXPECT("text(29)#ca9cc68a");
  }
}

TEST(ab_6_3_invalid_utf8_fails_1007) {
  /* 6.3.1: "κόσμε" followed by ED A0 80 (a surrogate) then "edited" */
  const char *s = "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64";
  frame(1, 0, T, s, strlen(s));
  EXPECT("->close(1007,invalid UTF-8 in a text message) ERR:EBADDATA");
}

TEST(ab_6_4_1_fail_fast_in_second_fragment) {
  /* the invalid F4 90 80 80 (above U+10FFFF) comes in the 2nd of 3 frames:
   * the connection must fail before the 3rd frame arrives */
  frame(0, 0, T, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5", 11);
  frame(0, 0, C, "\xf4\x90\x80\x80", 4);
  peer s;
  peer_init(&s, WSC__SERVER);
  CHECK_STR(peer_feed(&s, in.data, in.len, 0),
            "->close(1007,invalid UTF-8 in a text message) ERR:EBADDATA");
  peer_free(&s);
  wsc__buf_free(&in);
}

TEST(ab_6_4_3_fail_fast_inside_a_frame) {
  /* 6.4.3/6.4.4: one frame whose invalid byte (0x90 after F4) arrives before
   * the rest of the frame: the failure comes at that byte */
  frame(1, 0, T, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf4\x90\x80\x80\x65\x64\x69\x74\x65\x64", 21);
  peer s;
  peer_init(&s, WSC__SERVER);
  /* 6-byte header; bytes up to and including F4 are fine */
  CHECK_STR(peer_feed(&s, in.data, 6 + 12, 0), "");
  CHECK_STR(peer_feed(&s, in.data + 18, 1, 0), "->close(1007,invalid UTF-8 in a text message) ERR:EBADDATA");
  peer_free(&s);
  wsc__buf_free(&in);
}

TEST(ab_6_truncated_sequence_at_message_end) {
  frame(0, 0, T, "\xce\xba\xe1", 3);
  frame(1, 0, C, "\xbd", 1);
  EXPECT("->close(1007,text message ends inside a UTF-8 sequence) ERR:EBADDATA");
}

TEST(ab_6_utf8_state_resets_between_messages) {
  frame(1, 0, B, "\xff\xfe", 2); /* binary is never checked */
  frame(1, 0, T, "ok", 2);
  EXPECT("binary(2)#d01ebb10 text(2):ok");
}

/* ---- 7: closing --------------------------------------------------------- */

TEST(ab_7_1_1_text_then_close) {
  frame(1, 0, T, "Hello World!", 12);
  put_close(&in, 1000, NULL);
  EXPECT("text(12):Hello World! ->close(1000) close(1000)");
}

TEST(ab_7_1_2_to_7_1_5_nothing_after_close) {
  put_close(&in, 1000, NULL);
  put_close(&in, 1000, NULL);                   /* 7.1.2 */
  frame(1, 0, PING, "", 0);                     /* 7.1.3 */
  frame(1, 0, T, "after close", 11);            /* 7.1.4 */
  frame(0, 0, T, "fragment1", 9);               /* 7.1.5 */
  EXPECT("->close(1000) close(1000)");
}

TEST(ab_7_1_5_close_between_fragments) {
  frame(0, 0, T, "fragment1", 9);
  put_close(&in, 1000, NULL);
  frame(1, 0, C, "fragment2", 9);
  EXPECT("->close(1000) close(1000)");
}

TEST(ab_7_3_1_close_empty) {
  put_close(&in, -1, NULL);
  EXPECT("->close() close(1005)");
}

TEST(ab_7_3_2_close_one_byte) {
  frame(1, 0, CLOSE, "a", 1);
  EXPECT("->close(1002,close frame with a 1-byte payload) ERR:EPROTO");
}

TEST(ab_7_3_3_to_7_3_5_close_with_reason) {
  put_close(&in, 1000, "Hello World!");
  EXPECT("->close(1000) close(1000,Hello World!)");
  char *r = filled(123, '*');
  put_close(&in, 1000, r);
  char want[300];
  snprintf(want, sizeof want, "->close(1000) close(1000,%s)", r);
  EXPECT(want);
  free(r);
}

TEST(ab_7_3_6_close_reason_124_bytes) {
  char *r = filled(124, '*');
  put_close(&in, 1000, r);
  EXPECT("->close(1002,control frame payload over 125 bytes) ERR:EPROTO");
  free(r);
}

TEST(ab_7_5_1_close_reason_invalid_utf8) {
  put_close(&in, 1000, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64");
  EXPECT("->close(1007,close reason is not valid UTF-8) ERR:EBADDATA");
}

TEST(ab_7_7_valid_close_codes_echoed) {
  const int codes[] = {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011,
                       1012, 1013, 1014, 3000, 3999, 4000, 4999};
  for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
    put_close(&in, codes[i], NULL);
    char want[64];
    snprintf(want, sizeof want, "->close(%d) close(%d)", codes[i], codes[i]);
    EXPECT(want);
  }
}

TEST(ab_7_9_and_7_13_invalid_close_codes) {
  const int codes[] = {0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535};
  for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
    put_close(&in, codes[i], NULL);
    EXPECT("->close(1002,invalid close code) ERR:EPROTO");
  }
}
