/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Clock sync (client side, sans-I/O): estimates the offset between the
 * sender's clock and ours from CLOCK_PING / CLOCK_PONG round trips
 * (bildfunk/feedback.h), NTP style, keeping the sample with the smallest
 * round-trip time because it bounds the asymmetry error best.
 *
 * For one sample: t1 = our clock when the ping left, t2 = sender clock when it
 * arrived, t3 = sender clock when the pong left, t4 = our clock when the pong
 * arrived.  offset = ((t2 - t1) + (t3 - t4)) / 2 is sender minus client,
 * rtt = (t4 - t1) - (t3 - t2). A sender time T maps to our clock as T - offset.
 *
 * Schedule: a round of |burst| pings |spacing_ns| apart starts at once, then
 * one every |resync_ns| (every second while no pong has been answered). The
 * first answered ping gives an estimate at once; better samples of the first
 * round replace it. Every round's min-RTT sample is adopted at the round's end
 * when its RTT is at most max(2 ms, 1.5 x the lowest RTT ever seen); after 3
 * rejected rounds in a row the best sample of that streak is adopted anyway
 * (the path got slower for good).
 *
 * Not here: sockets, clocks, threads. Every time is a uint64_t nanosecond
 * value of one clock the caller chooses (the client passes its realtime
 * clock, the clock the sender's pts and t2/t3 are in); the same clock must be
 * used for |now|, t1 and t4. Not thread-safe. The struct is caller-owned
 * (embed it); it holds no pointers and needs no cleanup.
 */
#ifndef BILDFUNK_CLOCKSYNC_H
#define BILDFUNK_CLOCKSYNC_H

#include <bildfunk/common.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BF_CLOCKSYNC_MAX_BURST 32u
/* Rounds with an RTT above max(2 ms, 1.5 x floor) are rejected ... */
#define BF_CLOCKSYNC_RTT_SLACK_NS 2000000ull
/* ... until this many in a row. */
#define BF_CLOCKSYNC_MAX_REJECTS 3u
/* While no pong has ever come, rounds repeat this often instead. */
#define BF_CLOCKSYNC_RETRY_NS 1000000000ull

typedef struct bf_clocksync_config {
  uint32_t burst;      /* pings per round, 1..BF_CLOCKSYNC_MAX_BURST: 8 */
  uint64_t spacing_ns; /* between the pings of a round: 50 ms */
  uint64_t resync_ns;  /* from one round's start to the next: 10 s */
  uint64_t timeout_ns; /* a pong later than this after its ping is ignored: 1 s */
} bf_clocksync_config;

void bf_clocksync_config_default(bf_clocksync_config *cfg);

/* One outstanding ping. */
typedef struct bf_clocksync_ping {
  uint32_t id;
  uint64_t t1_ns;
  int live;
} bf_clocksync_ping;

typedef struct bf_clocksync {
  bf_clocksync_config cfg;
  bf_clocksync_ping out[BF_CLOCKSYNC_MAX_BURST]; /* this round's pings */
  uint32_t next_id;
  uint32_t sent;     /* pings sent in this round */
  uint32_t answered; /* pongs matched in this round */
  uint64_t round_start_ns;
  uint64_t next_ping_ns; /* when the next ping is due */
  int round_open;        /* a round's result is still pending */
  int round_have;        /* the round has a sample */
  int64_t round_offset_ns;
  uint64_t round_rtt_ns;
  int streak_have; /* best sample of the rejected streak */
  int64_t streak_offset_ns;
  uint64_t streak_rtt_ns;
  /* the estimate */
  int have;
  int64_t offset_ns;
  uint64_t rtt_ns;
  uint64_t rtt_floor_ns; /* lowest RTT of any sample */
  uint32_t rejects;      /* rounds rejected in a row */
  /* counters */
  uint64_t pings_sent;
  uint64_t pongs_used;
  uint64_t pongs_ignored; /* unknown id, late, or impossible times */
  uint64_t rounds_adopted;
  uint64_t rounds_rejected;
} bf_clocksync;

/* Starts the schedule: the first ping is due at |now_ns|. Returns 0 or
 * -EINVAL for a bad config (|cfg| NULL takes the defaults). */
int bf_clocksync_init(bf_clocksync *cs, const bf_clocksync_config *cfg, uint64_t now_ns);

/* Closes a finished round and, when a ping is due at |now_ns|, records it and
 * returns 1 with its |id|; the caller sends a CLOCK_PING with that id and
 * t1 = |now_ns|. Returns 0 when nothing is due. */
int bf_clocksync_poll(bf_clocksync *cs, uint64_t now_ns, uint32_t *id);

/* The next time bf_clocksync_poll() has work (a ping or a round to close). */
uint64_t bf_clocksync_next_due(const bf_clocksync *cs);

/* A CLOCK_PONG arrived at our time |t4_ns| echoing |id| and |t1_ns| with the
 * sender's |t2_ns| and |t3_ns|. Returns 1 when the estimate changed, 0 when
 * the sample was kept for the round's end, -ENOENT for an id that is not
 * outstanding (or a t1 that does not match it) and -EINVAL for impossible
 * times (t4 < t1, t3 < t2, sender time longer than the round trip) or a
 * pong later than the timeout; such pongs are counted and otherwise ignored. */
int bf_clocksync_on_pong(bf_clocksync *cs, uint32_t id, uint64_t t1_ns, uint64_t t2_ns,
                         uint64_t t3_ns, uint64_t t4_ns);

/* The current estimate: |offset_ns| = sender clock minus ours, |rtt_ns| of
 * the sample it came from. Returns 0, or -EAGAIN before the first sample
 * (callers then assume one clock: offset 0). Either pointer may be NULL. */
int bf_clocksync_get(const bf_clocksync *cs, int64_t *offset_ns, uint64_t *rtt_ns);

/* offset and rtt of one sample; returns 0 or -EINVAL for impossible times. */
int bf_clocksync_sample(uint64_t t1_ns, uint64_t t2_ns, uint64_t t3_ns, uint64_t t4_ns,
                        int64_t *offset_ns, uint64_t *rtt_ns);

#ifdef __cplusplus
}
#endif

#endif /* BILDFUNK_CLOCKSYNC_H */
