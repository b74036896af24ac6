/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Reassembler (client side, sans-I/O): turns wire-v1 video datagrams, in any
 * order, with loss, duplicates and garbage, back into access units.
 *
 * push(datagram, arrival_ns) checks every stateless rule of spec §4 before it
 * touches any state, places each data shard at its final offset in the AU's
 * buffer (one copy, from the receive buffer), keeps parity in pooled shard
 * buffers, and rebuilds a block with FEC (only its holes, in place) as soon
 * as k of its k + m shards are in. Completed AUs, loss ranges and early
 * short-block signals are queued and taken with bf_reassembler_poll().
 *
 * Index window: an unfinished AU is abandoned once its pts is abandon_age_ns
 * behind the newest AU's pts, or it is abandon_frames indices behind the
 * newest index (half-range u32 arithmetic). Finished and abandoned indices
 * stay remembered while they are in that window; anything older is stale.
 * Every index from the oldest AU accepted to the newest ends exactly once: as
 * a FRAME or inside a LOSS range. Indices before that (the stream began
 * earlier for the sender) and after the newest are never reported. PROBE
 * packets are counted and dropped after the stateless checks.
 *
 * Jumps: an index abandon_frames or more ahead of the newest is not
 * believed on one AU's word (one forged AU far ahead would otherwise make
 * every genuine packet stale): such packets are dropped (JUMP) while the
 * reassembler watches them. It moves its window there only when
 * BF_REASSEMBLER_JUMP_AUS distinct indices within abandon_frames of each
 * other came from out there, nothing was accepted inside the window since
 * the first of them, and nothing for abandon_age_ns (the old stream
 * stopped: a sender that restarted at a higher index, a long outage). The
 * indices skipped are not reported as lost (the counters say what was
 * really lost: the unfinished AUs of the old window); the move is counted
 * in |jumps|. Indices as far behind stay stale: a stream that starts over
 * lower is the caller's to notice (a silence, then bf_reassembler_reset).
 *
 * Memory: frame buffers and parity buffers come from one pool of size
 * classes, filled on demand and reused; in-flight memory (unfinished AUs,
 * their parity, delivered frames not yet released) never exceeds the budget
 * (default 4 x max_frame_bytes) and neither does the pool itself. When a
 * newer AU needs room, the oldest unfinished AUs are abandoned (reported as
 * loss) before the packet is refused. Once the sizes of a stream have been
 * seen, push() allocates nothing.
 * Time: only the |arrival_ns| passed in (any monotonic or realtime ns clock);
 * abandonment by age uses the senders' pts_ns.
 * Not thread-safe: one thread pushes and polls.
 *
 * Latency: a completed AU is queued the moment its last needed shard arrives,
 * in completion order (which may differ from frame_index order after loss or
 * reordering); the caller decides whether to decode it. Loss is reported in
 * index order, when every older index is settled: typically abandon_age_ns
 * after the lost AU (BLOCK_SHORT is the early signal).
 */
#ifndef BILDFUNK_REASSEMBLER_H
#define BILDFUNK_REASSEMBLER_H

#include <bildfunk/common.h>
#include <bildfunk/wire.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bf_reassembler_config {
  bf_wire_limits limits;   /* shard bounds, K, max_frame_bytes */
  uint64_t abandon_age_ns; /* abandon an AU this far (pts) behind newest: 120 ms */
  uint32_t abandon_frames; /* ... or this many indices behind newest: 64 (1..65536) */
  size_t memory_budget;    /* in-flight bytes; 0 = 4 x max_frame_bytes; must
                              hold at least one largest AU */
} bf_reassembler_config;

void bf_reassembler_config_default(bf_reassembler_config *cfg);

typedef struct bf_reassembler bf_reassembler;

/* A completed AU. |data| holds exactly |len| = frame_bytes bytes (non-NULL
 * even when len is 0) and belongs to the reassembler until
 * bf_reassembler_release(), which must be called exactly once per frame; the
 * caller may read (and modify) it until then. Unreleased frames count against
 * the memory budget. */
typedef struct bf_frame {
  uint8_t *data;
  size_t len;
  uint64_t pts_ns;
  uint32_t frame_index;
  uint32_t user_flags;
  uint64_t first_arrival_ns; /* arrival of the AU's first accepted shard */
  uint64_t last_arrival_ns;  /* arrival of the shard that completed it */
  uint32_t shards_received;  /* data + parity shards accepted */
  uint32_t shards_recovered; /* data shards rebuilt by FEC */
  uint32_t data_shards;      /* the AU's k, summed over its blocks */
  uint32_t parity_shards;    /* its m, summed: the sender's FEC level is m / k */
  void *internal_;           /* reassembler's slot; do not touch */
} bf_frame;

