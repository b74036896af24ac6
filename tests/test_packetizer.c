/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Packetizer: every emitted datagram parses and validates as wire v1 under the
 * session's limits, carries the right fields in data-first order, points into
 * the caller's AU (zero copy) except the zero-padded tail, and its parity
 * rebuilds dropped data shards. Also: config checks, size boundaries, FEC
 * percentage changes, index wrap, abandoned AUs, batch sizes.
 */
#include "testutil.h"

#include <bildfunk/fec.h>
#include <bildfunk/packetizer.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Expected m, computed here from spec §2 rather than by the library. */
static uint32_t want_m(uint32_t k, uint32_t pct) {
  if (pct == 0) return 0;
  uint32_t m = (k * pct + 99) / 100;
  if (m < 2) m = 2;
  if (k + m > 255) m = 255 - k;
  return m;
}

static void make_cfg(bf_packetizer_config *cfg, uint16_t s, uint16_t k, uint32_t pct,
                     uint32_t max_frame) {
  bf_packetizer_config_default(cfg);
  cfg->shard_bytes = s;
  cfg->max_k = k;
  cfg->fec_percent = pct;
  cfg->max_frame_bytes = max_frame;
}

static bf_packetizer *must_new(const bf_packetizer_config *cfg) {
  bf_packetizer *p = NULL;
  assert_int_equal(bf_packetizer_new(cfg, &p), 0);
  assert_non_null(p);
  return p;
}

/* Emits every remaining packet of the current AU, |step| per call. */
static size_t drain(bf_packetizer *p, bf_dgram *out, size_t cap, size_t step) {
  size_t n = 0;
  for (;;) {
    size_t want = step < cap - n ? step : cap - n;
    int rc = bf_packetizer_next(p, out + n, want);
    assert_true(rc >= 0);
    if (rc == 0) break;
    assert_true((size_t)rc <= want);
    n += (size_t)rc;
    assert_true(n < cap); /* the caller's array is one larger than needed */
  }
  return n;
}

static int inside(const uint8_t *ptr, const uint8_t *base, size_t len) {
  return base && ptr >= base && ptr < base + len;
}

/* What one AU should look like on the wire. */
typedef struct expect {
  uint16_t s, k_max;
  uint32_t max_frame;
  uint32_t pct;
  uint32_t frame_index;
  uint32_t first_seq;
  uint64_t pts;
  uint32_t user_flags; /* as passed to _begin() */
  const uint8_t *au;
  size_t len;
} expect;

/* Rebuilds up to m dropped data shards of each block from the emitted parity
 * and compares them with the AU bytes (zero-padded). */
static void check_parity(const expect *e, const bf_dgram *pk, uint32_t total_data,
                         uint32_t block_count, bf_test_rng *rng) {
  const size_t s = e->s;
  uint8_t *pool = malloc(BF_MAX_BLOCK_SHARDS * s);
  uint8_t *want = malloc(s);
  assert_non_null(pool);
  assert_non_null(want);
  bf_fec *fec = NULL;
  assert_int_equal(bf_fec_new(&fec), 0);
  uint32_t parity_pos = total_data;
  for (uint32_t b = 0; b < block_count; b++) {
    uint32_t k = b + 1 < block_count ? e->k_max : total_data - b * e->k_max;
    uint32_t m = want_m(k, e->pct);
    if (m == 0) continue;
    uint8_t *shards[BF_MAX_BLOCK_SHARDS];
    uint8_t present[BF_MAX_BLOCK_SHARDS];
    uint32_t order[BF_MAX_BLOCK_SHARDS];
    for (uint32_t i = 0; i < k + m; i++) {
      shards[i] = pool + i * s;
      present[i] = 1;
      const bf_dgram *d = i < k ? &pk[b * e->k_max + i] : &pk[parity_pos + i - k];
      memcpy(shards[i], d->body, s);
      order[i] = i;
    }
    parity_pos += m;
    /* Drop min(k, m) random data shards (the most the code can repair). */
    uint32_t lost = k < m ? k : m;
    for (uint32_t i = 0; i < lost; i++) {
      uint32_t r = i + bf_test_rng_below(rng, k - i);
      uint32_t t = order[i];
      order[i] = order[r];
      order[r] = t;
      present[order[i]] = 0;
      memset(shards[order[i]], 0xA5, s);
    }
    assert_int_equal(bf_fec_reconstruct(fec, k, m, s, shards, present), (int)lost);
    for (uint32_t i = 0; i < lost; i++) {
      size_t off = (size_t)(b * e->k_max + order[i]) * s;
      size_t n = off < e->len ? e->len - off : 0;
      if (n > s) n = s;
      memset(want, 0, s);
      if (n > 0) memcpy(want, e->au + off, n);
      assert_memory_equal(shards[order[i]], want, s);
    }
  }
  bf_fec_del(&fec);
  free(want);
  free(pool);
}

