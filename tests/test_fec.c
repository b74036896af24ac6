/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Reed-Solomon FEC (spec §3): the pinned test vector, generator and encode
 * against a slow GF(2^8) reference written here, reconstruction for every loss
 * pattern of small shapes and random patterns of large ones (bit-exact against
 * the original data), -EAGAIN, table caches and argument checks.
 */
#include "testutil.h"

#include <bildfunk/fec.h>

#include "../transport/src/fec_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- slow reference field: log/exp tables of GF(2^8) mod 0x11d ---- */

static uint8_t ref_exp[512];
static uint8_t ref_log[256];

static void ref_init(void) {
  unsigned x = 1;
  for (unsigned i = 0; i < 255; i++) {
    ref_exp[i] = ref_exp[i + 255] = (uint8_t)x;
    ref_log[x] = (uint8_t)i;
    x <<= 1;
    if (x & 0x100) x ^= 0x11d;
  }
}

static uint8_t ref_mul(uint8_t a, uint8_t b) {
  if (!a || !b) return 0;
  return ref_exp[ref_log[a] + ref_log[b]];
}

static uint8_t ref_inv(uint8_t a) {
  return ref_exp[255 - ref_log[a]];
}

static uint8_t ref_coef(unsigned m, unsigned j, unsigned i) {
  return ref_inv((uint8_t)((m + i) ^ j));
}

static void ref_encode(unsigned k, unsigned m, size_t len, uint8_t *const *shards) {
  for (unsigned j = 0; j < m; j++) {
    uint8_t *p = shards[k + j];
    memset(p, 0, len);
    for (unsigned i = 0; i < k; i++) {
      const uint8_t c = ref_coef(m, j, i);
      for (size_t b = 0; b < len; b++)
        p[b] ^= ref_mul(c, shards[i][b]);
    }
  }
}

static int setup(void **state) {
  (void)state;
  ref_init();
  return 0;
}

/* ---- a block of k + m shards with a pristine copy ---- */

typedef struct block {
  unsigned k, m;
  size_t len;
  uint8_t *mem, *orig;
  uint8_t *sh[255];
} block;

/* Random data, reference parity, copied to |orig|. */
static void block_init(block *b, bf_test_rng *rng, unsigned k, unsigned m, size_t len) {
  b->k = k;
  b->m = m;
  b->len = len;
  b->mem = malloc((k + m) * len);
  b->orig = malloc((k + m) * len);
  assert_non_null(b->mem);
  assert_non_null(b->orig);
  for (unsigned s = 0; s < k + m; s++)
    b->sh[s] = b->mem + s * len;
  bf_test_rng_fill(rng, b->mem, k * len);
  ref_encode(k, m, len, b->sh);
  memcpy(b->orig, b->mem, (k + m) * len);
}

static void block_free(block *b) {
  free(b->mem);
  free(b->orig);
}

static const uint8_t *orig(const block *b, unsigned s) {
  return b->orig + s * b->len;
}

/* Wipes the shards with present[s] == 0, reconstructs and checks the result:
 * the count of missing data shards and bit-exact data when at least k shards
 * are present, -EAGAIN otherwise; missing parity is never written. */
static void check_pattern(bf_fec *fec, block *b, const uint8_t *present) {
  unsigned have = 0, lost_data = 0;
  for (unsigned s = 0; s < b->k + b->m; s++) {
    if (present[s]) {
      have++;
      memcpy(b->sh[s], orig(b, s), b->len);
    } else {
      memset(b->sh[s], 0xa5, b->len);
      if (s < b->k) lost_data++;
    }
  }
  int rc = bf_fec_reconstruct(fec, b->k, b->m, b->len, b->sh, present);
  if (have < b->k) {
    assert_int_equal(rc, -EAGAIN);
    return;
  }
  assert_int_equal(rc, (int)lost_data);
  for (unsigned s = 0; s < b->k; s++)
    assert_memory_equal(b->sh[s], orig(b, s), b->len);
  for (unsigned s = b->k; s < b->k + b->m; s++) {
    if (present[s]) {
      assert_memory_equal(b->sh[s], orig(b, s), b->len);
    } else {
      size_t i = 0;
      while (i < b->len && b->sh[s][i] == 0xa5)
        i++;
      assert_int_equal(i, b->len);
    }
  }
}

/* Encodes |b|'s data through |fec| into fresh parity and compares with the
 * reference parity. */
