/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * TURN client state machine against a server played by the test with the
 * STUN codec: the 401 challenge and the authenticated retry, wrong
 * credentials, TURN REST credentials (the expected password computed with
 * Python's hmac and base64), 438 stale nonces, SHA-256 when the server
 * offers it, responses with a bad integrity attribute, the RFC 8489
 * retransmission schedule and its timeout, refreshes of the allocation,
 * permissions and channels on time passed in, allocation loss, release,
 * Binding, ChannelData and Data indications unwrapped in place, Send
 * indications, demultiplexing, a 437 to Allocate (the stale allocation
 * released with Refresh 0, then allocated again 1.5 s later; or the
 * error).
 */
#include "testutil.h"

#include <bildfunk/turn.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#define MS 1000000ull
#define SEC 1000000000ull
#define REALM "bildfunk.test"

typedef struct srv {
  bf_turn *t;
  uint8_t key[BF_STUN_KEY_MAX];
  size_t key_len;
  bf_stun_alg alg;
  uint8_t req[BF_TURN_REQ_MAX]; /* the last request the client wrote */
  size_t req_len;
  bf_stun_msg m;
  uint8_t out[2048]; /* the answer being built */
  bf_stun_builder b;
} srv;

static void fill_rand(void *user, uint8_t *out, size_t n) {
  uint64_t *s = user;
  for (size_t i = 0; i < n; i++)
    out[i] = (uint8_t)((*s += 0x9e3779b97f4a7c15ull) >> 56);
}

static uint64_t g_rand;

static void addr4(bf_addr *a, const char *ip, uint16_t port) {
  memset(a, 0, sizeof *a);
  struct sockaddr_in *s = (struct sockaddr_in *)&a->ss;
  s->sin_family = AF_INET;
  s->sin_port = htons(port);
  assert_int_equal(inet_pton(AF_INET, ip, &s->sin_addr), 1);
  a->len = sizeof *s;
}

static void config(bf_turn_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  addr4(&cfg->server, "192.0.2.10", 3478);
  cfg->user = "alice";
  cfg->pass = "secret-a";
  cfg->rand = fill_rand;
  cfg->rand_user = &g_rand;
}

static void srv_open(srv *s, const bf_turn_config *cfg, const char *user, const char *pass) {
  memset(s, 0, sizeof *s);
  assert_int_equal(bf_turn_new(cfg, &s->t), 0);
  s->alg = BF_STUN_ALG_MD5;
  int n = bf_stun_long_term_key(BF_STUN_ALG_MD5, (const uint8_t *)user, strlen(user),
                                (const uint8_t *)REALM, strlen(REALM), (const uint8_t *)pass,
                                strlen(pass), s->key);
  assert_int_equal(n, 16);
  s->key_len = 16;
}

/* The next request the client sends at |now| (parsed into s->m), or 0. */
static int next_req(srv *s, uint64_t now) {
  const bf_addr *to = NULL;
  int n = bf_turn_write(s->t, now, s->req, sizeof s->req, &to);
  assert_true(n >= 0);
  if (n == 0) return 0;
  assert_non_null(to);
  assert_int_equal(bf_stun_parse(s->req, (size_t)n, &s->m), 0);
  assert_int_equal(s->m.cls, BF_STUN_REQUEST);
  s->req_len = (size_t)n;
  return n;
}

static void expect_req(srv *s, uint64_t now, uint16_t method) {
  assert_true(next_req(s, now) > 0);
  assert_int_equal(s->m.method, method);
}

static void begin(srv *s, bf_stun_class cls) {
  bf_stun_build(&s->b, s->out, sizeof s->out, s->m.method, cls, s->m.txid);
}

/* Ends the answer (with integrity under the server's key when |mi|) and
 * feeds it to the client; returns bf_turn_read's result. */
static int send_answer(srv *s, int mi, uint64_t now) {
  if (mi) bf_stun_put_integrity(&s->b, s->alg, s->key, s->key_len);
  int n = bf_stun_finish(&s->b);
  assert_true(n > 0);
  bf_turn_data d;
  return bf_turn_read(s->t, s->out, (size_t)n, now, &d);
}

static int answer_error(srv *s, int code, const char *nonce, uint64_t now) {
  begin(s, BF_STUN_ERROR);
  bf_stun_put_error(&s->b, code, bf_stun_error_name(code));
  if (nonce) {
    bf_stun_put(&s->b, BF_STUN_A_REALM, REALM, strlen(REALM));
    bf_stun_put(&s->b, BF_STUN_A_NONCE, nonce, strlen(nonce));
  }
  return send_answer(s, 0, now);
}

static int answer_ok(srv *s, uint32_t lifetime, uint64_t now) {
  begin(s, BF_STUN_SUCCESS);
  if (lifetime) bf_stun_put_u32(&s->b, BF_STUN_A_LIFETIME, lifetime);
  return send_answer(s, 1, now);
}

static void relayed_mapped(bf_addr *relayed, bf_addr *mapped) {
  addr4(relayed, "192.0.2.10", 50000);
  addr4(mapped, "198.51.100.1", 61000);
}

static int answer_allocated(srv *s, uint32_t lifetime, uint64_t now) {
  bf_addr relayed, mapped;
  relayed_mapped(&relayed, &mapped);
  begin(s, BF_STUN_SUCCESS);
  bf_stun_put_addr(&s->b, BF_STUN_A_XOR_RELAYED_ADDRESS, &relayed);
  bf_stun_put_addr(&s->b, BF_STUN_A_XOR_MAPPED_ADDRESS, &mapped);
  bf_stun_put_u32(&s->b, BF_STUN_A_LIFETIME, lifetime);
  return send_answer(s, 1, now);
}

/* The request carries these credentials and a valid integrity attribute. */
static void expect_auth(srv *s, const char *user, const char *nonce) {
  const bf_stun_attr *u = bf_stun_find(&s->m, BF_STUN_A_USERNAME);
  const bf_stun_attr *r = bf_stun_find(&s->m, BF_STUN_A_REALM);
  const bf_stun_attr *n = bf_stun_find(&s->m, BF_STUN_A_NONCE);
  assert_non_null(u);
  assert_non_null(r);
  assert_non_null(n);
  assert_int_equal(u->len, strlen(user));
  assert_memory_equal(bf_stun_value(&s->m, u), user, u->len);
  assert_memory_equal(bf_stun_value(&s->m, r), REALM, strlen(REALM));
  assert_int_equal(n->len, strlen(nonce));
  assert_memory_equal(bf_stun_value(&s->m, n), nonce, n->len);
  assert_int_equal(bf_stun_check_integrity(&s->m, s->alg, s->key, s->key_len), 0);
}

static void expect_event(srv *s, bf_turn_event_type type, bf_turn_event *ev) {
  bf_turn_event tmp;
  if (!ev) ev = &tmp;
  assert_int_equal(bf_turn_poll_event(s->t, ev), 1);
  if (ev->type != type) fprintf(stderr, "event %d: %s\n", ev->type, ev->reason);
  assert_int_equal(ev->type, type);
}

static void expect_no_event(srv *s) {
  bf_turn_event ev;
  assert_int_equal(bf_turn_poll_event(s->t, &ev), 0);
}

/* 401 challenge, authenticated Allocate, success at |now|. */
static void allocate(srv *s, const char *user, uint64_t now) {
  assert_int_equal(bf_turn_allocate(s->t, now), 0);
  assert_int_equal(bf_turn_allocate(s->t, now), -EALREADY);
  expect_req(s, now, BF_STUN_ALLOCATE);
  assert_null(bf_stun_find(&s->m, BF_STUN_A_USERNAME));
  assert_null(bf_stun_find(&s->m, BF_STUN_A_MESSAGE_INTEGRITY));
  uint32_t transport;
  assert_int_equal(bf_stun_get_u32(&s->m, BF_STUN_A_REQUESTED_TRANSPORT, &transport), 0);
  assert_int_equal(transport, BF_STUN_TRANSPORT_UDP << 24);
  assert_int_equal(answer_error(s, 401, "nonce-1", now), BF_TURN_RX_CONTROL);
  expect_req(s, now, BF_STUN_ALLOCATE);
  expect_auth(s, user, "nonce-1");
  assert_int_equal(answer_allocated(s, 600, now), BF_TURN_RX_CONTROL);
  bf_turn_event ev;
  expect_event(s, BF_TURN_EV_ALLOCATED, &ev);
  bf_addr relayed, mapped;
  relayed_mapped(&relayed, &mapped);
  assert_true(bf_addr_equal(&ev.addr, &relayed));
  assert_true(bf_addr_equal(&ev.mapped, &mapped));
  assert_int_equal(ev.lifetime_s, 600);
  assert_int_equal(bf_turn_state_get(s->t), BF_TURN_ALLOCATED);
  assert_true(bf_addr_equal(bf_turn_relayed(s->t), &relayed));
  assert_true(bf_addr_equal(bf_turn_mapped(s->t), &mapped));
}

static void test_allocate(void **state) {
  (void)state;
  bf_turn_config cfg;
  config(&cfg);
  srv s;
  srv_open(&s, &cfg, "alice", "secret-a");
  assert_int_equal(bf_turn_state_get(s.t), BF_TURN_IDLE);
  assert_null(bf_turn_relayed(s.t));
  allocate(&s, "alice", 5 * SEC);
  assert_int_equal(next_req(&s, 5 * SEC), 0);
  expect_no_event(&s);
  /* the refresh is due 60 s before the 600 s run out */
  assert_int_equal(bf_turn_next_due(s.t), 5 * SEC + 540 * SEC);
  bf_turn_stats st;
  bf_turn_stats_get(s.t, &st);
  assert_int_equal(st.requests, 1);
  assert_int_equal(st.auth_retries, 1);
  assert_int_equal(st.responses, 2);
  bf_turn_del(&s.t);
  assert_null(s.t);
}

static void test_wrong_credentials(void **state) {
  (void)state;
  bf_turn_config cfg;
  config(&cfg);
  cfg.pass = "not-the-password";
  srv s;
  srv_open(&s, &cfg, "alice", "secret-a");
  assert_int_equal(bf_turn_allocate(s.t, 0), 0);
  expect_req(&s, 0, BF_STUN_ALLOCATE);
  assert_int_equal(answer_error(&s, 401, "nonce-1", 0), BF_TURN_RX_CONTROL);
  expect_req(&s, 0, BF_STUN_ALLOCATE);
  /* the server cannot verify it: the key differs */
  assert_int_equal(bf_stun_check_integrity(&s.m, BF_STUN_ALG_MD5, s.key, s.key_len), -EBADMSG);
  assert_int_equal(answer_error(&s, 401, "nonce-2", 0), BF_TURN_RX_CONTROL);
  bf_turn_event ev;
  expect_event(&s, BF_TURN_EV_ERROR, &ev);
  assert_int_equal(ev.method, BF_STUN_ALLOCATE);
  assert_int_equal(ev.code, 401);
  assert_int_equal(ev.err, -EACCES);
  assert_non_null(strstr(ev.reason, "'alice'"));
  assert_non_null(strstr(ev.reason, "wrong user name or password"));
  assert_non_null(strstr(ev.reason, "192.0.2.10:3478"));
  assert_int_equal(bf_turn_state_get(s.t), BF_TURN_FAILED);
  assert_int_equal(next_req(&s, SEC), 0); /* no endless retry */
  assert_int_equal(bf_turn_next_due(s.t), UINT64_MAX);
  bf_turn_del(&s.t);
}

static void test_rest_credentials(void **state) {
  (void)state;
  bf_turn_config cfg;
  config(&cfg);
  cfg.user = "bob";
  cfg.pass = NULL;
  cfg.secret = "north wind";
  cfg.unix_time_s = 1700000000;
  cfg.rest_ttl_s = 86400;
  srv s;
  /* base64(HMAC-SHA1("north wind", "1700086400:bob")), from Python */
  srv_open(&s, &cfg, "1700086400:bob", "F1GJH5TR7D72p8KJRinGpFvULDs=");
  assert_string_equal(bf_turn_username(s.t), "1700086400:bob");
  static const uint8_t md5_key[16] = {0x5e, 0x13, 0x89, 0xb9, 0x0b, 0x26, 0xfb, 0x35,
                                      0x00, 0xea, 0xf5, 0x49, 0xf7, 0x7b, 0x88, 0xf2};
  assert_memory_equal(s.key, md5_key, 16);
  allocate(&s, "1700086400:bob", 0);
  bf_turn_del(&s.t);

  /* a wrong secret: the error says what to check */
  cfg.secret = "south wind";
  srv_open(&s, &cfg, "1700086400:bob", "F1GJH5TR7D72p8KJRinGpFvULDs=");
  assert_int_equal(bf_turn_allocate(s.t, 0), 0);
  expect_req(&s, 0, BF_STUN_ALLOCATE);
  answer_error(&s, 401, "n", 0);
  expect_req(&s, 0, BF_STUN_ALLOCATE);
  assert_int_equal(bf_stun_check_integrity(&s.m, BF_STUN_ALG_MD5, s.key, 16), -EBADMSG);
  answer_error(&s, 401, "n", 0);
  bf_turn_event ev;
  expect_event(&s, BF_TURN_EV_ERROR, &ev);
  assert_non_null(strstr(ev.reason, "shared secret"));
  bf_turn_del(&s.t);
}

static void test_retransmission(void **state) {
  (void)state;
  bf_turn_config cfg;
  config(&cfg);
  srv s;
  srv_open(&s, &cfg, "alice", "secret-a");
  uint64_t t0 = 100 * SEC;
  assert_int_equal(bf_turn_allocate(s.t, t0), 0);
  static const uint64_t at_ms[] = {0, 500, 1500, 3500, 7500, 15500, 31500};
  uint8_t first[BF_TURN_REQ_MAX];
  size_t first_len = 0;
  for (size_t i = 0; i < 7; i++) {
    uint64_t when = t0 + at_ms[i] * MS;
    assert_int_equal(bf_turn_next_due(s.t), when);
    assert_int_equal(next_req(&s, when - 1), 0); /* not early */
    expect_req(&s, when, BF_STUN_ALLOCATE);
    if (i == 0) {
      memcpy(first, s.req, s.req_len);
      first_len = s.req_len;
    }
    assert_int_equal(s.req_len, first_len); /* the same bytes every time */
    assert_memory_equal(s.req, first, first_len);
    assert_int_equal(next_req(&s, when), 0);
  }
  /* 16 RTO after the last send: failed */
  assert_int_equal(bf_turn_next_due(s.t), t0 + 39500 * MS);
  assert_int_equal(next_req(&s, t0 + 39499 * MS), 0);
  expect_no_event(&s);
  assert_int_equal(next_req(&s, t0 + 39500 * MS), 0);
  bf_turn_event ev;
  expect_event(&s, BF_TURN_EV_ERROR, &ev);
  assert_int_equal(ev.err, -ETIMEDOUT);
  assert_int_equal(ev.code, 0);
  assert_non_null(strstr(ev.reason, "no answer after 7 tries over 39.5 s"));
  assert_int_equal(bf_turn_state_get(s.t), BF_TURN_FAILED);
  bf_turn_stats st;
  bf_turn_stats_get(s.t, &st);
  assert_int_equal(st.retransmits, 6);
  assert_int_equal(st.timeouts, 1);
  /* a late answer to it matches nothing */
  assert_int_equal(answer_allocated(&s, 600, t0 + 40 * SEC), -ENOENT);
  /* it may be tried again */
  assert_int_equal(bf_turn_allocate(s.t, t0 + 41 * SEC), 0);
  bf_turn_del(&s.t);
}

static void test_stale_nonce(void **state) {
  (void)state;
  bf_turn_config cfg;
  config(&cfg);
  srv s;
  srv_open(&s, &cfg, "alice", "secret-a");
  allocate(&s, "alice", 0);
  bf_addr peer;
  addr4(&peer, "203.0.113.5", 40000);
  assert_int_equal(bf_turn_permit(s.t, &peer, SEC), 0);
  expect_req(&s, SEC, BF_STUN_CREATE_PERMISSION);
  bf_addr got;
  assert_int_equal(bf_stun_get_addr(&s.m, BF_STUN_A_XOR_PEER_ADDRESS, &got), 0);
  assert_true(bf_addr_equal(&got, &peer));
  uint8_t txid[12];
  memcpy(txid, s.m.txid, 12);
  assert_int_equal(answer_error(&s, 438, "nonce-2", SEC), BF_TURN_RX_CONTROL);
  expect_req(&s, SEC, BF_STUN_CREATE_PERMISSION);
  expect_auth(&s, "alice", "nonce-2");
  assert_memory_not_equal(s.m.txid, txid, 12); /* a new transaction */
  assert_int_equal(answer_ok(&s, 0, SEC), BF_TURN_RX_CONTROL);
  bf_turn_event ev;
  expect_event(&s, BF_TURN_EV_PERMISSION, &ev);
  assert_true(bf_addr_equal(&ev.addr, &peer));
  bf_turn_stats st;
  bf_turn_stats_get(s.t, &st);
  assert_int_equal(st.stale_nonce, 1);

  /* a server that never takes the nonce: three retries, then an error */
  bf_addr peer2;
  addr4(&peer2, "203.0.113.6", 40000);
  assert_int_equal(bf_turn_permit(s.t, &peer2, 2 * SEC), 0);
  for (int i = 0; i < 4; i++) {
    expect_req(&s, 2 * SEC, BF_STUN_CREATE_PERMISSION);
    answer_error(&s, 438, "nonce-x", 2 * SEC);
  }
  expect_event(&s, BF_TURN_EV_ERROR, &ev);
  assert_int_equal(ev.code, 438);
  assert_true(bf_addr_equal(&ev.addr, &peer2));
  assert_non_null(strstr(ev.reason, "CreatePermission"));
  assert_int_equal(bf_turn_state_get(s.t), BF_TURN_ALLOCATED); /* the allocation lives on */
  bf_turn_del(&s.t);
}

static void test_bad_integrity(void **state) {
  (void)state;
  bf_turn_config cfg;
  config(&cfg);
  srv s;
  srv_open(&s, &cfg, "alice", "secret-a");
  assert_int_equal(bf_turn_allocate(s.t, 0), 0);
  expect_req(&s, 0, BF_STUN_ALLOCATE);
  answer_error(&s, 401, "nonce-1", 0);
  expect_req(&s, 0, BF_STUN_ALLOCATE);
  /* no integrity, then a wrong key: both ignored, the request stays */
  bf_addr relayed, mapped;
  relayed_mapped(&relayed, &mapped);
  begin(&s, BF_STUN_SUCCESS);
  bf_stun_put_addr(&s.b, BF_STUN_A_XOR_RELAYED_ADDRESS, &relayed);
  bf_stun_put_u32(&s.b, BF_STUN_A_LIFETIME, 600);
  assert_int_equal(send_answer(&s, 0, 0), -EBADMSG);
  s.key[3] ^= 1;
  assert_int_equal(answer_allocated(&s, 600, 0), -EBADMSG);
  s.key[3] ^= 1;
  assert_int_equal(bf_turn_state_get(s.t), BF_TURN_ALLOCATING);
  expect_no_event(&s);
  bf_turn_stats st;
  bf_turn_stats_get(s.t, &st);
  assert_int_equal(st.bad_integrity, 2);
  assert_int_equal(answer_allocated(&s, 600, 0), BF_TURN_RX_CONTROL);
  expect_event(&s, BF_TURN_EV_ALLOCATED, NULL);
  bf_turn_del(&s.t);
}

static void test_sha256(void **state) {
  (void)state;
  bf_turn_config cfg;
  config(&cfg);
  srv s;
  srv_open(&s, &cfg, "alice", "secret-a");
  assert_int_equal(bf_turn_allocate(s.t, 0), 0);
  expect_req(&s, 0, BF_STUN_ALLOCATE);
  begin(&s, BF_STUN_ERROR);
  bf_stun_put_error(&s.b, 401, "Unauthenticated");
  bf_stun_put(&s.b, BF_STUN_A_REALM, REALM, strlen(REALM));
  bf_stun_put(&s.b, BF_STUN_A_NONCE, "obMatJos2AAACnonce", 18);
  static const uint8_t algs[] = {0, 1, 0, 0, 0, 2, 0, 0}; /* MD5, SHA-256 */
  bf_stun_put(&s.b, BF_STUN_A_PASSWORD_ALGORITHMS, algs, sizeof algs);
  assert_int_equal(send_answer(&s, 0, 0), BF_TURN_RX_CONTROL);
  expect_req(&s, 0, BF_STUN_ALLOCATE);
  s.alg = BF_STUN_ALG_SHA256;
  s.key_len = (size_t)bf_stun_long_term_key(BF_STUN_ALG_SHA256, (const uint8_t *)"alice", 5,
                                            (const uint8_t *)REALM, strlen(REALM),
                                            (const uint8_t *)"secret-a", 8, s.key);
  assert_int_equal(s.key_len, 32);
  expect_auth(&s, "alice", "obMatJos2AAACnonce");
  assert_int_equal(s.m.mi_off, 0);
  const bf_stun_attr *a = bf_stun_find(&s.m, BF_STUN_A_PASSWORD_ALGORITHM);
  assert_non_null(a);
  assert_memory_equal(bf_stun_value(&s.m, a), "\x00\x02\x00\x00", 4);
  a = bf_stun_find(&s.m, BF_STUN_A_PASSWORD_ALGORITHMS);
  assert_non_null(a);
  assert_int_equal(a->len, sizeof algs);
  assert_memory_equal(bf_stun_value(&s.m, a), algs, sizeof algs);
  assert_int_equal(answer_allocated(&s, 600, 0), BF_TURN_RX_CONTROL);
  expect_event(&s, BF_TURN_EV_ALLOCATED, NULL);
  bf_turn_del(&s.t);
}

static void test_refresh_timers(void **state) {
  (void)state;
  bf_turn_config cfg;
  config(&cfg);
  srv s;
  srv_open(&s, &cfg, "alice", "secret-a");
  uint64_t t0 = 10 * SEC;
  allocate(&s, "alice", t0);
  bf_addr peer, peer_b;
  addr4(&peer, "203.0.113.5", 40000);
  addr4(&peer_b, "203.0.113.9", 41000);
  assert_int_equal(bf_turn_permit(s.t, &peer, t0), 0);
  expect_req(&s, t0, BF_STUN_CREATE_PERMISSION);
  answer_ok(&s, 0, t0);
  expect_event(&s, BF_TURN_EV_PERMISSION, NULL);
  assert_int_equal(bf_turn_channel(s.t, &peer_b), -ENOENT);
  assert_int_equal(bf_turn_bind_channel(s.t, &peer_b, t0), 0);
  expect_req(&s, t0, BF_STUN_CHANNEL_BIND);
  uint32_t ch;
  assert_int_equal(bf_stun_get_u32(&s.m, BF_STUN_A_CHANNEL_NUMBER, &ch), 0);
  assert_int_equal(ch, BF_TURN_CHANNEL_MIN);
  assert_int_equal(bf_turn_channel(s.t, &peer_b), -ENOENT); /* not confirmed yet */
  answer_ok(&s, 0, t0);
  bf_turn_event ev;
  expect_event(&s, BF_TURN_EV_CHANNEL, &ev);
  assert_int_equal(ev.channel, BF_TURN_CHANNEL_MIN);
  expect_no_event(&s); /* its IP's permission came with it, unannounced */
  assert_int_equal(bf_turn_channel(s.t, &peer_b), BF_TURN_CHANNEL_MIN);

  /* both permissions at +240 s, the allocation at +540 s, the channel at
   * +540 s; answered, nothing more is due before the next round */
  assert_int_equal(bf_turn_next_due(s.t), t0 + 240 * SEC);
  assert_int_equal(next_req(&s, t0 + 240 * SEC - 1), 0);
  for (int i = 0; i < 2; i++) {
    expect_req(&s, t0 + 240 * SEC, BF_STUN_CREATE_PERMISSION);
    expect_auth(&s, "alice", "nonce-1");
    answer_ok(&s, 0, t0 + 240 * SEC);
  }
  assert_int_equal(next_req(&s, t0 + 240 * SEC), 0);
  expect_no_event(&s); /* refreshes are silent */
  assert_int_equal(bf_turn_next_due(s.t), t0 + 480 * SEC);
  for (int i = 0; i < 2; i++) {
    expect_req(&s, t0 + 480 * SEC, BF_STUN_CREATE_PERMISSION);
    answer_ok(&s, 0, t0 + 480 * SEC);
  }
  assert_int_equal(bf_turn_next_due(s.t), t0 + 540 * SEC);
  int seen_refresh = 0, seen_bind = 0;
  for (int i = 0; i < 2; i++) {
    assert_true(next_req(&s, t0 + 540 * SEC) > 0);
    if (s.m.method == BF_STUN_REFRESH) {
      uint32_t life;
      assert_int_equal(bf_stun_get_u32(&s.m, BF_STUN_A_LIFETIME, &life), 0);
      assert_int_equal(life, 600);
      answer_ok(&s, 300, t0 + 540 * SEC); /* the server may shorten it */
      seen_refresh++;
    } else {
      assert_int_equal(s.m.method, BF_STUN_CHANNEL_BIND);
      assert_int_equal(bf_stun_get_u32(&s.m, BF_STUN_A_CHANNEL_NUMBER, &ch), 0);
      assert_int_equal(ch, BF_TURN_CHANNEL_MIN); /* the same number */
      answer_ok(&s, 0, t0 + 540 * SEC);
      seen_bind++;
    }
  }
  assert_int_equal(seen_refresh, 1);
  assert_int_equal(seen_bind, 1);
  expect_event(&s, BF_TURN_EV_REFRESHED, &ev);
  assert_int_equal(ev.lifetime_s, 300);
  expect_no_event(&s);
  /* the channel's refresh renewed its IP's permission too: at 720 s only
   * the other one is due, then that one and the allocation at 780 s */
  assert_int_equal(bf_turn_next_due(s.t), t0 + 720 * SEC);
  expect_req(&s, t0 + 720 * SEC, BF_STUN_CREATE_PERMISSION);
  answer_ok(&s, 0, t0 + 720 * SEC);
  assert_int_equal(next_req(&s, t0 + 720 * SEC), 0);
  assert_int_equal(bf_turn_next_due(s.t), t0 + 780 * SEC);
  /* the allocation is gone on the server: lost, bindings dropped */
  int answered = 0;
  while (next_req(&s, t0 + 780 * SEC) > 0) {
    if (s.m.method != BF_STUN_REFRESH) continue;
    assert_int_equal(answer_error(&s, 437, NULL, t0 + 780 * SEC), BF_TURN_RX_CONTROL);
    answered = 1;
  }
  assert_true(answered);
  expect_event(&s, BF_TURN_EV_LOST, &ev);
  assert_non_null(strstr(ev.reason, "437 Allocation Mismatch"));
  assert_int_equal(bf_turn_state_get(s.t), BF_TURN_LOST);
  assert_int_equal(bf_turn_channel(s.t, &peer_b), -ENOENT);
  assert_null(bf_turn_relayed(s.t));
  assert_int_equal(bf_turn_next_due(s.t), UINT64_MAX);
  bf_turn_del(&s.t);
}

static void test_refresh_unanswered(void **state) {
  (void)state;
  bf_turn_config cfg;
  config(&cfg);
  srv s;
  srv_open(&s, &cfg, "alice", "secret-a");
  allocate(&s, "alice", 0);
  expect_req(&s, 540 * SEC, BF_STUN_REFRESH);
  uint64_t now = 540 * SEC;
  while (bf_turn_state_get(s.t) == BF_TURN_ALLOCATED) {
    now = bf_turn_next_due(s.t);
    assert_true(now <= 600 * SEC);
    next_req(&s, now);
  }
  assert_int_equal(now, 540 * SEC + 39500 * MS);
  bf_turn_event ev;
  expect_event(&s, BF_TURN_EV_LOST, &ev);
  assert_non_null(strstr(ev.reason, "Refresh: no answer after 7 tries"));
  bf_turn_del(&s.t);
}

static void test_release_and_binding(void **state) {
  (void)state;
  bf_turn_config cfg;
  config(&cfg);
  srv s;
  srv_open(&s, &cfg, "alice", "secret-a");
  assert_int_equal(bf_turn_release(s.t, 0), -EAGAIN);
  assert_int_equal(bf_turn_binding(s.t, 0), 0);
  expect_req(&s, 0, BF_STUN_BINDING);
  assert_null(bf_stun_find(&s.m, BF_STUN_A_USERNAME));
  bf_addr mapped;
  addr4(&mapped, "198.51.100.1", 61000);
  begin(&s, BF_STUN_SUCCESS);
  bf_stun_put_addr(&s.b, BF_STUN_A_XOR_MAPPED_ADDRESS, &mapped);
  assert_int_equal(send_answer(&s, 0, 0), BF_TURN_RX_CONTROL);
  bf_turn_event ev;
  expect_event(&s, BF_TURN_EV_MAPPED, &ev);
  assert_true(bf_addr_equal(&ev.mapped, &mapped));
  assert_true(bf_addr_equal(bf_turn_mapped(s.t), &mapped));

  allocate(&s, "alice", SEC);
  assert_int_equal(bf_turn_release(s.t, 2 * SEC), 0);
  expect_req(&s, 2 * SEC, BF_STUN_REFRESH);
  uint32_t life = 1;
  assert_int_equal(bf_stun_get_u32(&s.m, BF_STUN_A_LIFETIME, &life), 0);
  assert_int_equal(life, 0);
  assert_int_equal(answer_ok(&s, 0, 2 * SEC), BF_TURN_RX_CONTROL);
  expect_event(&s, BF_TURN_EV_RELEASED, NULL);
  assert_int_equal(bf_turn_state_get(s.t), BF_TURN_RELEASED);
  bf_turn_del(&s.t);
}

static void test_peer_data(void **state) {
  (void)state;
  bf_turn_config cfg;
  config(&cfg);
  cfg.fingerprint = 1;
  srv s;
  srv_open(&s, &cfg, "alice", "secret-a");
  allocate(&s, "alice", 0);
  assert_true(bf_stun_find(&s.m, BF_STUN_A_FINGERPRINT) != NULL);
  bf_addr peer;
  addr4(&peer, "203.0.113.5", 40000);
  assert_int_equal(bf_turn_bind_channel(s.t, &peer, 0), 0);
  expect_req(&s, 0, BF_STUN_CHANNEL_BIND);
  answer_ok(&s, 0, 0);
  expect_event(&s, BF_TURN_EV_CHANNEL, NULL);

  /* ChannelData, padded to 4 bytes as over TCP: the payload is read in place */
  uint8_t cd[12] = {0x40, 0x00, 0x00, 0x05, 'h', 'e', 'l', 'l', 'o', 0, 0, 0};
  bf_turn_data d;
  assert_int_equal(bf_turn_demux(cd, sizeof cd), BF_TURN_DEMUX_CHANNEL);
  assert_int_equal(bf_turn_read(s.t, cd, sizeof cd, 0, &d), BF_TURN_RX_DATA);
  assert_ptr_equal(d.d, cd + 4);
  assert_int_equal(d.len, 5);
  assert_int_equal(d.channel, 0x4000);
  assert_true(bf_addr_equal(d.peer, &peer));
  assert_int_equal(bf_turn_read(s.t, cd, 9, 0, &d), BF_TURN_RX_DATA); /* unpadded */
  assert_int_equal(bf_turn_read(s.t, cd, 8, 0, &d), -EBADMSG);        /* short */
  uint8_t big[16] = {0x40, 0x00, 0x00, 0x05};
  assert_int_equal(bf_turn_read(s.t, big, sizeof big, 0, &d), -EBADMSG); /* 7 extra */
  cd[1] = 0x01;
  assert_int_equal(bf_turn_read(s.t, cd, sizeof cd, 0, &d), -ENOENT); /* not bound */

  /* a Data indication from another peer */
  bf_addr other;
  addr4(&other, "203.0.113.77", 5555);
  uint8_t ind[128], txid[12] = {1};
  bf_stun_builder b;
  bf_stun_build(&b, ind, sizeof ind, BF_STUN_DATA, BF_STUN_INDICATION, txid);
  bf_stun_put_addr(&b, BF_STUN_A_XOR_PEER_ADDRESS, &other);
  bf_stun_put(&b, BF_STUN_A_DATA, "payload!", 8);
  bf_stun_put_fingerprint(&b);
  int n = bf_stun_finish(&b);
  assert_int_equal(bf_turn_read(s.t, ind, (size_t)n, 0, &d), BF_TURN_RX_DATA);
  assert_int_equal(d.len, 8);
  assert_memory_equal(d.d, "payload!", 8);
  assert_true(d.d > ind && d.d < ind + n); /* in place */
  assert_int_equal(d.channel, 0);
  assert_true(bf_addr_equal(d.peer, &other));
  ind[n - 1] ^= 1; /* broken fingerprint */
  assert_int_equal(bf_turn_read(s.t, ind, (size_t)n, 0, &d), -EBADMSG);

  /* a Send indication to it, read back */
  uint8_t out[128];
  n = bf_turn_send_indication(s.t, &other, (const uint8_t *)"back", 4, out, sizeof out);
  assert_true(n > 0 && n <= 20 + 12 + 8 + 8);
  bf_stun_msg m;
  assert_int_equal(bf_stun_parse(out, (size_t)n, &m), 0);
  assert_int_equal(m.method, BF_STUN_SEND);
  assert_int_equal(m.cls, BF_STUN_INDICATION);
  assert_true(m.fingerprint);
  bf_addr got;
  assert_int_equal(bf_stun_get_addr(&m, BF_STUN_A_XOR_PEER_ADDRESS, &got), 0);
  assert_true(bf_addr_equal(&got, &other));
  const bf_stun_attr *a = bf_stun_find(&m, BF_STUN_A_DATA);
  assert_memory_equal(bf_stun_value(&m, a), "back", 4);
  uint8_t hundred[100] = {0};
  assert_int_equal(bf_turn_send_indication(s.t, &other, hundred, 100, out, 64), -ENOBUFS);

  /* the 4 bytes a caller puts in front of its datagram */
  uint8_t hdr[4];
  bf_turn_channel_header(0x4000, 1200, hdr);
  assert_memory_equal(hdr, "\x40\x00\x04\xb0", 4);

  /* what is neither, or not for a client */
  uint8_t junk[24] = {0x80};
  assert_int_equal(bf_turn_demux(junk, sizeof junk), 0);
  assert_int_equal(bf_turn_read(s.t, junk, sizeof junk, 0, &d), -EPROTO);
  bf_stun_build(&b, ind, sizeof ind, BF_STUN_BINDING, BF_STUN_REQUEST, txid);
  n = bf_stun_finish(&b);
  assert_int_equal(bf_turn_demux(ind, (size_t)n), BF_TURN_DEMUX_STUN);
  assert_int_equal(bf_turn_read(s.t, ind, (size_t)n, 0, &d), -EPROTO);
  bf_turn_stats st;
  bf_turn_stats_get(s.t, &st);
  assert_int_equal(st.channel_data, 2);
  assert_int_equal(st.data_ind, 1);
  assert_int_equal(st.unknown_channel, 1);
  bf_turn_del(&s.t);
}

static void test_bindings_fail(void **state) {
  (void)state;
  bf_turn_config cfg;
  config(&cfg);
  srv s;
  srv_open(&s, &cfg, "alice", "secret-a");
  bf_addr peer;
  addr4(&peer, "203.0.113.5", 40000);
  assert_int_equal(bf_turn_permit(s.t, &peer, 0), -EAGAIN);
  allocate(&s, "alice", 0);
  assert_int_equal(bf_turn_bind_channel(s.t, &peer, 0), 0);
  expect_req(&s, 0, BF_STUN_CHANNEL_BIND);
  begin(&s, BF_STUN_ERROR);
  bf_stun_put_error(&s.b, 403, "Forbidden IP");
  assert_int_equal(send_answer(&s, 1, 0), BF_TURN_RX_CONTROL);
  bf_turn_event ev;
  expect_event(&s, BF_TURN_EV_ERROR, &ev);
  assert_int_equal(ev.code, 403);
  assert_int_equal(ev.err, -EPERM);
  assert_non_null(strstr(ev.reason, "ChannelBind"));
  assert_non_null(strstr(ev.reason, "Forbidden IP"));
  assert_true(bf_addr_equal(&ev.addr, &peer));
  /* nothing is left to refresh for it */
  assert_int_equal(bf_turn_next_due(s.t), 540 * SEC);
  /* eight IPs fit */
  for (int i = 0; i < (int)BF_TURN_MAX_PERMS; i++) {
    char ip[32];
    snprintf(ip, sizeof ip, "203.0.113.%d", 10 + i);
    addr4(&peer, ip, 1);
    int r = bf_turn_permit(s.t, &peer, 0);
    assert_true(r == 0 || r == -EBUSY); /* 8 request slots */
  }
  addr4(&peer, "203.0.113.99", 1);
  assert_int_equal(bf_turn_permit(s.t, &peer, 0), -ENOSPC);
  bf_turn_del(&s.t);
}

/* Allocate, 401, the authenticated Allocate answered 437 (an allocation of
 * this 5-tuple left on the server): the client releases it with an
 * authenticated Refresh of lifetime 0 (parsed into s->m). */
static void allocate_437(srv *s, uint64_t now) {
  assert_int_equal(bf_turn_allocate(s->t, now), 0);
  expect_req(s, now, BF_STUN_ALLOCATE);
  assert_int_equal(answer_error(s, 401, "nonce-1", now), BF_TURN_RX_CONTROL);
  expect_req(s, now, BF_STUN_ALLOCATE);
  expect_auth(s, "alice", "nonce-1");
  uint8_t txid[12];
  memcpy(txid, s->m.txid, 12);
  assert_int_equal(answer_error(s, 437, NULL, now), BF_TURN_RX_CONTROL);
  expect_no_event(s);
  assert_int_equal(bf_turn_state_get(s->t), BF_TURN_ALLOCATING);
  expect_req(s, now, BF_STUN_REFRESH);
  expect_auth(s, "alice", "nonce-1");
  uint32_t life = 1;
  assert_int_equal(bf_stun_get_u32(&s->m, BF_STUN_A_LIFETIME, &life), 0);
  assert_int_equal(life, 0);
  assert_null(bf_stun_find(&s->m, BF_STUN_A_REQUESTED_TRANSPORT));
  assert_memory_not_equal(s->m.txid, txid, 12);
}

static void test_mismatch_release(void **state) {
  (void)state;
  bf_turn_config cfg;
  config(&cfg);
  srv s;
  srv_open(&s, &cfg, "alice", "secret-a");
  allocate_437(&s, SEC);
  /* a stale nonce on the release is retried as on any request */
  assert_int_equal(answer_error(&s, 438, "nonce-2", SEC), BF_TURN_RX_CONTROL);
  expect_req(&s, SEC, BF_STUN_REFRESH);
  expect_auth(&s, "alice", "nonce-2");
  uint32_t life = 1;
  assert_int_equal(bf_stun_get_u32(&s.m, BF_STUN_A_LIFETIME, &life), 0);
  assert_int_equal(life, 0);
  uint8_t txid[12];
  memcpy(txid, s.m.txid, 12);
  assert_int_equal(answer_ok(&s, 0, SEC), BF_TURN_RX_CONTROL);
  expect_no_event(&s); /* not EV_RELEASED: this is no release of ours */
  assert_int_equal(bf_turn_state_get(s.t), BF_TURN_ALLOCATING);
  /* a new Allocate, a new transaction, 1.5 s later (coturn deletes a
   * released allocation on its timer, a second or two later) */
  uint64_t t1 = SEC + 1500 * MS;
  assert_int_equal(next_req(&s, SEC), 0);
  assert_int_equal(bf_turn_next_due(s.t), t1);
  assert_int_equal(next_req(&s, t1 - 1), 0);
  expect_req(&s, t1, BF_STUN_ALLOCATE);
  expect_auth(&s, "alice", "nonce-2");
  assert_memory_not_equal(s.m.txid, txid, 12);
  uint32_t transport;
  assert_int_equal(bf_stun_get_u32(&s.m, BF_STUN_A_REQUESTED_TRANSPORT, &transport), 0);
  assert_int_equal(transport, BF_STUN_TRANSPORT_UDP << 24);
  assert_int_equal(answer_allocated(&s, 600, t1), BF_TURN_RX_CONTROL);
  expect_event(&s, BF_TURN_EV_ALLOCATED, NULL);
  expect_no_event(&s);
  assert_int_equal(bf_turn_state_get(s.t), BF_TURN_ALLOCATED);
  assert_non_null(bf_turn_relayed(s.t));
  assert_int_equal(next_req(&s, t1), 0);
  assert_int_equal(bf_turn_next_due(s.t), t1 + 540 * SEC); /* refreshes run as usual */
  bf_turn_stats st;
  bf_turn_stats_get(s.t, &st);
  assert_int_equal(st.mismatch_released, 1);
  assert_int_equal(st.stale_nonce, 1);
  assert_int_equal(st.requests, 3); /* Allocate, the release, Allocate */
  bf_turn_del(&s.t);
}

static void test_mismatch_unreleased(void **state) {
  (void)state;
  bf_turn_config cfg;
  config(&cfg);
  srv s;
  bf_turn_event ev;
  /* released, but the next Allocates (1.5 s apart while the server may
   * still be deleting it) meet a 437 again: after the third, the end */
  srv_open(&s, &cfg, "alice", "secret-a");
  allocate_437(&s, 0);
  assert_int_equal(answer_ok(&s, 0, 0), BF_TURN_RX_CONTROL);
  uint8_t txid[12] = {0};
  for (uint64_t i = 1; i <= 3; i++) {
    assert_int_equal(bf_turn_next_due(s.t), i * 1500 * MS);
    assert_int_equal(next_req(&s, i * 1500 * MS - 1), 0);
    expect_req(&s, i * 1500 * MS, BF_STUN_ALLOCATE);
    expect_auth(&s, "alice", "nonce-1");
    assert_memory_not_equal(s.m.txid, txid, 12);
    memcpy(txid, s.m.txid, 12);
    expect_no_event(&s);
    assert_int_equal(answer_error(&s, 437, NULL, i * 1500 * MS), BF_TURN_RX_CONTROL);
  }
  expect_event(&s, BF_TURN_EV_ERROR, &ev);
  expect_no_event(&s);
  assert_int_equal(ev.method, BF_STUN_ALLOCATE);
  assert_int_equal(ev.code, 437);
  assert_int_equal(ev.err, -EADDRINUSE);
  assert_non_null(strstr(ev.reason, "192.0.2.10:3478, Allocate: 437 Allocation Mismatch: the "
                                    "server still holds an allocation for this address"));
  assert_non_null(strstr(ev.reason, "would not release it"));
  assert_int_equal(bf_turn_state_get(s.t), BF_TURN_FAILED);
  assert_int_equal(next_req(&s, 10 * SEC), 0); /* no more tries */
  assert_int_equal(bf_turn_next_due(s.t), UINT64_MAX);
  bf_turn_stats st;
  bf_turn_stats_get(s.t, &st);
  assert_int_equal(st.mismatch_released, 1);
  bf_turn_del(&s.t);

  /* the release refused: the end, without EV_RELEASED */
  srv_open(&s, &cfg, "alice", "secret-a");
  allocate_437(&s, 0);
  begin(&s, BF_STUN_ERROR);
  bf_stun_put_error(&s.b, 441, "Wrong credentials");
  assert_int_equal(send_answer(&s, 1, 0), BF_TURN_RX_CONTROL);
  expect_event(&s, BF_TURN_EV_ERROR, &ev);
  expect_no_event(&s);
  assert_int_equal(ev.method, BF_STUN_ALLOCATE);
  assert_int_equal(ev.code, 437);
  assert_non_null(strstr(ev.reason, "would not release it (Refresh: 441"));
  assert_int_equal(bf_turn_state_get(s.t), BF_TURN_FAILED);
  assert_int_equal(next_req(&s, SEC), 0);
  /* a new bf_turn_allocate may try the release once more */
  assert_int_equal(bf_turn_allocate(s.t, 2 * SEC), 0);
  expect_req(&s, 2 * SEC, BF_STUN_ALLOCATE);
  expect_auth(&s, "alice", "nonce-1"); /* the key is known by now */
  assert_int_equal(answer_error(&s, 437, NULL, 2 * SEC), BF_TURN_RX_CONTROL);
  expect_req(&s, 2 * SEC, BF_STUN_REFRESH);
  expect_no_event(&s);
  bf_turn_del(&s.t);

  /* the release answered 437 (the stale allocation ran out meanwhile):
   * nothing to wait for, Allocate at once */
  srv_open(&s, &cfg, "alice", "secret-a");
  allocate_437(&s, 0);
  assert_int_equal(answer_error(&s, 437, NULL, 0), BF_TURN_RX_CONTROL);
  expect_no_event(&s);
  expect_req(&s, 0, BF_STUN_ALLOCATE);
  expect_auth(&s, "alice", "nonce-1");
  assert_int_equal(bf_turn_state_get(s.t), BF_TURN_ALLOCATING);
  bf_turn_del(&s.t);

  /* the release unanswered: the end after its retransmissions */
  srv_open(&s, &cfg, "alice", "secret-a");
  allocate_437(&s, 0);
  while (bf_turn_state_get(s.t) == BF_TURN_ALLOCATING)
    next_req(&s, bf_turn_next_due(s.t));
  expect_event(&s, BF_TURN_EV_ERROR, &ev);
  assert_non_null(strstr(ev.reason, "would not release it (Refresh: no answer after 7 tries"));
  assert_int_equal(bf_turn_state_get(s.t), BF_TURN_FAILED);
  bf_turn_del(&s.t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_allocate),
      cmocka_unit_test(test_wrong_credentials),
      cmocka_unit_test(test_rest_credentials),
      cmocka_unit_test(test_retransmission),
      cmocka_unit_test(test_stale_nonce),
      cmocka_unit_test(test_bad_integrity),
      cmocka_unit_test(test_sha256),
      cmocka_unit_test(test_refresh_timers),
      cmocka_unit_test(test_refresh_unanswered),
      cmocka_unit_test(test_release_and_binding),
      cmocka_unit_test(test_peer_data),
      cmocka_unit_test(test_bindings_fail),
      cmocka_unit_test(test_mismatch_release),
      cmocka_unit_test(test_mismatch_unreleased),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
