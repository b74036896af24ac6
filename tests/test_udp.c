/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * UDP transports over real loopback sockets: addresses; scalar, batched
 * (recvmmsg/sendmmsg), GSO and GRO paths deliver every datagram with its
 * boundaries; the offload latch and its fallback; oversize datagrams dropped,
 * not truncated; kernel receive drops and a full send buffer counted; DSCP
 * only toward private peers; no allocation on the hot paths. Runs on Linux and
 * (the portable part, USO latch included) on Windows under wine.
 */
#include "testutil.h"

#include <bildfunk/transport.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(_WIN32)
#include <windows.h>
#else
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <sched.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#endif

/* ---- helpers ----------------------------------------------------------- */

static uint64_t now_ms(void) {
#if defined(_WIN32)
  return (uint64_t)GetTickCount64();
#else
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
#endif
}

/* Datagram |i| of a test: 4-byte index then a pattern, |len| bytes. */
static void fill(uint8_t *p, size_t len, uint32_t i) {
  for (size_t j = 0; j < len; j++)
    p[j] = (uint8_t)(i * 31u + j * 7u + 1u);
  if (len >= 4) {
    p[0] = (uint8_t)i;
    p[1] = (uint8_t)(i >> 8);
    p[2] = (uint8_t)(i >> 16);
    p[3] = (uint8_t)(i >> 24);
  }
}

static void check(const uint8_t *p, size_t len, size_t want_len, uint32_t i) {
  assert_int_equal(len, want_len);
  uint8_t *exp = malloc(want_len ? want_len : 1);
  assert_non_null(exp);
  fill(exp, want_len, i);
  assert_memory_equal(p, exp, want_len);
  free(exp);
}

typedef struct pair {
  bf_transport *tx, *rx;
  bf_addr rx_addr;
} pair;

static void open_pair(pair *p, const bf_udp_config *txc, const bf_udp_config *rxc) {
  bf_udp_config d;
  bf_udp_config_default(&d);
  d.bind = "127.0.0.1:0";
  d.quiet = 1;
  bf_udp_config a = txc ? *txc : d, b = rxc ? *rxc : d;
  if (!a.bind) a.bind = "127.0.0.1:0";
  if (!b.bind) b.bind = "127.0.0.1:0";
  a.quiet = b.quiet = 1;
  assert_int_equal(bf_udp_open(&a, &p->tx), 0);
  assert_int_equal(bf_udp_open(&b, &p->rx), 0);
  assert_int_equal(bf_transport_local_addr(p->rx, &p->rx_addr), 0);
  bf_transport_set_peer(p->tx, &p->rx_addr);
}

static void close_pair(pair *p) {
  bf_transport_close(&p->tx);
  bf_transport_close(&p->rx);
  assert_null(p->tx);
}

/* Datagrams for a test, built once: head = first 40 bytes (or all), body =
 * the rest, so every send exercises the two-iovec path. */
typedef struct batch {
  uint8_t *mem;
  bf_dgram *d;
  size_t *len;
  size_t n;
} batch;

static void make_batch(batch *b, size_t n, const size_t *lens, uint32_t first) {
  size_t total = 0;
  for (size_t i = 0; i < n; i++)
    total += lens[i];
  b->mem = malloc(total + 1);
  b->d = calloc(n, sizeof *b->d);
  b->len = calloc(n, sizeof *b->len);
  assert_non_null(b->mem);
  size_t off = 0;
  for (size_t i = 0; i < n; i++) {
    fill(b->mem + off, lens[i], first + (uint32_t)i);
    size_t h = lens[i] < 40 ? lens[i] : 40;
    b->d[i].head = b->mem + off;
    b->d[i].head_len = h;
    b->d[i].body = lens[i] > h ? b->mem + off + h : NULL;
    b->d[i].body_len = lens[i] - h;
    b->len[i] = lens[i];
    off += lens[i];
  }
  b->n = n;
}

static void free_batch(batch *b) {
  free(b->mem);
  free(b->d);
  free(b->len);
}

/* Receives until |n| datagrams arrived or 3 s passed, checking each against
 * |b| in order (loopback keeps order). Returns how many arrived. */
