/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The client's relayed data path: see relay_path.h.
 */
#include "relay_path.h"

#include "client.h"
#include "client_cli.h"
#include "net/ctl_client.h"
#include "net/stream_rx.h"

#include <bildfunk/channel.h>
#include <bildfunk/identity.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

int bf_rpath_configure(bf_rpath *rp, const bf_cli *cli) {
  memset(rp, 0, sizeof *rp);
  rp->mode = (bf_relay_mode)cli->relay_mode;
  if (cli->direct || cli->pair) return 0; /* no control session to offer it in */
  char dir[1024], path[1100], err[600];
  int r = bf_turn_conf_set(&rp->conf, cli->turn, cli->turn_user, cli->turn_pass, cli->turn_secret,
                           err, sizeof err);
  if (r < 0) {
    fprintf(stderr, "bildfunk: %s\n", err);
    return 2;
  }
  /* what the command line leaves out, from the config directory's "turn" */
  if (cli->config_dir)
    snprintf(dir, sizeof dir, "%s", cli->config_dir);
  else if (bf_config_dir(dir, sizeof dir) < 0)
    dir[0] = 0;
  if (dir[0]) {
    snprintf(path, sizeof path, "%s/turn", dir);
    r = bf_turn_conf_read(path, &rp->conf, err, sizeof err);
    if (r < 0 && r != -ENOENT) {
      fprintf(stderr, "bildfunk: %s\n", err);
      return 2;
    }
  }
  rp->configured = rp->conf.server[0] != 0;
  if (!rp->configured && (rp->conf.user[0] || rp->conf.pass[0] || rp->conf.secret[0]) &&
      (cli->turn_user || cli->turn_pass || cli->turn_secret)) {
    fprintf(stderr, "bildfunk: --turn-user, --turn-pass and --turn-secret need --turn "
                    "turn:HOST[:PORT]\n");
    return 2;
  }
  if (rp->configured && rp->mode != BF_RELAY_NEVER) {
    bf_channel_relay_config rc;
    if (bf_turn_conf_resolve(&rp->conf, &rc, rp->server, sizeof rp->server, err, sizeof err) ==
        -EINVAL) {
      fprintf(stderr, "bildfunk: %s\n", err);
      return 2;
    }
  }
  if (!rp->configured && rp->mode == BF_RELAY_ALWAYS) {
    fprintf(stderr, "bildfunk: --relay always needs a TURN server: --turn turn:HOST[:PORT]\n");
    return 2;
  }
  return 0;
}

static unsigned port_of(const bf_addr *a);

/* DataAddr (docs/protocol.md 7.1): the data socket's port on the control
 * connection's local IP, so that the sender can punch toward it too (its
 * own NAT drops our punches until it did). Every session; an older sender
 * skips the type. */
static void data_addr(bf_client *c, uint64_t now) {
  bf_addr ctl, data;
  ctl.len = sizeof ctl.ss;
  if (!c->ctl || c->data_via[0] ||
      getsockname(bf_cctl_fd(c->ctl), (struct sockaddr *)&ctl.ss, &ctl.len) < 0 ||
      bf_transport_local_addr(bf_pump_transport(c->pump), &data) < 0)
    return;
  bf_ctl_msg m;
  memset(&m, 0, sizeof m);
  m.type = BF_CTL_DATA_ADDR;
  bf_ctl_addr_from(&ctl, &m.u.data_addr.addr);
  m.u.data_addr.addr.port = (uint16_t)port_of(&data);
  if (m.u.data_addr.addr.port) (void)bf_cctl_send(c->ctl, &m, now);
}

/* RelayFailed to the sender (docs/protocol.md 13.3): this client has no
 * relay, and why. Once per session, to a sender that takes part. */
static void tell_failed(bf_client *c, const char *why, uint64_t now) {
  bf_rpath *rp = &c->rp;
  if (rp->told_failed || !c->ctl || !(c->welcome_flags & BF_CTL_WELCOME_RELAY)) return;
  bf_ctl_msg m;
  memset(&m, 0, sizeof m);
  m.type = BF_CTL_RELAY_FAILED;
  snprintf(m.u.relay_failed.text, sizeof m.u.relay_failed.text, "%s", why);
  (void)bf_cctl_send(c->ctl, &m, now);
  rp->told_failed = 1;
}

