/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The uinput backend: virtual input devices through /dev/uinput with
 * libevdev (see input_backend.h; the events are input_evdev.h's).
 *
 * Devices: "bildfunk keyboard", "bildfunk mouse" (relative), "bildfunk
 * pointer" (absolute), made at open for the classes asked for, and "bildfunk
 * pad N" made when the client's pad N connects and destroyed when it goes.
 * Buttons go to the mouse after relative motion and to the pointer after an
 * absolute position, so a click happens where the pointer that moved is.
 *
 * Force feedback: a game uploads rumble effects to a pad (EV_UINPUT
 * UI_FF_UPLOAD / UI_FF_ERASE, answered with UI_BEGIN/END_FF_UPLOAD) and plays
 * them (EV_FF); |rumble| reads the pads' descriptors without blocking each
 * loop turn and reports the strongest effect playing (strong magnitude: the
 * low-frequency motor) until it ends (its replay length).
 *
 * Needs a real /dev/uinput: the machines that run the test suite have none
 * (their kernels lack uinput), so this file runs only where the device
 * exists; the event encoding it writes is unit-tested without a device.
 */
#include "input_backend.h"

#include "input_evdev.h"
#include "input_keys.h"

#include <bildfunk/inputlink.h>

#include <libevdev/libevdev-uinput.h>
#include <libevdev/libevdev.h>
#include <linux/uinput.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define FF_EFFECTS 16 /* libevdev gives a device 10 effect slots */

typedef struct pad {
  struct libevdev_uinput *dev;
  uint32_t dpad;
  int16_t axes[BF_INMSG_AXES];
  struct {
    int used;
    uint16_t strong, weak, length_ms;
    uint64_t until_ns; /* playing until then (0: not playing) */
  } fx[FF_EFFECTS];
  uint16_t rumble[2]; /* last reported */
} pad;

typedef struct uinput_ctx {
  unsigned classes;
  struct libevdev_uinput *kbd, *mouse, *pointer;
  int abs_last; /* the last motion was absolute: buttons go to the pointer */
  bf_evdev_wheel wheel;
  pad pads[BF_INMSG_PADS];
  uint64_t now_ns;
} uinput_ctx;

static void write_all(struct libevdev_uinput *d, const bf_evdev_ev *ev, size_t n) {
  for (size_t i = 0; d && i < n; i++)
    (void)libevdev_uinput_write_event(d, ev[i].type, ev[i].code, ev[i].value);
}

static int make(struct libevdev *dev, struct libevdev_uinput **out) {
  int r = libevdev_uinput_create_from_device(dev, LIBEVDEV_UINPUT_OPEN_MANAGED, out);
  libevdev_free(dev);
  if (r == 0) {
    int fd = libevdev_uinput_get_fd(*out);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); /* force feedback is read each turn */
  }
  return r;
}

static struct libevdev *new_dev(const char *name, uint16_t vendor, uint16_t product) {
  struct libevdev *dev = libevdev_new();
  if (!dev) return NULL;
  libevdev_set_name(dev, name);
  libevdev_set_id_bustype(dev, BUS_USB);
  libevdev_set_id_vendor(dev, vendor);
  libevdev_set_id_product(dev, product);
  return dev;
}

static void mouse_buttons(struct libevdev *dev) {
  static const unsigned b[] = {BTN_LEFT, BTN_RIGHT, BTN_MIDDLE, BTN_SIDE, BTN_EXTRA};
  libevdev_enable_event_type(dev, EV_KEY);
  for (size_t i = 0; i < sizeof b / sizeof b[0]; i++)
    libevdev_enable_event_code(dev, EV_KEY, b[i], NULL);
}

static int open_kbd(uinput_ctx *c) {
  struct libevdev *dev = new_dev("bildfunk keyboard", 0x1209, 0xbf01);
  if (!dev) return -ENOMEM;
  libevdev_enable_event_type(dev, EV_KEY);
  for (uint16_t u = 0; u < 0x100; u++) {
    const bf_hid_key *k = bf_hid_key_of(u);
    if (k) libevdev_enable_event_code(dev, EV_KEY, k->evdev, NULL);
  }
  return make(dev, &c->kbd);
}

static int open_mice(uinput_ctx *c) {
  struct libevdev *dev = new_dev("bildfunk mouse", 0x1209, 0xbf02);
  if (!dev) return -ENOMEM;
  mouse_buttons(dev);
  libevdev_enable_event_type(dev, EV_REL);
  static const unsigned rel[] = {
      REL_X, REL_Y, REL_WHEEL, REL_HWHEEL, REL_WHEEL_HI_RES, REL_HWHEEL_HI_RES};
  for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++)
    libevdev_enable_event_code(dev, EV_REL, rel[i], NULL);
  int r = make(dev, &c->mouse);
  if (r < 0) return r;
  if (!(dev = new_dev("bildfunk pointer", 0x1209, 0xbf03))) return -ENOMEM;
  mouse_buttons(dev);
  struct input_absinfo ai = {.minimum = 0, .maximum = BF_EVDEV_ABS_MAX};
  libevdev_enable_event_type(dev, EV_ABS);
  libevdev_enable_event_code(dev, EV_ABS, ABS_X, &ai);
  libevdev_enable_event_code(dev, EV_ABS, ABS_Y, &ai);
  return make(dev, &c->pointer);
}

