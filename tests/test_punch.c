/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Data punch (spec §7): the client schedule to the nanosecond, the sender's
 * accept / reject / fallback / refresh / re-target decisions, and the whole
 * exchange over real UDP sockets on loopback: adoption of the observed
 * source, then re-targeting when the client's source port changes.
 */
#include "testutil.h"

#include <bildfunk/punch.h>

#include <errno.h>
#include <string.h>

#if defined(_WIN32)
#include <windows.h>
#else
#include <time.h>
#endif

#define MS ((uint64_t)1000000)

static void test_client_schedule(void **state) {
  (void)state;
  bf_punch_client c;
  const uint64_t t0 = 5000 * MS;
  bf_punch_client_init(&c, t0, 1);
  /* 15 punches 200 ms apart, then every 2 s */
  uint64_t want[20];
  for (int i = 0; i < 15; i++)
    want[i] = t0 + (uint64_t)i * 200 * MS;
  for (int i = 15; i < 20; i++)
    want[i] = want[14] + (uint64_t)(i - 14) * 2000 * MS;
  for (int i = 0; i < 20; i++) {
    assert_true(bf_punch_client_next(&c) == want[i]);
    assert_int_equal(bf_punch_client_due(&c, want[i] - 1), 0);
    assert_int_equal(bf_punch_client_due(&c, want[i]), 1);
    assert_int_equal(bf_punch_client_due(&c, want[i]), 0); /* once */
  }
  assert_int_equal(c.sent, 20);
  /* late by 5 s: one punch, then the next a full interval later */
  uint64_t late = bf_punch_client_next(&c) + 5000 * MS;
  assert_int_equal(bf_punch_client_due(&c, late), 1);
  assert_int_equal(bf_punch_client_due(&c, late), 0);
  assert_true(bf_punch_client_next(&c) == late + 2000 * MS);
  bf_punch_client_stop(&c);
  assert_int_equal(bf_punch_client_due(&c, late + 100000 * MS), 0);
  assert_true(bf_punch_client_next(&c) == UINT64_MAX);
  /* without keepalive the schedule ends after the fast phase */
  bf_punch_client_init(&c, 0, 0);
  int n = 0;
  for (uint64_t t = 0; t < 60000 * MS; t += 10 * MS)
    n += bf_punch_client_due(&c, t);
  assert_int_equal(n, 15);
  assert_true(bf_punch_client_next(&c) == UINT64_MAX);
  /* with keepalive: 15 + one per 2 s after 2.8 s */
  bf_punch_client_init(&c, 0, 1);
  n = 0;
  for (uint64_t t = 0; t <= 30800 * MS; t += 10 * MS)
    n += bf_punch_client_due(&c, t);
  assert_int_equal(n, 15 + 14);
}

static bf_addr A(const char *s) {
  bf_addr a;
  assert_int_equal(bf_addr_parse(s, 0, &a), 0);
  return a;
}

static const uint8_t punch[8] = {'P', 'F', 'p', 'u', 'n', 'c', 'h', '1'};

