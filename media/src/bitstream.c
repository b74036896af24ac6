/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Annex B start codes, leb128 and OBU framing: see bitstream.h.
 */
#include <bildfunk/bitstream.h>

#include <errno.h>

size_t bf_annexb_find(const uint8_t *d, size_t len, size_t from) {
  for (size_t i = from; i + BF_ANNEXB_START_CODE_BYTES <= len; i++)
    if (d[i] == 0 && d[i + 1] == 0 && d[i + 2] == 1) return i;
  return len;
}

size_t bf_leb128_read(const uint8_t *d, size_t len, uint64_t *v) {
  *v = 0;
  for (size_t i = 0; i < 8 && i < len; i++) {
    *v |= (uint64_t)(d[i] & 0x7fu) << (7 * i);
    if (!(d[i] & 0x80u)) return i + 1;
  }
  return 0;
}

int bf_obu_read(const uint8_t *d, size_t len, size_t pos, bf_obu *obu) {
  if (pos >= len) return -EBADMSG;
  uint8_t h = d[pos];
  obu->header = h;
  obu->type = (h >> 3) & 0xfu;
  obu->extension = (h >> 2) & 1;
  obu->has_size = (h >> 1) & 1;
  size_t p = pos + 1 + (size_t)obu->extension;
  if ((h & 0x80u) || p > len) return -EBADMSG;
  uint64_t size = len - p;
  if (obu->has_size) {
    size_t used = bf_leb128_read(d + p, len - p, &size);
    if (!used) return -EBADMSG;
    p += used;
  }
  if (size > len - p) return -EBADMSG;
  obu->payload = p;
  obu->size = (size_t)size;
  obu->end = p + (size_t)size;
  return 0;
}
