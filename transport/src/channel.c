/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The data-plane channel: see channel.h. The classifier is pure; the rest is
 * the socket edge around it (ring, seal, punch schedule, handlers).
 */
#include <bildfunk/channel.h>

#include <bildfunk/feedback.h>

#include "channel_relay.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define BF_CHANNEL_BURST_DEFAULT 64u

struct bf_channel {
  bf_channel_config cfg;
  bf_transport *t;
  bf_recv_ring ring;
  struct {
    bf_channel_fn fn;
    void *user;
  } on[BF_DKIND_COUNT_];
  bf_punch_client punch;
  uint64_t drained_ns;
  bf_channel_stats n;
  /* sealed mode: NULL sealer = clear */
  bf_sealer *sealer;
  bf_opener *opener;
  uint8_t secret[32];    /* kept to renew the opener; wiped on unseal */
  int had_keys;          /* sealed at some point: the stats say so */
  bf_opener_stats carry; /* counters of the openers before this one */
  uint8_t *scratch;      /* burst_max sealed datagrams, each BF__RELAY_HEAD in */
  size_t stride;         /* BF__RELAY_HEAD + max_plain + BF_SEAL_OVERHEAD */
  bf__relay *relay;      /* NULL: no relay configured */
  /* cfg.send_threads: held around the sealer, the peer and the send
   * counters (see channel.h) */
  pthread_mutex_t mu;
  int locking;
};

static void lock(bf_channel *c) {
  if (c->locking) pthread_mutex_lock(&c->mu);
}

static void unlock(bf_channel *c) {
  if (c->locking) pthread_mutex_unlock(&c->mu);
}

const char *bf_dkind_name(bf_dkind k) {
  static const char *const names[BF_DKIND_COUNT_] = {"garbage",  "punch", "video",
                                                     "feedback", "audio", "input"};
  return (unsigned)k < BF_DKIND_COUNT_ ? names[k] : "?";
}

bf_dkind bf_dgram_classify(const uint8_t *d, size_t len) {
  if (len >= BF_CHANNEL_VIDEO_MIN) return BF_DKIND_VIDEO;
  if (len >= 2) {
    switch (d[0]) {
    case BF_MAGIC_FEEDBACK:
      return BF_DKIND_FEEDBACK;
    case BF_MAGIC_AUDIO:
      return BF_DKIND_AUDIO;
    case BF_MAGIC_INPUT:
      return BF_DKIND_INPUT;
    default:
      break;
    }
  }
  /* long enough for a header: the reassembler names what is wrong */
  return len >= BF_HEADER_BYTES ? BF_DKIND_VIDEO : BF_DKIND_GARBAGE;
}

int bf_channel_new(const bf_channel_config *cfg, bf_transport *t, bf_channel **out) {
  *out = NULL;
  if (!cfg || !t || (cfg->punch && !cfg->now) || !cfg->now) {
    bf_transport_close(&t);
    return -EINVAL;
  }
  bf_channel *c = calloc(1, sizeof *c);
  if (!c) {
    bf_transport_close(&t);
    return -ENOMEM;
  }
  c->cfg = *cfg;
  if (!c->cfg.burst_max) c->cfg.burst_max = BF_CHANNEL_BURST_DEFAULT;
  if (!c->cfg.max_plain || c->cfg.max_plain > BF_MAX_DATAGRAM - BF_SEAL_OVERHEAD)
    c->cfg.max_plain = BF_MAX_DATAGRAM - BF_SEAL_OVERHEAD;
  c->stride = BF__RELAY_HEAD + c->cfg.max_plain + BF_SEAL_OVERHEAD;
  c->t = t;
  if (cfg->send_threads) {
    if (pthread_mutex_init(&c->mu, NULL) != 0) {
      bf_transport_close(&c->t);
      free(c);
      return -ENOMEM;
    }
    c->locking = 1;
  }
  /* a GRO socket needs buffers a coalesced read fits in */
  int gro = t->stats.gro_active != 0;
  size_t count = cfg->ring_count ? cfg->ring_count : gro ? BF_RECV_GRO_BATCH : BF_RECV_BATCH;
  int r = bf_recv_ring_init(&c->ring, count, gro ? BF_RECV_GRO_BUF_BYTES : 0);
  c->n.gro = gro;
  if (r < 0) {
    bf_channel_del(&c);
    return r;
  }
  if (cfg->punch)
    bf_punch_client_init(&c->punch, cfg->now(), 1);
  else
    bf_punch_client_stop(&c->punch);
  *out = c;
  return 0;
}

