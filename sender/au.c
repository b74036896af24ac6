/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Access-unit inspection: see au.h. Annex-B NAL headers for H.264 and HEVC,
 * OBU headers plus the first bits of the sequence and frame headers for AV1;
 * the start codes and the OBU framing through bildfunk/bitstream.h.
 */
#include "au.h"

#include <bildfunk/bitstream.h>

#include <errno.h>
#include <string.h>

const uint8_t bf_av1_temporal_delimiter[BF_AV1_TD_BYTES] = {0x12, 0x00};

/* Bit reader over an RBSP held in a small buffer (emulation prevention
 * bytes already removed). */
typedef struct bitrd {
  const uint8_t *d;
  size_t len, pos; /* in bits */
} bitrd;

static int bit(bitrd *b) {
  if (b->pos >= b->len) return -1;
  int v = (b->d[b->pos / 8] >> (7 - b->pos % 8)) & 1;
  b->pos++;
  return v;
}

/* ue(v); -1 when it runs off the end or exceeds 31 bits */
static long ue(bitrd *b) {
  int zeros = 0, v;
  while ((v = bit(b)) == 0)
    if (++zeros > 31) return -1;
  if (v < 0) return -1;
  unsigned long x = 1;
  for (int i = 0; i < zeros; i++) {
    int n = bit(b);
    if (n < 0) return -1;
    x = (x << 1) | (unsigned long)n;
  }
  return (long)(x - 1);
}

/* H.264 SEI NAL payload at |d| (after the NAL header byte), |len| bytes up
 * to the next start code: recovery_frame_cnt of a recovery point message
 * (payloadType 6), or -1. */
static int h264_sei_recovery(const uint8_t *d, size_t len) {
  uint8_t rbsp[256];
  size_t n = 0;
  for (size_t i = 0; i < len && n < sizeof rbsp; i++) {
    if (i >= 2 && d[i] == 3 && d[i - 1] == 0 && d[i - 2] == 0) continue;
    rbsp[n++] = d[i];
  }
  size_t p = 0;
  while (p < n && rbsp[p] != 0x80) { /* rbsp_trailing_bits */
    unsigned type = 0, size = 0;
    while (p < n && rbsp[p] == 0xff)
      type += rbsp[p++];
    if (p >= n) return -1;
    type += rbsp[p++];
    while (p < n && rbsp[p] == 0xff)
      size += rbsp[p++];
    if (p >= n) return -1;
    size += rbsp[p++];
    if (type == 6) {
      bitrd b = {rbsp + p, (n - p) * 8, 0};
      long cnt = ue(&b);
      return cnt < 0 || cnt > 65535 ? -1 : (int)cnt;
    }
    p += size;
  }
  return -1;
}

/* Reads the header of every NAL unit of an Annex-B stream into |info|.
 * Returns the number of NAL units. */
static unsigned annexb_walk(bf_codec c, const uint8_t *d, size_t len, bf_au_info *info) {
  unsigned n = 0;
  int sps = 0, pps = 0, vps = 0;
  for (size_t i = bf_annexb_find(d, len, 0); i < len;
       i = bf_annexb_find(d, len, i + BF_ANNEXB_START_CODE_BYTES)) {
    size_t h = i + BF_ANNEXB_START_CODE_BYTES;
    if (h >= len) break;
    n++;
    if (c == BF_CODEC_H264) {
      unsigned t = d[h] & 0x1fu;
      if (t == 5) info->keyframe = 1;
      if (t == 6 && info->recovery_frames < 0) {
        size_t e = bf_annexb_find(d, len, h + 1);
        info->recovery_frames = h264_sei_recovery(d + h + 1, e - h - 1);
      }
      if (t == 7) sps = 1;
      if (t == 8) pps = 1;
    } else {
      unsigned t = (d[h] >> 1) & 0x3fu;
      if (t >= 16 && t <= 23) info->keyframe = 1;
      if (t == 32) vps = 1;
      if (t == 33) sps = 1;
      if (t == 34) pps = 1;
    }
  }
  info->param_sets = c == BF_CODEC_H264 ? (sps && pps) : (vps && sps && pps);
  return n;
}

static void av1_walk(const uint8_t *d, size_t len, bf_au_info *info) {
  int reduced_still = 0;
  bf_obu o;
  for (size_t pos = 0; pos < len; pos = o.end) {
    if (bf_obu_read(d, len, pos, &o) < 0) {
      info->malformed = 1;
      return;
    }
    if (info->units == 0 && o.type == BF_OBU_TEMPORAL_DELIMITER) {
      info->temporal_delimiter = 1;
      info->td_bytes = o.end - pos;
    }
    info->units++;
    const uint8_t *payload = d + o.payload;
    if (o.type == BF_OBU_SEQUENCE_HEADER && o.size >= 1) {
      info->param_sets = 1;
      reduced_still = (payload[0] >> 3) & 1;
    } else if ((o.type == BF_OBU_FRAME_HEADER || o.type == BF_OBU_FRAME) && o.size >= 1) {
      if (reduced_still) {
        info->keyframe = 1;
      } else {
        int show_existing = payload[0] >> 7;
        unsigned frame_type = (payload[0] >> 5) & 3u;
        int show_frame = (payload[0] >> 4) & 1;
        if (!show_existing && frame_type == 0 && show_frame) info->keyframe = 1;
      }
    }
  }
}

int bf_au_inspect(bf_codec c, const uint8_t *d, size_t len, bf_au_info *info) {
  memset(info, 0, sizeof *info);
  info->recovery_frames = -1;
  switch (c) {
  case BF_CODEC_H264:
  case BF_CODEC_HEVC:
    info->units = annexb_walk(c, d, len, info);
    if (info->units == 0) info->malformed = 1;
    return 0;
  case BF_CODEC_AV1:
    av1_walk(d, len, info);
    if (info->units == 0) info->malformed = 1;
    return 0;
  case BF_CODEC_UNKNOWN:
    break;
  }
  return -EINVAL;
}

int bf_refresh_track(bf_refresh_tracker *t, const bf_au_info *ai) {
  if (ai->keyframe) {
    if (t->active) t->abandoned++;
    t->active = 0;
    return 0;
  }
  if (ai->recovery_frames >= 0) {
    if (t->active) t->abandoned++;
    t->waves++;
    t->active = 1;
    t->left = (unsigned)ai->recovery_frames;
  } else if (t->active && t->left > 0) {
    t->left--;
  }
  if (t->active && t->left == 0) {
    t->active = 0;
    t->points++;
    return 1;
  }
  return 0;
}

void bf_refresh_reset(bf_refresh_tracker *t) {
  t->active = 0;
}
