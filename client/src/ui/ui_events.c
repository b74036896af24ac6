/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * SDL events into UI actions and input events: see ui_events.h.
 */
#include "ui_events.h"

#include <SDL.h>

#include <stdio.h>
#include <string.h>

_Static_assert(sizeof(((bf_ui_events *)0)->text) == sizeof(((SDL_TextInputEvent *)0)->text),
               "BF_UI_TEXT_BYTES is SDL's text size");
_Static_assert(sizeof(((bf_ui_events *)0)->hotkey_down) * 8 == SDL_NUM_SCANCODES,
               "one bit per SDL scancode");

void bf_ui_events_init(bf_ui_events *ev) {
  memset(ev, 0, sizeof *ev);
}

void bf_ui_events_free(bf_ui_events *ev) {
  for (size_t i = 0; i < BF_UI_PADS; i++)
    if (ev->pads[i]) SDL_GameControllerClose(ev->pads[i]);
  memset(ev->pads, 0, sizeof ev->pads);
}

const char *bf_ui_events_text(const bf_ui_events *ev) {
  return ev->text;
}

int bf_ui_events_input(bf_ui_events *ev, bf_input_event *out) {
  if (!ev->n) return 0;
  *out = ev->q[ev->head];
  ev->head = (ev->head + 1) % BF_INPUT_QUEUE;
  ev->n--;
  return 1;
}

/* A new input event of |kind| at the queue's tail, or NULL (full: counted). */
static bf_input_event *push(bf_ui_events *ev, bf_input_kind kind, uint32_t time_ms) {
  if (ev->n == BF_INPUT_QUEUE) {
    ev->input_dropped++;
    return NULL;
  }
  bf_input_event *e = &ev->q[(ev->head + ev->n++) % BF_INPUT_QUEUE];
  memset(e, 0, sizeof *e);
  e->kind = kind;
  e->time_ms = time_ms;
  return e;
}

static int hotkey_held(const bf_ui_events *ev, SDL_Scancode sc) {
  return (unsigned)sc < SDL_NUM_SCANCODES && (ev->hotkey_down[sc / 8] >> (sc % 8)) & 1;
}

static void hotkey_mark(bf_ui_events *ev, SDL_Scancode sc, int down) {
  if ((unsigned)sc >= SDL_NUM_SCANCODES) return;
  uint8_t bit = (uint8_t)(1u << (sc % 8));
  ev->hotkey_down[sc / 8] =
      (uint8_t)(down ? ev->hotkey_down[sc / 8] | bit : ev->hotkey_down[sc / 8] & ~bit);
}

/* Ctrl+Alt+Shift+Q/S/X/U/M/Z pressed (not a repeat): the action, else BF_UI_NONE. */
static bf_ui_action hotkey(const SDL_KeyboardEvent *k) {
  Uint16 m = k->keysym.mod;
  if (k->repeat || !(m & KMOD_CTRL) || !(m & KMOD_ALT) || !(m & KMOD_SHIFT)) return BF_UI_NONE;
  switch (k->keysym.sym) {
  case SDLK_q:
    return BF_UI_QUIT;
  case SDLK_s:
    return BF_UI_OVERLAY;
  case SDLK_x:
    return BF_UI_FULLSCREEN;
  case SDLK_u:
    return BF_UI_MUTE;
  case SDLK_m:
    return BF_UI_MOUSE_MODE;
  case SDLK_z:
    return BF_UI_RELEASE;
  default:
    return BF_UI_NONE;
  }
}

