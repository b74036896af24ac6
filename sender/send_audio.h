/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The sender's audio stage: capture -> Opus -> audio datagrams (with their
 * Reed-Solomon parity) -> the data channel, on a thread of its own.
 *
 * Why a thread: the loop (send_loop.h) can be inside a video encode for a
 * whole picture (libx264 at 1080p: 8-30 ms), and a 5 ms sound frame cannot
 * wait for that; libpulse-simple blocks in its read anyway. The thread
 * sends through the same channel as the loop (bf_channel_send; the channel
 * is opened with cfg.send_threads, which puts its sealer, peer and send
 * counters under one mutex: docs/architecture.md), so every datagram is
 * sealed once with its own seq and goes to the client of the moment.
 *
 * Encoding: libopus at 48 kHz stereo, frames of 5 or 10 ms, the restricted
 * low-delay application (CELT only: 2.5 ms of look-ahead instead of 6.5),
 * constant bitrate. Each frame keeps the capture time of its first sample
 * (CLOCK_REALTIME, the clock of the video pts) and goes out as soon as it
 * is encoded.
 *
 * Control (from the loop's thread): bf_send_audio_start when a client that
 * asked for sound is streamed to (control mode: its Hello had
 * BF_CTL_CAP_AUDIO and the Welcome says BF_CTL_WELCOME_AUDIO; direct mode:
 * it sends audio REQUEST datagrams), bf_send_audio_stop when streaming
 * stops. Between them the thread waits on a condition variable (no
 * capture, no CPU); a start restarts the source's timing.
 *
 * Queues: none. A frame is captured, encoded and sent by the same thread
 * in one step; latency from the frame's last sample to the socket is the
 * encode (~0.1 ms) and the seal. Ownership: the stage owns its source,
 * encoder and packer; the channel is borrowed and must outlive it.
 */
#ifndef BF_SENDER_SEND_AUDIO_H
#define BF_SENDER_SEND_AUDIO_H

#include "audio_capture.h"

#include <bildfunk/channel.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#define BF_SEND_AUDIO_NICE (-10) /* the thread's priority, when it may raise it */

typedef struct bf_send_audio_config {
  bf_acap_config src;
  unsigned frame_ms;     /* 5 or 10 */
  unsigned bitrate;      /* bit/s, constant */
  unsigned fec_k, fec_m; /* Reed-Solomon blocks of k frames + m parity (m 0: none) */
  int64_t offset_ns;     /* a test option: added to every capture time */
} bf_send_audio_config;

typedef struct bf_send_audio_stats {
  uint64_t frames, bytes, datagrams, send_dropped, starts;
  uint64_t encode_ns_max, encode_ns_sum;
  uint64_t cpu_ns; /* the thread's CPU time (capture, encode, seal, send) */
  int nice;        /* the thread's priority (BF_SEND_AUDIO_NICE when it had the right) */
} bf_send_audio_stats;

typedef struct bf_send_audio {
  bf_send_audio_config cfg;
  bf_channel *ch; /* borrowed */
  bf_acap *src;
  void *enc; /* OpusEncoder */
  void *tx;  /* bf_audio_tx */
  pthread_t th;
  int running;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int want, quit; /* under mu */
  uint64_t gen;   /* starts so far, under mu */
  atomic_int failed;
  char err[256]; /* why it failed (written before failed is set) */
  /* counters: written by the thread, read by the loop */
  atomic_ullong frames, bytes, datagrams, send_dropped, encode_ns_max, encode_ns_sum, cpu_ns;
  atomic_int nice;
  uint64_t starts;
} bf_send_audio;

/* Opens the source and the encoder and starts the (waiting) thread. 0 or a
 * negative errno with one line in |err|. */
int bf_send_audio_open(bf_send_audio *a, const bf_send_audio_config *cfg, bf_channel *ch,
                       char *err, size_t cap);
/* Stops the thread and frees everything. Safe on a zeroed |a|. */
void bf_send_audio_close(bf_send_audio *a);
/* A client that wants sound is streamed to / no longer. Idempotent. */
void bf_send_audio_start(bf_send_audio *a);
void bf_send_audio_stop(bf_send_audio *a);
int bf_send_audio_active(bf_send_audio *a);
/* The thread failed (the source died): 1 and the reason in |err|. */
int bf_send_audio_failed(bf_send_audio *a, char *err, size_t cap);
void bf_send_audio_stats_get(const bf_send_audio *a, bf_send_audio_stats *st);
const char *bf_send_audio_describe(const bf_send_audio *a);

#endif
