/* connect.c - `wsc connect URL`: a WebSocket client on the terminal, in the
 * manner of websocat and wscat. Lines of standard input become messages (the
 * newline stripped), received messages are printed one per line on standard
 * output. Built on the public API only (wsc.h) plus libuv for stdin, timers
 * and signals on the same loop.
 *
 * End of input: wait until bufferedAmount is 0 (everything handed to the
 * network), optionally --linger for late replies, then close with the
 * --close code and wait for the close event, so nothing typed is lost. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "cli.h"
#include "line_input.h"
#include "wsc.h"

#define POLL_MS 10                              /* bufferedAmount poll period */
#define PAUSE_ABOVE ((uint64_t)4 * 1024 * 1024) /* stop reading stdin above this */
#define RESUME_BELOW ((uint64_t)1024 * 1024)    /* and read again below this */

typedef struct connect_opts {
  const char *url;
  const char **protocols;
  size_t nprotocols;
  const char **headers;
  size_t nheaders;
  const char *origin;
  const char *ca, *cert, *key;
  int insecure;
  int binary_in;     /* -b: lines are sent as binary messages */
  int raw_out;       /* --binary-out raw (default hex) */
  int deflate;       /* 1 --deflate, 0 --no-deflate, -1 not given */
  const char *proxy;
  uint32_t ping_ms;
  int close_code;
  const char *close_reason;
  const char *execute; /* -x MESSAGE */
  uint32_t timeout_ms; /* 0: none */
  uint32_t linger_ms;
  int verbose, quiet;
} connect_opts;

typedef struct app {
  connect_opts o;
  wsc_loop *loop;
  uv_loop_t *uv;
  wsc_socket *ws;
  line_input *in;
  uv_timer_t poll;     /* flow control and the end-of-input wait */
  uv_timer_t deadline; /* --timeout for -x */
  uv_signal_t sigint;
  uv_prepare_t flush;  /* flush stdout once per loop turn, not per message */
  int handles_up;
  int opened;
  int input_done;      /* stdin ended: close once the queue is empty */
  uint64_t linger_until;
  int close_started;
  int interrupted;
  int timed_out;
  int got_reply;       /* -x: the first message arrived */
  int out_dirty;
  unsigned long long lineno;
  int status;          /* exit status, decided as events come */
} app;

static void usage(FILE *f) {
  fprintf(f,
          "usage: wsc connect [OPTIONS] URL\n"
          "\n"
          "Connect to a WebSocket server. Each line of standard input is sent as a\n"
          "message (without its newline; a trailing CR is dropped too in text mode);\n"
          "each message received is printed on standard output, one per line. At the\n"
          "end of input wsc waits until everything is sent, closes with the --close\n"
          "code and waits for the server's answer.\n"
          "\n"
          "Options:\n"
          "  -p, --protocol NAME     offer subprotocol NAME (repeatable)\n"
          "  -H, --header 'N: V'     extra request header (repeatable)\n"
          "      --origin ORIGIN     send this Origin header\n"
          "  -b, --binary            send input lines as binary messages\n"
          "      --binary-out MODE   print received binary messages as 'hex' (default,\n"
          "                          one line each) or 'raw' (the bytes, no newline)\n"
          "      --deflate           offer permessage-deflate (the default, as browsers do)\n"
          "      --no-deflate        do not offer permessage-deflate\n"
          "      --ca FILE           trust the CA certificates in FILE (PEM) for wss://\n"
          "      --cert FILE         client certificate (PEM); --key FILE its key\n"
          "      --insecure          accept any server certificate (testing only)\n"
          "      --proxy URL         connect through this HTTP proxy (CONNECT tunnel),\n"
          "                          http://[user:pass@]host[:port]; by default the\n"
          "                          http_proxy/https_proxy/all_proxy/no_proxy variables\n"
          "                          are used as curl uses them\n"
          "      --no-proxy          connect directly, whatever the environment says\n"
          "      --ping-interval S   send a Ping every S seconds; fail if no Pong\n"
          "      --close CODE[:REASON]  close with this at end of input (default 1000;\n"
          "                          CODE is 1000 or 3000-4999)\n"
          "  -x, --execute MESSAGE   send MESSAGE once open, print the first reply,\n"
          "                          close with 1000 and exit\n"
          "      --timeout S         limit connecting to S seconds, and with -x the\n"
          "                          whole wait for the reply\n"
          "      --linger S          after end of input, keep printing messages for S\n"
          "                          seconds before closing (late replies)\n"
          "  -v, --verbose           report the handshake (protocol, extensions) on stderr\n"
          "  -q, --quiet             print nothing but messages and errors\n"
          "  -h, --help              show this help\n"
          "\n"
          "On exit the close code and reason are printed on stderr (\"closed: 1000 bye\").\n"
          "Ctrl-C closes gracefully (1000); a second Ctrl-C exits at once.\n"
          "\n"
          "Exit status: 0 after a clean close, 1 when the connection failed (or -x got\n"
          "no reply), 2 on usage errors.\n"
          "\n"
          "Examples:\n"
          "  wsc connect ws://localhost:8080/\n"
          "  wsc connect -x '{\"op\":\"ping\"}' wss://example.com/api\n"
          "  printf 'a\\nb\\n' | wsc connect --close 4000:done ws://[::1]:9000/\n");
}

