/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The window's events (SDL's dummy video driver, synthetic events pushed
 * into SDL's queue): window and typing events become the UI actions they
 * always were, hotkeys (Ctrl+Alt+Shift+S/X/Q/M/Z) stay local (never input events, neither their
 * repeats nor their key-up), keys, mouse, wheel, game controllers and focus loss become plain input
 * events in order, and a full input queue drops the newest and counts it.
 */
#include "testutil.h"

#include "ui/ui_events.h"

#include <SDL.h>

#include <stdlib.h>
#include <string.h>

static int setup(void **state) {
  (void)state;
  setenv("SDL_VIDEODRIVER", "dummy", 1);
  return SDL_Init(SDL_INIT_VIDEO) == 0 ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  SDL_Quit();
  return 0;
}

/* Pushes |e| and polls it back: the action. */
static bf_ui_action feed(bf_ui_events *ev, SDL_Event *e) {
  SDL_FlushEvents(SDL_FIRSTEVENT, SDL_LASTEVENT);
  assert_int_equal(SDL_PushEvent(e), 1);
  bf_ui_action a = (bf_ui_action)-1;
  assert_int_equal(bf_ui_events_poll(ev, &a), 1);
  bf_ui_action none;
  assert_int_equal(bf_ui_events_poll(ev, &none), 0);
  return a;
}

static bf_ui_action key(bf_ui_events *ev, int down, SDL_Scancode sc, SDL_Keycode sym, Uint16 mod,
                        int repeat) {
  SDL_Event e;
  memset(&e, 0, sizeof e);
  e.type = down ? SDL_KEYDOWN : SDL_KEYUP;
  e.key.state = down ? SDL_PRESSED : SDL_RELEASED;
  e.key.repeat = (Uint8)repeat;
  e.key.keysym.scancode = sc;
  e.key.keysym.sym = sym;
  e.key.keysym.mod = mod;
  return feed(ev, &e);
}

static bf_ui_action window(bf_ui_events *ev, SDL_WindowEventID what) {
  SDL_Event e;
  memset(&e, 0, sizeof e);
  e.type = SDL_WINDOWEVENT;
  e.window.event = (Uint8)what;
  return feed(ev, &e);
}

static int inputs(bf_ui_events *ev) {
  return (int)ev->n;
}

