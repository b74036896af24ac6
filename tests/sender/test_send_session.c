/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The sender's direct-mode session, driven with hand-made datagrams and ns
 * times: adoption, re-targeting, one client at a time, --allow, feedback from
 * the client and from strangers, keyframe request ids and the throttle,
 * silence, BYE, garbage.
 */
#include "testutil.h"

#include "send_session.h"

#include <string.h>

#define MS 1000000ull
#define SEC 1000000000ull

static bf_addr addr(const char *s) {
  bf_addr a;
  assert_int_equal(bf_addr_parse(s, 0, &a), 0);
  return a;
}

static bf_ss_event punch(bf_send_session *s, const char *from, uint64_t now, bf_ss_result *r) {
  bf_addr a = addr(from);
  return bf_send_session_on_datagram(s, (const uint8_t *)"PFpunch1", 8, &a, now, r);
}

static bf_ss_event feedback(bf_send_session *s, const bf_feedback *fb, const char *from,
                            uint64_t now, bf_ss_result *r) {
  uint8_t b[BF_FB_MAX_BYTES];
  int n = bf_feedback_encode(fb, b, sizeof b);
  assert_true(n > 0);
  bf_addr a = addr(from);
  return bf_send_session_on_datagram(s, b, (size_t)n, &a, now, r);
}

static bf_feedback kf_request(uint32_t id) {
  bf_feedback f;
  memset(&f, 0, sizeof f);
  f.type = BF_FB_KEYFRAME_REQUEST;
  f.u.keyframe.request_id = id;
  return f;
}

static bf_feedback simple(bf_fb_type t) {
  bf_feedback f;
  memset(&f, 0, sizeof f);
  f.type = t;
  return f;
}

static bf_send_session fresh(void) {
  bf_send_session s;
  bf_send_session_config c;
  bf_send_session_config_default(&c);
  assert_int_equal(c.silence_ns, 10 * SEC);
  bf_send_session_init(&s, &c);
  return s;
}

static void test_adopt_and_retarget(void **state) {
  (void)state;
  bf_send_session s = fresh();
  bf_ss_result r;
  assert_false(s.streaming);
  assert_int_equal(bf_send_session_deadline(&s), UINT64_MAX);
  /* feedback before any punch is not from a client */
  bf_feedback ping = simple(BF_FB_CLOCK_PING);
  assert_int_equal(feedback(&s, &ping, "10.0.0.2:5000", 1, &r), BF_SS_NONE);
  assert_int_equal(s.stats.foreign, 1);
  assert_int_equal(punch(&s, "10.0.0.2:5000", 10, &r), BF_SS_ADOPT);
  assert_true(s.streaming);
  assert_true(bf_addr_equal(&s.peer, &r.old_peer) == 0);
  bf_addr want = addr("10.0.0.2:5000");
  assert_true(bf_addr_equal(&s.peer, &want));
  /* the first AU is a keyframe, unthrottled */
  assert_int_equal(bf_send_session_take_keyframe(&s, 11), 1);
  assert_int_equal(bf_send_session_take_keyframe(&s, 12), 0);
  /* the same punch again: a refresh */
  assert_int_equal(punch(&s, "10.0.0.2:5000", 20, &r), BF_SS_NONE);
  assert_int_equal(s.stats.punches, 2);
  /* another IP while streaming: ignored */
  assert_int_equal(punch(&s, "10.0.0.3:5000", 30, &r), BF_SS_NONE);
  assert_int_equal(s.stats.punches_busy, 1);
  assert_true(bf_addr_equal(&s.peer, &want));
  /* same IP, another port: re-target, with a keyframe for the newcomer */
  assert_int_equal(punch(&s, "10.0.0.2:6000", 40, &r), BF_SS_RETARGET);
  assert_true(bf_addr_equal(&r.old_peer, &want));
  bf_addr moved = addr("10.0.0.2:6000");
  assert_true(bf_addr_equal(&s.peer, &moved));
  assert_int_equal(s.stats.retargets, 1);
  assert_int_equal(bf_send_session_take_keyframe(&s, 41), 1);
  /* the old port is now a stranger */
  assert_int_equal(feedback(&s, &ping, "10.0.0.2:5000", 50, &r), BF_SS_NONE);
  assert_int_equal(s.stats.foreign, 2);
  assert_int_equal(feedback(&s, &ping, "10.0.0.2:6000", 60, &r), BF_SS_PING);
  assert_int_equal(s.stats.clients, 1);
}

