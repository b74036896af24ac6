/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Client network pump over the in-process loopback transport, with a fake
 * clock: the punch and clock pings go out, pongs give the offset, video
 * becomes frames, control datagrams are told apart from video, garbage and
 * foreign datagrams are counted without keeping the session alive, the loss
 * window compares stream_seq with arrivals (also on a network that
 * reorders across the windows' ends: only real loss counts, numbers wrap,
 * duplicates count once), reorders and duplicates are counted, a BYE waits out its grace period
 * (a forged clear one is ignored, a sealed one is not), and closing says BYE. The wait on a real socket plus extra
 * descriptors (the display connection, the control session) reports which
 * one is ready.
 */
#include "testutil.h"

#include "net/stream_rx.h"

#include <bildfunk/loopback.h>
#include <bildfunk/packetizer.h>

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MS 1000000ull

static uint64_t fake_now;
static uint64_t now_fn(void) {
  return fake_now;
}

typedef struct rig {
  bf_transport *client_end; /* owned by the pump */
  bf_transport *sender;
  bf_pump *pump;
} rig;

/* A pump on the loopback transport; |secret| (32 bytes, or NULL: clear)
 * seals its data plane. */
static void rig_open_with(rig *r, const uint8_t *secret) {
  memset(r, 0, sizeof *r);
  assert_int_equal(bf_loopback_pair(NULL, &r->client_end, &r->sender), 0);
  fake_now = 1700000000000000000ull;
  bf_pump_config cfg = {"unused", NULL, 0, now_fn, secret};
  char err[128];
  assert_int_equal(bf_pump_open_transport(&cfg, r->client_end, &r->pump, err, sizeof err), 0);
}
static void rig_open(rig *r) {
  rig_open_with(r, NULL);
}

static void rig_close(rig *r) {
  bf_pump_close(&r->pump, 0);
  bf_transport_close(&r->sender);
}

/* Everything the client sent, decoded; returns how many. */
static int sender_read(rig *r, bf_feedback *fbs, int cap, int *punches) {
  uint8_t buf[BF_RECV_BUF_BYTES];
  bf_addr from;
  int n = 0, len;
  *punches = 0;
  while ((len = bf_recv(r->sender, buf, sizeof buf, &from)) > 0) {
    if (bf_is_punch(buf, (size_t)len)) {
      (*punches)++;
      continue;
    }
    assert_true(n < cap);
    assert_int_equal(bf_feedback_decode(buf, (size_t)len, &fbs[n]), 0);
    n++;
  }
  return n;
}

static void sender_send(rig *r, const bf_feedback *fb) {
  uint8_t out[BF_FB_MAX_BYTES];
  int len = bf_feedback_encode(fb, out, sizeof out);
  bf_dgram d = {out, (size_t)len, NULL, 0};
  assert_int_equal(bf_send(r->sender, &d), 1);
}

static void test_punch_ping_pong(void **state) {
  (void)state;
  rig r;
  rig_open(&r);
  bf_pump_window win;
  bf_feedback fbs[16];
  int punches;
  assert_int_equal(bf_pump_tick(r.pump, fake_now, &win), 0);
  int n = sender_read(&r, fbs, 16, &punches);
  assert_int_equal(punches, 1);
  assert_int_equal(n, 1);
  assert_int_equal(fbs[0].type, BF_FB_CLOCK_PING);
  /* the sender's clock is 3 ms ahead, 100 us each way */
  bf_feedback pong;
  memset(&pong, 0, sizeof pong);
  pong.type = BF_FB_CLOCK_PONG;
  pong.u.pong.id = fbs[0].u.ping.id;
  pong.u.pong.t1_ns = fbs[0].u.ping.t1_ns;
  pong.u.pong.t2_ns = fbs[0].u.ping.t1_ns + 3 * MS + 100000;
  pong.u.pong.t3_ns = pong.u.pong.t2_ns + 5000;
  sender_send(&r, &pong);
  fake_now += 205000;
  assert_int_equal(bf_pump_last_data_ns(r.pump), 0);
  assert_int_equal(bf_pump_receive(r.pump, 4), 1);
  int64_t off;
  uint64_t rtt;
  assert_int_equal(bf_clocksync_get(bf_pump_clock(r.pump), &off, &rtt), 0);
  assert_int_equal(off, (int64_t)(3 * MS));
  assert_int_equal(rtt, 200000);
  assert_int_equal(bf_pump_last_data_ns(r.pump), fake_now);
  /* the next punch is due 200 ms later, the next ping 50 ms later */
  assert_int_equal(bf_pump_next_due(r.pump), fake_now - 205000 + 50 * MS);
  fake_now += 200 * MS;
  bf_pump_tick(r.pump, fake_now, &win);
  n = sender_read(&r, fbs, 16, &punches);
  assert_int_equal(punches, 1);
  assert_int_equal(n, 1);
  bf_pump_counters c;
  bf_pump_counters_get(r.pump, &c);
  assert_int_equal(c.pongs, 1);
  assert_int_equal(c.punches, 2);
  rig_close(&r);
}

