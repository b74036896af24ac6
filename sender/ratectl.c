/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Sender rate controller: see ratectl.h.
 */
#include "ratectl.h"

#include <bildfunk/wire.h>

#include <errno.h>
#include <string.h>

#define PPM 1000000u

/* a x b / d in double precision: no overflow, and rates need no more than
 * the 53 bits of a double */
static uint64_t muldiv(uint64_t a, uint64_t b, uint64_t d) {
  return d ? (uint64_t)((double)a * (double)b / (double)d) : 0;
}

/* Datagrams the packetizer makes of an AU of |k| full shards. */
static uint64_t datagrams(const bf_ratectl_config *c, uint32_t k, uint32_t fec_percent) {
  bf_geometry g;
  bf_geometry_compute(k * c->shard_bytes, c->shard_bytes, c->max_k, &g);
  uint64_t n = g.total_data;
  for (uint32_t b = 0; b < g.block_count; b++)
    n += bf_fec_recovery_count(bf_geometry_block_k(&g, c->max_k, b), fec_percent);
  return n;
}

void bf_ratectl_config_default(bf_ratectl_config *cfg, uint64_t bitrate, uint32_t fec_percent,
                               uint32_t shard_bytes, uint32_t max_k, uint32_t header_bytes,
                               uint32_t fps_num, uint32_t fps_den) {
  memset(cfg, 0, sizeof *cfg);
  cfg->shard_bytes = shard_bytes;
  cfg->max_k = max_k;
  cfg->header_bytes = header_bytes;
  cfg->fps_num = fps_num;
  cfg->fps_den = fps_den;
  cfg->encoder_cap_bps = bitrate;
  cfg->datagram_bytes = shard_bytes + header_bytes;
  cfg->min_bps = 0;
  cfg->low_ppm = 20000;
  cfg->high_ppm = 100000;
  cfg->severe_ppm = 250000;
  cfg->increase_permille = 50;
  cfg->window_ns = BF_FB_LOSS_WINDOW_NS;
  cfg->plateau_permille = 950;
  cfg->plateau_windows = 8;
  /* the ceiling: what the configured bitrate costs on the wire, nominally
   * or packetized (an average AU in whole shards with its parity), whichever
   * is more */
  cfg->max_bps = bf_ratectl_total_bps(bitrate, shard_bytes, header_bytes, fec_percent);
  if (shard_bytes && max_k && fps_num && fps_den) {
    uint64_t au = muldiv(bitrate, fps_den, (uint64_t)fps_num * 8u);
    uint64_t k = (au + shard_bytes - 1) / shard_bytes;
    if (k < 1) k = 1;
    if (k > (64u << 20) / shard_bytes) k = (64u << 20) / shard_bytes;
    uint64_t pk = muldiv(datagrams(cfg, (uint32_t)k, fec_percent) * (shard_bytes + header_bytes) * 8u,
                         fps_num, fps_den);
    if (pk > cfg->max_bps) cfg->max_bps = pk;
  }
}

static void clamp_config(bf_ratectl_config *c) {
  if (c->max_bps < 100000) c->max_bps = 100000;
  if (c->min_bps == 0) c->min_bps = c->max_bps / 20;
  if (c->min_bps < 100000) c->min_bps = 100000;
  if (c->min_bps > c->max_bps) c->min_bps = c->max_bps;
  if (c->high_ppm > PPM) c->high_ppm = PPM;
  if (c->low_ppm > c->high_ppm) c->low_ppm = c->high_ppm;
  if (c->severe_ppm < c->high_ppm) c->severe_ppm = c->high_ppm;
  if (c->increase_permille == 0) c->increase_permille = 1;
  if (c->increase_permille > 1000) c->increase_permille = 1000;
  if (c->window_ns == 0) c->window_ns = BF_FB_LOSS_WINDOW_NS;
  if (c->shard_bytes == 0) c->shard_bytes = 1024;
  if (c->max_k == 0) c->max_k = 1;
  if (c->fps_num == 0 || c->fps_den == 0) c->fps_num = 60, c->fps_den = 1;
  if (c->plateau_permille > 1000) c->plateau_permille = 1000;
  if (c->encoder_cap_bps == 0) c->encoder_cap_bps = c->max_bps;
  if (c->encoder_min_bps == 0) c->encoder_min_bps = c->encoder_cap_bps / 20;
  if (c->encoder_min_bps < 50000) c->encoder_min_bps = 50000;
  if (c->encoder_min_bps > c->encoder_cap_bps) c->encoder_min_bps = c->encoder_cap_bps;
}

