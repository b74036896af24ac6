/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Loopback transport pair (bildfunk/loopback.h): two ends, each direction a
 * bounded SPSC queue of fixed-size slots, deterministic impairments applied
 * by the sending end. Portable C11 (atomics); no sockets, no clock except the
 * 1 ms naps of bf_transport_wait.
 */
#include <bildfunk/loopback.h>

#include "transport_internal.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#if defined(_WIN32)
#include <windows.h>
#else
#include <sched.h>
#include <time.h>
#endif

/* The largest datagram send accepts, as for UDP over IPv4. */
#define LB_MAX_SEND 65507u

typedef struct lb_queue {
  uint8_t *data; /* depth * BF_RECV_BUF_BYTES */
  size_t *len;   /* real length (may exceed the stored bytes: oversize) */
  bf_addr *from; /* the sender's address when it sent the datagram */
  size_t depth;
  atomic_size_t head; /* next slot to read (consumer) */
  atomic_size_t tail; /* next slot to write (producer) */
} lb_queue;

typedef struct lb_shared {
  lb_queue q[2]; /* q[i]: datagrams for end i */
  atomic_int refs;
  atomic_int open[2];
} lb_shared;

typedef struct lb_end {
  bf_transport base; /* first */
  lb_shared *sh;
  int side;     /* 0 = a, 1 = b */
  bf_addr addr; /* how this end appears to the other */
  bf_loopback_pattern pat;
  uint64_t rng;
  uint64_t n; /* datagrams offered */
  bf_loopback_counters c;
  uint8_t *held; /* one datagram held back for reordering */
  size_t held_len;
  int has_held;
} lb_end;

static const bf_transport_ops lb_ops;

static lb_end *as_end(const bf_transport *t) {
  return t && t->ops == &lb_ops ? (lb_end *)(uintptr_t)t : NULL;
}

