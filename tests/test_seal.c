/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Sealed data plane (spec §6): published AES-128-GCM vectors through the
 * sealer's EVP call pattern, the exact sealed byte layout against vectors
 * computed independently (Python `cryptography` AESGCM, HMAC-SHA256 for the
 * HKDF step), nonce and AAD construction byte by byte, round trips, every
 * drop reason, the replay window against a plain model, seq exhaustion near
 * 2^64, and no allocation on the hot path.
 */
#include "testutil.h"

#include <bildfunk/feedback.h>
#include <bildfunk/seal.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

/* ---- OpenSSL allocation counter (installed first thing in main) ---------- */

static unsigned long g_allocs;

static void *count_malloc(size_t n, const char *file, int line) {
  (void)file;
  (void)line;
  g_allocs++;
  return malloc(n);
}

static void *count_realloc(void *p, size_t n, const char *file, int line) {
  (void)file;
  (void)line;
  g_allocs++;
  return realloc(p, n);
}

static void count_free(void *p, const char *file, int line) {
  (void)file;
  (void)line;
  free(p);
}

static int g_counting; /* CRYPTO_set_mem_functions took effect */

/* ---- helpers ------------------------------------------------------------- */

static void unhex(const char *h, uint8_t *out, size_t n) {
  assert_int_equal(strlen(h), 2 * n);
  for (size_t i = 0; i < n; i++) {
    unsigned v;
    assert_int_equal(sscanf(h + 2 * i, "%2x", &v), 1);
    out[i] = (uint8_t)v;
  }
}

static void test_key(bf_seal_key *k, uint8_t fill) {
  for (size_t i = 0; i < sizeof k->key; i++)
    k->key[i] = (uint8_t)(fill + i);
  k->salt[0] = 0x21;
  k->salt[1] = 0xb2;
  k->salt[2] = 0xc3;
  k->salt[3] = 0xd4;
}

static bf_sealer *new_sealer(const bf_seal_key *k, bf_seal_dir dir, uint64_t first) {
  bf_sealer *s = NULL;
  assert_int_equal(bf_sealer_new(k, dir, first, &s), 0);
  assert_non_null(s);
  return s;
}

static bf_opener *new_opener(const bf_seal_key *k, bf_seal_dir dir, size_t min_plain) {
  bf_opener *o = NULL;
  assert_int_equal(bf_opener_new(k, dir, min_plain, &o), 0);
  assert_non_null(o);
  return o;
}

static int seal1(bf_sealer *s, const uint8_t *p, size_t n, uint8_t *out, size_t cap) {
  bf_dgram d = {p, n, NULL, 0};
  return bf_sealer_seal(s, &d, out, cap);
}

static bf_opener_stats stats(const bf_opener *o) {
  bf_opener_stats st;
  bf_opener_stats_get(o, &st);
  return st;
}

/* ---- published vectors --------------------------------------------------- */

/* McGrew & Viega, "The Galois/Counter Mode of Operation", test cases 2-4
 * (AES-128, 96-bit IV), run the way the sealer runs them: the cipher fetched
 * once, the context keyed once, then per message an IV-only re-init, AAD,
 * data, final, tag. Test cases 3 and 4 share key and IV, so running 3, 4, 3
 * on one context also shows that the IV-only re-init resets all GCM state. */
typedef struct gcm_tv {
  const char *key, *iv, *aad, *pt, *ct, *tag;
} gcm_tv;

static const gcm_tv tv2 = {"00000000000000000000000000000000",
                           "000000000000000000000000",
                           "",
                           "00000000000000000000000000000000",
                           "0388dace60b6a392f328c2b971b2fe78",
                           "ab6e47d42cec13bdf53a67b21257bddf"};
static const gcm_tv tv3 = {"feffe9928665731c6d6a8f9467308308",
                           "cafebabefacedbaddecaf888",
                           "",
                           "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
                           "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
                           "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
                           "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985",
                           "4d5c2af327cd64a62cf35abd2ba6fab4"};
static const gcm_tv tv4 = {"feffe9928665731c6d6a8f9467308308",
                           "cafebabefacedbaddecaf888",
                           "feedfacedeadbeeffeedfacedeadbeefabaddad2",
                           "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
                           "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
                           "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
                           "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
                           "5bc94fbc3221a5db94fae95ae7121a47"};

