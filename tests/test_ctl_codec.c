/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Control-plane messages: round trip of every type, exact bytes of three,
 * the framer fed one byte at a time and in random chunks, oversize and
 * truncated streams, unknown types skipped by length, trailing extension
 * bytes, and every malformed-field rule with its name.
 */
#include "testutil.h"

#include <bildfunk/ctl_codec.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* One valid message of every type, with edge values. */
static size_t sample_messages(bf_ctl_msg *v) {
  size_t n = 0;
  bf_ctl_msg *m;

  m = &v[n++];
  memset(m, 0, sizeof *m);
  m->type = BF_CTL_HELLO;
  m->u.hello.proto_version = 1;
  m->u.hello.mtu = 1500;
  m->u.hello.codecs = BF_CTL_CODEC_BIT(BF_CTL_CODEC_H264) | BF_CTL_CODEC_BIT(BF_CTL_CODEC_AV1);
  m->u.hello.hw_codecs = BF_CTL_CODEC_BIT(BF_CTL_CODEC_H264);
  m->u.hello.max_width = 3840;
  m->u.hello.max_height = 2160;
  m->u.hello.max_fps = 144;
  m->u.hello.shard_bytes = 1408;
  m->u.hello.caps = BF_CTL_CAP_SEALED | 0x80000000u;                  /* unknown bits are kept */
  strcpy(m->u.hello.name, "Wohnzimmer-PC \xc3\xbc \xf0\x9f\x8e\xae"); /* ü, U+1F3AE */

  m = &v[n++];
  memset(m, 0, sizeof *m);
  m->type = BF_CTL_WELCOME;
  m->u.welcome.proto_version = 1;
  m->u.welcome.width = 1920;
  m->u.welcome.height = 1080;
  m->u.welcome.fps = 60;
  m->u.welcome.codec = BF_CTL_CODEC_HEVC;
  m->u.welcome.fec_percent = 90;
  m->u.welcome.shard_bytes = 9152;
  m->u.welcome.max_k = 253;
  m->u.welcome.data_port = 47998;
  m->u.welcome.max_frame_bytes = BF_CTL_MAX_FRAME_BYTES;
  m->u.welcome.bitrate_kbps = 20000;
  m->u.welcome.flags = BF_CTL_WELCOME_SEALED;

  m = &v[n++];
  memset(m, 0, sizeof *m);
  m->type = BF_CTL_CLOCK_PING;
  m->u.ping.id = UINT32_MAX;
  m->u.ping.t1_ns = UINT64_MAX - 1;

  m = &v[n++];
  memset(m, 0, sizeof *m);
  m->type = BF_CTL_CLOCK_PONG;
  m->u.pong.id = 7;
  m->u.pong.t1_ns = 1;
  m->u.pong.t2_ns = 0x0102030405060708ull;
  m->u.pong.t3_ns = UINT64_MAX;

  m = &v[n++];
  memset(m, 0, sizeof *m);
  m->type = BF_CTL_KEYFRAME_REQUEST;
  m->u.keyframe.request_id = 3;
  m->u.keyframe.first_lost = UINT32_MAX;
  m->u.keyframe.last_lost = 2;

  m = &v[n++];
  memset(m, 0, sizeof *m);
  m->type = BF_CTL_LOSS_REPORT;
  m->u.loss.window_ms = 750;
  m->u.loss.packets_received = 1;
  m->u.loss.shards_missing = 2;
  m->u.loss.loss_ppm = 3;
  m->u.loss.frames_completed = 4;
  m->u.loss.frames_lost = 5;
  m->u.loss.shards_recovered = 6;
  m->u.loss.late_shards = UINT32_MAX;

  m = &v[n++];
  memset(m, 0, sizeof *m);
  m->type = BF_CTL_KEEPALIVE;

  m = &v[n++];
  memset(m, 0, sizeof *m);
  m->type = BF_CTL_PAIR_REQUEST;
  strcpy(m->u.pair_request.code, "0815Ab");

  m = &v[n++];
  memset(m, 0, sizeof *m);
  m->type = BF_CTL_PAIR_RESULT;
  m->u.pair_result.status = BF_CTL_PAIR_RATE_LIMITED;
  m->u.pair_result.retry_after_ms = 30000;

  m = &v[n++];
  memset(m, 0, sizeof *m);
  m->type = BF_CTL_BYE;
  m->u.bye.reason = 1234; /* unknown reasons are kept */
  memset(m->u.bye.text, 'x', BF_CTL_MAX_TEXT);

  m = &v[n++];
  memset(m, 0, sizeof *m);
  m->type = BF_CTL_BYE;
  m->u.bye.reason = BF_CTL_BYE_NOT_PAIRED;
  strcpy(m->u.bye.text, "not paired: run `bildfunk pair HOST`");

  m = &v[n++];
  memset(m, 0, sizeof *m);
  m->type = BF_CTL_HELLO; /* smallest valid Hello: empty name */
  m->u.hello.proto_version = 1;
  m->u.hello.mtu = 576;
  m->u.hello.codecs = 1;
  m->u.hello.max_width = m->u.hello.max_height = m->u.hello.max_fps = 1;
  m->u.hello.shard_bytes = 512;

  m = &v[n++];
  memset(m, 0, sizeof *m);
  m->type = BF_CTL_PAIR_COMMIT;
  for (size_t i = 0; i < BF_CTL_PAIR_COMMIT_BYTES; i++)
    m->u.pair_commit.hash[i] = (uint8_t)(0xc0 + i);

  m = &v[n++];
  memset(m, 0, sizeof *m);
  m->type = BF_CTL_PAIR_NONCE;
  memset(m->u.pair_nonce.nonce, 0xff, BF_CTL_PAIR_NONCE_BYTES);
  m->u.pair_nonce.nonce[0] = 0; /* any bytes, NUL included */

  m = &v[n++];
  memset(m, 0, sizeof *m);
  m->type = BF_CTL_PAIR_REVEAL;
  for (size_t i = 0; i < BF_CTL_PAIR_NONCE_BYTES; i++)
    m->u.pair_nonce.nonce[i] = (uint8_t)(31 - i);

  m = &v[n++];
  memset(m, 0, sizeof *m);
  m->type = BF_CTL_RELAY_OFFER; /* IPv4 relayed, IPv6 mapped */
  m->u.relay_offer.relayed.family = 4;
  m->u.relay_offer.relayed.port = 49152;
  memcpy(m->u.relay_offer.relayed.ip, "\xc0\x00\x02\x0a", 4);
  m->u.relay_offer.mapped.family = 6;
  m->u.relay_offer.mapped.port = 1;
  memset(m->u.relay_offer.mapped.ip, 0xfe, 16);
  strcpy(m->u.relay_offer.server, "turn.example.org:3478");

  m = &v[n++];
  memset(m, 0, sizeof *m);
  m->type = BF_CTL_RELAY_READY; /* no mapped address */

  m = &v[n++];
  memset(m, 0, sizeof *m);
  m->type = BF_CTL_RELAY_FAILED;
  strcpy(m->u.relay_failed.text, "no --turn here");

  m = &v[n++];
  memset(m, 0, sizeof *m);
  m->type = BF_CTL_DATA_ADDR; /* the client's data socket */
  m->u.data_addr.addr.family = 4;
  m->u.data_addr.addr.port = 56677;
  memcpy(m->u.data_addr.addr.ip, "\x0a\x4e\x01\x02", 4);
  return n;
}

