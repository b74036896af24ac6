/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Feedback datagrams: round trip of every type, exact byte layout of one,
 * rejection of foreign and short datagrams, the punch recogniser.
 */
#include "testutil.h"

#include <bildfunk/feedback.h>
#include <bildfunk/wire.h>

#include <errno.h>
#include <string.h>

static void roundtrip(const bf_feedback *in, size_t want_len) {
  uint8_t buf[64];
  int n = bf_feedback_encode(in, buf, sizeof buf);
  assert_int_equal(n, (int)want_len);
  assert_true(n < (int)BF_HEADER_BYTES);
  assert_int_equal(buf[0], BF_FB_MAGIC);
  bf_feedback out;
  assert_int_equal(bf_feedback_decode(buf, (size_t)n, &out), 0);
  assert_int_equal(out.type, in->type);
  assert_memory_equal(&out.u, &in->u, sizeof in->u);
  /* one byte short is rejected; trailing bytes are ignored */
  assert_int_equal(bf_feedback_decode(buf, (size_t)n - 1, &out), -EBADMSG);
  assert_int_equal(bf_feedback_decode(buf, (size_t)n + 5, &out), 0);
}

static void test_roundtrip_all(void **state) {
  (void)state;
  bf_feedback f;
  memset(&f, 0, sizeof f);
  f.type = BF_FB_KEYFRAME_REQUEST;
  f.u.keyframe.request_id = 0xdeadbeef;
  f.u.keyframe.first_lost = UINT32_MAX;
  f.u.keyframe.last_lost = 3;
  roundtrip(&f, 14);
  memset(&f, 0, sizeof f);
  f.type = BF_FB_LOSS_REPORT;
  f.u.loss.window_ms = 750;
  f.u.loss.packets_received = 1;
  f.u.loss.shards_missing = 2;
  f.u.loss.loss_ppm = 3;
  f.u.loss.frames_completed = 4;
  f.u.loss.frames_lost = 5;
  f.u.loss.shards_recovered = 6;
  f.u.loss.late_shards = UINT32_MAX;
  roundtrip(&f, 34);
  memset(&f, 0, sizeof f);
  f.type = BF_FB_CLOCK_PING;
  f.u.ping.id = 9;
  f.u.ping.t1_ns = UINT64_MAX - 1;
  roundtrip(&f, 14);
  memset(&f, 0, sizeof f);
  f.type = BF_FB_CLOCK_PONG;
  f.u.pong.id = 9;
  f.u.pong.t1_ns = 1;
  f.u.pong.t2_ns = 2;
  f.u.pong.t3_ns = 0x0102030405060708ull;
  roundtrip(&f, 30);
  memset(&f, 0, sizeof f);
  f.type = BF_FB_BYE;
  f.u.bye.reason = BF_BYE_REPLACED;
  roundtrip(&f, 6);
  memset(&f, 0, sizeof f);
  f.type = BF_FB_FRAME_INFO;
  f.u.frame_info.frame_index = UINT32_MAX;
  f.u.frame_info.host_us = 0x01020304;
  roundtrip(&f, 10);
}

/* FRAME_INFO's bytes (docs/protocol.md §8): magic, 6, frame_index, host_us. */
static void test_frame_info_layout(void **state) {
  (void)state;
  bf_feedback f;
  memset(&f, 0, sizeof f);
  f.type = BF_FB_FRAME_INFO;
  f.u.frame_info.frame_index = 0x11223344;
  f.u.frame_info.host_us = 16667;
  uint8_t b[BF_FB_MAX_BYTES];
  assert_int_equal(bf_feedback_encode(&f, b, sizeof b), 10);
  static const uint8_t want[10] = {0xFB, 6, 0x44, 0x33, 0x22, 0x11, 0x1b, 0x41, 0, 0};
  assert_memory_equal(b, want, sizeof want);
}

static void test_layout(void **state) {
  (void)state;
  bf_feedback f;
  memset(&f, 0, sizeof f);
  f.type = BF_FB_CLOCK_PING;
  f.u.ping.id = 0x11223344;
  f.u.ping.t1_ns = 0x0102030405060708ull;
  uint8_t b[BF_FB_MAX_BYTES];
  assert_int_equal(bf_feedback_encode(&f, b, sizeof b), 14);
  static const uint8_t want[14] = {0xFB, 3,    0x44, 0x33, 0x22, 0x11, 0x08,
                                   0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01};
  assert_memory_equal(b, want, sizeof want);
}

static void test_rejects(void **state) {
  (void)state;
  bf_feedback f;
  uint8_t b[40] = {0xFB, 0};
  assert_int_equal(bf_feedback_decode(b, 40, &f), -EBADMSG); /* type 0 */
  b[1] = 7;                                                  /* 6 is FRAME_INFO since issue #17 */
  assert_int_equal(bf_feedback_decode(b, 40, &f), -EBADMSG); /* unknown type */
  b[0] = 0xC9;
  b[1] = 1;
  assert_int_equal(bf_feedback_decode(b, 40, &f), -EBADMSG);
  assert_int_equal(bf_feedback_decode(b, 0, &f), -EBADMSG);
  memcpy(b, "PFpunch1", 8);
  assert_int_equal(bf_feedback_decode(b, 8, &f), -EBADMSG);
  assert_true(bf_is_punch(b, 8));
  assert_true(bf_is_punch(b, 40));
  assert_false(bf_is_punch(b, 7));
  b[7] = '2';
  assert_false(bf_is_punch(b, 8));
  f.type = (bf_fb_type)77;
  assert_int_equal(bf_feedback_encode(&f, b, sizeof b), -EINVAL);
  f.type = BF_FB_LOSS_REPORT;
  assert_int_equal(bf_feedback_encode(&f, b, 33), -EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_roundtrip_all),
      cmocka_unit_test(test_layout),
      cmocka_unit_test(test_frame_info_layout),
      cmocka_unit_test(test_rejects),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
