/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The client's network side, the stream receiver (its objects and functions
 * are called the pump, bf_pump_*): the data socket and everything that
 * happens on it (docs/protocol.md): the punch and its keepalive, clock
 * pings, loss reports, keyframe requests and BYE going out; video shards, clock
 * pongs, BYE and FRAME_INFO (the sender's time per AU) coming in.
 *
 * Receive path: the data-plane channel (bildfunk/channel.h) owns the
 * socket, the receive ring (recvmmsg on Linux), the seal and the punch
 * schedule; it drops datagrams from any address but the sender's, opens
 * sealed ones in place, and hands each kind to this pump: video into the
 * reassembler, feedback (clock pongs, BYE) to the clock sync and the BYE
 * rule below. bf_pump_receive() drains a bounded number of batches.
 * Completed AUs and loss events are then taken with bf_pump_event().
 * Latency: none added; a batch is handled as soon as it is read.
 * Memory: the channel's ring (128 x 9217 bytes) and the reassembler's
 * pools, allocated at open; nothing per packet.
 *
 * Loss accounting: the sender numbers every packet (stream_seq); each window
 * closes the numbers up to the highest one seen at least the settle bound
 * ago (the recent reordering lateness x 3/2 + 2 ms, 0 on an in-order
 * network) and counts how many of them arrived (duplicates once), so a
 * datagram reordered across a window's end counts in its own window, not as
 * lost (seqtrack.h). The same numbers give reorders, duplicates and the
 * recent reordering lateness, which the decode gate uses as its jitter
 * allowance. Latency: a loss is reported up to the settle bound (at most
 * 250 ms) later than the window it happened in; none on an in-order
 * network.
 *
 * BYE: acted upon only when no fresh video (a shard the reassembler
 * accepts) arrives for BF_PUMP_BYE_GRACE_NS after it (a genuine sender stops
 * sending; stragglers that jitter reordered behind the BYE are still taken
 * and move the deadline). In sealed mode a BYE is authenticated: it is acted
 * upon BF_PUMP_BYE_CANCEL_NS after it at the latest. In clear direct mode
 * anyone who can send from the sender's address could forge one: fresh
 * video still arriving BF_PUMP_BYE_CANCEL_NS after the BYE means the sender
 * is streaming, and the BYE is ignored (counted in byes_ignored). Stale,
 * duplicate or contradicting datagrams count for neither, so a flood from
 * the spoofed address keeps no session. Latency of a genuine end: + 100 ms.
 *
 * Threads: one thread uses a pump. The clock is injected (|now| in the
 * config) so tests can drive time.
 */
#ifndef BF_CLIENT_STREAM_RX_H
#define BF_CLIENT_STREAM_RX_H

#include <bildfunk/channel.h>
#include <bildfunk/clocksync.h>
#include <bildfunk/feedback.h>
#include <bildfunk/punch.h>
#include <bildfunk/reassembler.h>
#include <bildfunk/seal.h>
#include <bildfunk/transport.h>

#include <poll.h>

#include <stddef.h>
#include <stdint.h>

/* Silence after which arriving video is treated as a new stream. */
#define BF_PUMP_RESUME_NS 1000000000ull
/* BYE: no fresh video for this long after it -> acted upon ... */
#define BF_PUMP_BYE_GRACE_NS 100000000ull
/* ... clear: video this long after it -> ignored (forged, or an old one);
 * sealed: acted upon this long after it at the latest */
#define BF_PUMP_BYE_CANCEL_NS 200000000ull

typedef struct bf_pump_config {
  const char *direct;    /* HOST[:PORT] of the sender */
  const char *bind;      /* local address, NULL = any, ephemeral port */
  uint32_t max_k;        /* K of the session (default 128) */
  uint64_t (*now)(void); /* the client clock, ns */
  /* Sealed data plane (spec §6), NULL = clear direct mode: the 32-byte
   * session secret (a control session's TLS exporter output, or the
   * diagnostic --seal-key-file). Every datagram from the sender is opened in
   * place in the receive ring (s2c) before it is classified, feedback is
   * sealed (c2s); the punch stays clear. Copied at open. */
  const uint8_t *seal_secret;
} bf_pump_config;

/* One loss-report window, also handed to the statistics. */
typedef struct bf_pump_window {
  uint64_t window_ns;
  uint64_t expected;  /* packets by stream_seq closed by this window */
  uint64_t received;  /* ... that arrived (duplicates once), plus credited */
  uint64_t credited;  /* late arrivals of earlier windows counted here */
  uint64_t uncredited; /* ... that found no room here (seqtrack.h) */
  uint64_t settle_ns; /* the reorder bound the window closed with */
  uint32_t open;      /* stream_seq numbers left for the next window */
  uint64_t frames_completed;
  uint64_t frames_lost;
  uint64_t shards_recovered;
  uint64_t late_shards;
} bf_pump_window;

typedef struct bf_pump_counters {
  uint64_t datagrams; /* everything read from the socket */
  uint64_t video;     /* pushed into the reassembler */
  uint64_t accepted;  /* ... and accepted */
  uint64_t control;   /* feedback datagrams from the sender */
  uint64_t foreign;   /* from another address: dropped */
  uint64_t garbage;   /* short or unknown control datagrams */
  uint64_t pongs;
  uint64_t frame_infos;  /* FRAME_INFO datagrams received */
  uint64_t byes;         /* BYE datagrams received */
  uint64_t byes_ignored; /* clear mode: BYEs cancelled by video after them */
  uint64_t feedback_sent;
  uint64_t feedback_dropped; /* send buffer full / transient error */
  uint64_t punches;
  uint64_t punches_rx; /* the sender's opening punches (protocol.md 7.1): not garbage */
  uint64_t batches;
  uint64_t gro;          /* 1: the socket is read with UDP GRO */
  uint64_t rx_coalesced; /* GRO reads that carried more than one datagram */
  uint64_t resumes; /* video came back after BF_PUMP_RESUME_NS of silence */
  uint64_t sealed;  /* feedback datagrams sealed */
  uint64_t seal_failed;
  uint64_t reordered;           /* video datagrams after a later-numbered one */
  uint64_t duplicates;          /* video datagrams whose number was seen */
  uint64_t reorder_late_max_ns; /* the latest a reordered datagram came */
  uint64_t late_after_window;   /* first copies that came after their loss
                                   window closed (later than the bound) */
} bf_pump_counters;

typedef struct bf_pump bf_pump;

/* Resolves cfg->direct, binds, and starts punching at cfg->now(). The
 * socket is read with UDP GRO where the kernel has it, with recvmmsg where
 * it has not or BILDFUNK_NO_GRO is set in the environment (the fallback,
 * forced: what tests and benchmarks compare). On error returns a negative
 * errno with a one-line reason in |err|. */
int bf_pump_open(const bf_pump_config *cfg, bf_pump **out, char *err, size_t errcap);

/* The same over an existing transport (tests: a loopback pair); |t| is
 * owned by the pump from then on and its peer must already be set. */
int bf_pump_open_transport(const bf_pump_config *cfg, bf_transport *t, bf_pump **out, char *err,
                           size_t errcap);

/* A new control session for the same stream (--reconnect): the data plane
 * goes to |data_addr| (HOST:PORT), sealed with the new 32-byte |secret|,
 * the punches start over, and a BYE of the old session is forgotten. The
 * socket, the statistics and the reassembler stay (video after the outage
 * is a resume: see BF_PUMP_RESUME_NS). 0, or a negative errno with the
 * reason in |err|. */
int bf_pump_rekey(bf_pump *p, const uint8_t *secret, const char *data_addr, char *err,
                  size_t errcap);

/* Sends BYE (3 times) unless |send_bye| is 0, then frees everything. */
void bf_pump_close(bf_pump **p, int send_bye);

/* Reads up to |max_batches| batches. Returns datagrams read (0 = nothing
 * was pending) or a negative errno for a socket failure. */
int bf_pump_receive(bf_pump *p, size_t max_batches);

/* Next reassembler event (see reassembler.h); release frames with
 * bf_pump_release(). Returns 1 or 0. */
int bf_pump_event(bf_pump *p, bf_event *ev);
void bf_pump_release(bf_pump *p, bf_frame *f);
/* Skip to live: the reassembler forgets its index window. */
void bf_pump_reset_reassembly(bf_pump *p);

/* Sends what is due at |now_ns|: punches, clock pings, the loss report.
 * Returns 1 and fills |win| when a loss window closed, else 0. */
int bf_pump_tick(bf_pump *p, uint64_t now_ns, bf_pump_window *win);
/* When bf_pump_tick next has work. */
uint64_t bf_pump_next_due(const bf_pump *p);

/* Sends one feedback datagram to the sender. 1 sent, 0 dropped, <0 error. */
int bf_pump_send_feedback(bf_pump *p, const bf_feedback *fb);

/* Input (input/forward.h): the sender's input datagrams (0xB0, from the
 * sender's address, opened) go to |fn| with |user| from now on (NULL: none,
 * counted as garbage as before); |d| is valid during the call. */
typedef void (*bf_pump_input_fn)(void *user, const uint8_t *d, size_t len, uint64_t now_ns);
void bf_pump_on_input(bf_pump *p, bf_pump_input_fn fn, void *user);
/* One input datagram to the sender (sealed in sealed mode). 1 sent, 0
 * dropped (counted by the channel), negative errno. */
int bf_pump_send_input(bf_pump *p, const uint8_t *d, size_t len);

/* The data socket's descriptor for the loop to poll (POLLIN), or -1 when
 * the transport has none (a loopback pair in tests: poll again soon). */
int bf_pump_fd(const bf_pump *p);

/* Liveness: the last time valid video, a pong or a BYE arrived (0 = never),
 * and whether the sender said BYE and it was believed (see BYE above;
 * cleared, pending one included, by bf_pump_clear_bye). */
uint64_t bf_pump_last_data_ns(const bf_pump *p);
int bf_pump_bye(const bf_pump *p, uint32_t *reason);
void bf_pump_clear_bye(bf_pump *p);

/* FRAME_INFO: the sender's time from capture to the last packet of AU
 * |frame_index| handed to its kernel, in µs, into |host_us|: 1, or 0 when
 * it did not say (an older sender, the datagram lost, or more than
 * BF_PUMP_FRAME_INFOS AUs ago: the ring of the last ones, overwritten). */
#define BF_PUMP_FRAME_INFOS 256u
int bf_pump_frame_info(const bf_pump *p, uint32_t frame_index, uint32_t *host_us);

/* Recent reordering lateness of the video datagrams, ns (0 while the
 * network keeps order): see seqtrack.h. */
uint64_t bf_pump_reorder_ns(bf_pump *p, uint64_t now_ns);

const bf_clocksync *bf_pump_clock(const bf_pump *p);
/* Sealed mode: copies the opener's drop counters and returns 1; 0 (and
 * zeros) in clear direct mode. */
int bf_pump_seal_stats(const bf_pump *p, bf_opener_stats *st);
void bf_pump_counters_get(const bf_pump *p, bf_pump_counters *c);
void bf_pump_reassembler_stats(const bf_pump *p, bf_reassembler_stats *s);
/* "127.0.0.1:47998" */
const char *bf_pump_peer_name(const bf_pump *p);
bf_transport *bf_pump_transport(bf_pump *p);
/* The data-plane channel, for the other kinds' handlers (the sound). */
bf_channel *bf_pump_channel(bf_pump *p);

#endif
