/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Identities, pins and pairing (issue #6).
 *
 * Identity: one persistent Ed25519 key and a self-signed X.509 certificate
 * per side and role, created on first use in the config directory
 * ($XDG_CONFIG_HOME/bildfunk, else ~/.config/bildfunk; the caller may pass
 * any directory, as the tests do) as <role>-key.pem and <role>-cert.pem,
 * mode 0600 in a 0700 directory. A key file that others can read is refused.
 * The certificate's SHA-256 fingerprint is what peers pin; its names and
 * validity dates mean nothing to bildfunk.
 *
 * Pin store: the peers this side has paired with, each a fingerprint, a
 * name (the client's name on the sender, the host name on the client) and
 * the date of pairing, kept in a text file (one pin per line:
 * "<64 hex> <unix seconds> <name>") rewritten whole on every change, after
 * re-reading it (read-modify-write: two processes may share it).
 *
 * Pairing code: six decimal digits from the TLS session's exporter (label
 * BF_PAIR_EXPORTER_LABEL) and the commit/reveal nonces of both sides, computed
 * by bf_ctl_pair_code() in ctl_session.h (see docs/security.md).
 *
 * Rate limiter: a sliding-window count of pairing attempts, time passed in.
 *
 * Files and OpenSSL allocations only at load/save time; nothing here is on
 * a per-packet path. Needs OpenSSL 3; left out of builds without BF_SEAL.
 */
#ifndef BILDFUNK_IDENTITY_H
#define BILDFUNK_IDENTITY_H

#include <bildfunk/common.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BF_FP_BYTES 32u       /* a fingerprint: SHA-256 of the certificate's DER encoding */
#define BF_FP_HEX_BYTES 65u   /* 64 hex digits + NUL */
#define BF_PIN_MAX_NAME 64u   /* bytes, printable, no newline */
#define BF_PIN_MAX_PINS 1024u /* a store refuses to grow past this */

/* ---- identity ------------------------------------------------------------ */

typedef struct bf_identity bf_identity;

/* OpenSSL's X509 and EVP_PKEY, declared here so this header needs no
 * OpenSSL header. */
struct x509_st;
struct evp_pkey_st;

/* Writes the default config directory into |out| (|cap| bytes):
 * $XDG_CONFIG_HOME/bildfunk when that variable is set and absolute, else
 * $HOME/.config/bildfunk. Returns 0, -ENOENT (neither is set) or -ENAMETOOLONG. */
int bf_config_dir(char *out, size_t cap);

/* Loads the identity of |role| ("client" or "sender"; [a-z] only) from
 * |dir| (NULL: bf_config_dir), creating the directory (0700), a new key and
 * a certificate with common name |cn| (NULL: "bildfunk <role>") first when
 * they do not exist. Returns 0; -EISDIR when the key or certificate path is
 * a directory (or anything but a file); -EPERM when the key file is
 * readable by others (fix with chmod 600); -EBADMSG when the files do not
 * parse or the certificate does not match the key; -errno of a file
 * operation; -EIO. */
int bf_identity_load(const char *dir, const char *role, const char *cn, bf_identity **out);

/* A fresh identity that lives in memory only (tests, one-off sessions). */
int bf_identity_generate(const char *cn, bf_identity **out);

/* Frees |*id| and sets it to NULL; NULL is fine. */
void bf_identity_del(bf_identity **id);

/* This identity's certificate fingerprint (what the peer pins). */
void bf_identity_fp(const bf_identity *id, uint8_t fp[BF_FP_BYTES]);

/* The certificate and private key (borrowed: valid while |id| lives), for
 * the TLS endpoint that presents them (tls.h). */
struct x509_st *bf_identity_cert(const bf_identity *id);
struct evp_pkey_st *bf_identity_key(const bf_identity *id);

/* Lower-case hex of |fp| into |out| (64 digits + NUL). */
void bf_fp_hex(const uint8_t fp[BF_FP_BYTES], char out[BF_FP_HEX_BYTES]);

/* ---- pin store ----------------------------------------------------------- */

typedef struct bf_pin {
  uint8_t fp[BF_FP_BYTES];
  int64_t paired_unix; /* seconds since 1970 when the pair was confirmed */
  char name[BF_PIN_MAX_NAME + 1];
} bf_pin;

typedef struct bf_pinstore bf_pinstore;

/* Opens the store kept in file |path| (read now if it exists; created on
 * the first change, mode 0600), or a memory-only store when |path| is NULL.
 * Lines end in LF or CRLF (a file edited on Windows). Returns 0, -EBADMSG
 * (a line does not parse: the file is left alone), -EISDIR (|path| is a
 * directory or anything but a file), -ENOMEM or -errno of reading. */
int bf_pinstore_open(const char *path, bf_pinstore **out);

/* bf_pinstore_open that also says, on -EBADMSG, which line (1-based) did
 * not parse in |*bad_line| (0 otherwise). */
int bf_pinstore_open_at(const char *path, bf_pinstore **out, size_t *bad_line);

/* Frees |*ps| and sets it to NULL; NULL is fine. */
void bf_pinstore_del(bf_pinstore **ps);

/* Re-reads the file (another process, e.g. `bildfunk-send --revoke`, may have
 * changed it); a file that no longer exists is an empty store. On an error
 * (-EBADMSG, -ENOMEM, -errno of reading) the store keeps what it had. A
 * memory-only store: 0, unchanged. bf_pinstore_add() and _revoke() reload
 * first, so a change never writes back pins another process removed. Pin
 * pointers taken before are invalid afterwards. */
int bf_pinstore_reload(bf_pinstore *ps);

/* Pins |fp| as |name| (non-printable bytes become '?', cut at
 * BF_PIN_MAX_NAME) at |now_unix|. An existing pin of the same fingerprint
 * is replaced; with |unique_name| also every pin of the same name (the
 * client keeps one sender certificate per host). Reloads first and saves
 * (the file is rewritten with fsync: milliseconds; keep it off per-packet
 * paths). Returns 0, -ENOSPC (BF_PIN_MAX_PINS) or -errno of reading or
 * writing. */
int bf_pinstore_add(bf_pinstore *ps, const uint8_t fp[BF_FP_BYTES], const char *name,
                    int64_t now_unix, int unique_name);

/* The same change in memory only: no reload, no file access, effective at
 * once. The file does not have the pin until someone saves it (a later
 * bf_pinstore_add on a store of the same file) and a reload before that
 * forgets it. What the control session does when it pins a peer. Returns 0
 * or -ENOSPC, -ENOMEM. */
int bf_pinstore_put(bf_pinstore *ps, const uint8_t fp[BF_FP_BYTES], const char *name,
                    int64_t now_unix, int unique_name);

/* The file the store is kept in, or NULL for a memory-only store. */
const char *bf_pinstore_path(const bf_pinstore *ps);

/* The pin of |fp| / the first pin named |name|, or NULL. The pointer is
 * valid until the next change of the store. */
const bf_pin *bf_pinstore_find_fp(const bf_pinstore *ps, const uint8_t fp[BF_FP_BYTES]);
const bf_pin *bf_pinstore_find_name(const bf_pinstore *ps, const char *name);

/* Removes the pins matching |what|: an exact name, or a hex fingerprint
 * prefix of at least 8 digits. Saves. Returns the number removed (> 0),
 * -ENOENT (none matches), -EEXIST (a prefix matches several: nothing
 * removed) or -errno of writing. */
int bf_pinstore_revoke(bf_pinstore *ps, const char *what);

/* Number of pins, and pin |i| (0-based, in the order added) or NULL. */
size_t bf_pinstore_count(const bf_pinstore *ps);
const bf_pin *bf_pinstore_at(const bf_pinstore *ps, size_t i);

/* ---- pairing code -------------------------------------------------------- */

#define BF_PAIR_EXPORTER_LABEL "EXPORTER-bildfunk-pair-v1"
#define BF_PAIR_CODE_DIGITS 6u

/* ---- pairing rate limiter ------------------------------------------------ */

#define BF_PAIR_LIMIT_MAX 16u /* largest max_attempts */

/* At most |max_attempts| pairing attempts in any |window_ns|. Caller-owned;
 * the sender keeps one for itself (guesses cannot come faster) and one per
 * source address (one address cannot use up the sender's and lock an honest
 * pairing out; see docs/security.md). */
typedef struct bf_pair_limiter {
  uint64_t window_ns;
  uint32_t max_attempts;
  uint32_t n;                    /* entries in t */
  uint64_t t[BF_PAIR_LIMIT_MAX]; /* attempt times, oldest first */
} bf_pair_limiter;

/* Defaults for the sender: 10 attempts per 60 s in all, 3 from one address. */
#define BF_PAIR_LIMIT_DEFAULT_ATTEMPTS 10u
#define BF_PAIR_LIMIT_PEER_ATTEMPTS 3u
#define BF_PAIR_LIMIT_DEFAULT_WINDOW_NS (60ull * 1000000000ull)

/* |max_attempts| is clamped to 1..BF_PAIR_LIMIT_MAX. */
void bf_pair_limiter_init(bf_pair_limiter *l, uint32_t max_attempts, uint64_t window_ns);

/* Records an attempt at |now_ns| and returns 0 when it is allowed; returns
 * -EAGAIN (not recorded) with |*retry_after_ns| (may be NULL) set to the
 * time until the oldest attempt leaves the window when it is not. */
int bf_pair_limiter_try(bf_pair_limiter *l, uint64_t now_ns, uint64_t *retry_after_ns);

#ifdef __cplusplus
}
#endif

#endif /* BILDFUNK_IDENTITY_H */
