/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Feedback datagram codec: see bildfunk/feedback.h and docs/protocol.md.
 */
#include <bildfunk/feedback.h>

#include <errno.h>
#include <string.h>

#include "endian.h"

static size_t fb_size(bf_fb_type t) {
  switch (t) {
  case BF_FB_KEYFRAME_REQUEST: return 14;
  case BF_FB_LOSS_REPORT: return 34;
  case BF_FB_CLOCK_PING: return 14;
  case BF_FB_CLOCK_PONG: return 30;
  case BF_FB_BYE: return 6;
  case BF_FB_FRAME_INFO:
    return 10;
  }
  return 0;
}

int bf_feedback_encode(const bf_feedback *fb, uint8_t *out, size_t cap) {
  size_t n = fb_size(fb->type);
  if (n == 0 || cap < n) return -EINVAL;
  out[0] = BF_FB_MAGIC;
  out[1] = (uint8_t)fb->type;
  uint8_t *p = out + 2;
  switch (fb->type) {
  case BF_FB_KEYFRAME_REQUEST:
    bf__put_le32(p, fb->u.keyframe.request_id);
    bf__put_le32(p + 4, fb->u.keyframe.first_lost);
    bf__put_le32(p + 8, fb->u.keyframe.last_lost);
    break;
  case BF_FB_LOSS_REPORT: {
    const uint32_t v[8] = {fb->u.loss.window_ms,        fb->u.loss.packets_received,
                           fb->u.loss.shards_missing,   fb->u.loss.loss_ppm,
                           fb->u.loss.frames_completed, fb->u.loss.frames_lost,
                           fb->u.loss.shards_recovered, fb->u.loss.late_shards};
    for (size_t i = 0; i < 8; i++) bf__put_le32(p + 4 * i, v[i]);
    break;
  }
  case BF_FB_CLOCK_PING:
    bf__put_le32(p, fb->u.ping.id);
    bf__put_le64(p + 4, fb->u.ping.t1_ns);
    break;
  case BF_FB_CLOCK_PONG:
    bf__put_le32(p, fb->u.pong.id);
    bf__put_le64(p + 4, fb->u.pong.t1_ns);
    bf__put_le64(p + 12, fb->u.pong.t2_ns);
    bf__put_le64(p + 20, fb->u.pong.t3_ns);
    break;
  case BF_FB_BYE:
    bf__put_le32(p, fb->u.bye.reason);
    break;
  case BF_FB_FRAME_INFO:
    bf__put_le32(p, fb->u.frame_info.frame_index);
    bf__put_le32(p + 4, fb->u.frame_info.host_us);
    break;
  }
  return (int)n;
}

int bf_feedback_decode(const uint8_t *d, size_t len, bf_feedback *fb) {
  if (len < 2 || d[0] != BF_FB_MAGIC) return -EBADMSG;
  bf_fb_type t = (bf_fb_type)d[1];
  size_t n = fb_size(t);
  if (n == 0 || len < n) return -EBADMSG;
  memset(fb, 0, sizeof *fb);
  fb->type = t;
  const uint8_t *p = d + 2;
  switch (t) {
  case BF_FB_KEYFRAME_REQUEST:
    fb->u.keyframe.request_id = bf__get_le32(p);
    fb->u.keyframe.first_lost = bf__get_le32(p + 4);
    fb->u.keyframe.last_lost = bf__get_le32(p + 8);
    break;
  case BF_FB_LOSS_REPORT: {
    uint32_t v[8];
    for (size_t i = 0; i < 8; i++) v[i] = bf__get_le32(p + 4 * i);
    fb->u.loss.window_ms = v[0];
    fb->u.loss.packets_received = v[1];
    fb->u.loss.shards_missing = v[2];
    fb->u.loss.loss_ppm = v[3];
    fb->u.loss.frames_completed = v[4];
    fb->u.loss.frames_lost = v[5];
    fb->u.loss.shards_recovered = v[6];
    fb->u.loss.late_shards = v[7];
    break;
  }
  case BF_FB_CLOCK_PING:
    fb->u.ping.id = bf__get_le32(p);
    fb->u.ping.t1_ns = bf__get_le64(p + 4);
    break;
  case BF_FB_CLOCK_PONG:
    fb->u.pong.id = bf__get_le32(p);
    fb->u.pong.t1_ns = bf__get_le64(p + 4);
    fb->u.pong.t2_ns = bf__get_le64(p + 12);
    fb->u.pong.t3_ns = bf__get_le64(p + 20);
    break;
  case BF_FB_BYE:
    fb->u.bye.reason = bf__get_le32(p);
    break;
  case BF_FB_FRAME_INFO:
    fb->u.frame_info.frame_index = bf__get_le32(p);
    fb->u.frame_info.host_us = bf__get_le32(p + 4);
    break;
  }
  return 0;
}

int bf_is_punch(const uint8_t *d, size_t len) {
  return len >= BF_PUNCH_BYTES && memcmp(d, BF_PUNCH_MAGIC, BF_PUNCH_BYTES) == 0;
}