static size_t recv_check(bf_transport *rx, bf_recv_ring *ring, const batch *b, uint32_t first,
                         size_t n) {
  size_t got = 0;
  uint64_t end = now_ms() + 3000;
  while (got < n && now_ms() < end) {
    int r = bf_recv_batch(rx, ring);
    assert_true(r >= 0);
    if (r == 0) {
      (void)bf_transport_wait(rx, 50);
      continue;
    }
    for (int i = 0; i < r; i++) {
      const bf_rx_slot *s = &ring->slots[i];
      assert_true(got < n);
      assert_non_null(s->from);
      assert_true(s->len >= 4);
      uint32_t idx = (uint32_t)s->data[0] | (uint32_t)s->data[1] << 8 | (uint32_t)s->data[2] << 16 |
                     (uint32_t)s->data[3] << 24;
      assert_int_equal(idx, first + got);
      check(s->data, s->len, b->len[got], idx);
      got++;
    }
  }
  return got;
}

/* ---- addresses --------------------------------------------------------- */

static void test_addr(void **state) {
  (void)state;
  bf_addr a, b;
  char buf[BF_ADDR_STRLEN];
  assert_int_equal(bf_addr_parse("127.0.0.1:4000", 1, &a), 0);
  assert_string_equal(bf_addr_format(&a, buf, sizeof buf), "127.0.0.1:4000");
  assert_int_equal(bf_addr_parse("10.1.2.3", 77, &a), 0);
  assert_string_equal(bf_addr_format(&a, buf, sizeof buf), "10.1.2.3:77");
  assert_int_equal(bf_addr_parse(":9", 0, &a), 0);
  assert_string_equal(bf_addr_format(&a, buf, sizeof buf), "0.0.0.0:9");
  assert_int_equal(bf_addr_parse("[::1]:5", 0, &a), 0);
  assert_string_equal(bf_addr_format(&a, buf, sizeof buf), "[::1]:5");
  assert_int_equal(bf_addr_parse("fe80::1", 6, &a), 0);
  assert_string_equal(bf_addr_format(&a, buf, sizeof buf), "[fe80::1]:6");
  assert_int_equal(bf_addr_parse("localhost:7", 0, &a), 0);
  assert_true(bf_addr_is_private(&a));
  assert_int_equal(bf_addr_parse("1.2.3.4:70000", 0, &a), -EINVAL);
  assert_int_equal(bf_addr_parse("1.2.3.4:x", 0, &a), -EINVAL);
  assert_int_equal(bf_addr_parse("[::1", 0, &a), -EINVAL);
  assert_int_equal(bf_addr_parse("[1.2.3.4]:5", 0, &a), -EINVAL);
  assert_int_equal(bf_addr_parse("bad host!:5", 0, &a), -EINVAL);
  assert_int_equal(bf_addr_parse("no-such-host.invalid:5", 0, &a), -ENOENT);
  /* IPv4 and v4-mapped IPv6 are the same address */
  assert_int_equal(bf_addr_parse("192.168.1.9:80", 0, &a), 0);
  assert_int_equal(bf_addr_parse("[::ffff:192.168.1.9]:80", 0, &b), 0);
  assert_true(bf_addr_equal(&a, &b));
  assert_int_equal(bf_addr_parse("[::ffff:192.168.1.9]:81", 0, &b), 0);
  assert_false(bf_addr_equal(&a, &b));
  assert_true(bf_addr_same_ip(&a, &b));
  assert_int_equal(bf_addr_parse("192.168.1.10:80", 0, &b), 0);
  assert_false(bf_addr_same_ip(&a, &b));
  /* private ranges */
  static const char *const priv[] = {"10.0.0.1",    "172.16.0.1",    "172.31.255.255",
                                     "192.168.0.1", "127.0.0.5",     "169.254.1.1",
                                     "100.64.0.1",  "100.127.255.1", "::1",
                                     "fd00::1",     "fe80::2",       "::ffff:10.9.9.9"};
  static const char *const pub[] = {"8.8.8.8",     "172.32.0.1",    "172.15.255.255",
                                    "100.128.0.1", "192.169.0.1",   "203.0.113.7",
                                    "2001:db8::1", "::ffff:8.8.8.8"};
  for (size_t i = 0; i < sizeof priv / sizeof priv[0]; i++) {
    assert_int_equal(bf_addr_parse(priv[i], 1, &a), 0);
    if (!bf_addr_is_private(&a)) fail_msg("%s should be private", priv[i]);
  }
  for (size_t i = 0; i < sizeof pub / sizeof pub[0]; i++) {
    assert_int_equal(bf_addr_parse(pub[i], 1, &a), 0);
    if (bf_addr_is_private(&a)) fail_msg("%s should be public", pub[i]);
  }
  memset(&a, 0, sizeof a);
  assert_false(bf_addr_is_private(&a));
  assert_false(bf_addr_equal(&a, &a));
}

