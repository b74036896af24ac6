/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Reassembler: every stateful rule of spec §4 with hand-built packets (made
 * by the packetizer, then mutated through bf_header_decode/encode): delivery,
 * FEC rebuild, PROBE, pins, duplicates, late originals, stale and remembered
 * indices, abandonment by age and by count, loss ranges and their
 * coalescing, BLOCK_SHORT, the memory budget against hostile packets and
 * unreleased frames, eviction, pool reuse without growth, frame_index wrap,
 * the empty AU, stream-start reordering, the event queue bound and reset.
 */
#include "testutil.h"

#include <bildfunk/packetizer.h>
#include <bildfunk/reassembler.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MS 1000000ull
#define PTS0 1700000000000000000ull

/* ---- packets ---------------------------------------------------------- */

/* All packets of one AU, each a contiguous datagram of 40 + S bytes, in the
 * packetizer's (wire) order. */
typedef struct au_pkts {
  uint32_t n, ndata, nparity;
  uint32_t dlen; /* 40 + S */
  uint8_t *buf;
} au_pkts;

static uint8_t *pk(const au_pkts *a, uint32_t i) {
  assert_true(i < a->n);
  return a->buf + (size_t)i * a->dlen;
}

/* Deterministic AU content, so a delivered frame can be checked from its
 * index and length alone. */
static uint8_t au_byte(uint32_t idx, size_t pos) {
  uint32_t x = idx * 2654435761u ^ (uint32_t)pos * 40503u ^ (uint32_t)(pos >> 16);
  return (uint8_t)(x >> 13);
}

static void gen(au_pkts *out, uint32_t idx, uint32_t len, uint64_t pts, uint32_t flags, uint16_t s,
                uint16_t k, uint32_t pct) {
  uint8_t *au = malloc(len ? len : 1);
  assert_non_null(au);
  for (uint32_t i = 0; i < len; i++)
    au[i] = au_byte(idx, i);
  bf_packetizer_config cfg;
  bf_packetizer_config_default(&cfg);
  cfg.shard_bytes = s;
  cfg.max_k = k;
  cfg.fec_percent = pct;
  cfg.max_frame_bytes = len ? len : 1;
  cfg.first_frame_index = idx;
  cfg.first_stream_seq = idx * 1000u;
  bf_packetizer *p = NULL;
  assert_int_equal(bf_packetizer_new(&cfg, &p), 0);
  assert_int_equal(bf_packetizer_begin(p, au, len, pts, flags), 0);
  bf_packetizer_au_info info;
  bf_packetizer_au_info_get(p, &info);
  out->n = info.data_packets + info.parity_packets;
  out->ndata = info.data_packets;
  out->nparity = info.parity_packets;
  out->dlen = BF_HEADER_BYTES + s;
  out->buf = malloc((size_t)out->n * out->dlen);
  assert_non_null(out->buf);
  uint32_t got = 0;
  bf_dgram d[64];
  for (;;) {
    int rc = bf_packetizer_next(p, d, 64);
    assert_true(rc >= 0);
    if (rc == 0) break;
    for (int j = 0; j < rc; j++) {
      assert_true(got < out->n);
      assert_int_equal(d[j].head_len, BF_HEADER_BYTES);
      assert_int_equal(d[j].body_len, s);
      memcpy(pk(out, got), d[j].head, BF_HEADER_BYTES);
      memcpy(pk(out, got) + BF_HEADER_BYTES, d[j].body, s);
      got++;
    }
  }
  assert_int_equal(got, out->n);
  bf_packetizer_del(&p);
  free(au);
}

static void gen_free(au_pkts *a) {
  free(a->buf);
  a->buf = NULL;
}

static bf_header hdr_of(const uint8_t *d) {
  bf_header h;
  bf_header_decode(d, &h);
  return h;
}

static void hdr_put(uint8_t *d, const bf_header *h) {
  bf_header_encode(h, d);
}

/* A single hostile-but-valid packet: data shard 0 of block 0 of an AU that
 * claims |frame_bytes| bytes. */
static void forge(uint8_t *d, uint32_t idx, uint32_t frame_bytes, uint16_t s, uint16_t kmax,
                  uint64_t pts) {
  bf_header h = {0};
  bf_geometry g;
  bf_geometry_compute(frame_bytes, s, kmax, &g);
  h.pts_ns = pts;
  h.frame_index = idx;
  h.frame_bytes = frame_bytes;
  h.block_count = (uint16_t)g.block_count;
  h.data_shards = (uint16_t)bf_geometry_block_k(&g, kmax, 0);
  h.shard_bytes = s;
  h.magic = BF_MAGIC;
  h.version = BF_WIRE_VERSION;
  h.fec_scheme = BF_FEC_SCHEME_CAUCHY8;
  h.flags = BF_PKT_PIC | BF_PKT_SOF;
  hdr_put(d, &h);
  memset(d + BF_HEADER_BYTES, 0x5a, s);
}

/* ---- the reassembler under test and what it reported ------------------ */

#define LOG_MAX 4096

typedef struct frame_rec {
  uint32_t index, user_flags, received, recovered, data_shards, parity_shards;
  size_t len;
  uint64_t pts, first, last;
} frame_rec;

typedef struct rig {
  bf_reassembler *r;
  bf_reassembler_config cfg;
  uint64_t now;
  int keep;   /* do not release frames (memory tests) */
  int forged; /* frames come from forged packets: skip the content check */
  uint32_t nframes, nloss, nshort;
  frame_rec frames[LOG_MAX];
  uint32_t loss_first[LOG_MAX], loss_last[LOG_MAX], loss_flags[LOG_MAX];
  bf_event shorts[LOG_MAX];
  bf_frame held[LOG_MAX];
  uint32_t nheld;
} rig;

static rig *rig_new(const bf_reassembler_config *cfg) {
  rig *g = calloc(1, sizeof *g);
  assert_non_null(g);
  g->cfg = *cfg;
  g->now = 5 * MS;
  assert_int_equal(bf_reassembler_new(cfg, &g->r), 0);
  return g;
}

static void default_cfg(bf_reassembler_config *cfg) {
  bf_reassembler_config_default(cfg);
  cfg->limits.max_frame_bytes = 1u << 20;
}

static void check_counters(rig *g) {
  bf_reassembler_stats s;
  bf_reassembler_stats_get(g->r, &s);
  uint64_t sum = 0;
  for (int i = 0; i < BF_REJECT_COUNT_; i++)
    sum += s.rejected[i];
  assert_true(sum == s.packets);
  assert_true(s.late_shards == s.rejected[BF_REJECT_LATE]);
  assert_true(
      s.memory_in_flight <= g->cfg.memory_budget ||
      (g->cfg.memory_budget == 0 && s.memory_in_flight <= 4ull * g->cfg.limits.max_frame_bytes));
  assert_true(s.memory_in_flight <= s.memory_pooled);
  assert_true(s.memory_peak >= s.memory_in_flight);
}

