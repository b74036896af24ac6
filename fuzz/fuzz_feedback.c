/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * libFuzzer: arbitrary bytes into the feedback decoder; an accepted message
 * must re-encode to the same leading bytes.
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
  if (n <= 0 || (size_t)n > size || memcmp(out, data, (size_t)n) != 0) abort();
  return 0;
}
