/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * This host's interfaces' MAC addresses, for Wake-on-LAN: the sender tells
 * them to its paired clients (WakeInfo, docs/protocol.md), which keep them
 * with the pin and send the magic packet to them (`bildfunk wake HOST`).
 *
 * Not here: the packet (bildfunk/lan.h), sending it (the client). Reads the
 * interface list once (getifaddrs, AF_PACKET), at setup.
 */
#ifndef BF_SENDER_HOST_MACS_H
#define BF_SENDER_HOST_MACS_H

#include <stddef.h>
#include <stdint.h>

/* The MACs of the interfaces that are up, not loopback, with a usable
 * (unicast, non-zero) address, each once, into |out| (|cap| of them at
 * most). Returns how many (0 when none or the list cannot be read). */
size_t bf_host_macs(uint8_t (*out)[6], size_t cap);

#endif
