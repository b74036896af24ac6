/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The client's sound playout (sans-I/O): the jitter buffer, Opus decoding
 * and packet loss concealment, clock-drift compensation, and the beep
 * marker of the test tone. It runs where the device asks for samples (the
 * SDL audio callback, audio_out.h), with the time passed in, so the moment
 * a frame is needed is the moment it is decided: decoded if it is there;
 * if not, concealed (Opus PLC) in its place when later frames are there or
 * the latency is at its target (one that comes after that is late); when
 * nothing later has come and the playout is below its target (it ran
 * ahead of the input), stretched: the concealment is played while the
 * timeline stands still and the frame is played when it comes.
 *
 * Timeline: every output sample has the capture time (client clock) of the
 * input sample it was made from; its latency is the render time minus that.
 * The target latency D is the larger of
 *   - the jitter allowance: the 99th percentile of the frames' arrival
 *     delays (arrival - capture: the frame's own length, encode, network,
 *     the loop; a frame rebuilt from parity counts when it was rebuilt) over
 *     the last 256 frames, plus one device period and 1 ms: deep enough that
 *     frames, FEC repairs included, are there when they are played, and no
 *     deeper (a few ms on a clean LAN);
 *   - the sync target the caller passes (the video's capture-to-present
 *     latency): sound waits for the picture, never the other way;
 * within [period + 2 ms, 250 ms]; the target in force follows D by
 * resampling (at most 1.5 % of the time up, 1 % down), never by a jump.
 *
 * Drift: the sender's sample clock and the output device's differ (and the
 * target moves). The device's real rate is measured (samples it took per
 * second of the client clock, over a sliding window of checkpoints 250 ms
 * apart, 4 s, restarted after a stall; SDL's disk driver, which sleeps,
 * runs 2-11 % slow and wanders under load, a sound card within 0.01 %), and
 * so is the sender's (samples per second of capture time, summed over runs
 * of capture times that follow each other: its sound card's clock against
 * its wall clock; reported as sender_ppm); the input is resampled (4-point
 * Hermite) at the ratio of the two, within +-25 %; a PI controller on the
 * latency error (low-passed over 50 ms) adds up to +-8 % on top: what the
 * measurements miss (a window 4 s long lags a device whose rate moves, and
 * has nothing in the first half second), the moving target. Its gains (8/s,
 * 16/s^2: critically damped at 4 rad/s) hold the latency within about 3 ms
 * of the target through a 2 % rate step; weaker ones (1/s) let the disk
 * driver's wandering rate pile up 10-20 ms above the target. The integral
 * takes the error clamped to 2 ms, and none of what a stretch added (the
 * proportional part takes that back): wound up by such steps, it carried
 * the latency below the target after each, into the next. What it holds
 * when the first rate measurement comes is handed over to it. The stream
 * starts at D exactly (what the device's first call is late by is skipped).
 * An error beyond 30 ms is corrected at once (input skipped, or silence
 * inserted), counted. So the buffer neither grows nor starves over an hour.
 *
 * Memory: 64 frame slots (320 ms of 5 ms frames) and 4096 samples of
 * decoded sound, inside the struct; nothing allocated per frame. One
 * thread (the device's).
 */
#ifndef BF_CLIENT_AUDIO_PLAYOUT_H
#define BF_CLIENT_AUDIO_PLAYOUT_H

#include <bildfunk/audio_wire.h>

#include <stddef.h>
#include <stdint.h>

#define BF_PLAYOUT_SLOTS 64u
#define BF_PLAYOUT_WINDOW 256u
#define BF_PLAYOUT_CKS 17u /* device-rate checkpoints, 250 ms apart: a 4 s window */
#define BF_PLAYOUT_PCM 4096u
#define BF_PLAYOUT_MAX_NS (250 * 1000000ull)

/* One frame for the playout, as the loop hands it over (audio_ring.h). */
typedef struct bf_playout_frame {
  uint32_t seq;
  uint64_t capture_ns; /* client clock */
  uint64_t arrival_ns; /* when it was received (or rebuilt), client clock */
  uint16_t len;
  uint8_t recovered;
  uint8_t frame_units; /* 2.5 ms units (audio_wire.h) */
  uint8_t data[BF_AUDIO_MAX_OPUS];
} bf_playout_frame;

/* What one render call did, for the statistics. */
typedef struct bf_playout_report {
  uint64_t t_ns;       /* render time */
  int64_t latency_ns;  /* capture -> handed to the device, first sample; < 0: silence */
  int64_t buffer_ns;   /* sound received ahead of the play cursor */
  uint64_t target_ns;  /* D */
  int32_t ratio_ppm;   /* resampling: input per output - 1, ppm */
  int32_t device_ppm;  /* of which the measured rates (the sender's / the device's - 1) */
  int32_t sender_ppm;  /* the sender's sample clock against the client clock (its capture
                          times), ppm: its drift as measured here */
  uint64_t beep_ns;    /* a beep began at this time (client clock), 0 = none */
} bf_playout_report;

typedef struct bf_playout_stats {
  uint64_t frames;     /* taken from the loop */
  uint64_t decoded;    /* played as sent (or rebuilt) */
  uint64_t concealed;  /* missing when needed: Opus PLC */
  uint64_t late;       /* came after they were needed (dropped) */
  uint64_t late_input; /* of which later than the target allowed (arrival - capture above it:
                          the network, the sender, the loop of a busy machine); the rest
                          came in time for the target, but the playout ran ahead of it */
  uint64_t duplicates;
  uint64_t skipped_ms; /* input skipped at once (latency far above target) */
  uint64_t inserted_ms; /* silence inserted at once (far below) */
  uint64_t lost;       /* concealed in its place: later frames were there, or the latency
                          was at the target (lost, not repaired; or late) */
  uint64_t stalled;    /* concealed in a run of 40 with nothing later received (200 ms):
                          the input stopped (a paused sender, a stalled machine); the
                          stream restarts, so they are never counted late */
  uint64_t underruns;  /* stretched: nothing later had come and the latency was below the
                          target (concealment played while the timeline stood still) */
  uint64_t conceal_run_max; /* the longest run of frames concealed one after the other (Opus
                               PLC fades to silence over a long one) */
  uint64_t undecoded_max;   /* the longest output (samples) with no frame decoded: runs of
                               concealment, silence while a stalled stream restarts */
  uint64_t device_late;    /* device calls more than a period late (a busy machine) */
  uint64_t device_late_ns; /* ... by this much in all, beyond their period */
  uint64_t resets;     /* new streams (start, sequence jump, silence) */
  uint64_t beeps;      /* beep onsets seen in the output */
} bf_playout_stats;

typedef struct bf_playout {
  void *dec; /* OpusDecoder */
  unsigned frame_units;
  int started;
  uint32_t next_seq;   /* the next frame to play */
  int have_first;
  uint32_t newest_seq; /* the newest received */
  uint64_t newest_cap; /* ... its capture time */
  unsigned underrun_run;
  unsigned conceal_run; /* frames concealed since the last decoded one */
  uint64_t undecoded;   /* output samples since then */
  struct {
    int valid;
    bf_playout_frame f;
  } slot[BF_PLAYOUT_SLOTS];
  int16_t pcm[BF_PLAYOUT_PCM * 2]; /* decoded, stereo */
  size_t pcm_len;                  /* samples in pcm */
  double pos;                      /* read position in pcm */
  double pcm0_ts;                  /* capture time of pcm[0], ns */
  /* controller */
  double e_f, integ, ratio;
  uint64_t ck_t[BF_PLAYOUT_CKS]; /* the device's rate: checkpoints (client clock) ... */
  uint64_t ck_s[BF_PLAYOUT_CKS]; /* ... and the samples it had taken by then */
  unsigned ck_n, ck_i;
  uint64_t dev_total; /* samples the device took */
  double base;         /* the sender's rate / the device's */
  int base_set;        /* measured since the stream began */
  int stretched;       /* a stretch's latency is being taken back (not integrated) */
  double d_eff;        /* the target in force: follows D at 1.5 % (up) / 1 % (down) of
                          time, within what the resampler can do, so a jump of the jitter
                          never inserts silence */
  uint64_t in_t0, in_t1; /* capture times of the first and newest frame of the run */
  uint32_t in_seq0, in_seq1; /* the current run of capture times */
  uint64_t in_acc_frames, in_acc_ns; /* the runs before it */
  uint64_t last_render;
  int at_target; /* this render call's latency is at (or above) the target */
  /* arrival delays (us) */
  int32_t d_win[BF_PLAYOUT_WINDOW];
  unsigned d_n, d_i, d_since;
  int64_t d_p99_ns;
  /* beep detector (Goertzel over 1 ms blocks, channel 0) */
  double g1[2], g2[2];
  unsigned g_n;
  uint64_t g_t0;
  int g_prev;
  uint64_t last_beep_ns;
  bf_playout_stats st;
} bf_playout;

/* 0 or -ENOMEM. */
int bf_playout_init(bf_playout *p);
void bf_playout_free(bf_playout *p);

/* A frame from the loop (copied). */
void bf_playout_push(bf_playout *p, const bf_playout_frame *f);

/* Renders |n| stereo s16 samples into |out| for the device at |now_ns|,
 * with the video's latency |sync_ns| (0 = none) as the sync target. Fills
 * |rep|. */
void bf_playout_render(bf_playout *p, uint64_t now_ns, uint64_t sync_ns, int16_t *out,
                       unsigned n, bf_playout_report *rep);

#endif
