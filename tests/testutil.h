/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Shared helpers for the cmocka test programs: a seeded PRNG so every
 * randomized test is reproducible (the seed is printed; BF_TEST_SEED
 * overrides it), and the root check for tests that need namespaces.
 */
#ifndef BF_TESTUTIL_H
#define BF_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

typedef struct bf_test_rng {
  uint64_t s;
} bf_test_rng;

/* Seeds |rng| from BF_TEST_SEED if set, else from |fallback|; prints the
 * seed used so a failure can be replayed. */
void bf_test_rng_seed(bf_test_rng *rng, uint64_t fallback);
uint64_t bf_test_rng_next(bf_test_rng *rng);
/* Uniform in [0, n) (n > 0). */
uint32_t bf_test_rng_below(bf_test_rng *rng, uint32_t n);
void bf_test_rng_fill(bf_test_rng *rng, uint8_t *p, size_t n);

/* Returns 1 when the test may use root-only facilities (network
 * namespaces). When it may not, the test program should exit 77 (skip);
 * with BF_REQUIRE_ALL=1 in the environment this prints why and aborts
 * instead, so CI never counts a skip as a pass. */
int bf_test_have_root(void);

#endif
