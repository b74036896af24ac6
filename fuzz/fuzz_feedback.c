/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * libFuzzer: arbitrary bytes into the feedback decoder; an accepted message
 * must re-encode to the same leading bytes (a 34-byte loss report, the form
 * before loss_runs, to its first 34).
 */
#include <bildfunk/feedback.h>

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  bf_feedback fb;
  (void)bf_is_punch(data, size);
  if (bf_feedback_decode(data, size, &fb) != 0) return 0;
  uint8_t out[BF_FB_MAX_BYTES];
  int n = bf_feedback_encode(&fb, out, sizeof out);
  if (n <= 0) abort();
  size_t cmp = (size_t)n;
  if ((size_t)n > size) {
    /* only a loss report of the 34-byte form (before loss_runs) is shorter
     * than its encoding: loss_runs reads 0, the rest must match */
    if (fb.type != BF_FB_LOSS_REPORT || size != 34 || fb.u.loss.loss_runs != 0) abort();
    cmp = size;
  }
  if (memcmp(out, data, cmp) != 0) abort();
  return 0;
}
