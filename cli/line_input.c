/* line_input.c - standard input as lines on the libuv loop (see line_input.h).
 *
 * Bytes land in one buffer [start, end); complete lines are handed out from
 * it in place. Terminals, pipes and sockets are read as libuv streams;
 * regular files and character devices cannot be polled, so they are read
 * with uv_fs_read (one request at a time, on libuv's thread pool). */
#include "line_input.h"

#include <stdlib.h>
#include <string.h>

#define READ_CHUNK 65536

enum kind { KIND_TTY, KIND_PIPE, KIND_FILE };

struct line_input {
  uv_loop_t *loop;
  enum kind kind;
  union {
    uv_handle_t handle;
    uv_stream_t stream;
    uv_tty_t tty;
    uv_pipe_t pipe;
  } h;
  uv_fs_t fs;
  char *buf;
  size_t start, end, cap;
  size_t max_line;
  size_t dropped;   /* bytes of a too-long line discarded so far */
  int dropping;     /* discarding until the next '\n' */
  int paused;
  int reading;      /* uv_read_start is in effect */
  int fs_busy;      /* a uv_fs_read is in flight */
  int eof;          /* no more input will be read */
  int end_err;      /* the read error that ended input, 0 at EOF */
  int ended;        /* on_end has been called */
  int closing;      /* line_input_close was called */
  int handle_open;  /* the stream handle still has to be uv_close'd */
  int busy;         /* depth of deliver() calls in progress */
  line_input_fn on_line;
  line_input_end_fn on_end;
  void *user;
};

static void deliver(line_input *in);
static void maybe_read(line_input *in);

/* Free the reader once nothing refers to it any more. Returns 1 if freed. */
static int maybe_free(line_input *in) {
  if (!in->closing || in->busy || in->fs_busy || in->handle_open) return 0;
  free(in->buf);
  free(in);
  return 1;
}

static void on_handle_closed(uv_handle_t *h) {
  line_input *in = h->data;
  in->handle_open = 0;
  maybe_free(in);
}

/* Make room for one read at the end of the buffer. 0 or UV_ENOMEM. */
static int reserve(line_input *in) {
  if (in->start > 0) { /* slide the unfinished line to the front */
    memmove(in->buf, in->buf + in->start, in->end - in->start);
    in->end -= in->start;
    in->start = 0;
  }
  if (in->cap - in->end >= READ_CHUNK) return 0;
  size_t cap = in->end + READ_CHUNK;
  char *b = realloc(in->buf, cap);
  if (!b) return UV_ENOMEM;
  in->buf = b;
  in->cap = cap;
  return 0;
}

/* ---- streams (tty, pipe, socket) --------------------------------------- */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *out) {
  line_input *in = h->data;
  (void)suggested;
  if (reserve(in) != 0) {
    *out = uv_buf_init(NULL, 0); /* libuv reports UV_ENOBUFS to on_read */
    return;
  }
  /* one byte stays spare so every line can be NUL-terminated in place */
  *out = uv_buf_init(in->buf + in->end, (unsigned)(in->cap - in->end - 1));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b) {
  line_input *in = s->data;
  (void)b;
  if (n == 0) return; /* EAGAIN */
  if (n > 0) {
    in->end += (size_t)n;
  } else {
    in->eof = 1;
    in->end_err = n == UV_EOF ? 0 : (int)n;
    uv_read_stop(s);
    in->reading = 0;
  }
  deliver(in);
}

/* ---- files and devices ------------------------------------------------- */

static void on_fs_read(uv_fs_t *req) {
  line_input *in = req->data;
  ssize_t n = req->result;
  uv_fs_req_cleanup(req);
  in->fs_busy = 0;
  if (in->closing) {
    maybe_free(in);
    return;
  }
  if (n > 0) {
    in->end += (size_t)n;
  } else {
    in->eof = 1;
    in->end_err = (int)n; /* 0 at end of file */
  }
  deliver(in);
}

/* Start or stop reading as the state asks. */
static void maybe_read(line_input *in) {
  int want = !in->paused && !in->eof && !in->closing;
  if (in->kind == KIND_FILE) {
    if (!want || in->fs_busy) return;
    int rc = reserve(in);
    if (rc == 0) {
      uv_buf_t b = uv_buf_init(in->buf + in->end, (unsigned)(in->cap - in->end - 1));
      in->fs.data = in;
      rc = uv_fs_read(in->loop, &in->fs, 0, &b, 1, -1, on_fs_read);
      if (rc == 0) in->fs_busy = 1;
    }
    if (rc != 0) { /* could not even start: end of input with that error */
      in->eof = 1;
      in->end_err = rc;
      deliver(in);
    }
    return;
  }
  if (want && !in->reading) {
    int rc = uv_read_start(&in->h.stream, on_alloc, on_read);
    if (rc == 0) {
      in->reading = 1;
    } else {
      in->eof = 1;
      in->end_err = rc;
      deliver(in);
    }
  } else if (!want && in->reading) {
    uv_read_stop(&in->h.stream);
    in->reading = 0;
  }
}

