/* tls.h - TLS for the runtime through OpenSSL memory BIOs (internal).
 *
 * OpenSSL never touches the socket: ciphertext read from TCP is fed in with
 * wsc__tls_feed, plaintext comes out through a callback, and whatever OpenSSL
 * wants to send (handshake records, encrypted application data) is handed to
 * a write callback that queues it on the TCP transport.
 */
#ifndef WSC_NET_TLS_H
#define WSC_NET_TLS_H

#include <openssl/ssl.h>
#include <stddef.h>
#include <stdint.h>

typedef struct wsc__tls_config {
  const char *ca_file;   /* PEM bundle to trust instead of the system store */
  const char *cert_file; /* client certificate (PEM), with key_file */
  const char *key_file;
  int insecure;          /* skip certificate and host-name checks (tests only) */
} wsc__tls_config;

typedef struct wsc__tls {
  SSL *ssl;
  BIO *rbio, *wbio; /* network side: rbio gets ciphertext, wbio holds output */
  int handshake_done;
  int failed; /* a fatal TLS error: no close_notify after it */
  /* queue ciphertext for the network; payload = plaintext bytes it carries */
  int (*write)(void *user, const uint8_t *data, size_t len, uint64_t payload);
  void *user;
  char error[128];
} wsc__tls;

/* A client context for cfg (NULL = system trust store, verification on).
 * NULL on failure with the reason in err. Free with SSL_CTX_free. */
SSL_CTX *wsc__tls_client_ctx(const wsc__tls_config *cfg, char *err, size_t errlen);

/* Start a client session: SNI and host-name (or IP) verification for host,
 * ALPN http/1.1, and the first handshake flight handed to write.
 * 0, or WSC_ETLS / WSC_ENOMEM with t->error set. */
int wsc__tls_client_start(wsc__tls *t, SSL_CTX *ctx, const char *host, int host_is_ip,
                          int (*write)(void *, const uint8_t *, size_t, uint64_t), void *user);

/* A server context: certificate chain and key (PEM; key_file NULL = in
 * cert_file), client certificates required and verified against
 * client_ca_file when it is not NULL, ALPN http/1.1. NULL on failure with the
 * reason in err. */
SSL_CTX *wsc__tls_server_ctx(const char *cert_file, const char *key_file,
                             const char *client_ca_file, char *err, size_t errlen);

/* Start a server session: the handshake proceeds as the client's records are
 * fed in. 0, or WSC_ENOMEM with t->error set. */
int wsc__tls_server_start(wsc__tls *t, SSL_CTX *ctx,
                          int (*write)(void *, const uint8_t *, size_t, uint64_t), void *user);

/* Feed ciphertext. Decrypted bytes go to on_plain (which returns non-zero to
 * stop). Returns 0, 1 when the handshake has just completed (call again with
 * nothing to get any plaintext that came with it), or WSC_ETLS with t->error
 * set. */
int wsc__tls_feed(wsc__tls *t, const uint8_t *data, size_t len,
                  int (*on_plain)(void *user, uint8_t *data, size_t len), void *user,
                  uint8_t *scratch, size_t scratch_len);

/* Encrypt and queue plaintext. 0, WSC_ETLS or the write callback's error. */
int wsc__tls_write(wsc__tls *t, const uint8_t *data, size_t len, uint64_t payload);

/* Queue a close_notify alert (the end of our side of the TLS session); does
 * nothing before the handshake completed or after a fatal TLS error. */
void wsc__tls_shutdown(wsc__tls *t);

void wsc__tls_free(wsc__tls *t);

#endif
