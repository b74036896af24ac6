/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The setup's screens in the window: see screens.h.
 */
#include "screens.h"

#include "setup/lan_browse.h"
#include "setup/last_sender.h"

#include <stdio.h>
#include <string.h>

void bf_screens_redraw(bf_client *c) {
  int w, h;
  bf_display_output_size(c->display, &w, &h);
  if (bf_pairscreen_draw(&c->ps, &c->ps_cv, w, h) == 0)
    bf_display_present_canvas(c->display, &c->ps_cv);
}

/* What the setup screens (sender line, pairing code) do alike with a window
 * action: typing and Backspace edit the line, a redraw or resize repaints.
 * Returns 1 when the screen must be redrawn, 0 when nothing changed, -1 for
 * the actions each screen decides itself (Enter, Esc, closing the window). */
static int screen_edit(bf_client *c, bf_ui_action a) {
  switch (a) {
  case BF_UI_TEXT:
    return bf_pairscreen_type(&c->ps, bf_ui_events_text(&c->events)) > 0;
  case BF_UI_BACKSPACE:
    bf_pairscreen_backspace(&c->ps);
    return 1;
  case BF_UI_REDRAW:
  case BF_UI_FULLSCREEN:
    return 1;
  case BF_UI_OVERLAY:
  case BF_UI_MUTE:
  case BF_UI_MOUSE_MODE:
  case BF_UI_RELEASE:
  case BF_UI_NONE:
    return 0;
  case BF_UI_ENTER:
  case BF_UI_CANCEL:
  case BF_UI_QUIT:
  case BF_UI_TAB:
    break;
  }
  return -1;
}

/* --- asking for the sender ----------------------------------------------------- */

/* The LAN's senders are looked for while the window asks (lan_browse.h);
 * without avahi-daemon the prompt is as before (said with -v). */
static void lan_start(bf_client *c) {
  char err[256];
  c->lan_said = 0;
  if (!c->lan && bf_lan_watch_start(&c->lan, err, sizeof err) < 0) bf_client_verbose(c, "%s", err);
}

static void lan_stop(bf_client *c) {
  bf_lan_watch_stop(&c->lan);
}

void bf_screens_ask_begin(bf_client *c) {
  char last[BF_PAIRSCREEN_HOST];
  bf_last_sender_read(c->cli->config_dir, last, sizeof last);
  bf_pairscreen_ask_sender(&c->ps, last);
  lan_start(c);
  bf_screens_redraw(c);
}

/* What the LAN has now, offered under the prompt: "NAME  ADDRESS". */
static bf_turn ask_work(bf_client *c, uint64_t now) {
  (void)now;
  if (!c->lan) return BF_TURN_IDLE;
  bf_lan_sender found[BF_PAIRSCREEN_LAN];
  char label[BF_PAIRSCREEN_LAN][BF_PAIRSCREEN_COLS], host[BF_PAIRSCREEN_LAN][BF_PAIRSCREEN_HOST];
  unsigned n = (unsigned)bf_lan_watch_get(c->lan, found, BF_PAIRSCREEN_LAN), k = 0;
  for (unsigned i = 0; i < n; i++) {
    const bf_lan_sender *s = &found[i];
    if (!s->txt_ok) continue; /* "unusable record": bildfunk list says why */
    snprintf(host[k], sizeof host[k], s->ipv6 ? "[%.63s]:%u" : "%.63s:%u", s->ip,
             (unsigned)s->port);
    snprintf(label[k], sizeof label[k], "%.63s  %.62s", s->txt.name[0] ? s->txt.name : s->service,
             host[k]);
    k++;
  }
  if (bf_pairscreen_set_lan(&c->ps, label, host, k)) bf_screens_redraw(c);
  if (k > c->lan_said) {
    fprintf(stderr, "bildfunk: the window offers %u sender%s on the LAN (Tab picks)\n", k,
            k == 1 ? "" : "s");
    c->lan_said = k;
  }
  return BF_TURN_IDLE;
}

void bf_screens_ask_again(bf_client *c) {
  char host[BF_PAIRSCREEN_HOST];
  snprintf(host, sizeof host, "%.*s", (int)sizeof host - 1, c->target);
  bf_pairscreen_ask_again(&c->ps, host, c->setup_err);
  lan_start(c);
  bf_screens_redraw(c);
  fprintf(stderr, "bildfunk: (the window asks for the sender again)\n");
}

static void ask_stopped(bf_client *c) {
  lan_stop(c);
  fprintf(stderr, "bildfunk: interrupted before a sender was given\n");
  c->setup_rc = 1;
}

