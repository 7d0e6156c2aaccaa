/* spawn.c - start and stop the real-peer test servers; see spawn.h. */
#define _GNU_SOURCE /* pipe2 */
#include "spawn.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#define START_TIMEOUT_MS 10000
#define STOP_GRACE_MS 2000
#define MAX_LIVE 32
#define MAX_ARGS 64

/* Peers and temporary directories still to be cleaned up at exit. Copies of
 * the pid and fds, not pointers: the peer_proc may live on a test's stack. */
static struct {
  pid_t pid;
  int in_fd, out_fd;
} live[MAX_LIVE];
static char tmpdirs[16][256];
static int ntmpdirs;

long long peer_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void stop_pid(pid_t pid, int in_fd, int out_fd) {
  if (in_fd >= 0) close(in_fd); /* stdin EOF: every peer exits on it */
  kill(pid, SIGTERM);
  long long deadline = peer_now_ms() + STOP_GRACE_MS;
  int status;
  for (;;) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid || (r < 0 && errno != EINTR)) break;
    if (peer_now_ms() >= deadline) {
      kill(pid, SIGKILL);
      while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      break;
    }
    usleep(5000);
  }
  if (out_fd >= 0) close(out_fd);
}

static void remove_dir(const char *path) {
  DIR *d = opendir(path);
  if (d) {
    struct dirent *e;
    char file[512];
    while ((e = readdir(d)) != NULL) {
      if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
      snprintf(file, sizeof file, "%s/%s", path, e->d_name);
      unlink(file);
    }
    closedir(d);
  }
  rmdir(path);
}

static void cleanup_at_exit(void) {
  for (int i = 0; i < MAX_LIVE; i++)
    if (live[i].pid > 0) {
      stop_pid(live[i].pid, live[i].in_fd, live[i].out_fd);
      live[i].pid = 0;
    }
  for (int i = 0; i < ntmpdirs; i++) remove_dir(tmpdirs[i]);
  ntmpdirs = 0;
}

static void init_once(void) {
  static int done;
  if (done) return;
  done = 1;
  signal(SIGPIPE, SIG_IGN); /* a peer that went away must not kill the test */
  atexit(cleanup_at_exit);
}

static void track(pid_t pid, int in_fd, int out_fd) {
  for (int i = 0; i < MAX_LIVE; i++)
    if (live[i].pid == 0) {
      live[i].pid = pid;
      live[i].in_fd = in_fd;
      live[i].out_fd = out_fd;
      return;
    }
}

static void untrack(pid_t pid) {
  for (int i = 0; i < MAX_LIVE; i++)
    if (live[i].pid == pid) live[i].pid = 0;
}

const char *peer_dir(void) {
  const char *d = getenv("WSC_TEST_PEERS_DIR");
  return d && *d ? d : WSC_SOURCE_DIR "/tests/interop/peers";
}

const char *peer_python(void) {
  const char *s = getenv("WSC_TEST_PYTHON");
  return s && *s ? s : "/usr/bin/python3";
}

const char *peer_node(void) {
  const char *s = getenv("WSC_TEST_NODE");
  return s && *s ? s : "node";
}

/* ---- lines from the peer's stdout --------------------------------------- */

int peer_read_line(peer_proc *p, char *line, size_t size, int timeout_ms) {
  long long deadline = peer_now_ms() + timeout_ms;
  for (;;) {
    char *nl = memchr(p->buf, '\n', p->len);
    size_t n = nl ? (size_t)(nl - p->buf) : p->len;
    int eof = p->eof || p->out_fd < 0;
    if (nl || p->len == sizeof p->buf || (eof && p->len > 0)) {
      size_t take = n < size - 1 ? n : size - 1;
      memcpy(line, p->buf, take);
      line[take] = '\0';
      if (take && line[take - 1] == '\r') line[take - 1] = '\0';
      size_t drop = nl ? n + 1 : n;
      memmove(p->buf, p->buf + drop, p->len - drop);
      p->len -= drop;
      return 1;
    }
    if (eof) return 0;
    long long left = deadline - peer_now_ms();
    if (left <= 0) return -ETIMEDOUT;
    struct pollfd pfd = {.fd = p->out_fd, .events = POLLIN};
    int r = poll(&pfd, 1, (int)left);
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) return -ETIMEDOUT;
    ssize_t got = read(p->out_fd, p->buf + p->len, sizeof p->buf - p->len);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) { /* EOF (or an error, treated alike): the peer closed stdout */
      p->eof = 1;
      continue;
    }
    p->len += (size_t)got;
  }
}

