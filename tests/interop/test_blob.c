/* test_blob.c - binaryType "blob": binary messages as wsc_blob objects, in
 * memory or, above wsc_options.blob_file_threshold, in an unlinked temporary
 * file written as the message arrives; references and slices kept past the
 * socket.
 *
 * The peer is peers/blob_peer.py (Python websockets, another process, so the
 * sender's memory is not ours): each text command the client sends ("bin SIZE
 * FRAG", "text SIZE") makes it send a message whose bytes are a known pattern
 * (byte i = the 32-bit little-endian word index i / 4, byte i % 4). The
 * memory bound is measured with /proc/self/status VmHWM (peak RSS, reset
 * through /proc/self/clear_refs where allowed) at the message event, before
 * the test itself touches the message. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <uv.h>

#include "spawn.h"
#include "srvharness.h"
#include "test.h"
#include "wsc.h"

#define MiB (1024u * 1024u)
#define MAX_MSGS 8

/* ---- the pattern -------------------------------------------------------- */

static uint8_t pat(uint64_t i) { return (uint8_t)((i / 4) >> (8 * (i % 4))); }

/* The first offset in [0, n) where p (bytes off.. of the message) differs
 * from the pattern, or n. */
static size_t pat_mismatch(const uint8_t *p, uint64_t off, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (p[i] != pat(off + i)) return i;
  return n;
}

/* Check a blob against the pattern through wsc_blob_read, in reads of 64 KiB
 * and then a few unaligned and out-of-range ones. 1 when all agree. */
static int blob_reads_pattern(const wsc_blob *b, uint64_t size) {
  static uint8_t buf[64 * 1024];
  uint64_t off = 0;
  while (off < size) {
    int64_t n = wsc_blob_read(b, off, buf, sizeof buf);
    if (n <= 0) return 0;
    if (pat_mismatch(buf, off, (size_t)n) != (size_t)n) return 0;
    off += (uint64_t)n;
  }
  if (wsc_blob_read(b, size, buf, sizeof buf) != 0) return 0;     /* at the end */
  if (wsc_blob_read(b, size + 9, buf, sizeof buf) != 0) return 0; /* past it */
  if (size >= 7) {
    if (wsc_blob_read(b, size - 3, buf, 100) != 3) return 0; /* cut at the end */
    if (pat_mismatch(buf, size - 3, 3) != 3) return 0;
    if (wsc_blob_read(b, 5, buf, 2) != 2 || pat_mismatch(buf, 5, 2) != 2) return 0;
  }
  if (wsc_blob_read(NULL, 0, buf, 1) != WSC_EINVAL) return 0;
  return 1;
}

/* ---- memory ------------------------------------------------------------- */

/* Reset VmHWM to the current RSS (Linux >= 4.0); harmless where refused. */
static void reset_hwm(void) {
  int fd = open("/proc/self/clear_refs", O_WRONLY);
  if (fd < 0) return;
  ssize_t w = write(fd, "5", 1);
  (void)w;
  close(fd);
}

/* ---- a client that asks blob_peer.py for messages ----------------------- */

typedef struct msgrec {
  int is_text;
  size_t length;
  int has_blob;
  int fd;              /* wsc_blob_fd */
  uint64_t blob_size;
  int data_ok;         /* data is the pattern (or the text) */
  int blob_ok;         /* wsc_blob_read and wsc_blob_data agree with it */
  int same_bytes;      /* wsc_blob_data == data */
  long hwm_growth_kib; /* VmHWM at the event minus VmRSS when the command went out */
  int dir_entries;     /* files visible in the blob directory at the event */
} msgrec;

typedef struct bt {
  wsc_loop *loop;
  wsc_socket *ws;
  const char *const *cmds; /* one message is asked for at a time */
  size_t ncmds, next;
  msgrec msgs[MAX_MSGS];
  int nmsgs;
  wsc_blob *kept[MAX_MSGS]; /* references taken in the event, if keep */
  int keep;
  int free_in_message;      /* free the socket in the (first) message event */
  int check_data;           /* verify every byte through data and the blob */
  const char *blob_dir;     /* counted at each event, if set */
  long rss_at_cmd;
  int errors, err_code;
  char err_msg[256];
  int closes, close_code, was_clean;
  uv_timer_t guard;
} bt;

