/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Socket addresses: parse "host:port" forms, print them, compare them (IPv4
 * and IPv4-mapped IPv6 are the same address), classify private ranges (for
 * DSCP) and convert between socket families. Name resolution happens only in
 * bf_addr_parse, and only for a host that is not a numeric address.
 */
#include "transport_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if !defined(_WIN32)
#include <arpa/inet.h>
#include <netdb.h>
#endif

static int parse_port(const char *s, uint16_t *out) {
  if (!*s) return -EINVAL;
  unsigned long v = 0;
  for (const char *p = s; *p; p++) {
    if (*p < '0' || *p > '9') return -EINVAL;
    v = v * 10 + (unsigned long)(*p - '0');
    if (v > 65535) return -EINVAL;
  }
  *out = (uint16_t)v;
  return 0;
}

static int resolve(const char *host, uint16_t port, int numeric_only, bf_addr *out) {
  struct addrinfo hints, *res = NULL;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_flags = numeric_only ? AI_NUMERICHOST : 0;
  char service[8];
  snprintf(service, sizeof service, "%u", (unsigned)port);
  if (getaddrinfo(host, service, &hints, &res) != 0 || !res) return -ENOENT;
  /* Prefer IPv4 when a name has both: the other side binds 0.0.0.0 by default. */
  const struct addrinfo *pick = res;
  for (const struct addrinfo *ai = res; ai; ai = ai->ai_next)
    if (ai->ai_family == AF_INET) {
      pick = ai;
      break;
    }
  int rc = -ENOENT;
  if ((size_t)pick->ai_addrlen <= sizeof out->ss) {
    memset(out, 0, sizeof *out);
    memcpy(&out->ss, pick->ai_addr, (size_t)pick->ai_addrlen);
    out->len = (socklen_t)pick->ai_addrlen;
    rc = 0;
  }
  freeaddrinfo(res);
  return rc;
}

int bf_addr_parse(const char *text, uint16_t default_port, bf_addr *out) {
  if (!text || !out) return -EINVAL;
  char host[256];
  uint16_t port = default_port;
  size_t n = strlen(text);
  if (n >= sizeof host) return -EINVAL;
  int rc = bf__net_init();
  if (rc < 0) return rc;
  if (text[0] == '[') { /* [v6]:port or [v6] */
    const char *close = strchr(text, ']');
    if (!close || close == text + 1) return -EINVAL;
    size_t hl = (size_t)(close - text - 1);
    memcpy(host, text + 1, hl);
    host[hl] = 0;
    if (close[1] == ':') {
      if (parse_port(close + 2, &port) != 0) return -EINVAL;
    } else if (close[1] != 0) {
      return -EINVAL;
    }
    if (!strchr(host, ':')) return -EINVAL;
    return resolve(host, port, 1, out) == 0 ? 0 : -EINVAL;
  }
  const char *colon = strchr(text, ':');
  if (colon && strchr(colon + 1, ':')) { /* bare IPv6, no port */
    memcpy(host, text, n + 1);
    return resolve(host, port, 1, out) == 0 ? 0 : -EINVAL;
  }
  if (colon) {
    size_t hl = (size_t)(colon - text);
    memcpy(host, text, hl);
    host[hl] = 0;
    if (parse_port(colon + 1, &port) != 0) return -EINVAL;
  } else {
    memcpy(host, text, n + 1);
  }
  if (host[0] == 0) strcpy(host, "0.0.0.0");
  if (resolve(host, port, 1, out) == 0) return 0;
  /* A name: letters, digits, '-', '.', '_' only. */
  for (const char *p = host; *p; p++) {
    char c = *p;
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
          c == '.' || c == '_'))
      return -EINVAL;
  }
  return resolve(host, port, 0, out);
}

/* IPv4 view of |a|: 1 and the address in network order when |a| is IPv4 or
 * IPv4-mapped IPv6. */
static int v4_of(const bf_addr *a, uint32_t *ip, uint16_t *port) {
  if (a->ss.ss_family == AF_INET) {
    const struct sockaddr_in *s = (const struct sockaddr_in *)&a->ss;
    memcpy(ip, &s->sin_addr, 4);
    *port = s->sin_port;
    return 1;
  }
  if (a->ss.ss_family == AF_INET6) {
    const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)&a->ss;
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(s->sin6_addr.s6_addr, mapped, 12) == 0) {
      memcpy(ip, s->sin6_addr.s6_addr + 12, 4);
      *port = s->sin6_port;
      return 1;
    }
  }
  return 0;
}

