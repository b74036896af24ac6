/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Pairing screen: only digits are taken and at most six, Backspace and a
 * short Enter do what the screen says, Enter gives the complete line once;
 * the drawn screen carries the code, the typed digits and fits the window.
 * The sender line takes printable ASCII only, prefilled, edited and entered;
 * a failure message is wrapped at spaces (a long word cut) and fits.
 */
#include "testutil.h"

#include "ui/font.h"
#include "setup/pairscreen.h"

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

static void test_sender_line(void **state) {
  (void)state;
  bf_pairscreen p;
  bf_pairscreen_ask_sender(&p, "box.lan:47999");
  assert_int_equal(p.phase, BF_PAIRSCREEN_SENDER);
  assert_string_equal(p.line, "box.lan:47999");
  /* spaces, controls and non-ASCII are not taken; printable ASCII is */
  assert_int_equal(bf_pairscreen_type(&p, " \t\xc3\xa4x"), 1);
  assert_string_equal(p.line, "box.lan:47999x");
  bf_pairscreen_backspace(&p);
  assert_string_equal(p.line, "box.lan:47999");
  for (int i = 0; i < 20; i++)
    bf_pairscreen_backspace(&p);
  assert_int_equal(p.nline, 0);
  /* an empty line is not entered: the screen says what to type */
  assert_int_equal(bf_pairscreen_enter(&p, NULL), 0);
  assert_int_equal(p.short_line, 1);
  assert_int_equal(p.phase, BF_PAIRSCREEN_SENDER);
  assert_int_equal(bf_pairscreen_type(&p, "[::1]:5"), 7);
  assert_int_equal(p.short_line, 0);
  assert_int_equal(bf_pairscreen_enter(&p, NULL), 1);
  assert_int_equal(p.phase, BF_PAIRSCREEN_CONNECTING);
  assert_string_equal(p.host, "[::1]:5");
  /* typing does nothing once connecting; digits are not taken as a code */
  assert_int_equal(bf_pairscreen_type(&p, "12"), 0);
  /* the line stops at its size; a prefill is filtered the same way */
  char lng[300];
  memset(lng, 'a', sizeof lng - 1);
  lng[sizeof lng - 1] = 0;
  bf_pairscreen_ask_sender(&p, lng);
  assert_int_equal(p.nline, BF_PAIRSCREEN_HOST - 1);
  assert_int_equal(bf_pairscreen_type(&p, "b"), 0);
  bf_pairscreen_ask_sender(&p, "a b\n");
  assert_string_equal(p.line, "ab");
  bf_pairscreen_ask_sender(&p, NULL);
  assert_int_equal(p.nline, 0);
}

static void test_wrap(void **state) {
  (void)state;
  char l[8][BF_PAIRSCREEN_COLS];
  assert_int_equal(bf_pairscreen_wrap("cannot connect to 10.0.0.2:47999: Connection refused", 20, l, 8),
                   3);
  assert_string_equal(l[0], "cannot connect to");
  assert_string_equal(l[1], "10.0.0.2:47999:");
  assert_string_equal(l[2], "Connection refused");
  /* exactly cols fits; a longer word is cut; runs of spaces vanish at breaks */
  assert_int_equal(bf_pairscreen_wrap("abcde", 5, l, 8), 1);
  assert_string_equal(l[0], "abcde");
  assert_int_equal(bf_pairscreen_wrap("abcdefghij   xy", 4, l, 8), 4);
  assert_string_equal(l[0], "abcd");
  assert_string_equal(l[1], "efgh");
  assert_string_equal(l[2], "ij");
  assert_string_equal(l[3], "xy");
  /* at most max lines; nothing for empty or blank text */
  assert_int_equal(bf_pairscreen_wrap("a b c d e f", 1, l, 3), 3);
  assert_string_equal(l[2], "c");
  assert_int_equal(bf_pairscreen_wrap("   ", 10, l, 8), 0);
  assert_int_equal(bf_pairscreen_wrap(NULL, 10, l, 8), 0);
  /* every line within cols */
  const char *m = "the sender's certificate changed since pairing: if you expected that, "
                  "pair again with bildfunk pair HOST; else someone may be in between";
  int n = bf_pairscreen_wrap(m, 30, l, 8);
  assert_true(n >= 5);
  for (int i = 0; i < n; i++)
    assert_true(strlen(l[i]) <= 30 && strlen(l[i]) > 0);
}

