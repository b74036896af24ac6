/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Latency overlay: the statistics text for each level and the scrolling
 * graph of per-frame end-to-end latency stacked by stage, drawn into a
 * bf_canvas that the display blends over the picture.
 *
 *   compact   one line: presented fps, end-to-end p50/p95, loss
 *   normal    stream, decoder, fps received/decoded/presented, goodput,
 *             p50/p95/p99 per stage (the sender's host time first, or
 *             that an older sender does not say it) and input-to-photon,
 *             loss and frame
 *             counters, the graph
 *   detailed  normal + queue stage, FEC shards used, jitter, clock offset
 *             and RTT, keyframe requests, skips, decode errors, rejects
 * normal and detailed also show the sound: its latency p50/p95, the A/V
 * offset (and the test markers' when seen), concealed and late frames.
 *
 * The text is rebuilt by bf_overlay_set_text() (a few times a second; it
 * sorts the percentile windows) and only redrawn when it changed; the graph
 * is redrawn on every bf_overlay_draw(). The graph has a time scale (a tick
 * under it at every whole second before the newest column, the seconds it
 * spans in the legend) and its legend names every colour, keyframe marks
 * included. No SDL here: text goes through
 * bf_text_ops (built-in bitmap font or a system font from the display).
 */
#ifndef BF_CLIENT_OVERLAY_H
#define BF_CLIENT_OVERLAY_H

#include "font.h"
#include "report/frame_stats.h"

typedef enum bf_overlay_level {
  BF_OVERLAY_OFF = 0,
  BF_OVERLAY_COMPACT,
  BF_OVERLAY_NORMAL,
  BF_OVERLAY_DETAILED,
  BF_OVERLAY_COUNT_
} bf_overlay_level;

/* "off", "compact", "normal", "detailed" ("unknown" for others). */
const char *bf_overlay_level_name(bf_overlay_level l);

#define BF_OVERLAY_MAX_LINES 20
#define BF_OVERLAY_LINE_CHARS 80

/* What the overlay shows besides bf_stats. */
typedef struct bf_overlay_info {
  int width, height;   /* stream picture size, 0 = none yet */
  double fps;          /* the stream's nominal frame rate, 0 = not known (yet) */
  const char *codec;   /* "h264" */
  const char *decoder; /* "h264 software, 2 threads" */
  int clock_synced;
  double clock_offset_ms;
  double rtt_ms;
  uint64_t keyframe_requests;
  uint64_t skips;
  uint64_t decode_errors;
  uint64_t rejected; /* datagrams the reassembler dropped */
  int waiting_key;   /* picture frozen until a keyframe */
  /* input-to-photon over the last inputs (input/photon.h); input_n 0 = none */
  uint64_t input_n;
  double input_p50_ms, input_p95_ms, input_p99_ms;
  struct { /* the sound (audio/audio_stream.h) */
    int on;       /* 0 = none */
    int muted;
    double p50_ms, p95_ms; /* capture -> handed to the device */
    double av_offset_ms;   /* audio - video latency (timestamps) */
    int marker;            /* the test markers were seen */
    double marker_ms;      /* beep vs flash, median */
    uint64_t concealed, late;
  } audio;
  const char *path; /* the data path: "direct", "relayed via HOST:PORT"; NULL = not shown */
} bf_overlay_info;

/* Graph colours (ARGB), one per stacked segment, and the background. */
/* The background hides the picture behind the text: opaque (at 95 % the
 * test pattern's own text still showed through the numbers) */
#define BF_OV_BG 0xFF101010u
#define BF_OV_TEXT 0xFFF0F0F0u
#define BF_OV_DIM 0xFFA0A0A0u
#define BF_OV_HOST 0xFF9A8FA8u
#define BF_OV_NET 0xFF3D7BD9u
#define BF_OV_REASM 0xFF2FB6A8u
#define BF_OV_DECODE 0xFFF0A030u
#define BF_OV_PRESENT 0xFFD04FC0u
#define BF_OV_KEY 0xFFFFFFFFu

typedef struct bf_overlay {
  bf_overlay_level level;
  bf_text_ops text;
  bf_canvas cv;
  char lines[BF_OVERLAY_MAX_LINES][BF_OVERLAY_LINE_CHARS];
  int nlines;
  int text_dirty;
  int graph_y, graph_h, graph_w; /* graph area inside cv (graph_h 0 = none) */
  int pad;
  int font_h; /* the window height the caller chose the font for (0 = none yet) */
} bf_overlay;

/* |text| is copied. */
void bf_overlay_init(bf_overlay *o, bf_overlay_level level, const bf_text_ops *text);
void bf_overlay_free(bf_overlay *o);
void bf_overlay_set_level(bf_overlay *o, bf_overlay_level level);
void bf_overlay_set_font(bf_overlay *o, const bf_text_ops *text);

/* Formats the text lines for the current level from |v| (bf_stats_view_now),
 * |s| (counters) and |info|. */
void bf_overlay_set_text(bf_overlay *o, const bf_stats_view *v, const bf_stats *s,
                         const bf_overlay_info *info);

/* Draws into o->cv (resizing it to fit); the graph from |s|'s ring. Returns
 * 0, 1 when nothing is to be shown (level off), or -ENOMEM. */
int bf_overlay_draw(bf_overlay *o, const bf_stats *s);

/* The canvas to blend over the picture: NULL when nothing is shown (level
 * off, nothing drawn yet). Valid until the next bf_overlay_draw(). */
const bf_canvas *bf_overlay_canvas(const bf_overlay *o);

/* The graph's vertical range in ms for the columns in |s|: a multiple of
 * 10 ms, at least 20, covering the tallest stacked column. */
double bf_overlay_graph_range_ms(const bf_stats *s);

#endif