static void drain(rig *g) {
  bf_event ev;
  while (bf_reassembler_poll(g->r, &ev)) {
    switch (ev.type) {
    case BF_EVENT_FRAME: {
      bf_frame *f = &ev.u.frame;
      assert_true(g->nframes < LOG_MAX);
      frame_rec *fr = &g->frames[g->nframes++];
      fr->index = f->frame_index;
      fr->len = f->len;
      fr->pts = f->pts_ns;
      fr->user_flags = f->user_flags;
      fr->received = f->shards_received;
      fr->recovered = f->shards_recovered;
      fr->data_shards = f->data_shards;
      fr->parity_shards = f->parity_shards;
      fr->first = f->first_arrival_ns;
      fr->last = f->last_arrival_ns;
      assert_non_null(f->data);
      for (size_t i = 0; i < f->len && !g->forged; i++)
        if (f->data[i] != au_byte(f->frame_index, i))
          fail_msg("frame %u differs at %zu", f->frame_index, i);
      if (g->keep) {
        assert_true(g->nheld < LOG_MAX);
        g->held[g->nheld++] = *f;
      } else {
        bf_reassembler_release(g->r, f);
        assert_null(f->internal_);
      }
      break;
    }
    case BF_EVENT_LOSS:
      assert_true(g->nloss < LOG_MAX);
      g->loss_first[g->nloss] = ev.u.loss.first;
      g->loss_last[g->nloss] = ev.u.loss.last;
      g->loss_flags[g->nloss] = ev.u.loss.au_flags;
      g->nloss++;
      break;
    case BF_EVENT_BLOCK_SHORT:
      assert_true(g->nshort < LOG_MAX);
      g->shorts[g->nshort++] = ev;
      break;
    default:
      fail_msg("unknown event %d", (int)ev.type);
    }
  }
  check_counters(g);
}

static bf_reject push_len(rig *g, const uint8_t *d, size_t len) {
  g->now += 1000;
  bf_reject r = bf_reassembler_push(g->r, d, len, g->now);
  drain(g);
  return r;
}

static bf_reject push(rig *g, const au_pkts *a, uint32_t i) {
  return push_len(g, pk(a, i), a->dlen);
}

static void push_all(rig *g, const au_pkts *a) {
  for (uint32_t i = 0; i < a->n; i++)
    push(g, a, i);
}

static void release_held(rig *g) {
  for (uint32_t i = 0; i < g->nheld; i++)
    bf_reassembler_release(g->r, &g->held[i]);
  g->nheld = 0;
}

static void rig_del(rig *g) {
  release_held(g);
  bf_reassembler_del(&g->r);
  assert_null(g->r);
  free(g);
}

static bf_reassembler_stats stats(rig *g) {
  bf_reassembler_stats s;
  bf_reassembler_stats_get(g->r, &s);
  return s;
}

/* A small complete AU |idx| at |pts|: one 600-byte shard, no FEC. */
static void small_au(rig *g, uint32_t idx, uint64_t pts) {
  au_pkts a;
  gen(&a, idx, 600, pts, 0, 512, 16, 0);
  push_all(g, &a);
  gen_free(&a);
}

/* ---- tests ------------------------------------------------------------ */

static void test_config(void **state) {
  (void)state;
  bf_reassembler_config cfg;
  bf_reassembler *r = (bf_reassembler *)&cfg;
  default_cfg(&cfg);
  cfg.abandon_frames = 0;
  assert_int_equal(bf_reassembler_new(&cfg, &r), -EINVAL);
  assert_null(r);
  default_cfg(&cfg);
  cfg.abandon_age_ns = 0;
  assert_int_equal(bf_reassembler_new(&cfg, &r), -EINVAL);
  default_cfg(&cfg);
  cfg.limits.max_k = 0;
  assert_int_equal(bf_reassembler_new(&cfg, &r), -EINVAL);
  default_cfg(&cfg);
  cfg.limits.min_shard = 2000;
  cfg.limits.max_shard = 1000;
  assert_int_equal(bf_reassembler_new(&cfg, &r), -EINVAL);
  default_cfg(&cfg);
  cfg.memory_budget = 1u << 20; /* cannot hold one 1 MiB AU */
  assert_int_equal(bf_reassembler_new(&cfg, &r), -EINVAL);
  default_cfg(&cfg);
  assert_int_equal(bf_reassembler_new(&cfg, &r), 0);
  bf_reassembler_stats s;
  bf_reassembler_stats_get(r, &s);
  assert_true(s.memory_in_flight == 0 && s.memory_pooled == 0 && s.packets == 0);
  bf_reassembler_del(&r);
  assert_null(r);
  bf_reassembler_del(&r); /* NULL is fine */
}

/* Lossless multi-block AU: delivered once, bit-exact, with its metadata;
 * the parity that follows is redundant and counted as duplicate. */
static void test_lossless(void **state) {
  (void)state;
  bf_reassembler_config cfg;
  default_cfg(&cfg);
  cfg.limits.max_k = 16;
  rig *g = rig_new(&cfg);
  au_pkts a;
  gen(&a, 7, 40000, PTS0, BF_AU_KEYFRAME | BF_AU_RECOVERY_POINT, 1024, 16, 20);
  assert_int_equal(a.ndata, 40); /* ceil(40000 / 1024): blocks of 16, 16, 8 */
  uint64_t t0 = g->now + 1000;
  for (uint32_t i = 0; i < a.ndata; i++) {
    assert_int_equal(g->nframes, 0);
    assert_int_equal(push(g, &a, i), BF_ACCEPT);
  }
  assert_int_equal(g->nframes, 1);
  frame_rec *f = &g->frames[0];
  assert_int_equal(f->index, 7);
  assert_int_equal(f->len, 40000);
  assert_true(f->pts == PTS0);
  assert_int_equal(f->user_flags, BF_AU_KEYFRAME | BF_AU_RECOVERY_POINT);
  assert_int_equal(f->received, 40);
  assert_int_equal(f->recovered, 0);
  assert_true(f->first == t0);
  assert_true(f->last == g->now);
  for (uint32_t i = a.ndata; i < a.n; i++)
    assert_int_equal(push(g, &a, i), BF_REJECT_DUPLICATE);
  bf_reassembler_stats s = stats(g);
  assert_true(s.rejected[BF_ACCEPT] == 40);
  assert_true(s.rejected[BF_REJECT_DUPLICATE] == a.nparity);
  assert_true(s.frames_completed == 1 && s.frames_lost == 0 && s.shards_recovered == 0);
  assert_true(s.memory_in_flight == 0); /* the frame was released */
  assert_true(s.memory_pooled > 0);
  assert_int_equal(g->nloss + g->nshort, 0);
  gen_free(&a);
  rig_del(g);
}

/* The empty AU is one zero shard; it is delivered with len 0. */
static void test_empty_au(void **state) {
  (void)state;
  bf_reassembler_config cfg;
  default_cfg(&cfg);
  rig *g = rig_new(&cfg);
  au_pkts a;
  gen(&a, 3, 0, PTS0, BF_AU_REPEAT, 512, 128, 50);
  assert_int_equal(a.ndata, 1);
  assert_int_equal(a.nparity, 2);
  /* parity first: one parity shard is enough to rebuild the zero shard */
  assert_int_equal(push(g, &a, 2), BF_ACCEPT);
  assert_int_equal(g->nframes, 1);
  assert_int_equal(g->frames[0].len, 0);
  assert_int_equal(g->frames[0].recovered, 1);
  assert_int_equal(g->frames[0].user_flags, BF_AU_REPEAT);
  assert_int_equal(push(g, &a, 0), BF_REJECT_LATE); /* the original, after the rebuild */
  assert_int_equal(push(g, &a, 1), BF_REJECT_DUPLICATE);
  gen_free(&a);
  rig_del(g);
}

