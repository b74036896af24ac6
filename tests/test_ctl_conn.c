/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The control connection (ctl_conn.c): two bf_ctl_conn ends, a client and a
 * sender session, over a real socketpair (and once over loopback TCP with
 * bf_ctl_conn_connect), with pins set up beforehand so they go straight to
 * Hello / Welcome. Covers: a burst of messages larger than the socket
 * buffer (short writes, the rest kept in order, POLLOUT asked for), the
 * output bound (the connection never holds more than BF_CTL_CONN_OUT_BYTES;
 * the rest waits in the session), a burst of events larger than the
 * session's ring, a peer that closes (read: EOF; write: a failed send ends
 * the session at once), the linger of a closed session whose peer never
 * reads, a connect that is refused and one that is given up at its
 * deadline. Session time is simulated: no session timer fires. SIGPIPE is
 * left alone: a send without MSG_NOSIGNAL would kill the test.
 */
#include "testutil.h"

#include <bildfunk/ctl_conn.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define SEC 1000000000ull
#define MS 1000000ull

typedef struct pair {
  bf_identity *cid, *sid;
  bf_pinstore *cpins, *spins;
  bf_ctl_conn c, s; /* client end, sender end */
  uint64_t now;
} pair;

static bf_ctl_session_cfg client_cfg(pair *p) {
  bf_ctl_session_cfg cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.role = BF_TLS_CLIENT;
  cfg.id = p->cid;
  cfg.pins = p->cpins;
  cfg.peer_name = "sender";
  cfg.pair = 0; /* pinned below: no pairing */
  bf_ctl_hello *h = &cfg.hello;
  h->proto_version = 1;
  h->mtu = 1500;
  h->codecs = BF_CTL_CODEC_BIT(BF_CTL_CODEC_H264);
  h->max_width = 1920;
  h->max_height = 1080;
  h->max_fps = 60;
  h->shard_bytes = 1408;
  h->caps = BF_CTL_CAP_SEALED;
  strcpy(h->name, "client");
  return cfg;
}

static bf_ctl_session_cfg sender_cfg(pair *p) {
  bf_ctl_session_cfg cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.role = BF_TLS_SERVER;
  cfg.id = p->sid;
  cfg.pins = p->spins;
  bf_ctl_offer *o = &cfg.offer;
  o->codec_pref[0] = BF_CTL_CODEC_H264;
  o->width = 1280;
  o->height = 720;
  o->fps = 60;
  o->shard_bytes = 1408;
  o->max_k = 64;
  o->fec_percent = 10;
  o->data_port = 40000;
  o->max_frame_bytes = 1u << 20;
  o->bitrate_kbps = 10000;
  o->sealed = 2;
  return cfg;
}

/* Identities and pins of both sides, each pinning the other. */
static void pair_init(pair *p) {
  memset(p, 0, sizeof *p);
  assert_int_equal(bf_identity_generate("client", &p->cid), 0);
  assert_int_equal(bf_identity_generate("sender", &p->sid), 0);
  assert_int_equal(bf_pinstore_open(NULL, &p->cpins), 0);
  assert_int_equal(bf_pinstore_open(NULL, &p->spins), 0);
  uint8_t fp[BF_FP_BYTES];
  bf_identity_fp(p->sid, fp);
  assert_int_equal(bf_pinstore_add(p->cpins, fp, "sender", 1, 1), 0);
  bf_identity_fp(p->cid, fp);
  assert_int_equal(bf_pinstore_add(p->spins, fp, "client", 1, 0), 0);
  bf_ctl_conn_init(&p->c);
  bf_ctl_conn_init(&p->s);
  p->now = 100 * SEC;
}

static void pair_free(pair *p) {
  bf_ctl_conn_close(&p->c);
  bf_ctl_conn_close(&p->s);
  bf_pinstore_del(&p->cpins);
  bf_pinstore_del(&p->spins);
  bf_identity_del(&p->cid);
  bf_identity_del(&p->sid);
}

/* Both sessions on the two ends of a socketpair, each socket's send buffer
 * set to |sndbuf| (0: the default). */
static void pair_start(pair *p, int sndbuf) {
  int sv[2];
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
  if (sndbuf)
    for (int i = 0; i < 2; i++)
      assert_int_equal(setsockopt(sv[i], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf), 0);
  bf_ctl_conn_adopt(&p->c, sv[0]);
  bf_ctl_conn_adopt(&p->s, sv[1]);
  bf_ctl_session_cfg cc = client_cfg(p), sc = sender_cfg(p);
  assert_int_equal(bf_ctl_conn_start(&p->c, &cc, p->now), 0);
  assert_int_equal(bf_ctl_conn_start(&p->s, &sc, p->now), 0);
}

