/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * TURN relay end to end (issue #18): the transport's sans-I/O STUN/TURN
 * client (stun.c, turn.c) on real UDP sockets against real coturn servers
 * this program starts itself on 127.0.0.1 — one with long-term users (and
 * nonces that go stale after a second, so 438 is met for real), one with a
 * TURN REST shared secret (coturn cannot mix the two) — each on a port the
 * kernel says is free, from a temporary config: no daemon, no CLI, no TLS,
 * loopback peers allowed. Both servers die with this program (parent-death
 * signal) and are stopped at the end.
 *
 * Checked: Allocate with both kinds of credentials (401 challenge, then the
 * authenticated retry), the mapped address, CreatePermission, Send and
 * Data indications both ways, ChannelBind and sealed datagrams through
 * ChannelData both ways (opened in place where bf_turn_read left them),
 * relaying between the two servers, a clear error for a wrong password and
 * for a wrong REST secret, a stale nonce, release. Then the data-plane
 * channel's relayed path (channel.h, issue #18): a client-role channel with
 * an allocation (the relay refused as a path while the channel has no
 * keys), a sender-role channel without one greeting the relayed address
 * with a punch, the relay peer learned and a channel bound, punches back
 * through the relay, sealed video bursts down (plain UDP to the relayed
 * address, ChannelData from the server) and feedback up (ChannelData),
 * every datagram opened and classified, and no allocation on either data
 * path after warm-up (malloc wrapped).
 *
 * Exit 0 pass, 1 fail, 77 skip (no turnserver; BF_REQUIRE_ALL=1 turns that
 * into a failure).
 */
#include <bildfunk/channel.h>
#include <bildfunk/seal.h>
#include <bildfunk/transport.h>
#include <bildfunk/turn.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define REALM "bildfunk.test"
#define REST_SECRET "north wind"
#define BULK 200u        /* sealed datagrams each way through ChannelData */
#define BULK_PLAIN 1200u /* their plaintext */

typedef struct server {
  const char *name;
  uint16_t port;
  pid_t pid;
  char conf[512], log[512];
  bf_addr addr;
} server;

typedef struct client {
  const char *name;
  server *srv;
  bf_transport *tr;
  bf_turn *turn;
  bf_turn_event ev[32];
  size_t nev;
  /* the last unsealed payload from a peer */
  uint8_t rx[2048];
  size_t rx_len;
  bf_addr rx_peer;
  uint16_t rx_channel;
  int rx_have;
  /* sealed bulk: the opener for what arrives, counts */
  bf_opener *opener;
  uint32_t bulk_ok, bulk_bad, bulk_indication;
} client;

static char g_dir[256];
static server *g_servers[2];

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void stop_server(server *s) {
  if (!s || s->pid <= 0) return;
  kill(s->pid, SIGTERM);
  for (int i = 0; i < 300; i++) { /* up to 3 s, then for sure */
    if (waitpid(s->pid, NULL, WNOHANG) == s->pid) {
      s->pid = 0;
      return;
    }
    usleep(10000);
  }
  kill(s->pid, SIGKILL);
  waitpid(s->pid, NULL, 0);
  s->pid = 0;
}

static void remove_dir(void) {
  if (!g_dir[0]) return;
  DIR *d = opendir(g_dir);
  struct dirent *e;
  char p[600];
  while (d && (e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    snprintf(p, sizeof p, "%s/%s", g_dir, e->d_name);
    unlink(p);
  }
  if (d) closedir(d);
  rmdir(g_dir);
  g_dir[0] = 0;
}

static void tail_log(const server *s) {
  FILE *f = s ? fopen(s->log, "r") : NULL;
  if (!f) return;
  char line[512];
  static char last[40][512];
  size_t n = 0;
  while (fgets(line, sizeof line, f))
    snprintf(last[n++ % 40], sizeof last[0], "%s", line);
  fclose(f);
  fprintf(stderr, "---- %s log (last lines) ----\n", s->name);
  for (size_t i = n > 40 ? n - 40 : 0; i < n; i++)
    fputs(last[i % 40], stderr);
}

__attribute__((format(printf, 1, 2), noreturn)) static void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "turn_e2e: FAIL: ");
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  for (int i = 0; i < 2; i++)
    tail_log(g_servers[i]);
  for (int i = 0; i < 2; i++)
    stop_server(g_servers[i]);
  remove_dir();
  exit(1);
}

