/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * This host's MAC addresses: see host_macs.h.
 */
#include "host_macs.h"

#include <bildfunk/lan.h>

#include <ifaddrs.h>
#include <net/if.h>
#include <netpacket/packet.h>
#include <string.h>
#include <sys/socket.h>

size_t bf_host_macs(uint8_t (*out)[6], size_t cap) {
  struct ifaddrs *all = NULL;
  if (getifaddrs(&all) != 0) return 0;
  size_t n = 0;
  for (const struct ifaddrs *i = all; i && n < cap; i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_PACKET) continue;
    if ((i->ifa_flags & IFF_LOOPBACK) || !(i->ifa_flags & IFF_UP)) continue;
    const struct sockaddr_ll *ll = (const struct sockaddr_ll *)(const void *)i->ifa_addr;
    if (ll->sll_halen != BF_MAC_BYTES || !bf_mac_usable(ll->sll_addr)) continue;
    int seen = 0;
    for (size_t k = 0; k < n; k++)
      seen |= !memcmp(out[k], ll->sll_addr, BF_MAC_BYTES);
    if (!seen) memcpy(out[n++], ll->sll_addr, BF_MAC_BYTES);
  }
  freeifaddrs(all);
  return n;
}
