/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The input link's two ends: see inputlink.h.
 */
#include <bildfunk/inputlink.h>

#include <bildfunk/common.h>

#include <errno.h>
#include <string.h>

#define RTO_START_NS 20000000ull

static int bit_get(const uint8_t *b, unsigned i) {
  return b[i / 8] >> (i % 8) & 1;
}
static void bit_set(uint8_t *b, unsigned i, int on) {
  uint8_t m = (uint8_t)(1u << (i % 8));
  b[i / 8] = (uint8_t)(on ? b[i / 8] | m : b[i / 8] & ~m);
}
static int32_t add32(int32_t a, int32_t b) {
  return (int32_t)((uint32_t)a + (uint32_t)b);
}
static int32_t sub32(int32_t a, int32_t b) {
  return (int32_t)((uint32_t)a - (uint32_t)b);
}
static uint64_t min64(uint64_t a, uint64_t b) {
  return a < b ? a : b;
}
static int is_press(uint8_t kind) {
  return kind == BF_INEV_KEY_DOWN || kind == BF_INEV_BUTTON_DOWN || kind == BF_INEV_PAD_DOWN;
}

/* --- client ---------------------------------------------------------------- */

void bf_inlink_tx_init(bf_inlink_tx *tx) {
  memset(tx, 0, sizeof *tx);
  tx->first_seq = 1;
  tx->sent_upto = 0;
  tx->rto_ns = RTO_START_NS;
}

void bf_inlink_tx_new_session(bf_inlink_tx *tx) {
  bf_inlink_tx_stats keep = tx->st;
  keep.events_dropped += tx->n;
  bf_inlink_tx_init(tx);
  tx->st = keep;
}

/* Appends |e| (the pointer as now). The caller checked the room. */
static uint32_t push(bf_inlink_tx *tx, const bf_inev *e) {
  uint32_t i = (tx->head + tx->n) % BF_INLINK_QUEUE;
  tx->q[i] = *e;
  tx->at[i] = (bf_inlink_at){tx->snap.rel_x, tx->snap.rel_y, tx->snap.abs_x,
                             tx->snap.abs_y, tx->snap.abs_w, tx->snap.abs_h};
  uint32_t seq = tx->first_seq + tx->n;
  tx->n++;
  tx->st.events++;
  return seq;
}

static void forget_held(bf_inlink_tx *tx) {
  memset(tx->held_keys, 0, sizeof tx->held_keys);
  memset(tx->dropped_keys, 0, sizeof tx->dropped_keys);
  memset(tx->held_pad, 0, sizeof tx->held_pad);
  memset(tx->dropped_pad, 0, sizeof tx->dropped_pad);
  tx->held_buttons = tx->dropped_buttons = 0;
}

/* A release that found the ring full becomes a release of everything. */
static void flush_owed(bf_inlink_tx *tx) {
  if (!tx->release_owed || tx->n >= BF_INLINK_QUEUE) return;
  bf_inev e = {BF_INEV_RELEASE_ALL, 0, 0, 0, 0};
  push(tx, &e);
  tx->release_owed = 0;
  forget_held(tx);
}

/* The held/dropped bits of |e|'s key, button or pad button: returns whether
 * it was held and, with |held| >= 0 / |dropped| >= 0, sets them. */
static void mark(bf_inlink_tx *tx, const bf_inev *e, int held, int dropped) {
  switch (e->kind) {
  case BF_INEV_KEY_DOWN:
  case BF_INEV_KEY_UP:
    bit_set(tx->held_keys, e->code, held);
    bit_set(tx->dropped_keys, e->code, dropped);
    break;
  case BF_INEV_BUTTON_DOWN:
  case BF_INEV_BUTTON_UP: {
    uint8_t m = (uint8_t)(1u << e->code);
    tx->held_buttons = (uint8_t)(held ? tx->held_buttons | m : tx->held_buttons & ~m);
    tx->dropped_buttons = (uint8_t)(dropped ? tx->dropped_buttons | m : tx->dropped_buttons & ~m);
    break;
  }
  default: {
    uint32_t m = 1u << e->code;
    tx->held_pad[e->arg] = held ? tx->held_pad[e->arg] | m : tx->held_pad[e->arg] & ~m;
    tx->dropped_pad[e->arg] = dropped ? tx->dropped_pad[e->arg] | m : tx->dropped_pad[e->arg] & ~m;
    break;
  }
  }
}

