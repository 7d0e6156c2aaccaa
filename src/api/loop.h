/* loop.h - the wsc_loop behind the public handle (internal). */
#ifndef WSC_API_LOOP_H
#define WSC_API_LOOP_H

#include <uv.h>

#define WSC__READ_BUFFER (64 * 1024)

struct wsc_loop {
  uv_loop_t *uv;
  int owned;         /* uv was created by wsc_loop_new */
  size_t nsockets;   /* sockets attached and not yet freed */
  char *readbuf;     /* shared by all sockets: libuv reads into it and the
                        core consumes it before the next read */
  uint8_t *plainbuf; /* decrypted TLS input, shared the same way */
};

#endif
