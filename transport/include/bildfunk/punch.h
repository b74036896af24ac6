/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Data punch (spec §7): how the client's NAT learns to let the sender's
 * video in, and how the sender learns where to send it.
 *
 * Client: sends the 8 bytes "PFpunch1" from its data socket to the sender's
 * data port 15 times 200 ms apart, then every 2 s as a NAT keepalive until
 * stopped. Transient send errors do not stop it.
 *
 * Sender: waits up to 2.5 s for a punch whose source IP is the expected one
 * (the authenticated control-plane peer), or any IP on an allow-list, or any
 * IP at all in direct mode; then sends to the observed source address and
 * port. With no punch by the deadline it falls back to the address the client
 * reported. Later punches from an accepted IP refresh the path; one from a new
 * address (a changed source port after a NAT rebinding) re-targets the stream,
 * also after a fallback. A punch is never stream data.
 *
 * Both state machines are sans-I/O: no sockets, threads or clocks; time is a
 * monotonic nanosecond value passed in. bf_punch_send is the only helper that
 * touches a transport (one bf_send of the 8 bytes).
 */
#ifndef BILDFUNK_PUNCH_H
#define BILDFUNK_PUNCH_H

#include <bildfunk/feedback.h>
#include <bildfunk/transport.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BF_PUNCH_FAST_COUNT 15u
#define BF_PUNCH_FAST_INTERVAL_NS 200000000ull /* 200 ms */
#define BF_PUNCH_KEEPALIVE_NS 2000000000ull    /* 2 s */
#define BF_PUNCH_SENDER_WAIT_NS 2500000000ull  /* 2.5 s */

/* ---- client ------------------------------------------------------------ */

typedef struct bf_punch_client {
  uint64_t next_ns; /* when the next punch is due */
  uint32_t sent;    /* punches due so far (the caller sent them) */
  int stopped;
  int keepalive; /* 0 = stop after the 15 fast punches */
} bf_punch_client;

/* Starts the schedule: the first punch is due at |now_ns|. With |keepalive|
 * 0 the schedule ends after the fast phase (tests; one-shot probing). */
void bf_punch_client_init(bf_punch_client *c, uint64_t now_ns, int keepalive);

/* Returns 1 when a punch is due at |now_ns| (the caller sends it, e.g. with
 * bf_punch_send) and advances the schedule; 0 otherwise. A caller that was
 * late gets one punch, not a burst of catch-up punches. */
int bf_punch_client_due(bf_punch_client *c, uint64_t now_ns);

/* When the next punch is due (UINT64_MAX once stopped or finished), for the
 * caller's wait timeout. */
uint64_t bf_punch_client_next(const bf_punch_client *c);

void bf_punch_client_stop(bf_punch_client *c);

/* Sends one punch on |t| to its peer. Returns bf_send's result: 1 sent, 0
 * dropped (transient: keep going), negative errno for a real failure. */
int bf_punch_send(bf_transport *t);

/* ---- sender ------------------------------------------------------------ */

typedef enum bf_punch_state {
  BF_PUNCH_WAITING = 0, /* no target yet */
  BF_PUNCH_ADOPTED,     /* sending to the observed source of a punch */
  BF_PUNCH_FALLBACK,    /* no punch in time: sending to the reported address */
} bf_punch_state;

/* What bf_punch_sender_on_datagram made of a datagram. */
typedef enum bf_punch_event {
  BF_PUNCH_NOT_PUNCH = 0, /* not a punch: the caller handles it as usual */
  BF_PUNCH_REJECTED,      /* a punch from an IP that is not accepted: ignore */
  BF_PUNCH_REFRESH,       /* a punch from the current target: path refreshed */
  BF_PUNCH_RETARGET,      /* the target is new: bf_transport_set_peer(target) */
} bf_punch_event;

typedef struct bf_punch_sender_config {
  bf_addr expected;     /* IP the punch must come from (port ignored);
                           len 0 = accept any IP (direct mode) unless
                           |allow| is given */
  const bf_addr *allow; /* direct mode: accept any of these IPs (copied up
                           to BF_PUNCH_MAX_ALLOW) */
  size_t n_allow;
  bf_addr reported; /* the client's own idea of its address (fallback);
                       len 0 = none: stay waiting for a punch */
  uint64_t wait_ns; /* 0 = BF_PUNCH_SENDER_WAIT_NS */
} bf_punch_sender_config;

