/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The client's control connection (client/src/ctl_client.c) over real loopback
 * TCP against a sender role driven by the library in this test (its own
 * TLS 1.3 session, identity, pin store and rate limiter; the test plays the
 * sender's user and types the code the client shows): pairing, a pinned
 * reconnect without pairing, `bildfunk pair` over an existing and over a
 * changed pin (its Hello says pair-only, the others' do not), a sender
 * whose certificate changed, a sender that does not
 * know the client (Bye 3), a wrong code, a Welcome without sealing, a
 * normal Bye, connection refused, a sender that accepts TCP and never
 * answers (handshake timeout ~5 s) and one that goes silent after the
 * session is up (noticed within 2 s). Real time throughout.
 */
#include "testutil.h"

#include "net/ctl_client.h"

#include <bildfunk/ctl_session.h>
#include <bildfunk/identity.h>
#include <bildfunk/transport.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MS 1000000ull
#define SEC 1000000000ull

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * SEC + (uint64_t)ts.tv_nsec;
}

/* ---- the sender role ------------------------------------------------------ */

typedef enum srv_mode {
  SRV_NORMAL = 0,
  SRV_MUTE,   /* accepts TCP, never reads or writes */
  SRV_FREEZE, /* normal until established, then silent (socket stays open) */
} srv_mode;

typedef struct srv {
  int lfd, fd;
  uint16_t port;
  bf_identity *id;
  bf_pinstore *pins;
  bf_pair_limiter lim;
  bf_ctl_session_cfg cfg;
  bf_ctl_session *s;
  srv_mode mode;
  int confirm;         /* 1: accept when the code matches what the client showed; 0: reject */
  char client_code[8]; /* what the client showed (the user reads it off the screen) */
  char asked_code[8];  /* what the sender asked to confirm */
  char sender_code[8]; /* what the sender shows for the client's user */
  int confirm_asked;
  int established, closed;
  uint32_t hello_caps; /* the caps of the Hello the session was established with */
  uint32_t reason;
  int frozen;
} srv;

static void srv_init(srv *v, srv_mode mode) {
  memset(v, 0, sizeof *v);
  v->fd = -1;
  v->mode = mode;
  v->confirm = 1;
  assert_int_equal(bf_identity_generate("test sender", &v->id), 0);
  assert_int_equal(bf_pinstore_open(NULL, &v->pins), 0);
  bf_pair_limiter_init(&v->lim, BF_PAIR_LIMIT_DEFAULT_ATTEMPTS, BF_PAIR_LIMIT_DEFAULT_WINDOW_NS);
  v->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  assert_true(v->lfd >= 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(bind(v->lfd, (struct sockaddr *)&a, sizeof a), 0);
  assert_int_equal(listen(v->lfd, 4), 0);
  socklen_t al = sizeof a;
  assert_int_equal(getsockname(v->lfd, (struct sockaddr *)&a, &al), 0);
  v->port = ntohs(a.sin_port);
  v->cfg.role = BF_TLS_SERVER;
  v->cfg.id = v->id;
  v->cfg.pins = v->pins;
  v->cfg.limiter = &v->lim;
  v->cfg.wall_unix = 1700000000;
  bf_ctl_offer *o = &v->cfg.offer;
  o->codec_pref[0] = BF_CTL_CODEC_HEVC;
  o->codec_pref[1] = BF_CTL_CODEC_H264;
  o->width = 1920;
  o->height = 1080;
  o->fps = 60;
  o->shard_bytes = 1408;
  o->max_k = 64;
  o->fec_percent = 20;
  o->data_port = 40123;
  o->max_frame_bytes = 4u << 20;
  o->bitrate_kbps = 20000;
  o->sealed = 2;
}

/* Drops the connection (the listener stays) for the next round. */
static void srv_hangup(srv *v) {
  bf_ctl_session_del(&v->s);
  if (v->fd >= 0) close(v->fd);
  v->fd = -1;
  v->established = v->closed = v->confirm_asked = v->frozen = 0;
  v->hello_caps = 0;
  v->sender_code[0] = v->client_code[0] = 0;
  v->client_code[0] = v->asked_code[0] = 0;
}

static void srv_free(srv *v) {
  srv_hangup(v);
  close(v->lfd);
  bf_pinstore_del(&v->pins);
  bf_identity_del(&v->id);
}

static void srv_flush(srv *v) {
  uint8_t buf[4096];
  size_t n;
  while (v->fd >= 0 && (n = bf_ctl_session_take_out(v->s, buf, sizeof buf)) > 0) {
    size_t off = 0;
    while (off < n) {
      ssize_t w = send(v->fd, buf + off, n - off, MSG_NOSIGNAL);
      if (w < 0 && errno == EAGAIN) {
        struct pollfd p = {v->fd, POLLOUT, 0};
        poll(&p, 1, 100);
        continue;
      }
      if (w <= 0) return;
      off += (size_t)w;
    }
  }
}

static void srv_step(srv *v, uint64_t now) {
  if (v->fd < 0) {
    v->fd = accept4(v->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (v->fd < 0) return;
    if (v->mode == SRV_MUTE) return;
    assert_int_equal(bf_ctl_session_new(&v->cfg, now, &v->s), 0);
  }
  if (!v->s || v->frozen) return;
  uint8_t buf[16384];
  for (;;) {
    ssize_t n = recv(v->fd, buf, sizeof buf, 0);
    if (n > 0) {
      assert_int_equal(bf_ctl_session_feed(v->s, buf, (size_t)n, now), 0);
      continue;
    }
    if (n == 0) bf_ctl_session_eof(v->s, now);
    break;
  }
  bf_ctl_session_tick(v->s, now);
  bf_ctl_event ev;
  while (bf_ctl_session_poll(v->s, &ev)) {
    if (ev.type == BF_CTL_EV_CONFIRM_CODE) {
      v->confirm_asked = 1;
      snprintf(v->asked_code, sizeof v->asked_code, "%s", ev.code);
      snprintf(v->sender_code, sizeof v->sender_code, "%s", ev.code_peer);
      /* the user compares with the client's screen and types it */
      int ok = v->confirm && v->client_code[0] && !strcmp(v->client_code, ev.code);
      assert_int_equal(bf_ctl_session_confirm(v->s, ok, now), 0);
    } else if (ev.type == BF_CTL_EV_ESTABLISHED) {
      v->established = 1;
      v->hello_caps = ev.hello.caps;
    } else if (ev.type == BF_CTL_EV_CLOSED) {
      v->closed = 1;
      v->reason = ev.reason;
    }
  }
  srv_flush(v);
  if (v->mode == SRV_FREEZE && v->established) v->frozen = 1;
}

/* ---- the client ----------------------------------------------------------- */

typedef struct cli {
  bf_cctl *c;
  bf_ctl_event ev[32];
  size_t n;
  char shown[8];
  /* the client's user: 0 types the code the sender shows, 1 types another,
   * 2 closes the input, 3 types nothing yet, 4 cancels (bf_cctl_refuse_code) */
  int user;
  int typed;
  uint64_t t_open, t_closed, t_established;
} cli;

static void cli_open(cli *k, const char *target, const bf_identity *id, bf_pinstore *pins,
                     int pair) {
  memset(k, 0, sizeof *k);
  bf_cctl_config cc;
  memset(&cc, 0, sizeof cc);
  cc.target = target;
  cc.name = "test client";
  cc.pair = pair;
  cc.now = now_ns;
  cc.id = id;
  cc.pins = pins;
  char err[256];
  k->t_open = now_ns();
  int r = bf_cctl_open(&cc, &k->c, err, sizeof err);
  if (r) fail_msg("bf_cctl_open(%s): %s", target, err);
}

static const bf_ctl_event *cli_find(const cli *k, bf_ctl_event_type t) {
  for (size_t i = 0; i < k->n; i++)
    if (k->ev[i].type == t) return &k->ev[i];
  return NULL;
}

/* Runs both ends until the client is established or closed (or |stop_at|
 * state), at most |max_ns|. */
static void run(cli *k, srv *v, bf_cctl_state stop_at, uint64_t max_ns) {
  uint64_t end = now_ns() + max_ns;
  for (;;) {
    uint64_t now = now_ns();
    bf_cctl_service(k->c, now);
    bf_ctl_event ev;
    while (bf_cctl_event(k->c, &ev)) {
      if (k->n < 32) k->ev[k->n++] = ev;
      if (ev.type == BF_CTL_EV_SHOW_CODE && v) {
        snprintf(k->shown, sizeof k->shown, "%s", ev.code);
        snprintf(v->client_code, sizeof v->client_code, "%s", ev.code);
      }
    }
    /* the client's user reads the sender's code off the sender's screen */
    if (v && bf_cctl_awaiting_code(k->c) && v->sender_code[0] && k->user == 4) {
      assert_int_equal(bf_cctl_refuse_code(k->c, "the pairing was cancelled in the window", now),
                       0);
      assert_int_equal(bf_cctl_refuse_code(k->c, "twice", now), -EINVAL);
      k->typed = 1;
    }
    if (v && bf_cctl_awaiting_code(k->c) && v->sender_code[0] && k->user != 3) {
      char wrong[8];
      snprintf(wrong, sizeof wrong, "%06d", (atoi(v->sender_code) + 1) % 1000000);
      int r = bf_cctl_confirm_code(k->c,
                                   k->user == 0   ? v->sender_code
                                   : k->user == 1 ? wrong
                                                  : NULL,
                                   now);
      assert_int_equal(r, k->user == 0 ? 1 : 0);
      k->typed = 1;
      while (bf_cctl_event(k->c, &ev))
        if (k->n < 32) k->ev[k->n++] = ev;
    }
    bf_cctl_state st = bf_cctl_state_get(k->c);
    if (st == BF_CCTL_ESTABLISHED && !k->t_established) k->t_established = now;
    if (st == BF_CCTL_CLOSED) {
      k->t_closed = now;
      if (v) srv_step(v, now_ns()); /* take the Bye */
      return;
    }
    if (st == stop_at) return;
    if (v) srv_step(v, now);
    if (now > end)
      fail_msg("the session did not finish within %llu ms", (unsigned long long)(max_ns / MS));
    struct pollfd p[3] = {{bf_cctl_fd(k->c), bf_cctl_poll_events(k->c), 0},
                          {v ? v->lfd : -1, POLLIN, 0},
                          {v && !v->frozen ? v->fd : -1, POLLIN, 0}};
    poll(p, 3, 10);
  }
}

static void cli_close(cli *k) {
  bf_cctl_del(&k->c);
  assert_null(k->c);
}

static void target_of(const srv *v, char *out, size_t cap) {
  snprintf(out, cap, "127.0.0.1:%u", v->port);
}

/* Every session test's start: the library's sender role in |mode|, a fresh
 * client identity, an empty in-memory pin store, and the HOST:PORT to give
 * the client; fx_close frees all three. */
static void fx_open(srv *v, srv_mode mode, bf_identity **cid, bf_pinstore **pins, char *target,
                    size_t cap) {
  srv_init(v, mode);
  assert_int_equal(bf_identity_generate("client", cid), 0);
  assert_int_equal(bf_pinstore_open(NULL, pins), 0);
  target_of(v, target, cap);
}
static void fx_close(srv *v, bf_identity **cid, bf_pinstore **pins) {
  bf_pinstore_del(pins);
  bf_identity_del(cid);
  srv_free(v);
}

static void expect_message(const cli *k, int want_code, const char *needle) {
  char msg[1024];
  int code = bf_cctl_close_message(k->c, msg, sizeof msg);
  if (!strstr(msg, needle)) fail_msg("message '%s' lacks '%s'", msg, needle);
  assert_int_equal(code, want_code);
}

/* ---- tests ---------------------------------------------------------------- */

static void test_pair_then_pinned_reconnect(void **state) {
  (void)state;
  srv v;
  bf_identity *cid;
  bf_pinstore *pins;
  char target[64];
  fx_open(&v, SRV_NORMAL, &cid, &pins, target, sizeof target);

  /* first connection: no pin, so it pairs; the sender's user types the code */
  cli k;
  cli_open(&k, target, cid, pins, 1);
  run(&k, &v, BF_CCTL_ESTABLISHED, 10 * SEC);
  assert_int_equal(bf_cctl_state_get(k.c), BF_CCTL_ESTABLISHED);
  assert_non_null(cli_find(&k, BF_CTL_EV_SHOW_CODE));
  assert_int_equal(strlen(k.shown), 6);
  assert_true(v.confirm_asked);
  assert_string_equal(v.asked_code, k.shown);
  assert_true(k.typed); /* ... and the client's user typed the sender's */
  assert_string_equal(cli_find(&k, BF_CTL_EV_SHOW_CODE)->code_peer, ""); /* not handed out */
  assert_non_null(cli_find(&k, BF_CTL_EV_PAIRED));
  assert_non_null(cli_find(&k, BF_CTL_EV_ESTABLISHED));
  /* both pinned */
  uint8_t sfp[32], cfp[32];
  bf_identity_fp(v.id, sfp);
  bf_identity_fp(cid, cfp);
  const bf_pin *p = bf_pinstore_find_name(pins, target);
  assert_non_null(p);
  assert_memory_equal(p->fp, sfp, 32);
  p = bf_pinstore_find_fp(v.pins, cfp);
  assert_non_null(p);
  assert_string_equal(p->name, "test client");
  /* the mode: sealed, K and the data address from the Welcome */
  for (int i = 0; i < 20 && !v.established; i++) {
    srv_step(&v, now_ns());
    usleep(5000);
  }
  assert_true(v.established);
  /* a client that means to stream: sealed, not pair-only */
  assert_int_equal(v.hello_caps, BF_CTL_CAP_SEALED);
  bf_ctl_welcome w;
  assert_int_equal(bf_cctl_welcome(k.c, &w), 0);
  assert_true(w.flags & BF_CTL_WELCOME_SEALED);
  assert_int_equal(w.max_k, 64);
  assert_int_equal(w.codec, BF_CTL_CODEC_HEVC);
  char da[BF_ADDR_STRLEN];
  assert_int_equal(bf_cctl_data_addr(k.c, w.data_port, da, sizeof da), 0);
  assert_string_equal(da, "127.0.0.1:40123");
  uint8_t sec_c[32], sec_s[32];
  assert_int_equal(bf_cctl_seal_secret(k.c, sec_c, 32), 0);
  assert_int_equal(bf_ctl_session_seal_secret(v.s, sec_s, 32), 0);
  assert_memory_equal(sec_c, sec_s, 32);
  /* keepalives keep it up: 2.5 s is past the 1.5 s dead-peer limit */
  uint64_t until = now_ns() + 2500 * MS;
  while (now_ns() < until) {
    bf_cctl_service(k.c, now_ns());
    srv_step(&v, now_ns());
    usleep(20000);
  }
  assert_int_equal(bf_cctl_state_get(k.c), BF_CCTL_ESTABLISHED);
  assert_false(v.closed);
  /* the sender ends the stream: a normal Bye, exit 0 */
  bf_ctl_session_close(v.s, BF_CTL_BYE_NORMAL, "stream finished", now_ns());
  srv_flush(&v);
  run(&k, &v, BF_CCTL_CLOSED, 3 * SEC);
  assert_int_equal(bf_cctl_end_get(k.c), BF_CCTL_END_SESSION);
  expect_message(&k, 0, "the sender ended the stream");
  cli_close(&k);
  srv_hangup(&v);

  /* second connection: pinned both ways, no pairing */
  cli_open(&k, target, cid, pins, 1);
  run(&k, &v, BF_CCTL_ESTABLISHED, 10 * SEC);
  assert_int_equal(bf_cctl_state_get(k.c), BF_CCTL_ESTABLISHED);
  assert_null(cli_find(&k, BF_CTL_EV_SHOW_CODE));
  assert_null(cli_find(&k, BF_CTL_EV_PAIRED));
  assert_false(v.confirm_asked);
  /* the client leaves: the sender sees a normal Bye */
  bf_cctl_close(k.c, BF_CTL_BYE_NORMAL, "done", now_ns());
  cli_close(&k); /* flushes the Bye */
  for (int i = 0; i < 100 && !v.closed; i++) {
    srv_step(&v, now_ns());
    usleep(5000);
  }
  assert_true(v.closed);
  assert_int_equal(v.reason, BF_CTL_BYE_NORMAL);
  srv_hangup(&v);

  /* `bildfunk pair` with a pin: pairs again (the sender asks again) */
  cli_open(&k, target, cid, pins, 2);
  run(&k, &v, BF_CCTL_ESTABLISHED, 10 * SEC);
  assert_int_equal(bf_cctl_state_get(k.c), BF_CCTL_ESTABLISHED);
  assert_non_null(cli_find(&k, BF_CTL_EV_SHOW_CODE));
  assert_true(v.confirm_asked);
  assert_int_equal(bf_pinstore_count(pins), 1);
  /* ... telling the sender it only pairs, so the viewer that watches keeps the stream */
  for (int i = 0; i < 20 && !v.established; i++) {
    srv_step(&v, now_ns());
    usleep(5000);
  }
  assert_true(v.established);
  assert_int_equal(v.hello_caps, BF_CTL_CAP_SEALED | BF_CTL_CAP_PAIR_ONLY);
  cli_close(&k);
  srv_hangup(&v);

  fx_close(&v, &cid, &pins);
}

static void test_certificate_changed(void **state) {
  (void)state;
  srv v;
  srv_init(&v, SRV_NORMAL);
  bf_identity *cid, *old;
  bf_pinstore *pins;
  assert_int_equal(bf_identity_generate("client", &cid), 0);
  assert_int_equal(bf_identity_generate("old sender", &old), 0);
  assert_int_equal(bf_pinstore_open(NULL, &pins), 0);
  char target[64];
  target_of(&v, target, sizeof target);
  /* the client paired with a sender of another certificate under this name */
  uint8_t ofp[32], nfp[32], cfp[32];
  bf_identity_fp(old, ofp);
  bf_identity_fp(v.id, nfp);
  bf_identity_fp(cid, cfp);
  assert_int_equal(bf_pinstore_add(pins, ofp, target, 1600000000, 1), 0);
  assert_int_equal(bf_pinstore_add(v.pins, cfp, "test client", 1600000000, 0), 0);

  cli k;
  cli_open(&k, target, cid, pins, 1);
  run(&k, &v, BF_CCTL_CLOSED, 10 * SEC);
  assert_int_equal(bf_cctl_state_get(k.c), BF_CCTL_CLOSED);
  assert_int_equal(bf_cctl_end_get(k.c), BF_CCTL_END_CERT_CHANGED);
  assert_null(cli_find(&k, BF_CTL_EV_ESTABLISHED));
  assert_null(cli_find(&k, BF_CTL_EV_SHOW_CODE)); /* no silent re-pairing */
  char ohex[65], nhex[65], want[256];
  bf_fp_hex(ofp, ohex);
  bf_fp_hex(nfp, nhex);
  snprintf(want, sizeof want,
           "the sender's certificate changed (expected fp %.16s..., got %.16s...)", ohex, nhex);
  expect_message(&k, 1, want);
  snprintf(want, sizeof want, "run bildfunk pair %s to pair again", target);
  expect_message(&k, 1, want);
  /* the pin is untouched */
  const bf_pin *p = bf_pinstore_find_name(pins, target);
  assert_non_null(p);
  assert_memory_equal(p->fp, ofp, 32);
  cli_close(&k);
  srv_hangup(&v);

  /* `bildfunk pair` replaces the pin once the new pairing is confirmed */
  cli_open(&k, target, cid, pins, 2);
  run(&k, &v, BF_CCTL_ESTABLISHED, 10 * SEC);
  assert_int_equal(bf_cctl_state_get(k.c), BF_CCTL_ESTABLISHED);
  assert_int_equal(bf_pinstore_count(pins), 1);
  p = bf_pinstore_find_name(pins, target);
  assert_non_null(p);
  assert_memory_equal(p->fp, nfp, 32);
  cli_close(&k);
  srv_hangup(&v);

  bf_pinstore_del(&pins);
  bf_identity_del(&old);
  bf_identity_del(&cid);
  srv_free(&v);
}

static void test_not_paired_and_wrong_code(void **state) {
  (void)state;
  srv v;
  bf_identity *cid;
  bf_pinstore *pins;
  char target[64];
  fx_open(&v, SRV_NORMAL, &cid, &pins, target, sizeof target);
  /* the client pins the sender, the sender does not know the client
   * (revoked): Bye 3 */
  uint8_t sfp[32];
  bf_identity_fp(v.id, sfp);
  assert_int_equal(bf_pinstore_add(pins, sfp, target, 1600000000, 1), 0);
  cli k;
  cli_open(&k, target, cid, pins, 1);
  run(&k, &v, BF_CCTL_CLOSED, 10 * SEC);
  assert_int_equal(bf_cctl_state_get(k.c), BF_CCTL_CLOSED);
  int by_peer = 0;
  assert_int_equal(bf_cctl_reason(k.c, &by_peer), BF_CTL_BYE_NOT_PAIRED);
  assert_true(by_peer);
  char want[160];
  snprintf(want, sizeof want, "the sender closed the session: not paired (run: bildfunk pair %s)",
           target);
  expect_message(&k, 1, want);
  cli_close(&k);
  srv_hangup(&v);

  /* pairing where the user on the sender types another code */
  bf_pinstore_del(&pins);
  assert_int_equal(bf_pinstore_open(NULL, &pins), 0);
  v.confirm = 0;
  cli_open(&k, target, cid, pins, 1);
  run(&k, &v, BF_CCTL_CLOSED, 10 * SEC);
  assert_true(v.confirm_asked);
  assert_int_equal(bf_cctl_reason(k.c, &by_peer), BF_CTL_BYE_PAIR_FAILED);
  expect_message(&k, 1, "pairing refused: wrong code");
  assert_int_equal(bf_pinstore_count(pins), 0);
  cli_close(&k);
  srv_hangup(&v);

  fx_close(&v, &cid, &pins);
}

/* The other half of pairing: the client trusts the sender only once its own
 * user typed the code the sender shows. An impostor (or a sender the user
 * cannot see) accepts the pairing at once, but without that code nothing is
 * pinned and no session is passed on; the wrong code or a closed input ends
 * it. */
static void test_client_side_code(void **state) {
  (void)state;
  srv v;
  bf_identity *cid;
  bf_pinstore *pins;
  char target[64];
  fx_open(&v, SRV_NORMAL, &cid, &pins, target, sizeof target);

  /* the sender accepts at once; the client's user has not typed: held */
  cli k;
  cli_open(&k, target, cid, pins, 1);
  k.user = 3;
  uint64_t end = now_ns() + 5 * SEC;
  while (!v.established && now_ns() < end) {
    bf_cctl_service(k.c, now_ns());
    bf_ctl_event ev;
    while (bf_cctl_event(k.c, &ev)) {
      if (k.n < 32) k.ev[k.n++] = ev;
      if (ev.type == BF_CTL_EV_SHOW_CODE)
        snprintf(v.client_code, sizeof v.client_code, "%s", ev.code);
    }
    srv_step(&v, now_ns());
    usleep(2000);
  }
  assert_true(v.established); /* the sender's side is done */
  for (int i = 0; i < 20; i++) {
    bf_cctl_service(k.c, now_ns());
    srv_step(&v, now_ns());
    usleep(2000);
  }
  assert_int_equal(bf_cctl_awaiting_code(k.c), 1);
  assert_int_equal(bf_cctl_state_get(k.c), BF_CCTL_SETUP); /* not passed on */
  assert_int_equal(bf_pinstore_count(pins), 0);              /* not trusted yet */
  bf_ctl_event ev;
  while (bf_cctl_event(k.c, &ev))
    assert_int_not_equal(ev.type, BF_CTL_EV_ESTABLISHED);
  /* the user types the sender's code: trusted, pinned, established */
  assert_int_equal(bf_cctl_confirm_code(k.c, v.sender_code, now_ns()), 1);
  assert_int_equal(bf_cctl_state_get(k.c), BF_CCTL_ESTABLISHED);
  assert_int_equal(bf_pinstore_count(pins), 1);
  assert_int_equal(bf_cctl_confirm_code(k.c, v.sender_code, now_ns()), -EINVAL);
  cli_close(&k);
  srv_hangup(&v);

  /* a wrong code on the client: refused here, nothing pinned */
  bf_pinstore_del(&pins);
  assert_int_equal(bf_pinstore_open(NULL, &pins), 0);
  cli_open(&k, target, cid, pins, 1);
  k.user = 1;
  run(&k, &v, BF_CCTL_CLOSED, 10 * SEC);
  assert_true(k.typed);
  assert_int_equal(bf_cctl_end_get(k.c), BF_CCTL_END_USER_CODE);
  char want[200];
  snprintf(want, sizeof want,
           "pairing refused here: the code typed on the client is not the one this sender shows "
           "(is %s the sender you meant?)",
           target);
  expect_message(&k, 1, want);
  assert_int_equal(bf_pinstore_count(pins), 0);
  assert_null(cli_find(&k, BF_CTL_EV_PAIRED));
  assert_null(cli_find(&k, BF_CTL_EV_ESTABLISHED));
  cli_close(&k);
  srv_hangup(&v);

  /* the input closed before a code was typed */
  cli_open(&k, target, cid, pins, 1);
  k.user = 2;
  run(&k, &v, BF_CCTL_CLOSED, 10 * SEC);
  assert_int_equal(bf_cctl_end_get(k.c), BF_CCTL_END_USER_CODE);
  assert_int_equal(bf_pinstore_count(pins), 0);
  cli_close(&k);
  srv_hangup(&v);

  /* the user cancels (Esc in the window): refused here with that reason */
  cli_open(&k, target, cid, pins, 1);
  k.user = 4;
  run(&k, &v, BF_CCTL_CLOSED, 10 * SEC);
  assert_true(k.typed);
  assert_int_equal(bf_cctl_end_get(k.c), BF_CCTL_END_USER_CODE);
  snprintf(want, sizeof want,
           "pairing refused here: the pairing was cancelled in the window "
           "(is %s the sender you meant?)",
           target);
  expect_message(&k, 1, want);
  assert_int_equal(bf_pinstore_count(pins), 0);
  assert_null(cli_find(&k, BF_CTL_EV_PAIRED));
  cli_close(&k);
  srv_hangup(&v);

  fx_close(&v, &cid, &pins);
}

static void test_refuses_clear_welcome(void **state) {
  (void)state;
  srv v;
  srv_init(&v, SRV_NORMAL);
  v.cfg.offer.sealed = 0; /* a sender that would stream in the clear */
  bf_identity *cid;
  bf_pinstore *pins;
  assert_int_equal(bf_identity_generate("client", &cid), 0);
  assert_int_equal(bf_pinstore_open(NULL, &pins), 0);
  char target[64];
  target_of(&v, target, sizeof target);
  cli k;
  cli_open(&k, target, cid, pins, 1);
  run(&k, &v, BF_CCTL_CLOSED, 10 * SEC);
  assert_int_equal(bf_cctl_state_get(k.c), BF_CCTL_CLOSED);
  assert_int_equal(bf_cctl_end_get(k.c), BF_CCTL_END_CLEAR);
  assert_null(cli_find(&k, BF_CTL_EV_ESTABLISHED));
  uint8_t sec[32];
  assert_int_equal(bf_cctl_seal_secret(k.c, sec, 32), -EAGAIN);
  expect_message(&k, 1, "refusing to stream in the clear");
  cli_close(&k);
  for (int i = 0; i < 100 && !v.closed; i++) {
    srv_step(&v, now_ns());
    usleep(5000);
  }
  assert_true(v.closed); /* the sender was told */
  srv_hangup(&v);
  fx_close(&v, &cid, &pins);
}

static void test_connection_refused(void **state) {
  (void)state;
  /* a port nobody listens on: bind one, note it, close it */
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
  socklen_t al = sizeof a;
  assert_int_equal(getsockname(s, (struct sockaddr *)&a, &al), 0);
  close(s);
  char target[64];
  snprintf(target, sizeof target, "127.0.0.1:%u", ntohs(a.sin_port));
  bf_identity *cid;
  bf_pinstore *pins;
  assert_int_equal(bf_identity_generate("client", &cid), 0);
  assert_int_equal(bf_pinstore_open(NULL, &pins), 0);
  cli k;
  cli_open(&k, target, cid, pins, 1);
  run(&k, NULL, BF_CCTL_CLOSED, 6 * SEC);
  assert_int_equal(bf_cctl_end_get(k.c), BF_CCTL_END_CONNECT);
  assert_true(k.t_closed - k.t_open < SEC);
  char want[128];
  snprintf(want, sizeof want, "cannot connect to %s: Connection refused", target);
  expect_message(&k, 1, want);
  cli_close(&k);

  /* without a port the default control port is named */
  bf_cctl_config cc;
  memset(&cc, 0, sizeof cc);
  cc.target = "127.0.0.1";
  cc.now = now_ns;
  cc.id = cid;
  cc.pins = pins;
  char err[128];
  assert_int_equal(bf_cctl_open(&cc, &k.c, err, sizeof err), 0);
  assert_string_equal(bf_cctl_endpoint(k.c), "127.0.0.1:47999");
  assert_string_equal(bf_cctl_target(k.c), "127.0.0.1");
  cli_close(&k);
  /* bad targets are errors at open */
  cc.target = "127.0.0.1:99999";
  assert_int_equal(bf_cctl_open(&cc, &k.c, err, sizeof err), -EINVAL);
  assert_non_null(strstr(err, "127.0.0.1:99999"));
  cc.target = "no-such-host.invalid";
  assert_int_equal(bf_cctl_open(&cc, &k.c, err, sizeof err), -ENOENT);
  assert_non_null(strstr(err, "no-such-host.invalid: host not found"));
  /* the pin name: as typed, lower-cased */
  char pn[80];
  assert_int_equal(bf_cctl_pin_name_of("Gaming-PC.LAN:48000", pn, sizeof pn), 0);
  assert_string_equal(pn, "gaming-pc.lan:48000");
  bf_pinstore_del(&pins);
  bf_identity_del(&cid);
}

static void test_handshake_timeout(void **state) {
  (void)state;
  srv v;
  bf_identity *cid;
  bf_pinstore *pins;
  char target[64];
  fx_open(&v, SRV_MUTE, &cid, &pins, target, sizeof target);
  cli k;
  cli_open(&k, target, cid, pins, 1);
  run(&k, &v, BF_CCTL_CLOSED, 8 * SEC);
  assert_true(v.fd >= 0); /* TCP was accepted */
  assert_int_equal(bf_cctl_state_get(k.c), BF_CCTL_CLOSED);
  uint64_t took = k.t_closed - k.t_open;
  if (took < 4900 * MS || took > 6 * SEC)
    fail_msg("handshake timeout after %.3f s, want ~5 s", (double)took / 1e9);
  int by_peer = 1;
  assert_int_equal(bf_cctl_reason(k.c, &by_peer), BF_CTL_BYE_TIMEOUT);
  assert_false(by_peer);
  char want[128];
  snprintf(want, sizeof want, "%s did not complete the session set-up in time", target);
  expect_message(&k, 1, want);
  cli_close(&k);
  srv_hangup(&v);
  fx_close(&v, &cid, &pins);
}

static void test_dead_peer(void **state) {
  (void)state;
  srv v;
  bf_identity *cid;
  bf_pinstore *pins;
  char target[64];
  fx_open(&v, SRV_FREEZE, &cid, &pins, target, sizeof target);
  uint8_t sfp[32], cfp[32];
  bf_identity_fp(v.id, sfp);
  bf_identity_fp(cid, cfp);
  assert_int_equal(bf_pinstore_add(pins, sfp, target, 1600000000, 1), 0);
  assert_int_equal(bf_pinstore_add(v.pins, cfp, "test client", 1600000000, 0), 0);
  cli k;
  cli_open(&k, target, cid, pins, 1);
  run(&k, &v, BF_CCTL_ESTABLISHED, 10 * SEC);
  assert_int_equal(bf_cctl_state_get(k.c), BF_CCTL_ESTABLISHED);
  /* the sender goes silent (the socket stays open: no EOF to notice) */
  for (int i = 0; i < 20 && !v.frozen; i++) {
    srv_step(&v, now_ns());
    usleep(5000);
  }
  assert_true(v.frozen);
  uint64_t t0 = now_ns();
  run(&k, &v, BF_CCTL_CLOSED, 5 * SEC);
  uint64_t took = k.t_closed - t0;
  if (took > 2 * SEC) fail_msg("dead peer noticed after %.3f s, want <= 2 s", (double)took / 1e9);
  assert_true(took >= 1000 * MS); /* not before it was really silent */
  expect_message(&k, 1, "sender went silent");
  cli_close(&k);
  srv_hangup(&v);
  fx_close(&v, &cid, &pins);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_pair_then_pinned_reconnect),
      cmocka_unit_test(test_certificate_changed),
      cmocka_unit_test(test_not_paired_and_wrong_code),
      cmocka_unit_test(test_client_side_code),
      cmocka_unit_test(test_refuses_clear_welcome),
      cmocka_unit_test(test_connection_refused),
      cmocka_unit_test(test_handshake_timeout),
      cmocka_unit_test(test_dead_peer),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
