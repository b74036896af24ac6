/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Packetizer -> lossy, duplicating, reordering channel -> reassembler, with
 * random AU sizes (0 bytes to 4 MiB, most small), random FEC percentages and
 * random loss, seeded (BF_TEST_SEED replays a failure).
 *
 * Asserts, for every AU: it is delivered if and only if every one of its
 * blocks kept at least k distinct shards (computed from what the channel
 * dropped), a delivered AU is bit-exact with its metadata, and every index
 * ends exactly once, as a frame or inside a loss range. frame_index and
 * stream_seq start near UINT32_MAX so both wrap.
 *
 * The channel bounds reordering: packet number x (in send order) arrives
 * with key x + jitter, jitter < JITTER, so no AU arrives more than JITTER - 1
 * AUs after a newer one started; with PTS_STEP * JITTER < 120 ms the
 * reassembler never gives up on an AU that can still complete, which is what
 * makes "if and only if" exact. The first AU and the last ones are never
 * dropped: loss before the first AU seen or after the newest is invisible to
 * any receiver.
 */
#include "testutil.h"

#include <bildfunk/packetizer.h>
#include <bildfunk/reassembler.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PTS0 1700000000000000000ull
#define PTS_STEP 4000000ull /* 4 ms: 24 AUs of jitter = 96 ms < 120 ms */
#define JITTER 24u
#define RING 256u /* AU records; an AU is settled long before 256 newer ones */

/* ---- the channel: a min-heap of packets by (arrival key, sequence) ---- */

typedef struct pkt {
  uint64_t key, seq;
  uint8_t *d;
  uint32_t len;
} pkt;

typedef struct heap {
  pkt *v;
  size_t n, cap;
  uint64_t seq;
} heap;

static int pkt_less(const pkt *a, const pkt *b) {
  return a->key < b->key || (a->key == b->key && a->seq < b->seq);
}

static void heap_push(heap *h, uint64_t key, const uint8_t *head, const uint8_t *body,
                      uint32_t body_len) {
  if (h->n == h->cap) {
    h->cap = h->cap ? h->cap * 2 : 1024;
    h->v = realloc(h->v, h->cap * sizeof *h->v);
    assert_non_null(h->v);
  }
  pkt p = {key, h->seq++, malloc(BF_HEADER_BYTES + body_len), BF_HEADER_BYTES + body_len};
  assert_non_null(p.d);
  memcpy(p.d, head, BF_HEADER_BYTES);
  memcpy(p.d + BF_HEADER_BYTES, body, body_len);
  size_t i = h->n++;
  while (i > 0) {
    size_t up = (i - 1) / 2;
    if (!pkt_less(&p, &h->v[up])) break;
    h->v[i] = h->v[up];
    i = up;
  }
  h->v[i] = p;
}

static pkt heap_pop(heap *h) {
  pkt top = h->v[0];
  pkt last = h->v[--h->n];
  size_t i = 0;
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= h->n) break;
    if (c + 1 < h->n && pkt_less(&h->v[c + 1], &h->v[c])) c++;
    if (!pkt_less(&h->v[c], &last)) break;
    h->v[i] = h->v[c];
    i = c;
  }
  if (h->n > 0) h->v[i] = last;
  return top;
}

/* ---- what was sent, and what became of it ---------------------------- */

typedef struct au_rec {
  int used;
  int fate; /* 0 pending, 1 delivered, 2 lost */
  int deliverable;
  uint32_t index;
  uint32_t len;
  uint32_t total_data;
  uint32_t user_flags;
  uint64_t pts;
  uint8_t *data;
} au_rec;

typedef struct run {
  bf_reassembler *r;
  au_rec rec[RING];
  uint64_t now;
  uint64_t delivered, lost, deliverable, sent;
  uint64_t recovered_in_frames;
} run;

static au_rec *rec_of(run *u, uint32_t idx) {
  au_rec *a = &u->rec[idx % RING];
  assert_true(a->used);
  assert_int_equal(a->index, idx);
  return a;
}

static void settle(au_rec *a, int fate) {
  assert_int_equal(a->fate, 0); /* each index ends exactly once */
  a->fate = fate;
  free(a->data);
  a->data = NULL;
}

static void drain(run *u) {
  bf_event ev;
  while (bf_reassembler_poll(u->r, &ev)) {
    if (ev.type == BF_EVENT_FRAME) {
      bf_frame *f = &ev.u.frame;
      au_rec *a = rec_of(u, f->frame_index);
      if (!a->deliverable) fail_msg("AU %u delivered but lost too much", f->frame_index);
      assert_int_equal(f->len, a->len);
      assert_true(f->pts_ns == a->pts);
      assert_int_equal(f->user_flags, a->user_flags);
      assert_int_equal(f->shards_received, a->total_data); /* exactly k per block */
      assert_true(f->first_arrival_ns <= f->last_arrival_ns);
      if (a->len) assert_memory_equal(f->data, a->data, a->len);
      u->recovered_in_frames += f->shards_recovered;
      settle(a, 1);
      u->delivered++;
      bf_reassembler_release(u->r, f);
    } else if (ev.type == BF_EVENT_LOSS) {
      uint32_t i = ev.u.loss.first;
      for (;;) {
        au_rec *a = rec_of(u, i);
        if (a->deliverable) fail_msg("AU %u reported lost but was deliverable", i);
        settle(a, 2);
        u->lost++;
        if (i == ev.u.loss.last) break;
        i++;
      }
    } else {
      assert_int_equal(ev.type, BF_EVENT_BLOCK_SHORT);
      au_rec *a = rec_of(u, ev.u.block.frame_index);
      assert_true(ev.u.block.have < ev.u.block.need);
      (void)a;
    }
  }
}

