/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * libavcodec decoder wrapper: see decoder.h.
 */
#include "decoder.h"

#include <libavcodec/avcodec.h>
#include <libavutil/hwcontext.h>
#include <libavutil/log.h>
#include <libavutil/opt.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* --- hardware decoder names ------------------------------------------------ */

const char *bf_hwdec_name(bf_hwdec h) {
  switch (h) {
  case BF_HWDEC_AUTO:
    return "auto";
  case BF_HWDEC_SOFTWARE:
    return "software";
  case BF_HWDEC_VAAPI:
    return "vaapi";
  case BF_HWDEC_VDPAU:
    return "vdpau";
  case BF_HWDEC_CUDA:
    return "cuda";
  }
  return "unknown";
}

int bf_hwdec_parse(const char *s, bf_hwdec *out) {
  for (int h = BF_HWDEC_AUTO; h <= BF_HWDEC_CUDA; h++)
    if (!strcmp(s, bf_hwdec_name((bf_hwdec)h))) {
      *out = (bf_hwdec)h;
      return 0;
    }
  return -EINVAL;
}

/* --- decoder --------------------------------------------------------------- */

struct bf_decoder {
  AVCodecContext *ctx;
  AVPacket *pkt;
  AVBufferRef *buf; /* reused input buffer, padded */
  AVFrame *frame;   /* what the decoder returned (maybe a hardware frame) */
  AVFrame *sw;      /* hardware frames transferred here */
  AVBufferRef *hw_device;
  enum AVPixelFormat hw_fmt;
  bf_hwdec hw_kind; /* the device in use, BF_HWDEC_SOFTWARE if none */
  bf_codec codec;
  char desc[96];
  uint64_t decodes; /* calls of bf_decoder_decode */
};

static const char *const av1_decoders[] = {"libdav1d", "libaom-av1", "av1", NULL};

static const AVCodec *find_codec(bf_codec c) {
  switch (c) {
  case BF_CODEC_H264:
    return avcodec_find_decoder_by_name("h264");
  case BF_CODEC_HEVC:
    return avcodec_find_decoder_by_name("hevc");
  case BF_CODEC_AV1:
    for (int i = 0; av1_decoders[i]; i++) {
      const AVCodec *a = avcodec_find_decoder_by_name(av1_decoders[i]);
      if (a) return a;
    }
    return NULL;
  case BF_CODEC_UNKNOWN:
    break;
  }
  return NULL;
}

static enum AVHWDeviceType hw_type(bf_hwdec h) {
  switch (h) {
  case BF_HWDEC_VAAPI:
    return AV_HWDEVICE_TYPE_VAAPI;
  case BF_HWDEC_VDPAU:
    return AV_HWDEVICE_TYPE_VDPAU;
  case BF_HWDEC_CUDA:
    return AV_HWDEVICE_TYPE_CUDA;
  default:
    return AV_HWDEVICE_TYPE_NONE;
  }
}

static enum AVPixelFormat get_hw_format(AVCodecContext *ctx, const enum AVPixelFormat *fmts) {
  const bf_decoder *d = ctx->opaque;
  for (const enum AVPixelFormat *p = fmts; *p != AV_PIX_FMT_NONE; p++)
    if (*p == d->hw_fmt) return *p;
  return AV_PIX_FMT_NONE; /* the device cannot decode this stream */
}

/* Pixel format |codec| uses with device |t|, or NONE. */
static enum AVPixelFormat hw_pix_fmt(const AVCodec *codec, enum AVHWDeviceType t) {
  for (int i = 0;; i++) {
    const AVCodecHWConfig *c = avcodec_get_hw_config(codec, i);
    if (!c) return AV_PIX_FMT_NONE;
    if ((c->methods & AV_CODEC_HW_CONFIG_METHOD_HW_DEVICE_CTX) && c->device_type == t)
      return c->pix_fmt;
  }
}

