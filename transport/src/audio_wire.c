/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The audio datagram codec: see audio_wire.h. Only the byte layout lives
 * here (portable, no FEC); the block protection is audio_fec.c.
 *
 *   0  u8  magic 0xA0          8  u32 seq
 *   1  u8  type                12 u8  index
 *   2  u8  frame_units         13 u8  flags (0)
 *   3  u8  channels            14 u16 body length
 *   4  u16 bitrate_kbps        16 ... body: DATA capture_ns u64, opus_len
 *   6  u8  k                          u16, Opus bytes; PARITY the parity
 *   7  u8  m                          shard
 */
#include <bildfunk/audio_wire.h>

#include "audio_internal.h"
#include "endian.h"

#include <errno.h>
#include <string.h>

int bf_audio_encode_request(uint8_t *out, size_t cap) {
  if (!out || cap < BF_AUDIO_REQUEST_BYTES) return -EINVAL;
  out[0] = BF_AUDIO_MAGIC;
  out[1] = BF_AUDIO_REQUEST;
  out[2] = 1; /* version */
  out[3] = 0;
  return (int)BF_AUDIO_REQUEST_BYTES;
}

static int params_ok(const bf_audio_params *p) {
  return p->frame_units >= 1 && p->frame_units <= 8 && p->channels >= 1 && p->channels <= 2;
}

int bf_audio_decode(const uint8_t *d, size_t len, bf_audio_pkt *o) {
  memset(o, 0, sizeof *o);
  if (!d || len < 2 || d[0] != BF_AUDIO_MAGIC) return -EBADMSG;
  o->type = d[1];
  if (o->type == BF_AUDIO_REQUEST) return len >= BF_AUDIO_REQUEST_BYTES ? 0 : -EBADMSG;
  if ((o->type != BF_AUDIO_DATA && o->type != BF_AUDIO_PARITY) || len < BF_AUDIO_HDR_BYTES ||
      len > BF_AUDIO_MAX_PLAIN)
    return -EBADMSG;
  o->p.frame_units = d[2];
  o->p.channels = d[3];
  o->p.bitrate_kbps = bf__get_le16(d + 4);
  o->k = d[6];
  o->m = d[7];
  o->seq = bf__get_le32(d + 8);
  o->index = d[12];
  size_t body = bf__get_le16(d + 14);
  if (!params_ok(&o->p) || o->k < 1 || o->k > BF_AUDIO_FEC_MAX_K || o->m > BF_AUDIO_FEC_MAX_M ||
      d[13] != 0 || body != len - BF_AUDIO_HDR_BYTES)
    return -EBADMSG;
  o->shard = d + BF_AUDIO_HDR_BYTES;
  o->shard_len = body;
  if (o->type == BF_AUDIO_PARITY) {
    /* a parity shard protects at least one frame's head and one byte */
    if (o->m == 0 || o->index >= o->m || body < BF_AUDIO_SHARD_HEAD + 1) return -EBADMSG;
    return 0;
  }
  if (o->index >= o->k || body < BF_AUDIO_SHARD_HEAD + 1) return -EBADMSG;
  o->capture_ns = bf__get_le64(o->shard);
  o->opus_len = bf__get_le16(o->shard + 8);
  if (o->opus_len + BF_AUDIO_SHARD_HEAD != body) return -EBADMSG;
  o->opus = o->shard + BF_AUDIO_SHARD_HEAD;
  return 0;
}

void bf__audio_put_header(uint8_t *d, uint8_t type, const bf_audio_params *p, unsigned k,
                          unsigned m, uint32_t seq, unsigned index, size_t body) {
  d[0] = BF_AUDIO_MAGIC;
  d[1] = type;
  d[2] = p->frame_units;
  d[3] = p->channels;
  bf__put_le16(d + 4, p->bitrate_kbps);
  d[6] = (uint8_t)k;
  d[7] = (uint8_t)m;
  bf__put_le32(d + 8, seq);
  d[12] = (uint8_t)index;
  d[13] = 0;
  bf__put_le16(d + 14, (uint16_t)body);
}