static void send_next(bt *t) {
  if (t->next == t->ncmds) {
    CHECK_EQ(wsc_socket_close(t->ws, 1000, "done", 4), 0);
    return;
  }
  const char *cmd = t->cmds[t->next++];
  reset_hwm();
  t->rss_at_cmd = sh_status_kib("VmRSS");
  CHECK_EQ(wsc_socket_send_text(t->ws, cmd, strlen(cmd)), 0);
}

static void on_open(wsc_socket *ws, const wsc_event *ev, void *user) {
  (void)ws;
  (void)ev;
  send_next(user);
}

static int count_dir(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return -1;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
  closedir(d);
  return n;
}

static void on_message(wsc_socket *ws, const wsc_event *ev, void *user) {
  bt *t = user;
  const wsc_message_event *m = wsc_event_message(ev);
  CHECK_INT(t->nmsgs, <, MAX_MSGS);
  msgrec *r = &t->msgs[t->nmsgs];
  /* measure first: nothing below may count against the bound */
  long hwm = sh_status_kib("VmHWM");
  r->hwm_growth_kib = hwm >= 0 && t->rss_at_cmd >= 0 ? hwm - t->rss_at_cmd : -1;
  r->dir_entries = t->blob_dir ? count_dir(t->blob_dir) : -1;
  r->is_text = m->is_text;
  r->length = m->length;
  r->has_blob = m->blob != NULL;
  r->fd = m->blob ? wsc_blob_fd(m->blob) : -2;
  r->blob_size = m->blob ? wsc_blob_size(m->blob) : 0;
  if (t->check_data) {
    if (m->is_text) {
      r->data_ok = 1;
      for (size_t i = 0; i < m->length && r->data_ok; i++)
        r->data_ok = ((const char *)m->data)[i] == (char)('0' + i % 10);
    } else {
      r->data_ok = pat_mismatch(m->data, 0, m->length) == m->length;
    }
    if (m->blob) {
      r->same_bytes = wsc_blob_data(m->blob) == m->data;
      r->blob_ok = blob_reads_pattern(m->blob, m->length) &&
                   pat_mismatch(wsc_blob_data(m->blob), 0, m->length) == m->length;
    }
  }
  if (t->keep && m->blob) {
    t->kept[t->nmsgs] = wsc_blob_ref(m->blob);
    CHECK(t->kept[t->nmsgs] != NULL);
  }
  t->nmsgs++;
  if (t->free_in_message) {
    wsc_socket_free(ws);
    t->ws = NULL;
    uv_close((uv_handle_t *)&t->guard, NULL);
    return;
  }
  send_next(t);
}

static void on_error(wsc_socket *ws, const wsc_event *ev, void *user) {
  bt *t = user;
  (void)ws;
  const wsc_error_event *e = wsc_event_error(ev);
  t->errors++;
  t->err_code = e->error;
  snprintf(t->err_msg, sizeof t->err_msg, "%s", e->message);
}

static void on_close(wsc_socket *ws, const wsc_event *ev, void *user) {
  bt *t = user;
  (void)ws;
  const wsc_close_event *c = wsc_event_close(ev);
  t->closes++;
  t->close_code = c->code;
  t->was_clean = c->was_clean;
  uv_close((uv_handle_t *)&t->guard, NULL);
}

static void guard_fired(uv_timer_t *tm) {
  (void)tm;
  wsc_test_fail(__FILE__, __LINE__, "the test took more than 60 s");
}

/* Connect to the peer with opts, ask for each command's message in turn,
 * then close; returns once the loop is done (the socket is freed unless
 * free_in_message freed it already). */
static void run_client(bt *t, int port, const wsc_options *opts, wsc_binary_type type) {
  char url[64];
  snprintf(url, sizeof url, "ws://127.0.0.1:%d/", port);
  CHECK_EQ(wsc_loop_new(&t->loop), 0);
  CHECK_EQ(wsc_socket_new(t->loop, url, NULL, 0, opts, &t->ws), 0);
  CHECK_EQ(wsc_socket_binary_type(t->ws), WSC_BINARY_BLOB); /* the default */
  wsc_socket_set_binary_type(t->ws, type);
  CHECK_EQ(wsc_socket_set_onopen(t->ws, on_open, t), 0);
  CHECK_EQ(wsc_socket_set_onmessage(t->ws, on_message, t), 0);
  CHECK_EQ(wsc_socket_set_onerror(t->ws, on_error, t), 0);
  CHECK_EQ(wsc_socket_set_onclose(t->ws, on_close, t), 0);
  uv_timer_init(wsc_loop_uv(t->loop), &t->guard);
  uv_timer_start(&t->guard, guard_fired, 60000, 0);
  uv_unref((uv_handle_t *)&t->guard);
  wsc_loop_run(t->loop);
  if (t->ws) wsc_socket_free(t->ws);
  CHECK_EQ(wsc_loop_free(t->loop), 0);
}

