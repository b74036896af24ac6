/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The testsrc source's input echo: an injection backend (input_backend.h)
 * that keeps what it was given — the pointer, the keys and mouse buttons
 * held, the wheel, the pads' buttons and axes — and draws it over each
 * test-pattern picture: a cross at the pointer, text lines above the
 * bottom edge, and the input band (strip.h) with the last input event and
 * snapshot applied before the capture. So a client (or a test, or a person)
 * sees its input come back in the picture, and the band says exactly which
 * input a picture reflects. It rumbles each pad by its triggers (left:
 * the heavy motor, right: the light one; 0..32767 -> 0..65534), a stand-in
 * for a game, so rumble goes back to the client without a game.
 *
 * Memory: the caller's struct; nothing allocated. One thread.
 */
#ifndef BF_SENDER_INPUT_ECHO_H
#define BF_SENDER_INPUT_ECHO_H

#include "input_backend.h"
#include "strip.h"

#include <libavutil/frame.h>

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bf_echo {
  unsigned w, h;            /* the picture */
  int32_t px, py;           /* the pointer, picture pixels */
  uint8_t keys[32];         /* held, bit per HID usage */
  uint8_t buttons;          /* held, bit per mouse button 1..5 */
  int32_t wheel_v, wheel_h; /* in 1/120 notch, since the start */
  uint8_t pads;             /* connected, bit per slot */
  uint32_t pad_buttons[BF_INMSG_PADS];
  int16_t axes[BF_INMSG_PADS][BF_INMSG_AXES];
  uint16_t rumble[BF_INMSG_PADS][2];
  int rumble_changed;
  bf_strip_input band; /* what the next picture's band says (the input stage sets it) */
} bf_echo;

/* An echo for |w| x |h| pictures, the pointer in the middle. */
void bf_echo_init(bf_echo *e, unsigned w, unsigned h);
/* The backend over |e| (borrowed; it outlives the backend). */
void bf_echo_inject(bf_echo *e, bf_inject *out);
/* Draws |e| over picture |f| (yuv420p at the echo's size): the testsrc
 * source's drawer (bf_source_set_overlay). */
void bf_echo_draw(void *e, AVFrame *f);

#ifdef __cplusplus
}
#endif

#endif /* BF_SENDER_INPUT_ECHO_H */
