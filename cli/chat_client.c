/* chat_client.c - `wsc chat-client URL --name NAME`: a terminal client for
 * the chat protocol of MDN's "Writing WebSocket client applications" (the
 * one `wsc chat` serves): JSON over text messages, subprotocol "json".
 *
 *   server -> {"type":"id","id":N}
 *   client -> {"type":"username","name":S,"id":N,"date":MS}
 *   server -> {"type":"rejectusername","name":NEW}   (S was taken)
 *   server -> {"type":"userlist","users":[...]}
 *   client -> {"type":"message","text":S,"id":N,"date":MS}
 *   server -> {"type":"message","text":S,"id":N,"date":MS,"name":NAME}
 *   server -> {"type":"error","message":TEXT}
 *
 * Everything from the server is hostile: any JSON value may be missing or of
 * the wrong type, and names and texts are printed with control characters
 * replaced, so nobody in the room can drive the reader's terminal. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <uv.h>

#include "cli.h"
#include "line_input.h"
#include "wsc.h"

#define MAX_LINE ((size_t)64 * 1024)            /* one typed line */
#define MAX_MESSAGE ((uint64_t)4 * 1024 * 1024) /* one message from the server */

typedef struct chat {
  const char *url;
  const char *origin, *ca;
  const char *proxy;   /* NULL: from the environment; "": none */
  int insecure;
  uint32_t timeout_ms;
  int verbose;
  char *name;          /* our user name (owned) */
  json_t *id;          /* the id the server gave us, NULL before */
  json_t *users;       /* the last user list (an array), NULL before */
  wsc_loop *loop;
  uv_loop_t *uv;
  wsc_socket *ws;
  line_input *in;
  uv_signal_t sigint;
  int handles_up;
  int opened;
  int quitting;        /* /quit, end of input or Ctrl-C: closing */
  int status;
} chat;

static void usage(FILE *f) {
  fprintf(f,
          "usage: wsc chat-client [OPTIONS] URL --name NAME\n"
          "\n"
          "Join a chat room served by `wsc chat` (or any server of the chat protocol in\n"
          "MDN's \"Writing WebSocket client applications\": JSON messages, subprotocol\n"
          "\"json\"). Lines typed are sent as chat messages; messages and changes to the\n"
          "user list are printed with their time (HH:MM:SS, local) and sender.\n"
          "\n"
          "Commands:\n"
          "  /nick NAME    change your name\n"
          "  /users        show who is in the room\n"
          "  /quit         leave (as does end of input or Ctrl-C)\n"
          "  /help         show the commands\n"
          "  //text        send a message that starts with '/'\n"
          "\n"
          "Options:\n"
          "  -n, --name NAME     your name in the room (default: $USER, else 'guest')\n"
          "      --origin ORIGIN send this Origin header\n"
          "      --ca FILE       trust the CA certificates in FILE (PEM) for wss://\n"
          "      --insecure      accept any server certificate (testing only)\n"
          "      --timeout S     limit connecting to S seconds\n"
          "      --proxy URL     connect through this HTTP proxy (default: from\n"
          "                      http_proxy/https_proxy/all_proxy/no_proxy)\n"
          "      --no-proxy      connect directly, whatever the environment says\n"
          "  -v, --verbose       report the connection on stderr\n"
          "  -h, --help          show this help\n"
          "\n"
          "Exit status: 0 after a clean close, 1 when the connection failed, 2 on usage\n"
          "errors.\n"
          "\n"
          "Example:\n"
          "  wsc chat-client ws://localhost:8080/chat --name alice\n");
}

/* ---- printing --------------------------------------------------------------- */

/* Write s to f with C0/C1 control characters and DEL shown as '?'. */
static void put_clean(FILE *f, const char *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == 0xc2 && i + 1 < n && (unsigned char)s[i + 1] >= 0x80 &&
        (unsigned char)s[i + 1] <= 0x9f) { /* U+0080-U+009F: C1 controls */
      fputc('?', f);
      i++;
    } else {
      fputc(c < 0x20 || c == 0x7f ? '?' : c, f);
    }
  }
}

/* A JSON string value, or NULL if v is not a string. *len gets its length. */
static const char *str_of(json_t *v, size_t *len) {
  if (!json_is_string(v)) return NULL;
  *len = json_string_length(v);
  return json_string_value(v);
}

