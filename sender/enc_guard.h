/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Frame-rate guard of the encoder (sans-I/O): watches the encode time of
 * every picture and says when to step to a faster preset (the encoder cannot
 * keep the frame rate) or back to a slower one (there is room again). The
 * caller (send_video.c) does the step: it reopens the encoder with the new
 * preset, whose first picture is a keyframe, and logs one line.
 *
 * Ladders: libx264/libx265 ultrafast..veryslow (faster = earlier);
 * libsvtav1 presets 0..13 (faster = higher). Other encoders (hardware) have
 * no ladder: the guard stays off. --preset pins the preset: the guard is
 * not used.
 *
 * Rule, per window of |window| pictures (default: one second of frames):
 *  - p95 of the window's encode times above the frame interval in
 *    |slow_windows| (2) windows in a row: one step faster;
 *  - p95 below |room_permille| (500) of the interval in |room_windows| (10)
 *    windows in a row, and not slower than the starting preset: one step
 *    back. A preset the guard left for being too slow needs twice as many
 *    roomy windows each time it failed (at most 64x), so a machine at the
 *    edge does not oscillate.
 * Not the encoder, no clock: times are passed in. Not thread-safe.
 */
#ifndef BF_SENDER_ENC_GUARD_H
#define BF_SENDER_ENC_GUARD_H

#include "hist.h"

#include <stdint.h>

#define BF_GUARD_MAX_STEPS 14u

typedef struct bf_enc_guard {
  int active;           /* the encoder has a ladder and --preset was not given */
  int svt;              /* numbers 0..13 (else the x264/x265 names) */
  unsigned pos, start;  /* ladder position now / at open: slow = higher */
  unsigned n;           /* ladder length */
  uint64_t interval_ns; /* the frame interval */
  unsigned window;      /* pictures per window */
  unsigned slow_windows, room_windows, room_permille;
  unsigned slow_run, room_run;
  unsigned fails[BF_GUARD_MAX_STEPS]; /* times a position was left for being slow */
  bf_hist win;                        /* the current window's encode times */
  uint64_t steps_down, steps_up;      /* counters */
  uint64_t last_p95_ns;               /* of the window that decided the last step */
} bf_enc_guard;

/* Sets up the guard for encoder |name| (libavcodec name) started with
 * |preset| (NULL: the wrapper's default for it) at |interval_ns|. The guard
 * is off (active 0) when |pinned| or the encoder has no ladder. */
void bf_enc_guard_init(bf_enc_guard *g, const char *name, const char *preset, int pinned,
                       uint64_t interval_ns);

/* One picture's encode time. Returns -1 (step to a faster preset), +1 (back
 * to a slower one) or 0. After a non-zero return bf_enc_guard_preset names
 * the new preset and a new window begins. */
int bf_enc_guard_add(bf_enc_guard *g, uint64_t encode_ns);

/* The preset at the current position, written to |buf| (x264/x265 name or
 * SVT-AV1 number); "" when the guard is off. */
const char *bf_enc_guard_preset(const bf_enc_guard *g, char *buf, unsigned cap);

#endif
