/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The client's input stage: the window's keyboard, mouse and game pad
 * events (ui/ui_events.h) to the sender, and what comes back.
 *
 *   window events -> this stage -> the input link's client end
 *   (bildfunk/inputlink.h: event sequence, repetition until acknowledged,
 *   snapshots) -> input datagrams (0xB0, sealed) on the data channel ->
 *   the sender; its STATE datagrams -> acknowledgements, rumble (gamepads.h),
 *   picture stamps (photon.h: input-to-photon latency).
 *
 * Keyboard: by physical key (SDL scancode = USB HID usage) with the HID
 * modifier byte; the client's own key repeat is not sent (the sender's OS
 * repeats); the Ctrl+Alt+Shift hotkeys never reach here. With
 * --capture-system-keys the keyboard is grabbed while fullscreen, so
 * Alt+Tab and the Super key go to the sender.
 * Mouse: absolute (default): window coordinates through the letterbox to
 * the picture's pixels, the local pointer hidden over the window (the
 * sender's is in the picture); relative (--mouse relative, Ctrl+Alt+Shift+M
 * switches): a click in the window captures the pointer (that click is not
 * sent), motion goes as summed deltas, Ctrl+Alt+Shift+Z releases it.
 * Buttons 1..5, the wheel in 1/120 notches (SDL's precise values).
 * Pads: up to 4 (gamepads.h), every button, both sticks and triggers.
 * Focus lost: everything held is released (one "release everything"
 * event), the pads' axes go to rest and the pointer is let go.
 *
 * When: events are taken every loop turn; a datagram goes out at once for a
 * key or button, at most every 1 ms for motion (bf_fwd_next_due is the
 * loop's deadline), repeated by the link's rules. Latency added: none
 * beyond the loop turn that takes the window's events.
 *
 * Ownership: the stage borrows the display and the pump (the session's,
 * client.h) and owns the link, the pads and the photon bookkeeping. Only
 * opened for a session whose Welcome granted input. One thread (SDL's).
 */
#ifndef BF_CLIENT_INPUT_FORWARD_H
#define BF_CLIENT_INPUT_FORWARD_H

#include "input/gamepads.h"
#include "input/photon.h"
#include "input/vpad.h"
#include "net/stream_rx.h"
#include "ui/display.h"
#include "ui/ui_events.h"

#include <bildfunk/inputlink.h>

#include <stddef.h>
#include <stdint.h>

typedef struct bf_fwd_config {
  int relative;            /* --mouse relative (else absolute) */
  int capture_system_keys; /* --capture-system-keys */
  const char *virtual_pad; /* --virtual-pad FILE, NULL = none */
  int quiet;
} bf_fwd_config;

typedef struct bf_fwd_stats {
  uint64_t keys, buttons, motions, wheels, pad_events; /* taken from the window */
  uint64_t datagrams, send_dropped;                    /* INPUT datagrams */
  uint64_t states, bad_states;                         /* STATE datagrams */
  uint64_t captures, mode_switches, focus_releases;
  uint16_t sender_flags; /* BF_INSTATE_* of the last STATE */
  bf_inlink_tx_stats link;
} bf_fwd_stats;

typedef struct bf_fwd bf_fwd;

/* Opens the stage on |d| and |p| (both borrowed, outliving it): the pads,
 * the virtual pad (its script's clock starts when the stage has its pad),
 * the pointer mode. 0 or a negative errno with |err|. */
int bf_fwd_open(const bf_fwd_config *cfg, bf_display *d, bf_pump *p, bf_fwd **out, char *err,
                size_t cap);
/* Lets the pointer and keyboard go; frees everything. */
void bf_fwd_close(bf_fwd **f);

/* A new control session (--reconnect): its sender numbers input events
 * from 1 again and released everything when the old one ended, so the link
 * starts afresh; events the old session never acknowledged are given up
 * (counted as dropped: typed into a frozen stream, they are stale). */
void bf_fwd_new_session(bf_fwd *f);
/* One window input event taken at |now_ns|. */
void bf_fwd_take(bf_fwd *f, const bf_input_event *e, uint64_t now_ns);
/* A window action the stage acts on (BF_UI_MOUSE_MODE, BF_UI_RELEASE). */
void bf_fwd_action(bf_fwd *f, bf_ui_action a);
/* Sends what is due at |now_ns|, plays the virtual pad, follows fullscreen. */
void bf_fwd_tick(bf_fwd *f, uint64_t now_ns);
/* When bf_fwd_tick next has work (UINT64_MAX: none). */
uint64_t bf_fwd_next_due(const bf_fwd *f);
/* The picture captured at |pts_ns| was presented at |present_ns|. */
void bf_fwd_present(bf_fwd *f, uint64_t pts_ns, uint64_t present_ns);

void bf_fwd_stats_get(const bf_fwd *f, bf_fwd_stats *st);
const bf_photon *bf_fwd_photon(const bf_fwd *f);
const bf_gamepads *bf_fwd_pads(const bf_fwd *f);
/* The virtual pad (NULL without --virtual-pad). */
const bf_vpad *bf_fwd_vpad(const bf_fwd *f);
/* "absolute", "relative (captured)", "relative" */
const char *bf_fwd_mouse_mode(const bf_fwd *f);

#endif