static void test_sender_expected_ip(void **state) {
  (void)state;
  bf_punch_sender s;
  bf_punch_sender_config cfg = {0};
  cfg.expected = A("198.51.100.7:443"); /* control-plane peer; port ignored */
  cfg.reported = A("192.168.1.20:6000");
  const uint64_t t0 = 1000 * MS;
  assert_int_equal(bf_punch_sender_init(&s, &cfg, t0), 0);
  assert_int_equal(s.state, BF_PUNCH_WAITING);
  assert_null(bf_punch_sender_target(&s));
  assert_true(bf_punch_sender_deadline(&s) == t0 + 2500 * MS);
  bf_addr nat = A("198.51.100.7:40001"), other = A("198.51.100.8:40001");
  /* not a punch: stream data, feedback */
  const uint8_t fb[6] = {0xFB, 5, 0, 0, 0, 0};
  assert_int_equal(bf_punch_sender_on_datagram(&s, fb, 6, &nat, t0), BF_PUNCH_NOT_PUNCH);
  assert_int_equal(bf_punch_sender_on_datagram(&s, punch, 7, &nat, t0), BF_PUNCH_NOT_PUNCH);
  /* a punch from another IP is ignored */
  assert_int_equal(bf_punch_sender_on_datagram(&s, punch, 8, &other, t0), BF_PUNCH_REJECTED);
  assert_int_equal(s.rejected, 1);
  assert_int_equal(s.state, BF_PUNCH_WAITING);
  /* no fallback before the deadline */
  assert_int_equal(bf_punch_sender_poll(&s, t0 + 2499 * MS), 0);
  /* the punch: adopt the observed source */
  assert_int_equal(bf_punch_sender_on_datagram(&s, punch, 8, &nat, t0 + 300 * MS),
                   BF_PUNCH_RETARGET);
  assert_int_equal(s.state, BF_PUNCH_ADOPTED);
  assert_true(bf_addr_equal(bf_punch_sender_target(&s), &nat));
  assert_int_equal(bf_punch_sender_poll(&s, t0 + 3000 * MS), 0); /* adopted: no fallback */
  /* the same source again: refresh; a longer datagram with the magic counts */
  uint8_t longer[20];
  memcpy(longer, punch, 8);
  memset(longer + 8, 0, 12);
  assert_int_equal(bf_punch_sender_on_datagram(&s, longer, 20, &nat, t0 + 2000 * MS),
                   BF_PUNCH_REFRESH);
  assert_true(s.last_punch_ns == t0 + 2000 * MS);
  assert_int_equal(s.retargets, 0);
  /* NAT rebinding: new source port -> re-target */
  bf_addr moved = A("198.51.100.7:40777");
  assert_int_equal(bf_punch_sender_on_datagram(&s, punch, 8, &moved, t0 + 9000 * MS),
                   BF_PUNCH_RETARGET);
  assert_true(bf_addr_equal(bf_punch_sender_target(&s), &moved));
  assert_int_equal(s.retargets, 1);
  assert_int_equal(s.punches, 3);
  /* v4-mapped source of the same IP is the same peer */
  bf_addr mapped = A("[::ffff:198.51.100.7]:40777");
  assert_int_equal(bf_punch_sender_on_datagram(&s, punch, 8, &mapped, t0 + 9100 * MS),
                   BF_PUNCH_REFRESH);
}

static void test_sender_fallback(void **state) {
  (void)state;
  bf_punch_sender s;
  bf_punch_sender_config cfg = {0};
  cfg.expected = A("198.51.100.7:0");
  cfg.reported = A("192.168.1.20:6000");
  cfg.wait_ns = 100 * MS;
  assert_int_equal(bf_punch_sender_init(&s, &cfg, 0), 0);
  assert_int_equal(bf_punch_sender_poll(&s, 99 * MS), 0);
  assert_int_equal(bf_punch_sender_poll(&s, 100 * MS), 1);
  assert_int_equal(bf_punch_sender_poll(&s, 200 * MS), 0); /* once */
  assert_int_equal(s.state, BF_PUNCH_FALLBACK);
  assert_true(bf_addr_equal(bf_punch_sender_target(&s), &cfg.reported));
  /* a late punch still wins */
  bf_addr nat = A("198.51.100.7:40001");
  assert_int_equal(bf_punch_sender_on_datagram(&s, punch, 8, &nat, 5000 * MS), BF_PUNCH_RETARGET);
  assert_int_equal(s.state, BF_PUNCH_ADOPTED);
  assert_true(bf_addr_equal(bf_punch_sender_target(&s), &nat));
  /* nothing reported: keep waiting for a punch */
  cfg.reported.len = 0;
  assert_int_equal(bf_punch_sender_init(&s, &cfg, 0), 0);
  assert_int_equal(bf_punch_sender_poll(&s, 10000 * MS), 0);
  assert_null(bf_punch_sender_target(&s));
}

