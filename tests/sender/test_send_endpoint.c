/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The sender's data endpoint over real UDP sockets on loopback, a client
 * played by the library's channel (client role): adoption and the peer, a
 * PONG at once with the batch's time, the stream's events queued in order,
 * a re-target answered with BYE (replaced) to the old address, garbage of
 * every kind counted by the session, BYE, and in sealed modes: nothing but
 * punches without keys (control mode), sealed feedback both ways, and a
 * fresh replay window for a new client in sealed direct mode only.
 */
#include "testutil.h"

#include "send_endpoint.h"

#include <bildfunk/clock.h>

#include <poll.h>
#include <string.h>

typedef struct client {
  bf_channel *ch;
  bf_addr addr;
  size_t got;
  bf_feedback last;
} client;

static void on_feedback(void *user, const uint8_t *d, size_t len, const bf_addr *from,
                        uint64_t now) {
  (void)from, (void)now;
  client *c = user;
  if (bf_feedback_decode(d, len, &c->last) == 0) c->got++;
}

static void client_open(client *c, const bf_addr *sender) {
  memset(c, 0, sizeof *c);
  bf_udp_config uc;
  bf_udp_config_default(&uc);
  uc.bind = "127.0.0.1:0";
  uc.quiet = 1;
  bf_transport *t = NULL;
  assert_int_equal(bf_udp_open(&uc, &t), 0);
  assert_int_equal(bf_transport_local_addr(t, &c->addr), 0);
  bf_transport_set_peer(t, sender);
  bf_channel_config cc = {.role = BF_CHANNEL_CLIENT, .now = bf_clock_mono_ns};
  assert_int_equal(bf_channel_new(&cc, t, &c->ch), 0);
  bf_channel_on(c->ch, BF_DKIND_FEEDBACK, on_feedback, c);
}

typedef struct rig {
  bf_send_session ss;
  bf_send_endpoint ep;
  bf_addr addr;
} rig;

static void rig_open(rig *r, int control_mode) {
  memset(r, 0, sizeof *r);
  bf_send_session_config sc;
  bf_send_session_config_default(&sc);
  sc.closed = control_mode;
  bf_send_session_init(&r->ss, &sc);
  bf_send_endpoint_config ec = {.bind = "127.0.0.1:0",
                                .gso = 0,
                                .require_seal = control_mode,
                                .shard_bytes = 1408,
                                .burst_max = 64};
  char err[256] = "";
  assert_int_equal(bf_send_endpoint_open(&r->ep, &ec, &r->ss, err, sizeof err), 0);
  assert_int_equal(bf_transport_local_addr(bf_send_endpoint_transport(&r->ep), &r->addr), 0);
}

/* Receives on |ep| until |n| datagrams were read (2 s at most). */
static void ep_pump(bf_send_endpoint *ep, int n) {
  int got = 0;
  for (uint64_t end = bf_clock_mono_ns() + 2000000000ull; got < n && bf_clock_mono_ns() < end;) {
    struct pollfd p = {bf_send_endpoint_fd(ep), POLLIN, 0};
    (void)poll(&p, 1, 50);
    int r = bf_send_endpoint_receive(ep);
    assert_true(r >= 0);
    got += r;
  }
  assert_int_equal(got, n);
}

/* Receives on |c| until it has |n| feedback messages (2 s at most). */
static void client_pump(client *c, size_t n) {
  for (uint64_t end = bf_clock_mono_ns() + 2000000000ull; c->got < n && bf_clock_mono_ns() < end;) {
    struct pollfd p = {bf_channel_fd(c->ch), POLLIN, 0};
    (void)poll(&p, 1, 50);
    assert_true(bf_channel_receive(c->ch, 4) >= 0);
  }
  assert_int_equal(c->got, n);
}

static void send_fb(client *c, const bf_feedback *fb) {
  uint8_t b[BF_FB_MAX_BYTES];
  int n = bf_feedback_encode(fb, b, sizeof b);
  assert_true(n > 0);
  assert_int_equal(bf_channel_send(c->ch, b, (size_t)n, NULL), 1);
}

static void send_punch(client *c) {
  assert_int_equal(bf_punch_send(bf_channel_transport(c->ch)), 1);
}

static bf_feedback fb_of(bf_fb_type type) {
  bf_feedback f;
  memset(&f, 0, sizeof f);
  f.type = type;
  return f;
}

