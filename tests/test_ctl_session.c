/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Control session: client and sender state machines wired together in
 * memory (and once over a real TCP loopback connection) with simulated
 * time — pairing (codes equal on both ends, pins on both sides, then a
 * plain reconnect), a rejected code, a revoked client, a sender whose
 * certificate changed, a man in the middle (two TLS sessions: the two ends
 * show different codes, also when it relays the commit-then-reveal
 * messages verbatim), the pairing code's formula and the order of the
 * pairing messages (a hand-driven peer on either side), the pairing rate
 * limit, keepalive and dead-peer timing, mode negotiation, and seal secrets
 * that make a working bf_sealer/bf_opener pair in both directions, and pins
 * handed up to the program (no file written; PairResult held for the save).
 */
#include "testutil.h"

#include <bildfunk/ctl_session.h>
#include <bildfunk/seal.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MS 1000000ull
#define SEC 1000000000ull
#define MAX_EV 64

typedef struct end {
  bf_ctl_session *s;
  bf_ctl_event ev[MAX_EV];
  size_t n;
  int auto_confirm;  /* sender: answer CONFIRM_CODE with this (1 accept, 0 reject, -1 leave) */
  uint64_t last_fed; /* when bytes last reached this end */
} end;

typedef struct world {
  bf_identity *cid, *sid;
  bf_pinstore *cpins, *spins;
  bf_pair_limiter lim;
  bf_ctl_session_cfg ccfg, scfg;
  end c, s;
  uint64_t now;
} world;

static void drain(end *e, uint64_t now) {
  while (e->n < MAX_EV && bf_ctl_session_poll(e->s, &e->ev[e->n])) {
    const bf_ctl_event *ev = &e->ev[e->n++];
    if (ev->type == BF_CTL_EV_CONFIRM_CODE && e->auto_confirm >= 0)
      assert_int_equal(bf_ctl_session_confirm(e->s, e->auto_confirm, now), 0);
  }
}

static size_t xfer(end *from, end *to, uint64_t now) {
  uint8_t buf[2048];
  size_t total = 0, n;
  while ((n = bf_ctl_session_take_out(from->s, buf, sizeof buf)) > 0) {
    assert_int_equal(bf_ctl_session_feed(to->s, buf, n, now), 0);
    to->last_fed = now;
    total += n;
  }
  return total;
}

/* Moves bytes both ways and collects events until nothing moves. */
static size_t pump(end *a, end *b, uint64_t now) {
  size_t total = 0;
  for (int i = 0; i < 100; i++) {
    size_t m = xfer(a, b, now);
    drain(a, now);
    drain(b, now);
    m += xfer(b, a, now);
    drain(a, now);
    drain(b, now);
    total += m;
    if (!m) return total;
  }
  fail_msg("pump did not settle");
  return total;
}

static const bf_ctl_event *find(const end *e, bf_ctl_event_type t) {
  for (size_t i = 0; i < e->n; i++)
    if (e->ev[i].type == t) return &e->ev[i];
  return NULL;
}

static bf_ctl_hello default_hello(void) {
  bf_ctl_hello h;
  memset(&h, 0, sizeof h);
  h.proto_version = 1;
  h.mtu = 1500;
  h.codecs = BF_CTL_CODEC_BIT(BF_CTL_CODEC_H264) | BF_CTL_CODEC_BIT(BF_CTL_CODEC_HEVC);
  h.max_width = 1920;
  h.max_height = 1080;
  h.max_fps = 60;
  h.shard_bytes = 1408;
  h.caps = BF_CTL_CAP_SEALED;
  strcpy(h.name, "test-client");
  return h;
}

static bf_ctl_offer default_offer(void) {
  bf_ctl_offer o;
  memset(&o, 0, sizeof o);
  o.codec_pref[0] = BF_CTL_CODEC_HEVC;
  o.codec_pref[1] = BF_CTL_CODEC_H264;
  o.width = 2560;
  o.height = 1440;
  o.fps = 120;
  o.shard_bytes = 1408;
  o.max_k = 64;
  o.fec_percent = 20;
  o.data_port = 47998;
  o.max_frame_bytes = 4u << 20;
  o.bitrate_kbps = 20000;
  o.sealed = 1;
  return o;
}

static void world_init(world *w) {
  memset(w, 0, sizeof *w);
  assert_int_equal(bf_identity_generate("client", &w->cid), 0);
  assert_int_equal(bf_identity_generate("sender", &w->sid), 0);
  assert_int_equal(bf_pinstore_open(NULL, &w->cpins), 0);
  assert_int_equal(bf_pinstore_open(NULL, &w->spins), 0);
  bf_pair_limiter_init(&w->lim, BF_PAIR_LIMIT_DEFAULT_ATTEMPTS, BF_PAIR_LIMIT_DEFAULT_WINDOW_NS);
  w->ccfg.role = BF_TLS_CLIENT;
  w->ccfg.id = w->cid;
  w->ccfg.pins = w->cpins;
  w->ccfg.peer_name = "sender.lan";
  w->ccfg.hello = default_hello();
  w->ccfg.pair = 1;
  w->ccfg.wall_unix = 1700000000;
  w->scfg.role = BF_TLS_SERVER;
  w->scfg.id = w->sid;
  w->scfg.pins = w->spins;
  w->scfg.offer = default_offer();
  w->scfg.limiter = &w->lim;
  w->scfg.wall_unix = 1700000000;
  w->now = 1000 * SEC;
}

static void world_disconnect(world *w) {
  bf_ctl_session_del(&w->c.s);
  bf_ctl_session_del(&w->s.s);
  assert_null(w->c.s);
  w->c.n = w->s.n = 0;
}

static void world_free(world *w) {
  world_disconnect(w);
  bf_pinstore_del(&w->cpins);
  bf_pinstore_del(&w->spins);
  bf_identity_del(&w->cid);
  bf_identity_del(&w->sid);
}

/* New sessions on both sides, pumped until they settle. */
static void world_connect(world *w, int auto_confirm) {
  world_disconnect(w);
  w->now += SEC;
  assert_int_equal(bf_ctl_session_new(&w->ccfg, w->now, &w->c.s), 0);
  assert_int_equal(bf_ctl_session_new(&w->scfg, w->now, &w->s.s), 0);
  w->c.auto_confirm = -1;
  w->s.auto_confirm = auto_confirm;
  pump(&w->c, &w->s, w->now);
}