static void test_sender_direct_mode(void **state) {
  (void)state;
  bf_punch_sender s;
  bf_punch_sender_config cfg = {0};
  /* no expected IP and no list: anyone */
  assert_int_equal(bf_punch_sender_init(&s, &cfg, 0), 0);
  bf_addr x = A("203.0.113.1:1"), y = A("203.0.113.2:2"), z = A("203.0.113.3:3");
  assert_int_equal(bf_punch_sender_on_datagram(&s, punch, 8, &x, 0), BF_PUNCH_RETARGET);
  assert_int_equal(bf_punch_sender_on_datagram(&s, punch, 8, &y, 0), BF_PUNCH_RETARGET);
  assert_true(bf_addr_equal(bf_punch_sender_target(&s), &y));
  /* an allow-list */
  bf_addr allow[2] = {A("203.0.113.1:0"), A("203.0.113.2:0")};
  cfg.allow = allow;
  cfg.n_allow = 2;
  assert_int_equal(bf_punch_sender_init(&s, &cfg, 0), 0);
  assert_int_equal(bf_punch_sender_on_datagram(&s, punch, 8, &z, 0), BF_PUNCH_REJECTED);
  assert_int_equal(bf_punch_sender_on_datagram(&s, punch, 8, &y, 0), BF_PUNCH_RETARGET);
  assert_int_equal(bf_punch_sender_on_datagram(&s, punch, 8, &x, 0), BF_PUNCH_RETARGET);
  assert_int_equal(bf_punch_sender_on_datagram(&s, punch, 8, NULL, 0), BF_PUNCH_REJECTED);
  cfg.n_allow = BF_PUNCH_MAX_ALLOW + 1;
  assert_int_equal(bf_punch_sender_init(&s, &cfg, 0), -EINVAL);
}

/* ---- over real sockets -------------------------------------------------- */

static uint64_t now_ns(void) {
#if defined(_WIN32)
  return (uint64_t)GetTickCount64() * MS;
#else
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
#endif
}

static bf_transport *udp(const char *bind) {
  bf_udp_config c;
  bf_udp_config_default(&c);
  c.bind = bind;
  c.quiet = 1;
  bf_transport *t;
  assert_int_equal(bf_udp_open(&c, &t), 0);
  return t;
}

/* The sender's loop for up to |ms|: feed datagrams to the state machine and
 * follow its target. Returns the last event other than NOT_PUNCH. */
static bf_punch_event sender_pump(bf_transport *snd, bf_punch_sender *s, int ms) {
  uint8_t buf[BF_RECV_BUF_BYTES];
  bf_punch_event last = BF_PUNCH_NOT_PUNCH;
  uint64_t end = now_ns() + (uint64_t)ms * MS;
  while (now_ns() < end) {
    bf_addr from;
    int r = bf_recv(snd, buf, sizeof buf, &from);
    assert_true(r >= 0);
    if (r == 0) {
      if (last != BF_PUNCH_NOT_PUNCH) break;
      (void)bf_transport_wait(snd, 20);
      continue;
    }
    bf_punch_event e = bf_punch_sender_on_datagram(s, buf, (size_t)r, &from, now_ns());
    if (e == BF_PUNCH_RETARGET) bf_transport_set_peer(snd, bf_punch_sender_target(s));
    if (e != BF_PUNCH_NOT_PUNCH) last = e;
  }
  return last;
}

/* Sends one video-like datagram from |snd| to its current target; returns 1
 * when |rx| received it, 0 when nothing came within |ms|. */
static int stream_reaches(bf_transport *snd, bf_transport *rx, int ms) {
  uint8_t pkt[100], buf[BF_RECV_BUF_BYTES];
  memset(pkt, 0xC9, sizeof pkt);
  bf_dgram d = {pkt, sizeof pkt, NULL, 0};
  assert_int_equal(bf_send(snd, &d), 1);
  if (bf_transport_wait(rx, ms) != 1) return 0;
  int r = bf_recv(rx, buf, sizeof buf, NULL);
  return r == (int)sizeof pkt;
}

