/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * nat_peer: one side of the NAT punch test (tests/nat/nat_punch.sh), run
 * inside a network namespace. Uses the real transport and punch code.
 *
 *   nat_peer sender --bind A --expect IP --reported A [--burst-ms N] [--pps N]
 *                   [--resume-ms N] [--stray-bind A]
 *     Waits for a punch (spec §7, 2.5 s), adopts its source or falls back to
 *     --reported, then sends phase-1 packets for --burst-ms, stays silent
 *     until --resume-ms after adoption, and sends phase-2 packets for
 *     --burst-ms. With --stray-bind it also sends phase-3 packets to the same
 *     target from a second socket (another source port) during phase 1.
 *     Prints: state= target= sent1= sent2= sent3= punches= retargets=
 *   nat_peer client --bind A --sender A --seconds N [--keepalive 0|1] [--no-punch]
 *     Punches (15 x 200 ms, then every 2 s with --keepalive 1), counts the
 *     packets of each phase that arrive from the sender's address.
 *     Prints: recv1= recv2= recv3= foreign= punches=
 *
 * Test packets: 1000 bytes, byte 0 = 0xC9 (never a punch), byte 1 = phase.
 */
#include <bildfunk/punch.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MS 1000000ull
#define PKT 1000

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static const char *opt(int argc, char **argv, const char *name, const char *def) {
  for (int i = 2; i + 1 < argc; i++)
    if (!strcmp(argv[i], name)) return argv[i + 1];
  return def;
}

static int flag(int argc, char **argv, const char *name) {
  for (int i = 2; i < argc; i++)
    if (!strcmp(argv[i], name)) return 1;
  return 0;
}

static bf_transport *open_udp(const char *bind) {
  bf_udp_config c;
  bf_udp_config_default(&c);
  c.bind = bind;
  c.quiet = 1;
  bf_transport *t = NULL;
  int rc = bf_udp_open(&c, &t);
  if (rc < 0) {
    fprintf(stderr, "nat_peer: bind %s: %s\n", bind, bf_strerror(rc));
    exit(2);
  }
  return t;
}

static bf_addr parse(const char *s) {
  bf_addr a;
  if (bf_addr_parse(s, 0, &a) != 0) {
    fprintf(stderr, "nat_peer: bad address %s\n", s);
    exit(2);
  }
  return a;
}

static int run_sender(int argc, char **argv) {
  bf_transport *t = open_udp(opt(argc, argv, "--bind", "0.0.0.0:7000"));
  const char *stray_bind = opt(argc, argv, "--stray-bind", NULL);
  bf_transport *stray = stray_bind ? open_udp(stray_bind) : NULL;
  uint64_t burst = strtoull(opt(argc, argv, "--burst-ms", "1000"), NULL, 10) * MS;
  uint64_t resume = strtoull(opt(argc, argv, "--resume-ms", "11000"), NULL, 10) * MS;
  uint64_t pps = strtoull(opt(argc, argv, "--pps", "500"), NULL, 10);
  if (pps == 0) pps = 1;
  bf_punch_sender_config cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.expected = parse(opt(argc, argv, "--expect", "0.0.0.0"));
  cfg.reported = parse(opt(argc, argv, "--reported", "0.0.0.0:0"));
  bf_punch_sender s;
  bf_punch_sender_init(&s, &cfg, now_ns());

  uint8_t in[BF_RECV_BUF_BYTES], pkt[PKT];
  memset(pkt, 0x55, sizeof pkt);
  pkt[0] = 0xC9;
  uint64_t t0 = 0, sent[4] = {0}, seq = 0, next_send = 0;
  for (;;) {
    uint64_t now = now_ns();
    /* feed whatever arrived to the punch state machine */
    bf_addr from;
    int r;
    while ((r = bf_recv(t, in, sizeof in, &from)) > 0) {
      bf_punch_event e = bf_punch_sender_on_datagram(&s, in, (size_t)r, &from, now);
      if (e == BF_PUNCH_RETARGET) {
        bf_transport_set_peer(t, bf_punch_sender_target(&s));
        if (stray) bf_transport_set_peer(stray, bf_punch_sender_target(&s));
      }
    }
    if (bf_punch_sender_poll(&s, now)) {
      bf_transport_set_peer(t, bf_punch_sender_target(&s));
      if (stray) bf_transport_set_peer(stray, bf_punch_sender_target(&s));
    }
    if (!t0 && bf_punch_sender_target(&s)) t0 = next_send = now;
    if (!t0) {
      (void)bf_transport_wait(t, 10);
      continue;
    }
    uint64_t el = now - t0;
    if (el >= resume + burst) break;
    int phase = el < burst ? 1 : (el >= resume ? 2 : 0);
    if (phase && next_send + 20 * MS < now) next_send = now; /* after the pause: no catch-up */
    if (phase && now >= next_send) {
      pkt[1] = (uint8_t)phase;
      memcpy(pkt + 4, &seq, sizeof seq);
      seq++;
      bf_dgram d = {pkt, sizeof pkt, NULL, 0};
      if (bf_send(t, &d) == 1) sent[phase]++;
      if (stray && phase == 1) {
        pkt[1] = 3;
        if (bf_send(stray, &d) == 1) sent[3]++;
      }
      next_send += 1000000000ull / pps;
    }
    (void)bf_transport_wait(t, phase ? 1 : 10);
  }
  char tb[BF_ADDR_STRLEN];
  printf("state=%s target=%s sent1=%llu sent2=%llu sent3=%llu punches=%llu retargets=%llu "
         "tx_dropped=%llu\n",
         s.state == BF_PUNCH_ADOPTED    ? "adopted"
         : s.state == BF_PUNCH_FALLBACK ? "fallback"
                                        : "waiting",
         bf_addr_format(bf_punch_sender_target(&s), tb, sizeof tb), (unsigned long long)sent[1],
         (unsigned long long)sent[2], (unsigned long long)sent[3], (unsigned long long)s.punches,
         (unsigned long long)s.retargets, (unsigned long long)t->stats.tx_dropped);
  bf_transport_close(&stray);
  bf_transport_close(&t);
  return 0;
}

