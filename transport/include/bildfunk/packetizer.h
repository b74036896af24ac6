/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Packetizer (sender side, sans-I/O): cuts an access unit into wire-v1 video
 * packets (spec §2) protected by Reed-Solomon parity, in data-first wire order.
 *
 * Zero copy: a packet is handed out as two pieces, a 40-byte header in the
 * packetizer's own storage and a payload pointer that points straight into the
 * caller's AU (data shards) or into the packetizer's parity/tail storage. The
 * socket layer sends both as one datagram with two iovecs. The only AU bytes
 * copied are the last partial data shard (zero-padded to S). Parity for all
 * blocks is computed lazily when the first parity packet is requested, so the
 * caller can send every data shard before paying for FEC.
 *
 * All storage is allocated by bf_packetizer_new() for the largest AU the
 * configuration allows; nothing is allocated per AU or per packet.
 */
#ifndef BILDFUNK_PACKETIZER_H
#define BILDFUNK_PACKETIZER_H

#include <bildfunk/common.h>
#include <bildfunk/wire.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bf_packetizer_config {
  uint16_t shard_bytes;     /* S: even, BF_MIN_SHARD..BF_MAX_SHARD */
  uint16_t max_k;           /* K: data shards per full block, 1..253 */
  uint32_t fec_percent;     /* initial FEC %, 0..90 */
  uint32_t max_frame_bytes; /* largest AU accepted by _begin() */
  uint32_t first_frame_index; /* frame_index of the first AU (tests: wrap) */
  uint32_t first_stream_seq;  /* stream_seq of the first packet */
} bf_packetizer_config;

/* Defaults: S = 1408, K = 128, 10 % FEC, 8 MiB AUs, indices from 0. */
void bf_packetizer_config_default(bf_packetizer_config *cfg);

typedef struct bf_packetizer bf_packetizer;

/* Packets come out as bf_dgram (common.h): head = the 40-byte header in the
 * packetizer's storage, body = the S-byte shard. Both pointers stay valid until
 * the next bf_packetizer_begin() or _del(); body may point into the AU passed
 * to bf_packetizer_begin(). Every packet of an AU has the same size, so a
 * batch of them suits UDP segmentation offload. */

/* Creates a packetizer. Returns 0, -EINVAL (bad config) or -ENOMEM. */
int bf_packetizer_new(const bf_packetizer_config *cfg, bf_packetizer **out);

/* Frees |*p| (NULL is fine) and clears the caller's pointer. */
void bf_packetizer_del(bf_packetizer **p);

/* Sets the FEC percentage (0..90) used from the next AU on. -EINVAL above 90. */
int bf_packetizer_set_fec_percent(bf_packetizer *p, uint32_t pct);

/* Starts AU |au| of |len| bytes (len may be 0). |au| is borrowed: it must stay
 * unchanged until the AU's last packet has been sent. Any AU still being
 * emitted is abandoned (its remaining packets are never produced); every
 * successful call takes the next frame_index, and stream_seq counts only
 * packets actually emitted. Copies at most S - 1 bytes (the padded tail).
 * Returns 0, -EMSGSIZE (len > max_frame_bytes) or -EINVAL (|au| NULL with
 * len > 0); on error nothing changes and the current AU goes on. */
int bf_packetizer_begin(bf_packetizer *p, const uint8_t *au, size_t len,
                        uint64_t pts_ns, uint32_t user_flags);

/* Emits up to |max| next packets of the current AU into |out|; returns how
 * many (0 when the AU is done). Data shards of every block come first, then
 * parity; parity of all blocks is computed on the first call that reaches it.
 * Returns a negative errno only if the FEC coder fails (-ENOMEM); packets
 * already placed in |out| by that call are returned first, the error on the
 * next call. */
int bf_packetizer_next(bf_packetizer *p, bf_dgram *out, size_t max);

/* Packets of the current AU: data shards, parity shards, and how many are
 * still to be emitted. Before the first _begin() all counts are 0 and
 * frame_index is the one the first AU will get. */
typedef struct bf_packetizer_au_info {
  uint32_t frame_index;
  uint32_t data_packets;
  uint32_t parity_packets;
  uint32_t remaining;
} bf_packetizer_au_info;

void bf_packetizer_au_info_get(const bf_packetizer *p, bf_packetizer_au_info *info);

#ifdef __cplusplus
}
#endif

#endif /* BILDFUNK_PACKETIZER_H */
