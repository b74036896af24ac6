/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The data-plane channel over real UDP sockets on loopback: the classifier's
 * table, every kind reaching its handler in clear and sealed mode, the punch
 * clear in both, foreign and unsealed datagrams counted, sealed bursts with
 * GSO keeping their sizes, the opener's counters across re-keying, the
 * client's punch schedule, and no allocation on the receive path; a client
 * on a UDP GRO socket taking coalesced trains of video and of equal-size
 * feedback, audio and input datagrams, each classified as its own kind.
 */
#include "testutil.h"

#include <bildfunk/channel.h>
#include <bildfunk/feedback.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t fake_now;
static uint64_t clock_now(void) {
  return fake_now;
}

static uint64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

typedef struct seen {
  size_t n[BF_DKIND_COUNT_];
  size_t last_len[BF_DKIND_COUNT_];
  uint8_t last[BF_DKIND_COUNT_][64];
  bf_addr from;
  uint64_t now;
} seen;

#define HANDLER(kind, fn)                                                                          \
  static void fn(void *user, const uint8_t *d, size_t len, const bf_addr *from, uint64_t now) {    \
    seen *s = user;                                                                                \
    s->n[kind]++;                                                                                  \
    s->last_len[kind] = len;                                                                       \
    memcpy(s->last[kind], d, len < 64 ? len : 64);                                                 \
    if (from) s->from = *from;                                                                     \
    s->now = now;                                                                                  \
  }
HANDLER(BF_DKIND_PUNCH, on_punch)
HANDLER(BF_DKIND_VIDEO, on_video)
HANDLER(BF_DKIND_FEEDBACK, on_feedback)
HANDLER(BF_DKIND_AUDIO, on_audio)
HANDLER(BF_DKIND_INPUT, on_input)

static bf_transport *udp_gro(int gro) {
  bf_udp_config c;
  bf_udp_config_default(&c);
  c.bind = "127.0.0.1:0";
  c.quiet = 1;
  c.gro = gro;
  bf_transport *t = NULL;
  assert_int_equal(bf_udp_open(&c, &t), 0);
  return t;
}

static bf_transport *udp(void) {
  return udp_gro(0);
}

typedef struct ends {
  bf_channel *client, *sender;
  bf_addr client_addr, sender_addr;
  seen cs, ss;
} ends;

/* |client_gro|: the client's socket asks for UDP GRO */
static void open_ends_gro(ends *e, int require_seal, int only_from_peer, int client_gro) {
  memset(e, 0, sizeof *e);
  bf_transport *tc = udp_gro(client_gro), *ts = udp();
  assert_int_equal(bf_transport_local_addr(tc, &e->client_addr), 0);
  assert_int_equal(bf_transport_local_addr(ts, &e->sender_addr), 0);
  bf_transport_set_peer(tc, &e->sender_addr);
  bf_channel_config cc = {.role = BF_CHANNEL_CLIENT, .now = clock_now, .only_from_peer = 1};
  bf_channel_config sc = {.role = BF_CHANNEL_SENDER,
                          .now = clock_now,
                          .require_seal = require_seal,
                          .only_from_peer = only_from_peer,
                          .burst_max = 128,
                          .max_plain = BF_HEADER_BYTES + 1408};
  assert_int_equal(bf_channel_new(&cc, tc, &e->client), 0);
  assert_int_equal(bf_channel_new(&sc, ts, &e->sender), 0);
  bf_channel_set_peer(e->sender, &e->client_addr);
  bf_channel_fn fns[BF_DKIND_COUNT_] = {NULL, on_punch, on_video, on_feedback, on_audio, on_input};
  for (int k = 1; k < BF_DKIND_COUNT_; k++) {
    bf_channel_on(e->client, (bf_dkind)k, fns[k], &e->cs);
    bf_channel_on(e->sender, (bf_dkind)k, fns[k], &e->ss);
  }
}

