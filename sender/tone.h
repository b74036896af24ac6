/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The test tone of `--audio testsrc` (sans-I/O): a 1 kHz sine at -12 dBFS,
 * replaced by a 2 kHz beep for the first 50 ms of every whole second of the
 * capture clock (CLOCK_REALTIME, the clock of the video pts); the testsrc
 * picture flashes on the frame whose pts crosses that second
 * (bf_tone_second_crossed), so the audio/video offset can be measured from
 * outside (the client's A/V markers, tests/audio).
 *
 * The phase runs on from frame to frame (no click between frames); each
 * sample's time decides beep or tone. No clock is read here: the caller
 * says when each frame's samples were captured.
 */
#ifndef BF_SENDER_TONE_H
#define BF_SENDER_TONE_H

#include <stdint.h>

#define BF_TONE_HZ 1000.0
#define BF_TONE_BEEP_HZ 2000.0
#define BF_TONE_BEEP_NS 50000000ull
#define BF_TONE_AMPLITUDE 8231 /* -12 dBFS of 32767 */

typedef struct bf_tone {
  double phase; /* radians, in [0, 2 pi) */
} bf_tone;

/* 1 when the beep sounds at capture time |t_ns|. */
int bf_tone_is_beep(uint64_t t_ns);

/* Writes |n| samples per channel (|channels| interleaved, s16) captured
 * from |t0_ns|, |span_ns| apart in all (sample i at t0 + i * span / n). */
void bf_tone_fill(bf_tone *t, int16_t *pcm, unsigned n, unsigned channels, uint64_t t0_ns,
                  uint64_t span_ns);

/* 1 when a picture at |pts_ns| is the first at or after a whole second
 * since the previous picture at |prev_ns| (0: none yet, no flash). */
int bf_tone_second_crossed(uint64_t prev_ns, uint64_t pts_ns);

#endif
