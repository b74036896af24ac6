/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The decode gate: decode order, keyframe requests, skip to live. See decode_gate.h.
 */
#include "decode_gate.h"

#include <bildfunk/common.h>
#include <bildfunk/wire.h>

#include <string.h>

#define MS 1000000ull

void bf_decode_gate_config_default(bf_decode_gate_config *cfg) {
  cfg->throttle_ns = 100 * MS;
  cfg->give_up_ns = 500 * MS;
  cfg->frame_interval_ns = 16666667ull;
  cfg->backlog_frames = 3;
  cfg->backlog_ns = 200 * MS;
  cfg->backlog_hard = 8;
  cfg->skip_cooldown_ns = 1000 * MS;
  cfg->hold_max_ns = 100 * MS;
  cfg->hold_frames = 6;
  cfg->catchup_ns = 200 * MS;
}

void bf_decode_gate_init(bf_decode_gate *r, const bf_decode_gate_config *cfg) {
  memset(r, 0, sizeof *r);
  if (cfg)
    r->cfg = *cfg;
  else
    bf_decode_gate_config_default(&r->cfg);
  r->need_key = 1; /* nothing decodes before the first keyframe */
  r->next_id = 1;
}

void bf_decode_gate_set_frame_interval(bf_decode_gate *r, uint64_t interval_ns) {
  const uint64_t lo = 1000000000ull / 240, hi = 1000000000ull / 30;
  if (interval_ns < lo) interval_ns = lo;
  if (interval_ns > hi) interval_ns = hi;
  r->cfg.frame_interval_ns = interval_ns;
}

static void widen(bf_decode_gate *r, uint32_t first, uint32_t last) {
  if (!r->lost_have) {
    r->lost_have = 1;
    r->lost_first = first;
    r->lost_last = last;
    return;
  }
  if (bf_seq32_diff(first, r->lost_first) < 0) r->lost_first = first;
  if (bf_seq32_diff(last, r->lost_last) > 0) r->lost_last = last;
}

/* |lost| is the newest frame that will never be shown correctly. */
static void freeze_at(bf_decode_gate *r, uint32_t first, uint32_t last, uint32_t lost, int soft) {
  int can_hide = soft && r->rp_seen && r->have_expected && (!r->need_key || r->hidden);
  if (r->hidden && can_hide) {
    if (bf_seq32_diff(lost, r->hide_lost) > 0) r->hide_lost = lost;
  } else {
    r->hidden = can_hide;
    r->hide_lost = lost;
  }
  r->need_key = 1;
  r->ask = 1;
  widen(r, first, last);
}

static void freeze(bf_decode_gate *r, uint32_t first, uint32_t last) {
  freeze_at(r, first, last, last, 1);
}

static void thaw(bf_decode_gate *r) {
  r->need_key = 0;
  r->hidden = 0;
  r->ask = 0;
  r->lost_have = 0;
  r->req_active = 0;
}

/* The newest frame index the gate has heard of (an AU, a loss, a hold). */
static void seen(bf_decode_gate *r, uint32_t idx) {
  if (!r->have_seen || bf_seq32_diff(idx, r->seen_newest) > 0) r->seen_newest = idx;
  r->have_seen = 1;
}

bf_gate bf_decode_gate_on_frame(bf_decode_gate *r, uint32_t frame_index, uint32_t user_flags,
                                uint64_t now_ns) {
  (void)now_ns;
  seen(r, frame_index);
  int32_t ahead = r->have_expected ? bf_seq32_diff(frame_index, r->expected) : 0;
  if (user_flags & BF_AU_KEYFRAME) {
    /* a keyframe older than what is on screen would step back in time */
    if (!r->need_key && ahead < 0) return BF_GATE_STALE;
    thaw(r);
    r->have_anchor = 1;
    r->anchor = frame_index;
    r->keyframes++;
    r->have_expected = 1;
    r->expected = frame_index + 1;
    return BF_GATE_DECODE;
  }
  if (user_flags & BF_AU_RECOVERY_POINT) r->rp_seen = 1;
  if (r->need_key && r->hidden) {
    if (ahead < 0) return BF_GATE_STALE;
    if (ahead > 0) { /* another hole while rebuilding: the wave must start after it */
      r->gaps++;
      freeze_at(r, r->expected, frame_index, frame_index - 1, 1);
    }
    r->expected = frame_index + 1;
    if (!(user_flags & BF_AU_RECOVERY_POINT)) return BF_GATE_DECODE_HIDDEN;
    int whole = r->have_anchor && ahead == 0 && bf_seq32_diff(r->anchor, r->hide_lost) >= 0;
    r->have_anchor = 1;
    r->anchor = frame_index;
    if (!whole) return BF_GATE_DECODE_HIDDEN;
    thaw(r);
    r->recovery_points++;
    return BF_GATE_DECODE;
  }
  if (r->need_key) {
    freeze(r, r->have_expected ? r->expected : frame_index, frame_index);
    return BF_GATE_WAIT_KEY;
  }
  if (ahead == 0) {
    r->expected = frame_index + 1;
    if (user_flags & BF_AU_RECOVERY_POINT) {
      r->have_anchor = 1;
      r->anchor = frame_index;
    }
    return BF_GATE_DECODE;
  }
  if (ahead < 0) return BF_GATE_STALE;
  r->gaps++;
  freeze_at(r, r->expected, frame_index, frame_index - 1, 1);
  if (r->hidden) {
    r->expected = frame_index + 1;
    return BF_GATE_DECODE_HIDDEN;
  }
  return BF_GATE_GAP;
}

