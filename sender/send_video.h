/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The sender's video stage: capture -> encode -> packetize -> pace -> the
 * data endpoint. One step sends every burst of the current AU the pacer
 * allows; once the AU has left, it takes an AU the encoder finished late,
 * or captures (and encodes) the next picture when its time has come, and
 * otherwise says by when it wants to run again. It never sleeps: it
 * returns to the loop (send_loop.h), which waits.
 *
 * Not here: what arrives from the client (send_endpoint.h; the loop calls
 * _start/_restart/_stop/_keyframe on its events), the FEC and rate
 * controllers (send_adapt.h), the statistics writer (send_stats.h).
 *
 * Latency: pacing has priority over capture, so an AU never waits behind
 * another in a queue of ours; the capture time (pts, CLOCK_REALTIME) is read
 * when the picture is produced and travels with it to the wire. An
 * asynchronous encoder (SVT-AV1, hardware) is looked at every millisecond
 * while it owes an AU.
 *
 * State: bf_send_state's video and totals fields. One thread.
 */
#ifndef BF_SENDER_SEND_VIDEO_H
#define BF_SENDER_SEND_VIDEO_H

#include "send_state.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
  BF_SEND_VIDEO_WAIT = 0,  /* nothing to do before *deadline */
  BF_SEND_VIDEO_AGAIN = 1, /* did something: run the loop again at once */
};

/* Runs the stage at |now_ns| while streaming: BF_SEND_VIDEO_WAIT (with
 * *deadline lowered to when it next has work), BF_SEND_VIDEO_AGAIN, or a
 * negative errno when the run must end (said on stderr). Sets s->finished
 * at the end of the stream (--frames, --duration, the end of a file). */
int bf_send_video_step(bf_send_state *s, uint64_t now_ns, uint64_t *deadline);

/* A new client: a fresh stream (as _restart) whose frame and time limits
 * count from |now_ns|; the first picture is captured at once. */
void bf_send_video_start(bf_send_state *s, uint64_t now_ns);
/* Another receiver (a new client, or the same at a new address): nothing
 * in flight is of use to it. Fresh controllers, the rest of the AU
 * dropped, the encoder reset, a keyframe first. */
void bf_send_video_restart(bf_send_state *s, uint64_t now_ns);
/* Streaming stopped: the rest of the AU is dropped, sends go nowhere. */
void bf_send_video_stop(bf_send_state *s);
/* The client asked for a keyframe: a passthrough source skips ahead to one
 * (an encoder takes the request at the next capture). */
void bf_send_video_keyframe(bf_send_state *s);

/* (Re)builds the packetizer for shards of |shard_bytes| and |max_k| data
 * shards per block at s->fec_applied % FEC. 0 or a negative errno with the
 * reason in |err|; the old packetizer is gone either way. */
int bf_send_video_packetizer(bf_send_state *s, unsigned shard_bytes, unsigned max_k, char *err,
                             size_t cap);

#ifdef __cplusplus
}
#endif

#endif /* BF_SENDER_SEND_VIDEO_H */
