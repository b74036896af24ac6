/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Loopback transport pair: delivery both ways with the sender's address, the
 * deterministic drop / duplicate / reorder patterns (exact arrival order),
 * seeded random loss, a full queue as a counted local drop, oversize
 * datagrams, address changes, closing one end, and a producer and a consumer
 * thread moving 200k datagrams in order.
 */
#include "testutil.h"

#include <bildfunk/loopback.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#if defined(_WIN32)
#include <windows.h>
#else
#include <pthread.h>
#endif

static bf_dgram dg(const uint8_t *p, size_t len) {
  bf_dgram d = {p, len < 4 ? len : 4, len > 4 ? p + 4 : NULL, len > 4 ? len - 4 : 0};
  return d;
}

static void put32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}

static uint32_t get32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Sends datagrams 0..n-1 (4-byte index + |extra| bytes) from |t|. */
static void send_seq(bf_transport *t, uint32_t n, size_t extra) {
  uint8_t buf[64];
  memset(buf, 0xab, sizeof buf);
  for (uint32_t i = 0; i < n; i++) {
    put32(buf, i);
    bf_dgram d = dg(buf, 4 + extra);
    assert_int_equal(bf_send(t, &d), 1);
  }
}

/* Receives everything pending on |t| into |out| (indices); returns count. */
static size_t drain(bf_transport *t, uint32_t *out, size_t cap) {
  bf_recv_ring ring;
  assert_int_equal(bf_recv_ring_init(&ring, 16, 0), 0);
  size_t n = 0;
  int r;
  while ((r = bf_recv_batch(t, &ring)) > 0)
    for (int i = 0; i < r; i++) {
      assert_true(n < cap);
      out[n++] = get32(ring.slots[i].data);
    }
  assert_int_equal(r, 0);
  bf_recv_ring_free(&ring);
  return n;
}

static void test_basic(void **state) {
  (void)state;
  bf_transport *a, *b;
  assert_int_equal(bf_loopback_pair(NULL, &a, &b), 0);
  assert_int_equal(a->fd, -1);
  bf_addr aa, ba, from;
  assert_int_equal(bf_transport_local_addr(a, &aa), 0);
  assert_int_equal(bf_transport_local_addr(b, &ba), 0);
  assert_true(bf_addr_equal(&a->peer, &ba));
  assert_true(bf_addr_equal(&b->peer, &aa));
  assert_false(bf_addr_equal(&aa, &ba));
  assert_int_equal(bf_transport_wait(b, 5), 0);
  uint8_t msg[300], got[BF_RECV_BUF_BYTES];
  for (size_t i = 0; i < sizeof msg; i++)
    msg[i] = (uint8_t)(i * 3);
  bf_dgram d = {msg, 40, msg + 40, 260};
  assert_int_equal(bf_send(a, &d), 1);
  assert_int_equal(bf_transport_wait(b, 0), 1);
  assert_int_equal(bf_recv(b, got, sizeof got, &from), 300);
  assert_memory_equal(got, msg, 300);
  assert_true(bf_addr_equal(&from, &aa));
  assert_int_equal(bf_recv(b, got, sizeof got, &from), 0);
  /* the other way, batched */
  bf_dgram ds[3] = {dg(msg, 10), dg(msg, 20), dg(msg, 30)};
  assert_int_equal(bf_send_batch(b, ds, 3), 3);
  assert_int_equal(bf_send_gso(b, ds, 3), 3);
  bf_recv_ring ring;
  assert_int_equal(bf_recv_ring_init(&ring, 4, 0), 0);
  assert_int_equal(bf_recv_batch(a, &ring), 4);
  assert_int_equal(ring.slots[0].len, 10);
  assert_int_equal(ring.slots[3].len, 10);
  assert_true(bf_addr_equal(ring.slots[2].from, &ba));
  assert_int_equal(bf_recv_batch(a, &ring), 2);
  assert_int_equal(ring.slots[1].len, 30);
  assert_int_equal(bf_recv_batch(a, &ring), 0);
  assert_int_equal(a->stats.rx_packets, 6);
  assert_int_equal(b->stats.tx_packets, 6);
  /* no peer -> -EDESTADDRREQ, as on a socket */
  bf_transport_set_peer(a, NULL);
  assert_int_equal(bf_send(a, &d), -EDESTADDRREQ);
  bf_recv_ring_free(&ring);
  bf_transport_close(&a);
  bf_transport_close(&b);
}

