/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Input-to-photon latency: see photon.h.
 */
#include "photon.h"

#include <bildfunk/common.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct hist {
  uint32_t bin[BF_PHOTON_BINS];
  uint64_t n, max_ns;
  double sum_ns;
} hist;

struct bf_photon {
  uint64_t ev_ns[BF_PHOTON_RING];   /* by event seq; 0 = none or shown */
  uint64_t snap_ns[BF_PHOTON_RING]; /* by snapshot seq: its first change; 0 = none */
  uint64_t send_ns[BF_PHOTON_RING]; /* by snapshot seq: when it went out */
  uint32_t ev_last, ev_done;        /* the newest event; shown up to */
  uint32_t snap_last, snap_done;
  int have_ev, have_snap;
  bf_instamp stamps[BF_PHOTON_STAMPS];
  uint32_t n_stamps, stamp_next;
  uint32_t apply_acked; /* the newest snapshot ack measured */
  hist all, apply;
  uint32_t recent[BF_PHOTON_RECENT]; /* us */
  uint32_t n_recent, recent_next;
  uint64_t pending;
};

int bf_photon_new(bf_photon **out) {
  *out = calloc(1, sizeof **out);
  return *out ? 0 : -ENOMEM;
}

void bf_photon_del(bf_photon **p) {
  free(*p);
  *p = NULL;
}

static void hist_add(hist *h, uint64_t ns) {
  uint64_t b = ns / BF_PHOTON_BIN_NS;
  h->bin[b < BF_PHOTON_BINS ? b : BF_PHOTON_BINS - 1]++;
  h->n++;
  h->sum_ns += (double)ns;
  if (ns > h->max_ns) h->max_ns = ns;
}

static void sample(bf_photon *p, uint64_t t_in, uint64_t present) {
  uint64_t ns = present > t_in ? present - t_in : 0;
  hist_add(&p->all, ns);
  p->recent[p->recent_next] = ns / 1000u > UINT32_MAX ? UINT32_MAX : (uint32_t)(ns / 1000u);
  p->recent_next = (p->recent_next + 1) % BF_PHOTON_RECENT;
  if (p->n_recent < BF_PHOTON_RECENT) p->n_recent++;
  if (p->pending) p->pending--;
}

void bf_photon_event(bf_photon *p, uint32_t seq, uint64_t t) {
  if (!p->have_ev) {
    p->have_ev = 1;
    p->ev_done = seq - 1;
  }
  if (bf_seq32_diff(seq, p->ev_last) > 0 || p->ev_last == 0) p->ev_last = seq;
  uint64_t *slot = &p->ev_ns[seq % BF_PHOTON_RING];
  if (*slot && p->pending) p->pending--; /* an input never shown, overwritten */
  *slot = t ? t : 1;
  p->pending++;
}

void bf_photon_sent(bf_photon *p, const bf_inlink_sent *s, uint64_t send_ns) {
  if (!p->have_snap) {
    p->have_snap = 1;
    p->snap_done = s->snap_seq - 1;
  }
  p->snap_last = s->snap_seq;
  uint32_t i = s->snap_seq % BF_PHOTON_RING;
  if (p->snap_ns[i] && p->pending) p->pending--;
  p->snap_ns[i] = s->changed ? (s->change_ns ? s->change_ns : 1) : 0;
  p->send_ns[i] = send_ns;
  if (s->changed) p->pending++;
}

void bf_photon_state(bf_photon *p, const bf_inmsg_state *st, int64_t offset) {
  for (unsigned i = st->n_stamps; i-- > 0;) { /* oldest first */
    const bf_instamp *s = &st->stamps[i];
    int known = 0;
    for (uint32_t k = 0; k < p->n_stamps && !known; k++)
      known = p->stamps[k].pts_ns == s->pts_ns;
    if (known) continue;
    p->stamps[p->stamp_next] = *s;
    p->stamp_next = (p->stamp_next + 1) % BF_PHOTON_STAMPS;
    if (p->n_stamps < BF_PHOTON_STAMPS) p->n_stamps++;
  }
  /* input-to-apply: once per newly acknowledged snapshot */
  if (!st->apply_ns || !p->have_snap || bf_seq32_diff(st->snap_ack, p->apply_acked) <= 0 ||
      bf_seq32_diff(p->snap_last, st->snap_ack) >= (int32_t)BF_PHOTON_RING ||
      bf_seq32_diff(st->snap_ack, p->snap_last) > 0)
    return;
  p->apply_acked = st->snap_ack;
  uint64_t sent = p->send_ns[st->snap_ack % BF_PHOTON_RING];
  int64_t applied = (int64_t)st->apply_ns - offset; /* on the client's clock */
  if (sent && applied > 0)
    hist_add(&p->apply, (uint64_t)applied > sent ? (uint64_t)applied - sent : 0);
}

