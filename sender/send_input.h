/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The sender's input stage: the client's keyboard, mouse and game pads
 * applied to the sender's desktop or game (docs/sender.md, "Input").
 *
 *   data endpoint --(input datagrams, 0xB0)--> this stage --> the input link's
 *   sender end (bildfunk/inputlink.h: once, in order, latest wins, rate
 *   limit) --> the backends (input_backend.h: XTest, uinput, the testsrc
 *   echo) ; STATE datagrams (acks, rumble, picture stamps) go back.
 *
 * Who may: only the streaming client of a paired, sealed control session
 * whose Welcome granted input (it asked with BF_CTL_CAP_INPUT and --input is
 * not none), from the address the stream goes to. In --direct mode (its
 * datagrams are not authenticated) input is dropped and counted, and so is
 * input from anyone else.
 *
 * Backends, chosen at open (--input-backend): xtest for the keyboard and
 * the mouse into the display the x11 source captures (auto with the x11
 * source; $DISPLAY otherwise), uinput for the game pads (and for the
 * keyboard and the mouse where there is no X display: uinput, or auto with
 * a file source), probed at start; the testsrc source always echoes what it
 * gets into its pictures. Each class no backend serves is said once at
 * start, with the reason (no /dev/uinput, no X display).
 *
 * Nothing stuck: everything held is released when the session ends (Bye,
 * the control connection closes, a new client replaces it, the client's
 * BYE), after 1 s of silence from the client while something is held, and
 * when the sender stops (a signal, the end of the stream).
 *
 * When: datagrams are applied as the loop reads them (the loop wakes on the
 * data socket; an encode in progress delays them by its rest, which costs
 * no picture as long as the encode ends before the next capture: measured
 * in bench/input_latency.sh); the backends are flushed (XSync) after each
 * batch, before the next capture, and a STATE goes back after each batch and
 * each capture. Latency added by the stage: the flush, ~0.1 ms.
 *
 * State: bf_send_state's |input| (opened by bf_send_input_open, closed by
 * bf_send_input_close). One thread.
 */
#ifndef BF_SENDER_SEND_INPUT_H
#define BF_SENDER_SEND_INPUT_H

#include "send_state.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Picks and opens the backends for s->o and the source, says what is off
 * and why, and takes the endpoint's input datagrams. 0, or a negative
 * errno with |err| (an explicit --input-backend that cannot work at all). */
int bf_send_input_open(bf_send_state *s, char *err, size_t cap);
/* Releases everything held and closes the backends. */
void bf_send_input_close(bf_send_state *s);

/* A control session takes the stream: its input is applied when |granted|
 * (its Welcome has BF_CTL_WELCOME_INPUT). Whatever the last one held is
 * released first. */
void bf_send_input_session(bf_send_state *s, int granted, uint64_t now_ns);
/* The streaming client is gone (or the sender stops): release everything. */
void bf_send_input_stop(bf_send_state *s, uint64_t now_ns);
/* After a batch of datagrams: flush the backends, acknowledge. */
void bf_send_input_after_batch(bf_send_state *s);
/* A picture was captured with pts |pts_ns|: its stamp goes to the client. */
void bf_send_input_captured(bf_send_state *s, uint64_t pts_ns);
/* Silence release and rumble at |now_ns|; returns when it must run again. */
uint64_t bf_send_input_tick(bf_send_state *s, uint64_t now_ns);
/* The class bits --input allows that a backend applies (for the Welcome). */
unsigned bf_send_input_classes(const bf_send_state *s);

/* ",  \"input\": {...}\n" for --stats-json. */
void bf_send_input_stats_json(const bf_send_state *s, FILE *f);

#ifdef __cplusplus
}
#endif

#endif /* BF_SENDER_SEND_INPUT_H */
