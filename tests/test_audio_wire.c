/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The audio datagram codec and its Reed-Solomon blocks (audio_wire.h): the
 * byte layout, every malformed form rejected, the 552-byte bound sealed,
 * and frames rebuilt bit-exactly from any k of a block's k + m datagrams,
 * in any order, with duplicates and stale blocks counted.
 */
#include "testutil.h"

#include <bildfunk/audio_wire.h>
#include <bildfunk/channel.h>
#include <bildfunk/seal.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const bf_audio_params P5 = {2, 2, 128};

static void test_layout(void **state) {
  (void)state;
  bf_audio_tx *tx;
  assert_int_equal(bf_audio_tx_new(&P5, 2, 1, &tx), 0);
  uint8_t opus[80];
  for (int i = 0; i < 80; i++)
    opus[i] = (uint8_t)(i + 1);
  bf_audio_out out[1 + BF_AUDIO_FEC_MAX_M];
  assert_int_equal(bf_audio_tx_frame(tx, 0x1122334455667788ull, opus, 80, out), 1);
  const uint8_t *d = out[0].d;
  assert_int_equal(out[0].len, 16 + 10 + 80);
  assert_int_equal(d[0], 0xA0);
  assert_int_equal(d[1], BF_AUDIO_DATA);
  assert_int_equal(d[2], 2);
  assert_int_equal(d[3], 2);
  assert_int_equal(d[4] | d[5] << 8, 128);
  assert_int_equal(d[6], 2);
  assert_int_equal(d[7], 1);
  assert_int_equal(d[8] | d[9] << 8 | d[10] << 16 | d[11] << 24, 0);
  assert_int_equal(d[12], 0);
  assert_int_equal(d[14] | d[15] << 8, 90);
  assert_int_equal(d[16], 0x88);
  assert_int_equal(d[23], 0x11);
  assert_int_equal(d[24] | d[25] << 8, 80);
  assert_memory_equal(d + 26, opus, 80);
  assert_int_equal(bf_dgram_classify(d, out[0].len), BF_DKIND_AUDIO);
  bf_audio_pkt pk;
  assert_int_equal(bf_audio_decode(d, out[0].len, &pk), 0);
  assert_int_equal(pk.capture_ns, 0x1122334455667788ull);
  assert_int_equal(pk.opus_len, 80);
  /* the second frame completes the block: its parity follows */
  assert_int_equal(bf_audio_tx_frame(tx, 7, opus, 40, out), 2);
  assert_int_equal(out[1].d[1], BF_AUDIO_PARITY);
  assert_int_equal(out[1].len, 16 + 90); /* the longest shard of the block */
  assert_int_equal(bf_audio_decode(out[1].d, out[1].len, &pk), 0);
  assert_int_equal(pk.seq, 0);
  assert_int_equal(bf_audio_tx_seq(tx), 2);
  /* the largest frame stays below 552 bytes sealed */
  uint8_t big[BF_AUDIO_MAX_OPUS] = {0};
  assert_int_equal(bf_audio_tx_frame(tx, 1, big, sizeof big, out), 1);
  assert_true(out[0].len + BF_SEAL_OVERHEAD < BF_CHANNEL_VIDEO_MIN);
  assert_int_equal(bf_audio_tx_frame(tx, 1, big, sizeof big + 1, out), -EMSGSIZE);
  assert_int_equal(bf_audio_tx_frame(tx, 1, big, 0, out), -EMSGSIZE);
  bf_audio_tx_del(&tx);
  assert_null(tx);
  assert_int_equal(bf_audio_tx_new(&P5, 2, 0, &tx), -EINVAL); /* m = 0 needs k = 1 */
  assert_int_equal(bf_audio_tx_new(&P5, 9, 1, &tx), -EINVAL);
  bf_audio_params bad = {0, 2, 1};
  assert_int_equal(bf_audio_tx_new(&bad, 1, 0, &tx), -EINVAL);
  uint8_t rq[8];
  assert_int_equal(bf_audio_encode_request(rq, sizeof rq), 4);
  assert_int_equal(bf_audio_decode(rq, 4, &pk), 0);
  assert_int_equal(pk.type, BF_AUDIO_REQUEST);
  assert_int_equal(bf_audio_encode_request(rq, 3), -EINVAL);
}

