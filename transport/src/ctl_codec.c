/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Control-plane message codec and stream framer: see bildfunk/ctl_codec.h.
 * Field by field, little-endian, no struct cast onto the wire, no
 * allocation.
 */
#include <bildfunk/ctl_codec.h>

#include <errno.h>
#include <string.h>

#include "endian.h"
#include "utf8.h"

/* Limits shared with the data plane (spec §2), restated so that the control
 * codec does not depend on the FEC/wire headers' build options. */
#define SHARD_MIN 512u
#define SHARD_MAX (9216u - 40u - 24u)
#define MAX_K (255u - 2u)
#define MAX_FEC 90u

#define HELLO_FIXED 24u
#define WELCOME_BYTES 28u
#define PING_BYTES 12u
#define PONG_BYTES 28u
#define KEYFRAME_BYTES 12u
#define LOSS_BYTES 32u
#define PAIR_RESULT_BYTES 8u
#define BYE_FIXED 4u
#define PAIR_COMMIT_BYTES BF_CTL_PAIR_COMMIT_BYTES
#define PAIR_NONCE_BYTES BF_CTL_PAIR_NONCE_BYTES

static const char *const type_names[BF_CTL_TYPE_MAX_KNOWN + 1] = {
    [BF_CTL_HELLO] = "hello",
    [BF_CTL_WELCOME] = "welcome",
    [BF_CTL_CLOCK_PING] = "clock_ping",
    [BF_CTL_CLOCK_PONG] = "clock_pong",
    [BF_CTL_KEYFRAME_REQUEST] = "keyframe_request",
    [BF_CTL_LOSS_REPORT] = "loss_report",
    [BF_CTL_KEEPALIVE] = "keepalive",
    [BF_CTL_PAIR_REQUEST] = "pair_request",
    [BF_CTL_PAIR_RESULT] = "pair_result",
    [BF_CTL_BYE] = "bye",
    [BF_CTL_PAIR_COMMIT] = "pair_commit",
    [BF_CTL_PAIR_NONCE] = "pair_nonce",
    [BF_CTL_PAIR_REVEAL] = "pair_reveal",
    [BF_CTL_RELAY_OFFER] = "relay_offer",
    [BF_CTL_RELAY_READY] = "relay_ready",
    [BF_CTL_RELAY_FAILED] = "relay_failed",
    [BF_CTL_WAKE_INFO] = "wake_info",
    [BF_CTL_DATA_ADDR] = "data_addr",
};

const char *bf_ctl_type_name(unsigned type) {
  if (type > BF_CTL_TYPE_MAX_KNOWN || !type_names[type]) return "unknown";
  return type_names[type];
}

/* Numbers may have gaps (a type taken by a branch not built here): a gap
 * is unknown, skipped as any other. */
static int known(unsigned type) {
  return type >= 1 && type <= BF_CTL_TYPE_MAX_KNOWN && type_names[type];
}

/* ---- strings ------------------------------------------------------------- */

/* 1 when |s| (|n| bytes) is well-formed UTF-8 (no overlong forms, no
 * surrogates, <= U+10FFFF) without C0/C1 control characters, DEL or NUL. */
static int text_ok(const uint8_t *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    const uint8_t c = s[i];
    if (c < 0x80) {
      if (c < 0x20 || c == 0x7f) return 0;
      i++;
      continue;
    }
    uint32_t cp, min;
    size_t extra;
    if ((c & 0xe0) == 0xc0) {
      cp = c & 0x1fu;
      extra = 1;
      min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
      cp = c & 0x0fu;
      extra = 2;
      min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
      cp = c & 0x07u;
      extra = 3;
      min = 0x10000;
    } else {
      return 0;
    }
    if (n - i <= extra) return 0;
    for (size_t k = 1; k <= extra; k++) {
      if ((s[i + k] & 0xc0) != 0x80) return 0;
      cp = (cp << 6) | (s[i + k] & 0x3fu);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    if (cp <= 0x9f) return 0; /* C1 controls U+0080..U+009F */
    i += extra + 1;
  }
  return 1;
}

int bf__text_ok(const uint8_t *s, size_t n) {
  return text_ok(s, n);
}

static int code_ok(const char *s, size_t n) {
  if (n > BF_CTL_MAX_CODE) return 0;
  for (size_t i = 0; i < n; i++) {
    const char c = s[i];
    if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) return 0;
  }
  return 1;
}

