/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Pacer: see pacer.h. Burst k of an AU of n packets in b bursts ends at
 * packet ceil((k + 1) * n / b), so burst sizes differ by at most one.
 */
#include "pacer.h"

#include <errno.h>
#include <string.h>

void bf_pacer_config_default(bf_pacer_config *cfg) {
  cfg->rate_cap_bps = 800000000ull;
  cfg->burst_max = 32;
  cfg->spread_permille = 250;
}

int bf_pacer_init(bf_pacer *p, const bf_pacer_config *cfg) {
  if (cfg->burst_max == 0 || cfg->spread_permille > 1000) return -EINVAL;
  memset(p, 0, sizeof *p);
  p->cfg = *cfg;
  return 0;
}

void bf_pacer_begin(bf_pacer *p, uint64_t now_ns, uint64_t interval_ns, uint32_t packets,
                    uint32_t packet_bytes) {
  p->t0_ns = now_ns;
  p->spread_ns = interval_ns / 1000u * p->cfg.spread_permille;
  p->packets = packets;
  p->packet_bytes = packet_bytes;
  p->bursts = (packets + p->cfg.burst_max - 1) / p->cfg.burst_max;
  p->burst_done = 0;
  p->sent = 0;
}

/* First packet after burst |k|. */
static uint32_t burst_end(const bf_pacer *p, uint32_t k) {
  return (uint32_t)(((uint64_t)(k + 1) * p->packets + p->bursts - 1) / p->bursts);
}

static uint32_t burst_start(const bf_pacer *p, uint32_t k) {
  return k == 0 ? 0 : burst_end(p, k - 1);
}

uint32_t bf_pacer_poll(const bf_pacer *p, uint64_t now_ns, uint64_t *next_ns) {
  if (p->sent >= p->packets) {
    *next_ns = UINT64_MAX;
    return 0;
  }
  uint32_t k = p->burst_done;
  uint32_t end = burst_end(p, k);
  if (p->sent > burst_start(p, k)) { /* a burst in progress finishes at once */
    *next_ns = now_ns;
    return end - p->sent;
  }
  uint64_t due = p->t0_ns + p->spread_ns * k / p->bursts;
  if (p->cfg.rate_cap_bps && p->cap_free_ns > due) due = p->cap_free_ns;
  if (now_ns < due) {
    *next_ns = due;
    return 0;
  }
  *next_ns = now_ns;
  return end - p->sent;
}

void bf_pacer_sent(bf_pacer *p, uint64_t now_ns, uint32_t n) {
  if (n == 0) return;
  uint32_t k = p->burst_done;
  if (p->cfg.rate_cap_bps) {
    if (p->sent == burst_start(p, k) && p->cap_free_ns > p->t0_ns + p->spread_ns * k / p->bursts)
      p->cap_waits++;
    uint64_t bits = (uint64_t)n * p->packet_bytes * 8u;
    uint64_t dur = bits * 1000000000ull / p->cfg.rate_cap_bps;
    p->cap_free_ns = (p->cap_free_ns > now_ns ? p->cap_free_ns : now_ns) + dur;
  }
  p->sent += n;
  if (p->sent > p->packets) p->sent = p->packets;
  while (p->burst_done < p->bursts && p->sent >= burst_end(p, p->burst_done))
    p->burst_done++;
}

void bf_pacer_set_cap(bf_pacer *p, uint64_t rate_cap_bps, uint32_t burst_max) {
  p->cfg.rate_cap_bps = rate_cap_bps;
  if (burst_max) p->cfg.burst_max = burst_max;
}
