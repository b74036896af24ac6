/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * bf_fakectl: a stand-in for bildfunk-send's control port, for the client's
 * end-to-end tests (tests/client/e2e.sh control-*). It runs the library's
 * sender role (ctl_session.h) on 127.0.0.1:0, one connection at a time, and
 * does to connection i what word i of --script says:
 *   bye     serve (pairing confirmed automatically); BYE_AFTER_MS after
 *           the session is established send Bye 0 ("stream finished")
 *   hold    serve until the client leaves; print the client's Bye reason
 *   freeze  serve until established, then fall silent (socket left open)
 *   newid   from now on use a fresh certificate, then as bye
 *   forget  remove every client pin first (a revocation), then as bye
 *   reject  refuse the pairing confirmation (as a wrong code typed)
 * --confirm-delay-ms N: the "user" answers a pairing prompt after N ms.
 * The Welcome is sealed unless --clear. No data plane of its own: the
 * Welcome names --data-port (default 9, nobody; 0: a free one, printed) and K --max-k (32); with
 * --secret-file FILE the session's exported seal secret is written there
 * (64 hex digits, as --seal-key-file reads it) once established, so a test
 * can start a real bildfunk-send on that data port with it. Prints "bf_fakectl: control on
 * 127.0.0.1:PORT" on stderr once listening and one line per session end;
 * exits 0 after the script, 1 on an error.
 */
#include <bildfunk/ctl_session.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* "bye": the Bye follows the sender's ESTABLISHED by this much. The client
 * holds its own until its user typed this sender's code (pairing), which
 * the test does once it reads it here: on a busy machine (load 10) that
 * took more than the 300 ms this was, and the Bye ended the pairing. */
#define BYE_AFTER_MS 1500

#define MS 1000000ull

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void flush_out(bf_ctl_session *s, int fd) {
  uint8_t buf[4096];
  size_t n;
  while ((n = bf_ctl_session_take_out(s, buf, sizeof buf)) > 0) {
    size_t off = 0;
    while (off < n) {
      ssize_t w = send(fd, buf + off, n - off, MSG_NOSIGNAL);
      if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
        struct pollfd p = {fd, POLLOUT, 0};
        (void)poll(&p, 1, 100);
        continue;
      }
      if (w <= 0) return;
      off += (size_t)w;
    }
  }
}

/* One connection per |what|. Returns 0 or -1 (an error of this tool). */
static const char *secret_file;
static uint64_t confirm_delay_ns; /* the user takes this long to type the code */

static void write_secret(bf_ctl_session *s) {
  uint8_t sec[32];
  if (!secret_file || bf_ctl_session_seal_secret(s, sec, sizeof sec) < 0) return;
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.tmp", secret_file);
  FILE *f = fopen(tmp, "w");
  if (!f) return;
  for (size_t i = 0; i < sizeof sec; i++)
    fprintf(f, "%02x", sec[i]);
  fputc('\n', f);
  fclose(f);
  rename(tmp, secret_file); /* appears whole */
  memset(sec, 0, sizeof sec);
}