static int open_pad(uinput_ctx *c, unsigned slot) {
  char name[32];
  snprintf(name, sizeof name, "bildfunk pad %u", slot);
  struct libevdev *dev = new_dev(name, 0x045e, 0x028e); /* as xpad shows an Xbox 360 pad */
  if (!dev) return -ENOMEM;
  libevdev_enable_event_type(dev, EV_KEY);
  uint16_t codes[BF_PAD_BUTTONS];
  size_t n = bf_evdev_pad_codes(codes);
  for (size_t i = 0; i < n; i++)
    libevdev_enable_event_code(dev, EV_KEY, codes[i], NULL);
  libevdev_enable_event_type(dev, EV_ABS);
  struct input_absinfo stick = {.minimum = -32768, .maximum = 32767, .fuzz = 16, .flat = 128};
  struct input_absinfo trig = {.minimum = 0, .maximum = BF_EVDEV_TRIGGER_MAX};
  struct input_absinfo hat = {.minimum = -1, .maximum = 1};
  static const unsigned sticks[] = {ABS_X, ABS_Y, ABS_RX, ABS_RY};
  for (size_t i = 0; i < 4; i++)
    libevdev_enable_event_code(dev, EV_ABS, sticks[i], &stick);
  libevdev_enable_event_code(dev, EV_ABS, ABS_Z, &trig);
  libevdev_enable_event_code(dev, EV_ABS, ABS_RZ, &trig);
  libevdev_enable_event_code(dev, EV_ABS, ABS_HAT0X, &hat);
  libevdev_enable_event_code(dev, EV_ABS, ABS_HAT0Y, &hat);
  libevdev_enable_event_type(dev, EV_FF);
  libevdev_enable_event_code(dev, EV_FF, FF_RUMBLE, NULL);
  pad *p = &c->pads[slot];
  memset(p, 0, sizeof *p);
  return make(dev, &p->dev); /* libevdev sets the FF bits and 10 effect slots */
}

static void u_key(void *x, uint16_t usage, int down) {
  uinput_ctx *c = x;
  bf_evdev_ev ev[BF_EVDEV_MAX];
  write_all(c->kbd, ev, bf_evdev_key(usage, down, ev));
}

static void u_button(void *x, uint8_t b, int down) {
  uinput_ctx *c = x;
  bf_evdev_ev ev[BF_EVDEV_MAX];
  write_all(c->abs_last ? c->pointer : c->mouse, ev, bf_evdev_button(b, down, ev));
}

static void u_motion(void *x, int32_t dx, int32_t dy) {
  uinput_ctx *c = x;
  bf_evdev_ev ev[BF_EVDEV_MAX];
  c->abs_last = 0;
  write_all(c->mouse, ev, bf_evdev_motion(dx, dy, ev));
}

static void u_abs(void *x, uint16_t px, uint16_t py, uint16_t w, uint16_t h) {
  uinput_ctx *c = x;
  bf_evdev_ev ev[BF_EVDEV_MAX];
  c->abs_last = 1;
  write_all(c->pointer, ev, bf_evdev_abs(px, py, w, h, ev));
}

static void u_wheel(void *x, int32_t v, int32_t h) {
  uinput_ctx *c = x;
  bf_evdev_ev ev[BF_EVDEV_MAX];
  write_all(c->mouse, ev, bf_evdev_wheel_step(&c->wheel, v, h, ev));
}

static void u_pad(void *x, unsigned slot, int on) {
  uinput_ctx *c = x;
  if (slot >= BF_INMSG_PADS) return;
  pad *p = &c->pads[slot];
  if (on && !p->dev) {
    if (open_pad(c, slot) < 0)
      fprintf(stderr, "bildfunk-send: input: cannot make a uinput pad %u: %s\n", slot,
              strerror(errno));
  } else if (!on && p->dev) {
    libevdev_uinput_destroy(p->dev);
    memset(p, 0, sizeof *p);
  }
}

static void u_pad_button(void *x, unsigned slot, uint8_t b, int down) {
  uinput_ctx *c = x;
  if (slot >= BF_INMSG_PADS || !c->pads[slot].dev) return;
  bf_evdev_ev ev[BF_EVDEV_MAX];
  pad *p = &c->pads[slot];
  write_all(p->dev, ev, bf_evdev_pad_button(b, down, &p->dpad, ev));
}

static void u_pad_axes(void *x, unsigned slot, const int16_t *axis) {
  uinput_ctx *c = x;
  if (slot >= BF_INMSG_PADS || !c->pads[slot].dev) return;
  bf_evdev_ev ev[BF_EVDEV_MAX];
  pad *p = &c->pads[slot];
  write_all(p->dev, ev, bf_evdev_pad_axes(axis, p->axes, ev));
  memcpy(p->axes, axis, sizeof p->axes);
}

