/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The input link (inputlink.h), both ends driven with time passed in: events
 * arrive exactly once and in order through loss, reordering and lost
 * acknowledgements; motion and wheel totals sum right; a click lands where
 * it was made when later motion overtakes it; the ring's bounds; the
 * sender's gap, repeat, class filter, rate limit, silence release, pads
 * and rumble; picture stamps.
 */
#include "testutil.h"

#include <bildfunk/inputlink.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MS 1000000ull

/* What the sink saw, in order. */
typedef struct rec {
  char kind; /* k key, b button, m motion, a abs, w wheel, p pad, q pad button, x axes */
  int32_t a, b, c, d;
} rec;

typedef struct log_ {
  rec r[8192];
  size_t n;
  int32_t mx, my, wv, wh; /* motion and wheel sums */
  int32_t ax, ay;         /* the last absolute position */
} log_;

static void add(log_ *l, char k, int32_t a, int32_t b, int32_t c, int32_t d) {
  if (l->n < sizeof l->r / sizeof l->r[0]) l->r[l->n++] = (rec){k, a, b, c, d};
}
static void s_key(void *u, uint16_t usage, int down) {
  add(u, 'k', usage, down, 0, 0);
}
static void s_button(void *u, uint8_t b, int down) {
  log_ *l = u;
  add(l, 'b', b, down, l->ax, l->ay);
}
static void s_motion(void *u, int32_t dx, int32_t dy) {
  log_ *l = u;
  l->mx += dx;
  l->my += dy;
  add(l, 'm', dx, dy, 0, 0);
}
static void s_abs(void *u, uint16_t x, uint16_t y, uint16_t w, uint16_t h) {
  log_ *l = u;
  l->ax = x;
  l->ay = y;
  add(l, 'a', x, y, w, h);
}
static void s_wheel(void *u, int32_t v, int32_t h) {
  log_ *l = u;
  l->wv += v;
  l->wh += h;
  add(l, 'w', v, h, 0, 0);
}
static void s_pad(void *u, unsigned slot, int on) {
  add(u, 'p', (int32_t)slot, on, 0, 0);
}
static void s_padb(void *u, unsigned slot, uint8_t b, int down) {
  add(u, 'q', (int32_t)slot, b, down, 0);
}
static void s_axes(void *u, unsigned slot, const int16_t *ax) {
  add(u, 'x', (int32_t)slot, ax[0], ax[4], ax[5]);
}

static bf_inlink_sink sink_of(log_ *l) {
  bf_inlink_sink k = {l, s_key, s_button, s_motion, s_abs, s_wheel, s_pad, s_padb, s_axes};
  return k;
}

static int64_t ev(bf_inlink_tx *tx, uint8_t kind, uint8_t arg, uint16_t code) {
  bf_inev e = {kind, arg, code, 0, 0};
  return bf_inlink_tx_event(tx, &e);
}

/* One exchange without loss: whatever is due goes over, the STATE comes back. */
static int pump(bf_inlink_tx *tx, bf_inlink_rx *rx, uint64_t now, const bf_inlink_sink *k) {
  uint8_t d[BF_INMSG_MAX_BYTES], s[256];
  bf_inlink_sent sent;
  int n = bf_inlink_tx_build(tx, now, d, sizeof d, &sent);
  if (n <= 0) return n;
  assert_true(bf_inlink_rx_datagram(rx, d, (size_t)n, now, now, k) >= 0);
  int m = bf_inlink_rx_state(rx, BF_INSTATE_APPLYING, s, sizeof s);
  assert_true(m > 0);
  bf_inmsg_state st;
  assert_int_equal(bf_inmsg_state_decode(s, (size_t)m, &st), 0);
  bf_inlink_tx_on_state(tx, &st, now);
  return n;
}

