/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * TURN client state machine: see bildfunk/turn.h. Requests live in a few
 * fixed slots that keep their encoded bytes for retransmission; a 401 or
 * 438 re-encodes the slot's request (new transaction id, new nonce) and
 * sends it again at once. Permissions and channels are two small tables
 * whose entries carry their own refresh time. Credentials are in
 * turn_auth.c, the per-datagram data path in turn_data.c.
 */
#include <bildfunk/turn.h>

#include "turn_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

__attribute__((format(printf, 3, 4))) static void text_f(char *dst, size_t cap, const char *fmt,
                                                         ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(dst, cap, fmt, ap); /* cut at |cap|: reasons are for people */
  va_end(ap);
}

/* ---- creation ------------------------------------------------------------- */

int bf_turn_new(const bf_turn_config *cfg, bf_turn **out) {
  *out = NULL;
  if (!cfg || !cfg->server.len || (!cfg->secret && (!cfg->user || !cfg->pass))) return -EINVAL;
  if ((cfg->user && strlen(cfg->user) >= BF_TURN_USER_MAX - 24) ||
      (cfg->pass && strlen(cfg->pass) >= BF_TURN_USER_MAX) ||
      (cfg->secret && strlen(cfg->secret) >= BF_TURN_USER_MAX))
    return -EINVAL;
  bf_turn *t = calloc(1, sizeof *t);
  if (!t) return -ENOMEM;
  t->cfg = *cfg;
  int r = 0;
  if (cfg->secret) {
    r = bf__turn_rest_credentials(t, cfg);
  } else {
    snprintf(t->user, sizeof t->user, "%s", cfg->user);
    snprintf(t->pass, sizeof t->pass, "%s", cfg->pass);
  }
  snprintf(t->software, sizeof t->software, "%s",
           cfg->software ? cfg->software : "bildfunk " BF_VERSION_STRING);
  t->cfg.user = t->user;
  t->cfg.pass = t->pass;
  t->cfg.secret = NULL;
  t->cfg.software = t->software;
  if (!t->cfg.rto_ns) t->cfg.rto_ns = DEFAULT_RTO_NS;
  if (!t->cfg.max_tx) t->cfg.max_tx = DEFAULT_MAX_TX;
  t->alg = BF_STUN_ALG_MD5;
  t->next_channel = BF_TURN_CHANNEL_MIN;
  if (r < 0) {
    bf_turn_del(&t);
    return r;
  }
  *out = t;
  return 0;
}

void bf_turn_del(bf_turn **pt) {
  bf_turn *t = *pt;
  if (!t) return;
  OPENSSL_cleanse(t, sizeof *t);
  free(t);
  *pt = NULL;
}

/* ---- events --------------------------------------------------------------- */

static bf_turn_event *push_event(bf_turn *t, bf_turn_event_type type, uint16_t method) {
  if (t->ev_n == EVQ) {
    t->st.events_dropped++;
    return NULL;
  }
  bf_turn_event *ev = &t->evq[(t->ev_head + t->ev_n++) % EVQ];
  memset(ev, 0, sizeof *ev);
  ev->type = type;
  ev->method = method;
  return ev;
}

int bf_turn_poll_event(bf_turn *t, bf_turn_event *ev) {
  if (!t->ev_n) return 0;
  *ev = t->evq[t->ev_head];
  t->ev_head = (t->ev_head + 1) % EVQ;
  t->ev_n--;
  return 1;
}

/* ---- requests ------------------------------------------------------------- */