static void test_real_sockets(void **state) {
  (void)state;
  bf_transport *snd = udp("127.0.0.1:0");
  bf_transport *cli1 = udp("127.0.0.1:0");
  bf_transport *cli2 = udp("127.0.0.1:0");
  bf_addr snd_addr, c1, c2;
  assert_int_equal(bf_transport_local_addr(snd, &snd_addr), 0);
  assert_int_equal(bf_transport_local_addr(cli1, &c1), 0);
  assert_int_equal(bf_transport_local_addr(cli2, &c2), 0);
  bf_transport_set_peer(cli1, &snd_addr);
  bf_transport_set_peer(cli2, &snd_addr);

  bf_punch_sender s;
  bf_punch_sender_config cfg = {0};
  cfg.expected = A("127.0.0.1:0");
  cfg.reported = A("127.0.0.1:9"); /* wrong on purpose: the punch must win */
  assert_int_equal(bf_punch_sender_init(&s, &cfg, now_ns()), 0);

  /* the client punches from socket 1: the sender adopts its address */
  bf_punch_client pc;
  bf_punch_client_init(&pc, now_ns(), 1);
  assert_int_equal(bf_punch_client_due(&pc, now_ns()), 1);
  assert_int_equal(bf_punch_send(cli1), 1);
  assert_int_equal(sender_pump(snd, &s, 2000), BF_PUNCH_RETARGET);
  assert_true(bf_addr_equal(bf_punch_sender_target(&s), &c1));
  assert_true(bf_addr_equal(&snd->peer, &c1));
  assert_int_equal(stream_reaches(snd, cli1, 2000), 1);
  /* the same socket again refreshes */
  assert_int_equal(bf_punch_send(cli1), 1);
  assert_int_equal(sender_pump(snd, &s, 2000), BF_PUNCH_REFRESH);
  /* "rebinding": the client now punches from another port */
  assert_int_equal(bf_punch_send(cli2), 1);
  assert_int_equal(sender_pump(snd, &s, 2000), BF_PUNCH_RETARGET);
  assert_true(bf_addr_equal(bf_punch_sender_target(&s), &c2));
  assert_int_equal(s.retargets, 1);
  assert_int_equal(stream_reaches(snd, cli2, 2000), 1);
  assert_int_equal(stream_reaches(snd, cli1, 100), 0); /* the old port gets nothing */
#if defined(__linux__)
  /* a punch from another loopback IP is not the expected peer */
  bf_transport *stranger = udp("127.0.0.2:0");
  bf_transport_set_peer(stranger, &snd_addr);
  assert_int_equal(bf_punch_send(stranger), 1);
  assert_int_equal(sender_pump(snd, &s, 2000), BF_PUNCH_REJECTED);
  assert_true(bf_addr_equal(bf_punch_sender_target(&s), &c2));
  bf_transport_close(&stranger);
#endif
  bf_transport_close(&snd);
  bf_transport_close(&cli1);
  bf_transport_close(&cli2);
}

/* No punch at all: the sender falls back to the reported address after the
 * (shortened) wait, and the stream reaches a client that listens there. */
static void test_real_sockets_fallback(void **state) {
  (void)state;
  bf_transport *snd = udp("127.0.0.1:0");
  bf_transport *cli = udp("127.0.0.1:0");
  bf_addr c;
  assert_int_equal(bf_transport_local_addr(cli, &c), 0);
  bf_punch_sender s;
  bf_punch_sender_config cfg = {0};
  cfg.expected = A("127.0.0.1:0");
  cfg.reported = c;
  cfg.wait_ns = 150 * MS;
  uint64_t t0 = now_ns();
  assert_int_equal(bf_punch_sender_init(&s, &cfg, t0), 0);
  int changed = 0;
  while (!changed) {
    uint64_t now = now_ns();
    int wait_ms = now < bf_punch_sender_deadline(&s)
                      ? (int)((bf_punch_sender_deadline(&s) - now) / MS) + 1
                      : 0;
    (void)bf_transport_wait(snd, wait_ms);
    changed = bf_punch_sender_poll(&s, now_ns());
  }
  assert_true(now_ns() - t0 >= 150 * MS);
  bf_transport_set_peer(snd, bf_punch_sender_target(&s));
  assert_int_equal(s.state, BF_PUNCH_FALLBACK);
  assert_int_equal(stream_reaches(snd, cli, 2000), 1);
  bf_transport_close(&snd);
  bf_transport_close(&cli);
}

/* The sender's opening punches (protocol.md 7.1), on time passed in: no
 * round before a candidate; a new candidate at once; 200 ms rounds to every
 * candidate; nothing at or after 3 s from the start; a late caller gets one
 * round; stop ends it; duplicates, bad addresses and a third candidate. */
