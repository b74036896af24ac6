/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Network impairment engine for bildfunk-netsim: one direction of a link as a
 * sans-I/O scheduler. The caller pushes each datagram with its arrival time
 * and polls with the current time for the datagrams that are due; the engine
 * decides, from a seed and therefore reproducibly, what happens to each:
 *
 *   MTU cap -> random loss or Gilbert-Elliott burst loss -> duplication ->
 *   rate limit with a bounded (tail-drop) queue -> delay + jitter
 *   (order-preserving, or with --reorder independent so packets overtake).
 *
 * Every decision stream (loss, burst, duplication, jitter) has its own PRNG
 * derived from the seed, so turning one impairment on or off does not change
 * the decisions of another, and the same seed with the same sequence of
 * (length, arrival time) gives the same verdicts and due times.
 *
 * Storage: a slab of |max_queue| slots of BF_IMPAIR_SLOT_BYTES each plus a
 * binary min-heap of due times, all allocated once by bf_impair_init; a push
 * copies the datagram into a free slot (no allocation per packet). A datagram
 * that finds no free slot is dropped and counted as |drop_overflow| (raise
 * max_queue), distinct from the modelled queue's tail drop (|drop_queue|).
 *
 * Not here: sockets, clocks, threads, addresses — see netsim.c.
 */
#ifndef BF_NETSIM_IMPAIR_H
#define BF_NETSIM_IMPAIR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Largest datagram the engine carries (UDP payload, = BF_MAX_DATAGRAM) and
 * the slot size (one byte more, as a receive buffer needs). */
#define BF_IMPAIR_MAX_DGRAM 9216u
#define BF_IMPAIR_SLOT_BYTES 9217u
#define BF_IMPAIR_DEFAULT_MAX_QUEUE 4096u
#define BF_IMPAIR_MAX_MAX_QUEUE (1u << 20)

/* One direction's impairments. Zero everywhere = a transparent link (every
 * datagram due the moment it arrives). Fill with bf_impair_config_default. */
typedef struct bf_impair_config {
  double loss_pct;    /* random loss, 0..100; with burst_mean > 0 the
                         average loss of the Gilbert-Elliott model instead */
  double burst_mean;  /* > 0: Gilbert-Elliott with this mean burst length
                         (packets, >= 1): r = 1/burst_mean,
                         p = r * loss / (1 - loss) */
  double ge_p_pct;    /* explicit Gilbert-Elliott: P(good -> bad) per packet, % */
  double ge_r_pct;    /* P(bad -> good) per packet, %; every packet in the bad
                         state is lost. ge_p_pct > 0 selects this model; it
                         excludes loss_pct and burst_mean. */
  double dup_pct;     /* probability that a datagram is sent twice, % */
  uint64_t delay_ns;  /* fixed one-way delay */
  uint64_t jitter_ns; /* uniform in [-jitter, +jitter] added to the delay
                         (the sum is clamped at 0) */
  int reorder;        /* 1: each datagram's jitter is independent, so later
                         ones may overtake; 0: a datagram is never due before
                         the one pushed ahead of it (jitter preserves order) */
  double rate_mbit;   /* > 0: serialise at this rate (UDP payload bits) */
  uint64_t queue_ns;  /* with a rate: a datagram that would wait longer than
                         this behind the ones already queued is tail-dropped.
                         Latency cost: up to queue_ns of queueing delay. */
  uint32_t mtu;       /* > 0: datagrams longer than this are dropped */
  uint32_t max_queue; /* slots (datagrams held at once); 0 = default */
  uint64_t seed;
} bf_impair_config;

/* Totals since init. in = out + queued + drops - duplicated at every moment
 * (counting datagrams handed out by poll but not yet released as out). */
/* The smallest datagram bildfunk's classifier calls video (docs/protocol.md
 * §8.1: a 40-byte header and a 512-byte shard); sealing only adds to it. */
#define BF_IMPAIR_VIDEO_MIN 552u