/* ---- argument parsing ----------------------------------------------------- */

/* Seconds (decimal, >= 0, at most a day) to milliseconds. 0 or -1. */
static int parse_seconds(const char *s, uint32_t *ms) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || end == s || *end || !isfinite(v) || v < 0 || v > 86400) return -1;
  *ms = (uint32_t)(v * 1000.0 + 0.5);
  if (v > 0 && *ms == 0) *ms = 1;
  return 0;
}

/* "CODE" or "CODE:REASON" with CODE 1000 or 3000-4999 and REASON at most
 * 123 bytes. 0 or -1. */
static int parse_close(const char *s, int *code, const char **reason) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || end == s || (*end && *end != ':')) return -1;
  if (v != 1000 && (v < 3000 || v > 4999)) return -1;
  *code = (int)v;
  *reason = *end == ':' ? end + 1 : NULL;
  if (*reason && strlen(*reason) > 123) return -1;
  return 0;
}

/* 1 if h looks like "Name: value" with an HTTP token as name (the library
 * checks the rest: CR/LF, headers the handshake owns). */
static int header_ok(const char *h) {
  const char *colon = strchr(h, ':');
  if (!colon || colon == h) return 0;
  for (const char *p = h; p < colon; p++)
    if (*p <= 0x20 || *p >= 0x7f || strchr("\"(),/:;<=>?@[\\]{}", *p)) return 0;
  return 1;
}

enum {
  OPT_ORIGIN = 256, OPT_BINARY_OUT, OPT_DEFLATE, OPT_NO_DEFLATE, OPT_CA, OPT_CERT, OPT_KEY,
  OPT_INSECURE, OPT_PROXY, OPT_NO_PROXY, OPT_PING, OPT_CLOSE, OPT_TIMEOUT, OPT_LINGER
};

/* Fill o from argv. 0 to run, 1 when --help was printed, 2 on a usage error
 * (already reported). */
