/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The picture file's own sound as a sound source (audio_capture.h): a
 * second libavformat context on the same file reads only its best audio
 * stream; libavcodec decodes it, libswresample makes s16 stereo 48 kHz
 * into a FIFO, and frames are cut from there.
 *
 * In step with the picture: the video stage publishes, for every pass over
 * the file, the capture time of the pass's first picture and that
 * picture's position in the file (bf_file_anchor). Sound at file position T
 * then gets the capture time anchor + (T - position) and is handed out
 * when that time plus a frame has come (CLOCK_REALTIME), as a live capture
 * would. When the picture starts over, so does the sound (a seek, or the
 * file opened again); sound that ends before the picture is followed by
 * silence until then.
 */
#include "audio_capture.h"

#include <bildfunk/clock.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/audio_fifo.h>
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
#include <libswresample/swresample.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct file_src {
  AVFormatContext *fmt;
  int stream;
  AVCodecContext *dec;
  SwrContext *swr;
  AVPacket *pkt;
  AVFrame *frm;
  AVAudioFifo *fifo;
  int eof;          /* this pass's sound has ended */
  int first;        /* the pass's first decoded frame is still to come */
  uint32_t pass;    /* the picture pass the sound follows, 0 = none */
  uint64_t r0;      /* anchor: capture time of the pass's first picture */
  int64_t p0;       /* ... and its position in the file */
  int64_t pos_ns;   /* file position of the next frame handed out */
} file_src;

static int open_input(bf_acap *a, file_src *f, char *err, size_t cap) {
  char eb[128];
  int r = avformat_open_input(&f->fmt, a->cfg.arg, NULL, NULL);
  if (r >= 0) r = avformat_find_stream_info(f->fmt, NULL);
  if (r < 0) {
    av_strerror(r, eb, sizeof eb);
    snprintf(err, cap, "file '%s': %s", a->cfg.arg, eb);
    return -EIO;
  }
  f->stream = av_find_best_stream(f->fmt, AVMEDIA_TYPE_AUDIO, -1, -1, NULL, 0);
  if (f->stream < 0) {
    snprintf(err, cap, "file '%s' has no sound", a->cfg.arg);
    return -ENODATA;
  }
  for (unsigned i = 0; i < f->fmt->nb_streams; i++)
    if ((int)i != f->stream) f->fmt->streams[i]->discard = AVDISCARD_ALL;
  return 0;
}

static int open_codec(bf_acap *a, file_src *f, char *err, size_t cap) {
  const AVCodecParameters *par = f->fmt->streams[f->stream]->codecpar;
  const AVCodec *c = avcodec_find_decoder(par->codec_id);
  if (!c) {
    snprintf(err, cap, "file '%s': no decoder for its sound (%s)", a->cfg.arg,
             avcodec_get_name(par->codec_id));
    return -ENOSYS;
  }
  f->dec = avcodec_alloc_context3(c);
  if (!f->dec || avcodec_parameters_to_context(f->dec, par) < 0 ||
      avcodec_open2(f->dec, c, NULL) < 0) {
    snprintf(err, cap, "file '%s': cannot open the %s decoder", a->cfg.arg, c->name);
    return -EIO;
  }
  f->pkt = av_packet_alloc();
  f->frm = av_frame_alloc();
  f->fifo = av_audio_fifo_alloc(AV_SAMPLE_FMT_S16, 2, 48000);
  if (!f->pkt || !f->frm || !f->fifo) return -ENOMEM;
  snprintf(a->desc, sizeof a->desc, "the file's sound (%s, %d Hz, %d ch)", c->name,
           par->sample_rate, par->ch_layout.nb_channels);
  return 0;
}

static int file_open(bf_acap *a, char *err, size_t cap) {
  file_src *f = calloc(1, sizeof *f);
  if (!f) return -ENOMEM;
  a->impl = f;
  int r = open_input(a, f, err, cap);
  if (r == 0) r = open_codec(a, f, err, cap);
  if (r < 0) {
    a->ops->close(a);
    a->impl = NULL;
  }
  return r;
}

/* Samples of decoded frame f->frm into the FIFO (48 kHz s16 stereo); the
 * pass's first frame is cut or padded so the sound starts at p0. */
static int resample_into(file_src *f) {
  AVFrame *fr = f->frm;
  if (!f->swr) {
    AVChannelLayout out = AV_CHANNEL_LAYOUT_STEREO;
    if (swr_alloc_set_opts2(&f->swr, &out, AV_SAMPLE_FMT_S16, 48000, &fr->ch_layout,
                            (enum AVSampleFormat)fr->format, fr->sample_rate, 0, NULL) < 0 ||
        swr_init(f->swr) < 0)
      return -EIO;
  }
  int n = swr_get_out_samples(f->swr, fr->nb_samples);
  if (n <= 0) return 0;
  uint8_t *buf = NULL;
  if (av_samples_alloc(&buf, NULL, 2, n, AV_SAMPLE_FMT_S16, 0) < 0) return -ENOMEM;
  int got = swr_convert(f->swr, &buf, n, (const uint8_t **)fr->extended_data, fr->nb_samples);
  int skip = 0;
  if (got > 0 && f->first) {
    f->first = 0;
    AVRational tb = f->fmt->streams[f->stream]->time_base;
    int64_t ts = fr->best_effort_timestamp;
    int64_t t_ns = ts == AV_NOPTS_VALUE ? f->p0 : av_rescale_q(ts, tb, (AVRational){1, 1000000000});
    int64_t lead = (t_ns - f->p0) * 48 / 1000000; /* samples of silence before it */
    if (lead > 0 && lead < 48000 * 10) {
      uint8_t *z = NULL;
      if (av_samples_alloc(&z, NULL, 2, (int)lead, AV_SAMPLE_FMT_S16, 0) >= 0) {
        av_samples_set_silence(&z, 0, (int)lead, 2, AV_SAMPLE_FMT_S16);
        av_audio_fifo_write(f->fifo, (void **)&z, (int)lead);
        av_freep(&z);
      }
    } else if (lead < 0) {
      skip = -lead > got ? got : (int)-lead;
    }
  }
  if (got > skip) {
    uint8_t *p = buf + (size_t)skip * 4u;
    av_audio_fifo_write(f->fifo, (void **)&p, got - skip);
  }
  av_freep(&buf);
  return 0;
}