#define NSAMPLES 19

static void test_roundtrip(void **state) {
  (void)state;
  bf_ctl_msg v[NSAMPLES], out;
  const size_t n = sample_messages(v);
  static const size_t want_len[] = {6 + 24 + 2 + 21, 6 + 28, 6 + 12,     6 + 28, 6 + 12,
                                    6 + 32,          6,      6 + 8,      6 + 8,  BF_CTL_MAX_ENCODED,
                                    6 + 4 + 2 + 36,  6 + 26, 6 + 32,     6 + 32, 6 + 32,
                                    6 + 38 + 2 + 21, 6 + 19, 6 + 2 + 14, 6 + 19};
  assert_int_equal(n, sizeof want_len / sizeof want_len[0]);
  for (size_t i = 0; i < n; i++) {
    uint8_t buf[BF_CTL_MAX_ENCODED];
    const int len = bf_ctl_encode(&v[i], buf, sizeof buf);
    assert_int_equal(len, (int)want_len[i]);
    assert_int_equal(buf[4], BF_CTL_FRAME_VERSION);
    assert_int_equal(buf[5], v[i].type);
    assert_int_equal(buf[0] | buf[1] << 8 | buf[2] << 16 | buf[3] << 24, len - 6);
    /* through the decoder directly and through the framer */
    const char *why = "x";
    assert_int_equal(bf_ctl_decode(buf[5], buf + 6, (size_t)len - 6, &out, &why), 0);
    assert_string_equal(why, "");
    assert_memory_equal(&out, &v[i], sizeof out);
    static bf_ctl_framer f;
    bf_ctl_framer_init(&f);
    size_t used = 0;
    memset(&out, 0xee, sizeof out);
    assert_int_equal(bf_ctl_framer_feed(&f, buf, (size_t)len, &used, &out), 1);
    assert_int_equal(used, (size_t)len);
    assert_memory_equal(&out, &v[i], sizeof out);
    assert_true(bf_ctl_framer_idle(&f));
    /* one byte short of the frame: no message yet */
    bf_ctl_framer_init(&f);
    assert_int_equal(bf_ctl_framer_feed(&f, buf, (size_t)len - 1, &used, &out), 0);
    assert_int_equal(used, (size_t)len - 1);
    assert_false(bf_ctl_framer_idle(&f));
    /* a cap one byte short */
    assert_int_equal(bf_ctl_encode(&v[i], buf, (size_t)len - 1), -ENOSPC);
    assert_string_not_equal(bf_ctl_type_name(v[i].type), "unknown");
  }
  assert_string_equal(bf_ctl_type_name(0), "unknown");
  assert_string_equal(bf_ctl_type_name(200), "unknown");
  assert_string_equal(bf_ctl_type_name(BF_CTL_RELAY_OFFER), "relay_offer");
  assert_string_equal(bf_ctl_type_name(BF_CTL_PAIR_COMMIT), "pair_commit");
  assert_string_equal(bf_ctl_type_name(BF_CTL_PAIR_NONCE), "pair_nonce");
  assert_string_equal(bf_ctl_type_name(BF_CTL_PAIR_REVEAL), "pair_reveal");
  assert_string_equal(bf_ctl_type_name(BF_CTL_LOSS_REPORT), "loss_report");
}

