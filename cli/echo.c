/* echo.c - `wsc echo`: a WebSocket echo server (text back as text, binary as
 * binary) that runs until SIGINT/SIGTERM and then shuts down gracefully. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "cli.h"
#include "wsc.h"

typedef struct echo_app {
  wsc_server *srv;
  uv_signal_t sigint, sigterm;
  int quiet;
  int stopping;
} echo_app;

static void usage(FILE *f) {
  fprintf(f,
          "usage: wsc echo [--listen HOST:PORT] [options]\n\n"
          "A WebSocket echo server: every message comes back as it was received\n"
          "(text as text, binary as binary). Prints the address it listens on;\n"
          "SIGINT or SIGTERM closes every connection with 1001 and exits.\n\n"
          "Options:\n"
          "  --listen HOST:PORT    address (default 127.0.0.1:9001; port 0 = any free port;\n"
          "                        IPv6 as [::1]:PORT)\n"
          "  --cert FILE           TLS certificate chain (PEM): serve wss://\n"
          "  --key FILE            its private key (PEM)\n"
          "  --max-message BYTES   largest message accepted (default 64 MiB)\n"
          "  --reuse-port          SO_REUSEPORT (several processes on one port)\n"
          "  --deflate             accept permessage-deflate (window 12 bits, context\n"
          "                        takeover: about 77 KiB per connection)\n"
          "  --deflate-no-takeover accept it without context takeover either way\n"
          "                        (no memory held between messages; implies --deflate)\n"
          "  --deflate-window BITS largest window, 8..15, for both directions\n"
          "                        (implies --deflate)\n"
          "  -q, --quiet           print only the listening line\n"
          "  -h, --help            this help\n");
}

static void on_message(wsc_socket *ws, const wsc_event *ev, void *user) {
  (void)user;
  const wsc_message_event *m = wsc_event_message(ev);
  if (m->is_text)
    wsc_socket_send_text(ws, m->data, m->length);
  else
    wsc_socket_send_binary(ws, m->data, m->length);
}

static void on_connection(wsc_server *srv, wsc_socket *ws, const wsc_request *req, void *user) {
  (void)srv;
  (void)req;
  (void)user;
  wsc_socket_set_binary_type(ws, WSC_BINARY_ARRAYBUFFER);
  wsc_socket_set_onmessage(ws, on_message, NULL);
}

static void on_closed(wsc_server *srv, void *user) {
  echo_app *app = user;
  (void)srv;
  uv_close((uv_handle_t *)&app->sigint, NULL);
  uv_close((uv_handle_t *)&app->sigterm, NULL);
}

static void on_signal(uv_signal_t *s, int signum) {
  echo_app *app = s->data;
  if (app->stopping) exit(130); /* a second signal: stop at once */
  app->stopping = 1;
  if (!app->quiet) fprintf(stderr, "wsc echo: signal %d, closing connections\n", signum);
  wsc_server_close(app->srv, 5000, on_closed, app);
}

static int parse_size(const char *s, uint64_t *out) {
  char *end;
  unsigned long long v = strtoull(s, &end, 10);
  if (end == s || *end || v == 0) return -1;
  *out = v;
  return 0;
}

int cli_echo(int argc, char **argv) {
  const char *listen = "127.0.0.1:9001";
  echo_app app;
  memset(&app, 0, sizeof app);
  wsc_server_options opts;
  wsc_server_options_init(&opts);
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    int more = i + 1 < argc;
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      usage(stdout);
      return 0;
    } else if (!strcmp(a, "--listen") && more) {
      listen = argv[++i];
    } else if (!strcmp(a, "--cert") && more) {
      opts.tls_cert_file = argv[++i];
    } else if (!strcmp(a, "--key") && more) {
      opts.tls_key_file = argv[++i];
    } else if (!strcmp(a, "--max-message") && more) {
      if (parse_size(argv[++i], &opts.max_message)) {
        fprintf(stderr, "wsc echo: bad --max-message '%s'\n", argv[i]);
        return 2;
      }
      opts.max_frame = opts.max_message;
    } else if (!strcmp(a, "--reuse-port")) {
      opts.reuse_port = 1;
    } else if (!strcmp(a, "--deflate")) {
      opts.deflate.mode = WSC_DEFLATE_ON;
    } else if (!strcmp(a, "--deflate-no-takeover")) {
      opts.deflate.mode = WSC_DEFLATE_ON;
      opts.deflate.server_no_context_takeover = 1;
      opts.deflate.client_no_context_takeover = 1;
    } else if (!strcmp(a, "--deflate-window") && more) {
      char *end;
      long bits = strtol(argv[++i], &end, 10);
      if (*end || end == argv[i] || bits < 8 || bits > 15) {
        fprintf(stderr, "wsc echo: --deflate-window takes 8 to 15, not '%s'\n", argv[i]);
        return 2;
      }
      opts.deflate.mode = WSC_DEFLATE_ON;
      opts.deflate.server_max_window_bits = (int)bits;
      opts.deflate.client_max_window_bits = (int)bits;
    } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
      app.quiet = 1;
    } else {
      fprintf(stderr, "wsc echo: unknown or incomplete option '%s'\n", a);
      usage(stderr);
      return 2;
    }
  }
  if ((opts.tls_cert_file == NULL) != (opts.tls_key_file == NULL)) {
    fprintf(stderr, "wsc echo: --cert and --key go together\n");
    return 2;
  }
  wsc_loop *loop;
  int rc = wsc_loop_new(&loop);
  if (rc == 0) rc = wsc_server_new(loop, &opts, &app.srv);
  if (rc) {
    fprintf(stderr, "wsc echo: %s\n", wsc_strerror(rc));
    return 1;
  }
  wsc_server_set_onconnection(app.srv, on_connection, &app);
  rc = wsc_server_listen(app.srv, listen);
  if (rc) {
    const char *msg;
    wsc_server_error(app.srv, &msg);
    fprintf(stderr, "wsc echo: cannot listen on %s: %s\n", listen, msg);
    wsc_server_free(app.srv);
    return 1;
  }
  printf("listening on %s%s\n", wsc_server_address(app.srv), opts.tls_cert_file ? " (wss)" : "");
  fflush(stdout);
  uv_loop_t *uv = wsc_loop_uv(loop);
  uv_signal_init(uv, &app.sigint);
  uv_signal_init(uv, &app.sigterm);
  app.sigint.data = app.sigterm.data = &app;
  uv_signal_start(&app.sigint, on_signal, SIGINT);
  uv_signal_start(&app.sigterm, on_signal, SIGTERM);
  signal(SIGPIPE, SIG_IGN);
  wsc_loop_run(loop);
  wsc_server_free(app.srv);
  wsc_loop_run(loop); /* let the server's handles close */
  wsc_loop_free(loop);
  return 0;
}
