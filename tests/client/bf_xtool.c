/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * bf_xtool: drives the client's window on an X server (Xvfb) for the
 * display tests, with plain Xlib (no window manager, no XTest needed).
 *
 *   bf_xtool find NAME [SECONDS]   wait for a viewable top-level window whose
 *                                  WM_CLASS contains NAME; print
 *                                  "ID X Y W H" (root coordinates)
 *   bf_xtool geom ID               print "X Y W H"
 *   bf_xtool hotkey ID KEY         Ctrl+Alt+Shift+KEY (KEY: s, x, q, ...) as
 *                                  key events sent to the window, after
 *                                  giving it the input focus
 *   bf_xtool type ID TEXT          TEXT as key presses to the window (digits,
 *                                  letters, printable ASCII punctuation with
 *                                  Shift where the keyboard needs it; "\n"
 *                                  Return, "\e" Escape, "\b" BackSpace,
 *                                  "\t" Tab),
 *                                  after giving it the focus
 *   bf_xtool resize ID W H         move it to the top-left corner and resize
 *                                  it, as a window manager would
 *   bf_xtool workarea X Y W H      announce the usable area on the root
 *                                  window (_NET_WORKAREA), as a window
 *                                  manager with a panel would
 *
 * Uses $DISPLAY. Exit 0 on success, 1 on failure (message on stderr).
 */
#include <X11/Xlib.h>
#include <X11/Xatom.h>
#include <X11/Xutil.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* WM_CLASS (res_name or res_class) contains |want|: SDL sets it from the
 * program name, and it is plain ASCII whatever the title holds. */
static int name_matches(Display *d, Window w, const char *want) {
  XClassHint h;
  int ok = 0;
  if (XGetClassHint(d, w, &h)) {
    ok = (h.res_name && strstr(h.res_name, want)) || (h.res_class && strstr(h.res_class, want));
    if (h.res_name) XFree(h.res_name);
    if (h.res_class) XFree(h.res_class);
  }
  return ok;
}

/* 0, or -1 when |w| is gone (X errors are ignored here: its attributes
 * would be whatever the stack held, e.g. "0x0"). */