static void test_patterns(void **state) {
  (void)state;
  bf_transport *a, *b;
  assert_int_equal(bf_loopback_pair(NULL, &a, &b), 0);
  bf_loopback_pattern p = {0};
  p.period = 8;
  p.drop = 1u << 0;      /* 0, 8 lost */
  p.duplicate = 1u << 1; /* 1, 9 twice */
  p.reorder = 1u << 2;   /* 2, 10 after the next one */
  assert_int_equal(bf_loopback_set_pattern(a, &p), 0);
  send_seq(a, 16, 8);
  uint32_t got[64];
  size_t n = drain(b, got, 64);
  static const uint32_t want[] = {1, 1, 3, 2, 4, 5, 6, 7, 9, 9, 11, 10, 12, 13, 14, 15};
  assert_int_equal(n, sizeof want / sizeof want[0]);
  for (size_t i = 0; i < n; i++)
    assert_int_equal(got[i], want[i]);
  bf_loopback_counters c;
  assert_int_equal(bf_loopback_get_counters(a, &c), 0);
  assert_int_equal(c.offered, 16);
  assert_int_equal(c.dropped, 2);
  assert_int_equal(c.duplicated, 2);
  assert_int_equal(c.reordered, 2);
  assert_int_equal(a->stats.tx_dropped, 0); /* network loss is not a local drop */
  /* a reordered last datagram waits for flush */
  p.period = 4;
  p.drop = p.duplicate = 0;
  p.reorder = 1u << 3;
  assert_int_equal(bf_loopback_set_pattern(a, &p), 0);
  send_seq(a, 4, 0);
  n = drain(b, got, 64);
  assert_int_equal(n, 3);
  assert_int_equal(bf_loopback_flush(a), 1);
  assert_int_equal(bf_loopback_flush(a), 0);
  n = drain(b, got, 64);
  assert_int_equal(n, 1);
  assert_int_equal(got[0], 3);
  /* invalid patterns, non-loopback transports */
  p.period = 65;
  assert_int_equal(bf_loopback_set_pattern(a, &p), -EINVAL);
  p.period = 1;
  p.random_drop_ppm = 1000001;
  assert_int_equal(bf_loopback_set_pattern(a, &p), -EINVAL);
  assert_int_equal(bf_loopback_set_pattern(NULL, NULL), -EINVAL);
  assert_int_equal(bf_loopback_set_pattern(a, NULL), 0);
  send_seq(a, 5, 0);
  assert_int_equal(drain(b, got, 64), 5);
  bf_transport_close(&a);
  bf_transport_close(&b);
}

static size_t random_run(uint64_t seed, uint8_t *lost, uint32_t n) {
  bf_transport *a, *b;
  bf_loopback_config cfg = {0};
  cfg.depth = 16;
  assert_int_equal(bf_loopback_pair(&cfg, &a, &b), 0);
  bf_loopback_pattern p = {0};
  p.random_drop_ppm = 100000; /* 10 % */
  p.seed = seed;
  assert_int_equal(bf_loopback_set_pattern(a, &p), 0);
  memset(lost, 1, n);
  uint8_t buf[8];
  size_t received = 0;
  bf_recv_ring ring;
  assert_int_equal(bf_recv_ring_init(&ring, 16, 0), 0);
  for (uint32_t i = 0; i < n; i++) {
    put32(buf, i);
    bf_dgram d = dg(buf, 8);
    assert_int_equal(bf_send(a, &d), 1);
    int r = bf_recv_batch(b, &ring);
    for (int k = 0; k < r; k++) {
      lost[get32(ring.slots[k].data)] = 0;
      received++;
    }
  }
  bf_recv_ring_free(&ring);
  bf_transport_close(&a);
  bf_transport_close(&b);
  return received;
}

static void test_random_loss(void **state) {
  (void)state;
  enum { N = 20000 };
  uint8_t *l1 = malloc(N), *l2 = malloc(N), *l3 = malloc(N);
  size_t r1 = random_run(42, l1, N), r2 = random_run(42, l2, N), r3 = random_run(43, l3, N);
  assert_int_equal(r1, r2);
  assert_memory_equal(l1, l2, N); /* same seed, same losses */
  assert_true(memcmp(l1, l3, N) != 0);
  assert_true(r1 > N * 88 / 100 && r1 < N * 92 / 100);
  assert_true(r3 > N * 88 / 100 && r3 < N * 92 / 100);
  free(l1);
  free(l2);
  free(l3);
}

static void test_queue_full_and_oversize(void **state) {
  (void)state;
  bf_loopback_config cfg = {0};
  cfg.depth = 4;
  bf_transport *a, *b;
  assert_int_equal(bf_loopback_pair(&cfg, &a, &b), 0);
  uint8_t buf[16] = {0};
  bf_dgram d[6];
  for (uint32_t i = 0; i < 6; i++)
    d[i] = dg(buf, 16);
  assert_int_equal(bf_send_batch(a, d, 6), 4); /* stops at the full queue */
  assert_int_equal(a->stats.tx_dropped, 2);
  assert_int_equal(bf_send(a, &d[0]), 0);
  assert_int_equal(a->stats.tx_dropped, 3);
  bf_loopback_counters c;
  assert_int_equal(bf_loopback_get_counters(a, &c), 0);
  assert_true(c.queue_full >= 2);
  uint32_t got[8];
  assert_int_equal(drain(b, got, 8), 4);
  assert_int_equal(bf_send(a, &d[0]), 1);
  assert_int_equal(drain(b, got, 8), 1);
  /* oversize: dropped and counted by the receiver, not truncated */
  static uint8_t big[70000];
  put32(big, 77);
  bf_dgram o = {big, BF_MAX_DATAGRAM + 1, NULL, 0};
  bf_dgram ok = {big, BF_MAX_DATAGRAM, NULL, 0};
  bf_dgram huge = {big, sizeof big, NULL, 0};
  assert_int_equal(bf_send(a, &o), 1);
  assert_int_equal(bf_send(a, &ok), 1);
  assert_int_equal(bf_send(a, &huge), -EMSGSIZE);
  uint8_t rb[BF_RECV_BUF_BYTES];
  assert_int_equal(bf_recv(b, rb, sizeof rb, NULL), (int)BF_MAX_DATAGRAM);
  assert_int_equal(b->stats.rx_oversize, 1);
  /* a caller buffer too small for the datagram counts the same way */
  bf_dgram mid = {big, 500, NULL, 0};
  assert_int_equal(bf_send(a, &mid), 1);
  assert_int_equal(bf_recv(b, rb, 100, NULL), 0);
  assert_int_equal(b->stats.rx_oversize, 2);
  bf_transport_close(&a);
  bf_transport_close(&b);
}

