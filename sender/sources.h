/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Picture sources of bildfunk-send: the built-in test pattern, a media file
 * (libavformat) and an X11 screen (libavdevice's x11grab).
 *
 * A source hands out one item per call: a raw picture (yuv420p at the session
 * size, for the encoder) or, for a file whose codec matches the session, an
 * encoded access unit passed through unchanged apart from the framing
 * (Annex-B for H.264/HEVC via the mp4toannexb bitstream filters, a temporal
 * delimiter in front of every AV1 temporal unit). The caller paces the calls
 * (one per frame interval); x11grab is opened so that it never sleeps itself.
 *
 * The capture time (pts) of an item is CLOCK_REALTIME read by the source when
 * it produced the picture: testsrc when it draws (the value drawn into the
 * picture), x11 when the grab returns, a file when the packet is read.
 *
 * Ownership: an item's frame and AU belong to the source and stay valid until
 * the next bf_source_read() or bf_source_close(). Not thread-safe.
 */
#ifndef BF_SENDER_SOURCES_H
#define BF_SENDER_SOURCES_H

#include "au.h"
#include "send_cli.h"

#include <libavutil/frame.h>

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bf_source_config {
  bf_source_kind kind;
  const char *arg;           /* file path / X display, NULL = default */
  int loop;                  /* file: start over at the end */
  unsigned width, height;    /* wanted size, 0 = the source's own (testsrc: 1280x720) */
  unsigned fps_num, fps_den; /* wanted rate, 0 = the source's own (testsrc, x11: 60) */
  bf_codec codec;            /* session codec: a file in this codec is passed through */
  int verbose;               /* let FFmpeg log */
  int flash;                 /* testsrc: a white picture at every whole second of pts (the
                                test tone's beep, tone.h) */
} bf_source_config;

typedef struct bf_source bf_source;

typedef struct bf_source_info {
  unsigned width, height;    /* of the pictures (or of the passed-through stream) */
  unsigned fps_num, fps_den; /* pace at this rate */
  int passthrough;           /* items are encoded AUs */
  char desc[160];            /* "testsrc 1280x720", "file clip.mp4 (h264 passthrough)" */
} bf_source_info;

typedef struct bf_source_item {
  AVFrame *frame;    /* raw picture (yuv420p), or NULL for an AU */
  const uint8_t *au; /* passthrough AU, or NULL */
  size_t au_len;
  int keyframe;    /* passthrough: the AU is a random access point */
  uint64_t pts_ns; /* capture time, CLOCK_REALTIME ns */
  uint64_t index;  /* items produced so far, from 0 */
  uint32_t pass;    /* file: passes over the file begun, from 1 (the file's sound follows) */
  int64_t media_ns; /* file: the item's position in the file (its pts), ns */
} bf_source_item;

/* Opens a source. On failure returns a negative errno and writes one line
 * naming the source and the reason into |err|. */
int bf_source_open(const bf_source_config *cfg, bf_source **out, char *err, size_t errcap);

void bf_source_info_get(const bf_source *s, bf_source_info *info);

/* Produces the next item. Returns 0, -ENODATA at the end of a file that does
 * not loop, or another negative errno (message in |err|) when the source
 * fails (a file that has no decodable picture, a lost X server). */
int bf_source_read(bf_source *s, bf_source_item *item, char *err, size_t errcap);

/* testsrc: |fn| draws over each picture after the pattern, before it is
 * handed out (the input echo, input_echo.h); NULL: none. |user| is
 * borrowed. Other sources ignore it. */
void bf_source_set_overlay(bf_source *s, void (*fn)(void *user, AVFrame *f), void *user);

/* Passthrough only: makes the next item a keyframe by skipping ahead to the
 * next random access point (at worst, the file's start). No-op otherwise. */
void bf_source_want_keyframe(bf_source *s);

void bf_source_close(bf_source **s);

/* Draws test-pattern picture |index| with capture time |pts_ns| into |f|
 * (yuv420p, writable): moving bars and a moving box, the strip
 * (strip.h) and the index and time as text. Exposed for the benchmark. */
void bf_testsrc_draw(AVFrame *f, uint64_t index, uint64_t pts_ns);
/* The flash of the test tone's beep: everything below the strip white. */
void bf_testsrc_flash(AVFrame *f);

#ifdef __cplusplus
}
#endif

#endif /* BF_SENDER_SOURCES_H */