/* (Re)encodes |r| with a fresh transaction id; it goes out at |now|. */
static int encode(bf_turn *t, req *r, uint64_t now) {
  bf_stun_builder b;
  if (bf__turn_new_txid(t, r->txid) < 0) return -EIO;
  bf_stun_build(&b, r->buf, sizeof r->buf, r->method, BF_STUN_REQUEST, r->txid);
  if (t->software[0]) bf_stun_put(&b, BF_STUN_A_SOFTWARE, t->software, strlen(t->software));
  switch (r->method) {
  case BF_STUN_ALLOCATE:
    bf_stun_put_u32(&b, BF_STUN_A_REQUESTED_TRANSPORT, BF_STUN_TRANSPORT_UDP << 24);
    if (t->cfg.lifetime_s) bf_stun_put_u32(&b, BF_STUN_A_LIFETIME, t->cfg.lifetime_s);
    break;
  case BF_STUN_REFRESH:
    bf_stun_put_u32(&b, BF_STUN_A_LIFETIME, r->lifetime);
    break;
  case BF_STUN_CREATE_PERMISSION:
    bf_stun_put_addr(&b, BF_STUN_A_XOR_PEER_ADDRESS, &t->perms[r->idx].addr);
    break;
  case BF_STUN_CHANNEL_BIND:
    bf_stun_put_u32(&b, BF_STUN_A_CHANNEL_NUMBER, (uint32_t)t->chans[r->idx].number << 16);
    bf_stun_put_addr(&b, BF_STUN_A_XOR_PEER_ADDRESS, &t->chans[r->idx].addr);
    break;
  default:
    break;
  }
  if (r->auth) bf__turn_put_credentials(t, &b);
  if (t->cfg.fingerprint) bf_stun_put_fingerprint(&b);
  int n = bf_stun_finish(&b);
  if (n < 0) return n;
  r->len = (size_t)n;
  r->sent = 0;
  r->rto_ns = t->cfg.rto_ns;
  r->next_ns = now;
  return 0;
}

static req *start(bf_turn *t, uint16_t method, int idx, uint32_t lifetime, uint64_t now) {
  for (size_t i = 0; i < BF_TURN_MAX_REQUESTS; i++) {
    req *r = &t->reqs[i];
    if (r->used) continue;
    memset(r, 0, offsetof(req, buf));
    r->used = 1;
    r->method = method;
    r->idx = idx;
    r->lifetime = lifetime;
    r->auth = method != BF_STUN_BINDING && t->key_len > 0;
    r->first_ns = now;
    if (encode(t, r, now) < 0) {
      r->used = 0;
      return NULL;
    }
    t->st.requests++;
    return r;
  }
  return NULL;
}

static binding *binding_of(bf_turn *t, const req *r) {
  if (r->method == BF_STUN_CREATE_PERMISSION) return &t->perms[r->idx];
  if (r->method == BF_STUN_CHANNEL_BIND) return &t->chans[r->idx];
  return NULL;
}

/* Ends the allocation's requests, permissions and channels (not Binding). */
static void drop_allocation(bf_turn *t, bf_turn_state state) {
  t->state = state;
  t->have_relayed = 0;
  t->refresh_inflight = 0;
  for (size_t i = 0; i < BF_TURN_MAX_REQUESTS; i++)
    if (t->reqs[i].method != BF_STUN_BINDING) t->reqs[i].used = 0;
  memset(t->perms, 0, sizeof t->perms);
  memset(t->chans, 0, sizeof t->chans);
}

static binding *find_binding(binding *tab, size_t n, const bf_addr *a, int by_ip) {
  for (size_t i = 0; i < n; i++)
    if (tab[i].used && (by_ip ? bf_addr_same_ip(&tab[i].addr, a) : bf_addr_equal(&tab[i].addr, a)))
      return &tab[i];
  return NULL;
}

static void lose(bf_turn *t, const char *why) {
  char server[BF_ADDR_STRLEN];
  bf_turn_event *ev = push_event(t, BF_TURN_EV_LOST, BF_STUN_REFRESH);
  if (ev)
    text_f(ev->reason, sizeof ev->reason, "TURN allocation on %s lost: %s",
           bf_addr_format(&t->cfg.server, server, sizeof server), why);
  drop_allocation(t, BF_TURN_LOST);
}

