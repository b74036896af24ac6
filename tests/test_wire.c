/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Wire format v1: header round trip (field by field, extreme values, byte
 * positions), geometry, m, and every stateless rejection reason.
 */
#include "testutil.h"

#include <bildfunk/wire.h>

#include <string.h>

static bf_header valid_header(void) {
  bf_header h = {0};
  h.pts_ns = 1700000000123456789ull;
  h.frame_index = 7;
  h.stream_seq = 99;
  h.frame_bytes = 3000;
  h.user_flags = BF_AU_KEYFRAME;
  h.block_index = 0;
  h.block_count = 1;
  h.data_shards = 3; /* ceil(3000 / 1408) */
  h.recovery_shards = 2;
  h.shard_index = 0;
  h.shard_bytes = 1408;
  h.magic = BF_MAGIC;
  h.version = BF_WIRE_VERSION;
  h.fec_scheme = BF_FEC_SCHEME_CAUCHY8;
  h.flags = BF_PKT_PIC | BF_PKT_SOF;
  return h;
}

static void test_roundtrip_extremes(void **state) {
  (void)state;
  bf_header h, d;
  uint8_t buf[BF_HEADER_BYTES];
  memset(&h, 0xff, sizeof h);
  bf_header_encode(&h, buf);
  for (size_t i = 0; i < sizeof buf; i++) assert_int_equal(buf[i], 0xff);
  bf_header_decode(buf, &d);
  assert_true(d.pts_ns == UINT64_MAX);
  assert_int_equal(d.frame_index, UINT32_MAX);
  assert_int_equal(d.shard_bytes, UINT16_MAX);
  assert_int_equal(d.flags, 0xff);
  memset(&h, 0, sizeof h);
  bf_header_encode(&h, buf);
  for (size_t i = 0; i < sizeof buf; i++) assert_int_equal(buf[i], 0);
}

/* Every field lands at the offset and in the byte order the spec gives. */
static void test_field_positions(void **state) {
  (void)state;
  bf_header h = {0}, d;
  h.pts_ns = 0x0102030405060708ull;
  h.frame_index = 0x11121314u;
  h.stream_seq = 0x21222324u;
  h.frame_bytes = 0x31323334u;
  h.user_flags = 0x41424344u;
  h.block_index = 0x5152;
  h.block_count = 0x5354;
  h.data_shards = 0x5556;
  h.recovery_shards = 0x5758;
  h.shard_index = 0x595a;
  h.shard_bytes = 0x5b5c;
  h.magic = 0xC9;
  h.version = 1;
  h.fec_scheme = 0x61;
  h.flags = 0x71;
  uint8_t b[BF_HEADER_BYTES];
  bf_header_encode(&h, b);
  static const uint8_t want[BF_HEADER_BYTES] = {
      0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, /* pts_ns */
      0x14, 0x13, 0x12, 0x11,                         /* frame_index */
      0x24, 0x23, 0x22, 0x21,                         /* stream_seq */
      0x34, 0x33, 0x32, 0x31,                         /* frame_bytes */
      0x44, 0x43, 0x42, 0x41,                         /* user_flags */
      0x52, 0x51, 0x54, 0x53, 0x56, 0x55, 0x58, 0x57, /* block.., k, m */
      0x5a, 0x59, 0x5c, 0x5b,                         /* shard idx, bytes */
      0xC9, 0x01, 0x61, 0x71};
  assert_memory_equal(b, want, sizeof want);
  bf_header_decode(b, &d);
  assert_memory_equal(&h, &d, sizeof h);
}

static void test_geometry(void **state) {
  (void)state;
  bf_geometry g;
  bf_geometry_compute(0, 1408, 128, &g);
  assert_int_equal(g.total_data, 1);
  assert_int_equal(g.block_count, 1);
  bf_geometry_compute(1408, 1408, 128, &g);
  assert_int_equal(g.total_data, 1);
  bf_geometry_compute(1409, 1408, 128, &g);
  assert_int_equal(g.total_data, 2);
  bf_geometry_compute(128 * 1408, 1408, 128, &g);
  assert_int_equal(g.block_count, 1);
  bf_geometry_compute(128 * 1408 + 1, 1408, 128, &g);
  assert_int_equal(g.total_data, 129);
  assert_int_equal(g.block_count, 2);
  assert_int_equal(bf_geometry_block_k(&g, 128, 0), 128);
  assert_int_equal(bf_geometry_block_k(&g, 128, 1), 1);
  assert_int_equal(bf_geometry_block_k(&g, 128, 2), 0);
  bf_geometry_compute(UINT32_MAX, 512, 1, &g); /* no overflow */
  assert_int_equal(g.total_data, 8388608);
  assert_int_equal(g.block_count, 8388608);
}

static void test_recovery_count(void **state) {
  (void)state;
  assert_int_equal(bf_fec_recovery_count(128, 0), 0);
  assert_int_equal(bf_fec_recovery_count(1, 10), 2);   /* floor of 2 */
  assert_int_equal(bf_fec_recovery_count(128, 10), 13);
  assert_int_equal(bf_fec_recovery_count(32, 25), 8);
  assert_int_equal(bf_fec_recovery_count(128, 20), 26);
  assert_int_equal(bf_fec_recovery_count(128, 90), 116);
  assert_int_equal(bf_fec_recovery_count(200, 90), 55); /* k + m <= 255 */
  assert_int_equal(bf_fec_recovery_count(255, 10), 0);
  assert_int_equal(bf_fec_recovery_count(100, 95), 90); /* pct capped at 90 */
}