static void run_tv(EVP_CIPHER_CTX *enc, EVP_CIPHER_CTX *dec, const gcm_tv *tv) {
  uint8_t iv[12], aad[64], pt[64], ct[64], tag[16], out[64], got_tag[16];
  const size_t na = strlen(tv->aad) / 2, np = strlen(tv->pt) / 2;
  unhex(tv->iv, iv, 12);
  unhex(tv->aad, aad, na);
  unhex(tv->pt, pt, np);
  unhex(tv->ct, ct, np);
  unhex(tv->tag, tag, 16);
  int n = 0, total = 0;
  assert_true(EVP_EncryptInit_ex2(enc, NULL, NULL, iv, NULL));
  if (na) assert_true(EVP_EncryptUpdate(enc, NULL, &n, aad, (int)na));
  /* in two pieces, like a header and a shard */
  assert_true(EVP_EncryptUpdate(enc, out, &n, pt, 5));
  total += n;
  assert_true(EVP_EncryptUpdate(enc, out + total, &n, pt + 5, (int)np - 5));
  total += n;
  assert_true(EVP_EncryptFinal_ex(enc, out + total, &n));
  total += n;
  assert_int_equal(total, (int)np);
  assert_int_equal(EVP_CIPHER_CTX_ctrl(enc, EVP_CTRL_AEAD_GET_TAG, 16, got_tag), 1);
  assert_memory_equal(out, ct, np);
  assert_memory_equal(got_tag, tag, 16);

  assert_true(EVP_DecryptInit_ex2(dec, NULL, NULL, iv, NULL));
  if (na) assert_true(EVP_DecryptUpdate(dec, NULL, &n, aad, (int)na));
  assert_true(EVP_DecryptUpdate(dec, out, &n, ct, (int)np));
  assert_int_equal(EVP_CIPHER_CTX_ctrl(dec, EVP_CTRL_AEAD_SET_TAG, 16, tag), 1);
  assert_true(EVP_DecryptFinal_ex(dec, out + np, &n) > 0);
  assert_memory_equal(out, pt, np);
  /* one flipped tag bit fails */
  tag[15] ^= 1;
  assert_true(EVP_DecryptInit_ex2(dec, NULL, NULL, iv, NULL));
  if (na) assert_true(EVP_DecryptUpdate(dec, NULL, &n, aad, (int)na));
  assert_true(EVP_DecryptUpdate(dec, out, &n, ct, (int)np));
  assert_int_equal(EVP_CIPHER_CTX_ctrl(dec, EVP_CTRL_AEAD_SET_TAG, 16, tag), 1);
  assert_true(EVP_DecryptFinal_ex(dec, out + np, &n) <= 0);
}

static void keyed_pair(const char *hexkey, EVP_CIPHER_CTX **enc, EVP_CIPHER_CTX **dec) {
  uint8_t key[16];
  unhex(hexkey, key, 16);
  EVP_CIPHER *c = EVP_CIPHER_fetch(NULL, "AES-128-GCM", NULL);
  assert_non_null(c);
  *enc = EVP_CIPHER_CTX_new();
  *dec = EVP_CIPHER_CTX_new();
  assert_true(EVP_EncryptInit_ex2(*enc, c, key, NULL, NULL));
  assert_true(EVP_DecryptInit_ex2(*dec, c, key, NULL, NULL));
  EVP_CIPHER_free(c);
}

static void test_published_vectors(void **state) {
  (void)state;
  EVP_CIPHER_CTX *e, *d;
  keyed_pair(tv2.key, &e, &d);
  run_tv(e, d, &tv2);
  EVP_CIPHER_CTX_free(e);
  EVP_CIPHER_CTX_free(d);
  keyed_pair(tv3.key, &e, &d);
  run_tv(e, d, &tv3);
  run_tv(e, d, &tv4);
  run_tv(e, d, &tv3);
  EVP_CIPHER_CTX_free(e);
  EVP_CIPHER_CTX_free(d);
}

/* ---- exact layout -------------------------------------------------------- */

/* Computed with Python `cryptography` AESGCM(key).encrypt(salt ‖ seq_be,
 * head ‖ body, seq_be), key = 00..0f, seq = 0x0102030405060708,
 * head[i] = 7i+1 (40 bytes), body[i] = 0xa0+i (24 bytes). Salt as given
 * 21b2c3d4 (S2C keeps the top bit 0) and, for C2S, a1b2c3d4. */
static const char *const layout_s2c =
    "01020304050607082ca24a760521d909c9e9d376fa97d724a069b9ffdeadb5c55dbf3aac37426329"
    "261c52ef47fae77eee10e0ddfa71937a743ece9c7cef9cf7c996752d676e2af3791eeeee6e6ae447"
    "44b1f3bc50ed2f7a";
static const char *const layout_c2s =
    "01020304050607087b88525708e025b3b64d1a97b6e78c7e20a567790b8f57ed43f1042cecd11ece"
    "98aaa8647c547aff27afc3f69e21d20b56dfcfc14e979559773439c83abf7551060b26aec748e446"
    "982123728739148e";

static void layout_plain(uint8_t head[40], uint8_t body[24]) {
  for (int i = 0; i < 40; i++)
    head[i] = (uint8_t)(7 * i + 1);
  for (int i = 0; i < 24; i++)
    body[i] = (uint8_t)(0xa0 + i);
}

static void test_layout(void **state) {
  (void)state;
  uint8_t head[40], body[24], want[88], out[128];
  layout_plain(head, body);
  bf_seal_key k;
  test_key(&k, 0);
  k.salt[0] = 0xa1; /* the top bit must be forced to the direction */
  const bf_dgram dg = {head, 40, body, 24};

  bf_sealer *s = new_sealer(&k, BF_SEAL_S2C, 0x0102030405060708ull);
  assert_int_equal(bf_sealer_seal(s, &dg, out, sizeof out), 88);
  unhex(layout_s2c, want, 88);
  assert_memory_equal(out, want, 88);
  /* the next datagram carries the next seq */
  assert_int_equal(bf_sealer_next_seq(s), 0x0102030405060709ull);
  assert_int_equal(bf_sealer_seal(s, &dg, out, sizeof out), 88);
  static const uint8_t seq2[8] = {1, 2, 3, 4, 5, 6, 7, 9};
  assert_memory_equal(out, seq2, 8);
  bf_sealer_del(&s);
  assert_null(s);

  k.salt[0] = 0x21;
  s = new_sealer(&k, BF_SEAL_C2S, 0x0102030405060708ull);
  assert_int_equal(bf_sealer_seal(s, &dg, out, sizeof out), 88);
  unhex(layout_c2s, want, 88);
  assert_memory_equal(out, want, 88);
  bf_sealer_del(&s);
}