static void carry_opener(bf_channel *c) {
#ifdef BF_HAVE_SEAL
  if (!c->opener) return;
  bf_opener_stats st;
  bf_opener_stats_get(c->opener, &st);
  c->carry.opened += st.opened;
  c->carry.short_ += st.short_;
  c->carry.oversize += st.oversize;
  c->carry.replay_old += st.replay_old;
  c->carry.replay_dup += st.replay_dup;
  c->carry.bad_tag += st.bad_tag;
  bf_opener_del(&c->opener);
#else
  (void)c;
#endif
}

static void unseal(bf_channel *c) {
  carry_opener(c);
#ifdef BF_HAVE_SEAL
  bf_sealer_del(&c->sealer);
#endif
  memset(c->secret, 0, sizeof c->secret);
}

void bf_channel_unseal(bf_channel *c) {
  lock(c);
  unseal(c);
  unlock(c);
}

void bf_channel_del(bf_channel **pc) {
  bf_channel *c = *pc;
  if (!c) return;
  unseal(c);
  bf__relay_del(&c->relay, c->t, c->cfg.now());
  free(c->scratch);
  bf_recv_ring_free(&c->ring);
  bf_transport_close(&c->t);
  if (c->locking) pthread_mutex_destroy(&c->mu);
  free(c);
  *pc = NULL;
}

void bf_channel_on(bf_channel *c, bf_dkind kind, bf_channel_fn fn, void *user) {
  if ((unsigned)kind >= BF_DKIND_COUNT_) return;
  c->on[kind].fn = fn;
  c->on[kind].user = user;
}

#ifdef BF_HAVE_SEAL
/* A fresh opener for this side's receive direction from c->secret. */
static int new_opener(bf_channel *c) {
  bf_seal_key s2c, c2s;
  int r = bf_seal_derive(c->secret, sizeof c->secret, &s2c, &c2s);
  int client = c->cfg.role == BF_CHANNEL_CLIENT;
  if (r == 0)
    r = bf_opener_new(client ? &s2c : &c2s, client ? BF_SEAL_S2C : BF_SEAL_C2S, 2, &c->opener);
  bf_seal_key_wipe(&s2c);
  bf_seal_key_wipe(&c2s);
  return r;
}
#endif

#ifdef BF_HAVE_SEAL
static int seal_locked(bf_channel *c, const uint8_t secret[32], uint64_t first_seq) {
  unseal(c);
  if (!c->scratch && !(c->scratch = malloc(c->cfg.burst_max * c->stride))) return -ENOMEM;
  memcpy(c->secret, secret, sizeof c->secret);
  bf_seal_key s2c, c2s;
  int r = bf_seal_derive(secret, sizeof c->secret, &s2c, &c2s);
  int client = c->cfg.role == BF_CHANNEL_CLIENT;
  if (r == 0)
    r = bf_sealer_new(client ? &c2s : &s2c, client ? BF_SEAL_C2S : BF_SEAL_S2C, first_seq,
                      &c->sealer);
  bf_seal_key_wipe(&s2c);
  bf_seal_key_wipe(&c2s);
  if (r == 0) r = new_opener(c);
  if (r < 0) {
    unseal(c);
    return r;
  }
  c->had_keys = 1;
  return 0;
}
#endif

int bf_channel_seal(bf_channel *c, const uint8_t secret[32], uint64_t first_seq) {
#ifdef BF_HAVE_SEAL
  lock(c);
  int r = seal_locked(c, secret, first_seq);
  unlock(c);
  return r;
#else
  (void)c, (void)secret, (void)first_seq;
  return -ENOTSUP;
#endif
}

int bf_channel_renew_opener(bf_channel *c) {
#ifdef BF_HAVE_SEAL
  if (!c->sealer) return -EINVAL;
  lock(c);
  carry_opener(c);
  int r = new_opener(c);
  unlock(c);
  return r;
#else
  (void)c;
  return -ENOTSUP;
#endif
}

