/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Encoder through the real codecs: testsrc pictures encoded with libx264,
 * libx265 and libsvtav1 and decoded again with libavcodec. Every decoded
 * picture's strip carries the capture time its AU was tagged with; the first
 * AU and the requested one are keyframes by our parser and by the decoder,
 * no other is; a reset gives a fresh start; unknown and mismatched encoder
 * names are refused and a missing hardware encoder falls back to software.
 * A bitrate change at run time shows in the AU sizes (libx264) or is
 * refused (the others).
 */
#include "testutil.h"

#include "au.h"
#include "enc_preset.h"
#include "encoder.h"
#include "sources.h"
#include "strip.h"

#include <libavcodec/avcodec.h>
#include <libavutil/log.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define W 320
#define H 240
#define PICS 12
#define KEY_AT 6

typedef struct au_rec {
  uint64_t capture_ns;
  int key_parsed;
  int key_requested;
} au_rec;

static AVFrame *picture(void) {
  AVFrame *f = av_frame_alloc();
  assert_non_null(f);
  f->format = AV_PIX_FMT_YUV420P;
  f->width = W;
  f->height = H;
  assert_true(av_frame_get_buffer(f, 0) >= 0);
  return f;
}

static bf_encoder *open_enc(bf_codec c, const char *name) {
  bf_encoder_config cfg = {.codec = c,
                           .name = name,
                           .width = W,
                           .height = H,
                           .fps_num = 30,
                           .fps_den = 1,
                           .bitrate = 1500000};
  char err[256] = "";
  bf_encoder *e = NULL;
  int r = bf_encoder_open(&cfg, &e, err, sizeof err);
  if (r) fail_msg("open %s: %s", name ? name : bf_codec_name(c), err);
  return e;
}