void bf_decode_gate_on_loss(bf_decode_gate *r, uint32_t first, uint32_t last, uint64_t now_ns) {
  (void)now_ns;
  seen(r, last);
  if (r->have_expected && bf_seq32_diff(last, r->expected) < 0) return;
  freeze(r, first, last);
}

void bf_decode_gate_on_short(bf_decode_gate *r, uint32_t frame_index, uint64_t now_ns) {
  if (r->allow_ns) { /* stragglers may still complete it: the hold bound decides */
    r->shorts_ignored++;
    return;
  }
  bf_decode_gate_on_loss(r, frame_index, frame_index, now_ns);
}

void bf_decode_gate_on_key_lost(bf_decode_gate *r, uint32_t frame_index, int short_signal,
                                uint64_t now_ns) {
  (void)now_ns;
  if (short_signal && r->allow_ns) return; /* stragglers may still complete it */
  if (!r->need_key || !r->req_active) return;
  /* only a keyframe sent after the request began can be its answer (and a
   * second short block of the same one must not end the next id) */
  if (r->req_have_seen && bf_seq32_diff(frame_index, r->req_seen) <= 0) return;
  r->req_active = 0; /* the next id at the next poll (throttled), not after give_up_ns */
  r->requests_key_lost++;
}

void bf_decode_gate_set_reorder(bf_decode_gate *r, uint64_t lateness_ns) {
  uint64_t a = lateness_ns ? lateness_ns + lateness_ns / 4 + MS : 0;
  r->allow_ns = a < r->cfg.hold_max_ns ? a : r->cfg.hold_max_ns;
}

static int known_lost(const bf_decode_gate *r, uint32_t idx) {
  return r->lost_have && bf_seq32_diff(idx, r->lost_first) >= 0 &&
         bf_seq32_diff(idx, r->lost_last) <= 0;
}

int bf_decode_gate_hold(bf_decode_gate *r, uint32_t frame_index, uint32_t user_flags,
                        uint32_t queued, uint64_t completed_ns, uint64_t now_ns) {
  seen(r, frame_index);
  if (r->holding && r->hold_expected != r->expected) r->holding = 0; /* moved on */
  int key = (user_flags & BF_AU_KEYFRAME) != 0;
  /* at the start only a keyframe can begin the chain, and a later AU may
   * have overtaken it: wait for it as for any earlier AU */
  int32_t ahead = r->have_expected ? bf_seq32_diff(frame_index, r->expected) : !key;
  /* the missing one came */
  if (ahead == 0 && r->holding) r->holds_filled++;
  int frozen = r->have_expected ? r->need_key && !r->hidden : r->ask; /* a key is asked for */
  if (ahead <= 0 || !r->allow_ns || key || frozen ||
      (r->have_expected && known_lost(r, r->expected))) {
    r->holding = 0;
    return 0;
  }
  if (!r->holding) {
    r->holding = 1;
    r->hold_expected = r->expected;
    r->hold_since_ns = completed_ns && completed_ns <= now_ns ? completed_ns : now_ns;
    r->holds++;
  }
  if (now_ns - r->hold_since_ns >= r->allow_ns || queued >= r->cfg.hold_frames) {
    r->holding = 0;
    r->holds_expired++;
    return 0;
  }
  return 1;
}

void bf_decode_gate_on_decode_error(bf_decode_gate *r, uint32_t frame_index, uint64_t now_ns) {
  (void)now_ns;
  freeze(r, frame_index, frame_index);
}

void bf_decode_gate_restart(bf_decode_gate *r) {
  r->have_expected = 0;
  r->holding = 0;
  r->need_key = 1;
  r->hidden = 0;
  r->have_anchor = 0;
  r->lost_have = 0;
  r->have_seen = 0; /* a new stream's indices */
}

static void fill(const bf_decode_gate *r, bf_feedback *fb) {
  memset(fb, 0, sizeof *fb);
  fb->type = BF_FB_KEYFRAME_REQUEST;
  fb->u.keyframe.request_id = r->req_id;
  fb->u.keyframe.first_lost = r->lost_have ? r->lost_first : r->expected;
  fb->u.keyframe.last_lost = r->lost_have ? r->lost_last : r->expected;
}

