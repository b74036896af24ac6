/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Test helpers: seeded splitmix64 PRNG and the root check.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

void bf_test_rng_seed(bf_test_rng *rng, uint64_t fallback) {
  const char *env = getenv("BF_TEST_SEED");
  uint64_t seed = env ? strtoull(env, NULL, 0) : fallback;
  fprintf(stderr, "# seed %llu (set BF_TEST_SEED to replay)\n",
          (unsigned long long)seed);
  rng->s = seed;
}

uint64_t bf_test_rng_next(bf_test_rng *rng) {
  uint64_t z = (rng->s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint32_t bf_test_rng_below(bf_test_rng *rng, uint32_t n) {
  return (uint32_t)((bf_test_rng_next(rng) >> 32) * n >> 32);
}

void bf_test_rng_fill(bf_test_rng *rng, uint8_t *p, size_t n) {
  size_t i = 0;
  while (i < n) {
    uint64_t v = bf_test_rng_next(rng);
    for (int b = 0; b < 8 && i < n; b++, i++) p[i] = (uint8_t)(v >> (8 * b));
  }
}

int bf_test_have_root(void) {
#ifdef _WIN32
  return 0;
#else
  if (geteuid() == 0) return 1;
  const char *req = getenv("BF_REQUIRE_ALL");
  if (req && req[0] == '1') {
    fprintf(stderr, "BF_REQUIRE_ALL=1 but this test needs root\n");
    abort();
  }
  return 0;
#endif
}
