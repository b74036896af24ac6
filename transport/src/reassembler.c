/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Reassembler: wire-v1 video datagrams back into access units. See
 * bildfunk/reassembler.h for the contract and docs/protocol.md for the rules.
 *
 * State, all allocated in bf_reassembler_new() except the pooled buffers:
 * - the index window: a ring of W = 2^n >= abandon_frames AU slots,
 *   direct-mapped by frame_index & (W - 1). Slot i always describes index
 *   i in (newest - W, newest]: EMPTY (never seen), ACTIVE (being assembled),
 *   DONE (delivered), LOST (will never complete, loss not yet reported) or
 *   REPORTED (loss reported). A lookup is one array access; nothing walks a
 *   list per packet.
 * - the loss cursor |base|: every index older than it has been finalized and
 *   reported. It advances in index order, so loss ranges come out sorted and
 *   coalesce. |start| is the oldest index the cursor ever covered; an index
 *   older than |start| (before the stream began for us) may still join while
 *   it is in the window, later ones may not.
 * - buffers from one bf__pool: an AU buffer holds its event node, the data
 *   area (total_data x S, each data shard copied once to its final offset)
 *   and the per-block state; parity shards get S-byte buffers of their own.
 * - events: one FIFO. A frame's node lives in its AU buffer (frames can never
 *   be dropped); loss and short-block events take nodes from a fixed array.
 *
 * Not here: decryption, sockets, clocks, decoding, feedback policy.
 */
#include <bildfunk/reassembler.h>

#include <bildfunk/fec.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pool.h"

/* Slot states. */
enum { AU_EMPTY = 0, AU_ACTIVE, AU_DONE, AU_LOST, AU_REPORTED };

/* Buffer owners (bf__buf.owner). */
enum { OWN_AU = 1, OWN_PARITY = 2, OWN_APP = 3 };

/* Block flags. */
#define BLK_PINNED 0x1u   /* m is pinned */
#define BLK_COMPLETE 0x2u /* every data shard is in place */
#define BLK_SHORT 0x4u    /* BLOCK_SHORT was reported */

/* Rebuilt data shards remembered per delivered AU so that a late original
 * still counts as late after delivery; beyond this many, it counts as a
 * duplicate. */
#define REC_MAX 32

/* Loss and short-block events queued at most (frames do not count: their
 * nodes live in their buffers). When full, further ones are counted in
 * events_dropped. Bound: drain after every push and it never fills. */
#define EVQ_NODES 256

typedef struct blk {
  uint64_t have[4]; /* shard indices 0..254 received */
  bf__buf *parity;  /* parity buffers held, tag = shard index */
  uint16_t m;
  uint16_t ndata;
  uint16_t nparity;
  uint8_t flags;
} blk;

typedef struct au {
  uint32_t index;
  uint8_t state;
  uint8_t has_pts;
  uint8_t nrec;
  uint64_t pts;
  /* pins of the first accepted packet */
  uint32_t frame_bytes;
  uint32_t user_flags;
  uint16_t shard_bytes;
  uint16_t block_count;
  /* while ACTIVE */
  bf__buf *buf;
  uint8_t *data;
  blk *blocks;
  uint32_t blocks_done;
  uint32_t received;
  uint32_t recovered;
  size_t charged; /* pool bytes held: AU buffer + parity buffers */
  uint64_t first_arrival;
  /* global data-shard numbers rebuilt by FEC (for late accounting) */
  uint32_t rec[REC_MAX];
} au;

typedef struct evnode {
  struct evnode *next;
  int fixed; /* from r->nodes (else embedded in a frame buffer) */
  bf_event ev;
} evnode;

/* The AU buffer: [node][data: total_data x S][pad][blocks]. */
#define NODE_BYTES ((sizeof(evnode) + 63u) & ~(size_t)63u)

struct bf_reassembler {
  bf_reassembler_config cfg;
  size_t budget;
  bf_fec *fec;
  bf__pool pool;
  au *ring;
  uint32_t mask; /* W - 1 */
  uint32_t nwin; /* abandon_frames */
  int have_newest;
  uint32_t newest;
  uint64_t newest_pts;
  uint32_t base;
  uint32_t start;
  uint64_t inwin_ns; /* the last packet accepted inside the window */
  /* far indices watched for a jump: bit i = cand_base + i was seen */
  int have_cand;
  uint32_t cand_base;
  uint64_t cand_seen;
  uint64_t cand_first_ns, cand_last_ns;
  evnode *q_head, *q_tail;
  evnode *node_free;
  uint8_t *scratch; /* target for parity that is missing during a rebuild */
  bf_reassembler_stats st;
  evnode nodes[EVQ_NODES];
};

