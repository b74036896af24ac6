/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Where the window goes: the size and position of a window that shows a
 * picture, inside the usable area of its display (the screen less panels
 * and docks, as the window manager announces it; the whole screen without
 * one) and with room for the window manager's decorations.
 *
 * Pure geometry, no SDL: the display (display.h) asks SDL for the usable
 * area and the border sizes and moves the window.
 */
#ifndef BF_CLIENT_WINFIT_H
#define BF_CLIENT_WINFIT_H

#include "display.h"

/* The client area for a |vw| x |vh| picture on a display whose usable area
 * is |usable|, the decorations |top|, |left|, |bottom|, |right| pixels wide
 * (0 without a window manager): the picture's own size when it fits, else
 * the largest size of its aspect that does (at least 1 x 1); placed so the
 * decorated window is centred in the usable area. |out| x, y are the client
 * area's top-left in screen coordinates. */
void bf_window_fit(bf_rect usable, int top, int left, int bottom, int right, int vw, int vh,
                   bf_rect *out);

#endif
