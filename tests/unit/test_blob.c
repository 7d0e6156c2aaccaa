/* test_blob.c - the wsc_blob object (src/api/blob.c) without a network:
 * borrowed blobs and their promotion, reference counting, reads at the
 * edges, and the file writer's failures and their close codes. The socket
 * paths are in tests/interop/test_blob.c. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "api/blob.h"
#include "test.h"

TEST(blob_borrowed_is_promoted_by_copy) {
  uint8_t bytes[5] = {1, 2, 3, 4, 5};
  wsc_blob ev;
  wsc__blob_borrow(&ev, bytes, sizeof bytes, NULL);
  CHECK_EQ(wsc_blob_size(&ev), 5);
  CHECK_EQ(wsc_blob_fd(&ev), -1);
  CHECK(wsc_blob_data(&ev) == bytes);
  wsc_blob *a = wsc_blob_ref(&ev);
  CHECK(a != NULL && a != &ev);
  CHECK(wsc_blob_data(a) != bytes); /* a copy: the read buffer is reused */
  wsc_blob *b = wsc_blob_ref(&ev);  /* the same heap blob again */
  CHECK(b == a);
  wsc_blob_unref(b);
  wsc__blob_borrow_end(&ev); /* the event's own reference */
  bytes[0] = 9;
  uint8_t out[8];
  CHECK_EQ(wsc_blob_read(a, 0, out, sizeof out), 5);
  CHECK_MEM(out, "\x01\x02\x03\x04\x05", 5);
  wsc_blob_unref(a); /* the last: freed (ASan checks) */
}

TEST(blob_borrowed_takes_over_the_assembly_buffer) {
  wsc__buf msg = {0};
  CHECK_EQ(wsc__buf_append(&msg, "assembled", 9), 0);
  uint8_t *p = msg.data;
  wsc_blob ev;
  wsc__blob_borrow(&ev, msg.data, msg.len, &msg);
  wsc_blob *a = wsc_blob_ref(&ev);
  CHECK(a != NULL);
  CHECK(wsc_blob_data(a) == p); /* no copy */
  CHECK(msg.data == NULL && msg.len == 0 && msg.cap == 0);
  wsc__blob_borrow_end(&ev);
  CHECK_MEM(wsc_blob_data(a), "assembled", 9);
  wsc_blob_unref(a);
  wsc__buf_free(&msg);
}

TEST(blob_unreferenced_borrow_costs_nothing) {
  wsc_blob ev;
  wsc__blob_borrow(&ev, NULL, 0, NULL);
  CHECK(wsc_blob_data(&ev) != NULL); /* never NULL, even empty */
  CHECK_EQ(wsc_blob_size(&ev), 0);
  uint8_t out[1];
  CHECK_EQ(wsc_blob_read(&ev, 0, out, 1), 0);
  wsc_blob_unref(&ev); /* ignored: not a reference */
  wsc__blob_borrow_end(&ev);
  CHECK(wsc_blob_ref(NULL) == NULL);
  wsc_blob_unref(NULL);
}

static wsc_blob *file_blob(const char *text, char *err, size_t errlen) {
  wsc__blob_file f = {0};
  wsc__buf pending = {0};
  CHECK_EQ(wsc__buf_append(&pending, text, 3), 0);
  wsc_blob *b = NULL;
  CHECK_EQ(wsc__blob_file_add(&f, NULL, &pending, text + 3, 2, 0, &b, err, errlen), 0);
  CHECK(b == NULL);
  CHECK(pending.data == NULL); /* flushed to the file and freed */
  CHECK_EQ(wsc__blob_file_add(&f, NULL, &pending, text + 5, strlen(text) - 5, 1, &b, err,
                              errlen),
           0);
  CHECK(b != NULL);
  CHECK_EQ(f.open, 0);
  return b;
}

TEST(blob_file_writer_makes_a_mapped_unlinked_file) {
  char err[160];
  wsc_blob *b = file_blob("hello, file", err, sizeof err);
  CHECK_EQ(wsc_blob_size(b), 11);
  int fd = wsc_blob_fd(b);
  CHECK_INT(fd, >=, 0);
  CHECK_MEM(wsc_blob_data(b), "hello, file", 11);
  char out[16];
  CHECK_EQ(wsc_blob_read(b, 7, out, sizeof out), 4);
  CHECK_MEM(out, "file", 4);
  CHECK_EQ(wsc_blob_read(b, 11, out, 1), 0);
  CHECK_EQ(wsc_blob_read(b, 1, NULL, 1), WSC_EINVAL);
  wsc_blob *r = wsc_blob_ref(b);
  CHECK(r == b);
  wsc_blob_unref(r);
  CHECK(fcntl(fd, F_GETFD) != -1); /* one reference left */
  wsc_blob_unref(b);
  CHECK(fcntl(fd, F_GETFD) == -1 && errno == EBADF);
}

/* A full disk (/dev/full answers every write with ENOSPC): the error, its
 * message, 1009 for the peer, and the file discarded. */
TEST(blob_file_writer_disk_full_is_1009) {
  wsc__blob_file f = {0};
  f.fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
  CHECK_INT(f.fd, >=, 0);
  f.open = 1;
  wsc__buf pending = {0};
  wsc_blob *b = (wsc_blob *)1;
  char err[160];
  int fd = f.fd;
  int rc = wsc__blob_file_add(&f, NULL, &pending, "data", 4, 0, &b, err, sizeof err);
  CHECK_EQ(rc, -ENOSPC);
  CHECK(b == NULL);
  CHECK(strstr(err, "cannot write the message file") != NULL);
  CHECK_EQ(f.open, 0);
  CHECK(fcntl(fd, F_GETFD) == -1 && errno == EBADF); /* discarded */
  CHECK_EQ(wsc__blob_close_code(rc), WSC_CLOSE_MESSAGE_TOO_BIG);
  CHECK_EQ(wsc__blob_close_code(-EDQUOT), WSC_CLOSE_MESSAGE_TOO_BIG);
  CHECK_EQ(wsc__blob_close_code(-ENOENT), WSC_CLOSE_INTERNAL_ERROR);
  CHECK_EQ(wsc__blob_close_code(-EACCES), WSC_CLOSE_INTERNAL_ERROR);
  CHECK_EQ(wsc__blob_close_code(-EIO), WSC_CLOSE_INTERNAL_ERROR);
}

TEST(blob_file_writer_missing_dir) {
  wsc__blob_file f = {0};
  wsc__buf pending = {0};
  CHECK_EQ(wsc__buf_append(&pending, "abc", 3), 0);
  wsc_blob *b = NULL;
  char err[160];
  int rc = wsc__blob_file_add(&f, "/nonexistent-wsc-blob", &pending, "d", 1, 1, &b, err,
                              sizeof err);
  CHECK_EQ(rc, -ENOENT);
  CHECK(b == NULL);
  CHECK_EQ(f.open, 0);
  CHECK(strstr(err, "/nonexistent-wsc-blob") != NULL);
  wsc__buf_free(&pending); /* still the caller's on this failure */
}
