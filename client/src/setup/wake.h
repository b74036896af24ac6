/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Waking a paired sender (Wake-on-LAN): `bildfunk wake HOST` sends the
 * magic packet (bildfunk/lan.h) for each MAC the sender told (wake_book.h)
 * by UDP to port 9: to the broadcast address of every IPv4 interface that
 * is up, to 255.255.255.255, and to the address the sender last answered
 * on (a router may forward that one). `bildfunk HOST --wake` does the same,
 * then waits (bounded, a line of progress every few seconds) until the
 * sender's control port accepts a TCP connection, and goes on to connect.
 *
 * Not here: the packet's bytes (bildfunk/lan.h), what is kept (wake_book.h).
 * Blocking socket calls on the caller's thread, before any session.
 */
#ifndef BF_CLIENT_WAKE_H
#define BF_CLIENT_WAKE_H

#include <stdint.h>

#define BF_WAKE_WAIT_S 90 /* --wake: how long the sender has to answer */

/* `bildfunk wake HOST`: sends the packets, says where on stderr. Returns
 * the exit code: 0 sent, 1 nothing known to send to (not paired, or no
 * MACs yet) or no packet went out. */
int bf_wake_cmd(const char *config_dir, const char *host);

/* `bildfunk HOST --wake`: bf_wake_cmd, then waits up to |wait_s| for
 * HOST's control port (|default_port| when HOST has none) to accept a TCP
 * connection. 0 when it does, 1 otherwise (said on stderr). */
int bf_wake_and_wait(const char *config_dir, const char *host, uint16_t default_port,
                     unsigned wait_s);

#endif
