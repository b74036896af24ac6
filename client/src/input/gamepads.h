/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The client's game pads: SDL's game controller subsystem, up to
 * BF_INMSG_PADS pads in slots 0..3 (the wire's pad numbers, kept while a pad
 * stays connected: hotplug takes the first free slot, a fifth pad is
 * counted and ignored), and rumble from the sender played on the pad of its
 * slot.
 *
 * Rumble: the sender's STATE carries every slot's motors (latest wins,
 * numbered); a new number or a change sets them at once, and while a motor
 * runs it is renewed every BF_PADS_RUMBLE_RENEW_NS for
 * BF_PADS_RUMBLE_HOLD_NS, so it stops by itself at most that long after the
 * sender goes quiet.
 *
 * The pads are opened by the window's event stage (ui/ui_events.c) when SDL
 * reports them; this module owns the subsystem and the slots. One thread.
 */
#ifndef BF_CLIENT_INPUT_GAMEPADS_H
#define BF_CLIENT_INPUT_GAMEPADS_H

#include <bildfunk/inputmsg.h>

#include <stddef.h>
#include <stdint.h>

#define BF_PADS_RUMBLE_RENEW_NS 200000000ull
#define BF_PADS_RUMBLE_HOLD_NS 500000000ull

typedef struct bf_gamepads {
  int up;                    /* the subsystem is initialised */
  int32_t id[BF_INMSG_PADS]; /* SDL instance id per slot, -1 = free */
  uint64_t ignored;          /* pads that found no free slot */
  uint16_t rumble[BF_INMSG_PADS][2];
  uint64_t rumble_ns[BF_INMSG_PADS]; /* when a running motor was last renewed */
  uint32_t rumble_seq;
  int have_seq;
  uint64_t rumble_updates; /* rumble changes applied */
  uint64_t rumble_calls;   /* SDL rumble calls made */
} bf_gamepads;

/* Initialises SDL's game controller subsystem (the pads connected now are
 * reported as added). 0 or -EIO with SDL's reason in |err|. */
int bf_gamepads_open(bf_gamepads *g, char *err, size_t cap);
void bf_gamepads_close(bf_gamepads *g);

/* A pad was added / removed: its slot, or -1 (no free slot, unknown pad). */
int bf_gamepads_add(bf_gamepads *g, int32_t id);
int bf_gamepads_remove(bf_gamepads *g, int32_t id);
int bf_gamepads_slot(const bf_gamepads *g, int32_t id);

/* The sender's STATE at |now_ns|: plays its rumble. Returns 1 when it took
 * a new rumble number (to acknowledge: *seq). */
int bf_gamepads_rumble(bf_gamepads *g, const bf_inmsg_state *st, uint64_t now_ns, uint32_t *seq);

#endif