static void skip(const char *why) {
  const char *req = getenv("BF_REQUIRE_ALL");
  if (req && req[0] == '1') die("cannot run here: %s (BF_REQUIRE_ALL=1)", why);
  printf("SKIP (turn_e2e): %s\n", why);
  exit(77);
}

/* turnserver from BF_TURNSERVER or PATH; 0 when there is none. */
static int find_turnserver(char *out, size_t cap) {
  const char *env = getenv("BF_TURNSERVER");
  if (env && env[0]) {
    snprintf(out, cap, "%s", env);
    return access(out, X_OK) == 0;
  }
  const char *path = getenv("PATH");
  char buf[4096];
  snprintf(buf, sizeof buf, "%s", path ? path : "/usr/bin:/bin");
  for (char *save = NULL, *dir = strtok_r(buf, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
    snprintf(out, cap, "%s/turnserver", dir);
    if (access(out, X_OK) == 0) return 1;
  }
  return 0;
}

/* A port that is free on 127.0.0.1 for UDP and TCP right now (the kernel
 * picks it; coturn listens on both). */
static uint16_t free_port(void) {
  for (int tries = 0; tries < 50; tries++) {
    int u = socket(AF_INET, SOCK_DGRAM, 0), t = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    uint16_t port = 0;
    if (u >= 0 && t >= 0 && bind(u, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(u, (struct sockaddr *)&a, &al) == 0 &&
        bind(t, (struct sockaddr *)&a, sizeof a) == 0)
      port = ntohs(a.sin_port);
    if (u >= 0) close(u);
    if (t >= 0) close(t);
    if (port) return port;
  }
  die("no free port on 127.0.0.1");
}

static void write_conf(server *s, const char *auth) {
  snprintf(s->conf, sizeof s->conf, "%s/%s.conf", g_dir, s->name);
  snprintf(s->log, sizeof s->log, "%s/%s.log", g_dir, s->name);
  FILE *f = fopen(s->conf, "w");
  if (!f) die("cannot write %s", s->conf);
  fprintf(f,
          "listening-ip=127.0.0.1\nrelay-ip=127.0.0.1\nlistening-port=%u\n"
          "no-tls\nno-dtls\nno-cli\nno-rfc5780\nfingerprint\n"
          "realm=" REALM "\nallow-loopback-peers\n"
          "userdb=%s/%s.db\npidfile=%s/%s.pid\nlog-file=%s\nsimple-log\nno-stdout-log\n%s",
          s->port, g_dir, s->name, g_dir, s->name, s->log, auth);
  fclose(f);
}

static pid_t spawn(const char *bin, const server *s) {
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) die("fork: %s", strerror(errno));
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the test */
    if (getppid() != parent) _exit(127);
    int fd = open("/dev/null", O_RDWR);
    if (fd >= 0) {
      dup2(fd, 0);
      dup2(fd, 1);
      dup2(fd, 2);
    }
    execl(bin, bin, "-c", s->conf, (char *)NULL);
    _exit(127);
  }
  return pid;
}

/* ---- clients --------------------------------------------------------------- */

static void on_data(client *c, const bf_turn_data *d) {
  if (c->opener && d->len == BULK_PLAIN + BF_SEAL_OVERHEAD) {
    /* sealed bulk: opened where it lies, in the receive buffer */
    int n = bf_opener_open_inplace(c->opener, d->d, d->len, NULL);
    const uint8_t *p = d->d + BF_SEAL_SEQ_BYTES;
    int ok = n == (int)BULK_PLAIN;
    for (size_t i = 1; ok && i < BULK_PLAIN; i++)
      ok = p[i] == (uint8_t)(p[0] + i);
    if (ok)
      c->bulk_ok++;
    else
      c->bulk_bad++;
    if (!d->channel) c->bulk_indication++;
    return;
  }
  if (d->len > sizeof c->rx) die("%s: %zu bytes from a peer", c->name, d->len);
  memcpy(c->rx, d->d, d->len);
  c->rx_len = d->len;
  c->rx_peer = *d->peer;
  c->rx_channel = d->channel;
  c->rx_have = 1;
}