static void open_ends(ends *e, int require_seal, int only_from_peer) {
  open_ends_gro(e, require_seal, only_from_peer, 0);
}

static void close_ends(ends *e) {
  bf_channel_del(&e->client);
  bf_channel_del(&e->sender);
  assert_null(e->client);
}

/* Receives on |c| until |total| datagrams were read (2 s at most). */
static void pump(bf_channel *c, size_t total) {
  size_t got = 0;
  uint64_t end = mono_ms() + 2000;
  while (got < total && mono_ms() < end) {
    struct pollfd p = {bf_channel_fd(c), POLLIN, 0};
    (void)poll(&p, 1, 50);
    int r = bf_channel_receive(c, 4);
    assert_true(r >= 0);
    got += (size_t)r;
  }
  assert_int_equal(got, total);
}

static void test_classify(void **state) {
  (void)state;
  uint8_t d[BF_CHANNEL_VIDEO_MIN + 8];
  memset(d, 0x11, sizeof d);
  assert_int_equal(bf_dgram_classify(d, 0), BF_DKIND_GARBAGE);
  d[0] = BF_MAGIC_FEEDBACK;
  assert_int_equal(bf_dgram_classify(d, 1), BF_DKIND_GARBAGE);
  assert_int_equal(bf_dgram_classify(d, 2), BF_DKIND_FEEDBACK);
  assert_int_equal(bf_dgram_classify(d, BF_CHANNEL_MSG_MAX), BF_DKIND_FEEDBACK);
  /* a video datagram's first byte is its pts: any value, and still video */
  assert_int_equal(bf_dgram_classify(d, BF_CHANNEL_VIDEO_MIN), BF_DKIND_VIDEO);
  d[0] = BF_MAGIC_AUDIO;
  assert_int_equal(bf_dgram_classify(d, 100), BF_DKIND_AUDIO);
  assert_int_equal(bf_dgram_classify(d, BF_CHANNEL_VIDEO_MIN + 8), BF_DKIND_VIDEO);
  d[0] = BF_MAGIC_INPUT;
  assert_int_equal(bf_dgram_classify(d, 12), BF_DKIND_INPUT);
  d[0] = 0x42; /* unknown: short is garbage, header-long goes to the reassembler */
  assert_int_equal(bf_dgram_classify(d, BF_HEADER_BYTES - 1), BF_DKIND_GARBAGE);
  assert_int_equal(bf_dgram_classify(d, BF_HEADER_BYTES), BF_DKIND_VIDEO);
  assert_string_equal(bf_dkind_name(BF_DKIND_AUDIO), "audio");
  assert_string_equal(bf_dkind_name(BF_DKIND_COUNT_), "?");
  /* the magic bytes are neither video's 0xC9 nor the punch's 'P' */
  assert_true(BF_MAGIC_AUDIO != BF_MAGIC && BF_MAGIC_INPUT != BF_MAGIC);
  assert_true(BF_MAGIC_AUDIO != 'P' && BF_MAGIC_INPUT != 'P');
}

static void send_each_kind(bf_channel *from) {
  uint8_t fb[BF_FB_MAX_BYTES];
  bf_feedback f = {.type = BF_FB_CLOCK_PING, .u.ping = {7, 1234}};
  int n = bf_feedback_encode(&f, fb, sizeof fb);
  assert_true(n > 0);
  assert_int_equal(bf_channel_send(from, fb, (size_t)n, NULL), 1);
  uint8_t audio[200] = {BF_MAGIC_AUDIO, 1, 2, 3};
  assert_int_equal(bf_channel_send(from, audio, sizeof audio, NULL), 1);
  uint8_t input[24] = {BF_MAGIC_INPUT, 9};
  assert_int_equal(bf_channel_send(from, input, sizeof input, NULL), 1);
  uint8_t junk[10] = {0x42};
  assert_int_equal(bf_channel_send(from, junk, sizeof junk, NULL), 1);
  uint8_t big[BF_CHANNEL_VIDEO_MIN] = {0};
  assert_int_equal(bf_channel_send(from, big, sizeof big, NULL), -EMSGSIZE);
}