static void test_basic(void **state) {
  (void)state;
  bf_inlink_tx tx;
  bf_inlink_rx rx;
  log_ *l = calloc(1, sizeof *l);
  bf_inlink_sink k = sink_of(l);
  bf_inlink_tx_init(&tx);
  memset(&rx, 0, sizeof rx);
  bf_inlink_rx_init(&rx, BF_INCLASS_ALL, 0);
  assert_int_equal(bf_inlink_tx_due(&tx), UINT64_MAX);
  assert_int_equal(ev(&tx, BF_INEV_KEY_DOWN, BF_HID_MOD_LSHIFT, 0xE1), 1);
  assert_int_equal(ev(&tx, BF_INEV_KEY_DOWN, BF_HID_MOD_LSHIFT, 0x04), 2);
  assert_int_equal(bf_inlink_tx_due(&tx), 0);
  assert_true(pump(&tx, &rx, 1 * MS, &k) > 0);
  assert_int_equal(tx.n, 0); /* acknowledged */
  assert_int_equal(l->n, 2);
  assert_int_equal(l->r[0].kind, 'k');
  assert_int_equal(l->r[0].a, 0xE1);
  assert_int_equal(l->r[1].a, 0x04);
  assert_int_equal(l->r[1].b, 1);
  assert_true(bf_inlink_tx_holding(&tx));
  /* held: a keepalive every 250 ms, the sender keeps it */
  assert_int_equal(bf_inlink_tx_due(&tx), 1 * MS + BF_INLINK_KEEPALIVE_NS);
  assert_int_equal(pump(&tx, &rx, 100 * MS, &k), 0);
  assert_true(pump(&tx, &rx, 251 * MS, &k) > 0);
  assert_int_equal(tx.st.keepalives, 1);
  assert_int_equal(bf_inlink_rx_tick(&rx, 1200 * MS, &k), 0);
  /* silence: everything released after 1 s */
  assert_int_equal(bf_inlink_rx_deadline(&rx), 1251 * MS);
  assert_int_equal(bf_inlink_rx_tick(&rx, 1251 * MS, &k), 1);
  assert_int_equal(l->n, 4);
  assert_int_equal(l->r[2].b, 0);
  assert_int_equal(l->r[3].b, 0);
  assert_int_equal(rx.st.silence_releases, 1);
  assert_false(bf_inlink_rx_holding(&rx));
  /* the stray releases that follow change nothing */
  assert_true(ev(&tx, BF_INEV_KEY_UP, 0, 0x04) > 0);
  assert_true(ev(&tx, BF_INEV_KEY_UP, 0, 0xE1) > 0);
  assert_true(pump(&tx, &rx, 1300 * MS, &k) > 0);
  assert_int_equal(l->n, 4);
  assert_int_equal(rx.st.events, 4);
  assert_int_equal(tx.n, 0);
  assert_false(bf_inlink_tx_holding(&tx));
  free(l);
}

/* A new session (--reconnect): the sender's receiver starts at event 1;
 * the client's link follows it, giving up what the old session never
 * acknowledged, so the next event is taken, not counted as a gap. */
static void test_new_session(void **state) {
  (void)state;
  bf_inlink_tx tx;
  bf_inlink_rx rx;
  log_ *l = calloc(1, sizeof *l);
  bf_inlink_sink k = sink_of(l);
  bf_inlink_tx_init(&tx);
  memset(&rx, 0, sizeof rx);
  bf_inlink_rx_init(&rx, BF_INCLASS_ALL, 0);
  assert_int_equal(ev(&tx, BF_INEV_KEY_DOWN, 0, 0x04), 1);
  assert_int_equal(ev(&tx, BF_INEV_KEY_UP, 0, 0x04), 2);
  assert_true(pump(&tx, &rx, 1 * MS, &k) > 0);
  assert_int_equal(ev(&tx, BF_INEV_KEY_DOWN, 0, 0x05), 3); /* typed into a frozen stream */
  uint64_t sent = tx.st.datagrams;
  bf_inlink_rx_init(&rx, BF_INCLASS_ALL, 2 * MS); /* the sender's new session */
  bf_inlink_tx_new_session(&tx);
  assert_int_equal(tx.n, 0);
  assert_int_equal(tx.st.events_dropped, 1);
  assert_int_equal(tx.st.datagrams, sent); /* the counters carry over */
  assert_int_equal(ev(&tx, BF_INEV_KEY_DOWN, 0, 0x06), 1);
  assert_true(pump(&tx, &rx, 3 * MS, &k) > 0);
  assert_int_equal(rx.st.gaps, 0);
  assert_int_equal(l->n, 3);
  assert_int_equal(l->r[2].a, 0x06);
  assert_int_equal(tx.n, 0); /* acknowledged by the new session */
  free(l);
}

/* A lossy, reordering link in both directions: 500 key events (random
 * presses and releases) arrive exactly once and in order; the motion and
 * wheel totals arrive exactly. */
