/* lws_echo.c - a libwebsockets echo server, a peer for bench/compare.sh.
 *
 *   wsc-bench-lws-echo PORT [--deflate [takeover|no-takeover]]    (PORT 0: any free port)
 *
 * Listens on 127.0.0.1, prints `listening on 127.0.0.1:PORT` once it does,
 * and echoes every message with its type (text as text, binary as binary),
 * fragment by fragment as lws delivers them. Default lws options except
 * LWS_SERVER_OPTION_VALIDATE_UTF8 (RFC 6455 requires the check, and the
 * other servers compared do it); no extensions, so no permessage-deflate,
 * unless --deflate: then lws's own permessage-deflate extension
 * (lws_extension_callback_pm_deflate, its defaults), which accepts a client's
 * offer with or without the no_context_takeover parameters. lws has no
 * server-side setting to impose no takeover, so "no-takeover" is accepted for
 * symmetry with the other peers and relies on the client asking for it (which
 * wsc-loadgen --deflate no-takeover does; the response is checked).
 * Two changes from the plain echo with --deflate, both to get correct echoes
 * out of lws 4.1.6: its permessage-deflate buffers are raised from 2^10 to
 * 2^16 bytes per connection (rx_buf_size, tx_buf_size; with 1 KiB, 4 KiB JSON
 * messages pipelined by 50 connections came back corrupted from the byte
 * ~2050 on, with "zlib error inflate -3: invalid distance too far back" in
 * the log, with and without takeover; with 4 KiB or more, no error), and
 * messages are echoed whole (the fragments lws hands over are reassembled,
 * then written with one lws_write), which keeps lws's compression of
 * continuation fragments (lws issue 1413) out of the measurement.
 * The shape is that of lws's own minimal-ws-server-echo example: a ring of
 * received fragments per connection, one lws_write per WRITEABLE callback,
 * receive flow control when the ring is nearly full. The ring is created on
 * the first message so an idle connection costs only what lws itself keeps.
 * Stops on SIGTERM or SIGINT. */
#include <libwebsockets.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RING_DEPTH 64

typedef struct msg {
  void *payload; /* LWS_PRE bytes, then len bytes */
  size_t len;
  char binary, first, final;
} msg;

typedef struct session {
  struct lws_ring *ring;
  uint32_t tail;
  char flow_controlled;
  char consume_pending;
  msg whole; /* --deflate: the message being reassembled (payload NULL: none) */
} session;

#define MAX_WHOLE (64u << 20) /* --deflate: largest message reassembled */

static volatile sig_atomic_t interrupted;
static int whole_messages; /* --deflate: echo whole messages, not fragments */

/* Free one queued fragment (the ring's destroy callback). */
static void destroy_msg(void *p) {
  msg *m = p;
  free(m->payload);
  m->payload = NULL;
  m->len = 0;
}