static void test_open_errors(void **state) {
  (void)state;
  bf_udp_config c;
  bf_udp_config_default(&c);
  c.quiet = 1;
  bf_transport *t = NULL, *u = NULL;
  c.bind = "127.0.0.1:notaport";
  assert_int_equal(bf_udp_open(&c, &t), -EINVAL);
  c.bind = "127.0.0.1:0";
  assert_int_equal(bf_udp_open(&c, &t), 0);
  bf_addr la;
  assert_int_equal(bf_transport_local_addr(t, &la), 0);
  char buf[BF_ADDR_STRLEN];
  bf_addr_format(&la, buf, sizeof buf);
  c.bind = buf;
  assert_int_equal(bf_udp_open(&c, &u), -EADDRINUSE);
  /* no peer yet */
  uint8_t x[8] = {0};
  bf_dgram d = {x, sizeof x, NULL, 0};
  assert_int_equal(bf_send(t, &d), -EDESTADDRREQ);
  assert_int_equal(bf_send_batch(t, &d, 1), -EDESTADDRREQ);
  assert_int_equal(bf_send_gso(t, &d, 1), -EDESTADDRREQ);
  /* nothing pending: recv returns 0 at once, wait times out */
  uint8_t buf2[BF_RECV_BUF_BYTES];
  assert_int_equal(bf_recv(t, buf2, sizeof buf2, NULL), 0);
  uint64_t t0 = now_ms();
  assert_int_equal(bf_transport_wait(t, 30), 0);
  assert_true(now_ms() - t0 >= 20);
  bf_transport_close(&t);
  bf_transport_close(&t); /* NULL is fine */
  bf_recv_ring ring;
  assert_int_equal(bf_recv_ring_init(&ring, 8, 100), -EINVAL);
  assert_int_equal(bf_recv_ring_init(&ring, BF_RECV_MAX_BATCH + 1, 0), -EINVAL);
  bf_recv_ring_free(&ring);
}

/* ---- delivery ---------------------------------------------------------- */

/* Sends |n| datagrams of |lens| through |mode| (0 send, 1 send_batch, 2
 * send_gso) in chunks of |chunk|, receiving after each chunk. */
static void roundtrip(pair *p, bf_recv_ring *ring, const size_t *lens, size_t n, int mode,
                      size_t chunk) {
  batch b;
  make_batch(&b, n, lens, 1000);
  for (size_t off = 0; off < n; off += chunk) {
    size_t m = n - off < chunk ? n - off : chunk;
    if (mode == 0) {
      for (size_t i = 0; i < m; i++)
        assert_int_equal(bf_send(p->tx, &b.d[off + i]), 1);
    } else if (mode == 1) {
      assert_int_equal(bf_send_batch(p->tx, b.d + off, m), (int)m);
    } else {
      assert_int_equal(bf_send_gso(p->tx, b.d + off, m), (int)m);
    }
    batch view = b;
    view.len = b.len + off;
    assert_int_equal(recv_check(p->rx, ring, &view, 1000 + (uint32_t)off, m), m);
  }
  assert_int_equal(p->tx->stats.tx_packets, n);
  assert_int_equal(p->tx->stats.tx_dropped, 0);
  assert_int_equal(p->rx->stats.rx_packets, n);
  assert_int_equal(p->rx->stats.rx_oversize, 0);
  free_batch(&b);
}

static void varied_lens(size_t *lens, size_t n, uint64_t seed) {
  bf_test_rng rng;
  bf_test_rng_seed(&rng, seed);
  for (size_t i = 0; i < n; i++)
    lens[i] = 4 + bf_test_rng_below(&rng, BF_MAX_DATAGRAM - 3);
  lens[0] = BF_MAX_DATAGRAM; /* the largest valid datagram */
  lens[1] = 4;
}

static void test_scalar(void **state) {
  (void)state;
  bf_udp_config c;
  bf_udp_config_default(&c);
  c.scalar = 1;
  pair p;
  open_pair(&p, &c, &c);
  bf_recv_ring ring;
  assert_int_equal(bf_recv_ring_init(&ring, 16, 0), 0);
  size_t lens[150];
  varied_lens(lens, 150, 11);
  roundtrip(&p, &ring, lens, 150, 0, 20);
  p.tx->stats = (bf_transport_stats){0};
  p.rx->stats = (bf_transport_stats){0};
  roundtrip(&p, &ring, lens, 150, 1, 40);
  /* one syscall per datagram on both sides */
  assert_int_equal(p.tx->stats.tx_calls, 150);
  assert_int_equal(p.rx->stats.rx_calls, 150);
  p.tx->stats = (bf_transport_stats){0};
  p.rx->stats = (bf_transport_stats){0};
  roundtrip(&p, &ring, lens, 150, 2, 40); /* gso = batch on the scalar path */
  assert_int_equal(p.tx->stats.tx_gso_calls, 0);
  /* single recv into a caller buffer */
  uint8_t x[100], y[BF_RECV_BUF_BYTES];
  fill(x, sizeof x, 5);
  bf_dgram d = {x, 10, x + 10, 90};
  assert_int_equal(bf_send(p.tx, &d), 1);
  assert_int_equal(bf_transport_wait(p.rx, 2000), 1);
  bf_addr from, txa;
  assert_int_equal(bf_recv(p.rx, y, sizeof y, &from), 100);
  check(y, 100, 100, 5);
  assert_int_equal(bf_transport_local_addr(p.tx, &txa), 0);
  assert_true(bf_addr_equal(&from, &txa));
  bf_recv_ring_free(&ring);
  close_pair(&p);
}

