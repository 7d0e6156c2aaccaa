/* chat.c - `wsc chat`: the chat server. Serves the chat page (index.html,
 * chat.js, chat.css) over plain HTTP and runs the chat room (chat_room.c)
 * over WebSocket at /chat (and /), subprotocol "json". Stops gracefully
 * (close 1001 to every client) on SIGINT or SIGTERM. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <uv.h>

#include "chat_room.h"
#include "cli.h"
#include "wsc.h"

#ifndef WSC_CHAT_WEBROOT
#define WSC_CHAT_WEBROOT "examples/chat"
#endif

#define CHAT_DEFAULT_LISTEN "127.0.0.1:8080"
#define CHAT_DEFAULT_MAX_MESSAGE (64u * 1024u)
#define CHAT_CLOSE_TIMEOUT_MS 3000

typedef struct chat_server {
  wsc_loop *loop;
  wsc_server *srv;
  chat_room *room;
  const char *webroot;
  uv_signal_t sigint, sigterm;
  int stopping;
} chat_server;

static void usage(FILE *f) {
  fprintf(f,
          "usage: wsc chat [--listen HOST:PORT] [--webroot DIR] [--max-message BYTES]\n"
          "                [--deflate]\n\n"
          "Chat server: serves the chat page at http://HOST:PORT/ and the chat over\n"
          "WebSocket at /chat (subprotocol \"json\"). Ctrl-C stops it gracefully.\n\n"
          "  --listen HOST:PORT     address to listen on (default %s; port 0: any free)\n"
          "  --webroot DIR          directory of index.html, chat.js, chat.css\n"
          "                         (default: the installed copy, else the source tree's)\n"
          "  --max-message BYTES    longest message accepted; a longer one closes that\n"
          "                         client with 1009 (default %u)\n"
          "  --deflate              accept permessage-deflate from clients that offer it\n"
          "                         (browsers do; the page's ws.extensions shows it)\n"
          "  --help                 this text\n",
          CHAT_DEFAULT_LISTEN, CHAT_DEFAULT_MAX_MESSAGE);
}

/* ---- room callbacks: the room's "send" and "send to all" on the server -- */

static void room_send(void *conn, const char *json, size_t length, void *ctx) {
  (void)ctx;
  wsc_socket_send_text(conn, json, length);
}

static void room_send_all(const char *json, size_t length, void *ctx) {
  chat_server *cs = ctx;
  wsc_server_broadcast(cs->srv, json, length, 1);
}