/* ---- helpers --------------------------------------------------------- */

static inline int older(uint32_t a, uint32_t b) {
  return bf_seq32_diff(a, b) < 0;
}

static inline au *slot(bf_reassembler *r, uint32_t idx) {
  return &r->ring[idx & r->mask];
}

static size_t au_payload(uint32_t total_data, uint32_t shard_bytes, uint32_t block_count) {
  size_t data = ((size_t)total_data * shard_bytes + 15u) & ~(size_t)15u;
  return NODE_BYTES + data + (size_t)block_count * sizeof(blk);
}

static void enqueue(bf_reassembler *r, evnode *n) {
  n->next = NULL;
  if (r->q_tail)
    r->q_tail->next = n;
  else
    r->q_head = n;
  r->q_tail = n;
}

static evnode *fixed_node(bf_reassembler *r) {
  evnode *n = r->node_free;
  if (!n) {
    r->st.events_dropped++;
    return NULL;
  }
  r->node_free = n->next;
  return n;
}

/* Reports indices first..last (inclusive, in order, count = last - first + 1
 * modulo 2^32) lost, merging into a queued loss event that ends just before;
 * |au_flags|: the AU flags of those of them that had shards. */
static void emit_loss(bf_reassembler *r, uint32_t first, uint32_t last, uint32_t au_flags) {
  r->st.frames_lost += (uint64_t)(uint32_t)(last - first) + 1u;
  evnode *t = r->q_tail;
  if (t && t->fixed && t->ev.type == BF_EVENT_LOSS && t->ev.u.loss.last + 1u == first) {
    t->ev.u.loss.last = last;
    t->ev.u.loss.au_flags |= au_flags;
    return;
  }
  evnode *n = fixed_node(r);
  if (!n) return;
  n->ev.type = BF_EVENT_LOSS;
  n->ev.u.loss.first = first;
  n->ev.u.loss.last = last;
  n->ev.u.loss.au_flags = au_flags;
  enqueue(r, n);
}

/* The flags of the AU in slot |a|, if any of its shards came (has_pts). */
static uint32_t seen_flags(const au *a) {
  return a->has_pts ? a->user_flags : 0;
}

static void free_parity(bf_reassembler *r, au *a, blk *b) {
  bf__buf *p = b->parity;
  while (p) {
    bf__buf *n = p->next;
    a->charged -= p->size;
    bf__pool_put(&r->pool, p);
    p = n;
  }
  b->parity = NULL;
}

/* Gives up on an ACTIVE AU: its buffers go back to the pool, the slot turns
 * LOST (reported when the cursor passes it). */
static void abandon(bf_reassembler *r, au *a) {
  for (uint32_t i = 0; i < a->block_count; i++)
    if (a->blocks[i].parity) free_parity(r, a, &a->blocks[i]);
  bf__pool_put(&r->pool, a->buf);
  a->buf = NULL;
  a->data = NULL;
  a->blocks = NULL;
  a->state = AU_LOST;
}

/* Moves the cursor over finalized slots, reporting losses in index order. */
static void cursor_advance(bf_reassembler *r) {
  while (!older(r->newest, r->base)) {
    au *a = slot(r, r->base);
    if (a->state == AU_LOST) {
      emit_loss(r, r->base, r->base, seen_flags(a));
      a->state = AU_REPORTED;
    } else if (a->state != AU_DONE && a->state != AU_REPORTED) {
      break;
    }
    r->base++;
  }
}

/* Age rule: an ACTIVE AU whose pts is >= abandon_age_ns behind the newest
 * AU's is abandoned; an index never seen that is older than any seen AU that
 * old is lost too (its pts could only be older still). */
