/* tls.c - OpenSSL 3 over memory BIOs: client and server sessions. */
#include "net/tls.h"

#include <limits.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

#include "wsc.h"

static void openssl_reason(char *out, size_t n, const char *what) {
  unsigned long e = ERR_peek_last_error();
  char buf[120] = "";
  if (e) ERR_error_string_n(e, buf, sizeof buf);
  snprintf(out, n, "%s%s%s", what, e ? ": " : "", buf);
  ERR_clear_error();
}

SSL_CTX *wsc__tls_client_ctx(const wsc__tls_config *cfg, char *err, size_t errlen) {
  SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
  if (!ctx) {
    openssl_reason(err, errlen, "cannot create a TLS context");
    return NULL;
  }
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  int insecure = cfg && cfg->insecure;
  SSL_CTX_set_verify(ctx, insecure ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, NULL);
  int ok = cfg && cfg->ca_file ? SSL_CTX_load_verify_locations(ctx, cfg->ca_file, NULL)
                               : SSL_CTX_set_default_verify_paths(ctx);
  if (!ok) {
    openssl_reason(err, errlen, "cannot load the trusted certificates");
    SSL_CTX_free(ctx);
    return NULL;
  }
  if (cfg && cfg->cert_file) {
    if (SSL_CTX_use_certificate_chain_file(ctx, cfg->cert_file) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, cfg->key_file ? cfg->key_file : cfg->cert_file,
                                    SSL_FILETYPE_PEM) != 1) {
      openssl_reason(err, errlen, "cannot load the client certificate");
      SSL_CTX_free(ctx);
      return NULL;
    }
  }
  return ctx;
}

/* Hand everything OpenSSL wrote to the network; payload is charged to it. */
static int flush(wsc__tls *t, uint64_t payload) {
  char *p;
  long n = BIO_get_mem_data(t->wbio, &p);
  if (n <= 0) return 0;
  int rc = t->write(t->user, (const uint8_t *)p, (size_t)n, payload);
  (void)BIO_reset(t->wbio);
  return rc;
}

static int fail(wsc__tls *t, int r, const char *what) {
  t->failed = 1;
  long v = SSL_get_verify_result(t->ssl);
  if (v != X509_V_OK) {
    snprintf(t->error, sizeof t->error, "certificate verification failed: %s",
             X509_verify_cert_error_string(v));
    ERR_clear_error();
  } else {
    char why[100];
    snprintf(why, sizeof why, "%s (SSL error %d)", what, SSL_get_error(t->ssl, r));
    openssl_reason(t->error, sizeof t->error, why);
  }
  return WSC_ETLS;
}

static int handshake(wsc__tls *t) {
  int r = SSL_do_handshake(t->ssl);
  int rc = flush(t, 0);
  if (rc) return rc;
  if (r == 1) {
    t->handshake_done = 1;
    return 1;
  }
  int e = SSL_get_error(t->ssl, r);
  if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return 0;
  return fail(t, r, "TLS handshake failed");
}