static void check_encode(bf_fec *fec, const block *b) {
  uint8_t *par = malloc(b->m * b->len);
  assert_non_null(par);
  memset(par, 0x5a, b->m * b->len);
  const uint8_t *data[255];
  uint8_t *parity[255];
  for (unsigned i = 0; i < b->k; i++)
    data[i] = orig(b, i);
  for (unsigned j = 0; j < b->m; j++)
    parity[j] = par + j * b->len;
  assert_int_equal(bf_fec_encode(fec, b->k, b->m, b->len, data, parity), 0);
  assert_memory_equal(par, orig(b, b->k), b->m * b->len);
  free(par);
}

/* ---- tests ---- */

/* spec §3: k = 4 one-byte shards [10, 20, 30, 40], m = 2 -> parity [136, 0]. */
static void test_pinned_vector(void **state) {
  (void)state;
  static const uint8_t want_matrix[8] = {142, 244, 71, 167, 244, 142, 167, 71};
  uint8_t mat[8];
  bf_fec_matrix(4, 2, mat);
  assert_memory_equal(mat, want_matrix, sizeof mat);
  assert_int_equal(bf_fec_coef(2, 0, 0), 142);
  assert_int_equal(bf_fec_coef(2, 1, 3), 71);

  uint8_t d[4] = {10, 20, 30, 40}, p[2] = {0xee, 0xee};
  const uint8_t *data[4] = {&d[0], &d[1], &d[2], &d[3]};
  uint8_t *parity[2] = {&p[0], &p[1]};
  bf_fec *fec = NULL;
  assert_int_equal(bf_fec_new(&fec), 0);
  assert_int_equal(bf_fec_encode(fec, 4, 2, 1, data, parity), 0);
  assert_int_equal(p[0], 136);
  assert_int_equal(p[1], 0);

  /* Lose shards 0 and 2; rebuild from 1, 3 and both parity bytes. */
  uint8_t s[6] = {0, 20, 0, 40, 136, 0};
  uint8_t *sh[6] = {&s[0], &s[1], &s[2], &s[3], &s[4], &s[5]};
  const uint8_t present[6] = {0, 1, 0, 1, 1, 1};
  assert_int_equal(bf_fec_reconstruct(fec, 4, 2, 1, sh, present), 2);
  assert_int_equal(s[0], 10);
  assert_int_equal(s[2], 30);
  bf_fec_del(&fec);
  assert_null(fec);
}

/* The generator equals inverse((m + i) XOR j) from the reference field for
 * shapes up to k + m = 255; out-of-range coefficients are 0. */
static void test_matrix(void **state) {
  (void)state;
  static const unsigned shapes[][2] = {{1, 1},    {1, 2},   {4, 2},   {5, 3},    {32, 8},
                                       {128, 26}, {253, 2}, {1, 254}, {128, 127}};
  uint8_t *mat = malloc(255 * 255);
  assert_non_null(mat);
  for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
    const unsigned k = shapes[s][0], m = shapes[s][1];
    memset(mat, 0, 255 * 255);
    bf_fec_matrix(k, m, mat);
    for (unsigned j = 0; j < m; j++) {
      for (unsigned i = 0; i < k; i++) {
        const uint8_t c = mat[j * k + i];
        assert_int_equal(c, ref_coef(m, j, i));
        assert_int_equal(ref_mul(c, (uint8_t)((m + i) ^ j)), 1);
        assert_int_equal(bf_fec_coef(m, j, i), c);
      }
    }
    assert_int_equal(mat[m * k], 0); /* nothing written past m x k */
  }
  assert_int_equal(bf_fec_coef(2, 2, 0), 0);   /* j >= m */
  assert_int_equal(bf_fec_coef(2, 0, 254), 0); /* m + i > 255 */
  assert_int_not_equal(bf_fec_coef(2, 0, 253), 0);
  free(mat);
}

static void test_encode_vs_reference(void **state) {
  (void)state;
  static const struct {
    unsigned k, m;
    size_t len;
  } shapes[] = {{1, 1, 1},     {1, 2, 1408},  {4, 2, 63},   {4, 2, 64},      {5, 3, 100},
                {10, 1, 1407}, {32, 8, 1408}, {32, 8, 513}, {128, 26, 1408}, {253, 2, 1408},
                {200, 55, 96}, {1, 254, 65},  {17, 4, 2}};
  bf_test_rng rng;
  bf_test_rng_seed(&rng, 0xfec0001);
  bf_fec *fec = NULL;
  assert_int_equal(bf_fec_new(&fec), 0);
  for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
    block b;
    block_init(&b, &rng, shapes[s].k, shapes[s].m, shapes[s].len);
    check_encode(fec, &b);
    block_free(&b);
  }
  bf_fec_del(&fec);
}