static void check_each_kind(const seen *s, const bf_channel *c) {
  assert_int_equal(s->n[BF_DKIND_FEEDBACK], 1);
  assert_int_equal(s->last_len[BF_DKIND_FEEDBACK], 14);
  bf_feedback f;
  assert_int_equal(bf_feedback_decode(s->last[BF_DKIND_FEEDBACK], 14, &f), 0);
  assert_int_equal(f.u.ping.id, 7);
  assert_int_equal(s->n[BF_DKIND_AUDIO], 1);
  assert_int_equal(s->last_len[BF_DKIND_AUDIO], 200);
  assert_int_equal(s->last[BF_DKIND_AUDIO][3], 3);
  assert_int_equal(s->n[BF_DKIND_INPUT], 1);
  assert_int_equal(s->last[BF_DKIND_INPUT][1], 9);
  bf_channel_stats st;
  bf_channel_stats_get(c, &st);
  assert_int_equal(st.by_kind[BF_DKIND_GARBAGE], 1);
  assert_int_equal(st.unhandled[BF_DKIND_GARBAGE], 1);
}

static void test_clear_kinds(void **state) {
  (void)state;
  ends e;
  open_ends(&e, 0, 0);
  fake_now = 5000;
  send_each_kind(e.client);
  /* a punch, and one that carries more bytes (clear mode: still a punch) */
  assert_int_equal(bf_punch_send(bf_channel_transport(e.client)), 1);
  uint8_t longer[20] = "PFpunch1-and-more";
  assert_int_equal(bf_channel_send(e.client, longer, sizeof longer, NULL), 1);
  pump(e.sender, 6);
  check_each_kind(&e.ss, e.sender);
  assert_int_equal(e.ss.n[BF_DKIND_PUNCH], 2);
  assert_true(bf_addr_equal(&e.ss.from, &e.client_addr));
  assert_int_equal(e.ss.now, 5000);
  assert_true(bf_channel_drained_ns(e.sender) == 5000);
  /* the sender's way back: feedback and a video burst */
  send_each_kind(e.sender);
  pump(e.client, 4);
  check_each_kind(&e.cs, e.client);
  close_ends(&e);
}

static void test_foreign(void **state) {
  (void)state;
  ends e;
  open_ends(&e, 0, 0);
  bf_transport *stranger = udp();
  bf_transport_set_peer(stranger, &e.client_addr);
  uint8_t fb[6] = {BF_FB_MAGIC, BF_FB_BYE};
  bf_dgram d = {fb, sizeof fb, NULL, 0};
  assert_int_equal(bf_send(stranger, &d), 1);
  pump(e.client, 1);
  bf_channel_stats st;
  bf_channel_stats_get(e.client, &st);
  assert_int_equal(st.foreign, 1);
  assert_int_equal(e.cs.n[BF_DKIND_FEEDBACK], 0);
  bf_transport_close(&stranger);
  close_ends(&e);
}

static void video_burst(bf_dgram *b, uint8_t heads[][BF_HEADER_BYTES], const uint8_t *body,
                        size_t n, size_t shard) {
  for (size_t i = 0; i < n; i++) {
    memset(heads[i], (int)i, BF_HEADER_BYTES);
    b[i] = (bf_dgram){heads[i], BF_HEADER_BYTES, body, shard};
  }
}