/* One-shot AES-128-GCM open with a nonce and AAD the test builds itself. */
static int raw_open(const uint8_t key[16], const uint8_t nonce[12], const uint8_t *aad, size_t na,
                    const uint8_t *ct, size_t n, const uint8_t tag[16], uint8_t *out) {
  EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
  int len = 0, ok = 1;
  uint8_t t[16];
  memcpy(t, tag, 16);
  ok = ok && EVP_DecryptInit_ex(c, EVP_aes_128_gcm(), NULL, key, nonce);
  ok = ok && EVP_DecryptUpdate(c, NULL, &len, aad, (int)na);
  ok = ok && EVP_DecryptUpdate(c, out, &len, ct, (int)n);
  ok = ok && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, 16, t) == 1;
  ok = ok && EVP_DecryptFinal_ex(c, out + n, &len) > 0;
  EVP_CIPHER_CTX_free(c);
  return ok;
}

/* The nonce is salt (direction bit forced) ‖ seq BE and the AAD exactly the
 * 8 seq bytes at the front: a one-shot open built from those bytes works,
 * and any other nonce or AAD fails. */
static void test_nonce_and_aad(void **state) {
  (void)state;
  uint8_t head[40], body[24], out[128], pt[80];
  layout_plain(head, body);
  bf_seal_key k;
  test_key(&k, 0x30);
  k.salt[0] = 0xff;
  const uint64_t seq = 0xfedcba9876543210ull;
  for (int dir = 0; dir < 2; dir++) {
    bf_sealer *s = new_sealer(&k, (bf_seal_dir)dir, seq);
    const bf_dgram dg = {head, 40, body, 24};
    assert_int_equal(bf_sealer_seal(s, &dg, out, sizeof out), 88);
    bf_sealer_del(&s);
    static const uint8_t seq_be[8] = {0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10};
    assert_memory_equal(out, seq_be, 8);
    uint8_t nonce[12] = {(uint8_t)(dir ? 0xff : 0x7f), 0xb2, 0xc3, 0xd4};
    memcpy(nonce + 4, seq_be, 8);
    assert_true(raw_open(k.key, nonce, out, 8, out + 8, 64, out + 72, pt));
    assert_memory_equal(pt, head, 40);
    assert_memory_equal(pt + 40, body, 24);
    /* the other direction bit, a different AAD, no AAD: all fail */
    nonce[0] ^= 0x80;
    assert_false(raw_open(k.key, nonce, out, 8, out + 8, 64, out + 72, pt));
    nonce[0] ^= 0x80;
    uint8_t aad[8];
    memcpy(aad, out, 8);
    aad[7] ^= 1;
    assert_false(raw_open(k.key, nonce, aad, 8, out + 8, 64, out + 72, pt));
    assert_false(raw_open(k.key, nonce, aad, 0, out + 8, 64, out + 72, pt));
  }
}

/* ---- key derivation ------------------------------------------------------ */

/* HKDF-Expand-SHA256 with L <= 32 is T(1) = HMAC-SHA256(secret, info ‖ 0x01);
 * computed independently with Python hmac for secret = 40 41 .. 5f. */
static void test_derive(void **state) {
  (void)state;
  uint8_t secret[32];
  for (int i = 0; i < 32; i++)
    secret[i] = (uint8_t)(0x40 + i);
  bf_seal_key s2c, c2s, want;
  assert_int_equal(bf_seal_derive(secret, sizeof secret, &s2c, &c2s), 0);
  unhex("35462f9d459b6c697755c57a69bbbd73", want.key, 16);
  unhex("0b7e732a", want.salt, 4); /* 8b.. with the direction bit cleared */
  assert_memory_equal(s2c.key, want.key, 16);
  assert_memory_equal(s2c.salt, want.salt, 4);
  unhex("b3c8020fdfde4f6076776417e8b8cc82", want.key, 16);
  unhex("d53c8ae4", want.salt, 4); /* 55.. with the direction bit set */
  assert_memory_equal(c2s.key, want.key, 16);
  assert_memory_equal(c2s.salt, want.salt, 4);
  assert_int_equal(strlen(BF_SEAL_EXPORTER_LABEL), 25);

  assert_int_equal(bf_seal_derive(secret, 31, &s2c, &c2s), -EINVAL);
  assert_int_equal(bf_seal_derive(NULL, 32, &s2c, &c2s), -EINVAL);
  /* a longer secret is a different PRK */
  uint8_t longer[48];
  memset(longer, 0x40, sizeof longer);
  memcpy(longer, secret, 32);
  bf_seal_key s2c_b, c2s_b;
  assert_int_equal(bf_seal_derive(secret, sizeof secret, &s2c, &c2s), 0);
  assert_int_equal(bf_seal_derive(longer, sizeof longer, &s2c_b, &c2s_b), 0);
  assert_memory_not_equal(s2c.key, s2c_b.key, 16);

  /* both ends derive the same keys and talk in both directions; the two
   * directions' datagrams do not open with the other direction's keys */
  bf_sealer *ss = new_sealer(&s2c, BF_SEAL_S2C, 0), *cs = new_sealer(&c2s, BF_SEAL_C2S, 1000);
  bf_opener *co = new_opener(&s2c, BF_SEAL_S2C, 1), *so = new_opener(&c2s, BF_SEAL_C2S, 1);
  bf_opener *wrong = new_opener(&c2s, BF_SEAL_C2S, 1);
  uint8_t msg[10] = "ping pong", buf[64], pt[64];
  int n = seal1(ss, msg, 10, buf, sizeof buf);
  assert_int_equal(n, 34);
  assert_int_equal(bf_opener_open(co, buf, (size_t)n, pt, sizeof pt, NULL), 10);
  assert_memory_equal(pt, msg, 10);
  assert_int_equal(bf_opener_open(wrong, buf, (size_t)n, pt, sizeof pt, NULL), -EBADMSG);
  n = seal1(cs, msg, 10, buf, sizeof buf);
  assert_int_equal(bf_opener_open(so, buf, (size_t)n, pt, sizeof pt, NULL), 10);
  assert_int_equal(bf_opener_open(co, buf, (size_t)n, pt, sizeof pt, NULL), -EBADMSG);
  bf_sealer_del(&ss);
  bf_sealer_del(&cs);
  bf_opener_del(&co);
  bf_opener_del(&so);
  bf_opener_del(&wrong);
  bf_seal_key_wipe(&s2c);
  static const bf_seal_key zero;
  assert_memory_equal(&s2c, &zero, sizeof zero);
}

