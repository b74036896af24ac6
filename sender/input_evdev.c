/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Input events for uinput: see input_evdev.h.
 */
#include "input_evdev.h"

#include "input_keys.h"

#include <linux/input-event-codes.h>

static size_t put(bf_evdev_ev *out, size_t n, uint16_t type, uint16_t code, int32_t value) {
  out[n] = (bf_evdev_ev){type, code, value};
  return n + 1;
}

static size_t syn(bf_evdev_ev *out, size_t n) {
  return n ? put(out, n, EV_SYN, SYN_REPORT, 0) : 0;
}

size_t bf_evdev_key(uint16_t usage, int down, bf_evdev_ev *out) {
  const bf_hid_key *k = bf_hid_key_of(usage);
  if (!k) return 0;
  return syn(out, put(out, 0, EV_KEY, k->evdev, down ? 1 : 0));
}

static const uint16_t mouse_buttons[6] = {0, BTN_LEFT, BTN_MIDDLE, BTN_RIGHT, BTN_SIDE, BTN_EXTRA};

size_t bf_evdev_button(uint8_t button, int down, bf_evdev_ev *out) {
  if (button < 1 || button > 5) return 0;
  return syn(out, put(out, 0, EV_KEY, mouse_buttons[button], down ? 1 : 0));
}

size_t bf_evdev_motion(int32_t dx, int32_t dy, bf_evdev_ev *out) {
  size_t n = 0;
  if (dx) n = put(out, n, EV_REL, REL_X, dx);
  if (dy) n = put(out, n, EV_REL, REL_Y, dy);
  return syn(out, n);
}

size_t bf_evdev_wheel_step(bf_evdev_wheel *acc, int32_t v, int32_t h, bf_evdev_ev *out) {
  size_t n = 0;
  if (v) n = put(out, n, EV_REL, REL_WHEEL_HI_RES, v);
  if (h) n = put(out, n, EV_REL, REL_HWHEEL_HI_RES, h);
  acc->v += v;
  acc->h += h;
  int32_t nv = acc->v / 120, nh = acc->h / 120; /* whole notches, toward zero */
  if (nv) n = put(out, n, EV_REL, REL_WHEEL, nv);
  if (nh) n = put(out, n, EV_REL, REL_HWHEEL, nh);
  acc->v -= nv * 120;
  acc->h -= nh * 120;
  return syn(out, n);
}

static int32_t scale(uint16_t p, uint16_t size) {
  return (int32_t)(((2u * p + 1u) * (uint64_t)BF_EVDEV_ABS_MAX) / (2u * size));
}

size_t bf_evdev_abs(uint16_t x, uint16_t y, uint16_t w, uint16_t h, bf_evdev_ev *out) {
  if (!w || !h || x >= w || y >= h) return 0;
  size_t n = put(out, 0, EV_ABS, ABS_X, scale(x, w));
  n = put(out, n, EV_ABS, ABS_Y, scale(y, h));
  return syn(out, n);
}

/* BF_PAD_* -> BTN_*, 0 for the d-pad (a hat) */
static const uint16_t pad_codes[BF_PAD_BUTTONS] = {
    [BF_PAD_A] = BTN_SOUTH,
    [BF_PAD_B] = BTN_EAST,
    [BF_PAD_X] = BTN_NORTH,
    [BF_PAD_Y] = BTN_WEST,
    [BF_PAD_BACK] = BTN_SELECT,
    [BF_PAD_GUIDE] = BTN_MODE,
    [BF_PAD_START] = BTN_START,
    [BF_PAD_LSTICK] = BTN_THUMBL,
    [BF_PAD_RSTICK] = BTN_THUMBR,
    [BF_PAD_LSHOULDER] = BTN_TL,
    [BF_PAD_RSHOULDER] = BTN_TR,
    [BF_PAD_MISC1] = BTN_TRIGGER_HAPPY1,
    [BF_PAD_PADDLE1] = BTN_TRIGGER_HAPPY2,
    [BF_PAD_PADDLE2] = BTN_TRIGGER_HAPPY3,
    [BF_PAD_PADDLE3] = BTN_TRIGGER_HAPPY4,
    [BF_PAD_PADDLE4] = BTN_TRIGGER_HAPPY5,
    [BF_PAD_TOUCHPAD] = BTN_TRIGGER_HAPPY6,
};

size_t bf_evdev_pad_codes(uint16_t *codes) {
  size_t n = 0;
  for (unsigned b = 0; b < BF_PAD_BUTTONS; b++)
    if (pad_codes[b]) codes[n++] = pad_codes[b];
  return n;
}

size_t bf_evdev_pad_button(uint8_t button, int down, uint32_t *dpad, bf_evdev_ev *out) {
  if (button >= BF_PAD_BUTTONS) return 0;
  if (pad_codes[button]) return syn(out, put(out, 0, EV_KEY, pad_codes[button], down ? 1 : 0));
  uint32_t bit = 1u << button;
  *dpad = down ? *dpad | bit : *dpad & ~bit;
  int x = (*dpad >> BF_PAD_DPAD_RIGHT & 1) - (*dpad >> BF_PAD_DPAD_LEFT & 1);
  int y = (*dpad >> BF_PAD_DPAD_DOWN & 1) - (*dpad >> BF_PAD_DPAD_UP & 1);
  int vertical = button == BF_PAD_DPAD_UP || button == BF_PAD_DPAD_DOWN;
  return syn(out, put(out, 0, EV_ABS, vertical ? ABS_HAT0Y : ABS_HAT0X, vertical ? y : x));
}

size_t bf_evdev_pad_axes(const int16_t now[BF_INMSG_AXES], const int16_t before[BF_INMSG_AXES],
                         bf_evdev_ev *out) {
  static const uint16_t code[BF_INMSG_AXES] = {ABS_X, ABS_Y, ABS_RX, ABS_RY, ABS_Z, ABS_RZ};
  size_t n = 0;
  for (unsigned a = 0; a < BF_INMSG_AXES; a++) {
    if (now[a] == before[a]) continue;
    int32_t v = now[a];
    if (a >= BF_AXIS_LT) /* triggers 0..32767 -> 0..255 */
      v = v <= 0 ? 0 : (v * BF_EVDEV_TRIGGER_MAX + 16383) / 32767;
    n = put(out, n, EV_ABS, code[a], v);
  }
  return syn(out, n);
}
