/* main.c - the unit test runner: `unit_tests NAME` runs one test,
 * `unit_tests` runs all, `unit_tests --list` lists them. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

#define MAX_TESTS 2048
static struct {
  const char *name;
  wsc_test_fn fn;
} tests[MAX_TESTS];
static int ntests;
static const char *current;

void wsc_test_register(const char *name, wsc_test_fn fn) {
  for (int i = 0; i < ntests; i++)
    if (strcmp(tests[i].name, name) == 0) {
      fprintf(stderr, "duplicate test name %s\n", name);
      abort();
    }
  if (ntests == MAX_TESTS) abort();
  tests[ntests].name = name;
  tests[ntests].fn = fn;
  ntests++;
}

void wsc_test_fail(const char *file, int line, const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "FAIL %s at %s:%d: ", current ? current : "?", file, line);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  exit(1);
}

void wsc_test_hexdump(const char *label, const void *p, size_t n) {
  const unsigned char *b = p;
  fprintf(stderr, "%s (%zu bytes):", label, n);
  for (size_t i = 0; i < n && i < 256; i++) fprintf(stderr, "%s%02x", i % 32 ? " " : "\n  ", b[i]);
  fprintf(stderr, "%s\n", n > 256 ? " ..." : "");
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--list") == 0) {
    for (int i = 0; i < ntests; i++) puts(tests[i].name);
    return 0;
  }
  int ran = 0;
  for (int i = 0; i < ntests; i++) {
    if (argc > 1 && strcmp(argv[1], tests[i].name) != 0) continue;
    current = tests[i].name;
    tests[i].fn();
    ran++;
  }
  if (ran == 0) {
    fprintf(stderr, "no test named %s\n", argc > 1 ? argv[1] : "(any)");
    return 2;
  }
  if (argc == 1) printf("%d passed, 0 failed\n", ran);
  return 0;
}
