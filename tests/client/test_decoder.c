/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Client decoder: a real encode -> bf_decoder round trip for H.264, HEVC and
 * AV1 (libdav1d) with libavcodec's encoders (the codec told from the first
 * AU), pictures that match what was encoded, rejection of garbage with
 * recovery on the next keyframe, and the hardware-decoder choices.
 */
#include "testutil.h"

#include "video/decoder.h"
#include "video/framemd5.h"

#include <libavcodec/avcodec.h>
#include <libavutil/imgutils.h>
#include <libavutil/md5.h>
#include <libavutil/opt.h>

#include <stdlib.h>
#include <string.h>

/* Codec names and detection from bitstream bytes moved to the media
 * library: tests/media/test_codec.c. */
static void test_hwdec_names(void **state) {
  (void)state;
  bf_hwdec h;
  assert_int_equal(bf_hwdec_parse("cuda", &h), 0);
  assert_int_equal(h, BF_HWDEC_CUDA);
  assert_int_equal(bf_hwdec_parse("metal", &h), -EINVAL);
}

#define W 192
#define H 128
#define FRAMES 6

/* Encoded access units of a moving square on grey. */
typedef struct clip {
  uint8_t *au[FRAMES + 4];
  size_t len[FRAMES + 4];
  int n;
} clip;

static void fill_picture(AVFrame *f, int i) {
  for (int y = 0; y < H; y++)
    memset(f->data[0] + y * f->linesize[0], 100, W);
  for (int y = 0; y < H / 2; y++) {
    memset(f->data[1] + y * f->linesize[1], 128, W / 2);
    memset(f->data[2] + y * f->linesize[2], 128, W / 2);
  }
  for (int y = 16; y < 48; y++)
    memset(f->data[0] + y * f->linesize[0] + 8 + 16 * i, 220, 32);
}

static int encode_clip(const char *encoder, clip *c) {
  memset(c, 0, sizeof *c);
  const AVCodec *codec = avcodec_find_encoder_by_name(encoder);
  if (!codec) return -1;
  AVCodecContext *e = avcodec_alloc_context3(codec);
  e->width = W;
  e->height = H;
  e->pix_fmt = AV_PIX_FMT_YUV420P;
  e->time_base = (AVRational){1, 60};
  e->framerate = (AVRational){60, 1};
  e->gop_size = 1000;
  e->max_b_frames = 0;
  e->bit_rate = 2000000;
  e->thread_count = 1;
  if (!strcmp(encoder, "libx264")) {
    av_opt_set(e->priv_data, "preset", "ultrafast", 0);
    av_opt_set(e->priv_data, "tune", "zerolatency", 0);
  } else if (!strcmp(encoder, "libx265")) {
    av_opt_set(e->priv_data, "preset", "ultrafast", 0);
    av_opt_set(e->priv_data, "tune", "zerolatency", 0);
    av_opt_set(e->priv_data, "x265-params", "log-level=error", 0);
  } else {
    av_opt_set(e->priv_data, "preset", "12", 0);
    av_opt_set(e->priv_data, "svtav1-params", "pred-struct=1", 0);
  }
  if (avcodec_open2(e, codec, NULL) < 0) {
    avcodec_free_context(&e);
    return -1;
  }
  AVFrame *f = av_frame_alloc();
  f->format = AV_PIX_FMT_YUV420P;
  f->width = W;
  f->height = H;
  assert_int_equal(av_frame_get_buffer(f, 0), 0);
  AVPacket *p = av_packet_alloc();
  for (int i = 0; i <= FRAMES; i++) {
    if (i < FRAMES) {
      assert_int_equal(av_frame_make_writable(f), 0);
      fill_picture(f, i);
      f->pts = i;
    }
    assert_int_equal(avcodec_send_frame(e, i < FRAMES ? f : NULL), 0);
    while (avcodec_receive_packet(e, p) == 0) {
      assert_true(c->n < FRAMES + 4);
      c->au[c->n] = malloc((size_t)p->size);
      memcpy(c->au[c->n], p->data, (size_t)p->size);
      c->len[c->n++] = (size_t)p->size;
      av_packet_unref(p);
    }
  }
  av_packet_free(&p);
  av_frame_free(&f);
  avcodec_free_context(&e);
  return 0;
}

static void free_clip(clip *c) {
  for (int i = 0; i < c->n; i++)
    free(c->au[i]);
}

/* md5 of |f| through libavutil's packed copy: an independent path to
 * bf_framemd5_hash's plane-by-plane one. */
