/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Picture sources: see sources.h.
 *
 * testsrc draws straight into a yuv420p frame: one row of moving colour bars
 * copied down the picture, a bouncing box, the strip band and two text lines.
 * file and x11 share one demux path: libavformat reads packets; a file in the
 * session codec goes through the Annex-B bitstream filter and out as AUs,
 * anything else is decoded and scaled (swscale) to yuv420p at the session
 * size. x11grab is opened at 1000 fps so it never sleeps: the sender paces.
 */
#include "sources.h"

#include "strip.h"
#include "tone.h"

#include <libavcodec/avcodec.h>
#include <libavcodec/bsf.h>
#include <libavdevice/avdevice.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct bf_source {
  bf_source_config cfg;
  bf_source_info info;
  uint64_t produced;
  AVFrame *out; /* yuv420p picture handed out */
  /* demux path */
  AVFormatContext *fmt;
  int stream;
  AVCodecContext *dec;
  AVBSFContext *bsf;
  struct SwsContext *sws;
  AVPacket *pkt;
  AVFrame *decoded;
  int dec_eof;         /* decoder drained after end of input */
  uint64_t pass_items; /* items produced since the last start over */
  int want_key;        /* passthrough: skip to the next keyframe */
  uint8_t *au;         /* passthrough AU storage */
  size_t au_cap;
  uint8_t *av1_seq; /* AV1 sequence header OBU from extradata */
  size_t av1_seq_len;
  uint64_t last_pts; /* testsrc: the previous picture's pts (the flash) */
  uint32_t pass;     /* file: passes begun */
  int64_t media_ns;  /* file: the position of the item being produced */
  void (*overlay)(void *user, AVFrame *f); /* testsrc: drawn over each picture */
  void *overlay_user;
};

