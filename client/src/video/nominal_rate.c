/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The stream's nominal frame rate from pts: see nominal_rate.h.
 */
#include "nominal_rate.h"

#include <bildfunk/common.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

void bf_nominal_rate_init(bf_nominal_rate *r) {
  memset(r, 0, sizeof *r);
}

void bf_nominal_rate_push(bf_nominal_rate *r, uint32_t frame_index, uint64_t pts_ns) {
  if (r->pushed) {
    size_t last = (size_t)((r->pushed - 1) % BF_NOMINAL_AUS);
    int32_t d = bf_seq32_diff(frame_index, r->idx[last]);
    if (d <= 0 || pts_ns <= r->pts[last]) return;
    if (d > 1000) bf_nominal_rate_init(r); /* a new stream */
  }
  size_t slot = (size_t)(r->pushed++ % BF_NOMINAL_AUS);
  r->idx[slot] = frame_index;
  r->pts[slot] = pts_ns;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* The median spacing per frame (ns) between the entries from position |a|
 * to |b| (from the oldest): the capture jitter and a stalled sender's gaps
 * are outliers to it. */
static double median_spacing(const bf_nominal_rate *r, unsigned a, unsigned b) {
  double d[BF_NOMINAL_AUS];
  unsigned n = 0;
  uint64_t oldest = r->pushed - BF_NOMINAL_AUS; /* the ring is full here */
  for (unsigned k = a; k < b; k++) {
    size_t i = (size_t)((oldest + k) % BF_NOMINAL_AUS),
           j = (size_t)((oldest + k + 1) % BF_NOMINAL_AUS);
    d[n++] = (double)(r->pts[j] - r->pts[i]) / (double)(uint32_t)(r->idx[j] - r->idx[i]);
  }
  qsort(d, n, sizeof *d, cmp_double);
  return n % 2 ? d[n / 2] : (d[n / 2 - 1] + d[n / 2]) / 2;
}

int bf_nominal_rate_get(const bf_nominal_rate *r, double *fps) {
  if (r->pushed < BF_NOMINAL_AUS) return 0;
  unsigned mid = BF_NOMINAL_AUS / 2;
  double older = median_spacing(r, 0, mid), newer = median_spacing(r, mid, BF_NOMINAL_AUS - 1);
  if (fabs(older - newer) > 0.02 * newer) return 0;
  double f = 1e9 / median_spacing(r, 0, BF_NOMINAL_AUS - 1), best = f, gap = 0.005 * f;
  /* the nearest usual rate within 0.5 %; 59.94 (a /1.001 rate) is 0.1 % from
   * 60, closer than capture jitter lets the median tell: 60, as the
   * Welcome's integer rate would say */
  static const double usual[] = {24, 25, 30, 48, 50, 60, 72, 75, 90, 100, 120, 144, 165, 240};
  for (size_t k = 0; k < sizeof usual / sizeof usual[0]; k++)
    if (fabs(f - usual[k]) <= gap) best = usual[k], gap = fabs(f - usual[k]);
  *fps = best;
  return 1;
}