static void test_loss(void **state) {
  (void)state;
  bf_test_rng rng;
  bf_test_rng_seed(&rng, 500);
  bf_inlink_tx tx;
  bf_inlink_rx rx;
  log_ *l = calloc(1, sizeof *l);
  bf_inlink_sink k = sink_of(l);
  bf_inlink_tx_init(&tx);
  memset(&rx, 0, sizeof rx);
  bf_inlink_rx_init(&rx, BF_INCLASS_ALL, 0);
  rx.rate = 1000000; /* not this test's subject */
  bf_inlink_rx_init(&rx, BF_INCLASS_ALL, 0);
  /* in flight: up to 64 datagrams each way, each with an arrival time */
  struct fl {
    uint8_t d[BF_INMSG_MAX_BYTES];
    size_t n;
    uint64_t at;
  } *up = calloc(64, sizeof *up), *down = calloc(64, sizeof *down);
  size_t nup = 0, ndown = 0;
  uint16_t want[600];
  int wantd[600];
  size_t nwant = 0;
  int held[8] = {0};
  int32_t mx = 0, my = 0, wv = 0;
  uint64_t now = 0;
  for (int step = 0; step < 20000 && (nwant < 500 || tx.n || nup || ndown); step++) {
    now += 100000; /* 0.1 ms */
    if (nwant < 500 && bf_test_rng_below(&rng, 20) == 0) {
      unsigned key = bf_test_rng_below(&rng, 8);
      held[key] ^= 1;
      want[nwant] = (uint16_t)(4 + key);
      wantd[nwant++] = held[key];
      assert_true(ev(&tx, held[key] ? BF_INEV_KEY_DOWN : BF_INEV_KEY_UP, 0, (uint16_t)(4 + key)) >
                  0);
    }
    if (nwant < 500 && bf_test_rng_below(&rng, 5) == 0) {
      int32_t dx = (int32_t)bf_test_rng_below(&rng, 21) - 10,
              dy = (int32_t)bf_test_rng_below(&rng, 7);
      bf_inlink_tx_motion(&tx, dx, dy, now);
      bf_inlink_tx_wheel(&tx, 120, 0, now);
      mx += dx, my += dy, wv += 120;
    }
    uint8_t b[BF_INMSG_MAX_BYTES];
    bf_inlink_sent sent;
    int n = bf_inlink_tx_build(&tx, now, b, sizeof b, &sent);
    if (n > 0 && bf_test_rng_below(&rng, 10) != 0 && nup < 64) { /* 10 % lost */
      memcpy(up[nup].d, b, (size_t)n);
      up[nup].n = (size_t)n;
      up[nup++].at = now + (1 + bf_test_rng_below(&rng, 40)) * 100000; /* 0.1..4 ms: reorders */
    }
    for (size_t i = 0; i < nup;) {
      if (up[i].at > now) {
        i++;
        continue;
      }
      assert_true(bf_inlink_rx_datagram(&rx, up[i].d, up[i].n, now, now, &k) >= 0);
      up[i] = up[--nup];
      uint8_t s[256];
      int m = bf_inlink_rx_state(&rx, 1, s, sizeof s);
      if (bf_test_rng_below(&rng, 10) != 0 && ndown < 64) {
        memcpy(down[ndown].d, s, (size_t)m);
        down[ndown].n = (size_t)m;
        down[ndown++].at = now + (1 + bf_test_rng_below(&rng, 40)) * 100000;
      }
    }
    for (size_t i = 0; i < ndown;) {
      if (down[i].at > now) {
        i++;
        continue;
      }
      bf_inmsg_state st;
      assert_int_equal(bf_inmsg_state_decode(down[i].d, down[i].n, &st), 0);
      bf_inlink_tx_on_state(&tx, &st, now);
      down[i] = down[--ndown];
    }
  }
  size_t got = 0;
  for (size_t i = 0; i < l->n; i++) {
    if (l->r[i].kind != 'k') continue;
    assert_true(got < nwant);
    assert_int_equal(l->r[i].a, want[got]);
    assert_int_equal(l->r[i].b, wantd[got]);
    got++;
  }
  assert_int_equal(got, 500);
  assert_int_equal(rx.st.events, 500);
  assert_int_equal(l->mx, mx);
  assert_int_equal(l->my, my);
  assert_int_equal(l->wv, wv);
  assert_true(rx.st.repeats > 0);         /* the loss made the client repeat */
  assert_true(rx.st.stale_snapshots > 0); /* and reordering made old snapshots come late */
  assert_int_equal(tx.st.bad_acks, 0);
  assert_true(tx.srtt_ns > 0);
  free(up);
  free(down);
  free(l);
}