/* Sealed data plane: once the client's feedback (authenticated: it was
 * opened) came, a clear punch from another port of its IP moves nothing and
 * keeps nothing alive; the client's own authenticated feedback from a new
 * port does move the stream (its NAT rebound). Before that first
 * authenticated datagram the punch still opens and moves the path. */
static void test_sealed_punch(void **state) {
  (void)state;
  bf_send_session s = fresh();
  bf_ss_result r;
  bf_send_session_sealed(&s, 1);
  bf_feedback ping = simple(BF_FB_CLOCK_PING);
  assert_int_equal(punch(&s, "10.0.0.2:5000", 10, &r), BF_SS_ADOPT);
  /* not authenticated yet: a punch from another port still re-targets */
  assert_int_equal(punch(&s, "10.0.0.2:5001", 20, &r), BF_SS_RETARGET);
  /* the client's sealed feedback from its real port moves it back, and
   * from now on the client is known by its authenticated datagrams */
  assert_int_equal(feedback(&s, &ping, "10.0.0.2:5000", 30, &r), BF_SS_RETARGET);
  bf_addr home = addr("10.0.0.2:5000");
  assert_true(bf_addr_equal(&s.peer, &home));
  assert_int_equal(feedback(&s, &ping, "10.0.0.2:5000", 40, &r), BF_SS_PING);
  /* the forged clear punch of issue #15: refused, counted, the stream stays */
  assert_int_equal(punch(&s, "10.0.0.2:7000", 50, &r), BF_SS_NONE);
  assert_int_equal(s.stats.punches_unauthenticated, 1);
  assert_true(bf_addr_equal(&s.peer, &home));
  assert_int_equal(s.stats.retargets, 2);
  /* the client's own keepalive punch changes nothing, and clear punches
   * keep nothing alive: only authenticated datagrams do */
  assert_int_equal(punch(&s, "10.0.0.2:5000", 5 * SEC, &r), BF_SS_NONE);
  assert_int_equal(punch(&s, "10.0.0.2:7000", 9 * SEC, &r), BF_SS_NONE);
  assert_int_equal(s.stats.punches_unauthenticated, 2);
  assert_int_equal(bf_send_session_tick(&s, 40 + 10 * SEC), BF_SS_SILENT);
  /* a new client after the silence: the punch opens the path again */
  assert_int_equal(punch(&s, "10.0.0.2:8000", 11 * SEC, &r), BF_SS_ADOPT);
  assert_int_equal(feedback(&s, &ping, "10.0.0.2:8000", 11 * SEC + 1, &r), BF_SS_PING);
  /* its NAT rebinds: its next sealed datagram comes from a new port */
  assert_int_equal(feedback(&s, &ping, "10.0.0.2:8001", 11 * SEC + 2, &r), BF_SS_RETARGET);
  bf_addr old = addr("10.0.0.2:8000"), now = addr("10.0.0.2:8001");
  assert_true(bf_addr_equal(&r.old_peer, &old));
  assert_true(bf_addr_equal(&s.peer, &now));
  /* authenticated feedback from another IP is still a stranger's */
  assert_int_equal(feedback(&s, &ping, "10.0.0.9:8001", 11 * SEC + 3, &r), BF_SS_NONE);
  assert_int_equal(s.stats.foreign, 1);
  /* clear again: the punch rule of spec §7 as before */
  bf_send_session_sealed(&s, 0);
  assert_int_equal(punch(&s, "10.0.0.2:9000", 11 * SEC + 4, &r), BF_SS_RETARGET);
}

