/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * What the sender needs to know of this host's interfaces for the LAN
 * half of reaching it (issue #18): their MAC addresses, for Wake-on-LAN
 * (the sender tells them to its paired clients, WakeInfo in
 * docs/protocol.md; they send the magic packet to them), and which
 * interface holds the control port's address (the one DNS-SD publishes on).
 *
 * Not here: the packet (bildfunk/lan.h), sending it (the client),
 * publishing (publish.h). Reads the interface list (getifaddrs) at setup.
 */
#ifndef BF_SENDER_HOST_IFS_H
#define BF_SENDER_HOST_IFS_H

#include <bildfunk/transport.h>

#include <stddef.h>
#include <stdint.h>

/* The MACs of the interfaces that are up, not loopback, with a usable
 * (unicast, non-zero) address, each once, into |out| (|cap| of them at
 * most). Returns how many (0 when none or the list cannot be read). */
size_t bf_host_macs(uint8_t (*out)[6], size_t cap);

/* Where a service on |a| (a local address) can be published: 0 on every
 * interface (the any address), the index of the interface that holds |a|,
 * or -1 nowhere (loopback, or no interface holds it). */
int bf_host_publish_ifindex(const bf_addr *a);

#endif