static int was_dropped(const bf_inlink_tx *tx, const bf_inev *e) {
  switch (e->kind) {
  case BF_INEV_KEY_UP:
    return bit_get(tx->dropped_keys, e->code);
  case BF_INEV_BUTTON_UP:
    return tx->dropped_buttons >> e->code & 1;
  case BF_INEV_PAD_UP:
    return tx->dropped_pad[e->arg] >> e->code & 1;
  default:
    return 0;
  }
}

int64_t bf_inlink_tx_event(bf_inlink_tx *tx, const bf_inev *in) {
  if (!bf_inev_valid(in)) return -EINVAL;
  bf_inev e = *in;
  e.x = e.y = 0;
  if (e.kind == BF_INEV_BUTTON_DOWN || e.kind == BF_INEV_BUTTON_UP) {
    if (tx->snap.abs_w) {
      e.arg = BF_INEV_AT_ABS;
      e.x = tx->snap.abs_x;
      e.y = tx->snap.abs_y;
    } else {
      e.arg = BF_INEV_AT_REL;
      e.x = (uint16_t)tx->snap.rel_x;
      e.y = (uint16_t)tx->snap.rel_y;
    }
  } else if (e.kind == BF_INEV_RELEASE_ALL) {
    e.arg = 0;
    e.code = 0;
  }
  flush_owed(tx);
  if (e.kind == BF_INEV_RELEASE_ALL) {
    if (tx->n >= BF_INLINK_QUEUE) {
      tx->release_owed = 1;
      tx->st.events_dropped++;
      return 0;
    }
    forget_held(tx);
    return push(tx, &e);
  }
  if (is_press(e.kind)) {
    if (tx->n >= BF_INLINK_PRESS_ROOM) { /* its release goes nowhere either */
      mark(tx, &e, 0, 1);
      tx->st.events_dropped++;
      return 0;
    }
    mark(tx, &e, 1, 0);
    return push(tx, &e);
  }
  if (was_dropped(tx, &e)) {
    mark(tx, &e, 0, 0);
    tx->st.events_dropped++;
    return 0;
  }
  mark(tx, &e, 0, 0);
  if (tx->n >= BF_INLINK_QUEUE) {
    tx->release_owed = 1;
    tx->st.events_dropped++;
    return 0;
  }
  return push(tx, &e);
}

void bf_inlink_tx_release_all(bf_inlink_tx *tx) {
  bf_inev e = {BF_INEV_RELEASE_ALL, 0, 0, 0, 0};
  (void)bf_inlink_tx_event(tx, &e);
}

static void changed(bf_inlink_tx *tx, uint64_t now) {
  if (!tx->snap_dirty) tx->change_ns = now;
  tx->snap_dirty = 1;
}

void bf_inlink_tx_motion(bf_inlink_tx *tx, int32_t dx, int32_t dy, uint64_t now) {
  if (!dx && !dy) return;
  tx->snap.rel_x = add32(tx->snap.rel_x, dx);
  tx->snap.rel_y = add32(tx->snap.rel_y, dy);
  changed(tx, now);
}

void bf_inlink_tx_wheel(bf_inlink_tx *tx, int32_t v, int32_t h, uint64_t now) {
  if (!v && !h) return;
  tx->snap.wheel_v = add32(tx->snap.wheel_v, v);
  tx->snap.wheel_h = add32(tx->snap.wheel_h, h);
  changed(tx, now);
}

void bf_inlink_tx_abs(bf_inlink_tx *tx, uint16_t x, uint16_t y, uint16_t w, uint16_t h,
                      uint64_t now) {
  if (!w || !h || x >= w || y >= h) x = y = w = h = 0;
  bf_inmsg_input *s = &tx->snap;
  if (s->abs_x == x && s->abs_y == y && s->abs_w == w && s->abs_h == h) return;
  s->abs_x = x;
  s->abs_y = y;
  s->abs_w = w;
  s->abs_h = h;
  changed(tx, now);
}

