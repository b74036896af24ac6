/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * End-to-end test of bildfunk-netsim on loopback: a "client" socket and a
 * "sender" socket around a running relay process (argv[1]). Checks that what
 * arrives matches the relay's own --stats-json exactly, that a seed gives the
 * same losses twice, duplication and delay bounds, any payload size up to
 * 9216 bytes, oversize and foreign-source datagrams, --duration and SIGTERM.
 * Plain POSIX sockets on purpose: it does not rely on the transport library
 * the relay is built on. Exit status 0 = pass.
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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAXD 9216
#define NS 1000000000ull

static const char *g_netsim;
static int g_failures;

#define CHECK(cond, ...)                                                                           \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                              \
      fprintf(stderr, __VA_ARGS__);                                                                \
      fprintf(stderr, "\n");                                                                       \
      g_failures++;                                                                                \
    }                                                                                              \
  } while (0)

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
}

static void sleep_us(long us) {
  struct timespec ts = {.tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000};
  nanosleep(&ts, NULL);
}

/* A UDP socket on 127.0.0.1 with an ephemeral port and a large receive buffer. */
static int udp_socket(uint16_t *port) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) {
    perror("socket");
    exit(1);
  }
  int sz = 8 << 20;
#ifdef SO_RCVBUFFORCE
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof sz) != 0)
#endif
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t l = sizeof a;
  if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
      getsockname(fd, (struct sockaddr *)&a, &l) != 0) {
    perror("bind");
    exit(1);
  }
  *port = ntohs(a.sin_port);
  return fd;
}

static struct sockaddr_in loopback(uint16_t port) {
  struct sockaddr_in a = {
      .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  return a;
}

static int send_to(int fd, uint16_t port, const void *p, size_t n) {
  struct sockaddr_in a = loopback(port);
  return (int)sendto(fd, p, n, 0, (struct sockaddr *)&a, sizeof a);
}

/* Receives one datagram within |timeout_ms|; returns its length or -1. */
static ssize_t recv_wait(int fd, uint8_t *buf, size_t cap, int timeout_ms,
                         struct sockaddr_in *from) {
  struct pollfd p = {.fd = fd, .events = POLLIN};
  if (poll(&p, 1, timeout_ms) <= 0) return -1;
  socklen_t l = sizeof *from;
  return recvfrom(fd, buf, cap, MSG_DONTWAIT, (struct sockaddr *)from, &l);
}

/* recv_wait, with the time the kernel took the datagram (SO_TIMESTAMPNS, on
 * CLOCK_MONOTONIC through |rt_minus_mono|) in |*at|: a loaded machine that
 * keeps this loop from reading does not add to the delay measured. */
static ssize_t recv_wait_ts(int fd, uint8_t *buf, size_t cap, int timeout_ms, int64_t rt_minus_mono,
                            uint64_t *at) {
  struct pollfd p = {.fd = fd, .events = POLLIN};
  if (poll(&p, 1, timeout_ms) <= 0) return -1;
  struct iovec iov = {buf, cap};
  union {
    char b[CMSG_SPACE(sizeof(struct timespec))];
    struct cmsghdr align;
  } ctl;
  struct msghdr m = {
      .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b, .msg_controllen = sizeof ctl.b};
  ssize_t n = recvmsg(fd, &m, MSG_DONTWAIT);
  *at = now_ns();
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); n >= 0 && c; c = CMSG_NXTHDR(&m, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
      struct timespec ts;
      memcpy(&ts, CMSG_DATA(c), sizeof ts);
      *at = (uint64_t)((int64_t)ts.tv_sec * (int64_t)NS + ts.tv_nsec - rt_minus_mono);
    }
  return n;
}

typedef struct relay {
  pid_t pid;
  int out;       /* its stdout */
  uint16_t port; /* where it listens */
  char json[256];
} relay;

/* Starts the relay toward |to_port| with the extra |args| (NULL-terminated)
 * and waits for its "listening on ADDR" line. */