static void roundtrip(bf_codec c, const char *decoder) {
  bf_encoder *e = open_enc(c, NULL);
  AVFrame *f = picture();
  au_rec aus[PICS + 4];
  size_t n_aus = 0;
  const AVCodec *dc = avcodec_find_decoder_by_name(decoder);
  assert_non_null(dc);
  AVCodecContext *dec = avcodec_alloc_context3(dc);
  dec->thread_count = 1;
  dec->flags |= AV_CODEC_FLAG_LOW_DELAY;
  assert_true(avcodec_open2(dec, dc, NULL) >= 0);
  AVPacket *pkt = av_packet_alloc();
  AVFrame *out = av_frame_alloc();
  size_t decoded = 0;
  char err[256];
  for (unsigned i = 0; i < PICS; i++) {
    uint64_t pts = 1700000000000000000ull + i * 33333333ull + 17;
    assert_true(av_frame_make_writable(f) >= 0);
    bf_testsrc_draw(f, i, pts);
    assert_int_equal(bf_encoder_send(e, f, pts, i == KEY_AT, err, sizeof err), 0);
    bf_encoded au;
    while (bf_encoder_receive(e, &au)) {
      assert_true(au.len > 0);
      assert_true(n_aus < PICS + 4);
      bf_au_info ai;
      assert_int_equal(bf_au_inspect(c, au.data, au.len, &ai), 0);
      assert_false(ai.malformed);
      if (ai.keyframe) assert_true(ai.param_sets); /* a client may join here */
      if (c == BF_CODEC_AV1) assert_true(ai.temporal_delimiter);
      aus[n_aus++] = (au_rec){au.capture_ns, ai.keyframe, au.keyframe_requested};
      assert_true(av_new_packet(pkt, (int)au.len) >= 0);
      memcpy(pkt->data, au.data, au.len);
      assert_true(avcodec_send_packet(dec, pkt) >= 0);
      av_packet_unref(pkt);
      while (avcodec_receive_frame(dec, out) >= 0) {
        assert_true(decoded < n_aus);
        bf_strip_payload sp;
        if (bf_strip_decode(out->data[0], out->linesize[0], 1, W, H, &sp) != 0) {
          FILE *dump = fopen("strip_fail.gray", "wb");
          for (int y = 0; dump && y < H; y++)
            fwrite(out->data[0] + (ptrdiff_t)y * out->linesize[0], 1, W, dump);
          if (dump) fclose(dump);
          fail_msg("%s: picture %zu: no strip (written to strip_fail.gray)", bf_codec_name(c),
                   decoded);
        }
        assert_int_equal(sp.pts_ns, aus[decoded].capture_ns);
        assert_int_equal(out->key_frame, aus[decoded].key_parsed);
        decoded++;
        av_frame_unref(out);
      }
    }
  }
  /* what an asynchronous encoder finishes late, the sender picks up by
   * polling: do the same, for up to 3 s (SVT-AV1 finishes its pictures on
   * threads of its own; on a loaded machine 200 ms was not always enough) */
  for (int spin = 0; spin < 3000 && bf_encoder_owed(e) > 3; spin++) {
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
    bf_encoded au;
    while (bf_encoder_receive(e, &au)) {
      bf_au_info ai;
      bf_au_inspect(c, au.data, au.len, &ai);
      assert_true(n_aus < PICS + 4);
      aus[n_aus++] = (au_rec){au.capture_ns, ai.keyframe, au.keyframe_requested};
    }
  }
  /* SVT-AV1 holds two or three pictures back (more input or the end of the
   * stream pushes them out); the others none */
  if (n_aus < (c == BF_CODEC_AV1 ? PICS - 3 : PICS))
    fail_msg("%s: %zu AUs, %llu owed", bf_codec_name(c), n_aus,
             (unsigned long long)bf_encoder_owed(e));
  for (size_t i = 0; i < n_aus; i++)
    assert_int_equal(aus[i].capture_ns, 1700000000000000000ull + i * 33333333ull + 17);
  assert_true(decoded >= n_aus - 1);
  for (size_t i = 0; i < n_aus; i++) {
    int want = i == 0 || aus[i].key_requested;
    if (aus[i].key_parsed != want)
      fail_msg("%s AU %zu: keyframe %d, want %d", bf_codec_name(c), i, aus[i].key_parsed, want);
    if (aus[i].key_requested) assert_int_equal(i, KEY_AT);
  }
  /* after a reset the stream starts over: nothing old comes out, and (with a
   * keyframe asked for, as the sender does) the next AU is a keyframe */
  bf_encoder_reset(e);
  bf_encoded au;
  assert_int_equal(bf_encoder_receive(e, &au), 0);
  for (unsigned i = 0; i < 4; i++) {
    assert_true(av_frame_make_writable(f) >= 0);
    bf_testsrc_draw(f, 100u + i, 5000u + i);
    assert_int_equal(bf_encoder_send(e, f, 5000u + i, i == 0, err, sizeof err), 0);
  }
  assert_int_equal(bf_encoder_receive(e, &au), 1);
  assert_int_equal(au.capture_ns, 5000);
  bf_au_info ai;
  bf_au_inspect(c, au.data, au.len, &ai);
  assert_true(ai.keyframe);
  if (c == BF_CODEC_AV1) assert_true(bf_encoder_switches(e) >= 2);
  av_packet_free(&pkt);
  av_frame_free(&out);
  av_frame_free(&f);
  avcodec_free_context(&dec);
  bf_encoder_close(&e);
  assert_null(e);
}

static void test_h264(void **state) {
  (void)state;
  roundtrip(BF_CODEC_H264, "h264");
}

static void test_hevc(void **state) {
  (void)state;
  roundtrip(BF_CODEC_HEVC, "hevc");
}

static void test_av1(void **state) {
  (void)state;
  roundtrip(BF_CODEC_AV1, "libdav1d");
}

