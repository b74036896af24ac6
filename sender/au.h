/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Access-unit inspection: what an encoded picture is, read from its bytes.
 *
 * The sender sends H.264 and HEVC access units as Annex-B byte streams (start
 * codes) and AV1 temporal units in the low-overhead OBU format, each starting
 * with a temporal delimiter, so that the concatenation of the AUs it sends is
 * a stream ffmpeg reads directly (.h264, .hevc, .obu). This module tells from
 * the bytes alone whether an AU is a keyframe (a random access point the
 * decoder can start at) and whether it carries the parameter sets a decoder
 * joining there needs. It is the sender's source of truth for
 * BF_AU_KEYFRAME and the tests' cross-check of it.
 *
 * Pure computation: no FFmpeg, no allocation. Not a validating parser: it
 * reads just the headers it needs and reports what it could not read. The
 * codec enum and the start-code and OBU framing are the media library's
 * (bildfunk/codec.h, bildfunk/bitstream.h).
 */
#ifndef BF_SENDER_AU_H
#define BF_SENDER_AU_H

#include <bildfunk/codec.h>

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bf_au_info {
  int keyframe;           /* IDR (H.264), IRAP (HEVC), KEY_FRAME shown (AV1) */
  int param_sets;         /* SPS+PPS (H.264), VPS+SPS+PPS (HEVC), sequence header (AV1) */
  int temporal_delimiter; /* AV1: the AU starts with a temporal delimiter OBU */
  size_t td_bytes;        /* ... of this many bytes */
  unsigned units;         /* NAL units / OBUs found */
  int malformed;          /* no start code, truncated OBU, ... */
  int recovery_frames;    /* H.264: recovery_frame_cnt of a recovery point SEI (an
                           * intra-refresh wave starts here and the picture this many
                           * frames later is clean); -1 when there is none */
} bf_au_info;

/* Inspects AU |d| of |len| bytes of codec |c| into |info|. Returns 0, or
 * -EINVAL for an unknown codec. A malformed AU returns 0 with
 * info->malformed set. */
int bf_au_inspect(bf_codec c, const uint8_t *d, size_t len, bf_au_info *info);

/* Intra-refresh recovery points, from the AUs in the order they are sent:
 * an AU with a recovery point SEI (and no IDR) starts a wave; the AU
 * recovery_frames AUs later completes it and is the recovery point (wire
 * user flag BF_AU_RECOVERY_POINT). An IDR, or a new wave, replaces a wave
 * still under way. Assumes one AU per frame (no B-frames: the sender's
 * encoders). */
typedef struct bf_refresh_tracker {
  int active;         /* a wave is under way */
  unsigned left;      /* AUs until its recovery point */
  uint64_t waves;     /* waves started */
  uint64_t points;    /* recovery points found */
  uint64_t abandoned; /* waves replaced before they completed */
} bf_refresh_tracker;

/* Takes the next AU's inspection; returns 1 when this AU is a recovery
 * point. */
int bf_refresh_track(bf_refresh_tracker *t, const bf_au_info *ai);

/* Forgets a wave under way (the stream starts over for a new client). */
void bf_refresh_reset(bf_refresh_tracker *t);

/* The two-byte AV1 temporal delimiter OBU (type 2, has_size, size 0). */
#define BF_AV1_TD_BYTES 2u
extern const uint8_t bf_av1_temporal_delimiter[BF_AV1_TD_BYTES];

#ifdef __cplusplus
}
#endif

#endif /* BF_SENDER_AU_H */