/* Every subset of present shards for small shapes. */
static void exhaustive(bf_fec *fec, bf_test_rng *rng, unsigned k, unsigned m, size_t len) {
  block b;
  block_init(&b, rng, k, m, len);
  const unsigned n = k + m;
  uint8_t present[255];
  for (unsigned mask = 0; mask < (1u << n); mask++) {
    for (unsigned s = 0; s < n; s++)
      present[s] = (uint8_t)((mask >> s) & 1u);
    check_pattern(fec, &b, present);
  }
  block_free(&b);
}

static void test_reconstruct_exhaustive(void **state) {
  (void)state;
  bf_test_rng rng;
  bf_test_rng_seed(&rng, 0xfec0002);
  bf_fec *fec = NULL;
  assert_int_equal(bf_fec_new(&fec), 0);
  exhaustive(fec, &rng, 4, 2, 1408);
  exhaustive(fec, &rng, 5, 3, 100);
  exhaustive(fec, &rng, 1, 2, 77);
  exhaustive(fec, &rng, 3, 1, 1);
  exhaustive(fec, &rng, 2, 6, 64);
  bf_fec_del(&fec);
}

/* Random patterns: mostly recoverable (lost <= m), some with one shard too
 * few. */
static void random_patterns(bf_fec *fec, bf_test_rng *rng, unsigned k, unsigned m, size_t len,
                            unsigned rounds) {
  block b;
  block_init(&b, rng, k, m, len);
  const unsigned n = k + m;
  uint8_t present[255];
  unsigned order[255];
  for (unsigned r = 0; r < rounds; r++) {
    /* Lose |drop| random shards; every 8th round one more than m. */
    unsigned drop = (r % 8 == 7) ? m + 1 : bf_test_rng_below(rng, m + 1);
    /* Bias towards data losses: half the rounds lose only data shards. */
    const unsigned pool = (r % 2 && drop <= k) ? k : n;
    if (drop > pool) drop = pool;
    for (unsigned s = 0; s < n; s++) {
      order[s] = s;
      present[s] = 1;
    }
    for (unsigned s = 0; s < drop; s++) { /* partial Fisher-Yates over pool */
      const unsigned t = s + bf_test_rng_below(rng, pool - s);
      const unsigned tmp = order[s];
      order[s] = order[t];
      order[t] = tmp;
      present[order[s]] = 0;
    }
    check_pattern(fec, &b, present);
  }
  block_free(&b);
}

static void test_reconstruct_random(void **state) {
  (void)state;
  bf_test_rng rng;
  bf_test_rng_seed(&rng, 0xfec0003);
  bf_fec *fec = NULL;
  assert_int_equal(bf_fec_new(&fec), 0);
  random_patterns(fec, &rng, 32, 8, 1408, 300);
  random_patterns(fec, &rng, 128, 26, 1408, 60);
  random_patterns(fec, &rng, 1, 2, 1408, 40);
  random_patterns(fec, &rng, 253, 2, 1408, 40);
  random_patterns(fec, &rng, 128, 127, 64, 20);
  random_patterns(fec, &rng, 7, 3, 1, 50);
  bf_fec_del(&fec);
}

/* All m data shards lost (the worst recoverable case) for the large shapes. */
static void test_reconstruct_max_loss(void **state) {
  (void)state;
  static const unsigned shapes[][2] = {{32, 8}, {128, 26}, {253, 2}, {128, 127}};
  bf_test_rng rng;
  bf_test_rng_seed(&rng, 0xfec0004);
  bf_fec *fec = NULL;
  assert_int_equal(bf_fec_new(&fec), 0);
  uint8_t present[255];
  for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
    const unsigned k = shapes[s][0], m = shapes[s][1];
    block b;
    block_init(&b, &rng, k, m, 1408);
    memset(present, 1, sizeof present);
    for (unsigned i = 0; i < m; i++)
      present[k - 1 - i] = 0; /* last m data */
    check_pattern(fec, &b, present);
    memset(present, 1, sizeof present);
    for (unsigned i = 0; i < m; i++)
      present[i] = 0; /* first m data */
    check_pattern(fec, &b, present);
    block_free(&b);
  }
  bf_fec_del(&fec);
}

