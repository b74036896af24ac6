/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Sound sources of bildfunk-send (`--audio`): one interface, one file per
 * backend, chosen by bf_acap_open:
 *
 *   testsrc        acap_tone.c   the test tone (tone.h), paced by the
 *                                monotonic clock, its sample clock
 *                                optionally off by drift_ppm (a test option)
 *   pulse[:SRC]    acap_pulse.c  PulseAudio/PipeWire capture through
 *                                libpulse-simple; default the default
 *                                sink's monitor (@DEFAULT_MONITOR@)
 *   file           acap_file.c   the picture file's own sound: libavcodec
 *                                decodes it, libswresample makes 48 kHz
 *                                stereo; paced from the picture's anchor
 *                                (bf_file_anchor) so it stays in step with
 *                                the video and starts over with it
 *
 * A source hands out one frame per bf_acap_read: frame_samples samples per
 * channel, s16 interleaved stereo, and the capture time of its first sample
 * on CLOCK_REALTIME (the clock of the video pts). bf_acap_read blocks until
 * the frame is complete (about one frame duration): it runs on the sender's
 * audio thread (send_audio.h), never on the loop's.
 *
 * Ownership: the caller's config strings must outlive the source; the
 * anchor is borrowed. One thread per source.
 */
#ifndef BF_SENDER_AUDIO_CAPTURE_H
#define BF_SENDER_AUDIO_CAPTURE_H

#include "send_cli.h" /* bf_audio_src */

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/* Where the picture file's current pass began: written by the video stage
 * (one lock per pass), read by the file sound source. */
typedef struct bf_file_anchor {
  pthread_mutex_t mu;
  uint32_t pass;    /* passes begun, 0 = none yet */
  uint64_t real_ns; /* capture time (pts) of the pass's first picture */
  int64_t media_ns; /* that picture's position in the file */
} bf_file_anchor;

void bf_file_anchor_init(bf_file_anchor *a);
void bf_file_anchor_destroy(bf_file_anchor *a);
void bf_file_anchor_set(bf_file_anchor *a, uint32_t pass, uint64_t real_ns, int64_t media_ns);
/* 1 and the anchor when a pass has begun, else 0. */
int bf_file_anchor_get(bf_file_anchor *a, uint32_t *pass, uint64_t *real_ns, int64_t *media_ns);

typedef struct bf_acap_config {
  bf_audio_src kind;
  const char *arg;         /* pulse: the source name (NULL = default sink's monitor);
                              file: the path */
  unsigned frame_samples;  /* per channel: 240 (5 ms) or 480 (10 ms) */
  int64_t drift_ppm;       /* testsrc: the sample clock runs this much fast */
  bf_file_anchor *anchor;  /* file: the picture's passes */
  int verbose;
} bf_acap_config;

typedef struct bf_acap bf_acap;

/* The backends' table (one per file). */
typedef struct bf_acap_ops {
  int (*open)(bf_acap *a, char *err, size_t cap);
  int (*read)(bf_acap *a, int16_t *pcm, uint64_t *capture_ns, char *err, size_t cap);
  void (*restart)(bf_acap *a);
  void (*close)(bf_acap *a);
} bf_acap_ops;

struct bf_acap {
  bf_acap_config cfg;
  const bf_acap_ops *ops;
  void *impl; /* the backend's state */
  char desc[160];
};

extern const bf_acap_ops bf_acap_tone_ops, bf_acap_pulse_ops, bf_acap_file_ops;

/* Opens the source |cfg| names. 0, or a negative errno with one line in
 * |err| (-ENODATA: a file without sound; -ECONNREFUSED: no PulseAudio
 * server). */
int bf_acap_open(const bf_acap_config *cfg, bf_acap **out, char *err, size_t cap);
/* The next frame into |pcm| (frame_samples x 2 s16) and its capture time.
 * 0, -EAGAIN (none yet: call again), or a negative errno (message in err). */
int bf_acap_read(bf_acap *a, int16_t *pcm, uint64_t *capture_ns, char *err, size_t cap);
/* A stream (re)starts: forget what was captured meanwhile, new timing. */
void bf_acap_restart(bf_acap *a);
void bf_acap_close(bf_acap **a);

/* 1 when a PulseAudio server answers (the x11 source's default). */
int bf_acap_pulse_available(void);

#endif