static int errno_of(int code) {
  switch (code) {
  case 401:
  case 441:
    return -EACCES;
  case 403:
    return -EPERM;
  case 420:
    return -ENOTSUP;
  case 437:
    return -ENOENT;
  case 440:
  case 443:
    return -EAFNOSUPPORT;
  case 442:
    return -EPROTONOSUPPORT;
  case 486:
    return -EDQUOT;
  case 508:
    return -EAGAIN;
  default:
    return -EPROTO;
  }
}

/* The allocation a 437 to Allocate met could not be released: its
 * Refresh(0) failed (|detail| says how), or Allocate met a 437 again. */
static void mismatch_failed(bf_turn *t, req *r, const char *server, const char *detail) {
  int release = r->release_437;
  r->used = 0;
  bf_turn_event *ev = push_event(t, BF_TURN_EV_ERROR, BF_STUN_ALLOCATE);
  if (ev) {
    ev->code = 437;
    ev->err = -EADDRINUSE;
    text_f(ev->reason, sizeof ev->reason,
           "TURN server %s, Allocate: 437 Allocation Mismatch: the server still holds an "
           "allocation for this address (another program, or this one before a crash) and "
           "would not release it%s%s%s",
           server, release ? " (Refresh: " : "", release ? detail : "", release ? ")" : "");
  }
  drop_allocation(t, BF_TURN_FAILED);
}

/* A request failed (|code| 0: |why| says how); says so and frees it. */
static void fail(bf_turn *t, req *r, int code, int err, const char *why) {
  char server[BF_ADDR_STRLEN], detail[144], text[sizeof((bf_turn_event *)0)->reason];
  const char *method = bf_stun_method_name(r->method);
  bf_addr_format(&t->cfg.server, server, sizeof server);
  if (code)
    text_f(detail, sizeof detail, "%d %s%s%s%s", code, bf_stun_error_name(code),
           why[0] ? " (\"" : "", why, why[0] ? "\")" : "");
  else
    text_f(detail, sizeof detail, "%s", why);
  if (code == 401 || code == 441)
    text_f(text, sizeof text, "TURN server %s refused %s user '%s' in realm '%.*s' (%d %s): %s",
           server, t->rest ? "REST" : "the", t->user, (int)t->realm_len, (const char *)t->realm,
           code, bf_stun_error_name(code),
           t->rest ? "wrong shared secret, or the credential expired (check the clocks)"
                   : "wrong user name or password");
  else
    text_f(text, sizeof text, "TURN server %s, %s: %s", server, method, detail);
  if (r->release_437 || (code == 437 && r->method == BF_STUN_ALLOCATE && t->mismatch_tried)) {
    mismatch_failed(t, r, server, detail);
    return;
  }
  binding *bd = binding_of(t, r);
  uint16_t m = r->method;
  uint32_t lifetime = r->lifetime;
  r->used = 0;
  if (m == BF_STUN_REFRESH && lifetime == 0) { /* a release: gone either way */
    bf_turn_event *ev = push_event(t, BF_TURN_EV_RELEASED, m);
    if (ev) ev->err = code ? errno_of(code) : err;
    drop_allocation(t, BF_TURN_RELEASED);
    return;
  }
  if (m == BF_STUN_REFRESH || (code == 437 && m != BF_STUN_ALLOCATE && m != BF_STUN_BINDING)) {
    char lost[sizeof text];
    text_f(lost, sizeof lost, "%s: %s", method, detail);
    lose(t, lost);
    return;
  }
  bf_turn_event *ev = push_event(t, BF_TURN_EV_ERROR, m);
  if (ev) {
    ev->code = code;
    ev->err = code ? errno_of(code) : err;
    memcpy(ev->reason, text, sizeof text);
    if (bd) ev->addr = bd->addr;
  }
  if (m == BF_STUN_ALLOCATE) drop_allocation(t, BF_TURN_FAILED);
  if (!bd) return;
  if (m == BF_STUN_CHANNEL_BIND) { /* a permission only this channel stood for */
    binding *p = find_binding(t->perms, BF_TURN_MAX_PERMS, &bd->addr, 1);
    if (p && !p->ready && !p->announce && !p->inflight) memset(p, 0, sizeof *p);
  }
  memset(bd, 0, sizeof *bd);
}

