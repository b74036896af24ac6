/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Client loss recovery: the decode gate (order, gaps, keyframes), keyframe
 * request numbering, throttling, repetition and expiry, the skip-to-live
 * decision, and holding AUs that overtook an earlier one — all with time
 * passed in.
 */
#include "testutil.h"

#include "video/decode_gate.h"

#include <bildfunk/wire.h>

#include <string.h>

#define MS 1000000ull
#define KEY BF_AU_KEYFRAME

static bf_decode_gate fresh(void) {
  bf_decode_gate r;
  bf_decode_gate_init(&r, NULL);
  bf_decode_gate_set_frame_interval(&r, 16666667);
  return r;
}

static void test_gate_in_order(void **state) {
  (void)state;
  bf_decode_gate r = fresh();
  bf_feedback fb;
  /* nothing decodes before a keyframe; the first one starts the chain */
  assert_int_equal(bf_decode_gate_on_frame(&r, 10, KEY, 0), BF_GATE_DECODE);
  for (uint32_t i = 11; i < 20; i++)
    assert_int_equal(bf_decode_gate_on_frame(&r, i, 0, 0), BF_GATE_DECODE);
  assert_int_equal(bf_decode_gate_poll(&r, 0, &fb), 0);
  assert_int_equal(bf_decode_gate_next_due(&r), UINT64_MAX);
  /* an old AU is stale; an old keyframe does not step back in time */
  assert_int_equal(bf_decode_gate_on_frame(&r, 15, 0, 0), BF_GATE_STALE);
  assert_int_equal(bf_decode_gate_on_frame(&r, 12, KEY, 0), BF_GATE_STALE);
  /* a periodic keyframe ahead is fine */
  assert_int_equal(bf_decode_gate_on_frame(&r, 20, KEY, 0), BF_GATE_DECODE);
  assert_int_equal(r.requests_new, 0);
  /* frame indices wrap */
  bf_decode_gate w = fresh();
  assert_int_equal(bf_decode_gate_on_frame(&w, UINT32_MAX - 1, KEY, 0), BF_GATE_DECODE);
  assert_int_equal(bf_decode_gate_on_frame(&w, UINT32_MAX, 0, 0), BF_GATE_DECODE);
  assert_int_equal(bf_decode_gate_on_frame(&w, 0, 0, 0), BF_GATE_DECODE);
  assert_int_equal(bf_decode_gate_on_frame(&w, 1, 0, 0), BF_GATE_DECODE);
}

static void test_gap_freezes_and_requests(void **state) {
  (void)state;
  bf_decode_gate r = fresh();
  bf_feedback fb;
  uint64_t t = 1000 * MS;
  assert_int_equal(bf_decode_gate_on_frame(&r, 0, KEY, t), BF_GATE_DECODE);
  assert_int_equal(bf_decode_gate_on_frame(&r, 1, 0, t), BF_GATE_DECODE);
  /* 2 never came, 3 completes: gap, frozen, request at once */
  assert_int_equal(bf_decode_gate_on_frame(&r, 3, 0, t), BF_GATE_GAP);
  assert_int_equal(bf_decode_gate_next_due(&r), 0);
  assert_int_equal(bf_decode_gate_poll(&r, t, &fb), 1);
  assert_int_equal(fb.type, BF_FB_KEYFRAME_REQUEST);
  uint32_t id = fb.u.keyframe.request_id;
  assert_int_equal(fb.u.keyframe.first_lost, 2);
  assert_int_equal(fb.u.keyframe.last_lost, 3);
  /* everything until a keyframe is dropped, even the late 2 */
  assert_int_equal(bf_decode_gate_on_frame(&r, 4, 0, t), BF_GATE_WAIT_KEY);
  assert_int_equal(bf_decode_gate_on_frame(&r, 2, 0, t), BF_GATE_WAIT_KEY);
  /* repeats: same id, once per frame interval, range widened */
  assert_int_equal(bf_decode_gate_poll(&r, t + 16 * MS, &fb), 0);
  assert_int_equal(bf_decode_gate_next_due(&r), t + 16666667);
  assert_int_equal(bf_decode_gate_poll(&r, t + 17 * MS, &fb), 1);
  assert_int_equal(fb.u.keyframe.request_id, id);
  assert_int_equal(fb.u.keyframe.first_lost, 2);
  assert_int_equal(fb.u.keyframe.last_lost, 4);
  assert_int_equal(bf_decode_gate_poll(&r, t + 18 * MS, &fb), 0);
  assert_int_equal(bf_decode_gate_poll(&r, t + 34 * MS, &fb), 1);
  assert_int_equal(fb.u.keyframe.request_id, id);
  /* the keyframe answers it: decoding resumes, nothing more is sent */
  assert_int_equal(bf_decode_gate_on_frame(&r, 5, KEY, t + 40 * MS), BF_GATE_DECODE);
  assert_int_equal(bf_decode_gate_on_frame(&r, 6, 0, t + 41 * MS), BF_GATE_DECODE);
  assert_int_equal(bf_decode_gate_poll(&r, t + 60 * MS, &fb), 0);
  assert_int_equal(bf_decode_gate_next_due(&r), UINT64_MAX);
  assert_int_equal(r.requests_new, 1);
  assert_int_equal(r.requests_sent, 3);
  assert_int_equal(r.gaps, 1);
}