static void test_batched(void **state) {
  (void)state;
  pair p;
  open_pair(&p, NULL, NULL);
  bf_recv_ring ring;
  assert_int_equal(bf_recv_ring_init(&ring, 0, 0), 0);
  assert_int_equal(ring.count, BF_RECV_BATCH);
  assert_int_equal(ring.buf_bytes, BF_RECV_BUF_BYTES);
  size_t lens[300];
  varied_lens(lens, 300, 12);
  roundtrip(&p, &ring, lens, 300, 1, 100);
#if defined(__linux__)
  /* sendmmsg: 64 per call; recvmmsg: many per call */
  assert_true(p.tx->stats.tx_calls <= 3 * ((100 + 63) / 64) + 3);
  assert_true(p.rx->stats.rx_calls < p.rx->stats.rx_packets / 4);
#endif
  bf_recv_ring_free(&ring);
  close_pair(&p);
}

#if defined(_WIN32)
static int under_wine(void) {
  HMODULE nt = GetModuleHandleA("ntdll.dll");
  return nt && GetProcAddress(nt, "wine_get_version") != NULL;
}
#endif

static void test_gso(void **state) {
  (void)state;
  bf_udp_offload_reset();
  pair p;
  open_pair(&p, NULL, NULL);
  bf_recv_ring ring;
  assert_int_equal(bf_recv_ring_init(&ring, 0, 0), 0);
  size_t lens[256];
  for (size_t i = 0; i < 256; i++)
    lens[i] = 1200;
  lens[255] = 700; /* the last may be shorter */
  roundtrip(&p, &ring, lens, 256, 2, 256);
#if defined(__linux__)
  assert_true(p.tx->stats.gso_active);
  /* 256 x 1200 B: 54 per send (65507 B), several sends per sendmmsg */
  assert_true(p.tx->stats.tx_gso_calls >= 1);
  assert_true(p.tx->stats.tx_calls <= 2);
  assert_true(bf_udp_offload_enabled());
#elif defined(_WIN32)
  if (under_wine()) {
    /* wine rejects UDP_SEND_MSG_SIZE (WSAEINVAL): latched off, sent anyway */
    assert_false(bf_udp_offload_enabled());
    assert_false(p.tx->stats.gso_active);
    assert_int_equal(p.tx->stats.tx_gso_calls, 0);
  } else if (p.tx->stats.gso_active) {
    assert_true(p.tx->stats.tx_gso_calls >= 1);
  }
#endif
  /* a batch of different sizes never goes through offload */
  uint64_t gso_calls = p.tx->stats.tx_gso_calls;
  size_t mixed[20];
  for (size_t i = 0; i < 20; i++)
    mixed[i] = 1200 + (i % 3);
  p.tx->stats.tx_packets = p.tx->stats.tx_dropped = 0;
  p.rx->stats.rx_packets = 0;
  roundtrip(&p, &ring, mixed, 20, 2, 20);
  assert_int_equal(p.tx->stats.tx_gso_calls, gso_calls);
  bf_recv_ring_free(&ring);
  close_pair(&p);
  bf_udp_offload_reset();
}

/* Datagrams larger than BF_MAX_DATAGRAM are dropped and counted by every
 * receive path, never truncated and handed on; the valid ones around them
 * arrive. */