/* Any k of k + m rebuild a block, in any order; holes are rebuilt in place. */
static void test_fec_rebuild(void **state) {
  (void)state;
  bf_reassembler_config cfg;
  default_cfg(&cfg);
  cfg.limits.max_k = 16;
  rig *g = rig_new(&cfg);
  bf_test_rng rng;
  bf_test_rng_seed(&rng, 11);
  for (uint32_t idx = 0; idx < 40; idx++) {
    au_pkts a;
    uint32_t len = 1 + bf_test_rng_below(&rng, 60000);
    gen(&a, idx, len, PTS0 + idx * MS, 0, 1024, 16, 30);
    /* drop up to m shards of each block: pick k of each block's shards */
    uint8_t *use = calloc(a.n, 1);
    uint32_t dropped_data = 0;
    for (uint32_t i = 0; i < a.n; i++)
      use[i] = 1;
    for (uint32_t i = 0; i < a.n; i++) {
      bf_header h = hdr_of(pk(&a, i));
      if (h.shard_index == 0 && h.recovery_shards > 0) {
        /* this block's data shards: i .. i+k-1; drop up to m of all k+m */
        uint32_t drop = bf_test_rng_below(&rng, h.recovery_shards + 1u);
        for (uint32_t d = 0; d < drop; d++) {
          uint32_t s = bf_test_rng_below(&rng, h.data_shards);
          if (use[i + s]) dropped_data++;
          use[i + s] = 0;
        }
      }
    }
    /* push in reverse order: parity first, so a block completes before its
     * first data shards arrive; those are rebuilt and then count as late */
    uint32_t before = g->nframes;
    uint64_t late0 = stats(g).late_shards;
    for (uint32_t i = a.n; i-- > 0;)
      if (use[i]) push(g, &a, i);
    assert_int_equal(g->nframes, before + 1);
    assert_int_equal(g->frames[before].index, idx);
    assert_int_equal(g->frames[before].len, len);
    uint64_t late = stats(g).late_shards - late0;
    assert_true(g->frames[before].recovered == dropped_data + late);
    /* the AU's k and m as the sender sent them (its FEC level, issue #17) */
    assert_int_equal(g->frames[before].data_shards, a.ndata);
    assert_int_equal(g->frames[before].parity_shards, a.nparity);
    free(use);
    gen_free(&a);
  }
  bf_reassembler_stats s = stats(g);
  assert_true(s.frames_completed == 40 && s.frames_lost == 0);
  rig_del(g);
}

/* PROBE filler is counted and never decoded; garbage is rejected statelessly
 * before any memory is taken. */
static void test_probe_and_garbage(void **state) {
  (void)state;
  bf_reassembler_config cfg;
  default_cfg(&cfg);
  rig *g = rig_new(&cfg);
  au_pkts a;
  gen(&a, 0, 500, PTS0, 0, 512, 128, 0);
  bf_header h = hdr_of(pk(&a, 0));
  h.flags |= BF_PKT_PROBE;
  hdr_put(pk(&a, 0), &h);
  assert_int_equal(push(g, &a, 0), BF_REJECT_PROBE);
  assert_int_equal(g->nframes, 0);
  bf_reassembler_stats s = stats(g);
  assert_true(s.rejected[BF_REJECT_PROBE] == 1);
  assert_true(s.memory_pooled == 0);

  uint8_t junk[BF_RECV_BUF_BYTES];
  memset(junk, 0, sizeof junk);
  assert_int_equal(push_len(g, junk, sizeof junk), BF_REJECT_OVERSIZE);
  assert_int_equal(push_len(g, junk, 10), BF_REJECT_SHORT);
  assert_int_equal(push_len(g, junk, 552), BF_REJECT_MAGIC);
  h.flags &= (uint8_t)~BF_PKT_PROBE;
  h.frame_bytes = 2u << 20; /* > max_frame_bytes */
  hdr_put(pk(&a, 0), &h);
  assert_int_equal(push(g, &a, 0), BF_REJECT_FRAME_BYTES);
  s = stats(g);
  assert_true(s.memory_pooled == 0 && s.memory_peak == 0);
  assert_true(s.packets == 5);
  /* the probe did not pin or open AU 0: the clean packet is accepted */
  h.frame_bytes = 500;
  hdr_put(pk(&a, 0), &h);
  assert_int_equal(push(g, &a, 0), BF_ACCEPT);
  assert_int_equal(g->nframes, 1);
  gen_free(&a);
  rig_del(g);
}

/* The first accepted packet pins shard_bytes, frame_bytes, block_count, pts
 * and user_flags; each block's first packet pins m. */
static void test_pins(void **state) {
  (void)state;
  bf_reassembler_config cfg;
  default_cfg(&cfg);
  cfg.limits.max_k = 8;
  rig *g = rig_new(&cfg);
  au_pkts a;
  gen(&a, 1, 12000, PTS0, BF_AU_KEYFRAME, 1024, 8, 25); /* 12 data: blocks of 8 and 4 */
  assert_int_equal(push(g, &a, 0), BF_ACCEPT);
  uint8_t d[BF_HEADER_BYTES + 2048];
  bf_header h;

  memcpy(d, pk(&a, 1), a.dlen);
  h = hdr_of(d);
  h.pts_ns += 1;
  hdr_put(d, &h);
  assert_int_equal(push_len(g, d, a.dlen), BF_REJECT_PIN);

  h = hdr_of(pk(&a, 1));
  h.user_flags = 0;
  hdr_put(d, &h);
  assert_int_equal(push_len(g, d, a.dlen), BF_REJECT_PIN);

  h = hdr_of(pk(&a, 1));
  h.frame_bytes = 11000; /* same geometry, different size */
  hdr_put(d, &h);
  assert_int_equal(push_len(g, d, a.dlen), BF_REJECT_PIN);

  /* a different S: valid on its own (length matches), contradicts the pin */
  h = hdr_of(pk(&a, 1));
  h.shard_bytes = 2048;
  h.frame_bytes = 12000;
  bf_geometry geo;
  bf_geometry_compute(12000, 2048, 8, &geo);
  h.block_count = (uint16_t)geo.block_count;
  h.data_shards = (uint16_t)bf_geometry_block_k(&geo, 8, 0);
  h.recovery_shards = 2;
  hdr_put(d, &h);
  memset(d + BF_HEADER_BYTES, 0, 2048);
  assert_int_equal(push_len(g, d, BF_HEADER_BYTES + 2048), BF_REJECT_PIN);

  /* m of block 0 is pinned by its first packet */
  h = hdr_of(pk(&a, 1));
  h.recovery_shards = (uint16_t)(h.recovery_shards + 1);
  hdr_put(d, &h);
  memcpy(d + BF_HEADER_BYTES, pk(&a, 1) + BF_HEADER_BYTES, 1024);
  assert_int_equal(push_len(g, d, a.dlen), BF_REJECT_PIN);

  bf_reassembler_stats s = stats(g);
  assert_true(s.rejected[BF_REJECT_PIN] == 5);
  /* nothing of that disturbed the AU */
  for (uint32_t i = 1; i < a.ndata; i++)
    assert_int_equal(push(g, &a, i), BF_ACCEPT);
  assert_int_equal(g->nframes, 1);
  assert_int_equal(g->frames[0].user_flags, BF_AU_KEYFRAME);
  /* a delivered AU still checks pins before duplicate accounting */
  h = hdr_of(pk(&a, 0));
  h.pts_ns += 5;
  memcpy(d, pk(&a, 0), a.dlen);
  hdr_put(d, &h);
  assert_int_equal(push_len(g, d, a.dlen), BF_REJECT_PIN);
  gen_free(&a);
  rig_del(g);
}

