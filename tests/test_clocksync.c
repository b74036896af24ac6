/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Clock sync estimator: the sample formula, the ping schedule, min-RTT choice
 * over a simulated path with random delays, the round acceptance rule, and
 * rejection of pongs that do not belong to a ping.
 */
#include "testutil.h"

#include <bildfunk/clocksync.h>

#include <errno.h>
#include <string.h>

#define MS 1000000ull

static void test_sample_formula(void **state) {
  (void)state;
  int64_t off;
  uint64_t rtt;
  /* sender 5 ms ahead, 1 ms each way, 10 us held */
  uint64_t t1 = 1000 * MS, t2 = t1 + 5 * MS + 1 * MS, t3 = t2 + 10000, t4 = t1 + 2 * MS + 10000;
  assert_int_equal(bf_clocksync_sample(t1, t2, t3, t4, &off, &rtt), 0);
  assert_int_equal(off, (int64_t)(5 * MS));
  assert_int_equal(rtt, 2 * MS);
  /* sender 7 ms behind, asymmetric path 3 ms out / 1 ms back: error 1 ms */
  t1 = 2000 * MS;
  t2 = t1 - 7 * MS + 3 * MS;
  t3 = t2;
  t4 = t1 + 4 * MS;
  assert_int_equal(bf_clocksync_sample(t1, t2, t3, t4, &off, &rtt), 0);
  assert_int_equal(off, -(int64_t)(7 * MS) + (int64_t)MS);
  assert_int_equal(rtt, 4 * MS);
  /* realistic epoch values do not overflow */
  t1 = 1700000000000000000ull;
  assert_int_equal(bf_clocksync_sample(t1, t1 + 100, t1 + 200, t1 + 300, &off, &rtt), 0);
  assert_int_equal(off, 0);
  assert_int_equal(rtt, 200);
  /* impossible times */
  assert_int_equal(bf_clocksync_sample(10, 5, 6, 9, &off, &rtt), -EINVAL);   /* t4 < t1 */
  assert_int_equal(bf_clocksync_sample(10, 6, 5, 20, &off, &rtt), -EINVAL);  /* t3 < t2 */
  assert_int_equal(bf_clocksync_sample(10, 0, 50, 20, &off, &rtt), -EINVAL); /* held > rtt */
  assert_int_equal(bf_clocksync_sample(0, UINT64_MAX - 10, UINT64_MAX, 20, &off, &rtt), -EINVAL);
}

static void test_schedule(void **state) {
  (void)state;
  bf_clocksync cs;
  bf_clocksync_config cfg;
  bf_clocksync_config_default(&cfg);
  assert_int_equal(cfg.burst, 8);
  uint64_t t0 = 5000 * MS;
  assert_int_equal(bf_clocksync_init(&cs, &cfg, t0), 0);
  uint32_t id, ids[8];
  assert_int_equal(bf_clocksync_get(&cs, NULL, NULL), -EAGAIN);
  for (int i = 0; i < 8; i++) {
    uint64_t due = bf_clocksync_next_due(&cs);
    assert_int_equal(due, t0 + (uint64_t)i * 50 * MS);
    assert_int_equal(bf_clocksync_poll(&cs, due - 1, &id), 0);
    assert_int_equal(bf_clocksync_poll(&cs, due, &ids[i]), 1);
    assert_int_equal(bf_clocksync_poll(&cs, due, &id), 0);
    if (i) assert_int_not_equal(ids[i], ids[i - 1]);
  }
  /* no pong at all: the round closes after the timeout and the next one
   * starts a second after the first began */
  assert_int_equal(bf_clocksync_next_due(&cs), t0 + 1000 * MS);
  assert_int_equal(bf_clocksync_poll(&cs, t0 + 999 * MS, &id), 0);
  assert_int_equal(bf_clocksync_poll(&cs, t0 + 1000 * MS, &id), 1);
  /* a pong for the previous round's ping is no longer accepted */
  assert_int_equal(bf_clocksync_on_pong(&cs, ids[7], t0 + 350 * MS, t0 + 351 * MS, t0 + 351 * MS,
                                        t0 + 1001 * MS),
                   -ENOENT);
  /* answer this one: from now on rounds are 10 s apart */
  uint64_t t1 = t0 + 1000 * MS;
  assert_int_equal(bf_clocksync_on_pong(&cs, id, t1, t1 + MS, t1 + MS, t1 + 2 * MS), 1);
  int64_t off;
  uint64_t rtt;
  assert_int_equal(bf_clocksync_get(&cs, &off, &rtt), 0);
  assert_int_equal(off, 0);
  assert_int_equal(rtt, 2 * MS);
  for (int i = 1; i < 8; i++) {
    uint64_t due = bf_clocksync_next_due(&cs);
    assert_int_equal(bf_clocksync_poll(&cs, due, &id), 1);
  }
  /* the round is still open until its timeout, then the next is 10 s after
   * its start (the one-second retry was already scheduled when no pong had
   * come, so one short gap may remain) */
  uint64_t due = bf_clocksync_next_due(&cs);
  assert_true(due <= t1 + 10000 * MS);
  assert_int_equal(bf_clocksync_poll(&cs, t1 + 1400 * MS, &id), 0);
  assert_true(bf_clocksync_next_due(&cs) >= t1 + 1400 * MS);
  assert_int_equal(bf_clocksync_get(&cs, &off, NULL), 0);
  assert_int_equal(off, 0);
  assert_int_equal(cs.pongs_ignored, 1);
}

