/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Transport plumbing shared by every implementation: the receive ring, the
 * peer, close/wait dispatch, and the process-wide offload latch. No sockets
 * here; see udp_linux.c, udp_posix.c, udp_win32.c and loopback.c.
 */
#include "transport_internal.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int bf_recv_ring_init(bf_recv_ring *ring, size_t count, size_t buf_bytes) {
  memset(ring, 0, sizeof *ring);
  if (count == 0) count = BF_RECV_BATCH;
  if (buf_bytes == 0) buf_bytes = BF_RECV_BUF_BYTES;
  if (count > BF_RECV_MAX_BATCH || buf_bytes < BF_RECV_BUF_BYTES || buf_bytes > (1u << 20))
    return -EINVAL;
  size_t slots = buf_bytes > BF_RECV_BUF_BYTES ? count * BF_GRO_MAX_SEGMENTS : count;
  ring->storage = malloc(count * buf_bytes);
  ring->addrs = calloc(count, sizeof *ring->addrs);
  ring->slots = calloc(slots, sizeof *ring->slots);
  if (!ring->storage || !ring->addrs || !ring->slots) {
    bf_recv_ring_free(ring);
    return -ENOMEM;
  }
  ring->buf_bytes = buf_bytes;
  ring->count = count;
  ring->slot_cap = slots;
  return 0;
}

void bf_recv_ring_free(bf_recv_ring *ring) {
  if (!ring) return;
  free(ring->storage);
  free(ring->addrs);
  free(ring->slots);
  free(ring->impl); /* one block, allocated by the implementation on first use */
  memset(ring, 0, sizeof *ring);
}

void bf_transport_set_peer(bf_transport *t, const bf_addr *peer) {
  if (peer && peer->len > 0 && (size_t)peer->len <= sizeof peer->ss)
    t->peer = *peer;
  else
    memset(&t->peer, 0, sizeof t->peer);
  if (t->ops->peer_changed) t->ops->peer_changed(t);
}

void bf_transport_close(bf_transport **t) {
  if (!t || !*t) return;
  (*t)->ops->close(*t);
  *t = NULL;
}

int bf_transport_wait(bf_transport *t, int timeout_ms) {
  if (!t->ops->wait) return -ENOTSUP;
  return t->ops->wait(t, timeout_ms);
}

int bf_transport_local_addr(const bf_transport *t, bf_addr *out) {
  if (!t->ops->local_addr) return -ENOTSUP;
  return t->ops->local_addr(t, out);
}

int bf__dgrams_uniform(const bf_dgram *d, size_t n) {
  if (n == 0) return 0;
  size_t seg = bf__dgram_len(&d[0]);
  if (seg == 0) return 0;
  for (size_t i = 1; i + 1 < n; i++)
    if (bf__dgram_len(&d[i]) != seg) return 0;
  size_t last = bf__dgram_len(&d[n - 1]);
  return last > 0 && last <= seg;
}

/* ---- process-wide offload latch ---------------------------------------- */

static atomic_int offload_off; /* 1 = latched off */
static atomic_flag offload_warned = ATOMIC_FLAG_INIT;
static atomic_flag sockbuf_warned = ATOMIC_FLAG_INIT;

int bf__offload_on(void) {
  return !atomic_load_explicit(&offload_off, memory_order_relaxed);
}

int bf_udp_offload_enabled(void) {
  return bf__offload_on();
}

void bf_udp_offload_disable(void) {
  atomic_store(&offload_off, 1);
}

void bf_udp_offload_reset(void) {
  atomic_store(&offload_off, 0);
}

void bf__offload_fail(const char *what, int err) {
  atomic_store(&offload_off, 1);
  if (!atomic_flag_test_and_set(&offload_warned))
    fprintf(stderr,
            "bildfunk: %s failed (error %d); segmentation offload is off for this process, "
            "sending datagram by datagram\n",
            what, err);
}

void bf__warn_sock_buf(size_t want, size_t got_snd, size_t got_rcv) {
  if (atomic_flag_test_and_set(&sockbuf_warned)) return;
  fprintf(stderr,
          "bildfunk: asked for %zu KiB UDP socket buffers, the kernel granted %zu KiB send / "
          "%zu KiB receive; bursts may be dropped. Raise net.core.rmem_max and "
          "net.core.wmem_max (sysctl) to at least %u.\n",
          want >> 10, got_snd >> 10, got_rcv >> 10, (unsigned)BF__SOCK_BUF_DEFAULT);
}

void bf_udp_config_default(bf_udp_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->gso = 1;
  cfg->dscp = BF_DSCP_AUTO;
}

int bf__recv_batch_each(bf_transport *t, bf_recv_ring *ring) {
  ring->n = 0;
  size_t n = 0;
  while (n < ring->count && n < ring->slot_cap) {
    uint8_t *b = ring->storage + n * ring->buf_bytes;
    int r = t->ops->recv(t, b, ring->buf_bytes, &ring->addrs[n]);
    if (r < 0) {
      if (n == 0) return r;
      break;
    }
    if (r == 0) break;
    ring->slots[n].data = b;
    ring->slots[n].len = (size_t)r;
    ring->slots[n].from = &ring->addrs[n];
    n++;
  }
  ring->n = n;
  return (int)n;
}
