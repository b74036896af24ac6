/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The sound playout: see audio_playout.h.
 */
#include "audio_playout.h"

#include <opus/opus.h>

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define RATE 48000.0
#define NS_PER_SAMPLE (1e9 / RATE)
#define HARD_NS 30e6     /* beyond this error: corrected at once */
#define MAX_RATIO 0.08   /* the controller's range (what the device's measured rate misses) */
#define MAX_INTEG 0.05   /* ... of which its integral's */
#define MAX_BASE 0.25    /* the measured rates' range (SDL's disk driver under load: -11 %) */
#define KP 8.0           /* per second of error */
#define KI 16.0          /* per second^2: with KP, critically damped at 4 rad/s */
#define FILTER_NS 50e6   /* the error's low-pass time constant */
#define INTEG_CLAMP 2e6  /* the error the integral takes, at most (ns) */
#define BLOCK 48u        /* beep detector: 1 ms */
#define UNDERRUN_STOP 40 /* frames concealed with nothing newer: the stream paused */
#define CK_EVERY_NS 250000000ull /* the device's rate: a checkpoint every 250 ms */
#define CK_MIN_NS 5e8            /* ... used once they span this */
#define JUMP_NS 20e6     /* capture times that jump by more: the sender paused or restarted */
#define AT_TARGET_NS 1e6 /* a latency this close below the target (or above) is at it */

static unsigned frame_samples(const bf_playout *p) {
  return 120u * p->frame_units;
}

int bf_playout_init(bf_playout *p) {
  memset(p, 0, sizeof *p);
  int e;
  p->dec = opus_decoder_create(48000, 2, &e);
  if (!p->dec) return -ENOMEM;
  p->ratio = 1.0;
  p->base = 1.0;
  p->frame_units = 2;
  return 0;
}

void bf_playout_free(bf_playout *p) {
  if (p->dec) opus_decoder_destroy(p->dec);
  p->dec = NULL;
}

/* A new stream: nothing buffered, waiting for its first frame. */
static void reset(bf_playout *p) {
  for (size_t i = 0; i < BF_PLAYOUT_SLOTS; i++)
    p->slot[i].valid = 0;
  p->started = 0;
  p->have_first = 0;
  p->pcm_len = 0;
  p->pos = 0;
  p->e_f = p->integ = 0;
  p->ratio = 1.0;
  p->underrun_run = 0;
  p->ck_n = p->ck_i = 0;
  p->dev_total = 0;
  p->base = 1.0;
  p->base_set = 0;
  p->in_t0 = 0;
  p->in_acc_frames = 0;
  p->in_acc_ns = 0;
  p->last_render = 0;
  opus_decoder_ctl((OpusDecoder *)p->dec, OPUS_RESET_STATE);
  p->st.resets++;
}

static int cmp_i32(const void *a, const void *b) {
  int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
  return (x > y) - (x < y);
}

/* The arrival delay of a frame into the window; the 99th percentile every
 * 8 frames. */
static void note_delay(bf_playout *p, const bf_playout_frame *f) {
  int64_t d = (int64_t)(f->arrival_ns - f->capture_ns) / 1000;
  if (d > 1000000) d = 1000000;
  if (d < -1000000) d = -1000000;
  p->d_win[p->d_i] = (int32_t)d;
  p->d_i = (p->d_i + 1) % BF_PLAYOUT_WINDOW;
  if (p->d_n < BF_PLAYOUT_WINDOW) p->d_n++;
  if (++p->d_since < 8 && p->d_n > 8) return;
  p->d_since = 0;
  int32_t tmp[BF_PLAYOUT_WINDOW];
  memcpy(tmp, p->d_win, p->d_n * sizeof tmp[0]);
  qsort(tmp, p->d_n, sizeof tmp[0], cmp_i32);
  p->d_p99_ns = (int64_t)tmp[(p->d_n * 99) / 100 < p->d_n ? (p->d_n * 99) / 100 : p->d_n - 1] * 1000;
}

/* The sender's rate: frames per second of capture time, summed over runs
 * of capture times that follow each other (a jump, the sender paused or
 * its source restarted, ends a run). */
