/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * bf_relay: a tiny UDP relay for the client's end-to-end tests. It sits
 * between bildfunk (which punches to the relay) and bildfunk-send, forwards
 * both ways, and on the sender -> client video path drops shards from a
 * seeded PRNG (reproducible loss without netem, which this kernel lacks),
 * drops every shard of chosen frames (loss beyond FEC), or injects garbage
 * datagrams. Control datagrams (punch, feedback, pong, bye) are never dropped.
 *
 *   bf_relay --listen PORT --to HOST:PORT [--drop-pct P] [--seed N]
 *            [--fec-bounded] [--drop-frames I,J,...] [--garbage-every N]
 *            [--drop-keyframe-requests] [--empty-au I] [--burst I:N]
 *            [--idle-exit S] [--port-file FILE]
 *
 * --drop-keyframe-requests swallows the client's KEYFRAME_REQUEST feedback
 * (byte 0 = 0xFB, byte 1 = 1), so only in-stream recovery (intra-refresh
 * recovery points, periodic keyframes) can end a freeze.
 *
 * --fec-bounded caps the random loss at what Reed-Solomon can repair: never
 * more than m (recovery_shards) shards of one block are dropped, so every
 * frame must still come out bit-exact; the test then checks the client's FEC
 * path, not luck.
 *
 * --empty-au I puts an empty AU (frame_bytes 0, legal in spec §2: one data
 * shard of zeros, flags 0) in front of frame I with that frame's index, and
 * moves every later frame one index up, so the stream stays gapless; its
 * stream_seq is the next datagram's (the client counts it as a duplicate).
 *
 * --burst I:N holds frames I .. I+N-1 back and lets them go at once in front
 * of frame I+N (a network that stalled: N AUs complete in one receive).
 *
 * Frame numbers in --drop-frames, --empty-au and --burst count from the first video frame the relay
 * sees (0 = that frame). For each dropped frame it prints to stderr
 * "dropped frame I index F at T" with T = CLOCK_REALTIME ns of its last
 * shard, so a test can time the recovery. At exit (SIGTERM, SIGINT or
 * --idle-exit seconds without traffic) it prints one JSON line of counters
 * on stdout.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static void on_signal(int sig) {
  stop = sig;
}

static uint64_t rng_state;
static uint64_t rng_next(void) { /* splitmix64 */
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

static uint32_t le32(const uint8_t *d) {
  return (uint32_t)d[0] | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 16 | (uint32_t)d[3] << 24;
}
static void put_le32(uint8_t *d, uint32_t v) {
  for (int i = 0; i < 4; i++)
    d[i] = (uint8_t)(v >> (8 * i));
}

/* --empty-au: an empty AU in front of the video datagram |v| (first shard of
 * its frame), same index, pts, shard size and stream_seq; n bytes. */
static size_t make_empty_au(const uint8_t *v, uint8_t *out) {
  size_t shard = (size_t)(v[34] | v[35] << 8);
  memset(out, 0, 40 + shard);
  memcpy(out, v, 16); /* pts, frame_index, stream_seq */
  /* frame_bytes 0, user_flags 0, block 0 of 1, k 1, m 0, shard 0 */
  out[26] = 1;
  out[28] = 1;
  out[34] = v[34];
  out[35] = v[35];
  memcpy(out + 36, v + 36, 3); /* magic, version, fec scheme */
  out[39] = 0x1 | 0x2 | 0x4;   /* PIC, EOF, SOF */
  return 40 + shard;
}

static int parse_hostport(const char *s, struct sockaddr_in *a) {
  char host[64];
  const char *colon = strrchr(s, ':');
  if (!colon || (size_t)(colon - s) >= sizeof host) return -1;
  memcpy(host, s, (size_t)(colon - s));
  host[colon - s] = 0;
  memset(a, 0, sizeof *a);
  a->sin_family = AF_INET;
  a->sin_port = htons((uint16_t)atoi(colon + 1));
  return inet_pton(AF_INET, host[0] ? host : "127.0.0.1", &a->sin_addr) == 1 ? 0 : -1;
}

static int udp_socket(uint16_t port) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) return -1;
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int sz = 8 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
  if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

#define MAX_DROP_FRAMES 64