/* This session's sender and client have said nothing yet. */
static void session_fresh(bf_client *c, uint64_t now) {
  bf_rpath *rp = &c->rp;
  rp->since_ns = now;
  rp->told_failed = 0;
  data_addr(c, now);
  if (rp->mode == BF_RELAY_NEVER) return; /* the sender was not offered the relay messages */
  if (!rp->configured)
    tell_failed(c, "no TURN server on the client (--turn)", now);
  else if (rp->state == BF_RPATH_FAILED)
    tell_failed(c, rp->err, now);
}

static void fail(bf_client *c, const char *why, uint64_t now) {
  bf_rpath *rp = &c->rp;
  rp->state = BF_RPATH_FAILED;
  tell_failed(c, why, now);
  snprintf(rp->err, sizeof rp->err, "%s", why);
  if (rp->mode == BF_RELAY_ALWAYS) { /* the only path there was */
    bf_client_say(c, "the TURN relay %s cannot carry the stream: %s", rp->server, why);
    c->done = 1;
    c->exit_code = 1;
    c->end_reason = "relay";
    return;
  }
  bf_client_say(c, "the TURN relay %s is not available: %s", rp->server, why);
}

int bf_rpath_start(bf_client *c, uint64_t now) {
  bf_rpath *rp = &c->rp;
  session_fresh(c, now);
  if (!rp->configured || rp->mode == BF_RELAY_NEVER || !c->ctl) return 0;
  if (!(c->welcome_flags & BF_CTL_WELCOME_RELAY)) {
    bf_client_say(c, "the sender cannot take a relayed path (an older bildfunk-send): direct only");
    return rp->mode == BF_RELAY_ALWAYS ? 1 : 0;
  }
  bf_channel_relay_config rc;
  char err[600];
  int r = bf_turn_conf_resolve(&rp->conf, &rc, rp->server, sizeof rp->server, err, sizeof err);
  if (r == 0) r = bf_channel_relay_start(bf_pump_channel(c->pump), &rc, now);
  if (r < 0) {
    if (!err[0] || r != -ENOENT) snprintf(err, sizeof err, "%s", bf_strerror(r));
    fail(c, err, now);
    return c->done ? 1 : 0;
  }
  rp->state = BF_RPATH_STARTING;
  bf_client_verbose(c, "TURN relay %s: allocating (--relay %s)", rp->server,
                    bf_relay_mode_name(rp->mode));
  return 0;
}

static unsigned port_of(const bf_addr *a) {
  if (a->ss.ss_family == AF_INET6) return ntohs(((const struct sockaddr_in6 *)&a->ss)->sin6_port);
  return ntohs(((const struct sockaddr_in *)&a->ss)->sin_port);
}

/* Why the direct path did not open, from what the relay saw: the sender's
 * mapping toward it (the relay peer) against its data port, and this
 * socket's mapping (the Allocate's) against its local port. */
static void why_not_direct(bf_client *c, const bf_channel_relay_status *st) {
  bf_addr data, local;
  char a[BF_ADDR_STRLEN];
  if (bf_addr_parse(c->ctl_data, 0, &data) < 0) return;
  unsigned dp = port_of(&data), pp = port_of(&st->peer);
  bf_addr_format(&st->peer, a, sizeof a);
  if (pp != dp)
    bf_client_say(c,
                  "the sender's NAT maps its data port %u to %s toward the relay: it picks ports "
                  "itself, so a punch cannot reach it (forward UDP %u on the sender's router for "
                  "a direct path)",
                  dp, a, dp);
  else
    bf_client_say(c,
                  "the sender's NAT keeps its data port (%s toward the relay) but let no punch "
                  "in: forward UDP %u on the sender's router for a direct path",
                  a, dp);
  if (st->mapped.len && bf_transport_local_addr(bf_pump_transport(c->pump), &local) == 0 &&
      port_of(&local) != port_of(&st->mapped))
    bf_client_say(c, "this client's NAT maps its data port %u to %u as well", port_of(&local),
                  port_of(&st->mapped));
}

static void offer(bf_client *c, const bf_channel_relay_status *st, uint64_t now) {
  bf_rpath *rp = &c->rp;
  bf_ctl_msg m;
  bf_ctl_relay_offer(&m, st, rp->server);
  int r = bf_cctl_send(c->ctl, &m, now);
  if (r < 0) bf_client_verbose(c, "RelayOffer not sent: %s", bf_strerror(r));
  rp->offered_ns = now;
  rp->offers++;
}