/* ---- validation ---------------------------------------------------------- */

#define FAIL(text)                                                                                 \
  do {                                                                                             \
    if (why) *why = (text);                                                                        \
    return -EINVAL;                                                                                \
  } while (0)

/* family 0 (none: all zero), 4 (a port, the last 12 bytes zero) or 6 (a
 * port) */
static int ctl_addr_ok(const bf_ctl_addr *a) {
  static const uint8_t zero[16];
  if (a->family == 0) return a->port == 0 && !memcmp(a->ip, zero, 16);
  if (a->family == 4) return a->port != 0 && !memcmp(a->ip + 4, zero, 12);
  return a->family == 6 && a->port != 0;
}

static int shard_ok(uint32_t s) {
  return s >= SHARD_MIN && s <= SHARD_MAX && s % 2 == 0;
}

int bf_ctl_validate(const bf_ctl_msg *m, const char **why) {
  if (why) *why = "";
  switch (m->type) {
  case BF_CTL_HELLO: {
    const bf_ctl_hello *h = &m->u.hello;
    if (h->proto_version < 1) FAIL("hello: proto_version 0");
    if (h->mtu < BF_CTL_MIN_MTU) FAIL("hello: mtu < 576");
    if (!h->codecs) FAIL("hello: no codecs");
    if (!h->max_width || !h->max_height) FAIL("hello: max size 0");
    if (!h->max_fps) FAIL("hello: max_fps 0");
    if (!shard_ok(h->shard_bytes)) FAIL("hello: shard_bytes not even in 512..9152");
    const size_t n = strnlen(h->name, sizeof h->name);
    if (n > BF_CTL_MAX_NAME) FAIL("hello: name longer than 64 bytes");
    if (!text_ok((const uint8_t *)h->name, n)) FAIL("hello: name not printable UTF-8");
    return 0;
  }
  case BF_CTL_WELCOME: {
    const bf_ctl_welcome *w = &m->u.welcome;
    if (w->proto_version < 1) FAIL("welcome: proto_version 0");
    if (!w->width || !w->height) FAIL("welcome: size 0");
    if (!w->fps) FAIL("welcome: fps 0");
    if (w->codec < 1 || w->codec > BF_CTL_MAX_CODEC) FAIL("welcome: codec not in 1..32");
    if (w->fec_percent > MAX_FEC) FAIL("welcome: fec_percent > 90");
    if (!shard_ok(w->shard_bytes)) FAIL("welcome: shard_bytes not even in 512..9152");
    if (w->max_k < 1 || w->max_k > MAX_K) FAIL("welcome: max_k not in 1..253");
    if (!w->data_port) FAIL("welcome: data_port 0");
    if (w->max_frame_bytes < 1 || w->max_frame_bytes > BF_CTL_MAX_FRAME_BYTES)
      FAIL("welcome: max_frame_bytes not in 1..64 MiB");
    return 0;
  }
  case BF_CTL_PAIR_REQUEST: {
    const char *c = m->u.pair_request.code;
    if (!code_ok(c, strnlen(c, sizeof m->u.pair_request.code)))
      FAIL("pair_request: code not 0..16 of [0-9A-Za-z]");
    return 0;
  }
  case BF_CTL_BYE: {
    const size_t n = strnlen(m->u.bye.text, sizeof m->u.bye.text);
    if (n > BF_CTL_MAX_TEXT) FAIL("bye: text longer than 512 bytes");
    if (!text_ok((const uint8_t *)m->u.bye.text, n)) FAIL("bye: text not printable UTF-8");
    return 0;
  }
  case BF_CTL_RELAY_OFFER: {
    if (!ctl_addr_ok(&m->u.relay_offer.relayed) || !m->u.relay_offer.relayed.family)
      FAIL("relay_offer: relayed address not IPv4 or IPv6 with a port");
    if (!ctl_addr_ok(&m->u.relay_offer.mapped)) FAIL("relay_offer: mapped address malformed");
    const size_t n = strnlen(m->u.relay_offer.server, sizeof m->u.relay_offer.server);
    if (n > BF_CTL_MAX_SERVER) FAIL("relay_offer: server longer than 255 bytes");
    if (!text_ok((const uint8_t *)m->u.relay_offer.server, n))
      FAIL("relay_offer: server not printable UTF-8");
    return 0;
  }
  case BF_CTL_RELAY_READY:
    if (!ctl_addr_ok(&m->u.relay_ready.mapped)) FAIL("relay_ready: mapped address malformed");
    return 0;
  case BF_CTL_RELAY_FAILED: {
    const size_t n = strnlen(m->u.relay_failed.text, sizeof m->u.relay_failed.text);
    if (n > BF_CTL_MAX_TEXT) FAIL("relay_failed: text longer than 512 bytes");
    if (!text_ok((const uint8_t *)m->u.relay_failed.text, n))
      FAIL("relay_failed: text not printable UTF-8");
    return 0;
  }
  case BF_CTL_WAKE_INFO:
    if (m->u.wake_info.count > BF_CTL_MAX_MACS) FAIL("wake_info: more than 8 MACs");
    return 0;
  case BF_CTL_DATA_ADDR:
    if (!ctl_addr_ok(&m->u.data_addr.addr) || !m->u.data_addr.addr.family)
      FAIL("data_addr: address not IPv4 or IPv6 with a port");
    return 0;
  case BF_CTL_CLOCK_PING:
  case BF_CTL_CLOCK_PONG:
  case BF_CTL_KEYFRAME_REQUEST:
  case BF_CTL_LOSS_REPORT:
  case BF_CTL_KEEPALIVE:
  case BF_CTL_PAIR_RESULT:
  case BF_CTL_PAIR_COMMIT: /* any 32 bytes */
  case BF_CTL_PAIR_NONCE:
  case BF_CTL_PAIR_REVEAL:
    return 0;
  }
  FAIL("unknown message type");
}

