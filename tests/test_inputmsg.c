/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Input datagrams (inputmsg.h): the byte layout of both types pinned field
 * by field, round trips at the bounds, every rejection rule, trailing bytes
 * accepted, and random bytes never accepted as something that re-encodes
 * differently.
 */
#include "testutil.h"

#include <bildfunk/channel.h>
#include <bildfunk/inputmsg.h>

#include <errno.h>
#include <string.h>

static void fill_input(bf_inmsg_input *m) {
  memset(m, 0, sizeof *m);
  m->pads_present = 0x5; /* slots 0 and 2 */
  m->snap_seq = 0x01020304;
  m->rumble_ack = 7;
  m->rel_x = -5;
  m->rel_y = 0x7fffffff;
  m->wheel_v = -120;
  m->wheel_h = 240;
  m->abs_x = 1919;
  m->abs_y = 0;
  m->abs_w = 1920;
  m->abs_h = 1080;
  m->first_seq = 0xfffffffe;
  m->n_pads = 2;
  m->pads[0].slot = 2;
  m->pads[0].axis[0] = -32768;
  m->pads[0].axis[5] = 32767;
  m->pads[1].slot = 0;
  m->n_events = 3;
  m->ev[0] = (bf_inev){BF_INEV_KEY_DOWN, BF_HID_MOD_LSHIFT, 0x04, 0, 0};
  m->ev[1] = (bf_inev){BF_INEV_BUTTON_UP, BF_INEV_AT_ABS, 3, 100, 200};
  m->ev[2] = (bf_inev){BF_INEV_PAD_DOWN, 2, BF_PAD_A, 0, 0};
}

static void test_input_layout(void **state) {
  (void)state;
  bf_inmsg_input m, out;
  fill_input(&m);
  uint8_t b[BF_INMSG_MAX_BYTES];
  int n = bf_inmsg_input_encode(&m, b, sizeof b);
  assert_int_equal(n, 42 + 2 * 13 + 3 * 8);
  static const uint8_t head[42] = {0xB0, 1,    0,    0x05, 0x04, 0x03, 0x02, 0x01, 7,    0,    0,
                                   0,    0xfb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x88, 0xff,
                                   0xff, 0xff, 0xf0, 0,    0,    0,    0x7f, 0x07, 0,    0,    0x80,
                                   0x07, 0x38, 0x04, 0xfe, 0xff, 0xff, 0xff, 2,    3};
  assert_memory_equal(b, head, sizeof head);
  static const uint8_t pad0[13] = {2, 0, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0x7f};
  assert_memory_equal(b + 42, pad0, sizeof pad0);
  static const uint8_t ev1[8] = {BF_INEV_BUTTON_UP, BF_INEV_AT_ABS, 3, 0, 100, 0, 200, 0};
  assert_memory_equal(b + 42 + 26 + 8, ev1, sizeof ev1);
  assert_int_equal(bf_inmsg_type(b, (size_t)n), BF_INMSG_INPUT);
  assert_int_equal(bf_dgram_classify(b, (size_t)n), BF_DKIND_INPUT);
  assert_int_equal(bf_inmsg_input_decode(b, (size_t)n, &out), 0);
  assert_int_equal(out.snap_seq, m.snap_seq);
  assert_int_equal(out.rel_y, m.rel_y);
  assert_int_equal(out.wheel_v, -120);
  assert_int_equal(out.pads[0].axis[0], -32768);
  assert_memory_equal(out.ev, m.ev, 3 * sizeof m.ev[0]);
  /* one byte short fails, trailing bytes are fine */
  assert_int_equal(bf_inmsg_input_decode(b, (size_t)n - 1, &out), -EBADMSG);
  assert_int_equal(bf_inmsg_input_decode(b, (size_t)n + 9, &out), 0);
  assert_int_equal(bf_inmsg_input_encode(&m, b, (size_t)n - 1), -ENOSPC);
}

