/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The sender's event loop: see send_loop.h.
 */
#include "send_loop.h"

#include "send_adapt.h"
#include "send_ctl.h"
#include "send_input.h"
#include "send_stats.h"
#include "send_video.h"

#include <bildfunk/clock.h>
#include <bildfunk/evloop.h>

#include <poll.h>
#include <stdio.h>

/* One event of the data plane, after its batch. */
static void on_event(bf_send_state *s, const bf_send_event *ev) {
  char a[BF_ADDR_STRLEN], b[BF_ADDR_STRLEN];
  switch (ev->type) {
  case BF_SS_ADOPT:
    fprintf(stderr, "bildfunk-send: client %s punched in: streaming to it\n",
            bf_addr_format(&ev->from, a, sizeof a));
    bf_send_video_start(s, ev->now_ns);
    break;
  case BF_SS_RETARGET:
    fprintf(stderr, "bildfunk-send: client moved from %s to %s: streaming there\n",
            bf_addr_format(&ev->old_peer, a, sizeof a), bf_addr_format(&ev->from, b, sizeof b));
    bf_send_video_restart(s, ev->now_ns);
    break;
  case BF_SS_KEYFRAME:
    bf_send_video_keyframe(s);
    break;
  case BF_SS_LOSS:
    bf_send_adapt_on_loss(s, &ev->fb, ev->now_ns);
    break;
  case BF_SS_BYE:
    fprintf(stderr, "bildfunk-send: client %s said bye; waiting for the next client\n",
            bf_addr_format(&ev->from, a, sizeof a));
    bf_send_input_stop(s, ev->now_ns);
    bf_send_video_stop(s);
    break;
  default:
    break;
  }
}

/* Reads the data port until it is empty, a batch at a time, and hands
 * each batch's events to their stages before the next batch. */
static void receive(bf_send_state *s) {
  int n;
  do {
    n = bf_send_endpoint_receive(&s->ep);
    bf_send_event ev;
    while (bf_send_endpoint_next_event(&s->ep, &ev))
      on_event(s, &ev);
    bf_send_input_after_batch(s); /* injected before the next capture; acknowledged */
    if (s->ep.failed) s->failed = 1;
  } while (n > 0);
}

/* Sound goes to the client being streamed to when it asked for it: its
 * Welcome says so (control mode), or its audio REQUESTs keep coming
 * (direct mode: one a second; 3 s without one stops the sound). */
#define AUDIO_REQUEST_TIMEOUT_NS (3 * BF_SEC_NS)
static void audio_step(bf_send_state *s, uint64_t now) {
  if (!s->audio_on) return;
  char err[256];
  if (bf_send_audio_failed(&s->audio, err, sizeof err)) {
    fprintf(stderr, "bildfunk-send: sound: %s; streaming without sound\n", err);
    bf_send_audio_close(&s->audio);
    s->audio_on = 0;
    return;
  }
  uint64_t rq = s->ep.audio_request_ns;
  int want = s->ss.streaming && (s->ctl_mode ? s->ctl_audio
                                             : rq && now >= rq && now - rq < AUDIO_REQUEST_TIMEOUT_NS);
  if (want)
    bf_send_audio_start(&s->audio);
  else
    bf_send_audio_stop(&s->audio);
}

/* The control step, the client's silence, the status line. Returns the
 * earliest of their deadlines. */
static uint64_t housekeeping(bf_send_state *s, uint64_t now) {
  if (s->ctl_mode && (s->ctl_kick || now >= s->ctl_next_ns)) {
    s->ctl_kick = 0;
    s->ctl_next_ns = bf_send_ctl_step(s, now);
  }
  if (bf_send_session_tick(&s->ss, now) == BF_SS_SILENT) {
    char a[BF_ADDR_STRLEN];
    fprintf(stderr, "bildfunk-send: client %s silent for %.0f s: stopped; waiting for the next\n",
            bf_addr_format(&s->ss.peer, a, sizeof a), (double)s->o.silence_ns / 1e9);
    bf_send_input_stop(s, now);
    bf_send_video_stop(s);
  }
  audio_step(s, now);
  uint64_t in_next = bf_send_input_tick(s, now); /* the client's input silence, rumble */
  if (now - s->win_start_ns >= BF_SEC_NS) bf_send_stats_status(s, now);
  uint64_t deadline = s->win_start_ns + BF_SEC_NS;
  uint64_t sd = bf_send_session_deadline(&s->ss);
  if (sd < deadline) deadline = sd;
  if (s->ctl_mode && s->ctl_next_ns < deadline) deadline = s->ctl_next_ns;
  if (in_next < deadline) deadline = in_next;
  if (s->ctl_mode) { /* the TURN relay's timers, when there is one; the opening punches */
    uint64_t rd = bf_send_relay_tick(s, now);
    if (rd < deadline) deadline = rd;
    if ((rd = bf_send_open_tick(s, now)) < deadline) deadline = rd;
  }
  return deadline;
}

/* Sleeps until |deadline| (monotonic ns) or until the data socket or a
 * control descriptor is readable (then the control step runs next). */
static void wait_until(bf_send_state *s, uint64_t deadline) {
  uint64_t now = bf_clock_mono_ns();
  if (deadline <= now) return;
  bf_evloop l;
  bf_evloop_begin(&l);
  int data = bf_evloop_add(&l, bf_send_endpoint_fd(&s->ep), POLLIN);
  bf_send_ctl_watch(s, &l);
  bf_evloop_deadline(&l, deadline);
  if (bf_evloop_wait(&l, now) > 0)
    for (int i = 0; i < (int)l.n; i++)
      if (i != data && bf_evloop_revents(&l, i)) s->ctl_kick = 1;
}

int bf_send_loop_run(bf_send_state *s) {
  uint64_t now = bf_clock_mono_ns();
  s->win_start_ns = now;
  while (!bf_evloop_stopped() && !s->finished && !s->failed) {
    receive(s);
    now = bf_clock_mono_ns();
    uint64_t deadline = housekeeping(s, now);
    if (s->ss.streaming) {
      int r = bf_send_video_step(s, now, &deadline);
      if (r < 0) {
        s->failed = 1;
        break;
      }
      if (r == BF_SEND_VIDEO_AGAIN) continue;
    }
    wait_until(s, deadline);
  }
  if (s->audio_on) bf_send_audio_stop(&s->audio);
  bf_send_input_stop(s, bf_clock_mono_ns()); /* a signal, the end: nothing stays held */
  if (s->ss.streaming) {
    bf_send_endpoint_bye(&s->ep, s->failed ? BF_BYE_ERROR : BF_BYE_NORMAL, NULL);
    bf_send_session_stop(&s->ss);
  }
  if (s->ctl_mode) bf_send_ctl_finish(s, bf_evloop_stopped() != 0);
  return s->failed ? 1 : 0;
}
