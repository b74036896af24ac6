/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Where the window goes (ui/winfit.h): the picture's size when it fits the
 * usable area, the largest of its aspect when not, centred in the usable
 * area with the decorations around it.
 */
#include "testutil.h"

#include "ui/winfit.h"

static void check(bf_rect usable, int t, int l, int b, int r, int vw, int vh, int x, int y, int w,
                  int h) {
  bf_rect out;
  bf_window_fit(usable, t, l, b, r, vw, vh, &out);
  if (out.x != x || out.y != y || out.w != w || out.h != h)
    fail_msg("%dx%d in %d,%d %dx%d (borders %d %d %d %d): got %dx%d at %d,%d, want %dx%d at %d,%d",
             vw, vh, usable.x, usable.y, usable.w, usable.h, t, l, b, r, out.w, out.h, out.x, out.y,
             w, h, x, y);
}

static void test_fit(void **state) {
  (void)state;
  const bf_rect screen = {0, 0, 1920, 1080};
  /* issue #17: a 1080p stream on a 1080p screen without a window manager */
  check(screen, 0, 0, 0, 0, 1920, 1080, 0, 0, 1920, 1080);
  /* smaller: its own size, centred */
  check(screen, 0, 0, 0, 0, 960, 540, 480, 270, 960, 540);
  check(screen, 0, 0, 0, 0, 320, 240, 800, 420, 320, 240);
  /* a panel on top: the usable area is below it */
  check((bf_rect){0, 40, 1920, 1000}, 0, 0, 0, 0, 1920, 1080, 71, 40, 1778, 1000);
  check((bf_rect){0, 60, 1920, 960}, 0, 0, 0, 0, 1920, 1080, 106, 60, 1707, 960);
  /* decorations: 30 on top, 2 at the sides and bottom, all inside */
  check(screen, 30, 2, 2, 2, 1920, 1080, 28, 30, 1863, 1048);
  check(screen, 30, 2, 2, 2, 1280, 720, 320, 194, 1280, 720);
  /* 4K on a 1080p screen; a portrait picture */
  check(screen, 0, 0, 0, 0, 3840, 2160, 0, 0, 1920, 1080);
  check(screen, 0, 0, 0, 0, 1080, 1920, 656, 0, 608, 1080);
  /* a second screen to the right */
  check((bf_rect){1920, 0, 1280, 1024}, 0, 0, 0, 0, 1920, 1080, 1920, 152, 1280, 720);
  /* nonsense stays sane: at least 1 x 1, inside */
  check((bf_rect){0, 0, 10, 10}, 20, 20, 20, 20, 100, 100, 20, 20, 1, 1);
  check(screen, 0, 0, 0, 0, 0, 0, 959, 539, 1, 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_fit)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
