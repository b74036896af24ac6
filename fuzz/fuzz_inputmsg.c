/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * libFuzzer: arbitrary bytes into the input datagram decoders (inputmsg.h)
 * and both ends of the input link (inputlink.h): the sender's end takes them
 * as a client's INPUT datagrams (one byte of the input picks the time step,
 * so the rate limit and the silence release run too), the client's end as
 * the sender's STATE. What decodes must re-encode to a datagram that
 * decodes to the same; nothing may crash, hang or hold more than it was
 * given.
 */
#include <bildfunk/inputlink.h>

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned held;
static void key(void *u, uint16_t usage, int down) {
  (void)u;
  if (usage > 0xFF) abort();
  held += down ? 1u : 0u;
}
static void button(void *u, uint8_t b, int down) {
  (void)u, (void)down;
  if (b < 1 || b > 5) abort();
}
static void pad_button(void *u, unsigned slot, uint8_t b, int down) {
  (void)u, (void)down;
  if (slot >= BF_INMSG_PADS || b >= 32) abort();
}
static void abs_(void *u, uint16_t x, uint16_t y, uint16_t w, uint16_t h) {
  (void)u;
  if (x >= w || y >= h) abort();
}

static void roundtrip(const uint8_t *d, size_t n) {
  bf_inmsg_input a, b;
  bf_inmsg_state s, t;
  uint8_t out[600];
  if (bf_inmsg_input_decode(d, n, &a) == 0) {
    int m = bf_inmsg_input_encode(&a, out, sizeof out);
    if (m <= 0 || (size_t)m > n || bf_inmsg_input_decode(out, (size_t)m, &b) != 0) abort();
    if (b.snap_seq != a.snap_seq || b.n_events != a.n_events ||
        memcmp(b.ev, a.ev, a.n_events * sizeof a.ev[0]) != 0)
      abort();
  }
  if (bf_inmsg_state_decode(d, n, &s) == 0) {
    int m = bf_inmsg_state_encode(&s, out, sizeof out);
    if (m <= 0 || (size_t)m > n || bf_inmsg_state_decode(out, (size_t)m, &t) != 0) abort();
    if (t.ev_ack != s.ev_ack || t.n_stamps != s.n_stamps) abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static bf_inlink_rx rx;
  static bf_inlink_tx tx;
  static int ready;
  if (!ready) {
    bf_inlink_rx_init(&rx, BF_INCLASS_ALL, 0);
    bf_inlink_tx_init(&tx);
    ready = 1;
  }
  bf_inlink_sink k = {NULL, key, button, NULL, abs_, NULL, NULL, pad_button, NULL};
  roundtrip(data, size);
  uint64_t now = rx.last_heard_ns + (size ? (uint64_t)data[size - 1] * 10000000ull : 0);
  (void)bf_inlink_rx_datagram(&rx, data, size, now, now, &k);
  (void)bf_inlink_rx_tick(&rx, now, &k);
  bf_inlink_rx_stamp(&rx, now);
  uint8_t out[600];
  if (bf_inlink_rx_state(&rx, 1, out, sizeof out) <= 0) abort();
  bf_inmsg_state st;
  if (bf_inmsg_state_decode(data, size, &st) == 0) bf_inlink_tx_on_state(&tx, &st, now);
  if (tx.n > BF_INLINK_QUEUE) abort();
  if (size > 2) { /* the client's end takes an event and a step of time */
    bf_inev e = {(uint8_t)(data[0] % 8), (uint8_t)(data[1] % 5), data[2], 0, 0};
    (void)bf_inlink_tx_event(&tx, &e);
    bf_inlink_sent sent;
    int n = bf_inlink_tx_build(&tx, now, out, sizeof out, &sent);
    if (n > 0) {
      bf_inmsg_input m;
      if (bf_inmsg_input_decode(out, (size_t)n, &m) != 0) abort(); /* ours must be valid */
      if (bf_inlink_rx_datagram(&rx, out, (size_t)n, now, now, &k) < 0) abort();
    }
  }
  if (rx.st.events > rx.st.datagrams * BF_INMSG_MAX_EVENTS) abort();
  if (size == 1 && data[0] == 0xEE) bf_inlink_rx_end(&rx, &k, now);
  return 0;
}
