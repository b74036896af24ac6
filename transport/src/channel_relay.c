/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The relayed path of the data-plane channel: see channel_relay.h and
 * channel.h ("Relay"). A thin edge around the sans-I/O TURN client
 * (turn.h): it sends what the client writes to the server through the
 * channel's socket, turns the client's events into a status, and keeps the
 * one relay peer the channel talks to.
 */
#include "channel_relay.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef BF_HAVE_SEAL

#include <bildfunk/turn.h>

struct bf__relay {
  bf_turn *turn;
  bf_addr server;
  bf_channel_relay_status st; /* what bf_channel_relay_status_get reports */
  int bind_asked;             /* ChannelBind for the relay peer started */
  bf_addr direct;             /* the channel's peer while the relay is the path */
  uint8_t buf[BF_TURN_REQ_MAX];
};

int bf__relay_new(const bf_channel_relay_config *cfg, uint64_t now, bf__relay **out) {
  *out = NULL;
  bf__relay *r = calloc(1, sizeof *r);
  if (!r) return -ENOMEM;
  bf_turn_config tc;
  memset(&tc, 0, sizeof tc);
  tc.server = cfg->server;
  tc.user = cfg->user;
  tc.pass = cfg->pass;
  tc.secret = cfg->secret;
  tc.unix_time_s = cfg->unix_time_s;
  int e = bf_turn_new(&tc, &r->turn);
  if (e == 0) e = bf_turn_allocate(r->turn, now);
  if (e < 0) {
    bf_turn_del(&r->turn);
    free(r);
    return e;
  }
  r->server = cfg->server;
  r->st.state = BF_CHANNEL_RELAY_ALLOCATING;
  snprintf(r->st.server_name, sizeof r->st.server_name, "%s",
           cfg->server_name ? cfg->server_name : "");
  *out = r;
  return 0;
}

/* One datagram to |to| (the server), whatever the transport's peer is. */
static void send_to(bf_transport *t, const bf_addr *to, const uint8_t *d, size_t len) {
  bf_dgram g = {d, len, NULL, 0};
  if (bf_addr_equal(&t->peer, to)) {
    (void)bf_send(t, &g);
    return;
  }
  bf_addr keep = t->peer;
  bf_transport_set_peer(t, to);
  (void)bf_send(t, &g);
  bf_transport_set_peer(t, keep.len ? &keep : NULL);
}

static void take_events(bf__relay *r) {
  bf_turn_event ev;
  while (bf_turn_poll_event(r->turn, &ev)) {
    switch (ev.type) {
    case BF_TURN_EV_ALLOCATED:
      r->st.state = BF_CHANNEL_RELAY_ALLOCATED;
      r->st.relayed = ev.addr;
      r->st.mapped = ev.mapped;
      break;
    case BF_TURN_EV_MAPPED:
      r->st.mapped = ev.mapped;
      break;
    case BF_TURN_EV_PERMISSION:
      r->st.permitted = 1;
      break;
    case BF_TURN_EV_CHANNEL:
      if (bf_addr_equal(&ev.addr, &r->st.peer)) r->st.bound = 1;
      break;
    case BF_TURN_EV_ERROR:
      snprintf(r->st.error, sizeof r->st.error, "%s", ev.reason);
      if (ev.method == BF_STUN_ALLOCATE) r->st.state = BF_CHANNEL_RELAY_FAILED;
      break;
    case BF_TURN_EV_LOST:
      snprintf(r->st.error, sizeof r->st.error, "%s", ev.reason);
      r->st.state = BF_CHANNEL_RELAY_FAILED;
      break;
    default:
      break;
    }
  }
}

void bf__relay_tick(bf__relay *r, bf_transport *t, uint64_t now) {
  if (r->st.peer.len && !r->bind_asked && bf_turn_bind_channel(r->turn, &r->st.peer, now) == 0)
    r->bind_asked = 1;
  for (;;) {
    const bf_addr *to = NULL;
    int n = bf_turn_write(r->turn, now, r->buf, sizeof r->buf, &to);
    if (n <= 0) break;
    send_to(t, to, r->buf, (size_t)n);
  }
  take_events(r);
}

uint64_t bf__relay_next_due(const bf__relay *r) {
  /* a channel to bind is due at once */
  if (r->st.peer.len && !r->bind_asked) return 0;
  return bf_turn_next_due(r->turn);
}

void bf__relay_del(bf__relay **pr, bf_transport *t, uint64_t now) {
  bf__relay *r = *pr;
  if (!r) return;
  if (t && bf_turn_release(r->turn, now) == 0) {
    const bf_addr *to = NULL;
    int n = bf_turn_write(r->turn, now, r->buf, sizeof r->buf, &to);
    if (n > 0) send_to(t, to, r->buf, (size_t)n);
  }
  bf_turn_del(&r->turn);
  free(r);
  *pr = NULL;
}

int bf__relay_from_server(const bf__relay *r, const bf_addr *from) {
  return from && bf_addr_equal(from, &r->server);
}

