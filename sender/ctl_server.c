/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The sender's control plane: see ctl_server.h.
 */
#include "ctl_server.h"

#ifdef BF_HAVE_SEAL

#include "pin_writer.h"

#include <bildfunk/codec.h>
#include <bildfunk/common.h>
#include <bildfunk/ctl_conn.h>

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define NCONN (BF_SCTL_MAX_SETUP + 1u) /* the streaming one + those in setup */
#define EVQ 32u
#define LINE_MAX_BYTES 128u

typedef struct conn {
  bf_addr peer;
  char ip[BF_ADDR_STRLEN];
  int streaming;                           /* the current streaming session */
  int established;                         /* reached ESTABLISHED once */
  int pair_only;                           /* ... with a pair-only Hello: never streams */
  uint64_t pair_end;                       /* ... and is ended then (ns) at the latest */
  int in_line;                             /* waiting for the operator's confirmation */
  int asked;                               /* ... and the operator has been asked */
  int answered;                            /* the operator answered (or EOF refused it) */
  uint64_t line_no;                        /* arrival order in the confirmation line */
  char code[BF_PAIR_CODE_DIGITS + 1];      /* the client shows it; the operator types it here */
  char code_self[BF_PAIR_CODE_DIGITS + 1]; /* shown here; the client's user types it there */
  char name[BF_PIN_MAX_NAME + 1];
  int saving;        /* the operator accepted; the pin file is being written */
  uint64_t save_tag; /* ... as this job of the pin writer */
  int closed;        /* the session's CLOSED event was taken: flush, then drop */
  /* the socket (io.fd -1: a free slot), the session (io.s) and the bytes
   * TCP has not taken yet; last, so a slot's policy fields clear apart */
  bf_ctl_conn io;
} conn;

struct bf_sctl {
  bf_sctl_config cfg;
  FILE *log;
  int lfd;
  uint64_t accept_pause_until; /* after EMFILE and the like: leave the listener alone until then */
  uint64_t accept_tat; /* accept rate limit: the theoretical time of the next accept (GCRA) */
  int input_fd;        /* -1 once closed / none */
  uint64_t input_pause_until; /* a background job on a terminal: leave the input alone until then */
  char line[LINE_MAX_BYTES + 1];
  size_t line_len;
  int line_long; /* the current line is longer than LINE_MAX_BYTES */
  bf_pair_limiter lim;
  /* pairing attempts per source address; when all are in use, the one
   * used least recently is taken over (the sender-wide |lim| still holds) */
  struct {
    bf_addr ip;
    uint64_t used_ns;
    bf_pair_limiter lim;
  } peer_lim[BF_SCTL_PAIR_PEERS];
  uint64_t line_counter;
  bf_pin_writer *pw; /* writes the pin file off this thread; NULL: memory-only pins */
  uint64_t save_counter;
  conn conns[NCONN];
  bf_sctl_event evq[EVQ];
  size_t ev_head, ev_n;
  bf_sctl_stats st;
};

static void conn_events(bf_sctl *c, conn *k, uint64_t now);

/* Overwrites |p| with zeros in a way the compiler keeps (secrets). */
static void wipe(void *p, size_t n) {
  volatile unsigned char *v = p;
  while (n--)
    *v++ = 0;
}