/* A click whose first datagram was lost, carried by one whose snapshot has
 * motion made after it, still lands where it was made. */
static void test_click_position(void **state) {
  (void)state;
  bf_inlink_tx tx;
  bf_inlink_rx rx;
  log_ *l = calloc(1, sizeof *l);
  bf_inlink_sink k = sink_of(l);
  bf_inlink_tx_init(&tx);
  memset(&rx, 0, sizeof rx);
  bf_inlink_rx_init(&rx, BF_INCLASS_ALL, 0);
  uint8_t b[BF_INMSG_MAX_BYTES];
  bf_inlink_sent sent;
  /* absolute */
  bf_inlink_tx_abs(&tx, 100, 50, 640, 360, 0);
  assert_int_equal(ev(&tx, BF_INEV_BUTTON_DOWN, 0, 1), 1);
  assert_true(bf_inlink_tx_build(&tx, 0, b, sizeof b, &sent) > 0); /* lost */
  bf_inlink_tx_abs(&tx, 300, 200, 640, 360, 2 * MS);
  int n = bf_inlink_tx_build(&tx, 2 * MS, b, sizeof b, &sent);
  assert_true(n > 0);
  assert_int_equal(bf_inlink_rx_datagram(&rx, b, (size_t)n, 2 * MS, 0, &k), 1);
  /* abs 100,50, then the press there, then the pointer at 300,200 */
  assert_int_equal(l->n, 3);
  assert_int_equal(l->r[0].kind, 'a');
  assert_int_equal(l->r[1].kind, 'b');
  assert_int_equal(l->r[1].c, 100);
  assert_int_equal(l->r[1].d, 50);
  assert_int_equal(l->r[2].a, 300);
  /* relative */
  bf_inlink_tx_abs(&tx, 0, 0, 0, 0, 3 * MS);
  bf_inlink_tx_motion(&tx, 10, -4, 3 * MS);
  assert_true(ev(&tx, BF_INEV_BUTTON_UP, 0, 1) > 0);
  assert_true(bf_inlink_tx_build(&tx, 3 * MS, b, sizeof b, &sent) > 0); /* lost */
  bf_inlink_tx_motion(&tx, 5, 5, 4 * MS);
  n = bf_inlink_tx_build(&tx, 40 * MS, b, sizeof b, &sent);
  assert_true(n > 0);
  size_t before = l->n;
  assert_int_equal(bf_inlink_rx_datagram(&rx, b, (size_t)n, 40 * MS, 0, &k), 1);
  assert_int_equal(l->n, before + 3);
  assert_int_equal(l->r[before].kind, 'm');
  assert_int_equal(l->r[before].a, 10);
  assert_int_equal(l->r[before].b, -4);
  assert_int_equal(l->r[before + 1].kind, 'b');
  assert_int_equal(l->r[before + 2].a, 5);
  assert_int_equal(l->mx, 15);
  assert_int_equal(l->my, 1);
  free(l);
}

/* The ring: presses stop at BF_INLINK_PRESS_ROOM (their releases are
 * dropped too), releases fill the rest, a release that finds it full
 * becomes "release everything" once there is room; a datagram carries at
 * most BF_INMSG_MAX_EVENTS. */
