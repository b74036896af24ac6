/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Impairment engine (see impair.h): per-stream splitmix64 PRNGs, a virtual
 * serialisation clock for the rate limit, and a min-heap of slots ordered by
 * (due time, schedule order) so equal due times leave first-in first-out.
 * Everything is decided at push time; poll only hands out what is due.
 */
#include "impair.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Independent decision streams, each its own PRNG. */
enum { RNG_LOSS, RNG_DUP, RNG_JITTER, RNG_COUNT };

typedef struct slot_meta {
  uint64_t due;
  uint64_t order; /* schedule order: the tie-break that keeps FIFO */
  uint64_t arrival;
  uint64_t seq;
  uint32_t len;
  uint8_t dup;
} slot_meta;

struct bf_impair {
  bf_impair_config cfg;
  bf_impair_stats st;
  uint64_t rng[RNG_COUNT];
  /* Derived parameters. */
  double p_loss; /* Bernoulli loss probability, or 0 */
  double ge_p;   /* Gilbert-Elliott P(good -> bad); 0 = model off */
  double ge_r;   /* P(bad -> good) */
  double p_dup;
  double ns_per_byte; /* 0 = no rate limit */
  int ge_bad;
  /* Schedule state. */
  uint64_t last_now;
  uint64_t link_free; /* when the rate-limited link finishes its backlog */
  uint64_t last_due;  /* latest due time given out (order preservation) */
  uint64_t next_order;
  uint64_t next_seq;
  uint64_t max_seq_out;
  int any_out;
  uint64_t max_video_seq_out; /* the same among video-sized datagrams */
  int any_video_out;
  /* Storage, allocated once. */
  uint32_t cap;
  uint8_t *slab; /* cap * BF_IMPAIR_SLOT_BYTES */
  slot_meta *meta;
  uint32_t *heap; /* slot indices, min-heap on (due, order) */
  uint32_t heap_n;
  uint32_t *freelist;
  uint32_t free_n;
};

