/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * UDP on Windows (Winsock 2): one WSASendTo per datagram (two WSABUFs, no
 * copy), UDP segmentation offload (USO) for equal-size runs through
 * WSASendMsg with a UDP_SEND_MSG_SIZE control message (<= 512 segments and
 * <= 65507 bytes per call) behind the process-wide offload latch, and a
 * scalar receive (recvfrom). WSAEMSGSIZE on receive is an oversize datagram:
 * dropped and counted.
 *
 * Offload is probed on a socket's first send_gso: setsockopt(UDP_SEND_MSG_SIZE)
 * failing with WSAEINVAL (10022), WSAENOPROTOOPT (10042), WSAEOPNOTSUPP
 * (10045) or WSAEMSGSIZE (10040) -- wine answers 10022 -- latches offload off
 * for the process; a WSASendMsg failing with one of them does the same, and
 * the rest of the batch goes datagram by datagram.
 *
 * Not here: DSCP (Windows ignores IP_TOS; marking needs the qWAVE API), the
 * kernel drop counter (kernel_drops stays 0), receive offload.
 */
#include "transport_internal.h"

#include <winsock2.h>
#include <ws2tcpip.h>
#include <mswsock.h>
#include <windows.h>

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#ifndef UDP_SEND_MSG_SIZE
#define UDP_SEND_MSG_SIZE 2
#endif
#ifndef SIO_UDP_CONNRESET
#define SIO_UDP_CONNRESET _WSAIOW(IOC_VENDOR, 12)
#endif
#ifndef EHOSTDOWN
#define EHOSTDOWN EHOSTUNREACH
#endif

#define MAX_SKIPS 64

typedef struct win_udp {
  bf_transport base; /* first */
  SOCKET s;
  int family;
  bf_addr dst; /* peer in the socket's family */
  int gso;
  unsigned gso_segs;
  int uso_probed;                    /* 1 = this socket accepted UDP_SEND_MSG_SIZE */
  WSABUF bufs[2 * BF__USO_MAX_SEGS]; /* sending thread only */
} win_udp;

int bf__net_init(void) {
  static atomic_int ready;
  if (atomic_load(&ready)) return 0;
  WSADATA w;
  if (WSAStartup(MAKEWORD(2, 2), &w) != 0) return -EIO;
  atomic_store(&ready, 1); /* a racing second WSAStartup only bumps a count */
  return 0;
}

static int map_wsa(int w) {
  switch (w) {
  case WSAEWOULDBLOCK:
    return EAGAIN;
  case WSAECONNRESET:
    return ECONNRESET;
  case WSAECONNREFUSED:
    return ECONNREFUSED;
  case WSAENOBUFS:
    return ENOBUFS;
  case WSAENETUNREACH:
    return ENETUNREACH;
  case WSAEHOSTUNREACH:
    return EHOSTUNREACH;
  case WSAENETDOWN:
    return ENETDOWN;
  case WSAEHOSTDOWN:
    return EHOSTDOWN;
  case WSAEADDRINUSE:
    return EADDRINUSE;
  case WSAEADDRNOTAVAIL:
    return EADDRNOTAVAIL;
  case WSAEACCES:
    return EACCES;
  case WSAEMSGSIZE:
    return EMSGSIZE;
  case WSAEINVAL:
    return EINVAL;
  case WSAEAFNOSUPPORT:
    return EAFNOSUPPORT;
  case WSAENOPROTOOPT:
    return ENOPROTOOPT;
  case WSAEOPNOTSUPP:
    return EOPNOTSUPP;
  default:
    return EIO;
  }
}

static int transient_wsa(int w) {
  return w == WSAEWOULDBLOCK || w == WSAECONNRESET || w == WSAECONNREFUSED || w == WSAENOBUFS ||
         w == WSAENETUNREACH || w == WSAEHOSTUNREACH || w == WSAENETDOWN || w == WSAEHOSTDOWN;
}

static int uso_latch_error(int w) {
  return w == WSAEINVAL || w == WSAENOPROTOOPT || w == WSAEOPNOTSUPP || w == WSAEMSGSIZE;
}

