/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Adaptive FEC controller: see bildfunk/fecctl.h. Pure arithmetic on the
 * reports and the time passed in.
 */
#include <bildfunk/fecctl.h>

#include <bildfunk/wire.h>

#include <errno.h>
#include <string.h>

#define PPM_MAX 1000000u

void bf_fecctl_config_default(bf_fecctl_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->start_percent = 10;
  cfg->min_percent = 1;
  cfg->max_percent = 50;
  cfg->floor_percent = 5;
  cfg->gain_permille = 1400;
  cfg->headroom_percent = 1;
  cfg->decay_windows = 160;
  cfg->decay_windows_max = 1280;
  cfg->window_ns = BF_FB_LOSS_WINDOW_NS;
  cfg->model = 1;
  cfg->target_ppb = 100000;
  cfg->target_key_ppb = 10000;
  cfg->small_m_cap = 8;
  cfg->prior_loss_ppm = 50000;
  cfg->model_max_loss_ppm = 100000;
}

static uint32_t clamp_u32(uint32_t v, uint32_t lo, uint32_t hi) {
  return v < lo ? lo : v > hi ? hi : v;
}

static void sanitize(bf_fecctl_config *c) {
  if (c->max_percent > 90) c->max_percent = 90; /* the packetizer's limit */
  if (c->min_percent > c->max_percent) c->min_percent = c->max_percent;
  c->start_percent = clamp_u32(c->start_percent, c->min_percent, c->max_percent);
  c->floor_percent = clamp_u32(c->floor_percent, c->min_percent, c->max_percent);
  if (c->decay_windows == 0) c->decay_windows = 1;
  if (c->decay_windows_max < c->decay_windows) c->decay_windows_max = c->decay_windows;
  if (c->window_ns == 0) c->window_ns = BF_FB_LOSS_WINDOW_NS;
  if (c->target_ppb == 0) c->target_ppb = 1;
  if (c->target_key_ppb == 0) c->target_key_ppb = 1;
}

uint32_t bf_fecctl_target(const bf_fecctl_config *cfg, uint32_t loss_ppm) {
  if (loss_ppm > PPM_MAX) loss_ppm = PPM_MAX;
  /* loss% x gain/1000 = loss_ppm x gain / 10^7, rounded up */
  uint64_t t = ((uint64_t)loss_ppm * cfg->gain_permille + 9999999u) / 10000000u;
  t += cfg->headroom_percent;
  if (t > cfg->max_percent) t = cfg->max_percent;
  return clamp_u32((uint32_t)t, cfg->min_percent, cfg->max_percent);
}

static void build_tables(bf_fecctl *c) {
  bf_fecmodel_table(c->ge, c->cfg.target_ppb / 1e9, 2, BF_FECMODEL_MAX_N - 2, c->m_delta);
  bf_fecmodel_table(c->ge, c->cfg.target_key_ppb / 1e9, 2, BF_FECMODEL_MAX_N - 2, c->m_key);
}

void bf_fecctl_reset(bf_fecctl *c) {
  c->percent = c->cfg.start_percent;
  c->target = c->cfg.start_percent;
  c->floor = c->cfg.min_percent;
  c->need_windows = c->cfg.decay_windows;
  c->clean_ns = 0;
  c->last_ns = 0;
  c->have_last = 0;
  c->last_lossy = 0;
  c->last_loss_ppm = 0;
  c->acc_expected = c->acc_lost = c->acc_runs = 0.0;
  c->ge = (bf_ge){0.0, 1.0};
  c->have_model = 0;
  if (c->cfg.model && c->cfg.prior_loss_ppm) { /* until the first report: the prior */
    c->ge =
        bf_ge_estimate(1e6, c->cfg.prior_loss_ppm > PPM_MAX ? PPM_MAX : c->cfg.prior_loss_ppm, 0);
    build_tables(c);
    c->have_model = 2;
  }
}

void bf_fecctl_init(bf_fecctl *c, const bf_fecctl_config *cfg) {
  memset(c, 0, sizeof *c);
  if (cfg)
    c->cfg = *cfg;
  else
    bf_fecctl_config_default(&c->cfg);
  sanitize(&c->cfg);
  bf_fecctl_reset(c);
}

uint32_t bf_fecctl_percent(const bf_fecctl *c) {
  return c->percent;
}