#undef FAIL

/* ---- encoder ------------------------------------------------------------- */

typedef struct writer {
  uint8_t *p;
} writer;

static void w8(writer *w, uint8_t v) {
  *w->p++ = v;
}
static void w16(writer *w, uint16_t v) {
  bf__put_le16(w->p, v);
  w->p += 2;
}
static void w32(writer *w, uint32_t v) {
  bf__put_le32(w->p, v);
  w->p += 4;
}
static void w64(writer *w, uint64_t v) {
  bf__put_le64(w->p, v);
  w->p += 8;
}
static void wstr(writer *w, const char *s, size_t max) {
  const size_t n = strnlen(s, max + 1);
  w16(w, (uint16_t)n);
  memcpy(w->p, s, n);
  w->p += n;
}

static void waddr(writer *w, const bf_ctl_addr *a) {
  w8(w, a->family);
  w16(w, a->port);
  memcpy(w->p, a->ip, 16);
  w->p += 16;
}

/* Body length of a valid |m|. */
static size_t body_size(const bf_ctl_msg *m) {
  switch (m->type) {
  case BF_CTL_HELLO:
    return HELLO_FIXED + 2 + strnlen(m->u.hello.name, BF_CTL_MAX_NAME + 1);
  case BF_CTL_WELCOME:
    return WELCOME_BYTES;
  case BF_CTL_CLOCK_PING:
    return PING_BYTES;
  case BF_CTL_CLOCK_PONG:
    return PONG_BYTES;
  case BF_CTL_KEYFRAME_REQUEST:
    return KEYFRAME_BYTES;
  case BF_CTL_LOSS_REPORT:
    return LOSS_BYTES;
  case BF_CTL_KEEPALIVE:
    return 0;
  case BF_CTL_PAIR_REQUEST:
    return 2 + strnlen(m->u.pair_request.code, BF_CTL_MAX_CODE + 1);
  case BF_CTL_PAIR_RESULT:
    return PAIR_RESULT_BYTES;
  case BF_CTL_BYE:
    return BYE_FIXED + 2 + strnlen(m->u.bye.text, BF_CTL_MAX_TEXT + 1);
  case BF_CTL_PAIR_COMMIT:
    return PAIR_COMMIT_BYTES;
  case BF_CTL_PAIR_NONCE:
  case BF_CTL_PAIR_REVEAL:
    return PAIR_NONCE_BYTES;
  case BF_CTL_RELAY_OFFER:
    return 2 * BF_CTL_ADDR_BYTES + 2 + strnlen(m->u.relay_offer.server, BF_CTL_MAX_SERVER + 1);
  case BF_CTL_RELAY_READY:
  case BF_CTL_DATA_ADDR:
    return BF_CTL_ADDR_BYTES;
  case BF_CTL_RELAY_FAILED:
    return 2 + strnlen(m->u.relay_failed.text, BF_CTL_MAX_TEXT + 1);
  case BF_CTL_WAKE_INFO:
    return 1u + (size_t)m->u.wake_info.count * BF_CTL_MAC_BYTES;
  }
  return 0;
}