static void test_sealed(void **state) {
  (void)state;
  ends e;
  open_ends(&e, 1, 0);
  uint8_t secret[32];
  for (int i = 0; i < 32; i++)
    secret[i] = (uint8_t)(i * 3 + 1);
  /* no keys yet: the sender takes punches only */
  send_each_kind(e.client);
  assert_int_equal(bf_punch_send(bf_channel_transport(e.client)), 1);
  pump(e.sender, 5);
  bf_channel_stats st;
  bf_channel_stats_get(e.sender, &st);
  assert_int_equal(st.unsealed, 4);
  assert_int_equal(e.ss.n[BF_DKIND_PUNCH], 1);
  assert_int_equal(e.ss.n[BF_DKIND_FEEDBACK], 0);

  assert_int_equal(bf_channel_seal(e.client, secret, 1000), 0);
  assert_int_equal(bf_channel_seal(e.sender, secret, 5000), 0);
  assert_true(bf_channel_sealed(e.sender));
  send_each_kind(e.client);
  assert_int_equal(bf_punch_send(bf_channel_transport(e.client)), 1); /* clear still */
  pump(e.sender, 5);
  check_each_kind(&e.ss, e.sender);
  assert_int_equal(e.ss.n[BF_DKIND_PUNCH], 2);
  bf_channel_stats_get(e.client, &st);
  assert_int_equal(st.sealed, 4);

  /* a sealed burst of video with GSO keeps its equal sizes */
  static uint8_t heads[64][BF_HEADER_BYTES];
  static uint8_t body[1408];
  bf_dgram b[64];
  video_burst(b, heads, body, 64, sizeof body);
  int sent = bf_channel_send_burst(e.sender, b, 64, 1);
  assert_int_equal(sent, 64);
  for (int i = 0; i < 64; i++)
    assert_int_equal(b[i].head_len, BF_HEADER_BYTES + 1408 + BF_SEAL_OVERHEAD);
  pump(e.client, 64);
  assert_int_equal(e.cs.n[BF_DKIND_VIDEO], 64);
  assert_int_equal(e.cs.last_len[BF_DKIND_VIDEO], BF_HEADER_BYTES + 1408);
  assert_int_equal(e.cs.last[BF_DKIND_VIDEO][0], 63);

  /* a forged datagram from the right address fails its tag: counted */
  uint8_t forged[60];
  memset(forged, 0x5a, sizeof forged);
  bf_dgram fd = {forged, sizeof forged, NULL, 0};
  assert_int_equal(bf_send(bf_channel_transport(e.client), &fd), 1);
  pump(e.sender, 1);
  bf_opener_stats os;
  assert_int_equal(bf_channel_seal_stats(e.sender, &os), 1);
  assert_int_equal(os.bad_tag, 1);
  assert_int_equal(os.opened, 4);

  /* re-keyed: the counters carry over; the old keys no longer open */
  secret[0] ^= 1;
  assert_int_equal(bf_channel_seal(e.sender, secret, 9000), 0);
  send_each_kind(e.client); /* still the old keys */
  pump(e.sender, 4);
  assert_int_equal(bf_channel_seal_stats(e.sender, &os), 1);
  assert_int_equal(os.opened, 4);
  assert_int_equal(os.bad_tag, 5);
  bf_channel_unseal(e.sender);
  assert_false(bf_channel_sealed(e.sender));
  assert_int_equal(bf_channel_seal_stats(e.sender, &os), 1);
  assert_int_equal(os.bad_tag, 5);
  close_ends(&e);
}