static void test_opener_schedule(void **state) {
  (void)state;
  const uint64_t t0 = 5000 * MS;
  bf_punch_opener o;
  const bf_addr *cand = NULL;
  bf_punch_opener_start(&o, t0);
  assert_int_equal(bf_punch_opener_next(&o), UINT64_MAX); /* nowhere to punch yet */
  assert_int_equal(bf_punch_opener_due(&o, t0 + 50 * MS, &cand), 0);
  bf_addr nat = A("198.51.100.7:40000"), lan = A("192.168.1.20:40000");
  assert_int_equal(bf_punch_opener_add(&o, &nat, t0 + 60 * MS), 1);
  assert_int_equal(bf_punch_opener_add(&o, &nat, t0 + 60 * MS), 0); /* duplicate */
  assert_int_equal(bf_punch_opener_add(&o, &lan, t0 + 60 * MS), 1);
  bf_addr third = A("203.0.113.1:1"), noport = A("203.0.113.1:0");
  assert_int_equal(bf_punch_opener_add(&o, &third, t0 + 60 * MS), -ENOSPC);
  assert_int_equal(bf_punch_opener_add(&o, &noport, t0 + 60 * MS), -EINVAL);
  assert_int_equal(bf_punch_opener_add(&o, NULL, t0 + 60 * MS), -EINVAL);
  /* only a host: a client cannot point the punches at a group or everyone */
  static const char *const not_hosts[] = {"0.0.0.0:40000",        "224.0.0.1:40000",
                                          "239.255.255.250:1900", "255.255.255.255:9",
                                          "[::]:40000",           "[ff02::1]:40000"};
  for (size_t i = 0; i < sizeof not_hosts / sizeof not_hosts[0]; i++) {
    bf_addr x = A(not_hosts[i]);
    assert_int_equal(bf_punch_opener_add(&o, &x, t0 + 60 * MS), -EINVAL);
  }
  /* due at once, both candidates */
  assert_int_equal(bf_punch_opener_next(&o), t0 + 60 * MS);
  assert_int_equal(bf_punch_opener_due(&o, t0 + 60 * MS, &cand), 2);
  assert_true(bf_addr_equal(&cand[0], &nat));
  assert_true(bf_addr_equal(&cand[1], &lan));
  assert_int_equal(bf_punch_opener_due(&o, t0 + 259 * MS, &cand), 0);
  assert_int_equal(bf_punch_opener_next(&o), t0 + 260 * MS);
  /* on time: every 200 ms until 3 s after the start */
  uint64_t rounds = 1;
  for (uint64_t t = t0 + 260 * MS; t < t0 + 4000 * MS; t += 10 * MS)
    if (bf_punch_opener_due(&o, t, &cand) == 2) rounds++;
  /* rounds at 60, 260, ..., 2860 ms: 15 */
  assert_int_equal(rounds, 15);
  assert_int_equal(o.rounds, 15);
  assert_int_equal(bf_punch_opener_next(&o), UINT64_MAX); /* the window closed */
  assert_int_equal(bf_punch_opener_add(&o, &third, t0 + 4000 * MS), 0);

  /* a late caller gets one round, not a burst; stop ends it */
  bf_punch_opener_start(&o, t0);
  assert_int_equal(bf_punch_opener_add(&o, &nat, t0), 1);
  assert_int_equal(bf_punch_opener_due(&o, t0, &cand), 1);
  assert_int_equal(bf_punch_opener_due(&o, t0 + 1000 * MS, &cand), 1);
  assert_int_equal(bf_punch_opener_due(&o, t0 + 1001 * MS, &cand), 0);
  assert_int_equal(bf_punch_opener_next(&o), t0 + 1200 * MS);
  bf_punch_opener_stop(&o);
  assert_int_equal(bf_punch_opener_due(&o, t0 + 1200 * MS, &cand), 0);
  assert_int_equal(bf_punch_opener_next(&o), UINT64_MAX);
  assert_int_equal(o.rounds, 2);
  /* a candidate that comes in late gets the rest of the window only */
  bf_punch_opener_start(&o, t0);
  assert_int_equal(bf_punch_opener_add(&o, &lan, t0 + 2900 * MS), 1);
  assert_int_equal(bf_punch_opener_due(&o, t0 + 2900 * MS, &cand), 1);
  assert_int_equal(bf_punch_opener_next(&o), t0 + 3000 * MS);
  assert_int_equal(bf_punch_opener_due(&o, t0 + 3100 * MS, &cand), 0);
  assert_int_equal(bf_punch_opener_next(&o), UINT64_MAX);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_opener_schedule),       cmocka_unit_test(test_client_schedule),
      cmocka_unit_test(test_sender_expected_ip),    cmocka_unit_test(test_sender_fallback),
      cmocka_unit_test(test_sender_direct_mode),    cmocka_unit_test(test_real_sockets),
      cmocka_unit_test(test_real_sockets_fallback),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