static void test_video_control_garbage(void **state) {
  (void)state;
  rig r;
  rig_open(&r);
  bf_packetizer_config pc;
  bf_packetizer_config_default(&pc);
  pc.fec_percent = 20;
  bf_packetizer *pk;
  assert_int_equal(bf_packetizer_new(&pc, &pk), 0);
  static uint8_t au[20000];
  for (size_t i = 0; i < sizeof au; i++)
    au[i] = (uint8_t)(i * 7);
  assert_int_equal(bf_packetizer_begin(pk, au, sizeof au, 123456789, BF_AU_KEYFRAME), 0);
  bf_dgram d[64];
  int n = bf_packetizer_next(pk, d, 64);
  assert_true(n > 15);
  assert_int_equal(bf_send_batch(r.sender, d, (size_t)n), n);
  /* garbage between: a short datagram, an unknown control type, a client-bound
   * type the sender would never send, a broken video header */
  uint8_t junk[64];
  memset(junk, 0xAB, sizeof junk);
  bf_dgram j1 = {junk, 5, NULL, 0};
  uint8_t ctl[6] = {BF_FB_MAGIC, 99, 0, 0, 0, 0};
  bf_dgram j2 = {ctl, sizeof ctl, NULL, 0};
  uint8_t kr[BF_FB_MAX_BYTES];
  bf_feedback f;
  memset(&f, 0, sizeof f);
  f.type = BF_FB_KEYFRAME_REQUEST;
  int kl = bf_feedback_encode(&f, kr, sizeof kr);
  bf_dgram j3 = {kr, (size_t)kl, NULL, 0};
  bf_dgram j4 = {junk, sizeof junk, NULL, 0};
  bf_send(r.sender, &j1);
  bf_send(r.sender, &j2);
  bf_send(r.sender, &j3);
  bf_send(r.sender, &j4);
  fake_now += MS;
  assert_int_equal(bf_pump_receive(r.pump, 8), n + 4);
  bf_event ev;
  int frames = 0;
  while (bf_pump_event(r.pump, &ev)) {
    if (ev.type != BF_EVENT_FRAME) continue;
    frames++;
    assert_int_equal(ev.u.frame.len, sizeof au);
    assert_memory_equal(ev.u.frame.data, au, sizeof au);
    assert_int_equal(ev.u.frame.pts_ns, 123456789);
    assert_int_equal(ev.u.frame.user_flags, BF_AU_KEYFRAME);
    assert_int_equal(ev.u.frame.last_arrival_ns, fake_now);
    bf_pump_release(r.pump, &ev.u.frame);
  }
  assert_int_equal(frames, 1);
  bf_pump_counters c;
  bf_pump_counters_get(r.pump, &c);
  assert_int_equal(c.garbage, 3);
  assert_int_equal(c.video, (uint64_t)n + 1);
  bf_reassembler_stats rs;
  bf_pump_reassembler_stats(r.pump, &rs);
  assert_int_equal(rs.rejected[BF_REJECT_MAGIC], 1);
  assert_int_equal(bf_pump_last_data_ns(r.pump), fake_now);

  /* garbage alone does not count as the sender being alive */
  uint64_t alive = fake_now;
  fake_now += 3000 * MS;
  bf_send(r.sender, &j1);
  bf_send(r.sender, &j4);
  assert_int_equal(bf_pump_receive(r.pump, 8), 2);
  assert_int_equal(bf_pump_last_data_ns(r.pump), alive);

  /* a datagram from another address is dropped before anything looks at it */
  bf_addr other;
  assert_int_equal(bf_addr_parse("127.0.0.1:9", 0, &other), 0);
  assert_int_equal(bf_loopback_set_addr(r.sender, &other), 0);
  bf_feedback bye;
  memset(&bye, 0, sizeof bye);
  bye.type = BF_FB_BYE;
  sender_send(&r, &bye);
  assert_int_equal(bf_pump_receive(r.pump, 8), 1);
  assert_int_equal(bf_pump_bye(r.pump, NULL), 0);
  bf_pump_counters_get(r.pump, &c);
  assert_int_equal(c.foreign, 1);
  /* from the right address, BYE ends the session once no video follows it
   * for the grace period (clear mode) */
  bf_addr back;
  assert_int_equal(bf_addr_parse("127.0.0.1:40002", 0, &back), 0);
  assert_int_equal(bf_loopback_set_addr(r.sender, &back), 0);
  bye.u.bye.reason = BF_BYE_REPLACED;
  sender_send(&r, &bye);
  assert_int_equal(bf_pump_receive(r.pump, 8), 1);
  uint32_t reason;
  assert_int_equal(bf_pump_bye(r.pump, &reason), 0);
  assert_true(bf_pump_next_due(r.pump) <= fake_now + BF_PUMP_BYE_GRACE_NS);
  fake_now += BF_PUMP_BYE_GRACE_NS;
  assert_int_equal(bf_pump_receive(r.pump, 8), 0);
  assert_int_equal(bf_pump_bye(r.pump, &reason), 1);
  assert_int_equal(reason, BF_BYE_REPLACED);
  bf_packetizer_del(&pk);
  rig_close(&r);
}

/* FRAME_INFO (the sender's host time per AU, issue #17): kept by
 * frame_index in a ring of the last BF_PUMP_FRAME_INFOS, looked up exactly
 * (an overwritten or never-said index is unknown), counted; a truncated one
 * is garbage. */