/* ---- round trips --------------------------------------------------------- */

static void test_roundtrip(void **state) {
  (void)state;
  bf_test_rng rng;
  bf_test_rng_seed(&rng, 0x5ea1);
  bf_seal_key k;
  bf_test_rng_fill(&rng, k.key, sizeof k.key);
  bf_test_rng_fill(&rng, k.salt, sizeof k.salt);
  const uint64_t first = bf_test_rng_next(&rng) >> 1;
  bf_sealer *s = new_sealer(&k, BF_SEAL_S2C, first);
  bf_sealer *s2 = new_sealer(&k, BF_SEAL_S2C, first); /* same, unsplit input */
  bf_opener *o = new_opener(&k, BF_SEAL_S2C, 1);
  static uint8_t plain[BF_SEAL_MAX_PLAIN], sealed[BF_MAX_DATAGRAM + 8],
      sealed2[BF_MAX_DATAGRAM + 8], out[BF_MAX_DATAGRAM];
  for (int i = 0; i < 400; i++) {
    size_t n;
    switch (i) {
    case 0:
      n = 1;
      break;
    case 1:
      n = BF_SEAL_MAX_PLAIN;
      break;
    case 2:
      n = BF_HEADER_BYTES + BF_DEFAULT_SHARD_V4;
      break;
    default:
      n = 1 + bf_test_rng_below(&rng, BF_SEAL_MAX_PLAIN);
      break;
    }
    bf_test_rng_fill(&rng, plain, n);
    const size_t h = i % 3 == 0 ? n : bf_test_rng_below(&rng, (uint32_t)n + 1);
    const bf_dgram dg = {plain, h, h < n ? plain + h : NULL, n - h};
    const int len = bf_sealer_seal(s, &dg, sealed, sizeof sealed);
    assert_int_equal(len, (int)(n + BF_SEAL_OVERHEAD));
    assert_int_equal(seal1(s2, plain, n, sealed2, sizeof sealed2), len);
    assert_memory_equal(sealed, sealed2, (size_t)len); /* gather == contiguous */
    uint64_t seq = 0;
    if (i % 2) {
      assert_int_equal(bf_opener_open(o, sealed, (size_t)len, out, n, &seq), (int)n);
      assert_memory_equal(out, plain, n);
    } else {
      assert_int_equal(bf_opener_open_inplace(o, sealed, (size_t)len, &seq), (int)n);
      assert_memory_equal(sealed + BF_SEAL_SEQ_BYTES, plain, n);
    }
    assert_int_equal(seq, first + (uint64_t)i);
    if (n >= 16) assert_memory_not_equal(sealed2 + 8, plain, 16); /* it is encrypted */
  }
  bf_opener_stats st = stats(o);
  assert_int_equal(st.opened, 400);
  assert_int_equal(st.bad_tag + st.short_ + st.replay_dup + st.replay_old + st.oversize, 0);
  int have = 0;
  assert_int_equal(bf_opener_newest(o, &have), first + 399);
  assert_true(have);
  bf_sealer_del(&s);
  bf_sealer_del(&s2);
  bf_opener_del(&o);
}

/* Head/body splits around the sealer's staging of an unaligned head (heads
 * up to 128 bytes are staged whole with the body bytes completing their last
 * block, longer ones only their tail; bodies shorter than that pad): the
 * result equals sealing the same bytes in one piece. */