static void expire_by_age(bf_reassembler *r) {
  int found = 0;
  uint32_t cutoff = 0;
  for (uint32_t i = r->base; !older(r->newest, i); i++) {
    au *a = slot(r, i);
    if (!a->has_pts) continue;
    if ((int64_t)(r->newest_pts - a->pts) < (int64_t)r->cfg.abandon_age_ns) continue;
    found = 1;
    cutoff = i;
    if (a->state == AU_ACTIVE) abandon(r, a);
  }
  if (found) {
    for (uint32_t i = r->base; older(i, cutoff); i++) {
      au *a = slot(r, i);
      if (a->state == AU_EMPTY) a->state = AU_LOST;
    }
  }
}

static void window_init(bf_reassembler *r, uint32_t idx, uint64_t pts) {
  r->have_newest = 1;
  r->newest = idx;
  r->newest_pts = pts;
  r->base = idx;
  r->start = idx;
  for (uint32_t j = 0; j <= r->mask; j++) {
    au *a = slot(r, idx - j);
    a->state = AU_EMPTY;
    a->has_pts = 0;
    a->index = idx - j;
  }
}

/* |idx| is newer than the newest index: it becomes the newest. Count rule
 * first (everything >= abandon_frames behind is finalized), then the ring
 * slots of the new indices are cleared, then the age rule. */
static void advance(bf_reassembler *r, uint32_t idx, uint64_t pts) {
  uint32_t old = r->newest;
  uint32_t lo = idx - (r->nwin - 1u); /* oldest index still in the window */
  while (older(r->base, lo)) {
    if (older(old, r->base)) { /* never seen, beyond the old window */
      emit_loss(r, r->base, lo - 1u, 0);
      r->base = lo;
      break;
    }
    au *a = slot(r, r->base);
    if (a->state == AU_ACTIVE) abandon(r, a);
    if (a->state == AU_EMPTY || a->state == AU_LOST) {
      emit_loss(r, r->base, r->base, seen_flags(a));
      a->state = AU_REPORTED;
    }
    r->base++;
  }
  if (older(r->start, lo)) r->start = lo;
  r->newest = idx;
  r->newest_pts = pts;
  uint32_t jump = idx - old;
  uint32_t n = jump > r->mask ? r->mask + 1u : jump;
  for (uint32_t j = 0; j < n; j++) {
    au *a = slot(r, idx - j);
    a->state = AU_EMPTY;
    a->has_pts = 0;
    a->index = idx - j;
  }
  expire_by_age(r);
  cursor_advance(r);
}

/* Frees room for |charge| more bytes by abandoning unfinished AUs older than
 * |idx|, oldest first. Returns 1 when the charge fits. */
static int make_room(bf_reassembler *r, uint32_t idx, size_t charge) {
  if (charge > r->budget) return 0;
  if (r->pool.in_use <= r->budget - charge) return 1;
  size_t reclaimable = 0;
  for (uint32_t i = r->base; older(i, idx); i++) {
    au *a = slot(r, i);
    if (a->state == AU_ACTIVE) reclaimable += a->charged;
  }
  if (r->pool.in_use - reclaimable > r->budget - charge) return 0; /* evict nothing in vain */
  while (r->pool.in_use > r->budget - charge) {
    au *victim = NULL;
    for (uint32_t i = r->base; older(i, idx); i++) {
      au *a = slot(r, i);
      if (a->state == AU_ACTIVE) {
        victim = a;
        break;
      }
    }
    if (!victim) return 0;
    abandon(r, victim);
    r->st.frames_evicted++;
  }
  return 1;
}

static void note_memory(bf_reassembler *r) {
  if (r->pool.in_use > r->st.memory_peak) r->st.memory_peak = r->pool.in_use;
}

/* ---- completion ------------------------------------------------------ */

static void complete_au(bf_reassembler *r, au *a, uint64_t arrival_ns) {
  bf__buf *b = a->buf;
  evnode *n = (evnode *)(void *)bf__buf_data(b);
  n->fixed = 0;
  n->ev.type = BF_EVENT_FRAME;
  bf_frame *f = &n->ev.u.frame;
  f->data = a->data;
  f->len = a->frame_bytes;
  f->pts_ns = a->pts;
  f->frame_index = a->index;
  f->user_flags = a->user_flags;
  f->first_arrival_ns = a->first_arrival;
  f->last_arrival_ns = arrival_ns;
  f->shards_received = a->received;
  f->shards_recovered = a->recovered;
  f->data_shards = (a->frame_bytes + a->shard_bytes - 1u) / a->shard_bytes;
  f->parity_shards = 0;
  for (uint32_t i = 0; i < a->block_count; i++) /* every block is pinned by now */
    f->parity_shards += a->blocks[i].m;
  f->internal_ = b;
  b->owner = OWN_APP;
  enqueue(r, n);
  a->buf = NULL;
  a->data = NULL;
  a->blocks = NULL;
  a->state = AU_DONE;
  r->st.frames_completed++;
  cursor_advance(r);
}