static void test_ring(void **state) {
  (void)state;
  bf_inlink_tx tx;
  bf_inlink_tx_init(&tx);
  for (unsigned i = 0; i < BF_INLINK_PRESS_ROOM; i++)
    assert_true(ev(&tx, BF_INEV_KEY_DOWN, 0, (uint16_t)(i % 200)) > 0);
  assert_int_equal(ev(&tx, BF_INEV_KEY_DOWN, 0, 250), 0); /* no room for a press */
  assert_int_equal(ev(&tx, BF_INEV_KEY_UP, 0, 250), 0);   /* nor for its release */
  assert_int_equal(tx.st.events_dropped, 2);
  for (unsigned i = BF_INLINK_PRESS_ROOM; i < BF_INLINK_QUEUE; i++)
    assert_true(ev(&tx, BF_INEV_KEY_UP, 0, (uint16_t)(i % 200)) > 0);
  assert_int_equal(ev(&tx, BF_INEV_KEY_UP, 0, 3), 0); /* full */
  assert_int_equal(tx.release_owed, 1);
  uint8_t b[BF_INMSG_MAX_BYTES];
  bf_inlink_sent sent;
  int n = bf_inlink_tx_build(&tx, 0, b, sizeof b, &sent);
  assert_int_equal(n, (int)BF_INMSG_MAX_BYTES - 4 * 13); /* no pads */
  assert_int_equal(sent.n_events, BF_INMSG_MAX_EVENTS);
  assert_int_equal(bf_inlink_tx_build(&tx, 1 * MS, b, sizeof b, &sent), 0); /* rto */
  /* the sender took the first 10 */
  bf_inmsg_state st;
  memset(&st, 0, sizeof st);
  st.ev_ack = 10;
  bf_inlink_tx_on_state(&tx, &st, 2 * MS);
  assert_int_equal(tx.n, BF_INLINK_QUEUE - 10 + 1);
  assert_int_equal(tx.release_owed, 0);
  assert_int_equal(tx.q[(tx.head + tx.n - 1) % BF_INLINK_QUEUE].kind, BF_INEV_RELEASE_ALL);
  assert_false(bf_inlink_tx_holding(&tx));
  /* an acknowledgement of something never sent is ignored */
  st.ev_ack = 200;
  bf_inlink_tx_on_state(&tx, &st, 3 * MS);
  assert_int_equal(tx.st.bad_acks, 1);
  assert_int_equal(tx.first_seq, 11);
  /* as far ahead as a sequence difference goes (2^31 - 1: found by
   * fuzz_inputmsg as a signed overflow under UBSan) */
  st.ev_ack = tx.first_seq + 0x7fffffffu;
  bf_inlink_tx_on_state(&tx, &st, 4 * MS);
  assert_int_equal(tx.st.bad_acks, 2);
  assert_int_equal(tx.first_seq, 11);
}

