/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Reed-Solomon over small blocks of audio frames: the sender's packer
 * (bf_audio_tx) and the client's receiver (bf_audio_rx). See audio_wire.h.
 * The code is the video's (fec.h: Cauchy RS on ISA-L); a frame's shard is
 * its DATA body (capture time, length, Opus bytes), zero-padded to the
 * longest of its block, so a rebuilt shard is a whole frame again.
 */
#include <bildfunk/audio_wire.h>
#include <bildfunk/fec.h>

#include "audio_internal.h"
#include "endian.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define NSH (BF_AUDIO_FEC_MAX_K + BF_AUDIO_FEC_MAX_M)

/* ---- sender ---------------------------------------------------------------- */

struct bf_audio_tx {
  bf_audio_params p;
  unsigned k, m;
  uint32_t seq;       /* the next frame */
  uint32_t block_seq; /* first frame of the block being filled */
  unsigned n;         /* frames in it */
  size_t shard_len[BF_AUDIO_FEC_MAX_K];
  uint8_t dgram[1 + BF_AUDIO_FEC_MAX_M][BF_AUDIO_MAX_PLAIN];
  uint8_t shard[BF_AUDIO_FEC_MAX_K][BF_AUDIO_SHARD_MAX];
  bf_fec *fec;
};

int bf_audio_tx_new(const bf_audio_params *p, unsigned k, unsigned m, bf_audio_tx **out) {
  if (!out) return -EINVAL;
  *out = NULL;
  if (!p || p->frame_units < 1 || p->frame_units > 8 || p->channels < 1 || p->channels > 2 ||
      k < 1 || k > BF_AUDIO_FEC_MAX_K || m > BF_AUDIO_FEC_MAX_M || (m == 0 && k != 1))
    return -EINVAL;
  bf_audio_tx *tx = calloc(1, sizeof *tx);
  if (!tx) return -ENOMEM;
  tx->p = *p;
  tx->k = k;
  tx->m = m;
  int r = m ? bf_fec_new(&tx->fec) : 0;
  if (r < 0) {
    free(tx);
    return r;
  }
  *out = tx;
  return 0;
}

void bf_audio_tx_del(bf_audio_tx **ptx) {
  if (!ptx || !*ptx) return;
  bf_fec_del(&(*ptx)->fec);
  free(*ptx);
  *ptx = NULL;
}

uint32_t bf_audio_tx_seq(const bf_audio_tx *tx) {
  return tx->seq;
}

/* The block is full: its parity datagrams into dgram[1..m]. */
static int tx_parity(bf_audio_tx *tx, bf_audio_out *out) {
  size_t L = 0;
  for (unsigned i = 0; i < tx->k; i++)
    if (tx->shard_len[i] > L) L = tx->shard_len[i];
  const uint8_t *data[BF_AUDIO_FEC_MAX_K];
  uint8_t *par[BF_AUDIO_FEC_MAX_M];
  for (unsigned i = 0; i < tx->k; i++) {
    memset(tx->shard[i] + tx->shard_len[i], 0, L - tx->shard_len[i]);
    data[i] = tx->shard[i];
  }
  for (unsigned j = 0; j < tx->m; j++)
    par[j] = tx->dgram[1 + j] + BF_AUDIO_HDR_BYTES;
  int r = bf_fec_encode(tx->fec, tx->k, tx->m, L, data, par);
  if (r < 0) return r;
  for (unsigned j = 0; j < tx->m; j++) {
    bf__audio_put_header(tx->dgram[1 + j], BF_AUDIO_PARITY, &tx->p, tx->k, tx->m, tx->block_seq,
                         j, L);
    out[1 + j] = (bf_audio_out){tx->dgram[1 + j], BF_AUDIO_HDR_BYTES + L};
  }
  return (int)tx->m;
}

