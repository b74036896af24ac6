/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Direct-mode session of the sender (sans-I/O): who the stream goes to and
 * what the client asked for, decided from the datagrams that arrive on the
 * data port and the time passed in. docs/protocol.md describes the protocol;
 * this is the sender's half of it.
 *
 *  - Adoption: the first punch (spec §7, "PFpunch1") from an allowed address
 *    makes its observed source the client: ADOPT, stream with a keyframe
 *    first. A later punch from the same IP but another port re-targets the
 *    stream there (RETARGET; the old address is reported so it can be told
 *    BYE/replaced). One client at a time: punches from other IPs are ignored
 *    while a client is live. The punch bookkeeping is bildfunk/punch.h's
 *    sender state machine: open to any IP (or the --allow IP) while waiting,
 *    locked to the client's IP while streaming.
 *  - Feedback (bildfunk/feedback.h) counts only from the client's exact
 *    address: KEYFRAME_REQUEST with a new request_id asks for a keyframe
 *    (repeats of an id already seen are ignored), LOSS_REPORT is statistics,
 *    CLOCK_PING wants a PONG at once, BYE ends the session.
 *  - Control mode (|closed|): punches are refused (punches_denied) unless
 *    they come from the IP of the established control session, set with
 *    bf_send_session_allow().
 *  - Sealed data plane (bf_send_session_sealed: a control session's keys,
 *    or --seal-key-file): every datagram but the punch reached here only
 *    after its tag was verified, so feedback from the client is proof of
 *    who it is and the clear punch is not. Once an authenticated datagram
 *    came from the client, only authenticated datagrams move the stream
 *    (feedback from the client's IP on another port: the client's NAT
 *    rebound; RETARGET) and keep it alive; a clear punch from another port
 *    is refused (punches_unauthenticated) and one from the client's own
 *    address changes nothing. Before that first authenticated datagram a
 *    clear punch may still open and move the path, as spec §7 says.
 *  - Silence: a client heard from neither by punch nor by feedback for
 *    |silence_ns| (10 s) is dropped; the sender waits for the next one.
 *  - Keyframe throttle: request-driven keyframes are at least
 *    |keyframe_gap_ns| apart; a request inside the gap is kept and honoured
 *    when the gap has passed. Adoption keyframes are not throttled.
 * Anything else (video-looking bytes, unknown magic, short feedback) is
 * counted as garbage and ignored.
 *
 * No sockets, no clocks: the caller passes each datagram with its source and
 * a monotonic ns time and acts on the result. Not thread-safe.
 */
#ifndef BF_SENDER_SESSION_H
#define BF_SENDER_SESSION_H

#include <bildfunk/feedback.h>
#include <bildfunk/punch.h>
#include <bildfunk/transport.h>

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bf_send_session_config {
  uint64_t silence_ns;      /* drop a silent client after this: 10 s */
  uint64_t keyframe_gap_ns; /* least time between request-driven keyframes: 50 ms */
  int allow_set;            /* 1: only punches from |allow|'s IP start a session */
  bf_addr allow;
  int closed; /* control mode: with allow_set 0 refuse every punch (see
                 bf_send_session_allow) */
} bf_send_session_config;

void bf_send_session_config_default(bf_send_session_config *cfg);

typedef struct bf_send_session_stats {
  uint64_t punches;           /* punches from the client (incl. the first) */
  uint64_t punches_denied;    /* from an IP --allow does not admit */
  uint64_t punches_busy;      /* from another IP while a client is live */
  uint64_t clients;           /* adoptions */
  uint64_t retargets;         /* same IP, new port */
  uint64_t punches_unauthenticated; /* sealed: a clear punch tried to move an
                                       authenticated client's stream */
  uint64_t silences;          /* clients dropped for silence */
  uint64_t byes;              /* BYE received from the client */
  uint64_t keyframe_requests; /* KEYFRAME_REQUEST datagrams from the client */
  uint64_t keyframe_ids;      /* of which with a new id */
  uint64_t keyframes_forced;  /* keyframes taken for requests */
  uint64_t loss_reports;
  uint64_t pings;
  uint64_t foreign; /* valid feedback from an address that is not the client */
  uint64_t garbage; /* neither punch nor feedback */
} bf_send_session_stats;

