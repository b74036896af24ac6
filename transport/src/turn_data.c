/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * TURN client data path: what the data plane calls per datagram. ChannelData
 * and Data indications are unwrapped where they lie (the payload pointer
 * points into the caller's datagram); Send indications copy the payload
 * once. See bildfunk/turn.h.
 */
#include "turn_internal.h"

#include <errno.h>
#include <string.h>

static uint16_t get16(const uint8_t *p) {
  return (uint16_t)((p[0] << 8) | p[1]);
}

int bf_turn_demux(const uint8_t *d, size_t len) {
  if (len >= BF_TURN_CHANNEL_HEADER && (d[0] & 0xC0u) == 0x40u) return BF_TURN_DEMUX_CHANNEL;
  if (bf_stun_is_msg(d, len)) return BF_TURN_DEMUX_STUN;
  return 0;
}

int bf__turn_channel_data(bf_turn *t, uint8_t *d, size_t len, bf_turn_data *data) {
  uint16_t number = get16(d);
  size_t n = get16(d + 2);
  /* over UDP a sender may pad to 4 bytes (RFC 8656 §12.5) */
  if (number > BF_TURN_CHANNEL_MAX || n > len - BF_TURN_CHANNEL_HEADER ||
      len - BF_TURN_CHANNEL_HEADER - n > 3) {
    t->st.malformed++;
    return -EBADMSG;
  }
  for (size_t i = 0; i < BF_TURN_MAX_CHANNELS; i++) {
    binding *c = &t->chans[i];
    if (c->used && c->number == number) {
      *data = (bf_turn_data){d + BF_TURN_CHANNEL_HEADER, n, &c->addr, number};
      t->st.channel_data++;
      return BF_TURN_RX_DATA;
    }
  }
  t->st.unknown_channel++;
  return -ENOENT;
}

int bf__turn_indication(bf_turn *t, uint8_t *d, const bf_stun_msg *m, bf_turn_data *data) {
  if (m->method != BF_STUN_DATA) return BF_TURN_RX_CONTROL; /* nothing else is for us */
  const bf_stun_attr *a = bf_stun_find(m, BF_STUN_A_DATA);
  if (!a || bf_stun_get_addr(m, BF_STUN_A_XOR_PEER_ADDRESS, &t->ind_peer) < 0) {
    t->st.malformed++;
    return -EBADMSG;
  }
  *data = (bf_turn_data){d + a->off, a->len, &t->ind_peer, 0};
  t->st.data_ind++;
  return BF_TURN_RX_DATA;
}

int bf_turn_channel(const bf_turn *t, const bf_addr *peer) {
  for (size_t i = 0; i < BF_TURN_MAX_CHANNELS; i++) {
    const binding *c = &t->chans[i];
    if (c->used && c->ready && bf_addr_equal(&c->addr, peer)) return c->number;
  }
  return -ENOENT;
}

int bf_turn_send_indication(bf_turn *t, const bf_addr *peer, const uint8_t *d, size_t len,
                            uint8_t *out, size_t cap) {
  uint8_t txid[BF_STUN_TXID_BYTES];
  bf_stun_builder b;
  if (bf__turn_new_txid(t, txid) < 0) return -EIO;
  bf_stun_build(&b, out, cap, BF_STUN_SEND, BF_STUN_INDICATION, txid);
  bf_stun_put_addr(&b, BF_STUN_A_XOR_PEER_ADDRESS, peer);
  bf_stun_put(&b, BF_STUN_A_DATA, d, len);
  if (t->cfg.fingerprint) bf_stun_put_fingerprint(&b);
  return bf_stun_finish(&b);
}
