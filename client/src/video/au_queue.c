/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Completed AUs in frame_index order: see au_queue.h.
 */
#include "au_queue.h"

#include <bildfunk/common.h>

#include <errno.h>

void bf_au_queue_init(bf_au_queue *q) {
  q->head = 0;
  q->n = 0;
}

int bf_au_queue_push(bf_au_queue *q, const bf_queued_au *au) {
  if (q->n == BF_AU_QUEUE_MAX) return -ENOSPC;
  /* from the tail back past every later index; in order this is the tail */
  size_t at = q->n++;
  while (at > 0) {
    bf_queued_au *prev = &q->q[(q->head + at - 1) % BF_AU_QUEUE_MAX];
    if (bf_seq32_diff(prev->f.frame_index, au->f.frame_index) <= 0) break;
    q->q[(q->head + at) % BF_AU_QUEUE_MAX] = *prev;
    at--;
  }
  q->q[(q->head + at) % BF_AU_QUEUE_MAX] = *au;
  return 0;
}

const bf_queued_au *bf_au_queue_head(const bf_au_queue *q) {
  return q->n ? &q->q[q->head] : NULL;
}

const bf_queued_au *bf_au_queue_at(const bf_au_queue *q, size_t i) {
  return i < q->n ? &q->q[(q->head + i) % BF_AU_QUEUE_MAX] : NULL;
}

int bf_au_queue_pop(bf_au_queue *q, bf_queued_au *out) {
  if (!q->n) return 0;
  *out = q->q[q->head];
  q->head = (q->head + 1) % BF_AU_QUEUE_MAX;
  q->n--;
  return 1;
}
