/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * bf_flood: a relay between bildfunk and bildfunk-send that floods the
 * client with bad datagrams while the real stream runs (issue #7, "under
 * fire" tests). It is a test tool, not part of the product.
 *
 *   bf_flood --to HOST:PORT --port-file FILE [--pps N] [--via relay|foreign|both]
 *            [--seed N] [--idle-exit S]
 *
 * The client punches to the relay socket (bound to 127.0.0.1, port in
 * FILE); the relay forwards both ways through a second socket. The client
 * only accepts datagrams from the address it punched to, so a flood sent
 * from any other socket is dropped before the reassembler (counted as
 * foreign). --via relay therefore sends the flood from the relay socket
 * itself: on loopback that is the only way to reach the reassembler without
 * raw sockets. --via foreign sends it from a third socket (127.0.0.1, other
 * port): the source check. --via both alternates.
 *
 * The flood (about N datagrams per second, default 100000, in batches through
 * libbftransport's send_batch) starts with the first video datagram from the
 * sender and cycles through: random bytes of random length; well-formed
 * headers with a wrong magic, version or FEC scheme; a length that does not
 * match shard_bytes; an odd shard size; shard_index >= k + m; block_index >=
 * block_count; headers of foreign frames (the current frame index minus 2^20:
 * stale) and of the newest frame the relay has forwarded but contradicting
 * its pinned size; PROBE fillers; truncated headers; short datagrams that
 * start like feedback but are not a client-bound message. Valid-looking headers of *future* frames are never
 * sent: without the sealed data plane (spec §6) any receiver must believe
 * them, which is what sealing is for.
 *
 * Only ever sends to 127.0.0.1 (the client's address is checked). At exit
 * (SIGTERM, SIGINT, --idle-exit seconds without relayed traffic) it prints
 * one JSON line of counters on stdout.
 */
#include <bildfunk/transport.h>
#include <bildfunk/feedback.h>
#include <bildfunk/wire.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile sig_atomic_t stop;
static void on_signal(int sig) { stop = sig; }

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t rng_state;
static uint32_t rnd(void) { /* xorshift64* */
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return (uint32_t)((rng_state * 2685821657736338717ull) >> 32);
}

#define FLOOD_BATCH 64u
#define FLOOD_KINDS 13u

/* The newest sender header seen, the template for the well-formed lies. */
static bf_header last_hdr;
static int have_hdr;

/* Fills |buf| with flood datagram number |i|; returns its length. */
static size_t make_flood(uint8_t *buf, uint64_t i) {
  bf_header h = last_hdr;
  size_t len;
  switch (i % FLOOD_KINDS) {
  case 0: /* random bytes, random length */
    len = 1 + rnd() % 1500u;
    for (size_t j = 0; j < len; j++) buf[j] = (uint8_t)rnd();
    if (buf[0] == BF_FB_MAGIC) buf[0] = 0; /* see the feedback case */
    return len;
  case 1:
    h.magic = (uint8_t)(BF_MAGIC ^ (1u + rnd() % 255u));
    break;
  case 2:
    h.version = 2;
    break;
  case 3:
    h.fec_scheme = 7;
    break;
  case 4: /* the datagram is shorter than shard_bytes says */
    bf_header_encode(&h, buf);
    memset(buf + BF_HEADER_BYTES, 0x5a, 100);
    return BF_HEADER_BYTES + 100u;
  case 5:
    h.shard_bytes = (uint16_t)(h.shard_bytes | 1u);
    break;
  case 6:
    h.shard_index = (uint16_t)(h.data_shards + h.recovery_shards + rnd() % 50u);
    break;
  case 7:
    h.block_index = (uint16_t)(h.block_count + rnd() % 10u);
    break;
  case 8: /* a foreign frame: well-formed, far behind the stream */
    h.frame_index -= 1u << 20;
    h.stream_seq -= 1u << 24;
    h.pts_ns -= 3600000000000ull;
    break;
  case 9: /* the newest forwarded frame, contradicting its pinned size */
    h.frame_bytes += 2u * h.shard_bytes * BF_DEFAULT_MAX_K;
    h.block_count = (uint16_t)(h.block_count + 2u);
    break;
  case 10:
    h.flags = BF_PKT_PROBE;
    break;
  case 11: /* a truncated header */
    bf_header_encode(&h, buf);
    if (buf[0] == BF_FB_MAGIC) buf[0] = 0; /* see the feedback case */
    return 20u + rnd() % 20u;
  default: /* short, starts like feedback: a client-bound type (PONG, BYE)
              * is never sent: unsealed, a BYE from the sender's address is
              * believed and ends the session (the sealed plane rejects it) */
    len = 2 + rnd() % 30u;
    for (size_t j = 0; j < len; j++) buf[j] = (uint8_t)rnd();
    buf[0] = BF_FB_MAGIC;
    if (buf[1] == BF_FB_CLOCK_PONG || buf[1] == BF_FB_BYE) buf[1] = BF_FB_LOSS_REPORT;
    return len;
  }
  bf_header_encode(&h, buf);
  len = BF_HEADER_BYTES + h.shard_bytes;
  if (len > BF_MAX_DATAGRAM) len = BF_MAX_DATAGRAM;
  memset(buf + BF_HEADER_BYTES, (int)(i & 0xff), len - BF_HEADER_BYTES);
  return len;
}

static int is_loopback(const bf_addr *a) {
  if (a->ss.ss_family != AF_INET) return 0;
  const struct sockaddr_in *s = (const struct sockaddr_in *)(const void *)&a->ss;
  return (ntohl(s->sin_addr.s_addr) >> 24) == 127u;
}

static int open_sock(const char *bind, bf_transport **t) {
  bf_udp_config c;
  memset(&c, 0, sizeof c);
  c.bind = bind;
  c.quiet = 1;
  c.sock_buf = 8u << 20;
  return bf_udp_open(&c, t);
}

static int usage(void) {
  fprintf(stderr, "usage: bf_flood --to HOST:PORT --port-file FILE [--pps N] "
                  "[--via relay|foreign|both] [--seed N] [--idle-exit S]\n");
  return 2;
}

int main(int argc, char **argv) {
  const char *to_text = NULL, *port_file = NULL, *via = "relay";
  double pps = 100000, idle_exit = 5;
  rng_state = 0x9e3779b97f4a7c15ull;
  for (int i = 1; i < argc; i += 2) { /* every option takes a value */
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!v) return usage();
    if (!strcmp(a, "--to")) to_text = v;
    else if (!strcmp(a, "--port-file")) port_file = v;
    else if (!strcmp(a, "--pps")) pps = atof(v);
    else if (!strcmp(a, "--via")) via = v;
    else if (!strcmp(a, "--seed")) rng_state ^= strtoull(v, NULL, 10) * 0x100000001b3ull;
    else if (!strcmp(a, "--idle-exit")) idle_exit = atof(v);
    else return usage();
  }
  int via_relay = !strcmp(via, "relay") || !strcmp(via, "both");
  int via_foreign = !strcmp(via, "foreign") || !strcmp(via, "both");
  if (!to_text || !port_file || (!via_relay && !via_foreign) || pps < 0) return usage();

  bf_addr sender;
  if (bf_addr_parse(to_text, 47998, &sender) != 0 || !is_loopback(&sender)) {
    fprintf(stderr, "bf_flood: --to must be a 127.0.0.0/8 address\n");
    return 2;
  }
  bf_transport *relay = NULL, *up = NULL, *foreign = NULL;
  if (open_sock("127.0.0.1:0", &relay) || open_sock("127.0.0.1:0", &up) ||
      open_sock("127.0.0.1:0", &foreign)) {
    fprintf(stderr, "bf_flood: cannot open sockets\n");
    return 1;
  }
  bf_transport_set_peer(up, &sender);
  bf_addr local;
  if (bf_transport_local_addr(relay, &local) != 0) return 1;
  {
    FILE *f = fopen(port_file, "w");
    if (!f) return 1;
    fprintf(f, "%u\n", ntohs(((const struct sockaddr_in *)(const void *)&local.ss)->sin_port));
    fclose(f);
  }
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);

  bf_recv_ring ring_c, ring_s;
  if (bf_recv_ring_init(&ring_c, 0, 0) || bf_recv_ring_init(&ring_s, 0, 0)) return 1;
  static uint8_t fbuf[FLOOD_BATCH][BF_MAX_DATAGRAM];
  bf_dgram fd[FLOOD_BATCH];
  bf_addr client;
  memset(&client, 0, sizeof client);
  uint64_t up_n = 0, down_n = 0, flood_relay = 0, flood_foreign = 0, flood_refused = 0;
  uint64_t made = 0, flood_t0 = 0, last_traffic = now_ns();
  struct pollfd pfd[2] = {{.fd = relay->fd, .events = POLLIN}, {.fd = up->fd, .events = POLLIN}};

  while (!stop) {
    int flooding = client.len && have_hdr && pps > 0;
    poll(pfd, 2, flooding ? 1 : 50);
    uint64_t now = now_ns();
    /* client -> sender */
    for (int n; (n = bf_recv_batch(relay, &ring_c)) > 0;) {
      for (size_t i = 0; i < ring_c.n; i++) {
        const bf_rx_slot *s = &ring_c.slots[i];
        if (!s->from || !is_loopback(s->from)) continue;
        if (!client.len) {
          client = *s->from;
          bf_transport_set_peer(relay, &client);
          bf_transport_set_peer(foreign, &client);
        }
        if (!bf_addr_equal(s->from, &client)) continue;
        bf_dgram d = {s->data, s->len, NULL, 0};
        bf_send(up, &d);
        up_n++;
        last_traffic = now;
      }
      if ((size_t)n < ring_c.count) break;
    }
    /* sender -> client */
    for (int n; (n = bf_recv_batch(up, &ring_s)) > 0;) {
      for (size_t i = 0; i < ring_s.n; i++) {
        const bf_rx_slot *s = &ring_s.slots[i];
        if (!client.len || !s->from || !bf_addr_equal(s->from, &sender)) continue;
        if (s->len >= BF_HEADER_BYTES && s->data[36] == BF_MAGIC) {
          bf_header_decode(s->data, &last_hdr);
          if (!(last_hdr.flags & BF_PKT_PROBE) && last_hdr.shard_bytes >= BF_MIN_SHARD) {
            if (!have_hdr) flood_t0 = now;
            have_hdr = 1;
          }
        }
        bf_dgram d = {s->data, s->len, NULL, 0};
        bf_send(relay, &d);
        down_n++;
        last_traffic = now;
      }
      if ((size_t)n < ring_s.count) break;
    }
    if (idle_exit > 0 && (double)(now - last_traffic) / 1e9 > idle_exit) break;
    if (!client.len || !have_hdr || pps <= 0) continue;
    /* the flood: catch up with N per second since it started */
    uint64_t due = (uint64_t)(pps * (double)(now - flood_t0) / 1e9);
    if (due > made + 4096) made = due - 4096; /* starved: do not burst more */
    while (made < due && !stop) {
      size_t n = due - made < FLOOD_BATCH ? (size_t)(due - made) : FLOOD_BATCH;
      for (size_t i = 0; i < n; i++) {
        fd[i].head = fbuf[i];
        fd[i].head_len = make_flood(fbuf[i], made + i);
        fd[i].body = NULL;
        fd[i].body_len = 0;
      }
      int use_relay = via_relay && (!via_foreign || ((made / FLOOD_BATCH) & 1u));
      int r = bf_send_batch(use_relay ? relay : foreign, fd, n);
      size_t took = r > 0 ? (size_t)r : 0;
      if (use_relay) flood_relay += took;
      else flood_foreign += took;
      flood_refused += n - took;
      made += n;
    }
  }
  double secs = flood_t0 ? (double)(now_ns() - flood_t0) / 1e9 : 0;
  printf("{\"up\": %llu, \"down\": %llu, \"flood_relay\": %llu, \"flood_foreign\": %llu, "
         "\"flood_refused\": %llu, \"flood_seconds\": %.3f, \"flood_pps\": %.0f}\n",
         (unsigned long long)up_n, (unsigned long long)down_n, (unsigned long long)flood_relay,
         (unsigned long long)flood_foreign, (unsigned long long)flood_refused, secs,
         secs > 0 ? (double)(flood_relay + flood_foreign) / secs : 0.0);
  bf_recv_ring_free(&ring_c);
  bf_recv_ring_free(&ring_s);
  bf_transport_close(&relay);
  bf_transport_close(&up);
  bf_transport_close(&foreign);
  return 0;
}