static void test_window_and_typing(void **state) {
  (void)state;
  bf_ui_events ev;
  bf_ui_events_init(&ev);
  SDL_Event e;
  memset(&e, 0, sizeof e);
  e.type = SDL_QUIT;
  assert_int_equal(feed(&ev, &e), BF_UI_QUIT);
  assert_int_equal(window(&ev, SDL_WINDOWEVENT_CLOSE), BF_UI_QUIT);
  assert_int_equal(window(&ev, SDL_WINDOWEVENT_SIZE_CHANGED), BF_UI_REDRAW);
  assert_int_equal(window(&ev, SDL_WINDOWEVENT_EXPOSED), BF_UI_REDRAW);
  assert_int_equal(window(&ev, SDL_WINDOWEVENT_RESTORED), BF_UI_REDRAW);
  assert_int_equal(window(&ev, SDL_WINDOWEVENT_SHOWN), BF_UI_REDRAW);
  assert_int_equal(window(&ev, SDL_WINDOWEVENT_MOVED), BF_UI_NONE);
  assert_int_equal(inputs(&ev), 0);

  memset(&e, 0, sizeof e);
  e.type = SDL_TEXTINPUT;
  snprintf(e.text.text, sizeof e.text.text, "%s", "4\xc3\xa4");
  assert_int_equal(feed(&ev, &e), BF_UI_TEXT);
  assert_string_equal(bf_ui_events_text(&ev), "4\xc3\xa4");

  /* Enter, Backspace, Esc: actions without Ctrl/Alt/GUI; a held Enter or Esc
   * is one action, a held Backspace repeats */
  assert_int_equal(key(&ev, 1, SDL_SCANCODE_RETURN, SDLK_RETURN, 0, 0), BF_UI_ENTER);
  assert_int_equal(key(&ev, 1, SDL_SCANCODE_RETURN, SDLK_RETURN, 0, 1), BF_UI_NONE);
  assert_int_equal(key(&ev, 1, SDL_SCANCODE_KP_ENTER, SDLK_KP_ENTER, KMOD_SHIFT, 0), BF_UI_ENTER);
  assert_int_equal(key(&ev, 1, SDL_SCANCODE_BACKSPACE, SDLK_BACKSPACE, 0, 0), BF_UI_BACKSPACE);
  assert_int_equal(key(&ev, 1, SDL_SCANCODE_BACKSPACE, SDLK_BACKSPACE, 0, 1), BF_UI_BACKSPACE);
  assert_int_equal(key(&ev, 1, SDL_SCANCODE_ESCAPE, SDLK_ESCAPE, 0, 0), BF_UI_CANCEL);
  assert_int_equal(key(&ev, 1, SDL_SCANCODE_ESCAPE, SDLK_ESCAPE, 0, 1), BF_UI_NONE);
  assert_int_equal(key(&ev, 1, SDL_SCANCODE_RETURN, SDLK_RETURN, KMOD_LCTRL, 0), BF_UI_NONE);
  assert_int_equal(key(&ev, 1, SDL_SCANCODE_ESCAPE, SDLK_ESCAPE, KMOD_LALT, 0), BF_UI_NONE);
  assert_int_equal(key(&ev, 1, SDL_SCANCODE_RETURN, SDLK_RETURN, KMOD_LGUI, 0), BF_UI_NONE);
  assert_int_equal(key(&ev, 0, SDL_SCANCODE_RETURN, SDLK_RETURN, 0, 0), BF_UI_NONE);
  /* and every one of them is an input event too */
  assert_int_equal(inputs(&ev), 11);
  bf_input_event in;
  assert_int_equal(bf_ui_events_input(&ev, &in), 1);
  assert_int_equal(in.kind, BF_INPUT_KEY);
  assert_true(in.time_ms <= SDL_GetTicks()); /* SDL_PushEvent stamps its own time */
  assert_int_equal(in.u.key.scancode, SDL_SCANCODE_RETURN);
  assert_int_equal(in.u.key.down, 1);
  assert_int_equal(in.u.key.repeat, 0);
  assert_int_equal(bf_ui_events_input(&ev, &in), 1);
  assert_int_equal(in.u.key.repeat, 1);
  assert_int_equal(bf_ui_events_input(&ev, &in), 1);
  assert_int_equal(in.u.key.scancode, SDL_SCANCODE_KP_ENTER);
  assert_int_equal(in.u.key.mods, KMOD_SHIFT);
  bf_ui_events_free(&ev);
}

