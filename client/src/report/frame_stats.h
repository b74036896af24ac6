/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Client statistics (sans-I/O): per-frame stage timestamps, percentile
 * windows over the last seconds for the overlay, all-session percentiles for
 * the summary, rates, loss, jitter, the per-frame latency graph, and the
 * --stats-json writer.
 *
 * Stages of one frame, all on the client's clock (the sender's pts mapped
 * through the clock offset):
 *   host        capture -> the AU's last packet handed to the sender's kernel
 *               (capture, encode, packetize, pacing), as the sender says in
 *               its FRAME_INFO (docs/protocol.md §8); kept apart from the
 *               stages below (bf_frame_host_ms), since an older sender does
 *               not say it
 *   network     the AU's last packet sent -> last shard arrived when the
 *               sender said its host time, else capture -> last shard (the
 *               sender's time included)
 *   reassembly  first shard -> last shard
 *   queue       last shard -> decode start (waiting behind other work)
 *   decode      decode start -> decoded picture
 *   present     decoded -> on screen (SDL_RenderPresent returned)
 *   e2e         capture -> on screen
 * Percentiles use the nearest-rank rule: the ceil(p/100 * n)-th smallest.
 *
 * Memory: windows are fixed rings allocated at init (bounded; a full ring
 * overwrites its oldest sample, so the window then spans less time); the
 * session arrays are reserved at init for BF_STATS_MAX_SESSION_SAMPLES per
 * stage (4 MiB each, about 4.6 h at 60 fps; untouched pages cost no RAM)
 * and fill 4 bytes per stage and frame, after which the summary covers the
 * first ones. Nothing is allocated per packet; at most one amortized append per
 * frame. Not thread-safe.
 */
#ifndef BF_CLIENT_FRAME_STATS_H
#define BF_CLIENT_FRAME_STATS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* --- percentile window ----------------------------------------------------- */

typedef struct bf_pwin {
  uint64_t *t;
  double *v;
  double *scratch;
  size_t cap;
  size_t head; /* oldest sample */
  size_t n;
  uint64_t span_ns;
} bf_pwin;

/* Allocates room for |cap| samples kept for |span_ns|. 0 or -ENOMEM. */
int bf_pwin_init(bf_pwin *w, size_t cap, uint64_t span_ns);
void bf_pwin_free(bf_pwin *w);
void bf_pwin_add(bf_pwin *w, uint64_t now_ns, double v);
/* Drops samples older than |now_ns| - span. */
void bf_pwin_expire(bf_pwin *w, uint64_t now_ns);
/* Nearest-rank percentiles of the live samples: out[i] for pcts[i] (0..100).
 * Returns the sample count; with 0 |out| is left alone. */
size_t bf_pwin_percentiles(bf_pwin *w, uint64_t now_ns, const double *pcts, size_t n, double *out);
/* Sum of the live samples; |count| (may be NULL) gets how many. */
double bf_pwin_sum(bf_pwin *w, uint64_t now_ns, size_t *count);

/* Nearest-rank percentile of |n| > 0 ascending values. */
double bf_percentile_sorted(const double *sorted, size_t n, double pct);

/* --- per-frame record ------------------------------------------------------ */

typedef enum bf_stage {
  BF_STAGE_NETWORK = 0,
  BF_STAGE_REASSEMBLY,
  BF_STAGE_QUEUE,
  BF_STAGE_DECODE,
  BF_STAGE_PRESENT,
  BF_STAGE_E2E,
  BF_STAGE_COUNT_
} bf_stage;

const char *bf_stage_name(bf_stage s);

typedef enum bf_outcome {
  BF_OUT_PRESENTED = 0,
  BF_OUT_REPLACED, /* decoded, but a newer picture was shown instead */
  BF_OUT_WAIT_KEY, /* dropped: waiting for a keyframe */
  BF_OUT_GAP,      /* dropped: an earlier AU was missing */
  BF_OUT_STALE,    /* dropped: arrived after newer AUs were decoded */
  BF_OUT_SKIPPED,  /* dropped by skip-to-live */
  BF_OUT_DECODE_ERROR,
  BF_OUT_NO_PICTURE, /* the decoder took it but gave no picture */
  BF_OUT_HIDDEN,     /* decoded, not shown: references rebuilding for a recovery point */
  BF_OUT_EMPTY, /* frame_bytes 0: nothing to decode, skipped (a 0-byte packet drains libavcodec) */
  BF_OUT_COUNT_
} bf_outcome;

const char *bf_outcome_name(bf_outcome o);

/* Every timestamp of one completed AU, client clock (ns); 0 = did not happen. */
typedef struct bf_frame_record {
  uint32_t frame_index;
  uint32_t bytes;
  uint32_t user_flags;
  uint32_t shards_received;
  uint32_t shards_recovered;
  uint64_t pts_ns;     /* sender clock */
  uint64_t capture_ns; /* pts_ns mapped onto our clock */
  uint64_t first_shard_ns;
  uint64_t last_shard_ns;
  uint64_t decode_start_ns;
  uint64_t decode_end_ns;
  uint64_t present_ns;
  bf_outcome outcome;
  uint32_t data_shards, parity_shards; /* the AU's k and m over its blocks */
  uint32_t host_us;                    /* FRAME_INFO: capture -> last packet sent, on the sender */
  uint8_t host_known;                  /* BF_HOST_*: whether the sender said it */
} bf_frame_record;

enum {
  BF_HOST_NOT_SAID = 0, /* the sender does not say (older): network includes its time */
  BF_HOST_KNOWN = 1,    /* host_us is the sender's; network is the rest */
  BF_HOST_MISSING = 2,  /* the sender says it, not for this AU (lost): no network stage */
};

/* Stage durations of |r| in ms; returns a bit mask of the stages that
 * apply (1 << bf_stage). */
unsigned bf_frame_stages(const bf_frame_record *r, double ms[BF_STAGE_COUNT_]);
/* The host time of |r| in ms into |ms|: 1, or 0 when the sender did not say. */
int bf_frame_host_ms(const bf_frame_record *r, double *ms);

/* --- the client's statistics ------------------------------------------------ */

#define BF_GRAPH_LEN 256u
#define BF_STATS_MAX_SESSION_SAMPLES (1u << 20)

/* One column of the latency graph: stacked segments in ms. With the
 * sender's host time: host, net (last packet sent -> last shard), reasm 0;
 * without: host 0, net (capture -> first shard), reasm (first -> last). */
typedef struct bf_graph_col {
  float host;    /* capture -> last packet sent, on the sender */
  float net;     /* capture -> first shard */
  float reasm;   /* first -> last shard */
  float decode;  /* last shard -> decoded (queue + decode) */
  float present; /* decoded -> on screen */
  uint8_t keyframe;
  uint64_t at_ns; /* when it was presented: the graph's time scale */
} bf_graph_col;

typedef struct bf_sess_arr {
  float *v;
  size_t n, cap;
} bf_sess_arr;

typedef struct bf_stats {
  uint64_t span_ns;
  bf_pwin stage[BF_STAGE_COUNT_];
  bf_pwin recv;    /* completed AUs: 1 each */
  bf_pwin decoded; /* 1 each */
  bf_pwin shown;   /* 1 each */
  bf_pwin bytes;   /* AU bytes of completed AUs */
  bf_sess_arr sess[BF_STAGE_COUNT_];
  bf_pwin host;          /* the host stage, frames whose sender said it */
  bf_sess_arr sess_host; /* ... reserved as the others */
  /* counters */
  uint64_t frames_completed;
  uint64_t frames_decoded;
  uint64_t frames_presented;
  uint64_t frames_lost;     /* never completed */
  uint64_t frames_repaired; /* completed thanks to FEC */
  uint64_t outcome[BF_OUT_COUNT_];
  uint64_t fec_shards_used;
  uint64_t bytes_total;
  uint64_t host_frames;  /* AUs with the sender's host time (FRAME_INFO) */
  uint64_t host_missing; /* AUs without, from a sender that sends it */
  /* packet loss, from stream_seq accounting */
  uint64_t pkts_expected;
  uint64_t pkts_received;
  double loss_window_pct; /* last window */
  /* RFC 3550-style interarrival jitter of first shards vs pts */
  double jitter_ns;
  int jit_have;
  uint64_t jit_arrival_ns;
  uint64_t jit_pts_ns;
  /* graph ring */
  bf_graph_col graph[BF_GRAPH_LEN];
  size_t graph_head; /* next column to write */
  size_t graph_n;
} bf_stats;

/* Windows of |span_ns| (the overlay's "last seconds"). 0 or -ENOMEM. */
int bf_stats_init(bf_stats *s, uint64_t span_ns);
void bf_stats_free(bf_stats *s);

/* A completed AU was received (before its fate is known). */
void bf_stats_on_completed(bf_stats *s, const bf_frame_record *r, uint64_t now_ns);
/* The AU's fate is known: counts the outcome, adds its stage samples. */
void bf_stats_on_outcome(bf_stats *s, const bf_frame_record *r, uint64_t now_ns);
void bf_stats_on_lost(bf_stats *s, uint64_t frames);
/* One loss window: |expected| packets by stream_seq, |received| of them. */
void bf_stats_on_packets(bf_stats *s, uint64_t expected, uint64_t received);
/* Stragglers of closed loss windows that no later window had room for
 * (seqtrack.h): they came, so the session's totals count them (never above
 * what was due); the windows already reported stay as they were. */
void bf_stats_on_late(bf_stats *s, uint64_t late);

typedef struct bf_stats_view {
  double fps_received, fps_decoded, fps_presented;
  double goodput_mbps;
  size_t n[BF_STAGE_COUNT_];
  double p50[BF_STAGE_COUNT_], p95[BF_STAGE_COUNT_], p99[BF_STAGE_COUNT_];
  double loss_pct;       /* last window */
  double loss_total_pct; /* whole session */
  double jitter_ms;
  size_t host_n; /* the host stage (0: the sender did not say) */
  double host_p50, host_p95, host_p99;
} bf_stats_view;

/* Fills |v| from the windows at |now_ns|. */
void bf_stats_view_now(bf_stats *s, uint64_t now_ns, bf_stats_view *v);
/* Fills |v|'s percentiles from the whole session (rates left 0). */
void bf_stats_view_session(bf_stats *s, bf_stats_view *v);
/* Bytes of session-percentile values stored so far: 4 per stage value and
 * frame, up to the cap above (the arrays are reserved at init and become
 * resident as they fill). The soak script subtracts this designed growth
 * from the client's RSS to see a leak. */
size_t bf_stats_session_bytes(const bf_stats *s);

/* --- --stats-json ------------------------------------------------------------
 * {"frames": [ {one object per completed AU}, ... ], "summary": {...}}
 * Written as it goes (stdio buffered); the summary is written at close. */
typedef struct bf_stats_json {
  FILE *f;
  int first;
  int err;
} bf_stats_json;

/* Opens |path| ("-" = stdout). 0 or negative errno. */
int bf_stats_json_open(bf_stats_json *j, const char *path);
void bf_stats_json_frame(bf_stats_json *j, const bf_frame_record *r);
/* Writes "summary": {<extra> (already-formatted members, may be NULL),
 * counters, session percentiles per stage} and closes. 0 or -EIO. */
int bf_stats_json_close(bf_stats_json *j, bf_stats *s, const char *extra);

#endif