static void deliver_until(run *u, heap *h, uint64_t key_limit) {
  while (h->n > 0 && h->v[0].key < key_limit) {
    pkt p = heap_pop(h);
    u->now += 2000;
    bf_reassembler_push(u->r, p.d, p.len, u->now);
    free(p.d);
    drain(u);
  }
}

static uint32_t au_size(bf_test_rng *rng, uint32_t max_len) {
  uint32_t c = bf_test_rng_below(rng, 1000), len;
  if (c < 20)
    len = bf_test_rng_below(rng, 100); /* empty and tiny */
  else if (c < 700)
    len = 100 + bf_test_rng_below(rng, 20000);
  else if (c < 960)
    len = 20000 + bf_test_rng_below(rng, 280000);
  else if (c < 995)
    len = 300000 + bf_test_rng_below(rng, 1200000);
  else
    len = 1500000 + bf_test_rng_below(rng, (4u << 20) - 1500000 + 1);
  return len < max_len ? len : max_len;
}

typedef struct session {
  uint16_t s, k;
  uint32_t aus;
  uint32_t max_len;
  uint32_t first_index;
  uint32_t first_seq;
} session;

static void run_session(const session *ss, bf_test_rng *rng) {
  bf_reassembler_config rc;
  bf_reassembler_config_default(&rc);
  rc.limits.max_k = ss->k;
  rc.limits.max_frame_bytes = 4u << 20;
  /* generous: with this much loss dozens of doomed AUs wait out their 120 ms;
   * the budget itself is test_reassembler's business */
  rc.memory_budget = (size_t)64 << 20;
  bf_packetizer_config pc;
  bf_packetizer_config_default(&pc);
  pc.shard_bytes = ss->s;
  pc.max_k = ss->k;
  pc.max_frame_bytes = ss->max_len;
  pc.first_frame_index = ss->first_index;
  pc.first_stream_seq = ss->first_seq;

  run *u = calloc(1, sizeof *u);
  assert_non_null(u);
  assert_int_equal(bf_reassembler_new(&rc, &u->r), 0);
  bf_packetizer *p = NULL;
  assert_int_equal(bf_packetizer_new(&pc, &p), 0);
  heap h = {0};
  uint64_t pos = 0;
  uint32_t *kept = NULL, *need = NULL;
  size_t kept_cap = 0;
  static const uint32_t pcts[] = {0, 5, 10, 20, 50};
  static const uint32_t drop_ppm[] = {0, 0, 0, 0, 10000, 10000, 10000, 50000, 50000, 150000};

  for (uint32_t n = 0; n < ss->aus; n++) {
    uint32_t len = au_size(rng, ss->max_len);
    uint8_t *au = malloc(len ? len : 1);
    assert_non_null(au);
    bf_test_rng_fill(rng, au, len);
    uint32_t pct = pcts[bf_test_rng_below(rng, 5)];
    uint32_t flags = (uint32_t)bf_test_rng_next(rng) & BF_AU_KNOWN_FLAGS;
    uint64_t pts = PTS0 + n * PTS_STEP;
    assert_int_equal(bf_packetizer_set_fec_percent(p, pct), 0);
    assert_int_equal(bf_packetizer_begin(p, au, len, pts, flags), 0);
    bf_packetizer_au_info info;
    bf_packetizer_au_info_get(p, &info);
    assert_int_equal(info.frame_index, ss->first_index + n);

    int clean = n == 0 || n + 3 >= ss->aus;
    uint32_t ppm = clean ? 0 : drop_ppm[bf_test_rng_below(rng, 10)];
    if (!clean && bf_test_rng_below(rng, 100) < 2) ppm = 1000000; /* the whole AU */

    au_rec *a = &u->rec[info.frame_index % RING];
    if (a->used) assert_int_not_equal(a->fate, 0); /* settled long ago */
    memset(a, 0, sizeof *a);
    a->used = 1;
    a->index = info.frame_index;
    a->len = len;
    a->pts = pts;
    a->user_flags = flags;
    a->total_data = info.data_packets;
    a->data = au; /* kept until settled */

    uint32_t blocks = 0;
    bf_dgram d[32];
    int got;
    while ((got = bf_packetizer_next(p, d, 32)) > 0) {
      for (int j = 0; j < got; j++, pos++) {
        bf_header hd;
        bf_header_decode(d[j].head, &hd);
        if (blocks == 0) {
          blocks = hd.block_count;
          if (kept_cap < blocks) {
            kept_cap = blocks;
            kept = realloc(kept, kept_cap * sizeof *kept);
            need = realloc(need, kept_cap * sizeof *need);
            assert_true(kept && need);
          }
          memset(kept, 0, blocks * sizeof *kept);
        }
        need[hd.block_index] = hd.data_shards;
        if (bf_test_rng_below(rng, 1000000) < ppm) continue; /* dropped */
        kept[hd.block_index]++;
        uint32_t jit = bf_test_rng_below(rng, 100) < 15 ? JITTER : 4;
        heap_push(&h, pos + bf_test_rng_below(rng, jit), d[j].head, d[j].body,
                  (uint32_t)d[j].body_len);
        if (bf_test_rng_below(rng, 100) == 0) /* duplicated on the way */
          heap_push(&h, pos + bf_test_rng_below(rng, JITTER), d[j].head, d[j].body,
                    (uint32_t)d[j].body_len);
      }
    }
    assert_int_equal(got, 0);
    a->deliverable = 1;
    for (uint32_t b = 0; b < blocks; b++)
      if (kept[b] < need[b]) a->deliverable = 0;
    u->deliverable += (uint64_t)a->deliverable;
    u->sent++;
    /* every packet still to come has key >= pos */
    deliver_until(u, &h, pos);
  }
  deliver_until(u, &h, UINT64_MAX);
  bf_reassembler_reset(u->r); /* settles whatever still waits */
  drain(u);

  for (uint32_t i = 0; i < RING; i++)
    if (u->rec[i].used) assert_int_not_equal(u->rec[i].fate, 0);
  assert_true(u->delivered + u->lost == u->sent);
  assert_true(u->delivered == u->deliverable);
  bf_reassembler_stats st;
  bf_reassembler_stats_get(u->r, &st);
  uint64_t sum = 0;
  for (int i = 0; i < BF_REJECT_COUNT_; i++)
    sum += st.rejected[i];
  assert_true(sum == st.packets);
  assert_true(st.frames_completed == u->delivered);
  assert_true(st.frames_lost == u->lost);
  assert_true(st.events_dropped == 0);
  assert_true(st.frames_evicted == 0 && st.rejected[BF_REJECT_MEMORY] == 0);
  assert_true(st.rejected[BF_REJECT_PIN] == 0);
  assert_true(st.late_shards <= st.shards_recovered);
  assert_true(u->recovered_in_frames <= st.shards_recovered);
  assert_true(st.memory_in_flight == 0);
  assert_true(st.memory_peak <= rc.memory_budget);
  /* the mix must actually have exercised FEC and loss */
  assert_true(st.shards_recovered > 0);
  assert_true(u->lost > 0);
  fprintf(stderr,
          "# S=%u K=%u: %llu AUs, %llu delivered, %llu lost, %llu packets, %llu rebuilt, "
          "%llu late, %llu dup, %llu stale, peak %zu KiB\n",
          ss->s, ss->k, (unsigned long long)u->sent, (unsigned long long)u->delivered,
          (unsigned long long)u->lost, (unsigned long long)st.packets,
          (unsigned long long)st.shards_recovered, (unsigned long long)st.late_shards,
          (unsigned long long)st.rejected[BF_REJECT_DUPLICATE],
          (unsigned long long)st.rejected[BF_REJECT_STALE], st.memory_peak >> 10);

  for (uint32_t i = 0; i < RING; i++)
    free(u->rec[i].data);
  free(h.v);
  free(kept);
  free(need);
  bf_packetizer_del(&p);
  bf_reassembler_del(&u->r);
  free(u);
}

static void test_roundtrip_default_shards(void **state) {
  (void)state;
  bf_test_rng rng;
  bf_test_rng_seed(&rng, 20240601);
  session s = {1408, 128, 1500, 4u << 20, UINT32_MAX - 700, UINT32_MAX - 5000};
  run_session(&s, &rng);
}

/* Small shards and blocks: many blocks per AU, the tail block's own k and m. */
static void test_roundtrip_small_blocks(void **state) {
  (void)state;
  bf_test_rng rng;
  bf_test_rng_seed(&rng, 777);
  session s = {512, 16, 800, 1u << 20, UINT32_MAX - 300, 100};
  run_session(&s, &rng);
}

/* Jumbo shards, K = 253 (k + m close to 255 at 50 % FEC is clamped). */
static void test_roundtrip_jumbo(void **state) {
  (void)state;
  bf_test_rng rng;
  bf_test_rng_seed(&rng, 4242);
  session s = {8908, 253, 300, 4u << 20, 5, UINT32_MAX};
  run_session(&s, &rng);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_roundtrip_default_shards),
      cmocka_unit_test(test_roundtrip_small_blocks),
      cmocka_unit_test(test_roundtrip_jumbo),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