static void relay_start(relay *r, uint16_t to_port, const char *const *args) {
  static int serial;
  /* In the working directory (ctest runs in the build tree). */
  snprintf(r->json, sizeof r->json, "netsim_e2e_%d_%d.json", (int)getpid(), serial++);
  unlink(r->json);
  char to[32];
  snprintf(to, sizeof to, "127.0.0.1:%u", (unsigned)to_port);
  const char *argv[40];
  int n = 0;
  argv[n++] = g_netsim;
  argv[n++] = "--listen";
  argv[n++] = "127.0.0.1:0";
  argv[n++] = "--to";
  argv[n++] = to;
  argv[n++] = "--stats-json";
  argv[n++] = r->json;
  for (int i = 0; args[i] && n < 39; i++)
    argv[n++] = args[i];
  argv[n] = NULL;
  int pfd[2];
  if (pipe(pfd) != 0) {
    perror("pipe");
    exit(1);
  }
  r->pid = fork();
  if (r->pid == 0) {
    dup2(pfd[1], 1);
    close(pfd[0]);
    close(pfd[1]);
    execv(g_netsim, (char *const *)argv);
    perror("execv");
    _exit(127);
  }
  close(pfd[1]);
  r->out = pfd[0];
  char line[512];
  size_t len = 0;
  while (len + 1 < sizeof line) {
    char c;
    if (read(r->out, &c, 1) != 1) break;
    if (c == '\n') break;
    line[len++] = c;
  }
  line[len] = 0;
  /* 127.0.0.1:PORT, or every address (a bare --listen PORT) */
  const char *p = strstr(line, "listening on 127.0.0.1:");
  if (!p) p = strstr(line, "listening on 0.0.0.0:");
  if (!p) {
    fprintf(stderr, "relay did not start: '%s'\n", line);
    exit(1);
  }
  r->port = (uint16_t)atoi(strchr(p, ':') + 1);
  fprintf(stderr, "# %s\n", line);
}

/* Stops the relay (SIGTERM unless it ends by itself with --duration), checks
 * its exit status, echoes its output, and returns the stats JSON (malloc). */
static char *relay_stop(relay *r, int by_signal) {
  if (by_signal) kill(r->pid, SIGTERM);
  int st = 0;
  waitpid(r->pid, &st, 0);
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "relay exit status %d", st);
  char buf[4096];
  ssize_t n;
  while ((n = read(r->out, buf, sizeof buf - 1)) > 0) {
    buf[n] = 0;
    fprintf(stderr, "%s", buf);
  }
  close(r->out);
  FILE *f = fopen(r->json, "r");
  if (!f) {
    fprintf(stderr, "FAIL: no stats file %s\n", r->json);
    exit(1);
  }
  char *text = calloc(1, 65536);
  size_t got = fread(text, 1, 65535, f);
  text[got] = 0;
  fclose(f);
  unlink(r->json);
  return text;
}

/* A counter from the "up" or "down" object of the stats JSON. */
static uint64_t stat_of(const char *json, const char *dir, const char *key) {
  char head[32], k[64];
  snprintf(head, sizeof head, "\"%s\": {", dir);
  snprintf(k, sizeof k, "\"%s\": ", key);
  const char *p = strstr(json, head);
  const char *end = p ? strstr(p, "\n  }") : NULL;
  const char *q = p ? strstr(p, k) : NULL;
  if (!q || q > end) {
    fprintf(stderr, "FAIL: no %s.%s in stats\n", dir, key);
    exit(1);
  }
  return strtoull(q + strlen(k), NULL, 10);
}

static double statf_of(const char *json, const char *dir, const char *key) {
  char head[32], k[64];
  snprintf(head, sizeof head, "\"%s\": {", dir);
  snprintf(k, sizeof k, "\"%s\": ", key);
  const char *p = strstr(json, head);
  const char *end = p ? strstr(p, "\n  }") : NULL;
  const char *q = p ? strstr(p, k) : NULL;
  if (!q || q > end) {
    fprintf(stderr, "FAIL: no %s.%s in stats\n", dir, key);
    exit(1);
  }
  return strtod(q + strlen(k), NULL);
}

/* Payload of datagram |seq|: the seq, a send timestamp, then bytes derived
 * from the seq, so corruption and mix-ups are caught. */
static size_t make_payload(uint8_t *b, uint32_t seq, size_t len) {
  uint64_t t = now_ns();
  memset(b, 0, 12);
  memcpy(b, &seq, 4);
  memcpy(b + 4, &t, 8);
  for (size_t i = 12; i < len; i++)
    b[i] = (uint8_t)(seq * 31u + i);
  return len;
}

static int payload_ok(const uint8_t *b, size_t len, uint32_t *seq, uint64_t *sent) {
  if (len < 12) return 0;
  memcpy(seq, b, 4);
  memcpy(sent, b + 4, 8);
  for (size_t i = 12; i < len; i++)
    if (b[i] != (uint8_t)(*seq * 31u + i)) return 0;
  return 1;
}