static int win_send(bf_transport *t, const bf_dgram *d) {
  win_udp *u = (win_udp *)t;
  if (!u->dst.len) return -EDESTADDRREQ;
  WSABUF b[2] = {{(ULONG)d->head_len, (CHAR *)(uintptr_t)d->head},
                 {(ULONG)d->body_len, (CHAR *)(uintptr_t)d->body}};
  DWORD sent = 0;
  int rc = WSASendTo(u->s, b, d->body_len ? 2 : 1, &sent, 0, (const struct sockaddr *)&u->dst.ss,
                     (int)u->dst.len, NULL, NULL);
  t->stats.tx_calls++;
  if (rc == 0) {
    t->stats.tx_packets++;
    t->stats.tx_bytes += sent;
    return 1;
  }
  int w = WSAGetLastError();
  if (transient_wsa(w)) {
    t->stats.tx_dropped++;
    return 0;
  }
  return -map_wsa(w);
}

static int win_send_batch(bf_transport *t, const bf_dgram *d, size_t n) {
  for (size_t i = 0; i < n; i++) {
    int r = win_send(t, &d[i]);
    if (r == 1) continue;
    if (r < 0 && i == 0) return r;
    t->stats.tx_dropped += (uint64_t)(n - i - (r == 0 ? 1 : 0));
    return (int)i;
  }
  return (int)n;
}

/* First offloaded send on this socket: ask for USO once. Returns 1 usable. */
static int uso_probe(win_udp *u, size_t seg) {
  if (u->uso_probed) return 1;
  DWORD v = (DWORD)seg;
  if (setsockopt(u->s, IPPROTO_UDP, UDP_SEND_MSG_SIZE, (const char *)&v, sizeof v) != 0) {
    int w = WSAGetLastError();
    if (uso_latch_error(w)) bf__offload_fail("Windows USO (UDP_SEND_MSG_SIZE)", w);
    return 0;
  }
  v = 0; /* per-send sizes come in the control message */
  (void)setsockopt(u->s, IPPROTO_UDP, UDP_SEND_MSG_SIZE, (const char *)&v, sizeof v);
  u->uso_probed = 1;
  return 1;
}

static int win_send_gso(bf_transport *t, const bf_dgram *d, size_t n) {
  win_udp *u = (win_udp *)t;
  if (!u->dst.len) return -EDESTADDRREQ;
  t->stats.gso_active = u->gso && bf__offload_on();
  if (!t->stats.gso_active || n < 2 || !bf__dgrams_uniform(d, n)) return win_send_batch(t, d, n);
  size_t seg = bf__dgram_len(&d[0]);
  size_t per = BF__GSO_MAX_BYTES / seg;
  if (per > u->gso_segs) per = u->gso_segs;
  if (per < 2) return win_send_batch(t, d, n);
  if (!uso_probe(u, seg)) {
    t->stats.gso_active = u->gso && bf__offload_on();
    return win_send_batch(t, d, n);
  }
  size_t msgs = (n + per - 1) / per;
  per = (n + msgs - 1) / msgs;
  size_t done = 0;
  while (done < n) {
    size_t k = n - done < per ? n - done : per, nb = 0;
    for (size_t j = 0; j < k; j++) {
      const bf_dgram *x = &d[done + j];
      u->bufs[nb].buf = (CHAR *)(uintptr_t)x->head;
      u->bufs[nb++].len = (ULONG)x->head_len;
      if (x->body_len) {
        u->bufs[nb].buf = (CHAR *)(uintptr_t)x->body;
        u->bufs[nb++].len = (ULONG)x->body_len;
      }
    }
/* the mingw-w64 WSA_CMSG_* and FIONBIO macros mix signed and unsigned */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wsign-conversion"
    union {
      WSACMSGHDR align;
      char b[WSA_CMSG_SPACE(sizeof(DWORD))];
    } ctrl;
    memset(&ctrl, 0, sizeof ctrl);
    WSAMSG m;
    memset(&m, 0, sizeof m);
    m.name = (LPSOCKADDR)&u->dst.ss;
    m.namelen = (INT)u->dst.len;
    m.lpBuffers = u->bufs;
    m.dwBufferCount = (DWORD)nb;
    m.Control.buf = ctrl.b;
    m.Control.len = sizeof ctrl.b;
    WSACMSGHDR *c = WSA_CMSG_FIRSTHDR(&m);
    c->cmsg_len = WSA_CMSG_LEN(sizeof(DWORD));
    c->cmsg_level = IPPROTO_UDP;
    c->cmsg_type = UDP_SEND_MSG_SIZE;
    DWORD s32 = (DWORD)seg;
    memcpy(WSA_CMSG_DATA(c), &s32, sizeof s32);
#pragma GCC diagnostic pop
    DWORD sent = 0;
    int rc = WSASendMsg(u->s, &m, 0, &sent, NULL, NULL);
    t->stats.tx_calls++;
    if (rc == 0) {
      t->stats.tx_gso_calls++;
      t->stats.tx_packets += k;
      t->stats.tx_bytes += sent;
      done += k;
      continue;
    }
    int w = WSAGetLastError();
    if (uso_latch_error(w)) {
      bf__offload_fail("Windows USO (WSASendMsg)", w);
      t->stats.gso_active = 0;
      int rest = win_send_batch(t, d + done, n - done);
      if (rest < 0) return done ? (int)done : rest;
      return (int)done + rest;
    }
    if (!transient_wsa(w) && done == 0) return -map_wsa(w);
    t->stats.tx_dropped += (uint64_t)(n - done);
    break;
  }
  return (int)done;
}

