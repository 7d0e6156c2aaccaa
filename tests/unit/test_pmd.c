/* test_pmd.c - permessage-deflate negotiation (RFC 7692 section 7.1), both
 * roles: the client's offer and its check of the response, the server's
 * choice among offers and its response, every parameter and every invalid,
 * duplicate and out-of-range case. */
#include <stdio.h>

#include "proto/pmd.h"
#include "test.h"
#include "wsc.h"

/* ---- helpers -------------------------------------------------------------- */

static const char *offer_str(const wsc__pmd_offer *o) {
  static char buf[WSC__PMD_MAX_HEADER];
  int n = wsc__pmd_offer_build(o, buf, sizeof buf);
  CHECK_INT(n, >, 0);
  CHECK_EQ((size_t)n, strlen(buf));
  return buf;
}

static int client_accept(const wsc__pmd_offer *o, const char *resp, wsc__pmd_params *p,
                         const char **why) {
  *why = NULL;
  return wsc__pmd_client_accept(o, resp, strlen(resp), p, why);
}

#define CHECK_PARAMS(p, snct, cnct, smwb, cmwb)            \
  do {                                                     \
    CHECK_EQ((p).server_no_context_takeover, snct);        \
    CHECK_EQ((p).client_no_context_takeover, cnct);        \
    CHECK_EQ((p).server_max_window_bits, smwb);            \
    CHECK_EQ((p).client_max_window_bits, cmwb);            \
  } while (0)

/* Parse an upgrade request carrying the given Sec-WebSocket-Extensions
 * headers (NULL-terminated list). */