static void opts_blob(wsc_options *o, uint64_t threshold, const char *dir) {
  wsc_options_init(o);
  o->blob_file_threshold = threshold;
  o->blob_dir = dir;
  o->max_message = 64 * MiB;
}

/* The fd of a kept file-backed blob: a regular file of the message's size,
 * already unlinked. */
static void check_unlinked_file(int fd, uint64_t size) {
  struct stat st;
  CHECK_EQ(fstat(fd, &st), 0);
  CHECK(S_ISREG(st.st_mode));
  CHECK_EQ(st.st_size, (long long)size);
  CHECK_EQ(st.st_nlink, 0);
}

static int fd_is_open(int fd) { return fcntl(fd, F_GETFD) != -1 || errno != EBADF; }

/* ---- tests -------------------------------------------------------------- */

/* 64 MiB with a 1 MiB threshold: file-backed, memory bounded, kept past the
 * callback and the socket. */
TEST(blob_64mib_file_backed_bounded_memory) {
  char dir[256];
  CHECK_EQ(peer_tmpdir(dir, sizeof dir), 0);
  peer_proc p;
  int port = peer_start_py(&p, "blob_peer.py", NULL);
  CHECK_INT(port, >, 0);
  wsc_options o;
  opts_blob(&o, 1 * MiB, dir);
  static const char *const cmds[] = {"bin 67108864 0"};
  bt t = {.cmds = cmds, .ncmds = 1, .keep = 1, .check_data = 1, .blob_dir = dir};
  long long t0 = peer_now_ms();
  run_client(&t, port, &o, WSC_BINARY_BLOB);
  fprintf(stderr, "64 MiB message: %lld ms, VmHWM growth at the event %ld KiB\n",
          peer_now_ms() - t0, t.msgs[0].hwm_growth_kib);
  CHECK_EQ(t.nmsgs, 1);
  msgrec *r = &t.msgs[0];
  CHECK_EQ(r->is_text, 0);
  CHECK_EQ(r->length, 64 * MiB);
  CHECK(r->has_blob);
  CHECK_INT(r->fd, >=, 0);
  CHECK_EQ(r->blob_size, 64 * MiB);
  CHECK(r->data_ok);
  CHECK(r->blob_ok);
  CHECK(r->same_bytes);
  CHECK_EQ(r->dir_entries, 0); /* unlinked: nothing left behind, even on a crash */
  /* the bound: far below the 64 MiB a buffer would take */
  CHECK_INT(r->hwm_growth_kib, >=, 0);
  CHECK_INT(r->hwm_growth_kib, <, 16 * 1024);
  CHECK_EQ(t.errors, 0);
  CHECK_EQ(t.close_code, 1000);
  CHECK(t.was_clean);
  /* the socket and its loop are gone; the kept blob still reads */
  wsc_blob *b = t.kept[0];
  CHECK(b != NULL);
  CHECK_EQ(wsc_blob_fd(b), r->fd);
  check_unlinked_file(wsc_blob_fd(b), 64 * MiB);
  CHECK(blob_reads_pattern(b, 64 * MiB));
  const uint8_t *d = wsc_blob_data(b);
  CHECK_EQ(pat_mismatch(d + 32 * MiB, 32 * MiB, MiB), MiB);
  int fd = wsc_blob_fd(b);
  wsc_blob_unref(b);
  CHECK(!fd_is_open(fd)); /* the last reference closed the file */
  peer_stop(&p);
}

/* The control for the bound above: the same message as arraybuffer is
 * assembled in memory, and the same measurement sees it. */