/* Checks packets |pk|[0..n) of one AU against |e|: count, order, every header
 * field, validation, bodies. Returns the number of packets. */
static uint32_t check_au(const expect *e, const bf_dgram *pk, size_t n, bf_test_rng *rng,
                         int parity) {
  const uint32_t s = e->s, K = e->k_max;
  uint32_t total_data = e->len == 0 ? 1 : (uint32_t)((e->len + s - 1) / s);
  uint32_t block_count = (total_data + K - 1) / K;
  uint32_t total = total_data;
  for (uint32_t b = 0; b < block_count; b++)
    total += want_m(b + 1 < block_count ? K : total_data - b * K, e->pct);
  assert_int_equal(n, total);

  bf_wire_limits lim = {.min_shard = BF_MIN_SHARD,
                        .max_shard = BF_MAX_SHARD,
                        .max_k = e->k_max,
                        .max_frame_bytes = e->max_frame};
  static uint8_t dg[BF_HEADER_BYTES + BF_MAX_SHARD];
  uint32_t pos = 0;
  for (int pass = 0; pass < 2; pass++) { /* 0: data shards, 1: parity */
    for (uint32_t b = 0; b < block_count; b++) {
      uint32_t k = b + 1 < block_count ? K : total_data - b * K;
      uint32_t m = want_m(k, e->pct);
      uint32_t first = pass == 0 ? 0 : k, end = pass == 0 ? k : k + m;
      for (uint32_t idx = first; idx < end; idx++, pos++) {
        const bf_dgram *d = &pk[pos];
        assert_int_equal(d->head_len, BF_HEADER_BYTES);
        assert_int_equal(d->body_len, s);
        memcpy(dg, d->head, BF_HEADER_BYTES);
        memcpy(dg + BF_HEADER_BYTES, d->body, s);
        bf_header h;
        assert_int_equal(bf_datagram_parse(dg, BF_HEADER_BYTES + s, &lim, &h), BF_ACCEPT);
        assert_true(h.pts_ns == e->pts);
        assert_int_equal(h.frame_index, e->frame_index);
        assert_int_equal(h.stream_seq, (uint32_t)(e->first_seq + pos));
        assert_int_equal(h.frame_bytes, e->len);
        assert_int_equal(h.user_flags, e->user_flags & BF_AU_KNOWN_FLAGS);
        assert_int_equal(h.block_index, b);
        assert_int_equal(h.block_count, block_count);
        assert_int_equal(h.data_shards, k);
        assert_int_equal(h.recovery_shards, m);
        assert_int_equal(h.shard_index, idx);
        assert_int_equal(h.shard_bytes, s);
        assert_int_equal(h.magic, BF_MAGIC);
        assert_int_equal(h.version, BF_WIRE_VERSION);
        assert_int_equal(h.fec_scheme, BF_FEC_SCHEME_CAUCHY8);
        if (pass == 1) {
          assert_int_equal(h.flags, 0);
          assert_false(inside(d->body, e->au, e->len));
          continue;
        }
        uint32_t dpos = b * K + idx;
        uint8_t flags = BF_PKT_PIC;
        if (dpos == 0) flags |= BF_PKT_SOF;
        if (dpos + 1 == total_data) flags |= BF_PKT_EOF;
        assert_int_equal(h.flags, flags);
        size_t off = (size_t)dpos * s;
        if (off + s <= e->len) {
          assert_ptr_equal(d->body, e->au + off); /* zero copy */
        } else {
          /* The tail: a copy, zero-padded. */
          assert_false(inside(d->body, e->au, e->len));
          size_t n_au = e->len - off;
          if (n_au > 0) assert_memory_equal(d->body, e->au + off, n_au);
          for (size_t i = n_au; i < s; i++)
            assert_int_equal(d->body[i], 0);
        }
      }
    }
  }
  if (parity) check_parity(e, pk, total_data, block_count, rng);
  return total;
}