static void oversize_once(const bf_udp_config *rc, size_t ring_bytes, int use_recv) {
  pair p;
  open_pair(&p, NULL, rc);
  static uint8_t big[20000];
  fill(big, sizeof big, 3);
  const size_t sizes[] = {BF_MAX_DATAGRAM, BF_MAX_DATAGRAM + 1, 100, sizeof big, 9300, 50};
  for (size_t i = 0; i < 6; i++) {
    fill(big, sizes[i], (uint32_t)i);
    bf_dgram d = {big, sizes[i], NULL, 0};
    assert_int_equal(bf_send(p.tx, &d), 1);
  }
  bf_recv_ring ring;
  assert_int_equal(bf_recv_ring_init(&ring, 8, ring_bytes), 0);
  size_t want[] = {0, 2, 5}, got = 0;
  uint64_t end = now_ms() + 3000;
  uint8_t *buf = malloc(BF_RECV_BUF_BYTES);
  while (got < 3 && now_ms() < end) {
    if (use_recv) {
      int r = bf_recv(p.rx, buf, BF_RECV_BUF_BYTES, NULL);
      assert_true(r >= 0);
      if (r == 0) {
        (void)bf_transport_wait(p.rx, 50);
        continue;
      }
      check(buf, (size_t)r, sizes[want[got]], (uint32_t)want[got]);
      got++;
      continue;
    }
    int r = bf_recv_batch(p.rx, &ring);
    assert_true(r >= 0);
    if (r == 0) {
      (void)bf_transport_wait(p.rx, 50);
      continue;
    }
    for (int i = 0; i < r; i++, got++) {
      assert_true(got < 3);
      check(ring.slots[i].data, ring.slots[i].len, sizes[want[got]], (uint32_t)want[got]);
    }
  }
  assert_int_equal(got, 3);
  /* give the kernel a moment, then nothing else may be pending */
  (void)bf_transport_wait(p.rx, 50);
  if (use_recv)
    assert_int_equal(bf_recv(p.rx, buf, BF_RECV_BUF_BYTES, NULL), 0);
  else
    assert_int_equal(bf_recv_batch(p.rx, &ring), 0);
  assert_int_equal(p.rx->stats.rx_oversize, 3);
  assert_int_equal(p.rx->stats.rx_packets, 3);
  free(buf);
  bf_recv_ring_free(&ring);
  close_pair(&p);
}

static void test_oversize(void **state) {
  (void)state;
  bf_udp_config c;
  bf_udp_config_default(&c);
  oversize_once(&c, 0, 0);                     /* recvmmsg, 9217-byte buffers */
  oversize_once(&c, BF_RECV_GRO_BUF_BYTES, 0); /* recvmmsg, big buffers */
  oversize_once(&c, 0, 1);                     /* recv */
  c.scalar = 1;
  oversize_once(&c, 0, 0);
#if defined(__linux__)
  c.scalar = 0;
  c.gro = 1;
  oversize_once(&c, BF_RECV_GRO_BUF_BYTES, 0); /* GRO socket */
  oversize_once(&c, 0, 1);
#endif
}

#if defined(__linux__)
/* A send the kernel refuses mid-stream: SO_NO_CHECK makes UDP_SEGMENT fail
 * with EINVAL, a real error of the latch list. */
static void test_gso_forced_fallback(void **state) {
  (void)state;
  bf_udp_offload_reset();
  pair p;
  open_pair(&p, NULL, NULL);
  int one = 1;
  assert_int_equal(setsockopt(p.tx->fd, SOL_SOCKET, SO_NO_CHECK, &one, sizeof one), 0);
  bf_recv_ring ring;
  assert_int_equal(bf_recv_ring_init(&ring, 0, 0), 0);
  size_t lens[200];
  for (size_t i = 0; i < 200; i++)
    lens[i] = 1000;
  roundtrip(&p, &ring, lens, 200, 2, 100);
  assert_false(bf_udp_offload_enabled());
  assert_false(p.tx->stats.gso_active);
  assert_int_equal(p.tx->stats.tx_gso_calls, 0);
  /* a second socket sees the latch too: process-wide */
  pair q;
  open_pair(&q, NULL, NULL);
  batch b;
  make_batch(&b, 10, lens, 1000);
  assert_int_equal(bf_send_gso(q.tx, b.d, 10), 10);
  assert_int_equal(q.tx->stats.tx_gso_calls, 0);
  assert_int_equal(recv_check(q.rx, &ring, &b, 1000, 10), 10);
  free_batch(&b);
  close_pair(&q);
  bf_recv_ring_free(&ring);
  close_pair(&p);
  bf_udp_offload_reset();
  assert_true(bf_udp_offload_enabled());
}

