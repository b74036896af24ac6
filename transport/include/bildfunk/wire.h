/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * bildfunk wire format v1: the 40-byte video packet header (spec §1), the
 * shard geometry of an access unit (spec §2) and the receiver's stateless
 * checks (spec §4).
 *
 * The header is encoded and decoded field by field, little-endian; no struct is
 * ever cast onto the wire. Everything here is pure computation: no allocation,
 * no I/O, no clock. The stateful checks of spec §4 (per-AU pins, abandonment,
 * remembered indices, duplicates, memory) live in the reassembler.
 */
#ifndef BILDFUNK_WIRE_H
#define BILDFUNK_WIRE_H

#include <bildfunk/common.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BF_HEADER_BYTES 40u
#define BF_MAGIC 0xC9u
#define BF_WIRE_VERSION 1u
#define BF_FEC_SCHEME_CAUCHY8 0u

/* No valid datagram exceeds this; receive buffers are one byte larger so a
 * read that fills one is known to be oversized (spec §5). */
#define BF_MAX_DATAGRAM 9216u
#define BF_RECV_BUF_BYTES 9217u
/* Sealed form overhead: seq u64 + 16-byte GCM tag (spec §6). */
#define BF_SEAL_OVERHEAD 24u

/* Shard payload bounds and defaults (spec §2). */
#define BF_MIN_SHARD 512u
#define BF_MAX_SHARD (BF_MAX_DATAGRAM - BF_HEADER_BYTES - BF_SEAL_OVERHEAD)
#define BF_DEFAULT_SHARD_V4 1408u
#define BF_DEFAULT_SHARD_V6 1388u
/* K: maximum data shards per FEC block (session parameter). */
#define BF_DEFAULT_MAX_K 128u
/* k + m of one block never exceeds this (GF(2^8)). */
#define BF_MAX_BLOCK_SHARDS 255u
#define BF_MAX_FEC_PERCENT 90u

/* Per-packet flags (header byte 39). */
#define BF_PKT_PIC 0x1u   /* on every data shard */
#define BF_PKT_EOF 0x2u   /* on the AU's last data shard */
#define BF_PKT_SOF 0x4u   /* on the AU's first data shard */
#define BF_PKT_PROBE 0x8u /* bandwidth filler, never decoded */

/* Per-AU user_flags bits. Other bits are sent as 0 and ignored. */
#define BF_AU_KEYFRAME 0x4u
#define BF_AU_RECOVERY_POINT 0x10u
#define BF_AU_RECOVERY_ANCHOR 0x20u
#define BF_AU_REPEAT 0x100u
#define BF_AU_KNOWN_FLAGS                                                      \
  (BF_AU_KEYFRAME | BF_AU_RECOVERY_POINT | BF_AU_RECOVERY_ANCHOR | BF_AU_REPEAT)

/* The decoded 40-byte header, one member per wire field. */
typedef struct bf_header {
  uint64_t pts_ns;          /* capture time, sender CLOCK_REALTIME, Unix ns */
  uint32_t frame_index;     /* AU number, +1 per AU, wraps */
  uint32_t stream_seq;      /* packet number, +1 per packet, wraps */
  uint32_t frame_bytes;     /* exact AU size */
  uint32_t user_flags;      /* BF_AU_* */
  uint16_t block_index;     /* 0..block_count-1 */
  uint16_t block_count;     /* >= 1 */
  uint16_t data_shards;     /* k of this block */
  uint16_t recovery_shards; /* m of this block */
  uint16_t shard_index;     /* 0..k-1 data, k..k+m-1 parity */
  uint16_t shard_bytes;     /* payload bytes after the header, even */
  uint8_t magic;            /* BF_MAGIC */
  uint8_t version;          /* BF_WIRE_VERSION */
  uint8_t fec_scheme;       /* BF_FEC_SCHEME_CAUCHY8 */
  uint8_t flags;            /* BF_PKT_* */
} bf_header;

/* Writes |h| as exactly BF_HEADER_BYTES bytes at |out|. */
void bf_header_encode(const bf_header *h, uint8_t *out);

/* Reads BF_HEADER_BYTES bytes at |in| into |h|. No checks: see
 * bf_header_validate(). */
void bf_header_decode(const uint8_t *in, bf_header *h);