/* Block |bi| of |a| holds k shards: rebuild its missing data shards in place.
 * Returns 0, or -1 when FEC failed (the AU was abandoned). */
static int complete_block(bf_reassembler *r, au *a, uint32_t bi, uint32_t k) {
  blk *b = &a->blocks[bi];
  if (b->ndata < k) {
    uint8_t *shards[BF_MAX_BLOCK_SHARDS];
    uint8_t present[BF_MAX_BLOCK_SHARDS];
    uint32_t m = b->m, S = a->shard_bytes;
    uint8_t *base = a->data + (size_t)bi * r->cfg.limits.max_k * S;
    for (uint32_t i = 0; i < k; i++) {
      shards[i] = base + (size_t)i * S;
      present[i] = (uint8_t)((b->have[i >> 6] >> (i & 63)) & 1u);
    }
    for (uint32_t j = k; j < k + m; j++) {
      shards[j] = r->scratch;
      present[j] = 0;
    }
    for (bf__buf *p = b->parity; p; p = p->next) {
      shards[p->tag] = bf__buf_data(p);
      present[p->tag] = 1;
    }
    int rc = bf_fec_reconstruct(r->fec, k, m, S, shards, present);
    if (rc < 0) {
      abandon(r, a);
      cursor_advance(r);
      return -1;
    }
    for (uint32_t i = 0; i < k; i++) {
      if (present[i]) continue;
      if (a->nrec < REC_MAX) a->rec[a->nrec++] = bi * r->cfg.limits.max_k + i;
    }
    uint32_t rebuilt = k - b->ndata;
    a->recovered += rebuilt;
    r->st.shards_recovered += rebuilt;
  }
  free_parity(r, a, b);
  b->flags |= BLK_COMPLETE;
  a->blocks_done++;
  return 0;
}

/* ---- push ------------------------------------------------------------ */

static bf_reject reject(bf_reassembler *r, bf_reject why) {
  r->st.rejected[why]++;
  if (why == BF_REJECT_LATE) r->st.late_shards++;
  return why;
}

static int pins_differ(const au *a, const bf_header *h) {
  return a->shard_bytes != h->shard_bytes || a->frame_bytes != h->frame_bytes ||
         a->block_count != h->block_count || a->pts != h->pts_ns || a->user_flags != h->user_flags;
}

/* A packet for an AU that was already delivered. */
static bf_reject straggler(bf_reassembler *r, au *a, const bf_header *h) {
  if (pins_differ(a, h)) return reject(r, BF_REJECT_PIN);
  if (h->shard_index < h->data_shards) {
    uint32_t g = (uint32_t)h->block_index * r->cfg.limits.max_k + h->shard_index;
    for (uint32_t i = 0; i < a->nrec; i++) {
      if (a->rec[i] != g) continue;
      a->rec[i] = a->rec[--a->nrec];
      return reject(r, BF_REJECT_LATE);
    }
  }
  return reject(r, BF_REJECT_DUPLICATE);
}