/* ---- responses ------------------------------------------------------------ */

static void schedule_refresh(bf_turn *t, uint32_t lifetime, uint64_t now) {
  uint64_t life = (uint64_t)lifetime * NS;
  uint64_t margin = lifetime >= 120 ? 60 * NS : life / 2;
  t->lifetime_s = lifetime;
  t->expires_ns = now + life;
  t->refresh_ns = now + life - margin;
  t->refresh_inflight = 0;
}

static void allocated(bf_turn *t, req *r, const bf_stun_msg *m, uint64_t now) {
  uint32_t lifetime;
  if (bf_stun_get_addr(m, BF_STUN_A_XOR_RELAYED_ADDRESS, &t->relayed) < 0 ||
      bf_stun_get_u32(m, BF_STUN_A_LIFETIME, &lifetime) < 0 || lifetime == 0) {
    fail(t, r, 0, -EBADMSG, "the answer lacks XOR-RELAYED-ADDRESS or LIFETIME");
    return;
  }
  t->have_mapped = bf_stun_get_addr(m, BF_STUN_A_XOR_MAPPED_ADDRESS, &t->mapped) == 0;
  t->have_relayed = 1;
  t->state = BF_TURN_ALLOCATED;
  schedule_refresh(t, lifetime, now);
  r->used = 0;
  bf_turn_event *ev = push_event(t, BF_TURN_EV_ALLOCATED, BF_STUN_ALLOCATE);
  if (ev) {
    ev->addr = t->relayed;
    if (t->have_mapped) ev->mapped = t->mapped;
    ev->lifetime_s = lifetime;
  }
}

/* Turns |r| into |method| (Refresh: lifetime 0) and encodes it anew: the
 * steps of the 437 recovery, in the Allocate's slot. */
static int recast(bf_turn *t, req *r, uint16_t method, uint64_t now) {
  r->method = method;
  r->lifetime = 0;
  r->release_437 = method == BF_STUN_REFRESH;
  r->stale = 0;
  r->auth = r->auth || t->key_len > 0;
  r->first_ns = now;
  t->st.requests++;
  return encode(t, r, now);
}

static void refreshed(bf_turn *t, req *r, const bf_stun_msg *m, uint64_t now) {
  uint32_t lifetime = 0;
  if (r->release_437) { /* the stale allocation goes: allocate again once it is gone */
    t->st.mismatch_released++;
    t->mismatch_allocs = 1;
    if (recast(t, r, BF_STUN_ALLOCATE, now) < 0)
      fail(t, r, 0, -EIO, "no randomness for a transaction id");
    else
      r->next_ns = now + MISMATCH_SETTLE_NS;
    return;
  }
  r->used = 0;
  if (r->lifetime == 0) {
    push_event(t, BF_TURN_EV_RELEASED, BF_STUN_REFRESH);
    drop_allocation(t, BF_TURN_RELEASED);
    return;
  }
  if (bf_stun_get_u32(m, BF_STUN_A_LIFETIME, &lifetime) < 0 || lifetime == 0) {
    lose(t, "the Refresh answer has no lifetime");
    return;
  }
  schedule_refresh(t, lifetime, now);
  bf_turn_event *ev = push_event(t, BF_TURN_EV_REFRESHED, BF_STUN_REFRESH);
  if (ev) ev->lifetime_s = lifetime;
}

static void confirm(bf_turn *t, binding *bd, bf_turn_event_type type, uint64_t next, uint16_t m) {
  bd->inflight = 0;
  bd->refresh_ns = next;
  if (bd->ready) return;
  bd->ready = 1;
  if (!bd->announce) return;
  bf_turn_event *ev = push_event(t, type, m);
  if (ev) {
    ev->addr = bd->addr;
    ev->channel = bd->number;
  }
}

