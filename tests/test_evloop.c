/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The event-loop registry and the clocks: a deadline wakes the wait, a
 * ready descriptor wakes it earlier and says which, descriptors < 0 are
 * skipped, a stop signal ends the wait, and the epoch clock is monotonic
 * and near the realtime clock.
 */
#include "testutil.h"

#include <bildfunk/clock.h>
#include <bildfunk/evloop.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <unistd.h>

static void test_deadline(void **state) {
  (void)state;
  bf_evloop l;
  int p[2];
  assert_int_equal(pipe(p), 0);
  bf_evloop_begin(&l);
  assert_int_equal(bf_evloop_add(&l, -1, POLLIN), -1);
  int slot = bf_evloop_add(&l, p[0], POLLIN);
  assert_int_equal(slot, 0);
  uint64_t t0 = bf_clock_mono_ns();
  bf_evloop_deadline(&l, t0 + 500 * BF_MS_NS);
  bf_evloop_deadline(&l, t0 + 30 * BF_MS_NS); /* the earliest counts */
  assert_int_equal(bf_evloop_wait(&l, t0), 0);
  uint64_t waited = bf_clock_mono_ns() - t0;
  assert_true(waited >= 29 * BF_MS_NS);
  assert_true(waited < 450 * BF_MS_NS); /* not the later deadline */
  assert_int_equal(bf_evloop_revents(&l, slot), 0);

  /* a readable descriptor wakes the wait and is named */
  assert_int_equal(write(p[1], "x", 1), 1);
  bf_evloop_begin(&l);
  bf_evloop_add(&l, -1, POLLIN);
  slot = bf_evloop_add(&l, p[0], POLLIN);
  t0 = bf_clock_mono_ns();
  bf_evloop_deadline(&l, t0 + 5 * BF_SEC_NS);
  assert_int_equal(bf_evloop_wait(&l, t0), 1);
  assert_true(bf_evloop_revents(&l, slot) & POLLIN);
  assert_int_equal(bf_evloop_revents(&l, -1), 0);
  assert_int_equal(bf_evloop_revents(&l, 7), 0);

  /* a deadline in the past: a look, no sleep */
  bf_evloop_begin(&l);
  t0 = bf_clock_mono_ns();
  bf_evloop_deadline(&l, t0 - 1);
  assert_int_equal(bf_evloop_wait(&l, t0), 0);
  close(p[0]);
  close(p[1]);
}

static void test_full(void **state) {
  (void)state;
  bf_evloop l;
  bf_evloop_begin(&l);
  for (unsigned i = 0; i < BF_EVLOOP_MAX_FDS; i++)
    assert_int_equal(bf_evloop_add(&l, 0, POLLIN), (int)i);
  assert_int_equal(bf_evloop_add(&l, 0, POLLIN), -1);
}

static void test_stop_signal(void **state) {
  (void)state;
  bf_evloop_signals(BF_EVLOOP_IGNORE_TTIN);
  assert_int_equal(bf_evloop_stopped(), 0);
  bf_evloop l;
  bf_evloop_begin(&l);
  raise(SIGTERM);
  assert_int_equal(bf_evloop_stopped(), SIGTERM);
  uint64_t t0 = bf_clock_mono_ns();
  bf_evloop_deadline(&l, t0 + 5 * BF_SEC_NS);
  assert_int_equal(bf_evloop_wait(&l, t0), -EINTR);
  assert_true(bf_clock_mono_ns() - t0 < BF_SEC_NS);
  /* SIGPIPE is ignored: a write to a closed pipe is an error, not a death */
  int p[2];
  assert_int_equal(pipe(p), 0);
  close(p[0]);
  assert_int_equal(write(p[1], "x", 1), -1);
  assert_int_equal(errno, EPIPE);
  close(p[1]);
}

static void test_clocks(void **state) {
  (void)state;
  uint64_t a = bf_clock_epoch_ns(), rt = bf_clock_realtime_ns(), b = bf_clock_epoch_ns();
  assert_true(b >= a);
  /* on the realtime epoch (within a second of it) */
  assert_true(a > rt - BF_SEC_NS && a < rt + BF_SEC_NS);
  uint64_t m1 = bf_clock_mono_ns(), m2 = bf_clock_mono_ns();
  assert_true(m2 >= m1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_deadline),
      cmocka_unit_test(test_full),
      cmocka_unit_test(test_stop_signal),
      cmocka_unit_test(test_clocks),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