static void test_layout(void **state) {
  (void)state;
  bf_ctl_msg v[NSAMPLES];
  sample_messages(v);
  uint8_t b[64];
  assert_int_equal(bf_ctl_encode(&v[1], b, sizeof b), 34);
  static const uint8_t welcome[34] = {
      28,   0,    0,    0,    1,    2,    /* header: body_len 28, version 1, type 2 */
      1,    0,                            /* proto_version */
      0x80, 0x07, 0x38, 0x04, 60,   0,    /* 1920 x 1080 @ 60 */
      2,    90,                           /* codec HEVC, fec 90 % */
      0xc0, 0x23, 253,  0,    0x7e, 0xbb, /* shard 9152, K 253, port 47998 */
      0,    0,    0,    0x04,             /* max_frame_bytes 64 MiB */
      0x20, 0x4e, 0,    0,                /* 20000 kbit/s */
      1,    0,    0,    0};               /* flags: sealed */
  assert_memory_equal(b, welcome, sizeof welcome);

  bf_ctl_msg m;
  memset(&m, 0, sizeof m);
  m.type = BF_CTL_BYE;
  m.u.bye.reason = BF_CTL_BYE_TIMEOUT;
  strcpy(m.u.bye.text, "ok");
  assert_int_equal(bf_ctl_encode(&m, b, sizeof b), 14);
  static const uint8_t bye[14] = {8, 0, 0, 0, 1, 10, 6, 0, 0, 0, 2, 0, 'o', 'k'};
  assert_memory_equal(b, bye, sizeof bye);

  /* PairCommit: body_len 32, type 11, the hash as is. */
  assert_int_equal(bf_ctl_encode(&v[12], b, sizeof b), 38);
  static const uint8_t commit_hdr[6] = {32, 0, 0, 0, 1, 11};
  assert_memory_equal(b, commit_hdr, 6);
  assert_memory_equal(b + 6, v[12].u.pair_commit.hash, 32);
  assert_int_equal(b[6], 0xc0);
  assert_int_equal(b[37], 0xdf);
  assert_int_equal(bf_ctl_encode(&v[13], b, sizeof b), 38);
  assert_int_equal(b[5], 12);
  assert_int_equal(bf_ctl_encode(&v[14], b, sizeof b), 38);
  assert_int_equal(b[5], 13);
  assert_int_equal(b[6], 31);
}

/* A stream of every sample, with unknown-type messages (some empty, one of
 * the largest size allowed) in between. Returns its length; |kinds| gets the
 * expected sample index per delivered message. */
static size_t build_stream(uint8_t *s, size_t cap, const bf_ctl_msg *v, size_t nv, size_t *count,
                           size_t *unknown) {
  size_t len = 0;
  *count = *unknown = 0;
  for (size_t i = 0; i < nv; i++) {
    if (i % 3 == 1) { /* an unknown type before this one */
      const uint32_t body = i == 4 ? BF_CTL_MAX_BODY : (uint32_t)(i * 11);
      assert_true(len + 6 + body <= cap);
      s[len + 0] = (uint8_t)body;
      s[len + 1] = (uint8_t)(body >> 8);
      s[len + 2] = (uint8_t)(body >> 16);
      s[len + 3] = (uint8_t)(body >> 24);
      s[len + 4] = BF_CTL_FRAME_VERSION;
      s[len + 5] = (uint8_t)(200 + i);
      memset(s + len + 6, 0xa5, body);
      len += 6 + body;
      (*unknown)++;
    }
    const int n = bf_ctl_encode(&v[i], s + len, cap - len);
    assert_true(n > 0);
    len += (size_t)n;
    (*count)++;
  }
  return len;
}