static void test_frame_info(void **state) {
  (void)state;
  rig r;
  rig_open(&r);
  bf_pump_receive(r.pump, 8);
  uint32_t us = 0;
  assert_int_equal(bf_pump_frame_info(r.pump, 7, &us), 0);
  bf_feedback fi;
  memset(&fi, 0, sizeof fi);
  fi.type = BF_FB_FRAME_INFO;
  fi.u.frame_info.frame_index = 7;
  fi.u.frame_info.host_us = 4321;
  sender_send(&r, &fi);
  fi.u.frame_info.frame_index = UINT32_MAX; /* indices wrap */
  fi.u.frame_info.host_us = 99;
  sender_send(&r, &fi);
  assert_int_equal(bf_pump_receive(r.pump, 8), 2);
  assert_int_equal(bf_pump_frame_info(r.pump, 7, &us), 1);
  assert_int_equal(us, 4321);
  assert_int_equal(bf_pump_frame_info(r.pump, UINT32_MAX, &us), 1);
  assert_int_equal(us, 99);
  assert_int_equal(bf_pump_frame_info(r.pump, 8, &us), 0);
  /* the same slot, BF_PUMP_FRAME_INFOS AUs later: the old one is gone */
  fi.u.frame_info.frame_index = 7 + BF_PUMP_FRAME_INFOS;
  fi.u.frame_info.host_us = 1;
  sender_send(&r, &fi);
  uint8_t cut[9] = {BF_FB_MAGIC, BF_FB_FRAME_INFO, 1, 2, 3, 4, 5, 6, 7};
  bf_dgram cd = {cut, sizeof cut, NULL, 0};
  bf_send(r.sender, &cd);
  assert_int_equal(bf_pump_receive(r.pump, 8), 2);
  assert_int_equal(bf_pump_frame_info(r.pump, 7, &us), 0);
  assert_int_equal(bf_pump_frame_info(r.pump, 7 + BF_PUMP_FRAME_INFOS, &us), 1);
  assert_int_equal(us, 1);
  bf_pump_counters c;
  bf_pump_counters_get(r.pump, &c);
  assert_int_equal(c.frame_infos, 3);
  assert_int_equal(c.garbage, 1);
  rig_close(&r);
}

static void test_loss_window_and_bye(void **state) {
  (void)state;
  rig r;
  rig_open(&r);
  bf_pump_window win;
  bf_feedback fbs[64];
  int punches;
  bf_pump_tick(r.pump, fake_now, &win);
  sender_read(&r, fbs, 64, &punches);
  /* 10 single-shard AUs, every 5th packet lost on the way */
  bf_loopback_pattern pat;
  memset(&pat, 0, sizeof pat);
  pat.period = 5;
  pat.drop = 1u << 4;
  assert_int_equal(bf_loopback_set_pattern(r.sender, &pat), 0);
  bf_packetizer_config pc;
  bf_packetizer_config_default(&pc);
  pc.fec_percent = 0;
  pc.first_stream_seq = UINT32_MAX - 3; /* wraps inside the window */
  bf_packetizer *pk;
  assert_int_equal(bf_packetizer_new(&pc, &pk), 0);
  uint8_t au[100];
  memset(au, 1, sizeof au);
  for (int i = 0; i < 10; i++) {
    assert_int_equal(bf_packetizer_begin(pk, au, sizeof au, (uint64_t)i * 16 * MS, 0), 0);
    bf_dgram d[4];
    int n = bf_packetizer_next(pk, d, 4);
    assert_int_equal(n, 1);
    bf_send_batch(r.sender, d, 1);
    fake_now += MS;
    bf_pump_receive(r.pump, 4);
    bf_event ev;
    while (bf_pump_event(r.pump, &ev))
      if (ev.type == BF_EVENT_FRAME) bf_pump_release(r.pump, &ev.u.frame);
  }
  /* packets 0..9 sent, 4 and 9 lost: the newest seen is 8 */
  fake_now += 750 * MS;
  assert_int_equal(bf_pump_tick(r.pump, fake_now, &win), 1);
  assert_int_equal(win.expected, 9);
  assert_int_equal(win.received, 8);
  int n = sender_read(&r, fbs, 64, &punches);
  int reports = 0;
  for (int i = 0; i < n; i++)
    if (fbs[i].type == BF_FB_LOSS_REPORT) {
      reports++;
      assert_int_equal(fbs[i].u.loss.packets_received, 8);
      assert_int_equal(fbs[i].u.loss.shards_missing, 1);
      assert_int_equal(fbs[i].u.loss.loss_ppm, 111111);
      assert_int_equal(fbs[i].u.loss.frames_completed, 8);
    }
  assert_int_equal(reports, 1);
  /* an idle window sends no report */
  fake_now += 750 * MS;
  assert_int_equal(bf_pump_tick(r.pump, fake_now, &win), 1);
  assert_int_equal(win.expected, 0);
  n = sender_read(&r, fbs, 64, &punches);
  for (int i = 0; i < n; i++)
    assert_int_not_equal(fbs[i].type, BF_FB_LOSS_REPORT);
  /* closing says BYE three times */
  bf_packetizer_del(&pk);
  bf_transport *s = r.sender;
  bf_pump_close(&r.pump, 1);
  uint8_t buf[BF_RECV_BUF_BYTES];
  bf_addr from;
  int byes = 0, len;
  while ((len = bf_recv(s, buf, sizeof buf, &from)) > 0) {
    bf_feedback fb;
    if (bf_feedback_decode(buf, (size_t)len, &fb) == 0 && fb.type == BF_FB_BYE) byes++;
  }
  assert_int_equal(byes, 3);
  bf_transport_close(&s);
}

static void send_dgram(rig *r, const bf_dgram *d) {
  assert_int_equal(bf_send(r->sender, d), 1);
}

static void drain(rig *r) {
  bf_event ev;
  while (bf_pump_event(r->pump, &ev))
    if (ev.type == BF_EVENT_FRAME) bf_pump_release(r->pump, &ev.u.frame);
}

