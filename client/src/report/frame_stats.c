/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Client statistics: see frame_stats.h.
 */
#include "frame_stats.h"

#include <bildfunk/wire.h>

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* --- percentile window ----------------------------------------------------- */

int bf_pwin_init(bf_pwin *w, size_t cap, uint64_t span_ns) {
  memset(w, 0, sizeof *w);
  w->t = calloc(cap, sizeof *w->t);
  w->v = calloc(cap, sizeof *w->v);
  w->scratch = calloc(cap, sizeof *w->scratch);
  if (!w->t || !w->v || !w->scratch) {
    bf_pwin_free(w);
    return -ENOMEM;
  }
  w->cap = cap;
  w->span_ns = span_ns;
  return 0;
}

void bf_pwin_free(bf_pwin *w) {
  free(w->t);
  free(w->v);
  free(w->scratch);
  memset(w, 0, sizeof *w);
}

void bf_pwin_add(bf_pwin *w, uint64_t now_ns, double v) {
  if (!w->cap) return;
  size_t at = (w->head + w->n) % w->cap;
  if (w->n == w->cap) {
    w->head = (w->head + 1) % w->cap; /* overwrite the oldest */
  } else {
    w->n++;
  }
  w->t[at] = now_ns;
  w->v[at] = v;
}

