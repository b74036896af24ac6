/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Test-pattern strip and its text: see strip.h for the layout. The glyphs
 * are the media library's (bildfunk/glyph.h).
 *
 * Cell n spans columns [c * W / 32, (c + 1) * W / 32) and rows
 * [r * W / 32, (r + 1) * W / 32) (integer division), so the band always
 * covers the whole width and a scaled copy puts every cell at the same
 * relative place. The decoder averages the inner half of each cell and
 * thresholds against the levels it measures on the 16 marker cells.
 */
#include "strip.h"

#include <bildfunk/glyph.h>

#include <errno.h>
#include <string.h>

#define START_MARKER 0xB2u /* 10110010 */
#define END_MARKER 0x4Du   /* 01001101 */

unsigned bf_strip_cell(unsigned width) {
  return width / BF_STRIP_COLS;
}

unsigned bf_strip_height(unsigned width) {
  return BF_STRIP_ROWS * width / BF_STRIP_COLS;
}

uint16_t bf_strip_crc16(const uint8_t *d, size_t n) {
  uint16_t crc = 0xFFFF;
  for (size_t i = 0; i < n; i++) {
    crc = (uint16_t)(crc ^ (uint16_t)(d[i] << 8));
    for (int b = 0; b < 8; b++)
      crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
  }
  return crc;
}

/* |cells| bits of |bytes|, most significant first, one per byte (0/1). */
static void to_bits(const uint8_t *bytes, unsigned cells, uint8_t *bits) {
  for (unsigned i = 0; i < cells; i++)
    bits[i] = (bytes[i / 8] >> (7 - i % 8)) & 1u;
}

/* A band's bytes around |n| payload bytes at bytes + 1: the start marker,
 * the CRC-16 of the payload (big-endian), the end marker; then its bits. */
static void frame_bits(uint8_t *bytes, size_t n, uint8_t start, uint8_t end, uint8_t *bits) {
  bytes[0] = start;
  uint16_t crc = bf_strip_crc16(bytes + 1, n);
  bytes[n + 1] = (uint8_t)(crc >> 8);
  bytes[n + 2] = (uint8_t)crc;
  bytes[n + 3] = end;
  to_bits(bytes, (unsigned)(n + 4) * 8u, bits);
}

/* The 128 cell bits of |p|, one per byte (0/1). */
static void strip_bits(const bf_strip_payload *p, uint8_t bits[BF_STRIP_CELLS]) {
  uint8_t bytes[16];
  for (int i = 0; i < 4; i++)
    bytes[1 + i] = (uint8_t)(p->frame_index >> (24 - 8 * i));
  for (int i = 0; i < 8; i++)
    bytes[5 + i] = (uint8_t)(p->pts_ns >> (56 - 8 * i));
  frame_bits(bytes, 12, START_MARKER, END_MARKER, bits);
}

/* Pixel span [*a, *b) of cell coordinate |i| along an axis scaled by |w|. */
static void cell_span(unsigned i, unsigned w, unsigned *a, unsigned *b) {
  *a = (unsigned)((uint64_t)i * w / BF_STRIP_COLS);
  *b = (unsigned)((uint64_t)(i + 1) * w / BF_STRIP_COLS);
}

/* Draws |rows| rows of cells |bits| whose top is |top| pixels down. */
static void draw_cells(uint8_t *y, ptrdiff_t stride, unsigned w, unsigned top, unsigned rows,
                       const uint8_t *bits) {
  for (unsigned r = 0; r < rows; r++) {
    unsigned y0, y1;
    cell_span(r, w, &y0, &y1);
    for (unsigned c = 0; c < BF_STRIP_COLS; c++) {
      unsigned x0, x1;
      cell_span(c, w, &x0, &x1);
      uint8_t v = bits[r * BF_STRIP_COLS + c] ? BF_STRIP_WHITE : BF_STRIP_BLACK;
      for (unsigned yy = top + y0; yy < top + y1; yy++)
        memset(y + (ptrdiff_t)yy * stride + x0, v, x1 - x0);
    }
  }
}

