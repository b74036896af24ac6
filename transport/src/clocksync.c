/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Min-RTT clock offset estimator: see bildfunk/clocksync.h.
 */
#include <bildfunk/clocksync.h>

#include <errno.h>
#include <string.h>

/* Sample differences beyond this (146 years) are garbage, not clocks. */
#define CS_MAX_DIFF (1ll << 62)

void bf_clocksync_config_default(bf_clocksync_config *cfg) {
  cfg->burst = 8;
  cfg->spacing_ns = 50000000ull;
  cfg->resync_ns = 10000000000ull;
  cfg->timeout_ns = 1000000000ull;
}

/* a - b as a signed value; 0 with *ok = 0 when it does not fit. */
static int64_t sdiff(uint64_t a, uint64_t b, int *ok) {
  uint64_t d = a >= b ? a - b : b - a;
  if (d >= (uint64_t)CS_MAX_DIFF) {
    *ok = 0;
    return 0;
  }
  return a >= b ? (int64_t)d : -(int64_t)d;
}

int bf_clocksync_sample(uint64_t t1_ns, uint64_t t2_ns, uint64_t t3_ns, uint64_t t4_ns,
                        int64_t *offset_ns, uint64_t *rtt_ns) {
  if (t4_ns < t1_ns || t3_ns < t2_ns) return -EINVAL;
  uint64_t round = t4_ns - t1_ns, held = t3_ns - t2_ns;
  if (held > round) return -EINVAL;
  int ok = 1;
  int64_t a = sdiff(t2_ns, t1_ns, &ok), b = sdiff(t3_ns, t4_ns, &ok);
  if (!ok) return -EINVAL;
  /* |a|, |b| < 2^62, so the sum cannot overflow; round toward zero */
  *offset_ns = (a + b) / 2;
  *rtt_ns = round - held;
  return 0;
}

int bf_clocksync_init(bf_clocksync *cs, const bf_clocksync_config *cfg, uint64_t now_ns) {
  bf_clocksync_config def;
  if (!cfg) {
    bf_clocksync_config_default(&def);
    cfg = &def;
  }
  if (cfg->burst == 0 || cfg->burst > BF_CLOCKSYNC_MAX_BURST || cfg->timeout_ns == 0 ||
      cfg->resync_ns == 0)
    return -EINVAL;
  memset(cs, 0, sizeof *cs);
  cs->cfg = *cfg;
  cs->sent = cfg->burst; /* as if a round had just finished */
  cs->next_ping_ns = now_ns;
  cs->rtt_floor_ns = UINT64_MAX;
  return 0;
}

static void adopt(bf_clocksync *cs, int64_t offset, uint64_t rtt) {
  cs->have = 1;
  cs->offset_ns = offset;
  cs->rtt_ns = rtt;
}

/* Ends the current round; returns 1 when the estimate changed. */
static int close_round(bf_clocksync *cs) {
  if (!cs->round_open) return 0;
  cs->round_open = 0;
  for (uint32_t i = 0; i < cs->sent; i++)
    cs->out[i].live = 0;
  if (!cs->round_have) return 0; /* every ping lost: keep what we have */
  uint64_t limit = cs->rtt_floor_ns / 2 * 3;
  if (limit < BF_CLOCKSYNC_RTT_SLACK_NS) limit = BF_CLOCKSYNC_RTT_SLACK_NS;
  int changed;
  if (cs->round_rtt_ns <= limit) {
    changed = !cs->have || cs->offset_ns != cs->round_offset_ns || cs->rtt_ns != cs->round_rtt_ns;
    adopt(cs, cs->round_offset_ns, cs->round_rtt_ns);
    cs->rejects = 0;
    cs->streak_have = 0;
    cs->rounds_adopted++;
    return changed;
  }
  cs->rounds_rejected++;
  if (!cs->streak_have || cs->round_rtt_ns < cs->streak_rtt_ns) {
    cs->streak_have = 1;
    cs->streak_offset_ns = cs->round_offset_ns;
    cs->streak_rtt_ns = cs->round_rtt_ns;
  }
  if (++cs->rejects < BF_CLOCKSYNC_MAX_REJECTS) return 0;
  adopt(cs, cs->streak_offset_ns, cs->streak_rtt_ns);
  cs->rejects = 0;
  cs->streak_have = 0;
  cs->rounds_adopted++;
  return 1;
}