/* A game's force-feedback request on pad |p|'s descriptor. */
static void ff_request(pad *p, int fd, const struct input_event *e, uint64_t now) {
  if (e->type == EV_UINPUT && e->code == UI_FF_UPLOAD) {
    struct uinput_ff_upload up;
    memset(&up, 0, sizeof up);
    up.request_id = (uint32_t)e->value;
    if (ioctl(fd, UI_BEGIN_FF_UPLOAD, &up) < 0) return;
    int id = up.effect.id;
    up.retval = -EINVAL;
    if (id >= 0 && id < FF_EFFECTS && up.effect.type == FF_RUMBLE) {
      p->fx[id].used = 1;
      p->fx[id].strong = up.effect.u.rumble.strong_magnitude;
      p->fx[id].weak = up.effect.u.rumble.weak_magnitude;
      p->fx[id].length_ms = up.effect.replay.length;
      up.retval = 0;
    }
    ioctl(fd, UI_END_FF_UPLOAD, &up);
  } else if (e->type == EV_UINPUT && e->code == UI_FF_ERASE) {
    struct uinput_ff_erase er;
    memset(&er, 0, sizeof er);
    er.request_id = (uint32_t)e->value;
    if (ioctl(fd, UI_BEGIN_FF_ERASE, &er) < 0) return;
    if (er.effect_id < FF_EFFECTS) memset(&p->fx[er.effect_id], 0, sizeof p->fx[0]);
    er.retval = 0;
    ioctl(fd, UI_END_FF_ERASE, &er);
  } else if (e->type == EV_FF && e->code < FF_EFFECTS && p->fx[e->code].used) {
    uint16_t len = p->fx[e->code].length_ms;
    p->fx[e->code].until_ns = e->value ? now + (len ? len : 1000u) * 1000000ull : 0;
  }
}

static int u_rumble(void *x, uint64_t now, uint16_t out[BF_INMSG_PADS][2]) {
  uinput_ctx *c = x;
  int changed = 0;
  for (unsigned s = 0; s < BF_INMSG_PADS; s++) {
    pad *p = &c->pads[s];
    uint16_t lo = 0, hi = 0;
    if (p->dev) {
      int fd = libevdev_uinput_get_fd(p->dev);
      struct input_event e;
      while (read(fd, &e, sizeof e) == (ssize_t)sizeof e)
        ff_request(p, fd, &e, now);
      for (unsigned i = 0; i < FF_EFFECTS; i++) {
        if (!p->fx[i].until_ns || now >= p->fx[i].until_ns) continue;
        if (p->fx[i].strong > lo) lo = p->fx[i].strong;
        if (p->fx[i].weak > hi) hi = p->fx[i].weak;
      }
    }
    changed |= lo != p->rumble[0] || hi != p->rumble[1];
    p->rumble[0] = out[s][0] = lo;
    p->rumble[1] = out[s][1] = hi;
  }
  return changed;
}

static void u_close(void *x) {
  uinput_ctx *c = x;
  if (!c) return;
  struct libevdev_uinput *all[] = {c->kbd, c->mouse, c->pointer};
  for (size_t i = 0; i < 3; i++)
    if (all[i]) libevdev_uinput_destroy(all[i]);
  for (unsigned s = 0; s < BF_INMSG_PADS; s++)
    if (c->pads[s].dev) libevdev_uinput_destroy(c->pads[s].dev);
  free(c);
}

int bf_inject_uinput_probe(char *why, size_t cap) {
  const char *path = "/dev/uinput";
  if (access(path, F_OK) != 0 && access("/dev/input/uinput", F_OK) == 0) path = "/dev/input/uinput";
  if (access(path, F_OK) != 0) {
    snprintf(why, cap, "/dev/uinput is missing (this kernel has no uinput: modprobe uinput)");
    return -ENOENT;
  }
  if (access(path, W_OK) != 0) {
    int e = errno;
    snprintf(why, cap,
             "%s is not writable for this user (%s; add a udev rule or the group that "
             "owns it)",
             path, strerror(e));
    return -e;
  }
  return 0;
}

int bf_inject_uinput_open(unsigned classes, bf_inject *out, char *err, size_t cap) {
  memset(out, 0, sizeof *out);
  int r = bf_inject_uinput_probe(err, cap);
  if (r < 0) return r;
  uinput_ctx *c = calloc(1, sizeof *c);
  if (!c) return -ENOMEM;
  c->classes = classes;
  if ((classes & BF_INCLASS_KEYBOARD) && (r = open_kbd(c)) < 0) goto fail;
  if ((classes & BF_INCLASS_MOUSE) && (r = open_mice(c)) < 0) goto fail;
  *out = (bf_inject){"uinput", classes,      c,          u_key, u_button, u_motion, u_abs, u_wheel,
                     u_pad,    u_pad_button, u_pad_axes, NULL,  u_rumble, u_close};
  return 0;
fail:
  snprintf(err, cap, "cannot make the uinput devices: %s", strerror(-r));
  u_close(c);
  return r;
}