static void test_throttle_and_expiry(void **state) {
  (void)state;
  bf_decode_gate r = fresh();
  bf_feedback fb;
  uint64_t t = 5000 * MS;
  assert_int_equal(bf_decode_gate_on_frame(&r, 0, KEY, t), BF_GATE_DECODE);
  bf_decode_gate_on_loss(&r, 1, 1, t);
  assert_int_equal(bf_decode_gate_poll(&r, t, &fb), 1);
  uint32_t id1 = fb.u.keyframe.request_id;
  assert_int_equal(bf_decode_gate_on_frame(&r, 2, KEY, t + 20 * MS), BF_GATE_DECODE);
  /* a new loss 50 ms after the last new id: a new id, but not before 100 ms */
  bf_decode_gate_on_loss(&r, 3, 3, t + 50 * MS);
  assert_int_equal(bf_decode_gate_poll(&r, t + 50 * MS, &fb), 0);
  assert_int_equal(bf_decode_gate_next_due(&r), t + 100 * MS);
  assert_int_equal(bf_decode_gate_poll(&r, t + 99 * MS, &fb), 0);
  assert_int_equal(bf_decode_gate_poll(&r, t + 100 * MS, &fb), 1);
  uint32_t id2 = fb.u.keyframe.request_id;
  assert_int_not_equal(id1, id2);
  assert_int_equal(fb.u.keyframe.first_lost, 3);
  /* no keyframe: repeats every interval for 500 ms, then a fresh id */
  int repeats = 0;
  uint64_t now = t + 100 * MS;
  for (; now < t + 600 * MS; now += MS)
    if (bf_decode_gate_poll(&r, now, &fb)) {
      assert_int_equal(fb.u.keyframe.request_id, id2);
      repeats++;
    }
  assert_true(repeats >= 28 && repeats <= 30); /* 500 ms / 16.7 ms */
  assert_int_equal(bf_decode_gate_poll(&r, now, &fb), 1);
  assert_int_not_equal(fb.u.keyframe.request_id, id2);
  assert_int_equal(r.requests_expired, 1);
  assert_int_equal(r.requests_new, 3);
  /* losses entirely behind what was decoded are ignored */
  bf_decode_gate q = fresh();
  assert_int_equal(bf_decode_gate_on_frame(&q, 100, KEY, 0), BF_GATE_DECODE);
  assert_int_equal(bf_decode_gate_on_frame(&q, 101, 0, 0), BF_GATE_DECODE);
  bf_decode_gate_on_loss(&q, 90, 95, 0);
  assert_int_equal(bf_decode_gate_poll(&q, 0, &fb), 0);
  assert_int_equal(bf_decode_gate_on_frame(&q, 102, 0, 0), BF_GATE_DECODE);
}

/* The keyframe that answers a request is lost itself: a new id follows
 * within the throttle, not after the give-up; a keyframe older than the
 * request, a second short block of the same one, or a short block on a
 * reordering network do not end the request. */