/* Reordered and duplicated datagrams are counted by stream_seq and measured;
 * a forged BYE in clear mode is ignored when the video goes on, a genuine one
 * (video stops) ends the session after the grace period, stragglers that
 * came behind it included. */
static void test_order_and_bye_grace(void **state) {
  (void)state;
  rig r;
  rig_open(&r);
  bf_packetizer_config pc;
  bf_packetizer_config_default(&pc);
  pc.fec_percent = 0;
  bf_packetizer *pk;
  assert_int_equal(bf_packetizer_new(&pc, &pk), 0);
  enum { N = 40 };
  static uint8_t store[N][BF_MAX_DATAGRAM];
  bf_dgram dg[N];
  uint8_t au[200];
  memset(au, 3, sizeof au);
  for (int i = 0; i < N; i++) {
    uint32_t flags = i ? 0 : BF_AU_KEYFRAME;
    assert_int_equal(bf_packetizer_begin(pk, au, sizeof au, (uint64_t)i * 16 * MS, flags), 0);
    bf_dgram d;
    assert_int_equal(bf_packetizer_next(pk, &d, 1), 1);
    assert_true(d.head_len + d.body_len <= BF_MAX_DATAGRAM);
    memcpy(store[i], d.head, d.head_len);
    if (d.body_len) memcpy(store[i] + d.head_len, d.body, d.body_len);
    dg[i] = (bf_dgram){store[i], d.head_len + d.body_len, NULL, 0};
  }
  /* 0 1 3 2 2 4: 2 comes 5 ms after 3, then a copy of it */
  const int order[] = {0, 1, 3, 2, 2, 4};
  for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
    send_dgram(&r, &dg[order[i]]);
    fake_now += i == 3 ? 5 * MS : MS / 10;
    bf_pump_receive(r.pump, 4);
    drain(&r);
  }
  bf_pump_counters c;
  bf_pump_counters_get(r.pump, &c);
  assert_int_equal(c.reordered, 2);
  assert_int_equal(c.duplicates, 1);
  assert_int_equal(c.reorder_late_max_ns, 5 * MS); /* since 3 arrived */
  assert_int_equal(bf_pump_reorder_ns(r.pump, fake_now), 5 * MS);

  /* a forged BYE while the stream goes on */
  bf_feedback bye;
  memset(&bye, 0, sizeof bye);
  bye.type = BF_FB_BYE;
  int next = 5;
  uint64_t t_bye = fake_now;
  sender_send(&r, &bye);
  bf_pump_receive(r.pump, 4);
  while (fake_now - t_bye < BF_PUMP_BYE_CANCEL_NS + 20 * MS) {
    fake_now += 16 * MS;
    send_dgram(&r, &dg[next++]);
    bf_pump_receive(r.pump, 4);
    drain(&r);
    assert_int_equal(bf_pump_bye(r.pump, NULL), 0);
  }
  bf_pump_counters_get(r.pump, &c);
  assert_int_equal(c.byes, 1);
  assert_int_equal(c.byes_ignored, 1);
  /* long after: still not acted upon */
  fake_now += 500 * MS;
  bf_pump_window win;
  bf_pump_tick(r.pump, fake_now, &win);
  assert_int_equal(bf_pump_bye(r.pump, NULL), 0);

  /* the genuine end: BYE, a straggler 30 ms later, then nothing */
  send_dgram(&r, &dg[next + 1]);
  bf_pump_receive(r.pump, 4);
  sender_send(&r, &bye);
  bf_pump_receive(r.pump, 4);
  fake_now += 30 * MS;
  send_dgram(&r, &dg[next]); /* sent before the BYE, reordered behind it */
  bf_pump_receive(r.pump, 4);
  drain(&r);
  uint64_t straggler = fake_now;
  /* old or repeated datagrams (a flood from the sender's address) are not
   * fresh video: they neither move the deadline nor cancel the BYE */
  fake_now += 20 * MS;
  send_dgram(&r, &dg[next]);
  send_dgram(&r, &dg[2]);
  assert_int_equal(bf_pump_receive(r.pump, 4), 2);
  assert_int_equal(bf_pump_next_due(r.pump) <= straggler + BF_PUMP_BYE_GRACE_NS, 1);
  fake_now = straggler + BF_PUMP_BYE_GRACE_NS - 1;
  bf_pump_tick(r.pump, fake_now, &win);
  assert_int_equal(bf_pump_bye(r.pump, NULL), 0);
  fake_now = straggler + BF_PUMP_BYE_GRACE_NS;
  bf_pump_tick(r.pump, fake_now, &win);
  assert_int_equal(bf_pump_bye(r.pump, NULL), 1);
  bf_pump_counters_get(r.pump, &c);
  assert_int_equal(c.byes, 2);
  assert_int_equal(c.byes_ignored, 1);
  bf_packetizer_del(&pk);
  rig_close(&r);
}

/* Loss windows on a network that reorders: a stream of single-shard AUs,
 * one sent per ms from |first_seq| on, each delayed by 30 ms +- 30 ms
 * (deterministic), so datagrams cross every window's end; |drop_every|
 * loses every such datagram (0: none) and |dup_every| delivers a copy of
 * every such datagram up to 100 ms after the original (0: none). Every
 * window's figure must be the real one: the numbers it closed that were
 * really not sent on, nothing for the reordered ones, duplicates once. */
