/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The pairing codes both ends show (bf_ctl_pair_code, bf_ctl_pair_codes:
 * see bildfunk/ctl_session.h and docs/security.md): one SHA-256 over the
 * TLS exporter and both nonces, two six-digit codes from it. Pure; the
 * session (ctl_session.c) calls it once per pairing. Needs libcrypto.
 */
#include <bildfunk/ctl_session.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

static void six_digits(const uint8_t h[8], char out[BF_PAIR_CODE_DIGITS + 1]) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; i++)
    v = v << 8 | h[i];
  /* 2^64 mod 10^6 leaves a bias below 1e-13: irrelevant. */
  snprintf(out, BF_PAIR_CODE_DIGITS + 1, "%06u", (unsigned)(v % 1000000u));
}

int bf_ctl_pair_codes(const uint8_t exporter[BF_CTL_PAIR_EXPORTER_BYTES],
                      const uint8_t n_c[BF_CTL_PAIR_NONCE_BYTES],
                      const uint8_t n_s[BF_CTL_PAIR_NONCE_BYTES],
                      char client_code[BF_PAIR_CODE_DIGITS + 1],
                      char sender_code[BF_PAIR_CODE_DIGITS + 1]) {
  if (!exporter || !n_c || !n_s || !client_code) return -EINVAL;
  uint8_t in[BF_CTL_PAIR_EXPORTER_BYTES + 2 * BF_CTL_PAIR_NONCE_BYTES], h[32];
  unsigned hl = 0;
  memcpy(in, exporter, BF_CTL_PAIR_EXPORTER_BYTES);
  memcpy(in + BF_CTL_PAIR_EXPORTER_BYTES, n_c, BF_CTL_PAIR_NONCE_BYTES);
  memcpy(in + BF_CTL_PAIR_EXPORTER_BYTES + BF_CTL_PAIR_NONCE_BYTES, n_s, BF_CTL_PAIR_NONCE_BYTES);
  int ok = EVP_Digest(in, sizeof in, h, &hl, EVP_sha256(), NULL) == 1 && hl == sizeof h;
  OPENSSL_cleanse(in, sizeof in);
  if (!ok) return -EIO;
  six_digits(h, client_code);
  if (sender_code) six_digits(h + 8, sender_code);
  OPENSSL_cleanse(h, sizeof h);
  return 0;
}

int bf_ctl_pair_code(const uint8_t exporter[BF_CTL_PAIR_EXPORTER_BYTES],
                     const uint8_t n_c[BF_CTL_PAIR_NONCE_BYTES],
                     const uint8_t n_s[BF_CTL_PAIR_NONCE_BYTES],
                     char out[BF_PAIR_CODE_DIGITS + 1]) {
  return bf_ctl_pair_codes(exporter, n_c, n_s, out, NULL);
}
