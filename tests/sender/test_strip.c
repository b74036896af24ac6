/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Test-pattern strip: round trip at many sizes and payloads, through noise,
 * blur, scaling and packed RGB; refusal of blank, inverted and damaged
 * pictures; the bitmap font draws inside the picture only.
 */
#include "testutil.h"

#include "strip.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static uint8_t *grey(unsigned w, unsigned h, uint8_t v) {
  uint8_t *p = malloc((size_t)w * h);
  assert_non_null(p);
  memset(p, v, (size_t)w * h);
  return p;
}

static void test_roundtrip_sizes(void **state) {
  (void)state;
  bf_test_rng rng;
  bf_test_rng_seed(&rng, 1);
  static const unsigned sizes[][2] = {{64, 48},     {320, 240}, {330, 250}, {1280, 720},
                                      {1920, 1080}, {641, 481}, {100, 2000}};
  for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
    unsigned w = sizes[s][0], h = sizes[s][1];
    uint8_t *y = grey(w, h, 90);
    for (int i = 0; i < 20; i++) {
      bf_strip_payload in = {(uint32_t)bf_test_rng_next(&rng), bf_test_rng_next(&rng)};
      if (i == 0) in = (bf_strip_payload){0, 0};
      if (i == 1) in = (bf_strip_payload){UINT32_MAX, UINT64_MAX};
      assert_int_equal(bf_strip_draw(y, (ptrdiff_t)w, w, h, &in), 0);
      bf_strip_payload out;
      assert_int_equal(bf_strip_decode(y, (ptrdiff_t)w, 1, w, h, &out), 0);
      assert_int_equal(out.frame_index, in.frame_index);
      assert_int_equal(out.pts_ns, in.pts_ns);
    }
    /* nothing below the band was touched */
    for (size_t k = (size_t)bf_strip_height(w) * w; k < (size_t)w * h; k++)
      assert_int_equal(y[k], 90);
    free(y);
  }
}

static void test_too_small(void **state) {
  (void)state;
  uint8_t *y = grey(63, 48, 0);
  bf_strip_payload p = {1, 2};
  assert_int_equal(bf_strip_draw(y, 63, 63, 48, &p), -EINVAL);
  assert_int_equal(bf_strip_draw(y, 64, 64, 7, &p), -EINVAL); /* band taller than picture */
  free(y);
}

/* Noise of +-|amp| on every pixel and a 3x3 box blur: what a codec might do. */
static void test_noise_and_blur(void **state) {
  (void)state;
  bf_test_rng rng;
  bf_test_rng_seed(&rng, 2);
  const unsigned w = 320, h = 240;
  uint8_t *y = grey(w, h, 128), *b = grey(w, h, 0);
  bf_strip_payload in = {123456, 1795000000123456789ull};
  assert_int_equal(bf_strip_draw(y, w, w, h, &in), 0);
  for (size_t k = 0; k < (size_t)w * h; k++) {
    int v = y[k] + (int)bf_test_rng_below(&rng, 121) - 60;
    y[k] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
  }
  for (unsigned r = 1; r + 1 < h; r++)
    for (unsigned c = 1; c + 1 < w; c++) {
      unsigned s = 0;
      for (int dy = -1; dy <= 1; dy++)
        for (int dx = -1; dx <= 1; dx++)
          s += y[(r + (unsigned)dy) * w + c + (unsigned)dx];
      b[r * w + c] = (uint8_t)(s / 9);
    }
  bf_strip_payload out;
  assert_int_equal(bf_strip_decode(b, w, 1, w, h, &out), 0);
  assert_int_equal(out.frame_index, in.frame_index);
  assert_int_equal(out.pts_ns, in.pts_ns);
  free(y);
  free(b);
}

/* Drawn at 640x360, decoded from nearest-neighbour copies at other sizes and
 * from packed RGB / RGBA (green byte). */
