/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Packetizer (sender side, sans-I/O): one access unit in, wire-v1 video
 * packets out, every block's data shards first, then every block's parity.
 * See bildfunk/packetizer.h and spec/wire-v1.md §1-§3.
 *
 * It is not a socket layer, a pacer or a sealer: it decides which bytes make
 * up each datagram and hands them out as header + body pointers. Storage is
 * sized in bf_packetizer_new() for the largest AU at 90 % FEC (the percentage
 * can be raised later), so _begin() and _next() never allocate; only the FEC
 * coder builds an encode table the first time it meets a (k, m) shape.
 *
 * Costs per AU: _begin() copies at most S - 1 bytes (the padded tail shard)
 * and touches no other AU byte; each emitted packet encodes its 40-byte
 * header; the first parity packet computes the parity of all blocks at once
 * (ISA-L, ~GB/s), so every data shard can be on the wire before FEC costs
 * anything.
 */
#include <bildfunk/packetizer.h>

#include <bildfunk/fec.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct bf_packetizer {
  /* Session constants. */
  uint32_t shard_bytes;     /* S */
  uint32_t max_k;           /* K */
  uint32_t max_frame_bytes; /* largest AU _begin() accepts */
  uint32_t max_packets;     /* header slots: packets of the largest AU at 90 % */
  uint32_t max_parity;      /* parity shards any AU can need at 90 % */

  /* Session state. */
  uint32_t fec_percent;      /* used from the next _begin() on */
  uint32_t next_frame_index; /* given to the next AU */
  uint32_t next_stream_seq;  /* given to the next packet emitted */

  bf_fec *fec;
  uint8_t *headers; /* max_packets x 40; slot n = packet n of the current AU */
  uint8_t *parity;  /* max_parity x S, in wire order (block 0's first) */
  uint8_t *tail;    /* S: the last partial data shard, zero-padded */

  /* Current AU. */
  const uint8_t *au;     /* borrowed from the caller */
  uint32_t full_shards;  /* data shards read straight from |au| */
  bf_header hdr;         /* per-AU fields; per-packet ones set on emission */
  bf_geometry geo;       /* total_data, block_count */
  uint32_t k_last;       /* k of the last block (the others hold K) */
  uint32_t m_full;       /* m of a block of K data shards */
  uint32_t m_last;       /* m of the last block */
  uint32_t data_packets; /* = geo.total_data */
  uint32_t parity_packets;
  uint32_t emitted; /* packets of this AU handed out so far */
  int parity_ready; /* parity of every block computed */
  int have_au;      /* _begin() has succeeded at least once */

  /* Scratch for one bf_fec_encode() call. */
  const uint8_t *enc_data[BF_MAX_BLOCK_SHARDS];
  uint8_t *enc_parity[BF_MAX_BLOCK_SHARDS];
};

void bf_packetizer_config_default(bf_packetizer_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->shard_bytes = BF_DEFAULT_SHARD_V4;
  cfg->max_k = BF_DEFAULT_MAX_K;
  cfg->fec_percent = 10;
  cfg->max_frame_bytes = 8u << 20;
  cfg->first_frame_index = 0;
  cfg->first_stream_seq = 0;
}

/* Largest m of any block of 1..|k| data shards at 90 %. m is not monotone in
 * k (k + m is capped at 255), hence the scan. */
static uint32_t max_m_upto(uint32_t k) {
  uint32_t best = 0;
  for (uint32_t i = 1; i <= k; i++) {
    uint32_t m = bf_fec_recovery_count(i, BF_MAX_FEC_PERCENT);
    if (m > best) best = m;
  }
  return best;
}

/* Worst-case packet and parity counts over every AU size up to
 * |max_frame_bytes| at 90 %. With F full blocks and a partial one of R shards
 * in the largest AU: packets per block (k + m) grow with k, so the largest AU
 * has the most packets; parity peaks either there or at F - 1 full blocks plus
 * the partial block with the most parity. */
static void worst_case(uint32_t max_frame_bytes, uint32_t s, uint32_t k_max, uint64_t *packets,
                       uint64_t *parity) {
  bf_geometry g;
  bf_geometry_compute(max_frame_bytes, s, k_max, &g);
  uint64_t full = g.total_data / k_max;
  uint32_t rest = g.total_data % k_max;
  uint64_t m_k = bf_fec_recovery_count(k_max, BF_MAX_FEC_PERCENT);
  uint64_t m_r = bf_fec_recovery_count(rest, BF_MAX_FEC_PERCENT);
  *packets = full * (k_max + m_k) + rest + m_r;
  uint64_t a = full * m_k + max_m_upto(rest);
  uint64_t b = full > 0 ? (full - 1) * m_k + max_m_upto(k_max - 1) : 0;
  *parity = a > b ? a : b;
}

