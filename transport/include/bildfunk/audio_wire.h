/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Sound on the data plane (docs/protocol.md §8.2): the audio datagram codec
 * and its Reed-Solomon protection over small blocks of frames. Sans-I/O:
 * bytes and a time in, bytes and frames out; no sockets, threads or clocks.
 *
 * Every audio datagram starts with 0xA0 (BF_MAGIC_AUDIO) and stays below
 * 552 bytes even when sealed (BF_AUDIO_MAX_PLAIN of plaintext), so the
 * channel's classifier tells it from video by length. Three types:
 *
 *   DATA     sender -> client: one Opus frame, its sequence number, the
 *            capture time of its first sample (sender CLOCK_REALTIME, the
 *            clock of the video pts) and the stream's parameters (frame
 *            length, channels, bitrate) and FEC shape (k, m, the frame's
 *            place in its block);
 *   PARITY   sender -> client: parity row j of the block of k frames that
 *            starts at seq; it protects each frame's "shard" (capture time,
 *            length, Opus bytes: the DATA body), zero-padded to the block's
 *            longest;
 *   REQUEST  client -> sender, direct mode only: "send me sound" (a control
 *            session says so with BF_CTL_CAP_AUDIO instead).
 *
 * bf_audio_tx (sender) numbers frames, builds DATA datagrams and, when a
 * block is full, its m PARITY datagrams. bf_audio_rx (client) hands each
 * DATA frame on at once and rebuilds lost ones as soon as k of a block's
 * k + m shards are there. Neither holds anything back for ordering: the
 * client's jitter buffer does that.
 *
 * Memory: a bf_audio_tx holds one block (BF_AUDIO_FEC_MAX_K + M shards of
 * BF_AUDIO_SHARD_MAX bytes, ~6 KiB); a bf_audio_rx BF_AUDIO_RX_BLOCKS such
 * blocks (~100 KiB), all allocated at _new; nothing per datagram. Latency:
 * a lost frame can be rebuilt once its block's last data frame and enough
 * parity came: up to (k - 1 - its place) frames plus the parity's own
 * arrival after it. Threads: one per object.
 */
#ifndef BILDFUNK_AUDIO_WIRE_H
#define BILDFUNK_AUDIO_WIRE_H

#include <bildfunk/common.h>

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BF_AUDIO_MAGIC 0xA0u
enum { BF_AUDIO_DATA = 1, BF_AUDIO_PARITY = 2, BF_AUDIO_REQUEST = 3 };

#define BF_AUDIO_RATE 48000u   /* samples per second, always */
#define BF_AUDIO_HDR_BYTES 16u /* common header */
#define BF_AUDIO_SHARD_HEAD 10u /* capture_ns u64 + opus_len u16 */
#define BF_AUDIO_REQUEST_BYTES 4u
/* Below 552 sealed: 551 - 24 (seal overhead) bytes of plaintext. */
#define BF_AUDIO_MAX_PLAIN 527u
/* The largest shard (a DATA body) and Opus packet that fit. */
#define BF_AUDIO_SHARD_MAX (BF_AUDIO_MAX_PLAIN - BF_AUDIO_HDR_BYTES)
#define BF_AUDIO_MAX_OPUS (BF_AUDIO_SHARD_MAX - BF_AUDIO_SHARD_HEAD)
#define BF_AUDIO_FEC_MAX_K 8u
#define BF_AUDIO_FEC_MAX_M 4u
#define BF_AUDIO_RX_BLOCKS 16u

/* The stream's parameters, in every DATA and PARITY datagram. */
typedef struct bf_audio_params {
  uint8_t frame_units;   /* frame length in 2.5 ms units: 2 = 5 ms, 4 = 10 ms (1..8) */
  uint8_t channels;      /* 1 or 2 */
  uint16_t bitrate_kbps; /* the encoder's constant bitrate (information) */
} bf_audio_params;

/* Samples per channel in one frame of |p| (120 per unit at 48 kHz). */
static inline unsigned bf_audio_frame_samples(const bf_audio_params *p) {
  return 120u * p->frame_units;
}