int bf_strip_draw(uint8_t *y, ptrdiff_t stride, unsigned w, unsigned h, const bf_strip_payload *p) {
  if (w < BF_STRIP_MIN_WIDTH || h < BF_STRIP_MIN_HEIGHT || bf_strip_height(w) > h) return -EINVAL;
  uint8_t bits[BF_STRIP_CELLS];
  strip_bits(p, bits);
  draw_cells(y, stride, w, 0, BF_STRIP_ROWS, bits);
  return 0;
}

/* Mean of the inner half of cell |n| of cells whose top is |top| pixels down. */
static unsigned cell_mean(const uint8_t *plane, ptrdiff_t stride, size_t step, unsigned w,
                          unsigned top, unsigned n) {
  unsigned x0, x1, y0, y1;
  cell_span(n % BF_STRIP_COLS, w, &x0, &x1);
  cell_span(n / BF_STRIP_COLS, w, &y0, &y1);
  y0 += top;
  y1 += top;
  unsigned qx = (x1 - x0) / 4, qy = (y1 - y0) / 4;
  x0 += qx;
  x1 -= qx;
  y0 += qy;
  y1 -= qy;
  if (x1 <= x0) x1 = x0 + 1;
  if (y1 <= y0) y1 = y0 + 1;
  uint64_t sum = 0, cnt = 0;
  for (unsigned yy = y0; yy < y1; yy++) {
    const uint8_t *row = plane + (ptrdiff_t)yy * stride;
    for (unsigned xx = x0; xx < x1; xx++)
      sum += row[(size_t)xx * step];
    cnt += x1 - x0;
  }
  return (unsigned)(sum / cnt);
}

/* Reads |cells| cells (a multiple of 8, at most 128) whose top is |top|
 * pixels down into |bytes|, thresholded at the levels of the 16 marker
 * cells (the first and the last byte); 0, or -EBADMSG without enough
 * contrast or with other markers. */
static int read_cells(const uint8_t *plane, ptrdiff_t stride, size_t step, unsigned w, unsigned top,
                      unsigned cells, uint8_t start, uint8_t end, uint8_t *bytes) {
  unsigned mean[BF_STRIP_CELLS];
  for (unsigned n = 0; n < cells; n++)
    mean[n] = cell_mean(plane, stride, step, w, top, n);
  /* Levels from the markers: 8 white and 8 black cells. */
  unsigned white = 0, black = 0;
  for (unsigned i = 0; i < 8; i++) {
    unsigned s = (start >> (7 - i)) & 1u, e = (end >> (7 - i)) & 1u;
    if (s)
      white += mean[i];
    else
      black += mean[i];
    if (e)
      white += mean[cells - 8 + i];
    else
      black += mean[cells - 8 + i];
  }
  white /= 8;
  black /= 8;
  if (white < black + 48) return -EBADMSG;
  unsigned thr = (white + black) / 2;
  memset(bytes, 0, cells / 8);
  for (unsigned n = 0; n < cells; n++)
    if (mean[n] > thr) bytes[n / 8] |= (uint8_t)(0x80u >> (n % 8));
  return bytes[0] == start && bytes[cells / 8 - 1] == end ? 0 : -EBADMSG;
}

int bf_strip_decode(const uint8_t *plane, ptrdiff_t stride, size_t pixel_step, unsigned w,
                    unsigned h, bf_strip_payload *out) {
  if (!plane || pixel_step == 0 || w < BF_STRIP_COLS || bf_strip_height(w) > h) return -EBADMSG;
  uint8_t bytes[16];
  if (read_cells(plane, stride, pixel_step, w, 0, BF_STRIP_CELLS, START_MARKER, END_MARKER, bytes) <
      0)
    return -EBADMSG;
  uint16_t crc = (uint16_t)(bytes[13] << 8 | bytes[14]);
  if (bf_strip_crc16(bytes + 1, 12) != crc) return -EBADMSG;
  uint32_t idx = 0;
  uint64_t pts = 0;
  for (int i = 0; i < 4; i++)
    idx = idx << 8 | bytes[1 + i];
  for (int i = 0; i < 8; i++)
    pts = pts << 8 | bytes[5 + i];
  out->frame_index = idx;
  out->pts_ns = pts;
  return 0;
}

