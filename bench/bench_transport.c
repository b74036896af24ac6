/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * bildfunk-bench transport: UDP throughput of one transport mode over
 * loopback, a sender thread and a receiver thread (pinned to CPU 0 and 1
 * when there are two), using the real bf_transport code.
 *
 *   --mode scalar  bf_send per datagram      + bf_recv per datagram
 *          mmsg    bf_send_batch (sendmmsg)  + bf_recv_batch (recvmmsg)
 *          gso     bf_send_gso (UDP_SEGMENT) + bf_recv_batch (recvmmsg)
 *          gro     bf_send_gso (UDP_SEGMENT) + bf_recv_batch on a UDP_GRO socket
 *   --size B (1200)  --seconds N (3)  --batch N (64 datagrams per send call)
 *   --gso-segs N (0 = 64)  --window N (0 = unpaced blast; else at most N
 *   datagrams in flight, i.e. lossless)  --no-pin
 *
 * Prints one JSON object: pps and gbps are what the receiver got (goodput)
 * over the measured seconds after a 0.3 s warm-up; drops = sent - received
 * (offered datagrams that never arrived: local drops, receive-queue overflow;
 * a few in flight at the edges of the window count either way).
 */
#include "bench.h"

#include <bildfunk/transport.h>

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum mode { M_SCALAR, M_MMSG, M_GSO, M_GRO };
static const char *const mode_names[] = {"scalar", "mmsg", "gso", "gro"};

typedef struct bench_ctx {
  enum mode mode;
  size_t size, batch, window;
  unsigned gso_segs;
  int pin;
  bf_transport *tx, *rx;
  atomic_int stop;
  atomic_uint_fast64_t sent, received, rx_calls, bad, tx_calls;
  int tx_err, rx_err;
} bench_ctx;

