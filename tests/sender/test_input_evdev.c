/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The uinput backend's event encoding (input_evdev.h) and the key table
 * (input_keys.h), without a device: what each input becomes on the wire to
 * /dev/uinput. What needs a real /dev/uinput (creating the devices, writing
 * these events, force-feedback uploads) is input_uinput.c, which the
 * machines that run this suite cannot exercise (their kernels have no
 * uinput); this test pins everything it writes.
 */
#include "testutil.h"

#include "input_evdev.h"
#include "input_keys.h"

#include <linux/input-event-codes.h>
#include <string.h>

static void is(const bf_evdev_ev *e, uint16_t type, uint16_t code, int32_t value) {
  assert_int_equal(e->type, type);
  assert_int_equal(e->code, code);
  assert_int_equal(e->value, value);
}

static void test_keys(void **state) {
  (void)state;
  bf_evdev_ev ev[BF_EVDEV_MAX];
  assert_int_equal(bf_evdev_key(0x04, 1, ev), 2); /* a */
  is(&ev[0], EV_KEY, KEY_A, 1);
  is(&ev[1], EV_SYN, SYN_REPORT, 0);
  assert_int_equal(bf_evdev_key(0xE1, 0, ev), 2); /* left shift up */
  is(&ev[0], EV_KEY, KEY_LEFTSHIFT, 0);
  static const struct {
    uint16_t usage, key;
    const char *xkb;
  } pins[] = {
      {0x1D, KEY_Z, "AB01"},       {0x1E, KEY_1, "AE01"},       {0x27, KEY_0, "AE10"},
      {0x28, KEY_ENTER, "RTRN"},   {0x2C, KEY_SPACE, "SPCE"},   {0x35, KEY_GRAVE, "TLDE"},
      {0x38, KEY_SLASH, "AB10"},   {0x3A, KEY_F1, "FK01"},      {0x45, KEY_F12, "FK12"},
      {0x52, KEY_UP, "UP"},        {0x58, KEY_KPENTER, "KPEN"}, {0x64, KEY_102ND, "LSGT"},
      {0x68, KEY_F13, "FK13"},     {0x87, KEY_RO, "AB11"},      {0xE3, KEY_LEFTMETA, "LWIN"},
      {0xE6, KEY_RIGHTALT, "RALT"}};
  for (size_t i = 0; i < sizeof pins / sizeof pins[0]; i++) {
    const bf_hid_key *k = bf_hid_key_of(pins[i].usage);
    assert_non_null(k);
    assert_int_equal(k->evdev, pins[i].key);
    assert_string_equal(k->xkb, pins[i].xkb);
  }
  /* no key: the error codes, reserved, beyond the table */
  assert_null(bf_hid_key_of(0));
  assert_null(bf_hid_key_of(3));
  assert_null(bf_hid_key_of(0xA5));
  assert_null(bf_hid_key_of(0xE8));
  assert_null(bf_hid_key_of(0xFFFF));
  assert_int_equal(bf_evdev_key(0xE8, 1, ev), 0);
  /* every letter, digit and modifier has a key, and no two usages share an
   * evdev code except the two backslash positions (HID 0x31 and 0x32: one
   * key on any keyboard) */
  for (uint16_t u = 0x04; u <= 0x38; u++)
    assert_non_null(bf_hid_key_of(u));
  for (uint16_t u = 0xE0; u <= 0xE7; u++)
    assert_non_null(bf_hid_key_of(u));
  unsigned n = 0;
  for (uint16_t a = 0; a < 0x100; a++)
    for (uint16_t b = (uint16_t)(a + 1); b < 0x100; b++) {
      const bf_hid_key *ka = bf_hid_key_of(a), *kb = bf_hid_key_of(b);
      if (ka && kb && ka->evdev == kb->evdev) {
        assert_int_equal(a, 0x31);
        assert_int_equal(b, 0x32);
        n++;
      }
    }
  assert_int_equal(n, 1);
  assert_int_equal(bf_hid_key_count(), 138);
}

static void test_mouse(void **state) {
  (void)state;
  bf_evdev_ev ev[BF_EVDEV_MAX];
  static const uint16_t b[6] = {0, BTN_LEFT, BTN_MIDDLE, BTN_RIGHT, BTN_SIDE, BTN_EXTRA};
  for (uint8_t i = 1; i <= 5; i++) {
    assert_int_equal(bf_evdev_button(i, 1, ev), 2);
    is(&ev[0], EV_KEY, b[i], 1);
  }
  assert_int_equal(bf_evdev_button(0, 1, ev), 0);
  assert_int_equal(bf_evdev_button(6, 1, ev), 0);
  assert_int_equal(bf_evdev_motion(3, -7, ev), 3);
  is(&ev[0], EV_REL, REL_X, 3);
  is(&ev[1], EV_REL, REL_Y, -7);
  is(&ev[2], EV_SYN, SYN_REPORT, 0);
  assert_int_equal(bf_evdev_motion(0, 5, ev), 2);
  is(&ev[0], EV_REL, REL_Y, 5);
  assert_int_equal(bf_evdev_motion(0, 0, ev), 0);
  /* absolute: pixel centres of a 1920x1080 picture over 0..65535 */
  assert_int_equal(bf_evdev_abs(0, 1079, 1920, 1080, ev), 3);
  is(&ev[0], EV_ABS, ABS_X, 17);
  is(&ev[1], EV_ABS, ABS_Y, 65504);
  assert_int_equal(bf_evdev_abs(960, 540, 1920, 1080, ev), 3);
  is(&ev[0], EV_ABS, ABS_X, 32784);
  assert_int_equal(bf_evdev_abs(1920, 0, 1920, 1080, ev), 0);
  assert_int_equal(bf_evdev_abs(0, 0, 0, 0, ev), 0);
}

