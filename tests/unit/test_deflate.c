/* test_deflate.c - permessage-deflate on the connection (RFC 7692 section 7.2):
 * the examples of section 7.2.3 byte for byte in both directions, round trips
 * of many sizes with and without context takeover and for every window size,
 * RSV1 rules, limits (a decompression bomb stops at max_message with 1009
 * having held no more than a window and a chunk), zlib memory released when
 * no context is kept, and every input fed whole, split at every point, byte
 * by byte and stopped after every event. */
#include <stdlib.h>
#include <zlib.h>

#include "peer.h"
#include "proto/deflate.h"
#include "test.h"
#include "wsc.h"

#define KIB 1024
#define MIB (1024 * 1024)

static const wsc__pmd_params takeover = {0, 0, 15, 15};
static const wsc__pmd_params no_takeover = {1, 1, 15, 15};

/* ---- helpers -------------------------------------------------------------- */

static void dpeer_init(peer *p, wsc__role role, const wsc__pmd_params *pm) {
  peer_init(p, role);
  CHECK_EQ(wsc__conn_set_deflate(&p->conn, pm, 0), 0);
}

/* peer_feed with a fresh deflate peer, in two pieces split at `split` (0 =
 * in chunks of `chunk`), optionally stopping after each event. */
static const char *drun(peer *p, wsc__role role, const wsc__pmd_params *pm, uint64_t max_message,
                        const uint8_t *data, size_t len, size_t split, size_t chunk, int stop) {
  dpeer_init(p, role, pm);
  p->cfg.max_message = max_message;
  p->stop_every = stop;
  if (split && split < len) {
    peer_feed(p, data, split, 0);
    if (!p->error) peer_feed(p, data + split, len - split, 0);
    return peer_log(p);
  }
  return peer_feed(p, data, len, chunk);
}

/* Every way of feeding the input must tell the same story: whole, whole with
 * a stop after each event, split in two at every point (up to 4 KiB), byte
 * by byte (up to 64 KiB), 997-byte reads. */
static void dexpect_(wsc__role role, const wsc__pmd_params *pm, uint64_t max_message,
                     const wsc__buf *in, const char *expected, const char *file, int line) {
  peer p;
  const char *got;
  struct {
    const char *how;
    size_t split, chunk;
    int stop;
  } runs[] = {{"one read", 0, 0, 0}, {"stop after each event", 0, 0, 1},
              {"byte by byte", 0, 1, 0}, {"byte by byte, stopping", 0, 1, 1},
              {"997-byte reads", 0, 997, 0}};
  for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++) {
    if (runs[r].chunk == 1 && in->len > 65536) continue;
    got = drun(&p, role, pm, max_message, in->data, in->len, runs[r].split, runs[r].chunk,
               runs[r].stop);
    if (strcmp(got, expected) != 0)
      wsc_test_fail(file, line, "%s: expected\n  %s\ngot\n  %s", runs[r].how, expected, got);
    peer_free(&p);
  }
  for (size_t k = 1; in->len <= 4096 && k < in->len; k++) {
    got = drun(&p, role, pm, max_message, in->data, in->len, k, 0, 0);
    if (strcmp(got, expected) != 0)
      wsc_test_fail(file, line, "split at %zu: expected\n  %s\ngot\n  %s", k, expected, got);
    peer_free(&p);
  }
}
#define DEXPECT(role, pm, max, in, expected) dexpect_(role, pm, max, in, expected, __FILE__, __LINE__)

static void put_hex(wsc__buf *b, const char *hex) {
  for (const char *s = hex; *s;) {
    if (*s == ' ') {
      s++;
      continue;
    }
    unsigned v;
    CHECK_EQ(sscanf(s, "%2x", &v), 1);
    uint8_t byte = (uint8_t)v;
    wsc__buf_append(b, &byte, 1);
    s += 2;
  }
}

/* An independent compressor: raw DEFLATE of in[0..n) with Z_SYNC_FLUSH on a
 * stream the caller keeps (for context takeover), tail removed, into out. */
static void zcompress(z_stream *z, const uint8_t *in, size_t n, wsc__buf *out) {
  uint8_t buf[4096];
  z->next_in = (Bytef *)(uintptr_t)in;
  z->avail_in = (uInt)n;
  size_t start = out->len;
  do {
    z->next_out = buf;
    z->avail_out = sizeof buf;
    int rc = deflate(z, Z_SYNC_FLUSH);
    CHECK(rc == Z_OK || rc == Z_BUF_ERROR);
    wsc__buf_append(out, buf, sizeof buf - z->avail_out);
  } while (z->avail_out == 0);
  CHECK_INT(out->len - start, >=, 4);
  CHECK_MEM(out->data + out->len - 4, "\x00\x00\xff\xff", 4);
  out->len -= 4;
}

static void zinit(z_stream *z, int bits) {
  memset(z, 0, sizeof *z);
  CHECK_EQ(deflateInit2(z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -bits, 8, Z_DEFAULT_STRATEGY), Z_OK);
}

/* The bytes a conn sent, decoded independently: frames with RSV1 flags. Each
 * message is reassembled, inflated with a raw zlib stream the caller keeps,
 * and appended to msgs. */