enum { JIT_N = 3000 };
typedef struct jit_arrival {
  uint64_t at;
  int idx;
} jit_arrival;
static int jit_cmp(const void *a, const void *b) {
  const jit_arrival *x = a, *y = b;
  if (x->at != y->at) return x->at < y->at ? -1 : 1;
  return x->idx - y->idx;
}
static int jit_dropped(int i, int drop_every) {
  return drop_every && i % drop_every == drop_every / 2;
}

static void run_jittered(uint32_t first_seq, int drop_every, int dup_every, uint64_t *closed,
                         uint64_t *missing) {
  rig r;
  rig_open(&r);
  bf_packetizer_config pc;
  bf_packetizer_config_default(&pc);
  pc.fec_percent = 0;
  pc.first_stream_seq = first_seq;
  pc.shard_bytes = 512;
  bf_packetizer *pk;
  assert_int_equal(bf_packetizer_new(&pc, &pk), 0);
  static uint8_t store[JIT_N][40 + 512];
  static size_t lens[JIT_N];
  static jit_arrival arr[2 * JIT_N];
  uint8_t au[200];
  memset(au, 5, sizeof au);
  uint64_t t0 = fake_now, rng = 0x9E3779B97F4A7C15ull;
  size_t n_arr = 0;
  int n_dup = 0;
  for (int i = 0; i < JIT_N; i++) {
    uint64_t sent = (uint64_t)(unsigned)i * MS;
    uint32_t flags = i ? 0 : BF_AU_KEYFRAME;
    assert_int_equal(bf_packetizer_begin(pk, au, sizeof au, sent, flags), 0);
    bf_dgram d;
    assert_int_equal(bf_packetizer_next(pk, &d, 1), 1);
    assert_true(d.head_len + d.body_len <= sizeof store[i]);
    memcpy(store[i], d.head, d.head_len);
    if (d.body_len) memcpy(store[i] + d.head_len, d.body, d.body_len);
    lens[i] = d.head_len + d.body_len;
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    uint64_t at = t0 + sent + (rng >> 33) % (60 * MS + 1);
    if (jit_dropped(i, drop_every)) continue;
    arr[n_arr++] = (jit_arrival){at, i};
    if (dup_every && i % dup_every == 3) {
      rng = rng * 6364136223846793005ull + 1442695040888963407ull;
      arr[n_arr++] = (jit_arrival){at + (rng >> 33) % (100 * MS), i};
      n_dup++;
    }
  }
  qsort(arr, n_arr, sizeof arr[0], jit_cmp);
  /* time in 1 ms steps: deliver what arrives in the step at its own time,
   * then tick; windows close every 750 ms */
  uint64_t off = 0; /* numbers closed so far */
  int windows = 0, reports = 0;
  size_t next = 0;
  bf_feedback fbs[64];
  int punches;
  *missing = 0;
  for (uint64_t step = t0; step <= t0 + (JIT_N + 1600) * MS; step += MS) {
    for (; next < n_arr && arr[next].at <= step; next++) {
      fake_now = arr[next].at;
      bf_dgram d = {store[arr[next].idx], lens[arr[next].idx], NULL, 0};
      send_dgram(&r, &d);
      assert_int_equal(bf_pump_receive(r.pump, 4), 1);
      drain(&r);
    }
    fake_now = step;
    assert_int_equal(bf_pump_receive(r.pump, 4), 0); /* as the client's loop does */
    bf_pump_window win;
    if (bf_pump_tick(r.pump, step, &win)) {
      windows++;
      uint64_t dropped = 0;
      for (uint64_t i = off; i < off + win.expected; i++)
        dropped += (uint64_t)jit_dropped((int)i, drop_every);
      assert_true(win.received <= win.expected);
      assert_int_equal(win.expected - win.received, dropped); /* the real figure */
      off += win.expected;
      *missing += win.expected - win.received;
    }
    int n = sender_read(&r, fbs, 64, &punches);
    for (int i = 0; i < n; i++) {
      if (fbs[i].type != BF_FB_LOSS_REPORT) continue;
      reports++;
      uint64_t exp = (uint64_t)fbs[i].u.loss.packets_received + fbs[i].u.loss.shards_missing;
      uint64_t dropped = 0;
      for (uint64_t k = off - exp; k < off; k++)
        dropped += (uint64_t)jit_dropped((int)k, drop_every);
      assert_int_equal(fbs[i].u.loss.shards_missing, dropped);
      assert_int_equal(fbs[i].u.loss.loss_ppm, exp ? dropped * 1000000u / exp : 0);
    }
  }
  assert_int_equal(next, n_arr);
  assert_true(windows >= 5);
  assert_true(reports >= 4);
  /* the last window closed everything that was sent */
  assert_int_equal(off, JIT_N);
  *closed = off;
  bf_pump_counters c;
  bf_pump_counters_get(r.pump, &c);
  assert_true(c.reordered > JIT_N / 4); /* the network did reorder */
  assert_int_equal(c.duplicates, (uint64_t)n_dup);
  assert_int_equal(c.late_after_window, 0);
  bf_packetizer_del(&pk);
  rig_close(&r);
}

/* A datagram that reached the socket while the client's loop was busy is
 * not missing: the window is settled as of the last time the socket was
 * empty. */
