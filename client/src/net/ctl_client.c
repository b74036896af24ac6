/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The client's control connection: see ctl_client.h.
 */
#include "ctl_client.h"

#include <bildfunk/transport.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int bf_cctl_pin_name_of(const char *target, char *out, size_t cap) {
  size_t n = strlen(target);
  if (n + 1 > cap || n > BF_PIN_MAX_NAME) return -ENAMETOOLONG;
  for (size_t i = 0; i < n; i++)
    out[i] = (char)tolower((unsigned char)target[i]);
  out[n] = 0;
  return 0;
}

void bf_cctl_fp_prefix(const uint8_t fp[BF_FP_BYTES], char out[17]) {
  static const char hex[] = "0123456789abcdef";
  for (int i = 0; i < 8; i++) {
    out[2 * i] = hex[fp[i] >> 4];
    out[2 * i + 1] = hex[fp[i] & 15];
  }
  out[16] = 0;
}

#ifndef BF_HAVE_SEAL

int bf_cctl_open(const bf_cctl_config *cfg, bf_cctl **out, char *err, size_t errcap) {
  (void)cfg;
  *out = NULL;
  snprintf(err, errcap, "this build has no TLS (OpenSSL 3): only --direct works");
  return -ENOTSUP;
}
void bf_cctl_del(bf_cctl **c) {
  if (c) *c = NULL;
}
int bf_cctl_fd(const bf_cctl *c) {
  (void)c;
  return -1;
}
short bf_cctl_poll_events(const bf_cctl *c) {
  (void)c;
  return 0;
}
uint64_t bf_cctl_deadline(const bf_cctl *c) {
  (void)c;
  return UINT64_MAX;
}
void bf_cctl_service(bf_cctl *c, uint64_t now_ns) {
  (void)c;
  (void)now_ns;
}
int bf_cctl_send(bf_cctl *c, const bf_ctl_msg *m, uint64_t now_ns) {
  (void)c, (void)m, (void)now_ns;
  return -ENOTSUP;
}
int bf_cctl_event(bf_cctl *c, bf_ctl_event *ev) {
  (void)c;
  (void)ev;
  return 0;
}
int bf_cctl_awaiting_code(const bf_cctl *c) {
  (void)c;
  return 0;
}
int bf_cctl_confirm_code(bf_cctl *c, const char *line, uint64_t now_ns) {
  (void)c;
  (void)line;
  (void)now_ns;
  return -EINVAL;
}
int bf_cctl_refuse_code(bf_cctl *c, const char *why, uint64_t now_ns) {
  (void)c;
  (void)why;
  (void)now_ns;
  return -EINVAL;
}
bf_cctl_state bf_cctl_state_get(const bf_cctl *c) {
  (void)c;
  return BF_CCTL_CLOSED;
}
bf_cctl_end bf_cctl_end_get(const bf_cctl *c) {
  (void)c;
  return BF_CCTL_END_NONE;
}
uint32_t bf_cctl_reason(const bf_cctl *c, int *by_peer) {
  (void)c;
  if (by_peer) *by_peer = 0;
  return 0;
}
int bf_cctl_welcome(const bf_cctl *c, bf_ctl_welcome *w) {
  (void)c;
  (void)w;
  return -EAGAIN;
}
int bf_cctl_data_addr(const bf_cctl *c, uint16_t data_port, char *out, size_t cap) {
  (void)c;
  (void)data_port;
  (void)out;
  (void)cap;
  return -EAGAIN;
}
int bf_cctl_seal_secret(const bf_cctl *c, uint8_t *out, size_t len) {
  (void)c;
  (void)out;
  (void)len;
  return -EAGAIN;
}
int bf_cctl_peer_fp(const bf_cctl *c, uint8_t fp[BF_FP_BYTES]) {
  (void)c;
  (void)fp;
  return -EAGAIN;
}
const char *bf_cctl_target(const bf_cctl *c) {
  (void)c;
  return "";
}
const char *bf_cctl_pin_name(const bf_cctl *c) {
  (void)c;
  return "";
}
const char *bf_cctl_endpoint(const bf_cctl *c) {
  (void)c;
  return "";
}
void bf_cctl_close(bf_cctl *c, uint32_t reason, const char *text, uint64_t now_ns) {
  (void)c;
  (void)reason;
  (void)text;
  (void)now_ns;
}
int bf_cctl_close_message(const bf_cctl *c, char *out, size_t cap) {
  (void)c;
  snprintf(out, cap, "no TLS in this build");
  return 1;
}