static void test_gather_shapes(void **state) {
  (void)state;
  static const size_t shapes[][2] = {
      {40, 1408}, {40, 3},   {40, 8},  {40, 9},  {0, 5},     {5, 0},   {16, 16},  {15, 1},
      {127, 1},   {128, 17}, {129, 2}, {130, 1}, {131, 100}, {200, 9}, {1, 9000}, {9191, 1},
  };
  bf_seal_key k;
  test_key(&k, 9);
  bf_sealer *a = new_sealer(&k, BF_SEAL_C2S, 42), *b = new_sealer(&k, BF_SEAL_C2S, 42);
  bf_opener *o = new_opener(&k, BF_SEAL_C2S, 1);
  static uint8_t plain[BF_SEAL_MAX_PLAIN], x[BF_MAX_DATAGRAM], y[BF_MAX_DATAGRAM],
      out[BF_MAX_DATAGRAM];
  for (size_t i = 0; i < sizeof plain; i++)
    plain[i] = (uint8_t)(i * 13 + (i >> 8));
  for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
    const size_t h = shapes[i][0], n = h + shapes[i][1];
    const bf_dgram dg = {plain, h, plain + h, n - h};
    const int len = bf_sealer_seal(a, &dg, x, sizeof x);
    assert_int_equal(len, (int)(n + 24));
    assert_int_equal(seal1(b, plain, n, y, sizeof y), len);
    assert_memory_equal(x, y, (size_t)len);
    assert_int_equal(bf_opener_open(o, x, (size_t)len, out, sizeof out, NULL), (int)n);
    assert_memory_equal(out, plain, n);
  }
  bf_sealer_del(&a);
  bf_sealer_del(&b);
  bf_opener_del(&o);
}

/* ---- drops --------------------------------------------------------------- */

static void test_bad_tag(void **state) {
  (void)state;
  bf_seal_key k, other;
  test_key(&k, 1);
  test_key(&other, 2);
  bf_sealer *s = new_sealer(&k, BF_SEAL_C2S, 77);
  bf_opener *o = new_opener(&k, BF_SEAL_C2S, 6);
  bf_opener *wrong_key = new_opener(&other, BF_SEAL_C2S, 6);
  bf_opener *wrong_dir = new_opener(&k, BF_SEAL_S2C, 6);
  uint8_t msg[34], d[64], bad[64], out[64];
  memset(msg, 0x5a, sizeof msg);
  const int n = seal1(s, msg, sizeof msg, d, sizeof d);
  assert_int_equal(n, 58);
  /* a flipped bit anywhere (seq, ciphertext, tag) fails and is counted */
  const size_t at[] = {0, 7, 8, 20, 41, 42, 57};
  for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
    memcpy(bad, d, (size_t)n);
    bad[at[i]] ^= 0x10;
    assert_int_equal(bf_opener_open(o, bad, (size_t)n, out, sizeof out, NULL), -EBADMSG);
  }
  assert_int_equal(stats(o).bad_tag, 7);
  assert_int_equal(bf_opener_open(wrong_key, d, (size_t)n, out, sizeof out, NULL), -EBADMSG);
  assert_int_equal(stats(wrong_key).bad_tag, 1);
  assert_int_equal(bf_opener_open(wrong_dir, d, (size_t)n, out, sizeof out, NULL), -EBADMSG);
  assert_int_equal(stats(wrong_dir).bad_tag, 1);
  /* a failed tag does not mark the seq seen: the genuine datagram opens */
  int have = 1;
  bf_opener_newest(o, &have);
  assert_false(have);
  uint64_t seq = 0;
  assert_int_equal(bf_opener_open(o, d, (size_t)n, out, sizeof out, &seq), 34);
  assert_int_equal(seq, 77);
  assert_memory_equal(out, msg, 34);
  /* the same in place: a forgery of the next seq does not burn it */
  const int n2 = seal1(s, msg, sizeof msg, d, sizeof d);
  memcpy(bad, d, (size_t)n2);
  bad[30] ^= 1;
  assert_int_equal(bf_opener_open_inplace(o, bad, (size_t)n2, NULL), -EBADMSG);
  assert_int_equal(bf_opener_open_inplace(o, d, (size_t)n2, &seq), 34);
  assert_int_equal(seq, 78);
  bf_opener_stats st = stats(o);
  assert_int_equal(st.opened, 2);
  assert_int_equal(st.bad_tag, 8);
  bf_sealer_del(&s);
  bf_opener_del(&o);
  bf_opener_del(&wrong_key);
  bf_opener_del(&wrong_dir);
}