static void test_duplicates(void **state) {
  (void)state;
  bf_reassembler_config cfg;
  default_cfg(&cfg);
  rig *g = rig_new(&cfg);
  au_pkts a;
  gen(&a, 0, 5000, PTS0, 0, 1024, 128, 40); /* 5 data, 2 parity */
  assert_int_equal(push(g, &a, 0), BF_ACCEPT);
  assert_int_equal(push(g, &a, 0), BF_REJECT_DUPLICATE);
  assert_int_equal(push(g, &a, 5), BF_ACCEPT);
  assert_int_equal(push(g, &a, 5), BF_REJECT_DUPLICATE);
  assert_int_equal(push(g, &a, 1), BF_ACCEPT);
  assert_int_equal(push(g, &a, 1), BF_REJECT_DUPLICATE);
  assert_int_equal(g->nframes, 0);
  assert_int_equal(push(g, &a, 2), BF_ACCEPT);
  assert_int_equal(push(g, &a, 3), BF_ACCEPT); /* 5 of 5 + 2: complete */
  assert_int_equal(g->nframes, 1);
  assert_int_equal(g->frames[0].received, 5);
  assert_int_equal(g->frames[0].recovered, 1); /* shard 4 was rebuilt from the parity */
  assert_int_equal(push(g, &a, 4), BF_REJECT_LATE);
  assert_int_equal(push(g, &a, 4), BF_REJECT_DUPLICATE);
  assert_int_equal(push(g, &a, 6), BF_REJECT_DUPLICATE); /* parity after completion */
  assert_int_equal(push(g, &a, 0), BF_REJECT_DUPLICATE);
  bf_reassembler_stats s = stats(g);
  assert_true(s.rejected[BF_REJECT_DUPLICATE] == 6);
  assert_true(s.rejected[BF_REJECT_LATE] == 1 && s.late_shards == 1);
  gen_free(&a);
  rig_del(g);
}

/* An original that FEC already rebuilt is late, while the AU is still being
 * assembled (other blocks pending) as well as after delivery. */
static void test_late(void **state) {
  (void)state;
  bf_reassembler_config cfg;
  default_cfg(&cfg);
  cfg.limits.max_k = 4;
  rig *g = rig_new(&cfg);
  au_pkts a;
  gen(&a, 9, 5000, PTS0, 0, 512, 4, 50); /* 10 data: blocks 4, 4, 2; m = 2 each */
  assert_int_equal(a.ndata, 10);
  assert_int_equal(a.nparity, 6);
  /* block 0: data 1..3 and its first parity (wire position 10) */
  for (uint32_t i = 1; i < 4; i++)
    assert_int_equal(push(g, &a, i), BF_ACCEPT);
  bf_header h = hdr_of(pk(&a, 10));
  assert_int_equal(h.block_index, 0);
  assert_int_equal(h.shard_index, 4);
  assert_int_equal(push(g, &a, 10), BF_ACCEPT); /* block 0 rebuilt */
  assert_true(stats(g).shards_recovered == 1);
  assert_int_equal(g->nframes, 0);
  assert_int_equal(push(g, &a, 0), BF_REJECT_LATE);
  assert_int_equal(push(g, &a, 0), BF_REJECT_DUPLICATE);
  assert_int_equal(push(g, &a, 11), BF_REJECT_DUPLICATE); /* parity, block complete */
  for (uint32_t i = 4; i < 10; i++)
    assert_int_equal(push(g, &a, i), BF_ACCEPT);
  assert_int_equal(g->nframes, 1);
  assert_int_equal(g->frames[0].recovered, 1);
  assert_int_equal(g->frames[0].received, 10);
  bf_reassembler_stats s = stats(g);
  assert_true(s.late_shards == 1 && s.rejected[BF_REJECT_LATE] == 1);
  assert_true(s.rejected[BF_REJECT_DUPLICATE] == 2);
  gen_free(&a);
  rig_del(g);
}

/* Finished indices are remembered while in the window; anything older than
 * the window is stale; an abandoned AU cannot be revived. */
static void test_stale_and_remembered(void **state) {
  (void)state;
  bf_reassembler_config cfg;
  default_cfg(&cfg);
  rig *g = rig_new(&cfg);
  au_pkts a100, a101;
  gen(&a100, 100, 3000, PTS0, 0, 1024, 128, 0);
  gen(&a101, 101, 3000, PTS0, 0, 1024, 128, 0);
  push_all(g, &a100);
  assert_int_equal(g->nframes, 1);
  assert_int_equal(push(g, &a100, 0), BF_REJECT_DUPLICATE); /* remembered as delivered */
  assert_int_equal(push(g, &a101, 0), BF_ACCEPT);
  /* same pts throughout: only the count rule can abandon 101 */
  for (uint32_t i = 102; i < 165; i++)
    small_au(g, i, PTS0);
  assert_int_equal(g->nloss, 0);
  assert_int_equal(push(g, &a101, 1), BF_ACCEPT); /* 63 behind: still alive */
  small_au(g, 165, PTS0);                         /* 64 behind now: abandoned */
  assert_int_equal(g->nloss, 1);
  assert_int_equal(g->loss_first[0], 101);
  assert_int_equal(g->loss_last[0], 101);
  assert_int_equal(push(g, &a101, 2), BF_REJECT_STALE); /* cannot revive it */
  assert_int_equal(push(g, &a100, 1), BF_REJECT_STALE); /* older than the window */
  au_pkts a102;
  gen(&a102, 102, 600, PTS0, 0, 512, 16, 0);
  assert_int_equal(push(g, &a102, 0), BF_REJECT_DUPLICATE); /* 63 behind, delivered */
  small_au(g, 166, PTS0);
  assert_int_equal(push(g, &a102, 0), BF_REJECT_STALE); /* 64 behind */
  bf_reassembler_stats s = stats(g);
  assert_true(s.frames_lost == 1);
  assert_true(s.frames_completed == 1 + 64 + 1);
  assert_true(s.memory_in_flight == 0);
  gen_free(&a100);
  gen_free(&a101);
  gen_free(&a102);
  rig_del(g);
}

/* An unfinished AU dies when its pts is abandon_age_ns behind the newest. */
static void test_abandon_by_age(void **state) {
  (void)state;
  bf_reassembler_config cfg;
  default_cfg(&cfg);
  rig *g = rig_new(&cfg);
  au_pkts a0;
  gen(&a0, 0, 3000, PTS0, 0, 1024, 128, 0);
  assert_int_equal(push(g, &a0, 0), BF_ACCEPT);
  size_t held = stats(g).memory_in_flight;
  assert_true(held > 0);
  small_au(g, 1, PTS0 + 60 * MS);
  small_au(g, 2, PTS0 + 119 * MS);
  assert_int_equal(g->nloss, 0);
  assert_int_equal(push(g, &a0, 1), BF_ACCEPT);
  small_au(g, 3, PTS0 + 120 * MS);
  assert_int_equal(g->nloss, 1);
  assert_int_equal(g->loss_first[0], 0);
  assert_int_equal(g->loss_last[0], 0);
  assert_true(stats(g).memory_in_flight == 0);
  assert_int_equal(push(g, &a0, 2), BF_REJECT_STALE);
  /* an AU whose first packet is already too old is lost on arrival */
  small_au(g, 5, PTS0 + 500 * MS);
  au_pkts a4;
  gen(&a4, 4, 600, PTS0 + 380 * MS, 0, 512, 16, 0);
  assert_int_equal(push(g, &a4, 0), BF_REJECT_STALE);
  assert_int_equal(g->nloss, 2);
  assert_int_equal(g->loss_first[1], 4);
  assert_int_equal(g->loss_last[1], 4);
  assert_int_equal(push(g, &a4, 0), BF_REJECT_STALE);
  bf_reassembler_stats s = stats(g);
  assert_true(s.frames_lost == 2 && s.frames_completed == 4);
  gen_free(&a0);
  gen_free(&a4);
  rig_del(g);
}

/* LOSS and BLOCK_SHORT say the flags of the AUs they give up that had
 * shards (the client asks for a new keyframe at once when the one it waits
 * for is lost); an index never seen has none, even in a ring slot a
 * keyframe used before. */
