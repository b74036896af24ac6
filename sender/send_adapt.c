/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The sender's adaptation glue: see send_adapt.h.
 */
#include "send_adapt.h"

#include <bildfunk/wire.h>

#include <stdio.h>

void bf_send_adapt_init(bf_send_state *s) {
  bf_fecctl_init(&s->fec, NULL);
  s->fec_applied = s->o.fec_auto ? bf_fecctl_percent(&s->fec) : s->o.fec_percent;
  s->fec_min_seen = UINT32_MAX;
}

void bf_send_adapt_configure(bf_send_state *s, unsigned shard_bytes, unsigned max_k,
                             int keep_counters) {
  bf_ratectl_stats keep = s->rate.stats;
  bf_ratectl_config rc;
  bf_ratectl_config_default(&rc, s->bitrate, s->fec_applied, shard_bytes, max_k,
                            BF_HEADER_BYTES + BF_SEND_IP_UDP_OVERHEAD, s->sinfo.fps_num,
                            s->sinfo.fps_den);
  bf_ratectl_init(&s->rate, &rc);
  if (!keep_counters) return;
  uint64_t b = bf_ratectl_budget(&s->rate);
  s->rate.stats = keep;
  if (b < s->rate.stats.min_bps) s->rate.stats.min_bps = b;
  if (b > s->rate.stats.max_bps) s->rate.stats.max_bps = b;
}

void bf_send_adapt_reset(bf_send_state *s) {
  bf_fecctl_reset(&s->fec);
  bf_ratectl_reset(&s->rate);
  bf_send_adapt_apply(s);
}

void bf_send_adapt_apply(bf_send_state *s) {
  if (!s->o.rate_control) return;
  uint32_t fec = s->o.fec_auto ? bf_fecctl_percent(&s->fec) : s->o.fec_percent;
  if (s->o.fec_auto && s->fec.have_model == 1 && s->k_mean) { /* measured, not the prior */
    uint32_t share = bf_fecctl_share_percent(&s->fec, s->k_mean);
    if (share > fec) fec = share > BF_MAX_FEC_PERCENT ? BF_MAX_FEC_PERCENT : share;
  }
  uint64_t want = bf_ratectl_encoder_bps(&s->rate, fec);
  uint64_t have = s->enc ? bf_encoder_bitrate(s->enc) : s->bitrate;
  if (want != have && (!s->enc || bf_encoder_set_bitrate(s->enc, want) < 0)) {
    if (s->rate_not_applied++ == 0)
      fprintf(stderr,
              "bildfunk-send: rate control: %s cannot change its bitrate while running; "
              "only FEC and pacing follow the budget\n",
              s->enc ? bf_encoder_name(s->enc) : "a passed-through file");
  }
  uint64_t cap;
  uint32_t burst;
  bf_ratectl_pacing(&s->rate, s->o.rate_cap_bps, s->o.burst, s->packet_bytes, &cap, &burst);
  bf_pacer_set_cap(&s->pacer, cap, burst);
}

static void rate_on_loss(bf_send_state *s, const bf_feedback *fb, uint64_t now) {
  if (!s->o.rate_control) return;
  uint64_t before = bf_ratectl_budget(&s->rate), undone = s->rate.stats.undone;
  if (bf_ratectl_on_report(&s->rate, fb, now, s->packets_sent * s->packet_bytes) == 0) {
    bf_send_adapt_apply(s); /* the FEC share may have changed */
    return;
  }
  bf_send_adapt_apply(s);
  fprintf(stderr,
          "bildfunk-send: rate %.3f -> %.3f Mbit/s (loss %.2f %%, sent %.3f, received %.3f "
          "Mbit/s); encoder %.3f Mbit/s%s\n",
          (double)before / 1e6, (double)bf_ratectl_budget(&s->rate) / 1e6,
          (double)s->rate.last_loss_ppm / 1e4, (double)s->rate.last_sent_bps / 1e6,
          (double)s->rate.last_recv_bps / 1e6,
          (double)(s->enc ? bf_encoder_bitrate(s->enc) : s->bitrate) / 1e6,
          s->rate.stats.undone != undone ? "; cut undone: the loss did not fall (random loss)"
                                         : "");
}