static bf_reject create_au(bf_reassembler *r, au *a, const bf_header *h) {
  bf_geometry g;
  bf_geometry_compute(h->frame_bytes, h->shard_bytes, r->cfg.limits.max_k, &g);
  size_t payload = au_payload(g.total_data, h->shard_bytes, g.block_count);
  size_t charge = bf__pool_charge(payload);
  if (charge == SIZE_MAX || !make_room(r, h->frame_index, charge)) {
    cursor_advance(r);
    return reject(r, BF_REJECT_MEMORY);
  }
  bf__buf *b = bf__pool_get(&r->pool, payload);
  cursor_advance(r); /* after evictions */
  if (!b) return reject(r, BF_REJECT_MEMORY);
  b->owner = OWN_AU;
  note_memory(r);
  uint8_t *p = bf__buf_data(b);
  a->buf = b;
  a->charged = b->size;
  a->data = p + NODE_BYTES;
  a->blocks = (blk *)(void *)(p + (payload - (size_t)g.block_count * sizeof(blk)));
  memset(a->blocks, 0, (size_t)g.block_count * sizeof(blk));
  a->state = AU_ACTIVE;
  a->has_pts = 1;
  a->pts = h->pts_ns;
  a->frame_bytes = h->frame_bytes;
  a->user_flags = h->user_flags;
  a->shard_bytes = h->shard_bytes;
  a->block_count = h->block_count;
  a->blocks_done = 0;
  a->received = 0;
  a->recovered = 0;
  a->first_arrival = 0;
  a->nrec = 0;
  return BF_ACCEPT;
}

static bf_reject place(bf_reassembler *r, au *a, const bf_header *h, const uint8_t *payload,
                       uint64_t arrival_ns) {
  blk *b = &a->blocks[h->block_index];
  uint32_t k = h->data_shards, m = h->recovery_shards, i = h->shard_index;
  if (!(b->flags & BLK_PINNED)) {
    b->m = (uint16_t)m;
    b->flags |= BLK_PINNED;
  } else if (b->m != m) {
    return reject(r, BF_REJECT_PIN);
  }
  uint64_t bit = (uint64_t)1 << (i & 63);
  uint64_t *word = &b->have[i >> 6];
  if (b->flags & BLK_COMPLETE) {
    /* A data shard never received was rebuilt: this original is late. Parity
     * for a complete block is redundant: counted as a duplicate. */
    if (i < k && !(*word & bit)) {
      *word |= bit;
      return reject(r, BF_REJECT_LATE);
    }
    return reject(r, BF_REJECT_DUPLICATE);
  }
  if (*word & bit) return reject(r, BF_REJECT_DUPLICATE);
  uint32_t S = h->shard_bytes;
  if (i < k) {
    memcpy(a->data + ((size_t)h->block_index * r->cfg.limits.max_k + i) * S, payload, S);
    b->ndata++;
  } else {
    size_t charge = bf__pool_charge(S);
    if (!make_room(r, h->frame_index, charge)) {
      cursor_advance(r);
      return reject(r, BF_REJECT_MEMORY);
    }
    bf__buf *p = bf__pool_get(&r->pool, S);
    cursor_advance(r);
    if (!p) return reject(r, BF_REJECT_MEMORY);
    note_memory(r);
    p->owner = OWN_PARITY;
    p->tag = i;
    memcpy(bf__buf_data(p), payload, S);
    p->next = b->parity;
    b->parity = p;
    a->charged += p->size;
    b->nparity++;
  }
  *word |= bit;
  if (a->received++ == 0) a->first_arrival = arrival_ns;
  r->st.rejected[BF_ACCEPT]++;
  if ((uint32_t)b->ndata + b->nparity >= k) {
    if (complete_block(r, a, h->block_index, k) == 0 && a->blocks_done == a->block_count)
      complete_au(r, a, arrival_ns);
  } else if (i == k + m - 1u && !(b->flags & BLK_SHORT)) {
    b->flags |= BLK_SHORT;
    r->st.blocks_short++;
    evnode *n = fixed_node(r);
    if (n) {
      n->ev.type = BF_EVENT_BLOCK_SHORT;
      n->ev.u.block.frame_index = a->index;
      n->ev.u.block.block_index = h->block_index;
      n->ev.u.block.have = (uint16_t)(b->ndata + b->nparity);
      n->ev.u.block.need = (uint16_t)k;
      n->ev.u.block.au_flags = a->user_flags;
      enqueue(r, n);
    }
  }
  return BF_ACCEPT;
}

/* A candidate not seen for this long is forgotten. */
#define CAND_FORGET_NS 1000000000ull

/* A packet of index |idx|, abandon_frames or more ahead of the newest:
 * watched as a jump candidate, believed once corroborated (see
 * reassembler.h, Jumps). Returns BF_ACCEPT when the window moved to |idx|,
 * else BF_REJECT_JUMP. */
