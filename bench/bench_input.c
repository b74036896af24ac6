/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * bildfunk-bench input: what the input link costs per input event, both
 * ends, over real UDP on loopback with the sealed data plane, against a bare
 * UDP send of the same bytes in the same run.
 *
 *   keys    every event (a key press or release) goes out at once in its own
 *           datagram and is acknowledged before the next, as typing is: the
 *           client's cost (the link's build, seal, send; receiving the STATE)
 *           and the sender's (receive, open, take, apply to a sink that does
 *           nothing, build, seal and send the STATE), per event
 *   motion  mouse motion at 4 events per ms: the link sums it and sends at
 *           most one datagram per ms, so the cost per event falls
 *   raw     sendto of an unsealed datagram of the same size, per datagram
 *
 * The waits for the other end's datagram are not counted. The client's
 * whole cost per event in the real program adds SDL and the
 * window system (bench/input_latency.sh measures the program).
 */
#include "bench.h"

#include <bildfunk/channel.h>
#include <bildfunk/inputlink.h>

#include <poll.h>
#include <stdlib.h>
#include <string.h>

#define BATCH 32u

typedef struct ends {
  bf_channel *cli, *snd;
  bf_inlink_tx tx;
  bf_inlink_rx rx;
  bf_inlink_sink sink;
  uint64_t taken, states;
} ends;

static uint64_t clock_now(void) {
  return bf_bench_now_ns();
}

static void on_input_snd(void *u, const uint8_t *d, size_t len, const bf_addr *from, uint64_t now) {
  ends *e = u;
  (void)from;
  if (bf_inlink_rx_datagram(&e->rx, d, len, now, now, &e->sink) >= 0) e->taken++;
}

static void on_input_cli(void *u, const uint8_t *d, size_t len, const bf_addr *from, uint64_t now) {
  ends *e = u;
  (void)from;
  bf_inmsg_state st;
  if (bf_inmsg_state_decode(d, len, &st) == 0) {
    bf_inlink_tx_on_state(&e->tx, &st, now);
    e->states++;
  }
}

static int open_ends(ends *e) {
  memset(e, 0, sizeof *e);
  bf_udp_config uc;
  bf_udp_config_default(&uc);
  uc.bind = "127.0.0.1:0";
  uc.quiet = 1;
  uc.gso = 0;
  bf_transport *a = NULL, *b = NULL;
  if (bf_udp_open(&uc, &a) < 0 || bf_udp_open(&uc, &b) < 0) return -1;
  bf_addr aa, ba;
  bf_transport_local_addr(a, &aa);
  bf_transport_local_addr(b, &ba);
  bf_transport_set_peer(a, &ba);
  bf_transport_set_peer(b, &aa);
  bf_channel_config cc = {.role = BF_CHANNEL_CLIENT, .now = clock_now, .burst_max = 1};
  bf_channel_config sc = {.role = BF_CHANNEL_SENDER, .now = clock_now, .require_seal = 1};
  if (bf_channel_new(&cc, a, &e->cli) < 0 || bf_channel_new(&sc, b, &e->snd) < 0) return -1;
  uint8_t secret[32];
  for (int i = 0; i < 32; i++)
    secret[i] = (uint8_t)(i * 37 + 11);
  if (bf_channel_seal(e->cli, secret, 1) < 0 || bf_channel_seal(e->snd, secret, 1) < 0) return -1;
  bf_channel_on(e->snd, BF_DKIND_INPUT, on_input_snd, e);
  bf_channel_on(e->cli, BF_DKIND_INPUT, on_input_cli, e);
  bf_inlink_tx_init(&e->tx);
  bf_inlink_rx_init(&e->rx, BF_INCLASS_ALL, clock_now());
  e->rx.rate = 100000000u; /* the bench is not about the rate limit */
  e->rx.burst = 100000000u;
  bf_inlink_rx_init(&e->rx, BF_INCLASS_ALL, clock_now());
  return 0;
}

/* Sends what is due on the client: datagrams sent. */
static int client_send(ends *e, uint64_t now) {
  uint8_t b[BF_INMSG_MAX_BYTES];
  bf_inlink_sent s;
  int n, sent = 0;
  while ((n = bf_inlink_tx_build(&e->tx, now, b, sizeof b, &s)) > 0) {
    bf_channel_send(e->cli, b, (size_t)n, NULL);
    sent++;
  }
  return sent;
}

