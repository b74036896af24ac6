/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Size-class buffer pool with a hard byte limit. See pool.h.
 */
#include "pool.h"

#include <stdlib.h>
#include <string.h>

_Static_assert(sizeof(bf__buf) <= BF__BUF_HDR, "bf__buf must fit its header slot");

static unsigned floor_log2(size_t v) {
#if defined(__GNUC__) || defined(__clang__)
  return 63u - (unsigned)__builtin_clzll((unsigned long long)v);
#else
  unsigned e = 0;
  while (v >>= 1)
    e++;
  return e;
#endif
}

/* Class of a block of |n| bytes (header included): its index and size.
 * Returns 0 when |n| is beyond the largest class. */
static int class_of(size_t n, unsigned *cls, size_t *size) {
  if (n <= 16384) {
    size_t c = (n + 511) / 512;
    if (c == 0) c = 1;
    *cls = (unsigned)(c - 1);
    *size = c * 512;
    return 1;
  }
  unsigned e = floor_log2(n - 1); /* 2^e < n <= 2^(e+1), e >= 14 */
  if (e > 45) return 0;
  size_t step = (size_t)1 << (e - 3);
  size_t s = (n + step - 1) & ~(step - 1);
  unsigned sub = (unsigned)(s / step) - 8; /* 1..8 */
  *cls = 32 + (e - 14) * 8 + sub - 1;
  *size = s;
  return 1;
}

void bf__pool_init(bf__pool *p, size_t limit) {
  memset(p, 0, sizeof *p);
  p->limit = limit;
}

static void unlink_all(bf__pool *p, bf__buf *b) {
  if (b->all_prev)
    b->all_prev->all_next = b->all_next;
  else
    p->all = b->all_next;
  if (b->all_next) b->all_next->all_prev = b->all_prev;
}

void bf__pool_destroy(bf__pool *p) {
  bf__buf *b = p->all;
  while (b) {
    bf__buf *n = b->all_next;
    free(b);
    b = n;
  }
  size_t limit = p->limit;
  uint64_t allocs = p->allocs;
  bf__pool_init(p, limit);
  p->allocs = allocs;
}

size_t bf__pool_charge(size_t payload) {
  unsigned cls;
  size_t size;
  if (payload > SIZE_MAX - BF__BUF_HDR) return SIZE_MAX;
  if (!class_of(payload + BF__BUF_HDR, &cls, &size)) return SIZE_MAX;
  return size;
}

static bf__buf *pop_free(bf__pool *p, unsigned cls) {
  bf__buf *b = p->free_[cls];
  p->free_[cls] = b->next;
  b->next = NULL;
  p->free_bytes -= b->size;
  p->in_use += b->size;
  return b;
}

/* Returns one free buffer to the system, the largest first. */
static void trim_one(bf__pool *p) {
  for (unsigned c = BF__POOL_CLASSES; c-- > 0;) {
    bf__buf *b = p->free_[c];
    if (!b) continue;
    p->free_[c] = b->next;
    p->free_bytes -= b->size;
    p->pooled -= b->size;
    unlink_all(p, b);
    free(b);
    return;
  }
}

bf__buf *bf__pool_get(bf__pool *p, size_t payload) {
  unsigned cls;
  size_t size;
  if (payload > SIZE_MAX - BF__BUF_HDR) return NULL;
  if (!class_of(payload + BF__BUF_HDR, &cls, &size)) return NULL;
  if (p->free_[cls]) return pop_free(p, cls);
  if (size > p->limit || p->in_use > p->limit - size) return NULL;
  /* A free buffer up to two classes larger beats a malloc(), if it fits. */
  for (unsigned c = cls + 1; c <= cls + 2 && c < BF__POOL_CLASSES; c++) {
    bf__buf *b = p->free_[c];
    if (b && p->in_use <= p->limit - b->size) return pop_free(p, c);
  }
  while (p->pooled > p->limit - size && p->free_bytes > 0)
    trim_one(p);
  if (p->pooled > p->limit - size) return NULL; /* cannot happen: in_use fits */
  bf__buf *b = malloc(size);
  if (!b) return NULL;
  memset(b, 0, sizeof *b);
  b->size = size;
  b->cls = (uint16_t)cls;
  b->all_next = p->all;
  if (p->all) p->all->all_prev = b;
  p->all = b;
  p->allocs++;
  p->pooled += size;
  p->in_use += size;
  return b;
}

void bf__pool_put(bf__pool *p, bf__buf *b) {
  b->owner = 0;
  b->next = p->free_[b->cls];
  p->free_[b->cls] = b;
  p->in_use -= b->size;
  p->free_bytes += b->size;
}