static void note_input(bf_playout *p, const bf_playout_frame *f) {
  if (!p->in_t0) {
    p->in_t0 = p->in_t1 = f->capture_ns;
    p->in_seq0 = p->in_seq1 = f->seq;
    return;
  }
  int32_t ds = (int32_t)(f->seq - p->in_seq1);
  if (ds <= 0) return;
  double expect = (double)p->in_t1 + (double)ds * frame_samples(p) * NS_PER_SAMPLE;
  if (fabs((double)f->capture_ns - expect) > JUMP_NS) { /* a new run */
    p->in_acc_frames += (uint32_t)(p->in_seq1 - p->in_seq0);
    p->in_acc_ns += p->in_t1 - p->in_t0;
    p->in_t0 = f->capture_ns;
    p->in_seq0 = f->seq;
  }
  p->in_t1 = f->capture_ns;
  p->in_seq1 = f->seq;
}

/* The sender's measured rate, samples per second (RATE until 1 s of it). */
static double input_rate(const bf_playout *p) {
  double ns = (double)(p->in_acc_ns + (p->in_t1 - p->in_t0));
  double frames = (double)p->in_acc_frames + (double)(uint32_t)(p->in_seq1 - p->in_seq0);
  if (!p->in_t0 || ns < 1e9) return RATE;
  return frames * frame_samples(p) / (ns / 1e9);
}

void bf_playout_push(bf_playout *p, const bf_playout_frame *f) {
  p->st.frames++;
  if (f->frame_units != p->frame_units && f->frame_units >= 1 && f->frame_units <= 8) {
    p->frame_units = f->frame_units; /* another frame length: a new stream */
    reset(p);
  }
  int32_t diff = (int32_t)(f->seq - p->next_seq);
  if (p->have_first && (diff > (int32_t)BF_PLAYOUT_SLOTS - 4 || diff < -1000)) reset(p);
  if (!p->have_first) {
    p->have_first = 1;
    p->next_seq = f->seq;
    p->newest_seq = f->seq;
    p->newest_cap = f->capture_ns;
    diff = 0;
  } else if (!p->started && diff < 0) { /* reordered before the start: begin there */
    p->next_seq = f->seq;
    diff = 0;
  }
  note_delay(p, f);
  if (diff >= 0) note_input(p, f);
  if (diff < 0) {
    p->st.late++;
    /* whose fault: it came later than the target allowed (the network, the
     * sender, the loop), or the playout had run ahead of its target */
    if (p->started && (double)(f->arrival_ns - f->capture_ns) > p->d_eff - AT_TARGET_NS)
      p->st.late_input++;
    return;
  }
  if ((int32_t)(f->seq - p->newest_seq) > 0) {
    p->newest_seq = f->seq;
    p->newest_cap = f->capture_ns;
  }
  size_t k = f->seq % BF_PLAYOUT_SLOTS;
  if (p->slot[k].valid && p->slot[k].f.seq == f->seq) {
    p->st.duplicates++;
    return;
  }
  p->slot[k].valid = 1;
  p->slot[k].f = *f;
}

/* The target latency for a device period of |period_ns|. */
static double target_ns(const bf_playout *p, double period_ns, uint64_t sync_ns) {
  double d = (double)p->d_p99_ns + period_ns + 1e6;
  if ((double)sync_ns > d) d = (double)sync_ns;
  if (d < period_ns + 2e6) d = period_ns + 2e6;
  if (d > (double)BF_PLAYOUT_MAX_NS) d = (double)BF_PLAYOUT_MAX_NS;
  return d;
}