static void send_to_server(client *c, const uint8_t *head, size_t head_len, const uint8_t *body,
                           size_t body_len) {
  bf_dgram g = {head, head_len, body, body_len};
  if (bf_send(c->tr, &g) != 1) die("%s: send to the server failed", c->name);
}

/* Sends what the client has due, reads what arrived, collects events. */
static void step(client *c) {
  uint8_t buf[BF_TURN_REQ_MAX + 64], rx[BF_RECV_BUF_BYTES];
  const bf_addr *to;
  int n;
  while ((n = bf_turn_write(c->turn, now_ns(), buf, sizeof buf, &to)) > 0) {
    if (!bf_addr_equal(to, &c->srv->addr)) die("%s: a request to another address", c->name);
    send_to_server(c, buf, (size_t)n, NULL, 0);
  }
  bf_addr from;
  while ((n = bf_recv(c->tr, rx, sizeof rx, &from)) > 0) {
    if (!bf_addr_equal(&from, &c->srv->addr)) continue; /* only the server talks to us */
    bf_turn_data d;
    if (bf_turn_read(c->turn, rx, (size_t)n, now_ns(), &d) == BF_TURN_RX_DATA) on_data(c, &d);
  }
  bf_turn_event ev;
  while (bf_turn_poll_event(c->turn, &ev)) {
    if (c->nev == sizeof c->ev / sizeof c->ev[0]) die("%s: events pile up", c->name);
    c->ev[c->nev++] = ev;
  }
}

static client *g_clients[8];
static size_t g_nclients;

/* Runs every client until |done| says so or |ms| pass; 1 when done. */
static int run_until(int (*done)(void *), void *arg, unsigned ms) {
  uint64_t end = now_ns() + (uint64_t)ms * 1000000ull;
  while (now_ns() < end) {
    struct pollfd p[8];
    for (size_t i = 0; i < g_nclients; i++) {
      step(g_clients[i]);
      p[i] = (struct pollfd){.fd = g_clients[i]->tr->fd, .events = POLLIN};
    }
    if (done(arg)) return 1;
    poll(p, (nfds_t)g_nclients, 2);
  }
  return done(arg);
}

typedef struct want {
  client *c;
  bf_turn_event_type type;
  bf_turn_event got;
} want;

static int take_event(void *arg) {
  want *w = arg;
  for (size_t i = 0; i < w->c->nev; i++) {
    bf_turn_event *ev = &w->c->ev[i];
    if (ev->type == w->type) {
      w->got = *ev;
      memmove(ev, ev + 1, (w->c->nev - i - 1) * sizeof *ev);
      w->c->nev--;
      return 1;
    }
    if (ev->type == BF_TURN_EV_ERROR || ev->type == BF_TURN_EV_LOST)
      die("%s: unexpected: %s", w->c->name, ev->reason);
  }
  return 0;
}

static bf_turn_event wait_event(client *c, bf_turn_event_type type, unsigned ms) {
  want w = {c, type, {0}};
  if (!run_until(take_event, &w, ms)) die("%s: no event %d within %u ms", c->name, type, ms);
  return w.got;
}

static client *new_client(const char *name, server *s, const char *user, const char *pass,
                          const char *secret) {
  client *c = calloc(1, sizeof *c);
  if (!c) die("out of memory");
  c->name = name;
  c->srv = s;
  bf_udp_config ucfg;
  bf_udp_config_default(&ucfg);
  ucfg.bind = "127.0.0.1:0";
  ucfg.quiet = 1;
  ucfg.sock_buf = 4u << 20;
  if (bf_udp_open(&ucfg, &c->tr) < 0) die("%s: no UDP socket", name);
  bf_transport_set_peer(c->tr, &s->addr);
  bf_turn_config cfg = {0};
  cfg.server = s->addr;
  cfg.user = user;
  cfg.pass = pass;
  cfg.secret = secret;
  cfg.unix_time_s = (uint64_t)time(NULL);
  cfg.rest_ttl_s = 3600;
  cfg.rto_ns = 100000000ull; /* loopback: 100 ms is plenty */
  cfg.fingerprint = 1;
  int r = bf_turn_new(&cfg, &c->turn);
  if (r < 0) die("%s: bf_turn_new: %s", name, strerror(-r));
  g_clients[g_nclients++] = c;
  return c;
}