static void test_loss_flags(void **state) {
  (void)state;
  bf_reassembler_config cfg;
  default_cfg(&cfg);
  rig *g = rig_new(&cfg);
  au_pkts key, p;
  gen(&key, 10, 3000, PTS0, BF_AU_KEYFRAME, 1024, 128, 0);
  assert_int_equal(push(g, &key, 0), BF_ACCEPT);
  small_au(g, 11, PTS0 + 200 * MS); /* 10 is abandoned by age */
  assert_int_equal(g->nloss, 1);
  assert_int_equal(g->loss_first[0], 10);
  assert_int_equal(g->loss_flags[0], BF_AU_KEYFRAME);
  /* 12 never seen, 13 seen (not a keyframe): one range, no keyframe */
  gen(&p, 13, 3000, PTS0 + 220 * MS, 0, 1024, 128, 0);
  assert_int_equal(push(g, &p, 0), BF_ACCEPT);
  small_au(g, 14, PTS0 + 500 * MS);
  assert_int_equal(g->nloss, 2);
  assert_int_equal(g->loss_first[1], 12);
  assert_int_equal(g->loss_last[1], 13);
  assert_int_equal(g->loss_flags[1], 0);
  gen_free(&p);
  /* the ring slot of 10 again (10 + the ring of 64), never seen this time:
   * lost when a newer AU that was seen is 120 ms behind */
  uint32_t again = 10 + cfg.abandon_frames;
  for (uint32_t i = 15; i < again; i++)
    small_au(g, i, PTS0 + 500 * MS + i * MS);
  small_au(g, again + 1, PTS0 + 600 * MS);
  assert_int_equal(g->nloss, 2);
  small_au(g, again + 2, PTS0 + 900 * MS);
  assert_int_equal(g->nloss, 3);
  assert_int_equal(g->loss_first[2], again);
  assert_int_equal(g->loss_flags[2], 0);
  gen_free(&key);
  /* a keyframe's short block says so */
  gen(&key, again + 3, 5000, PTS0 + 910 * MS, BF_AU_KEYFRAME, 512, 128, 20); /* k 10, m 2 */
  for (uint32_t i = 3; i < 12; i++)
    push(g, &key, i);
  assert_int_equal(g->nshort, 1);
  assert_int_equal(g->shorts[0].u.block.au_flags, BF_AU_KEYFRAME);
  gen_free(&key);
  rig_del(g);
}

/* An index never seen is lost once a newer AU that was seen is itself
 * abandon_age_ns behind the newest: its pts could only be older. */
static void test_unseen_lost_by_age(void **state) {
  (void)state;
  bf_reassembler_config cfg;
  default_cfg(&cfg);
  rig *g = rig_new(&cfg);
  small_au(g, 10, PTS0);
  small_au(g, 12, PTS0 + 33 * MS);
  small_au(g, 13, PTS0 + 140 * MS); /* 12 is 107 ms behind: 11 may still come */
  assert_int_equal(g->nloss, 0);
  small_au(g, 14, PTS0 + 153 * MS); /* 12 is 120 ms behind: 11 is lost */
  assert_int_equal(g->nloss, 1);
  assert_int_equal(g->loss_first[0], 11);
  assert_int_equal(g->loss_last[0], 11);
  assert_int_equal(g->nframes, 4);
  rig_del(g);
}

/* Loss ranges come in index order, adjacent indices merged, each lost index
 * exactly once, also across a corroborated jump far ahead. */
static void test_loss_ranges(void **state) {
  (void)state;
  bf_reassembler_config cfg;
  default_cfg(&cfg);
  rig *g = rig_new(&cfg);
  small_au(g, 0, PTS0);
  small_au(g, 1, PTS0);
  small_au(g, 5, PTS0);
  small_au(g, 9, PTS0);
  assert_int_equal(g->nloss, 0);
  small_au(g, 72, PTS0); /* 63 ahead: 2..4 and 6..8 are >= 64 behind */
  assert_int_equal(g->nloss, 2);
  assert_int_equal(g->loss_first[0], 2);
  assert_int_equal(g->loss_last[0], 4);
  assert_int_equal(g->loss_first[1], 6);
  assert_int_equal(g->loss_last[1], 8);
  /* far ahead: not believed on one AU's word, nothing reported */
  au_pkts far;
  gen(&far, 1000, 600, PTS0, 0, 512, 16, 0);
  assert_int_equal(push(g, &far, 0), BF_REJECT_JUMP);
  gen_free(&far);
  assert_int_equal(g->nloss, 2);
  /* the old stream stopped (abandon_age_ns without a packet accepted in the
   * window) and three indices out there agree: the window moves; what the
   * old window never saw (10..71) is lost, the indices jumped over are not */
  g->now += cfg.abandon_age_ns;
  gen(&far, 1001, 600, PTS0, 0, 512, 16, 0);
  assert_int_equal(push(g, &far, 0), BF_REJECT_JUMP);
  gen_free(&far);
  gen(&far, 1002, 600, PTS0, 0, 512, 16, 0);
  assert_int_equal(push(g, &far, 0), BF_ACCEPT);
  assert_int_equal(push(g, &far, 1), BF_ACCEPT);
  gen_free(&far);
  assert_int_equal(g->nloss, 3);
  assert_int_equal(g->loss_first[2], 10);
  assert_int_equal(g->loss_last[2], 71);
  bf_reassembler_stats s = stats(g);
  assert_int_equal(s.frames_lost, 3 + 3 + 62);
  assert_int_equal(s.frames_completed, 6);
  assert_true(s.jumps == 1 && s.rejected[BF_REJECT_JUMP] == 2);
  small_au(g, 1060, PTS0); /* 58 ahead: nothing behind yet */
  assert_int_equal(g->nloss, 3);
  /* not polled in between: consecutive losses from two pushes merge */
  g->now += 1000;
  uint8_t d[BF_HEADER_BYTES + 512];
  forge(d, 1070, 5000, 512, 128, PTS0); /* 1003..1006 lost */
  assert_int_equal(bf_reassembler_push(g->r, d, sizeof d, g->now), BF_ACCEPT);
  forge(d, 1071, 5000, 512, 128, PTS0);
  assert_int_equal(bf_reassembler_push(g->r, d, sizeof d, g->now), BF_ACCEPT); /* + 1007 */
  drain(g);
  assert_int_equal(g->nloss, 4);
  assert_int_equal(g->loss_first[3], 1003);
  assert_int_equal(g->loss_last[3], 1007);
  rig_del(g);
}

/* One forged AU far ahead (or a burst of them) amid a genuine stream is
 * never believed: the stream goes on, nothing is reported lost, the
 * forgeries are counted as jumps refused. A genuine restart at a higher
 * index (the old stream stops) is followed after three AUs; far behind
 * stays stale. */
