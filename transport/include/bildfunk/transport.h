/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Datagram transport: the one interface both sides use to move packets, with
 * implementations for Linux UDP (recvmmsg, sendmmsg, UDP GSO, UDP GRO), a
 * portable scalar UDP path (one recv/send per packet, also selectable on
 * Linux), Windows UDP (USO) and an in-process loopback pair with
 * deterministic impairments for tests.
 *
 * Contract of every implementation:
 *   send        1 = handed to the kernel, 0 = dropped locally (send buffer full
 *               or a transient network error: a counted loss that FEC and
 *               keyframes repair), negative errno = real failure.
 *   send_batch  how many datagrams the kernel took, in order; stops at the
 *               first full buffer (the rest are counted drops). Negative errno
 *               only for a real failure before anything was sent.
 *   send_gso    the same for a batch whose datagrams all have the same size
 *               (the last may be shorter), through segmentation offload where
 *               the system has it; otherwise exactly send_batch.
 *   recv        one datagram into a caller buffer; never blocks; 0 when
 *               nothing is pending.
 *   recv_batch  fills a caller-owned bf_recv_ring; never blocks; returns how
 *               many datagrams it holds now (0 when nothing is pending).
 * Transient errors (EAGAIN, ECONNREFUSED, ECONNRESET, ENOBUFS, ENETUNREACH,
 * EHOSTUNREACH, ENETDOWN, EHOSTDOWN) are counted, never returned as errors.
 * A datagram longer than BF_MAX_DATAGRAM is dropped and counted, never
 * truncated and handed on.
 *
 * Threads: a bf_transport may be used by one sending thread and one receiving
 * thread at the same time; statistics are updated by the thread that does
 * the work (read them as approximate from elsewhere). bf_transport_set_peer
 * belongs to the sending thread.
 *
 * Not here: what the bytes mean (wire.h, feedback.h), the punch schedule
 * (punch.h), encryption. Nothing in this layer queues: a datagram is either
 * in the kernel or counted as dropped when the call returns.
 */
#ifndef BILDFUNK_TRANSPORT_H
#define BILDFUNK_TRANSPORT_H

#include <bildfunk/common.h>
#include <bildfunk/wire.h>

#if defined(_WIN32)
#include <winsock2.h>
#include <ws2tcpip.h>
#else
#include <netinet/in.h>
#include <sys/socket.h>
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* A socket address (IPv4 or IPv6). */
typedef struct bf_addr {
  struct sockaddr_storage ss;
  socklen_t len; /* 0 = unset */
} bf_addr;

/* Parses "host:port", "[v6]:port", "host" or ":port" (host may be a name,
 * resolved now). A missing port becomes |default_port|. Returns 0, -EINVAL
 * (malformed) or -ENOENT (name not resolved). */
int bf_addr_parse(const char *text, uint16_t default_port, bf_addr *out);

/* Writes "a.b.c.d:port" or "[v6]:port" into |buf|. Returns |buf|. */
const char *bf_addr_format(const bf_addr *a, char *buf, size_t cap);
#define BF_ADDR_STRLEN 64

/* 1 when both addresses have the same IP (and port, for _equal). IPv4 and
 * IPv4-mapped IPv6 compare equal. */
int bf_addr_equal(const bf_addr *a, const bf_addr *b);
int bf_addr_same_ip(const bf_addr *a, const bf_addr *b);
/* 1 for loopback, RFC 1918, link-local, CGNAT and IPv6 ULA addresses. */
int bf_addr_is_private(const bf_addr *a);

/* One received datagram in a bf_recv_ring. |data| points into the ring's
 * storage and stays valid until the next recv_batch on that ring. */
typedef struct bf_rx_slot {
  uint8_t *data;
  size_t len;
  const bf_addr *from;
} bf_rx_slot;

/* Caller-owned receive ring: |count| buffers of |buf_bytes| each, allocated
 * once by bf_recv_ring_init and reused by every recv_batch (no allocation
 * per packet). With UDP GRO one buffer may hold many datagrams; they are
 * split into |slots| (slot_cap of them). Latency: a ring holds what one
 * syscall returned; it adds no queueing of its own. */
