/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The streaming phase: see streaming.h.
 */
#include "streaming.h"

#include "setup/connect.h"
#include "video/playback.h"

#include <bildfunk/clock.h>

#include <poll.h>

#define MS BF_MS_NS

static uint64_t min_u64(uint64_t a, uint64_t b) {
  return a < b ? a : b;
}

void bf_streaming_begin(bf_client *c) {
  /* silence and --duration count from here: opening the window (seconds
   * on a busy machine) is not the sender's silence */
  c->start_ns = bf_clock_epoch_ns();
  c->end_ns =
      c->cli->duration_s > 0 ? c->start_ns + (uint64_t)(c->cli->duration_s * 1e9) : UINT64_MAX;
}

/* The last time the sender was heard of, or the start. */
static uint64_t heard_ns(const bf_client *c) {
  uint64_t last = bf_pump_last_data_ns(c->pump);
  /* the switch to a relay starts the count again */
  uint64_t from = c->rp.offered_ns > c->start_ns ? c->rp.offered_ns : c->start_ns;
  return last > from ? last : from;
}

static void check_liveness(bf_client *c, uint64_t now) {
  uint64_t limit = (uint64_t)(c->cli->timeout_s * 1e9);
  if (now - heard_ns(c) < limit) {
    if (c->silent_reported && bf_pump_last_data_ns(c->pump) > c->start_ns) {
      bf_client_say(c, "data from %s again", bf_pump_peer_name(c->pump));
      c->silent_reported = 0;
    }
    return;
  }
  if (c->silent_reported || bf_rpath_pending(c, now)) return;
  char hint[1400];
  if (c->ctl && !bf_pump_last_data_ns(c->pump)) /* the sender runs: its data path is shut */
    bf_client_say(c,
                  "no data from %s for %g s: the control session is up, so the sender runs, but "
                  "the data path did not open%s%s",
                  bf_pump_peer_name(c->pump), c->cli->timeout_s,
                  bf_rpath_no_data_hint(c, hint, sizeof hint), c->cli->wait ? " (waiting)" : "");
  else
    bf_client_say(c, "no data from %s for %g s \xe2\x80\x94 is the sender running?%s",
                  bf_pump_peer_name(c->pump), c->cli->timeout_s, c->cli->wait ? " (waiting)" : "");
  c->silent_reported = 1;
  if (!c->cli->wait) {
    c->done = 1;
    c->exit_code = 1;
    c->end_reason = "no data";
  }
}

/* AUs come but none decodes (no keyframe ever, or the decoder refuses them):
 * said once, a second after the first AU, rather than nothing until the end. */
#define UNDECODABLE_NS BF_SEC_NS
static void check_undecodable(bf_client *c, uint64_t now) {
  if (c->undecodable_said || c->pictures || !c->first_au_ns ||
      now - c->first_au_ns < UNDECODABLE_NS)
    return;
  c->undecodable_said = 1;
  const bf_decode_gate *g = &c->gate;
  bf_client_say(c,
                "no picture yet: %llu frames received, %s; %llu keyframe requests sent "
                "(is the sender's encoder sending keyframes?)",
                (unsigned long long)c->st.frames_completed,
                g->keyframes ? "the decoder rejected every keyframe" : "none of them a keyframe",
                (unsigned long long)g->requests_new);
}

/* The data plane's BYE, or the control session's Bye and its grace: drain
 * what is queued, then stop. */
static void check_end(bf_client *c, uint64_t now) {
  uint32_t reason;
  /* while reconnecting, a BYE is the old session's (its sender replaced it) */
  if (c->reconnecting && bf_pump_bye(c->pump, &reason)) bf_pump_clear_bye(c->pump);
  if (!c->ending && !c->reconnecting && bf_pump_bye(c->pump, &reason)) {
    if (!c->ctl_bye_ns) /* else the control session's Bye said so */
      bf_client_say(c, "the sender ended the stream%s",
                    reason == BF_BYE_REPLACED ? " (another client took over)"
                    : reason == BF_BYE_ERROR  ? " after an error"
                                              : "");
    /* the stream ended, but in an error: the exit code says so */
    if (reason == BF_BYE_ERROR && !c->exit_code) c->exit_code = 1;
    c->ending = 1;
  }
  if (!c->ending && c->ctl_bye_ns && now >= c->ctl_bye_ns + BF_CLIENT_BYE_GRACE_NS) c->ending = 1;
}

/* Loss windows into the statistics, a keyframe request when the gate wants
 * one (none into the void while the sender is silent). */
