/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * --framemd5: one line per decoded picture in the format of ffmpeg's framemd5
 * muxer (`ffmpeg -i clip -f framemd5 -`), header lines included, so the two
 * can be diffed. The md5 covers the picture's planes exactly as ffmpeg's
 * rawvideo lays them out: each plane's rows tightly packed (no line padding),
 * planes in order.
 *
 * The time base is 1/frame rate (the decoder's, else 25 as ffmpeg's raw
 * demuxers assume), pts counts frame indices from the first picture, so a
 * lost frame leaves a gap exactly where ffmpeg would have printed it.
 * Not on the hot path's critical section: one md5 over the picture per frame
 * (about 0.2 ms for 1080p), only when asked for.
 */
#ifndef BF_CLIENT_FRAMEMD5_H
#define BF_CLIENT_FRAMEMD5_H

#include <libavutil/frame.h>
#include <libavutil/rational.h>

#include <stdint.h>
#include <stdio.h>

typedef struct bf_framemd5 bf_framemd5;

/* Opens |path| ("-" = stdout). 0 or negative errno. */
int bf_framemd5_open(const char *path, bf_framemd5 **out);

/* md5 of |f|'s planes as rawvideo into |hex| (33 bytes); returns the rawvideo
 * size in bytes or a negative errno for a format it cannot lay out. */
int bf_framemd5_hash(const AVFrame *f, char hex[33]);

/* Appends |f| with pts |pts| (in 1/|rate| units); the first call writes the
 * header from |f| and |rate| ({0, 1} = unknown: 25). 0 or negative errno. */
int bf_framemd5_write(bf_framemd5 *m, const AVFrame *f, int64_t pts, AVRational rate);

/* Closes (NULL is fine) and clears the pointer. 0 or -EIO. */
int bf_framemd5_close(bf_framemd5 **m);

#endif