static void test_loss_window_busy_loop(void **state) {
  (void)state;
  rig r;
  rig_open(&r);
  bf_packetizer_config pc;
  bf_packetizer_config_default(&pc);
  pc.fec_percent = 0;
  pc.shard_bytes = 512;
  bf_packetizer *pk;
  assert_int_equal(bf_packetizer_new(&pc, &pk), 0);
  enum { N = 1400 };
  static uint8_t store[N][40 + 512];
  static size_t lens[N];
  uint8_t au[200];
  memset(au, 6, sizeof au);
  for (int i = 0; i < N; i++) {
    uint64_t sent = (uint64_t)(unsigned)i * MS;
    assert_int_equal(bf_packetizer_begin(pk, au, sizeof au, sent, i ? 0 : BF_AU_KEYFRAME), 0);
    bf_dgram d;
    assert_int_equal(bf_packetizer_next(pk, &d, 1), 1);
    memcpy(store[i], d.head, d.head_len);
    if (d.body_len) memcpy(store[i] + d.head_len, d.body, d.body_len);
    lens[i] = d.head_len + d.body_len;
  }
  uint64_t t0 = fake_now;
  bf_pump_window win;
  /* one a ms; 10 comes with 30 (19 ms late: bound 30.5 ms); 700 is held */
  for (int i = 0; i <= 730; i++) {
    fake_now = t0 + (uint64_t)(unsigned)i * MS;
    if (i != 10 && i != 700) send_dgram(&r, &(bf_dgram){store[i], lens[i], NULL, 0});
    if (i == 30) send_dgram(&r, &(bf_dgram){store[10], lens[10], NULL, 0});
    bf_pump_receive(r.pump, 4);
    drain(&r);
    assert_int_equal(bf_pump_tick(r.pump, fake_now, &win), 0);
  }
  assert_int_equal(bf_pump_reorder_ns(r.pump, fake_now), 19 * MS);
  /* 700 reaches the socket 1 ms later (30 ms late), but the loop is busy
   * until the window closes */
  fake_now = t0 + 731 * MS;
  send_dgram(&r, &(bf_dgram){store[700], lens[700], NULL, 0});
  fake_now = t0 + 750 * MS;
  assert_int_equal(bf_pump_tick(r.pump, fake_now, &win), 1);
  assert_int_equal(win.settle_ns, 30500000u);
  assert_int_equal(win.expected, 700); /* 0..699, seen by 730 - 30.5 ms */
  assert_int_equal(win.received, 700);
  for (int i = 731; i < N; i++) {
    fake_now = t0 + (uint64_t)(unsigned)i * MS + 20 * MS;
    send_dgram(&r, &(bf_dgram){store[i], lens[i], NULL, 0});
    bf_pump_receive(r.pump, 4);
    drain(&r);
    bf_pump_tick(r.pump, fake_now, &win);
  }
  fake_now += 100 * MS;
  bf_pump_receive(r.pump, 4);
  assert_int_equal(bf_pump_tick(r.pump, t0 + 1500 * MS, &win), 1);
  assert_int_equal(win.expected, N - 700);
  assert_int_equal(win.received, N - 700);
  bf_packetizer_del(&pk);
  rig_close(&r);
}

static void test_loss_window_reorder(void **state) {
  (void)state;
  uint64_t closed, missing;
  /* reordering alone: no loss in any window */
  run_jittered(1000, 0, 0, &closed, &missing);
  assert_int_equal(missing, 0);
  /* 1 % real loss among the reordering: exactly the 30 lost */
  run_jittered(5000, 100, 0, &closed, &missing);
  assert_int_equal(missing, JIT_N / 100);
}

static void test_loss_window_wrap_and_dups(void **state) {
  (void)state;
  uint64_t closed, missing;
  /* stream_seq wraps in the middle of the stream */
  run_jittered(UINT32_MAX - JIT_N / 2, 0, 0, &closed, &missing);
  assert_int_equal(missing, 0);
  run_jittered(UINT32_MAX - 1000, 50, 0, &closed, &missing);
  assert_int_equal(missing, JIT_N / 50);
  /* 2 % duplicates, some long after their window closed: counted once */
  run_jittered(UINT32_MAX - 700, 0, 50, &closed, &missing);
  assert_int_equal(missing, 0);
  run_jittered(77, 100, 50, &closed, &missing);
  assert_int_equal(missing, JIT_N / 100);
}

#ifdef BF_HAVE_SEAL
/* Sealed mode: the pump opens the sender's sealed datagrams in place, drops
 * and counts a replay, a forged tag and a clear datagram, and seals its own
 * feedback while the punch stays clear. */
