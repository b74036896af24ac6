/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Access-unit inspection: keyframes and parameter sets of hand-built H.264,
 * HEVC and AV1 access units, malformed input, a codec it does not know.
 */
#include "testutil.h"

#include "au.h"

#include <errno.h>
#include <string.h>

static bf_au_info inspect(bf_codec c, const uint8_t *d, size_t n) {
  bf_au_info i;
  assert_int_equal(bf_au_inspect(c, d, n, &i), 0);
  return i;
}

static void test_h264(void **state) {
  (void)state;
  /* 4-byte start code SPS, 3-byte PPS, IDR slice */
  static const uint8_t idr[] = {0,    0,    0,    1, 0x67, 0x42, 0xc0, 0x1e, 0,    0,    1,   0x68,
                                0xce, 0x3c, 0x80, 0, 0,    0,    1,    0x65, 0x88, 0x84, 0x00};
  bf_au_info i = inspect(BF_CODEC_H264, idr, sizeof idr);
  assert_true(i.keyframe);
  assert_true(i.param_sets);
  assert_int_equal(i.units, 3);
  assert_false(i.malformed);
  static const uint8_t p[] = {0, 0, 0, 1, 0x09, 0xf0, 0, 0, 1, 0x41, 0x9a, 0x02};
  i = inspect(BF_CODEC_H264, p, sizeof p);
  assert_false(i.keyframe);
  assert_false(i.param_sets);
  assert_int_equal(i.units, 2);
  /* an IDR without its parameter sets is still a keyframe, but says so */
  i = inspect(BF_CODEC_H264, idr + 15, sizeof idr - 15);
  assert_true(i.keyframe);
  assert_false(i.param_sets);
  static const uint8_t junk[] = {1, 2, 3, 4, 5};
  assert_true(inspect(BF_CODEC_H264, junk, sizeof junk).malformed);
  assert_true(inspect(BF_CODEC_H264, junk, 0).malformed);
}

static void test_hevc(void **state) {
  (void)state;
  /* VPS (32), SPS (33), PPS (34), IDR_W_RADL (19): type << 1 */
  static const uint8_t idr[] = {0, 0, 0, 1,    0x40, 0x01, 0x0c, 0, 0, 1,    0x42, 0x01, 0x01,
                                0, 0, 1, 0x44, 0x01, 0xc1, 0,    0, 1, 0x26, 0x01, 0xaf};
  bf_au_info i = inspect(BF_CODEC_HEVC, idr, sizeof idr);
  assert_true(i.keyframe);
  assert_true(i.param_sets);
  assert_int_equal(i.units, 4);
  static const uint8_t cra[] = {0, 0, 1, 0x2a, 0x01, 0xaf}; /* CRA (21) */
  assert_true(inspect(BF_CODEC_HEVC, cra, sizeof cra).keyframe);
  static const uint8_t trail[] = {0, 0, 1, 0x02, 0x01, 0xd0}; /* TRAIL_R (1) */
  i = inspect(BF_CODEC_HEVC, trail, sizeof trail);
  assert_false(i.keyframe);
  assert_false(i.param_sets);
  /* H.264 reading of the same bytes differs: the codec matters */
  assert_false(inspect(BF_CODEC_H264, idr, sizeof idr).keyframe);
}

static void test_av1(void **state) {
  (void)state;
  /* TD; sequence header (profile 0, not still); frame OBU: show_existing 0,
   * KEY_FRAME (00), show_frame 1 -> 0b0001xxxx */
  static const uint8_t key[] = {0x12, 0x00, 0x0a, 0x03, 0x00, 0x00, 0x00, 0x32, 0x02, 0x10, 0xff};
  bf_au_info i = inspect(BF_CODEC_AV1, key, sizeof key);
  assert_true(i.keyframe);
  assert_true(i.param_sets);
  assert_true(i.temporal_delimiter);
  assert_int_equal(i.td_bytes, 2);
  assert_int_equal(i.units, 3);
  assert_false(i.malformed);
  /* INTER_FRAME (01) shown: 0b0011xxxx */
  static const uint8_t inter[] = {0x12, 0x00, 0x32, 0x02, 0x30, 0xff};
  i = inspect(BF_CODEC_AV1, inter, sizeof inter);
  assert_false(i.keyframe);
  assert_false(i.param_sets);
  /* show_existing_frame of a key frame: not a new keyframe */
  static const uint8_t existing[] = {0x12, 0x00, 0x1a, 0x01, 0x80};
  assert_false(inspect(BF_CODEC_AV1, existing, sizeof existing).keyframe);
  /* a key frame that is not shown: not a random access point */
  static const uint8_t hidden[] = {0x32, 0x01, 0x00};
  i = inspect(BF_CODEC_AV1, hidden, sizeof hidden);
  assert_false(i.keyframe);
  assert_false(i.temporal_delimiter);
  /* reduced still picture header: every frame is a key frame */
  static const uint8_t still[] = {0x0a, 0x01, 0x18, 0x32, 0x01, 0x00};
  assert_true(inspect(BF_CODEC_AV1, still, sizeof still).keyframe);
  /* OBU with an extension byte, and one without a size field (runs to the end) */
  static const uint8_t ext[] = {0x16, 0x00, 0x00, 0x30, 0x10, 0xaa};
  i = inspect(BF_CODEC_AV1, ext, sizeof ext);
  assert_true(i.temporal_delimiter);
  assert_int_equal(i.td_bytes, 3);
  assert_true(i.keyframe);
  assert_int_equal(i.units, 2);
  /* truncated: size says 5, 1 byte left */
  static const uint8_t cut[] = {0x12, 0x00, 0x32, 0x05, 0x10};
  assert_true(inspect(BF_CODEC_AV1, cut, sizeof cut).malformed);
  static const uint8_t forbidden[] = {0x92, 0x00};
  assert_true(inspect(BF_CODEC_AV1, forbidden, sizeof forbidden).malformed);
  assert_true(inspect(BF_CODEC_AV1, forbidden, 0).malformed);
  assert_int_equal(bf_av1_temporal_delimiter[0], 0x12);
}

/* The codec names moved to the media library: tests/media/test_codec.c. */
static void test_unknown_codec(void **state) {
  (void)state;
  bf_au_info i;
  assert_int_equal(bf_au_inspect((bf_codec)9, (const uint8_t *)"", 0, &i), -EINVAL);
  assert_int_equal(bf_au_inspect(BF_CODEC_UNKNOWN, (const uint8_t *)"", 0, &i), -EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_h264),
      cmocka_unit_test(test_hevc),
      cmocka_unit_test(test_av1),
      cmocka_unit_test(test_unknown_codec),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
