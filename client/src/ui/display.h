/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The display: the SDL2 window, the streaming video texture (IYUV for 4:2:0
 * planar pictures, NV12 for hardware-decoder output, so no colour conversion
 * on the CPU on the normal path; other formats go through swscale), the
 * letterboxed picture, a canvas blended over it (the overlay) or shown alone
 * (the setup screens), fullscreen, and the system font (SDL2_ttf through
 * fontconfig) the overlay may draw its text with.
 *
 * Not here: the window's events (ui_events.h turns them into UI actions and
 * input events), what the overlay or a setup screen shows (overlay.h,
 * pairscreen.h draw into a bf_canvas), when to present (the video stage).
 *
 * Latency: with vsync off a picture is on screen as soon as
 * bf_display_present() returns; with --vsync SDL_RenderPresent waits for the
 * display. Nothing is queued here: one texture, overwritten by each picture.
 *
 * Ownership: the display owns the window, its textures and fonts; the
 * pictures and canvases handed in stay the caller's (copied into textures).
 * Threads: everything must run on the thread that opened the display (SDL's
 * rule for windows and their events).
 */
#ifndef BF_CLIENT_DISPLAY_H
#define BF_CLIENT_DISPLAY_H

#include "font.h"

#include <libavutil/frame.h>

typedef struct bf_rect {
  int x, y, w, h;
} bf_rect;

/* The largest rectangle with the picture's display aspect (|vw| x |vh|
 * pixels of aspect |sar_num|:|sar_den|, 0 = square) centred in an |ow| x |oh|
 * output. Pure. */
void bf_letterbox(int vw, int vh, int sar_num, int sar_den, int ow, int oh, bf_rect *out);

typedef enum bf_font_choice {
  BF_FONT_AUTO = 0, /* system font through fontconfig for rich text, else built-in */
  BF_FONT_BUILTIN,  /* always the built-in bitmap font (deterministic) */
  BF_FONT_SYSTEM,   /* always the system font; error if none */
} bf_font_choice;

typedef struct bf_display_config {
  int fullscreen;
  int borderless;
  int vsync;
  int width, height; /* initial window size; 0 = follow the first picture */
  bf_font_choice font;
  const char *title; /* copied by SDL; NULL = "bildfunk" */
} bf_display_config;

typedef struct bf_display bf_display;

/* Initialises SDL video and opens the window. 0 or negative with |err|. */
int bf_display_open(const bf_display_config *cfg, bf_display **out, char *err, size_t cap);
/* Closes the window and SDL; clears |*d|. */
void bf_display_close(bf_display **d);

/* The stream will be |w| x |h| (a control session's Welcome): a window not
 * given a size takes it now, fitted into the display's usable area and
 * centred there, rather than at the first picture. */
void bf_display_expect(bf_display *d, int w, int h);

/* Copies |pic| into the video texture (recreated when its size or format
 * changes); the first picture sizes a window not given a size (as
 * bf_display_expect), once. 0 or negative errno. */
int bf_display_upload(bf_display *d, const AVFrame *pic);

/* Clears, draws the picture letterboxed and |over| at the top-left (NULL =
 * none), presents. 0 or negative errno. */
int bf_display_present(bf_display *d, const bf_canvas *over);

/* Clears and draws |cv| at the window's top-left at its own size (a
 * screen made by the caller, e.g. the pairing screen), presents. 0 or
 * negative errno. */
int bf_display_present_canvas(bf_display *d, const bf_canvas *cv);

/* A descriptor that becomes readable when window events arrive (the X11
 * connection), or -1 when there is none (the caller then wakes up
 * periodically to poll events). */
int bf_display_event_fd(bf_display *d);

/* 1 when the window is on a display someone can see; 0 with SDL's
 * offscreen or dummy video driver (what SDL falls back to, or is told to
 * use, when there is no display). */
int bf_display_visible(bf_display *d);

/* The window's title (copied by SDL). */
void bf_display_set_title(bf_display *d, const char *title);

/* Fullscreen (desktop resolution) on or off. Where no window manager acts on
 * the request, the window is made borderless and display-sized instead, a
 * moment later from bf_display_tick(). */
void bf_display_toggle_fullscreen(bf_display *d);
int bf_display_is_fullscreen(bf_display *d);
/* Work the display has pending: ms until bf_display_tick() wants to run
 * (0 = now), -1 for none. */
int bf_display_timeout_ms(bf_display *d);
void bf_display_tick(bf_display *d);

/* The text drawing to use: a system font (SDL2_ttf, found through
 * fontconfig) or the built-in bitmap font, per the config and what is
 * installed; |rich| is what BF_FONT_AUTO decides on (1: the system font).
 * Sized for the current window (the built-in font at one pixel per font
 * pixel per 400 lines, at least one): call again when the window's size
 * changes. */
void bf_display_text_ops(bf_display *d, int rich, bf_text_ops *ops);

/* Input (input/forward.h): window point (|wx|, |wy|), in SDL's window
 * coordinates, on the picture as drawn now (letterboxed): in the picture's
 * pixels (|*px|, |*py|, clamped to it) of its |*pw| x |*ph|. Returns 1 inside
 * the picture, 0 outside (clamped to its edge), -1 when no picture is
 * shown. */
int bf_display_to_picture(bf_display *d, int wx, int wy, int *px, int *py, int *pw, int *ph);

typedef enum bf_pointer_mode {
  BF_POINTER_SHOWN = 0, /* the local pointer as usual */
  BF_POINTER_HIDDEN,    /* hidden over the window (the sender's is in the picture) */
  BF_POINTER_CAPTURED,  /* hidden and held in the window: relative motion only */
} bf_pointer_mode;
/* 0, or -EIO when SDL could not capture the pointer (another grab). */
int bf_display_pointer(bf_display *d, bf_pointer_mode m);
/* Keyboard grab (system keys such as Alt+Tab come to the window): on only
 * while fullscreen, for --capture-system-keys. */
void bf_display_grab_keyboard(bf_display *d, int on);

/* "x11 / software" etc., and the output size in pixels. */
const char *bf_display_describe(bf_display *d);
void bf_display_output_size(bf_display *d, int *w, int *h);
/* Where the picture was drawn by the last present. */
bf_rect bf_display_picture_rect(bf_display *d);

#endif
