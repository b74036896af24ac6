/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The Linux input events the uinput backend writes (input_uinput.c), made
 * here without a device so every encoding is unit-tested
 * (tests/sender/test_input_evdev.c): what a key, a button, motion, a wheel
 * step, an absolute position, a pad button or a pad's axes become, each run
 * ended by SYN_REPORT. Writing them to /dev/uinput, the devices' creation
 * and force feedback need a real device and live in input_uinput.c.
 *
 * Devices (input_uinput.c creates them with these capabilities):
 *   keyboard  EV_KEY: every KEY_* of input_keys.h
 *   mouse     EV_REL X, Y, WHEEL, HWHEEL, WHEEL_HI_RES, HWHEEL_HI_RES;
 *             EV_KEY BTN_LEFT, RIGHT, MIDDLE, SIDE (back), EXTRA (forward)
 *   pointer   EV_ABS X, Y 0..BF_EVDEV_ABS_MAX; the same buttons
 *   pad       an Xbox 360 pad as the kernel's xpad driver presents it
 *             (045e:028e, so games and SDL know its layout): A BTN_SOUTH,
 *             B BTN_EAST, X BTN_NORTH, Y BTN_WEST, shoulders BTN_TL/TR,
 *             back/guide/start BTN_SELECT/MODE/START, sticks BTN_THUMBL/R,
 *             the d-pad as ABS_HAT0X/Y (-1..1), the rest (misc, paddles,
 *             touchpad) as BTN_TRIGGER_HAPPY1..6; sticks ABS_X, Y, RX, RY
 *             -32768..32767 (y down), triggers ABS_Z, RZ 0..255; FF_RUMBLE
 *
 * Pure: no I/O.
 */
#ifndef BF_SENDER_INPUT_EVDEV_H
#define BF_SENDER_INPUT_EVDEV_H

#include <bildfunk/inputmsg.h>

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BF_EVDEV_ABS_MAX 65535 /* the pointer's absolute range */
#define BF_EVDEV_MAX 16        /* events one call makes at most */
#define BF_EVDEV_TRIGGER_MAX 255

typedef struct bf_evdev_ev {
  uint16_t type, code;
  int32_t value;
} bf_evdev_ev;

/* Wheel remainders: whole notches go out as REL_WHEEL / REL_HWHEEL too. */
typedef struct bf_evdev_wheel {
  int32_t v, h;
} bf_evdev_wheel;

/* Each returns how many events it wrote into |out| (BF_EVDEV_MAX fit), 0
 * when there is nothing to write (a usage without a key, a zero move). */
size_t bf_evdev_key(uint16_t usage, int down, bf_evdev_ev *out);
size_t bf_evdev_button(uint8_t button, int down, bf_evdev_ev *out);
size_t bf_evdev_motion(int32_t dx, int32_t dy, bf_evdev_ev *out);
size_t bf_evdev_wheel_step(bf_evdev_wheel *acc, int32_t v120, int32_t h120, bf_evdev_ev *out);
/* |x|, |y| of a |w| x |h| picture, scaled to 0..BF_EVDEV_ABS_MAX (pixel centres). */
size_t bf_evdev_abs(uint16_t x, uint16_t y, uint16_t w, uint16_t h, bf_evdev_ev *out);
/* |dpad| keeps which d-pad buttons are down (bit per BF_PAD_DPAD_*). */
size_t bf_evdev_pad_button(uint8_t button, int down, uint32_t *dpad, bf_evdev_ev *out);
/* The axes of |now| that differ from |before|. */
size_t bf_evdev_pad_axes(const int16_t now[BF_INMSG_AXES], const int16_t before[BF_INMSG_AXES],
                         bf_evdev_ev *out);
/* The pad's button codes (for the device's capabilities): fills |codes|
 * (BF_PAD_BUTTONS entries, 0 for the d-pad ones) and returns how many. */
size_t bf_evdev_pad_codes(uint16_t *codes);

#ifdef __cplusplus
}
#endif

#endif /* BF_SENDER_INPUT_EVDEV_H */
