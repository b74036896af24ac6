/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Latency statistics of bildfunk-send: a fixed histogram for percentiles of
 * per-frame times (encode latency) over a whole run or a one-second window.
 * 20 us buckets up to 2 s, the last bucket collecting everything above; the
 * percentile is the upper edge of the bucket that reaches it (so it never
 * under-reports by more than 20 us). No allocation; caller-owned storage.
 */
#ifndef BF_SENDER_STATS_H
#define BF_SENDER_STATS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BF_HIST_BUCKET_NS 20000ull
#define BF_HIST_BUCKETS 100000u

typedef struct bf_hist {
  uint32_t bucket[BF_HIST_BUCKETS];
  uint64_t count;
  uint64_t sum_ns;
  uint64_t max_ns;
} bf_hist;

void bf_hist_reset(bf_hist *h);
void bf_hist_add(bf_hist *h, uint64_t ns);

/* The |permille|-th per-mille value in ns (500 = median), 0 when empty. */
uint64_t bf_hist_percentile(const bf_hist *h, unsigned permille);

#ifdef __cplusplus
}
#endif

#endif /* BF_SENDER_STATS_H */