static bf_reject far_ahead(bf_reassembler *r, uint32_t idx, uint64_t pts, uint64_t now) {
  uint32_t off = idx - r->cand_base;
  if (!r->have_cand || now - r->cand_last_ns > CAND_FORGET_NS || off >= 64u) {
    r->have_cand = 1;
    r->cand_base = idx;
    r->cand_seen = 0;
    r->cand_first_ns = now;
    off = 0;
  }
  r->cand_seen |= 1ull << off;
  r->cand_last_ns = now;
  unsigned distinct = (unsigned)__builtin_popcountll(r->cand_seen);
  /* the old stream must have stopped: nothing accepted in the window since
   * the candidate appeared, and for abandon_age_ns */
  if (distinct < BF_REASSEMBLER_JUMP_AUS || r->inwin_ns >= r->cand_first_ns ||
      now - r->inwin_ns < r->cfg.abandon_age_ns)
    return BF_REJECT_JUMP;
  bf_reassembler_reset(r); /* the old window's unfinished AUs are lost */
  window_init(r, idx, pts);
  r->st.jumps++;
  return BF_ACCEPT;
}

bf_reject bf_reassembler_push(bf_reassembler *r, const uint8_t *d, size_t len,
                              uint64_t arrival_ns) {
  bf_header h;
  r->st.packets++;
  bf_reject v = bf_datagram_parse(d, len, &r->cfg.limits, &h);
  if (v != BF_ACCEPT) return reject(r, v);
  if (h.flags & BF_PKT_PROBE) return reject(r, BF_REJECT_PROBE);

  uint32_t idx = h.frame_index;
  if (!r->have_newest) {
    window_init(r, idx, h.pts_ns);
  } else {
    int32_t ahead = bf_seq32_diff(idx, r->newest);
    if (ahead >= (int32_t)r->nwin) {
      bf_reject f = far_ahead(r, idx, h.pts_ns, arrival_ns);
      if (f != BF_ACCEPT) return reject(r, f);
    } else if (ahead > 0) {
      advance(r, idx, h.pts_ns);
    } else if (r->newest - idx >= r->nwin) {
      return reject(r, BF_REJECT_STALE);
    }
  }

  au *a = slot(r, idx);
  switch (a->state) {
  case AU_ACTIVE:
    if (pins_differ(a, &h)) return reject(r, BF_REJECT_PIN);
    break;
  case AU_DONE:
    return straggler(r, a, &h);
  case AU_LOST:
  case AU_REPORTED:
    return reject(r, BF_REJECT_STALE);
  default: { /* EMPTY: the AU's first packet */
    int before = older(idx, r->base);
    /* Before the cursor only if it predates the stream (never covered). */
    if (before && !older(idx, r->start)) return reject(r, BF_REJECT_STALE);
    if ((int64_t)(r->newest_pts - h.pts_ns) >= (int64_t)r->cfg.abandon_age_ns) {
      if (!before) { /* already too old: lost, and so is every unseen older one */
        a->state = AU_LOST;
        a->has_pts = 1;
        a->pts = h.pts_ns;
        a->user_flags = h.user_flags;
        expire_by_age(r);
        cursor_advance(r);
      }
      return reject(r, BF_REJECT_STALE);
    }
    bf_reject c = create_au(r, a, &h);
    if (c != BF_ACCEPT) return c;
    if (before) r->base = r->start = idx; /* the stream reaches further back */
    break;
  }
  }
  bf_reject v2 = place(r, a, &h, d + BF_HEADER_BYTES, arrival_ns);
  if (v2 == BF_ACCEPT) r->inwin_ns = arrival_ns;
  return v2;
}

/* ---- lifecycle ------------------------------------------------------- */

void bf_reassembler_config_default(bf_reassembler_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  bf_wire_limits_default(&cfg->limits);
  cfg->abandon_age_ns = 120000000ull;
  cfg->abandon_frames = 64;
  cfg->memory_budget = 0;
}

/* Bytes charged for the largest AU |lim| allows. */
static size_t max_au_charge(const bf_wire_limits *lim) {
  uint64_t most_shards = ((uint64_t)lim->max_frame_bytes + lim->min_shard - 1) / lim->min_shard;
  if (most_shards == 0) most_shards = 1;
  uint64_t most_blocks = (most_shards + lim->max_k - 1) / lim->max_k;
  size_t payload = NODE_BYTES + (size_t)lim->max_frame_bytes + lim->max_shard + 16u +
                   (size_t)most_blocks * sizeof(blk);
  return bf__pool_charge(payload);
}

