/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The sender's adaptation glue: see send_adapt.h.
 */
#include "send_adapt.h"

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

void bf_send_adapt_before_au(bf_send_state *s) {
  if (!s->o.fec_auto) return;
  uint32_t pct = bf_fecctl_percent(&s->fec);
  if (pct != s->fec_applied && bf_packetizer_set_fec_percent(s->pk, pct) == 0) s->fec_applied = pct;
  if (s->fec.have_last) {
    if (s->fec_applied < s->fec_min_seen) s->fec_min_seen = s->fec_applied;
    if (s->fec_applied > s->fec_max_seen) s->fec_max_seen = s->fec_applied;
  }
}
