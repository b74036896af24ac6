/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The decode gate (sans-I/O): decides which completed access units go to the
 * decoder, when to ask the sender for a keyframe, and when to skip to live:
 * the client's loss recovery after the reassembler (FEC recovery is the
 * transport's, fec.h).
 *
 * Decode gate: AUs are decoded strictly in frame_index order from a keyframe
 * on. A gap (an AU that completes while an earlier one is missing and is not
 * held, see below), a loss event, or a decoder error puts the client into
 * "waiting for a keyframe":
 * every AU that is not a keyframe is dropped from then on, so the last good
 * picture stays on screen instead of smeared references, and a keyframe
 * request goes out.
 *
 * Recovery points (intra refresh): once the stream has carried an AU flagged
 * BF_AU_RECOVERY_POINT, a loss no longer drops what follows. Later AUs are
 * decoded but not shown (BF_GATE_DECODE_HIDDEN), so the references rebuild,
 * and pictures show again from the first recovery point whose previous
 * recovery point (or keyframe) has a frame_index >= the last lost frame: its
 * refresh wave started after the loss. The keyframe request runs in parallel;
 * whichever arrives first ends the freeze. Streams without recovery points,
 * the start of a stream and skip-to-live still wait for a keyframe.
 *
 * Reordering (hold): the caller keeps completed AUs in frame_index order and
 * asks bf_decode_gate_hold() before it hands the oldest to bf_decode_gate_on_frame.
 * An AU ahead of the next expected index waits there ("held", and every AU
 * behind it with it) until the earlier one completes (it is then decoded at
 * once and the held ones follow), the reassembler declares the earlier one
 * lost (LOSS, or BLOCK_SHORT on a network that keeps order), or a bound
 * expires: the jitter allowance, allow_ns = lateness * 5/4 + 1 ms, capped at
 * |hold_max_ns| (100 ms, below the reassembler's own 120 ms give-up), where
 * lateness is the recent reordering lateness of datagrams that the caller
 * measures (bf_decode_gate_set_reorder; seqtrack.h), or |hold_frames| AUs are
 * waiting. Then the gate proceeds as without a hold (gap: wait for a
 * keyframe or recovery point). On a network that keeps order the allowance
 * is 0: nothing is ever held, as before. Keyframes are never held (older AUs
 * become stale). At the start (and after a restart) an AU that is not a
 * keyframe is held the same way: the keyframe that begins the stream may
 * have been overtaken. Latency: an AU that is next in order is decoded at once; a
 * held one waits at most the allowance. On a reordering network a
 * BLOCK_SHORT is not proof of loss (the stragglers may come), so it is
 * ignored there and the hold bound or LOSS decides.
 *
 * Keyframe requests (docs/protocol.md): each new need gets a new request_id,
 * at most one new id per |throttle_ns| (100 ms); an id is repeated every frame
 * interval until a keyframe arrives or |give_up_ns| (500 ms) pass; if the
 * picture is still frozen then, the next id follows at once. A keyframe
 * that is lost itself (the reassembler's LOSS or BLOCK_SHORT carries the
 * AU's flags) ends the running id at once: the next follows within the
 * throttle instead of the give-up.
 *
 * Skip to live: when the queue of completed AUs waiting for the decoder stays
 * at |backlog_frames| or more for |backlog_ns|, or reaches |backlog_hard| at
 * once, the caller is told to drop the queue; the gate then waits for a
 * keyframe and asks for one. Latency cost: none; this exists to shed it.
 * Unless the decoder clears the backlog itself about as soon as a keyframe
 * could come: when a decode costs less than a frame interval (the median of
 * the last BF_GATE_DECODE_SAMPLES the caller reported, at least 3) and it
 * drains the queue, while more AUs come, within |catchup_ns| (depth x cost
 * / (1 - cost / interval)), the backlog came from a one-off stall (the first
 * picture's costs, a slow present, the machine busy elsewhere) and is
 * decoded through, the newest picture shown (counted in |catchups|).
 *
 * Not here: sockets, clocks, the decoder. Time is a ns value passed in.
 * Caller-owned struct, no cleanup.
 */
#ifndef BF_CLIENT_DECODE_GATE_H
#define BF_CLIENT_DECODE_GATE_H

#include <bildfunk/feedback.h>

#include <stdint.h>

typedef struct bf_decode_gate_config {
  uint64_t throttle_ns;       /* min gap between new request ids: 100 ms */
  uint64_t give_up_ns;        /* stop repeating an id after: 500 ms */
  uint64_t frame_interval_ns; /* repeat period until the stream tells: 16.7 ms */
  uint32_t backlog_frames;    /* queue depth that counts as backed up: 3 */
  uint64_t backlog_ns;        /* ... when it lasts this long: 200 ms */
  uint32_t backlog_hard;      /* depth that skips at once: 8 */
  uint64_t skip_cooldown_ns;  /* no second skip within: 1 s */
  uint64_t hold_max_ns;       /* cap on the reordering allowance: 100 ms */
  uint32_t hold_frames;       /* hold no more AUs than: 6 (< backlog_hard) */
  uint64_t catchup_ns;        /* a backlog drained within this is not skipped: 200 ms */
} bf_decode_gate_config;

#define BF_GATE_DECODE_SAMPLES 16u /* decode times the cost is the median of */

void bf_decode_gate_config_default(bf_decode_gate_config *cfg);

typedef enum bf_gate {
  BF_GATE_DECODE = 0,        /* decode it */
  BF_GATE_WAIT_KEY = 1,      /* dropped: waiting for a keyframe */
  BF_GATE_GAP = 2,           /* dropped: an earlier AU is missing */
  BF_GATE_STALE = 3,         /* dropped: older than what was already decoded */
  BF_GATE_DECODE_HIDDEN = 4, /* decode it, do not show it: a refresh wave is rebuilding */
} bf_gate;

typedef struct bf_decode_gate {
  bf_decode_gate_config cfg;
  int have_expected;
  uint32_t expected;   /* next frame_index to decode */
  int need_key;        /* frozen until a keyframe */
  int ask;             /* evidence that a keyframe must be asked for */
  uint32_t lost_first; /* range for the next/current request */
  uint32_t lost_last;
  int lost_have;
  int req_active;
  uint32_t req_id;
  uint32_t next_id;
  uint64_t req_start_ns;
  uint64_t req_sent_ns;
  int have_new_id;
  uint64_t last_new_id_ns;
  int have_seen, req_have_seen;
  uint32_t seen_newest;      /* the newest frame index heard of */
  uint32_t req_seen;         /* ... when the running request began */
  uint64_t backlog_since_ns; /* 0 = not backed up */
  uint64_t cooldown_until_ns;
  int rp_seen; /* the stream carries recovery points */
  int hidden;  /* the freeze decodes unseen, waiting for a recovery point */
  int have_anchor;
  uint32_t anchor;    /* frame_index of the last recovery point or keyframe */
  uint32_t hide_lost; /* last frame lost since the freeze began */
  uint64_t allow_ns;  /* reordering allowance: how long an AU may be held */
  int holding;        /* an AU ahead of |expected| waits */
  uint32_t hold_expected;
  uint64_t hold_since_ns;
  /* counters */
  uint64_t requests_new;  /* distinct request ids */
  uint64_t requests_sent; /* datagrams, repeats included */
  uint64_t requests_expired;
  uint64_t requests_key_lost; /* ended early: a keyframe was lost while one was asked for */
  uint64_t keyframes;
  uint64_t skips;
  uint64_t gaps;
  uint64_t recovery_points; /* freezes ended by a recovery point */
  uint64_t holds;           /* times an AU was held for an earlier one */
  uint64_t holds_filled;    /* ... and the earlier one came in time */
  uint64_t holds_expired;   /* ... and the bound ran out first */
  uint64_t shorts_ignored;  /* BLOCK_SHORT on a reordering network */
  uint64_t catchups;        /* backlogs decoded through instead of skipped */
  uint64_t dec_ns[BF_GATE_DECODE_SAMPLES]; /* the last decode times */
  unsigned dec_n, dec_at;
  int catching_up; /* the current backlog is being decoded through */
} bf_decode_gate;

void bf_decode_gate_init(bf_decode_gate *r, const bf_decode_gate_config *cfg);

/* Sets the repeat period from the stream's frame rate; clamped to the
 * intervals of 240 fps .. 30 fps. */
void bf_decode_gate_set_frame_interval(bf_decode_gate *r, uint64_t interval_ns);

/* Gate decision for a completed AU, in completion order. */
bf_gate bf_decode_gate_on_frame(bf_decode_gate *r, uint32_t frame_index, uint32_t user_flags,
                                uint64_t now_ns);

/* AUs |first|..|last| will not complete (reassembler LOSS).
 * Losses entirely older than what was decoded are ignored. */
void bf_decode_gate_on_loss(bf_decode_gate *r, uint32_t first, uint32_t last, uint64_t now_ns);

/* The reassembler's early BLOCK_SHORT for |frame_index|: a loss while the
 * allowance is 0 (in-order network), ignored otherwise (counted). */
void bf_decode_gate_on_short(bf_decode_gate *r, uint32_t frame_index, uint64_t now_ns);
/* A keyframe was lost: |frame_index| is the AU of a BLOCK_SHORT
 * (|short_signal|) or the last of a LOSS range whose AU flags had
 * BF_AU_KEYFRAME. If a request is running and the AU is newer than what
 * the gate had heard of when it began (so it may be its answer), the
 * request is over: the next poll asks with a new id (the sender answers
 * each id once; repeating the old one would wait out give_up_ns). */
void bf_decode_gate_on_key_lost(bf_decode_gate *r, uint32_t frame_index, int short_signal,
                                uint64_t now_ns);

/* The network's recent reordering lateness (ns, 0 = keeps order); sets the
 * allowance. Call whenever it may have changed (cheap). */
void bf_decode_gate_set_reorder(bf_decode_gate *r, uint64_t lateness_ns);

/* Hold decision for the oldest (lowest frame_index) completed AU, which
 * completed at |completed_ns|, with |queued| AUs waiting in all. Returns 1
 * when it must wait for an earlier one: leave it queued and ask again when
 * an event came or at bf_decode_gate_next_due(). Returns 0 when it is to go to
 * bf_decode_gate_on_frame() now. */
int bf_decode_gate_hold(bf_decode_gate *r, uint32_t frame_index, uint32_t user_flags,
                        uint32_t queued, uint64_t completed_ns, uint64_t now_ns);

/* The decoder rejected AU |frame_index|. */
void bf_decode_gate_on_decode_error(bf_decode_gate *r, uint32_t frame_index, uint64_t now_ns);

/* Returns 1 and fills |fb| with a KEYFRAME_REQUEST when one must be sent at
 * |now_ns| (a new id or a repeat), else 0. */
int bf_decode_gate_poll(bf_decode_gate *r, uint64_t now_ns, bf_feedback *fb);

/* When bf_decode_gate_poll() next has something to do, or a hold expires;
 * UINT64_MAX if never. */
uint64_t bf_decode_gate_next_due(const bf_decode_gate *r);

/* The stream started over (a sender that restarted numbers its frames
 * afresh): forget the expected index and wait for a keyframe. */
void bf_decode_gate_restart(bf_decode_gate *r);

/* How many of the |n| queued AUs (frame indices |idx|, user flags |flags|, in
 * queue order) the gate would hand to the decoder if they came now: the
 * decoder's real backlog. AUs it would drop (waiting for a keyframe, stale,
 * a gap) cost nothing and are not counted. |r| is not changed (a copy of it
 * decides). */
uint32_t bf_decode_gate_decodable(const bf_decode_gate *r, const uint32_t *idx,
                                  const uint32_t *flags, uint32_t n);

/* Reports the number of completed AUs waiting for the decoder (count only
 * those it would decode: bf_decode_gate_decodable). Returns 1 when
 * the caller must skip to live now: drop every queued AU (and restart the
 * reassembler's window); the gate then waits for a keyframe and asks. */
int bf_decode_gate_backlog(bf_decode_gate *r, uint32_t depth, uint64_t now_ns);

/* One decode took |ns| (leave out a decoder's first: it pays its set-up). */
void bf_decode_gate_on_decode_time(bf_decode_gate *r, uint64_t ns);
/* What a decode costs now: the median of the last samples, 0 = not known
 * (fewer than 3). */
uint64_t bf_decode_gate_decode_cost(const bf_decode_gate *r);

#endif
