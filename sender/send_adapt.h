/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The sender's adaptation glue: what the client's loss reports do to the
 * stream. Two sans-I/O controllers decide (bildfunk/fecctl.h, the parity
 * percentage; ratectl.h, the total send budget); this applies their
 * decisions: the packetizer's FEC percentage before each AU, the encoder's
 * share of the budget (libx264 reconfigures before its next picture; other
 * encoders and passed-through files cannot, which is said once and
 * counted) and the pacer's cap. It logs every change on stderr.
 *
 * Not here: the controllers' rules (fecctl, ratectl), where the reports
 * come from (send_endpoint.h queues them, the loop hands them here).
 *
 * State: bf_send_state's adaptation fields; it also sets the encoder's
 * bitrate and the pacer's cap. No queue. One thread.
 */
#ifndef BF_SENDER_SEND_ADAPT_H
#define BF_SENDER_SEND_ADAPT_H

#include "send_state.h"

#include <bildfunk/feedback.h>

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Adaptive FEC from its defaults: s->fec_applied is the start percentage
 * (--fec auto) or the pinned one (--fec N). */
void bf_send_adapt_init(bf_send_state *s);
/* The rate controller for shards of |shard_bytes| and |max_k| per block at
 * s->bitrate and s->fec_applied. |keep_counters|: a new control session's
 * S and K on a running sender (the counters run on across clients). */
void bf_send_adapt_configure(bf_send_state *s, unsigned shard_bytes, unsigned max_k,
                             int keep_counters);
/* Another client, another network: both controllers start over. */
void bf_send_adapt_reset(bf_send_state *s);
/* Applies the budget: the encoder's share and the pacing. */
void bf_send_adapt_apply(bf_send_state *s);
/* A LOSS_REPORT |fb| that arrived at |now_ns|. */
void bf_send_adapt_on_loss(bf_send_state *s, const bf_feedback *fb, uint64_t now_ns);
/* Right before an AU is packetized: adaptive FEC's percentage now. */
void bf_send_adapt_before_au(bf_send_state *s);

#ifdef __cplusplus
}
#endif

#endif /* BF_SENDER_SEND_ADAPT_H */
