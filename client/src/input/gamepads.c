/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The client's game pads: see gamepads.h.
 */
#include "gamepads.h"

#include <bildfunk/common.h>

#include <SDL.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

int bf_gamepads_open(bf_gamepads *g, char *err, size_t cap) {
  memset(g, 0, sizeof *g);
  for (unsigned i = 0; i < BF_INMSG_PADS; i++)
    g->id[i] = -1;
  if (SDL_InitSubSystem(SDL_INIT_GAMECONTROLLER) != 0) {
    snprintf(err, cap, "game controllers: %s", SDL_GetError());
    return -EIO;
  }
  g->up = 1;
  return 0;
}

void bf_gamepads_close(bf_gamepads *g) {
  if (g->up) SDL_QuitSubSystem(SDL_INIT_GAMECONTROLLER);
  g->up = 0;
}

int bf_gamepads_slot(const bf_gamepads *g, int32_t id) {
  for (int i = 0; i < (int)BF_INMSG_PADS; i++)
    if (g->id[i] == id && id >= 0) return i;
  return -1;
}

int bf_gamepads_add(bf_gamepads *g, int32_t id) {
  if (id < 0) return -1;
  int s = bf_gamepads_slot(g, id);
  if (s >= 0) return s;
  for (int i = 0; i < (int)BF_INMSG_PADS; i++) {
    if (g->id[i] >= 0) continue;
    g->id[i] = id;
    memset(g->rumble[i], 0, sizeof g->rumble[i]);
    return i;
  }
  g->ignored++;
  return -1;
}

int bf_gamepads_remove(bf_gamepads *g, int32_t id) {
  int s = bf_gamepads_slot(g, id);
  if (s >= 0) g->id[s] = -1;
  return s;
}

static void play(bf_gamepads *g, unsigned slot, uint64_t now) {
  SDL_GameController *gc = g->id[slot] >= 0 ? SDL_GameControllerFromInstanceID(g->id[slot]) : NULL;
  g->rumble_ns[slot] = now;
  if (!gc) return;
  uint16_t lo = g->rumble[slot][0], hi = g->rumble[slot][1];
  SDL_GameControllerRumble(gc, lo, hi, lo || hi ? (Uint32)(BF_PADS_RUMBLE_HOLD_NS / 1000000u) : 0);
  g->rumble_calls++;
}

int bf_gamepads_rumble(bf_gamepads *g, const bf_inmsg_state *st, uint64_t now, uint32_t *seq) {
  if (st->n_rumble != BF_INMSG_PADS) return 0; /* no rumble said: the state is as it was */
  int fresh = !g->have_seq || bf_seq32_diff(st->rumble_seq, g->rumble_seq) > 0;
  if (!fresh && st->rumble_seq != g->rumble_seq) return 0; /* an older STATE */
  for (unsigned i = 0; i < st->n_rumble; i++) {
    const bf_inrumble *r = &st->rumble[i];
    int changed = g->rumble[r->slot][0] != r->low || g->rumble[r->slot][1] != r->high;
    g->rumble[r->slot][0] = r->low;
    g->rumble[r->slot][1] = r->high;
    if (changed) g->rumble_updates++;
    int running = r->low || r->high;
    if (changed || (running && now - g->rumble_ns[r->slot] >= BF_PADS_RUMBLE_RENEW_NS))
      play(g, r->slot, now);
  }
  g->have_seq = 1;
  g->rumble_seq = st->rumble_seq;
  *seq = st->rumble_seq;
  return fresh;
}
