/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The scripted virtual pad: see vpad.h.
 */
#include "vpad.h"

#include <SDL.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int SDLCALL on_rumble(void *user, Uint16 low, Uint16 high) {
  bf_vpad *v = user;
  if (low || high) v->rumbles++;
  v->last_low = low;
  v->last_high = high;
  return 0;
}

/* One script line into |s|: 1 a step, 0 nothing (blank, comment), -1 bad. */
static int parse_line(char *line, bf_vpad_step *s, const char **why) {
  char *hash = strchr(line, '#');
  if (hash) *hash = 0;
  char what[32], name[32];
  unsigned long at;
  long value = 0;
  int n = sscanf(line, "%lu %31s %31s %ld", &at, what, name, &value);
  if (n <= 0) return 0;
  *why = "want MS button NAME 0|1, MS axis NAME VALUE or MS unplug";
  if (n < 2 || at > 86400000ul) return -1;
  s->at_ms = (uint32_t)at;
  if (!strcmp(what, "unplug") && n == 2) {
    s->kind = 'u';
    return 1;
  }
  if (n != 4) return -1;
  if (!strcmp(what, "button")) {
    SDL_GameControllerButton b = SDL_GameControllerGetButtonFromString(name);
    *why = "unknown button";
    if (b == SDL_CONTROLLER_BUTTON_INVALID) return -1;
    *why = "a button is 0 or 1";
    if (value != 0 && value != 1) return -1;
    s->kind = 'b';
    s->index = (uint8_t)b;
  } else if (!strcmp(what, "axis")) {
    SDL_GameControllerAxis a = SDL_GameControllerGetAxisFromString(name);
    *why = "unknown axis";
    if (a == SDL_CONTROLLER_AXIS_INVALID) return -1;
    int trigger = a == SDL_CONTROLLER_AXIS_TRIGGERLEFT || a == SDL_CONTROLLER_AXIS_TRIGGERRIGHT;
    *why = trigger ? "a trigger is 0..32767" : "a stick axis is -32768..32767";
    if (value > 32767 || value < (trigger ? 0 : -32768)) return -1;
    s->kind = 'a';
    s->index = (uint8_t)a;
  } else {
    return -1;
  }
  s->value = (int32_t)value;
  return 1;
}

int bf_vpad_load(bf_vpad *v, const char *path, char *err, size_t cap) {
  memset(v, 0, sizeof *v);
  v->device = -1;
  FILE *f = fopen(path, "r");
  if (!f) {
    int e = errno;
    snprintf(err, cap, "%s: %s", path, strerror(e));
    return -e;
  }
  char line[256];
  unsigned no = 0;
  int r = 0;
  while (r == 0 && fgets(line, sizeof line, f)) {
    no++;
    const char *why = "";
    bf_vpad_step s;
    memset(&s, 0, sizeof s);
    int got = parse_line(line, &s, &why);
    if (got == 0) continue;
    if (got < 0)
      r = -EINVAL;
    else if (v->n == BF_VPAD_STEPS)
      why = "too many steps", r = -EINVAL;
    else if (v->n && s.at_ms < v->steps[v->n - 1].at_ms)
      why = "the steps must be in time order", r = -EINVAL;
    else
      v->steps[v->n++] = s;
    if (r < 0) snprintf(err, cap, "%s line %u: %s", path, no, why);
  }
  fclose(f);
  return r;
}

int bf_vpad_attach(bf_vpad *v, char *err, size_t cap) {
  SDL_VirtualJoystickDesc d;
  memset(&d, 0, sizeof d);
  d.version = SDL_VIRTUAL_JOYSTICK_DESC_VERSION;
  d.type = SDL_JOYSTICK_TYPE_GAMECONTROLLER;
  d.naxes = SDL_CONTROLLER_AXIS_MAX;
  d.nbuttons = SDL_CONTROLLER_BUTTON_MAX;
  d.button_mask = (1u << SDL_CONTROLLER_BUTTON_MAX) - 1u; /* joystick button i = button i */
  d.axis_mask = (1u << SDL_CONTROLLER_AXIS_MAX) - 1u;
  d.name = "bildfunk virtual pad";
  d.userdata = v;
  d.Rumble = on_rumble;
  v->device = SDL_JoystickAttachVirtualEx(&d);
  if (v->device < 0 || !(v->joy = SDL_JoystickOpen(v->device))) {
    snprintf(err, cap, "cannot attach a virtual pad: %s", SDL_GetError());
    return -EIO;
  }
  /* its triggers are full-range axes: released is the minimum */
  SDL_JoystickSetVirtualAxis(v->joy, SDL_CONTROLLER_AXIS_TRIGGERLEFT, SDL_JOYSTICK_AXIS_MIN);
  SDL_JoystickSetVirtualAxis(v->joy, SDL_CONTROLLER_AXIS_TRIGGERRIGHT, SDL_JOYSTICK_AXIS_MIN);
  return 0;
}

void bf_vpad_start(bf_vpad *v, uint64_t now) {
  if (!v->t0_ns) v->t0_ns = now ? now : 1;
}

void bf_vpad_tick(bf_vpad *v, uint64_t now) {
  while (v->joy && v->next < v->n && now >= bf_vpad_next_due(v)) {
    const bf_vpad_step *s = &v->steps[v->next++];
    if (s->kind == 'b') {
      SDL_JoystickSetVirtualButton(v->joy, s->index, (Uint8)s->value);
    } else if (s->kind == 'a') {
      int32_t raw = s->value;
      if (s->index == SDL_CONTROLLER_AXIS_TRIGGERLEFT ||
          s->index == SDL_CONTROLLER_AXIS_TRIGGERRIGHT)
        raw = raw * 2 - 32767; /* 0..32767 on the full range */
      if (raw < -32768) raw = -32768;
      SDL_JoystickSetVirtualAxis(v->joy, s->index, (Sint16)raw);
    } else {
      bf_vpad_detach(v);
    }
    if (v->next == v->n && !v->finished) v->finished = 1;
  }
}

uint64_t bf_vpad_next_due(const bf_vpad *v) {
  if (!v->joy || !v->t0_ns || v->next >= v->n) return UINT64_MAX;
  return v->t0_ns + (uint64_t)v->steps[v->next].at_ms * 1000000ull;
}

void bf_vpad_detach(bf_vpad *v) {
  if (v->joy) SDL_JoystickClose(v->joy);
  v->joy = NULL;
  if (v->device >= 0) SDL_JoystickDetachVirtual(v->device);
  v->device = -1;
}
