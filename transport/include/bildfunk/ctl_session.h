/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The control session (issue #6): TLS 1.3 (tls.h) + control messages
 * (ctl_codec.h) + pins and pairing (identity.h) as one sans-I/O state machine
 * per connection, for both roles. The caller owns the TCP socket and the
 * clock: it feeds received bytes and the time in, sends what
 * bf_ctl_session_take_out() gives, calls bf_ctl_session_tick() by
 * bf_ctl_session_deadline(), and reacts to events (show or confirm a
 * pairing code, established with a mode, a message, closed with a reason).
 *
 * Flow (docs/protocol.md "Control session"):
 *   TLS 1.3 handshake, certificates both ways.
 *   Client: the sender's fingerprint is checked against the pin of the host
 *     name; a different one ends the session ("certificate changed"). With
 *     no pin (or when asked to re-pair) it pairs by commit-then-reveal:
 *     PairRequest("") + PairCommit{SHA-256(n_c)}; on the sender's
 *     PairNonce{n_s} it sends PairReveal{n_c}, shows its code
 *     (BF_CTL_EV_SHOW_CODE, see bf_ctl_pair_code) and sends Hello. Without
 *     pairing it sends Hello at once.
 *   Sender: first message PairRequest -> rate limit; PairCommit -> a fresh
 *     n_s in PairNonce; PairReveal -> checked against the commitment (a
 *     mismatch is Bye 4); then on the Hello BF_CTL_EV_CONFIRM_CODE; the
 *     user's bf_ctl_session_confirm() answers PairResult and pins the
 *     client (accept) or refuses (Bye 4). Any other order is Bye 7. First
 *     message Hello from an unpinned client -> Bye 3 (not paired). From a
 *     pinned one -> Welcome with the negotiated mode.
 *   Client: PairResult ok -> pins the sender; Welcome -> checked against
 *     its Hello -> BF_CTL_EV_ESTABLISHED. The seal secret is exported then.
 *   Pins: the session pins a peer in the cfg's store in memory only
 *     (bf_pinstore_put) and hands the pin up as BF_CTL_EV_PAIRED; writing
 *     the file (bf_pinstore_add, with fsync) is the program's, off its
 *     packet path. A sender with cfg.pin_saved_wait holds PairResult until
 *     bf_ctl_session_pin_saved() says how the save went, so PairResult ok
 *     still means the pin is on disk and a failed save still ends the
 *     pairing with Bye 1 "saving the client's pin failed: ...".
 *   Both: Keepalive after 500 ms without sending; nothing received for
 *     1.5 s -> Bye 6 and closed (a dead peer is noticed within 2 s).
 *
 * Not here: sockets (ctl_conn.h), name resolution, files, the data plane
 * itself (the caller makes bf_sealer/bf_opener from
 * bf_ctl_session_seal_secret()). Memory: one
 * heap object of ~104 KiB (framer 64, plaintext 16, event ring 20) plus
 * OpenSSL's; nothing per packet. Latency: none added; a message is decoded
 * in the feed call that completes it. Needs OpenSSL 3; left out of builds
 * without BF_SEAL.
 */
#ifndef BILDFUNK_CTL_SESSION_H
#define BILDFUNK_CTL_SESSION_H

#include <bildfunk/common.h>
#include <bildfunk/ctl_codec.h>
#include <bildfunk/identity.h>
#include <bildfunk/tls.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BF_CTL_KEEPALIVE_NS 500000000ull         /* send one after this long idle */
#define BF_CTL_DEAD_NS 1500000000ull             /* peer dead after this long silent */
#define BF_CTL_HANDSHAKE_NS 5000000000ull        /* TLS + Hello/Welcome must finish */
#define BF_CTL_CONFIRM_DEFAULT_NS 60000000000ull /* user confirmation window */
/* Pairing: how long the client's user has to type the code the sender shows
 * (the client's policy; the sender keeps a pair-only session open longer). */
#define BF_CTL_CODE_ENTRY_NS 120000000000ull

/* What the sender offers; bf_ctl_negotiate() fits it to a Hello. */
typedef struct bf_ctl_offer {
  uint8_t codec_pref[4];       /* BF_CTL_CODEC_*, best first, 0-terminated */
  uint16_t width, height, fps; /* the source mode */
  uint16_t shard_bytes;        /* preferred S (even, 512..9152) */
  uint16_t max_k;              /* K, 1..253 */
  uint8_t fec_percent;         /* 0..90 */
  uint16_t data_port;          /* UDP data port, != 0 */
  uint32_t max_frame_bytes;    /* 1..BF_CTL_MAX_FRAME_BYTES */
  uint32_t bitrate_kbps;
  int sealed; /* 0 never, 1 when the client can (BF_CTL_CAP_SEALED), 2 required */
  uint32_t grants; /* Welcome flags the sender can grant, each to a client whose Hello asks:
                      BF_CTL_WELCOME_INPUT to BF_CTL_CAP_INPUT, BF_CTL_WELCOME_AUDIO to
                      BF_CTL_CAP_AUDIO, BF_CTL_WELCOME_RELAY to BF_CTL_CAP_RELAY */
} bf_ctl_offer;

/* Fits |o| to client |h|: the first codec of codec_pref the client decodes;
 * the size scaled down (aspect kept, even) to fit max_width x max_height;
 * fps clamped to max_fps; shard_bytes the smallest of the offer, the
 * client's and what its MTU carries (IPv4 + UDP + header [+ seal]), even
 * and >= 512; sealed per |o->sealed|; the |o->grants| the Hello's caps ask
 * for (input, sound). Returns 0, or -ENOTSUP with |*why|
 * (may be NULL) a static text when there is no common codec, the MTU is
 * too small, or sealing is required and the client cannot. */
int bf_ctl_negotiate(const bf_ctl_offer *o, const bf_ctl_hello *h, bf_ctl_welcome *w,
                     const char **why);

typedef struct bf_ctl_session_cfg {
  bf_tls_role role;
  const bf_identity *id; /* borrowed; outlives the session */
  bf_pinstore *pins;     /* borrowed; pins are put in it (memory only) on pairing */
  uint64_t handshake_ns; /* 0: BF_CTL_HANDSHAKE_NS */
  int64_t wall_unix;     /* the date stamped on new pins (seconds since 1970;
                            the caller reads the wall clock) */
  /* client */
  const char *peer_name; /* the host name the sender's pin is kept under */
  bf_ctl_hello hello;    /* sent as is (name included) */
  int pair;              /* 0: refuse an unpinned sender; 1: pair when there is
                            no pin (the default flow); 2: pair even when pinned */
  /* sender */
  bf_ctl_offer offer;
  bf_pair_limiter *limiter;      /* borrowed, shared by all connections; NULL: none */
  bf_pair_limiter *limiter_peer; /* borrowed: the one of the peer's address, asked
                                    first; NULL: none */
  int pairing_disabled;          /* refuse PairRequests (PairResult 3) */
  uint64_t confirm_ns;           /* 0: BF_CTL_CONFIRM_DEFAULT_NS */
  int pin_saved_wait;            /* 1: after PAIRED wait for bf_ctl_session_pin_saved()
                                    before PairResult (the program writes the pin file
                                    meanwhile); 0: answer at once (memory-only stores) */
  /* WakeInfo sent just before Welcome (paired clients only) when
   * wake_count > 0: this host's MACs for Wake-on-LAN */
  uint8_t wake_count; /* 0..BF_CTL_MAX_MACS */
  uint8_t wake_mac[BF_CTL_MAX_MACS][BF_CTL_MAC_BYTES];
} bf_ctl_session_cfg;

typedef enum bf_ctl_state {
  BF_CTL_ST_HANDSHAKE = 0, /* TLS handshake */
  BF_CTL_ST_SETUP,         /* Hello / pairing / Welcome in progress */
  BF_CTL_ST_CONFIRM,       /* sender: waiting for bf_ctl_session_confirm() */
  BF_CTL_ST_ESTABLISHED,   /* mode agreed; other messages flow */
  BF_CTL_ST_CLOSED,        /* Bye sent or received, or failed */
} bf_ctl_state;

typedef enum bf_ctl_event_type {
  BF_CTL_EV_SHOW_CODE = 1, /* client: show |code|; have the user type the
                              sender's code and compare it with |code_peer|
                              before trusting the sender: the library pins
                              (in memory) on PairResult, so a program that
                              asks its user gives the session a scratch pin
                              store and saves the pin after the check */
  BF_CTL_EV_CONFIRM_CODE,  /* sender: show |code_peer|, ask the user for the
                              code the client shows and compare it with
                              |code| (|peer_name| is the client's name);
                              answer with bf_ctl_session_confirm() */
  BF_CTL_EV_PAIRED,        /* this side pinned the peer in cfg.pins, in memory:
                              |peer_fp|, |peer_name|, |paired_unix|,
                              |unique_name|; the program saves it:
                              bf_pinstore_add(its file store, those four) */
  BF_CTL_EV_ESTABLISHED,   /* |welcome| (both), |hello| (the client's),
                              |peer_fp|, |peer_name|: on the sender the name
                              the client was paired under (its pin), not the
                              one its Hello claims */
  BF_CTL_EV_MESSAGE,       /* |msg|: ping, pong, keyframe, loss report, ... */
  BF_CTL_EV_CLOSED,        /* |reason| (bf_ctl_bye_reason), |by_peer|, |text| */
} bf_ctl_event_type;

typedef struct bf_ctl_event {
  bf_ctl_event_type type;
  /* SHOW_CODE and CONFIRM_CODE: |code| is the client's code (the client
   * shows it; the sender's user types it there), |code_peer| the sender's
   * (the sender shows it; the client's user types it there). Each side's
   * user confirms what the other side shows, so each side knows the peer it
   * pairs with is the one its user sees (docs/security.md). */
  char code[BF_PAIR_CODE_DIGITS + 1];
  char code_peer[BF_PAIR_CODE_DIGITS + 1];
  char peer_name[BF_PIN_MAX_NAME + 1];
  uint8_t peer_fp[BF_FP_BYTES];
  bf_ctl_hello hello;
  bf_ctl_welcome welcome;
  bf_ctl_msg msg;
  int64_t paired_unix; /* PAIRED: the pin's date (cfg.wall_unix) */
  int unique_name;     /* PAIRED: 1 (client) when the pin replaces every pin of its name */
  uint32_t reason;
  int by_peer; /* CLOSED: 1 when the peer sent the Bye */
  char text[BF_CTL_MAX_TEXT + 1];
} bf_ctl_event;

typedef struct bf_ctl_session bf_ctl_session;
#define BF_CTL_EVENTS 16u

/* Creates a session at |now_ns|; a client has its TLS ClientHello ready in
 * the output. |cfg| is copied (its pointers stay borrowed). Returns 0,
 * -EINVAL (missing identity / pin store / client peer_name), -ENOMEM, -EIO. */
int bf_ctl_session_new(const bf_ctl_session_cfg *cfg, uint64_t now_ns, bf_ctl_session **out);

/* Wipes the secrets, frees |*s| and sets it to NULL; NULL is fine. */
void bf_ctl_session_del(bf_ctl_session **s);

/* Bytes received from the peer. Returns 0 (also when the session closes
 * because of them: see the CLOSED event), or -EINVAL. Bytes fed after
 * CLOSED are ignored. */
int bf_ctl_session_feed(bf_ctl_session *s, const uint8_t *data, size_t len, uint64_t now_ns);

/* The TCP stream ended (read returned 0 or an error). Closes the session
 * (reason 1 unless a Bye arrived first). */
void bf_ctl_session_eof(bf_ctl_session *s, uint64_t now_ns);

/* Runs the timers: keepalive, dead peer, handshake and confirmation
 * timeouts. Call at bf_ctl_session_deadline() or any time after. */
void bf_ctl_session_tick(bf_ctl_session *s, uint64_t now_ns);

/* The next time bf_ctl_session_tick() has something to do; UINT64_MAX
 * when closed. */
uint64_t bf_ctl_session_deadline(const bf_ctl_session *s);

/* Bytes to write to the TCP socket: count, and moving up to |cap| of them
 * into |out| (returns the count moved). After CLOSED, drain this (the Bye
 * and close_notify) before closing the socket. */
size_t bf_ctl_session_pending_out(const bf_ctl_session *s);
size_t bf_ctl_session_take_out(bf_ctl_session *s, uint8_t *out, size_t cap);

/* Pops the oldest event into |ev|: 1, or 0 when there is none. The ring
 * holds BF_CTL_EVENTS; when it is nearly full, feed stops decoding
 * messages (they wait, decrypted, inside): after draining the events call
 * bf_ctl_session_feed(s, NULL, 0, now) to go on. */
int bf_ctl_session_poll(bf_ctl_session *s, bf_ctl_event *ev);

/* Sender in BF_CTL_ST_CONFIRM: the user's answer. Accept pins the client
 * (in memory; PAIRED), sends PairResult ok and goes on to Welcome — with
 * cfg.pin_saved_wait only once bf_ctl_session_pin_saved() says the pin is
 * saved; reject sends PairResult wrong-code and Bye 4. Returns 0 or -EINVAL
 * (not waiting for one). */
int bf_ctl_session_confirm(bf_ctl_session *s, int accept, uint64_t now_ns);

/* Sender with cfg.pin_saved_wait, after accepting and PAIRED: the program's
 * save of the pin ended with |err| (0 or a negative errno). 0: PairResult ok
 * and Welcome go out; else Bye 1 "saving the client's pin failed: <err>"
 * ends the session (the pin stays in memory until the store is reloaded).
 * Until then the session stays in BF_CTL_ST_CONFIRM under the confirmation
 * timeout. Returns 0 or -EINVAL (no save is awaited). */
int bf_ctl_session_pin_saved(bf_ctl_session *s, int err, uint64_t now_ns);

/* Sends |m| once established (clock ping/pong, keyframe request, loss
 * report). Returns 0, -EAGAIN (not established), -EINVAL (type not allowed
 * here or invalid fields) or the TLS error. */
int bf_ctl_session_send(bf_ctl_session *s, const bf_ctl_msg *m, uint64_t now_ns);

/* Sends Bye(|reason|, |text| (may be NULL)) and close_notify, and closes
 * (a CLOSED event with by_peer 0 follows). No-op once closed. */
void bf_ctl_session_close(bf_ctl_session *s, uint32_t reason, const char *text, uint64_t now_ns);

bf_ctl_state bf_ctl_session_state(const bf_ctl_session *s);

/* The peer's certificate fingerprint: 0 or -EAGAIN before the handshake. */
int bf_ctl_session_peer_fp(const bf_ctl_session *s, uint8_t fp[BF_FP_BYTES]);

/* The BF_SEAL_EXPORTER_BYTES (32) bytes exported with BF_SEAL_EXPORTER_LABEL
 * when the session became established, for bf_seal_derive(). Returns 0,
 * -EAGAIN (not established yet) or -EINVAL (|len| != 32). Secret: wipe your
 * copy once the keys are derived. */
int bf_ctl_session_seal_secret(const bf_ctl_session *s, uint8_t *out, size_t len);

/* The pairing code both ends show (docs/security.md): the first 8 bytes of
 * SHA-256(exporter ‖ n_c ‖ n_s) as a big-endian integer mod 10^6, as six
 * digits and a NUL. |exporter| is BF_CTL_PAIR_EXPORTER_BYTES exported with
 * BF_PAIR_EXPORTER_LABEL; n_c is the client's nonce (committed to before
 * n_s was drawn), n_s the sender's. Returns 0, -EINVAL or -EIO. (Not
 * bf_pair_code(), which hashes nothing but the exporter.) */
#define BF_CTL_PAIR_EXPORTER_BYTES 32u
int bf_ctl_pair_code(const uint8_t exporter[BF_CTL_PAIR_EXPORTER_BYTES],
                     const uint8_t n_c[BF_CTL_PAIR_NONCE_BYTES],
                     const uint8_t n_s[BF_CTL_PAIR_NONCE_BYTES], char out[BF_PAIR_CODE_DIGITS + 1]);

/* Both codes from the same hash: |client_code| as bf_ctl_pair_code (bytes
 * 0..7), |sender_code| (may be NULL) from bytes 8..15 the same way. */
int bf_ctl_pair_codes(const uint8_t exporter[BF_CTL_PAIR_EXPORTER_BYTES],
                      const uint8_t n_c[BF_CTL_PAIR_NONCE_BYTES],
                      const uint8_t n_s[BF_CTL_PAIR_NONCE_BYTES],
                      char client_code[BF_PAIR_CODE_DIGITS + 1],
                      char sender_code[BF_PAIR_CODE_DIGITS + 1]);

/* The underlying TLS endpoint (borrowed). */
const bf_tls *bf_ctl_session_tls(const bf_ctl_session *s);

#ifdef __cplusplus
}
#endif

#endif /* BILDFUNK_CTL_SESSION_H */
