/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The testsrc source's input echo (input_echo.h): it keeps what it is
 * given, draws it (the cross at the pointer, the input band with the
 * sequences the input stage set) over a real test-pattern picture that is
 * then read back, and rumbles a pad by its triggers.
 */
#include "testutil.h"

#include "input_echo.h"
#include "sources.h"
#include "strip.h"

#include <bildfunk/inputlink.h>

#include <libavutil/frame.h>

#include <string.h>

static void test_echo(void **state) {
  (void)state;
  const unsigned w = 640, h = 360;
  AVFrame *f = av_frame_alloc();
  assert_non_null(f);
  f->format = AV_PIX_FMT_YUV420P;
  f->width = (int)w;
  f->height = (int)h;
  assert_int_equal(av_frame_get_buffer(f, 0), 0);
  bf_echo e;
  bf_inject b;
  bf_echo_init(&e, w, h);
  bf_echo_inject(&e, &b);
  assert_int_equal(b.classes, BF_INCLASS_ALL);
  assert_int_equal(e.px, 320);
  /* the pointer: absolute in a picture of another size, then relative, clamped */
  b.abs(b.ctx, 959, 540, 1920, 1080);
  assert_int_equal(e.px, 319);
  assert_int_equal(e.py, 180);
  b.motion(b.ctx, -1000, 20);
  assert_int_equal(e.px, 0);
  assert_int_equal(e.py, 200);
  b.motion(b.ctx, 100, 0);
  b.key(b.ctx, 0x04, 1);
  b.key(b.ctx, 0xE1, 1);
  b.key(b.ctx, 0xE1, 0);
  assert_int_equal(e.keys[0], 0x10);
  assert_int_equal(e.keys[0xE1 / 8], 0);
  b.button(b.ctx, 1, 1);
  b.wheel(b.ctx, 240, -120);
  assert_int_equal(e.wheel_v, 240);
  /* a pad: its triggers make the rumble, once per change */
  uint16_t r[BF_INMSG_PADS][2];
  b.pad(b.ctx, 2, 1);
  int16_t axes[BF_INMSG_AXES] = {100, -100, 0, 0, 1000, 30000};
  b.pad_axes(b.ctx, 2, axes);
  b.pad_button(b.ctx, 2, BF_PAD_A, 1);
  assert_int_equal(e.pad_buttons[2], 1);
  assert_int_equal(b.rumble(b.ctx, 0, r), 1);
  assert_int_equal(r[2][0], 2000);
  assert_int_equal(r[2][1], 60000);
  assert_int_equal(r[0][1], 0);
  assert_int_equal(b.rumble(b.ctx, 0, r), 0);
  /* drawn over the pattern: the band reads back, the cross is at the pointer */
  e.band = (bf_strip_input){41, 42};
  bf_testsrc_draw(f, 5, 123456789);
  bf_echo_draw(&e, f);
  bf_strip_input in;
  assert_int_equal(bf_strip_decode_input(f->data[0], f->linesize[0], 1, w, h, &in), 0);
  assert_int_equal(in.ev_seq, 41);
  assert_int_equal(in.snap_seq, 42);
  bf_strip_payload p;
  assert_int_equal(bf_strip_decode(f->data[0], f->linesize[0], 1, w, h, &p), 0);
  assert_int_equal(p.frame_index, 5);
  assert_int_equal(f->data[0][200 * f->linesize[0] + 100], 235);
  assert_int_equal(f->data[0][200 * f->linesize[0] + 100 + 5], 235);
  /* the pad goes: its rumble stops */
  b.pad(b.ctx, 2, 0);
  b.rumble(b.ctx, 0, r);
  assert_int_equal(r[2][1], 0);
  av_frame_free(&f);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_echo)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
