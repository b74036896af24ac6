/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The control session in the program: see connect.h.
 */
#include "connect.h"

#include "setup/last_sender.h"
#include "setup/reconnect.h"
#include "setup/screens.h"
#include "setup/sender_book.h"

#include <bildfunk/clock.h>

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A failed control setup: the message on stderr, and kept for the window. */
__attribute__((format(printf, 2, 3))) static void setup_error(bf_client *c, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->setup_err, sizeof c->setup_err, fmt, ap);
  va_end(ap);
  fprintf(stderr, "bildfunk: %s\n", c->setup_err);
}

int bf_connect_new_ctl(bf_client *c, int pair, bf_cctl **out, char *err, size_t errcap) {
  const bf_cli *cli = c->cli;
  bf_cctl_config cc;
  memset(&cc, 0, sizeof cc);
  cc.target = c->target;
  cc.config_dir = cli->config_dir;
  cc.name = cli->name;
  cc.max_width = (uint16_t)cli->max_width;
  cc.max_height = (uint16_t)cli->max_height;
  cc.pair = pair;
  /* input: a window to take it from, and not --no-input */
  if (!cli->pair && !cli->headless && !cli->no_input) cc.caps |= BF_CTL_CAP_INPUT;
  cc.now = bf_clock_epoch_ns;
  /* sound: asked for unless --no-audio (not by `bildfunk pair`) */
  if (!cli->pair && !cli->no_audio) cc.caps |= BF_CTL_CAP_AUDIO;
  /* the relay messages, unless --relay never; with --turn (or the config
   * dir's) the shards leave room for the ChannelData header */
  if (!cli->pair && c->rp.mode != BF_RELAY_NEVER) cc.caps |= BF_CTL_CAP_RELAY;
  cc.relay_room = c->rp.configured && c->rp.mode != BF_RELAY_NEVER;
  return bf_cctl_open(&cc, out, err, errcap);
}

int bf_connect_open(bf_client *c) {
  char err[512];
  int r = bf_connect_new_ctl(c, c->cli->pair ? 2 : 1, &c->ctl, err, sizeof err);
  if (r < 0) {
    setup_error(c, "%s", err);
    return r == -EINVAL ? 2 : 1;
  }
  bf_client_verbose(c, "connecting to %s (pin name \"%s\")", bf_cctl_endpoint(c->ctl),
                    bf_cctl_pin_name(c->ctl));
  if (c->display) {
    bf_pairscreen_init(&c->ps, bf_cctl_target(c->ctl));
    bf_screens_redraw(c);
  }
  return 0;
}

/* --- the phase ------------------------------------------------------------------- */

static void connect_stopped(bf_client *c) {
  c->setup_user_quit = 1;
  fprintf(stderr, "bildfunk: interrupted while setting up the session with %s\n",
          bf_cctl_endpoint(c->ctl));
  bf_cctl_close(c->ctl, BF_CTL_BYE_NORMAL, "the user quit", bf_clock_epoch_ns());
  c->setup_rc = 1;
}

static void on_ctl_event(bf_client *c, const bf_ctl_event *ev, uint64_t now) {
  if (ev->type == BF_CTL_EV_SHOW_CODE) {
    fprintf(stderr,
            "bildfunk: pairing with %s: code %s (type it on the sender)\n"
            "bildfunk: then type here the code the sender shows and press Enter\n",
            bf_cctl_target(c->ctl), ev->code);
    if (c->display && bf_display_visible(c->display))
      fprintf(stderr, "bildfunk: (or in the window: it shows the same)\n");
    fflush(stderr);
    if (c->display) {
      bf_pairscreen_ask(&c->ps, ev->code);
      bf_screens_redraw(c);
    }
  } else if (ev->type == BF_CTL_EV_MESSAGE) {
    bf_connect_wake_event(c, ev);
    bf_rpath_on_msg(c, &ev->msg, now); /* a RelayFailed may follow the Welcome at once */
  } else if (ev->type == BF_CTL_EV_PAIRED) {
    c->ctl_paired_now = 1;
    char hex[17];
    bf_cctl_fp_prefix(ev->peer_fp, hex);
    if (c->cli->pair)
      fprintf(stderr, "bildfunk: paired with %s (fp %s...)\n", bf_cctl_target(c->ctl), hex);
    else
      bf_client_say(c, "paired with %s (fp %s...)", bf_cctl_target(c->ctl), hex);
  }
}

/* Established (so paired, and the pin saved): the sender's MACs and the IP
 * it answered on are kept for `bildfunk wake` (wake_book.h). A failed write
 * costs only waking: said, not fatal. */
void bf_connect_wake_event(bf_client *c, const bf_ctl_event *ev) {
  if (ev->type != BF_CTL_EV_MESSAGE || ev->msg.type != BF_CTL_WAKE_INFO) return;
  c->wake.count = ev->msg.u.wake_info.count;
  memcpy(c->wake.mac, ev->msg.u.wake_info.mac, sizeof c->wake.mac);
}

