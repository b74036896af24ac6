/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The sender's control plane (issue #6): the TCP listener and its accept
 * policy, the control connections and the operator's pairing
 * confirmations, around the library's control connection
 * (bildfunk/ctl_conn.h: socket, reads, writes, the bounded output buffer)
 * and its sans-I/O control session (bildfunk/ctl_session.h), which holds
 * all the protocol logic (TLS 1.3, Hello/Welcome, pairing, keepalive and
 * dead peer). This module owns the sockets; the caller owns the clock and
 * the loop: it adds bf_sctl_pollfds() to its poll set, calls bf_sctl_step()
 * when one of them is ready or bf_sctl_deadline() has come, and takes the
 * stream events with bf_sctl_next_event().
 *
 * Policy (docs/protocol.md "The sender's control plane"):
 *  - One streaming client: a session that becomes ESTABLISHED (and is not
 *    pair-only, below) replaces the current one (Bye BF_CTL_BYE_REPLACED) and is reported as
 *    BF_SCTL_EV_STREAM with the peer's IP, the Welcome and the exported seal
 *    secret. When the streaming client's session closes (Bye, EOF, dead peer
 *    after 1.5 s, error) BF_SCTL_EV_STOP follows at once. The sender does
 *    not rescale: a session whose Welcome is smaller than the offer (size
 *    or fps) is ended with Bye BF_CTL_BYE_NO_MODE and replaces nothing.
 *  - Pair only: a session whose Hello carries BF_CTL_CAP_PAIR_ONLY
 *    (`bildfunk pair`) only pairs. Once ESTABLISHED it replaces nothing,
 *    raises no event, is never the streaming one and is not refused for a
 *    smaller mode (it will not stream); it is counted (pair_only), kept
 *    open with keepalives until the client ends it (its user types the
 *    sender's code, up to 120 s), and ended with Bye BF_CTL_BYE_NORMAL after
 *    |pair_only_ns| at the latest. Until it closes it holds a setup slot.
 *  - Up to BF_SCTL_MAX_SETUP more connections may be in handshake or
 *    pairing at once, at most BF_SCTL_MAX_SETUP_PER_IP of them from one IP
 *    (one host cannot take every slot); more are closed at accept (counted
 *    as refused_full). At most BF_SCTL_ACCEPT_PER_SEC connections are
 *    accepted per second (BF_SCTL_ACCEPT_BURST in a row): each may cost a
 *    TLS handshake (~1 ms of CPU) on the caller's (video) thread, and a
 *    replayed ClientHello costs the attacker nothing; the others wait in the
 *    kernel's listen backlog. One bf_sctl_step() runs at most
 *    BF_SCTL_HANDSHAKES_PER_STEP handshakes; connections whose ClientHello
 *    came at the same time wait for the next steps.
 *  - Pairing confirmation: on a session's CONFIRM_CODE the operator is asked
 *    on |log| to type the code the client shows; one line is read from
 *    |input_fd| (non-blocking: only read when poll says it is readable, so
 *    stdin's flags are left alone). Equal to the code: accept; any other
 *    line: refuse (wrong code); EOF on the input or the confirmation timeout
 *    (|confirm_ns|): refuse. One request is asked at a time; others wait in
 *    line (each under its own timeout) and are asked in arrival order.
 *    An accepted client is pinned at once (in memory); with a pin file the
 *    file is written on the pin writer's thread (pin_writer.h) and the
 *    session answers PairResult only then: a failed write ends the pairing
 *    with Bye 1 "saving the client's pin failed: ...", as it always did. The
 *    pins still being written survive the re-read of the file at an accept.
 *    A read that fails with EIO (a background job on a terminal whose
 *    SIGTTIN is ignored, as bildfunk-send does: without that the kernel
 *    stops the whole process) leaves the input alone for a second at a
 *    time, so the operator can bring the sender to the foreground and type.
 *
 * Costs: one heap object (~150 KiB: BF_SCTL_MAX_SETUP + 1 connection slots,
 * each a bf_ctl_conn with its 16 KiB output buffer) plus per connection the
 * library session (~104 KiB + OpenSSL's); with a pin file, the pin
 * writer's thread (idle but for a pin file write per pairing). Nothing of
 * this runs on the per-packet path. bf_sctl_step() does one zero-timeout
 * poll() of the control descriptors plus a read or write per ready one.
 *
 * Needs OpenSSL (BF_HAVE_SEAL); without it bf_sctl_open() returns -ENOTSUP.
 * Not thread-safe.
 */
#ifndef BF_SENDER_CTL_SERVER_H
#define BF_SENDER_CTL_SERVER_H

#include <bildfunk/transport.h>

#ifdef BF_HAVE_SEAL
#include <bildfunk/ctl_session.h>
#include <bildfunk/seal.h>
#endif

#include <poll.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BF_SCTL_MAX_SETUP 8u           /* connections in handshake / pairing at once */
#define BF_SCTL_MAX_SETUP_PER_IP 4u    /* ... of them from one IP address */
#define BF_SCTL_PAIR_PEERS 32u         /* addresses whose pairing attempts are counted apart */
#define BF_SCTL_ACCEPT_PER_SEC 20u     /* new connections taken per second ... */
#define BF_SCTL_ACCEPT_BURST 4u        /* ... and in a row */
#define BF_SCTL_HANDSHAKES_PER_STEP 2u /* TLS handshakes bf_sctl_step() runs at most */
#define BF_SCTL_SECRET_BYTES BF_SEAL_EXPORTER_BYTES
/* A pair-only session's longest life after ESTABLISHED: longer than the
 * client's BF_CTL_CODE_ENTRY_NS (120 s) for its user to type the sender's code. */
#define BF_SCTL_PAIR_ONLY_NS (BF_CTL_CODE_ENTRY_NS + 10000000000ull)
#define BF_SCTL_MAX_FDS (BF_SCTL_MAX_SETUP + 4u) /* listener, input, pin writer, connections */

/* Counters (also in builds without OpenSSL, where they stay 0). */
typedef struct bf_sctl_stats {
  uint64_t connections;       /* accepted TCP connections */
  uint64_t refused_full;      /* closed at accept: BF_SCTL_MAX_SETUP (per IP: _PER_IP) in setup */
  uint64_t pin_reload_failed; /* the pin file did not parse at an accept: kept the old pins */
  uint64_t established;       /* sessions that reached ESTABLISHED */
  uint64_t replaced;          /* streaming sessions replaced by a newer one */
  uint64_t pair_only;         /* established sessions that only paired (BF_CTL_CAP_PAIR_ONLY) */
  uint64_t pairings_ok;       /* pairings the operator confirmed */
  uint64_t pairings_refused;  /* wrong code, EOF, timeout, --no-pairing */
  uint64_t rate_limited;      /* pairing attempts over the rate limit */
  uint64_t not_paired;        /* Hello from a client with no pin (Bye 3) */
  uint64_t closed_dead;       /* peers that went silent (Bye 6) */
  uint64_t handshake_failed;  /* closed before ESTABLISHED for other reasons */
} bf_sctl_stats;

#ifdef BF_HAVE_SEAL

typedef struct bf_sctl_config {
  const char *listen;          /* "ADDR:PORT" of the TCP listener (port 0: ephemeral) */
  const bf_identity *id;       /* borrowed; the sender's identity */
  bf_pinstore *pins;           /* borrowed; the paired clients */
  bf_ctl_offer offer;          /* what the sender streams (see bf_ctl_negotiate) */
  int pairing_disabled;        /* --no-pairing */
  uint64_t confirm_ns;         /* operator confirmation window; 0: 60 s */
  uint32_t pair_attempts;      /* rate limit: attempts per window; 0: 10 */
  uint32_t pair_attempts_peer; /* ... from one address (BF_SCTL_PAIR_PEERS kept); 0: 3 */
  uint64_t pair_window_ns;     /* 0: 60 s */
  uint64_t pair_only_ns;       /* a pair-only session is ended this long after ESTABLISHED;
                                  0: BF_SCTL_PAIR_ONLY_NS */
  int input_fd;                /* confirmation lines (stdin); -1: none (refuse) */
  FILE *log;                   /* prompts and results (stderr); NULL: silent */
  uint8_t wake_count;          /* this host's MACs, told to paired clients (WakeInfo) */
  uint8_t wake_mac[BF_CTL_MAX_MACS][BF_CTL_MAC_BYTES];
} bf_sctl_config;

typedef enum bf_sctl_event_type {
  BF_SCTL_EV_STREAM = 1, /* a new streaming client (the previous one, if any, is gone) */
  BF_SCTL_EV_STOP,       /* the streaming client's session closed: stop streaming now */
  BF_SCTL_EV_RELAY,      /* the streaming client's relay message or DataAddr (|msg|: 13.3, 7.1) */
} bf_sctl_event_type;

typedef struct bf_sctl_event {
  bf_sctl_event_type type;
  bf_addr peer;                         /* the client's TCP address (its IP admits punches) */
  bf_ctl_welcome welcome;               /* STREAM: the negotiated mode */
  bf_ctl_hello hello;                   /* STREAM: what the client asked for */
  uint8_t secret[BF_SCTL_SECRET_BYTES]; /* STREAM: the seal secret; wipe after use */
  uint32_t reason;                      /* STOP: bf_ctl_bye_reason */
  int by_peer;                          /* STOP: 1 when the client ended it */
  char text[BF_CTL_MAX_TEXT + 1];       /* STOP: the Bye text */
  bf_ctl_msg msg;                       /* RELAY: RelayOffer, RelayReady or RelayFailed */
} bf_sctl_event;

typedef struct bf_sctl bf_sctl;

/* Binds and listens. Returns 0, or a negative errno with a reason in |err|
 * (-EADDRINUSE: the port is busy; -EINVAL: bad address). */
int bf_sctl_open(const bf_sctl_config *cfg, bf_sctl **out, char *err, size_t errcap);

/* Closes every connection (without a Bye: call bf_sctl_finish first for a
 * polite end), frees |*c| and sets it to NULL; NULL is fine. */
void bf_sctl_close(bf_sctl **c);

/* The listener's bound address. */
int bf_sctl_local_addr(const bf_sctl *c, bf_addr *out);

/* Fills up to |cap| poll entries (BF_SCTL_MAX_FDS are enough) for the
 * caller's wait; returns how many. */
size_t bf_sctl_pollfds(const bf_sctl *c, struct pollfd *fds, size_t cap);

/* Does everything due at |now_ns|: accepts, reads and feeds, answers
 * confirmations from the input, runs the session timers, writes, closes
 * finished connections. Stream events are queued for bf_sctl_next_event. */
void bf_sctl_step(bf_sctl *c, uint64_t now_ns);

/* The next time bf_sctl_step must run even if no descriptor is ready. */
uint64_t bf_sctl_deadline(const bf_sctl *c);

/* Pops the oldest stream event into |ev|: 1, or 0 when there is none. */
int bf_sctl_next_event(bf_sctl *c, bf_sctl_event *ev);

/* The streaming client's IP in |ip| (may be NULL): 1 when there is one, else 0. */
int bf_sctl_streaming(const bf_sctl *c, bf_addr *ip);

/* Ends the streaming client's session with Bye |reason| (|text| may be
 * NULL); its STOP event follows in the next bf_sctl_step. No-op without one. */
void bf_sctl_end_stream(bf_sctl *c, uint32_t reason, const char *text, uint64_t now_ns);

/* Sends |m| to the streaming client (a relay message). 0, -ENOTCONN (none)
 * or the session's error. */
int bf_sctl_send(bf_sctl *c, const bf_ctl_msg *m, uint64_t now_ns);

/* The stream ended on the sender's side (end of source, error): Bye
 * |reason| (|text| may be NULL) to the streaming client, then a best-effort
 * flush of every connection for up to |flush_ms|. No STOP event follows. */
void bf_sctl_finish(bf_sctl *c, uint32_t reason, const char *text, int flush_ms, uint64_t now_ns);

const bf_sctl_stats *bf_sctl_stats_get(const bf_sctl *c);

/* Connections open now (any state). */
size_t bf_sctl_connections(const bf_sctl *c);

#endif /* BF_HAVE_SEAL */

#ifdef __cplusplus
}
#endif

#endif /* BF_SENDER_CTL_SERVER_H */