static int win_recv(bf_transport *t, uint8_t *buf, size_t cap, bf_addr *from) {
  win_udp *u = (win_udp *)t;
  size_t want = cap < BF_RECV_BUF_BYTES ? cap : BF_RECV_BUF_BYTES;
  bf_addr tmp;
  if (!from) from = &tmp;
  for (int i = 0; i < MAX_SKIPS; i++) {
    int fl = (int)sizeof from->ss;
    int r = recvfrom(u->s, (char *)buf, (int)want, 0, (struct sockaddr *)&from->ss, &fl);
    if (r == SOCKET_ERROR) {
      int w = WSAGetLastError();
      if (w == WSAEWOULDBLOCK) return 0;
      if (w == WSAEMSGSIZE) { /* longer than the buffer: discarded */
        t->stats.rx_calls++;
        t->stats.rx_oversize++;
        continue;
      }
      if (transient_wsa(w)) {
        t->stats.rx_transient++;
        continue;
      }
      return -map_wsa(w);
    }
    from->len = (socklen_t)fl;
    t->stats.rx_calls++;
    if (r == 0) continue; /* an empty datagram carries nothing: skipped */
    if ((size_t)r > BF_MAX_DATAGRAM) {
      t->stats.rx_oversize++;
      continue;
    }
    t->stats.rx_packets++;
    t->stats.rx_bytes += (uint64_t)r;
    return r;
  }
  return 0;
}

static int win_recv_batch(bf_transport *t, bf_recv_ring *ring) {
  return bf__recv_batch_each(t, ring);
}

static int win_wait(bf_transport *t, int timeout_ms) {
  win_udp *u = (win_udp *)t;
  fd_set rd;
  FD_ZERO(&rd);
  FD_SET(u->s, &rd);
  struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  int r = select(0, &rd, NULL, NULL, timeout_ms < 0 ? NULL : &tv);
  if (r == SOCKET_ERROR) return -map_wsa(WSAGetLastError());
  return r > 0 ? 1 : 0;
}

static int win_local_addr(const bf_transport *t, bf_addr *out) {
  const win_udp *u = (const win_udp *)t;
  memset(out, 0, sizeof *out);
  int l = (int)sizeof out->ss;
  if (getsockname(u->s, (struct sockaddr *)&out->ss, &l) != 0) return -map_wsa(WSAGetLastError());
  out->len = (socklen_t)l;
  return 0;
}