/* Feeds |s| in chunks chosen by |chunk| (0 = random up to 3000 bytes, else
 * that size) and checks every message comes out in order, once. */
static void feed_stream(const uint8_t *s, size_t len, const bf_ctl_msg *v, size_t count,
                        size_t unknown, size_t chunk, bf_test_rng *rng) {
  static bf_ctl_framer f;
  bf_ctl_framer_init(&f);
  size_t off = 0, got = 0;
  bf_ctl_msg m;
  while (off < len) {
    size_t c = chunk ? chunk : 1 + bf_test_rng_below(rng, 3000);
    if (c > len - off) c = len - off;
    size_t pos = 0;
    for (;;) {
      size_t used = 0;
      const int rc = bf_ctl_framer_feed(&f, s + off + pos, c - pos, &used, &m);
      assert_true(rc >= 0);
      pos += used;
      if (rc == 0) {
        assert_int_equal(pos, c);
        break;
      }
      assert_true(got < count);
      assert_memory_equal(&m, &v[got], sizeof m);
      got++;
    }
    off += c;
  }
  assert_int_equal(got, count);
  assert_int_equal(f.messages, count);
  assert_int_equal(f.skipped, unknown);
  assert_true(bf_ctl_framer_idle(&f));
}

static void test_framer_chunks(void **state) {
  (void)state;
  bf_ctl_msg v[NSAMPLES];
  const size_t nv = sample_messages(v);
  const size_t cap = 1u << 18;
  uint8_t *s = malloc(cap);
  assert_non_null(s);
  size_t count, unknown;
  const size_t len = build_stream(s, cap, v, nv, &count, &unknown);
  assert_int_equal(count, nv);
  assert_int_equal(unknown, (nv + 1) / 3); /* before samples 1, 4, 7, ... */
  bf_test_rng rng;
  bf_test_rng_seed(&rng, 0xc0de);
  feed_stream(s, len, v, count, unknown, 1, &rng); /* one byte at a time */
  feed_stream(s, len, v, count, unknown, 7, &rng);
  feed_stream(s, len, v, count, unknown, len, &rng); /* all at once */
  for (int i = 0; i < 50; i++)
    feed_stream(s, len, v, count, unknown, 0, &rng);
  free(s);
}

static void header(uint8_t *b, uint32_t body_len, uint8_t version, uint8_t type) {
  b[0] = (uint8_t)body_len;
  b[1] = (uint8_t)(body_len >> 8);
  b[2] = (uint8_t)(body_len >> 16);
  b[3] = (uint8_t)(body_len >> 24);
  b[4] = version;
  b[5] = type;
}

static void test_framer_errors(void **state) {
  (void)state;
  static bf_ctl_framer f;
  bf_ctl_msg m;
  size_t used;
  uint8_t b[64];
  /* oversize, known or unknown type: error as soon as the header is in */
  const uint8_t types[] = {BF_CTL_BYE, 99};
  for (size_t i = 0; i < sizeof types; i++) {
    bf_ctl_framer_init(&f);
    header(b, BF_CTL_MAX_BODY + 1, 1, types[i]);
    memset(b + 6, 0, 10);
    assert_int_equal(bf_ctl_framer_feed(&f, b, 5, &used, &m), 0);
    assert_int_equal(bf_ctl_framer_feed(&f, b + 5, 11, &used, &m), -EMSGSIZE);
    assert_int_equal(used, 1);
    assert_string_equal(bf_ctl_framer_why(&f), "frame: body_len > 65530");
    /* sticky */
    assert_int_equal(bf_ctl_framer_feed(&f, b, 6, &used, &m), -EMSGSIZE);
    assert_int_equal(used, 0);
    assert_false(bf_ctl_framer_idle(&f));
  }
  header(b, UINT32_MAX, 1, BF_CTL_KEEPALIVE);
  bf_ctl_framer_init(&f);
  assert_int_equal(bf_ctl_framer_feed(&f, b, 6, &used, &m), -EMSGSIZE);
  /* version */
  bf_ctl_framer_init(&f);
  header(b, 0, 2, BF_CTL_KEEPALIVE);
  assert_int_equal(bf_ctl_framer_feed(&f, b, 6, &used, &m), -EPROTONOSUPPORT);
  assert_string_equal(bf_ctl_framer_why(&f), "frame: version is not 1");
  /* type 0 */
  bf_ctl_framer_init(&f);
  header(b, 0, 1, 0);
  assert_int_equal(bf_ctl_framer_feed(&f, b, 6, &used, &m), -EBADMSG);
  assert_string_equal(bf_ctl_framer_why(&f), "frame: type 0");
  /* init clears the error */
  bf_ctl_framer_init(&f);
  assert_string_equal(bf_ctl_framer_why(&f), "");
  header(b, 0, 1, BF_CTL_KEEPALIVE);
  assert_int_equal(bf_ctl_framer_feed(&f, b, 6, &used, &m), 1);
  assert_int_equal(m.type, BF_CTL_KEEPALIVE);
  /* a known message of the largest size: trailing bytes are extension */
  const size_t big = BF_CTL_HEADER_BYTES + BF_CTL_MAX_BODY;
  uint8_t *s = calloc(1, big);
  assert_non_null(s);
  header(s, BF_CTL_MAX_BODY, 1, BF_CTL_BYE);
  s[6] = 2;  /* reason 2 */
  s[10] = 3; /* text "abc" */
  memcpy(s + 12, "abc", 3);
  bf_ctl_framer_init(&f);
  assert_int_equal(bf_ctl_framer_feed(&f, s, big, &used, &m), 1);
  assert_int_equal(used, big);
  assert_int_equal(m.u.bye.reason, 2);
  assert_string_equal(m.u.bye.text, "abc");
  free(s);
  /* the empty feed */
  assert_int_equal(bf_ctl_framer_feed(&f, NULL, 0, &used, &m), 0);
  assert_int_equal(used, 0);
}