static bf_turn ask_ui(bf_client *c, bf_ui_action a, uint64_t now, int *redraw) {
  (void)now;
  int e = screen_edit(c, a);
  if (e >= 0) {
    *redraw |= e;
    return BF_TURN_IDLE;
  }
  switch (a) {
  case BF_UI_ENTER:
    *redraw = 1;
    if (bf_pairscreen_enter(&c->ps, NULL)) {
      snprintf(c->target, sizeof c->target, "%s", c->ps.host);
      c->setup_rc = 0;
      lan_stop(c);
      return BF_TURN_END;
    }
    break;
  case BF_UI_TAB:
    *redraw |= bf_pairscreen_next_lan(&c->ps);
    break;
  case BF_UI_CANCEL:
  case BF_UI_QUIT:
    fprintf(stderr, "bildfunk: no sender given (%s)\n",
            a == BF_UI_CANCEL ? "Esc in the window" : "the window was closed");
    c->setup_rc = 1;
    lan_stop(c);
    return BF_TURN_END;
  default: /* screen_edit's */
    break;
  }
  return BF_TURN_IDLE;
}

const bf_phase bf_screens_ask_phase = {BF_SCREENS_PHASE("ask-sender"), .stopped = ask_stopped,
                                       .work = ask_work, .ui = ask_ui};

/* --- the pairing screen ---------------------------------------------------------- */

bf_turn bf_screens_pairing_ui(bf_client *c, bf_ui_action a, uint64_t now, int *redraw) {
  int e = screen_edit(c, a);
  if (e >= 0) {
    *redraw |= e;
    return BF_TURN_IDLE;
  }
  switch (a) {
  case BF_UI_ENTER: {
    char code[BF_PAIR_CODE_DIGITS + 1];
    *redraw = 1;
    if (bf_cctl_awaiting_code(c->ctl) && bf_pairscreen_enter(&c->ps, code))
      bf_cctl_confirm_code(c->ctl, code, now); /* a wrong one closes the session */
    break;
  }
  case BF_UI_CANCEL:
  case BF_UI_QUIT:
    c->setup_user_quit = 1;
    if (bf_cctl_awaiting_code(c->ctl)) {
      bf_cctl_refuse_code(c->ctl,
                          a == BF_UI_CANCEL ? "the pairing was cancelled in the window"
                                            : "the window was closed during the pairing",
                          now);
      return BF_TURN_BUSY; /* the setup phase says so and ends */
    }
    fprintf(stderr, "bildfunk: %s while setting up the session with %s\n",
            a == BF_UI_CANCEL ? "cancelled" : "the window was closed", bf_cctl_endpoint(c->ctl));
    bf_cctl_close(c->ctl, BF_CTL_BYE_NORMAL, "the user quit", now);
    c->setup_rc = 1;
    return BF_TURN_END;
  default: /* screen_edit's */
    break;
  }
  /* refused: the setup phase says why */
  return bf_cctl_state_get(c->ctl) == BF_CCTL_CLOSED ? BF_TURN_BUSY : BF_TURN_IDLE;
}

/* --- the failure screen ---------------------------------------------------------- */

void bf_screens_fail_begin(bf_client *c, uint64_t now) {
  size_t n = strnlen(c->target, sizeof c->ps.host - 1); /* cut to fit */
  memcpy(c->ps.host, c->target, n);
  c->ps.host[n] = 0;
  bf_pairscreen_fail(&c->ps, c->setup_err);
  bf_screens_redraw(c);
  fprintf(stderr, "bildfunk: (the window shows this until Enter or Esc)\n");
  c->fail_until_ns = now + BF_SCREENS_FAIL_NS;
}

static bf_turn fail_work(bf_client *c, uint64_t now) {
  return now < c->fail_until_ns ? BF_TURN_IDLE : BF_TURN_END;
}

static bf_turn fail_ui(bf_client *c, bf_ui_action a, uint64_t now, int *redraw) {
  (void)c;
  (void)now;
  if (a == BF_UI_ENTER || a == BF_UI_CANCEL || a == BF_UI_QUIT) return BF_TURN_END;
  if (a == BF_UI_REDRAW || a == BF_UI_FULLSCREEN) *redraw = 1;
  return BF_TURN_IDLE;
}

static void fail_arm(bf_client *c, bf_evloop *l, uint64_t now) {
  (void)now;
  bf_evloop_deadline(l, c->fail_until_ns);
}

const bf_phase bf_screens_fail_phase = {BF_SCREENS_PHASE("failed"), .work = fail_work,
                                        .ui = fail_ui, .arm = fail_arm};