static void free_client(client *c) {
  bf_turn_del(&c->turn);
  bf_transport_close(&c->tr);
  bf_opener_del(&c->opener);
  for (size_t i = 0; i < g_nclients; i++)
    if (g_clients[i] == c) g_clients[i] = g_clients[--g_nclients];
  free(c);
}

/* ---- servers ---------------------------------------------------------------- */

/* Starts |s| with |auth| lines on a free port and waits until it answers a
 * Binding request; a port taken in between costs one more try. */
static void start_server(server *s, const char *bin, const char *auth) {
  for (int attempt = 0; attempt < 3; attempt++) {
    s->port = free_port();
    char text[32];
    snprintf(text, sizeof text, "127.0.0.1:%u", s->port);
    if (bf_addr_parse(text, 0, &s->addr) < 0) die("address %s", text);
    write_conf(s, auth);
    s->pid = spawn(bin, s);
    client *probe = new_client("probe", s, "probe", "probe", NULL);
    if (bf_turn_binding(probe->turn, now_ns()) < 0) die("binding");
    want w = {probe, BF_TURN_EV_MAPPED, {0}};
    int up = run_until(take_event, &w, 5000);
    free_client(probe);
    if (up) return;
    fprintf(stderr, "turn_e2e: %s did not answer on port %u, again\n", s->name, s->port);
    tail_log(s);
    stop_server(s);
  }
  die("%s does not start", s->name);
}

static void coturn_version(const char *bin, char *out, size_t cap) {
  char cmd[600];
  snprintf(cmd, sizeof cmd, "'%s' --version 2>&1", bin);
  FILE *p = popen(cmd, "r");
  out[0] = 0;
  if (p && fgets(out, (int)cap, p)) out[strcspn(out, "\r\n")] = 0;
  if (p) pclose(p);
}

/* ---- the checks --------------------------------------------------------------- */

static void allocate(client *c) {
  if (bf_turn_allocate(c->turn, now_ns()) < 0) die("%s: allocate", c->name);
  bf_turn_event ev = wait_event(c, BF_TURN_EV_ALLOCATED, 3000);
  char r[BF_ADDR_STRLEN], m[BF_ADDR_STRLEN];
  printf("%s: allocated %s (mapped %s, %u s)\n", c->name, bf_addr_format(&ev.addr, r, sizeof r),
         bf_addr_format(&ev.mapped, m, sizeof m), ev.lifetime_s);
  bf_addr local;
  if (bf_transport_local_addr(c->tr, &local) < 0 || !bf_addr_equal(&local, &ev.mapped))
    die("%s: the mapped address is not the socket's (no NAT on loopback)", c->name);
}

static void permit(client *c, const client *peer) {
  if (bf_turn_permit(c->turn, bf_turn_relayed(peer->turn), now_ns()) < 0) die("permit");
  bf_turn_event ev = wait_event(c, BF_TURN_EV_PERMISSION, 3000);
  if (!bf_addr_same_ip(&ev.addr, bf_turn_relayed(peer->turn))) die("%s: permission", c->name);
}

static void bind_channel(client *c, const client *peer) {
  if (bf_turn_bind_channel(c->turn, bf_turn_relayed(peer->turn), now_ns()) < 0) die("bind");
  bf_turn_event ev = wait_event(c, BF_TURN_EV_CHANNEL, 3000);
  if (bf_turn_channel(c->turn, bf_turn_relayed(peer->turn)) != ev.channel) die("channel");
}

static int have_rx(void *arg) {
  return ((client *)arg)->rx_have;
}

/* |from| sends |text| to |to|'s relayed address through its own
 * allocation: a Send indication, or ChannelData when a channel is bound.
 * |to| must get it from |from|'s relayed address, the same way. */
