/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The 5x7 bitmap font of both programs: the client's overlay and pairing
 * screens and the sender's test-pattern digits draw their text with it. One
 * glyph per printable ASCII character (32..126), drawn for this project;
 * anything else shows as '?'. Because it is ours and not a system font, text
 * has the same pixels on every machine, which the screenshot and test-pattern
 * tests rely on.
 *
 * Just the glyph table: drawing it (into an ARGB canvas, client/src/font.c;
 * into a luma plane, sender/strip.c) and the spacing between characters are
 * the caller's. Static data, no allocation.
 */
#ifndef BILDFUNK_GLYPH_H
#define BILDFUNK_GLYPH_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BF_GLYPH_W 5 /* pixels per row */
#define BF_GLYPH_H 7 /* rows */

/* The BF_GLYPH_H rows of |ch|'s glyph, top row first; in each row bit 4 is
 * the leftmost pixel and bit 0 the rightmost. Characters outside 32..126
 * give the glyph of '?'. Static storage, never NULL. */
const uint8_t *bf_glyph_rows(char ch);

/* 1 when the pixel in column |col| (0..4, left to right) of row |row|
 * (0..6) of glyph |rows| is set, else 0. */
static inline int bf_glyph_pixel(const uint8_t *rows, unsigned col, unsigned row) {
  return (rows[row] >> (BF_GLYPH_W - 1 - col)) & 1;
}

#ifdef __cplusplus
}
#endif

#endif /* BILDFUNK_GLYPH_H */