int peer_wait_line(peer_proc *p, const char *prefix, char *line, size_t size, int timeout_ms) {
  long long deadline = peer_now_ms() + timeout_ms;
  size_t plen = strlen(prefix);
  for (;;) {
    long long left = deadline - peer_now_ms();
    int r = peer_read_line(p, line, size, left > 0 ? (int)left : 0);
    if (r <= 0) return r;
    if (strncmp(line, prefix, plen) == 0) return 1;
  }
}

/* ---- start / stop --------------------------------------------------------- */

static const char *display_name(const char *const argv[]) {
  for (int i = 0; argv[i]; i++) {
    const char *a = argv[i];
    size_t n = strlen(a);
    if (n > 3 && (strcmp(a + n - 3, ".py") == 0 || strcmp(a + n - 3, ".js") == 0 ||
                  strcmp(a + n - 3, ".sh") == 0)) {
      const char *slash = strrchr(a, '/');
      return slash ? slash + 1 : a;
    }
  }
  return argv[0];
}

static int start_common(peer_proc *p, const char *const argv[], const char *node_path) {
  init_once();
  memset(p, 0, sizeof *p);
  p->in_fd = p->out_fd = -1;
  snprintf(p->name, sizeof p->name, "%s", display_name(argv));

  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC) < 0) return -errno;
  if (pipe2(out, O_CLOEXEC) < 0) {
    int e = errno;
    close(in[0]);
    close(in[1]);
    return -e;
  }
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    int e = errno;
    close(in[0]), close(in[1]), close(out[0]), close(out[1]);
    return -e;
  }
  if (pid == 0) { /* child: stdin and stdout become the pipes (dup2 clears CLOEXEC) */
    if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0) _exit(126);
#ifdef __linux__
    prctl(PR_SET_PDEATHSIG, SIGTERM); /* belt and braces with the stdin rule */
#endif
    if (getppid() != parent) _exit(0);
    signal(SIGPIPE, SIG_DFL); /* SIG_IGN would survive exec */
    if (node_path) {
      const char *old = getenv("NODE_PATH");
      char buf[4096];
      snprintf(buf, sizeof buf, "%s%s%s", node_path, old && *old ? ":" : "", old ? old : "");
      setenv("NODE_PATH", buf, 1);
    }
    execvp(argv[0], (char *const *)argv);
    fprintf(stderr, "spawn: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  p->pid = pid;
  p->in_fd = in[1];
  p->out_fd = out[0];
  track(pid, p->in_fd, p->out_fd);

  /* Wait for "PORT <n>", keeping whatever else it printed for the report. */
  char seen[4096] = "", line[1024];
  size_t seen_len = 0;
  long long deadline = peer_now_ms() + START_TIMEOUT_MS;
  int err = 0;
  for (;;) {
    long long left = deadline - peer_now_ms();
    int r = peer_read_line(p, line, sizeof line, left > 0 ? (int)left : 0);
    if (r < 0) {
      err = r;
      break;
    }
    if (r == 0) {
      err = -ECHILD;
      break;
    }
    int port;
    char extra;
    if (sscanf(line, "PORT %d%c", &port, &extra) == 1 && port > 0 && port < 65536) {
      p->port = port;
      return port;
    }
    seen_len += (size_t)snprintf(seen + seen_len, sizeof seen - seen_len, "  | %s\n", line);
    if (seen_len >= sizeof seen) seen_len = sizeof seen - 1;
  }
  fprintf(stderr, "spawn: %s gave no PORT line (%s); command:", p->name,
          err == -ETIMEDOUT ? "timed out after 10 s" : "it exited");
  for (int i = 0; argv[i]; i++) fprintf(stderr, " %s", argv[i]);
  fprintf(stderr, "\nspawn: its stdout (its stderr is above):\n%s", seen);
  peer_stop(p);
  return err;
}