/* --- the input band ----------------------------------------------------- */

#define INPUT_START 0x6Au /* 01101010 */
#define INPUT_END 0x95u   /* 10010101 */

unsigned bf_strip_input_height(unsigned width) {
  return BF_STRIP_INPUT_ROWS * width / BF_STRIP_COLS;
}

/* Where the input band's top is in a |w| x |h| picture. */
static unsigned input_top(unsigned w, unsigned h) {
  return h - bf_strip_input_height(w);
}

int bf_strip_draw_input(uint8_t *y, ptrdiff_t stride, unsigned w, unsigned h,
                        const bf_strip_input *p) {
  if (w < BF_STRIP_MIN_WIDTH || h < BF_STRIP_MIN_HEIGHT ||
      bf_strip_height(w) + bf_strip_input_height(w) > h)
    return -EINVAL;
  uint8_t bytes[BF_STRIP_INPUT_CELLS / 8], bits[BF_STRIP_INPUT_CELLS];
  for (int i = 0; i < 4; i++) {
    bytes[1 + i] = (uint8_t)(p->ev_seq >> (24 - 8 * i));
    bytes[5 + i] = (uint8_t)(p->snap_seq >> (24 - 8 * i));
  }
  frame_bits(bytes, 8, INPUT_START, INPUT_END, bits);
  draw_cells(y, stride, w, input_top(w, h), BF_STRIP_INPUT_ROWS, bits);
  return 0;
}

int bf_strip_decode_input(const uint8_t *plane, ptrdiff_t stride, size_t pixel_step, unsigned w,
                          unsigned h, bf_strip_input *out) {
  if (!plane || pixel_step == 0 || w < BF_STRIP_COLS ||
      bf_strip_height(w) + bf_strip_input_height(w) > h)
    return -EBADMSG;
  uint8_t bytes[BF_STRIP_INPUT_CELLS / 8];
  if (read_cells(plane, stride, pixel_step, w, input_top(w, h), BF_STRIP_INPUT_CELLS, INPUT_START,
                 INPUT_END, bytes) < 0)
    return -EBADMSG;
  if (bf_strip_crc16(bytes + 1, 8) != (uint16_t)(bytes[9] << 8 | bytes[10])) return -EBADMSG;
  out->ev_seq = out->snap_seq = 0;
  for (int i = 0; i < 4; i++) {
    out->ev_seq = out->ev_seq << 8 | bytes[1 + i];
    out->snap_seq = out->snap_seq << 8 | bytes[5 + i];
  }
  return 0;
}

void bf_strip_text(uint8_t *luma, ptrdiff_t stride, unsigned w, unsigned h, unsigned x, unsigned y,
                   unsigned scale, const char *text, uint8_t fg, uint8_t bg) {
  if (scale == 0) scale = 1;
  for (; *text; text++, x += BF_STRIP_CHAR_W * scale) {
    const uint8_t *g = bf_glyph_rows(*text);
    for (unsigned gy = 0; gy < BF_STRIP_CHAR_H; gy++) {
      for (unsigned gx = 0; gx < BF_STRIP_CHAR_W; gx++) {
        int on = gy < BF_GLYPH_H && gx < BF_GLYPH_W && bf_glyph_pixel(g, gx, gy);
        uint8_t v = on ? fg : bg;
        for (unsigned sy = 0; sy < scale; sy++) {
          unsigned py = y + gy * scale + sy;
          if (py >= h) break;
          uint8_t *row = luma + (ptrdiff_t)py * stride;
          for (unsigned sx = 0; sx < scale; sx++) {
            unsigned px = x + gx * scale + sx;
            if (px >= w) break;
            row[px] = v;
          }
        }
      }
    }
  }
}
