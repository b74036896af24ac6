/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Latency histogram: percentiles by bucket edge, never below the truth by
 * more than a bucket, clamped by the maximum; overflow bucket; reset.
 */
#include "testutil.h"

#include "hist.h"

#include <stdlib.h>

static void test_percentiles(void **state) {
  (void)state;
  bf_hist *h = calloc(1, sizeof *h);
  assert_non_null(h);
  assert_int_equal(bf_hist_percentile(h, 500), 0);
  /* 1..100 ms */
  for (uint64_t ms = 1; ms <= 100; ms++)
    bf_hist_add(h, ms * 1000000ull);
  assert_int_equal(h->count, 100);
  uint64_t p50 = bf_hist_percentile(h, 500), p95 = bf_hist_percentile(h, 950);
  assert_true(p50 >= 50000000ull && p50 <= 50000000ull + BF_HIST_BUCKET_NS);
  assert_true(p95 >= 95000000ull && p95 <= 95000000ull + BF_HIST_BUCKET_NS);
  assert_int_equal(bf_hist_percentile(h, 1000), 100000000ull); /* clamped to the max */
  /* the smallest value's bucket: 1 ms sits in [1.00, 1.02) ms */
  assert_int_equal(bf_hist_percentile(h, 0), 1000000ull + BF_HIST_BUCKET_NS);
  assert_int_equal(h->max_ns, 100000000ull);
  /* one value far beyond the last bucket */
  bf_hist_reset(h);
  bf_hist_add(h, 30000000000ull);
  bf_hist_add(h, 5000);
  assert_int_equal(bf_hist_percentile(h, 500), BF_HIST_BUCKET_NS);
  assert_int_equal(bf_hist_percentile(h, 1000), 30000000000ull);
  assert_int_equal(h->count, 2);
  bf_hist_reset(h);
  assert_int_equal(h->count, 0);
  assert_int_equal(bf_hist_percentile(h, 950), 0);
  free(h);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_percentiles),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
