/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * STUN message codec: see bildfunk/stun.h. Parsing indexes attributes in
 * place; building writes straight into the caller's buffer. HMACs and
 * digests go through libcrypto; the CRC-32 of FINGERPRINT is computed here
 * (4 bits per step, a 16-entry table).
 */
#include <bildfunk/stun.h>

#include <errno.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#define FP_XOR 0x5354554eu
#define MI_BYTES 20u
#define MI256_BYTES 32u

static uint16_t get16(const uint8_t *p) {
  return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t get32(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void put16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v) {
  put16(p, (uint16_t)(v >> 16));
  put16(p + 2, (uint16_t)v);
}

/* CRC-32 (ISO-HDLC, as in Ethernet and zlib), reflected, 4 bits a step. */
static uint32_t crc32_stun(const uint8_t *d, size_t n) {
  static const uint32_t nib[16] = {0x00000000u, 0x1DB71064u, 0x3B6E20C8u, 0x26D930ACu,
                                   0x76DC4190u, 0x6B6B51F4u, 0x4DB26158u, 0x5005713Cu,
                                   0xEDB88320u, 0xF00F9344u, 0xD6D6A3E8u, 0xCB61B38Cu,
                                   0x9B64C2B0u, 0x86D3D2D4u, 0xA00AE278u, 0xBDBDF21Cu};
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; i++) {
    c ^= d[i];
    c = (c >> 4) ^ nib[c & 15u];
    c = (c >> 4) ^ nib[c & 15u];
  }
  return ~c;
}

/* HMAC-|digest| over |a| then |b| into |out| (its size returned in
 * |*out_len|). 0 or -EIO. */
static int hmac2(const char *digest, const uint8_t *key, size_t key_len, const uint8_t *a,
                 size_t a_len, const uint8_t *b, size_t b_len, uint8_t *out, size_t *out_len) {
  EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
  EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)digest, 0),
      OSSL_PARAM_construct_end(),
  };
  int ok = ctx && EVP_MAC_init(ctx, key, key_len, params) && EVP_MAC_update(ctx, a, a_len) &&
           EVP_MAC_update(ctx, b, b_len) && EVP_MAC_final(ctx, out, out_len, 64);
  EVP_MAC_CTX_free(ctx);
  EVP_MAC_free(mac);
  return ok ? 0 : -EIO;
}

uint16_t bf_stun_type(uint16_t method, bf_stun_class cls) {
  unsigned m = method, c = (unsigned)cls;
  return (uint16_t)(((m & 0xF80u) << 2) | ((m & 0x070u) << 1) | (m & 0x00Fu) | ((c & 2u) << 7) |
                    ((c & 1u) << 4));
}

int bf_stun_is_msg(const uint8_t *d, size_t len) {
  if (len < BF_STUN_HEADER_BYTES || (d[0] & 0xC0u)) return 0;
  size_t body = get16(d + 2);
  return get32(d + 4) == BF_STUN_MAGIC && (body & 3u) == 0 && body + BF_STUN_HEADER_BYTES == len;
}

/* Comprehension-required attributes this codec (or the RFCs it sits
 * beside: RFC 3489, 5780, 8445) knows; others mark the message. */
static int known_required(uint16_t t) {
  static const uint16_t known[] = {0x0001, 0x0002, 0x0003, 0x0004, 0x0005, 0x0006, 0x0008, 0x0009,
                                   0x000A, 0x000C, 0x000D, 0x0012, 0x0013, 0x0014, 0x0015, 0x0016,
                                   0x0017, 0x0018, 0x0019, 0x001A, 0x001C, 0x001D, 0x001E, 0x0020,
                                   0x0022, 0x0024, 0x0025, 0x0026, 0x0027, 0x002A};
  for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
    if (known[i] == t) return 1;
  return 0;
}

/* Where an attribute may stand (RFC 8489 §14.5, §14.6, §14.7): 1 index it,
 * 0 skip it (after an integrity attribute), -EBADMSG reject. */