int bf__relay_rx(bf__relay *r, uint8_t **d, size_t *len, const bf_addr **from, uint64_t now) {
  bf_turn_data data;
  int k = bf_turn_read(r->turn, *d, *len, now, &data);
  if (k != BF_TURN_RX_DATA) {
    take_events(r);
    if (k == BF_TURN_RX_CONTROL) return 0;
    r->st.stun_bad++;
    return -1;
  }
  int fresh = 0;
  if (!r->st.active) { /* nobody was told this allocation yet */
    r->st.other_peer++;
    return -1;
  }
  if (!r->st.peer.len) {
    r->st.peer = *data.peer; /* the first peer through the relay is the one */
    fresh = 1;
  } else if (!bf_addr_equal(data.peer, &r->st.peer)) {
    r->st.other_peer++;
    return -1;
  }
  r->st.rx++;
  *d = data.d;
  *len = data.len;
  *from = &r->st.peer;
  return fresh ? 2 : 1;
}

int bf__relay_permit(bf__relay *r, const bf_addr *ip, uint64_t now) {
  if (r->st.state != BF_CHANNEL_RELAY_ALLOCATED) return -EAGAIN;
  return bf_turn_permit(r->turn, ip, now);
}

int bf__relay_use(bf__relay *r, bf_transport *t) {
  if (r->st.state != BF_CHANNEL_RELAY_ALLOCATED) return -EAGAIN;
  if (!r->st.active) {
    r->direct = t->peer;
    bf_transport_set_peer(t, &r->server);
    r->st.active = 1;
  }
  return 0;
}

void bf__relay_leave(bf__relay *r, bf_transport *t) {
  if (!r->st.active) return;
  bf_transport_set_peer(t, r->direct.len ? &r->direct : NULL);
  r->st.active = 0;
  r->st.bound = 0;
  r->bind_asked = 0;
  memset(&r->st.peer, 0, sizeof r->st.peer);
}

int bf__relay_active(const bf__relay *r) {
  return r->st.active;
}

bf_addr *bf__relay_direct(bf__relay *r) {
  return &r->direct;
}

int bf__relay_has_peer(const bf__relay *r) {
  return r->st.peer.len != 0;
}

int bf__relay_wrap(bf__relay *r, bf_dgram *g, uint8_t *ind, size_t cap) {
  if (!r->st.peer.len) {
    r->st.no_peer++;
    return -ENOTCONN;
  }
  int ch = r->st.bound ? bf_turn_channel(r->turn, &r->st.peer) : -ENOENT;
  if (ch >= 0) {
    uint8_t *h = (uint8_t *)(uintptr_t)g->head - BF_TURN_CHANNEL_HEADER;
    bf_turn_channel_header((uint16_t)ch, g->head_len, h);
    g->head = h;
    g->head_len += BF_TURN_CHANNEL_HEADER;
    r->st.tx++;
    return 0;
  }
  if (!ind) return -ENOBUFS;
  int n = bf_turn_send_indication(r->turn, &r->st.peer, g->head, g->head_len, ind, cap);
  if (n < 0) return n;
  *g = (bf_dgram){ind, (size_t)n, NULL, 0};
  r->st.tx++;
  r->st.indications++;
  return 0;
}

int bf__relay_channel(const bf__relay *r) {
  return r->st.bound ? bf_turn_channel(r->turn, &r->st.peer) : -1;
}

void bf__relay_status(const bf__relay *r, bf_channel_relay_status *st) {
  *st = r->st;
  bf_turn_stats ts;
  bf_turn_stats_get(r->turn, &ts);
  st->stale_released = ts.mismatch_released;
}

#else /* no OpenSSL: no TURN client, so no relay */

int bf__relay_new(const bf_channel_relay_config *cfg, uint64_t now, bf__relay **out) {
  (void)cfg, (void)now;
  *out = NULL;
  return -ENOTSUP;
}
void bf__relay_del(bf__relay **r, bf_transport *t, uint64_t now) {
  (void)r, (void)t, (void)now;
}
int bf__relay_from_server(const bf__relay *r, const bf_addr *from) {
  (void)r, (void)from;
  return 0;
}
int bf__relay_rx(bf__relay *r, uint8_t **d, size_t *len, const bf_addr **from, uint64_t now) {
  (void)r, (void)d, (void)len, (void)from, (void)now;
  return -1;
}
void bf__relay_tick(bf__relay *r, bf_transport *t, uint64_t now) {
  (void)r, (void)t, (void)now;
}
uint64_t bf__relay_next_due(const bf__relay *r) {
  (void)r;
  return UINT64_MAX;
}
int bf__relay_permit(bf__relay *r, const bf_addr *ip, uint64_t now) {
  (void)r, (void)ip, (void)now;
  return -ENOTSUP;
}
int bf__relay_use(bf__relay *r, bf_transport *t) {
  (void)r, (void)t;
  return -ENOTSUP;
}
void bf__relay_leave(bf__relay *r, bf_transport *t) {
  (void)r, (void)t;
}
int bf__relay_active(const bf__relay *r) {
  (void)r;
  return 0;
}
bf_addr *bf__relay_direct(bf__relay *r) {
  (void)r;
  return NULL;
}
int bf__relay_has_peer(const bf__relay *r) {
  (void)r;
  return 0;
}
int bf__relay_wrap(bf__relay *r, bf_dgram *g, uint8_t *ind, size_t cap) {
  (void)r, (void)g, (void)ind, (void)cap;
  return -ENOTSUP;
}
int bf__relay_channel(const bf__relay *r) {
  (void)r;
  return -1;
}
void bf__relay_status(const bf__relay *r, bf_channel_relay_status *st) {
  (void)r;
  memset(st, 0, sizeof *st);
}

#endif