static void test_pair_then_reconnect(void **state) {
  (void)state;
  world w;
  world_init(&w);
  world_connect(&w, 1);
  const bf_ctl_event *show = find(&w.c, BF_CTL_EV_SHOW_CODE);
  const bf_ctl_event *conf = find(&w.s, BF_CTL_EV_CONFIRM_CODE);
  assert_non_null(show);
  assert_non_null(conf);
  assert_int_equal(strlen(show->code), 6);
  assert_string_equal(show->code, conf->code); /* the user sees the same code */
  /* ... and the sender's code, for the other direction, on both too */
  assert_int_equal(strlen(show->code_peer), 6);
  assert_string_equal(show->code_peer, conf->code_peer);
  assert_string_equal(conf->peer_name, "test-client");
  /* Both pinned each other. */
  uint8_t cfp[32], sfp[32];
  bf_identity_fp(w.cid, cfp);
  bf_identity_fp(w.sid, sfp);
  const bf_pin *p = bf_pinstore_find_name(w.cpins, "sender.lan");
  assert_non_null(p);
  assert_memory_equal(p->fp, sfp, 32);
  assert_true(p->paired_unix == 1700000000);
  p = bf_pinstore_find_fp(w.spins, cfp);
  assert_non_null(p);
  assert_string_equal(p->name, "test-client");
  assert_non_null(find(&w.c, BF_CTL_EV_PAIRED));
  assert_non_null(find(&w.s, BF_CTL_EV_PAIRED));
  /* Established with the negotiated mode on both ends. */
  const bf_ctl_event *ec = find(&w.c, BF_CTL_EV_ESTABLISHED);
  const bf_ctl_event *es = find(&w.s, BF_CTL_EV_ESTABLISHED);
  assert_non_null(ec);
  assert_non_null(es);
  assert_memory_equal(&ec->welcome, &es->welcome, sizeof ec->welcome);
  assert_int_equal(ec->welcome.codec, BF_CTL_CODEC_HEVC);
  assert_int_equal(ec->welcome.width, 1920);
  assert_int_equal(ec->welcome.height, 1080);
  assert_int_equal(ec->welcome.fps, 60);
  assert_int_equal(ec->welcome.shard_bytes, 1408);
  assert_int_equal(ec->welcome.data_port, 47998);
  assert_int_equal(ec->welcome.flags & BF_CTL_WELCOME_SEALED, BF_CTL_WELCOME_SEALED);
  assert_string_equal(es->hello.name, "test-client");
  assert_int_equal(bf_ctl_session_state(w.c.s), BF_CTL_ST_ESTABLISHED);
  assert_int_equal(bf_ctl_session_state(w.s.s), BF_CTL_ST_ESTABLISHED);

  /* Identical seal secrets; a sealer on one side opens on the other. */
  uint8_t sc[32], ss[32];
  assert_int_equal(bf_ctl_session_seal_secret(w.c.s, sc, 32), 0);
  assert_int_equal(bf_ctl_session_seal_secret(w.s.s, ss, 32), 0);
  assert_memory_equal(sc, ss, 32);
  bf_seal_key cs2c, cc2s, ss2c, sc2s;
  assert_int_equal(bf_seal_derive(sc, 32, &cs2c, &cc2s), 0);
  assert_int_equal(bf_seal_derive(ss, 32, &ss2c, &sc2s), 0);
  bf_sealer *sealer = NULL, *csealer = NULL;
  bf_opener *opener = NULL, *sopener = NULL;
  assert_int_equal(bf_sealer_new(&ss2c, BF_SEAL_S2C, 1, &sealer), 0);
  assert_int_equal(bf_opener_new(&cs2c, BF_SEAL_S2C, 1, &opener), 0);
  assert_int_equal(bf_sealer_new(&cc2s, BF_SEAL_C2S, 1, &csealer), 0);
  assert_int_equal(bf_opener_new(&sc2s, BF_SEAL_C2S, 1, &sopener), 0);
  static const uint8_t head[] = "video header", body[] = "shard payload";
  bf_dgram d = {head, sizeof head, body, sizeof body};
  uint8_t sealed[256], plain[256];
  int n = bf_sealer_seal(sealer, &d, sealed, sizeof sealed);
  assert_int_equal(n, (int)(sizeof head + sizeof body + BF_SEAL_OVERHEAD));
  assert_int_equal(bf_opener_open(opener, sealed, (size_t)n, plain, sizeof plain, NULL),
                   (int)(sizeof head + sizeof body));
  assert_memory_equal(plain, head, sizeof head);
  assert_memory_equal(plain + sizeof head, body, sizeof body);
  n = bf_sealer_seal(csealer, &d, sealed, sizeof sealed);
  assert_true(n > 0);
  assert_int_equal(bf_opener_open(sopener, sealed, (size_t)n, plain, sizeof plain, NULL),
                   (int)(sizeof head + sizeof body));
  bf_sealer_del(&sealer);
  bf_sealer_del(&csealer);
  bf_opener_del(&opener);
  bf_opener_del(&sopener);

  /* Messages flow once established, each to the side it is meant for. */
  bf_ctl_msg ping = {.type = BF_CTL_CLOCK_PING};
  ping.u.ping.id = 42;
  ping.u.ping.t1_ns = 7;
  assert_int_equal(bf_ctl_session_send(w.c.s, &ping, w.now), 0);
  assert_int_equal(bf_ctl_session_send(w.s.s, &ping, w.now), -EINVAL); /* wrong direction */
  bf_ctl_msg pong = {.type = BF_CTL_CLOCK_PONG};
  pong.u.pong.id = 42;
  assert_int_equal(bf_ctl_session_send(w.s.s, &pong, w.now), 0);
  size_t cn = w.c.n, sn = w.s.n;
  pump(&w.c, &w.s, w.now);
  assert_int_equal(w.s.n, sn + 1);
  assert_int_equal(w.s.ev[sn].type, BF_CTL_EV_MESSAGE);
  assert_int_equal(w.s.ev[sn].msg.type, BF_CTL_CLOCK_PING);
  assert_int_equal(w.s.ev[sn].msg.u.ping.id, 42);
  assert_int_equal(w.c.n, cn + 1);
  assert_int_equal(w.c.ev[cn].msg.type, BF_CTL_CLOCK_PONG);

  /* A normal Bye reaches the other side with its reason and text. */
  bf_ctl_session_close(w.c.s, BF_CTL_BYE_NORMAL, "user quit", w.now);
  pump(&w.c, &w.s, w.now);
  const bf_ctl_event *bye = find(&w.s, BF_CTL_EV_CLOSED);
  assert_non_null(bye);
  assert_int_equal(bye->by_peer, 1);
  assert_int_equal(bye->reason, BF_CTL_BYE_NORMAL);
  assert_string_equal(bye->text, "user quit");
  assert_int_equal(find(&w.c, BF_CTL_EV_CLOSED)->by_peer, 0);

  /* Reconnect: pinned both ways, no pairing. */
  world_connect(&w, -1);
  assert_null(find(&w.c, BF_CTL_EV_SHOW_CODE));
  assert_null(find(&w.s, BF_CTL_EV_CONFIRM_CODE));
  assert_non_null(find(&w.c, BF_CTL_EV_ESTABLISHED));
  assert_non_null(find(&w.s, BF_CTL_EV_ESTABLISHED));
  uint8_t sc2[32];
  assert_int_equal(bf_ctl_session_seal_secret(w.c.s, sc2, 32), 0);
  assert_memory_not_equal(sc, sc2, 32); /* fresh keys per session */
  world_free(&w);
}

/* Pins (issue #12): the session pins the peer in memory and hands the pin
 * up with what saving it takes; it writes no file. A sender with
 * pin_saved_wait holds PairResult until the program's save is done, and a
 * failed (or endless) save ends the pairing as a failed save always did. */
