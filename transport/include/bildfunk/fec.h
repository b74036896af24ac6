/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Reed-Solomon erasure code of wire format v1 (spec §3): GF(2^8) with the
 * polynomial 0x11d, systematic, parity row j over data column i weighted by
 * c(j, i) = inverse((m + i) XOR j). Any k of a block's k + m shards rebuild it.
 *
 * Built on ISA-L: encode and decode tables are expanded once and cached (per
 * (k, m) for encode, per erasure pattern for decode), and decode inverts only
 * the e x e sub-matrix of the lost data columns, never the whole k x k matrix.
 *
 * A bf_fec is not thread-safe: use one per thread. Sans-I/O: no clocks, no
 * sockets; the only allocations happen in bf_fec_new() and when a table is
 * first built for a shape (bounded caches, reused afterwards). Caches: 4
 * encode shapes and 8 erasure patterns, least recently used evicted.
 */
#ifndef BILDFUNK_FEC_H
#define BILDFUNK_FEC_H

#include <bildfunk/common.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bf_fec bf_fec;

/* Coefficient c(j, i) of parity row |j| (0 <= j < m) for data column |i|
 * (0 <= i < k) of a block with |m| parity shards. m + i <= 255 and j < m. */
uint8_t bf_fec_coef(unsigned m, unsigned j, unsigned i);

/* Writes the m x k generator (row-major, |out|[j * k + i] = c(j, i)). */
void bf_fec_matrix(unsigned k, unsigned m, uint8_t *out);

/* Allocates a coder with empty caches. Returns 0, -EINVAL (|out| NULL) or
 * -ENOMEM. The caller owns *|out| and frees it with bf_fec_del(). */
int bf_fec_new(bf_fec **out);

/* Frees |*fec| (NULL is fine) and sets *|fec| to NULL. */
void bf_fec_del(bf_fec **fec);

/* Computes |m| parity shards of |len| bytes from |k| data shards.
 * |data|[0..k-1] are read, |parity|[0..m-1] are written; no ownership moves.
 * Returns 0, -EINVAL (k == 0, m == 0, k + m > 255, len == 0 or > INT_MAX,
 * NULL pointers) or -ENOMEM. Cost: one ISA-L pass, ~4 us for k=32, m=8 at
 * 1408 B once the (k, m) tables are cached. */
int bf_fec_encode(bf_fec *fec, unsigned k, unsigned m, size_t len,
                  const uint8_t *const *data, uint8_t *const *parity);

/* Rebuilds the missing data shards of a block in place.
 * |shards|[0..k+m-1] point to |len|-byte buffers: data 0..k-1, parity
 * k..k+m-1. |present|[i] != 0 says shard i holds received bytes. Every missing
 * data shard's pointer must be a writable buffer; it receives the rebuilt
 * bytes. Missing parity is not rebuilt. No ownership moves.
 * Returns the number of data shards rebuilt (0 when none was missing),
 * -EAGAIN when fewer than k shards are present, -EINVAL on bad shapes (k == 0,
 * k + m > 255, len == 0 or > INT_MAX; m == 0 is accepted) or NULL pointers,
 * or -ENOMEM. Uses the first e present parity shards for e lost data shards.
 * Cost per block: the e x e inversion and table build on a pattern's first
 * use, then one ISA-L pass of e outputs over k sources. */
int bf_fec_reconstruct(bf_fec *fec, unsigned k, unsigned m, size_t len,
                       uint8_t *const *shards, const uint8_t *present);

#ifdef __cplusplus
}
#endif

#endif /* BILDFUNK_FEC_H */