static void test_short_oversize(void **state) {
  (void)state;
  bf_seal_key k;
  test_key(&k, 3);
  bf_opener *o = new_opener(&k, BF_SEAL_S2C, 6);
  bf_opener *o1 = new_opener(&k, BF_SEAL_S2C, 0); /* minimum 1 */
  static uint8_t d[BF_RECV_BUF_BYTES], out[BF_RECV_BUF_BYTES];
  memset(d, 0, sizeof d);
  assert_int_equal(bf_opener_open(o, d, 0, out, sizeof out, NULL), -EMSGSIZE);
  assert_int_equal(bf_opener_open(o, d, 8, out, sizeof out, NULL), -EMSGSIZE);
  assert_int_equal(bf_opener_open(o, d, 29, out, sizeof out, NULL), -EMSGSIZE);
  assert_int_equal(bf_opener_open(o, d, BF_PUNCH_BYTES, out, sizeof out, NULL), -EMSGSIZE);
  assert_int_equal(bf_opener_open(o, d, 30, out, sizeof out, NULL), -EBADMSG); /* plausible */
  assert_int_equal(bf_opener_open(o, d, BF_RECV_BUF_BYTES, out, sizeof out, NULL), -EMSGSIZE);
  assert_int_equal(bf_opener_open(o, d, BF_MAX_DATAGRAM, out, sizeof out, NULL), -EBADMSG);
  bf_opener_stats st = stats(o);
  assert_int_equal(st.short_, 4);
  assert_int_equal(st.oversize, 1);
  assert_int_equal(st.bad_tag, 2);
  assert_int_equal(bf_opener_open(o1, d, 24, out, sizeof out, NULL), -EMSGSIZE);
  assert_int_equal(bf_opener_open(o1, d, 25, out, sizeof out, NULL), -EBADMSG);
  /* caller errors are not network drops */
  assert_int_equal(bf_opener_open(o, d, 100, out, 75, NULL), -ENOSPC);
  assert_int_equal(bf_opener_open(o, d, 100, NULL, 100, NULL), -EINVAL);
  st = stats(o);
  assert_int_equal(st.short_ + st.oversize + st.bad_tag + st.opened, 7);
  bf_opener_del(&o);
  bf_opener_del(&o1);
}

static void test_seal_errors(void **state) {
  (void)state;
  bf_seal_key k;
  test_key(&k, 4);
  bf_sealer *s = new_sealer(&k, BF_SEAL_S2C, 5);
  static uint8_t p[BF_MAX_DATAGRAM], out[BF_MAX_DATAGRAM + 64];
  assert_int_equal(seal1(s, p, BF_SEAL_MAX_PLAIN + 1, out, sizeof out), -EMSGSIZE);
  const bf_dgram big = {p, 9000, p, 500};
  assert_int_equal(bf_sealer_seal(s, &big, out, sizeof out), -EMSGSIZE);
  assert_int_equal(seal1(s, p, 100, out, 123), -ENOSPC);
  const bf_dgram bad = {NULL, 5, NULL, 0};
  assert_int_equal(bf_sealer_seal(s, &bad, out, sizeof out), -EINVAL);
  /* none of those used a seq */
  assert_int_equal(bf_sealer_next_seq(s), 5);
  assert_int_equal(seal1(s, p, 100, out, 124), 124);
  assert_int_equal(bf_sealer_next_seq(s), 6);
  const bf_dgram empty = {NULL, 0, NULL, 0};
  assert_int_equal(bf_sealer_seal(s, &empty, out, sizeof out), 24);
  bf_sealer *t = NULL;
  assert_int_equal(bf_sealer_new(&k, (bf_seal_dir)2, 0, &t), -EINVAL);
  assert_null(t);
  bf_sealer_del(&s);
  bf_sealer_del(&s); /* NULL is fine */
}

/* ---- replay window ------------------------------------------------------- */

static void test_replay_basic(void **state) {
  (void)state;
  bf_seal_key k;
  test_key(&k, 5);
  const uint64_t first = 1000000000000ull; /* the first seq need not be 0 */
  const uint32_t W = BF_SEAL_REPLAY_WINDOW;
  bf_sealer *s = new_sealer(&k, BF_SEAL_S2C, first);
  bf_opener *o = new_opener(&k, BF_SEAL_S2C, 1);
  /* keep a few sealed datagrams: seq first+0..2, first+W+1 */
  uint8_t d[4][40], tmp[40], out[40], msg[16] = "0123456789abcde";
  for (int i = 0; i < 3; i++)
    assert_int_equal(seal1(s, msg, 16, d[i], 40), 40);
  for (uint32_t i = 3; i <= W; i++)
    assert_int_equal(seal1(s, msg, 16, tmp, 40), 40);
  assert_int_equal(seal1(s, msg, 16, d[3], 40), 40);
  uint64_t seq;

  /* reorder: 2, then 0 (below the first accepted seq, inside the window) */
  assert_int_equal(bf_opener_open(o, d[2], 40, out, 40, &seq), 16);
  assert_int_equal(seq, first + 2);
  assert_int_equal(bf_opener_open(o, d[0], 40, out, 40, &seq), 16);
  assert_int_equal(seq, first);
  /* replays */
  assert_int_equal(bf_opener_open(o, d[2], 40, out, 40, NULL), -EALREADY);
  assert_int_equal(bf_opener_open(o, d[0], 40, out, 40, NULL), -EALREADY);
  /* a replay is refused before decrypting: a corrupt copy is still "dup" */
  memcpy(tmp, d[0], 40);
  tmp[39] ^= 1;
  assert_int_equal(bf_opener_open(o, tmp, 40, out, 40, NULL), -EALREADY);
  /* seq first+W+1: now first+1 is exactly W behind (too old), first+2
   * is W-1 behind (inside, seen) */
  assert_int_equal(bf_opener_open(o, d[3], 40, out, 40, &seq), 16);
  assert_int_equal(seq, first + W + 1);
  assert_int_equal(bf_opener_open(o, d[1], 40, out, 40, NULL), -ESTALE);
  assert_int_equal(bf_opener_open(o, d[2], 40, out, 40, NULL), -EALREADY);
  assert_int_equal(bf_opener_open(o, d[0], 40, out, 40, NULL), -ESTALE);
  bf_opener_stats st = stats(o);
  assert_int_equal(st.opened, 3);
  assert_int_equal(st.replay_dup, 4);
  assert_int_equal(st.replay_old, 2);
  assert_int_equal(st.bad_tag, 0);
  bf_sealer_del(&s);
  bf_opener_del(&o);
}

