/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * libFuzzer: arbitrary bytes as an access unit, into everything that reads
 * AUs without a decoder: the media library's bitstream helpers (start codes,
 * OBU framing, leb128), codec detection, and the sender's AU inspection
 * (sender/au.c, which reads AUs from files with --source file:). Checks that
 * every offset stays inside the input, that what a helper reports is there,
 * and that the AU inspection counts the units the helpers find.
 */
#include "au.h"

#include <bildfunk/bitstream.h>
#include <bildfunk/codec.h>

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* NAL units as bf_au_inspect counts them: a start code with a header byte. */
static unsigned annexb_units(const uint8_t *d, size_t n) {
  unsigned units = 0;
  for (size_t i = bf_annexb_find(d, n, 0); i < n;
       i = bf_annexb_find(d, n, i + BF_ANNEXB_START_CODE_BYTES)) {
    if (i + BF_ANNEXB_START_CODE_BYTES > n || d[i] || d[i + 1] || d[i + 2] != 1) abort();
    if (i + BF_ANNEXB_START_CODE_BYTES < n) units++;
  }
  return units;
}

/* OBUs up to the first one that does not frame; *|whole| when all do. */
static unsigned obu_units(const uint8_t *d, size_t n, int *whole) {
  unsigned units = 0;
  bf_obu o;
  *whole = 1;
  for (size_t pos = 0; pos < n; pos = o.end) {
    if (bf_obu_read(d, n, pos, &o) < 0) {
      *whole = 0;
      break;
    }
    if (o.payload <= pos || o.end != o.payload + o.size || o.end > n) abort();
    if (o.type != ((d[pos] >> 3) & 0xfu)) abort();
    units++;
  }
  return units;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  bf_codec c = bf_codec_detect(data, size);
  if (c != BF_CODEC_UNKNOWN && !bf_codec_name(c)) abort();

  uint64_t v;
  size_t used = bf_leb128_read(data, size, &v);
  if (used > 8 || used > size || (used && (data[used - 1] & 0x80))) abort();

  unsigned nals = annexb_units(data, size);
  int whole;
  unsigned obus = obu_units(data, size, &whole);

  static const bf_codec all[] = {BF_CODEC_H264, BF_CODEC_HEVC, BF_CODEC_AV1};
  for (size_t k = 0; k < sizeof all / sizeof all[0]; k++) {
    bf_au_info ai;
    if (bf_au_inspect(all[k], data, size, &ai) != 0) abort();
    if (all[k] == BF_CODEC_AV1) {
      if (whole && ai.units != obus) abort();
      if (ai.malformed != !(whole && obus > 0)) abort();
      if (ai.td_bytes > size || (ai.temporal_delimiter && ai.td_bytes == 0)) abort();
    } else {
      if (ai.units != nals || ai.malformed != (nals == 0)) abort();
    }
    bf_refresh_tracker t = {0};
    (void)bf_refresh_track(&t, &ai);
  }
  return 0;
}
