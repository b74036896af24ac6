/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The sender's control plane (sender/ctl_server.c) over real loopback TCP,
 * with the library's client role (bildfunk/ctl_session.h) on the other
 * end and a pipe standing in for the operator's stdin: pairing accepted by
 * the code typed into the pipe (and the pins it leaves, also in a pin file
 * written off the step, and a save that fails), a wrong code, EOF
 * on the input and the confirmation timeout refused, a client name that
 * tries to fake the prompt's IP, --no-pairing, an unpaired and a revoked
 * client refused with Bye 3, the pairing rate limit, a second client
 * replacing the first, a pair-only client (`bildfunk pair` from a second
 * device) that does not, and its session's bound, a silent client noticed
 * within 2 s, the connection cap, running out of descriptors at accept, and
 * the punch acceptance that follows the control peer's IP (real UDP punches
 * from 127.0.0.2 and 127.0.0.1).
 */
#include "testutil.h"

#include "ctl_server.h"
#include "send_session.h"

#include <bildfunk/ctl_session.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MS 1000000ull
#define SEC 1000000000ull
#define MAX_EV 32

static uint64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * SEC + (uint64_t)ts.tv_nsec;
}

/* CPU time of this thread: what a step costs the loop, which a busy
 * machine does not stretch the way it stretches wall time. */
static uint64_t cpu_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (uint64_t)ts.tv_sec * SEC + (uint64_t)ts.tv_nsec;
}

/* AddressSanitizer makes the TLS handshakes several times dearer. */
#if defined(__SANITIZE_ADDRESS__)
#define BF_TEST_SLOWDOWN 4u
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BF_TEST_SLOWDOWN 4u
#endif
#endif
#ifndef BF_TEST_SLOWDOWN
#define BF_TEST_SLOWDOWN 1u
#endif

/* What the operator types when the client shows its code. */
typedef enum typing { TYPE_RIGHT, TYPE_WRONG, TYPE_NOTHING } typing;

typedef struct client {
  int fd;
  bf_ctl_session *s;
  bf_ctl_event ev[MAX_EV];
  size_t n;
  int mute; /* 1: stop reading and writing (a dead peer) */
  uint64_t last_io_ns;
} client;

typedef struct harness {
  bf_identity *sid, *cid;
  bf_pinstore *spins, *cpins;
  bf_sctl *ctl;
  bf_sctl_config cfg;
  int pipe_r, pipe_w;
  FILE *log;
  bf_addr ctl_addr;
  bf_sctl_event ev[MAX_EV];
  size_t n;
  typing type;
  char shown[8];           /* the code the client showed, not typed yet */
  int prompts_done;        /* prompts answered so far */
  const char *client_name; /* the Hello name of the next client (NULL: "test-client") */
  uint16_t max_w, max_h;   /* the next client's largest picture (0: 7680x4320) */
  uint32_t caps_extra;     /* Hello caps of the next client besides BF_CTL_CAP_SEALED */
  bf_identity *next_id;    /* the next client's identity and pins (NULL: cid, cpins): */
  bf_pinstore *next_pins;  /*   a second device */
} harness;

static bf_ctl_offer offer(void) {
  bf_ctl_offer o;
  memset(&o, 0, sizeof o);
  o.codec_pref[0] = BF_CTL_CODEC_H264;
  o.width = 640;
  o.height = 360;
  o.fps = 60;
  o.shard_bytes = 1408;
  o.max_k = 64;
  o.fec_percent = 10;
  o.data_port = 40000;
  o.max_frame_bytes = 8u << 20;
  o.bitrate_kbps = 5000;
  o.sealed = 2;
  return o;
}

static void h_open(harness *h) {
  h->log = tmpfile();
  assert_non_null(h->log);
  h->cfg.listen = "127.0.0.1:0";
  h->cfg.id = h->sid;
  h->cfg.pins = h->spins;
  h->cfg.offer = offer();
  h->cfg.input_fd = h->pipe_r;
  h->cfg.log = h->log;
  char err[256] = "";
  assert_int_equal(bf_sctl_open(&h->cfg, &h->ctl, err, sizeof err), 0);
  assert_int_equal(bf_sctl_local_addr(h->ctl, &h->ctl_addr), 0);
}

static void h_init(harness *h) {
  memset(h, 0, sizeof *h);
  assert_int_equal(bf_identity_generate("sender", &h->sid), 0);
  assert_int_equal(bf_identity_generate("client", &h->cid), 0);
  assert_int_equal(bf_pinstore_open(NULL, &h->spins), 0);
  assert_int_equal(bf_pinstore_open(NULL, &h->cpins), 0);
  int p[2];
  assert_int_equal(pipe(p), 0);
  h->pipe_r = p[0];
  h->pipe_w = p[1];
  h->type = TYPE_RIGHT;
}

static void h_free(harness *h) {
  bf_sctl_close(&h->ctl);
  if (h->pipe_r >= 0) close(h->pipe_r);
  if (h->pipe_w >= 0) close(h->pipe_w);
  if (h->log) fclose(h->log);
  bf_pinstore_del(&h->spins);
  bf_pinstore_del(&h->cpins);
  bf_identity_del(&h->sid);
  bf_identity_del(&h->cid);
}

/* Everything the sender wrote to its log so far. */
static const char *h_log(harness *h) {
  static char buf[16384];
  fflush(h->log);
  long pos = ftell(h->log);
  rewind(h->log);
  size_t n = fread(buf, 1, sizeof buf - 1, h->log);
  buf[n] = 0;
  fseek(h->log, pos, SEEK_SET);
  return buf;
}

/* A client connected from |src_ip| (NULL: any) with pairing mode |pair|. */
static void c_open(harness *h, client *c, const char *src_ip, int pair) {
  memset(c, 0, sizeof *c);
  c->fd = socket(AF_INET, SOCK_STREAM, 0);
  assert_true(c->fd >= 0);
  if (src_ip) {
    struct sockaddr_in b = {.sin_family = AF_INET};
    assert_int_equal(inet_pton(AF_INET, src_ip, &b.sin_addr), 1);
    assert_int_equal(bind(c->fd, (struct sockaddr *)&b, sizeof b), 0);
  }
  assert_int_equal(connect(c->fd, (const struct sockaddr *)&h->ctl_addr.ss, h->ctl_addr.len), 0);
  fcntl(c->fd, F_SETFL, O_NONBLOCK);
  bf_ctl_session_cfg cc;
  memset(&cc, 0, sizeof cc);
  cc.role = BF_TLS_CLIENT;
  cc.id = h->next_id ? h->next_id : h->cid;
  cc.pins = h->next_pins ? h->next_pins : h->cpins;
  cc.peer_name = "sender.test";
  cc.pair = pair;
  cc.wall_unix = 1700000000;
  cc.hello.proto_version = 1;
  cc.hello.mtu = 1500;
  cc.hello.codecs = BF_CTL_CODEC_BIT(BF_CTL_CODEC_H264) | BF_CTL_CODEC_BIT(BF_CTL_CODEC_HEVC);
  cc.hello.max_width = h->max_w ? h->max_w : 7680;
  cc.hello.max_height = h->max_h ? h->max_h : 4320;
  cc.hello.max_fps = 240;
  cc.hello.shard_bytes = 1408;
  cc.hello.caps = BF_CTL_CAP_SEALED | h->caps_extra;
  snprintf(cc.hello.name, sizeof cc.hello.name, "%s",
           h->client_name ? h->client_name : "test-client");
  c->last_io_ns = mono_ns();
  assert_int_equal(bf_ctl_session_new(&cc, c->last_io_ns, &c->s), 0);
}