typedef struct bf_impair_stats {
  uint64_t in_packets, in_bytes;   /* pushed */
  uint64_t out_packets, out_bytes; /* handed out by poll */
  uint64_t drop_mtu;               /* longer than mtu */
  uint64_t drop_loss;              /* random loss */
  uint64_t drop_burst;             /* Gilbert-Elliott bad state */
  uint64_t drop_queue;             /* rate-limit queue full (tail drop) */
  uint64_t drop_overflow;          /* no free slot (max_queue reached) */
  uint64_t duplicated;             /* extra copies admitted (a copy that is
                                      then tail-dropped counts here and in
                                      drop_queue) */
  uint64_t duplicated_video;       /* ... of BF_IMPAIR_VIDEO_MIN bytes or more */
  uint64_t reordered;              /* handed out after a datagram pushed later */
  uint64_t reordered_video;        /* of BF_IMPAIR_VIDEO_MIN bytes or more, after such a
                                      datagram pushed later: what bildfunk's client counts
                                      (its feedback and FRAME_INFO are smaller) */
  uint64_t delay_sum_ns;           /* scheduled hold time (due - arrival) */
  uint64_t delay_max_ns;           /*   of the datagrams handed out */
  uint64_t late_max_ns;            /* poll time - due time, worst case: how
                                      late the caller's timer was */
  uint64_t bursts;                 /* good -> bad transitions that lost a packet */
  uint64_t queued;                 /* datagrams held now */
  uint64_t queued_max;             /* high-water mark */
} bf_impair_stats;

typedef struct bf_impair bf_impair;

/* A datagram handed out by bf_impair_poll. |data| points into the engine's
 * slot and stays valid until bf_impair_release(|pkt|); the slot is not reused
 * before that. */
typedef struct bf_impair_pkt {
  const uint8_t *data;
  size_t len;
  uint64_t arrival_ns; /* when it was pushed */
  uint64_t due_ns;     /* when it was scheduled to leave */
  uint64_t seq;        /* push order (a duplicate has its original's) */
  uint32_t slot;
  int duplicate; /* 1 for the extra copy */
} bf_impair_pkt;

/* Zero impairments, default max_queue, seed 1. */
void bf_impair_config_default(bf_impair_config *cfg);

/* Checks |cfg|: returns NULL when valid, else a static message naming the
 * offending field. */
const char *bf_impair_config_check(const bf_impair_config *cfg);

/* Allocates an engine for |cfg| (copied) into |*out|. Returns 0, -EINVAL
 * (bf_impair_config_check failed) or -ENOMEM. */
int bf_impair_new(const bf_impair_config *cfg, bf_impair **out);
/* Frees |*s| (NULL is fine), including datagrams still held, and clears the
 * caller's pointer. */
void bf_impair_del(bf_impair **s);

/* Offers one datagram that arrived at |now_ns| (times must not go backwards
 * between calls). The bytes are copied. Returns how many copies were
 * scheduled (0 = dropped, see the stats for why; 1; 2 with a duplicate), or
 * -EMSGSIZE when |len| > BF_IMPAIR_MAX_DGRAM (not counted). */
int bf_impair_push(bf_impair *s, const uint8_t *data, size_t len, uint64_t now_ns);

/* Takes the datagram due earliest if it is due at |now_ns|: returns 1 and
 * fills |out| (release it with bf_impair_release), or 0 when none is due. */
int bf_impair_poll(bf_impair *s, uint64_t now_ns, bf_impair_pkt *out);
void bf_impair_release(bf_impair *s, const bf_impair_pkt *pkt);

/* Due time of the next datagram, UINT64_MAX when none is held. */
uint64_t bf_impair_next_due(const bf_impair *s);

const bf_impair_stats *bf_impair_stats_get(const bf_impair *s);
const bf_impair_config *bf_impair_config_get(const bf_impair *s);

/* 1 when |cfg| changes nothing (no impairment configured). */
int bf_impair_config_is_transparent(const bf_impair_config *cfg);

#ifdef __cplusplus
}
#endif

#endif /* BF_NETSIM_IMPAIR_H */
