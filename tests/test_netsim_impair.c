/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * bildfunk-netsim's impairment engine, deterministically with time passed in:
 * loss rate, Gilbert-Elliott burst length, delay/jitter bounds, order with
 * and without reordering, duplication, rate-limit throughput and tail drop,
 * MTU cap, slot overflow, config validation, and same seed -> same decisions.
 */
#include "testutil.h"

#include "impair.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MS 1000000ull
#define US 1000ull

static bf_impair *make(const bf_impair_config *cfg) {
  bf_impair *s = NULL;
  assert_int_equal(bf_impair_new(cfg, &s), 0);
  assert_non_null(s);
  return s;
}

/* in + duplicated == out + queued + every drop, at any moment. */
static void check_balance(const bf_impair *s) {
  const bf_impair_stats *st = bf_impair_stats_get(s);
  assert_true(st->in_packets + st->duplicated == st->out_packets + st->queued + st->drop_mtu +
                                                     st->drop_loss + st->drop_burst +
                                                     st->drop_queue + st->drop_overflow);
}

/* Polls and releases everything due at |now|; returns how many. */
static size_t drain(bf_impair *s, uint64_t now) {
  bf_impair_pkt p;
  size_t n = 0;
  while (bf_impair_poll(s, now, &p)) {
    bf_impair_release(s, &p);
    n++;
  }
  return n;
}

static void test_transparent_and_payload(void **state) {
  (void)state;
  bf_impair_config cfg;
  bf_impair_config_default(&cfg);
  assert_true(bf_impair_config_is_transparent(&cfg));
  bf_impair *s = make(&cfg);
  bf_test_rng rng;
  bf_test_rng_seed(&rng, 11);
  static uint8_t buf[BF_IMPAIR_MAX_DGRAM];
  const size_t lens[] = {0, 1, 100, 1400, BF_IMPAIR_MAX_DGRAM};
  for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
    bf_test_rng_fill(&rng, buf, lens[i]);
    assert_int_equal(bf_impair_push(s, buf, lens[i], 1000 + i), 1);
    assert_int_equal(bf_impair_next_due(s), 1000 + i);
    bf_impair_pkt p;
    assert_int_equal(bf_impair_poll(s, 1000 + i, &p), 1);
    assert_int_equal(p.len, lens[i]);
    if (lens[i]) assert_memory_equal(p.data, buf, lens[i]);
    assert_int_equal(p.due_ns, p.arrival_ns);
    bf_impair_release(s, &p);
    assert_int_equal(bf_impair_poll(s, 1000 + i, &p), 0);
  }
  assert_int_equal(bf_impair_next_due(s), UINT64_MAX);
  static uint8_t big[BF_IMPAIR_MAX_DGRAM + 1];
  assert_int_equal(bf_impair_push(s, big, sizeof big, 2000), -EMSGSIZE);
  const bf_impair_stats *st = bf_impair_stats_get(s);
  assert_int_equal(st->in_packets, 5);
  assert_int_equal(st->out_packets, 5);
  assert_int_equal(st->delay_max_ns, 0);
  check_balance(s);
  bf_impair_del(&s);
  assert_null(s);
}

static void test_random_loss_rate(void **state) {
  (void)state;
  bf_impair_config cfg;
  bf_impair_config_default(&cfg);
  cfg.loss_pct = 5.0;
  cfg.seed = 42;
  bf_impair *s = make(&cfg);
  const uint8_t d[32] = {0};
  uint64_t delivered = 0;
  for (uint64_t i = 0; i < 100000; i++) {
    int r = bf_impair_push(s, d, sizeof d, i * US);
    assert_true(r == 0 || r == 1);
    delivered += drain(s, i * US);
  }
  const bf_impair_stats *st = bf_impair_stats_get(s);
  /* sigma of the count is ~69 (0.07 %); allow 0.35 %. */
  assert_in_range(st->drop_loss, 4650, 5350);
  assert_int_equal(delivered, 100000 - st->drop_loss);
  assert_int_equal(st->drop_burst, 0);
  assert_int_equal(st->reordered, 0);
  check_balance(s);
  bf_impair_del(&s);
}

