/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Audio/video sync, measured (sans-I/O, the loop's thread):
 *
 *   - from the timestamps: the video's capture-to-present latency (median
 *     of the last 64 presented pictures) is the playout's sync target
 *     (audio_playout.h): sound is delayed to meet the picture; the picture
 *     is never held back for the sound (a game's input lag matters more);
 *     the offset shown is audio latency - video latency;
 *   - from the content, when the stream carries the test markers (the
 *     sender's testsrc: a 2 kHz beep and a white picture at every whole
 *     second of the capture clock, sender/tone.h): a beep's onset in what
 *     was handed to the device, paired with the flash picture presented
 *     within 400 ms of it, gives offset = (beep - flash) + (flash pts - its
 *     whole second). Positive: the sound comes late. This catches what the
 *     timestamps cannot (a sender that stamps its sound wrongly);
 *   - per pair, the residual: the marker offset minus what the timestamps
 *     say of that very beep and flash (the beep's audio latency - the flash
 *     picture's video latency): what the timestamps miss, 0 for a sender
 *     that stamps right, however the latencies move (a loaded machine).
 */
#ifndef BF_CLIENT_AV_SYNC_H
#define BF_CLIENT_AV_SYNC_H

#include <libavutil/frame.h>

#include <stdint.h>

#define BF_AVSYNC_KEEP 8u
#define BF_AVSYNC_OFFSETS 64u

typedef struct bf_avsync {
  struct {
    uint64_t t_ns;  /* presented, client clock */
    int64_t frac_ns; /* its pts past the whole second */
    int64_t lat_ns;  /* its capture-to-present latency */
  } flash[BF_AVSYNC_KEEP];
  unsigned n_flash;
  struct {
    uint64_t t_ns;  /* its onset handed to the device, client clock */
    int64_t lat_ns; /* the audio latency there */
  } beep[BF_AVSYNC_KEEP];
  unsigned n_beep;
  int64_t offsets[BF_AVSYNC_OFFSETS];
  int64_t residuals[BF_AVSYNC_OFFSETS]; /* the same pairs' residuals */
  unsigned n_off, i_off;
  uint64_t pairs, flashes, beeps;
  int64_t vlat[64];
  unsigned n_vlat, i_vlat;
} bf_avsync;

void bf_avsync_init(bf_avsync *s);
/* 1 when |f| (a decoded yuv picture in system memory) is the test
 * pattern's flash: 64 points below the top quarter all bright. */
int bf_avsync_is_flash(const AVFrame *f);
/* A picture presented at |present_ns| (client clock) with sender pts
 * |pts_ns| and capture-to-present latency |latency_ns|; |flash| from
 * bf_avsync_is_flash. */
void bf_avsync_on_picture(bf_avsync *s, uint64_t present_ns, uint64_t pts_ns, int64_t latency_ns,
                          int flash);
/* A beep began at |t_ns| in what was handed to the device, with audio
 * latency |latency_ns| (capture -> handed to the device). */
void bf_avsync_on_beep(bf_avsync *s, uint64_t t_ns, int64_t latency_ns);
/* The video's latency now (median of the recent pictures), 0 = none. */
uint64_t bf_avsync_video_latency(const bf_avsync *s);
/* The marker offsets: 1 and the last and median when there is one. */
int bf_avsync_marker(const bf_avsync *s, int64_t *last_ns, int64_t *median_ns);
/* The median residual of the pairs (0 when there is none). */
int64_t bf_avsync_residual(const bf_avsync *s);

#endif