/* The next frame's samples onto the end of pcm: decoded, or concealed. */
static void next_frame(bf_playout *p) {
  unsigned n = frame_samples(p);
  if (p->pos > 2) { /* keep one sample of history for the interpolation */
    size_t drop = (size_t)p->pos - 1;
    memmove(p->pcm, p->pcm + drop * 2, (p->pcm_len - drop) * 2 * sizeof p->pcm[0]);
    p->pcm_len -= drop;
    p->pos -= (double)drop;
    p->pcm0_ts += (double)drop * NS_PER_SAMPLE;
  }
  if (p->pcm_len + n > BF_PLAYOUT_PCM) { /* cannot happen (pos stays near the end): start clean */
    p->pcm0_ts += p->pos * NS_PER_SAMPLE;
    p->pcm_len = 0;
    p->pos = 0;
  }
  size_t k = p->next_seq % BF_PLAYOUT_SLOTS;
  int got = -1;
  if (p->slot[k].valid && p->slot[k].f.seq == p->next_seq) {
    /* the timeline follows the frames' capture times: slowly (their
     * jitter), or at once across a jump (a sender that paused) */
    double delta = (double)p->slot[k].f.capture_ns - (p->pcm0_ts + (double)p->pcm_len * NS_PER_SAMPLE);
    p->pcm0_ts += fabs(delta) > 20e6 ? delta : delta / 16;
    got = opus_decode(p->dec, p->slot[k].f.data, p->slot[k].f.len, p->pcm + p->pcm_len * 2,
                      (int)n, 0);
    p->slot[k].valid = 0;
    if (got > 0) p->st.decoded++;
    p->underrun_run = 0;
    p->conceal_run = 0;
    p->undecoded = 0;
  }
  if (got <= 0) { /* missing (or undecodable): Opus packet loss concealment */
    got = opus_decode(p->dec, NULL, 0, p->pcm + p->pcm_len * 2, (int)n, 0);
    p->st.concealed++;
    if (++p->conceal_run > p->st.conceal_run_max) p->st.conceal_run_max = p->conceal_run;
    if (got <= 0) {
      memset(p->pcm + p->pcm_len * 2, 0, n * 4);
      got = (int)n;
    }
    int none_later = (int32_t)(p->newest_seq - p->next_seq) < 0;
    if (none_later) p->underrun_run++; /* the input stopped? */
    if (none_later && !p->at_target) {
      /* nothing later has come and the playout is below its target (it ran
       * ahead): stretched, the concealment played while the timeline stands
       * still, so the frame is played when it comes (the latency grows
       * toward the target). At the target, the frame is concealed in its
       * place (lost, or later than the target allows: late). */
      p->st.underruns++;
      p->stretched = 1;
      p->pcm_len += (size_t)got;
      p->pcm0_ts -= got * NS_PER_SAMPLE;
      return;
    }
    p->st.lost++; /* concealed in its place */
  }
  p->pcm_len += (size_t)got;
  p->next_seq++;
}

static int16_t clamp16(double v) {
  return v > 32767 ? 32767 : v < -32768 ? -32768 : (int16_t)lrint(v);
}

/* One output sample from pcm at p->pos (Hermite), then advance by ratio. */
static void interp(bf_playout *p, int16_t *o) {
  while ((size_t)p->pos + 3 > p->pcm_len)
    next_frame(p);
  size_t i = (size_t)p->pos;
  double x = p->pos - (double)i;
  for (int c = 0; c < 2; c++) {
    double y0 = i ? p->pcm[(i - 1) * 2 + (size_t)c] : p->pcm[i * 2 + (size_t)c];
    double y1 = p->pcm[i * 2 + (size_t)c], y2 = p->pcm[(i + 1) * 2 + (size_t)c];
    double y3 = p->pcm[(i + 2) * 2 + (size_t)c];
    double c1 = 0.5 * (y2 - y0), c2 = y0 - 2.5 * y1 + 2 * y2 - 0.5 * y3;
    double c3 = 0.5 * (y3 - y0) + 1.5 * (y1 - y2);
    o[c] = clamp16(((c3 * x + c2) * x + c1) * x + y1);
  }
  p->pos += p->ratio;
}

/* Moves the read position |ns| of input on, but only over what has
 * arrived: a device period and 1 ms of it stay (after a stall of the whole
 * machine the input is late too; skipping past it would conceal frames
 * that are on their way). Returns the ns moved. */
static double advance(bf_playout *p, double ns, double period) {
  double cur = p->pcm0_ts + p->pos * NS_PER_SAMPLE;
  double have = (double)p->newest_cap + frame_samples(p) * NS_PER_SAMPLE - cur - period - 1e6;
  if (ns > have) ns = have;
  if (ns <= 0) return 0;
  double samples = ns / NS_PER_SAMPLE;
  while (samples > 0) {
    while ((size_t)p->pos + 4 > p->pcm_len) /* at least a sample of room */
      next_frame(p);
    double room = (double)p->pcm_len - 3 - p->pos;
    double step = room < samples ? room : samples;
    p->pos += step;
    samples -= step;
  }
  return ns;
}

/* Skips up to |ns| of input at once (latency far above the target),
 * counted. Returns the ns skipped. */
static double skip_input(bf_playout *p, double ns, double period) {
  ns = advance(p, ns, period);
  p->st.skipped_ms += (uint64_t)(ns / 1e6);
  return ns;
}

