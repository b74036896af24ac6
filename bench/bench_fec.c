/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * bildfunk-bench fec: Reed-Solomon encode throughput through bf_fec_encode
 * against raw ISA-L ec_encode_data on the same buffers (interleaved batches in
 * one run), and decode cost per block through bf_fec_reconstruct with warm and
 * cold table caches, beside the textbook k x k inversion for comparison.
 * Every decode path is checked bit-exact against the original data first.
 */
#include "bench.h"

#include <bildfunk/fec.h>

#include "fec_internal.h"

#include <isa-l/erasure_code.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SHARD_BYTES 1408u
#define BATCH 32u         /* operations between two clock reads */
#define COLD_PATTERNS 64u /* > BF__FEC_DEC_SLOTS: every decode misses */

typedef struct fec_shape {
  unsigned k, m;
} fec_shape;

typedef struct block {
  unsigned k, m;
  uint8_t *mem;  /* (k + m) shards of SHARD_BYTES */
  uint8_t *orig; /* pristine copy */
  uint8_t *sh[255];
  const uint8_t *data[255];
} block;

static int block_init(block *b, unsigned k, unsigned m, uint64_t seed) {
  const size_t bytes = (size_t)(k + m) * SHARD_BYTES;
  b->k = k;
  b->m = m;
  b->mem = aligned_alloc(64, bytes);
  b->orig = malloc(bytes);
  if (!b->mem || !b->orig) return -ENOMEM;
  for (size_t i = 0; i < (size_t)k * SHARD_BYTES; i++) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    b->mem[i] = (uint8_t)(seed >> 56);
  }
  for (unsigned s = 0; s < k + m; s++) {
    b->sh[s] = b->mem + (size_t)s * SHARD_BYTES;
    b->data[s] = b->sh[s];
  }
  return 0;
}

static void block_free(block *b) {
  free(b->mem);
  free(b->orig);
}

/* Data shards equal the pristine copy. */
static int data_ok(const block *b) {
  return memcmp(b->mem, b->orig, (size_t)b->k * SHARD_BYTES) == 0;
}

/* |present| with |e| data shards lost, all parity in. Variant 0 spreads the
 * losses evenly; other variants draw them from a PRNG seeded by |variant|. */
static void make_pattern(const block *b, unsigned e, unsigned variant, uint8_t *present) {
  memset(present, 1, b->k + b->m);
  if (variant == 0) {
    for (unsigned a = 0; a < e; a++)
      present[a * (b->k / e)] = 0;
    return;
  }
  uint64_t x = 0x9e3779b97f4a7c15ull * variant;
  for (unsigned a = 0; a < e;) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    const unsigned i = (unsigned)((x >> 33) % b->k);
    if (present[i]) {
      present[i] = 0;
      a++;
    }
  }
}

static void wipe(block *b, const uint8_t *present) {
  for (unsigned s = 0; s < b->k; s++)
    if (!present[s]) memset(b->sh[s], 0, SHARD_BYTES);
}

/* Textbook decode: invert the k x k matrix of the first k surviving rows of
 * [I; C], then ISA-L over the lost rows of the inverse. All work per block. */
static int textbook_decode(block *b, const uint8_t *gen, const uint8_t *present, uint8_t *full,
                           uint8_t *inv, uint8_t *dm, uint8_t *tbls) {
  const unsigned k = b->k, m = b->m;
  unsigned char *src[255], *dst[255];
  unsigned n = 0, e = 0;
  for (unsigned s = 0; s < k + m && n < k; s++) {
    if (!present[s]) continue;
    uint8_t *row = &full[n * k];
    if (s < k) {
      memset(row, 0, k);
      row[s] = 1;
    } else {
      memcpy(row, &gen[(s - k) * k], k);
    }
    src[n++] = b->sh[s];
  }
  if (n < k) return -EAGAIN;
  if (gf_invert_matrix(full, inv, (int)k) != 0) return -EINVAL;
  for (unsigned i = 0; i < k; i++) {
    if (present[i]) continue;
    memcpy(&dm[e * k], &inv[i * k], k);
    dst[e++] = b->sh[i];
  }
  ec_init_tables((int)k, (int)e, dm, tbls);
  ec_encode_data((int)SHARD_BYTES, (int)k, (int)e, tbls, src, dst);
  return (int)e;
}

/* Microseconds per call of bf_fec_reconstruct over |npat| patterns used in
 * turn, for at least |seconds|. */
static double time_reconstruct(bf_fec *fec, block *b, uint8_t *const *patterns, unsigned npat,
                               double seconds) {
  const uint64_t budget = (uint64_t)(seconds * 1e9);
  uint64_t ops = 0, t0 = bf_bench_now_ns(), t = t0;
  unsigned p = 0;
  while (t - t0 < budget) {
    for (unsigned i = 0; i < BATCH; i++) {
      if (bf_fec_reconstruct(fec, b->k, b->m, SHARD_BYTES, b->sh, patterns[p]) < 0) return -1;
      p = (p + 1) % npat;
    }
    ops += BATCH;
    t = bf_bench_now_ns();
  }
  return (double)(t - t0) / 1e3 / (double)ops;
}