int bf_ctl_encode(const bf_ctl_msg *m, uint8_t *out, size_t cap) {
  if (!m || !out) return -EINVAL;
  int rc = bf_ctl_validate(m, NULL);
  if (rc) return rc;
  const size_t body = body_size(m);
  if (cap < BF_CTL_HEADER_BYTES + body) return -ENOSPC;
  writer w = {out};
  w32(&w, (uint32_t)body);
  w8(&w, BF_CTL_FRAME_VERSION);
  w8(&w, (uint8_t)m->type);
  switch (m->type) {
  case BF_CTL_HELLO: {
    const bf_ctl_hello *h = &m->u.hello;
    w16(&w, h->proto_version);
    w16(&w, h->mtu);
    w32(&w, h->codecs);
    w32(&w, h->hw_codecs);
    w16(&w, h->max_width);
    w16(&w, h->max_height);
    w16(&w, h->max_fps);
    w16(&w, h->shard_bytes);
    w32(&w, h->caps);
    wstr(&w, h->name, BF_CTL_MAX_NAME);
    break;
  }
  case BF_CTL_WELCOME: {
    const bf_ctl_welcome *x = &m->u.welcome;
    w16(&w, x->proto_version);
    w16(&w, x->width);
    w16(&w, x->height);
    w16(&w, x->fps);
    w8(&w, x->codec);
    w8(&w, x->fec_percent);
    w16(&w, x->shard_bytes);
    w16(&w, x->max_k);
    w16(&w, x->data_port);
    w32(&w, x->max_frame_bytes);
    w32(&w, x->bitrate_kbps);
    w32(&w, x->flags);
    break;
  }
  case BF_CTL_CLOCK_PING:
    w32(&w, m->u.ping.id);
    w64(&w, m->u.ping.t1_ns);
    break;
  case BF_CTL_CLOCK_PONG:
    w32(&w, m->u.pong.id);
    w64(&w, m->u.pong.t1_ns);
    w64(&w, m->u.pong.t2_ns);
    w64(&w, m->u.pong.t3_ns);
    break;
  case BF_CTL_KEYFRAME_REQUEST:
    w32(&w, m->u.keyframe.request_id);
    w32(&w, m->u.keyframe.first_lost);
    w32(&w, m->u.keyframe.last_lost);
    break;
  case BF_CTL_LOSS_REPORT:
    w32(&w, m->u.loss.window_ms);
    w32(&w, m->u.loss.packets_received);
    w32(&w, m->u.loss.shards_missing);
    w32(&w, m->u.loss.loss_ppm);
    w32(&w, m->u.loss.frames_completed);
    w32(&w, m->u.loss.frames_lost);
    w32(&w, m->u.loss.shards_recovered);
    w32(&w, m->u.loss.late_shards);
    break;
  case BF_CTL_KEEPALIVE:
    break;
  case BF_CTL_PAIR_REQUEST:
    wstr(&w, m->u.pair_request.code, BF_CTL_MAX_CODE);
    break;
  case BF_CTL_PAIR_RESULT:
    w32(&w, m->u.pair_result.status);
    w32(&w, m->u.pair_result.retry_after_ms);
    break;
  case BF_CTL_BYE:
    w32(&w, m->u.bye.reason);
    wstr(&w, m->u.bye.text, BF_CTL_MAX_TEXT);
    break;
  case BF_CTL_PAIR_COMMIT:
    memcpy(w.p, m->u.pair_commit.hash, PAIR_COMMIT_BYTES);
    w.p += PAIR_COMMIT_BYTES;
    break;
  case BF_CTL_PAIR_NONCE:
  case BF_CTL_PAIR_REVEAL:
    memcpy(w.p, m->u.pair_nonce.nonce, PAIR_NONCE_BYTES);
    w.p += PAIR_NONCE_BYTES;
    break;
  case BF_CTL_RELAY_OFFER:
    waddr(&w, &m->u.relay_offer.relayed);
    waddr(&w, &m->u.relay_offer.mapped);
    wstr(&w, m->u.relay_offer.server, BF_CTL_MAX_SERVER);
    break;
  case BF_CTL_RELAY_READY:
    waddr(&w, &m->u.relay_ready.mapped);
    break;
  case BF_CTL_DATA_ADDR:
    waddr(&w, &m->u.data_addr.addr);
    break;
  case BF_CTL_RELAY_FAILED:
    wstr(&w, m->u.relay_failed.text, BF_CTL_MAX_TEXT);
    break;
  case BF_CTL_WAKE_INFO:
    w8(&w, m->u.wake_info.count);
    memcpy(w.p, m->u.wake_info.mac, (size_t)m->u.wake_info.count * BF_CTL_MAC_BYTES);
    w.p += (size_t)m->u.wake_info.count * BF_CTL_MAC_BYTES;
    break;
  }
  return (int)(w.p - out);
}