static void test_lost_keyframe_asks_again(void **state) {
  (void)state;
  bf_decode_gate r = fresh();
  bf_feedback fb;
  uint64_t t = 1000 * MS;
  assert_int_equal(bf_decode_gate_on_frame(&r, 0, KEY, t), BF_GATE_DECODE);
  assert_int_equal(bf_decode_gate_on_frame(&r, 1, 0, t), BF_GATE_DECODE);
  bf_decode_gate_on_loss(&r, 2, 2, t);
  assert_int_equal(bf_decode_gate_poll(&r, t, &fb), 1);
  uint32_t id1 = fb.u.keyframe.request_id;
  /* a keyframe sent before the request (index 2, lost already) is not its answer */
  bf_decode_gate_on_key_lost(&r, 2, 0, t + 5 * MS);
  assert_int_equal(r.requests_key_lost, 0);
  /* the answer (index 5) has a short block: the request is over */
  bf_decode_gate_on_short(&r, 5, t + 30 * MS);
  bf_decode_gate_on_key_lost(&r, 5, 1, t + 30 * MS);
  assert_int_equal(r.requests_key_lost, 1);
  /* a second short block of the same AU: nothing more */
  assert_int_equal(bf_decode_gate_poll(&r, t + 100 * MS, &fb), 1);
  uint32_t id2 = fb.u.keyframe.request_id;
  assert_int_not_equal(id1, id2);
  bf_decode_gate_on_key_lost(&r, 5, 1, t + 101 * MS);
  assert_int_equal(r.requests_key_lost, 1);
  assert_int_equal(bf_decode_gate_poll(&r, t + 102 * MS, &fb), 0); /* id2 repeats later */
  /* id2's answer (index 9) lost in a LOSS range: the next id after the throttle */
  bf_decode_gate_on_loss(&r, 8, 9, t + 150 * MS);
  bf_decode_gate_on_key_lost(&r, 9, 0, t + 150 * MS);
  assert_int_equal(r.requests_key_lost, 2);
  assert_int_equal(bf_decode_gate_poll(&r, t + 150 * MS, &fb), 0);
  assert_int_equal(bf_decode_gate_next_due(&r), t + 200 * MS);
  assert_int_equal(bf_decode_gate_poll(&r, t + 200 * MS, &fb), 1);
  assert_int_not_equal(fb.u.keyframe.request_id, id2);
  assert_int_equal(r.requests_expired, 0);
  assert_int_equal(bf_decode_gate_on_frame(&r, 12, KEY, t + 230 * MS), BF_GATE_DECODE);
  /* on a reordering network a short block is no proof */
  bf_decode_gate q = fresh();
  bf_decode_gate_set_reorder(&q, 5 * MS);
  assert_int_equal(bf_decode_gate_on_frame(&q, 0, KEY, t), BF_GATE_DECODE);
  bf_decode_gate_on_loss(&q, 1, 1, t);
  assert_int_equal(bf_decode_gate_poll(&q, t, &fb), 1);
  bf_decode_gate_on_key_lost(&q, 4, 1, t + 30 * MS);
  assert_int_equal(q.requests_key_lost, 0);
  bf_decode_gate_on_key_lost(&q, 4, 0, t + 40 * MS); /* its LOSS is */
  assert_int_equal(q.requests_key_lost, 1);
}

static void test_start_and_decode_errors(void **state) {
  (void)state;
  bf_decode_gate r = fresh();
  bf_feedback fb;
  /* joining mid-stream: P-frames first ask for a keyframe */
  assert_int_equal(bf_decode_gate_poll(&r, 0, &fb), 0);
  assert_int_equal(bf_decode_gate_on_frame(&r, 40, 0, 0), BF_GATE_WAIT_KEY);
  assert_int_equal(bf_decode_gate_poll(&r, 0, &fb), 1);
  assert_int_equal(fb.u.keyframe.first_lost, 40);
  assert_int_equal(bf_decode_gate_on_frame(&r, 41, KEY, MS), BF_GATE_DECODE);
  /* a rejected AU freezes too */
  bf_decode_gate_on_decode_error(&r, 41, 2 * MS);
  assert_int_equal(bf_decode_gate_on_frame(&r, 42, 0, 3 * MS), BF_GATE_WAIT_KEY);
  assert_int_equal(bf_decode_gate_poll(&r, 200 * MS, &fb), 1);
  assert_int_equal(fb.u.keyframe.first_lost, 41);
  assert_int_equal(fb.u.keyframe.last_lost, 42);
  /* frame interval is clamped to 30..240 fps */
  bf_decode_gate_set_frame_interval(&r, 1);
  assert_int_equal(r.cfg.frame_interval_ns, 1000000000ull / 240);
  bf_decode_gate_set_frame_interval(&r, 1000000000ull);
  assert_int_equal(r.cfg.frame_interval_ns, 1000000000ull / 30);
}