int bf_channel_sealed(const bf_channel *c) {
  return c->sealer != NULL;
}

void bf_channel_set_peer(bf_channel *c, const bf_addr *peer) {
  lock(c);
  if (c->relay && bf__relay_active(c->relay)) { /* the relay stays the path */
    bf_addr *direct = bf__relay_direct(c->relay);
    if (peer)
      *direct = *peer;
    else
      memset(direct, 0, sizeof *direct);
  } else {
    bf_transport_set_peer(c->t, peer);
  }
  unlock(c);
}

/* The peer datagrams are taken from and meant for (while relayed: the
 * direct peer, not the server the transport sends to). */
static const bf_addr *peer_of(const bf_channel *c) {
  if (c->relay && bf__relay_active(c->relay)) return bf__relay_direct(c->relay);
  return &c->t->peer;
}

const bf_addr *bf_channel_peer(const bf_channel *c) {
  const bf_addr *p = peer_of(c);
  return p->len ? p : NULL;
}

/* One datagram of the ring: punch, foreign, open, classify, hand over. */
static void dispatch(bf_channel *c, const bf_rx_slot *s, uint64_t now) {
  uint8_t *d = s->data;
  size_t len = s->len;
  const bf_addr *from = s->from;
  bf_dkind k;
  if (c->relay && bf__relay_from_server(c->relay, from)) {
    lock(c); /* the relay peer is the senders' too */
    int r = bf__relay_rx(c->relay, &d, &len, &from, now);
    unlock(c);
    if (r <= 0) return;                           /* STUN taken, or dropped (counted) */
    if (r == 2) bf_channel_punch_restart(c, now); /* a new relay peer: punch it */
  } else if (c->cfg.only_from_peer && (!from || !bf_addr_equal(from, peer_of(c)))) {
    c->n.foreign++;
    return;
  }
  /* the punch is clear in every mode; sealed, it is exactly 8 bytes (any
   * sealed datagram is longer) */
  if ((c->sealer || c->cfg.require_seal) ? len == BF_PUNCH_BYTES && bf_is_punch(d, len)
                                         : bf_is_punch(d, len)) {
    k = BF_DKIND_PUNCH;
  } else {
    if (c->cfg.require_seal && !c->opener) {
      c->n.unsealed++;
      return;
    }
#ifdef BF_HAVE_SEAL
    if (c->opener) { /* in place; drops are counted by the opener */
      int n_open = bf_opener_open_inplace(c->opener, d, len, NULL);
      if (n_open < 0) return;
      d += BF_SEAL_SEQ_BYTES;
      len = (size_t)n_open;
    }
#endif
    k = bf_dgram_classify(d, len);
  }
  c->n.by_kind[k]++;
  if (c->on[k].fn)
    c->on[k].fn(c->on[k].user, d, len, from, now);
  else
    c->n.unhandled[k]++;
}

int bf_channel_receive(bf_channel *c, size_t max_batches) {
  int total = 0;
  uint64_t before = c->cfg.now(); /* a clock read before each read */
  for (size_t b = 0; b < max_batches; b++) {
    int n = bf_recv_batch(c->t, &c->ring);
    if (n < 0) return total ? total : n;
    if (n == 0) {
      c->drained_ns = before;
      break;
    }
    uint64_t now = c->cfg.now();
    c->n.batches++;
    for (size_t i = 0; i < c->ring.n; i++) {
      c->n.datagrams++;
      dispatch(c, &c->ring.slots[i], now);
    }
    total += n;
    /* fewer datagrams than buffers: fewer reads than buffers, drained */
    if ((size_t)n < c->ring.count) {
      c->drained_ns = before;
      break;
    }
    before = now;
  }
  return total;
}

uint64_t bf_channel_drained_ns(const bf_channel *c) {
  return c->drained_ns;
}

/* Seals |d| into |out| in sealed mode (counted); |d| unchanged in clear
 * mode. Returns 0 or a negative errno (not to be sent). */
static int seal_into(bf_channel *c, bf_dgram *d, uint8_t *out, size_t cap) {
#ifdef BF_HAVE_SEAL
  if (!c->sealer) return 0;
  int m = bf_sealer_seal(c->sealer, d, out, cap);
  if (m < 0) {
    c->n.seal_failed++;
    return m;
  }
  c->n.sealed++;
  *d = (bf_dgram){out, (size_t)m, NULL, 0};
#else
  (void)c, (void)d, (void)out, (void)cap;
#endif
  return 0;
}