static void test_input_bounds(void **state) {
  (void)state;
  bf_inmsg_input m, out;
  memset(&m, 0, sizeof m);
  m.pads_present = 0xf;
  m.n_pads = 4;
  for (unsigned i = 0; i < 4; i++)
    m.pads[i].slot = (uint8_t)(3 - i);
  m.n_events = BF_INMSG_MAX_EVENTS;
  for (unsigned i = 0; i < m.n_events; i++)
    m.ev[i] = (bf_inev){BF_INEV_KEY_UP, 0, (uint16_t)(i + 4), 0, 0};
  uint8_t b[BF_INMSG_MAX_BYTES + 8];
  int n = bf_inmsg_input_encode(&m, b, sizeof b);
  assert_int_equal(n, (int)BF_INMSG_MAX_BYTES);
  assert_true(n < (int)BF_CHANNEL_VIDEO_MIN);
  assert_int_equal(bf_inmsg_input_decode(b, (size_t)n, &out), 0);
  assert_int_equal(out.n_events, BF_INMSG_MAX_EVENTS);
  /* one event too many */
  m.n_events = BF_INMSG_MAX_EVENTS + 1;
  assert_int_equal(bf_inmsg_input_encode(&m, b, sizeof b), -EINVAL);
  b[41] = BF_INMSG_MAX_EVENTS + 1;
  assert_int_equal(bf_inmsg_input_decode(b, sizeof b, &out), -EBADMSG);
}

/* Encodes |m|, breaks byte |at| to |v|, expects the decoder to refuse. */
static void refuse(const bf_inmsg_input *m, size_t at, uint8_t v) {
  uint8_t b[BF_INMSG_MAX_BYTES];
  int n = bf_inmsg_input_encode(m, b, sizeof b);
  assert_true(n > 0);
  b[at] = v;
  bf_inmsg_input out;
  assert_int_equal(bf_inmsg_input_decode(b, (size_t)n, &out), -EBADMSG);
}

static void test_input_rejects(void **state) {
  (void)state;
  bf_inmsg_input m;
  fill_input(&m);
  refuse(&m, 0, 0xB1);           /* magic */
  refuse(&m, 1, 3);              /* type */
  refuse(&m, 3, 0x15);           /* a pad slot above 3 */
  refuse(&m, 3, 0x04);           /* axes of pad 0, which is absent */
  refuse(&m, 40, 5);             /* more pads than slots */
  refuse(&m, 42, 4);             /* slot 4 */
  refuse(&m, 42 + 13, 2);        /* slot 2 twice */
  refuse(&m, 42 + 26, 0);        /* event kind 0 */
  refuse(&m, 42 + 26, 8);        /* event kind 8 */
  refuse(&m, 42 + 26 + 3, 1);    /* key usage 0x104 */
  refuse(&m, 42 + 26 + 4, 1);    /* a position on a key event */
  refuse(&m, 42 + 34 + 2, 6);    /* mouse button 6 */
  refuse(&m, 42 + 34 + 2, 0);    /* mouse button 0 */
  refuse(&m, 42 + 34 + 1, 3);    /* both positions */
  refuse(&m, 42 + 34 + 5, 0x08); /* x 2148 outside 1920 */
  refuse(&m, 42 + 42 + 1, 4);    /* pad slot 4 on a pad event */
  refuse(&m, 42 + 42 + 2, 32);   /* pad button 32 */
  refuse(&m, 33, 0);             /* abs x 1919 >= width 128 */
  refuse(&m, 29, 0x08);          /* abs x 2175 >= 1920 */
  fill_input(&m);
  m.abs_w = m.abs_h = m.abs_x = 0; /* no absolute position: the button's is bad */
  uint8_t b[BF_INMSG_MAX_BYTES];
  assert_int_equal(bf_inmsg_input_encode(&m, b, sizeof b), -EINVAL);
  m.ev[1].arg = BF_INEV_AT_REL;
  assert_true(bf_inmsg_input_encode(&m, b, sizeof b) > 0);
}