typedef struct decoded {
  int frames;
  int rsv1_frames;
  int bad_rsv1; /* RSV1 on a continuation */
} decoded;

static void decode_sent(const wsc__buf *wire, z_stream *inf, wsc__buf *msg, decoded *d) {
  size_t i = 0;
  const uint8_t *b = wire->data;
  wsc__buf comp = {0};
  int compressed = 0;
  memset(d, 0, sizeof *d);
  while (i < wire->len) {
    CHECK_INT(i + 2, <=, wire->len);
    unsigned fin = b[i] >> 7, rsv1 = (b[i] >> 6) & 1, op = b[i] & 15, masked = b[i + 1] >> 7;
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
    CHECK_INT(i + h + n, <=, wire->len);
    d->frames++;
    d->rsv1_frames += (int)rsv1;
    if (op != WSC__OP_CONT) compressed = (int)rsv1;
    else if (rsv1) d->bad_rsv1++;
    for (uint64_t k = 0; k < n; k++) {
      uint8_t c = b[i + h + k] ^ (masked ? key[k % 4] : 0);
      wsc__buf_append(compressed ? &comp : msg, &c, 1);
    }
    if (fin && compressed) {
      wsc__buf_append(&comp, "\x00\x00\xff\xff", 4);
      uint8_t out[4096];
      inf->next_in = comp.data;
      inf->avail_in = (uInt)comp.len;
      do {
        inf->next_out = out;
        inf->avail_out = sizeof out;
        int rc = inflate(inf, Z_SYNC_FLUSH);
        CHECK(rc == Z_OK || rc == Z_BUF_ERROR);
        wsc__buf_append(msg, out, sizeof out - inf->avail_out);
      } while (inf->avail_out == 0 || inf->avail_in);
      wsc__buf_reset(&comp);
    }
    i += h + (size_t)n;
  }
  wsc__buf_free(&comp);
}

/* FNV-1a, as peer.c describes long payloads. */
static uint32_t fnv(const uint8_t *d, size_t n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; i++) h = (h ^ d[i]) * 16777619u;
  return h;
}

static void fill(uint8_t *p, size_t n, int compressible, uint32_t seed) {
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    p[i] = compressible ? (uint8_t)("lorem ipsum dolor "[(x >> 8) % 6 + (i % 12)]) : (uint8_t)x;
  }
}

/* ---- RFC 7692 section 7.2.3, receiving -------------------------------------- */

TEST(deflate_rfc_7_2_3_1_hello_to_client) {
  wsc__buf b = {0};
  put_hex(&b, "c1 07 f2 48 cd c9 c9 07 00");
  DEXPECT(WSC__CLIENT, &takeover, 0, &b, "text(5):Hello");
  wsc__buf_free(&b);
}

TEST(deflate_rfc_7_2_3_1_fragmented_hello_to_client) {
  wsc__buf b = {0};
  put_hex(&b, "41 03 f2 48 cd 80 04 c9 c9 07 00");
  DEXPECT(WSC__CLIENT, &takeover, 0, &b, "text(5):Hello");
  wsc__buf_free(&b);
}

TEST(deflate_rfc_7_2_3_2_shared_window) {
  wsc__buf b = {0};
  put_hex(&b, "c1 07 f2 48 cd c9 c9 07 00 c1 05 f2 00 11 00 00");
  DEXPECT(WSC__CLIENT, &takeover, 0, &b, "text(5):Hello text(5):Hello");
  /* without context takeover the back-reference has no window to point into */
  peer p;
  dpeer_init(&p, WSC__CLIENT, &no_takeover);
  CHECK_STR(peer_feed(&p, b.data, b.len, 0), "text(5):Hello ->close(1007,invalid compressed data) ERR:EBADDATA");
  peer_free(&p);
  wsc__buf_free(&b);
}

TEST(deflate_rfc_7_2_3_3_stored_block) {
  wsc__buf b = {0};
  put_hex(&b, "c1 0b 00 05 00 fa ff 48 65 6c 6c 6f 00");
  DEXPECT(WSC__CLIENT, &takeover, 0, &b, "text(5):Hello");
  wsc__buf_free(&b);
}

TEST(deflate_rfc_7_2_3_4_bfinal_block) {
  /* a final block, a padding byte that starts an empty stored block; the
   * next message may still refer back into the window */
  wsc__buf b = {0};
  put_hex(&b, "c1 08 f3 48 cd c9 c9 07 00 00 c1 05 f2 00 11 00 00");
  DEXPECT(WSC__CLIENT, &takeover, 0, &b, "text(5):Hello text(5):Hello");
  wsc__buf_reset(&b);
  /* a final block that ends the payload (zlib's Z_FINISH output), twice */
  put_hex(&b, "c1 07 f3 48 cd c9 c9 07 00 c1 07 f3 48 cd c9 c9 07 00");
  DEXPECT(WSC__CLIENT, &takeover, 0, &b, "text(5):Hello text(5):Hello");
  DEXPECT(WSC__CLIENT, &no_takeover, 0, &b, "text(5):Hello text(5):Hello");
  wsc__buf_free(&b);
}