static void send_feedback(bf_client *c, uint64_t now) {
  bf_pump_window win;
  if (bf_pump_tick(c->pump, now, &win)) {
    bf_stats_on_packets(&c->st, win.expected, win.received);
    bf_stats_on_late(&c->st, win.uncredited);
    if (c->report) bf_report_on_packets(c->report, win.expected, win.received, now);
  }
  bf_feedback fb;
  if (c->silent_reported || !bf_decode_gate_poll(&c->gate, now, &fb)) return;
  bf_pump_send_feedback(c->pump, &fb);
  if (!c->ep_open && c->n_ep < BF_CLIENT_EPISODES) {
    c->ep_open = 1;
    c->rec_ep[c->n_ep].id = fb.u.keyframe.request_id;
    c->rec_ep[c->n_ep].request_ns = now;
    c->rec_ep[c->n_ep].request_idx = c->last_idx;
  }
  bf_client_verbose(c, "keyframe request %u (frames %u..%u)", fb.u.keyframe.request_id,
                    fb.u.keyframe.first_lost, fb.u.keyframe.last_lost);
}

static void stream_stopped(bf_client *c) {
  c->done = 1;
  c->end_reason = "signal";
}

static bf_turn stream_work(bf_client *c, uint64_t t0) {
  int r = bf_pump_receive(c->pump, 8);
  if (r < 0) {
    bf_client_say(c, "receive failed: %s", bf_strerror(r));
    c->done = 1;
    c->exit_code = 1;
    c->end_reason = "socket";
    return BF_TURN_END;
  }
  uint64_t now = bf_clock_epoch_ns();
  bf_pump_counters pc;
  bf_pump_counters_get(c->pump, &pc);
  if (pc.resumes != c->resumes) { /* video again after a silence: maybe a new sender */
    c->resumes = pc.resumes;
    bf_playback_restart(c);
  }
  bf_playback_take_events(c, now);
  if (c->audio) bf_astream_tick(c->audio, now, bf_client_clock_offset(c));
  bf_client_settle(c, now, 0); /* fates whose FRAME_INFO came in this batch */
  c->net_ns += bf_clock_epoch_ns() - t0;

  if (c->ctl) bf_connect_service(c, now);
  bf_rpath_tick(c, now);
  if (c->done) return BF_TURN_END;
  check_end(c, now);
  if (!c->ending) check_liveness(c, now);
  check_undecodable(c, now);
  /* held AUs, and AUs the gate drops anyway, are not a decoder backlog; nor
   * is what queued before the decoder showed what a decode costs (the first
   * picture pays for its decoder's set-up and the window's first present:
   * decode_gate.h) */
  uint32_t backlog = bf_decode_gate_decode_cost(&c->gate) ? bf_playback_backlog(c) : 0;
  if (!c->cli->no_skip_to_live && bf_decode_gate_backlog(&c->gate, backlog, now))
    bf_playback_skip_to_live(c, now);
  send_feedback(c, now);
  return BF_TURN_IDLE;
}

static bf_turn stream_ui(bf_client *c, bf_ui_action a, uint64_t now, int *redraw) {
  (void)now;
  switch (a) {
  case BF_UI_QUIT:
    c->done = 1;
    c->end_reason = "quit";
    break;
  case BF_UI_OVERLAY:
    bf_playback_set_overlay(c, (bf_overlay_level)((c->ov.level + 1) % BF_OVERLAY_COUNT_));
    *redraw = 1;
    break;
  case BF_UI_MUTE:
    if (c->audio) bf_client_say(c, "sound %s", bf_astream_toggle_mute(c->audio) ? "muted" : "on");
    *redraw = 1;
    break;
  case BF_UI_FULLSCREEN:
    bf_client_verbose(c, "fullscreen %s", bf_display_is_fullscreen(c->display) ? "on" : "off");
    bf_playback_set_overlay(c, c->ov.level);
    *redraw = 1;
    break;
  case BF_UI_MOUSE_MODE:
  case BF_UI_RELEASE:
    if (c->input) bf_fwd_action(c->input, a);
    break;
  case BF_UI_REDRAW:
    bf_playback_set_overlay(c, c->ov.level); /* the font size follows the window */
    *redraw = 1;
    break;
  case BF_UI_NONE:
  case BF_UI_TEXT: /* typing is for the setup screens */
  case BF_UI_ENTER:
  case BF_UI_BACKSPACE:
  case BF_UI_CANCEL:
  case BF_UI_TAB:
    break;
  }
  return BF_TURN_IDLE;
}