/* Feeds a single frame of |type| with |body| and expects -EBADMSG named
 * |want_why|; also checks the decoder alone. */
static void expect_bad(uint8_t type, const uint8_t *body, size_t n, const char *want_why) {
  static bf_ctl_framer f;
  static uint8_t frame[BF_CTL_MAX_MSG];
  header(frame, (uint32_t)n, 1, type);
  memcpy(frame + 6, body, n);
  bf_ctl_framer_init(&f);
  bf_ctl_msg m;
  size_t used;
  assert_int_equal(bf_ctl_framer_feed(&f, frame, n + 6, &used, &m), -EBADMSG);
  assert_string_equal(bf_ctl_framer_why(&f), want_why);
  const char *why = NULL;
  assert_int_equal(bf_ctl_decode(type, body, n, &m, &why), -EBADMSG);
  assert_string_equal(why, want_why);
}

/* Encodes |m| (must be valid) and returns the body in |body|, its length. */
static size_t body_of(const bf_ctl_msg *m, uint8_t *body) {
  uint8_t buf[BF_CTL_MAX_ENCODED];
  const int n = bf_ctl_encode(m, buf, sizeof buf);
  assert_true(n >= 6);
  memcpy(body, buf + 6, (size_t)n - 6);
  return (size_t)n - 6;
}

