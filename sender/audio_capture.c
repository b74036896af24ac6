/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Sound sources: the dispatch of audio_capture.h and the file anchor.
 */
#include "audio_capture.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

void bf_file_anchor_init(bf_file_anchor *a) {
  pthread_mutex_init(&a->mu, NULL);
  a->pass = 0;
  a->real_ns = 0;
  a->media_ns = 0;
}

void bf_file_anchor_destroy(bf_file_anchor *a) {
  pthread_mutex_destroy(&a->mu);
}

void bf_file_anchor_set(bf_file_anchor *a, uint32_t pass, uint64_t real_ns, int64_t media_ns) {
  pthread_mutex_lock(&a->mu);
  a->pass = pass;
  a->real_ns = real_ns;
  a->media_ns = media_ns;
  pthread_mutex_unlock(&a->mu);
}

int bf_file_anchor_get(bf_file_anchor *a, uint32_t *pass, uint64_t *real_ns, int64_t *media_ns) {
  pthread_mutex_lock(&a->mu);
  *pass = a->pass;
  *real_ns = a->real_ns;
  *media_ns = a->media_ns;
  pthread_mutex_unlock(&a->mu);
  return *pass != 0;
}

int bf_acap_open(const bf_acap_config *cfg, bf_acap **out, char *err, size_t cap) {
  *out = NULL;
  const bf_acap_ops *ops = cfg->kind == BF_AUDIO_SRC_TESTSRC ? &bf_acap_tone_ops
                           : cfg->kind == BF_AUDIO_SRC_PULSE ? &bf_acap_pulse_ops
                           : cfg->kind == BF_AUDIO_SRC_FILE  ? &bf_acap_file_ops
                                                             : NULL;
  if (!ops || !cfg->frame_samples) {
    snprintf(err, cap, "no such sound source");
    return -EINVAL;
  }
  bf_acap *a = calloc(1, sizeof *a);
  if (!a) return -ENOMEM;
  a->cfg = *cfg;
  a->ops = ops;
  int r = ops->open(a, err, cap);
  if (r < 0) {
    free(a);
    return r;
  }
  *out = a;
  return 0;
}

int bf_acap_read(bf_acap *a, int16_t *pcm, uint64_t *capture_ns, char *err, size_t cap) {
  return a->ops->read(a, pcm, capture_ns, err, cap);
}

void bf_acap_restart(bf_acap *a) {
  a->ops->restart(a);
}

void bf_acap_close(bf_acap **pa) {
  if (!pa || !*pa) return;
  (*pa)->ops->close(*pa);
  free(*pa);
  *pa = NULL;
}
