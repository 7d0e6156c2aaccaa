/* frame.h - RFC 6455 section 5.2 frame headers: encoding and validation (internal).
 *
 *   0               1               2               3
 *  |F|R|R|R| opcode|M| payload len |  extended payload length (16/64) ...
 *  |I|S|S|S|  (4)  |A|     (7)     |  ... | masking key (0 or 4 bytes) |
 *  |N|V|V|V|       |S|             |
 *
 * The incremental parser that feeds on a byte stream lives in conn.c; this
 * module knows the layout and the rules a single header must satisfy.
 */
#ifndef WSC_PROTO_FRAME_H
#define WSC_PROTO_FRAME_H

#include <stddef.h>
#include <stdint.h>

enum wsc__opcode {
  WSC__OP_CONT = 0x0,
  WSC__OP_TEXT = 0x1,
  WSC__OP_BINARY = 0x2,
  WSC__OP_CLOSE = 0x8,
  WSC__OP_PING = 0x9,
  WSC__OP_PONG = 0xA
};

#define WSC__FIN 0x80
#define WSC__RSV1 0x40
#define WSC__RSV2 0x20
#define WSC__RSV3 0x10
#define WSC__MASK_BIT 0x80
#define WSC__FRAME_MAX_HEADER 14 /* 2 + 8 extended length + 4 key */
#define WSC__CONTROL_MAX 125     /* largest control frame payload */

static inline int wsc__op_is_control(unsigned op) { return (op & 0x8) != 0; }

/* A decoded header. */
typedef struct wsc__frame {
  uint64_t len;   /* payload length */
  uint8_t fin;    /* 1 if FIN is set */
  uint8_t rsv;    /* the RSV bits, as WSC__RSV1|2|3 */
  uint8_t opcode; /* 0..15 */
  uint8_t masked; /* 1 if a masking key follows */
  uint8_t long_len; /* 1 if the length used more bytes than it needed */
  uint8_t key[4]; /* the masking key when masked */
} wsc__frame;

/* Write a frame header to out. rsv is a combination of WSC__RSV1..3; key is
 * NULL for an unmasked frame or the 4-byte masking key (then the MASK bit is
 * set and the key written). The shortest length encoding is always used
 * (7-bit, then 16-bit, then 64-bit). Returns the header size, 2..14. */
size_t wsc__frame_write_header(uint8_t out[WSC__FRAME_MAX_HEADER], int fin, unsigned rsv,
                               unsigned opcode, uint64_t len, const uint8_t *key);

/* Size of the header that starts with bytes b0 b1 (2, 4, 10, plus 4 if masked). */
static inline size_t wsc__frame_header_size(uint8_t b0, uint8_t b1) {
  (void)b0;
  size_t n = 2 + ((b1 & 0x7F) == 126 ? 2 : (b1 & 0x7F) == 127 ? 8 : 0);
  return n + ((b1 & WSC__MASK_BIT) ? 4 : 0);
}

/* Decode a complete header of wsc__frame_header_size(p[0], p[1]) bytes. */
void wsc__frame_decode_header(const uint8_t *p, wsc__frame *f);

/* What a receiving endpoint accepts. */
typedef struct wsc__frame_rules {
  unsigned rsv_allowed; /* RSV bits a negotiated extension owns (e.g. WSC__RSV1) */
  int expect_masked;    /* 1 on a server (clients must mask), 0 on a client */
  uint64_t max_payload; /* frame payload limit */
} wsc__frame_rules;

/* Check a decoded header against RFC 6455 and the rules. Returns 0, or
 * WSC_EPROTO (reserved bits, unknown opcode, fragmented or over-125-byte
 * control frame, wrong masking, 64-bit length with the top bit set, a length
 * not in its shortest encoding) or
 * WSC_ETOOBIG (payload over max_payload); *why gets a static description. */
int wsc__frame_check(const wsc__frame *f, const wsc__frame_rules *rules, const char **why);

#endif