void bf_pwin_expire(bf_pwin *w, uint64_t now_ns) {
  while (w->n && now_ns > w->span_ns && w->t[w->head] < now_ns - w->span_ns) {
    w->head = (w->head + 1) % w->cap;
    w->n--;
  }
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

double bf_percentile_sorted(const double *sorted, size_t n, double pct) {
  double r = ceil(pct / 100.0 * (double)n);
  size_t i = r < 1 ? 0 : (size_t)r - 1;
  if (i >= n) i = n - 1;
  return sorted[i];
}

size_t bf_pwin_percentiles(bf_pwin *w, uint64_t now_ns, const double *pcts, size_t n, double *out) {
  bf_pwin_expire(w, now_ns);
  if (!w->n) return 0;
  for (size_t i = 0; i < w->n; i++)
    w->scratch[i] = w->v[(w->head + i) % w->cap];
  qsort(w->scratch, w->n, sizeof *w->scratch, cmp_double);
  for (size_t i = 0; i < n; i++)
    out[i] = bf_percentile_sorted(w->scratch, w->n, pcts[i]);
  return w->n;
}

double bf_pwin_sum(bf_pwin *w, uint64_t now_ns, size_t *count) {
  bf_pwin_expire(w, now_ns);
  double sum = 0;
  for (size_t i = 0; i < w->n; i++)
    sum += w->v[(w->head + i) % w->cap];
  if (count) *count = w->n;
  return sum;
}

/* --- records ----------------------------------------------------------------- */

const char *bf_stage_name(bf_stage s) {
  static const char *const names[BF_STAGE_COUNT_] = {"network", "reassembly", "queue",
                                                     "decode",  "present",    "e2e"};
  return (unsigned)s < BF_STAGE_COUNT_ ? names[s] : "unknown";
}

const char *bf_outcome_name(bf_outcome o) {
  static const char *const names[BF_OUT_COUNT_] = {
      "presented", "replaced",     "wait_key",   "gap",    "stale",
      "skipped",   "decode_error", "no_picture", "hidden", "empty"};
  return (unsigned)o < BF_OUT_COUNT_ ? names[o] : "unknown";
}

static double ms_between(uint64_t from, uint64_t to) {
  return to >= from ? (double)(to - from) / 1e6 : -(double)(from - to) / 1e6;
}

unsigned bf_frame_stages(const bf_frame_record *r, double ms[BF_STAGE_COUNT_]) {
  unsigned mask = 0;
  for (int i = 0; i < BF_STAGE_COUNT_; i++)
    ms[i] = 0;
  /* the sender's part taken out when it said it */
  if (r->capture_ns && r->last_shard_ns && r->host_known != BF_HOST_MISSING) {
    ms[BF_STAGE_NETWORK] = ms_between(r->capture_ns, r->last_shard_ns) -
                           (r->host_known == BF_HOST_KNOWN ? (double)r->host_us / 1e3 : 0.0);
    mask |= 1u << BF_STAGE_NETWORK;
  }
  if (r->first_shard_ns && r->last_shard_ns) {
    ms[BF_STAGE_REASSEMBLY] = ms_between(r->first_shard_ns, r->last_shard_ns);
    mask |= 1u << BF_STAGE_REASSEMBLY;
  }
  if (r->decode_start_ns && r->decode_end_ns) {
    ms[BF_STAGE_QUEUE] = ms_between(r->last_shard_ns, r->decode_start_ns);
    ms[BF_STAGE_DECODE] = ms_between(r->decode_start_ns, r->decode_end_ns);
    mask |= 1u << BF_STAGE_QUEUE | 1u << BF_STAGE_DECODE;
  }
  if (r->present_ns && r->decode_end_ns) {
    ms[BF_STAGE_PRESENT] = ms_between(r->decode_end_ns, r->present_ns);
    mask |= 1u << BF_STAGE_PRESENT;
    if (r->capture_ns) {
      ms[BF_STAGE_E2E] = ms_between(r->capture_ns, r->present_ns);
      mask |= 1u << BF_STAGE_E2E;
    }
  }
  return mask;
}

int bf_frame_host_ms(const bf_frame_record *r, double *ms) {
  if (r->host_known != BF_HOST_KNOWN) return 0;
  *ms = (double)r->host_us / 1e3;
  return 1;
}

/* --- aggregate ----------------------------------------------------------------- */

/* Enough for 1000 frames per second over the span. */
static size_t window_cap(uint64_t span_ns) {
  return (size_t)(span_ns / 1000000ull) + 16;
}

int bf_stats_init(bf_stats *s, uint64_t span_ns) {
  memset(s, 0, sizeof *s);
  s->span_ns = span_ns;
  size_t cap = window_cap(span_ns);
  int err = 0;
  for (int i = 0; i < BF_STAGE_COUNT_ && !err; i++)
    err = bf_pwin_init(&s->stage[i], cap, span_ns);
  if (!err) err = bf_pwin_init(&s->host, cap, span_ns);
  /* rates are measured over the last second */
  if (!err) err = bf_pwin_init(&s->recv, 1024, 1000000000ull);
  if (!err) err = bf_pwin_init(&s->decoded, 1024, 1000000000ull);
  if (!err) err = bf_pwin_init(&s->shown, 1024, 1000000000ull);
  if (!err) err = bf_pwin_init(&s->bytes, 1024, 1000000000ull);
  /* Reserved whole, never moved: with glibc a calloc this large is served
   * by mmap (fresh zero pages from the kernel, resident only as frames fill
   * them), so the client's memory grows by 4 bytes per stage value (a
   * realloc doubling would copy, and leave the old block resident in the
   * heap). Should an allocator zero it eagerly, the 28 MiB (6 stages and the host) are resident
   * from the start instead: flat, only larger. */
  for (int i = 0; i <= BF_STAGE_COUNT_ && !err; i++) {
    bf_sess_arr *a = i < BF_STAGE_COUNT_ ? &s->sess[i] : &s->sess_host;
    a->v = calloc(BF_STATS_MAX_SESSION_SAMPLES, sizeof *a->v);
    if (!a->v)
      err = -ENOMEM;
    else
      a->cap = BF_STATS_MAX_SESSION_SAMPLES;
  }
  if (err) bf_stats_free(s);
  return err;
}

void bf_stats_free(bf_stats *s) {
  for (int i = 0; i < BF_STAGE_COUNT_; i++) {
    bf_pwin_free(&s->stage[i]);
    free(s->sess[i].v);
  }
  bf_pwin_free(&s->host);
  free(s->sess_host.v);
  bf_pwin_free(&s->recv);
  bf_pwin_free(&s->decoded);
  bf_pwin_free(&s->shown);
  bf_pwin_free(&s->bytes);
  memset(s, 0, sizeof *s);
}

static void sess_add(bf_sess_arr *a, double v) {
  if (a->n == a->cap) return; /* the summary then covers the first cap frames */
  a->v[a->n++] = (float)v;
}

void bf_stats_on_completed(bf_stats *s, const bf_frame_record *r, uint64_t now_ns) {
  s->frames_completed++;
  s->bytes_total += r->bytes;
  s->fec_shards_used += r->shards_recovered;
  if (r->shards_recovered) s->frames_repaired++;
  bf_pwin_add(&s->recv, now_ns, 1);
  bf_pwin_add(&s->bytes, now_ns, r->bytes);
  /* jitter: how much the first shard's arrival spacing differs from the
   * capture spacing (RFC 3550 6.4.1, on AUs instead of packets) */
  if (r->first_shard_ns && r->pts_ns) {
    if (s->jit_have) {
      double d =
          ms_between(s->jit_arrival_ns, r->first_shard_ns) - ms_between(s->jit_pts_ns, r->pts_ns);
      s->jitter_ns += (fabs(d) * 1e6 - s->jitter_ns) / 16.0;
    }
    s->jit_have = 1;
    s->jit_arrival_ns = r->first_shard_ns;
    s->jit_pts_ns = r->pts_ns;
  }
}

void bf_stats_on_outcome(bf_stats *s, const bf_frame_record *r, uint64_t now_ns) {
  if ((unsigned)r->outcome < BF_OUT_COUNT_) s->outcome[r->outcome]++;
  double ms[BF_STAGE_COUNT_];
  unsigned mask = bf_frame_stages(r, ms);
  for (int i = 0; i < BF_STAGE_COUNT_; i++) {
    if (!(mask & (1u << i))) continue;
    bf_pwin_add(&s->stage[i], now_ns, ms[i]);
    sess_add(&s->sess[i], ms[i]);
  }
  double host;
  int have_host = bf_frame_host_ms(r, &host);
  s->host_missing += r->host_known == BF_HOST_MISSING;
  if (have_host) {
    s->host_frames++;
    bf_pwin_add(&s->host, now_ns, host);
    sess_add(&s->sess_host, host);
  }
  if (r->decode_end_ns) {
    s->frames_decoded++;
    bf_pwin_add(&s->decoded, now_ns, 1);
  }
  if (r->outcome != BF_OUT_PRESENTED) return;
  s->frames_presented++;
  bf_pwin_add(&s->shown, now_ns, 1);
  bf_graph_col *c = &s->graph[s->graph_head];
  c->host = have_host ? (float)host : 0;
  c->net =
      have_host ? (float)ms[BF_STAGE_NETWORK] : (float)ms_between(r->capture_ns, r->first_shard_ns);
  c->reasm = have_host ? 0 : (float)ms[BF_STAGE_REASSEMBLY];
  c->decode = (float)(ms[BF_STAGE_QUEUE] + ms[BF_STAGE_DECODE]);
  c->present = (float)ms[BF_STAGE_PRESENT];
  c->keyframe = (r->user_flags & BF_AU_KEYFRAME) != 0;
  c->at_ns = r->present_ns ? r->present_ns : now_ns;
  s->graph_head = (s->graph_head + 1) % BF_GRAPH_LEN;
  if (s->graph_n < BF_GRAPH_LEN) s->graph_n++;
}

void bf_stats_on_lost(bf_stats *s, uint64_t frames) {
  s->frames_lost += frames;
}

void bf_stats_on_late(bf_stats *s, uint64_t late) {
  uint64_t room = s->pkts_expected - s->pkts_received;
  s->pkts_received += late < room ? late : room;
}

void bf_stats_on_packets(bf_stats *s, uint64_t expected, uint64_t received) {
  if (received > expected) received = expected; /* duplicates of old seqs */
  s->pkts_expected += expected;
  s->pkts_received += received;
  s->loss_window_pct = expected ? 100.0 * (double)(expected - received) / (double)expected : 0;
}

void bf_stats_view_now(bf_stats *s, uint64_t now_ns, bf_stats_view *v) {
  memset(v, 0, sizeof *v);
  const double p[3] = {50, 95, 99};
  for (int i = 0; i < BF_STAGE_COUNT_; i++) {
    double out[3];
    v->n[i] = bf_pwin_percentiles(&s->stage[i], now_ns, p, 3, out);
    if (v->n[i]) {
      v->p50[i] = out[0];
      v->p95[i] = out[1];
      v->p99[i] = out[2];
    }
  }
  double h[3];
  v->host_n = bf_pwin_percentiles(&s->host, now_ns, p, 3, h);
  if (v->host_n) v->host_p50 = h[0], v->host_p95 = h[1], v->host_p99 = h[2];
  v->fps_received = bf_pwin_sum(&s->recv, now_ns, NULL);
  v->fps_decoded = bf_pwin_sum(&s->decoded, now_ns, NULL);
  v->fps_presented = bf_pwin_sum(&s->shown, now_ns, NULL);
  v->goodput_mbps = bf_pwin_sum(&s->bytes, now_ns, NULL) * 8 / 1e6;
  v->loss_pct = s->loss_window_pct;
  v->loss_total_pct = s->pkts_expected ? 100.0 * (double)(s->pkts_expected - s->pkts_received) /
                                             (double)s->pkts_expected
                                       : 0;
  v->jitter_ms = s->jitter_ns / 1e6;
}

size_t bf_stats_session_bytes(const bf_stats *s) {
  size_t b = s->sess_host.n * sizeof *s->sess_host.v;
  for (int i = 0; i < BF_STAGE_COUNT_; i++) b += s->sess[i].n * sizeof *s->sess[i].v;
  return b;
}

static int cmp_float(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  return (x > y) - (x < y);
}

/* p50, p95, p99 of |a| (sorted in place) into |out|; returns its count. */
static size_t sess_percentiles(bf_sess_arr *a, double out[3]) {
  if (!a->n) return 0;
  qsort(a->v, a->n, sizeof *a->v, cmp_float);
  /* nearest rank, as bf_percentile_sorted */
  const double p[3] = {50, 95, 99};
  for (int k = 0; k < 3; k++) {
    double r = ceil(p[k] / 100.0 * (double)a->n);
    size_t idx = r < 1 ? 0 : (size_t)r - 1;
    if (idx >= a->n) idx = a->n - 1;
    out[k] = a->v[idx];
  }
  return a->n;
}

void bf_stats_view_session(bf_stats *s, bf_stats_view *v) {
  memset(v, 0, sizeof *v);
  double out[3];
  for (int i = 0; i < BF_STAGE_COUNT_; i++) {
    if (!(v->n[i] = sess_percentiles(&s->sess[i], out))) continue;
    v->p50[i] = out[0];
    v->p95[i] = out[1];
    v->p99[i] = out[2];
  }
  if ((v->host_n = sess_percentiles(&s->sess_host, out)))
    v->host_p50 = out[0], v->host_p95 = out[1], v->host_p99 = out[2];
  v->loss_total_pct = s->pkts_expected ? 100.0 * (double)(s->pkts_expected - s->pkts_received) /
                                             (double)s->pkts_expected
                                       : 0;
  v->loss_pct = v->loss_total_pct;
  v->jitter_ms = s->jitter_ns / 1e6;
}

/* --- JSON ------------------------------------------------------------------------ */

int bf_stats_json_open(bf_stats_json *j, const char *path) {
  memset(j, 0, sizeof *j);
  j->f = strcmp(path, "-") ? fopen(path, "w") : stdout;
  if (!j->f) return -errno;
  j->first = 1;
  if (fputs("{\"frames\": [", j->f) < 0) j->err = 1;
  return 0;
}

void bf_stats_json_frame(bf_stats_json *j, const bf_frame_record *r) {
  if (!j->f) return;
  double ms[BF_STAGE_COUNT_];
  unsigned mask = bf_frame_stages(r, ms);
  int n = fprintf(j->f,
                  "%s\n {\"frame_index\": %u, \"bytes\": %u, \"keyframe\": %s, \"shards\": %u, "
                  "\"fec_recovered\": %u, \"outcome\": \"%s\", \"pts_ns\": %llu, "
                  "\"capture_ns\": %llu, \"first_shard_ns\": %llu, \"last_shard_ns\": %llu, "
                  "\"decode_start_ns\": %llu, \"decode_end_ns\": %llu, \"present_ns\": %llu",
                  j->first ? "" : ",", r->frame_index, r->bytes,
                  (r->user_flags & BF_AU_KEYFRAME) ? "true" : "false", r->shards_received,
                  r->shards_recovered, bf_outcome_name(r->outcome), (unsigned long long)r->pts_ns,
                  (unsigned long long)r->capture_ns, (unsigned long long)r->first_shard_ns,
                  (unsigned long long)r->last_shard_ns, (unsigned long long)r->decode_start_ns,
                  (unsigned long long)r->decode_end_ns, (unsigned long long)r->present_ns);
  if (n < 0) j->err = 1;
  double host;
  if (bf_frame_host_ms(r, &host) && fprintf(j->f, ", \"host_ms\": %.4f", host) < 0) j->err = 1;
  for (int i = 0; i < BF_STAGE_COUNT_; i++)
    if (mask & (1u << i) &&
        fprintf(j->f, ", \"%s_ms\": %.4f", bf_stage_name((bf_stage)i), ms[i]) < 0)
      j->err = 1;
  if (fputs("}", j->f) < 0) j->err = 1;
  j->first = 0;
}

int bf_stats_json_close(bf_stats_json *j, bf_stats *s, const char *extra) {
  if (!j->f) return 0;
  bf_stats_view v;
  bf_stats_view_session(s, &v);
  FILE *f = j->f;
  fprintf(f, "\n],\n\"summary\": {");
  if (extra && *extra) fprintf(f, "%s, ", extra);
  fprintf(f,
          "\"frames_completed\": %llu, \"frames_decoded\": %llu, \"frames_presented\": %llu, "
          "\"frames_lost\": %llu, \"frames_repaired_by_fec\": %llu, \"fec_shards_used\": %llu, "
          "\"bytes\": %llu, \"packets_expected\": %llu, \"packets_received\": %llu, "
          "\"loss_pct\": %.4f, \"jitter_ms\": %.4f, \"session_sample_bytes\": %zu, "
          "\"outcomes\": {",
          (unsigned long long)s->frames_completed, (unsigned long long)s->frames_decoded,
          (unsigned long long)s->frames_presented, (unsigned long long)s->frames_lost,
          (unsigned long long)s->frames_repaired, (unsigned long long)s->fec_shards_used,
          (unsigned long long)s->bytes_total, (unsigned long long)s->pkts_expected,
          (unsigned long long)s->pkts_received, v.loss_total_pct, v.jitter_ms,
          bf_stats_session_bytes(s));
  for (int i = 0; i < BF_OUT_COUNT_; i++)
    fprintf(f, "%s\"%s\": %llu", i ? ", " : "", bf_outcome_name((bf_outcome)i),
            (unsigned long long)s->outcome[i]);
  fprintf(f, "}, \"stages_ms\": {");
  for (int i = 0; i < BF_STAGE_COUNT_; i++)
    fprintf(f, "%s\"%s\": {\"n\": %zu, \"p50\": %.4f, \"p95\": %.4f, \"p99\": %.4f}", i ? ", " : "",
            bf_stage_name((bf_stage)i), v.n[i], v.p50[i], v.p95[i], v.p99[i]);
  /* the sender's part, when it said it (FRAME_INFO); n 0: it did not */
  fprintf(f, ", \"host\": {\"n\": %zu, \"p50\": %.4f, \"p95\": %.4f, \"p99\": %.4f}", v.host_n,
          v.host_p50, v.host_p95, v.host_p99);
  fprintf(f, "}}}\n");
  int err = j->err || ferror(f);
  if (f == stdout) {
    if (fflush(f) != 0) err = 1;
  } else if (fclose(f) != 0) {
    err = 1;
  }
  j->f = NULL;
  return err ? -EIO : 0;
}