static int config_valid(const bf_packetizer_config *cfg) {
  if (cfg->shard_bytes % 2 != 0 || cfg->shard_bytes < BF_MIN_SHARD ||
      cfg->shard_bytes > BF_MAX_SHARD)
    return 0;
  /* k + 2 <= 255: a block must fit at least the minimum parity. */
  if (cfg->max_k < 1 || cfg->max_k > BF_MAX_BLOCK_SHARDS - 2) return 0;
  if (cfg->fec_percent > BF_MAX_FEC_PERCENT) return 0;
  if (cfg->max_frame_bytes == 0) return 0;
  bf_geometry g;
  bf_geometry_compute(cfg->max_frame_bytes, cfg->shard_bytes, cfg->max_k, &g);
  if (g.block_count > UINT16_MAX) return 0; /* block_count is a u16 field */
  return 1;
}

int bf_packetizer_new(const bf_packetizer_config *cfg, bf_packetizer **out) {
  *out = NULL;
  if (!config_valid(cfg)) return -EINVAL;
  uint64_t packets, parity;
  worst_case(cfg->max_frame_bytes, cfg->shard_bytes, cfg->max_k, &packets, &parity);
  uint64_t head_bytes = packets * BF_HEADER_BYTES;
  uint64_t parity_bytes = parity * cfg->shard_bytes;
  if (head_bytes > SIZE_MAX || parity_bytes > SIZE_MAX) return -ENOMEM;

  bf_packetizer *p = calloc(1, sizeof *p);
  if (!p) return -ENOMEM;
  p->shard_bytes = cfg->shard_bytes;
  p->max_k = cfg->max_k;
  p->max_frame_bytes = cfg->max_frame_bytes;
  p->max_packets = (uint32_t)packets;
  p->max_parity = (uint32_t)parity;
  p->fec_percent = cfg->fec_percent;
  p->next_frame_index = cfg->first_frame_index;
  p->next_stream_seq = cfg->first_stream_seq;
  p->headers = malloc((size_t)head_bytes);
  /* parity is 0 only for impossible configs; keep malloc(0) out of it. */
  p->parity = malloc(parity_bytes > 0 ? (size_t)parity_bytes : 1);
  p->tail = malloc(cfg->shard_bytes);
  int rc = -ENOMEM;
  if (!p->headers || !p->parity || !p->tail) goto error;
  rc = bf_fec_new(&p->fec);
  if (rc < 0) goto error;
  *out = p;
  return 0;
error:
  bf_packetizer_del(&p);
  return rc;
}

void bf_packetizer_del(bf_packetizer **pp) {
  if (!pp || !*pp) return;
  bf_packetizer *p = *pp;
  bf_fec_del(&p->fec);
  free(p->headers);
  free(p->parity);
  free(p->tail);
  free(p);
  *pp = NULL;
}

int bf_packetizer_set_fec_percent(bf_packetizer *p, uint32_t pct) {
  if (pct > BF_MAX_FEC_PERCENT) return -EINVAL;
  p->fec_percent = pct;
  return 0;
}

int bf_packetizer_begin(bf_packetizer *p, const uint8_t *au, size_t len, uint64_t pts_ns,
                        uint32_t user_flags) {
  if (!au && len > 0) return -EINVAL;
  if (len > p->max_frame_bytes) return -EMSGSIZE;
  const uint32_t s = p->shard_bytes, k_max = p->max_k;
  const uint32_t frame_bytes = (uint32_t)len;

  p->au = au;
  bf_geometry_compute(frame_bytes, s, k_max, &p->geo);
  const uint32_t bc = p->geo.block_count;
  p->k_last = bf_geometry_block_k(&p->geo, k_max, bc - 1);
  p->m_full = bf_fec_recovery_count(k_max, p->fec_percent);
  p->m_last = bf_fec_recovery_count(p->k_last, p->fec_percent);
  p->data_packets = p->geo.total_data;
  p->parity_packets = (bc - 1) * p->m_full + p->m_last;
  p->emitted = 0;
  p->parity_ready = p->parity_packets == 0;
  p->have_au = 1;

  /* The last data shard is a copy when it is partial (or the AU is empty). */
  p->full_shards = frame_bytes / s;
  uint32_t rest = frame_bytes % s;
  if (p->full_shards < p->data_packets) {
    if (rest > 0) memcpy(p->tail, au + (size_t)p->full_shards * s, rest);
    memset(p->tail + rest, 0, s - rest);
  }

  bf_header *h = &p->hdr;
  memset(h, 0, sizeof *h);
  h->pts_ns = pts_ns;
  h->frame_index = p->next_frame_index++;
  h->frame_bytes = frame_bytes;
  h->user_flags = user_flags & BF_AU_KNOWN_FLAGS;
  h->block_count = (uint16_t)bc;
  h->shard_bytes = (uint16_t)s;
  h->magic = BF_MAGIC;
  h->version = BF_WIRE_VERSION;
  h->fec_scheme = BF_FEC_SCHEME_CAUCHY8;
  return 0;
}