static void test_rx_rules(void **state) {
  (void)state;
  log_ *l = calloc(1, sizeof *l);
  bf_inlink_sink k = sink_of(l);
  bf_inlink_rx rx;
  memset(&rx, 0, sizeof rx);
  bf_inlink_rx_init(&rx, BF_INCLASS_KEYBOARD | BF_INCLASS_GAMEPAD, 0);
  bf_inmsg_input m;
  memset(&m, 0, sizeof m);
  uint8_t b[BF_INMSG_MAX_BYTES];
  /* a gap: events starting at 2 when 1 is next */
  m.snap_seq = 1;
  m.first_seq = 2;
  m.n_events = 1;
  m.ev[0] = (bf_inev){BF_INEV_KEY_DOWN, 0, 4, 0, 0};
  int n = bf_inmsg_input_encode(&m, b, sizeof b);
  assert_int_equal(bf_inlink_rx_datagram(&rx, b, (size_t)n, 0, 0, &k), 0);
  assert_int_equal(rx.st.gaps, 1);
  assert_int_equal(l->n, 0);
  /* the mouse is not allowed: taken (acknowledged), not applied */
  m.snap_seq = 2;
  m.first_seq = 1;
  m.n_events = 2;
  m.rel_x = 50;
  m.ev[0] = (bf_inev){BF_INEV_BUTTON_DOWN, BF_INEV_AT_REL, 1, 0, 0};
  m.ev[1] = (bf_inev){BF_INEV_KEY_DOWN, 0, 4, 0, 0};
  n = bf_inmsg_input_encode(&m, b, sizeof b);
  assert_int_equal(bf_inlink_rx_datagram(&rx, b, (size_t)n, 0, 0, &k), 2);
  assert_int_equal(l->n, 1);
  assert_int_equal(l->r[0].kind, 'k');
  assert_int_equal(rx.st.filtered, 2); /* the button and the motion */
  assert_int_equal(rx.ev_next, 3);
  /* a malformed datagram is counted */
  b[1] = 9;
  assert_int_equal(bf_inlink_rx_datagram(&rx, b, (size_t)n, 0, 0, &k), -EBADMSG);
  assert_int_equal(rx.st.malformed, 1);
  /* the rate limit: presses beyond the bucket are dropped, releases pass */
  bf_inlink_rx_init(&rx, BF_INCLASS_ALL, 0);
  l->n = 0;
  uint32_t seq = 1;
  for (unsigned round = 0; round < 40; round++) {
    memset(&m, 0, sizeof m);
    m.snap_seq = round + 1;
    m.first_seq = seq;
    m.n_events = 50;
    for (unsigned i = 0; i < 50; i++)
      m.ev[i] = (bf_inev){(uint8_t)(i % 2 ? BF_INEV_KEY_UP : BF_INEV_KEY_DOWN), 0,
                          (uint16_t)(4 + i / 2), 0, 0};
    seq += 50;
    n = bf_inmsg_input_encode(&m, b, sizeof b);
    assert_int_equal(bf_inlink_rx_datagram(&rx, b, (size_t)n, 1 * MS, 0, &k), 50);
  }
  /* 1000 presses in 1 ms: the bucket's burst went through, not a press more */
  assert_int_equal(rx.st.rate_dropped, 0);
  memset(&m, 0, sizeof m);
  m.snap_seq = 100;
  m.first_seq = seq;
  m.n_events = 2;
  m.ev[0] = (bf_inev){BF_INEV_KEY_DOWN, 0, 30, 0, 0};
  m.ev[1] = (bf_inev){BF_INEV_KEY_UP, 0, 30, 0, 0};
  n = bf_inmsg_input_encode(&m, b, sizeof b);
  assert_int_equal(bf_inlink_rx_datagram(&rx, b, (size_t)n, 1 * MS, 0, &k), 2);
  assert_int_equal(rx.st.rate_dropped, 1);
  assert_false(bf_inlink_rx_holding(&rx));
  size_t downs = 0, ups = 0;
  for (size_t i = 0; i < l->n; i++)
    l->r[i].b ? downs++ : ups++;
  assert_int_equal(downs, BF_INLINK_BURST);
  assert_int_equal(ups, BF_INLINK_BURST);
  /* 10 ms later 40 tokens more */
  m.snap_seq = 101;
  m.first_seq = seq + 2;
  n = bf_inmsg_input_encode(&m, b, sizeof b);
  assert_int_equal(bf_inlink_rx_datagram(&rx, b, (size_t)n, 11 * MS, 0, &k), 2);
  assert_int_equal(rx.st.rate_dropped, 1);
  free(l);
}