static void test_skip_to_live(void **state) {
  (void)state;
  bf_decode_gate r = fresh();
  bf_feedback fb;
  uint64_t t = 10000 * MS;
  assert_int_equal(bf_decode_gate_on_frame(&r, 0, KEY, t), BF_GATE_DECODE);
  /* short spikes do not skip */
  assert_int_equal(bf_decode_gate_backlog(&r, 3, t), 0);
  assert_int_equal(bf_decode_gate_backlog(&r, 4, t + 150 * MS), 0);
  assert_int_equal(bf_decode_gate_backlog(&r, 1, t + 160 * MS), 0); /* drained: reset */
  assert_int_equal(bf_decode_gate_backlog(&r, 3, t + 170 * MS), 0);
  assert_int_equal(bf_decode_gate_backlog(&r, 3, t + 300 * MS), 0);
  /* a backlog that stays 200 ms skips */
  assert_int_equal(bf_decode_gate_backlog(&r, 5, t + 370 * MS), 1);
  assert_int_equal(r.skips, 1);
  assert_int_equal(bf_decode_gate_on_frame(&r, 1, 0, t + 371 * MS), BF_GATE_WAIT_KEY);
  assert_int_equal(bf_decode_gate_poll(&r, t + 371 * MS, &fb), 1);
  /* cooldown: even the hard limit waits a second */
  assert_int_equal(bf_decode_gate_backlog(&r, 20, t + 500 * MS), 0);
  assert_int_equal(bf_decode_gate_backlog(&r, 20, t + 1370 * MS), 1);
  assert_int_equal(r.skips, 2);
  /* the hard limit skips at once */
  bf_decode_gate h = fresh();
  assert_int_equal(bf_decode_gate_backlog(&h, 8, 5 * MS), 1);
}

/* A backlog a decoder faster than the stream drains within 200 ms is
 * decoded through, not skipped (issue #17: the first picture's one-off
 * costs made almost every session skip in its first second); a slow
 * decoder, or too long a backlog, still skips. The cost is the median of
 * the last decode times, known from the third. */
static void test_catchup(void **state) {
  (void)state;
  bf_decode_gate r = fresh(); /* 60 fps */
  uint64_t t = 10000 * MS;
  assert_int_equal(bf_decode_gate_decode_cost(&r), 0);
  bf_decode_gate_on_decode_time(&r, 2 * MS);
  bf_decode_gate_on_decode_time(&r, 100 * MS);         /* a stalled one */
  assert_int_equal(bf_decode_gate_decode_cost(&r), 0); /* not known from two */
  bf_decode_gate_on_decode_time(&r, 2 * MS);
  assert_int_equal(bf_decode_gate_decode_cost(&r), 2 * MS); /* the median */
  /* 20 queued at 2 ms a decode: drained in 46 ms: decoded through */
  assert_int_equal(bf_decode_gate_backlog(&r, 20, t), 0);
  assert_int_equal(r.catchups, 1);
  assert_int_equal(bf_decode_gate_backlog(&r, 12, t + 10 * MS), 0);
  assert_int_equal(r.catchups, 1); /* the same backlog */
  assert_int_equal(bf_decode_gate_backlog(&r, 1, t + 40 * MS), 0);
  /* the soft rule too: 3+ for 200 ms, but quickly drained */
  assert_int_equal(bf_decode_gate_backlog(&r, 4, t + 100 * MS), 0);
  assert_int_equal(bf_decode_gate_backlog(&r, 4, t + 310 * MS), 0);
  assert_int_equal(r.catchups, 2);
  assert_int_equal(r.skips, 0);
  /* 100 queued: 227 ms to drain: skipped */
  assert_int_equal(bf_decode_gate_backlog(&r, 100, t + 400 * MS), 1);
  assert_int_equal(r.skips, 1);
  /* a decoder slower than the stream skips at the hard limit */
  bf_decode_gate s = fresh();
  for (int i = 0; i < 5; i++)
    bf_decode_gate_on_decode_time(&s, 45 * MS);
  assert_int_equal(bf_decode_gate_backlog(&s, 8, t), 1);
  assert_int_equal(s.catchups, 0);
  /* only the last BF_GATE_DECODE_SAMPLES count: the decoder got slow */
  for (unsigned i = 0; i < BF_GATE_DECODE_SAMPLES; i++)
    bf_decode_gate_on_decode_time(&r, 20 * MS);
  assert_int_equal(bf_decode_gate_decode_cost(&r), 20 * MS);
  assert_int_equal(bf_decode_gate_backlog(&r, 8, t + 2000 * MS), 1);
}

#define RP BF_AU_RECOVERY_POINT

/* Reordering: an AU that overtook an earlier one waits for it within the
 * allowance; it is decoded in order and nothing is requested. */
/* The decoder's backlog counts only what the gate would decode: AUs it
 * drops while frozen, stale ones and a gap's followers cost nothing. */