static void test_gro(void **state) {
  (void)state;
  bf_udp_offload_reset();
  bf_udp_config rc;
  bf_udp_config_default(&rc);
  rc.gro = 1;
  pair p;
  open_pair(&p, NULL, &rc);
  assert_true(p.rx->stats.gro_active);
  /* a ring of 9217-byte buffers cannot take a coalesced read */
  bf_recv_ring small, ring;
  assert_int_equal(bf_recv_ring_init(&small, 0, 0), 0);
  assert_int_equal(bf_recv_batch(p.rx, &small), -EINVAL);
  bf_recv_ring_free(&small);
  assert_int_equal(bf_recv_ring_init(&ring, BF_RECV_GRO_BATCH, BF_RECV_GRO_BUF_BYTES), 0);
  assert_int_equal(ring.slot_cap, BF_RECV_GRO_BATCH * BF_GRO_MAX_SEGMENTS);
  /* equal sizes with a short last one, through GSO -> one GRO buffer each */
  size_t lens[130];
  for (size_t i = 0; i < 130; i++)
    lens[i] = 1200;
  lens[129] = 333;
  roundtrip(&p, &ring, lens, 130, 2, 130);
  assert_true(p.rx->stats.rx_coalesced >= 1);
  assert_true(p.rx->stats.rx_calls < 10);
  /* different sizes (plain sendmmsg) still arrive one by one */
  size_t mixed[50];
  varied_lens(mixed, 50, 13);
  p.tx->stats.tx_packets = 0;
  p.rx->stats.rx_packets = 0;
  roundtrip(&p, &ring, mixed, 50, 1, 50);
  /* bf_recv on a GRO socket hands out one datagram per call */
  batch b;
  make_batch(&b, 40, lens, 7);
  assert_int_equal(bf_send_gso(p.tx, b.d, 40), 40);
  uint8_t buf[BF_RECV_BUF_BYTES];
  uint64_t coalesced = p.rx->stats.rx_coalesced;
  size_t got = 0;
  uint64_t end = now_ms() + 3000;
  while (got < 40 && now_ms() < end) {
    bf_addr from;
    int r = bf_recv(p.rx, buf, sizeof buf, &from);
    assert_true(r >= 0);
    if (r == 0) {
      (void)bf_transport_wait(p.rx, 50);
      continue;
    }
    check(buf, (size_t)r, 1200, 7 + (uint32_t)got);
    got++;
  }
  assert_int_equal(got, 40);
  assert_true(p.rx->stats.rx_coalesced > coalesced);
  free_batch(&b);
  bf_recv_ring_free(&ring);
  close_pair(&p);
}

/* A receiver that does not read, with a tiny buffer: the kernel drops, and
 * SO_RXQ_OVFL reports exactly how many (carried by the next datagram that
 * does get queued). */
static void test_kernel_drops(void **state) {
  (void)state;
  bf_udp_config rc;
  bf_udp_config_default(&rc);
  rc.sock_buf = 4096;
  pair p;
  open_pair(&p, NULL, &rc);
  batch b;
  size_t lens[400];
  for (size_t i = 0; i < 400; i++)
    lens[i] = 1000;
  make_batch(&b, 400, lens, 0);
  for (size_t off = 0; off < 400; off += 50)
    assert_int_equal(bf_send_batch(p.tx, b.d + off, 50), 50);
  bf_recv_ring ring;
  assert_int_equal(bf_recv_ring_init(&ring, 0, 0), 0);
  uint64_t got = 0;
  int r;
  while ((r = bf_recv_batch(p.rx, &ring)) > 0)
    got += (uint64_t)r;
  assert_true(got > 0 && got < 400);
  /* one more: it is queued and carries the drop count */
  assert_int_equal(bf_send(p.tx, &b.d[0]), 1);
  assert_int_equal(bf_transport_wait(p.rx, 2000), 1);
  assert_int_equal(bf_recv_batch(p.rx, &ring), 1);
  got++;
  assert_int_equal(got + p.rx->stats.kernel_drops, 401);
  assert_true(p.rx->stats.kernel_drops > 0);
  free_batch(&b);
  bf_recv_ring_free(&ring);
  close_pair(&p);
}

static int get_tos(int fd, int *prio) {
  int tos = -1;
  socklen_t l = sizeof tos;
  assert_int_equal(getsockopt(fd, IPPROTO_IP, IP_TOS, &tos, &l), 0);
  l = sizeof *prio;
  assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_PRIORITY, prio, &l), 0);
  return tos;
}