int bf_reassembler_new(const bf_reassembler_config *cfg, bf_reassembler **out) {
  *out = NULL;
  const bf_wire_limits *lim = &cfg->limits;
  if (lim->min_shard < 2 || lim->max_shard < lim->min_shard || lim->max_shard > BF_MAX_SHARD ||
      lim->max_k == 0 || lim->max_k > BF_MAX_BLOCK_SHARDS || cfg->abandon_frames == 0 ||
      cfg->abandon_frames > (1u << 16) || cfg->abandon_age_ns == 0 ||
      cfg->abandon_age_ns > (uint64_t)INT64_MAX)
    return -EINVAL;
  size_t budget = cfg->memory_budget;
  if (budget == 0) {
    uint64_t b4 = (uint64_t)lim->max_frame_bytes * 4u;
    if (b4 > (uint64_t)(SIZE_MAX / 2)) return -EINVAL; /* 32-bit hosts */
    budget = (size_t)b4;
  }
  size_t need = max_au_charge(lim);
  if (need == SIZE_MAX || budget < need) return -EINVAL;

  bf_reassembler *r = calloc(1, sizeof *r);
  if (!r) return -ENOMEM;
  r->cfg = *cfg;
  r->cfg.memory_budget = budget;
  r->budget = budget;
  r->nwin = cfg->abandon_frames;
  uint32_t w = 1;
  while (w < cfg->abandon_frames)
    w <<= 1;
  r->mask = w - 1u;
  r->ring = calloc(w, sizeof *r->ring);
  r->scratch = malloc(lim->max_shard);
  if (!r->ring || !r->scratch || bf_fec_new(&r->fec) != 0) {
    free(r->ring);
    free(r->scratch);
    free(r);
    return -ENOMEM;
  }
  bf__pool_init(&r->pool, budget);
  for (size_t i = 0; i < EVQ_NODES; i++) {
    r->nodes[i].fixed = 1;
    r->nodes[i].next = i + 1 < EVQ_NODES ? &r->nodes[i + 1] : NULL;
  }
  r->node_free = &r->nodes[0];
  *out = r;
  return 0;
}

void bf_reassembler_del(bf_reassembler **pr) {
  bf_reassembler *r = *pr;
  if (!r) return;
  bf__pool_destroy(&r->pool);
  bf_fec_del(&r->fec);
  free(r->ring);
  free(r->scratch);
  free(r);
  *pr = NULL;
}

int bf_reassembler_poll(bf_reassembler *r, bf_event *ev) {
  evnode *n = r->q_head;
  if (!n) return 0;
  r->q_head = n->next;
  if (!r->q_head) r->q_tail = NULL;
  *ev = n->ev;
  if (n->fixed) {
    n->next = r->node_free;
    r->node_free = n;
  }
  return 1;
}

void bf_reassembler_release(bf_reassembler *r, bf_frame *f) {
  if (!f || !f->internal_) return;
  bf__buf *b = f->internal_;
  if (b->owner == OWN_APP) bf__pool_put(&r->pool, b);
  f->internal_ = NULL;
  f->data = NULL;
}

void bf_reassembler_reset(bf_reassembler *r) {
  if (!r->have_newest) return;
  for (uint32_t i = r->base; !older(r->newest, i); i++) {
    au *a = slot(r, i);
    if (a->state == AU_ACTIVE) abandon(r, a);
    if (a->state == AU_EMPTY) a->state = AU_LOST;
  }
  cursor_advance(r);
  for (uint32_t j = 0; j <= r->mask; j++) {
    r->ring[j].state = AU_EMPTY;
    r->ring[j].has_pts = 0;
  }
  r->have_newest = 0;
  r->have_cand = 0;
}

void bf_reassembler_stats_get(const bf_reassembler *r, bf_reassembler_stats *s) {
  *s = r->st;
  s->memory_in_flight = r->pool.in_use;
  s->memory_pooled = r->pool.pooled;
  s->pool_allocs = r->pool.allocs;
}