void bf_ratectl_init(bf_ratectl *c, const bf_ratectl_config *cfg) {
  memset(c, 0, sizeof *c);
  c->cfg = *cfg;
  clamp_config(&c->cfg);
  c->budget_bps = c->cfg.max_bps;
  c->stats.min_bps = c->stats.max_bps = c->budget_bps;
}

void bf_ratectl_reset(bf_ratectl *c) {
  c->budget_bps = c->cfg.max_bps;
  c->have_last = 0;
  c->last_clean = 0;
  c->last_loss_ppm = 0;
  c->last_sent_bps = 0;
  c->last_recv_bps = 0;
  c->capacity_bps = 0;
  c->plateau_left = 0;
  c->cut_pending = 0;
  c->random_ppm = 0;
  if (c->budget_bps > c->stats.max_bps) c->stats.max_bps = c->budget_bps;
}

static void set_budget(bf_ratectl *c, uint64_t v) {
  c->budget_bps = v;
  if (v < c->stats.min_bps) c->stats.min_bps = v;
  if (v > c->stats.max_bps) c->stats.max_bps = v;
}

int bf_ratectl_on_report(bf_ratectl *c, const bf_feedback *fb, uint64_t now_ns,
                         uint64_t sent_bytes) {
  if (!fb || fb->type != BF_FB_LOSS_REPORT) {
    c->stats.ignored++;
    return -EINVAL;
  }
  uint32_t loss = fb->u.loss.loss_ppm > PPM ? PPM : fb->u.loss.loss_ppm;
  if (fb->u.loss.packets_received == 0 && fb->u.loss.shards_missing == 0 && loss == 0) {
    c->stats.ignored++;
    return 0;
  }
  c->stats.reports++;
  uint64_t win = fb->u.loss.window_ms ? (uint64_t)fb->u.loss.window_ms * 1000000ull : c->cfg.window_ns;
  c->last_recv_bps =
      muldiv((uint64_t)fb->u.loss.packets_received * c->cfg.datagram_bytes * 8u, 1000000000ull, win);
  c->last_sent_bps = 0;
  if (c->have_last && now_ns > c->last_ns && sent_bytes >= c->last_sent)
    c->last_sent_bps = muldiv((sent_bytes - c->last_sent) * 8u, 1000000000ull, now_ns - c->last_ns);
  int prev_clean = c->have_last && c->last_clean;
  uint32_t prev_loss = c->have_last ? c->last_loss_ppm : loss;
  c->have_last = 1;
  c->last_ns = now_ns;
  c->last_sent = sent_bytes;
  c->last_clean = loss < c->cfg.low_ppm;
  c->last_loss_ppm = loss;

  /* the verdict on the last cut: congestion loss falls when the sender
   * sends less, random loss does not */
  if (c->cut_pending) {
    c->cut_pending = 0;
    int sent_less = c->last_sent_bps && c->last_sent_bps * 10 <= c->cut_sent_bps * 9;
    /* congestion predicts the loss of sending last_sent through what the
     * link carried before the cut; random loss predicts the same loss */
    uint64_t pred = 0;
    if (sent_less && c->last_sent_bps > c->cut_recv_bps)
      pred = PPM - muldiv(c->cut_recv_bps, PPM, c->last_sent_bps);
    uint64_t d_cong = loss > pred ? loss - pred : pred - loss;
    uint64_t d_rand = loss > c->cut_loss_ppm ? loss - c->cut_loss_ppm : c->cut_loss_ppm - loss;
    if (sent_less && d_rand < d_cong) {
      uint32_t r = loss > c->cut_loss_ppm ? loss : c->cut_loss_ppm;
      if (r > c->random_ppm) c->random_ppm = r;
      c->capacity_bps = 0;
      c->plateau_left = 0;
      c->stats.undone++;
      if (c->cut_from_bps > c->budget_bps) {
        set_budget(c, c->cut_from_bps);
        return 1;
      }
      return 0;
    }
  }
  if (loss < c->cfg.low_ppm) c->random_ppm = 0; /* the random loss is gone */
  uint32_t high = c->cfg.high_ppm, severe = c->cfg.severe_ppm;
  uint32_t learned = c->random_ppm + c->random_ppm / 4;
  if (learned > high) high = learned;
  if (learned > severe) severe = learned;

  uint64_t b = c->budget_bps;
  if (loss < c->cfg.low_ppm) {
    if (b >= c->cfg.max_bps) return 0;
    uint64_t up = b + muldiv(b, c->cfg.increase_permille, 1000);
    if (up == b) up = b + 1;
    if (up > c->cfg.max_bps) up = c->cfg.max_bps;
    if (c->plateau_left) {
      c->plateau_left--;
      uint64_t top = muldiv(c->capacity_bps, c->cfg.plateau_permille, 1000);
      if (up > top) up = top;
      if (up <= b) {
        c->stats.plateaued++;
        return 0;
      }
    }
    set_budget(c, up);
    c->stats.increases++;
    return 1;
  }
  if (loss <= high) return 0;
  if (prev_clean && loss <= severe) { /* one lossy window after a clean one */
    c->stats.held++;
    return 0;
  }
  uint64_t base = b;
  if (c->last_sent_bps && c->last_sent_bps < base) base = c->last_sent_bps;
  if (c->last_recv_bps && c->last_recv_bps < base) base = c->last_recv_bps;
  uint64_t down = muldiv(base, PPM - loss / 2, PPM);
  if (down < c->cfg.min_bps) down = c->cfg.min_bps;
  if (c->last_recv_bps) { /* the link carried this much while congested */
    c->capacity_bps = c->last_recv_bps;
    c->plateau_left = c->cfg.plateau_windows;
  }
  if (down >= b) return 0;
  /* remembered for the verdict at the next report */
  c->cut_pending = 1;
  c->cut_from_bps = b;
  c->cut_loss_ppm = prev_clean ? loss : (uint32_t)(((uint64_t)prev_loss + loss) / 2);
  c->cut_recv_bps = c->last_recv_bps;
  c->cut_sent_bps = c->last_sent_bps ? c->last_sent_bps
                                     : muldiv(c->last_recv_bps, PPM, PPM - (loss < PPM ? loss : PPM - 1));
  set_budget(c, down);
  c->stats.decreases++;
  return -1;
}

