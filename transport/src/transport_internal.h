/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Internal: helpers shared by the transport implementations (transport.c,
 * udp_*.c, loopback.c). Not part of the public API.
 */
#ifndef BF__TRANSPORT_INTERNAL_H
#define BF__TRANSPORT_INTERNAL_H

#include <bildfunk/transport.h>

/* Linux GSO: at most this many segments per UDP_SEGMENT send (the kernel's
 * own limit is UDP_MAX_SEGMENTS, 64 on older kernels). */
#define BF__GSO_MAX_SEGS 64u
/* Windows USO: at most this many segments per WSASendMsg. */
#define BF__USO_MAX_SEGS 512u
/* Payload bytes of one offloaded send (the largest IPv4 UDP payload). */
#define BF__GSO_MAX_BYTES 65507u
/* sendmmsg chunk. */
#define BF__SEND_CHUNK 64u
/* Socket buffer request and the size below which we warn once. */
#define BF__SOCK_BUF_DEFAULT (32u << 20)
#define BF__SOCK_BUF_WARN (8u << 20)

/* One-time network initialisation (WSAStartup on Windows, nothing on POSIX).
 * Returns 0 or a negative errno. Defined by the platform's udp file. */
int bf__net_init(void);

/* Process-wide offload latch (transport.c). bf__offload_fail turns it off
 * and prints one warning naming |what| and the error. */
int bf__offload_on(void);
void bf__offload_fail(const char *what, int err);

/* Prints the socket-buffer warning at most once per process. */
void bf__warn_sock_buf(size_t want, size_t got_snd, size_t got_rcv);

/* Length of the whole datagram. */
static inline size_t bf__dgram_len(const bf_dgram *d) {
  return d->head_len + d->body_len;
}

/* 1 when |d[0..n)| all have the size of d[0] except that the last may be
 * shorter (and non-empty): what one offloaded send can carry. */
int bf__dgrams_uniform(const bf_dgram *d, size_t n);

/* recv_batch for transports without a batched receive call: fills |ring|
 * with one t->ops->recv per datagram until nothing is pending or the ring is
 * full. Returns the count, or a negative errno when the first recv failed. */
int bf__recv_batch_each(bf_transport *t, bf_recv_ring *ring);

/* |in| rewritten for a socket of |family| (AF_INET <-> v4-mapped AF_INET6).
 * Returns 0, or -EAFNOSUPPORT when it cannot be expressed. */
int bf__addr_for_family(const bf_addr *in, int family, bf_addr *out);

#endif /* BF__TRANSPORT_INTERNAL_H */