/* Tries hardware device |h| for |codec|: 0, or negative with |why| set. */
static int try_hw(bf_decoder *d, const AVCodec *codec, bf_hwdec h, char *why, size_t cap) {
  enum AVHWDeviceType t = hw_type(h);
  enum AVPixelFormat fmt = hw_pix_fmt(codec, t);
  if (fmt == AV_PIX_FMT_NONE) {
    snprintf(why, cap, "%s: not supported by the %s decoder", bf_hwdec_name(h), codec->name);
    return -ENOTSUP;
  }
  /* Probing prints its own errors on machines without the device, through
   * av_log and, for VDPAU, straight to stderr from libvdpau: both are
   * silenced for the probe so the fallback is one line of ours. */
  int level = av_log_get_level();
  av_log_set_level(AV_LOG_QUIET);
  fflush(stderr);
  int saved = dup(STDERR_FILENO);
  int null = open("/dev/null", O_WRONLY);
  if (saved >= 0 && null >= 0) dup2(null, STDERR_FILENO);
  int r = av_hwdevice_ctx_create(&d->hw_device, t, NULL, NULL, 0);
  if (saved >= 0) {
    dup2(saved, STDERR_FILENO);
    close(saved);
  }
  if (null >= 0) close(null);
  av_log_set_level(level);
  if (r < 0) {
    char e[64];
    av_strerror(r, e, sizeof e);
    snprintf(why, cap, "%s: %s", bf_hwdec_name(h), e);
    return r;
  }
  d->hw_fmt = fmt;
  d->hw_kind = h;
  return 0;
}

static int default_threads(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  if (n < 1) n = 1;
  return n > 4 ? 4 : (int)n;
}

int bf_decoder_open(const bf_decoder_config *cfg, bf_decoder **out, char *err, size_t errcap) {
  *out = NULL;
  const AVCodec *codec = find_codec(cfg->codec);
  if (!codec) {
    snprintf(err, errcap, "no %s decoder in this libavcodec", bf_codec_name(cfg->codec));
    return -ENOENT;
  }
  bf_decoder *d = av_mallocz(sizeof *d);
  if (!d) return -ENOMEM;
  d->codec = cfg->codec;
  d->hw_fmt = AV_PIX_FMT_NONE;
  d->hw_kind = BF_HWDEC_SOFTWARE;
  int r = -ENOMEM;

  char why[256] = "";
  if (cfg->hw == BF_HWDEC_AUTO) {
    size_t used = 0;
    for (int h = BF_HWDEC_VAAPI; h <= BF_HWDEC_CUDA; h++) {
      char one[96];
      if (try_hw(d, codec, (bf_hwdec)h, one, sizeof one) == 0) break;
      used += (size_t)snprintf(why + used, used < sizeof why ? sizeof why - used : 0, "%s%s",
                               used ? "; " : "", one);
      if (used >= sizeof why) used = sizeof why - 1;
    }
  } else if (cfg->hw != BF_HWDEC_SOFTWARE) {
    r = try_hw(d, codec, cfg->hw, why, sizeof why);
    if (r < 0) {
      snprintf(err, errcap, "hardware decoder unavailable (%s)", why);
      goto fail;
    }
  }

  d->ctx = avcodec_alloc_context3(codec);
  d->pkt = av_packet_alloc();
  d->frame = av_frame_alloc();
  d->sw = av_frame_alloc();
  if (!d->ctx || !d->pkt || !d->frame || !d->sw) {
    snprintf(err, errcap, "out of memory");
    r = -ENOMEM;
    goto fail;
  }
  d->ctx->opaque = d;
  d->ctx->flags |= AV_CODEC_FLAG_LOW_DELAY;
  d->ctx->err_recognition = AV_EF_EXPLODE;
  if (d->hw_device) {
    d->ctx->hw_device_ctx = av_buffer_ref(d->hw_device);
    d->ctx->get_format = get_hw_format;
    d->ctx->thread_count = 1;
    snprintf(d->desc, sizeof d->desc, "%s %s", codec->name, bf_hwdec_name(d->hw_kind));
  } else {
    int threads = cfg->threads > 0 ? cfg->threads : default_threads();
    d->ctx->thread_count = threads;
    d->ctx->thread_type = FF_THREAD_SLICE; /* never FF_THREAD_FRAME: +1 frame of latency */
  }
  r = avcodec_open2(d->ctx, codec, NULL);
  if (r < 0) {
    char e[64];
    av_strerror(r, e, sizeof e);
    snprintf(err, errcap, "cannot open the %s decoder: %s", codec->name, e);
    goto fail;
  }
  if (!d->hw_device) {
    /* what libavcodec made of the request: slice threads, or none */
    int n = d->ctx->thread_count;
    const char *kind = d->ctx->active_thread_type == FF_THREAD_SLICE ? "slice " : "";
    if (!d->ctx->active_thread_type) n = 1;
    snprintf(d->desc, sizeof d->desc, "%s software, %d %sthread%s", codec->name, n, kind,
             n == 1 ? "" : "s");
  }
  if (cfg->hw == BF_HWDEC_AUTO && !d->hw_device)
    fprintf(stderr, "bildfunk: no hardware decoder (%s); decoding in software: %s\n", why, d->desc);
  *out = d;
  return 0;
fail:
  bf_decoder_close(&d);
  return r;
}

