/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Audio/video sync: see av_sync.h.
 */
#include "av_sync.h"

#include <libavutil/pixfmt.h>

#include <stdlib.h>
#include <string.h>

#define SEC 1000000000ull
#define PAIR_NS 400000000ll

void bf_avsync_init(bf_avsync *s) {
  memset(s, 0, sizeof *s);
}

int bf_avsync_is_flash(const AVFrame *f) {
  if (!f || !f->data[0] || f->width < 16 || f->height < 16) return 0;
  switch (f->format) {
  case AV_PIX_FMT_YUV420P:
  case AV_PIX_FMT_YUVJ420P:
  case AV_PIX_FMT_NV12:
  case AV_PIX_FMT_YUV422P:
  case AV_PIX_FMT_YUV444P:
    break;
  default:
    return 0; /* hardware frames and others: not looked at */
  }
  for (int gy = 0; gy < 8; gy++) {
    int y = f->height / 4 + (3 * f->height / 4) * gy / 8 + 1;
    for (int gx = 0; gx < 8; gx++) {
      int x = f->width * (2 * gx + 1) / 16;
      if (f->data[0][(ptrdiff_t)y * f->linesize[0] + x] < 200) return 0;
    }
  }
  return 1;
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

/* Pairs the waiting beeps and flashes that are close; drops old ones. */
static void pair(bf_avsync *s) {
  for (unsigned i = 0; i < s->n_flash; i++) {
    for (unsigned j = 0; j < s->n_beep; j++) {
      int64_t d = (int64_t)(s->beep[j].t_ns - s->flash[i].t_ns);
      if (d > PAIR_NS || d < -PAIR_NS) continue;
      s->offsets[s->i_off] = d + s->flash[i].frac_ns;
      s->residuals[s->i_off] = d + s->flash[i].frac_ns - (s->beep[j].lat_ns - s->flash[i].lat_ns);
      s->i_off = (s->i_off + 1) % BF_AVSYNC_OFFSETS;
      if (s->n_off < BF_AVSYNC_OFFSETS) s->n_off++;
      s->pairs++;
      s->flash[i] = s->flash[--s->n_flash];
      s->beep[j] = s->beep[--s->n_beep];
      i--;
      break;
    }
  }
}

static void drop_old(bf_avsync *s, uint64_t now) {
  for (unsigned i = 0; i < s->n_flash;)
    if (s->flash[i].t_ns + 2 * SEC < now)
      s->flash[i] = s->flash[--s->n_flash];
    else
      i++;
  for (unsigned j = 0; j < s->n_beep;)
    if (s->beep[j].t_ns + 2 * SEC < now)
      s->beep[j] = s->beep[--s->n_beep];
    else
      j++;
}

void bf_avsync_on_picture(bf_avsync *s, uint64_t present_ns, uint64_t pts_ns, int64_t latency_ns,
                          int flash) {
  s->vlat[s->i_vlat] = latency_ns;
  s->i_vlat = (s->i_vlat + 1) % 64u;
  if (s->n_vlat < 64) s->n_vlat++;
  if (!flash) return;
  s->flashes++;
  drop_old(s, present_ns);
  if (s->n_flash == BF_AVSYNC_KEEP) s->flash[0] = s->flash[--s->n_flash];
  s->flash[s->n_flash].t_ns = present_ns;
  s->flash[s->n_flash].frac_ns = (int64_t)(pts_ns % SEC);
  s->flash[s->n_flash].lat_ns = latency_ns;
  s->n_flash++;
  pair(s);
}

void bf_avsync_on_beep(bf_avsync *s, uint64_t t_ns, int64_t latency_ns) {
  s->beeps++;
  drop_old(s, t_ns);
  if (s->n_beep == BF_AVSYNC_KEEP) s->beep[0] = s->beep[--s->n_beep];
  s->beep[s->n_beep].t_ns = t_ns;
  s->beep[s->n_beep++].lat_ns = latency_ns;
  pair(s);
}

uint64_t bf_avsync_video_latency(const bf_avsync *s) {
  if (!s->n_vlat) return 0;
  int64_t tmp[64];
  memcpy(tmp, s->vlat, s->n_vlat * sizeof tmp[0]);
  qsort(tmp, s->n_vlat, sizeof tmp[0], cmp_i64);
  int64_t m = tmp[s->n_vlat / 2];
  return m > 0 ? (uint64_t)m : 0;
}

int bf_avsync_marker(const bf_avsync *s, int64_t *last_ns, int64_t *median_ns) {
  if (!s->n_off) return 0;
  *last_ns = s->offsets[(s->i_off + BF_AVSYNC_OFFSETS - 1) % BF_AVSYNC_OFFSETS];
  int64_t tmp[BF_AVSYNC_OFFSETS];
  memcpy(tmp, s->offsets, s->n_off * sizeof tmp[0]);
  qsort(tmp, s->n_off, sizeof tmp[0], cmp_i64);
  *median_ns = tmp[s->n_off / 2];
  return 1;
}

int64_t bf_avsync_residual(const bf_avsync *s) {
  if (!s->n_off) return 0;
  int64_t tmp[BF_AVSYNC_OFFSETS];
  memcpy(tmp, s->residuals, s->n_off * sizeof tmp[0]);
  qsort(tmp, s->n_off, sizeof tmp[0], cmp_i64);
  return tmp[s->n_off / 2];
}