static int run_client(int argc, char **argv) {
  bf_transport *t = open_udp(opt(argc, argv, "--bind", "0.0.0.0:6000"));
  bf_addr snd = parse(opt(argc, argv, "--sender", "127.0.0.1:7000"));
  bf_transport_set_peer(t, &snd);
  uint64_t seconds = strtoull(opt(argc, argv, "--seconds", "10"), NULL, 10);
  int keepalive = atoi(opt(argc, argv, "--keepalive", "1"));
  int punching = !flag(argc, argv, "--no-punch");
  bf_punch_client pc;
  uint64_t start = now_ns(), end = start + seconds * 1000 * MS;
  bf_punch_client_init(&pc, start, keepalive);
  uint64_t recv[4] = {0}, foreign = 0, punches = 0;
  uint8_t in[BF_RECV_BUF_BYTES];
  for (;;) {
    uint64_t now = now_ns();
    if (now >= end) break;
    if (punching && bf_punch_client_due(&pc, now)) {
      int r = bf_punch_send(t);
      if (r < 0) {
        fprintf(stderr, "nat_peer: punch: %s\n", bf_strerror(r));
        return 1;
      }
      punches++;
    }
    bf_addr from;
    int r;
    while ((r = bf_recv(t, in, sizeof in, &from)) > 0) {
      if (!bf_addr_equal(&from, &snd) || r != PKT || in[0] != 0xC9 || in[1] < 1 || in[1] > 3) {
        foreign++;
        continue;
      }
      recv[in[1]]++;
    }
    uint64_t due = punching ? bf_punch_client_next(&pc) : UINT64_MAX;
    uint64_t wake = due < end ? due : end;
    int ms = wake > now ? (int)((wake - now) / MS) + 1 : 0;
    if (ms > 50) ms = 50;
    (void)bf_transport_wait(t, ms);
  }
  printf("recv1=%llu recv2=%llu recv3=%llu foreign=%llu punches=%llu\n",
         (unsigned long long)recv[1], (unsigned long long)recv[2], (unsigned long long)recv[3],
         (unsigned long long)foreign, (unsigned long long)punches);
  bf_transport_close(&t);
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 2 && !strcmp(argv[1], "sender")) return run_sender(argc, argv);
  if (argc >= 2 && !strcmp(argv[1], "client")) return run_client(argc, argv);
  fprintf(stderr, "usage: nat_peer sender|client [options] (see the source)\n");
  return 2;
}