static void request(wsc__hs_server *hs, const char *const *ext) {
  char req[2048];
  int n = snprintf(req, sizeof req,
                   "GET / HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n"
                   "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                   "Sec-WebSocket-Version: 13\r\n");
  for (size_t i = 0; ext && ext[i]; i++)
    n += snprintf(req + n, sizeof req - (size_t)n, "Sec-WebSocket-Extensions: %s\r\n", ext[i]);
  n += snprintf(req + n, sizeof req - (size_t)n, "\r\n");
  CHECK_INT(n, <, (int)sizeof req);
  wsc__hs_server_init(hs, 0);
  size_t used;
  CHECK_EQ(wsc__hs_server_recv(hs, (const uint8_t *)req, (size_t)n, &used), 1);
}

/* Negotiate as a server (default settings unless s given) for one header. */
static int server_neg(const wsc__pmd_server *s, const char *ext, wsc__pmd_params *p, char *out,
                      size_t cap) {
  wsc__pmd_server def;
  wsc__pmd_server_init(&def);
  wsc__hs_server hs;
  const char *list[] = {ext, NULL};
  request(&hs, ext ? list : NULL);
  int rc = wsc__pmd_server_negotiate(s ? s : &def, &hs, p, out, cap);
  wsc__hs_server_free(&hs);
  return rc;
}

/* ---- client: the offer ----------------------------------------------------- */

TEST(pmd_offer_default_like_browsers) {
  wsc__pmd_offer o;
  wsc__pmd_offer_init(&o);
  CHECK_STR(offer_str(&o), "permessage-deflate; client_max_window_bits");
}

TEST(pmd_offer_every_parameter) {
  wsc__pmd_offer o;
  wsc__pmd_offer_init(&o);
  o.server_no_context_takeover = 1;
  o.client_no_context_takeover = 1;
  o.server_max_window_bits = 10;
  o.client_max_window_bits = 9;
  CHECK_STR(offer_str(&o), "permessage-deflate; server_no_context_takeover; "
                           "client_no_context_takeover; server_max_window_bits=10; "
                           "client_max_window_bits=9");
  o = (wsc__pmd_offer){0};
  o.client_max_window_bits = WSC__PMD_CMWB_ABSENT;
  CHECK_STR(offer_str(&o), "permessage-deflate");
  o.server_max_window_bits = 8;
  o.client_max_window_bits = 15;
  CHECK_STR(offer_str(&o), "permessage-deflate; server_max_window_bits=8; client_max_window_bits=15");
}

TEST(pmd_offer_out_of_range_or_no_room) {
  wsc__pmd_offer o;
  char buf[WSC__PMD_MAX_HEADER];
  wsc__pmd_offer_init(&o);
  o.server_max_window_bits = 7;
  CHECK_EQ(wsc__pmd_offer_build(&o, buf, sizeof buf), WSC_EINVAL);
  o.server_max_window_bits = 16;
  CHECK_EQ(wsc__pmd_offer_build(&o, buf, sizeof buf), WSC_EINVAL);
  o.server_max_window_bits = 0;
  o.client_max_window_bits = 7;
  CHECK_EQ(wsc__pmd_offer_build(&o, buf, sizeof buf), WSC_EINVAL);
  o.client_max_window_bits = 16;
  CHECK_EQ(wsc__pmd_offer_build(&o, buf, sizeof buf), WSC_EINVAL);
  o.client_max_window_bits = WSC__PMD_CMWB_ANY;
  CHECK_EQ(wsc__pmd_offer_build(&o, buf, 10), WSC_EINVAL);
  /* the longest offer fits WSC__PMD_MAX_HEADER */
  o = (wsc__pmd_offer){1, 1, 15, 15};
  CHECK_INT(wsc__pmd_offer_build(&o, buf, sizeof buf), >, 0);
}

/* ---- client: the response -------------------------------------------------- */

TEST(pmd_client_accepts_defaults) {
  wsc__pmd_offer o;
  wsc__pmd_params p;
  const char *why;
  wsc__pmd_offer_init(&o);
  CHECK_EQ(client_accept(&o, "permessage-deflate", &p, &why), 1);
  CHECK_PARAMS(p, 0, 0, 15, 15);
  /* case-insensitive name, OWS, other extensions around it are ignored */
  CHECK_EQ(client_accept(&o, "x-other, PerMessage-Deflate ;  client_max_window_bits=12 , y", &p,
                         &why), 1);
  CHECK_PARAMS(p, 0, 0, 15, 12);
  CHECK_EQ(client_accept(&o, "", &p, &why), 0);
  CHECK_EQ(client_accept(&o, "x-webkit-deflate-frame", &p, &why), 0);
}

TEST(pmd_client_accepts_each_parameter) {
  wsc__pmd_offer o;
  wsc__pmd_params p;
  const char *why;
  wsc__pmd_offer_init(&o);
  CHECK_EQ(client_accept(&o, "permessage-deflate; server_no_context_takeover", &p, &why), 1);
  CHECK_PARAMS(p, 1, 0, 15, 15);
  CHECK_EQ(client_accept(&o, "permessage-deflate; client_no_context_takeover", &p, &why), 1);
  CHECK_PARAMS(p, 0, 1, 15, 15);
  for (unsigned b = 8; b <= 15; b++) {
    char r[128];
    snprintf(r, sizeof r, "permessage-deflate; server_max_window_bits=%u", b);
    CHECK_EQ(client_accept(&o, r, &p, &why), 1); /* allowed unasked (7.1.2.1) */
    CHECK_PARAMS(p, 0, 0, b, 15);
    snprintf(r, sizeof r, "permessage-deflate; client_max_window_bits=\"%u\"", b); /* quoted */
    CHECK_EQ(client_accept(&o, r, &p, &why), 1);
    CHECK_PARAMS(p, 0, 0, 15, b);
  }
  CHECK_EQ(client_accept(&o, "permessage-deflate;server_no_context_takeover;"
                             "client_no_context_takeover;server_max_window_bits=9;"
                             "client_max_window_bits=8", &p, &why), 1);
  CHECK_PARAMS(p, 1, 1, 9, 8);
}

TEST(pmd_client_holds_server_to_its_offer) {
  wsc__pmd_offer o;
  wsc__pmd_params p;
  const char *why;
  wsc__pmd_offer_init(&o);
  o.server_no_context_takeover = 1;
  o.server_max_window_bits = 10;
  o.client_max_window_bits = 12;
  o.client_no_context_takeover = 1;
  CHECK_EQ(client_accept(&o, "permessage-deflate; server_no_context_takeover; "
                             "server_max_window_bits=10", &p, &why), 1);
  /* what we promised applies even if the response does not repeat it */
  CHECK_PARAMS(p, 1, 1, 10, 12);
  CHECK_EQ(client_accept(&o, "permessage-deflate; server_no_context_takeover; "
                             "server_max_window_bits=8; client_max_window_bits=9", &p, &why), 1);
  CHECK_PARAMS(p, 1, 1, 8, 9);
  CHECK_EQ(client_accept(&o, "permessage-deflate; server_max_window_bits=10", &p, &why),
           WSC_EEXTENSION);
  CHECK_STR(why, "server ignored server_no_context_takeover");
  CHECK_EQ(client_accept(&o, "permessage-deflate; server_no_context_takeover", &p, &why),
           WSC_EEXTENSION);
  CHECK_STR(why, "server ignored server_max_window_bits");
  CHECK_EQ(client_accept(&o, "permessage-deflate; server_no_context_takeover; "
                             "server_max_window_bits=11", &p, &why), WSC_EEXTENSION);
  CHECK_STR(why, "server_max_window_bits above the offer");
  CHECK_EQ(client_accept(&o, "permessage-deflate; server_no_context_takeover; "
                             "server_max_window_bits=10; client_max_window_bits=13", &p, &why),
           WSC_EEXTENSION);
  CHECK_STR(why, "client_max_window_bits above the offer");
}

TEST(pmd_client_rejects_invalid_responses) {
  static const struct {
    const char *resp;
    const char *why;
  } bad[] = {
      {"permessage-deflate, permessage-deflate", "permessage-deflate accepted twice"},
      {"permessage-deflate; foo", "unknown permessage-deflate parameter"},
      {"permessage-deflate; foo=1", "unknown permessage-deflate parameter"},
      {"permessage-deflate; server_no_context_takeover; server_no_context_takeover",
       "duplicate permessage-deflate parameter"},
      {"permessage-deflate; client_no_context_takeover; client_no_context_takeover",
       "duplicate permessage-deflate parameter"},
      {"permessage-deflate; server_max_window_bits=10; server_max_window_bits=10",
       "duplicate permessage-deflate parameter"},
      {"permessage-deflate; client_max_window_bits=10; client_max_window_bits=11",
       "duplicate permessage-deflate parameter"},
      {"permessage-deflate; server_no_context_takeover=1",
       "no_context_takeover parameter with a value"},
      {"permessage-deflate; client_no_context_takeover=\"\"",
       "no_context_takeover parameter with a value"},
      {"permessage-deflate; server_max_window_bits", "server_max_window_bits without a value"},
      {"permessage-deflate; client_max_window_bits", "client_max_window_bits without a value"},
      {"permessage-deflate; server_max_window_bits=7", "max_window_bits value not in 8..15"},
      {"permessage-deflate; server_max_window_bits=16", "max_window_bits value not in 8..15"},
      {"permessage-deflate; server_max_window_bits=0", "max_window_bits value not in 8..15"},
      {"permessage-deflate; server_max_window_bits=08", "max_window_bits value not in 8..15"},
      {"permessage-deflate; server_max_window_bits=+9", "max_window_bits value not in 8..15"},
      {"permessage-deflate; client_max_window_bits=\"1 0\"", "max_window_bits value not in 8..15"},
      {"permessage-deflate; client_max_window_bits=\"100000000000015\"",
       "max_window_bits value not in 8..15"},
      {"permessage-deflate; client_max_window_bits=abc", "max_window_bits value not in 8..15"},
      {"permessage-deflate; =10", "malformed Sec-WebSocket-Extensions"},
      {"permessage-deflate; server_max_window_bits=\"10", "malformed Sec-WebSocket-Extensions"},
  };
  wsc__pmd_offer o;
  wsc__pmd_params p;
  const char *why;
  wsc__pmd_offer_init(&o);
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    int rc = client_accept(&o, bad[i].resp, &p, &why);
    if (rc != WSC_EEXTENSION || !why || strcmp(why, bad[i].why) != 0)
      wsc_test_fail(__FILE__, __LINE__, "%s: rc %d why %s (want %s)", bad[i].resp, rc,
                    why ? why : "-", bad[i].why);
  }
  /* client_max_window_bits in the response needs it in the offer */
  o.client_max_window_bits = WSC__PMD_CMWB_ABSENT;
  CHECK_EQ(client_accept(&o, "permessage-deflate; client_max_window_bits=15", &p, &why),
           WSC_EEXTENSION);
  CHECK_STR(why, "client_max_window_bits was not offered");
}

