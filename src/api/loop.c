/* loop.c - wsc_loop: a uv_loop_t plus what wsc keeps per loop (a read buffer
 * shared by every socket of the loop, and the count of attached sockets). */
#include "api/loop.h"

#include <stdlib.h>

#include "wsc.h"

static wsc_loop *default_loop;

static int make(uv_loop_t *uv, int owned, wsc_loop **out) {
  wsc_loop *l = calloc(1, sizeof *l);
  if (!l) return WSC_ENOMEM;
  l->uv = uv;
  l->owned = owned;
  *out = l;
  return 0;
}

wsc_loop *wsc_loop_default(void) {
  if (!default_loop && make(uv_default_loop(), 0, &default_loop) != 0) return NULL;
  return default_loop;
}

int wsc_loop_new(wsc_loop **out) {
  if (!out) return WSC_EINVAL;
  uv_loop_t *uv = malloc(sizeof *uv);
  if (!uv) return WSC_ENOMEM;
  int rc = uv_loop_init(uv);
  if (rc) {
    free(uv);
    return rc;
  }
  rc = make(uv, 1, out);
  if (rc) {
    uv_loop_close(uv);
    free(uv);
  }
  return rc;
}

int wsc_loop_wrap(void *uv_loop, wsc_loop **out) {
  if (!uv_loop || !out) return WSC_EINVAL;
  return make(uv_loop, 0, out);
}

int wsc_loop_run(wsc_loop *loop) { return uv_run(loop->uv, UV_RUN_DEFAULT); }

void *wsc_loop_uv(wsc_loop *loop) { return loop->uv; }

int wsc_loop_free(wsc_loop *loop) {
  if (!loop) return 0;
  if (loop->nsockets) return WSC_EINVALIDSTATE;
  if (loop->owned) {
    uv_run(loop->uv, UV_RUN_NOWAIT); /* let pending close callbacks run */
    uv_loop_close(loop->uv);
    free(loop->uv);
  }
  if (loop == default_loop) default_loop = NULL;
  free(loop->readbuf);
  free(loop->plainbuf);
  free(loop);
  return 0;
}
