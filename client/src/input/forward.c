/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The client's input stage: see forward.h.
 */
#include "forward.h"

#include <bildfunk/common.h>

#include <SDL.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bf_fwd {
  bf_fwd_config cfg;
  bf_display *display; /* borrowed */
  bf_pump *pump;       /* borrowed */
  bf_inlink_tx tx;
  bf_gamepads pads;
  bf_photon *photon;
  bf_vpad *vpad;          /* --virtual-pad, NULL = none */
  int relative;           /* the mouse mode now */
  int captured;           /* relative: the pointer is held */
  uint8_t swallow;        /* relative: the ups of the capturing clicks (bit per button) */
  int grabbed;            /* the keyboard is grabbed (fullscreen with --capture-system-keys) */
  float wheel_v, wheel_h; /* fractions of 1/120 not sent yet */
  int warned_pads, warned_keys, warned_mouse;
  bf_fwd_stats st;
};

static void say(const bf_fwd *f, const char *msg) {
  if (!f->cfg.quiet) fprintf(stderr, "bildfunk: %s\n", msg);
}

/* SDL_Keymod -> the HID modifier byte. */
static uint8_t hid_mods(uint16_t m) {
  uint8_t h = 0;
  if (m & KMOD_LCTRL) h |= BF_HID_MOD_LCTRL;
  if (m & KMOD_LSHIFT) h |= BF_HID_MOD_LSHIFT;
  if (m & KMOD_LALT) h |= BF_HID_MOD_LALT;
  if (m & KMOD_LGUI) h |= BF_HID_MOD_LGUI;
  if (m & KMOD_RCTRL) h |= BF_HID_MOD_RCTRL;
  if (m & KMOD_RSHIFT) h |= BF_HID_MOD_RSHIFT;
  if (m & KMOD_RALT) h |= BF_HID_MOD_RALT;
  if (m & KMOD_RGUI) h |= BF_HID_MOD_RGUI;
  return h;
}

static void queue(bf_fwd *f, uint8_t kind, uint8_t arg, uint16_t code, uint64_t now) {
  bf_inev e = {kind, arg, code, 0, 0};
  int64_t seq = bf_inlink_tx_event(&f->tx, &e);
  if (seq > 0) bf_photon_event(f->photon, (uint32_t)seq, now);
}

/* The sender does not apply a class: said once. */
static int applied(bf_fwd *f, uint16_t flag, int *warned, const char *what) {
  if (!f->st.sender_flags || (f->st.sender_flags & flag)) return 1;
  if (!*warned) {
    char m[160];
    snprintf(m, sizeof m, "the sender does not apply %s (see its --input and its log)", what);
    say(f, m);
    *warned = 1;
  }
  return 0;
}

static void pointer_mode(bf_fwd *f) {
  bf_pointer_mode m = !f->relative  ? BF_POINTER_HIDDEN
                      : f->captured ? BF_POINTER_CAPTURED
                                    : BF_POINTER_SHOWN;
  if (bf_display_pointer(f->display, m) < 0 && f->captured) {
    f->captured = 0; /* not captured after all: the next click tries again */
    say(f, "mouse: the pointer could not be captured (another program holds it); click again");
    bf_display_pointer(f->display, BF_POINTER_SHOWN);
  }
}

/* The pointer at window point (x, y), absolute mode. */
static void abs_at(bf_fwd *f, int32_t x, int32_t y, uint64_t now) {
  int px, py, pw, ph;
  if (bf_display_to_picture(f->display, x, y, &px, &py, &pw, &ph) < 0) return;
  if (pw > 65535 || ph > 65535) return;
  bf_inlink_tx_abs(&f->tx, (uint16_t)px, (uint16_t)py, (uint16_t)pw, (uint16_t)ph, now);
}

