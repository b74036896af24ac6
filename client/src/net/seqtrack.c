/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Packet order: reorders, duplicates, lateness, loss windows. See seqtrack.h.
 */
#include "seqtrack.h"

#include <bildfunk/common.h>

#include <string.h>

void bf_seqtrack_init(bf_seqtrack *t) {
  memset(t, 0, sizeof *t);
}

void bf_seqtrack_restart(bf_seqtrack *t) {
  t->have = 0;
  t->adv_n = 0;
  t->adv_head = 0;
  memset(t->seen, 0, sizeof t->seen);
  t->ck_n = 0;
  t->ck_head = 0;
  t->acc_open = 0;
  t->acc_credit = 0;
  t->acc_closed = 0;
}

static int test_bit(const bf_seqtrack *t, uint32_t seq) {
  uint32_t b = seq % BF_SEQTRACK_WINDOW;
  return (int)((t->seen[b / 64] >> (b % 64)) & 1u);
}
static void set_bit(bf_seqtrack *t, uint32_t seq) {
  uint32_t b = seq % BF_SEQTRACK_WINDOW;
  t->seen[b / 64] |= 1ull << (b % 64);
}
static void clear_bit(bf_seqtrack *t, uint32_t seq) {
  uint32_t b = seq % BF_SEQTRACK_WINDOW;
  t->seen[b / 64] &= ~(1ull << (b % 64));
}

static void roll(bf_seqtrack *t, uint64_t now) {
  if (now < t->period_start_ns || now - t->period_start_ns < BF_SEQTRACK_PERIOD_NS) return;
  /* a whole silent period in between: nothing of the current one is recent */
  t->late_prev_ns = now - t->period_start_ns < 2 * BF_SEQTRACK_PERIOD_NS ? t->late_cur_ns : 0;
  t->late_cur_ns = 0;
  t->period_start_ns = now;
}

/* The same over the loss windows' longer memory. */
static void roll_settle(bf_seqtrack *t, uint64_t now) {
  if (now < t->settle_start_ns || now - t->settle_start_ns < BF_SEQTRACK_SETTLE_PERIOD_NS) return;
  t->settle_prev_ns =
      now - t->settle_start_ns < 2 * BF_SEQTRACK_SETTLE_PERIOD_NS ? t->settle_cur_ns : 0;
  t->settle_cur_ns = 0;
  t->settle_start_ns = now;
}

static void note_late(bf_seqtrack *t, uint64_t late) {
  if (late > t->late_cur_ns) t->late_cur_ns = late;
  if (late > t->settle_cur_ns) t->settle_cur_ns = late;
  if (late > t->late_max_ns) t->late_max_ns = late;
}

/* Records |seq| as the highest number at |now|: one entry per slot of
 * BF_SEQTRACK_SETTLE_SLOT_NS (the newest in its slot), the oldest dropped
 * when the ring is full. */
static void checkpoint(bf_seqtrack *t, uint32_t seq, uint64_t now) {
  if (t->ck_n) {
    size_t last = (t->ck_head + t->ck_n - 1) % BF_SEQTRACK_SETTLE_SLOTS;
    if (t->ck_ns[last] / BF_SEQTRACK_SETTLE_SLOT_NS == now / BF_SEQTRACK_SETTLE_SLOT_NS) {
      t->ck_seq[last] = seq;
      t->ck_ns[last] = now;
      return;
    }
  }
  size_t at = (t->ck_head + t->ck_n) % BF_SEQTRACK_SETTLE_SLOTS;
  if (t->ck_n == BF_SEQTRACK_SETTLE_SLOTS)
    t->ck_head = (t->ck_head + 1) % BF_SEQTRACK_SETTLE_SLOTS;
  else
    t->ck_n++;
  t->ck_seq[at] = seq;
  t->ck_ns[at] = now;
}

/* The highest number seen at or before |upto_ns| into |seq|: 1, or 0 when
 * no checkpoint is that old. */
