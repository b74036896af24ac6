/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Latency overlay text and graph: see overlay.h.
 */
#include "overlay.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *bf_overlay_level_name(bf_overlay_level l) {
  static const char *const names[BF_OVERLAY_COUNT_] = {"off", "compact", "normal", "detailed"};
  return (unsigned)l < BF_OVERLAY_COUNT_ ? names[l] : "unknown";
}

const bf_canvas *bf_overlay_canvas(const bf_overlay *o) {
  return o->level != BF_OVERLAY_OFF && o->cv.w > 0 && o->nlines > 0 ? &o->cv : NULL;
}

void bf_overlay_init(bf_overlay *o, bf_overlay_level level, const bf_text_ops *text) {
  memset(o, 0, sizeof *o);
  o->level = level;
  o->text = *text;
  o->text_dirty = 1;
}

void bf_overlay_free(bf_overlay *o) {
  bf_canvas_free(&o->cv);
}

void bf_overlay_set_level(bf_overlay *o, bf_overlay_level level) {
  o->level = level;
  o->nlines = 0;
  o->text_dirty = 1;
}

void bf_overlay_set_font(bf_overlay *o, const bf_text_ops *text) {
  o->text = *text;
  o->text_dirty = 1;
}

__attribute__((format(printf, 2, 3))) static void line(bf_overlay *o, const char *fmt, ...) {
  if (o->nlines >= BF_OVERLAY_MAX_LINES) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(o->lines[o->nlines++], BF_OVERLAY_LINE_CHARS, fmt, ap);
  va_end(ap);
}

static void stage_line(bf_overlay *o, const bf_stats_view *v, bf_stage st, const char *label) {
  if (v->n[st])
    line(o, "%-10s %6.2f %6.2f %6.2f", label, v->p50[st], v->p95[st], v->p99[st]);
  else
    line(o, "%-10s %6s %6s %6s", label, "-", "-", "-");
}

void bf_overlay_set_text(bf_overlay *o, const bf_stats_view *v, const bf_stats *s,
                         const bf_overlay_info *info) {
  char old[BF_OVERLAY_MAX_LINES][BF_OVERLAY_LINE_CHARS];
  int old_n = o->nlines;
  memcpy(old, o->lines, sizeof old);
  o->nlines = 0;
  uint64_t late =
      s->outcome[BF_OUT_STALE] + s->outcome[BF_OUT_REPLACED] + s->outcome[BF_OUT_SKIPPED];
  switch (o->level) {
  case BF_OVERLAY_OFF:
  case BF_OVERLAY_COUNT_:
    break;
  case BF_OVERLAY_COMPACT:
    if (v->n[BF_STAGE_E2E])
      line(o, "%.0f fps  e2e %.1f/%.1f ms  loss %.1f%%", v->fps_presented, v->p50[BF_STAGE_E2E],
           v->p95[BF_STAGE_E2E], v->loss_pct);
    else
      line(o, "%.0f fps  waiting for video", v->fps_presented);
    break;
  case BF_OVERLAY_NORMAL:
  case BF_OVERLAY_DETAILED: {
    int detailed = o->level == BF_OVERLAY_DETAILED;
    if (info->width && info->fps > 0) /* the nominal rate; the measured ones below */
      line(o, "%dx%d@%.*f %s  %s", info->width, info->height,
           fabs(info->fps - round(info->fps)) < 0.005 ? 0 : 2, info->fps,
           info->codec ? info->codec : "?", info->decoder ? info->decoder : "");
    else if (info->width)
      line(o, "%dx%d %s  %s", info->width, info->height, info->codec ? info->codec : "?",
           info->decoder ? info->decoder : "");
    else
      line(o, "waiting for video");
    line(o, "fps rx %.0f dec %.0f shown %.0f  %.1f Mbit/s", v->fps_received, v->fps_decoded,
         v->fps_presented, v->goodput_mbps);
    line(o, "%-10s %6s %6s %6s", "ms", "p50", "p95", "p99");
    if (!s->host_frames && !s->host_missing) /* no FRAME_INFO: an older sender */
      line(o, "%-10s unknown: the sender does not say", "host");
    else if (v->host_n)
      line(o, "%-10s %6.2f %6.2f %6.2f", "host", v->host_p50, v->host_p95, v->host_p99);
    else
      line(o, "%-10s %6s %6s %6s", "host", "-", "-", "-");
    stage_line(o, v, BF_STAGE_NETWORK, "network");
    stage_line(o, v, BF_STAGE_REASSEMBLY, "reassembly");
    if (detailed) stage_line(o, v, BF_STAGE_QUEUE, "queue");
    stage_line(o, v, BF_STAGE_DECODE, "decode");
    stage_line(o, v, BF_STAGE_PRESENT, "present");
    stage_line(o, v, BF_STAGE_E2E, "end-to-end");
    if (info->input_n)
      line(o, "%-10s %6.2f %6.2f %6.2f", "in->photon", info->input_p50_ms, info->input_p95_ms,
           info->input_p99_ms);
    line(o, "loss %.2f%%  lost %llu fec %llu late %llu", v->loss_pct,
         (unsigned long long)s->frames_lost, (unsigned long long)s->frames_repaired,
         (unsigned long long)late);
    if (info->audio.on && info->audio.marker)
      line(o, "audio %.1f/%.1f ms a/v %+.0f mark %+.0f ms%s", info->audio.p50_ms,
           info->audio.p95_ms, info->audio.av_offset_ms, info->audio.marker_ms,
           info->audio.muted ? " muted" : "");
    else if (info->audio.on)
      line(o, "audio %.1f/%.1f ms  a/v %+.1f ms%s", info->audio.p50_ms, info->audio.p95_ms,
           info->audio.av_offset_ms, info->audio.muted ? "  muted" : "");
    if (info->audio.on)
      line(o, "audio concealed %llu late %llu", (unsigned long long)info->audio.concealed,
           (unsigned long long)info->audio.late);
    if (info->path && info->clock_synced)
      line(o, "path %.50s  rtt %.2f ms", info->path, info->rtt_ms);
    else if (info->path)
      line(o, "path %.50s", info->path);
    if (detailed) {
      line(o, "fec shards %llu  jitter %.2f ms", (unsigned long long)s->fec_shards_used,
           v->jitter_ms);
      if (info->clock_synced)
        line(o, "clock %+.2f ms  rtt %.2f ms", info->clock_offset_ms, info->rtt_ms);
      else
        line(o, "clock not synced (same clock assumed)");
      line(o, "keyreq %llu skip %llu err %llu rej %llu",
           (unsigned long long)info->keyframe_requests, (unsigned long long)info->skips,
           (unsigned long long)info->decode_errors, (unsigned long long)info->rejected);
    }
    break;
  }
  }
  if (info->waiting_key && o->level != BF_OVERLAY_OFF) line(o, "frozen: waiting for a keyframe");
  if (o->nlines != old_n || memcmp(old, o->lines, sizeof old) != 0) o->text_dirty = 1;
}