/* The events one end saw: pings are checked to count up from |next_id|. */
typedef struct tally {
  int established, closed, pings;
  uint32_t next_id;
  bf_ctl_event last_closed;
} tally;

static void take(bf_ctl_conn *k, tally *t, uint64_t now) {
  bf_ctl_event ev;
  while (bf_ctl_conn_event(k, &ev, now)) {
    if (ev.type == BF_CTL_EV_MESSAGE && ev.msg.type == BF_CTL_CLOCK_PING) {
      assert_int_equal(ev.msg.u.ping.id, t->next_id); /* in order, none lost */
      t->next_id++;
      t->pings++;
    }
    if (ev.type == BF_CTL_EV_ESTABLISHED) t->established++;
    if (ev.type == BF_CTL_EV_CLOSED) {
      t->closed++;
      t->last_closed = ev;
    }
  }
}

/* One wake-up of one end, as the programs do it. */
static void service(bf_ctl_conn *k, tally *t, uint64_t now) {
  for (unsigned i = 0; i < BF_CTL_CONN_READS && bf_ctl_conn_read(k, now) > 0; i++)
    take(k, t, now);
  bf_ctl_conn_tick(k, now);
  bf_ctl_conn_flush(k, now);
  take(k, t, now);
}

/* Services both ends until both are established. */
static void pair_establish(pair *p, tally *tc, tally *ts) {
  for (int i = 0; i < 50 && !(tc->established && ts->established); i++) {
    service(&p->c, tc, p->now);
    service(&p->s, ts, p->now);
  }
  assert_int_equal(tc->established, 1);
  assert_int_equal(ts->established, 1);
  assert_int_equal(bf_ctl_session_state(p->c.s), BF_CTL_ST_ESTABLISHED);
}

static void send_pings(pair *p, uint32_t first, uint32_t n) {
  for (uint32_t i = 0; i < n; i++) {
    bf_ctl_msg m = {.type = BF_CTL_CLOCK_PING};
    m.u.ping.id = first + i;
    m.u.ping.t1_ns = p->now;
    assert_int_equal(bf_ctl_session_send(p->c.s, &m, p->now), 0);
  }
}

static void test_establish(void **state) {
  (void)state;
  pair p;
  pair_init(&p);
  pair_start(&p, 0);
  tally tc = {0}, ts = {0};
  pair_establish(&p, &tc, &ts);
  /* nothing waits, both read, nothing is due but the session timers */
  assert_int_equal(bf_ctl_conn_pending(&p.c), 0);
  assert_int_equal(bf_ctl_conn_poll_events(&p.c), POLLIN);
  assert_true(bf_ctl_conn_deadline(&p.c) == bf_ctl_session_deadline(p.c.s));
  assert_false(bf_ctl_conn_done(&p.c, p.now));
  pair_free(&p);
}

/* More than the socket and the connection's buffer take: short writes keep
 * the rest, the buffer never exceeds its bound, all arrive in order. */
static void test_short_write_and_bound(void **state) {
  (void)state;
  pair p;
  pair_init(&p);
  pair_start(&p, 4096);
  tally tc = {0}, ts = {0};
  pair_establish(&p, &tc, &ts);
  const uint32_t n = 4000; /* ~50 bytes on the wire each: ~200 KB */
  send_pings(&p, 0, n);
  size_t before = bf_ctl_conn_pending(&p.c);
  assert_true(before > 4u * BF_CTL_CONN_OUT_BYTES);
  assert_int_equal(bf_ctl_conn_flush(&p.c, p.now), 0);
  /* the kernel took some, the connection holds at most its bound, the
   * session the rest */
  size_t held = p.c.out_len - p.c.out_off;
  assert_true(held > 0 && held <= BF_CTL_CONN_OUT_BYTES);
  assert_true(bf_ctl_session_pending_out(p.c.s) > 0);
  assert_true(bf_ctl_conn_pending(&p.c) < before);
  assert_true(bf_ctl_conn_poll_events(&p.c) & POLLOUT);
  /* the sender reads a little at a time; the client flushes when it can */
  int rounds = 0;
  while (ts.pings < (int)n) {
    assert_true(++rounds < 10000);
    service(&p.s, &ts, p.now);
    assert_int_equal(bf_ctl_conn_flush(&p.c, p.now), 0);
    assert_true(p.c.out_len <= BF_CTL_CONN_OUT_BYTES);
  }
  assert_true(rounds > 1); /* it did not fit at once */
  assert_int_equal(ts.pings, n);
  assert_int_equal(bf_ctl_conn_pending(&p.c), 0);
  assert_false(bf_ctl_conn_poll_events(&p.c) & POLLOUT);
  pair_free(&p);
}