static void test_forged_jump(void **state) {
  (void)state;
  bf_reassembler_config cfg;
  default_cfg(&cfg);
  rig *g = rig_new(&cfg);
  const uint64_t iv = 16666667; /* 60 fps */
  uint32_t forged[] = {5000, 0x7fffffffu, 5001, 5002, 100};
  size_t nf = 0;
  for (uint32_t i = 0; i < 200; i++) {
    small_au(g, i, PTS0 + i * iv);
    g->now += iv;
    if (i >= 50 && i % 10 == 0 && nf < sizeof forged / sizeof forged[0]) {
      au_pkts a;
      gen(&a, i + forged[nf++], 600, PTS0 + 3600ull * 1000000000ull, 0, 512, 16, 0);
      assert_int_equal(push(g, &a, 0), BF_REJECT_JUMP);
      gen_free(&a);
    }
  }
  assert_int_equal(nf, 5);
  bf_reassembler_stats s = stats(g);
  assert_true(s.frames_completed == 200);
  assert_true(s.frames_lost == 0 && g->nloss == 0);
  assert_true(s.jumps == 0 && s.rejected[BF_REJECT_JUMP] == 5);
  /* far behind stays stale, even after the stream stopped (a sender that
   * starts over lower is the caller's to notice: a silence, then a reset) */
  g->now += 200 * MS;
  au_pkts a;
  for (uint32_t i = 7; i < 10; i++) {
    gen(&a, i, 600, PTS0 + i * iv, 0, 512, 16, 0);
    assert_int_equal(push(g, &a, 0), BF_REJECT_STALE);
    gen_free(&a);
  }
  /* the sender restarts from 100000: followed at the third AU */
  gen(&a, 100000, 600, PTS0, 0, 512, 16, 0);
  assert_int_equal(push(g, &a, 0), BF_REJECT_JUMP);
  assert_int_equal(push(g, &a, 1), BF_REJECT_JUMP);
  gen_free(&a);
  gen(&a, 100001, 600, PTS0 + iv, 0, 512, 16, 0);
  assert_int_equal(push(g, &a, 0), BF_REJECT_JUMP);
  gen_free(&a);
  for (uint32_t i = 100002; i < 100013; i++)
    small_au(g, i, PTS0 + (i - 100000) * iv);
  s = stats(g);
  assert_true(s.frames_completed == 211);
  assert_true(s.jumps == 1 && s.frames_lost == 0);
  assert_int_equal(g->frames[200].index, 100002);
  /* forged AUs far ahead amid a live stream, three of them in a row and
   * with no genuine packet for abandon_age_ns before them: not believed,
   * because genuine packets came after the first of them */
  g->now += 200 * MS;
  for (uint32_t k = 0; k < 3; k++) {
    gen(&a, 900000 + k, 600, PTS0, 0, 512, 16, 0);
    assert_int_equal(push(g, &a, 0), BF_REJECT_JUMP);
    gen_free(&a);
    small_au(g, 100013 + k, PTS0 + (13 + k) * iv);
  }
  s = stats(g);
  assert_true(s.jumps == 1 && s.frames_completed == 214);
  rig_del(g);
}

/* BLOCK_SHORT: the block's last shard on the wire arrives and the block still
 * cannot be rebuilt; once per block; with m = 0 the last data shard. */
static void test_block_short(void **state) {
  (void)state;
  bf_reassembler_config cfg;
  default_cfg(&cfg);
  rig *g = rig_new(&cfg);
  au_pkts a;
  gen(&a, 20, 5000, PTS0, 0, 512, 128, 20); /* k = 10, m = 2 */
  assert_int_equal(a.ndata, 10);
  assert_int_equal(a.nparity, 2);
  for (uint32_t i = 3; i < 10; i++)
    push(g, &a, i);
  push(g, &a, 10);
  assert_int_equal(g->nshort, 0);
  push(g, &a, 11); /* index k + m - 1, 9 of 10 */
  assert_int_equal(g->nshort, 1);
  assert_int_equal(g->shorts[0].u.block.frame_index, 20);
  assert_int_equal(g->shorts[0].u.block.block_index, 0);
  assert_int_equal(g->shorts[0].u.block.have, 9);
  assert_int_equal(g->shorts[0].u.block.need, 10);
  assert_int_equal(push(g, &a, 11), BF_REJECT_DUPLICATE);
  assert_int_equal(g->nshort, 1);
  assert_int_equal(push(g, &a, 0), BF_ACCEPT); /* a straggler still completes it */
  assert_int_equal(g->nframes, 1);
  assert_int_equal(g->frames[0].recovered, 2);
  gen_free(&a);

  gen(&a, 21, 1500, PTS0, 0, 512, 128, 0); /* k = 3, m = 0 */
  push(g, &a, 0);
  push(g, &a, 2);
  assert_int_equal(g->nshort, 2);
  assert_int_equal(g->shorts[1].u.block.have, 2);
  assert_int_equal(g->shorts[1].u.block.need, 3);
  push(g, &a, 1);
  assert_int_equal(g->nframes, 2);
  gen_free(&a);

  /* two blocks short: one event each */
  cfg.limits.max_k = 4;
  rig *g2 = rig_new(&cfg);
  gen(&a, 0, 4096, PTS0, 0, 512, 4, 50); /* 8 data, blocks 4 + 4, m = 2 each */
  for (uint32_t i = 0; i < a.n; i++) {
    bf_header h = hdr_of(pk(&a, i));
    if (h.shard_index == 0 || h.shard_index == 1 || h.shard_index == 2) continue;
    push(g2, &a, i);
  }
  assert_int_equal(g2->nshort, 2);
  assert_int_equal(g2->shorts[0].u.block.block_index, 0);
  assert_int_equal(g2->shorts[1].u.block.block_index, 1);
  bf_reassembler_stats s = stats(g2);
  assert_true(s.blocks_short == 2);
  gen_free(&a);
  rig_del(g2);
  rig_del(g);
}

static void assert_within_budget(rig *g, size_t budget) {
  bf_reassembler_stats s = stats(g);
  assert_true(s.memory_in_flight <= budget);
  assert_true(s.memory_pooled <= budget);
  assert_true(s.memory_peak <= budget);
}

/* Hostile packets claiming many different huge AUs: memory stays within the
 * budget, newer AUs evict the oldest unfinished ones, older ones are refused,
 * and the evicted buffers are reused without new allocations. */