static int parse_args(int argc, char **argv, connect_opts *o) {
  static const struct option longs[] = {
      {"protocol", required_argument, NULL, 'p'},
      {"header", required_argument, NULL, 'H'},
      {"origin", required_argument, NULL, OPT_ORIGIN},
      {"binary", no_argument, NULL, 'b'},
      {"binary-out", required_argument, NULL, OPT_BINARY_OUT},
      {"deflate", no_argument, NULL, OPT_DEFLATE},
      {"no-deflate", no_argument, NULL, OPT_NO_DEFLATE},
      {"ca", required_argument, NULL, OPT_CA},
      {"cert", required_argument, NULL, OPT_CERT},
      {"key", required_argument, NULL, OPT_KEY},
      {"insecure", no_argument, NULL, OPT_INSECURE},
      {"proxy", required_argument, NULL, OPT_PROXY},
      {"no-proxy", no_argument, NULL, OPT_NO_PROXY},
      {"ping-interval", required_argument, NULL, OPT_PING},
      {"close", required_argument, NULL, OPT_CLOSE},
      {"execute", required_argument, NULL, 'x'},
      {"timeout", required_argument, NULL, OPT_TIMEOUT},
      {"linger", required_argument, NULL, OPT_LINGER},
      {"verbose", no_argument, NULL, 'v'},
      {"quiet", no_argument, NULL, 'q'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  /* argv has at most argc entries of each repeatable kind */
  o->protocols = calloc((size_t)argc, sizeof *o->protocols);
  o->headers = calloc((size_t)argc, sizeof *o->headers);
  if (!o->protocols || !o->headers) {
    fprintf(stderr, "wsc: out of memory\n");
    return 2;
  }
  o->deflate = -1;
  o->close_code = 1000;
  optind = 1;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, ":p:H:bx:vqh", longs, NULL)) != -1) {
    switch (c) {
    case 'p': o->protocols[o->nprotocols++] = optarg; break;
    case 'H':
      if (!header_ok(optarg)) {
        fprintf(stderr, "wsc connect: -H needs 'Name: value' with a token as name, not '%s'\n",
                optarg);
        return 2;
      }
      o->headers[o->nheaders++] = optarg;
      break;
    case OPT_ORIGIN: o->origin = optarg; break;
    case 'b': o->binary_in = 1; break;
    case OPT_BINARY_OUT:
      if (strcmp(optarg, "hex") == 0) {
        o->raw_out = 0;
      } else if (strcmp(optarg, "raw") == 0) {
        o->raw_out = 1;
      } else {
        fprintf(stderr, "wsc connect: --binary-out must be 'hex' or 'raw', not '%s'\n", optarg);
        return 2;
      }
      break;
    case OPT_DEFLATE: o->deflate = 1; break;
    case OPT_NO_DEFLATE: o->deflate = 0; break;
    case OPT_CA: o->ca = optarg; break;
    case OPT_CERT: o->cert = optarg; break;
    case OPT_KEY: o->key = optarg; break;
    case OPT_INSECURE: o->insecure = 1; break;
    case OPT_PROXY: o->proxy = optarg; break;
    case OPT_NO_PROXY: o->proxy = ""; break; /* "" = never a proxy */
    case OPT_PING:
    case OPT_TIMEOUT:
    case OPT_LINGER: {
      uint32_t *dst = c == OPT_PING ? &o->ping_ms : c == OPT_TIMEOUT ? &o->timeout_ms
                                                                     : &o->linger_ms;
      if (parse_seconds(optarg, dst) != 0) {
        const char *name = c == OPT_PING ? "--ping-interval" : c == OPT_TIMEOUT ? "--timeout"
                                                                                : "--linger";
        fprintf(stderr, "wsc connect: %s needs a number of seconds (0-86400), not '%s'\n",
                name, optarg);
        return 2;
      }
      break;
    }
    case OPT_CLOSE:
      if (parse_close(optarg, &o->close_code, &o->close_reason) != 0) {
        fprintf(stderr,
                "wsc connect: --close needs CODE[:REASON] with CODE 1000 or 3000-4999 and "
                "a reason of at most 123 bytes, not '%s'\n",
                optarg);
        return 2;
      }
      break;
    case 'x': o->execute = optarg; break;
    case 'v': o->verbose = 1; break;
    case 'q': o->quiet = 1; break;
    case 'h': usage(stdout); return 1;
    case ':':
      fprintf(stderr, "wsc connect: %s needs a value\n", argv[optind - 1]);
      return 2;
    default:
      if (optopt)
        fprintf(stderr, "wsc connect: unknown option '-%c'\n", optopt);
      else
        fprintf(stderr, "wsc connect: unknown option '%s'\n", argv[optind - 1]);
      fprintf(stderr, "Run 'wsc connect --help' for the options.\n");
      return 2;
    }
  }
  if (optind != argc - 1) {
    fprintf(stderr, "wsc connect: %s\n", optind >= argc ? "missing URL" : "more than one URL");
    fprintf(stderr, "usage: wsc connect [OPTIONS] URL (see --help)\n");
    return 2;
  }
  o->url = argv[optind];
  if (o->key && !o->cert) {
    fprintf(stderr, "wsc connect: --key needs --cert\n");
    return 2;
  }
  return 0;
}

/* ---- output ------------------------------------------------------------------ */

/* Write a peer-supplied string to stderr with control characters shown as
 * '?', so a hostile close reason cannot drive the terminal. */
static void put_clean(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)s[i];
    fputc(ch < 0x20 || ch == 0x7f ? '?' : ch, stderr);
  }
}

/* Print one received message on stdout: text as is plus '\n'; binary as hex
 * plus '\n', or raw bytes without one. */