/* The relay becomes the path: sends through it, the sender told. */
static void switch_to_relay(bf_client *c, const bf_channel_relay_status *st, uint64_t now) {
  bf_rpath *rp = &c->rp;
  int r = bf_channel_relay_use(bf_pump_channel(c->pump));
  if (r < 0) {
    fail(c, r == -EPERM ? "the data plane is not sealed" : bf_strerror(r), now);
    return;
  }
  char a[BF_ADDR_STRLEN];
  bf_addr_format(&st->relayed, a, sizeof a);
  if (rp->mode == BF_RELAY_ALWAYS)
    bf_client_say(c, "data path: through the TURN relay %s (--relay always; relayed address %s)",
                  rp->server, a);
  else
    bf_client_say(c,
                  "no data from the sender's data port within %g s: the data path goes through "
                  "the TURN relay %s (relayed address %s)",
                  (double)BF_RPATH_AUTO_NS / 1e9, rp->server, a);
  rp->state = BF_RPATH_OFFERED;
  offer(c, st, now);
}

void bf_rpath_tick(bf_client *c, uint64_t now) {
  bf_rpath *rp = &c->rp;
  if (rp->state == BF_RPATH_OFF || rp->state == BF_RPATH_FAILED || !c->pump) return;
  bf_channel *ch = bf_pump_channel(c->pump);
  bf_channel_relay_status st;
  bf_channel_relay_status_get(ch, &st);
  if (st.state == BF_CHANNEL_RELAY_FAILED) {
    fail(c, st.error[0] ? st.error : "the allocation failed", now);
    return;
  }
  if (rp->state == BF_RPATH_STARTING && st.state == BF_CHANNEL_RELAY_ALLOCATED) {
    bf_addr sender;
    if (!rp->permit_asked && bf_addr_parse(c->ctl_data, 0, &sender) == 0 &&
        bf_channel_relay_permit(ch, &sender, now) == 0)
      rp->permit_asked = 1;
    if (st.permitted) {
      char a[BF_ADDR_STRLEN], m[BF_ADDR_STRLEN];
      bf_client_verbose(c, "TURN relay %s: relayed address %s, this socket seen as %s", rp->server,
                        bf_addr_format(&st.relayed, a, sizeof a),
                        bf_addr_format(&st.mapped, m, sizeof m));
      rp->state = BF_RPATH_STANDBY;
    }
  }
  if (rp->state == BF_RPATH_STANDBY) {
    int heard = bf_pump_last_data_ns(c->pump) != 0;
    if (rp->mode == BF_RELAY_ALWAYS || (!heard && now - rp->since_ns >= BF_RPATH_AUTO_NS))
      switch_to_relay(c, &st, now);
    return;
  }
  if (rp->state != BF_RPATH_OFFERED) return;
  if (!st.peer.len && now - rp->offered_ns >= BF_RPATH_REOFFER_NS && rp->offers < BF_RPATH_OFFERS)
    offer(c, &st, now);
  if (st.peer.len && !rp->said_path) {
    why_not_direct(c, &st);
    rp->said_path = 1;
  }
}

/* The sender's relayed address: the data path goes there (punches first,
 * through the relay; the sender adopts them as always). Not while this
 * client's own relay is the path, nor with --relay never. */
static void sender_offer(bf_client *c, const bf_ctl_msg *m, uint64_t now) {
  bf_rpath *rp = &c->rp;
  bf_addr to;
  if (rp->mode == BF_RELAY_NEVER || rp->state == BF_RPATH_OFFERED || !c->pump ||
      bf_ctl_addr_to(&m->u.relay_offer.relayed, &to) < 0)
    return;
  bf_channel *ch = bf_pump_channel(c->pump);
  bf_channel_set_peer(ch, &to);
  bf_channel_punch_restart(ch, now);
  snprintf(rp->server, sizeof rp->server, "%s", m->u.relay_offer.server);
  rp->state = BF_RPATH_SENDERS;
  rp->offered_ns = now;
  char a[BF_ADDR_STRLEN];
  bf_client_say(c, "the data path goes through the sender's TURN relay %s (relayed address %s)",
                rp->server, bf_addr_format(&to, a, sizeof a));
}

void bf_rpath_new_ctl(bf_client *c) {
  c->rp.sender_has_none = 0;
  c->rp.sender_err[0] = 0;
}

