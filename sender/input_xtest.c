/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The XTest backend (see input_backend.h): the client's input as fake
 * input events on an X display, the one the x11 source captures.
 *
 * Keys: the HID usage's XKB key name (input_keys.h) looked up in the
 * display's own keymap once at open (XkbGetNames), so a key is the same
 * physical key on the client and the sender and the sender's layout makes
 * the character; without XKB, the evdev code + 8 (the keycodes of XKB's
 * evdev rules). Pointer: an absolute position in stream pixels scaled to
 * the screen (the x11 source captures the whole screen), or relative
 * motion. Buttons 1 left, 2 middle, 3 right, 8 back, 9 forward; the wheel
 * as buttons 4/5 (up/down) and 6/7 (left/right), one click per 120 units,
 * the rest kept for the next step.
 *
 * flush: XSync, so every injected event has been processed by the server
 * (and reached the application's queue) before the next picture is
 * captured; one round trip to the X server per batch of datagrams.
 */
#include "input_backend.h"

#include "input_keys.h"

#include <bildfunk/inputlink.h>

#include <X11/XKBlib.h>
#include <X11/Xlib.h>
#include <X11/extensions/XTest.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct xtest_ctx {
  Display *dpy;
  char name[80];
  unsigned char keycode[0x100]; /* by HID usage, 0 = none */
  int screen_w, screen_h;
  int32_t wheel_v, wheel_h; /* remainders in 1/120 */
} xtest_ctx;

/* usage -> keycode through the display's XKB key names. Returns how many
 * usages found a key by name (0: no XKB; the evdev numbering is used). */
static unsigned map_keys(xtest_ctx *c) {
  unsigned named = 0;
  XkbDescPtr xkb = XkbGetMap(c->dpy, 0, XkbUseCoreKbd);
  if (xkb && XkbGetNames(c->dpy, XkbKeyNamesMask, xkb) == Success && xkb->names &&
      xkb->names->keys) {
    for (unsigned u = 0; u < 0x100; u++) {
      const bf_hid_key *k = bf_hid_key_of((uint16_t)u);
      if (!k) continue;
      for (int kc = xkb->min_key_code; kc <= xkb->max_key_code; kc++) {
        if (strncmp(xkb->names->keys[kc].name, k->xkb, XkbKeyNameLength) == 0) {
          c->keycode[u] = (unsigned char)kc;
          named++;
          break;
        }
      }
    }
  }
  if (xkb) XkbFreeKeyboard(xkb, 0, True);
  for (unsigned u = 0; u < 0x100; u++) { /* what the names did not give */
    const bf_hid_key *k = bf_hid_key_of((uint16_t)u);
    if (k && !c->keycode[u] && k->evdev + 8u < 256u) c->keycode[u] = (unsigned char)(k->evdev + 8u);
  }
  return named;
}

static void x_key(void *x, uint16_t usage, int down) {
  xtest_ctx *c = x;
  if (usage < 0x100 && c->keycode[usage])
    XTestFakeKeyEvent(c->dpy, c->keycode[usage], down ? True : False, CurrentTime);
}

static void x_button(void *x, uint8_t b, int down) {
  static const unsigned map[6] = {0, 1, 2, 3, 8, 9};
  xtest_ctx *c = x;
  if (b >= 1 && b <= 5) XTestFakeButtonEvent(c->dpy, map[b], down ? True : False, CurrentTime);
}

static void x_motion(void *x, int32_t dx, int32_t dy) {
  xtest_ctx *c = x;
  XTestFakeRelativeMotionEvent(c->dpy, dx, dy, CurrentTime);
}

static void x_abs(void *x, uint16_t px, uint16_t py, uint16_t w, uint16_t h) {
  xtest_ctx *c = x;
  if (!w || !h) return;
  /* the pixel centre, scaled */
  int sx = (int)(((2u * px + 1u) * (uint64_t)c->screen_w) / (2u * w));
  int sy = (int)(((2u * py + 1u) * (uint64_t)c->screen_h) / (2u * h));
  XTestFakeMotionEvent(c->dpy, DefaultScreen(c->dpy), sx, sy, CurrentTime);
}

static void clicks(xtest_ctx *c, int32_t *acc, unsigned plus, unsigned minus) {
  while (*acc >= 120 || *acc <= -120) {
    unsigned b = *acc > 0 ? plus : minus;
    XTestFakeButtonEvent(c->dpy, b, True, CurrentTime);
    XTestFakeButtonEvent(c->dpy, b, False, CurrentTime);
    *acc += *acc > 0 ? -120 : 120;
  }
}

static void x_wheel(void *x, int32_t v, int32_t h) {
  xtest_ctx *c = x;
  c->wheel_v += v;
  c->wheel_h += h;
  clicks(c, &c->wheel_v, 4, 5); /* + away from the user: up */
  clicks(c, &c->wheel_h, 7, 6); /* + right */
}

static void x_flush(void *x) {
  xtest_ctx *c = x;
  XSync(c->dpy, False);
}

static void x_close(void *x) {
  xtest_ctx *c = x;
  if (!c) return;
  if (c->dpy) XCloseDisplay(c->dpy);
  free(c);
}

int bf_inject_xtest_open(const char *display, bf_inject *out, char *err, size_t cap) {
  memset(out, 0, sizeof *out);
  const char *name = display ? display : getenv("DISPLAY");
  if (!name || !*name) {
    snprintf(err, cap, "no X display to inject into (DISPLAY is not set)");
    return -ENOENT;
  }
  xtest_ctx *c = calloc(1, sizeof *c);
  if (!c) return -ENOMEM;
  snprintf(c->name, sizeof c->name, "xtest %s", name);
  c->dpy = XOpenDisplay(name);
  if (!c->dpy) {
    snprintf(err, cap, "cannot open the X display %s", name);
    x_close(c);
    return -ENOENT;
  }
  int ev, er, maj, min;
  if (!XTestQueryExtension(c->dpy, &ev, &er, &maj, &min)) {
    snprintf(err, cap, "the X display %s has no XTest extension", name);
    x_close(c);
    return -ENOTSUP;
  }
  XTestGrabControl(c->dpy, True); /* injected events pass other clients' grabs */
  c->screen_w = DisplayWidth(c->dpy, DefaultScreen(c->dpy));
  c->screen_h = DisplayHeight(c->dpy, DefaultScreen(c->dpy));
  if (map_keys(c) == 0)
    fprintf(stderr, "bildfunk-send: input: %s has no XKB key names: keys by evdev numbers\n", name);
  *out = (bf_inject){c->name,  BF_INCLASS_KEYBOARD | BF_INCLASS_MOUSE,
                     c,        x_key,
                     x_button, x_motion,
                     x_abs,    x_wheel,
                     NULL,     NULL,
                     NULL,     x_flush,
                     NULL,     x_close};
  return 0;
}
