/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Packet order on the data path (sans-I/O): every video datagram carries the
 * sender's stream_seq (one number per datagram, in send order). From it this
 * module counts datagrams that arrive after a later one (reordered), copies
 * of one already seen (duplicates), and measures how late a reordered
 * datagram is: the time from the arrival of the first datagram numbered
 * after it to its own arrival. The recent maximum of that lateness is what
 * the network's reordering costs, and the decode gate uses it as its jitter
 * allowance (decode_gate.h).
 *
 * Definitions match bildfunk-netsim's counters: "reordered" is a datagram
 * whose number is below the highest seen so far (a late duplicate counts as
 * reordered too); "duplicate" is a number already seen within the last
 * BF_SEQTRACK_WINDOW numbers. Numbers further back are counted as too old.
 *
 * Lateness: the numbers that advanced the maximum are kept with their arrival
 * time in a ring of BF_SEQTRACK_ADV (binary search on a late arrival); a
 * datagram older than that ring (a high packet rate) is timed by the loss
 * windows' checkpoints of the maximum, one per 1 ms slot for >= 256 ms (then
 * up to 1 ms short), and one older than both gets their age (a lower bound).
 * The
 * estimate is the maximum over the current and the previous window of
 * BF_SEQTRACK_PERIOD_NS, so it follows a network that stops reordering within
 * two windows.
 *
 * Loss windows (bf_seqtrack_close_window): the loss figure counts only
 * numbers that are really missing. A window closes the numbers up to a
 * horizon: the highest number seen at least the settle bound ago, so every
 * earlier number still missing is later than any reordering measured
 * recently; the numbers above it stay open for the next window, and their
 * arrivals are counted there. The settle bound is the reordering lateness
 * over the last BF_SEQTRACK_SETTLE_PERIOD_NS (15 to 30 s) x 3/2 + 2 ms, at most
 * BF_SEQTRACK_SETTLE_MAX_NS; it is 0 while the network keeps order, and then
 * a window closes up to the highest number seen, as a plain span count
 * would. A first copy that comes after its window closed anyway (later than
 * the bound) is credited to the next window's received count (never above
 * that window's expected count). Duplicates count once; numbers more than
 * BF_SEQTRACK_WINDOW behind the highest are not counted (they cannot be told
 * from copies). Latency: a datagram's fate is reported at most the settle
 * bound later than by the plain span count (0 on an in-order network).
 *
 * Memory: fixed, caller-owned struct (~17 KiB), no allocation. Cost per
 * datagram: O(1), O(log BF_SEQTRACK_ADV) when late; per window closed
 * O(log BF_SEQTRACK_SETTLE_SLOTS) + O(numbers left open). Time is passed in
 * (ns).
 */
#ifndef BF_CLIENT_SEQTRACK_H
#define BF_CLIENT_SEQTRACK_H

#include <stddef.h>
#include <stdint.h>

/* Numbers remembered for duplicates and for the loss windows' open numbers:
 * 250 ms (the longest settle bound) at 65 k datagrams/s, ~750 Mbit/s. */
#define BF_SEQTRACK_WINDOW 16384u
#define BF_SEQTRACK_ADV 1024u /* advances of the maximum kept for lateness */
#define BF_SEQTRACK_PERIOD_NS 2000000000ull
/* Loss windows: the highest number is recorded once per slot of
 * BF_SEQTRACK_SETTLE_SLOT_NS, in a ring of BF_SEQTRACK_SETTLE_SLOTS (>= 256 ms
 * of history, so the horizon can lie up to BF_SEQTRACK_SETTLE_MAX_NS back). */
#define BF_SEQTRACK_SETTLE_SLOT_NS 1000000ull
#define BF_SEQTRACK_SETTLE_SLOTS 256u
#define BF_SEQTRACK_SETTLE_MAX_NS 250000000ull
#define BF_SEQTRACK_SETTLE_PERIOD_NS 15000000000ull

typedef enum bf_seq_class {
  BF_SEQ_NEW = 0,       /* in order (advances the maximum) */
  BF_SEQ_REORDERED = 1, /* first copy, after a later number */
  BF_SEQ_DUPLICATE = 2, /* seen before */
  BF_SEQ_OLD = 3,       /* more than BF_SEQTRACK_WINDOW behind: cannot tell */
} bf_seq_class;

typedef struct bf_seqtrack {
  int have;
  uint32_t max; /* highest number seen */
  uint64_t seen[BF_SEQTRACK_WINDOW / 64];
  uint32_t adv_seq[BF_SEQTRACK_ADV];
  uint64_t adv_ns[BF_SEQTRACK_ADV];
  size_t adv_head, adv_n; /* oldest entry, entries */
  uint64_t period_start_ns;
  uint64_t late_cur_ns, late_prev_ns;
  /* counters */
  uint64_t datagrams;
  uint64_t reordered; /* includes reordered duplicates, as netsim counts */
  uint64_t duplicates;
  uint64_t too_old;
  uint64_t late_max_ns; /* largest lateness ever measured */
  /* loss windows */
  uint32_t acc_base;    /* numbers up to this one are closed */
  int acc_closed;       /* a window closed since the stream started */
  uint64_t acc_open;    /* first copies numbered after acc_base */
  uint64_t acc_credit;  /* first copies that came after their window closed */
  uint64_t late_closed; /* counter: such late first copies, ever */

  /* the highest number ck_seq[i] at time ck_ns[i], one per slot */
  uint32_t ck_seq[BF_SEQTRACK_SETTLE_SLOTS];
  uint64_t ck_ns[BF_SEQTRACK_SETTLE_SLOTS];
  size_t ck_head, ck_n;
  uint64_t settle_start_ns, settle_cur_ns, settle_prev_ns;
} bf_seqtrack;

/* What a loss window closed. */
typedef struct bf_seqtrack_window {
  uint64_t expected;  /* numbers closed: (previous horizon, horizon] */
  uint64_t received;  /* ... that arrived, plus credited */
  uint64_t credited;  /* late first copies of earlier windows counted here */
  uint64_t uncredited; /* ... that found no room here (this window lost
                          nothing): the sender was told of a loss that was
                          none; the session's totals take them back */
  uint64_t settle_ns; /* the settle bound used */
  uint32_t horizon;   /* the highest number closed */
  uint32_t open;      /* numbers above it left for the next window */
} bf_seqtrack_window;

void bf_seqtrack_init(bf_seqtrack *t);

/* Forgets the numbers and the open loss window (a new stream); counters
 * and lateness estimates stay. */
void bf_seqtrack_restart(bf_seqtrack *t);

/* Records datagram |seq| arriving at |now_ns| and classifies it. */
bf_seq_class bf_seqtrack_push(bf_seqtrack *t, uint32_t seq, uint64_t now_ns);

/* The recent reordering lateness (ns): 0 while the network keeps order. */
uint64_t bf_seqtrack_lateness(bf_seqtrack *t, uint64_t now_ns);

/* The settle bound of the loss windows at |now_ns| (see above). */
uint64_t bf_seqtrack_settle_ns(bf_seqtrack *t, uint64_t now_ns);

/* Closes a loss window: fills |w| with the numbers closed since the previous
 * call and how many of them arrived. |now_ns| is a time by which every
 * datagram that reached the receiver has been pushed (it may be earlier than
 * the last push's time). Before any datagram (or when nothing is settled
 * yet) expected is 0. */
void bf_seqtrack_close_window(bf_seqtrack *t, uint64_t now_ns, bf_seqtrack_window *w);

#endif