/* Sealed direct mode: a new client gets a fresh replay window. */
static void test_renew_opener(void **state) {
  (void)state;
  ends e;
  open_ends(&e, 0, 0);
  uint8_t secret[32] = {1, 2, 3};
  assert_int_equal(bf_channel_renew_opener(e.sender), -EINVAL); /* no keys */
  assert_int_equal(bf_channel_seal(e.sender, secret, 1), 0);
  assert_int_equal(bf_channel_seal(e.client, secret, 1000000), 0);
  uint8_t fb[6] = {BF_FB_MAGIC, BF_FB_BYE};
  assert_int_equal(bf_channel_send(e.client, fb, sizeof fb, NULL), 1);
  pump(e.sender, 1);
  /* the same client restarted with its seqs far behind: old for this window */
  bf_channel_del(&e.client);
  bf_channel_config cc = {.role = BF_CHANNEL_CLIENT, .now = clock_now};
  bf_transport *t = udp();
  bf_transport_set_peer(t, &e.sender_addr);
  assert_int_equal(bf_channel_new(&cc, t, &e.client), 0);
  assert_int_equal(bf_channel_seal(e.client, secret, 1), 0);
  assert_int_equal(bf_channel_send(e.client, fb, sizeof fb, NULL), 1);
  pump(e.sender, 1);
  bf_opener_stats os;
  bf_channel_seal_stats(e.sender, &os);
  assert_int_equal(os.replay_old, 1);
  assert_int_equal(bf_channel_renew_opener(e.sender), 0);
  assert_int_equal(bf_channel_send(e.client, fb, sizeof fb, NULL), 1);
  pump(e.sender, 1);
  bf_channel_seal_stats(e.sender, &os);
  assert_int_equal(os.opened, 2);
  assert_int_equal(e.ss.n[BF_DKIND_FEEDBACK], 2);
  close_ends(&e);
}

static void test_punch_schedule(void **state) {
  (void)state;
  bf_transport *tc = udp(), *ts = udp();
  bf_addr sa;
  assert_int_equal(bf_transport_local_addr(ts, &sa), 0);
  bf_transport_set_peer(tc, &sa);
  fake_now = 1000;
  bf_channel_config cc = {.role = BF_CHANNEL_CLIENT, .now = clock_now, .punch = 1};
  bf_channel_config sc = {.role = BF_CHANNEL_SENDER, .now = clock_now};
  bf_channel *c, *s;
  assert_int_equal(bf_channel_new(&cc, tc, &c), 0);
  assert_int_equal(bf_channel_new(&sc, ts, &s), 0);
  seen ss;
  memset(&ss, 0, sizeof ss);
  bf_channel_on(s, BF_DKIND_PUNCH, on_punch, &ss);
  assert_int_equal(bf_channel_next_due(c), 1000);
  bf_channel_tick(c, 1000);
  bf_channel_tick(c, 1000); /* not due again */
  assert_int_equal(bf_channel_next_due(c), 1000 + BF_PUNCH_FAST_INTERVAL_NS);
  bf_channel_tick(c, 1000 + BF_PUNCH_FAST_INTERVAL_NS);
  pump(s, 2);
  assert_int_equal(ss.n[BF_DKIND_PUNCH], 2);
  bf_channel_stats st;
  bf_channel_stats_get(c, &st);
  assert_int_equal(st.punches_sent, 2);
  /* the sender side has no schedule */
  assert_int_equal(bf_channel_next_due(s), UINT64_MAX);
  bf_channel_del(&c);
  bf_channel_del(&s);
}

/* A train of |n| equal-size datagrams of kind |magic| (|len| bytes, byte 1
 * the index) sent with GSO: the kernel hands them to a GRO socket as one
 * coalesced read. */
static void send_train(bf_channel *from, uint8_t magic, size_t len, size_t n) {
  static uint8_t msgs[32][BF_CHANNEL_MSG_MAX];
  bf_dgram b[32];
  assert_true(n <= 32 && len <= BF_CHANNEL_MSG_MAX);
  for (size_t i = 0; i < n; i++) {
    memset(msgs[i], 0x33, len);
    msgs[i][0] = magic;
    msgs[i][1] = (uint8_t)i;
    b[i] = (bf_dgram){msgs[i], len, NULL, 0};
  }
  assert_int_equal(bf_channel_send_burst(from, b, n, 1), (int)n);
}

/* The client on a GRO socket, clear and sealed: trains of video and of
 * equal-size feedback, audio and input datagrams are read coalesced and
 * every datagram reaches its own kind's handler, in order. */
