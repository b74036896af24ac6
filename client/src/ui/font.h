/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The overlay's drawing surface and its built-in bitmap font.
 *
 * bf_canvas is a plain ARGB8888 pixel buffer (0xAARRGGBB per uint32, the
 * layout of SDL_PIXELFORMAT_ARGB8888) that the overlay draws into and the
 * display uploads as one texture. The built-in font is the media library's
 * 5x7 glyphs (bildfunk/glyph.h: printable ASCII drawn by us, the same the
 * sender's test pattern uses), so the overlay works without any system font
 * and its pixels are the same on every machine (screenshot tests). This file
 * lays them out on the canvas. Pure computation: no SDL, no allocation
 * except bf_canvas_resize().
 */
#ifndef BF_CLIENT_FONT_H
#define BF_CLIENT_FONT_H

#include <bildfunk/glyph.h>

#include <stdint.h>

typedef struct bf_canvas {
  uint32_t *px;
  int w, h; /* pixels; the stride is w */
  int cap;  /* allocated pixels */
} bf_canvas;

/* Makes |c| |w| x |h| (contents undefined). 0 or -ENOMEM/-EINVAL. */
int bf_canvas_resize(bf_canvas *c, int w, int h);
void bf_canvas_free(bf_canvas *c);
/* Fills the rectangle (clipped) with |argb|, replacing what is there. */
void bf_canvas_fill(bf_canvas *c, int x, int y, int w, int h, uint32_t argb);

/* One character cell of the built-in font at scale 1: glyph + spacing. */
#define BF_CELL_W 6
#define BF_CELL_H 9

/* Text drawing, so the overlay can use the built-in font or a system font. */
typedef struct bf_text_ops {
  void *ctx;
  int line_h; /* pixels from one line to the next */
  int char_w; /* advance of one character (monospace layout) */
  /* Draws |s| with its top-left at (x, y); returns the width drawn. */
  int (*draw)(void *ctx, bf_canvas *c, int x, int y, const char *s, uint32_t argb);
} bf_text_ops;

/* The built-in font at integer |scale| (1..4). */
void bf_font_builtin_ops(int scale, bf_text_ops *ops);

/* Draws |s| with the built-in font; characters outside 32..126 show as '?'.
 * Returns the width in pixels. */
int bf_font_draw(bf_canvas *c, int x, int y, const char *s, uint32_t argb, int scale);

#endif