int bf_audio_tx_frame(bf_audio_tx *tx, uint64_t capture_ns, const uint8_t *opus, size_t len,
                      bf_audio_out *out) {
  if (!tx || !out || (!opus && len)) return -EINVAL;
  if (len == 0 || len > BF_AUDIO_MAX_OPUS) return -EMSGSIZE;
  if (tx->n == 0) tx->block_seq = tx->seq;
  unsigned i = tx->n;
  uint8_t *body = tx->shard[i];
  bf__put_le64(body, capture_ns);
  bf__put_le16(body + 8, (uint16_t)len);
  memcpy(body + BF_AUDIO_SHARD_HEAD, opus, len);
  size_t blen = BF_AUDIO_SHARD_HEAD + len;
  tx->shard_len[i] = blen;
  bf__audio_put_header(tx->dgram[0], BF_AUDIO_DATA, &tx->p, tx->k, tx->m, tx->seq, i, blen);
  memcpy(tx->dgram[0] + BF_AUDIO_HDR_BYTES, body, blen);
  out[0] = (bf_audio_out){tx->dgram[0], BF_AUDIO_HDR_BYTES + blen};
  tx->seq++;
  if (tx->m == 0) return 1;
  if (++tx->n < tx->k) return 1;
  tx->n = 0;
  int r = tx_parity(tx, out);
  return r < 0 ? r : 1 + r;
}

/* ---- receiver -------------------------------------------------------------- */

typedef struct rx_block {
  int used;
  uint32_t first;
  uint8_t k, m;
  size_t L; /* shard length from parity, 0 = none yet */
  uint64_t age;
  uint8_t have[NSH];
  size_t dlen[BF_AUDIO_FEC_MAX_K];
  uint8_t shard[NSH][BF_AUDIO_SHARD_MAX];
} rx_block;

struct bf_audio_rx {
  rx_block b[BF_AUDIO_RX_BLOCKS];
  uint64_t clock; /* block insertion counter */
  bf_audio_rx_stats st;
  bf_fec *fec;
};

int bf_audio_rx_new(bf_audio_rx **out) {
  if (!out) return -EINVAL;
  *out = NULL;
  bf_audio_rx *rx = calloc(1, sizeof *rx);
  if (!rx) return -ENOMEM;
  int r = bf_fec_new(&rx->fec);
  if (r < 0) {
    free(rx);
    return r;
  }
  *out = rx;
  return 0;
}

void bf_audio_rx_del(bf_audio_rx **prx) {
  if (!prx || !*prx) return;
  bf_fec_del(&(*prx)->fec);
  free(*prx);
  *prx = NULL;
}

void bf_audio_rx_reset(bf_audio_rx *rx) {
  for (size_t i = 0; i < BF_AUDIO_RX_BLOCKS; i++)
    rx->b[i].used = 0;
}

void bf_audio_rx_stats_get(const bf_audio_rx *rx, bf_audio_rx_stats *st) {
  *st = rx->st;
}

static unsigned count_data(const rx_block *b) {
  unsigned n = 0;
  for (unsigned i = 0; i < b->k; i++)
    n += b->have[i] ? 1u : 0u;
  return n;
}

/* The block that starts at |first| (shape k, m); a free or the oldest slot
 * when it is new, unless every slot holds a newer block (then NULL: the
 * datagram is too old to be protected). *bad = 1 when the shape does not
 * match the block's. */
static rx_block *find_block(bf_audio_rx *rx, uint32_t first, unsigned k, unsigned m, int *bad) {
  rx_block *victim = NULL;
  *bad = 0;
  for (size_t i = 0; i < BF_AUDIO_RX_BLOCKS; i++) {
    rx_block *b = &rx->b[i];
    if (b->used && b->first == first) {
      if (b->k != k || b->m != m) *bad = 1;
      return *bad ? NULL : b;
    }
    if (!b->used) {
      if (!victim || victim->used) victim = b;
    } else if (!victim || (victim->used && (int32_t)(b->first - victim->first) < 0)) {
      victim = b;
    }
  }
  if (victim->used) {
    if ((int32_t)(first - victim->first) < 0) return NULL; /* older than all we keep */
    unsigned have = count_data(victim);
    if (have < victim->k) {
      rx->st.blocks_evicted++;
      rx->st.frames_missing += victim->k - have;
    }
  }
  memset(victim->have, 0, sizeof victim->have);
  victim->used = 1;
  victim->first = first;
  victim->k = (uint8_t)k;
  victim->m = (uint8_t)m;
  victim->L = 0;
  victim->age = ++rx->clock;
  return victim;
}