static void test_decodable_backlog(void **state) {
  (void)state;
  bf_decode_gate r = fresh();
  uint32_t idx[8] = {10, 11, 12, 13, 14, 15, 16, 17}, fl[8] = {KEY, 0, 0, 0, 0, 0, 0, 0};
  assert_int_equal(bf_decode_gate_decodable(&r, idx, fl, 8), 8);
  assert_int_equal(r.keyframes, 0); /* a copy decided */
  assert_int_equal(bf_decode_gate_on_frame(&r, 10, KEY, 0), BF_GATE_DECODE);
  /* in order: every one would decode; stale ones not */
  assert_int_equal(bf_decode_gate_decodable(&r, idx + 1, fl + 1, 7), 7);
  uint32_t old[3] = {5, 6, 7}, z[3] = {0, 0, 0};
  assert_int_equal(bf_decode_gate_decodable(&r, old, z, 3), 0);
  /* a gap: 12 is missing, so 13.. would be dropped (waiting for a key) */
  assert_int_equal(bf_decode_gate_decodable(&r, idx + 3, fl + 3, 5), 0);
  /* frozen: nothing but a keyframe would decode */
  bf_decode_gate_on_loss(&r, 11, 11, 0);
  fl[5] = KEY;
  assert_int_equal(bf_decode_gate_decodable(&r, idx + 2, fl + 2, 6), 3); /* 15 (key), 16, 17 */
  assert_int_equal(r.need_key, 1);
  /* and the skip decision sees 0 for a frozen queue of 8 */
  fl[5] = 0;
  fl[0] = 0;
  assert_int_equal(bf_decode_gate_decodable(&r, idx, fl, 8), 0);
  assert_int_equal(bf_decode_gate_backlog(&r, bf_decode_gate_decodable(&r, idx, fl, 8), 0), 0);
  assert_int_equal(r.skips, 0);
}

