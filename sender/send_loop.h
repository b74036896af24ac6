/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The sender's one event loop. Each turn: read what arrived on the data
 * port (the endpoint answers on the wire at once and queues the stream's
 * events, which go to their stages here: a new client starts the video
 * stage, a loss report goes to the adaptation, BYE stops it), run the
 * control step when it is due, drop a silent client, print the status
 * line once a second, then let the video stage send, encode or capture;
 * when none of them has work, sleep in one ppoll (bildfunk/evloop.h, ns
 * deadlines: the pacing needs them) on the data socket and the control
 * descriptors until the earliest deadline: the next burst, the next
 * capture, the control plane's timers, the client's silence, the status
 * line. A stop signal (SIGINT, SIGTERM) ends the loop.
 *
 * The stages never call back into the loop: each returns what it wants
 * next (a deadline, or "again"). The loop reads the clock; the stages get
 * the time passed in (the video stage reads it again between bursts).
 *
 * Not here: what the stages do (send_video.h, send_adapt.h, send_ctl.h,
 * send_endpoint.h), setup (send_setup.h).
 */
#ifndef BF_SENDER_SEND_LOOP_H
#define BF_SENDER_SEND_LOOP_H

#include "send_state.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Runs until the stream finishes, a stop signal comes or an error ends
 * it; then says BYE to the client (and the control session's Bye).
 * Returns the exit code (0, or 1 after an error). */
int bf_send_loop_run(bf_send_state *s);

#ifdef __cplusplus
}
#endif

#endif /* BF_SENDER_SEND_LOOP_H */