static int serve(int lfd, const char *what, bf_ctl_session_cfg *cfg) {
  struct pollfd lp = {lfd, POLLIN, 0};
  if (poll(&lp, 1, 60000) <= 0) {
    fprintf(stderr, "bf_fakectl: no client within 60 s\n");
    return -1;
  }
  int fd = accept(lfd, NULL, NULL);
  if (fd < 0) return -1;
  bf_ctl_session *s = NULL;
  if (bf_ctl_session_new(cfg, now_ns(), &s) < 0) {
    close(fd);
    return -1;
  }
  int reject = !strcmp(what, "reject");
  int freeze = !strcmp(what, "freeze");
  int hold = !strcmp(what, "hold");
  uint64_t est = 0, give_up = now_ns() + 120000 * MS, confirm_at = 0;
  int rc = 0;
  for (;;) {
    uint64_t now = now_ns();
    if (now > give_up) {
      fprintf(stderr, "bf_fakectl: %s: the connection did not end\n", what);
      rc = -1;
      break;
    }
    if (freeze && est) {
      /* silent: read nothing, send nothing, until the client hangs up */
      uint8_t b[4096];
      struct pollfd p = {fd, POLLIN, 0};
      (void)poll(&p, 1, 100);
      if (p.revents && recv(fd, b, sizeof b, MSG_DONTWAIT) == 0) {
        fprintf(stderr, "bf_fakectl: freeze: the client hung up %.3f s after falling silent\n",
                (double)(now_ns() - est) / 1e9);
        break;
      }
      if (p.revents & (POLLERR | POLLHUP)) break;
      continue;
    }
    uint8_t buf[16384];
    ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0)
      (void)bf_ctl_session_feed(s, buf, (size_t)n, now);
    else if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
      bf_ctl_session_eof(s, now);
    bf_ctl_session_tick(s, now);
    bf_ctl_event ev;
    while (bf_ctl_session_poll(s, &ev)) {
      if (ev.type == BF_CTL_EV_CONFIRM_CODE) {
        fprintf(stderr, "bf_fakectl: confirm code %s from \"%s\": %s\n", ev.code, ev.peer_name,
                reject ? "refused" : "accepted");
        /* what a sender shows for the client's user to type there */
        fprintf(stderr, "bf_fakectl: sender code %s\n", ev.code_peer);
        confirm_at = now + confirm_delay_ns;
      } else if (ev.type == BF_CTL_EV_ESTABLISHED) {
        est = now;
        write_secret(s);
        fprintf(stderr, "bf_fakectl: %s: established with \"%s\" (%ux%u, max %ux%u)\n", what,
                ev.hello.name, ev.welcome.width, ev.welcome.height, ev.hello.max_width,
                ev.hello.max_height);
      } else if (ev.type == BF_CTL_EV_CLOSED) {
        fprintf(stderr, "bf_fakectl: %s: closed, reason %u by %s: %s\n", what, ev.reason,
                ev.by_peer ? "client" : "us", ev.text);
      }
    }
    if (confirm_at && now >= confirm_at) {
      confirm_at = 0;
      (void)bf_ctl_session_confirm(s, !reject, now);
      while (bf_ctl_session_poll(s, &ev)) {
        if (ev.type == BF_CTL_EV_ESTABLISHED) {
          est = now;
          write_secret(s);
          fprintf(stderr, "bf_fakectl: %s: established with \"%s\" (%ux%u, max %ux%u)\n", what,
                  ev.hello.name, ev.welcome.width, ev.welcome.height, ev.hello.max_width,
                  ev.hello.max_height);
        } else if (ev.type == BF_CTL_EV_CLOSED) {
          fprintf(stderr, "bf_fakectl: %s: closed, reason %u by us: %s\n", what, ev.reason,
                  ev.text);
        }
      }
    }
    if (est && !hold && !freeze && now > est + BYE_AFTER_MS * MS)
      bf_ctl_session_close(s, BF_CTL_BYE_NORMAL, "stream finished", now);
    flush_out(s, fd);
    if (bf_ctl_session_state(s) == BF_CTL_ST_CLOSED) break;
    struct pollfd p = {fd, POLLIN, 0};
    uint64_t d = bf_ctl_session_deadline(s);
    int ms = d > now ? (int)((d - now) / MS) + 1 : 0;
    (void)poll(&p, 1, ms > 50 ? 50 : ms);
  }
  bf_ctl_session_del(&s);
  close(fd);
  return rc;
}

