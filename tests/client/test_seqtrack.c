/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Packet order by stream_seq: in-order numbers, reordered ones and how late
 * they came, duplicates (also late ones), numbers wrapping, numbers too old to
 * tell, and the lateness estimate forgetting a network that stopped
 * reordering. Loss windows: closed up to the newest number on an in-order
 * network, up to the settle bound back on one that reorders (a number
 * reordered across the window's end counts in its own window), later
 * stragglers credited to the next window, a stream that began before its
 * first arrival, the bitmap's limit at a high packet rate, a new stream.
 */
#include "testutil.h"

#include "net/seqtrack.h"

#include <stdlib.h>

#define MS 1000000ull

static void test_in_order_and_dups(void **state) {
  (void)state;
  bf_seqtrack *t = malloc(sizeof *t);
  assert_non_null(t);
  bf_seqtrack_init(t);
  uint64_t now = 5000 * MS;
  for (uint32_t s = UINT32_MAX - 50; s != 50; s++, now += MS / 10)
    assert_int_equal(bf_seqtrack_push(t, s, now), BF_SEQ_NEW); /* wraps */
  assert_int_equal(t->reordered, 0);
  assert_int_equal(bf_seqtrack_lateness(t, now), 0);
  /* a copy right behind its original: duplicate, not reordered (as netsim) */
  assert_int_equal(bf_seqtrack_push(t, 49, now), BF_SEQ_DUPLICATE);
  assert_int_equal(t->reordered, 0);
  /* a late copy: duplicate and reordered */
  assert_int_equal(bf_seqtrack_push(t, 10, now), BF_SEQ_DUPLICATE);
  assert_int_equal(t->duplicates, 2);
  assert_int_equal(t->reordered, 1);
  /* far behind the window: cannot tell */
  assert_int_equal(bf_seqtrack_push(t, 50 - BF_SEQTRACK_WINDOW - 5, now), BF_SEQ_OLD);
  assert_int_equal(t->too_old, 1);
  /* a jump ahead: the numbers skipped are unseen, not duplicates */
  assert_int_equal(bf_seqtrack_push(t, 60, now), BF_SEQ_NEW);
  assert_int_equal(bf_seqtrack_push(t, 55, now + 3 * MS), BF_SEQ_REORDERED);
  assert_int_equal(bf_seqtrack_push(t, 55, now + 4 * MS), BF_SEQ_DUPLICATE);
  assert_int_equal(bf_seqtrack_lateness(t, now + 4 * MS), 3 * MS);
  /* a new stream starts afresh */
  bf_seqtrack_restart(t);
  assert_int_equal(bf_seqtrack_push(t, 7, now), BF_SEQ_NEW);
  assert_int_equal(bf_seqtrack_push(t, 60, now), BF_SEQ_NEW);
  free(t);
}

static void test_lateness(void **state) {
  (void)state;
  bf_seqtrack *t = malloc(sizeof *t);
  assert_non_null(t);
  bf_seqtrack_init(t);
  uint64_t t0 = 1000 * MS;
  /* 1 datagram per ms; 100 is held back and arrives after 140 */
  for (uint32_t s = 0; s < 150; s++)
    if (s != 100) assert_int_equal(bf_seqtrack_push(t, s, t0 + s * MS), BF_SEQ_NEW);
  /* late by the time since 101 arrived */
  assert_int_equal(bf_seqtrack_push(t, 100, t0 + 150 * MS), BF_SEQ_REORDERED);
  assert_int_equal(bf_seqtrack_lateness(t, t0 + 150 * MS), 49 * MS);
  assert_int_equal(t->late_max_ns, 49 * MS);
  /* a smaller one does not lower the estimate */
  assert_int_equal(bf_seqtrack_push(t, 152, t0 + 152 * MS), BF_SEQ_NEW);
  assert_int_equal(bf_seqtrack_push(t, 151, t0 + 153 * MS), BF_SEQ_REORDERED);
  assert_int_equal(bf_seqtrack_lateness(t, t0 + 153 * MS), 49 * MS);
  assert_int_equal(t->reordered, 2);
  /* older than the ring of advances: its age is the lower bound */
  uint64_t now = t0 + 200 * MS;
  uint32_t s = 153;
  for (unsigned i = 0; i < BF_SEQTRACK_ADV + 10; i++, s++)
    if (s != 160) bf_seqtrack_push(t, s, now += MS / 100);
  assert_int_equal(bf_seqtrack_push(t, 160, now + 100 * MS), BF_SEQ_REORDERED);
  uint64_t l = bf_seqtrack_lateness(t, now + 100 * MS);
  assert_true(l >= 100 * MS && l <= 112 * MS);
  /* a network that stopped reordering: forgotten within two periods */
  now += 100 * MS;
  for (int i = 0; i < 50; i++, s++)
    bf_seqtrack_push(t, s, now += 100 * MS); /* 5 s in order */
  assert_int_equal(bf_seqtrack_lateness(t, now), 0);
  assert_true(t->late_max_ns >= 100 * MS); /* the record stays */
  free(t);
}

/* In order (with loss): no settle bound, a window closes up to the newest
 * number at once, as a span count would; numbers wrap. */
static void test_window_in_order(void **state) {
  (void)state;
  bf_seqtrack *t = malloc(sizeof *t);
  assert_non_null(t);
  bf_seqtrack_init(t);
  uint64_t t0 = 1000 * MS;
  bf_seqtrack_window w;
  bf_seqtrack_close_window(t, t0, &w); /* nothing yet */
  assert_int_equal(w.expected, 0);
  const uint32_t first = UINT32_MAX - 49;
  for (uint32_t i = 0; i < 100; i++)
    if (i != 10 && i != 20)
      assert_int_equal(bf_seqtrack_push(t, first + i, t0 + i * MS), BF_SEQ_NEW);
  bf_seqtrack_close_window(t, t0 + 99 * MS, &w);
  assert_int_equal(w.settle_ns, 0);
  assert_int_equal(w.horizon, first + 99);
  assert_int_equal(w.open, 0);
  assert_int_equal(w.expected, 100);
  assert_int_equal(w.received, 98);
  for (uint32_t i = 100; i < 150; i++)
    bf_seqtrack_push(t, first + i, t0 + i * MS);
  bf_seqtrack_push(t, first + 120, t0 + 150 * MS); /* a copy */
  bf_seqtrack_close_window(t, t0 + 150 * MS, &w);
  assert_int_equal(w.expected, 50);
  assert_int_equal(w.received, 50);
  /* an empty window */
  bf_seqtrack_close_window(t, t0 + 900 * MS, &w);
  assert_int_equal(w.expected, 0);
  assert_int_equal(w.received, 0);
  free(t);
}

/* A network that reorders: the window closes up to the number seen the
 * settle bound ago; what is still in flight above it stays open; a
 * straggler later than the bound is credited to the next window. */
static void test_window_settle(void **state) {
  (void)state;
  bf_seqtrack *t = malloc(sizeof *t);
  assert_non_null(t);
  bf_seqtrack_init(t);
  uint64_t t0 = 1000 * MS;
  /* one number per ms; 10 comes with 30 (19 ms after 11), 180 at 205 ms */
  for (uint32_t s = 0; s < 200; s++) {
    if (s != 10 && s != 180) bf_seqtrack_push(t, s, t0 + s * MS);
    if (s == 30) assert_int_equal(bf_seqtrack_push(t, 10, t0 + s * MS), BF_SEQ_REORDERED);
  }
  assert_int_equal(bf_seqtrack_lateness(t, t0 + 200 * MS), 19 * MS);
  /* bound 19 x 3/2 + 2 = 30.5 ms: up to the number seen at 169.5 ms */
  bf_seqtrack_window w;
  bf_seqtrack_close_window(t, t0 + 200 * MS, &w);
  assert_int_equal(w.settle_ns, 30500000u);
  assert_int_equal(w.horizon, 169);
  assert_int_equal(w.expected, 170); /* 0..169, 10 in it */
  assert_int_equal(w.received, 170);
  assert_int_equal(w.open, 30); /* 170..199, 180 still in flight */
  /* 200..399; 180 arrives (within the bound), 300 is held back */
  for (uint32_t s = 200; s < 400; s++) {
    if (s != 300) bf_seqtrack_push(t, s, t0 + s * MS);
    if (s == 205) assert_int_equal(bf_seqtrack_push(t, 180, t0 + s * MS), BF_SEQ_REORDERED);
    if (s == 210) assert_int_equal(bf_seqtrack_push(t, 180, t0 + s * MS), BF_SEQ_DUPLICATE);
  }
  bf_seqtrack_close_window(t, t0 + 400 * MS, &w);
  assert_int_equal(w.settle_ns, 38000000u); /* 180 was 24 ms late */
  assert_int_equal(w.horizon, 362);
  assert_int_equal(w.expected, 362 - 169);
  assert_int_equal(w.received, 362 - 169 - 1); /* 300 */
  assert_int_equal(w.credited, 0);
  /* 300 comes after its window closed: credited to the next window, which
   * lost 450 (really: it never comes) */
  assert_int_equal(bf_seqtrack_push(t, 300, t0 + 420 * MS), BF_SEQ_REORDERED);
  assert_int_equal(t->late_closed, 1);
  for (uint32_t s = 400; s < 600; s++)
    if (s != 450) bf_seqtrack_push(t, s, t0 + s * MS);
  bf_seqtrack_close_window(t, t0 + 600 * MS, &w);
  /* 300 was 119 ms late: bound 180.5 ms, up to the number seen at 419.5 */
  assert_int_equal(w.settle_ns, 180500000u);
  assert_int_equal(w.horizon, 419);
  assert_int_equal(w.expected, 419 - 362);
  assert_int_equal(w.credited, 0); /* 450 is above the horizon: no room */
  assert_int_equal(w.uncredited, 1); /* 300: the session's totals take it */
  assert_int_equal(w.received, 419 - 362);
  bf_seqtrack_close_window(t, t0 + 800 * MS, &w);
  assert_int_equal(w.horizon, 599);
  assert_int_equal(w.expected, 599 - 419);
  assert_int_equal(w.received, 599 - 419 - 1); /* 450 is lost */
  /* a straggler credited where there is room */
  assert_int_equal(bf_seqtrack_push(t, 450, t0 + 810 * MS), BF_SEQ_REORDERED);
  for (uint32_t s = 600; s < 800; s++)
    if (s != 650) bf_seqtrack_push(t, s, t0 + 810 * MS + (s - 600) * MS);
  /* 450 was 359 ms late: the bound is at its cap, 250 ms */
  bf_seqtrack_close_window(t, t0 + 1300 * MS, &w);
  assert_int_equal(w.settle_ns, BF_SEQTRACK_SETTLE_MAX_NS);
  assert_int_equal(w.horizon, 799);
  assert_int_equal(w.expected, 200);
  assert_int_equal(w.credited, 1);
  assert_int_equal(w.uncredited, 0);
  assert_int_equal(w.received, 200); /* 650 lost, 450 credited */
  assert_int_equal(t->late_closed, 2);
  /* nothing settled yet right after a new stream begins */
  bf_seqtrack_restart(t);
  bf_seqtrack_push(t, 7, t0 + 2000 * MS);
  bf_seqtrack_close_window(t, t0 + 2001 * MS, &w);
  assert_true(w.settle_ns > 0);
  assert_int_equal(w.expected, 0);
  assert_int_equal(w.open, 1);
  bf_seqtrack_close_window(t, t0 + 3000 * MS, &w);
  assert_int_equal(w.expected, 1);
  assert_int_equal(w.received, 1);
  free(t);
}

/* The first datagram to arrive is not the stream's first: until a window
 * closed, earlier numbers extend it. A number too old to tell from a copy is
 * not counted. */
static void test_window_start(void **state) {
  (void)state;
  bf_seqtrack *t = malloc(sizeof *t);
  assert_non_null(t);
  bf_seqtrack_init(t);
  uint64_t t0 = 1000 * MS;
  bf_seqtrack_push(t, 5, t0);
  const uint32_t early[] = {3, 4, 0, 2, 1};
  for (size_t i = 0; i < 5; i++)
    assert_int_equal(bf_seqtrack_push(t, early[i], t0 + MS), BF_SEQ_REORDERED);
  for (uint32_t s = 6; s <= 20; s++)
    bf_seqtrack_push(t, s, t0 + (s - 4) * MS);
  bf_seqtrack_window w;
  bf_seqtrack_close_window(t, t0 + 50 * MS, &w);
  assert_int_equal(w.horizon, 20);
  assert_int_equal(w.expected, 21);
  assert_int_equal(w.received, 21);
  assert_int_equal(t->late_closed, 0);
  /* too old to tell: neither received nor late */
  for (uint32_t s = 21; s < 21 + BF_SEQTRACK_WINDOW + 100; s++)
    bf_seqtrack_push(t, s, t0 + 60 * MS);
  assert_int_equal(bf_seqtrack_push(t, 30, t0 + 61 * MS), BF_SEQ_OLD);
  assert_int_equal(t->late_closed, 0);
  free(t);
}

/* A high packet rate with a long bound: what stays open is held to the
 * bitmap's reach; a number closed because of that and arriving later is a
 * late straggler, not a duplicate. */
static void test_window_bitmap_limit(void **state) {
  (void)state;
  bf_seqtrack *t = malloc(sizeof *t);
  assert_non_null(t);
  bf_seqtrack_init(t);
  uint64_t t0 = 1000 * MS;
  /* 160 numbers per ms for 400 ms; 100 comes 100 ms after 101 */
  const uint32_t n = 160 * 400, far = n - BF_SEQTRACK_WINDOW - 1000;
  for (uint32_t s = 0; s < n; s++) {
    uint64_t at = t0 + s * (MS / 160);
    if (s != 100 && s != far && s != n - BF_SEQTRACK_WINDOW) bf_seqtrack_push(t, s, at);
    if (s == 101 + 160 * 100) assert_int_equal(bf_seqtrack_push(t, 100, at), BF_SEQ_REORDERED);
  }
  bf_seqtrack_window w;
  bf_seqtrack_close_window(t, t0 + 400 * MS, &w);
  /* 100 ms late (the ring of advances reaches back 6.4 ms here, the slot
   * checkpoints the rest, < 1 ms short): bound ~152 ms, ~24000 numbers */
  assert_true(w.settle_ns >= 150 * MS && w.settle_ns <= 152 * MS);
  assert_int_equal(w.open, BF_SEQTRACK_WINDOW - 1);
  assert_int_equal(w.horizon, n - BF_SEQTRACK_WINDOW);
  assert_int_equal(w.expected, n - BF_SEQTRACK_WINDOW + 1);
  assert_int_equal(w.received, w.expected - 2); /* far, the horizon */
  /* the horizon itself arrives late: a straggler; one further back is too
   * old to tell from a copy */
  assert_int_equal(bf_seqtrack_push(t, n - BF_SEQTRACK_WINDOW, t0 + 401 * MS), BF_SEQ_REORDERED);
  assert_int_equal(bf_seqtrack_push(t, far, t0 + 401 * MS), BF_SEQ_OLD);
  assert_int_equal(t->late_closed, 1);
  free(t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_in_order_and_dups), cmocka_unit_test(test_lateness),
      cmocka_unit_test(test_window_in_order),   cmocka_unit_test(test_window_settle),
      cmocka_unit_test(test_window_start),      cmocka_unit_test(test_window_bitmap_limit),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
