/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The interface between the sender's input stage (send_input.h) and the
 * ways it injects what the client sends, one file each:
 *
 *   input_xtest.c   XTest into the X display the x11 source captures (or
 *                   $DISPLAY): keys through that display's XKB keymap, the
 *                   pointer (absolute: stream pixels scaled to the screen,
 *                   or relative), buttons, wheel notches
 *   input_uinput.c  virtual devices through /dev/uinput (libevdev): a
 *                   keyboard, a relative mouse, an absolute pointer and up to
 *                   four game pads with force feedback (rumble); the
 *                   encoding of every event is input_evdev.h's
 *   input_echo.c    the testsrc source's echo: it draws what it receives
 *                   (and rumbles a pad by its triggers)
 *
 * A backend is a table of functions over its own context. Every member but
 * |name| and |ctx| may be NULL (not served). Calls come from the sender's
 * one thread: the input events in the order the input link took them,
 * |flush| after each batch of datagrams (XSync, so what was injected is on
 * the display before the next capture), |rumble| each loop turn. A backend
 * never blocks for longer than its display's or device's write.
 */
#ifndef BF_SENDER_INPUT_BACKEND_H
#define BF_SENDER_INPUT_BACKEND_H

#include <bildfunk/inputmsg.h>

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bf_inject {
  const char *name; /* "xtest :1", "uinput", "testsrc echo" */
  unsigned classes; /* BF_INCLASS_* it serves */
  void *ctx;
  void (*key)(void *ctx, uint16_t usage, int down);    /* HID usage, page 7 */
  void (*button)(void *ctx, uint8_t button, int down); /* 1 left .. 5 forward */
  void (*motion)(void *ctx, int32_t dx, int32_t dy);
  void (*abs)(void *ctx, uint16_t x, uint16_t y, uint16_t w, uint16_t h); /* stream pixels */
  void (*wheel)(void *ctx, int32_t v120, int32_t h120); /* 1/120 notch, + up / right */
  void (*pad)(void *ctx, unsigned slot, int connected);
  void (*pad_button)(void *ctx, unsigned slot, uint8_t button, int down); /* BF_PAD_* */
  void (*pad_axes)(void *ctx, unsigned slot, const int16_t axis[BF_INMSG_AXES]);
  void (*flush)(void *ctx);
  /* The pads' rumble at |now_ns| into |out| (low, high per slot): 1 when it
   * changed since the last call. */
  int (*rumble)(void *ctx, uint64_t now_ns, uint16_t out[BF_INMSG_PADS][2]);
  void (*close)(void *ctx);
} bf_inject;

/* XTest into |display| (NULL: $DISPLAY) for the keyboard and the mouse.
 * 0, or a negative errno with the reason in |err| (no display, no XTest). */
int bf_inject_xtest_open(const char *display, bf_inject *out, char *err, size_t cap);

/* Whether /dev/uinput can be used here: 0, or a negative errno with a
 * reason a person can act on in |why| ("/dev/uinput is missing: the kernel
 * has no uinput (modprobe uinput)"). */
int bf_inject_uinput_probe(char *why, size_t cap);
/* Virtual devices for |classes| (BF_INCLASS_*): the keyboard and the mice
 * at once, a pad when it connects. 0 or a negative errno with |err|. */
int bf_inject_uinput_open(unsigned classes, bf_inject *out, char *err, size_t cap);

#ifdef __cplusplus
}
#endif

#endif /* BF_SENDER_INPUT_BACKEND_H */
