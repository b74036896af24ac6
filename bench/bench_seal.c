/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * bildfunk-bench seal: AES-128-GCM seal and open cost per video packet
 * (40-byte header + 1408-byte shard, gathered from two pieces the way the
 * sender hands them over), for the library's sealer/opener (one context per
 * direction, keyed once, IV-only re-init per packet) against a full
 * EVP_EncryptInit_ex2(cipher, key, iv) per packet — with the cipher fetched
 * once, and with the legacy EVP_aes_128_gcm() that OpenSSL 3 re-fetches
 * implicitly on every init — all in the same run, reps interleaved.
 *
 * Packets go through a ring of 64 slots (what one sendmmsg / recvmmsg batch
 * holds, cache-warm): per batch, 64 seals are timed, then 64 opens of those
 * datagrams are timed. The re-init opener only decrypts and checks the tag;
 * the library's opener also runs the replay window. Each rep starts fresh
 * sealers and openers (untimed) so seqs are new to the replay window.
 */
#include "bench.h"

#include <bildfunk/seal.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "endian.h"

#define RING 64u

/* ---- full re-init per packet (what the library avoids) ------------------- */

typedef struct reinit {
  EVP_CIPHER_CTX *ctx;
  const EVP_CIPHER *cipher; /* fetched once, or the legacy implicit one */
  uint8_t key[BF_SEAL_KEY_BYTES];
  uint8_t salt[BF_SEAL_SALT_BYTES];
  uint64_t seq;
} reinit;

static void nonce_of(const reinit *r, uint64_t seq, uint8_t nonce[12]) {
  memcpy(nonce, r->salt, 4);
  bf__put_be64(nonce + 4, seq);
}

static int reinit_seal(reinit *r, const bf_dgram *in, uint8_t *out) {
  uint8_t nonce[12];
  nonce_of(r, r->seq, nonce);
  bf__put_be64(out, r->seq++);
  uint8_t *ct = out + 8;
  int n = 0, t = 0;
  if (!EVP_EncryptInit_ex2(r->ctx, r->cipher, r->key, nonce, NULL)) return -EIO;
  if (!EVP_EncryptUpdate(r->ctx, NULL, &n, out, 8)) return -EIO;
  if (!EVP_EncryptUpdate(r->ctx, ct, &n, in->head, (int)in->head_len)) return -EIO;
  t += n;
  if (!EVP_EncryptUpdate(r->ctx, ct + t, &n, in->body, (int)in->body_len)) return -EIO;
  t += n;
  if (!EVP_EncryptFinal_ex(r->ctx, ct + t, &n)) return -EIO;
  t += n;
  if (EVP_CIPHER_CTX_ctrl(r->ctx, EVP_CTRL_AEAD_GET_TAG, 16, ct + t) <= 0) return -EIO;
  return t + 24;
}

static int reinit_open(reinit *r, const uint8_t *d, size_t len, uint8_t *out) {
  if (len < 25) return -EMSGSIZE;
  const size_t plain = len - 24;
  uint8_t nonce[12], tag[16];
  nonce_of(r, bf__get_be64(d), nonce);
  memcpy(tag, d + 8 + plain, 16);
  int n = 0;
  if (!EVP_DecryptInit_ex2(r->ctx, r->cipher, r->key, nonce, NULL)) return -EIO;
  if (!EVP_DecryptUpdate(r->ctx, NULL, &n, d, 8)) return -EIO;
  if (!EVP_DecryptUpdate(r->ctx, out, &n, d + 8, (int)plain)) return -EIO;
  if (EVP_CIPHER_CTX_ctrl(r->ctx, EVP_CTRL_AEAD_SET_TAG, 16, tag) <= 0) return -EIO;
  if (EVP_DecryptFinal_ex(r->ctx, out + plain, &n) <= 0) return -EBADMSG;
  return (int)plain;
}

/* ---- the run ------------------------------------------------------------- */

enum { V_REUSED, V_REINIT_FETCHED, V_REINIT_IMPLICIT, V_COUNT };
static const char *const vname[V_COUNT] = {"reused_ctx", "full_reinit_fetched",
                                           "full_reinit_implicit"};

typedef struct bufs {
  uint8_t head[BF_HEADER_BYTES];
  uint8_t *body;
  uint8_t *ring;  /* RING sealed datagrams */
  uint8_t *plain; /* one plaintext out slot per ring slot */
  size_t slot;
} bufs;

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* One rep of variant |v| over |packets| packets; adds ns to |*seal_ns| and
 * |*open_ns|. */
