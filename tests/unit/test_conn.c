/* test_conn.c - the connection state machine: the examples of RFC 6455
 * section 5.7 byte for byte, the send API, limits and failure behaviour. */
#include <stdlib.h>

#include "peer.h"
#include "test.h"
#include "wsc.h"

#define BUF(name) wsc__buf name = {0}

static void feed_raw(wsc__role role, const char *bytes, size_t n, const char *expected) {
  peer_expect(role, (const uint8_t *)bytes, n, expected, __FILE__, __LINE__);
}

/* ---- RFC 6455 section 5.7, receiving ------------------------------------ */

TEST(rfc_unmasked_hello_to_client) {
  feed_raw(WSC__CLIENT, "\x81\x05\x48\x65\x6c\x6c\x6f", 7, "text(5):Hello");
}

TEST(rfc_masked_hello_to_server) {
  feed_raw(WSC__SERVER, "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", 11, "text(5):Hello");
}

TEST(rfc_fragmented_hello_to_client) {
  feed_raw(WSC__CLIENT, "\x01\x03\x48\x65\x6c\x80\x02\x6c\x6f", 9, "text(5):Hello");
}

TEST(rfc_ping_answered_with_masked_pong) {
  /* an unmasked Ping "Hello" to a client is answered with exactly the RFC's
   * masked Pong (the harness fixes the key to 37 fa 21 3d) */
  peer p;
  peer_init(&p, WSC__CLIENT);
  p.cfg.on_event = NULL; /* keep the raw bytes in p.out */
  uint8_t ping[] = {0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f};
  size_t used;
  CHECK_EQ(wsc__conn_recv(&p.conn, ping, sizeof ping, &used), 0);
  CHECK_EQ(used, sizeof ping);
  CHECK_EQ(p.out.len, 11);
  CHECK_MEM(p.out.data, "\x8a\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", 11);
  peer_free(&p);
}

