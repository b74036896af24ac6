/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Data punch state machines (bildfunk/punch.h, spec §7). Sans-I/O apart
 * from bf_punch_send, which is one bf_send of the 8 punch bytes.
 */
#include <bildfunk/punch.h>

#include <errno.h>
#include <string.h>

void bf_punch_client_init(bf_punch_client *c, uint64_t now_ns, int keepalive) {
  memset(c, 0, sizeof *c);
  c->next_ns = now_ns;
  c->keepalive = keepalive;
}

int bf_punch_client_due(bf_punch_client *c, uint64_t now_ns) {
  if (c->stopped || now_ns < c->next_ns) return 0;
  c->sent++;
  uint64_t step = c->sent < BF_PUNCH_FAST_COUNT ? BF_PUNCH_FAST_INTERVAL_NS : BF_PUNCH_KEEPALIVE_NS;
  if (c->sent >= BF_PUNCH_FAST_COUNT && !c->keepalive) {
    c->stopped = 1;
    return 1;
  }
  /* on time: keep the grid; late: count from now (no catch-up burst) */
  uint64_t next = c->next_ns + step;
  c->next_ns = next > now_ns ? next : now_ns + step;
  return 1;
}

uint64_t bf_punch_client_next(const bf_punch_client *c) {
  return c->stopped ? UINT64_MAX : c->next_ns;
}

void bf_punch_client_stop(bf_punch_client *c) {
  c->stopped = 1;
}

int bf_punch_send(bf_transport *t) {
  bf_dgram d = {(const uint8_t *)BF_PUNCH_MAGIC, BF_PUNCH_BYTES, NULL, 0};
  return bf_send(t, &d);
}

int bf_punch_sender_init(bf_punch_sender *s, const bf_punch_sender_config *cfg, uint64_t now_ns) {
  memset(s, 0, sizeof *s);
  if (cfg->n_allow > BF_PUNCH_MAX_ALLOW || (cfg->n_allow && !cfg->allow)) return -EINVAL;
  s->state = BF_PUNCH_WAITING;
  s->expected = cfg->expected;
  for (size_t i = 0; i < cfg->n_allow; i++)
    s->allow[i] = cfg->allow[i];
  s->n_allow = cfg->n_allow;
  s->reported = cfg->reported;
  s->deadline_ns = now_ns + (cfg->wait_ns ? cfg->wait_ns : BF_PUNCH_SENDER_WAIT_NS);
  return 0;
}

static int accepted(const bf_punch_sender *s, const bf_addr *from) {
  if (s->expected.len) return bf_addr_same_ip(&s->expected, from);
  if (s->n_allow) {
    for (size_t i = 0; i < s->n_allow; i++)
      if (bf_addr_same_ip(&s->allow[i], from)) return 1;
    return 0;
  }
  return 1; /* direct mode without a list: whoever punches */
}

bf_punch_event bf_punch_sender_on_datagram(bf_punch_sender *s, const uint8_t *d, size_t len,
                                           const bf_addr *from, uint64_t now_ns) {
  if (!bf_is_punch(d, len)) return BF_PUNCH_NOT_PUNCH;
  if (!from || from->len == 0 || !accepted(s, from)) {
    s->rejected++;
    return BF_PUNCH_REJECTED;
  }
  s->punches++;
  s->last_punch_ns = now_ns;
  if (s->state == BF_PUNCH_ADOPTED && bf_addr_equal(&s->target, from)) return BF_PUNCH_REFRESH;
  if (s->state == BF_PUNCH_ADOPTED) s->retargets++;
  s->target = *from;
  s->state = BF_PUNCH_ADOPTED;
  return BF_PUNCH_RETARGET;
}

int bf_punch_sender_poll(bf_punch_sender *s, uint64_t now_ns) {
  if (s->state != BF_PUNCH_WAITING || now_ns < s->deadline_ns || s->reported.len == 0) return 0;
  s->target = s->reported;
  s->state = BF_PUNCH_FALLBACK;
  return 1;
}

const bf_addr *bf_punch_sender_target(const bf_punch_sender *s) {
  return s->state == BF_PUNCH_WAITING ? NULL : &s->target;
}

uint64_t bf_punch_sender_deadline(const bf_punch_sender *s) {
  return s->deadline_ns;
}

static uint16_t addr_port(const bf_addr *a) {
  if (a->ss.ss_family == AF_INET)
    return ((const struct sockaddr_in *)(const void *)&a->ss)->sin_port;
  if (a->ss.ss_family == AF_INET6)
    return ((const struct sockaddr_in6 *)(const void *)&a->ss)->sin6_port;
  return 0;
}

void bf_punch_opener_start(bf_punch_opener *o, uint64_t now_ns) {
  memset(o, 0, sizeof *o);
  o->active = 1;
  o->next_ns = now_ns;
  o->end_ns = now_ns + BF_PUNCH_OPEN_SPAN_NS;
}

/* A unicast address: not unspecified, not multicast, not the broadcast
 * address (a client names where the sender punches: only a host). */
static int unicast(const bf_addr *a) {
  if (a->ss.ss_family == AF_INET) {
    const uint8_t *b =
        (const uint8_t *)&((const struct sockaddr_in *)(const void *)&a->ss)->sin_addr;
    int zero = !(b[0] | b[1] | b[2] | b[3]), all = (b[0] & b[1] & b[2] & b[3]) == 0xFF;
    return !zero && (b[0] >> 4) != 0xE && !all;
  }
  const struct in6_addr *ip6 = &((const struct sockaddr_in6 *)(const void *)&a->ss)->sin6_addr;
  return !IN6_IS_ADDR_UNSPECIFIED(ip6) && !IN6_IS_ADDR_MULTICAST(ip6);
}

int bf_punch_opener_add(bf_punch_opener *o, const bf_addr *a, uint64_t now_ns) {
  if (!a || a->len == 0 || addr_port(a) == 0 || !unicast(a)) return -EINVAL;
  if (!o->active || now_ns >= o->end_ns) return 0;
  for (size_t i = 0; i < o->n_cand; i++)
    if (bf_addr_equal(&o->cand[i], a)) return 0;
  if (o->n_cand == BF_PUNCH_OPEN_MAX) return -ENOSPC;
  o->cand[o->n_cand++] = *a;
  o->next_ns = now_ns; /* the new one at once (the others again: harmless) */
  return 1;
}

size_t bf_punch_opener_due(bf_punch_opener *o, uint64_t now_ns, const bf_addr **cand) {
  if (!o->active || o->n_cand == 0 || now_ns < o->next_ns) return 0;
  if (now_ns >= o->end_ns) {
    o->active = 0;
    return 0;
  }
  uint64_t next = o->next_ns + BF_PUNCH_OPEN_INTERVAL_NS;
  o->next_ns = next > now_ns ? next : now_ns + BF_PUNCH_OPEN_INTERVAL_NS;
  o->rounds++;
  *cand = o->cand;
  return o->n_cand;
}

uint64_t bf_punch_opener_next(const bf_punch_opener *o) {
  if (!o->active || o->n_cand == 0) return UINT64_MAX;
  return o->next_ns < o->end_ns ? o->next_ns : o->end_ns;
}

void bf_punch_opener_stop(bf_punch_opener *o) {
  o->active = 0;
}