static void test_scaled_and_rgb(void **state) {
  (void)state;
  const unsigned w = 640, h = 360;
  uint8_t *y = grey(w, h, 60);
  bf_strip_payload in = {77, 987654321};
  assert_int_equal(bf_strip_draw(y, w, w, h, &in), 0);
  static const unsigned to[][2] = {{320, 180}, {1280, 720}, {1000, 563}, {480, 270}};
  for (size_t s = 0; s < sizeof to / sizeof to[0]; s++) {
    unsigned W = to[s][0], H = to[s][1];
    for (unsigned step = 1; step <= 4; step += 3) { /* luma, then RGBA */
      uint8_t *d = calloc((size_t)W * H * step, 1);
      assert_non_null(d);
      for (unsigned r = 0; r < H; r++)
        for (unsigned c = 0; c < W; c++) {
          uint8_t v = y[(size_t)(r * h / H) * w + c * w / W];
          for (unsigned k = 0; k < step; k++)
            d[((size_t)r * W + c) * step + k] = k == 1 || step == 1 ? v : 0;
        }
      bf_strip_payload out;
      const uint8_t *plane = step == 1 ? d : d + 1;
      assert_int_equal(bf_strip_decode(plane, (ptrdiff_t)(W * step), step, W, H, &out), 0);
      assert_int_equal(out.frame_index, 77);
      assert_int_equal(out.pts_ns, 987654321ull);
      free(d);
    }
  }
  free(y);
}

static void test_rejects(void **state) {
  (void)state;
  const unsigned w = 320, h = 240;
  uint8_t *y = grey(w, h, 128);
  bf_strip_payload out, in = {5, 6};
  assert_int_equal(bf_strip_decode(y, w, 1, w, h, &out), -EBADMSG); /* blank */
  assert_int_equal(bf_strip_draw(y, w, w, h, &in), 0);
  /* inverted: the markers no longer match */
  uint8_t *inv = grey(w, h, 0);
  for (size_t k = 0; k < (size_t)w * h; k++)
    inv[k] = (uint8_t)(255 - y[k]);
  assert_int_equal(bf_strip_decode(inv, w, 1, w, h, &out), -EBADMSG);
  /* one payload cell flipped: the CRC catches it */
  unsigned cell = bf_strip_cell(w);
  unsigned x0 = 20 * w / BF_STRIP_COLS, y0 = 1 * w / BF_STRIP_COLS; /* cell 52 */
  for (unsigned r = y0; r < y0 + cell; r++)
    for (unsigned c = x0; c < x0 + cell; c++)
      y[r * w + c] = (uint8_t)(255 - y[r * w + c]);
  assert_int_equal(bf_strip_decode(y, w, 1, w, h, &out), -EBADMSG);
  /* too little contrast */
  uint8_t *flat = grey(w, h, 100);
  assert_int_equal(bf_strip_draw(flat, w, w, h, &in), 0);
  for (size_t k = 0; k < (size_t)w * h; k++)
    flat[k] = (uint8_t)(100 + flat[k] / 16);
  assert_int_equal(bf_strip_decode(flat, w, 1, w, h, &out), -EBADMSG);
  assert_int_equal(bf_strip_decode(NULL, w, 1, w, h, &out), -EBADMSG);
  assert_int_equal(bf_strip_decode(y, w, 1, w, 10, &out), -EBADMSG);
  free(y);
  free(inv);
  free(flat);
}

static void test_crc(void **state) {
  (void)state;
  /* CRC-16/CCITT-FALSE check value */
  assert_int_equal(bf_strip_crc16((const uint8_t *)"123456789", 9), 0x29B1);
}

static void test_font(void **state) {
  (void)state;
  const unsigned w = 40, h = 20;
  uint8_t *y = grey(w, h, 0);
  bf_strip_text(y, w, w, h, 1, 2, 1, "1", 200, 10);
  /* '1': row 0 is ..#.. -> pixel (1 + 2, 2) set, (1, 2) background */
  assert_int_equal(y[2 * w + 3], 200);
  assert_int_equal(y[2 * w + 1], 10);
  assert_int_equal(y[0], 0); /* outside the glyph cell */
  /* scaled and clipped at the edges: no write outside (ASan would see it) */
  bf_strip_text(y, w, w, h, 30, 10, 3, "T 12:34:56.789 ?", 255, 0);
  assert_int_equal(y[10 * w + 30], 255); /* top-left pixel of 'T' */
  free(y);
}