/* ---- decoder ------------------------------------------------------------- */

typedef struct reader {
  const uint8_t *p;
  size_t n;
} reader;

static uint8_t r8(reader *r) {
  r->n -= 1;
  return *r->p++;
}
static uint16_t r16(reader *r) {
  uint16_t v = bf__get_le16(r->p);
  r->p += 2;
  r->n -= 2;
  return v;
}
static uint32_t r32(reader *r) {
  uint32_t v = bf__get_le32(r->p);
  r->p += 4;
  r->n -= 4;
  return v;
}
static uint64_t r64(reader *r) {
  uint64_t v = bf__get_le64(r->p);
  r->p += 8;
  r->n -= 8;
  return v;
}

/* Reads a u16-length string of at most |max| bytes into |dst| (max + 1).
 * -1: runs past the body, -2: too long, -3: contains a NUL byte. */
static int rstr(reader *r, char *dst, size_t max) {
  if (r->n < 2) return -1;
  const size_t n = r16(r);
  if (n > max) return -2;
  if (r->n < n) return -1;
  if (memchr(r->p, 0, n)) return -3;
  memcpy(dst, r->p, n);
  dst[n] = 0;
  r->p += n;
  r->n -= n;
  return 0;
}

static void raddr(reader *r, bf_ctl_addr *a) {
  a->family = r8(r);
  a->port = r16(r);
  memcpy(a->ip, r->p, 16);
  r->p += 16;
  r->n -= 16;
}

#define BAD(text)                                                                                  \
  do {                                                                                             \
    if (why) *why = (text);                                                                        \
    return -EBADMSG;                                                                               \
  } while (0)

/* WakeInfo's body: count u8 (0..8), count x 6 bytes. 0 or -EBADMSG (|*why|). */
static int decode_wake(reader *r, bf_ctl_msg *m, const char **why) {
  if (r->n < 1) BAD("wake_info: short");
  m->u.wake_info.count = r8(r);
  if (m->u.wake_info.count > BF_CTL_MAX_MACS) BAD("wake_info: more than 8 MACs");
  if (r->n < (size_t)m->u.wake_info.count * BF_CTL_MAC_BYTES)
    BAD("wake_info: MACs run past the body");
  memcpy(m->u.wake_info.mac, r->p, (size_t)m->u.wake_info.count * BF_CTL_MAC_BYTES);
  return 0;
}

/* The bodies of the relay messages (14-16), WakeInfo (17) and DataAddr
 * (18). 0 or -EBADMSG with |*why|. */
static int decode_relay(reader *r, bf_ctl_msg *m, const char **why) {
  int s = 0;
  switch (m->type) {
  case BF_CTL_WAKE_INFO: /* all of its rules are decode_wake's */
    return decode_wake(r, m, why);
  case BF_CTL_DATA_ADDR:
    if (r->n < BF_CTL_ADDR_BYTES) BAD("data_addr: short");
    raddr(r, &m->u.data_addr.addr);
    return 0;
  case BF_CTL_RELAY_OFFER:
    if (r->n < 2 * BF_CTL_ADDR_BYTES) BAD("relay_offer: short");
    raddr(r, &m->u.relay_offer.relayed);
    raddr(r, &m->u.relay_offer.mapped);
    s = rstr(r, m->u.relay_offer.server, BF_CTL_MAX_SERVER);
    if (s == -1) BAD("relay_offer: server runs past the body");
    if (s == -2) BAD("relay_offer: server longer than 255 bytes");
    if (s == -3) BAD("relay_offer: server not printable UTF-8");
    return 0;
  case BF_CTL_RELAY_READY:
    if (r->n < BF_CTL_ADDR_BYTES) BAD("relay_ready: short");
    raddr(r, &m->u.relay_ready.mapped);
    return 0;
  default: /* RelayFailed */
    s = rstr(r, m->u.relay_failed.text, BF_CTL_MAX_TEXT);
    if (s == -1) BAD("relay_failed: text runs past the body");
    if (s == -2) BAD("relay_failed: text longer than 512 bytes");
    if (s == -3) BAD("relay_failed: text not printable UTF-8");
    return 0;
  }
}

