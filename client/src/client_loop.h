/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The client's one event loop. Every wait of the program goes through it:
 * the setup screens (asking for the sender, the control session and its
 * pairing screen, the failure screen) and the stream. What differs between
 * them is a phase: a small table of what to do each turn, what to wait for
 * and how to take the window's actions; the loop itself does the rest, the
 * same for all, with the transport's registry (bildfunk/evloop.h):
 *
 *   stop signal?  -> the phase's stopped(), end
 *   work()        -> the phase's turn before the window (receive, decode...)
 *   the window    -> tick, its actions one by one to the phase's ui() (after
 *                    fullscreen was toggled for Ctrl+Alt+Shift+X), the input
 *                    events to its input() (dropped without one), redraw()
 *                    when one asked for it
 *   after_ui()    -> the phase's turn after the window
 *   sleep         -> one bf_evloop_wait on the phase's descriptors and
 *                    deadlines (arm()), the window's connection, its
 *                    fullscreen check, at most 1 s; then woken()
 *
 * A phase's callback returns BF_TURN_IDLE (sleep when the turn is done),
 * BF_TURN_BUSY (more work waits: the next turn at once) or BF_TURN_END (the
 * phase is over; its outcome is in the bf_client). The stages define the
 * phases; the program runs them in order. The loop never calls a stage by
 * name, and no stage calls the loop.
 *
 * Latency: none added; the sleep ends at the first ready descriptor or the
 * earliest deadline. Window events can wait in Xlib's buffer without the
 * connection becoming readable: a phase with |window_poll_ms| wakes that
 * often while the window is open; without a connection to wait on (not X11)
 * the loop wakes every 30 ms to look for events.
 */
#ifndef BF_CLIENT_CLIENT_LOOP_H
#define BF_CLIENT_CLIENT_LOOP_H

#include "client.h"

#include <bildfunk/evloop.h>

#include <stdint.h>

typedef enum bf_turn {
  BF_TURN_IDLE = 0, /* nothing more now: sleep until a descriptor or deadline */
  BF_TURN_BUSY,     /* more work waits: the next turn at once, no sleep */
  BF_TURN_END,      /* the phase is over */
} bf_turn;

/* One phase of the program as the loop runs it. Any callback may be NULL
 * (nothing to do). |now| is bf_clock_epoch_ns() read by the loop. */
typedef struct bf_phase {
  const char *name;
  int window_poll_ms; /* wake at least this often with a window (0 = no) */
  /* A stop signal (SIGINT, SIGTERM) came; the phase ends after this. */
  void (*stopped)(bf_client *c);
  /* The turn before the window's events. BUSY skips the window and the
   * sleep. */
  bf_turn (*work)(bf_client *c, uint64_t now);
  /* One window action. IDLE: the next one; BUSY: no more this turn, and no
   * redraw or sleep; END: the phase is over. Sets |*redraw| when the screen
   * must be drawn again (once, after the actions). */
  bf_turn (*ui)(bf_client *c, bf_ui_action a, uint64_t now, int *redraw);
  void (*redraw)(bf_client *c);
  /* One input event of the window (keyboard, mouse, pads, focus). */
  void (*input)(bf_client *c, const bf_input_event *e, uint64_t now);
  /* The turn after the window's events. */
  bf_turn (*after_ui)(bf_client *c, uint64_t now);
  /* The phase's descriptors and deadlines for this turn's sleep. */
  void (*arm)(bf_client *c, bf_evloop *l, uint64_t now);
  /* After the sleep: what the descriptors added by arm() saw. */
  void (*woken)(bf_client *c, const bf_evloop *l, uint64_t now);
} bf_phase;

/* Runs |ph| until it ends. The window, when c->display is open, is served
 * in every phase. */
void bf_client_loop_run(bf_client *c, const bf_phase *ph);

#endif