static int geometry(Display *d, Window w, int *x, int *y, int *wd, int *ht) {
  XWindowAttributes a;
  Window child;
  if (!XGetWindowAttributes(d, w, &a) ||
      !XTranslateCoordinates(d, w, DefaultRootWindow(d), 0, 0, x, y, &child))
    return -1;
  *wd = a.width;
  *ht = a.height;
  return 0;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static int find(Display *d, const char *name, double seconds) {
  for (double waited = 0; waited <= seconds; waited += 0.05) {
    Window root, parent, *kids = NULL;
    unsigned n = 0;
    if (XQueryTree(d, DefaultRootWindow(d), &root, &parent, &kids, &n)) {
      for (unsigned i = 0; i < n; i++) {
        XWindowAttributes a;
        if (!XGetWindowAttributes(d, kids[i], &a) || a.map_state != IsViewable) continue;
        if (!name_matches(d, kids[i], name)) continue;
        int x, y, w, h;
        if (geometry(d, kids[i], &x, &y, &w, &h) < 0) continue; /* gone meanwhile */
        printf("%lu %d %d %d %d\n", (unsigned long)kids[i], x, y, w, h);
        XFree(kids);
        return 0;
      }
      if (kids) XFree(kids);
    }
    sleep_ms(50);
  }
  fprintf(stderr, "bf_xtool: no window named '%s'\n", name);
  return 1;
}

static void key(Display *d, Window w, KeySym sym, unsigned state, int press) {
  XEvent e;
  memset(&e, 0, sizeof e);
  e.xkey.type = press ? KeyPress : KeyRelease;
  e.xkey.display = d;
  e.xkey.window = w;
  e.xkey.root = DefaultRootWindow(d);
  e.xkey.subwindow = None;
  e.xkey.time = CurrentTime;
  e.xkey.same_screen = True;
  e.xkey.state = state;
  e.xkey.keycode = XKeysymToKeycode(d, sym);
  XSendEvent(d, w, True, press ? KeyPressMask : KeyReleaseMask, &e);
  XSync(d, False);
  sleep_ms(10);
}

static int hotkey(Display *d, Window w, const char *k) {
  KeySym sym = XStringToKeysym(k);
  if (sym == NoSymbol) {
    fprintf(stderr, "bf_xtool: unknown key '%s'\n", k);
    return 1;
  }
  XSetInputFocus(d, w, RevertToParent, CurrentTime);
  XSync(d, False);
  sleep_ms(50);
  unsigned m = 0;
  key(d, w, XK_Control_L, m, 1);
  m |= ControlMask;
  key(d, w, XK_Alt_L, m, 1);
  m |= Mod1Mask;
  key(d, w, XK_Shift_L, m, 1);
  m |= ShiftMask;
  key(d, w, sym, m, 1);
  key(d, w, sym, m, 0);
  key(d, w, XK_Shift_L, m, 0);
  m &= ~(unsigned)ShiftMask;
  key(d, w, XK_Alt_L, m, 0);
  m &= ~(unsigned)Mod1Mask;
  key(d, w, XK_Control_L, m, 0);
  return 0;
}

/* The keysym of printable ASCII |c| (X names punctuation by name). */
static KeySym ascii_keysym(char c) {
  static const struct {
    char c;
    const char *name;
  } punct[] = {
      {'.', "period"},      {':', "colon"},        {'-', "minus"},      {'_', "underscore"},
      {'[', "bracketleft"}, {']', "bracketright"}, {'/', "slash"},      {'@', "at"},
      {',', "comma"},       {';', "semicolon"},    {' ', "space"},      {'+', "plus"},
      {'=', "equal"},       {'%', "percent"},      {'~', "asciitilde"}, {'!', "exclam"}};
  for (size_t i = 0; i < sizeof punct / sizeof punct[0]; i++)
    if (punct[i].c == c) return XStringToKeysym(punct[i].name);
  char one[2] = {c, 0};
  return XStringToKeysym(one);
}

/* 1 when |sym| is the shifted symbol of its key (':' on most layouts). */
static int needs_shift(Display *d, KeySym sym) {
  KeyCode kc = XKeysymToKeycode(d, sym);
  int per = 0;
  KeySym *m = XGetKeyboardMapping(d, kc, 1, &per);
  int shift = m && per > 1 && m[0] != sym && m[1] == sym;
  if (m) XFree(m);
  return shift;
}

/* Types |text|: each character a press and release of its key (with Shift
 * pressed around it where its symbol is the key's shifted one), \n \e \b
 * \t as Return, Escape, BackSpace, Tab. */
static int type_text(Display *d, Window w, const char *text) {
  XSetInputFocus(d, w, RevertToParent, CurrentTime);
  XSync(d, False);
  sleep_ms(50);
  for (const char *c = text; *c; c++) {
    KeySym sym = NoSymbol;
    if (c[0] == '\\' && c[1]) {
      c++;
      sym = *c == 'n'   ? XK_Return
            : *c == 'e' ? XK_Escape
            : *c == 'b' ? XK_BackSpace
            : *c == 't' ? XK_Tab
                        : NoSymbol;
    } else {
      sym = ascii_keysym(*c);
    }
    if (sym == NoSymbol || !XKeysymToKeycode(d, sym)) {
      fprintf(stderr, "bf_xtool: cannot type '%c'\n", *c);
      return 1;
    }
    unsigned m = needs_shift(d, sym) ? ShiftMask : 0;
    if (m) key(d, w, XK_Shift_L, 0, 1);
    key(d, w, sym, m, 1);
    key(d, w, sym, m, 0);
    if (m) key(d, w, XK_Shift_L, m, 0);
  }
  return 0;
}

/* A hotkey that quits the client destroys the window before the key
 * releases are sent: that is success, not an error. */
static int ignore_x_errors(Display *d, XErrorEvent *e) {
  (void)d;
  (void)e;
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: bf_xtool find NAME [S] | geom ID | hotkey ID KEY | type ID TEXT | "
                    "resize ID W H | workarea X Y W H\n");
    return 2;
  }
  Display *d = XOpenDisplay(NULL);
  if (!d) {
    fprintf(stderr, "bf_xtool: cannot open display %s\n",
            getenv("DISPLAY") ? getenv("DISPLAY") : "");
    return 1;
  }
  XSetErrorHandler(ignore_x_errors);
  int rc = 1;
  const char *cmd = argv[1];
  if (!strcmp(cmd, "find")) {
    rc = find(d, argv[2], argc > 3 ? atof(argv[3]) : 5.0);
  } else if (!strcmp(cmd, "workarea") && argc > 5) {
    long area[4];
    for (int i = 0; i < 4; i++)
      area[i] = atol(argv[2 + i]);
    Atom wa = XInternAtom(d, "_NET_WORKAREA", False);
    XChangeProperty(d, DefaultRootWindow(d), wa, XA_CARDINAL, 32, PropModeReplace,
                    (unsigned char *)area, 4);
    XSync(d, False);
    rc = 0;
  } else {
    Window w = (Window)strtoul(argv[2], NULL, 10);
    if (!strcmp(cmd, "geom")) {
      int x, y, wd, ht;
      rc = geometry(d, w, &x, &y, &wd, &ht) < 0;
      if (!rc) printf("%d %d %d %d\n", x, y, wd, ht);
    } else if (!strcmp(cmd, "hotkey") && argc > 3) {
      rc = hotkey(d, w, argv[3]);
    } else if (!strcmp(cmd, "type") && argc > 3) {
      rc = type_text(d, w, argv[3]);
    } else if (!strcmp(cmd, "resize") && argc > 4) {
      XMoveResizeWindow(d, w, 0, 0, (unsigned)atoi(argv[3]), (unsigned)atoi(argv[4]));
      XSync(d, False);
      rc = 0;
    } else {
      fprintf(stderr, "bf_xtool: bad command\n");
      rc = 2;
    }
  }
  XCloseDisplay(d);
  return rc;
}
