/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Session report: bounded collection and the HTML page. See report.h.
 */
#include "report.h"

#include <bildfunk/wire.h>

#include <errno.h>
#include <math.h>
#include <string.h>
#include <time.h>

void bf_report_init(bf_report *r, uint64_t start_ns) {
  memset(r, 0, sizeof *r);
  r->start_ns = start_ns;
  r->row_stride = 1;
  r->win_ns = BF_REPORT_WINDOW_NS;
}

/* The window |now_ns| falls in, merging pairs (and doubling the window) when full. */
static bf_report_win *window(bf_report *r, uint64_t now_ns) {
  uint64_t t = now_ns > r->start_ns ? now_ns - r->start_ns : 0;
  uint64_t i = t / r->win_ns;
  while (i >= BF_REPORT_WINDOWS) {
    for (uint32_t k = 0; k < BF_REPORT_WINDOWS / 2; k++) {
      bf_report_win a = r->win[2 * k], b = r->win[2 * k + 1];
      a.frames += b.frames;
      a.repaired += b.repaired;
      a.shards += b.shards;
      a.lost += b.lost;
      a.pkts_expected += b.pkts_expected;
      a.pkts_received += b.pkts_received;
      a.bytes += b.bytes;
      a.data_shards += b.data_shards;
      a.parity_shards += b.parity_shards;
      r->win[k] = a;
    }
    memset(&r->win[BF_REPORT_WINDOWS / 2], 0, sizeof r->win / 2);
    r->win_ns *= 2;
    i = t / r->win_ns;
  }
  if (i + 1 > r->n_win) r->n_win = (uint32_t)(i + 1);
  return &r->win[i];
}

/* A presented frame's bar: the stages it is stacked from (report.h). */
static void fill_row(bf_report_row *row, const bf_frame_record *rec, const double *ms, double host,
                     int have_host, uint64_t start_ns) {
  double net = have_host ? ms[BF_STAGE_NETWORK] : ms[BF_STAGE_NETWORK] - ms[BF_STAGE_REASSEMBLY];
  if (net < 0) net = 0; /* a clock offset slightly off */
  row->frame_index = rec->frame_index;
  row->keyframe = (rec->user_flags & BF_AU_KEYFRAME) ? 1 : 0;
  row->t_s = rec->present_ns > start_ns ? (float)((double)(rec->present_ns - start_ns) / 1e9) : 0;
  row->host = have_host ? (float)host : 0;
  row->ms[0] = (float)net;
  row->ms[1] = have_host ? 0 : (float)ms[BF_STAGE_REASSEMBLY];
  row->ms[2] = (float)ms[BF_STAGE_QUEUE];
  row->ms[3] = (float)ms[BF_STAGE_DECODE];
  row->ms[4] = (float)ms[BF_STAGE_PRESENT];
}

void bf_report_on_outcome(bf_report *r, const bf_frame_record *rec, uint64_t now_ns) {
  bf_report_win *w = window(r, now_ns);
  w->frames++;
  w->bytes += rec->bytes;
  w->data_shards += rec->data_shards;
  w->parity_shards += rec->parity_shards;
  if (rec->shards_recovered) {
    w->repaired++;
    w->shards += rec->shards_recovered;
  }
  if (rec->outcome != BF_OUT_PRESENTED) return;
  double ms[BF_STAGE_COUNT_], host = 0;
  unsigned mask = bf_frame_stages(rec, ms);
  int have_host = bf_frame_host_ms(rec, &host);
  double total = (mask & (1u << BF_STAGE_E2E))
                     ? ms[BF_STAGE_E2E]
                     : ms[BF_STAGE_QUEUE] + ms[BF_STAGE_DECODE] + ms[BF_STAGE_PRESENT];
  double b = total / BF_REPORT_HIST_MS;
  uint32_t bin =
      b >= (double)(BF_REPORT_HIST_BINS - 1) || b < 0 ? BF_REPORT_HIST_BINS - 1 : (uint32_t)b;
  r->hist[bin]++;
  r->presented++;
  if (++r->row_skip < r->row_stride) return;
  r->row_skip = 0;
  if (r->n_rows == BF_REPORT_FRAMES) { /* keep every other, sample half as often */
    for (uint32_t k = 0; k < BF_REPORT_FRAMES / 2; k++)
      r->row[k] = r->row[2 * k + 1];
    r->n_rows = BF_REPORT_FRAMES / 2;
    r->row_stride *= 2;
  }
  fill_row(&r->row[r->n_rows++], rec, ms, host, have_host, r->start_ns);
}

