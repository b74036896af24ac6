/*
 * Pairing screen: only digits are taken and at most six, Backspace and a
 * short Enter do what the screen says, Enter gives the complete line once;
 * the drawn screen carries the code, the typed digits and fits the window.
 */
#include "testutil.h"

#include "font.h"
#include "pairscreen.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int count_color(const bf_canvas *c, uint32_t argb) {
  int n = 0;
  for (int i = 0; i < c->w * c->h; i++)
    n += c->px[i] == argb;
  return n;
}

/* columns [x0, x1) of the pixels of |argb| */
static void extent(const bf_canvas *c, uint32_t argb, int *x0, int *x1) {
  *x0 = c->w;
  *x1 = 0;
  for (int y = 0; y < c->h; y++)
    for (int x = 0; x < c->w; x++)
      if (c->px[y * c->w + x] == argb) {
        if (x < *x0) *x0 = x;
        if (x + 1 > *x1) *x1 = x + 1;
      }
}

static void test_typing(void **state) {
  (void)state;
  bf_pairscreen p;
  bf_pairscreen_init(&p, "tv.local:47300");
  char line[BF_PAIR_CODE_DIGITS + 1] = "";
  /* nothing is taken before the code is asked for */
  assert_int_equal(bf_pairscreen_type(&p, "123"), 0);
  assert_int_equal(bf_pairscreen_enter(&p, line), 0);
  bf_pairscreen_ask(&p, "654321");
  assert_int_equal(p.phase, BF_PAIRSCREEN_ASKING);
  assert_string_equal(p.code, "654321");
  /* digits only: letters, spaces, a multi-byte character are ignored */
  assert_int_equal(bf_pairscreen_type(&p, "1a 2\xc3\xa9"), 2);
  assert_string_equal(p.typed, "12");
  /* a short line is not given; the screen asks for the rest */
  assert_int_equal(bf_pairscreen_enter(&p, line), 0);
  assert_true(p.short_line);
  assert_int_equal(p.phase, BF_PAIRSCREEN_ASKING);
  bf_pairscreen_backspace(&p);
  assert_string_equal(p.typed, "1");
  assert_false(p.short_line);
  bf_pairscreen_backspace(&p);
  bf_pairscreen_backspace(&p); /* nothing left: stays empty */
  assert_int_equal(p.ntyped, 0);
  /* at most six digits */
  assert_int_equal(bf_pairscreen_type(&p, "98765"), 5);
  assert_int_equal(bf_pairscreen_type(&p, "43"), 1);
  assert_string_equal(p.typed, "987654");
  assert_int_equal(bf_pairscreen_enter(&p, line), 1);
  assert_string_equal(line, "987654");
  assert_int_equal(p.phase, BF_PAIRSCREEN_CHECKING);
  /* given once: no more typing or a second Enter */
  assert_int_equal(bf_pairscreen_type(&p, "1"), 0);
  bf_pairscreen_backspace(&p);
  assert_string_equal(p.typed, "987654");
  assert_int_equal(bf_pairscreen_enter(&p, line), 0);
  /* asked again (a new session): empty */
  bf_pairscreen_ask(&p, "111111");
  assert_int_equal(p.ntyped, 0);
  assert_string_equal(p.typed, "");
}

static void test_draw(void **state) {
  (void)state;
  bf_pairscreen p;
  bf_canvas cv = {0};
  bf_pairscreen_init(&p, "192.168.1.20:47300");
  assert_int_equal(bf_pairscreen_draw(&p, &cv, 640, 480), 0);
  assert_int_equal(cv.w, 640);
  assert_int_equal(cv.h, 480);
  int bg = count_color(&cv, BF_PAIRSCREEN_BG);
  int text = count_color(&cv, BF_PAIRSCREEN_TEXT);
  assert_true(text > 200);                                   /* "Connecting to ..." */
  assert_int_equal(count_color(&cv, BF_PAIRSCREEN_CODE), 0); /* no code yet */
  assert_int_equal(bg + text, 640 * 480);

  bf_pairscreen_ask(&p, "123456");
  assert_int_equal(bf_pairscreen_draw(&p, &cv, 640, 480), 0);
  int code0 = count_color(&cv, BF_PAIRSCREEN_CODE);
  assert_true(code0 > 500);
  assert_true(count_color(&cv, BF_PAIRSCREEN_DIM) > 100); /* the hints */
  /* the code line's pixels are those of "Code for the sender: 123456" and
   * "______" at one scale: typing changes them */
  bf_pairscreen_type(&p, "8");
  assert_int_equal(bf_pairscreen_draw(&p, &cv, 640, 480), 0);
  assert_int_not_equal(count_color(&cv, BF_PAIRSCREEN_CODE), code0);
  /* centred, inside the window with a margin */
  int x0, x1;
  extent(&cv, BF_PAIRSCREEN_TEXT, &x0, &x1);
  assert_true(x0 >= 640 / 20 - 1);
  assert_true(x1 <= 640 - 640 / 20 + 1);
  assert_true(abs((x0 + x1) / 2 - 320) <= 4);

  /* a small window: scale 1, still inside */
  assert_int_equal(bf_pairscreen_draw(&p, &cv, 300, 200), 0);
  assert_int_equal(cv.w, 300);
  assert_true(count_color(&cv, BF_PAIRSCREEN_TEXT) > 100);
  /* a large one: bigger glyphs (more pixels), at most scale 4 */
  assert_int_equal(bf_pairscreen_draw(&p, &cv, 1920, 1080), 0);
  int big = count_color(&cv, BF_PAIRSCREEN_TEXT);
  assert_int_equal(bf_pairscreen_draw(&p, &cv, 640, 480), 0);
  assert_true(big > 3 * count_color(&cv, BF_PAIRSCREEN_TEXT));

  /* checking: the prompt and the digits give way to the wait */
  char line[BF_PAIR_CODE_DIGITS + 1];
  bf_pairscreen_type(&p, "76543");
  assert_int_equal(bf_pairscreen_enter(&p, line), 1);
  assert_int_equal(bf_pairscreen_draw(&p, &cv, 640, 480), 0);
  assert_true(count_color(&cv, BF_PAIRSCREEN_TEXT) > 200);
  assert_int_equal(bf_pairscreen_draw(&p, &cv, 0, 480), -EINVAL);
  bf_canvas_free(&cv);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_typing),
      cmocka_unit_test(test_draw),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