static void test_names(void **state) {
  (void)state;
  bf_encoder_config cfg = {.codec = BF_CODEC_H264,
                           .name = "nosuchenc",
                           .width = W,
                           .height = H,
                           .fps_num = 30,
                           .fps_den = 1,
                           .bitrate = 600000};
  char err[256];
  bf_encoder *e = NULL;
  assert_int_equal(bf_encoder_open(&cfg, &e, err, sizeof err), -ENOENT);
  assert_non_null(strstr(err, "unknown encoder 'nosuchenc'"));
  assert_null(e);
  cfg.name = "libx265";
  assert_int_equal(bf_encoder_open(&cfg, &e, err, sizeof err), -EINVAL);
  assert_non_null(strstr(err, "encodes hevc, not h264"));
  cfg.name = "libopus";
  assert_int_equal(bf_encoder_open(&cfg, &e, err, sizeof err), -EINVAL);
  /* a hardware encoder without its hardware: software instead */
  e = open_enc(BF_CODEC_H264, "h264_vaapi");
  assert_string_equal(bf_encoder_name(e), "libx264");
  bf_encoder_close(&e);
  e = open_enc(BF_CODEC_HEVC, "hevc_nvenc");
  assert_string_equal(bf_encoder_name(e), "libx265");
  bf_encoder_close(&e);
  /* ... unless it was asked for by name (--encoder): an error */
  cfg.codec = BF_CODEC_H264;
  cfg.name = "h264_nvenc";
  cfg.strict = 1;
  assert_int_equal(bf_encoder_open(&cfg, &e, err, sizeof err), -ENODEV);
  assert_null(e);
  assert_non_null(strstr(err, "hardware encoder h264_nvenc cannot be used here"));
  assert_non_null(strstr(err, "software encoder libx264"));
}

/* --preset against each encoder's presets (issue #17: a usage error). */
static void test_presets(void **state) {
  (void)state;
  char err[512];
  assert_int_equal(bf_encoder_check_preset(BF_CODEC_H264, NULL, "veryfast", err, sizeof err), 0);
  assert_int_equal(bf_encoder_check_preset(BF_CODEC_H264, NULL, "fast2", err, sizeof err), -EINVAL);
  assert_non_null(strstr(err, "'fast2' is not a preset of libx264"));
  assert_non_null(strstr(err, "ultrafast"));
  assert_int_equal(bf_encoder_check_preset(BF_CODEC_HEVC, "libx265", "placebo", err, sizeof err),
                   0);
  assert_int_equal(bf_encoder_check_preset(BF_CODEC_AV1, NULL, "12", err, sizeof err), 0);
  assert_int_equal(bf_encoder_check_preset(BF_CODEC_AV1, NULL, "99", err, sizeof err), -EINVAL);
  assert_non_null(strstr(err, "libsvtav1"));
  assert_int_equal(bf_encoder_check_preset(BF_CODEC_AV1, NULL, "fast", err, sizeof err), -EINVAL);
  /* named constants of a hardware encoder, read from libavcodec */
  assert_int_equal(bf_encoder_check_preset(BF_CODEC_H264, "h264_nvenc", "p1", err, sizeof err), 0);
  assert_int_equal(bf_encoder_check_preset(BF_CODEC_H264, "h264_nvenc", "p9", err, sizeof err),
                   -EINVAL);
  assert_non_null(strstr(err, "p7"));
  assert_int_equal(bf_encoder_check_preset(BF_CODEC_H264, "nosuchenc", "x", err, sizeof err),
                   -ENOENT);
}

/* testsrc at full HD: the strip reads back and the picture moves. */
static void test_testsrc(void **state) {
  (void)state;
  AVFrame *f = av_frame_alloc();
  f->format = AV_PIX_FMT_YUV420P;
  f->width = 1920;
  f->height = 1080;
  assert_true(av_frame_get_buffer(f, 0) >= 0);
  bf_testsrc_draw(f, 42, 1234567890123ull);
  bf_strip_payload sp;
  assert_int_equal(bf_strip_decode(f->data[0], f->linesize[0], 1, 1920, 1080, &sp), 0);
  assert_int_equal(sp.frame_index, 42);
  assert_int_equal(sp.pts_ns, 1234567890123ull);
  uint8_t row[1920];
  memcpy(row, f->data[0] + (ptrdiff_t)1000 * f->linesize[0], sizeof row);
  bf_testsrc_draw(f, 43, 1234567890123ull);
  assert_memory_not_equal(row, f->data[0] + (ptrdiff_t)1000 * f->linesize[0], sizeof row);
  av_frame_free(&f);
}