void bf_inlink_tx_pad(bf_inlink_tx *tx, unsigned slot, int on, uint64_t now) {
  if (slot >= BF_INMSG_PADS || (int)(tx->snap.pads_present >> slot & 1u) == !!on) return;
  uint8_t m = (uint8_t)(1u << slot);
  tx->snap.pads_present = (uint8_t)(on ? tx->snap.pads_present | m : tx->snap.pads_present & ~m);
  memset(tx->snap.pads[slot].axis, 0, sizeof tx->snap.pads[slot].axis);
  tx->held_pad[slot] = tx->dropped_pad[slot] = 0; /* the sender releases them with the pad */
  changed(tx, now);
}

void bf_inlink_tx_pad_axis(bf_inlink_tx *tx, unsigned slot, unsigned axis, int16_t v,
                           uint64_t now) {
  if (slot >= BF_INMSG_PADS || axis >= BF_INMSG_AXES || !(tx->snap.pads_present >> slot & 1u))
    return;
  if (tx->snap.pads[slot].axis[axis] == v) return;
  tx->snap.pads[slot].axis[axis] = v;
  changed(tx, now);
}

static int pads_off_rest(const bf_inmsg_input *s) {
  for (unsigned p = 0; p < BF_INMSG_PADS; p++) {
    if (!(s->pads_present >> p & 1u)) continue;
    for (unsigned a = 0; a < BF_INMSG_AXES; a++)
      if (s->pads[p].axis[a] > BF_INLINK_AXIS_REST || s->pads[p].axis[a] < -BF_INLINK_AXIS_REST)
        return 1;
  }
  return 0;
}

/* Something is held: a key (bits |keys|), a mouse button, a pad button, a
 * pad's axis off its rest. Both ends keep the same sets. */
static int holding(const uint8_t keys[32], uint8_t buttons, const uint32_t pads[BF_INMSG_PADS],
                   const bf_inmsg_input *snap) {
  for (unsigned i = 0; i < 32; i++)
    if (keys[i]) return 1;
  for (unsigned p = 0; p < BF_INMSG_PADS; p++)
    if (pads[p]) return 1;
  return buttons || pads_off_rest(snap);
}

int bf_inlink_tx_holding(const bf_inlink_tx *tx) {
  return holding(tx->held_keys, tx->held_buttons, tx->held_pad, &tx->snap);
}

/* The events one datagram carries: the oldest, at most BF_INMSG_MAX_EVENTS. */
static uint32_t window(const bf_inlink_tx *tx) {
  return tx->n < BF_INMSG_MAX_EVENTS ? tx->n : BF_INMSG_MAX_EVENTS;
}

uint64_t bf_inlink_tx_due(const bf_inlink_tx *tx) {
  uint32_t k = window(tx);
  if (k && bf_seq32_diff(tx->first_seq + k - 1, tx->sent_upto) > 0) return 0;
  if (tx->release_owed && tx->n < BF_INLINK_QUEUE) return 0;
  uint64_t due = UINT64_MAX;
  /* a snapshot that cannot go with every waiting event waits for the acks */
  if (tx->snap_dirty)
    due = tx->last_send_ns + (tx->n > BF_INMSG_MAX_EVENTS ? tx->rto_ns : BF_INLINK_MOTION_NS);
  if (tx->n || bf_seq32_diff(tx->change_seq, tx->snap_acked) > 0)
    due = min64(due, tx->last_send_ns + tx->rto_ns);
  if (bf_inlink_tx_holding(tx)) due = min64(due, tx->last_send_ns + BF_INLINK_KEEPALIVE_NS);
  return due;
}