/* Decodes until the FIFO holds |want| samples or the sound ends. */
static int fill(file_src *f, int want) {
  while (!f->eof && av_audio_fifo_size(f->fifo) < want) {
    int r = avcodec_receive_frame(f->dec, f->frm);
    if (r == 0) {
      r = resample_into(f);
      av_frame_unref(f->frm);
      if (r < 0) return r;
      continue;
    }
    if (r == AVERROR_EOF) {
      f->eof = 1;
      break;
    }
    r = av_read_frame(f->fmt, f->pkt);
    if (r < 0) {
      avcodec_send_packet(f->dec, NULL); /* drain */
      continue;
    }
    if (f->pkt->stream_index == f->stream) (void)avcodec_send_packet(f->dec, f->pkt);
    av_packet_unref(f->pkt);
  }
  return 0;
}

/* The picture began pass |pass|: the sound starts over with it. */
static void start_pass(bf_acap *a, file_src *f, uint32_t pass, uint64_t r0, int64_t p0) {
  if (f->pass) {
    AVStream *st = f->fmt->streams[f->stream];
    int64_t start = st->start_time != AV_NOPTS_VALUE ? st->start_time : 0;
    if (av_seek_frame(f->fmt, f->stream, start, AVSEEK_FLAG_BACKWARD) < 0 &&
        avformat_seek_file(f->fmt, -1, INT64_MIN, 0, 0, 0) < 0) {
      char e[160];
      avformat_close_input(&f->fmt);
      (void)open_input(a, f, e, sizeof e); /* raw streams: open again */
    }
    avcodec_flush_buffers(f->dec);
    swr_free(&f->swr);
    av_audio_fifo_reset(f->fifo);
  }
  f->pass = pass;
  f->r0 = r0;
  f->p0 = p0;
  f->pos_ns = p0;
  f->eof = 0;
  f->first = 1;
}

static void sleep_until_realtime(uint64_t t) {
  struct timespec ts = {(time_t)(t / BF_SEC_NS), (long)(t % BF_SEC_NS)};
  while (clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL) == EINTR) {
  }
}

static int file_read(bf_acap *a, int16_t *pcm, uint64_t *capture_ns, char *err, size_t cap) {
  file_src *f = a->impl;
  unsigned n = a->cfg.frame_samples;
  uint64_t frame_ns = (uint64_t)n * BF_SEC_NS / 48000u;
  uint32_t pass;
  uint64_t r0;
  int64_t p0;
  if (!a->cfg.anchor || !bf_file_anchor_get(a->cfg.anchor, &pass, &r0, &p0)) {
    sleep_until_realtime(bf_clock_realtime_ns() + frame_ns);
    return -EAGAIN; /* no picture yet */
  }
  if (pass != f->pass) start_pass(a, f, pass, r0, p0);
  if (!f->fmt || !f->fmt->pb) {
    snprintf(err, cap, "file '%s': cannot read its sound again", a->cfg.arg);
    return -EIO;
  }
  for (;;) { /* frames more than 100 ms late (a new client, a stall) are skipped */
    int r = fill(f, (int)n);
    if (r < 0) {
      snprintf(err, cap, "file '%s': cannot convert its sound", a->cfg.arg);
      return r;
    }
    int got = av_audio_fifo_read(f->fifo, (void **)&pcm, (int)n);
    if (got < 0) got = 0;
    if ((unsigned)got < n) memset(pcm + (size_t)got * 2u, 0, (n - (unsigned)got) * 4u);
    *capture_ns = f->r0 + (uint64_t)(f->pos_ns - f->p0);
    f->pos_ns += (int64_t)frame_ns;
    if (*capture_ns + frame_ns + 100 * BF_MS_NS >= bf_clock_realtime_ns()) break;
  }
  sleep_until_realtime(*capture_ns + frame_ns);
  return 0;
}

static void file_restart(bf_acap *a) {
  (void)a; /* the picture's anchor says where the sound is */
}

static void file_close(bf_acap *a) {
  file_src *f = a->impl;
  if (!f) return;
  av_audio_fifo_free(f->fifo);
  swr_free(&f->swr);
  av_frame_free(&f->frm);
  av_packet_free(&f->pkt);
  avcodec_free_context(&f->dec);
  avformat_close_input(&f->fmt);
  free(f);
}

const bf_acap_ops bf_acap_file_ops = {file_open, file_read, file_restart, file_close};