static int settled_seq(const bf_seqtrack *t, uint64_t upto_ns, uint32_t *seq) {
  size_t lo = 0, hi = t->ck_n; /* entries are in time order */
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (t->ck_ns[(t->ck_head + mid) % BF_SEQTRACK_SETTLE_SLOTS] > upto_ns)
      hi = mid;
    else
      lo = mid + 1;
  }
  if (lo == 0) return 0;
  *seq = t->ck_seq[(t->ck_head + lo - 1) % BF_SEQTRACK_SETTLE_SLOTS];
  return 1;
}

/* The time of the first slot checkpoint past |seq| (the highest number at
 * the end of the slot in which the maximum passed it), or the oldest one, if
 * earlier than |dflt|. */
static uint64_t first_checkpoint_after(const bf_seqtrack *t, uint32_t seq, uint64_t dflt) {
  size_t lo = 0, hi = t->ck_n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (bf_seq32_diff(t->ck_seq[(t->ck_head + mid) % BF_SEQTRACK_SETTLE_SLOTS], seq) > 0)
      hi = mid;
    else
      lo = mid + 1;
  }
  if (lo == t->ck_n) return dflt;
  uint64_t at = t->ck_ns[(t->ck_head + lo) % BF_SEQTRACK_SETTLE_SLOTS];
  return at < dflt ? at : dflt;
}

/* A first copy numbered below the highest: open, or late for its window. */
static void account_late(bf_seqtrack *t, uint32_t seq) {
  if (bf_seq32_diff(seq, t->acc_base) > 0) {
    t->acc_open++;
  } else if (!t->acc_closed) {
    /* nothing closed yet: the stream began before the first arrival */
    t->acc_base = seq - 1;
    t->acc_open++;
  } else {
    t->acc_credit++;
    t->late_closed++;
  }
}

/* Arrival time of the first recorded advance past |seq|; when the ring of
 * advances no longer reaches back to it, the slot checkpoints' (< 1 ms
 * early, up to ~256 ms back), else the oldest time known (a lower bound). */
static uint64_t first_after(const bf_seqtrack *t, uint32_t seq) {
  size_t lo = 0, hi = t->adv_n; /* entries are in increasing number order */
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    uint32_t s = t->adv_seq[(t->adv_head + mid) % BF_SEQTRACK_ADV];
    if (bf_seq32_diff(s, seq) > 0)
      hi = mid;
    else
      lo = mid + 1;
  }
  if (lo == t->adv_n) lo = t->adv_n - 1; /* cannot happen: max is past seq */
  uint64_t at = t->adv_ns[(t->adv_head + lo) % BF_SEQTRACK_ADV];
  if (lo == 0 && t->adv_n == BF_SEQTRACK_ADV) at = first_checkpoint_after(t, seq, at);
  return at;
}