static void test_malformed(void **state) {
  (void)state;
  bf_ctl_msg v[NSAMPLES];
  sample_messages(v);
  uint8_t b[1024], c[1024];
  /* short bodies: every fixed-size part minus one byte */
  static const struct {
    int sample;
    size_t fixed;
    const char *why;
  } shorts[] = {
      {0, 24, "hello: short"},
      {1, 28, "welcome: short"},
      {2, 12, "clock_ping: short"},
      {3, 28, "clock_pong: short"},
      {4, 12, "keyframe_request: short"},
      {5, 32, "loss_report: short"},
      {8, 8, "pair_result: short"},
      {9, 4, "bye: short"},
      {12, 32, "pair_commit: short"},
      {13, 32, "pair_nonce: short"},
      {14, 32, "pair_reveal: short"},
  };
  for (size_t i = 0; i < sizeof shorts / sizeof shorts[0]; i++) {
    body_of(&v[shorts[i].sample], b);
    expect_bad((uint8_t)v[shorts[i].sample].type, b, shorts[i].fixed - 1, shorts[i].why);
  }
  /* strings running past the body, too long, with NUL, bad UTF-8 */
  size_t n = body_of(&v[0], b); /* hello, name of 22 bytes at offset 26 */
  expect_bad(BF_CTL_HELLO, b, n - 1, "hello: name runs past the body");
  expect_bad(BF_CTL_HELLO, b, 25, "hello: name runs past the body");
  memcpy(c, b, n);
  c[24] = 65;
  memset(c + 26, 'a', 65);
  expect_bad(BF_CTL_HELLO, c, 26 + 65, "hello: name longer than 64 bytes");
  static const char *const bad_text[] = {
      "a\x01",
      "tab\there",
      "del\x7f",
      "nul\0x",
      "\xc0\x80",         /* overlong NUL */
      "\xe0\x80\xaf",     /* overlong '/' */
      "\xed\xa0\x80",     /* surrogate */
      "\xf4\x90\x80\x80", /* > U+10FFFF */
      "\xc3",             /* truncated */
      "\xc2\x85",         /* C1 NEL */
      "\x80",
      "\xff",
      "\xf8\x88\x80\x80\x80",
  };
  static const size_t bad_len[] = {2, 8, 4, 5, 2, 3, 3, 4, 1, 2, 1, 1, 5};
  for (size_t i = 0; i < sizeof bad_text / sizeof bad_text[0]; i++) {
    memcpy(c, b, 24);
    c[24] = (uint8_t)bad_len[i];
    c[25] = 0;
    memcpy(c + 26, bad_text[i], bad_len[i]);
    expect_bad(BF_CTL_HELLO, c, 26 + bad_len[i], "hello: name not printable UTF-8");
    /* the same text in a Bye */
    memset(c, 0, 4);
    c[4] = (uint8_t)bad_len[i];
    c[5] = 0;
    memcpy(c + 6, bad_text[i], bad_len[i]);
    expect_bad(BF_CTL_BYE, c, 6 + bad_len[i], "bye: text not printable UTF-8");
  }
  /* Hello field ranges (offsets in the body) */
  static const struct {
    size_t at, width;
    uint32_t value;
    const char *why;
  } hello_bad[] = {
      {0, 2, 0, "hello: proto_version 0"},
      {2, 2, 575, "hello: mtu < 576"},
      {4, 4, 0, "hello: no codecs"},
      {12, 2, 0, "hello: max size 0"},
      {14, 2, 0, "hello: max size 0"},
      {16, 2, 0, "hello: max_fps 0"},
      {18, 2, 1407, "hello: shard_bytes not even in 512..9152"},
      {18, 2, 510, "hello: shard_bytes not even in 512..9152"},
      {18, 2, 9154, "hello: shard_bytes not even in 512..9152"},
  };
  for (size_t i = 0; i < sizeof hello_bad / sizeof hello_bad[0]; i++) {
    memcpy(c, b, n);
    for (size_t k = 0; k < hello_bad[i].width; k++)
      c[hello_bad[i].at + k] = (uint8_t)(hello_bad[i].value >> (8 * k));
    expect_bad(BF_CTL_HELLO, c, n, hello_bad[i].why);
  }
  /* Welcome field ranges */
  n = body_of(&v[1], b);
  static const struct {
    size_t at, width;
    uint32_t value;
    const char *why;
  } welcome_bad[] = {
      {0, 2, 0, "welcome: proto_version 0"},
      {2, 2, 0, "welcome: size 0"},
      {4, 2, 0, "welcome: size 0"},
      {6, 2, 0, "welcome: fps 0"},
      {8, 1, 0, "welcome: codec not in 1..32"},
      {8, 1, 33, "welcome: codec not in 1..32"},
      {9, 1, 91, "welcome: fec_percent > 90"},
      {10, 2, 1409, "welcome: shard_bytes not even in 512..9152"},
      {10, 2, 0, "welcome: shard_bytes not even in 512..9152"},
      {12, 2, 0, "welcome: max_k not in 1..253"},
      {12, 2, 254, "welcome: max_k not in 1..253"},
      {14, 2, 0, "welcome: data_port 0"},
      {16, 4, 0, "welcome: max_frame_bytes not in 1..64 MiB"},
      {16, 4, (64u << 20) + 1, "welcome: max_frame_bytes not in 1..64 MiB"},
  };
  for (size_t i = 0; i < sizeof welcome_bad / sizeof welcome_bad[0]; i++) {
    memcpy(c, b, n);
    for (size_t k = 0; k < welcome_bad[i].width; k++)
      c[welcome_bad[i].at + k] = (uint8_t)(welcome_bad[i].value >> (8 * k));
    expect_bad(BF_CTL_WELCOME, c, n, welcome_bad[i].why);
  }
  /* pairing code */
  static const char *const bad_codes[] = {"12 34", "12-34", "\xc3\xbc", "a\x01"};
  for (size_t i = 0; i < sizeof bad_codes / sizeof bad_codes[0]; i++) {
    const size_t l = strlen(bad_codes[i]);
    c[0] = (uint8_t)l;
    c[1] = 0;
    memcpy(c + 2, bad_codes[i], l);
    expect_bad(BF_CTL_PAIR_REQUEST, c, 2 + l, "pair_request: code not 0..16 of [0-9A-Za-z]");
  }
  c[0] = 17;
  memset(c + 2, '1', 17);
  expect_bad(BF_CTL_PAIR_REQUEST, c, 19, "pair_request: code longer than 16 bytes");
  expect_bad(BF_CTL_PAIR_REQUEST, c, 1, "pair_request: code runs past the body");
  c[0] = 4;
  expect_bad(BF_CTL_PAIR_REQUEST, c, 5, "pair_request: code runs past the body");
  /* bye text length field */
  memset(c, 0, 4);
  c[4] = (uint8_t)(513 & 0xff);
  c[5] = (uint8_t)(513 >> 8);
  memset(c + 6, 'y', 513);
  expect_bad(BF_CTL_BYE, c, 6 + 513, "bye: text longer than 512 bytes");
  expect_bad(BF_CTL_BYE, c, 5, "bye: text runs past the body");

  /* the decoder on its own: unknown type */
  bf_ctl_msg m;
  assert_int_equal(bf_ctl_decode(0, b, 4, &m, NULL), -ENOENT);
  assert_int_equal(bf_ctl_decode(200, b, 4, &m, NULL), -ENOENT);
  /* relay messages: short, a relayed address of no family, a v4 address
   * with bytes past its 4, a server name running past the body */
  memset(c, 0, sizeof c);
  expect_bad(BF_CTL_RELAY_OFFER, c, 37, "relay_offer: short");
  expect_bad(BF_CTL_RELAY_OFFER, c, 40,
             "relay_offer: relayed address not IPv4 or IPv6 with a port");
  c[0] = 4, c[1] = 1, c[2] = 0;
  c[10] = 1; /* relayed v4 with a byte in the unused part */
  expect_bad(BF_CTL_RELAY_OFFER, c, 40,
             "relay_offer: relayed address not IPv4 or IPv6 with a port");
  c[10] = 0;
  c[19] = 9; /* mapped family 9 */
  expect_bad(BF_CTL_RELAY_OFFER, c, 40, "relay_offer: mapped address malformed");
  c[19] = 0;
  c[38] = 5; /* server length 5, no bytes */
  expect_bad(BF_CTL_RELAY_OFFER, c, 40, "relay_offer: server runs past the body");
  c[38] = 0;
  expect_bad(BF_CTL_RELAY_READY, c, 18, "relay_ready: short");
  c[0] = 6, c[1] = 0; /* v6 without a port */
  expect_bad(BF_CTL_RELAY_READY, c, 19, "relay_ready: mapped address malformed");
  c[0] = 1, c[1] = 0; /* text length 1: a control character */
  expect_bad(BF_CTL_RELAY_FAILED, c, 3, "relay_failed: text not printable UTF-8");
  expect_bad(BF_CTL_RELAY_FAILED, c, 2, "relay_failed: text runs past the body");
  memset(c, 0, 19);
  expect_bad(BF_CTL_DATA_ADDR, c, 18, "data_addr: short");
  expect_bad(BF_CTL_DATA_ADDR, c, 19, "data_addr: address not IPv4 or IPv6 with a port");
  c[0] = 4; /* IPv4, port 0 */
  expect_bad(BF_CTL_DATA_ADDR, c, 19, "data_addr: address not IPv4 or IPv6 with a port");
  memset(c, 0, 19);
}