static void packed_md5(const AVFrame *f, char hex[33]) {
  int size = av_image_get_buffer_size((enum AVPixelFormat)f->format, f->width, f->height, 1);
  uint8_t *buf = malloc((size_t)size);
  av_image_copy_to_buffer(buf, size, (const uint8_t *const *)f->data, f->linesize,
                          (enum AVPixelFormat)f->format, f->width, f->height, 1);
  uint8_t sum[16];
  av_md5_sum(sum, buf, (size_t)size);
  for (int i = 0; i < 16; i++)
    snprintf(hex + 2 * i, 3, "%02x", sum[i]);
  free(buf);
}

static void roundtrip(const char *encoder, bf_codec codec) {
  clip c;
  if (encode_clip(encoder, &c) != 0) fail_msg("encoder %s is not available", encoder);
  assert_int_equal(c.n, FRAMES);
  assert_int_equal(bf_codec_detect(c.au[0], c.len[0]), codec);
  bf_decoder_config cfg = {codec, BF_HWDEC_SOFTWARE, 2, 0};
  bf_decoder *d;
  char err[256];
  assert_int_equal(bf_decoder_open(&cfg, &d, err, sizeof err), 0);
  assert_int_equal(bf_decoder_codec(d), codec);
  assert_non_null(strstr(bf_decoder_describe(d), "software"));
  for (int i = 0; i < c.n; i++) {
    AVFrame *pic;
    assert_int_equal(bf_decoder_decode(d, c.au[i], c.len[i], i, &pic), 0);
    /* low delay: every AU gives its picture at once */
    assert_non_null(pic);
    assert_int_equal(pic->width, W);
    assert_int_equal(pic->height, H);
    char a[33], b[33];
    assert_true(bf_framemd5_hash(pic, a) > 0);
    packed_md5(pic, b);
    assert_string_equal(a, b);
    /* the grey background and the square are where they were encoded */
    int grey = pic->data[0][100 * pic->linesize[0] + 180];
    int square = pic->data[0][30 * pic->linesize[0] + 8 + 16 * i + 16];
    assert_true(grey >= 96 && grey <= 104);
    assert_true(square >= 200);
  }
  /* garbage is rejected (or gives no picture), never a fake picture... */
  uint8_t junk[3000];
  bf_test_rng rng;
  bf_test_rng_seed(&rng, 9);
  bf_test_rng_fill(&rng, junk, sizeof junk);
  memcpy(junk, c.au[0], 16); /* keep the start so it looks like the stream */
  AVFrame *pic = NULL;
  int r = bf_decoder_decode(d, junk, sizeof junk, 99, &pic);
  assert_true(r < 0 || pic == NULL);
  /* ... and the next keyframe decodes again */
  assert_int_equal(bf_decoder_decode(d, c.au[0], c.len[0], 100, &pic), 0);
  assert_non_null(pic);
  bf_decoder_close(&d);
  assert_null(d);
  free_clip(&c);
}

static void test_h264(void **state) {
  (void)state;
  roundtrip("libx264", BF_CODEC_H264);
}

static void test_hevc(void **state) {
  (void)state;
  roundtrip("libx265", BF_CODEC_HEVC);
}

static void test_av1(void **state) {
  (void)state;
  roundtrip("libsvtav1", BF_CODEC_AV1);
}

static void test_hardware_choices(void **state) {
  (void)state;
  bf_decoder *d;
  char err[256];
  /* auto: hardware if there is any, else software (with one log line) */
  bf_decoder_config cfg = {BF_CODEC_H264, BF_HWDEC_AUTO, 0, 0};
  assert_int_equal(bf_decoder_open(&cfg, &d, err, sizeof err), 0);
  const char *desc = bf_decoder_describe(d);
  assert_true(strstr(desc, "software") || strstr(desc, "vaapi") || strstr(desc, "vdpau") ||
              strstr(desc, "cuda"));
  bf_decoder_close(&d);
  /* an explicit device either works and says so, or fails naming it */
  const bf_hwdec kinds[3] = {BF_HWDEC_VAAPI, BF_HWDEC_VDPAU, BF_HWDEC_CUDA};
  for (int i = 0; i < 3; i++) {
    cfg.hw = kinds[i];
    err[0] = 0;
    int r = bf_decoder_open(&cfg, &d, err, sizeof err);
    if (r == 0) {
      assert_non_null(strstr(bf_decoder_describe(d), bf_hwdec_name(kinds[i])));
      bf_decoder_close(&d);
    } else {
      assert_null(d);
      assert_non_null(strstr(err, bf_hwdec_name(kinds[i])));
    }
  }
  /* no decoder for an unknown codec */
  cfg.codec = BF_CODEC_UNKNOWN;
  cfg.hw = BF_HWDEC_SOFTWARE;
  assert_true(bf_decoder_open(&cfg, &d, err, sizeof err) < 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hwdec_names),
      cmocka_unit_test(test_h264),
      cmocka_unit_test(test_hevc),
      cmocka_unit_test(test_av1),
      cmocka_unit_test(test_hardware_choices),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