int bf_decode_gate_poll(bf_decode_gate *r, uint64_t now_ns, bf_feedback *fb) {
  if (r->req_active && now_ns - r->req_start_ns >= r->cfg.give_up_ns) {
    r->req_active = 0;
    r->requests_expired++;
  }
  if (!r->req_active) {
    if (!r->need_key || !r->ask) return 0;
    if (r->have_new_id && now_ns - r->last_new_id_ns < r->cfg.throttle_ns) return 0;
    r->req_active = 1;
    r->req_id = r->next_id++;
    r->req_start_ns = r->req_sent_ns = now_ns;
    r->req_have_seen = r->have_seen;
    r->req_seen = r->seen_newest;
    r->have_new_id = 1;
    r->last_new_id_ns = now_ns;
    r->requests_new++;
    r->requests_sent++;
    fill(r, fb);
    return 1;
  }
  if (now_ns - r->req_sent_ns < r->cfg.frame_interval_ns) return 0;
  r->req_sent_ns = now_ns;
  r->requests_sent++;
  fill(r, fb);
  return 1;
}

static uint64_t request_due(const bf_decode_gate *r) {
  if (r->req_active) {
    uint64_t a = r->req_sent_ns + r->cfg.frame_interval_ns;
    uint64_t b = r->req_start_ns + r->cfg.give_up_ns;
    return a < b ? a : b;
  }
  if (!r->need_key || !r->ask) return UINT64_MAX;
  return r->have_new_id ? r->last_new_id_ns + r->cfg.throttle_ns : 0;
}

uint64_t bf_decode_gate_next_due(const bf_decode_gate *r) {
  uint64_t due = request_due(r);
  if (r->holding && r->hold_since_ns + r->allow_ns < due) due = r->hold_since_ns + r->allow_ns;
  return due;
}

uint32_t bf_decode_gate_decodable(const bf_decode_gate *r, const uint32_t *idx,
                                  const uint32_t *flags, uint32_t n) {
  bf_decode_gate sim = *r;
  uint32_t k = 0;
  for (uint32_t i = 0; i < n; i++) {
    bf_gate g = bf_decode_gate_on_frame(&sim, idx[i], flags[i], 0);
    k += g == BF_GATE_DECODE || g == BF_GATE_DECODE_HIDDEN;
  }
  return k;
}

int bf_decode_gate_backlog(bf_decode_gate *r, uint32_t depth, uint64_t now_ns) {
  int skip = 0;
  if (depth >= r->cfg.backlog_hard) {
    skip = 1;
  } else if (depth >= r->cfg.backlog_frames) {
    if (!r->backlog_since_ns)
      r->backlog_since_ns = now_ns ? now_ns : 1;
    else if (now_ns - r->backlog_since_ns >= r->cfg.backlog_ns)
      skip = 1;
  } else if (depth <= 1) {
    r->backlog_since_ns = 0;
    r->catching_up = 0;
  }
  if (!skip || now_ns < r->cooldown_until_ns) return 0;
  /* A decoder faster than the stream drains |depth| AUs, while more come,
   * in depth x cost / (1 - cost / interval) */
  uint64_t cost = bf_decode_gate_decode_cost(r), iv = r->cfg.frame_interval_ns;
  if (cost && cost < iv &&
      (double)depth * (double)cost * (double)iv / (double)(iv - cost) <=
          (double)r->cfg.catchup_ns) {
    /* decoded through sooner than a keyframe could come */
    r->catchups += !r->catching_up;
    r->catching_up = 1;
    r->backlog_since_ns = 0;
    return 0;
  }
  r->backlog_since_ns = 0;
  r->cooldown_until_ns = now_ns + r->cfg.skip_cooldown_ns;
  r->skips++;
  freeze_at(r, r->expected, r->expected, r->expected, 0);
  return 1;
}

void bf_decode_gate_on_decode_time(bf_decode_gate *r, uint64_t ns) {
  r->dec_ns[r->dec_at] = ns;
  r->dec_at = (r->dec_at + 1) % BF_GATE_DECODE_SAMPLES;
  if (r->dec_n < BF_GATE_DECODE_SAMPLES) r->dec_n++;
}

uint64_t bf_decode_gate_decode_cost(const bf_decode_gate *r) {
  if (r->dec_n < 3) return 0; /* one or two can be a busy machine's */
  uint64_t v[BF_GATE_DECODE_SAMPLES];
  memcpy(v, r->dec_ns, sizeof v);
  for (unsigned i = 1; i < r->dec_n; i++) /* a few values: insertion sort */
    for (unsigned k = i; k > 0 && v[k - 1] > v[k]; k--) {
      uint64_t t = v[k];
      v[k] = v[k - 1];
      v[k - 1] = t;
    }
  return v[r->dec_n / 2];
}