static void c_free(client *c) {
  if (c->fd >= 0) close(c->fd);
  c->fd = -1;
  bf_ctl_session_del(&c->s);
}

static const bf_ctl_event *c_find(const client *c, bf_ctl_event_type t) {
  for (size_t i = 0; i < c->n; i++)
    if (c->ev[i].type == t) return &c->ev[i];
  return NULL;
}

static const bf_sctl_event *h_find(const harness *h, bf_sctl_event_type t) {
  for (size_t i = 0; i < h->n; i++)
    if (h->ev[i].type == t) return &h->ev[i];
  return NULL;
}

static void type_line(harness *h, const char *line) {
  size_t n = strlen(line);
  assert_int_equal(write(h->pipe_w, line, n), (ssize_t)n);
}

static void c_io(harness *h, client *c, uint64_t now) {
  if (c->fd < 0 || c->mute) return;
  uint8_t buf[4096];
  size_t n;
  while ((n = bf_ctl_session_take_out(c->s, buf, sizeof buf)) > 0) {
    size_t off = 0;
    while (off < n) {
      ssize_t w = send(c->fd, buf + off, n - off, MSG_NOSIGNAL);
      if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
        struct pollfd p = {c->fd, POLLOUT, 0};
        poll(&p, 1, 50);
        continue;
      }
      if (w <= 0) break; /* the sender dropped us: the read side says so */
      off += (size_t)w;
    }
    if (off < n) break;
    c->last_io_ns = now;
  }
  ssize_t r;
  while ((r = recv(c->fd, buf, sizeof buf, 0)) > 0)
    bf_ctl_session_feed(c->s, buf, (size_t)r, now);
  if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
    bf_ctl_session_eof(c->s, now);
  bf_ctl_session_tick(c->s, now);
  while (c->n < MAX_EV && bf_ctl_session_poll(c->s, &c->ev[c->n])) {
    const bf_ctl_event *ev = &c->ev[c->n++];
    if (ev->type == BF_CTL_EV_SHOW_CODE) snprintf(h->shown, sizeof h->shown, "%s", ev->code);
  }
}

/* The operator types only once the sender has asked (lines typed before
 * the question are not taken as its answer). */
static void operator(harness *h) {
  if (!h->shown[0] || h->type == TYPE_NOTHING) return;
  int prompts = 0;
  for (const char *p = h_log(h); (p = strstr(p, "type the 6-digit code")); p++)
    prompts++;
  if (prompts <= h->prompts_done) return;
  h->prompts_done = prompts;
  char line[16];
  if (h->type == TYPE_RIGHT)
    snprintf(line, sizeof line, "%s\n", h->shown);
  else
    snprintf(line, sizeof line, "%s\n", strcmp(h->shown, "000000") ? "000000" : "111111");
  type_line(h, line);
  h->shown[0] = 0;
}

/* Runs both ends until |done| or |timeout_ns|; returns 1 when |done| held. */
typedef int (*cond_fn)(harness *h, client *a, client *b);

static int run(harness *h, client *a, client *b, cond_fn done, uint64_t timeout_ns) {
  uint64_t t0 = mono_ns();
  while (mono_ns() - t0 < timeout_ns) {
    struct pollfd p[BF_SCTL_MAX_FDS + 2];
    size_t n = bf_sctl_pollfds(h->ctl, p, BF_SCTL_MAX_FDS);
    if (a && a->fd >= 0 && !a->mute) p[n++] = (struct pollfd){a->fd, POLLIN, 0};
    if (b && b->fd >= 0 && !b->mute) p[n++] = (struct pollfd){b->fd, POLLIN, 0};
    poll(p, (nfds_t)n, 5);
    uint64_t now = mono_ns();
    bf_sctl_step(h->ctl, now);
    while (h->n < MAX_EV && bf_sctl_next_event(h->ctl, &h->ev[h->n]))
      h->n++;
    if (a) c_io(h, a, now);
    if (b) c_io(h, b, now);
    operator(h);
    if (done && done(h, a, b)) return 1;
  }
  return 0;
}

static int a_closed(harness *h, client *a, client *b) {
  (void)h, (void)b;
  return c_find(a, BF_CTL_EV_CLOSED) != NULL;
}

static int a_established(harness *h, client *a, client *b) {
  (void)b;
  return c_find(a, BF_CTL_EV_ESTABLISHED) && h_find(h, BF_SCTL_EV_STREAM);
}

static int h_stopped(harness *h, client *a, client *b) {
  (void)a, (void)b;
  return h_find(h, BF_SCTL_EV_STOP) != NULL;
}

/* Pairs a client with the right code and closes it again (pins left on both ends). */
static void pair_once(harness *h) {
  client c;
  c_open(h, &c, NULL, 1);
  h->type = TYPE_RIGHT;
  assert_true(run(h, &c, NULL, a_established, 10 * SEC));
  bf_ctl_session_close(c.s, BF_CTL_BYE_NORMAL, "bye", mono_ns());
  assert_true(run(h, &c, NULL, h_stopped, 5 * SEC));
  c_free(&c);
  h->n = 0;
}

/* ---- tests ------------------------------------------------------------------------ */

static void test_pairing_accepted(void **state) {
  (void)state;
  harness h;
  h_init(&h);
  h_open(&h);
  client c;
  c_open(&h, &c, NULL, 1);
  assert_true(run(&h, &c, NULL, a_established, 10 * SEC));
  const bf_ctl_event *show = c_find(&c, BF_CTL_EV_SHOW_CODE);
  assert_non_null(show);
  /* the operator was asked, and told the result */
  assert_non_null(strstr(h_log(&h), "pairing request from \"test-client\" at 127.0.0.1: type the "
                                    "6-digit code it shows and press Enter"));
  assert_non_null(strstr(h_log(&h), "paired with \"test-client\" (fp "));
  /* both sides pinned */
  uint8_t cfp[BF_FP_BYTES];
  bf_identity_fp(h.cid, cfp);
  const bf_pin *pin = bf_pinstore_find_fp(h.spins, cfp);
  assert_non_null(pin);
  assert_string_equal(pin->name, "test-client");
  assert_non_null(bf_pinstore_find_name(h.cpins, "sender.test"));
  /* the stream event: the peer's IP, a sealed mode, the same secret as the client's */
  const bf_sctl_event *st = h_find(&h, BF_SCTL_EV_STREAM);
  char ip[BF_ADDR_STRLEN];
  bf_addr_format(&st->peer, ip, sizeof ip);
  assert_int_equal(strncmp(ip, "127.0.0.1:", 10), 0);
  assert_true(st->welcome.flags & BF_CTL_WELCOME_SEALED);
  assert_int_equal(st->welcome.codec, BF_CTL_CODEC_H264);
  assert_int_equal(st->welcome.width, 640);
  uint8_t secret[32];
  assert_int_equal(bf_ctl_session_seal_secret(c.s, secret, sizeof secret), 0);
  assert_memory_equal(secret, st->secret, 32);
  assert_int_equal(bf_sctl_streaming(h.ctl, NULL), 1);
  const bf_sctl_stats *ss = bf_sctl_stats_get(h.ctl);
  assert_int_equal(ss->pairings_ok, 1);
  assert_int_equal(ss->established, 1);
  assert_int_equal(ss->pairings_refused, 0);
  /* the client says bye: STOP at once */
  bf_ctl_session_close(c.s, BF_CTL_BYE_NORMAL, "done", mono_ns());
  assert_true(run(&h, &c, NULL, h_stopped, 5 * SEC));
  const bf_sctl_event *stop = h_find(&h, BF_SCTL_EV_STOP);
  assert_int_equal(stop->by_peer, 1);
  assert_int_equal(stop->reason, BF_CTL_BYE_NORMAL);
  assert_int_equal(bf_sctl_streaming(h.ctl, NULL), 0);
  c_free(&c);
  h_free(&h);
}