/* Begins |len| random bytes (or |au| when given) on |p| and checks the whole
 * AU. Updates |e|->frame_index and first_seq for the next AU. */
static void run_au(bf_packetizer *p, expect *e, size_t len, size_t step, bf_test_rng *rng,
                   int parity) {
  uint8_t *au = len > 0 ? malloc(len) : NULL;
  if (len > 0) {
    assert_non_null(au);
    bf_test_rng_fill(rng, au, len);
  }
  e->au = au;
  e->len = len;
  e->pts = bf_test_rng_next(rng);
  e->user_flags = (uint32_t)bf_test_rng_next(rng);
  assert_int_equal(bf_packetizer_begin(p, au, len, e->pts, e->user_flags), 0);
  bf_packetizer_au_info info;
  bf_packetizer_au_info_get(p, &info);
  assert_int_equal(info.frame_index, e->frame_index);
  assert_int_equal(info.remaining, info.data_packets + info.parity_packets);
  size_t cap = info.remaining + 1u;
  bf_dgram *pk = calloc(cap, sizeof *pk);
  assert_non_null(pk);
  size_t n = drain(p, pk, cap, step);
  uint32_t total = check_au(e, pk, n, rng, parity);
  assert_int_equal(info.data_packets + info.parity_packets, total);
  bf_packetizer_au_info_get(p, &info);
  assert_int_equal(info.remaining, 0);
  assert_int_equal(bf_packetizer_next(p, pk, cap), 0); /* done stays done */
  e->frame_index++;
  e->first_seq += total;
  free(pk);
  free(au);
  e->au = NULL;
}

static void expect_init(expect *e, const bf_packetizer_config *cfg) {
  memset(e, 0, sizeof *e);
  e->s = cfg->shard_bytes;
  e->k_max = cfg->max_k;
  e->max_frame = cfg->max_frame_bytes;
  e->pct = cfg->fec_percent;
  e->frame_index = cfg->first_frame_index;
  e->first_seq = cfg->first_stream_seq;
}

static void test_config(void **state) {
  (void)state;
  bf_packetizer_config cfg;
  bf_packetizer *p = (bf_packetizer *)&cfg; /* must be cleared on failure */
  bf_packetizer_config_default(&cfg);
  assert_int_equal(cfg.shard_bytes, 1408);
  assert_int_equal(cfg.max_k, 128);
  assert_int_equal(cfg.fec_percent, 10);
  assert_int_equal(cfg.max_frame_bytes, 8u << 20);
  assert_int_equal(bf_packetizer_new(&cfg, &p), 0);
  bf_packetizer_del(&p);
  assert_null(p);
  bf_packetizer_del(&p); /* NULL is fine */

  struct {
    uint16_t s, k;
    uint32_t pct, max_frame;
    int rc;
  } cases[] = {
      {512, 128, 10, 1000, 0},
      {BF_MAX_SHARD, 253, 90, 1000, 0},
      {512, 1, 0, 1, 0},
      {511, 128, 10, 1000, -EINVAL},
      {510, 128, 10, 1000, -EINVAL},
      {1407, 128, 10, 1000, -EINVAL},
      {BF_MAX_SHARD + 2, 128, 10, 1000, -EINVAL},
      {1408, 0, 10, 1000, -EINVAL},
      {1408, 254, 10, 1000, -EINVAL},
      {1408, 128, 91, 1000, -EINVAL},
      {1408, 128, 10, 0, -EINVAL},
      /* block_count must fit its u16 field */
      {512, 1, 10, 65535u * 512, 0},
      {512, 1, 10, 65535u * 512 + 1, -EINVAL},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    make_cfg(&cfg, cases[i].s, cases[i].k, cases[i].pct, cases[i].max_frame);
    p = (bf_packetizer *)&cfg;
    assert_int_equal(bf_packetizer_new(&cfg, &p), cases[i].rc);
    if (cases[i].rc == 0) {
      assert_non_null(p);
    } else {
      assert_null(p);
    }
    bf_packetizer_del(&p);
  }

  make_cfg(&cfg, 1408, 128, 10, 1000);
  p = must_new(&cfg);
  assert_int_equal(bf_packetizer_set_fec_percent(p, 91), -EINVAL);
  assert_int_equal(bf_packetizer_set_fec_percent(p, 90), 0);
  assert_int_equal(bf_packetizer_set_fec_percent(p, 0), 0);
  /* Nothing begun yet: no packets, and the first AU's index. */
  bf_packetizer_au_info info;
  bf_packetizer_au_info_get(p, &info);
  assert_int_equal(info.frame_index, cfg.first_frame_index);
  assert_int_equal(info.data_packets + info.parity_packets + info.remaining, 0);
  bf_dgram d;
  assert_int_equal(bf_packetizer_next(p, &d, 1), 0);
  assert_int_equal(bf_packetizer_begin(p, NULL, 1, 0, 0), -EINVAL);
  bf_packetizer_del(&p);
}