/* A decoded audio datagram; pointers into the datagram. */
typedef struct bf_audio_pkt {
  uint8_t type; /* BF_AUDIO_* */
  bf_audio_params p;
  uint8_t k, m;    /* FEC shape: k frames per block, m parity (0 = none) */
  uint8_t index;   /* DATA: place in the block (< k); PARITY: parity row (< m) */
  uint32_t seq;    /* DATA: the frame; PARITY: the block's first frame */
  uint64_t capture_ns;    /* DATA */
  const uint8_t *opus;    /* DATA: the Opus packet */
  size_t opus_len;        /* DATA: 1..BF_AUDIO_MAX_OPUS */
  const uint8_t *shard;   /* DATA: the body (the protected shard); PARITY: parity */
  size_t shard_len;       /* DATA: 10 + opus_len; PARITY: the block's shard length */
} bf_audio_pkt;

/* Parses |d| (|len| bytes, plaintext). Returns 0, or -EBADMSG when it is
 * not a well-formed audio datagram (magic, type, lengths, ranges: k 1..8,
 * m 0..4, index in range, frame_units 1..8, channels 1..2). Trailing bytes
 * after a DATA or PARITY body are an error; a REQUEST may be longer (room
 * to extend it). Pure; never reads past |len|. */
int bf_audio_decode(const uint8_t *d, size_t len, bf_audio_pkt *out);

/* Writes the 4-byte REQUEST into |out| (cap >= 4). Returns 4 or -EINVAL. */
int bf_audio_encode_request(uint8_t *out, size_t cap);

/* One datagram to send: |len| bytes in the tx's own storage. */
typedef struct bf_audio_out {
  const uint8_t *d;
  size_t len;
} bf_audio_out;

typedef struct bf_audio_tx bf_audio_tx;

/* A packer for |p| with blocks of |k| frames and |m| parity datagrams each
 * (m = 0: no FEC; k must then be 1). Returns 0, -EINVAL or -ENOMEM. */
int bf_audio_tx_new(const bf_audio_params *p, unsigned k, unsigned m, bf_audio_tx **out);
void bf_audio_tx_del(bf_audio_tx **tx);

/* Packs Opus frame |opus| (|len| bytes, 1..BF_AUDIO_MAX_OPUS) captured at
 * |capture_ns|: its DATA datagram, and when it completes a block the
 * block's PARITY datagrams, into |out| (room for 1 + m). Returns how many,
 * or a negative errno (-EINVAL, -EMSGSIZE, -ENOMEM). The bytes stay valid
 * until the next call. */
int bf_audio_tx_frame(bf_audio_tx *tx, uint64_t capture_ns, const uint8_t *opus, size_t len,
                      bf_audio_out *out);
/* The next frame's sequence number. */
uint32_t bf_audio_tx_seq(const bf_audio_tx *tx);

/* One frame the receiver hands on; |opus| points into the rx (valid until
 * the next push). */
typedef struct bf_audio_frame {
  uint32_t seq;
  uint64_t capture_ns; /* sender clock */
  const uint8_t *opus;
  size_t opus_len;
  int recovered; /* rebuilt from parity */
} bf_audio_frame;

typedef struct bf_audio_rx_stats {
  uint64_t datagrams; /* pushed */
  uint64_t data;      /* DATA datagrams taken */
  uint64_t parity;    /* PARITY datagrams taken */
  uint64_t requests;  /* REQUESTs (not for a client): ignored */
  uint64_t malformed; /* rejected by bf_audio_decode, or inconsistent with their block */
  uint64_t duplicates;
  uint64_t recovered;       /* frames rebuilt from parity */
  uint64_t blocks_evicted;  /* blocks pushed out with frames still missing */
  uint64_t frames_missing;  /* ... how many frames those lacked */
} bf_audio_rx_stats;

typedef struct bf_audio_rx bf_audio_rx;

int bf_audio_rx_new(bf_audio_rx **out);
void bf_audio_rx_del(bf_audio_rx **rx);
/* Forgets every block (a new stream). Counters stay. */
void bf_audio_rx_reset(bf_audio_rx *rx);

/* Takes one audio datagram: writes the frames it yields (its own DATA
 * frame, and frames rebuilt from parity) into |out| (room for
 * 1 + BF_AUDIO_FEC_MAX_M) and the stream's parameters into |p| when it
 * carried them. Returns the number of frames (0: nothing new) or -EBADMSG
 * (counted as malformed). */
int bf_audio_rx_push(bf_audio_rx *rx, const uint8_t *d, size_t len, bf_audio_frame *out,
                     bf_audio_params *p);
void bf_audio_rx_stats_get(const bf_audio_rx *rx, bf_audio_rx_stats *st);

#ifdef __cplusplus
}
#endif

#endif /* BILDFUNK_AUDIO_WIRE_H */
