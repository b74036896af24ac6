/*
 * Packet order by stream_seq: in-order numbers, reordered ones and how late
 * they came, duplicates (also late ones), numbers wrapping, numbers too old to
 * tell, and the lateness estimate forgetting a network that stopped
 * reordering.
 */
#include "testutil.h"

#include "seqtrack.h"

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

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_in_order_and_dups),
      cmocka_unit_test(test_lateness),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