/* Runs of consecutive losses: their count and mean length. */
static void ge_runs(bf_impair *s, uint64_t n, uint64_t *lost, uint64_t *runs) {
  const uint8_t d[16] = {0};
  int in_run = 0;
  *lost = *runs = 0;
  for (uint64_t i = 0; i < n; i++) {
    int r = bf_impair_push(s, d, sizeof d, i * US);
    if (r == 0) {
      (*lost)++;
      if (!in_run) (*runs)++;
      in_run = 1;
    } else {
      in_run = 0;
    }
    drain(s, i * US);
  }
}

static void test_gilbert_elliott_burst(void **state) {
  (void)state;
  bf_impair_config cfg;
  bf_impair_config_default(&cfg);
  cfg.loss_pct = 5.0;
  cfg.burst_mean = 20.0;
  cfg.seed = 7;
  bf_impair *s = make(&cfg);
  uint64_t lost, runs;
  ge_runs(s, 400000, &lost, &runs);
  const bf_impair_stats *st = bf_impair_stats_get(s);
  assert_int_equal(st->drop_burst, lost);
  assert_int_equal(st->drop_loss, 0);
  assert_int_equal(st->bursts, runs);
  double mean = (double)lost / (double)runs;
  double rate = (double)lost / 400000.0;
  print_message("# GE 5%%/20: loss %.3f %%, %llu bursts, mean length %.2f\n", rate * 100,
                (unsigned long long)runs, mean);
  /* ~1000 bursts of geometric length (sd ~19.5): standard error ~0.62. */
  assert_true(mean > 17.5 && mean < 22.5);
  assert_true(rate > 0.040 && rate < 0.060);
  check_balance(s);
  bf_impair_del(&s);

  /* Explicit p/r: mean burst 1/r = 4, loss p/(p+r) = 1/26 = 3.85 %. */
  bf_impair_config_default(&cfg);
  cfg.ge_p_pct = 1.0;
  cfg.ge_r_pct = 25.0;
  cfg.seed = 8;
  s = make(&cfg);
  ge_runs(s, 200000, &lost, &runs);
  mean = (double)lost / (double)runs;
  rate = (double)lost / 200000.0;
  print_message("# GE p=1%% r=25%%: loss %.3f %%, mean length %.2f\n", rate * 100, mean);
  assert_true(mean > 3.7 && mean < 4.3);
  assert_true(rate > 0.0345 && rate < 0.0425);
  bf_impair_del(&s);
}

/* Pushes one 100-byte datagram per |gap| for |n| datagrams while polling in
 * 50 us steps; records the order (seq) and hold time of each delivered one. */
typedef struct delivery {
  uint64_t seq, hold, at;
  int dup;
} delivery;

static size_t run_timed(bf_impair *s, uint64_t n, uint64_t gap, delivery *out, size_t cap) {
  uint8_t d[100];
  size_t got = 0;
  uint64_t next_push = 0, pushed = 0;
  for (uint64_t now = 0;; now += 50 * US) {
    while (pushed < n && next_push <= now) {
      memcpy(d, &pushed, sizeof pushed);
      bf_impair_push(s, d, sizeof d, next_push);
      pushed++;
      next_push += gap;
    }
    bf_impair_pkt p;
    while (bf_impair_poll(s, now, &p)) {
      assert_true(got < cap);
      uint64_t tag;
      memcpy(&tag, p.data, sizeof tag);
      assert_int_equal(tag, p.seq); /* no loss here: seq == push index */
      out[got].seq = p.seq;
      out[got].hold = p.due_ns - p.arrival_ns;
      out[got].at = now;
      out[got].dup = p.duplicate;
      got++;
      assert_true(now - p.due_ns < 50 * US);
      bf_impair_release(s, &p);
    }
    if (pushed == n && bf_impair_next_due(s) == UINT64_MAX) break;
  }
  return got;
}