int peer_start(peer_proc *p, const char *const argv[]) {
  return start_common(p, argv, NULL);
}

int peer_start_script(peer_proc *p, peer_lang lang, const char *script, const char *const args[]) {
  const char *argv[MAX_ARGS + 3];
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", peer_dir(), script);
  int n = 0;
  argv[n++] = lang == PEER_NODE ? peer_node() : peer_python();
  argv[n++] = path;
  for (size_t i = 0; args && args[i]; i++) {
    if (n == MAX_ARGS + 2) {
      fprintf(stderr, "spawn: too many arguments for %s\n", script);
      return -E2BIG;
    }
    argv[n++] = args[i];
  }
  argv[n] = NULL;
  return start_common(p, argv, lang == PEER_NODE ? "/usr/share/nodejs:/usr/lib/nodejs" : NULL);
}

static int start_va(peer_proc *p, peer_lang lang, const char *script, va_list ap) {
  const char *args[MAX_ARGS + 1];
  size_t n = 0;
  const char *a;
  while ((a = va_arg(ap, const char *)) != NULL) {
    if (n == MAX_ARGS) {
      fprintf(stderr, "spawn: too many arguments for %s\n", script);
      return -E2BIG;
    }
    args[n++] = a;
  }
  args[n] = NULL;
  return peer_start_script(p, lang, script, args);
}

int peer_start_py(peer_proc *p, const char *script, ...) {
  va_list ap;
  va_start(ap, script);
  int r = start_va(p, PEER_PYTHON, script, ap);
  va_end(ap);
  return r;
}

int peer_start_node(peer_proc *p, const char *script, ...) {
  va_list ap;
  va_start(ap, script);
  int r = start_va(p, PEER_NODE, script, ap);
  va_end(ap);
  return r;
}

void peer_stop(peer_proc *p) {
  if (p->pid <= 0) return;
  untrack(p->pid);
  stop_pid(p->pid, p->in_fd, p->out_fd);
  p->pid = 0;
  p->in_fd = p->out_fd = -1;
}

/* ---- temporary directories and the test CA -------------------------------- */

int peer_tmpdir(char *out, size_t size) {
  init_once();
  const char *t = getenv("TMPDIR");
  if (!t || !*t) t = "/tmp";
  if ((size_t)snprintf(out, size, "%s/wsc-interop-XXXXXX", t) >= size) return -ENAMETOOLONG;
  if (!mkdtemp(out)) return -errno;
  if (ntmpdirs < (int)(sizeof tmpdirs / sizeof tmpdirs[0]))
    snprintf(tmpdirs[ntmpdirs++], sizeof tmpdirs[0], "%s", out);
  return 0;
}

int peer_make_certs(peer_certs *c) {
  if (peer_tmpdir(c->dir, sizeof c->dir) != 0 || peer_make_ca(c->dir) != 0) return -1;
  snprintf(c->cert, sizeof c->cert, "%s/server.pem", c->dir);
  snprintf(c->chain, sizeof c->chain, "%s/server-chain.pem", c->dir);
  snprintf(c->key, sizeof c->key, "%s/server.key", c->dir);
  snprintf(c->ca, sizeof c->ca, "%s/ca.pem", c->dir);
  return 0;
}

int peer_make_ca(const char *dir) {
  char script[1024];
  snprintf(script, sizeof script, "%s/make-ca.sh", peer_dir());
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    signal(SIGPIPE, SIG_DFL);
    execl("/bin/sh", "sh", script, dir, (char *)NULL);
    _exit(127);
  }
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return -1;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}