static void test_allow(void **state) {
  (void)state;
  bf_send_session s;
  bf_send_session_config c;
  bf_send_session_config_default(&c);
  c.allow_set = 1;
  c.allow = addr("192.0.2.7");
  bf_send_session_init(&s, &c);
  bf_ss_result r;
  assert_int_equal(punch(&s, "192.0.2.8:4000", 1, &r), BF_SS_NONE);
  assert_int_equal(s.stats.punches_denied, 1);
  assert_false(s.streaming);
  assert_int_equal(punch(&s, "192.0.2.7:4000", 2, &r), BF_SS_ADOPT);
  assert_int_equal(punch(&s, "192.0.2.8:4000", 3, &r), BF_SS_NONE);
  assert_int_equal(s.stats.punches_denied, 2);
}

static void test_keyframe_requests(void **state) {
  (void)state;
  bf_send_session s = fresh();
  bf_ss_result r;
  const char *c = "10.0.0.2:5000";
  assert_int_equal(punch(&s, c, 0, &r), BF_SS_ADOPT);
  assert_int_equal(bf_send_session_take_keyframe(&s, 0), 1);
  uint64_t t = 100 * MS;
  bf_feedback k7 = kf_request(7), k8 = kf_request(8), k5 = kf_request(5), k99 = kf_request(99);
  assert_int_equal(feedback(&s, &k7, c, t, &r), BF_SS_KEYFRAME);
  assert_int_equal(r.fb.u.keyframe.request_id, 7);
  assert_int_equal(feedback(&s, &k7, c, t + 1, &r), BF_SS_NONE); /* repeat */
  assert_int_equal(bf_send_session_take_keyframe(&s, t + 2), 1);
  assert_int_equal(bf_send_session_take_keyframe(&s, t + 3), 0);
  assert_int_equal(feedback(&s, &k7, c, t + 4, &r), BF_SS_NONE); /* repeat of an honoured id */
  assert_int_equal(bf_send_session_take_keyframe(&s, t + 5), 0);
  /* a new id inside the 50 ms gap: owed, paid once the gap has passed */
  assert_int_equal(feedback(&s, &k8, c, t + 10 * MS, &r), BF_SS_KEYFRAME);
  assert_int_equal(bf_send_session_take_keyframe(&s, t + 20 * MS), 0);
  assert_int_equal(bf_send_session_take_keyframe(&s, t + 49 * MS), 0);
  assert_int_equal(bf_send_session_take_keyframe(&s, t + 50 * MS + 2), 1);
  assert_int_equal(bf_send_session_take_keyframe(&s, t + 60 * MS), 0);
  /* a late copy of an older id is ignored; a far-away id is new */
  assert_int_equal(feedback(&s, &k5, c, t + 200 * MS, &r), BF_SS_NONE);
  assert_int_equal(feedback(&s, &k99, c, t + 300 * MS, &r), BF_SS_KEYFRAME);
  assert_int_equal(bf_send_session_take_keyframe(&s, t + 300 * MS), 1);
  assert_int_equal(s.stats.keyframe_requests, 6);
  assert_int_equal(s.stats.keyframe_ids, 3);
  assert_int_equal(s.stats.keyframes_forced, 3);
  /* from a stranger: not counted as a request */
  assert_int_equal(feedback(&s, &k99, "10.0.0.9:5000", t + 400 * MS, &r), BF_SS_NONE);
  assert_int_equal(s.stats.keyframe_requests, 6);
  /* a new client starts with a clean slate: id 7 is new again */
  bf_feedback bye = simple(BF_FB_BYE);
  assert_int_equal(feedback(&s, &bye, c, t + 500 * MS, &r), BF_SS_BYE);
  assert_int_equal(punch(&s, c, t + 600 * MS, &r), BF_SS_ADOPT);
  assert_int_equal(bf_send_session_take_keyframe(&s, t + 600 * MS), 1);
  assert_int_equal(feedback(&s, &k7, c, t + 700 * MS, &r), BF_SS_KEYFRAME);
}

