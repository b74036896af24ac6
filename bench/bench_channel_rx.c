/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * bildfunk-bench channel-rx: the client's receive CPU per datagram through
 * the real data-plane channel (bf_channel: socket, GRO split, opening in
 * sealed mode, classifier, handler), recvmmsg vs UDP GRO, side by side in one
 * run. A sender thread sends the sender's video bursts (bf_channel_send_burst
 * with GSO, as bildfunk-send does) over loopback, at most --window datagrams
 * in flight (lossless); a receiver thread reads them with a client channel
 * opened without GRO ("mmsg") or with it ("gro"). The modes alternate for
 * --rounds rounds of --seconds each, so both see the same machine load.
 *
 *   --size B (1240: a 1200-byte shard + 40-byte header)  --seconds S (1)
 *   --rounds N (3)  --batch N (64 datagrams per burst)  --window N (4096)
 *   --sealed (AES-GCM, as a paired session; default clear)  --no-pin
 *
 * Prints one JSON object: per mode the receiver thread's CPU ns per datagram
 * (CLOCK_THREAD_CPUTIME_ID over all rounds), datagrams per second, datagrams
 * per receive call, and the ratio mmsg/gro of CPU per datagram. Not measured here:
 * what the handlers do next (the reassembler, the same in both modes).
 */
#include "bench.h"

#include <bildfunk/channel.h>

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct rx_ctx {
  size_t size, batch, window;
  int sealed, pin, gro;
  bf_channel *tx, *rx;
  uint8_t *mem; /* the sender's burst: batch x size bytes */
  bf_dgram *d;  /* ... and its batch datagrams */
  atomic_int stop;
  atomic_uint_fast64_t sent, received;
  uint64_t bad, cpu_ns, datagrams, reads;
  int tx_err, rx_err;
} rx_ctx;

static uint64_t mono(void) {
  return bf_bench_now_ns();
}

static uint64_t thread_cpu_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void *sender(void *arg) {
  rx_ctx *c = arg;
  uint8_t *mem = c->mem;
  bf_dgram *d = c->d;
  if (c->pin) bf_bench_pin_cpu(0);
  uint64_t sent = 0;
  while (!atomic_load_explicit(&c->stop, memory_order_relaxed)) {
    uint64_t inflight = sent - atomic_load_explicit(&c->received, memory_order_relaxed);
    if (inflight + c->batch > c->window) {
      sched_yield();
      continue;
    }
    for (size_t i = 0; i < c->batch; i++) { /* rewritten in place when sealed */
      uint8_t *p = mem + i * c->size;
      p[0] = (uint8_t)i;
      d[i] = (bf_dgram){p, BF_HEADER_BYTES, p + BF_HEADER_BYTES, c->size - BF_HEADER_BYTES};
    }
    int r = bf_channel_send_burst(c->tx, d, c->batch, 1);
    if (r < 0) {
      c->tx_err = r;
      break;
    }
    sent += c->batch; /* offered: a local drop counts as one */
    atomic_store_explicit(&c->sent, sent, memory_order_relaxed);
  }
  return NULL;
}

static void on_video(void *user, const uint8_t *d, size_t len, const bf_addr *from, uint64_t now) {
  (void)d, (void)from, (void)now;
  rx_ctx *c = user;
  if (len != c->size) c->bad++;
}

static void *receiver(void *arg) {
  rx_ctx *c = arg;
  if (c->pin) bf_bench_pin_cpu(1);
  uint64_t cpu0 = thread_cpu_ns(), got = 0;
  while (!atomic_load_explicit(&c->stop, memory_order_relaxed)) {
    int r = bf_channel_receive(c->rx, 4);
    if (r < 0) {
      c->rx_err = r;
      break;
    }
    if (r == 0) {
      (void)bf_transport_wait(bf_channel_transport(c->rx), 5);
      continue;
    }
    got += (uint64_t)r;
    atomic_store_explicit(&c->received, got, memory_order_relaxed);
  }
  c->cpu_ns = thread_cpu_ns() - cpu0;
  c->datagrams = got;
  return NULL;
}

static uint64_t clock_fn(void) {
  return mono();
}

