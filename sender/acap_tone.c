/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The test tone as a sound source (audio_capture.h): frame k of a run is
 * the tone from r0 + k F' on, handed out when the monotonic clock reaches
 * m0 + (k + 1) F', where F' = F / (1 + drift_ppm / 1e6): with a drift the
 * sample clock runs fast (or slow) against the wall clock, as two machines'
 * audio clocks do, while every frame still carries its true capture time.
 * A wake-up more than 200 ms late (a stalled machine) starts a new run.
 */
#include "audio_capture.h"
#include "tone.h"

#include <bildfunk/clock.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef struct tone_src {
  bf_tone tone;
  uint64_t m0, r0; /* the run's start: monotonic and realtime */
  uint64_t k;      /* frames handed out in this run */
  uint64_t frame_ns; /* F' */
} tone_src;

static void tone_restart(bf_acap *a) {
  tone_src *t = a->impl;
  t->m0 = bf_clock_mono_ns();
  t->r0 = bf_clock_realtime_ns();
  t->k = 0;
}

static int tone_open(bf_acap *a, char *err, size_t cap) {
  (void)err, (void)cap;
  tone_src *t = calloc(1, sizeof *t);
  if (!t) return -ENOMEM;
  double f = (double)a->cfg.frame_samples * 1e9 / 48000.0;
  t->frame_ns = (uint64_t)(f / (1.0 + (double)a->cfg.drift_ppm / 1e6) + 0.5);
  a->impl = t;
  tone_restart(a);
  if (a->cfg.drift_ppm)
    snprintf(a->desc, sizeof a->desc, "test tone (sample clock %+lld ppm)",
             (long long)a->cfg.drift_ppm);
  else
    snprintf(a->desc, sizeof a->desc, "test tone");
  return 0;
}

static int tone_read(bf_acap *a, int16_t *pcm, uint64_t *capture_ns, char *err, size_t cap) {
  (void)err, (void)cap;
  tone_src *t = a->impl;
  uint64_t due = t->m0 + (t->k + 1) * t->frame_ns;
  uint64_t now = bf_clock_mono_ns();
  if (now > due + 200 * BF_MS_NS) { /* stalled: a new run */
    tone_restart(a);
    due = t->m0 + t->frame_ns;
  }
  struct timespec ts = {(time_t)(due / BF_SEC_NS), (long)(due % BF_SEC_NS)};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
  }
  uint64_t t0 = t->r0 + t->k * t->frame_ns;
  bf_tone_fill(&t->tone, pcm, a->cfg.frame_samples, 2, t0, t->frame_ns);
  *capture_ns = t0;
  t->k++;
  return 0;
}

static void tone_close(bf_acap *a) {
  free(a->impl);
}

const bf_acap_ops bf_acap_tone_ops = {tone_open, tone_read, tone_restart, tone_close};
