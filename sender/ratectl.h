/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Sender rate controller (sans-I/O): turns the client's LOSS_REPORTs
 * (bildfunk/feedback.h, one per ~750 ms window) into a TOTAL send budget in
 * bit/s on the wire -- video, FEC parity, bildfunk headers and IP/UDP
 * headers together -- and from it the bitrate the video encoder may use.
 *
 * Why the total: adaptive FEC (bildfunk/fecctl.h) raises parity when loss
 * rises. On a link that is too slow that loss is congestion, and more parity
 * on top of the same video would only deepen it. So the budget bounds the
 * sum, and the encoder gets what is left after parity and headers:
 *   encoder = the largest AU a frame interval's share of the budget can
 *   carry, x 8 x frame rate, capped at the configured bitrate.
 * "Can carry" follows the packetizer exactly: ceil(AU / S) data shards in
 * blocks of at most K, each block with bf_fec_recovery_count() parity
 * (never fewer than 2 when FEC is on), each datagram S + headers. The
 * simple split budget / (1 + FEC%) is wrong at low rates: a 1 KB picture in
 * 1 KB shards costs 3 datagrams, not 1.1, so at 60 fps no stream with FEC
 * takes less than 180 datagrams/s (1.57 Mbit/s at S = 1024). Below that
 * floor the encoder stays at one shard a picture and the budget cannot be
 * met by the encoder alone (|encoder_min_bps| bounds it too); the pacing
 * (send_adapt.c) then holds the wire rate near the budget. The AU aimed at is
 * 7/8 of the last shard, so pictures a little above the mean do not spill
 * into another shard and its parity.
 * At the ceiling the encoder keeps its configured bitrate: no loss, no
 * change. (bf_ratectl_encoder_bps.)
 *
 * Scheme: the loss-based controller of WebRTC's send-side bandwidth
 * estimation (the classic one, without its delay-based half), chosen
 * because it needs nothing but the loss reports this protocol already has,
 * it is well known and each step can be explained from one report:
 *  - loss < 2 %:  budget x 1.05 (one window, 750 ms), up to |max_bps|;
 *  - loss > 10 %: budget = base x (1 - loss / 2), at least |min_bps|;
 *  - otherwise:   hold.
 * Four changes, all from what the sender and the reports already tell:
 *  - The base of a decrease is the smallest of the budget, the rate the
 *    sender really sent in the window, and the rate the client says it
 *    received (packets_received x datagram bytes / window). An encoder often
 *    uses far less than its budget (easy content), so cutting the unused
 *    budget by 5 % per window would take many seconds to reach the link;
 *    the received rate is the link's own figure of what it carried.
 *  - After a decrease, the received rate of that congested window is the
 *    link's measured capacity: increases stop at 95 % of it for
 *    |plateau_windows| (8, 6 s) clean windows, then probe beyond it at
 *    +5 % a window again (the link may have improved). Without this the
 *    budget climbs straight back over the link and the loss returns.
 *  - Random loss is FEC's job, not the rate's: a single lossy window (> 10 %)
 *    right after a clean one (<= 2 %) is taken for a random burst and only
 *    held; a decrease needs two lossy windows in a row (congestion persists
 *    while the sender sends too much) or one window above |severe_ppm| (25 %).
 *  - Every cut is checked at the next report: congestion loss falls when
 *    the sender sends less, random loss does not. If the sender did send at
 *    least 10 % less, two predictions of the new window's loss are compared
 *    with what it reports: congestion predicts 1 - (rate received before
 *    the cut) / (rate sent now), at least 0; random loss predicts the loss
 *    that caused the cut (the mean of its two windows). When random is the
 *    closer one, the cut is undone and that loss level is learned as
 *    random: the decrease thresholds become at least 1.25 x it until a
 *    clean window (< 2 %) clears it. Without this,
 *    10 % random loss (windows straddling the threshold) ratcheted the
 *    budget to the floor in 20 s (measured: 7.8 -> 0.41 Mbit/s in fire_loss10).
 * Trade-off, honestly: a loss-only controller cannot tell congestion from
 * random loss from one window. Random loss above 10 % costs one cut and its
 * undo (a window at the lower rate) each time it rises above what was
 * learned; congestion that starts on a link that already has heavy random
 * loss must exceed 1.25 x that loss before it is acted on; and an encoder
 * that cannot send less (already at one shard a picture) gives no verdict,
 * so its cuts stand. The floor (|min_bps|) bounds the damage and FEC still
 * repairs. Loss between 2 % and
 * 10 % holds the budget wherever it is, also a little above a link's rate
 * (the queue then drops a few per cent, which FEC repairs); without a delay
 * signal from the client (none on the wire today) it cannot do better.
 *
 * Reports that say nothing (no packet received, none missing) are ignored.
 * Caller-owned state, no allocation, O(1) per report. Not thread-safe.
 */
#ifndef BF_SENDER_RATECTL_H
#define BF_SENDER_RATECTL_H

#include <bildfunk/feedback.h>

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bf_ratectl_config {
  uint64_t max_bps;            /* ceiling and start: what the configured bitrate costs, > 0 */
  uint64_t min_bps;            /* floor: 0 = max_bps / 20, at least 100 kbit/s */
  uint32_t low_ppm;            /* below: increase (20000 = 2 %) */
  uint32_t high_ppm;           /* above: decrease (100000 = 10 %) */
  uint32_t severe_ppm;         /* above: decrease at once (250000 = 25 %) */
  uint32_t increase_permille;  /* per window: 50 = +5 % */
  uint32_t datagram_bytes;     /* bytes on the wire per video datagram (received-rate estimate) */
  uint32_t shard_bytes;        /* S */
  uint32_t max_k;              /* K: data shards per FEC block */
  uint32_t header_bytes;       /* per datagram: bildfunk + IP/UDP headers */
  uint32_t fps_num, fps_den;   /* frame rate (AU per second) */
  uint64_t encoder_cap_bps;    /* the configured encoder bitrate (the encoder's ceiling) */
  uint64_t encoder_min_bps;    /* the encoder's floor: 0 = cap / 20, at least 50 kbit/s */
  uint64_t window_ns;          /* nominal report window (when a report says 0): 750 ms */
  uint32_t plateau_permille;   /* increases stop at this share of the measured capacity: 950 */
  uint32_t plateau_windows;    /* ... for this many windows after a decrease: 8 */
} bf_ratectl_config;

