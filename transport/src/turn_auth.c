/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * TURN client credentials: the long-term mechanism's attributes on a
 * request, the challenge of a 401 or 438 (realm, nonce, password
 * algorithms, the key), TURN REST user names and passwords. See
 * bildfunk/turn.h.
 */
#include "turn_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

static uint16_t get16(const uint8_t *p) {
  return (uint16_t)((p[0] << 8) | p[1]);
}

/* TURN REST (draft-uberti-behave-turn-rest): user name "<expiry>:<user>",
 * password base64(HMAC-SHA1(secret, user name)). */
int bf__turn_rest_credentials(bf_turn *t, const bf_turn_config *cfg) {
  uint32_t ttl = cfg->rest_ttl_s ? cfg->rest_ttl_s : DEFAULT_REST_TTL;
  int n =
      cfg->user && cfg->user[0]
          ? snprintf(t->user, sizeof t->user, "%" PRIu64 ":%s", cfg->unix_time_s + ttl, cfg->user)
          : snprintf(t->user, sizeof t->user, "%" PRIu64, cfg->unix_time_s + ttl);
  if (n < 0 || (size_t)n >= BF_TURN_USER_MAX) return -EINVAL;
  uint8_t mac[EVP_MAX_MD_SIZE];
  size_t mac_len = 0;
  if (!EVP_Q_mac(NULL, "HMAC", NULL, "SHA1", NULL, cfg->secret, strlen(cfg->secret),
                 (const uint8_t *)t->user, (size_t)n, mac, sizeof mac, &mac_len))
    return -EIO;
  EVP_EncodeBlock((uint8_t *)t->pass, mac, (int)mac_len);
  OPENSSL_cleanse(mac, sizeof mac);
  t->rest = 1;
  return 0;
}

int bf__turn_new_txid(bf_turn *t, uint8_t txid[BF_STUN_TXID_BYTES]) {
  if (t->cfg.rand) {
    t->cfg.rand(t->cfg.rand_user, txid, BF_STUN_TXID_BYTES);
    return 0;
  }
  return RAND_bytes(txid, BF_STUN_TXID_BYTES) == 1 ? 0 : -EIO;
}

/* USERNAME, REALM, NONCE, the password algorithm attributes and the
 * integrity attribute (RFC 8489 §9.2.4). */
void bf__turn_put_credentials(bf_turn *t, bf_stun_builder *b) {
  bf_stun_put(b, BF_STUN_A_USERNAME, t->user, strlen(t->user));
  bf_stun_put(b, BF_STUN_A_REALM, t->realm, t->realm_len);
  bf_stun_put(b, BF_STUN_A_NONCE, t->nonce, t->nonce_len);
  if (t->algs_len) {
    uint8_t alg[4] = {0, (uint8_t)t->alg, 0, 0};
    bf_stun_put(b, BF_STUN_A_PASSWORD_ALGORITHMS, t->algs, t->algs_len);
    bf_stun_put(b, BF_STUN_A_PASSWORD_ALGORITHM, alg, sizeof alg);
  }
  bf_stun_put_integrity(b, t->alg, t->key, t->key_len);
}

/* REALM, NONCE and PASSWORD-ALGORITHMS of a 401 or 438; derives the key.
 * 0 or negative errno (missing or oversized attributes). */
int bf__turn_take_challenge(bf_turn *t, const bf_stun_msg *m) {
  const bf_stun_attr *realm = bf_stun_find(m, BF_STUN_A_REALM);
  const bf_stun_attr *nonce = bf_stun_find(m, BF_STUN_A_NONCE);
  const bf_stun_attr *algs = bf_stun_find(m, BF_STUN_A_PASSWORD_ALGORITHMS);
  if (!nonce || nonce->len > sizeof t->nonce || (realm && realm->len > sizeof t->realm))
    return -EBADMSG;
  if (!realm && !t->realm_len) return -EBADMSG;
  if (algs && algs->len > sizeof t->algs) return -EBADMSG;
  memcpy(t->nonce, bf_stun_value(m, nonce), nonce->len);
  t->nonce_len = nonce->len;
  if (realm) {
    memcpy(t->realm, bf_stun_value(m, realm), realm->len);
    t->realm_len = realm->len;
  }
  t->algs_len = 0;
  t->alg = BF_STUN_ALG_MD5;
  if (algs) { /* take SHA-256 when offered (RFC 8489 §9.2.4) */
    const uint8_t *v = bf_stun_value(m, algs);
    for (size_t o = 0; o + 4 <= algs->len;) {
      if (get16(v + o) == BF_STUN_ALG_SHA256) t->alg = BF_STUN_ALG_SHA256;
      o += 4 + ((get16(v + o + 2) + 3u) & ~3u);
    }
    memcpy(t->algs, v, algs->len);
    t->algs_len = algs->len;
  }
  int n = bf_stun_long_term_key(t->alg, (const uint8_t *)t->user, strlen(t->user), t->realm,
                                t->realm_len, (const uint8_t *)t->pass, strlen(t->pass), t->key);
  if (n < 0) return n;
  t->key_len = (size_t)n;
  return 0;
}