static uint64_t splitmix(uint64_t *s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/* Copies one datagram (|h|+|b|, |len| bytes in all; only the first
 * BF_RECV_BUF_BYTES are stored) into the other end's queue. Returns 1 (also
 * when the other end is closed: the datagram vanishes), or 0 when the queue is
 * full (counted). */
static int push(lb_end *e, const uint8_t *h, size_t hl, const uint8_t *b, size_t bl, size_t len) {
  int dst = 1 - e->side;
  if (!atomic_load_explicit(&e->sh->open[dst], memory_order_acquire)) return 1;
  lb_queue *q = &e->sh->q[dst];
  size_t tail = atomic_load_explicit(&q->tail, memory_order_relaxed);
  size_t head = atomic_load_explicit(&q->head, memory_order_acquire);
  if (tail - head >= q->depth) {
    e->c.queue_full++;
    return 0;
  }
  size_t i = tail % q->depth;
  uint8_t *slot = q->data + i * BF_RECV_BUF_BYTES;
  size_t room = BF_RECV_BUF_BYTES;
  size_t c1 = hl < room ? hl : room;
  if (c1) memcpy(slot, h, c1);
  size_t c2 = bl < room - c1 ? bl : room - c1;
  if (c2) memcpy(slot + c1, b, c2);
  q->len[i] = len;
  q->from[i] = e->addr;
  atomic_store_explicit(&q->tail, tail + 1, memory_order_release);
  return 1;
}

static int lb_send(bf_transport *t, const bf_dgram *d) {
  lb_end *e = (lb_end *)t;
  if (!t->peer.len) return -EDESTADDRREQ;
  size_t len = bf__dgram_len(d);
  if (len > LB_MAX_SEND) return -EMSGSIZE;
  t->stats.tx_calls++;
  uint64_t n = e->n++;
  e->c.offered++;
  uint64_t bit = 0;
  if (e->pat.period) bit = 1ull << (n % e->pat.period);
  int lost = (e->pat.drop & bit) != 0;
  if (!lost && e->pat.random_drop_ppm &&
      (splitmix(&e->rng) % 1000000u) < (uint64_t)e->pat.random_drop_ppm)
    lost = 1;
  if (lost) {
    e->c.dropped++;
    t->stats.tx_packets++;
    t->stats.tx_bytes += len;
    return 1; /* lost in "the network", not locally */
  }
  if ((e->pat.reorder & bit) && !e->has_held && e->held) {
    size_t hl = d->head_len < BF_RECV_BUF_BYTES ? d->head_len : BF_RECV_BUF_BYTES;
    size_t bl = d->body_len < BF_RECV_BUF_BYTES - hl ? d->body_len : BF_RECV_BUF_BYTES - hl;
    if (hl) memcpy(e->held, d->head, hl);
    if (bl) memcpy(e->held + hl, d->body, bl);
    e->held_len = len;
    e->has_held = 1;
    e->c.reordered++;
    t->stats.tx_packets++;
    t->stats.tx_bytes += len;
    return 1;
  }
  if (!push(e, d->head, d->head_len, d->body, d->body_len, len)) {
    t->stats.tx_dropped++;
    return 0;
  }
  t->stats.tx_packets++;
  t->stats.tx_bytes += len;
  if (e->pat.duplicate & bit) {
    e->c.duplicated++;
    (void)push(e, d->head, d->head_len, d->body, d->body_len, len);
  }
  if (e->has_held) (void)bf_loopback_flush(t);
  return 1;
}

int bf_loopback_flush(bf_transport *t) {
  lb_end *e = as_end(t);
  if (!e || !e->has_held) return 0;
  e->has_held = 0;
  size_t stored = e->held_len < BF_RECV_BUF_BYTES ? e->held_len : BF_RECV_BUF_BYTES;
  return push(e, e->held, stored, NULL, 0, e->held_len);
}

static int lb_send_batch(bf_transport *t, const bf_dgram *d, size_t n) {
  for (size_t i = 0; i < n; i++) {
    int r = lb_send(t, &d[i]);
    if (r == 1) continue;
    if (r < 0 && i == 0) return r;
    t->stats.tx_dropped += (uint64_t)(n - i - (r == 0 ? 1 : 0));
    return (int)i;
  }
  return (int)n;
}

/* Pops one datagram into |buf| (cap bytes). Returns its length, -1 for one
 * dropped here (oversize, counted), -2 when the queue is empty. */
static long pop(lb_end *e, uint8_t *buf, size_t cap, bf_addr *from) {
  lb_queue *q = &e->sh->q[e->side];
  size_t head = atomic_load_explicit(&q->head, memory_order_relaxed);
  size_t tail = atomic_load_explicit(&q->tail, memory_order_acquire);
  if (head == tail) return -2;
  size_t i = head % q->depth;
  size_t len = q->len[i];
  long r = -1;
  if (len <= BF_MAX_DATAGRAM && len <= cap) {
    if (len) memcpy(buf, q->data + i * BF_RECV_BUF_BYTES, len);
    if (from) *from = q->from[i];
    r = (long)len;
  } else {
    e->base.stats.rx_oversize++;
  }
  atomic_store_explicit(&q->head, head + 1, memory_order_release);
  return r;
}

static int lb_recv(bf_transport *t, uint8_t *buf, size_t cap, bf_addr *from) {
  lb_end *e = (lb_end *)t;
  for (;;) {
    long r = pop(e, buf, cap, from);
    if (r == -2) return 0;
    if (r <= 0) continue; /* oversize (counted) or empty: skipped, as on a socket */
    t->stats.rx_calls++;
    t->stats.rx_packets++;
    t->stats.rx_bytes += (uint64_t)r;
    return (int)r;
  }
}

static int lb_recv_batch(bf_transport *t, bf_recv_ring *ring) {
  lb_end *e = (lb_end *)t;
  size_t n = 0;
  while (n < ring->count && n < ring->slot_cap) {
    uint8_t *b = ring->storage + n * ring->buf_bytes;
    long r = pop(e, b, ring->buf_bytes, &ring->addrs[n]);
    if (r == -2) break;
    if (r < 0) continue;
    ring->slots[n].data = b;
    ring->slots[n].len = (size_t)r;
    ring->slots[n].from = &ring->addrs[n];
    t->stats.rx_packets++;
    t->stats.rx_bytes += (uint64_t)r;
    n++;
  }
  if (n) t->stats.rx_calls++;
  ring->n = n;
  return (int)n;
}

/* Polls the queue: a few hundred yields first (a producer thread is usually
 * about to deliver), then 1 ms naps until |timeout_ms|. */
static int lb_wait(bf_transport *t, int timeout_ms) {
  lb_end *e = (lb_end *)t;
  lb_queue *q = &e->sh->q[e->side];
  for (int spins = 0, waited = 0;; spins++) {
    if (atomic_load_explicit(&q->head, memory_order_relaxed) !=
        atomic_load_explicit(&q->tail, memory_order_acquire))
      return 1;
    if (timeout_ms == 0) return 0;
    if (spins < 200) {
#if defined(_WIN32)
      SwitchToThread();
#else
      sched_yield();
#endif
      continue;
    }
    if (timeout_ms > 0 && waited >= timeout_ms) return 0;
#if defined(_WIN32)
    Sleep(1);
#else
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
#endif
    waited++;
  }
}

static int lb_local_addr(const bf_transport *t, bf_addr *out) {
  *out = ((const lb_end *)t)->addr;
  return 0;
}

static void free_shared(lb_shared *sh) {
  for (int i = 0; i < 2; i++) {
    free(sh->q[i].data);
    free(sh->q[i].len);
    free(sh->q[i].from);
  }
  free(sh);
}

static void lb_close(bf_transport *t) {
  lb_end *e = (lb_end *)t;
  lb_shared *sh = e->sh;
  atomic_store(&sh->open[e->side], 0);
  free(e->held);
  if (atomic_fetch_sub(&sh->refs, 1) == 1) free_shared(sh);
  free(e);
}

static const bf_transport_ops lb_ops = {
    .send = lb_send,
    .send_batch = lb_send_batch,
    .send_gso = lb_send_batch,
    .recv = lb_recv,
    .recv_batch = lb_recv_batch,
    .close = lb_close,
    .wait = lb_wait,
    .local_addr = lb_local_addr,
    .peer_changed = NULL,
};

static void default_addr(bf_addr *a, uint16_t port) {
  memset(a, 0, sizeof *a);
  struct sockaddr_in *s = (struct sockaddr_in *)&a->ss;
  s->sin_family = AF_INET;
  s->sin_port = htons(port);
  s->sin_addr.s_addr = htonl(0x7f000001u);
  a->len = (socklen_t)sizeof *s;
}

int bf_loopback_pair(const bf_loopback_config *cfg, bf_transport **a, bf_transport **b) {
  bf_loopback_config def;
  memset(&def, 0, sizeof def);
  if (!cfg) cfg = &def;
  size_t depth = cfg->depth ? cfg->depth : 1024;
  if (depth > (1u << 20) || !a || !b) return -EINVAL;
  lb_shared *sh = calloc(1, sizeof *sh);
  lb_end *e[2] = {calloc(1, sizeof(lb_end)), calloc(1, sizeof(lb_end))};
  int ok = sh && e[0] && e[1];
  for (int i = 0; ok && i < 2; i++) {
    sh->q[i].depth = depth;
    sh->q[i].data = malloc(depth * BF_RECV_BUF_BYTES);
    sh->q[i].len = calloc(depth, sizeof(size_t));
    sh->q[i].from = calloc(depth, sizeof(bf_addr));
    e[i]->held = malloc(BF_RECV_BUF_BYTES);
    ok = sh->q[i].data && sh->q[i].len && sh->q[i].from && e[i]->held;
  }
  if (!ok) {
    for (int i = 0; i < 2; i++)
      if (e[i]) {
        free(e[i]->held);
        free(e[i]);
      }
    if (sh) free_shared(sh);
    return -ENOMEM;
  }
  atomic_init(&sh->refs, 2);
  for (int i = 0; i < 2; i++) {
    atomic_init(&sh->q[i].head, 0);
    atomic_init(&sh->q[i].tail, 0);
    atomic_init(&sh->open[i], 1);
    e[i]->base.ops = &lb_ops;
    e[i]->base.fd = -1;
    e[i]->sh = sh;
    e[i]->side = i;
  }
  if (cfg->addr_a.len)
    e[0]->addr = cfg->addr_a;
  else
    default_addr(&e[0]->addr, 40001);
  if (cfg->addr_b.len)
    e[1]->addr = cfg->addr_b;
  else
    default_addr(&e[1]->addr, 40002);
  e[0]->base.peer = e[1]->addr;
  e[1]->base.peer = e[0]->addr;
  *a = &e[0]->base;
  *b = &e[1]->base;
  return 0;
}

int bf_loopback_set_pattern(bf_transport *t, const bf_loopback_pattern *p) {
  lb_end *e = as_end(t);
  if (!e || (p && (p->period > 64 || p->random_drop_ppm > 1000000u))) return -EINVAL;
  if (p)
    e->pat = *p;
  else
    memset(&e->pat, 0, sizeof e->pat);
  e->rng = e->pat.seed;
  e->n = 0;
  return 0;
}

int bf_loopback_set_addr(bf_transport *t, const bf_addr *addr) {
  lb_end *e = as_end(t);
  if (!e || !addr || addr->len == 0) return -EINVAL;
  e->addr = *addr;
  return 0;
}

int bf_loopback_get_counters(const bf_transport *t, bf_loopback_counters *out) {
  const lb_end *e = as_end(t);
  if (!e || !out) return -EINVAL;
  *out = e->c;
  return 0;
}