#define BF_PUNCH_MAX_ALLOW 8u

typedef struct bf_punch_sender {
  bf_punch_state state;
  bf_addr expected;
  bf_addr allow[BF_PUNCH_MAX_ALLOW];
  size_t n_allow;
  bf_addr reported;
  bf_addr target; /* valid unless WAITING */
  uint64_t deadline_ns;
  uint64_t last_punch_ns; /* arrival of the last accepted punch */
  uint64_t punches;       /* accepted punches */
  uint64_t rejected;      /* punches from IPs not accepted */
  uint64_t retargets;     /* target changes after the first adoption */
} bf_punch_sender;

/* Starts waiting at |now_ns|. Returns 0, or -EINVAL for n_allow too large. */
int bf_punch_sender_init(bf_punch_sender *s, const bf_punch_sender_config *cfg, uint64_t now_ns);

/* Feed every datagram received on the data socket while the session runs. */
bf_punch_event bf_punch_sender_on_datagram(bf_punch_sender *s, const uint8_t *d, size_t len,
                                           const bf_addr *from, uint64_t now_ns);

/* Call while waiting (at least at the deadline). Returns 1 when the state
 * changed to FALLBACK at this call (the caller sets the peer to the target),
 * else 0. */
int bf_punch_sender_poll(bf_punch_sender *s, uint64_t now_ns);

/* Where to send, or NULL while waiting. */
const bf_addr *bf_punch_sender_target(const bf_punch_sender *s);

/* The waiting deadline (for the caller's wait timeout). */
uint64_t bf_punch_sender_deadline(const bf_punch_sender *s);

/* ---- sender: opening punches (docs/protocol.md 7.1) -------------------- */

/* Two-sided hole punching for the direct path: behind a NAT of its own,
 * the sender's router drops the client's punches until the sender has sent
 * toward the client. So when a control session begins the sender sends the
 * same 8 clear punch bytes from its data socket to the client's candidate
 * data addresses (the control peer's IP with the client's reported data
 * port — what a port-preserving NAT keeps —, and the reported address
 * itself), every BF_PUNCH_OPEN_INTERVAL_NS until BF_PUNCH_OPEN_SPAN_NS after
 * the start, or until the caller stops it (the first accepted punch, a
 * relay taking the path, the session's end). Nothing secret is in them; a
 * spec-conforming client drops 8 bytes as too short for video (spec §4). */

#define BF_PUNCH_OPEN_INTERVAL_NS 200000000ull /* 200 ms */
#define BF_PUNCH_OPEN_SPAN_NS 3000000000ull    /* 3 s after the start */
#define BF_PUNCH_OPEN_MAX 2u                   /* candidate addresses */

typedef struct bf_punch_opener {
  bf_addr cand[BF_PUNCH_OPEN_MAX];
  size_t n_cand;
  uint64_t end_ns;  /* no punch is due at or after this */
  uint64_t next_ns; /* the next round is due (with candidates) */
  int active;       /* started and not stopped */
  uint64_t rounds;  /* rounds handed out (each: every candidate once) */
} bf_punch_opener;

/* Starts the window at |now_ns| (the session began): no candidate yet. */
void bf_punch_opener_start(bf_punch_opener *o, uint64_t now_ns);
/* Adds candidate |a| (port != 0; a duplicate is ignored). A round is due at
 * once when the window is open. 1 added, 0 duplicate or window over,
 * -ENOSPC (BF_PUNCH_OPEN_MAX kept), -EINVAL (no address or port, or not a
 * unicast address: unspecified, multicast, 255.255.255.255). */
int bf_punch_opener_add(bf_punch_opener *o, const bf_addr *a, uint64_t now_ns);
/* When a round is due at |now_ns|: returns how many candidates (|*cand|
 * points at them; the caller sends one punch to each) and advances the
 * schedule (a late caller gets one round, no catch-up). 0 otherwise. */
size_t bf_punch_opener_due(bf_punch_opener *o, uint64_t now_ns, const bf_addr **cand);
/* When _due next has work (UINT64_MAX: never). */
uint64_t bf_punch_opener_next(const bf_punch_opener *o);
void bf_punch_opener_stop(bf_punch_opener *o);

#ifdef __cplusplus
}
#endif

#endif /* BILDFUNK_PUNCH_H */
