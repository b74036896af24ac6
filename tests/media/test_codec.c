/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Codecs (media/src/codec.c): the names both programs print and parse, the
 * enum's values against the control protocol's numbers, and the codec of an
 * access unit told from its bytes, on hand-built and random input.
 */
#include "testutil.h"

#include <bildfunk/codec.h>

#include <errno.h>
#include <string.h>

static void test_values(void **state) {
  (void)state;
  /* the control plane's numbers: a Welcome's codec is a bf_codec */
  assert_int_equal(BF_CODEC_H264, BF_CTL_CODEC_H264);
  assert_int_equal(BF_CODEC_HEVC, BF_CTL_CODEC_HEVC);
  assert_int_equal(BF_CODEC_AV1, BF_CTL_CODEC_AV1);
  assert_int_equal(BF_CODEC_UNKNOWN, 0);
}

static void test_names(void **state) {
  (void)state;
  bf_codec c;
  assert_int_equal(bf_codec_parse("h264", &c), 0);
  assert_int_equal(c, BF_CODEC_H264);
  assert_int_equal(bf_codec_parse("avc", &c), 0);
  assert_int_equal(c, BF_CODEC_H264);
  assert_int_equal(bf_codec_parse("hevc", &c), 0);
  assert_int_equal(c, BF_CODEC_HEVC);
  assert_int_equal(bf_codec_parse("h265", &c), 0);
  assert_int_equal(c, BF_CODEC_HEVC);
  assert_int_equal(bf_codec_parse("av1", &c), 0);
  assert_int_equal(c, BF_CODEC_AV1);
  assert_int_equal(bf_codec_parse("vp9", &c), -EINVAL);
  assert_int_equal(bf_codec_parse("vp8", &c), -EINVAL);
  assert_int_equal(bf_codec_parse(NULL, &c), -EINVAL);
  /* not codecs: "auto" is the client's choice, made in its CLI */
  c = BF_CODEC_AV1;
  assert_int_equal(bf_codec_parse("auto", &c), -EINVAL);
  assert_int_equal(bf_codec_parse("unknown", &c), -EINVAL);
  assert_int_equal(bf_codec_parse("H264", &c), -EINVAL);
  assert_int_equal(bf_codec_parse("", &c), -EINVAL);
  assert_int_equal(bf_codec_parse("h2640", &c), -EINVAL);
  assert_int_equal(c, BF_CODEC_AV1); /* untouched on failure */

  assert_string_equal(bf_codec_name(BF_CODEC_H264), "h264");
  assert_string_equal(bf_codec_name(BF_CODEC_HEVC), "hevc");
  assert_string_equal(bf_codec_name(BF_CODEC_AV1), "av1");
  assert_string_equal(bf_codec_name(BF_CODEC_UNKNOWN), "unknown");
  assert_null(bf_codec_name((bf_codec)9));
  assert_null(bf_codec_name((bf_codec)4));
  assert_null(bf_codec_name((bf_codec)-1));
  /* every name parses back to its codec */
  const bf_codec all[] = {BF_CODEC_H264, BF_CODEC_HEVC, BF_CODEC_AV1};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
    assert_int_equal(bf_codec_parse(bf_codec_name(all[i]), &c), 0);
    assert_int_equal(c, all[i]);
  }
}

static void test_detect(void **state) {
  (void)state;
  /* H.264: AUD, then an SPS */
  const uint8_t h264[] = {0, 0, 0, 1, 0x09, 0xf0, 0, 0, 0, 1, 0x67, 0x42, 0xc0, 0x1e, 0xd9};
  assert_int_equal(bf_codec_detect(h264, sizeof h264), BF_CODEC_H264);
  /* HEVC: AUD (type 35), then a VPS (type 32) */
  const uint8_t hevc[] = {0, 0, 0, 1, 0x46, 0x01, 0x10, 0, 0, 1, 0x40, 0x01, 0x0c, 0x01, 0xff};
  assert_int_equal(bf_codec_detect(hevc, sizeof hevc), BF_CODEC_HEVC);
  /* AV1: temporal delimiter, sequence header OBU with a size field */
  const uint8_t av1[] = {0x12, 0x00, 0x0a, 0x0b, 0,    0,    0,   0x24,
                         0xc4, 0xff, 0xdf, 0x00, 0x68, 0x02, 0x10};
  assert_int_equal(bf_codec_detect(av1, sizeof av1), BF_CODEC_AV1);
  /* an AV1 frame without a sequence header says nothing */
  const uint8_t av1_frame[] = {0x12, 0x00, 0x32, 0x03, 1, 2, 3};
  assert_int_equal(bf_codec_detect(av1_frame, sizeof av1_frame), BF_CODEC_UNKNOWN);
  /* truncated OBU size */
  const uint8_t av1_cut[] = {0x12, 0x00, 0x0a, 0x7f, 1, 2};
  assert_int_equal(bf_codec_detect(av1_cut, sizeof av1_cut), BF_CODEC_UNKNOWN);
  /* an H.264 P slice (0x41) must not pass for an HEVC VPS */
  const uint8_t p_slice[] = {0, 0, 1, 0x41, 0x9a, 0x02, 0x11};
  assert_int_equal(bf_codec_detect(p_slice, sizeof p_slice), BF_CODEC_UNKNOWN);
  /* garbage and tiny inputs */
  bf_test_rng rng;
  bf_test_rng_seed(&rng, 44);
  uint8_t junk[4096];
  for (int i = 0; i < 200; i++) {
    size_t n = bf_test_rng_below(&rng, sizeof junk) + 1;
    bf_test_rng_fill(&rng, junk, n);
    junk[0] = 0x80; /* forbidden bit: neither Annex B nor OBU */
    assert_int_equal(bf_codec_detect(junk, n), BF_CODEC_UNKNOWN);
    (void)bf_codec_detect(junk + 1, n - 1); /* must not crash or over-read */
  }
  assert_int_equal(bf_codec_detect(junk, 0), BF_CODEC_UNKNOWN);
}

