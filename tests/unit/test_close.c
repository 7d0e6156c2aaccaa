/* test_close.c - close codes and Close payloads. */
#include "proto/close.h"
#include "test.h"
#include "wsc.h"

TEST(close_code_ranges) {
  for (unsigned c = 0; c < 70000; c++) {
    int valid = (c >= 1000 && c <= 1003) || (c >= 1007 && c <= 1014) || (c >= 3000 && c <= 4999);
    if (wsc__close_code_valid(c) != valid) wsc_test_fail(__FILE__, __LINE__, "code %u", c);
  }
}

TEST(close_parse_empty_is_1005) {
  int code;
  const uint8_t *r;
  size_t rl;
  const char *why;
  CHECK_EQ(wsc__close_parse((const uint8_t *)"", 0, &code, &r, &rl, &why), 0);
  CHECK_EQ(code, 1005);
  CHECK_EQ(rl, 0);
}

TEST(close_parse_one_byte) {
  int code;
  const uint8_t *r;
  size_t rl;
  const char *why = NULL;
  CHECK_EQ(wsc__close_parse((const uint8_t *)"\x03", 1, &code, &r, &rl, &why), WSC_EPROTO);
  CHECK(why != NULL);
}

TEST(close_parse_code_and_reason) {
  int code;
  const uint8_t *r;
  size_t rl;
  const char *why;
  CHECK_EQ(wsc__close_parse((const uint8_t *)"\x03\xe8" "bye", 5, &code, &r, &rl, &why), 0);
  CHECK_EQ(code, 1000);
  CHECK_EQ(rl, 3);
  CHECK_MEM(r, "bye", 3);
  CHECK_EQ(wsc__close_parse((const uint8_t *)"\x03\xed", 2, &code, &r, &rl, &why), WSC_EPROTO);
  CHECK_EQ(wsc__close_parse((const uint8_t *)"\x13\x88", 2, &code, &r, &rl, &why), WSC_EPROTO);
  CHECK_EQ(wsc__close_parse((const uint8_t *)"\x13\x87", 2, &code, &r, &rl, &why), 0);
  CHECK_EQ(code, 4999);
}

TEST(close_parse_reason_utf8) {
  int code;
  const uint8_t *r;
  size_t rl;
  const char *why;
  CHECK_EQ(wsc__close_parse((const uint8_t *)"\x03\xe8\xce\xba", 4, &code, &r, &rl, &why), 0);
  CHECK_EQ(wsc__close_parse((const uint8_t *)"\x03\xe8\xce", 3, &code, &r, &rl, &why), WSC_EBADDATA);
  CHECK_EQ(wsc__close_parse((const uint8_t *)"\x03\xe8\xed\xa0\x80", 5, &code, &r, &rl, &why),
           WSC_EBADDATA);
}

TEST(close_build) {
  uint8_t out[125];
  char reason[124];
  memset(reason, 'x', sizeof reason);
  CHECK_EQ(wsc__close_build(out, 0, NULL, 0), 0);
  CHECK_EQ(wsc__close_build(out, 0, "x", 1), WSC_EINVAL);
  CHECK_EQ(wsc__close_build(out, 1000, "bye", 3), 5);
  CHECK_MEM(out, "\x03\xe8" "bye", 5);
  CHECK_EQ(wsc__close_build(out, 4999, reason, 123), 125);
  CHECK_EQ(wsc__close_build(out, 4999, reason, 124), WSC_EINVAL);
  CHECK_EQ(wsc__close_build(out, 1005, NULL, 0), WSC_EINVAL);
  CHECK_EQ(wsc__close_build(out, 1006, NULL, 0), WSC_EINVAL);
  CHECK_EQ(wsc__close_build(out, 1015, NULL, 0), WSC_EINVAL);
  CHECK_EQ(wsc__close_build(out, 1000, "\xff", 1), WSC_ESYNTAX);
}
