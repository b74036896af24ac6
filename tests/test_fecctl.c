/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Adaptive FEC controller: synthetic LOSS_REPORT sequences with the time
 * passed in. Steady loss levels against the formula, the start value, the
 * 5 % floor and its decay timing, re-burn doubling and its cap, clamps,
 * silence, report floods and garbage fields.
 */
#include "testutil.h"

#include <bildfunk/fecctl.h>

#include <errno.h>
#include <string.h>

#define WIN 750000000ull

static bf_feedback report(uint32_t loss_ppm) {
  bf_feedback f;
  memset(&f, 0, sizeof f);
  f.type = BF_FB_LOSS_REPORT;
  f.u.loss.window_ms = 750;
  f.u.loss.packets_received = 1000;
  f.u.loss.shards_missing = (uint32_t)((uint64_t)loss_ppm * 1000u / 1000000u);
  f.u.loss.loss_ppm = loss_ppm;
  return f;
}

/* |n| reports of |ppm| one window apart starting after *t; returns the last
 * result of on_report. */
static int feed(bf_fecctl *c, uint64_t *t, unsigned n, uint32_t ppm) {
  int r = 0;
  bf_feedback f = report(ppm);
  for (unsigned i = 0; i < n; i++) {
    *t += WIN;
    r = bf_fecctl_on_report(c, &f, *t);
  }
  return r;
}

static void test_formula(void **state) {
  (void)state;
  bf_fecctl_config cfg;
  bf_fecctl_config_default(&cfg);
  assert_int_equal(bf_fecctl_target(&cfg, 0), 1);
  assert_int_equal(bf_fecctl_target(&cfg, 1), 2);     /* any loss rounds up */
  assert_int_equal(bf_fecctl_target(&cfg, 10000), 3); /* 1 %: 1.4 -> 2, +1 */
  assert_int_equal(bf_fecctl_target(&cfg, 50000), 8); /* 5 %: 7 exactly, +1 */
  assert_int_equal(bf_fecctl_target(&cfg, 50001), 9);
  assert_int_equal(bf_fecctl_target(&cfg, 100000), 15); /* 10 %: 14 + 1 */
  assert_int_equal(bf_fecctl_target(&cfg, 200000), 29);
  assert_int_equal(bf_fecctl_target(&cfg, 350000), 50); /* 49 + 1 */
  assert_int_equal(bf_fecctl_target(&cfg, 360000), 50); /* clamped */
  assert_int_equal(bf_fecctl_target(&cfg, 1000000), 50);
  assert_int_equal(bf_fecctl_target(&cfg, UINT32_MAX), 50); /* garbage */
  /* every ppm against a floating-point reference */
  for (uint32_t ppm = 0; ppm <= 400000; ppm += 37) {
    double want = 0;
    uint64_t num = (uint64_t)ppm * 14u;
    want = (double)(num / 100000u + (num % 100000u ? 1 : 0)) + 1;
    if (want > 50) want = 50;
    assert_int_equal(bf_fecctl_target(&cfg, ppm), (uint32_t)want);
  }
}

static void test_start_and_steady_levels(void **state) {
  (void)state;
  static const struct {
    uint32_t ppm, want;
  } lv[] = {{10000, 5},   {20000, 5},   {30000, 6},   {50000, 8},
            {100000, 15}, {300000, 43}, {500000, 50}, {0, 1}};
  for (size_t i = 0; i < sizeof lv / sizeof lv[0]; i++) {
    bf_fecctl c;
    bf_fecctl_init(&c, NULL);
    assert_int_equal(bf_fecctl_percent(&c), 10);
    uint64_t t = 1000000000ull;
    feed(&c, &t, 50, lv[i].ppm);
    /* below the floor the floor rules (1 %: target 3, floor 5) */
    assert_int_equal(bf_fecctl_percent(&c), lv[i].want);
    assert_int_equal(c.stats.reports, 50);
    /* steady loss is one burn, not fifty */
    assert_int_equal(c.stats.burns, lv[i].ppm ? 1 : 0);
    assert_int_equal(c.stats.reburns, 0);
  }
}

