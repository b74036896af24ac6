/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The client's sound, stream side (the loop's thread): audio datagrams
 * from the data channel (BF_DKIND_AUDIO) through the Reed-Solomon receiver
 * (bildfunk/audio_wire.h) into a ring to the device's thread, where the
 * playout (audio_playout.h) decodes and schedules them; its reports come
 * back through another ring into the statistics; the A/V markers
 * (av_sync.h); the direct mode's audio REQUESTs; the mute switch.
 *
 *   channel -> bf_audio_rx -> frames ring (128) -> [device thread]
 *           playout -> device;  reports ring (256) -> statistics, av_sync
 *
 * Queues: the frames ring holds at most 128 frames (640 ms of 5 ms frames;
 * the playout takes all of them at every device period, so it holds at
 * most one period's worth, 5 ms); full, a frame is dropped and counted
 * (ring_full). The reports ring holds 256 device periods (1.3 s), drained
 * every loop turn; full, reports are lost (counted), never waited for.
 * The device is opened when the first audio datagram arrives (nothing runs
 * while the sender sends no sound), on a thread of its own: SDL's audio
 * init and the driver's configuration (ALSA: 30 ms and more, some MiB)
 * stay out of the receive path, and the frames that arrive meanwhile are
 * dropped (counted with ring_full), not queued in the socket to play late.
 * One that cannot be opened is said once and the sound is dropped
 * (counted).
 *
 * Ownership: the stream owns the rx, the rings, the playout and the
 * device; the channel is borrowed (its audio handler is removed at close).
 */
#ifndef BF_CLIENT_AUDIO_STREAM_H
#define BF_CLIENT_AUDIO_STREAM_H

#include "audio/av_sync.h"

#include <bildfunk/channel.h>

#include <stddef.h>
#include <stdint.h>

typedef struct bf_astream_config {
  const char *device; /* --audio-device, NULL = the default */
  int request;        /* direct mode: ask for sound with REQUEST datagrams */
  int quiet;          /* no log lines */
} bf_astream_config;

typedef struct bf_astream bf_astream;

/* The figures for the overlay, --stats-json and the report. */
typedef struct bf_astream_figures {
  int playing;          /* a device is open and frames came */
  int muted;
  const char *device;   /* its description, or why there is none */
  uint64_t datagrams, frames, recovered, malformed, ring_full;
  uint64_t decoded, concealed, late, underruns, resets, skipped_ms, inserted_ms;
  uint64_t lost, late_input;   /* of concealed, with underruns: audio_playout.h */
  uint64_t stalled;            /* concealed before the stream restarted (the input stopped) */
  uint64_t device_late;        /* device calls more than a period late (a busy machine) */
  double device_late_ms;       /* ... by this much in all */
  double conceal_run_max_ms;   /* the longest run of concealment */
  double undecoded_max_ms;     /* the longest output with no frame decoded */
  uint64_t kernel_drops;       /* datagrams of every kind the data socket's receive queue
                                  dropped (the loop did not read in time: a busy machine) */
  double lat_p50_ms, lat_p95_ms;         /* recent (about 5 s) */
  double lat_s50_ms, lat_s95_ms, lat_s99_ms, lat_max_ms; /* the session */
  double target_ms, buffer_ms;           /* now */
  double buffer_min_ms, buffer_max_ms;   /* after the first 3 s of sound */
  double lat_settled_max_ms;             /* likewise */
  double ratio_ppm;                      /* resampling now */
  double device_ppm;                     /* of which the measured rates */
  double sender_ppm;                     /* the sender's clock, as measured here */
  double video_latency_ms;               /* the sync target */
  double av_offset_ms;                   /* audio - video latency, timestamps */
  int have_marker;
  double marker_last_ms, marker_median_ms;
  double marker_residual_ms; /* what the timestamps miss (av_sync.h) */
  uint64_t marker_pairs, beeps, flashes, reports_lost;
  double frame_ms;
} bf_astream_figures;

/* Takes the audio kind of |ch|. 0 or a negative errno (-ENOMEM). */
int bf_astream_open(const bf_astream_config *cfg, bf_channel *ch, bf_astream **out);
/* Stops the device, removes the handler, frees everything; clears |*a|. */
void bf_astream_close(bf_astream **a);

/* Each loop turn: the clock offset to the sender (capture times into the
 * client clock), the device's reports into the statistics, the sync
 * target, a REQUEST when due. */
void bf_astream_tick(bf_astream *a, uint64_t now_ns, int64_t clock_offset_ns);
/* When bf_astream_tick next has work (UINT64_MAX: none). */
uint64_t bf_astream_next_due(const bf_astream *a);

/* A picture was presented (the A/V sync and markers). */
void bf_astream_on_picture(bf_astream *a, const AVFrame *pic, uint64_t present_ns,
                           uint64_t pts_ns, int64_t latency_ns);
/* The mute hotkey: returns 1 when muted now. */
int bf_astream_toggle_mute(bf_astream *a);

void bf_astream_figures_get(const bf_astream *a, bf_astream_figures *f);
/* ", \"audio\": {...}" for --stats-json. */
void bf_astream_json(const bf_astream_figures *f, char *out, size_t cap);

#endif