TEST(deflate_rfc_7_2_3_5_two_blocks) {
  wsc__buf b = {0};
  put_hex(&b, "c1 0d f2 48 05 00 00 00 ff ff ca c9 c9 07 00");
  DEXPECT(WSC__CLIENT, &takeover, 0, &b, "text(5):Hello");
  wsc__buf_free(&b);
}

TEST(deflate_rfc_7_2_3_6_empty_message) {
  wsc__buf b = {0};
  put_hex(&b, "c1 01 00 c2 01 00");
  DEXPECT(WSC__CLIENT, &takeover, 0, &b, "text(0) binary(0)");
  wsc__buf_free(&b);
}

TEST(deflate_rfc_hello_to_server_masked) {
  wsc__buf b = {0};
  put_frame(&b, 1, WSC__RSV1, WSC__OP_TEXT, "\xf2\x48\xcd\xc9\xc9\x07\x00", 7, 1);
  put_frame(&b, 1, WSC__RSV1, WSC__OP_TEXT, "\xf2\x00\x11\x00\x00", 5, 1);
  DEXPECT(WSC__SERVER, &takeover, 0, &b, "text(5):Hello text(5):Hello");
  wsc__buf_free(&b);
}

/* ---- RFC 7692 section 7.2.3, sending ---------------------------------------- */

TEST(deflate_rfc_send_hello_shared_window) {
  peer p;
  dpeer_init(&p, WSC__SERVER, &takeover);
  CHECK_EQ(wsc__conn_send(&p.conn, WSC__OP_TEXT, "Hello", 5), 0);
  CHECK_EQ(p.out.len, 9);
  CHECK_MEM(p.out.data, "\xc1\x07\xf2\x48\xcd\xc9\xc9\x07\x00", 9);
  p.out.len = 0;
  CHECK_EQ(wsc__conn_send(&p.conn, WSC__OP_TEXT, "Hello", 5), 0);
  CHECK_EQ(p.out.len, 7);
  CHECK_MEM(p.out.data, "\xc1\x05\xf2\x00\x11\x00\x00", 7);
  peer_free(&p);
  /* no context takeover: every message as the first */
  dpeer_init(&p, WSC__SERVER, &no_takeover);
  for (int i = 0; i < 3; i++) {
    p.out.len = 0;
    CHECK_EQ(wsc__conn_send(&p.conn, WSC__OP_TEXT, "Hello", 5), 0);
    CHECK_EQ(p.out.len, 9);
    CHECK_MEM(p.out.data, "\xc1\x07\xf2\x48\xcd\xc9\xc9\x07\x00", 9);
    CHECK_EQ(wsc__conn_deflate_memory(&p.conn, NULL), 0); /* freed after each message */
  }
  peer_free(&p);
}

TEST(deflate_rfc_send_empty_message) {
  peer p;
  dpeer_init(&p, WSC__SERVER, &takeover);
  CHECK_EQ(wsc__conn_send(&p.conn, WSC__OP_BINARY, NULL, 0), 0);
  CHECK_EQ(p.out.len, 3);
  CHECK_MEM(p.out.data, "\xc2\x01\x00", 3);
  p.out.len = 0;
  /* after a flush zlib has nothing to write: still a valid empty message */
  CHECK_EQ(wsc__conn_send(&p.conn, WSC__OP_BINARY, NULL, 0), 0);
  CHECK_EQ(p.out.len, 3);
  CHECK_MEM(p.out.data, "\xc2\x01\x00", 3);
  peer_free(&p);
}

TEST(deflate_send_threshold_sends_small_messages_plain) {
  peer p;
  peer_init(&p, WSC__SERVER);
  CHECK_EQ(wsc__conn_set_deflate(&p.conn, &takeover, 6), 0);
  CHECK_EQ(wsc__conn_set_deflate(&p.conn, &takeover, 6), WSC_EINVAL); /* once */
  CHECK_EQ(wsc__conn_send(&p.conn, WSC__OP_TEXT, "Hello", 5), 0);
  CHECK_EQ(p.out.len, 7);
  CHECK_MEM(p.out.data, "\x81\x05Hello", 7); /* no RSV1 */
  CHECK_EQ(wsc__conn_deflate_memory(&p.conn, NULL), 0); /* no zlib state was needed */
  p.out.len = 0;
  CHECK_EQ(wsc__conn_send(&p.conn, WSC__OP_TEXT, "Hello!", 6), 0);
  CHECK_EQ(p.out.data[0], 0xc1);
  peer_free(&p);
}

TEST(deflate_set_rejects_bad_windows) {
  peer p;
  peer_init(&p, WSC__SERVER);
  wsc__pmd_params bad = {0, 0, 7, 15};
  CHECK_EQ(wsc__conn_set_deflate(&p.conn, &bad, 0), WSC_EINVAL);
  bad = (wsc__pmd_params){0, 0, 15, 16};
  CHECK_EQ(wsc__conn_set_deflate(&p.conn, &bad, 0), WSC_EINVAL);
  CHECK_EQ(wsc__conn_set_deflate(&p.conn, NULL, 0), WSC_EINVAL);
  peer_free(&p);
}

/* The level reaches zlib: 9 is smaller than 1 on compressible data, 0 is
 * zlib's default (the same bytes as 6), and each output inflates back. */