static void test_sealed(void **state) {
  (void)state;
  uint8_t secret[32];
  for (unsigned i = 0; i < sizeof secret; i++)
    secret[i] = (uint8_t)(i * 7 + 1);
  bf_seal_key s2c, c2s;
  assert_int_equal(bf_seal_derive(secret, sizeof secret, &s2c, &c2s), 0);
  bf_sealer *seal;
  bf_opener *open;
  assert_int_equal(bf_sealer_new(&s2c, BF_SEAL_S2C, 1000, &seal), 0);
  assert_int_equal(bf_opener_new(&c2s, BF_SEAL_C2S, 2, &open), 0);

  rig r;
  rig_open_with(&r, secret);

  /* the client's first tick: a clear punch and a sealed clock ping */
  bf_pump_window win;
  bf_pump_tick(r.pump, fake_now, &win);
  uint8_t buf[BF_RECV_BUF_BYTES], plain[64];
  bf_addr from;
  int len, punches = 0, opened = 0;
  while ((len = bf_recv(r.sender, buf, sizeof buf, &from)) > 0) {
    if (bf_is_punch(buf, (size_t)len)) {
      punches++;
      continue;
    }
    bf_feedback fb;
    int n = bf_opener_open(open, buf, (size_t)len, plain, sizeof plain, NULL);
    assert_true(n > 0);
    assert_int_equal(bf_feedback_decode(plain, (size_t)n, &fb), 0);
    assert_int_equal(fb.type, BF_FB_CLOCK_PING);
    opened++;
  }
  assert_int_equal(punches, 1);
  assert_int_equal(opened, 1);

  /* a sealed BYE from the sender, then its replay, a forgery and a clear BYE */
  bf_feedback bye;
  memset(&bye, 0, sizeof bye);
  bye.type = BF_FB_BYE;
  bye.u.bye.reason = BF_BYE_NORMAL;
  uint8_t clear[BF_FB_MAX_BYTES], sealed[BF_FB_MAX_BYTES + BF_SEAL_OVERHEAD];
  int cl = bf_feedback_encode(&bye, clear, sizeof clear);
  bf_dgram d = {clear, (size_t)cl, NULL, 0};
  assert_int_equal(bf_send(r.sender, &d), 1); /* clear: short for the opener */
  assert_int_equal(bf_pump_receive(r.pump, 4), 1);
  assert_int_equal(bf_pump_bye(r.pump, NULL), 0);
  int sl = bf_sealer_seal(seal, &d, sealed, sizeof sealed);
  assert_int_equal(sl, cl + (int)BF_SEAL_OVERHEAD);
  sealed[sl - 1] ^= 1; /* forged tag */
  bf_dgram ds = {sealed, (size_t)sl, NULL, 0};
  assert_int_equal(bf_send(r.sender, &ds), 1);
  assert_int_equal(bf_pump_receive(r.pump, 4), 1);
  assert_int_equal(bf_pump_bye(r.pump, NULL), 0);
  sealed[sl - 1] ^= 1;
  uint64_t t_bye = fake_now;
  assert_int_equal(bf_send(r.sender, &ds), 1); /* the genuine one... */
  assert_int_equal(bf_send(r.sender, &ds), 1); /* ... and its replay */
  assert_int_equal(bf_pump_receive(r.pump, 4), 2);
  /* authentic, but video sent before it may still be on its way: acted
   * upon after the grace, at the latest BF_PUMP_BYE_CANCEL_NS after it */
  uint32_t reason = 99;
  assert_int_equal(bf_pump_bye(r.pump, &reason), 0);
  assert_true(bf_pump_next_due(r.pump) <= t_bye + BF_PUMP_BYE_GRACE_NS);
  fake_now = t_bye + BF_PUMP_BYE_GRACE_NS - 1;
  assert_int_equal(bf_pump_receive(r.pump, 1), 0);
  assert_int_equal(bf_pump_bye(r.pump, &reason), 0);
  fake_now = t_bye + BF_PUMP_BYE_GRACE_NS;
  assert_int_equal(bf_pump_receive(r.pump, 1), 0);
  assert_int_equal(bf_pump_bye(r.pump, &reason), 1);
  assert_int_equal(reason, BF_BYE_NORMAL);

  bf_opener_stats st;
  assert_int_equal(bf_pump_seal_stats(r.pump, &st), 1);
  assert_int_equal(st.opened, 1);
  assert_int_equal(st.short_, 1);
  assert_int_equal(st.bad_tag, 1);
  assert_int_equal(st.replay_dup, 1);
  bf_pump_counters pc;
  bf_pump_counters_get(r.pump, &pc);
  assert_int_equal(pc.byes, 1);
  assert_int_equal(pc.sealed, 1);

  rig_close(&r);
  bf_sealer_del(&seal);
  bf_opener_del(&open);
  bf_seal_key_wipe(&s2c);
  bf_seal_key_wipe(&c2s);
}

/* A sealed BYE is authentic: fresh video behind it (reordered) is still
 * taken, but video that keeps coming does not cancel it as it would a clear
 * one; it is acted upon BF_PUMP_BYE_CANCEL_NS after it at the latest. */
