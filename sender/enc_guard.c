/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Frame-rate guard of the encoder: see enc_guard.h.
 */
#include "enc_guard.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* x264_preset_names / x265_preset_names, fastest first */
static const char *const k_ladder[] = {"ultrafast", "superfast", "veryfast", "faster",  "fast",
                                       "medium",    "slow",      "slower",   "veryslow"};
#define LADDER_N (sizeof k_ladder / sizeof k_ladder[0])
#define SVT_FASTEST 13u

void bf_enc_guard_init(bf_enc_guard *g, const char *name, const char *preset, int pinned,
                       uint64_t interval_ns) {
  memset(g, 0, sizeof *g);
  g->interval_ns = interval_ns ? interval_ns : 16666667u;
  g->window = (unsigned)(1000000000ull / g->interval_ns);
  if (g->window < 8) g->window = 8;
  g->slow_windows = 2;
  g->room_windows = 10;
  g->room_permille = 500;
  if (pinned || !name) return;
  if (!strcmp(name, "libx264") || !strcmp(name, "libx265")) {
    const char *p = preset ? preset : !strcmp(name, "libx264") ? "veryfast" : "ultrafast";
    for (unsigned i = 0; i < LADDER_N; i++)
      if (!strcmp(p, k_ladder[i])) {
        g->n = LADDER_N;
        g->pos = g->start = i;
        g->active = 1;
      }
  } else if (!strcmp(name, "libsvtav1")) {
    long v = preset ? strtol(preset, NULL, 10) : 12;
    if (v < 0 || v > (long)SVT_FASTEST) return;
    g->svt = 1;
    g->n = SVT_FASTEST + 1;
    g->pos = g->start = SVT_FASTEST - (unsigned)v; /* position 0 = preset 13 */
    g->active = 1;
  }
}

const char *bf_enc_guard_preset(const bf_enc_guard *g, char *buf, unsigned cap) {
  if (!g->active)
    snprintf(buf, cap, "%s", "");
  else if (g->svt)
    snprintf(buf, cap, "%u", SVT_FASTEST - g->pos);
  else
    snprintf(buf, cap, "%s", k_ladder[g->pos]);
  return buf;
}

int bf_enc_guard_add(bf_enc_guard *g, uint64_t encode_ns) {
  if (!g->active) return 0;
  bf_hist_add(&g->win, encode_ns);
  if (g->win.count < g->window) return 0;
  uint64_t p95 = bf_hist_percentile(&g->win, 950);
  bf_hist_reset(&g->win);
  int step = 0;
  if (p95 > g->interval_ns) {
    g->room_run = 0;
    if (++g->slow_run >= g->slow_windows && g->pos > 0) {
      if (g->fails[g->pos] < 6) g->fails[g->pos]++;
      g->pos--;
      g->steps_down++;
      step = -1;
    }
  } else if (p95 * 1000u < g->interval_ns * g->room_permille) {
    g->slow_run = 0;
    unsigned need = g->room_windows << (g->pos + 1 < g->n ? g->fails[g->pos + 1] : 0);
    if (++g->room_run >= need && g->pos < g->start) {
      g->pos++;
      g->steps_up++;
      step = 1;
    }
  } else {
    g->slow_run = 0;
    g->room_run = 0;
  }
  if (step) {
    g->slow_run = g->room_run = 0;
    g->last_p95_ns = p95;
  }
  return step;
}