/* AU sizes around multiples of S and K * S, at 0, 10 and 90 %. */
static void test_size_boundaries(void **state) {
  (void)state;
  bf_test_rng rng;
  bf_test_rng_seed(&rng, 0x7061636bu);
  const uint16_t s = 512, K = 4;
  const uint32_t max_frame = 3 * K * s + 5;
  const size_t lens[] = {
      0,     1,          s - 1u,          s,          s + 1u,          2u * s,         K * s - 1u,
      K * s, K * s + 1u, 2u * K * s - 1u, 2u * K * s, 2u * K * s + 1u, max_frame - 1u, max_frame};
  const uint32_t pcts[] = {0, 10, 90};
  for (size_t pi = 0; pi < 3; pi++) {
    bf_packetizer_config cfg;
    make_cfg(&cfg, s, K, pcts[pi], max_frame);
    bf_packetizer *p = must_new(&cfg);
    expect e;
    expect_init(&e, &cfg);
    for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++)
      run_au(p, &e, lens[li], 1000, &rng, 1);
    bf_packetizer_del(&p);
  }
}

/* One past max_frame_bytes is refused and changes nothing: the current AU
 * goes on, and the next good AU gets the next index. */
static void test_max_frame_boundary(void **state) {
  (void)state;
  bf_test_rng rng;
  bf_test_rng_seed(&rng, 0x6d6178u);
  bf_packetizer_config cfg;
  make_cfg(&cfg, 600, 8, 25, 10000);
  bf_packetizer *p = must_new(&cfg);
  expect e;
  expect_init(&e, &cfg);
  uint8_t *au = malloc(10001);
  assert_non_null(au);
  bf_test_rng_fill(&rng, au, 10001);
  assert_int_equal(bf_packetizer_begin(p, au, 10000, 5, 0), 0);
  bf_dgram d[4];
  assert_int_equal(bf_packetizer_next(p, d, 2), 2);
  assert_int_equal(bf_packetizer_begin(p, au, 10001, 6, 0), -EMSGSIZE);
  assert_int_equal(bf_packetizer_begin(p, au, SIZE_MAX, 6, 0), -EMSGSIZE);
  bf_packetizer_au_info info;
  bf_packetizer_au_info_get(p, &info);
  assert_int_equal(info.frame_index, cfg.first_frame_index);
  assert_int_equal(info.remaining, info.data_packets + info.parity_packets - 2);
  assert_int_equal(bf_packetizer_next(p, d, 1), 1);
  bf_header h;
  bf_header_decode(d[0].head, &h);
  assert_int_equal(h.stream_seq, 2);
  assert_int_equal(h.frame_bytes, 10000);
  assert_ptr_equal(d[0].body, au + 2 * 600);
  free(au);
  /* The exact maximum works, with full checks, after the abandoned AU. */
  e.frame_index = cfg.first_frame_index + 1;
  e.first_seq = 3;
  run_au(p, &e, 10000, 5, &rng, 1);
  bf_packetizer_del(&p);
}

