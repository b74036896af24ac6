/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The window's events, taken from SDL and turned into two things:
 *
 *   UI actions   what the client itself does: quit (window closed,
 *                Ctrl+Alt+Shift+Q), next overlay level (+S), fullscreen (+X),
 *                mouse mode (+M), release the captured pointer (+Z),
 *                redraw (resized, exposed), and typing for the setup screens
 *                (text, Enter, Backspace, Esc).
 *   input events the raw keyboard (SDL scancode, down/up, repeat, modifiers),
 *                mouse (motion in window coordinates with relative deltas,
 *                buttons, wheel with SDL's precise values), game controllers
 *                (button, axis, added, removed) and the window losing focus:
 *                what input forwarding will send to the sender. Plain values,
 *                no SDL types.
 *
 * A hotkey (Ctrl+Alt+Shift+S/X/Q/U/M/Z) stays local: its key's down, repeats and up
 * are never input events (the modifiers held for it are). Typing keys
 * (Enter, Backspace, Esc) are both a UI action and an input event.
 *
 * Not here: acting on the actions (the loop toggles fullscreen and hands the
 * rest to the running phase), drawing (display.h), sending input (the loop
 * hands the input events to the running phase; the streaming phase's input
 * stage, input/forward.h, sends them).
 *
 * Queue: the input events wait in a ring of BF_INPUT_QUEUE in the caller's
 * bf_ui_events until bf_ui_events_input() takes them; full, the newest is
 * dropped and counted (|input_dropped|). The loop drains it every turn, so
 * it holds one turn's events (latency: none beyond the turn).
 *
 * Game controllers: their events come once SDL's game controller subsystem
 * is initialised (input/gamepads.h); an added controller is opened
 * here, so its buttons and axes arrive, and closed when removed.
 *
 * Threads: SDL's event thread rule: the thread that opened the display.
 */
#ifndef BF_CLIENT_UI_EVENTS_H
#define BF_CLIENT_UI_EVENTS_H

#include <stddef.h>
#include <stdint.h>

typedef enum bf_ui_action {
  BF_UI_NONE = 0,
  BF_UI_QUIT,       /* window closed or Ctrl+Alt+Shift+Q */
  BF_UI_OVERLAY,    /* Ctrl+Alt+Shift+S: next overlay level */
  BF_UI_FULLSCREEN, /* Ctrl+Alt+Shift+X: toggle fullscreen */
  BF_UI_MUTE,       /* Ctrl+Alt+Shift+U: sound off / on (A is left to the game) */
  BF_UI_MOUSE_MODE, /* Ctrl+Alt+Shift+M: relative <-> absolute mouse */
  BF_UI_RELEASE,    /* Ctrl+Alt+Shift+Z: release the captured pointer */
  BF_UI_REDRAW,     /* resized / exposed: present again */
  /* typing (the setup screens; ignored while streaming) */
  BF_UI_TEXT,      /* text typed: bf_ui_events_text() */
  BF_UI_ENTER,     /* Return or keypad Enter */
  BF_UI_BACKSPACE, /* Backspace */
  BF_UI_CANCEL,    /* Esc */
  BF_UI_TAB,       /* Tab: the next sender on the LAN (the sender prompt) */
} bf_ui_action;

typedef enum bf_input_kind {
  BF_INPUT_KEY = 1,      /* u.key */
  BF_INPUT_MOUSE_MOTION, /* u.motion */
  BF_INPUT_MOUSE_BUTTON, /* u.button */
  BF_INPUT_MOUSE_WHEEL,  /* u.wheel */
  BF_INPUT_PAD_BUTTON,   /* u.pad_button */
  BF_INPUT_PAD_AXIS,     /* u.pad_axis */
  BF_INPUT_PAD_ADDED,    /* u.pad */
  BF_INPUT_PAD_REMOVED,  /* u.pad */
  BF_INPUT_FOCUS_LOST,   /* no payload: release what is held */
} bf_input_kind;

/* Mouse buttons, numbered as SDL numbers them. */
typedef enum bf_mouse_button {
  BF_MOUSE_LEFT = 1,
  BF_MOUSE_MIDDLE = 2,
  BF_MOUSE_RIGHT = 3,
  BF_MOUSE_X1 = 4,
  BF_MOUSE_X2 = 5,
} bf_mouse_button;

typedef struct bf_input_event {
  bf_input_kind kind;
  uint32_t time_ms; /* the window system's time of the event (SDL ticks, ms) */
  union {
    struct {
      uint16_t scancode; /* SDL_Scancode (USB HID usage page 7 numbering) */
      uint16_t mods;     /* SDL_Keymod bits held (KMOD_LSHIFT 0x1 ...) */
      uint8_t down;      /* 1 pressed, 0 released */
      uint8_t repeat;    /* 1 for the keyboard's auto-repeat */
    } key;
    struct {
      int32_t x, y;   /* window coordinates (points) */
      int32_t dx, dy; /* relative to the last motion */
    } motion;
    struct {
      uint8_t button; /* bf_mouse_button */
      uint8_t down;
      uint8_t clicks; /* 1 single, 2 double, ... */
      int32_t x, y;
    } button;
    struct {
      float x, y; /* precise scroll amounts, positive right / away from the
                     user (flipped direction already undone) */
    } wheel;
    struct {
      int32_t pad;    /* controller instance id */
      uint8_t button; /* SDL_GameControllerButton */
      uint8_t down;
    } pad_button;
    struct {
      int32_t pad;
      uint8_t axis; /* SDL_GameControllerAxis */
      int16_t value;
    } pad_axis;
    struct {
      int32_t pad;          /* instance id (-1: added, but it could not be opened) */
      int32_t device_index; /* added: SDL's device index; removed: -1 */
    } pad;
  } u;
} bf_input_event;

#define BF_INPUT_QUEUE 256u
#define BF_UI_PADS 8u
#define BF_UI_TEXT_BYTES 32u /* SDL_TEXTINPUTEVENT_TEXT_SIZE */

typedef struct bf_ui_events {
  bf_input_event q[BF_INPUT_QUEUE];
  size_t head, n;
  uint64_t input_dropped; /* the queue was full */
  char text[BF_UI_TEXT_BYTES];
  uint8_t hotkey_down[64]; /* bit per SDL scancode 0..511: its down was a hotkey */
  void *pads[BF_UI_PADS];  /* opened SDL_GameController, NULL = free slot */
} bf_ui_events;

void bf_ui_events_init(bf_ui_events *ev);
/* Closes the game controllers opened here. */
void bf_ui_events_free(bf_ui_events *ev);

/* Takes one pending window event without waiting (SDL_PollEvent): returns 1
 * and sets |a| (BF_UI_NONE for events that need no action; input events go
 * to the queue), or 0 when none is pending. */
int bf_ui_events_poll(bf_ui_events *ev, bf_ui_action *a);

/* After BF_UI_TEXT: the text typed (UTF-8, as the keyboard layout and input
 * method give it), valid until the next bf_ui_events_poll(). */
const char *bf_ui_events_text(const bf_ui_events *ev);

/* Takes the oldest queued input event into |out|: 1, or 0 when none. */
int bf_ui_events_input(bf_ui_events *ev, bf_input_event *out);

#endif