/* A long stream with reordering (packets held back for thousands of seqs,
 * some released only after a jump), a loss run longer than the window,
 * duplicates and stale repeats, against a plain model: a seq is accepted iff it is newer than the
 * newest accepted, or less than W behind it and not accepted before. */
#define STREAM_N 400000u
#define SMALL 8u
#define SEALED_SMALL (SMALL + BF_SEAL_OVERHEAD)

static void test_replay_model(void **state) {
  (void)state;
  bf_test_rng rng;
  bf_test_rng_seed(&rng, 0x3e91a7);
  bf_seal_key k;
  test_key(&k, 6);
  const uint64_t first = UINT64_MAX - STREAM_N - 1000; /* near the top, on purpose */
  bf_sealer *s = new_sealer(&k, BF_SEAL_S2C, first);
  bf_opener *o = new_opener(&k, BF_SEAL_S2C, SMALL);
  uint8_t *all = malloc((size_t)STREAM_N * SEALED_SMALL);
  uint8_t *accepted = calloc(STREAM_N, 1);
  uint32_t *order = malloc(2u * STREAM_N * sizeof *order);
  assert_non_null(all);
  assert_non_null(accepted);
  assert_non_null(order);
  uint8_t msg[SMALL] = {0};
  for (uint32_t i = 0; i < STREAM_N; i++) {
    memcpy(msg, &i, sizeof i);
    assert_int_equal(seal1(s, msg, SMALL, all + (size_t)i * SEALED_SMALL, SEALED_SMALL),
                     (int)SEALED_SMALL);
  }
  /* delivery order: mostly in order; sometimes hold a packet back and
   * deliver it much later; drop a long run once (> W); duplicate some */
  uint32_t n = 0;
  uint32_t held[64], nheld = 0;
  for (uint32_t i = 0; i < STREAM_N; i++) {
    if (i == 150000) i += BF_SEAL_REPLAY_WINDOW + 10; /* jump over a whole window */
    if (i >= STREAM_N) break;
    const uint32_t r = bf_test_rng_below(&rng, 1000);
    if (r < 3 && nheld < 64) {
      held[nheld++] = i;
      continue;
    }
    order[n++] = i;
    if (r < 20) order[n++] = i - bf_test_rng_below(&rng, i < 200 ? i + 1 : 200); /* dup */
    if (nheld && bf_test_rng_below(&rng, 4000) == 0) {
      /* release everything held: some inside the window, some beyond */
      for (uint32_t h = 0; h < nheld; h++)
        order[n++] = held[h];
      nheld = 0;
    }
    if (bf_test_rng_below(&rng, 20000) == 0) order[n++] = bf_test_rng_below(&rng, i + 1);
  }
  for (uint32_t h = 0; h < nheld; h++)
    order[n++] = held[h];
  assert_true(n < 2u * STREAM_N);

  uint64_t top = 0, want_ok = 0, want_old = 0, want_dup = 0;
  int have = 0;
  uint8_t out[SMALL];
  for (uint32_t j = 0; j < n; j++) {
    const uint32_t i = order[j];
    int want;
    if (!have || i > top)
      want = 0;
    else if (top - i >= BF_SEAL_REPLAY_WINDOW)
      want = -ESTALE;
    else if (accepted[i])
      want = -EALREADY;
    else
      want = 0;
    uint64_t seq = 0;
    const int rc =
        bf_opener_open(o, all + (size_t)i * SEALED_SMALL, SEALED_SMALL, out, sizeof out, &seq);
    if (want == 0) {
      assert_int_equal(rc, (int)SMALL);
      assert_int_equal(seq, first + i);
      uint32_t got;
      memcpy(&got, out, sizeof got);
      assert_int_equal(got, i);
      accepted[i] = 1;
      if (!have || i > top) top = i;
      have = 1;
      want_ok++;
    } else {
      assert_int_equal(rc, want);
      if (want == -ESTALE)
        want_old++;
      else
        want_dup++;
    }
  }
  const bf_opener_stats st = stats(o);
  assert_int_equal(st.opened, want_ok);
  assert_int_equal(st.replay_old, want_old);
  assert_int_equal(st.replay_dup, want_dup);
  assert_true(want_old > 0 && want_dup > 0);
  free(all);
  free(accepted);
  free(order);
  bf_sealer_del(&s);
  bf_opener_del(&o);
}

/* ---- seq near 2^64 ------------------------------------------------------- */