int main(int argc, char **argv) {
  int listen_port = -1;
  const char *to = NULL, *port_file = NULL;
  double drop_pct = 0, idle_exit = 30;
  uint64_t seed = 1;
  long drop_frames[MAX_DROP_FRAMES];
  int n_drop_frames = 0;
  unsigned garbage_every = 0;
  int fec_bounded = 0;
  int drop_kf_requests = 0;
  unsigned long long kf_requests_dropped = 0;
  long burst_at = -1, burst_n = 0; /* --burst */
  unsigned long long burst_held = 0;
  static uint8_t burst_buf[8 << 20];
  size_t burst_used = 0;
  long empty_at = -1; /* --empty-au */
  unsigned long long empty_aus = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--fec-bounded")) {
      fec_bounded = 1;
      continue;
    }
    if (!strcmp(a, "--drop-keyframe-requests")) {
      drop_kf_requests = 1;
      continue;
    }
    if (!v) {
      fprintf(stderr, "bf_relay: %s needs a value\n", a);
      return 2;
    }
    i++;
    if (!strcmp(a, "--listen"))
      listen_port = atoi(v);
    else if (!strcmp(a, "--to"))
      to = v;
    else if (!strcmp(a, "--drop-pct"))
      drop_pct = atof(v);
    else if (!strcmp(a, "--seed"))
      seed = strtoull(v, NULL, 10);
    else if (!strcmp(a, "--garbage-every"))
      garbage_every = (unsigned)atoi(v);
    else if (!strcmp(a, "--idle-exit"))
      idle_exit = atof(v);
    else if (!strcmp(a, "--port-file"))
      port_file = v;
    else if (!strcmp(a, "--empty-au"))
      empty_at = atol(v);
    else if (!strcmp(a, "--burst")) {
      char *e;
      burst_at = strtol(v, &e, 10);
      burst_n = *e == ':' ? strtol(e + 1, NULL, 10) : 0;
    } else if (!strcmp(a, "--drop-frames")) {
      char *p = (char *)v;
      while (*p && n_drop_frames < MAX_DROP_FRAMES) {
        drop_frames[n_drop_frames++] = strtol(p, &p, 10);
        if (*p == ',')
          p++;
        else
          break;
      }
    } else {
      fprintf(stderr, "bf_relay: unknown option %s\n", a);
      return 2;
    }
  }
  struct sockaddr_in up_addr;
  if (listen_port < 0 || !to || parse_hostport(to, &up_addr) != 0) {
    fprintf(stderr, "usage: bf_relay --listen PORT --to HOST:PORT [options]\n");
    return 2;
  }
  rng_state = seed;
  int down = udp_socket((uint16_t)listen_port); /* the client talks to this one */
  int up = udp_socket(0);                       /* ... and this one to the sender */
  if (down < 0 || up < 0) {
    perror("bf_relay: socket");
    return 1;
  }
  if (port_file) {
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    getsockname(down, (struct sockaddr *)&a, &al);
    FILE *f = fopen(port_file, "w");
    if (!f) return 1;
    fprintf(f, "%u\n", ntohs(a.sin_port));
    fclose(f);
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);

  struct sockaddr_in client;
  int have_client = 0;
  uint64_t up_pkts = 0, down_pkts = 0, video = 0, dropped_random = 0, dropped_frames = 0,
           garbage = 0;
  int have_first = 0;
  uint32_t first_index = 0;
  long last_dropped = -1;
  uint64_t last_drop_time = 0;
  uint32_t last_drop_index = 0;
  uint64_t last_activity = now_ns(CLOCK_MONOTONIC);
  /* shards dropped per (frame, block), for --fec-bounded: a small table
   * keyed by frame_index * 65536 + block_index */
  enum { SLOTS = 4096 };
  static uint64_t blk_key[SLOTS];
  static uint16_t blk_drops[SLOTS];
  static uint8_t buf[65536];
  while (!stop) {
    struct pollfd fds[2] = {{down, POLLIN, 0}, {up, POLLIN, 0}};
    int r = poll(fds, 2, 100);
    if (r < 0 && errno != EINTR) break;
    if (now_ns(CLOCK_MONOTONIC) - last_activity > (uint64_t)(idle_exit * 1e9)) break;
    if (r <= 0) continue;
    if (fds[0].revents & POLLIN) { /* client -> sender */
      struct sockaddr_in from;
      socklen_t fl = sizeof from;
      ssize_t n = recvfrom(down, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
      if (n >= 0) {
        client = from;
        have_client = 1;
        up_pkts++;
        last_activity = now_ns(CLOCK_MONOTONIC);
        if (drop_kf_requests && n >= 2 && buf[0] == 0xFB && buf[1] == 1)
          kf_requests_dropped++;
        else
          sendto(up, buf, (size_t)n, 0, (struct sockaddr *)&up_addr, sizeof up_addr);
      }
    }
    if (fds[1].revents & POLLIN) { /* sender -> client */
      ssize_t n = recvfrom(up, buf, sizeof buf, 0, NULL, NULL);
      if (n < 0 || !have_client) continue;
      last_activity = now_ns(CLOCK_MONOTONIC);
      down_pkts++;
      int is_video = n >= 40 && buf[36] == 0xC9;
      if (is_video) {
        video++;
        uint32_t idx = le32(buf + 8);
        if (!have_first) {
          have_first = 1;
          first_index = idx;
        }
        long rel = (long)(uint32_t)(idx - first_index);
        int drop = 0;
        for (int k = 0; k < n_drop_frames; k++)
          drop |= drop_frames[k] == rel;
        if (drop) {
          dropped_frames++;
          last_dropped = rel;
          last_drop_index = idx;
          last_drop_time = now_ns(CLOCK_REALTIME);
          continue;
        }
        if (last_dropped >= 0) { /* first packet after a dropped frame */
          fprintf(stderr, "dropped frame %ld index %u at %llu\n", last_dropped, last_drop_index,
                  (unsigned long long)last_drop_time);
          last_dropped = -1;
        }
        if (empty_at >= 0 && rel >= empty_at) {
          if (!empty_aus && n >= 40 + 512) { /* first datagram of frame |empty_at| */
            static uint8_t e[65536];
            size_t el = make_empty_au(buf, e);
            sendto(down, e, el, 0, (struct sockaddr *)&client, sizeof client);
            empty_aus++;
          }
          put_le32(buf + 8, idx + 1); /* the empty AU took this index */
        }
        if (drop_pct > 0 && (double)(rng_next() % 1000000) < drop_pct * 10000) {
          uint64_t key = (uint64_t)idx << 16 | (uint64_t)(buf[24] | buf[25] << 8);
          unsigned m = (unsigned)(buf[30] | buf[31] << 8);
          size_t slot = (size_t)(key * 0x9e3779b97f4a7c15ull >> 52) % SLOTS;
          if (blk_key[slot] != key + 1) {
            blk_key[slot] = key + 1;
            blk_drops[slot] = 0;
          }
          if (!fec_bounded || blk_drops[slot] < m) {
            blk_drops[slot]++;
            dropped_random++;
            continue;
          }
        }
      }
      if (is_video && burst_n > 0) {
        long rel = (long)(uint32_t)(le32(buf + 8) - first_index);
        if (rel >= burst_at && rel < burst_at + burst_n &&
            burst_used + 2 + (size_t)n <= sizeof burst_buf) { /* held back */
          burst_buf[burst_used] = (uint8_t)(n >> 8);
          burst_buf[burst_used + 1] = (uint8_t)n;
          memcpy(burst_buf + burst_used + 2, buf, (size_t)n);
          burst_used += 2 + (size_t)n;
          burst_held++;
          continue;
        }
        if (rel >= burst_at + burst_n && burst_used) { /* the stall ends: all at once */
          for (size_t at = 0; at < burst_used;) {
            size_t len = (size_t)burst_buf[at] << 8 | burst_buf[at + 1];
            sendto(down, burst_buf + at + 2, len, 0, (struct sockaddr *)&client, sizeof client);
            at += 2 + len;
          }
          burst_used = 0;
        }
      }
      sendto(down, buf, (size_t)n, 0, (struct sockaddr *)&client, sizeof client);
      if (is_video && garbage_every && video % garbage_every == 0) {
        /* garbage: random bytes, or a video header with broken fields */
        uint8_t g[1500];
        size_t len = 1 + rng_next() % sizeof g;
        for (size_t i = 0; i < len; i++)
          g[i] = (uint8_t)rng_next();
        switch (rng_next() % 4) {
        case 0:
          if (len >= 40) g[36] = 0xC9, g[37] = 1, g[38] = 0;
          break; /* looks like video */
        case 1:
          g[0] = 0xFB;
          break; /* looks like control */
        case 2:
          if (len >= 40) memcpy(g, buf, 40);
          break; /* real header, junk body */
        default:
          break;
        }
        garbage++;
        sendto(down, g, len, 0, (struct sockaddr *)&client, sizeof client);
      }
    }
  }
  if (last_dropped >= 0)
    fprintf(stderr, "dropped frame %ld index %u at %llu\n", last_dropped, last_drop_index,
            (unsigned long long)last_drop_time);
  printf("{\"to_sender\": %llu, \"to_client\": %llu, \"video\": %llu, \"dropped_random\": %llu, "
         "\"dropped_frames_packets\": %llu, \"garbage\": %llu, \"keyframe_requests_dropped\": "
         "%llu, \"empty_aus\": %llu, \"burst_held\": %llu}\n",
         (unsigned long long)up_pkts, (unsigned long long)down_pkts, (unsigned long long)video,
         (unsigned long long)dropped_random, (unsigned long long)dropped_frames,
         (unsigned long long)garbage, kf_requests_dropped, empty_aus, burst_held);
  close(down);
  close(up);
  return 0;
}