static void take_button(bf_fwd *f, const bf_input_event *e, uint64_t now) {
  uint8_t b = e->u.button.button, bit = (uint8_t)(1u << (b & 7u));
  if (b < 1 || b > 5) return;
  if (f->relative && !f->captured) {
    if (e->u.button.down) { /* the click that captures is not sent */
      f->captured = 1;
      f->swallow |= bit;
      f->st.captures++;
      pointer_mode(f);
    }
    return;
  }
  if (!e->u.button.down && (f->swallow & bit)) {
    f->swallow &= (uint8_t)~bit;
    return;
  }
  if (!f->relative) abs_at(f, e->u.button.x, e->u.button.y, now);
  f->st.buttons++;
  if (applied(f, BF_INSTATE_MOUSE, &f->warned_mouse, "the mouse"))
    queue(f, e->u.button.down ? BF_INEV_BUTTON_DOWN : BF_INEV_BUTTON_UP, 0, b, now);
}

/* Precise wheel steps to whole 1/120 units; the rest waits. */
static void take_wheel(bf_fwd *f, const bf_input_event *e, uint64_t now) {
  f->wheel_v += e->u.wheel.y * 120.0f;
  f->wheel_h += e->u.wheel.x * 120.0f;
  int32_t v = (int32_t)f->wheel_v, h = (int32_t)f->wheel_h;
  f->wheel_v -= (float)v;
  f->wheel_h -= (float)h;
  f->st.wheels++;
  bf_inlink_tx_wheel(&f->tx, v, h, now);
}

static void pad_added(bf_fwd *f, int32_t id, uint64_t now) {
  int slot = bf_gamepads_add(&f->pads, id);
  if (slot < 0) {
    if (id >= 0) say(f, "a fifth game pad: only four are sent");
    return;
  }
  bf_inlink_tx_pad(&f->tx, (unsigned)slot, 1, now);
  SDL_GameController *gc = SDL_GameControllerFromInstanceID(id);
  for (int a = 0; gc && a < (int)BF_INMSG_AXES; a++) /* where its sticks are now */
    bf_inlink_tx_pad_axis(&f->tx, (unsigned)slot, (unsigned)a,
                          SDL_GameControllerGetAxis(gc, (SDL_GameControllerAxis)a), now);
  for (int b = 0; gc && b < SDL_CONTROLLER_BUTTON_MAX; b++) /* held while plugged in */
    if (SDL_GameControllerGetButton(gc, (SDL_GameControllerButton)b))
      queue(f, BF_INEV_PAD_DOWN, (uint8_t)slot, (uint16_t)b, now);
  if (f->vpad && SDL_JoystickInstanceID(f->vpad->joy) == id) bf_vpad_start(f->vpad, now);
}

static void take_pad(bf_fwd *f, const bf_input_event *e, uint64_t now) {
  int slot;
  f->st.pad_events++;
  switch (e->kind) {
  case BF_INPUT_PAD_ADDED:
    pad_added(f, e->u.pad.pad, now);
    break;
  case BF_INPUT_PAD_REMOVED:
    if ((slot = bf_gamepads_remove(&f->pads, e->u.pad.pad)) >= 0)
      bf_inlink_tx_pad(&f->tx, (unsigned)slot, 0, now);
    break;
  case BF_INPUT_PAD_BUTTON:
    slot = bf_gamepads_slot(&f->pads, e->u.pad_button.pad);
    if (slot >= 0 && e->u.pad_button.button < 32 &&
        applied(f, BF_INSTATE_GAMEPAD, &f->warned_pads, "game pads"))
      queue(f, e->u.pad_button.down ? BF_INEV_PAD_DOWN : BF_INEV_PAD_UP, (uint8_t)slot,
            e->u.pad_button.button, now);
    break;
  case BF_INPUT_PAD_AXIS:
    slot = bf_gamepads_slot(&f->pads, e->u.pad_axis.pad);
    if (slot >= 0)
      bf_inlink_tx_pad_axis(&f->tx, (unsigned)slot, e->u.pad_axis.axis, e->u.pad_axis.value, now);
    break;
  default:
    break;
  }
}