static void bound(bf_turn *t, req *r, uint64_t now) {
  binding *bd = binding_of(t, r);
  uint16_t m = r->method;
  r->used = 0;
  if (m == BF_STUN_CREATE_PERMISSION) {
    confirm(t, bd, BF_TURN_EV_PERMISSION, now + PERM_REFRESH_NS, m);
    return;
  }
  confirm(t, bd, BF_TURN_EV_CHANNEL, now + CHAN_REFRESH_NS, m);
  /* the binding refreshed the IP's permission too (RFC 8656 §12) */
  binding *p = find_binding(t->perms, BF_TURN_MAX_PERMS, &bd->addr, 1);
  if (p && !p->inflight) confirm(t, p, BF_TURN_EV_PERMISSION, now + PERM_REFRESH_NS, m);
}

static void success(bf_turn *t, req *r, const bf_stun_msg *m, uint64_t now) {
  if (m->unknown_required) {
    fail(t, r, 0, -ENOTSUP, "the answer has an unknown comprehension-required attribute");
    return;
  }
  switch (r->method) {
  case BF_STUN_ALLOCATE:
    allocated(t, r, m, now);
    break;
  case BF_STUN_REFRESH:
    refreshed(t, r, m, now);
    break;
  case BF_STUN_BINDING: {
    bf_addr a;
    if (bf_stun_get_addr(m, BF_STUN_A_XOR_MAPPED_ADDRESS, &a) < 0 &&
        bf_stun_get_addr(m, BF_STUN_A_MAPPED_ADDRESS, &a) < 0) {
      fail(t, r, 0, -EBADMSG, "the answer has no mapped address");
      break;
    }
    r->used = 0;
    t->mapped = a;
    t->have_mapped = 1;
    bf_turn_event *ev = push_event(t, BF_TURN_EV_MAPPED, BF_STUN_BINDING);
    if (ev) ev->mapped = a;
    break;
  }
  default:
    bound(t, r, now);
    break;
  }
}

/* A 437 to Allocate: an allocation of this 5-tuple is left on the server
 * (the relay lives on the fixed data port: this program before a crash).
 * Once per bf_turn_allocate it is released (Refresh 0 in |r|'s slot);
 * after that, Allocate is sent again 1.5 s later while the server lets
 * the released allocation run out, MISMATCH_TRIES times in all. 1 when
 * |r| goes on, 0 when the 437 is final. */
static int mismatch_retry(bf_turn *t, req *r, uint64_t now) {
  if (!t->mismatch_tried) {
    t->mismatch_tried = 1;
    return recast(t, r, BF_STUN_REFRESH, now) == 0;
  }
  if (!t->mismatch_allocs || t->mismatch_allocs >= MISMATCH_TRIES) return 0;
  t->mismatch_allocs++;
  if (recast(t, r, BF_STUN_ALLOCATE, now) < 0) return 0;
  r->next_ns = now + MISMATCH_SETTLE_NS;
  return 1;
}

