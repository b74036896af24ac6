/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * --virtual-pad FILE: a game pad that is not there. An SDL virtual joystick
 * of the game-controller type (SDL_JoystickAttachVirtualEx) is attached at
 * start and driven by the script in FILE, so the gamepad path (capture,
 * wire, the sender's pad, rumble back) can be checked on a machine without
 * a pad — by a test, or by a user setting up a sender. The pad is like any
 * other to the rest of the client: SDL reports it, the input stage sends
 * it; rumble the sender asks for reaches it and is counted here.
 *
 * Script: one step per line, "MS button NAME 0|1", "MS axis NAME VALUE" or
 * "MS unplug", MS counted from when the client has the pad (its "added"
 * event went through: bf_vpad_start), names as SDL spells them
 * (a, b, x, y, back, guide, start, leftstick, rightstick, leftshoulder,
 * rightshoulder, dpup, dpdown, dpleft, dpright, misc1, paddle1..4,
 * touchpad; leftx, lefty, rightx, righty: -32768..32767; lefttrigger,
 * righttrigger: 0..32767); '#' starts a comment. At most BF_VPAD_STEPS
 * steps, in time order.
 *
 * One thread (SDL's event thread).
 */
#ifndef BF_CLIENT_INPUT_VPAD_H
#define BF_CLIENT_INPUT_VPAD_H

#include <stddef.h>
#include <stdint.h>

#define BF_VPAD_STEPS 256u

typedef struct bf_vpad_step {
  uint32_t at_ms;
  uint8_t kind; /* 'b' button, 'a' axis, 'u' unplug */
  uint8_t index;
  int32_t value;
} bf_vpad_step;

typedef struct bf_vpad {
  bf_vpad_step steps[BF_VPAD_STEPS];
  size_t n, next;
  int device;       /* SDL device index, -1 = none */
  void *joy;        /* SDL_Joystick * */
  uint64_t t0_ns;   /* the script's start, 0 = not started */
  int finished;     /* 1: the last step was played (2: and said) */
  uint64_t rumbles; /* rumble calls that reached the pad with a motor on */
  uint16_t last_low, last_high;
} bf_vpad;

/* Parses the script in |path| (pure: no SDL). 0, or -EINVAL / -errno with
 * the line and the reason in |err|. */
int bf_vpad_load(bf_vpad *v, const char *path, char *err, size_t cap);
/* Attaches the virtual pad (SDL's joystick subsystem must be up). 0 or -EIO
 * with SDL's reason in |err|. */
int bf_vpad_attach(bf_vpad *v, char *err, size_t cap);
/* The client has the pad: the script's clock starts at |now_ns| (once). */
void bf_vpad_start(bf_vpad *v, uint64_t now_ns);
/* Plays the steps due at |now_ns|. */
void bf_vpad_tick(bf_vpad *v, uint64_t now_ns);
/* When the next step is due (UINT64_MAX: none). */
uint64_t bf_vpad_next_due(const bf_vpad *v);
void bf_vpad_detach(bf_vpad *v);

#endif