static void test_malformed(void **state) {
  (void)state;
  bf_audio_tx *tx;
  assert_int_equal(bf_audio_tx_new(&P5, 2, 1, &tx), 0);
  uint8_t opus[20] = {1};
  bf_audio_out out[2];
  assert_int_equal(bf_audio_tx_frame(tx, 5, opus, sizeof opus, out), 1);
  uint8_t d[64];
  size_t n = out[0].len;
  bf_audio_pkt pk;
  /* each field out of range, one at a time */
  struct {
    size_t off;
    uint8_t v;
  } bad[] = {{0, 0xA1}, {1, 0}, {1, 9}, {2, 0}, {2, 9}, {3, 0}, {3, 3}, {6, 0},
             {6, 9},    {7, 5}, {12, 2}, {13, 1}, {14, 91}, {24, 21}};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    memcpy(d, out[0].d, n);
    d[bad[i].off] = bad[i].v;
    assert_int_equal(bf_audio_decode(d, n, &pk), -EBADMSG);
  }
  memcpy(d, out[0].d, n);
  for (size_t len = 0; len < n; len++)
    assert_int_equal(bf_audio_decode(d, len, &pk), -EBADMSG);
  d[n] = 0; /* a trailing byte */
  assert_int_equal(bf_audio_decode(d, n + 1, &pk), -EBADMSG);
  uint8_t rq[3] = {0xA0, BF_AUDIO_REQUEST, 1};
  assert_int_equal(bf_audio_decode(rq, 3, &pk), -EBADMSG);
  bf_audio_rx *rx;
  assert_int_equal(bf_audio_rx_new(&rx), 0);
  bf_audio_frame fr[1 + BF_AUDIO_FEC_MAX_M];
  memcpy(d, out[0].d, n);
  d[3] = 7;
  assert_int_equal(bf_audio_rx_push(rx, d, n, fr, NULL), -EBADMSG);
  bf_audio_rx_stats st;
  bf_audio_rx_stats_get(rx, &st);
  assert_int_equal(st.malformed, 1);
  bf_audio_rx_del(&rx);
  bf_audio_tx_del(&tx);
}

/* Frames 0..n-1 of |k| + |m| blocks; every pattern of up to m losses per
 * block rebuilds every frame bit-exactly. */
static void run_losses(unsigned k, unsigned m) {
  enum { BLOCKS = 3 };
  bf_audio_tx *tx;
  assert_int_equal(bf_audio_tx_new(&P5, k, m, &tx), 0);
  static uint8_t dg[BLOCKS * 12][BF_AUDIO_MAX_PLAIN];
  size_t dlen[BLOCKS * 12];
  size_t nd = 0;
  uint8_t opus[BLOCKS * 8][200];
  size_t olen[BLOCKS * 8];
  for (unsigned f = 0; f < BLOCKS * k; f++) {
    olen[f] = 20 + (f * 37) % 150;
    for (size_t i = 0; i < olen[f]; i++)
      opus[f][i] = (uint8_t)(f * 13 + i * 7);
    bf_audio_out out[1 + BF_AUDIO_FEC_MAX_M];
    int r = bf_audio_tx_frame(tx, 1000 + f, opus[f], olen[f], out);
    assert_true(r >= 1);
    for (int i = 0; i < r; i++) {
      memcpy(dg[nd], out[i].d, out[i].len);
      dlen[nd++] = out[i].len;
    }
  }
  assert_int_equal(nd, BLOCKS * (k + m));
  unsigned n = k + m;
  for (unsigned mask = 0; mask < (1u << n); mask++) {
    if ((unsigned)__builtin_popcount(mask) > m) continue;
    bf_audio_rx *rx;
    assert_int_equal(bf_audio_rx_new(&rx), 0);
    int got[BLOCKS * 8] = {0};
    for (size_t i = 0; i < nd; i++) {
      if (mask >> (i % n) & 1u) continue; /* the same pattern in every block */
      bf_audio_frame fr[1 + BF_AUDIO_FEC_MAX_M];
      bf_audio_params p;
      int r = bf_audio_rx_push(rx, dg[i], dlen[i], fr, &p);
      assert_true(r >= 0);
      for (int j = 0; j < r; j++) {
        uint32_t s = fr[j].seq;
        assert_true(s < BLOCKS * k);
        assert_int_equal(fr[j].capture_ns, 1000 + s);
        assert_int_equal(fr[j].opus_len, olen[s]);
        assert_memory_equal(fr[j].opus, opus[s], olen[s]);
        got[s]++;
      }
    }
    for (unsigned f = 0; f < BLOCKS * k; f++)
      assert_int_equal(got[f], 1);
    bf_audio_rx_stats st;
    bf_audio_rx_stats_get(rx, &st);
    unsigned lost_data = 0;
    for (unsigned i = 0; i < k; i++)
      lost_data += mask >> i & 1u;
    assert_int_equal(st.recovered, BLOCKS * lost_data);
    bf_audio_rx_del(&rx);
  }
  bf_audio_tx_del(&tx);
}

