/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Input-to-photon bookkeeping (input/photon.h), with time passed in: an
 * input becomes a sample when the first presented picture whose stamp
 * covers it is shown; snapshots by their first change; pictures whose stamp
 * is missing take the newest older stamp; input-to-apply through the clock
 * offset; percentiles of the session and of the recent window.
 */
#include "testutil.h"

#include "input/photon.h"

#include <string.h>

#define MS 1000000ull

static bf_inmsg_state stamp(uint64_t pts, uint32_t ev, uint32_t snap) {
  bf_inmsg_state st;
  memset(&st, 0, sizeof st);
  st.n_stamps = 1;
  st.stamps[0] = (bf_instamp){pts, ev, snap};
  st.ev_ack = ev;
  st.snap_ack = snap;
  return st;
}

static void test_events(void **state) {
  (void)state;
  bf_photon *p;
  assert_int_equal(bf_photon_new(&p), 0);
  bf_photon_view v;
  /* keys 1 and 2 at 100 ms and 105 ms */
  bf_photon_event(p, 1, 100 * MS);
  bf_photon_event(p, 2, 105 * MS);
  assert_int_equal(bf_photon_pending(p), 2);
  /* the picture captured at sender time 1000 had seen event 1 */
  bf_inmsg_state st = stamp(1000, 1, 0);
  bf_photon_state(p, &st, 0);
  /* a picture without a stamp of its own before it: nothing */
  bf_photon_present(p, 999, 120 * MS);
  bf_photon_session(p, &v);
  assert_int_equal(v.n, 0);
  bf_photon_present(p, 1000, 130 * MS);
  bf_photon_session(p, &v);
  assert_int_equal(v.n, 1);
  assert_true(v.p50_ms > 29.9 && v.p50_ms < 30.1);
  /* the next picture's stamp is lost: the one after it (a newer stamp,
   * covering event 2) shows it */
  st = stamp(3000, 2, 0);
  bf_photon_state(p, &st, 0);
  bf_photon_present(p, 2000, 140 * MS); /* stamp 1000 again: nothing new */
  bf_photon_present(p, 3500, 150 * MS); /* newest stamp <= 3500: 3000 */
  bf_photon_session(p, &v);
  assert_int_equal(v.n, 2);
  assert_true(v.max_ms > 44.9 && v.max_ms < 45.1);
  assert_int_equal(bf_photon_pending(p), 0);
  /* shown once only */
  bf_photon_present(p, 3500, 200 * MS);
  bf_photon_session(p, &v);
  assert_int_equal(v.n, 2);
  bf_photon_recent(p, &v);
  assert_int_equal(v.n, 2);
  assert_true(v.p50_ms > 29.9 && v.p50_ms < 30.1);
  bf_photon_del(&p);
  assert_null(p);
}

static void test_snapshots_and_apply(void **state) {
  (void)state;
  bf_photon *p;
  assert_int_equal(bf_photon_new(&p), 0);
  /* datagram 1 carries a change made at 10 ms, sent at 11 ms; datagram 2
   * repeats it (no change); datagram 3 a change made at 30 ms */
  bf_inlink_sent s = {1, 1, 10 * MS, 1, 0};
  bf_photon_sent(p, &s, 11 * MS);
  s = (bf_inlink_sent){2, 0, 0, 1, 0};
  bf_photon_sent(p, &s, 20 * MS);
  s = (bf_inlink_sent){3, 1, 30 * MS, 1, 0};
  bf_photon_sent(p, &s, 31 * MS);
  /* the sender took datagram 1 at its clock 12 ms + offset 500 ms */
  bf_inmsg_state st = stamp(7000, 0, 1);
  st.apply_ns = 512 * MS;
  bf_photon_state(p, &st, (int64_t)(500 * MS));
  bf_photon_view v;
  bf_photon_apply(p, &v);
  assert_int_equal(v.n, 1);
  assert_true(v.p50_ms > 0.9 && v.p50_ms < 1.1);
  bf_photon_state(p, &st, (int64_t)(500 * MS)); /* the same ack again: no sample */
  bf_photon_apply(p, &v);
  assert_int_equal(v.n, 1);
  bf_photon_present(p, 7000, 50 * MS);
  bf_photon_session(p, &v);
  assert_int_equal(v.n, 1); /* datagram 1's change, 40 ms */
  assert_true(v.p50_ms > 39.9 && v.p50_ms < 40.1);
  st = stamp(8000, 0, 3);
  bf_photon_state(p, &st, 0);
  bf_photon_present(p, 8000, 60 * MS);
  bf_photon_session(p, &v);
  assert_int_equal(v.n, 2); /* and datagram 3's, 30 ms; datagram 2 had none */
  assert_true(v.p50_ms > 29.9 && v.p50_ms < 40.1);
  bf_photon_del(&p);
}

static void test_percentiles(void **state) {
  (void)state;
  bf_photon *p;
  assert_int_equal(bf_photon_new(&p), 0);
  /* 1000 events, sample i = i/10 ms; a last one of 3 s */
  for (uint32_t i = 1; i <= 1001; i++) {
    bf_photon_event(p, i, 0);
    bf_inmsg_state st = stamp(i, i, 0);
    bf_photon_state(p, &st, 0);
    bf_photon_present(p, i, i == 1001 ? 3000 * MS : (uint64_t)i * 100000ull);
  }
  bf_photon_view v;
  bf_photon_session(p, &v);
  assert_int_equal(v.n, 1001);
  assert_true(v.p50_ms > 49.9 && v.p50_ms < 50.2);
  assert_true(v.p99_ms > 98.9 && v.p99_ms < 99.2);
  assert_true(v.max_ms > 2999.9 && v.max_ms < 3000.1);
  bf_photon_recent(p, &v);
  assert_int_equal(v.n, BF_PHOTON_RECENT);
  assert_true(v.max_ms > 2999.9);
  bf_photon_del(&p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_events),
      cmocka_unit_test(test_snapshots_and_apply),
      cmocka_unit_test(test_percentiles),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
