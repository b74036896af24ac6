/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Overlay and layout: the built-in font draws exactly its glyph pixels, the
 * text of each level carries its figures, the canvas has background, text
 * and stacked graph pixels in proportion, and letterboxing keeps the display
 * aspect ratio in every window shape.
 */
#include "testutil.h"

#include "ui/font.h"
#include "ui/overlay.h"
#include "ui/display.h"

#include <bildfunk/wire.h>

#include <string.h>

#define MS 1000000ull
#define SEC 1000000000ull

static int popcount5(uint8_t v) {
  int n = 0;
  for (int i = 0; i < 5; i++)
    n += (v >> i) & 1;
  return n;
}

static int count_color(const bf_canvas *c, int x0, int y0, int w, int h, uint32_t argb) {
  int n = 0;
  for (int y = y0; y < y0 + h && y < c->h; y++)
    for (int x = x0; x < x0 + w && x < c->w; x++)
      n += c->px[y * c->w + x] == argb;
  return n;
}

/* The glyph table itself (every glyph distinct, '?' for the rest) is the
 * media library's: tests/media/test_glyph.c. */
static void test_font(void **state) {
  (void)state;
  bf_canvas c = {0};
  assert_int_equal(bf_canvas_resize(&c, 200, 40), 0);
  for (int scale = 1; scale <= 3; scale++) {
    bf_canvas_fill(&c, 0, 0, c.w, c.h, 0);
    const char *s = "p95 12.5ms";
    int w = bf_font_draw(&c, 3, 2, s, 0xFFFFFFFFu, scale);
    assert_int_equal(w, (int)strlen(s) * BF_CELL_W * scale);
    int want = 0;
    for (const char *p = s; *p; p++)
      for (int r = 0; r < BF_GLYPH_H; r++)
        want += popcount5(bf_glyph_rows(*p)[r]);
    assert_int_equal(count_color(&c, 0, 0, c.w, c.h, 0xFFFFFFFFu), want * scale * scale);
  }
  /* drawing off the edges is clipped, not a crash */
  bf_font_draw(&c, -50, -3, "clip me", 0xFF00FF00u, 3);
  bf_font_draw(&c, 190, 35, "clip me", 0xFF00FF00u, 3);
  assert_int_equal(bf_canvas_resize(&c, 0, 5), -EINVAL);
  bf_canvas_free(&c);
}

static void fill_stats(bf_stats *s) {
  assert_int_equal(bf_stats_init(s, 5 * SEC), 0);
  for (uint32_t i = 0; i < 300; i++) {
    uint64_t cap = SEC + i * 16666667ull;
    bf_frame_record r;
    memset(&r, 0, sizeof r);
    r.frame_index = i;
    r.bytes = 40000;
    r.user_flags = i % 60 == 0 ? BF_AU_KEYFRAME : 0;
    r.pts_ns = cap;
    r.capture_ns = cap;
    r.first_shard_ns = cap + 4 * MS;
    r.last_shard_ns = cap + 5 * MS;
    r.decode_start_ns = cap + 5 * MS;
    r.decode_end_ns = cap + 8 * MS;
    r.present_ns = cap + 9 * MS;
    r.outcome = BF_OUT_PRESENTED;
    bf_stats_on_completed(s, &r, r.present_ns);
    bf_stats_on_outcome(s, &r, r.present_ns);
  }
  bf_stats_on_packets(s, 1000, 990);
}

static int has_line(const bf_overlay *o, const char *needle) {
  for (int i = 0; i < o->nlines; i++)
    if (strstr(o->lines[i], needle)) return 1;
  return 0;
}