static void test_delay_jitter_in_order(void **state) {
  (void)state;
  bf_impair_config cfg;
  bf_impair_config_default(&cfg);
  cfg.delay_ns = 20 * MS;
  cfg.jitter_ns = 5 * MS;
  cfg.seed = 3;
  bf_impair *s = make(&cfg);
  enum { N = 10000 };
  delivery *dl = calloc(N, sizeof *dl);
  assert_non_null(dl);
  size_t got = run_timed(s, N, 1 * MS, dl, N);
  assert_int_equal(got, N);
  double sum = 0;
  uint64_t lo = UINT64_MAX, hi = 0;
  for (size_t i = 0; i < got; i++) {
    assert_int_equal(dl[i].seq, i); /* order preserved */
    assert_true(dl[i].hold >= 15 * MS && dl[i].hold <= 25 * MS);
    sum += (double)dl[i].hold;
    if (dl[i].hold < lo) lo = dl[i].hold;
    if (dl[i].hold > hi) hi = dl[i].hold;
  }
  double mean = sum / (double)got / 1e6;
  print_message("# in order: hold mean %.2f ms, min %.2f, max %.2f\n", mean, (double)lo / 1e6,
                (double)hi / 1e6);
  /* Holding order pushes some holds up, so the mean sits a little above 20. */
  assert_true(mean > 19.5 && mean < 23.0);
  assert_true(lo < 16 * MS && hi > 24 * MS); /* the jitter really spans its range */
  const bf_impair_stats *st = bf_impair_stats_get(s);
  assert_int_equal(st->reordered, 0);
  assert_int_equal(st->delay_max_ns, hi);
  assert_true(st->delay_sum_ns == (uint64_t)sum);
  check_balance(s);
  bf_impair_del(&s);
  free(dl);
}

static void test_delay_jitter_reorder(void **state) {
  (void)state;
  bf_impair_config cfg;
  bf_impair_config_default(&cfg);
  cfg.delay_ns = 20 * MS;
  cfg.jitter_ns = 5 * MS;
  cfg.reorder = 1;
  cfg.seed = 3;
  bf_impair *s = make(&cfg);
  enum { N = 10000 };
  delivery *dl = calloc(N, sizeof *dl);
  assert_non_null(dl);
  size_t got = run_timed(s, N, 1 * MS, dl, N);
  assert_int_equal(got, N);
  uint64_t late = 0, maxseq = 0;
  double sum = 0;
  for (size_t i = 0; i < got; i++) {
    assert_true(dl[i].hold >= 15 * MS && dl[i].hold <= 25 * MS);
    sum += (double)dl[i].hold;
    if (i && dl[i].seq < maxseq) late++;
    if (dl[i].seq > maxseq) maxseq = dl[i].seq;
  }
  double mean = sum / (double)got / 1e6;
  const bf_impair_stats *st = bf_impair_stats_get(s);
  print_message("# reorder: %llu of %d late, hold mean %.2f ms\n", (unsigned long long)late, N,
                mean);
  assert_int_equal(st->reordered, late);
  /* 1 ms apart with +-5 ms jitter: most datagrams get overtaken or overtake. */
  assert_true(late > N / 5);
  /* Independent jitter: the mean is the configured delay. */
  assert_true(mean > 19.8 && mean < 20.2);
  check_balance(s);
  bf_impair_del(&s);

  /* Jitter smaller than the gap cannot reorder even with --reorder. */
  cfg.jitter_ns = 400 * US;
  s = make(&cfg);
  got = run_timed(s, 2000, 1 * MS, dl, N);
  assert_int_equal(got, 2000);
  assert_int_equal(bf_impair_stats_get(s)->reordered, 0);
  bf_impair_del(&s);
  free(dl);
}

