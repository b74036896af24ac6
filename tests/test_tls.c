/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Sans-I/O TLS 1.3 endpoint: two endpoints wired in memory — handshake in
 * one-byte and whole-flight chunks, both fingerprints, app data both ways,
 * identical exporters and pairing codes on both ends and different ones in
 * another session, close_notify, garbage input, calls before the handshake.
 */
#include "testutil.h"

#include <bildfunk/identity.h>
#include <bildfunk/tls.h>

#include <errno.h>
#include <string.h>

typedef struct pair {
  bf_identity *ci, *si;
  bf_tls *c, *s;
} pair;

/* Moves everything one endpoint has written to the other, in chunks of at
 * most |chunk| bytes; returns the bytes moved. */
static size_t move(bf_tls *from, bf_tls *to, size_t chunk) {
  uint8_t buf[4096];
  size_t total = 0, n;
  if (chunk > sizeof buf) chunk = sizeof buf;
  while ((n = bf_tls_take_out(from, buf, chunk)) > 0) {
    assert_int_equal(bf_tls_feed(to, buf, n), 0);
    total += n;
  }
  return total;
}

static void pump(pair *p, size_t chunk) {
  for (int i = 0; i < 50; i++) {
    size_t a = move(p->c, p->s, chunk);
    size_t b = move(p->s, p->c, chunk);
    if (!a && !b) return;
  }
  fail_msg("pump did not settle");
}

static void pair_open(pair *p, size_t chunk) {
  memset(p, 0, sizeof *p);
  assert_int_equal(bf_identity_generate("test client", &p->ci), 0);
  assert_int_equal(bf_identity_generate("test sender", &p->si), 0);
  assert_int_equal(bf_tls_new(BF_TLS_CLIENT, p->ci, &p->c), 0);
  assert_int_equal(bf_tls_new(BF_TLS_SERVER, p->si, &p->s), 0);
  assert_true(bf_tls_pending_out(p->c) > 0); /* ClientHello ready */
  assert_int_equal(bf_tls_pending_out(p->s), 0);
  pump(p, chunk);
  assert_true(bf_tls_established(p->c));
  assert_true(bf_tls_established(p->s));
}

static void pair_close(pair *p) {
  bf_tls_del(&p->c);
  bf_tls_del(&p->s);
  bf_identity_del(&p->ci);
  bf_identity_del(&p->si);
  assert_null(p->c);
}

static void test_handshake_fingerprints(void **state) {
  (void)state;
  size_t chunks[] = {1, 7, 4096};
  for (size_t k = 0; k < 3; k++) {
    pair p;
    pair_open(&p, chunks[k]);
    uint8_t fc[BF_FP_BYTES], fs[BF_FP_BYTES], want[BF_FP_BYTES];
    assert_int_equal(bf_tls_peer_fp(p.c, fc), 0);
    assert_int_equal(bf_tls_peer_fp(p.s, fs), 0);
    bf_identity_fp(p.si, want);
    assert_memory_equal(fc, want, sizeof want); /* the client sees the sender's cert */
    bf_identity_fp(p.ci, want);
    assert_memory_equal(fs, want, sizeof want); /* and the sender the client's */
    assert_memory_not_equal(fc, fs, sizeof fc);
    pair_close(&p);
  }
}

