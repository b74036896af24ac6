/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * STUN message codec (RFC 8489), with the attributes TURN (RFC 8656) and
 * TURN-TCP (RFC 6062) add: a parser that indexes a message in place and a
 * builder that writes one into caller storage. The long-term credential
 * mechanism's pieces live here too: the key (MD5 or SHA-256 of
 * "user:realm:password"), MESSAGE-INTEGRITY (HMAC-SHA1),
 * MESSAGE-INTEGRITY-SHA256 (HMAC-SHA256) and FINGERPRINT (CRC-32 XOR
 * 0x5354554e), all through OpenSSL 3 libcrypto.
 *
 * Not here: transactions, retransmission, what a TURN client does with a
 * response (turn.h), sockets, clocks. The codec neither allocates nor keeps
 * state: a parsed bf_stun_msg borrows the caller's bytes. Passwords are
 * used as the bytes the caller gives (RFC 8489 asks for the OpaqueString
 * profile of PRECIS; a caller with non-ASCII passwords prepares them).
 *
 * Costs: parsing is one pass over the attribute headers (plus a CRC-32 over
 * the message when it carries FINGERPRINT); an integrity check or an
 * integrity attribute is one HMAC over the message (a few microseconds,
 * EVP objects made per call). Both are for control messages (Allocate,
 * Refresh, ...), never per data datagram: ChannelData (turn.h) needs none.
 *
 * Needs OpenSSL (built with BF_SEAL, like seal.c).
 */
#ifndef BILDFUNK_STUN_H
#define BILDFUNK_STUN_H

#include <bildfunk/common.h>
#include <bildfunk/transport.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BF_STUN_MAGIC 0x2112A442u
#define BF_STUN_HEADER_BYTES 20u
#define BF_STUN_TXID_BYTES 12u
/* Attributes a parsed message indexes; a message with more is rejected. */
#define BF_STUN_MAX_ATTRS 32u

/* Methods (RFC 8489 §18.2, RFC 8656 §17, RFC 6062 §6.1). */
#define BF_STUN_BINDING 0x001u
#define BF_STUN_ALLOCATE 0x003u
#define BF_STUN_REFRESH 0x004u
#define BF_STUN_SEND 0x006u
#define BF_STUN_DATA 0x007u
#define BF_STUN_CREATE_PERMISSION 0x008u
#define BF_STUN_CHANNEL_BIND 0x009u
#define BF_STUN_CONNECT 0x00Au
#define BF_STUN_CONNECTION_BIND 0x00Bu
#define BF_STUN_CONNECTION_ATTEMPT 0x00Cu

typedef enum bf_stun_class {
  BF_STUN_REQUEST = 0,
  BF_STUN_INDICATION = 1,
  BF_STUN_SUCCESS = 2,
  BF_STUN_ERROR = 3,
} bf_stun_class;

/* Attribute types. 0x0000-0x7FFF are comprehension-required. */
#define BF_STUN_A_MAPPED_ADDRESS 0x0001u
#define BF_STUN_A_USERNAME 0x0006u
#define BF_STUN_A_MESSAGE_INTEGRITY 0x0008u
#define BF_STUN_A_ERROR_CODE 0x0009u
#define BF_STUN_A_UNKNOWN_ATTRIBUTES 0x000Au
#define BF_STUN_A_CHANNEL_NUMBER 0x000Cu
#define BF_STUN_A_LIFETIME 0x000Du
#define BF_STUN_A_XOR_PEER_ADDRESS 0x0012u
#define BF_STUN_A_DATA 0x0013u
#define BF_STUN_A_REALM 0x0014u
#define BF_STUN_A_NONCE 0x0015u
#define BF_STUN_A_XOR_RELAYED_ADDRESS 0x0016u
#define BF_STUN_A_REQUESTED_ADDRESS_FAMILY 0x0017u
#define BF_STUN_A_EVEN_PORT 0x0018u
#define BF_STUN_A_REQUESTED_TRANSPORT 0x0019u
#define BF_STUN_A_DONT_FRAGMENT 0x001Au
#define BF_STUN_A_MESSAGE_INTEGRITY_SHA256 0x001Cu
#define BF_STUN_A_PASSWORD_ALGORITHM 0x001Du
#define BF_STUN_A_USERHASH 0x001Eu
#define BF_STUN_A_XOR_MAPPED_ADDRESS 0x0020u
#define BF_STUN_A_RESERVATION_TOKEN 0x0022u
#define BF_STUN_A_CONNECTION_ID 0x002Au
#define BF_STUN_A_ADDITIONAL_ADDRESS_FAMILY 0x8000u
#define BF_STUN_A_ADDRESS_ERROR_CODE 0x8001u
#define BF_STUN_A_PASSWORD_ALGORITHMS 0x8002u
#define BF_STUN_A_ALTERNATE_DOMAIN 0x8003u
#define BF_STUN_A_ICMP 0x8004u
#define BF_STUN_A_SOFTWARE 0x8022u
#define BF_STUN_A_ALTERNATE_SERVER 0x8023u
#define BF_STUN_A_FINGERPRINT 0x8028u

