/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The sender's control-mode glue: the control plane (ctl_server.h: the TCP
 * listener, TLS sessions, pairing, the operator's confirmation lines on
 * stdin) as seen from the loop. The loop polls its descriptors with the
 * data socket and runs bf_send_ctl_step when one was ready, when the
 * earliest session deadline (keepalive 500 ms, dead peer 1.5 s, setup 5 s,
 * confirmation) has come, or at the latest every 50 ms. The step acts on
 * the control plane's events: a session that becomes established re-keys
 * the data endpoint from its secret, rebuilds the packetizer and the rate
 * controller for its S and K and admits its IP's punches; when it closes,
 * streaming stops at once and its keys are wiped.
 *
 * Not here: the control protocol and the TCP plumbing (ctl_server.c and the
 * library's bf_ctl_conn and bf_ctl_session), the identity and pin files
 * (bildfunk/identity.h; ctl_server.c has the pin file written).
 *
 * State: bf_send_state's control-mode fields (the bf_sctl, the identity and
 * the pin store are opened by bf_send_ctl_open and closed by
 * bf_send_ctl_close). Queue: the control plane's stream events, emptied by
 * every step. Without OpenSSL there is no control mode: _open says so and
 * the rest do nothing. One thread.
 */
#ifndef BF_SENDER_SEND_CTL_H
#define BF_SENDER_SEND_CTL_H

#include "send_state.h"

#include <bildfunk/evloop.h>

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Opens the control plane: the identity and the paired clients from the
 * config directory, the listener, the offer (s->sinfo, s->bitrate, the
 * data port). 0 or a negative errno with the reason in |err|. */
int bf_send_ctl_open(bf_send_state *s, char *err, size_t cap);
/* Closes the listener and every connection (no Bye: _finish first). */
void bf_send_ctl_close(bf_send_state *s);

/* Adds the control descriptors to this turn of the loop. */
void bf_send_ctl_watch(const bf_send_state *s, bf_evloop *l);
/* Runs the control step at |now_ns| and acts on its events. Returns when
 * it must run again at the latest. */
uint64_t bf_send_ctl_step(bf_send_state *s, uint64_t now_ns);
/* The run ends: Bye to the streaming client (the reason from s->failed and
 * |stopped|, a stop signal) and a short flush. */
void bf_send_ctl_finish(bf_send_state *s, int stopped);

/* Prints where the control plane listens and who may connect, with the
 * data plane's address |data_addr|. */
void bf_send_ctl_banner(const bf_send_state *s, const char *data_addr);
/* The control plane's counters (zeros without one). */
void bf_send_ctl_stats(const bf_send_state *s, bf_sctl_stats *out);

#ifdef __cplusplus
}
#endif

#endif /* BF_SENDER_SEND_CTL_H */