static uint64_t round_deadline(const bf_clocksync *cs) {
  return cs->out[cs->sent - 1].t1_ns + cs->cfg.timeout_ns;
}

int bf_clocksync_poll(bf_clocksync *cs, uint64_t now_ns, uint32_t *id) {
  if (cs->round_open && cs->sent == cs->cfg.burst && now_ns >= round_deadline(cs)) close_round(cs);
  if (now_ns < cs->next_ping_ns) return 0;
  if (cs->sent == cs->cfg.burst) { /* start a round */
    close_round(cs);
    cs->sent = 0;
    cs->answered = 0;
    cs->round_start_ns = now_ns;
    cs->round_open = 1;
    cs->round_have = 0;
  }
  bf_clocksync_ping *p = &cs->out[cs->sent++];
  p->id = cs->next_id++;
  p->t1_ns = now_ns;
  p->live = 1;
  cs->pings_sent++;
  if (cs->sent < cs->cfg.burst) {
    cs->next_ping_ns = now_ns + cs->cfg.spacing_ns;
  } else {
    /* no estimate yet (sender not up?): try again within a second */
    uint64_t gap = cs->cfg.resync_ns;
    if (!cs->have && gap > BF_CLOCKSYNC_RETRY_NS) gap = BF_CLOCKSYNC_RETRY_NS;
    cs->next_ping_ns = cs->round_start_ns + gap;
  }
  *id = p->id;
  return 1;
}

uint64_t bf_clocksync_next_due(const bf_clocksync *cs) {
  uint64_t due = cs->next_ping_ns;
  if (cs->round_open && cs->sent == cs->cfg.burst) {
    uint64_t d = round_deadline(cs);
    if (d < due) due = d;
  }
  return due;
}

int bf_clocksync_on_pong(bf_clocksync *cs, uint32_t id, uint64_t t1_ns, uint64_t t2_ns,
                         uint64_t t3_ns, uint64_t t4_ns) {
  bf_clocksync_ping *p = NULL;
  for (uint32_t i = 0; i < cs->sent && cs->round_open; i++)
    if (cs->out[i].live && cs->out[i].id == id && cs->out[i].t1_ns == t1_ns) p = &cs->out[i];
  if (!p) {
    cs->pongs_ignored++;
    return -ENOENT;
  }
  int64_t offset;
  uint64_t rtt;
  if (bf_clocksync_sample(t1_ns, t2_ns, t3_ns, t4_ns, &offset, &rtt) != 0 ||
      t4_ns - t1_ns > cs->cfg.timeout_ns) {
    cs->pongs_ignored++;
    return -EINVAL;
  }
  p->live = 0;
  cs->answered++;
  cs->pongs_used++;
  if (rtt < cs->rtt_floor_ns) cs->rtt_floor_ns = rtt;
  if (!cs->round_have || rtt < cs->round_rtt_ns) {
    cs->round_have = 1;
    cs->round_offset_ns = offset;
    cs->round_rtt_ns = rtt;
  }
  int changed = 0;
  /* Until a round has been adopted, every better sample counts at once so
   * the latency figures are right from the first pong on. */
  if (cs->rounds_adopted == 0 && (!cs->have || rtt < cs->rtt_ns)) {
    adopt(cs, offset, rtt);
    changed = 1;
  }
  if (cs->sent == cs->cfg.burst && cs->answered == cs->sent) changed |= close_round(cs);
  return changed;
}

int bf_clocksync_get(const bf_clocksync *cs, int64_t *offset_ns, uint64_t *rtt_ns) {
  if (!cs->have) return -EAGAIN;
  if (offset_ns) *offset_ns = cs->offset_ns;
  if (rtt_ns) *rtt_ns = cs->rtt_ns;
  return 0;
}