int bf_ctl_decode(unsigned type, const uint8_t *body, size_t len, bf_ctl_msg *m, const char **why) {
  if (why) *why = "";
  if (!known(type)) return -ENOENT;
  if (!body && len) return -EINVAL;
  memset(m, 0, sizeof *m);
  m->type = (bf_ctl_type)type;
  reader r = {body, len};
  switch (m->type) {
  case BF_CTL_HELLO: {
    if (r.n < HELLO_FIXED) BAD("hello: short");
    bf_ctl_hello *h = &m->u.hello;
    h->proto_version = r16(&r);
    h->mtu = r16(&r);
    h->codecs = r32(&r);
    h->hw_codecs = r32(&r);
    h->max_width = r16(&r);
    h->max_height = r16(&r);
    h->max_fps = r16(&r);
    h->shard_bytes = r16(&r);
    h->caps = r32(&r);
    const int s = rstr(&r, h->name, BF_CTL_MAX_NAME);
    if (s == -1) BAD("hello: name runs past the body");
    if (s == -2) BAD("hello: name longer than 64 bytes");
    if (s == -3) BAD("hello: name not printable UTF-8");
    break;
  }
  case BF_CTL_WELCOME: {
    if (r.n < WELCOME_BYTES) BAD("welcome: short");
    bf_ctl_welcome *w = &m->u.welcome;
    w->proto_version = r16(&r);
    w->width = r16(&r);
    w->height = r16(&r);
    w->fps = r16(&r);
    w->codec = r8(&r);
    w->fec_percent = r8(&r);
    w->shard_bytes = r16(&r);
    w->max_k = r16(&r);
    w->data_port = r16(&r);
    w->max_frame_bytes = r32(&r);
    w->bitrate_kbps = r32(&r);
    w->flags = r32(&r);
    break;
  }
  case BF_CTL_CLOCK_PING:
    if (r.n < PING_BYTES) BAD("clock_ping: short");
    m->u.ping.id = r32(&r);
    m->u.ping.t1_ns = r64(&r);
    break;
  case BF_CTL_CLOCK_PONG:
    if (r.n < PONG_BYTES) BAD("clock_pong: short");
    m->u.pong.id = r32(&r);
    m->u.pong.t1_ns = r64(&r);
    m->u.pong.t2_ns = r64(&r);
    m->u.pong.t3_ns = r64(&r);
    break;
  case BF_CTL_KEYFRAME_REQUEST:
    if (r.n < KEYFRAME_BYTES) BAD("keyframe_request: short");
    m->u.keyframe.request_id = r32(&r);
    m->u.keyframe.first_lost = r32(&r);
    m->u.keyframe.last_lost = r32(&r);
    break;
  case BF_CTL_LOSS_REPORT:
    if (r.n < LOSS_BYTES) BAD("loss_report: short");
    m->u.loss.window_ms = r32(&r);
    m->u.loss.packets_received = r32(&r);
    m->u.loss.shards_missing = r32(&r);
    m->u.loss.loss_ppm = r32(&r);
    m->u.loss.frames_completed = r32(&r);
    m->u.loss.frames_lost = r32(&r);
    m->u.loss.shards_recovered = r32(&r);
    m->u.loss.late_shards = r32(&r);
    break;
  case BF_CTL_KEEPALIVE:
    break;
  case BF_CTL_PAIR_REQUEST: {
    const int s = rstr(&r, m->u.pair_request.code, BF_CTL_MAX_CODE);
    if (s == -1) BAD("pair_request: code runs past the body");
    if (s == -2) BAD("pair_request: code longer than 16 bytes");
    if (s == -3) BAD("pair_request: code not 0..16 of [0-9A-Za-z]");
    break;
  }
  case BF_CTL_PAIR_RESULT:
    if (r.n < PAIR_RESULT_BYTES) BAD("pair_result: short");
    m->u.pair_result.status = r32(&r);
    m->u.pair_result.retry_after_ms = r32(&r);
    break;
  case BF_CTL_BYE: {
    if (r.n < BYE_FIXED) BAD("bye: short");
    m->u.bye.reason = r32(&r);
    const int s = rstr(&r, m->u.bye.text, BF_CTL_MAX_TEXT);
    if (s == -1) BAD("bye: text runs past the body");
    if (s == -2) BAD("bye: text longer than 512 bytes");
    if (s == -3) BAD("bye: text not printable UTF-8");
    break;
  }
  case BF_CTL_PAIR_COMMIT:
    if (r.n < PAIR_COMMIT_BYTES) BAD("pair_commit: short");
    memcpy(m->u.pair_commit.hash, r.p, PAIR_COMMIT_BYTES);
    break;
  case BF_CTL_PAIR_NONCE:
    if (r.n < PAIR_NONCE_BYTES) BAD("pair_nonce: short");
    memcpy(m->u.pair_nonce.nonce, r.p, PAIR_NONCE_BYTES);
    break;
  case BF_CTL_PAIR_REVEAL:
    if (r.n < PAIR_NONCE_BYTES) BAD("pair_reveal: short");
    memcpy(m->u.pair_nonce.nonce, r.p, PAIR_NONCE_BYTES);
    break;
  case BF_CTL_RELAY_OFFER:
  case BF_CTL_RELAY_READY:
  case BF_CTL_RELAY_FAILED:
  case BF_CTL_WAKE_INFO:
  case BF_CTL_DATA_ADDR:
    if (decode_relay(&r, m, why) < 0) return -EBADMSG;
    break;
  }
  /* Field ranges and string contents: the same rules as the encoder. */
  const char *v = NULL;
  if (bf_ctl_validate(m, &v)) BAD(v);
  return 0;
}