static void test_floor_and_decay(void **state) {
  (void)state;
  bf_fecctl c;
  bf_fecctl_init(&c, NULL);
  uint64_t t = 5000000000ull;
  feed(&c, &t, 3, 0);
  assert_int_equal(bf_fecctl_percent(&c), 1); /* clean: the formula */
  feed(&c, &t, 4, 100000);
  assert_int_equal(bf_fecctl_percent(&c), 15);
  /* loss stops: the target falls at once, the floor holds 5 % */
  assert_int_equal(feed(&c, &t, 1, 0), 1);
  assert_int_equal(bf_fecctl_percent(&c), 5);
  /* 159 clean windows in all: still 5; the 160th earns 1 % */
  feed(&c, &t, 158, 0);
  assert_int_equal(bf_fecctl_percent(&c), 5);
  assert_int_equal(feed(&c, &t, 1, 0), 1);
  assert_int_equal(bf_fecctl_percent(&c), 4);
  /* then 1 % per 160 windows down to the minimum */
  feed(&c, &t, 159, 0);
  assert_int_equal(bf_fecctl_percent(&c), 4);
  feed(&c, &t, 1, 0);
  assert_int_equal(bf_fecctl_percent(&c), 3);
  feed(&c, &t, 320, 0);
  assert_int_equal(bf_fecctl_percent(&c), 1);
  assert_int_equal(c.stats.decays, 4);
  /* probation over: the next loss is a first burn, no doubling */
  feed(&c, &t, 1, 1000);
  assert_int_equal(bf_fecctl_percent(&c), 5);
  assert_int_equal(c.need_windows, 160);
  assert_int_equal(c.stats.reburns, 0);
  feed(&c, &t, 159, 0);
  assert_int_equal(bf_fecctl_percent(&c), 5);
  feed(&c, &t, 1, 0);
  assert_int_equal(bf_fecctl_percent(&c), 4);
}

static void test_reburn_doubles(void **state) {
  (void)state;
  bf_fecctl c;
  bf_fecctl_init(&c, NULL);
  uint64_t t = 0;
  feed(&c, &t, 2, 20000); /* burn: floor 5, need 160 */
  feed(&c, &t, 100, 0);
  assert_int_equal(bf_fecctl_percent(&c), 5);
  /* a loss during probation: need doubles to 320, the clean count restarts */
  feed(&c, &t, 1, 500);
  assert_int_equal(c.need_windows, 320);
  assert_int_equal(c.stats.reburns, 1);
  feed(&c, &t, 319, 0);
  assert_int_equal(bf_fecctl_percent(&c), 5);
  feed(&c, &t, 1, 0);
  assert_int_equal(bf_fecctl_percent(&c), 4);
  /* still on probation at 4 %: a re-burn goes back to 5 % and doubles again */
  feed(&c, &t, 10, 0);
  feed(&c, &t, 3, 500); /* three lossy windows in a row: one re-burn */
  assert_int_equal(bf_fecctl_percent(&c), 5);
  assert_int_equal(c.need_windows, 640);
  assert_int_equal(c.stats.reburns, 2);
  /* the cap: 1280 */
  for (int i = 0; i < 4; i++) {
    feed(&c, &t, 1, 0);
    feed(&c, &t, 1, 500);
  }
  assert_int_equal(c.need_windows, 1280);
  assert_int_equal(c.stats.reburns, 6);
  feed(&c, &t, 1279, 0);
  assert_int_equal(bf_fecctl_percent(&c), 5);
  feed(&c, &t, 1, 0);
  assert_int_equal(bf_fecctl_percent(&c), 4);
  /* down to the minimum (1280 windows per step), then the requirement resets */
  feed(&c, &t, 3 * 1280, 0);
  assert_int_equal(bf_fecctl_percent(&c), 1);
  assert_int_equal(c.need_windows, 160);
}

static void test_silence_and_flood(void **state) {
  (void)state;
  bf_fecctl c;
  bf_fecctl_init(&c, NULL);
  uint64_t t = 0;
  feed(&c, &t, 1, 50000);
  assert_int_equal(bf_fecctl_percent(&c), 8);
  /* the client goes silent for ten minutes: nothing changes... */
  assert_int_equal(bf_fecctl_percent(&c), 8);
  /* ...and the first clean report after it earns at most two windows */
  bf_feedback f = report(0);
  t += 600000000000ull;
  assert_int_equal(bf_fecctl_on_report(&c, &f, t), 1);
  assert_int_equal(bf_fecctl_percent(&c), 5);
  assert_int_equal(c.clean_ns, 2 * WIN);
  /* a flood of clean reports 1 ms apart earns 1 ms each */
  for (int i = 0; i < 10000; i++) {
    t += 1000000u;
    bf_fecctl_on_report(&c, &f, t);
  }
  assert_int_equal(bf_fecctl_percent(&c), 5);
  assert_int_equal(c.clean_ns, 2 * WIN + 10000ull * 1000000u);
  /* time going backwards earns nothing */
  bf_fecctl_on_report(&c, &f, t - 5 * WIN);
  assert_int_equal(c.clean_ns, 2 * WIN + 10000ull * 1000000u);
  /* a flood of lossy reports does not double anything either */
  bf_fecctl d;
  bf_fecctl_init(&d, NULL);
  t = 0;
  bf_feedback l = report(10000);
  for (int i = 0; i < 1000; i++) {
    t += 1000u;
    bf_fecctl_on_report(&d, &l, t);
  }
  assert_int_equal(d.need_windows, 160);
  assert_int_equal(bf_fecctl_percent(&d), 5);
}