/* The input band: round trips at the bottom edge beside the band, through
 * noise, a half-size copy; its own markers (the top band is not read as
 * one, nor the other way round); nothing outside it is touched. */
static void test_input_band(void **state) {
  (void)state;
  bf_test_rng rng;
  bf_test_rng_seed(&rng, 7);
  static const unsigned sizes[][2] = {{64, 48}, {320, 240}, {1280, 720}, {1920, 1080}, {641, 481}};
  for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
    unsigned w = sizes[s][0], h = sizes[s][1];
    uint8_t *y = grey(w, h, 90);
    bf_strip_payload top = {7, 8};
    assert_int_equal(bf_strip_draw(y, (ptrdiff_t)w, w, h, &top), 0);
    for (int i = 0; i < 10; i++) {
      bf_strip_input in = {(uint32_t)bf_test_rng_next(&rng), (uint32_t)bf_test_rng_next(&rng)};
      if (i == 0) in = (bf_strip_input){0, 0};
      if (i == 1) in = (bf_strip_input){UINT32_MAX, UINT32_MAX};
      assert_int_equal(bf_strip_draw_input(y, (ptrdiff_t)w, w, h, &in), 0);
      bf_strip_input out;
      assert_int_equal(bf_strip_decode_input(y, (ptrdiff_t)w, 1, w, h, &out), 0);
      assert_int_equal(out.ev_seq, in.ev_seq);
      assert_int_equal(out.snap_seq, in.snap_seq);
    }
    bf_strip_payload p;
    assert_int_equal(bf_strip_decode(y, (ptrdiff_t)w, 1, w, h, &p), 0); /* still there */
    assert_int_equal(p.frame_index, 7);
    /* between the two bands nothing was touched */
    for (size_t k = (size_t)bf_strip_height(w) * w; k < (size_t)(h - bf_strip_input_height(w)) * w;
         k++)
      assert_int_equal(y[k], 90);
    free(y);
  }
  /* through noise, and a half-size copy of a 1280x720 picture */
  unsigned w = 1280, h = 720;
  uint8_t *y = grey(w, h, 60), *half = grey(w / 2, h / 2, 0);
  bf_strip_input in = {123456, 654321}, out;
  assert_int_equal(bf_strip_draw_input(y, (ptrdiff_t)w, w, h, &in), 0);
  for (size_t k = 0; k < (size_t)w * h; k++)
    y[k] = (uint8_t)(y[k] + (int)bf_test_rng_below(&rng, 41) - 20);
  for (unsigned r = 0; r < h / 2; r++)
    for (unsigned c = 0; c < w / 2; c++)
      half[r * (w / 2) + c] = y[(2 * r) * w + 2 * c];
  assert_int_equal(bf_strip_decode_input(y, (ptrdiff_t)w, 1, w, h, &out), 0);
  assert_int_equal(out.snap_seq, 654321);
  assert_int_equal(bf_strip_decode_input(half, (ptrdiff_t)(w / 2), 1, w / 2, h / 2, &out), 0);
  assert_int_equal(out.ev_seq, 123456);
  /* a blank picture, and the top band where the input band should be */
  memset(y, 90, (size_t)w * h);
  assert_int_equal(bf_strip_decode_input(y, (ptrdiff_t)w, 1, w, h, &out), -EBADMSG);
  bf_strip_payload top = {1, 2};
  bf_strip_draw(y, (ptrdiff_t)w, w, h, &top);
  assert_int_equal(bf_strip_decode_input(y, (ptrdiff_t)w, 1, w, bf_strip_input_height(w) + 1, &out),
                   -EBADMSG);
  assert_int_equal(bf_strip_draw_input(y, (ptrdiff_t)w, w, bf_strip_height(w) + 3, &in), -EINVAL);
  free(y);
  free(half);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_roundtrip_sizes),
      cmocka_unit_test(test_too_small),
      cmocka_unit_test(test_noise_and_blur),
      cmocka_unit_test(test_scaled_and_rgb),
      cmocka_unit_test(test_rejects),
      cmocka_unit_test(test_crc),
      cmocka_unit_test(test_font),
      cmocka_unit_test(test_input_band),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