static void test_addr_change_and_close(void **state) {
  (void)state;
  bf_transport *a, *b;
  bf_loopback_config cfg = {0};
  assert_int_equal(bf_addr_parse("10.0.0.2:5000", 0, &cfg.addr_a), 0);
  assert_int_equal(bf_loopback_pair(&cfg, &a, &b), 0);
  uint8_t buf[8] = {1, 2, 3, 4, 5, 6, 7, 8}, rb[BF_RECV_BUF_BYTES];
  bf_dgram d = dg(buf, 8);
  bf_addr from, moved;
  assert_int_equal(bf_send(a, &d), 1);
  assert_int_equal(bf_recv(b, rb, sizeof rb, &from), 8);
  assert_true(bf_addr_equal(&from, &cfg.addr_a));
  assert_int_equal(bf_addr_parse("10.0.0.2:5001", 0, &moved), 0);
  assert_int_equal(bf_loopback_set_addr(a, &moved), 0);
  assert_int_equal(bf_send(a, &d), 1);
  assert_int_equal(bf_recv(b, rb, sizeof rb, &from), 8);
  assert_true(bf_addr_equal(&from, &moved));
  memset(&moved, 0, sizeof moved);
  assert_int_equal(bf_loopback_set_addr(a, &moved), -EINVAL);
  /* datagrams queued for a closed end are freed with it; sends to it vanish */
  assert_int_equal(bf_send(a, &d), 1);
  bf_transport_close(&b);
  assert_int_equal(bf_send(a, &d), 1);
  bf_transport_close(&a);
}

/* ---- two threads ------------------------------------------------------- */

enum { THREAD_N = 200000 };

static void *producer(void *arg) {
  bf_transport *a = arg;
  uint8_t buf[32];
  memset(buf, 0x5a, sizeof buf);
  for (uint32_t i = 0; i < THREAD_N;) {
    put32(buf, i);
    bf_dgram d = dg(buf, 4 + (i % 28));
    int r = bf_send(a, &d);
    if (r == 1)
      i++; /* 0 = queue full: try again */
    else if (r < 0)
      return (void *)1;
  }
  return NULL;
}

#if defined(_WIN32)
static DWORD WINAPI producer_w(LPVOID arg) {
  return producer(arg) ? 1u : 0u;
}
#endif

static void test_threads(void **state) {
  (void)state;
  bf_loopback_config cfg = {0};
  cfg.depth = 64;
  bf_transport *a, *b;
  assert_int_equal(bf_loopback_pair(&cfg, &a, &b), 0);
#if defined(_WIN32)
  HANDLE th = CreateThread(NULL, 0, producer_w, a, 0, NULL);
  assert_non_null(th);
#else
  pthread_t th;
  assert_int_equal(pthread_create(&th, NULL, producer, a), 0);
#endif
  bf_recv_ring ring;
  assert_int_equal(bf_recv_ring_init(&ring, 32, 0), 0);
  uint32_t next = 0;
  while (next < THREAD_N) {
    int r = bf_recv_batch(b, &ring);
    assert_true(r >= 0);
    if (r == 0) {
      (void)bf_transport_wait(b, 100);
      continue;
    }
    for (int i = 0; i < r; i++) {
      assert_int_equal(get32(ring.slots[i].data), next);
      assert_int_equal(ring.slots[i].len, 4 + (next % 28));
      next++;
    }
  }
#if defined(_WIN32)
  WaitForSingleObject(th, INFINITE);
  CloseHandle(th);
#else
  void *ret;
  assert_int_equal(pthread_join(th, &ret), 0);
  assert_null(ret);
#endif
  assert_int_equal(b->stats.rx_packets, THREAD_N);
  assert_int_equal(bf_recv_batch(b, &ring), 0);
  bf_recv_ring_free(&ring);
  bf_transport_close(&a);
  bf_transport_close(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_basic),
      cmocka_unit_test(test_patterns),
      cmocka_unit_test(test_random_loss),
      cmocka_unit_test(test_queue_full_and_oversize),
      cmocka_unit_test(test_addr_change_and_close),
      cmocka_unit_test(test_threads),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
