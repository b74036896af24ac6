/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * libFuzzer: arbitrary bytes into the header decoder and validator. Checks
 * that an accepted header is self-consistent and survives a re-encode.
 */
#include <bildfunk/wire.h>

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  bf_wire_limits lim;
  bf_wire_limits_default(&lim);
  if (size > 0 && (data[0] & 1)) lim.max_k = (uint16_t)(1 + data[0] % 200);
  bf_header h;
  bf_reject r = bf_datagram_parse(data, size, &lim, &h);
  if ((unsigned)r >= BF_REJECT_COUNT_) abort();
  if (r != BF_ACCEPT) return 0;
  bf_geometry g;
  bf_geometry_compute(h.frame_bytes, h.shard_bytes, lim.max_k, &g);
  if (h.block_index >= g.block_count) abort();
  if (h.data_shards != bf_geometry_block_k(&g, lim.max_k, h.block_index)) abort();
  if (h.shard_index >= h.data_shards + h.recovery_shards) abort();
  if (size != BF_HEADER_BYTES + h.shard_bytes) abort();
  uint8_t re[BF_HEADER_BYTES];
  bf_header_encode(&h, re);
  if (memcmp(re, data, BF_HEADER_BYTES) != 0) abort();
  return 0;
}