static void test_state_layout(void **state) {
  (void)state;
  bf_inmsg_state m, out;
  memset(&m, 0, sizeof m);
  m.flags = BF_INSTATE_APPLYING | BF_INSTATE_GAMEPAD;
  m.ev_ack = 0x11223344;
  m.snap_ack = 5;
  m.apply_ns = 0x0102030405060708ull;
  m.rumble_seq = 9;
  m.n_rumble = 1;
  m.rumble[0] = (bf_inrumble){3, 0x1234, 0xffff};
  m.n_stamps = 2;
  m.stamps[0] = (bf_instamp){0xaabbccddeeff0011ull, 77, 78};
  m.stamps[1] = (bf_instamp){1, 0, 0};
  uint8_t b[256];
  int n = bf_inmsg_state_encode(&m, b, sizeof b);
  assert_int_equal(n, 28 + 5 + 32);
  static const uint8_t head[28] = {0xB0, 2, 0x09, 0, 0x44, 0x33, 0x22, 0x11, 5, 0, 0, 0, 8, 7,
                                   6,    5, 4,    3, 2,    1,    9,    0,    0, 0, 1, 2, 0, 0};
  assert_memory_equal(b, head, sizeof head);
  static const uint8_t rum[5] = {3, 0x34, 0x12, 0xff, 0xff};
  assert_memory_equal(b + 28, rum, sizeof rum);
  assert_int_equal(bf_inmsg_type(b, (size_t)n), BF_INMSG_STATE);
  assert_int_equal(bf_inmsg_state_decode(b, (size_t)n, &out), 0);
  assert_int_equal(out.ev_ack, m.ev_ack);
  assert_int_equal(out.apply_ns, m.apply_ns);
  assert_int_equal(out.stamps[0].pts_ns, m.stamps[0].pts_ns);
  assert_int_equal(out.stamps[0].snap_seq, 78);
  assert_int_equal(bf_inmsg_state_decode(b, (size_t)n - 1, &out), -EBADMSG);
  /* an input decoder refuses a state and the other way round */
  bf_inmsg_input in;
  assert_int_equal(bf_inmsg_input_decode(b, (size_t)n, &in), -EBADMSG);
  b[28] = 4; /* rumble slot 4 */
  assert_int_equal(bf_inmsg_state_decode(b, (size_t)n, &out), -EBADMSG);
  b[28] = 3;
  b[25] = BF_INMSG_MAX_STAMPS + 1;
  assert_int_equal(bf_inmsg_state_decode(b, sizeof b, &out), -EBADMSG);
}

/* Random bytes: whatever decodes re-encodes to a datagram that decodes to
 * the same thing. */
static void test_random(void **state) {
  (void)state;
  bf_test_rng rng;
  bf_test_rng_seed(&rng, 13);
  uint8_t b[600], e[600];
  unsigned accepted = 0;
  for (int i = 0; i < 200000; i++) {
    size_t len = bf_test_rng_below(&rng, 120);
    bf_test_rng_fill(&rng, b, len);
    if (len >= 2) {
      b[0] = 0xB0;
      b[1] = (uint8_t)(1 + bf_test_rng_below(&rng, 2));
    }
    if (len > 41 && b[1] == 1) {
      b[40] = (uint8_t)bf_test_rng_below(&rng, 2);
      b[41] = (uint8_t)bf_test_rng_below(&rng, 3);
    }
    if (len > 25 && b[1] == 2) {
      b[24] = (uint8_t)bf_test_rng_below(&rng, 2);
      b[25] = (uint8_t)bf_test_rng_below(&rng, 3);
    }
    bf_inmsg_input a, c;
    bf_inmsg_state s, t;
    if (bf_inmsg_input_decode(b, len, &a) == 0) {
      accepted++;
      int n = bf_inmsg_input_encode(&a, e, sizeof e);
      assert_true(n > 0 && (size_t)n <= len);
      assert_int_equal(bf_inmsg_input_decode(e, (size_t)n, &c), 0);
      assert_int_equal(c.snap_seq, a.snap_seq);
      assert_memory_equal(c.ev, a.ev, a.n_events * sizeof a.ev[0]);
    }
    if (bf_inmsg_state_decode(b, len, &s) == 0) {
      accepted++;
      int n = bf_inmsg_state_encode(&s, e, sizeof e);
      assert_true(n > 0 && (size_t)n <= len);
      assert_int_equal(bf_inmsg_state_decode(e, (size_t)n, &t), 0);
      assert_int_equal(t.ev_ack, s.ev_ack);
    }
  }
  assert_true(accepted > 100); /* the loop reached the decoders' insides */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_input_layout),  cmocka_unit_test(test_input_bounds),
      cmocka_unit_test(test_input_rejects), cmocka_unit_test(test_state_layout),
      cmocka_unit_test(test_random),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