static int attr_place(const bf_stun_msg *m, uint16_t type, uint16_t alen) {
  if (m->fingerprint) return -EBADMSG; /* nothing after FINGERPRINT */
  switch (type) {
  case BF_STUN_A_FINGERPRINT:
    return alen == 4 ? 1 : -EBADMSG;
  case BF_STUN_A_MESSAGE_INTEGRITY_SHA256:
    if (m->mi256_off || alen < 16 || alen > MI256_BYTES || (alen & 3u)) return -EBADMSG;
    return 1;
  case BF_STUN_A_MESSAGE_INTEGRITY:
    if (m->mi256_off) return 0;
    return m->mi_off || alen != MI_BYTES ? -EBADMSG : 1;
  default:
    return m->mi_off || m->mi256_off ? 0 : 1;
  }
}

int bf_stun_parse(const uint8_t *d, size_t len, bf_stun_msg *m) {
  if (!d || !m || !bf_stun_is_msg(d, len)) return -EINVAL;
  m->n_attr = 0;
  m->mi_off = m->mi256_off = 0;
  m->fingerprint = m->unknown_required = 0;
  m->d = d;
  m->len = len;
  uint16_t t = get16(d);
  m->method = (uint16_t)((t & 0x000Fu) | ((t >> 1) & 0x0070u) | ((t >> 2) & 0x0F80u));
  m->cls = (bf_stun_class)(((t >> 4) & 1u) | ((t >> 7) & 2u));
  m->txid = d + 8;
  size_t off = BF_STUN_HEADER_BYTES;
  while (off < len) {
    if (len - off < 4) return -EBADMSG;
    uint16_t type = get16(d + off), alen = get16(d + off + 2);
    size_t padded = ((size_t)alen + 3u) & ~(size_t)3u;
    if (padded > len - off - 4) return -EBADMSG;
    int place = attr_place(m, type, alen);
    if (place < 0) return place;
    if (place) {
      if (m->n_attr == BF_STUN_MAX_ATTRS) return -E2BIG;
      m->attr[m->n_attr++] = (bf_stun_attr){type, alen, (uint32_t)(off + 4)};
      if (type == BF_STUN_A_MESSAGE_INTEGRITY) m->mi_off = (uint32_t)off;
      if (type == BF_STUN_A_MESSAGE_INTEGRITY_SHA256) m->mi256_off = (uint32_t)off;
      if (type == BF_STUN_A_FINGERPRINT) {
        if ((crc32_stun(d, off) ^ FP_XOR) != get32(d + off + 4)) return -EBADMSG;
        m->fingerprint = 1;
      }
      if (type < 0x8000u && !known_required(type)) m->unknown_required++;
    }
    off += 4 + padded;
  }
  return 0;
}

const bf_stun_attr *bf_stun_find(const bf_stun_msg *m, uint16_t type) {
  for (size_t i = 0; i < m->n_attr; i++)
    if (m->attr[i].type == type) return &m->attr[i];
  return NULL;
}

static int is_xor(uint16_t type) {
  return type == BF_STUN_A_XOR_MAPPED_ADDRESS || type == BF_STUN_A_XOR_PEER_ADDRESS ||
         type == BF_STUN_A_XOR_RELAYED_ADDRESS;
}

int bf_stun_attr_addr(const bf_stun_msg *m, const bf_stun_attr *a, bf_addr *out) {
  const uint8_t *v = bf_stun_value(m, a);
  if (a->len < 8) return -EBADMSG;
  uint8_t mask[16];
  put32(mask, BF_STUN_MAGIC);
  memcpy(mask + 4, m->txid, BF_STUN_TXID_BYTES);
  int x = is_xor(a->type);
  uint16_t port = (uint16_t)(get16(v + 2) ^ (x ? BF_STUN_MAGIC >> 16 : 0u));
  memset(out, 0, sizeof *out);
  if (v[1] == 0x01) {
    if (a->len != 8) return -EBADMSG;
    struct sockaddr_in *s = (struct sockaddr_in *)&out->ss;
    s->sin_family = AF_INET;
    s->sin_port = htons(port);
    uint8_t ip[4];
    for (int i = 0; i < 4; i++)
      ip[i] = (uint8_t)(v[4 + i] ^ (x ? mask[i] : 0u));
    memcpy(&s->sin_addr, ip, 4);
    out->len = sizeof *s;
  } else if (v[1] == 0x02) {
    if (a->len != 20) return -EBADMSG;
    struct sockaddr_in6 *s = (struct sockaddr_in6 *)&out->ss;
    s->sin6_family = AF_INET6;
    s->sin6_port = htons(port);
    uint8_t ip[16];
    for (int i = 0; i < 16; i++)
      ip[i] = (uint8_t)(v[4 + i] ^ (x ? mask[i] : 0u));
    memcpy(&s->sin6_addr, ip, 16);
    out->len = sizeof *s;
  } else {
    return -EAFNOSUPPORT;
  }
  return 0;
}

