/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The input link's two ends, sans-I/O (docs/protocol.md, "Input"): what makes
 * input arrive exactly once and in order over a lossy network without
 * waiting for a round trip.
 *
 * Client (bf_inlink_tx): events (key, mouse button, pad button down/up,
 * release everything) get the session's next event sequence and wait in a
 * ring until the sender acknowledges them; every INPUT datagram carries the
 * oldest unacknowledged ones (up to BF_INMSG_MAX_EVENTS) and the current
 * snapshot (motion and wheel as running totals, the absolute pointer, the
 * pads' axes), so one lost datagram delays nothing: the next one repeats
 * what it held. A datagram goes out at once for a new event, at most every
 * BF_INLINK_MOTION_NS for a changed snapshot, again after the
 * retransmission timeout while something is unacknowledged (srtt x 3/2 +
 * 3 ms, 4..200 ms, srtt measured on the acknowledgements), and every
 * BF_INLINK_KEEPALIVE_NS while a key or button is held (the sender releases
 * everything after BF_INLINK_SILENCE_NS without a datagram).
 *   Queue: BF_INLINK_QUEUE events. A press is taken while fewer than
 *   BF_INLINK_PRESS_ROOM wait (else dropped and counted, and so is its
 *   release); releases use the rest; a release that finds the ring full
 *   is counted and becomes a "release everything" as soon as there is
 *   room. Latency: none added while the sender acknowledges; an event
 *   beyond the first BF_INMSG_MAX_EVENTS unacknowledged ones waits one
 *   round trip.
 *
 * Sender (bf_inlink_rx): takes each event exactly once, in sequence order
 * (a datagram's events below the next expected sequence are repeats;
 * a datagram that starts beyond it is a gap, counted and ignored: a client
 * always sends its oldest unacknowledged event first), and a snapshot only
 * when it is newer than the last one taken (latest wins). It hands what to
 * do to a sink (the injection backends), filtered by the classes allowed
 * (keyboard, mouse, gamepad) and a token bucket (BF_INLINK_RATE events per
 * second, BF_INLINK_BURST deep; releases are never limited). It keeps what
 * is held so it can release all of it (session end, the client's silence,
 * a focus loss), rumble per pad (latest wins, numbered), and the last
 * stamps: the input taken before each picture's capture. Its STATE
 * datagram acknowledges the highest contiguous event sequence taken.
 *
 * Time comes in as ns (the caller's monotonic clock for timers; the
 * sender's CLOCK_REALTIME where a STATE says when); nothing here reads a
 * clock, sends or allocates. One thread.
 */
#ifndef BILDFUNK_INPUTLINK_H
#define BILDFUNK_INPUTLINK_H

#include <bildfunk/inputmsg.h>

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BF_INLINK_QUEUE 256u                /* events waiting for their ack */
#define BF_INLINK_PRESS_ROOM 224u           /* presses taken while fewer wait */
#define BF_INLINK_MOTION_NS 1000000ull      /* snapshot changes: at most every 1 ms */
#define BF_INLINK_KEEPALIVE_NS 250000000ull /* while something is held */
#define BF_INLINK_SILENCE_NS 1000000000ull  /* sender: release after this silence */
#define BF_INLINK_RTO_MIN_NS 4000000ull
#define BF_INLINK_RTO_MAX_NS 200000000ull
#define BF_INLINK_RATE 4000u       /* sender: events per second ... */
#define BF_INLINK_BURST 1000u      /* ... in bursts of at most this many */
#define BF_INLINK_STAMPS 8u        /* picture stamps the sender keeps */
#define BF_INLINK_STAMPS_SENT 4u   /* ... and repeats in every STATE */
#define BF_INLINK_MAX_MOTION 65535 /* sender: larger steps are not applied (resync) */
#define BF_INLINK_AXIS_REST 4096   /* a pad axis beyond this counts as held */

/* Input classes (the sender's --input). */
#define BF_INCLASS_KEYBOARD 0x1u
#define BF_INCLASS_MOUSE 0x2u
#define BF_INCLASS_GAMEPAD 0x4u
#define BF_INCLASS_ALL 0x7u

/* --- client ---------------------------------------------------------------- */

typedef struct bf_inlink_tx_stats {
  uint64_t events;         /* queued */
  uint64_t events_dropped; /* the ring was full (and releases of dropped presses) */
  uint64_t acked;          /* events the sender acknowledged */
  uint64_t datagrams;      /* INPUT datagrams built */
  uint64_t resent;         /* ... that repeated events sent before */
  uint64_t keepalives;     /* ... sent only because something was held */
  uint64_t bad_acks;       /* acknowledgements of events never sent (ignored) */
} bf_inlink_tx_stats;

/* What one INPUT datagram carried, for the caller's latency bookkeeping. */
typedef struct bf_inlink_sent {
  uint32_t snap_seq;  /* its number */
  int changed;        /* its snapshot differs from the previous datagram's */
  uint64_t change_ns; /* ... since the first change it carries */
  uint32_t first_seq; /* events first_seq .. first_seq + n_events - 1 */
  uint32_t n_events;
} bf_inlink_sent;

/* The pointer when an event was queued: a datagram that cannot carry every
 * waiting event carries the pointer as it was at the first one left out. */
typedef struct bf_inlink_at {
  int32_t rel_x, rel_y;
  uint16_t abs_x, abs_y, abs_w, abs_h;
} bf_inlink_at;

typedef struct bf_inlink_tx {
  bf_inev q[BF_INLINK_QUEUE]; /* ring of unacknowledged events */
  bf_inlink_at at[BF_INLINK_QUEUE];
  uint32_t head, n;
  uint32_t first_seq;  /* the sequence of q[head] */
  uint32_t sent_upto;  /* the highest sequence sent at least once (first_seq - 1: none) */
  int release_owed;    /* a release found the ring full */
  bf_inmsg_input snap; /* the current snapshot (counts and events unused) */
  int snap_dirty;      /* changed since the last datagram */
  int snap_unacked;    /* a changed snapshot went out and was not acknowledged yet */
  uint64_t change_ns;
  uint32_t snap_seq; /* the last datagram's number */
  uint32_t snap_acked;
  uint32_t change_seq;                     /* the last datagram whose snapshot had changed */
  uint8_t held_keys[32], dropped_keys[32]; /* bit per HID usage */
  uint8_t held_buttons, dropped_buttons;   /* bit per mouse button */
  uint32_t held_pad[BF_INMSG_PADS], dropped_pad[BF_INMSG_PADS];
  uint64_t last_send_ns;
  uint64_t sent_ns[64]; /* send time by snap_seq & 63, for the round trip */
  uint64_t srtt_ns, rto_ns;
  bf_inlink_tx_stats st;
} bf_inlink_tx;

void bf_inlink_tx_init(bf_inlink_tx *tx);
/* A new session (the control session was set up again): its sender's
 * receiver starts at event 1 (bf_inlink_rx_init) and released what the old
 * one held, so the link starts afresh as bf_inlink_tx_init does; the events
 * the old session never acknowledged are given up (counted in
 * events_dropped) and the counters carry over, as bf_inlink_rx_init's do. */
void bf_inlink_tx_new_session(bf_inlink_tx *tx);

/* Queues event |e| (BF_INEV_*; the encoder's rules for its fields; a mouse
 * button's position is filled in here from the snapshot: the absolute
 * pointer when there is one, else the relative totals). Returns
 * its sequence (never 0), 0 when it was dropped (counted), or -EINVAL. */
int64_t bf_inlink_tx_event(bf_inlink_tx *tx, const bf_inev *e);
/* Focus lost: everything held is released (one RELEASE_ALL event). */
void bf_inlink_tx_release_all(bf_inlink_tx *tx);

/* Snapshot changes at |now_ns|. */
void bf_inlink_tx_motion(bf_inlink_tx *tx, int32_t dx, int32_t dy, uint64_t now_ns);
void bf_inlink_tx_wheel(bf_inlink_tx *tx, int32_t v120, int32_t h120, uint64_t now_ns);
/* |w| = 0: no absolute position. */
void bf_inlink_tx_abs(bf_inlink_tx *tx, uint16_t x, uint16_t y, uint16_t w, uint16_t h,
                      uint64_t now_ns);
void bf_inlink_tx_pad(bf_inlink_tx *tx, unsigned slot, int connected, uint64_t now_ns);
void bf_inlink_tx_pad_axis(bf_inlink_tx *tx, unsigned slot, unsigned axis, int16_t value,
                           uint64_t now_ns);

/* 1 while a key, mouse button or pad button is held (as sent). */
int bf_inlink_tx_holding(const bf_inlink_tx *tx);
/* When the next datagram is due (UINT64_MAX: nothing to send). */
uint64_t bf_inlink_tx_due(const bf_inlink_tx *tx);
/* Builds the next INPUT datagram into |out| when one is due at |now_ns|:
 * its length (|sent| says what it carried), 0 when none is due, or a
 * negative errno. The caller sends it (a datagram the network loses is
 * repeated by the rules above). */
int bf_inlink_tx_build(bf_inlink_tx *tx, uint64_t now_ns, uint8_t *out, size_t cap,
                       bf_inlink_sent *sent);
/* A STATE from the sender arrived at |now_ns|: acknowledged events leave
 * the ring, the round trip is measured. */
void bf_inlink_tx_on_state(bf_inlink_tx *tx, const bf_inmsg_state *st, uint64_t now_ns);
/* The highest rumble_seq applied, acknowledged in the next datagrams. */
void bf_inlink_tx_rumble_ack(bf_inlink_tx *tx, uint32_t rumble_seq);

/* --- sender ---------------------------------------------------------------- */

/* Where the sender's taken input goes; every member may be NULL. Called
 * during bf_inlink_rx_datagram / _release_all / _tick, in order. */
typedef struct bf_inlink_sink {
  void *user;
  void (*key)(void *user, uint16_t usage, int down);    /* HID usage, page 7 */
  void (*button)(void *user, uint8_t button, int down); /* 1..5 */
  void (*motion)(void *user, int32_t dx, int32_t dy);
  void (*abs)(void *user, uint16_t x, uint16_t y, uint16_t w, uint16_t h);
  void (*wheel)(void *user, int32_t v120, int32_t h120); /* steps in 1/120 notch */
  void (*pad)(void *user, unsigned slot, int connected);
  void (*pad_button)(void *user, unsigned slot, uint8_t button, int down);
  void (*pad_axes)(void *user, unsigned slot, const int16_t axis[BF_INMSG_AXES]);
} bf_inlink_sink;

typedef struct bf_inlink_rx_stats {
  uint64_t datagrams;        /* INPUT datagrams taken */
  uint64_t malformed;        /* rejected by the decoder */
  uint64_t events;           /* events taken (in order, once) */
  uint64_t applied;          /* ... of them applied (the rest: filtered, limited, no-ops) */
  uint64_t repeats;          /* events that came again (already taken) */
  uint64_t gaps;             /* datagrams whose events started beyond the next one */
  uint64_t filtered;         /* events and snapshot parts of a class --input does not allow */
  uint64_t rate_dropped;     /* presses and snapshots over the rate limit */
  uint64_t snapshots;        /* snapshots taken */
  uint64_t stale_snapshots;  /* older than the last one taken */
  uint64_t motion_resync;    /* motion or wheel steps too large to apply */
  uint64_t releases;         /* release-everything runs that released something */
  uint64_t silence_releases; /* ... of them for the client's silence */
} bf_inlink_rx_stats;

typedef struct bf_inlink_rx {
  unsigned allow;       /* BF_INCLASS_* */
  uint32_t rate, burst; /* token bucket; 0 = the defaults */
  uint32_t ev_next;     /* the next event sequence to take */
  int have_snap;
  bf_inmsg_input snap; /* the last snapshot taken */
  uint64_t apply_wall_ns;
  uint8_t held_keys[32];
  uint8_t held_buttons;
  uint32_t held_pad[BF_INMSG_PADS];
  uint64_t last_heard_ns;
  uint64_t tokens_milli; /* tokens x 1000 */
  uint64_t token_ns;
  uint16_t rumble[BF_INMSG_PADS][2];
  uint32_t rumble_seq, rumble_acked;
  bf_instamp stamps[BF_INLINK_STAMPS];
  uint32_t n_stamps, stamp_next;
  bf_inlink_rx_stats st;
} bf_inlink_rx;

/* A fresh session that allows |allow| (BF_INCLASS_*). The counters (and
 * |rate|, |burst|) carry over: the first call needs zeroed storage. */
void bf_inlink_rx_init(bf_inlink_rx *rx, unsigned allow, uint64_t now_ns);
/* Takes INPUT datagram |d| that arrived at |now_ns| (monotonic; |wall_ns|:
 * CLOCK_REALTIME, for the STATE's apply_ns). Returns how many new events it
 * brought (>= 0; repeats and stale snapshots are counted, no error), or
 * -EBADMSG (malformed, counted). */
int bf_inlink_rx_datagram(bf_inlink_rx *rx, const uint8_t *d, size_t len, uint64_t now_ns,
                          uint64_t wall_ns, const bf_inlink_sink *sink);
/* Releases every key, button and pad button held and centres the pads'
 * axes (|silence|: counted as a release for the client's silence).
 * Returns 1 when something was released. */
int bf_inlink_rx_release_all(bf_inlink_rx *rx, const bf_inlink_sink *sink, int silence);
/* The session ends: everything released, pads disconnected; the state is
 * fresh for the next session (the counters run on). */
void bf_inlink_rx_end(bf_inlink_rx *rx, const bf_inlink_sink *sink, uint64_t now_ns);
/* The client's silence: releases everything after BF_INLINK_SILENCE_NS
 * without a datagram. Returns 1 when it did. */
int bf_inlink_rx_tick(bf_inlink_rx *rx, uint64_t now_ns, const bf_inlink_sink *sink);
/* When _tick next matters (UINT64_MAX: nothing held). */
uint64_t bf_inlink_rx_deadline(const bf_inlink_rx *rx);
/* 1 while something is held or a pad's axes are off centre. */
int bf_inlink_rx_holding(const bf_inlink_rx *rx);
/* A picture is captured now, its pts |pts_ns|: remember what was taken
 * before it. */
void bf_inlink_rx_stamp(bf_inlink_rx *rx, uint64_t pts_ns);
/* Rumble for pad |slot| (0..3): both motors 0..65535. */
void bf_inlink_rx_set_rumble(bf_inlink_rx *rx, unsigned slot, uint16_t low, uint16_t high);
/* Builds a STATE datagram with |flags| (BF_INSTATE_*) into |out|: its
 * length or a negative errno. */
int bf_inlink_rx_state(const bf_inlink_rx *rx, uint16_t flags, uint8_t *out, size_t cap);

#ifdef __cplusplus
}
#endif

#endif /* BILDFUNK_INPUTLINK_H */