static void gro_kinds(int sealed) {
  ends e;
  open_ends_gro(&e, 0, 0, 1);
  bf_channel_stats st;
  bf_channel_stats_get(e.client, &st);
#ifdef __linux__
  assert_int_equal(st.gro, 1); /* Linux >= 5.0 */
#endif
  if (sealed) {
    uint8_t secret[32] = {4, 5, 6};
    assert_int_equal(bf_channel_seal(e.client, secret, 1), 0);
    assert_int_equal(bf_channel_seal(e.sender, secret, 1), 0);
  }
  static uint8_t heads[64][BF_HEADER_BYTES];
  static uint8_t body[1408];
  bf_dgram b[64];
  video_burst(b, heads, body, 64, sizeof body);
  assert_int_equal(bf_channel_send_burst(e.sender, b, 64, 1), 64);
  pump(e.client, 64);
  assert_int_equal(e.cs.n[BF_DKIND_VIDEO], 64);
  assert_int_equal(e.cs.last_len[BF_DKIND_VIDEO], BF_HEADER_BYTES + 1408);
  assert_int_equal(e.cs.last[BF_DKIND_VIDEO][0], 63);
  /* feedback, audio and input: the same size each, so the kernel may
   * coalesce each train (GRO merges equal-size segments of one flow) */
  send_train(e.sender, BF_MAGIC_FEEDBACK, 14, 16);
  send_train(e.sender, BF_MAGIC_AUDIO, 200, 16);
  send_train(e.sender, BF_MAGIC_INPUT, 24, 16);
  send_train(e.sender, 0x42, 10, 4); /* garbage stays garbage */
  pump(e.client, 52);
  static const bf_dkind kinds[3] = {BF_DKIND_FEEDBACK, BF_DKIND_AUDIO, BF_DKIND_INPUT};
  static const size_t lens[3] = {14, 200, 24};
  for (int k = 0; k < 3; k++) {
    assert_int_equal(e.cs.n[kinds[k]], 16);
    assert_int_equal(e.cs.last_len[kinds[k]], lens[k]);
    assert_int_equal(e.cs.last[kinds[k]][1], 15);
  }
  bf_channel_stats_get(e.client, &st);
  assert_int_equal(st.datagrams, 116);
  assert_int_equal(st.by_kind[BF_DKIND_GARBAGE], 4);
  assert_int_equal(st.by_kind[BF_DKIND_VIDEO], 64);
#ifdef __linux__
  const bf_transport *t = bf_channel_transport(e.client);
  assert_true(t->stats.rx_coalesced >= 4); /* the trains came coalesced */
  assert_true(st.batches < 20);
#endif
  close_ends(&e);
}

/* The modes a test runs in (cmocka prestate): 0 clear / recvmmsg, 1
 * sealed / GRO. */
static int mode_off = 0, mode_on = 1;

/* prestate: 1 sealed */
static void test_gro(void **state) {
  gro_kinds(*(const int *)*state);
}

static void test_bad_config(void **state) {
  (void)state;
  bf_channel *c = (bf_channel *)1;
  bf_channel_config cc = {.role = BF_CHANNEL_CLIENT}; /* no clock */
  assert_int_equal(bf_channel_new(&cc, udp(), &c), -EINVAL);
  assert_null(c);
}

/* Two sending threads on one sealed channel (cfg.send_threads): an audio
 * thread's small datagrams and the loop's video bursts. Every datagram must
 * open exactly once on the other side (no seq sealed twice, none torn). */
#define TT_AUDIO 3000u
#define TT_BURSTS 150u
#define TT_BURST 16u

typedef struct tagged {
  uint8_t seen_audio[TT_AUDIO];
  uint8_t seen_video[TT_BURSTS * TT_BURST];
  size_t bad, dup;
} tagged;

