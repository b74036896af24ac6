/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Sealed data plane (spec §6): AES-128-GCM over every datagram of an
 * encrypted session, with a replay window on the receiving side.
 *
 * Sealed datagram = seq (u64 big-endian) ‖ AES-128-GCM(plaintext) ‖ tag (16)
 * — BF_SEAL_OVERHEAD (24) bytes more than the plaintext. AAD = the 8 seq
 * bytes; nonce (12 bytes) = salt (4) ‖ seq (8, big-endian); the top bit of
 * salt[0] is the direction (sender → client 0, client → sender 1), forced
 * here whatever the caller's salt says. A sealer's seq starts where its
 * caller says and rises by one per datagram; it never repeats and never
 * wraps (a sealer that has used seq 2^64-1 refuses to seal).
 *
 * Keys and salts come from the control plane's TLS session, never from the
 * wire: the caller exports BF_SEAL_EXPORTER_BYTES bytes with label
 * BF_SEAL_EXPORTER_LABEL and no context (SSL_export_keying_material) and
 * hands them to bf_seal_derive(), which yields one key + salt per direction
 * (HKDF-Expand-SHA256, info strings below).
 *
 * Costs: one EVP_CIPHER_CTX per sealer / opener, initialised with the key
 * once; per datagram only the IV is re-initialised (a full re-init costs
 * about 2x). No allocation per datagram. The opener holds a 16 KiB replay
 * bitmap. The opener checks length and the replay window BEFORE it decrypts
 * and marks a seq seen only after its tag verified, so forged or replayed
 * datagrams cost a few compares and cannot poison the window.
 *
 * Threads: a sealer or opener belongs to one thread at a time; distinct
 * objects are independent. Not here: sockets, the TLS session, what the
 * plaintext means (video header + shard, feedback, input).
 *
 * Needs OpenSSL 3 (libcrypto); builds without it (BF_SEAL off, e.g. the
 * mingw-w64 build) leave this module out and do not define BF_HAVE_SEAL.
 */
#ifndef BILDFUNK_SEAL_H
#define BILDFUNK_SEAL_H

#include <bildfunk/common.h>
#include <bildfunk/wire.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BF_SEAL_KEY_BYTES 16u /* AES-128 */
#define BF_SEAL_SALT_BYTES 4u
#define BF_SEAL_SEQ_BYTES 8u
#define BF_SEAL_TAG_BYTES 16u
#define BF_SEAL_NONCE_BYTES 12u
/* BF_SEAL_OVERHEAD (seq + tag = 24) is in wire.h. */
/* Largest plaintext whose sealed form still fits in BF_MAX_DATAGRAM. */
#define BF_SEAL_MAX_PLAIN (BF_MAX_DATAGRAM - BF_SEAL_OVERHEAD)

/* Replay window: seqs more than this far below the newest accepted one are
 * dropped; inside it each seq is accepted once. 131072 covers 120 ms of
 * reordering up to ~1.09 M datagrams/s. Bitmap = 16 KiB. */
#define BF_SEAL_REPLAY_WINDOW 131072u

/* TLS 1.3 keying-material exporter input (RFC 8446 §7.5): label, no
 * context (use_context = 0, which TLS 1.3 treats as an empty context), this
 * many bytes out. Both ends export the same secret from the same session. */
#define BF_SEAL_EXPORTER_LABEL "EXPORTER-bildfunk-seal-v1"
#define BF_SEAL_EXPORTER_BYTES 32u
/* HKDF-Expand-SHA256 info strings (ASCII, no terminator) used by
 * bf_seal_derive(): key = Expand(secret, "<dir> key", 16), salt =
 * Expand(secret, "<dir> salt", 4), then the direction bit is forced. */
#define BF_SEAL_INFO_S2C_KEY "bildfunk seal v1 s2c key"
#define BF_SEAL_INFO_S2C_SALT "bildfunk seal v1 s2c salt"
#define BF_SEAL_INFO_C2S_KEY "bildfunk seal v1 c2s key"
#define BF_SEAL_INFO_C2S_SALT "bildfunk seal v1 c2s salt"

typedef enum bf_seal_dir {
  BF_SEAL_S2C = 0, /* sender -> client: video, pongs, bye */
  BF_SEAL_C2S = 1, /* client -> sender: feedback, input, bye */
} bf_seal_dir;

/* Key material of one direction. Secret: wipe with bf_seal_key_wipe(). */
typedef struct bf_seal_key {
  uint8_t key[BF_SEAL_KEY_BYTES];
  uint8_t salt[BF_SEAL_SALT_BYTES];
} bf_seal_key;

/* Reads a 32-byte session secret from the text file |path|: 64 hex digits,
 * white space around them allowed (what the programs' --seal-key-file names,
 * for sealed direct mode). On failure writes what is wrong with the file,
 * naming it, into |err| (no option name: the program prefixes its own) and
 * returns -EINVAL (not 64 hex digits) or the negative errno of opening it.
 * The text buffer is wiped. */