/* Session limits a receiver checks headers against. */
typedef struct bf_wire_limits {
  uint16_t min_shard;       /* smallest accepted shard_bytes (>= BF_MIN_SHARD) */
  uint16_t max_shard;       /* largest accepted shard_bytes (<= BF_MAX_SHARD) */
  uint16_t max_k;           /* K: data shards per full block */
  uint32_t max_frame_bytes; /* largest AU the session allows */
} bf_wire_limits;

/* Fills |lim| with the defaults: 512..9152 byte shards, K = 128, 8 MiB AUs. */
void bf_wire_limits_default(bf_wire_limits *lim);

/* Why a datagram was dropped. The first group is the stateless header check
 * (bf_header_validate); the second is the reassembler's stateful rules. Each
 * has a counter in bf_reassembler_stats and a name from bf_reject_name(). */
typedef enum bf_reject {
  BF_ACCEPT = 0,
  /* stateless, spec §4 and §5 */
  BF_REJECT_OVERSIZE,      /* datagram longer than BF_MAX_DATAGRAM */
  BF_REJECT_SHORT,         /* shorter than a header */
  BF_REJECT_MAGIC,         /* magic != 0xC9 */
  BF_REJECT_VERSION,       /* version != 1 */
  BF_REJECT_FEC_SCHEME,    /* fec_scheme != 0 */
  BF_REJECT_LENGTH,        /* datagram length != 40 + shard_bytes */
  BF_REJECT_SHARD_BYTES,   /* odd or outside the session bounds */
  BF_REJECT_DATA_SHARDS,   /* k == 0 or k > K */
  BF_REJECT_BLOCK_SHARDS,  /* k + m > 255 */
  BF_REJECT_SHARD_INDEX,   /* shard_index >= k + m */
  BF_REJECT_FRAME_BYTES,   /* frame_bytes > max_frame_bytes */
  BF_REJECT_BLOCK_COUNT,   /* block_count != ceil(ceil(frame_bytes/S)/K) */
  BF_REJECT_BLOCK_INDEX,   /* block_index >= block_count */
  BF_REJECT_BLOCK_K,       /* k != what the geometry implies for the block */
  /* stateful, the reassembler */
  BF_REJECT_PROBE,         /* PROBE filler: counted, never decoded */
  BF_REJECT_PIN,           /* contradicts the AU's or block's pinned fields */
  BF_REJECT_STALE,         /* AU index too old, or abandoned/lost */
  BF_REJECT_DUPLICATE,     /* shard already held */
  BF_REJECT_LATE,          /* original arrived after its block was rebuilt */
  BF_REJECT_MEMORY,        /* in-flight memory budget exhausted */
  BF_REJECT_JUMP,          /* index far ahead of the window, not (yet) corroborated */
  BF_REJECT_COUNT_
} bf_reject;

/* Stable lower-case name of |r| ("magic", "pin", ...); "unknown" when out of
 * range. */
const char *bf_reject_name(bf_reject r);

/* Shard geometry of one AU (spec §2). */
typedef struct bf_geometry {
  uint32_t total_data;  /* max(1, ceil(frame_bytes / S)) */
  uint32_t block_count; /* ceil(total_data / K) */
} bf_geometry;

/* Computes the geometry of an AU of |frame_bytes| cut into |shard_bytes|
 * shards, K = |max_k|. Both must be non-zero. */
void bf_geometry_compute(uint32_t frame_bytes, uint32_t shard_bytes,
                         uint32_t max_k, bf_geometry *g);

/* k of block |block_index| of geometry |g| with K = |max_k|. */
uint32_t bf_geometry_block_k(const bf_geometry *g, uint32_t max_k,
                             uint32_t block_index);

/* m for a block of |k| data shards at FEC percentage |pct| (0..90):
 * 0 when pct == 0, else max(2, ceil(k * pct / 100)), clamped so that
 * k + m <= 255. */
uint32_t bf_fec_recovery_count(uint32_t k, uint32_t pct);

/* Checks a decoded header against the stateless rules of spec §4 for a
 * datagram of |datagram_len| bytes (unsealed: header + shard). Returns
 * BF_ACCEPT or the first rule it breaks. */
bf_reject bf_header_validate(const bf_header *h, size_t datagram_len,
                             const bf_wire_limits *lim);

/* Decodes and validates datagram |d| of |len| bytes into |h|. |h| is filled
 * only when the datagram is at least a header long. */
bf_reject bf_datagram_parse(const uint8_t *d, size_t len,
                            const bf_wire_limits *lim, bf_header *h);

#ifdef __cplusplus
}
#endif

#endif /* BILDFUNK_WIRE_H */