void bf_report_on_lost(bf_report *r, uint64_t frames, uint64_t now_ns) {
  bf_report_win *w = window(r, now_ns);
  w->lost += (uint32_t)(frames > UINT32_MAX ? UINT32_MAX : frames);
}

void bf_report_on_packets(bf_report *r, uint64_t expected, uint64_t received, uint64_t now_ns) {
  bf_report_win *w = window(r, now_ns);
  w->pkts_expected += expected;
  w->pkts_received += received < expected ? received : expected;
}

/* --- the page -------------------------------------------------------------------- */

static const char *const k_stage[6] = {"host",  "network", "reassembly",
                                       "queue", "decode",  "present"};
static const char *const k_color[6] = {"#9a8fa8", "#4e79a7", "#f28e2b",
                                       "#e15759", "#76b7b2", "#59a14f"};

static void esc(FILE *f, const char *s) {
  for (; s && *s; s++) {
    switch (*s) {
    case '<':
      fputs("&lt;", f);
      break;
    case '>':
      fputs("&gt;", f);
      break;
    case '&':
      fputs("&amp;", f);
      break;
    case '"':
      fputs("&quot;", f);
      break;
    default:
      fputc(*s, f);
    }
  }
}

/* Chart frame: W x H plot area at (L, T) in the SVG's own units; the SVG
 * scales to the page's width (viewBox, CSS width 100 %). */
enum { W = 900, H = 220, L = 50, T = 10, R = 60 };

static void svg_open(FILE *f) {
  fprintf(f, "<svg viewBox=\"0 0 %d %d\" role=\"img\">", L + W + R, T + H + 36);
}

static void axes(FILE *f, double ymax, const char *unit, const char *xlabel) {
  for (int g = 0; g <= 4; g++) {
    double y = T + H - (double)H * g / 4;
    fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" class=\"grid\"/>", L, y, L + W,
            y);
    fprintf(f, "<text x=\"%d\" y=\"%.1f\" class=\"ax\" text-anchor=\"end\">%.3g%s</text>", L - 4,
            y + 4, ymax * g / 4, unit);
  }
  fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"ax\" text-anchor=\"middle\">", L + W / 2, T + H + 30);
  esc(f, xlabel);
  fputs("</text>", f);
}

/* The smallest 1, 2 or 5 x 10^n at or above |v| (> 0). */
static double nice(double v) {
  if (!(v > 0)) return 1;
  double d = pow(10, floor(log10(v)));
  return v <= d ? d : v <= 2 * d ? 2 * d : v <= 5 * d ? 5 * d : 10 * d;
}

/* Ticks and labels along a time axis of |span| seconds: about six, at a
 * round step. */
static void time_ticks(FILE *f, double span) {
  if (!(span > 0)) span = 1;
  double step = nice(span / 6);
  for (double t = 0; t <= span * 1.0001; t += step) {
    double x = L + W * t / span;
    fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" class=\"grid\"/>", x, T + H, x,
            T + H + 4);
    fprintf(f, "<text x=\"%.1f\" y=\"%d\" class=\"ax\" text-anchor=\"middle\">%g</text>", x,
            T + H + 16, t);
  }
}

static double session_s(const bf_report *r) {
  double rows = r->n_rows ? (double)r->row[r->n_rows - 1].t_s : 0;
  double wins = (double)r->n_win * (double)r->win_ns / 1e9;
  return rows > wins ? rows : wins;
}

static void timeline(FILE *f, const bf_report *r) {
  double ymax = 1, span = session_s(r);
  for (uint32_t i = 0; i < r->n_rows; i++) {
    double t = r->row[i].host;
    for (int k = 0; k < 5; k++)
      t += r->row[i].ms[k];
    if (t > ymax) ymax = t;
  }
  ymax = nice(ymax);
  svg_open(f);
  axes(f, ymax, " ms", r->n_rows ? "time since the stream started (s)" : "no frame was presented");
  if (!(span > 0)) span = 1;
  double bw = r->n_rows ? (double)W / r->n_rows : 0;
  for (uint32_t i = 0; i < r->n_rows; i++) {
    const bf_report_row *row = &r->row[i];
    double x = L + W * (double)row->t_s / span - bw, y = T + H;
    if (x < L) x = L;
    for (int k = 0; k < 6; k++) {
      double h = (double)(k ? row->ms[k - 1] : row->host) / ymax * H;
      if (h <= 0) continue;
      y -= h;
      fprintf(f, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\"/>", x, y,
              bw, h, k_color[k]);
    }
    if (row->keyframe)
      fprintf(f, "<rect x=\"%.2f\" y=\"%d\" width=\"%.2f\" height=\"4\" class=\"key\"/>", x,
              T + H + 1, bw > 1 ? bw : 1);
  }
  if (r->n_rows) time_ticks(f, span);
  fputs("</svg>\n", f);
}