/* ---- handing out lines -------------------------------------------------- */

/* Hand out every complete line (unless paused or closed), then the last
 * unterminated one and the end once input has ended, then read on. */
static void deliver(line_input *in) {
  in->busy++;
  while (!in->paused && !in->closing) {
    char *p = in->buf + in->start;
    size_t n = in->end - in->start;
    char *nl = n ? memchr(p, '\n', n) : NULL;
    if (!nl) break;
    size_t len = (size_t)(nl - p);
    in->start += len + 1;
    if (in->dropping) {
      in->dropping = 0;
      in->on_line(in->user, NULL, in->dropped + len);
    } else if (len > in->max_line) {
      in->on_line(in->user, NULL, len);
    } else {
      p[len] = '\0'; /* was the '\n' */
      in->on_line(in->user, p, len);
    }
  }
  if (!in->paused && !in->closing) {
    size_t n = in->end - in->start;
    if (n > in->max_line || (in->dropping && n)) { /* bounded memory: discard it */
      in->dropping = 1;
      in->dropped += n;
      in->start = in->end = 0;
    }
    if (in->eof && !in->ended) {
      n = in->end - in->start;
      if (in->dropping) {
        in->dropping = 0;
        in->on_line(in->user, NULL, in->dropped);
      } else if (n) {
        char *p = in->buf + in->start;
        in->start = in->end;
        p[n] = '\0'; /* the spare byte after the data */
        in->on_line(in->user, p, n);
      }
      if (!in->paused && !in->closing && !in->ended) {
        in->ended = 1;
        in->on_end(in->user, in->end_err);
      }
    }
  }
  if (in->start == in->end) in->start = in->end = 0;
  in->busy--;
  if (maybe_free(in)) return;
  if (!in->busy) maybe_read(in);
}

/* ---- the interface ------------------------------------------------------ */

int line_input_start(line_input **out, uv_loop_t *loop, size_t max_line, line_input_fn on_line,
                     line_input_end_fn on_end, void *user) {
  line_input *in = calloc(1, sizeof *in);
  if (!in) return UV_ENOMEM;
  in->loop = loop;
  in->max_line = max_line;
  in->on_line = on_line;
  in->on_end = on_end;
  in->user = user;
  in->kind = KIND_FILE;
  uv_handle_type t = uv_guess_handle(0);
  if (t == UV_TTY && uv_tty_init(loop, &in->h.tty, 0, 1) == 0) {
    in->kind = KIND_TTY;
    in->handle_open = 1;
    in->h.handle.data = in;
  } else if (t == UV_NAMED_PIPE || t == UV_TCP) {
    if (uv_pipe_init(loop, &in->h.pipe, 0) == 0) {
      in->handle_open = 1;
      in->h.handle.data = in;
      if (uv_pipe_open(&in->h.pipe, 0) == 0)
        in->kind = KIND_PIPE;
      else /* not pollable after all: read it as a file */
        uv_close(&in->h.handle, on_handle_closed);
    }
  }
  /* anything else (regular file, device, closed fd 0) is read with uv_fs_read:
   * a closed fd ends input with its error (EBADF) */
  *out = in;
  maybe_read(in);
  return 0;
}

void line_input_pause(line_input *in) {
  if (!in || in->closing) return;
  in->paused = 1;
  if (!in->busy) maybe_read(in);
}

void line_input_resume(line_input *in) {
  if (!in || in->closing || !in->paused) return;
  in->paused = 0;
  if (!in->busy) deliver(in); /* inside deliver() its loop simply goes on */
}

int line_input_paused(const line_input *in) { return in && in->paused; }

void line_input_close(line_input *in) {
  if (!in || in->closing) return;
  in->closing = 1;
  if (in->reading) {
    uv_read_stop(&in->h.stream);
    in->reading = 0;
  }
  if (in->kind != KIND_FILE && in->handle_open && !uv_is_closing(&in->h.handle))
    uv_close(&in->h.handle, on_handle_closed);
  maybe_free(in);
}
