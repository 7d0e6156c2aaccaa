/* deflate_opts.c - public permessage-deflate options -> pmd.h settings; see
 * deflate_opts.h and wsc_deflate_options in wsc.h for the defaults. */
#include "api/deflate_opts.h"

/* The server's window when the application leaves it at 0: 12 bits holds a
 * connection with context takeover at 77 KiB instead of 301 KiB at 15
 * (docs/protocol-notes.md, memory per connection). */
#define SERVER_DEFAULT_WINDOW 12

static int bits_ok(int b) { return b == 0 || (b >= WSC__PMD_MIN_BITS && b <= WSC__PMD_MAX_BITS); }
static int flag_ok(int f) { return f == 0 || f == 1; }

int wsc__deflate_opts_check(const wsc_deflate_options *o) {
  if (o->mode != WSC_DEFLATE_DEFAULT && o->mode != WSC_DEFLATE_ON && o->mode != WSC_DEFLATE_OFF)
    return WSC_EINVAL;
  if (!flag_ok(o->server_no_context_takeover) || !flag_ok(o->client_no_context_takeover))
    return WSC_EINVAL;
  if (!bits_ok(o->server_max_window_bits) || !bits_ok(o->client_max_window_bits))
    return WSC_EINVAL;
  if (o->level < 0 || o->level > 9) return WSC_EINVAL;
  return 0;
}

int wsc__deflate_opts_offer(const wsc_deflate_options *o, wsc__pmd_offer *out) {
  wsc__pmd_offer_init(out);
  if (o->mode == WSC_DEFLATE_OFF) return 0;
  out->server_no_context_takeover = (uint8_t)o->server_no_context_takeover;
  out->client_no_context_takeover = (uint8_t)o->client_no_context_takeover;
  out->server_max_window_bits = (uint8_t)o->server_max_window_bits; /* 0 = do not ask */
  out->client_max_window_bits =
      (uint8_t)(o->client_max_window_bits ? o->client_max_window_bits : WSC__PMD_CMWB_ANY);
  return 1;
}

void wsc__deflate_opts_server(const wsc_deflate_options *o, wsc__pmd_server *out) {
  wsc__pmd_server_init(out);
  out->enabled = o->mode == WSC_DEFLATE_ON;
  out->server_no_context_takeover = (uint8_t)o->server_no_context_takeover;
  out->client_no_context_takeover = (uint8_t)o->client_no_context_takeover;
  out->server_max_window_bits =
      (uint8_t)(o->server_max_window_bits ? o->server_max_window_bits : SERVER_DEFAULT_WINDOW);
  out->client_max_window_bits =
      (uint8_t)(o->client_max_window_bits ? o->client_max_window_bits : WSC__PMD_MAX_BITS);
}

int wsc__deflate_opts_attach(const wsc_deflate_options *o, wsc__conn *c,
                             const wsc__pmd_params *agreed) {
  size_t threshold = o->threshold ? o->threshold : WSC_DEFLATE_DEFAULT_THRESHOLD;
  int rc = wsc__conn_set_deflate(c, agreed, threshold);
  return rc ? rc : wsc__conn_set_deflate_level(c, o->level);
}
