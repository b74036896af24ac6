/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The sender's part of the relayed data path (issue #18, docs/protocol.md
 * 13.3), in control mode:
 *   - the client's relay: a RelayOffer from the streaming client names its
 *     relayed address on a TURN server; the stream goes there (the relay's
 *     IP is admitted for punches, three punches open the way, RelayReady
 *     goes back). No TURN client runs here for that.
 *   - the sender's own relay (--turn, or the config dir's file "turn"),
 *     for a client without one: when neither a punch nor a RelayOffer came
 *     BF_SEND_RELAY_AFTER_NS after the session was established, the sender
 *     makes its relay the data path (a TURN allocation on the data socket,
 *     bildfunk/channel.h) and offers its relayed address; the client's
 *     punches then come through the relay and adopt as always.
 *   - RelayFailed both ways: a client is told when this sender has no relay
 *     for it (none configured, --relay never, its allocation failed), so it
 *     stops waiting for our offer; a client that says it has none gets our
 *     offer after BF_SEND_RELAY_ALONE_NS instead of BF_SEND_RELAY_AFTER_NS.
 *
 * Not here: the TURN client and the relayed channel (transport), the
 * control connection (ctl_server.h). State lives in bf_send_state. One
 * thread (the loop); the channel's lock covers its relay against the audio
 * thread's sends.
 */
#ifndef BF_SENDER_SEND_RELAY_H
#define BF_SENDER_SEND_RELAY_H

#include <bildfunk/ctl_codec.h>
#include <bildfunk/turn_conf.h>

#include <stddef.h>
#include <stdint.h>

/* after the client's own offer would have come (its 3 s bound), with a margin */
#define BF_SEND_RELAY_AFTER_NS 4500000000ull
/* a client that said it has no relay (RelayFailed) offers none: ours is
 * offered as soon as the client's fast punches are over (2.8 s) */
#define BF_SEND_RELAY_ALONE_NS 3000000000ull

typedef struct bf_send_relay {
  bf_relay_mode mode;
  bf_turn_conf conf;
  int configured; /* a TURN server is known */
  char server[BF_CTL_MAX_SERVER + 1];
  int started;         /* the allocation was started */
  uint64_t session_ns; /* the streaming session began: 0 = none */
  int client_ip_set;
  bf_addr client_ip; /* the control session's peer */
  int decided;       /* this session's path is settled (punch, offer either way) */
  int ours;          /* our relay is the path */
  int permit_asked;  /* the client's IP permitted on our allocation (this session) */
  int said_failed;
  uint64_t said_stale;   /* stale allocations released, said so far */
  char err[1024];        /* why our relay is not available ("" = it is, or may be) */
  int told_failed;       /* this session's client was sent RelayFailed */
  int client_has_none;   /* this session's client said RelayFailed */
  uint64_t failed_sent;  /* RelayFailed messages sent */
  uint64_t offers_taken; /* RelayOffers from clients */
  uint64_t offers_made;  /* our relayed address offered */
} bf_send_relay;

struct bf_send_state;

/* --turn, --turn-user, --turn-pass, --turn-secret, --relay and the config
 * dir's "turn". 0, or -EINVAL with the message in |err|. */
int bf_send_relay_configure(struct bf_send_state *s, char *err, size_t cap);
/* A streaming session began (the client's control address) / ended. */
void bf_send_relay_session(struct bf_send_state *s, const bf_addr *client, uint64_t now);
void bf_send_relay_end(struct bf_send_state *s);
/* The streaming client's relay message. */
void bf_send_relay_on_msg(struct bf_send_state *s, const bf_ctl_msg *m, uint64_t now);
/* Runs the relay's timers and the decision; returns the next deadline. */
uint64_t bf_send_relay_tick(struct bf_send_state *s, uint64_t now);

#endif