static void test_duplication(void **state) {
  (void)state;
  bf_impair_config cfg;
  bf_impair_config_default(&cfg);
  cfg.dup_pct = 5.0;
  cfg.seed = 99;
  bf_impair *s = make(&cfg);
  uint8_t d[64];
  uint64_t out = 0, dups = 0, twos = 0;
  for (uint64_t i = 0; i < 100000; i++) {
    memset(d, (int)(i & 0xff), sizeof d);
    memcpy(d, &i, sizeof i);
    int r = bf_impair_push(s, d, sizeof d, i * US);
    assert_true(r == 1 || r == 2);
    if (r == 2) twos++;
    bf_impair_pkt p;
    int copies = 0;
    while (bf_impair_poll(s, i * US, &p)) {
      assert_int_equal(p.len, sizeof d);
      assert_memory_equal(p.data, d, sizeof d); /* the copy is the same bytes */
      assert_int_equal(p.seq, i);
      assert_int_equal(p.duplicate, copies); /* original first, then the copy */
      copies++;
      if (p.duplicate) dups++;
      bf_impair_release(s, &p);
      out++;
    }
    assert_int_equal(copies, r);
  }
  const bf_impair_stats *st = bf_impair_stats_get(s);
  assert_int_equal(st->duplicated, dups);
  assert_int_equal(twos, dups);
  assert_int_equal(out, 100000 + dups);
  assert_int_equal(st->reordered, 0);
  assert_in_range(dups, 4650, 5350);
  check_balance(s);
  bf_impair_del(&s);
}

static void test_rate_limit(void **state) {
  (void)state;
  bf_impair_config cfg;
  bf_impair_config_default(&cfg);
  cfg.rate_mbit = 10.0;
  cfg.queue_ns = 50 * MS;
  cfg.seed = 5;
  bf_impair *s = make(&cfg);
  /* Offer 20 Mbit/s for 2 s: 1250-byte datagrams every 0.5 ms. Each takes
   * exactly 1 ms on a 10 Mbit/s link. */
  static uint8_t d[1250];
  uint64_t bytes_window = 0, out_total = 0, hold_max = 0;
  const uint64_t end = 2000 * MS;
  for (uint64_t now = 0; now <= end + 200 * MS; now += 100 * US) {
    if (now < end && now % (500 * US) == 0) bf_impair_push(s, d, sizeof d, now);
    bf_impair_pkt p;
    while (bf_impair_poll(s, now, &p)) {
      if (p.due_ns >= 500 * MS && p.due_ns < 1500 * MS) bytes_window += p.len;
      uint64_t hold = p.due_ns - p.arrival_ns;
      if (hold > hold_max) hold_max = hold;
      out_total++;
      bf_impair_release(s, &p);
    }
  }
  const bf_impair_stats *st = bf_impair_stats_get(s);
  double mbit = (double)bytes_window * 8 / 1e6; /* over exactly 1 s */
  print_message("# rate 10 Mbit/s offered 20: %.3f Mbit/s, %llu queue drops of %llu, "
                "hold max %.2f ms, queued max %llu\n",
                mbit, (unsigned long long)st->drop_queue, (unsigned long long)st->in_packets,
                (double)hold_max / 1e6, (unsigned long long)st->queued_max);
  assert_true(mbit > 9.9 && mbit < 10.1);
  assert_int_equal(st->in_packets, 4000);
  /* 2 s at 1000 datagrams/s through the link plus one queue's worth. */
  assert_in_range(out_total, 2000, 2060);
  assert_int_equal(st->drop_queue, st->in_packets - out_total);
  assert_true(hold_max <= 51 * MS && hold_max >= 49 * MS); /* queue bound + one serialisation */
  assert_int_equal(st->queued, 0);
  check_balance(s);
  bf_impair_del(&s);

  /* Offered below the rate: nothing dropped, the hold is the serialisation. */
  s = make(&cfg);
  for (uint64_t i = 0; i < 1000; i++) {
    assert_int_equal(bf_impair_push(s, d, sizeof d, i * 2 * MS), 1);
    bf_impair_pkt p;
    assert_int_equal(bf_impair_poll(s, i * 2 * MS + 1 * MS - 1, &p), 0);
    assert_int_equal(bf_impair_poll(s, i * 2 * MS + 1 * MS, &p), 1);
    assert_int_equal(p.due_ns - p.arrival_ns, 1 * MS);
    bf_impair_release(s, &p);
  }
  assert_int_equal(bf_impair_stats_get(s)->drop_queue, 0);
  bf_impair_del(&s);

  /* A burst into an idle link: the queue takes 50 ms worth (50 datagrams
   * waiting, plus the one on the wire), the rest is tail-dropped. */
  s = make(&cfg);
  int accepted = 0;
  for (int i = 0; i < 100; i++)
    accepted += bf_impair_push(s, d, sizeof d, 0);
  assert_int_equal(accepted, 51);
  assert_int_equal(bf_impair_stats_get(s)->drop_queue, 49);
  assert_int_equal(bf_impair_next_due(s), 1 * MS);
  assert_int_equal(drain(s, 51 * MS), 51);
  bf_impair_del(&s);
}