static void test_clear(void **state) {
  (void)state;
  rig r;
  rig_open(&r, 0);
  client a, b;
  client_open(&a, &r.addr);
  client_open(&b, &r.addr);
  bf_send_event ev;

  /* a punch: adopted, the peer is the client, the stream's event queued */
  send_punch(&a);
  ep_pump(&r.ep, 1);
  assert_true(bf_addr_equal(bf_channel_peer(r.ep.ch), &a.addr));
  assert_int_equal(bf_send_endpoint_next_event(&r.ep, &ev), 1);
  assert_int_equal(ev.type, BF_SS_ADOPT);
  assert_true(bf_addr_equal(&ev.from, &a.addr));
  assert_int_equal(bf_send_endpoint_next_event(&r.ep, &ev), 0);

  /* a ping: answered at once, no event; a loss report: an event */
  bf_feedback ping = fb_of(BF_FB_CLOCK_PING);
  ping.u.ping.id = 7;
  ping.u.ping.t1_ns = 1234;
  send_fb(&a, &ping);
  bf_feedback loss = fb_of(BF_FB_LOSS_REPORT);
  loss.u.loss.loss_ppm = 5000;
  send_fb(&a, &loss);
  ep_pump(&r.ep, 2);
  client_pump(&a, 1);
  assert_int_equal(a.last.type, BF_FB_CLOCK_PONG);
  assert_int_equal(a.last.u.pong.id, 7);
  assert_int_equal(a.last.u.pong.t1_ns, 1234);
  assert_true(a.last.u.pong.t2_ns > 0 && a.last.u.pong.t3_ns >= a.last.u.pong.t2_ns);
  assert_int_equal(r.ep.pongs_sent, 1);
  assert_int_equal(bf_send_endpoint_next_event(&r.ep, &ev), 1);
  assert_int_equal(ev.type, BF_SS_LOSS);
  assert_int_equal(ev.fb.u.loss.loss_ppm, 5000);

  /* every kind the sender does not take is the session's garbage */
  uint8_t junk[10] = {0x42}, audio[100] = {BF_MAGIC_AUDIO}, input[20] = {BF_MAGIC_INPUT};
  uint8_t video[BF_CHANNEL_VIDEO_MIN] = {0};
  assert_int_equal(bf_channel_send(a.ch, junk, sizeof junk, NULL), 1);
  assert_int_equal(bf_channel_send(a.ch, audio, sizeof audio, NULL), 1);
  assert_int_equal(bf_channel_send(a.ch, input, sizeof input, NULL), 1);
  assert_int_equal(bf_send(bf_channel_transport(a.ch), &(bf_dgram){video, sizeof video, NULL, 0}),
                   1);
  ep_pump(&r.ep, 4);
  assert_int_equal(r.ss.stats.garbage, 4);
  assert_int_equal(bf_send_endpoint_next_event(&r.ep, &ev), 0);

  /* the same IP from another port: re-targeted, BYE (replaced) to the old */
  send_punch(&b);
  ep_pump(&r.ep, 1);
  assert_true(bf_addr_equal(bf_channel_peer(r.ep.ch), &b.addr));
  assert_int_equal(bf_send_endpoint_next_event(&r.ep, &ev), 1);
  assert_int_equal(ev.type, BF_SS_RETARGET);
  assert_true(bf_addr_equal(&ev.old_peer, &a.addr));
  assert_true(bf_addr_equal(&ev.from, &b.addr));
  client_pump(&a, 1 + BF_SEND_EP_BYE_REPEAT);
  assert_int_equal(a.last.type, BF_FB_BYE);
  assert_int_equal(a.last.u.bye.reason, BF_BYE_REPLACED);
  assert_int_equal(r.ep.byes_sent, 1);

  /* a burst goes to the peer */
  uint8_t v[2][BF_CHANNEL_VIDEO_MIN];
  memset(v, 0, sizeof v);
  bf_dgram burst[2] = {{v[0], sizeof v[0], NULL, 0}, {v[1], sizeof v[1], NULL, 0}};
  assert_int_equal(bf_send_endpoint_burst(&r.ep, burst, 2, 0), 2);

  /* BYE: the peer is forgotten, the stream told */
  send_fb(&b, &(bf_feedback){.type = BF_FB_BYE});
  ep_pump(&r.ep, 1);
  assert_null(bf_channel_peer(r.ep.ch));
  assert_int_equal(bf_send_endpoint_next_event(&r.ep, &ev), 1);
  assert_int_equal(ev.type, BF_SS_BYE);
  assert_int_equal(r.ss.stats.byes, 1);

  bf_channel_del(&a.ch);
  bf_channel_del(&b.ch);
  bf_send_endpoint_close(&r.ep);
  bf_send_endpoint_close(&r.ep); /* twice is fine */
}

