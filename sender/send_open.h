/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The sender's opening punches (docs/protocol.md 7.1), in control mode:
 * two-sided hole punching for the direct path. When a streaming session
 * begins (its Welcome went out) the window opens; the client's DataAddr
 * names its data socket, and the sender punches, from its data socket, the
 * control peer's IP at that port (what a port-preserving NAT keeps) and the
 * reported address itself, every 200 ms until 3 s after the session began,
 * or until the client's punch was adopted, a relay took the path or the
 * session ended. Its own NAT then holds a mapping toward the client, and
 * the client's punches, which it dropped before, get through.
 *
 * The schedule is bildfunk/punch.h's bf_punch_opener (sans-I/O, time passed
 * in); here are only its edges: the control messages in, the clear punches
 * out through the data channel (bf_channel_punch_to). State: bf_send_state's
 * |open|. One thread (the loop).
 */
#ifndef BF_SENDER_SEND_OPEN_H
#define BF_SENDER_SEND_OPEN_H

#include <bildfunk/ctl_codec.h>
#include <bildfunk/punch.h>

#include <stdint.h>

typedef struct bf_send_open {
  bf_punch_opener sched;
  bf_addr peer;     /* the control session's peer (its IP) */
  uint64_t addrs;   /* DataAddr messages taken */
  uint64_t punches; /* opening punches the kernel took */
} bf_send_open;

struct bf_send_state;

/* A streaming session began at |now| with the client at |peer| (TCP). */
void bf_send_open_session(struct bf_send_state *s, const bf_addr *peer, uint64_t now);
/* The streaming client's DataAddr: its candidates join the schedule. */
void bf_send_open_on_addr(struct bf_send_state *s, const bf_ctl_msg *m, uint64_t now);
/* No more opening punches for this session (adopted, relayed, ended). */
void bf_send_open_stop(struct bf_send_state *s);
/* Sends the punches due at |now|; returns when it must run again. */
uint64_t bf_send_open_tick(struct bf_send_state *s, uint64_t now);

#endif
