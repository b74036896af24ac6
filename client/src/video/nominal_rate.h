/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The stream's nominal frame rate, from the AUs' pts when nobody said it
 * (--direct; a control session's Welcome says it). A pts is when the sender
 * captured the picture: on time mostly, some late by a few ms, and after a
 * stall the sender skips captures (the next index comes several intervals
 * later); a smoothed spacing read @65, @58 for a 60 fps stream. So the rate
 * here is the median spacing per frame over the last BF_NOMINAL_AUS AUs in
 * index order (late captures and stalls are outliers to it), given only
 * when stable: the medians of the older and the newer half agree within
 * 2 %. It is then snapped to the nearest usual rate (24, 25, 30, 50, 60,
 * ...) within 0.5 % (a 59.94 stream reads 60, as a Welcome's integer would).
 *
 * Sans-I/O: pts and frame indices in, no clock. Bounded: a fixed ring. A
 * restart (indices start over) forgets everything.
 */
#ifndef BF_CLIENT_NOMINAL_RATE_H
#define BF_CLIENT_NOMINAL_RATE_H

#include <stdint.h>

#define BF_NOMINAL_AUS 128u

typedef struct bf_nominal_rate {
  uint32_t idx[BF_NOMINAL_AUS];
  uint64_t pts[BF_NOMINAL_AUS]; /* AU number k (from the first) at k % BF_NOMINAL_AUS */
  uint64_t pushed;              /* AUs taken since the start */
} bf_nominal_rate;

void bf_nominal_rate_init(bf_nominal_rate *r);
/* An AU that completed; out-of-order and repeated indices are ignored. */
void bf_nominal_rate_push(bf_nominal_rate *r, uint32_t frame_index, uint64_t pts_ns);
/* The nominal rate (frames per second) into |fps|: 1 when stable, else 0. */
int bf_nominal_rate_get(const bf_nominal_rate *r, double *fps);

#endif