static void test_recover(void **state) {
  (void)state;
  run_losses(1, 1);
  run_losses(2, 1);
  run_losses(3, 2);
  run_losses(4, 2);
  run_losses(8, 4);
}

/* Parity first, duplicates, a shape that contradicts its block, a block
 * older than every one kept. */
static void test_order_and_stale(void **state) {
  (void)state;
  bf_audio_tx *tx;
  assert_int_equal(bf_audio_tx_new(&P5, 2, 1, &tx), 0);
  static uint8_t dg[3 * 40][BF_AUDIO_MAX_PLAIN];
  size_t dlen[3 * 40], nd = 0;
  uint8_t opus[60];
  for (unsigned f = 0; f < 80; f++) {
    memset(opus, (int)f, sizeof opus);
    bf_audio_out out[2];
    int r = bf_audio_tx_frame(tx, f, opus, sizeof opus, out);
    for (int i = 0; i < r; i++) {
      memcpy(dg[nd], out[i].d, out[i].len);
      dlen[nd++] = out[i].len;
    }
  }
  bf_audio_rx *rx;
  assert_int_equal(bf_audio_rx_new(&rx), 0);
  bf_audio_frame fr[1 + BF_AUDIO_FEC_MAX_M];
  /* block 0 backwards: parity, frame 1, then frame 0 is rebuilt */
  assert_int_equal(bf_audio_rx_push(rx, dg[2], dlen[2], fr, NULL), 0);
  assert_int_equal(bf_audio_rx_push(rx, dg[1], dlen[1], fr, NULL), 2);
  assert_int_equal(fr[0].seq, 1);
  assert_int_equal(fr[1].seq, 0);
  assert_true(fr[1].recovered);
  /* the original of the rebuilt frame, and a parity again: duplicates */
  assert_int_equal(bf_audio_rx_push(rx, dg[0], dlen[0], fr, NULL), 0);
  assert_int_equal(bf_audio_rx_push(rx, dg[2], dlen[2], fr, NULL), 0);
  bf_audio_rx_stats st;
  bf_audio_rx_stats_get(rx, &st);
  assert_int_equal(st.duplicates, 2);
  /* block 1's frame 2 claiming k = 3: contradicts its block */
  assert_int_equal(bf_audio_rx_push(rx, dg[3], dlen[3], fr, NULL), 1);
  uint8_t d[BF_AUDIO_MAX_PLAIN];
  memcpy(d, dg[4], dlen[4]);
  d[6] = 3;
  d[12] = 0;
  d[8] = 3; /* seq 3 at place 0: a new block at 3 with k = 3 */
  assert_int_equal(bf_audio_rx_push(rx, d, dlen[4], fr, NULL), 1);
  memcpy(d, dg[3], dlen[3]);
  d[6] = 3; /* seq 2 place 0 k 3: the block at 2 has k = 2 */
  assert_int_equal(bf_audio_rx_push(rx, d, dlen[3], fr, NULL), -EBADMSG);
  /* 16 newer blocks push block 0 out; its datagrams are then too old to
   * keep but still handed on (the jitter buffer decides) */
  for (size_t i = 30; i < nd; i++)
    (void)bf_audio_rx_push(rx, dg[i], dlen[i], fr, NULL);
  assert_int_equal(bf_audio_rx_push(rx, dg[1], dlen[1], fr, NULL), 1);
  assert_int_equal(bf_audio_rx_push(rx, dg[2], dlen[2], fr, NULL), 0);
  bf_audio_rx_stats_get(rx, &st);
  assert_true(st.blocks_evicted >= 1);
  bf_audio_rx_reset(rx);
  assert_int_equal(bf_audio_rx_push(rx, dg[0], dlen[0], fr, NULL), 1);
  bf_audio_rx_del(&rx);
  bf_audio_tx_del(&tx);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_layout),
      cmocka_unit_test(test_malformed),
      cmocka_unit_test(test_recover),
      cmocka_unit_test(test_order_and_stale),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
