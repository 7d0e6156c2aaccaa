/* autobahn.c - `wsc autobahn URL`: the client agent an Autobahn fuzzing
 * server drives (the Autobahn Testsuite's fuzzingserver, or our own
 * tests/conformance/fuzzer.py server).
 *
 * The protocol: read the number of cases from URL/getCaseCount (one text
 * message), then for each case N connect to URL/runCase?case=N&agent=NAME and
 * echo every message exactly as received (text as text, binary as binary)
 * until the server closes, then connect to URL/updateReports?agent=NAME so
 * the server writes its report. One case at a time, each with a deadline, so
 * a case can never hang the agent. Only the public API (wsc.h) is used, plus
 * one libuv timer on the loop's uv_loop_t for the per-case deadline. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "cli.h"
#include "wsc.h"

/* Big enough for the 16 MiB cases (section 9) with room to spare. */
#define AGENT_MAX_MESSAGE ((uint64_t)64 * 1024 * 1024)
#define AGENT_MAX_CASES 100000u

typedef enum { RUN_COUNT, RUN_CASE, RUN_REPORT } run_kind;

typedef struct agent {
  wsc_loop *loop;
  uv_timer_t deadline;
  wsc_options opts;
  const char *name;
  unsigned case_timeout_s;
  int quiet;
  /* the connection in progress */
  wsc_socket *ws;
  run_kind kind;
  int closed;           /* the close event came */
  int close_code;
  int was_clean;
  int timed_out;        /* the deadline fired */
  int gave_up;          /* ... twice: the socket was dropped without events */
  int send_errors;      /* echoes the library refused */
  int error;            /* from the error event */
  char error_msg[160];
  unsigned long count;  /* getCaseCount's answer */
  int count_ok;
} agent;

static void usage(FILE *f) {
  fprintf(f,
          "usage: wsc autobahn URL [--agent NAME] [--cases LIST] [--case-timeout SECONDS]\n"
          "                        [--deflate] [--quiet]\n\n"
          "Run the client side of the Autobahn fuzzing server protocol against URL\n"
          "(e.g. ws://127.0.0.1:9001): read URL/getCaseCount, run every case by\n"
          "echoing each message back as received, then ask URL/updateReports to\n"
          "write the report.\n\n"
          "Options:\n"
          "  --agent NAME            agent name in the report (default \"wsc\")\n"
          "  --cases LIST            only these case numbers, e.g. 1-10,17\n"
          "  --case-timeout SECONDS  give up on a case after this long (default 60)\n"
          "  --deflate               offer permessage-deflate (the library's default offer,\n"
          "                          \"permessage-deflate; client_max_window_bits\"), as the\n"
          "                          12.x and 13.x cases need; off by default so cases\n"
          "                          1-11 test the framing without an extension\n"
          "  --quiet                 no line per case\n"
          "  --help                  this text\n\n"
          "Prints one line per case: its number, the close code and wasClean.\n"
          "Exit status 0 once the report was requested, 1 if the server could not\n"
          "be used (getCaseCount or updateReports failed), 2 on usage errors.\n");
}

/* Parse a decimal number in [lo, hi] from the whole of s. Returns 0 or -1. */
static int parse_ulong(const char *s, unsigned long lo, unsigned long hi, unsigned long *out) {
  if (!s || *s < '0' || *s > '9') return -1;
  errno = 0;
  char *end;
  unsigned long v = strtoul(s, &end, 10);
  if (errno || *end || v < lo || v > hi) return -1;
  *out = v;
  return 0;
}

/* Mark the case numbers LIST ("1-10,17") selects in sel[1..count]. Returns
 * 0, or -1 (with a message) on a malformed list or a number out of range. */
static int parse_cases(const char *list, unsigned long count, unsigned char *sel) {
  const char *p = list;
  while (*p) {
    char item[64];
    size_t n = strcspn(p, ",");
    if (n == 0 || n >= sizeof item) goto bad;
    memcpy(item, p, n);
    item[n] = 0;
    p += n + (p[n] == ',');
    unsigned long a, b;
    char *dash = strchr(item, '-');
    if (dash) {
      *dash = 0;
      if (parse_ulong(item, 1, count, &a) || parse_ulong(dash + 1, a, count, &b)) goto bad;
    } else {
      if (parse_ulong(item, 1, count, &a)) goto bad;
      b = a;
    }
    for (unsigned long i = a; i <= b; i++) sel[i] = 1;
  }
  return 0;
bad:
  fprintf(stderr, "wsc autobahn: bad --cases list '%s' (numbers 1-%lu, e.g. 1-10,17)\n", list,
          count);
  return -1;
}

/* The agent name percent-encoded for a query string; malloc'd, NULL when out
 * of memory. */