/* Noise pictures (xorshift): content that takes every bit it is given, so
 * the AU sizes show the rate the encoder works at. */
static void noise(AVFrame *f, uint32_t *seed) {
  assert_true(av_frame_make_writable(f) >= 0);
  for (int p = 0; p < 3; p++) {
    int w = p ? W / 2 : W, h = p ? H / 2 : H;
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++) {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 17;
        *seed ^= *seed << 5;
        f->data[p][(ptrdiff_t)y * f->linesize[p] + x] = (uint8_t)(64 + (*seed & 127));
      }
  }
}

/* Encodes |n| noise pictures (the first a keyframe when |key|); returns the
 * mean size of the last half, and the first AU's size in |first|. */
static double encode_run(bf_encoder *e, AVFrame *f, uint32_t *seed, int n, int key, size_t *first) {
  char err[256];
  double sum = 0;
  for (int i = 0; i < n; i++) {
    noise(f, seed);
    assert_int_equal(bf_encoder_send(e, f, (uint64_t)i, key && i == 0, err, sizeof err), 0);
    bf_encoded au;
    assert_int_equal(bf_encoder_receive(e, &au), 1);
    if (i == 0) *first = au.len;
    if (i >= n / 2) sum += (double)au.len;
  }
  return sum / (n - n / 2);
}

/* bf_encoder_set_bitrate: libx264 follows a new bitrate (and its one-frame
 * VBV) from the next picture on, measured in AU sizes, keyframes included;
 * x265 and SVT-AV1 refuse with -ENOTSUP and keep theirs. */
static void test_set_bitrate(void **state) {
  (void)state;
  bf_encoder *e = open_enc(BF_CODEC_H264, "libx264");
  AVFrame *f = picture();
  uint32_t seed = 7;
  size_t key_hi, key_lo, dummy;
  assert_int_equal(bf_encoder_bitrate(e), 1500000);
  double hi = encode_run(e, f, &seed, 60, 1, &key_hi);
  assert_int_equal(bf_encoder_set_bitrate(e, 300000), 0);
  assert_int_equal(bf_encoder_bitrate(e), 300000);
  double lo = encode_run(e, f, &seed, 60, 1, &key_lo);
  /* 1.5 Mbit/s at 30 fps is 6250 bytes a picture, 300 kbit/s 1250 */
  print_message("libx264 noise AUs: mean %.0f B at 1.5 Mbit/s, %.0f B at 300 kbit/s; "
                "keyframes %zu -> %zu B\n",
                hi, lo, key_hi, key_lo);
  assert_true(hi > 6250 * 0.7 && hi < 6250 * 1.3);
  assert_true(lo < 1250 * 1.5);
  assert_true(lo < hi / 3);
  assert_true(key_lo < key_hi / 2); /* the VBV caps the keyframe too */
  /* and back up */
  assert_int_equal(bf_encoder_set_bitrate(e, 1500000), 0);
  double up = encode_run(e, f, &seed, 60, 0, &dummy);
  assert_true(up > hi * 0.7);
  assert_int_equal(bf_encoder_set_bitrate(e, 0), -EINVAL);
  bf_encoder_close(&e);
  e = open_enc(BF_CODEC_HEVC, "libx265");
  assert_int_equal(bf_encoder_set_bitrate(e, 300000), -ENOTSUP);
  assert_int_equal(bf_encoder_bitrate(e), 1500000);
  bf_encoder_close(&e);
  e = open_enc(BF_CODEC_AV1, "libsvtav1");
  assert_int_equal(bf_encoder_set_bitrate(e, 300000), -ENOTSUP);
  bf_encoder_close(&e);
  av_frame_free(&f);
}

int main(void) {
  av_log_set_level(AV_LOG_FATAL);
  setenv("SVT_LOG", "1", 0);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_h264),    cmocka_unit_test(test_hevc),
      cmocka_unit_test(test_av1),     cmocka_unit_test(test_names),
      cmocka_unit_test(test_testsrc), cmocka_unit_test(test_set_bitrate),
      cmocka_unit_test(test_presets),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
