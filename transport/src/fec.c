/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Reed-Solomon erasure code of wire format v1 (spec §3) on top of ISA-L.
 *
 * Generator: c(j, i) = inverse((m + i) XOR j) in GF(2^8)/0x11d, a Cauchy
 * matrix with x_j = j (0..m-1) and y_i = m + i (m..m+k-1); both sets are
 * disjoint, so every square sub-matrix is invertible. ISA-L's
 * gf_gen_cauchy1_matrix builds inverse((k + j) XOR i) instead, a different
 * matrix, so the coefficients are generated here and only the table expansion
 * (ec_init_tables) and the SIMD data pass (ec_encode_data) come from ISA-L.
 *
 * Decode: with lost data columns L (e of them) and e received parity rows P,
 *   p_P = C[P,L] d_L + C[P,R] d_R   =>   d_L = C[P,L]^-1 (p_P + C[P,R] d_R)
 * (addition is XOR), so only the e x e matrix C[P,L] is inverted, never the
 * k x k one. The e x k decode matrix over the sources [received data...,
 * chosen parity...] is [C[P,L]^-1 C[P,R] | C[P,L]^-1]; its product is itself
 * run through ec_encode_data, and the data pass writes straight into the
 * missing shards' buffers.
 *
 * Caches (bounds in fec_internal.h): encode tables per (k, m) in 4 LRU slots,
 * decode tables per erasure pattern in 8. A slot's table buffer only grows, so
 * after warm-up neither a hit nor a miss of a known size allocates.
 *
 * Not here: shard bookkeeping, padding, block geometry (packetizer and
 * reassembler), and rebuilding lost parity (never needed).
 */
#include <bildfunk/fec.h>

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <isa-l/erasure_code.h>

#include "fec_internal.h"

#define MAX_SHARDS 255u
#define TBL_ALIGN 64u
/* The e x e by e x (k - e) product of a decode build runs through ISA-L too;
 * rows shorter than 64 bytes would take its scalar path, so pad them. */
#define PROD_MIN 64u
#define PROD_ROW 256u

typedef struct enc_slot {
  uint64_t stamp; /* LRU clock value of the last use; 0 = empty */
  unsigned k, m;
  size_t cap; /* bytes at |tbls| */
  uint8_t *tbls;
} enc_slot;

typedef struct dec_slot {
  uint64_t stamp; /* 0 = empty */
  uint32_t hash;
  unsigned k, m, e;
  uint8_t lost[BF__FEC_MAX_LOST]; /* lost data columns, ascending */
  uint8_t rows[BF__FEC_MAX_LOST]; /* parity rows used, ascending */
  size_t cap;
  uint8_t *tbls;
} dec_slot;

struct bf_fec {
  uint64_t clock; /* LRU clock, bumped on every lookup */
  bf__fec_stats stats;
  enc_slot enc[BF__FEC_ENC_SLOTS];
  dec_slot dec[BF__FEC_DEC_SLOTS];
  /* Scratch for building tables on a cache miss. */
  uint8_t a[BF__FEC_MAX_LOST * BF__FEC_MAX_LOST];    /* C[P,L], destroyed */
  uint8_t ainv[BF__FEC_MAX_LOST * BF__FEC_MAX_LOST]; /* C[P,L]^-1 */
  uint8_t mat[BF__FEC_MAX_LOST * MAX_SHARDS];        /* generator or decode */
  /* Decode build: C[P,R] rows in, C[P,L]^-1 C[P,R] rows out (>= PROD_MIN bytes). */
  uint8_t prod_in[BF__FEC_MAX_LOST][PROD_ROW];
  uint8_t prod_out[BF__FEC_MAX_LOST][PROD_ROW];
};

uint8_t bf_fec_coef(unsigned m, unsigned j, unsigned i) {
  if (j >= m || m + i > MAX_SHARDS) return 0; /* 0 is never a coefficient */
  return gf_inv((unsigned char)((m + i) ^ j));
}

void bf_fec_matrix(unsigned k, unsigned m, uint8_t *out) {
  for (unsigned j = 0; j < m; j++)
    for (unsigned i = 0; i < k; i++)
      out[j * k + i] = bf_fec_coef(m, j, i);
}

int bf_fec_new(bf_fec **out) {
  if (!out) return -EINVAL;
  *out = calloc(1, sizeof **out);
  return *out ? 0 : -ENOMEM;
}