static void error_response(bf_turn *t, req *r, const bf_stun_msg *m, uint64_t now) {
  const bf_stun_attr *ea = bf_stun_find(m, BF_STUN_A_ERROR_CODE);
  const uint8_t *phrase = NULL;
  size_t phrase_len = 0;
  int code = 0;
  if (!ea || bf_stun_attr_error(m, ea, &code, &phrase, &phrase_len) < 0) {
    fail(t, r, 0, -EBADMSG, "an error answer without a valid ERROR-CODE");
    return;
  }
  int retry = (code == 401 && !r->auth) || (code == 438 && r->stale < MAX_STALE);
  if (retry) {
    if (bf__turn_take_challenge(t, m) < 0) {
      fail(t, r, 0, -EBADMSG, "a challenge without a usable REALM and NONCE");
      return;
    }
    if (code == 401) t->st.auth_retries++;
    if (code == 438) r->stale++, t->st.stale_nonce++;
    r->auth = 1;
    if (encode(t, r, now) == 0) return;
  }
  if (code == 437 && r->method == BF_STUN_ALLOCATE && mismatch_retry(t, r, now)) return;
  if (code == 437 && r->release_437) { /* nothing left to release (it ran out): allocate */
    t->mismatch_allocs = 1;
    if (recast(t, r, BF_STUN_ALLOCATE, now) == 0) return;
  }
  char why[128];
  size_t n = phrase_len < sizeof why - 1 ? phrase_len : sizeof why - 1;
  for (size_t i = 0; i < n; i++) /* the server's words, printable only */
    why[i] = phrase[i] >= 0x20 && phrase[i] < 0x7f ? (char)phrase[i] : '?';
  why[n] = 0;
  fail(t, r, code, errno_of(code), why);
}

static int response(bf_turn *t, const bf_stun_msg *m, uint64_t now) {
  req *r = NULL;
  for (size_t i = 0; i < BF_TURN_MAX_REQUESTS && !r; i++)
    if (t->reqs[i].used && t->reqs[i].method == m->method &&
        memcmp(t->reqs[i].txid, m->txid, BF_STUN_TXID_BYTES) == 0)
      r = &t->reqs[i];
  if (!r) {
    t->st.unmatched++;
    return -ENOENT;
  }
  /* successes must prove the key; errors may come without (401, 438) but
   * an integrity attribute that is there must be right */
  if (r->auth) {
    int ok = bf_stun_check_integrity(m, t->alg, t->key, t->key_len);
    if (ok == -EBADMSG || (ok < 0 && m->cls == BF_STUN_SUCCESS)) {
      t->st.bad_integrity++;
      return -EBADMSG;
    }
  }
  t->st.responses++;
  if (m->cls == BF_STUN_SUCCESS)
    success(t, r, m, now);
  else
    error_response(t, r, m, now);
  return BF_TURN_RX_CONTROL;
}

/* ---- datagrams from the server -------------------------------------------- */

int bf_turn_read(bf_turn *t, uint8_t *d, size_t len, uint64_t now_ns, bf_turn_data *data) {
  int kind = bf_turn_demux(d, len);
  if (kind == BF_TURN_DEMUX_CHANNEL) return bf__turn_channel_data(t, d, len, data);
  bf_stun_msg m;
  if (kind != BF_TURN_DEMUX_STUN || bf_stun_parse(d, len, &m) < 0) {
    t->st.malformed++;
    return kind ? -EBADMSG : -EPROTO;
  }
  if (m.cls == BF_STUN_INDICATION) return bf__turn_indication(t, d, &m, data);
  if (m.cls == BF_STUN_REQUEST) {
    t->st.malformed++; /* a server does not ask a UDP client anything */
    return -EPROTO;
  }
  return response(t, &m, now_ns);
}

/* ---- timers and sending --------------------------------------------------- */

static void refresh_bindings(bf_turn *t, binding *tab, size_t n, uint16_t method, uint64_t now) {
  for (size_t i = 0; i < n; i++) {
    binding *bd = &tab[i];
    if (!bd->used || bd->inflight || now < bd->refresh_ns) continue;
    if (start(t, method, (int)i, 0, now))
      bd->inflight = 1;
    else
      bd->refresh_ns = now + t->cfg.rto_ns; /* every slot busy: a little later */
  }
}