typedef struct bf_recv_ring {
  uint8_t *storage;  /* count * buf_bytes */
  size_t buf_bytes;  /* BF_RECV_BUF_BYTES, or more for GRO */
  size_t count;      /* buffers, BF_RECV_BATCH by default */
  bf_addr *addrs;    /* count source addresses */
  bf_rx_slot *slots; /* results of the last recv_batch */
  size_t slot_cap;
  size_t n;   /* valid slots */
  void *impl; /* implementation's per-ring state (e.g. mmsghdr) */
} bf_recv_ring;

#define BF_RECV_BATCH 128u
/* Upper bound on |count| (the kernel caps one recvmmsg at 1024 messages). */
#define BF_RECV_MAX_BATCH 1024u
/* Buffer size a ring needs on a socket opened with cfg.gro: one coalesced
 * GRO read can hold up to 64 KiB of datagrams. */
#define BF_RECV_GRO_BUF_BYTES 65536u
/* Suggested |count| for a GRO ring (32 x 64 KiB = 2 MiB). */
#define BF_RECV_GRO_BATCH 32u
/* Datagrams one GRO buffer may hold at most; a ring with buffers larger than
 * BF_RECV_BUF_BYTES gets count * BF_GRO_MAX_SEGMENTS slots. */
#define BF_GRO_MAX_SEGMENTS 128u

/* Allocates a ring of |count| buffers of |buf_bytes| bytes (0 picks the
 * defaults: BF_RECV_BATCH, BF_RECV_BUF_BYTES). |buf_bytes| must be at least
 * BF_RECV_BUF_BYTES (so an oversize datagram is recognised) and |count| at
 * most BF_RECV_MAX_BATCH. Returns 0, -EINVAL, -ENOMEM. The memory is owned by
 * the ring until bf_recv_ring_free (which tolerates a zeroed ring). */
int bf_recv_ring_init(bf_recv_ring *ring, size_t count, size_t buf_bytes);
void bf_recv_ring_free(bf_recv_ring *ring);

typedef struct bf_transport_stats {
  uint64_t tx_packets; /* datagrams handed to the kernel */
  uint64_t tx_bytes;
  uint64_t tx_dropped;   /* send buffer full or transient error */
  uint64_t tx_calls;     /* send syscalls */
  uint64_t tx_gso_calls; /* of which with segmentation offload */
  uint64_t rx_packets;
  uint64_t rx_bytes;
  uint64_t rx_calls;     /* receive syscalls that returned data */
  uint64_t rx_oversize;  /* datagrams > BF_MAX_DATAGRAM (or truncated), dropped */
  uint64_t rx_transient; /* transient receive errors swallowed */
  uint64_t rx_coalesced; /* GRO reads that carried more than one datagram */
  uint64_t kernel_drops; /* the kernel's own receive-queue drop counter
                            (SO_RXQ_OVFL on Linux; 0 where unavailable) */
  int gso_active;        /* segmentation offload currently in use */
  int gro_active;        /* receive offload currently in use */
} bf_transport_stats;

typedef struct bf_transport bf_transport;

typedef struct bf_transport_ops {
  int (*send)(bf_transport *t, const bf_dgram *d);
  int (*send_batch)(bf_transport *t, const bf_dgram *d, size_t n);
  int (*send_gso)(bf_transport *t, const bf_dgram *d, size_t n);
  int (*recv)(bf_transport *t, uint8_t *buf, size_t cap, bf_addr *from);
  int (*recv_batch)(bf_transport *t, bf_recv_ring *ring);
  void (*close)(bf_transport *t);
  /* Optional (NULL = not supported): */
  int (*wait)(bf_transport *t, int timeout_ms);
  int (*local_addr)(const bf_transport *t, bf_addr *out);
  void (*peer_changed)(bf_transport *t); /* after t->peer was replaced */
} bf_transport_ops;

/* Common head of every implementation. Sends go to |peer| (set it with
 * bf_transport_set_peer; a send without a peer fails with -EDESTADDRREQ). */
struct bf_transport {
  const bf_transport_ops *ops;
  bf_transport_stats stats;
  bf_addr peer;
  int fd; /* pollable descriptor, -1 if none (loopback) */
};

