/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * bildfunk-client-bench: the client's decoder (client/src/decoder.c, the code
 * the client runs) on a clip, to compare with `ffmpeg -benchmark` on the same
 * clip with the same flags and threads. Access units come from libavformat's
 * demuxer (as ffmpeg reads them); each is timed from bf_decoder_decode()'s
 * call to its return (the client's "decode" stage).
 *
 *   bildfunk-client-bench CLIP [--threads N] [--codec h264|hevc|av1]
 *                         [--pace FPS] [--runs N]
 *
 * Without --pace the AUs are decoded back to back (what ffmpeg -benchmark
 * measures); with --pace one AU is decoded every 1/FPS s, as in a stream,
 * where the decoder's threads go idle between pictures. Prints one JSON
 * object: ms per picture (mean, p50, p95) per run and the median of the runs.
 */
#include "video/decoder.h"

#include <libavformat/avformat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

typedef struct aus {
  uint8_t **d;
  size_t *len;
  size_t n, cap;
} aus;

static int load(const char *path, aus *a) {
  AVFormatContext *fmt = NULL;
  if (avformat_open_input(&fmt, path, NULL, NULL) < 0) return -1;
  if (avformat_find_stream_info(fmt, NULL) < 0) return -1;
  AVPacket *p = av_packet_alloc();
  while (av_read_frame(fmt, p) >= 0) {
    if (a->n == a->cap) {
      a->cap = a->cap ? a->cap * 2 : 1024;
      a->d = realloc(a->d, a->cap * sizeof *a->d);
      a->len = realloc(a->len, a->cap * sizeof *a->len);
      if (!a->d || !a->len) return -1;
    }
    a->d[a->n] = malloc((size_t)p->size);
    if (!a->d[a->n]) return -1;
    memcpy(a->d[a->n], p->data, (size_t)p->size);
    a->len[a->n++] = (size_t)p->size;
    av_packet_unref(p);
  }
  av_packet_free(&p);
  avformat_close_input(&fmt);
  return a->n ? 0 : -1;
}

int main(int argc, char **argv) {
  if (argc < 2 || !strcmp(argv[1], "--help")) {
    fprintf(stderr, "usage: bildfunk-client-bench CLIP [--threads N] [--codec C] [--pace FPS] "
                    "[--runs N]\n");
    return argc < 2 ? 2 : 0;
  }
  const char *clip = argv[1];
  int threads = 0, runs = 3;
  double pace = 0;
  bf_codec codec = BF_CODEC_UNKNOWN;
  for (int i = 2; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--threads"))
      threads = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--pace"))
      pace = atof(argv[i + 1]);
    else if (!strcmp(argv[i], "--runs"))
      runs = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--codec") && !strcmp(argv[i + 1], "auto"))
      codec = BF_CODEC_UNKNOWN; /* from the first AU */
    else if (!strcmp(argv[i], "--codec") && bf_codec_parse(argv[i + 1], &codec) == 0)
      continue;
    else {
      fprintf(stderr, "bildfunk-client-bench: bad option %s\n", argv[i]);
      return 2;
    }
  }
  if (runs < 1) runs = 1;
  aus a;
  memset(&a, 0, sizeof a);
  if (load(clip, &a) < 0) {
    fprintf(stderr, "bildfunk-client-bench: cannot read %s\n", clip);
    return 1;
  }
  if (codec == BF_CODEC_UNKNOWN) codec = bf_codec_detect(a.d[0], a.len[0]);
  double *ms = calloc(a.n, sizeof *ms);
  double *run_mean = calloc((size_t)runs, sizeof *run_mean);
  if (!ms || !run_mean) return 1;
  printf("{\"benchmark\": \"client-decode\", \"clip\": \"%s\", \"codec\": \"%s\", \"aus\": %zu, "
         "\"pace_fps\": %.3f, \"runs\": [",
         clip, bf_codec_name(codec), a.n, pace);
  const char *desc = "";
  char descbuf[128] = "";
  for (int r = 0; r < runs; r++) {
    bf_decoder_config cfg = {codec, BF_HWDEC_SOFTWARE, threads, 0};
    bf_decoder *d;
    char err[256];
    if (bf_decoder_open(&cfg, &d, err, sizeof err) < 0) {
      fprintf(stderr, "bildfunk-client-bench: %s\n", err);
      return 1;
    }
    snprintf(descbuf, sizeof descbuf, "%s", bf_decoder_describe(d));
    desc = descbuf;
    uint64_t next = now_ns();
    size_t pictures = 0;
    double sum = 0;
    for (size_t i = 0; i < a.n; i++) {
      if (pace > 0) {
        uint64_t t = now_ns();
        if (t < next) {
          struct timespec ts = {(time_t)((next - t) / 1000000000ull),
                                (long)((next - t) % 1000000000ull)};
          nanosleep(&ts, NULL);
        }
        next += (uint64_t)(1e9 / pace);
      }
      AVFrame *pic;
      uint64_t t0 = now_ns();
      int e = bf_decoder_decode(d, a.d[i], a.len[i], (int64_t)i, &pic);
      uint64_t t1 = now_ns();
      if (e < 0) {
        fprintf(stderr, "bildfunk-client-bench: AU %zu rejected\n", i);
        return 1;
      }
      if (pic) pictures++;
      ms[i] = (double)(t1 - t0) / 1e6;
      sum += ms[i];
    }
    bf_decoder_close(&d);
    qsort(ms, a.n, sizeof *ms, cmp_double);
    run_mean[r] = sum / (double)a.n;
    printf("%s{\"mean_ms\": %.4f, \"p50_ms\": %.4f, \"p95_ms\": %.4f, \"pictures\": %zu}",
           r ? ", " : "", run_mean[r], ms[a.n / 2], ms[(a.n * 95 + 99) / 100 - 1], pictures);
  }
  qsort(run_mean, (size_t)runs, sizeof *run_mean, cmp_double);
  printf("], \"decoder\": \"%s\", \"median_mean_ms\": %.4f}\n", desc, run_mean[runs / 2]);
  for (size_t i = 0; i < a.n; i++)
    free(a.d[i]);
  free(a.d);
  free(a.len);
  free(ms);
  free(run_mean);
  return 0;
}