#else /* BF_HAVE_SEAL */

#include <bildfunk/ctl_conn.h>

#include <netinet/in.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#define CCTL_EVENTS 16u
#define CCTL_NAME_MAX (BF_PIN_MAX_NAME + 1)

struct bf_cctl {
  bf_cctl_config cfg;
  char target[256];
  char pin_name[CCTL_NAME_MAX];
  char endpoint[BF_ADDR_STRLEN + 256];
  bf_addr addr;
  bf_cctl_state st;
  /* owned unless given in cfg */
  bf_identity *own_id;
  bf_pinstore *own_pins;
  const bf_identity *id;
  bf_pinstore *pins;     /* the file (or the test's) */
  bf_pinstore *mem_pins; /* the session's store: the host's pin (none in pair mode); the
                            file gets a new pin only after the user's check */
  /* pairing: the user types the sender's code here (docs/security.md) */
  int code_shown;                          /* SHOW_CODE seen */
  int user_ok;                             /* the typed code was the sender's */
  int paired_pending;                      /* PAIRED seen, pin not saved yet */
  int est_pending;                         /* ESTABLISHED held back for the user */
  uint64_t user_deadline;                  /* the user's answer is due */
  char want_code[BF_PAIR_CODE_DIGITS + 1]; /* the sender's code */
  uint8_t paired_fp[BF_FP_BYTES];
  char user_why[96];
  /* events passed on */
  bf_ctl_event ev[CCTL_EVENTS];
  size_t ev_head, ev_n;
  /* outcome */
  bf_ctl_welcome welcome;
  bf_cctl_end end;
  int connect_err; /* errno, or ETIMEDOUT */
  uint32_t reason;
  int by_peer;
  int was_established;
  int peer_busy; /* the sender refused the connection at accept: too many being set up */
  int peer_mute; /* the connection ended before the sender sent a byte */
  char text[BF_CTL_MAX_TEXT + 1];
  uint8_t pinned_fp[BF_FP_BYTES], got_fp[BF_FP_BYTES];
  /* the socket, the session and what TCP has not taken yet; the session
   * (c->conn.s) exists from the connect's end until the socket is closed */
  bf_ctl_conn conn;
};

static void push_ev(bf_cctl *c, const bf_ctl_event *ev) {
  if (c->ev_n == CCTL_EVENTS) { /* the caller is not reading: drop the oldest */
    c->ev_head = (c->ev_head + 1) % CCTL_EVENTS;
    c->ev_n--;
  }
  c->ev[(c->ev_head + c->ev_n++) % CCTL_EVENTS] = *ev;
}

static void fail_connect(bf_cctl *c, int e) {
  c->st = BF_CCTL_CLOSED;
  c->end = BF_CCTL_END_CONNECT;
  c->connect_err = e;
  c->reason = BF_CTL_BYE_ERROR;
  bf_ctl_event ev;
  memset(&ev, 0, sizeof ev);
  ev.type = BF_CTL_EV_CLOSED;
  ev.reason = BF_CTL_BYE_ERROR;
  snprintf(ev.text, sizeof ev.text, "cannot connect to %s: %s", c->endpoint,
           e == ETIMEDOUT ? "no answer" : strerror(e));
  snprintf(c->text, sizeof c->text, "%s", ev.text);
  push_ev(c, &ev);
  bf_ctl_conn_close(&c->conn);
}