static void print_message(app *a, const wsc_message_event *m) {
  if (m->is_text || a->o.raw_out) {
    if (m->length) fwrite(m->data, 1, m->length, stdout);
    if (m->is_text) fputc('\n', stdout);
  } else {
    static const char digits[] = "0123456789abcdef";
    char chunk[4096];
    const uint8_t *p = m->data;
    size_t k = 0;
    for (size_t i = 0; i < m->length; i++) {
      chunk[k++] = digits[p[i] >> 4];
      chunk[k++] = digits[p[i] & 15];
      if (k == sizeof chunk) {
        fwrite(chunk, 1, k, stdout);
        k = 0;
      }
    }
    fwrite(chunk, 1, k, stdout);
    fputc('\n', stdout);
  }
  a->out_dirty = 1;
}

static void on_flush(uv_prepare_t *p) {
  app *a = p->data;
  if (a->out_dirty) {
    fflush(stdout);
    a->out_dirty = 0;
  }
}

/* ---- the end ----------------------------------------------------------------- */

static void on_handle_closed(uv_handle_t *h) { (void)h; }

/* Release everything on the loop so wsc_loop_run returns. */
static void teardown(app *a) {
  line_input_close(a->in);
  a->in = NULL;
  if (a->handles_up) {
    a->handles_up = 0;
    uv_close((uv_handle_t *)&a->poll, on_handle_closed);
    uv_close((uv_handle_t *)&a->deadline, on_handle_closed);
    uv_close((uv_handle_t *)&a->sigint, on_handle_closed);
    uv_close((uv_handle_t *)&a->flush, on_handle_closed);
  }
  if (a->ws) wsc_socket_free(a->ws); /* safe inside its own close listener */
  a->ws = NULL;
  fflush(stdout);
}

/* Start the closing handshake with the --close code and reason. */
static void start_close(app *a, int code, const char *reason) {
  if (a->close_started || !a->ws) return;
  a->close_started = 1;
  size_t rlen = reason ? strlen(reason) : 0;
  int rc = wsc_socket_close(a->ws, code, reason, rlen);
  if (rc == WSC_ESYNTAX) { /* the reason was not UTF-8: close without it */
    fprintf(stderr, "wsc: close reason is not valid UTF-8; closing without a reason\n");
    rc = wsc_socket_close(a->ws, code, NULL, 0);
  }
  if (rc) fprintf(stderr, "wsc: close: %s\n", wsc_strerror(rc));
}

/* Every POLL_MS while needed: resume paused input once the queue has
 * drained, and after end of input close once everything is sent. */
static void on_poll(uv_timer_t *t) {
  app *a = t->data;
  if (!a->ws) return;
  uint64_t queued = wsc_socket_buffered_amount(a->ws);
  if (a->in && line_input_paused(a->in) && queued < RESUME_BELOW) line_input_resume(a->in);
  if (a->input_done && !a->close_started && queued == 0) {
    uint64_t now = uv_now(a->uv);
    if (a->o.linger_ms && !a->linger_until) a->linger_until = now + a->o.linger_ms;
    if (!a->o.linger_ms || now >= a->linger_until) start_close(a, a->o.close_code, a->o.close_reason);
  }
  int needed = (a->in && line_input_paused(a->in)) || (a->input_done && !a->close_started);
  if (!needed) uv_timer_stop(t);
}

static void need_poll(app *a) {
  if (!uv_is_active((uv_handle_t *)&a->poll)) uv_timer_start(&a->poll, on_poll, 0, POLL_MS);
}

/* ---- standard input ------------------------------------------------------------ */

static void on_line(void *user, char *line, size_t len) {
  app *a = user;
  a->lineno++;
  if (!a->ws || wsc_socket_ready_state(a->ws) != WSC_OPEN) return;
  if (!line) {
    fprintf(stderr, "wsc: input line %llu (%zu bytes) is longer than %llu bytes; not sent\n",
            a->lineno, len, (unsigned long long)WSC_DEFAULT_MAX_MESSAGE);
    return;
  }
  int rc;
  if (a->o.binary_in) {
    rc = wsc_socket_send_binary(a->ws, line, len);
  } else {
    if (len && line[len - 1] == '\r') len--;
    rc = wsc_socket_send_text(a->ws, line, len);
  }
  if (rc == WSC_ESYNTAX) {
    fprintf(stderr, "wsc: input line %llu is not valid UTF-8; not sent (use --binary)\n",
            a->lineno);
  } else if (rc) {
    fprintf(stderr, "wsc: send: %s\n", wsc_strerror(rc));
    a->status = 1;
    start_close(a, 1000, NULL);
    line_input_close(a->in);
    a->in = NULL;
    return;
  }
  if (wsc_socket_buffered_amount(a->ws) > PAUSE_ABOVE) { /* the peer is slower than stdin */
    line_input_pause(a->in);
    need_poll(a);
  }
}

