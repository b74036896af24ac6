/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The client's sound, stream side: see audio_stream.h.
 */
#include "audio_stream.h"

#include "audio/audio_out.h"
#include "audio/audio_playout.h"
#include "audio/audio_ring.h"

#include <bildfunk/audio_wire.h>
#include <bildfunk/clock.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FRAMES_RING 128u
#define REPORTS_RING 256u
#define RECENT 1024u      /* device periods in the recent window */
#define HIST_BINS 10000u  /* 0.1 ms bins: 0..1 s */
#define SETTLE_NS (3 * BF_SEC_NS)

enum { DEV_NONE, DEV_OPENING, DEV_DONE, DEV_JOINED };

typedef struct report_rec {
  bf_playout_report r;
  bf_playout_stats st;
} report_rec;

struct bf_astream {
  bf_astream_config cfg;
  bf_channel *ch;
  bf_audio_rx *rx;
  bf_spsc frames, reports;
  bf_playout play; /* the device's thread's, once the device is open */
  /* The device, opened on a thread of its own (opener): |out| and |why| are
   * the opener's until |dev| says it is done (acquire). */
  pthread_t opener;
  atomic_int dev; /* DEV_* */
  bf_audio_params open_params; /* the stream's, as the opener was started */
  bf_audio_out *out;
  char why[200];
  atomic_int mute;
  atomic_ullong sync_ns, reports_lost;
  int64_t clock_off;
  uint64_t next_request_ns;
  bf_audio_params params;
  uint64_t datagrams, ring_full, dropped_no_device;
  /* statistics, from the reports */
  bf_playout_stats pst;
  bf_playout_report last;
  uint64_t play_start_ns; /* the first report with sound */
  float recent[RECENT];
  unsigned n_recent, i_recent;
  uint32_t hist[HIST_BINS];
  uint64_t hist_n;
  double lat_max, lat_settled_max, buf_min, buf_max;
  bf_avsync avs;
};

static void render(void *user, int16_t *out, unsigned n) {
  bf_astream *a = user;
  uint64_t now = bf_clock_epoch_ns();
  const bf_playout_frame *f;
  while ((f = bf_spsc_peek(&a->frames))) { /* in place: no copy of the frame */
    bf_playout_push(&a->play, f);
    bf_spsc_drop(&a->frames);
  }
  report_rec rr;
  bf_playout_render(&a->play, now, atomic_load(&a->sync_ns), out, n, &rr.r);
  if (atomic_load(&a->mute)) memset(out, 0, (size_t)n * 4u);
  rr.st = a->play.st;
  if (!bf_spsc_push(&a->reports, &rr)) atomic_fetch_add(&a->reports_lost, 1);
}

/* The opener thread: SDL's audio init and the driver's configuration (ALSA's
 * files: tens of ms and some MiB) never stall the loop's receive path. */
static void *open_device(void *user) {
  bf_astream *a = user;
  unsigned period = bf_audio_frame_samples(&a->open_params);
  int r = bf_audio_out_open(a->cfg.device, period, render, a, &a->out, a->why, sizeof a->why);
  if (r < 0) {
    if (!a->cfg.quiet) fprintf(stderr, "bildfunk: %s: playing without sound\n", a->why);
  } else if (!a->cfg.quiet) {
    fprintf(stderr, "bildfunk: sound: Opus %.1f ms frames, %u kbit/s -> %s\n",
            (double)period / 48.0, a->open_params.bitrate_kbps, bf_audio_out_describe(a->out));
  }
  atomic_store_explicit(&a->dev, DEV_DONE, memory_order_release);
  return NULL;
}

/* The device once the opener is done (joined here), else NULL. */
static bf_audio_out *device(bf_astream *a) {
  if (atomic_load_explicit(&a->dev, memory_order_acquire) == DEV_DONE) {
    (void)pthread_join(a->opener, NULL);
    atomic_store(&a->dev, DEV_JOINED);
  }
  return atomic_load(&a->dev) == DEV_JOINED ? a->out : NULL;
}

/* Starts opening the device (once, with the stream's parameters). */
static void start_device(bf_astream *a) {
  a->open_params = a->params;
  atomic_store(&a->dev, DEV_OPENING);
  if (pthread_create(&a->opener, NULL, open_device, a) != 0) {
    (void)open_device(a); /* no thread: on this one */
    atomic_store(&a->dev, DEV_JOINED);
  }
}