static void test_reorder_hold(void **state) {
  (void)state;
  bf_decode_gate r = fresh();
  bf_feedback fb;
  uint64_t t = 1000 * MS;
  /* the allowance follows the measured lateness: 5/4 of it + 1 ms, capped */
  bf_decode_gate_set_reorder(&r, 0);
  assert_int_equal(r.allow_ns, 0);
  bf_decode_gate_set_reorder(&r, 400 * MS);
  assert_int_equal(r.allow_ns, 100 * MS);
  bf_decode_gate_set_reorder(&r, 32 * MS);
  assert_int_equal(r.allow_ns, 41 * MS);
  /* the start: a P-frame that overtook the first keyframe waits for it */
  assert_int_equal(bf_decode_gate_hold(&r, 1, 0, 1, t, t), 1);
  assert_int_equal(bf_decode_gate_hold(&r, 0, KEY, 2, t + MS, t + MS), 0);
  assert_int_equal(bf_decode_gate_on_frame(&r, 0, KEY, t), BF_GATE_DECODE);
  assert_int_equal(r.holds_filled, 1);
  assert_int_equal(bf_decode_gate_poll(&r, t + MS, &fb), 0); /* nothing asked for */
  /* joining mid-stream: the first P-frame waits once, then a key is asked for
   * and later ones are not held (a keyframe must not queue behind them) */
  bf_decode_gate j = fresh();
  bf_decode_gate_set_reorder(&j, 32 * MS);
  assert_int_equal(bf_decode_gate_hold(&j, 50, 0, 1, t, t), 1);
  assert_int_equal(bf_decode_gate_hold(&j, 50, 0, 1, t, t + 41 * MS), 0);
  assert_int_equal(bf_decode_gate_on_frame(&j, 50, 0, t + 41 * MS), BF_GATE_WAIT_KEY);
  assert_int_equal(bf_decode_gate_hold(&j, 51, 0, 1, t + 41 * MS, t + 41 * MS), 0);
  assert_int_equal(bf_decode_gate_poll(&j, t + 41 * MS, &fb), 1);
  assert_int_equal(bf_decode_gate_hold(&r, 1, 0, 1, t, t), 0); /* next in order: at once */
  assert_int_equal(bf_decode_gate_on_frame(&r, 1, 0, t), BF_GATE_DECODE);
  /* 3 completes before 2: held, and the wake-up is when the hold runs out */
  assert_int_equal(bf_decode_gate_hold(&r, 3, 0, 1, t + 1 * MS, t + 2 * MS), 1);
  assert_int_equal(bf_decode_gate_next_due(&r), t + 42 * MS);
  assert_int_equal(bf_decode_gate_hold(&r, 3, 0, 2, t + 1 * MS, t + 20 * MS), 1);
  assert_int_equal(bf_decode_gate_poll(&r, t + 20 * MS, &fb), 0);
  /* 2 arrives (sorted ahead of 3 by the caller): decoded, then 3 */
  assert_int_equal(bf_decode_gate_hold(&r, 2, 0, 3, t + 25 * MS, t + 25 * MS), 0);
  assert_int_equal(bf_decode_gate_on_frame(&r, 2, 0, t + 25 * MS), BF_GATE_DECODE);
  assert_int_equal(bf_decode_gate_hold(&r, 3, 0, 2, t + 1 * MS, t + 25 * MS), 0);
  assert_int_equal(bf_decode_gate_on_frame(&r, 3, 0, t + 25 * MS), BF_GATE_DECODE);
  assert_int_equal(bf_decode_gate_next_due(&r), UINT64_MAX);
  assert_int_equal(r.holds, 2);
  assert_int_equal(r.holds_filled, 2);
  assert_int_equal(r.gaps, 0);
  assert_int_equal(r.requests_new, 0);

  /* the allowance runs out: a gap as before, a keyframe request */
  t += 100 * MS;
  assert_int_equal(bf_decode_gate_hold(&r, 5, 0, 1, t, t), 1);
  assert_int_equal(bf_decode_gate_hold(&r, 5, 0, 1, t, t + 40 * MS), 1);
  assert_int_equal(bf_decode_gate_hold(&r, 5, 0, 1, t, t + 41 * MS), 0);
  assert_int_equal(bf_decode_gate_on_frame(&r, 5, 0, t + 41 * MS), BF_GATE_GAP);
  assert_int_equal(r.holds_expired, 1);
  assert_int_equal(bf_decode_gate_poll(&r, t + 41 * MS, &fb), 1);
  assert_int_equal(fb.u.keyframe.first_lost, 4);
  /* frozen: nothing is held while waiting for a keyframe; 4 comes too late */
  assert_int_equal(bf_decode_gate_hold(&r, 7, 0, 1, t, t + 50 * MS), 0);
  assert_int_equal(bf_decode_gate_on_frame(&r, 4, 0, t + 60 * MS), BF_GATE_WAIT_KEY);
  /* a keyframe ahead is never held: older AUs become stale */
  assert_int_equal(bf_decode_gate_hold(&r, 9, KEY, 1, t, t + 70 * MS), 0);
  assert_int_equal(bf_decode_gate_on_frame(&r, 9, KEY, t + 70 * MS), BF_GATE_DECODE);
  assert_int_equal(bf_decode_gate_hold(&r, 11, KEY, 1, t, t + 80 * MS), 0);
  assert_int_equal(bf_decode_gate_on_frame(&r, 11, KEY, t + 80 * MS), BF_GATE_DECODE);
  assert_int_equal(bf_decode_gate_on_frame(&r, 10, 0, t + 81 * MS), BF_GATE_STALE);

  /* LOSS of the missing one ends the hold at once */
  t += 200 * MS;
  assert_int_equal(bf_decode_gate_hold(&r, 13, 0, 1, t, t), 1);
  bf_decode_gate_on_loss(&r, 12, 12, t + 5 * MS);
  assert_int_equal(bf_decode_gate_hold(&r, 13, 0, 1, t, t + 5 * MS), 0);
  assert_int_equal(bf_decode_gate_on_frame(&r, 13, 0, t + 5 * MS), BF_GATE_WAIT_KEY);
  assert_int_equal(bf_decode_gate_on_frame(&r, 14, KEY, t + 30 * MS), BF_GATE_DECODE);

  /* so does a full hold: no more than hold_frames AUs wait */
  assert_int_equal(bf_decode_gate_hold(&r, 16, 0, 5, t + 40 * MS, t + 40 * MS), 1);
  assert_int_equal(bf_decode_gate_hold(&r, 16, 0, 6, t + 40 * MS, t + 41 * MS), 0);
  assert_int_equal(bf_decode_gate_on_frame(&r, 16, 0, t + 41 * MS), BF_GATE_GAP);
}

/* BLOCK_SHORT: proof of loss on a network that keeps order (a request at
 * once, as before), only a hint on one that reorders (the hold decides). */