/* ---- server ------------------------------------------------------------------ */

TEST(pmd_server_accepts_plain_and_browser_offers) {
  wsc__pmd_params p;
  char out[WSC__PMD_MAX_HEADER];
  CHECK_EQ(server_neg(NULL, "permessage-deflate", &p, out, sizeof out), 1);
  CHECK_STR(out, "permessage-deflate");
  CHECK_PARAMS(p, 0, 0, 15, 15);
  CHECK_EQ(server_neg(NULL, "permessage-deflate; client_max_window_bits", &p, out, sizeof out), 1);
  CHECK_STR(out, "permessage-deflate");
  CHECK_PARAMS(p, 0, 0, 15, 15);
  CHECK_EQ(server_neg(NULL, NULL, &p, out, sizeof out), 0);
  CHECK_STR(out, "");
  CHECK_EQ(server_neg(NULL, "x-webkit-deflate-frame", &p, out, sizeof out), 0);
  wsc__pmd_server s;
  wsc__pmd_server_init(&s);
  s.enabled = 0;
  CHECK_EQ(server_neg(&s, "permessage-deflate", &p, out, sizeof out), 0);
  CHECK_STR(out, "");
}

TEST(pmd_server_honours_each_parameter) {
  wsc__pmd_params p;
  char out[WSC__PMD_MAX_HEADER];
  CHECK_EQ(server_neg(NULL, "permessage-deflate; server_no_context_takeover", &p, out, sizeof out), 1);
  CHECK_STR(out, "permessage-deflate; server_no_context_takeover");
  CHECK_PARAMS(p, 1, 0, 15, 15);
  CHECK_EQ(server_neg(NULL, "permessage-deflate; client_no_context_takeover", &p, out, sizeof out), 1);
  CHECK_STR(out, "permessage-deflate; client_no_context_takeover");
  CHECK_PARAMS(p, 0, 1, 15, 15);
  for (unsigned b = 8; b <= 15; b++) {
    char off[128], want[128];
    snprintf(off, sizeof off, "permessage-deflate; server_max_window_bits=%u", b);
    snprintf(want, sizeof want, "permessage-deflate; server_max_window_bits=%u", b);
    CHECK_EQ(server_neg(NULL, off, &p, out, sizeof out), 1); /* must answer it */
    CHECK_STR(out, want);
    CHECK_PARAMS(p, 0, 0, b, 15);
    snprintf(off, sizeof off, "permessage-deflate; client_max_window_bits=%u", b);
    snprintf(want, sizeof want, "permessage-deflate; client_max_window_bits=%u", b);
    CHECK_EQ(server_neg(NULL, off, &p, out, sizeof out), 1);
    CHECK_STR(out, b < 15 ? want : "permessage-deflate");
    CHECK_PARAMS(p, 0, 0, 15, b);
  }
}