static void test_hotkeys_stay_local(void **state) {
  (void)state;
  bf_ui_events ev;
  bf_ui_events_init(&ev);
  const Uint16 hot = KMOD_LCTRL | KMOD_LALT | KMOD_LSHIFT;
  assert_int_equal(key(&ev, 1, SDL_SCANCODE_S, SDLK_s, hot, 0), BF_UI_OVERLAY);
  assert_int_equal(key(&ev, 1, SDL_SCANCODE_S, SDLK_s, hot, 1), BF_UI_NONE);
  assert_int_equal(key(&ev, 0, SDL_SCANCODE_S, SDLK_s, hot, 0), BF_UI_NONE);
  assert_int_equal(key(&ev, 1, SDL_SCANCODE_X, SDLK_x, KMOD_RCTRL | KMOD_RALT | KMOD_RSHIFT, 0),
                   BF_UI_FULLSCREEN);
  /* the modifiers were let go first: the X's up is still the hotkey's */
  assert_int_equal(key(&ev, 0, SDL_SCANCODE_X, SDLK_x, 0, 0), BF_UI_NONE);
  assert_int_equal(key(&ev, 1, SDL_SCANCODE_Q, SDLK_q, hot | KMOD_CAPS, 0), BF_UI_QUIT);
  assert_int_equal(key(&ev, 0, SDL_SCANCODE_Q, SDLK_q, hot, 0), BF_UI_NONE);
  /* the mouse's: mode (M) and release (Z) */
  assert_int_equal(key(&ev, 1, SDL_SCANCODE_M, SDLK_m, hot, 0), BF_UI_MOUSE_MODE);
  assert_int_equal(key(&ev, 0, SDL_SCANCODE_M, SDLK_m, hot, 0), BF_UI_NONE);
  assert_int_equal(key(&ev, 1, SDL_SCANCODE_Z, SDLK_z, hot, 0), BF_UI_RELEASE);
  assert_int_equal(key(&ev, 1, SDL_SCANCODE_Z, SDLK_z, hot, 1), BF_UI_NONE);
  assert_int_equal(key(&ev, 0, SDL_SCANCODE_Z, SDLK_z, hot, 0), BF_UI_NONE);
  assert_int_equal(inputs(&ev), 0);
  /* a hotkey whose up never came (the window lost the keyboard): the next
   * press of its key is the user's again */
  assert_int_equal(key(&ev, 1, SDL_SCANCODE_S, SDLK_s, hot, 0), BF_UI_OVERLAY);
  assert_int_equal(key(&ev, 1, SDL_SCANCODE_S, SDLK_s, 0, 1), BF_UI_NONE);
  assert_int_equal(inputs(&ev), 0);
  assert_int_equal(key(&ev, 1, SDL_SCANCODE_S, SDLK_s, 0, 0), BF_UI_NONE);
  assert_int_equal(key(&ev, 0, SDL_SCANCODE_S, SDLK_s, 0, 0), BF_UI_NONE);
  assert_int_equal(inputs(&ev), 2);
  bf_input_event in;
  assert_int_equal(bf_ui_events_input(&ev, &in), 1);
  assert_true(in.u.key.scancode == SDL_SCANCODE_S && in.u.key.down == 1);
  assert_int_equal(bf_ui_events_input(&ev, &in), 1);
  assert_true(in.u.key.scancode == SDL_SCANCODE_S && in.u.key.down == 0);

  /* not a hotkey: a missing modifier, another key; and S again, plain */
  assert_int_equal(key(&ev, 1, SDL_SCANCODE_S, SDLK_s, KMOD_LCTRL | KMOD_LALT, 0), BF_UI_NONE);
  assert_int_equal(key(&ev, 1, SDL_SCANCODE_A, SDLK_a, hot, 0), BF_UI_NONE);
  assert_int_equal(key(&ev, 0, SDL_SCANCODE_S, SDLK_s, 0, 0), BF_UI_NONE);
  assert_int_equal(inputs(&ev), 3);
  assert_int_equal(bf_ui_events_input(&ev, &in), 1);
  assert_int_equal(in.u.key.scancode, SDL_SCANCODE_S);
  assert_int_equal(in.u.key.mods, KMOD_LCTRL | KMOD_LALT);
  assert_int_equal(bf_ui_events_input(&ev, &in), 1);
  assert_int_equal(in.u.key.scancode, SDL_SCANCODE_A);
  assert_int_equal(in.u.key.mods, hot);
  assert_int_equal(bf_ui_events_input(&ev, &in), 1);
  assert_int_equal(in.u.key.scancode, SDL_SCANCODE_S);
  assert_int_equal(in.u.key.down, 0);
  assert_int_equal(bf_ui_events_input(&ev, &in), 0);
  bf_ui_events_free(&ev);
}