static void test_dscp(void **state) {
  (void)state;
  bf_udp_config c;
  bf_udp_config_default(&c);
  c.quiet = 1;
  bf_transport *t;
  assert_int_equal(bf_udp_open(&c, &t), 0);
  bf_addr a;
  int prio;
  assert_int_equal(get_tos(t->fd, &prio), 0);
  assert_int_equal(bf_addr_parse("127.0.0.1:9", 0, &a), 0);
  bf_transport_set_peer(t, &a);
  assert_int_equal(get_tos(t->fd, &prio), BF_TOS_CS5);
  assert_int_equal(prio, 5);
  assert_int_equal(bf_addr_parse("203.0.113.7:9", 0, &a), 0);
  bf_transport_set_peer(t, &a);
  assert_int_equal(get_tos(t->fd, &prio), 0);
  assert_int_equal(prio, 0);
  assert_int_equal(bf_addr_parse("192.168.7.7:9", 0, &a), 0);
  bf_transport_set_peer(t, &a);
  assert_int_equal(get_tos(t->fd, &prio), BF_TOS_CS5);
  bf_transport_close(&t);
  c.dscp = BF_DSCP_ON;
  assert_int_equal(bf_udp_open(&c, &t), 0);
  assert_int_equal(bf_addr_parse("203.0.113.7:9", 0, &a), 0);
  bf_transport_set_peer(t, &a);
  assert_int_equal(get_tos(t->fd, &prio), BF_TOS_CS5);
  bf_transport_close(&t);
  c.dscp = BF_DSCP_OFF;
  assert_int_equal(bf_udp_open(&c, &t), 0);
  assert_int_equal(bf_addr_parse("127.0.0.1:9", 0, &a), 0);
  bf_transport_set_peer(t, &a);
  assert_int_equal(get_tos(t->fd, &prio), 0);
  bf_transport_close(&t);
}

/* An IPv6 dual-stack socket sends to an IPv4 peer and receives from one. */
static void test_dual_stack(void **state) {
  (void)state;
  bf_udp_config c6, c4;
  bf_udp_config_default(&c6);
  bf_udp_config_default(&c4);
  c6.bind = "[::]:0";
  c4.bind = "127.0.0.1:0";
  c6.quiet = c4.quiet = 1;
  bf_transport *t6, *t4;
  int rc = bf_udp_open(&c6, &t6);
  if (rc == -EAFNOSUPPORT) skip();
  assert_int_equal(rc, 0);
  assert_int_equal(bf_udp_open(&c4, &t4), 0);
  bf_addr a4, a6, from;
  assert_int_equal(bf_transport_local_addr(t4, &a4), 0);
  bf_transport_set_peer(t6, &a4);
  uint8_t x[64], y[BF_RECV_BUF_BYTES];
  fill(x, sizeof x, 9);
  bf_dgram d = {x, sizeof x, NULL, 0};
  assert_int_equal(bf_send(t6, &d), 1);
  assert_int_equal(bf_transport_wait(t4, 2000), 1);
  assert_int_equal(bf_recv(t4, y, sizeof y, &from), 64);
  check(y, 64, 64, 9);
  /* reply to what we saw (IPv4) from the IPv4 socket to the v6 one */
  assert_int_equal(bf_transport_local_addr(t6, &a6), 0);
  assert_int_equal(from.ss.ss_family, AF_INET);
  bf_transport_set_peer(t4, &from);
  assert_int_equal(bf_send(t4, &d), 1);
  assert_int_equal(bf_transport_wait(t6, 2000), 1);
  assert_int_equal(bf_recv(t6, y, sizeof y, &from), 64);
  assert_true(bf_addr_equal(&from, &a4)); /* v4-mapped == v4 */
  bf_transport_close(&t6);
  bf_transport_close(&t4);
}

#ifdef BF_TEST_WRAP_MALLOC
/* Every allocation made by the library and this file is counted
 * (tests/lib/alloc_count.h). */
#include "alloc_count.h"

static void hot_path(bf_transport *tx, bf_transport *rx, bf_recv_ring *ring, const batch *b,
                     int gso, uint64_t *packets) {
  for (int round = 0; round < 20; round++) {
    int s = gso ? bf_send_gso(tx, b->d, b->n) : bf_send_batch(tx, b->d, b->n);
    assert_int_equal(s, (int)b->n);
    size_t got = 0;
    uint64_t end = now_ms() + 2000;
    while (got < b->n && now_ms() < end) {
      int r = bf_recv_batch(rx, ring);
      assert_true(r >= 0);
      if (r == 0) (void)bf_transport_wait(rx, 20);
      got += (size_t)r;
    }
    assert_int_equal(got, b->n);
    *packets += got;
  }
}

