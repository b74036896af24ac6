/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Client statistics: nearest-rank percentiles, the time window (expiry and
 * a full ring), stage arithmetic of a frame record, rates, loss, jitter, the
 * graph ring, and the --stats-json file (parsed back with a tiny scanner).
 */
#include "testutil.h"

#include "report/frame_stats.h"

#include <bildfunk/wire.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MS 1000000ull
#define SEC 1000000000ull

static void test_percentile_rule(void **state) {
  (void)state;
  const double v[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  assert_true(bf_percentile_sorted(v, 10, 50) == 5);
  assert_true(bf_percentile_sorted(v, 10, 95) == 10);
  assert_true(bf_percentile_sorted(v, 10, 90) == 9);
  assert_true(bf_percentile_sorted(v, 10, 0) == 1);
  assert_true(bf_percentile_sorted(v, 10, 100) == 10);
  assert_true(bf_percentile_sorted(v, 1, 99) == 1);
  const double w[4] = {10, 20, 30, 40};
  assert_true(bf_percentile_sorted(w, 4, 50) == 20);
  assert_true(bf_percentile_sorted(w, 4, 51) == 30);
}

static void test_window(void **state) {
  (void)state;
  bf_pwin w;
  assert_int_equal(bf_pwin_init(&w, 8, 1000 * MS), 0);
  const double p[3] = {50, 95, 99};
  double out[3] = {-1, -1, -1};
  assert_int_equal(bf_pwin_percentiles(&w, 0, p, 3, out), 0);
  assert_true(out[0] == -1);
  /* values out of order; percentiles sort them */
  const double vals[5] = {5, 1, 4, 2, 3};
  for (int i = 0; i < 5; i++)
    bf_pwin_add(&w, (uint64_t)i * 100 * MS, vals[i]);
  assert_int_equal(bf_pwin_percentiles(&w, 500 * MS, p, 3, out), 5);
  assert_true(out[0] == 3 && out[1] == 5 && out[2] == 5);
  size_t n;
  assert_true(bf_pwin_sum(&w, 500 * MS, &n) == 15);
  assert_int_equal(n, 5);
  /* at 1.25 s the samples of 0, 100 and 200 ms are older than a second */
  assert_int_equal(bf_pwin_percentiles(&w, 1250 * MS, p, 3, out), 2);
  assert_true(out[0] == 2 && out[1] == 3);
  /* a full ring overwrites its oldest samples */
  for (int i = 0; i < 20; i++)
    bf_pwin_add(&w, 2000 * MS, i);
  assert_int_equal(bf_pwin_percentiles(&w, 2000 * MS, p, 3, out), 8);
  assert_true(out[0] == 15); /* 12..19 */
  assert_true(bf_pwin_sum(&w, 2000 * MS, NULL) == 12 + 13 + 14 + 15 + 16 + 17 + 18 + 19);
  bf_pwin_free(&w);
}

static bf_frame_record rec_at(uint32_t idx, uint64_t cap) {
  bf_frame_record r;
  memset(&r, 0, sizeof r);
  r.frame_index = idx;
  r.bytes = 25000;
  r.pts_ns = cap + 7 * MS; /* the sender's clock is 7 ms ahead */
  r.capture_ns = cap;
  r.first_shard_ns = cap + 4 * MS;
  r.last_shard_ns = cap + 5 * MS;
  r.decode_start_ns = cap + 5 * MS + 100000;
  r.decode_end_ns = cap + 8 * MS;
  r.present_ns = cap + 9 * MS;
  r.outcome = BF_OUT_PRESENTED;
  return r;
}

static void test_stages(void **state) {
  (void)state;
  bf_frame_record r = rec_at(1, 1000 * MS);
  double ms[BF_STAGE_COUNT_];
  unsigned mask = bf_frame_stages(&r, ms);
  assert_int_equal(mask, (1u << BF_STAGE_COUNT_) - 1);
  assert_true(fabs(ms[BF_STAGE_NETWORK] - 5.0) < 1e-9);
  assert_true(fabs(ms[BF_STAGE_REASSEMBLY] - 1.0) < 1e-9);
  assert_true(fabs(ms[BF_STAGE_QUEUE] - 0.1) < 1e-9);
  assert_true(fabs(ms[BF_STAGE_DECODE] - 2.9) < 1e-9);
  assert_true(fabs(ms[BF_STAGE_PRESENT] - 1.0) < 1e-9);
  assert_true(fabs(ms[BF_STAGE_E2E] - 9.0) < 1e-9);
  /* a clock offset slightly wrong gives a negative network time, kept signed */
  r.capture_ns = r.last_shard_ns + MS;
  bf_frame_stages(&r, ms);
  assert_true(fabs(ms[BF_STAGE_NETWORK] + 1.0) < 1e-9);
  /* dropped before decoding: only the receive stages */
  bf_frame_record d = rec_at(2, SEC);
  d.decode_start_ns = d.decode_end_ns = d.present_ns = 0;
  mask = bf_frame_stages(&d, ms);
  assert_int_equal(mask, 1u << BF_STAGE_NETWORK | 1u << BF_STAGE_REASSEMBLY);
}

static void test_aggregate(void **state) {
  (void)state;
  bf_stats s;
  assert_int_equal(bf_stats_init(&s, 5 * SEC), 0);
  uint64_t t = 100 * SEC;
  for (uint32_t i = 0; i < 60; i++) {
    bf_frame_record r = rec_at(i, t + i * 16666667ull);
    if (i % 10 == 0) r.shards_recovered = 2;
    if (i == 30) r.user_flags = BF_AU_KEYFRAME;
    uint64_t now = r.present_ns;
    bf_stats_on_completed(&s, &r, now);
    if (i % 20 == 5) r.outcome = BF_OUT_REPLACED, r.present_ns = 0;
    bf_stats_on_outcome(&s, &r, now);
  }
  uint64_t now = t + 59 * 16666667ull + 9 * MS;
  bf_stats_view v;
  bf_stats_view_now(&s, now, &v);
  assert_int_equal(s.frames_completed, 60);
  assert_int_equal(s.frames_decoded, 60);
  assert_int_equal(s.frames_presented, 57);
  assert_int_equal(s.outcome[BF_OUT_REPLACED], 3);
  assert_int_equal(s.frames_repaired, 6);
  assert_int_equal(s.fec_shards_used, 12);
  /* all within the last second: 60 received, 57 shown, 60 x 25000 bytes */
  assert_true(v.fps_received == 60 && v.fps_presented == 57);
  assert_true(fabs(v.goodput_mbps - 60 * 25000 * 8 / 1e6) < 1e-9);
  assert_int_equal(v.n[BF_STAGE_E2E], 57);
  assert_true(fabs(v.p50[BF_STAGE_E2E] - 9.0) < 1e-6);
  assert_true(fabs(v.p99[BF_STAGE_DECODE] - 2.9) < 1e-6);
  /* perfectly paced arrivals: no jitter */
  assert_true(v.jitter_ms < 1e-6);
  /* the graph has one column per presented frame, newest last */
  assert_int_equal(s.graph_n, 57);
  const bf_graph_col *last = &s.graph[(s.graph_head + BF_GRAPH_LEN - 1) % BF_GRAPH_LEN];
  assert_true(fabs(last->net - 4.0f) < 1e-4 && fabs(last->reasm - 1.0f) < 1e-4);
  assert_true(fabs(last->decode - 3.0f) < 1e-4 && fabs(last->present - 1.0f) < 1e-4);
  /* loss windows */
  bf_stats_on_packets(&s, 1000, 950);
  bf_stats_view_now(&s, now, &v);
  assert_true(fabs(v.loss_pct - 5.0) < 1e-9);
  bf_stats_on_packets(&s, 1000, 1000);
  bf_stats_on_packets(&s, 10, 12); /* more than expected counts as none lost */
  {
    /* a straggler no later window had room for counts in the totals, never
     * above what was due */
    bf_stats lt;
    assert_int_equal(bf_stats_init(&lt, 5 * SEC), 0);
    bf_stats_on_packets(&lt, 100, 99);
    bf_stats_on_packets(&lt, 100, 100);
    bf_stats_on_late(&lt, 1);
    assert_int_equal(lt.pkts_received, 200);
    bf_stats_on_late(&lt, 5);
    assert_int_equal(lt.pkts_received, 200);
    bf_stats_free(&lt);
  }
  bf_stats_view_now(&s, now, &v);
  assert_true(v.loss_pct == 0);
  assert_true(fabs(v.loss_total_pct - 100.0 * 50 / 2010) < 1e-9);
  /* session percentiles */
  bf_stats_view_session(&s, &v);
  assert_int_equal(v.n[BF_STAGE_NETWORK], 60);
  assert_true(fabs(v.p95[BF_STAGE_NETWORK] - 5.0) < 1e-4);
  /* 4 bytes per stage value stored */
  size_t held = 0;
  for (int i = 0; i < BF_STAGE_COUNT_; i++) held += v.n[i] * sizeof(float);
  assert_true(held >= 60 * 4 * sizeof(float));
  assert_int_equal(bf_stats_session_bytes(&s), held);
  /* windows forget: 10 s later nothing is left */
  bf_stats_view_now(&s, now + 10 * SEC, &v);
  assert_int_equal(v.n[BF_STAGE_E2E], 0);
  assert_true(v.fps_received == 0);
  bf_stats_free(&s);
}

/* The session arrays hold the first BF_STATS_MAX_SESSION_SAMPLES values per
 * stage and count 4 bytes each; later frames leave the summary as it was. */
static void test_session_cap(void **state) {
  (void)state;
  bf_stats s;
  assert_int_equal(bf_stats_init(&s, SEC), 0);
  assert_int_equal(bf_stats_session_bytes(&s), 0);
  const uint32_t n = BF_STATS_MAX_SESSION_SAMPLES + 100;
  for (uint32_t i = 0; i < n; i++) {
    /* 9 ms end to end; the frames past the cap take 90 ms */
    bf_frame_record r = rec_at(i, 1000 * MS);
    if (i >= BF_STATS_MAX_SESSION_SAMPLES) r.present_ns += 81 * MS;
    bf_stats_on_outcome(&s, &r, r.present_ns);
  }
  assert_int_equal(bf_stats_session_bytes(&s),
                   (size_t)BF_STATS_MAX_SESSION_SAMPLES * BF_STAGE_COUNT_ * sizeof(float));
  bf_stats_view v;
  bf_stats_view_session(&s, &v);
  assert_int_equal(v.n[BF_STAGE_E2E], BF_STATS_MAX_SESSION_SAMPLES);
  assert_true(fabs(v.p99[BF_STAGE_E2E] - 9.0) < 1e-4);
  assert_int_equal(s.frames_presented, n);
  bf_stats_free(&s);
}

static void test_jitter(void **state) {
  (void)state;
  bf_stats s;
  assert_int_equal(bf_stats_init(&s, SEC), 0);
  /* arrivals alternate 2 ms early / late around a 16 ms capture grid */
  for (uint32_t i = 0; i < 200; i++) {
    bf_frame_record r = rec_at(i, 1000 * MS + i * 16 * MS);
    r.first_shard_ns += (i % 2) ? 2 * MS : 0;
    bf_stats_on_completed(&s, &r, r.first_shard_ns);
  }
  bf_stats_view v;
  bf_stats_view_now(&s, 1000 * MS + 200 * 16 * MS, &v);
  /* |D| is 2 ms every time: the estimate converges to 2 ms */
  assert_true(fabs(v.jitter_ms - 2.0) < 0.01);
  bf_stats_free(&s);
}

/* Counts occurrences of |needle| in |hay|. */
static int count(const char *hay, const char *needle) {
  int n = 0;
  for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
    n++;
  return n;
}

/* The sender's host time (FRAME_INFO, issue #17): kept as its own stage,
 * and network is then the rest (last packet sent -> last shard); a sender
 * that does not say leaves network as it was; one that says it but not for
 * this AU leaves the AU without a network stage rather than mixing the two. */
static void test_host_stage(void **state) {
  (void)state;
  bf_frame_record r = rec_at(1, 1000 * MS);
  double ms[BF_STAGE_COUNT_], host = -1;
  r.host_known = BF_HOST_KNOWN;
  r.host_us = 3500; /* 3.5 of the 5 ms capture -> last shard */
  unsigned mask = bf_frame_stages(&r, ms);
  assert_true(mask & 1u << BF_STAGE_NETWORK);
  assert_true(fabs(ms[BF_STAGE_NETWORK] - 1.5) < 1e-9);
  assert_true(fabs(ms[BF_STAGE_E2E] - 9.0) < 1e-9);
  assert_int_equal(bf_frame_host_ms(&r, &host), 1);
  assert_true(fabs(host - 3.5) < 1e-9);
  r.host_known = BF_HOST_NOT_SAID;
  bf_frame_stages(&r, ms);
  assert_true(fabs(ms[BF_STAGE_NETWORK] - 5.0) < 1e-9);
  assert_int_equal(bf_frame_host_ms(&r, &host), 0);
  r.host_known = BF_HOST_MISSING;
  mask = bf_frame_stages(&r, ms);
  assert_false(mask & 1u << BF_STAGE_NETWORK);
  assert_true(mask & 1u << BF_STAGE_E2E);
  assert_int_equal(bf_frame_host_ms(&r, &host), 0);

  /* windows, session percentiles, the graph's host segment, the JSON */
  bf_stats s;
  assert_int_equal(bf_stats_init(&s, 5 * SEC), 0);
  for (uint32_t i = 0; i < 10; i++) {
    bf_frame_record f = rec_at(i, SEC + i * 16 * MS);
    f.host_known = i < 8 ? BF_HOST_KNOWN : BF_HOST_MISSING;
    f.host_us = 3000 + 100 * i;
    bf_stats_on_completed(&s, &f, f.present_ns);
    bf_stats_on_outcome(&s, &f, f.present_ns);
  }
  bf_stats_view v;
  bf_stats_view_now(&s, SEC + 200 * MS, &v);
  assert_int_equal(v.host_n, 8);
  assert_true(fabs(v.host_p50 - 3.3) < 1e-9 && fabs(v.host_p99 - 3.7) < 1e-9);
  assert_int_equal(v.n[BF_STAGE_NETWORK], 8);
  bf_stats_view_session(&s, &v);
  assert_int_equal(v.host_n, 8);
  assert_true(fabs(v.host_p95 - 3.7) < 1e-4);
  const bf_graph_col *c = &s.graph[(s.graph_head + BF_GRAPH_LEN - 3) % BF_GRAPH_LEN]; /* i 7 */
  assert_true(fabs(c->host - 3.7f) < 1e-4 && fabs(c->net - 1.3f) < 1e-4 && c->reasm == 0);
  assert_true(fabs(c->host + c->net + c->decode + c->present - 9.0f) < 1e-4);
  bf_stats_free(&s);
}

static void test_json(void **state) {
  (void)state;
  char path[] = "/tmp/bf-stats-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  close(fd);
  bf_stats s;
  assert_int_equal(bf_stats_init(&s, SEC), 0);
  bf_stats_json j;
  assert_int_equal(bf_stats_json_open(&j, path), 0);
  for (uint32_t i = 0; i < 3; i++) {
    bf_frame_record r = rec_at(i, SEC + i * 16 * MS);
    if (i == 2) r.outcome = BF_OUT_WAIT_KEY, r.decode_start_ns = r.decode_end_ns = r.present_ns = 0;
    if (i == 1) r.host_known = BF_HOST_KNOWN, r.host_us = 2250;
    bf_stats_on_completed(&s, &r, r.present_ns);
    bf_stats_on_outcome(&s, &r, r.last_shard_ns);
    bf_stats_json_frame(&j, &r);
  }
  assert_int_equal(bf_stats_json_close(&j, &s, "\"codec\": \"h264\""), 0);
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  static char buf[65536];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  buf[n] = 0;
  fclose(f);
  unlink(path);
  assert_int_equal(count(buf, "\"frame_index\""), 3);
  assert_int_equal(count(buf, "\"e2e_ms\": 9.0000"), 2);
  assert_int_equal(count(buf, "\"outcome\": \"wait_key\""), 1);
  assert_int_equal(count(buf, "\"summary\""), 1);
  assert_int_equal(count(buf, "\"codec\": \"h264\""), 1);
  assert_non_null(strstr(buf, "\"e2e\": {\"n\": 2, \"p50\": 9.0000"));
  assert_non_null(strstr(buf, "\"presented\": 2, "));
  /* the host time: in its frame, and as a stage of the summary */
  assert_int_equal(count(buf, "\"host_ms\": 2.2500, \"network_ms\": 2.7500"), 1);
  assert_int_equal(count(buf, "\"host_ms\""), 1);
  assert_non_null(strstr(buf, "\"host\": {\"n\": 1, \"p50\": 2.2500"));
  /* balanced braces and brackets: well-formed enough to parse */
  int depth = 0, min = 0;
  for (char *p = buf; *p; p++) {
    depth += (*p == '{' || *p == '[') - (*p == '}' || *p == ']');
    if (depth < min) min = depth;
  }
  assert_int_equal(depth, 0);
  assert_int_equal(min, 0);
  /* an unwritable path is an error, not a crash */
  assert_true(bf_stats_json_open(&j, "/nonexistent-dir/x.json") < 0);
  bf_stats_free(&s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_percentile_rule), cmocka_unit_test(test_window),
      cmocka_unit_test(test_stages),          cmocka_unit_test(test_aggregate),
      cmocka_unit_test(test_jitter),          cmocka_unit_test(test_json),
      cmocka_unit_test(test_session_cap),     cmocka_unit_test(test_host_stage),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
