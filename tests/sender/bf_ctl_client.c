/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * bf-ctl-client: a test client for bildfunk-send's control mode, built on
 * the library's client role (bildfunk/ctl_session.h) and sealed data plane
 * (bildfunk/seal.h) — not the bildfunk program — so the sender's e2e
 * tests do not depend on the client. It connects, pairs when asked to (the
 * code goes to --code-file for the test script to type at the sender),
 * punches the Welcome's data port, opens every datagram with the session's
 * keys, and ends with Bye normal after --seconds, or freezes (no reads, no
 * writes, socket open) after --mute-after to play a dead peer.
 * --replay-at S plays an attacker who records one sealed datagram and can
 * send from the client's IP: S seconds after ESTABLISHED the client sends a
 * sealed keyframe request, then a punch from a second socket on the same
 * IP (a sealed session refuses it: the client authenticated itself with
 * the keyframe request), then the recorded datagram again from there; the
 * sender must drop it as a replay (its stats say so).
 *
 *   bf-ctl-client --connect IP:PORT --id-dir DIR [--pair 0|1|2] [--name N]
 *                 [--seconds S] [--mute-after S] [--punch-from IP]
 *                 [--code-file FILE] [--timeout S] [--max-size WxH]
 *                 [--replay-at S]
 *
 * Prints key=value lines: code, established, codec, width, height, shard,
 * max_k, sealed, opened, bad, closed_reason, closed_by_peer, closed_text.
 * Exit 0 when it ran as asked (whatever the outcome), 2 for usage errors.
 */
#include <bildfunk/ctl_session.h>
#include <bildfunk/feedback.h>
#include <bildfunk/seal.h>
#include <bildfunk/transport.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static uint64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int usage(void) {
  fprintf(stderr, "usage: bf-ctl-client --connect IP:PORT --id-dir DIR [--pair 0|1|2] "
                  "[--name N] [--seconds S] [--mute-after S] [--punch-from IP] "
                  "[--code-file FILE] [--timeout S] [--max-size WxH] [--replay-at S]\n");
  return 2;
}

static void send_all(int fd, const uint8_t *b, size_t n) {
  size_t off = 0;
  while (off < n) {
    ssize_t w = send(fd, b + off, n - off, MSG_NOSIGNAL);
    if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
      struct pollfd p = {fd, POLLOUT, 0};
      poll(&p, 1, 50);
      continue;
    }
    if (w <= 0) return;
    off += (size_t)w;
  }
}