uint64_t bf_ratectl_encoder_bps(const bf_ratectl *c, uint32_t fec_percent) {
  const bf_ratectl_config *k = &c->cfg;
  if (c->budget_bps >= k->max_bps) return k->encoder_cap_bps; /* no limit */
  /* datagrams a frame interval's share of the budget pays for */
  uint64_t per_frame = muldiv(c->budget_bps, k->fps_den, (uint64_t)k->fps_num * 8u *
                                                             (k->shard_bytes + k->header_bytes));
  /* the most shards whose datagrams fit (monotone in the shard count) */
  uint64_t lo = 1, hi = per_frame;
  uint64_t hi_cap = (64u << 20) / k->shard_bytes; /* 64 MB AUs: far above any stream */
  if (hi > hi_cap) hi = hi_cap;
  while (lo < hi) {
    uint64_t mid = lo + (hi - lo + 1) / 2;
    if (datagrams(k, (uint32_t)mid, fec_percent) <= per_frame)
      lo = mid;
    else
      hi = mid - 1;
  }
  uint64_t au = lo * k->shard_bytes - k->shard_bytes / 8;
  uint64_t v = muldiv(au * 8u, k->fps_num, k->fps_den);
  if (v > k->encoder_cap_bps) v = k->encoder_cap_bps;
  if (v < k->encoder_min_bps) v = k->encoder_min_bps;
  return v;
}

uint64_t bf_ratectl_total_bps(uint64_t bitrate, uint32_t shard_bytes, uint32_t header_bytes,
                              uint32_t fec_percent) {
  if (shard_bytes == 0) return bitrate;
  uint64_t v = muldiv(bitrate, 100u + fec_percent, 100);
  return muldiv(v, (uint64_t)shard_bytes + header_bytes, shard_bytes);
}

void bf_ratectl_pacing(const bf_ratectl *c, uint64_t cap_bps, uint32_t burst,
                       uint32_t datagram_bytes, uint64_t *cap_out, uint32_t *burst_out) {
  *cap_out = cap_bps;
  *burst_out = burst;
  uint64_t pace = 2 * c->budget_bps;
  if (c->budget_bps >= c->cfg.max_bps || (cap_bps && pace >= cap_bps)) return;
  *cap_out = pace;
  uint64_t b = datagram_bytes ? pace / 250 / (8ull * datagram_bytes) : 1; /* 4 ms */
  if (b < 1) b = 1;
  if (b < burst) *burst_out = (uint32_t)b;
}