#undef BAD

/* ---- framer -------------------------------------------------------------- */

void bf_ctl_framer_init(bf_ctl_framer *f) {
  f->hdr_have = 0;
  f->body_len = f->body_have = 0;
  f->type = 0;
  f->skipping = 0;
  f->err = 0;
  f->why = "";
  f->messages = f->skipped = 0;
}

int bf_ctl_framer_idle(const bf_ctl_framer *f) {
  return !f->err && f->hdr_have == 0;
}

const char *bf_ctl_framer_why(const bf_ctl_framer *f) {
  return f->err ? f->why : "";
}

static int framer_fail(bf_ctl_framer *f, int err, const char *why) {
  f->err = err;
  f->why = why;
  return err;
}

int bf_ctl_framer_feed(bf_ctl_framer *f, const uint8_t *data, size_t len, size_t *used,
                       bf_ctl_msg *m) {
  size_t off = 0;
  *used = 0;
  if (f->err) return f->err;
  if (!data && len) return -EINVAL;
  while (off < len) {
    if (f->hdr_have < BF_CTL_HEADER_BYTES) {
      size_t take = BF_CTL_HEADER_BYTES - f->hdr_have;
      if (take > len - off) take = len - off;
      memcpy(f->hdr + f->hdr_have, data + off, take);
      f->hdr_have += (uint32_t)take;
      off += take;
      if (f->hdr_have < BF_CTL_HEADER_BYTES) break;
      f->body_len = bf__get_le32(f->hdr);
      f->body_have = 0;
      f->type = f->hdr[5];
      *used = off;
      if (f->hdr[4] != BF_CTL_FRAME_VERSION)
        return framer_fail(f, -EPROTONOSUPPORT, "frame: version is not 1");
      if (f->body_len > BF_CTL_MAX_BODY)
        return framer_fail(f, -EMSGSIZE, "frame: body_len > 65530");
      if (f->type == 0) return framer_fail(f, -EBADMSG, "frame: type 0");
      f->skipping = !known(f->type);
    }
    size_t take = f->body_len - f->body_have;
    if (take > len - off) take = len - off;
    if (!f->skipping) memcpy(f->body + f->body_have, data + off, take);
    f->body_have += (uint32_t)take;
    off += take;
    if (f->body_have < f->body_len) break;
    /* one whole message */
    f->hdr_have = 0;
    *used = off;
    if (f->skipping) {
      f->skipped++;
      f->skipping = 0;
      continue;
    }
    const char *why = NULL;
    const int rc = bf_ctl_decode(f->type, f->body, f->body_len, m, &why);
    if (rc) return framer_fail(f, rc, why);
    f->messages++;
    return 1;
  }
  *used = off;
  return 0;
}
