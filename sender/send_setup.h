/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The sender's setup and teardown: opens, in this order, the picture
 * source, the encoder (none when a file is passed through), the
 * packetizer, the FEC and rate controllers, the pacer, the data-plane
 * session, the --dump-au file, the data endpoint (keyed from
 * --seal-key-file in sealed direct mode) and, in control mode, the control
 * plane; says on stderr what it opened. The first failure is reported as
 * one line naming it (a bad file, a busy port, ...).
 *
 * Not here: the command line (send_cli.h), running (send_loop.h).
 *
 * Ownership: everything opened is owned by |s| until bf_send_setup_close,
 * which is safe on a half-opened state.
 */
#ifndef BF_SENDER_SEND_SETUP_H
#define BF_SENDER_SEND_SETUP_H

#include "send_state.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Opens everything per s->o. 0 or a negative errno with the reason in
 * |err| (may be empty: then bf_strerror of the result). */
int bf_send_setup_open(bf_send_state *s, char *err, size_t cap);
/* Closes everything (the sockets, the encoder, the files). */
void bf_send_setup_close(bf_send_state *s);
/* Says where the sender listens, in which mode, and what it streams. */
void bf_send_setup_banner(bf_send_state *s);

#ifdef __cplusplus
}
#endif

#endif /* BF_SENDER_SEND_SETUP_H */
