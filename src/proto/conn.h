/* conn.h - the sans-I/O WebSocket connection: bytes in, events out;
 * messages in, bytes out (internal).
 *
 * A wsc__conn holds the state of one endpoint after the opening handshake:
 * the incremental frame parser, fragmentation and UTF-8 state of the message
 * being received, the close handshake, and the rules of RFC 6455 sections 5
 * to 7. It does no I/O, reads no clock and allocates nothing on the hot path
 * (a 125-byte buffer only while a control frame is split across reads).
 *
 *   received bytes --wsc__conn_recv--> cfg->on_event(DATA | PING | PONG | CLOSE)
 *   wsc__conn_send / _ping / _close --> cfg->on_send(bytes to write)
 *
 * Failing the connection (RFC 6455 section 7.1.7): when received bytes break a
 * rule, wsc__conn_recv sends a Close frame with the matching code (1002
 * protocol error, 1007 invalid payload, 1009 too big) and a short reason
 * through on_send, then returns the error; every later wsc__conn_recv returns
 * the same error. The caller then closes the transport.
 *
 * After a Close frame has been received, further bytes are ignored. A
 * received Close is answered automatically (echoing its code) unless one was
 * already sent; a Ping is answered with a Pong unless no_auto_pong is set or
 * a Close was sent.
 */
#ifndef WSC_PROTO_CONN_H
#define WSC_PROTO_CONN_H

#include <stddef.h>
#include <stdint.h>

#include "proto/frame.h"
#include "proto/pmd.h"
#include "proto/utf8.h"

struct wsc__deflate;

typedef enum wsc__role { WSC__CLIENT = 0, WSC__SERVER = 1 } wsc__role;

typedef enum wsc__event_type {
  WSC__EV_DATA = 1, /* a piece of a text or binary message */
  WSC__EV_PING,     /* a Ping arrived (already answered unless no_auto_pong) */
  WSC__EV_PONG,     /* a Pong arrived */
  WSC__EV_CLOSE     /* a Close arrived; its code was validated */
} wsc__event_type;

typedef struct wsc__event {
  wsc__event_type type;
  uint8_t opcode; /* DATA: WSC__OP_TEXT or WSC__OP_BINARY (also for continuations) */
  uint8_t first;  /* DATA: the first piece of its message */
  uint8_t last;   /* DATA: the message is complete with this piece */
  int code;       /* CLOSE: the code, or 1005 when the frame had no body */
  uint8_t *data;  /* payload (CLOSE: the reason, valid UTF-8), unmasked; points into
                     the caller's input buffer or the conn; valid during the callback */
  size_t len;
} wsc__event;

typedef struct wsc__conn_config {
  wsc__role role;
  uint64_t max_frame;   /* largest frame payload accepted; 0 = WSC_DEFAULT_MAX_FRAME */
  uint64_t max_message; /* largest message accepted; 0 = WSC_DEFAULT_MAX_MESSAGE */
  size_t fragment_size; /* split outgoing messages into frames of at most this
                           many payload bytes; 0 = one frame per message */
  int no_auto_pong;     /* 1: leave answering pings to the application */

  /* Called for every event. Return 0 to go on; non-zero stops wsc__conn_recv
   * at once (it reports how far it got). A callback that destroys the
   * connection must return non-zero. */
  int (*on_event)(void *user, const wsc__event *ev);
  /* Called with bytes to write, in order. The bytes are only valid during the
   * call (copy or write them). Return 0, or a negative error to abort the
   * operation that produced them. */
  int (*on_send)(void *user, const uint8_t *data, size_t len);
  /* Masking key source for a client; NULL = CSPRNG (the only right choice
   * outside tests). Return 0 or a negative error. */
  int (*make_mask)(void *user, uint8_t key[4]);
} wsc__conn_config;

/* The connection. Embed it or allocate it; initialise with wsc__conn_init. */
typedef struct wsc__conn {
  const wsc__conn_config *cfg; /* borrowed, may be shared by many conns */
  void *user;
  uint64_t remaining;    /* payload bytes left in the frame being read */
  uint64_t msg_len;      /* payload bytes of the message being read so far */
  const char *error_msg; /* static text of the failure, or NULL */
  uint8_t *ctl;          /* control payload being assembled (malloc'd, 125 B) */
  struct wsc__deflate *deflate; /* permessage-deflate state, NULL when not negotiated */
  wsc__utf8 utf8;        /* validator of the text message being read */
  int error;             /* sticky failure, 0 while healthy */
  uint8_t hdr[WSC__FRAME_MAX_HEADER]; /* header bytes split across reads */
  uint8_t hdr_have;
  uint8_t key[4];        /* masking key of the frame being read */
  uint8_t phase;         /* masking phase within that frame */
  uint8_t in_payload;    /* 1: reading a payload, 0: reading a header */
  uint8_t op, fin, masked;
  uint8_t msg_op;        /* opcode of the message being read, 0 = none */
  uint8_t msg_emitted;   /* a piece of that message went out already */
  uint8_t ctl_len;
  uint8_t rsv_allowed;   /* RSV bits owned by negotiated extensions */
  uint8_t send_op;       /* opcode of a message being sent in fragments */
  uint8_t close_sent, close_received;
} wsc__conn;

void wsc__conn_init(wsc__conn *c, const wsc__conn_config *cfg, void *user);
void wsc__conn_free(wsc__conn *c); /* releases what init and use acquired */