static int run_rep(int v, const bf_seal_key *k, const EVP_CIPHER *fetched, bufs *b, size_t shard,
                   uint32_t packets, uint64_t *seal_ns, uint64_t *open_ns) {
  bf_sealer *s = NULL;
  bf_opener *o = NULL;
  reinit rs = {0}, ro = {0};
  int rc = 0;
  if (v == V_REUSED) {
    if ((rc = bf_sealer_new(k, BF_SEAL_S2C, 1, &s)) || (rc = bf_opener_new(k, BF_SEAL_S2C, 1, &o)))
      goto out;
  } else {
    const EVP_CIPHER *c = v == V_REINIT_FETCHED ? fetched : EVP_aes_128_gcm();
    rs.ctx = EVP_CIPHER_CTX_new();
    ro.ctx = EVP_CIPHER_CTX_new();
    if (!rs.ctx || !ro.ctx) {
      rc = -ENOMEM;
      goto out;
    }
    rs.cipher = ro.cipher = c;
    memcpy(rs.key, k->key, sizeof rs.key);
    memcpy(ro.key, k->key, sizeof ro.key);
    memcpy(rs.salt, k->salt, sizeof rs.salt); /* derive() set the S2C bit */
    memcpy(ro.salt, k->salt, sizeof ro.salt);
    rs.seq = 1;
  }
  const size_t len = BF_HEADER_BYTES + shard + BF_SEAL_OVERHEAD;
  const bf_dgram dg = {b->head, BF_HEADER_BYTES, b->body, shard};
  int lens[RING];
  for (uint32_t done = 0; done < packets; done += RING) {
    uint64_t t0 = bf_bench_now_ns();
    for (uint32_t j = 0; j < RING; j++) {
      uint8_t *d = b->ring + (size_t)j * BF_MAX_DATAGRAM;
      lens[j] = s ? bf_sealer_seal(s, &dg, d, BF_MAX_DATAGRAM) : reinit_seal(&rs, &dg, d);
    }
    uint64_t t1 = bf_bench_now_ns();
    for (uint32_t j = 0; j < RING; j++) {
      const uint8_t *d = b->ring + (size_t)j * BF_MAX_DATAGRAM;
      uint8_t *p = b->plain + (size_t)j * BF_MAX_DATAGRAM;
      lens[j] = o ? bf_opener_open(o, d, (size_t)lens[j], p, BF_MAX_DATAGRAM, NULL)
                  : reinit_open(&ro, d, (size_t)lens[j], p);
    }
    uint64_t t2 = bf_bench_now_ns();
    *seal_ns += t1 - t0;
    *open_ns += t2 - t1;
    for (uint32_t j = 0; j < RING; j++)
      if (lens[j] != (int)(len - BF_SEAL_OVERHEAD)) {
        fprintf(stderr, "bench seal: %s: packet failed (%d)\n", vname[v], lens[j]);
        rc = -EIO;
        goto out;
      }
  }
out:
  bf_sealer_del(&s);
  bf_opener_del(&o);
  EVP_CIPHER_CTX_free(rs.ctx);
  EVP_CIPHER_CTX_free(ro.ctx);
  return rc;
}

/* The re-init path must produce the library's bytes, or the comparison is
 * meaningless. */
static int cross_check(const bf_seal_key *k, const EVP_CIPHER *fetched, bufs *b, size_t shard) {
  bf_sealer *s = NULL;
  int rc = bf_sealer_new(k, BF_SEAL_S2C, 1234, &s);
  if (rc) return rc;
  reinit r = {.ctx = EVP_CIPHER_CTX_new(), .cipher = fetched, .seq = 1234};
  memcpy(r.key, k->key, sizeof r.key);
  memcpy(r.salt, k->salt, sizeof r.salt);
  const bf_dgram dg = {b->head, BF_HEADER_BYTES, b->body, shard};
  uint8_t *a = b->ring, *c = b->ring + BF_MAX_DATAGRAM;
  int na = bf_sealer_seal(s, &dg, a, BF_MAX_DATAGRAM);
  int nc = r.ctx ? reinit_seal(&r, &dg, c) : -ENOMEM;
  if (na <= 0 || na != nc || memcmp(a, c, (size_t)na) != 0) rc = -EIO;
  if (!rc && reinit_open(&r, a, (size_t)na, b->plain) != na - (int)BF_SEAL_OVERHEAD) rc = -EIO;
  EVP_CIPHER_CTX_free(r.ctx);
  bf_sealer_del(&s);
  return rc;
}

static void usage(FILE *out) {
  fprintf(out, "usage: bildfunk-bench seal [--packets N] [--reps R] [--shard S]\n\n"
               "AES-128-GCM seal/open ns per packet (40-byte header + S-byte shard),\n"
               "library context reuse vs a full EVP re-init per packet, same run.\n\n"
               "  --packets N   packets per rep and variant (default 32768)\n"
               "  --reps R      reps, the median is reported (default 9)\n"
               "  --shard S     shard bytes (default 1408)\n");
}

static int parse_u32(const char *s, uint32_t lo, uint32_t hi, uint32_t *v) {
  char *end;
  unsigned long x = strtoul(s, &end, 10);
  if (*end || x < lo || x > hi) return -1;
  *v = (uint32_t)x;
  return 0;
}

