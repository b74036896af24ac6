/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * bildfunk-send-bench: the sender's own benchmarks (a program of its own so
 * that FFmpeg stays out of bildfunk-bench). Each subcommand prints one JSON
 * object on stdout.
 *
 *   encode  per-frame encode latency (picture handed in -> its AU out) of
 *           libx264, libx265 and libsvtav1 with the sender's settings, fed
 *           testsrc pictures in real time at the given rate
 *           --size WxH (1920x1080) --fps N (60) --frames N (180)
 *           --codec all|h264|hevc|av1 (all) --bitrate R (auto as the sender)
 *   send    sender CPU per packet: packetizer (10 % FEC) plus UDP send to a
 *           loopback sink, with GSO and without (sendmmsg), bursts of 32;
 *           thread CPU time of the sending thread
 *           --au-bytes N (40000) --aus N (3000) --shard S (1408) --burst N (32)
 */
#include "au.h"
#include "send_cli.h"
#include "encoder.h"
#include "sources.h"
#include "hist.h"
#include "common/machine.h"

#include <bildfunk/common.h>
#include <bildfunk/packetizer.h>
#include <bildfunk/transport.h>
#include <bildfunk/wire.h>

#include <libavutil/log.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static uint64_t clock_ns(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sleep_until(uint64_t mono_ns) {
  struct timespec ts = {(time_t)(mono_ns / 1000000000ull), (long)(mono_ns % 1000000000ull)};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
  }
}

/* ---- encode --------------------------------------------------------------- */

static int bench_encode_one(bf_codec codec, unsigned w, unsigned h, unsigned fps, unsigned frames,
                            uint64_t bitrate, int first) {
  bf_encoder_config cfg = {
      .codec = codec, .width = w, .height = h, .fps_num = fps, .fps_den = 1, .bitrate = bitrate};
  char err[256];
  bf_encoder *e = NULL;
  uint64_t t_open = clock_ns(CLOCK_MONOTONIC);
  if (bf_encoder_open(&cfg, &e, err, sizeof err) < 0) {
    fprintf(stderr, "bildfunk-send-bench: %s\n", err);
    return 1;
  }
  t_open = clock_ns(CLOCK_MONOTONIC) - t_open;
  AVFrame *f = av_frame_alloc();
  f->format = AV_PIX_FMT_YUV420P;
  f->width = (int)w;
  f->height = (int)h;
  if (!f || av_frame_get_buffer(f, 0) < 0) return 1;
  bf_hist *lat = calloc(1, sizeof *lat), *draw = calloc(1, sizeof *draw);
  if (!lat || !draw) return 1;
  const unsigned warmup = fps / 4;
  const uint64_t interval = 1000000000ull / fps;
  uint64_t bytes = 0, aus = 0, keyframes = 0, late = 0;
  uint64_t start = clock_ns(CLOCK_MONOTONIC), next = start;
  uint64_t cpu0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
  bf_encoded au;
  for (unsigned i = 0; i < warmup + frames; i++) {
    /* until the tick, pick up late AUs every 0.5 ms, as the sender does */
    for (uint64_t now; (now = clock_ns(CLOCK_MONOTONIC)) < next;) {
      while (bf_encoder_receive(e, &au)) {
        if (au.capture_ns >= warmup) {
          bf_hist_add(lat, au.encode_ns);
          bytes += au.len;
          aus++;
        }
        bf_au_info ai;
        bf_au_inspect(codec, au.data, au.len, &ai);
        keyframes += (uint64_t)ai.keyframe;
      }
      sleep_until(now + 500000 < next ? now + 500000 : next);
    }
    if (clock_ns(CLOCK_MONOTONIC) > next + interval) late++;
    next += interval;
    uint64_t t0 = clock_ns(CLOCK_MONOTONIC);
    av_frame_make_writable(f);
    bf_testsrc_draw(f, i, clock_ns(CLOCK_REALTIME));
    if (i >= warmup) bf_hist_add(draw, clock_ns(CLOCK_MONOTONIC) - t0);
    if (bf_encoder_send(e, f, i, i == 0, err, sizeof err) < 0) {
      fprintf(stderr, "bildfunk-send-bench: %s\n", err);
      return 1;
    }
    while (bf_encoder_receive(e, &au)) {
      if (au.capture_ns >= warmup) {
        bf_hist_add(lat, au.encode_ns);
        bytes += au.len;
        aus++;
      }
      bf_au_info ai;
      bf_au_inspect(codec, au.data, au.len, &ai);
      keyframes += (uint64_t)ai.keyframe;
    }
  }
  double secs = (double)(clock_ns(CLOCK_MONOTONIC) - start) / 1e9;
  double cpu = (double)(clock_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu0) / 1e9;
  printf("%s    {\"codec\": \"%s\", \"encoder\": \"%s\", \"frames\": %llu, "
         "\"encode_ms\": {\"p50\": %.2f, \"p95\": %.2f, \"max\": %.2f}, "
         "\"pipeline_depth\": %llu, \"testsrc_draw_ms_p50\": %.2f, \"open_ms\": %.1f, "
         "\"fps_achieved\": %.1f, \"late_ticks\": %llu, \"mbit_s\": %.2f, "
         "\"cpu_cores_used\": %.2f, \"keyframes\": %llu}",
         first ? "" : ",\n", bf_codec_name(codec), bf_encoder_name(e), (unsigned long long)aus,
         (double)bf_hist_percentile(lat, 500) / 1e6, (double)bf_hist_percentile(lat, 950) / 1e6,
         (double)lat->max_ns / 1e6, (unsigned long long)bf_encoder_depth(e),
         (double)bf_hist_percentile(draw, 500) / 1e6, (double)t_open / 1e6,
         (double)(warmup + frames) / secs, (unsigned long long)late,
         (double)bytes * 8 / ((double)aus / fps) / 1e6, cpu / secs, (unsigned long long)keyframes);
  fflush(stdout);
  free(lat);
  free(draw);
  av_frame_free(&f);
  bf_encoder_close(&e);
  return 0;
}