static void test_draw_sender_failed(void **state) {
  (void)state;
  bf_pairscreen p;
  bf_canvas cv = {0};
  bf_pairscreen_ask_sender(&p, "");
  assert_int_equal(bf_pairscreen_draw(&p, &cv, 640, 480), 0);
  int code0 = count_color(&cv, BF_PAIRSCREEN_CODE); /* the cursor alone */
  assert_true(code0 > 0);
  assert_true(count_color(&cv, BF_PAIRSCREEN_TEXT) > 200); /* the prompt */
  bf_pairscreen_type(&p, "127.0.0.1:47999");
  assert_int_equal(bf_pairscreen_draw(&p, &cv, 640, 480), 0);
  assert_true(count_color(&cv, BF_PAIRSCREEN_CODE) > code0 + 200);

  /* a long message: wrapped, all inside the window with its margin */
  bf_pairscreen_init(&p, "127.0.0.1:47999");
  bf_pairscreen_fail(&p, "the sender 127.0.0.1:47999 refused the session: this client is not "
                         "paired with it (pair with bildfunk pair 127.0.0.1:47999)");
  assert_int_equal(p.phase, BF_PAIRSCREEN_FAILED);
  assert_int_equal(bf_pairscreen_draw(&p, &cv, 640, 480), 0);
  int x0, x1;
  extent(&cv, BF_PAIRSCREEN_TEXT, &x0, &x1);
  assert_true(x0 >= 640 / 20 - 1);
  assert_true(x1 <= 640 - 640 / 20 + 1);
  assert_true(count_color(&cv, BF_PAIRSCREEN_TEXT) > 1000);
  assert_true(count_color(&cv, BF_PAIRSCREEN_DIM) > 100);  /* "Press Enter ..." */
  assert_true(count_color(&cv, BF_PAIRSCREEN_CODE) > 100); /* "Could not connect to" */
  /* typing is ignored there */
  assert_int_equal(bf_pairscreen_type(&p, "12"), 0);
  assert_int_equal(bf_pairscreen_enter(&p, NULL), 0);
  bf_canvas_free(&cv);
}

/* The sender typed in the window failed (issue #17): the prompt again, the
 * line prefilled with it, "Could not connect to HOST" and the message above;
 * typing and Enter work as on the first prompt. */
static void test_ask_again(void **state) {
  (void)state;
  bf_pairscreen p;
  bf_canvas cv = {0};
  bf_pairscreen_ask_sender(&p, "box.invalid");
  assert_int_equal(bf_pairscreen_draw(&p, &cv, 640, 480), 0);
  int text0 = count_color(&cv, BF_PAIRSCREEN_TEXT), code0 = count_color(&cv, BF_PAIRSCREEN_CODE);
  bf_pairscreen_ask_again(&p, "box.invalid", "box.invalid: host not found");
  assert_int_equal(p.phase, BF_PAIRSCREEN_SENDER);
  assert_string_equal(p.line, "box.invalid");
  assert_string_equal(p.host, "box.invalid");
  assert_int_equal(bf_pairscreen_draw(&p, &cv, 640, 480), 0);
  /* the heading adds highlight, the message text (drawn smaller: the
   * heading is the longest line now) */
  int code1 = count_color(&cv, BF_PAIRSCREEN_CODE);
  assert_true(code1 > code0 / 2 + 200);
  assert_true(count_color(&cv, BF_PAIRSCREEN_TEXT) > text0 / 2 + 200);
  int x0, x1;
  extent(&cv, BF_PAIRSCREEN_TEXT, &x0, &x1);
  assert_true(x0 >= 640 / 20 - 1 && x1 <= 640 - 640 / 20 + 1);
  /* the line is edited as before; Enter takes it */
  bf_pairscreen_backspace(&p);
  assert_int_equal(bf_pairscreen_type(&p, "d"), 1);
  assert_int_equal(bf_pairscreen_enter(&p, NULL), 1);
  assert_string_equal(p.host, "box.invalid");
  assert_int_equal(p.phase, BF_PAIRSCREEN_CONNECTING);
  bf_canvas_free(&cv);
}