/* Print "HH:MM:SS " for ms since the epoch (now when ms is not a sane date). */
static void put_time(json_t *date) {
  double ms = json_is_number(date) ? json_number_value(date) : -1;
  time_t t;
  if (isfinite(ms) && ms >= 0 && ms < 253402300800000.0) /* before year 10000 */
    t = (time_t)(ms / 1000.0);
  else
    t = time(NULL);
  struct tm tm;
  char buf[16];
  if (!localtime_r(&t, &tm) || !strftime(buf, sizeof buf, "%H:%M:%S", &tm))
    snprintf(buf, sizeof buf, "--:--:--");
  fputs(buf, stdout);
  fputc(' ', stdout);
}

/* Print "HH:MM:SS * " (a notice, at the current time). */
static void notice(void) {
  put_time(NULL);
  fputs("* ", stdout);
}

/* Print the user list as "a, b, c" (non-string entries skipped). */
static void put_users(json_t *users) {
  size_t i, n = 0;
  json_t *u;
  json_array_foreach(users, i, u) {
    size_t len;
    const char *s = str_of(u, &len);
    if (!s) continue;
    if (n++) fputs(", ", stdout);
    put_clean(stdout, s, len);
  }
  if (!n) fputs("(nobody)", stdout);
}

/* 1 if the array holds the string s. */
static int has_user(json_t *users, json_t *s) {
  size_t i;
  json_t *u;
  json_array_foreach(users, i, u) if (json_equal(u, s)) return 1;
  return 0;
}

/* 1 if s is valid UTF-8 (jansson refuses to make a string of anything else). */
static int utf8_ok(const char *s) {
  json_t *j = json_string(s);
  json_decref(j);
  return j != NULL;
}

/* ---- sending ---------------------------------------------------------------- */

