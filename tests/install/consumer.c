/* consumer.c - uses the installed public header and library. */
#include <stdio.h>
#include <string.h>
#include <wsc.h>

int main(void) {
  if (strcmp(wsc_version(), WSC_VERSION_STRING) != 0) return 1;
  if (strcmp(wsc_err_name(WSC_ESYNTAX), "ESYNTAX") != 0) return 1;
  printf("wsc %s: %s\n", wsc_version(), wsc_strerror(WSC_EINVALIDSTATE));
  return 0;
}
