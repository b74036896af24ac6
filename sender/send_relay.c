/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The sender's part of the relayed data path: see send_relay.h.
 */
#include "send_relay.h"

#include "send_admin.h"
#include "send_state.h"
#include "send_video.h"

#include <bildfunk/channel.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#ifdef BF_HAVE_SEAL

int bf_send_relay_configure(bf_send_state *s, char *err, size_t cap) {
  bf_send_relay *rl = &s->relay;
  const bf_send_options *o = &s->o;
  memset(rl, 0, sizeof *rl);
  rl->mode = (bf_relay_mode)o->relay_mode;
  int r =
      bf_turn_conf_set(&rl->conf, o->turn, o->turn_user, o->turn_pass, o->turn_secret, err, cap);
  if (r) return r;
  char dir[512], path[600];
  if (bf_send_admin_dir(o, dir, sizeof dir) == 0) {
    snprintf(path, sizeof path, "%s/turn", dir);
    r = bf_turn_conf_read(path, &rl->conf, err, cap);
    if (r < 0 && r != -ENOENT) return r;
  }
  rl->configured = rl->conf.server[0] != 0;
  if (!rl->configured) {
    if (rl->mode == BF_RELAY_ALWAYS) {
      snprintf(err, cap, "--relay always needs a TURN server: --turn turn:HOST[:PORT]");
      return -EINVAL;
    }
    return 0;
  }
  bf_channel_relay_config rc;
  r = bf_turn_conf_resolve(&rl->conf, &rc, rl->server, sizeof rl->server, err, cap);
  return r == -EINVAL ? r : 0; /* a name not found now may resolve later */
}

/* Our relay is the path no more (a new session, the client's offer). */
static void leave(bf_send_state *s) {
  if (!s->relay.ours) return;
  bf_channel_relay_leave(s->ep.ch);
  s->relay.ours = 0;
}

/* RelayFailed to the streaming client (docs/protocol.md 13.3): this sender
 * has no relay for it, and why. Once per session. */
static void tell_failed(bf_send_state *s, const char *why, uint64_t now) {
  bf_send_relay *rl = &s->relay;
  if (rl->told_failed || !rl->session_ns || rl->decided) return;
  bf_ctl_msg m;
  memset(&m, 0, sizeof m);
  m.type = BF_CTL_RELAY_FAILED;
  snprintf(m.u.relay_failed.text, sizeof m.u.relay_failed.text, "%s", why);
  if (bf_sctl_send(s->ctl, &m, now) == 0) rl->failed_sent++;
  rl->told_failed = 1;
}

/* The allocation is made once, at the first session that may need it. */
static void start_ours(bf_send_state *s, uint64_t now) {
  bf_send_relay *rl = &s->relay;
  bf_channel_relay_config rc;
  char err[600];
  int r = bf_turn_conf_resolve(&rl->conf, &rc, rl->server, sizeof rl->server, err, sizeof err);
  if (r == 0) r = bf_channel_relay_start(s->ep.ch, &rc, now);
  if (r < 0) {
    snprintf(rl->err, sizeof rl->err, "TURN relay %s: %s", rl->server,
             err[0] && r == -ENOENT ? err : bf_strerror(r));
    fprintf(stderr, "bildfunk-send: %s\n", rl->err);
    rl->configured = 0;
    return;
  }
  rl->started = 1;
}

void bf_send_relay_session(bf_send_state *s, const bf_addr *client, uint64_t now) {
  bf_send_relay *rl = &s->relay;
  leave(s);
  rl->session_ns = now ? now : 1;
  rl->client_ip = *client;
  rl->decided = 0;
  rl->permit_asked = 0;
  rl->told_failed = 0;
  rl->client_has_none = 0;
  if (rl->configured && rl->mode != BF_RELAY_NEVER && !rl->started) start_ours(s, now);
  if (rl->mode == BF_RELAY_NEVER)
    tell_failed(s, "the sender's relay is off (--relay never)", now);
  else if (!rl->configured)
    tell_failed(s, rl->err[0] ? rl->err : "no TURN server on the sender (--turn)", now);
  /* a failed allocation is told by bf_send_relay_tick */
}

void bf_send_relay_end(bf_send_state *s) {
  leave(s);
  s->relay.session_ns = 0;
}

/* The client's relayed address is where the stream goes: the relay's IP is
 * admitted for punches, three clear punches greet it (so the relay names
 * this socket's mapping to the client, which punches back through it: the
 * adoption of spec 7, through the relay), RelayReady goes back. */
static void take_offer(bf_send_state *s, const bf_ctl_msg *m, uint64_t now) {
  bf_addr to;
  if (bf_ctl_addr_to(&m->u.relay_offer.relayed, &to) < 0) return;
  leave(s);
  char a[BF_ADDR_STRLEN];
  bf_addr_format(&to, a, sizeof a);
  fprintf(stderr, "bildfunk-send: the client's data path goes through the TURN relay %s (%s)\n",
          m->u.relay_offer.server, a);
  if (s->ss.streaming && !bf_addr_equal(bf_channel_peer(s->ep.ch), &to)) bf_send_video_stop(s);
  bf_send_session_allow(&s->ss, &to);
  for (int i = 0; i < 3; i++)
    (void)bf_channel_punch_to(s->ep.ch, &to);
  bf_ctl_msg ready;
  memset(&ready, 0, sizeof ready);
  ready.type = BF_CTL_RELAY_READY;
  (void)bf_sctl_send(s->ctl, &ready, now);
  s->relay.decided = 1;
  s->relay.offers_taken++;
}

