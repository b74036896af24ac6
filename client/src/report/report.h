/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Session report (--report FILE.html): one self-contained HTML page written
 * at exit — inline SVG and CSS, no scripts, no external resources — with the
 * session's facts (sender, addresses, codec, size, rate, decoder, date,
 * length, version), the latency of each presented frame stacked by stage
 * along the session's time, a latency histogram, the bitrate and the
 * sender's FEC level (m / k of the AUs' headers) and loss and FEC repairs
 * over time per 750 ms window, and the summary table. The charts scale to
 * the page's width (SVG viewBox).
 *
 * Bounded memory whatever the session length: per-frame rows live in a
 * fixed array that, when full, keeps every other row and samples half as
 * often from then on; loss windows do the same by merging neighbours (the
 * window doubles). The page is therefore bounded too (about 1 MB).
 *
 * Not here: sockets, clocks. Time is a ns value passed in; the caller owns
 * the struct (large: keep it off the stack) and the FILE.
 */
#ifndef BF_CLIENT_REPORT_H
#define BF_CLIENT_REPORT_H

#include "frame_stats.h"

#include <bildfunk/feedback.h>

#include <stdint.h>
#include <stdio.h>

#define BF_REPORT_FRAMES 2048u  /* timeline rows kept */
#define BF_REPORT_WINDOWS 1024u /* loss/FEC windows kept */
#define BF_REPORT_WINDOW_NS BF_FB_LOSS_WINDOW_NS /* one column per loss report, at first */
#define BF_REPORT_HIST_BINS 100u /* of BF_REPORT_HIST_MS, the last one open-ended */
#define BF_REPORT_HIST_MS 1.0

typedef struct bf_report_row {
  uint32_t frame_index;
  uint8_t keyframe;
  float t_s;   /* presented this long after the start */
  float host;  /* the sender's host time (0: it did not say) */
  float ms[5]; /* network, reassembly, queue, decode, present; with the host
                  time network is last packet sent -> last shard and
                  reassembly 0 (inside the host's pacing), else network is
                  capture -> first shard */
} bf_report_row;

typedef struct bf_report_win {
  uint32_t frames;        /* completed AUs */
  uint32_t repaired;      /* completed thanks to FEC */
  uint32_t shards;        /* shards recovered by FEC */
  uint32_t lost;          /* AUs that never completed */
  uint64_t pkts_expected; /* stream_seq accounting */
  uint64_t pkts_received;
  uint64_t bytes;       /* AU bytes completed: the bitrate */
  uint64_t data_shards; /* the AUs' k and m (their headers): the sender's FEC level */
  uint64_t parity_shards;
} bf_report_win;

/* What the page says about the session (the caller fills it before
 * bf_report_write; empty strings and zeros show as "?"). */
typedef struct bf_report_facts {
  char sender[320];         /* as the user named it: HOST[:PORT] */
  char sender_address[128]; /* its control address (the port filled in), or in
                               --direct its data address */
  char data_address[128];   /* where the video came from: the sender's data
                               port, not a relay's */
  char path[300];           /* the data path: "direct", "relayed via HOST:PORT"; "" = none */
  char mode[128];           /* "control session, sealed", ... */
  char codec[32];
  char decoder[96];
  char renderer[96];
  int width, height;
  double fps;         /* the nominal rate, 0 = not known */
  int64_t start_unix; /* wall clock when the stream started */
  double length_s;
  char version[32];
} bf_report_facts;

typedef struct bf_report {
  uint64_t start_ns;
  bf_report_facts facts;
  bf_report_row row[BF_REPORT_FRAMES];
  uint32_t n_rows;
  uint32_t row_stride; /* keep one presented frame in this many */
  uint32_t row_skip;
  uint64_t presented;
  bf_report_win win[BF_REPORT_WINDOWS];
  uint32_t n_win;
  uint64_t win_ns; /* current window length: 750 ms, doubles when full */
  uint64_t hist[BF_REPORT_HIST_BINS];
} bf_report;

/* Starts collecting; times on the page count from |start_ns| (the stream's
 * start). */
void bf_report_init(bf_report *r, uint64_t start_ns);
/* An AU's fate is known (the same call as bf_stats_on_outcome). */
void bf_report_on_outcome(bf_report *r, const bf_frame_record *rec, uint64_t now_ns);
void bf_report_on_lost(bf_report *r, uint64_t frames, uint64_t now_ns);
void bf_report_on_packets(bf_report *r, uint64_t expected, uint64_t received, uint64_t now_ns);

/* One extra row of the summary table. */
typedef struct bf_report_kv {
  const char *key;
  double value;
} bf_report_kv;

/* Writes the page to |f|: |title| (escaped), r->facts, the figures of |st|
 * and the |n_extra| rows of |extra| in the summary table. 0 or -EIO. */
int bf_report_write(const bf_report *r, bf_stats *st, const char *title, const bf_report_kv *extra,
                    size_t n_extra, FILE *f);

#endif