static int cmd_encode(int argc, char **argv) {
  unsigned w = 1920, h = 1080, fps = 60, frames = 180;
  uint64_t bitrate = 0;
  const char *which = "all";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--size") && sscanf(argv[i + 1], "%ux%u", &w, &h) == 2) continue;
    if (!strcmp(argv[i], "--fps"))
      fps = (unsigned)atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--frames"))
      frames = (unsigned)atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--codec"))
      which = argv[i + 1];
    else if (!strcmp(argv[i], "--bitrate"))
      bf_parse_bitrate(argv[i + 1], &bitrate);
    else {
      fprintf(stderr, "bildfunk-send-bench encode: bad option %s\n", argv[i]);
      return 2;
    }
  }
  if (!fps || !frames || w < 64 || h < 48) return 2;
  if (!bitrate) bitrate = (uint64_t)((double)w * h * fps * 0.15); /* as the sender */
  printf("{\"bench\": \"sender-encode\", \"width\": %u, \"height\": %u, \"fps\": %u, "
         "\"bitrate\": %llu, \"note\": \"encode_ms = picture handed to the encoder until its AU "
         "is out; pipeline_depth = pictures the encoder holds back\",\n  ",
         w, h, fps, (unsigned long long)bitrate);
  bf_bench_print_machine(stdout);
  printf(",\n  \"codecs\": [\n");
  static const bf_codec all[] = {BF_CODEC_H264, BF_CODEC_HEVC, BF_CODEC_AV1};
  int first = 1, rc = 0;
  for (size_t i = 0; i < 3; i++) {
    if (strcmp(which, "all") && strcmp(which, bf_codec_name(all[i]))) continue;
    rc |= bench_encode_one(all[i], w, h, fps, frames, bitrate, first);
    first = 0;
  }
  printf("\n  ]}\n");
  return rc;
}