/* The protocol callback. Returns 0, or -1 to close the connection. */
static int callback_echo(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                         size_t len) {
  session *s = user;
  switch (reason) {
  case LWS_CALLBACK_ESTABLISHED:
    s->ring = NULL;
    s->tail = 0;
    s->flow_controlled = s->consume_pending = 0;
    memset(&s->whole, 0, sizeof s->whole);
    /* See the top of the file: buffers of 2^16 bytes, not 2^10. */
    if (whole_messages && (lws_set_extension_option(wsi, "permessage-deflate", "rx_buf_size", "16") ||
                           lws_set_extension_option(wsi, "permessage-deflate", "tx_buf_size", "16")))
      return -1;
    break;

  case LWS_CALLBACK_SERVER_WRITEABLE: {
    if (!s->ring) break;
    if (s->consume_pending) { /* the fragment written last time */
      lws_ring_consume_single_tail(s->ring, &s->tail, 1);
      s->consume_pending = 0;
    }
    const msg *m = lws_ring_get_element(s->ring, &s->tail);
    if (!m) break;
    int flags = lws_write_ws_flags(m->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT, m->first,
                                   m->final);
    int n = lws_write(wsi, (unsigned char *)m->payload + LWS_PRE, m->len,
                      (enum lws_write_protocol)flags);
    if (n < (int)m->len) return -1;
    s->consume_pending = 1;
    lws_callback_on_writable(wsi);
    if (s->flow_controlled && lws_ring_get_count_free_elements(s->ring) > RING_DEPTH - 5) {
      lws_rx_flow_control(wsi, 1);
      s->flow_controlled = 0;
    }
    break;
  }

  case LWS_CALLBACK_RECEIVE: {
    if (!s->ring) {
      s->ring = lws_ring_create(sizeof(msg), RING_DEPTH, destroy_msg);
      if (!s->ring) return -1;
    }
    size_t free_slots = lws_ring_get_count_free_elements(s->ring);
    if (!free_slots) return -1; /* flow control failed to hold the client back */
    msg m = {.len = len,
             .binary = (char)lws_frame_is_binary(wsi),
             .first = (char)lws_is_first_fragment(wsi),
             .final = (char)lws_is_final_fragment(wsi)};
    if (whole_messages) {
      /* Collect the pieces lws hands over (it inflates in chunks of its rx
       * buffer) and echo the message in one lws_write once it is complete. */
      if (s->whole.len + len > MAX_WHOLE) return -1;
      void *p = realloc(s->whole.payload, LWS_PRE + s->whole.len + len);
      if (!p) return -1;
      s->whole.payload = p;
      if (len) memcpy((char *)p + LWS_PRE + s->whole.len, in, len);
      s->whole.len += len;
      if (!m.final) break;
      m.payload = s->whole.payload;
      m.len = s->whole.len;
      m.first = 1;
      memset(&s->whole, 0, sizeof s->whole);
    } else {
      m.payload = malloc(LWS_PRE + len);
      if (!m.payload) return -1;
      if (len) memcpy((char *)m.payload + LWS_PRE, in, len);
    }
    if (!lws_ring_insert(s->ring, &m, 1)) {
      destroy_msg(&m);
      return -1;
    }
    lws_callback_on_writable(wsi);
    if (free_slots < 4 && !s->flow_controlled) {
      s->flow_controlled = 1;
      lws_rx_flow_control(wsi, 0);
    }
    break;
  }

  case LWS_CALLBACK_CLOSED:
    if (s->ring) lws_ring_destroy(s->ring);
    s->ring = NULL;
    free(s->whole.payload);
    s->whole.payload = NULL;
    break;

  default:
    break;
  }
  return 0;
}

static const struct lws_protocols protocols[] = {
    {"echo", callback_echo, sizeof(session), 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0}, /* terminator */
};

/* SIGTERM/SIGINT: leave the service loop (poll returns EINTR). */
static void on_signal(int sig) {
  (void)sig;
  interrupted = 1;
}

static const struct lws_extension extensions[] = {
    {"permessage-deflate", lws_extension_callback_pm_deflate,
     "permessage-deflate; client_max_window_bits"},
    {NULL, NULL, NULL}, /* terminator */
};

int main(int argc, char **argv) {
  char *end = NULL;
  long port = argc >= 2 ? strtol(argv[1], &end, 10) : -1;
  int deflate = argc >= 3 && strcmp(argv[2], "--deflate") == 0;
  int bad_mode = argc == 4 && strcmp(argv[3], "takeover") != 0 && strcmp(argv[3], "no-takeover") != 0;
  if (argc < 2 || argc > 4 || (argc >= 3 && !deflate) || bad_mode || !end || *end || port < 0 ||
      port > 65535) {
    fprintf(stderr, "usage: %s PORT [--deflate [takeover|no-takeover]]\n", argv[0]);
    return 2;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  lws_set_log_level(LLL_ERR | LLL_WARN, NULL);

  struct lws_context_creation_info info;
  memset(&info, 0, sizeof info);
  info.port = (int)port;
  info.iface = "127.0.0.1";
  info.protocols = protocols;
  info.options = LWS_SERVER_OPTION_VALIDATE_UTF8;
  if (deflate) info.extensions = extensions;
  whole_messages = deflate;
  struct lws_context *ctx = lws_create_context(&info);
  if (!ctx) {
    fprintf(stderr, "lws_echo: lws_create_context failed\n");
    return 1;
  }
  struct lws_vhost *vh = lws_get_vhost_by_name(ctx, "default");
  printf("listening on 127.0.0.1:%d\n", vh ? lws_get_vhost_listen_port(vh) : (int)port);
  fflush(stdout);
  int n = 0;
  while (n >= 0 && !interrupted) n = lws_service(ctx, 0);
  lws_context_destroy(ctx);
  return 0;
}
