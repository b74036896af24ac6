/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The allocation counter of alloc_count.h: the --wrap targets.
 */
#include "alloc_count.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>

static atomic_ulong allocs;

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t m);
void *__wrap_realloc(void *p, size_t n);

void *__wrap_malloc(size_t n) {
  atomic_fetch_add(&allocs, 1);
  return __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t m) {
  atomic_fetch_add(&allocs, 1);
  return __real_calloc(n, m);
}

void *__wrap_realloc(void *p, size_t n) {
  atomic_fetch_add(&allocs, 1);
  return __real_realloc(p, n);
}

unsigned long bf_test_allocs(void) {
  return atomic_load(&allocs);
}

int bf_test_allocs_counted(void) {
  void *(*volatile m)(size_t) = malloc; /* not elided with its free */
  unsigned long before = bf_test_allocs();
  void *p = m(16);
  free(p);
  return p && bf_test_allocs() > before;
}