/* RSV bits that negotiated extensions own (WSC__RSV1 for permessage-deflate). */
void wsc__conn_set_rsv_allowed(wsc__conn *c, unsigned rsv);

/* Attach a negotiated permessage-deflate agreement (RFC 7692), before any
 * message: from then on a received message whose first frame has RSV1 is
 * inflated as it arrives and delivered as DATA events of at most
 * WSC__DEFLATE_CHUNK bytes (first/last as for any message), its inflated size
 * held to max_message (1009) and its text checked as UTF-8 on the inflated
 * bytes (1007); invalid compressed data fails with 1007. wsc__conn_send
 * compresses messages of at least `threshold` bytes (0: all of them; smaller
 * ones go out plain, without RSV1), wsc__conn_send_fragment compresses a
 * message whose first piece has at least `threshold` bytes. The role comes
 * from the conn's config. zlib memory is taken at the first compressed
 * message in each direction and released after each message when that
 * direction has no context takeover.
 * Returns 0, WSC_EINVAL (already attached, or a window outside 8..15) or
 * WSC_ENOMEM. */
int wsc__conn_set_deflate(wsc__conn *c, const wsc__pmd_params *params, size_t threshold);

/* The zlib level messages are compressed with from the next compressor set up
 * on (the first compressed message, or each one without context takeover):
 * 1 (fastest) .. 9 (smallest), 0 = zlib's default (6). WSC_EINVAL without an
 * agreement or outside 0..9. */
int wsc__conn_set_deflate_level(wsc__conn *c, int level);

/* Bytes of zlib state the conn holds now (0 without deflate); *peak, if not
 * NULL, gets the most it ever held. */
size_t wsc__conn_deflate_memory(const wsc__conn *c, size_t *peak);

/* Process received bytes. Payloads are unmasked in place, so data must be
 * writable. Returns 0 with *consumed == len when everything was processed (or
 * ignored after a Close), 0 with *consumed < len when an event callback asked
 * to stop (call again with the rest), or a negative error when the peer broke
 * a rule: WSC_EPROTO, WSC_EBADDATA, WSC_ETOOBIG, or an error from on_send or
 * allocation. c->error_msg then says what happened. */
int wsc__conn_recv(wsc__conn *c, uint8_t *data, size_t len, size_t *consumed);

/* Payload bytes of the data frame being read that are still to come, when
 * the caller may read them straight to where it assembles the message (and
 * then pass them to wsc__conn_recv there, to be unmasked and validated in
 * place): only while reading an uncompressed data frame of a message that
 * already produced a DATA event, so the caller holds its start. 0 otherwise.
 * Also a size hint: inside a DATA event it is what the frame still carries. */
uint64_t wsc__conn_payload_ahead(const wsc__conn *c);

/* Send a whole text or binary message (opcode WSC__OP_TEXT or _BINARY). Text is
 * not validated here. Returns 0, WSC_EINVAL (bad opcode),
 * WSC_EINVALIDSTATE (a Close was sent, the connection failed, or a fragmented
 * message is being sent), or an error from on_send / the mask source. */
int wsc__conn_send(wsc__conn *c, unsigned opcode, const void *data, size_t len);

/* Send a whole message whose payload the caller writes itself, by reference
 * (zero-copy sends): when it goes out as one plain frame (not compressed, not
 * split by fragment_size), the frame header is written to hdr and, for a
 * client, data (which the caller hands over) is masked in place; the caller
 * then writes hdr[0 .. return value) followed by data. Returns the header
 * length; 0 when the message would be transformed (send it with
 * wsc__conn_send instead); or WSC_EINVAL / WSC_EINVALIDSTATE as
 * wsc__conn_send, or an error from the mask source. */
int wsc__conn_send_header(wsc__conn *c, unsigned opcode, uint8_t *data, size_t len,
                          uint8_t hdr[WSC__FRAME_MAX_HEADER]);

/* Send one piece of a message built in fragments: the first call starts a
 * message of the given opcode, later calls must pass the same opcode, and
 * fin = 1 ends it. Control frames may be sent in between. Same errors as
 * wsc__conn_send, plus WSC_EINVAL for an opcode that differs from the
 * message's. */
int wsc__conn_send_fragment(wsc__conn *c, unsigned opcode, const void *data, size_t len,
                            int fin);

/* Send a Ping or Pong with up to 125 bytes of payload. 0, WSC_EINVAL (too
 * long), WSC_EINVALIDSTATE (a Close was sent) or an on_send error. */
int wsc__conn_ping(wsc__conn *c, const void *data, size_t len);
int wsc__conn_pong(wsc__conn *c, const void *data, size_t len);

/* Start (or answer) the closing handshake: code 0 sends an empty Close body,
 * otherwise code must be valid on the wire and the reason at most 123 bytes of
 * UTF-8. 0, WSC_EINVAL (code or reason length), WSC_ESYNTAX (reason not
 * UTF-8), WSC_EINVALIDSTATE (a Close was already sent) or an on_send error. */
int wsc__conn_close(wsc__conn *c, int code, const void *reason, size_t len);

/* 1 once both Close frames have crossed (the closing handshake is complete). */
static inline int wsc__conn_closed(const wsc__conn *c) {
  return c->close_sent && c->close_received;
}

#endif
