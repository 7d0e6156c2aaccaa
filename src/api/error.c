/* error.c - error codes and their messages (the table lives in wsc.h). */
#include <string.h>
#include <uv.h>

#include "wsc.h"

const char *wsc_version(void) { return WSC_VERSION_STRING; }

const char *wsc_strerror(int err) {
  switch (err) {
#define WSC_XX_MSG(name, value, msg) \
  case value:                        \
    return msg;
    WSC_ERRNO_MAP(WSC_XX_MSG)
#undef WSC_XX_MSG
  default:
    break;
  }
  return uv_strerror(err); /* negated errno and libuv's own codes */
}

const char *wsc_err_name(int err) {
  switch (err) {
#define WSC_XX_NAME(name, value, msg) \
  case value:                         \
    return #name;
    WSC_ERRNO_MAP(WSC_XX_NAME)
#undef WSC_XX_NAME
  default:
    break;
  }
  /* uv_err_name() allocates for codes it does not know: only ask it about
   * codes uv_strerror() recognises */
  if (err < 0 && strncmp(uv_strerror(err), "Unknown", 7) != 0) return uv_err_name(err);
  return "UNKNOWN";
}

int wsc_close_code_for(int err) {
  switch (err) {
  case WSC_EPROTO: return WSC_CLOSE_PROTOCOL_ERROR;
  case WSC_EBADDATA: return WSC_CLOSE_INVALID_PAYLOAD;
  case WSC_ETOOBIG: return WSC_CLOSE_MESSAGE_TOO_BIG;
  case WSC_EPOLICY: return WSC_CLOSE_POLICY_VIOLATION;
  case WSC_EEXTENSION: return WSC_CLOSE_MANDATORY_EXTENSION;
  case WSC_EINTERNAL:
  case WSC_ENOMEM: return WSC_CLOSE_INTERNAL_ERROR;
  default: return WSC_CLOSE_ABNORMAL;
  }
}
