/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * --reconnect in control mode: see reconnect.h.
 */
#include "reconnect.h"

#include "input/forward.h"
#include "setup/connect.h"

#include <bildfunk/clock.h>

#include <string.h>

/* A failure that a new session may not meet: a sender that stopped, a
 * connection that broke, a set-up that did not finish. */
static int transient(const bf_cctl *ctl) {
  bf_cctl_end end = bf_cctl_end_get(ctl);
  if (end == BF_CCTL_END_CONNECT) return 1;
  if (end != BF_CCTL_END_SESSION) return 0;
  int by_peer = 0;
  uint32_t why = bf_cctl_reason(ctl, &by_peer);
  return why == BF_CTL_BYE_ERROR || why == BF_CTL_BYE_TIMEOUT;
}

int bf_reconnect_begin(bf_client *c, uint64_t now) {
  if (!c->cli->wait || c->ending || !transient(c->ctl)) return 0;
  bf_client_say(c, "%s; setting the session with %s up again (--reconnect)", c->ctl_end, c->target);
  c->reconnecting = 1;
  c->reconnect_at_ns = now;
  return 1;
}

/* The new session is up: the data plane follows it. */
static void resumed(bf_client *c) {
  bf_ctl_welcome w;
  uint8_t secret[32];
  char err[256];
  bf_cctl_welcome(c->ctl, &w);
  int r = bf_cctl_seal_secret(c->ctl, secret, sizeof secret);
  if (r == 0) {
    bf_cctl_data_addr(c->ctl, w.data_port, c->ctl_data, sizeof c->ctl_data);
    r = bf_pump_rekey(c->pump, secret, c->data_via[0] ? c->data_via : c->ctl_data, err, sizeof err);
  } else {
    snprintf(err, sizeof err, "no seal secret from the new session");
  }
  memset(secret, 0, sizeof secret);
  if (r < 0) {
    bf_client_say(c, "cannot follow the new session: %s", err);
    c->done = 1;
    c->exit_code = 1;
    c->end_reason = "reconnect";
    return;
  }
  if (c->input) bf_fwd_new_session(c->input);   /* its sender counts events from 1 */
  bf_rpath_new_session(c, bf_clock_epoch_ns()); /* a relay path is offered again */
  c->reconnecting = 0;
  c->reconnects++;
  bf_client_say(c, "session with %s set up again: the stream goes on (sealed data on %s)",
                bf_cctl_endpoint(c->ctl), bf_pump_peer_name(c->pump));
}

/* The attempt failed: again later, or the end when it cannot succeed. */
static void failed(bf_client *c, uint64_t now) {
  char msg[sizeof c->ctl_end];
  bf_cctl_close_message(c->ctl, msg, sizeof msg);
  if (!transient(c->ctl)) {
    snprintf(c->ctl_end, sizeof c->ctl_end, "%s", msg);
    fprintf(stderr, "bildfunk: %s\n", msg);
    c->done = 1;
    c->exit_code = 1;
    c->end_reason = "control";
    return;
  }
  bf_client_verbose(c, "reconnect attempt %llu: %s", (unsigned long long)c->reconnect_attempts,
                    msg);
  c->reconnect_at_ns = now + BF_RECONNECT_RETRY_NS;
}

void bf_reconnect_service(bf_client *c, uint64_t now) {
  if (bf_cctl_state_get(c->ctl) == BF_CCTL_CLOSED) {
    if (now < c->reconnect_at_ns) return;
    bf_cctl *next = NULL;
    char err[512];
    int r = bf_connect_new_ctl(c, 0, &next, err, sizeof err); /* pinned: no pairing */
    if (r < 0) { /* e.g. the name does not resolve during an outage */
      bf_client_verbose(c, "reconnect: %s", err);
      c->reconnect_at_ns = now + BF_RECONNECT_RETRY_NS;
      return;
    }
    bf_cctl_del(&c->ctl);
    c->ctl = next;
    bf_rpath_new_ctl(c); /* what the old session's sender said is gone */
    c->reconnect_attempts++;
  }
  bf_cctl_service(c->ctl, now);
  bf_ctl_event ev;
  while (bf_cctl_event(c->ctl, &ev)) {
    bf_connect_wake_event(c, &ev); /* the sender's MACs, kept once established */
    if (ev.type == BF_CTL_EV_MESSAGE) bf_rpath_on_msg(c, &ev.msg, now); /* after the Welcome */
  }
  bf_cctl_state st = bf_cctl_state_get(c->ctl);
  if (st == BF_CCTL_ESTABLISHED) {
    bf_connect_keep_wake(c);
    resumed(c);
  } else if (st == BF_CCTL_CLOSED)
    failed(c, now);
}