static void test_short_and_in_order_network(void **state) {
  (void)state;
  bf_decode_gate r = fresh();
  bf_feedback fb;
  uint64_t t = 1000 * MS;
  assert_int_equal(bf_decode_gate_on_frame(&r, 0, KEY, t), BF_GATE_DECODE);
  /* in order (allowance 0): a later AU is a gap at once, never held */
  assert_int_equal(bf_decode_gate_hold(&r, 2, 0, 1, t, t), 0);
  assert_int_equal(bf_decode_gate_on_frame(&r, 2, 0, t), BF_GATE_GAP);
  assert_int_equal(r.holds, 0);
  assert_int_equal(bf_decode_gate_on_frame(&r, 3, KEY, t), BF_GATE_DECODE);
  bf_decode_gate_on_short(&r, 4, t + MS);
  assert_int_equal(bf_decode_gate_poll(&r, t + 200 * MS, &fb), 1);
  assert_int_equal(fb.u.keyframe.first_lost, 4);
  assert_int_equal(bf_decode_gate_on_frame(&r, 5, KEY, t + 210 * MS), BF_GATE_DECODE);
  /* reordering network: the short block's stragglers still came */
  bf_decode_gate_set_reorder(&r, 20 * MS);
  bf_decode_gate_on_short(&r, 6, t + 220 * MS);
  assert_int_equal(r.shorts_ignored, 1);
  assert_int_equal(bf_decode_gate_poll(&r, t + 400 * MS, &fb), 0);
  assert_int_equal(bf_decode_gate_on_frame(&r, 6, 0, t + 225 * MS), BF_GATE_DECODE);
  assert_int_equal(r.requests_new, 1); /* the gap's need ended before it was sent */

  /* intra refresh: holds keep order while hidden decoding rebuilds, but an
   * index known lost is not waited for */
  bf_decode_gate h = fresh();
  bf_decode_gate_set_reorder(&h, 20 * MS);
  assert_int_equal(bf_decode_gate_on_frame(&h, 0, KEY, t), BF_GATE_DECODE);
  assert_int_equal(bf_decode_gate_on_frame(&h, 1, RP, t), BF_GATE_DECODE);
  bf_decode_gate_on_loss(&h, 2, 2, t);
  assert_int_equal(bf_decode_gate_hold(&h, 3, 0, 1, t, t), 0);
  assert_int_equal(bf_decode_gate_on_frame(&h, 3, 0, t), BF_GATE_DECODE_HIDDEN);
  assert_int_equal(bf_decode_gate_hold(&h, 5, 0, 1, t, t), 1);
  assert_int_equal(bf_decode_gate_hold(&h, 4, 0, 2, t + MS, t + MS), 0);
  assert_int_equal(bf_decode_gate_on_frame(&h, 4, 0, t + MS), BF_GATE_DECODE_HIDDEN);
  assert_int_equal(bf_decode_gate_hold(&h, 5, RP, 1, t, t + MS), 0);
  /* its wave began before the loss: hidden; the next one shows */
  assert_int_equal(bf_decode_gate_on_frame(&h, 5, RP, t + MS), BF_GATE_DECODE_HIDDEN);
  assert_int_equal(bf_decode_gate_on_frame(&h, 6, RP, t + MS), BF_GATE_DECODE);
  assert_int_equal(h.holds_filled, 1);
}

/* Intra refresh: after a loss the gate decodes unseen and shows again from
 * the first recovery point whose wave began after the loss. */