TEST(pmd_server_settings_shape_the_response) {
  wsc__pmd_server s;
  wsc__pmd_params p;
  char out[WSC__PMD_MAX_HEADER];
  wsc__pmd_server_init(&s);
  s.server_no_context_takeover = 1;
  s.client_no_context_takeover = 1;
  s.server_max_window_bits = 10;
  s.client_max_window_bits = 11;
  CHECK_EQ(server_neg(&s, "permessage-deflate; client_max_window_bits", &p, out, sizeof out), 1);
  CHECK_STR(out, "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
                 "server_max_window_bits=10; client_max_window_bits=11");
  CHECK_PARAMS(p, 1, 1, 10, 11);
  /* the smaller of the offer's and ours */
  CHECK_EQ(server_neg(&s, "permessage-deflate; server_max_window_bits=9; client_max_window_bits=12",
                      &p, out, sizeof out), 1);
  CHECK_PARAMS(p, 1, 1, 9, 11);
  CHECK_EQ(server_neg(&s, "permessage-deflate; server_max_window_bits=12; client_max_window_bits=8",
                      &p, out, sizeof out), 1);
  CHECK_PARAMS(p, 1, 1, 10, 8);
  /* we want to bound the client's window but it did not say it can: decline */
  CHECK_EQ(server_neg(&s, "permessage-deflate", &p, out, sizeof out), 0);
  CHECK_STR(out, "");
  /* out of room */
  CHECK_EQ(server_neg(&s, "permessage-deflate; client_max_window_bits", &p, out, 20), WSC_EINVAL);
}

