/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Pacer (sans-I/O): decides when each packet of an access unit may leave, so
 * a frame's packets go out in a few bursts spread over part of the frame
 * interval instead of one line-rate blast, and the long-run rate never
 * exceeds a cap. A downstream 1 GbE or Wi-Fi hop with a shallow buffer then
 * sees bursts it can absorb.
 *
 * Schedule of one AU of n packets: b = ceil(n / burst_max) bursts of nearly
 * equal size; burst i is due at t0 + i * spread / b, where t0 is when the AU
 * was handed in and spread = spread_permille of the frame interval. A single
 * burst (small AUs: the common case) leaves at once, so pacing costs a small
 * frame no latency. Independently, a rate cap (token bucket one burst deep)
 * delays a burst until the bytes of the previous ones have drained at
 * rate_cap_bps; this carries over from one AU to the next.
 *
 * Latency cost: the last burst of a multi-burst AU leaves up to
 * spread * (b - 1) / b after the first, and later if the cap binds.
 * No clocks inside: time is a uint64_t ns (any monotonic clock) passed in.
 */
#ifndef BF_SENDER_PACER_H
#define BF_SENDER_PACER_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bf_pacer_config {
  uint64_t rate_cap_bps;    /* bits per second on the wire (UDP payload), 0 = no cap */
  uint32_t burst_max;       /* most packets per burst (one send call), >= 1 */
  uint32_t spread_permille; /* part of the frame interval bursts spread over, 0..1000 */
} bf_pacer_config;

/* Defaults: 800 Mbit/s (80 % of 1 GbE), bursts of at most 32 packets spread
 * over a quarter of the frame interval. */
void bf_pacer_config_default(bf_pacer_config *cfg);

typedef struct bf_pacer {
  bf_pacer_config cfg;
  uint64_t t0_ns;        /* when the current AU was handed in */
  uint64_t spread_ns;    /* spread window of the current AU */
  uint32_t packets;      /* packets of the current AU */
  uint32_t packet_bytes; /* size of each */
  uint32_t bursts;       /* bursts planned for it */
  uint32_t burst_done;   /* bursts released so far */
  uint32_t sent;         /* packets released so far */
  uint64_t cap_free_ns;  /* the cap allows the next burst from here on */
  uint64_t cap_waits;    /* bursts the rate cap delayed (statistics) */
} bf_pacer;

/* Sets up |p| (caller-owned storage) with |cfg|. Returns 0 or -EINVAL
 * (burst_max 0 or spread above 1000). */
int bf_pacer_init(bf_pacer *p, const bf_pacer_config *cfg);

/* Starts an AU of |packets| packets of |packet_bytes| each at |now_ns| for a
 * frame interval of |interval_ns|. Anything left of the previous AU is
 * forgotten. */
void bf_pacer_begin(bf_pacer *p, uint64_t now_ns, uint64_t interval_ns, uint32_t packets,
                    uint32_t packet_bytes);

/* How many packets may leave now. 0 means wait: *next_ns is when to ask
 * again, or UINT64_MAX when the AU is done. */
uint32_t bf_pacer_poll(const bf_pacer *p, uint64_t now_ns, uint64_t *next_ns);

/* Records that |n| packets (at most what poll allowed) left at |now_ns|.
 * Packets that the socket dropped count as sent: they took their turn. */
void bf_pacer_sent(bf_pacer *p, uint64_t now_ns, uint32_t n);

/* Changes the rate cap to |rate_cap_bps| (0 = none) and the burst size to
 * |burst_max| packets (0 leaves it) while running: the cap applies from the
 * next burst, the burst size from the next AU (its bursts are planned when
 * it begins). The rate controller uses it to pace near its budget after a
 * decrease, so that a keyframe does not hit a slow link's queue at once. */
void bf_pacer_set_cap(bf_pacer *p, uint64_t rate_cap_bps, uint32_t burst_max);

/* 1 while the current AU has packets left. */
static inline int bf_pacer_busy(const bf_pacer *p) {
  return p->sent < p->packets;
}

#ifdef __cplusplus
}
#endif

#endif /* BF_SENDER_PACER_H */
