/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Latency histogram: see hist.h.
 */
#include "hist.h"

#include <string.h>

void bf_hist_reset(bf_hist *h) {
  memset(h, 0, sizeof *h);
}

void bf_hist_add(bf_hist *h, uint64_t ns) {
  uint64_t b = ns / BF_HIST_BUCKET_NS;
  if (b >= BF_HIST_BUCKETS) b = BF_HIST_BUCKETS - 1;
  h->bucket[b]++;
  h->count++;
  h->sum_ns += ns;
  if (ns > h->max_ns) h->max_ns = ns;
}

uint64_t bf_hist_percentile(const bf_hist *h, unsigned permille) {
  if (h->count == 0) return 0;
  if (permille > 1000) permille = 1000;
  /* smallest bucket whose cumulative count reaches ceil(count * p / 1000) */
  uint64_t need = (h->count * permille + 999) / 1000;
  if (need == 0) need = 1;
  uint64_t seen = 0;
  for (uint32_t i = 0; i < BF_HIST_BUCKETS; i++) {
    seen += h->bucket[i];
    if (seen >= need) {
      if (i == BF_HIST_BUCKETS - 1) return h->max_ns; /* the overflow bucket */
      uint64_t edge = (uint64_t)(i + 1) * BF_HIST_BUCKET_NS;
      return edge < h->max_ns ? edge : h->max_ns;
    }
  }
  return h->max_ns;
}