static char *query_escape(const char *s) {
  static const char hex[] = "0123456789ABCDEF";
  size_t n = strlen(s);
  char *out = malloc(3 * n + 1), *o = out;
  if (!out) return NULL;
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      *o++ = (char)c;
    } else {
      *o++ = '%';
      *o++ = hex[c >> 4];
      *o++ = hex[c & 15];
    }
  }
  *o = 0;
  return out;
}

/* ---- one connection ------------------------------------------------------ */

static void on_message(wsc_socket *ws, const wsc_event *ev, void *user) {
  agent *a = user;
  const wsc_message_event *m = wsc_event_message(ev);
  if (a->kind == RUN_COUNT) {
    char num[32];
    unsigned long v;
    if (m->is_text && m->length > 0 && m->length < sizeof num) {
      memcpy(num, m->data, m->length);
      num[m->length] = 0;
      if (parse_ulong(num, 0, AGENT_MAX_CASES, &v) == 0) {
        a->count = v;
        a->count_ok = 1;
      }
    }
    return;
  }
  if (a->kind != RUN_CASE) return;
  /* echo exactly as received: the library copies the data before returning */
  int rc = m->is_text ? wsc_socket_send_text(ws, m->data, m->length)
                      : wsc_socket_send_binary(ws, m->data, m->length);
  if (rc) a->send_errors++;
}

static void on_error(wsc_socket *ws, const wsc_event *ev, void *user) {
  agent *a = user;
  const wsc_error_event *e = wsc_event_error(ev);
  (void)ws;
  a->error = e->error;
  snprintf(a->error_msg, sizeof a->error_msg, "%s", e->message ? e->message : "");
}

static void on_close(wsc_socket *ws, const wsc_event *ev, void *user) {
  agent *a = user;
  const wsc_close_event *c = wsc_event_close(ev);
  (void)ws;
  a->closed = 1;
  a->close_code = c->code;
  a->was_clean = c->was_clean;
  uv_timer_stop(&a->deadline); /* nothing else keeps the loop running */
}

/* The deadline: first ask for a close (the library's close timeout then
 * bounds it), and if even that does not finish, drop the socket. */
static void on_deadline(uv_timer_t *t) {
  agent *a = t->data;
  if (!a->ws || a->closed) return;
  if (!a->timed_out) {
    a->timed_out = 1;
    wsc_socket_close(a->ws, 1000, "case timeout", 12); /* fails it while CONNECTING */
    uv_timer_start(&a->deadline, on_deadline, 10000, 0);
    return;
  }
  a->gave_up = 1;
  wsc_socket_free(a->ws); /* no further events: the loop can end */
  a->ws = NULL;
}

/* Connect to url, run until the connection is closed (or given up) and
 * return 0, or a negative wsc error when the socket could not be created. */
static int run_one(agent *a, const char *url, run_kind kind) {
  a->kind = kind;
  a->closed = a->timed_out = a->gave_up = a->send_errors = a->error = 0;
  a->close_code = 0;
  a->was_clean = 0;
  a->error_msg[0] = 0;
  int rc = wsc_socket_new(a->loop, url, NULL, 0, &a->opts, &a->ws);
  if (rc) return rc;
  wsc_socket_set_binary_type(a->ws, WSC_BINARY_ARRAYBUFFER);
  if (wsc_socket_set_onmessage(a->ws, on_message, a) || wsc_socket_set_onerror(a->ws, on_error, a) ||
      wsc_socket_set_onclose(a->ws, on_close, a)) {
    wsc_socket_free(a->ws);
    a->ws = NULL;
    return WSC_ENOMEM;
  }
  uv_timer_start(&a->deadline, on_deadline, (uint64_t)a->case_timeout_s * 1000, 0);
  wsc_loop_run(a->loop);
  uv_timer_stop(&a->deadline);
  if (a->ws) {
    wsc_socket_free(a->ws);
    a->ws = NULL;
  }
  wsc_loop_run(a->loop); /* let the freed socket's handles close */
  return 0;
}

/* ---- the whole run ------------------------------------------------------- */

