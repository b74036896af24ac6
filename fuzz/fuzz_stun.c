/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * libFuzzer: the STUN parser and the TURN client state machine on answers
 * from a hostile server. Byte 0 picks the mode:
 * - even: the rest is one datagram: parsed, every attribute decoded, both
 *   integrity checks run, and a parsed message rebuilt attribute by
 *   attribute must parse again with the same attributes.
 * - odd: a TURN client (bit 1: TURN REST secret, bit 2: FINGERPRINT) takes
 *   records [op u8][len u8][bytes]: raw datagrams, answers to the requests
 *   it really sent (their transaction ids spliced in, attributes built from
 *   the bytes, MESSAGE-INTEGRITY under the key the client must be using
 *   when the op says so, so the fuzzer reaches past the integrity check),
 *   challenges, ChannelData, Data indications, API calls and time steps.
 * Invariants: peer data points inside the datagram, no request is larger
 * than BF_TURN_REQ_MAX, the relayed address exists exactly while
 * allocated, reasons are terminated.
 */
#include <bildfunk/stun.h>
#include <bildfunk/turn.h>

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok) {
  if (!ok) abort();
}

static void codec(const uint8_t *d, size_t len) {
  bf_stun_msg m;
  (void)bf_turn_demux(d, len);
  if (bf_stun_parse(d, len, &m) < 0) return;
  uint8_t key[16] = {1, 2, 3};
  (void)bf_stun_check_integrity(&m, BF_STUN_ALG_MD5, key, sizeof key);
  (void)bf_stun_check_integrity(&m, BF_STUN_ALG_SHA256, key, sizeof key);
  static uint8_t out[70000];
  bf_stun_builder b;
  bf_stun_build(&b, out, sizeof out, m.method, m.cls, m.txid);
  for (size_t i = 0; i < m.n_attr; i++) {
    const bf_stun_attr *a = &m.attr[i];
    bf_addr addr;
    uint32_t v;
    int code;
    const uint8_t *reason;
    size_t rl;
    (void)bf_stun_attr_addr(&m, a, &addr);
    (void)bf_stun_attr_u32(&m, a, &v);
    (void)bf_stun_attr_error(&m, a, &code, &reason, &rl);
    check(a->off + a->len <= len);
    if (a->type != BF_STUN_A_MESSAGE_INTEGRITY && a->type != BF_STUN_A_FINGERPRINT &&
        a->type != BF_STUN_A_MESSAGE_INTEGRITY_SHA256)
      bf_stun_put(&b, a->type, bf_stun_value(&m, a), a->len);
  }
  int n = bf_stun_finish(&b);
  check(n > 0);
  bf_stun_msg again;
  check(bf_stun_parse(out, (size_t)n, &again) == 0);
  check(again.method == m.method && again.cls == m.cls);
}

/* ---- the TURN client ---------------------------------------------------- */

typedef struct sent {
  uint8_t txid[BF_STUN_TXID_BYTES];
  uint16_t method;
} sent;

typedef struct harness {
  bf_turn *t;
  uint64_t now, rnd;
  sent recent[8];
  size_t n_recent;
  uint8_t key[BF_STUN_KEY_MAX];
  size_t key_len;
  bf_stun_alg alg;
  const char *pass; /* long-term; REST: the derived one below */
  char rest_pass[64];
} harness;

static void rnd(void *user, uint8_t *out, size_t n) {
  uint64_t *s = user;
  for (size_t i = 0; i < n; i++)
    out[i] = (uint8_t)((*s += 0x9e3779b97f4a7c15ull) >> 56);
}

static void drain(harness *h) {
  uint8_t buf[BF_TURN_REQ_MAX];
  const bf_addr *to;
  int n;
  while ((n = bf_turn_write(h->t, h->now, buf, sizeof buf, &to)) > 0) {
    check((size_t)n <= BF_TURN_REQ_MAX);
    bf_stun_msg m;
    check(bf_stun_parse(buf, (size_t)n, &m) == 0);
    sent *s = &h->recent[h->n_recent++ % 8];
    memcpy(s->txid, m.txid, sizeof s->txid);
    s->method = m.method;
  }
  bf_turn_event ev;
  while (bf_turn_poll_event(h->t, &ev))
    check(memchr(ev.reason, 0, sizeof ev.reason) != NULL);
  check((bf_turn_relayed(h->t) != NULL) == (bf_turn_state_get(h->t) == BF_TURN_ALLOCATED));
}