static void on_tagged_audio(void *user, const uint8_t *d, size_t len, const bf_addr *from,
                            uint64_t now) {
  (void)from, (void)now;
  tagged *t = user;
  uint32_t i = (uint32_t)d[1] | (uint32_t)d[2] << 8 | (uint32_t)d[3] << 16;
  if (len != 100 || i >= TT_AUDIO || d[99] != (uint8_t)i) {
    t->bad++;
    return;
  }
  if (t->seen_audio[i]++) t->dup++;
}

static void on_tagged_video(void *user, const uint8_t *d, size_t len, const bf_addr *from,
                            uint64_t now) {
  (void)from, (void)now;
  tagged *t = user;
  uint32_t i = (uint32_t)d[0] | (uint32_t)d[1] << 8;
  if (len != BF_HEADER_BYTES + 1408 || i >= TT_BURSTS * TT_BURST || d[len - 1] != (uint8_t)i) {
    t->bad++;
    return;
  }
  if (t->seen_video[i]++) t->dup++;
}

static void *audio_sender(void *arg) {
  bf_channel *c = arg;
  uint8_t d[100];
  memset(d, 0x11, sizeof d);
  d[0] = BF_MAGIC_AUDIO;
  for (uint32_t i = 0; i < TT_AUDIO; i++) {
    d[1] = (uint8_t)i, d[2] = (uint8_t)(i >> 8), d[3] = (uint8_t)(i >> 16);
    d[99] = (uint8_t)i;
    while (bf_channel_send(c, d, sizeof d, NULL) != 1) {
    }
    if (i % 64 == 63) {
      struct timespec ts = {0, 200000};
      nanosleep(&ts, NULL);
    }
  }
  return NULL;
}

static void *video_sender(void *arg) {
  bf_channel *c = arg;
  static uint8_t heads[TT_BURST][BF_HEADER_BYTES];
  static uint8_t bodies[TT_BURST][1408];
  bf_dgram b[TT_BURST];
  for (uint32_t k = 0; k < TT_BURSTS; k++) {
    for (uint32_t j = 0; j < TT_BURST; j++) {
      uint32_t i = k * TT_BURST + j;
      memset(heads[j], 0x22, BF_HEADER_BYTES);
      heads[j][0] = (uint8_t)i, heads[j][1] = (uint8_t)(i >> 8);
      bodies[j][1407] = (uint8_t)i;
      b[j] = (bf_dgram){heads[j], BF_HEADER_BYTES, bodies[j], 1408};
    }
    assert_int_equal(bf_channel_send_burst(c, b, TT_BURST, (int)(k & 1)), TT_BURST);
    struct timespec ts = {0, 300000};
    nanosleep(&ts, NULL);
  }
  return NULL;
}