static void test_detect_edges(void **state) {
  (void)state;
  /* an SPS whose header is the last byte: one header byte is not enough */
  const uint8_t sps_last[] = {0, 0, 1, 0x67};
  assert_int_equal(bf_codec_detect(sps_last, sizeof sps_last), BF_CODEC_UNKNOWN);
  const uint8_t sps_two[] = {0, 0, 1, 0x67, 0x42};
  assert_int_equal(bf_codec_detect(sps_two, sizeof sps_two), BF_CODEC_H264);
  /* forbidden_zero_bit set on an SPS-looking header: skipped */
  const uint8_t forbidden[] = {0, 0, 1, 0xe7, 0x42, 0x00};
  assert_int_equal(bf_codec_detect(forbidden, sizeof forbidden), BF_CODEC_UNKNOWN);
  /* HEVC VPS with nuh_layer_id != 0 or temporal_id_plus1 == 0: not a VPS */
  const uint8_t vps_layer[] = {0, 0, 1, 0x40, 0x09, 0x0c};
  assert_int_equal(bf_codec_detect(vps_layer, sizeof vps_layer), BF_CODEC_UNKNOWN);
  const uint8_t vps_tid0[] = {0, 0, 1, 0x40, 0x00, 0x0c};
  assert_int_equal(bf_codec_detect(vps_tid0, sizeof vps_tid0), BF_CODEC_UNKNOWN);
  /* AV1: padding (15) before the sequence header is fine */
  const uint8_t padded[] = {0x7a, 0x01, 0xaa, 0x0a, 0x01, 0x00};
  assert_int_equal(bf_codec_detect(padded, sizeof padded), BF_CODEC_AV1);
  /* a reserved OBU type (9), the reserved header bit, an OBU without a size
   * field, obu_type 0: each means "not our AV1" */
  const uint8_t reserved_type[] = {0x4a, 0x00, 0x0a, 0x01, 0x00};
  assert_int_equal(bf_codec_detect(reserved_type, sizeof reserved_type), BF_CODEC_UNKNOWN);
  const uint8_t reserved_bit[] = {0x0b, 0x01, 0x00};
  assert_int_equal(bf_codec_detect(reserved_bit, sizeof reserved_bit), BF_CODEC_UNKNOWN);
  const uint8_t no_size[] = {0x08, 0x00, 0x00};
  assert_int_equal(bf_codec_detect(no_size, sizeof no_size), BF_CODEC_UNKNOWN);
  const uint8_t type0[] = {0x02, 0x00, 0x0a, 0x01, 0x00};
  assert_int_equal(bf_codec_detect(type0, sizeof type0), BF_CODEC_UNKNOWN);
  /* with an extension byte; and one cut off after its header */
  const uint8_t ext[] = {0x0e, 0x00, 0x01, 0x00};
  assert_int_equal(bf_codec_detect(ext, sizeof ext), BF_CODEC_AV1);
  assert_int_equal(bf_codec_detect(ext, 2), BF_CODEC_UNKNOWN);
  assert_int_equal(bf_codec_detect(ext, 1), BF_CODEC_UNKNOWN);
  /* a size field that is padded (0x80 0x00 = 0) is valid leb128 */
  const uint8_t pad_size[] = {0x12, 0x80, 0x00, 0x0a, 0x00};
  assert_int_equal(bf_codec_detect(pad_size, sizeof pad_size), BF_CODEC_AV1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_values),
      cmocka_unit_test(test_names),
      cmocka_unit_test(test_detect),
      cmocka_unit_test(test_detect_edges),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
