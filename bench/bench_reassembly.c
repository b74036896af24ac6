/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * bildfunk-bench reassembly: reassembler cost per packet on a 1080p-like
 * stream: 60 fps, ~40 KB P-frames, ~250 KB keyframes every 2 s, S = 1408,
 * K = 128, 10 % FEC. Every packet is pre-generated (packetizer, random AU
 * bytes) before any clock is read; the timed loop is push + poll + release,
 * exactly what a receive thread does.
 *
 * Two runs on the same packets: lossless (every data and parity packet is
 * fed, as on the wire, so parity of complete blocks is part of the cost) and
 * with random loss (default 5 %). The FEC share of the lossy run is measured
 * by replaying the very same bf_fec_reconstruct calls (the erasure pattern of
 * each rebuilt block, derived from the drops and data-first wire order) on a
 * fresh coder, the block's shards freshly copied into one buffer as they sit
 * in the reassembler (cache-warm), only the call timed.
 */
#include "bench.h"

#include <bildfunk/fec.h>
#include <bildfunk/packetizer.h>
#include <bildfunk/reassembler.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define S 1408u
#define KMAX 128u
#define FEC_PCT 10u
#define FPS 60u
#define P_BYTES 40000u
#define I_BYTES 250000u
#define GOP 120u
#define DLEN (BF_HEADER_BYTES + S)

typedef struct stream {
  uint8_t *pk; /* npk datagrams of DLEN bytes, wire order, AU after AU */
  uint32_t npk;
  uint32_t nframes;
  uint32_t *first; /* first packet of each AU; first[nframes] = npk */
} stream;