#ifdef BF_HAVE_SEAL
static const uint8_t secret[32] = {9, 8, 7, 6, 5, 4, 3, 2, 1};

static void test_control_mode(void **state) {
  (void)state;
  rig r;
  rig_open(&r, 1);
  client a;
  client_open(&a, &r.addr);
  bf_send_event ev;
  /* no session: feedback is not even opened, punches are refused */
  send_fb(&a, &(bf_feedback){.type = BF_FB_CLOCK_PING});
  send_punch(&a);
  ep_pump(&r.ep, 2);
  bf_channel_stats st;
  bf_channel_stats_get(r.ep.ch, &st);
  assert_int_equal(st.unsealed, 1);
  assert_int_equal(r.ss.stats.punches_denied, 1);
  assert_int_equal(r.ep.pongs_sent, 0);

  /* a session: its keys and its IP; sealed feedback both ways */
  assert_int_equal(bf_send_endpoint_key(&r.ep, secret), 0);
  assert_int_equal(bf_channel_seal(a.ch, secret, 1), 0);
  bf_send_session_allow(&r.ss, &a.addr);
  send_punch(&a);
  ep_pump(&r.ep, 1);
  assert_int_equal(bf_send_endpoint_next_event(&r.ep, &ev), 1);
  assert_int_equal(ev.type, BF_SS_ADOPT);
  send_fb(&a, &(bf_feedback){.type = BF_FB_CLOCK_PING, .u.ping = {3, 99}});
  ep_pump(&r.ep, 1);
  client_pump(&a, 1);
  assert_int_equal(a.last.type, BF_FB_CLOCK_PONG);
  assert_int_equal(a.last.u.pong.id, 3);

  /* a new punch from another port of the same IP keeps the replay window:
   * the client's seqs run on within a session */
  bf_opener_stats os;
  assert_int_equal(bf_channel_seal_stats(r.ep.ch, &os), 1);
  assert_int_equal(os.opened, 1);
  bf_send_endpoint_unkey(&r.ep);
  assert_false(bf_channel_sealed(r.ep.ch));
  assert_int_equal(bf_channel_seal_stats(r.ep.ch, &os), 1);
  assert_int_equal(os.opened, 1); /* the counters carry over */
  bf_channel_del(&a.ch);
  bf_send_endpoint_close(&r.ep);
}

/* Sealed direct mode: every new client gets a fresh replay window, so a
 * second client whose seqs start below the first's is heard. */
static void test_sealed_direct(void **state) {
  (void)state;
  rig r;
  rig_open(&r, 0);
  assert_int_equal(bf_send_endpoint_key(&r.ep, secret), 0);
  client a, b;
  client_open(&a, &r.addr);
  client_open(&b, &r.addr);
  assert_int_equal(bf_channel_seal(a.ch, secret, 1000000), 0);
  assert_int_equal(bf_channel_seal(b.ch, secret, 1), 0);
  bf_send_event ev;
  send_punch(&a);
  send_fb(&a, &(bf_feedback){.type = BF_FB_CLOCK_PING, .u.ping = {1, 1}});
  ep_pump(&r.ep, 2);
  client_pump(&a, 1);
  send_fb(&a, &(bf_feedback){.type = BF_FB_BYE});
  ep_pump(&r.ep, 1);
  assert_int_equal(bf_send_endpoint_next_event(&r.ep, &ev), 1);
  assert_int_equal(ev.type, BF_SS_BYE);
  /* the new client's seqs start far below the first's: its ping right
   * behind its punch is heard (a fresh window from the punch on) */
  send_punch(&b);
  send_fb(&b, &(bf_feedback){.type = BF_FB_CLOCK_PING, .u.ping = {2, 2}});
  ep_pump(&r.ep, 2);
  client_pump(&b, 1);
  assert_int_equal(b.last.u.pong.id, 2);
  bf_opener_stats os;
  assert_int_equal(bf_channel_seal_stats(r.ep.ch, &os), 1);
  assert_int_equal(os.replay_old, 0);
  assert_int_equal(os.opened, 3);
  assert_false(r.ep.failed);
  bf_channel_del(&a.ch);
  bf_channel_del(&b.ch);
  bf_send_endpoint_close(&r.ep);
}
#endif

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_clear),
#ifdef BF_HAVE_SEAL
      cmocka_unit_test(test_control_mode),
      cmocka_unit_test(test_sealed_direct),
#endif
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