void bf_connect_keep_wake(bf_client *c) {
  if (!c->wake.count) return;
  char addr[BF_ADDR_STRLEN], where[1200];
  snprintf(c->wake.name, sizeof c->wake.name, "%s", bf_cctl_pin_name(c->ctl));
  bf_cctl_data_addr(c->ctl, 1, addr, sizeof addr);
  char *colon = strrchr(addr, ':'); /* "a.b.c.d:1" or "[v6]:1": the IP */
  if (colon) *colon = 0;
  snprintf(c->wake.ip, sizeof c->wake.ip, "%s", addr[0] == '[' ? addr + 1 : addr);
  if (c->wake.ip[0] && c->wake.ip[strlen(c->wake.ip) - 1] == ']')
    c->wake.ip[strlen(c->wake.ip) - 1] = 0;
  int r = bf_wake_book_put(c->cli->config_dir, &c->wake, where, sizeof where);
  if (r < 0) bf_client_verbose(c, "keeping the sender's MACs for wake failed: %s", bf_strerror(r));
  c->wake.count = 0;
}

static bf_turn connect_work(bf_client *c, uint64_t now) {
  bf_cctl_service(c->ctl, now);
  bf_ctl_event ev;
  while (bf_cctl_event(c->ctl, &ev))
    on_ctl_event(c, &ev, now);
  bf_cctl_state st = bf_cctl_state_get(c->ctl);
  if (st == BF_CCTL_CLOSED) {
    int code = bf_cctl_close_message(c->ctl, c->ctl_end, sizeof c->ctl_end);
    setup_error(c, "%s", c->ctl_end);
    c->setup_rc = code ? code : 1; /* a Bye before streaming is never success */
    return BF_TURN_END;
  }
  if (st == BF_CCTL_ESTABLISHED) {
    bf_connect_keep_wake(c);
    c->setup_rc = 0;
    return BF_TURN_END;
  }
  return BF_TURN_IDLE;
}

/* stdin is read while the sender's code is asked for and it is open */
static int asking_stdin(const bf_client *c) {
  return bf_cctl_awaiting_code(c->ctl) && !c->stdin_closed;
}

static void connect_arm(bf_client *c, bf_evloop *l, uint64_t now) {
  (void)now;
  c->slot_ctl = bf_evloop_add(l, bf_cctl_fd(c->ctl), bf_cctl_poll_events(c->ctl));
  c->slot_stdin = asking_stdin(c) ? bf_evloop_add(l, STDIN_FILENO, POLLIN) : -1;
  bf_evloop_deadline(l, bf_cctl_deadline(c->ctl));
}

/* One line on stdin: the sender's code; what comes with it after a newline
 * is not wanted. */
static void read_code(bf_client *c) {
  char buf[64];
  ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
  uint64_t now = bf_clock_epoch_ns();
  if (n <= 0 && !(n < 0 && (errno == EINTR || errno == EAGAIN))) {
    c->stdin_closed = 1;
    /* a window on a display asks too: the answer comes from there (an
     * offscreen one, SDL's dummy drivers, is seen by nobody) */
    if (c->display && bf_display_visible(c->display))
      fprintf(stderr, "bildfunk: no input here: type the code the sender shows in the window\n");
    else
      bf_cctl_confirm_code(c->ctl, NULL, now);
  }
  for (ssize_t i = 0; i < n && bf_cctl_awaiting_code(c->ctl); i++) {
    if (buf[i] == '\n') {
      c->code_line[c->code_len] = 0;
      bf_cctl_confirm_code(c->ctl, c->code_long ? "" : c->code_line, now);
      c->code_len = 0;
      c->code_long = 0;
    } else if (c->code_len + 1 < sizeof c->code_line) {
      c->code_line[c->code_len++] = buf[i];
    } else {
      c->code_long = 1;
    }
  }
  /* answered here: the window waits for the sender with us */
  if (c->display && c->ps.phase == BF_PAIRSCREEN_ASKING && !bf_cctl_awaiting_code(c->ctl) &&
      bf_cctl_state_get(c->ctl) != BF_CCTL_CLOSED) {
    c->ps.phase = BF_PAIRSCREEN_CHECKING;
    bf_screens_redraw(c);
  }
}

static void connect_woken(bf_client *c, const bf_evloop *l, uint64_t now) {
  (void)now;
  if (c->slot_stdin >= 0 && (bf_evloop_revents(l, c->slot_stdin) & (POLLIN | POLLHUP | POLLERR)))
    read_code(c);
  c->slot_ctl = c->slot_stdin = -1;
}

/* the pairing screen is the window's part (a headless setup has none) */
const bf_phase bf_connect_phase = {
    BF_SCREENS_PHASE("control-setup"),
    .ui = bf_screens_pairing_ui,
    /* the control session's part */
    .stopped = connect_stopped,
    .work = connect_work,
    .arm = connect_arm,
    .woken = connect_woken,
};

/* --- established ------------------------------------------------------------------ */

/* Remembers c->target as the last sender. Failures only cost the prefill:
 * said with -v. */
