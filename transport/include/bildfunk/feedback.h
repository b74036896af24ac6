/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Feedback datagrams (spec §8, defined in docs/protocol.md): the small
 * messages the client sends the sender on the data socket (keyframe requests,
 * loss reports, clock pings, bye) and the sender's (clock pongs, bye, and
 * per AU the time it spent on the host: FRAME_INFO).
 *
 * Layout: byte 0 = BF_FB_MAGIC (0xFB: never 0xC9, never 'P' of a punch),
 * byte 1 = type, then the type's fields, little-endian. Every message is
 * shorter than a video header (40 bytes), so a datagram the sender sends to
 * the client can never be mistaken for video either way. A decoder accepts
 * a datagram at least as long as its type's size (bytes beyond are ignored,
 * for later extension) and rejects anything else.
 *
 * Sans-I/O: encode into a caller buffer, decode from bytes; no allocation.
 */
#ifndef BILDFUNK_FEEDBACK_H
#define BILDFUNK_FEEDBACK_H

#include <bildfunk/common.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BF_FB_MAGIC 0xFBu
#define BF_FB_MAX_BYTES 39u /* every message fits below a video header */

/* The sender's data port when none is given (direct mode). */
#define BF_DEFAULT_DATA_PORT 47998u

/* The client sends one loss report per window of this length (the report's
 * window_ms says how long each really was); the sender's controllers assume
 * it when a report says 0, and the client's report lays out its columns by it. */
#define BF_FB_LOSS_WINDOW_NS 750000000ull

/* The punch of spec §7: 8 ASCII bytes, client -> sender. */
#define BF_PUNCH_MAGIC "PFpunch1"
#define BF_PUNCH_BYTES 8u

typedef enum bf_fb_type {
  BF_FB_KEYFRAME_REQUEST = 1, /* client -> sender: next AU must be a keyframe */
  BF_FB_LOSS_REPORT = 2,      /* client -> sender: one statistics window */
  BF_FB_CLOCK_PING = 3,       /* client -> sender */
  BF_FB_CLOCK_PONG = 4,       /* sender -> client */
  BF_FB_BYE = 5,              /* either way: the session ends */
  BF_FB_FRAME_INFO = 6,       /* sender -> client: the host's time for one AU */
} bf_fb_type;

typedef enum bf_fb_bye_reason {
  BF_BYE_NORMAL = 0,    /* user quit / stream finished */
  BF_BYE_ERROR = 1,     /* the peer hit an error */
  BF_BYE_REPLACED = 2,  /* sender: another client took over */
} bf_fb_bye_reason;

typedef struct bf_feedback {
  bf_fb_type type;
  union {
    struct {                 /* 14 bytes on the wire */
      uint32_t request_id;   /* same id while one request is repeated */
      uint32_t first_lost;   /* frame index range that was lost, inclusive */
      uint32_t last_lost;
    } keyframe;
    struct {                 /* 34 bytes */
      uint32_t window_ms;        /* length of the reporting window */
      uint32_t packets_received; /* video datagrams accepted */
      uint32_t shards_missing;   /* shards the client had to do without */
      uint32_t loss_ppm;         /* shards_missing per million expected */
      uint32_t frames_completed;
      uint32_t frames_lost;
      uint32_t shards_recovered; /* data shards rebuilt by FEC */
      uint32_t late_shards;      /* originals that came after a rebuild */
    } loss;
    struct {                 /* 14 bytes */
      uint32_t id;
      uint64_t t1_ns;        /* client clock when sent */
    } ping;
    struct {                 /* 30 bytes */
      uint32_t id;           /* echoed */
      uint64_t t1_ns;        /* echoed client send time */
      uint64_t t2_ns;        /* sender clock when the ping arrived */
      uint64_t t3_ns;        /* sender clock when the pong left */
    } pong;
    struct {                 /* 6 bytes */
      uint32_t reason;       /* bf_fb_bye_reason */
    } bye;
    struct {                /* 10 bytes; sent after the AU's last burst */
      uint32_t frame_index; /* the AU */
      uint32_t host_us;     /* capture -> its last packet handed to the kernel (µs) */
    } frame_info;
  } u;
} bf_feedback;

/* Encodes |fb| into |out| (at least BF_FB_MAX_BYTES). Returns the datagram
 * length or -EINVAL for an unknown type. */
int bf_feedback_encode(const bf_feedback *fb, uint8_t *out, size_t cap);

/* Decodes |len| bytes. Returns 0, or -EBADMSG when the bytes are not a
 * feedback message (wrong magic, unknown type, too short). */
int bf_feedback_decode(const uint8_t *d, size_t len, bf_feedback *fb);

/* 1 when |d| starts with the 8-byte punch. */
int bf_is_punch(const uint8_t *d, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* BILDFUNK_FEEDBACK_H */
