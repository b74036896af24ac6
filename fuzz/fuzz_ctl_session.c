/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * libFuzzer: the control session's state machine (bildfunk/ctl_session.h)
 * against a hostile peer that completed the TLS handshake. The peer is a
 * raw bf_tls endpoint with an identity of its own; the input is a script:
 *
 *   byte 0: bit 0 the session under test is the client (else the sender),
 *           bit 1 the peer is pinned, bit 2 the client pairs anyway (pair 2)
 *   then steps, each an opcode byte and its operands:
 *     0 L:u16 B[L]  L raw plaintext bytes into the TLS stream (frames or not)
 *     1 T L:u8 B[L] a message of type T decoded from B (when it decodes),
 *                   encoded and written: well-formed messages of every type
 *     2 D           the clock moves D x 37 ms; the session's timers run
 *     3 A           the sender's user answers the confirmation (A & 1)
 *     4 E           the pin save ended (E ? -EIO : 0)
 *     5 T           the session sends a message of its own (ping / keyframe)
 *     6             the peer's close_notify
 *     7             the TCP stream ends (eof)
 *     8 R           the session is closed locally with reason R
 * After each step the bytes go both ways until nothing moves and the
 * events are taken. Checked: no crash, leak or sanitizer report; every
 * event type is known; CLOSED is final; the output waiting stays bounded.
 */
#include <bildfunk/common.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#ifndef BF_HAVE_SEAL
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  (void)data;
  (void)size;
  return 0;
}
#else

#include <bildfunk/ctl_session.h>
#include <bildfunk/identity.h>
#include <bildfunk/tls.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MS 1000000ull

static bf_identity *g_client_id, *g_sender_id;

static bf_ctl_hello hello_default(void) {
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
  strcpy(h.name, "fuzz-client");
  return h;
}

static bf_ctl_offer offer_default(void) {
  bf_ctl_offer o;
  memset(&o, 0, sizeof o);
  o.codec_pref[0] = BF_CTL_CODEC_H264;
  o.width = 1280;
  o.height = 720;
  o.fps = 60;
  o.shard_bytes = 1408;
  o.max_k = 64;
  o.fec_percent = 20;
  o.data_port = 47998;
  o.max_frame_bytes = 4u << 20;
  o.bitrate_kbps = 8000;
  o.sealed = 1;
  return o;
}

typedef struct run {
  bf_ctl_session *s;
  bf_tls *peer;
  uint64_t now;
  int closed;
} run;

/* Bytes both ways until nothing moves (bounded), then every event. */
static void exchange(run *r) {
  static uint8_t buf[8192];
  for (int i = 0; i < 64; i++) {
    size_t n, moved = 0;
    while ((n = bf_tls_take_out(r->peer, buf, sizeof buf)) > 0) {
      (void)bf_ctl_session_feed(r->s, buf, n, r->now);
      moved += n;
    }
    bf_ctl_event ev;
    while (bf_ctl_session_poll(r->s, &ev)) {
      if (ev.type < BF_CTL_EV_SHOW_CODE || ev.type > BF_CTL_EV_CLOSED) abort();
      if (ev.type == BF_CTL_EV_CLOSED) r->closed = 1;
    }
    (void)bf_ctl_session_feed(r->s, NULL, 0, r->now); /* what waited for room */
    if (r->closed && bf_ctl_session_state(r->s) != BF_CTL_ST_CLOSED) abort();
    if (bf_ctl_session_pending_out(r->s) > (1u << 20)) abort();
    while ((n = bf_ctl_session_take_out(r->s, buf, sizeof buf)) > 0) {
      (void)bf_tls_feed(r->peer, buf, n);
      moved += n;
    }
    /* the peer reads (and forgets) what the session says */
    while (bf_tls_read(r->peer, buf, sizeof buf) > 0) {
    }
    if (!moved) return;
  }
}