static size_t sent_at_level(int level, const uint8_t *data, size_t n, wsc__buf *out) {
  peer s, c;
  dpeer_init(&s, WSC__SERVER, &takeover);
  CHECK_EQ(wsc__conn_set_deflate_level(&s.conn, level), 0);
  CHECK_EQ(wsc__conn_send(&s.conn, WSC__OP_BINARY, data, n), 0);
  dpeer_init(&c, WSC__CLIENT, &takeover);
  size_t used;
  CHECK_EQ(wsc__conn_recv(&c.conn, s.out.data, s.out.len, &used), 0);
  CHECK_EQ(used, s.out.len);
  CHECK_EQ(c.msg.len, n);
  CHECK_MEM(c.msg.data, data, n);
  out->len = 0;
  wsc__buf_append(out, s.out.data, s.out.len);
  peer_free(&s);
  peer_free(&c);
  return out->len;
}

TEST(deflate_level_reaches_the_compressor) {
  enum { N = 256 * KIB };
  uint8_t *data = malloc(N);
  CHECK(data);
  fill(data, N, 1, 7);
  wsc__buf l1 = {0}, l6 = {0}, l9 = {0}, l0 = {0};
  size_t n1 = sent_at_level(1, data, N, &l1), n6 = sent_at_level(6, data, N, &l6);
  size_t n9 = sent_at_level(9, data, N, &l9), n0 = sent_at_level(0, data, N, &l0);
  CHECK_INT(n9, <, n1);
  CHECK_INT(n6, <, n1);
  CHECK_EQ(n0, n6);
  CHECK_MEM(l0.data, l6.data, n6);
  peer p;
  peer_init(&p, WSC__SERVER);
  CHECK_EQ(wsc__conn_set_deflate_level(&p.conn, 1), WSC_EINVAL); /* no agreement */
  CHECK_EQ(wsc__conn_set_deflate(&p.conn, &takeover, 0), 0);
  CHECK_EQ(wsc__conn_set_deflate_level(&p.conn, 10), WSC_EINVAL);
  CHECK_EQ(wsc__conn_set_deflate_level(&p.conn, -1), WSC_EINVAL);
  peer_free(&p);
  wsc__buf_free(&l1);
  wsc__buf_free(&l6);
  wsc__buf_free(&l9);
  wsc__buf_free(&l0);
  free(data);
}

TEST(deflate_send_fragments_rsv1_on_first_only) {
  /* Hel / lo / (empty, fin): one compressed message, RSV1 once, and an
   * independent inflater gets "Hello" */
  peer p;
  dpeer_init(&p, WSC__CLIENT, &takeover);
  CHECK_EQ(wsc__conn_send_fragment(&p.conn, WSC__OP_TEXT, "Hel", 3, 0), 0);
  CHECK_EQ(wsc__conn_ping(&p.conn, "x", 1), 0); /* a control frame in between */
  CHECK_EQ(wsc__conn_send_fragment(&p.conn, WSC__OP_TEXT, "lo", 2, 0), 0);
  CHECK_EQ(wsc__conn_send_fragment(&p.conn, WSC__OP_TEXT, NULL, 0, 1), 0);
  CHECK_EQ(wsc__conn_send_fragment(&p.conn, WSC__OP_TEXT, "Hello", 5, 1), 0); /* whole */
  z_stream inf = {0};
  CHECK_EQ(inflateInit2(&inf, -15), Z_OK);
  wsc__buf msg = {0}, wire = {0};
  /* drop the ping (unmasked it would confuse the message) by decoding up to it */
  decoded d;
  size_t ping_at = 0;
  for (size_t i = 0; i + 1 < p.out.len; i++)
    if (p.out.data[i] == 0x89) { ping_at = i; break; }
  CHECK_INT(ping_at, >, 0);
  wsc__buf_append(&wire, p.out.data, ping_at);
  wsc__buf_append(&wire, p.out.data + ping_at + 7, p.out.len - ping_at - 7);
  decode_sent(&wire, &inf, &msg, &d);
  CHECK_EQ(d.frames, 4);
  CHECK_EQ(d.rsv1_frames, 2);
  CHECK_EQ(d.bad_rsv1, 0);
  CHECK_EQ(msg.len, 10);
  CHECK_MEM(msg.data, "HelloHello", 10);
  inflateEnd(&inf);
  wsc__buf_free(&msg);
  wsc__buf_free(&wire);
  peer_free(&p);
}

/* ---- round trips ------------------------------------------------------------ */

/* A client conn sends to a server conn and back, with the agreement pm:
 * every size, compressible or not, whole and in fragments; each message must
 * arrive intact, RSV1 only on first frames. */
