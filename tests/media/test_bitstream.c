/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Bitstream helpers (media/src/bitstream.c): Annex B start codes, leb128
 * (padded, truncated, overlong) and OBU framing (extension byte, no size
 * field, every way of being cut off), and that none of them reads past the
 * length it is given.
 */
#include "testutil.h"

#include <bildfunk/bitstream.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void test_annexb(void **state) {
  (void)state;
  /* 4-byte start code, 3-byte start code, then trailing zeros */
  const uint8_t d[] = {0, 0, 0, 1, 0x67, 0x42, 0, 0, 1, 0x68, 0xce, 0, 0};
  size_t n = sizeof d;
  assert_int_equal(bf_annexb_find(d, n, 0), 1); /* the last three bytes of 00 00 00 01 */
  assert_int_equal(bf_annexb_find(d, n, 1), 1);
  assert_int_equal(bf_annexb_find(d, n, 2), 6);
  assert_int_equal(bf_annexb_find(d, n, 1 + BF_ANNEXB_START_CODE_BYTES), 6);
  assert_int_equal(bf_annexb_find(d, n, 7), n); /* "00 00" at the end is no start code */
  assert_int_equal(bf_annexb_find(d, n, n), n);
  assert_int_equal(bf_annexb_find(d, n, n + 5), n);
  assert_int_equal(bf_annexb_find(d, 0, 0), 0);
  assert_int_equal(bf_annexb_find(d, 3, 0), 3); /* 00 00 00: no 01 */
  assert_int_equal(bf_annexb_find(d, 4, 0), 1); /* a start code ending at len */
  /* 00 00 01 00 00 01: back to back */
  const uint8_t b2b[] = {0, 0, 1, 0, 0, 1};
  assert_int_equal(bf_annexb_find(b2b, sizeof b2b, 0), 0);
  assert_int_equal(bf_annexb_find(b2b, sizeof b2b, 3), 3);
  /* no 00 00 01 in 00 01 00 01 */
  const uint8_t none[] = {0, 1, 0, 1, 1, 0};
  assert_int_equal(bf_annexb_find(none, sizeof none, 0), sizeof none);
}

