/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Pacer: burst sizes and times of the spread schedule, the rate cap within
 * and across AUs, partial sends, bad settings. Time is plain ns values.
 */
#include "testutil.h"

#include "pacer.h"

#include <errno.h>

#define MS 1000000ull

static bf_pacer make(uint64_t cap, uint32_t burst, uint32_t spread) {
  bf_pacer p;
  bf_pacer_config c = {cap, burst, spread};
  assert_int_equal(bf_pacer_init(&p, &c), 0);
  return p;
}

static void test_defaults_and_init(void **state) {
  (void)state;
  bf_pacer_config c;
  bf_pacer_config_default(&c);
  assert_int_equal(c.rate_cap_bps, 800000000ull);
  assert_int_equal(c.burst_max, 32);
  assert_int_equal(c.spread_permille, 250);
  bf_pacer p;
  c.burst_max = 0;
  assert_int_equal(bf_pacer_init(&p, &c), -EINVAL);
  c.burst_max = 1;
  c.spread_permille = 1001;
  assert_int_equal(bf_pacer_init(&p, &c), -EINVAL);
}

/* A small AU leaves in one burst at once: pacing costs it nothing. */
static void test_single_burst(void **state) {
  (void)state;
  bf_pacer p = make(800000000ull, 32, 250);
  uint64_t next;
  bf_pacer_begin(&p, 1000, 16666667, 7, 1476);
  assert_true(bf_pacer_busy(&p));
  assert_int_equal(bf_pacer_poll(&p, 1000, &next), 7);
  bf_pacer_sent(&p, 1000, 7);
  assert_false(bf_pacer_busy(&p));
  assert_int_equal(bf_pacer_poll(&p, 1000, &next), 0);
  assert_int_equal(next, UINT64_MAX);
  /* an empty AU is done from the start */
  bf_pacer_begin(&p, 2000, 16666667, 0, 1476);
  assert_false(bf_pacer_busy(&p));
  assert_int_equal(bf_pacer_poll(&p, 2000, &next), 0);
  assert_int_equal(next, UINT64_MAX);
}

/* 100 packets, bursts of at most 32: 4 bursts of 25 at t0 + k * spread / 4. */
static void test_spread(void **state) {
  (void)state;
  bf_pacer p = make(0, 32, 500); /* no cap; half of a 16 ms interval = 8 ms */
  const uint64_t t0 = 5 * MS, interval = 16 * MS;
  bf_pacer_begin(&p, t0, interval, 100, 1476);
  uint64_t next, now = t0;
  for (uint32_t k = 0; k < 4; k++) {
    uint64_t due = t0 + 8 * MS * k / 4;
    if (k > 0) {
      assert_int_equal(bf_pacer_poll(&p, due - 1, &next), 0);
      assert_int_equal(next, due);
    }
    now = due;
    assert_int_equal(bf_pacer_poll(&p, now, &next), 25);
    bf_pacer_sent(&p, now, 25);
  }
  assert_false(bf_pacer_busy(&p));
  assert_int_equal(p.burst_done, 4);
  /* 70 packets in bursts of 32: 3 bursts of 24, 23, 23 */
  bf_pacer_begin(&p, now, interval, 70, 1476);
  uint32_t sizes[3];
  for (unsigned k = 0; k < 3; k++) {
    uint64_t at = now + 8 * MS * k / 3;
    sizes[k] = bf_pacer_poll(&p, at, &next);
    bf_pacer_sent(&p, at, sizes[k]);
  }
  assert_int_equal(sizes[0] + sizes[1] + sizes[2], 70);
  for (int k = 0; k < 3; k++)
    assert_true(sizes[k] == 23 || sizes[k] == 24);
  assert_false(bf_pacer_busy(&p));
}

/* A caller that sends part of a burst gets the rest at once. */
static void test_partial_burst(void **state) {
  (void)state;
  bf_pacer p = make(0, 10, 1000);
  uint64_t next;
  bf_pacer_begin(&p, 0, 10 * MS, 20, 1000);
  assert_int_equal(bf_pacer_poll(&p, 0, &next), 10);
  bf_pacer_sent(&p, 0, 4);
  assert_int_equal(bf_pacer_poll(&p, 1, &next), 6);
  bf_pacer_sent(&p, 1, 6);
  assert_int_equal(bf_pacer_poll(&p, 2, &next), 0); /* burst 1 is due at 5 ms */
  assert_int_equal(next, 5 * MS);
  assert_int_equal(bf_pacer_poll(&p, 5 * MS, &next), 10);
  bf_pacer_sent(&p, 5 * MS, 10);
  assert_false(bf_pacer_busy(&p));
}

