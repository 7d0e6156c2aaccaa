/* runcli.h - run the built `wsc` tool as a child process with pipes, for the
 * CLI tests (test_connect.c, test_chat_client.c).
 *
 * The child gets a pipe on stdin (or a file), one on stdout and one on
 * stderr, and an environment without proxy variables (the loopback peers are
 * reached directly). Everything it writes is collected while the test waits,
 * so a chatty child never blocks on a full pipe. Every wait is bounded; a
 * child still running at exit() is killed (a failed CHECK calls exit).
 *
 *   cli_proc p;
 *   const char *args[] = {"connect", url, NULL};
 *   CHECK_EQ(cli_start(&p, args, NULL), 0);
 *   cli_send(&p, "hello\n", 6, 5000);
 *   CHECK_STR(cli_read_line(&p, 5000), "hello");
 *   cli_close_stdin(&p);
 *   CHECK_EQ(cli_wait(&p, 10000), 0);
 *   CHECK(strstr(cli_stderr(&p), "closed: 1000"));
 */
#ifndef WSC_TEST_RUNCLI_H
#define WSC_TEST_RUNCLI_H

#include <stddef.h>
#include <sys/types.h>

typedef struct cli_proc {
  pid_t pid;         /* 0 once reaped */
  int in_fd;         /* write end of its stdin, -1 when closed (or a file) */
  int out_fd, err_fd;/* read ends, -1 at EOF */
  char *out;         /* stdout bytes collected (NUL-terminated) */
  size_t out_len, out_cap, out_pos; /* out_pos: consumed by cli_read_* */
  char *err;         /* stderr bytes collected (NUL-terminated) */
  size_t err_len, err_cap;
  int status;        /* exit status once reaped: 0-255, 128 + signal */
} cli_proc;

/* Start WSC_BINARY_DIR/wsc with args (NULL-terminated, starting with the
 * subcommand). stdin_file: a file to use as stdin instead of a pipe (NULL for
 * a pipe). 0 or a negative errno. */
int cli_start(cli_proc *p, const char *const args[], const char *stdin_file);
/* Write all of data to the child's stdin within timeout_ms, collecting its
 * output meanwhile. 0, -ETIMEDOUT, -EPIPE (it closed stdin), -EBADF. */
int cli_send(cli_proc *p, const void *data, size_t len, int timeout_ms);
/* Close the child's stdin (EOF for it). */
void cli_close_stdin(cli_proc *p);
/* The next stdout line without its '\n' (valid until the next call), or
 * NULL at EOF or after timeout_ms (the reason is printed to stderr). */
const char *cli_read_line(cli_proc *p, int timeout_ms);
/* The next n stdout bytes (valid until the next call), or NULL (EOF or
 * timeout). */
const char *cli_read_bytes(cli_proc *p, size_t n, int timeout_ms);
/* Wait up to timeout_ms for the child to exit, collecting its output to EOF.
 * Its exit status (0-255, 128 + signal), or -ETIMEDOUT after killing it. */
int cli_wait(cli_proc *p, int timeout_ms);
/* Everything it wrote on stderr so far (NUL-terminated, never NULL). */
const char *cli_stderr(cli_proc *p);
/* Send a signal to the running child. 0 or -errno. */
int cli_signal(cli_proc *p, int sig);
/* Kill (if running), reap, close the pipes and free the buffers. */
void cli_free(cli_proc *p);

/* A loopback TCP port nobody listens on now (bound then closed), > 1024. */
int cli_free_port(void);

#endif