typedef struct shape_result {
  double encode_gbps, isal_encode_gbps;
  double decode_us_e1, decode_us_em, decode_us_em_cold, textbook_us_em;
  uint64_t cold_misses, cold_calls, cold_allocs;
} shape_result;

static int run_shape(const fec_shape *shape, double seconds, shape_result *r) {
  const unsigned k = shape->k, m = shape->m, n = k + m;
  int rc = -ENOMEM;
  block b = {0};
  bf_fec *fec = NULL;
  uint8_t *gen = malloc((size_t)m * k), *tbls = malloc((size_t)32 * k * n);
  uint8_t *full = malloc((size_t)k * k), *inv = malloc((size_t)k * k);
  uint8_t *dm = malloc((size_t)m * k), *pat_mem = malloc((size_t)(COLD_PATTERNS + 2) * n);
  uint8_t *pats[COLD_PATTERNS + 2];
  if (!gen || !tbls || !full || !inv || !dm || !pat_mem) goto out;
  if ((rc = block_init(&b, k, m, 0x5eed0000u + k)) != 0) goto out;
  if ((rc = bf_fec_new(&fec)) != 0) goto out;

  /* Raw ISA-L tables for the same generator; both paths must agree. */
  bf_fec_matrix(k, m, gen);
  ec_init_tables((int)k, (int)m, gen, tbls);
  if ((rc = bf_fec_encode(fec, k, m, SHARD_BYTES, b.data, b.sh + k)) != 0) goto out;
  memcpy(b.orig, b.mem, (size_t)n * SHARD_BYTES);
  ec_encode_data((int)SHARD_BYTES, (int)k, (int)m, tbls, b.sh, b.sh + k);
  if (memcmp(b.mem, b.orig, (size_t)n * SHARD_BYTES) != 0) {
    fprintf(stderr, "bench fec: bf_fec_encode differs from ec_encode_data\n");
    rc = -EINVAL;
    goto out;
  }

  /* Encode: alternate batches of ours and raw ISA-L, swapping which goes
   * first every round, until each has had |seconds|. */
  uint64_t ours_ns = 0, raw_ns = 0, ours_ops = 0, raw_ops = 0;
  const uint64_t budget = (uint64_t)(seconds * 1e9);
  for (unsigned round = 0; ours_ns < budget || raw_ns < budget; round++) {
    for (unsigned half = 0; half < 2; half++) {
      const int ours = (round + half) % 2 == 0;
      const uint64_t t0 = bf_bench_now_ns();
      for (unsigned i = 0; i < BATCH; i++) {
        if (ours)
          (void)bf_fec_encode(fec, k, m, SHARD_BYTES, b.data, b.sh + k);
        else
          ec_encode_data((int)SHARD_BYTES, (int)k, (int)m, tbls, b.sh, b.sh + k);
      }
      const uint64_t dt = bf_bench_now_ns() - t0;
      if (ours) {
        ours_ns += dt;
        ours_ops += BATCH;
      } else {
        raw_ns += dt;
        raw_ops += BATCH;
      }
    }
  }
  const double bits = (double)k * SHARD_BYTES * 8.0;
  r->encode_gbps = bits * (double)ours_ops / (double)ours_ns;
  r->isal_encode_gbps = bits * (double)raw_ops / (double)raw_ns;

  /* Patterns: [0] one lost data shard, [1] m lost data shards, then
   * COLD_PATTERNS distinct m-loss patterns cycled to defeat the cache. */
  for (unsigned p = 0; p < COLD_PATTERNS + 2; p++)
    pats[p] = pat_mem + (size_t)p * n;
  make_pattern(&b, 1, 0, pats[0]);
  make_pattern(&b, m, 0, pats[1]);
  for (unsigned p = 0; p < COLD_PATTERNS; p++)
    make_pattern(&b, m, p + 1, pats[2 + p]);

  /* Correctness of every pattern and of the textbook path first. */
  for (unsigned p = 0; p < COLD_PATTERNS + 2; p++) {
    wipe(&b, pats[p]);
    const int got = bf_fec_reconstruct(fec, k, m, SHARD_BYTES, b.sh, pats[p]);
    if (got <= 0 || !data_ok(&b)) {
      fprintf(stderr, "bench fec: reconstruct failed (k=%u m=%u pattern %u: %d)\n", k, m, p, got);
      rc = -EINVAL;
      goto out;
    }
  }
  wipe(&b, pats[1]);
  if (textbook_decode(&b, gen, pats[1], full, inv, dm, tbls) != (int)m || !data_ok(&b)) {
    fprintf(stderr, "bench fec: textbook decode failed (k=%u m=%u)\n", k, m);
    rc = -EINVAL;
    goto out;
  }

  r->decode_us_e1 = time_reconstruct(fec, &b, &pats[0], 1, seconds);
  r->decode_us_em = time_reconstruct(fec, &b, &pats[1], 1, seconds);
  bf__fec_stats s0, s1;
  bf__fec_stats_get(fec, &s0);
  r->decode_us_em_cold = time_reconstruct(fec, &b, &pats[2], COLD_PATTERNS, seconds);
  bf__fec_stats_get(fec, &s1);
  r->cold_calls = s1.dec_hits + s1.dec_misses - s0.dec_hits - s0.dec_misses;
  r->cold_misses = s1.dec_misses - s0.dec_misses;
  r->cold_allocs = s1.allocs - s0.allocs;
  if (r->cold_misses != r->cold_calls) /* two patterns collided: the figure is too low */
    fprintf(stderr, "bench fec: warning: %llu of %llu cold decodes hit the cache\n",
            (unsigned long long)(r->cold_calls - r->cold_misses),
            (unsigned long long)r->cold_calls);
  if (r->decode_us_e1 < 0 || r->decode_us_em < 0 || r->decode_us_em_cold < 0) {
    rc = -EINVAL;
    goto out;
  }

  uint64_t ops = 0, t0 = bf_bench_now_ns(), t = t0;
  while (t - t0 < budget) {
    (void)textbook_decode(&b, gen, pats[1], full, inv, dm, tbls);
    ops++;
    t = bf_bench_now_ns();
  }
  r->textbook_us_em = (double)(t - t0) / 1e3 / (double)ops;
  /* The timed loops rebuilt the same shards from the same sources. */
  rc = data_ok(&b) ? 0 : -EINVAL;

out:
  bf_fec_del(&fec);
  block_free(&b);
  free(gen);
  free(tbls);
  free(full);
  free(inv);
  free(dm);
  free(pat_mem);
  return rc;
}