TEST(blob_64mib_arraybuffer_control_uses_memory) {
  peer_proc p;
  int port = peer_start_py(&p, "blob_peer.py", NULL);
  CHECK_INT(port, >, 0);
  wsc_options o;
  opts_blob(&o, 1 * MiB, NULL);
  static const char *const cmds[] = {"bin 67108864 0"};
  bt t = {.cmds = cmds, .ncmds = 1};
  run_client(&t, port, &o, WSC_BINARY_ARRAYBUFFER);
  fprintf(stderr, "64 MiB message as arraybuffer: VmHWM growth at the event %ld KiB\n",
          t.msgs[0].hwm_growth_kib);
  CHECK_EQ(t.nmsgs, 1);
  CHECK_EQ(t.msgs[0].length, 64 * MiB);
  CHECK_EQ(t.msgs[0].has_blob, 0);
  CHECK_INT(t.msgs[0].hwm_growth_kib, >=, 64 * 1024);
  CHECK_EQ(t.close_code, 1000);
  peer_stop(&p);
}

/* Fragmented messages around the threshold: at it stays in memory, past it
 * (also when crossed in the middle of a fragment) goes to a file; small
 * ones in memory; kept in-memory blobs outlive the socket too. */
TEST(blob_threshold_and_fragments) {
  char dir[256];
  CHECK_EQ(peer_tmpdir(dir, sizeof dir), 0);
  peer_proc p;
  int port = peer_start_py(&p, "blob_peer.py", NULL);
  CHECK_INT(port, >, 0);
  wsc_options o;
  opts_blob(&o, 1 * MiB, dir);
  static const char *const cmds[] = {
      "bin 3145728 262144", /* 3 MiB in 256 KiB fragments */
      "bin 1048576 262144", /* exactly the threshold: memory */
      "bin 1048580 300000", /* 4 bytes over, crossed inside a fragment */
      "bin 100 0",          /* one read: memory, copied when kept */
      "bin 524288 65536",   /* assembled in memory, taken over when kept */
      "bin 0 0",            /* empty */
  };
  bt t = {.cmds = cmds, .ncmds = 6, .keep = 1, .check_data = 1};
  run_client(&t, port, &o, WSC_BINARY_BLOB);
  CHECK_EQ(t.nmsgs, 6);
  static const size_t sizes[] = {3 * MiB, MiB, MiB + 4, 100, 512 * 1024, 0};
  static const int in_file[] = {1, 0, 1, 0, 0, 0};
  for (int i = 0; i < 6; i++) {
    msgrec *r = &t.msgs[i];
    fprintf(stderr, "message %d: %zu bytes fd %d\n", i, r->length, r->fd);
    CHECK_EQ(r->length, sizes[i]);
    CHECK(r->has_blob);
    CHECK_EQ(r->blob_size, sizes[i]);
    CHECK(r->data_ok);
    CHECK(r->blob_ok);
    CHECK(r->same_bytes);
    if (in_file[i])
      CHECK_INT(r->fd, >=, 0);
    else
      CHECK_EQ(r->fd, -1);
  }
  CHECK_EQ(t.close_code, 1000);
  for (int i = 0; i < 6; i++) {
    wsc_blob *b = t.kept[i];
    CHECK(b != NULL);
    CHECK_EQ(wsc_blob_size(b), sizes[i]);
    CHECK(blob_reads_pattern(b, sizes[i]));
    CHECK_EQ(pat_mismatch(wsc_blob_data(b), 0, sizes[i]), sizes[i]);
    if (in_file[i]) check_unlinked_file(wsc_blob_fd(b), sizes[i]);
    else CHECK_EQ(wsc_blob_fd(b), -1);
    wsc_blob_unref(b);
  }
  CHECK_EQ(count_dir(dir), 0);
  peer_stop(&p);
}

/* A message that arrives whole in one read goes to a file too when it is
 * over the threshold (the threshold alone decides, not how it arrived). */
TEST(blob_whole_read_message_over_threshold) {
  peer_proc p;
  int port = peer_start_py(&p, "blob_peer.py", NULL);
  CHECK_INT(port, >, 0);
  wsc_options o;
  opts_blob(&o, 64, NULL);
  static const char *const cmds[] = {"bin 100 0", "bin 64 0", "bin 65 0"};
  bt t = {.cmds = cmds, .ncmds = 3, .check_data = 1};
  run_client(&t, port, &o, WSC_BINARY_BLOB);
  CHECK_EQ(t.nmsgs, 3);
  CHECK_INT(t.msgs[0].fd, >=, 0);
  CHECK_EQ(t.msgs[1].fd, -1);
  CHECK_INT(t.msgs[2].fd, >=, 0);
  for (int i = 0; i < 3; i++) {
    CHECK(t.msgs[i].data_ok);
    CHECK(t.msgs[i].blob_ok);
  }
  CHECK_EQ(t.close_code, 1000);
  peer_stop(&p);
}