typedef enum bf_event_type {
  BF_EVENT_FRAME = 1,       /* .frame: a completed AU; release it */
  BF_EVENT_LOSS = 2,        /* .loss: AUs first..last will never complete;
                               ranges come in index order, adjacent ones merged */
  BF_EVENT_BLOCK_SHORT = 3, /* .block: early signal, see below */
} bf_event_type;

typedef struct bf_event {
  bf_event_type type;
  union {
    bf_frame frame;
    struct {
      uint32_t first;    /* inclusive, wraps */
      uint32_t last;     /* inclusive */
      uint32_t au_flags; /* the AU flags (wire.h) of those that had shards, or-ed:
                            BF_AU_KEYFRAME says a keyframe is among them */
    } loss;
    /* The block's last shard on the wire (index k + m - 1) arrived and the
     * block still holds fewer than k shards: the AU will not complete unless
     * stragglers come. Emitted at most once per block. */
    struct {
      uint32_t frame_index;
      uint16_t block_index;
      uint16_t have; /* shards held */
      uint16_t need; /* k */
      uint32_t au_flags; /* the AU's flags (wire.h) */
    } block;
  } u;
} bf_event;

/* Every counter the reassembler keeps. rejected[r] counts datagrams dropped
 * for reason r (rejected[BF_ACCEPT] counts accepted ones); they add up to
 * |packets|. rejected[BF_REJECT_DUPLICATE] also counts parity that arrives
 * after its block was complete (on a lossless stream that is the whole FEC
 * overhead); rejected[BF_REJECT_LATE] counts only data-shard originals whose
 * bytes FEC had already rebuilt, so shards lost = shards_recovered -
 * late_shards. Packets of a delivered AU are duplicates or late; of an
 * abandoned or too-old AU, stale. */
typedef struct bf_reassembler_stats {
  uint64_t rejected[BF_REJECT_COUNT_];
  uint64_t packets;          /* datagrams pushed */
  uint64_t frames_completed; /* FRAME events */
  uint64_t frames_lost;      /* indices declared lost (LOSS events, dropped or not) */
  uint64_t frames_evicted;   /* unfinished AUs abandoned early to make room for a
                                newer one (in frames_lost once reported) */
  uint64_t shards_recovered; /* data shards rebuilt by FEC */
  uint64_t late_shards;      /* == rejected[BF_REJECT_LATE] */
  uint64_t blocks_short;     /* BLOCK_SHORT signals (queued or dropped) */
  uint64_t events_dropped;   /* LOSS / BLOCK_SHORT events lost to a full queue
                                (256 pending); FRAME events are never dropped */
  size_t memory_in_flight;   /* bytes held by unfinished and unreleased AUs */
  size_t memory_peak;        /* highest memory_in_flight */
  size_t memory_pooled;      /* bytes owned by the pools (used or free) */
  uint64_t pool_allocs;      /* malloc() calls by the pools, ever: flat once warm */
  uint64_t jumps;            /* window moved to a corroborated far index */
} bf_reassembler_stats;

/* Distinct far indices that corroborate a jump (see Jumps above). */
#define BF_REASSEMBLER_JUMP_AUS 3u

/* Creates a reassembler. Returns 0, -EINVAL (bad config) or -ENOMEM. */
int bf_reassembler_new(const bf_reassembler_config *cfg, bf_reassembler **out);

/* Frees |*r| and every buffer it owns, including unreleased frames. */
void bf_reassembler_del(bf_reassembler **r);

/* Offers one datagram (header + shard, unsealed) of |len| bytes that arrived
 * at |arrival_ns|. |d| is only read during the call. Returns BF_ACCEPT or
 * the reason it was dropped (also counted). Never fails otherwise. Drain
 * bf_reassembler_poll() after every push (a single push queues at most a
 * frame, a short-block signal and the loss ranges it settles). Cost: ~one
 * memcpy of the shard; FEC only when a block completes with holes. */
bf_reject bf_reassembler_push(bf_reassembler *r, const uint8_t *d, size_t len, uint64_t arrival_ns);

/* Takes the next event into |ev|, in the order they happened. Returns 1 if
 * one was taken, 0 if none. */
int bf_reassembler_poll(bf_reassembler *r, bf_event *ev);

/* Hands a BF_EVENT_FRAME's buffer back to the pool. */
void bf_reassembler_release(bf_reassembler *r, bf_frame *f);

/* Abandons every unfinished AU and every unseen index up to the newest
 * (reported as loss) and forgets the index window, so the next packet starts
 * afresh (jump to live, or a sender that restarted its indices). Queued
 * frames stay queued. */
void bf_reassembler_reset(bf_reassembler *r);

void bf_reassembler_stats_get(const bf_reassembler *r, bf_reassembler_stats *s);

#ifdef __cplusplus
}
#endif

#endif /* BILDFUNK_REASSEMBLER_H */