static void usage(FILE *out) {
  fprintf(out,
          "usage: bildfunk-bench fec [--seconds S]\n\n"
          "Reed-Solomon at %u-byte shards, k=32,m=8 and k=128,m=26:\n"
          "  encode_gbps       bf_fec_encode, tables cached (Gbit/s of data in)\n"
          "  isal_encode_gbps  raw ec_encode_data, same buffers, interleaved\n"
          "  decode_us_e1      bf_fec_reconstruct, 1 data shard lost, warm cache\n"
          "  decode_us_em      m data shards lost, warm cache (us per block)\n"
          "  decode_us_em_cold m lost, a new erasure pattern every call\n"
          "  textbook_us_em    m lost, k x k inversion + ISA-L per block\n\n"
          "  --seconds S   time per measurement (default 0.5)\n",
          SHARD_BYTES);
}

int bf_bench_fec(int argc, char **argv) {
  double seconds = 0.5;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      usage(stdout);
      return 0;
    }
    if (!strcmp(argv[i], "--seconds") && i + 1 < argc) {
      char *end;
      seconds = strtod(argv[++i], &end);
      if (*end || !(seconds > 0 && seconds <= 60)) {
        fprintf(stderr, "bench fec: --seconds wants a number in (0, 60]\n");
        return 2;
      }
      continue;
    }
    fprintf(stderr, "bench fec: unknown option '%s'\n", argv[i]);
    usage(stderr);
    return 2;
  }

  static const fec_shape shapes[] = {{32, 8}, {128, 26}};
  shape_result res[sizeof shapes / sizeof shapes[0]];
  for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
    int rc = run_shape(&shapes[s], seconds, &res[s]);
    if (rc) {
      fprintf(stderr, "bench fec: k=%u m=%u failed: %s\n", shapes[s].k, shapes[s].m,
              bf_strerror(rc));
      return 1;
    }
  }

  printf("{\"bench\": \"fec\", \"shard_bytes\": %u, \"seconds\": %g, \"shapes\": [", SHARD_BYTES,
         seconds);
  for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
    const shape_result *r = &res[s];
    printf("%s\n  {\"k\": %u, \"m\": %u, \"encode_gbps\": %.2f, \"isal_encode_gbps\": %.2f, "
           "\"encode_vs_isal\": %.3f, \"decode_us_e1\": %.3f, \"decode_us_em\": %.3f, "
           "\"decode_us_em_cold\": %.3f, \"textbook_us_em\": %.1f, "
           "\"cold_misses\": %llu, \"cold_calls\": %llu, \"cold_allocs\": %llu}",
           s ? "," : "", shapes[s].k, shapes[s].m, r->encode_gbps, r->isal_encode_gbps,
           r->encode_gbps / r->isal_encode_gbps, r->decode_us_e1, r->decode_us_em,
           r->decode_us_em_cold, r->textbook_us_em, (unsigned long long)r->cold_misses,
           (unsigned long long)r->cold_calls, (unsigned long long)r->cold_allocs);
  }
  printf("],\n ");
  bf_bench_print_machine(stdout);
  printf("}\n");
  return 0;
}
