/* micro_frame.c - frames parsed per second by wsc__conn_recv: a 1 MiB buffer
 * of back-to-back frames is fed in one call, with a callback that only
 * counts. Server role (masked frames: every payload is unmasked, text is
 * UTF-8-validated) and client role (unmasked). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "micro.h"
#include "proto/buf.h"
#include "proto/conn.h"
#include "proto/frame.h"

typedef struct frames {
  wsc__buf pristine; /* the stream as sent */
  uint8_t *work;     /* a copy to parse (unmasking happens in place) */
  size_t count;      /* frames in the stream */
  wsc__role role;
} frames;

static int count_event(void *user, const wsc__event *ev) {
  (void)ev;
  micro_sink += (uintptr_t)user;
  return 0;
}
static int drop_send(void *user, const uint8_t *d, size_t n) {
  (void)user, (void)d, (void)n;
  return 0;
}

static void build(frames *f, wsc__role role, unsigned op, size_t payload) {
  static const uint8_t key[4] = {0x12, 0x34, 0x56, 0x78};
  memset(f, 0, sizeof *f);
  f->role = role;
  uint8_t *body = malloc(payload);
  for (size_t i = 0; i < payload; i++) body[i] = (uint8_t)('a' + i % 26);
  while (f->pristine.len + payload + 14 <= (1u << 20)) {
    uint8_t h[14];
    size_t n = wsc__frame_write_header(h, 1, 0, op, payload, role == WSC__SERVER ? key : NULL);
    wsc__buf_append(&f->pristine, h, n);
    wsc__buf_append(&f->pristine, body, payload); /* masking left out: content is irrelevant */
    f->count++;
  }
  f->work = malloc(f->pristine.len);
  free(body);
}

static void parse(void *arg) {
  frames *f = arg;
  wsc__conn_config cfg = {0};
  cfg.role = f->role;
  cfg.on_event = count_event;
  cfg.on_send = drop_send;
  wsc__conn c;
  wsc__conn_init(&c, &cfg, (void *)1);
  /* the copy is part of the cost: a real read lands in a buffer too */
  memcpy(f->work, f->pristine.data, f->pristine.len);
  size_t used;
  if (wsc__conn_recv(&c, f->work, f->pristine.len, &used) != 0) abort();
  wsc__conn_free(&c);
}

static void one(const char *name, wsc__role role, unsigned op, size_t payload, double seconds) {
  frames f;
  build(&f, role, op, payload);
  /* for binary payloads of letters the unmasked text is not UTF-8-relevant;
   * for text the masked bytes would not be valid UTF-8, so text runs unmasked */
  double gbps = micro_gbps(parse, &f, f.pristine.len, seconds);
  double fps = gbps * 1e9 / (double)f.pristine.len * (double)f.count;
  micro_report("frame", name, fps / 1e6, "M frames/s");
  char label[96];
  snprintf(label, sizeof label, "%s", name);
  micro_report("frame", label, gbps, "GB/s");
  wsc__buf_free(&f.pristine);
  free(f.work);
}

void micro_frame(double seconds) {
  one("server binary 32 B, masked", WSC__SERVER, WSC__OP_BINARY, 32, seconds);
  one("server binary 4 KiB, masked", WSC__SERVER, WSC__OP_BINARY, 4096, seconds);
  one("client text 32 B, UTF-8 checked", WSC__CLIENT, WSC__OP_TEXT, 32, seconds);
  one("client text 4 KiB, UTF-8 checked", WSC__CLIENT, WSC__OP_TEXT, 4096, seconds);
}