int bf_inlink_tx_build(bf_inlink_tx *tx, uint64_t now, uint8_t *out, size_t cap,
                       bf_inlink_sent *sent) {
  if (bf_inlink_tx_due(tx) > now) return 0;
  flush_owed(tx);
  bf_inmsg_input m;
  uint32_t k = window(tx);
  int fresh = k && bf_seq32_diff(tx->first_seq + k - 1, tx->sent_upto) > 0;
  m = tx->snap;
  if (k < tx->n) { /* the pointer as it was at the first event left out */
    const bf_inlink_at *a = &tx->at[(tx->head + k) % BF_INLINK_QUEUE];
    m.rel_x = a->rel_x;
    m.rel_y = a->rel_y;
    m.abs_x = a->abs_x;
    m.abs_y = a->abs_y;
    m.abs_w = a->abs_w;
    m.abs_h = a->abs_h;
  }
  m.flags = 0;
  uint32_t seq = tx->snap_seq + 1;
  if (!seq) seq = 1;
  m.snap_seq = seq;
  m.n_pads = 0;
  for (unsigned p = 0; p < BF_INMSG_PADS; p++) {
    if (!(tx->snap.pads_present >> p & 1u)) continue;
    m.pads[m.n_pads] = tx->snap.pads[p];
    m.pads[m.n_pads++].slot = (uint8_t)p;
  }
  m.first_seq = tx->first_seq;
  m.n_events = (uint8_t)k;
  for (uint32_t i = 0; i < k; i++) {
    uint32_t j = (tx->head + i) % BF_INLINK_QUEUE;
    bf_inev *e = &m.ev[i];
    *e = tx->q[j];
    const bf_inlink_at *a = &tx->at[j];
    if (e->arg != BF_INEV_AT_ABS || (a->abs_w == m.abs_w && a->abs_h == m.abs_h)) continue;
    if (!m.abs_w) { /* no absolute pointer any more: a click without a place */
      e->arg = 0;
      e->x = e->y = 0;
    } else { /* the picture changed size: the same place in the new one */
      e->x = (uint16_t)((uint32_t)e->x * m.abs_w / a->abs_w);
      e->y = (uint16_t)((uint32_t)e->y * m.abs_h / a->abs_h);
    }
  }
  int len = bf_inmsg_input_encode(&m, out, cap);
  if (len < 0) return len;
  memset(sent, 0, sizeof *sent);
  sent->snap_seq = seq;
  sent->changed = tx->snap_dirty && k == tx->n;
  sent->change_ns = tx->change_ns;
  sent->first_seq = tx->first_seq;
  sent->n_events = k;
  tx->st.datagrams++;
  if (k && !fresh) tx->st.resent++;
  if (!k && !tx->snap_dirty && bf_seq32_diff(tx->change_seq, tx->snap_acked) <= 0)
    tx->st.keepalives++;
  if (fresh) tx->sent_upto = tx->first_seq + k - 1;
  if (sent->changed) {
    tx->change_seq = seq;
    tx->snap_dirty = 0;
  }
  tx->snap_seq = seq;
  tx->last_send_ns = now;
  tx->sent_ns[seq & 63u] = now;
  return len;
}

void bf_inlink_tx_on_state(bf_inlink_tx *tx, const bf_inmsg_state *st, uint64_t now) {
  uint32_t last = tx->first_seq + tx->n - 1; /* the newest queued */
  /* in 64 bits: an acknowledgement 2^31 - 1 ahead must not overflow */
  int64_t k = (int64_t)bf_seq32_diff(st->ev_ack, tx->first_seq) + 1;
  if (k > 0) {
    if (bf_seq32_diff(st->ev_ack, last) > 0 || bf_seq32_diff(st->ev_ack, tx->sent_upto) > 0) {
      tx->st.bad_acks++;
    } else {
      tx->head = (tx->head + (uint32_t)k) % BF_INLINK_QUEUE;
      tx->n -= (uint32_t)k;
      tx->first_seq += (uint32_t)k;
      tx->st.acked += (uint64_t)k;
    }
  }
  int32_t d = bf_seq32_diff(st->snap_ack, tx->snap_acked);
  if (d > 0 && bf_seq32_diff(st->snap_ack, tx->snap_seq) <= 0) {
    tx->snap_acked = st->snap_ack;
    uint64_t t = tx->sent_ns[st->snap_ack & 63u];
    if (bf_seq32_diff(tx->snap_seq, st->snap_ack) < 64 && t && t <= now) {
      uint64_t rtt = now - t;
      tx->srtt_ns = tx->srtt_ns ? (7 * tx->srtt_ns + rtt) / 8 : rtt;
      uint64_t rto = tx->srtt_ns * 3 / 2 + 3000000ull;
      tx->rto_ns = rto < BF_INLINK_RTO_MIN_NS   ? BF_INLINK_RTO_MIN_NS
                   : rto > BF_INLINK_RTO_MAX_NS ? BF_INLINK_RTO_MAX_NS
                                                : rto;
    }
  }
  flush_owed(tx);
}