static void round_trips(const wsc__pmd_params *pm, size_t fragment_size) {
  static const size_t sizes[] = {0, 1, 5, 125, 126, 1000, 16383, 16384, 16385,
                                 65535, 65536, 100000, 300000, 1 * MIB + 7};
  uint8_t *data = malloc(2 * MIB);
  CHECK(data);
  peer c, s;
  dpeer_init(&c, WSC__CLIENT, pm);
  dpeer_init(&s, WSC__SERVER, pm);
  c.cfg.fragment_size = s.cfg.fragment_size = fragment_size;
  z_stream inf = {0};
  CHECK_EQ(inflateInit2(&inf, -15), Z_OK);
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
    for (int comp = 0; comp < 2; comp++)
      for (int dir = 0; dir < 2; dir++) {
        peer *from = dir ? &s : &c, *to = dir ? &c : &s;
        size_t n = sizes[i];
        fill(data, n, comp, (uint32_t)(i * 4 + (size_t)comp * 2 + (size_t)dir));
        from->out.len = 0;
        if (i % 3 == 2 && n > 2) { /* in three pieces */
          CHECK_EQ(wsc__conn_send_fragment(&from->conn, WSC__OP_BINARY, data, n / 3, 0), 0);
          CHECK_EQ(wsc__conn_send_fragment(&from->conn, WSC__OP_BINARY, data + n / 3, n / 3, 0), 0);
          CHECK_EQ(wsc__conn_send_fragment(&from->conn, WSC__OP_BINARY, data + 2 * (n / 3),
                                           n - 2 * (n / 3), 1), 0);
        } else {
          CHECK_EQ(wsc__conn_send(&from->conn, WSC__OP_BINARY, data, n), 0);
        }
        /* the receiving conn */
        wsc__buf_reset(&to->msg);
        wsc__buf copy = {0};
        wsc__buf_append(&copy, from->out.data, from->out.len);
        size_t used;
        to->log.len = 0;
        CHECK_EQ(wsc__conn_recv(&to->conn, from->out.data, from->out.len, &used), 0);
        CHECK_EQ(used, from->out.len);
        if (to->msg.len != n || (n && memcmp(to->msg.data, data, n) != 0))
          wsc_test_fail(__FILE__, __LINE__, "size %zu comp %d dir %d: got %zu bytes", n, comp,
                        dir, to->msg.len);
        /* it did compress, and incompressible data did not grow much (small
         * windows force small blocks: ~2% at 9 bits; frame headers) */
        int small = pm->server_max_window_bits < 12 || pm->client_max_window_bits < 12;
        if (comp && n > 1000) CHECK_INT(copy.len, <, small ? n * 3 / 4 : n / 2);
        if (!comp && n > 1000) CHECK_INT(copy.len, <, n + n / 40 + 64);
        if (pm->server_no_context_takeover && pm->client_no_context_takeover) {
          CHECK_EQ(wsc__conn_deflate_memory(&c.conn, NULL), 0);
          CHECK_EQ(wsc__conn_deflate_memory(&s.conn, NULL), 0);
        }
        wsc__buf_free(&copy);
      }
  inflateEnd(&inf);
  peer_free(&c);
  peer_free(&s);
  free(data);
}

TEST(deflate_round_trip_sizes_takeover) { round_trips(&takeover, 0); }
TEST(deflate_round_trip_sizes_no_takeover) { round_trips(&no_takeover, 0); }
TEST(deflate_round_trip_sizes_fragment_size) { round_trips(&takeover, 1000); }
TEST(deflate_round_trip_mixed_takeover) {
  const wsc__pmd_params a = {1, 0, 15, 15}, b = {0, 1, 15, 15};
  round_trips(&a, 0);
  round_trips(&b, 0);
}

TEST(deflate_round_trip_every_window) {
  for (unsigned sb = 8; sb <= 15; sb++)
    for (unsigned cb = 8; cb <= 15; cb += 7) {
      wsc__pmd_params pm = {0, 0, (uint8_t)sb, (uint8_t)cb};
      round_trips(&pm, 0);
    }
}

TEST(deflate_window_8_sender_fits_256_byte_window) {
  /* zlib deflates "8" with a 512-byte window, but never emits a distance
   * beyond 512 - 262 = 250, so an inflater with a genuine 256-byte window
   * (raw windowBits 8) decodes the output, with context takeover */
  const wsc__pmd_params pm = {0, 0, 8, 8};
  peer s;
  dpeer_init(&s, WSC__SERVER, &pm);
  z_stream inf = {0};
  CHECK_EQ(inflateInit2(&inf, -8), Z_OK);
  uint8_t *data = malloc(200000);
  for (int m = 0; m < 20; m++) {
    /* repeats at distances of 200 to 600 bytes tempt the compressor */
    for (size_t i = 0; i < 10000; i++)
      data[i] = i < 600 ? (uint8_t)(i * 7 + (size_t)m) : data[i - 200 - (i / 7 % 400)];
    s.out.len = 0;
    CHECK_EQ(wsc__conn_send(&s.conn, WSC__OP_BINARY, data, 10000), 0);
    wsc__buf msg = {0};
    decoded d;
    decode_sent(&s.out, &inf, &msg, &d);
    CHECK_EQ(msg.len, 10000);
    CHECK_MEM(msg.data, data, 10000);
    CHECK_INT(s.out.len, <, 10000); /* it compressed */
    wsc__buf_free(&msg);
  }
  inflateEnd(&inf);
  free(data);
  peer_free(&s);
}

/* ---- receiving: chunking, limits, bombs, errors ------------------------------ */

typedef struct counter {
  size_t events, bytes, biggest;
  int last_seen;
} counter;