TEST(pmd_server_declines_invalid_offers) {
  static const char *const bad[] = {
      "permessage-deflate; foo",
      "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
      "permessage-deflate; client_no_context_takeover; client_no_context_takeover",
      "permessage-deflate; client_max_window_bits; client_max_window_bits",
      "permessage-deflate; server_max_window_bits=10; server_max_window_bits=10",
      "permessage-deflate; server_max_window_bits",
      "permessage-deflate; server_max_window_bits=7",
      "permessage-deflate; server_max_window_bits=16",
      "permessage-deflate; client_max_window_bits=7",
      "permessage-deflate; client_max_window_bits=16",
      "permessage-deflate; client_max_window_bits=010",
      "permessage-deflate; server_no_context_takeover=yes",
      "permessage-deflate; client_no_context_takeover=\"\"",
  };
  wsc__pmd_params p;
  char out[WSC__PMD_MAX_HEADER];
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    if (server_neg(NULL, bad[i], &p, out, sizeof out) != 0 || out[0])
      wsc_test_fail(__FILE__, __LINE__, "accepted: %s", bad[i]);
    /* declined offers do not stop the search: a valid fallback is taken */
    char two[256];
    snprintf(two, sizeof two, "%s, permessage-deflate; client_no_context_takeover", bad[i]);
    CHECK_EQ(server_neg(NULL, two, &p, out, sizeof out), 1);
    CHECK_STR(out, "permessage-deflate; client_no_context_takeover");
  }
  const char *why = NULL;
  wsc__pmd_server s;
  wsc__pmd_server_init(&s);
  CHECK_EQ(wsc__pmd_server_consider(&s, "; server_max_window_bits=99", 27, &p, &why), 0);
  CHECK_STR(why, "max_window_bits value not in 8..15");
}

TEST(pmd_server_takes_first_acceptable_offer_across_headers) {
  wsc__pmd_server s;
  wsc__pmd_params p;
  char out[WSC__PMD_MAX_HEADER];
  wsc__pmd_server_init(&s);
  s.client_max_window_bits = 10;
  wsc__hs_server hs;
  const char *list[] = {"x-foo, permessage-deflate", /* declined: client window unbounded */
                        "permessage-deflate; server_max_window_bits=12; client_max_window_bits, "
                        "permessage-deflate",
                        NULL};
  request(&hs, list);
  CHECK_EQ(wsc__pmd_server_negotiate(&s, &hs, &p, out, sizeof out), 1);
  CHECK_STR(out, "permessage-deflate; server_max_window_bits=12; client_max_window_bits=10");
  CHECK_PARAMS(p, 0, 0, 12, 10);
  wsc__hs_server_free(&hs);
}

TEST(pmd_client_and_server_agree) {
  /* every offer the client can build, through the server, back to the client:
   * both ends hold the same parameters */
  for (unsigned mask = 0; mask < 4; mask++)
    for (unsigned sb = 0; sb <= 15; sb += (sb ? 1 : 8))
      for (unsigned cb = 0; cb <= 15; cb += (cb == 1 ? 7 : 1)) {
        wsc__pmd_offer o = {(uint8_t)(mask & 1), (uint8_t)(mask >> 1), (uint8_t)sb, (uint8_t)cb};
        char offer[WSC__PMD_MAX_HEADER], resp[WSC__PMD_MAX_HEADER];
        CHECK_INT(wsc__pmd_offer_build(&o, offer, sizeof offer), >, 0);
        wsc__pmd_params ps, pc;
        CHECK_EQ(server_neg(NULL, offer, &ps, resp, sizeof resp), 1);
        const char *why;
        if (client_accept(&o, resp, &pc, &why) != 1)
          wsc_test_fail(__FILE__, __LINE__, "offer %s response %s: %s", offer, resp, why);
        CHECK_MEM(&ps, &pc, sizeof ps);
      }
}
