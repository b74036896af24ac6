/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The glyph table (media/src/glyph.c): every printable glyph drawn and
 * distinct, '?' for everything else, the pixel helper's bit order, and the
 * shapes the two programs' pictures depend on: the sender's test-pattern
 * text keeps the exact pixels of its former own font, and 'Y' is the
 * client's (the one glyph the two fonts drew differently; the sender never
 * draws it).
 */
#include "testutil.h"

#include <bildfunk/glyph.h>

#include <string.h>

static int popcount5(uint8_t v) {
  int n = 0;
  for (int i = 0; i < 5; i++)
    n += (v >> i) & 1;
  return n;
}

static void test_table(void **state) {
  (void)state;
  for (int ch = 33; ch < 127; ch++) {
    const uint8_t *g = bf_glyph_rows((char)ch);
    int on = 0;
    for (int r = 0; r < BF_GLYPH_H; r++) {
      assert_true(g[r] < 32);
      on += popcount5(g[r]);
    }
    if (on == 0) fail_msg("glyph '%c' is empty", ch);
    /* no two printable glyphs are the same */
    for (int other = 33; other < ch; other++)
      if (!memcmp(g, bf_glyph_rows((char)other), BF_GLYPH_H))
        fail_msg("glyphs '%c' and '%c' are identical", ch, other);
  }
  assert_memory_equal(bf_glyph_rows('\n'), bf_glyph_rows('?'), BF_GLYPH_H);
  const char others[] = {'\0', '\t', 31, 127, (char)128, (char)200, (char)-1};
  for (size_t i = 0; i < sizeof others; i++)
    assert_ptr_equal(bf_glyph_rows(others[i]), bf_glyph_rows('?'));
  static const uint8_t blank[BF_GLYPH_H] = {0};
  assert_memory_equal(bf_glyph_rows(' '), blank, BF_GLYPH_H);
}

static void test_pixel(void **state) {
  (void)state;
  for (int ch = 32; ch < 127; ch++) {
    const uint8_t *g = bf_glyph_rows((char)ch);
    for (unsigned r = 0; r < BF_GLYPH_H; r++) {
      uint8_t row = 0;
      for (unsigned c = 0; c < BF_GLYPH_W; c++)
        row = (uint8_t)(row << 1 | bf_glyph_pixel(g, c, r));
      assert_int_equal(row, g[r]); /* column 0 is bit 4 */
    }
  }
  /* '1': the top row is ..#.. (tests/sender/test_strip.c reads it) */
  const uint8_t *one = bf_glyph_rows('1');
  for (unsigned c = 0; c < BF_GLYPH_W; c++)
    assert_int_equal(bf_glyph_pixel(one, c, 0), c == 2);
}

/* The sender's test pattern draws "FRAME %08u" and "T hh:mm:ss.mmm": these
 * glyphs are byte for byte the rows of the font sender/strip.c had. */
static void test_sender_shapes(void **state) {
  (void)state;
  static const struct {
    char c;
    uint8_t rows[BF_GLYPH_H];
  } want[] = {
      {'0', {0x0e, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0e}},
      {'1', {0x04, 0x0c, 0x04, 0x04, 0x04, 0x04, 0x0e}},
      {'2', {0x0e, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1f}},
      {'3', {0x1f, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0e}},
      {'4', {0x02, 0x06, 0x0a, 0x12, 0x1f, 0x02, 0x02}},
      {'5', {0x1f, 0x10, 0x1e, 0x01, 0x01, 0x11, 0x0e}},
      {'6', {0x06, 0x08, 0x10, 0x1e, 0x11, 0x11, 0x0e}},
      {'7', {0x1f, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08}},
      {'8', {0x0e, 0x11, 0x11, 0x0e, 0x11, 0x11, 0x0e}},
      {'9', {0x0e, 0x11, 0x11, 0x0f, 0x01, 0x02, 0x0c}},
      {'F', {0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x10}},
      {'R', {0x1e, 0x11, 0x11, 0x1e, 0x14, 0x12, 0x11}},
      {'A', {0x0e, 0x11, 0x11, 0x1f, 0x11, 0x11, 0x11}},
      {'M', {0x11, 0x1b, 0x15, 0x15, 0x11, 0x11, 0x11}},
      {'E', {0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x1f}},
      {'T', {0x1f, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04}},
      {':', {0x00, 0x0c, 0x0c, 0x00, 0x0c, 0x0c, 0x00}},
      {'.', {0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x0c}},
      {' ', {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}},
  };
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
    if (memcmp(bf_glyph_rows(want[i].c), want[i].rows, BF_GLYPH_H))
      fail_msg("glyph '%c' differs from the sender's test-pattern font", want[i].c);
  /* 'Y' is the client's: its overlay and pairing screens draw it */
  static const uint8_t y[BF_GLYPH_H] = {0x11, 0x11, 0x0a, 0x04, 0x04, 0x04, 0x04};
  assert_memory_equal(bf_glyph_rows('Y'), y, BF_GLYPH_H);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_table),
      cmocka_unit_test(test_pixel),
      cmocka_unit_test(test_sender_shapes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
