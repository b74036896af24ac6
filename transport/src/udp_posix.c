/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * UDP on POSIX systems: socket setup shared with udp_linux.c (bind, 32 MiB
 * buffers, kernel drop counter, DSCP toward private peers) and the portable
 * scalar path, one sendmsg/recvmsg per datagram. On Linux the scalar path is
 * what cfg.scalar selects; elsewhere it is the only one.
 *
 * Not here: batching (udp_linux.c), Windows (udp_win32.c).
 */
#include "udp_posix.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* A datagram that is not ready to be handed on is dropped and the next one
 * read; this bounds how many a single recv skips. */
#define MAX_SKIPS 64

int bf__net_init(void) {
  return 0;
}

int bf__udp_transient(int err) {
  switch (err) {
  case EAGAIN:
#if EWOULDBLOCK != EAGAIN
  case EWOULDBLOCK:
#endif
  case ECONNREFUSED:
  case ECONNRESET:
  case ENOBUFS:
  case ENETUNREACH:
  case EHOSTUNREACH:
  case ENETDOWN:
#ifdef EHOSTDOWN
  case EHOSTDOWN:
#endif
    return 1;
  default:
    return 0;
  }
}

static size_t set_buf(int fd, int opt, int force_opt, size_t want) {
  int v = want > (size_t)INT_MAX ? INT_MAX : (int)want;
  if (force_opt < 0 || setsockopt(fd, SOL_SOCKET, force_opt, &v, sizeof v) != 0)
    (void)setsockopt(fd, SOL_SOCKET, opt, &v, sizeof v);
  int got = 0;
  socklen_t l = sizeof got;
  if (getsockopt(fd, SOL_SOCKET, opt, &got, &l) != 0 || got < 0) got = 0;
  return (size_t)got;
}

int bf__udp_socket(const bf_udp_config *cfg, bf__udp *u) {
  bf_addr b;
  int rc = bf_addr_parse(cfg->bind ? cfg->bind : "0.0.0.0:0", 0, &b);
  if (rc < 0) return rc == -ENOENT ? rc : -EINVAL;
  int fd = socket(b.ss.ss_family, SOCK_DGRAM, 0);
  if (fd < 0) return -errno;
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
    rc = -errno;
    close(fd);
    return rc;
  }
  if (b.ss.ss_family == AF_INET6) {
    int off = 0; /* dual stack: IPv4 peers as v4-mapped */
    (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
  }
  if (bind(fd, (const struct sockaddr *)&b.ss, b.len) != 0) {
    rc = -errno;
    close(fd);
    return rc;
  }
  size_t want = cfg->sock_buf ? cfg->sock_buf : BF__SOCK_BUF_DEFAULT;
#ifdef SO_SNDBUFFORCE
  size_t snd = set_buf(fd, SO_SNDBUF, SO_SNDBUFFORCE, want);
  size_t rcv = set_buf(fd, SO_RCVBUF, SO_RCVBUFFORCE, want);
#else
  size_t snd = set_buf(fd, SO_SNDBUF, -1, want);
  size_t rcv = set_buf(fd, SO_RCVBUF, -1, want);
#endif
  size_t floor = want < BF__SOCK_BUF_WARN ? want : BF__SOCK_BUF_WARN;
  if (!cfg->quiet && (snd < floor || rcv < floor)) bf__warn_sock_buf(want, snd, rcv);
#ifdef SO_RXQ_OVFL
  int one = 1;
  (void)setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof one);
#endif
  u->base.fd = fd;
  u->family = b.ss.ss_family;
  u->dscp = cfg->dscp;
  u->gso = cfg->gso;
  return 0;
}

void bf__udp_peer_changed(bf_transport *t) {
  bf__udp *u = (bf__udp *)t;
  memset(&u->dst, 0, sizeof u->dst);
  if (t->peer.len && bf__addr_for_family(&t->peer, u->family, &u->dst) != 0)
    memset(&u->dst, 0, sizeof u->dst);
  int on = u->dscp == BF_DSCP_ON || (u->dscp == BF_DSCP_AUTO && bf_addr_is_private(&t->peer));
  if (!on && !u->tos_set) return;
  int tos = on ? BF_TOS_CS5 : 0;
  if (u->family == AF_INET6) {
#ifdef IPV6_TCLASS
    (void)setsockopt(t->fd, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof tos);
#endif
  }
  (void)setsockopt(t->fd, IPPROTO_IP, IP_TOS, &tos, sizeof tos);
#ifdef SO_PRIORITY
  /* after IP_TOS, which resets the priority */
  int prio = on ? 5 : 0;
  (void)setsockopt(t->fd, SOL_SOCKET, SO_PRIORITY, &prio, sizeof prio);
#endif
  u->tos_set = on;
}

void bf__udp_note_cmsg(bf__udp *u, struct msghdr *m, int *gro_seg) {
  if (gro_seg) *gro_seg = 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
#ifdef SO_RXQ_OVFL
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
      uint32_t v;
      memcpy(&v, CMSG_DATA(c), sizeof v);
      if (v > u->base.stats.kernel_drops) u->base.stats.kernel_drops = v;
    }
#endif
#ifdef UDP_GRO
    if (gro_seg && c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
      int v;
      memcpy(&v, CMSG_DATA(c), sizeof v);
      *gro_seg = v;
    }
#endif
  }
}