static void histogram(FILE *f, const bf_report *r) {
  uint64_t m = 1;
  uint32_t last = 10;
  for (uint32_t i = 0; i < BF_REPORT_HIST_BINS; i++) {
    if (r->hist[i] > m) m = r->hist[i];
    if (r->hist[i] && i + 1 > last) last = i + 1;
  }
  double ymax = nice((double)m);
  svg_open(f);
  axes(f, ymax, "", "end-to-end latency (ms; the last bar counts everything above)");
  double bw = (double)W / last;
  for (uint32_t i = 0; i < last; i++) {
    double h = (double)r->hist[i] / ymax * H;
    if (h > 0)
      fprintf(f, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"#4e79a7\"/>",
              L + bw * i + 0.5, T + H - h, bw > 2 ? bw - 1 : bw, h);
    if (i % (last > 50 ? 10 : 5) == 0)
      fprintf(f, "<text x=\"%.1f\" y=\"%d\" class=\"ax\" text-anchor=\"middle\">%g</text>",
              L + bw * i, T + H + 14, i * BF_REPORT_HIST_MS);
  }
  fputs("</svg>\n", f);
}

static double win_loss(const bf_report_win *w) {
  return w->pkts_expected
             ? 100.0 * (double)(w->pkts_expected - w->pkts_received) / (double)w->pkts_expected
             : 0.0;
}

/* A chart of one column per window: opens the SVG, the left axis 0..|lmax|
 * and the right one 0..|rmax| % in |cls|'s colour, the time label; returns
 * the columns' width. */
static double windows_chart(FILE *f, const bf_report *r, double lmax, double rmax,
                            const char *cls) {
  svg_open(f);
  char xl[96];
  snprintf(xl, sizeof xl, "time since the stream started (s), one column per %.0f ms",
           (double)r->win_ns / 1e6);
  axes(f, lmax, "", xl);
  for (int g = 0; g <= 4; g++)
    fprintf(f, "<text x=\"%d\" y=\"%.1f\" class=\"ax %s\">%.3g %%</text>", L + W + 4,
            T + H - (double)H * g / 4 + 4, cls, rmax * g / 4);
  return (double)W / (r->n_win ? r->n_win : 1);
}

static void lossfec(FILE *f, const bf_report *r) {
  double lmax = 1, cmax = 1;
  for (uint32_t i = 0; i < r->n_win; i++) {
    const bf_report_win *w = &r->win[i];
    if (win_loss(w) > lmax) lmax = win_loss(w);
    double c = w->repaired > w->lost ? w->repaired : w->lost;
    if ((double)w->shards > c) c = (double)w->shards;
    if (c > cmax) cmax = c;
  }
  lmax = nice(lmax);
  cmax = nice(cmax);
  double bw = windows_chart(f, r, cmax, lmax, "loss");
  const char *cls[3] = {"#59a14f", "#76b7b2", "#e15759"};
  for (uint32_t i = 0; i < r->n_win; i++) {
    const bf_report_win *w = &r->win[i];
    uint32_t v[3] = {w->repaired, w->shards, w->lost};
    for (int k = 0; k < 3; k++) {
      double h = (double)v[k] / cmax * H;
      if (h > 0)
        fprintf(f, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\"/>",
                L + bw * i + bw * k / 3, T + H - h, bw / 3, h, cls[k]);
    }
  }
  fputs("<polyline class=\"loss\" fill=\"none\" points=\"", f);
  for (uint32_t i = 0; i < r->n_win; i++)
    fprintf(f, "%.1f,%.1f ", L + bw * (i + 0.5), T + H - win_loss(&r->win[i]) / lmax * H);
  fputs("\"/>", f);
  time_ticks(f, (double)(r->n_win ? r->n_win : 1) * (double)r->win_ns / 1e9);
  fputs("</svg>\n", f);
}

/* Mbit/s of window |w| (AU bytes, what the decoder got). */
static double win_mbps(const bf_report *r, const bf_report_win *w) {
  return (double)w->bytes * 8 / ((double)r->win_ns / 1e9) / 1e6;
}

/* The bitrate (bars) and the sender's FEC level, parity / data shards of the
 * AUs completed in each window, as a line on its own axis. */
