/* demo.c - `wsc demo`: a client and a server protocol core talk to each other
 * in memory, and every byte that crosses the (imaginary) wire is shown:
 * the opening handshake, text and binary messages, a fragmented message, a
 * ping, and the closing handshake. No sockets: this is the sans-I/O core that
 * the runtime drives over TCP. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "proto/buf.h"
#include "proto/conn.h"
#include "proto/handshake.h"
#include "wsc.h"

typedef struct side {
  const char *name;
  wsc__conn conn;
  wsc__buf wire; /* bytes this side sent, not yet delivered */
  struct side *peer;
  int echo;      /* the server echoes messages */
  wsc__buf msg;  /* message being assembled */
  int msg_op;
} side;

static void show_bytes(const uint8_t *p, size_t n) {
  printf("   ");
  for (size_t i = 0; i < n && i < 24; i++) printf(" %02x", p[i]);
  if (n > 24) printf(" ... (%zu bytes)", n);
  printf("\n");
}

static void show_text(const char *label, const void *p, size_t n) {
  printf("%s", label);
  const unsigned char *s = p;
  for (size_t i = 0; i < n && i < 60; i++) putchar(s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '.');
  printf("%s\n", n > 60 ? "..." : "");
}

static int on_send(void *user, const uint8_t *data, size_t len) {
  side *s = user;
  return wsc__buf_append(&s->wire, data, len);
}

static int on_event(void *user, const wsc__event *ev) {
  side *s = user;
  switch (ev->type) {
  case WSC__EV_DATA:
    if (ev->first) {
      wsc__buf_reset(&s->msg);
      s->msg_op = ev->opcode;
    }
    wsc__buf_append(&s->msg, ev->data, ev->len);
    if (!ev->last) break;
    printf("  %s: message (%s, %zu bytes)", s->name, s->msg_op == WSC__OP_TEXT ? "text" : "binary",
           s->msg.len);
    if (s->msg_op == WSC__OP_TEXT) /* validated UTF-8: print as is */
      printf(": %.*s\n", (int)s->msg.len, (const char *)s->msg.data);
    else
      printf("\n");
    if (s->echo) wsc__conn_send(&s->conn, (unsigned)s->msg_op, s->msg.data, s->msg.len);
    break;
  case WSC__EV_PING:
    printf("  %s: ping received and answered automatically", s->name);
    show_text(": ", ev->data, ev->len);
    break;
  case WSC__EV_PONG:
    printf("  %s: pong", s->name);
    show_text(": ", ev->data, ev->len);
    break;
  case WSC__EV_CLOSE:
    printf("  %s: close frame received, code %d", s->name, ev->code);
    if (ev->len) printf(", reason \"%.*s\"", (int)ev->len, (const char *)ev->data);
    printf("\n");
    break;
  }
  return 0;
}

/* Deliver everything s sent to its peer, frame bytes shown as they go. */
static int deliver(side *s, const char *what) {
  if (s->wire.len == 0) return 0;
  printf("%s -> %s  %s\n", s->name, s->peer->name, what);
  show_bytes(s->wire.data, s->wire.len);
  size_t used;
  int rc = wsc__conn_recv(&s->peer->conn, s->wire.data, s->wire.len, &used);
  wsc__buf_reset(&s->wire);
  if (rc) {
    fprintf(stderr, "%s: %s (%s)\n", s->peer->name, wsc_strerror(rc), s->peer->conn.error_msg);
    return rc;
  }
  return 0;
}

/* Flush both directions until nothing is left in flight. */
static int settle(side *a, side *b, const char *what) {
  int rc = 0;
  while (rc == 0 && (a->wire.len || b->wire.len)) {
    rc = deliver(a, what);
    if (rc == 0) rc = deliver(b, "(reply)");
  }
  return rc;
}

static void show_head(const char *from, const char *to, const wsc__buf *b) {
  printf("%s -> %s  (%zu bytes)\n", from, to, b->len);
  const char *p = (const char *)b->data, *end = p + b->len;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
    if (n && p[n - 1] == '\r') n--;
    if (n) printf("    %.*s\n", (int)n, p);
    p = nl ? nl + 1 : end;
  }
}