static void on_audio(void *user, const uint8_t *d, size_t len, const bf_addr *from, uint64_t now) {
  (void)from;
  bf_astream *a = user;
  bf_audio_frame fr[1 + BF_AUDIO_FEC_MAX_M];
  bf_audio_params p;
  a->datagrams++;
  int n = bf_audio_rx_push(a->rx, d, len, fr, &p);
  if (n <= 0) return;
  a->params = p;
  if (atomic_load(&a->dev) == DEV_NONE) start_device(a);
  if (!device(a)) { /* opening, or none: counted */
    a->dropped_no_device += (uint64_t)n;
    return;
  }
  /* available to the device from now: the batch's read time (|now|) is
   * earlier by what the loop did with the datagrams before this one */
  uint64_t avail = bf_clock_epoch_ns();
  (void)now;
  for (int i = 0; i < n; i++) {
    bf_playout_frame pf;
    pf.seq = fr[i].seq;
    pf.capture_ns = (uint64_t)((int64_t)fr[i].capture_ns - a->clock_off);
    pf.arrival_ns = avail;
    pf.len = (uint16_t)fr[i].opus_len;
    pf.recovered = (uint8_t)fr[i].recovered;
    pf.frame_units = p.frame_units;
    memcpy(pf.data, fr[i].opus, fr[i].opus_len);
    if (!bf_spsc_push(&a->frames, &pf)) a->ring_full++;
  }
}

int bf_astream_open(const bf_astream_config *cfg, bf_channel *ch, bf_astream **out) {
  *out = NULL;
  bf_astream *a = calloc(1, sizeof *a);
  if (!a) return -ENOMEM;
  a->cfg = *cfg;
  a->ch = ch;
  int r = bf_audio_rx_new(&a->rx);
  if (r == 0) r = bf_spsc_init(&a->frames, sizeof(bf_playout_frame), FRAMES_RING);
  if (r == 0) r = bf_spsc_init(&a->reports, sizeof(report_rec), REPORTS_RING);
  if (r == 0) r = bf_playout_init(&a->play);
  if (r < 0) {
    bf_astream_close(&a);
    return r;
  }
  snprintf(a->why, sizeof a->why, "no sound received");
  a->buf_min = 1e9;
  bf_avsync_init(&a->avs);
  bf_channel_on(ch, BF_DKIND_AUDIO, on_audio, a);
  *out = a;
  return 0;
}

void bf_astream_close(bf_astream **pa) {
  bf_astream *a = *pa;
  if (!a) return;
  if (atomic_load(&a->dev) == DEV_OPENING || atomic_load(&a->dev) == DEV_DONE)
    (void)pthread_join(a->opener, NULL);
  bf_audio_out_close(&a->out); /* the device's thread is gone after this */
  if (a->ch) bf_channel_on(a->ch, BF_DKIND_AUDIO, NULL, NULL);
  bf_playout_free(&a->play);
  bf_spsc_free(&a->frames);
  bf_spsc_free(&a->reports);
  bf_audio_rx_del(&a->rx);
  free(a);
  *pa = NULL;
}

static void take_report(bf_astream *a, const report_rec *rr) {
  a->pst = rr->st;
  a->last = rr->r;
  if (rr->r.beep_ns) bf_avsync_on_beep(&a->avs, rr->r.beep_ns, rr->r.latency_ns);
  if (rr->r.latency_ns < 0) return;
  if (!a->play_start_ns) a->play_start_ns = rr->r.t_ns;
  double ms = (double)rr->r.latency_ns / 1e6;
  a->recent[a->i_recent] = (float)ms;
  a->i_recent = (a->i_recent + 1) % RECENT;
  if (a->n_recent < RECENT) a->n_recent++;
  unsigned bin = ms * 10 >= HIST_BINS ? HIST_BINS - 1 : (unsigned)(ms * 10);
  a->hist[bin]++;
  a->hist_n++;
  if (ms > a->lat_max) a->lat_max = ms;
  if (rr->r.t_ns - a->play_start_ns >= SETTLE_NS) {
    double b = (double)rr->r.buffer_ns / 1e6;
    if (b < a->buf_min) a->buf_min = b;
    if (b > a->buf_max) a->buf_max = b;
    if (ms > a->lat_settled_max) a->lat_settled_max = ms;
  }
}

void bf_astream_tick(bf_astream *a, uint64_t now, int64_t clock_off) {
  a->clock_off = clock_off;
  report_rec rr;
  while (bf_spsc_pop(&a->reports, &rr))
    take_report(a, &rr);
  atomic_store(&a->sync_ns, bf_avsync_video_latency(&a->avs));
  if (a->cfg.request && now >= a->next_request_ns) {
    uint8_t q[BF_AUDIO_REQUEST_BYTES];
    int n = bf_audio_encode_request(q, sizeof q);
    if (n > 0) (void)bf_channel_send(a->ch, q, (size_t)n, NULL);
    a->next_request_ns = now + BF_SEC_NS;
  }
}

