/* runcli.c - run the built wsc tool as a child with pipes; see runcli.h. */
#define _GNU_SOURCE /* pipe2 */
#include "runcli.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "spawn.h" /* peer_now_ms */

#define MAX_LIVE 16
#define MAX_ARGS 64
#define MAX_COLLECT ((size_t)256 * 1024 * 1024) /* per stream: a runaway child fails */

static pid_t live[MAX_LIVE]; /* children to kill at exit */

static void kill_live(void) {
  for (int i = 0; i < MAX_LIVE; i++)
    if (live[i] > 0) {
      kill(live[i], SIGKILL);
      waitpid(live[i], NULL, 0);
      live[i] = 0;
    }
}

static void track(pid_t pid, int add) {
  static int registered;
  if (!registered) {
    atexit(kill_live);
    registered = 1;
  }
  for (int i = 0; i < MAX_LIVE; i++)
    if (add ? live[i] == 0 : live[i] == pid) {
      live[i] = add ? pid : 0;
      return;
    }
}

int cli_start(cli_proc *p, const char *const args[], const char *stdin_file) {
  memset(p, 0, sizeof *p);
  p->in_fd = p->out_fd = p->err_fd = -1;
  signal(SIGPIPE, SIG_IGN); /* a child that exits early must not kill the test */
  const char *argv[MAX_ARGS + 2];
  size_t n = 0;
  argv[n++] = WSC_BINARY_DIR "/wsc";
  for (; args[n - 1] && n < MAX_ARGS; n++) argv[n] = args[n - 1];
  argv[n] = NULL;
  int in[2] = {-1, -1}, out[2], err[2];
  if (stdin_file) {
    in[0] = open(stdin_file, O_RDONLY | O_CLOEXEC);
    if (in[0] < 0) return -errno;
  } else if (pipe2(in, O_CLOEXEC) != 0) {
    return -errno;
  }
  if (pipe2(out, O_CLOEXEC) != 0) return -errno;
  if (pipe2(err, O_CLOEXEC) != 0) return -errno;
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) return -errno;
  if (pid == 0) {
#ifdef __linux__
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive a killed test */
#endif
    signal(SIGPIPE, SIG_DFL);
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    /* the peers are on loopback: no proxy from the environment */
    static const char *const proxy_vars[] = {"http_proxy", "https_proxy", "all_proxy",
                                             "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"};
    for (size_t i = 0; i < sizeof proxy_vars / sizeof proxy_vars[0]; i++)
      unsetenv(proxy_vars[i]);
    execv(argv[0], (char *const *)argv);
    fprintf(stderr, "runcli: exec %s: %s\n", argv[0], strerror(errno));
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  close(err[1]);
  p->pid = pid;
  p->in_fd = in[1];
  p->out_fd = out[0];
  p->err_fd = err[0];
  fcntl(p->out_fd, F_SETFL, O_NONBLOCK);
  fcntl(p->err_fd, F_SETFL, O_NONBLOCK);
  if (p->in_fd >= 0) fcntl(p->in_fd, F_SETFL, O_NONBLOCK);
  track(pid, 1);
  return 0;
}

/* Append what fd has to (buf, len, cap); close fd at EOF. Returns -1 on
 * overflow or allocation failure. */
static int drain(int *fd, char **buf, size_t *len, size_t *cap) {
  for (;;) {
    if (*cap - *len < 65537) {
      size_t ncap = *cap ? *cap * 2 : 131072;
      if (ncap > MAX_COLLECT) return -1;
      char *b = realloc(*buf, ncap);
      if (!b) return -1;
      *buf = b;
      *cap = ncap;
    }
    ssize_t r = read(*fd, *buf + *len, *cap - *len - 1);
    if (r > 0) {
      *len += (size_t)r;
      (*buf)[*len] = '\0';
      continue;
    }
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && errno == EAGAIN) return 0;
    close(*fd); /* EOF or error */
    *fd = -1;
    return 0;
  }
}

/* Wait up to ms for output (and, with want_write, for room on stdin) and
 * collect it. 1 if stdin is writable, else 0. */
static int pump(cli_proc *p, int ms, int want_write) {
  struct pollfd f[3];
  int n = 0, iw = -1;
  if (p->out_fd >= 0) f[n++] = (struct pollfd){p->out_fd, POLLIN, 0};
  if (p->err_fd >= 0) f[n++] = (struct pollfd){p->err_fd, POLLIN, 0};
  if (want_write && p->in_fd >= 0) {
    iw = n;
    f[n++] = (struct pollfd){p->in_fd, POLLOUT, 0};
  }
  if (n == 0) {
    if (ms > 0) usleep((useconds_t)(ms < 10 ? ms : 10) * 1000);
    return 0;
  }
  if (poll(f, (nfds_t)n, ms) <= 0) return 0;
  if (p->out_fd >= 0 && drain(&p->out_fd, &p->out, &p->out_len, &p->out_cap) != 0) {
    fprintf(stderr, "runcli: too much output\n");
    close(p->out_fd);
    p->out_fd = -1;
  }
  if (p->err_fd >= 0) drain(&p->err_fd, &p->err, &p->err_len, &p->err_cap);
  return iw >= 0 && (f[iw].revents & (POLLOUT | POLLERR | POLLHUP));
}

