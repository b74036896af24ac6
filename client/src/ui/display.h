/*
 * Renderer: the SDL2 window, the streaming video texture (IYUV for 4:2:0
 * planar pictures, NV12 for hardware-decoder output, so no colour conversion
 * on the CPU on the normal path; other formats go through swscale), the
 * letterboxed picture, the overlay texture, the hotkeys and window events.
 *
 * Latency: with vsync off a picture is on screen as soon as
 * bf_renderer_present() returns; with --vsync SDL_RenderPresent waits for the
 * display. Nothing is queued here: one texture, overwritten by each picture.
 *
 * Threads: everything must run on the thread that opened the renderer (SDL's
 * rule for windows and their events). Events are only ever polled
 * (SDL_PollEvent), never waited for, so they cannot stall decoding.
 */
#ifndef BF_CLIENT_RENDERER_H
#define BF_CLIENT_RENDERER_H

#include "cli.h"
#include "font.h"
#include "overlay.h"

#include <libavutil/frame.h>

typedef struct bf_rect {
  int x, y, w, h;
} bf_rect;

/* The largest rectangle with the picture's display aspect (|vw| x |vh|
 * pixels of aspect |sar_num|:|sar_den|, 0 = square) centred in an |ow| x |oh|
 * output. Pure. */
void bf_letterbox(int vw, int vh, int sar_num, int sar_den, int ow, int oh, bf_rect *out);

typedef struct bf_renderer_config {
  int fullscreen;
  int borderless;
  int vsync;
  int width, height; /* initial window size; 0 = follow the first picture */
  bf_font_choice font;
  const char *title;
} bf_renderer_config;

typedef enum bf_ui_action {
  BF_UI_NONE = 0,
  BF_UI_QUIT,       /* window closed or Ctrl+Alt+Shift+Q */
  BF_UI_OVERLAY,    /* Ctrl+Alt+Shift+S: next overlay level */
  BF_UI_FULLSCREEN, /* Ctrl+Alt+Shift+X (already toggled) */
  BF_UI_REDRAW,     /* resized / exposed: present again */
  /* typing (the pairing screen; ignored while streaming) */
  BF_UI_TEXT,      /* text typed: bf_renderer_text() */
  BF_UI_ENTER,     /* Return or keypad Enter */
  BF_UI_BACKSPACE, /* Backspace */
  BF_UI_CANCEL,    /* Esc */
} bf_ui_action;

typedef struct bf_renderer bf_renderer;

/* Initialises SDL video and opens the window. 0 or negative with |err|. */
int bf_renderer_open(const bf_renderer_config *cfg, bf_renderer **out, char *err, size_t cap);
void bf_renderer_close(bf_renderer **r);

/* Copies |pic| into the video texture (recreated when its size or format
 * changes). 0 or negative errno. */
int bf_renderer_upload(bf_renderer *r, const AVFrame *pic);

/* Clears, draws the picture letterboxed and |ov|'s canvas (NULL or level off
 * = none), presents. 0 or negative errno. */
int bf_renderer_present(bf_renderer *r, const bf_overlay *ov);

/* Clears and draws |cv| at the window's top-left at its own size (a
 * screen made by the caller, e.g. the pairing screen), presents. 0 or
 * negative errno. */
int bf_renderer_present_canvas(bf_renderer *r, const bf_canvas *cv);

/* Takes one pending window/keyboard event without waiting. Returns 1 and
 * sets |a| when one was taken (BF_UI_NONE for events that need nothing),
 * 0 when none is pending. */
int bf_renderer_poll_event(bf_renderer *r, bf_ui_action *a);
/* After BF_UI_TEXT: the text typed (UTF-8, as the keyboard layout and input
 * method give it), valid until the next bf_renderer_poll_event(). */
const char *bf_renderer_text(bf_renderer *r);

/* A descriptor that becomes readable when window events arrive (the X11
 * connection), or -1 when there is none (the caller then wakes up
 * periodically to poll events). */
int bf_renderer_event_fd(bf_renderer *r);

/* 1 when the window is on a display someone can see; 0 with SDL's
 * offscreen or dummy video driver (what SDL falls back to, or is told to
 * use, when there is no display). */
int bf_renderer_on_display(bf_renderer *r);

/* The window's title (copied by SDL). */
void bf_renderer_set_title(bf_renderer *r, const char *title);

/* Fullscreen (desktop resolution) on or off. Where no window manager acts on
 * the request, the window is made borderless and display-sized instead, a
 * moment later from bf_renderer_tick(). */
void bf_renderer_toggle_fullscreen(bf_renderer *r);
int bf_renderer_is_fullscreen(bf_renderer *r);
/* Work the renderer has pending: ms until bf_renderer_tick() wants to run
 * (0 = now), -1 for none. */
int bf_renderer_timeout_ms(bf_renderer *r);
void bf_renderer_tick(bf_renderer *r);

/* The text drawing to use for overlay |level|: a system font (SDL2_ttf,
 * found through fontconfig) or the built-in bitmap font, per the config and
 * what is installed; sized for the current window. */
void bf_renderer_text_ops(bf_renderer *r, bf_overlay_level level, bf_text_ops *ops);

/* "x11 / software" etc., and the output size in pixels. */
const char *bf_renderer_describe(bf_renderer *r);
void bf_renderer_output_size(bf_renderer *r, int *w, int *h);
/* Where the picture was drawn by the last present. */
bf_rect bf_renderer_picture_rect(bf_renderer *r);

#endif
