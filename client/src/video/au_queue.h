/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The queue of completed access units waiting for the decoder, in
 * frame_index order (serial-number order, so it holds across the 32-bit
 * wrap): an AU that overtook an earlier one on the network is inserted
 * behind it (the decode gate then holds it until the earlier one comes or
 * a bound expires, decode_gate.h); in order, a push is an append.
 *
 * Not here: what to decode when (the decode gate), the frames' memory (the
 * reassembler's: an entry holds a bf_frame the caller releases with
 * bf_pump_release when it is popped or dropped).
 *
 * Bound and latency: at most BF_AU_QUEUE_MAX AUs (that many pictures of
 * latency); skip-to-live empties it long before. Full, a push fails and
 * the caller counts the AU as skipped, so the network side never blocks.
 * Caller-owned storage, no allocation, no cleanup.
 */
#ifndef BF_CLIENT_AU_QUEUE_H
#define BF_CLIENT_AU_QUEUE_H

#include "report/frame_stats.h"

#include <bildfunk/reassembler.h>

#include <stddef.h>

#define BF_AU_QUEUE_MAX 64u

/* One queued AU: the reassembler's frame and its timestamps so far. */
typedef struct bf_queued_au {
  bf_frame f;
  bf_frame_record rec;
} bf_queued_au;

typedef struct bf_au_queue {
  bf_queued_au q[BF_AU_QUEUE_MAX];
  size_t head, n;
} bf_au_queue;

void bf_au_queue_init(bf_au_queue *q);

/* Inserts |au| (copied) in frame_index order, behind every queued AU whose
 * index is not later. 0, or -ENOSPC when full (nothing changed). */
int bf_au_queue_push(bf_au_queue *q, const bf_queued_au *au);

/* The oldest queued AU (valid until the next push or pop), NULL when empty. */
const bf_queued_au *bf_au_queue_head(const bf_au_queue *q);

/* The |i|-th oldest queued AU (0 = the head), NULL past the end; valid
 * until the next push or pop. */
const bf_queued_au *bf_au_queue_at(const bf_au_queue *q, size_t i);

/* Takes the oldest AU into |out|: 1, or 0 when empty. */
int bf_au_queue_pop(bf_au_queue *q, bf_queued_au *out);

static inline size_t bf_au_queue_len(const bf_au_queue *q) {
  return q->n;
}

#endif