void bf_rpath_new_session(bf_client *c, uint64_t now) {
  bf_rpath *rp = &c->rp;
  session_fresh(c, now);
  if (rp->state == BF_RPATH_SENDERS) {
    rp->state = BF_RPATH_OFF;
  } else if (rp->state == BF_RPATH_OFFERED) {
    bf_channel *ch = bf_pump_channel(c->pump);
    bf_channel_relay_leave(ch); /* the relay peer was the old session's */
    if (bf_channel_relay_use(ch) < 0) {
      fail(c, "the relay could not be the path again", now);
      return;
    }
    bf_channel_relay_status st;
    bf_channel_relay_status_get(ch, &st);
    rp->offers = 0;
    rp->said_path = 0;
    offer(c, &st, now);
  }
}

void bf_rpath_on_msg(bf_client *c, const bf_ctl_msg *m, uint64_t now) {
  if (m->type == BF_CTL_RELAY_OFFER) {
    sender_offer(c, m, now);
  } else if (m->type == BF_CTL_RELAY_READY) {
    c->rp.ready = 1;
    bf_client_verbose(c, "the sender sends to the relayed address");
  } else if (m->type == BF_CTL_RELAY_FAILED) { /* no offer of the sender's to wait for */
    c->rp.sender_has_none = 1;
    snprintf(c->rp.sender_err, sizeof c->rp.sender_err, "%s", m->u.relay_failed.text);
    bf_client_verbose(c, "the sender has no relay: %s", m->u.relay_failed.text);
  }
}

int bf_rpath_pending(const bf_client *c, uint64_t now) {
  const bf_rpath *rp = &c->rp;
  if (!c->pump || bf_pump_last_data_ns(c->pump) != 0) return 0;
  /* the sender may offer its own relay (a Welcome with the relay flag) */
  if ((rp->state == BF_RPATH_OFF || rp->state == BF_RPATH_FAILED) && rp->mode != BF_RELAY_NEVER &&
      (c->welcome_flags & BF_CTL_WELCOME_RELAY) && !rp->sender_has_none)
    return now - rp->since_ns < BF_RPATH_SENDER_WAIT_NS;
  if (rp->state != BF_RPATH_STARTING && rp->state != BF_RPATH_STANDBY) return 0;
  /* an allocation that takes longer than this is not waited for */
  if (now - rp->since_ns > BF_RPATH_AUTO_NS + BF_RPATH_REOFFER_NS) return 0;
  return 1;
}

uint64_t bf_rpath_next_due(const bf_client *c, uint64_t now) {
  const bf_rpath *rp = &c->rp;
  uint64_t due = UINT64_MAX;
  if (rp->state == BF_RPATH_STANDBY || rp->state == BF_RPATH_STARTING)
    due = rp->since_ns + BF_RPATH_AUTO_NS;
  else if (rp->state == BF_RPATH_OFFERED && rp->offers < BF_RPATH_OFFERS)
    due = rp->offered_ns + BF_RPATH_REOFFER_NS;
  if (due <= now) due = UINT64_MAX; /* passed: the rest waits for events */
  if (bf_rpath_pending(c, now) && rp->since_ns + BF_RPATH_SENDER_WAIT_NS > now &&
      rp->since_ns + BF_RPATH_SENDER_WAIT_NS < due)
    due = rp->since_ns + BF_RPATH_SENDER_WAIT_NS;
  return due;
}

int bf_rpath_relayed(const bf_client *c) {
  return c->rp.state == BF_RPATH_OFFERED || c->rp.state == BF_RPATH_SENDERS;
}

const char *bf_rpath_describe(const bf_client *c, char *buf, size_t cap) {
  if (bf_rpath_relayed(c))
    snprintf(buf, cap, "relayed via %s", c->rp.server);
  else
    snprintf(buf, cap, "direct");
  return buf;
}

const char *bf_rpath_no_data_hint(const bf_client *c, char *buf, size_t cap) {
  const bf_rpath *rp = &c->rp;
  const char *port = strrchr(c->ctl_data, ':');
  port = port ? port + 1 : "47998";
  if (rp->state == BF_RPATH_FAILED)
    snprintf(buf, cap, "; the TURN relay %s failed too: %s", rp->server, rp->err);
  else if (bf_rpath_relayed(c))
    snprintf(buf, cap, ", not through the TURN relay %s either", rp->server);
  else
    snprintf(buf, cap,
             " \xe2\x80\x94 forward UDP port %s on the sender's router to the sender, or use a "
             "TURN relay (--turn turn:HOST[:PORT])",
             port);
  size_t n = strlen(buf);
  if (rp->sender_has_none && !bf_rpath_relayed(c) && n < cap)
    snprintf(buf + n, cap - n, "; the sender has no relay to offer: %s", rp->sender_err);
  return buf;
}