static void pin_to(size_t cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  (void)pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

static void *sender(void *arg) {
  bench_ctx *c = arg;
  if (c->pin) pin_to(0);
  uint8_t *mem = calloc(c->batch, c->size);
  bf_dgram *d = calloc(c->batch, sizeof *d);
  if (!mem || !d) {
    c->tx_err = -ENOMEM;
    goto out;
  }
  size_t head = c->size < 40 ? c->size : 40;
  for (size_t i = 0; i < c->batch; i++) {
    uint8_t *p = mem + i * c->size;
    memset(p, (int)(i & 0xff), c->size);
    d[i].head = p;
    d[i].head_len = head;
    d[i].body = c->size > head ? p + head : NULL;
    d[i].body_len = c->size - head;
  }
  uint64_t sent = 0;
  while (!atomic_load_explicit(&c->stop, memory_order_relaxed)) {
    size_t n = c->batch;
    if (c->window) {
      uint64_t inflight = sent - atomic_load_explicit(&c->received, memory_order_relaxed);
      if (inflight + n > c->window) {
        sched_yield();
        continue;
      }
    }
    int r;
    if (c->mode == M_SCALAR) {
      r = 0;
      for (size_t i = 0; i < n; i++) {
        int s = bf_send(c->tx, &d[i]);
        if (s < 0) {
          r = s;
          break;
        }
        r += s;
      }
    } else if (c->mode == M_MMSG) {
      r = bf_send_batch(c->tx, d, n);
    } else {
      r = bf_send_gso(c->tx, d, n);
    }
    if (r < 0) {
      c->tx_err = r;
      break;
    }
    sent += n; /* offered: a local drop is a drop too */
    atomic_store_explicit(&c->sent, sent, memory_order_relaxed);
    atomic_store_explicit(&c->tx_calls, c->tx->stats.tx_calls, memory_order_relaxed);
  }
out:
  free(mem);
  free(d);
  return NULL;
}

static void *receiver(void *arg) {
  bench_ctx *c = arg;
  if (c->pin) pin_to(1);
  bf_recv_ring ring;
  int gro = c->mode == M_GRO;
  if (bf_recv_ring_init(&ring, gro ? BF_RECV_GRO_BATCH : BF_RECV_BATCH,
                        gro ? BF_RECV_GRO_BUF_BYTES : BF_RECV_BUF_BYTES) != 0) {
    c->rx_err = -ENOMEM;
    return NULL;
  }
  uint8_t *buf = malloc(BF_RECV_BUF_BYTES);
  uint64_t got = 0, calls = 0, bad = 0;
  while (!atomic_load_explicit(&c->stop, memory_order_relaxed)) {
    int r;
    if (c->mode == M_SCALAR) {
      r = bf_recv(c->rx, buf, BF_RECV_BUF_BYTES, NULL);
      if (r > 0) {
        if ((size_t)r != c->size) bad++;
        r = 1;
      }
    } else {
      r = bf_recv_batch(c->rx, &ring);
      for (int i = 0; i < r; i++)
        if (ring.slots[i].len != c->size) bad++;
    }
    if (r < 0) {
      c->rx_err = r;
      break;
    }
    if (r == 0) {
      (void)bf_transport_wait(c->rx, 5);
      continue;
    }
    calls++;
    got += (uint64_t)r;
    atomic_store_explicit(&c->received, got, memory_order_relaxed);
    atomic_store_explicit(&c->rx_calls, calls, memory_order_relaxed);
    atomic_store_explicit(&c->bad, bad, memory_order_relaxed);
  }
  free(buf);
  bf_recv_ring_free(&ring);
  return NULL;
}

static void sleep_ns(uint64_t ns) {
  struct timespec ts = {(time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull)};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

static int usage(void) {
  fprintf(stderr, "usage: bildfunk-bench transport --mode scalar|mmsg|gso|gro [--size B] "
                  "[--seconds N] [--batch N] [--gso-segs N] [--window N] [--no-pin]\n");
  return 2;
}

int bf_bench_transport(int argc, char **argv) {
  bench_ctx c;
  memset(&c, 0, sizeof c);
  c.mode = M_GSO;
  c.size = 1200;
  c.batch = 64;
  c.pin = sysconf(_SC_NPROCESSORS_ONLN) >= 2;
  double seconds = 3;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage();
      return 0;
    } else if (!strcmp(a, "--no-pin")) {
      c.pin = 0;
    } else if (!v) {
      return usage();
    } else if (!strcmp(a, "--mode")) {
      int found = 0;
      for (int m = 0; m < 4; m++)
        if (!strcmp(v, mode_names[m])) {
          c.mode = (enum mode)m;
          found = 1;
        }
      if (!found) return usage();
      i++;
    } else if (!strcmp(a, "--size")) {
      c.size = strtoul(v, NULL, 10);
      i++;
    } else if (!strcmp(a, "--seconds")) {
      seconds = strtod(v, NULL);
      i++;
    } else if (!strcmp(a, "--batch")) {
      c.batch = strtoul(v, NULL, 10);
      i++;
    } else if (!strcmp(a, "--gso-segs")) {
      c.gso_segs = (unsigned)strtoul(v, NULL, 10);
      i++;
    } else if (!strcmp(a, "--window")) {
      c.window = strtoul(v, NULL, 10);
      i++;
    } else {
      return usage();
    }
  }
  if (c.size < 1 || c.size > BF_MAX_DATAGRAM || c.batch < 1 || c.batch > 4096 || seconds <= 0 ||
      (c.window && c.window < c.batch))
    return usage();

  bf_udp_config tc, rc;
  bf_udp_config_default(&tc);
  tc.bind = "127.0.0.1:0";
  tc.scalar = c.mode == M_SCALAR;
  tc.gso = c.mode == M_GSO || c.mode == M_GRO;
  tc.gso_segs = c.gso_segs;
  rc = tc;
  rc.gro = c.mode == M_GRO;
  int e = bf_udp_open(&tc, &c.tx);
  if (e == 0) e = bf_udp_open(&rc, &c.rx);
  bf_addr ra;
  if (e == 0) e = bf_transport_local_addr(c.rx, &ra);
  if (e < 0) {
    fprintf(stderr, "bildfunk-bench transport: %s\n", bf_strerror(e));
    return 1;
  }
  bf_transport_set_peer(c.tx, &ra);

  pthread_t ts, tr;
  pthread_create(&tr, NULL, receiver, &c);
  pthread_create(&ts, NULL, sender, &c);
  sleep_ns(300000000ull); /* warm-up */
  uint64_t s0 = atomic_load(&c.sent), r0 = atomic_load(&c.received), k0 = atomic_load(&c.rx_calls),
           t0 = bf_bench_now_ns();
  uint64_t tx_calls0 = atomic_load(&c.tx_calls);
  sleep_ns((uint64_t)(seconds * 1e9));
  uint64_t s1 = atomic_load(&c.sent), r1 = atomic_load(&c.received), k1 = atomic_load(&c.rx_calls),
           t1 = bf_bench_now_ns();
  uint64_t tx_calls1 = atomic_load(&c.tx_calls);
  atomic_store(&c.stop, 1);
  pthread_join(ts, NULL);
  pthread_join(tr, NULL);

  double dt = (double)(t1 - t0) / 1e9;
  uint64_t sent = s1 - s0, recv = r1 - r0;
  double pps = (double)recv / dt;
  printf(
      "{\"bench\": \"transport\", \"mode\": \"%s\", \"size\": %zu, \"seconds\": %.3f, "
      "\"batch\": %zu, \"window\": %zu, \"pinned\": %d,\n"
      " \"pps\": %.0f, \"gbps\": %.3f, \"sent_pps\": %.0f, \"drops\": %llu, "
      "\"drop_rate\": %.4f,\n"
      " \"tx_dropped\": %llu, \"kernel_drops\": %llu, \"pkts_per_rx_call\": %.1f, "
      "\"pkts_per_tx_call\": %.1f, \"bad_length\": %llu,\n"
      " \"gso_active\": %d, \"gro_active\": %d, \"tx_gso_calls\": %llu, \"errors\": [%d, %d],\n ",
      mode_names[c.mode], c.size, dt, c.batch, c.window, c.pin, pps, pps * (double)c.size * 8 / 1e9,
      (double)sent / dt, (unsigned long long)(sent > recv ? sent - recv : 0),
      sent ? (double)(sent > recv ? sent - recv : 0) / (double)sent : 0.0,
      (unsigned long long)c.tx->stats.tx_dropped, (unsigned long long)c.rx->stats.kernel_drops,
      k1 > k0 ? (double)recv / (double)(k1 - k0) : 0.0,
      tx_calls1 > tx_calls0 ? (double)sent / (double)(tx_calls1 - tx_calls0) : 0.0,
      (unsigned long long)atomic_load(&c.bad), c.tx->stats.gso_active, c.rx->stats.gro_active,
      (unsigned long long)c.tx->stats.tx_gso_calls, c.tx_err, c.rx_err);
  bf_bench_print_machine(stdout);
  printf("}\n");
  bf_transport_close(&c.tx);
  bf_transport_close(&c.rx);
  return c.tx_err || c.rx_err || atomic_load(&c.bad) ? 1 : 0;
}