/* The cap spaces bursts by their drain time and carries over to the next AU. */
static void test_rate_cap(void **state) {
  (void)state;
  /* 8 Mbit/s, 1000-byte packets, bursts of 10: a burst drains in 10 ms */
  bf_pacer p = make(8000000ull, 10, 0);
  uint64_t next;
  bf_pacer_begin(&p, 0, 100 * MS, 30, 1000);
  assert_int_equal(bf_pacer_poll(&p, 0, &next), 10);
  bf_pacer_sent(&p, 0, 10);
  assert_int_equal(bf_pacer_poll(&p, 0, &next), 0); /* spread 0: due now, but capped */
  assert_int_equal(next, 10 * MS);
  assert_int_equal(bf_pacer_poll(&p, 10 * MS - 1, &next), 0);
  assert_int_equal(bf_pacer_poll(&p, 10 * MS, &next), 10);
  bf_pacer_sent(&p, 12 * MS, 10); /* sent late: the cap counts from then */
  assert_int_equal(bf_pacer_poll(&p, 21 * MS, &next), 0);
  assert_int_equal(next, 22 * MS);
  assert_int_equal(bf_pacer_poll(&p, 22 * MS, &next), 10);
  bf_pacer_sent(&p, 22 * MS, 10);
  assert_false(bf_pacer_busy(&p));
  assert_true(p.cap_waits >= 2);
  /* the next AU begins before the last burst has drained: it waits */
  bf_pacer_begin(&p, 25 * MS, 100 * MS, 5, 1000);
  assert_int_equal(bf_pacer_poll(&p, 25 * MS, &next), 0);
  assert_int_equal(next, 32 * MS);
  assert_int_equal(bf_pacer_poll(&p, 32 * MS, &next), 5);
  bf_pacer_sent(&p, 32 * MS, 5);
  /* and long after, nothing is owed */
  bf_pacer_begin(&p, 1000 * MS, 100 * MS, 5, 1000);
  assert_int_equal(bf_pacer_poll(&p, 1000 * MS, &next), 5);
}

/* Default settings: the long-run rate never exceeds the cap, whatever the
 * AU sizes. */
static void test_cap_holds(void **state) {
  (void)state;
  bf_test_rng rng;
  bf_test_rng_seed(&rng, 3);
  bf_pacer_config c;
  bf_pacer_config_default(&c);
  bf_pacer p;
  assert_int_equal(bf_pacer_init(&p, &c), 0);
  const uint64_t interval = 16666667;
  uint64_t now = 0, bytes = 0, first = UINT64_MAX, last = 0;
  for (int au = 0; au < 200; au++) {
    uint32_t n = 1 + bf_test_rng_below(&rng, au % 20 == 0 ? 3000 : 200);
    bf_pacer_begin(&p, now, interval, n, 1476);
    while (bf_pacer_busy(&p)) {
      uint64_t next;
      uint32_t k = bf_pacer_poll(&p, now, &next);
      if (k == 0) {
        assert_true(next > now && next != UINT64_MAX);
        now = next;
        continue;
      }
      if (first == UINT64_MAX) first = now;
      last = now;
      bytes += (uint64_t)k * 1476;
      bf_pacer_sent(&p, now, k);
    }
    if (now < (uint64_t)(au + 1) * interval) now = (uint64_t)(au + 1) * interval;
  }
  /* everything but the last burst had drained at the cap by |last| */
  double secs = (double)(last - first) / 1e9;
  assert_true(secs > 0);
  assert_true((double)(bytes - 32 * 1476) * 8 / secs <= 800e6 * 1.001);
}

/* bf_pacer_set_cap while running: the new cap paces the next burst, the
 * new burst size plans the next AU; 0 keeps the burst size. */
static void test_set_cap(void **state) {
  (void)state;
  bf_pacer p = make(0, 32, 0);
  uint64_t next;
  bf_pacer_begin(&p, 0, 16 * MS, 10, 1000);
  assert_int_equal(bf_pacer_poll(&p, 0, &next), 10); /* no cap: all at once */
  /* 8 Mbit/s and bursts of 2 packets: 2 x 1000 bytes drain in 2 ms */
  bf_pacer_set_cap(&p, 8000000, 2);
  assert_int_equal(p.cfg.burst_max, 2);
  bf_pacer_begin(&p, 0, 16 * MS, 10, 1000);
  assert_int_equal(p.bursts, 5);
  uint64_t now = 0;
  for (int b = 0; b < 5; b++) {
    uint32_t n = bf_pacer_poll(&p, now, &next);
    assert_int_equal(n, 2);
    bf_pacer_sent(&p, now, n);
    if (b < 4) {
      assert_int_equal(bf_pacer_poll(&p, now, &next), 0);
      assert_int_equal(next, now + 2 * MS);
      now = next;
    }
  }
  assert_false(bf_pacer_busy(&p));
  bf_pacer_set_cap(&p, 0, 0); /* no cap, burst size kept */
  assert_int_equal(p.cfg.burst_max, 2);
  assert_int_equal(p.cfg.rate_cap_bps, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_defaults_and_init),
      cmocka_unit_test(test_single_burst),
      cmocka_unit_test(test_spread),
      cmocka_unit_test(test_partial_burst),
      cmocka_unit_test(test_rate_cap),
      cmocka_unit_test(test_cap_holds),
      cmocka_unit_test(test_set_cap),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
