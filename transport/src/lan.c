/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The LAN codecs: see bildfunk/lan.h. The TXT parser walks the record once,
 * string by string, and copies only the fields it keeps.
 */
#include <bildfunk/lan.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "utf8.h"

/* ---- TXT record ------------------------------------------------------------ */

static int hex_digit(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* 1 when |s| (|n| bytes) is 8..16 hex digits. */
static int fp_ok(const char *s, size_t n) {
  if (n < BF_LAN_FP_HEX_MIN || n > BF_LAN_FP_HEX) return 0;
  for (size_t i = 0; i < n; i++)
    if (hex_digit((unsigned char)s[i]) < 0) return 0;
  return 1;
}

/* Appends the string "key=value" (|vn| bytes of value). 0 or -ENOSPC. */
static int put_kv(uint8_t *out, size_t cap, size_t *at, const char *key, const char *val,
                  size_t vn) {
  const size_t kn = strlen(key), n = kn + 1 + vn;
  if (n > 255 || cap - *at < n + 1) return -ENOSPC;
  out[(*at)++] = (uint8_t)n;
  memcpy(out + *at, key, kn);
  out[*at + kn] = '=';
  memcpy(out + *at + kn + 1, val, vn);
  *at += n;
  return 0;
}

int bf_lan_name_ok(const char *name) {
  const size_t n = strnlen(name, BF_LAN_MAX_NAME + 1);
  return n <= BF_LAN_MAX_NAME && bf__text_ok((const uint8_t *)name, n);
}

int bf_lan_txt_encode(const bf_lan_txt *t, uint8_t *out, size_t cap) {
  if (!t || !out) return -EINVAL;
  const size_t nn = strnlen(t->name, sizeof t->name), fn = strnlen(t->fp, sizeof t->fp);
  if (!t->version || !t->data_port || nn > BF_LAN_MAX_NAME ||
      !bf__text_ok((const uint8_t *)t->name, nn) || (fn && !fp_ok(t->fp, fn)))
    return -EINVAL;
  char num[16];
  size_t at = 0;
  int r = put_kv(out, cap, &at, "v", num, (size_t)snprintf(num, sizeof num, "%u", t->version));
  if (!r)
    r = put_kv(out, cap, &at, "dp", num, (size_t)snprintf(num, sizeof num, "%u", t->data_port));
  if (!r) r = put_kv(out, cap, &at, "name", t->name, nn);
  if (!r && fn) r = put_kv(out, cap, &at, "fp", t->fp, fn);
  return r ? r : (int)at;
}

/* |s| (|n| bytes) as a decimal number in 1..|max|, or -1. */
static long number(const uint8_t *s, size_t n, long max) {
  if (!n || n > 9) return -1;
  long v = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v >= 1 && v <= max ? v : -1;
}

/* Which key |s| (|n| bytes, before '=') is: 0 v, 1 dp, 2 name, 3 fp, -1 other. */
static int key_of(const uint8_t *s, size_t n) {
  static const char *const keys[] = {"v", "dp", "name", "fp"};
  for (int k = 0; k < 4; k++) {
    size_t kn = strlen(keys[k]);
    if (kn != n) continue;
    size_t i = 0;
    while (i < n && (s[i] | 0x20) == keys[k][i])
      i++;
    if (i == n) return k;
  }
  return -1;
}

#define BAD(text)                                                                                  \
  do {                                                                                             \
    if (why) *why = (text);                                                                        \
    return -EBADMSG;                                                                               \
  } while (0)

/* One "key=value" string into |t|; |seen| has a bit per key already taken.
 * 0 or -EBADMSG. */
static int take_kv(const uint8_t *s, size_t n, bf_lan_txt *t, unsigned *seen, const char **why) {
  const uint8_t *eq = memchr(s, '=', n);
  if (!eq || eq == s) return 0; /* a boolean attribute or no key: not ours */
  const int k = key_of(s, (size_t)(eq - s));
  if (k < 0 || (*seen & (1u << k))) return 0; /* unknown, or not the first */
  *seen |= 1u << k;
  const uint8_t *v = eq + 1;
  const size_t vn = n - (size_t)(v - s);
  long num;
  switch (k) {
  case 0:
    if ((num = number(v, vn, 65535)) < 0) BAD("txt: v= not 1..65535");
    t->version = (unsigned)num;
    break;
  case 1:
    if ((num = number(v, vn, 65535)) < 0) BAD("txt: dp= not 1..65535");
    t->data_port = (uint16_t)num;
    break;
  case 2:
    if (vn > BF_LAN_MAX_NAME) BAD("txt: name= longer than 63 bytes");
    if (!bf__text_ok(v, vn)) BAD("txt: name= not printable UTF-8");
    memcpy(t->name, v, vn);
    t->name[vn] = 0;
    break;
  default:
    if (!fp_ok((const char *)v, vn)) BAD("txt: fp= not 8..16 hex digits");
    for (size_t i = 0; i < vn; i++)
      t->fp[i] = (char)(v[i] | (v[i] >= 'A' ? 0x20 : 0));
    t->fp[vn] = 0;
    break;
  }
  return 0;
}

int bf_lan_txt_parse(const uint8_t *rdata, size_t len, bf_lan_txt *t, const char **why) {
  if (why) *why = "";
  if (!t || (!rdata && len)) return -EINVAL;
  memset(t, 0, sizeof *t);
  unsigned seen = 0;
  size_t at = 0;
  while (at < len) {
    const size_t n = rdata[at++];
    if (n > len - at) BAD("txt: string runs past the record");
    const int r = take_kv(rdata + at, n, t, &seen, why);
    if (r) return r;
    at += n;
  }
  if (!(seen & 1u)) BAD("txt: no v=");
  if (!(seen & 2u)) BAD("txt: no dp=");
  return 0;
}

#undef BAD

/* ---- Wake-on-LAN ----------------------------------------------------------- */

void bf_wake_packet(const uint8_t mac[BF_MAC_BYTES], uint8_t out[BF_WAKE_PACKET_BYTES]) {
  memset(out, 0xff, BF_MAC_BYTES);
  for (size_t i = 1; i <= 16; i++)
    memcpy(out + i * BF_MAC_BYTES, mac, BF_MAC_BYTES);
}

int bf_mac_usable(const uint8_t mac[BF_MAC_BYTES]) {
  static const uint8_t zero[BF_MAC_BYTES];
  return memcmp(mac, zero, BF_MAC_BYTES) != 0 && !(mac[0] & 1u);
}

int bf_mac_parse(const char *s, uint8_t mac[BF_MAC_BYTES]) {
  if (!s || strlen(s) != BF_MAC_TEXT - 1) return -EINVAL;
  const char sep = s[2];
  if (sep != ':' && sep != '-') return -EINVAL;
  for (size_t i = 0; i < BF_MAC_BYTES; i++) {
    const char *p = s + i * 3;
    const int hi = hex_digit((unsigned char)p[0]), lo = hex_digit((unsigned char)p[1]);
    if (hi < 0 || lo < 0 || (i < BF_MAC_BYTES - 1 && p[2] != sep)) return -EINVAL;
    mac[i] = (uint8_t)(hi << 4 | lo);
  }
  return 0;
}

void bf_mac_format(const uint8_t mac[BF_MAC_BYTES], char out[BF_MAC_TEXT]) {
  snprintf(out, BF_MAC_TEXT, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
           mac[4], mac[5]);
}