/* One read whose messages outnumber the session's event ring: every one is
 * handed out (the connection lets the session decode what waited). */
static void test_event_burst(void **state) {
  (void)state;
  pair p;
  pair_init(&p);
  pair_start(&p, 0);
  tally tc = {0}, ts = {0};
  pair_establish(&p, &tc, &ts);
  send_pings(&p, 0, 3 * BF_CTL_EVENTS);
  assert_int_equal(bf_ctl_conn_flush(&p.c, p.now), 0);
  assert_int_equal(bf_ctl_conn_pending(&p.c), 0);
  bf_ctl_event ev;
  assert_true(bf_ctl_conn_read(&p.s, p.now) > 0);
  int got = 0;
  while (bf_ctl_conn_event(&p.s, &ev, p.now))
    got += ev.type == BF_CTL_EV_MESSAGE;
  assert_int_equal(got, 3 * BF_CTL_EVENTS);
  assert_int_equal(bf_ctl_conn_read(&p.s, p.now), 0); /* nothing more */
  pair_free(&p);
}

/* The peer goes away: EOF on the read side ends the session ("lost"). */
static void test_peer_closes_read(void **state) {
  (void)state;
  pair p;
  pair_init(&p);
  pair_start(&p, 0);
  tally tc = {0}, ts = {0};
  pair_establish(&p, &tc, &ts);
  close(p.s.fd); /* no Bye, no close_notify */
  p.s.fd = -1;
  assert_int_equal(bf_ctl_conn_read(&p.c, p.now), -EPIPE);
  service(&p.c, &tc, p.now);
  assert_int_equal(tc.closed, 1);
  assert_false(tc.last_closed.by_peer);
  assert_non_null(strstr(tc.last_closed.text, "connection to the peer was lost"));
  assert_true(bf_ctl_conn_done(&p.c, p.now)); /* the Bye it tried cannot leave */
  assert_int_equal(bf_ctl_conn_poll_events(&p.c), 0);
  pair_free(&p);
}

/* A write to a peer that is gone fails: the session ends at once, without
 * waiting for a read to notice. */
static void test_peer_closes_write(void **state) {
  (void)state;
  pair p;
  pair_init(&p);
  pair_start(&p, 0);
  tally tc = {0}, ts = {0};
  pair_establish(&p, &tc, &ts);
  close(p.s.fd);
  p.s.fd = -1;
  send_pings(&p, 0, 1);
  assert_int_equal(bf_ctl_conn_flush(&p.c, p.now), -EPIPE);
  assert_true(p.c.broken);
  assert_int_equal(bf_ctl_conn_pending(&p.c), 0);
  assert_int_equal(bf_ctl_conn_poll_events(&p.c), 0);
  assert_true(bf_ctl_conn_done(&p.c, p.now));
  bf_ctl_event ev;
  int closed = 0;
  while (bf_ctl_conn_event(&p.c, &ev, p.now))
    if (ev.type == BF_CTL_EV_CLOSED) {
      closed++;
      assert_non_null(strstr(ev.text, "connection to the peer was lost"));
    }
  assert_int_equal(closed, 1);
  assert_int_equal(bf_ctl_conn_flush(&p.c, p.now), -EPIPE); /* stays broken */
  pair_free(&p);
}

/* A closed session whose peer never reads: its Bye waits, then the linger
 * ends the connection anyway; one that drains is done at once. */
static void test_linger(void **state) {
  (void)state;
  pair p;
  pair_init(&p);
  pair_start(&p, 4096);
  tally tc = {0}, ts = {0};
  pair_establish(&p, &tc, &ts);
  send_pings(&p, 0, 4000); /* fills the socket: the sender does not read */
  bf_ctl_conn_flush(&p.c, p.now);
  bf_ctl_session_close(p.c.s, BF_CTL_BYE_NORMAL, "bye", p.now);
  assert_int_equal(bf_ctl_conn_deadline(&p.c), 0); /* not flushed yet: due now */
  bf_ctl_conn_flush(&p.c, p.now);
  assert_true(bf_ctl_conn_pending(&p.c) > 0);
  assert_false(bf_ctl_conn_done(&p.c, p.now));
  assert_false(bf_ctl_conn_poll_events(&p.c) & POLLIN); /* closed: no more reading */
  assert_true(bf_ctl_conn_deadline(&p.c) == p.now + BF_CTL_CONN_LINGER_NS);
  assert_false(bf_ctl_conn_done(&p.c, p.now + BF_CTL_CONN_LINGER_NS - 1));
  assert_true(bf_ctl_conn_done(&p.c, p.now + BF_CTL_CONN_LINGER_NS));
  /* the other end: closed by the client's Bye once it reads it all */
  bf_ctl_conn_close(&p.c);
  for (int i = 0; i < 10000 && !ts.closed; i++)
    service(&p.s, &ts, p.now);
  assert_int_equal(ts.closed, 1);
  assert_true(bf_ctl_conn_done(&p.s, p.now));
  pair_free(&p);
}

