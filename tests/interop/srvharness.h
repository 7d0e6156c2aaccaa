/* srvharness.h - the wsc server under test and its real-peer clients on one
 * loop (tests/interop/test_server*.c).
 *
 * The server runs in the test process on a wsc_loop; the clients are child
 * processes (peers/py_client.py, node_client.js, raw_client.py, or any
 * program) started with uv_spawn on the same loop, so server and clients make
 * progress together. A client's stdout is collected as lines; its stdin is a
 * pipe the test never writes, so closing it (or the test dying) stops the
 * client. Every wait is bounded: sh_wait() fails the test after its limit,
 * printing the server's event log and every client's output.
 *
 * The server's sockets log their events into one string, in order:
 *   "open:chat.v2 msg:text:5 close:1000:done:clean"
 * (open:<protocol or ->, msg:<kind>:<length>, error:<code name>,
 * close:<code>:<reason>:<clean|unclean>, drain). Messages are echoed unless
 * the test turns echo off; text messages starting with "cmd:" are commands:
 *   cmd:close:CODE:REASON    wsc_socket_close(CODE, REASON)
 *   cmd:burst:N:SIZE         send N binary messages of SIZE bytes at once
 *   cmd:stream:N:SIZE        send one SIZE-byte binary message per loop tick
 *                            (1 ms timer) until N are sent or the socket is
 *                            no longer OPEN
 */
#ifndef WSC_TEST_SRVHARNESS_H
#define WSC_TEST_SRVHARNESS_H

#include <stdint.h>
#include <uv.h>

#include "proto/buf.h"
#include "wsc.h"

#define SH_MAX_PROCS 16

typedef struct sh_proc {
  uv_process_t handle;
  uv_pipe_t out, in;
  wsc__buf output;      /* everything it printed */
  char name[64];
  int started, exited, in_open;
  int64_t exit_status;
  int term_signal;
  unsigned open_handles;
} sh_proc;

typedef struct sh_ctx {
  wsc_loop *loop;
  uv_loop_t *uv;
  wsc_server *srv;
  uv_timer_t tick;      /* wakes the loop so waits can check their condition */
  wsc__buf log;         /* the server sockets' events */
  sh_proc procs[SH_MAX_PROCS];
  int nprocs;
  /* counters over all server sockets */
  int opened, messages, errors, closes, clean_closes, drains, connections;
  int done_called;      /* wsc_server_close's callback ran */
  int echo;             /* echo messages (default 1) */
  int pause_on_open;    /* wsc_socket_pause in the connection callback */
  wsc_socket *last;     /* the most recently opened server socket, NULL once closed */
  uint64_t peak_buffered; /* largest bufferedAmount seen while streaming */
  int last_error;       /* the last error event's code */
  /* the upgrade handler: see test_server.c */
  int upgrade_handler;
} sh_ctx;

/* A loop, a server with opts (NULL: defaults) listening on 127.0.0.1:0, the
 * tick timer, and the event-logging connection callback. */
void sh_init(sh_ctx *t, const wsc_server_options *opts);
/* Stop every client (stdin EOF), close the server gracefully, free it and
 * the loop; checks the loop had nothing left. */
void sh_finish(sh_ctx *t);

/* wsc_server_close(timeout_ms) with a callback that counts in done_called. */
void sh_shutdown(sh_ctx *t, uint32_t timeout_ms);

/* "ws://127.0.0.1:PORT/path" (or wss) in a static buffer per call site. */
const char *sh_url(sh_ctx *t, const char *scheme, const char *path, char *buf, size_t n);

/* Start a program with the NULL-terminated argv. */
sh_proc *sh_spawn(sh_ctx *t, const char *const *argv);
/* Start a peers/ script (python3 or node) with NULL-terminated arguments. */
sh_proc *sh_py(sh_ctx *t, const char *script, ...) __attribute__((sentinel));
sh_proc *sh_node(sh_ctx *t, const char *script, ...) __attribute__((sentinel));
/* Close the client's stdin (it stops, unless it finished already). */
void sh_close_stdin(sh_proc *p);

/* Run the loop until cond(t, arg) is true; fail the test after seconds. */
typedef int (*sh_cond)(sh_ctx *t, void *arg);
void sh_wait(sh_ctx *t, sh_cond cond, void *arg, double seconds, const char *what);
/* Wait for the client to exit and check it exited with status 0. */
void sh_wait_ok(sh_ctx *t, sh_proc *p, double seconds);
/* Wait for the client to exit, whatever its status. */
void sh_wait_exit(sh_ctx *t, sh_proc *p, double seconds);
/* Wait until the client printed a line starting with prefix. */
void sh_wait_line(sh_ctx *t, sh_proc *p, const char *prefix, double seconds);
/* Wait until counter >= n. */
void sh_wait_count(sh_ctx *t, const int *counter, int n, double seconds, const char *what);

/* The first line the client printed that starts with prefix (copied into a
 * static buffer, so use it before the next call), or NULL. */
const char *sh_line(sh_proc *p, const char *prefix);
/* How many of its lines start with prefix. */
int sh_count_lines(sh_proc *p, const char *prefix);
/* Fail unless the client printed exactly this line. */
#define SH_HAS_LINE(p, line)                                                              \
  do {                                                                                    \
    if (!sh_has_line((p), (line)))                                                        \
      sh_fail_dump(t, __FILE__, __LINE__, "%s did not print \"%s\"", (p)->name, (line));   \
  } while (0)
int sh_has_line(sh_proc *p, const char *line);

/* The server log as a C string. */
const char *sh_log(sh_ctx *t);
/* Fail the test after printing the log and every client's output. */
void sh_fail_dump(sh_ctx *t, const char *file, int line, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 4, 5)));
#define SH_CHECK_LOG(expected)                                                            \
  do {                                                                                    \
    if (strcmp(sh_log(t), (expected)) != 0)                                               \
      sh_fail_dump(t, __FILE__, __LINE__, "server log \"%s\", expected \"%s\"", sh_log(t), \
                   (expected));                                                           \
  } while (0)

/* Raise RLIMIT_NOFILE to at least n (up to the hard limit). The new soft
 * limit. */
long sh_raise_nofile(long n);
/* A KiB figure of the test process from /proc/self/status ("VmRSS",
 * "VmSize", ...), -1 if unknown. */
long sh_status_kib(const char *field);

#endif
