/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Checks what the client handed to its sound device (SDL's disk driver
 * writes it as raw s16le stereo at 48 kHz), for tests/audio/e2e.sh:
 *
 *   bf_pcmcheck tone OUT.raw
 *       the sender's test tone: beep onsets (2 kHz over 1 kHz in 1 ms
 *       blocks), their spacing, the longest silent gap (1 ms blocks below
 *       -40 dBFS) between the first and the last sound, and how pure the
 *       tone is between beeps (the energy share of the sine at the window's
 *       own frequency, from its zero crossings, in 10 ms windows)
 *   bf_pcmcheck xcorr REF.raw OUT.raw RATIO_PPM
 *       how well OUT reproduces REF: OUT is first stretched back by the
 *       client's resampling ratio (its --stats-json ratio_ppm), then every
 *       50 ms window with sound (every 250 ms) is matched against every
 *       position of REF (circularly: a looping file) by normalized
 *       cross-correlation, at 12 kHz
 *
 * Prints one JSON object. Exit 0, or 2 on bad arguments or files.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Channel 0 of a raw s16le stereo file as floats. */
static float *load(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 1 << 20, len = 0;
  float *x = malloc(cap * sizeof *x);
  short fr[2];
  while (x && fread(fr, sizeof fr, 1, f) == 1) {
    if (len == cap) {
      float *y = realloc(x, (cap *= 2) * sizeof *x);
      if (!y) {
        free(x);
        x = NULL;
        break;
      }
      x = y;
    }
    x[len++] = fr[0];
  }
  fclose(f);
  *n = len;
  return x;
}

/* Goertzel power of |x|[0..n) at |hz| (48 kHz). */
static double goertzel(const float *x, size_t n, double hz) {
  double k = 2 * cos(2 * M_PI * hz / 48000.0), s1 = 0, s2 = 0;
  for (size_t i = 0; i < n; i++) {
    double s = x[i] + k * s1 - s2;
    s2 = s1;
    s1 = s;
  }
  return s1 * s1 + s2 * s2 - k * s1 * s2;
}

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static int tone(const char *path) {
  size_t n;
  float *x = load(path, &n);
  if (!x) return 2;
  size_t blocks = n / 48;
  unsigned char *beep = calloc(blocks + 1, 1), *loud = calloc(blocks + 1, 1);
  size_t onsets[4096], n_on = 0;
  for (size_t b = 0; b < blocks; b++) {
    const float *p = x + b * 48;
    double e = 0;
    for (int i = 0; i < 48; i++)
      e += (double)p[i] * p[i];
    loud[b] = e / 48 > 100.0 * 100.0;
    beep[b] = loud[b] && goertzel(p, 48, 2000) > 4 * goertzel(p, 48, 1000);
    if (beep[b] && (!b || !beep[b - 1]) && n_on < 4096 &&
        (!n_on || b - onsets[n_on - 1] > 500))
      onsets[n_on++] = b;
  }
  size_t first = 0, last = 0, gap = 0, run = 0;
  while (first < blocks && !loud[first])
    first++;
  for (size_t b = first; b < blocks; b++)
    if (loud[b]) last = b;
  for (size_t b = first; b <= last && b < blocks; b++) {
    run = loud[b] ? 0 : run + 1;
    if (run > gap) gap = run;
  }
  /* the tone's frequency from zero crossings away from the beeps */
  size_t zc = 0, zn = 0;
  for (size_t b = first; b + 1 < last; b++) {
    if (beep[b] || (b && beep[b - 1]) || beep[b + 1] || !loud[b]) continue;
    for (size_t i = b * 48 + 1; i < (b + 1) * 48; i++)
      if ((x[i - 1] < 0) != (x[i] < 0)) zc++;
    zn += 48;
  }
  double hz = zn ? (double)zc / 2 / ((double)zn / 48000.0) : 0;
  /* purity in 10 ms windows clear of beeps */
  size_t nw = 0, capw = blocks / 10 + 1;
  double *pur = malloc(capw * sizeof *pur);
  for (size_t b = first; pur && hz > 0 && b + 12 < last; b += 10) {
    int clear = 1;
    for (size_t k = b ? b - 1 : 0; k < b + 11; k++)
      if (beep[k] || !loud[k]) clear = 0;
    if (!clear) continue;
    const float *p = x + b * 48;
    double e = 0, c0 = -1, lastc = -1;
    int crossings = 0;
    for (int i = 0; i < 480; i++) {
      e += (double)p[i] * p[i];
      if (i && (p[i - 1] < 0) != (p[i] < 0)) { /* interpolated crossing time */
        double t = (double)(i - 1) + (double)p[i - 1] / ((double)p[i - 1] - p[i]);
        if (c0 < 0) c0 = t;
        lastc = t;
        crossings++;
      }
    }
    /* the window's own frequency (the client resamples a little) */
    double f = crossings > 2 ? (crossings - 1) / 2.0 / ((lastc - c0) / 48000.0) : hz;
    pur[nw++] = 2 * goertzel(p, 480, f) / 480 / e;
  }
  if (pur && nw) qsort(pur, nw, sizeof *pur, cmp_d);
  double sp[4096];
  for (size_t i = 1; i < n_on; i++)
    sp[i - 1] = (double)(onsets[i] - onsets[i - 1]);
  if (n_on > 1) qsort(sp, n_on - 1, sizeof sp[0], cmp_d);
  printf("{\"seconds\": %.3f, \"beeps\": %zu, \"beep_spacing_ms\": %.1f, \"longest_gap_ms\": %zu, "
         "\"tone_hz\": %.1f, \"tone_windows\": %zu, \"purity_median\": %.4f, \"purity_p05\": %.4f}\n",
         (double)n / 48000.0, n_on, n_on > 1 ? sp[(n_on - 1) / 2] : 0.0, gap, hz, nw,
         nw ? pur[nw / 2] : 0.0, nw ? pur[nw / 20] : 0.0);
  free(pur);
  free(beep);
  free(loud);
  free(x);
  return 0;
}