/* REQUESTED-TRANSPORT protocol numbers. */
#define BF_STUN_TRANSPORT_UDP 17u
#define BF_STUN_TRANSPORT_TCP 6u

/* Password algorithms (RFC 8489 §18.5); the integrity attribute follows. */
typedef enum bf_stun_alg {
  BF_STUN_ALG_MD5 = 1,    /* key = MD5(...), 16 bytes; MESSAGE-INTEGRITY */
  BF_STUN_ALG_SHA256 = 2, /* key = SHA-256(...), 32 bytes; MESSAGE-INTEGRITY-SHA256 */
} bf_stun_alg;
#define BF_STUN_KEY_MAX 32u

/* One attribute of a parsed message: its value is msg->d[off .. off+len). */
typedef struct bf_stun_attr {
  uint16_t type;
  uint16_t len;
  uint32_t off;
} bf_stun_attr;

/* A parsed message. |d| borrows the caller's bytes (valid as long as they
 * are). Attributes after MESSAGE-INTEGRITY other than the SHA-256 one and
 * FINGERPRINT are skipped (RFC 8489 §14.5), so they are not in |attr|. */
typedef struct bf_stun_msg {
  const uint8_t *d;
  size_t len;      /* header + body */
  uint16_t method; /* 12 bits */
  bf_stun_class cls;
  const uint8_t *txid; /* d + 8 */
  size_t n_attr;
  bf_stun_attr attr[BF_STUN_MAX_ATTRS];
  uint32_t mi_off;      /* MESSAGE-INTEGRITY's header offset, 0 = absent */
  uint32_t mi256_off;   /* MESSAGE-INTEGRITY-SHA256's, 0 = absent */
  int fingerprint;      /* 1: FINGERPRINT present (and verified) */
  int unknown_required; /* comprehension-required attributes not known here */
} bf_stun_msg;

/* 1 when |d| may be a STUN message: at least a header, the first two bits
 * 0, the magic cookie, a body length that is a multiple of 4 and matches
 * |len|. Reads 20 bytes at most; the demultiplexing test of RFC 7983. */
int bf_stun_is_msg(const uint8_t *d, size_t len);

/* Parses the message of exactly |len| bytes at |d| into |m| (which
 * borrows |d|). Checks the header, every attribute's bounds, the order of
 * the integrity and fingerprint attributes and, when present, the
 * FINGERPRINT value. Returns 0, -EINVAL (not a STUN message), -EBADMSG
 * (malformed, or a wrong FINGERPRINT) or -E2BIG (more than
 * BF_STUN_MAX_ATTRS attributes). */
int bf_stun_parse(const uint8_t *d, size_t len, bf_stun_msg *m);

/* The first attribute of |type|, or NULL. */
const bf_stun_attr *bf_stun_find(const bf_stun_msg *m, uint16_t type);
/* Its value bytes (inside m->d). */
static inline const uint8_t *bf_stun_value(const bf_stun_msg *m, const bf_stun_attr *a) {
  return m->d + a->off;
}

/* An address attribute: the XOR-* types (XOR-MAPPED, XOR-PEER,
 * XOR-RELAYED) are unmasked, MAPPED-ADDRESS and ALTERNATE-SERVER read as
 * they are. Returns 0, -EBADMSG (wrong length) or -EAFNOSUPPORT. */
int bf_stun_attr_addr(const bf_stun_msg *m, const bf_stun_attr *a, bf_addr *out);
/* A 32-bit attribute (LIFETIME) or the channel of CHANNEL-NUMBER. 0 or
 * -EBADMSG. */