static void test_wheel(void **state) {
  (void)state;
  bf_evdev_ev ev[BF_EVDEV_MAX];
  bf_evdev_wheel acc = {0, 0};
  /* half a notch: only the high-resolution event */
  assert_int_equal(bf_evdev_wheel_step(&acc, 60, 0, ev), 2);
  is(&ev[0], EV_REL, REL_WHEEL_HI_RES, 60);
  /* the other half completes a notch */
  assert_int_equal(bf_evdev_wheel_step(&acc, 60, 0, ev), 3);
  is(&ev[0], EV_REL, REL_WHEEL_HI_RES, 60);
  is(&ev[1], EV_REL, REL_WHEEL, 1);
  /* two notches down and one right at once */
  assert_int_equal(bf_evdev_wheel_step(&acc, -240, 120, ev), 5);
  is(&ev[0], EV_REL, REL_WHEEL_HI_RES, -240);
  is(&ev[1], EV_REL, REL_HWHEEL_HI_RES, 120);
  is(&ev[2], EV_REL, REL_WHEEL, -2);
  is(&ev[3], EV_REL, REL_HWHEEL, 1);
  is(&ev[4], EV_SYN, SYN_REPORT, 0);
  assert_int_equal(acc.v, 0);
  assert_int_equal(acc.h, 0);
  assert_int_equal(bf_evdev_wheel_step(&acc, -150, 0, ev), 3);
  assert_int_equal(acc.v, -30);
}

static void test_pad(void **state) {
  (void)state;
  bf_evdev_ev ev[BF_EVDEV_MAX];
  uint32_t dpad = 0;
  static const struct {
    uint8_t b;
    uint16_t code;
  } pins[] = {{BF_PAD_A, BTN_SOUTH},       {BF_PAD_B, BTN_EAST},
              {BF_PAD_X, BTN_NORTH},       {BF_PAD_Y, BTN_WEST},
              {BF_PAD_BACK, BTN_SELECT},   {BF_PAD_GUIDE, BTN_MODE},
              {BF_PAD_START, BTN_START},   {BF_PAD_LSTICK, BTN_THUMBL},
              {BF_PAD_RSTICK, BTN_THUMBR}, {BF_PAD_LSHOULDER, BTN_TL},
              {BF_PAD_RSHOULDER, BTN_TR},  {BF_PAD_TOUCHPAD, BTN_TRIGGER_HAPPY6}};
  for (size_t i = 0; i < sizeof pins / sizeof pins[0]; i++) {
    assert_int_equal(bf_evdev_pad_button(pins[i].b, 1, &dpad, ev), 2);
    is(&ev[0], EV_KEY, pins[i].code, 1);
  }
  uint16_t codes[BF_PAD_BUTTONS];
  assert_int_equal(bf_evdev_pad_codes(codes), BF_PAD_BUTTONS - 4); /* the d-pad is a hat */
  /* the d-pad: a hat, opposite directions cancel */
  assert_int_equal(bf_evdev_pad_button(BF_PAD_DPAD_LEFT, 1, &dpad, ev), 2);
  is(&ev[0], EV_ABS, ABS_HAT0X, -1);
  bf_evdev_pad_button(BF_PAD_DPAD_RIGHT, 1, &dpad, ev);
  is(&ev[0], EV_ABS, ABS_HAT0X, 0);
  bf_evdev_pad_button(BF_PAD_DPAD_LEFT, 0, &dpad, ev);
  is(&ev[0], EV_ABS, ABS_HAT0X, 1);
  bf_evdev_pad_button(BF_PAD_DPAD_UP, 1, &dpad, ev);
  is(&ev[0], EV_ABS, ABS_HAT0Y, -1);
  bf_evdev_pad_button(BF_PAD_DPAD_UP, 0, &dpad, ev);
  is(&ev[0], EV_ABS, ABS_HAT0Y, 0);
  assert_int_equal(bf_evdev_pad_button(BF_PAD_BUTTONS, 1, &dpad, ev), 0);
  /* axes: only what changed; triggers to 0..255 */
  int16_t before[6] = {0, 0, 0, 0, 0, 0}, now[6] = {-32768, 0, 32767, 5, 32767, 128};
  assert_int_equal(bf_evdev_pad_axes(now, before, ev), 6);
  is(&ev[0], EV_ABS, ABS_X, -32768);
  is(&ev[1], EV_ABS, ABS_RX, 32767);
  is(&ev[2], EV_ABS, ABS_RY, 5);
  is(&ev[3], EV_ABS, ABS_Z, 255);
  is(&ev[4], EV_ABS, ABS_RZ, 1);
  is(&ev[5], EV_SYN, SYN_REPORT, 0);
  assert_int_equal(bf_evdev_pad_axes(now, now, ev), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_keys),
      cmocka_unit_test(test_mouse),
      cmocka_unit_test(test_wheel),
      cmocka_unit_test(test_pad),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