/* A pin store kept in a file (as bildfunk-send has it): the pin is written
 * off the step, on the pin writer's thread, before the client hears
 * PairResult; a save that fails ends the pairing with Bye 1 and the same
 * lines as always ("saving the client's pin failed: ..."). */
static void test_pin_file(void **state) {
  (void)state;
  char dir[256], file[300];
  snprintf(dir, sizeof dir, "%s/bf-sctl-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
  assert_non_null(mkdtemp(dir));
  snprintf(file, sizeof file, "%s/clients", dir);
  harness h;
  h_init(&h);
  bf_pinstore_del(&h.spins);
  assert_int_equal(bf_pinstore_open(file, &h.spins), 0);
  h_open(&h);
  client c;
  c_open(&h, &c, NULL, 1);
  assert_true(run(&h, &c, NULL, a_established, 10 * SEC));
  assert_non_null(strstr(h_log(&h), "paired with \"test-client\" (fp "));
  assert_int_equal(bf_sctl_stats_get(h.ctl)->pairings_ok, 1);
  uint8_t cfp[BF_FP_BYTES];
  bf_identity_fp(h.cid, cfp);
  bf_pinstore *f = NULL;
  assert_int_equal(bf_pinstore_open(file, &f), 0); /* on disk before the client was told */
  const bf_pin *pin = bf_pinstore_find_fp(f, cfp);
  assert_non_null(pin);
  assert_string_equal(pin->name, "test-client");
  bf_pinstore_del(&f);
  assert_non_null(bf_pinstore_find_fp(h.spins, cfp));
  c_free(&c);
  bf_sctl_close(&h.ctl);
  h_free(&h);
  unlink(file);

  /* the file cannot be written (its directory is gone) */
  h_init(&h);
  bf_pinstore_del(&h.spins);
  assert_int_equal(bf_pinstore_open(file, &h.spins), 0);
  assert_int_equal(rmdir(dir), 0);
  h_open(&h);
  c_open(&h, &c, NULL, 1);
  assert_true(run(&h, &c, NULL, a_closed, 10 * SEC));
  const bf_ctl_event *cl = c_find(&c, BF_CTL_EV_CLOSED);
  assert_true(cl->by_peer);
  assert_int_equal(cl->reason, BF_CTL_BYE_ERROR);
  assert_string_equal(cl->text, "saving the client's pin failed: No such file or directory");
  assert_null(c_find(&c, BF_CTL_EV_PAIRED));
  assert_null(c_find(&c, BF_CTL_EV_ESTABLISHED));
  assert_null(h_find(&h, BF_SCTL_EV_STREAM));
  assert_non_null(strstr(h_log(&h), "control connection from 127.0.0.1 ended: saving the "
                                    "client's pin failed: No such file or directory"));
  assert_null(strstr(h_log(&h), "paired with"));
  assert_int_equal(bf_sctl_stats_get(h.ctl)->pairings_ok, 0);
  assert_int_equal(bf_sctl_stats_get(h.ctl)->handshake_failed, 1);
  c_free(&c);
  h_free(&h);
}

static void test_wrong_code_refused(void **state) {
  (void)state;
  harness h;
  h_init(&h);
  h_open(&h);
  h.type = TYPE_WRONG;
  client c;
  c_open(&h, &c, NULL, 1);
  assert_true(run(&h, &c, NULL, a_closed, 10 * SEC));
  const bf_ctl_event *cl = c_find(&c, BF_CTL_EV_CLOSED);
  assert_int_equal(cl->reason, BF_CTL_BYE_PAIR_FAILED);
  assert_null(c_find(&c, BF_CTL_EV_ESTABLISHED));
  assert_null(h_find(&h, BF_SCTL_EV_STREAM));
  assert_int_equal(bf_pinstore_count(h.spins), 0);
  assert_non_null(strstr(h_log(&h), "pairing with \"test-client\" refused: wrong code"));
  run(&h, &c, NULL, NULL, 100 * MS);
  assert_int_equal(bf_sctl_stats_get(h.ctl)->pairings_refused, 1);
  assert_int_equal(bf_sctl_stats_get(h.ctl)->pairings_ok, 0);
  c_free(&c);
  h_free(&h);
}

static void test_input_eof_refuses(void **state) {
  (void)state;
  harness h;
  h_init(&h);
  close(h.pipe_w); /* stdin at EOF: nobody can confirm */
  h.pipe_w = -1;
  h_open(&h);
  h.type = TYPE_NOTHING;
  client c;
  c_open(&h, &c, NULL, 1);
  assert_true(run(&h, &c, NULL, a_closed, 10 * SEC));
  assert_int_equal(c_find(&c, BF_CTL_EV_CLOSED)->reason, BF_CTL_BYE_PAIR_FAILED);
  assert_non_null(strstr(h_log(&h), "refused: no confirmation input"));
  assert_int_equal(bf_pinstore_count(h.spins), 0);
  c_free(&c);
  h_free(&h);
}

static void test_confirm_timeout(void **state) {
  (void)state;
  harness h;
  h_init(&h);
  h.cfg.confirm_ns = 300 * MS;
  h_open(&h);
  h.type = TYPE_NOTHING;
  client c;
  c_open(&h, &c, NULL, 1);
  uint64_t t0 = mono_ns();
  assert_true(run(&h, &c, NULL, a_closed, 10 * SEC));
  assert_true(mono_ns() - t0 < 3 * SEC);
  assert_int_equal(c_find(&c, BF_CTL_EV_CLOSED)->reason, BF_CTL_BYE_PAIR_FAILED);
  run(&h, &c, NULL, NULL, 50 * MS);
  assert_non_null(strstr(h_log(&h), "refused: not confirmed in time"));
  assert_int_equal(bf_sctl_stats_get(h.ctl)->pairings_refused, 1);
  /* a late answer goes nowhere */
  type_line(&h, "123456\n");
  run(&h, &c, NULL, NULL, 50 * MS);
  assert_non_null(strstr(h_log(&h), "no pairing request is waiting"));
  c_free(&c);
  h_free(&h);
}

/* A name cannot close the prompt's quotes and fake the rest of its line. */
static void test_name_cannot_spoof_prompt(void **state) {
  (void)state;
  harness h;
  h_init(&h);
  h_open(&h);
  h.client_name = "evil\" at 10.9.9.9\\";
  h.type = TYPE_WRONG;
  client c;
  c_open(&h, &c, NULL, 1);
  assert_true(run(&h, &c, NULL, a_closed, 10 * SEC));
  assert_non_null(strstr(h_log(&h), "pairing request from \"evil? at 10.9.9.9?\" at 127.0.0.1: "));
  assert_null(strstr(h_log(&h), "\"evil\""));
  c_free(&c);
  h_free(&h);
}

static void test_no_pairing(void **state) {
  (void)state;
  harness h;
  h_init(&h);
  h.cfg.pairing_disabled = 1;
  h_open(&h);
  client c;
  c_open(&h, &c, NULL, 1);
  assert_true(run(&h, &c, NULL, a_closed, 10 * SEC));
  assert_int_equal(c_find(&c, BF_CTL_EV_CLOSED)->reason, BF_CTL_BYE_PAIR_FAILED);
  assert_null(c_find(&c, BF_CTL_EV_SHOW_CODE));
  assert_int_equal(bf_pinstore_count(h.spins), 0);
  c_free(&c);
  h_free(&h);
}

static void test_unpaired_hello_refused(void **state) {
  (void)state;
  harness h;
  h_init(&h);
  h_open(&h);
  /* the client trusts the sender (pinned), the sender never paired it */
  uint8_t sfp[BF_FP_BYTES];
  bf_identity_fp(h.sid, sfp);
  assert_int_equal(bf_pinstore_add(h.cpins, sfp, "sender.test", 1700000000, 1), 0);
  client c;
  c_open(&h, &c, NULL, 1);
  assert_true(run(&h, &c, NULL, a_closed, 10 * SEC));
  const bf_ctl_event *cl = c_find(&c, BF_CTL_EV_CLOSED);
  assert_int_equal(cl->reason, BF_CTL_BYE_NOT_PAIRED);
  assert_int_equal(cl->by_peer, 1);
  assert_null(h_find(&h, BF_SCTL_EV_STREAM));
  run(&h, &c, NULL, NULL, 50 * MS);
  assert_int_equal(bf_sctl_stats_get(h.ctl)->not_paired, 1);
  c_free(&c);
  h_free(&h);
}

static void test_revoked_refused(void **state) {
  (void)state;
  harness h;
  h_init(&h);
  h_open(&h);
  pair_once(&h);
  assert_int_equal(bf_pinstore_count(h.spins), 1);
  /* reconnects without pairing while pinned ... */
  client c;
  c_open(&h, &c, NULL, 1);
  h.type = TYPE_WRONG; /* would refuse a pairing: the reconnect must not need one */
  assert_true(run(&h, &c, NULL, a_established, 10 * SEC));
  assert_null(c_find(&c, BF_CTL_EV_SHOW_CODE));
  c_free(&c);
  run(&h, NULL, NULL, h_stopped, 5 * SEC);
  h.n = 0;
  /* ... until the operator revokes it */
  assert_int_equal(bf_pinstore_revoke(h.spins, "test-client"), 1);
  c_open(&h, &c, NULL, 1);
  assert_true(run(&h, &c, NULL, a_closed, 10 * SEC));
  assert_int_equal(c_find(&c, BF_CTL_EV_CLOSED)->reason, BF_CTL_BYE_NOT_PAIRED);
  assert_null(h_find(&h, BF_SCTL_EV_STREAM));
  c_free(&c);
  h_free(&h);
}

static void test_rate_limit(void **state) {
  (void)state;
  harness h;
  h_init(&h);
  h.cfg.pair_attempts = 2;
  h.cfg.pair_window_ns = 60 * SEC;
  h_open(&h);
  h.type = TYPE_WRONG;
  for (int i = 0; i < 2; i++) {
    client c;
    c_open(&h, &c, NULL, 1);
    assert_true(run(&h, &c, NULL, a_closed, 10 * SEC));
    assert_non_null(c_find(&c, BF_CTL_EV_SHOW_CODE));
    c_free(&c);
  }
  /* the third attempt inside the window is refused before any code is drawn */
  client c;
  c_open(&h, &c, NULL, 1);
  assert_true(run(&h, &c, NULL, a_closed, 10 * SEC));
  const bf_ctl_event *cl = c_find(&c, BF_CTL_EV_CLOSED);
  assert_int_equal(cl->reason, BF_CTL_BYE_PAIR_FAILED);
  assert_non_null(strstr(cl->text, "too many"));
  assert_null(c_find(&c, BF_CTL_EV_SHOW_CODE));
  run(&h, &c, NULL, NULL, 50 * MS);
  assert_int_equal(bf_sctl_stats_get(h.ctl)->rate_limited, 1);
  assert_int_equal(bf_sctl_stats_get(h.ctl)->pairings_refused, 2);
  c_free(&c);
  h_free(&h);
}

/* One address cannot use up the sender's pairing attempts: 127.0.0.2 is
 * refused after its 3, a pairing from 127.0.0.1 still gets its code. */
static void test_rate_limit_per_address(void **state) {
  (void)state;
  harness h;
  h_init(&h);
  h_open(&h);
  h.type = TYPE_WRONG;
  for (int i = 0; i < (int)BF_PAIR_LIMIT_PEER_ATTEMPTS; i++) {
    client c;
    c_open(&h, &c, "127.0.0.2", 1);
    assert_true(run(&h, &c, NULL, a_closed, 10 * SEC));
    assert_non_null(c_find(&c, BF_CTL_EV_SHOW_CODE));
    c_free(&c);
  }
  client c;
  c_open(&h, &c, "127.0.0.2", 1);
  assert_true(run(&h, &c, NULL, a_closed, 10 * SEC));
  const bf_ctl_event *cl = c_find(&c, BF_CTL_EV_CLOSED);
  assert_int_equal(cl->reason, BF_CTL_BYE_PAIR_FAILED);
  assert_non_null(strstr(cl->text, "from this address"));
  assert_null(c_find(&c, BF_CTL_EV_SHOW_CODE));
  c_free(&c);
  /* another address pairs */
  h.type = TYPE_RIGHT;
  c_open(&h, &c, NULL, 1);
  assert_true(run(&h, &c, NULL, a_established, 10 * SEC));
  assert_non_null(c_find(&c, BF_CTL_EV_SHOW_CODE));
  assert_int_equal(bf_sctl_stats_get(h.ctl)->rate_limited, 1);
  c_free(&c);
  h_free(&h);
}

static int b_established_a_closed(harness *h, client *a, client *b) {
  (void)h;
  return c_find(a, BF_CTL_EV_CLOSED) && c_find(b, BF_CTL_EV_ESTABLISHED);
}

static void test_replace(void **state) {
  (void)state;
  harness h;
  h_init(&h);
  h_open(&h);
  pair_once(&h);
  client a, b;
  c_open(&h, &a, NULL, 1);
  assert_true(run(&h, &a, NULL, a_established, 10 * SEC));
  h.n = 0;
  c_open(&h, &b, "127.0.0.2", 1);
  assert_true(run(&h, &a, &b, b_established_a_closed, 10 * SEC));
  assert_int_equal(c_find(&a, BF_CTL_EV_CLOSED)->reason, BF_CTL_BYE_REPLACED);
  /* the replacement is one STREAM event, no STOP */
  const bf_sctl_event *st = h_find(&h, BF_SCTL_EV_STREAM);
  assert_non_null(st);
  assert_null(h_find(&h, BF_SCTL_EV_STOP));
  char ip[BF_ADDR_STRLEN];
  bf_addr_format(&st->peer, ip, sizeof ip);
  assert_int_equal(strncmp(ip, "127.0.0.2:", 10), 0);
  assert_int_equal(bf_sctl_stats_get(h.ctl)->replaced, 1);
  c_free(&a);
  c_free(&b);
  h_free(&h);
}

static int a_or_b_closed(harness *h, client *a, client *b) {
  (void)h;
  return c_find(a, BF_CTL_EV_CLOSED) || c_find(b, BF_CTL_EV_CLOSED);
}

/* A paired client that can only take a smaller picture than the sender
 * streams (the sender does not rescale) is refused, and must not cost the
 * client that is streaming now its stream. */
static void test_too_small_does_not_replace(void **state) {
  (void)state;
  harness h;
  h_init(&h);
  h_open(&h);
  pair_once(&h);
  client a, b;
  c_open(&h, &a, NULL, 1);
  assert_true(run(&h, &a, NULL, a_established, 10 * SEC));
  h.n = 0;
  h.max_w = 320;
  h.max_h = 180;
  c_open(&h, &b, "127.0.0.2", 1);
  assert_true(run(&h, &a, &b, a_or_b_closed, 10 * SEC));
  run(&h, &a, &b, NULL, 200 * MS);
  assert_null(c_find(&a, BF_CTL_EV_CLOSED)); /* A still streams */
  assert_non_null(c_find(&b, BF_CTL_EV_CLOSED));
  assert_int_equal(c_find(&b, BF_CTL_EV_CLOSED)->reason, BF_CTL_BYE_NO_MODE);
  assert_null(h_find(&h, BF_SCTL_EV_STREAM));
  assert_null(h_find(&h, BF_SCTL_EV_STOP));
  bf_addr ip;
  assert_int_equal(bf_sctl_streaming(h.ctl, &ip), 1);
  char txt[BF_ADDR_STRLEN];
  bf_addr_format(&ip, txt, sizeof txt);
  assert_int_equal(strncmp(txt, "127.0.0.1:", 10), 0);
  assert_int_equal(bf_sctl_stats_get(h.ctl)->replaced, 0);
  assert_non_null(strstr(h_log(&h), "the client takes at most 320x180 at 60 fps; this sender "
                                    "streams 640x360 at 60 fps: refused"));
  c_free(&a);
  c_free(&b);
  h_free(&h);
}

static int b_established(harness *h, client *a, client *b) {
  (void)h, (void)a;
  return c_find(b, BF_CTL_EV_ESTABLISHED) != NULL;
}

static int b_closed(harness *h, client *a, client *b) {
  (void)h, (void)a;
  return c_find(b, BF_CTL_EV_CLOSED) != NULL;
}

static int h_one_conn(harness *h, client *a, client *b) {
  (void)a, (void)b;
  return bf_sctl_connections(h->ctl) == 1;
}

/* `bildfunk pair` from a second device (its own identity, a pair-only
 * Hello) while A streams: B pairs and is established, A keeps the stream
 * (no Bye, still the streaming peer, no STREAM event for B), and B ending
 * its session is a normal end that stops nothing. */
static void test_pair_only_keeps_stream(void **state) {
  (void)state;
  harness h;
  h_init(&h);
  h_open(&h);
  pair_once(&h);
  client a, b;
  c_open(&h, &a, NULL, 1);
  assert_true(run(&h, &a, NULL, a_established, 10 * SEC));
  h.n = 0;
  bf_identity *bid;
  bf_pinstore *bpins;
  assert_int_equal(bf_identity_generate("second device", &bid), 0);
  assert_int_equal(bf_pinstore_open(NULL, &bpins), 0);
  h.next_id = bid;
  h.next_pins = bpins;
  h.caps_extra = BF_CTL_CAP_PAIR_ONLY;
  h.client_name = "second-device";
  c_open(&h, &b, "127.0.0.2", 2);
  assert_true(run(&h, &a, &b, b_established, 10 * SEC));
  run(&h, &a, &b, NULL, 300 * MS);
  assert_non_null(c_find(&b, BF_CTL_EV_PAIRED));
  assert_null(c_find(&a, BF_CTL_EV_CLOSED)); /* A was not told "replaced" */
  assert_null(c_find(&b, BF_CTL_EV_CLOSED));
  assert_null(h_find(&h, BF_SCTL_EV_STREAM)); /* no re-key, no punch admission for B */
  assert_null(h_find(&h, BF_SCTL_EV_STOP));
  bf_addr ip;
  assert_int_equal(bf_sctl_streaming(h.ctl, &ip), 1);
  char txt[BF_ADDR_STRLEN];
  bf_addr_format(&ip, txt, sizeof txt);
  assert_int_equal(strncmp(txt, "127.0.0.1:", 10), 0);
  const bf_sctl_stats *ss = bf_sctl_stats_get(h.ctl);
  assert_int_equal(ss->replaced, 0);
  assert_int_equal(ss->pair_only, 1);
  assert_int_equal(ss->pairings_ok, 2);
  assert_int_equal(ss->established, 3);
  uint8_t bfp[BF_FP_BYTES];
  bf_identity_fp(bid, bfp);
  assert_non_null(bf_pinstore_find_fp(h.spins, bfp));
  assert_non_null(bf_pinstore_find_name(bpins, "sender.test"));
  assert_non_null(strstr(
      h_log(&h), "client \"second-device\" at 127.0.0.2 paired (pair only): the stream goes on"));
  assert_null(strstr(h_log(&h), "refused"));
  /* B's user typed the sender's code: B ends its session, a normal end */
  bf_ctl_session_close(b.s, BF_CTL_BYE_NORMAL, "paired", mono_ns());
  assert_true(run(&h, &a, &b, h_one_conn, 5 * SEC));
  run(&h, &a, &b, NULL, 100 * MS);
  assert_null(c_find(&a, BF_CTL_EV_CLOSED));
  assert_null(h_find(&h, BF_SCTL_EV_STREAM));
  assert_null(h_find(&h, BF_SCTL_EV_STOP));
  assert_int_equal(bf_sctl_streaming(h.ctl, NULL), 1);
  assert_int_equal(ss->closed_dead, 0);
  assert_int_equal(ss->handshake_failed, 0);
  assert_int_equal(ss->replaced, 0);
  c_free(&a);
  c_free(&b);
  bf_pinstore_del(&bpins);
  bf_identity_del(&bid);
  h_free(&h);
}

/* A pair-only client pairs from a screen smaller than the stream (it will
 * not stream: no Bye 8). If it never ends its session it holds a setup slot
 * (the per-IP limit counts it) and is ended by the sender with Bye 0 after
 * the bound (2 s here, past the 1.5 s dead-peer limit: keepalives keep it up
 * until then). */
static void test_pair_only_bounded(void **state) {
  (void)state;
  harness h;
  h_init(&h);
  h.cfg.pair_only_ns = 2 * SEC;
  h_open(&h);
  client b;
  h.caps_extra = BF_CTL_CAP_PAIR_ONLY;
  h.max_w = 320;
  h.max_h = 180;
  c_open(&h, &b, "127.0.0.2", 2);
  assert_true(run(&h, NULL, &b, b_established, 10 * SEC));
  uint64_t t_est = mono_ns();
  assert_null(h_find(&h, BF_SCTL_EV_STREAM));
  assert_int_equal(bf_sctl_streaming(h.ctl, NULL), 0);
  assert_int_equal(bf_sctl_stats_get(h.ctl)->pair_only, 1);
  assert_non_null(strstr(h_log(&h), "paired (pair only): it does not stream"));
  /* it counts as in setup: from its IP only BF_SCTL_MAX_SETUP_PER_IP - 1 more */
  int fds[BF_SCTL_MAX_SETUP_PER_IP];
  for (size_t i = 0; i < BF_SCTL_MAX_SETUP_PER_IP; i++) {
    fds[i] = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in ba = {.sin_family = AF_INET};
    assert_int_equal(inet_pton(AF_INET, "127.0.0.2", &ba.sin_addr), 1);
    assert_int_equal(bind(fds[i], (struct sockaddr *)&ba, sizeof ba), 0);
    assert_int_equal(connect(fds[i], (const struct sockaddr *)&h.ctl_addr.ss, h.ctl_addr.len), 0);
  }
  run(&h, NULL, &b, NULL, 400 * MS);
  assert_int_equal(bf_sctl_stats_get(h.ctl)->refused_full, 1);
  for (size_t i = 0; i < BF_SCTL_MAX_SETUP_PER_IP; i++)
    close(fds[i]);
  assert_null(c_find(&b, BF_CTL_EV_CLOSED));
  /* left open: the sender ends it after the bound */
  assert_true(run(&h, NULL, &b, b_closed, 5 * SEC));
  uint64_t took = mono_ns() - t_est;
  const bf_ctl_event *bye = c_find(&b, BF_CTL_EV_CLOSED);
  assert_int_equal(bye->reason, BF_CTL_BYE_NORMAL);
  assert_true(bye->by_peer);
  assert_true(took >= 1900 * MS);
  assert_true(took < 3500 * MS);
  assert_int_equal(bf_sctl_stats_get(h.ctl)->closed_dead, 0);
  assert_non_null(strstr(h_log(&h), "pair-only session of \"test-client\" at 127.0.0.2 ended: "
                                    "pairing done; this session does not stream"));
  assert_null(h_find(&h, BF_SCTL_EV_STOP));
  print_message("pair-only session ended by the sender %.0f ms after it was established\n",
                (double)took / 1e6);
  c_free(&b);
  h_free(&h);
}

static void test_dead_peer(void **state) {
  (void)state;
  harness h;
  h_init(&h);
  h_open(&h);
  pair_once(&h);
  client c;
  c_open(&h, &c, NULL, 1);
  assert_true(run(&h, &c, NULL, a_established, 10 * SEC));
  /* the client's machine freezes: the socket stays open, nothing flows */
  run(&h, &c, NULL, NULL, 100 * MS);
  c.mute = 1;
  uint64_t silent_since = c.last_io_ns;
  assert_true(run(&h, &c, NULL, h_stopped, 5 * SEC));
  uint64_t took = mono_ns() - silent_since;
  assert_true(took < 2 * SEC);
  const bf_sctl_event *stop = h_find(&h, BF_SCTL_EV_STOP);
  assert_int_equal(stop->reason, BF_CTL_BYE_TIMEOUT);
  assert_int_equal(bf_sctl_stats_get(h.ctl)->closed_dead, 1);
  print_message("dead peer noticed %.0f ms after its last bytes\n", (double)took / 1e6);
  c_free(&c);
  h_free(&h);
}

static void test_connection_cap(void **state) {
  (void)state;
  harness h;
  h_init(&h);
  h_open(&h);
  /* from three addresses, so that the per-IP limit is not what refuses */
  int fds[BF_SCTL_MAX_SETUP + 2];
  static const char *const ips[] = {"127.0.0.1", "127.0.0.2", "127.0.0.3"};
  for (size_t i = 0; i < BF_SCTL_MAX_SETUP + 2; i++) {
    fds[i] = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in b = {.sin_family = AF_INET};
    assert_int_equal(inet_pton(AF_INET, ips[i % 3], &b.sin_addr), 1);
    assert_int_equal(bind(fds[i], (struct sockaddr *)&b, sizeof b), 0);
    assert_int_equal(connect(fds[i], (const struct sockaddr *)&h.ctl_addr.ss, h.ctl_addr.len), 0);
  }
  run(&h, NULL, NULL, NULL, 800 * MS); /* BF_SCTL_ACCEPT_PER_SEC: 10 take ~300 ms */
  const bf_sctl_stats *ss = bf_sctl_stats_get(h.ctl);
  assert_int_equal(ss->connections, BF_SCTL_MAX_SETUP + 2);
  assert_int_equal(ss->refused_full, 2);
  assert_int_equal(bf_sctl_connections(h.ctl), BF_SCTL_MAX_SETUP);
  for (size_t i = 0; i < BF_SCTL_MAX_SETUP + 2; i++)
    close(fds[i]);
  run(&h, NULL, NULL, NULL, 200 * MS);
  assert_int_equal(bf_sctl_connections(h.ctl), 0);
  h_free(&h);
}

/* One host that opens connections and sends nothing cannot take every
 * setup slot: a paired client from another IP still gets its session (the
 * idle ones would hold their slots for the 5 s handshake window, and the
 * host reconnects as soon as they are closed). */
static void test_one_ip_cannot_fill_the_slots(void **state) {
  (void)state;
  harness h;
  h_init(&h);
  h_open(&h);
  pair_once(&h);
  int fds[BF_SCTL_MAX_SETUP];
  for (size_t i = 0; i < BF_SCTL_MAX_SETUP; i++) {
    fds[i] = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in b = {.sin_family = AF_INET};
    assert_int_equal(inet_pton(AF_INET, "127.0.0.2", &b.sin_addr), 1);
    assert_int_equal(bind(fds[i], (struct sockaddr *)&b, sizeof b), 0);
    assert_int_equal(connect(fds[i], (const struct sockaddr *)&h.ctl_addr.ss, h.ctl_addr.len), 0);
  }
  run(&h, NULL, NULL, NULL, 800 * MS); /* BF_SCTL_ACCEPT_PER_SEC: 8 take ~200 ms */
  const bf_sctl_stats *ss = bf_sctl_stats_get(h.ctl);
  assert_int_equal(ss->connections, 1 + BF_SCTL_MAX_SETUP);
  assert_true(bf_sctl_connections(h.ctl) <= BF_SCTL_MAX_SETUP_PER_IP);
  assert_int_equal(ss->refused_full, BF_SCTL_MAX_SETUP - BF_SCTL_MAX_SETUP_PER_IP);
  client c;
  c_open(&h, &c, "127.0.0.1", 1);
  assert_true(run(&h, &c, NULL, a_established, 3 * SEC));
  assert_int_equal(ss->refused_full, BF_SCTL_MAX_SETUP - BF_SCTL_MAX_SETUP_PER_IP);
  for (size_t i = 0; i < BF_SCTL_MAX_SETUP; i++)
    close(fds[i]);
  c_free(&c);
  h_free(&h);
}

/* A flood of connections that each send a canned ClientHello (no crypto on
 * the attacker's side) and close: every one costs the sender a TLS
 * handshake (~1 ms of CPU here) on its video thread. The time the sender's
 * loop spends in bf_sctl_step must stay a small share of the time. */
static void test_handshake_flood_bounded(void **state) {
  (void)state;
  harness h;
  h_init(&h);
  h_open(&h);
  /* a ClientHello from the library's client role, sent again and again */
  client proto;
  c_open(&h, &proto, NULL, 1);
  uint8_t hello[4096];
  size_t hello_n = bf_ctl_session_take_out(proto.s, hello, sizeof hello);
  assert_true(hello_n > 0);
  c_free(&proto);
  run(&h, NULL, NULL, NULL, 100 * MS);
  uint64_t t0 = mono_ns(), in_step = 0;
  while (mono_ns() - t0 < SEC) {
    for (int i = 0; i < 4; i++) {
      int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
      assert_true(fd >= 0);
      if (connect(fd, (const struct sockaddr *)&h.ctl_addr.ss, h.ctl_addr.len) == 0 ||
          errno == EINPROGRESS)
        (void)send(fd, hello, hello_n, MSG_NOSIGNAL | MSG_DONTWAIT);
      close(fd);
    }
    struct pollfd p[BF_SCTL_MAX_FDS];
    size_t n = bf_sctl_pollfds(h.ctl, p, BF_SCTL_MAX_FDS);
    poll(p, (nfds_t)n, 1);
    uint64_t a = cpu_ns();
    bf_sctl_step(h.ctl, mono_ns());
    in_step += cpu_ns() - a;
  }
  const bf_sctl_stats *ss = bf_sctl_stats_get(h.ctl);
  print_message("1 s of connection flood: %.1f ms of CPU in bf_sctl_step, %llu accepted\n",
                (double)in_step / 1e6, (unsigned long long)ss->connections);
  /* the accept limit (20/s, 4 in a row) bounds the handshakes, and so the
   * CPU they cost the loop */
  assert_true(ss->connections <= 25);
  assert_true(in_step < 200 * MS * BF_TEST_SLOWDOWN);
  h_free(&h);
}

/* Connections opened quietly that then send their ClientHellos at the same
 * moment: one bf_sctl_step must not do all their handshakes (~1 ms of CPU
 * each) in one go, delaying the video loop by all of them at once; the rest
 * wait for the next steps. Seen from the clients: after one step only a
 * few have the sender's answer. */
static void test_handshakes_spread_over_steps(void **state) {
  (void)state;
  harness h;
  h_init(&h);
  h_open(&h);
  client proto;
  c_open(&h, &proto, NULL, 1);
  uint8_t hello[4096];
  size_t hello_n = bf_ctl_session_take_out(proto.s, hello, sizeof hello);
  assert_true(hello_n > 0);
  c_free(&proto);
  run(&h, NULL, NULL, NULL, 800 * MS); /* accepted, then the connection dropped */
  enum { N = BF_SCTL_MAX_SETUP };
  int fds[N];
  for (int i = 0; i < N; i++) {
    fds[i] = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in b = {.sin_family = AF_INET};
    assert_int_equal(inet_pton(AF_INET, i % 2 ? "127.0.0.2" : "127.0.0.3", &b.sin_addr), 1);
    assert_int_equal(bind(fds[i], (struct sockaddr *)&b, sizeof b), 0);
    assert_int_equal(connect(fds[i], (const struct sockaddr *)&h.ctl_addr.ss, h.ctl_addr.len), 0);
  }
  run(&h, NULL, NULL, NULL, 800 * MS);
  assert_int_equal(bf_sctl_connections(h.ctl), N);
  for (int i = 0; i < N; i++)
    assert_int_equal(send(fds[i], hello, hello_n, MSG_NOSIGNAL), (ssize_t)hello_n);
  struct pollfd p[BF_SCTL_MAX_FDS];
  size_t n = bf_sctl_pollfds(h.ctl, p, BF_SCTL_MAX_FDS);
  poll(p, (nfds_t)n, 50);
  usleep(20000); /* every ClientHello has arrived */
  bf_sctl_step(h.ctl, mono_ns());
  int answered = 0;
  for (int i = 0; i < N; i++) {
    struct pollfd q = {fds[i], POLLIN, 0};
    answered += poll(&q, 1, 0) == 1;
  }
  print_message("%d of %d handshakes done in one step\n", answered, N);
  assert_true(answered >= 1);
  assert_true(answered <= 2);
  /* the others follow in the next steps */
  run(&h, NULL, NULL, NULL, 300 * MS);
  answered = 0;
  for (int i = 0; i < N; i++) {
    struct pollfd q = {fds[i], POLLIN, 0};
    answered += poll(&q, 1, 0) == 1;
  }
  assert_int_equal(answered, N);
  for (int i = 0; i < N; i++)
    close(fds[i]);
  h_free(&h);
}

/* Out of descriptors: the listener is left alone for a while (no busy loop
 * on a readable listener), and the queued connection is taken later. */
static void test_accept_emfile_pauses(void **state) {
  (void)state;
  harness h;
  h_init(&h);
  h_open(&h);
  int cfd = socket(AF_INET, SOCK_STREAM, 0);
  assert_true(cfd >= 0);
  struct rlimit keep, low;
  assert_int_equal(getrlimit(RLIMIT_NOFILE, &keep), 0);
  int probe = dup(0); /* the lowest free descriptor: the limit goes just below it */
  assert_true(probe >= 0);
  close(probe);
  low = keep;
  low.rlim_cur = (rlim_t)probe;
  assert_int_equal(connect(cfd, (const struct sockaddr *)&h.ctl_addr.ss, h.ctl_addr.len), 0);
  assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
  bf_sctl_step(h.ctl, mono_ns());
  struct pollfd p[BF_SCTL_MAX_FDS];
  size_t n = bf_sctl_pollfds(h.ctl, p, BF_SCTL_MAX_FDS);
  assert_true(n >= 1);
  assert_int_equal(p[0].fd, -1); /* paused */
  assert_int_equal(bf_sctl_stats_get(h.ctl)->connections, 0);
  assert_int_equal(setrlimit(RLIMIT_NOFILE, &keep), 0);
  run(&h, NULL, NULL, NULL, 300 * MS);
  assert_int_equal(bf_sctl_stats_get(h.ctl)->connections, 1);
  n = bf_sctl_pollfds(h.ctl, p, BF_SCTL_MAX_FDS);
  assert_true(p[0].fd >= 0);
  close(cfd);
  h_free(&h);
}

/* Sends everything |c|'s session has for the sender, stepping the sender
 * whenever TCP pushes back (the sender reads as it steps). */
static void c_push_all(harness *h, client *c) {
  uint8_t buf[16384];
  size_t n;
  while ((n = bf_ctl_session_take_out(c->s, buf, sizeof buf)) > 0) {
    size_t off = 0;
    while (off < n) {
      ssize_t w = send(c->fd, buf + off, n - off, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (w > 0) {
        off += (size_t)w;
        continue;
      }
      assert_true(w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR));
      bf_sctl_step(h->ctl, mono_ns());
      while (h->n < MAX_EV && bf_sctl_next_event(h->ctl, &h->ev[h->n]))
        h->n++;
    }
  }
}

/* A paired client floods small messages (here clock pings, which the
 * sender ignores) and then says Bye. The sender must decode what it reads
 * when it reads it: a session that is fed 256 KiB per step but allowed to
 * decode only a few hundred messages of it keeps the rest inside, a backlog
 * that grows without bound while the flood lasts, and the Bye (or anything
 * else) behind it waits for many steps. */
static void test_flood_does_not_pile_up(void **state) {
  (void)state;
  harness h;
  h_init(&h);
  h_open(&h);
  pair_once(&h);
  client c;
  c_open(&h, &c, NULL, 1);
  assert_true(run(&h, &c, NULL, a_established, 10 * SEC));
  h.n = 0;
  bf_ctl_msg m;
  memset(&m, 0, sizeof m);
  m.type = BF_CTL_CLOCK_PING;
  for (uint32_t i = 0; i < 20000; i++) {
    m.u.ping.id = i;
    m.u.ping.t1_ns = i;
    assert_int_equal(bf_ctl_session_send(c.s, &m, mono_ns()), 0);
    if (i % 1000 == 999) c_push_all(&h, &c);
  }
  bf_ctl_session_close(c.s, BF_CTL_BYE_NORMAL, "done", mono_ns());
  c_push_all(&h, &c);
  /* everything is on its way: the STOP must follow within a few steps */
  int steps = 0;
  uint64_t t0 = mono_ns();
  while (!h_find(&h, BF_SCTL_EV_STOP) && mono_ns() - t0 < 10 * SEC) {
    struct pollfd p[BF_SCTL_MAX_FDS];
    size_t n = bf_sctl_pollfds(h.ctl, p, BF_SCTL_MAX_FDS);
    poll(p, (nfds_t)n, 5);
    bf_sctl_step(h.ctl, mono_ns());
    steps++;
    while (h.n < MAX_EV && bf_sctl_next_event(h.ctl, &h.ev[h.n]))
      h.n++;
  }
  print_message("STOP %d steps after the last byte of a 20000-message flood\n", steps);
  const bf_sctl_event *stop = h_find(&h, BF_SCTL_EV_STOP);
  assert_non_null(stop);
  assert_int_equal(stop->by_peer, 1);
  assert_int_equal(stop->reason, BF_CTL_BYE_NORMAL);
  assert_true(steps <= 12);
  c_free(&c);
  h_free(&h);
}

/* ---- punches follow the control peer --------------------------------------------- */

static int udp_bound(const char *ip, bf_addr *out) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  assert_true(fd >= 0);
  struct sockaddr_in a = {.sin_family = AF_INET};
  assert_int_equal(inet_pton(AF_INET, ip, &a.sin_addr), 1);
  assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
  if (out) {
    memset(out, 0, sizeof *out);
    out->len = sizeof out->ss;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&out->ss, &out->len), 0);
  }
  return fd;
}