void bf_inlink_tx_rumble_ack(bf_inlink_tx *tx, uint32_t rumble_seq) {
  tx->snap.rumble_ack = rumble_seq;
}

/* --- sender ---------------------------------------------------------------- */

void bf_inlink_rx_init(bf_inlink_rx *rx, unsigned allow, uint64_t now) {
  bf_inlink_rx_stats keep = rx->st;
  uint32_t rate = rx->rate, burst = rx->burst;
  memset(rx, 0, sizeof *rx);
  rx->st = keep;
  rx->allow = allow & BF_INCLASS_ALL;
  rx->rate = rate ? rate : BF_INLINK_RATE;
  rx->burst = burst ? burst : BF_INLINK_BURST;
  rx->ev_next = 1;
  rx->last_heard_ns = now;
  rx->tokens_milli = (uint64_t)rx->burst * 1000u;
  rx->token_ns = now;
  for (unsigned p = 0; p < BF_INMSG_PADS; p++)
    rx->snap.pads[p].slot = (uint8_t)p;
}

/* One token of the bucket, or 0 (counted). */
static int token(bf_inlink_rx *rx, uint64_t now) {
  if (now > rx->token_ns) {
    uint64_t dt = now - rx->token_ns;
    if (dt > 10000000000ull) dt = 10000000000ull;
    rx->tokens_milli += dt * rx->rate / 1000000u;
    if (rx->tokens_milli > (uint64_t)rx->burst * 1000u)
      rx->tokens_milli = (uint64_t)rx->burst * 1000u;
    rx->token_ns = now;
  }
  if (rx->tokens_milli >= 1000u) {
    rx->tokens_milli -= 1000u;
    return 1;
  }
  rx->st.rate_dropped++;
  return 0;
}

static int allowed(bf_inlink_rx *rx, unsigned cls) {
  if (rx->allow & cls) return 1;
  rx->st.filtered++;
  return 0;
}

static void axes_centre(bf_inlink_rx *rx, unsigned p, const bf_inlink_sink *k) {
  static const int16_t zero[BF_INMSG_AXES];
  int off = memcmp(rx->snap.pads[p].axis, zero, sizeof zero) != 0;
  memset(rx->snap.pads[p].axis, 0, sizeof zero);
  if (off && k->pad_axes && (rx->allow & BF_INCLASS_GAMEPAD)) k->pad_axes(k->user, p, zero);
}

/* Releases what pad |p| holds and centres it. Returns whether it held anything. */
static int release_pad(bf_inlink_rx *rx, unsigned p, const bf_inlink_sink *k) {
  int any = rx->held_pad[p] != 0;
  for (unsigned b = 0; b < 32; b++)
    if (rx->held_pad[p] >> b & 1u && k->pad_button) k->pad_button(k->user, p, (uint8_t)b, 0);
  rx->held_pad[p] = 0;
  axes_centre(rx, p, k);
  return any;
}

int bf_inlink_rx_release_all(bf_inlink_rx *rx, const bf_inlink_sink *k, int silence) {
  int any = 0;
  for (unsigned u = 0; u < 256; u++) {
    if (!bit_get(rx->held_keys, u)) continue;
    bit_set(rx->held_keys, u, 0);
    if (k->key) k->key(k->user, (uint16_t)u, 0);
    any = 1;
  }
  for (unsigned b = 1; b <= 5; b++) {
    if (!(rx->held_buttons >> b & 1u)) continue;
    if (k->button) k->button(k->user, (uint8_t)b, 0);
    any = 1;
  }
  rx->held_buttons = 0;
  for (unsigned p = 0; p < BF_INMSG_PADS; p++)
    any |= release_pad(rx, p, k);
  if (any) {
    rx->st.releases++;
    if (silence) rx->st.silence_releases++;
  }
  return any;
}