static void feed(harness *h, uint8_t *d, size_t len) {
  bf_turn_data out;
  if (bf_turn_read(h->t, d, len, h->now, &out) == BF_TURN_RX_DATA)
    check(out.d >= d && out.d + out.len <= d + len && out.peer);
}

/* The key the client derives from the challenge this harness sent. */
static void set_key(harness *h, const char *realm, size_t realm_len, bf_stun_alg alg) {
  const char *user = bf_turn_username(h->t);
  int n = bf_stun_long_term_key(alg, (const uint8_t *)user, strlen(user), (const uint8_t *)realm,
                                realm_len, (const uint8_t *)h->pass, strlen(h->pass), h->key);
  h->key_len = n > 0 ? (size_t)n : 0;
  h->alg = alg;
}

static void fuzz_addr(bf_addr *a, const uint8_t *p, size_t n) {
  memset(a, 0, sizeof *a);
  struct sockaddr_in *s = (struct sockaddr_in *)&a->ss;
  s->sin_family = AF_INET;
  if (n >= 6) {
    memcpy(&s->sin_addr, p, 4);
    memcpy(&s->sin_port, p + 4, 2);
  }
  a->len = sizeof *s;
}

/* Attributes from |p|: [kind u8][len u8][value]..., kinds from a table. */
static void put_attrs(bf_stun_builder *b, const uint8_t *p, size_t n) {
  static const uint16_t types[] = {BF_STUN_A_LIFETIME,
                                   BF_STUN_A_XOR_RELAYED_ADDRESS,
                                   BF_STUN_A_XOR_MAPPED_ADDRESS,
                                   BF_STUN_A_ERROR_CODE,
                                   BF_STUN_A_REALM,
                                   BF_STUN_A_NONCE,
                                   BF_STUN_A_XOR_PEER_ADDRESS,
                                   BF_STUN_A_DATA,
                                   BF_STUN_A_CHANNEL_NUMBER,
                                   BF_STUN_A_PASSWORD_ALGORITHMS,
                                   BF_STUN_A_MAPPED_ADDRESS,
                                   0x7FFF,
                                   BF_STUN_A_SOFTWARE,
                                   BF_STUN_A_UNKNOWN_ATTRIBUTES,
                                   0xC001,
                                   BF_STUN_A_FINGERPRINT};
  size_t i = 0;
  while (i + 2 <= n) {
    uint16_t type = types[p[i] & 15u];
    size_t len = p[i + 1];
    i += 2;
    if (len > n - i) len = n - i;
    if (type == BF_STUN_A_ERROR_CODE && len >= 2) { /* mostly valid codes */
      static const int codes[] = {401, 438, 437, 403, 486, 508, 420, 300};
      bf_stun_put_error(b, codes[p[i] & 7u], NULL);
    } else if (type == BF_STUN_A_FINGERPRINT) {
      bf_stun_put_fingerprint(b);
    } else if ((type == BF_STUN_A_XOR_RELAYED_ADDRESS || type == BF_STUN_A_XOR_MAPPED_ADDRESS ||
                type == BF_STUN_A_XOR_PEER_ADDRESS) &&
               len >= 6) {
      bf_addr a;
      fuzz_addr(&a, p + i, len);
      bf_stun_put_addr(b, type, &a);
    } else {
      bf_stun_put(b, type, p + i, len);
    }
    i += len;
  }
}

/* An answer to one of the requests sent: op bit 3 error/success, bit 4
 * integrity under the harness's key, bits 5-7 which request. */
static void answer(harness *h, uint8_t op, const uint8_t *p, size_t n) {
  if (!h->n_recent) return;
  const sent *s = &h->recent[(h->n_recent - 1 - ((op >> 5) % h->n_recent)) % 8];
  static uint8_t buf[4096];
  bf_stun_builder b;
  bf_stun_build(&b, buf, sizeof buf, s->method, (op & 8) ? BF_STUN_ERROR : BF_STUN_SUCCESS,
                s->txid);
  put_attrs(&b, p, n);
  if ((op & 16) && h->key_len) bf_stun_put_integrity(&b, h->alg, h->key, h->key_len);
  int len = bf_stun_finish(&b);
  if (len > 0) feed(h, buf, (size_t)len);
}