/* arraybuffer: contiguous memory, no blob, whatever the threshold. */
TEST(blob_arraybuffer_has_no_blob) {
  peer_proc p;
  int port = peer_start_py(&p, "blob_peer.py", NULL);
  CHECK_INT(port, >, 0);
  wsc_options o;
  opts_blob(&o, 1 * MiB, NULL);
  static const char *const cmds[] = {"bin 2097152 0", "bin 2097152 262144", "bin 100 0"};
  bt t = {.cmds = cmds, .ncmds = 3, .check_data = 1};
  run_client(&t, port, &o, WSC_BINARY_ARRAYBUFFER);
  CHECK_EQ(t.nmsgs, 3);
  for (int i = 0; i < 3; i++) {
    CHECK_EQ(t.msgs[i].is_text, 0);
    CHECK_EQ(t.msgs[i].has_blob, 0);
    CHECK(t.msgs[i].data_ok);
  }
  CHECK_EQ(t.msgs[0].length, 2 * MiB);
  CHECK_EQ(t.msgs[2].length, 100);
  CHECK_EQ(t.close_code, 1000);
  peer_stop(&p);
}

/* Text is never a blob, however large. */
TEST(blob_text_is_never_a_blob) {
  char dir[256];
  CHECK_EQ(peer_tmpdir(dir, sizeof dir), 0);
  peer_proc p;
  int port = peer_start_py(&p, "blob_peer.py", NULL);
  CHECK_INT(port, >, 0);
  wsc_options o;
  opts_blob(&o, 1 * MiB, dir);
  static const char *const cmds[] = {"text 2097152", "text 10"};
  bt t = {.cmds = cmds, .ncmds = 2, .check_data = 1, .blob_dir = dir};
  run_client(&t, port, &o, WSC_BINARY_BLOB);
  CHECK_EQ(t.nmsgs, 2);
  CHECK_EQ(t.msgs[0].is_text, 1);
  CHECK_EQ(t.msgs[0].length, 2 * MiB);
  CHECK_EQ(t.msgs[0].has_blob, 0);
  CHECK(t.msgs[0].data_ok);
  CHECK_EQ(t.msgs[1].has_blob, 0);
  CHECK(t.msgs[1].data_ok);
  CHECK_EQ(t.close_code, 1000);
  peer_stop(&p);
}

/* Threshold 0 (the default): every binary message in memory. */
TEST(blob_default_keeps_messages_in_memory) {
  peer_proc p;
  int port = peer_start_py(&p, "blob_peer.py", NULL);
  CHECK_INT(port, >, 0);
  static const char *const cmds[] = {"bin 4194304 0"};
  bt t = {.cmds = cmds, .ncmds = 1, .check_data = 1};
  run_client(&t, port, NULL, WSC_BINARY_BLOB);
  CHECK_EQ(t.nmsgs, 1);
  CHECK(t.msgs[0].has_blob);
  CHECK_EQ(t.msgs[0].fd, -1);
  CHECK(t.msgs[0].data_ok);
  CHECK(t.msgs[0].blob_ok);
  peer_stop(&p);
}

/* A blob directory that does not exist: error event with the cause, the
 * peer gets Close 1011, the application close 1006; no message. */
TEST(blob_missing_dir_fails_the_connection) {
  peer_proc p;
  int port = peer_start_py(&p, "blob_peer.py", NULL);
  CHECK_INT(port, >, 0);
  wsc_options o;
  opts_blob(&o, 1 * MiB, "/nonexistent-wsc-blob/dir");
  static const char *const cmds[] = {"bin 2097152 65536"};
  bt t = {.cmds = cmds, .ncmds = 1};
  run_client(&t, port, &o, WSC_BINARY_BLOB);
  fprintf(stderr, "error: %s (%s)\n", t.err_msg, wsc_err_name(t.err_code));
  CHECK_EQ(t.nmsgs, 0);
  CHECK_EQ(t.errors, 1);
  CHECK_EQ(t.err_code, -ENOENT);
  CHECK(strstr(t.err_msg, "/nonexistent-wsc-blob/dir") != NULL);
  CHECK_EQ(t.closes, 1);
  CHECK_EQ(t.close_code, 1006);
  CHECK_EQ(t.was_clean, 0);
  char line[256];
  CHECK_EQ(peer_wait_line(&p, "CLOSED", line, sizeof line, 10000), 1);
  CHECK_STR(line, "CLOSED 1011 cannot store the message");
  peer_stop(&p);
}

