/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * --framemd5: the md5 covers each plane's rows without line padding (checked
 * against libavutil's packed copy for odd sizes and several formats), the
 * file has ffmpeg's framemd5 header and line layout, and — when an ffmpeg
 * binary is installed — the output is byte-identical to `ffmpeg -f framemd5`
 * over the same pictures as rawvideo.
 */
#include "testutil.h"

#include "video/framemd5.h"

#include <libavformat/version.h>
#include <libavutil/imgutils.h>
#include <libavutil/md5.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static AVFrame *make(enum AVPixelFormat fmt, int w, int h, int seed) {
  AVFrame *f = av_frame_alloc();
  f->format = fmt;
  f->width = w;
  f->height = h;
  assert_int_equal(av_frame_get_buffer(f, 64), 0); /* padded lines */
  /* fill everything, padding included, so padding bytes would change a
   * hash that wrongly covered them */
  for (int p = 0; p < 4 && f->buf[p]; p++)
    for (size_t i = 0; i < f->buf[p]->size; i++)
      f->buf[p]->data[i] = (uint8_t)(i * 31 + (size_t)seed);
  return f;
}

static void packed(const AVFrame *f, char hex[33], int *size) {
  *size = av_image_get_buffer_size((enum AVPixelFormat)f->format, f->width, f->height, 1);
  uint8_t *buf = malloc((size_t)*size);
  av_image_copy_to_buffer(buf, *size, (const uint8_t *const *)f->data, f->linesize,
                          (enum AVPixelFormat)f->format, f->width, f->height, 1);
  uint8_t sum[16];
  av_md5_sum(sum, buf, (size_t)*size);
  for (int i = 0; i < 16; i++)
    snprintf(hex + 2 * i, 3, "%02x", sum[i]);
  free(buf);
}

static void test_hash_layouts(void **state) {
  (void)state;
  const enum AVPixelFormat fmts[] = {AV_PIX_FMT_YUV420P, AV_PIX_FMT_NV12, AV_PIX_FMT_YUV444P,
                                     AV_PIX_FMT_GRAY8, AV_PIX_FMT_YUV420P10LE};
  const int sizes[][2] = {{33, 17}, {320, 240}, {1, 1}, {7, 3}};
  for (size_t i = 0; i < sizeof fmts / sizeof fmts[0]; i++)
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
      AVFrame *f = make(fmts[i], sizes[k][0], sizes[k][1], (int)(i + k));
      char a[33], b[33];
      int size;
      packed(f, b, &size);
      assert_int_equal(bf_framemd5_hash(f, a), size);
      assert_string_equal(a, b);
      av_frame_free(&f);
    }
}

static char *slurp(const char *path) {
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  char *buf = calloc(1, 1 << 20);
  size_t n = fread(buf, 1, (1 << 20) - 1, f);
  buf[n] = 0;
  fclose(f);
  return buf;
}

static void test_file_format(void **state) {
  (void)state;
  char path[] = "/tmp/bf-md5-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  close(fd);
  bf_framemd5 *m;
  assert_int_equal(bf_framemd5_open(path, &m), 0);
  AVFrame *f = make(AV_PIX_FMT_YUV420P, 33, 17, 1);
  f->sample_aspect_ratio = (AVRational){0, 1}; /* unknown: printed as 0/1, as ffmpeg does */
  assert_int_equal(bf_framemd5_write(m, f, 0, (AVRational){60, 1}), 0);
  assert_int_equal(bf_framemd5_write(m, f, 1, (AVRational){60, 1}), 0);
  assert_int_equal(bf_framemd5_write(m, f, 12345, (AVRational){60, 1}), 0);
  assert_int_equal(bf_framemd5_close(&m), 0);
  assert_null(m);
  char *txt = slurp(path);
  unlink(path);
  char hex[33];
  int size;
  packed(f, hex, &size);
  char want[2048];
  snprintf(want, sizeof want,
           "#format: frame checksums\n#version: 2\n#hash: MD5\n#software: %s\n#tb 0: 1/60\n"
           "#media_type 0: video\n#codec_id 0: rawvideo\n#dimensions 0: 33x17\n#sar 0: 0/1\n"
           "#stream#, dts,        pts, duration,     size, hash\n"
           "0,          0,          0,        1,      %d, %s\n"
           "0,          1,          1,        1,      %d, %s\n"
           "0,      12345,      12345,        1,      %d, %s\n",
           LIBAVFORMAT_IDENT, size, hex, size, hex, size, hex);
  assert_string_equal(txt, want);
  free(txt);
  /* unknown rate: 1/25 like ffmpeg's raw demuxers */
  assert_int_equal(bf_framemd5_open(path, &m), 0);
  assert_int_equal(bf_framemd5_write(m, f, 0, (AVRational){0, 1}), 0);
  assert_int_equal(bf_framemd5_close(&m), 0);
  txt = slurp(path);
  unlink(path);
  assert_non_null(strstr(txt, "#tb 0: 1/25\n"));
  free(txt);
  av_frame_free(&f);
  assert_true(bf_framemd5_open("/nonexistent-dir/x.md5", &m) < 0);
}

/* The real thing: ffmpeg reads the same pictures as rawvideo at 25 fps. */
static void test_matches_ffmpeg(void **state) {
  (void)state;
  if (system("ffmpeg -hide_banner -version >/dev/null 2>&1") != 0) {
    fprintf(stderr, "ffmpeg not installed: skipping the comparison\n");
    if (getenv("BF_REQUIRE_ALL")) fail_msg("BF_REQUIRE_ALL is set and ffmpeg is missing");
    return;
  }
  char raw[] = "/tmp/bf-raw-XXXXXX", ours[] = "/tmp/bf-ours-XXXXXX",
       theirs[] = "/tmp/bf-theirs-XXXXXX";
  int a = mkstemp(raw), b = mkstemp(ours), c = mkstemp(theirs);
  assert_true(a >= 0 && b >= 0 && c >= 0);
  close(a);
  close(b);
  close(c);
  FILE *rf = fopen(raw, "wb");
  bf_framemd5 *m;
  assert_int_equal(bf_framemd5_open(ours, &m), 0);
  for (int i = 0; i < 5; i++) {
    AVFrame *f = make(AV_PIX_FMT_YUV420P, 33, 17, i * 7);
    int size = av_image_get_buffer_size(AV_PIX_FMT_YUV420P, 33, 17, 1);
    uint8_t *buf = malloc((size_t)size);
    av_image_copy_to_buffer(buf, size, (const uint8_t *const *)f->data, f->linesize,
                            AV_PIX_FMT_YUV420P, 33, 17, 1);
    fwrite(buf, 1, (size_t)size, rf);
    free(buf);
    assert_int_equal(bf_framemd5_write(m, f, i, (AVRational){25, 1}), 0);
    av_frame_free(&f);
  }
  fclose(rf);
  assert_int_equal(bf_framemd5_close(&m), 0);
  char cmd[512];
  snprintf(cmd, sizeof cmd,
           "ffmpeg -hide_banner -loglevel error -f rawvideo -pix_fmt yuv420p -s 33x17 -r 25 "
           "-i %s -f framemd5 - > %s",
           raw, theirs);
  assert_int_equal(system(cmd), 0);
  char *x = slurp(ours), *y = slurp(theirs);
  assert_string_equal(x, y);
  free(x);
  free(y);
  unlink(raw);
  unlink(ours);
  unlink(theirs);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hash_layouts),
      cmocka_unit_test(test_file_format),
      cmocka_unit_test(test_matches_ffmpeg),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