/* Return, Backspace, Esc, Tab without Ctrl, Alt or GUI: the typing actions. */
static bf_ui_action typing(const SDL_KeyboardEvent *k) {
  if (k->keysym.mod & (KMOD_CTRL | KMOD_ALT | KMOD_GUI)) return BF_UI_NONE;
  switch (k->keysym.sym) {
  case SDLK_RETURN:
  case SDLK_KP_ENTER:
    return k->repeat ? BF_UI_NONE : BF_UI_ENTER;
  case SDLK_BACKSPACE:
    return BF_UI_BACKSPACE; /* held: repeats */
  case SDLK_ESCAPE:
    return k->repeat ? BF_UI_NONE : BF_UI_CANCEL;
  case SDLK_TAB:
    return k->repeat ? BF_UI_NONE : BF_UI_TAB;
  default:
    return BF_UI_NONE;
  }
}

static bf_ui_action on_key(bf_ui_events *ev, const SDL_KeyboardEvent *k) {
  SDL_Scancode sc = k->keysym.scancode;
  int down = k->state == SDL_PRESSED;
  bf_ui_action a = BF_UI_NONE;
  if (down) {
    a = hotkey(k);
    if (a != BF_UI_NONE) {
      hotkey_mark(ev, sc, 1); /* its repeats and its up stay here too */
      return a;
    }
    if (k->repeat && hotkey_held(ev, sc)) return BF_UI_NONE;
    hotkey_mark(ev, sc, 0); /* a new press (its up was lost): the hotkey is over */
    a = typing(k);
  } else if (hotkey_held(ev, sc)) {
    hotkey_mark(ev, sc, 0);
    return BF_UI_NONE;
  }
  bf_input_event *e = push(ev, BF_INPUT_KEY, k->timestamp);
  if (e) {
    e->u.key.scancode = (uint16_t)sc;
    e->u.key.mods = k->keysym.mod;
    e->u.key.down = (uint8_t)down;
    e->u.key.repeat = k->repeat ? 1 : 0;
  }
  return a;
}

static void on_mouse(bf_ui_events *ev, const SDL_Event *s) {
  bf_input_event *e;
  switch (s->type) {
  case SDL_MOUSEMOTION:
    if ((e = push(ev, BF_INPUT_MOUSE_MOTION, s->motion.timestamp))) {
      e->u.motion.x = s->motion.x;
      e->u.motion.y = s->motion.y;
      e->u.motion.dx = s->motion.xrel;
      e->u.motion.dy = s->motion.yrel;
    }
    break;
  case SDL_MOUSEBUTTONDOWN:
  case SDL_MOUSEBUTTONUP:
    if ((e = push(ev, BF_INPUT_MOUSE_BUTTON, s->button.timestamp))) {
      e->u.button.button = s->button.button;
      e->u.button.down = s->button.state == SDL_PRESSED;
      e->u.button.clicks = s->button.clicks;
      e->u.button.x = s->button.x;
      e->u.button.y = s->button.y;
    }
    break;
  case SDL_MOUSEWHEEL:
    if ((e = push(ev, BF_INPUT_MOUSE_WHEEL, s->wheel.timestamp))) {
      float sign = s->wheel.direction == SDL_MOUSEWHEEL_FLIPPED ? -1.0f : 1.0f;
      e->u.wheel.x = sign * s->wheel.preciseX;
      e->u.wheel.y = sign * s->wheel.preciseY;
    }
    break;
  default:
    break;
  }
}

/* An added controller is opened (so its buttons and axes come), a removed one
 * closed. */
static void pad_added(bf_ui_events *ev, const SDL_ControllerDeviceEvent *d) {
  bf_input_event *e = push(ev, BF_INPUT_PAD_ADDED, d->timestamp);
  int32_t id = -1;
  for (size_t i = 0; i < BF_UI_PADS; i++) {
    if (ev->pads[i]) continue;
    SDL_GameController *gc = SDL_GameControllerOpen(d->which);
    if (gc) {
      ev->pads[i] = gc;
      id = SDL_JoystickInstanceID(SDL_GameControllerGetJoystick(gc));
    }
    break;
  }
  if (e) {
    e->u.pad.pad = id;
    e->u.pad.device_index = d->which;
  }
}