/* A simulated path: random one-way delays, one true offset. The estimate's
 * error must be at most half the asymmetry of the min-RTT sample, and that
 * sample must be the one chosen. */
static void test_min_rtt_over_random_path(void **state) {
  (void)state;
  bf_test_rng rng;
  bf_test_rng_seed(&rng, 0xC10C5);
  const int64_t true_off = 123456789;
  bf_clocksync cs;
  uint64_t now = 1700000000000000000ull;
  assert_int_equal(bf_clocksync_init(&cs, NULL, now), 0);
  uint64_t best_rtt = UINT64_MAX;
  int64_t best_err = 0;
  for (int step = 0; step < 8; step++) {
    uint32_t id;
    now = bf_clocksync_next_due(&cs);
    assert_int_equal(bf_clocksync_poll(&cs, now, &id), 1);
    uint64_t out = 100000 + bf_test_rng_below(&rng, 5000000);
    uint64_t back = 100000 + bf_test_rng_below(&rng, 5000000);
    uint64_t held = bf_test_rng_below(&rng, 50000);
    uint64_t t2 = (uint64_t)((int64_t)(now + out) + true_off), t3 = t2 + held;
    uint64_t t4 = now + out + held + back;
    int r = bf_clocksync_on_pong(&cs, id, now, t2, t3, t4);
    assert_true(r == 0 || r == 1);
    if (out + back < best_rtt) {
      best_rtt = out + back;
      best_err = ((int64_t)out - (int64_t)back) / 2;
      assert_int_equal(r, 1); /* the first round adopts every better sample */
    }
  }
  int64_t off;
  uint64_t rtt;
  assert_int_equal(bf_clocksync_get(&cs, &off, &rtt), 0);
  assert_int_equal(rtt, best_rtt);
  int64_t err = off - true_off;
  assert_true(err - best_err <= 1 && best_err - err <= 1);
  assert_int_equal(cs.rounds_adopted, 1); /* all 8 answered: closed at once */
}

/* Runs one full round where every ping sees |rtt| symmetric delay against a
 * sender |off| ahead; returns bf_clocksync_on_pong()'s last result. */
static int run_round(bf_clocksync *cs, uint64_t *now, int64_t off, uint64_t rtt) {
  int changed = 0;
  *now = bf_clocksync_next_due(cs);
  for (uint32_t i = 0; i < cs->cfg.burst; i++) {
    uint32_t id;
    uint64_t t = bf_clocksync_next_due(cs);
    if (t > *now) *now = t;
    assert_int_equal(bf_clocksync_poll(cs, *now, &id), 1);
    uint64_t t2 = (uint64_t)((int64_t)(*now + rtt / 2) + off);
    int r = bf_clocksync_on_pong(cs, id, *now, t2, t2, *now + rtt);
    assert_true(r >= 0);
    changed |= r;
  }
  return changed;
}