/* Folds one report into the model's sums and rebuilds its tables. */
static void model_update(bf_fecctl *c, const bf_feedback *fb) {
  double lost = fb->u.loss.shards_missing, n = lost + fb->u.loss.packets_received;
  if (!c->cfg.model || n <= 0.0) return;
  if (c->have_model == 2) c->have_model = 0; /* the first report replaces the prior */
  if (!c->have_model && lost <= 0.0) return; /* nothing to model yet */
  double runs = fb->u.loss.loss_runs;
  if (runs <= 0.0 && lost > 0.0) runs = lost * (1.0 - lost / n); /* independent loss */
  if (runs > lost) runs = lost;
  double est = c->acc_expected > 0.0 ? c->acc_lost / c->acc_expected : 0.0;
  double keep = lost / n > est ? 0.5 : 15.0 / 16.0;
  c->acc_expected = c->acc_expected * keep + n;
  c->acc_lost = c->acc_lost * keep + lost;
  c->acc_runs = c->acc_runs * keep + runs;
  c->ge = bf_ge_estimate(c->acc_expected, c->acc_lost, c->acc_runs);
  c->have_model = 1;
  build_tables(c);
}

uint32_t bf_fecctl_block_m(const bf_fecctl *c, uint32_t k, int strict) {
  if (k == 0) return 0;
  if (k > BF_FECMODEL_MAX_N - 2) k = BF_FECMODEL_MAX_N - 2;
  uint32_t rule = bf_fec_recovery_count(k, c->percent);
  if (!c->have_model) return rule;
  /* above 10 % the loss is the rate controller's (congestion): more parity
   * than the rule would only deepen it */
  if (bf_ge_loss(c->ge) * 1e6 > (double)c->cfg.model_max_loss_ppm) return rule;
  uint32_t m = strict ? c->m_key[k] : c->m_delta[k];
  uint32_t cap = (uint32_t)(((uint64_t)k * c->cfg.max_percent + 99) / 100);
  /* small frames may have more, but not on the prior's word alone */
  if (cap < c->cfg.small_m_cap && c->have_model == 1) cap = c->cfg.small_m_cap;
  if (m > cap) m = cap;
  if (m < rule) m = rule;
  if (k + m > BF_FECMODEL_MAX_N) m = BF_FECMODEL_MAX_N - k;
  return m;
}

uint32_t bf_fecctl_share_percent(const bf_fecctl *c, uint32_t k) {
  if (k == 0) return c->percent;
  uint32_t m = bf_fecctl_block_m(c, k, 0);
  return (uint32_t)(((uint64_t)m * 100 + k - 1) / k);
}

int bf_fecctl_on_report(bf_fecctl *c, const bf_feedback *fb, uint64_t now_ns) {
  if (fb->type != BF_FB_LOSS_REPORT) {
    c->stats.ignored++;
    return -EINVAL;
  }
  uint32_t ppm = fb->u.loss.loss_ppm;
  if (ppm > PPM_MAX) ppm = PPM_MAX;
  /* a window in which nothing was expected says nothing about the network */
  if (ppm == 0 && fb->u.loss.packets_received == 0 && fb->u.loss.shards_missing == 0) {
    c->stats.ignored++;
    return 0;
  }
  c->stats.reports++;
  /* time since the previous report, at most two windows; the first report
   * earns one window (it covers the window before it) */
  uint64_t credit = c->cfg.window_ns;
  if (c->have_last) {
    uint64_t dt = now_ns > c->last_ns ? now_ns - c->last_ns : 0;
    credit = dt < 2 * c->cfg.window_ns ? dt : 2 * c->cfg.window_ns;
  }
  c->have_last = 1;
  c->last_ns = now_ns;
  c->last_loss_ppm = ppm;
  uint32_t old = c->percent;

  if (ppm > 0) {
    c->stats.lossy++;
    if (!c->last_lossy) {
      c->stats.burns++;
      /* probation: the floor is still above the minimum from an earlier burn */
      if (c->floor > c->cfg.min_percent) {
        c->stats.reburns++;
        uint32_t n = c->need_windows * 2u;
        c->need_windows = n > c->cfg.decay_windows_max ? c->cfg.decay_windows_max : n;
      }
    }
    if (c->floor < c->cfg.floor_percent) c->floor = c->cfg.floor_percent;
    c->clean_ns = 0;
    c->last_lossy = 1;
  } else {
    c->last_lossy = 0;
    if (c->floor > c->cfg.min_percent) {
      c->clean_ns += credit;
      uint64_t need = (uint64_t)c->need_windows * c->cfg.window_ns;
      /* a report a little early still counts as its window: 5 % slack */
      if (c->clean_ns + c->cfg.window_ns / 20 >= need) {
        c->floor--;
        c->stats.decays++;
        c->clean_ns = 0;
        if (c->floor == c->cfg.min_percent) c->need_windows = c->cfg.decay_windows;
      }
    }
  }
  model_update(c, fb);
  c->target = bf_fecctl_target(&c->cfg, ppm);
  c->percent = c->target > c->floor ? c->target : c->floor;
  if (c->percent != old) {
    c->stats.changes++;
    return 1;
  }
  return 0;
}