/* References taken in the event and the socket freed in it: the blobs (one
 * file-backed, one in memory) stay readable, and nothing leaks (ASan). A
 * listener that takes and drops a reference does not free the bytes the next
 * listener reads. */
static void ref_unref(wsc_socket *ws, const wsc_event *ev, void *user) {
  (void)ws;
  (void)user;
  const wsc_message_event *m = wsc_event_message(ev);
  wsc_blob *b = wsc_blob_ref(m->blob);
  CHECK(b != NULL);
  CHECK(wsc_blob_data(b) == m->data);
  wsc_blob *b2 = wsc_blob_ref(m->blob); /* a second reference shares the first's */
  CHECK(b2 == b);
  wsc_blob_unref(b2);
  wsc_blob_unref(b);
}

/* Blob.slice of the event's blob, kept past the event and the socket:
 * where each slice starts in the message and its size (2 MiB messages). */
#define NSLICES 8
static wsc_blob *slices[NSLICES];
static const uint64_t slice_at[NSLICES][2] = {
    {0, 2 * MiB}, {1000, 4000}, {2 * MiB - 100, 100}, {5000, 0},
    {0, 10},      {1010, 3980}, {2 * MiB - 3, 3},     {2 * MiB, 0}};

static void take_slices(wsc_socket *ws, const wsc_event *ev, void *user) {
  (void)ws;
  (void)user;
  const wsc_blob *b = wsc_event_message(ev)->blob;
  slices[0] = wsc_blob_slice(b, 0, WSC_BLOB_END);
  slices[1] = wsc_blob_slice(b, 1000, 5000);
  slices[2] = wsc_blob_slice(b, -100, WSC_BLOB_END);
  slices[3] = wsc_blob_slice(b, 5000, 1000); /* end before start: empty */
  slices[4] = wsc_blob_slice(b, INT64_MIN, 10);
  slices[5] = wsc_blob_slice(slices[1], 10, -10); /* of a slice */
  slices[6] = wsc_blob_slice(b, -3, INT64_MAX);
  slices[7] = wsc_blob_slice(b, 3 * MiB, 4 * MiB); /* past the end: empty */
  for (int i = 0; i < NSLICES; i++) CHECK(slices[i] != NULL);
  CHECK(wsc_blob_data(slices[5]) == (const uint8_t *)wsc_blob_data(slices[1]) + 10); /* shared */
  CHECK(wsc_blob_slice(NULL, 0, 1) == NULL);
}

/* A slice reads as the pattern from where it starts, through wsc_blob_read
 * and wsc_blob_data, and has no descriptor of its own. */
static void check_slice(const wsc_blob *s, uint64_t at, uint64_t size) {
  CHECK_EQ(wsc_blob_size(s), size);
  CHECK_EQ(wsc_blob_fd(s), -1);
  uint8_t *buf = malloc(size + 1);
  CHECK(buf);
  CHECK_EQ(wsc_blob_read(s, 0, buf, size + 1), (int64_t)size);
  CHECK_EQ(pat_mismatch(buf, at, (size_t)size), size);
  CHECK_EQ(pat_mismatch(wsc_blob_data(s), at, (size_t)size), size);
  if (size > 7) CHECK_EQ(wsc_blob_read(s, size - 2, buf, 10), 2);
  CHECK_EQ(wsc_blob_read(s, size, buf, 10), 0);
  free(buf);
}