double bf_overlay_graph_range_ms(const bf_stats *s) {
  double top = 0;
  for (size_t i = 0; i < s->graph_n; i++) {
    const bf_graph_col *c = &s->graph[i];
    double h = c->host + (c->net > 0 ? c->net : 0) + c->reasm + c->decode + c->present;
    if (h > top) top = h;
  }
  double r = ceil(top / 10.0) * 10.0;
  return r < 20 ? 20 : r;
}

/* The graph's legend: one word per segment in its colour (host only when
 * the sender says it), "key" in white for the keyframe marks, then the
 * ranges: 0-R ms up, the seconds the columns span across. */
static const char *const k_leg_name[6] = {"host", "net", "reasm", "decode", "present", "key"};
static const uint32_t k_leg_col[6] = {BF_OV_HOST,   BF_OV_NET,     BF_OV_REASM,
                                      BF_OV_DECODE, BF_OV_PRESENT, BF_OV_KEY};

static void legend_range(const bf_stats *s, char *out, size_t cap) {
  size_t newest = (s->graph_head + BF_GRAPH_LEN - 1) % BF_GRAPH_LEN;
  size_t oldest = (s->graph_head + BF_GRAPH_LEN - s->graph_n) % BF_GRAPH_LEN;
  double span =
      s->graph_n > 1 ? (double)(s->graph[newest].at_ns - s->graph[oldest].at_ns) / 1e9 : 0;
  snprintf(out, cap, "0-%.0f ms, %.1f s", bf_overlay_graph_range_ms(s), span);
}

/* Width in pixels of the legend line. */
static int legend_width(const bf_overlay *o, const bf_stats *s) {
  char r[48];
  legend_range(s, r, sizeof r);
  size_t chars = strlen(r);
  for (int i = s->host_frames ? 0 : 1; i < 6; i++)
    chars += strlen(k_leg_name[i]) + 1;
  return (int)chars * o->text.char_w;
}

/* Ticks under the baseline where a whole second before the newest column
 * falls between two columns. */
static void draw_ticks(bf_overlay *o, const bf_stats *s, int colw) {
  if (!s->graph_n) return;
  const bf_graph_col *newest = &s->graph[(s->graph_head + BF_GRAPH_LEN - 1) % BF_GRAPH_LEN];
  uint64_t prev_sec = 0;
  for (size_t k = 0; k < s->graph_n; k++) {
    const bf_graph_col *c = &s->graph[(s->graph_head + BF_GRAPH_LEN - 1 - k) % BF_GRAPH_LEN];
    uint64_t sec = newest->at_ns > c->at_ns ? (newest->at_ns - c->at_ns) / 1000000000ull : 0;
    int x = o->pad + o->graph_w - (int)k * colw;
    if (x < o->pad) break;
    if (sec != prev_sec)
      bf_canvas_fill(&o->cv, x, o->graph_y + o->graph_h + 1, 1, o->pad - 1, BF_OV_DIM);
    prev_sec = sec;
  }
}