void bf_photon_present(bf_photon *p, uint64_t pts, uint64_t present) {
  const bf_instamp *best = NULL;
  for (uint32_t k = 0; k < p->n_stamps; k++)
    if (p->stamps[k].pts_ns <= pts && (!best || p->stamps[k].pts_ns > best->pts_ns))
      best = &p->stamps[k];
  if (!best) return;
  if (p->have_ev) {
    if (bf_seq32_diff(best->ev_seq, p->ev_done) > (int32_t)BF_PHOTON_RING)
      p->ev_done = best->ev_seq - BF_PHOTON_RING; /* older ones were overwritten */
    while (bf_seq32_diff(best->ev_seq, p->ev_done) > 0 &&
           bf_seq32_diff(p->ev_last, p->ev_done) > 0) {
      uint64_t *t = &p->ev_ns[++p->ev_done % BF_PHOTON_RING];
      if (*t) sample(p, *t, present);
      *t = 0;
    }
  }
  if (p->have_snap) {
    if (bf_seq32_diff(best->snap_seq, p->snap_done) > (int32_t)BF_PHOTON_RING)
      p->snap_done = best->snap_seq - BF_PHOTON_RING;
    while (bf_seq32_diff(best->snap_seq, p->snap_done) > 0 &&
           bf_seq32_diff(p->snap_last, p->snap_done) > 0) {
      uint64_t *t = &p->snap_ns[++p->snap_done % BF_PHOTON_RING];
      if (*t) sample(p, *t, present);
      *t = 0;
    }
  }
}

static double hist_pct(const hist *h, double q) {
  uint64_t want = (uint64_t)(q * (double)h->n + 0.999999), seen = 0;
  if (want < 1) want = 1;
  for (uint32_t b = 0; b < BF_PHOTON_BINS; b++) {
    seen += h->bin[b];
    if (seen >= want)
      return b == BF_PHOTON_BINS - 1 ? (double)h->max_ns / 1e6
                                     : ((double)b + 0.5) * BF_PHOTON_BIN_NS / 1e6;
  }
  return (double)h->max_ns / 1e6;
}

static void hist_view(const hist *h, bf_photon_view *v) {
  memset(v, 0, sizeof *v);
  v->n = h->n;
  if (!h->n) return;
  v->p50_ms = hist_pct(h, 0.50);
  v->p95_ms = hist_pct(h, 0.95);
  v->p99_ms = hist_pct(h, 0.99);
  v->max_ms = (double)h->max_ns / 1e6;
  v->mean_ms = h->sum_ns / (double)h->n / 1e6;
}

void bf_photon_session(const bf_photon *p, bf_photon_view *v) {
  hist_view(&p->all, v);
}

void bf_photon_apply(const bf_photon *p, bf_photon_view *v) {
  hist_view(&p->apply, v);
}

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return (x > y) - (x < y);
}

void bf_photon_recent(const bf_photon *p, bf_photon_view *v) {
  memset(v, 0, sizeof *v);
  uint32_t s[BF_PHOTON_RECENT];
  uint32_t n = p->n_recent;
  if (!n) return;
  memcpy(s, p->recent, n * sizeof s[0]);
  qsort(s, n, sizeof s[0], cmp_u32);
  v->n = n;
  v->p50_ms = s[(n - 1) * 50 / 100] / 1e3;
  v->p95_ms = s[(n - 1) * 95 / 100] / 1e3;
  v->p99_ms = s[(n - 1) * 99 / 100] / 1e3;
  v->max_ms = s[n - 1] / 1e3;
  double sum = 0;
  for (uint32_t i = 0; i < n; i++)
    sum += s[i];
  v->mean_ms = sum / n / 1e3;
}

uint64_t bf_photon_pending(const bf_photon *p) {
  return p->pending;
}