int bf_cctl_open(const bf_cctl_config *cfg, bf_cctl **out, char *err, size_t errcap) {
  *out = NULL;
  if (!cfg->target || !*cfg->target || !cfg->now || (!cfg->id) != (!cfg->pins)) {
    snprintf(err, errcap, "no sender given");
    return -EINVAL;
  }
  bf_cctl *c = calloc(1, sizeof *c);
  if (!c) {
    snprintf(err, errcap, "out of memory");
    return -ENOMEM;
  }
  c->cfg = *cfg;
  bf_ctl_conn_init(&c->conn);
  int r;
  snprintf(c->target, sizeof c->target, "%s", cfg->target);
  if (strlen(cfg->target) >= sizeof c->target ||
      bf_cctl_pin_name_of(cfg->target, c->pin_name, sizeof c->pin_name) < 0) {
    snprintf(err, errcap, "%.64s...: the host name is too long", cfg->target);
    r = -EINVAL;
    goto fail;
  }
  r = bf_addr_parse(cfg->target, BF_CTL_DEFAULT_PORT, &c->addr);
  if (r < 0) {
    snprintf(err, errcap, "%s: %s", cfg->target,
             r == -ENOENT ? "host not found" : "not HOST[:PORT] with a port 1..65535");
    goto fail;
  }
  /* "HOST:PORT" for messages: the name as typed, the port filled in */
  {
    char a[BF_ADDR_STRLEN];
    bf_addr_format(&c->addr, a, sizeof a);
    const char *port = strrchr(a, ':');
    const char *t = cfg->target;
    size_t tl = strlen(t);
    int has_port = 0;
    if (t[0] == '[')
      has_port = strstr(t, "]:") != NULL;
    else {
      const char *colon = strchr(t, ':');
      has_port = colon && colon == strrchr(t, ':');
      if (colon && !has_port) { /* a bare IPv6 address */
        snprintf(c->endpoint, sizeof c->endpoint, "[%s]%s", t, port ? port : "");
        tl = 0;
      }
    }
    if (tl) snprintf(c->endpoint, sizeof c->endpoint, "%s%s", t, has_port || !port ? "" : port);
  }

  if (cfg->id) {
    c->id = cfg->id;
    c->pins = cfg->pins;
  } else {
    char dir[4096];
    if (cfg->config_dir)
      snprintf(dir, sizeof dir, "%s", cfg->config_dir);
    else if ((r = bf_config_dir(dir, sizeof dir)) < 0) {
      snprintf(err, errcap, "no config directory (set HOME or use --config-dir): %s",
               bf_strerror(r));
      goto fail;
    }
    r = bf_identity_load(dir, "client", NULL, &c->own_id);
    if (r < 0) {
      snprintf(err, errcap, "cannot load the client identity from %s: %s%s", dir,
               r == -EISDIR ? "client-key.pem or client-cert.pem there is not a file (a directory?)"
                            : bf_strerror(r),
               r == -EPERM ? " (others can read the key: chmod 600 it)" : "");
      goto fail;
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/senders", dir);
    size_t bad = 0;
    r = bf_pinstore_open_at(path, &c->own_pins, &bad);
    if (r < 0) {
      if (bad)
        snprintf(err, errcap,
                 "cannot read the pin store %s: line %zu is not a pin (FINGERPRINT DATE NAME)",
                 path, bad);
      else
        snprintf(err, errcap, "cannot read the pin store %s: %s", path,
                 r == -EISDIR ? "it is not a file (a directory?)" : bf_strerror(r));
      goto fail;
    }
    c->id = c->own_id;
    c->pins = c->own_pins;
  }
  /* The session pins into a scratch store: the file gets a new pin only
   * once this side's user has typed the sender's code too. Seeded with the
   * host's pin (none with `pair`), so a pinned sender is checked as before. */
  if ((r = bf_pinstore_open(NULL, &c->mem_pins)) < 0) {
    snprintf(err, errcap, "out of memory");
    goto fail;
  }
  if (cfg->pair != 2) {
    const bf_pin *p = bf_pinstore_find_name(c->pins, c->pin_name);
    if (p && (r = bf_pinstore_put(c->mem_pins, p->fp, p->name, p->paired_unix, 1)) < 0) {
      snprintf(err, errcap, "out of memory");
      goto fail;
    }
  }

  uint64_t now = cfg->now();
  r = bf_ctl_conn_connect(&c->conn, &c->addr,
                          now + (cfg->connect_ns ? cfg->connect_ns : BF_CCTL_CONNECT_NS));
  if (r < 0) {
    snprintf(err, errcap, "cannot open a TCP socket: %s", strerror(-r));
    goto fail;
  }
  c->st = BF_CCTL_CONNECTING;
  if (c->conn.connect_err) /* connect() failed at once: reported through the CLOSED state, */
    fail_connect(c, c->conn.connect_err); /* like a late refusal */
  *out = c;
  return 0;
fail:
  bf_cctl_del(&c);
  return r;
}

static void on_closed(bf_cctl *c, const bf_ctl_event *ev) {
  c->st = BF_CCTL_CLOSED;
  if (c->end == BF_CCTL_END_NONE) c->end = BF_CCTL_END_SESSION;
  c->reason = ev->reason;
  c->by_peer = ev->by_peer;
  snprintf(c->text, sizeof c->text, "%s", ev->text);
  /* A changed certificate: the pin of this name differs from what TLS saw. */
  if (c->end == BF_CCTL_END_SESSION && !ev->by_peer && c->cfg.pair != 2) {
    const bf_pin *p = bf_pinstore_find_name(c->pins, c->pin_name);
    if (p && bf_ctl_session_peer_fp(c->conn.s, c->got_fp) == 0 &&
        memcmp(p->fp, c->got_fp, BF_FP_BYTES) != 0) {
      memcpy(c->pinned_fp, p->fp, BF_FP_BYTES);
      c->end = BF_CCTL_END_CERT_CHANGED;
    }
  }
}

static int64_t wall_unix(void) {
  return (int64_t)time(NULL);
}

/* The pairing is confirmed on both sides: the sender's pin (the session's
 * PAIRED, dated now) goes to the file. This is setup: ESTABLISHED is passed
 * on only after it, so the write (fsync) never stalls a stream. */
static void save_pin(bf_cctl *c, uint64_t now) {
  c->paired_pending = 0;
  int r = bf_pinstore_add(c->pins, c->paired_fp, c->pin_name, wall_unix(), 1);
  if (r < 0) {
    char t[160];
    snprintf(t, sizeof t, "paired, but saving the sender's pin failed: %s", bf_strerror(r));
    c->end = BF_CCTL_END_LOCAL;
    bf_ctl_session_close(c->conn.s, BF_CTL_BYE_ERROR, t, now);
    return;
  }
  bf_ctl_event ev;
  memset(&ev, 0, sizeof ev);
  ev.type = BF_CTL_EV_PAIRED;
  memcpy(ev.peer_fp, c->paired_fp, sizeof ev.peer_fp);
  snprintf(ev.peer_name, sizeof ev.peer_name, "%s", c->pin_name);
  push_ev(c, &ev);
}

static void take_events(bf_cctl *c, uint64_t now) {
  bf_ctl_event ev;
  while (bf_ctl_conn_event(&c->conn, &ev, now)) {
    switch (ev.type) {
    case BF_CTL_EV_SHOW_CODE:
      c->code_shown = 1;
      c->user_deadline = now + BF_CCTL_CONFIRM_NS;
      memcpy(c->want_code, ev.code_peer, sizeof c->want_code);
      memset(ev.code_peer, 0, sizeof ev.code_peer); /* the user must read it off the sender */
      break;
    case BF_CTL_EV_PAIRED: /* passed on by save_pin once both users agreed */
      c->paired_pending = 1;
      memcpy(c->paired_fp, ev.peer_fp, sizeof c->paired_fp);
      if (c->user_ok) save_pin(c, now);
      continue;
    case BF_CTL_EV_ESTABLISHED:
      c->welcome = ev.welcome;
      if (!(ev.welcome.flags & BF_CTL_WELCOME_SEALED)) {
        c->end = BF_CCTL_END_CLEAR;
        bf_ctl_session_close(c->conn.s, BF_CTL_BYE_NO_MODE,
                             "this client does not stream in the clear over a control session",
                             now);
        continue; /* the CLOSED event follows; ESTABLISHED is not passed on */
      }
      if (c->code_shown && !c->user_ok) { /* not before this side's user agreed */
        c->est_pending = 1;
        continue;
      }
      c->was_established = 1;
      c->st = BF_CCTL_ESTABLISHED;
      break;
    case BF_CTL_EV_CLOSED:
      c->peer_busy = c->conn.busy;
      c->peer_mute = !c->conn.fed;
      on_closed(c, &ev);
      break;
    default:
      break;
    }
    push_ev(c, &ev);
  }
}

int bf_cctl_awaiting_code(const bf_cctl *c) {
  return c && c->code_shown && !c->user_ok && c->st != BF_CCTL_CLOSED;
}

/* Ends the pairing on this side (wrong code, no answer): Bye 4. */
static void refuse_here(bf_cctl *c, const char *text, uint64_t now) {
  c->end = BF_CCTL_END_USER_CODE;
  snprintf(c->user_why, sizeof c->user_why, "%s", text);
  bf_ctl_session_close(c->conn.s, BF_CTL_BYE_PAIR_FAILED, text, now);
  take_events(c, now);
}

int bf_cctl_refuse_code(bf_cctl *c, const char *why, uint64_t now) {
  if (!bf_cctl_awaiting_code(c)) return -EINVAL;
  refuse_here(c, why, now);
  return 0;
}

int bf_cctl_confirm_code(bf_cctl *c, const char *line, uint64_t now) {
  if (!bf_cctl_awaiting_code(c)) return -EINVAL;
  if (!line) {
    refuse_here(c, "no code was typed on the client (its input is closed)", now);
    return 0;
  }
  size_t a = 0, n = strlen(line);
  while (a < n && (line[a] == ' ' || line[a] == '\t'))
    a++;
  while (n > a &&
         (line[n - 1] == ' ' || line[n - 1] == '\t' || line[n - 1] == '\r' || line[n - 1] == '\n'))
    n--;
  /* Six digits against six digits; the typed line is local input, so there
   * is no remote observer of the comparison's timing. */
  if (n - a != BF_PAIR_CODE_DIGITS || memcmp(line + a, c->want_code, BF_PAIR_CODE_DIGITS) != 0) {
    refuse_here(c, "the code typed on the client is not the one this sender shows", now);
    return 0;
  }
  c->user_ok = 1;
  if (c->paired_pending) save_pin(c, now);
  if (c->est_pending && c->st != BF_CCTL_CLOSED) {
    c->est_pending = 0;
    c->was_established = 1;
    c->st = BF_CCTL_ESTABLISHED;
    bf_ctl_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = BF_CTL_EV_ESTABLISHED;
    ev.welcome = c->welcome;
    push_ev(c, &ev);
  }
  return 1;
}

static void start_session(bf_cctl *c, uint64_t now) {
  bf_ctl_session_cfg sc;
  memset(&sc, 0, sizeof sc);
  sc.role = BF_TLS_CLIENT;
  sc.id = c->id;
  sc.pins = c->mem_pins ? c->mem_pins : c->pins;
  sc.handshake_ns = c->cfg.handshake_ns;
  sc.wall_unix = wall_unix();
  sc.peer_name = c->pin_name;
  sc.pair = c->cfg.pair ? c->cfg.pair : 1;
  bf_ctl_hello *h = &sc.hello;
  h->proto_version = BF_CTL_PROTOCOL_VERSION;
  h->mtu = BF_CCTL_MTU;
  h->codecs = BF_CTL_CODEC_BIT(BF_CTL_CODEC_H264) | BF_CTL_CODEC_BIT(BF_CTL_CODEC_HEVC) |
              BF_CTL_CODEC_BIT(BF_CTL_CODEC_AV1);
  h->max_width = c->cfg.max_width ? c->cfg.max_width : BF_CCTL_MAX_WIDTH;
  h->max_height = c->cfg.max_height ? c->cfg.max_height : BF_CCTL_MAX_HEIGHT;
  h->max_fps = BF_CCTL_MAX_FPS;
  h->shard_bytes = (uint16_t)(BF_CCTL_SHARD_BYTES - (c->cfg.relay_room ? 4u : 0u));
  h->caps = BF_CTL_CAP_SEALED;
  /* `bildfunk pair` ends the session once paired: the sender must not hand
   * it the stream (and take it from the client that is watching) */
  if (c->cfg.pair == 2) h->caps |= BF_CTL_CAP_PAIR_ONLY;
  h->caps |= c->cfg.caps & (BF_CTL_CAP_INPUT | BF_CTL_CAP_AUDIO | BF_CTL_CAP_RELAY);
  if (c->cfg.name && *c->cfg.name)
    snprintf(h->name, sizeof h->name, "%s", c->cfg.name);
  else if (gethostname(h->name, sizeof h->name - 1) != 0)
    h->name[0] = 0;
  h->name[sizeof h->name - 1] = 0;
  /* the wire forbids control characters in names */
  for (char *p = h->name; *p; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f) *p = '?';
  int r = bf_ctl_conn_start(&c->conn, &sc, now);
  if (r < 0) {
    bf_ctl_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = BF_CTL_EV_CLOSED;
    ev.reason = BF_CTL_BYE_ERROR;
    snprintf(ev.text, sizeof ev.text, "cannot start the TLS session: %s", bf_strerror(r));
    c->end = BF_CCTL_END_LOCAL;
    on_closed(c, &ev);
    push_ev(c, &ev);
    bf_ctl_conn_close(&c->conn);
    return;
  }
  c->st = BF_CCTL_SETUP;
}

void bf_cctl_service(bf_cctl *c, uint64_t now) {
  if (!c || c->conn.fd < 0) return;
  if (c->st == BF_CCTL_CONNECTING) {
    int r = bf_ctl_conn_connected(&c->conn, now);
    if (r < 0) fail_connect(c, -r);
    if (r <= 0) return;
    start_session(c, now);
    if (!c->conn.s) return;
  }
  /* read what there is, taking each read's events before the next */
  for (unsigned i = 0; i < BF_CTL_CONN_READS && bf_ctl_conn_read(&c->conn, now) > 0; i++)
    take_events(c, now);
  bf_ctl_conn_tick(&c->conn, now);
  take_events(c, now);
  if (bf_cctl_awaiting_code(c) && now >= c->user_deadline)
    refuse_here(c, "the sender's code was not typed on the client in time", now);
  bf_ctl_conn_flush(&c->conn, now);
  take_events(c, now); /* a failed write ends the session */
  if (c->st == BF_CCTL_CLOSED && bf_ctl_conn_done(&c->conn, now)) bf_ctl_conn_close(&c->conn);
}

int bf_cctl_fd(const bf_cctl *c) {
  return c ? c->conn.fd : -1;
}

short bf_cctl_poll_events(const bf_cctl *c) {
  return c ? bf_ctl_conn_poll_events(&c->conn) : 0;
}

uint64_t bf_cctl_deadline(const bf_cctl *c) {
  if (!c || c->conn.fd < 0) return UINT64_MAX;
  uint64_t d = bf_ctl_conn_deadline(&c->conn);
  if (bf_cctl_awaiting_code(c) && c->user_deadline < d) d = c->user_deadline;
  return d;
}

int bf_cctl_event(bf_cctl *c, bf_ctl_event *ev) {
  if (!c || !c->ev_n) return 0;
  *ev = c->ev[c->ev_head];
  c->ev_head = (c->ev_head + 1) % CCTL_EVENTS;
  c->ev_n--;
  return 1;
}

bf_cctl_state bf_cctl_state_get(const bf_cctl *c) {
  return c ? c->st : BF_CCTL_CLOSED;
}

bf_cctl_end bf_cctl_end_get(const bf_cctl *c) {
  return c ? c->end : BF_CCTL_END_NONE;
}

uint32_t bf_cctl_reason(const bf_cctl *c, int *by_peer) {
  if (by_peer) *by_peer = c->by_peer;
  return c->reason;
}

int bf_cctl_welcome(const bf_cctl *c, bf_ctl_welcome *w) {
  if (!c->was_established) return -EAGAIN;
  *w = c->welcome;
  return 0;
}

int bf_cctl_data_addr(const bf_cctl *c, uint16_t data_port, char *out, size_t cap) {
  bf_addr a = c->addr;
  if (a.ss.ss_family == AF_INET6)
    ((struct sockaddr_in6 *)&a.ss)->sin6_port = htons(data_port);
  else
    ((struct sockaddr_in *)&a.ss)->sin_port = htons(data_port);
  bf_addr_format(&a, out, cap);
  return 0;
}

int bf_cctl_send(bf_cctl *c, const bf_ctl_msg *m, uint64_t now) {
  if (!c || !c->conn.s || c->st != BF_CCTL_ESTABLISHED) return -EAGAIN;
  int r = bf_ctl_session_send(c->conn.s, m, now);
  if (r == 0) bf_ctl_conn_flush(&c->conn, now);
  return r;
}

int bf_cctl_seal_secret(const bf_cctl *c, uint8_t *out, size_t len) {
  if (!c->conn.s || !c->was_established) return -EAGAIN;
  return bf_ctl_session_seal_secret(c->conn.s, out, len);
}

int bf_cctl_peer_fp(const bf_cctl *c, uint8_t fp[BF_FP_BYTES]) {
  return c->conn.s ? bf_ctl_session_peer_fp(c->conn.s, fp) : -EAGAIN;
}

const char *bf_cctl_target(const bf_cctl *c) {
  return c->target;
}
const char *bf_cctl_pin_name(const bf_cctl *c) {
  return c->pin_name;
}
const char *bf_cctl_endpoint(const bf_cctl *c) {
  return c->endpoint;
}

void bf_cctl_close(bf_cctl *c, uint32_t reason, const char *text, uint64_t now) {
  if (!c || c->st == BF_CCTL_CLOSED) return;
  if (!c->conn.s) { /* still connecting */
    c->st = BF_CCTL_CLOSED;
    c->end = BF_CCTL_END_LOCAL;
    c->reason = reason;
    bf_ctl_conn_close(&c->conn);
    return;
  }
  c->end = BF_CCTL_END_LOCAL;
  bf_ctl_session_close(c->conn.s, reason, text, now);
  take_events(c, now);
  bf_ctl_conn_flush(&c->conn, now);
}

void bf_cctl_del(bf_cctl **pc) {
  bf_cctl *c = pc ? *pc : NULL;
  if (!c) return;
  if (c->conn.fd >= 0 && c->conn.s) {
    /* the Bye and close_notify: a few short tries, never a long block */
    uint64_t now = c->cfg.now();
    for (int i = 0; i < 20 && bf_ctl_conn_pending(&c->conn); i++) {
      if (bf_ctl_conn_flush(&c->conn, now) < 0) break;
      if (bf_ctl_conn_pending(&c->conn)) {
        struct pollfd p = {c->conn.fd, POLLOUT, 0};
        (void)poll(&p, 1, 10);
      }
    }
  }
  bf_ctl_conn_close(&c->conn);
  bf_pinstore_del(&c->mem_pins);
  bf_pinstore_del(&c->own_pins);
  bf_identity_del(&c->own_id);
  free(c);
  *pc = NULL;
}

/* "pairing refused: ..." from the sender's Bye text. */
static void pair_refusal(const char *text, char *out, size_t cap) {
  if (strstr(text, "in time"))
    snprintf(out, cap, "pairing refused: the code was not confirmed on the sender in time");
  else if (strstr(text, "too many") || strstr(text, "does not accept")) {
    const char *t = strstr(text, ": ");
    snprintf(out, cap, "pairing refused: %s", t ? t + 2 : text);
  } else
    snprintf(out, cap, "pairing refused: wrong code");
}

int bf_cctl_close_message(const bf_cctl *c, char *out, size_t cap) {
  char was[BF_FP_HEX_BYTES], got[BF_FP_HEX_BYTES];
  const char *host = c->target;
  switch (c->end) {
  case BF_CCTL_END_NONE:
    snprintf(out, cap, "the control session is still running");
    return 1;
  case BF_CCTL_END_CONNECT:
    if (c->connect_err == ETIMEDOUT)
      snprintf(out, cap, "cannot connect to %s: no answer within %llu s", c->endpoint,
               (unsigned long long)((c->cfg.connect_ns ? c->cfg.connect_ns : BF_CCTL_CONNECT_NS) /
                                    1000000000ull));
    else
      snprintf(out, cap, "cannot connect to %s: %s%s", c->endpoint, strerror(c->connect_err),
               c->connect_err == ECONNREFUSED ? " (is bildfunk-send running there?)" : "");
    return 1;
  case BF_CCTL_END_CERT_CHANGED:
    bf_fp_hex(c->pinned_fp, was);
    bf_fp_hex(c->got_fp, got);
    snprintf(out, cap,
             "the sender's certificate changed (expected fp %.16s..., got %.16s...); if this is "
             "expected, run bildfunk pair %s to pair again",
             was, got, host);
    return 1;
  case BF_CCTL_END_CLEAR:
    snprintf(out, cap,
             "the sender offered an unsealed data plane; refusing to stream in the clear over a "
             "control session");
    return 1;
  case BF_CCTL_END_USER_CODE:
    snprintf(out, cap, "pairing refused here: %s (is %s the sender you meant?)", c->user_why, host);
    return 1;
  case BF_CCTL_END_LOCAL:
    snprintf(out, cap, "%s", c->text[0] ? c->text : "closed");
    return c->reason == BF_CTL_BYE_NORMAL ? 0 : 1;
  case BF_CCTL_END_SESSION:
    break;
  }
  if (c->reason == BF_CTL_BYE_PAIR_FAILED) {
    pair_refusal(c->text, out, cap);
    return 1;
  }
  if (c->by_peer) {
    switch (c->reason) {
    case BF_CTL_BYE_NORMAL:
      snprintf(out, cap, "the sender ended the stream");
      return 0;
    case BF_CTL_BYE_REPLACED:
      snprintf(out, cap, "the sender ended the stream (another client took over)");
      return 0;
    case BF_CTL_BYE_NOT_PAIRED:
      snprintf(out, cap, "the sender closed the session: not paired (run: bildfunk pair %s)", host);
      return 1;
    case BF_CTL_BYE_TIMEOUT:
      snprintf(out, cap, "the sender closed the session: it heard nothing from this client");
      return 1;
    default:
      snprintf(out, cap, "the sender closed the session: %s",
               c->text[0] ? c->text : "no reason given");
      return 1;
    }
  }
  if (c->reason == BF_CTL_BYE_TIMEOUT) {
    if (c->was_established)
      snprintf(out, cap, "sender went silent");
    else if (strstr(c->text, "went silent"))
      snprintf(out, cap, "%s went silent during the session set-up", c->endpoint);
    else
      snprintf(out, cap, "%s did not complete the session set-up in time (TLS, Hello/Welcome)",
               c->endpoint);
    return 1;
  }
  if (!c->was_established && c->peer_busy) {
    snprintf(out, cap,
             "%s is busy: too many connections are being set up there; try again in a few seconds",
             c->endpoint);
    return 1;
  }
  if (!c->was_established && strstr(c->text, "connection to the peer was lost")) {
    snprintf(out, cap, "%s closed the connection during the session set-up%s", c->endpoint,
             c->peer_mute ? " before it said a word (a busy sender, or not a bildfunk sender?)"
                          : "");
    return 1;
  }
  if (c->was_established && strstr(c->text, "connection to the peer was lost")) {
    snprintf(out, cap, "the connection to the sender was lost");
    return 1;
  }
  snprintf(out, cap, "%s", c->text[0] ? c->text : "the control session failed");
  return 1;
}

#endif /* BF_HAVE_SEAL */
