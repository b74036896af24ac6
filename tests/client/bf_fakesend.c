/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * bf_fakesend: a stand-in sender for the client's bad-input tests. It speaks
 * the direct-mode session (waits for the punch, answers clock pings) but
 * sends what a real sender never would:
 *
 *   --mode junk-au   N access units of random bytes flagged as keyframes,
 *                    correctly packetized with 20 % FEC, then BYE: a bitstream
 *                    no decoder accepts (the codec cannot even be detected
 *                    unless the client is told --codec)
 *   --mode garbage   random datagrams for --seconds S (random bytes, broken
 *                    video headers, unknown control messages), never valid
 *                    video, no BYE
 *
 *   bf_fakesend --listen PORT --mode junk-au|garbage [--frames N] [--fps F]
 *               [--seconds S] [--seed N] [--port-file FILE]
 *
 * Prints one JSON line of counters (including keyframe requests received)
 * on stdout at the end.
 */
#include <bildfunk/feedback.h>
#include <bildfunk/packetizer.h>
#include <bildfunk/transport.h>
#include <bildfunk/wire.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t rng_state;
static uint64_t rng_next(void) {
  uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static uint64_t now_ns(clockid_t c) {
  struct timespec ts;
  clock_gettime(c, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

typedef struct fake {
  bf_transport *t;
  int have_client;
  uint64_t keyframe_requests, pings, byes, punches;
} fake;

/* Handles everything pending from the client. */
static void serve(fake *f) {
  uint8_t buf[BF_RECV_BUF_BYTES];
  bf_addr from;
  for (;;) {
    int n = bf_recv(f->t, buf, sizeof buf, &from);
    if (n <= 0) return;
    if (bf_is_punch(buf, (size_t)n)) {
      f->punches++;
      if (!f->have_client) bf_transport_set_peer(f->t, &from);
      f->have_client = 1;
      continue;
    }
    bf_feedback fb;
    if (bf_feedback_decode(buf, (size_t)n, &fb) != 0) continue;
    if (fb.type == BF_FB_KEYFRAME_REQUEST) f->keyframe_requests++;
    if (fb.type == BF_FB_BYE) f->byes++;
    if (fb.type == BF_FB_CLOCK_PING && f->have_client) {
      f->pings++;
      bf_feedback p;
      memset(&p, 0, sizeof p);
      p.type = BF_FB_CLOCK_PONG;
      p.u.pong.id = fb.u.ping.id;
      p.u.pong.t1_ns = fb.u.ping.t1_ns;
      p.u.pong.t2_ns = now_ns(CLOCK_REALTIME);
      p.u.pong.t3_ns = now_ns(CLOCK_REALTIME);
      uint8_t out[BF_FB_MAX_BYTES];
      int len = bf_feedback_encode(&p, out, sizeof out);
      bf_dgram d = {out, (size_t)len, NULL, 0};
      bf_send(f->t, &d);
    }
  }
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

int main(int argc, char **argv) {
  const char *listen = NULL, *mode = NULL, *port_file = NULL;
  unsigned frames = 30, fps = 60;
  double seconds = 3;
  uint64_t seed = 7;
  for (int i = 1; i + 1 < argc; i += 2) {
    const char *a = argv[i], *v = argv[i + 1];
    if (!strcmp(a, "--listen"))
      listen = v;
    else if (!strcmp(a, "--mode"))
      mode = v;
    else if (!strcmp(a, "--frames"))
      frames = (unsigned)atoi(v);
    else if (!strcmp(a, "--fps"))
      fps = (unsigned)atoi(v);
    else if (!strcmp(a, "--seconds"))
      seconds = atof(v);
    else if (!strcmp(a, "--seed"))
      seed = strtoull(v, NULL, 10);
    else if (!strcmp(a, "--port-file"))
      port_file = v;
    else {
      fprintf(stderr, "bf_fakesend: unknown option %s\n", a);
      return 2;
    }
  }
  if (!listen || !mode || (strcmp(mode, "junk-au") && strcmp(mode, "garbage")) || !fps) {
    fprintf(stderr, "usage: bf_fakesend --listen PORT --mode junk-au|garbage [options]\n");
    return 2;
  }
  rng_state = seed;
  char bind[64];
  snprintf(bind, sizeof bind, "127.0.0.1:%s", listen);
  bf_udp_config uc;
  bf_udp_config_default(&uc);
  uc.bind = bind;
  uc.quiet = 1;
  fake f;
  memset(&f, 0, sizeof f);
  int r = bf_udp_open(&uc, &f.t);
  if (r < 0) {
    fprintf(stderr, "bf_fakesend: bind %s: %s\n", bind, bf_strerror(r));
    return 1;
  }
  if (port_file) {
    bf_addr local;
    char name[BF_ADDR_STRLEN];
    bf_transport_local_addr(f.t, &local);
    bf_addr_format(&local, name, sizeof name);
    FILE *pf = fopen(port_file, "w");
    if (!pf) return 1;
    fprintf(pf, "%s\n", strrchr(name, ':') + 1);
    fclose(pf);
  }
  /* wait for the punch */
  uint64_t deadline = now_ns(CLOCK_MONOTONIC) + 10000000000ull;
  while (!f.have_client && now_ns(CLOCK_MONOTONIC) < deadline) {
    bf_transport_wait(f.t, 100);
    serve(&f);
  }
  if (!f.have_client) {
    fprintf(stderr, "bf_fakesend: no punch\n");
    return 1;
  }
  uint64_t sent = 0;
  if (!strcmp(mode, "junk-au")) {
    bf_packetizer_config pc;
    bf_packetizer_config_default(&pc);
    pc.fec_percent = 20;
    bf_packetizer *pk;
    if (bf_packetizer_new(&pc, &pk) < 0) return 1;
    static uint8_t au[64 * 1024];
    for (unsigned i = 0; i < frames; i++) {
      size_t len = 2000 + rng_next() % 20000;
      for (size_t k = 0; k < len; k++)
        au[k] = (uint8_t)rng_next();
      au[0] = 0x80; /* neither a start code nor a valid OBU header */
      bf_packetizer_begin(pk, au, len, now_ns(CLOCK_REALTIME), BF_AU_KEYFRAME);
      bf_dgram d[64];
      int n;
      while ((n = bf_packetizer_next(pk, d, 64)) > 0)
        sent += (uint64_t)bf_send_batch(f.t, d, (size_t)n);
      serve(&f);
      sleep_ms(1000 / fps);
      serve(&f);
    }
    bf_packetizer_del(&pk);
    bf_feedback bye;
    memset(&bye, 0, sizeof bye);
    bye.type = BF_FB_BYE;
    uint8_t out[BF_FB_MAX_BYTES];
    int len = bf_feedback_encode(&bye, out, sizeof out);
    bf_dgram d = {out, (size_t)len, NULL, 0};
    for (int i = 0; i < 3; i++)
      bf_send(f.t, &d);
    sleep_ms(200);
    serve(&f);
  } else {
    uint64_t end = now_ns(CLOCK_MONOTONIC) + (uint64_t)(seconds * 1e9);
    uint8_t g[2000];
    while (now_ns(CLOCK_MONOTONIC) < end) {
      for (int i = 0; i < 20; i++) {
        size_t len = 1 + rng_next() % sizeof g;
        for (size_t k = 0; k < len; k++)
          g[k] = (uint8_t)rng_next();
        switch (rng_next() % 5) {
        case 0: /* a video header with random fields */
          if (len >= 40) g[36] = BF_MAGIC, g[37] = 1, g[38] = 0;
          break;
        case 1: /* a plausible header whose length does not match */
          if (len >= 40) {
            bf_header h;
            memset(&h, 0, sizeof h);
            h.frame_bytes = 5000;
            h.block_count = 1;
            h.data_shards = 4;
            h.recovery_shards = 2;
            h.shard_bytes = 1408;
            h.magic = BF_MAGIC;
            h.version = BF_WIRE_VERSION;
            h.flags = BF_PKT_PIC;
            bf_header_encode(&h, g);
          }
          break;
        case 2: /* control-ish: client-bound types the sender never sends, or unknown ones */
          g[0] = BF_FB_MAGIC;
          g[1] = (uint8_t)(rng_next() % 2 ? 1 + rng_next() % 3 : 6 + rng_next() % 250);
          break;
        case 3:
          len = len % 39 + 1;
          break; /* short */
        default:
          break;
        }
        bf_dgram d = {g, len, NULL, 0};
        if (bf_send(f.t, &d) == 1) sent++;
      }
      serve(&f);
      sleep_ms(10);
    }
  }
  printf("{\"datagrams_sent\": %llu, \"keyframe_requests\": %llu, \"pings\": %llu, "
         "\"punches\": %llu, \"byes\": %llu}\n",
         (unsigned long long)sent, (unsigned long long)f.keyframe_requests,
         (unsigned long long)f.pings, (unsigned long long)f.punches, (unsigned long long)f.byes);
  bf_transport_close(&f.t);
  return 0;
}