/* Body of global data shard |d| (0..total_data-1). */
static const uint8_t *data_body(const bf_packetizer *p, uint32_t d) {
  if (d < p->full_shards) return p->au + (size_t)d * p->shard_bytes;
  return p->tail;
}

/* Parity of every block, into |parity| in wire order. */
static int compute_parity(bf_packetizer *p) {
  const uint32_t s = p->shard_bytes, k_max = p->max_k, bc = p->geo.block_count;
  for (uint32_t b = 0; b < bc; b++) {
    uint32_t k = b + 1 < bc ? k_max : p->k_last;
    uint32_t m = b + 1 < bc ? p->m_full : p->m_last;
    for (uint32_t i = 0; i < k; i++)
      p->enc_data[i] = data_body(p, b * k_max + i);
    for (uint32_t j = 0; j < m; j++)
      p->enc_parity[j] = p->parity + ((size_t)b * p->m_full + j) * s;
    int rc = bf_fec_encode(p->fec, k, m, s, p->enc_data, p->enc_parity);
    if (rc < 0) return rc;
  }
  p->parity_ready = 1;
  return 0;
}

/* Fills |out| with packet |pos| of the current AU and encodes its header into
 * header slot |pos|, stamping the next stream_seq. */
static void emit(bf_packetizer *p, uint32_t pos, bf_dgram *out) {
  const uint32_t s = p->shard_bytes, k_max = p->max_k, bc = p->geo.block_count;
  bf_header *h = &p->hdr;
  uint32_t b;
  if (pos < p->data_packets) {
    b = pos / k_max;
    h->shard_index = (uint16_t)(pos % k_max);
    h->flags = (uint8_t)(BF_PKT_PIC | (pos == 0 ? BF_PKT_SOF : 0) |
                         (pos + 1 == p->data_packets ? BF_PKT_EOF : 0));
    out->body = data_body(p, pos);
  } else {
    uint32_t q = pos - p->data_packets; /* parity position, wire order */
    uint32_t before_last = (bc - 1) * p->m_full;
    uint32_t j;
    if (q < before_last) {
      b = q / p->m_full;
      j = q % p->m_full;
    } else {
      b = bc - 1;
      j = q - before_last;
    }
    uint32_t k = b + 1 < bc ? k_max : p->k_last;
    h->shard_index = (uint16_t)(k + j);
    h->flags = 0;
    out->body = p->parity + (size_t)q * s;
  }
  h->block_index = (uint16_t)b;
  h->data_shards = (uint16_t)(b + 1 < bc ? k_max : p->k_last);
  h->recovery_shards = (uint16_t)(b + 1 < bc ? p->m_full : p->m_last);
  h->stream_seq = p->next_stream_seq++;
  uint8_t *head = p->headers + (size_t)pos * BF_HEADER_BYTES;
  bf_header_encode(h, head);
  out->head = head;
  out->head_len = BF_HEADER_BYTES;
  out->body_len = s;
}

int bf_packetizer_next(bf_packetizer *p, bf_dgram *out, size_t max) {
  if (!p->have_au) return 0;
  const uint32_t total = p->data_packets + p->parity_packets;
  size_t n = 0;
  while (n < max && p->emitted < total) {
    if (p->emitted >= p->data_packets && !p->parity_ready) {
      int rc = compute_parity(p);
      /* Packets already in |out| were emitted; report them, and the error
       * again on the next call (nothing advanced past the data shards). */
      if (rc < 0) return n > 0 ? (int)n : rc;
    }
    emit(p, p->emitted, &out[n]);
    p->emitted++;
    n++;
  }
  return (int)n;
}

void bf_packetizer_au_info_get(const bf_packetizer *p, bf_packetizer_au_info *info) {
  if (!p->have_au) {
    info->frame_index = p->next_frame_index;
    info->data_packets = info->parity_packets = info->remaining = 0;
    return;
  }
  info->frame_index = p->hdr.frame_index;
  info->data_packets = p->data_packets;
  info->parity_packets = p->parity_packets;
  info->remaining = p->data_packets + p->parity_packets - p->emitted;
}
