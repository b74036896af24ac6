/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * FEC sizing by the chance of losing a block (sans-I/O arithmetic): a
 * two-state Gilbert loss model (state good: the packet arrives; state bad:
 * it is lost; p = P(good -> bad), r = P(bad -> good) per packet), its
 * estimate from loss counts (lost packets and the runs they form), and the
 * smallest parity m per block of k data shards for which
 * P(more than m of the k + m shards are lost) stays under a target.
 *
 * It is not the controller that follows the reports (fecctl.h) and sends
 * nothing. The block's k + m packets are taken as consecutive on the wire
 * and the block as starting at a random moment (the chain's stationary
 * state): a burst longer than the parity is what fails a block. Numbers and
 * reasoning: docs/protocol.md, "Adaptive FEC: the block-loss model".
 *
 * Cost: bf_fecmodel_table is one dynamic-programming pass over 1..255
 * packets, O(255^2) (~0.3 ms); bf_fecmodel_fail O(n m). No allocation.
 */
#ifndef BILDFUNK_FECMODEL_H
#define BILDFUNK_FECMODEL_H

#include <bildfunk/common.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BF_FECMODEL_MAX_N 255u /* k + m of a block (spec §2) */

typedef struct bf_ge {
  double p; /* P(good -> bad) per packet: 0 = no loss */
  double r; /* P(bad -> good) per packet: 1 / mean burst length */
} bf_ge;

/* The Gilbert parameters of a loss sequence of |expected| packets of which
 * |lost| were lost in |runs| runs (maximal groups of consecutive lost
 * numbers): p = runs / (expected - lost), r = runs / lost. |runs| == 0 with
 * |lost| > 0 (a report that does not count runs) is taken as independent
 * loss (r = 1 - loss rate). Values are clamped into (0, 1]. */
bf_ge bf_ge_estimate(double expected, double lost, double runs);

/* The model's mean loss rate p / (p + r). */
double bf_ge_loss(bf_ge g);

/* P(more than |m| of |n| consecutive packets lost) under |g|. */
double bf_fecmodel_fail(bf_ge g, uint32_t n, uint32_t m);

/* For every k in 1..|max_k| (<= 253): the smallest m >= |m_min| with
 * bf_fecmodel_fail(g, k + m, m) <= |target|, into m_out[k] (m_out holds
 * max_k + 1 entries; m_out[0] = 0). Where no m fits k + m <= 255, m_out[k]
 * = 255 - k. */
void bf_fecmodel_table(bf_ge g, double target, uint32_t m_min, uint32_t max_k, uint8_t *m_out);

#ifdef __cplusplus
}
#endif

#endif /* BILDFUNK_FECMODEL_H */