int bf_stun_attr_u32(const bf_stun_msg *m, const bf_stun_attr *a, uint32_t *out);
/* ERROR-CODE: |code| 300..699, |reason| points at the UTF-8 reason phrase
 * inside m->d (|reason_len| bytes, not terminated). 0 or -EBADMSG. */
int bf_stun_attr_error(const bf_stun_msg *m, const bf_stun_attr *a, int *code,
                       const uint8_t **reason, size_t *reason_len);

/* find + decode; -ENOENT when the message has no such attribute. */
int bf_stun_get_addr(const bf_stun_msg *m, uint16_t type, bf_addr *out);
int bf_stun_get_u32(const bf_stun_msg *m, uint16_t type, uint32_t *out);

/* Checks the message's MESSAGE-INTEGRITY (|alg| MD5: HMAC-SHA1) or
 * MESSAGE-INTEGRITY-SHA256 (|alg| SHA256) with |key|. Constant-time
 * compare. Returns 0, -ENOENT (that attribute is absent), -EBADMSG (it does
 * not match) or -EIO (libcrypto failed). */
int bf_stun_check_integrity(const bf_stun_msg *m, bf_stun_alg alg, const uint8_t *key,
                            size_t key_len);

/* The long-term credential key (RFC 8489 §9.2.2): |alg| MD5 or SHA-256 of
 * "user:realm:password" into |out| (16 or 32 bytes, returned). Negative
 * errno on a libcrypto failure or a bad |alg|. */
int bf_stun_long_term_key(bf_stun_alg alg, const uint8_t *user, size_t user_len,
                          const uint8_t *realm, size_t realm_len, const uint8_t *pass,
                          size_t pass_len, uint8_t out[BF_STUN_KEY_MAX]);

/* ---- building ------------------------------------------------------------ */

/* Writes a message into caller storage. Every bf_stun_put_* appends one
 * attribute (zero-padded to 4 bytes) and keeps the header's length current;
 * an error (no room, a bad address) sticks in |err| and later puts do
 * nothing, so a caller checks once, at bf_stun_finish. */
typedef struct bf_stun_builder {
  uint8_t *d;
  size_t cap;
  size_t len;
  int err;
} bf_stun_builder;

/* Starts a message of |method| and |cls| with transaction id |txid| (12
 * bytes) in |buf| (|cap| bytes, owned by the caller). */
void bf_stun_build(bf_stun_builder *b, uint8_t *buf, size_t cap, uint16_t method, bf_stun_class cls,
                   const uint8_t *txid);
void bf_stun_put(bf_stun_builder *b, uint16_t type, const void *v, size_t len);
void bf_stun_put_u32(bf_stun_builder *b, uint16_t type, uint32_t v);
/* XOR-masked for the XOR-* types, plain for the others. */
void bf_stun_put_addr(bf_stun_builder *b, uint16_t type, const bf_addr *a);
/* ERROR-CODE with |code| (300..699) and |reason| (UTF-8, may be NULL). */
void bf_stun_put_error(bf_stun_builder *b, int code, const char *reason);
/* MESSAGE-INTEGRITY (|alg| MD5) or MESSAGE-INTEGRITY-SHA256 (SHA256) over
 * everything so far, keyed with |key|. Only the other integrity attribute
 * and FINGERPRINT may follow. */
void bf_stun_put_integrity(bf_stun_builder *b, bf_stun_alg alg, const uint8_t *key, size_t key_len);
/* FINGERPRINT over everything so far; the last attribute. */
void bf_stun_put_fingerprint(bf_stun_builder *b);
/* The message's length, or the first error (-ENOBUFS, -EINVAL, -EIO). */
int bf_stun_finish(const bf_stun_builder *b);

/* Message type field from method and class, and back. */
uint16_t bf_stun_type(uint16_t method, bf_stun_class cls);
/* "Allocate", "Refresh", ...; "?" for others. */
const char *bf_stun_method_name(uint16_t method);
/* The RFC's reason phrase for an error code ("Unauthenticated", ...), or
 * "error" for an unknown one. */
const char *bf_stun_error_name(int code);

#ifdef __cplusplus
}
#endif

#endif /* BILDFUNK_STUN_H */