void bf_fec_del(bf_fec **fec) {
  if (!fec || !*fec) return;
  for (unsigned s = 0; s < BF__FEC_ENC_SLOTS; s++)
    free((*fec)->enc[s].tbls);
  for (unsigned s = 0; s < BF__FEC_DEC_SLOTS; s++)
    free((*fec)->dec[s].tbls);
  free(*fec);
  *fec = NULL;
}

void bf__fec_stats_get(const bf_fec *fec, bf__fec_stats *out) {
  *out = fec->stats;
}

/* Makes |*buf| (capacity |*cap|) hold at least |need| bytes. Grow-only, so a
 * slot that is reused for a shape of the same size never allocates again. */
static int reserve(bf_fec *fec, uint8_t **buf, size_t *cap, size_t need) {
  if (*cap >= need) return 0;
  free(*buf);
  *cap = 0;
  size_t rounded = (need + TBL_ALIGN - 1) / TBL_ALIGN * TBL_ALIGN;
  *buf = aligned_alloc(TBL_ALIGN, rounded);
  if (!*buf) return -ENOMEM;
  *cap = rounded;
  fec->stats.allocs++;
  return 0;
}

/* Encode tables for (k, m): from the cache, or built into the LRU slot. */
static int enc_tables(bf_fec *fec, unsigned k, unsigned m, uint8_t **tbls) {
  enc_slot *victim = &fec->enc[0];
  fec->clock++;
  for (unsigned s = 0; s < BF__FEC_ENC_SLOTS; s++) {
    enc_slot *sl = &fec->enc[s];
    if (sl->stamp && sl->k == k && sl->m == m) {
      sl->stamp = fec->clock;
      fec->stats.enc_hits++;
      *tbls = sl->tbls;
      return 0;
    }
    if (sl->stamp < victim->stamp) victim = sl;
  }
  fec->stats.enc_misses++;
  victim->stamp = 0;
  int rc = reserve(fec, &victim->tbls, &victim->cap, (size_t)32 * k * m);
  if (rc) return rc;
  bf_fec_matrix(k, m, fec->mat);
  ec_init_tables((int)k, (int)m, fec->mat, victim->tbls);
  victim->k = k;
  victim->m = m;
  victim->stamp = fec->clock;
  *tbls = victim->tbls;
  return 0;
}

int bf_fec_encode(bf_fec *fec, unsigned k, unsigned m, size_t len, const uint8_t *const *data,
                  uint8_t *const *parity) {
  if (!fec || !data || !parity || k == 0 || m == 0 || k + m > MAX_SHARDS || len == 0 ||
      len > INT_MAX)
    return -EINVAL;
  for (unsigned i = 0; i < k; i++)
    if (!data[i]) return -EINVAL;
  for (unsigned j = 0; j < m; j++)
    if (!parity[j]) return -EINVAL;
  uint8_t *tbls;
  int rc = enc_tables(fec, k, m, &tbls);
  if (rc) return rc;
  /* ISA-L takes non-const pointers but only reads the sources. */
  ec_encode_data((int)len, (int)k, (int)m, tbls, (unsigned char **)data, (unsigned char **)parity);
  return 0;
}

/* FNV-1a over the erasure pattern; only to skip most key comparisons. */
static uint32_t pattern_hash(unsigned k, unsigned m, unsigned e, const uint8_t *lost,
                             const uint8_t *rows) {
  uint32_t h = 2166136261u;
  h = (h ^ k) * 16777619u;
  h = (h ^ m) * 16777619u;
  for (unsigned a = 0; a < e; a++) {
    h = (h ^ lost[a]) * 16777619u;
    h = (h ^ rows[a]) * 16777619u;
  }
  return h;
}

/* Builds the e x k decode matrix for |sl|'s pattern into fec->mat, columns in
 * source order: received data columns ascending, then the parity rows:
 *   mat = [ C[P,L]^-1 C[P,R] | C[P,L]^-1 ].
 * The product is itself computed with ISA-L (C[P,R]'s rows as e "shards" of
 * k - e bytes, C[P,L]^-1 as the coding matrix), with |scratch| (>= 32 * e * e
 * bytes) for its tables. */