static int count_event(void *user, const wsc__event *ev) {
  counter *k = user;
  if (ev->type != WSC__EV_DATA) return 0;
  k->events++;
  k->bytes += ev->len;
  if (ev->len > k->biggest) k->biggest = ev->len;
  if (ev->last) k->last_seen = 1;
  return 0;
}

static int send_sink(void *user, const uint8_t *data, size_t len) {
  (void)user;
  (void)data;
  (void)len;
  return 0;
}

/* len bytes of zeros as one compressed message to a server (masked). */
static void zeros_message(wsc__buf *out, size_t len, int fragments) {
  z_stream z;
  zinit(&z, 15);
  uint8_t *zeros = calloc(1, len);
  wsc__buf comp = {0};
  zcompress(&z, zeros, len, &comp);
  deflateEnd(&z);
  free(zeros);
  size_t step = fragments ? comp.len / (size_t)fragments + 1 : comp.len;
  for (size_t off = 0; off < comp.len || off == 0; off += step) {
    size_t n = comp.len - off < step ? comp.len - off : step;
    put_frame(out, off + n == comp.len, off ? 0 : WSC__RSV1, off ? WSC__OP_CONT : WSC__OP_BINARY,
              comp.data + off, n, 1);
    if (n == 0) break;
  }
  wsc__buf_free(&comp);
}

TEST(deflate_bomb_stops_at_max_message_with_bounded_memory) {
  wsc__buf in = {0};
  zeros_message(&in, 10 * MIB, 0);
  CHECK_INT(in.len, <, 20 * KIB); /* 10 MB of zeros in a few KB */
  wsc__conn_config cfg = {0};
  cfg.role = WSC__SERVER;
  cfg.max_message = 1 * MIB;
  cfg.on_event = count_event;
  cfg.on_send = send_sink;
  counter k = {0};
  wsc__conn c;
  wsc__conn_init(&c, &cfg, &k);
  CHECK_EQ(wsc__conn_set_deflate(&c, &takeover, 0), 0);
  size_t used;
  CHECK_EQ(wsc__conn_recv(&c, in.data, in.len, &used), WSC_ETOOBIG);
  CHECK_STR(c.error_msg, "message over the size limit");
  CHECK(c.close_sent);
  CHECK_INT(k.bytes, <=, 1 * MIB); /* never more than the limit delivered */
  CHECK_INT(k.bytes, >, 1 * MIB - WSC__DEFLATE_CHUNK);
  CHECK_EQ(k.last_seen, 0);
  CHECK_INT(k.biggest, <=, WSC__DEFLATE_CHUNK);
  size_t peak;
  wsc__conn_deflate_memory(&c, &peak);
  /* the inflater: a 32 KiB window + ~7 KiB state + the z_stream */
  CHECK_INT(peak, <, 48 * KIB);
  CHECK_INT(peak, >, 32 * KIB);
  wsc__conn_free(&c);
  wsc__buf_free(&in);
}

TEST(deflate_bomb_in_fragments_and_1009_on_the_wire) {
  wsc__buf in = {0};
  zeros_message(&in, 4 * MIB, 7);
  peer p;
  dpeer_init(&p, WSC__SERVER, &takeover);
  p.cfg.max_message = 1 * MIB;
  CHECK_STR(peer_feed(&p, in.data, in.len, 0), "->close(1009,message over the size limit) ERR:ETOOBIG");
  peer_free(&p);
  /* exactly at the limit is fine */
  wsc__buf_reset(&in);
  zeros_message(&in, 1 * MIB, 3);
  uint8_t *zeros = calloc(1, 1 * MIB);
  char want[64];
  snprintf(want, sizeof want, "binary(1048576)#%08x", fnv(zeros, 1 * MIB));
  free(zeros);
  DEXPECT(WSC__SERVER, &takeover, 1 * MIB, &in, want);
  wsc__buf_free(&in);
}

TEST(deflate_large_message_in_chunks_split_everywhere) {
  /* 100 KB of text inflated from a few hundred bytes: delivered in chunks,
   * identical whatever the reads and with a stop after every event */
  z_stream z;
  zinit(&z, 15);
  size_t n = 100000;
  uint8_t *text = malloc(n);
  for (size_t i = 0; i < n; i++) text[i] = (uint8_t)"h\xc3\xa9llo w\xe2\x82\xacrld "[i % 16];
  wsc__buf comp = {0}, in = {0};
  zcompress(&z, text, n, &comp);
  deflateEnd(&z);
  put_frame(&in, 0, WSC__RSV1, WSC__OP_TEXT, comp.data, comp.len / 2, 0);
  put_frame(&in, 1, 0, WSC__OP_CONT, comp.data + comp.len / 2, comp.len - comp.len / 2, 0);
  CHECK_INT(in.len, <, 4096);
  char want[64];
  snprintf(want, sizeof want, "text(100000)#%08x", fnv(text, n)); /* as the harness prints it */
  DEXPECT(WSC__CLIENT, &takeover, 0, &in, want);
  free(text);
  wsc__buf_free(&comp);
  wsc__buf_free(&in);
}