static void win_peer_changed(bf_transport *t) {
  win_udp *u = (win_udp *)t;
  memset(&u->dst, 0, sizeof u->dst);
  if (t->peer.len && bf__addr_for_family(&t->peer, u->family, &u->dst) != 0)
    memset(&u->dst, 0, sizeof u->dst);
}

static void win_close(bf_transport *t) {
  win_udp *u = (win_udp *)t;
  if (u->s != INVALID_SOCKET) closesocket(u->s);
  free(u);
}

static const bf_transport_ops win_ops = {
    .send = win_send,
    .send_batch = win_send_batch,
    .send_gso = win_send_gso,
    .recv = win_recv,
    .recv_batch = win_recv_batch,
    .close = win_close,
    .wait = win_wait,
    .local_addr = win_local_addr,
    .peer_changed = win_peer_changed,
};

static size_t set_buf(SOCKET s, int opt, size_t want) {
  int v = want > 0x7fffffff ? 0x7fffffff : (int)want;
  (void)setsockopt(s, SOL_SOCKET, opt, (const char *)&v, sizeof v);
  int got = 0, l = sizeof got;
  if (getsockopt(s, SOL_SOCKET, opt, (char *)&got, &l) != 0 || got < 0) got = 0;
  return (size_t)got;
}

int bf_udp_open(const bf_udp_config *cfg, bf_transport **out) {
  bf_udp_config def;
  if (!cfg) {
    bf_udp_config_default(&def);
    cfg = &def;
  }
  int rc = bf__net_init();
  if (rc < 0) return rc;
  bf_addr b;
  rc = bf_addr_parse(cfg->bind ? cfg->bind : "0.0.0.0:0", 0, &b);
  if (rc < 0) return rc == -ENOENT ? rc : -EINVAL;
  win_udp *u = calloc(1, sizeof *u);
  if (!u) return -ENOMEM;
  u->base.fd = -1;
  u->base.ops = &win_ops;
  u->family = b.ss.ss_family;
  u->s = socket(u->family, SOCK_DGRAM, IPPROTO_UDP);
  if (u->s == INVALID_SOCKET) {
    rc = -map_wsa(WSAGetLastError());
    free(u);
    return rc;
  }
  u_long nb = 1;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wsign-conversion"
  if (ioctlsocket(u->s, FIONBIO, &nb) != 0) goto fail;
#pragma GCC diagnostic pop
  if (u->family == AF_INET6) {
    DWORD off = 0;
    (void)setsockopt(u->s, IPPROTO_IPV6, IPV6_V6ONLY, (const char *)&off, sizeof off);
  }
  if (bind(u->s, (const struct sockaddr *)&b.ss, (int)b.len) != 0) goto fail;
  /* no WSAECONNRESET on later receives after an ICMP port unreachable */
  BOOL no = FALSE;
  DWORD ret = 0;
  (void)WSAIoctl(u->s, SIO_UDP_CONNRESET, &no, sizeof no, NULL, 0, &ret, NULL, NULL);
  size_t want = cfg->sock_buf ? cfg->sock_buf : BF__SOCK_BUF_DEFAULT;
  size_t snd = set_buf(u->s, SO_SNDBUF, want), rcv = set_buf(u->s, SO_RCVBUF, want);
  size_t floor = want < BF__SOCK_BUF_WARN ? want : BF__SOCK_BUF_WARN;
  if (!cfg->quiet && (snd < floor || rcv < floor)) bf__warn_sock_buf(want, snd, rcv);
  u->gso = cfg->gso && !cfg->scalar;
  u->gso_segs =
      cfg->gso_segs && cfg->gso_segs < BF__USO_MAX_SEGS ? cfg->gso_segs : BF__USO_MAX_SEGS;
  u->base.stats.gso_active = u->gso && bf__offload_on();
  *out = &u->base;
  return 0;
fail:
  rc = -map_wsa(WSAGetLastError());
  closesocket(u->s);
  free(u);
  return rc;
}