static int setup(run *r, unsigned mode, bf_pinstore **cpins, bf_pinstore **spins,
                 bf_pair_limiter *lim) {
  int client = mode & 1, pinned = (mode >> 1) & 1;
  if (bf_pinstore_open(NULL, cpins) || bf_pinstore_open(NULL, spins)) return -1;
  uint8_t fp[BF_FP_BYTES];
  bf_ctl_session_cfg cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.wall_unix = 1700000000;
  if (client) {
    bf_identity_fp(g_sender_id, fp);
    if (pinned) (void)bf_pinstore_put(*cpins, fp, "fuzz.sender", 1700000000, 1);
    cfg.role = BF_TLS_CLIENT;
    cfg.id = g_client_id;
    cfg.pins = *cpins;
    cfg.peer_name = "fuzz.sender";
    cfg.hello = hello_default();
    cfg.pair = (mode & 4) ? 2 : 1;
  } else {
    bf_identity_fp(g_client_id, fp);
    if (pinned) (void)bf_pinstore_put(*spins, fp, "fuzz-client", 1700000000, 0);
    bf_pair_limiter_init(lim, BF_PAIR_LIMIT_DEFAULT_ATTEMPTS, BF_PAIR_LIMIT_DEFAULT_WINDOW_NS);
    cfg.role = BF_TLS_SERVER;
    cfg.id = g_sender_id;
    cfg.pins = *spins;
    cfg.offer = offer_default();
    cfg.limiter = lim;
    cfg.pin_saved_wait = (mode >> 3) & 1;
  }
  r->now = 1000 * 1000 * MS;
  if (bf_ctl_session_new(&cfg, r->now, &r->s)) return -1;
  if (bf_tls_new(client ? BF_TLS_SERVER : BF_TLS_CLIENT, client ? g_sender_id : g_client_id,
                 &r->peer))
    return -1;
  exchange(r);
  return 0;
}

/* One step of the script at |d| (|left| bytes); returns the bytes used. */
static size_t step(run *r, const uint8_t *d, size_t left) {
  uint8_t frame[BF_CTL_MAX_ENCODED];
  unsigned op = d[0] % 9;
  size_t used = 1;
  switch (op) {
  case 0: {
    size_t len = left >= 3 ? (size_t)(d[1] | d[2] << 8) % 4096 : 0;
    used = 3;
    if (used > left) return left;
    if (len > left - used) len = left - used;
    if (len) (void)bf_tls_write(r->peer, d + used, len);
    used += len;
    break;
  }
  case 1: {
    if (left < 3) return left;
    size_t len = d[2];
    used = 3;
    if (len > left - used) len = left - used;
    bf_ctl_msg m;
    if (bf_ctl_decode(d[1], d + used, len, &m, NULL) == 0) {
      int n = bf_ctl_encode(&m, frame, sizeof frame);
      if (n > 0) (void)bf_tls_write(r->peer, frame, (size_t)n);
    }
    used += len;
    break;
  }
  case 2:
    if (left >= 2) r->now += (uint64_t)d[1] * 37 * MS, used = 2;
    bf_ctl_session_tick(r->s, r->now);
    break;
  case 3:
    if (left >= 2) (void)bf_ctl_session_confirm(r->s, d[1] & 1, r->now), used = 2;
    break;
  case 4:
    if (left >= 2) (void)bf_ctl_session_pin_saved(r->s, d[1] ? -EIO : 0, r->now), used = 2;
    break;
  case 5: {
    bf_ctl_msg m;
    memset(&m, 0, sizeof m);
    m.type = left >= 2 && (d[1] & 1) ? BF_CTL_KEYFRAME_REQUEST : BF_CTL_CLOCK_PING;
    used = left >= 2 ? 2 : 1;
    (void)bf_ctl_session_send(r->s, &m, r->now);
    break;
  }
  case 6:
    bf_tls_shutdown(r->peer);
    break;
  case 7:
    bf_ctl_session_eof(r->s, r->now);
    break;
  default:
    if (left >= 2) bf_ctl_session_close(r->s, d[1] % 12, "fuzz", r->now), used = 2;
    break;
  }
  exchange(r);
  return used;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!g_client_id && (bf_identity_generate("fuzz client", &g_client_id) ||
                       bf_identity_generate("fuzz sender", &g_sender_id)))
    abort();
  if (size < 1) return 0;
  run r;
  memset(&r, 0, sizeof r);
  bf_pinstore *cpins = NULL, *spins = NULL;
  bf_pair_limiter lim;
  if (setup(&r, data[0], &cpins, &spins, &lim) == 0) {
    size_t off = 1;
    for (int steps = 0; off < size && steps < 256; steps++)
      off += step(&r, data + off, size - off);
    /* the timers to the end: every session closes by itself at last */
    for (int i = 0; i < 8 && bf_ctl_session_state(r.s) != BF_CTL_ST_CLOSED; i++) {
      r.now += 60000 * MS;
      bf_ctl_session_tick(r.s, r.now);
      exchange(&r);
    }
  }
  bf_tls_del(&r.peer);
  bf_ctl_session_del(&r.s);
  bf_pinstore_del(&cpins);
  bf_pinstore_del(&spins);
  return 0;
}

#endif