const char *bf_addr_format(const bf_addr *a, char *buf, size_t cap) {
  if (cap == 0) return buf;
  char ip[INET6_ADDRSTRLEN] = "?";
  unsigned port = 0;
  if (!a || a->len == 0) {
    snprintf(buf, cap, "(unset)");
    return buf;
  }
  if (a->ss.ss_family == AF_INET) {
    const struct sockaddr_in *s = (const struct sockaddr_in *)&a->ss;
    inet_ntop(AF_INET, &s->sin_addr, ip, sizeof ip);
    port = ntohs(s->sin_port);
    snprintf(buf, cap, "%s:%u", ip, port);
  } else if (a->ss.ss_family == AF_INET6) {
    const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)&a->ss;
    inet_ntop(AF_INET6, &s->sin6_addr, ip, sizeof ip);
    port = ntohs(s->sin6_port);
    snprintf(buf, cap, "[%s]:%u", ip, port);
  } else {
    snprintf(buf, cap, "(family %d)", (int)a->ss.ss_family);
  }
  return buf;
}

static int compare(const bf_addr *a, const bf_addr *b, int with_port) {
  if (!a || !b || a->len == 0 || b->len == 0) return 0;
  uint32_t ia = 0, ib = 0;
  uint16_t pa = 0, pb = 0;
  int va = v4_of(a, &ia, &pa), vb = v4_of(b, &ib, &pb);
  if (va || vb) return va && vb && ia == ib && (!with_port || pa == pb);
  if (a->ss.ss_family != AF_INET6 || b->ss.ss_family != AF_INET6) return 0;
  const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)&a->ss;
  const struct sockaddr_in6 *y = (const struct sockaddr_in6 *)&b->ss;
  return memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0 && x->sin6_scope_id == y->sin6_scope_id &&
         (!with_port || x->sin6_port == y->sin6_port);
}

int bf_addr_equal(const bf_addr *a, const bf_addr *b) {
  return compare(a, b, 1);
}
int bf_addr_same_ip(const bf_addr *a, const bf_addr *b) {
  return compare(a, b, 0);
}

int bf_addr_is_private(const bf_addr *a) {
  if (!a || a->len == 0) return 0;
  uint32_t ipn = 0;
  uint16_t port = 0;
  if (v4_of(a, &ipn, &port)) {
    uint32_t ip = ntohl(ipn);
    return (ip >> 24) == 10 || (ip >> 24) == 127 || (ip >> 20) == 0xAC1 /* 172.16/12 */ ||
           (ip >> 16) == 0xC0A8 /* 192.168/16 */ || (ip >> 16) == 0xA9FE /* 169.254/16 */ ||
           (ip >> 22) == (0x64400000u >> 22) /* 100.64/10 */;
  }
  if (a->ss.ss_family != AF_INET6) return 0;
  const uint8_t *b = ((const struct sockaddr_in6 *)&a->ss)->sin6_addr.s6_addr;
  static const uint8_t loop6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  return memcmp(b, loop6, 16) == 0 || (b[0] & 0xfe) == 0xfc /* fc00::/7 */ ||
         (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) /* fe80::/10 */;
}

int bf__addr_for_family(const bf_addr *in, int family, bf_addr *out) {
  uint32_t ip = 0;
  uint16_t port = 0;
  if (in->ss.ss_family == family) {
    *out = *in;
    return 0;
  }
  if (!v4_of(in, &ip, &port)) return -EAFNOSUPPORT;
  memset(out, 0, sizeof *out);
  if (family == AF_INET) {
    struct sockaddr_in *s = (struct sockaddr_in *)&out->ss;
    s->sin_family = AF_INET;
    s->sin_port = port;
    memcpy(&s->sin_addr, &ip, 4);
    out->len = (socklen_t)sizeof *s;
    return 0;
  }
  if (family == AF_INET6) {
    struct sockaddr_in6 *s = (struct sockaddr_in6 *)&out->ss;
    s->sin6_family = AF_INET6;
    s->sin6_port = port;
    s->sin6_addr.s6_addr[10] = 0xff;
    s->sin6_addr.s6_addr[11] = 0xff;
    memcpy(s->sin6_addr.s6_addr + 12, &ip, 4);
    out->len = (socklen_t)sizeof *s;
    return 0;
  }
  return -EAFNOSUPPORT;
}
