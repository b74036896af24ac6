/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * --reconnect in control mode: when the control session fails while
 * streaming (the sender went silent, the connection broke, its Bye says
 * error or timeout), the client sets a new session up with the same sender
 * — pinned only, never pairing — and the stream goes on under it: the data
 * plane is re-keyed with the new session's secret and sent to the new
 * Welcome's data port (bf_pump_rekey), on the same socket. Until then the
 * loop keeps streaming as with --reconnect in direct mode (silence is said,
 * punches go on), and a BYE the old session's sender sends meanwhile is
 * ignored. An attempt that fails (refused, no answer, set-up timeout) is
 * followed by another one BF_RECONNECT_RETRY_NS later, without end; a
 * sender that refuses this client for good (not paired, another
 * certificate, no sealing) ends the stream with its message and exit 1.
 *
 * Not here: the session itself (net/ctl_client.h), the first set-up
 * (connect.h). Latency: none on the stream's path; an attempt costs a TCP
 * connect and a TLS handshake on the loop's thread.
 */
#ifndef BF_CLIENT_RECONNECT_H
#define BF_CLIENT_RECONNECT_H

#include "client.h"

#define BF_RECONNECT_RETRY_NS 1000000000ull /* between attempts */

/* The control session closed with an error while streaming: with
 * --reconnect and an error worth retrying, says so, starts reconnecting and
 * returns 1; else 0 (the caller ends the stream as before). */
int bf_reconnect_begin(bf_client *c, uint64_t now);

/* While reconnecting: runs the attempt (a new one when the last failed and
 * its time came); on ESTABLISHED re-keys the data plane and the stream goes
 * on. May end the stream (c->done) when the sender refuses for good. */
void bf_reconnect_service(bf_client *c, uint64_t now);

#endif