TEST(deflate_invalid_utf8_after_inflating_is_1007) {
  z_stream z;
  zinit(&z, 15);
  wsc__buf comp = {0}, in = {0};
  zcompress(&z, (const uint8_t *)"ok \xed\xa0\x80 no", 9, &comp); /* a surrogate */
  deflateEnd(&z);
  put_frame(&in, 1, WSC__RSV1, WSC__OP_TEXT, comp.data, comp.len, 1);
  DEXPECT(WSC__SERVER, &takeover, 0, &in, "->close(1007,invalid UTF-8 in a text message) ERR:EBADDATA");
  /* truncated sequence at the end */
  wsc__buf_reset(&comp);
  wsc__buf_reset(&in);
  zinit(&z, 15);
  zcompress(&z, (const uint8_t *)"ok \xe2\x82", 5, &comp);
  deflateEnd(&z);
  put_frame(&in, 1, WSC__RSV1, WSC__OP_TEXT, comp.data, comp.len, 1);
  DEXPECT(WSC__SERVER, &takeover, 0, &in,
          "->close(1007,text message ends inside a UTF-8 sequence) ERR:EBADDATA");
  wsc__buf_free(&comp);
  wsc__buf_free(&in);
}

TEST(deflate_invalid_data_is_1007) {
  wsc__buf in = {0};
  put_frame(&in, 1, WSC__RSV1, WSC__OP_BINARY, "\xff\xff\xff\xff", 4, 1); /* reserved block type */
  DEXPECT(WSC__SERVER, &takeover, 0, &in, "->close(1007,invalid compressed data) ERR:EBADDATA");
  wsc__buf_reset(&in);
  /* a message that stops inside a block (here: an empty payload, whose tail
   * reads as the start of a stored block) */
  put_frame(&in, 1, WSC__RSV1, WSC__OP_BINARY, "", 0, 1);
  DEXPECT(WSC__SERVER, &takeover, 0, &in, "->close(1007,invalid compressed data) ERR:EBADDATA");
  wsc__buf_reset(&in);
  put_frame(&in, 1, WSC__RSV1, WSC__OP_BINARY, "\xf2\x48\xcd", 3, 1); /* cut short */
  DEXPECT(WSC__SERVER, &takeover, 0, &in, "->close(1007,invalid compressed data) ERR:EBADDATA");
  wsc__buf_free(&in);
}

TEST(deflate_rsv1_rules) {
  wsc__buf in = {0};
  /* RSV1 on a continuation frame */
  put_frame(&in, 0, WSC__RSV1, WSC__OP_TEXT, "\xf2\x48\xcd", 3, 1);
  put_frame(&in, 1, WSC__RSV1, WSC__OP_CONT, "\xc9\xc9\x07\x00", 4, 1);
  DEXPECT(WSC__SERVER, &takeover, 0, &in, "->close(1002,RSV1 set on a continuation frame) ERR:EPROTO");
  /* RSV1 on control frames */
  wsc__buf_reset(&in);
  put_frame(&in, 1, WSC__RSV1, WSC__OP_PING, "", 0, 1);
  DEXPECT(WSC__SERVER, &takeover, 0, &in,
          "->close(1002,reserved bit set on a control frame) ERR:EPROTO");
  wsc__buf_reset(&in);
  put_frame(&in, 1, WSC__RSV1, WSC__OP_CLOSE, "\x03\xe8", 2, 1);
  DEXPECT(WSC__SERVER, &takeover, 0, &in,
          "->close(1002,reserved bit set on a control frame) ERR:EPROTO");
  /* RSV2 / RSV3 stay reserved */
  wsc__buf_reset(&in);
  put_frame(&in, 1, WSC__RSV2, WSC__OP_TEXT, "a", 1, 1);
  DEXPECT(WSC__SERVER, &takeover, 0, &in,
          "->close(1002,reserved bit set without a negotiated extension) ERR:EPROTO");
  /* a message without RSV1 is plain, and control frames may interleave a
   * compressed message */
  wsc__buf_reset(&in);
  put_frame(&in, 1, 0, WSC__OP_TEXT, "plain", 5, 1);
  put_frame(&in, 0, WSC__RSV1, WSC__OP_TEXT, "\xf2\x48\xcd", 3, 1);
  put_frame(&in, 1, 0, WSC__OP_PING, "p", 1, 1);
  put_frame(&in, 1, 0, WSC__OP_CONT, "\xc9\xc9\x07\x00", 4, 1);
  DEXPECT(WSC__SERVER, &takeover, 0, &in, "text(5):plain ->pong(1):p ping(1):p text(5):Hello");
  /* without deflate attached, RSV1 is a protocol error as before */
  wsc__buf_reset(&in);
  put_frame(&in, 1, WSC__RSV1, WSC__OP_TEXT, "\xf2\x48\xcd\xc9\xc9\x07\x00", 7, 1);
  peer p;
  peer_init(&p, WSC__SERVER);
  CHECK_STR(peer_feed(&p, in.data, in.len, 0),
            "->close(1002,reserved bit set without a negotiated extension) ERR:EPROTO");
  peer_free(&p);
  wsc__buf_free(&in);
}