/* Beep onsets in the output (channel 0): 1 ms Goertzel blocks at 1 and 2 kHz. */
static void detect_beeps(bf_playout *p, const int16_t *out, unsigned n, uint64_t now,
                         bf_playout_report *rep) {
  static const double k1 = 1.9828897227476208; /* 2 cos(2 pi 1000 / 48000) */
  static const double k2 = 1.9318516525781366; /* 2 cos(2 pi 2000 / 48000) */
  for (unsigned i = 0; i < n; i++) {
    if (p->g_n == 0) p->g_t0 = now + (uint64_t)((double)i * NS_PER_SAMPLE);
    double x = out[i * 2];
    double s1 = x + k1 * p->g1[0] - p->g1[1];
    p->g1[1] = p->g1[0], p->g1[0] = s1;
    double s2 = x + k2 * p->g2[0] - p->g2[1];
    p->g2[1] = p->g2[0], p->g2[0] = s2;
    if (++p->g_n < BLOCK) continue;
    double pw1 = p->g1[0] * p->g1[0] + p->g1[1] * p->g1[1] - k1 * p->g1[0] * p->g1[1];
    double pw2 = p->g2[0] * p->g2[0] + p->g2[1] * p->g2[1] - k2 * p->g2[0] * p->g2[1];
    int beep = pw2 > 4 * pw1 && pw2 > 1e9; /* a -12 dBFS sine over 48 samples: ~4e10 */
    if (beep && !p->g_prev && p->g_t0 - p->last_beep_ns > 500000000ull) {
      p->last_beep_ns = p->g_t0;
      rep->beep_ns = p->g_t0;
      p->st.beeps++;
    }
    p->g_prev = beep;
    p->g_n = 0;
    p->g1[0] = p->g1[1] = p->g2[0] = p->g2[1] = 0;
  }
}

/* The first frame: start when its time (capture + D) has come, at D: the
 * device's call comes up to a period after that time, and what it is late
 * by is skipped (not counted: the stream has not played yet). */
static int start(bf_playout *p, uint64_t now, double d, double period) {
  size_t k = p->next_seq % BF_PLAYOUT_SLOTS;
  if (!p->have_first || !p->slot[k].valid || p->slot[k].f.seq != p->next_seq) return 0;
  if ((double)now < (double)p->slot[k].f.capture_ns + d) return 0;
  p->started = 1;
  p->d_eff = d;
  p->pcm_len = 0;
  p->pos = 0;
  p->pcm0_ts = (double)p->slot[k].f.capture_ns;
  p->e_f = p->integ = 0;
  p->ratio = 1.0;
  (void)advance(p, (double)now - (double)p->slot[k].f.capture_ns - d, period);
  return 1;
}

/* The device's rate (samples it took per second of the client clock, over
 * a sliding window of checkpoints) against the sender's: the base ratio. */
static void measure_rates(bf_playout *p, uint64_t now, unsigned n, double in_rate) {
  unsigned last = (p->ck_i + BF_PLAYOUT_CKS - 1) % BF_PLAYOUT_CKS;
  if (!p->ck_n || now - p->ck_t[last] >= CK_EVERY_NS) {
    p->ck_t[p->ck_i] = now;
    p->ck_s[p->ck_i] = p->dev_total;
    last = p->ck_i;
    p->ck_i = (p->ck_i + 1) % BF_PLAYOUT_CKS;
    if (p->ck_n < BF_PLAYOUT_CKS) p->ck_n++;
  }
  p->dev_total += n;
  unsigned old = (p->ck_i + BF_PLAYOUT_CKS - p->ck_n) % BF_PLAYOUT_CKS;
  double span = (double)(p->ck_t[last] - p->ck_t[old]);
  if (span < CK_MIN_NS) return; /* the base stays */
  double b = in_rate / ((double)(p->ck_s[last] - p->ck_s[old]) / (span / 1e9));
  b = b > 1 + MAX_BASE ? 1 + MAX_BASE : b < 1 - MAX_BASE ? 1 - MAX_BASE : b;
  if (!p->base_set) { /* what the integral held of what the base now measures: handed over */
    double to = (p->base * (1 + KI * p->integ) / b - 1) / KI;
    p->integ = p->integ > 0 ? fmin(fmax(to, 0), p->integ) : fmax(fmin(to, 0), p->integ);
    p->base_set = 1;
  }
  p->base = b;
}

/* The output since the last frame decoded (once one was): the longest such
 * stretch (PLC, silence while the stream restarts) bounds any silence in
 * the output. Over by up to a period (counted at the end of the call). */