/* Trailing bytes after the known fields are a later version's extension. */
static void test_extension(void **state) {
  (void)state;
  bf_ctl_msg v[NSAMPLES], m;
  const size_t nv = sample_messages(v);
  uint8_t b[BF_CTL_MAX_ENCODED + 100];
  for (size_t i = 0; i < nv; i++) {
    const size_t n = body_of(&v[i], b);
    memset(b + n, 0x5c, 100);
    assert_int_equal(bf_ctl_decode(v[i].type, b, n + 100, &m, NULL), 0);
    assert_memory_equal(&m, &v[i], sizeof m);
  }
}

static void test_encode_rejects(void **state) {
  (void)state;
  bf_ctl_msg v[NSAMPLES];
  sample_messages(v);
  uint8_t b[BF_CTL_MAX_ENCODED];
  const char *why = NULL;
  bf_ctl_msg m = v[1];
  m.u.welcome.fec_percent = 91;
  assert_int_equal(bf_ctl_encode(&m, b, sizeof b), -EINVAL);
  assert_int_equal(bf_ctl_validate(&m, &why), -EINVAL);
  assert_string_equal(why, "welcome: fec_percent > 90");
  m = v[0];
  memset(m.u.hello.name, 'n', sizeof m.u.hello.name); /* not terminated */
  assert_int_equal(bf_ctl_validate(&m, &why), -EINVAL);
  assert_string_equal(why, "hello: name longer than 64 bytes");
  m = v[0];
  strcpy(m.u.hello.name, "bell\a");
  assert_int_equal(bf_ctl_encode(&m, b, sizeof b), -EINVAL);
  m = v[7];
  strcpy(m.u.pair_request.code, ""); /* no code: valid, body = length 0 */
  assert_int_equal(bf_ctl_encode(&m, b, sizeof b), 8);
  memset(m.u.pair_request.code, '1', sizeof m.u.pair_request.code); /* 17, unterminated */
  assert_int_equal(bf_ctl_encode(&m, b, sizeof b), -EINVAL);
  strcpy(m.u.pair_request.code, "12:34");
  assert_int_equal(bf_ctl_encode(&m, b, sizeof b), -EINVAL);
  m.type = (bf_ctl_type)0;
  assert_int_equal(bf_ctl_encode(&m, b, sizeof b), -EINVAL);
  m.type = (bf_ctl_type)42;
  assert_int_equal(bf_ctl_validate(&m, &why), -EINVAL);
  assert_string_equal(why, "unknown message type");
  assert_int_equal(bf_ctl_validate(&v[3], &why), 0);
  assert_string_equal(why, "");
}