/* Puts the pointer where a button event of datagram |m| says it was. */
static void button_at(bf_inlink_rx *rx, const bf_inmsg_input *m, const bf_inev *e,
                      const bf_inlink_sink *k) {
  bf_inmsg_input *s = &rx->snap;
  if (e->arg == BF_INEV_AT_ABS) { /* the decoder checked it against m's size */
    if (e->x != s->abs_x || e->y != s->abs_y || m->abs_w != s->abs_w || m->abs_h != s->abs_h) {
      s->abs_x = e->x;
      s->abs_y = e->y;
      s->abs_w = m->abs_w;
      s->abs_h = m->abs_h;
      if (k->abs) k->abs(k->user, e->x, e->y, m->abs_w, m->abs_h);
    }
  } else if (e->arg == BF_INEV_AT_REL) {
    int32_t dx = (int16_t)(uint16_t)(e->x - (uint16_t)s->rel_x);
    int32_t dy = (int16_t)(uint16_t)(e->y - (uint16_t)s->rel_y);
    if (dx || dy) {
      s->rel_x = add32(s->rel_x, dx);
      s->rel_y = add32(s->rel_y, dy);
      if (k->motion) k->motion(k->user, dx, dy);
    }
  }
}

/* Takes one event, in order. */
static void take_event(bf_inlink_rx *rx, const bf_inmsg_input *m, const bf_inev *e, uint64_t now,
                       const bf_inlink_sink *k) {
  rx->st.events++;
  int down = is_press(e->kind);
  switch (e->kind) {
  case BF_INEV_KEY_DOWN:
  case BF_INEV_KEY_UP:
    if (bit_get(rx->held_keys, e->code) == down)
      return; /* a press of a held key, a stray release */
    if (down && (!allowed(rx, BF_INCLASS_KEYBOARD) || !token(rx, now))) return;
    bit_set(rx->held_keys, e->code, down);
    if (k->key) k->key(k->user, e->code, down);
    break;
  case BF_INEV_BUTTON_DOWN:
  case BF_INEV_BUTTON_UP:
    if ((int)(rx->held_buttons >> e->code & 1u) == down) return;
    if (down && (!allowed(rx, BF_INCLASS_MOUSE) || !token(rx, now))) return;
    button_at(rx, m, e, k);
    rx->held_buttons = (uint8_t)(rx->held_buttons ^ (1u << e->code));
    if (k->button) k->button(k->user, (uint8_t)e->code, down);
    break;
  case BF_INEV_PAD_DOWN:
  case BF_INEV_PAD_UP:
    if (!(rx->snap.pads_present >> e->arg & 1u)) return; /* a pad that is gone */
    if ((int)(rx->held_pad[e->arg] >> e->code & 1u) == down) return;
    if (down && (!allowed(rx, BF_INCLASS_GAMEPAD) || !token(rx, now))) return;
    rx->held_pad[e->arg] ^= 1u << e->code;
    if (k->pad_button) k->pad_button(k->user, e->arg, (uint8_t)e->code, down);
    break;
  case BF_INEV_RELEASE_ALL:
    bf_inlink_rx_release_all(rx, k, 0);
    break;
  default:
    return;
  }
  rx->st.applied++;
}

/* Pads that came or went (before the events, which may press their buttons). */
static void take_pads(bf_inlink_rx *rx, uint8_t present, const bf_inlink_sink *k) {
  uint8_t was = rx->snap.pads_present;
  int ok = (rx->allow & BF_INCLASS_GAMEPAD) != 0;
  for (unsigned p = 0; p < BF_INMSG_PADS; p++) {
    unsigned a = was >> p & 1u, b = present >> p & 1u;
    if (a == b) continue;
    if (a) release_pad(rx, p, k);
    if (ok && k->pad) k->pad(k->user, p, (int)b);
  }
  if (!ok && present != was) rx->st.filtered++;
  rx->snap.pads_present = present;
}

/* A change of class |cls| may be applied now: 1, or 0 when it waits for the
 * next snapshot (rate) or is consumed unapplied (filtered: -1). */
static int may_apply(bf_inlink_rx *rx, unsigned cls, uint64_t now) {
  if (!allowed(rx, cls)) return -1;
  return token(rx, now);
}