static void test_silence_and_bye(void **state) {
  (void)state;
  bf_send_session s = fresh();
  bf_ss_result r;
  assert_int_equal(bf_send_session_tick(&s, 100 * SEC), BF_SS_NONE);
  assert_int_equal(punch(&s, "10.0.0.2:5000", 1 * SEC, &r), BF_SS_ADOPT);
  assert_int_equal(bf_send_session_deadline(&s), 11 * SEC);
  /* feedback keeps it alive */
  bf_feedback loss = simple(BF_FB_LOSS_REPORT);
  loss.u.loss.loss_ppm = 1234;
  assert_int_equal(feedback(&s, &loss, "10.0.0.2:5000", 9 * SEC, &r), BF_SS_LOSS);
  assert_int_equal(s.last_loss.u.loss.loss_ppm, 1234);
  assert_int_equal(bf_send_session_tick(&s, 18 * SEC), BF_SS_NONE);
  assert_int_equal(bf_send_session_deadline(&s), 19 * SEC);
  /* garbage from the client does not */
  static const uint8_t junk[] = {0xC9, 1, 2, 3};
  bf_addr a = addr("10.0.0.2:5000");
  assert_int_equal(bf_send_session_on_datagram(&s, junk, sizeof junk, &a, 18 * SEC, &r),
                   BF_SS_NONE);
  assert_int_equal(s.stats.garbage, 1);
  assert_int_equal(bf_send_session_tick(&s, 19 * SEC - 1), BF_SS_NONE);
  assert_int_equal(bf_send_session_tick(&s, 19 * SEC), BF_SS_SILENT);
  assert_false(s.streaming);
  assert_int_equal(bf_send_session_tick(&s, 20 * SEC), BF_SS_NONE); /* once */
  assert_int_equal(s.stats.silences, 1);
  /* now anyone may start: another IP */
  assert_int_equal(punch(&s, "10.0.0.3:7000", 21 * SEC, &r), BF_SS_ADOPT);
  /* BYE from a stranger is ignored, from the client ends the session */
  bf_feedback bye = simple(BF_FB_BYE);
  assert_int_equal(feedback(&s, &bye, "10.0.0.2:5000", 22 * SEC, &r), BF_SS_NONE);
  assert_true(s.streaming);
  assert_int_equal(feedback(&s, &bye, "10.0.0.3:7000", 22 * SEC, &r), BF_SS_BYE);
  assert_false(s.streaming);
  assert_int_equal(bf_send_session_take_keyframe(&s, 22 * SEC), 0);
  assert_int_equal(s.stats.byes, 1);
  /* the sender's own end */
  assert_int_equal(punch(&s, "10.0.0.4:7000", 23 * SEC, &r), BF_SS_ADOPT);
  bf_send_session_stop(&s);
  assert_false(s.streaming);
  assert_int_equal(s.stats.clients, 3);
}

static void test_garbage(void **state) {
  (void)state;
  bf_send_session s = fresh();
  bf_ss_result r;
  bf_addr a = addr("10.0.0.2:5000");
  assert_int_equal(punch(&s, "10.0.0.2:5000", 0, &r), BF_SS_ADOPT);
  bf_test_rng rng;
  bf_test_rng_seed(&rng, 4);
  uint8_t b[64];
  uint64_t sent = 0;
  for (int i = 0; i < 1000; i++) {
    size_t n = bf_test_rng_below(&rng, sizeof b);
    bf_test_rng_fill(&rng, b, n);
    if (n > 0 && (b[0] == 'P' || b[0] == BF_FB_MAGIC)) b[0] = 0;
    assert_int_equal(bf_send_session_on_datagram(&s, b, n, &a, 1, &r), BF_SS_NONE);
    sent++;
  }
  /* a pong from the client: only the sender sends those */
  bf_feedback pong = simple(BF_FB_CLOCK_PONG);
  assert_int_equal(feedback(&s, &pong, "10.0.0.2:5000", 2, &r), BF_SS_NONE);
  assert_int_equal(s.stats.garbage, sent + 1);
  assert_true(s.streaming);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_adopt_and_retarget),
      cmocka_unit_test(test_sealed_punch),
      cmocka_unit_test(test_allow),
      cmocka_unit_test(test_keyframe_requests),
      cmocka_unit_test(test_silence_and_bye),
      cmocka_unit_test(test_garbage),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