static void test_seq_exhaustion(void **state) {
  (void)state;
  bf_seal_key k;
  test_key(&k, 7);
  bf_sealer *s = new_sealer(&k, BF_SEAL_S2C, UINT64_MAX - 2);
  bf_sealer *low = new_sealer(&k, BF_SEAL_S2C, 0);
  bf_opener *o = new_opener(&k, BF_SEAL_S2C, 1);
  uint8_t msg[4] = {1, 2, 3, 4}, d[3][28], z[28], out[4];
  for (int i = 0; i < 3; i++)
    assert_int_equal(seal1(s, msg, 4, d[i], 28), 28);
  static const uint8_t max_be[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  assert_memory_equal(d[2], max_be, 8);
  /* seq 2^64-1 was the last one: refused from now on, for good */
  assert_int_equal(seal1(s, msg, 4, z, 28), -EOVERFLOW);
  assert_int_equal(seal1(s, msg, 4, z, 28), -EOVERFLOW);
  uint64_t seq;
  assert_int_equal(bf_opener_open(o, d[2], 28, out, 4, &seq), 4);
  assert_int_equal(seq, UINT64_MAX);
  assert_int_equal(bf_opener_open(o, d[0], 28, out, 4, &seq), 4);
  assert_int_equal(seq, UINT64_MAX - 2);
  assert_int_equal(bf_opener_open(o, d[1], 28, out, 4, &seq), 4);
  assert_int_equal(bf_opener_open(o, d[2], 28, out, 4, NULL), -EALREADY);
  /* seq 0 after 2^64-1 is not "newer": no wrap on the receiving side either */
  assert_int_equal(seal1(low, msg, 4, z, 28), 28);
  assert_int_equal(bf_opener_open(o, z, 28, out, 4, NULL), -ESTALE);
  bf_sealer_del(&s);
  bf_sealer_del(&low);
  bf_opener_del(&o);
}

/* ---- no allocation on the hot path --------------------------------------- */

static void test_no_alloc(void **state) {
  (void)state;
  if (!g_counting) {
    /* Cannot happen unless something used OpenSSL before main: say so. */
    fail_msg("CRYPTO_set_mem_functions did not take effect");
  }
  bf_seal_key k;
  test_key(&k, 8);
  bf_sealer *s = new_sealer(&k, BF_SEAL_S2C, 1);
  bf_opener *o = new_opener(&k, BF_SEAL_S2C, 1);
  bf_opener *other = new_opener(&k, BF_SEAL_C2S, 1);
  static uint8_t head[BF_HEADER_BYTES], body[BF_DEFAULT_SHARD_V4], d[2000], out[2000];
  const bf_dgram dg = {head, sizeof head, body, sizeof body};
  /* one warm-up round through every path */
  int n = bf_sealer_seal(s, &dg, d, sizeof d);
  assert_int_equal(bf_opener_open(o, d, (size_t)n, out, sizeof out, NULL), 1448);
  assert_int_equal(bf_opener_open(other, d, (size_t)n, out, sizeof out, NULL), -EBADMSG);
  const unsigned long before = g_allocs;
  for (int i = 0; i < 2000; i++) {
    head[0] = (uint8_t)i;
    n = bf_sealer_seal(s, &dg, d, sizeof d);
    assert_int_equal(n, 1472);
    if (i % 2)
      assert_int_equal(bf_opener_open(o, d, (size_t)n, out, sizeof out, NULL), 1448);
    else
      assert_int_equal(bf_opener_open_inplace(o, d, (size_t)n, NULL), 1448);
    /* a replay is turned away before decryption */
    assert_int_equal(bf_opener_open(o, d, (size_t)n, out, sizeof out, NULL), -EALREADY);
    assert_int_equal(bf_opener_open(other, d, 40, out, sizeof out, NULL), -EBADMSG);
  }
  assert_int_equal(g_allocs, before);
  bf_sealer_del(&s);
  bf_opener_del(&o);
  bf_opener_del(&other);
}


/* The key file of sealed direct mode: 64 hex digits, white space around. */
static void test_secret_file(void **state) {
  (void)state;
  char path[] = "/tmp/bf-seal-secret-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  close(fd);
  uint8_t out[32];
  char err[256];
  FILE *f = fopen(path, "w");
  fputs("  000102030405060708090a0b0c0d0e0f"
        "101112131415161718191A1B1C1D1E1F\n", f);
  fclose(f);
  assert_int_equal(bf_seal_secret_read_file(path, out, err, sizeof err), 0);
  for (int i = 0; i < 32; i++) assert_int_equal(out[i], i);
  f = fopen(path, "w");
  fputs("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1", f); /* 63 */
  fclose(f);
  assert_int_equal(bf_seal_secret_read_file(path, out, err, sizeof err), -EINVAL);
  assert_non_null(strstr(err, path));
  f = fopen(path, "w");
  fputs("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f00", f); /* 66 */
  fclose(f);
  assert_int_equal(bf_seal_secret_read_file(path, out, err, sizeof err), -EINVAL);
  unlink(path);
  assert_int_equal(bf_seal_secret_read_file(path, out, err, sizeof err), -ENOENT);
  assert_non_null(strstr(err, "cannot open"));
}

int main(void) {
  /* Before any other OpenSSL call, so every allocation it makes is counted. */
  g_counting = CRYPTO_set_mem_functions(count_malloc, count_realloc, count_free);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_published_vectors), cmocka_unit_test(test_layout),
      cmocka_unit_test(test_nonce_and_aad),     cmocka_unit_test(test_derive),
      cmocka_unit_test(test_roundtrip),         cmocka_unit_test(test_gather_shapes),
      cmocka_unit_test(test_bad_tag),           cmocka_unit_test(test_short_oversize),
      cmocka_unit_test(test_seal_errors),       cmocka_unit_test(test_replay_basic),
      cmocka_unit_test(test_replay_model),      cmocka_unit_test(test_seq_exhaustion),
      cmocka_unit_test(test_no_alloc),
      cmocka_unit_test(test_secret_file),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
