/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The sender's statistics: see send_stats.h.
 */
#include "send_stats.h"

#include "send_ctl.h"
#include "send_input.h"

#include <bildfunk/clock.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

void bf_send_stats_status(bf_send_state *s, uint64_t now) {
  double secs = (double)(now - s->win_start_ns) / 1e9;
  if (!s->o.quiet && s->ss.streaming && secs > 0) {
    fprintf(stderr,
            "bildfunk-send: %5.1f fps %7.2f Mbit/s  encode p50 %5.1f p95 %5.1f ms  "
            "%" PRIu64 " pkts  %" PRIu64 " drops  FEC %u%%%s  GSO %s\n",
            (double)s->win_frames / secs, (double)s->win_bytes * 8 / secs / 1e6,
            (double)bf_hist_percentile(&s->enc_win, 500) / 1e6,
            (double)bf_hist_percentile(&s->enc_win, 950) / 1e6, s->win_packets, s->win_drops,
            s->fec_applied, s->o.fec_auto ? " auto" : "",
            s->o.gso && bf_send_endpoint_transport(&s->ep)->stats.gso_active ? "on" : "off");
  }
  s->win_start_ns = now;
  s->win_frames = s->win_bytes = s->win_packets = s->win_drops = 0;
  bf_hist_reset(&s->enc_win);
}

/* What was streamed: the source, the encoder, the AUs. */
static void write_stream(FILE *f, const bf_send_state *s) {
  fprintf(f, "  \"codec\": \"%s\",\n  \"encoder\": \"%s\",\n", bf_codec_name(s->o.codec),
          s->enc ? bf_encoder_name(s->enc) : "passthrough");
  fprintf(f, "  \"width\": %u, \"height\": %u, \"fps\": %.3f, \"bitrate\": %" PRIu64 ",\n",
          s->sinfo.width, s->sinfo.height, (double)s->sinfo.fps_num / s->sinfo.fps_den, s->bitrate);
  fprintf(f,
          "  \"frames_sent\": %" PRIu64 ", \"au_bytes\": %" PRIu64 ", \"keyframes_sent\": %" PRIu64
          ",\n",
          s->frames_sent, s->au_bytes, s->keyframes_sent);
  fprintf(f,
          "  \"keyframe_misses\": %" PRIu64 ", \"encoder_empty\": %" PRIu64
          ", \"frames_late\": %" PRIu64 ", \"au_too_big\": %" PRIu64 ", \"au_malformed\": %" PRIu64
          ",\n",
          s->keyframe_misses, s->encoder_empty, s->frames_late, s->au_too_big, s->au_malformed);
  fprintf(f, "  \"encoder_switches\": %" PRIu64 ", \"encoder_switch_waits\": %" PRIu64 ",\n",
          s->enc ? bf_encoder_switches(s->enc) : 0, s->enc ? bf_encoder_switch_waits(s->enc) : 0);
  fprintf(f,
          "  \"encode_ms\": {\"p50\": %.3f, \"p95\": %.3f, \"max\": %.3f, \"count\": %" PRIu64
          "},\n",
          (double)bf_hist_percentile(&s->enc_all, 500) / 1e6,
          (double)bf_hist_percentile(&s->enc_all, 950) / 1e6, (double)s->enc_all.max_ns / 1e6,
          s->enc_all.count);
  fprintf(f,
          "  \"intra_refresh\": %d, \"refresh_waves\": %" PRIu64 ", \"recovery_points\": %" PRIu64
          ", \"refresh_abandoned\": %" PRIu64 ",\n",
          s->o.intra_refresh, s->refresh.waves, s->recovery_points, s->refresh.abandoned);
  char pre[16];
  fprintf(f,
          "  \"encoder_guard\": {\"active\": %d, \"preset\": \"%s\", \"steps_down\": %" PRIu64
          ", \"steps_up\": %" PRIu64 ", \"switches\": %" PRIu64 "},\n",
          s->guard.active, bf_enc_guard_preset(&s->guard, pre, sizeof pre), s->guard.steps_down,
          s->guard.steps_up, s->guard_switches);
}

