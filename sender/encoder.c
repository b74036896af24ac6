/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Video encoder: see encoder.h.
 *
 * One AU per picture: after avcodec_send_frame() we take every packet that is
 * ready. x264 and x265 (zerolatency) encode inside that call, so the AU of
 * the picture is there at once; SVT-AV1 and hardware encoders finish AUs on
 * their own threads, and the caller polls bf_encoder_receive() while
 * bf_encoder_owed() says pictures are inside. SVT-AV1 1.4 in low-delay mode
 * holds pictures back: the AU of picture n comes out once picture n + 2 has
 * gone in at small sizes, about n + 4 at 1080p60. Packets are queued (at most
 * BF_ENC_QUEUE) and handed out in order by bf_encoder_receive(); a packet
 * that comes late is simply taken by a later call, so a slow encoder costs
 * latency, never pictures. A ring indexed by the picture's pts remembers the
 * capture time and send time of each picture in flight.
 */
#include "encoder.h"

#include <libavcodec/avcodec.h>
#include <libavutil/hwcontext.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BF_ENC_QUEUE 8
#define BF_ENC_RING 32 /* pictures in flight we remember */

/* A picture in flight. */
typedef struct bf_enc_slot {
  int64_t pts;
  uint64_t capture_ns, sent_ns, out_ns;
  int keyframe;
} bf_enc_slot;

struct bf_encoder {
  bf_encoder_config cfg;
  const AVCodec *codec;
  AVCodecContext *ctx;
  uint64_t ctx_frames;        /* pictures sent to the active instance */
  uint64_t pics_in, pkts_out; /* over all instances */
  uint64_t depth;             /* pictures the encoder holds back (learned) */
  int64_t next_pts;
  AVPacket *queue[BF_ENC_QUEUE];
  unsigned q_head, q_len;
  AVPacket *out; /* the AU handed out last */
  bf_enc_slot ring[BF_ENC_RING];
  /* picture conversion for encoders without yuv420p input */
  enum AVPixelFormat in_fmt; /* what the encoder takes */
  enum AVPixelFormat sw_fmt; /* system-memory format we convert to */
  struct SwsContext *sws;
  AVFrame *conv;
  AVBufferRef *hw_device;
  AVBufferRef *hw_frames;
  AVFrame *hw;
  /* SVT-AV1: a standby instance for keyframes */
  int swap_for_keyframes;
  pthread_t helper;
  int helper_started;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  AVCodecContext *standby;
  int standby_failed;
  AVCodecContext *retire[4];
  int quit;
  uint64_t switches, switch_waits;
};

unsigned bf_encoder_refresh_period(const bf_encoder_config *cfg) {
  if (cfg->gop) return cfg->gop < 2 ? 2 : cfg->gop;
  unsigned half = cfg->fps_den ? (cfg->fps_num / cfg->fps_den + 1) / 2 : 30;
  return half < 2 ? 2 : half;
}