/* Sends a punch from |from| to |to|, receives it on |rx| and hands it to
 * the session as the sender's loop does. */
static bf_ss_event punch_via_udp(bf_send_session *ss, int from, int rx, const bf_addr *to) {
  assert_int_equal(
      sendto(from, BF_PUNCH_MAGIC, BF_PUNCH_BYTES, 0, (const struct sockaddr *)&to->ss, to->len),
      BF_PUNCH_BYTES);
  struct pollfd p = {rx, POLLIN, 0};
  assert_int_equal(poll(&p, 1, 2000), 1);
  uint8_t buf[64];
  bf_addr src;
  memset(&src, 0, sizeof src);
  src.len = sizeof src.ss;
  ssize_t n = recvfrom(rx, buf, sizeof buf, 0, (struct sockaddr *)&src.ss, &src.len);
  assert_int_equal(n, BF_PUNCH_BYTES);
  bf_ss_result res;
  return bf_send_session_on_datagram(ss, buf, (size_t)n, &src, mono_ns(), &res);
}

static void test_punch_follows_control_peer(void **state) {
  (void)state;
  harness h;
  h_init(&h);
  h_open(&h);
  pair_once(&h);
  bf_addr data;
  int rx = udp_bound("127.0.0.1", &data);
  int from1 = udp_bound("127.0.0.1", NULL);
  int from2 = udp_bound("127.0.0.2", NULL);
  bf_send_session_config sc;
  bf_send_session_config_default(&sc);
  sc.closed = 1; /* control mode */
  bf_send_session ss;
  bf_send_session_init(&ss, &sc);
  /* no established session: every punch is refused */
  assert_int_equal(punch_via_udp(&ss, from1, rx, &data), BF_SS_NONE);
  assert_int_equal(punch_via_udp(&ss, from2, rx, &data), BF_SS_NONE);
  assert_int_equal(ss.stats.punches_denied, 2);
  /* a session established from 127.0.0.2 admits that IP, not 127.0.0.1 */
  client c;
  c_open(&h, &c, "127.0.0.2", 1);
  assert_true(run(&h, &c, NULL, a_established, 10 * SEC));
  const bf_sctl_event *st = h_find(&h, BF_SCTL_EV_STREAM);
  assert_int_equal(bf_send_session_allow(&ss, &st->peer), 0);
  assert_int_equal(punch_via_udp(&ss, from1, rx, &data), BF_SS_NONE);
  assert_int_equal(ss.stats.punches_denied, 3);
  assert_int_equal(punch_via_udp(&ss, from2, rx, &data), BF_SS_ADOPT);
  assert_true(ss.streaming);
  /* another IP stays out while streaming */
  assert_int_equal(punch_via_udp(&ss, from1, rx, &data), BF_SS_NONE);
  assert_true(bf_addr_same_ip(&ss.peer, &st->peer));
  /* the session closes: the sender refuses punches again */
  bf_ctl_session_close(c.s, BF_CTL_BYE_NORMAL, "done", mono_ns());
  assert_true(run(&h, &c, NULL, h_stopped, 5 * SEC));
  assert_int_equal(bf_send_session_allow(&ss, NULL), 1);
  assert_false(ss.streaming);
  assert_int_equal(punch_via_udp(&ss, from2, rx, &data), BF_SS_NONE);
  close(rx);
  close(from1);
  close(from2);
  c_free(&c);
  h_free(&h);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_pairing_accepted),
      cmocka_unit_test(test_pin_file),
      cmocka_unit_test(test_wrong_code_refused),
      cmocka_unit_test(test_input_eof_refuses),
      cmocka_unit_test(test_confirm_timeout),
      cmocka_unit_test(test_no_pairing),
      cmocka_unit_test(test_name_cannot_spoof_prompt),
      cmocka_unit_test(test_unpaired_hello_refused),
      cmocka_unit_test(test_revoked_refused),
      cmocka_unit_test(test_rate_limit),
      cmocka_unit_test(test_rate_limit_per_address),
      cmocka_unit_test(test_replace),
      cmocka_unit_test(test_too_small_does_not_replace),
      cmocka_unit_test(test_pair_only_keeps_stream),
      cmocka_unit_test(test_pair_only_bounded),
      cmocka_unit_test(test_dead_peer),
      cmocka_unit_test(test_connection_cap),
      cmocka_unit_test(test_one_ip_cannot_fill_the_slots),
      cmocka_unit_test(test_handshake_flood_bounded),
      cmocka_unit_test(test_handshakes_spread_over_steps),
      cmocka_unit_test(test_accept_emfile_pauses),
      cmocka_unit_test(test_punch_follows_control_peer),
      cmocka_unit_test(test_flood_does_not_pile_up),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