static void tick(bf_turn *t, uint64_t now) {
  for (size_t i = 0; i < BF_TURN_MAX_REQUESTS; i++) {
    req *r = &t->reqs[i];
    if (r->used && r->sent >= t->cfg.max_tx && now >= r->next_ns) {
      char why[96];
      text_f(why, sizeof why, "no answer after %u tries over %.1f s", r->sent,
             (double)(now - r->first_ns) / 1e9);
      t->st.timeouts++;
      fail(t, r, 0, -ETIMEDOUT, why);
    }
  }
  if (t->state != BF_TURN_ALLOCATED) return;
  if (now >= t->expires_ns) {
    lose(t, "its lifetime ran out without a successful Refresh");
    return;
  }
  if (!t->refresh_inflight && now >= t->refresh_ns) {
    if (start(t, BF_STUN_REFRESH, -1, t->lifetime_s, now))
      t->refresh_inflight = 1;
    else
      t->refresh_ns = now + t->cfg.rto_ns; /* every slot busy: a little later */
  }
  refresh_bindings(t, t->perms, BF_TURN_MAX_PERMS, BF_STUN_CREATE_PERMISSION, now);
  refresh_bindings(t, t->chans, BF_TURN_MAX_CHANNELS, BF_STUN_CHANNEL_BIND, now);
}

int bf_turn_write(bf_turn *t, uint64_t now_ns, uint8_t *buf, size_t cap, const bf_addr **to) {
  tick(t, now_ns);
  req *due = NULL;
  for (size_t i = 0; i < BF_TURN_MAX_REQUESTS; i++) {
    req *r = &t->reqs[i];
    if (r->used && r->sent < t->cfg.max_tx && r->next_ns <= now_ns &&
        (!due || r->next_ns < due->next_ns))
      due = r;
  }
  if (!due) return 0;
  if (cap < due->len) return -ENOBUFS;
  memcpy(buf, due->buf, due->len);
  if (due->sent++) t->st.retransmits++;
  if (due->sent < t->cfg.max_tx) {
    due->next_ns = now_ns + due->rto_ns;
    due->rto_ns *= 2;
  } else {
    due->next_ns = now_ns + RM * t->cfg.rto_ns;
  }
  *to = &t->cfg.server;
  return (int)due->len;
}

static uint64_t min64(uint64_t a, uint64_t b) {
  return a < b ? a : b;
}

static uint64_t bindings_due(const binding *tab, size_t n) {
  uint64_t due = UINT64_MAX;
  for (size_t i = 0; i < n; i++)
    if (tab[i].used && !tab[i].inflight) due = min64(due, tab[i].refresh_ns);
  return due;
}

uint64_t bf_turn_next_due(const bf_turn *t) {
  uint64_t due = UINT64_MAX;
  for (size_t i = 0; i < BF_TURN_MAX_REQUESTS; i++)
    if (t->reqs[i].used) due = min64(due, t->reqs[i].next_ns);
  if (t->state == BF_TURN_ALLOCATED) {
    due = min64(due, t->expires_ns);
    if (!t->refresh_inflight) due = min64(due, t->refresh_ns);
    due = min64(due, bindings_due(t->perms, BF_TURN_MAX_PERMS));
    due = min64(due, bindings_due(t->chans, BF_TURN_MAX_CHANNELS));
  }
  return due;
}

/* ---- what the caller asks for --------------------------------------------- */

int bf_turn_allocate(bf_turn *t, uint64_t now_ns) {
  if (t->state == BF_TURN_ALLOCATING || t->state == BF_TURN_ALLOCATED ||
      t->state == BF_TURN_RELEASING)
    return -EALREADY;
  if (!start(t, BF_STUN_ALLOCATE, -1, 0, now_ns)) return -EBUSY;
  t->state = BF_TURN_ALLOCATING;
  t->mismatch_tried = 0;
  t->mismatch_allocs = 0;
  return 0;
}

int bf_turn_binding(bf_turn *t, uint64_t now_ns) {
  return start(t, BF_STUN_BINDING, -1, 0, now_ns) ? 0 : -EBUSY;
}