static void test_memory_hostile(void **state) {
  (void)state;
  bf_reassembler_config cfg;
  default_cfg(&cfg); /* 1 MiB AUs, budget 4 MiB */
  const size_t budget = 4u << 20;
  rig *g = rig_new(&cfg);
  g->forged = 1;
  uint8_t d[BF_HEADER_BYTES + 1024];
  for (uint32_t i = 0; i < 300; i++) {
    forge(d, i, 1u << 20, 1024, 128, PTS0 + i * MS);
    assert_int_equal(push_len(g, d, sizeof d), BF_ACCEPT);
    assert_within_budget(g, budget);
  }
  bf_reassembler_stats s = stats(g);
  assert_true(s.frames_evicted == 300 - 3); /* 3 AUs of 1 MiB + slack fit in 4 MiB */
  assert_true(s.pool_allocs == 3);
  /* evicted AUs are reported lost, in order */
  assert_true(s.frames_lost == 297);
  assert_int_equal(g->nloss, 297);
  assert_int_equal(g->loss_first[0], 0);
  assert_int_equal(g->loss_last[296], 296);
  rig_del(g);

  /* random claims: any size, any index around the window, any shard */
  g = rig_new(&cfg);
  g->forged = 1;
  bf_test_rng rng;
  bf_test_rng_seed(&rng, 77);
  for (uint32_t i = 0; i < 3000; i++) {
    uint32_t fb = bf_test_rng_below(&rng, (1u << 20) + 1);
    uint32_t idx = 1000 + i / 4 - bf_test_rng_below(&rng, 80);
    uint16_t s_ = (uint16_t)(512 + 2 * bf_test_rng_below(&rng, 256));
    forge(d, idx, fb, s_, 128, PTS0 + (uint64_t)idx * MS);
    bf_header h = hdr_of(d);
    bf_geometry geo;
    bf_geometry_compute(fb, s_, 128, &geo);
    h.block_index = (uint16_t)bf_test_rng_below(&rng, geo.block_count);
    h.data_shards = (uint16_t)bf_geometry_block_k(&geo, 128, h.block_index);
    h.recovery_shards = (uint16_t)bf_test_rng_below(&rng, 256u - h.data_shards);
    h.shard_index = (uint16_t)bf_test_rng_below(&rng, (uint32_t)h.data_shards + h.recovery_shards);
    hdr_put(d, &h);
    push_len(g, d, BF_HEADER_BYTES + s_);
    assert_within_budget(g, budget);
  }
  s = stats(g);
  assert_true(s.rejected[BF_ACCEPT] > 300);      /* many claims got memory... */
  assert_true(s.rejected[BF_REJECT_MEMORY] > 0); /* ...until the budget said no */
  assert_true(s.frames_evicted > 0);
  rig_del(g);

  /* an older AU cannot push out newer ones */
  g = rig_new(&cfg);
  g->forged = 1;
  small_au(g, 10, PTS0);
  for (uint32_t i = 20; i < 23; i++) {
    forge(d, i, 1u << 20, 1024, 128, PTS0);
    assert_int_equal(push_len(g, d, sizeof d), BF_ACCEPT);
  }
  forge(d, 15, 1u << 20, 1024, 128, PTS0);
  assert_int_equal(push_len(g, d, sizeof d), BF_REJECT_MEMORY);
  assert_true(stats(g).frames_evicted == 0);
  forge(d, 15, 1000, 1024, 128, PTS0); /* a small one still fits */
  assert_int_equal(push_len(g, d, sizeof d), BF_ACCEPT);
  forge(d, 23, 1u << 20, 1024, 128, PTS0); /* a newer one evicts the oldest: 20 */
  assert_int_equal(push_len(g, d, sizeof d), BF_ACCEPT);
  s = stats(g);
  assert_true(s.frames_evicted == 1);
  /* 20's loss waits for the unseen 11..14 and 16..19 to settle */
  assert_int_equal(g->nloss, 0);
  bf_reassembler_reset(g->r);
  drain(g);
  assert_int_equal(g->nloss, 2);
  assert_int_equal(g->loss_first[0], 11);
  assert_int_equal(g->loss_last[0], 14);
  assert_int_equal(g->loss_first[1], 16);
  assert_int_equal(g->loss_last[1], 23);
  assert_true(stats(g).memory_in_flight == 0);
  assert_within_budget(g, budget);
  rig_del(g);
}

/* Delivered frames count until released: with the budget full of unreleased
 * frames, a new AU is refused; releasing one makes room. */
static void test_unreleased_frames(void **state) {
  (void)state;
  bf_reassembler_config cfg;
  default_cfg(&cfg);
  rig *g = rig_new(&cfg);
  g->keep = 1;
  au_pkts a[4];
  for (uint32_t i = 0; i < 4; i++)
    gen(&a[i], i, 1u << 20, PTS0, 0, 8192, 128, 0);
  for (uint32_t i = 0; i < 3; i++)
    push_all(g, &a[i]);
  assert_int_equal(g->nframes, 3);
  assert_int_equal(g->nheld, 3);
  assert_int_equal(push(g, &a[3], 0), BF_REJECT_MEMORY);
  assert_true(stats(g).frames_evicted == 0);
  bf_reassembler_release(g->r, &g->held[0]);
  g->held[0] = g->held[--g->nheld];
  push_all(g, &a[3]);
  assert_int_equal(g->nframes, 4);
  bf_reassembler_stats s = stats(g);
  assert_true(s.frames_completed == 4 && s.frames_lost == 0);
  assert_true(s.rejected[BF_REJECT_MEMORY] == 1);
  release_held(g);
  assert_true(stats(g).memory_in_flight == 0);
  for (uint32_t i = 0; i < 4; i++)
    gen_free(&a[i]);
  rig_del(g);
}

/* A 1080p-like stream with some loss: once warm, the pools serve every buffer
 * and push() allocates nothing (pool_allocs and memory_pooled stay flat). */
static void test_pool_no_growth(void **state) {
  (void)state;
  bf_reassembler_config cfg;
  bf_reassembler_config_default(&cfg);
  cfg.limits.max_frame_bytes = 1u << 20;
  rig *g = rig_new(&cfg);
  bf_packetizer_config pc;
  bf_packetizer_config_default(&pc);
  pc.max_frame_bytes = 1u << 20;
  bf_packetizer *p = NULL;
  assert_int_equal(bf_packetizer_new(&pc, &p), 0);
  bf_test_rng rng;
  bf_test_rng_seed(&rng, 5);
  uint8_t *au = malloc(1u << 20);
  uint8_t dg[BF_HEADER_BYTES + 1408];
  const uint32_t warm = 300, total = 1000;
  uint64_t allocs = 0;
  size_t pooled = 0;
  for (uint32_t n = 0; n < total; n++) {
    uint32_t len = n % 120 == 0 ? 250000 + bf_test_rng_below(&rng, 1000)
                                : 30000 + bf_test_rng_below(&rng, 20000);
    for (uint32_t i = 0; i < len; i++)
      au[i] = au_byte(n, i);
    assert_int_equal(bf_packetizer_begin(p, au, len, PTS0 + n * 16666667ull, 0), 0);
    uint32_t drop = n % 3 == 0 ? bf_test_rng_below(&rng, 20) : UINT32_MAX;
    bf_dgram d[16];
    uint32_t k = 0;
    int rc;
    while ((rc = bf_packetizer_next(p, d, 16)) > 0) {
      for (int j = 0; j < rc; j++, k++) {
        if (k == drop) continue;
        memcpy(dg, d[j].head, BF_HEADER_BYTES);
        memcpy(dg + BF_HEADER_BYTES, d[j].body, d[j].body_len);
        push_len(g, dg, sizeof dg);
      }
    }
    assert_int_equal(rc, 0);
    if (n + 1 == warm) {
      bf_reassembler_stats s = stats(g);
      allocs = s.pool_allocs;
      pooled = s.memory_pooled;
    }
  }
  bf_reassembler_stats s = stats(g);
  assert_true(s.frames_completed == total);
  assert_true(s.shards_recovered > 100);
  assert_true(s.pool_allocs == allocs);
  assert_true(s.memory_pooled == pooled);
  free(au);
  bf_packetizer_del(&p);
  rig_del(g);
}

/* frame_index wraps: half-range comparisons, loss ranges across the wrap. */
static void test_index_wrap(void **state) {
  (void)state;
  bf_reassembler_config cfg;
  default_cfg(&cfg);
  rig *g = rig_new(&cfg);
  small_au(g, UINT32_MAX - 3, PTS0);
  small_au(g, UINT32_MAX - 2, PTS0);
  small_au(g, 1, PTS0 + 1 * MS);
  small_au(g, 2, PTS0 + 2 * MS);
  assert_int_equal(g->nframes, 4);
  assert_int_equal(g->frames[2].index, 1);
  /* newer than UINT32_MAX - 2 by 3: AU 0 is not stale */
  au_pkts a;
  gen(&a, 0, 3000, PTS0, 0, 1024, 128, 0);
  assert_int_equal(push(g, &a, 0), BF_ACCEPT);
  bf_reassembler_reset(g->r);
  drain(g);
  assert_int_equal(g->nloss, 1);
  assert_int_equal(g->loss_first[0], UINT32_MAX - 1);
  assert_int_equal(g->loss_last[0], 0);
  assert_true(stats(g).frames_lost == 3);
  gen_free(&a);
  /* count rule across the wrap */
  small_au(g, UINT32_MAX - 10, PTS0);
  small_au(g, 50, PTS0); /* 61 ahead: nothing is 64 behind yet */
  assert_int_equal(g->nloss, 1);
  small_au(g, 58, PTS0); /* UINT32_MAX - 9 .. - 5 are >= 64 behind */
  assert_int_equal(g->nloss, 2);
  assert_int_equal(g->loss_first[1], UINT32_MAX - 9);
  assert_int_equal(g->loss_last[1], UINT32_MAX - 5);
  gen(&a, UINT32_MAX - 10, 600, PTS0, 0, 512, 16, 0);
  assert_int_equal(push(g, &a, 0), BF_REJECT_STALE);
  gen_free(&a);
  rig_del(g);
}