static void test_leb128(void **state) {
  (void)state;
  uint64_t v = 99;
  const uint8_t zero[] = {0x00};
  assert_int_equal(bf_leb128_read(zero, 1, &v), 1);
  assert_int_equal(v, 0);
  const uint8_t b127[] = {0x7f, 0xff};
  assert_int_equal(bf_leb128_read(b127, 2, &v), 1);
  assert_int_equal(v, 127);
  const uint8_t b128[] = {0x80, 0x01};
  assert_int_equal(bf_leb128_read(b128, 2, &v), 2);
  assert_int_equal(v, 128);
  const uint8_t wiki[] = {0xe5, 0x8e, 0x26}; /* 624485 */
  assert_int_equal(bf_leb128_read(wiki, 3, &v), 3);
  assert_int_equal(v, 624485);
  /* padded: 0 in two bytes, 1 in eight */
  const uint8_t pad0[] = {0x80, 0x00};
  assert_int_equal(bf_leb128_read(pad0, 2, &v), 2);
  assert_int_equal(v, 0);
  const uint8_t pad1[] = {0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00};
  assert_int_equal(bf_leb128_read(pad1, 8, &v), 8);
  assert_int_equal(v, 1);
  /* the largest: eight bytes of 7 bits */
  const uint8_t max[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f};
  assert_int_equal(bf_leb128_read(max, 8, &v), 8);
  assert_int_equal(v, (1ull << 56) - 1);
  /* truncated: the length ends while the continuation bit is set */
  assert_int_equal(bf_leb128_read(b128, 1, &v), 0);
  assert_int_equal(bf_leb128_read(wiki, 2, &v), 0);
  assert_int_equal(bf_leb128_read(max, 7, &v), 0);
  assert_int_equal(bf_leb128_read(zero, 0, &v), 0);
  /* overlong: a ninth byte is never read, even when it is there */
  const uint8_t nine[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00};
  assert_int_equal(bf_leb128_read(nine, sizeof nine, &v), 0);
  const uint8_t ninef[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
  assert_int_equal(bf_leb128_read(ninef, sizeof ninef, &v), 0);
}

static void test_obu(void **state) {
  (void)state;
  bf_obu o;
  /* a temporal unit: TD, sequence header (3-byte payload), frame without a
   * size field (runs to the end) */
  const uint8_t tu[] = {0x12, 0x00, 0x0a, 0x03, 0xa, 0xb, 0xc, 0x30, 0x10, 0xaa};
  assert_int_equal(bf_obu_read(tu, sizeof tu, 0, &o), 0);
  assert_int_equal(o.type, BF_OBU_TEMPORAL_DELIMITER);
  assert_true(o.has_size);
  assert_false(o.extension);
  assert_int_equal(o.header, 0x12);
  assert_int_equal(o.payload, 2);
  assert_int_equal(o.size, 0);
  assert_int_equal(o.end, 2);
  assert_int_equal(bf_obu_read(tu, sizeof tu, o.end, &o), 0);
  assert_int_equal(o.type, BF_OBU_SEQUENCE_HEADER);
  assert_int_equal(o.payload, 4);
  assert_int_equal(o.size, 3);
  assert_int_equal(o.end, 7);
  assert_int_equal(bf_obu_read(tu, sizeof tu, o.end, &o), 0);
  assert_int_equal(o.type, BF_OBU_FRAME);
  assert_false(o.has_size);
  assert_int_equal(o.payload, 8);
  assert_int_equal(o.size, 2);
  assert_int_equal(o.end, sizeof tu);
  /* nothing left */
  assert_int_equal(bf_obu_read(tu, sizeof tu, sizeof tu, &o), -EBADMSG);
  assert_int_equal(bf_obu_read(tu, 0, 0, &o), -EBADMSG);
  /* the extension byte is skipped, not read as the size */
  const uint8_t ext[] = {0x16, 0x55, 0x01, 0x99};
  assert_int_equal(bf_obu_read(ext, sizeof ext, 0, &o), 0);
  assert_true(o.extension);
  assert_int_equal(o.payload, 3);
  assert_int_equal(o.size, 1);
  assert_int_equal(o.end, 4);
  /* an extension OBU without a size field, with an empty payload */
  const uint8_t ext_nosize[] = {0x34, 0x00};
  assert_int_equal(bf_obu_read(ext_nosize, sizeof ext_nosize, 0, &o), 0);
  assert_int_equal(o.size, 0);
  assert_int_equal(o.end, 2);
  /* the reserved bit is reported, not judged */
  const uint8_t reserved[] = {0x13, 0x00};
  assert_int_equal(bf_obu_read(reserved, sizeof reserved, 0, &o), 0);
  assert_int_equal(o.header & 1, 1);
  /* malformed: forbidden bit, extension cut off, size field cut off or
   * overlong, size past the end */
  const uint8_t forbidden[] = {0x92, 0x00};
  assert_int_equal(bf_obu_read(forbidden, sizeof forbidden, 0, &o), -EBADMSG);
  assert_int_equal(bf_obu_read(ext, 1, 0, &o), -EBADMSG);
  assert_int_equal(bf_obu_read(ext_nosize, 1, 0, &o), -EBADMSG);
  assert_int_equal(bf_obu_read(ext, 2, 0, &o), -EBADMSG); /* no size byte */
  assert_int_equal(bf_obu_read(tu, 1, 0, &o), -EBADMSG);
  const uint8_t size_cut[] = {0x0a, 0x80};
  assert_int_equal(bf_obu_read(size_cut, sizeof size_cut, 0, &o), -EBADMSG);
  const uint8_t size_long[] = {0x0a, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00};
  assert_int_equal(bf_obu_read(size_long, sizeof size_long, 0, &o), -EBADMSG);
  const uint8_t past[] = {0x0a, 0x05, 1, 2, 3, 4};
  assert_int_equal(bf_obu_read(past, sizeof past, 0, &o), -EBADMSG);
  const uint8_t exact[] = {0x0a, 0x04, 1, 2, 3, 4};
  assert_int_equal(bf_obu_read(exact, sizeof exact, 0, &o), 0);
  assert_int_equal(o.end, sizeof exact);
  /* a size near 2^56 must not wrap the end offset */
  const uint8_t huge[] = {0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0};
  assert_int_equal(bf_obu_read(huge, sizeof huge, 0, &o), -EBADMSG);
}

/* Random bytes in an exactly sized heap buffer (ASan sees any over-read):
 * walking OBUs and start codes ends, and stays inside. */
static void test_random(void **state) {
  (void)state;
  bf_test_rng rng;
  bf_test_rng_seed(&rng, 12);
  for (int i = 0; i < 2000; i++) {
    size_t n = bf_test_rng_below(&rng, 300);
    uint8_t *d = malloc(n ? n : 1);
    assert_non_null(d);
    bf_test_rng_fill(&rng, d, n);
    if (n && i % 2) d[0] &= 0x7f; /* more OBU headers that pass the forbidden bit */
    size_t pos = 0, units = 0;
    bf_obu o;
    while (pos < n && bf_obu_read(d, n, pos, &o) == 0) {
      assert_true(o.payload > pos && o.payload <= n);
      assert_true(o.end == o.payload + o.size && o.end <= n);
      pos = o.end;
      units++;
    }
    assert_true(units <= n);
    for (size_t at = bf_annexb_find(d, n, 0); at < n; at = bf_annexb_find(d, n, at + 3)) {
      assert_true(at + 3 <= n);
      assert_true(d[at] == 0 && d[at + 1] == 0 && d[at + 2] == 1);
    }
    uint64_t v;
    size_t used = bf_leb128_read(d, n, &v);
    assert_true(used <= 8 && used <= n);
    free(d);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_annexb),
      cmocka_unit_test(test_leb128),
      cmocka_unit_test(test_obu),
      cmocka_unit_test(test_random),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
