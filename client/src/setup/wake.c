/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Waking a paired sender: see wake.h.
 */
#include "wake.h"

#include "net/ctl_client.h"
#include "setup/wake_book.h"

#include <bildfunk/clock.h>
#include <bildfunk/lan.h>
#include <bildfunk/transport.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_TARGETS 24

/* Where the packets go: every up IPv4 interface's broadcast address (not
 * loopback), 255.255.255.255, and |last_ip| when it is an IPv4 address.
 * Returns how many, each once. */
static size_t targets(const char *last_ip, struct in_addr *to, size_t cap) {
  size_t n = 0;
  struct ifaddrs *all = NULL;
  if (getifaddrs(&all) == 0) {
    for (const struct ifaddrs *i = all; i && n + 2 < cap; i = i->ifa_next) {
      if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || !i->ifa_broadaddr) continue;
      if (!(i->ifa_flags & IFF_UP) || !(i->ifa_flags & IFF_BROADCAST) ||
          (i->ifa_flags & IFF_LOOPBACK))
        continue;
      to[n++] = ((const struct sockaddr_in *)(const void *)i->ifa_broadaddr)->sin_addr;
    }
    freeifaddrs(all);
  }
  to[n++].s_addr = htonl(INADDR_BROADCAST);
  struct in_addr last;
  if (last_ip && inet_pton(AF_INET, last_ip, &last) == 1) to[n++] = last;
  size_t k = 0; /* each once */
  for (size_t i = 0; i < n; i++) {
    int seen = 0;
    for (size_t j = 0; j < k; j++)
      seen |= to[j].s_addr == to[i].s_addr;
    if (!seen) to[k++] = to[i];
  }
  return k;
}

/* Sends |e|'s packets. Returns how many datagrams went out. */
static size_t send_packets(const bf_wake_entry *e) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) return 0;
  int on = 1;
  (void)setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &on, sizeof on);
  struct in_addr to[MAX_TARGETS];
  size_t nt = targets(e->ip, to, MAX_TARGETS), sent = 0;
  for (size_t m = 0; m < e->count; m++) {
    uint8_t pkt[BF_WAKE_PACKET_BYTES];
    bf_wake_packet(e->mac[m], pkt);
    for (size_t t = 0; t < nt; t++) {
      struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(BF_WAKE_PORT)};
      sa.sin_addr = to[t];
      char ip[INET_ADDRSTRLEN];
      inet_ntop(AF_INET, &to[t], ip, sizeof ip);
      if (sendto(fd, pkt, sizeof pkt, 0, (const struct sockaddr *)&sa, sizeof sa) ==
          (ssize_t)sizeof pkt)
        sent++;
      else
        fprintf(stderr, "bildfunk: wake: to %s: %s\n", ip, strerror(errno));
    }
  }
  close(fd);
  return sent;
}

int bf_wake_cmd(const char *config_dir, const char *host) {
  char name[BF_PIN_MAX_NAME + 1];
  if (bf_cctl_pin_name_of(host, name, sizeof name) < 0) {
    fprintf(stderr, "bildfunk: wake: '%.64s...' is longer than any pin name\n", host);
    return 1;
  }
  bf_wake_entry e;
  if (bf_wake_book_get(config_dir, name, &e) < 0) {
    fprintf(stderr,
            "bildfunk: wake: no MAC address known for '%s': pair it (bildfunk pair %s) or "
            "connect once while it is awake, and see bildfunk list for the names\n",
            name, host);
    return 1;
  }
  size_t sent = send_packets(&e);
  char macs[BF_CTL_MAX_MACS * BF_MAC_TEXT + 1] = "";
  for (size_t k = 0; k < e.count; k++) {
    char m[BF_MAC_TEXT];
    bf_mac_format(e.mac[k], m);
    snprintf(macs + strlen(macs), sizeof macs - strlen(macs), "%s%s", k ? " " : "", m);
  }
  if (!sent) {
    fprintf(stderr, "bildfunk: wake: no magic packet for %s could be sent\n", name);
    return 1;
  }
  fprintf(
      stderr,
      "bildfunk: wake: sent %zu magic packet%s for %s (MAC %s) to UDP port %u (broadcast%s%s)\n",
      sent, sent == 1 ? "" : "s", name, macs, (unsigned)BF_WAKE_PORT, e.ip[0] ? " and " : "", e.ip);
  return 0;
}

/* 1 when a TCP connection to |a| opens within |ms|. */
static int port_answers(const bf_addr *a, int ms) {
  int fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  int ok = 0;
  if (connect(fd, (const struct sockaddr *)&a->ss, a->len) == 0) {
    ok = 1;
  } else if (errno == EINPROGRESS) {
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    int err = 0;
    socklen_t el = sizeof err;
    if (poll(&p, 1, ms) == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) == 0 && !err)
      ok = 1;
  }
  close(fd);
  if (!ok) usleep((useconds_t)ms * 1000u); /* refused at once: do not spin */
  return ok;
}

int bf_wake_and_wait(const char *config_dir, const char *host, uint16_t default_port,
                     unsigned wait_s) {
  if (bf_wake_cmd(config_dir, host) != 0) return 1;
  const uint64_t t0 = bf_clock_mono_ns(), end = t0 + (uint64_t)wait_s * 1000000000u;
  uint64_t next_say = t0 + 5000000000u;
  bf_addr a;
  for (;;) {
    /* resolved again each time: a name may only resolve once the host is up */
    if (bf_addr_parse(host, default_port, &a) == 0 && port_answers(&a, 500)) break;
    const uint64_t now = bf_clock_mono_ns();
    if (now >= end) {
      fprintf(stderr,
              "bildfunk: wake: %s did not answer within %u s (is Wake-on-LAN on in its "
              "firmware and network card?)\n",
              host, wait_s);
      return 1;
    }
    if (now >= next_say) {
      fprintf(stderr, "bildfunk: wake: waiting for %s ... %.0f s\n", host,
              (double)(now - t0) / 1e9);
      next_say += 5000000000u;
    }
    if (bf_addr_parse(host, default_port, &a) != 0) usleep(500000);
  }
  fprintf(stderr, "bildfunk: wake: %s answers after %.1f s\n", host,
          (double)(bf_clock_mono_ns() - t0) / 1e9);
  return 0;
}
