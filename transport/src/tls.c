/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Sans-I/O TLS 1.3 endpoint over OpenSSL memory BIOs. See bildfunk/tls.h.
 *
 * Every endpoint has its own SSL_CTX (one per control connection: cheap
 * enough, and the identity stays a plain borrowed object). Verification
 * accepts any certificate; pinning is done by the caller on the
 * fingerprint once the handshake is through.
 */
#include <bildfunk/tls.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

struct bf_tls {
  SSL_CTX *ctx;
  SSL *ssl;
  BIO *rbio; /* peer -> us, owned by ssl */
  BIO *wbio; /* us -> peer, owned by ssl */
  int established;
  int err;  /* sticky */
  int shut; /* we sent close_notify */
  char why[160];
};

/* Self-signed certificates are the point: the pin decides, not a CA. */
static int accept_any(int preverify_ok, X509_STORE_CTX *x) {
  (void)preverify_ok;
  (void)x;
  return 1;
}

static int fail(bf_tls *t, int err, const char *what) {
  unsigned long e = ERR_get_error();
  if (e) {
    char buf[120];
    ERR_error_string_n(e, buf, sizeof buf);
    const char *r = ERR_reason_error_string(e);
    snprintf(t->why, sizeof t->why, "%s: %s", what, r ? r : buf);
  } else {
    snprintf(t->why, sizeof t->why, "%s", what);
  }
  ERR_clear_error();
  if (!t->err) t->err = err;
  return err;
}

static int step(bf_tls *t) {
  if (t->err) return t->err;
  if (t->established) return 0;
  ERR_clear_error();
  int r = SSL_do_handshake(t->ssl);
  if (r == 1) {
    t->established = 1;
    return 0;
  }
  int e = SSL_get_error(t->ssl, r);
  if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return 0;
  return fail(t, -EPROTO, "tls handshake");
}

int bf_tls_new(bf_tls_role role, const bf_identity *id, bf_tls **out) {
  if (!out || !id || (role != BF_TLS_CLIENT && role != BF_TLS_SERVER)) return -EINVAL;
  *out = NULL;
  bf_tls *t = calloc(1, sizeof *t);
  if (!t) return -ENOMEM;
  int rc = -EIO;
  t->ctx = SSL_CTX_new(role == BF_TLS_SERVER ? TLS_server_method() : TLS_client_method());
  if (!t->ctx) goto error;
  if (!SSL_CTX_set_min_proto_version(t->ctx, TLS1_3_VERSION) ||
      !SSL_CTX_set_max_proto_version(t->ctx, TLS1_3_VERSION))
    goto error;
  /* No tickets: every connection is a full handshake with certificates. */
  SSL_CTX_set_options(t->ctx, SSL_OP_NO_TICKET);
  if (role == BF_TLS_SERVER && !SSL_CTX_set_num_tickets(t->ctx, 0)) goto error;
  SSL_CTX_set_session_cache_mode(t->ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, accept_any);
  if (SSL_CTX_use_certificate(t->ctx, bf_identity_cert(id)) != 1 ||
      SSL_CTX_use_PrivateKey(t->ctx, bf_identity_key(id)) != 1 ||
      SSL_CTX_check_private_key(t->ctx) != 1)
    goto error;
  t->ssl = SSL_new(t->ctx);
  if (!t->ssl) goto error;
  t->rbio = BIO_new(BIO_s_mem());
  t->wbio = BIO_new(BIO_s_mem());
  if (!t->rbio || !t->wbio) {
    BIO_free(t->rbio);
    BIO_free(t->wbio);
    goto error;
  }
  /* An empty memory BIO reads as "retry", not EOF. */
  BIO_set_mem_eof_return(t->rbio, -1);
  SSL_set_bio(t->ssl, t->rbio, t->wbio);
  if (role == BF_TLS_SERVER)
    SSL_set_accept_state(t->ssl);
  else
    SSL_set_connect_state(t->ssl);
  if (role == BF_TLS_CLIENT && step(t) < 0) goto error;
  *out = t;
  return 0;
error:
  ERR_clear_error();
  bf_tls_del(&t);
  return rc;
}