/* WakeInfo (17): the sender's MACs; exact bytes, limits, and every number
 * this build does not know skipped as unknown (gaps included). */
static void test_wake_info(void **state) {
  (void)state;
  bf_ctl_msg m, out;
  memset(&m, 0, sizeof m);
  m.type = BF_CTL_WAKE_INFO;
  m.u.wake_info.count = 2;
  const uint8_t a[6] = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55}, b6[6] = {0xaa, 0xbb, 0xcc, 0, 1, 2};
  memcpy(m.u.wake_info.mac[0], a, 6);
  memcpy(m.u.wake_info.mac[1], b6, 6);
  uint8_t b[BF_CTL_MAX_ENCODED];
  assert_int_equal(bf_ctl_encode(&m, b, sizeof b), 6 + 13);
  const uint8_t want[] = {13,   0,    0,    0,    1,    17,   2, 0x02, 0x11, 0x22,
                          0x33, 0x44, 0x55, 0xaa, 0xbb, 0xcc, 0, 1,    2};
  assert_memory_equal(b, want, sizeof want);
  assert_int_equal(bf_ctl_decode(17, b + 6, 13, &out, NULL), 0);
  assert_memory_equal(&out, &m, sizeof m);
  assert_string_equal(bf_ctl_type_name(17), "wake_info");
  /* none: one byte */
  m.u.wake_info.count = 0;
  assert_int_equal(bf_ctl_encode(&m, b, sizeof b), 7);
  /* nine: rejected both ways */
  m.u.wake_info.count = 9;
  const char *why = NULL;
  assert_int_equal(bf_ctl_encode(&m, b, sizeof b), -EINVAL);
  assert_int_equal(bf_ctl_validate(&m, &why), -EINVAL);
  assert_string_equal(why, "wake_info: more than 8 MACs");
  uint8_t body[64] = {9};
  expect_bad(17, body, 60, "wake_info: more than 8 MACs");
  expect_bad(17, body, 0, "wake_info: short");
  body[0] = 2;
  expect_bad(17, body, 12, "wake_info: MACs run past the body");
  /* numbers this build does not know -- a gap below 17 (14..16 are the
   * relay's, in a build without it) and those above -- are skipped by
   * length, then WakeInfo */
  static bf_ctl_framer f;
  bf_ctl_framer_init(&f);
  uint8_t s[256];
  size_t used, at = 0, unknown = 0;
  for (unsigned t = 1; t <= BF_CTL_TYPE_MAX_KNOWN + 2; t++) {
    if (strcmp(bf_ctl_type_name(t), "unknown")) continue;
    header(s + at, 2, 1, (uint8_t)t);
    s[at + 6] = s[at + 7] = 0xee;
    at += 8;
    unknown++;
    assert_int_equal(bf_ctl_decode(t, body, 4, &out, NULL), -ENOENT);
  }
  assert_true(unknown >= 2);
  memcpy(s + at, want, sizeof want);
  at += sizeof want;
  assert_int_equal(bf_ctl_framer_feed(&f, s, at, &used, &out), 1);
  assert_int_equal(used, at);
  assert_int_equal(out.type, BF_CTL_WAKE_INFO);
  assert_int_equal(f.skipped, unknown);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_roundtrip),      cmocka_unit_test(test_layout),
      cmocka_unit_test(test_framer_chunks),  cmocka_unit_test(test_framer_errors),
      cmocka_unit_test(test_malformed),      cmocka_unit_test(test_extension),
      cmocka_unit_test(test_encode_rejects), cmocka_unit_test(test_wake_info),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
