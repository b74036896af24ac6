/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The nominal frame rate from pts (video/nominal_rate.h): late captures of
 * up to 8 ms and a stalled sender's skipped captures do not move it (a
 * smoothed spacing read 65 or 58 for a 60 fps stream, issue #17), it is not
 * given before it is stable, it snaps to the usual rate nearest within
 * 0.5 % (59.94 reads 60), and skipped indices count as frames.
 */
#include "testutil.h"

#include "video/nominal_rate.h"

#include <math.h>
#include <stdlib.h>

#define MS 1000000ull

/* |n| AUs from index |i0| at |fps| as a sender captures them: on time
 * within +-0.2 ms, one in |late_every| late by up to 8 ms, and every 50th a
 * stall of 3 intervals after which it skips those captures; |late_every| 0:
 * exactly on time. */
static void feed(bf_nominal_rate *r, uint32_t i0, unsigned n, double fps, unsigned late_every,
                 uint64_t t0) {
  srand(7);
  double t = (double)t0;
  for (unsigned k = 0; k < n; k++) {
    double j = late_every ? (double)(rand() % 400001) - 200000 : 0;
    if (late_every && rand() % (int)late_every == 0) j += (double)(rand() % 8000001);
    if (late_every && k % 50 == 49) t += 3 * 1e9 / fps; /* stalled: 3 captures skipped */
    bf_nominal_rate_push(r, i0 + k, (uint64_t)(t + j));
    t += 1e9 / fps;
  }
}

static void test_nominal(void **state) {
  (void)state;
  bf_nominal_rate r;
  double fps = 0;
  bf_nominal_rate_init(&r);
  feed(&r, 0, BF_NOMINAL_AUS - 1, 60, 5, 1000 * MS);
  assert_int_equal(bf_nominal_rate_get(&r, &fps), 0); /* too few yet */
  bf_nominal_rate_init(&r);
  feed(&r, 0, 200, 60, 5, 1000 * MS); /* 1 in 5 late by up to 8 ms, stalls */
  assert_int_equal(bf_nominal_rate_get(&r, &fps), 1);
  assert_true(fps == 60);
  bf_nominal_rate_init(&r);
  feed(&r, 5, 200, 60000.0 / 1001.0, 5, 1000 * MS); /* 59.94 reads 60 */
  assert_int_equal(bf_nominal_rate_get(&r, &fps), 1);
  assert_true(fps == 60);
  bf_nominal_rate_init(&r);
  feed(&r, 5, 200, 61.5, 0, 1000 * MS); /* 2.5 % from 60: as measured */
  assert_int_equal(bf_nominal_rate_get(&r, &fps), 1);
  assert_true(fabs(fps - 61.5) < 0.01);
  bf_nominal_rate_init(&r);
  feed(&r, 0, 200, 37.5, 0, 1000 * MS); /* not a usual rate: as measured */
  assert_int_equal(bf_nominal_rate_get(&r, &fps), 1);
  assert_true(fabs(fps - 37.5) < 0.01);
  /* a rate that changes: not stable until the window is all new */
  bf_nominal_rate_init(&r);
  feed(&r, 0, 128, 60, 0, 1000 * MS);
  feed(&r, 128, 64, 30, 0, 1000 * MS + 128 * 16666667ull);
  assert_int_equal(bf_nominal_rate_get(&r, &fps), 0);
  feed(&r, 192, 128, 30, 0, 1000 * MS + 128 * 16666667ull + 64 * 33333333ull);
  assert_int_equal(bf_nominal_rate_get(&r, &fps), 1);
  assert_true(fps == 30);
  /* lost AUs (indices skipped) still count as frames; old and repeated
   * indices are ignored; a jump of the indices (a new stream) starts over */
  bf_nominal_rate_init(&r);
  for (uint32_t i = 0; i < 300; i++) {
    if (i % 7 == 3) continue;
    bf_nominal_rate_push(&r, i, 1000 * MS + i * 40 * MS);
    if (i % 5 == 0) bf_nominal_rate_push(&r, i - 1, 1000 * MS + (i - 1) * 40 * MS);
  }
  assert_int_equal(bf_nominal_rate_get(&r, &fps), 1);
  assert_true(fps == 25);
  bf_nominal_rate_push(&r, 100000, 100000 * MS);
  assert_int_equal(bf_nominal_rate_get(&r, &fps), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_nominal)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
