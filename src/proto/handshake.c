/* handshake.c - pieces of the opening handshake shared by both roles. */
#include "proto/handshake.h"

#include <openssl/evp.h>
#include <string.h>

#include "wsc.h"

const char *const wsc__hs_reserved[WSC__HS_NRESERVED] = {
    "Host",
    "Upgrade",
    "Connection",
    "Sec-WebSocket-Key",
    "Sec-WebSocket-Version",
    "Sec-WebSocket-Accept",
    "Sec-WebSocket-Protocol",
    "Sec-WebSocket-Extensions",
    "Content-Length",    /* a body would be taken for WebSocket frames */
    "Transfer-Encoding",
};

int wsc__hs_accept_key(const char *key, size_t key_len, char out[WSC__HS_ACCEPT_LEN + 1]) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;
  int ok = 0;
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  if (ctx && EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) == 1 &&
      EVP_DigestUpdate(ctx, key, key_len) == 1 &&
      EVP_DigestUpdate(ctx, WSC__HS_GUID, sizeof WSC__HS_GUID - 1) == 1 &&
      EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen == 20)
    ok = 1;
  EVP_MD_CTX_free(ctx);
  if (!ok) return WSC_EINTERNAL;
  /* EVP_EncodeBlock pads with '=' and NUL-terminates: 20 bytes -> 28 chars. */
  if (EVP_EncodeBlock((unsigned char *)out, md, 20) != WSC__HS_ACCEPT_LEN) return WSC_EINTERNAL;
  return 0;
}

static int is_b64(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

int wsc__hs_key_valid(const char *key, size_t len) {
  /* 16 bytes = 5 groups of 3 bytes + 1 byte: 21 full characters, one
   * character carrying the last 2 bits (its low 4 bits must be zero, i.e.
   * one of A Q g w, for the encoding to be canonical), then "==". */
  if (len != WSC__HS_KEY_LEN || key[22] != '=' || key[23] != '=') return 0;
  for (size_t i = 0; i < 22; i++)
    if (!is_b64((unsigned char)key[i])) return 0;
  return strchr("AQgw", key[21]) != NULL;
}

int wsc__hs_split_header(const char *line, const char *const *reserved, size_t nreserved,
                         wsc__http_str *name, wsc__http_str *value) {
  if (!line) return WSC_EINVAL;
  const char *colon = strchr(line, ':');
  if (!colon || !wsc__http_is_token(line, (size_t)(colon - line))) return WSC_EINVAL;
  const char *v = colon + 1, *e = v + strlen(v);
  if (!wsc__http_is_field_value(v, (size_t)(e - v))) return WSC_EINVAL;
  while (v < e && (*v == ' ' || *v == '\t')) v++;
  while (e > v && (e[-1] == ' ' || e[-1] == '\t')) e--;
  for (size_t i = 0; i < nreserved; i++)
    if (wsc__http_eq_nocase(line, (size_t)(colon - line), reserved[i])) return WSC_EINVAL;
  name->ptr = line;
  name->len = (size_t)(colon - line);
  value->ptr = v;
  value->len = (size_t)(e - v);
  return 0;
}