/* A step of a running total pair (motion or wheel) from what was taken to
 * |a|, |b|: 1 with the step in |da|, |db| to apply; 0 when there is none,
 * it is consumed unapplied (filtered; too large: counted) or it waits for
 * the next snapshot (rate: the totals taken stay). */
static int take_step(bf_inlink_rx *rx, int32_t *have_a, int32_t *have_b, int32_t a, int32_t b,
                     uint64_t now, int32_t *da, int32_t *db) {
  *da = sub32(a, *have_a);
  *db = sub32(b, *have_b);
  int r;
  if ((!*da && !*db) || (r = may_apply(rx, BF_INCLASS_MOUSE, now)) == 0) return 0;
  *have_a = a;
  *have_b = b;
  if (r < 0) return 0;
  if (*da > BF_INLINK_MAX_MOTION || *da < -BF_INLINK_MAX_MOTION || *db > BF_INLINK_MAX_MOTION ||
      *db < -BF_INLINK_MAX_MOTION) {
    rx->st.motion_resync++;
    return 0;
  }
  return 1;
}

/* The snapshot's pointer, wheel and axes (after the events). */
static void take_rest(bf_inlink_rx *rx, const bf_inmsg_input *m, uint64_t now,
                      const bf_inlink_sink *k) {
  bf_inmsg_input *s = &rx->snap;
  int32_t dx, dy;
  int r;
  if (take_step(rx, &s->rel_x, &s->rel_y, m->rel_x, m->rel_y, now, &dx, &dy) && k->motion)
    k->motion(k->user, dx, dy);
  if (take_step(rx, &s->wheel_v, &s->wheel_h, m->wheel_v, m->wheel_h, now, &dx, &dy) && k->wheel)
    k->wheel(k->user, dx, dy);
  int abs_new = m->abs_w && (m->abs_x != s->abs_x || m->abs_y != s->abs_y || m->abs_w != s->abs_w ||
                             m->abs_h != s->abs_h);
  if (!m->abs_w) {
    s->abs_x = s->abs_y = s->abs_w = s->abs_h = 0;
  } else if (abs_new && (r = may_apply(rx, BF_INCLASS_MOUSE, now)) != 0) {
    if (r > 0 && k->abs) k->abs(k->user, m->abs_x, m->abs_y, m->abs_w, m->abs_h);
    s->abs_x = m->abs_x;
    s->abs_y = m->abs_y;
    s->abs_w = m->abs_w;
    s->abs_h = m->abs_h;
  }
  for (unsigned i = 0; i < m->n_pads; i++) {
    const bf_inpad *pd = &m->pads[i];
    bf_inpad *have = &s->pads[pd->slot];
    if (!memcmp(have->axis, pd->axis, sizeof pd->axis)) continue;
    if ((r = may_apply(rx, BF_INCLASS_GAMEPAD, now)) == 0) continue;
    memcpy(have->axis, pd->axis, sizeof pd->axis);
    if (r > 0 && k->pad_axes) k->pad_axes(k->user, pd->slot, pd->axis);
  }
}

int bf_inlink_rx_datagram(bf_inlink_rx *rx, const uint8_t *d, size_t len, uint64_t now,
                          uint64_t wall, const bf_inlink_sink *k) {
  bf_inmsg_input m;
  if (bf_inmsg_input_decode(d, len, &m) < 0) {
    rx->st.malformed++;
    return -EBADMSG;
  }
  rx->st.datagrams++;
  rx->last_heard_ns = now;
  if (bf_seq32_diff(m.rumble_ack, rx->rumble_acked) > 0 &&
      bf_seq32_diff(m.rumble_ack, rx->rumble_seq) <= 0)
    rx->rumble_acked = m.rumble_ack;
  int fresh = !rx->have_snap || bf_seq32_diff(m.snap_seq, rx->snap.snap_seq) > 0;
  if (fresh)
    take_pads(rx, m.pads_present, k);
  else
    rx->st.stale_snapshots++;
  int news = 0;
  if (m.n_events && bf_seq32_diff(m.first_seq, rx->ev_next) > 0) {
    rx->st.gaps++;
  } else {
    for (unsigned i = 0; i < m.n_events; i++) {
      uint32_t seq = m.first_seq + i;
      if (bf_seq32_diff(seq, rx->ev_next) < 0) {
        rx->st.repeats++;
        continue;
      }
      take_event(rx, &m, &m.ev[i], now, k);
      rx->ev_next++;
      news++;
    }
  }
  if (fresh) {
    take_rest(rx, &m, now, k);
    rx->snap.snap_seq = m.snap_seq;
    rx->have_snap = 1;
    rx->apply_wall_ns = wall;
    rx->st.snapshots++;
  }
  return news;
}

