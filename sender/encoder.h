/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Video encoder of bildfunk-send: libavcodec configured for one access unit
 * out per picture in, as soon as possible.
 *
 *  - libx264: preset veryfast, tune zerolatency (no B-frames, no lookahead,
 *    sliced threads), VBV of one frame interval at the bitrate.
 *  - libx265: preset ultrafast, tune zerolatency, the same VBV.
 *  - libsvtav1: preset 12, low-delay prediction structure, CBR, a 20 ms
 *    (or one frame, if longer) buffer. SVT-AV1 1.4 cannot force a keyframe
 *    in low-delay mode, so this wrapper keeps a second, idle encoder instance
 *    ready (built by a helper thread) and switches to it when a keyframe is
 *    needed: a fresh instance starts with one. The old instance is closed by
 *    the helper thread. Cost: a second instance's memory (about 100 MB at
 *    1080p).
 *  - hardware encoders by name (h264_vaapi, h264_nvenc, hevc_qsv, ...): tried
 *    first when asked for; when they cannot open here (no device, no
 *    driver) that is an error when |strict| (the user named it), else one
 *    message says so and the codec's software encoder is used.
 * Keyframes: infinite GOP (only the first picture and requested ones) unless
 * a period is given; no scene-cut keyframes. H.264/HEVC AUs are Annex-B with
 * the parameter sets in front of every keyframe; AV1 AUs are temporal units
 * starting with a temporal delimiter.
 *
 * Latency: x264 and x265 hand out the AU of a picture in the call that takes
 * the picture; SVT-AV1 1.4's low-delay pipeline holds 2 (small pictures) to
 * about 4 (1080p60) pictures back, i.e. 67 ms at both 320x240@30 and
 * 1080p60 on the development machine.
 *
 * Not thread-safe (one caller thread; the SVT helper thread is internal).
 */
#ifndef BF_SENDER_ENCODER_H
#define BF_SENDER_ENCODER_H

#include "au.h"

#include <libavutil/frame.h>

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bf_encoder_config {
  bf_codec codec;
  const char *name;   /* libavcodec encoder, NULL = the codec's software default */
  int strict;         /* |name| was asked for (--encoder): no software fallback */
  const char *preset; /* NULL = ours for the encoder */
  unsigned width, height;
  unsigned fps_num, fps_den;
  uint64_t bitrate;  /* bit/s, > 0 */
  unsigned gop;      /* 0 = infinite */
  unsigned slices;   /* 0 = encoder default */
  int threads;       /* 0 = encoder default */
  int verbose;       /* let the encoder log */
  int intra_refresh; /* libx264: periodic intra refresh, one wave per |gop| frames
                      * (0: half a second of frames); keyframes asked for stay IDR */
} bf_encoder_config;

/* The intra-refresh period the encoder uses for |cfg| (frames). */
unsigned bf_encoder_refresh_period(const bf_encoder_config *cfg);

typedef struct bf_encoder bf_encoder;

/* Opens the encoder. Unknown encoder names and encoders of another codec are
 * errors (-EINVAL, -ENOENT); a hardware encoder that does not open is one
 * too with |strict| (-ENODEV), else it falls back to software with one line
 * on stderr. On failure a one-line reason is written to |err|. */
int bf_encoder_open(const bf_encoder_config *cfg, bf_encoder **out, char *err, size_t errcap);

/* The codec's software encoder ("libx264", "libx265", "libsvtav1"), or NULL. */
const char *bf_encoder_default_name(bf_codec codec);

/* The libavcodec name of the encoder in use (after any fallback). */
const char *bf_encoder_name(const bf_encoder *e);

/* Hands picture |frame| (yuv420p at the configured size; read during the
 * call, reusable afterwards) captured at |capture_ns| to the encoder, as a
 * keyframe when |keyframe| is set, and takes whatever AUs are ready (with
 * x264/x265 that includes this picture's). Take the AUs with
 * bf_encoder_receive(); poll it while bf_encoder_owed() > 0.
 * Returns 0 or a negative errno with a one-line reason in |err|. */
int bf_encoder_send(bf_encoder *e, AVFrame *frame, uint64_t capture_ns, int keyframe, char *err,
                    size_t errcap);

/* One encoded picture. |data| belongs to the encoder until the next
 * bf_encoder_receive() or bf_encoder_close(). */
typedef struct bf_encoded {
  const uint8_t *data;
  size_t len;
  uint64_t capture_ns;    /* of the picture in it */
  uint64_t encode_ns;     /* from bf_encoder_send to the AU being out */
  int keyframe_requested; /* the picture was sent with |keyframe| set */
} bf_encoded;

/* Takes the oldest AU the encoder has put out: 1 with |out| filled, 0 when
 * there is none (queue bound: 8 AUs, more wait inside the encoder). */
int bf_encoder_receive(bf_encoder *e, bf_encoded *out);

/* Pictures handed in whose AU has not come out of the encoder yet. While
 * this is not 0 an AU may appear any moment: callers poll
 * bf_encoder_receive() every millisecond or so. */
uint64_t bf_encoder_owed(const bf_encoder *e);

/* Pictures the encoder still held right after the last bf_encoder_send
 * (its pipeline depth: 0 for x264/x265, 2-4 for SVT-AV1). */
uint64_t bf_encoder_depth(const bf_encoder *e);

/* Forgets every picture in flight and every AU not yet taken (a new client
 * cannot use them). With SVT-AV1 this switches to the standby instance, so
 * the next picture starts a fresh stream. */
void bf_encoder_reset(bf_encoder *e);

/* Changes the bitrate to |bitrate| bit/s (> 0) from the next picture on,
 * with the VBV (one frame interval at the new rate, as at open) following
 * it, so keyframes after a decrease are capped by the new rate too.
 * libx264 only: FFmpeg's wrapper compares bit_rate, rc_max_rate and
 * rc_buffer_size with its x264 parameters before every picture and calls
 * x264_encoder_reconfig when they differ. Other encoders (libx265 and
 * libsvtav1 in FFmpeg 5.1, hardware encoders) read them only when they open:
 * -ENOTSUP, nothing changes. Returns 0 when applied (also when unchanged). */
int bf_encoder_set_bitrate(bf_encoder *e, uint64_t bitrate);

/* The bitrate the encoder works with now (bit/s). */
uint64_t bf_encoder_bitrate(const bf_encoder *e);

/* Instance switches done for keyframes (libsvtav1), and how often the caller
 * had to wait for the idle instance to be ready. */
uint64_t bf_encoder_switches(const bf_encoder *e);
uint64_t bf_encoder_switch_waits(const bf_encoder *e);

void bf_encoder_close(bf_encoder **e);

#ifdef __cplusplus
}
#endif

#endif /* BF_SENDER_ENCODER_H */