/* Waits (untimed) until |c| has a datagram to read. */
static void readable(bf_channel *c) {
  struct pollfd p = {bf_channel_fd(c), POLLIN, 0};
  poll(&p, 1, 1000);
}

/* One key event there and its STATE back: client and sender times (the
 * waits for the other end's datagram are not counted). */
static void key_round(ends *e, uint32_t key, uint64_t t[2]) {
  uint64_t t0 = clock_now();
  bf_inev ev = {(uint8_t)(key % 2 ? BF_INEV_KEY_UP : BF_INEV_KEY_DOWN), 0,
                (uint16_t)(4 + (key / 2) % 26), 0, 0};
  bf_inlink_tx_event(&e->tx, &ev);
  client_send(e, t0);
  t[0] += clock_now() - t0;
  readable(e->snd);
  t0 = clock_now();
  bf_channel_receive(e->snd, 1);
  uint8_t st[256];
  int n = bf_inlink_rx_state(&e->rx, 1, st, sizeof st);
  bf_channel_send(e->snd, st, (size_t)n, NULL);
  t[1] += clock_now() - t0;
  readable(e->cli);
  t0 = clock_now();
  bf_channel_receive(e->cli, 1);
  t[0] += clock_now() - t0;
}

/* One ms of the motion case: 4 events, at most one datagram. */
static void motion_ms(ends *e, uint64_t now, uint64_t *dgrams) {
  for (int i = 0; i < 4; i++)
    bf_inlink_tx_motion(&e->tx, 3, -1, now);
  *dgrams += (uint64_t)client_send(e, now);
}

int bf_bench_input(int argc, char **argv) {
  uint32_t rounds = 2000; /* x 32 events */
  for (int i = 1; i + 1 < argc; i++)
    if (!strcmp(argv[i], "--rounds")) rounds = (uint32_t)atoi(argv[++i]);
  ends e;
  if (open_ends(&e) < 0) {
    fprintf(stderr, "bench input: cannot open two UDP sockets on loopback\n");
    return 1;
  }
  /* keys */
  uint64_t t[2] = {0, 0};
  for (uint32_t k = 0; k < rounds * BATCH; k++)
    key_round(&e, k, t);
  double nev = (double)rounds * BATCH;
  /* motion: simulated time, 1 ms steps */
  uint64_t dgrams = 0, m0 = clock_now(), sim = m0 + 1000000000ull; /* after the keys' sends */
  for (uint32_t ms = 0; ms < rounds * 8u; ms++, sim += 1000000ull) {
    motion_ms(&e, sim, &dgrams);
    if (ms % 16 == 15) { /* the sender takes them and acknowledges now and then */
      while (bf_channel_receive(e.snd, 4) > 0) {
      }
      uint8_t st[256];
      int n = bf_inlink_rx_state(&e.rx, 1, st, sizeof st);
      bf_channel_send(e.snd, st, (size_t)n, NULL);
      while (bf_channel_receive(e.cli, 4) > 0) {
      }
    }
  }
  double motion_ns = (double)(clock_now() - m0) / ((double)rounds * 8.0 * 4.0);
  /* raw: the same size unsealed, a bare send */
  uint8_t raw[64];
  memset(raw, 0xB0, sizeof raw);
  bf_dgram g = {raw, 58, NULL, 0};
  bf_transport *rt = bf_channel_transport(e.cli);
  uint64_t r0 = clock_now();
  for (uint32_t i = 0; i < rounds * BATCH; i++)
    bf_send(rt, &g);
  double raw_ns = (double)(clock_now() - r0) / nev;
  while (bf_channel_receive(e.snd, 64) > 0) {
  }
  printf("{\"benchmark\": \"input\", ");
  bf_bench_print_machine(stdout);
  printf(", \"events\": %.0f, \"keys\": {\"client_ns_per_event\": %.0f, \"sender_ns_per_event\": "
         "%.0f, \"raw_send_ns_per_datagram\": %.0f}, \"motion\": {\"events\": %u, "
         "\"datagrams\": %llu, \"ns_per_event\": %.0f}, \"link_errors\": {\"gaps\": %llu, "
         "\"repeats\": %llu, \"events_taken\": %llu}}\n",
         nev, (double)t[0] / nev, (double)t[1] / nev, raw_ns, rounds * 32u,
         (unsigned long long)dgrams, motion_ns, (unsigned long long)e.rx.st.gaps,
         (unsigned long long)e.rx.st.repeats, (unsigned long long)e.rx.st.events);
  bf_channel_del(&e.cli);
  bf_channel_del(&e.snd);
  return 0;
}