static void say(bf_sctl *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(bf_sctl *c, const char *fmt, ...) {
  if (!c->log) return;
  va_list ap;
  va_start(ap, fmt);
  fputs("bildfunk-send: ", c->log);
  vfprintf(c->log, fmt, ap);
  fputc('\n', c->log);
  va_end(ap);
  fflush(c->log);
}

static void ip_text(const bf_addr *a, char *out, size_t cap) {
  char buf[BF_ADDR_STRLEN];
  bf_addr_format(a, buf, sizeof buf);
  /* "1.2.3.4:5" -> "1.2.3.4", "[::1]:5" -> "::1" */
  char *colon = strrchr(buf, ':');
  if (colon) *colon = 0;
  char *p = buf;
  size_t n = strlen(p);
  if (n >= 2 && p[0] == '[' && p[n - 1] == ']') {
    p[n - 1] = 0;
    p++;
  }
  snprintf(out, cap, "%s", p);
}

/* The client's name as the operator sees it: the library allows printable
 * UTF-8 only (no control characters); quotes and backslashes become '?' so a
 * name cannot close the quotes of a prompt and fake the rest of its line. */
static void safe_name(char *out, size_t cap, const char *name) {
  snprintf(out, cap, "%s", name);
  for (char *p = out; *p; p++)
    if (*p == '"' || *p == '\\') *p = '?';
}

static void push_event(bf_sctl *c, const bf_sctl_event *ev) {
  if (c->ev_n == EVQ) { /* cannot happen with NCONN sessions per step; keep the newest */
    c->ev_head = (c->ev_head + 1) % EVQ;
    c->ev_n--;
  }
  c->evq[(c->ev_head + c->ev_n) % EVQ] = *ev;
  c->ev_n++;
}

int bf_sctl_next_event(bf_sctl *c, bf_sctl_event *ev) {
  if (!c->ev_n) return 0;
  bf_sctl_event *e = &c->evq[c->ev_head];
  *ev = *e;
  wipe(e, sizeof *e);
  c->ev_head = (c->ev_head + 1) % EVQ;
  c->ev_n--;
  return 1;
}

/* ---- open / close ------------------------------------------------------- */

int bf_sctl_open(const bf_sctl_config *cfg, bf_sctl **out, char *err, size_t cap) {
  *out = NULL;
  if (!cfg || !cfg->id || !cfg->pins || !cfg->listen) {
    snprintf(err, cap, "control: missing identity, pin store or address");
    return -EINVAL;
  }
  bf_addr a;
  int r = bf_addr_parse(cfg->listen, (uint16_t)BF_CTL_DEFAULT_PORT, &a);
  if (r < 0) {
    snprintf(err, cap, "--control: cannot use address '%s': %s", cfg->listen, bf_strerror(r));
    return r == -ENOENT ? -EINVAL : r;
  }
  bf_sctl *c = calloc(1, sizeof *c);
  if (!c) {
    snprintf(err, cap, "out of memory");
    return -ENOMEM;
  }
  c->cfg = *cfg;
  c->log = cfg->log;
  c->input_fd = cfg->input_fd;
  for (size_t i = 0; i < NCONN; i++)
    bf_ctl_conn_init(&c->conns[i].io);
  bf_pair_limiter_init(&c->lim,
                       cfg->pair_attempts ? cfg->pair_attempts : BF_PAIR_LIMIT_DEFAULT_ATTEMPTS,
                       cfg->pair_window_ns ? cfg->pair_window_ns : BF_PAIR_LIMIT_DEFAULT_WINDOW_NS);
  c->lfd = socket(a.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c->lfd < 0) {
    r = -errno;
    snprintf(err, cap, "control: socket: %s", strerror(errno));
    free(c);
    return r;
  }
  int one = 1;
  setsockopt(c->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(c->lfd, (const struct sockaddr *)&a.ss, a.len) < 0 || listen(c->lfd, 16) < 0) {
    r = -errno;
    if (r == -EADDRINUSE)
      snprintf(err, cap, "control port %s is busy (is another bildfunk-send running?)",
               cfg->listen);
    else
      snprintf(err, cap, "cannot listen on %s (control): %s", cfg->listen, strerror(-r));
    close(c->lfd);
    free(c);
    return r;
  }
  const char *pin_file = bf_pinstore_path(cfg->pins);
  if (pin_file && (r = bf_pin_writer_new(pin_file, &c->pw)) < 0) {
    snprintf(err, cap, "control: cannot start the pin file writer: %s", bf_strerror(r));
    close(c->lfd);
    free(c);
    return r;
  }
  *out = c;
  return 0;
}

static void conn_drop(conn *k) {
  bf_ctl_conn_close(&k->io);
  memset(k, 0, offsetof(conn, io));
}

void bf_sctl_close(bf_sctl **cp) {
  if (!cp || !*cp) return;
  bf_sctl *c = *cp;
  for (size_t i = 0; i < NCONN; i++)
    if (c->conns[i].io.fd >= 0) conn_drop(&c->conns[i]);
  if (c->lfd >= 0) close(c->lfd);
  bf_pin_writer_del(&c->pw); /* writes the pins still queued first */
  wipe(c->evq, sizeof c->evq);
  free(c);
  *cp = NULL;
}

int bf_sctl_local_addr(const bf_sctl *c, bf_addr *out) {
  memset(out, 0, sizeof *out);
  out->len = sizeof out->ss;
  if (getsockname(c->lfd, (struct sockaddr *)&out->ss, &out->len) < 0) return -errno;
  return 0;
}

size_t bf_sctl_pollfds(const bf_sctl *c, struct pollfd *fds, size_t cap) {
  size_t n = 0;
  if (n < cap) fds[n++] = (struct pollfd){c->accept_pause_until ? -1 : c->lfd, POLLIN, 0};
  if (c->input_fd >= 0 && !c->input_pause_until && n < cap)
    fds[n++] = (struct pollfd){c->input_fd, POLLIN, 0};
  if (c->pw && n < cap) fds[n++] = (struct pollfd){bf_pin_writer_fd(c->pw), POLLIN, 0};
  for (size_t i = 0; i < NCONN && n < cap; i++) {
    const conn *k = &c->conns[i];
    if (k->io.fd < 0) continue;
    fds[n++] = (struct pollfd){k->io.fd, bf_ctl_conn_poll_events(&k->io), 0};
  }
  return n;
}

const bf_sctl_stats *bf_sctl_stats_get(const bf_sctl *c) {
  return &c->st;
}

size_t bf_sctl_connections(const bf_sctl *c) {
  size_t n = 0;
  for (size_t i = 0; i < NCONN; i++)
    n += c->conns[i].io.fd >= 0;
  return n;
}

int bf_sctl_streaming(const bf_sctl *c, bf_addr *ip) {
  for (size_t i = 0; i < NCONN; i++)
    if (c->conns[i].io.fd >= 0 && c->conns[i].streaming && !c->conns[i].closed) {
      if (ip) *ip = c->conns[i].peer;
      return 1;
    }
  return 0;
}

/* ---- confirmation line ----------------------------------------------------------- */

static conn *asked_conn(bf_sctl *c) {
  for (size_t i = 0; i < NCONN; i++)
    if (c->conns[i].io.fd >= 0 && c->conns[i].in_line && c->conns[i].asked) return &c->conns[i];
  return NULL;
}

static void answer(bf_sctl *c, conn *k, int accept, const char *why, uint64_t now) {
  k->in_line = 0;
  k->answered = 1;
  if (!accept) say(c, "pairing with \"%s\" refused: %s", k->name, why);
  (void)bf_ctl_session_confirm(k->io.s, accept, now);
  conn_events(c, k, now); /* PAIRED: the pin goes to the writer now */
}

/* Asks the operator about the next request in line, if none is asked now. */
static void ask_next(bf_sctl *c, uint64_t now) {
  if (asked_conn(c)) return;
  conn *next = NULL;
  for (size_t i = 0; i < NCONN; i++) {
    conn *k = &c->conns[i];
    if (k->io.fd >= 0 && k->in_line && !k->closed && (!next || k->line_no < next->line_no))
      next = k;
  }
  if (!next) return;
  if (c->input_fd < 0) {
    say(c, "pairing request from \"%s\" at %s: no confirmation input", next->name, next->ip);
    answer(c, next, 0, "no confirmation input (stdin closed)", now);
    return;
  }
  next->asked = 1;
  c->line_len = 0; /* what was typed before the question does not answer it */
  c->line_long = 0;
  say(c,
      "pairing request from \"%s\" at %s: type the 6-digit code it shows and press Enter; "
      "it asks for this sender's code: %s",
      next->name, next->ip, next->code_self);
}

static void on_line(bf_sctl *c, const char *line, uint64_t now) {
  conn *k = asked_conn(c);
  if (!k) {
    if (line[0]) say(c, "no pairing request is waiting; input ignored");
    return;
  }
  /* trim white space (and a terminal's CR) */
  while (*line == ' ' || *line == '\t')
    line++;
  size_t n = strlen(line);
  while (n && (line[n - 1] == ' ' || line[n - 1] == '\t' || line[n - 1] == '\r'))
    n--;
  int ok = n == BF_PAIR_CODE_DIGITS && memcmp(line, k->code, n) == 0;
  answer(c, k, ok, "wrong code", now);
}

static void input_eof(bf_sctl *c, uint64_t now) {
  if (c->input_fd >= 0 && c->input_fd != c->cfg.input_fd) close(c->input_fd);
  c->input_fd = -1;
  conn *k = asked_conn(c);
  if (k) answer(c, k, 0, "no confirmation input (stdin closed)", now);
}

static void read_input(bf_sctl *c, uint64_t now) {
  char buf[256];
  ssize_t n = read(c->input_fd, buf, sizeof buf);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
  if (n < 0 && errno == EIO) {
    /* a background job reading its terminal (SIGTTIN ignored): the input
     * belongs to the foreground now; look again in a second (after `fg`) */
    c->input_pause_until = now + 1000000000ull;
    return;
  }
  if (n <= 0) {
    input_eof(c, now);
    return;
  }
  for (ssize_t i = 0; i < n; i++) {
    if (buf[i] == '\n') {
      c->line[c->line_len] = 0;
      if (c->line_long) c->line[0] = 'x', c->line[1] = 0; /* never a code */
      on_line(c, c->line, now);
      c->line_len = 0;
      c->line_long = 0;
    } else if (c->line_len < LINE_MAX_BYTES) {
      c->line[c->line_len++] = buf[i];
    } else {
      c->line_long = 1;
    }
  }
}

/* ---- session events ---------------------------------------------------------- */

static void on_closed(bf_sctl *c, conn *k, const bf_ctl_event *ev) {
  k->closed = 1;
  int mine = !ev->by_peer;
  if (ev->reason == BF_CTL_BYE_TIMEOUT && k->established) {
    c->st.closed_dead++;
  } else if (ev->reason == BF_CTL_BYE_NOT_PAIRED && mine) {
    c->st.not_paired++;
  } else if (ev->reason == BF_CTL_BYE_PAIR_FAILED && mine) {
    if (strstr(ev->text, "too many"))
      c->st.rate_limited++;
    else
      c->st.pairings_refused++;
    if (k->in_line && !k->answered) { /* the confirmation window ran out */
      say(c, "pairing with \"%s\" refused: not confirmed in time", k->name);
      k->answered = 1;
    }
  } else if (!k->established) {
    c->st.handshake_failed++;
  }
  k->in_line = 0;
  if (k->streaming) {
    k->streaming = 0;
    bf_sctl_event se;
    memset(&se, 0, sizeof se);
    se.type = BF_SCTL_EV_STOP;
    se.peer = k->peer;
    se.reason = ev->reason;
    se.by_peer = ev->by_peer;
    snprintf(se.text, sizeof se.text, "%s", ev->text);
    push_event(c, &se);
    say(c,
        "control session of \"%s\" at %s ended (%s%s%s): streaming stopped; waiting for the "
        "next client",
        k->name, k->ip, ev->by_peer ? "by the client" : "by us", ev->text[0] ? ": " : "", ev->text);
  } else if (ev->reason == BF_CTL_BYE_PAIR_FAILED && mine && k->answered) {
    /* the refusal was reported when the operator answered */
  } else if (k->pair_only && !ev->by_peer && ev->reason == BF_CTL_BYE_NORMAL) {
    say(c, "pair-only session of \"%s\" at %s ended: %s", k->name, k->ip, ev->text);
  } else if (!k->established || ev->reason != BF_CTL_BYE_REPLACED) {
    if (ev->text[0] && ev->reason != BF_CTL_BYE_NORMAL)
      say(c, "control connection from %s ended: %s", k->ip, ev->text);
  }
}

static void on_established(bf_sctl *c, conn *k, const bf_ctl_event *ev, uint64_t now) {
  k->established = 1;
  c->st.established++;
  /* shown (and revoked) by the name it was paired under; its Hello may
   * claim another */
  if (ev->peer_name[0]) safe_name(k->name, sizeof k->name, ev->peer_name);
  if (ev->hello.name[0] && strcmp(ev->hello.name, ev->peer_name)) {
    char claim[BF_PIN_MAX_NAME + 1];
    safe_name(claim, sizeof claim, ev->hello.name);
    say(c, "client \"%s\" at %s calls itself \"%s\" now", k->name, k->ip, claim);
  }
  if (ev->hello.caps & BF_CTL_CAP_PAIR_ONLY) {
    /* `bildfunk pair`: it ends the session once its user typed this
     * sender's code and never streams on it, so it takes nothing from the
     * client that streams now; no mode check either (it may pair from a
     * smaller screen). It keeps its setup slot until it closes. */
    k->pair_only = 1;
    k->pair_end = now + (c->cfg.pair_only_ns ? c->cfg.pair_only_ns : BF_SCTL_PAIR_ONLY_NS);
    c->st.pair_only++;
    say(c, "client \"%s\" at %s paired (pair only): %s", k->name, k->ip,
        bf_sctl_streaming(c, NULL) ? "the stream goes on" : "it does not stream");
    return;
  }
  /* The sender streams its source's mode with its one encoder and does not
   * rescale: a Welcome the library scaled down for this client cannot be
   * served. Refused here, before it replaces the client that is streaming
   * now (the only place this is checked). */
  const bf_ctl_offer *of = &c->cfg.offer;
  const bf_ctl_welcome *w = &ev->welcome;
  if (w->width != of->width || w->height != of->height || w->fps != of->fps ||
      w->codec != of->codec_pref[0]) {
    say(c, "the client takes at most %ux%u at %u fps; this sender streams %ux%u at %u fps: refused",
        w->width, w->height, w->fps, of->width, of->height, of->fps);
    bf_ctl_session_close(k->io.s, BF_CTL_BYE_NO_MODE, "the sender cannot scale its stream down",
                         now);
    return;
  }
  bf_sctl_event se;
  memset(&se, 0, sizeof se);
  se.type = BF_SCTL_EV_STREAM;
  se.peer = k->peer;
  se.welcome = ev->welcome;
  se.hello = ev->hello;
  if (bf_ctl_session_seal_secret(k->io.s, se.secret, sizeof se.secret) < 0) {
    bf_ctl_session_close(k->io.s, BF_CTL_BYE_ERROR, "the sender could not export the seal key",
                         now);
    return;
  }
  for (size_t i = 0; i < NCONN; i++) {
    conn *o = &c->conns[i];
    if (o == k || o->io.fd < 0 || !o->streaming) continue;
    o->streaming = 0; /* no STOP: STREAM replaces it */
    c->st.replaced++;
    say(c, "client \"%s\" at %s replaced by \"%s\" at %s", o->name, o->ip, k->name, k->ip);
    bf_ctl_session_close(o->io.s, BF_CTL_BYE_REPLACED, "another client took over the stream", now);
  }
  k->streaming = 1;
  push_event(c, &se);
  wipe(se.secret, sizeof se.secret);
  say(c, "client \"%s\" at %s: session established (%s %ux%u at %u fps, S=%u K=%u, sealed)",
      k->name, k->ip, bf_codec_name((bf_codec)ev->welcome.codec), ev->welcome.width,
      ev->welcome.height, ev->welcome.fps, ev->welcome.shard_bytes, ev->welcome.max_k);
}

/* The pairing is done: counted and told to the operator. */
static void paired(bf_sctl *c, const uint8_t fp[BF_FP_BYTES], const char *name) {
  char hex[BF_FP_HEX_BYTES];
  bf_fp_hex(fp, hex);
  hex[16] = 0;
  c->st.pairings_ok++;
  char shown[BF_PIN_MAX_NAME + 1];
  safe_name(shown, sizeof shown, name);
  say(c, "paired with \"%s\" (fp %s...)", shown, hex);
}

/* The session pinned the client in memory. With a pin file, the writer
 * saves it and the session holds PairResult until pin_results() tells it
 * how that went; a full queue is a failed save. */
static void on_paired(bf_sctl *c, conn *k, const bf_ctl_event *ev, uint64_t now) {
  if (!c->pw) {
    paired(c, ev->peer_fp, ev->peer_name);
    return;
  }
  bf_pin_job job;
  memset(&job, 0, sizeof job);
  job.tag = ++c->save_counter;
  memcpy(job.fp, ev->peer_fp, sizeof job.fp);
  snprintf(job.name, sizeof job.name, "%s", ev->peer_name);
  job.paired_unix = ev->paired_unix;
  job.unique_name = ev->unique_name;
  int r = bf_pin_writer_push(c->pw, &job);
  if (r < 0) {
    (void)bf_ctl_session_pin_saved(k->io.s, r, now);
    return;
  }
  k->saving = 1;
  k->save_tag = job.tag;
}

/* Saves the writer finished: the waiting sessions go on (PairResult ok and
 * Welcome) or end (Bye 1 "saving the client's pin failed: ..."). A saved
 * pin counts even when its connection is gone meanwhile: it stays. */
static void pin_results(bf_sctl *c, uint64_t now) {
  bf_pin_job job;
  while (bf_pin_writer_pop(c->pw, &job)) {
    if (!job.result) paired(c, job.fp, job.name);
    for (size_t i = 0; i < NCONN; i++) {
      conn *k = &c->conns[i];
      if (k->io.fd < 0 || !k->saving || k->save_tag != job.tag) continue;
      k->saving = 0;
      (void)bf_ctl_session_pin_saved(k->io.s, job.result, now);
      conn_events(c, k, now);
    }
  }
}

/* Takes every event the session has (bf_ctl_conn_event lets it decode what
 * it held back while its ring was full: the plaintext inside is bounded by
 * what the last conn_read() fed, one recv, so this ends and nothing piles
 * up there). */
static void conn_events(bf_sctl *c, conn *k, uint64_t now) {
  bf_ctl_event ev;
  while (bf_ctl_conn_event(&k->io, &ev, now)) {
    switch (ev.type) {
    case BF_CTL_EV_CONFIRM_CODE:
      k->in_line = 1;
      k->asked = 0;
      k->answered = 0;
      k->line_no = ++c->line_counter;
      snprintf(k->code, sizeof k->code, "%s", ev.code);
      snprintf(k->code_self, sizeof k->code_self, "%s", ev.code_peer);
      safe_name(k->name, sizeof k->name, ev.peer_name);
      break;
    case BF_CTL_EV_PAIRED:
      on_paired(c, k, &ev, now);
      break;
    case BF_CTL_EV_ESTABLISHED:
      on_established(c, k, &ev, now);
      break;
    case BF_CTL_EV_CLOSED:
      on_closed(c, k, &ev);
      break;
    case BF_CTL_EV_MESSAGE: /* its relay messages and DataAddr (the session passes no other) */
      if (k->streaming && ev.msg.type >= BF_CTL_RELAY_OFFER) {
        bf_sctl_event se = {.type = BF_SCTL_EV_RELAY, .peer = k->peer, .msg = ev.msg};
        push_event(c, &se);
      }
      break;
    default: /* other messages (ping, keyframe, loss) travel on the data plane today */
      break;
    }
  }
  wipe(&ev, sizeof ev);
}

/* ---- accept / read ---------------------------------------------------------------- */

#define ACCEPT_INTERVAL_NS (1000000000ull / BF_SCTL_ACCEPT_PER_SEC)
#define ACCEPT_TOLERANCE_NS ((BF_SCTL_ACCEPT_BURST - 1u) * ACCEPT_INTERVAL_NS)

/* The pairing limiter of |peer|'s address. */
static bf_pair_limiter *peer_limiter(bf_sctl *c, const bf_addr *peer, uint64_t now) {
  size_t pick = 0;
  for (size_t i = 0; i < BF_SCTL_PAIR_PEERS; i++) {
    if (c->peer_lim[i].used_ns && bf_addr_same_ip(&c->peer_lim[i].ip, peer)) {
      pick = i;
      goto found;
    }
    if (c->peer_lim[i].used_ns < c->peer_lim[pick].used_ns) pick = i;
  }
  c->peer_lim[pick].ip = *peer;
  bf_pair_limiter_init(
      &c->peer_lim[pick].lim,
      c->cfg.pair_attempts_peer ? c->cfg.pair_attempts_peer : BF_PAIR_LIMIT_PEER_ATTEMPTS,
      c->cfg.pair_window_ns ? c->cfg.pair_window_ns : BF_PAIR_LIMIT_DEFAULT_WINDOW_NS);
found:
  c->peer_lim[pick].used_ns = now ? now : 1;
  return &c->peer_lim[pick].lim;
}

/* A connection refused at accept: told so in the clear (BF_CTL_BUSY_LINE,
 * the client says "busy" instead of a broken set-up), then closed. The
 * write side is shut first and what the client sent is read away, so the
 * close sends no reset that could overtake the line. */
static void refuse_busy(int fd) {
  (void)send(fd, BF_CTL_BUSY_LINE, BF_CTL_BUSY_BYTES, MSG_DONTWAIT | MSG_NOSIGNAL);
  (void)shutdown(fd, SHUT_WR);
  uint8_t sink[2048];
  while (recv(fd, sink, sizeof sink, MSG_DONTWAIT) > 0) {
  }
  close(fd);
}

static void accept_all(bf_sctl *c, uint64_t now) {
  for (;;) {
    /* Every accepted connection may cost a TLS handshake (~1 ms of CPU on
     * the video thread) for a ClientHello anyone can replay without doing
     * any crypto: at most BF_SCTL_ACCEPT_PER_SEC, BF_SCTL_ACCEPT_BURST in a
     * row. The rest wait in the kernel's backlog (the listener is left out
     * of the poll set until the next one is due). */
    if (now + ACCEPT_TOLERANCE_NS < c->accept_tat) {
      c->accept_pause_until = c->accept_tat - ACCEPT_TOLERANCE_NS;
      return;
    }
    bf_addr peer;
    memset(&peer, 0, sizeof peer);
    peer.len = sizeof peer.ss;
    int fd = accept4(c->lfd, (struct sockaddr *)&peer.ss, &peer.len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      /* out of descriptors or memory: the connection stays queued and the
       * listener readable; pause instead of spinning on it */
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
        c->accept_pause_until = now + 100000000ull;
      return;
    }
    c->accept_tat = (c->accept_tat > now ? c->accept_tat : now) + ACCEPT_INTERVAL_NS;
    c->st.connections++;
    size_t setup = 0, same_ip = 0;
    conn *free_slot = NULL;
    for (size_t i = 0; i < NCONN; i++) {
      conn *k = &c->conns[i];
      if (k->io.fd < 0) {
        if (!free_slot) free_slot = k;
      } else if (!k->streaming) {
        setup++;
        same_ip += bf_addr_same_ip(&k->peer, &peer) != 0;
      }
    }
    /* one host cannot take every slot and lock the others out */
    if (setup >= BF_SCTL_MAX_SETUP || same_ip >= BF_SCTL_MAX_SETUP_PER_IP || !free_slot) {
      c->st.refused_full++;
      refuse_busy(fd);
      continue;
    }
    /* `--revoke` from another process takes effect with the next connection
     * (one small file read per accepted connection); a file that no longer
     * parses leaves the pins as they were */
    if (bf_pinstore_reload(c->cfg.pins) < 0) c->st.pin_reload_failed++;
    if (c->pw) bf_pin_writer_reapply(c->pw, c->cfg.pins); /* pins the file lacks yet */
    bf_ctl_session_cfg sc;
    memset(&sc, 0, sizeof sc);
    sc.role = BF_TLS_SERVER;
    sc.id = c->cfg.id;
    sc.pins = c->cfg.pins;
    sc.wall_unix = (int64_t)time(NULL);
    sc.offer = c->cfg.offer;
    sc.limiter = &c->lim;
    sc.limiter_peer = peer_limiter(c, &peer, now);
    sc.pairing_disabled = c->cfg.pairing_disabled;
    sc.confirm_ns = c->cfg.confirm_ns;
    sc.pin_saved_wait = c->pw != NULL;
    sc.wake_count = c->cfg.wake_count;
    memcpy(sc.wake_mac, c->cfg.wake_mac, sizeof sc.wake_mac);
    conn *k = free_slot;
    memset(k, 0, offsetof(conn, io));
    bf_ctl_conn_adopt(&k->io, fd);
    k->peer = peer;
    ip_text(&peer, k->ip, sizeof k->ip);
    snprintf(k->name, sizeof k->name, "?");
    if (bf_ctl_conn_start(&k->io, &sc, now) < 0) {
      c->st.handshake_failed++;
      conn_drop(k);
    }
  }
}

/* Reads and decodes: each recv's bytes are decoded (and their events
 * taken) before the next recv, so a peer that floods messages cannot build
 * a backlog inside the session (which only decodes while its event ring has
 * room; its TLS input buffer has no limit). At most BF_CTL_CONN_READS recvs:
 * a flood cannot starve the video. */
static void conn_read(bf_sctl *c, conn *k, uint64_t now) {
  for (unsigned i = 0; i < BF_CTL_CONN_READS && !k->closed && bf_ctl_conn_read(&k->io, now) > 0;
       i++)
    conn_events(c, k, now);
}

/* ---- the step ---------------------------------------------------------------- */

void bf_sctl_step(bf_sctl *c, uint64_t now) {
  struct pollfd fds[BF_SCTL_MAX_FDS];
  conn *owner[BF_SCTL_MAX_FDS];
  size_t n = 0;
  int in_idx = -1, pw_idx = -1;
  if (c->accept_pause_until && now >= c->accept_pause_until) c->accept_pause_until = 0;
  if (c->input_pause_until && now >= c->input_pause_until) c->input_pause_until = 0;
  fds[n] = (struct pollfd){c->accept_pause_until ? -1 : c->lfd, POLLIN, 0};
  owner[n++] = NULL;
  if (c->input_fd >= 0 && !c->input_pause_until) {
    in_idx = (int)n;
    fds[n] = (struct pollfd){c->input_fd, POLLIN, 0};
    owner[n++] = NULL;
  }
  if (c->pw) {
    pw_idx = (int)n;
    fds[n] = (struct pollfd){bf_pin_writer_fd(c->pw), POLLIN, 0};
    owner[n++] = NULL;
  }
  for (size_t i = 0; i < NCONN; i++) {
    conn *k = &c->conns[i];
    if (k->io.fd < 0) continue;
    fds[n] = (struct pollfd){k->io.fd, bf_ctl_conn_poll_events(&k->io), 0};
    owner[n++] = k;
  }
  if (poll(fds, (nfds_t)n, 0) < 0) n = 0;
  /* A TLS handshake costs ~1 ms of CPU: at most this many per step, so
   * ClientHellos that arrive together delay the video loop by one or two,
   * not by all of them; the others stay readable and go next step. */
  unsigned handshakes = BF_SCTL_HANDSHAKES_PER_STEP;
  for (size_t i = 0; i < n; i++) {
    conn *k = owner[i];
    if (!k || !fds[i].revents) continue;
    if (bf_ctl_session_state(k->io.s) == BF_CTL_ST_HANDSHAKE) {
      if (!handshakes) continue;
      handshakes--;
    }
    if (!k->closed && (fds[i].revents & (POLLIN | POLLHUP | POLLERR))) conn_read(c, k, now);
    conn_events(c, k, now);
  }
  if (in_idx >= 0 && (fds[in_idx].revents & (POLLIN | POLLHUP | POLLERR))) read_input(c, now);
  if (pw_idx >= 0 && (fds[pw_idx].revents & POLLIN)) pin_results(c, now);
  if (n && (fds[0].revents & POLLIN)) accept_all(c, now);
  for (size_t i = 0; i < NCONN; i++) {
    conn *k = &c->conns[i];
    if (k->io.fd < 0) continue;
    if (k->pair_only && !k->closed && now >= k->pair_end)
      bf_ctl_session_close(k->io.s, BF_CTL_BYE_NORMAL, "pairing done; this session does not stream",
                           now);
    bf_ctl_conn_tick(&k->io, now);
    conn_events(c, k, now);
  }
  ask_next(c, now);
  for (size_t i = 0; i < NCONN; i++) {
    conn *k = &c->conns[i];
    if (k->io.fd < 0) continue;
    conn_events(c, k, now); /* an answer just given may have closed or established it */
    bf_ctl_conn_flush(&k->io, now);
    conn_events(c, k, now);                                       /* a broken pipe closes it */
    if (k->closed && bf_ctl_conn_done(&k->io, now)) conn_drop(k); /* flushed, broken or 1 s on */
  }
}

uint64_t bf_sctl_deadline(const bf_sctl *c) {
  uint64_t d = c->accept_pause_until ? c->accept_pause_until : UINT64_MAX;
  if (c->input_pause_until && c->input_pause_until < d) d = c->input_pause_until;
  for (size_t i = 0; i < NCONN; i++) {
    const conn *k = &c->conns[i];
    if (k->io.fd < 0) continue;
    uint64_t x = bf_ctl_conn_deadline(&k->io);
    if (x < d) d = x;
    if (k->pair_only && !k->closed && k->pair_end < d) d = k->pair_end;
  }
  return d;
}

void bf_sctl_end_stream(bf_sctl *c, uint32_t reason, const char *text, uint64_t now) {
  for (size_t i = 0; i < NCONN; i++) {
    conn *k = &c->conns[i];
    if (k->io.fd >= 0 && k->streaming && !k->closed) {
      bf_ctl_session_close(k->io.s, reason, text, now);
      conn_events(c, k, now);
    }
  }
}

int bf_sctl_send(bf_sctl *c, const bf_ctl_msg *m, uint64_t now) {
  for (size_t i = 0; i < NCONN; i++) {
    conn *k = &c->conns[i];
    if (k->io.fd >= 0 && k->streaming && !k->closed) return bf_ctl_session_send(k->io.s, m, now);
  }
  return -ENOTCONN;
}

void bf_sctl_finish(bf_sctl *c, uint32_t reason, const char *text, int flush_ms, uint64_t now) {
  for (size_t i = 0; i < NCONN; i++) {
    conn *k = &c->conns[i];
    if (k->io.fd < 0 || k->closed) continue;
    if (k->streaming) k->streaming = 0; /* no STOP event: the caller knows */
    bf_ctl_session_close(k->io.s, k->established ? reason : BF_CTL_BYE_ERROR,
                         k->established ? text : "the sender is shutting down", now);
  }
  for (int t = 0; t <= flush_ms; t += 10) {
    int left = 0;
    for (size_t i = 0; i < NCONN; i++) {
      conn *k = &c->conns[i];
      if (k->io.fd < 0) continue;
      bf_ctl_conn_flush(&k->io, now);
      left += bf_ctl_conn_pending(&k->io) > 0;
    }
    if (!left) break;
    struct pollfd p[BF_SCTL_MAX_FDS];
    size_t n = bf_sctl_pollfds(c, p, BF_SCTL_MAX_FDS);
    poll(p, (nfds_t)n, 10);
  }
  for (size_t i = 0; i < NCONN; i++)
    if (c->conns[i].io.fd >= 0) {
      shutdown(c->conns[i].io.fd, SHUT_WR);
      conn_drop(&c->conns[i]);
    }
}

#endif /* BF_HAVE_SEAL */