static void relay_text(client *from, client *to, const char *text, int channel) {
  const bf_addr *dst = bf_turn_relayed(to->turn);
  size_t len = strlen(text);
  to->rx_have = 0;
  if (channel) {
    int ch = bf_turn_channel(from->turn, dst);
    if (ch < 0) die("%s: no channel", from->name);
    uint8_t hdr[BF_TURN_CHANNEL_HEADER];
    bf_turn_channel_header((uint16_t)ch, len, hdr);
    send_to_server(from, hdr, sizeof hdr, (const uint8_t *)text, len);
  } else {
    uint8_t buf[512];
    int n = bf_turn_send_indication(from->turn, dst, (const uint8_t *)text, len, buf, sizeof buf);
    if (n < 0) die("send indication");
    send_to_server(from, buf, (size_t)n, NULL, 0);
  }
  if (!run_until(have_rx, to, 3000)) die("%s: nothing from %s", to->name, from->name);
  if (to->rx_len != len || memcmp(to->rx, text, len) != 0) die("%s: wrong payload", to->name);
  if (!bf_addr_equal(&to->rx_peer, bf_turn_relayed(from->turn)))
    die("%s: the payload is not from %s's relayed address", to->name, from->name);
  if (!channel != !to->rx_channel)
    die("%s: came as %s", to->name, to->rx_channel ? "ChannelData" : "a Data indication");
}

typedef struct bulk {
  client *a, *b;
  uint32_t n; /* sent each way so far */
} bulk;

static int bulk_done(void *arg) {
  bulk *k = arg;
  return k->a->bulk_ok + k->a->bulk_bad >= k->n && k->b->bulk_ok + k->b->bulk_bad >= k->n;
}

/* BULK sealed datagrams each way through ChannelData: 4 header bytes in
 * front, the sealed datagram as the second piece (nothing copied); the
 * receiver opens it in place. */
static void sealed_bulk(client *a, client *b) {
  uint8_t secret[32];
  for (size_t i = 0; i < sizeof secret; i++)
    secret[i] = (uint8_t)(i * 7 + 1);
  bf_seal_key s2c, c2s;
  bf_sealer *seal_ab = NULL, *seal_ba = NULL;
  if (bf_seal_derive(secret, sizeof secret, &s2c, &c2s) < 0 ||
      bf_sealer_new(&c2s, BF_SEAL_C2S, 1, &seal_ab) < 0 ||
      bf_sealer_new(&s2c, BF_SEAL_S2C, 1, &seal_ba) < 0 ||
      bf_opener_new(&c2s, BF_SEAL_C2S, 1, &b->opener) < 0 ||
      bf_opener_new(&s2c, BF_SEAL_S2C, 1, &a->opener) < 0)
    die("seal setup");
  int ch_ab = bf_turn_channel(a->turn, bf_turn_relayed(b->turn));
  int ch_ba = bf_turn_channel(b->turn, bf_turn_relayed(a->turn));
  if (ch_ab < 0 || ch_ba < 0) die("bulk: channels");
  uint8_t plain[BULK_PLAIN], sealed[BULK_PLAIN + BF_SEAL_OVERHEAD], hdr[4];
  for (uint32_t i = 0; i < BULK; i++) {
    for (int dir = 0; dir < 2; dir++) {
      for (size_t k = 0; k < sizeof plain; k++)
        plain[k] = (uint8_t)(i * 3 + (uint32_t)dir + k);
      bf_dgram in = {plain, sizeof plain, NULL, 0};
      int n = bf_sealer_seal(dir ? seal_ba : seal_ab, &in, sealed, sizeof sealed);
      if (n != (int)sizeof sealed) die("seal");
      bf_turn_channel_header((uint16_t)(dir ? ch_ba : ch_ab), (size_t)n, hdr);
      send_to_server(dir ? b : a, hdr, sizeof hdr, sealed, (size_t)n);
    }
    if (i % 20 == 19) { /* at most 20 in flight each way: coturn's socket buffers are small */
      bulk w = {a, b, i + 1};
      run_until(bulk_done, &w, 1000);
    }
  }
  bulk k = {a, b, BULK};
  run_until(bulk_done, &k, 3000);
  printf("bulk: %s got %u/%u, %s got %u/%u sealed datagrams via ChannelData\n", a->name, a->bulk_ok,
         BULK, b->name, b->bulk_ok, BULK);
  if (a->bulk_ok != BULK || b->bulk_ok != BULK || a->bulk_bad || b->bulk_bad)
    die("bulk: lost or damaged datagrams on loopback");
  if (a->bulk_indication || b->bulk_indication) die("bulk: Data indications, not ChannelData");
  bf_sealer_del(&seal_ab);
  bf_sealer_del(&seal_ba);
  bf_seal_key_wipe(&s2c);
  bf_seal_key_wipe(&c2s);
}

