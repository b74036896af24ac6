/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Internal: little-endian and big-endian loads and stores, byte by byte, so
 * that no struct is ever cast onto the wire and alignment never matters.
 */
#ifndef BF__ENDIAN_H
#define BF__ENDIAN_H

#include <stdint.h>

static inline void bf__put_le16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}

static inline void bf__put_le32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}

static inline void bf__put_le64(uint8_t *p, uint64_t v) {
  bf__put_le32(p, (uint32_t)v);
  bf__put_le32(p + 4, (uint32_t)(v >> 32));
}

static inline uint16_t bf__get_le16(const uint8_t *p) {
  return (uint16_t)(p[0] | (uint16_t)(p[1] << 8));
}

static inline uint32_t bf__get_le32(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
         ((uint32_t)p[3] << 24);
}

static inline uint64_t bf__get_le64(const uint8_t *p) {
  return (uint64_t)bf__get_le32(p) | ((uint64_t)bf__get_le32(p + 4) << 32);
}

static inline void bf__put_be64(uint8_t *p, uint64_t v) {
  for (int i = 7; i >= 0; i--) {
    p[i] = (uint8_t)v;
    v >>= 8;
  }
}

static inline uint64_t bf__get_be64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v = (v << 8) | p[i];
  return v;
}

#endif /* BF__ENDIAN_H */
