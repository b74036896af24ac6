/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The streaming phase: one turn of the pipeline as the loop runs it.
 *
 *   receive (the pump: socket -> ring -> open -> classify -> reassemble)
 *   -> the video stage takes completed AUs and losses (playback.h)
 *   -> the control session is serviced (connect.h)
 *   -> the end of the stream (BYE, the control session's Bye + grace),
 *      liveness, skip to live, loss windows, keyframe requests
 *   -> the window's actions (quit, overlay level, fullscreen, redraw)
 *   -> --duration, decode one AU (and back to the socket before the next),
 *      present the newest picture, the overlay's text
 *   -> sleep on the data socket, the control socket and the window until the
 *      earliest deadline (punch/ping/loss window, keyframe request, silence,
 *      the Bye's grace, the overlay's refresh, --duration)
 *
 * This file is the order of a turn and nothing else: the stages do the work
 * (the latency policy is playback.h's: the socket before each decode, a
 * decode before presenting). The outcome is in the bf_client (done,
 * exit_code, end_reason). Latency: none added; nothing is queued here.
 */
#ifndef BF_CLIENT_STREAMING_H
#define BF_CLIENT_STREAMING_H

#include "client_loop.h"

/* Sets the phase up: --duration counts from now (c->start_ns), the CPU use
 * of the loop is measured from here (the summary). */
void bf_streaming_begin(bf_client *c);

extern const bf_phase bf_streaming_phase;

#endif
