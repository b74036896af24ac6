/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The control session from the client's side of the program: connecting,
 * pairing (the code on stderr and in the window, the sender's code typed on
 * stdin or in the window) and the Welcome, as a phase of the loop; then,
 * while streaming, servicing it until it closes.
 *
 * Not here: the session itself (control.h: TCP, TLS, the library's sans-I/O
 * bf_ctl_session), the window's screens (screens.h), the data plane (the
 * Welcome's address and secret go to the program, which opens it).
 *
 * Outcome of the phase in c->setup_rc: 0 established, else the exit code
 * (c->setup_err says why, c->setup_user_quit when the user ended it).
 */
#ifndef BF_CLIENT_CONNECT_H
#define BF_CLIENT_CONNECT_H

#include "client_loop.h"

/* Opens the control session to c->target and shows the pairing screen's
 * "connecting" (with a window). 0, or the exit code (said, in setup_err). */
int bf_connect_open(bf_client *c);

/* A new control session to c->target into |*out| (pair: 0 pinned senders
 * only, 1 pair when there is no pin, 2 pair anyway). 0, or a negative errno
 * with the reason in |err|. */
int bf_connect_new_ctl(bf_client *c, int pair, bf_cctl **out, char *err, size_t errcap);

/* The sender's MACs (a WakeInfo event of c->ctl) noted; kept for `bildfunk
 * wake` (wake_book.h) by bf_connect_keep_wake once the session is
 * established (also by a --reconnect session). */
void bf_connect_wake_event(bf_client *c, const bf_ctl_event *ev);
void bf_connect_keep_wake(bf_client *c);

/* Runs the control session up to ESTABLISHED (pairing included: the code is
 * shown and the sender's user confirms it). */
extern const bf_phase bf_connect_phase;

/* After ESTABLISHED: fills the data address, the seal secret (the caller
 * wipes it) and K; remembers the last sender. 0, -1 when `bildfunk pair`
 * is done (the session closed), or the exit code. */
int bf_connect_finish(bf_client *c, char *data_addr, size_t cap, uint8_t secret[32],
                      uint32_t *max_k);

/* While streaming: reads, ticks and writes the session when its socket was
 * ready (c->ctl_ready), its deadline passed, or every 100 ms; a close ends
 * the stream (a normal Bye after the grace, see BF_CLIENT_BYE_GRACE_NS). */
void bf_connect_service(bf_client *c, uint64_t now);

/* The stream ended: a Bye with the end's reason, unless closed already. */
void bf_connect_close(bf_client *c, uint64_t now);

#endif