static int errf(char *err, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int errf(char *err, size_t cap, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  if (err && cap) vsnprintf(err, cap, fmt, ap);
  va_end(ap);
  return 0;
}

static uint64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

const char *bf_encoder_default_name(bf_codec c) {
  switch (c) {
  case BF_CODEC_H264:
    return "libx264";
  case BF_CODEC_HEVC:
    return "libx265";
  case BF_CODEC_AV1:
    return "libsvtav1";
  case BF_CODEC_UNKNOWN:
    break;
  }
  return NULL;
}

static enum AVCodecID codec_id(bf_codec c) {
  switch (c) {
  case BF_CODEC_H264:
    return AV_CODEC_ID_H264;
  case BF_CODEC_HEVC:
    return AV_CODEC_ID_HEVC;
  case BF_CODEC_AV1:
    return AV_CODEC_ID_AV1;
  case BF_CODEC_UNKNOWN:
    break;
  }
  return AV_CODEC_ID_NONE;
}

static int supports_fmt(const AVCodec *c, enum AVPixelFormat f) {
  if (!c->pix_fmts) return f == AV_PIX_FMT_YUV420P;
  for (const enum AVPixelFormat *p = c->pix_fmts; *p != AV_PIX_FMT_NONE; p++)
    if (*p == f) return 1;
  return 0;
}

/* A hardware frames config of |c|, or NULL. */
static const AVCodecHWConfig *hw_frames_config(const AVCodec *c) {
  for (int i = 0;; i++) {
    const AVCodecHWConfig *h = avcodec_get_hw_config(c, i);
    if (!h) return NULL;
    if (h->methods & AV_CODEC_HW_CONFIG_METHOD_HW_FRAMES_CTX) return h;
  }
}

/* Picks the input format; sets up a hardware device and frame pool when the
 * encoder only takes hardware frames. */
static int setup_input(bf_encoder *e, char *err, size_t cap) {
  const AVCodec *c = e->codec;
  char eb[128];
  if (supports_fmt(c, AV_PIX_FMT_YUV420P)) {
    e->in_fmt = e->sw_fmt = AV_PIX_FMT_YUV420P;
    return 0;
  }
  if (supports_fmt(c, AV_PIX_FMT_NV12)) {
    e->in_fmt = e->sw_fmt = AV_PIX_FMT_NV12;
    return 0;
  }
  const AVCodecHWConfig *h = hw_frames_config(c);
  if (!h) {
    errf(err, cap, "%s takes neither yuv420p, nv12 nor hardware frames", c->name);
    return -ENOSYS;
  }
  int r = av_hwdevice_ctx_create(&e->hw_device, h->device_type, NULL, NULL, 0);
  if (r < 0) {
    av_strerror(r, eb, sizeof eb);
    errf(err, cap, "no %s device: %s", av_hwdevice_get_type_name(h->device_type), eb);
    return -ENODEV;
  }
  e->hw_frames = av_hwframe_ctx_alloc(e->hw_device);
  if (!e->hw_frames) return -ENOMEM;
  AVHWFramesContext *fc = (AVHWFramesContext *)e->hw_frames->data;
  fc->format = h->pix_fmt;
  fc->sw_format = AV_PIX_FMT_NV12;
  fc->width = (int)e->cfg.width;
  fc->height = (int)e->cfg.height;
  fc->initial_pool_size = 4;
  if ((r = av_hwframe_ctx_init(e->hw_frames)) < 0) {
    av_strerror(r, eb, sizeof eb);
    errf(err, cap, "cannot set up %s frames: %s", av_hwdevice_get_type_name(h->device_type), eb);
    return -ENODEV;
  }
  e->in_fmt = h->pix_fmt;
  e->sw_fmt = AV_PIX_FMT_NV12;
  e->hw = av_frame_alloc();
  return e->hw ? 0 : -ENOMEM;
}

/* Opens one instance of the configured encoder into *|out|. */
static int open_instance(bf_encoder *e, AVCodecContext **out, char *err, size_t cap) {
  const bf_encoder_config *cfg = &e->cfg;
  const AVCodec *c = e->codec;
  AVCodecContext *ctx = avcodec_alloc_context3(c);
  AVDictionary *o = NULL;
  char buf[512], eb[128];
  if (!ctx) return -ENOMEM;
  ctx->width = (int)cfg->width;
  ctx->height = (int)cfg->height;
  ctx->pix_fmt = e->in_fmt;
  ctx->time_base = (AVRational){(int)cfg->fps_den, (int)cfg->fps_num};
  ctx->framerate = (AVRational){(int)cfg->fps_num, (int)cfg->fps_den};
  ctx->bit_rate = (int64_t)cfg->bitrate;
  ctx->max_b_frames = 0;
  ctx->thread_count = cfg->threads;
  if (cfg->slices) ctx->slices = (int)cfg->slices;
  /* VBV of one frame interval */
  int64_t frame_bits = (int64_t)(cfg->bitrate * cfg->fps_den / cfg->fps_num);
  if (e->hw_frames) {
    ctx->hw_frames_ctx = av_buffer_ref(e->hw_frames);
    if (!ctx->hw_frames_ctx) {
      avcodec_free_context(&ctx);
      return -ENOMEM;
    }
  }
  const char *gop_x264 = cfg->gop ? NULL : "infinite";
  if (!strcmp(c->name, "libx264")) {
    ctx->rc_max_rate = (int64_t)cfg->bitrate;
    ctx->rc_buffer_size = (int)frame_bits;
    ctx->gop_size = cfg->intra_refresh ? (int)bf_encoder_refresh_period(cfg)
                    : cfg->gop         ? (int)cfg->gop
                                       : -1;
    av_dict_set(&o, "preset", cfg->preset ? cfg->preset : "veryfast", 0);
    av_dict_set(&o, "tune", "zerolatency", 0);
    av_dict_set(&o, "forced-idr", "1", 0);
    if (cfg->intra_refresh)
      /* waves of intra macroblock columns instead of IDR pictures: x264 marks
       * each wave's first picture with a recovery point SEI (au.c reads it) */
      snprintf(buf, sizeof buf, "scenecut=0:intra-refresh=1:keyint=%u",
               bf_encoder_refresh_period(cfg));
    else if (gop_x264)
      snprintf(buf, sizeof buf, "scenecut=0:keyint=%s", gop_x264);
    else
      snprintf(buf, sizeof buf, "scenecut=0:keyint=%u:min-keyint=1", cfg->gop);
    av_dict_set(&o, "x264-params", buf, 0);
  } else if (!strcmp(c->name, "libx265")) {
    ctx->rc_max_rate = (int64_t)cfg->bitrate;
    ctx->rc_buffer_size = (int)frame_bits;
    ctx->gop_size = cfg->gop ? (int)cfg->gop : -1;
    av_dict_set(&o, "preset", cfg->preset ? cfg->preset : "ultrafast", 0);
    av_dict_set(&o, "tune", "zerolatency", 0);
    av_dict_set(&o, "forced-idr", "1", 0);
    int n =
        snprintf(buf, sizeof buf, "scenecut=0:bframes=0:repeat-headers=1:keyint=%d:log-level=%s",
                 cfg->gop ? (int)cfg->gop : -1, cfg->verbose ? "info" : "error");
    if (cfg->gop) n += snprintf(buf + n, sizeof buf - (size_t)n, ":min-keyint=1");
    if (cfg->slices) snprintf(buf + n, sizeof buf - (size_t)n, ":slices=%u", cfg->slices);
    av_dict_set(&o, "x265-params", buf, 0);
  } else if (!strcmp(c->name, "libsvtav1")) {
    /* one frame of buffer, but SVT-AV1 accepts 20..10000 ms */
    unsigned buf_ms = (unsigned)(1000ull * cfg->fps_den / cfg->fps_num);
    if (buf_ms < 20) buf_ms = 20;
    ctx->gop_size = 0; /* the keyint below decides */
    av_dict_set(&o, "preset", cfg->preset ? cfg->preset : "12", 0);
    int n = snprintf(buf, sizeof buf,
                     "pred-struct=1:rc=2:scd=0:lookahead=0:keyint=%d:buf-sz=%u:buf-initial-sz=%u:"
                     "buf-optimal-sz=%u",
                     cfg->gop ? (int)cfg->gop : -1, buf_ms, buf_ms, buf_ms);
    if (cfg->slices > 1) {
      unsigned log2 = 0;
      while ((2u << log2) <= cfg->slices && log2 < 6)
        log2++;
      snprintf(buf + n, sizeof buf - (size_t)n, ":tile-columns=%u", log2);
    }
    av_dict_set(&o, "svtav1-params", buf, 0);
  } else {
    /* hardware and other encoders: generic low-delay settings, best effort */
    ctx->rc_max_rate = (int64_t)cfg->bitrate;
    ctx->rc_buffer_size = (int)frame_bits;
    ctx->gop_size = cfg->gop ? (int)cfg->gop : 1000000;
    if (cfg->preset) av_dict_set(&o, "preset", cfg->preset, 0);
    if (strstr(c->name, "nvenc")) {
      if (!cfg->preset) av_dict_set(&o, "preset", "p1", 0);
      av_dict_set(&o, "tune", "ull", 0);
      av_dict_set(&o, "zerolatency", "1", 0);
      av_dict_set(&o, "delay", "0", 0);
      av_dict_set(&o, "forced-idr", "1", 0);
    } else if (strstr(c->name, "qsv")) {
      av_dict_set(&o, "async_depth", "1", 0);
      av_dict_set(&o, "forced_idr", "1", 0);
    }
  }
  int r = avcodec_open2(ctx, c, &o);
  AVDictionaryEntry *left = av_dict_get(o, "", NULL, AV_DICT_IGNORE_SUFFIX);
  av_dict_free(&o);
  if (r < 0) {
    av_strerror(r, eb, sizeof eb);
    errf(err, cap, "cannot open encoder %s: %s", c->name, eb);
    avcodec_free_context(&ctx);
    return r == AVERROR(ENOMEM) ? -ENOMEM : -EINVAL;
  }
  (void)left; /* options an encoder does not know are ignored on purpose */
  *out = ctx;
  return 0;
}

/* Frees an encoder instance that has been sent |fed| pictures. SVT-AV1 1.4
 * hangs in its deinit unless an end of stream went through its pipeline,
 * and an instance that never saw a picture never passes one on: feed it a
 * grey picture first, then the end of stream, and drain it. */
static void free_instance(AVCodecContext **ctx, uint64_t fed) {
  if (!*ctx) return;
  if (!strcmp((*ctx)->codec->name, "libsvtav1")) {
    AVPacket *p = av_packet_alloc();
    AVFrame *f = fed ? NULL : av_frame_alloc();
    if (f) {
      f->format = (*ctx)->pix_fmt;
      f->width = (*ctx)->width;
      f->height = (*ctx)->height;
      if (av_frame_get_buffer(f, 0) >= 0) {
        for (int i = 0; i < 3 && f->data[i]; i++)
          memset(f->data[i], 128,
                 (size_t)f->linesize[i] * (size_t)(i ? (f->height + 1) / 2 : f->height));
        avcodec_send_frame(*ctx, f);
      }
      av_frame_free(&f);
    }
    if (p && avcodec_send_frame(*ctx, NULL) >= 0) {
      while (avcodec_receive_packet(*ctx, p) >= 0)
        av_packet_unref(p);
    }
    av_packet_free(&p);
  }
  avcodec_free_context(ctx);
}

/* ---- SVT-AV1 standby instance -------------------------------------------- */

static void *helper_main(void *arg) {
  bf_encoder *e = arg;
  pthread_mutex_lock(&e->mu);
  while (!e->quit) {
    AVCodecContext *dead = NULL;
    for (size_t i = 0; i < sizeof e->retire / sizeof e->retire[0]; i++)
      if (e->retire[i]) {
        dead = e->retire[i];
        e->retire[i] = NULL;
        break;
      }
    if (dead) {
      pthread_mutex_unlock(&e->mu);
      free_instance(&dead, 1);
      pthread_mutex_lock(&e->mu);
      continue;
    }
    if (!e->standby && !e->standby_failed) {
      pthread_mutex_unlock(&e->mu);
      AVCodecContext *ctx = NULL;
      char err[256];
      int r = open_instance(e, &ctx, err, sizeof err);
      pthread_mutex_lock(&e->mu);
      if (r < 0) {
        e->standby_failed = 1;
        fprintf(stderr,
                "bildfunk-send: cannot prepare a second %s instance (%s); keyframes "
                "on request are off\n",
                e->codec->name, err);
      } else {
        e->standby = ctx;
      }
      pthread_cond_broadcast(&e->cv);
      continue;
    }
    pthread_cond_wait(&e->cv, &e->mu);
  }
  pthread_mutex_unlock(&e->mu);
  return NULL;
}

/* Switches to the standby instance (waiting for it if needed). 0 or -EAGAIN
 * when no standby can be had. */
static int switch_instance(bf_encoder *e) {
  pthread_mutex_lock(&e->mu);
  if (!e->standby && !e->standby_failed) {
    e->switch_waits++;
    while (!e->standby && !e->standby_failed)
      pthread_cond_wait(&e->cv, &e->mu);
  }
  if (!e->standby) {
    pthread_mutex_unlock(&e->mu);
    return -EAGAIN;
  }
  AVCodecContext *old = e->ctx;
  e->ctx = e->standby;
  e->standby = NULL;
  e->ctx_frames = 0;
  int parked = 0;
  for (size_t i = 0; i < sizeof e->retire / sizeof e->retire[0]; i++)
    if (!e->retire[i]) {
      e->retire[i] = old;
      parked = 1;
      break;
    }
  e->switches++;
  pthread_cond_broadcast(&e->cv);
  pthread_mutex_unlock(&e->mu);
  if (!parked) free_instance(&old, 1);
  return 0;
}

/* ---- public --------------------------------------------------------------- */

static int try_open(bf_encoder *e, const AVCodec *c, char *err, size_t cap) {
  e->codec = c;
  int r = setup_input(e, err, cap);
  if (r == 0) r = open_instance(e, &e->ctx, err, cap);
  if (r < 0) {
    av_buffer_unref(&e->hw_frames);
    av_buffer_unref(&e->hw_device);
    av_frame_free(&e->hw);
  }
  return r;
}

static int is_hardware(const AVCodec *c) {
  return (c->capabilities & AV_CODEC_CAP_HARDWARE) || hw_frames_config(c) ||
         strstr(c->name, "_nvenc") || strstr(c->name, "_qsv") || strstr(c->name, "_vaapi") ||
         strstr(c->name, "_v4l2m2m") || strstr(c->name, "_amf") || strstr(c->name, "_omx") ||
         strstr(c->name, "_videotoolbox") || strstr(c->name, "_mf");
}

int bf_encoder_open(const bf_encoder_config *cfg, bf_encoder **out, char *err, size_t cap) {
  *out = NULL;
  const char *want = cfg->name ? cfg->name : bf_encoder_default_name(cfg->codec);
  if (!want || codec_id(cfg->codec) == AV_CODEC_ID_NONE) {
    errf(err, cap, "unknown codec");
    return -EINVAL;
  }
  const AVCodec *c = avcodec_find_encoder_by_name(want);
  if (!c || !av_codec_is_encoder(c)) {
    errf(err, cap, "unknown encoder '%s' (this FFmpeg has no encoder of that name)", want);
    return -ENOENT;
  }
  if (c->type != AVMEDIA_TYPE_VIDEO || c->id != codec_id(cfg->codec)) {
    errf(err, cap, "encoder '%s' encodes %s, not %s (see --codec)", want, avcodec_get_name(c->id),
         bf_codec_name(cfg->codec));
    return -EINVAL;
  }
  if (!cfg->width || !cfg->height || !cfg->fps_num || !cfg->fps_den || !cfg->bitrate) {
    errf(err, cap, "encoder: size, rate and bitrate must be set");
    return -EINVAL;
  }
  if (cfg->intra_refresh && strcmp(c->name, "libx264") != 0) {
    errf(err, cap, "--intra-refresh needs libx264 (not %s)", c->name);
    return -EINVAL;
  }
  bf_encoder *e = calloc(1, sizeof *e);
  if (!e) return -ENOMEM;
  e->cfg = *cfg;
  pthread_mutex_init(&e->mu, NULL);
  pthread_cond_init(&e->cv, NULL);
  e->out = av_packet_alloc();
  if (!e->out) {
    bf_encoder_close(&e);
    return -ENOMEM;
  }
  int r = try_open(e, c, err, cap);
  if (r < 0 && is_hardware(c) && cfg->strict) {
    char why[256];
    snprintf(why, sizeof why, "%s", err);
    errf(err, cap,
         "hardware encoder %s cannot be used here (%s); leave out --encoder for the "
         "software encoder %s",
         want, why, bf_encoder_default_name(cfg->codec));
    r = -ENODEV;
  } else if (r < 0 && is_hardware(c)) {
    const AVCodec *sw = avcodec_find_encoder_by_name(bf_encoder_default_name(cfg->codec));
    fprintf(stderr,
            "bildfunk-send: hardware encoder %s is not usable here (%s); using %s instead\n", want,
            err, sw ? sw->name : "none");
    if (sw) r = try_open(e, sw, err, cap);
  }
  if (r < 0) {
    bf_encoder_close(&e);
    return r;
  }
  e->cfg.name = e->codec->name;
  if (!strcmp(e->codec->name, "libsvtav1")) {
    e->swap_for_keyframes = 1;
    if (pthread_create(&e->helper, NULL, helper_main, e) == 0) {
      e->helper_started = 1;
    } else {
      e->standby_failed = 1;
    }
  }
  *out = e;
  return 0;
}

const char *bf_encoder_name(const bf_encoder *e) {
  return e->codec->name;
}

uint64_t bf_encoder_switches(const bf_encoder *e) {
  return e->switches;
}

uint64_t bf_encoder_owed(const bf_encoder *e) {
  return e->pics_in - e->pkts_out;
}

uint64_t bf_encoder_depth(const bf_encoder *e) {
  return e->depth;
}

uint64_t bf_encoder_switch_waits(const bf_encoder *e) {
  return e->switch_waits;
}

/* Takes every packet the encoder has ready into the queue; stamps the time
 * each came out. */
static int drain(bf_encoder *e) {
  for (;;) {
    if (e->q_len == BF_ENC_QUEUE) return 0;
    unsigned slot = (e->q_head + e->q_len) % BF_ENC_QUEUE;
    if (!e->queue[slot] && !(e->queue[slot] = av_packet_alloc())) return AVERROR(ENOMEM);
    int r = avcodec_receive_packet(e->ctx, e->queue[slot]);
    if (r == AVERROR(EAGAIN) || r == AVERROR_EOF) return 0;
    if (r < 0) return r;
    int64_t pts = e->queue[slot]->pts;
    if (pts >= 0 && e->ring[pts % BF_ENC_RING].pts == pts)
      e->ring[pts % BF_ENC_RING].out_ns = mono_ns();
    e->q_len++;
    e->pkts_out++;
  }
}

/* Converts |frame| to what the encoder takes; returns the frame to send. */
static AVFrame *convert(bf_encoder *e, AVFrame *frame, int *res) {
  *res = 0;
  if (e->sw_fmt == AV_PIX_FMT_YUV420P && !e->hw_frames) return frame;
  if (!e->conv) {
    e->conv = av_frame_alloc();
    if (!e->conv) {
      *res = AVERROR(ENOMEM);
      return NULL;
    }
    e->conv->format = e->sw_fmt;
    e->conv->width = frame->width;
    e->conv->height = frame->height;
    if ((*res = av_frame_get_buffer(e->conv, 0)) < 0) return NULL;
  }
  if ((*res = av_frame_make_writable(e->conv)) < 0) return NULL;
  e->sws = sws_getCachedContext(e->sws, frame->width, frame->height,
                                (enum AVPixelFormat)frame->format, e->conv->width, e->conv->height,
                                e->sw_fmt, SWS_BILINEAR, NULL, NULL, NULL);
  if (!e->sws) {
    *res = AVERROR(ENOSYS);
    return NULL;
  }
  sws_scale(e->sws, (const uint8_t *const *)frame->data, frame->linesize, 0, frame->height,
            e->conv->data, e->conv->linesize);
  if (!e->hw_frames) return e->conv;
  av_frame_unref(e->hw);
  if ((*res = av_hwframe_get_buffer(e->hw_frames, e->hw, 0)) < 0) return NULL;
  if ((*res = av_hwframe_transfer_data(e->hw, e->conv, 0)) < 0) return NULL;
  return e->hw;
}

int bf_encoder_send(bf_encoder *e, AVFrame *frame, uint64_t capture_ns, int keyframe, char *err,
                    size_t cap) {
  char eb[128];
  int r;
  if (keyframe && e->swap_for_keyframes && e->ctx_frames > 0) {
    /* flush the old instance: the pictures it still holds come out now */
    if (avcodec_send_frame(e->ctx, NULL) >= 0 && (r = drain(e)) < 0) {
      av_strerror(r, eb, sizeof eb);
      errf(err, cap, "encoder %s failed: %s", e->codec->name, eb);
      return -EIO;
    }
    if (switch_instance(e) < 0) {
      errf(err, cap, "encoder %s: no second instance for a keyframe", e->codec->name);
      return -EIO;
    }
  }
  uint64_t t0 = mono_ns();
  AVFrame *in = convert(e, frame, &r);
  if (!in) {
    av_strerror(r, eb, sizeof eb);
    errf(err, cap, "cannot convert the picture for %s: %s", e->codec->name, eb);
    return -EIO;
  }
  int64_t pts = e->next_pts++;
  in->pts = pts;
  in->pict_type = keyframe ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_NONE;
  in->key_frame = keyframe;
  e->ring[pts % BF_ENC_RING].pts = pts;
  e->ring[pts % BF_ENC_RING].capture_ns = capture_ns;
  e->ring[pts % BF_ENC_RING].sent_ns = t0;
  e->ring[pts % BF_ENC_RING].out_ns = 0;
  e->ring[pts % BF_ENC_RING].keyframe = keyframe;
  r = avcodec_send_frame(e->ctx, in);
  if (r == AVERROR(EAGAIN)) { /* full: make room, then retry once */
    if ((r = drain(e)) >= 0) r = avcodec_send_frame(e->ctx, in);
  }
  in->pict_type = AV_PICTURE_TYPE_NONE;
  in->key_frame = 0;
  if (r < 0) {
    av_strerror(r, eb, sizeof eb);
    errf(err, cap, "encoder %s failed: %s", e->codec->name, eb);
    return -EIO;
  }
  e->ctx_frames++;
  e->pics_in++;
  /* Take what is ready. A synchronous encoder (x264, x265 with zerolatency)
   * has the AU of this picture ready now; an asynchronous one (SVT-AV1,
   * hardware) finishes it on its own threads and the caller polls. */
  if ((r = drain(e)) < 0) {
    av_strerror(r, eb, sizeof eb);
    errf(err, cap, "encoder %s failed: %s", e->codec->name, eb);
    return -EIO;
  }
  e->depth = e->pics_in - e->pkts_out;
  return 0;
}

int bf_encoder_receive(bf_encoder *e, bf_encoded *out) {
  memset(out, 0, sizeof *out);
  av_packet_unref(e->out);
  if (!e->q_len && drain(e) < 0) return 0;
  if (!e->q_len) return 0;
  av_packet_move_ref(e->out, e->queue[e->q_head]);
  e->q_head = (e->q_head + 1) % BF_ENC_QUEUE;
  e->q_len--;
  out->data = e->out->data;
  out->len = (size_t)e->out->size;
  int64_t pts = e->out->pts;
  if (pts >= 0 && e->ring[pts % BF_ENC_RING].pts == pts) {
    const bf_enc_slot *r = &e->ring[pts % BF_ENC_RING];
    out->capture_ns = r->capture_ns;
    out->encode_ns = (r->out_ns ? r->out_ns : mono_ns()) - r->sent_ns;
    out->keyframe_requested = r->keyframe;
  }
  return 1;
}

int bf_encoder_set_bitrate(bf_encoder *e, uint64_t bitrate) {
  if (bitrate == 0) return -EINVAL;
  if (strcmp(e->codec->name, "libx264") != 0) return -ENOTSUP;
  if (bitrate == e->cfg.bitrate) return 0;
  /* read by libx264.c's reconfig_encoder() before the next picture */
  e->cfg.bitrate = bitrate;
  e->ctx->bit_rate = (int64_t)bitrate;
  e->ctx->rc_max_rate = (int64_t)bitrate;
  e->ctx->rc_buffer_size = (int)(bitrate * e->cfg.fps_den / e->cfg.fps_num);
  return 0;
}

uint64_t bf_encoder_bitrate(const bf_encoder *e) {
  return e->cfg.bitrate;
}

void bf_encoder_reset(bf_encoder *e) {
  if (e->swap_for_keyframes && e->ctx_frames > 0)
    switch_instance(e);
  else
    drain(e);
  for (; e->q_len; e->q_len--, e->q_head = (e->q_head + 1) % BF_ENC_QUEUE)
    av_packet_unref(e->queue[e->q_head]);
  e->pkts_out = e->pics_in;
}

void bf_encoder_close(bf_encoder **ep) {
  bf_encoder *e = ep ? *ep : NULL;
  if (!e) return;
  if (e->helper_started) {
    pthread_mutex_lock(&e->mu);
    e->quit = 1;
    pthread_cond_broadcast(&e->cv);
    pthread_mutex_unlock(&e->mu);
    pthread_join(e->helper, NULL);
  }
  for (size_t i = 0; i < sizeof e->retire / sizeof e->retire[0]; i++)
    free_instance(&e->retire[i], 1);
  free_instance(&e->standby, 0);
  free_instance(&e->ctx, e->ctx_frames);
  for (int i = 0; i < BF_ENC_QUEUE; i++)
    av_packet_free(&e->queue[i]);
  av_packet_free(&e->out);
  av_frame_free(&e->conv);
  av_frame_free(&e->hw);
  sws_freeContext(e->sws);
  av_buffer_unref(&e->hw_frames);
  av_buffer_unref(&e->hw_device);
  pthread_mutex_destroy(&e->mu);
  pthread_cond_destroy(&e->cv);
  free(e);
  *ep = NULL;
}