static void test_mtu_cap(void **state) {
  (void)state;
  bf_impair_config cfg;
  bf_impair_config_default(&cfg);
  cfg.mtu = 1400;
  bf_impair *s = make(&cfg);
  static uint8_t d[BF_IMPAIR_MAX_DGRAM];
  assert_int_equal(bf_impair_push(s, d, 1400, 0), 1);
  assert_int_equal(bf_impair_push(s, d, 1401, 0), 0);
  assert_int_equal(bf_impair_push(s, d, BF_IMPAIR_MAX_DGRAM, 0), 0);
  assert_int_equal(bf_impair_push(s, d, 0, 0), 1);
  assert_int_equal(drain(s, 0), 2);
  const bf_impair_stats *st = bf_impair_stats_get(s);
  assert_int_equal(st->drop_mtu, 2);
  assert_int_equal(st->in_bytes, 1400 + 1401 + BF_IMPAIR_MAX_DGRAM);
  assert_int_equal(st->out_bytes, 1400);
  check_balance(s);
  bf_impair_del(&s);
}

static void test_slot_overflow(void **state) {
  (void)state;
  bf_impair_config cfg;
  bf_impair_config_default(&cfg);
  cfg.delay_ns = 10 * MS;
  cfg.max_queue = 8;
  bf_impair *s = make(&cfg);
  const uint8_t d[10] = {1};
  int acc = 0;
  for (int i = 0; i < 20; i++)
    acc += bf_impair_push(s, d, sizeof d, (uint64_t)i);
  assert_int_equal(acc, 8);
  const bf_impair_stats *st = bf_impair_stats_get(s);
  assert_int_equal(st->drop_overflow, 12);
  assert_int_equal(st->queued, 8);
  /* A datagram held by the caller keeps its slot. */
  bf_impair_pkt p;
  assert_int_equal(bf_impair_poll(s, 10 * MS, &p), 1);
  assert_int_equal(bf_impair_push(s, d, sizeof d, 10 * MS), 0);
  bf_impair_release(s, &p);
  assert_int_equal(bf_impair_push(s, d, sizeof d, 10 * MS), 1);
  assert_int_equal(st->drop_overflow, 13);
  check_balance(s);
  bf_impair_del(&s);
}

static void test_config_check(void **state) {
  (void)state;
  bf_impair_config cfg;
  bf_impair *s = NULL;
  bf_impair_config_default(&cfg);
  assert_null(bf_impair_config_check(&cfg));
  cfg.loss_pct = 101;
  assert_non_null(bf_impair_config_check(&cfg));
  assert_int_equal(bf_impair_new(&cfg, &s), -EINVAL);
  assert_null(s);
  bf_impair_config_default(&cfg);
  cfg.burst_mean = 10; /* without a loss rate */
  assert_non_null(bf_impair_config_check(&cfg));
  cfg.loss_pct = 5;
  assert_null(bf_impair_config_check(&cfg));
  cfg.burst_mean = 0.5;
  assert_non_null(bf_impair_config_check(&cfg));
  cfg.burst_mean = 1;
  cfg.loss_pct = 60; /* p would be 1.5 */
  assert_non_null(bf_impair_config_check(&cfg));
  bf_impair_config_default(&cfg);
  cfg.ge_p_pct = 1;
  assert_non_null(bf_impair_config_check(&cfg)); /* r missing */
  cfg.ge_r_pct = 30;
  assert_null(bf_impair_config_check(&cfg));
  cfg.loss_pct = 1;
  assert_non_null(bf_impair_config_check(&cfg));
  bf_impair_config_default(&cfg);
  cfg.dup_pct = -1;
  assert_non_null(bf_impair_config_check(&cfg));
  bf_impair_config_default(&cfg);
  cfg.rate_mbit = -1;
  assert_non_null(bf_impair_config_check(&cfg));
  bf_impair_config_default(&cfg);
  cfg.max_queue = BF_IMPAIR_MAX_MAX_QUEUE + 1;
  assert_non_null(bf_impair_config_check(&cfg));
}