static size_t len_of(uint32_t seq) {
  return 12 + (seq * 7919u) % 1389u;
}

/* 10k datagrams up through 5 % loss, every 10th answered down. Returns the
 * bitmap of lost sequence numbers (malloc) for the reproducibility check. */
static uint8_t *run_loss(const char *seed) {
  enum { N = 10000 };
  uint16_t cport, sport;
  int cs = udp_socket(&cport), ss = udp_socket(&sport);
  relay r;
  const char *args[] = {"--dir", "up", "--loss", "5", "--seed", seed, NULL};
  relay_start(&r, sport, args);

  uint8_t *seen = calloc(N, 1);
  static uint8_t buf[MAXD + 1];
  struct sockaddr_in from, relay_side = {0};
  uint64_t got = 0, bad = 0, replies_sent = 0, replies_got = 0;
  uint32_t next = 0;
  uint64_t quiet_since = now_ns();
  while (next < N || now_ns() - quiet_since < 300000000ull) {
    /* Paced (about 25 k/s): 10 datagrams, then drain both sockets, so
     * nothing overflows a default-sized socket buffer. */
    for (int i = 0; i < 10 && next < N; i++, next++) {
      size_t len = make_payload(buf, next, len_of(next));
      if (send_to(cs, r.port, buf, len) < 0) perror("send");
    }
    int any = 0;
    ssize_t n;
    while ((n = recv_wait(ss, buf, sizeof buf, next < N ? 0 : 20, &from)) >= 0) {
      any = 1;
      uint32_t seq;
      uint64_t t;
      if (!payload_ok(buf, (size_t)n, &seq, &t) || seq >= N || seen[seq] ||
          (size_t)n != len_of(seq)) {
        bad++;
        continue;
      }
      seen[seq] = 1;
      got++;
      relay_side = from;
      if (seq % 10 == 0) { /* answer through the relay's sender-side socket */
        if (send_to(ss, ntohs(relay_side.sin_port), buf, (size_t)n) >= 0) replies_sent++;
      }
    }
    while ((n = recv_wait(cs, buf, sizeof buf, 0, &from)) >= 0) {
      any = 1;
      uint32_t seq;
      uint64_t t;
      if (payload_ok(buf, (size_t)n, &seq, &t) && seq % 10 == 0 && ntohs(from.sin_port) == r.port)
        replies_got++;
      else
        bad++;
    }
    if (any) quiet_since = now_ns();
    if (next < N) sleep_us(200);
  }
  char *js = relay_stop(&r, 1);
  uint64_t in = stat_of(js, "up", "in_packets"), sent = stat_of(js, "up", "sent_packets");
  uint64_t lost = stat_of(js, "up", "dropped_loss"), kdrop = stat_of(js, "up", "kernel_drops");
  fprintf(stderr,
          "# loss 5%% seed %s: %llu of %d delivered (%.2f %%), relay says in %llu sent %llu "
          "lost %llu; replies %llu/%llu\n",
          seed, (unsigned long long)got, N, 100.0 * (double)got / N, (unsigned long long)in,
          (unsigned long long)sent, (unsigned long long)lost, (unsigned long long)replies_got,
          (unsigned long long)replies_sent);
  CHECK(bad == 0, "%llu corrupt, duplicated or unexpected datagrams", (unsigned long long)bad);
  CHECK(kdrop == 0, "relay socket dropped %llu", (unsigned long long)kdrop);
  CHECK(in == N, "relay saw %llu of %d", (unsigned long long)in, N);
  CHECK(got == sent, "received %llu, relay sent %llu", (unsigned long long)got,
        (unsigned long long)sent);
  CHECK(sent + lost == in, "sent %llu + lost %llu != in %llu", (unsigned long long)sent,
        (unsigned long long)lost, (unsigned long long)in);
  CHECK(got >= 9400 && got <= 9600, "delivered %llu not ~95 %%", (unsigned long long)got);
  CHECK(stat_of(js, "down", "in_packets") == replies_sent, "down in %llu, replies %llu",
        (unsigned long long)stat_of(js, "down", "in_packets"), (unsigned long long)replies_sent);
  CHECK(replies_got == replies_sent && replies_got == stat_of(js, "down", "sent_packets"),
        "replies got %llu sent %llu", (unsigned long long)replies_got,
        (unsigned long long)replies_sent);
  CHECK(stat_of(js, "down", "dropped_total") == 0, "down is transparent");
  free(js);
  close(cs);
  close(ss);
  for (uint32_t i = 0; i < N; i++)
    seen[i] = !seen[i];
  return seen;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Duplication and delay with jitter (order kept) on the up direction. */
static void run_dup_delay(void) {
  enum { N = 2000 };
  uint16_t cport, sport;
  int cs = udp_socket(&cport), ss = udp_socket(&sport);
  relay r;
  const char *args[] = {"--dir",    "up", "--dup",  "10", "--delay", "30",
                        "--jitter", "5",  "--seed", "3",  "--quiet", NULL};
  relay_start(&r, sport, args);
  static uint8_t buf[MAXD + 1];
  uint64_t got = 0, dups = 0, bad = 0, out_of_order = 0;
  double dsum = 0, dmin = 1e9, dmax = 0;
  uint32_t last = 0;
  int have_last = 0;
  uint8_t *seen = calloc(N, 1);
  /* Every one-way delay, for the median (N + at most N duplicates). */
  double *delays = calloc(2 * N, sizeof *delays);
  int on = 1;
  setsockopt(ss, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
  struct timespec rt;
  clock_gettime(CLOCK_REALTIME, &rt);
  int64_t rt_minus_mono = (int64_t)rt.tv_sec * (int64_t)NS + rt.tv_nsec - (int64_t)now_ns();
  uint32_t next = 0;
  uint64_t quiet_since = now_ns();
  while (next < N || now_ns() - quiet_since < 300000000ull) {
    /* 4 per ms at most: a relay starved of CPU on a busy machine (load 10)
     * queued 20 per ms in its socket and the median grew to 440 ms */
    for (int i = 0; i < 4 && next < N; i++, next++) {
      size_t len = make_payload(buf, next, len_of(next));
      send_to(cs, r.port, buf, len);
    }
    ssize_t n;
    int any = 0;
    uint64_t at;
    while ((n = recv_wait_ts(ss, buf, sizeof buf, next < N ? 0 : 20, rt_minus_mono, &at)) >= 0) {
      any = 1;
      uint32_t seq;
      uint64_t t;
      if (!payload_ok(buf, (size_t)n, &seq, &t) || seq >= N || (size_t)n != len_of(seq)) {
        bad++;
        continue;
      }
      double d = (double)(at - t) / 1e6;
      dsum += d;
      if (d < dmin) dmin = d;
      if (d > dmax) dmax = d;
      if (got < 2 * N) delays[got] = d;
      if (seen[seq]) dups++;
      seen[seq]++;
      if (have_last && seq < last) out_of_order++;
      last = seq;
      have_last = 1;
      got++;
    }
    if (any) quiet_since = now_ns();
    if (next < N) sleep_us(1000);
  }
  char *js = relay_stop(&r, 1);
  uint64_t sent = stat_of(js, "up", "sent_packets"), dup = stat_of(js, "up", "duplicated");
  double rmean = statf_of(js, "up", "delay_mean_ms"), rmax = statf_of(js, "up", "delay_max_ms");
  fprintf(stderr,
          "# dup 10%% delay 30+-5 ms: got %llu (%llu dups, relay %llu), one-way delay "
          "mean %.2f min %.2f max %.2f ms (relay mean %.2f max %.2f, late max %.3f)\n",
          (unsigned long long)got, (unsigned long long)dups, (unsigned long long)dup,
          dsum / (double)got, dmin, dmax, rmean, rmax, statf_of(js, "up", "late_max_ms"));
  CHECK(bad == 0, "%llu corrupt", (unsigned long long)bad);
  CHECK(got == sent, "received %llu, relay sent %llu", (unsigned long long)got,
        (unsigned long long)sent);
  CHECK(dups == dup, "saw %llu duplicates, relay made %llu", (unsigned long long)dups,
        (unsigned long long)dup);
  CHECK(got == N + dups, "got %llu", (unsigned long long)got);
  CHECK(dups >= 140 && dups <= 260, "dup count %llu not ~10 %%", (unsigned long long)dups);
  CHECK(out_of_order == 0, "%llu out of order without --reorder", (unsigned long long)out_of_order);
  CHECK(stat_of(js, "up", "reordered") == 0, "relay reports reordering");
  CHECK(dmin >= 24.9, "a datagram arrived after %.2f ms", dmin);
  /* The relay's own schedule (hold <= 35 ms) is checked exactly below. Seen
   * from outside, a shared machine can stall the relay or this loop for tens
   * of milliseconds (CI once: one datagram at 66.5 ms), so the outside view
   * checks the median, which a few stalls do not move, and only a gross
   * bound on the worst datagram (a relay that held datagrams would fail).
   * Arrival is the kernel's time (this loop's own stalls do not count; under
   * a load average of 7.6 they made the median 90 ms); the relay's stalls
   * are real delay, twice: a datagram waits in its socket until it reads
   * (that stall is not in its figures) and is sent up to late_max after its
   * due time. Both are the relay waiting for a CPU, which late_max measures
   * at its worst, so the bound allows twice that on top. */
  size_t nd = got < 2 * N ? (size_t)got : 2 * N;
  qsort(delays, nd, sizeof *delays, cmp_double);
  double dmed = nd ? delays[nd / 2] : 0, rlate = statf_of(js, "up", "late_max_ms");
  fprintf(stderr, "# one-way delay median %.2f ms (relay's sends late by up to %.2f ms)\n", dmed,
          rlate);
  CHECK(dmed >= 25.0 && dmed <= 35.0 + 10.0 + 2 * rlate, "median one-way delay %.2f ms", dmed);
  CHECK(dmax < 35.0 + 500.0, "a datagram took %.2f ms", dmax);
  CHECK(rmax <= 35.0 + 1e-6 && rmean >= 25.0 && rmean <= 35.0, "relay delay mean %.2f max %.2f",
        rmean, rmax);
  free(js);
  free(seen);
  free(delays);
  close(cs);
  close(ss);
}

/* Any size up to 9216 is relayed intact (also garbage), 9217 is dropped and
 * counted, a second client is ignored, and --duration ends the run. */
static void run_sizes_foreign_duration(void) {
  uint16_t cport, sport, oport;
  int cs = udp_socket(&cport), ss = udp_socket(&sport), other = udp_socket(&oport);
  relay r;
  const char *args[] = {"--duration", "1.5", NULL};
  uint64_t t0 = now_ns();
  relay_start(&r, sport, args);
  static uint8_t buf[MAXD + 2], rx[MAXD + 2];
  const size_t sizes[] = {0, 1, 13, 1500, MAXD - 1, MAXD};
  struct sockaddr_in from;
  size_t ok = 0;
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    for (size_t k = 0; k < sizes[i]; k++)
      buf[k] = (uint8_t)(k * 131u + i);
    send_to(cs, r.port, buf, sizes[i]);
    if (i == 0) send_to(other, r.port, buf, 5); /* after the first: not the client */
    ssize_t n = recv_wait(ss, rx, sizeof rx, 2000, &from);
    if (n == (ssize_t)sizes[i] && memcmp(rx, buf, sizes[i]) == 0)
      ok++;
    else
      fprintf(stderr, "size %zu: got %zd\n", sizes[i], n);
  }
  for (int i = 0; i < 3; i++)
    send_to(cs, r.port, buf, MAXD + 1);
  CHECK(recv_wait(ss, rx, sizeof rx, 200, &from) < 0, "oversize or foreign datagram relayed");
  char *js = relay_stop(&r, 0);
  double took = (double)(now_ns() - t0) / 1e9;
  fprintf(stderr, "# sizes: %zu of %zu intact; oversize %llu foreign %llu; ended after %.2f s\n",
          ok, sizeof sizes / sizeof sizes[0], (unsigned long long)stat_of(js, "up", "oversize"),
          (unsigned long long)stat_of(js, "up", "foreign"), took);
  CHECK(ok == sizeof sizes / sizeof sizes[0], "sizes relayed %zu", ok);
  CHECK(stat_of(js, "up", "oversize") == 3, "oversize");
  CHECK(stat_of(js, "up", "foreign") == 1, "foreign");
  CHECK(stat_of(js, "up", "sent_packets") == ok, "sent");
  CHECK(took >= 1.4 && took < 5.0, "--duration 1.5 took %.2f s", took);
  free(js);
  close(cs);
  close(ss);
  close(other);
}

/* A bare --listen PORT listens on every address, as the sender's --listen
 * does, and --rate takes the sender's units (20M) (issue #17): datagrams
 * sent to 127.0.0.1:PORT are relayed, the relay says its rate. */
static void run_bare_port_rate(void) {
  uint16_t cport, sport, free_port;
  int cs = udp_socket(&cport), ss = udp_socket(&sport), probe = udp_socket(&free_port);
  close(probe); /* a port that was free a moment ago */
  char port[16];
  snprintf(port, sizeof port, "%u", (unsigned)free_port);
  relay r;
  const char *args[] = {"--listen", port, "--rate", "20M", "--duration", "1", NULL};
  relay_start(&r, sport, args);
  CHECK(r.port == free_port, "listening on %u, not the bare port %u", r.port, free_port);
  static uint8_t buf[100], rx[200];
  struct sockaddr_in from;
  size_t ok = 0;
  for (int i = 0; i < 5; i++) {
    memset(buf, i, sizeof buf);
    send_to(cs, r.port, buf, sizeof buf);
    ok += recv_wait(ss, rx, sizeof rx, 2000, &from) == (ssize_t)sizeof buf;
  }
  char *js = relay_stop(&r, 0);
  CHECK(ok == 5, "a bare --listen port relayed %zu of 5", ok);
  CHECK(strstr(js, "\"rate_mbit\": 20") != NULL, "--rate 20M is not 20 Mbit/s: %.300s", js);
  free(js);
  close(cs);
  close(ss);
}

/* Command-line errors exit 2, name the flag and end with the --help hint;
 * -V and -h work. */
static void run_cli(void) {
  struct {
    const char *a, *b, *want;
  } cases[] = {
      {"--loss", "150", "--loss"},
      {"--frobnicate", NULL, "--frobnicate"},
      {"--dir", "sideways", "--dir"},
      {"--burst", "4", "burst needs a loss rate"},
      {"--rate", "5x", "--rate: '5x' is not Mbit/s"},
      {"--rate", "0.1k", "--rate: '0.1k'"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int pfd[2];
    if (pipe(pfd) != 0) exit(1);
    pid_t pid = fork();
    if (pid == 0) {
      dup2(pfd[1], 2);
      close(pfd[0]);
      close(pfd[1]);
      execl(g_netsim, g_netsim, "--to", "127.0.0.1:9", cases[i].a, cases[i].b, (char *)NULL);
      _exit(127);
    }
    close(pfd[1]);
    char err[1024] = "";
    ssize_t n, len = 0;
    while (len < (ssize_t)sizeof err - 1 &&
           (n = read(pfd[0], err + len, sizeof err - 1 - (size_t)len)) > 0)
      len += n;
    err[len] = 0;
    close(pfd[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 2, "%s: status %d", cases[i].a, st);
    CHECK(strstr(err, cases[i].want) != NULL, "%s: message '%s'", cases[i].a, err);
    const char *hint = "\nTry 'bildfunk-netsim --help'.\n";
    CHECK(len >= (ssize_t)strlen(hint) && !strcmp(err + len - (ssize_t)strlen(hint), hint),
          "%s: the message does not end with the --help hint: '%s'", cases[i].a, err);
  }
  for (int k = 0; k < 2; k++) { /* -V and -h: exit 0 with the version / the usage */
    char cmd[600], out[256] = "";
    snprintf(cmd, sizeof cmd, "'%s' %s", g_netsim, k ? "-h" : "-V");
    FILE *p = popen(cmd, "r");
    size_t n = p ? fread(out, 1, sizeof out - 1, p) : 0;
    out[n] = 0;
    int st = p ? pclose(p) : -1;
    CHECK(st == 0 && strstr(out, k ? "Usage: bildfunk-netsim" : "bildfunk-netsim ") == out,
          "%s: status %d, '%s'", k ? "-h" : "-V", st, out);
  }
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s PATH/bildfunk-netsim\n", argv[0]);
    return 2;
  }
  g_netsim = argv[1];
  signal(SIGPIPE, SIG_IGN);
  uint64_t t0 = now_ns();
  run_cli();
  uint8_t *a = run_loss("7");
  uint8_t *b = run_loss("7");
  CHECK(memcmp(a, b, 10000) == 0, "the same seed lost different datagrams");
  free(a);
  free(b);
  run_dup_delay();
  run_sizes_foreign_duration();
  run_bare_port_rate();
  fprintf(stderr, "# %s in %.1f s\n", g_failures ? "FAILED" : "passed",
          (double)(now_ns() - t0) / 1e9);
  return g_failures ? 1 : 0;
}
