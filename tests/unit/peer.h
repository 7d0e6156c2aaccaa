/* peer.h - a test harness around one wsc__conn: feeds byte streams split in
 * every way, and writes what happened (events received, frames sent back,
 * the error) as one log string, so a test states the expected exchange in a
 * line and every split of the input must produce that same line. */
#ifndef WSC_TEST_PEER_H
#define WSC_TEST_PEER_H

#include <stddef.h>
#include <stdint.h>

#include "proto/buf.h"
#include "proto/conn.h"

typedef struct peer {
  wsc__conn conn;
  wsc__conn_config cfg;
  wsc__buf out;    /* raw bytes the conn sent */
  wsc__buf msg;    /* message being assembled */
  wsc__buf log;    /* the story so far */
  int stop_every;  /* >0: on_event asks to stop after every event */
  int error;       /* last error from wsc__conn_recv */
} peer;

/* Initialise with defaults for the role; tests may then edit p->cfg. The
 * client's masking key is fixed to 37 fa 21 3d (the RFC 6455 example). */
void peer_init(peer *p, wsc__role role);
void peer_free(peer *p);

/* Feed bytes in chunks of `chunk` bytes (0 = all at once), then decode what
 * the conn sent and append it to the log. Returns the log (NUL-terminated). */
const char *peer_feed(peer *p, const uint8_t *data, size_t len, size_t chunk);
/* Decode p->out into the log ("->text(5):Hello ->close(1000)") and clear it. */
void peer_drain(peer *p);
/* The log so far, NUL-terminated. */
const char *peer_log(peer *p);

/* Run a fresh peer of the role over the input: all at once, at every split
 * point into two pieces (inputs up to 4 KiB), one byte at a time (up to
 * 64 KiB) and in 997-byte chunks; every run must produce `expected`. */
void peer_expect(wsc__role role, const uint8_t *data, size_t len, const char *expected,
                 const char *file, int line);
#define PEER_EXPECT(role, buf, expected) \
  peer_expect(role, (buf)->data, (buf)->len, expected, __FILE__, __LINE__)

/* Append a frame to b. masked: use key 37 fa 21 3d (set for frames to a server). */
void put_frame(wsc__buf *b, int fin, unsigned rsv, unsigned op, const void *payload,
               size_t len, int masked);
/* Shorthands for a server's input (masked) with fin = 1, rsv = 0. */
void put_text(wsc__buf *b, const char *s);
void put_close(wsc__buf *b, int code, const char *reason);

#endif
