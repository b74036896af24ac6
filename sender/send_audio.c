/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The sender's audio stage: see send_audio.h.
 */
#include "send_audio.h"

#include <bildfunk/audio_wire.h>
#include <bildfunk/clock.h>

#include <opus/opus.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static int open_encoder(bf_send_audio *a, char *err, size_t cap) {
  int e = 0;
  OpusEncoder *enc = opus_encoder_create(48000, 2, OPUS_APPLICATION_RESTRICTED_LOWDELAY, &e);
  if (!enc) {
    snprintf(err, cap, "opus: %s", opus_strerror(e));
    return -ENOMEM;
  }
  opus_encoder_ctl(enc, OPUS_SET_BITRATE((opus_int32)a->cfg.bitrate));
  opus_encoder_ctl(enc, OPUS_SET_VBR(0));
  opus_encoder_ctl(enc, OPUS_SET_SIGNAL(OPUS_SIGNAL_MUSIC));
  a->enc = enc;
  bf_audio_params p = {(uint8_t)(a->cfg.frame_ms * 2 / 5), 2, (uint16_t)(a->cfg.bitrate / 1000)};
  bf_audio_tx *tx;
  int r = bf_audio_tx_new(&p, a->cfg.fec_m ? a->cfg.fec_k : 1, a->cfg.fec_m, &tx);
  if (r < 0) {
    snprintf(err, cap, "audio packer: %s", bf_strerror(r));
    return r;
  }
  a->tx = tx;
  return 0;
}

static void fail(bf_send_audio *a, const char *msg) {
  snprintf(a->err, sizeof a->err, "%s", msg);
  atomic_store(&a->failed, 1);
}

static void max_store(atomic_ullong *m, uint64_t v) {
  unsigned long long cur = atomic_load(m);
  while (v > cur && !atomic_compare_exchange_weak(m, &cur, (unsigned long long)v)) {
  }
}

/* One frame: encode, pack, send. */
static void send_frame(bf_send_audio *a, const int16_t *pcm, uint64_t capture_ns) {
  uint8_t opus[BF_AUDIO_MAX_OPUS];
  unsigned n = a->cfg.frame_ms * 48u;
  uint64_t t0 = bf_clock_mono_ns();
  int len = opus_encode(a->enc, pcm, (int)n, opus, (opus_int32)sizeof opus);
  uint64_t dt = bf_clock_mono_ns() - t0;
  atomic_fetch_add(&a->encode_ns_sum, dt);
  max_store(&a->encode_ns_max, dt);
  if (len <= 0) return; /* an encoder error: this frame is lost (counted at the client) */
  bf_audio_out out[1 + BF_AUDIO_FEC_MAX_M];
  int k = bf_audio_tx_frame(a->tx, capture_ns + (uint64_t)a->cfg.offset_ns, opus, (size_t)len, out);
  atomic_fetch_add(&a->frames, 1);
  atomic_fetch_add(&a->bytes, (uint64_t)len);
  for (int i = 0; i < k; i++) {
    if (bf_channel_send(a->ch, out[i].d, out[i].len, NULL) == 1)
      atomic_fetch_add(&a->datagrams, 1);
    else
      atomic_fetch_add(&a->send_dropped, 1);
  }
}

/* The thread asks for a higher priority (nice BF_SEND_AUDIO_NICE), as SDL
 * does for the client's device thread: a capture woken late on a busy
 * machine is a frame sent late, and the client's jitter allowance (its
 * latency) follows the late ones. Without the right (RLIMIT_NICE, root) it
 * stays where it is; the nice in force is in the statistics. */
static void raise_priority(bf_send_audio *a) {
  id_t tid = (id_t)gettid();
  (void)setpriority(PRIO_PROCESS, tid, BF_SEND_AUDIO_NICE);
  errno = 0;
  int n = getpriority(PRIO_PROCESS, tid);
  atomic_store(&a->nice, errno ? 0 : n);
}