/* ---- send ----------------------------------------------------------------- */

typedef struct sink {
  bf_transport *t;
  atomic_int stop;
  atomic_uint_fast64_t got;
} sink;

static void *sink_main(void *arg) {
  sink *s = arg;
  bf_recv_ring ring;
  if (bf_recv_ring_init(&ring, 0, 0)) return NULL;
  while (!atomic_load(&s->stop)) {
    if (bf_transport_wait(s->t, 20) <= 0) continue;
    int n;
    while ((n = bf_recv_batch(s->t, &ring)) > 0)
      atomic_fetch_add(&s->got, (uint64_t)n);
  }
  bf_recv_ring_free(&ring);
  return NULL;
}

typedef struct send_result {
  double cpu_ns_per_packet, wall_ns_per_packet, packetize_ns_per_packet;
  uint64_t packets, dropped, received, calls, gso_calls;
  int gso_active;
} send_result;

/* Sends |aus| AUs of |au_bytes| each, in bursts of |burst|, as fast as the
 * socket takes them, every |pause_every| AUs letting the sink drain. */
static int run_send(int gso, size_t au_bytes, unsigned aus, unsigned shard, unsigned burst,
                    send_result *res) {
  memset(res, 0, sizeof *res);
  bf_udp_offload_reset();
  if (!gso) bf_udp_offload_disable();
  bf_udp_config rc, tc;
  bf_udp_config_default(&rc);
  rc.bind = "127.0.0.1:0";
  rc.quiet = 1;
  sink s = {0};
  if (bf_udp_open(&rc, &s.t)) return -1;
  bf_addr to;
  bf_transport_local_addr(s.t, &to);
  bf_udp_config_default(&tc);
  tc.bind = "127.0.0.1:0";
  tc.gso = gso;
  tc.quiet = 1;
  bf_transport *t;
  if (bf_udp_open(&tc, &t)) return -1;
  bf_transport_set_peer(t, &to);
  pthread_t th;
  pthread_create(&th, NULL, sink_main, &s);
  bf_packetizer_config pc;
  bf_packetizer_config_default(&pc);
  pc.shard_bytes = (uint16_t)shard;
  bf_packetizer *pk;
  if (bf_packetizer_new(&pc, &pk)) return -1;
  uint8_t *au = malloc(au_bytes);
  bf_dgram *d = calloc(burst, sizeof *d);
  if (!au || !d) return -1;
  for (size_t i = 0; i < au_bytes; i++)
    au[i] = (uint8_t)(i * 131u);
  uint64_t cpu = 0, wall = 0, pk_cpu = 0, sent = 0;
  for (unsigned a = 0; a < aus; a++) {
    uint64_t c0 = clock_ns(CLOCK_THREAD_CPUTIME_ID), w0 = clock_ns(CLOCK_MONOTONIC);
    bf_packetizer_begin(pk, au, au_bytes, a, 0);
    int n;
    uint64_t pk_t = 0;
    for (;;) {
      uint64_t p0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
      n = bf_packetizer_next(pk, d, burst);
      pk_t += clock_ns(CLOCK_THREAD_CPUTIME_ID) - p0;
      if (n <= 0) break;
      int r = gso ? bf_send_gso(t, d, (size_t)n) : bf_send_batch(t, d, (size_t)n);
      res->packets += (uint64_t)n;
      sent += r > 0 ? (uint64_t)r : 0;
    }
    cpu += clock_ns(CLOCK_THREAD_CPUTIME_ID) - c0;
    wall += clock_ns(CLOCK_MONOTONIC) - w0;
    pk_cpu += pk_t;
    /* let the sink keep up (we measure the sender, not queue overflow) */
    if (a % 4 == 3) {
      struct timespec ts = {0, 2000000};
      nanosleep(&ts, NULL);
    }
  }
  struct timespec ts = {0, 100000000};
  nanosleep(&ts, NULL);
  atomic_store(&s.stop, 1);
  pthread_join(th, NULL);
  res->cpu_ns_per_packet = (double)cpu / (double)res->packets;
  res->wall_ns_per_packet = (double)wall / (double)res->packets;
  res->packetize_ns_per_packet = (double)pk_cpu / (double)res->packets;
  res->dropped = res->packets - sent;
  res->received = atomic_load(&s.got);
  res->calls = t->stats.tx_calls;
  res->gso_calls = t->stats.tx_gso_calls;
  res->gso_active = t->stats.gso_active;
  free(au);
  free(d);
  bf_packetizer_del(&pk);
  bf_transport_close(&t);
  bf_transport_close(&s.t);
  return 0;
}

