/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The single-producer single-consumer ring: see audio_ring.h.
 */
#include "audio_ring.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int bf_spsc_init(bf_spsc *r, size_t size, size_t count) {
  memset(r, 0, sizeof *r);
  if (!size || !count || (count & (count - 1))) return -EINVAL;
  r->buf = calloc(count, size);
  if (!r->buf) return -ENOMEM;
  r->size = size;
  r->count = count;
  atomic_init(&r->head, 0);
  atomic_init(&r->tail, 0);
  return 0;
}

void bf_spsc_free(bf_spsc *r) {
  free(r->buf);
  r->buf = NULL;
}

int bf_spsc_push(bf_spsc *r, const void *rec) {
  size_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
  size_t t = atomic_load_explicit(&r->tail, memory_order_acquire);
  if (h - t >= r->count) return 0;
  memcpy(r->buf + (h & (r->count - 1)) * r->size, rec, r->size);
  atomic_store_explicit(&r->head, h + 1, memory_order_release);
  return 1;
}

const void *bf_spsc_peek(bf_spsc *r) {
  size_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
  size_t h = atomic_load_explicit(&r->head, memory_order_acquire);
  if (t == h) return NULL;
  return r->buf + (t & (r->count - 1)) * r->size;
}

void bf_spsc_drop(bf_spsc *r) {
  size_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
  atomic_store_explicit(&r->tail, t + 1, memory_order_release);
}

int bf_spsc_pop(bf_spsc *r, void *rec) {
  const void *p = bf_spsc_peek(r);
  if (!p) return 0;
  memcpy(rec, p, r->size);
  bf_spsc_drop(r);
  return 1;
}

size_t bf_spsc_len(bf_spsc *r) {
  return atomic_load(&r->head) - atomic_load(&r->tail);
}