static bf_reject check(const bf_header *h, size_t len) {
  bf_wire_limits lim;
  bf_wire_limits_default(&lim);
  return bf_header_validate(h, len, &lim);
}

static void test_validate_each_reason(void **state) {
  (void)state;
  bf_header h = valid_header();
  const size_t len = BF_HEADER_BYTES + 1408;
  assert_int_equal(check(&h, len), BF_ACCEPT);
  assert_int_equal(check(&h, BF_MAX_DATAGRAM + 1), BF_REJECT_OVERSIZE);
  assert_int_equal(check(&h, 39), BF_REJECT_SHORT);
  h = valid_header(); h.magic = 0xC8;
  assert_int_equal(check(&h, len), BF_REJECT_MAGIC);
  h = valid_header(); h.version = 2;
  assert_int_equal(check(&h, len), BF_REJECT_VERSION);
  h = valid_header(); h.fec_scheme = 1;
  assert_int_equal(check(&h, len), BF_REJECT_FEC_SCHEME);
  h = valid_header();
  assert_int_equal(check(&h, len - 1), BF_REJECT_LENGTH);
  h = valid_header(); h.shard_bytes = 1407; h.frame_bytes = 100; h.data_shards = 1;
  assert_int_equal(check(&h, BF_HEADER_BYTES + 1407), BF_REJECT_SHARD_BYTES);
  h = valid_header(); h.shard_bytes = 510; h.frame_bytes = 100; h.data_shards = 1;
  assert_int_equal(check(&h, BF_HEADER_BYTES + 510), BF_REJECT_SHARD_BYTES);
  h = valid_header(); h.shard_bytes = BF_MAX_SHARD + 2; h.frame_bytes = 100; h.data_shards = 1;
  assert_int_equal(check(&h, BF_HEADER_BYTES + BF_MAX_SHARD + 2), BF_REJECT_SHARD_BYTES);
  h = valid_header(); h.data_shards = 0;
  assert_int_equal(check(&h, len), BF_REJECT_DATA_SHARDS);
  h = valid_header(); h.data_shards = 129;
  assert_int_equal(check(&h, len), BF_REJECT_DATA_SHARDS);
  h = valid_header(); h.recovery_shards = 253;
  assert_int_equal(check(&h, len), BF_REJECT_BLOCK_SHARDS);
  h = valid_header(); h.shard_index = 5;
  assert_int_equal(check(&h, len), BF_REJECT_SHARD_INDEX);
  h = valid_header(); h.shard_index = 4; /* last parity: fine */
  assert_int_equal(check(&h, len), BF_ACCEPT);
  h = valid_header(); h.frame_bytes = (8u << 20) + 1;
  assert_int_equal(check(&h, len), BF_REJECT_FRAME_BYTES);
  h = valid_header(); h.block_count = 0;
  assert_int_equal(check(&h, len), BF_REJECT_BLOCK_COUNT);
  h = valid_header(); h.block_count = 2;
  assert_int_equal(check(&h, len), BF_REJECT_BLOCK_COUNT);
  h = valid_header(); h.data_shards = 2;
  assert_int_equal(check(&h, len), BF_REJECT_BLOCK_K);
  /* two blocks: 129 shards -> block 1 has k = 1, block 2 does not exist */
  h = valid_header(); h.frame_bytes = 129 * 1408; h.block_count = 2;
  h.data_shards = 128;
  assert_int_equal(check(&h, len), BF_ACCEPT);
  h.block_index = 1;
  assert_int_equal(check(&h, len), BF_REJECT_BLOCK_K);
  h.data_shards = 1;
  assert_int_equal(check(&h, len), BF_ACCEPT);
  h.block_index = 2;
  assert_int_equal(check(&h, len), BF_REJECT_BLOCK_INDEX);
  /* empty AU: one zero shard */
  h = valid_header(); h.frame_bytes = 0; h.data_shards = 1;
  assert_int_equal(check(&h, len), BF_ACCEPT);
}

static void test_parse_and_names(void **state) {
  (void)state;
  uint8_t d[BF_HEADER_BYTES + 1408] = {0};
  bf_header h = valid_header(), out;
  bf_header_encode(&h, d);
  bf_wire_limits lim;
  bf_wire_limits_default(&lim);
  assert_int_equal(bf_datagram_parse(d, sizeof d, &lim, &out), BF_ACCEPT);
  assert_memory_equal(&h, &out, sizeof h);
  assert_int_equal(bf_datagram_parse(d, 12, &lim, &out), BF_REJECT_SHORT);
  for (int r = 0; r < BF_REJECT_COUNT_; r++) {
    const char *n = bf_reject_name((bf_reject)r);
    assert_non_null(n);
    assert_string_not_equal(n, "unknown");
    for (int q = 0; q < r; q++) assert_string_not_equal(n, bf_reject_name((bf_reject)q));
  }
  assert_string_equal(bf_reject_name(BF_REJECT_COUNT_), "unknown");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_roundtrip_extremes),
      cmocka_unit_test(test_field_positions),
      cmocka_unit_test(test_geometry),
      cmocka_unit_test(test_recovery_count),
      cmocka_unit_test(test_validate_each_reason),
      cmocka_unit_test(test_parse_and_names),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