/* A keyframe-sized AU at the default geometry: several blocks, a partial
 * last block, parity in wire order, rebuilt from parity. */
static void test_default_multiblock(void **state) {
  (void)state;
  bf_test_rng rng;
  bf_test_rng_seed(&rng, 0x6b6579u);
  bf_packetizer_config cfg;
  bf_packetizer_config_default(&cfg);
  cfg.fec_percent = 20;
  bf_packetizer *p = must_new(&cfg);
  expect e;
  expect_init(&e, &cfg);
  run_au(p, &e, 3u * 128 * 1408 + 50 * 1408 + 77, 64, &rng, 1);
  run_au(p, &e, 25000, 64, &rng, 1);
  bf_packetizer_del(&p);
}

/* At 90 % with K > 134, m shrinks as k grows (k + m <= 255), so a smaller AU
 * needs more parity than the largest one. Every size must fit the storage
 * sized in _new (the ASan build checks the bounds). */
static void test_pct90_all_sizes(void **state) {
  (void)state;
  bf_test_rng rng;
  bf_test_rng_seed(&rng, 0x393025u);
  const uint16_t s = 512, K = 200;
  bf_packetizer_config cfg;
  make_cfg(&cfg, s, K, 90, (2u * K + 30u) * s);
  bf_packetizer *p = must_new(&cfg);
  expect e;
  expect_init(&e, &cfg);
  uint32_t max_shards = 2u * K + 30u;
  for (uint32_t t = 1; t <= max_shards; t++) {
    /* Full checks (with FEC rebuild) on a few shapes, headers on all. */
    int rebuild = t == 1 || t == 134 || t == 135 || t == K || t == K + 134 || t == max_shards;
    run_au(p, &e, (size_t)t * s - (t % 3), 256, &rng, rebuild);
  }
  bf_packetizer_del(&p);
}

static void test_empty_au(void **state) {
  (void)state;
  bf_test_rng rng;
  bf_test_rng_seed(&rng, 0x656d70u);
  bf_packetizer_config cfg;
  make_cfg(&cfg, 1024, 16, 50, 4096);
  bf_packetizer *p = must_new(&cfg);
  expect e;
  expect_init(&e, &cfg);
  run_au(p, &e, 0, 8, &rng, 1); /* one zero data shard + 2 parity */
  /* Directly: NULL AU, one zero shard with SOF | EOF | PIC, zero parity. */
  static const uint8_t some[3] = {1, 2, 3};
  assert_int_equal(bf_packetizer_begin(p, some, 3, 1, 0), 0);
  assert_int_equal(bf_packetizer_begin(p, NULL, 0, 9, BF_AU_KEYFRAME), 0);
  bf_dgram d[4];
  assert_int_equal(bf_packetizer_next(p, d, 4), 3);
  bf_header h;
  bf_header_decode(d[0].head, &h);
  assert_int_equal(h.flags, BF_PKT_PIC | BF_PKT_SOF | BF_PKT_EOF);
  assert_int_equal(h.frame_bytes, 0);
  assert_int_equal(h.frame_index, 2);
  assert_int_equal(h.user_flags, BF_AU_KEYFRAME);
  for (int i = 0; i < 3; i++)
    for (size_t j = 0; j < 1024; j++)
      assert_int_equal(d[i].body[j], 0);
  bf_packetizer_del(&p);
}