static int build_decode_matrix(bf_fec *fec, const dec_slot *sl, uint8_t *scratch) {
  const unsigned k = sl->k, m = sl->m, e = sl->e, r = k - e;
  for (unsigned b = 0; b < e; b++)
    for (unsigned a = 0; a < e; a++)
      fec->a[b * e + a] = bf_fec_coef(m, sl->rows[b], sl->lost[a]);
  if (gf_invert_matrix(fec->a, fec->ainv, (int)e) != 0)
    return -EINVAL; /* cannot happen: square Cauchy blocks are invertible */
  if (r > 0) {
    const unsigned row_len = r < PROD_MIN ? PROD_MIN : r;
    unsigned char *in[BF__FEC_MAX_LOST], *out[BF__FEC_MAX_LOST];
    for (unsigned b = 0; b < e; b++) {
      uint8_t *row = fec->prod_in[b];
      unsigned col = 0, next_lost = 0;
      for (unsigned i = 0; i < k; i++) {
        if (next_lost < e && sl->lost[next_lost] == i) {
          next_lost++;
          continue;
        }
        row[col++] = bf_fec_coef(m, sl->rows[b], i);
      }
      memset(row + r, 0, row_len - r);
      in[b] = row;
      out[b] = fec->prod_out[b];
    }
    ec_init_tables((int)e, (int)e, fec->ainv, scratch);
    ec_encode_data((int)row_len, (int)e, (int)e, scratch, in, out);
    for (unsigned a = 0; a < e; a++)
      memcpy(&fec->mat[a * k], fec->prod_out[a], r);
  }
  for (unsigned a = 0; a < e; a++)
    memcpy(&fec->mat[a * k + r], &fec->ainv[a * e], e);
  return 0;
}

/* Decode tables for the pattern (lost, rows): from the cache or built. */
static int dec_tables(bf_fec *fec, unsigned k, unsigned m, unsigned e, const uint8_t *lost,
                      const uint8_t *rows, uint8_t **tbls) {
  const uint32_t h = pattern_hash(k, m, e, lost, rows);
  dec_slot *victim = &fec->dec[0];
  fec->clock++;
  for (unsigned s = 0; s < BF__FEC_DEC_SLOTS; s++) {
    dec_slot *sl = &fec->dec[s];
    if (sl->stamp && sl->hash == h && sl->k == k && sl->m == m && sl->e == e &&
        !memcmp(sl->lost, lost, e) && !memcmp(sl->rows, rows, e)) {
      sl->stamp = fec->clock;
      fec->stats.dec_hits++;
      *tbls = sl->tbls;
      return 0;
    }
    if (sl->stamp < victim->stamp) victim = sl;
  }
  fec->stats.dec_misses++;
  victim->stamp = 0;
  int rc = reserve(fec, &victim->tbls, &victim->cap, (size_t)32 * k * e);
  if (rc) return rc;
  victim->hash = h;
  victim->k = k;
  victim->m = m;
  victim->e = e;
  memcpy(victim->lost, lost, e);
  memcpy(victim->rows, rows, e);
  rc = build_decode_matrix(fec, victim, victim->tbls); /* 32 * e * e <= cap */
  if (rc) return rc;
  ec_init_tables((int)k, (int)e, fec->mat, victim->tbls);
  victim->stamp = fec->clock;
  *tbls = victim->tbls;
  return 0;
}

int bf_fec_reconstruct(bf_fec *fec, unsigned k, unsigned m, size_t len, uint8_t *const *shards,
                       const uint8_t *present) {
  if (!fec || !shards || !present || k == 0 || k + m > MAX_SHARDS || len == 0 || len > INT_MAX)
    return -EINVAL;
  uint8_t lost[BF__FEC_MAX_LOST], rows[BF__FEC_MAX_LOST];
  unsigned char *src[MAX_SHARDS], *dst[BF__FEC_MAX_LOST];
  unsigned e = 0, n = 0;
  for (unsigned i = 0; i < k; i++) {
    if (!shards[i]) return -EINVAL;
    if (present[i]) {
      src[n++] = shards[i];
      continue;
    }
    if (e == m) return -EAGAIN; /* more data lost than parity exists */
    dst[e] = shards[i];
    lost[e++] = (uint8_t)i;
  }
  if (e == 0) return 0;
  unsigned p = 0;
  for (unsigned j = 0; j < m && p < e; j++) {
    if (!present[k + j]) continue;
    if (!shards[k + j]) return -EINVAL;
    src[n++] = shards[k + j];
    rows[p++] = (uint8_t)j;
  }
  if (p < e) return -EAGAIN;
  uint8_t *tbls;
  int rc = dec_tables(fec, k, m, e, lost, rows, &tbls);
  if (rc) return rc;
  ec_encode_data((int)len, (int)k, (int)e, tbls, src, dst);
  return (int)e;
}