int bf__udp_send(bf_transport *t, const bf_dgram *d) {
  bf__udp *u = (bf__udp *)t;
  if (!u->dst.len) return -EDESTADDRREQ;
  struct iovec iov[2] = {{(void *)d->head, d->head_len}, {(void *)d->body, d->body_len}};
  struct msghdr m;
  memset(&m, 0, sizeof m);
  m.msg_name = &u->dst.ss;
  m.msg_namelen = u->dst.len;
  m.msg_iov = iov;
  m.msg_iovlen = d->body_len ? 2 : 1;
  for (;;) {
    ssize_t r = sendmsg(t->fd, &m, 0);
    t->stats.tx_calls++;
    if (r >= 0) {
      t->stats.tx_packets++;
      t->stats.tx_bytes += (uint64_t)r;
      return 1;
    }
    int e = errno;
    if (e == EINTR) continue;
    if (bf__udp_transient(e)) {
      t->stats.tx_dropped++;
      return 0;
    }
    return -e;
  }
}

int bf__udp_send_batch(bf_transport *t, const bf_dgram *d, size_t n) {
  for (size_t i = 0; i < n; i++) {
    int r = t->ops->send(t, &d[i]);
    if (r == 1) continue;
    if (r < 0 && i == 0) return r;
    /* the failed one is already counted when r == 0 */
    t->stats.tx_dropped += (uint64_t)(n - i - (r == 0 ? 1 : 0));
    return (int)i;
  }
  return (int)n;
}

static int send_gso_scalar(bf_transport *t, const bf_dgram *d, size_t n) {
  return bf__udp_send_batch(t, d, n);
}

/* One recvmsg into |buf| (up to |cap| bytes). Returns the length; -1 when
 * recvmsg failed (errno in |*err|, EAGAIN = nothing pending); -2 when the
 * datagram was longer than |cap| (truncated by the kernel). */
static ssize_t read_one(bf__udp *u, uint8_t *buf, size_t cap, bf_addr *from, int *gro_seg,
                        int *err) {
  union {
    struct cmsghdr align;
    uint8_t b[CMSG_SPACE(sizeof(uint32_t)) + CMSG_SPACE(sizeof(int))];
  } ctrl;
  struct iovec iov = {buf, cap};
  struct msghdr m;
  memset(&m, 0, sizeof m);
  m.msg_name = &from->ss;
  m.msg_namelen = sizeof from->ss;
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = ctrl.b;
  m.msg_controllen = sizeof ctrl.b;
  ssize_t r;
  do {
    r = recvmsg(u->base.fd, &m, 0);
  } while (r < 0 && errno == EINTR);
  if (r < 0) {
    *err = errno;
    return -1;
  }
  *err = 0;
  from->len = m.msg_namelen;
  bf__udp_note_cmsg(u, &m, gro_seg);
  if (m.msg_flags & MSG_TRUNC) return -2;
  return r;
}

int bf__udp_recv(bf_transport *t, uint8_t *buf, size_t cap, bf_addr *from) {
  bf__udp *u = (bf__udp *)t;
  size_t want = cap < BF_RECV_BUF_BYTES ? cap : BF_RECV_BUF_BYTES;
  bf_addr tmp;
  if (!from) from = &tmp;
  for (int i = 0; i < MAX_SKIPS; i++) {
    int err;
    ssize_t r = read_one(u, buf, want, from, NULL, &err);
    if (r == -1) {
      if (err == EAGAIN || err == EWOULDBLOCK) return 0;
      if (bf__udp_transient(err)) {
        t->stats.rx_transient++;
        continue;
      }
      return -err;
    }
    t->stats.rx_calls++;
    if (r == 0) continue; /* an empty datagram carries nothing: skipped */
    if (r == -2 || r > (ssize_t)BF_MAX_DATAGRAM) {
      t->stats.rx_oversize++;
      continue;
    }
    t->stats.rx_packets++;
    t->stats.rx_bytes += (uint64_t)r;
    return (int)r;
  }
  return 0;
}

int bf__udp_recv_batch(bf_transport *t, bf_recv_ring *ring) {
  return bf__recv_batch_each(t, ring);
}

int bf__udp_wait(bf_transport *t, int timeout_ms) {
  struct pollfd p = {t->fd, POLLIN, 0};
  int r = poll(&p, 1, timeout_ms);
  if (r < 0) return errno == EINTR ? 0 : -errno;
  return r > 0 ? 1 : 0;
}

int bf__udp_local_addr(const bf_transport *t, bf_addr *out) {
  memset(out, 0, sizeof *out);
  socklen_t l = sizeof out->ss;
  if (getsockname(t->fd, (struct sockaddr *)&out->ss, &l) != 0) return -errno;
  out->len = l;
  return 0;
}

void bf__udp_close(bf_transport *t) {
  bf__udp *u = (bf__udp *)t;
  if (t->fd >= 0) close(t->fd);
  free(u->scratch);
  free(u);
}

const bf_transport_ops bf__udp_scalar_ops = {
    .send = bf__udp_send,
    .send_batch = bf__udp_send_batch,
    .send_gso = send_gso_scalar,
    .recv = bf__udp_recv,
    .recv_batch = bf__udp_recv_batch,
    .close = bf__udp_close,
    .wait = bf__udp_wait,
    .local_addr = bf__udp_local_addr,
    .peer_changed = bf__udp_peer_changed,
};

#if !defined(__linux__)
/* Elsewhere the scalar path is the only UDP transport; on Linux udp_linux.c
 * provides bf_udp_open and picks between it and the batched one. */
int bf_udp_open(const bf_udp_config *cfg, bf_transport **out) {
  bf_udp_config def;
  if (!cfg) {
    bf_udp_config_default(&def);
    cfg = &def;
  }
  bf__udp *u = calloc(1, sizeof *u);
  if (!u) return -ENOMEM;
  u->base.fd = -1;
  int rc = bf__udp_socket(cfg, u);
  if (rc < 0) {
    free(u);
    return rc;
  }
  u->base.ops = &bf__udp_scalar_ops;
  *out = &u->base;
  return 0;
}
#endif