/* A well-formed 401/438 challenge with realm "r" + the bytes' first one. */
static void challenge(harness *h, uint8_t op, const uint8_t *p, size_t n) {
  if (!h->n_recent) return;
  const sent *s = &h->recent[(h->n_recent - 1) % 8];
  char realm[2] = {'r', n ? (char)('a' + (p[0] & 7)) : 'r'};
  uint8_t buf[512];
  bf_stun_builder b;
  bf_stun_build(&b, buf, sizeof buf, s->method, BF_STUN_ERROR, s->txid);
  bf_stun_put_error(&b, (op & 8) ? 438 : 401, "x");
  bf_stun_put(&b, BF_STUN_A_REALM, realm, 2);
  bf_stun_put(&b, BF_STUN_A_NONCE, n > 1 ? p + 1 : (const uint8_t *)"n", n > 1 ? n - 1 : 1);
  int sha = (op & 16) != 0;
  if (sha) bf_stun_put(&b, BF_STUN_A_PASSWORD_ALGORITHMS, "\x00\x01\x00\x00\x00\x02\x00\x00", 8);
  int len = bf_stun_finish(&b);
  if (len < 0) return;
  feed(h, buf, (size_t)len);
  set_key(h, realm, 2, sha ? BF_STUN_ALG_SHA256 : BF_STUN_ALG_MD5);
}

static void call(harness *h, const uint8_t *p, size_t n) {
  bf_addr peer;
  fuzz_addr(&peer, n ? p + 1 : p, n ? n - 1 : 0);
  switch (n ? p[0] % 6 : 0) {
  case 0:
    (void)bf_turn_allocate(h->t, h->now);
    break;
  case 1:
    (void)bf_turn_permit(h->t, &peer, h->now);
    break;
  case 2:
    (void)bf_turn_bind_channel(h->t, &peer, h->now);
    break;
  case 3:
    (void)bf_turn_release(h->t, h->now);
    break;
  case 4:
    (void)bf_turn_binding(h->t, h->now);
    break;
  default: {
    uint8_t out[600];
    (void)bf_turn_send_indication(h->t, &peer, p, n, out, sizeof out);
    (void)bf_turn_channel(h->t, &peer);
  }
  }
}

static void client(const uint8_t *d, size_t size, uint8_t mode) {
  static harness h;
  memset(&h, 0, sizeof h);
  bf_turn_config cfg = {0};
  struct sockaddr_in *s = (struct sockaddr_in *)&cfg.server.ss;
  s->sin_family = AF_INET;
  s->sin_port = 0x960d;
  cfg.server.len = sizeof *s;
  cfg.user = "u";
  cfg.pass = h.pass = "p";
  if (mode & 2) {
    cfg.secret = "s";
    cfg.unix_time_s = 1000;
  }
  cfg.fingerprint = (mode & 4) != 0;
  cfg.rto_ns = 1000000;
  cfg.rand = rnd;
  cfg.rand_user = &h.rnd;
  if (bf_turn_new(&cfg, &h.t) < 0) return;
  if (mode & 2) { /* the REST password, as the server would derive it */
    const char *user = bf_turn_username(h.t);
    uint8_t mac[EVP_MAX_MD_SIZE];
    size_t ml = 0;
    if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA1", NULL, "s", 1, (const uint8_t *)user, strlen(user),
                  mac, sizeof mac, &ml))
      EVP_EncodeBlock((uint8_t *)h.rest_pass, mac, (int)ml);
    h.pass = h.rest_pass;
  }
  (void)bf_turn_allocate(h.t, 0);
  drain(&h);
  static uint8_t buf[300];
  for (size_t i = 0; i + 2 <= size;) {
    uint8_t op = d[i];
    size_t n = d[i + 1];
    i += 2;
    if (n > size - i) n = size - i;
    memcpy(buf, d + i, n);
    switch (op & 7) {
    case 0:
      feed(&h, buf, n);
      break;
    case 1:
    case 2:
      answer(&h, op, buf, n);
      break;
    case 3:
      challenge(&h, op, buf, n);
      break;
    case 4: /* time: up to 65 s a step, often to the next deadline */
      h.now = (op & 8) && bf_turn_next_due(h.t) != UINT64_MAX
                  ? bf_turn_next_due(h.t)
                  : h.now + (n ? (uint64_t)buf[0] * 256000000ull : 1000000ull);
      break;
    case 5:
      if (n >= 4) { /* ChannelData on a plausible channel */
        buf[0] = (uint8_t)(0x40 | (buf[0] & 1));
        buf[1] &= 7;
      }
      feed(&h, buf, n);
      break;
    default:
      call(&h, buf, n);
      break;
    }
    i += n;
    drain(&h);
  }
  bf_turn_del(&h.t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  if (data[0] & 1)
    client(data + 1, size - 1, data[0]);
  else
    codec(data + 1, size - 1);
  return 0;
}