static void test_pads_and_rumble(void **state) {
  (void)state;
  log_ *l = calloc(1, sizeof *l);
  bf_inlink_sink k = sink_of(l);
  bf_inlink_tx tx;
  bf_inlink_rx rx;
  bf_inlink_tx_init(&tx);
  memset(&rx, 0, sizeof rx);
  bf_inlink_rx_init(&rx, BF_INCLASS_ALL, 0);
  bf_inlink_tx_pad(&tx, 1, 1, 0);
  bf_inlink_tx_pad_axis(&tx, 1, BF_AXIS_RT, 30000, 0);
  assert_true(ev(&tx, BF_INEV_PAD_DOWN, 1, BF_PAD_A) > 0);
  assert_true(pump(&tx, &rx, 0, &k) > 0);
  /* pad 1 came, its A went down, then its axes */
  assert_int_equal(l->n, 3);
  assert_int_equal(l->r[0].kind, 'p');
  assert_int_equal(l->r[0].a, 1);
  assert_int_equal(l->r[1].kind, 'q');
  assert_int_equal(l->r[2].kind, 'x');
  assert_int_equal(l->r[2].d, 30000);
  assert_true(bf_inlink_tx_holding(&tx));
  /* rumble: the whole state goes out until the client acknowledges it */
  bf_inlink_rx_set_rumble(&rx, 1, 0, 60000);
  uint8_t s[256];
  bf_inmsg_state st;
  int m = bf_inlink_rx_state(&rx, 0, s, sizeof s);
  assert_int_equal(bf_inmsg_state_decode(s, (size_t)m, &st), 0);
  assert_int_equal(st.n_rumble, 4);
  assert_int_equal(st.rumble[1].high, 60000);
  assert_int_equal(st.rumble_seq, 1);
  bf_inlink_tx_rumble_ack(&tx, st.rumble_seq);
  bf_inlink_rx_set_rumble(&rx, 1, 0, 0);
  /* a pad pulled out: its button released, axes centred, gone */
  bf_inlink_tx_pad(&tx, 1, 0, 5 * MS);
  assert_false(bf_inlink_tx_holding(&tx));
  assert_true(pump(&tx, &rx, 5 * MS, &k) > 0);
  assert_int_equal(l->n, 6);
  assert_int_equal(l->r[3].kind, 'q');
  assert_int_equal(l->r[3].c, 0);
  assert_int_equal(l->r[4].kind, 'x');
  assert_int_equal(l->r[4].d, 0);
  assert_int_equal(l->r[5].kind, 'p');
  assert_int_equal(l->r[5].b, 0);
  assert_false(bf_inlink_rx_holding(&rx));
  /* the client acknowledged seq 1, the sender is at 2 (all off): full state once more */
  m = bf_inlink_rx_state(&rx, 0, s, sizeof s);
  assert_int_equal(bf_inmsg_state_decode(s, (size_t)m, &st), 0);
  assert_int_equal(st.n_rumble, 4);
  assert_int_equal(st.rumble[1].high, 0);
  bf_inlink_tx_rumble_ack(&tx, st.rumble_seq);
  assert_true(pump(&tx, &rx, 300 * MS, &k) > 0 || 1);
  uint8_t d[BF_INMSG_MAX_BYTES];
  bf_inlink_sent sent;
  bf_inlink_tx_motion(&tx, 1, 1, 400 * MS);
  int n = bf_inlink_tx_build(&tx, 400 * MS, d, sizeof d, &sent);
  assert_true(n > 0);
  assert_true(bf_inlink_rx_datagram(&rx, d, (size_t)n, 400 * MS, 0, &k) >= 0);
  m = bf_inlink_rx_state(&rx, 0, s, sizeof s);
  assert_int_equal(bf_inmsg_state_decode(s, (size_t)m, &st), 0);
  assert_int_equal(st.n_rumble, 0); /* acknowledged and all off: nothing to say */
  free(l);
}

static void test_stamps(void **state) {
  (void)state;
  log_ *l = calloc(1, sizeof *l);
  bf_inlink_sink k = sink_of(l);
  bf_inlink_tx tx;
  bf_inlink_rx rx;
  bf_inlink_tx_init(&tx);
  memset(&rx, 0, sizeof rx);
  bf_inlink_rx_init(&rx, BF_INCLASS_ALL, 0);
  bf_inlink_rx_stamp(&rx, 1000);
  assert_true(ev(&tx, BF_INEV_KEY_DOWN, 0, 4) > 0);
  bf_inlink_tx_motion(&tx, 3, 3, 0);
  assert_true(pump(&tx, &rx, 1 * MS, &k) > 0);
  for (uint64_t p = 2000; p <= 7000; p += 1000)
    bf_inlink_rx_stamp(&rx, p);
  uint8_t s[256];
  bf_inmsg_state st;
  int m = bf_inlink_rx_state(&rx, 0, s, sizeof s);
  assert_int_equal(bf_inmsg_state_decode(s, (size_t)m, &st), 0);
  assert_int_equal(st.n_stamps, BF_INLINK_STAMPS_SENT);
  assert_int_equal(st.stamps[0].pts_ns, 7000); /* newest first */
  assert_int_equal(st.stamps[0].ev_seq, 1);
  assert_int_equal(st.stamps[0].snap_seq, 1);
  assert_int_equal(st.stamps[3].pts_ns, 4000);
  assert_int_equal(st.ev_ack, 1);
  assert_int_equal(st.snap_ack, 1);
  /* a new session starts afresh; the counters carry over */
  bf_inlink_rx_end(&rx, &k, 10 * MS);
  assert_int_equal(rx.ev_next, 1);
  assert_int_equal(rx.n_stamps, 0);
  assert_int_equal(rx.st.events, 1);
  assert_int_equal(l->r[l->n - 1].b, 0); /* the key released */
  free(l);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_basic),          cmocka_unit_test(test_loss),
      cmocka_unit_test(test_click_position), cmocka_unit_test(test_ring),
      cmocka_unit_test(test_rx_rules),       cmocka_unit_test(test_pads_and_rumble),
      cmocka_unit_test(test_stamps),         cmocka_unit_test(test_new_session),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