static void test_pins_handed_up(void **state) {
  (void)state;
  char dir[256], path[300];
  snprintf(dir, sizeof dir, "%s/bf-ctl-session-XXXXXX",
           getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
  assert_non_null(mkdtemp(dir));
  snprintf(path, sizeof path, "%s/clients", dir);
  world w;
  world_init(&w);
  bf_pinstore_del(&w.spins); /* the sender's pins are kept in a file */
  assert_int_equal(bf_pinstore_open(path, &w.spins), 0);
  w.scfg.pins = w.spins;
  w.scfg.pin_saved_wait = 1;
  world_connect(&w, 1);
  uint8_t cfp[32];
  bf_identity_fp(w.cid, cfp);
  const bf_ctl_event *pe = find(&w.s, BF_CTL_EV_PAIRED);
  assert_non_null(pe);
  assert_memory_equal(pe->peer_fp, cfp, 32);
  assert_string_equal(pe->peer_name, "test-client");
  assert_true(pe->paired_unix == 1700000000);
  assert_int_equal(pe->unique_name, 0);
  assert_non_null(bf_pinstore_find_fp(w.spins, cfp)); /* effective at once, in memory */
  assert_int_equal(access(path, F_OK), -1);           /* but the session wrote no file */
  /* PairResult waits for the save */
  assert_int_equal(bf_ctl_session_state(w.s.s), BF_CTL_ST_CONFIRM);
  assert_null(find(&w.c, BF_CTL_EV_PAIRED));
  assert_null(find(&w.s, BF_CTL_EV_ESTABLISHED));
  assert_int_equal(bf_ctl_session_confirm(w.s.s, 1, w.now), -EINVAL); /* answered already */
  /* the program saves what the event says, then tells the session */
  assert_int_equal(
      bf_pinstore_add(w.spins, pe->peer_fp, pe->peer_name, pe->paired_unix, pe->unique_name), 0);
  assert_int_equal(bf_ctl_session_pin_saved(w.s.s, 0, w.now), 0);
  assert_int_equal(bf_ctl_session_pin_saved(w.s.s, 0, w.now), -EINVAL);
  pump(&w.c, &w.s, w.now);
  assert_non_null(find(&w.s, BF_CTL_EV_ESTABLISHED));
  assert_non_null(find(&w.c, BF_CTL_EV_ESTABLISHED));
  const bf_ctl_event *cpe = find(&w.c, BF_CTL_EV_PAIRED);
  assert_non_null(cpe);
  assert_string_equal(cpe->peer_name, "sender.lan");
  assert_int_equal(cpe->unique_name, 1);
  bf_pinstore *f = NULL;
  assert_int_equal(bf_pinstore_open(path, &f), 0);
  assert_non_null(bf_pinstore_find_fp(f, cfp));
  bf_pinstore_del(&f);

  /* a failed save: Bye 1 with the reason, no PairResult */
  assert_int_equal(bf_pinstore_revoke(w.spins, "test-client"), 1);
  assert_int_equal(bf_pinstore_revoke(w.cpins, "sender.lan"), 1);
  world_connect(&w, 1);
  assert_non_null(find(&w.s, BF_CTL_EV_PAIRED));
  assert_int_equal(bf_ctl_session_pin_saved(w.s.s, -EACCES, w.now), 0);
  pump(&w.c, &w.s, w.now);
  const bf_ctl_event *cc = find(&w.c, BF_CTL_EV_CLOSED);
  assert_non_null(cc);
  assert_true(cc->by_peer);
  assert_int_equal(cc->reason, BF_CTL_BYE_ERROR);
  assert_string_equal(cc->text, "saving the client's pin failed: Permission denied");
  assert_null(find(&w.c, BF_CTL_EV_PAIRED));
  assert_null(find(&w.s, BF_CTL_EV_ESTABLISHED));
  assert_int_equal(bf_pinstore_count(w.cpins), 0);

  /* a save that does not end: the confirmation window ends the pairing */
  assert_int_equal(bf_pinstore_reload(w.spins), 0); /* forget the pin the file never got */
  assert_null(bf_pinstore_find_fp(w.spins, cfp));
  world_connect(&w, 1);
  assert_non_null(find(&w.s, BF_CTL_EV_PAIRED));
  w.now += BF_CTL_CONFIRM_DEFAULT_NS;
  bf_ctl_session_tick(w.s.s, w.now);
  pump(&w.c, &w.s, w.now);
  cc = find(&w.c, BF_CTL_EV_CLOSED);
  assert_non_null(cc);
  assert_int_equal(cc->reason, BF_CTL_BYE_ERROR);
  assert_string_equal(cc->text, "saving the client's pin failed: it did not finish in time");
  world_free(&w);
  unlink(path);
  assert_int_equal(rmdir(dir), 0);
}

static void test_pair_rejected(void **state) {
  (void)state;
  world w;
  world_init(&w);
  world_connect(&w, 0); /* the user says the codes differ */
  assert_non_null(find(&w.s, BF_CTL_EV_CONFIRM_CODE));
  const bf_ctl_event *cc = find(&w.c, BF_CTL_EV_CLOSED);
  assert_non_null(cc);
  assert_int_equal(cc->by_peer, 1);
  assert_int_equal(cc->reason, BF_CTL_BYE_PAIR_FAILED);
  assert_non_null(strstr(cc->text, "not confirmed"));
  assert_null(find(&w.c, BF_CTL_EV_ESTABLISHED));
  assert_null(find(&w.c, BF_CTL_EV_PAIRED));
  assert_int_equal(bf_pinstore_count(w.cpins), 0);
  assert_int_equal(bf_pinstore_count(w.spins), 0);
  uint8_t sec[32];
  assert_int_equal(bf_ctl_session_seal_secret(w.c.s, sec, 32), -EAGAIN);
  assert_int_equal(bf_ctl_session_confirm(w.s.s, 1, w.now), -EINVAL); /* too late */

  /* The user takes 20 s to confirm; the answer then trickles in byte by
   * byte with the client's timers running in between: no spurious timeout. */
  world_connect(&w, -1);
  uint64_t t = w.now;
  for (; t < w.now + 20 * SEC; t += 100 * MS) {
    bf_ctl_session_tick(w.c.s, t);
    bf_ctl_session_tick(w.s.s, t);
    pump(&w.c, &w.s, t);
  }
  assert_int_equal(bf_ctl_session_state(w.s.s), BF_CTL_ST_CONFIRM);
  assert_int_equal(bf_ctl_session_confirm(w.s.s, 1, t), 0);
  uint8_t byte;
  while (bf_ctl_session_take_out(w.s.s, &byte, 1) == 1) {
    assert_int_equal(bf_ctl_session_feed(w.c.s, &byte, 1, t), 0);
    bf_ctl_session_tick(w.c.s, t);
  }
  drain(&w.c, t);
  assert_null(find(&w.c, BF_CTL_EV_CLOSED));
  assert_non_null(find(&w.c, BF_CTL_EV_PAIRED));
  assert_non_null(find(&w.c, BF_CTL_EV_ESTABLISHED));
  assert_int_equal(bf_pinstore_revoke(w.spins, "test-client"), 1);
  assert_int_equal(bf_pinstore_revoke(w.cpins, "sender.lan"), 1);
  w.now = t;

  /* Nobody answers: the sender gives up after its confirmation window. */
  w.scfg.confirm_ns = 30 * SEC;
  world_connect(&w, -1);
  assert_int_equal(bf_ctl_session_state(w.s.s), BF_CTL_ST_CONFIRM);
  for (uint64_t dt = 0; dt <= 31 * SEC; dt += 100 * MS) {
    bf_ctl_session_tick(w.c.s, w.now + dt);
    bf_ctl_session_tick(w.s.s, w.now + dt);
    pump(&w.c, &w.s, w.now + dt);
    if (find(&w.c, BF_CTL_EV_CLOSED)) break;
  }
  cc = find(&w.c, BF_CTL_EV_CLOSED); /* keepalives held it until then */
  assert_non_null(cc);
  assert_int_equal(cc->reason, BF_CTL_BYE_PAIR_FAILED);
  assert_non_null(strstr(cc->text, "in time"));
  assert_int_equal(bf_pinstore_count(w.spins), 0);
  world_free(&w);
}

static void test_revoked_client(void **state) {
  (void)state;
  world w;
  world_init(&w);
  world_connect(&w, 1);
  assert_non_null(find(&w.c, BF_CTL_EV_ESTABLISHED));
  assert_int_equal(bf_pinstore_revoke(w.spins, "test-client"), 1);
  world_connect(&w, 1); /* the client still pins the sender: no PairRequest */
  assert_null(find(&w.s, BF_CTL_EV_CONFIRM_CODE));
  const bf_ctl_event *cc = find(&w.c, BF_CTL_EV_CLOSED);
  assert_non_null(cc);
  assert_int_equal(cc->by_peer, 1);
  assert_int_equal(cc->reason, BF_CTL_BYE_NOT_PAIRED);
  assert_non_null(strstr(cc->text, "not paired"));
  assert_non_null(strstr(cc->text, "bildfunk pair"));
  assert_null(find(&w.c, BF_CTL_EV_ESTABLISHED));
  assert_int_equal(find(&w.s, BF_CTL_EV_CLOSED)->reason, BF_CTL_BYE_NOT_PAIRED);

  /* A client that refuses to pair says so itself. */
  w.ccfg.pair = 0;
  assert_int_equal(bf_pinstore_revoke(w.cpins, "sender.lan"), 1);
  world_connect(&w, 1);
  cc = find(&w.c, BF_CTL_EV_CLOSED);
  assert_non_null(cc);
  assert_int_equal(cc->by_peer, 0);
  assert_int_equal(cc->reason, BF_CTL_BYE_NOT_PAIRED);
  assert_non_null(strstr(cc->text, "bildfunk pair sender.lan"));

  /* Re-pairing (pair = 2) works again. */
  w.ccfg.pair = 2;
  world_connect(&w, 1);
  assert_non_null(find(&w.c, BF_CTL_EV_ESTABLISHED));
  assert_non_null(bf_pinstore_find_name(w.spins, "test-client"));
  world_free(&w);
}

/* Index of the first event of |t| (with message type |mt| for MESSAGE), or -1. */
static int index_of(const end *e, bf_ctl_event_type t, unsigned mt) {
  for (size_t i = 0; i < e->n; i++)
    if (e->ev[i].type == t && (t != BF_CTL_EV_MESSAGE || e->ev[i].msg.type == mt)) return (int)i;
  return -1;
}

/* WakeInfo: the sender's MACs reach a client it paired (before Welcome, at
 * pairing and on each later session), never one it does not know, and
 * none go out when it has none. */
static void test_wake_info(void **state) {
  (void)state;
  world w;
  world_init(&w);
  w.scfg.wake_count = 2;
  memcpy(w.scfg.wake_mac[0], "\x52\x54\x00\x12\x34\x56", 6);
  memcpy(w.scfg.wake_mac[1], "\x02\x00\x00\x00\x00\x01", 6);
  world_connect(&w, 1); /* pairs */
  int wi = index_of(&w.c, BF_CTL_EV_MESSAGE, BF_CTL_WAKE_INFO),
      est = index_of(&w.c, BF_CTL_EV_ESTABLISHED, 0);
  assert_true(wi >= 0 && est > wi);
  assert_int_equal(w.c.ev[wi].msg.u.wake_info.count, 2);
  assert_memory_equal(w.c.ev[wi].msg.u.wake_info.mac, w.scfg.wake_mac, 12);
  world_connect(&w, 1); /* pinned: again */
  assert_true(index_of(&w.c, BF_CTL_EV_MESSAGE, BF_CTL_WAKE_INFO) >= 0);
  assert_non_null(find(&w.c, BF_CTL_EV_ESTABLISHED));
  assert_int_equal(bf_pinstore_revoke(w.spins, "test-client"), 1);
  world_connect(&w, 1); /* revoked: refused, nothing told */
  assert_int_equal(index_of(&w.c, BF_CTL_EV_MESSAGE, BF_CTL_WAKE_INFO), -1);
  assert_int_equal(find(&w.c, BF_CTL_EV_CLOSED)->reason, BF_CTL_BYE_NOT_PAIRED);
  w.ccfg.pair = 2;
  w.scfg.wake_count = 0;
  world_connect(&w, 1); /* paired again, no MACs to tell */
  assert_non_null(find(&w.c, BF_CTL_EV_ESTABLISHED));
  assert_int_equal(index_of(&w.c, BF_CTL_EV_MESSAGE, BF_CTL_WAKE_INFO), -1);
  world_free(&w);
}

static void test_sender_cert_changed(void **state) {
  (void)state;
  world w;
  world_init(&w);
  world_connect(&w, 1);
  assert_non_null(find(&w.c, BF_CTL_EV_ESTABLISHED));
  /* The sender comes back with a new key (or someone else answers). */
  bf_identity *fresh = NULL;
  assert_int_equal(bf_identity_generate("impostor", &fresh), 0);
  w.scfg.id = fresh;
  world_connect(&w, 1);
  const bf_ctl_event *cc = find(&w.c, BF_CTL_EV_CLOSED);
  assert_non_null(cc);
  assert_int_equal(cc->by_peer, 0);
  assert_non_null(strstr(cc->text, "certificate"));
  assert_non_null(strstr(cc->text, "changed"));
  assert_non_null(strstr(cc->text, "sender.lan"));
  assert_null(find(&w.c, BF_CTL_EV_SHOW_CODE)); /* no silent re-pairing */
  assert_null(find(&w.s, BF_CTL_EV_CONFIRM_CODE));
  const bf_ctl_event *sc = find(&w.s, BF_CTL_EV_CLOSED);
  assert_non_null(sc); /* told by Bye */
  assert_int_equal(sc->by_peer, 1);
  /* The old pin is untouched. */
  uint8_t old[32];
  bf_identity_fp(w.sid, old);
  assert_memory_equal(bf_pinstore_find_name(w.cpins, "sender.lan")->fp, old, 32);
  world_disconnect(&w);
  bf_identity_del(&fresh);
  world_free(&w);
}

static void test_mitm_codes_differ(void **state) {
  (void)state;
  for (int trial = 0; trial < 4; trial++) {
    world w;
    world_init(&w);
    /* Mallory: her own identity, a sender face towards the client and a
     * client face towards the sender. */
    bf_identity *mid = NULL;
    bf_pinstore *mps = NULL, *mpc = NULL;
    assert_int_equal(bf_identity_generate("mallory", &mid), 0);
    assert_int_equal(bf_pinstore_open(NULL, &mps), 0);
    assert_int_equal(bf_pinstore_open(NULL, &mpc), 0);
    bf_ctl_session_cfg ms = w.scfg, mc = w.ccfg;
    ms.id = mc.id = mid;
    ms.pins = mps;
    ms.limiter = NULL;
    mc.pins = mpc;
    end m_srv = {.auto_confirm = 1}, m_cli = {.auto_confirm = -1};
    w.c.auto_confirm = -1;
    w.s.auto_confirm = -1; /* the real sender's user looks at the codes */
    assert_int_equal(bf_ctl_session_new(&w.ccfg, w.now, &w.c.s), 0);
    assert_int_equal(bf_ctl_session_new(&ms, w.now, &m_srv.s), 0);
    assert_int_equal(bf_ctl_session_new(&mc, w.now, &m_cli.s), 0);
    assert_int_equal(bf_ctl_session_new(&w.scfg, w.now, &w.s.s), 0);
    pump(&w.c, &m_srv, w.now);
    pump(&m_cli, &w.s, w.now);
    const bf_ctl_event *c_show = find(&w.c, BF_CTL_EV_SHOW_CODE);
    const bf_ctl_event *s_conf = find(&w.s, BF_CTL_EV_CONFIRM_CODE);
    assert_non_null(c_show);
    assert_non_null(s_conf);
    /* Each of Mallory's legs is consistent on its own ... */
    assert_string_equal(c_show->code, find(&m_srv, BF_CTL_EV_CONFIRM_CODE)->code);
    assert_string_equal(s_conf->code, find(&m_cli, BF_CTL_EV_SHOW_CODE)->code);
    /* ... but what the user compares differs, and she cannot steer it. */
    assert_string_not_equal(c_show->code, s_conf->code);
    /* The sender's user rejects: nothing is pinned at the real sender. */
    assert_int_equal(bf_ctl_session_confirm(w.s.s, 0, w.now), 0);
    pump(&m_cli, &w.s, w.now);
    assert_int_equal(bf_pinstore_count(w.spins), 0);
    bf_ctl_session_del(&m_srv.s);
    bf_ctl_session_del(&m_cli.s);
    bf_pinstore_del(&mps);
    bf_pinstore_del(&mpc);
    world_free(&w);
    bf_identity_del(&mid);
  }
}

static void test_rate_limit(void **state) {
  (void)state;
  world w;
  world_init(&w);
  bf_pair_limiter_init(&w.lim, 2, 60 * SEC);
  w.now = 100 * SEC;
  for (int i = 0; i < 2; i++) { /* two attempts, both rejected */
    world_connect(&w, 0);
    assert_non_null(find(&w.s, BF_CTL_EV_CONFIRM_CODE));
  }
  world_connect(&w, 1); /* the third inside 60 s is refused before any code */
  assert_null(find(&w.s, BF_CTL_EV_CONFIRM_CODE));
  const bf_ctl_event *cc = find(&w.c, BF_CTL_EV_CLOSED);
  assert_non_null(cc);
  assert_int_equal(cc->by_peer, 1);
  assert_int_equal(cc->reason, BF_CTL_BYE_PAIR_FAILED);
  assert_non_null(strstr(cc->text, "too many"));
  assert_non_null(strstr(cc->text, "try again in"));
  w.now += 60 * SEC; /* the window passed */
  world_connect(&w, 1);
  assert_non_null(find(&w.s, BF_CTL_EV_CONFIRM_CODE));
  assert_non_null(find(&w.c, BF_CTL_EV_ESTABLISHED));
  /* Pairing switched off. */
  w.scfg.pairing_disabled = 1;
  w.ccfg.pair = 2;
  world_connect(&w, 1);
  cc = find(&w.c, BF_CTL_EV_CLOSED);
  assert_non_null(cc);
  assert_int_equal(cc->reason, BF_CTL_BYE_PAIR_FAILED);
  assert_non_null(strstr(cc->text, "does not accept"));
  world_free(&w);
}

static void test_keepalive_and_dead_peer(void **state) {
  (void)state;
  world w;
  world_init(&w);
  world_connect(&w, 1);
  assert_non_null(find(&w.c, BF_CTL_EV_ESTABLISHED));
  /* Idle but alive for 10 s: keepalives flow, nobody times out. */
  uint64_t t = w.now;
  size_t moved = 0;
  for (; t < w.now + 10 * SEC; t += 50 * MS) {
    bf_ctl_session_tick(w.c.s, t);
    bf_ctl_session_tick(w.s.s, t);
    moved += pump(&w.c, &w.s, t);
    assert_true(bf_ctl_session_deadline(w.c.s) <= t + BF_CTL_KEEPALIVE_NS);
  }
  assert_null(find(&w.c, BF_CTL_EV_CLOSED));
  assert_null(find(&w.s, BF_CTL_EV_CLOSED));
  assert_true(moved > 2 * 19 * 20); /* >= ~19 keepalives each way, >20 bytes each on the wire */
  /* The sender dies: nothing reaches the client any more. */
  uint64_t last_rx = w.c.last_fed;
  assert_true(t - last_rx <= BF_CTL_KEEPALIVE_NS + 50 * MS);
  uint8_t sink[4096];
  for (; t < last_rx + 5 * SEC; t += 10 * MS) {
    bf_ctl_session_tick(w.c.s, t);
    while (bf_ctl_session_take_out(w.c.s, sink, sizeof sink)) {
    }
    drain(&w.c, t);
    if (find(&w.c, BF_CTL_EV_CLOSED)) break;
  }
  const bf_ctl_event *cc = find(&w.c, BF_CTL_EV_CLOSED);
  assert_non_null(cc);
  assert_int_equal(cc->reason, BF_CTL_BYE_TIMEOUT);
  assert_true(t - last_rx <= 2 * SEC); /* noticed within 2 s */
  assert_true(t - last_rx >= BF_CTL_DEAD_NS);
  assert_true(bf_ctl_session_deadline(w.c.s) == UINT64_MAX);

  /* A sender that never answers the handshake. */
  world_disconnect(&w);
  assert_int_equal(bf_ctl_session_new(&w.ccfg, t, &w.c.s), 0);
  assert_true(bf_ctl_session_deadline(w.c.s) == t + BF_CTL_HANDSHAKE_NS);
  bf_ctl_session_tick(w.c.s, t + BF_CTL_HANDSHAKE_NS - 1);
  drain(&w.c, t);
  assert_null(find(&w.c, BF_CTL_EV_CLOSED));
  bf_ctl_session_tick(w.c.s, t + BF_CTL_HANDSHAKE_NS);
  drain(&w.c, t);
  assert_int_equal(find(&w.c, BF_CTL_EV_CLOSED)->reason, BF_CTL_BYE_TIMEOUT);

  /* The TCP connection drops. */
  world_connect(&w, 1);
  bf_ctl_session_eof(w.s.s, w.now);
  drain(&w.s, w.now);
  cc = find(&w.s, BF_CTL_EV_CLOSED);
  assert_non_null(cc);
  assert_non_null(strstr(cc->text, "lost"));
  world_free(&w);
}

static void test_negotiate(void **state) {
  (void)state;
  bf_ctl_offer o = default_offer();
  bf_ctl_hello h = default_hello();
  bf_ctl_welcome wl;
  const char *why = NULL;
  o.width = 1920;
  o.height = 1200;
  h.max_width = 1280;
  h.max_height = 720;
  assert_int_equal(bf_ctl_negotiate(&o, &h, &wl, &why), 0);
  assert_int_equal(wl.width, 1152); /* 16:10 kept inside 1280x720 */
  assert_int_equal(wl.height, 720);
  assert_int_equal(wl.fps, 60);
  h.mtu = 1200; /* sealed: 1200 - 20 - 8 - 40 - 24 */
  assert_int_equal(bf_ctl_negotiate(&o, &h, &wl, &why), 0);
  assert_int_equal(wl.shard_bytes, 1108);
  assert_int_equal(wl.flags, BF_CTL_WELCOME_SEALED);
  h.caps = 0; /* cannot seal: plain, and 24 more bytes of shard */
  assert_int_equal(bf_ctl_negotiate(&o, &h, &wl, &why), 0);
  assert_int_equal(wl.shard_bytes, 1132);
  assert_int_equal(wl.flags, 0);
  o.sealed = 2;
  assert_int_equal(bf_ctl_negotiate(&o, &h, &wl, &why), -ENOTSUP);
  assert_non_null(strstr(why, "encrypted"));
  o.sealed = 0;
  h.codecs = BF_CTL_CODEC_BIT(BF_CTL_CODEC_AV1);
  assert_int_equal(bf_ctl_negotiate(&o, &h, &wl, &why), -ENOTSUP);
  assert_non_null(strstr(why, "codec"));
  h.codecs |= BF_CTL_CODEC_BIT(BF_CTL_CODEC_H264);
  assert_int_equal(bf_ctl_negotiate(&o, &h, &wl, &why), 0);
  assert_int_equal(wl.codec, BF_CTL_CODEC_H264);
  /* input: granted when offered and asked for, not otherwise */
  h.caps = BF_CTL_CAP_INPUT;
  assert_int_equal(bf_ctl_negotiate(&o, &h, &wl, &why), 0);
  assert_int_equal(wl.flags, 0);
  o.grants = BF_CTL_WELCOME_INPUT;
  assert_int_equal(bf_ctl_negotiate(&o, &h, &wl, &why), 0);
  assert_int_equal(wl.flags, BF_CTL_WELCOME_INPUT);
  /* sound likewise, each grant on its own */
  h.caps = BF_CTL_CAP_AUDIO;
  assert_int_equal(bf_ctl_negotiate(&o, &h, &wl, &why), 0);
  assert_int_equal(wl.flags, 0);
  o.grants |= BF_CTL_WELCOME_AUDIO;
  assert_int_equal(bf_ctl_negotiate(&o, &h, &wl, &why), 0);
  assert_int_equal(wl.flags, BF_CTL_WELCOME_AUDIO);
  h.caps = BF_CTL_CAP_AUDIO | BF_CTL_CAP_INPUT;
  assert_int_equal(bf_ctl_negotiate(&o, &h, &wl, &why), 0);
  assert_int_equal(wl.flags, BF_CTL_WELCOME_AUDIO | BF_CTL_WELCOME_INPUT);
  h.caps = 0;
  assert_int_equal(bf_ctl_negotiate(&o, &h, &wl, &why), 0);
  assert_int_equal(wl.flags, 0);
  h.mtu = 576; /* 576 - 68 = 508 < 512 */
  assert_int_equal(bf_ctl_negotiate(&o, &h, &wl, &why), -ENOTSUP);

  /* In a session: no common codec ends it with reason 8 on both sides. */
  world w;
  world_init(&w);
  world_connect(&w, 1);
  w.ccfg.hello.codecs = BF_CTL_CODEC_BIT(BF_CTL_CODEC_AV1);
  world_connect(&w, 1);
  const bf_ctl_event *cc = find(&w.c, BF_CTL_EV_CLOSED);
  assert_non_null(cc);
  assert_int_equal(cc->reason, BF_CTL_BYE_NO_MODE);
  assert_non_null(strstr(cc->text, "codec"));
  world_free(&w);
}

static void test_event_backpressure(void **state) {
  (void)state;
  world w;
  world_init(&w);
  world_connect(&w, 1);
  size_t base = w.s.n;
  /* 40 pings in one burst: more than the event ring holds. */
  for (uint32_t i = 0; i < 40; i++) {
    bf_ctl_msg ping = {.type = BF_CTL_CLOCK_PING};
    ping.u.ping.id = i;
    assert_int_equal(bf_ctl_session_send(w.c.s, &ping, w.now), 0);
  }
  pump(&w.c, &w.s, w.now);
  assert_true(w.s.n - base < 40); /* held back, not dropped */
  for (int i = 0; i < 10 && w.s.n - base < 40; i++) {
    assert_int_equal(bf_ctl_session_feed(w.s.s, NULL, 0, w.now), 0);
    drain(&w.s, w.now);
  }
  assert_int_equal(w.s.n - base, 40);
  for (uint32_t i = 0; i < 40; i++) { /* all of them, in order */
    assert_int_equal(w.s.ev[base + i].type, BF_CTL_EV_MESSAGE);
    assert_int_equal(w.s.ev[base + i].msg.u.ping.id, i);
  }
  world_free(&w);
}

/* A hand-driven TLS client talking raw control frames to a sender session. */
static void raw_exchange(bf_tls *raw, end *srv, uint64_t now) {
  uint8_t buf[4096];
  for (int i = 0; i < 20; i++) {
    size_t n, moved = 0;
    while ((n = bf_tls_take_out(raw, buf, sizeof buf)) > 0) {
      assert_int_equal(bf_ctl_session_feed(srv->s, buf, n, now), 0);
      moved += n;
    }
    drain(srv, now);
    while ((n = bf_ctl_session_take_out(srv->s, buf, sizeof buf)) > 0) {
      assert_int_equal(bf_tls_feed(raw, buf, n), 0);
      moved += n;
    }
    if (!moved) return;
  }
}

static void test_sender_rejects_bad_peers(void **state) {
  (void)state;
  world w;
  world_init(&w);
  uint8_t frame[BF_CTL_MAX_ENCODED], got[4096];
  /* 1: Hello from an unknown client without PairRequest -> Bye 3. */
  bf_tls *raw = NULL;
  assert_int_equal(bf_tls_new(BF_TLS_CLIENT, w.cid, &raw), 0);
  assert_int_equal(bf_ctl_session_new(&w.scfg, w.now, &w.s.s), 0);
  raw_exchange(raw, &w.s, w.now);
  assert_true(bf_tls_established(raw));
  bf_ctl_msg h = {.type = BF_CTL_HELLO};
  h.u.hello = default_hello();
  int n = bf_ctl_encode(&h, frame, sizeof frame);
  assert_true(n > 0);
  assert_int_equal(bf_tls_write(raw, frame, (size_t)n), 0);
  raw_exchange(raw, &w.s, w.now);
  const bf_ctl_event *e = find(&w.s, BF_CTL_EV_CLOSED);
  assert_non_null(e);
  assert_int_equal(e->reason, BF_CTL_BYE_NOT_PAIRED);
  int r = bf_tls_read(raw, got, sizeof got); /* the Bye is on the wire */
  assert_true(r > (int)BF_CTL_HEADER_BYTES);
  assert_int_equal(got[5], BF_CTL_BYE);
  bf_tls_del(&raw);
  world_disconnect(&w);

  /* 2: a frame with version 9 -> Bye 7 naming the problem. */
  assert_int_equal(bf_tls_new(BF_TLS_CLIENT, w.cid, &raw), 0);
  assert_int_equal(bf_ctl_session_new(&w.scfg, w.now, &w.s.s), 0);
  raw_exchange(raw, &w.s, w.now);
  static const uint8_t bad[] = {0, 0, 0, 0, 9, BF_CTL_KEEPALIVE};
  assert_int_equal(bf_tls_write(raw, bad, sizeof bad), 0);
  raw_exchange(raw, &w.s, w.now);
  e = find(&w.s, BF_CTL_EV_CLOSED);
  assert_non_null(e);
  assert_int_equal(e->reason, BF_CTL_BYE_MALFORMED);
  assert_non_null(strstr(e->text, "malformed"));
  bf_tls_del(&raw);
  world_disconnect(&w);

  /* 3: a Welcome sent by a "client" -> unexpected, Bye 7. */
  assert_int_equal(bf_tls_new(BF_TLS_CLIENT, w.cid, &raw), 0);
  assert_int_equal(bf_ctl_session_new(&w.scfg, w.now, &w.s.s), 0);
  raw_exchange(raw, &w.s, w.now);
  bf_ctl_msg wl = {.type = BF_CTL_WELCOME};
  assert_int_equal(bf_ctl_negotiate(&w.scfg.offer, &h.u.hello, &wl.u.welcome, NULL), 0);
  n = bf_ctl_encode(&wl, frame, sizeof frame);
  assert_int_equal(bf_tls_write(raw, frame, (size_t)n), 0);
  raw_exchange(raw, &w.s, w.now);
  e = find(&w.s, BF_CTL_EV_CLOSED);
  assert_non_null(e);
  assert_int_equal(e->reason, BF_CTL_BYE_MALFORMED);
  assert_non_null(strstr(e->text, "unexpected welcome"));
  bf_tls_del(&raw);
  world_disconnect(&w);

  /* 4: PairRequest and then only keepalives: the setup window still ends it. */
  assert_int_equal(bf_tls_new(BF_TLS_CLIENT, w.cid, &raw), 0);
  assert_int_equal(bf_ctl_session_new(&w.scfg, w.now, &w.s.s), 0);
  raw_exchange(raw, &w.s, w.now);
  bf_ctl_msg pr = {.type = BF_CTL_PAIR_REQUEST}, ka = {.type = BF_CTL_KEEPALIVE};
  n = bf_ctl_encode(&pr, frame, sizeof frame);
  assert_int_equal(bf_tls_write(raw, frame, (size_t)n), 0);
  uint64_t t = w.now;
  for (; t < w.now + 10 * SEC && !find(&w.s, BF_CTL_EV_CLOSED); t += 400 * MS) {
    n = bf_ctl_encode(&ka, frame, sizeof frame);
    assert_int_equal(bf_tls_write(raw, frame, (size_t)n), 0);
    raw_exchange(raw, &w.s, t);
    bf_ctl_session_tick(w.s.s, t);
    drain(&w.s, t);
  }
  e = find(&w.s, BF_CTL_EV_CLOSED);
  assert_non_null(e);
  assert_int_equal(e->reason, BF_CTL_BYE_TIMEOUT);
  assert_true(t - w.now <= BF_CTL_HANDSHAKE_NS + 2 * 400 * MS); /* t moved on once more */
  assert_null(find(&w.s, BF_CTL_EV_CONFIRM_CODE));
  bf_tls_del(&raw);
  world_free(&w);
}

/* ---- commit-then-reveal pairing ------------------------------------------ */

static void sha256_of(const uint8_t *in, size_t n, uint8_t out[32]) {
  unsigned hl = 0;
  assert_int_equal(EVP_Digest(in, n, out, &hl, EVP_sha256(), NULL), 1);
  assert_int_equal(hl, 32);
}

/* The code as a pure function: a known answer (pins the formula: first 8
 * bytes of SHA-256(E ‖ n_c ‖ n_s), big-endian, mod 10^6), every input
 * matters, and a grinding model: an exporter ground to hit a target code for
 * one n_s misses it for the n_s the sender actually draws afterwards. */
static void test_pair_code_function(void **state) {
  (void)state;
  uint8_t e[32], nc[32], ns[32];
  for (size_t i = 0; i < 32; i++) {
    e[i] = (uint8_t)i;
    nc[i] = (uint8_t)(32 + i);
    ns[i] = (uint8_t)(64 + i);
  }
  char code[7], other[7];
  assert_int_equal(bf_ctl_pair_code(e, nc, ns, code), 0);
  assert_string_equal(code, "852213"); /* sha256(00..5f)[0..8] as u64 mod 10^6 */
  assert_int_equal(bf_ctl_pair_code(NULL, nc, ns, code), -EINVAL);
  /* the sender's code: bytes 8..15 of the same hash; the client's unchanged */
  char c2[7], s2[7];
  assert_int_equal(bf_ctl_pair_codes(e, nc, ns, c2, s2), 0);
  assert_string_equal(c2, code);
  assert_int_equal(strlen(s2), 6);
  assert_string_not_equal(s2, code);
  {
    uint8_t in[96], h[32];
    memcpy(in, e, 32);
    memcpy(in + 32, nc, 32);
    memcpy(in + 64, ns, 32);
    SHA256(in, sizeof in, h);
    uint64_t v = 0;
    for (int i = 8; i < 16; i++)
      v = v << 8 | h[i];
    char want[7];
    snprintf(want, sizeof want, "%06u", (unsigned)(v % 1000000u));
    assert_string_equal(s2, want);
  }
  uint8_t *inputs[3] = {e, nc, ns};
  for (size_t k = 0; k < 3; k++) { /* one flipped bit in any input changes the code */
    inputs[k][17] ^= 0x04;
    assert_int_equal(bf_ctl_pair_code(e, nc, ns, other), 0);
    assert_string_not_equal(other, code);
    inputs[k][17] ^= 0x04;
  }
  /* n_c fixed (committed), n_s varies: the codes spread out. */
  char seen[64][7];
  size_t distinct = 0;
  for (uint32_t v = 0; v < 64; v++) {
    memcpy(ns, &v, sizeof v);
    assert_int_equal(bf_ctl_pair_code(e, nc, ns, seen[v]), 0);
    int dup = 0;
    for (uint32_t u = 0; u < v; u++)
      dup |= !strcmp(seen[u], seen[v]);
    distinct += !dup;
  }
  assert_true(distinct >= 63);
  /* Grinding: vary the exporter (what a MITM controls by re-signing its
   * handshake) until the last two digits match a target for n_s = 0. */
  memset(ns, 0, sizeof ns);
  const char *target = "42";
  uint32_t tries = 0;
  for (; tries < 100000; tries++) {
    memcpy(e, &tries, sizeof tries);
    assert_int_equal(bf_ctl_pair_code(e, nc, ns, code), 0);
    if (!strcmp(code + 4, target)) break;
  }
  assert_true(tries < 100000); /* with n_s known in advance, grinding works */
  /* ... but the sender draws n_s after the commitment: the ground exporter
   * is worth nothing for any other n_s. */
  size_t hits = 0;
  for (uint32_t v = 1; v <= 64; v++) {
    memcpy(ns, &v, sizeof v);
    assert_int_equal(bf_ctl_pair_code(e, nc, ns, other), 0);
    hits += !strcmp(other + 4, target);
  }
  assert_true(hits <= 4); /* ~1 in 100 by chance, not 64 of 64 */
}

/* A raw TLS endpoint's decrypted control messages, all of them. */
static size_t raw_read_msgs(bf_tls *raw, bf_ctl_framer *f, bf_ctl_msg *out, size_t max) {
  uint8_t buf[4096];
  size_t n = 0;
  int r;
  while ((r = bf_tls_read(raw, buf, sizeof buf)) > 0) {
    size_t off = 0;
    while (off < (size_t)r) {
      size_t used = 0;
      bf_ctl_msg m;
      int k = bf_ctl_framer_feed(f, buf + off, (size_t)r - off, &used, &m);
      assert_true(k >= 0);
      off += used;
      if (k == 1 && m.type != BF_CTL_KEEPALIVE) {
        assert_true(n < max);
        out[n++] = m;
      }
      if (k == 0) break;
    }
  }
  return n;
}

static void raw_send(bf_tls *raw, const bf_ctl_msg *m) {
  uint8_t frame[BF_CTL_MAX_ENCODED];
  int n = bf_ctl_encode(m, frame, sizeof frame);
  assert_true(n > 0);
  assert_int_equal(bf_tls_write(raw, frame, (size_t)n), 0);
}

/* Bytes between a client session and a raw TLS server until both are quiet. */
static void raw_server_exchange(bf_tls *raw, end *cli, uint64_t now) {
  uint8_t buf[4096];
  for (int i = 0; i < 10; i++) {
    size_t n, moved = 0;
    while ((n = bf_ctl_session_take_out(cli->s, buf, sizeof buf)) > 0) {
      assert_int_equal(bf_tls_feed(raw, buf, n), 0);
      moved += n;
    }
    while ((n = bf_tls_take_out(raw, buf, sizeof buf)) > 0) {
      assert_int_equal(bf_ctl_session_feed(cli->s, buf, n, now), 0);
      moved += n;
    }
    drain(cli, now);
    if (!moved) return;
  }
}

/* A client session against a hand-driven sender: the order of the flow, the
 * commitment really binds n_c, the shown code is the formula over this
 * session's exporter and the n_s the sender chose, and a second PairNonce is
 * a protocol error. */
static void test_pair_client_side(void **state) {
  (void)state;
  world w;
  world_init(&w);
  bf_tls *raw = NULL;
  bf_ctl_framer *f = malloc(sizeof *f);
  assert_non_null(f);
  bf_ctl_framer_init(f);
  bf_ctl_msg got[8];
  assert_int_equal(bf_tls_new(BF_TLS_SERVER, w.sid, &raw), 0);
  assert_int_equal(bf_ctl_session_new(&w.ccfg, w.now, &w.c.s), 0);
  w.c.auto_confirm = -1;
  raw_server_exchange(raw, &w.c, w.now); /* the TLS handshake */
  uint8_t buf[4096];
  assert_true(bf_tls_established(raw));
  /* PairRequest + PairCommit, and nothing else yet: no Hello, no code. */
  assert_int_equal(raw_read_msgs(raw, f, got, 8), 2);
  assert_int_equal(got[0].type, BF_CTL_PAIR_REQUEST);
  assert_int_equal(got[1].type, BF_CTL_PAIR_COMMIT);
  uint8_t commit[32];
  memcpy(commit, got[1].u.pair_commit.hash, 32);
  assert_null(find(&w.c, BF_CTL_EV_SHOW_CODE));
  /* the sender's nonce */
  bf_ctl_msg nm = {.type = BF_CTL_PAIR_NONCE};
  for (size_t i = 0; i < 32; i++)
    nm.u.pair_nonce.nonce[i] = (uint8_t)(0x5a ^ i);
  raw_send(raw, &nm);
  size_t n;
  while ((n = bf_tls_take_out(raw, buf, sizeof buf)) > 0)
    assert_int_equal(bf_ctl_session_feed(w.c.s, buf, n, w.now), 0);
  drain(&w.c, w.now);
  while ((n = bf_ctl_session_take_out(w.c.s, buf, sizeof buf)) > 0)
    assert_int_equal(bf_tls_feed(raw, buf, n), 0);
  assert_int_equal(raw_read_msgs(raw, f, got, 8), 2); /* PairReveal, then Hello */
  assert_int_equal(got[0].type, BF_CTL_PAIR_REVEAL);
  assert_int_equal(got[1].type, BF_CTL_HELLO);
  uint8_t h[32], nc[32];
  memcpy(nc, got[0].u.pair_nonce.nonce, 32);
  sha256_of(nc, 32, h);
  assert_memory_equal(h, commit, 32); /* the reveal opens the commitment */
  uint8_t e[32];
  char want[7], other[7];
  assert_int_equal(bf_tls_export(raw, BF_PAIR_EXPORTER_LABEL, e, 32), 0);
  assert_int_equal(bf_ctl_pair_code(e, nc, nm.u.pair_nonce.nonce, want), 0);
  const bf_ctl_event *show = find(&w.c, BF_CTL_EV_SHOW_CODE);
  assert_non_null(show);
  assert_string_equal(show->code, want);
  /* The code depends on the n_s the sender chose after the commitment. */
  nm.u.pair_nonce.nonce[0] ^= 1;
  assert_int_equal(bf_ctl_pair_code(e, nc, nm.u.pair_nonce.nonce, other), 0);
  assert_string_not_equal(other, want);
  /* A second PairNonce is a protocol error. */
  raw_send(raw, &nm);
  while ((n = bf_tls_take_out(raw, buf, sizeof buf)) > 0)
    assert_int_equal(bf_ctl_session_feed(w.c.s, buf, n, w.now), 0);
  drain(&w.c, w.now);
  const bf_ctl_event *cc = find(&w.c, BF_CTL_EV_CLOSED);
  assert_non_null(cc);
  assert_int_equal(cc->reason, BF_CTL_BYE_MALFORMED);
  assert_non_null(strstr(cc->text, "unexpected pair_nonce"));
  assert_int_equal(bf_pinstore_count(w.cpins), 0);
  bf_tls_del(&raw);

  /* A sender that never answers the PairCommit (but keeps the connection
   * alive): the client's setup window still ends it, before any code. */
  world_disconnect(&w);
  assert_int_equal(bf_tls_new(BF_TLS_SERVER, w.sid, &raw), 0);
  assert_int_equal(bf_ctl_session_new(&w.ccfg, w.now, &w.c.s), 0);
  raw_server_exchange(raw, &w.c, w.now);
  bf_ctl_msg ka = {.type = BF_CTL_KEEPALIVE};
  uint64_t t = w.now;
  for (; t < w.now + 10 * SEC && !find(&w.c, BF_CTL_EV_CLOSED); t += 400 * MS) {
    raw_send(raw, &ka);
    raw_server_exchange(raw, &w.c, t);
    bf_ctl_session_tick(w.c.s, t);
    drain(&w.c, t);
  }
  cc = find(&w.c, BF_CTL_EV_CLOSED);
  assert_non_null(cc);
  assert_int_equal(cc->reason, BF_CTL_BYE_TIMEOUT);
  assert_true(t - w.now <= BF_CTL_HANDSHAKE_NS + 2 * 400 * MS);
  assert_null(find(&w.c, BF_CTL_EV_SHOW_CODE));
  bf_tls_del(&raw);
  free(f);
  world_free(&w);
}

/* A raw client connected to a fresh sender session; returns the raw end. */
static bf_tls *raw_client(world *w) {
  bf_tls *raw = NULL;
  world_disconnect(w);
  assert_int_equal(bf_tls_new(BF_TLS_CLIENT, w->cid, &raw), 0);
  assert_int_equal(bf_ctl_session_new(&w->scfg, w->now, &w->s.s), 0);
  w->s.auto_confirm = -1;
  raw_exchange(raw, &w->s, w->now);
  assert_true(bf_tls_established(raw));
  return raw;
}

static void expect_closed(const world *w, uint32_t reason, const char *text) {
  const bf_ctl_event *e = find(&w->s, BF_CTL_EV_CLOSED);
  assert_non_null(e);
  assert_int_equal(e->reason, reason);
  assert_non_null(strstr(e->text, text));
  assert_null(find(&w->s, BF_CTL_EV_CONFIRM_CODE));
}

/* The sender: the formula on its side, a wrong reveal, every out-of-order
 * pairing message. */
static void test_pair_sender_side(void **state) {
  (void)state;
  world w;
  world_init(&w);
  w.scfg.limiter = NULL; /* eight pairing attempts here; the limit is tested above */
  bf_ctl_framer *f = malloc(sizeof *f);
  assert_non_null(f);
  bf_ctl_msg got[8];
  bf_ctl_msg req = {.type = BF_CTL_PAIR_REQUEST}, com = {.type = BF_CTL_PAIR_COMMIT};
  bf_ctl_msg rev = {.type = BF_CTL_PAIR_REVEAL}, hel = {.type = BF_CTL_HELLO};
  hel.u.hello = default_hello();
  memset(rev.u.pair_nonce.nonce, 0x77, 32);
  sha256_of(rev.u.pair_nonce.nonce, 32, com.u.pair_commit.hash);

  /* 1: the honest order; the confirmation shows the formula's code. Then a
   * PairCommit after the Hello (while the user looks at the code): Bye 7. */
  bf_tls *raw = raw_client(&w);
  bf_ctl_framer_init(f);
  raw_send(raw, &req);
  raw_send(raw, &com);
  raw_exchange(raw, &w.s, w.now);
  assert_int_equal(raw_read_msgs(raw, f, got, 8), 1);
  assert_int_equal(got[0].type, BF_CTL_PAIR_NONCE);
  const bf_ctl_msg nonce = got[0];
  raw_send(raw, &rev);
  raw_send(raw, &hel);
  raw_exchange(raw, &w.s, w.now);
  const bf_ctl_event *conf = find(&w.s, BF_CTL_EV_CONFIRM_CODE);
  assert_non_null(conf);
  uint8_t e[32];
  char want[7];
  assert_int_equal(bf_tls_export(raw, BF_PAIR_EXPORTER_LABEL, e, 32), 0);
  assert_int_equal(bf_ctl_pair_code(e, rev.u.pair_nonce.nonce, nonce.u.pair_nonce.nonce, want), 0);
  assert_string_equal(conf->code, want);
  raw_send(raw, &com);
  raw_exchange(raw, &w.s, w.now);
  const bf_ctl_event *cl = find(&w.s, BF_CTL_EV_CLOSED);
  assert_non_null(cl);
  assert_int_equal(cl->reason, BF_CTL_BYE_MALFORMED);
  assert_non_null(strstr(cl->text, "unexpected pair_commit"));
  assert_int_equal(bf_ctl_session_confirm(w.s.s, 1, w.now), -EINVAL);
  assert_int_equal(bf_pinstore_count(w.spins), 0);
  bf_tls_del(&raw);

  /* 2: a fresh n_s per session, even for the same commitment. */
  raw = raw_client(&w);
  bf_ctl_framer_init(f);
  raw_send(raw, &req);
  raw_send(raw, &com);
  raw_exchange(raw, &w.s, w.now);
  assert_int_equal(raw_read_msgs(raw, f, got, 8), 1);
  assert_int_equal(got[0].type, BF_CTL_PAIR_NONCE);
  assert_memory_not_equal(got[0].u.pair_nonce.nonce, nonce.u.pair_nonce.nonce, 32);

  /* 3: ... and a reveal that does not open the commitment: PairResult
   * wrong-code and Bye 4 naming it. */
  bf_ctl_msg bad = rev;
  bad.u.pair_nonce.nonce[31] ^= 0x80;
  raw_send(raw, &bad);
  raw_send(raw, &hel);
  raw_exchange(raw, &w.s, w.now);
  expect_closed(&w, BF_CTL_BYE_PAIR_FAILED, "pair_reveal does not match its pair_commit");
  assert_int_equal(raw_read_msgs(raw, f, got, 8), 2); /* what the client is told */
  assert_int_equal(got[0].type, BF_CTL_PAIR_RESULT);
  assert_int_equal(got[0].u.pair_result.status, BF_CTL_PAIR_WRONG_CODE);
  assert_int_equal(got[1].type, BF_CTL_BYE);
  assert_int_equal(got[1].u.bye.reason, BF_CTL_BYE_PAIR_FAILED);
  assert_non_null(strstr(got[1].u.bye.text, "pair_reveal"));
  bf_tls_del(&raw);

  /* 4: a PairReveal before any PairNonce (no commitment yet). */
  raw = raw_client(&w);
  raw_send(raw, &req);
  raw_send(raw, &rev);
  raw_exchange(raw, &w.s, w.now);
  expect_closed(&w, BF_CTL_BYE_MALFORMED, "unexpected pair_reveal");
  bf_tls_del(&raw);

  /* 5: a Hello after the commitment but before the reveal. */
  raw = raw_client(&w);
  raw_send(raw, &req);
  raw_send(raw, &com);
  raw_send(raw, &hel);
  raw_exchange(raw, &w.s, w.now);
  expect_closed(&w, BF_CTL_BYE_MALFORMED, "pair_reveal before hello");
  bf_tls_del(&raw);

  /* 6: a PairCommit without PairRequest, a second PairCommit, a PairNonce
   * from the client. */
  raw = raw_client(&w);
  raw_send(raw, &com);
  raw_exchange(raw, &w.s, w.now);
  expect_closed(&w, BF_CTL_BYE_MALFORMED, "unexpected pair_commit");
  bf_tls_del(&raw);
  raw = raw_client(&w);
  raw_send(raw, &req);
  raw_send(raw, &com);
  raw_send(raw, &com);
  raw_exchange(raw, &w.s, w.now);
  expect_closed(&w, BF_CTL_BYE_MALFORMED, "unexpected pair_commit");
  bf_tls_del(&raw);
  raw = raw_client(&w);
  raw_send(raw, &req);
  bf_ctl_msg cn = {.type = BF_CTL_PAIR_NONCE};
  raw_send(raw, &cn);
  raw_exchange(raw, &w.s, w.now);
  expect_closed(&w, BF_CTL_BYE_MALFORMED, "unexpected pair_nonce");
  bf_tls_del(&raw);

  /* 7: a pinned client's Hello, then a PairCommit once established. */
  uint8_t cfp[32];
  bf_identity_fp(w.cid, cfp);
  assert_int_equal(bf_pinstore_add(w.spins, cfp, "test-client", 1, 0), 0);
  raw = raw_client(&w);
  raw_send(raw, &hel);
  raw_exchange(raw, &w.s, w.now);
  assert_non_null(find(&w.s, BF_CTL_EV_ESTABLISHED));
  raw_send(raw, &com);
  raw_exchange(raw, &w.s, w.now);
  expect_closed(&w, BF_CTL_BYE_MALFORMED, "unexpected pair_commit");
  bf_tls_del(&raw);
  assert_int_equal(bf_pinstore_count(w.spins), 1);
  free(f);
  world_free(&w);
}

/* Mallory terminates both TLS sessions and relays the control messages
 * verbatim (commitment, nonce, reveal and all): both legs complete, but the
 * two exporters differ, so the codes the users compare differ. */
static void test_mitm_relay_codes_differ(void **state) {
  (void)state;
  for (int trial = 0; trial < 3; trial++) {
    world w;
    world_init(&w);
    bf_identity *mid = NULL;
    bf_tls *toc = NULL, *tos = NULL; /* Mallory's sender face, client face */
    assert_int_equal(bf_identity_generate("mallory", &mid), 0);
    assert_int_equal(bf_tls_new(BF_TLS_SERVER, mid, &toc), 0);
    assert_int_equal(bf_tls_new(BF_TLS_CLIENT, mid, &tos), 0);
    assert_int_equal(bf_ctl_session_new(&w.ccfg, w.now, &w.c.s), 0);
    assert_int_equal(bf_ctl_session_new(&w.scfg, w.now, &w.s.s), 0);
    w.c.auto_confirm = w.s.auto_confirm = -1;
    uint8_t buf[4096];
    for (int i = 0; i < 40; i++) {
      size_t n, moved = 0;
      int r;
      while ((n = bf_ctl_session_take_out(w.c.s, buf, sizeof buf)) > 0) {
        assert_int_equal(bf_tls_feed(toc, buf, n), 0);
        moved += n;
      }
      while ((n = bf_tls_take_out(toc, buf, sizeof buf)) > 0) {
        assert_int_equal(bf_ctl_session_feed(w.c.s, buf, n, w.now), 0);
        moved += n;
      }
      while ((n = bf_ctl_session_take_out(w.s.s, buf, sizeof buf)) > 0) {
        assert_int_equal(bf_tls_feed(tos, buf, n), 0);
        moved += n;
      }
      while ((n = bf_tls_take_out(tos, buf, sizeof buf)) > 0) {
        assert_int_equal(bf_ctl_session_feed(w.s.s, buf, n, w.now), 0);
        moved += n;
      }
      /* relay plaintext both ways */
      while ((r = bf_tls_read(toc, buf, sizeof buf)) > 0) {
        assert_int_equal(bf_tls_write(tos, buf, (size_t)r), 0);
        moved += (size_t)r;
      }
      while ((r = bf_tls_read(tos, buf, sizeof buf)) > 0) {
        assert_int_equal(bf_tls_write(toc, buf, (size_t)r), 0);
        moved += (size_t)r;
      }
      drain(&w.c, w.now);
      drain(&w.s, w.now);
      if (!moved && i > 2) break;
    }
    const bf_ctl_event *show = find(&w.c, BF_CTL_EV_SHOW_CODE);
    const bf_ctl_event *conf = find(&w.s, BF_CTL_EV_CONFIRM_CODE);
    assert_non_null(show); /* the relayed flow is accepted on both legs ... */
    assert_non_null(conf);
    assert_string_not_equal(show->code, conf->code); /* ... but the users see it */
    assert_int_equal(bf_ctl_session_confirm(w.s.s, 0, w.now), 0);
    assert_int_equal(bf_pinstore_count(w.spins), 0);
    bf_tls_del(&toc);
    bf_tls_del(&tos);
    world_free(&w);
    bf_identity_del(&mid);
  }
}

/* ---- over a real TCP loopback connection ---------------------------------- */

static uint64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * SEC + (uint64_t)ts.tv_nsec;
}

