/* test.h - a minimal test harness in the libuv style.
 *
 * TEST(name) { ... } registers a test. The runner executes one named test
 * per process (CTest registers every TEST found in tests/unit/test_*.c as
 * its own test), or all of them in-process when given no name.
 * CHECK* macros abort the test with the file, line and values on failure.
 */
#ifndef WSC_TEST_H
#define WSC_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void (*wsc_test_fn)(void);
void wsc_test_register(const char *name, wsc_test_fn fn);
void wsc_test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 3, 4)));
/* Print a byte range as hex to stderr (for failure messages). */
void wsc_test_hexdump(const char *label, const void *p, size_t n);

#define TEST(name)                                                           \
  static void test_##name(void);                                             \
  __attribute__((constructor)) static void test_register_##name(void) {     \
    wsc_test_register(#name, test_##name);                                   \
  }                                                                          \
  static void test_##name(void)

#define CHECK(cond)                                                          \
  do {                                                                       \
    if (!(cond)) wsc_test_fail(__FILE__, __LINE__, "CHECK(%s)", #cond);      \
  } while (0)

#define CHECK_INT(a, op, b)                                                  \
  do {                                                                       \
    long long check_a_ = (long long)(a), check_b_ = (long long)(b);          \
    if (!(check_a_ op check_b_))                                             \
      wsc_test_fail(__FILE__, __LINE__, "%s %s %s: %lld vs %lld", #a, #op, #b, \
                    check_a_, check_b_);                                     \
  } while (0)
#define CHECK_EQ(a, b) CHECK_INT(a, ==, b)

#define CHECK_STR(a, b)                                                      \
  do {                                                                       \
    const char *check_a_ = (a), *check_b_ = (b);                             \
    if (!check_a_ || !check_b_ || strcmp(check_a_, check_b_) != 0)           \
      wsc_test_fail(__FILE__, __LINE__, "%s == %s: \"%s\" vs \"%s\"", #a, #b, \
                    check_a_ ? check_a_ : "(null)", check_b_ ? check_b_ : "(null)"); \
  } while (0)

#define CHECK_MEM(a, b, n)                                                   \
  do {                                                                       \
    const void *check_a_ = (a), *check_b_ = (b);                             \
    size_t check_n_ = (n);                                                   \
    if (memcmp(check_a_, check_b_, check_n_) != 0) {                         \
      wsc_test_hexdump(#a, check_a_, check_n_);                              \
      wsc_test_hexdump(#b, check_b_, check_n_);                              \
      wsc_test_fail(__FILE__, __LINE__, "memory differs: %s vs %s", #a, #b); \
    }                                                                        \
  } while (0)

#endif