/* A new percentage applies from the next AU; the current one keeps its m. */
static void test_set_fec_percent(void **state) {
  (void)state;
  bf_test_rng rng;
  bf_test_rng_seed(&rng, 0x706374u);
  bf_packetizer_config cfg;
  make_cfg(&cfg, 512, 32, 10, 40 * 512);
  bf_packetizer *p = must_new(&cfg);
  uint8_t *au = malloc(40 * 512);
  assert_non_null(au);
  bf_test_rng_fill(&rng, au, 40 * 512);
  assert_int_equal(bf_packetizer_begin(p, au, 40 * 512, 1, 0), 0);
  bf_dgram d[64];
  assert_int_equal(bf_packetizer_next(p, d, 3), 3);
  assert_int_equal(bf_packetizer_set_fec_percent(p, 90), 0);
  bf_packetizer_au_info info;
  bf_packetizer_au_info_get(p, &info);
  assert_int_equal(info.data_packets, 40);
  assert_int_equal(info.parity_packets, 4 + 2); /* 32 -> 4, 8 -> 2 */
  assert_int_equal(bf_packetizer_next(p, d + 3, 61), 43);
  bf_header h;
  bf_header_decode(d[45].head, &h);
  assert_int_equal(h.recovery_shards, 2);
  assert_int_equal(h.shard_index, 9);
  free(au);

  /* Following AUs use 90 %, then 0 %, then 90 % again with full checks. */
  expect e;
  expect_init(&e, &cfg);
  e.frame_index = 1;
  e.first_seq = 46;
  e.pct = 90;
  run_au(p, &e, 40 * 512, 7, &rng, 1);
  assert_int_equal(bf_packetizer_set_fec_percent(p, 0), 0);
  e.pct = 0;
  run_au(p, &e, 40 * 512 - 1, 7, &rng, 1);
  assert_int_equal(bf_packetizer_set_fec_percent(p, 90), 0);
  e.pct = 90;
  run_au(p, &e, 33 * 512, 7, &rng, 1);
  bf_packetizer_del(&p);
}

static void test_index_wrap(void **state) {
  (void)state;
  bf_test_rng rng;
  bf_test_rng_seed(&rng, 0x777261u);
  bf_packetizer_config cfg;
  make_cfg(&cfg, 512, 8, 50, 8 * 512);
  cfg.first_frame_index = UINT32_MAX - 1;
  cfg.first_stream_seq = UINT32_MAX - 5;
  bf_packetizer *p = must_new(&cfg);
  expect e;
  expect_init(&e, &cfg);
  for (int i = 0; i < 4; i++)
    run_au(p, &e, 5 * 512 + 3, 3, &rng, 0);
  assert_int_equal(e.frame_index, 2); /* UINT32_MAX - 1, MAX, 0, 1 were used */
  assert_int_equal(e.first_seq, (uint32_t)(UINT32_MAX - 5 + 4 * (6 + 3)));
  bf_packetizer_del(&p);
}

/* Begin before the previous AU finished: its remaining packets are gone, the
 * frame index advances by one per begin, stream_seq counts emitted packets
 * only, and the old header pointers stay valid until that begin. */
static void test_abandon(void **state) {
  (void)state;
  bf_test_rng rng;
  bf_test_rng_seed(&rng, 0x616261u);
  bf_packetizer_config cfg;
  make_cfg(&cfg, 512, 4, 50, 16 * 512);
  cfg.first_frame_index = 100;
  cfg.first_stream_seq = 1000;
  bf_packetizer *p = must_new(&cfg);
  uint8_t *au = malloc(16 * 512);
  assert_non_null(au);
  bf_test_rng_fill(&rng, au, 16 * 512);
  bf_dgram d[32];

  /* AU 100: 10 shards (3 blocks), 5 sent, abandoned before parity. */
  assert_int_equal(bf_packetizer_begin(p, au, 10 * 512, 1, 0), 0);
  assert_int_equal(bf_packetizer_next(p, d, 5), 5);
  bf_header h;
  bf_header_decode(d[4].head, &h);
  assert_int_equal(h.stream_seq, 1004);
  /* AU 101: abandoned inside the parity section. */
  assert_int_equal(bf_packetizer_begin(p, au, 6 * 512, 2, 0), 0);
  bf_packetizer_au_info info;
  bf_packetizer_au_info_get(p, &info);
  assert_int_equal(info.frame_index, 101);
  assert_int_equal(info.remaining, 6 + 2 + 2);
  assert_int_equal(bf_packetizer_next(p, d, 7), 7);
  bf_header_decode(d[6].head, &h);
  assert_int_equal(h.frame_index, 101);
  assert_int_equal(h.stream_seq, 1011);
  assert_int_equal(h.flags, 0); /* a parity shard */
  /* AU 102, never emitted; then AU 103 runs to the end with full checks. */
  assert_int_equal(bf_packetizer_begin(p, au, 512, 3, 0), 0);
  free(au);
  expect e;
  expect_init(&e, &cfg);
  e.frame_index = 103;
  e.first_seq = 1012;
  run_au(p, &e, 7 * 512 + 1, 2, &rng, 1);
  bf_packetizer_del(&p);
}