static int fill_input(bf_decoder *d, const uint8_t *au, size_t len) {
  size_t need = len + AV_INPUT_BUFFER_PADDING_SIZE;
  if (len > INT32_MAX - AV_INPUT_BUFFER_PADDING_SIZE) return AVERROR(EINVAL);
  /* reuse the buffer unless the decoder still holds a reference to it */
  if (!d->buf || (size_t)d->buf->size < need || !av_buffer_is_writable(d->buf)) {
    av_buffer_unref(&d->buf);
    size_t size = need < 256 * 1024 ? 256 * 1024 : need + need / 2;
    if (size > INT32_MAX) size = need;
    d->buf = av_buffer_alloc(size);
    if (!d->buf) return AVERROR(ENOMEM);
  }
  memcpy(d->buf->data, au, len);
  memset(d->buf->data + len, 0, AV_INPUT_BUFFER_PADDING_SIZE);
  d->pkt->buf = av_buffer_ref(d->buf);
  if (!d->pkt->buf) return AVERROR(ENOMEM);
  d->pkt->data = d->buf->data;
  d->pkt->size = (int)len;
  return 0;
}

int bf_decoder_decode(bf_decoder *d, const uint8_t *au, size_t len, int64_t pts, AVFrame **pic) {
  *pic = NULL;
  d->decodes++;
  int r = fill_input(d, au, len);
  if (r < 0) return r;
  d->pkt->pts = pts;
  d->pkt->dts = pts;
  r = avcodec_send_packet(d->ctx, d->pkt);
  av_packet_unref(d->pkt);
  if (r < 0) return r;
  int got = 0;
  for (;;) {
    /* keep the newest picture; with LOW_DELAY there is normally one */
    av_frame_unref(d->sw);
    r = avcodec_receive_frame(d->ctx, d->sw);
    if (r == AVERROR(EAGAIN) || r == AVERROR_EOF) break;
    if (r < 0) return r;
    av_frame_unref(d->frame);
    av_frame_move_ref(d->frame, d->sw);
    got = 1;
  }
  if (!got) return 0;
  if ((d->frame->flags & AV_FRAME_FLAG_CORRUPT) || d->frame->decode_error_flags)
    return AVERROR_INVALIDDATA;
  if (d->frame->hw_frames_ctx) {
    av_frame_unref(d->sw);
    r = av_hwframe_transfer_data(d->sw, d->frame, 0);
    if (r < 0) return r;
    d->sw->sample_aspect_ratio = d->frame->sample_aspect_ratio;
    d->sw->pts = d->frame->pts;
    *pic = d->sw;
    return 0;
  }
  *pic = d->frame;
  return 0;
}

const char *bf_decoder_describe(const bf_decoder *d) {
  return d->desc;
}
bf_codec bf_decoder_codec(const bf_decoder *d) {
  return d->codec;
}

uint64_t bf_decoder_decodes(const bf_decoder *d) {
  return d->decodes;
}

AVRational bf_decoder_frame_rate(const bf_decoder *d) {
  AVRational r = d->ctx->framerate;
  if (r.num <= 0 || r.den <= 0) return (AVRational){0, 1};
  return r;
}

void bf_decoder_close(bf_decoder **pd) {
  bf_decoder *d = *pd;
  if (!d) return;
  avcodec_free_context(&d->ctx);
  av_packet_free(&d->pkt);
  av_frame_free(&d->frame);
  av_frame_free(&d->sw);
  av_buffer_unref(&d->buf);
  av_buffer_unref(&d->hw_device);
  av_free(d);
  *pd = NULL;
}