static void test_round_acceptance(void **state) {
  (void)state;
  bf_clocksync cs;
  uint64_t now = 1000 * MS;
  assert_int_equal(bf_clocksync_init(&cs, NULL, now), 0);
  int64_t off;
  assert_int_equal(run_round(&cs, &now, 1000, 1 * MS), 1);
  assert_int_equal(bf_clocksync_get(&cs, &off, NULL), 0);
  assert_int_equal(off, 1000);
  /* 1.9 ms is within max(2 ms, 1.5 x 1 ms): adopted */
  assert_int_equal(run_round(&cs, &now, 2000, 1900000), 1);
  assert_int_equal(bf_clocksync_get(&cs, &off, NULL), 0);
  assert_int_equal(off, 2000);
  /* three slow rounds: the first two are rejected, the third adopts the
   * streak's best */
  assert_int_equal(run_round(&cs, &now, 3000, 9 * MS), 0);
  assert_int_equal(run_round(&cs, &now, 4000, 8 * MS), 0);
  assert_int_equal(bf_clocksync_get(&cs, &off, NULL), 0);
  assert_int_equal(off, 2000);
  assert_int_equal(run_round(&cs, &now, 5000, 10 * MS), 1);
  uint64_t rtt;
  assert_int_equal(bf_clocksync_get(&cs, &off, &rtt), 0);
  assert_int_equal(off, 4000);
  assert_int_equal(rtt, 8 * MS);
  assert_int_equal(cs.rounds_rejected, 3);
  /* a round whose pings all go unanswered leaves the estimate alone */
  uint32_t id;
  for (uint32_t i = 0; i < cs.cfg.burst; i++) {
    now = bf_clocksync_next_due(&cs);
    assert_int_equal(bf_clocksync_poll(&cs, now, &id), 1);
  }
  now += 2000 * MS;
  assert_int_equal(bf_clocksync_poll(&cs, now, &id), 0);
  assert_int_equal(bf_clocksync_get(&cs, &off, NULL), 0);
  assert_int_equal(off, 4000);
}

static void test_bad_pongs(void **state) {
  (void)state;
  bf_clocksync cs;
  uint64_t now = 77 * MS;
  bf_clocksync_config cfg;
  bf_clocksync_config_default(&cfg);
  cfg.burst = 0;
  assert_int_equal(bf_clocksync_init(&cs, &cfg, now), -EINVAL);
  cfg.burst = BF_CLOCKSYNC_MAX_BURST + 1;
  assert_int_equal(bf_clocksync_init(&cs, &cfg, now), -EINVAL);
  assert_int_equal(bf_clocksync_init(&cs, NULL, now), 0);
  uint32_t id;
  assert_int_equal(bf_clocksync_poll(&cs, now, &id), 1);
  /* unknown id, wrong echoed t1 */
  assert_int_equal(bf_clocksync_on_pong(&cs, id + 1, now, now, now, now + MS), -ENOENT);
  assert_int_equal(bf_clocksync_on_pong(&cs, id, now + 1, now, now, now + MS), -ENOENT);
  /* impossible and late */
  assert_int_equal(bf_clocksync_on_pong(&cs, id, now, now + 5, now + 4, now + MS), -EINVAL);
  assert_int_equal(bf_clocksync_on_pong(&cs, id, now, now, now, now + 2000 * MS), -EINVAL);
  assert_int_equal(bf_clocksync_get(&cs, NULL, NULL), -EAGAIN);
  /* the ping is still outstanding: a good answer counts once */
  assert_int_equal(bf_clocksync_on_pong(&cs, id, now, now + MS, now + MS, now + 2 * MS), 1);
  assert_int_equal(bf_clocksync_on_pong(&cs, id, now, now + MS, now + MS, now + 2 * MS), -ENOENT);
  assert_int_equal(cs.pongs_ignored, 5);
  assert_int_equal(cs.pongs_used, 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sample_formula),
      cmocka_unit_test(test_schedule),
      cmocka_unit_test(test_min_rtt_over_random_path),
      cmocka_unit_test(test_round_acceptance),
      cmocka_unit_test(test_bad_pongs),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
