/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Video decoder: one access unit in, at most one picture out, through
 * libavcodec (H.264, HEVC, AV1 via libdav1d), tuned for latency:
 * AV_CODEC_FLAG_LOW_DELAY and slice threading on min(4, cores) threads.
 * Frame threading is never used: it holds one whole frame per thread
 * (16.7 ms at 60 fps; dav1d's default holds two, see the reference notes).
 * Errors are surfaced (AV_EF_EXPLODE): a rejected AU returns an error so the
 * caller can freeze the picture and ask for a keyframe.
 *
 * Hardware: --decoder vaapi|vdpau|cuda opens that device and fails if it
 * cannot; auto tries them in that order and falls back to software with one
 * log line. Hardware pictures are transferred to system memory (NV12) for
 * the texture.
 *
 * The codec enum, its names and the codec of an access unit told from its
 * bytes are the media library's (bildfunk/codec.h).
 */
#ifndef BF_CLIENT_DECODER_H
#define BF_CLIENT_DECODER_H

#include <bildfunk/codec.h>

#include <libavutil/frame.h>
#include <libavutil/rational.h>

#include <stddef.h>
#include <stdint.h>

typedef enum bf_hwdec {
  BF_HWDEC_AUTO = 0,
  BF_HWDEC_SOFTWARE,
  BF_HWDEC_VAAPI,
  BF_HWDEC_VDPAU,
  BF_HWDEC_CUDA,
} bf_hwdec;

const char *bf_hwdec_name(bf_hwdec h);
int bf_hwdec_parse(const char *s, bf_hwdec *out);

typedef struct bf_decoder_config {
  bf_codec codec;
  bf_hwdec hw;
  int threads; /* 0 = min(4, cores) */
  int verbose; /* 1 = let libavcodec log warnings */
} bf_decoder_config;

typedef struct bf_decoder bf_decoder;

/* Opens a decoder. On failure returns a negative errno / AVERROR and writes
 * a one-line reason into |err|. Logs one line to stderr when auto falls back
 * to software. */
int bf_decoder_open(const bf_decoder_config *cfg, bf_decoder **out, char *err, size_t errcap);

/* Decodes |len| bytes (copied into a padded, reused buffer). On success
 * *|pic| is the decoder's picture in system memory, valid until the next call,
 * or NULL when the decoder produced none. Returns 0 or a negative AVERROR
 * (the AU was rejected, or the picture is flagged corrupt). */
int bf_decoder_decode(bf_decoder *d, const uint8_t *au, size_t len, int64_t pts, AVFrame **pic);

/* "h264 software, 2 slice threads" or "hevc vaapi". */
const char *bf_decoder_describe(const bf_decoder *d);
bf_codec bf_decoder_codec(const bf_decoder *d);
/* How many AUs it was given (the first pays for its set-up). */
uint64_t bf_decoder_decodes(const bf_decoder *d);
/* The stream's frame rate if the bitstream says ({0, 1} otherwise). */
AVRational bf_decoder_frame_rate(const bf_decoder *d);

void bf_decoder_close(bf_decoder **d);

#endif
