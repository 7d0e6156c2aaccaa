/* hello.c - the README's example: connect, send a message, print what comes
 * back, close. Usage: hello ws://127.0.0.1:8080/ */
#include <stdio.h>
#include <wsc.h>

static void on_open(wsc_socket *ws, const wsc_event *ev, void *user) {
  (void)ev, (void)user;
  wsc_socket_send_text(ws, "hello server!", 13);
}

static void on_message(wsc_socket *ws, const wsc_event *ev, void *user) {
  (void)user;
  const wsc_message_event *m = wsc_event_message(ev);
  printf("message from server %.*s\n", (int)m->length, (const char *)m->data);
  wsc_socket_close(ws, 1000, "bye", 3);
}

static void on_close(wsc_socket *ws, const wsc_event *ev, void *user) {
  (void)user;
  const wsc_close_event *c = wsc_event_close(ev);
  const char *why = "";
  if (!c->was_clean) wsc_socket_error(ws, &why);
  printf("closed: %d %s%s\n", c->code, c->reason, why);
}

int main(int argc, char **argv) {
  wsc_loop *loop = wsc_loop_default();
  const char *protocols[] = {"protocolOne", "protocolTwo"};
  wsc_socket *ws;
  int rc = wsc_socket_new(loop, argc > 1 ? argv[1] : "ws://localhost:8080", protocols, 2, NULL, &ws);
  if (rc < 0) {
    fprintf(stderr, "%s\n", wsc_strerror(rc)); /* e.g. SyntaxError for a bad URL */
    return 1;
  }
  wsc_socket_set_onopen(ws, on_open, NULL);
  wsc_socket_add_listener(ws, WSC_EVENT_MESSAGE, on_message, NULL);
  wsc_socket_set_onclose(ws, on_close, NULL);
  rc = wsc_loop_run(loop);
  wsc_socket_free(ws);
  return rc;
}
