/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Canvas and the built-in font's layout: see font.h. The glyphs are the
 * media library's (bildfunk/glyph.h).
 */
#include "font.h"

#include <errno.h>
#include <stdlib.h>

int bf_canvas_resize(bf_canvas *c, int w, int h) {
  if (w <= 0 || h <= 0 || w > 16384 || h > 16384) return -EINVAL;
  if (w * h > c->cap) {
    uint32_t *p = realloc(c->px, (size_t)w * (size_t)h * sizeof *p);
    if (!p) return -ENOMEM;
    c->px = p;
    c->cap = w * h;
  }
  c->w = w;
  c->h = h;
  return 0;
}

void bf_canvas_free(bf_canvas *c) {
  free(c->px);
  c->px = NULL;
  c->w = c->h = c->cap = 0;
}

void bf_canvas_fill(bf_canvas *c, int x, int y, int w, int h, uint32_t argb) {
  int x0 = x < 0 ? 0 : x, y0 = y < 0 ? 0 : y;
  int x1 = x + w > c->w ? c->w : x + w, y1 = y + h > c->h ? c->h : y + h;
  for (int j = y0; j < y1; j++)
    for (int i = x0; i < x1; i++)
      c->px[j * c->w + i] = argb;
}

int bf_font_draw(bf_canvas *c, int x, int y, const char *s, uint32_t argb, int scale) {
  int pen = x;
  for (; *s; s++, pen += BF_CELL_W * scale) {
    const uint8_t *g = bf_glyph_rows(*s);
    for (int row = 0; row < BF_GLYPH_H; row++)
      for (int col = 0; col < BF_GLYPH_W; col++)
        if (bf_glyph_pixel(g, (unsigned)col, (unsigned)row))
          bf_canvas_fill(c, pen + col * scale, y + row * scale, scale, scale, argb);
  }
  return pen - x;
}

static int builtin_draw(void *ctx, bf_canvas *c, int x, int y, const char *s, uint32_t argb) {
  return bf_font_draw(c, x, y, s, argb, (int)(intptr_t)ctx);
}

void bf_font_builtin_ops(int scale, bf_text_ops *ops) {
  if (scale < 1) scale = 1;
  if (scale > 4) scale = 4;
  ops->ctx = (void *)(intptr_t)scale;
  ops->line_h = BF_CELL_H * scale;
  ops->char_w = BF_CELL_W * scale;
  ops->draw = builtin_draw;
}