static int run(void) {
  wsc__buf req = {0}, res = {0};
  wsc__hs_client hc;
  wsc__hs_server hsrv;
  const char *protocols[] = {"chat", "superchat"};
  wsc__hs_client_config hcfg = {0};
  hcfg.host = "demo.invalid";
  hcfg.target = "/chat";
  hcfg.origin = "http://demo.invalid";
  hcfg.protocols = protocols;
  hcfg.nprotocols = 2;
  int rc = wsc__hs_client_start(&hc, &hcfg, &req);
  if (rc) return rc;
  printf("Opening handshake (RFC 6455 section 4)\n");
  show_head("client", "server", &req);

  size_t used;
  wsc__hs_server_init(&hsrv, 0);
  rc = wsc__hs_server_recv(&hsrv, req.data, req.len, &used);
  if (rc != 1) return rc < 0 ? rc : WSC_EHANDSHAKE;
  rc = wsc__hs_server_accept(&hsrv, "chat", NULL, NULL, 0, &res);
  if (rc) return rc;
  show_head("server", "client", &res);
  rc = wsc__hs_client_recv(&hc, res.data, res.len, &used);
  if (rc != 1) return rc < 0 ? rc : WSC_EHANDSHAKE;
  printf("  client: open, protocol \"%s\", Sec-WebSocket-Accept checked (%s)\n\n", hc.protocol,
         hc.accept);

  wsc__conn_config ccfg = {0}, scfg = {0};
  ccfg.role = WSC__CLIENT;
  scfg.role = WSC__SERVER;
  ccfg.on_event = scfg.on_event = on_event;
  ccfg.on_send = scfg.on_send = on_send;
  side client = {.name = "client"}, server = {.name = "server", .echo = 1};
  client.peer = &server;
  server.peer = &client;
  wsc__conn_init(&client.conn, &ccfg, &client);
  wsc__conn_init(&server.conn, &scfg, &server);

  printf("Messages (RFC 6455 section 5); client frames are masked, the server echoes\n");
  const char *hello = "Hello, server! \xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5";
  rc = wsc__conn_send(&client.conn, WSC__OP_TEXT, hello, strlen(hello));
  if (!rc) rc = settle(&client, &server, "text frame");
  uint8_t bin[300];
  for (size_t i = 0; i < sizeof bin; i++) bin[i] = (uint8_t)i;
  if (!rc) rc = wsc__conn_send(&client.conn, WSC__OP_BINARY, bin, sizeof bin);
  if (!rc) rc = settle(&client, &server, "binary frame, 16-bit length");
  if (!rc) rc = wsc__conn_send_fragment(&client.conn, WSC__OP_TEXT, "in ", 3, 0);
  if (!rc) rc = wsc__conn_send_fragment(&client.conn, WSC__OP_TEXT, "three ", 6, 0);
  if (!rc) rc = wsc__conn_send_fragment(&client.conn, WSC__OP_TEXT, "pieces", 6, 1);
  if (!rc) rc = settle(&client, &server, "one message in three frames");
  if (!rc) rc = wsc__conn_ping(&client.conn, "are you there?", 14);
  if (!rc) rc = settle(&client, &server, "ping");

  printf("\nClosing handshake (RFC 6455 section 7)\n");
  if (!rc) rc = wsc__conn_close(&client.conn, WSC_CLOSE_NORMAL, "bye", 3);
  if (!rc) rc = settle(&client, &server, "close frame");
  if (!rc)
    printf("  closed cleanly: client %s, server %s\n",
           wsc__conn_closed(&client.conn) ? "yes" : "no",
           wsc__conn_closed(&server.conn) ? "yes" : "no");
  if (!rc && !(wsc__conn_closed(&client.conn) && wsc__conn_closed(&server.conn))) rc = WSC_EPROTO;

  wsc__conn_free(&client.conn);
  wsc__conn_free(&server.conn);
  wsc__buf_free(&client.wire);
  wsc__buf_free(&server.wire);
  wsc__buf_free(&client.msg);
  wsc__buf_free(&server.msg);
  wsc__hs_client_free(&hc);
  wsc__hs_server_free(&hsrv);
  wsc__buf_free(&req);
  wsc__buf_free(&res);
  return rc;
}

int cli_demo(int argc, char **argv) {
  if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
    printf("usage: wsc demo\n\n"
           "Run a WebSocket client and server protocol core against each other in\n"
           "memory and show every byte of the opening handshake, messages, ping and\n"
           "closing handshake.\n");
    return 0;
  }
  if (argc > 1) {
    fprintf(stderr, "wsc demo: unexpected argument '%s'\n", argv[1]);
    return 2;
  }
  printf("wsc %s demo: a client and a server, connected in memory\n\n", wsc_version());
  int rc = run();
  if (rc) {
    fprintf(stderr, "wsc demo: %s\n", wsc_strerror(rc));
    return 1;
  }
  return 0;
}
