/* browser_echo_server.c - the server of tests/browser/echo.test.js.
 *
 *   browser_echo_server --root DIR [--deflate]
 *
 * Listens on 127.0.0.1 at a free port, serves the files under DIR over plain
 * HTTP (wsc_server_set_onhttp + wsc_request_serve_file) and echoes every
 * WebSocket message on /echo, speaking the subprotocol "wsc-echo". It prints
 * one line per event, flushed, for the test to read:
 *   LISTEN http://127.0.0.1:PORT/
 *   OPEN path=/echo protocol=P extensions=E
 *   MESSAGE text|binary LENGTH
 *   CLOSE code=C reason=R clean=0|1
 * The text message "close-me CODE REASON" makes the server close with that
 * code and reason instead of echoing it. --deflate turns permessage-deflate
 * on (wsc_server_options.deflate). The test stops it by PID.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wsc.h"

static void on_message(wsc_socket *ws, const wsc_event *ev, void *user) {
  (void)user;
  const wsc_message_event *m = wsc_event_message(ev);
  const char *d = m->data;
  static const char cmd[] = "close-me ";
  if (m->is_text && m->length > sizeof cmd - 1 && memcmp(d, cmd, sizeof cmd - 1) == 0) {
    /* "close-me 4002 some reason": parse the code by hand (no atoi) */
    size_t i = sizeof cmd - 1;
    int code = 0;
    while (i < m->length && d[i] >= '0' && d[i] <= '9' && code < 10000) code = code * 10 + (d[i++] - '0');
    if (i < m->length && d[i] == ' ') i++;
    int rc = wsc_socket_close(ws, code, d + i, m->length - i);
    printf("CLOSING code=%d rc=%d\n", code, rc);
    fflush(stdout);
    return;
  }
  printf("MESSAGE %s %zu\n", m->is_text ? "text" : "binary", m->length);
  fflush(stdout);
  int rc = m->is_text ? wsc_socket_send_text(ws, d, m->length)
                      : wsc_socket_send_binary(ws, d, m->length);
  if (rc < 0) {
    printf("SEND-ERROR %s\n", wsc_strerror(rc));
    fflush(stdout);
  }
}

static void on_close(wsc_socket *ws, const wsc_event *ev, void *user) {
  (void)ws;
  (void)user;
  const wsc_close_event *c = wsc_event_close(ev);
  printf("CLOSE code=%d reason=%.*s clean=%d\n", c->code, (int)c->reason_length,
         c->reason ? c->reason : "", c->was_clean);
  fflush(stdout);
}

static void on_connection(wsc_server *srv, wsc_socket *ws, const wsc_request *req, void *user) {
  (void)srv;
  (void)user;
  wsc_socket_set_binary_type(ws, WSC_BINARY_ARRAYBUFFER);
  wsc_socket_set_onmessage(ws, on_message, NULL);
  wsc_socket_set_onclose(ws, on_close, NULL);
  printf("OPEN path=%s protocol=%s extensions=%s\n", wsc_request_path(req),
         wsc_socket_protocol(ws), wsc_socket_extensions(ws));
  fflush(stdout);
}

static void on_upgrade(wsc_server *srv, wsc_request *req, void *user) {
  (void)srv;
  (void)user;
  if (strcmp(wsc_request_path(req), "/echo") != 0) wsc_request_reject(req, 404, "no such endpoint\n");
}

static void on_http(wsc_server *srv, wsc_request *req, void *user) {
  (void)srv;
  wsc_request_serve_file(req, (const char *)user);
}

int main(int argc, char **argv) {
  const char *root = NULL;
  int deflate = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--root") == 0 && i + 1 < argc) root = argv[++i];
    else if (strcmp(argv[i], "--deflate") == 0) deflate = 1;
    else {
      fprintf(stderr, "usage: %s --root DIR [--deflate]\n", argv[0]);
      return 2;
    }
  }
  if (!root) {
    fprintf(stderr, "usage: %s --root DIR [--deflate]\n", argv[0]);
    return 2;
  }
  static const char *const protocols[] = {"wsc-echo"};
  wsc_server_options opts;
  wsc_server_options_init(&opts);
  opts.protocols = protocols;
  opts.nprotocols = 1;
  if (deflate) opts.deflate.mode = WSC_DEFLATE_ON; /* defaults otherwise (12-bit server window) */
  wsc_loop *loop = wsc_loop_default();
  wsc_server *srv;
  int rc = wsc_server_new(loop, &opts, &srv);
  if (rc < 0) {
    fprintf(stderr, "wsc_server_new: %s\n", wsc_strerror(rc));
    return 1;
  }
  wsc_server_set_onhttp(srv, on_http, (void *)root);
  wsc_server_set_onupgrade(srv, on_upgrade, NULL);
  wsc_server_set_onconnection(srv, on_connection, NULL);
  rc = wsc_server_listen(srv, "127.0.0.1:0");
  if (rc < 0) {
    fprintf(stderr, "listen: %s\n", wsc_strerror(rc));
    return 1;
  }
  printf("LISTEN http://127.0.0.1:%d/\n", wsc_server_port(srv));
  fflush(stdout);
  return wsc_loop_run(loop) < 0 ? 1 : 0;
}
