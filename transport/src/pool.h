/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Internal: a size-class buffer pool with a hard byte limit, used by the
 * reassembler for frame buffers and parity shard buffers.
 *
 * A buffer is one malloc()'d block: a BF__BUF_HDR-byte header (bf__buf) and
 * the caller's payload behind it. Sizes are rounded to classes (multiples of
 * 512 bytes up to 16 KiB, then 8 steps per power of two, so at most 12.5 %
 * slack), and a returned buffer goes onto its class's free list to be handed
 * out again without malloc(). Every byte malloc()'d counts: |in_use| is what
 * callers hold, |pooled| is in use + free, and neither ever exceeds |limit|:
 * before a malloc() that would pass it, free buffers of other classes are
 * given back to the system.
 *
 * Not a general allocator: no thread safety, no realloc, O(1) get/put on the
 * common path (a class's free list), O(classes) only when it must malloc().
 */
#ifndef BF__POOL_H
#define BF__POOL_H

#include <stddef.h>
#include <stdint.h>

/* 32 linear classes (512 B .. 16 KiB) + 8 per power of two up to 2^46. */
#define BF__POOL_CLASSES (32 + 32 * 8)

typedef struct bf__buf {
  struct bf__buf *next;     /* free list; while in use: the owner's list */
  struct bf__buf *all_prev; /* every buffer the pool owns (for destroy) */
  struct bf__buf *all_next;
  size_t size;   /* bytes malloc()'d, header included: what is charged */
  uint32_t tag;  /* owner's use (the reassembler: parity shard index) */
  uint16_t cls;  /* size class */
  uint8_t owner; /* 0 = free in the pool; otherwise the owner's code */
} bf__buf;

/* Header bytes in front of the payload; keeps the payload 64-byte aligned
 * relative to the block start (malloc gives at least 16). */
#define BF__BUF_HDR 64u

static inline uint8_t *bf__buf_data(bf__buf *b) {
  return (uint8_t *)b + BF__BUF_HDR;
}

typedef struct bf__pool {
  bf__buf *free_[BF__POOL_CLASSES];
  bf__buf *all;
  size_t limit;      /* in_use and pooled never exceed this */
  size_t in_use;     /* bytes of buffers handed out */
  size_t pooled;     /* bytes owned: in use + on free lists */
  size_t free_bytes; /* bytes on free lists */
  uint64_t allocs;   /* malloc() calls, ever */
} bf__pool;

void bf__pool_init(bf__pool *p, size_t limit);

/* Frees every buffer, in use or not. The pool is empty afterwards. */
void bf__pool_destroy(bf__pool *p);

/* Bytes a buffer with |payload| bytes of payload is charged (its class size),
 * or SIZE_MAX if no class holds it. */
size_t bf__pool_charge(size_t payload);

/* A buffer with at least |payload| bytes of payload, or NULL when handing it
 * out would take |in_use| past |limit| or malloc() fails. When
 * in_use + bf__pool_charge(payload) <= limit, only a malloc() failure can make
 * it return NULL. The payload is not cleared. */
bf__buf *bf__pool_get(bf__pool *p, size_t payload);

/* Gives |b| back to its free list. */
void bf__pool_put(bf__pool *p, bf__buf *b);

#endif /* BF__POOL_H */