static void test_too_few_and_no_loss(void **state) {
  (void)state;
  bf_test_rng rng;
  bf_test_rng_seed(&rng, 0xfec0005);
  bf_fec *fec = NULL;
  assert_int_equal(bf_fec_new(&fec), 0);
  block b;
  block_init(&b, &rng, 6, 3, 200);
  uint8_t present[9] = {1, 1, 1, 1, 1, 1, 0, 0, 0};
  /* All data present: nothing to do even without parity. */
  assert_int_equal(bf_fec_reconstruct(fec, 6, 3, 200, b.sh, present), 0);
  assert_memory_equal(b.mem, b.orig, 6 * 200);
  /* Two data lost, one parity: k - 1 shards. */
  present[0] = present[5] = 0;
  present[7] = 1;
  assert_int_equal(bf_fec_reconstruct(fec, 6, 3, 200, b.sh, present), -EAGAIN);
  /* Four data lost, all parity: k - 1 shards. */
  memset(present, 1, sizeof present);
  present[0] = present[1] = present[2] = present[3] = 0;
  assert_int_equal(bf_fec_reconstruct(fec, 6, 3, 200, b.sh, present), -EAGAIN);
  /* Nothing present. */
  memset(present, 0, sizeof present);
  assert_int_equal(bf_fec_reconstruct(fec, 6, 3, 200, b.sh, present), -EAGAIN);
  /* m = 0 (FEC off): fine when complete, -EAGAIN when a shard is missing. */
  memset(present, 1, sizeof present);
  assert_int_equal(bf_fec_reconstruct(fec, 6, 0, 200, b.sh, present), 0);
  present[3] = 0;
  assert_int_equal(bf_fec_reconstruct(fec, 6, 0, 200, b.sh, present), -EAGAIN);
  block_free(&b);
  bf_fec_del(&fec);
}

/* Caches: a hit gives the same result without building or allocating; the
 * alternating full/tail shapes of a stream stay cached; overflowing the LRU
 * with many shapes and patterns never returns stale tables. */
static void test_caches(void **state) {
  (void)state;
  bf_test_rng rng;
  bf_test_rng_seed(&rng, 0xfec0006);
  bf_fec *fec = NULL;
  assert_int_equal(bf_fec_new(&fec), 0);
  bf__fec_stats st0, st;

  block full, tail;
  block_init(&full, &rng, 128, 13, 1408);
  block_init(&tail, &rng, 9, 2, 1408);
  check_encode(fec, &full);
  check_encode(fec, &tail);
  bf__fec_stats_get(fec, &st0);
  assert_int_equal(st0.enc_misses, 2);
  for (int r = 0; r < 20; r++) {
    check_encode(fec, &full);
    check_encode(fec, &tail);
  }
  bf__fec_stats_get(fec, &st);
  assert_int_equal(st.enc_misses, 2);
  assert_int_equal(st.enc_hits, 40);
  assert_int_equal(st.allocs, st0.allocs);

  /* Many shapes: every one is right, and the first ones again after they
   * have been evicted. */
  for (unsigned k = 1; k <= 3 * BF__FEC_ENC_SLOTS; k++) {
    block b;
    block_init(&b, &rng, k, 1 + k % 5, 64 + k);
    check_encode(fec, &b);
    block_free(&b);
  }
  check_encode(fec, &full);
  check_encode(fec, &tail);
  bf__fec_stats_get(fec, &st);
  assert_int_equal(st.enc_misses, 2 + 3 * BF__FEC_ENC_SLOTS + 2);

  /* Decode: the same pattern twice is one build, no allocation. */
  uint8_t present[255];
  memset(present, 1, sizeof present);
  present[3] = present[70] = present[127] = 0;
  check_pattern(fec, &full, present);
  bf__fec_stats_get(fec, &st0);
  check_pattern(fec, &full, present);
  check_pattern(fec, &full, present);
  bf__fec_stats_get(fec, &st);
  assert_int_equal(st.dec_hits, st0.dec_hits + 2);
  assert_int_equal(st.dec_misses, st0.dec_misses);
  assert_int_equal(st.allocs, st0.allocs);

  /* Same lost set, different parity rows used: a different pattern. */
  present[128] = 0;
  check_pattern(fec, &full, present);
  bf__fec_stats_get(fec, &st);
  assert_int_equal(st.dec_misses, st0.dec_misses + 1);
  present[128] = 1;

  /* Overflow the decode LRU with single losses, then the first pattern again;
   * then cycle through more patterns than slots: slots are reused without
   * allocating once they are big enough. */
  for (unsigned i = 0; i < 4 * BF__FEC_DEC_SLOTS; i++) {
    uint8_t p1[255];
    memset(p1, 1, sizeof p1);
    p1[i] = p1[i + 1] = p1[i + 2] = 0;
    check_pattern(fec, &full, p1);
  }
  bf__fec_stats_get(fec, &st0);
  check_pattern(fec, &full, present);
  bf__fec_stats_get(fec, &st);
  assert_int_equal(st.dec_misses, st0.dec_misses + 1);
  assert_int_equal(st.allocs, st0.allocs);
  block_free(&full);
  block_free(&tail);
  bf_fec_del(&fec);
}