static uint64_t realtime_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int errf(char *err, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int errf(char *err, size_t cap, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  if (err && cap) vsnprintf(err, cap, fmt, ap);
  va_end(ap);
  return 0;
}

static const char *averr(int e, char *buf, size_t cap) {
  av_strerror(e, buf, cap);
  return buf;
}

static int averror_to_errno(int e) {
  if (e == AVERROR(ENOMEM)) return -ENOMEM;
  if (e < 0 && e > -4096) return e; /* AVERROR(errno) is -errno on POSIX */
  return -EIO;
}

/* ---- testsrc -------------------------------------------------------------- */

/* Eight bars: white, yellow, cyan, green, magenta, red, blue, grey (BT.601). */
static const uint8_t bar_y[8] = {235, 210, 170, 145, 106, 81, 41, 128};
static const uint8_t bar_u[8] = {128, 16, 166, 54, 202, 90, 240, 128};
static const uint8_t bar_v[8] = {128, 146, 16, 34, 222, 240, 110, 128};

void bf_testsrc_draw(AVFrame *f, uint64_t index, uint64_t pts_ns) {
  const unsigned w = (unsigned)f->width, h = (unsigned)f->height;
  const unsigned cw = w / 2, ch = h / 2;
  uint8_t *Y = f->data[0], *U = f->data[1], *V = f->data[2];
  const ptrdiff_t ys = f->linesize[0], us = f->linesize[1], vs = f->linesize[2];
  /* bars, moving right by 4 px a frame: one row each, copied down */
  const unsigned bar_w = w / 8 ? w / 8 : 1;
  const unsigned shift = (unsigned)((index * 4u) % w);
  for (unsigned x = 0; x < w; x++) {
    unsigned b = (((x + w - shift) % w) / bar_w) & 7u;
    Y[x] = bar_y[b];
  }
  for (unsigned x = 0; x < cw; x++) {
    unsigned b = ((((2 * x) + w - shift) % w) / bar_w) & 7u;
    U[x] = bar_u[b];
    V[x] = bar_v[b];
  }
  for (unsigned y = 1; y < h; y++)
    memcpy(Y + (ptrdiff_t)y * ys, Y, w);
  for (unsigned y = 1; y < ch; y++) {
    memcpy(U + (ptrdiff_t)y * us, U, cw);
    memcpy(V + (ptrdiff_t)y * vs, V, cw);
  }
  /* a box bouncing diagonally, dark with a light edge */
  const unsigned band = bf_strip_height(w);
  unsigned bs = h / 6 & ~1u;
  if (bs < 8) bs = 8;
  if (band + bs < h && bs < w) {
    unsigned range_x = w - bs, range_y = h - band - bs;
    unsigned px = (unsigned)((index * 6u) % (2u * range_x));
    unsigned py = (unsigned)((index * 4u) % (2u * (range_y ? range_y : 1)));
    if (px > range_x) px = 2 * range_x - px;
    if (py > range_y) py = 2 * range_y - py;
    px &= ~1u;
    py = (band + py) & ~1u;
    for (unsigned y = py; y < py + bs && y < h; y++) {
      int edge_y = y < py + 2 || y >= py + bs - 2;
      for (unsigned x = px; x < px + bs && x < w; x++) {
        int edge = edge_y || x < px + 2 || x >= px + bs - 2;
        Y[(ptrdiff_t)y * ys + x] = edge ? 235 : 40;
      }
    }
    for (unsigned y = py / 2; y < (py + bs) / 2 && y < ch; y++) {
      memset(U + (ptrdiff_t)y * us + px / 2, 128, bs / 2);
      memset(V + (ptrdiff_t)y * vs + px / 2, 128, bs / 2);
    }
  }
  /* text: frame index and capture time (UTC), below the band */
  unsigned scale = w / 240 > 2 ? w / 240 : 2;
  while (scale > 1 && band + 2 * BF_STRIP_CHAR_H * scale + 4 > h)
    scale--;
  char l1[32], l2[40];
  snprintf(l1, sizeof l1, "FRAME %08u", (unsigned)(uint32_t)index);
  time_t secs = (time_t)(pts_ns / 1000000000ull);
  struct tm tm;
  gmtime_r(&secs, &tm);
  snprintf(l2, sizeof l2, "T %02d:%02d:%02d.%03u", tm.tm_hour, tm.tm_min, tm.tm_sec,
           (unsigned)(pts_ns / 1000000ull % 1000u));
  unsigned ty = band + 2;
  unsigned text_h = 2 * BF_STRIP_CHAR_H * scale + 2;
  unsigned text_w = (unsigned)strlen(l2) * BF_STRIP_CHAR_W * scale + 2;
  if (text_w > w) text_w = w;
  if (ty + text_h <= h) {
    bf_strip_text(Y, ys, w, h, 2, ty, scale, l1, 235, 16);
    bf_strip_text(Y, ys, w, h, 2, ty + BF_STRIP_CHAR_H * scale, scale, l2, 235, 16);
    for (unsigned y = ty / 2; y < (ty + text_h + 1) / 2 && y < ch; y++) {
      memset(U + (ptrdiff_t)y * us, 128, (text_w + 3) / 2 < cw ? (text_w + 3) / 2 : cw);
      memset(V + (ptrdiff_t)y * vs, 128, (text_w + 3) / 2 < cw ? (text_w + 3) / 2 : cw);
    }
  }
  /* the strip last, on neutral chroma, so nothing overwrites it */
  bf_strip_payload sp = {(uint32_t)index, pts_ns};
  bf_strip_draw(Y, ys, w, h, &sp);
  for (unsigned y = 0; y < (band + 1) / 2 && y < ch; y++) {
    memset(U + (ptrdiff_t)y * us, 128, cw);
    memset(V + (ptrdiff_t)y * vs, 128, cw);
  }
}

void bf_testsrc_flash(AVFrame *f) {
  const unsigned w = (unsigned)f->width, h = (unsigned)f->height;
  const unsigned band = bf_strip_height(w);
  for (unsigned y = band; y < h; y++)
    memset(f->data[0] + (ptrdiff_t)y * f->linesize[0], 235, w);
  for (unsigned y = (band + 1) / 2; y < h / 2; y++) {
    memset(f->data[1] + (ptrdiff_t)y * f->linesize[1], 128, w / 2);
    memset(f->data[2] + (ptrdiff_t)y * f->linesize[2], 128, w / 2);
  }
}

static int alloc_out(bf_source *s, unsigned w, unsigned h, char *err, size_t cap) {
  s->out = av_frame_alloc();
  if (!s->out) return -ENOMEM;
  s->out->format = AV_PIX_FMT_YUV420P;
  s->out->width = (int)w;
  s->out->height = (int)h;
  int r = av_frame_get_buffer(s->out, 0);
  if (r < 0) {
    errf(err, cap, "cannot allocate a %ux%u picture", w, h);
    return -ENOMEM;
  }
  return 0;
}

/* ---- demux (file, x11) ---------------------------------------------------- */

static int codec_matches(bf_codec c, enum AVCodecID id) {
  return (c == BF_CODEC_H264 && id == AV_CODEC_ID_H264) ||
         (c == BF_CODEC_HEVC && id == AV_CODEC_ID_HEVC) ||
         (c == BF_CODEC_AV1 && id == AV_CODEC_ID_AV1);
}

static int open_bsf(bf_source *s, const AVCodecParameters *par, char *err, size_t cap) {
  const char *name = par->codec_id == AV_CODEC_ID_H264   ? "h264_mp4toannexb"
                     : par->codec_id == AV_CODEC_ID_HEVC ? "hevc_mp4toannexb"
                                                         : NULL;
  if (!name) {
    /* AV1: keep the sequence header of av1C (4 bytes, then config OBUs) */
    if (par->extradata_size > 4 && (par->extradata[0] & 0x80u)) {
      s->av1_seq_len = (size_t)par->extradata_size - 4;
      s->av1_seq = av_malloc(s->av1_seq_len);
      if (!s->av1_seq) return -ENOMEM;
      memcpy(s->av1_seq, par->extradata + 4, s->av1_seq_len);
    }
    return 0;
  }
  const AVBitStreamFilter *f = av_bsf_get_by_name(name);
  char eb[128];
  int r;
  if (!f) {
    errf(err, cap, "bitstream filter %s is missing from this FFmpeg", name);
    return -ENOSYS;
  }
  if ((r = av_bsf_alloc(f, &s->bsf)) < 0 || (r = avcodec_parameters_copy(s->bsf->par_in, par)) < 0)
    return averror_to_errno(r);
  s->bsf->time_base_in = s->fmt->streams[s->stream]->time_base;
  if ((r = av_bsf_init(s->bsf)) < 0) {
    errf(err, cap, "%s: %s", name, averr(r, eb, sizeof eb));
    return averror_to_errno(r);
  }
  return 0;
}

static int open_decoder(bf_source *s, const AVCodecParameters *par, const char *what, char *err,
                        size_t cap) {
  const AVCodec *dec = avcodec_find_decoder(par->codec_id);
  char eb[128];
  if (!dec) {
    errf(err, cap, "%s: no decoder for its video codec '%s'", what,
         avcodec_get_name(par->codec_id));
    return -ENOSYS;
  }
  s->dec = avcodec_alloc_context3(dec);
  if (!s->dec) return -ENOMEM;
  int r = avcodec_parameters_to_context(s->dec, par);
  if (r >= 0) r = avcodec_open2(s->dec, dec, NULL);
  if (r < 0) {
    errf(err, cap, "%s: cannot open the %s decoder: %s", what, dec->name, averr(r, eb, sizeof eb));
    return averror_to_errno(r);
  }
  s->decoded = av_frame_alloc();
  return s->decoded ? 0 : -ENOMEM;
}

static int open_demux(bf_source *s, char *err, size_t cap) {
  const bf_source_config *c = &s->cfg;
  const AVInputFormat *ifmt = NULL;
  AVDictionary *opts = NULL;
  char url[1024], what[1100], eb[128];
  if (c->kind == BF_SOURCE_X11) {
    avdevice_register_all();
    ifmt = av_find_input_format("x11grab");
    if (!ifmt) {
      errf(err, cap, "x11: this FFmpeg has no x11grab input device");
      return -ENOSYS;
    }
    const char *disp = c->arg ? c->arg : getenv("DISPLAY");
    if (!disp || !*disp) {
      errf(err, cap, "x11: no display given and DISPLAY is not set (use --source x11:DISPLAY)");
      return -EINVAL;
    }
    /* x11:0 is display :0, as the README writes it; x11::0 and
     * x11:HOST:0 are X's own forms */
    snprintf(url, sizeof url, "%s%s", strchr(disp, ':') ? "" : ":", disp);
    snprintf(what, sizeof what, "x11 display '%s'", url);
    av_dict_set(&opts, "framerate", "1000", 0);
    if (c->width && c->height) {
      char vs[32];
      snprintf(vs, sizeof vs, "%ux%u", c->width, c->height);
      av_dict_set(&opts, "video_size", vs, 0);
    }
  } else {
    snprintf(url, sizeof url, "%s", c->arg);
    snprintf(what, sizeof what, "file '%s'", c->arg);
  }
  int r = avformat_open_input(&s->fmt, url, ifmt, &opts);
  av_dict_free(&opts);
  if (r < 0) {
    errf(err, cap, "cannot open %s: %s%s", what, averr(r, eb, sizeof eb),
         c->kind == BF_SOURCE_X11 ? " (the display is x11:N for DISPLAY=:N, or x11:HOST:N; "
                                    "e.g. --source x11:0)"
                                  : "");
    return averror_to_errno(r);
  }
  if ((r = avformat_find_stream_info(s->fmt, NULL)) < 0) {
    errf(err, cap, "%s: cannot read stream information: %s", what, averr(r, eb, sizeof eb));
    return averror_to_errno(r);
  }
  s->stream = av_find_best_stream(s->fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
  if (s->stream < 0) {
    errf(err, cap, "%s has no video stream", what);
    return -ENODATA;
  }
  AVStream *st = s->fmt->streams[s->stream];
  const AVCodecParameters *par = st->codecpar;
  if (par->width <= 0 || par->height <= 0) {
    errf(err, cap, "%s: the video stream has no picture size (truncated or damaged?)", what);
    return -EINVAL;
  }
  for (unsigned i = 0; i < s->fmt->nb_streams; i++)
    if ((int)i != s->stream) s->fmt->streams[i]->discard = AVDISCARD_ALL;
  /* rate: the file's own, else what was asked, else 60 */
  AVRational fr = st->avg_frame_rate;
  if (fr.num <= 0 || fr.den <= 0 || av_q2d(fr) > 1000) fr = st->r_frame_rate;
  if (c->kind == BF_SOURCE_X11 || fr.num <= 0 || fr.den <= 0 || av_q2d(fr) > 1000 ||
      av_q2d(fr) < 1) {
    fr.num = c->fps_num ? (int)c->fps_num : 60;
    fr.den = c->fps_num ? (int)c->fps_den : 1;
  }
  s->info.fps_num = (unsigned)fr.num;
  s->info.fps_den = (unsigned)fr.den;
  s->pkt = av_packet_alloc();
  if (!s->pkt) return -ENOMEM;
  if (c->kind == BF_SOURCE_FILE && codec_matches(c->codec, par->codec_id) &&
      !(c->width && c->height &&
        ((unsigned)par->width != c->width || (unsigned)par->height != c->height))) {
    s->info.passthrough = 1;
    s->info.width = (unsigned)par->width;
    s->info.height = (unsigned)par->height;
    snprintf(s->info.desc, sizeof s->info.desc, "%.90s, %s %dx%d passed through", what,
             avcodec_get_name(par->codec_id), par->width, par->height);
    return open_bsf(s, par, err, cap);
  }
  if ((r = open_decoder(s, par, what, err, cap)) < 0) return r;
  unsigned w = c->width ? c->width : (unsigned)par->width & ~1u;
  unsigned h = c->height ? c->height : (unsigned)par->height & ~1u;
  if (w < 64 || h < 48) {
    errf(err, cap, "%s: picture %ux%u is too small (at least 64x48)", what, w, h);
    return -EINVAL;
  }
  s->info.width = w;
  s->info.height = h;
  snprintf(s->info.desc, sizeof s->info.desc, "%.80s, %s %dx%d decoded to %ux%u", what,
           avcodec_get_name(par->codec_id), par->width, par->height, w, h);
  return alloc_out(s, w, h, err, cap);
}

/* Raw streams (Annex B, OBU) cannot seek: the file is opened again, and its
 * video stream must be the same as before. */
static int reopen(bf_source *s) {
  AVCodecParameters *was = avcodec_parameters_alloc();
  if (!was) return AVERROR(ENOMEM);
  int r = avcodec_parameters_copy(was, s->fmt->streams[s->stream]->codecpar);
  avformat_close_input(&s->fmt);
  if (r >= 0) r = avformat_open_input(&s->fmt, s->cfg.arg, NULL, NULL);
  if (r >= 0) r = avformat_find_stream_info(s->fmt, NULL);
  if (r >= 0) r = av_find_best_stream(s->fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
  if (r >= 0) {
    const AVCodecParameters *now = s->fmt->streams[r]->codecpar;
    if (r != s->stream || now->codec_id != was->codec_id || now->width != was->width ||
        now->height != was->height)
      r = AVERROR(ESTALE); /* the file changed under us */
  }
  avcodec_parameters_free(&was);
  if (r < 0) return r;
  for (unsigned i = 0; i < s->fmt->nb_streams; i++)
    if ((int)i != s->stream) s->fmt->streams[i]->discard = AVDISCARD_ALL;
  return 0;
}

/* Back to the start of the file for another pass: a seek where the
 * container can, else the file opened again (raw streams). */
static int start_over(bf_source *s, char *err, size_t cap) {
  char eb[128];
  int r = av_seek_frame(s->fmt, s->stream,
                        s->fmt->streams[s->stream]->start_time != AV_NOPTS_VALUE
                            ? s->fmt->streams[s->stream]->start_time
                            : 0,
                        AVSEEK_FLAG_BACKWARD);
  if (r < 0) r = avformat_seek_file(s->fmt, -1, INT64_MIN, 0, 0, 0);
  if (r < 0) r = reopen(s);
  if (r < 0) {
    errf(err, cap, "file '%s': cannot start over: %s", s->cfg.arg, averr(r, eb, sizeof eb));
    return averror_to_errno(r);
  }
  if (s->dec) avcodec_flush_buffers(s->dec);
  if (s->bsf) av_bsf_flush(s->bsf);
  s->dec_eof = 0;
  s->pass_items = 0;
  s->pass++;
  return 0;
}

/* The end of the input: start over, or report the end. */
static int at_end(bf_source *s, char *err, size_t cap) {
  if (s->cfg.kind == BF_SOURCE_X11) {
    errf(err, cap, "x11: the grab ended (X server gone?)");
    return -EIO;
  }
  if (s->pass_items == 0) {
    errf(err, cap, "file '%s': no %s in it (truncated or damaged?)", s->cfg.arg,
         s->info.passthrough ? "complete access unit" : "decodable picture");
    return -EINVAL;
  }
  if (!s->cfg.loop) return -ENODATA;
  return start_over(s, err, cap) < 0 ? -EIO : 1;
}

/* Next packet of the video stream into s->pkt. 0, 1 at the end, <0 error. */
static int next_packet(bf_source *s, char *err, size_t cap) {
  char eb[128];
  for (;;) {
    av_packet_unref(s->pkt);
    int r = av_read_frame(s->fmt, s->pkt);
    if (r == AVERROR_EOF || (r < 0 && s->cfg.kind == BF_SOURCE_FILE && r != AVERROR(EAGAIN))) {
      if (r != AVERROR_EOF && s->cfg.kind == BF_SOURCE_FILE && s->pass_items == 0) {
        errf(err, cap, "file '%s': %s", s->cfg.arg, averr(r, eb, sizeof eb));
        return -EIO;
      }
      return 1;
    }
    if (r == AVERROR(EAGAIN)) continue;
    if (r < 0) {
      errf(err, cap, "x11: grab failed: %s", averr(r, eb, sizeof eb));
      return -EIO;
    }
    if (s->pkt->stream_index == s->stream) return 0;
  }
}

static int ensure_au(bf_source *s, size_t n) {
  if (n <= s->au_cap) return 0;
  size_t cap = s->au_cap ? s->au_cap : 65536;
  while (cap < n)
    cap *= 2;
  uint8_t *p = realloc(s->au, cap);
  if (!p) return -ENOMEM;
  s->au = p;
  s->au_cap = cap;
  return 0;
}

/* Frames packet |p| (after the bsf) as one AU into s->au. AV1: a temporal
 * delimiter first, and the sequence header from the container in front of a
 * keyframe that lacks one. */
static int build_au(bf_source *s, const AVPacket *p, size_t *len) {
  size_t n = (size_t)p->size;
  if (s->cfg.codec != BF_CODEC_AV1) {
    if (ensure_au(s, n)) return -ENOMEM;
    memcpy(s->au, p->data, n);
    *len = n;
    return 0;
  }
  bf_au_info in;
  bf_au_inspect(BF_CODEC_AV1, p->data, n, &in);
  size_t td = in.temporal_delimiter ? in.td_bytes : 0;
  int add_seq = in.keyframe && !in.param_sets && s->av1_seq_len;
  if (ensure_au(s, n + BF_AV1_TD_BYTES + s->av1_seq_len)) return -ENOMEM;
  size_t off;
  if (td) {
    memcpy(s->au, p->data, td);
    off = td;
  } else {
    memcpy(s->au, bf_av1_temporal_delimiter, BF_AV1_TD_BYTES);
    off = BF_AV1_TD_BYTES;
  }
  if (add_seq) {
    memcpy(s->au + off, s->av1_seq, s->av1_seq_len);
    off += s->av1_seq_len;
  }
  memcpy(s->au + off, p->data + td, n - td);
  *len = off + n - td;
  return 0;
}

static int read_passthrough(bf_source *s, bf_source_item *item, char *err, size_t cap) {
  char eb[128];
  uint64_t skipped = 0;
  for (;;) {
    int r;
    if (s->bsf) {
      r = av_bsf_receive_packet(s->bsf, s->pkt);
      if (r == AVERROR(EAGAIN)) {
        int e = next_packet(s, err, cap);
        if (e < 0) return e;
        if (e == 1) {
          if ((e = at_end(s, err, cap)) <= 0) return e;
          continue;
        }
        if ((r = av_bsf_send_packet(s->bsf, s->pkt)) < 0) {
          errf(err, cap, "file '%s': %s", s->cfg.arg, averr(r, eb, sizeof eb));
          return -EIO;
        }
        continue;
      }
      if (r < 0) {
        errf(err, cap, "file '%s': %s", s->cfg.arg, averr(r, eb, sizeof eb));
        return -EIO;
      }
    } else {
      int e = next_packet(s, err, cap);
      if (e < 0) return e;
      if (e == 1) {
        if ((e = at_end(s, err, cap)) <= 0) return e;
        continue;
      }
    }
    size_t len;
    if (build_au(s, s->pkt, &len)) return -ENOMEM;
    bf_au_info in;
    bf_au_inspect(s->cfg.codec, s->au, len, &in);
    if (in.malformed) continue;
    if (s->want_key && !in.keyframe) {
      if (++skipped > 100000) s->want_key = 0; /* a file without keyframes: give up */
      continue;
    }
    s->want_key = 0;
    s->media_ns = s->pkt->pts == AV_NOPTS_VALUE
                      ? 0
                      : av_rescale_q(s->pkt->pts, s->fmt->streams[s->stream]->time_base,
                                     (AVRational){1, 1000000000});
    item->au = s->au;
    item->au_len = len;
    item->keyframe = in.keyframe;
    return 0;
  }
}

static int read_decoded(bf_source *s, bf_source_item *item, char *err, size_t cap) {
  char eb[128];
  for (;;) {
    int r = avcodec_receive_frame(s->dec, s->decoded);
    if (r == 0) {
      const AVFrame *d = s->decoded;
      s->sws = sws_getCachedContext(s->sws, d->width, d->height, (enum AVPixelFormat)d->format,
                                    (int)s->info.width, (int)s->info.height, AV_PIX_FMT_YUV420P,
                                    SWS_BILINEAR, NULL, NULL, NULL);
      if (!s->sws) {
        errf(err, cap, "cannot convert %s %dx%d pictures",
             av_get_pix_fmt_name((enum AVPixelFormat)d->format), d->width, d->height);
        return -ENOSYS;
      }
      if ((r = av_frame_make_writable(s->out)) < 0) return averror_to_errno(r);
      sws_scale(s->sws, (const uint8_t *const *)d->data, d->linesize, 0, d->height, s->out->data,
                s->out->linesize);
      s->media_ns = d->best_effort_timestamp == AV_NOPTS_VALUE
                        ? 0
                        : av_rescale_q(d->best_effort_timestamp,
                                       s->fmt->streams[s->stream]->time_base,
                                       (AVRational){1, 1000000000});
      av_frame_unref(s->decoded);
      item->frame = s->out;
      return 0;
    }
    if (r == AVERROR_EOF) {
      int e = at_end(s, err, cap);
      if (e <= 0) return e;
      continue;
    }
    if (r != AVERROR(EAGAIN)) {
      errf(err, cap, "%s: decoding failed: %s", s->cfg.kind == BF_SOURCE_X11 ? "x11" : s->cfg.arg,
           averr(r, eb, sizeof eb));
      return -EIO;
    }
    int e = next_packet(s, err, cap);
    if (e < 0) return e;
    if (e == 1) {
      avcodec_send_packet(s->dec, NULL); /* drain */
      s->dec_eof = 1;
      continue;
    }
    r = avcodec_send_packet(s->dec, s->pkt);
    if (r < 0 && r != AVERROR(EAGAIN) && r != AVERROR_INVALIDDATA) {
      errf(err, cap, "%s: decoding failed: %s", s->cfg.kind == BF_SOURCE_X11 ? "x11" : s->cfg.arg,
           averr(r, eb, sizeof eb));
      return -EIO;
    }
  }
}

/* ---- public --------------------------------------------------------------- */

int bf_source_open(const bf_source_config *cfg, bf_source **out, char *err, size_t cap) {
  *out = NULL;
  bf_source *s = calloc(1, sizeof *s);
  if (!s) return -ENOMEM;
  s->cfg = *cfg;
  s->stream = -1;
  s->pass = 1;
  int r;
  if (cfg->kind == BF_SOURCE_TESTSRC) {
    unsigned w = cfg->width ? cfg->width : 1280, h = cfg->height ? cfg->height : 720;
    s->info.width = w;
    s->info.height = h;
    s->info.fps_num = cfg->fps_num ? cfg->fps_num : 60;
    s->info.fps_den = cfg->fps_num ? cfg->fps_den : 1;
    snprintf(s->info.desc, sizeof s->info.desc, "testsrc %ux%u", w, h);
    r = alloc_out(s, w, h, err, cap);
  } else if (cfg->kind == BF_SOURCE_FILE || cfg->kind == BF_SOURCE_X11) {
    if (cfg->kind == BF_SOURCE_FILE && (!cfg->arg || !*cfg->arg)) {
      errf(err, cap, "file: no path given");
      r = -EINVAL;
    } else {
      r = open_demux(s, err, cap);
    }
  } else {
    errf(err, cap, "unknown source kind");
    r = -EINVAL;
  }
  if (r < 0) {
    bf_source_close(&s);
    return r;
  }
  *out = s;
  return 0;
}

void bf_source_info_get(const bf_source *s, bf_source_info *info) {
  *info = s->info;
}

int bf_source_read(bf_source *s, bf_source_item *item, char *err, size_t cap) {
  memset(item, 0, sizeof *item);
  int r;
  if (s->cfg.kind == BF_SOURCE_TESTSRC) {
    if ((r = av_frame_make_writable(s->out)) < 0) return averror_to_errno(r);
    item->pts_ns = realtime_ns();
    bf_testsrc_draw(s->out, s->produced, item->pts_ns);
    if (s->cfg.flash && bf_tone_second_crossed(s->last_pts, item->pts_ns)) bf_testsrc_flash(s->out);
    s->last_pts = item->pts_ns;
    if (s->overlay) s->overlay(s->overlay_user, s->out);
    item->frame = s->out;
  } else {
    r = s->info.passthrough ? read_passthrough(s, item, err, cap) : read_decoded(s, item, err, cap);
    if (r < 0) return r;
    item->pts_ns = realtime_ns();
    item->pass = s->pass;
    item->media_ns = s->media_ns;
  }
  item->index = s->produced++;
  s->pass_items++;
  return 0;
}

void bf_source_set_overlay(bf_source *s, void (*fn)(void *user, AVFrame *f), void *user) {
  s->overlay = fn;
  s->overlay_user = user;
}

void bf_source_want_keyframe(bf_source *s) {
  if (s->info.passthrough) s->want_key = 1;
}

void bf_source_close(bf_source **sp) {
  bf_source *s = sp ? *sp : NULL;
  if (!s) return;
  av_frame_free(&s->out);
  av_frame_free(&s->decoded);
  av_packet_free(&s->pkt);
  avcodec_free_context(&s->dec);
  av_bsf_free(&s->bsf);
  sws_freeContext(s->sws);
  avformat_close_input(&s->fmt);
  av_free(s->av1_seq);
  free(s->au);
  free(s);
  *sp = NULL;
}
