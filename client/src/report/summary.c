/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The end of a session: summary, --stats-json's end, --report. See
 * summary.h.
 */
#include "summary.h"

#include <bildfunk/clock.h>

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
           "\"decoder\": \"%s\", \"renderer\": \"%s\", \"width\": %d, \"height\": %d, "
           "\"fps\": %.3f, \"pictures\": %llu, \"decode_errors\": %llu, "
           "\"keyframe_requests\": %llu, \"keyframe_request_datagrams\": %llu, "
           "\"keyframes\": %llu, \"skips\": %llu, \"gaps\": %llu, "
           "\"clock_synced\": %s, \"clock_offset_ms\": %.4f, \"rtt_ms\": %.4f, "
           "\"datagrams\": %llu, \"video_datagrams\": %llu, \"control_datagrams\": %llu, "
           "\"garbage_datagrams\": %llu, \"pongs\": %llu, \"punches\": %llu, "
           "\"reassembler_rejected\": %llu, \"recv_batches\": %llu, "
           "\"reordered_datagrams\": %llu, \"duplicate_datagrams\": %llu, "
           "\"reorder_late_max_ms\": %.3f, \"reorder_allowance_ms\": %.3f, \"holds\": %llu, "
           "\"holds_filled\": %llu, \"holds_expired\": %llu, \"shorts_ignored\": %llu, "
           "\"byes\": %llu, \"byes_ignored\": %llu, \"late_after_window\": %llu, "
           "\"wall_s\": %.3f, \"cpu_s\": %.3f, \"cpu_pct\": %.3f, \"net_cpu_pct\": %.4f",
           bf_pump_peer_name(c->pump), c->end_reason ? c->end_reason : "?", c->exit_code,
           c->dec ? bf_codec_name(bf_decoder_codec(c->dec)) : "none",
           c->dec ? bf_decoder_describe(c->dec) : "none",
           c->display ? bf_display_describe(c->display) : "headless", c->width, c->height,
           c->interval_ns ? 1e9 / (double)c->interval_ns : 0.0, (unsigned long long)c->pictures,
           (unsigned long long)c->decode_errors, (unsigned long long)g->requests_new,
           (unsigned long long)g->requests_sent, (unsigned long long)g->keyframes,
           (unsigned long long)g->skips, (unsigned long long)g->gaps, n->synced ? "true" : "false",
           (double)n->off / 1e6, (double)n->rtt / 1e6, (unsigned long long)pc->datagrams,
           (unsigned long long)pc->video, (unsigned long long)pc->control,
           (unsigned long long)n->garbage, (unsigned long long)pc->pongs,
           (unsigned long long)pc->punches,
           (unsigned long long)(n->rs.packets - n->rs.rejected[BF_ACCEPT]),
           (unsigned long long)pc->batches, (unsigned long long)pc->reordered,
           (unsigned long long)pc->duplicates, (double)pc->reorder_late_max_ns / 1e6,
           (double)g->allow_ns / 1e6, (unsigned long long)g->holds,
           (unsigned long long)g->holds_filled, (unsigned long long)g->holds_expired,
           (unsigned long long)g->shorts_ignored, (unsigned long long)pc->byes,
           (unsigned long long)pc->byes_ignored, (unsigned long long)pc->late_after_window, wall_s,
           cpu_s, wall_s > 0 ? 100.0 * cpu_s / wall_s : 0.0,
           wall_s > 0 ? 100.0 * (double)c->net_ns / 1e9 / wall_s : 0.0);
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
           "\"by_peer\": %d, \"end\": \"%s\"}",
           c->ctl ? "control" : "direct", c->ctl ? c->ctl_sealed : sealed,
           c->ctl ? bf_cctl_endpoint(c->ctl) : "", c->data_via, c->ctl_paired_now,
           c->ctl ? bf_cctl_state_get(c->ctl) == BF_CCTL_CLOSED : 0, why, by_peer, esc);
}

/* ", \"recoveries\": [...]": keyframe request -> keyframe on screen. */
static void json_recoveries(const bf_client *c, char *out, size_t cap) {
  size_t used = (size_t)snprintf(out, cap, ", \"recoveries\": [");
  for (size_t i = 0; i < c->n_ep && used < cap; i++)
    used += (size_t)snprintf(out + used, cap - used,
                             "%s{\"request_id\": %u, \"request_ns\": %llu, \"present_ns\": %llu, "
                             "\"ms\": %.3f}",
                             i ? ", " : "", c->rec_ep[i].id,
                             (unsigned long long)c->rec_ep[i].request_ns,
                             (unsigned long long)c->rec_ep[i].present_ns,
                             (double)(c->rec_ep[i].present_ns - c->rec_ep[i].request_ns) / 1e6);
  if (used < cap) snprintf(out + used, cap - used, "]");
}

static void write_json(bf_client *c, const net_figures *n, uint64_t end_ns) {
  char extra[8192];
  json_session(c, n, end_ns, extra, sizeof extra);
  size_t used = strlen(extra);
  int sealed = json_seal(c, n, extra + used, sizeof extra - used);
  used += strlen(extra + used);
  json_control(c, sealed, extra + used, sizeof extra - used);
  used += strlen(extra + used);
  json_recoveries(c, extra + used, sizeof extra - used);
  used += strlen(extra + used);
  bf_astream_figures af;
  memset(&af, 0, sizeof af);
  af.device = "off";
  if (c->audio) bf_astream_figures_get(c->audio, &af);
  bf_astream_json(&af, extra + used, sizeof extra - used);
  if (bf_stats_json_close(&c->json, &c->st, extra) < 0) {
    bf_client_say(c, "cannot write the statistics file");
    if (!c->exit_code) c->exit_code = 1;
  }
  c->json_open = 0;
}

static void write_report(bf_client *c) {
  char title[160];
  snprintf(title, sizeof title, "bildfunk session report - %s", bf_pump_peer_name(c->pump));
  const bf_decode_gate *g = &c->gate;
  bf_astream_figures af;
  memset(&af, 0, sizeof af);
  if (c->audio) bf_astream_figures_get(c->audio, &af);
  const bf_report_kv extra[] = {
      {"pictures decoded", (double)c->pictures},
      {"decode errors", (double)c->decode_errors},
      {"keyframe requests", (double)g->requests_new},
      {"keyframe request datagrams", (double)g->requests_sent},
      {"keyframes", (double)g->keyframes},
      {"recovered at a recovery point", (double)g->recovery_points},
      {"skips to live", (double)g->skips},
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
  };
  FILE *f = fopen(c->cli->report, "w");
  int r = f ? bf_report_write(c->report, &c->st, title, extra, sizeof extra / sizeof extra[0], f)
            : -errno;
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
  if (c->report) write_report(c);
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
}