TEST(deflate_compressed_size_is_limited_too) {
  /* endless empty stored blocks inflate to nothing: the compressed size
   * (twice max_message + 1 KiB) stops them */
  wsc__buf in = {0};
  static uint8_t empties[5000];
  for (size_t i = 0; i < sizeof empties; i += 5) memcpy(empties + i, "\x00\x00\x00\xff\xff", 5);
  put_frame(&in, 0, WSC__RSV1, WSC__OP_BINARY, empties, sizeof empties, 1);
  put_frame(&in, 0, 0, WSC__OP_CONT, empties, sizeof empties, 1);
  peer p;
  dpeer_init(&p, WSC__SERVER, &takeover);
  p.cfg.max_message = 4000;
  CHECK_STR(peer_feed(&p, in.data, in.len, 0),
            "->close(1009,compressed message over the size limit) ERR:ETOOBIG");
  peer_free(&p);
  wsc__buf_free(&in);
}

TEST(deflate_memory_released_without_takeover_and_lazy) {
  peer c, s;
  const wsc__pmd_params server_resets = {1, 0, 15, 15};
  dpeer_init(&c, WSC__CLIENT, &server_resets);
  dpeer_init(&s, WSC__SERVER, &server_resets);
  CHECK_EQ(wsc__conn_deflate_memory(&c.conn, NULL), 0); /* nothing before the first message */
  CHECK_EQ(wsc__conn_deflate_memory(&s.conn, NULL), 0);
  uint8_t data[3000];
  fill(data, sizeof data, 1, 9);
  for (int i = 0; i < 3; i++) {
    s.out.len = 0;
    CHECK_EQ(wsc__conn_send(&s.conn, WSC__OP_BINARY, data, sizeof data), 0);
    CHECK_EQ(wsc__conn_deflate_memory(&s.conn, NULL), 0); /* server compressor freed */
    size_t used;
    CHECK_EQ(wsc__conn_recv(&c.conn, s.out.data, s.out.len, &used), 0);
    CHECK_EQ(c.msg.len, sizeof data);
    CHECK_EQ(wsc__conn_deflate_memory(&c.conn, NULL), 0); /* client inflater freed */
  }
  /* the client keeps its context: its compressor stays */
  CHECK_EQ(wsc__conn_send(&c.conn, WSC__OP_BINARY, data, sizeof data), 0);
  size_t now = wsc__conn_deflate_memory(&c.conn, NULL);
  CHECK_INT(now, >, 200 * KIB); /* deflate at 15 bits, memLevel 8: ~262 KiB */
  CHECK_INT(now, <, 300 * KIB);
  size_t used;
  CHECK_EQ(wsc__conn_recv(&s.conn, c.out.data, c.out.len, &used), 0);
  CHECK_INT(wsc__conn_deflate_memory(&s.conn, NULL), >, 32 * KIB); /* server inflater kept */
  peer_free(&c);
  peer_free(&s);
}

TEST(deflate_masked_incompressible_stopping_after_each_event) {
  /* 200 KB of random bytes to a server: more payload per read than zlib takes
   * before a chunk is full, so stopping after each event leaves masked
   * payload for the next call; every way of feeding gives the same message */
  size_t n = 200000;
  uint8_t *data = malloc(n);
  fill(data, n, 0, 77);
  z_stream z;
  zinit(&z, 15);
  wsc__buf comp = {0}, in = {0};
  zcompress(&z, data, n, &comp);
  deflateEnd(&z);
  CHECK_INT(comp.len, >, n); /* stored blocks */
  put_frame(&in, 0, WSC__RSV1, WSC__OP_BINARY, comp.data, 70000, 1);
  put_frame(&in, 1, 0, WSC__OP_CONT, comp.data + 70000, comp.len - 70000, 1);
  char want[64];
  snprintf(want, sizeof want, "binary(200000)#%08x", fnv(data, n));
  DEXPECT(WSC__SERVER, &takeover, 0, &in, want);
  free(data);
  wsc__buf_free(&comp);
  wsc__buf_free(&in);
}

TEST(deflate_reach_beyond_negotiated_window_same_whatever_the_reads) {
  /* The server agreed to a 512-byte window but compresses with 32 KiB: a
   * back-reference 3000 bytes away. zlib alone would accept it when the
   * referenced bytes came out in the same inflate() call and refuse it
   * otherwise, so the outcome depended on how reads were cut (found by
   * fuzz_deflate). The inflater uses the full window: always accepted. */
  static const wsc__pmd_params small = {0, 0, 9, 15};
  z_stream z;
  zinit(&z, 15);
  size_t n = 6000;
  uint8_t *msg = malloc(n);
  fill(msg, 3000, 0, 7);           /* incompressible... */
  memcpy(msg + 3000, msg, 3000);   /* ...then all of it again, 3000 back */
  wsc__buf comp = {0}, in = {0};
  zcompress(&z, msg, n, &comp);
  deflateEnd(&z);
  put_frame(&in, 1, WSC__RSV1, WSC__OP_BINARY, comp.data, comp.len, 0);
  CHECK_INT(in.len, <, 4096); /* small enough to be split at every point */
  char want[64];
  snprintf(want, sizeof want, "binary(6000)#%08x", fnv(msg, n));
  DEXPECT(WSC__CLIENT, &small, 0, &in, want);
  free(msg);
  wsc__buf_free(&comp);
  wsc__buf_free(&in);
}
