/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * bf_xlog: the "game" on the sender's X display in the input tests. It
 * opens a window covering the whole screen, takes the keyboard focus and
 * writes one line per input event it gets, flushed at once:
 *
 *   ready WxH
 *   key down KEYSYM_HEX 'TEXT'      (TEXT: what XLookupString makes of it)
 *   key up KEYSYM_HEX
 *   button down N X Y               (N: X button number, 4/5/6/7 the wheel)
 *   button up N X Y
 *   motion X Y
 *
 * It also paints a square at the pointer, so the picture follows it, and
 * turns the display's pointer acceleration off (1/1), as a game that reads
 * raw motion would see it, so relative motion sums exactly.
 *   bf_xlog [DISPLAY]            (default $DISPLAY); ends on SIGTERM or the display's end
 *   bf_xlog --accel-off DISPLAY  only turns the acceleration off (the client's display)
 */
#include <X11/Xlib.h>
#include <X11/Xutil.h>

#include <signal.h>
#include <sys/select.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile sig_atomic_t stop;
static void on_term(int sig) {
  (void)sig;
  stop = 1;
}

int main(int argc, char **argv) {
  int only_accel = argc > 2 && !strcmp(argv[1], "--accel-off");
  Display *d = XOpenDisplay(argc > 1 ? argv[only_accel ? 2 : 1] : NULL);
  if (!d) {
    fprintf(stderr, "bf_xlog: cannot open the display\n");
    return 1;
  }
  XChangePointerControl(d, True, True, 1, 1, 0);
  XSync(d, False);
  if (only_accel) {
    XCloseDisplay(d);
    return 0;
  }
  signal(SIGTERM, on_term);
  int scr = DefaultScreen(d);
  unsigned w = (unsigned)DisplayWidth(d, scr), h = (unsigned)DisplayHeight(d, scr);
  XSetWindowAttributes a;
  memset(&a, 0, sizeof a);
  a.override_redirect = True;
  a.background_pixel = BlackPixel(d, scr);
  a.event_mask = KeyPressMask | KeyReleaseMask | ButtonPressMask | ButtonReleaseMask |
                 PointerMotionMask | ExposureMask | StructureNotifyMask;
  Window win = XCreateWindow(d, RootWindow(d, scr), 0, 0, w, h, 0, CopyFromParent, InputOutput,
                             CopyFromParent, CWOverrideRedirect | CWBackPixel | CWEventMask, &a);
  XMapRaised(d, win);
  GC gc = XCreateGC(d, win, 0, NULL);
  XSetForeground(d, gc, WhitePixel(d, scr));
  for (;;) { /* mapped: then the focus can be set */
    XEvent e;
    XNextEvent(d, &e);
    if (e.type == MapNotify) break;
  }
  XSetInputFocus(d, win, RevertToPointerRoot, CurrentTime);
  XSync(d, False);
  printf("ready %ux%u\n", w, h);
  fflush(stdout);
  int fd = ConnectionNumber(d);
  while (!stop) {
    if (!XPending(d)) {
      fd_set rd;
      FD_ZERO(&rd);
      FD_SET(fd, &rd);
      struct timeval tv = {0, 200000};
      if (select(fd + 1, &rd, NULL, NULL, &tv) < 0) continue;
      if (!XPending(d)) continue;
    }
    XEvent e;
    XNextEvent(d, &e);
    char text[32] = "";
    KeySym ks = 0;
    switch (e.type) {
    case KeyPress: {
      int n = XLookupString(&e.xkey, text, sizeof text - 1, &ks, NULL);
      text[n > 0 ? n : 0] = 0;
      if (n == 1 && (unsigned char)text[0] < 0x20) text[0] = 0; /* Return, Tab...: no text */
      printf("key down 0x%lx '%s'\n", (unsigned long)ks, text);
      break;
    }
    case KeyRelease:
      XLookupString(&e.xkey, text, sizeof text - 1, &ks, NULL);
      printf("key up 0x%lx\n", (unsigned long)ks);
      break;
    case ButtonPress:
    case ButtonRelease:
      printf("button %s %u %d %d\n", e.type == ButtonPress ? "down" : "up", e.xbutton.button,
             e.xbutton.x, e.xbutton.y);
      break;
    case MotionNotify:
      printf("motion %d %d\n", e.xmotion.x, e.xmotion.y);
      XClearWindow(d, win);
      XFillRectangle(d, win, gc, e.xmotion.x - 8, e.xmotion.y - 8, 16, 16);
      break;
    default:
      break;
    }
    fflush(stdout);
  }
  XCloseDisplay(d);
  return 0;
}
