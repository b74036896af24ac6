/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Block-loss model of adaptive FEC (bildfunk/fecmodel.h, fecctl.h): the
 * Gilbert estimate from a known loss sequence, the block-failure
 * probability against the binomial tail (independent loss) and against
 * hand-computed burst cases, the parity the tables choose for given loss
 * parameters and frame sizes, and the controller's per-block parity
 * following loss reports (keyframes stricter, the percentage rule as the
 * floor, the cap).
 */
#include "testutil.h"

#include <bildfunk/fecctl.h>
#include <bildfunk/fecmodel.h>
#include <bildfunk/wire.h>

#include <string.h>

/* doubles compared to |eps| (cmocka's float check is single precision) */
#define assert_close(a, b, eps) assert_true(absd((double)(a) - (double)(b)) <= (eps))

static double absd(double v) {
  return v < 0 ? -v : v;
}

static double powi(double x, uint32_t n) {
  double r = 1.0;
  while (n--)
    r *= x;
  return r;
}

/* P(more than m of n lost), independent loss q: the binomial tail. */
static double binom_tail(uint32_t n, uint32_t m, double q) {
  double ok = 0.0;
  for (uint32_t j = 0; j <= m; j++) {
    double c = 1.0;
    for (uint32_t i = 0; i < j; i++)
      c = c * (double)(n - i) / (double)(i + 1);
    ok += c * powi(q, j) * powi(1.0 - q, n - j);
  }
  return 1.0 - ok;
}

static void test_estimate_known_sequence(void **state) {
  (void)state;
  /* 20 packets: lost 3-4, 10, 15-17: 6 lost in 3 runs of 14 received */
  static const int lost_at[20] = {0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 1, 1, 0, 0};
  double lost = 0, runs = 0;
  for (int i = 0; i < 20; i++) {
    lost += lost_at[i];
    if (lost_at[i] && (i == 0 || !lost_at[i - 1])) runs++;
  }
  bf_ge g = bf_ge_estimate(20, lost, runs);
  assert_close(g.p, 3.0 / 14.0, 1e-12);
  assert_close(g.r, 3.0 / 6.0, 1e-12);
  assert_close(bf_ge_loss(g), 6.0 / 20.0, 1e-12);
  /* no loss: p = 0; runs unknown: independent loss */
  g = bf_ge_estimate(1000, 0, 0);
  assert_close(g.p, 0.0, 0.0);
  g = bf_ge_estimate(1000, 50, 0);
  assert_close(g.p, 0.05, 1e-12);
  assert_close(g.r, 0.95, 1e-12);
  /* a long Gilbert sequence (p = 0.004, r = 0.2: 2 % in bursts of 5) from
   * a fixed generator: the estimate lands within 10 % of the truth */
  uint64_t x = 12345;
  int bad = 0;
  double n = 400000, l = 0, rr = 0;
  for (uint32_t i = 0; i < (uint32_t)n; i++) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    double u = (double)(x >> 11) / 9007199254740992.0;
    int nb = bad ? u >= 0.2 : u < 0.004;
    if (nb && !bad) rr++;
    bad = nb;
    l += bad;
  }
  g = bf_ge_estimate(n, l, rr);
  assert_true(absd(g.p - 0.004) < 0.0004);
  assert_true(absd(g.r - 0.2) < 0.02);
}

static void test_fail_probability(void **state) {
  (void)state;
  /* independent loss: the binomial tail */
  bf_ge bern = bf_ge_estimate(1000, 50, 0);
  for (uint32_t m = 0; m < 10; m++)
    assert_close(bf_fecmodel_fail(bern, 40, m), binom_tail(40, m, 0.05), 1e-9);
  /* bursts: two packets, nothing may be lost: 1 - P(good)(1 - p) */
  bf_ge b = {0.004, 0.2};
  double pg = 0.2 / 0.204;
  assert_close(bf_fecmodel_fail(b, 2, 0), 1.0 - pg * (1.0 - 0.004), 1e-12);
  /* three packets, at most 2 lost: fails only if all three are */
  double pb = 1.0 - pg;
  assert_close(bf_fecmodel_fail(b, 3, 2), pb * 0.8 * 0.8, 1e-12);
  assert_close(bf_fecmodel_fail(b, 3, 3), 0.0, 0.0);
}

/* The m the table picks: the smallest with fail <= target. */
static void test_table_choice(void **state) {
  (void)state;
  static uint8_t m[254];
  bf_ge bern = bf_ge_estimate(1000, 50, 0);
  bf_fecmodel_table(bern, 1e-4, 2, 253, m);
  for (uint32_t k = 1; k <= 253; k += 7) {
    assert_true(k + m[k] <= 255);
    if (k + m[k] == 255) continue; /* nothing fits: the most the block can hold */
    assert_true(binom_tail(k + m[k], m[k], 0.05) <= 1e-4 * (1 + 1e-9));
    if (m[k] > 2) assert_true(binom_tail(k + m[k] - 1, m[k] - 1, 0.05) > 1e-4);
  }
  /* 5 % random loss, 1e-4 per block: 30 shards need 8 (27 %), 128 need 19
   * (15 %), 3 need 3 (100 %): small frames relatively more parity */
  assert_int_equal(m[30], 8);
  assert_int_equal(m[128], 19);
  assert_int_equal(m[3], 3);
  /* 2 % in bursts of 5 wants more than 2 % random at the same size */
  static uint8_t mb[254], mr[254];
  bf_fecmodel_table((bf_ge){0.02 * 0.2 / 0.98, 0.2}, 1e-3, 2, 253, mb);
  bf_fecmodel_table(bf_ge_estimate(1000, 20, 0), 1e-3, 2, 253, mr);
  assert_true(mb[30] > mr[30] + 4);
  /* a stricter target never asks for less */
  static uint8_t mk[254];
  bf_fecmodel_table(bern, 1e-5, 2, 253, mk);
  for (uint32_t k = 1; k <= 253; k++)
    assert_true(mk[k] >= m[k]);
  /* no loss: the minimum */
  bf_fecmodel_table((bf_ge){0.0, 1.0}, 1e-4, 2, 253, m);
  assert_int_equal(m[1], 2);
  assert_int_equal(m[128], 2);
}

