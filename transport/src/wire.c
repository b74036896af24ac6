/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Wire format v1: header codec, AU geometry and the stateless receiver checks.
 * See bildfunk/wire.h and spec/wire-v1.md §1, §2, §4.
 */
#include <bildfunk/wire.h>

#include <errno.h>
#include <string.h>

#include "endian.h"

void bf_header_encode(const bf_header *h, uint8_t *out) {
  bf__put_le64(out + 0, h->pts_ns);
  bf__put_le32(out + 8, h->frame_index);
  bf__put_le32(out + 12, h->stream_seq);
  bf__put_le32(out + 16, h->frame_bytes);
  bf__put_le32(out + 20, h->user_flags);
  bf__put_le16(out + 24, h->block_index);
  bf__put_le16(out + 26, h->block_count);
  bf__put_le16(out + 28, h->data_shards);
  bf__put_le16(out + 30, h->recovery_shards);
  bf__put_le16(out + 32, h->shard_index);
  bf__put_le16(out + 34, h->shard_bytes);
  out[36] = h->magic;
  out[37] = h->version;
  out[38] = h->fec_scheme;
  out[39] = h->flags;
}

void bf_header_decode(const uint8_t *in, bf_header *h) {
  h->pts_ns = bf__get_le64(in + 0);
  h->frame_index = bf__get_le32(in + 8);
  h->stream_seq = bf__get_le32(in + 12);
  h->frame_bytes = bf__get_le32(in + 16);
  h->user_flags = bf__get_le32(in + 20);
  h->block_index = bf__get_le16(in + 24);
  h->block_count = bf__get_le16(in + 26);
  h->data_shards = bf__get_le16(in + 28);
  h->recovery_shards = bf__get_le16(in + 30);
  h->shard_index = bf__get_le16(in + 32);
  h->shard_bytes = bf__get_le16(in + 34);
  h->magic = in[36];
  h->version = in[37];
  h->fec_scheme = in[38];
  h->flags = in[39];
}

void bf_wire_limits_default(bf_wire_limits *lim) {
  lim->min_shard = BF_MIN_SHARD;
  lim->max_shard = BF_MAX_SHARD;
  lim->max_k = BF_DEFAULT_MAX_K;
  lim->max_frame_bytes = 8u << 20;
}

static const char *const reject_names[BF_REJECT_COUNT_] = {
    [BF_ACCEPT] = "accepted",
    [BF_REJECT_OVERSIZE] = "oversize",
    [BF_REJECT_SHORT] = "short",
    [BF_REJECT_MAGIC] = "magic",
    [BF_REJECT_VERSION] = "version",
    [BF_REJECT_FEC_SCHEME] = "fec_scheme",
    [BF_REJECT_LENGTH] = "length",
    [BF_REJECT_SHARD_BYTES] = "shard_bytes",
    [BF_REJECT_DATA_SHARDS] = "data_shards",
    [BF_REJECT_BLOCK_SHARDS] = "block_shards",
    [BF_REJECT_SHARD_INDEX] = "shard_index",
    [BF_REJECT_FRAME_BYTES] = "frame_bytes",
    [BF_REJECT_BLOCK_COUNT] = "block_count",
    [BF_REJECT_BLOCK_INDEX] = "block_index",
    [BF_REJECT_BLOCK_K] = "block_k",
    [BF_REJECT_PROBE] = "probe",
    [BF_REJECT_PIN] = "pin",
    [BF_REJECT_STALE] = "stale",
    [BF_REJECT_DUPLICATE] = "duplicate",
    [BF_REJECT_LATE] = "late",
    [BF_REJECT_MEMORY] = "memory",
    [BF_REJECT_JUMP] = "jump",
};

const char *bf_reject_name(bf_reject r) {
  if ((unsigned)r >= BF_REJECT_COUNT_) return "unknown";
  return reject_names[r];
}

void bf_geometry_compute(uint32_t frame_bytes, uint32_t shard_bytes,
                         uint32_t max_k, bf_geometry *g) {
  /* 64-bit intermediates: frame_bytes + shard_bytes - 1 may exceed u32. */
  uint64_t total = ((uint64_t)frame_bytes + shard_bytes - 1) / shard_bytes;
  if (total == 0) total = 1;
  g->total_data = (uint32_t)total;
  g->block_count = (uint32_t)((total + max_k - 1) / max_k);
}

uint32_t bf_geometry_block_k(const bf_geometry *g, uint32_t max_k,
                             uint32_t block_index) {
  uint64_t first = (uint64_t)block_index * max_k;
  if (first >= g->total_data) return 0;
  uint64_t left = g->total_data - first;
  return left < max_k ? (uint32_t)left : max_k;
}

uint32_t bf_fec_recovery_count(uint32_t k, uint32_t pct) {
  if (pct == 0 || k == 0) return 0;
  if (pct > BF_MAX_FEC_PERCENT) pct = BF_MAX_FEC_PERCENT;
  uint32_t m = (k * pct + 99) / 100;
  if (m < 2) m = 2;
  if (k + m > BF_MAX_BLOCK_SHARDS) m = k >= BF_MAX_BLOCK_SHARDS ? 0 : BF_MAX_BLOCK_SHARDS - k;
  return m;
}

bf_reject bf_header_validate(const bf_header *h, size_t datagram_len,
                             const bf_wire_limits *lim) {
  if (datagram_len > BF_MAX_DATAGRAM) return BF_REJECT_OVERSIZE;
  if (datagram_len < BF_HEADER_BYTES) return BF_REJECT_SHORT;
  if (h->magic != BF_MAGIC) return BF_REJECT_MAGIC;
  if (h->version != BF_WIRE_VERSION) return BF_REJECT_VERSION;
  if (h->fec_scheme != BF_FEC_SCHEME_CAUCHY8) return BF_REJECT_FEC_SCHEME;
  if (datagram_len != BF_HEADER_BYTES + (size_t)h->shard_bytes)
    return BF_REJECT_LENGTH;
  if ((h->shard_bytes & 1u) != 0 || h->shard_bytes < lim->min_shard ||
      h->shard_bytes > lim->max_shard)
    return BF_REJECT_SHARD_BYTES;
  if (h->data_shards == 0 || h->data_shards > lim->max_k)
    return BF_REJECT_DATA_SHARDS;
  if ((uint32_t)h->data_shards + h->recovery_shards > BF_MAX_BLOCK_SHARDS)
    return BF_REJECT_BLOCK_SHARDS;
  if ((uint32_t)h->shard_index >=
      (uint32_t)h->data_shards + h->recovery_shards)
    return BF_REJECT_SHARD_INDEX;
  if (h->frame_bytes > lim->max_frame_bytes) return BF_REJECT_FRAME_BYTES;
  bf_geometry g;
  bf_geometry_compute(h->frame_bytes, h->shard_bytes, lim->max_k, &g);
  if (h->block_count == 0 || h->block_count != g.block_count)
    return BF_REJECT_BLOCK_COUNT;
  if (h->block_index >= h->block_count) return BF_REJECT_BLOCK_INDEX;
  if (h->data_shards != bf_geometry_block_k(&g, lim->max_k, h->block_index))
    return BF_REJECT_BLOCK_K;
  return BF_ACCEPT;
}

bf_reject bf_datagram_parse(const uint8_t *d, size_t len,
                            const bf_wire_limits *lim, bf_header *h) {
  if (len > BF_MAX_DATAGRAM) return BF_REJECT_OVERSIZE;
  if (len < BF_HEADER_BYTES) return BF_REJECT_SHORT;
  bf_header_decode(d, h);
  return bf_header_validate(h, len, lim);
}