static void keep_and_free(int file_backed, int slice) {
  char dir[256];
  CHECK_EQ(peer_tmpdir(dir, sizeof dir), 0);
  peer_proc p;
  int port = peer_start_py(&p, "blob_peer.py", NULL);
  CHECK_INT(port, >, 0);
  wsc_options o;
  opts_blob(&o, file_backed ? 1 * MiB : 0, dir);
  static const char *const cmds[] = {"bin 2097152 131072"};
  bt t = {.cmds = cmds, .ncmds = 1, .keep = 1, .free_in_message = 1, .check_data = 1};
  char url[64];
  snprintf(url, sizeof url, "ws://127.0.0.1:%d/", port);
  CHECK_EQ(wsc_loop_new(&t.loop), 0);
  CHECK_EQ(wsc_socket_new(t.loop, url, NULL, 0, &o, &t.ws), 0);
  CHECK_EQ(wsc_socket_add_listener(t.ws, WSC_EVENT_MESSAGE, slice ? take_slices : ref_unref, NULL),
           0);
  CHECK_EQ(wsc_socket_set_onopen(t.ws, on_open, &t), 0);
  CHECK_EQ(wsc_socket_set_onmessage(t.ws, on_message, &t), 0);
  uv_timer_init(wsc_loop_uv(t.loop), &t.guard);
  uv_timer_start(&t.guard, guard_fired, 60000, 0);
  uv_unref((uv_handle_t *)&t.guard);
  wsc_loop_run(t.loop);
  CHECK_EQ(wsc_loop_free(t.loop), 0);
  CHECK_EQ(t.nmsgs, 1);
  CHECK(t.msgs[0].data_ok);
  CHECK(t.msgs[0].blob_ok);
  wsc_blob *b = t.kept[0];
  CHECK(b != NULL);
  CHECK_EQ(wsc_blob_fd(b) >= 0, file_backed);
  CHECK(blob_reads_pattern(b, 2 * MiB));
  CHECK_EQ(pat_mismatch(wsc_blob_data(b), 0, 2 * MiB), 2 * MiB);
  wsc_blob_unref(b);
  for (int i = 0; slice && i < NSLICES; i++) { /* the slices outlive the blob they came from */
    check_slice(slices[i], slice_at[i][0], slice_at[i][1]);
    wsc_blob_unref(slices[i]);
  }
  peer_stop(&p);
}

TEST(blob_kept_past_socket_free_file) { keep_and_free(1, 0); }
TEST(blob_kept_past_socket_free_memory) { keep_and_free(0, 0); }
TEST(blob_slices_file) { keep_and_free(1, 1); }
TEST(blob_slices_memory) { keep_and_free(0, 1); }

/* References used and dropped from several threads at once. */
typedef struct worker {
  pthread_t th;
  wsc_blob *b;
  int ok;
} worker;

static void *work(void *arg) {
  worker *w = arg;
  uint64_t size = wsc_blob_size(w->b);
  uint64_t x = (uint64_t)(uintptr_t)w | 1;
  w->ok = 1;
  for (int i = 0; i < 2000; i++) {
    wsc_blob *r = wsc_blob_ref(w->b);
    x = x * 6364136223846793005u + 1442695040888963407u;
    uint64_t off = (x >> 11) % size;
    uint8_t buf[16];
    int64_t n = wsc_blob_read(r, off, buf, sizeof buf);
    if (n <= 0 || pat_mismatch(buf, off, (size_t)n) != (size_t)n) w->ok = 0;
    wsc_blob_unref(r);
  }
  wsc_blob_unref(w->b); /* the reference it was given */
  return NULL;
}

TEST(blob_refcount_across_threads) {
  char dir[256];
  CHECK_EQ(peer_tmpdir(dir, sizeof dir), 0);
  peer_proc p;
  int port = peer_start_py(&p, "blob_peer.py", NULL);
  CHECK_INT(port, >, 0);
  wsc_options o;
  opts_blob(&o, 1 * MiB, dir);
  static const char *const cmds[] = {"bin 2097152 0", "bin 65536 0"};
  bt t = {.cmds = cmds, .ncmds = 2, .keep = 1};
  run_client(&t, port, &o, WSC_BINARY_BLOB);
  CHECK_EQ(t.nmsgs, 2);
  CHECK_INT(wsc_blob_fd(t.kept[0]), >=, 0);
  CHECK_EQ(wsc_blob_fd(t.kept[1]), -1);
  int fd = wsc_blob_fd(t.kept[0]);
  worker w[8];
  for (int i = 0; i < 8; i++) {
    w[i].b = wsc_blob_ref(t.kept[i % 2]);
    CHECK(w[i].b == t.kept[i % 2]); /* a heap blob's reference is itself */
    CHECK_EQ(pthread_create(&w[i].th, NULL, work, &w[i]), 0);
  }
  wsc_blob_unref(t.kept[0]); /* the threads hold the last references */
  wsc_blob_unref(t.kept[1]);
  for (int i = 0; i < 8; i++) {
    CHECK_EQ(pthread_join(w[i].th, NULL), 0);
    CHECK(w[i].ok);
  }
  CHECK(!fd_is_open(fd));
  peer_stop(&p);
}

