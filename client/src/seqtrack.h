/*
 * Packet order on the data path (sans-I/O): every video datagram carries the
 * sender's stream_seq (one number per datagram, in send order). From it this
 * module counts datagrams that arrive after a later one (reordered), copies
 * of one already seen (duplicates), and measures how late a reordered
 * datagram is: the time from the arrival of the first datagram numbered
 * after it to its own arrival. The recent maximum of that lateness is what
 * the network's reordering costs, and the decode gate uses it as its jitter
 * allowance (recovery.h).
 *
 * Definitions match bildfunk-netsim's counters: "reordered" is a datagram
 * whose number is below the highest seen so far (a late duplicate counts as
 * reordered too); "duplicate" is a number already seen within the last
 * BF_SEQTRACK_WINDOW numbers. Numbers further back are counted as too old.
 *
 * Lateness: the numbers that advanced the maximum are kept with their arrival
 * time in a ring of BF_SEQTRACK_ADV (binary search on a late arrival); a
 * datagram older than the ring gets the ring's age (a lower bound). The
 * estimate is the maximum over the current and the previous window of
 * BF_SEQTRACK_PERIOD_NS, so it follows a network that stops reordering within
 * two windows.
 *
 * Memory: fixed, caller-owned struct (~13 KiB), no allocation. Cost per
 * datagram: O(1), O(log BF_SEQTRACK_ADV) when late. Time is passed in (ns).
 */
#ifndef BF_CLIENT_SEQTRACK_H
#define BF_CLIENT_SEQTRACK_H

#include <stddef.h>
#include <stdint.h>

#define BF_SEQTRACK_WINDOW 4096u /* numbers remembered for duplicates */
#define BF_SEQTRACK_ADV 1024u    /* advances of the maximum kept for lateness */
#define BF_SEQTRACK_PERIOD_NS 2000000000ull

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
} bf_seqtrack;

void bf_seqtrack_init(bf_seqtrack *t);

/* Forgets the numbers (a new stream); counters stay. */
void bf_seqtrack_restart(bf_seqtrack *t);

/* Records datagram |seq| arriving at |now_ns| and classifies it. */
bf_seq_class bf_seqtrack_push(bf_seqtrack *t, uint32_t seq, uint64_t now_ns);

/* The recent reordering lateness (ns): 0 while the network keeps order. */
uint64_t bf_seqtrack_lateness(bf_seqtrack *t, uint64_t now_ns);

#endif
