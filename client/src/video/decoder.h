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
 * the texture. A hardware decoder that fails mid-stream (the device gone,
 * a transfer that fails, an error that is not the bitstream's) makes
 * bf_decoder_decode return BF_DECODER_HW_FAILED: the caller closes it and
 * opens a software decoder at the next keyframe (client/src/video/
 * playback.c; one log line, the session goes on).
 *
 * Test hook (for tests and a user's own check, never needed in use): with
 * BILDFUNK_TEST_HWDEC_FAIL=N in the environment a hardware decoder fails
 * (BF_DECODER_HW_FAILED) at its Nth decode. Where the requested device is
 * missing (every machine of this project's CI), the hook stands a software
 * decoder in for it, named "<codec> <device> (test hook: software stand-in)"
 * so nothing mistakes it for a real device; it exists only so the fallback
 * can be tested through the real client.
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

/* bf_decoder_decode: the hardware decoder failed (not the stream): decode
 * in software from the next keyframe. */
#define BF_DECODER_HW_FAILED (-0x48574658) /* "HWFX", outside AVERROR's codes */
/* The test hook's variable (see above). */
#define BF_DECODER_TEST_HOOK_ENV "BILDFUNK_TEST_HWDEC_FAIL"

/* Opens a decoder. On failure returns a negative errno / AVERROR and writes
 * a one-line reason into |err|. Logs one line to stderr when auto falls back
 * to software. */
int bf_decoder_open(const bf_decoder_config *cfg, bf_decoder **out, char *err, size_t errcap);

/* Decodes |len| bytes (copied into a padded, reused buffer). On success
 * *|pic| is the decoder's picture in system memory, valid until the next call,
 * or NULL when the decoder produced none. Returns 0 or a negative AVERROR
 * (the AU was rejected, or the picture is flagged corrupt). */
int bf_decoder_decode(bf_decoder *d, const uint8_t *au, size_t len, int64_t pts, AVFrame **pic);

/* The device in use: BF_HWDEC_SOFTWARE, or the hardware decoder's. */
bf_hwdec bf_decoder_hw(const bf_decoder *d);

/* "h264 software, 2 slice threads" or "hevc vaapi". */
const char *bf_decoder_describe(const bf_decoder *d);
bf_codec bf_decoder_codec(const bf_decoder *d);
/* How many AUs it was given (the first pays for its set-up). */
uint64_t bf_decoder_decodes(const bf_decoder *d);
/* The stream's frame rate if the bitstream says ({0, 1} otherwise). */
AVRational bf_decoder_frame_rate(const bf_decoder *d);

void bf_decoder_close(bf_decoder **d);

#endif