bf_seq_class bf_seqtrack_push(bf_seqtrack *t, uint32_t seq, uint64_t now) {
  t->datagrams++;
  if (!t->period_start_ns) t->period_start_ns = now;
  if (!t->settle_start_ns) t->settle_start_ns = now;
  roll(t, now);
  roll_settle(t, now);
  if (!t->have) {
    t->have = 1;
    t->max = seq;
    memset(t->seen, 0, sizeof t->seen);
    set_bit(t, seq);
    t->adv_head = 0;
    t->adv_n = 1;
    t->adv_seq[0] = seq;
    t->adv_ns[0] = now;
    t->acc_base = seq - 1;
    t->acc_open = 1;
    t->acc_closed = 0;
    t->acc_credit = 0;
    t->ck_head = 0;
    t->ck_n = 0;
    checkpoint(t, seq, now);
    return BF_SEQ_NEW;
  }
  int32_t d = bf_seq32_diff(seq, t->max);
  if (d > 0) {
    /* the numbers skipped over become unseen (they may still come) */
    uint32_t clear = (uint32_t)d < BF_SEQTRACK_WINDOW ? (uint32_t)d : BF_SEQTRACK_WINDOW;
    for (uint32_t i = 1; i <= clear; i++)
      clear_bit(t, seq - clear + i);
    set_bit(t, seq);
    t->max = seq;
    size_t at = (t->adv_head + t->adv_n) % BF_SEQTRACK_ADV;
    if (t->adv_n == BF_SEQTRACK_ADV)
      t->adv_head = (t->adv_head + 1) % BF_SEQTRACK_ADV;
    else
      t->adv_n++;
    t->adv_seq[at] = seq;
    t->adv_ns[at] = now;
    t->acc_open++;
    checkpoint(t, seq, now);
    return BF_SEQ_NEW;
  }
  if (d == 0) {
    t->duplicates++;
    return BF_SEQ_DUPLICATE;
  }
  if ((uint32_t)-d >= BF_SEQTRACK_WINDOW) {
    t->too_old++;
    t->reordered++;
    return BF_SEQ_OLD;
  }
  t->reordered++;
  if (test_bit(t, seq)) {
    t->duplicates++;
    return BF_SEQ_DUPLICATE;
  }
  set_bit(t, seq);
  account_late(t, seq);
  uint64_t since = first_after(t, seq);
  note_late(t, now > since ? now - since : 0);
  return BF_SEQ_REORDERED;
}

uint64_t bf_seqtrack_lateness(bf_seqtrack *t, uint64_t now) {
  if (t->period_start_ns) roll(t, now);
  return t->late_cur_ns > t->late_prev_ns ? t->late_cur_ns : t->late_prev_ns;
}

uint64_t bf_seqtrack_settle_ns(bf_seqtrack *t, uint64_t now) {
  if (t->settle_start_ns) roll_settle(t, now);
  uint64_t l = t->settle_cur_ns > t->settle_prev_ns ? t->settle_cur_ns : t->settle_prev_ns;
  if (!l) return 0;
  uint64_t b = l + l / 2 + 2000000u;
  return b < BF_SEQTRACK_SETTLE_MAX_NS ? b : BF_SEQTRACK_SETTLE_MAX_NS;
}

void bf_seqtrack_close_window(bf_seqtrack *t, uint64_t now, bf_seqtrack_window *w) {
  memset(w, 0, sizeof *w);
  w->settle_ns = bf_seqtrack_settle_ns(t, now);
  if (!t->have) {
    t->acc_credit = 0;
    return;
  }
  /* the horizon: the highest number seen at least the settle bound ago */
  uint32_t h = t->max;
  if (w->settle_ns && (now < w->settle_ns || !settled_seq(t, now - w->settle_ns, &h)))
    h = t->acc_base; /* nothing settled yet */
  if (bf_seq32_diff(h, t->acc_base) < 0) h = t->acc_base;
  /* what stays open must fit the bitmap that tells which numbers came */
  if (t->max - h >= BF_SEQTRACK_WINDOW) h = t->max - (BF_SEQTRACK_WINDOW - 1);
  uint32_t open = t->max - h;
  uint64_t beyond = 0;
  for (uint32_t i = 1; i <= open; i++)
    beyond += (uint64_t)test_bit(t, h + i);
  w->expected = (uint32_t)(h - t->acc_base);
  w->received = t->acc_open > beyond ? t->acc_open - beyond : 0;
  if (w->received > w->expected) w->received = w->expected; /* cannot happen */
  uint64_t room = w->expected - w->received;
  w->credited = t->acc_credit < room ? t->acc_credit : room;
  w->uncredited = t->acc_credit - w->credited;
  w->received += w->credited;
  w->horizon = h;
  w->open = open;
  t->acc_credit = 0;
  t->acc_open = beyond;
  if (w->expected) t->acc_closed = 1;
  t->acc_base = h;
}