/* Reset abandons everything as loss, frees the AU memory, forgets the
 * window: the same indices are accepted afresh. */
static void test_reset(void **state) {
  (void)state;
  bf_reassembler_config cfg;
  default_cfg(&cfg);
  rig *g = rig_new(&cfg);
  au_pkts a0, a2;
  gen(&a0, 0, 3000, PTS0, 0, 1024, 128, 50);
  gen(&a2, 2, 3000, PTS0, 0, 1024, 128, 50);
  push(g, &a0, 0);
  push(g, &a2, 1);
  assert_true(stats(g).memory_in_flight > 0);
  bf_reassembler_reset(g->r);
  drain(g);
  assert_int_equal(g->nloss, 1);
  assert_int_equal(g->loss_first[0], 0);
  assert_int_equal(g->loss_last[0], 2);
  bf_reassembler_stats s = stats(g);
  assert_true(s.frames_lost == 3 && s.memory_in_flight == 0);
  bf_reassembler_reset(g->r); /* nothing left: no event */
  drain(g);
  assert_int_equal(g->nloss, 1);
  push_all(g, &a0);
  push_all(g, &a2);
  assert_int_equal(g->nframes, 2);
  assert_int_equal(g->frames[0].index, 0);
  assert_int_equal(g->frames[1].index, 2);
  gen_free(&a0);
  gen_free(&a2);
  rig_del(g);
}

/* At stream start an older AU may arrive after a newer one: it joins (the
 * stream reaches further back) and the gap is reported; nothing before the
 * oldest AU seen is. */
static void test_stream_start(void **state) {
  (void)state;
  bf_reassembler_config cfg;
  default_cfg(&cfg);
  rig *g = rig_new(&cfg);
  small_au(g, 51, PTS0 + 10 * MS);
  small_au(g, 50, PTS0);
  assert_int_equal(g->nframes, 2);
  au_pkts a;
  gen(&a, 47, 3000, PTS0, 0, 1024, 128, 0);
  assert_int_equal(push(g, &a, 0), BF_ACCEPT);
  push(g, &a, 1);
  push(g, &a, 2);
  assert_int_equal(g->nframes, 3);
  assert_int_equal(g->frames[2].index, 47);
  assert_int_equal(g->nloss, 0);
  bf_reassembler_reset(g->r);
  drain(g);
  assert_int_equal(g->nloss, 1);
  assert_int_equal(g->loss_first[0], 48);
  assert_int_equal(g->loss_last[0], 49);
  gen_free(&a);
  rig_del(g);
}

/* The event queue: frames are never dropped; loss events beyond the bound
 * are counted, and frames_lost still counts every lost index. */
static void test_event_queue_bound(void **state) {
  (void)state;
  bf_reassembler_config cfg;
  bf_reassembler_config_default(&cfg);
  cfg.limits.max_frame_bytes = 64u << 10;
  cfg.abandon_frames = 1024;
  cfg.memory_budget = 16u << 20;
  bf_reassembler *r = NULL;
  assert_int_equal(bf_reassembler_new(&cfg, &r), 0);
  uint8_t d[BF_HEADER_BYTES + 512];
  for (uint32_t i = 0; i <= 1000; i += 2) {
    forge(d, i, 100, 512, 128, PTS0);
    assert_int_equal(bf_reassembler_push(r, d, sizeof d, i), BF_ACCEPT);
  }
  forge(d, 2000, 100, 512, 128, PTS0); /* odd 1..975 lost: 488 ranges */
  assert_int_equal(bf_reassembler_push(r, d, sizeof d, 3000), BF_ACCEPT);
  uint32_t frames = 0, losses = 0;
  uint64_t lost = 0;
  bf_event ev;
  while (bf_reassembler_poll(r, &ev)) {
    if (ev.type == BF_EVENT_FRAME) {
      frames++;
      bf_reassembler_release(r, &ev.u.frame);
    } else if (ev.type == BF_EVENT_LOSS) {
      losses++;
      lost += ev.u.loss.last - ev.u.loss.first + 1u;
    }
  }
  bf_reassembler_stats s;
  bf_reassembler_stats_get(r, &s);
  assert_int_equal(frames, 502);
  assert_int_equal(losses, 256);
  assert_true(lost == 256);
  assert_true(s.events_dropped == 488 - 256);
  assert_true(s.frames_lost == 488);
  assert_true(s.memory_in_flight == 0);
  /* nodes were returned: events flow again */
  bf_reassembler_reset(r);
  assert_int_equal(bf_reassembler_poll(r, &ev), 1);
  assert_int_equal(ev.type, BF_EVENT_LOSS);
  assert_int_equal(ev.u.loss.first, 977); /* then 979, ..., 999, 1001..1999 */
  assert_int_equal(ev.u.loss.last, 977);
  bf_reassembler_del(&r);
}

/* Frames still queued or unreleased when the reassembler is deleted are
 * freed with it (ASan's leak check holds this). */
static void test_del_with_frames(void **state) {
  (void)state;
  bf_reassembler_config cfg;
  default_cfg(&cfg);
  bf_reassembler *r = NULL;
  assert_int_equal(bf_reassembler_new(&cfg, &r), 0);
  uint8_t d[BF_HEADER_BYTES + 512];
  forge(d, 1, 100, 512, 128, PTS0);
  assert_int_equal(bf_reassembler_push(r, d, sizeof d, 1), BF_ACCEPT);
  forge(d, 2, 100, 512, 128, PTS0);
  assert_int_equal(bf_reassembler_push(r, d, sizeof d, 2), BF_ACCEPT);
  forge(d, 3, 5000, 512, 128, PTS0);
  assert_int_equal(bf_reassembler_push(r, d, sizeof d, 3), BF_ACCEPT);
  bf_event ev;
  assert_int_equal(bf_reassembler_poll(r, &ev), 1); /* held, never released */
  assert_int_equal(ev.type, BF_EVENT_FRAME);
  bf_reassembler_del(&r);
  assert_null(r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_config),
      cmocka_unit_test(test_lossless),
      cmocka_unit_test(test_empty_au),
      cmocka_unit_test(test_fec_rebuild),
      cmocka_unit_test(test_probe_and_garbage),
      cmocka_unit_test(test_pins),
      cmocka_unit_test(test_duplicates),
      cmocka_unit_test(test_late),
      cmocka_unit_test(test_stale_and_remembered),
      cmocka_unit_test(test_abandon_by_age),
      cmocka_unit_test(test_loss_flags),
      cmocka_unit_test(test_unseen_lost_by_age),
      cmocka_unit_test(test_loss_ranges),
      cmocka_unit_test(test_forged_jump),
      cmocka_unit_test(test_block_short),
      cmocka_unit_test(test_memory_hostile),
      cmocka_unit_test(test_unreleased_frames),
      cmocka_unit_test(test_pool_no_growth),
      cmocka_unit_test(test_index_wrap),
      cmocka_unit_test(test_reset),
      cmocka_unit_test(test_stream_start),
      cmocka_unit_test(test_event_queue_bound),
      cmocka_unit_test(test_del_with_frames),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