uint64_t bf_astream_next_due(const bf_astream *a) {
  return a->cfg.request ? a->next_request_ns : UINT64_MAX;
}

void bf_astream_on_picture(bf_astream *a, const AVFrame *pic, uint64_t present_ns,
                           uint64_t pts_ns, int64_t latency_ns) {
  bf_avsync_on_picture(&a->avs, present_ns, pts_ns, latency_ns, bf_avsync_is_flash(pic));
}

int bf_astream_toggle_mute(bf_astream *a) {
  int m = !atomic_load(&a->mute);
  atomic_store(&a->mute, m);
  return m;
}

static int cmp_f(const void *x, const void *y) {
  float a = *(const float *)x, b = *(const float *)y;
  return (a > b) - (a < b);
}

static double hist_pct(const bf_astream *a, double q) {
  if (!a->hist_n) return 0;
  uint64_t want = (uint64_t)(q * (double)(a->hist_n - 1)), seen = 0;
  for (unsigned i = 0; i < HIST_BINS; i++) {
    seen += a->hist[i];
    if (seen > want) return (i + 0.5) / 10.0;
  }
  return HIST_BINS / 10.0;
}

void bf_astream_figures_get(const bf_astream *a, bf_astream_figures *f) {
  memset(f, 0, sizeof *f);
  bf_audio_out *o = device((bf_astream *)a); /* joins a finished opener */
  f->playing = o && a->hist_n > 0;
  f->muted = atomic_load(&((bf_astream *)a)->mute);
  int opening = atomic_load(&((bf_astream *)a)->dev) == DEV_OPENING;
  f->device = o ? bf_audio_out_describe(o) : opening ? "opening the sound device" : a->why;
  bf_audio_rx_stats rs;
  bf_audio_rx_stats_get(a->rx, &rs);
  f->datagrams = a->datagrams;
  f->frames = rs.data + rs.recovered;
  f->recovered = rs.recovered;
  f->malformed = rs.malformed;
  f->ring_full = a->ring_full + a->dropped_no_device;
  f->decoded = a->pst.decoded;
  f->concealed = a->pst.concealed;
  f->late = a->pst.late;
  f->underruns = a->pst.underruns;
  f->lost = a->pst.lost;
  f->late_input = a->pst.late_input;
  f->stalled = a->pst.stalled;
  f->device_late = a->pst.device_late;
  f->conceal_run_max_ms = (double)a->pst.conceal_run_max * a->params.frame_units * 2.5;
  f->undecoded_max_ms = (double)a->pst.undecoded_max / 48.0;
  bf_transport *t = a->ch ? bf_channel_transport(a->ch) : NULL;
  f->kernel_drops = t ? t->stats.kernel_drops : 0;
  f->device_late_ms = (double)a->pst.device_late_ns / 1e6;
  f->resets = a->pst.resets;
  f->skipped_ms = a->pst.skipped_ms;
  f->inserted_ms = a->pst.inserted_ms;
  if (a->n_recent) {
    float tmp[RECENT];
    memcpy(tmp, a->recent, a->n_recent * sizeof tmp[0]);
    qsort(tmp, a->n_recent, sizeof tmp[0], cmp_f);
    f->lat_p50_ms = tmp[a->n_recent / 2];
    f->lat_p95_ms = tmp[(a->n_recent * 95) / 100];
  }
  f->lat_s50_ms = hist_pct(a, 0.50);
  f->lat_s95_ms = hist_pct(a, 0.95);
  f->lat_s99_ms = hist_pct(a, 0.99);
  f->lat_max_ms = a->lat_max;
  f->target_ms = (double)a->last.target_ns / 1e6;
  f->buffer_ms = (double)a->last.buffer_ns / 1e6;
  f->buffer_min_ms = a->buf_min > a->buf_max ? 0 : a->buf_min;
  f->buffer_max_ms = a->buf_max;
  f->lat_settled_max_ms = a->lat_settled_max;
  f->ratio_ppm = a->last.ratio_ppm;
  f->device_ppm = a->last.device_ppm;
  f->sender_ppm = a->last.sender_ppm;
  f->video_latency_ms = (double)bf_avsync_video_latency(&a->avs) / 1e6;
  f->av_offset_ms = f->playing && f->video_latency_ms > 0 ? f->lat_p50_ms - f->video_latency_ms : 0;
  int64_t last, med;
  f->have_marker = bf_avsync_marker(&a->avs, &last, &med);
  f->marker_last_ms = f->have_marker ? (double)last / 1e6 : 0;
  f->marker_median_ms = f->have_marker ? (double)med / 1e6 : 0;
  f->marker_residual_ms = (double)bf_avsync_residual(&a->avs) / 1e6;
  f->marker_pairs = a->avs.pairs;
  f->beeps = a->avs.beeps;
  f->flashes = a->avs.flashes;
  f->reports_lost = atomic_load(&((bf_astream *)a)->reports_lost);
  f->frame_ms = a->params.frame_units ? a->params.frame_units * 2.5 : 0;
}