/* The client has no relay (RelayFailed): ours, if we have one, is offered
 * sooner; said only then (a client without --turn is the usual case). */
static void client_has_none(bf_send_state *s, const bf_ctl_msg *m) {
  bf_send_relay *rl = &s->relay;
  rl->client_has_none = 1;
  if (rl->started && !rl->err[0] && !rl->decided)
    fprintf(stderr, "bildfunk-send: the client has no relay: %s\n", m->u.relay_failed.text);
}

void bf_send_relay_on_msg(bf_send_state *s, const bf_ctl_msg *m, uint64_t now) {
  if (m->type == BF_CTL_RELAY_OFFER)
    take_offer(s, m, now);
  else if (m->type == BF_CTL_RELAY_FAILED)
    client_has_none(s, m);
}

/* Our relay becomes the path: the client is told the relayed address. */
static void offer_ours(bf_send_state *s, const bf_channel_relay_status *st, uint64_t now) {
  bf_send_relay *rl = &s->relay;
  rl->decided = 1;
  if (bf_channel_relay_use(s->ep.ch) < 0) return;
  rl->ours = 1;
  bf_ctl_msg m;
  bf_ctl_relay_offer(&m, st, rl->server);
  (void)bf_sctl_send(s->ctl, &m, now);
  rl->offers_made++;
  char a[BF_ADDR_STRLEN];
  fprintf(stderr,
          "bildfunk-send: no punch from the client within %g s: the data path goes through "
          "the TURN relay %s (relayed address %s)\n",
          (double)(rl->client_has_none ? BF_SEND_RELAY_ALONE_NS : BF_SEND_RELAY_AFTER_NS) / 1e9,
          rl->server, bf_addr_format(&st->relayed, a, sizeof a));
}

uint64_t bf_send_relay_tick(bf_send_state *s, uint64_t now) {
  bf_send_relay *rl = &s->relay;
  if (!rl->started) return UINT64_MAX;
  bf_channel_tick(s->ep.ch, now); /* the TURN client's requests and refreshes */
  bf_channel_relay_status st;
  bf_channel_relay_status_get(s->ep.ch, &st);
  if (st.stale_released > rl->said_stale) { /* a restart after a crash: why allocating took 1.5 s */
    rl->said_stale = st.stale_released;
    fprintf(stderr,
            "bildfunk-send: TURN relay %s still held an allocation for this address (this "
            "sender before a restart?): released, allocating again\n",
            rl->server);
  }
  if (st.state == BF_CHANNEL_RELAY_FAILED) {
    if (!rl->said_failed) {
      if (strstr(st.error, rl->server)) /* "TURN server HOST:PORT refused ..." */
        snprintf(rl->err, sizeof rl->err, "%s", st.error);
      else
        snprintf(rl->err, sizeof rl->err, "TURN relay %s: %s", rl->server, st.error);
      fprintf(stderr, "bildfunk-send: %s\n", rl->err);
      rl->said_failed = 1;
    }
    tell_failed(s, rl->err, now); /* this session's client stops waiting for our offer */
  }
  uint64_t due = bf_channel_next_due(s->ep.ch);
  if (!rl->session_ns || rl->decided) return due;
  if (s->ss.streaming) { /* a punch came: direct */
    rl->decided = 1;
    return due;
  }
  if (st.state != BF_CHANNEL_RELAY_ALLOCATED) return due;
  if (!rl->permit_asked && bf_channel_relay_permit(s->ep.ch, &rl->client_ip, now) == 0)
    rl->permit_asked = 1;
  uint64_t at =
      rl->session_ns + (rl->client_has_none ? BF_SEND_RELAY_ALONE_NS : BF_SEND_RELAY_AFTER_NS);
  if (st.permitted && (rl->mode == BF_RELAY_ALWAYS || now >= at)) {
    offer_ours(s, &st, now);
    return bf_channel_next_due(s->ep.ch);
  }
  return at < due ? at : due;
}

#else /* no OpenSSL: no control mode, no relay */

int bf_send_relay_configure(bf_send_state *s, char *err, size_t cap) {
  (void)err, (void)cap;
  memset(&s->relay, 0, sizeof s->relay);
  return 0;
}
void bf_send_relay_session(bf_send_state *s, const bf_addr *client, uint64_t now) {
  (void)s, (void)client, (void)now;
}
void bf_send_relay_end(bf_send_state *s) {
  (void)s;
}
void bf_send_relay_on_msg(bf_send_state *s, const bf_ctl_msg *m, uint64_t now) {
  (void)s, (void)m, (void)now;
}
uint64_t bf_send_relay_tick(bf_send_state *s, uint64_t now) {
  (void)s, (void)now;
  return UINT64_MAX;
}

#endif