void bf_tls_del(bf_tls **pt) {
  if (!pt || !*pt) return;
  bf_tls *t = *pt;
  SSL_free(t->ssl); /* frees both BIOs */
  SSL_CTX_free(t->ctx);
  free(t);
  *pt = NULL;
}

int bf_tls_feed(bf_tls *t, const uint8_t *data, size_t len) {
  if (!t || (len && !data)) return -EINVAL;
  if (t->err) return t->err;
  while (len) {
    int n = len > INT_MAX ? INT_MAX : (int)len;
    int w = BIO_write(t->rbio, data, n);
    if (w <= 0) return fail(t, -ENOMEM, "tls input buffer");
    data += w;
    len -= (size_t)w;
  }
  return step(t);
}

size_t bf_tls_pending_out(const bf_tls *t) {
  return t ? BIO_ctrl_pending(t->wbio) : 0;
}

size_t bf_tls_take_out(bf_tls *t, uint8_t *out, size_t cap) {
  if (!t || !out || !cap) return 0;
  int n = cap > INT_MAX ? INT_MAX : (int)cap;
  int r = BIO_read(t->wbio, out, n);
  return r > 0 ? (size_t)r : 0;
}

int bf_tls_established(const bf_tls *t) {
  return t && t->established && !t->err;
}

int bf_tls_peer_fp(const bf_tls *t, uint8_t fp[BF_FP_BYTES]) {
  if (!t || !fp) return -EINVAL;
  if (!t->established) return -EAGAIN;
  X509 *c = SSL_get0_peer_certificate(t->ssl);
  unsigned int n = 0;
  if (!c || X509_digest(c, EVP_sha256(), fp, &n) != 1 || n != BF_FP_BYTES) return -EIO;
  return 0;
}

int bf_tls_write(bf_tls *t, const uint8_t *data, size_t len) {
  if (!t || (len && !data)) return -EINVAL;
  if (t->err) return t->err;
  if (!t->established) return -EAGAIN;
  if (t->shut) return -EPIPE;
  if (!len) return 0;
  size_t done = 0;
  ERR_clear_error();
  if (SSL_write_ex(t->ssl, data, len, &done) != 1 || done != len) return fail(t, -EIO, "tls write");
  return 0;
}

int bf_tls_read(bf_tls *t, uint8_t *out, size_t cap) {
  if (!t || !out || !cap) return -EINVAL;
  if (t->err) return t->err;
  if (!t->established) return -EAGAIN;
  size_t got = 0;
  if (cap > INT_MAX) cap = INT_MAX;
  ERR_clear_error();
  if (SSL_read_ex(t->ssl, out, cap, &got) == 1) return (int)got;
  switch (SSL_get_error(t->ssl, 0)) {
  case SSL_ERROR_WANT_READ:
  case SSL_ERROR_WANT_WRITE:
    return -EAGAIN;
  case SSL_ERROR_ZERO_RETURN:
    return -EPIPE;
  default:
    return fail(t, -EPROTO, "tls read");
  }
}

void bf_tls_shutdown(bf_tls *t) {
  if (!t || t->shut) return;
  t->shut = 1;
  if (t->established && !t->err) {
    ERR_clear_error();
    (void)SSL_shutdown(t->ssl);
    ERR_clear_error();
  }
}

int bf_tls_export(const bf_tls *t, const char *label, uint8_t *out, size_t len) {
  if (!t || !label || !out || !len) return -EINVAL;
  if (!t->established) return -EAGAIN;
  if (SSL_export_keying_material(t->ssl, out, len, label, strlen(label), NULL, 0, 0) != 1) {
    ERR_clear_error();
    return -EIO;
  }
  return 0;
}

const char *bf_tls_why(const bf_tls *t) {
  return t ? t->why : "";
}