static void focus_lost(bf_fwd *f, uint64_t now) {
  bf_inlink_tx_release_all(&f->tx);
  for (unsigned s = 0; s < BF_INMSG_PADS; s++)
    for (unsigned a = 0; a < BF_INMSG_AXES; a++)
      bf_inlink_tx_pad_axis(&f->tx, s, a, 0, now);
  f->st.focus_releases++;
  f->swallow = 0;
  if (f->captured) {
    f->captured = 0;
    pointer_mode(f);
  }
}

void bf_fwd_take(bf_fwd *f, const bf_input_event *e, uint64_t now) {
  switch (e->kind) {
  case BF_INPUT_KEY:
    if (e->u.key.repeat || e->u.key.scancode > 0xFF || e->u.key.scancode < 4) return;
    f->st.keys++;
    if (applied(f, BF_INSTATE_KEYBOARD, &f->warned_keys, "the keyboard"))
      queue(f, e->u.key.down ? BF_INEV_KEY_DOWN : BF_INEV_KEY_UP, hid_mods(e->u.key.mods),
            e->u.key.scancode, now);
    break;
  case BF_INPUT_MOUSE_MOTION:
    f->st.motions++;
    if (!f->relative)
      abs_at(f, e->u.motion.x, e->u.motion.y, now);
    else if (f->captured)
      bf_inlink_tx_motion(&f->tx, e->u.motion.dx, e->u.motion.dy, now);
    break;
  case BF_INPUT_MOUSE_BUTTON:
    take_button(f, e, now);
    break;
  case BF_INPUT_MOUSE_WHEEL:
    if (!f->relative || f->captured) take_wheel(f, e, now);
    break;
  case BF_INPUT_FOCUS_LOST:
    focus_lost(f, now);
    break;
  default:
    take_pad(f, e, now);
    break;
  }
}

void bf_fwd_action(bf_fwd *f, bf_ui_action a) {
  if (a == BF_UI_MOUSE_MODE) {
    f->relative = !f->relative;
    f->captured = 0;
    f->swallow = 0;
    f->st.mode_switches++;
    if (f->relative) bf_inlink_tx_abs(&f->tx, 0, 0, 0, 0, 0); /* no absolute pointer any more */
    say(f, f->relative ? "mouse: relative (click in the window to capture the pointer; "
                         "Ctrl+Alt+Shift+Z lets it go)"
                       : "mouse: absolute");
  } else if (a == BF_UI_RELEASE) {
    if (!f->captured) return;
    f->captured = 0;
    say(f, "mouse: pointer released (click in the window to capture it again)");
  } else {
    return;
  }
  pointer_mode(f);
}

/* The sender's STATE (from the pump, during its receive). */
static void on_state(void *user, const uint8_t *d, size_t len, uint64_t now) {
  bf_fwd *f = user;
  bf_inmsg_state st;
  if (bf_inmsg_state_decode(d, len, &st) < 0) {
    f->st.bad_states++;
    return;
  }
  f->st.states++;
  f->st.sender_flags = st.flags;
  bf_inlink_tx_on_state(&f->tx, &st, now);
  uint32_t seq;
  if (bf_gamepads_rumble(&f->pads, &st, now, &seq)) bf_inlink_tx_rumble_ack(&f->tx, seq);
  int64_t off = 0;
  bf_clocksync_get(bf_pump_clock(f->pump), &off, NULL);
  bf_photon_state(f->photon, &st, off);
}

