/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The queue of completed AUs: in order a push appends, an AU that overtook
 * an earlier one waits behind it, the order holds across the 32-bit
 * frame_index wrap and the ring's own wrap, a full queue refuses the AU and
 * changes nothing.
 */
#include "testutil.h"

#include "video/au_queue.h"

#include <errno.h>
#include <string.h>

static int push(bf_au_queue *q, uint32_t idx) {
  bf_queued_au au;
  memset(&au, 0, sizeof au);
  au.f.frame_index = idx;
  au.rec.frame_index = idx;
  au.rec.bytes = idx * 3u;
  return bf_au_queue_push(q, &au);
}

static uint32_t pop(bf_au_queue *q) {
  bf_queued_au au;
  assert_int_equal(bf_au_queue_pop(q, &au), 1);
  assert_int_equal(au.rec.frame_index, au.f.frame_index); /* the record travels with it */
  assert_int_equal(au.rec.bytes, au.f.frame_index * 3u);
  return au.f.frame_index;
}

static void test_order(void **state) {
  (void)state;
  bf_au_queue q;
  bf_au_queue_init(&q);
  bf_queued_au au;
  assert_null(bf_au_queue_head(&q));
  assert_int_equal(bf_au_queue_pop(&q, &au), 0);
  /* in order, then 13 overtakes 12 and 11, which come later */
  assert_int_equal(push(&q, 10), 0);
  assert_int_equal(push(&q, 13), 0);
  assert_int_equal(push(&q, 11), 0);
  assert_int_equal(push(&q, 14), 0);
  assert_int_equal(push(&q, 12), 0);
  assert_int_equal(bf_au_queue_len(&q), 5);
  assert_int_equal(bf_au_queue_head(&q)->f.frame_index, 10);
  for (uint32_t i = 10; i <= 14; i++)
    assert_int_equal(pop(&q), i);
  assert_int_equal(bf_au_queue_len(&q), 0);

  /* a later AU older than the head goes in front of it; equal indices keep
   * the order they came in */
  assert_int_equal(push(&q, 20), 0);
  assert_int_equal(push(&q, 19), 0);
  assert_int_equal(push(&q, 20), 0);
  assert_int_equal(pop(&q), 19);
  assert_int_equal(pop(&q), 20);
  assert_int_equal(pop(&q), 20);
}

static void test_index_wrap(void **state) {
  (void)state;
  bf_au_queue q;
  bf_au_queue_init(&q);
  assert_int_equal(push(&q, 0xFFFFFFFEu), 0);
  assert_int_equal(push(&q, 1), 0);
  assert_int_equal(push(&q, 0xFFFFFFFFu), 0);
  assert_int_equal(push(&q, 0), 0);
  assert_int_equal(pop(&q), 0xFFFFFFFEu);
  assert_int_equal(pop(&q), 0xFFFFFFFFu);
  assert_int_equal(pop(&q), 0);
  assert_int_equal(pop(&q), 1);
}

static void test_full_and_ring_wrap(void **state) {
  (void)state;
  bf_au_queue q;
  bf_au_queue_init(&q);
  /* move the head so the ring wraps inside the queue */
  for (uint32_t i = 0; i < 40; i++) {
    assert_int_equal(push(&q, i), 0);
    assert_int_equal(pop(&q), i);
  }
  for (uint32_t i = 0; i < BF_AU_QUEUE_MAX; i++)
    assert_int_equal(push(&q, 100 + 2 * i), 0); /* even indices */
  assert_int_equal(push(&q, 101), -ENOSPC);
  assert_int_equal(bf_au_queue_len(&q), BF_AU_QUEUE_MAX);
  assert_int_equal(pop(&q), 100);
  /* room for one: the odd one goes between, across the ring's wrap */
  assert_int_equal(push(&q, 151), 0);
  uint32_t last = 0;
  for (uint32_t i = 0; i < BF_AU_QUEUE_MAX; i++) {
    uint32_t v = pop(&q);
    assert_true(v > last);
    last = v;
    if (v == 150) assert_int_equal(bf_au_queue_head(&q)->f.frame_index, 151);
  }
  assert_int_equal(bf_au_queue_len(&q), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_order),
      cmocka_unit_test(test_index_wrap),
      cmocka_unit_test(test_full_and_ring_wrap),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