/* Returns the wall-clock time in milliseconds since the epoch. */
static int64_t room_now_ms(void *ctx) {
  (void)ctx;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- server callbacks --------------------------------------------------- */

static void on_message(wsc_socket *ws, const wsc_event *ev, void *user) {
  chat_server *cs = user;
  const wsc_message_event *m = wsc_event_message(ev);
  chat_user *u = wsc_socket_user(ws);
  if (m && u) chat_room_receive(cs->room, u, m->data, m->length, m->is_text);
}

static void on_close(wsc_socket *ws, const wsc_event *ev, void *user) {
  chat_server *cs = user;
  (void)ev;
  chat_user *u = wsc_socket_user(ws);
  wsc_socket_set_user(ws, NULL);
  if (u) chat_room_leave(cs->room, u);
}

static void on_connection(wsc_server *srv, wsc_socket *ws, const wsc_request *req, void *user) {
  chat_server *cs = user;
  (void)srv;
  (void)req;
  if (wsc_socket_set_onmessage(ws, on_message, cs) < 0 ||
      wsc_socket_set_onclose(ws, on_close, cs) < 0) {
    wsc_socket_close(ws, 1000, "server out of memory", 20);
    return;
  }
  chat_user *u = chat_room_join(cs->room, ws);
  if (!u) {
    wsc_socket_close(ws, 1000, "server out of memory", 20);
    return;
  }
  wsc_socket_set_user(ws, u);
}

/* The chat lives at /chat, and at / for clients that connect to the root. */
static void on_upgrade(wsc_server *srv, wsc_request *req, void *user) {
  (void)srv;
  (void)user;
  const char *path = wsc_request_path(req);
  if (strcmp(path, "/chat") != 0 && strcmp(path, "/") != 0)
    wsc_request_reject(req, 404, "no WebSocket endpoint here: use /chat\n");
}

static void on_http(wsc_server *srv, wsc_request *req, void *user) {
  chat_server *cs = user;
  (void)srv;
  wsc_request_serve_file(req, cs->webroot);
}

/* ---- shutdown ----------------------------------------------------------- */

/* Every connection is closed: stop watching signals so the loop can end. */
static void on_server_closed(wsc_server *srv, void *user) {
  chat_server *cs = user;
  (void)srv;
  uv_close((uv_handle_t *)&cs->sigint, NULL);
  uv_close((uv_handle_t *)&cs->sigterm, NULL);
}

static void on_signal(uv_signal_t *h, int signum) {
  chat_server *cs = h->data;
  if (cs->stopping) {
    fprintf(stderr, "wsc chat: second signal, exiting at once\n");
    exit(1);
  }
  cs->stopping = 1;
  fprintf(stderr, "wsc chat: %s, closing connections\n", signum == SIGINT ? "SIGINT" : "SIGTERM");
  wsc_server_close(cs->srv, CHAT_CLOSE_TIMEOUT_MS, on_server_closed, cs);
}

/* ---- the page's directory ----------------------------------------------- */

/* Returns 1 when dir/index.html is a regular file. */
static int has_page(const char *dir) {
  char path[PATH_MAX];
  struct stat st;
  int n = snprintf(path, sizeof path, "%s/index.html", dir);
  return n > 0 && (size_t)n < sizeof path && stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Returns the page directory: the installed copy (PREFIX/share/wsc/chat for
 * PREFIX/bin/wsc), else the source tree's (compiled in). buf holds it. */
static const char *default_webroot(char *buf, size_t size) {
  char exe[PATH_MAX];
  size_t n = sizeof exe;
  if (uv_exepath(exe, &n) == 0) {
    char *slash = strrchr(exe, '/');
    if (slash) {
      *slash = '\0';
      int m = snprintf(buf, size, "%s/../share/wsc/chat", exe);
      if (m > 0 && (size_t)m < size && has_page(buf)) return buf;
    }
  }
  return WSC_CHAT_WEBROOT;
}

/* Parses a byte count (decimal, at least 1). Returns 0 or -1. */
static int parse_size(const char *s, uint64_t *out) {
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || end == s || *end || v == 0 || s[0] == '-') return -1;
  *out = v;
  return 0;
}

int cli_chat(int argc, char **argv) {
  const char *listen = CHAT_DEFAULT_LISTEN;
  const char *webroot = NULL;
  uint64_t max_message = CHAT_DEFAULT_MAX_MESSAGE;
  int deflate = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      usage(stdout);
      return 0;
    }
    if (strcmp(a, "--deflate") == 0) {
      deflate = 1;
      continue;
    }
    if (i + 1 >= argc ||
        (strcmp(a, "--listen") != 0 && strcmp(a, "--webroot") != 0 &&
         strcmp(a, "--max-message") != 0)) {
      fprintf(stderr, "wsc chat: %s '%s'\n", i + 1 >= argc ? "missing value or unknown option" : "unknown option", a);
      usage(stderr);
      return 2;
    }
    const char *v = argv[++i];
    if (strcmp(a, "--listen") == 0) {
      listen = v;
    } else if (strcmp(a, "--webroot") == 0) {
      webroot = v;
    } else if (parse_size(v, &max_message) < 0) {
      fprintf(stderr, "wsc chat: --max-message wants a positive byte count, not '%s'\n", v);
      return 2;
    }
  }
  char rootbuf[PATH_MAX];
  if (!webroot) webroot = default_webroot(rootbuf, sizeof rootbuf);
  if (!has_page(webroot))
    fprintf(stderr, "wsc chat: warning: no index.html in %s (use --webroot DIR)\n", webroot);

  chat_server cs = {0};
  cs.webroot = webroot;
  int rc = wsc_loop_new(&cs.loop);
  if (rc < 0) {
    fprintf(stderr, "wsc chat: %s\n", wsc_strerror(rc));
    return 1;
  }
  const char *protocols[] = {"json"};
  wsc_server_options opts;
  wsc_server_options_init(&opts);
  opts.protocols = protocols;
  opts.nprotocols = 1;
  opts.max_message = max_message;
  opts.max_frame = max_message;
  opts.close_timeout_ms = CHAT_CLOSE_TIMEOUT_MS;
  if (deflate) opts.deflate.mode = WSC_DEFLATE_ON;
  chat_room_io io = {room_send, room_send_all, room_now_ms, &cs};
  int status = 1;
  rc = wsc_server_new(cs.loop, &opts, &cs.srv);
  if (rc < 0) {
    fprintf(stderr, "wsc chat: %s\n", wsc_strerror(rc));
    goto out;
  }
  cs.room = chat_room_new(&io);
  if (!cs.room) {
    fprintf(stderr, "wsc chat: out of memory\n");
    goto out;
  }
  wsc_server_set_onupgrade(cs.srv, on_upgrade, &cs);
  wsc_server_set_onconnection(cs.srv, on_connection, &cs);
  wsc_server_set_onhttp(cs.srv, on_http, &cs);
  rc = wsc_server_listen(cs.srv, listen);
  if (rc < 0) {
    const char *msg = NULL;
    wsc_server_error(cs.srv, &msg);
    fprintf(stderr, "wsc chat: cannot listen on %s: %s\n", listen,
            msg && *msg ? msg : wsc_strerror(rc));
    goto out;
  }

  uv_loop_t *uv = wsc_loop_uv(cs.loop);
  uv_signal_init(uv, &cs.sigint);
  uv_signal_init(uv, &cs.sigterm);
  cs.sigint.data = cs.sigterm.data = &cs;
  uv_signal_start(&cs.sigint, on_signal, SIGINT);
  uv_signal_start(&cs.sigterm, on_signal, SIGTERM);
  signal(SIGPIPE, SIG_IGN); /* a client gone mid-write is an error code, not a death */

  printf("chat server listening on http://%s/\n", wsc_server_address(cs.srv));
  printf("serving the page from %s; Ctrl-C stops\n", webroot);
  fflush(stdout);
  rc = wsc_loop_run(cs.loop);
  status = rc < 0 ? 1 : 0;
  if (rc < 0) fprintf(stderr, "wsc chat: %s\n", wsc_strerror(rc));

out:
  if (cs.srv) wsc_server_free(cs.srv);
  chat_room_free(cs.room);
  wsc_loop_free(cs.loop);
  return status;
}