static void test_bad_arguments(void **state) {
  (void)state;
  assert_int_equal(bf_fec_new(NULL), -EINVAL);
  bf_fec_del(NULL);
  bf_fec *fec = NULL;
  bf_fec_del(&fec); /* NULL is fine */
  assert_int_equal(bf_fec_new(&fec), 0);

  uint8_t buf[256 * 8];
  const uint8_t *data[255];
  uint8_t *parity[255], *shards[255];
  uint8_t present[255];
  for (unsigned s = 0; s < 255; s++) {
    data[s] = buf;
    parity[s] = buf + 8 * (s % 256);
    shards[s] = buf + 8 * (s % 256);
    present[s] = 1;
  }
  assert_int_equal(bf_fec_encode(NULL, 4, 2, 8, data, parity), -EINVAL);
  assert_int_equal(bf_fec_encode(fec, 0, 2, 8, data, parity), -EINVAL);
  assert_int_equal(bf_fec_encode(fec, 4, 0, 8, data, parity), -EINVAL);
  assert_int_equal(bf_fec_encode(fec, 4, 2, 0, data, parity), -EINVAL);
  assert_int_equal(bf_fec_encode(fec, 200, 56, 8, data, parity), -EINVAL);
  assert_int_equal(bf_fec_encode(fec, 4, 2, (size_t)1 << 31, data, parity), -EINVAL);
  assert_int_equal(bf_fec_encode(fec, 4, 2, 8, NULL, parity), -EINVAL);
  assert_int_equal(bf_fec_encode(fec, 4, 2, 8, data, NULL), -EINVAL);
  data[3] = NULL;
  assert_int_equal(bf_fec_encode(fec, 4, 2, 8, data, parity), -EINVAL);
  data[3] = buf;
  parity[1] = NULL;
  assert_int_equal(bf_fec_encode(fec, 4, 2, 8, data, parity), -EINVAL);
  parity[1] = buf + 8;

  assert_int_equal(bf_fec_reconstruct(NULL, 4, 2, 8, shards, present), -EINVAL);
  assert_int_equal(bf_fec_reconstruct(fec, 0, 2, 8, shards, present), -EINVAL);
  assert_int_equal(bf_fec_reconstruct(fec, 4, 2, 0, shards, present), -EINVAL);
  assert_int_equal(bf_fec_reconstruct(fec, 200, 56, 8, shards, present), -EINVAL);
  assert_int_equal(bf_fec_reconstruct(fec, 4, 2, (size_t)1 << 31, shards, present), -EINVAL);
  assert_int_equal(bf_fec_reconstruct(fec, 4, 2, 8, NULL, present), -EINVAL);
  assert_int_equal(bf_fec_reconstruct(fec, 4, 2, 8, shards, NULL), -EINVAL);
  /* A missing data shard needs a buffer to be rebuilt into. */
  present[1] = 0;
  shards[1] = NULL;
  assert_int_equal(bf_fec_reconstruct(fec, 4, 2, 8, shards, present), -EINVAL);
  shards[1] = buf + 8;
  /* A present parity shard used as a source needs a buffer. */
  shards[4] = NULL;
  assert_int_equal(bf_fec_reconstruct(fec, 4, 2, 8, shards, present), -EINVAL);
  bf__fec_stats st;
  bf__fec_stats_get(fec, &st);
  assert_int_equal(st.enc_misses + st.dec_misses, 0); /* rejected before any work */
  bf_fec_del(&fec);
  assert_null(fec);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_pinned_vector),       cmocka_unit_test(test_matrix),
      cmocka_unit_test(test_encode_vs_reference), cmocka_unit_test(test_reconstruct_exhaustive),
      cmocka_unit_test(test_reconstruct_random),  cmocka_unit_test(test_reconstruct_max_loss),
      cmocka_unit_test(test_too_few_and_no_loss), cmocka_unit_test(test_caches),
      cmocka_unit_test(test_bad_arguments),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