typedef struct bf_send_session {
  bf_send_session_config cfg;
  int streaming;          /* a client is adopted */
  bf_punch_sender punch;  /* punch acceptance and target (punch.h) */
  bf_addr peer;           /* the client's observed address while streaming */
  uint64_t last_heard_ns; /* last punch or feedback from it */
  int sealed;             /* the data plane is sealed (bf_send_session_sealed) */
  int authentic;          /* sealed: an authenticated datagram came from the client */
  int kf_id_valid;        /* a request id has been seen from this client */
  uint32_t kf_last_id;
  int kf_pending;     /* a keyframe is owed */
  int kf_adopt;       /* ... because of adoption (not throttled) */
  int kf_forced_once; /* a request-driven keyframe has been taken */
  uint64_t kf_last_forced_ns;
  bf_send_session_stats stats;
  bf_feedback last_loss; /* the latest LOSS_REPORT */
} bf_send_session;

typedef enum bf_ss_event {
  BF_SS_NONE = 0, /* nothing to do (counted) */
  BF_SS_ADOPT,    /* a new client: stream to s->peer, keyframe first */
  BF_SS_RETARGET, /* the client moved to s->peer; res->old_peer is where it was */
  BF_SS_KEYFRAME, /* a new keyframe request (take it with _take_keyframe) */
  BF_SS_LOSS,     /* a loss report (res->fb) */
  BF_SS_PING,     /* answer res->fb (the ping) with a PONG to s->peer now */
  BF_SS_BYE,      /* the client ended the session; streaming stopped */
  BF_SS_SILENT,   /* from _tick: the client fell silent; streaming stopped */
} bf_ss_event;

typedef struct bf_ss_result {
  bf_ss_event event;
  bf_feedback fb;   /* the decoded feedback, for LOSS / PING / KEYFRAME / BYE */
  bf_addr old_peer; /* RETARGET: the previous address */
} bf_ss_result;

/* Sets up |s| (caller-owned) with |cfg|. */
void bf_send_session_init(bf_send_session *s, const bf_send_session_config *cfg);

/* Handles datagram |d| of |len| bytes from |from| that arrived at |now_ns|
 * and returns what the caller must do (also in |res|). |d| is only read
 * during the call. */
bf_ss_event bf_send_session_on_datagram(bf_send_session *s, const uint8_t *d, size_t len,
                                        const bf_addr *from, uint64_t now_ns, bf_ss_result *res);

/* Checks the silence timeout at |now_ns|: BF_SS_SILENT once when the client
 * was silent too long (streaming stops), else BF_SS_NONE. */
bf_ss_event bf_send_session_tick(bf_send_session *s, uint64_t now_ns);

/* When _tick next needs to run (UINT64_MAX when no client). */
uint64_t bf_send_session_deadline(const bf_send_session *s);

/* Called right before encoding an AU at |now_ns|: 1 when it must be a
 * keyframe (adoption, or a request outside the throttle gap), and the debt
 * is paid; 0 otherwise. */
int bf_send_session_take_keyframe(bf_send_session *s, uint64_t now_ns);

/* Control mode: from now on only punches from |ip|'s IP are accepted, or
 * none when |ip| is NULL (the established control session's peer, set per
 * session). A client being streamed to from another IP is dropped (the
 * caller stops its stream). Returns 1 when streaming stopped, else 0. */
int bf_send_session_allow(bf_send_session *s, const bf_addr *ip);

/* The data plane is sealed (1) or clear (0) from now on: see "Sealed data
 * plane" above. The caller says so whenever it keys or unkeys it. */
void bf_send_session_sealed(bf_send_session *s, int on);

/* Ends streaming by the sender's choice (stream finished): the caller sends
 * BYE to s->peer. */
void bf_send_session_stop(bf_send_session *s);

#ifdef __cplusplus
}
#endif

#endif /* BF_SENDER_SESSION_H */