static void *thread_main(void *arg) {
  bf_send_audio *a = arg;
  raise_priority(a);
  int16_t pcm[480 * 2];
  uint64_t gen = 0;
  for (;;) {
    pthread_mutex_lock(&a->mu);
    while (!a->quit && !a->want)
      pthread_cond_wait(&a->cv, &a->mu);
    int quit = a->quit;
    uint64_t g = a->gen;
    pthread_mutex_unlock(&a->mu);
    if (quit) break;
    if (g != gen) {
      gen = g;
      bf_acap_restart(a->src);
    }
    uint64_t cap_ns;
    char err[256] = "";
    int r = bf_acap_read(a->src, pcm, &cap_ns, err, sizeof err);
    if (r == -EAGAIN) continue;
    if (r < 0) {
      fail(a, err[0] ? err : "the sound source failed");
      break;
    }
    pthread_mutex_lock(&a->mu);
    int want = a->want && a->gen == gen;
    pthread_mutex_unlock(&a->mu);
    if (want) send_frame(a, pcm, cap_ns);
    struct timespec cpu;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu) == 0)
      atomic_store(&a->cpu_ns, (uint64_t)cpu.tv_sec * BF_SEC_NS + (uint64_t)cpu.tv_nsec);
  }
  return NULL;
}

int bf_send_audio_open(bf_send_audio *a, const bf_send_audio_config *cfg, bf_channel *ch,
                       char *err, size_t cap) {
  memset(a, 0, sizeof *a);
  a->cfg = *cfg;
  a->ch = ch;
  a->cfg.src.frame_samples = cfg->frame_ms * 48u;
  int r = bf_acap_open(&a->cfg.src, &a->src, err, cap);
  if (r == 0) r = open_encoder(a, err, cap);
  if (r == 0 && (pthread_mutex_init(&a->mu, NULL) || pthread_cond_init(&a->cv, NULL))) r = -ENOMEM;
  if (r == 0) {
    if (pthread_create(&a->th, NULL, thread_main, a) != 0) {
      snprintf(err, cap, "cannot start the audio thread");
      r = -EAGAIN;
    } else {
      pthread_setname_np(a->th, "bf-audio"); /* for top, perf and bench/audio.sh */
      a->running = 1;
    }
  }
  if (r < 0) bf_send_audio_close(a);
  return r;
}

void bf_send_audio_close(bf_send_audio *a) {
  if (a->running) {
    pthread_mutex_lock(&a->mu);
    a->quit = 1;
    pthread_cond_signal(&a->cv);
    pthread_mutex_unlock(&a->mu);
    pthread_join(a->th, NULL);
    a->running = 0;
    pthread_cond_destroy(&a->cv);
    pthread_mutex_destroy(&a->mu);
  }
  if (a->enc) opus_encoder_destroy(a->enc);
  a->enc = NULL;
  bf_audio_tx *tx = a->tx;
  bf_audio_tx_del(&tx);
  a->tx = NULL;
  bf_acap_close(&a->src);
}

void bf_send_audio_start(bf_send_audio *a) {
  if (!a->running) return;
  pthread_mutex_lock(&a->mu);
  if (!a->want) {
    a->want = 1;
    a->gen++;
    a->starts++;
    pthread_cond_signal(&a->cv);
  }
  pthread_mutex_unlock(&a->mu);
}

void bf_send_audio_stop(bf_send_audio *a) {
  if (!a->running) return;
  pthread_mutex_lock(&a->mu);
  a->want = 0;
  pthread_mutex_unlock(&a->mu);
}

int bf_send_audio_active(bf_send_audio *a) {
  if (!a->running) return 0;
  pthread_mutex_lock(&a->mu);
  int w = a->want;
  pthread_mutex_unlock(&a->mu);
  return w;
}

int bf_send_audio_failed(bf_send_audio *a, char *err, size_t cap) {
  if (!atomic_load(&a->failed)) return 0;
  snprintf(err, cap, "%s", a->err);
  return 1;
}

void bf_send_audio_stats_get(const bf_send_audio *a, bf_send_audio_stats *st) {
  memset(st, 0, sizeof *st);
  st->frames = atomic_load(&a->frames);
  st->bytes = atomic_load(&a->bytes);
  st->datagrams = atomic_load(&a->datagrams);
  st->send_dropped = atomic_load(&a->send_dropped);
  st->encode_ns_max = atomic_load(&a->encode_ns_max);
  st->encode_ns_sum = atomic_load(&a->encode_ns_sum);
  st->cpu_ns = atomic_load(&a->cpu_ns);
  st->starts = a->starts;
  st->nice = atomic_load(&a->nice);
}

const char *bf_send_audio_describe(const bf_send_audio *a) {
  return a->src ? a->src->desc : "off";
}