static void on_input_end(void *user, int err) {
  app *a = user;
  if (err) fprintf(stderr, "wsc: reading standard input: %s\n", uv_strerror(err));
  line_input_close(a->in);
  a->in = NULL;
  a->input_done = 1;
  if (a->o.verbose) fprintf(stderr, "wsc: end of input; closing once everything is sent\n");
  need_poll(a);
}

/* ---- socket events --------------------------------------------------------------- */

static void on_open(wsc_socket *ws, const wsc_event *ev, void *user) {
  app *a = user;
  (void)ev;
  a->opened = 1;
  if (a->o.verbose) {
    const char *p = wsc_socket_protocol(ws), *x = wsc_socket_extensions(ws);
    fprintf(stderr, "wsc: connected to %s\n", wsc_socket_url(ws));
    fprintf(stderr, "wsc: protocol: %s\n", *p ? p : "(none)");
    fprintf(stderr, "wsc: extensions: %s\n", *x ? x : "(none)");
  }
  if (a->interrupted) return;
  if (a->o.execute) {
    const char *m = a->o.execute;
    int rc = a->o.binary_in ? wsc_socket_send_binary(ws, m, strlen(m))
                            : wsc_socket_send_text(ws, m, strlen(m));
    if (rc) {
      fprintf(stderr, "wsc: --execute: %s\n", rc == WSC_ESYNTAX
                                                 ? "the message is not valid UTF-8 (use --binary)"
                                                 : wsc_strerror(rc));
      a->status = rc == WSC_ESYNTAX ? 2 : 1;
      start_close(a, 1000, NULL);
    }
    return;
  }
  int rc = line_input_start(&a->in, a->uv, (size_t)WSC_DEFAULT_MAX_MESSAGE, on_line,
                            on_input_end, a);
  if (rc) {
    fprintf(stderr, "wsc: cannot read standard input: %s\n", uv_strerror(rc));
    a->status = 1;
    start_close(a, 1000, NULL);
  }
}

static void on_message(wsc_socket *ws, const wsc_event *ev, void *user) {
  app *a = user;
  (void)ws;
  if (a->o.execute && a->got_reply) return; /* -x prints the first reply only */
  print_message(a, wsc_event_message(ev));
  if (a->o.execute) {
    a->got_reply = 1;
    start_close(a, 1000, NULL);
  }
}

static void on_error(wsc_socket *ws, const wsc_event *ev, void *user) {
  app *a = user;
  const wsc_error_event *e = wsc_event_error(ev);
  (void)ws;
  if (!a->status) a->status = 1;
  if (a->interrupted || a->timed_out) return; /* already explained */
  fprintf(stderr, "wsc: %s: ", a->opened ? "connection failed" : "connect failed");
  put_clean(e->message, strlen(e->message));
  fputc('\n', stderr);
}

static void on_close(wsc_socket *ws, const wsc_event *ev, void *user) {
  app *a = user;
  const wsc_close_event *c = wsc_event_close(ev);
  (void)ws;
  if (!a->o.quiet) {
    fprintf(stderr, "closed: %d", c->code);
    if (c->reason_length) {
      fputc(' ', stderr);
      put_clean(c->reason, c->reason_length);
    }
    fputc('\n', stderr);
    if (a->o.verbose && !c->was_clean)
      fprintf(stderr, "wsc: the closing handshake did not complete\n");
  }
  if (!c->was_clean && !a->status) a->status = 1;
  if (a->o.execute && !a->got_reply && !a->status) {
    fprintf(stderr, "wsc: the connection closed before a reply came\n");
    a->status = 1;
  }
  if (a->interrupted && !a->opened) a->status = 130;
  teardown(a);
}

/* ---- signals and timers ------------------------------------------------------- */

static void on_sigint(uv_signal_t *s, int signum) {
  app *a = s->data;
  (void)signum;
  if (a->interrupted) { /* the second Ctrl-C: leave now */
    fflush(stdout);
    fprintf(stderr, "wsc: interrupted\n");
    exit(130);
  }
  a->interrupted = 1;
  if (!a->o.quiet) fprintf(stderr, "wsc: interrupted; closing (Ctrl-C again to quit at once)\n");
  line_input_close(a->in);
  a->in = NULL;
  start_close(a, 1000, NULL);
}

