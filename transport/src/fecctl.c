/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Adaptive FEC controller: see bildfunk/fecctl.h. Pure arithmetic on the
 * reports and the time passed in.
 */
#include <bildfunk/fecctl.h>

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
}

uint32_t bf_fecctl_target(const bf_fecctl_config *cfg, uint32_t loss_ppm) {
  if (loss_ppm > PPM_MAX) loss_ppm = PPM_MAX;
  /* loss% x gain/1000 = loss_ppm x gain / 10^7, rounded up */
  uint64_t t = ((uint64_t)loss_ppm * cfg->gain_permille + 9999999u) / 10000000u;
  t += cfg->headroom_percent;
  if (t > cfg->max_percent) t = cfg->max_percent;
  return clamp_u32((uint32_t)t, cfg->min_percent, cfg->max_percent);
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
  c->target = bf_fecctl_target(&c->cfg, ppm);
  c->percent = c->target > c->floor ? c->target : c->floor;
  if (c->percent != old) {
    c->stats.changes++;
    return 1;
  }
  return 0;
}