static int run(agent *a, const char *base, const char *cases) {
  size_t blen = strlen(base);
  while (blen && base[blen - 1] == '/') blen--; /* "ws://h:p/" and "ws://h:p" alike */
  char *name = query_escape(a->name);
  size_t cap = blen + (name ? strlen(name) : 0) + 64;
  char *url = malloc(cap);
  unsigned char *sel = NULL;
  int status = 1, rc;
  if (!name || !url) {
    fprintf(stderr, "wsc autobahn: out of memory\n");
    goto out;
  }

  snprintf(url, cap, "%.*s/getCaseCount", (int)blen, base);
  rc = run_one(a, url, RUN_COUNT);
  if (rc || !a->count_ok) {
    if (rc)
      fprintf(stderr, "wsc autobahn: %s: %s\n", url, wsc_strerror(rc));
    else
      fprintf(stderr, "wsc autobahn: %s: no case count received (%s)\n", url,
              a->error ? a->error_msg : a->timed_out ? "timed out" : "closed without one");
    goto out;
  }
  if (!a->quiet) printf("%lu cases\n", a->count);
  sel = calloc(a->count + 1, 1);
  if (!sel) {
    fprintf(stderr, "wsc autobahn: out of memory\n");
    goto out;
  }
  if (cases) {
    if (parse_cases(cases, a->count, sel)) {
      status = 2;
      goto out;
    }
  } else {
    memset(sel + 1, 1, a->count);
  }

  unsigned long ran = 0, clean = 0;
  for (unsigned long n = 1; n <= a->count; n++) {
    if (!sel[n]) continue;
    snprintf(url, cap, "%.*s/runCase?case=%lu&agent=%s", (int)blen, base, n, name);
    rc = run_one(a, url, RUN_CASE);
    ran++;
    if (rc) {
      fprintf(stderr, "wsc autobahn: case %lu: %s\n", n, wsc_strerror(rc));
      continue;
    }
    clean += a->was_clean;
    if (a->quiet) continue;
    printf("case %lu: close %d wasClean %s", n, a->close_code, a->was_clean ? "true" : "false");
    if (a->gave_up)
      printf(" (deadline: dropped)");
    else if (a->timed_out)
      printf(" (deadline)");
    if (a->error) printf(" error %s: %s", wsc_err_name(a->error), a->error_msg);
    if (a->send_errors) printf(" (%d echoes refused)", a->send_errors);
    printf("\n");
    fflush(stdout);
  }

  snprintf(url, cap, "%.*s/updateReports?agent=%s", (int)blen, base, name);
  rc = run_one(a, url, RUN_REPORT);
  if (rc || !a->closed || a->close_code != WSC_CLOSE_NORMAL) {
    fprintf(stderr, "wsc autobahn: %s: %s\n", url,
            rc ? wsc_strerror(rc) : a->error ? a->error_msg : "the server did not close normally");
    goto out;
  }
  if (!a->quiet) printf("%lu cases run (%lu closed cleanly); report requested\n", ran, clean);
  status = 0;
out:
  free(sel);
  free(url);
  free(name);
  return status;
}

static void timer_closed(uv_handle_t *h) { (void)h; }

int cli_autobahn(int argc, char **argv) {
  agent a;
  memset(&a, 0, sizeof a);
  a.name = "wsc";
  a.case_timeout_s = 60;
  const char *url = NULL, *cases = NULL;
  int deflate = 0;
  for (int i = 1; i < argc; i++) {
    const char *o = argv[i];
    unsigned long v;
    if (strcmp(o, "--help") == 0 || strcmp(o, "-h") == 0) {
      usage(stdout);
      return 0;
    } else if (strcmp(o, "--quiet") == 0 || strcmp(o, "-q") == 0) {
      a.quiet = 1;
    } else if (strcmp(o, "--agent") == 0 && i + 1 < argc) {
      a.name = argv[++i];
      if (!*a.name) {
        fprintf(stderr, "wsc autobahn: --agent needs a non-empty name\n");
        return 2;
      }
    } else if (strcmp(o, "--cases") == 0 && i + 1 < argc) {
      cases = argv[++i];
    } else if (strcmp(o, "--case-timeout") == 0 && i + 1 < argc) {
      if (parse_ulong(argv[++i], 1, 3600, &v)) {
        fprintf(stderr, "wsc autobahn: --case-timeout takes 1 to 3600 seconds\n");
        return 2;
      }
      a.case_timeout_s = (unsigned)v;
    }
    else if (strcmp(o, "--deflate") == 0) {
      deflate = 1;
    } else if (o[0] == '-') {
      fprintf(stderr, "wsc autobahn: unknown option or missing value '%s'\n", o);
      usage(stderr);
      return 2;
    } else if (!url) {
      url = o;
    } else {
      fprintf(stderr, "wsc autobahn: unexpected argument '%s'\n", o);
      return 2;
    }
  }
  if (!url) {
    usage(stderr);
    return 2;
  }

  wsc_options_init(&a.opts);
  a.opts.max_message = AGENT_MAX_MESSAGE;
  a.opts.max_frame = AGENT_MAX_MESSAGE;
  /* off unless asked: the report of cases 1-11 then does not depend on it */
  a.opts.deflate.mode = deflate ? WSC_DEFLATE_ON : WSC_DEFLATE_OFF;

  int rc = wsc_loop_new(&a.loop);
  if (rc) {
    fprintf(stderr, "wsc autobahn: %s\n", wsc_strerror(rc));
    return 1;
  }
  uv_timer_init(wsc_loop_uv(a.loop), &a.deadline);
  a.deadline.data = &a;
  int status = run(&a, url, cases);
  uv_close((uv_handle_t *)&a.deadline, timer_closed);
  wsc_loop_run(a.loop);
  wsc_loop_free(a.loop);
  return status;
}