static void net_io(end *e, int fd, uint64_t now) {
  uint8_t buf[4096];
  size_t n;
  while ((n = bf_ctl_session_take_out(e->s, buf, sizeof buf)) > 0) {
    size_t off = 0;
    while (off < n) {
      ssize_t w = send(fd, buf + off, n - off, MSG_NOSIGNAL);
      if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
        struct pollfd p = {fd, POLLOUT, 0};
        poll(&p, 1, 100);
        continue;
      }
      assert_true(w > 0);
      off += (size_t)w;
    }
  }
  ssize_t r;
  while ((r = recv(fd, buf, sizeof buf, 0)) > 0)
    assert_int_equal(bf_ctl_session_feed(e->s, buf, (size_t)r, now), 0);
  if (r == 0) bf_ctl_session_eof(e->s, now);
  bf_ctl_session_tick(e->s, now);
  drain(e, now);
}

static void test_tcp_loopback(void **state) {
  (void)state;
  world w;
  world_init(&w);
  int ls = socket(AF_INET, SOCK_STREAM, 0);
  assert_true(ls >= 0);
  struct sockaddr_in a = {.sin_family = AF_INET};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t al = sizeof a;
  assert_int_equal(bind(ls, (struct sockaddr *)&a, sizeof a), 0);
  assert_int_equal(listen(ls, 1), 0);
  assert_int_equal(getsockname(ls, (struct sockaddr *)&a, &al), 0);
  int cfd = socket(AF_INET, SOCK_STREAM, 0);
  assert_int_equal(connect(cfd, (struct sockaddr *)&a, sizeof a), 0);
  int sfd = accept(ls, NULL, NULL);
  assert_true(sfd >= 0);
  close(ls);
  fcntl(cfd, F_SETFL, O_NONBLOCK);
  fcntl(sfd, F_SETFL, O_NONBLOCK);

  uint64_t t0 = mono_ns();
  assert_int_equal(bf_ctl_session_new(&w.ccfg, t0, &w.c.s), 0);
  assert_int_equal(bf_ctl_session_new(&w.scfg, t0, &w.s.s), 0);
  w.c.auto_confirm = -1;
  w.s.auto_confirm = 1;
  int closed_sent = 0;
  while (mono_ns() - t0 < 5 * SEC) {
    struct pollfd p[2] = {{cfd, POLLIN, 0}, {sfd, POLLIN, 0}};
    poll(p, 2, 5);
    uint64_t now = mono_ns();
    net_io(&w.c, cfd, now);
    net_io(&w.s, sfd, now);
    if (!closed_sent && find(&w.c, BF_CTL_EV_ESTABLISHED) && find(&w.s, BF_CTL_EV_ESTABLISHED)) {
      bf_ctl_session_close(w.c.s, BF_CTL_BYE_NORMAL, "done", now);
      closed_sent = 1;
    }
    if (find(&w.s, BF_CTL_EV_CLOSED)) break;
  }
  assert_string_equal(find(&w.c, BF_CTL_EV_SHOW_CODE)->code,
                      find(&w.s, BF_CTL_EV_CONFIRM_CODE)->code);
  const bf_ctl_event *sc = find(&w.s, BF_CTL_EV_CLOSED);
  assert_non_null(sc);
  assert_int_equal(sc->by_peer, 1);
  assert_string_equal(sc->text, "done");
  uint8_t x[32], y[32];
  assert_int_equal(bf_ctl_session_seal_secret(w.c.s, x, 32), 0);
  assert_int_equal(bf_ctl_session_seal_secret(w.s.s, y, 32), 0);
  assert_memory_equal(x, y, 32);
  close(cfd);
  close(sfd);
  world_free(&w);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_pair_then_reconnect),
      cmocka_unit_test(test_pins_handed_up),
      cmocka_unit_test(test_pair_rejected),
      cmocka_unit_test(test_revoked_client),
      cmocka_unit_test(test_wake_info),
      cmocka_unit_test(test_sender_cert_changed),
      cmocka_unit_test(test_mitm_codes_differ),
      cmocka_unit_test(test_rate_limit),
      cmocka_unit_test(test_keepalive_and_dead_peer),
      cmocka_unit_test(test_negotiate),
      cmocka_unit_test(test_event_backpressure),
      cmocka_unit_test(test_sender_rejects_bad_peers),
      cmocka_unit_test(test_tcp_loopback),
      cmocka_unit_test(test_pair_code_function),
      cmocka_unit_test(test_pair_client_side),
      cmocka_unit_test(test_pair_sender_side),
      cmocka_unit_test(test_mitm_relay_codes_differ),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