/* 48 kHz -> 12 kHz by averaging 4 (the content tested is below 3 kHz). */
static float *down4(const float *x, size_t n, size_t *m) {
  *m = n / 4;
  float *y = malloc((*m + 1) * sizeof *y);
  for (size_t i = 0; y && i < *m; i++)
    y[i] = (x[4 * i] + x[4 * i + 1] + x[4 * i + 2] + x[4 * i + 3]) / 4;
  return y;
}

static int xcorr(const char *refp, const char *outp, double ratio_ppm) {
  size_t nr, no;
  float *r48 = load(refp, &nr), *o48 = load(outp, &no);
  if (!r48 || !o48 || nr < 48000 || no < 48000) return 2;
  /* undo the client's resampling: output sample i came from input i * ratio */
  double ratio = 1 + ratio_ppm / 1e6;
  size_t ns = (size_t)((double)no * ratio) - 2;
  float *s48 = malloc(ns * sizeof *s48);
  for (size_t i = 0; s48 && i < ns; i++) {
    double t = (double)i / ratio;
    size_t k = (size_t)t;
    double f = t - (double)k;
    s48[i] = (float)((1 - f) * o48[k] + f * o48[k + 1]);
  }
  size_t mr, mo;
  float *r = down4(r48, nr, &mr), *o = down4(s48, ns, &mo);
  const size_t W = 600, step = 3000;
  double rho[4096];
  size_t nw = 0;
  for (size_t w = 6000; w + W < mo && nw < 4096; w += step) {
    double eo = 0;
    for (size_t i = 0; i < W; i++)
      eo += (double)o[w + i] * o[w + i];
    if (eo / (double)W < 300.0 * 300.0) continue; /* silence */
    double best = 0;
    for (size_t lag = 0; lag < mr; lag++) {
      double c = 0, er = 0;
      for (size_t i = 0; i < W; i++) {
        float a = r[(lag + i) % mr];
        c += (double)a * o[w + i];
        er += (double)a * a;
      }
      if (er > 0 && c / sqrt(er * eo) > best) best = c / sqrt(er * eo);
    }
    rho[nw++] = best;
  }
  size_t good = 0;
  for (size_t i = 0; i < nw; i++)
    good += rho[i] > 0.8;
  qsort(rho, nw, sizeof rho[0], cmp_d);
  printf("{\"windows\": %zu, \"rho_median\": %.4f, \"rho_p10\": %.4f, \"good\": %zu}\n", nw,
         nw ? rho[nw / 2] : 0.0, nw ? rho[nw / 10] : 0.0, good);
  free(r48), free(o48), free(s48), free(r), free(o);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 3 && !strcmp(argv[1], "tone")) return tone(argv[2]);
  if (argc == 5 && !strcmp(argv[1], "xcorr")) return xcorr(argv[2], argv[3], atof(argv[4]));
  fprintf(stderr, "usage: bf_pcmcheck tone OUT.raw | xcorr REF.raw OUT.raw RATIO_PPM\n");
  return 2;
}