/* Defaults for an encoder configured at |bitrate| with |fec_percent| parity
 * (the start value), shards of |shard_bytes| in blocks of |max_k|,
 * |header_bytes| of headers per datagram and |fps_num|/|fps_den| frames a
 * second. The ceiling is what that bitrate costs on the wire: the larger of
 * bf_ratectl_total_bps() and the packetized cost of its average AU. */
void bf_ratectl_config_default(bf_ratectl_config *cfg, uint64_t bitrate, uint32_t fec_percent,
                               uint32_t shard_bytes, uint32_t max_k, uint32_t header_bytes,
                               uint32_t fps_num, uint32_t fps_den);

typedef struct bf_ratectl_stats {
  uint64_t reports;   /* reports used */
  uint64_t ignored;   /* reports that said nothing, or were not LOSS_REPORTs */
  uint64_t increases; /* budget raised */
  uint64_t plateaued; /* clean windows held at the measured capacity */
  uint64_t undone;    /* cuts undone: the loss did not fall (random loss) */
  uint64_t decreases; /* budget lowered */
  uint64_t held;      /* lossy windows (> high) held as a random burst */
  uint64_t min_bps;   /* lowest budget so far */
  uint64_t max_bps;   /* highest budget so far */
} bf_ratectl_stats;

typedef struct bf_ratectl {
  bf_ratectl_config cfg;
  uint64_t budget_bps;    /* the total budget now */
  uint64_t last_ns;       /* arrival of the previous report */
  uint64_t last_sent;     /* caller's byte counter at the previous report */
  uint64_t capacity_bps;  /* received rate of the last congested window, 0 = none */
  uint32_t plateau_left;  /* windows the plateau below capacity_bps still holds */
  int cut_pending;        /* a cut awaits its verdict at the next report */
  uint64_t cut_from_bps;  /* the budget before it */
  uint32_t cut_loss_ppm;  /* the loss that caused it */
  uint64_t cut_sent_bps;  /* the rate sent before it */
  uint64_t cut_recv_bps;  /* the rate received before it */
  uint32_t random_ppm;    /* loss learned as random (cuts did not lower it), 0 = none */
  int have_last;          /* a report has arrived since init/reset */
  int last_clean;         /* the previous report had loss <= low_ppm */
  uint32_t last_loss_ppm; /* of the previous report */
  uint64_t last_sent_bps; /* sent rate over the last window (0 = unknown) */
  uint64_t last_recv_bps; /* received rate the last report implies */
  bf_ratectl_stats stats;
} bf_ratectl;

/* Sets up |c| (caller-owned) with |cfg| (values out of range are clamped).
 * The budget starts at max_bps. */
void bf_ratectl_init(bf_ratectl *c, const bf_ratectl_config *cfg);

/* A new client: back to max_bps. Keeps configuration and statistics. */
void bf_ratectl_reset(bf_ratectl *c);

/* Takes one LOSS_REPORT that arrived at |now_ns| (monotonic). |sent_bytes|
 * is the caller's running total of bytes put on the wire (video datagrams
 * with IP/UDP headers); the difference to the previous report's value over
 * the time between them is the rate really sent. Returns +1 when the budget
 * rose, -1 when it fell, 0 when it held (or the report was ignored), and
 * -EINVAL when |fb| is not a LOSS_REPORT. */
int bf_ratectl_on_report(bf_ratectl *c, const bf_feedback *fb, uint64_t now_ns,
                         uint64_t sent_bytes);

/* The total budget now (bit/s on the wire). */
static inline uint64_t bf_ratectl_budget(const bf_ratectl *c) {
  return c->budget_bps;
}

/* The encoder's share of the budget now with |fec_percent| parity (the
 * percentage the next AUs get), see the top of this file; within
 * [encoder_min_bps, encoder_cap_bps]. O(log(datagrams per frame)). */
uint64_t bf_ratectl_encoder_bps(const bf_ratectl *c, uint32_t fec_percent);

/* Pacing for the budget now: below the ceiling, a cap of twice the budget
 * and bursts of at most 4 ms of that cap (at least one datagram of
 * |datagram_bytes|), so a keyframe does not land in a slow link's queue at
 * once; never looser than the configured |cap_bps| (0 = none) and |burst|.
 * At the ceiling: the configured values. Writes |*cap_out| and |*burst_out|. */
void bf_ratectl_pacing(const bf_ratectl *c, uint64_t cap_bps, uint32_t burst,
                       uint32_t datagram_bytes, uint64_t *cap_out, uint32_t *burst_out);

/* The total rate the configured encoder bitrate |bitrate| needs with
 * |fec_percent| parity, nominally: bitrate x (1 + fec/100) x (S + H) / S
 * (the ceiling of the budget). */
uint64_t bf_ratectl_total_bps(uint64_t bitrate, uint32_t shard_bytes, uint32_t header_bytes,
                              uint32_t fec_percent);

#ifdef __cplusplus
}
#endif

#endif /* BF_SENDER_RATECTL_H */
