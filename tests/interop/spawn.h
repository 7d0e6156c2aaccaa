/* spawn.h - start and stop the real-peer test servers (tests/interop/peers).
 *
 * A peer is a child process with a pipe on its stdin and one on its stdout
 * (its stderr is the test's). It prints `PORT <n>` once listening on a free
 * loopback port; peer_start() waits for that line. Every peer exits on
 * SIGTERM, when its stdin reaches EOF (so a test that crashes, or is killed
 * by CTest's timeout, never leaks one: the kernel closes the pipe), and after
 * its --max-seconds. peer_stop() sends SIGTERM, waits up to 2 s, then
 * SIGKILLs, and reaps. Peers still running at exit() (a failed CHECK calls
 * exit) are stopped by an atexit handler.
 *
 *   peer_proc p;
 *   int port = peer_start_py(&p, "py_server.py", "--mode", "echo", NULL);
 *   ... connect to 127.0.0.1:port ...
 *   peer_stop(&p);
 */
#ifndef WSC_TEST_SPAWN_H
#define WSC_TEST_SPAWN_H

#include <stddef.h>
#include <sys/types.h>

typedef struct peer_proc {
  pid_t pid;       /* 0 when not running */
  int in_fd;       /* write end of the peer's stdin (closing it stops the peer) */
  int out_fd;      /* read end of the peer's stdout */
  int eof;         /* the peer closed its stdout */
  int port;        /* from the PORT line */
  char name[64];   /* for messages: the script's file name */
  char buf[16384]; /* stdout bytes read but not yet returned as lines */
  size_t len;
} peer_proc;

/* Start argv[0] (looked up in PATH when it has no '/') with argv, wait up to
 * 10 s for its `PORT <n>` line. Returns the port, or a negative errno-style
 * error (-ETIMEDOUT, -ECHILD when it exited first, ...) after printing what
 * the peer wrote and stopping it. */
int peer_start(peer_proc *p, const char *const argv[]);

/* Start a script of the peers directory with its interpreter: args is a
 * NULL-terminated list of arguments (NULL for none). As peer_start. */
typedef enum peer_lang { PEER_PYTHON, PEER_NODE } peer_lang;
int peer_start_script(peer_proc *p, peer_lang lang, const char *script, const char *const args[]);

/* peer_start with /usr/bin/python3 (or $WSC_TEST_PYTHON) running
 * <peers dir>/script and the NULL-terminated arguments that follow. */
int peer_start_py(peer_proc *p, const char *script, ...) __attribute__((sentinel));
/* The same with node (or $WSC_TEST_NODE) and NODE_PATH set for Debian's
 * node-ws (/usr/share/nodejs:/usr/lib/nodejs, before any NODE_PATH given). */
int peer_start_node(peer_proc *p, const char *script, ...) __attribute__((sentinel));

/* SIGTERM, wait up to 2 s, SIGKILL, reap, close the pipes. Safe to call on a
 * peer that is not running (or was never started, if zeroed). */
void peer_stop(peer_proc *p);

/* Read the next line the peer printed (without the newline), waiting at most
 * timeout_ms. 1 with a line (cut to size - 1 bytes), 0 at EOF, -ETIMEDOUT. */
int peer_read_line(peer_proc *p, char *line, size_t size, int timeout_ms);
/* Skip lines until one starting with prefix; same results as peer_read_line. */
int peer_wait_line(peer_proc *p, const char *prefix, char *line, size_t size, int timeout_ms);

/* Where the peer scripts are: $WSC_TEST_PEERS_DIR, or
 * WSC_SOURCE_DIR "/tests/interop/peers" (a compile definition). */
const char *peer_dir(void);
const char *peer_python(void); /* /usr/bin/python3 unless $WSC_TEST_PYTHON */
const char *peer_node(void);   /* "node" unless $WSC_TEST_NODE */

/* A fresh directory under $TMPDIR (default /tmp), removed with its files at
 * exit. 0, or a negative errno. */
int peer_tmpdir(char *out, size_t size);
/* Run make-ca.sh into dir (ca.pem, server.pem, server.key, ...). 0 or -1. */
int peer_make_ca(const char *dir);
/* A fresh test CA in a fresh peer_tmpdir and the paths of its files: the
 * server's certificate (for localhost, 127.0.0.1 and ::1), the same with the
 * intermediate (chain), its key, and the CA to trust. 0 or -1. */
typedef struct peer_certs {
  char dir[256], cert[320], chain[320], key[320], ca[320];
} peer_certs;
int peer_make_certs(peer_certs *c);

/* Monotonic milliseconds, for time bounds. */
long long peer_now_ms(void);

#endif