static void test_recovery_points(void **state) {
  (void)state;
  bf_decode_gate r = fresh();
  bf_feedback fb;
  uint64_t t = 1000 * MS;
  /* waves of 4: recovery points at 3, 7, 11, 15 ... */
  assert_int_equal(bf_decode_gate_on_frame(&r, 0, KEY, t), BF_GATE_DECODE);
  for (uint32_t i = 1; i <= 4; i++)
    assert_int_equal(bf_decode_gate_on_frame(&r, i, i == 3 ? RP : 0, t), BF_GATE_DECODE);
  /* 5 is lost: 6 decodes hidden, a keyframe request goes out in parallel */
  assert_int_equal(bf_decode_gate_on_frame(&r, 6, 0, t), BF_GATE_DECODE_HIDDEN);
  assert_int_equal(r.gaps, 1);
  assert_int_equal(bf_decode_gate_poll(&r, t, &fb), 1);
  assert_int_equal(fb.u.keyframe.first_lost, 5);
  /* 7 completes the wave that began at 4 (before the loss): still hidden */
  assert_int_equal(bf_decode_gate_on_frame(&r, 7, RP, t), BF_GATE_DECODE_HIDDEN);
  for (uint32_t i = 8; i <= 10; i++)
    assert_int_equal(bf_decode_gate_on_frame(&r, i, 0, t), BF_GATE_DECODE_HIDDEN);
  /* 11 completes the wave 8..11, all after the loss: shown, freeze over */
  assert_int_equal(bf_decode_gate_on_frame(&r, 11, RP, t), BF_GATE_DECODE);
  assert_int_equal(r.recovery_points, 1);
  assert_int_equal(r.keyframes, 1);
  assert_int_equal(bf_decode_gate_next_due(&r), UINT64_MAX);
  assert_int_equal(bf_decode_gate_poll(&r, t + 20 * MS, &fb), 0);
  assert_int_equal(bf_decode_gate_on_frame(&r, 12, 0, t), BF_GATE_DECODE);

  /* a loss of the recovery point itself: the next wave starts after it */
  bf_decode_gate_on_loss(&r, 15, 15, t);
  assert_int_equal(bf_decode_gate_on_frame(&r, 13, 0, t), BF_GATE_DECODE_HIDDEN);
  assert_int_equal(bf_decode_gate_on_frame(&r, 14, 0, t), BF_GATE_DECODE_HIDDEN);
  for (uint32_t i = 16; i <= 18; i++)
    assert_int_equal(bf_decode_gate_on_frame(&r, i, 0, t), BF_GATE_DECODE_HIDDEN);
  /* 19: its previous recovery point is 11 < 15 -> the wave 12..19 touched the loss */
  assert_int_equal(bf_decode_gate_on_frame(&r, 19, RP, t), BF_GATE_DECODE_HIDDEN);
  /* a second hole inside the next wave pushes recovery one wave further */
  assert_int_equal(bf_decode_gate_on_frame(&r, 20, 0, t), BF_GATE_DECODE_HIDDEN);
  assert_int_equal(bf_decode_gate_on_frame(&r, 22, 0, t), BF_GATE_DECODE_HIDDEN);
  assert_int_equal(bf_decode_gate_on_frame(&r, 23, RP, t), BF_GATE_DECODE_HIDDEN);
  for (uint32_t i = 24; i <= 26; i++)
    assert_int_equal(bf_decode_gate_on_frame(&r, i, 0, t), BF_GATE_DECODE_HIDDEN);
  assert_int_equal(bf_decode_gate_on_frame(&r, 27, RP, t), BF_GATE_DECODE);
  assert_int_equal(r.recovery_points, 2);
  /* stale AUs are still dropped while hidden */
  bf_decode_gate_on_decode_error(&r, 28, t);
  assert_int_equal(bf_decode_gate_on_frame(&r, 27, 0, t), BF_GATE_STALE);

  /* whichever comes first wins: a keyframe ends a hidden freeze too */
  assert_int_equal(bf_decode_gate_on_frame(&r, 29, 0, t), BF_GATE_DECODE_HIDDEN);
  assert_int_equal(bf_decode_gate_on_frame(&r, 30, KEY, t), BF_GATE_DECODE);
  assert_int_equal(bf_decode_gate_on_frame(&r, 31, 0, t), BF_GATE_DECODE);
  /* the keyframe is an anchor: a wave right after it recovers at its RP */
  bf_decode_gate_on_loss(&r, 32, 32, t);
  assert_int_equal(bf_decode_gate_on_frame(&r, 33, RP, t), BF_GATE_DECODE_HIDDEN);
  assert_int_equal(bf_decode_gate_on_frame(&r, 34, RP, t), BF_GATE_DECODE);

  /* skip-to-live and a stream without recovery points still wait for a key */
  bf_decode_gate n = fresh();
  assert_int_equal(bf_decode_gate_on_frame(&n, 0, KEY, t), BF_GATE_DECODE);
  assert_int_equal(bf_decode_gate_on_frame(&n, 2, 0, t), BF_GATE_GAP);
  assert_int_equal(bf_decode_gate_on_frame(&n, 3, 0, t), BF_GATE_WAIT_KEY);
  assert_int_equal(bf_decode_gate_backlog(&r, 8, t), 1);
  assert_int_equal(bf_decode_gate_on_frame(&r, 36, 0, t), BF_GATE_WAIT_KEY);
  assert_int_equal(bf_decode_gate_on_frame(&r, 37, RP, t), BF_GATE_WAIT_KEY);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_gate_in_order),
      cmocka_unit_test(test_gap_freezes_and_requests),
      cmocka_unit_test(test_throttle_and_expiry),
      cmocka_unit_test(test_lost_keyframe_asks_again),
      cmocka_unit_test(test_start_and_decode_errors),
      cmocka_unit_test(test_skip_to_live),
      cmocka_unit_test(test_recovery_points),
      cmocka_unit_test(test_catchup),
      cmocka_unit_test(test_reorder_hold),
      cmocka_unit_test(test_decodable_backlog),
      cmocka_unit_test(test_short_and_in_order_network),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