static void test_sealed_bye_bounded(void **state) {
  (void)state;
  uint8_t secret[32];
  for (unsigned i = 0; i < sizeof secret; i++)
    secret[i] = (uint8_t)(i * 5 + 3);
  bf_seal_key s2c, c2s;
  assert_int_equal(bf_seal_derive(secret, sizeof secret, &s2c, &c2s), 0);
  bf_sealer *seal;
  assert_int_equal(bf_sealer_new(&s2c, BF_SEAL_S2C, 77, &seal), 0);
  rig r;
  rig_open_with(&r, secret);

  bf_packetizer_config pc;
  bf_packetizer_config_default(&pc);
  pc.fec_percent = 0;
  bf_packetizer *pk;
  assert_int_equal(bf_packetizer_new(&pc, &pk), 0);
  uint8_t au[200], out[BF_MAX_DATAGRAM + BF_SEAL_OVERHEAD];
  memset(au, 9, sizeof au);
  int next = 0;
  /* sends AU |next| (one datagram), sealed, and lets the pump take it */
#define SEND_VIDEO()                                                                          \
  do {                                                                                       \
    assert_int_equal(bf_packetizer_begin(pk, au, sizeof au, (uint64_t)next * 16 * MS,        \
                                         next ? 0u : BF_AU_KEYFRAME),                         \
                     0);                                                                     \
    next++;                                                                                  \
    bf_dgram d;                                                                              \
    assert_int_equal(bf_packetizer_next(pk, &d, 1), 1);                                      \
    int n_ = bf_sealer_seal(seal, &d, out, sizeof out);                                      \
    assert_true(n_ > 0);                                                                     \
    bf_dgram sd = {out, (size_t)n_, NULL, 0};                                                \
    send_dgram(&r, &sd);                                                                     \
    assert_int_equal(bf_pump_receive(r.pump, 4), 1);                                         \
    drain(&r);                                                                               \
  } while (0)
  for (int i = 0; i < 5; i++) {
    SEND_VIDEO();
    fake_now += 16 * MS;
  }
  bf_feedback bye;
  memset(&bye, 0, sizeof bye);
  bye.type = BF_FB_BYE;
  bye.u.bye.reason = BF_BYE_NORMAL;
  uint8_t clear[BF_FB_MAX_BYTES];
  int cl = bf_feedback_encode(&bye, clear, sizeof clear);
  bf_dgram cd = {clear, (size_t)cl, NULL, 0};
  int sl = bf_sealer_seal(seal, &cd, out, sizeof out);
  assert_true(sl > 0);
  bf_dgram bd = {out, (size_t)sl, NULL, 0};
  send_dgram(&r, &bd);
  assert_int_equal(bf_pump_receive(r.pump, 4), 1);
  uint64_t t_bye = fake_now;
  /* fresh video every 16 ms after it: taken, and the BYE waits for it ... */
  bf_pump_window win;
  uint32_t reason = 99;
  while (fake_now + 16 * MS < t_bye + BF_PUMP_BYE_CANCEL_NS) {
    fake_now += 16 * MS;
    SEND_VIDEO();
    bf_pump_tick(r.pump, fake_now, &win);
    assert_int_equal(bf_pump_bye(r.pump, &reason), 0);
  }
  /* ... but not past BF_PUMP_BYE_CANCEL_NS: not ignored, acted upon */
  assert_true(bf_pump_next_due(r.pump) <= t_bye + BF_PUMP_BYE_CANCEL_NS);
  fake_now = t_bye + BF_PUMP_BYE_CANCEL_NS;
  bf_pump_tick(r.pump, fake_now, &win);
  assert_int_equal(bf_pump_bye(r.pump, &reason), 1);
  assert_int_equal(reason, BF_BYE_NORMAL);
  bf_pump_counters c;
  bf_pump_counters_get(r.pump, &c);
  assert_int_equal(c.byes, 1);
  assert_int_equal(c.byes_ignored, 0);
  bf_opener_stats st;
  assert_int_equal(bf_pump_seal_stats(r.pump, &st), 1);
  assert_int_equal(st.opened, (uint64_t)next + 1);
  assert_int_equal(st.bad_tag, 0);
#undef SEND_VIDEO
  bf_packetizer_del(&pk);
  rig_close(&r);
  bf_sealer_del(&seal);
  bf_seal_key_wipe(&s2c);
  bf_seal_key_wipe(&c2s);
}
#endif

static void test_open_errors(void **state) {
  (void)state;
  bf_pump *p;
  char err[256];
  bf_pump_config cfg = {"127.0.0.1:99999", NULL, 0, now_fn, NULL};
  assert_int_equal(bf_pump_open(&cfg, &p, err, sizeof err), -EINVAL);
  assert_null(p);
  assert_non_null(strstr(err, "127.0.0.1:99999"));
  cfg.direct = "127.0.0.1:9";
  cfg.bind = "127.0.0.1:notaport";
  assert_true(bf_pump_open(&cfg, &p, err, sizeof err) < 0);
  assert_non_null(strstr(err, "127.0.0.1:notaport"));
  /* a real socket opens and punches */
  cfg.bind = NULL;
  assert_int_equal(bf_pump_open(&cfg, &p, err, sizeof err), 0);
  assert_string_equal(bf_pump_peer_name(p), "127.0.0.1:9");
  bf_pump_close(&p, 0);
}

/* The descriptor the loop polls is the pump's own socket: a datagram sent
 * to the pump's local address makes it readable. */
static void test_fd(void **state) {
  (void)state;
  bf_pump *p;
  char err[256];
  bf_pump_config cfg = {"127.0.0.1:9", "127.0.0.1:0", 0, now_fn, NULL};
  assert_int_equal(bf_pump_open(&cfg, &p, err, sizeof err), 0);
  struct pollfd pf = {bf_pump_fd(p), POLLIN, 0};
  assert_true(pf.fd >= 0);
  assert_int_equal(poll(&pf, 1, 20), 0);
  bf_addr local;
  assert_int_equal(bf_transport_local_addr(bf_pump_transport(p), &local), 0);
  int u = socket(AF_INET, SOCK_DGRAM, 0);
  assert_true(u >= 0);
  assert_int_equal(sendto(u, "hello", 5, 0, (struct sockaddr *)&local.ss, local.len), 5);
  assert_int_equal(poll(&pf, 1, 1000), 1);
  assert_true(pf.revents & POLLIN);
  close(u);
  bf_pump_close(&p, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_punch_ping_pong),
      cmocka_unit_test(test_video_control_garbage),
      cmocka_unit_test(test_loss_window_and_bye),
      cmocka_unit_test(test_frame_info),
      cmocka_unit_test(test_order_and_bye_grace),
      cmocka_unit_test(test_loss_window_reorder),
      cmocka_unit_test(test_loss_window_busy_loop),
      cmocka_unit_test(test_loss_window_wrap_and_dups),
      cmocka_unit_test(test_open_errors),
      cmocka_unit_test(test_fd),
#ifdef BF_HAVE_SEAL
      cmocka_unit_test(test_sealed),
      cmocka_unit_test(test_sealed_bye_bounded),
#endif
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
