/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Internal: the POSIX UDP socket shared by udp_posix.c (socket setup and the
 * portable scalar path) and udp_linux.c (recvmmsg, sendmmsg, GSO, GRO).
 */
#ifndef BF__UDP_POSIX_H
#define BF__UDP_POSIX_H

#include "transport_internal.h"

typedef struct bf__udp {
  bf_transport base; /* first: a bf__udp * is a bf_transport * */
  int family;        /* AF_INET or AF_INET6, of the socket */
  bf_addr dst;       /* base.peer in the socket's family; len 0 = none */
  int dscp;          /* cfg->dscp */
  int tos_set;       /* a TOS other than 0 is on the socket */
  int gso;           /* cfg->gso */
  unsigned gso_segs; /* segments per offloaded send */
  int gro;           /* UDP_GRO is on */
  /* bf_recv on a GRO socket: one coalesced read, handed out a segment per
   * call. Allocated at open when gro is on (BF_RECV_GRO_BUF_BYTES). */
  uint8_t *scratch;
  size_t scratch_len, scratch_off, scratch_seg;
  bf_addr scratch_from;
} bf__udp;

/* Opens, binds and configures the socket of |u| (fd, family, buffers,
 * SO_RXQ_OVFL, non-blocking). |u| is zeroed by the caller. Returns 0 or a
 * negative errno; on error nothing is left open. */
int bf__udp_socket(const bf_udp_config *cfg, bf__udp *u);

/* 1 for the errors that mean "this datagram is lost" rather than "the
 * socket is broken". */
int bf__udp_transient(int err);

/* The portable one-datagram-per-syscall operations (also the ops table used
 * on Linux with cfg.scalar). */
int bf__udp_send(bf_transport *t, const bf_dgram *d);
int bf__udp_send_batch(bf_transport *t, const bf_dgram *d, size_t n);
int bf__udp_recv(bf_transport *t, uint8_t *buf, size_t cap, bf_addr *from);
int bf__udp_recv_batch(bf_transport *t, bf_recv_ring *ring);
void bf__udp_close(bf_transport *t);
int bf__udp_wait(bf_transport *t, int timeout_ms);
int bf__udp_local_addr(const bf_transport *t, bf_addr *out);
void bf__udp_peer_changed(bf_transport *t);
extern const bf_transport_ops bf__udp_scalar_ops;

/* Reads the SO_RXQ_OVFL counter out of a received message's control data. */
struct msghdr;
void bf__udp_note_cmsg(bf__udp *u, struct msghdr *m, int *gro_seg);

#endif /* BF__UDP_POSIX_H */