static uint64_t splitmix64(uint64_t *s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/* Uniform in [0, 1) with 53 random bits. */
static double rng_unit(bf_impair *s, int stream) {
  return (double)(splitmix64(&s->rng[stream]) >> 11) * 0x1.0p-53;
}

void bf_impair_config_default(bf_impair_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->max_queue = BF_IMPAIR_DEFAULT_MAX_QUEUE;
  cfg->seed = 1;
}

static int pct_ok(double v) {
  return v >= 0.0 && v <= 100.0;
}

const char *bf_impair_config_check(const bf_impair_config *cfg) {
  if (!pct_ok(cfg->loss_pct)) return "loss must be 0..100 %";
  if (!pct_ok(cfg->dup_pct)) return "dup must be 0..100 %";
  if (!pct_ok(cfg->ge_p_pct) || !pct_ok(cfg->ge_r_pct)) return "ge-p/ge-r must be 0..100 %";
  if (!(cfg->rate_mbit >= 0.0) || cfg->rate_mbit > 1e6) return "rate must be 0..1000000 Mbit/s";
  if (!(cfg->burst_mean == 0.0 || (cfg->burst_mean >= 1.0 && cfg->burst_mean <= 1e9)))
    return "burst mean length must be >= 1 packet";
  if (cfg->ge_p_pct > 0.0 || cfg->ge_r_pct > 0.0) {
    if (cfg->ge_p_pct <= 0.0 || cfg->ge_r_pct <= 0.0) return "ge-p and ge-r go together, both > 0";
    if (cfg->loss_pct > 0.0 || cfg->burst_mean > 0.0)
      return "ge-p/ge-r exclude loss and burst (give the model one way)";
  }
  if (cfg->burst_mean > 0.0) {
    if (cfg->loss_pct <= 0.0) return "burst needs a loss rate (the average loss)";
    double loss = cfg->loss_pct / 100.0, r = 1.0 / cfg->burst_mean;
    if (loss >= 1.0 || r * loss / (1.0 - loss) > 1.0)
      return "loss too high for that mean burst length (P(good->bad) would exceed 1)";
  }
  if (cfg->max_queue > BF_IMPAIR_MAX_MAX_QUEUE) return "max-queue too large";
  if (cfg->delay_ns > 3600ull * 1000000000ull || cfg->jitter_ns > 3600ull * 1000000000ull ||
      cfg->queue_ns > 3600ull * 1000000000ull)
    return "delay, jitter and queue must be under an hour";
  return NULL;
}

int bf_impair_config_is_transparent(const bf_impair_config *cfg) {
  return cfg->loss_pct == 0.0 && cfg->burst_mean == 0.0 && cfg->ge_p_pct == 0.0 &&
         cfg->dup_pct == 0.0 && cfg->delay_ns == 0 && cfg->jitter_ns == 0 &&
         cfg->rate_mbit == 0.0 && cfg->mtu == 0;
}

int bf_impair_new(const bf_impair_config *cfg, bf_impair **out) {
  *out = NULL;
  if (bf_impair_config_check(cfg)) return -EINVAL;
  bf_impair *s = calloc(1, sizeof *s);
  if (!s) return -ENOMEM;
  s->cfg = *cfg;
  s->cap = cfg->max_queue ? cfg->max_queue : BF_IMPAIR_DEFAULT_MAX_QUEUE;
  s->cfg.max_queue = s->cap;
  s->slab = malloc((size_t)s->cap * BF_IMPAIR_SLOT_BYTES);
  s->meta = calloc(s->cap, sizeof *s->meta);
  s->heap = malloc((size_t)s->cap * sizeof *s->heap);
  s->freelist = malloc((size_t)s->cap * sizeof *s->freelist);
  if (!s->slab || !s->meta || !s->heap || !s->freelist) {
    bf_impair_del(&s);
    return -ENOMEM;
  }
  /* Lowest slot on top of the stack: a light load reuses a few hot slots. */
  for (uint32_t i = 0; i < s->cap; i++)
    s->freelist[i] = s->cap - 1 - i;
  s->free_n = s->cap;

  for (unsigned k = 0; k < RNG_COUNT; k++) {
    uint64_t x = cfg->seed ^ (0xd1b54a32d192ed03ull * (k + 1u));
    s->rng[k] = splitmix64(&x);
  }
  if (cfg->ge_p_pct > 0.0) {
    s->ge_p = cfg->ge_p_pct / 100.0;
    s->ge_r = cfg->ge_r_pct / 100.0;
  } else if (cfg->burst_mean > 0.0) {
    double loss = cfg->loss_pct / 100.0;
    s->ge_r = 1.0 / cfg->burst_mean;
    s->ge_p = s->ge_r * loss / (1.0 - loss);
  } else {
    s->p_loss = cfg->loss_pct / 100.0;
  }
  s->p_dup = cfg->dup_pct / 100.0;
  s->ns_per_byte = cfg->rate_mbit > 0.0 ? 8000.0 / cfg->rate_mbit : 0.0;
  *out = s;
  return 0;
}

void bf_impair_del(bf_impair **s) {
  if (!s || !*s) return;
  free((*s)->slab);
  free((*s)->meta);
  free((*s)->heap);
  free((*s)->freelist);
  free(*s);
  *s = NULL;
}

static int before(const bf_impair *s, uint32_t a, uint32_t b) {
  const slot_meta *x = &s->meta[a], *y = &s->meta[b];
  return x->due < y->due || (x->due == y->due && x->order < y->order);
}

static void heap_push(bf_impair *s, uint32_t slot) {
  uint32_t i = s->heap_n++;
  while (i > 0) {
    uint32_t parent = (i - 1) / 2;
    if (!before(s, slot, s->heap[parent])) break;
    s->heap[i] = s->heap[parent];
    i = parent;
  }
  s->heap[i] = slot;
}

static uint32_t heap_pop(bf_impair *s) {
  uint32_t top = s->heap[0];
  uint32_t last = s->heap[--s->heap_n];
  uint32_t i = 0, n = s->heap_n;
  for (;;) {
    uint32_t c = 2 * i + 1;
    if (c >= n) break;
    if (c + 1 < n && before(s, s->heap[c + 1], s->heap[c])) c++;
    if (!before(s, s->heap[c], last)) break;
    s->heap[i] = s->heap[c];
    i = c;
  }
  if (n > 0) s->heap[i] = last;
  return top;
}

/* Loss decision for one datagram that passed the MTU cap: 1 = lost. Draws
 * exactly one number from the loss stream whichever model is on. */
static int decide_loss(bf_impair *s) {
  double u = rng_unit(s, RNG_LOSS);
  if (s->ge_p > 0.0) {
    if (!s->ge_bad) {
      if (u < s->ge_p) {
        s->ge_bad = 1;
        s->st.bursts++;
      }
    } else if (u < s->ge_r) {
      s->ge_bad = 0;
    }
    if (s->ge_bad) {
      s->st.drop_burst++;
      return 1;
    }
    return 0;
  }
  if (s->p_loss > 0.0 && u < s->p_loss) {
    s->st.drop_loss++;
    return 1;
  }
  return 0;
}

/* Jitter offset in [-jitter, +jitter] ns. */
static int64_t draw_jitter(bf_impair *s) {
  if (s->cfg.jitter_ns == 0) return 0;
  double u = rng_unit(s, RNG_JITTER) * 2.0 - 1.0;
  return (int64_t)llround(u * (double)s->cfg.jitter_ns);
}

/* One copy through the rate queue and the delay line. Returns 1 scheduled,
 * 0 dropped (counted). */
static int schedule(bf_impair *s, const uint8_t *data, size_t len, uint64_t now, uint64_t seq,
                    int dup) {
  uint64_t depart = now, link_free = s->link_free;
  if (s->ns_per_byte > 0.0) {
    uint64_t start = link_free > now ? link_free : now;
    if (start - now > s->cfg.queue_ns) {
      s->st.drop_queue++;
      return 0;
    }
    link_free = start + (uint64_t)llround((double)len * s->ns_per_byte);
    depart = link_free;
  }
  if (s->free_n == 0) {
    s->st.drop_overflow++;
    return 0;
  }
  int64_t j = draw_jitter(s);
  uint64_t hold = s->cfg.delay_ns;
  if (j < 0 && (uint64_t)(-j) > hold)
    hold = 0;
  else
    hold = (uint64_t)((int64_t)hold + j);
  uint64_t due = depart + hold;
  if (!s->cfg.reorder && due < s->last_due) due = s->last_due;
  if (due > s->last_due) s->last_due = due;
  s->link_free = link_free;

  uint32_t slot = s->freelist[--s->free_n];
  slot_meta *m = &s->meta[slot];
  m->due = due;
  m->order = s->next_order++;
  m->arrival = now;
  m->seq = seq;
  m->len = (uint32_t)len;
  m->dup = (uint8_t)dup;
  if (len) memcpy(s->slab + (size_t)slot * BF_IMPAIR_SLOT_BYTES, data, len);
  heap_push(s, slot);
  s->st.queued++;
  if (s->st.queued > s->st.queued_max) s->st.queued_max = s->st.queued;
  return 1;
}

int bf_impair_push(bf_impair *s, const uint8_t *data, size_t len, uint64_t now_ns) {
  if (len > BF_IMPAIR_MAX_DGRAM) return -EMSGSIZE;
  if (now_ns < s->last_now) now_ns = s->last_now;
  s->last_now = now_ns;
  s->st.in_packets++;
  s->st.in_bytes += len;
  if (s->cfg.mtu && len > s->cfg.mtu) {
    s->st.drop_mtu++;
    return 0;
  }
  if (decide_loss(s)) return 0;
  int copies = 1;
  if (s->p_dup > 0.0 && rng_unit(s, RNG_DUP) < s->p_dup) copies = 2;
  uint64_t seq = s->next_seq++;
  int n = schedule(s, data, len, now_ns, seq, 0);
  if (copies == 2) {
    s->st.duplicated++;
    if (len >= BF_IMPAIR_VIDEO_MIN) s->st.duplicated_video++;
    n += schedule(s, data, len, now_ns, seq, 1);
  }
  return n;
}

int bf_impair_poll(bf_impair *s, uint64_t now_ns, bf_impair_pkt *out) {
  if (s->heap_n == 0 || s->meta[s->heap[0]].due > now_ns) return 0;
  uint32_t slot = heap_pop(s);
  const slot_meta *m = &s->meta[slot];
  out->data = s->slab + (size_t)slot * BF_IMPAIR_SLOT_BYTES;
  out->len = m->len;
  out->arrival_ns = m->arrival;
  out->due_ns = m->due;
  out->seq = m->seq;
  out->slot = slot;
  out->duplicate = m->dup;

  s->st.queued--;
  s->st.out_packets++;
  s->st.out_bytes += m->len;
  uint64_t delay = m->due - m->arrival, late = now_ns - m->due;
  s->st.delay_sum_ns += delay;
  if (delay > s->st.delay_max_ns) s->st.delay_max_ns = delay;
  if (late > s->st.late_max_ns) s->st.late_max_ns = late;
  if (s->any_out && m->seq < s->max_seq_out) s->st.reordered++;
  if (!s->any_out || m->seq > s->max_seq_out) s->max_seq_out = m->seq;
  s->any_out = 1;
  if (m->len >= BF_IMPAIR_VIDEO_MIN) {
    if (s->any_video_out && m->seq < s->max_video_seq_out) s->st.reordered_video++;
    if (!s->any_video_out || m->seq > s->max_video_seq_out) s->max_video_seq_out = m->seq;
    s->any_video_out = 1;
  }
  return 1;
}

void bf_impair_release(bf_impair *s, const bf_impair_pkt *pkt) {
  if (pkt->slot < s->cap && s->free_n < s->cap) s->freelist[s->free_n++] = pkt->slot;
}

uint64_t bf_impair_next_due(const bf_impair *s) {
  return s->heap_n ? s->meta[s->heap[0]].due : UINT64_MAX;
}

const bf_impair_stats *bf_impair_stats_get(const bf_impair *s) {
  return &s->st;
}
const bf_impair_config *bf_impair_config_get(const bf_impair *s) {
  return &s->cfg;
}