int main(int argc, char **argv) {
  const char *connect_to = NULL, *id_dir = NULL, *name = "e2e-client", *punch_from = NULL;
  const char *code_file = NULL;
  int pair = 1;
  unsigned max_w = 7680, max_h = 4320;
  double seconds = 1, mute_after = -1, timeout = 20, replay_at = -1;
  for (int i = 1; i + 1 < argc; i += 2) {
    const char *k = argv[i], *v = argv[i + 1];
    if (!strcmp(k, "--connect"))
      connect_to = v;
    else if (!strcmp(k, "--id-dir"))
      id_dir = v;
    else if (!strcmp(k, "--pair"))
      pair = atoi(v);
    else if (!strcmp(k, "--name"))
      name = v;
    else if (!strcmp(k, "--seconds"))
      seconds = atof(v);
    else if (!strcmp(k, "--mute-after"))
      mute_after = atof(v);
    else if (!strcmp(k, "--punch-from"))
      punch_from = v;
    else if (!strcmp(k, "--code-file"))
      code_file = v;
    else if (!strcmp(k, "--timeout"))
      timeout = atof(v);
    else if (!strcmp(k, "--replay-at"))
      replay_at = atof(v);
    else if (!strcmp(k, "--max-size")) {
      if (sscanf(v, "%ux%u", &max_w, &max_h) != 2) return usage();
    } else
      return usage();
  }
  if (!connect_to || !id_dir || (argc - 1) % 2) return usage();

  bf_identity *id = NULL;
  bf_pinstore *pins = NULL;
  char path[600];
  snprintf(path, sizeof path, "%s/senders", id_dir);
  int r = bf_identity_load(id_dir, "client", NULL, &id);
  if (r == 0) r = bf_pinstore_open(path, &pins);
  if (r < 0) {
    fprintf(stderr, "bf-ctl-client: identity/pins in %s: %s\n", id_dir, bf_strerror(r));
    return 1;
  }
  bf_addr to;
  if (bf_addr_parse(connect_to, 0, &to) < 0) return usage();
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (connect(fd, (const struct sockaddr *)&to.ss, to.len) < 0) {
    fprintf(stderr, "bf-ctl-client: connect %s: %s\n", connect_to, strerror(errno));
    return 1;
  }
  fcntl(fd, F_SETFL, O_NONBLOCK);

  bf_ctl_session_cfg c;
  memset(&c, 0, sizeof c);
  c.role = BF_TLS_CLIENT;
  c.id = id;
  c.pins = pins;
  c.peer_name = connect_to;
  c.pair = pair;
  c.wall_unix = (int64_t)time(NULL);
  c.hello.proto_version = 1;
  c.hello.mtu = 1500;
  c.hello.codecs = BF_CTL_CODEC_BIT(BF_CTL_CODEC_H264) | BF_CTL_CODEC_BIT(BF_CTL_CODEC_HEVC) |
                   BF_CTL_CODEC_BIT(BF_CTL_CODEC_AV1);
  c.hello.max_width = (uint16_t)max_w;
  c.hello.max_height = (uint16_t)max_h;
  c.hello.max_fps = 240;
  c.hello.shard_bytes = 1200; /* below the sender's 1408: the Welcome must carry it */
  c.hello.caps = BF_CTL_CAP_SEALED;
  snprintf(c.hello.name, sizeof c.hello.name, "%s", name);
  uint64_t t0 = mono_ns();
  bf_ctl_session *s = NULL;
  if (bf_ctl_session_new(&c, t0, &s) < 0) return 1;

  int u = -1, established = 0, muted = 0, closed = 0;
  uint64_t est_at = 0, opened = 0, bad = 0;
  bf_opener *op = NULL;
  bf_sealer *sl = NULL;
  int replayed = 0;
  uint8_t buf[65536], out[65536];
  while (!closed && mono_ns() - t0 < (uint64_t)(timeout * 1e9)) {
    struct pollfd p[2] = {{muted ? -1 : fd, POLLIN, 0}, {u, POLLIN, 0}};
    poll(p, 2, 10);
    uint64_t now = mono_ns();
    if (muted) {
      if (u >= 0) /* keep the UDP socket drained: the sender streams until it notices */
        while (recv(u, buf, sizeof buf, MSG_DONTWAIT) > 0) {
        }
      if (now - est_at > (uint64_t)((mute_after + 3) * 1e9)) break;
      continue;
    }
    size_t n;
    while ((n = bf_ctl_session_take_out(s, buf, sizeof buf)) > 0)
      send_all(fd, buf, n);
    ssize_t got;
    while ((got = recv(fd, buf, sizeof buf, 0)) > 0)
      bf_ctl_session_feed(s, buf, (size_t)got, now);
    if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) bf_ctl_session_eof(s, now);
    bf_ctl_session_tick(s, now);
    bf_ctl_event ev;
    while (bf_ctl_session_poll(s, &ev)) {
      if (ev.type == BF_CTL_EV_SHOW_CODE) {
        printf("code=%s\n", ev.code);
        fflush(stdout);
        if (code_file) {
          FILE *f = fopen(code_file, "w");
          if (f) {
            fprintf(f, "%s\n", ev.code);
            fclose(f);
          }
        }
      } else if (ev.type == BF_CTL_EV_PAIRED) {
        /* the session pinned the sender in memory; the file is ours to write */
        int pr = bf_pinstore_add(pins, ev.peer_fp, ev.peer_name, ev.paired_unix, ev.unique_name);
        if (pr < 0) fprintf(stderr, "bf-ctl-client: saving the pin: %s\n", bf_strerror(pr));
      } else if (ev.type == BF_CTL_EV_ESTABLISHED) {
        established = 1;
        est_at = now;
        const bf_ctl_welcome *w = &ev.welcome;
        printf("established=1\ncodec=%u\nwidth=%u\nheight=%u\nshard=%u\nmax_k=%u\nsealed=%u\n",
               w->codec, w->width, w->height, w->shard_bytes, w->max_k,
               (w->flags & BF_CTL_WELCOME_SEALED) ? 1u : 0u);
        fflush(stdout);
        uint8_t secret[32];
        bf_seal_key s2c, c2s;
        if (bf_ctl_session_seal_secret(s, secret, sizeof secret) == 0 &&
            bf_seal_derive(secret, sizeof secret, &s2c, &c2s) == 0) {
          bf_opener_new(&s2c, BF_SEAL_S2C, 1, &op);
          bf_sealer_new(&c2s, BF_SEAL_C2S, 1000, &sl);
        }
        memset(secret, 0, sizeof secret);
        u = socket(AF_INET, SOCK_DGRAM, 0);
        if (punch_from) {
          struct sockaddr_in b = {.sin_family = AF_INET};
          inet_pton(AF_INET, punch_from, &b.sin_addr);
          if (bind(u, (struct sockaddr *)&b, sizeof b) < 0) perror("bf-ctl-client: bind");
        }
        bf_addr d = to;
        ((struct sockaddr_in *)&d.ss)->sin_port = htons(w->data_port);
        if (connect(u, (const struct sockaddr *)&d.ss, d.len) < 0) perror("bf-ctl-client: udp");
        fcntl(u, F_SETFL, O_NONBLOCK);
      } else if (ev.type == BF_CTL_EV_CLOSED) {
        printf("closed_reason=%u\nclosed_by_peer=%d\nclosed_text=%s\n", ev.reason, ev.by_peer,
               ev.text);
        closed = 1;
      }
    }
    if (u >= 0) {
      /* punches as the real client: every 200 ms (the sender ignores repeats) */
      static uint64_t next_punch;
      if (now >= next_punch) {
        (void)send(u, BF_PUNCH_MAGIC, BF_PUNCH_BYTES, 0);
        next_punch = now + 200000000ull;
      }
      while ((got = recv(u, buf, sizeof buf, 0)) > 0) {
        if (op && bf_opener_open(op, buf, (size_t)got, out, sizeof out, NULL) > 0)
          opened++;
        else
          bad++;
      }
    }
    if (u >= 0 && sl && !replayed && replay_at >= 0 &&
        now - est_at >= (uint64_t)(replay_at * 1e9)) {
      replayed = 1;
      bf_feedback fb;
      memset(&fb, 0, sizeof fb);
      fb.type = BF_FB_KEYFRAME_REQUEST;
      fb.u.keyframe.request_id = 77;
      uint8_t plain[64], sealed[128];
      int pn = bf_feedback_encode(&fb, plain, sizeof plain);
      bf_dgram d = {plain, pn > 0 ? (size_t)pn : 0, NULL, 0};
      int sn = pn > 0 ? bf_sealer_seal(sl, &d, sealed, sizeof sealed) : -1;
      int u2 = socket(AF_INET, SOCK_DGRAM, 0);
      struct sockaddr_in dst;
      socklen_t dl = sizeof dst;
      getpeername(u, (struct sockaddr *)&dst, &dl);
      if (punch_from) {
        struct sockaddr_in b = {.sin_family = AF_INET};
        inet_pton(AF_INET, punch_from, &b.sin_addr);
        (void)bind(u2, (struct sockaddr *)&b, sizeof b);
      }
      if (sn > 0 && u2 >= 0 && connect(u2, (struct sockaddr *)&dst, dl) == 0) {
        (void)send(u, sealed, (size_t)sn, 0); /* the genuine one */
        struct timespec pause = {0, 50000000};
        nanosleep(&pause, NULL);
        (void)send(u2, BF_PUNCH_MAGIC, BF_PUNCH_BYTES, 0); /* the attacker re-targets */
        nanosleep(&pause, NULL);
        (void)send(u2, sealed, (size_t)sn, 0); /* and replays */
        printf("replayed=1\n");
        fflush(stdout);
      }
      if (u2 >= 0) close(u2);
    }
    if (established && !closed && mute_after >= 0 && now - est_at >= (uint64_t)(mute_after * 1e9)) {
      muted = 1;
      printf("muted=1\n");
      fflush(stdout);
    }
    if (established && !closed && mute_after < 0 && now - est_at >= (uint64_t)(seconds * 1e9)) {
      bf_ctl_session_close(s, BF_CTL_BYE_NORMAL, "test client done", now);
      while ((n = bf_ctl_session_take_out(s, buf, sizeof buf)) > 0)
        send_all(fd, buf, n);
      closed = 1;
    }
  }
  printf("established=%d\nopened=%llu\nbad=%llu\n", established, (unsigned long long)opened,
         (unsigned long long)bad);
  bf_opener_del(&op);
  bf_sealer_del(&sl);
  bf_ctl_session_del(&s);
  close(fd);
  if (u >= 0) close(u);
  bf_pinstore_del(&pins);
  bf_identity_del(&id);
  return 0;
}