static void note_undecoded(bf_playout *p, unsigned n) {
  if (!p->st.decoded) return;
  p->undecoded += n;
  if (p->undecoded > p->st.undecoded_max) p->st.undecoded_max = p->undecoded;
}

void bf_playout_render(bf_playout *p, uint64_t now, uint64_t sync_ns, int16_t *out, unsigned n,
                       bf_playout_report *rep) {
  double period = (double)n * NS_PER_SAMPLE;
  double d = target_ns(p, period, sync_ns);
  memset(rep, 0, sizeof *rep);
  rep->t_ns = now;
  rep->target_ns = (uint64_t)d;
  rep->latency_ns = -1;
  if (p->started && p->underrun_run >= UNDERRUN_STOP) { /* the input stopped */
    p->st.stalled += p->underrun_run; /* its frames, if they come, start a new stream */
    reset(p);
  }
  if (!p->started && !start(p, now, d, period)) {
    memset(out, 0, (size_t)n * 4);
    detect_beeps(p, out, n, now, rep);
    note_undecoded(p, n);
    return;
  }
  if (d > p->d_eff)
    p->d_eff = d < p->d_eff + 0.015 * period ? d : p->d_eff + 0.015 * period;
  else
    p->d_eff = d > p->d_eff - 0.01 * period ? d : p->d_eff - 0.01 * period;
  d = p->d_eff;
  rep->target_ns = (uint64_t)d;
  if (p->last_render && (double)(now - p->last_render) > 2 * period) { /* the machine */
    p->st.device_late++;
    p->st.device_late_ns += (uint64_t)((double)(now - p->last_render) - period);
  }
  p->last_render = now;
  double cur = p->pcm0_ts + p->pos * NS_PER_SAMPLE;
  double e = (double)now - cur - d;
  p->at_target = e >= -AT_TARGET_NS;
  unsigned from = 0;
  if (e > HARD_NS) { /* the device stalled: its lost time is not its rate */
    e -= skip_input(p, e - 2e6, period);
    p->ck_n = p->ck_i = 0;
  } else if (e < -HARD_NS) { /* early: silence first, then on */
    double gap = -e - 2e6;
    from = gap / NS_PER_SAMPLE >= n ? n : (unsigned)(gap / NS_PER_SAMPLE);
    memset(out, 0, (size_t)from * 4);
    p->st.inserted_ms += (uint64_t)((double)from * NS_PER_SAMPLE / 1e6);
    e = -2e6;
  }
  double in_rate = input_rate(p);
  measure_rates(p, now, n, in_rate);
  double dt = period / 1e9;
  p->e_f += (period < FILTER_NS ? period / FILTER_NS : 1.0) * (e - p->e_f);
  /* the integral takes the error clamped, and none while a stretch's
   * latency is taken back (the proportional part's): wound up by such a
   * step, it would carry the latency below the target after it */
  double ei = fmax(fmin(p->e_f, INTEG_CLAMP), -INTEG_CLAMP);
  if (e <= 0) p->stretched = 0;
  if (!p->stretched) p->integ += ei / 1e9 * dt;
  double lim = MAX_INTEG / KI;
  if (p->integ > lim) p->integ = lim;
  if (p->integ < -lim) p->integ = -lim;
  double r = KP * p->e_f / 1e9 + KI * p->integ;
  if (r > MAX_RATIO) r = MAX_RATIO;
  if (r < -MAX_RATIO) r = -MAX_RATIO;
  p->ratio = p->base * (1.0 + r);
  cur = p->pcm0_ts + p->pos * NS_PER_SAMPLE;
  rep->latency_ns = (int64_t)((double)now + (double)from * NS_PER_SAMPLE - cur);
  for (unsigned i = from; i < n; i++)
    interp(p, out + i * 2);
  rep->ratio_ppm = (int32_t)lrint((p->ratio - 1) * 1e6);
  rep->device_ppm = (int32_t)lrint((p->base - 1) * 1e6);
  rep->sender_ppm = (int32_t)lrint((in_rate / RATE - 1) * 1e6);
  int32_t frames_ahead = (int32_t)(p->newest_seq - p->next_seq) + 1;
  double ahead = (double)(frames_ahead > 0 ? frames_ahead : 0) * frame_samples(p) +
                 ((double)p->pcm_len - p->pos);
  rep->buffer_ns = (int64_t)(ahead * NS_PER_SAMPLE);
  detect_beeps(p, out, n, now, rep);
  note_undecoded(p, n);
}