static int cmd_send(int argc, char **argv) {
  size_t au_bytes = 40000;
  unsigned aus = 3000, shard = BF_DEFAULT_SHARD_V4, burst = 32;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--au-bytes"))
      au_bytes = (size_t)atol(argv[i + 1]);
    else if (!strcmp(argv[i], "--aus"))
      aus = (unsigned)atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--shard"))
      shard = (unsigned)atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--burst"))
      burst = (unsigned)atoi(argv[i + 1]);
    else {
      fprintf(stderr, "bildfunk-send-bench send: bad option %s\n", argv[i]);
      return 2;
    }
  }
  if (!aus || !burst || au_bytes == 0) return 2;
  printf("{\"bench\": \"sender-send\", \"au_bytes\": %zu, \"aus\": %u, \"shard\": %u, "
         "\"burst\": %u, \"fec_percent\": 10, \"note\": \"cpu = sending thread CPU time incl. "
         "packetizer and FEC; on loopback the send syscall also does the kernel's receive-side "
         "work\",\n  ",
         au_bytes, aus, shard, burst);
  bf_bench_print_machine(stdout);
  printf(",\n  \"modes\": [\n");
  const char *names[2] = {"sendmmsg", "gso"};
  for (int gso = 0; gso <= 1; gso++) {
    send_result r;
    if (run_send(gso, au_bytes, aus, shard, burst, &r)) {
      fprintf(stderr, "bildfunk-send-bench: send setup failed\n");
      return 1;
    }
    printf("    {\"mode\": \"%s\", \"gso_active\": %d, \"packets\": %llu, "
           "\"cpu_ns_per_packet\": %.0f, \"packetize_ns_per_packet\": %.0f, "
           "\"wall_ns_per_packet\": %.0f, \"send_calls\": %llu, \"gso_calls\": %llu, "
           "\"dropped_locally\": %llu, \"received\": %llu}%s\n",
           names[gso], r.gso_active, (unsigned long long)r.packets, r.cpu_ns_per_packet,
           r.packetize_ns_per_packet, r.wall_ns_per_packet, (unsigned long long)r.calls,
           (unsigned long long)r.gso_calls, (unsigned long long)r.dropped,
           (unsigned long long)r.received, gso ? "" : ",");
  }
  printf("  ]}\n");
  bf_udp_offload_reset();
  return 0;
}

int main(int argc, char **argv) {
  av_log_set_level(AV_LOG_FATAL);
  setenv("SVT_LOG", "1", 0);
  if (argc < 2 || !strcmp(argv[1], "--help")) {
    fprintf(argc < 2 ? stderr : stdout,
            "usage: bildfunk-send-bench encode|send [options]\n"
            "  encode  per-frame encode latency per codec (default 1080p60)\n"
            "  send    sender CPU per packet with and without GSO\n");
    return argc < 2 ? 2 : 0;
  }
  if (!strcmp(argv[1], "encode")) return cmd_encode(argc - 1, argv + 1);
  if (!strcmp(argv[1], "send")) return cmd_send(argc - 1, argv + 1);
  fprintf(stderr, "bildfunk-send-bench: unknown command '%s'\n", argv[1]);
  return 2;
}