int bf_channel_send(bf_channel *c, const uint8_t *d, size_t len, const bf_addr *to) {
  if (len > BF_CHANNEL_MSG_MAX) return -EMSGSIZE;
  uint8_t sealed[BF__RELAY_HEAD + BF_CHANNEL_MSG_MAX + BF_SEAL_OVERHEAD];
  uint8_t ind[BF__RELAY_IND_MAX + BF_CHANNEL_MSG_MAX + BF_SEAL_OVERHEAD];
  bf_dgram g = {d, len, NULL, 0};
  lock(c);
  int r = seal_into(c, &g, sealed + BF__RELAY_HEAD, sizeof sealed - BF__RELAY_HEAD);
  if (r == 0 && c->relay && bf__relay_active(c->relay) && !to) {
    /* never clear through a relay */
    r = c->sealer ? bf__relay_wrap(c->relay, &g, ind, sizeof ind) : -EPERM;
    if (r < 0) {
      c->n.send_dropped++;
      unlock(c);
      return 0; /* no relay peer yet: a counted drop */
    }
  }
  if (r < 0) {
    c->n.send_dropped++;
    unlock(c);
    return r;
  }
  bf_addr keep = c->t->peer;
  if (to) bf_transport_set_peer(c->t, to);
  r = bf_send(c->t, &g);
  if (to) bf_transport_set_peer(c->t, keep.len ? &keep : NULL);
  if (r == 1)
    c->n.sent++;
  else if (r == 0)
    c->n.send_dropped++;
  unlock(c);
  return r;
}

/* Relayed before the channel to the relay peer is bound: each sealed
 * datagram of |d| as a Send indication of its own (one copy each; for the
 * moments after the relay peer is learned). Returns how many were sent. */
static int send_indications(bf_channel *c, bf_dgram *d, size_t n) {
  uint8_t ind[BF__RELAY_IND_MAX + BF_MAX_DATAGRAM];
  int sent = 0;
  for (size_t i = 0; i < n; i++) {
    bf_dgram g = d[i];
    if (bf__relay_wrap(c->relay, &g, ind, sizeof ind) < 0) break;
    int r = bf_send(c->t, &g);
    if (r < 0) return sent ? sent : r;
    sent += r;
  }
  return sent;
}

int bf_channel_send_burst(bf_channel *c, bf_dgram *d, size_t n, int gso) {
  if (n > c->cfg.burst_max) n = c->cfg.burst_max;
  size_t ready = n;
  lock(c);
  int relayed = c->relay && bf__relay_active(c->relay);
  int bound = relayed && bf__relay_channel(c->relay) >= 0;
  if (c->sealer) {
    for (size_t i = 0; i < n; i++) {
      uint8_t *slot = c->scratch + i * c->stride + BF__RELAY_HEAD;
      if (seal_into(c, &d[i], slot, c->stride - BF__RELAY_HEAD) < 0 ||
          (bound && bf__relay_wrap(c->relay, &d[i], NULL, 0) < 0)) {
        ready = i; /* a failure cuts the burst there */
        break;
      }
    }
  }
  if (!c->sealer && relayed) ready = 0; /* never clear */
  int r = ready == 0          ? 0
          : relayed && !bound ? send_indications(c, d, ready)
          : gso               ? bf_send_gso(c->t, d, ready)
                              : bf_send_batch(c->t, d, ready);
  if (r >= 0) {
    c->n.sent += (uint64_t)r;
    c->n.send_dropped += (uint64_t)(n - (size_t)r);
  }
  unlock(c);
  return r;
}

void bf_channel_punch_restart(bf_channel *c, uint64_t now_ns) {
  if (c->cfg.punch) bf_punch_client_init(&c->punch, now_ns, 1);
}

