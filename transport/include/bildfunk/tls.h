/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Sans-I/O TLS 1.3 endpoint (issue #6): one OpenSSL SSL object between two
 * memory BIOs. The caller feeds the bytes it read from the TCP socket in and
 * takes the bytes to write out; nothing in here touches a socket or a clock.
 * Both roles, TLS 1.3 only, no session tickets or resumption, and a
 * certificate on BOTH sides (the server requests the client's).
 *
 * Certificate checking is ours, not the PKI's: any certificate is accepted
 * during the handshake and the caller compares the peer's SHA-256
 * fingerprint (bf_tls_peer_fp) with its pin store afterwards (see
 * bildfunk/identity.h and docs/security.md). The handshake itself still
 * proves that the peer holds the private key of the certificate it shows.
 *
 * Not here: pin policy, pairing, the control messages (ctl_session.h).
 * Costs: allocates in OpenSSL at creation and during the handshake; app
 * data is copied once into each BIO. Not a per-packet path.
 * Needs OpenSSL 3 (libssl); left out of builds without BF_SEAL.
 */
#ifndef BILDFUNK_TLS_H
#define BILDFUNK_TLS_H

#include <bildfunk/common.h>
#include <bildfunk/identity.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bf_tls bf_tls;

typedef enum bf_tls_role {
  BF_TLS_CLIENT = 0, /* the bildfunk client: connects */
  BF_TLS_SERVER = 1, /* the sender: accepts */
} bf_tls_role;

/* Creates an endpoint presenting |id|'s certificate (borrowed: |id| must
 * outlive the endpoint). A client has its ClientHello ready in the output
 * at once. Returns 0, -EINVAL, -ENOMEM or -EIO. */
int bf_tls_new(bf_tls_role role, const bf_identity *id, bf_tls **out);

/* Frees |*t| and sets it to NULL; NULL is fine. */
void bf_tls_del(bf_tls **t);

/* Hands |len| bytes received from the peer to the endpoint (copied) and
 * advances the handshake. Returns 0 or a negative error (see bf_tls_why);
 * errors are sticky. */
int bf_tls_feed(bf_tls *t, const uint8_t *data, size_t len);

/* Bytes waiting to be sent to the peer. */
size_t bf_tls_pending_out(const bf_tls *t);

/* Moves up to |cap| of the waiting bytes into |out|; returns the count. */
size_t bf_tls_take_out(bf_tls *t, uint8_t *out, size_t cap);

/* 1 once the handshake has completed (on this side), else 0. */
int bf_tls_established(const bf_tls *t);

/* The peer certificate's SHA-256 fingerprint into |fp|. Returns 0, or
 * -EAGAIN before the handshake completed. */
int bf_tls_peer_fp(const bf_tls *t, uint8_t fp[BF_FP_BYTES]);

/* Encrypts |len| application bytes into the output. Returns 0, -EAGAIN
 * before the handshake completed, -EPIPE after a shutdown, or -EIO. */
int bf_tls_write(bf_tls *t, const uint8_t *data, size_t len);

/* Decrypted application bytes, up to |cap|. Returns the count (> 0),
 * -EAGAIN when none are available, -EPIPE when the peer closed the TLS
 * session cleanly (close_notify), -EPROTO on a TLS error. */
int bf_tls_read(bf_tls *t, uint8_t *out, size_t cap);

/* Queues a close_notify; later writes fail with -EPIPE. */
void bf_tls_shutdown(bf_tls *t);

/* RFC 8446 §7.5 exporter: |len| bytes for |label| with no context (the
 * same on both ends of one session, different for every session). Returns
 * 0, -EAGAIN before the handshake completed, -EINVAL or -EIO. */
int bf_tls_export(const bf_tls *t, const char *label, uint8_t *out, size_t len);

/* Static-or-owned text for the last error ("" when none), e.g. the
 * OpenSSL reason ("tlsv13 alert certificate required"). Valid until the
 * next call on |t|. */
const char *bf_tls_why(const bf_tls *t);

#ifdef __cplusplus
}
#endif

#endif /* BILDFUNK_TLS_H */