int bf_stun_attr_u32(const bf_stun_msg *m, const bf_stun_attr *a, uint32_t *out) {
  if (a->len != 4) return -EBADMSG;
  const uint8_t *v = bf_stun_value(m, a);
  /* CHANNEL-NUMBER: the number in the first two bytes, then RFFU */
  *out = a->type == BF_STUN_A_CHANNEL_NUMBER ? get16(v) : get32(v);
  return 0;
}

int bf_stun_attr_error(const bf_stun_msg *m, const bf_stun_attr *a, int *code,
                       const uint8_t **reason, size_t *reason_len) {
  if (a->len < 4) return -EBADMSG;
  const uint8_t *v = bf_stun_value(m, a);
  int cls = v[2] & 7, num = v[3];
  if (cls < 3 || cls > 6 || num > 99) return -EBADMSG;
  *code = cls * 100 + num;
  *reason = v + 4;
  *reason_len = a->len - 4u;
  return 0;
}

int bf_stun_get_addr(const bf_stun_msg *m, uint16_t type, bf_addr *out) {
  const bf_stun_attr *a = bf_stun_find(m, type);
  return a ? bf_stun_attr_addr(m, a, out) : -ENOENT;
}

int bf_stun_get_u32(const bf_stun_msg *m, uint16_t type, uint32_t *out) {
  const bf_stun_attr *a = bf_stun_find(m, type);
  return a ? bf_stun_attr_u32(m, a, out) : -ENOENT;
}

/* HMAC of the message up to the attribute header at |off|, the header's
 * length field set as if the message ended after that attribute (whose
 * value is |vlen| bytes): RFC 8489 §14.5 and §14.6. */
static int integrity_at(const uint8_t *d, size_t off, size_t vlen, bf_stun_alg alg,
                        const uint8_t *key, size_t key_len, uint8_t out[64]) {
  uint8_t head[BF_STUN_HEADER_BYTES];
  memcpy(head, d, sizeof head);
  put16(head + 2, (uint16_t)(off - BF_STUN_HEADER_BYTES + 4 + vlen));
  size_t n = 0;
  return hmac2(alg == BF_STUN_ALG_SHA256 ? "SHA256" : "SHA1", key, key_len, head, sizeof head,
               d + BF_STUN_HEADER_BYTES, off - BF_STUN_HEADER_BYTES, out, &n);
}

int bf_stun_check_integrity(const bf_stun_msg *m, bf_stun_alg alg, const uint8_t *key,
                            size_t key_len) {
  uint32_t off = alg == BF_STUN_ALG_SHA256 ? m->mi256_off : m->mi_off;
  if (!off) return -ENOENT;
  size_t vlen = get16(m->d + off + 2);
  uint8_t mac[64];
  int r = integrity_at(m->d, off, vlen, alg, key, key_len, mac);
  if (r < 0) return r;
  return CRYPTO_memcmp(mac, m->d + off + 4, vlen) == 0 ? 0 : -EBADMSG;
}