TEST(rfc_256_and_64k_binary_to_client) {
  uint8_t *b = malloc(10 + 65536);
  memcpy(b, "\x82\x7e\x01\x00", 4);
  for (int i = 0; i < 256; i++) b[4 + i] = (uint8_t)i;
  peer p;
  peer_init(&p, WSC__CLIENT);
  CHECK_STR(peer_feed(&p, b, 260, 0), "binary(256)#90a458c5");
  peer_free(&p);
  memcpy(b, "\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10);
  memset(b + 10, 'a', 65536);
  peer_init(&p, WSC__CLIENT);
  CHECK_STR(peer_feed(&p, b, 10 + 65536, 0), "binary(65536)#0f619dc5");
  peer_free(&p);
  free(b);
}

/* ---- RFC 6455 section 5.7, sending -------------------------------------- */

TEST(rfc_send_hello_as_server_and_client) {
  peer p;
  peer_init(&p, WSC__SERVER);
  CHECK_EQ(wsc__conn_send(&p.conn, WSC__OP_TEXT, "Hello", 5), 0);
  CHECK_EQ(p.out.len, 7);
  CHECK_MEM(p.out.data, "\x81\x05\x48\x65\x6c\x6c\x6f", 7);
  peer_free(&p);
  peer_init(&p, WSC__CLIENT);
  CHECK_EQ(wsc__conn_send(&p.conn, WSC__OP_TEXT, "Hello", 5), 0);
  CHECK_EQ(p.out.len, 11);
  CHECK_MEM(p.out.data, "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", 11);
  peer_free(&p);
}

TEST(rfc_send_fragmented_hello) {
  peer p;
  peer_init(&p, WSC__SERVER);
  CHECK_EQ(wsc__conn_send_fragment(&p.conn, WSC__OP_TEXT, "Hel", 3, 0), 0);
  CHECK_EQ(wsc__conn_send_fragment(&p.conn, WSC__OP_TEXT, "lo", 2, 1), 0);
  CHECK_EQ(p.out.len, 9);
  CHECK_MEM(p.out.data, "\x01\x03\x48\x65\x6c\x80\x02\x6c\x6f", 9);
  peer_free(&p);
}

TEST(rfc_send_length_encodings) {
  static uint8_t big[70000];
  const size_t lens[] = {0, 125, 126, 65535, 65536, 70000};
  const char *hdr[] = {"\x82\x00", "\x82\x7d", "\x82\x7e\x00\x7e", "\x82\x7e\xff\xff",
                       "\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00",
                       "\x82\x7f\x00\x00\x00\x00\x00\x01\x11\x70"};
  const size_t hlen[] = {2, 2, 4, 4, 10, 10};
  for (size_t i = 0; i < 6; i++) {
    peer p;
    peer_init(&p, WSC__SERVER);
    CHECK_EQ(wsc__conn_send(&p.conn, WSC__OP_BINARY, big, lens[i]), 0);
    CHECK_EQ(p.out.len, hlen[i] + lens[i]);
    CHECK_MEM(p.out.data, hdr[i], hlen[i]);
    peer_free(&p);
  }
}

/* ---- sending ------------------------------------------------------------ */

TEST(send_large_masked_payload_roundtrip) {
  /* a client's 1 MiB message, masked in chunks, decodes to the original */
  size_t n = 1 << 20;
  uint8_t *msg = malloc(n);
  for (size_t i = 0; i < n; i++) msg[i] = (uint8_t)(i * 7 + (i >> 9));
  peer c, s;
  peer_init(&c, WSC__CLIENT);
  peer_init(&s, WSC__SERVER);
  CHECK_EQ(wsc__conn_send(&c.conn, WSC__OP_BINARY, msg, n), 0);
  size_t used;
  CHECK_EQ(wsc__conn_recv(&s.conn, c.out.data, c.out.len, &used), 0);
  CHECK_EQ(s.msg.len, n);
  CHECK_MEM(s.msg.data, msg, n);
  /* the caller's buffer was not masked in place */
  CHECK_EQ(msg[1], 7);
  peer_free(&c);
  peer_free(&s);
  free(msg);
}

/* Zero-copy sends: the header of one plain frame, the payload masked in
 * place for a client (RFC 6455 section 5.7's masked "Hello"), and 0 whenever
 * the message would be transformed or split. */
TEST(send_header_for_payload_by_reference) {
  uint8_t hdr[WSC__FRAME_MAX_HEADER];
  peer p;
  peer_init(&p, WSC__SERVER);
  uint8_t hello[5] = {'H', 'e', 'l', 'l', 'o'};
  CHECK_EQ(wsc__conn_send_header(&p.conn, WSC__OP_TEXT, hello, 5, hdr), 2);
  CHECK_MEM(hdr, "\x81\x05", 2);
  CHECK_MEM(hello, "Hello", 5); /* a server leaves the bytes alone */
  CHECK_EQ(p.out.len, 0);       /* nothing written: that is the caller's job */
  p.cfg.fragment_size = 4;
  CHECK_EQ(wsc__conn_send_header(&p.conn, WSC__OP_TEXT, hello, 5, hdr), 0); /* would be split */
  CHECK_EQ(wsc__conn_send_header(&p.conn, WSC__OP_TEXT, hello, 4, hdr), 2);
  CHECK_EQ(wsc__conn_send_header(&p.conn, WSC__OP_PING, hello, 4, hdr), WSC_EINVAL);
  CHECK_EQ(wsc__conn_send_fragment(&p.conn, WSC__OP_TEXT, "ab", 2, 0), 0);
  CHECK_EQ(wsc__conn_send_header(&p.conn, WSC__OP_TEXT, hello, 4, hdr), WSC_EINVALIDSTATE);
  peer_free(&p);
  peer_init(&p, WSC__SERVER); /* permessage-deflate: compressed from 4 bytes on */
  const wsc__pmd_params pmd = {0, 0, 15, 15};
  CHECK_EQ(wsc__conn_set_deflate(&p.conn, &pmd, 4), 0);
  CHECK_EQ(wsc__conn_send_header(&p.conn, WSC__OP_BINARY, hello, 3, hdr), 2);
  CHECK_EQ(wsc__conn_send_header(&p.conn, WSC__OP_BINARY, hello, 4, hdr), 0);
  peer_free(&p);
  peer_init(&p, WSC__CLIENT);
  CHECK_EQ(wsc__conn_send_header(&p.conn, WSC__OP_TEXT, hello, 5, hdr), 6);
  CHECK_MEM(hdr, "\x81\x85\x37\xfa\x21\x3d", 6);
  CHECK_MEM(hello, "\x7f\x9f\x4d\x51\x58", 5); /* masked in place */
  CHECK_EQ(wsc__conn_close(&p.conn, 1000, NULL, 0), 0);
  CHECK_EQ(wsc__conn_send_header(&p.conn, WSC__OP_TEXT, hello, 5, hdr), WSC_EINVALIDSTATE);
  peer_free(&p);
}

TEST(send_auto_fragmentation) {
  peer s;
  peer_init(&s, WSC__SERVER);
  s.cfg.fragment_size = 4;
  CHECK_EQ(wsc__conn_send(&s.conn, WSC__OP_TEXT, "abcdefghij", 10), 0);
  peer_drain(&s);
  CHECK_STR(peer_log(&s), "->text(4):abcd+ ->cont(4):efgh+ ->cont(2):ij");
  peer_free(&s);
}

TEST(send_fragments_with_control_between) {
  peer s;
  peer_init(&s, WSC__SERVER);
  CHECK_EQ(wsc__conn_send_fragment(&s.conn, WSC__OP_BINARY, "ab", 2, 0), 0);
  CHECK_EQ(wsc__conn_ping(&s.conn, "p", 1), 0);
  /* a whole message may not start while a fragmented one is open */
  CHECK_EQ(wsc__conn_send(&s.conn, WSC__OP_TEXT, "x", 1), WSC_EINVALIDSTATE);
  /* nor may the opcode change mid-message */
  CHECK_EQ(wsc__conn_send_fragment(&s.conn, WSC__OP_TEXT, "x", 1, 1), WSC_EINVAL);
  CHECK_EQ(wsc__conn_send_fragment(&s.conn, WSC__OP_BINARY, "cd", 2, 1), 0);
  CHECK_EQ(wsc__conn_send(&s.conn, WSC__OP_TEXT, "x", 1), 0);
  peer_drain(&s);
  CHECK_STR(peer_log(&s), "->binary(2):ab+ ->ping(1):p ->cont(2):cd ->text(1):x");
  peer_free(&s);
}

TEST(send_rejects_bad_arguments) {
  peer s;
  peer_init(&s, WSC__SERVER);
  char big[126] = {0};
  CHECK_EQ(wsc__conn_send(&s.conn, WSC__OP_PING, "x", 1), WSC_EINVAL);
  CHECK_EQ(wsc__conn_send(&s.conn, WSC__OP_CONT, "x", 1), WSC_EINVAL);
  CHECK_EQ(wsc__conn_ping(&s.conn, big, 126), WSC_EINVAL);
  CHECK_EQ(wsc__conn_pong(&s.conn, big, 125), 0);
  CHECK_EQ(wsc__conn_close(&s.conn, 1005, NULL, 0), WSC_EINVAL);
  CHECK_EQ(wsc__conn_close(&s.conn, 1000, big, 124), WSC_EINVAL);
  CHECK_EQ(wsc__conn_close(&s.conn, 1000, "\xc3", 1), WSC_ESYNTAX);
  CHECK_EQ(s.conn.close_sent, 0);
  peer_free(&s);
}

TEST(send_nothing_after_close) {
  peer s;
  peer_init(&s, WSC__SERVER);
  CHECK_EQ(wsc__conn_close(&s.conn, 0, NULL, 0), 0);
  CHECK_EQ(wsc__conn_send(&s.conn, WSC__OP_TEXT, "x", 1), WSC_EINVALIDSTATE);
  CHECK_EQ(wsc__conn_ping(&s.conn, "x", 1), WSC_EINVALIDSTATE);
  CHECK_EQ(wsc__conn_close(&s.conn, 1000, NULL, 0), WSC_EINVALIDSTATE);
  peer_drain(&s);
  CHECK_STR(peer_log(&s), "->close()"); /* empty body: no code on the wire */
  peer_free(&s);
}

static int failing_send(void *user, const uint8_t *d, size_t n) {
  (void)user, (void)d, (void)n;
  return WSC_ENOMEM;
}

TEST(send_error_propagates) {
  peer s;
  peer_init(&s, WSC__SERVER);
  s.cfg.on_send = failing_send;
  CHECK_EQ(wsc__conn_send(&s.conn, WSC__OP_TEXT, "x", 1), WSC_ENOMEM);
  peer_free(&s);
}

/* ---- closing handshake --------------------------------------------------- */

TEST(close_initiated_then_answered) {
  peer c;
  peer_init(&c, WSC__CLIENT);
  CHECK_EQ(wsc__conn_close(&c.conn, 1000, "done", 4), 0);
  CHECK_EQ(wsc__conn_closed(&c.conn), 0);
  /* data still arrives while closing; then the server's Close completes it */
  CHECK_STR(peer_feed(&c, (const uint8_t *)"\x81\x01x\x88\x02\x03\xe8", 8, 0),
            "->close(1000,done) text(1):x close(1000)");
  CHECK_EQ(wsc__conn_closed(&c.conn), 1);
  peer_free(&c);
}

TEST(close_received_is_echoed_once) {
  BUF(in);
  put_close(&in, 1001, "going");
  put_close(&in, 1000, "again"); /* ignored: nothing follows a Close */
  put_text(&in, "late");
  PEER_EXPECT(WSC__SERVER, &in, "->close(1001) close(1001,going)");
  wsc__buf_free(&in);
}

TEST(close_no_ping_answer_after_close_sent) {
  peer c;
  peer_init(&c, WSC__CLIENT);
  CHECK_EQ(wsc__conn_close(&c.conn, 0, NULL, 0), 0);
  CHECK_STR(peer_feed(&c, (const uint8_t *)"\x89\x01p", 3, 0), "->close() ping(1):p");
  peer_free(&c);
}

/* ---- limits ------------------------------------------------------------- */

TEST(limit_frame_size_edge) {
  char body[101];
  memset(body, 'a', sizeof body);
  for (int over = 0; over < 2; over++) {
    BUF(in);
    put_frame(&in, 1, 0, WSC__OP_BINARY, body, 100 + (size_t)over, 1);
    peer s;
    peer_init(&s, WSC__SERVER);
    s.cfg.max_frame = 100;
    const char *got = peer_feed(&s, in.data, in.len, 0);
    if (over)
      CHECK_STR(got, "->close(1009,frame payload over the size limit) ERR:ETOOBIG");
    else
      CHECK(strncmp(got, "binary(100)#", 12) == 0);
    peer_free(&s);
    wsc__buf_free(&in);
  }
}

TEST(limit_message_size_across_fragments) {
  /* 60 + 40 = 100 bytes fit, one more byte does not; the error comes on the
   * header of the frame that would pass the limit, before its payload */
  for (int over = 0; over < 2; over++) {
    BUF(in);
    char body[64] = {0};
    put_frame(&in, 0, 0, WSC__OP_BINARY, body, 60, 1);
    put_frame(&in, 1, 0, WSC__OP_CONT, body, 40 + (size_t)over, 1);
    peer s;
    peer_init(&s, WSC__SERVER);
    s.cfg.max_message = 100;
    const char *got = peer_feed(&s, in.data, in.len - (40 + (size_t)over), 0);
    CHECK_STR(got, over ? "->close(1009,message over the size limit) ERR:ETOOBIG" : "");
    peer_free(&s);
    wsc__buf_free(&in);
  }
}

TEST(limit_huge_length_rejected_without_allocation) {
  /* a header announcing 2^62 bytes fails at once with 1009 */
  feed_raw(WSC__SERVER, "\x82\xff\x40\x00\x00\x00\x00\x00\x00\x00\x01\x02\x03\x04", 14,
           "->close(1009,frame payload over the size limit) ERR:ETOOBIG");
}

TEST(limit_defaults_are_bounded) {
  peer s;
  peer_init(&s, WSC__SERVER);
  CHECK(WSC_DEFAULT_MAX_FRAME <= 64u * 1024 * 1024);
  /* 64 MiB + 1 is refused by default */
  const char *hdr = "\x82\xff\x00\x00\x00\x00\x04\x00\x00\x01\x01\x02\x03\x04";
  CHECK_STR(peer_feed(&s, (const uint8_t *)hdr, 14, 0),
            "->close(1009,frame payload over the size limit) ERR:ETOOBIG");
  peer_free(&s);
}

/* ---- failure is sticky, and precise -------------------------------------- */

TEST(failure_is_sticky) {
  peer s;
  peer_init(&s, WSC__SERVER);
  CHECK_STR(peer_feed(&s, (const uint8_t *)"\x81\x00", 2, 0),
            "->close(1002,unmasked frame from client) ERR:EPROTO");
  CHECK_STR(s.conn.error_msg, "unmasked frame from client");
  uint8_t more[] = {0x81, 0x80, 1, 2, 3, 4};
  size_t used = 99;
  CHECK_EQ(wsc__conn_recv(&s.conn, more, sizeof more, &used), WSC_EPROTO);
  CHECK_EQ(used, 0);
  CHECK_EQ(wsc__conn_send(&s.conn, WSC__OP_TEXT, "x", 1), WSC_EINVALIDSTATE);
  peer_free(&s);
}

TEST(masked_frame_to_client_fails) {
  feed_raw(WSC__CLIENT, "\x81\x81\x01\x02\x03\x04\x61", 7,
           "->close(1002,masked frame from server) ERR:EPROTO");
}

/* ---- stopping, resuming, split control frames ---------------------------- */

static int stop_on_first(void *user, const wsc__event *ev) {
  (void)ev;
  int *count = user;
  return ++*count == 1;
}

TEST(stop_from_callback_reports_progress) {
  wsc__conn_config cfg = {0};
  cfg.role = WSC__CLIENT;
  cfg.on_event = stop_on_first;
  cfg.on_send = failing_send;
  int count = 0;
  wsc__conn c;
  wsc__conn_init(&c, &cfg, &count);
  uint8_t in[] = {0x81, 0x01, 'a', 0x81, 0x01, 'b'};
  size_t used;
  CHECK_EQ(wsc__conn_recv(&c, in, sizeof in, &used), 0);
  CHECK_EQ(used, 3); /* stopped right after the first message */
  CHECK_EQ(count, 1);
  CHECK_EQ(wsc__conn_recv(&c, in + 3, 3, &used), 0);
  CHECK_EQ(used, 3);
  CHECK_EQ(count, 2);
  wsc__conn_free(&c);
}

TEST(control_frame_split_buffer_released) {
  peer c;
  peer_init(&c, WSC__CLIENT);
  CHECK_STR(peer_feed(&c, (const uint8_t *)"\x8a\x05He", 4, 0), "");
  CHECK(c.conn.ctl != NULL); /* held only while split */
  CHECK_STR(peer_feed(&c, (const uint8_t *)"llo", 3, 0), "pong(5):Hello");
  CHECK(c.conn.ctl == NULL);
  peer_free(&c);
}

TEST(conn_struct_is_small) {
  /* per-connection memory matters for servers with many idle sockets */
  CHECK_INT(sizeof(wsc__conn), <=, 96);
}

TEST(rsv1_only_on_first_frame_of_a_message) {
  /* RFC 7692 section 6.1: with an extension owning RSV1, the bit may be set
   * on a message's first frame and never on a continuation */
  for (int on_cont = 0; on_cont < 2; on_cont++) {
    wsc__buf in = {0};
    put_frame(&in, 0, WSC__RSV1, WSC__OP_BINARY, "ab", 2, 1);
    put_frame(&in, 1, on_cont ? WSC__RSV1 : 0, WSC__OP_CONT, "cd", 2, 1);
    peer s;
    peer_init(&s, WSC__SERVER);
    wsc__conn_set_rsv_allowed(&s.conn, WSC__RSV1);
    CHECK_STR(peer_feed(&s, in.data, in.len, 0),
              on_cont ? "->close(1002,RSV1 set on a continuation frame) ERR:EPROTO" : "binary(4):abcd");
    peer_free(&s);
    wsc__buf_free(&in);
  }
}

TEST(send_empty_message_from_null_buffer) {
  /* an empty message may come with no buffer at all, as both roles */
  for (int role = 0; role < 2; role++) {
    peer p;
    peer_init(&p, role ? WSC__SERVER : WSC__CLIENT);
    CHECK_EQ(wsc__conn_send(&p.conn, WSC__OP_TEXT, NULL, 0), 0);
    CHECK_EQ(wsc__conn_send_fragment(&p.conn, WSC__OP_BINARY, NULL, 0, 0), 0);
    CHECK_EQ(wsc__conn_send_fragment(&p.conn, WSC__OP_BINARY, NULL, 0, 1), 0);
    peer_drain(&p);
    CHECK_STR(peer_log(&p), "->text(0) ->binary(0)+ ->cont(0)");
    peer_free(&p);
  }
}