int bf_bench_seal(int argc, char **argv) {
  uint32_t packets = 32768, reps = 9, shard = BF_DEFAULT_SHARD_V4;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      usage(stdout);
      return 0;
    }
    const char *opt = argv[i];
    uint32_t *dst = !strcmp(opt, "--packets") ? &packets
                    : !strcmp(opt, "--reps")  ? &reps
                    : !strcmp(opt, "--shard") ? &shard
                                              : NULL;
    uint32_t lo = dst == &shard ? 1 : dst == &reps ? 1 : RING;
    uint32_t hi = dst == &shard  ? BF_SEAL_MAX_PLAIN - BF_HEADER_BYTES
                  : dst == &reps ? 101
                                 : 1u << 24;
    if (!dst || i + 1 >= argc || parse_u32(argv[++i], lo, hi, dst)) {
      fprintf(stderr, "bench seal: bad option '%s'\n", opt);
      usage(stderr);
      return 2;
    }
  }
  packets = (packets + RING - 1) / RING * RING;

  uint8_t secret[BF_SEAL_EXPORTER_BYTES];
  for (size_t i = 0; i < sizeof secret; i++)
    secret[i] = (uint8_t)(i * 37 + 11);
  bf_seal_key s2c, c2s;
  int rc = bf_seal_derive(secret, sizeof secret, &s2c, &c2s);
  bufs b = {.body = malloc(shard),
            .ring = malloc((size_t)RING * BF_MAX_DATAGRAM),
            .plain = malloc((size_t)RING * BF_MAX_DATAGRAM)};
  EVP_CIPHER *fetched = EVP_CIPHER_fetch(NULL, "AES-128-GCM", NULL);
  double *ns = malloc(sizeof(double) * 2 * V_COUNT * reps);
  if (!rc && (!b.body || !b.ring || !b.plain || !ns || !fetched)) rc = -ENOMEM;
  if (!rc) {
    for (size_t i = 0; i < BF_HEADER_BYTES; i++)
      b.head[i] = (uint8_t)i;
    for (size_t i = 0; i < shard; i++)
      b.body[i] = (uint8_t)(i * 7);
    rc = cross_check(&s2c, fetched, &b, shard);
    if (rc) fprintf(stderr, "bench seal: re-init path disagrees with the library\n");
  }
  /* one untimed warm-up rep per variant, then |reps| interleaved */
  for (int rep = -1; !rc && rep < (int)reps; rep++)
    for (int v = 0; !rc && v < V_COUNT; v++) {
      uint64_t sn = 0, on = 0;
      rc = run_rep(v, &s2c, fetched, &b, shard, rep < 0 ? RING * 16 : packets, &sn, &on);
      if (rep >= 0) {
        ns[(size_t)(2 * v) * reps + (size_t)rep] = (double)sn / packets;
        ns[(size_t)(2 * v + 1) * reps + (size_t)rep] = (double)on / packets;
      }
    }
  if (rc) {
    fprintf(stderr, "bench seal: failed: %s\n", bf_strerror(rc));
  } else {
    double med[2 * V_COUNT], mn[2 * V_COUNT];
    for (int i = 0; i < 2 * V_COUNT; i++) {
      qsort(ns + (size_t)i * reps, reps, sizeof(double), cmp_double);
      med[i] = ns[(size_t)i * reps + reps / 2];
      mn[i] = ns[(size_t)i * reps];
    }
    const size_t plain = BF_HEADER_BYTES + shard;
    const double bits = (double)plain * 8.0;
    printf("{\"bench\": \"seal\", \"cipher\": \"AES-128-GCM\", \"openssl\": \"%s\", "
           "\"plaintext_bytes\": %zu, \"sealed_bytes\": %zu, \"packets_per_rep\": %u, "
           "\"reps\": %u,",
           OpenSSL_version(OPENSSL_VERSION), plain, plain + BF_SEAL_OVERHEAD, packets, reps);
    for (int v = 0; v < V_COUNT; v++)
      printf("\n \"%s\": {\"seal_ns\": %.1f, \"seal_ns_min\": %.1f, \"open_ns\": %.1f, "
             "\"open_ns_min\": %.1f, \"seal_gbps\": %.2f, \"open_gbps\": %.2f},",
             vname[v], med[2 * v], mn[2 * v], med[2 * v + 1], mn[2 * v + 1], bits / med[2 * v],
             bits / med[2 * v + 1]);
    printf("\n \"reinit_fetched_vs_reused\": {\"seal\": %.2f, \"open\": %.2f},"
           "\n \"reinit_implicit_vs_reused\": {\"seal\": %.2f, \"open\": %.2f},\n ",
           med[2 * V_REINIT_FETCHED] / med[0], med[2 * V_REINIT_FETCHED + 1] / med[1],
           med[2 * V_REINIT_IMPLICIT] / med[0], med[2 * V_REINIT_IMPLICIT + 1] / med[1]);
    bf_bench_print_machine(stdout);
    printf("}\n");
  }
  bf_seal_key_wipe(&s2c);
  bf_seal_key_wipe(&c2s);
  EVP_CIPHER_free(fetched);
  free(b.body);
  free(b.ring);
  free(b.plain);
  free(ns);
  return rc ? 1 : 0;
}