int bf_stun_long_term_key(bf_stun_alg alg, const uint8_t *user, size_t user_len,
                          const uint8_t *realm, size_t realm_len, const uint8_t *pass,
                          size_t pass_len, uint8_t out[BF_STUN_KEY_MAX]) {
  if (alg != BF_STUN_ALG_MD5 && alg != BF_STUN_ALG_SHA256) return -EINVAL;
  EVP_MD *md = EVP_MD_fetch(NULL, alg == BF_STUN_ALG_MD5 ? "MD5" : "SHA256", NULL);
  EVP_MD_CTX *ctx = md ? EVP_MD_CTX_new() : NULL;
  unsigned n = 0;
  int ok = ctx && EVP_DigestInit_ex(ctx, md, NULL) && EVP_DigestUpdate(ctx, user, user_len) &&
           EVP_DigestUpdate(ctx, ":", 1) && EVP_DigestUpdate(ctx, realm, realm_len) &&
           EVP_DigestUpdate(ctx, ":", 1) && EVP_DigestUpdate(ctx, pass, pass_len) &&
           EVP_DigestFinal_ex(ctx, out, &n);
  EVP_MD_CTX_free(ctx);
  EVP_MD_free(md);
  return ok ? (int)n : -EIO;
}

/* ---- building ------------------------------------------------------------ */

void bf_stun_build(bf_stun_builder *b, uint8_t *buf, size_t cap, uint16_t method, bf_stun_class cls,
                   const uint8_t *txid) {
  *b = (bf_stun_builder){buf, cap, 0, 0};
  if (!buf || cap < BF_STUN_HEADER_BYTES || method > 0xFFFu) {
    b->err = buf && method <= 0xFFFu ? -ENOBUFS : -EINVAL;
    return;
  }
  put16(buf, bf_stun_type(method, cls));
  put16(buf + 2, 0);
  put32(buf + 4, BF_STUN_MAGIC);
  memcpy(buf + 8, txid, BF_STUN_TXID_BYTES);
  b->len = BF_STUN_HEADER_BYTES;
}

/* Room for an attribute of |len| value bytes: its header's offset, or 0
 * (error set). Writes the header and the padding, sets the new length. */
static size_t reserve(bf_stun_builder *b, uint16_t type, size_t len) {
  if (b->err) return 0;
  size_t padded = (len + 3u) & ~(size_t)3u;
  if (len > 0xFFFFu || b->cap - b->len < 4 + padded ||
      b->len - BF_STUN_HEADER_BYTES + 4 + padded > 0xFFFFu) {
    b->err = -ENOBUFS;
    return 0;
  }
  size_t off = b->len;
  put16(b->d + off, type);
  put16(b->d + off + 2, (uint16_t)len);
  memset(b->d + off + 4 + len, 0, padded - len);
  b->len += 4 + padded;
  put16(b->d + 2, (uint16_t)(b->len - BF_STUN_HEADER_BYTES));
  return off;
}

void bf_stun_put(bf_stun_builder *b, uint16_t type, const void *v, size_t len) {
  size_t off = reserve(b, type, len);
  if (off && len) memcpy(b->d + off + 4, v, len);
}

void bf_stun_put_u32(bf_stun_builder *b, uint16_t type, uint32_t v) {
  uint8_t x[4];
  put32(x, v);
  bf_stun_put(b, type, x, 4);
}

void bf_stun_put_addr(bf_stun_builder *b, uint16_t type, const bf_addr *a) {
  if (b->err) return;
  uint8_t v[20] = {0}, ip[16];
  size_t n;
  uint16_t port;
  if (a && a->ss.ss_family == AF_INET) {
    const struct sockaddr_in *s = (const struct sockaddr_in *)&a->ss;
    memcpy(ip, &s->sin_addr, 4);
    port = ntohs(s->sin_port);
    n = 4;
  } else if (a && a->ss.ss_family == AF_INET6) {
    const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)&a->ss;
    memcpy(ip, &s->sin6_addr, 16);
    port = ntohs(s->sin6_port);
    n = IN6_IS_ADDR_V4MAPPED(&s->sin6_addr) ? 4 : 16; /* a dual-stack socket's IPv4 peer */
    if (n == 4) memmove(ip, ip + 12, 4);
  } else {
    b->err = -EINVAL;
    return;
  }
  uint8_t mask[16];
  put32(mask, BF_STUN_MAGIC);
  memcpy(mask + 4, b->d + 8, BF_STUN_TXID_BYTES);
  int x = is_xor(type);
  v[1] = n == 4 ? 0x01 : 0x02;
  put16(v + 2, (uint16_t)(port ^ (x ? BF_STUN_MAGIC >> 16 : 0u)));
  for (size_t i = 0; i < n; i++)
    v[4 + i] = (uint8_t)(ip[i] ^ (x ? mask[i] : 0u));
  bf_stun_put(b, type, v, 4 + n);
}