static void test_levels_text(void **state) {
  (void)state;
  bf_stats s;
  fill_stats(&s);
  bf_stats_view v;
  bf_stats_view_now(&s, SEC + 299 * 16666667ull + 9 * MS, &v);
  bf_overlay_info info = {
      1920, 1080, 60,  "h264", "h264 software, 2 threads", 1, 0.02, 0.15, 3, 1, 2, 5, 0, 0, 0,
      0,    0,    {0}, NULL};
  bf_text_ops ops;
  bf_font_builtin_ops(1, &ops);
  bf_overlay o;
  bf_overlay_init(&o, BF_OVERLAY_COMPACT, &ops);
  bf_overlay_set_text(&o, &v, &s, &info);
  assert_int_equal(o.nlines, 1);
  assert_true(has_line(&o, "60 fps  e2e 9.0/9.0 ms  loss 1.0%"));

  bf_overlay_set_level(&o, BF_OVERLAY_NORMAL);
  bf_overlay_set_text(&o, &v, &s, &info);
  assert_true(has_line(&o, "1920x1080@60 h264  h264 software, 2 threads"));
  assert_true(has_line(&o, "fps rx 60 dec 60 shown 60  19.2 Mbit/s"));
  assert_true(has_line(&o, "network      5.00   5.00   5.00"));
  assert_true(has_line(&o, "reassembly   1.00   1.00   1.00"));
  assert_true(has_line(&o, "decode       3.00   3.00   3.00"));
  assert_true(has_line(&o, "present      1.00   1.00   1.00"));
  assert_true(has_line(&o, "end-to-end   9.00   9.00   9.00"));
  assert_true(has_line(&o, "loss 1.00%  lost 0 fec 0 late 0"));
  assert_false(has_line(&o, "queue"));
  assert_false(has_line(&o, "clock"));
  /* the sender's host time (FRAME_INFO): an older sender does not say it */
  assert_true(has_line(&o, "host       unknown: the sender does not say"));
  s.host_missing = 1; /* it sends FRAME_INFO, none in the window */
  bf_overlay_set_text(&o, &v, &s, &info);
  assert_true(has_line(&o, "host            -      -      -"));
  v.host_n = 3, v.host_p50 = 2.5, v.host_p95 = 3.25, v.host_p99 = 4;
  bf_overlay_set_text(&o, &v, &s, &info);
  assert_true(has_line(&o, "host         2.50   3.25   4.00"));
  s.host_missing = 0;
  /* the header's rate is the nominal one: none until it is known */
  info.fps = 0;
  bf_overlay_set_text(&o, &v, &s, &info);
  assert_true(has_line(&o, "1920x1080 h264  h264 software, 2 threads"));
  info.fps = 60000.0 / 1001.0;
  bf_overlay_set_text(&o, &v, &s, &info);
  assert_true(has_line(&o, "1920x1080@59.94 h264  h264 software, 2 threads"));
  info.fps = 60;
  /* the data path (issue #18): with the path's RTT once the clocks synced */
  assert_false(has_line(&o, "path"));
  info.path = "relayed via 192.0.2.10:3478";
  bf_overlay_set_text(&o, &v, &s, &info);
  assert_true(has_line(&o, "path relayed via 192.0.2.10:3478  rtt 0.15 ms"));
  info.clock_synced = 0;
  info.path = "direct";
  bf_overlay_set_text(&o, &v, &s, &info);
  assert_true(has_line(&o, "path direct"));
  info.clock_synced = 1;
  info.path = NULL;
  bf_overlay_set_text(&o, &v, &s, &info);
  assert_false(has_line(&o, "in->photon"));
  /* with input: its input-to-photon percentiles under end-to-end */
  info.input_n = 40;
  info.input_p50_ms = 17.25;
  info.input_p95_ms = 24.5;
  info.input_p99_ms = 31;
  bf_overlay_set_text(&o, &v, &s, &info);
  assert_true(has_line(&o, "in->photon  17.25  24.50  31.00"));
  info.input_n = 0;

  bf_overlay_set_level(&o, BF_OVERLAY_DETAILED);
  bf_overlay_set_text(&o, &v, &s, &info);
  assert_true(has_line(&o, "queue        0.00   0.00   0.00"));
  assert_true(has_line(&o, "clock +0.02 ms  rtt 0.15 ms"));
  assert_true(has_line(&o, "keyreq 3 skip 1 err 2 rej 5"));
  info.clock_synced = 0;
  info.waiting_key = 1;
  bf_overlay_set_text(&o, &v, &s, &info);
  assert_true(has_line(&o, "not synced"));
  assert_true(has_line(&o, "waiting for a keyframe"));

  /* off draws nothing */
  bf_overlay_set_level(&o, BF_OVERLAY_OFF);
  bf_overlay_set_text(&o, &v, &s, &info);
  assert_int_equal(o.nlines, 0);
  assert_int_equal(bf_overlay_draw(&o, &s), 1);
  bf_overlay_free(&o);
  bf_stats_free(&s);
}