static int listener(uint16_t *port) {
  int l = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  assert_true(l >= 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(bind(l, (struct sockaddr *)&a, sizeof a), 0);
  assert_int_equal(listen(l, 4), 0);
  socklen_t al = sizeof a;
  assert_int_equal(getsockname(l, (struct sockaddr *)&a, &al), 0);
  *port = ntohs(a.sin_port);
  return l;
}

/* bf_ctl_conn_connect over loopback TCP: a session through it, then a port
 * nobody listens on. */
static void test_connect_tcp(void **state) {
  (void)state;
  pair p;
  pair_init(&p);
  uint16_t port;
  int l = listener(&port);
  char text[32];
  snprintf(text, sizeof text, "127.0.0.1:%u", port);
  bf_addr to;
  assert_int_equal(bf_addr_parse(text, 0, &to), 0);
  assert_int_equal(bf_ctl_conn_connect(&p.c, &to, p.now + SEC), 0);
  assert_int_equal(bf_ctl_conn_poll_events(&p.c), POLLOUT);
  assert_true(bf_ctl_conn_deadline(&p.c) == p.now + SEC);
  int r = 0;
  for (int i = 0; i < 1000 && (r = bf_ctl_conn_connected(&p.c, p.now)) == 0; i++)
    poll(NULL, 0, 1);
  assert_int_equal(r, 1);
  assert_int_equal(bf_ctl_conn_connected(&p.c, p.now), 1); /* and stays so */
  int fd = -1;
  for (int i = 0; i < 1000 && (fd = accept4(l, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) < 0; i++)
    poll(NULL, 0, 1);
  assert_true(fd >= 0);
  bf_ctl_conn_adopt(&p.s, fd);
  bf_ctl_session_cfg cc = client_cfg(&p), sc = sender_cfg(&p);
  assert_int_equal(bf_ctl_conn_start(&p.c, &cc, p.now), 0);
  assert_int_equal(bf_ctl_conn_start(&p.s, &sc, p.now), 0);
  tally tc = {0}, ts = {0};
  for (int i = 0; i < 2000 && !(tc.established && ts.established); i++) {
    service(&p.c, &tc, p.now);
    service(&p.s, &ts, p.now);
    poll(NULL, 0, i > 10);
  }
  assert_int_equal(tc.established, 1);
  assert_int_equal(ts.established, 1);
  bf_ctl_conn_close(&p.c);
  bf_ctl_conn_close(&p.s);
  close(l);
  /* refused: reported by bf_ctl_conn_connected */
  l = listener(&port);
  close(l);
  snprintf(text, sizeof text, "127.0.0.1:%u", port);
  assert_int_equal(bf_addr_parse(text, 0, &to), 0);
  assert_int_equal(bf_ctl_conn_connect(&p.c, &to, p.now + SEC), 0);
  for (int i = 0; i < 1000 && (r = bf_ctl_conn_connected(&p.c, p.now)) == 0; i++)
    poll(NULL, 0, 1);
  assert_int_equal(r, -ECONNREFUSED);
  bf_ctl_conn_close(&p.c);
  /* a listener whose backlog is full drops the SYN: the connect stays
   * under way, and is given up at its deadline */
  l = listener(&port);
  assert_int_equal(listen(l, 0), 0);
  snprintf(text, sizeof text, "127.0.0.1:%u", port);
  assert_int_equal(bf_addr_parse(text, 0, &to), 0);
  bf_ctl_conn fill[4];
  int pending = -1;
  for (int i = 0; i < 4 && pending < 0; i++) {
    assert_int_equal(bf_ctl_conn_connect(&fill[i], &to, p.now + SEC), 0);
    poll(NULL, 0, 50);
    if (bf_ctl_conn_connected(&fill[i], p.now) == 0) pending = i;
  }
  assert_true(pending >= 0);
  assert_int_equal(bf_ctl_conn_connected(&fill[pending], p.now + SEC - 1), 0);
  assert_int_equal(bf_ctl_conn_connected(&fill[pending], p.now + SEC), -ETIMEDOUT);
  for (int i = 0; i <= pending; i++)
    bf_ctl_conn_close(&fill[i]);
  close(l);
  pair_free(&p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_establish),         cmocka_unit_test(test_short_write_and_bound),
      cmocka_unit_test(test_event_burst),       cmocka_unit_test(test_peer_closes_read),
      cmocka_unit_test(test_peer_closes_write), cmocka_unit_test(test_linger),
      cmocka_unit_test(test_connect_tcp),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
