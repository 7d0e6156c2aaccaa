/* line_input.h - standard input as lines, on the libuv loop.
 *
 * Used by the interactive subcommands (connect, chat-client). Works whatever
 * fd 0 is: a terminal (uv_tty_t), a pipe or socket (uv_pipe_t), or a regular
 * file or character device such as /dev/null (read with uv_fs_read, because
 * libuv cannot poll those), or closed (EOF at once).
 *
 * Each line is handed over without its '\n'. A last line without a final
 * newline is handed over at end of input. Lines longer than max_line are
 * dropped (the callback is told with line == NULL), so memory stays bounded
 * by max_line plus one read. The reader can be paused (flow control: stop
 * reading while the socket's bufferedAmount is high) and resumed. */
#ifndef WSC_CLI_LINE_INPUT_H
#define WSC_CLI_LINE_INPUT_H

#include <stddef.h>

#include <uv.h>

typedef struct line_input line_input;

/* A line (without '\n', NUL-terminated at line[len]; writable and valid
 * during the call only; it may contain NUL bytes of its own), or
 * line == NULL and len = how many bytes a dropped too-long line had so far.
 * The callback may pause, resume or close the reader. */
typedef void (*line_input_fn)(void *user, char *line, size_t len);
/* End of input: err is 0 at EOF, else a libuv error (reading failed). Called
 * once, after the last line. The callback may close the reader. */
typedef void (*line_input_end_fn)(void *user, int err);

/* Start reading fd 0 on loop. 0 or a libuv error / UV_ENOMEM. */
int line_input_start(line_input **out, uv_loop_t *loop, size_t max_line, line_input_fn on_line,
                     line_input_end_fn on_end, void *user);
/* Stop handing out lines until line_input_resume (lines already read wait). */
void line_input_pause(line_input *in);
/* Hand out waiting lines and read on. */
void line_input_resume(line_input *in);
/* 1 while paused. */
int line_input_paused(const line_input *in);
/* Stop reading and free the reader (its handle closes on the loop; safe
 * inside its callbacks). NULL is ignored. */
void line_input_close(line_input *in);

#endif
