/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Keys by their USB HID usage (keyboard page 7: the client sends SDL
 * scancodes, which are these usages) to what the sender's injection
 * backends need: the Linux input event code (uinput) and the XKB key name
 * (XTest: the display's own keymap says which keycode has that name, so the
 * key is the same physical key whatever the layout; AZERTY and QWERTZ work
 * because the sender's keymap turns it into a character, not the client's).
 *
 * Pure tables: no I/O.
 */
#ifndef BF_SENDER_INPUT_KEYS_H
#define BF_SENDER_INPUT_KEYS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bf_hid_key {
  uint16_t evdev; /* KEY_* of linux/input-event-codes.h, 0 = none */
  char xkb[5];    /* XKB key name ("AC01"), "" = none */
} bf_hid_key;

/* The key of HID usage |usage|, or NULL when it has none (reserved usages,
 * the error codes 1..3, usages above 0xE7 and the few this table leaves
 * out). */
const bf_hid_key *bf_hid_key_of(uint16_t usage);

/* How many usages have a key (for tests). */
unsigned bf_hid_key_count(void);

#ifdef __cplusplus
}
#endif

#endif /* BF_SENDER_INPUT_KEYS_H */