static bf_feedback loss(uint32_t received, uint32_t missing, uint32_t runs) {
  bf_feedback f;
  memset(&f, 0, sizeof f);
  f.type = BF_FB_LOSS_REPORT;
  f.u.loss.window_ms = 750;
  f.u.loss.packets_received = received;
  f.u.loss.shards_missing = missing;
  f.u.loss.loss_ppm = (uint32_t)((uint64_t)missing * 1000000u / (received + missing));
  f.u.loss.loss_runs = runs;
  return f;
}

static void test_controller_blocks(void **state) {
  (void)state;
  bf_fecctl c;
  bf_fecctl_init(&c, NULL);
  /* before any report: the prior (5 % independent loss), without the
   * small frames' allowance (2 data shards: 50 % of k, the rule's 2) */
  assert_int_equal(c.have_model, 2);
  assert_int_equal(bf_fecctl_block_m(&c, 30, 0), 8);
  assert_int_equal(bf_fecctl_block_m(&c, 2, 0), 2);
  /* a clean first report drops it: the rule alone (1 % -> 2 shards) */
  uint64_t t = 0;
  bf_feedback clean = loss(2000, 0, 0);
  bf_fecctl_on_report(&c, &clean, t += 750000000ull);
  assert_int_equal(c.have_model, 0);
  assert_int_equal(bf_fecctl_block_m(&c, 30, 0), 2);
  bf_fecctl_reset(&c); /* a new client: the prior again */
  assert_int_equal(bf_fecctl_block_m(&c, 30, 0), 8);
  bf_feedback f = loss(1900, 100, 95); /* 5 %, nearly independent */
  for (int i = 0; i < 8; i++)
    bf_fecctl_on_report(&c, &f, t += 750000000ull);
  assert_int_equal(bf_fecctl_percent(&c), 8); /* the percentage rule unchanged */
  uint32_t m30 = bf_fecctl_block_m(&c, 30, 0), m128 = bf_fecctl_block_m(&c, 128, 0);
  assert_true(m30 >= 7 && m30 <= 9);
  assert_true(m30 * 128 > m128 * 30);              /* relatively more for the small block */
  assert_true(bf_fecctl_block_m(&c, 30, 1) > m30); /* keyframes stricter */
  assert_true(bf_fecctl_block_m(&c, 128, 0) >= bf_fec_recovery_count(128, 8));
  assert_int_equal(bf_fecctl_share_percent(&c, 30), (m30 * 100 + 29) / 30);
  /* the cap: 50 % of k, at least 8 shards (8 % loss in bursts of 20) */
  f = loss(1840, 160, 8);
  for (int i = 0; i < 4; i++)
    bf_fecctl_on_report(&c, &f, t += 750000000ull);
  assert_true(bf_ge_loss(c.ge) < 0.1);
  assert_int_equal(bf_fecctl_block_m(&c, 30, 0), 15);
  assert_int_equal(bf_fecctl_block_m(&c, 2, 0), 8);
  assert_int_equal(bf_fecctl_block_m(&c, 253, 0), 2); /* k + m <= 255 */
  /* above 10 %: the rule alone (congestion is the rate controller's) */
  f = loss(1500, 500, 20);
  for (int i = 0; i < 4; i++)
    bf_fecctl_on_report(&c, &f, t += 750000000ull);
  assert_int_equal(bf_fecctl_block_m(&c, 2, 0), bf_fec_recovery_count(2, bf_fecctl_percent(&c)));
  assert_int_equal(bf_fecctl_block_m(&c, 30, 0), bf_fec_recovery_count(30, bf_fecctl_percent(&c)));
  /* clean windows: the estimate falls, the parity with it */
  f = loss(2000, 0, 0);
  for (int i = 0; i < 200; i++)
    bf_fecctl_on_report(&c, &f, t += 750000000ull);
  assert_true(bf_fecctl_block_m(&c, 30, 0) <= 3);
  /* the model off: the rule alone */
  bf_fecctl_config cfg;
  bf_fecctl_config_default(&cfg);
  cfg.model = 0;
  bf_fecctl_init(&c, &cfg);
  assert_int_equal(bf_fecctl_block_m(&c, 30, 0), bf_fec_recovery_count(30, 10));
  f = loss(1900, 100, 95);
  bf_fecctl_on_report(&c, &f, 750000000ull);
  assert_int_equal(bf_fecctl_block_m(&c, 30, 0), bf_fec_recovery_count(30, 8));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_estimate_known_sequence),
      cmocka_unit_test(test_fail_probability),
      cmocka_unit_test(test_table_choice),
      cmocka_unit_test(test_controller_blocks),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