int main(int argc, char **argv) {
  const char *script = NULL;
  int clear = 0;
  long data_port = 9, max_k = 32;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--script") && i + 1 < argc)
      script = argv[++i];
    else if (!strcmp(argv[i], "--secret-file") && i + 1 < argc)
      secret_file = argv[++i];
    else if (!strcmp(argv[i], "--data-port") && i + 1 < argc)
      data_port = strtol(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--confirm-delay-ms") && i + 1 < argc)
      confirm_delay_ns = (uint64_t)strtoul(argv[++i], NULL, 10) * MS;
    else if (!strcmp(argv[i], "--max-k") && i + 1 < argc)
      max_k = strtol(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--clear"))
      clear = 1;
    else {
      fprintf(stderr, "usage: bf_fakectl --script WORD[,WORD...] [--clear] [--data-port P] "
                      "[--max-k K] [--secret-file FILE]\n");
      return 2;
    }
  }
  if (data_port < 0 || data_port > 65535 || max_k < 1 || max_k > 253) return 2;
  if (data_port == 0) { /* a free UDP port for the test's sender: bind, note, release */
    int u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in ua;
    memset(&ua, 0, sizeof ua);
    ua.sin_family = AF_INET;
    ua.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t ul = sizeof ua;
    if (u < 0 || bind(u, (struct sockaddr *)&ua, sizeof ua) < 0 ||
        getsockname(u, (struct sockaddr *)&ua, &ul) < 0) {
      perror("bf_fakectl: data port");
      return 1;
    }
    data_port = ntohs(ua.sin_port);
    close(u);
  }
  if (!script) {
    fprintf(stderr, "usage: bf_fakectl --script WORD[,WORD...] [--clear]\n");
    return 2;
  }
  bf_identity *id = NULL;
  bf_pinstore *pins = NULL;
  if (bf_identity_generate("bf_fakectl", &id) < 0 || bf_pinstore_open(NULL, &pins) < 0) return 1;
  bf_pair_limiter lim;
  bf_pair_limiter_init(&lim, BF_PAIR_LIMIT_MAX, BF_PAIR_LIMIT_DEFAULT_WINDOW_NS);

  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t al = sizeof a;
  if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof a) < 0 || listen(lfd, 4) < 0 ||
      getsockname(lfd, (struct sockaddr *)&a, &al) < 0) {
    perror("bf_fakectl: listen");
    return 1;
  }
  fprintf(stderr, "bf_fakectl: control on 127.0.0.1:%u, data port %ld\n", ntohs(a.sin_port),
          data_port);

  bf_ctl_session_cfg cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.role = BF_TLS_SERVER;
  cfg.id = id;
  cfg.pins = pins;
  cfg.limiter = &lim;
  cfg.wall_unix = (int64_t)time(NULL);
  bf_ctl_offer *o = &cfg.offer;
  o->codec_pref[0] = BF_CTL_CODEC_H264;
  o->width = 1280;
  o->height = 720;
  o->fps = 60;
  o->shard_bytes = 1408;
  o->max_k = (uint16_t)max_k;
  o->fec_percent = 10;
  o->data_port = (uint16_t)data_port;
  o->max_frame_bytes = 1u << 20;
  o->bitrate_kbps = 5000;
  o->sealed = clear ? 0 : 2;

  char words[512];
  snprintf(words, sizeof words, "%s", script);
  int rc = 0;
  for (char *save = NULL, *w = strtok_r(words, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
    if (!strcmp(w, "newid")) {
      bf_identity_del(&id);
      if (bf_identity_generate("bf_fakectl, reinstalled", &id) < 0) return 1;
      cfg.id = id;
    } else if (!strcmp(w, "forget")) {
      while (bf_pinstore_count(pins)) {
        char hex[BF_FP_HEX_BYTES];
        bf_fp_hex(bf_pinstore_at(pins, 0)->fp, hex);
        if (bf_pinstore_revoke(pins, hex) < 0) return 1;
      }
    } else if (strcmp(w, "bye") && strcmp(w, "hold") && strcmp(w, "freeze") &&
               strcmp(w, "reject")) {
      fprintf(stderr, "bf_fakectl: unknown script word '%s'\n", w);
      return 2;
    }
    fflush(stderr);
    if (serve(lfd, w, &cfg) < 0) {
      rc = 1;
      break;
    }
    fflush(stderr);
  }
  close(lfd);
  bf_pinstore_del(&pins);
  bf_identity_del(&id);
  return rc;
}