static void test_two_senders(void **state) {
  (void)state;
  static tagged t;
  memset(&t, 0, sizeof t);
  bf_transport *tc = udp(), *ts = udp();
  bf_addr ca, sa;
  assert_int_equal(bf_transport_local_addr(tc, &ca), 0);
  assert_int_equal(bf_transport_local_addr(ts, &sa), 0);
  bf_transport_set_peer(tc, &sa);
  bf_channel_config cc = {.role = BF_CHANNEL_CLIENT, .now = clock_now, .only_from_peer = 1};
  bf_channel_config sc = {.role = BF_CHANNEL_SENDER,
                          .now = clock_now,
                          .burst_max = TT_BURST,
                          .max_plain = BF_HEADER_BYTES + 1408,
                          .send_threads = 1};
  bf_channel *client, *sender;
  assert_int_equal(bf_channel_new(&cc, tc, &client), 0);
  assert_int_equal(bf_channel_new(&sc, ts, &sender), 0);
  bf_channel_set_peer(sender, &ca);
  uint8_t secret[32] = {7, 7, 7};
  assert_int_equal(bf_channel_seal(client, secret, 1), 0);
  assert_int_equal(bf_channel_seal(sender, secret, 100), 0);
  bf_channel_on(client, BF_DKIND_AUDIO, on_tagged_audio, &t);
  bf_channel_on(client, BF_DKIND_VIDEO, on_tagged_video, &t);
  pthread_t a, v;
  assert_int_equal(pthread_create(&a, NULL, audio_sender, sender), 0);
  assert_int_equal(pthread_create(&v, NULL, video_sender, sender), 0);
  size_t total = TT_AUDIO + TT_BURSTS * TT_BURST, got = 0;
  uint64_t end = mono_ms() + 20000;
  while (got < total && mono_ms() < end) {
    struct pollfd p = {bf_channel_fd(client), POLLIN, 0};
    (void)poll(&p, 1, 50);
    int r = bf_channel_receive(client, 8);
    assert_true(r >= 0);
    got += (size_t)r;
  }
  pthread_join(a, NULL);
  pthread_join(v, NULL);
  assert_int_equal(got, total);
  assert_int_equal(t.bad, 0);
  assert_int_equal(t.dup, 0);
  for (size_t i = 0; i < TT_AUDIO; i++)
    assert_int_equal(t.seen_audio[i], 1);
  for (size_t i = 0; i < TT_BURSTS * TT_BURST; i++)
    assert_int_equal(t.seen_video[i], 1);
  bf_opener_stats os;
  assert_int_equal(bf_channel_seal_stats(client, &os), 1);
  assert_int_equal(os.opened, total);
  assert_int_equal(os.replay_dup + os.replay_old + os.bad_tag, 0);
  bf_channel_stats st;
  bf_channel_stats_get(sender, &st);
  assert_int_equal(st.sealed, total);
  assert_int_equal(st.sent, total);
  bf_channel_del(&client);
  bf_channel_del(&sender);
}

#ifdef BF_TEST_WRAP_MALLOC
/* Every allocation is counted (tests/lib/alloc_count.h). */
#include "alloc_count.h"

/* Sealed receive and send paths after warm-up: no allocation at all, with
 * the recvmmsg ring and with the GRO ring. */
static void no_alloc(int gro) {
  ends e;
  open_ends_gro(&e, 1, 1, gro);
  uint8_t secret[32] = {9};
  assert_int_equal(bf_channel_seal(e.client, secret, 1), 0);
  assert_int_equal(bf_channel_seal(e.sender, secret, 1), 0);
  static uint8_t heads[64][BF_HEADER_BYTES];
  static uint8_t body[1408];
  bf_dgram b[64];
  assert_true(bf_test_allocs_counted()); /* the wrapping works */
  for (int round = 0; round < 3; round++) {
    unsigned long before = bf_test_allocs();
    video_burst(b, heads, body, 64, sizeof body);
    assert_int_equal(bf_channel_send_burst(e.sender, b, 64, round & 1), 64);
    pump(e.client, 64);
    send_each_kind(e.client);
    pump(e.sender, 4);
    if (round > 0) assert_int_equal(bf_test_allocs(), before);
  }
  close_ends(&e);
}

/* prestate: 1 the GRO ring */
static void test_no_alloc(void **state) {
  no_alloc(*(const int *)*state);
}
#endif

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_classify),
      cmocka_unit_test(test_clear_kinds),
      cmocka_unit_test(test_foreign),
      cmocka_unit_test(test_sealed),
      cmocka_unit_test(test_renew_opener),
      cmocka_unit_test(test_punch_schedule),
      cmocka_unit_test(test_bad_config),
      cmocka_unit_test(test_two_senders),
      cmocka_unit_test_prestate(test_gro, &mode_off),
      cmocka_unit_test_prestate(test_gro, &mode_on),
#ifdef BF_TEST_WRAP_MALLOC
      cmocka_unit_test_prestate(test_no_alloc, &mode_off),
      cmocka_unit_test_prestate(test_no_alloc, &mode_on),
#endif
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
