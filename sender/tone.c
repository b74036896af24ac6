/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The test tone: see tone.h.
 */
#include "tone.h"

#include <math.h>

#define SEC 1000000000ull

int bf_tone_is_beep(uint64_t t_ns) {
  return t_ns % SEC < BF_TONE_BEEP_NS;
}

void bf_tone_fill(bf_tone *t, int16_t *pcm, unsigned n, unsigned channels, uint64_t t0_ns,
                  uint64_t span_ns) {
  const double two_pi = 6.283185307179586;
  for (unsigned i = 0; i < n; i++) {
    uint64_t ti = t0_ns + span_ns * i / n;
    double hz = bf_tone_is_beep(ti) ? BF_TONE_BEEP_HZ : BF_TONE_HZ;
    int16_t v = (int16_t)lrint(BF_TONE_AMPLITUDE * sin(t->phase));
    for (unsigned c = 0; c < channels; c++)
      pcm[i * channels + c] = v;
    t->phase += two_pi * hz / 48000.0;
    if (t->phase >= two_pi) t->phase -= two_pi;
  }
}

int bf_tone_second_crossed(uint64_t prev_ns, uint64_t pts_ns) {
  return prev_ns && pts_ns / SEC != prev_ns / SEC;
}
