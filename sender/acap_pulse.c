/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * PulseAudio (or PipeWire's pulse server) as a sound source
 * (audio_capture.h), through libpulse-simple: s16 stereo at 48 kHz from
 * the named source, by default "@DEFAULT_MONITOR@", the default sink's
 * monitor: what the machine plays, as game-streaming hosts capture it.
 * The server is asked for fragments of one frame, so a read returns as soon
 * as a frame is complete.
 *
 * Capture time: the wall clock when the read returned, minus the frame and
 * the server's reported latency, smoothed (a frame's time is the previous
 * one's plus a frame, pulled 1/32 of the way toward the observation; a jump
 * of more than 20 ms, such as an overrun, is taken at once).
 */
#include "audio_capture.h"

#include <bildfunk/clock.h>

#include <pulse/error.h>
#include <pulse/simple.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_SOURCE "@DEFAULT_MONITOR@"

typedef struct pulse_src {
  pa_simple *pa;
  uint64_t last_ns; /* the previous frame's capture time, 0 = none */
  uint64_t frame_ns;
} pulse_src;

static pa_simple *connect_pa(const char *dev, unsigned frame_samples, int *e) {
  pa_sample_spec ss = {PA_SAMPLE_S16LE, 48000, 2};
  pa_buffer_attr ba;
  memset(&ba, 0xff, sizeof ba); /* (uint32_t)-1: the server's default */
  ba.fragsize = frame_samples * 4u;
  return pa_simple_new(NULL, "bildfunk-send", PA_STREAM_RECORD, dev, "game sound", &ss, NULL,
                       &ba, e);
}

int bf_acap_pulse_available(void) {
  int e;
  pa_simple *pa = connect_pa(DEFAULT_SOURCE, 240, &e);
  if (!pa) return 0;
  pa_simple_free(pa);
  return 1;
}

static int pulse_open(bf_acap *a, char *err, size_t cap) {
  pulse_src *p = calloc(1, sizeof *p);
  if (!p) return -ENOMEM;
  const char *dev = a->cfg.arg && *a->cfg.arg ? a->cfg.arg : DEFAULT_SOURCE;
  int e = 0;
  p->pa = connect_pa(dev, a->cfg.frame_samples, &e);
  if (!p->pa) {
    snprintf(err, cap, "pulse: cannot record from %s: %s", dev, pa_strerror(e));
    free(p);
    return e == PA_ERR_CONNECTIONREFUSED ? -ECONNREFUSED : -EIO;
  }
  p->frame_ns = (uint64_t)a->cfg.frame_samples * BF_SEC_NS / 48000u;
  a->impl = p;
  snprintf(a->desc, sizeof a->desc, "PulseAudio %.120s", dev);
  return 0;
}

static int pulse_read(bf_acap *a, int16_t *pcm, uint64_t *capture_ns, char *err, size_t cap) {
  pulse_src *p = a->impl;
  int e = 0;
  if (pa_simple_read(p->pa, pcm, a->cfg.frame_samples * 4u, &e) < 0) {
    snprintf(err, cap, "pulse: recording failed: %s", pa_strerror(e));
    return -EIO;
  }
  uint64_t now = bf_clock_realtime_ns();
  pa_usec_t lat = pa_simple_get_latency(p->pa, &e);
  if (lat == (pa_usec_t)-1) lat = 0;
  uint64_t obs = now - p->frame_ns - (uint64_t)lat * 1000u;
  uint64_t pred = p->last_ns + p->frame_ns;
  int64_t d = (int64_t)(obs - pred);
  if (!p->last_ns || d > 20 * (int64_t)BF_MS_NS || d < -20 * (int64_t)BF_MS_NS)
    *capture_ns = obs;
  else
    *capture_ns = (uint64_t)((int64_t)pred + d / 32);
  p->last_ns = *capture_ns;
  return 0;
}

static void pulse_restart(bf_acap *a) {
  pulse_src *p = a->impl;
  int e;
  (void)pa_simple_flush(p->pa, &e);
  p->last_ns = 0;
}

static void pulse_close(bf_acap *a) {
  pulse_src *p = a->impl;
  if (p->pa) pa_simple_free(p->pa);
  free(p);
}

const bf_acap_ops bf_acap_pulse_ops = {pulse_open, pulse_read, pulse_restart, pulse_close};