static void stream_redraw(bf_client *c) {
  if (!c->done) bf_playback_redraw(c);
}

/* The window's keyboard, mouse and pads: to the input stage, if any. */
static void stream_input(bf_client *c, const bf_input_event *e, uint64_t now) {
  if (c->input && !c->done) bf_fwd_take(c->input, e, now);
}

static bf_turn stream_after_ui(bf_client *c, uint64_t now) {
  if (c->done) return BF_TURN_END;
  if (c->input) bf_fwd_tick(c->input, now); /* this turn's input goes out before decoding */
  if (now >= c->end_ns) {
    bf_playback_present(c);
    c->done = 1;
    c->end_reason = "duration";
    return BF_TURN_END;
  }
  /* a window that a slow decoder would freeze gets the newest picture
   * (bf_playback_present_due), then the queue goes on */
  if (bf_au_queue_len(&c->q) && bf_playback_present_due(c, now)) {
    bf_playback_present(c);
    return BF_TURN_BUSY;
  }
  /* back to the socket before the next AU */
  if (bf_au_queue_len(&c->q) && bf_playback_decode_one(c))
    return c->done ? BF_TURN_END : BF_TURN_BUSY;
  bf_playback_present(c);
  if (c->ending && !c->backpressure) { /* AUs still waiting in the reassembler come first */
    c->done = 1;
    c->end_reason = "bye";
    return BF_TURN_END;
  }
  now = bf_clock_epoch_ns();
  if (c->display && c->ov.level != BF_OVERLAY_OFF && now >= c->next_text_ns) {
    bf_playback_overlay_text(c, now);
    if (now - c->last_present_ns >= 250 * MS) bf_playback_redraw(c);
  }
  return BF_TURN_IDLE;
}

/* Nothing to do: sleep until the socket, the control socket, the window or a
 * timer. */
static void stream_arm(bf_client *c, bf_evloop *l, uint64_t now) {
  int fd = bf_pump_fd(c->pump);
  bf_evloop_add(l, fd, POLLIN);
  if (fd < 0) bf_evloop_deadline(l, now + MS); /* no socket (a loopback test pair): look again */
  bf_evloop_deadline(l, min_u64(bf_pump_next_due(c->pump), c->end_ns));
  if (c->audio) {
    /* the device's reports are drained at least every 50 ms */
    bf_evloop_deadline(l, bf_astream_next_due(c->audio));
    bf_evloop_deadline(l, now + 50 * MS);
  }
  if (!c->silent_reported) {
    bf_evloop_deadline(l, bf_decode_gate_next_due(&c->gate));
    /* while a relay may still open the path, silence is not judged yet */
    if (!bf_rpath_pending(c, now))
      bf_evloop_deadline(l, heard_ns(c) + (uint64_t)(c->cli->timeout_s * 1e9));
    bf_evloop_deadline(l, bf_rpath_next_due(c, now));
  }
  if (c->ctl) {
    bf_evloop_deadline(l, bf_cctl_deadline(c->ctl));
    c->slot_ctl = bf_evloop_add(l, bf_cctl_fd(c->ctl), bf_cctl_poll_events(c->ctl));
  }
  if (c->ctl_bye_ns) bf_evloop_deadline(l, c->ctl_bye_ns + BF_CLIENT_BYE_GRACE_NS);
  if (c->await_n) bf_evloop_deadline(l, c->await[c->await_head].until_ns);
  if (c->input) bf_evloop_deadline(l, bf_fwd_next_due(c->input));
  if (c->reconnecting) bf_evloop_deadline(l, c->reconnect_at_ns);
  if (c->first_au_ns && !c->pictures && !c->undecodable_said)
    bf_evloop_deadline(l, c->first_au_ns + UNDECODABLE_NS);
  if (c->display && c->ov.level != BF_OVERLAY_OFF) bf_evloop_deadline(l, c->next_text_ns);
}

static void stream_woken(bf_client *c, const bf_evloop *l, uint64_t now) {
  (void)now;
  if (c->slot_ctl >= 0 && bf_evloop_revents(l, c->slot_ctl)) c->ctl_ready = 1;
  c->slot_ctl = -1;
}

const bf_phase bf_streaming_phase = {
    .name = "stream",
    .stopped = stream_stopped,
    .work = stream_work,
    .ui = stream_ui,
    .redraw = stream_redraw,
    .input = stream_input,
    .after_ui = stream_after_ui,
    .arm = stream_arm,
    .woken = stream_woken,
};