void bf_send_adapt_on_loss(bf_send_state *s, const bf_feedback *fb, uint64_t now) {
  uint32_t before = bf_fecctl_percent(&s->fec);
  if (s->o.verbose)
    fprintf(stderr, "bildfunk-send: loss report: %u ppm, %u frames lost, %u recovered\n",
            fb->u.loss.loss_ppm, fb->u.loss.frames_lost, fb->u.loss.shards_recovered);
  if (s->o.fec_auto && bf_fecctl_on_report(&s->fec, fb, now) == 1)
    fprintf(stderr, "bildfunk-send: FEC %u%% -> %u%% (loss %.4f %%, floor %u%%)\n", before,
            bf_fecctl_percent(&s->fec), (double)s->fec.last_loss_ppm / 1e4, s->fec.floor);
  rate_on_loss(s, fb, now);
}

/* Parity datagrams the rate budget leaves one frame interval beyond
 * |data| datagrams; UINT32_MAX without rate control or while the budget is
 * at its ceiling (no congestion: the model's own cap, fecctl.h, holds). */
static uint32_t budget_parity(const bf_send_state *s, uint32_t data) {
  if (!s->o.rate_control || !s->packet_bytes) return UINT32_MAX;
  if (bf_ratectl_budget(&s->rate) >= s->rate.cfg.max_bps) return UINT32_MAX;
  uint64_t per_frame = bf_ratectl_budget(&s->rate) / 8u * s->interval_ns / 1000000000u;
  uint64_t dg = per_frame / s->packet_bytes;
  return dg > data ? (uint32_t)(dg - data) : 0;
}

/* The block-loss model's parity for the AU of |len| bytes. */
static void model_parity(bf_send_state *s, size_t len, int keyframe) {
  bf_geometry g;
  uint32_t S = s->rate.cfg.shard_bytes, K = s->rate.cfg.max_k;
  bf_geometry_compute((uint32_t)len, S, K, &g);
  uint32_t k_last = bf_geometry_block_k(&g, K, g.block_count - 1);
  int strict = keyframe || g.block_count > 1;
  uint32_t mf = bf_fecctl_block_m(&s->fec, K, strict);
  uint32_t ml = bf_fecctl_block_m(&s->fec, k_last, strict);
  uint32_t rf = bf_fec_recovery_count(K, s->fec_applied);
  uint32_t rl = bf_fec_recovery_count(k_last, s->fec_applied);
  if (mf < rf) mf = rf; /* the model never gives less than the rule */
  if (ml < rl) ml = rl;
  uint64_t want = (uint64_t)(g.block_count - 1) * mf + ml;
  uint64_t rule = (uint64_t)(g.block_count - 1) * rf + rl;
  /* a keyframe is paid over several intervals: measured against the mean AU */
  uint32_t cap = budget_parity(s, keyframe && s->k_mean && s->k_mean < g.total_data ? s->k_mean
                                                                                    : g.total_data);
  if (want > cap) { /* the budget's share: scale down, never below the rule */
    if (cap <= rule) {
      mf = rf;
      ml = rl;
    } else {
      mf = rf + (uint32_t)((uint64_t)(mf - rf) * (cap - rule) / (want - rule));
      ml = rl + (uint32_t)((uint64_t)(ml - rl) * (cap - rule) / (want - rule));
    }
  }
  bf_packetizer_set_next_parity(s->pk, mf, ml);
  s->k_mean = s->k_mean ? (s->k_mean * 15u + g.total_data + 15u) / 16u : g.total_data;
}

void bf_send_adapt_before_au(bf_send_state *s, size_t len, int keyframe) {
  if (!s->o.fec_auto) return;
  uint32_t pct = bf_fecctl_percent(&s->fec);
  if (pct != s->fec_applied && bf_packetizer_set_fec_percent(s->pk, pct) == 0) s->fec_applied = pct;
  if (s->fec.have_last) {
    if (s->fec_applied < s->fec_min_seen) s->fec_min_seen = s->fec_applied;
    if (s->fec_applied > s->fec_max_seen) s->fec_max_seen = s->fec_applied;
  }
  if (s->fec.have_model && s->fec_applied > 0) model_parity(s, len, keyframe);
}

void bf_send_adapt_after_au(bf_send_state *s) {
  bf_packetizer_au_info info;
  bf_packetizer_au_info_get(s->pk, &info);
  s->au_data_packets += info.data_packets;
  s->au_parity_packets += info.parity_packets;
}