/* A client with wrong credentials gets a 401 and a reason that says so. */
static void wrong_credentials(server *s, const char *pass, const char *secret, const char *expect) {
  client *m = new_client("mallory", s, secret ? "mallory" : "alice", pass, secret);
  if (bf_turn_allocate(m->turn, now_ns()) < 0) die("allocate");
  bf_turn_event ev = wait_event(m, BF_TURN_EV_ERROR, 3000);
  printf("%s: %s\n", s->name, ev.reason);
  if (ev.code != 401 || ev.err != -EACCES || !strstr(ev.reason, expect))
    die("wrong credentials: code %d, \"%s\"", ev.code, ev.reason);
  if (bf_turn_state_get(m->turn) != BF_TURN_FAILED) die("wrong credentials: state");
  free_client(m);
}

static void release(client *c) {
  if (bf_turn_release(c->turn, now_ns()) < 0) die("%s: release", c->name);
  wait_event(c, BF_TURN_EV_RELEASED, 3000);
}

/* ---- the channel's relayed path ------------------------------------------ */

#include "alloc_count.h"

typedef struct counts {
  uint32_t by_kind[BF_DKIND_COUNT_];
  uint32_t bad; /* a payload that is not what was sent */
  bf_addr from; /* the last datagram's source */
  /* punches from |want| (the relayed address), and from anywhere else: a
   * loopback port can get a stray datagram from another test */
  bf_addr want;
  uint32_t punches_want, punches_other;
} counts;

static void on_any(void *user, const uint8_t *d, size_t len, const bf_addr *from, uint64_t now) {
  (void)now;
  counts *n = user;
  bf_dkind k = bf_dgram_classify(d, len);
  if (len == 8 && !memcmp(d, "PFpunch1", 8)) k = BF_DKIND_PUNCH;
  n->by_kind[k]++;
  if (from) n->from = *from;
  if (k == BF_DKIND_PUNCH) {
    if (from && n->want.len && bf_addr_equal(from, &n->want))
      n->punches_want++;
    else
      n->punches_other++;
  }
  /* video: the byte pattern video_of() wrote; feedback: 0xFB then 'f's */
  if (k == BF_DKIND_VIDEO)
    for (size_t i = 0; i < len; i++)
      if (d[i] != (uint8_t)(i * 7u + 1u)) {
        n->bad++;
        break;
      }
  if (k == BF_DKIND_FEEDBACK && (len != 48 || d[47] != 'f')) n->bad++;
}

static bf_channel *open_channel(bf_channel_role role, counts *n, bf_addr *local) {
  bf_udp_config uc;
  bf_udp_config_default(&uc);
  uc.bind = "127.0.0.1:0";
  uc.quiet = 1;
  bf_transport *t = NULL;
  if (bf_udp_open(&uc, &t) < 0 || bf_transport_local_addr(t, local) < 0) die("udp open");
  bf_channel_config cc = {
      .role = role, .now = now_ns, .punch = role == BF_CHANNEL_CLIENT, .burst_max = 16};
  bf_channel *c = NULL;
  if (bf_channel_new(&cc, t, &c) < 0) die("channel");
  for (int k = 0; k < BF_DKIND_COUNT_; k++)
    bf_channel_on(c, (bf_dkind)k, on_any, n);
  return c;
}

/* Ticks and receives on both until |done| or |ms| pass. */
static int spin(bf_channel *a, bf_channel *b, int ms, int (*done)(void *), void *arg) {
  uint64_t until = now_ns() + (uint64_t)ms * UINT64_C(1000000);
  while (now_ns() < until) {
    bf_channel_tick(a, now_ns());
    bf_channel_tick(b, now_ns());
    (void)bf_channel_receive(a, 4);
    (void)bf_channel_receive(b, 4);
    if (done && done(arg)) return 1;
    usleep(1000);
  }
  return done ? done(arg) : 1;
}

