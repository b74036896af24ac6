/*
 * Packet order: reorders, duplicates, lateness. See seqtrack.h.
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
  if (now - t->period_start_ns < BF_SEQTRACK_PERIOD_NS) return;
  /* a whole silent period in between: nothing of the current one is recent */
  t->late_prev_ns = now - t->period_start_ns < 2 * BF_SEQTRACK_PERIOD_NS ? t->late_cur_ns : 0;
  t->late_cur_ns = 0;
  t->period_start_ns = now;
}

static void note_late(bf_seqtrack *t, uint64_t late) {
  if (late > t->late_cur_ns) t->late_cur_ns = late;
  if (late > t->late_max_ns) t->late_max_ns = late;
}

/* Arrival time of the first recorded advance past |seq|, or of the oldest
 * one when they are all past it (a lower bound). */
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
  return t->adv_ns[(t->adv_head + lo) % BF_SEQTRACK_ADV];
}

bf_seq_class bf_seqtrack_push(bf_seqtrack *t, uint32_t seq, uint64_t now) {
  t->datagrams++;
  if (!t->period_start_ns) t->period_start_ns = now;
  roll(t, now);
  if (!t->have) {
    t->have = 1;
    t->max = seq;
    memset(t->seen, 0, sizeof t->seen);
    set_bit(t, seq);
    t->adv_head = 0;
    t->adv_n = 1;
    t->adv_seq[0] = seq;
    t->adv_ns[0] = now;
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
  uint64_t since = first_after(t, seq);
  note_late(t, now > since ? now - since : 0);
  return BF_SEQ_REORDERED;
}

uint64_t bf_seqtrack_lateness(bf_seqtrack *t, uint64_t now) {
  if (t->period_start_ns) roll(t, now);
  return t->late_cur_ns > t->late_prev_ns ? t->late_cur_ns : t->late_prev_ns;
}
