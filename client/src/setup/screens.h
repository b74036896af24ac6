/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The setup's screens in the window, as phases of the loop: asking for the
 * sender (`bildfunk` without HOST, prefilled with the last sender), the
 * pairing screen's typing (the code the sender shows, Esc, closing the
 * window) while the control session sets up, and the failure screen (why
 * the setup failed, until Enter, Esc, the window closed, a signal or
 * BF_SCREENS_FAIL_NS).
 *
 * Not here: what is drawn (pairscreen.h), the control session (connect.h),
 * the loop itself (client_loop.h). Each phase leaves its outcome in
 * c->setup_rc. The window must be open (c->display).
 */
#ifndef BF_CLIENT_SCREENS_H
#define BF_CLIENT_SCREENS_H

#include "client_loop.h"

#define BF_SCREENS_FAIL_NS (60 * 1000000000ull)

/* Draws the setup screen (c->ps) at the window's size. */
void bf_screens_redraw(bf_client *c);

/* What every setup phase with a screen shares: its name, the screen
 * redrawn by bf_screens_redraw, and a look at the window every 20 ms
 * (events may wait in Xlib's buffer, not on its socket). */
#define BF_SCREENS_PHASE(phase_name)                                                               \
  .name = (phase_name), .window_poll_ms = 20, .redraw = bf_screens_redraw

/* Asks for the sender: begin, then run the phase. setup_rc 0 with c->target
 * set, or 1 (Esc, window closed, signal: said). */
void bf_screens_ask_begin(bf_client *c);
/* The setup with the sender typed there failed: ask again, prefilled with
 * c->target, c->setup_err shown above the line (then run the phase). */
void bf_screens_ask_again(bf_client *c);
extern const bf_phase bf_screens_ask_phase;

/* The pairing screen's part of the control setup phase (connect.h): one
 * window action. */
bf_turn bf_screens_pairing_ui(bf_client *c, bf_ui_action a, uint64_t now, int *redraw);

/* Shows c->setup_err for c->target: begin, then run the phase (no
 * outcome). */
void bf_screens_fail_begin(bf_client *c, uint64_t now);
extern const bf_phase bf_screens_fail_phase;

#endif