/* Emitting 1, 5 or all packets per call gives the same datagrams. */
static void test_batch_sizes_agree(void **state) {
  (void)state;
  bf_test_rng rng;
  bf_test_rng_seed(&rng, 0x626174u);
  bf_packetizer_config cfg;
  make_cfg(&cfg, 700, 6, 40, 60 * 700);
  const size_t len = 31 * 700 + 11;
  uint8_t *au = malloc(len);
  assert_non_null(au);
  bf_test_rng_fill(&rng, au, len);
  const size_t steps[] = {1, 5, 1000};
  uint8_t *ref = NULL;
  size_t ref_n = 0;
  const size_t dg = BF_HEADER_BYTES + 700;
  for (size_t si = 0; si < 3; si++) {
    bf_packetizer *p = must_new(&cfg);
    assert_int_equal(bf_packetizer_begin(p, au, len, 42, BF_AU_REPEAT), 0);
    bf_dgram pk[64];
    size_t n = drain(p, pk, 64, steps[si]);
    assert_int_equal(n, 32 + 5 * 3 + 2);
    uint8_t *flat = malloc(n * dg);
    assert_non_null(flat);
    for (size_t i = 0; i < n; i++) {
      memcpy(flat + i * dg, pk[i].head, BF_HEADER_BYTES);
      memcpy(flat + i * dg + BF_HEADER_BYTES, pk[i].body, 700);
    }
    if (!ref) {
      ref = flat;
      ref_n = n;
    } else {
      assert_int_equal(n, ref_n);
      assert_memory_equal(flat, ref, n * dg);
      free(flat);
    }
    bf_packetizer_del(&p);
  }
  free(ref);
  free(au);
}

/* Parity is computed when the first parity packet is requested, from the AU
 * as it is then: every data shard can go out before FEC is paid for. */
static void test_parity_is_lazy(void **state) {
  (void)state;
  bf_packetizer_config cfg;
  make_cfg(&cfg, 512, 4, 50, 4 * 512);
  bf_packetizer *p = must_new(&cfg);
  static uint8_t au[4 * 512];
  memset(au, 0, sizeof au);
  assert_int_equal(bf_packetizer_begin(p, au, sizeof au, 1, 0), 0);
  bf_dgram d[6];
  assert_int_equal(bf_packetizer_next(p, d, 4), 4);
  au[0] = 1; /* changes data shard 0 after it was handed out */
  assert_int_equal(bf_packetizer_next(p, d + 4, 2), 2);
  /* All data shards but the first are zero, so parity j = c(j, 0) * 1. */
  assert_int_equal(d[4].body[0], bf_fec_coef(2, 0, 0));
  assert_int_equal(d[5].body[0], bf_fec_coef(2, 1, 0));
  assert_int_not_equal(d[4].body[0], 0);
  bf_packetizer_del(&p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_config),
      cmocka_unit_test(test_size_boundaries),
      cmocka_unit_test(test_max_frame_boundary),
      cmocka_unit_test(test_default_multiblock),
      cmocka_unit_test(test_pct90_all_sizes),
      cmocka_unit_test(test_empty_au),
      cmocka_unit_test(test_set_fec_percent),
      cmocka_unit_test(test_index_wrap),
      cmocka_unit_test(test_abandon),
      cmocka_unit_test(test_batch_sizes_agree),
      cmocka_unit_test(test_parity_is_lazy),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