int bf_seal_secret_read_file(const char *path, uint8_t out[32], char *err, size_t errcap);

/* Derives both directions' key + salt from |secret| (the exporter output,
 * at least 32 bytes, used whole as the HKDF pseudo-random key). The salts
 * come back with their direction bit set. Returns 0, -EINVAL (|len| < 32)
 * or -EIO (OpenSSL failure). Allocates inside OpenSSL; call once per
 * session. */
int bf_seal_derive(const uint8_t *secret, size_t len, bf_seal_key *s2c, bf_seal_key *c2s);

/* Overwrites |k| with zeros in a way the compiler keeps. */
void bf_seal_key_wipe(bf_seal_key *k);

/* ---- sealer ---------------------------------------------------------- */

typedef struct bf_sealer bf_sealer;

/* Creates a sealer for direction |dir| whose first datagram gets seq
 * |first_seq|. |k| is copied into the cipher context (the caller may wipe
 * its copy). Returns 0, -ENOMEM or -EIO. */
int bf_sealer_new(const bf_seal_key *k, bf_seal_dir dir, uint64_t first_seq, bf_sealer **out);

/* Wipes and frees |*s| and sets it to NULL; NULL is fine. */
void bf_sealer_del(bf_sealer **s);

/* Seals the plaintext |in->head| ‖ |in->body| (gathered: the pieces are not
 * copied together first) into |out| (|cap| bytes, not overlapping the
 * input) as seq ‖ ciphertext ‖ tag and uses up one seq. Returns the sealed
 * length (plaintext + 24), or
 *   -EMSGSIZE   plaintext longer than BF_SEAL_MAX_PLAIN
 *   -ENOSPC     |cap| too small
 *   -EOVERFLOW  seq 2^64-1 is used up: this key must not seal again
 *   -EIO        OpenSSL failed (the seq is used up all the same)
 * Nothing is consumed on the first three. */
int bf_sealer_seal(bf_sealer *s, const bf_dgram *in, uint8_t *out, size_t cap);

/* The seq the next datagram will get (meaningless once exhausted). */
uint64_t bf_sealer_next_seq(const bf_sealer *s);

/* ---- opener ---------------------------------------------------------- */

/* Drop counters: every datagram handed to the opener ends in exactly one. */
typedef struct bf_opener_stats {
  uint64_t opened;     /* tag verified, plaintext delivered */
  uint64_t short_;     /* shorter than 24 + the minimum plaintext */
  uint64_t oversize;   /* longer than BF_MAX_DATAGRAM */
  uint64_t replay_old; /* seq at or below newest - BF_SEAL_REPLAY_WINDOW */
  uint64_t replay_dup; /* seq inside the window and already accepted */
  uint64_t bad_tag;    /* authentication failed: forged, corrupted, wrong
                          key or wrong direction */
} bf_opener_stats;

typedef struct bf_opener bf_opener;

/* Creates an opener for datagrams sealed in direction |dir| (the client
 * opens BF_SEAL_S2C). Datagrams with fewer than |min_plain| plaintext bytes
 * (0 means 1) are dropped as short before any decryption. The first seq
 * accepted may be any value. Allocates ~16.1 KiB. Returns 0, -ENOMEM or
 * -EIO. */
int bf_opener_new(const bf_seal_key *k, bf_seal_dir dir, size_t min_plain, bf_opener **out);

/* Wipes and frees |*o| and sets it to NULL; NULL is fine. */
void bf_opener_del(bf_opener **o);

/* Opens sealed datagram |d| of |len| bytes into |out| (|cap| bytes, not
 * overlapping |d|). On success returns the plaintext length (len - 24),
 * stores the seq in |*seq| (may be NULL) and marks it seen. On a drop
 * returns, counting it in the matching counter:
 *   -EMSGSIZE   short or oversize (checked first)
 *   -ESTALE     replay_old        (checked before decrypting)
 *   -EALREADY   replay_dup        (checked before decrypting)
 *   -EBADMSG    bad_tag; the seq stays unseen
 * and -ENOSPC (not counted: a caller error) when |cap| < len - 24. After a
 * drop the contents of |out| are unspecified and must not be used. */
int bf_opener_open(bf_opener *o, const uint8_t *d, size_t len, uint8_t *out, size_t cap,
                   uint64_t *seq);

/* The same, decrypting in place: the plaintext ends up at d + 8. */
int bf_opener_open_inplace(bf_opener *o, uint8_t *d, size_t len, uint64_t *seq);

/* Copies the counters. */
void bf_opener_stats_get(const bf_opener *o, bf_opener_stats *st);

/* Newest seq accepted so far; 0 with |*have| = 0 before the first. */
uint64_t bf_opener_newest(const bf_opener *o, int *have);

#ifdef __cplusplus
}
#endif

#endif /* BILDFUNK_SEAL_H */