/* ALPN on the server: http/1.1 if the client offers it; no ALPN otherwise. */
static int select_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned inlen, void *arg) {
  (void)ssl;
  (void)arg;
  unsigned char *sel = NULL;
  if (SSL_select_next_proto(&sel, outlen, (const unsigned char *)"\x08http/1.1", 9, in, inlen) !=
      OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_NOACK;
  *out = sel;
  return SSL_TLSEXT_ERR_OK;
}

SSL_CTX *wsc__tls_server_ctx(const char *cert_file, const char *key_file,
                             const char *client_ca_file, char *err, size_t errlen) {
  SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
  if (!ctx) {
    openssl_reason(err, errlen, "cannot create a TLS context");
    return NULL;
  }
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx, key_file ? key_file : cert_file, SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(ctx) != 1) {
    openssl_reason(err, errlen, "cannot load the server certificate and key");
    SSL_CTX_free(ctx);
    return NULL;
  }
  if (client_ca_file) {
    if (SSL_CTX_load_verify_locations(ctx, client_ca_file, NULL) != 1) {
      openssl_reason(err, errlen, "cannot load the client CA file");
      SSL_CTX_free(ctx);
      return NULL;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
  }
  SSL_CTX_set_alpn_select_cb(ctx, select_alpn, NULL);
  return ctx;
}

static int new_session(wsc__tls *t, SSL_CTX *ctx,
                       int (*write)(void *, const uint8_t *, size_t, uint64_t), void *user) {
  memset(t, 0, sizeof *t);
  t->write = write;
  t->user = user;
  t->ssl = SSL_new(ctx);
  t->rbio = BIO_new(BIO_s_mem());
  t->wbio = BIO_new(BIO_s_mem());
  if (!t->ssl || !t->rbio || !t->wbio) {
    BIO_free(t->rbio);
    BIO_free(t->wbio);
    t->rbio = t->wbio = NULL;
    snprintf(t->error, sizeof t->error, "out of memory");
    return WSC_ENOMEM;
  }
  SSL_set_bio(t->ssl, t->rbio, t->wbio); /* the SSL owns them now */
  return 0;
}

int wsc__tls_server_start(wsc__tls *t, SSL_CTX *ctx,
                          int (*write)(void *, const uint8_t *, size_t, uint64_t), void *user) {
  int rc = new_session(t, ctx, write, user);
  if (rc) return rc;
  SSL_set_accept_state(t->ssl);
  return 0;
}

int wsc__tls_client_start(wsc__tls *t, SSL_CTX *ctx, const char *host, int host_is_ip,
                          int (*write)(void *, const uint8_t *, size_t, uint64_t), void *user) {
  int rc = new_session(t, ctx, write, user);
  if (rc) return rc;
  SSL_set_connect_state(t->ssl);
  int ok = 1;
  if (!host_is_ip) ok = SSL_set_tlsext_host_name(t->ssl, host) == 1; /* SNI: names only */
  if (ok && SSL_get_verify_mode(t->ssl) != SSL_VERIFY_NONE)
    ok = host_is_ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl), host) == 1
                    : SSL_set1_host(t->ssl, host) == 1;
  if (ok) ok = SSL_set_alpn_protos(t->ssl, (const unsigned char *)"\x08http/1.1", 9) == 0;
  if (!ok) {
    openssl_reason(t->error, sizeof t->error, "cannot set up TLS for this host");
    return WSC_ETLS;
  }
  rc = handshake(t);
  return rc < 0 ? rc : 0;
}

int wsc__tls_feed(wsc__tls *t, const uint8_t *data, size_t len,
                  int (*on_plain)(void *user, uint8_t *data, size_t len), void *user,
                  uint8_t *scratch, size_t scratch_len) {
  while (len) { /* a memory BIO takes everything */
    int n = len > INT_MAX ? INT_MAX : (int)len;
    if (BIO_write(t->rbio, data, n) != n) return fail(t, 0, "cannot buffer TLS input");
    data += n;
    len -= (size_t)n;
  }
  if (!t->handshake_done) return handshake(t);
  for (;;) {
    int r = SSL_read(t->ssl, scratch, scratch_len > INT_MAX ? INT_MAX : (int)scratch_len);
    if (r > 0) {
      if (on_plain(user, scratch, (size_t)r)) return 0;
      continue;
    }
    int e = SSL_get_error(t->ssl, r);
    int rc = flush(t, 0); /* e.g. answers to post-handshake messages */
    if (rc) return rc;
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return 0;
    if (e == SSL_ERROR_ZERO_RETURN) return 2; /* close_notify: the peer is done */
    return fail(t, r, "TLS read failed");
  }
}

int wsc__tls_write(wsc__tls *t, const uint8_t *data, size_t len, uint64_t payload) {
  while (len) {
    int n = len > INT_MAX ? INT_MAX : (int)len;
    int r = SSL_write(t->ssl, data, n);
    if (r <= 0) return fail(t, r, "TLS write failed");
    data += r;
    len -= (size_t)r;
  }
  return flush(t, payload);
}

void wsc__tls_shutdown(wsc__tls *t) {
  /* OpenSSL: never after a fatal error (SSL_ERROR_SSL / SYSCALL) */
  if (!t->ssl || !t->handshake_done || t->failed) return;
  if (SSL_shutdown(t->ssl) < 0) ERR_clear_error();
  flush(t, 0);
}

void wsc__tls_free(wsc__tls *t) {
  SSL_free(t->ssl); /* frees the BIOs too */
  t->ssl = NULL;
  t->rbio = t->wbio = NULL;
}