static void pad_removed(bf_ui_events *ev, const SDL_ControllerDeviceEvent *d) {
  for (size_t i = 0; i < BF_UI_PADS; i++) {
    SDL_GameController *gc = ev->pads[i];
    if (gc && SDL_JoystickInstanceID(SDL_GameControllerGetJoystick(gc)) == d->which) {
      SDL_GameControllerClose(gc);
      ev->pads[i] = NULL;
    }
  }
  bf_input_event *e = push(ev, BF_INPUT_PAD_REMOVED, d->timestamp);
  if (e) {
    e->u.pad.pad = d->which;
    e->u.pad.device_index = -1;
  }
}

static void on_pad(bf_ui_events *ev, const SDL_Event *s) {
  bf_input_event *e;
  switch (s->type) {
  case SDL_CONTROLLERBUTTONDOWN:
  case SDL_CONTROLLERBUTTONUP:
    if ((e = push(ev, BF_INPUT_PAD_BUTTON, s->cbutton.timestamp))) {
      e->u.pad_button.pad = s->cbutton.which;
      e->u.pad_button.button = s->cbutton.button;
      e->u.pad_button.down = s->cbutton.state == SDL_PRESSED;
    }
    break;
  case SDL_CONTROLLERAXISMOTION:
    if ((e = push(ev, BF_INPUT_PAD_AXIS, s->caxis.timestamp))) {
      e->u.pad_axis.pad = s->caxis.which;
      e->u.pad_axis.axis = s->caxis.axis;
      e->u.pad_axis.value = s->caxis.value;
    }
    break;
  case SDL_CONTROLLERDEVICEADDED:
    pad_added(ev, &s->cdevice);
    break;
  case SDL_CONTROLLERDEVICEREMOVED:
    pad_removed(ev, &s->cdevice);
    break;
  default:
    break;
  }
}

static bf_ui_action on_window(bf_ui_events *ev, const SDL_WindowEvent *w) {
  switch (w->event) {
  case SDL_WINDOWEVENT_CLOSE:
    return BF_UI_QUIT;
  case SDL_WINDOWEVENT_SIZE_CHANGED:
  case SDL_WINDOWEVENT_EXPOSED:
  case SDL_WINDOWEVENT_RESTORED:
  case SDL_WINDOWEVENT_SHOWN:
    return BF_UI_REDRAW;
  case SDL_WINDOWEVENT_FOCUS_LOST:
    push(ev, BF_INPUT_FOCUS_LOST, w->timestamp);
    return BF_UI_NONE;
  default:
    return BF_UI_NONE;
  }
}

int bf_ui_events_poll(bf_ui_events *ev, bf_ui_action *a) {
  SDL_Event s;
  *a = BF_UI_NONE;
  if (!SDL_PollEvent(&s)) return 0;
  switch (s.type) {
  case SDL_QUIT:
    *a = BF_UI_QUIT;
    break;
  case SDL_WINDOWEVENT:
    *a = on_window(ev, &s.window);
    break;
  case SDL_TEXTINPUT:
    snprintf(ev->text, sizeof ev->text, "%s", s.text.text);
    *a = BF_UI_TEXT;
    break;
  case SDL_KEYDOWN:
  case SDL_KEYUP:
    *a = on_key(ev, &s.key);
    break;
  case SDL_MOUSEMOTION:
  case SDL_MOUSEBUTTONDOWN:
  case SDL_MOUSEBUTTONUP:
  case SDL_MOUSEWHEEL:
    on_mouse(ev, &s);
    break;
  case SDL_CONTROLLERBUTTONDOWN:
  case SDL_CONTROLLERBUTTONUP:
  case SDL_CONTROLLERAXISMOTION:
  case SDL_CONTROLLERDEVICEADDED:
  case SDL_CONTROLLERDEVICEREMOVED:
    on_pad(ev, &s);
    break;
  default:
    break;
  }
  return 1;
}