/* Adaptive FEC and rate control. */
static void write_adapt(FILE *f, const bf_send_state *s) {
  fprintf(f,
          "  \"fec\": {\"auto\": %d, \"percent\": %u, \"min_seen\": %u, \"max_seen\": %u, "
          "\"floor\": %u, \"reports\": %" PRIu64 ", \"lossy\": %" PRIu64 ", \"burns\": %" PRIu64
          ", \"reburns\": %" PRIu64 ", \"decays\": %" PRIu64 ", \"changes\": %" PRIu64
          ", \"data_packets\": %" PRIu64 ", \"parity_packets\": %" PRIu64
          ", \"model\": {\"active\": %d, \"p_gb\": %.6f, \"p_bg\": %.4f, \"loss\": %.6f}},\n",
          s->o.fec_auto, s->fec_applied, s->fec_min_seen > s->fec_max_seen ? 0 : s->fec_min_seen,
          s->fec_max_seen, s->fec.floor, s->fec.stats.reports, s->fec.stats.lossy,
          s->fec.stats.burns, s->fec.stats.reburns, s->fec.stats.decays, s->fec.stats.changes,
          s->au_data_packets, s->au_parity_packets, s->o.fec_auto ? s->fec.have_model : 0,
          s->fec.ge.p, s->fec.ge.r, bf_ge_loss(s->fec.ge));
  fprintf(f,
          "  \"rate\": {\"control\": %d, \"budget_bps\": %" PRIu64 ", \"min_bps\": %" PRIu64
          ", \"max_bps\": %" PRIu64 ", \"ceiling_bps\": %" PRIu64 ", \"decreases\": %" PRIu64
          ", \"increases\": %" PRIu64 ", \"held\": %" PRIu64 ", \"undone\": %" PRIu64
          ", \"reports\": %" PRIu64 ", \"encoder_bitrate_now\": %" PRIu64
          ", \"not_applied\": %" PRIu64 "},\n",
          s->o.rate_control, bf_ratectl_budget(&s->rate), s->rate.stats.min_bps,
          s->rate.stats.max_bps, s->rate.cfg.max_bps, s->rate.stats.decreases,
          s->rate.stats.increases, s->rate.stats.held, s->rate.stats.undone, s->rate.stats.reports,
          s->enc ? bf_encoder_bitrate(s->enc) : s->bitrate, s->rate_not_applied);
}

/* The data plane: packets, the socket, the session with the client. */
static void write_data_plane(FILE *f, const bf_send_state *s) {
  const bf_send_session_stats *ss = &s->ss.stats;
  const bf_transport_stats *ts = &bf_send_endpoint_transport(&s->ep)->stats;
  fprintf(f,
          "  \"packets_sent\": %" PRIu64 ", \"packets_dropped\": %" PRIu64
          ", \"send_calls\": %" PRIu64 ", \"pacer_cap_waits\": %" PRIu64 ",\n",
          s->packets_sent, s->packets_dropped, s->send_calls, s->pacer.cap_waits);
  fprintf(f,
          "  \"transport\": {\"tx_packets\": %" PRIu64 ", \"tx_dropped\": %" PRIu64
          ", \"tx_calls\": %" PRIu64 ", \"tx_gso_calls\": %" PRIu64 ", \"gso_active\": %d, "
          "\"rx_packets\": %" PRIu64 ", \"rx_oversize\": %" PRIu64 "},\n",
          ts->tx_packets, ts->tx_dropped, ts->tx_calls, ts->tx_gso_calls, ts->gso_active,
          ts->rx_packets, ts->rx_oversize);
  fprintf(f,
          "  \"session\": {\"clients\": %" PRIu64 ", \"punches\": %" PRIu64
          ", \"punches_denied\": %" PRIu64 ", \"punches_busy\": %" PRIu64
          ", \"retargets\": %" PRIu64 ", \"silences\": %" PRIu64 ", \"byes_received\": %" PRIu64
          ", \"byes_sent\": %" PRIu64 ", \"punches_unauthenticated\": %" PRIu64 ",\n",
          ss->clients, ss->punches, ss->punches_denied, ss->punches_busy, ss->retargets,
          ss->silences, ss->byes, s->ep.byes_sent, ss->punches_unauthenticated);
  fprintf(f,
          "              \"keyframe_requests\": %" PRIu64 ", \"keyframe_ids\": %" PRIu64
          ", \"keyframes_forced\": %" PRIu64 ", \"loss_reports\": %" PRIu64 ", \"pings\": %" PRIu64
          ", \"pongs_sent\": %" PRIu64 ", \"frame_infos_sent\": %" PRIu64 ", \"foreign\": %" PRIu64
          ", \"garbage\": %" PRIu64 "}\n",
          ss->keyframe_requests, ss->keyframe_ids, ss->keyframes_forced, ss->loss_reports,
          ss->pings, s->ep.pongs_sent, s->ep.frame_infos_sent, ss->foreign, ss->garbage);
}

/* The seal (the channel's counters over every key of the run) and the
 * control plane. */