void bf_inlink_rx_end(bf_inlink_rx *rx, const bf_inlink_sink *k, uint64_t now) {
  bf_inlink_rx_release_all(rx, k, 0);
  for (unsigned p = 0; p < BF_INMSG_PADS; p++)
    if (rx->snap.pads_present >> p & 1u && k->pad && (rx->allow & BF_INCLASS_GAMEPAD))
      k->pad(k->user, p, 0);
  bf_inlink_rx_init(rx, rx->allow, now);
}

int bf_inlink_rx_holding(const bf_inlink_rx *rx) {
  return holding(rx->held_keys, rx->held_buttons, rx->held_pad, &rx->snap);
}

int bf_inlink_rx_tick(bf_inlink_rx *rx, uint64_t now, const bf_inlink_sink *k) {
  if (now < bf_inlink_rx_deadline(rx)) return 0;
  return bf_inlink_rx_release_all(rx, k, 1);
}

uint64_t bf_inlink_rx_deadline(const bf_inlink_rx *rx) {
  if (!bf_inlink_rx_holding(rx)) return UINT64_MAX;
  return rx->last_heard_ns + BF_INLINK_SILENCE_NS;
}

void bf_inlink_rx_stamp(bf_inlink_rx *rx, uint64_t pts_ns) {
  bf_instamp *s = &rx->stamps[rx->stamp_next];
  s->pts_ns = pts_ns;
  s->ev_seq = rx->ev_next - 1;
  s->snap_seq = rx->snap.snap_seq;
  rx->stamp_next = (rx->stamp_next + 1) % BF_INLINK_STAMPS;
  if (rx->n_stamps < BF_INLINK_STAMPS) rx->n_stamps++;
}

void bf_inlink_rx_set_rumble(bf_inlink_rx *rx, unsigned slot, uint16_t low, uint16_t high) {
  if (slot >= BF_INMSG_PADS || (rx->rumble[slot][0] == low && rx->rumble[slot][1] == high)) return;
  rx->rumble[slot][0] = low;
  rx->rumble[slot][1] = high;
  rx->rumble_seq++;
}

int bf_inlink_rx_state(const bf_inlink_rx *rx, uint16_t flags, uint8_t *out, size_t cap) {
  bf_inmsg_state m;
  memset(&m, 0, sizeof m);
  m.flags = flags;
  m.ev_ack = rx->ev_next - 1;
  m.snap_ack = rx->snap.snap_seq;
  m.apply_ns = rx->have_snap ? rx->apply_wall_ns : 0;
  m.rumble_seq = rx->rumble_seq;
  int any = 0;
  for (unsigned p = 0; p < BF_INMSG_PADS; p++)
    any |= rx->rumble[p][0] || rx->rumble[p][1];
  if (any || rx->rumble_acked != rx->rumble_seq) { /* the whole state, every slot */
    m.n_rumble = BF_INMSG_PADS;
    for (unsigned p = 0; p < BF_INMSG_PADS; p++)
      m.rumble[p] = (bf_inrumble){(uint8_t)p, rx->rumble[p][0], rx->rumble[p][1]};
  }
  uint32_t n = rx->n_stamps < BF_INLINK_STAMPS_SENT ? rx->n_stamps : BF_INLINK_STAMPS_SENT;
  for (uint32_t i = 0; i < n; i++) /* newest first */
    m.stamps[i] = rx->stamps[(rx->stamp_next + BF_INLINK_STAMPS - 1 - i) % BF_INLINK_STAMPS];
  m.n_stamps = (uint8_t)n;
  return bf_inmsg_state_encode(&m, out, cap);
}