static void test_mouse_and_focus(void **state) {
  (void)state;
  bf_ui_events ev;
  bf_ui_events_init(&ev);
  SDL_Event e;
  memset(&e, 0, sizeof e);
  e.type = SDL_MOUSEMOTION;
  e.motion.x = 100;
  e.motion.y = 50;
  e.motion.xrel = -3;
  e.motion.yrel = 7;
  assert_int_equal(feed(&ev, &e), BF_UI_NONE);
  const Uint8 buttons[] = {SDL_BUTTON_LEFT, SDL_BUTTON_MIDDLE, SDL_BUTTON_RIGHT, SDL_BUTTON_X1,
                           SDL_BUTTON_X2};
  for (size_t i = 0; i < sizeof buttons; i++) {
    memset(&e, 0, sizeof e);
    e.type = i % 2 ? SDL_MOUSEBUTTONUP : SDL_MOUSEBUTTONDOWN;
    e.button.button = buttons[i];
    e.button.state = i % 2 ? SDL_RELEASED : SDL_PRESSED;
    e.button.clicks = 2;
    e.button.x = 10 + (int)i;
    e.button.y = 20;
    assert_int_equal(feed(&ev, &e), BF_UI_NONE);
  }
  memset(&e, 0, sizeof e);
  e.type = SDL_MOUSEWHEEL;
  e.wheel.y = 1;
  e.wheel.preciseX = 0.25f;
  e.wheel.preciseY = 1.5f;
  e.wheel.direction = SDL_MOUSEWHEEL_NORMAL;
  assert_int_equal(feed(&ev, &e), BF_UI_NONE);
  e.wheel.direction = SDL_MOUSEWHEEL_FLIPPED;
  assert_int_equal(feed(&ev, &e), BF_UI_NONE);
  assert_int_equal(window(&ev, SDL_WINDOWEVENT_FOCUS_LOST), BF_UI_NONE);

  bf_input_event in;
  assert_int_equal(bf_ui_events_input(&ev, &in), 1);
  assert_int_equal(in.kind, BF_INPUT_MOUSE_MOTION);
  assert_int_equal(in.u.motion.x, 100);
  assert_int_equal(in.u.motion.y, 50);
  assert_int_equal(in.u.motion.dx, -3);
  assert_int_equal(in.u.motion.dy, 7);
  const uint8_t want[] = {BF_MOUSE_LEFT, BF_MOUSE_MIDDLE, BF_MOUSE_RIGHT, BF_MOUSE_X1, BF_MOUSE_X2};
  for (size_t i = 0; i < sizeof want; i++) {
    assert_int_equal(bf_ui_events_input(&ev, &in), 1);
    assert_int_equal(in.kind, BF_INPUT_MOUSE_BUTTON);
    assert_int_equal(in.u.button.button, want[i]);
    assert_int_equal(in.u.button.down, i % 2 ? 0 : 1);
    assert_int_equal(in.u.button.clicks, 2);
    assert_int_equal(in.u.button.x, 10 + (int)i);
    assert_int_equal(in.u.button.y, 20);
  }
  assert_int_equal(bf_ui_events_input(&ev, &in), 1);
  assert_int_equal(in.kind, BF_INPUT_MOUSE_WHEEL);
  assert_true(in.u.wheel.x == 0.25f && in.u.wheel.y == 1.5f);
  assert_int_equal(bf_ui_events_input(&ev, &in), 1);
  assert_true(in.u.wheel.x == -0.25f && in.u.wheel.y == -1.5f);
  assert_int_equal(bf_ui_events_input(&ev, &in), 1);
  assert_int_equal(in.kind, BF_INPUT_FOCUS_LOST);
  assert_int_equal(bf_ui_events_input(&ev, &in), 0);
  bf_ui_events_free(&ev);
}