static inline int bf_send(bf_transport *t, const bf_dgram *d) {
  return t->ops->send(t, d);
}
static inline int bf_send_batch(bf_transport *t, const bf_dgram *d, size_t n) {
  return t->ops->send_batch(t, d, n);
}
static inline int bf_send_gso(bf_transport *t, const bf_dgram *d, size_t n) {
  return t->ops->send_gso(t, d, n);
}
static inline int bf_recv(bf_transport *t, uint8_t *buf, size_t cap, bf_addr *from) {
  return t->ops->recv(t, buf, cap, from);
}
static inline int bf_recv_batch(bf_transport *t, bf_recv_ring *ring) {
  return t->ops->recv_batch(t, ring);
}

/* Sets where sends go (copied; NULL or an unset address clears it). On a UDP
 * socket this also switches DSCP per cfg.dscp. IPv4 peers work on an IPv6
 * (dual-stack) socket and v4-mapped peers on an IPv4 socket. */
void bf_transport_set_peer(bf_transport *t, const bf_addr *peer);

/* Closes |*t| (NULL is fine) and clears the caller's pointer. */
void bf_transport_close(bf_transport **t);

/* UDP socket configuration. */
typedef struct bf_udp_config {
  const char *bind;  /* "host:port" to bind, NULL = "0.0.0.0:0" */
  int scalar;        /* 1 = one recv/send per packet even where batching exists */
  int gso;           /* 1 = use UDP GSO / Windows USO for send_gso where available */
  int gro;           /* 1 = ask for UDP GRO on receive (Linux). recv_batch then
                        needs a ring of BF_RECV_GRO_BUF_BYTES buffers (-EINVAL
                        otherwise); recv splits through an internal buffer. */
  size_t sock_buf;   /* SO_SNDBUF/SO_RCVBUF request, 0 = 32 MiB */
  int quiet;         /* 1 = no warning on stderr when the kernel grants < 8 MiB */
  int dscp;          /* BF_DSCP_AUTO (default): CS5 + SO_PRIORITY 5 only toward
                        private/loopback peers; BF_DSCP_ON always; BF_DSCP_OFF never */
  unsigned gso_segs; /* most datagrams per offloaded send, 0 = the platform
                        maximum (64 Linux, 512 Windows); always also <= 65507 bytes */
} bf_udp_config;

#define BF_DSCP_AUTO 0
#define BF_DSCP_ON 1
#define BF_DSCP_OFF (-1)
/* DSCP CS5 (video) as the IPv4 TOS / IPv6 traffic-class byte. */
#define BF_TOS_CS5 0xA0

/* Defaults: bind 0.0.0.0:0, batched, gso on, gro off, 32 MiB, DSCP auto. */
void bf_udp_config_default(bf_udp_config *cfg);

/* Opens a non-blocking UDP socket per |cfg|. Returns 0 or a negative errno
 * (-EADDRINUSE, -EINVAL for an unparsable bind address, ...). */
int bf_udp_open(const bf_udp_config *cfg, bf_transport **out);

/* The address the socket is bound to (to learn an ephemeral port). */
int bf_transport_local_addr(const bf_transport *t, bf_addr *out);

/* Waits until |t| has something to read or |timeout_ms| passes (poll on the
 * socket; -1 = forever). Returns 1 readable, 0 timeout, negative errno. */
int bf_transport_wait(bf_transport *t, int timeout_ms);

/* Segmentation offload (Linux UDP GSO, Windows USO) has one process-wide
 * latch: the first send that fails with an error saying the system cannot do
 * it (Linux ENOPROTOOPT, EOPNOTSUPP, EINVAL, EIO, EMSGSIZE; Windows 10022,
 * 10042, 10045, 10040) turns it off for every socket, prints one warning, and
 * that send and all later ones go through send_batch. */
int bf_udp_offload_enabled(void);
/* Turns offload off for the process (a user switch), quietly. */
void bf_udp_offload_disable(void);
/* Turns it back on (tests; after a route change). */
void bf_udp_offload_reset(void);

#ifdef __cplusplus
}
#endif

#endif /* BILDFUNK_TRANSPORT_H */
