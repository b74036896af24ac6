/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * In-process loopback transport: two bf_transports wired to each other, for
 * tests and for running sender and client logic in one process without
 * sockets. Each direction is a bounded single-producer/single-consumer queue
 * (one sending thread on one end, one receiving thread on the other may run
 * at the same time). Impairments are deterministic: a bit pattern repeated
 * every |period| datagrams says which ones are lost, duplicated or reordered,
 * plus an optional seeded pseudo-random loss rate. Nothing depends on time.
 *
 * Semantics match the UDP transports: a datagram lost "in the network" (the
 * pattern) still returns 1 from send; a full queue is a local drop (send
 * returns 0, counted in tx_dropped), like a full socket send buffer; a
 * datagram longer than BF_MAX_DATAGRAM is dropped by the receiving end and
 * counted in its rx_oversize. Latency: none added; a datagram is readable as
 * soon as send returns (except one held back for reordering).
 *
 * Not here: delay, jitter, rate limits (use namespaces and tbf for those).
 */
#ifndef BILDFUNK_LOOPBACK_H
#define BILDFUNK_LOOPBACK_H

#include <bildfunk/transport.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bf_loopback_config {
  size_t depth;   /* datagrams queued per direction, 0 = 1024; memory is
                     depth * BF_RECV_BUF_BYTES per direction, allocated once */
  bf_addr addr_a; /* how end a appears to b (len 0 = 127.0.0.1:40001) */
  bf_addr addr_b; /* how end b appears to a (len 0 = 127.0.0.1:40002) */
} bf_loopback_config;

/* Impairment of the datagrams one end sends. Datagram n (counting every
 * datagram the end was asked to send, from 0) uses bit (n % period): */
typedef struct bf_loopback_pattern {
  uint32_t period;          /* 1..64; 0 = no pattern */
  uint64_t drop;            /* lost (send still returns 1) */
  uint64_t duplicate;       /* delivered twice in a row */
  uint64_t reorder;         /* held back and delivered right after the next
                               datagram that is delivered */
  uint32_t random_drop_ppm; /* extra loss, seeded splitmix64, 0..1000000 */
  uint64_t seed;
} bf_loopback_pattern;

typedef struct bf_loopback_counters {
  uint64_t offered; /* datagrams the end was asked to send */
  uint64_t dropped; /* lost by pattern or random loss */
  uint64_t duplicated;
  uint64_t reordered;
  uint64_t queue_full; /* local drops: the other end did not read fast enough */
} bf_loopback_counters;

/* Creates a connected pair; each end's peer is preset to the other's
 * address. Close each end with bf_transport_close (in any order; datagrams
 * sent to a closed end vanish). Returns 0, -EINVAL or -ENOMEM. */
int bf_loopback_pair(const bf_loopback_config *cfg, bf_transport **a, bf_transport **b);

/* Sets the impairment of what |t| sends (copied; NULL = none); resets the
 * datagram counter n to 0. Call from |t|'s sending thread. Returns 0, or
 * -EINVAL when |t| is not a loopback end or period > 64. */
int bf_loopback_set_pattern(bf_transport *t, const bf_loopback_pattern *p);

/* Changes the address |t| appears from (to the other end), as a NAT rebinding
 * would. Returns 0 or -EINVAL. */
int bf_loopback_set_addr(bf_transport *t, const bf_addr *addr);

/* Delivers a datagram held back for reordering now. Returns 1 when one was
 * delivered, 0 when none was held (or the queue was full: then counted). */
int bf_loopback_flush(bf_transport *t);

/* Counters of what |t| sent. Returns 0 or -EINVAL. */
int bf_loopback_get_counters(const bf_transport *t, bf_loopback_counters *out);

#ifdef __cplusplus
}
#endif

#endif /* BILDFUNK_LOOPBACK_H */