static uint64_t rng_next(uint64_t *s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static int make_stream(stream *st, uint32_t nframes, uint64_t seed) {
  bf_packetizer_config pc;
  bf_packetizer_config_default(&pc);
  pc.shard_bytes = S;
  pc.max_k = KMAX;
  pc.fec_percent = FEC_PCT;
  pc.max_frame_bytes = 1u << 20;
  bf_packetizer *p = NULL;
  int rc = bf_packetizer_new(&pc, &p);
  if (rc) return rc;
  uint8_t *au = malloc(pc.max_frame_bytes);
  size_t cap = 4096;
  st->pk = malloc(cap * DLEN);
  st->first = malloc((nframes + 1u) * sizeof *st->first);
  st->npk = 0;
  st->nframes = nframes;
  if (!au || !st->pk || !st->first) return -ENOMEM;
  for (uint32_t n = 0; n < nframes; n++) {
    uint32_t base = n % GOP == 0 ? I_BYTES : P_BYTES;
    uint32_t len = base - base / 10 + (uint32_t)(rng_next(&seed) % (base / 5)); /* +-10 % */
    for (uint32_t i = 0; i < len; i += 8) {
      uint64_t v = rng_next(&seed);
      memcpy(au + i, &v, len - i < 8 ? len - i : 8);
    }
    rc = bf_packetizer_begin(p, au, len, 1700000000000000000ull + n * (1000000000ull / FPS),
                             n % GOP == 0 ? BF_AU_KEYFRAME : 0);
    if (rc) return rc;
    st->first[n] = st->npk;
    bf_dgram d[64];
    int got;
    while ((got = bf_packetizer_next(p, d, 64)) > 0) {
      if (st->npk + (uint32_t)got > cap) {
        cap *= 2;
        uint8_t *np = realloc(st->pk, cap * DLEN);
        if (!np) return -ENOMEM;
        st->pk = np;
      }
      for (int j = 0; j < got; j++) {
        uint8_t *o = st->pk + (size_t)st->npk++ * DLEN;
        memcpy(o, d[j].head, BF_HEADER_BYTES);
        memcpy(o + BF_HEADER_BYTES, d[j].body, S);
      }
    }
    if (got < 0) return got;
  }
  st->first[nframes] = st->npk;
  free(au);
  bf_packetizer_del(&p);
  return 0;
}

typedef struct result {
  double ns_per_packet; /* median over reps */
  double ns_per_packet_min;
  uint32_t packets;
  bf_reassembler_stats stats; /* of one rep */
} result;

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Feeds the packets whose keep[] is set (all when keep is NULL) |reps|
 * times; one untimed pass first warms the pools. As on a real receive path,
 * packets are staged RECV_BATCH at a time into a small receive ring (what
 * recvmmsg fills, cache-warm; untimed) and only push + poll + release over
 * that ring is timed, so the figure is the reassembler's and not the cost of
 * streaming tens of MB of pre-generated packets from DRAM. */
#define RECV_BATCH 64u

static int run(const stream *st, const uint8_t *keep, int reps, result *res) {
  bf_reassembler_config cfg;
  bf_reassembler_config_default(&cfg);
  cfg.limits.max_frame_bytes = 1u << 20;
  bf_reassembler *r = NULL;
  int rc = bf_reassembler_new(&cfg, &r);
  if (rc) return rc;
  double *ns = malloc((size_t)reps * sizeof *ns);
  uint8_t *ring = malloc((size_t)RECV_BATCH * BF_RECV_BUF_BYTES);
  if (!ns || !ring) return -ENOMEM;
  uint32_t fed = 0;
  for (int rep = -1; rep < reps; rep++) {
    bf_reassembler_reset(r);
    bf_event ev;
    while (bf_reassembler_poll(r, &ev))
      if (ev.type == BF_EVENT_FRAME) bf_reassembler_release(r, &ev.u.frame);
    bf_reassembler_stats before;
    bf_reassembler_stats_get(r, &before);
    fed = 0;
    uint64_t arrival = 1000, busy = 0;
    uint32_t i = 0;
    while (i < st->npk) {
      uint32_t n = 0;
      for (; i < st->npk && n < RECV_BATCH; i++) {
        if (keep && !keep[i]) continue;
        memcpy(ring + (size_t)n++ * BF_RECV_BUF_BYTES, st->pk + (size_t)i * DLEN, DLEN);
      }
      uint64_t t0 = bf_bench_now_ns();
      for (uint32_t j = 0; j < n; j++) {
        bf_reassembler_push(r, ring + (size_t)j * BF_RECV_BUF_BYTES, DLEN, arrival += 5000);
        while (bf_reassembler_poll(r, &ev))
          if (ev.type == BF_EVENT_FRAME) bf_reassembler_release(r, &ev.u.frame);
      }
      busy += bf_bench_now_ns() - t0;
      fed += n;
    }
    if (rep >= 0) ns[rep] = (double)busy / fed;
    bf_reassembler_stats after;
    bf_reassembler_stats_get(r, &after);
    res->stats = after;
    res->stats.frames_completed -= before.frames_completed;
    res->stats.frames_lost -= before.frames_lost;
    res->stats.shards_recovered -= before.shards_recovered;
    res->stats.late_shards -= before.late_shards;
    res->stats.blocks_short -= before.blocks_short;
  }
  qsort(ns, (size_t)reps, sizeof *ns, cmp_double);
  res->ns_per_packet = ns[reps / 2];
  res->ns_per_packet_min = ns[0];
  res->packets = fed;
  free(ns);
  free(ring);
  bf_reassembler_del(&r);
  return 0;
}

/* Replays the FEC rebuilds of the lossy run: per block, in data-first wire
 * order, the reassembler rebuilds when the k-th kept shard arrives, with
 * every kept data shard and the first kept parity shards present. Returns
 * the best of |reps| passes in ns, and the number of blocks rebuilt. */
static int fec_replay(const stream *st, const uint8_t *keep, int reps, double *best_ns,
                      uint32_t *blocks_rebuilt) {
  bf_fec *fec = NULL;
  int rc = bf_fec_new(&fec);
  if (rc) return rc;
  uint8_t *blk = malloc((size_t)BF_MAX_BLOCK_SHARDS * S);
  if (!blk) return -ENOMEM;
  *best_ns = 0;
  for (int rep = -1; rep < reps; rep++) {
    uint64_t total = 0;
    uint32_t rebuilt = 0;
    for (uint32_t f = 0; f < st->nframes; f++) {
      uint32_t a = st->first[f], e = st->first[f + 1];
      bf_header h;
      bf_header_decode(st->pk + (size_t)a * DLEN, &h);
      for (uint32_t b = 0; b < h.block_count; b++) {
        uint8_t *sh[BF_MAX_BLOCK_SHARDS];
        uint8_t present[BF_MAX_BLOCK_SHARDS];
        unsigned k = 0, m = 0, have = 0, data_have = 0;
        memset(present, 0, sizeof present);
        /* data shards, then parity, as on the wire */
        for (int pass = 0; pass < 2; pass++) {
          for (uint32_t i = a; i < e; i++) {
            uint8_t *d = st->pk + (size_t)i * DLEN;
            bf_header_decode(d, &h);
            if (h.block_index != b) continue;
            k = h.data_shards;
            m = h.recovery_shards;
            int is_data = h.shard_index < k;
            if (is_data != (pass == 0)) continue;
            sh[h.shard_index] = blk + (size_t)h.shard_index * S;
            if (keep[i] && have < k) {
              memcpy(sh[h.shard_index], d + BF_HEADER_BYTES, S); /* as in the AU buffer */
              present[h.shard_index] = 1;
              have++;
              data_have += (unsigned)is_data;
            }
          }
        }
        if (have < k || data_have == k) continue; /* lost, or nothing to rebuild */
        uint64_t t0 = bf_bench_now_ns();
        rc = bf_fec_reconstruct(fec, k, m, S, sh, present);
        total += bf_bench_now_ns() - t0;
        if (rc < 0) return rc;
        rebuilt++;
      }
    }
    if (rep >= 0 && (*best_ns == 0 || (double)total < *best_ns)) *best_ns = (double)total;
    *blocks_rebuilt = rebuilt;
  }
  free(blk);
  bf_fec_del(&fec);
  return 0;
}

int bf_bench_reassembly(int argc, char **argv) {
  uint32_t frames = 1200; /* 20 s of stream */
  int reps = 5;
  double loss_pct = 5.0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      printf("usage: bildfunk-bench reassembly [--frames N] [--reps R] [--loss PCT]\n"
             "  1080p-like stream (40 KB P, 250 KB I every 2 s, 60 fps, S=1408, 10 %% FEC);\n"
             "  ns per packet pushed (push + poll + release), lossless and lossy.\n");
      return 0;
    }
    if (!strcmp(argv[i], "--frames") && i + 1 < argc) {
      frames = (uint32_t)strtoul(argv[++i], NULL, 10);
    } else if (!strcmp(argv[i], "--reps") && i + 1 < argc) {
      reps = atoi(argv[++i]);
    } else if (!strcmp(argv[i], "--loss") && i + 1 < argc) {
      loss_pct = strtod(argv[++i], NULL);
    } else {
      fprintf(stderr, "bench reassembly: unknown option '%s'\n", argv[i]);
      return 2;
    }
  }
  if (frames < 1 || frames > 100000 || reps < 1 || reps > 100 || !(loss_pct >= 0) ||
      loss_pct > 50) {
    fprintf(stderr, "bench reassembly: frames 1..100000, reps 1..100, loss 0..50\n");
    return 2;
  }
  stream st;
  int rc = make_stream(&st, frames, 42);
  if (rc) {
    fprintf(stderr, "bench reassembly: %s\n", bf_strerror(rc));
    return 1;
  }
  uint8_t *keep = malloc(st.npk);
  if (!keep) return 1;
  uint64_t seed = 7;
  uint64_t drop_below = (uint64_t)(loss_pct / 100.0 * 18446744073709551615.0);
  for (uint32_t i = 0; i < st.npk; i++)
    keep[i] = rng_next(&seed) >= drop_below;

  result clean, lossy;
  double fec_ns = 0;
  uint32_t rebuilt = 0;
  if ((rc = run(&st, NULL, reps, &clean)) || (rc = run(&st, keep, reps, &lossy)) ||
      (rc = fec_replay(&st, keep, reps, &fec_ns, &rebuilt))) {
    fprintf(stderr, "bench reassembly: %s\n", bf_strerror(rc));
    return 1;
  }
  if (clean.stats.frames_completed != frames) {
    fprintf(stderr, "bench reassembly: lossless run completed %llu of %u frames\n",
            (unsigned long long)clean.stats.frames_completed, frames);
    return 1;
  }
  double fec_per_pkt = fec_ns / lossy.packets;
  printf("{\"bench\": \"reassembly\", \"shard_bytes\": %u, \"max_k\": %u, \"fec_percent\": %u, "
         "\"fps\": %u, \"frames\": %u, \"reps\": %d,\n",
         S, KMAX, FEC_PCT, FPS, frames, reps);
  printf(" \"lossless\": {\"packets\": %u, \"ns_per_packet\": %.1f, \"ns_per_packet_min\": %.1f, "
         "\"frames_completed\": %llu},\n",
         clean.packets, clean.ns_per_packet, clean.ns_per_packet_min,
         (unsigned long long)clean.stats.frames_completed);
  printf(" \"lossy\": {\"loss_percent\": %.1f, \"packets\": %u, \"ns_per_packet\": %.1f, "
         "\"ns_per_packet_min\": %.1f, \"fec_ns_per_packet\": %.1f, \"fec_share\": %.2f, "
         "\"ns_per_packet_without_fec\": %.1f, \"blocks_rebuilt\": %u, \"shards_recovered\": %llu, "
         "\"frames_completed\": %llu, \"frames_lost\": %llu},\n ",
         loss_pct, lossy.packets, lossy.ns_per_packet, lossy.ns_per_packet_min, fec_per_pkt,
         lossy.ns_per_packet_min > 0 ? fec_per_pkt / lossy.ns_per_packet_min : 0.0,
         lossy.ns_per_packet_min - fec_per_pkt, rebuilt,
         (unsigned long long)lossy.stats.shards_recovered,
         (unsigned long long)lossy.stats.frames_completed,
         (unsigned long long)lossy.stats.frames_lost);
  bf_bench_print_machine(stdout);
  printf("}\n");
  free(keep);
  free(st.pk);
  free(st.first);
  return 0;
}
