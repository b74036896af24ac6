/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The end of a session: summary, --stats-json's end, --report. See
 * summary.h.
 */
#include "summary.h"

#include <bildfunk/clock.h>
#include <bildfunk/ctl_codec.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

/* CPU seconds (user + system) of the process so far. */
static double cpu_seconds(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
         (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

void bf_summary_begin(bf_client *c) {
  c->loop_cpu0_s = cpu_seconds();
  c->loop_start_ns = bf_clock_epoch_ns();
  if (c->report) bf_report_init(c->report, c->loop_start_ns); /* its time counts from here */
}

/* The network side's figures, read once. */
typedef struct net_figures {
  int64_t off;
  uint64_t rtt;
  int synced;
  bf_reassembler_stats rs;
  bf_pump_counters pc;
  uint64_t garbage;
} net_figures;

static void net_figures_get(const bf_client *c, net_figures *n) {
  n->off = 0;
  n->rtt = 0;
  n->synced = bf_clocksync_get(bf_pump_clock(c->pump), &n->off, &n->rtt) == 0;
  bf_pump_reassembler_stats(c->pump, &n->rs);
  bf_pump_counters_get(c->pump, &n->pc);
  n->garbage = n->pc.garbage + n->pc.foreign;
  for (int i = BF_REJECT_OVERSIZE; i < BF_REJECT_PROBE; i++)
    n->garbage += n->rs.rejected[i];
}

/* The session's figures as JSON members (no braces) into |out|. */
static void json_session(const bf_client *c, const net_figures *n, uint64_t end_ns, char *out,
                         size_t cap) {
  /* CPU of the session loop: what an idle or streaming client costs */
  double cpu_s = cpu_seconds() - c->loop_cpu0_s;
  double wall_s = (double)(end_ns - c->loop_start_ns) / 1e9;
  const bf_pump_counters *pc = &n->pc;
  const bf_decode_gate *g = &c->gate;
  snprintf(out, cap,
           "\"peer\": \"%s\", \"end\": \"%s\", \"exit_code\": %d, \"codec\": \"%s\", "
           "\"decoder\": \"%s\", \"decoder_fallbacks\": %llu, \"renderer\": \"%s\", "
           "\"width\": %d, \"height\": %d, "
           "\"fps\": %.3f, \"nominal_fps\": %.3f, \"pictures\": %llu, \"decode_errors\": %llu, "
           "\"keyframe_requests\": %llu, \"keyframe_request_datagrams\": %llu, "
           "\"keyframes\": %llu, \"skips\": %llu, \"catchups\": %llu, \"gaps\": %llu, "
           "\"empty_aus\": %llu, "
           "\"clock_synced\": %s, \"clock_offset_ms\": %.4f, \"rtt_ms\": %.4f, "
           "\"datagrams\": %llu, \"video_datagrams\": %llu, \"control_datagrams\": %llu, "
           "\"garbage_datagrams\": %llu, \"pongs\": %llu, \"punches\": %llu, "
           "\"punches_received\": %llu, "
           "\"reassembler_rejected\": %llu, \"recv_batches\": %llu, \"recv_gro\": %s, "
           "\"recv_coalesced\": %llu, "
           "\"reordered_datagrams\": %llu, \"duplicate_datagrams\": %llu, "
           "\"reorder_late_max_ms\": %.3f, \"reorder_allowance_ms\": %.3f, \"holds\": %llu, "
           "\"holds_filled\": %llu, \"holds_expired\": %llu, \"shorts_ignored\": %llu, "
           "\"byes\": %llu, \"byes_ignored\": %llu, \"late_after_window\": %llu, "
           "\"wall_s\": %.3f, \"cpu_s\": %.3f, \"cpu_pct\": %.3f, \"net_cpu_pct\": %.4f",
           bf_pump_peer_name(c->pump), c->end_reason ? c->end_reason : "?", c->exit_code,
           c->dec ? bf_codec_name(bf_decoder_codec(c->dec)) : "none",
           c->dec ? bf_decoder_describe(c->dec) : "none", (unsigned long long)c->decoder_fallbacks,
           c->display ? bf_display_describe(c->display) : "headless", c->width, c->height,
           c->interval_ns ? 1e9 / (double)c->interval_ns : 0.0, bf_client_nominal_fps(c),
           (unsigned long long)c->pictures, (unsigned long long)c->decode_errors,
           (unsigned long long)g->requests_new, (unsigned long long)g->requests_sent,
           (unsigned long long)g->keyframes, (unsigned long long)g->skips,
           (unsigned long long)g->catchups, (unsigned long long)g->gaps,
           (unsigned long long)c->st.outcome[BF_OUT_EMPTY], n->synced ? "true" : "false",
           (double)n->off / 1e6, (double)n->rtt / 1e6, (unsigned long long)pc->datagrams,
           (unsigned long long)pc->video, (unsigned long long)pc->control,
           (unsigned long long)n->garbage, (unsigned long long)pc->pongs,
           (unsigned long long)pc->punches, (unsigned long long)pc->punches_rx,
           (unsigned long long)(n->rs.packets - n->rs.rejected[BF_ACCEPT]),
           (unsigned long long)pc->batches, pc->gro ? "true" : "false",
           (unsigned long long)pc->rx_coalesced, (unsigned long long)pc->reordered,
           (unsigned long long)pc->duplicates, (double)pc->reorder_late_max_ns / 1e6,
           (double)g->allow_ns / 1e6, (unsigned long long)g->holds,
           (unsigned long long)g->holds_filled, (unsigned long long)g->holds_expired,
           (unsigned long long)g->shorts_ignored, (unsigned long long)pc->byes,
           (unsigned long long)pc->byes_ignored, (unsigned long long)pc->late_after_window, wall_s,
           cpu_s, wall_s > 0 ? 100.0 * cpu_s / wall_s : 0.0,
           wall_s > 0 ? 100.0 * (double)c->net_ns / 1e9 / wall_s : 0.0);
}

/* ", \"reassembler_jumps\": N, \"rejected\": {...}": every datagram the
 * reassembler dropped, by reason (bf_reject_name), and how often its window
 * moved to a corroborated far index. */
static void json_rejected(const net_figures *n, char *out, size_t cap) {
  size_t used = (size_t)snprintf(out, cap, ", \"reassembler_jumps\": %llu, \"rejected\": {",
                                 (unsigned long long)n->rs.jumps);
  for (int i = BF_ACCEPT + 1; i < BF_REJECT_COUNT_ && used < cap; i++)
    used += (size_t)snprintf(out + used, cap - used, "%s\"%s\": %llu", i > 1 ? ", " : "",
                             bf_reject_name((bf_reject)i), (unsigned long long)n->rs.rejected[i]);
  if (used < cap) snprintf(out + used, cap - used, "}");
}

/* ", \"backpressure_waits\": ...": --skip-to-live off holding the stream back
 * at a full queue, and AUs dropped at a full queue with it on. */
static void json_queue(const bf_client *c, char *out, size_t cap) {
  uint64_t bp = c->backpressure_ns;
  if (c->backpressure) bp += bf_clock_epoch_ns() - c->backpressure_since_ns;
  snprintf(out, cap,
           ", \"backpressure_waits\": %llu, \"backpressure_ms\": %.3f, \"queue_full_drops\": %llu",
           (unsigned long long)c->backpressure_waits, (double)bp / 1e6,
           (unsigned long long)c->queue_full_drops);
}

/* ", \"seal\": {...}"; returns whether the data plane was sealed. */
static int json_seal(const bf_client *c, const net_figures *n, char *out, size_t cap) {
  bf_opener_stats os;
  int sealed = bf_pump_seal_stats(c->pump, &os);
  snprintf(out, cap,
           ", \"seal\": {\"sealed_mode\": %d, \"opened\": %llu, \"short\": %llu, "
           "\"oversize\": %llu, \"replay\": %llu, \"replay_old\": %llu, \"replay_dup\": %llu, "
           "\"bad_tag\": %llu, \"sealed\": %llu, \"seal_failed\": %llu}",
           sealed, (unsigned long long)os.opened, (unsigned long long)os.short_,
           (unsigned long long)os.oversize, (unsigned long long)(os.replay_old + os.replay_dup),
           (unsigned long long)os.replay_old, (unsigned long long)os.replay_dup,
           (unsigned long long)os.bad_tag, (unsigned long long)n->pc.sealed,
           (unsigned long long)n->pc.seal_failed);
  return sealed;
}

/* ", \"control\": {...}": the control session, or direct mode. */
static void json_control(const bf_client *c, int sealed, char *out, size_t cap) {
  char esc[sizeof c->ctl_end];
  size_t k = 0;
  for (const char *p = c->ctl_end; *p && k + 2 < sizeof esc; p++) {
    if (*p == '"' || *p == '\\') esc[k++] = '\\';
    esc[k++] = (unsigned char)*p < 0x20 ? ' ' : *p;
  }
  esc[k] = 0;
  int by_peer = 0;
  uint32_t why = c->ctl ? bf_cctl_reason(c->ctl, &by_peer) : 0;
  snprintf(out, cap,
           ", \"control\": {\"mode\": \"%s\", \"sealed\": %d, \"endpoint\": \"%s\", "
           "\"data_via\": \"%s\", \"paired_now\": %d, \"closed\": %d, \"bye_reason\": %u, "
           "\"by_peer\": %d, \"reconnects\": %llu, \"reconnect_attempts\": %llu, \"end\": \"%s\"}",
           c->ctl ? "control" : "direct", c->ctl ? c->ctl_sealed : sealed,
           c->ctl ? bf_cctl_endpoint(c->ctl) : "", c->data_via, c->ctl_paired_now,
           c->ctl ? bf_cctl_state_get(c->ctl) == BF_CCTL_CLOSED : 0, why, by_peer,
           (unsigned long long)c->reconnects, (unsigned long long)c->reconnect_attempts, esc);
}

/* ", \"path\": {...}": the data path (docs/protocol.md 13), its RTT (the
 * clock pings' round trip) and, relayed, the relay's counters. */
static void json_path(const bf_client *c, char *out, size_t cap) {
  bf_channel_relay_status st;
  bf_channel_relay_status_get(bf_pump_channel(c->pump), &st);
  int64_t off;
  uint64_t rtt = 0;
  int synced = bf_clocksync_get(bf_pump_clock(c->pump), &off, &rtt) == 0;
  char mapped[BF_ADDR_STRLEN] = "", peer[BF_ADDR_STRLEN] = "", err[sizeof c->rp.err];
  snprintf(err, sizeof err, "%s", c->rp.state == BF_RPATH_FAILED ? c->rp.err : "");
  for (char *p = err; *p; p++) /* JSON-safe */
    if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20) *p = '\'';
  if (st.mapped.len) bf_addr_format(&st.mapped, mapped, sizeof mapped);
  if (st.peer.len) bf_addr_format(&st.peer, peer, sizeof peer);
  snprintf(out, cap,
           ", \"path\": {\"kind\": \"%s\", \"via\": \"%s\", \"relay\": \"%s\", "
           "\"rtt_ms\": %.3f, \"relay_mapped\": \"%s\", \"relay_peer\": \"%s\", "
           "\"relay_rx\": %llu, \"relay_tx\": %llu, \"relay_indications\": %llu, "
           "\"relay_error\": \"%s\"}",
           bf_rpath_relayed(c) ? "relayed" : "direct", bf_rpath_relayed(c) ? c->rp.server : "",
           c->rp.state == BF_RPATH_OFF      ? "off"
           : c->rp.state == BF_RPATH_FAILED ? "failed"
                                            : "ready",
           synced ? (double)rtt / 1e6 : 0.0, mapped, peer, (unsigned long long)st.rx,
           (unsigned long long)st.tx, (unsigned long long)st.indications, err);
}

/* ", \"recoveries\": [...]": keyframe request -> keyframe on screen. */
static void json_recoveries(const bf_client *c, char *out, size_t cap) {
  size_t used = (size_t)snprintf(out, cap, ", \"recoveries\": [");
  for (size_t i = 0; i < c->n_ep && used < cap; i++)
    used += (size_t)snprintf(out + used, cap - used,
                             "%s{\"request_id\": %u, \"request_ns\": %llu, \"present_ns\": %llu, "
                             "\"ms\": %.3f, \"frames\": %d}",
                             i ? ", " : "", c->rec_ep[i].id,
                             (unsigned long long)c->rec_ep[i].request_ns,
                             (unsigned long long)c->rec_ep[i].present_ns,
                             (double)(c->rec_ep[i].present_ns - c->rec_ep[i].request_ns) / 1e6,
                             (int)bf_seq32_diff(c->rec_ep[i].key_idx, c->rec_ep[i].request_idx));
  if (used < cap) snprintf(out + used, cap - used, "]");
}

/* ", \"input_to_photon\": {...}, \"input\": {...}": the input stage's
 * latency and counters (zeros without one). */
static void json_input(const bf_client *c, char *out, size_t cap) {
  bf_photon_view ph, ap;
  bf_fwd_stats fs;
  memset(&ph, 0, sizeof ph);
  memset(&ap, 0, sizeof ap);
  memset(&fs, 0, sizeof fs);
  const bf_gamepads *gp = c->input ? bf_fwd_pads(c->input) : NULL;
  const bf_vpad *vp = c->input ? bf_fwd_vpad(c->input) : NULL;
  if (c->input) {
    bf_photon_session(bf_fwd_photon(c->input), &ph);
    bf_photon_apply(bf_fwd_photon(c->input), &ap);
    bf_fwd_stats_get(c->input, &fs);
  }
  snprintf(out, cap,
           ", \"input_to_photon\": {\"samples\": %llu, \"p50_ms\": %.3f, \"p95_ms\": %.3f, "
           "\"p99_ms\": %.3f, \"max_ms\": %.3f, \"mean_ms\": %.3f, \"pending\": %llu, "
           "\"apply_samples\": %llu, \"apply_p50_ms\": %.3f, \"apply_p95_ms\": %.3f, "
           "\"apply_p99_ms\": %.3f, \"apply_max_ms\": %.3f}"
           ", \"input\": {\"active\": %d, \"granted\": %d, \"mouse\": \"%s\", \"keys\": %llu, "
           "\"buttons\": %llu, \"motions\": %llu, \"wheels\": %llu, \"pad_events\": %llu, "
           "\"events\": %llu, \"events_dropped\": %llu, \"acked\": %llu, \"datagrams\": %llu, "
           "\"resent\": %llu, \"keepalives\": %llu, \"send_dropped\": %llu, \"states\": %llu, "
           "\"bad_states\": %llu, \"bad_acks\": %llu, \"sender_flags\": %u, "
           "\"focus_releases\": %llu, \"pads_ignored\": %llu, \"rumble_updates\": %llu, "
           "\"rumble_calls\": %llu, \"virtual_pad_rumbles\": %llu, "
           "\"virtual_pad_last_rumble\": [%u, %u]}",
           (unsigned long long)ph.n, ph.p50_ms, ph.p95_ms, ph.p99_ms, ph.max_ms, ph.mean_ms,
           (unsigned long long)(c->input ? bf_photon_pending(bf_fwd_photon(c->input)) : 0),
           (unsigned long long)ap.n, ap.p50_ms, ap.p95_ms, ap.p99_ms, ap.max_ms, c->input != NULL,
           (c->welcome_flags & BF_CTL_WELCOME_INPUT) != 0,
           c->input ? bf_fwd_mouse_mode(c->input) : "", (unsigned long long)fs.keys,
           (unsigned long long)fs.buttons, (unsigned long long)fs.motions,
           (unsigned long long)fs.wheels, (unsigned long long)fs.pad_events,
           (unsigned long long)fs.link.events, (unsigned long long)fs.link.events_dropped,
           (unsigned long long)fs.link.acked, (unsigned long long)fs.datagrams,
           (unsigned long long)fs.link.resent, (unsigned long long)fs.link.keepalives,
           (unsigned long long)fs.send_dropped, (unsigned long long)fs.states,
           (unsigned long long)fs.bad_states, (unsigned long long)fs.link.bad_acks,
           (unsigned)fs.sender_flags, (unsigned long long)fs.focus_releases,
           (unsigned long long)(gp ? gp->ignored : 0), (unsigned long long)(gp ? gp->rumble_updates : 0),
           (unsigned long long)(gp ? gp->rumble_calls : 0), (unsigned long long)(vp ? vp->rumbles : 0),
           vp ? vp->last_low : 0u, vp ? vp->last_high : 0u);
}

static void write_json(bf_client *c, const net_figures *n, uint64_t end_ns) {
  char extra[16384]; /* the session, seal, control, recoveries (32), audio, input */
  json_session(c, n, end_ns, extra, sizeof extra);
  size_t used = strlen(extra);
  json_rejected(n, extra + used, sizeof extra - used);
  used += strlen(extra + used);
  json_queue(c, extra + used, sizeof extra - used);
  used += strlen(extra + used);
  int sealed = json_seal(c, n, extra + used, sizeof extra - used);
  used += strlen(extra + used);
  json_control(c, sealed, extra + used, sizeof extra - used);
  used += strlen(extra + used);
  json_path(c, extra + used, sizeof extra - used);
  used += strlen(extra + used);
  json_recoveries(c, extra + used, sizeof extra - used);
  used += strlen(extra + used);
  bf_astream_figures af;
  memset(&af, 0, sizeof af);
  af.device = "off";
  if (c->audio) bf_astream_figures_get(c->audio, &af);
  bf_astream_json(&af, extra + used, sizeof extra - used);
  used += strlen(extra + used);
  json_input(c, extra + used, sizeof extra - used);
  if (bf_stats_json_close(&c->json, &c->st, extra) < 0) {
    bf_client_say(c, "cannot write the statistics file");
    if (!c->exit_code) c->exit_code = 1;
  }
  c->json_open = 0;
}

/* What the report says about the session: the sender as named and its
 * addresses (the control peer and the sender's data port, never a relay's),
 * what was streamed and decoded, when and how long. */
static void report_facts(const bf_client *c, uint64_t end_ns, bf_report_facts *x) {
  memset(x, 0, sizeof *x);
  const char *peer = bf_pump_peer_name(c->pump);
  snprintf(x->sender, sizeof x->sender, "%s",
           c->target[0]     ? c->target
           : c->cli->direct ? c->cli->direct
                            : "");
  snprintf(x->sender_address, sizeof x->sender_address, "%s",
           c->ctl ? bf_cctl_endpoint(c->ctl) : peer);
  snprintf(x->data_address, sizeof x->data_address, "%s", c->ctl ? c->ctl_data : peer);
  if (c->ctl && c->data_via[0])
    snprintf(x->mode, sizeof x->mode, "control session, sealed, through the relay %s", c->data_via);
  else
    snprintf(x->mode, sizeof x->mode, "%s",
             c->ctl                  ? "control session, sealed"
             : c->cli->seal_key_file ? "direct, sealed with a key file"
                                     : "direct, unencrypted");
  if (c->ctl) bf_rpath_describe(c, x->path, sizeof x->path);
  snprintf(x->codec, sizeof x->codec, "%s", c->dec ? bf_codec_name(bf_decoder_codec(c->dec)) : "");
  snprintf(x->decoder, sizeof x->decoder, "%s", c->dec ? bf_decoder_describe(c->dec) : "");
  snprintf(x->renderer, sizeof x->renderer, "%s",
           c->display ? bf_display_describe(c->display) : "headless");
  x->width = c->width;
  x->height = c->height;
  x->fps = bf_client_nominal_fps(c);
  x->start_unix = (int64_t)(c->loop_start_ns / 1000000000ull); /* the epoch clock: clock.h */
  x->length_s = (double)(end_ns - c->loop_start_ns) / 1e9;
  snprintf(x->version, sizeof x->version, "%s", BF_VERSION_STRING);
}

static void write_report(bf_client *c, uint64_t end_ns) {
  char title[360];
  snprintf(title, sizeof title, "bildfunk session report - %.320s",
           c->target[0] ? c->target : bf_pump_peer_name(c->pump));
  report_facts(c, end_ns, &c->report->facts);
  const bf_decode_gate *g = &c->gate;
  bf_astream_figures af;
  memset(&af, 0, sizeof af);
  if (c->audio) bf_astream_figures_get(c->audio, &af);
  bf_photon_view ph;
  memset(&ph, 0, sizeof ph);
  if (c->input) bf_photon_session(bf_fwd_photon(c->input), &ph);
  const bf_report_kv extra[] = {
      {"pictures decoded", (double)c->pictures},
      {"decode errors", (double)c->decode_errors},
      {"keyframe requests", (double)g->requests_new},
      {"keyframe request datagrams", (double)g->requests_sent},
      {"keyframes", (double)g->keyframes},
      {"recovered at a recovery point", (double)g->recovery_points},
      {"skips to live", (double)g->skips},
      {"backlogs decoded through", (double)g->catchups},
      {"gaps", (double)g->gaps},
      {"frames held for a reordered one", (double)g->holds},
      {"holds that ran out (gaps)", (double)g->holds_expired},
      {"audio frames received", (double)af.frames},
      {"audio frames rebuilt by FEC", (double)af.recovered},
      {"audio frames concealed", (double)af.concealed},
      {"audio frames late", (double)af.late},
      {"audio latency p50 (ms)", af.lat_s50_ms},
      {"audio latency p95 (ms)", af.lat_s95_ms},
      {"audio buffer target (ms)", af.target_ms},
      {"A/V offset, timestamps (ms)", af.av_offset_ms},
      {"A/V offset, test markers (ms)", af.have_marker ? af.marker_median_ms : 0.0},
      {"input-to-photon samples", (double)ph.n},
      {"input-to-photon p50 (ms)", ph.p50_ms},
      {"input-to-photon p95 (ms)", ph.p95_ms},
      {"input-to-photon p99 (ms)", ph.p99_ms},
  };
  FILE *f = c->report_f; /* opened with the other outputs */
  c->report_f = NULL;
  int r = f ? bf_report_write(c->report, &c->st, title, extra, sizeof extra / sizeof extra[0], f)
            : -EBADF;
  if (f && fclose(f) != 0 && r == 0) r = -EIO;
  if (r < 0) {
    bf_client_say(c, "cannot write the report %s: %s", c->cli->report, strerror(-r));
    if (!c->exit_code) c->exit_code = 1;
  }
}

void bf_summary_write(bf_client *c, uint64_t end_ns) {
  bf_stats_view v;
  bf_stats_view_session(&c->st, &v);
  net_figures n;
  net_figures_get(c, &n);
  if (c->json_open) write_json(c, &n, end_ns);
  if (c->report) write_report(c, end_ns);
  if (c->cli->quiet) return;
  fprintf(stderr,
          "bildfunk: %llu pictures (%llu shown) from %s, %llu frames lost, %llu repaired by FEC, "
          "%llu decode errors, %llu keyframe requests; loss %.2f %%\n",
          (unsigned long long)c->pictures, (unsigned long long)c->st.frames_presented,
          bf_pump_peer_name(c->pump), (unsigned long long)c->st.frames_lost,
          (unsigned long long)c->st.frames_repaired, (unsigned long long)c->decode_errors,
          (unsigned long long)c->gate.requests_new, v.loss_total_pct);
  if (v.n[BF_STAGE_E2E])
    fprintf(stderr,
            "bildfunk: end-to-end p50 %.2f p95 %.2f p99 %.2f ms; decode p50 %.2f p95 %.2f ms; "
            "clock offset %+.3f ms (rtt %.3f ms%s)\n",
            v.p50[BF_STAGE_E2E], v.p95[BF_STAGE_E2E], v.p99[BF_STAGE_E2E], v.p50[BF_STAGE_DECODE],
            v.p95[BF_STAGE_DECODE], (double)n.off / 1e6, (double)n.rtt / 1e6,
            n.synced ? "" : ", not synced");
  if (c->audio) {
    bf_astream_figures f;
    bf_astream_figures_get(c->audio, &f);
    if (f.playing)
      fprintf(stderr,
              "bildfunk: sound: %llu frames, %llu rebuilt by FEC, %llu concealed, %llu late; "
              "latency p50 %.2f p95 %.2f ms; A/V offset %+.1f ms%s\n",
              (unsigned long long)f.frames, (unsigned long long)f.recovered,
              (unsigned long long)f.concealed, (unsigned long long)f.late, f.lat_s50_ms,
              f.lat_s95_ms, f.have_marker ? f.marker_median_ms : f.av_offset_ms,
              f.have_marker ? " (test markers)" : "");
  }
  if (c->input) {
    bf_photon_view ph;
    bf_photon_session(bf_fwd_photon(c->input), &ph);
    if (ph.n)
      fprintf(stderr, "bildfunk: input-to-photon p50 %.2f p95 %.2f p99 %.2f ms (%llu inputs)\n",
              ph.p50_ms, ph.p95_ms, ph.p99_ms, (unsigned long long)ph.n);
  }
}
