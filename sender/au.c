/*
 * Access-unit inspection: see au.h. Annex-B NAL headers for H.264 and HEVC,
 * OBU headers plus the first bits of the sequence and frame headers for AV1.
 */
#include "au.h"

#include <errno.h>
#include <string.h>

const uint8_t bf_av1_temporal_delimiter[BF_AV1_TD_BYTES] = {0x12, 0x00};

const char *bf_codec_name(bf_codec c) {
  switch (c) {
  case BF_CODEC_H264:
    return "h264";
  case BF_CODEC_HEVC:
    return "hevc";
  case BF_CODEC_AV1:
    return "av1";
  }
  return NULL;
}

int bf_codec_parse(const char *name, bf_codec *out) {
  if (!name) return -EINVAL;
  if (!strcmp(name, "h264") || !strcmp(name, "avc"))
    *out = BF_CODEC_H264;
  else if (!strcmp(name, "hevc") || !strcmp(name, "h265"))
    *out = BF_CODEC_HEVC;
  else if (!strcmp(name, "av1"))
    *out = BF_CODEC_AV1;
  else
    return -EINVAL;
  return 0;
}

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
  for (size_t i = 0; i + 3 <= len; i++) {
    if (d[i] != 0 || d[i + 1] != 0 || d[i + 2] != 1) continue;
    size_t h = i + 3;
    i += 2;
    if (h >= len) break;
    n++;
    if (c == BF_CODEC_H264) {
      unsigned t = d[h] & 0x1fu;
      if (t == 5) info->keyframe = 1;
      if (t == 6 && info->recovery_frames < 0) {
        size_t e = h + 1;
        while (e + 3 <= len && !(d[e] == 0 && d[e + 1] == 0 && d[e + 2] == 1))
          e++;
        if (e + 3 > len) e = len;
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

/* Reads a leb128 at |d|; returns bytes used, 0 on error. */
static size_t leb128(const uint8_t *d, size_t len, uint64_t *v) {
  *v = 0;
  for (size_t i = 0; i < 8 && i < len; i++) {
    *v |= (uint64_t)(d[i] & 0x7fu) << (7 * i);
    if (!(d[i] & 0x80u)) return i + 1;
  }
  return 0;
}

static void av1_walk(const uint8_t *d, size_t len, bf_au_info *info) {
  int reduced_still = 0;
  size_t pos = 0;
  while (pos < len) {
    uint8_t hdr = d[pos];
    unsigned type = (hdr >> 3) & 0xfu;
    int ext = (hdr >> 2) & 1, has_size = (hdr >> 1) & 1;
    size_t p = pos + 1 + (size_t)ext;
    if ((hdr & 0x80u) || p > len) {
      info->malformed = 1;
      return;
    }
    uint64_t size = len - p;
    if (has_size) {
      size_t used = leb128(d + p, len - p, &size);
      if (!used) {
        info->malformed = 1;
        return;
      }
      p += used;
    }
    if (size > len - p) {
      info->malformed = 1;
      return;
    }
    if (info->units == 0 && type == 2) {
      info->temporal_delimiter = 1;
      info->td_bytes = p + (size_t)size - pos;
    }
    info->units++;
    const uint8_t *payload = d + p;
    if (type == 1 && size >= 1) { /* sequence header */
      info->param_sets = 1;
      reduced_still = (payload[0] >> 3) & 1;
    } else if ((type == 3 || type == 6) && size >= 1) { /* frame header / frame */
      if (reduced_still) {
        info->keyframe = 1;
      } else {
        int show_existing = payload[0] >> 7;
        unsigned frame_type = (payload[0] >> 5) & 3u;
        int show_frame = (payload[0] >> 4) & 1;
        if (!show_existing && frame_type == 0 && show_frame) info->keyframe = 1;
      }
    }
    pos = p + (size_t)size;
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
