/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * bf_shotcheck: checks pixels of a screenshot (raw rgb24, as written by
 * `ffmpeg -f x11grab ... -pix_fmt rgb24 -f rawvideo`) for the display tests.
 *
 *   bf_shotcheck FILE W H CHECK X Y W H [CHECK X Y W H ...]
 *
 * Checks on the rectangle X Y W H:
 *   strip       the test pattern's machine-readable band is at the rectangle's
 *               top-left, sized for a picture exactly that wide (so it only
 *               decodes when the picture is drawn there, letterboxed right);
 *               prints the frame index it carries
 *   black       every pixel is black (letterbox bars)
 *   bars        at least 5 of the test pattern's 6 saturated bar colours occur
 *   overlay     the statistics overlay: its dark background, light text and
 *               at least two of the graph's stage colours
 *   no-overlay  none of the graph's stage colours
 *   text        the pairing screen: mostly dark, with light text (> 500 pixels)
 *   heading     the same with a yellow heading or line (> 200 pixels of the
 *               screen's highlight, e.g. "Could not connect to HOST")
 *   opaque      the overlay's background hides the picture: every pixel
 *               that is not text or graph (all channels < 120) is darker
 *               than 41 (the background is 16, opaque; at 85 % over the
 *               pattern's white it was 49)
 *   big-text    the rectangle is the overlay's (3/4 of it background,
 *               every channel below 41) with light text 14 or more rows tall
 *               (the built-in 5x7 font at two pixels per font pixel, as on a
 *               1080-line window); pick a rectangle the overlay covers only
 *               at that size
 *   ask-again   a heading screen with 5 or more lines of text (rows of lit
 *               pixels between dark ones): the sender prompt's 3 visible
 *               lines under "Could not connect to HOST" and the message
 * Exit 0 when every check passes; each failure is printed.
 */
#include "strip.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t *px;
static int W, H;

static const uint8_t *at(int x, int y) {
  return px + ((size_t)y * (size_t)W + (size_t)x) * 3;
}

static int near(const uint8_t *p, uint32_t rgb, int tol) {
  int r = (int)(rgb >> 16 & 255), g = (int)(rgb >> 8 & 255), b = (int)(rgb & 255);
  return abs(p[0] - r) <= tol && abs(p[1] - g) <= tol && abs(p[2] - b) <= tol;
}

/* The overlay's graph colours (client/src/overlay.h) */
static const uint32_t stage_rgb[4] = {0x3D7BD9, 0x2FB6A8, 0xF0A030, 0xD04FC0};

static int check(const char *what, int x, int y, int w, int h) {
  if (x < 0 || y < 0 || w <= 0 || h <= 0 || x + w > W || y + h > H) {
    printf("%s %d %d %d %d: outside the %dx%d screenshot\n", what, x, y, w, h, W, H);
    return 1;
  }
  if (!strcmp(what, "strip")) {
    bf_strip_payload p;
    int r = bf_strip_decode(at(x, y) + 1, (ptrdiff_t)W * 3, 3, (unsigned)w, (unsigned)h, &p);
    if (r != 0) {
      printf("strip %d %d %d %d: no test-pattern band there\n", x, y, w, h);
      return 1;
    }
    printf("strip %d %d %d %d: frame %u\n", x, y, w, h, p.frame_index);
    return 0;
  }
  if (!strcmp(what, "black")) {
    int bad = 0;
    for (int j = y; j < y + h; j++)
      for (int i = x; i < x + w; i++)
        bad += !near(at(i, j), 0, 16);
    printf("black %d %d %d %d: %d non-black pixels\n", x, y, w, h, bad);
    return bad != 0;
  }
  if (!strcmp(what, "bars")) {
    /* yellow, cyan, green, magenta, red, blue as hue classes */
    int seen[6] = {0};
    for (int j = y; j < y + h; j++)
      for (int i = x; i < x + w; i++) {
        const uint8_t *p = at(i, j);
        int hi[3] = {p[0] > 140, p[1] > 140, p[2] > 140}, lo[3] = {p[0] < 90, p[1] < 90, p[2] < 90};
        if (hi[0] && hi[1] && lo[2]) seen[0]++;
        if (lo[0] && hi[1] && hi[2]) seen[1]++;
        if (lo[0] && p[1] > 100 && lo[2]) seen[2]++;
        if (hi[0] && lo[1] && hi[2]) seen[3]++;
        if (hi[0] && lo[1] && lo[2]) seen[4]++;
        if (lo[0] && lo[1] && hi[2]) seen[5]++;
      }
    int kinds = 0;
    for (int k = 0; k < 6; k++)
      kinds += seen[k] > 20;
    printf("bars %d %d %d %d: %d of 6 bar colours\n", x, y, w, h, kinds);
    return kinds < 5;
  }
  if (!strcmp(what, "overlay") || !strcmp(what, "no-overlay")) {
    int dark = 0, light = 0, stage[4] = {0};
    for (int j = y; j < y + h; j++)
      for (int i = x; i < x + w; i++) {
        const uint8_t *p = at(i, j);
        dark += p[0] < 70 && p[1] < 70 && p[2] < 70;
        light += p[0] > 225 && p[1] > 225 && p[2] > 225;
        for (int k = 0; k < 4; k++)
          stage[k] += near(p, stage_rgb[k], 10);
      }
    int colours = 0;
    for (int k = 0; k < 4; k++)
      colours += stage[k] >= 8;
    printf("%s %d %d %d %d: dark %d light %d graph colours %d (%d %d %d %d)\n", what, x, y, w, h,
           dark, light, colours, stage[0], stage[1], stage[2], stage[3]);
    if (!strcmp(what, "no-overlay")) return colours != 0;
    return !(dark > w * h / 3 && light > 200 && colours >= 2);
  }
  if (!strcmp(what, "opaque") || !strcmp(what, "big-text")) {
    int brightest_bg = 0, run = 0, tallest = 0, bg = 0;
    for (int j = y; j < y + h; j++) {
      int lit = 0;
      for (int i = x; i < x + w; i++) {
        const uint8_t *p = at(i, j);
        int m = p[0] > p[1] ? p[0] : p[1];
        m = m > p[2] ? m : p[2];
        if (m < 120 && m > brightest_bg) brightest_bg = m;
        bg += m <= 40;
        lit |= p[0] > 200 && p[1] > 200 && p[2] > 200;
      }
      run = lit ? run + 1 : 0;
      if (run > tallest) tallest = run;
    }
    printf("%s %d %d %d %d: brightest background %d, background %d of %d, tallest text %d rows\n",
           what, x, y, w, h, brightest_bg, bg, w * h, tallest);
    if (!strcmp(what, "opaque")) return brightest_bg > 40;
    return bg < w * h * 3 / 4 || tallest < 14;
  }
  if (!strcmp(what, "text") || !strcmp(what, "heading") || !strcmp(what, "ask-again")) {
    /* light text on a dark screen (the pairing screen), and its yellow */
    int dark = 0, light = 0, yellow = 0, lines = 0, was_lit = 0;
    for (int j = y; j < y + h; j++) {
      int lit = 0;
      for (int i = x; i < x + w; i++) {
        const uint8_t *p = at(i, j);
        dark += p[0] < 70 && p[1] < 70 && p[2] < 70;
        light += p[0] > 225 && p[1] > 225 && p[2] > 225;
        yellow += p[0] > 230 && p[1] > 180 && p[1] < 230 && p[2] < 110;
        lit |= p[0] > 120 || p[1] > 120 || p[2] > 120;
      }
      lines += lit && !was_lit;
      was_lit = lit;
    }
    printf("%s %d %d %d %d: dark %d light %d yellow %d lines %d\n", what, x, y, w, h, dark, light,
           yellow, lines);
    if (!strcmp(what, "ask-again"))
      return !(dark > w * h / 2 && light > 500 && yellow > 200 && lines >= 5);
    if (!strcmp(what, "heading")) return !(dark > w * h / 2 && light > 500 && yellow > 200);
    return !(dark > w * h / 2 && light > 500);
  }
  printf("unknown check '%s'\n", what);
  return 1;
}

int main(int argc, char **argv) {
  if (argc < 4 || (argc - 4) % 5 != 0) {
    fprintf(stderr, "usage: bf_shotcheck FILE W H [CHECK X Y W H]...\n");
    return 2;
  }
  W = atoi(argv[2]);
  H = atoi(argv[3]);
  size_t size = (size_t)W * (size_t)H * 3;
  uint8_t *buf = malloc(size);
  FILE *f = fopen(argv[1], "rb");
  if (!buf || !f || fread(buf, 1, size, f) != size) {
    fprintf(stderr, "bf_shotcheck: cannot read %dx%d rgb24 from %s\n", W, H, argv[1]);
    return 2;
  }
  fclose(f);
  px = buf;
  int failed = 0;
  for (int i = 4; i < argc; i += 5)
    failed +=
        check(argv[i], atoi(argv[i + 1]), atoi(argv[i + 2]), atoi(argv[i + 3]), atoi(argv[i + 4]));
  free(buf);
  return failed ? 1 : 0;
}