/* One round of one mode: |seconds| of traffic; adds to |*acc|. */
static int round_run(rx_ctx *c, double seconds, uint64_t acc[4]) {
  bf_udp_config uc;
  bf_udp_config_default(&uc);
  uc.bind = "127.0.0.1:0";
  uc.quiet = 1;
  bf_transport *tt = NULL, *tr = NULL;
  int e = bf_udp_open(&uc, &tt);
  uc.gro = c->gro;
  uc.gso = 0;
  if (e == 0) e = bf_udp_open(&uc, &tr);
  bf_addr ta, ra;
  if (e == 0) e = bf_transport_local_addr(tr, &ra);
  if (e == 0) e = bf_transport_local_addr(tt, &ta);
  if (e < 0) {
    bf_transport_close(&tt);
    bf_transport_close(&tr);
    return e;
  }
  bf_transport_set_peer(tr, &ta);
  bf_channel_config sc = {
      .role = BF_CHANNEL_SENDER, .now = clock_fn, .burst_max = c->batch, .max_plain = c->size};
  bf_channel_config cc = {.role = BF_CHANNEL_CLIENT, .now = clock_fn, .only_from_peer = 1};
  if ((e = bf_channel_new(&sc, tt, &c->tx)) < 0) {
    bf_transport_close(&tr);
    return e;
  }
  if ((e = bf_channel_new(&cc, tr, &c->rx)) < 0) {
    bf_channel_del(&c->tx);
    return e;
  }
  bf_channel_set_peer(c->tx, &ra);
  bf_channel_on(c->rx, BF_DKIND_VIDEO, on_video, c);
  uint8_t secret[32] = {1, 2, 3, 4};
  if (c->sealed && ((e = bf_channel_seal(c->tx, secret, 1)) < 0 ||
                    (e = bf_channel_seal(c->rx, secret, 1)) < 0)) {
    bf_channel_del(&c->tx);
    bf_channel_del(&c->rx);
    return e;
  }
  atomic_store(&c->stop, 0);
  atomic_store(&c->sent, 0);
  atomic_store(&c->received, 0);
  pthread_t ts, trd;
  pthread_create(&trd, NULL, receiver, c);
  pthread_create(&ts, NULL, sender, c);
  uint64_t end = mono() + (uint64_t)(seconds * 1e9);
  while (mono() < end) {
    struct timespec w = {0, 20000000};
    nanosleep(&w, NULL);
  }
  atomic_store(&c->stop, 1);
  pthread_join(ts, NULL);
  pthread_join(trd, NULL);
  bf_channel_stats st;
  bf_channel_stats_get(c->rx, &st);
  const bf_transport *t = bf_channel_transport(c->rx);
  acc[0] += c->cpu_ns;
  acc[1] += c->datagrams;
  acc[2] += t->stats.rx_calls;
  acc[3] += (uint64_t)(seconds * 1e9);
  e = c->gro && !st.gro ? -ENOTSUP : 0; /* the kernel had no GRO */
  bf_channel_del(&c->tx);
  bf_channel_del(&c->rx);
  return e;
}

static int usage(void) {
  fprintf(stderr, "usage: bildfunk-bench channel-rx [--size B] [--seconds S] [--rounds N] "
                  "[--batch N] [--window N] [--sealed] [--no-pin]\n");
  return 2;
}

int bf_bench_channel_rx(int argc, char **argv) {
  rx_ctx c = {.size = BF_HEADER_BYTES + 1200, .batch = 64, .window = 4096, .pin = 1};
  double seconds = 1.0;
  long rounds = 3;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "";
    if (!strcmp(a, "--help")) {
      usage();
      return 0;
    } else if (!strcmp(a, "--sealed")) {
      c.sealed = 1;
    } else if (!strcmp(a, "--no-pin")) {
      c.pin = 0;
    } else if (!strcmp(a, "--size") && i + 1 < argc) {
      c.size = strtoul(v, NULL, 10), i++;
    } else if (!strcmp(a, "--seconds") && i + 1 < argc) {
      seconds = strtod(v, NULL), i++;
    } else if (!strcmp(a, "--rounds") && i + 1 < argc) {
      rounds = strtol(v, NULL, 10), i++;
    } else if (!strcmp(a, "--batch") && i + 1 < argc) {
      c.batch = strtoul(v, NULL, 10), i++;
    } else if (!strcmp(a, "--window") && i + 1 < argc) {
      c.window = strtoul(v, NULL, 10), i++;
    } else {
      return usage();
    }
  }
  size_t max = c.sealed ? BF_MAX_DATAGRAM - BF_SEAL_OVERHEAD : BF_MAX_DATAGRAM;
  if (c.size < BF_CHANNEL_VIDEO_MIN || c.size > max || c.batch < 1 || c.batch > 64 ||
      seconds <= 0 || rounds < 1 || rounds > 100 || c.window < c.batch)
    return usage();
  c.mem = calloc(c.batch, c.size);
  c.d = calloc(c.batch, sizeof *c.d);
  if (!c.mem || !c.d) {
    free(c.mem);
    free(c.d);
    return 1;
  }
  uint64_t acc[2][4] = {{0}};
  for (long r = 0; r < rounds; r++) {
    for (int m = 0; m < 2; m++) {
      c.gro = m;
      int e = round_run(&c, seconds, acc[m]);
      if (e < 0 || c.tx_err || c.rx_err) {
        fprintf(stderr, "bildfunk-bench channel-rx: %s: %s\n", m ? "gro" : "mmsg",
                bf_strerror(e < 0      ? e
                            : c.tx_err ? c.tx_err
                                       : c.rx_err));
        return 1;
      }
    }
  }
  double ns[2];
  printf("{\"bench\": \"channel-rx\", \"size\": %zu, \"batch\": %zu, \"window\": %zu, "
         "\"sealed\": %d, \"rounds\": %ld, \"seconds\": %.3f, \"pinned\": %d,\n",
         c.size, c.batch, c.window, c.sealed, rounds, seconds, c.pin);
  for (int m = 0; m < 2; m++) {
    ns[m] = acc[m][1] ? (double)acc[m][0] / (double)acc[m][1] : 0.0;
    printf(" \"%s\": {\"cpu_ns_per_datagram\": %.1f, \"pps\": %.0f, \"datagrams\": %llu, "
           "\"datagrams_per_call\": %.1f, \"rx_cpu_pct\": %.1f},\n",
           m ? "gro" : "mmsg", ns[m], (double)acc[m][1] / ((double)acc[m][3] / 1e9),
           (unsigned long long)acc[m][1], acc[m][2] ? (double)acc[m][1] / (double)acc[m][2] : 0.0,
           100.0 * (double)acc[m][0] / (double)acc[m][3]);
  }
  printf(" \"cpu_ratio_mmsg_over_gro\": %.2f, \"bad_length\": %llu,\n ",
         ns[1] > 0 ? ns[0] / ns[1] : 0.0, (unsigned long long)c.bad);
  bf_bench_print_machine(stdout);
  printf("}\n");
  free(c.mem);
  free(c.d);
  return c.bad ? 1 : 0;
}