void bf_astream_json(const bf_astream_figures *f, char *out, size_t cap) {
  char dev[200];
  size_t k = 0;
  for (const char *c = f->device ? f->device : ""; *c && k + 1 < sizeof dev; c++)
    dev[k++] = *c == '"' || *c == '\\' || (unsigned char)*c < 0x20 ? '\'' : *c;
  dev[k] = 0;
  snprintf(out, cap,
           ", \"audio\": {\"playing\": %d, \"muted\": %d, \"device\": \"%s\", \"frame_ms\": %.1f, "
           "\"datagrams\": %llu, \"frames\": %llu, \"recovered\": %llu, \"malformed\": %llu, "
           "\"dropped\": %llu, \"decoded\": %llu, \"concealed\": %llu, \"late\": %llu, "
           "\"underruns\": %llu, \"resets\": %llu, \"skipped_ms\": %llu, \"inserted_ms\": %llu, "
           "\"latency_p50_ms\": %.3f, \"latency_p95_ms\": %.3f, \"latency_p99_ms\": %.3f, "
           "\"latency_max_ms\": %.3f, \"latency_settled_max_ms\": %.3f, \"target_ms\": %.3f, "
           "\"buffer_ms\": %.3f, \"buffer_min_ms\": %.3f, \"buffer_max_ms\": %.3f, "
           "\"ratio_ppm\": %.0f, \"device_ppm\": %.0f, \"video_latency_ms\": %.3f, \"av_offset_ms\": %.3f, "
           "\"marker\": %d, \"marker_offset_ms\": %.3f, \"marker_last_ms\": %.3f, "
           "\"marker_pairs\": %llu, \"beeps\": %llu, \"flashes\": %llu, \"reports_lost\": %llu",
           f->playing, f->muted, dev, f->frame_ms, (unsigned long long)f->datagrams,
           (unsigned long long)f->frames, (unsigned long long)f->recovered,
           (unsigned long long)f->malformed, (unsigned long long)f->ring_full,
           (unsigned long long)f->decoded, (unsigned long long)f->concealed,
           (unsigned long long)f->late, (unsigned long long)f->underruns,
           (unsigned long long)f->resets, (unsigned long long)f->skipped_ms,
           (unsigned long long)f->inserted_ms, f->lat_s50_ms, f->lat_s95_ms, f->lat_s99_ms,
           f->lat_max_ms, f->lat_settled_max_ms, f->target_ms, f->buffer_ms, f->buffer_min_ms,
           f->buffer_max_ms, f->ratio_ppm, f->device_ppm, f->video_latency_ms, f->av_offset_ms, f->have_marker,
           f->marker_median_ms, f->marker_last_ms, (unsigned long long)f->marker_pairs,
           (unsigned long long)f->beeps, (unsigned long long)f->flashes,
           (unsigned long long)f->reports_lost);
  size_t used = strlen(out);
  if (used + 1 < cap)
    snprintf(out + used, cap - used,
             ", \"lost\": %llu, \"late_input\": %llu, \"device_late\": %llu, "
             "\"device_late_ms\": %.1f, \"sender_ppm\": %.0f, \"conceal_run_max_ms\": %.1f, "
             "\"undecoded_max_ms\": %.1f, \"kernel_drops\": %llu, "
             "\"marker_residual_ms\": %.3f, \"stalled\": %llu}",
             (unsigned long long)f->lost, (unsigned long long)f->late_input,
             (unsigned long long)f->device_late, f->device_late_ms, f->sender_ppm,
             f->conceal_run_max_ms, f->undecoded_max_ms, (unsigned long long)f->kernel_drops,
             f->marker_residual_ms, (unsigned long long)f->stalled);
}