/* k shards are there: rebuild the missing data and hand them out. */
static int recover(bf_audio_rx *rx, rx_block *b, bf_audio_frame *out) {
  unsigned present = 0;
  for (unsigned i = 0; i < (unsigned)b->k + b->m; i++)
    present += b->have[i] ? 1u : 0u;
  if (!b->L || present < b->k || count_data(b) == b->k) return 0;
  uint8_t *sh[NSH];
  uint8_t was[NSH];
  for (unsigned i = 0; i < (unsigned)b->k + b->m; i++) {
    sh[i] = b->shard[i];
    was[i] = b->have[i];
  }
  if (bf_fec_reconstruct(rx->fec, b->k, b->m, b->L, sh, b->have) < 0) return 0;
  int n = 0;
  for (unsigned i = 0; i < b->k; i++) {
    if (was[i]) continue;
    b->have[i] = 1;
    size_t olen = bf__get_le16(b->shard[i] + 8);
    if (olen == 0 || olen + BF_AUDIO_SHARD_HEAD > b->L) {
      rx->st.malformed++; /* parity that did not belong to these frames */
      continue;
    }
    b->dlen[i] = olen + BF_AUDIO_SHARD_HEAD;
    out[n++] = (bf_audio_frame){b->first + i, bf__get_le64(b->shard[i]),
                                b->shard[i] + BF_AUDIO_SHARD_HEAD, olen, 1};
    rx->st.recovered++;
  }
  return n;
}

static int push_data(bf_audio_rx *rx, const bf_audio_pkt *pk, bf_audio_frame *out) {
  rx->st.data++;
  out[0] = (bf_audio_frame){pk->seq, pk->capture_ns, pk->opus, pk->opus_len, 0};
  if (pk->m == 0) return 1; /* unprotected: nothing to keep */
  int bad;
  rx_block *b = find_block(rx, pk->seq - pk->index, pk->k, pk->m, &bad);
  if (bad || (b && b->L && pk->shard_len > b->L)) {
    rx->st.malformed++;
    return -EBADMSG;
  }
  if (!b) return 1;
  if (b->have[pk->index]) {
    rx->st.duplicates++;
    return 0;
  }
  uint8_t *s = b->shard[pk->index];
  memcpy(s, pk->shard, pk->shard_len);
  memset(s + pk->shard_len, 0, BF_AUDIO_SHARD_MAX - pk->shard_len);
  b->have[pk->index] = 1;
  b->dlen[pk->index] = pk->shard_len;
  out[0].opus = s + BF_AUDIO_SHARD_HEAD;
  return 1 + recover(rx, b, out + 1);
}

static int push_parity(bf_audio_rx *rx, const bf_audio_pkt *pk, bf_audio_frame *out) {
  rx->st.parity++;
  int bad;
  rx_block *b = find_block(rx, pk->seq, pk->k, pk->m, &bad);
  if (!bad && b) {
    if (b->L && b->L != pk->shard_len) bad = 1;
    for (unsigned i = 0; i < b->k && !bad; i++)
      if (b->have[i] && b->dlen[i] > pk->shard_len) bad = 1;
  }
  if (bad) {
    rx->st.malformed++;
    return -EBADMSG;
  }
  if (!b) return 0;
  unsigned row = (unsigned)b->k + pk->index;
  if (b->have[row]) {
    rx->st.duplicates++;
    return 0;
  }
  b->L = pk->shard_len;
  memcpy(b->shard[row], pk->shard, pk->shard_len);
  b->have[row] = 1;
  return recover(rx, b, out);
}

int bf_audio_rx_push(bf_audio_rx *rx, const uint8_t *d, size_t len, bf_audio_frame *out,
                     bf_audio_params *p) {
  bf_audio_pkt pk;
  rx->st.datagrams++;
  if (bf_audio_decode(d, len, &pk) < 0) {
    rx->st.malformed++;
    return -EBADMSG;
  }
  if (pk.type == BF_AUDIO_REQUEST) {
    rx->st.requests++;
    return 0;
  }
  if (p) *p = pk.p;
  return pk.type == BF_AUDIO_DATA ? push_data(rx, &pk, out) : push_parity(rx, &pk, out);
}