static void test_game_controllers(void **state) {
  (void)state;
  bf_ui_events ev;
  bf_ui_events_init(&ev);
  SDL_Event e;
  memset(&e, 0, sizeof e);
  e.type = SDL_CONTROLLERDEVICEADDED;
  e.cdevice.which = 0; /* no such device here: reported, not opened */
  assert_int_equal(feed(&ev, &e), BF_UI_NONE);
  memset(&e, 0, sizeof e);
  e.type = SDL_CONTROLLERBUTTONDOWN;
  e.cbutton.which = 7;
  e.cbutton.button = SDL_CONTROLLER_BUTTON_A;
  e.cbutton.state = SDL_PRESSED;
  assert_int_equal(feed(&ev, &e), BF_UI_NONE);
  e.type = SDL_CONTROLLERBUTTONUP;
  e.cbutton.button = SDL_CONTROLLER_BUTTON_DPAD_LEFT;
  e.cbutton.state = SDL_RELEASED;
  assert_int_equal(feed(&ev, &e), BF_UI_NONE);
  memset(&e, 0, sizeof e);
  e.type = SDL_CONTROLLERAXISMOTION;
  e.caxis.which = 7;
  e.caxis.axis = SDL_CONTROLLER_AXIS_TRIGGERRIGHT;
  e.caxis.value = -32768;
  assert_int_equal(feed(&ev, &e), BF_UI_NONE);
  memset(&e, 0, sizeof e);
  e.type = SDL_CONTROLLERDEVICEREMOVED;
  e.cdevice.which = 7;
  assert_int_equal(feed(&ev, &e), BF_UI_NONE);

  bf_input_event in;
  assert_int_equal(bf_ui_events_input(&ev, &in), 1);
  assert_int_equal(in.kind, BF_INPUT_PAD_ADDED);
  assert_int_equal(in.u.pad.pad, -1);
  assert_int_equal(in.u.pad.device_index, 0);
  assert_int_equal(bf_ui_events_input(&ev, &in), 1);
  assert_int_equal(in.kind, BF_INPUT_PAD_BUTTON);
  assert_int_equal(in.u.pad_button.pad, 7);
  assert_int_equal(in.u.pad_button.button, SDL_CONTROLLER_BUTTON_A);
  assert_int_equal(in.u.pad_button.down, 1);
  assert_int_equal(bf_ui_events_input(&ev, &in), 1);
  assert_int_equal(in.u.pad_button.button, SDL_CONTROLLER_BUTTON_DPAD_LEFT);
  assert_int_equal(in.u.pad_button.down, 0);
  assert_int_equal(bf_ui_events_input(&ev, &in), 1);
  assert_int_equal(in.kind, BF_INPUT_PAD_AXIS);
  assert_int_equal(in.u.pad_axis.pad, 7);
  assert_int_equal(in.u.pad_axis.axis, SDL_CONTROLLER_AXIS_TRIGGERRIGHT);
  assert_int_equal(in.u.pad_axis.value, -32768);
  assert_int_equal(bf_ui_events_input(&ev, &in), 1);
  assert_int_equal(in.kind, BF_INPUT_PAD_REMOVED);
  assert_int_equal(in.u.pad.pad, 7);
  assert_int_equal(in.u.pad.device_index, -1);
  assert_int_equal(bf_ui_events_input(&ev, &in), 0);
  bf_ui_events_free(&ev);
}

static void test_queue_bound(void **state) {
  (void)state;
  bf_ui_events ev;
  bf_ui_events_init(&ev);
  SDL_Event e;
  memset(&e, 0, sizeof e);
  e.type = SDL_MOUSEMOTION;
  for (int i = 0; i < (int)BF_INPUT_QUEUE + 10; i++) {
    e.motion.x = i;
    feed(&ev, &e);
  }
  assert_int_equal(ev.input_dropped, 10);
  bf_input_event in;
  for (int i = 0; i < (int)BF_INPUT_QUEUE; i++) {
    assert_int_equal(bf_ui_events_input(&ev, &in), 1);
    assert_int_equal(in.u.motion.x, i); /* the oldest kept, in order */
  }
  assert_int_equal(bf_ui_events_input(&ev, &in), 0);
  /* taken: room again, and the ring wraps */
  e.motion.x = 999;
  feed(&ev, &e);
  assert_int_equal(bf_ui_events_input(&ev, &in), 1);
  assert_int_equal(in.u.motion.x, 999);
  assert_int_equal(ev.input_dropped, 10);
  bf_ui_events_free(&ev);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_window_and_typing), cmocka_unit_test(test_hotkeys_stay_local),
      cmocka_unit_test(test_mouse_and_focus),   cmocka_unit_test(test_game_controllers),
      cmocka_unit_test(test_queue_bound),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