static void test_canvas_and_graph(void **state) {
  (void)state;
  bf_stats s;
  fill_stats(&s);
  bf_stats_view v;
  bf_stats_view_now(&s, SEC + 299 * 16666667ull + 9 * MS, &v);
  bf_overlay_info info = {
      640, 360, 60,  "hevc", "hevc software, 2 threads", 1, 0, 0.1, 0, 0, 0, 0, 0, 0, 0,
      0,   0,   {0}, NULL};
  bf_text_ops ops;
  bf_font_builtin_ops(1, &ops);
  bf_overlay o;
  bf_overlay_init(&o, BF_OVERLAY_NORMAL, &ops);
  bf_overlay_set_text(&o, &v, &s, &info);
  assert_int_equal(bf_overlay_draw(&o, &s), 0);
  assert_true(o.cv.w >= (int)BF_GRAPH_LEN && o.cv.h > o.nlines * ops.line_h);
  /* background everywhere text and graph are not */
  assert_int_equal(o.cv.px[0], BF_OV_BG);
  assert_true(count_color(&o.cv, 0, 0, o.cv.w, o.graph_y, BF_OV_TEXT) > 500);
  /* 9 ms per frame in a 20 ms range: every graph column stacks
   * 4 + 1 + 3 + 1 ms in its four colours */
  assert_true(bf_overlay_graph_range_ms(&s) == 20);
  int x = o.pad + o.graph_w - 1; /* newest column */
  int net = count_color(&o.cv, x, o.graph_y, 1, o.graph_h, BF_OV_NET);
  int reasm = count_color(&o.cv, x, o.graph_y, 1, o.graph_h, BF_OV_REASM);
  int dec = count_color(&o.cv, x, o.graph_y, 1, o.graph_h, BF_OV_DECODE);
  int pres = count_color(&o.cv, x, o.graph_y, 1, o.graph_h, BF_OV_PRESENT);
  double px_ms = o.graph_h / 20.0;
  assert_true(abs(net - (int)(4 * px_ms + 0.5)) <= 1);
  assert_true(abs(reasm - (int)(1 * px_ms + 0.5)) <= 1);
  assert_true(abs(dec - (int)(3 * px_ms + 0.5)) <= 1);
  assert_true(abs(pres - (int)(1 * px_ms + 0.5)) <= 1);
  /* the net segment sits at the bottom, present on top */
  assert_int_equal(o.cv.px[(o.graph_y + o.graph_h - 1) * o.cv.w + x], BF_OV_NET);
  /* keyframes are marked at the top; 256 columns hold frames 44..299, of
   * which 60, 120, 180, 240 are keyframes */
  assert_int_equal(count_color(&o.cv, o.pad, o.graph_y, o.graph_w, 1, BF_OV_KEY), 4);
  /* issue #17: a time scale, the 256 columns span 4.25 s: a tick under the
   * baseline at each of the 4 whole seconds before the newest column */
  int ticks = count_color(&o.cv, o.pad, o.graph_y + o.graph_h + 1, o.graph_w + 1, 1, BF_OV_DIM);
  assert_int_equal(ticks, 4);
  /* the legend names the keyframe marks (white "key") and fits the canvas */
  int legend_y = o.graph_y + o.graph_h + o.pad;
  assert_true(count_color(&o.cv, 0, legend_y, o.cv.w, o.cv.h - legend_y, BF_OV_KEY) > 10);
  assert_true(count_color(&o.cv, 0, legend_y, o.cv.w, o.cv.h - legend_y, BF_OV_HOST) == 0);
  /* the background hides the picture: opaque */
  assert_true((BF_OV_BG >> 24) == 0xFF);
  /* a tall frame grows the range */
  bf_graph_col *c = &s.graph[(s.graph_head + BF_GRAPH_LEN - 1) % BF_GRAPH_LEN];
  c->present = 42;
  assert_true(bf_overlay_graph_range_ms(&s) == 50); /* 4 + 1 + 3 + 42 */
  bf_overlay_free(&o);
  bf_stats_free(&s);
}

static void check_box(int vw, int vh, int sn, int sd, int ow, int oh, int x, int y, int w, int h) {
  bf_rect r;
  bf_letterbox(vw, vh, sn, sd, ow, oh, &r);
  if (r.x != x || r.y != y || r.w != w || r.h != h)
    fail_msg("letterbox %dx%d (%d:%d) in %dx%d: got %d,%d %dx%d, want %d,%d %dx%d", vw, vh, sn, sd,
             ow, oh, r.x, r.y, r.w, r.h, x, y, w, h);
}

static void test_letterbox(void **state) {
  (void)state;
  check_box(1920, 1080, 1, 1, 1920, 1080, 0, 0, 1920, 1080); /* exact */
  check_box(1920, 1080, 1, 1, 1024, 768, 0, 96, 1024, 576);  /* bars top and bottom */
  check_box(320, 240, 1, 1, 1280, 720, 160, 0, 960, 720);    /* bars left and right */
  check_box(320, 240, 0, 0, 1280, 720, 160, 0, 960, 720);    /* unknown SAR = square */
  check_box(720, 576, 16, 11, 1050, 576, 1, 0, 1047, 576);   /* anamorphic PAL: 1047.27 wide */
  check_box(100, 100, 2, 1, 400, 400, 0, 100, 400, 200);     /* SAR 2:1 */
  check_box(320, 180, 1, 1, 0, 0, 0, 0, 0, 0);               /* no output */
  /* every shape keeps the aspect within a pixel */
  for (int ow = 50; ow <= 2000; ow += 37)
    for (int oh = 50; oh <= 1500; oh += 41) {
      bf_rect r;
      bf_letterbox(1280, 720, 1, 1, ow, oh, &r);
      assert_true(r.w <= ow && r.h <= oh && (r.w == ow || r.h == oh));
      assert_true(r.x >= 0 && r.y >= 0 && r.x + r.w <= ow && r.y + r.h <= oh);
      assert_true(abs(r.w * 720 - r.h * 1280) <= 1280);
    }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_font),
      cmocka_unit_test(test_levels_text),
      cmocka_unit_test(test_canvas_and_graph),
      cmocka_unit_test(test_letterbox),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
