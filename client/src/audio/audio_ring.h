/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * A bounded single-producer single-consumer ring of fixed-size records,
 * lock-free (C11 atomics, acquire/release), for the hand-over between the
 * client's loop thread and SDL's audio thread: Opus frames one way
 * (audio_stream.c -> the audio callback), reports the other.
 *
 * Bound: |count| records (a power of two), allocated at init; a push into
 * a full ring fails and the caller counts the record as dropped: neither
 * side ever waits for the other. Latency: none of its own; a record is
 * there for the consumer as soon as the push returns.
 */
#ifndef BF_CLIENT_AUDIO_RING_H
#define BF_CLIENT_AUDIO_RING_H

#include <stdatomic.h>
#include <stddef.h>

typedef struct bf_spsc {
  unsigned char *buf;
  size_t size;  /* bytes per record */
  size_t count; /* records, a power of two */
  atomic_size_t head; /* next to write (producer) */
  atomic_size_t tail; /* next to read (consumer) */
} bf_spsc;

/* 0 or -ENOMEM / -EINVAL (count not a power of two). */
int bf_spsc_init(bf_spsc *r, size_t size, size_t count);
void bf_spsc_free(bf_spsc *r);
/* Producer: copies |rec| in. 1, or 0 when full. */
int bf_spsc_push(bf_spsc *r, const void *rec);
/* Consumer: copies the oldest record out. 1, or 0 when empty. */
int bf_spsc_pop(bf_spsc *r, void *rec);
/* Consumer: the oldest record in place (valid until it is dropped), or
 * NULL; bf_spsc_drop then frees its place. */
const void *bf_spsc_peek(bf_spsc *r);
void bf_spsc_drop(bf_spsc *r);
size_t bf_spsc_len(bf_spsc *r);

#endif
