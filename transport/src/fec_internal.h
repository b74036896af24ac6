/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Internal: cache bounds and counters of the FEC coder (fec.c), for the unit
 * test and the benchmark. Not part of the public API.
 */
#ifndef BF__FEC_INTERNAL_H
#define BF__FEC_INTERNAL_H

#include <bildfunk/fec.h>

#include <stdint.h>

/* Encode tables cached per (k, m). A live stream uses two shapes at a time
 * (full blocks and the AU's tail block); two more absorb an FEC-percentage
 * change without thrashing. Worst case 4 x 32 * k * m bytes (k + m <= 255:
 * <= 4 x 520 KB); 4 x 53 KB at K = 128, 10 %. */
#define BF__FEC_ENC_SLOTS 4u

/* Decode tables cached per erasure pattern (k, m, lost data columns, parity
 * rows used). Worst case 8 x 32 * k * e bytes (e <= 127: <= 8 x 520 KB). */
#define BF__FEC_DEC_SLOTS 8u

/* Largest number of lost data shards one block can have: e <= min(k, m) and
 * k + m <= 255. */
#define BF__FEC_MAX_LOST 127u

typedef struct bf__fec_stats {
  uint64_t enc_hits, enc_misses;
  uint64_t dec_hits, dec_misses;
  uint64_t allocs; /* table buffers allocated (grow-only per slot) */
} bf__fec_stats;

/* Copies the counters of |fec| into |out|. */
void bf__fec_stats_get(const bf_fec *fec, bf__fec_stats *out);

#endif /* BF__FEC_INTERNAL_H */