static int relay_state_is(void *arg) {
  bf_channel_relay_status st;
  bf_channel_relay_status_get(arg, &st);
  return st.state == BF_CHANNEL_RELAY_ALLOCATED;
}
static int relay_permitted(void *arg) {
  bf_channel_relay_status st;
  bf_channel_relay_status_get(arg, &st);
  return st.permitted;
}
static int relay_bound(void *arg) {
  bf_channel_relay_status st;
  bf_channel_relay_status_get(arg, &st);
  return st.bound;
}
static int got_punch(void *arg) {
  return ((counts *)arg)->punches_want > 0;
}

static void video_of(uint8_t *d, size_t len) {
  for (size_t i = 0; i < len; i++)
    d[i] = (uint8_t)(i * 7u + 1u);
}

static void channel_path(server *s) {
  counts nc, ns;
  memset(&nc, 0, sizeof nc);
  memset(&ns, 0, sizeof ns);
  bf_addr ca, sa;
  bf_channel *cl = open_channel(BF_CHANNEL_CLIENT, &nc, &ca);
  bf_channel *se = open_channel(BF_CHANNEL_SENDER, &ns, &sa);
  bf_channel_set_peer(cl, &sa); /* the direct peer: nothing answers there */
  bf_channel_relay_config rc = {
      .server = s->addr, .server_name = "coturn-lt", .user = "carol", .pass = "secret-c"};
  if (bf_channel_relay_start(cl, &rc, now_ns()) < 0) die("channel: relay start");
  if (!spin(cl, se, 3000, relay_state_is, cl)) die("channel: no allocation");
  if (bf_channel_relay_use(cl) != -EPERM) die("channel: a relay path without keys");
  uint8_t secret[32];
  memset(secret, 0x5a, sizeof secret);
  if (bf_channel_seal(cl, secret, 1) < 0 || bf_channel_seal(se, secret, 1000) < 0) die("seal");
  if (bf_channel_relay_permit(cl, &sa, now_ns()) < 0) die("channel: permit");
  if (!spin(cl, se, 3000, relay_permitted, cl)) die("channel: no permission");
  if (bf_channel_relay_use(cl) < 0) die("channel: relay use");
  bf_channel_relay_status st;
  bf_channel_relay_status_get(cl, &st);
  /* the sender greets the relayed address; the relay names it to the client */
  if (bf_channel_punch_to(se, &st.relayed) != 1) die("channel: punch to the relayed address");
  ns.want = st.relayed;
  if (!spin(cl, se, 3000, relay_bound, cl)) die("channel: no channel to the relay peer");
  if (!spin(cl, se, 3000, got_punch, &ns))
    die("channel: no punch back through the relay (%u punches from elsewhere)",
        (unsigned)ns.punches_other);
  bf_channel_set_peer(se, &st.relayed);
  /* bulk: video bursts down, feedback up; no allocation after the first round */
  static uint8_t body[16][1200];
  bf_dgram d[16];
  uint8_t fb[48];
  memset(fb, 'f', sizeof fb);
  fb[0] = 0xFB;
  if (!bf_test_allocs_counted()) die("allocations are not counted (the --wrap link options)");
  unsigned long before = 0;
  for (int round = 0; round < 20; round++) {
    if (round == 1) before = bf_test_allocs();
    for (int i = 0; i < 16; i++) {
      video_of(body[i], sizeof body[i]);
      d[i] = (bf_dgram){body[i], sizeof body[i], NULL, 0};
    }
    if (bf_channel_send_burst(se, d, 16, round & 1) != 16) die("channel: burst");
    for (int i = 0; i < 4; i++)
      if (bf_channel_send(cl, fb, sizeof fb, NULL) != 1) die("channel: feedback");
    spin(cl, se, 20, NULL, NULL);
  }
  spin(cl, se, 200, NULL, NULL);
  unsigned long grew = bf_test_allocs() - before;
  bf_channel_relay_status_get(cl, &st);
  printf("channel: %u video and %u feedback through the relay (%llu unwrapped, %llu sent wrapped, "
         "%llu as indications), %lu allocations after warm-up\n",
         nc.by_kind[BF_DKIND_VIDEO], ns.by_kind[BF_DKIND_FEEDBACK], (unsigned long long)st.rx,
         (unsigned long long)st.tx, (unsigned long long)st.indications, grew);
  if (nc.by_kind[BF_DKIND_VIDEO] != 320 || ns.by_kind[BF_DKIND_FEEDBACK] != 80 || nc.bad || ns.bad)
    die("channel: %u/320 video, %u/80 feedback, %u + %u bad", nc.by_kind[BF_DKIND_VIDEO],
        ns.by_kind[BF_DKIND_FEEDBACK], nc.bad, ns.bad);
  if (grew) die("channel: %lu allocations on the relayed data path", grew);
  bf_opener_stats os;
  if (!bf_channel_seal_stats(cl, &os) || os.bad_tag || os.opened < 320) die("channel: opener");
  bf_channel_del(&cl); /* releases the allocation */
  bf_channel_del(&se);
}