static void bitrate_fec(FILE *f, const bf_report *r) {
  double bmax = 0.1, fmax = 10;
  for (uint32_t i = 0; i < r->n_win; i++) {
    const bf_report_win *w = &r->win[i];
    if (win_mbps(r, w) > bmax) bmax = win_mbps(r, w);
    if (w->data_shards && 100.0 * (double)w->parity_shards / (double)w->data_shards > fmax)
      fmax = 100.0 * (double)w->parity_shards / (double)w->data_shards;
  }
  bmax = nice(bmax);
  fmax = nice(fmax);
  double bw = windows_chart(f, r, bmax, fmax, "fec");
  for (uint32_t i = 0; i < r->n_win; i++) {
    double h = win_mbps(r, &r->win[i]) / bmax * H;
    if (h > 0)
      fprintf(f, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"#4e79a7\"/>",
              L + bw * i, T + H - h, bw > 2 ? bw - 1 : bw, h);
  }
  fputs("<polyline class=\"fec\" fill=\"none\" points=\"", f);
  for (uint32_t i = 0; i < r->n_win; i++) {
    const bf_report_win *w = &r->win[i];
    if (!w->data_shards) continue; /* no AU completed: no level to show */
    double lvl = 100.0 * (double)w->parity_shards / (double)w->data_shards;
    fprintf(f, "%.1f,%.1f ", L + bw * (i + 0.5), T + H - lvl / fmax * H);
  }
  fputs("\"/>", f);
  time_ticks(f, (double)(r->n_win ? r->n_win : 1) * (double)r->win_ns / 1e9);
  fputs("</svg>\n", f);
}

static void legend(FILE *f, int n, const char *const *names, const char *const *colors) {
  fputs("<p class=\"legend\">", f);
  for (int k = 0; k < n; k++)
    fprintf(f, "<span><i style=\"background:%s\"></i>%s</span> ", colors[k], names[k]);
  fputs("</p>\n", f);
}

static void row(FILE *f, const char *k, double v) {
  fputs("<tr><th>", f);
  esc(f, k);
  if (v == (double)(uint64_t)v && v < 1e15)
    fprintf(f, "</th><td>%llu</td></tr>\n", (unsigned long long)v);
  else
    fprintf(f, "</th><td>%.3f</td></tr>\n", v);
}

static void fact(FILE *f, const char *k, const char *v) {
  fputs("<tr><th>", f);
  esc(f, k);
  fputs("</th><td>", f);
  esc(f, v && *v ? v : "?");
  fputs("</td></tr>\n", f);
}

/* The session's facts, as the caller gave them. */
static void facts(FILE *f, const bf_report_facts *x) {
  char b[64], d[48] = "?";
  fputs("<table class=\"facts\">\n", f);
  fact(f, "sender", x->sender);
  fact(f, "sender's address", x->sender_address);
  fact(f, "video from", x->data_address);
  if (x->path[0]) fact(f, "data path", x->path);
  fact(f, "mode", x->mode);
  fact(f, "codec", x->codec);
  snprintf(b, sizeof b, "%dx%d", x->width, x->height);
  fact(f, "resolution", x->width > 0 ? b : "");
  snprintf(b, sizeof b, fabs(x->fps - round(x->fps)) < 0.005 ? "%.0f fps" : "%.2f fps", x->fps);
  fact(f, "frame rate (nominal)", x->fps > 0 ? b : "");
  fact(f, "decoder", x->decoder);
  fact(f, "renderer", x->renderer);
  time_t t = (time_t)x->start_unix;
  struct tm tm;
  if (x->start_unix > 0 && gmtime_r(&t, &tm)) strftime(d, sizeof d, "%Y-%m-%d %H:%M:%S UTC", &tm);
  fact(f, "date", d);
  snprintf(b, sizeof b, "%.1f s", x->length_s);
  fact(f, "length", x->length_s > 0 ? b : "");
  fact(f, "bildfunk version", x->version);
  fputs("</table>\n", f);
}