void bf_stun_put_error(bf_stun_builder *b, int code, const char *reason) {
  if (code < 300 || code > 699) {
    if (!b->err) b->err = -EINVAL;
    return;
  }
  size_t rl = reason ? strlen(reason) : 0;
  if (rl > 763) rl = 763; /* RFC 8489 §14.8: fewer than 128 characters */
  size_t off = reserve(b, BF_STUN_A_ERROR_CODE, 4 + rl);
  if (!off) return;
  uint8_t *v = b->d + off + 4;
  v[0] = v[1] = 0;
  v[2] = (uint8_t)(code / 100);
  v[3] = (uint8_t)(code % 100);
  if (rl) memcpy(v + 4, reason, rl);
}

void bf_stun_put_integrity(bf_stun_builder *b, bf_stun_alg alg, const uint8_t *key,
                           size_t key_len) {
  if (b->err) return;
  int sha256 = alg == BF_STUN_ALG_SHA256;
  size_t vlen = sha256 ? MI256_BYTES : MI_BYTES;
  size_t off = b->len;
  uint8_t mac[64];
  if (b->cap - b->len < 4 + vlen) {
    b->err = -ENOBUFS;
    return;
  }
  int r = integrity_at(b->d, off, vlen, alg, key, key_len, mac);
  if (r < 0) {
    b->err = r;
    return;
  }
  bf_stun_put(b, sha256 ? BF_STUN_A_MESSAGE_INTEGRITY_SHA256 : BF_STUN_A_MESSAGE_INTEGRITY, mac,
              vlen);
}

void bf_stun_put_fingerprint(bf_stun_builder *b) {
  size_t off = reserve(b, BF_STUN_A_FINGERPRINT, 4);
  if (off) put32(b->d + off + 4, crc32_stun(b->d, off) ^ FP_XOR);
}

int bf_stun_finish(const bf_stun_builder *b) {
  return b->err ? b->err : (int)b->len;
}

typedef struct name_entry {
  int id;
  const char *name;
} name_entry;

static const char *lookup(const name_entry *t, size_t n, int id, const char *none) {
  for (size_t i = 0; i < n; i++)
    if (t[i].id == id) return t[i].name;
  return none;
}

const char *bf_stun_method_name(uint16_t method) {
  static const name_entry names[] = {
      {BF_STUN_BINDING, "Binding"},
      {BF_STUN_ALLOCATE, "Allocate"},
      {BF_STUN_REFRESH, "Refresh"},
      {BF_STUN_SEND, "Send"},
      {BF_STUN_DATA, "Data"},
      {BF_STUN_CREATE_PERMISSION, "CreatePermission"},
      {BF_STUN_CHANNEL_BIND, "ChannelBind"},
      {BF_STUN_CONNECT, "Connect"},
      {BF_STUN_CONNECTION_BIND, "ConnectionBind"},
      {BF_STUN_CONNECTION_ATTEMPT, "ConnectionAttempt"},
  };
  return lookup(names, sizeof names / sizeof names[0], method, "?");
}

const char *bf_stun_error_name(int code) {
  static const name_entry names[] = {
      {300, "Try Alternate"},
      {400, "Bad Request"},
      {401, "Unauthenticated"},
      {403, "Forbidden"},
      {405, "Mobility Forbidden"},
      {420, "Unknown Attribute"},
      {437, "Allocation Mismatch"},
      {438, "Stale Nonce"},
      {440, "Address Family not Supported"},
      {441, "Wrong Credentials"},
      {442, "Unsupported Transport Protocol"},
      {443, "Peer Address Family Mismatch"},
      {446, "Connection Already Exists"},
      {447, "Connection Timeout or Failure"},
      {486, "Allocation Quota Reached"},
      {487, "Role Conflict"},
      {500, "Server Error"},
      {508, "Insufficient Capacity"},
  };
  return lookup(names, sizeof names / sizeof names[0], code, "error");
}
