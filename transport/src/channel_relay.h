/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The relayed path of the data-plane channel (channel.h "Relay"), the part
 * channel.c calls: one bf_turn allocation on the channel's own socket, the
 * relay peer the channel talks to through it and the channel number bound
 * to that peer. Receive: a datagram from the TURN server's address is
 * handed to bf__relay_rx, which gives back the payload (in place, no copy)
 * and the peer it came from, or takes it (STUN: responses, events). Send:
 * bf__relay_wrap puts the 4-byte ChannelData header in front of a sealed
 * datagram (the caller reserved the room), or turns a small one into a
 * Send indication while the channel is not bound yet.
 *
 * Not here: the seal, the classifier, the punch (channel.c), when to use a
 * relay and what to tell the peer (the programs' control sessions).
 *
 * Memory: one heap object (the bf_turn, ~22 KiB, and a 1 KiB request
 * buffer) per channel that has a relay; nothing per datagram. One thread
 * (the channel's lock covers the send side).
 */
#ifndef BF_TRANSPORT_CHANNEL_RELAY_H
#define BF_TRANSPORT_CHANNEL_RELAY_H

#include <bildfunk/channel.h>

typedef struct bf__relay bf__relay;

/* Room a relayed datagram needs in front: the ChannelData header. */
#define BF__RELAY_HEAD 4u
/* A Send indication's overhead at most (turn.h, IPv6 peer, FINGERPRINT). */
#define BF__RELAY_IND_MAX 64u

int bf__relay_new(const bf_channel_relay_config *cfg, uint64_t now, bf__relay **out);
/* Releases the allocation (one Refresh 0, not waited for) and frees. */
void bf__relay_del(bf__relay **r, bf_transport *t, uint64_t now);
/* 1 when |from| is the TURN server. */
int bf__relay_from_server(const bf__relay *r, const bf_addr *from);
/* A datagram from the server: 1 and the payload in |*d|, |*len| with its
 * peer in |*from| (peer data), 0 taken (STUN), -1 dropped (counted). */
int bf__relay_rx(bf__relay *r, uint8_t **d, size_t *len, const bf_addr **from, uint64_t now);
/* Sends what the TURN client has due (requests, retransmissions,
 * refreshes) to the server through |t| and takes its events. */
void bf__relay_tick(bf__relay *r, bf_transport *t, uint64_t now);
uint64_t bf__relay_next_due(const bf__relay *r);
int bf__relay_permit(bf__relay *r, const bf_addr *ip, uint64_t now);
/* The relay is the path: |*direct| (the channel's peer) is kept, the
 * transport's peer becomes the server. */
int bf__relay_use(bf__relay *r, bf_transport *t);
void bf__relay_leave(bf__relay *r, bf_transport *t);
int bf__relay_active(const bf__relay *r);
/* The direct peer kept while the relay is the path. */
bf_addr *bf__relay_direct(bf__relay *r);
/* 1 when sends can go now: a relay peer is known. */
int bf__relay_has_peer(const bf__relay *r);
/* Wraps |g| (a sealed datagram with BF_TURN_CHANNEL_HEADER free bytes in
 * front of g->head, one piece) for the relay peer: ChannelData (the header
 * written in front, |*g| widened), or a Send indication into |ind| (|cap|
 * bytes). 0, or -ENOTCONN (no peer: dropped), -ENOBUFS. */
int bf__relay_wrap(bf__relay *r, bf_dgram *g, uint8_t *ind, size_t cap);
/* The channel bound to the relay peer, -1 while none. */
int bf__relay_channel(const bf__relay *r);
void bf__relay_status(const bf__relay *r, bf_channel_relay_status *st);

#endif