static void on_deadline(uv_timer_t *t) {
  app *a = t->data;
  if (!a->ws || a->got_reply) return;
  fprintf(stderr, "wsc: timed out after %.3g s\n", a->o.timeout_ms / 1000.0);
  a->timed_out = 1;
  a->status = 1;
  start_close(a, 1000, NULL);
}

/* ---- main ------------------------------------------------------------------------ */

/* Set up the handles next to the socket. 0 or a libuv error. */
static int start_handles(app *a) {
  int rc;
  if ((rc = uv_timer_init(a->uv, &a->poll)) || (rc = uv_timer_init(a->uv, &a->deadline)))
    return rc;
  if ((rc = uv_signal_init(a->uv, &a->sigint))) return rc;
  if ((rc = uv_prepare_init(a->uv, &a->flush))) return rc;
  a->handles_up = 1;
  a->poll.data = a->deadline.data = a->sigint.data = a->flush.data = a;
  /* these serve the socket; they must not keep the loop alive by themselves */
  if ((rc = uv_signal_start(&a->sigint, on_sigint, SIGINT))) return rc;
  uv_unref((uv_handle_t *)&a->sigint);
  if ((rc = uv_prepare_start(&a->flush, on_flush))) return rc;
  uv_unref((uv_handle_t *)&a->flush);
  if (a->o.execute && a->o.timeout_ms &&
      (rc = uv_timer_start(&a->deadline, on_deadline, a->o.timeout_ms, 0)))
    return rc;
  return 0;
}

int cli_connect(int argc, char **argv) {
  app a;
  memset(&a, 0, sizeof a);
  int rc = parse_args(argc, argv, &a.o);
  if (rc) {
    free(a.o.protocols);
    free(a.o.headers);
    return rc == 1 ? 0 : 2;
  }
  wsc_options opts;
  wsc_options_init(&opts);
  opts.origin = a.o.origin;
  opts.headers = a.o.headers;
  opts.nheaders = a.o.nheaders;
  opts.tls_ca_file = a.o.ca;
  opts.tls_cert_file = a.o.cert;
  opts.tls_key_file = a.o.key;
  opts.tls_insecure = a.o.insecure;
  opts.ping_interval_ms = a.o.ping_ms;
  opts.proxy = a.o.proxy; /* NULL: from the environment */
  /* the library offers permessage-deflate by default, like a browser */
  opts.deflate.mode = a.o.deflate == 0 ? WSC_DEFLATE_OFF : WSC_DEFLATE_DEFAULT;
  opts.connect_timeout_ms = a.o.timeout_ms;
  opts.handshake_timeout_ms = a.o.timeout_ms;

  int status = 1;
  rc = wsc_loop_new(&a.loop);
  if (rc) {
    fprintf(stderr, "wsc: cannot create the event loop: %s\n", wsc_strerror(rc));
    goto out;
  }
  a.uv = wsc_loop_uv(a.loop);
  rc = wsc_socket_new(a.loop, a.o.url, a.o.protocols, a.o.nprotocols, &opts, &a.ws);
  if (rc) {
    /* the constructor's exceptions are the caller's mistakes: usage errors */
    const char *what = rc == WSC_EINVAL ? "invalid option: a -H header the handshake sets "
                                          "itself (Host, Upgrade, Sec-WebSocket-*, ...), or "
                                          "an unusable proxy URL (--proxy, http_proxy, ...)?"
                                        : wsc_strerror(rc);
    fprintf(stderr, "wsc connect: %s: %s\n", a.o.url, what);
    status = rc == WSC_ENOMEM ? 1 : 2;
    goto out;
  }
  wsc_socket_set_binary_type(a.ws, WSC_BINARY_ARRAYBUFFER);
  if (wsc_socket_set_onopen(a.ws, on_open, &a) || wsc_socket_set_onmessage(a.ws, on_message, &a) ||
      wsc_socket_set_onerror(a.ws, on_error, &a) || wsc_socket_set_onclose(a.ws, on_close, &a) ||
      (rc = start_handles(&a)) != 0) {
    fprintf(stderr, "wsc: setup failed: %s\n", rc ? uv_strerror(rc) : "out of memory");
    teardown(&a);
    wsc_loop_run(a.loop);
    goto out;
  }
  if (a.o.verbose) fprintf(stderr, "wsc: connecting to %s\n", wsc_socket_url(a.ws));
  wsc_loop_run(a.loop);
  status = a.status;
out:
  if (a.loop) wsc_loop_free(a.loop);
  free(a.o.protocols);
  free(a.o.headers);
  return status;
}