static void write_security(FILE *f, const bf_send_state *s) {
  bf_channel_stats chs;
  bf_opener_stats os;
  bf_channel_stats_get(s->ep.ch, &chs);
  (void)bf_channel_seal_stats(s->ep.ch, &os);
  fprintf(f,
          ",  \"seal\": {\"sealed_mode\": %d, \"sealed\": %" PRIu64 ", \"seal_failed\": %" PRIu64
          ", \"opened\": %" PRIu64 ", \"short\": %" PRIu64 ", \"oversize\": %" PRIu64
          ", \"replay\": %" PRIu64 ", \"replay_old\": %" PRIu64 ", \"replay_dup\": %" PRIu64
          ", \"bad_tag\": %" PRIu64 "}\n",
          bf_channel_sealed(s->ep.ch) || s->ctl_mode, chs.sealed, chs.seal_failed, os.opened,
          os.short_, os.oversize, os.replay_old + os.replay_dup, os.replay_old, os.replay_dup,
          os.bad_tag);
  bf_sctl_stats cs;
  bf_send_ctl_stats(s, &cs);
  fprintf(f,
          ",  \"control\": {\"mode\": \"%s\", \"connections\": %" PRIu64
          ", \"refused_full\": %" PRIu64 ", \"established\": %" PRIu64 ", \"replaced\": %" PRIu64
          ", \"pair_only\": %" PRIu64 ", \"pairings_ok\": %" PRIu64
          ", \"pairings_refused\": %" PRIu64 ", \"rate_limited\": %" PRIu64
          ", \"not_paired\": %" PRIu64 ", \"closed_dead\": %" PRIu64
          ", \"handshake_failed\": %" PRIu64 ", \"pin_reload_failed\": %" PRIu64
          ", \"streams\": %" PRIu64 ", \"stops\": %" PRIu64 "}\n",
          s->ctl_mode ? "control" : "direct", cs.connections, cs.refused_full, cs.established,
          cs.replaced, cs.pair_only, cs.pairings_ok, cs.pairings_refused, cs.rate_limited,
          cs.not_paired, cs.closed_dead, cs.handshake_failed, cs.pin_reload_failed, s->ctl_sessions,
          s->ctl_stops);
  /* the relayed path (send_relay.h): offers taken and made, our relay's counters */
  bf_channel_relay_status rs;
  bf_channel_relay_status_get(s->ep.ch, &rs);
  fprintf(f,
          ",  \"relay\": {\"configured\": %d, \"state\": %d, \"ours\": %d, "
          "\"offers_taken\": %" PRIu64 ", \"offers_made\": %" PRIu64 ", \"rx\": %" PRIu64
          ", \"tx\": %" PRIu64 ", \"indications\": %" PRIu64 ", \"no_peer\": %" PRIu64
          ", \"failed_sent\": %" PRIu64 ", \"client_has_none\": %d, \"stale_released\": %" PRIu64
          "}\n",
          s->relay.configured, (int)rs.state, s->relay.ours, s->relay.offers_taken,
          s->relay.offers_made, rs.rx, rs.tx, rs.indications, rs.no_peer, s->relay.failed_sent,
          s->relay.client_has_none, rs.stale_released);
  /* the opening punches (send_open.h) */
  fprintf(f, ",  \"open\": {\"data_addrs\": %" PRIu64 ", \"punches\": %" PRIu64 "}\n",
          s->open.addrs, s->open.punches);
}

/* The sound (send_audio.h). */
static void write_audio(FILE *f, const bf_send_state *s) {
  bf_send_audio_stats a;
  memset(&a, 0, sizeof a);
  if (s->audio_on) bf_send_audio_stats_get(&s->audio, &a);
  double audio_s = (double)a.frames * s->o.audio_frame_ms / 1e3;
  fprintf(f,
          "  \"audio\": {\"on\": %d, \"source\": \"%s\", \"frame_ms\": %u, \"bitrate\": %u, "
          "\"fec_k\": %u, \"fec_m\": %u, \"starts\": %" PRIu64 ", \"frames\": %" PRIu64
          ", \"opus_bytes\": %" PRIu64 ", \"datagrams\": %" PRIu64 ", \"send_dropped\": %" PRIu64
          ", \"requests\": %" PRIu64 ", \"encode_ms_mean\": %.4f, \"encode_ms_max\": %.4f, "
          "\"thread_cpu_s\": %.4f, \"cpu_per_audio_s\": %.5f, \"thread_nice\": %d},\n",
          s->audio_on, s->audio_on ? bf_send_audio_describe(&s->audio) : "off", s->o.audio_frame_ms,
          s->o.audio_bitrate, s->o.audio_fec_m ? s->o.audio_fec_k : 1, s->o.audio_fec_m, a.starts,
          a.frames, a.bytes, a.datagrams, a.send_dropped, s->ep.audio_requests,
          a.frames ? (double)a.encode_ns_sum / (double)a.frames / 1e6 : 0.0,
          (double)a.encode_ns_max / 1e6, (double)a.cpu_ns / 1e9,
          audio_s > 0 ? (double)a.cpu_ns / 1e9 / audio_s : 0.0, a.nice);
}

int bf_send_stats_write(const bf_send_state *s, const char *path) {
  FILE *f = fopen(path, "w");
  if (!f) return -errno;
  fprintf(f, "{\n");
  write_stream(f, s);
  write_adapt(f, s);
  write_audio(f, s);
  write_data_plane(f, s);
  write_security(f, s);
  bf_send_input_stats_json(s, f);
  fprintf(f, "}\n");
  return fclose(f) == 0 ? 0 : -EIO;
}

void bf_send_stats_summary(const bf_send_state *s) {
  fprintf(stderr,
          "bildfunk-send: sent %" PRIu64 " frames, %" PRIu64 " packets (%" PRIu64
          " dropped), %" PRIu64 " keyframes\n",
          s->frames_sent, s->packets_sent, s->packets_dropped, s->keyframes_sent);
}