/* Every decision of a mixed configuration, as a fingerprint; |loss_hash|
 * and |losses| cover only the loss decisions (random or burst). */
static uint64_t fingerprint(const bf_impair_config *cfg, uint64_t *loss_hash, uint64_t *losses) {
  bf_impair *s = make(cfg);
  const bf_impair_stats *st = bf_impair_stats_get(s);
  uint64_t h = UINT64_C(1469598103934665603);
  uint8_t d[700];
  memset(d, 0x5a, sizeof d);
  *loss_hash = UINT64_C(1469598103934665603);
  *losses = 0;
  for (uint64_t i = 0; i < 20000; i++) {
    size_t len = 100 + (i * 37) % 600;
    uint64_t lost_before = st->drop_loss + st->drop_burst;
    int r = bf_impair_push(s, d, len, i * 300 * US);
    if (st->drop_loss + st->drop_burst != lost_before) {
      *loss_hash = (*loss_hash ^ i) * UINT64_C(1099511628211);
      (*losses)++;
    }
    h = (h ^ (uint64_t)(r + 3)) * UINT64_C(1099511628211);
    bf_impair_pkt p;
    while (bf_impair_poll(s, i * 300 * US, &p)) {
      h = (h ^ p.seq) * UINT64_C(1099511628211);
      h = (h ^ p.due_ns) * UINT64_C(1099511628211);
      bf_impair_release(s, &p);
    }
  }
  bf_impair_del(&s);
  return h;
}

static void test_same_seed_same_decisions(void **state) {
  (void)state;
  bf_impair_config cfg;
  bf_impair_config_default(&cfg);
  cfg.loss_pct = 3;
  cfg.burst_mean = 5;
  cfg.dup_pct = 2;
  cfg.delay_ns = 10 * MS;
  cfg.jitter_ns = 4 * MS;
  cfg.reorder = 1;
  cfg.rate_mbit = 15;
  cfg.queue_ns = 20 * MS;
  cfg.mtu = 600;
  cfg.seed = 1234;
  uint64_t l1, l2, l3, l4, n1, n2, n3, n4;
  uint64_t a = fingerprint(&cfg, &l1, &n1);
  uint64_t b = fingerprint(&cfg, &l2, &n2);
  assert_true(a == b);
  assert_true(l1 == l2 && n1 == n2);
  assert_true(n1 > 100); /* ~3 % of the ~16700 under the MTU */
  cfg.seed = 1235;
  uint64_t c = fingerprint(&cfg, &l3, &n3);
  assert_true(a != c);
  assert_true(l1 != l3);
  /* The loss stream does not depend on the other impairments: the same seed
   * without jitter, duplication and rate limit loses the same datagrams. */
  cfg.seed = 1234;
  cfg.dup_pct = 0;
  cfg.jitter_ns = 0;
  cfg.rate_mbit = 0;
  fingerprint(&cfg, &l4, &n4);
  assert_true(l4 == l1 && n4 == n1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_transparent_and_payload),
      cmocka_unit_test(test_random_loss_rate),
      cmocka_unit_test(test_gilbert_elliott_burst),
      cmocka_unit_test(test_delay_jitter_in_order),
      cmocka_unit_test(test_delay_jitter_reorder),
      cmocka_unit_test(test_duplication),
      cmocka_unit_test(test_rate_limit),
      cmocka_unit_test(test_mtu_cap),
      cmocka_unit_test(test_slot_overflow),
      cmocka_unit_test(test_config_check),
      cmocka_unit_test(test_same_seed_same_decisions),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
