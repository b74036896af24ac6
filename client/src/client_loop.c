/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The client's one event loop: see client_loop.h.
 */
#include "client_loop.h"

#include <bildfunk/clock.h>

#include <poll.h>

/* Without a display connection to wait on, window events are looked for
 * this often. */
#define NO_FD_POLL_NS (30 * BF_MS_NS)

/* The window's part of a turn: its pending work, then its actions to the
 * phase. */
static bf_turn window_turn(bf_client *c, const bf_phase *ph) {
  bf_display_tick(c->display);
  bf_turn t = BF_TURN_IDLE;
  int redraw = 0;
  bf_ui_action a;
  while (t == BF_TURN_IDLE && bf_ui_events_poll(&c->events, &a)) {
    if (a == BF_UI_FULLSCREEN) bf_display_toggle_fullscreen(c->display);
    if (ph->ui) t = ph->ui(c, a, bf_clock_epoch_ns(), &redraw);
  }
  bf_input_event in;
  uint64_t now = bf_clock_epoch_ns();
  while (bf_ui_events_input(&c->events, &in))
    if (ph->input) ph->input(c, &in, now);
  if (t == BF_TURN_IDLE && redraw && ph->redraw) ph->redraw(c);
  return t;
}

/* The window's descriptor and deadlines for the sleep. */
static void window_arm(bf_client *c, const bf_phase *ph, bf_evloop *l, uint64_t now) {
  int fd = bf_display_event_fd(c->display);
  bf_evloop_add(l, fd, POLLIN);
  int ms = bf_display_timeout_ms(c->display);
  if (ms >= 0) bf_evloop_deadline(l, now + (uint64_t)ms * 1000000u);
  if (ph->window_poll_ms > 0)
    bf_evloop_deadline(l, now + (uint64_t)ph->window_poll_ms * 1000000u);
  else if (fd < 0)
    bf_evloop_deadline(l, now + NO_FD_POLL_NS);
}

void bf_client_loop_run(bf_client *c, const bf_phase *ph) {
  bf_evloop l;
  for (;;) {
    if (bf_evloop_stopped()) {
      if (ph->stopped) ph->stopped(c);
      return;
    }
    bf_turn t = ph->work ? ph->work(c, bf_clock_epoch_ns()) : BF_TURN_IDLE;
    if (t == BF_TURN_END) return;
    if (t == BF_TURN_BUSY) continue;
    if (c->display) {
      t = window_turn(c, ph);
      if (t == BF_TURN_END) return;
      if (t == BF_TURN_BUSY) continue;
    }
    t = ph->after_ui ? ph->after_ui(c, bf_clock_epoch_ns()) : BF_TURN_IDLE;
    if (t == BF_TURN_END) return;
    if (t == BF_TURN_BUSY) continue;

    uint64_t now = bf_clock_epoch_ns();
    bf_evloop_begin(&l);
    bf_evloop_deadline(&l, now + BF_SEC_NS); /* look around at least once a second */
    if (ph->arm) ph->arm(c, &l, now);
    if (c->display) window_arm(c, ph, &l, now);
    (void)bf_evloop_wait(&l, now); /* a signal or an error: the next turn looks */
    if (ph->woken) ph->woken(c, &l, bf_clock_epoch_ns());
  }
}