/* ---- the server side ---------------------------------------------------- */

typedef struct srvt {
  wsc_server *srv;
  wsc_socket *client;
  int msgs, fd, data_ok, blob_ok, client_closes, server_done;
  uint64_t size;
  uv_timer_t guard;
} srvt;

static void srv_message(wsc_socket *ws, const wsc_event *ev, void *user) {
  srvt *s = user;
  (void)ws;
  const wsc_message_event *m = wsc_event_message(ev);
  s->msgs++;
  s->size = m->length;
  s->fd = m->blob ? wsc_blob_fd(m->blob) : -2;
  s->data_ok = pat_mismatch(m->data, 0, m->length) == m->length;
  s->blob_ok = m->blob && blob_reads_pattern(m->blob, m->length);
  CHECK_EQ(wsc_socket_close(ws, 1000, "got it", 6), 0);
}

static void srv_connection(wsc_server *srv, wsc_socket *ws, const wsc_request *req, void *user) {
  (void)srv;
  (void)req;
  CHECK_EQ(wsc_socket_set_onmessage(ws, srv_message, user), 0);
}

static void srv_closed(wsc_server *srv, void *user) {
  srvt *s = user;
  s->server_done = 1;
  wsc_server_free(srv);
}

static void client_open(wsc_socket *ws, const wsc_event *ev, void *user) {
  (void)ev;
  (void)user;
  static uint8_t piece[256 * 1024];
  for (uint64_t off = 0; off < 2 * MiB; off += sizeof piece) {
    for (size_t i = 0; i < sizeof piece; i++) piece[i] = pat(off + i);
    CHECK_EQ(wsc_socket_send_fragment(ws, piece, sizeof piece, 0, off + sizeof piece == 2 * MiB),
             0);
  }
}

static void client_close(wsc_socket *ws, const wsc_event *ev, void *user) {
  srvt *s = user;
  (void)ws;
  CHECK_EQ(wsc_event_close(ev)->code, 1000);
  s->client_closes++;
  wsc_server_close(s->srv, 1000, srv_closed, s);
  uv_close((uv_handle_t *)&s->guard, NULL);
}

/* The server's options reach its sockets: a 2 MiB fragmented message from
 * a wsc client arrives file-backed in the directory given (which the server
 * copied: the caller's buffer is overwritten right after wsc_server_new). */
TEST(blob_server_socket_file_backed) {
  char dir[256], dirbuf[256];
  CHECK_EQ(peer_tmpdir(dir, sizeof dir), 0);
  snprintf(dirbuf, sizeof dirbuf, "%s", dir);
  wsc_loop *loop;
  CHECK_EQ(wsc_loop_new(&loop), 0);
  wsc_server_options so;
  wsc_server_options_init(&so);
  so.blob_file_threshold = 1 * MiB;
  so.blob_dir = dirbuf;
  srvt s = {.fd = -3};
  CHECK_EQ(wsc_server_new(loop, &so, &s.srv), 0);
  snprintf(dirbuf, sizeof dirbuf, "/nonexistent-wsc-blob");
  wsc_server_set_onconnection(s.srv, srv_connection, &s);
  CHECK_EQ(wsc_server_listen(s.srv, "127.0.0.1:0"), 0);
  char url[64];
  snprintf(url, sizeof url, "ws://127.0.0.1:%d/", wsc_server_port(s.srv));
  CHECK_EQ(wsc_socket_new(loop, url, NULL, 0, NULL, &s.client), 0);
  CHECK_EQ(wsc_socket_set_onopen(s.client, client_open, &s), 0);
  CHECK_EQ(wsc_socket_set_onclose(s.client, client_close, &s), 0);
  uv_timer_init(wsc_loop_uv(loop), &s.guard);
  uv_timer_start(&s.guard, guard_fired, 60000, 0);
  uv_unref((uv_handle_t *)&s.guard);
  wsc_loop_run(loop);
  wsc_socket_free(s.client);
  CHECK_EQ(wsc_loop_free(loop), 0);
  CHECK_EQ(s.msgs, 1);
  CHECK_EQ(s.size, 2 * MiB);
  CHECK_INT(s.fd, >=, 0);
  CHECK(s.data_ok);
  CHECK(s.blob_ok);
  CHECK_EQ(s.client_closes, 1);
  CHECK(s.server_done);
}