int cli_send(cli_proc *p, const void *data, size_t len, int timeout_ms) {
  if (p->in_fd < 0) return -EBADF;
  const char *d = data;
  long long deadline = peer_now_ms() + timeout_ms;
  while (len) {
    ssize_t w = write(p->in_fd, d, len);
    if (w > 0) {
      d += w;
      len -= (size_t)w;
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno != EAGAIN) return -errno;
    long long left = deadline - peer_now_ms();
    if (left <= 0) return -ETIMEDOUT;
    pump(p, (int)left, 1);
  }
  return 0;
}

void cli_close_stdin(cli_proc *p) {
  if (p->in_fd >= 0) close(p->in_fd);
  p->in_fd = -1;
}

const char *cli_read_line(cli_proc *p, int timeout_ms) {
  long long deadline = peer_now_ms() + timeout_ms;
  for (;;) {
    char *start = p->out ? p->out + p->out_pos : NULL;
    char *nl = start ? memchr(start, '\n', p->out_len - p->out_pos) : NULL;
    if (nl) {
      *nl = '\0';
      p->out_pos += (size_t)(nl - start) + 1;
      return start;
    }
    if (p->out_fd < 0) {
      fprintf(stderr, "runcli: EOF on stdout while waiting for a line\n");
      return NULL;
    }
    long long left = deadline - peer_now_ms();
    if (left <= 0) {
      fprintf(stderr, "runcli: no line within %d ms; stderr so far:\n%s\n", timeout_ms,
              cli_stderr(p));
      return NULL;
    }
    pump(p, (int)left, 0);
  }
}

const char *cli_read_bytes(cli_proc *p, size_t n, int timeout_ms) {
  long long deadline = peer_now_ms() + timeout_ms;
  while (p->out_len - p->out_pos < n) {
    long long left = deadline - peer_now_ms();
    if (p->out_fd < 0 || left <= 0) {
      fprintf(stderr, "runcli: %zu of %zu bytes; stderr so far:\n%s\n", p->out_len - p->out_pos,
              n, cli_stderr(p));
      return NULL;
    }
    pump(p, (int)left, 0);
  }
  const char *r = p->out + p->out_pos;
  p->out_pos += n;
  return r;
}

int cli_wait(cli_proc *p, int timeout_ms) {
  long long deadline = peer_now_ms() + timeout_ms;
  while (p->pid > 0) {
    int st;
    pid_t r = waitpid(p->pid, &st, WNOHANG);
    if (r == p->pid) {
      track(p->pid, 0);
      p->pid = 0;
      p->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      break;
    }
    long long left = deadline - peer_now_ms();
    if (left <= 0) {
      fprintf(stderr, "runcli: still running after %d ms; stderr so far:\n%s\n", timeout_ms,
              cli_stderr(p));
      cli_free(p);
      return -ETIMEDOUT;
    }
    pump(p, left < 20 ? (int)left : 20, 0);
  }
  /* the rest of its output (its pipes close with it, unless a grandchild
   * holds them: bounded anyway) */
  long long end = peer_now_ms() + 2000;
  while ((p->out_fd >= 0 || p->err_fd >= 0) && peer_now_ms() < end) pump(p, 50, 0);
  return p->status;
}

const char *cli_stderr(cli_proc *p) {
  if (p->err_fd >= 0) drain(&p->err_fd, &p->err, &p->err_len, &p->err_cap);
  return p->err ? p->err : "";
}

int cli_signal(cli_proc *p, int sig) {
  if (p->pid <= 0) return -ESRCH;
  return kill(p->pid, sig) == 0 ? 0 : -errno;
}

void cli_free(cli_proc *p) {
  if (p->pid > 0) {
    kill(p->pid, SIGKILL);
    waitpid(p->pid, NULL, 0);
    track(p->pid, 0);
    p->pid = 0;
  }
  cli_close_stdin(p);
  if (p->out_fd >= 0) close(p->out_fd);
  if (p->err_fd >= 0) close(p->err_fd);
  p->out_fd = p->err_fd = -1;
  free(p->out);
  free(p->err);
  p->out = p->err = NULL;
  p->out_len = p->out_cap = p->out_pos = p->err_len = p->err_cap = 0;
}

int cli_free_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t alen = sizeof a;
  int port = -1;
  if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
      getsockname(fd, (struct sockaddr *)&a, &alen) == 0)
    port = ntohs(a.sin_port);
  close(fd);
  return port;
}
