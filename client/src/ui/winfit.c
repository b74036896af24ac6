/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Where the window goes: see winfit.h.
 */
#include "winfit.h"

void bf_window_fit(bf_rect usable, int top, int left, int bottom, int right, int vw, int vh,
                   bf_rect *out) {
  int room_w = usable.w - left - right, room_h = usable.h - top - bottom;
  if (room_w < 1) room_w = 1;
  if (room_h < 1) room_h = 1;
  bf_rect fit = {0, 0, vw > 0 ? vw : 1, vh > 0 ? vh : 1};
  if (fit.w > room_w || fit.h > room_h) bf_letterbox(fit.w, fit.h, 1, 1, room_w, room_h, &fit);
  out->w = fit.w;
  out->h = fit.h;
  out->x = usable.x + left + (room_w - fit.w) / 2;
  out->y = usable.y + top + (room_h - fit.h) / 2;
}