static void remember_sender(bf_client *c) {
  /* a name longer than the window's line could not be prefilled there */
  char where[1120];
  if (c->cli->pair || strlen(c->target) >= BF_PAIRSCREEN_HOST ||
      bf_last_sender_path(c->cli->config_dir, where, sizeof where) < 0)
    return;
  int r = bf_last_sender_write(c->cli->config_dir, c->target, where, sizeof where);
  if (r < 0) bf_client_verbose(c, "cannot write %s: %s", where, strerror(-r));
  /* `bildfunk list`'s "last used" */
  r = bf_sender_used_touch(c->cli->config_dir, bf_cctl_pin_name(c->ctl), (int64_t)time(NULL), where,
                           sizeof where);
  if (r < 0) bf_client_verbose(c, "cannot write %s: %s", where, strerror(-r));
}

int bf_connect_finish(bf_client *c, char *data_addr, size_t cap, uint8_t secret[32],
                      uint32_t *max_k) {
  bf_canvas_free(&c->ps_cv);
  bf_ctl_welcome w;
  bf_cctl_welcome(c->ctl, &w);
  if (c->cli->pair) { /* `bildfunk pair`: done */
    bf_cctl_close(c->ctl, BF_CTL_BYE_NORMAL, "paired", bf_clock_epoch_ns());
    return -1;
  }
  if (bf_cctl_seal_secret(c->ctl, secret, 32) < 0) {
    setup_error(c, "no seal secret from the control session");
    return 1;
  }
  c->ctl_sealed = 1;
  c->welcome_flags = w.flags;
  remember_sender(c);
  *max_k = w.max_k;
  if (!c->cli->no_audio && !(w.flags & BF_CTL_WELCOME_AUDIO))
    bf_client_say(c, "the sender sends no sound");
  c->welcome_fps = w.fps; /* the stream's nominal rate and codec */
  c->welcome_codec = (bf_codec)w.codec;
  if (c->display) bf_display_expect(c->display, w.width, w.height); /* before the first picture */
  bf_cctl_data_addr(c->ctl, w.data_port, c->ctl_data, sizeof c->ctl_data);
  /* --data-via: the same sealed data plane through a relay; the sender sees
   * the relay's address, so it must share the control connection's IP */
  snprintf(data_addr, cap, "%s", c->data_via[0] ? c->data_via : c->ctl_data);
  const char *codec = bf_codec_name((bf_codec)w.codec);
  bf_client_verbose(c, "session with %s: %s %ux%u@%u, S %u, K %u, FEC %u %%, data %s sealed%s%s",
                    bf_cctl_endpoint(c->ctl), codec ? codec : "?", w.width, w.height, w.fps,
                    w.shard_bytes, w.max_k, w.fec_percent, c->ctl_data,
                    c->data_via[0] ? ", via " : "", c->data_via);
  return 0;
}

/* --- while streaming ---------------------------------------------------------------- */

/* A closed control session: say why, and end the stream. A normal Bye drains
 * what is queued (exit 0); anything else stops at once (exit 1). */
static void control_closed(bf_client *c, uint64_t now) {
  int code = bf_cctl_close_message(c->ctl, c->ctl_end, sizeof c->ctl_end);
  if (bf_cctl_end_get(c->ctl) == BF_CCTL_END_LOCAL) return; /* we closed it */
  if (code && bf_reconnect_begin(c, now)) return;           /* --reconnect */
  if (code == 0)
    bf_client_say(c, "%s", c->ctl_end);
  else
    fprintf(stderr, "bildfunk: %s\n", c->ctl_end);
  if (code == 0) { /* the data plane's BYE, or the grace, ends the stream */
    if (!c->ctl_bye_ns) c->ctl_bye_ns = bf_clock_epoch_ns();
    return;
  }
  c->done = 1;
  c->exit_code = code;
  c->end_reason = "control";
}

void bf_connect_service(bf_client *c, uint64_t now) {
  if (c->reconnecting) {
    bf_reconnect_service(c, now);
    return;
  }
  if (!c->ctl_ready && now < bf_cctl_deadline(c->ctl) && now - c->ctl_last_ns < 100 * BF_MS_NS)
    return;
  c->ctl_ready = 0;
  c->ctl_last_ns = now;
  bf_cctl_service(c->ctl, now);
  bf_ctl_event ev;
  while (bf_cctl_event(c->ctl, &ev)) {
    if (ev.type == BF_CTL_EV_CLOSED) control_closed(c, now);
    if (ev.type == BF_CTL_EV_MESSAGE) bf_rpath_on_msg(c, &ev.msg, now);
    /* clock pongs stay on the data plane (the pump's clock sync) */
  }
}

void bf_connect_close(bf_client *c, uint64_t now) {
  if (!c->ctl || bf_cctl_state_get(c->ctl) == BF_CCTL_CLOSED) return;
  bf_cctl_close(c->ctl, c->exit_code ? BF_CTL_BYE_ERROR : BF_CTL_BYE_NORMAL,
                c->end_reason ? c->end_reason : "", now);
  bf_cctl_close_message(c->ctl, c->ctl_end, sizeof c->ctl_end);
}
