/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * bildfunk common definitions: version, error convention, small helpers shared
 * by every module of libbftransport.
 *
 * Error convention (as in libuv/dav1d): functions return 0 (or a count) on
 * success and a negative errno value (-EINVAL, -ENOMEM, -EAGAIN, ...) on
 * failure. bf_strerror() turns either into text.
 */
#ifndef BILDFUNK_COMMON_H
#define BILDFUNK_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BF_VERSION_MAJOR 0
#define BF_VERSION_MINOR 1
#define BF_VERSION_PATCH 0
#define BF_VERSION_STRING "0.1.0"

/* Text for a 0 / negative-errno return value. Never NULL; the string is
 * static or thread-local and must not be freed. */
const char *bf_strerror(int err);

/* One outgoing datagram in two pieces (header + body), sent with two iovecs
 * so neither piece is copied. |body| may be NULL when |body_len| is 0. The
 * pointers are borrowed: they stay owned by whoever produced the datagram. */
typedef struct bf_dgram {
  const uint8_t *head;
  size_t head_len;
  const uint8_t *body;
  size_t body_len;
} bf_dgram;

/* Half-range wrap-around comparison of 32-bit sequence numbers:
 * bf_seq32_diff(a, b) > 0 when |a| is newer than |b|. */
static inline int32_t bf_seq32_diff(uint32_t a, uint32_t b) {
  return (int32_t)(a - b);
}

#ifdef __cplusplus
}
#endif

#endif /* BILDFUNK_COMMON_H */