static void draw_graph(bf_overlay *o, const bf_stats *s) {
  bf_canvas *cv = &o->cv;
  int x0 = o->pad, y0 = o->graph_y, h = o->graph_h, w = o->graph_w;
  bf_canvas_fill(cv, 0, y0, cv->w, h + o->pad + o->text.line_h + o->pad, BF_OV_BG);
  bf_canvas_fill(cv, x0, y0 + h, w, 1, BF_OV_DIM); /* baseline */
  double range = bf_overlay_graph_range_ms(s);
  double px_per_ms = h / range;
  int colw = w / (int)BF_GRAPH_LEN;
  if (colw < 1) colw = 1;
  /* newest column at the right edge */
  for (size_t k = 0; k < s->graph_n; k++) {
    size_t idx = (s->graph_head + BF_GRAPH_LEN - 1 - k) % BF_GRAPH_LEN;
    const bf_graph_col *c = &s->graph[idx];
    int x = x0 + w - (int)(k + 1) * colw;
    if (x < x0) break;
    const float seg[5] = {c->host, c->net > 0 ? c->net : 0, c->reasm, c->decode, c->present};
    const uint32_t col[5] = {BF_OV_HOST, BF_OV_NET, BF_OV_REASM, BF_OV_DECODE, BF_OV_PRESENT};
    double acc = 0;
    for (int i = 0; i < 5; i++) {
      if (!(seg[i] > 0)) continue;
      int ya = (int)lround(acc * px_per_ms);
      acc += seg[i];
      int yb = (int)lround(acc * px_per_ms);
      if (ya >= h) break;
      if (yb > h) yb = h;
      if (yb <= ya) continue;
      bf_canvas_fill(cv, x, y0 + h - yb, colw, yb - ya, col[i]);
    }
    if (c->keyframe) bf_canvas_fill(cv, x, y0, colw, 2, BF_OV_KEY);
  }
  draw_ticks(o, s, colw);
  int ly = y0 + h + o->pad + o->pad / 2, lx = x0;
  for (int i = s->host_frames ? 0 : 1; i < 6; i++)
    lx += o->text.draw(o->text.ctx, cv, lx, ly, k_leg_name[i], k_leg_col[i]) + o->text.char_w;
  char r[48];
  legend_range(s, r, sizeof r);
  o->text.draw(o->text.ctx, cv, lx, ly, r, BF_OV_DIM);
}

int bf_overlay_draw(bf_overlay *o, const bf_stats *s) {
  if (o->level == BF_OVERLAY_OFF || o->nlines == 0) return 1;
  int with_graph = o->level >= BF_OVERLAY_NORMAL;
  o->pad = o->text.char_w / 2 + 2;
  size_t maxc = 0;
  for (int i = 0; i < o->nlines; i++) {
    size_t n = strlen(o->lines[i]);
    if (n > maxc) maxc = n;
  }
  int text_w = (int)maxc * o->text.char_w;
  o->graph_w = with_graph ? (int)BF_GRAPH_LEN * (o->text.char_w >= 12 ? 2 : 1) : 0;
  o->graph_h = with_graph ? o->text.line_h * 5 : 0;
  int leg_w = with_graph ? legend_width(o, s) : 0;
  if (leg_w > text_w) text_w = leg_w;
  int w = 2 * o->pad + (text_w > o->graph_w ? text_w : o->graph_w);
  int text_h = o->nlines * o->text.line_h;
  o->graph_y = o->pad + text_h + o->pad;
  /* the graph, its ticks (one pad), the legend */
  int h =
      with_graph ? o->graph_y + o->graph_h + o->pad + o->text.line_h + o->pad : o->pad * 2 + text_h;
  if (w != o->cv.w || h != o->cv.h) {
    if (bf_canvas_resize(&o->cv, w, h) < 0) return -ENOMEM;
    o->text_dirty = 1;
  }
  if (o->text_dirty) {
    bf_canvas_fill(&o->cv, 0, 0, w, o->graph_y, BF_OV_BG);
    for (int i = 0; i < o->nlines; i++)
      o->text.draw(o->text.ctx, &o->cv, o->pad, o->pad + i * o->text.line_h, o->lines[i],
                   i == 0 ? BF_OV_TEXT : (i == 2 && with_graph ? BF_OV_DIM : BF_OV_TEXT));
    if (!with_graph) bf_canvas_fill(&o->cv, 0, o->graph_y, w, h - o->graph_y, BF_OV_BG);
    o->text_dirty = 0;
  }
  if (with_graph) draw_graph(o, s);
  return 0;
}