static void summary_tables(FILE *f, bf_stats *st, const bf_stats_view *v, const bf_report_kv *extra,
                           size_t n_extra) {
  fputs("<h2>Summary</h2>\n<table>\n", f);
  row(f, "frames completed", (double)st->frames_completed);
  row(f, "frames decoded", (double)st->frames_decoded);
  row(f, "frames presented", (double)st->frames_presented);
  row(f, "frames lost", (double)st->frames_lost);
  row(f, "frames repaired by FEC", (double)st->frames_repaired);
  row(f, "FEC shards used", (double)st->fec_shards_used);
  row(f, "bytes", (double)st->bytes_total);
  row(f, "packet loss %", v->loss_total_pct);
  row(f, "jitter ms", v->jitter_ms);
  for (int o = 0; o < BF_OUT_COUNT_; o++) {
    char k[64];
    snprintf(k, sizeof k, "outcome %s", bf_outcome_name((bf_outcome)o));
    row(f, k, (double)st->outcome[o]);
  }
  for (size_t i = 0; i < n_extra; i++)
    row(f, extra[i].key, extra[i].value);
  fputs("</table>\n<h2>Latency percentiles (ms, whole session)</h2>\n<table>\n"
        "<tr><th>stage</th><th>n</th><th>p50</th><th>p95</th><th>p99</th></tr>\n",
        f);
  if (v->host_n)
    fprintf(f, "<tr><th>host</th><td>%zu</td><td>%.3f</td><td>%.3f</td><td>%.3f</td></tr>\n",
            v->host_n, v->host_p50, v->host_p95, v->host_p99);
  else
    fputs("<tr><th>host</th><td>0</td><td colspan=\"3\">unknown: the sender does not say "
          "(network then includes its time)</td></tr>\n",
          f);
  for (int s = 0; s < BF_STAGE_COUNT_; s++)
    fprintf(f, "<tr><th>%s</th><td>%zu</td><td>%.3f</td><td>%.3f</td><td>%.3f</td></tr>\n",
            bf_stage_name((bf_stage)s), v->n[s], v->p50[s], v->p95[s], v->p99[s]);
  fputs("</table>\n", f);
}

int bf_report_write(const bf_report *r, bf_stats *st, const char *title, const bf_report_kv *extra,
                    size_t n_extra, FILE *f) {
  bf_stats_view v;
  bf_stats_view_session(st, &v);
  fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/>"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/><title>",
        f);
  esc(f, title);
  fputs("</title>\n<style>\n"
        "body{font:14px/1.4 sans-serif;margin:24px;color:#222;background:#fff;max-width:1100px}\n"
        "h1{font-size:20px}h2{font-size:16px;margin-top:28px}\n"
        "table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:2px 8px}\n"
        "th{text-align:left;font-weight:normal;background:#f4f4f4}td{text-align:right}\n"
        "table.facts td{text-align:left}\n"
        "svg{display:block;width:100%;height:auto}\n"
        ".grid{stroke:#ddd}.ax{font-size:11px;fill:#555}.key{fill:#000}\n"
        "polyline.loss{stroke:#b07aa1;stroke-width:2}text.loss{fill:#b07aa1}\n"
        "polyline.fec{stroke:#e15759;stroke-width:2}text.fec{fill:#e15759}\n"
        ".legend span{margin-right:14px}.legend i{display:inline-block;width:10px;height:10px;"
        "margin-right:4px}\n"
        "</style></head><body>\n<h1>",
        f);
  esc(f, title);
  fputs("</h1>\n", f);
  facts(f, &r->facts);
  fputs("<h2>Latency by stage, per presented frame, over time</h2>\n", f);
  legend(f, v.host_n ? 6 : 5, v.host_n ? k_stage : k_stage + 1, v.host_n ? k_color : k_color + 1);
  if (v.host_n)
    fputs("<p>With the sender's host time (capture to its last packet sent), network is its last "
          "packet sent to the last shard here; reassembly is inside the host's pacing.</p>\n",
          f);
  if (r->row_stride > 1)
    fprintf(f, "<p>One frame in %u is drawn (%llu presented).</p>\n", r->row_stride,
            (unsigned long long)r->presented);
  timeline(f, r);
  fputs("<p>Black marks under the bars: keyframes.</p>\n<h2>Latency histogram</h2>\n", f);
  histogram(f, r);
  fputs("<h2>Bitrate and the sender's FEC level over time</h2>\n", f);
  static const char *const bn[2] = {"bitrate, Mbit/s (AU bytes received)",
                                    "FEC level: parity / data shards, % (right axis)"};
  static const char *const bc[2] = {"#4e79a7", "#e15759"};
  legend(f, 2, bn, bc);
  bitrate_fec(f, r);
  fputs("<h2>Loss and FEC repairs over time</h2>\n", f);
  static const char *const ln[4] = {"frames repaired by FEC", "shards recovered", "frames lost",
                                    "packet loss % (right axis)"};
  static const char *const lc[4] = {"#59a14f", "#76b7b2", "#e15759", "#b07aa1"};
  legend(f, 4, ln, lc);
  lossfec(f, r);
  summary_tables(f, st, &v, extra, n_extra);
  fputs("</body></html>\n", f);
  fflush(f);
  return ferror(f) ? -EIO : 0;
}