int main(void) {
  uint64_t t0 = now_ns();
  char bin[512], version[128];
  if (!find_turnserver(bin, sizeof bin))
    skip("turnserver (Debian package coturn) is not installed");
  coturn_version(bin, version, sizeof version);
  const char *tmp = getenv("TMPDIR");
  snprintf(g_dir, sizeof g_dir, "%s/bf-turn-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
  if (!mkdtemp(g_dir)) die("mkdtemp: %s", strerror(errno));
  signal(SIGPIPE, SIG_IGN);

  server lt = {.name = "coturn-lt"}, rest = {.name = "coturn-rest"};
  g_servers[0] = &lt;
  g_servers[1] = &rest;
  start_server(&lt, bin, "lt-cred-mech\nuser=alice:secret-a\nuser=carol:secret-c\nstale-nonce=1\n");
  start_server(&rest, bin, "use-auth-secret\nstatic-auth-secret=" REST_SECRET "\n");

  client *alice = new_client("alice", &lt, "alice", "secret-a", NULL);
  client *carol = new_client("carol", &lt, "carol", "secret-c", NULL);
  client *bob = new_client("bob", &rest, "bob", NULL, REST_SECRET);
  allocate(alice);
  allocate(carol);
  allocate(bob);

  /* Send and Data indications both ways, then channels */
  permit(alice, carol);
  permit(carol, alice);
  relay_text(alice, carol, "alice to carol in a Send indication", 0);
  relay_text(carol, alice, "carol to alice in a Send indication", 0);
  bind_channel(alice, carol);
  bind_channel(carol, alice);
  relay_text(alice, carol, "alice to carol in ChannelData", 1);
  relay_text(carol, alice, "carol to alice in ChannelData", 1);
  sealed_bulk(alice, carol);

  /* between the two servers: a REST user and a long-term user */
  bind_channel(bob, alice);
  bind_channel(alice, bob);
  relay_text(bob, alice, "bob (REST) to alice, server to server", 1);
  relay_text(alice, bob, "alice to bob (REST), server to server", 1);

  wrong_credentials(&lt, "not-her-password", NULL, "wrong user name or password");
  wrong_credentials(&rest, NULL, "south wind", "wrong shared secret");

  /* coturn's nonces live 1 s here (its clock ticks in seconds): ask for
   * permissions for new IPs until one meets 438 and is retried */
  bf_turn_stats st;
  for (int k = 2; k < 9; k++) {
    char text[32];
    bf_addr other; /* 127.0.0.1 is permitted already */
    snprintf(text, sizeof text, "127.0.0.%d:9", k);
    if (bf_addr_parse(text, 0, &other) < 0 || bf_turn_permit(alice->turn, &other, now_ns()) < 0)
      die("permit %s", text);
    wait_event(alice, BF_TURN_EV_PERMISSION, 3000);
    bf_turn_stats_get(alice->turn, &st);
    if (st.stale_nonce) break;
    uint64_t until = now_ns() + 300000000ull;
    while (now_ns() < until) {
      step(alice);
      usleep(10000);
    }
  }
  printf("alice: %llu stale-nonce retries, %llu retransmissions\n",
         (unsigned long long)st.stale_nonce, (unsigned long long)st.retransmits);
  if (st.stale_nonce < 1) die("no 438 met after the nonce went stale");

  channel_path(&lt);

  release(alice);
  release(carol);
  release(bob);
  free_client(alice);
  free_client(carol);
  free_client(bob);
  stop_server(&lt);
  stop_server(&rest);
  remove_dir();
  printf("turn_e2e: ok in %llu ms (coturn %s)\n",
         (unsigned long long)((now_ns() - t0) / 1000000ull), version);
  return 0;
}
