/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Test-pattern strip: the frame index and capture time of a picture written
 * into the picture itself, twice: as a machine-readable band of big black and
 * white cells (robust to lossy coding and to scaling) and as readable text
 * drawn with the media library's 5x7 bitmap font (no font files).
 *
 * The sender's testsrc draws both; the client, tests and latency tools decode
 * the band from a decoded frame or a screenshot to learn which frame they see
 * and when it was captured. No FFmpeg, no allocation, no clocks: this pair is
 * meant to be linked by anything (target bf_strip).
 *
 * Band layout (all positions relative to the picture width W, so a scaled
 * copy decodes the same way): BF_STRIP_ROWS rows of BF_STRIP_COLS square
 * cells of side W / BF_STRIP_COLS at the top-left of the picture; cell n is
 * row n / 32, column n % 32. Bits, most significant first, white = 1:
 *   cells   0..7    start marker 10110010
 *   cells   8..39   frame index (u32)
 *   cells  40..103  pts (u64, ns)
 *   cells 104..119  CRC-16/CCITT-FALSE of the 12 payload bytes (big-endian)
 *   cells 120..127  end marker 01001101 (the start marker inverted)
 */
#ifndef BF_SENDER_STRIP_H
#define BF_SENDER_STRIP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BF_STRIP_COLS 32u
#define BF_STRIP_ROWS 4u
#define BF_STRIP_CELLS (BF_STRIP_COLS * BF_STRIP_ROWS)

/* Smallest picture the strip and the text fit into. */
#define BF_STRIP_MIN_WIDTH 64u
#define BF_STRIP_MIN_HEIGHT 48u

/* Luma levels used for the cells (video range black and white). */
#define BF_STRIP_BLACK 16u
#define BF_STRIP_WHITE 235u

typedef struct bf_strip_payload {
  uint32_t frame_index;
  uint64_t pts_ns;
} bf_strip_payload;

/* Side of one cell in pixels for a picture |width| wide (width / 32). */
unsigned bf_strip_cell(unsigned width);

/* Height of the band in pixels (4 cells). */
unsigned bf_strip_height(unsigned width);

/* Draws the band for |p| onto the 8-bit luma plane |y| (|stride| bytes per
 * row) of a |w| x |h| picture. The caller makes the chroma under the band
 * neutral if it wants the band grey in RGB. Returns 0 or -EINVAL when the
 * picture is smaller than BF_STRIP_MIN_WIDTH x BF_STRIP_MIN_HEIGHT. */
int bf_strip_draw(uint8_t *y, ptrdiff_t stride, unsigned w, unsigned h, const bf_strip_payload *p);

/* Decodes the band from an 8-bit plane: |plane| points to the first sample of
 * the picture's top-left pixel, rows are |stride| bytes apart and pixels
 * |pixel_step| bytes apart (1 for a luma plane, 3 or 4 for packed RGB: point
 * |plane| at the green byte). |w| x |h| is the picture area the band was
 * drawn into (a scaled copy works too). Returns 0 with |out| filled, or
 * -EBADMSG when no band is found (markers, contrast or CRC do not match). */
int bf_strip_decode(const uint8_t *plane, ptrdiff_t stride, size_t pixel_step, unsigned w,
                    unsigned h, bf_strip_payload *out);

/* The input band (the testsrc source's input echo, sender/input_echo.c):
 * the input the sender had applied when the picture was captured, along
 * the picture's bottom edge: BF_STRIP_INPUT_ROWS rows of cells of the same
 * size as the band's (W / 32), the last row ending at the bottom. Bits,
 * most significant first, white = 1:
 *   cells  0..7    start marker 01101010
 *   cells  8..39   the last input event sequence applied (u32)
 *   cells 40..71   the last input snapshot applied (u32)
 *   cells 72..87   CRC-16/CCITT-FALSE of the 8 payload bytes (big-endian)
 *   cells 88..95   end marker 10010101 (the start marker inverted) */
#define BF_STRIP_INPUT_ROWS 3u
#define BF_STRIP_INPUT_CELLS (BF_STRIP_COLS * BF_STRIP_INPUT_ROWS)

typedef struct bf_strip_input {
  uint32_t ev_seq;
  uint32_t snap_seq;
} bf_strip_input;

/* Height of the input band in pixels (3 cells). */
unsigned bf_strip_input_height(unsigned width);
/* Draws / decodes the input band as bf_strip_draw / bf_strip_decode do the
 * band (the picture must hold both bands). */
int bf_strip_draw_input(uint8_t *y, ptrdiff_t stride, unsigned w, unsigned h,
                        const bf_strip_input *p);
int bf_strip_decode_input(const uint8_t *plane, ptrdiff_t stride, size_t pixel_step, unsigned w,
                          unsigned h, bf_strip_input *out);

/* Character cell of the text: a 5 x 7 glyph (bildfunk/glyph.h) plus one
 * column and one row of spacing, scaled by |scale|. */
#define BF_STRIP_CHAR_W 6u
#define BF_STRIP_CHAR_H 8u

/* Draws |text| (printable ASCII; other characters draw as '?') at (|x|, |y|)
 * on a luma plane in |fg| on a |bg| background, each font pixel |scale| x
 * |scale| picture pixels; the whole cell is painted, spacing included.
 * Clipped to the picture. */
void bf_strip_text(uint8_t *luma, ptrdiff_t stride, unsigned w, unsigned h, unsigned x, unsigned y,
                   unsigned scale, const char *text, uint8_t fg, uint8_t bg);

/* CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF) of |n| bytes. */
uint16_t bf_strip_crc16(const uint8_t *d, size_t n);

#ifdef __cplusplus
}
#endif

#endif /* BF_SENDER_STRIP_H */