int bf_turn_release(bf_turn *t, uint64_t now_ns) {
  if (t->state != BF_TURN_ALLOCATED) return -EAGAIN;
  drop_allocation(t, BF_TURN_RELEASING);           /* cancels refreshes and bindings */
  if (!start(t, BF_STUN_REFRESH, -1, 0, now_ns)) { /* cannot happen: all slots were freed */
    t->state = BF_TURN_RELEASED;
    return -EBUSY;
  }
  return 0;
}

/* The entry for |peer| in |tab| (new if absent) and whether it is new. */
static binding *get_binding(binding *tab, size_t n, const bf_addr *peer, int by_ip, int *fresh) {
  binding *bd = find_binding(tab, n, peer, by_ip);
  *fresh = 0;
  if (bd) return bd;
  for (size_t i = 0; i < n; i++) {
    if (tab[i].used) continue;
    memset(&tab[i], 0, sizeof tab[i]);
    tab[i].used = 1;
    tab[i].addr = *peer;
    *fresh = 1;
    return &tab[i];
  }
  return NULL;
}

static int ask(bf_turn *t, binding *tab, size_t n, uint16_t method, const bf_addr *peer,
               uint64_t now) {
  if (t->state != BF_TURN_ALLOCATED) return -EAGAIN;
  if (!peer || !peer->len) return -EINVAL;
  int fresh;
  binding *bd = get_binding(tab, n, peer, method == BF_STUN_CREATE_PERMISSION, &fresh);
  if (!bd) return -ENOSPC;
  bd->announce = 1;
  if (bd->ready) { /* already there: say so, its refreshes keep it */
    bf_turn_event *ev = push_event(
        t, method == BF_STUN_CHANNEL_BIND ? BF_TURN_EV_CHANNEL : BF_TURN_EV_PERMISSION, method);
    if (ev) ev->addr = bd->addr, ev->channel = bd->number;
    return 0;
  }
  if (bd->inflight) return 0;
  if (method == BF_STUN_CHANNEL_BIND && fresh) {
    bd->number = t->next_channel; /* never reuse a number for another peer */
    t->next_channel = t->next_channel == BF_TURN_CHANNEL_MAX ? BF_TURN_CHANNEL_MIN
                                                             : (uint16_t)(t->next_channel + 1);
  }
  if (!start(t, method, (int)(bd - tab), 0, now)) {
    if (fresh) bd->used = 0;
    return -EBUSY;
  }
  bd->inflight = 1;
  return 0;
}

int bf_turn_permit(bf_turn *t, const bf_addr *peer, uint64_t now_ns) {
  return ask(t, t->perms, BF_TURN_MAX_PERMS, BF_STUN_CREATE_PERMISSION, peer, now_ns);
}

int bf_turn_bind_channel(bf_turn *t, const bf_addr *peer, uint64_t now_ns) {
  int r = ask(t, t->chans, BF_TURN_MAX_CHANNELS, BF_STUN_CHANNEL_BIND, peer, now_ns);
  if (r < 0) return r;
  /* keep the IP permitted after the binding's own refresh of it lapses */
  int fresh;
  binding *p = get_binding(t->perms, BF_TURN_MAX_PERMS, peer, 1, &fresh);
  if (p && fresh) p->refresh_ns = UINT64_MAX; /* until the ChannelBind confirms it */
  return 0;
}

/* ---- state ---------------------------------------------------------------- */

bf_turn_state bf_turn_state_get(const bf_turn *t) {
  return t->state;
}

const char *bf_turn_state_name(bf_turn_state s) {
  static const char *const names[] = {"idle",     "allocating", "allocated", "releasing",
                                      "released", "failed",     "lost"};
  return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "?";
}

const bf_addr *bf_turn_relayed(const bf_turn *t) {
  return t->have_relayed ? &t->relayed : NULL;
}

const bf_addr *bf_turn_mapped(const bf_turn *t) {
  return t->have_mapped ? &t->mapped : NULL;
}

const char *bf_turn_username(const bf_turn *t) {
  return t->user;
}

void bf_turn_stats_get(const bf_turn *t, bf_turn_stats *st) {
  *st = t->st;
}
