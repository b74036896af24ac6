/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * bf-strip-check: reads decoded pictures as raw 8-bit grey frames of WxH on
 * stdin (ffmpeg -i stream -f rawvideo -pix_fmt gray -), decodes the testsrc
 * strip of each, and checks it against the receiver's index CSV: frame n's
 * strip carries the pts the n-th AU had on the wire, and the strip's frame
 * indices count up by one. Prints key=value results; exit 0 when every frame
 * matched.
 */
#include "strip.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
  unsigned w, h;
  if (argc != 3 || sscanf(argv[1], "%ux%u", &w, &h) != 2 || w < 64 || h < 48) {
    fprintf(stderr, "usage: bf-strip-check WxH INDEX.csv < frames.gray\n");
    return 2;
  }
  FILE *idx = fopen(argv[2], "r");
  if (!idx) {
    fprintf(stderr, "bf-strip-check: cannot open %s\n", argv[2]);
    return 2;
  }
  char line[256];
  if (!fgets(line, sizeof line, idx)) return 2; /* header */
  size_t fsz = (size_t)w * h;
  uint8_t *buf = malloc(fsz);
  if (!buf) return 1;
  uint64_t frames = 0, bad_strip = 0, pts_mismatch = 0, index_gap = 0, no_index = 0;
  uint32_t prev_index = 0;
  while (fread(buf, 1, fsz, stdin) == fsz) {
    uint32_t wire_index;
    uint64_t wire_pts;
    if (!fgets(line, sizeof line, idx) ||
        sscanf(line, "%" SCNu32 ",%" SCNu64, &wire_index, &wire_pts) != 2) {
      no_index++;
      continue;
    }
    bf_strip_payload p;
    if (bf_strip_decode(buf, (ptrdiff_t)w, 1, w, h, &p) != 0) {
      bad_strip++;
    } else {
      if (p.pts_ns != wire_pts) pts_mismatch++;
      if (frames > 0 && p.frame_index != prev_index + 1) index_gap++;
      prev_index = p.frame_index;
    }
    frames++;
  }
  printf("strip_frames=%" PRIu64 "\nstrip_bad=%" PRIu64 "\nstrip_pts_mismatch=%" PRIu64
         "\nstrip_index_gaps=%" PRIu64 "\nstrip_no_index=%" PRIu64 "\n",
         frames, bad_strip, pts_mismatch, index_gap, no_index);
  free(buf);
  fclose(idx);
  return frames > 0 && !bad_strip && !pts_mismatch && !index_gap && !no_index ? 0 : 1;
}