void bf_fwd_tick(bf_fwd *f, uint64_t now) {
  int fs = f->cfg.capture_system_keys && bf_display_is_fullscreen(f->display);
  if (fs != f->grabbed) {
    bf_display_grab_keyboard(f->display, fs);
    f->grabbed = fs;
  }
  if (f->vpad) {
    bf_vpad_tick(f->vpad, now);
    if (f->vpad->finished == 1) {
      f->vpad->finished = 2;
      say(f, "virtual pad: the script is done");
    }
  }
  uint8_t b[BF_INMSG_MAX_BYTES];
  bf_inlink_sent sent;
  for (int i = 0; i < 4; i++) { /* at most a few at once: the link paces the rest */
    int n = bf_inlink_tx_build(&f->tx, now, b, sizeof b, &sent);
    if (n <= 0) break;
    if (bf_pump_send_input(f->pump, b, (size_t)n) == 1)
      f->st.datagrams++;
    else
      f->st.send_dropped++;
    bf_photon_sent(f->photon, &sent, now);
  }
}

uint64_t bf_fwd_next_due(const bf_fwd *f) {
  uint64_t d = bf_inlink_tx_due(&f->tx);
  uint64_t v = f->vpad ? bf_vpad_next_due(f->vpad) : UINT64_MAX;
  return v < d ? v : d;
}

void bf_fwd_present(bf_fwd *f, uint64_t pts, uint64_t present) {
  bf_photon_present(f->photon, pts, present);
}

int bf_fwd_open(const bf_fwd_config *cfg, bf_display *d, bf_pump *p, bf_fwd **out, char *err,
                size_t cap) {
  *out = NULL;
  bf_fwd *f = calloc(1, sizeof *f);
  if (!f || bf_photon_new(&f->photon) < 0) {
    free(f);
    snprintf(err, cap, "out of memory");
    return -ENOMEM;
  }
  f->cfg = *cfg;
  f->display = d;
  f->pump = p;
  f->relative = cfg->relative;
  bf_inlink_tx_init(&f->tx);
  int r = 0;
  if (cfg->virtual_pad) {
    SDL_SetHint(SDL_HINT_JOYSTICK_ALLOW_BACKGROUND_EVENTS, "1"); /* focus is not the test */
    f->vpad = calloc(1, sizeof *f->vpad);
    if (!f->vpad) r = -ENOMEM;
    if (r == 0) r = bf_vpad_load(f->vpad, cfg->virtual_pad, err, cap);
  }
  if (r == 0) r = bf_gamepads_open(&f->pads, err, cap);
  if (r == 0 && f->vpad) r = bf_vpad_attach(f->vpad, err, cap);
  if (r < 0) {
    bf_fwd_close(&f);
    return r;
  }
  bf_pump_on_input(p, on_state, f);
  pointer_mode(f);
  *out = f;
  return 0;
}

void bf_fwd_new_session(bf_fwd *f) {
  bf_inlink_tx_new_session(&f->tx);
}

void bf_fwd_close(bf_fwd **pf) {
  bf_fwd *f = *pf;
  if (!f) return;
  if (f->pump) bf_pump_on_input(f->pump, NULL, NULL);
  if (f->display) {
    bf_display_pointer(f->display, BF_POINTER_SHOWN);
    if (f->grabbed) bf_display_grab_keyboard(f->display, 0);
  }
  if (f->vpad) bf_vpad_detach(f->vpad);
  free(f->vpad);
  bf_gamepads_close(&f->pads);
  bf_photon_del(&f->photon);
  free(f);
  *pf = NULL;
}

void bf_fwd_stats_get(const bf_fwd *f, bf_fwd_stats *st) {
  *st = f->st;
  st->link = f->tx.st;
}

const bf_photon *bf_fwd_photon(const bf_fwd *f) {
  return f->photon;
}
const bf_gamepads *bf_fwd_pads(const bf_fwd *f) {
  return &f->pads;
}
const bf_vpad *bf_fwd_vpad(const bf_fwd *f) {
  return f->vpad;
}
const char *bf_fwd_mouse_mode(const bf_fwd *f) {
  return !f->relative ? "absolute" : f->captured ? "relative (captured)" : "relative";
}