/* The punch through the relay: clear, wrapped for the relay peer. */
static int punch_relayed(bf_channel *c) {
  uint8_t buf[BF__RELAY_HEAD + BF_PUNCH_BYTES], ind[BF__RELAY_IND_MAX + BF_PUNCH_BYTES];
  memcpy(buf + BF__RELAY_HEAD, BF_PUNCH_MAGIC, BF_PUNCH_BYTES);
  bf_dgram g = {buf + BF__RELAY_HEAD, BF_PUNCH_BYTES, NULL, 0};
  if (bf__relay_wrap(c->relay, &g, ind, sizeof ind) < 0) return 0;
  return bf_send(c->t, &g);
}

void bf_channel_tick(bf_channel *c, uint64_t now_ns) {
  if (c->relay) {
    lock(c);
    bf__relay_tick(c->relay, c->t, now_ns);
    unlock(c);
  }
  if (!bf_punch_client_due(&c->punch, now_ns)) return;
  lock(c);
  int relayed = c->relay && bf__relay_active(c->relay);
  /* relayed: the punch keeps the relay peer's NAT open toward the relay
   * (and tells a sender where the client is); none before the peer is known */
  int r = !relayed ? bf_punch_send(c->t) : bf__relay_has_peer(c->relay) ? punch_relayed(c) : 0;
  if (r == 1) c->n.punches_sent++;
  unlock(c);
}

uint64_t bf_channel_next_due(const bf_channel *c) {
  uint64_t due = bf_punch_client_next(&c->punch);
  if (c->relay) {
    uint64_t r = bf__relay_next_due(c->relay);
    if (r < due) due = r;
  }
  return due;
}

int bf_channel_punch_to(bf_channel *c, const bf_addr *to) {
  lock(c);
  bf_addr keep = c->t->peer;
  bf_transport_set_peer(c->t, to);
  int r = bf_punch_send(c->t);
  bf_transport_set_peer(c->t, keep.len ? &keep : NULL);
  if (r == 1) c->n.punches_sent++;
  unlock(c);
  return r;
}

int bf_channel_relay_start(bf_channel *c, const bf_channel_relay_config *cfg, uint64_t now_ns) {
  if (c->relay) return -EALREADY;
  lock(c);
  int r = bf__relay_new(cfg, now_ns, &c->relay);
  if (r == 0) bf__relay_tick(c->relay, c->t, now_ns); /* the first Allocate */
  unlock(c);
  return r;
}

int bf_channel_relay_permit(bf_channel *c, const bf_addr *ip, uint64_t now_ns) {
  if (!c->relay) return -ENOENT;
  lock(c);
  int r = bf__relay_permit(c->relay, ip, now_ns);
  if (r == 0) bf__relay_tick(c->relay, c->t, now_ns);
  unlock(c);
  return r;
}

int bf_channel_relay_use(bf_channel *c) {
  if (!c->relay) return -ENOENT;
  if (!c->sealer) return -EPERM;
  lock(c);
  int r = bf__relay_use(c->relay, c->t);
  unlock(c);
  return r;
}

void bf_channel_relay_leave(bf_channel *c) {
  if (!c->relay) return;
  lock(c);
  bf__relay_leave(c->relay, c->t);
  unlock(c);
}

void bf_channel_relay_status_get(const bf_channel *c, bf_channel_relay_status *st) {
  if (!c->relay) {
    memset(st, 0, sizeof *st);
    return;
  }
  bf_channel *m = (bf_channel *)c;
  lock(m);
  bf__relay_status(c->relay, st);
  unlock(m);
}

int bf_channel_fd(const bf_channel *c) {
  return c->t->fd;
}

bf_transport *bf_channel_transport(bf_channel *c) {
  return c->t;
}

void bf_channel_stats_get(const bf_channel *c, bf_channel_stats *st) {
  bf_channel *m = (bf_channel *)c; /* the lock only; the stats are read */
  lock(m);
  *st = c->n;
  unlock(m);
}

int bf_channel_seal_stats(const bf_channel *c, bf_opener_stats *st) {
  *st = c->carry;
#ifdef BF_HAVE_SEAL
  if (c->opener) {
    bf_opener_stats now;
    bf_opener_stats_get(c->opener, &now);
    st->opened += now.opened;
    st->short_ += now.short_;
    st->oversize += now.oversize;
    st->replay_old += now.replay_old;
    st->replay_dup += now.replay_dup;
    st->bad_tag += now.bad_tag;
  }
#endif
  return c->had_keys;
}