/* Milliseconds since the epoch, for "date". */
static json_int_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (json_int_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Send obj (consumed) as a text message, with our id and the date added. */
static void send_json(chat *c, json_t *obj) {
  if (!obj) {
    fprintf(stderr, "wsc: out of memory\n");
    return;
  }
  if (c->id) json_object_set(obj, "id", c->id);
  json_object_set_new(obj, "date", json_integer(now_ms()));
  char *text = json_dumps(obj, JSON_COMPACT);
  json_decref(obj);
  if (!text) {
    fprintf(stderr, "wsc: out of memory\n");
    return;
  }
  int rc = wsc_socket_send_text(c->ws, text, strlen(text));
  free(text);
  if (rc) fprintf(stderr, "wsc: send: %s\n", wsc_strerror(rc));
}

static void send_username(chat *c) {
  send_json(c, json_pack("{s:s, s:s}", "type", "username", "name", c->name));
}

/* ---- what the server says ---------------------------------------------------- */

static void on_userlist(chat *c, json_t *msg) {
  json_t *users = json_object_get(msg, "users");
  if (!json_is_array(users)) {
    fprintf(stderr, "wsc: ignoring a userlist without a \"users\" array\n");
    return;
  }
  if (!c->users) {
    notice();
    fputs("users: ", stdout);
    put_users(users);
    fputc('\n', stdout);
  } else { /* tell what changed */
    size_t i;
    json_t *u;
    json_array_foreach(users, i, u) if (json_is_string(u) && !has_user(c->users, u)) {
      notice();
      put_clean(stdout, json_string_value(u), json_string_length(u));
      fputs(" joined\n", stdout);
    }
    json_array_foreach(c->users, i, u) if (json_is_string(u) && !has_user(users, u)) {
      notice();
      put_clean(stdout, json_string_value(u), json_string_length(u));
      fputs(" left\n", stdout);
    }
  }
  json_decref(c->users);
  c->users = json_incref(users);
}

static void on_server_message(chat *c, json_t *msg) {
  size_t tlen, nlen;
  const char *type = json_string_value(json_object_get(msg, "type"));
  if (!type) {
    fprintf(stderr, "wsc: ignoring a message without a string \"type\"\n");
    return;
  }
  if (strcmp(type, "id") == 0) {
    json_t *id = json_object_get(msg, "id");
    if (!id) {
      fprintf(stderr, "wsc: ignoring an id message without \"id\"\n");
      return;
    }
    json_decref(c->id);
    c->id = json_deep_copy(id);
    send_username(c);
  } else if (strcmp(type, "rejectusername") == 0) {
    const char *name = str_of(json_object_get(msg, "name"), &nlen);
    if (!name || !nlen || strlen(name) != nlen) {
      fprintf(stderr, "wsc: ignoring a rejectusername without a usable \"name\"\n");
      return;
    }
    notice();
    fputs("the name ", stdout);
    put_clean(stdout, c->name, strlen(c->name));
    fputs(" is taken; you are now ", stdout);
    put_clean(stdout, name, nlen);
    fputc('\n', stdout);
    char *copy = strdup(name);
    if (copy) {
      free(c->name);
      c->name = copy;
    }
  } else if (strcmp(type, "userlist") == 0) {
    on_userlist(c, msg);
  } else if (strcmp(type, "message") == 0) {
    const char *text = str_of(json_object_get(msg, "text"), &tlen);
    const char *name = str_of(json_object_get(msg, "name"), &nlen);
    if (!text) {
      fprintf(stderr, "wsc: ignoring a chat message without a string \"text\"\n");
      return;
    }
    put_time(json_object_get(msg, "date"));
    fputc('<', stdout);
    if (name)
      put_clean(stdout, name, nlen);
    else
      fputc('?', stdout);
    fputs("> ", stdout);
    put_clean(stdout, text, tlen);
    fputc('\n', stdout);
  } else if (strcmp(type, "error") == 0) {
    json_t *m = json_object_get(msg, "message");
    if (!json_is_string(m)) m = json_object_get(msg, "text");
    put_time(NULL);
    fputs("! server error: ", stdout);
    if (json_is_string(m)) {
      put_clean(stdout, json_string_value(m), json_string_length(m));
    } else {
      char *all = json_dumps(msg, JSON_COMPACT);
      if (all) put_clean(stdout, all, strlen(all));
      free(all);
    }
    fputc('\n', stdout);
  } else if (c->verbose) {
    fprintf(stderr, "wsc: ignoring a message of type \"");
    put_clean(stderr, type, strlen(type));
    fprintf(stderr, "\"\n");
  }
}

/* ---- what the user types ----------------------------------------------------- */

static void leave_room(chat *c) {
  if (c->quitting) return;
  c->quitting = 1;
  line_input_close(c->in);
  c->in = NULL;
  int rc = wsc_socket_close(c->ws, 1000, NULL, 0);
  if (rc) fprintf(stderr, "wsc: close: %s\n", wsc_strerror(rc));
}

static void on_line(void *user, char *line, size_t len) {
  chat *c = user;
  if (!line) {
    fprintf(stderr, "wsc: line too long (%zu bytes; at most %zu); not sent\n", len, MAX_LINE);
    return;
  }
  if (len && line[len - 1] == '\r') len--;
  line[len] = '\0'; /* the reader NUL-terminates lines; this drops a CR */
  if (len == 0) return;
  if (line[0] == '/' && line[1] != '/') {
    char *cmd = line + 1, *arg = strchr(cmd, ' ');
    if (arg) {
      *arg++ = '\0';
      while (*arg == ' ') arg++;
    }
    if (strcmp(cmd, "quit") == 0) {
      leave_room(c);
    } else if (strcmp(cmd, "help") == 0) {
      fputs("* /nick NAME  change your name\n* /users      who is here\n"
            "* /quit       leave\n* /help       this\n* //text      send '/text'\n",
            stdout);
    } else if (strcmp(cmd, "users") == 0) {
      notice();
      if (c->users) {
        fprintf(stdout, "users (%zu): ", json_array_size(c->users));
        put_users(c->users);
        fputc('\n', stdout);
      } else {
        fputs("no user list yet\n", stdout);
      }
    } else if (strcmp(cmd, "nick") == 0) {
      if (!arg || !*arg) {
        fputs("* usage: /nick NAME\n", stdout);
      } else if (!utf8_ok(arg)) {
        fputs("* names must be UTF-8\n", stdout);
      } else {
        char *copy = strdup(arg);
        if (copy) {
          free(c->name);
          c->name = copy;
          send_username(c);
        }
      }
    } else {
      fputs("* unknown command /", stdout);
      put_clean(stdout, cmd, strlen(cmd));
      fputs(" (try /help)\n", stdout);
    }
    fflush(stdout);
    return;
  }
  const char *text = line[0] == '/' ? line + 1 : line; /* "//x" sends "/x" */
  json_t *s = json_stringn(text, len - (size_t)(text - line));
  if (!s) {
    fputs("* not sent: the line is not valid UTF-8\n", stdout);
    fflush(stdout);
    return;
  }
  send_json(c, json_pack("{s:s, s:o}", "type", "message", "text", s));
}

static void on_input_end(void *user, int err) {
  chat *c = user;
  if (err) fprintf(stderr, "wsc: reading standard input: %s\n", uv_strerror(err));
  leave_room(c);
}

/* ---- socket events ------------------------------------------------------------ */

static void on_open(wsc_socket *ws, const wsc_event *ev, void *user) {
  chat *c = user;
  (void)ev;
  c->opened = 1;
  if (c->verbose)
    fprintf(stderr, "wsc: connected to %s (protocol: %s)\n", wsc_socket_url(ws),
            *wsc_socket_protocol(ws) ? wsc_socket_protocol(ws) : "none");
  if (c->quitting) return;
  int rc = line_input_start(&c->in, c->uv, MAX_LINE, on_line, on_input_end, c);
  if (rc) {
    fprintf(stderr, "wsc: cannot read standard input: %s\n", uv_strerror(rc));
    c->status = 1;
    leave_room(c);
  }
}

static void on_message(wsc_socket *ws, const wsc_event *ev, void *user) {
  chat *c = user;
  const wsc_message_event *m = wsc_event_message(ev);
  (void)ws;
  if (!m->is_text) {
    fprintf(stderr, "wsc: ignoring a binary message (%zu bytes)\n", m->length);
    return;
  }
  json_error_t err;
  json_t *msg = json_loadb(m->data, m->length, 0, &err);
  if (!json_is_object(msg)) {
    fprintf(stderr, "wsc: ignoring a message that is not a JSON object");
    if (!msg) {
      fprintf(stderr, ": ");
      put_clean(stderr, err.text, strlen(err.text));
    }
    fputc('\n', stderr);
  } else {
    on_server_message(c, msg);
  }
  json_decref(msg);
  fflush(stdout);
}

static void on_error(wsc_socket *ws, const wsc_event *ev, void *user) {
  chat *c = user;
  const wsc_error_event *e = wsc_event_error(ev);
  (void)ws;
  c->status = 1;
  if (c->quitting && !c->opened) return; /* Ctrl-C while connecting */
  fprintf(stderr, "wsc: %s: ", c->opened ? "connection failed" : "connect failed");
  put_clean(stderr, e->message, strlen(e->message));
  fputc('\n', stderr);
}

static void on_handle_closed(uv_handle_t *h) { (void)h; }

static void on_close(wsc_socket *ws, const wsc_event *ev, void *user) {
  chat *c = user;
  const wsc_close_event *e = wsc_event_close(ev);
  fflush(stdout);
  fprintf(stderr, "closed: %d", e->code);
  if (e->reason_length) {
    fputc(' ', stderr);
    put_clean(stderr, e->reason, e->reason_length);
  }
  fputc('\n', stderr);
  if (!e->was_clean && !c->status) c->status = 1;
  if (c->quitting && !c->opened) c->status = 130;
  line_input_close(c->in);
  c->in = NULL;
  if (c->handles_up) {
    c->handles_up = 0;
    uv_close((uv_handle_t *)&c->sigint, on_handle_closed);
  }
  wsc_socket_free(ws);
  c->ws = NULL;
}

static void on_sigint(uv_signal_t *s, int signum) {
  chat *c = s->data;
  (void)signum;
  if (c->quitting) {
    fflush(stdout);
    fprintf(stderr, "wsc: interrupted\n");
    exit(130);
  }
  leave_room(c);
}

/* ---- main -------------------------------------------------------------------- */

/* Fill c from argv. 0 to run, 1 after --help, 2 on a usage error (reported). */
static int parse_args(int argc, char **argv, chat *c) {
  enum { OPT_ORIGIN = 256, OPT_CA, OPT_INSECURE, OPT_TIMEOUT, OPT_PROXY, OPT_NO_PROXY };
  static const struct option longs[] = {{"name", required_argument, NULL, 'n'},
                                        {"origin", required_argument, NULL, OPT_ORIGIN},
                                        {"ca", required_argument, NULL, OPT_CA},
                                        {"insecure", no_argument, NULL, OPT_INSECURE},
                                        {"timeout", required_argument, NULL, OPT_TIMEOUT},
                                        {"proxy", required_argument, NULL, OPT_PROXY},
                                        {"no-proxy", no_argument, NULL, OPT_NO_PROXY},
                                        {"verbose", no_argument, NULL, 'v'},
                                        {"help", no_argument, NULL, 'h'},
                                        {NULL, 0, NULL, 0}};
  const char *name = NULL;
  optind = 1;
  opterr = 0;
  int o;
  while ((o = getopt_long(argc, argv, ":n:vh", longs, NULL)) != -1) {
    switch (o) {
    case 'n': name = optarg; break;
    case OPT_ORIGIN: c->origin = optarg; break;
    case OPT_CA: c->ca = optarg; break;
    case OPT_INSECURE: c->insecure = 1; break;
    case OPT_PROXY: c->proxy = optarg; break;
    case OPT_NO_PROXY: c->proxy = ""; break;
    case OPT_TIMEOUT: {
      char *end;
      errno = 0;
      double v = strtod(optarg, &end);
      if (errno || end == optarg || *end || !isfinite(v) || v < 0 || v > 86400) {
        fprintf(stderr, "wsc chat-client: --timeout needs seconds (0-86400), not '%s'\n",
                optarg);
        return 2;
      }
      c->timeout_ms = (uint32_t)(v * 1000.0 + 0.5);
      break;
    }
    case 'v': c->verbose = 1; break;
    case 'h': usage(stdout); return 1;
    case ':': fprintf(stderr, "wsc chat-client: %s needs a value\n", argv[optind - 1]); return 2;
    default:
      fprintf(stderr, "wsc chat-client: unknown option '%s' (see --help)\n", argv[optind - 1]);
      return 2;
    }
  }
  if (optind != argc - 1) {
    fprintf(stderr, "wsc chat-client: %s\nusage: wsc chat-client URL --name NAME (see --help)\n",
            optind >= argc ? "missing URL" : "more than one URL");
    return 2;
  }
  c->url = argv[optind];
  if (!name) name = getenv("USER");
  if (!name || !*name) name = "guest";
  if (!utf8_ok(name)) {
    fprintf(stderr, "wsc chat-client: --name must be UTF-8\n");
    return 2;
  }
  c->name = strdup(name);
  if (!c->name) {
    fprintf(stderr, "wsc: out of memory\n");
    return 2;
  }
  return 0;
}

int cli_chat_client(int argc, char **argv) {
  chat c;
  memset(&c, 0, sizeof c);
  int rc = parse_args(argc, argv, &c);
  if (rc) {
    free(c.name);
    return rc == 1 ? 0 : 2;
  }
  int status = 1;
  wsc_options opts;
  wsc_options_init(&opts);
  opts.origin = c.origin;
  opts.tls_ca_file = c.ca;
  opts.tls_insecure = c.insecure;
  opts.proxy = c.proxy;
  opts.connect_timeout_ms = c.timeout_ms;
  opts.handshake_timeout_ms = c.timeout_ms;
  opts.max_message = MAX_MESSAGE;
  static const char *const protocols[] = {"json"};
  rc = wsc_loop_new(&c.loop);
  if (rc) {
    fprintf(stderr, "wsc: cannot create the event loop: %s\n", wsc_strerror(rc));
    goto out;
  }
  c.uv = wsc_loop_uv(c.loop);
  rc = wsc_socket_new(c.loop, c.url, protocols, 1, &opts, &c.ws);
  if (rc) {
    fprintf(stderr, "wsc chat-client: %s: %s\n", c.url, wsc_strerror(rc));
    status = rc == WSC_ENOMEM ? 1 : 2;
    goto out;
  }
  wsc_socket_set_binary_type(c.ws, WSC_BINARY_ARRAYBUFFER);
  if (wsc_socket_set_onopen(c.ws, on_open, &c) || wsc_socket_set_onmessage(c.ws, on_message, &c) ||
      wsc_socket_set_onerror(c.ws, on_error, &c) || wsc_socket_set_onclose(c.ws, on_close, &c) ||
      uv_signal_init(c.uv, &c.sigint) != 0) {
    fprintf(stderr, "wsc: setup failed\n");
    wsc_socket_free(c.ws);
    wsc_loop_run(c.loop);
    goto out;
  }
  c.handles_up = 1;
  c.sigint.data = &c;
  if (uv_signal_start(&c.sigint, on_sigint, SIGINT) == 0) uv_unref((uv_handle_t *)&c.sigint);
  wsc_loop_run(c.loop);
  status = c.status;
out:
  if (c.loop) wsc_loop_free(c.loop);
  json_decref(c.id);
  json_decref(c.users);
  free(c.name);
  return status;
}
