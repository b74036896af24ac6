/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * This host's interfaces: see host_ifs.h.
 */
#include "host_ifs.h"

#include <bildfunk/lan.h>

#include <arpa/inet.h>
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

/* 1 when |x| and |y| (sockaddrs of one family) hold the same IP. */
static int same_ip(const struct sockaddr *x, const struct sockaddr_storage *y) {
  if (x->sa_family != y->ss_family) return 0;
  if (x->sa_family == AF_INET)
    return ((const struct sockaddr_in *)(const void *)x)->sin_addr.s_addr ==
           ((const struct sockaddr_in *)(const void *)y)->sin_addr.s_addr;
  return x->sa_family == AF_INET6 &&
         !memcmp(&((const struct sockaddr_in6 *)(const void *)x)->sin6_addr,
                 &((const struct sockaddr_in6 *)(const void *)y)->sin6_addr,
                 sizeof(struct in6_addr));
}

int bf_host_publish_ifindex(const bf_addr *a) {
  const struct sockaddr_storage *ss = &a->ss;
  if (ss->ss_family == AF_INET) {
    const uint32_t ip = ntohl(((const struct sockaddr_in *)(const void *)ss)->sin_addr.s_addr);
    if (ip == INADDR_ANY) return 0;
    if ((ip >> 24) == 127) return -1;
  } else if (ss->ss_family == AF_INET6) {
    const struct in6_addr *ip = &((const struct sockaddr_in6 *)(const void *)ss)->sin6_addr;
    if (IN6_IS_ADDR_UNSPECIFIED(ip)) return 0;
    if (IN6_IS_ADDR_LOOPBACK(ip)) return -1;
  } else {
    return -1;
  }
  struct ifaddrs *all = NULL;
  if (getifaddrs(&all) != 0) return -1;
  int idx = -1;
  for (const struct ifaddrs *i = all; i && idx < 0; i = i->ifa_next)
    if (i->ifa_addr && same_ip(i->ifa_addr, ss) && !(i->ifa_flags & IFF_LOOPBACK)) {
      const unsigned k = if_nametoindex(i->ifa_name);
      if (k) idx = (int)k;
    }
  freeifaddrs(all);
  return idx;
}