static void test_garbage(void **state) {
  (void)state;
  bf_fecctl c;
  bf_fecctl_init(&c, NULL);
  uint64_t t = 0;
  /* loss_ppm above a million is a million: 100 % loss, clamped to 50 */
  bf_feedback f = report(0);
  f.u.loss.loss_ppm = 4000000000u;
  t += WIN;
  assert_int_equal(bf_fecctl_on_report(&c, &f, t), 1);
  assert_int_equal(bf_fecctl_percent(&c), 50);
  /* window_ms 0 is accepted; loss still counts */
  f = report(50000);
  f.u.loss.window_ms = 0;
  t += WIN;
  bf_fecctl_on_report(&c, &f, t);
  assert_int_equal(bf_fecctl_percent(&c), 8);
  /* an empty window is ignored */
  memset(&f.u.loss, 0, sizeof f.u.loss);
  t += WIN;
  assert_int_equal(bf_fecctl_on_report(&c, &f, t), 0);
  assert_int_equal(bf_fecctl_percent(&c), 8);
  assert_int_equal(c.stats.ignored, 1);
  /* not a loss report */
  f.type = BF_FB_CLOCK_PING;
  assert_int_equal(bf_fecctl_on_report(&c, &f, t), -EINVAL);
  assert_int_equal(c.stats.ignored, 2);
  assert_int_equal(c.stats.reports, 2);
  /* random reports never leave [1, 50] and never fall below the floor after loss */
  bf_test_rng rng;
  bf_test_rng_seed(&rng, 7);
  bf_fecctl_init(&c, NULL);
  int seen_loss = 0;
  for (int i = 0; i < 100000; i++) {
    bf_feedback g;
    memset(&g, 0, sizeof g);
    g.type = BF_FB_LOSS_REPORT;
    g.u.loss.window_ms = (uint32_t)bf_test_rng_next(&rng);
    g.u.loss.packets_received = (uint32_t)bf_test_rng_next(&rng);
    g.u.loss.shards_missing = (uint32_t)bf_test_rng_next(&rng);
    uint32_t k = bf_test_rng_below(&rng, 4);
    g.u.loss.loss_ppm = k == 0   ? 0
                        : k == 1 ? bf_test_rng_below(&rng, 20000)
                                 : (uint32_t)bf_test_rng_next(&rng);
    t += bf_test_rng_below(&rng, 2000000000u);
    bf_fecctl_on_report(&c, &g, t);
    uint32_t p = bf_fecctl_percent(&c);
    assert_true(p >= 1 && p <= 50);
    if (g.u.loss.loss_ppm) seen_loss = 1;
    if (seen_loss) assert_true(p >= c.floor);
    if (g.u.loss.loss_ppm) assert_true(p >= 5);
    assert_true(c.need_windows >= 160 && c.need_windows <= 1280);
  }
}

static void test_config_and_reset(void **state) {
  (void)state;
  bf_fecctl_config cfg;
  bf_fecctl_config_default(&cfg);
  cfg.start_percent = 200; /* out of range: clamped */
  cfg.max_percent = 95;
  cfg.decay_windows = 0;
  bf_fecctl c;
  bf_fecctl_init(&c, &cfg);
  assert_int_equal(c.cfg.max_percent, 90);
  assert_int_equal(bf_fecctl_percent(&c), 90);
  assert_int_equal(c.cfg.decay_windows, 1);
  bf_fecctl_init(&c, NULL);
  uint64_t t = 0;
  feed(&c, &t, 3, 30000);
  feed(&c, &t, 1, 0);
  feed(&c, &t, 1, 30000);
  assert_int_not_equal(bf_fecctl_percent(&c), 10);
  uint64_t reports = c.stats.reports;
  bf_fecctl_reset(&c);
  assert_int_equal(bf_fecctl_percent(&c), 10);
  assert_int_equal(c.floor, 1);
  assert_int_equal(c.need_windows, 160);
  assert_int_equal(c.stats.reports, reports);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_formula),           cmocka_unit_test(test_start_and_steady_levels),
      cmocka_unit_test(test_floor_and_decay),   cmocka_unit_test(test_reburn_doubles),
      cmocka_unit_test(test_silence_and_flood), cmocka_unit_test(test_garbage),
      cmocka_unit_test(test_config_and_reset),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