/* The LAN's senders under the prompt (issue #18): offered, Tab puts the
 * next one's address on the line (round), drawn with the picked one
 * highlighted; a new prompt forgets them. */
static void test_lan_offer(void **state) {
  (void)state;
  bf_pairscreen p;
  bf_canvas cv = {0};
  bf_pairscreen_ask_sender(&p, "last.lan");
  assert_int_equal(bf_pairscreen_next_lan(&p), 0); /* nothing offered: Tab does nothing */
  assert_string_equal(p.line, "last.lan");
  assert_int_equal(bf_pairscreen_draw(&p, &cv, 640, 480), 0);
  int dim0 = count_color(&cv, BF_PAIRSCREEN_DIM);
  const char label[5][BF_PAIRSCREEN_COLS] = {"Wohnzimmer  10.0.0.2:47999", "tv  10.0.0.3:5000", "c",
                                             "d", "e"};
  const char host[5][BF_PAIRSCREEN_HOST] = {"10.0.0.2:47999", "10.0.0.3:5000", "c", "d", "e"};
  assert_int_equal(bf_pairscreen_set_lan(&p, label, host, 2), 1);
  assert_int_equal(bf_pairscreen_set_lan(&p, label, host, 2), 0); /* the same: no redraw */
  assert_int_equal(bf_pairscreen_draw(&p, &cv, 640, 480), 0);
  assert_true(count_color(&cv, BF_PAIRSCREEN_DIM) > dim0 + 200);
  assert_int_equal(bf_pairscreen_next_lan(&p), 1);
  assert_string_equal(p.line, "10.0.0.2:47999");
  assert_int_equal(bf_pairscreen_next_lan(&p), 1);
  assert_string_equal(p.line, "10.0.0.3:5000");
  assert_int_equal(bf_pairscreen_next_lan(&p), 1);
  assert_string_equal(p.line, "10.0.0.2:47999");
  /* the picked one is highlighted: more highlight than the line alone */
  bf_pairscreen_draw(&p, &cv, 640, 480);
  const int code_picked = count_color(&cv, BF_PAIRSCREEN_CODE);
  p.lan_pick = 0;
  bf_pairscreen_draw(&p, &cv, 640, 480);
  assert_true(code_picked > count_color(&cv, BF_PAIRSCREEN_CODE) + 100);
  p.lan_pick = 1;
  assert_int_equal(bf_pairscreen_enter(&p, NULL), 1);
  assert_string_equal(p.host, "10.0.0.2:47999");
  /* at most BF_PAIRSCREEN_LAN; fewer later drops a pick beyond them */
  bf_pairscreen_ask_sender(&p, "");
  assert_int_equal(p.nlan, 0);
  assert_int_equal(bf_pairscreen_set_lan(&p, label, host, 5), 1);
  assert_int_equal(p.nlan, BF_PAIRSCREEN_LAN);
  for (int i = 0; i < 4; i++)
    bf_pairscreen_next_lan(&p);
  assert_int_equal(p.lan_pick, 4);
  assert_int_equal(bf_pairscreen_set_lan(&p, label, host, 1), 1);
  assert_int_equal(p.lan_pick, 0);
  assert_int_equal(bf_pairscreen_draw(&p, &cv, 640, 480), 0);
  /* with a failure message and four senders everything still fits */
  bf_pairscreen_ask_again(&p, "x",
                          "a long message that wraps over several lines of the window "
                          "because it goes on and on and on and on and on and on");
  bf_pairscreen_set_lan(&p, label, host, 4);
  assert_int_equal(bf_pairscreen_draw(&p, &cv, 640, 480), 0);
  int x0, x1;
  extent(&cv, BF_PAIRSCREEN_TEXT, &x0, &x1);
  assert_true(x0 >= 640 / 20 - 1 && x1 <= 640 - 640 / 20 + 1);
  bf_canvas_free(&cv);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_typing),
      cmocka_unit_test(test_draw),
      cmocka_unit_test(test_sender_line),
      cmocka_unit_test(test_wrap),
      cmocka_unit_test(test_draw_sender_failed),
      cmocka_unit_test(test_ask_again),
      cmocka_unit_test(test_lan_offer),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
