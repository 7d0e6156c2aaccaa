/* close.c - Close frame payload encoding, decoding and code validation. */
#include "proto/close.h"

#include <string.h>

#include "proto/utf8.h"
#include "wsc.h"

int wsc__close_code_valid(unsigned code) {
  if (code >= 1000 && code <= 1003) return 1;
  if (code >= 1007 && code <= 1014) return 1;
  return code >= 3000 && code <= 4999;
}

int wsc__close_parse(const uint8_t *p, size_t n, int *code, const uint8_t **reason,
                     size_t *reason_len, const char **why) {
  *reason = NULL;
  *reason_len = 0;
  if (n == 0) {
    *code = WSC_CLOSE_NO_STATUS;
    return 0;
  }
  if (n == 1) {
    *why = "close frame with a 1-byte payload";
    return WSC_EPROTO;
  }
  unsigned c = (unsigned)p[0] << 8 | p[1];
  if (!wsc__close_code_valid(c)) {
    *why = "invalid close code";
    return WSC_EPROTO;
  }
  if (wsc__utf8_valid(p + 2, n - 2) != 0) {
    *why = "close reason is not valid UTF-8";
    return WSC_EBADDATA;
  }
  *code = (int)c;
  *reason = p + 2;
  *reason_len = n - 2;
  return 0;
}

int wsc__close_build(uint8_t out[2 + WSC__CLOSE_REASON_MAX], int code, const void *reason,
                     size_t reason_len) {
  if (code == 0) return reason_len ? WSC_EINVAL : 0;
  if (code < 0 || !wsc__close_code_valid((unsigned)code) || reason_len > WSC__CLOSE_REASON_MAX)
    return WSC_EINVAL;
  if (reason_len && wsc__utf8_valid(reason, reason_len) != 0) return WSC_ESYNTAX;
  out[0] = (uint8_t)(code >> 8);
  out[1] = (uint8_t)code;
  if (reason_len) memcpy(out + 2, reason, reason_len);
  return (int)(2 + reason_len);
}