static void test_app_data(void **state) {
  (void)state;
  pair p;
  pair_open(&p, 4096);
  uint8_t big[20000], got[20100];
  bf_test_rng rng;
  bf_test_rng_seed(&rng, 6);
  bf_test_rng_fill(&rng, big, sizeof big);
  assert_int_equal(bf_tls_write(p.c, big, sizeof big), 0);
  assert_int_equal(bf_tls_write(p.s, (const uint8_t *)"pong", 4), 0);
  pump(&p, 1000);
  size_t have = 0;
  int n;
  while ((n = bf_tls_read(p.s, got + have, sizeof got - have)) > 0)
    have += (size_t)n;
  assert_int_equal(n, -EAGAIN);
  assert_int_equal(have, sizeof big);
  assert_memory_equal(got, big, sizeof big);
  assert_int_equal(bf_tls_read(p.c, got, sizeof got), 4);
  assert_memory_equal(got, "pong", 4);
  /* The wire does not carry the plaintext. */
  assert_int_equal(bf_tls_write(p.c, (const uint8_t *)"SECRETSECRET", 12), 0);
  uint8_t wire[256];
  size_t w = bf_tls_take_out(p.c, wire, sizeof wire);
  assert_true(w > 12);
  assert_null(memmem(wire, w, "SECRET", 6));
  assert_int_equal(bf_tls_feed(p.s, wire, w), 0);
  assert_int_equal(bf_tls_read(p.s, got, sizeof got), 12);
  /* close_notify ends the peer's reads; our writes fail after shutdown. */
  bf_tls_shutdown(p.c);
  assert_int_equal(bf_tls_write(p.c, big, 1), -EPIPE);
  pump(&p, 4096);
  assert_int_equal(bf_tls_read(p.s, got, sizeof got), -EPIPE);
  pair_close(&p);
}

static void test_exporter_and_code(void **state) {
  (void)state;
  pair p, q;
  pair_open(&p, 4096);
  pair_open(&q, 4096);
  uint8_t a[32], b[32], c[32];
  assert_int_equal(bf_tls_export(p.c, "EXPORTER-bildfunk-seal-v1", a, 32), 0);
  assert_int_equal(bf_tls_export(p.s, "EXPORTER-bildfunk-seal-v1", b, 32), 0);
  assert_memory_equal(a, b, 32);
  assert_int_equal(bf_tls_export(p.s, "EXPORTER-bildfunk-other", c, 32), 0);
  assert_memory_not_equal(a, c, 32); /* the label matters */
  assert_int_equal(bf_tls_export(q.c, "EXPORTER-bildfunk-seal-v1", c, 32), 0);
  assert_memory_not_equal(a, c, 32); /* every session differs */
  pair_close(&p);
  pair_close(&q);
}

static void test_before_handshake_and_garbage(void **state) {
  (void)state;
  bf_identity *id = NULL;
  bf_tls *s = NULL, *c = NULL;
  assert_int_equal(bf_identity_generate(NULL, &id), 0);
  assert_int_equal(bf_tls_new(BF_TLS_SERVER, id, &s), 0);
  assert_int_equal(bf_tls_new(BF_TLS_CLIENT, id, &c), 0);
  uint8_t buf[64], fp[BF_FP_BYTES];
  assert_int_equal(bf_tls_export(s, "x", buf, 32), -EAGAIN);
  assert_int_equal(bf_tls_peer_fp(s, fp), -EAGAIN);
  assert_int_equal(bf_tls_write(c, buf, 4), -EAGAIN);
  assert_int_equal(bf_tls_read(c, buf, sizeof buf), -EAGAIN);
  assert_int_equal(bf_tls_new(BF_TLS_SERVER, NULL, &s), -EINVAL);
  /* Plain text where a ClientHello belongs: a TLS error, sticky, named. */
  static const char http[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  int rc = bf_tls_feed(s, (const uint8_t *)http, sizeof http - 1);
  assert_int_equal(rc, -EPROTO);
  assert_true(strlen(bf_tls_why(s)) > 0);
  assert_int_equal(bf_tls_feed(s, buf, 1), -EPROTO);
  assert_false(bf_tls_established(s));
  bf_tls_del(&s);
  bf_tls_del(&c);
  bf_tls_del(&c); /* NULL is fine */
  bf_identity_del(&id);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_handshake_fingerprints),
      cmocka_unit_test(test_app_data),
      cmocka_unit_test(test_exporter_and_code),
      cmocka_unit_test(test_before_handshake_and_garbage),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