static void test_no_alloc(void **state) {
  (void)state;
  bf_udp_offload_reset();
  pair p, g;
  open_pair(&p, NULL, NULL);
  bf_udp_config rc;
  bf_udp_config_default(&rc);
  rc.gro = 1;
  open_pair(&g, NULL, &rc);
  bf_recv_ring ring, gring;
  assert_int_equal(bf_recv_ring_init(&ring, 0, 0), 0);
  assert_int_equal(bf_recv_ring_init(&gring, BF_RECV_GRO_BATCH, BF_RECV_GRO_BUF_BYTES), 0);
  size_t lens[64];
  for (size_t i = 0; i < 64; i++)
    lens[i] = 1200;
  batch b;
  make_batch(&b, 64, lens, 0);
  uint64_t packets = 0;
  hot_path(p.tx, p.rx, &ring, &b, 0, &packets); /* warm up: rings set up */
  hot_path(g.tx, g.rx, &gring, &b, 1, &packets);
  assert_true(bf_test_allocs_counted()); /* the wrapping works */
  unsigned long before = bf_test_allocs();
  assert_true(before > 0); /* the wrapper does see the library's allocations */
  packets = 0;
  hot_path(p.tx, p.rx, &ring, &b, 0, &packets);
  hot_path(p.tx, p.rx, &ring, &b, 1, &packets);
  hot_path(g.tx, g.rx, &gring, &b, 1, &packets);
  assert_int_equal(packets, 3 * 20 * 64);
  assert_int_equal(bf_test_allocs() - before, 0);
  free_batch(&b);
  bf_recv_ring_free(&ring);
  bf_recv_ring_free(&gring);
  close_pair(&p);
  close_pair(&g);
}
#endif /* BF_TEST_WRAP_MALLOC */

/* Root: a private network namespace whose loopback sits behind a slow tbf
 * qdisc, so datagrams wait in the qdisc, charged to the sender's socket: its
 * send buffer fills and sends are counted drops (returning 0), never errors.
 * An unroutable destination is a counted drop too. */
static void test_send_buffer_full(void **state) {
  (void)state;
  if (!bf_test_have_root()) skip();
  int orig = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  assert_true(orig >= 0);
  assert_int_equal(unshare(CLONE_NEWNET), 0);
  int ok = system("ip link set lo up && "
                  "tc qdisc add dev lo root tbf rate 1mbit burst 32kb limit 50mb") == 0;
  if (ok) {
    bf_udp_config c;
    bf_udp_config_default(&c);
    c.sock_buf = 65536;
    pair p;
    open_pair(&p, &c, NULL);
    size_t lens[512];
    for (size_t i = 0; i < 512; i++)
      lens[i] = 1200;
    batch b;
    make_batch(&b, 512, lens, 0);
    int s = bf_send_batch(p.tx, b.d, 512);
    assert_true(s > 0 && s < 512);
    assert_int_equal(p.tx->stats.tx_dropped, 512 - (uint64_t)s);
    assert_int_equal(bf_send(p.tx, &b.d[0]), 0);
    assert_int_equal(p.tx->stats.tx_dropped, 513 - (uint64_t)s);
    uint64_t dropped = p.tx->stats.tx_dropped;
    s = bf_send_gso(p.tx, b.d, 64);
    assert_true(s >= 0 && s < 64);
    assert_int_equal(p.tx->stats.tx_dropped, dropped + 64 - (uint64_t)s);
    /* no route in this namespace */
    bf_addr nowhere;
    assert_int_equal(bf_addr_parse("10.1.2.3:9", 0, &nowhere), 0);
    bf_transport_set_peer(p.tx, &nowhere);
    dropped = p.tx->stats.tx_dropped;
    assert_int_equal(bf_send(p.tx, &b.d[0]), 0);
    assert_int_equal(bf_send_batch(p.tx, b.d, 10), 0);
    assert_int_equal(p.tx->stats.tx_dropped, dropped + 11);
    free_batch(&b);
    close_pair(&p);
  }
  assert_int_equal(setns(orig, CLONE_NEWNET), 0);
  close(orig);
  if (!ok) fail_msg("could not set up tbf on lo in a new namespace");
}
#endif

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_addr),
    cmocka_unit_test(test_open_errors),
    cmocka_unit_test(test_scalar),
    cmocka_unit_test(test_batched),
    cmocka_unit_test(test_gso),
    cmocka_unit_test(test_oversize),
#if defined(__linux__)
    cmocka_unit_test(test_gso_forced_fallback),
    cmocka_unit_test(test_gro),
    cmocka_unit_test(test_kernel_drops),
    cmocka_unit_test(test_dscp),
    cmocka_unit_test(test_dual_stack),
    cmocka_unit_test(test_send_buffer_full),
#endif
#if defined(BF_TEST_WRAP_MALLOC)
    cmocka_unit_test(test_no_alloc),
#endif
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
