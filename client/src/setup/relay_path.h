/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The client's relayed data path (issue #18, docs/protocol.md 13.3): with
 * --turn (or the file "turn" in the config directory), a TURN allocation on
 * the data socket made as the stream begins, in parallel with the punch;
 * when the punch has not opened the direct path within
 * BF_RPATH_AUTO_NS (or at once with --relay always), the relay becomes the
 * data path and the sender is told the relayed address (RelayOffer). Also
 * what the user is told: which path the stream takes ("direct" or
 * "relayed via HOST"), and, when no data comes, why and what would open
 * the path. RelayFailed both ways: the sender is told when this client has
 * no relay (none configured, its allocation failed), and a sender that
 * says it has none is not waited for.
 *
 * Not here: the TURN client and the relayed path of the channel
 * (bildfunk/channel.h, transport), the control connection (ctl_client.h).
 * State only in bf_client's bf_rpath; nothing on the per-packet path.
 * One thread (the client's loop).
 */
#ifndef BF_CLIENT_RELAY_PATH_H
#define BF_CLIENT_RELAY_PATH_H

#include <bildfunk/ctl_codec.h>
#include <bildfunk/turn_conf.h>

#include <stddef.h>
#include <stdint.h>

/* auto: the relay is taken when nothing came from the sender this long
 * after the stream began (the sender waits 2.5 s for a punch, the 15 fast
 * punches span 2.8 s) */
#define BF_RPATH_AUTO_NS 3000000000ull
/* a RelayOffer not answered by data through the relay is sent again */
#define BF_RPATH_REOFFER_NS 2000000000ull
#define BF_RPATH_OFFERS 3
/* a sender with a relay of its own offers it 4.5 s after the session began
 * when nothing got through (sender/send_relay.h); waited for this long */
#define BF_RPATH_SENDER_WAIT_NS 6500000000ull

typedef enum bf_rpath_state {
  BF_RPATH_OFF = 0,  /* no --turn, or --relay never */
  BF_RPATH_STARTING, /* allocation, permission in flight */
  BF_RPATH_STANDBY,  /* allocated and permitted: ready to be the path */
  BF_RPATH_OFFERED,  /* the relay is the path; the sender was told */
  BF_RPATH_SENDERS,  /* the sender's relay is the path (its RelayOffer) */
  BF_RPATH_FAILED,   /* the relay could not be set up: |err| */
} bf_rpath_state;

typedef struct bf_rpath {
  bf_relay_mode mode;
  bf_turn_conf conf;
  int configured; /* a TURN server is known (command line or file) */
  bf_rpath_state state;
  char server[BF_CTL_MAX_SERVER + 1]; /* "HOST:PORT" */
  char err[300];
  uint64_t since_ns; /* the stream began (the auto bound counts from here) */
  uint64_t offered_ns;
  unsigned offers;
  int ready; /* the sender answered RelayReady */
  int permit_asked;
  int said_path;       /* "data through the relay" said */
  int told_failed;     /* this session's sender was sent RelayFailed (we have no relay) */
  int sender_has_none; /* this session's sender said RelayFailed: |sender_err| */
  char sender_err[BF_CTL_MAX_TEXT + 1];
} bf_rpath;

struct bf_client;
struct bf_cli;

/* Takes --turn, --turn-user, --turn-pass, --turn-secret, --relay and the
 * config directory's "turn" file. 0, or the exit code (2) with the
 * message printed. */
int bf_rpath_configure(bf_rpath *rp, const struct bf_cli *cli);
/* The stream begins: resolves the server, starts the allocation on the
 * pump's channel. 0 or an exit code (the message printed). */
int bf_rpath_start(struct bf_client *c, uint64_t now);
/* The decision and the offer (each turn of the streaming loop). */
void bf_rpath_tick(struct bf_client *c, uint64_t now);
/* --reconnect set a new session up: the client's relay (if it is the path)
 * is offered to it again, a relay peer learned from the old one forgotten;
 * a sender's relay of the old session is forgotten (the new one may offer
 * again). */
void bf_rpath_new_session(struct bf_client *c, uint64_t now);
/* A new control connection (--reconnect): what the last one's sender said
 * (RelayFailed) is forgotten before its events are read. */
void bf_rpath_new_ctl(struct bf_client *c);
/* RelayOffer / RelayReady / RelayFailed from the sender (also while the
 * session is being set up: RelayFailed may come right after the Welcome). */
void bf_rpath_on_msg(struct bf_client *c, const bf_ctl_msg *m, uint64_t now);
/* 1 while the relay may still become the path: silence is not yet the
 * sender's. */
int bf_rpath_pending(const struct bf_client *c, uint64_t now);
/* When bf_rpath_tick has work next (the auto bound, a repeated offer, the
 * end of the wait for the sender's relay); UINT64_MAX: none. */
uint64_t bf_rpath_next_due(const struct bf_client *c, uint64_t now);
/* "direct", "relayed via HOST:PORT" (or "-" before anything came). */
const char *bf_rpath_describe(const struct bf_client *c, char *buf, size_t cap);
/* 1 when the relay is the data path. */
int bf_rpath_relayed(const struct bf_client *c);
/* The relay part of the "no data" message ("" when none), e.g. "; the TURN
 * relay failed: ..." or " (forward UDP port 47998 ... or use --turn)". */
const char *bf_rpath_no_data_hint(const struct bf_client *c, char *buf, size_t cap);

#endif
