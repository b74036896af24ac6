/*
 * Reassembler (client side, sans-I/O): turns wire-v1 video datagrams, in any
 * order, with loss, duplicates and garbage, back into access units.
 *
 * push(datagram, arrival_ns) checks every rule of spec §4 before it touches
 * memory, places each data shard at its final offset in the AU's buffer (one
 * copy, from the receive buffer), keeps parity in pooled shard buffers, and
 * rebuilds a block with FEC as soon as k of its k + m shards are in. Completed
 * AUs and loss events are queued and taken with bf_reassembler_poll().
 *
 * Memory: frame buffers and parity buffers come from pools that are filled on
 * demand and reused; in-flight memory never exceeds the configured budget
 * (default 4 x max_frame_bytes). Once warm, push() allocates nothing.
 * Time: only the |arrival_ns| passed in (any monotonic or realtime ns clock);
 * abandonment by age uses the senders' pts_ns.
 * Not thread-safe: one thread pushes and polls.
 *
 * Latency: a completed AU is queued the moment its last needed shard arrives,
 * in completion order (which may differ from frame_index order after loss or
 * reordering); the caller decides whether to decode it.
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
  uint32_t abandon_frames; /* ... or this many indices behind newest: 64 */
  size_t memory_budget;    /* in-flight bytes; 0 = 4 x max_frame_bytes */
} bf_reassembler_config;

void bf_reassembler_config_default(bf_reassembler_config *cfg);

typedef struct bf_reassembler bf_reassembler;

/* A completed AU. |data| holds exactly |len| = frame_bytes bytes and belongs
 * to the reassembler until bf_reassembler_release(); the caller may read (and
 * modify) it until then. */
typedef struct bf_frame {
  uint8_t *data;
  size_t len;
  uint64_t pts_ns;
  uint32_t frame_index;
  uint32_t user_flags;
  uint64_t first_arrival_ns;  /* arrival of the AU's first accepted shard */
  uint64_t last_arrival_ns;   /* arrival of the shard that completed it */
  uint32_t shards_received;   /* data + parity shards accepted */
  uint32_t shards_recovered;  /* data shards rebuilt by FEC */
  void *internal_;            /* reassembler's slot; do not touch */
} bf_frame;

typedef enum bf_event_type {
  BF_EVENT_FRAME = 1,       /* .frame: a completed AU; release it */
  BF_EVENT_LOSS = 2,        /* .loss: AUs first..last will never complete */
  BF_EVENT_BLOCK_SHORT = 3, /* .block: early signal, see below */
} bf_event_type;

typedef struct bf_event {
  bf_event_type type;
  union {
    bf_frame frame;
    struct {
      uint32_t first; /* inclusive, wraps */
      uint32_t last;  /* inclusive */
    } loss;
    /* The block's last shard on the wire (index k + m - 1) arrived and the
     * block still holds fewer than k shards: the AU will not complete unless
     * stragglers come. Emitted at most once per block. */
    struct {
      uint32_t frame_index;
      uint16_t block_index;
      uint16_t have;    /* shards held */
      uint16_t need;    /* k */
    } block;
  } u;
} bf_event;

/* Every counter the reassembler keeps. rejected[r] counts datagrams dropped
 * for reason r (rejected[BF_ACCEPT] counts accepted ones). */
typedef struct bf_reassembler_stats {
  uint64_t rejected[BF_REJECT_COUNT_];
  uint64_t packets;           /* datagrams pushed */
  uint64_t frames_completed;
  uint64_t frames_lost;       /* indices reported in LOSS events */
  uint64_t shards_recovered;  /* data shards rebuilt by FEC */
  uint64_t late_shards;       /* == rejected[BF_REJECT_LATE] */
  uint64_t blocks_short;      /* BLOCK_SHORT events */
  uint64_t events_dropped;    /* loss events lost to a full queue */
  size_t memory_in_flight;    /* bytes held by unfinished and unreleased AUs */
  size_t memory_peak;
  size_t memory_pooled;       /* bytes owned by the pools (used or free) */
} bf_reassembler_stats;

/* Creates a reassembler. Returns 0, -EINVAL (bad config) or -ENOMEM. */
int bf_reassembler_new(const bf_reassembler_config *cfg, bf_reassembler **out);

/* Frees |*r| and every buffer it owns, including unreleased frames. */
void bf_reassembler_del(bf_reassembler **r);

/* Offers one datagram (header + shard, unsealed) of |len| bytes that arrived
 * at |arrival_ns|. |d| is only read during the call. Returns BF_ACCEPT or
 * the reason it was dropped (also counted). Never fails otherwise. Drain
 * bf_reassembler_poll() after every push. */
bf_reject bf_reassembler_push(bf_reassembler *r, const uint8_t *d, size_t len,
                              uint64_t arrival_ns);

/* Takes the next event into |ev|. Returns 1 if one was taken, 0 if none. */
int bf_reassembler_poll(bf_reassembler *r, bf_event *ev);

/* Hands a BF_EVENT_FRAME's buffer back to the pool. */
void bf_reassembler_release(bf_reassembler *r, bf_frame *f);

/* Abandons every unfinished AU (reported as loss) and forgets the index
 * window, so the next packet starts afresh (jump to live). */
void bf_reassembler_reset(bf_reassembler *r);

void bf_reassembler_stats_get(const bf_reassembler *r, bf_reassembler_stats *s);

#ifdef __cplusplus
}
#endif

#endif /* BILDFUNK_REASSEMBLER_H */
