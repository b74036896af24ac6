/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The data-plane channel: the one object each program uses for its data
 * socket. It owns the socket (a bf_transport), the receive ring, the seal
 * (a sealer for what this side sends, an opener for what it receives) and,
 * on the client, the punch schedule; it sorts every datagram that arrives
 * into exactly one kind and hands it to the handler the program registered
 * for that kind:
 *
 *   socket -> ring -> clear punch? -> open (sealed mode) -> classify
 *          -> handler[kind](bytes, from, now)
 *
 * The handlers are the sans-I/O modules (the reassembler for video, the
 * feedback codec, the audio and input codecs): they see plaintext bytes
 * that point into the ring (valid only during the call; a handler that
 * keeps bytes copies them) and the time the batch was read.
 *
 * Kinds (docs/protocol.md §8 lists the magic bytes): a datagram of
 * BF_CHANNEL_VIDEO_MIN bytes or more is video (spec §1: 40-byte header
 * plus a shard of at least 512 bytes; the reassembler checks the rest).
 * A shorter one is told by its first byte: 0xFB feedback, 0xA0 audio, 0xB0
 * input; an unknown first byte on a datagram of at least 40 bytes still
 * goes to the video handler (which rejects it with a named reason, as it
 * always did), anything else is garbage. The punch (spec §7) is clear in
 * every mode: the 8 bytes "PFpunch1" (in clear mode: any datagram that
 * starts with them), recognised before anything is opened.
 *
 * Sealed mode (spec §6): bf_channel_seal() keys a fresh sealer and opener
 * from the 32-byte session secret. Every datagram but the punch is then
 * opened in place before it is classified (drops are counted by the
 * opener) and everything sent but the punch is sealed. With
 * cfg.require_seal (the sender in control mode) a channel without keys
 * drops every datagram but the punch (counted as `unsealed`).
 *
 * Receive offload: on a transport opened with UDP GRO on (bf_udp_config.gro
 * and a kernel that has it: t->stats.gro_active) the ring is made of GRO
 * buffers (32 x 64 KiB) and one read takes a train of equal-size datagrams
 * the kernel coalesced; the transport's split path hands each one to the
 * classifier as its own datagram, so a train of equal-size feedback, audio
 * or input datagrams is classified one by one like any other. Without GRO
 * (the transport's choice: bf_udp_config.gro = 0, an older kernel, another
 * transport) the ring is the recvmmsg ring. stats.gro says which.
 *
 * Memory: the ring (128 x 9217 bytes, or 32 x 64 KiB with GRO) at
 * creation; with sealing, one
 * scratch area for a sealed burst (burst_max x (max_plain + 24) bytes) per
 * key; nothing per datagram. Latency: none added — a batch is handled as
 * soon as it is read, and nothing queues on the send side (a datagram is in
 * the kernel or counted as dropped when a send returns).
 *
 * Threads: one thread uses a channel, unless cfg.send_threads: then a
 * second thread may send (the sender's audio thread, which cannot wait for
 * a video encode): bf_channel_send, _send_burst, _set_peer, _seal,
 * _unseal, _renew_opener and _stats_get take one mutex around what they
 * touch (the sealer, the peer, the send counters), so every datagram is
 * sealed with its own seq exactly once and goes to the peer of the moment.
 * Receiving stays on one thread. Cost: an uncontended lock per send call
 * (~20 ns); a sender waits at most for the other's seal and send call (a
 * video burst: tens of microseconds). Not sans-I/O itself — it is the
 * socket edge; its clock comes in through cfg.now, so tests drive time.
 *
 * Relay (docs/protocol.md 13.2): bf_channel_relay_start() makes a TURN
 * allocation (turn.h) on the channel's own socket. Datagrams from the TURN
 * server's address are unwrapped before everything above (ChannelData and
 * Data indications in place: the payload is then opened and classified
 * like a direct datagram, from = the relay peer; STUN answers feed the
 * TURN client). Once bf_channel_relay_use() made the relay the path, the
 * first peer datagram that comes through it names the relay peer (a
 * channel is bound to it), and every send goes to the server, sealed and
 * wrapped: the 4-byte ChannelData header in front (room reserved in the
 * seal scratch: nothing copied), or a Send indication for a small datagram
 * before the channel is bound. The relay is never the path in clear mode:
 * bf_channel_relay_use() needs keys. Cost per relayed datagram: one address
 * compare and a channel lookup among 8.
 */
#ifndef BILDFUNK_CHANNEL_H
#define BILDFUNK_CHANNEL_H

#include <bildfunk/common.h>
#include <bildfunk/punch.h>
#include <bildfunk/seal.h>
#include <bildfunk/transport.h>
#include <bildfunk/wire.h>

#ifdef __cplusplus
extern "C" {
#endif

/* First bytes of the datagram kinds that are not video (spec §8). */
#define BF_MAGIC_FEEDBACK 0xFBu /* = BF_FB_MAGIC, feedback.h */
#define BF_MAGIC_AUDIO 0xA0u
#define BF_MAGIC_INPUT 0xB0u
/* Datagrams this long or longer are video: header + the smallest shard. */
#define BF_CHANNEL_VIDEO_MIN (BF_HEADER_BYTES + BF_MIN_SHARD)
/* Every other kind stays below it, sealed or not. */
#define BF_CHANNEL_MSG_MAX (BF_CHANNEL_VIDEO_MIN - 1u)

typedef enum bf_dkind {
  BF_DKIND_GARBAGE = 0, /* too short, or an unknown first byte */
  BF_DKIND_PUNCH,       /* spec §7, always clear */
  BF_DKIND_VIDEO,       /* spec §1 */
  BF_DKIND_FEEDBACK,    /* 0xFB: feedback.h (loss, keyframe, clock, bye) */
  BF_DKIND_AUDIO,       /* 0xA0: sound, sender -> client */
  BF_DKIND_INPUT,       /* 0xB0: input events and their acknowledgements */
  BF_DKIND_COUNT_
} bf_dkind;

/* "video", "feedback", ... */
const char *bf_dkind_name(bf_dkind k);

/* Which kind plaintext bytes |d| (|len|) are, after any opening; the punch
 * is recognised separately (bf_is_punch) because it is never sealed. Pure;
 * reads at most d[0]. */
bf_dkind bf_dgram_classify(const uint8_t *d, size_t len);

typedef enum bf_channel_role {
  BF_CHANNEL_CLIENT = 0, /* seals c2s, opens s2c, punches the sender */
  BF_CHANNEL_SENDER = 1, /* seals s2c, opens c2s, takes punches */
} bf_channel_role;

/* A handler: |d| points into the channel's ring (plaintext, valid during
 * the call), |from| is the datagram's source, |now_ns| the batch's time. */
typedef void (*bf_channel_fn)(void *user, const uint8_t *d, size_t len, const bf_addr *from,
                              uint64_t now_ns);

typedef struct bf_channel_config {
  bf_channel_role role;
  uint64_t (*now)(void); /* the program's clock, ns (read once per batch) */
  /* 1: drop datagrams from any address but the peer's (counted foreign)
   * before opening them; the client, which knows its sender. */
  int only_from_peer;
  /* 1: without keys, everything but the punch is dropped (unsealed). */
  int require_seal;
  /* 1: the client's punch schedule runs (bf_channel_tick sends them):
   * spec §7's 15 fast punches, then a keepalive every 2 s. */
  int punch;
  /* Sealed bursts: at most |burst_max| datagrams of at most |max_plain|
   * plaintext bytes per bf_channel_send_burst (0 = 64 and BF_SEAL_MAX_PLAIN). */
  size_t burst_max;
  size_t max_plain;
  /* Receive ring buffers, 0 = BF_RECV_BATCH (128 x 9217 bytes), or with
   * GRO BF_RECV_GRO_BATCH (32 x 64 KiB). */
  size_t ring_count;
  /* 1: a second thread sends too (see Threads above): sends, peer and keys
   * under one mutex. */
  int send_threads;
} bf_channel_config;

/* Every datagram read ends in exactly one of: a kind's handler
 * (by_kind[k] - unhandled[k]), unhandled (a kind nobody registered),
 * foreign, unsealed, or an opener drop (bf_channel_seal_stats). */
typedef struct bf_channel_stats {
  uint64_t datagrams; /* read from the socket */
  uint64_t batches;   /* receive calls that returned data */
  uint64_t by_kind[BF_DKIND_COUNT_];
  uint64_t unhandled[BF_DKIND_COUNT_];
  uint64_t foreign;      /* only_from_peer: from another address */
  uint64_t unsealed;     /* require_seal and no keys: not opened */
  uint64_t sent;         /* datagrams the kernel took (all kinds) */
  uint64_t send_dropped; /* send buffer full / transient error / seal failure */
  uint64_t sealed;       /* datagrams sealed */
  uint64_t seal_failed;  /* ... and failed to seal (not sent) */
  uint64_t punches_sent;
  int gro; /* 1: the ring takes GRO reads (coalesced trains split) */
} bf_channel_stats;

typedef struct bf_channel bf_channel;

/* Creates a channel over |t| (owned by the channel from then on, also on
 * failure; its peer, if set, is where sends go). Returns 0, -EINVAL or
 * -ENOMEM. */
int bf_channel_new(const bf_channel_config *cfg, bf_transport *t, bf_channel **out);

/* Frees everything (keys wiped), closes the transport, clears |*c|. */
void bf_channel_del(bf_channel **c);

/* Registers |fn| (NULL = none: that kind is counted as unhandled) for
 * |kind| with its |user| pointer. */
void bf_channel_on(bf_channel *c, bf_dkind kind, bf_channel_fn fn, void *user);

/* Keys the seal from the 32-byte session secret (a control session's TLS
 * exporter output, or a key file): a fresh sealer whose first seq is
 * |first_seq| and a fresh opener with an empty replay window. The previous
 * keys are wiped; their opener's counters carry over. 0 or negative errno
 * (-ENOTSUP in a build without OpenSSL). */
int bf_channel_seal(bf_channel *c, const uint8_t secret[32], uint64_t first_seq);
/* Forgets the keys (wiped); counters carry over. Clear mode again, or, with
 * require_seal, nothing but punches is taken. */
void bf_channel_unseal(bf_channel *c);
/* A fresh replay window for the same keys (sealed direct mode, where each
 * new client starts its seqs from its own clock). 0 or negative errno. */
int bf_channel_renew_opener(bf_channel *c);
int bf_channel_sealed(const bf_channel *c);

/* Where sends go (copied; NULL clears it) and where only_from_peer takes
 * datagrams from. */
void bf_channel_set_peer(bf_channel *c, const bf_addr *peer);
const bf_addr *bf_channel_peer(const bf_channel *c);

/* Reads up to |max_batches| batches and hands every datagram to its
 * handler. Returns the datagrams read (0 = nothing was pending) or a
 * negative errno for a socket failure. */
int bf_channel_receive(bf_channel *c, size_t max_batches);
/* The last time (cfg.now) the socket was seen empty: everything that
 * reached it before was read. 0 = never. */
uint64_t bf_channel_drained_ns(const bf_channel *c);

/* One datagram (any kind but video bursts) to the peer, or to |to| when
 * not NULL; sealed in sealed mode. 1 sent, 0 dropped (counted), negative
 * errno for a real failure. */
int bf_channel_send(bf_channel *c, const uint8_t *d, size_t len, const bf_addr *to);
/* A burst of up to cfg.burst_max datagrams of equal size (the last may be
 * shorter) to the peer: sealed into the channel's scratch in sealed mode
 * (one AES-GCM pass each; the burst keeps equal sizes, so GSO applies),
 * then sent with segmentation offload when |gso|, else batched. |d| is
 * rewritten in place. Returns how many the kernel took (the rest are
 * counted drops) or a negative errno. */
int bf_channel_send_burst(bf_channel *c, bf_dgram *d, size_t n, int gso);

/* Client: the punch schedule from the start again (a new session on the
 * same socket, e.g. after a reconnect): the fast punches first. */
void bf_channel_punch_restart(bf_channel *c, uint64_t now_ns);
/* Client: sends the punch when the schedule says so at |now_ns|. */
void bf_channel_tick(bf_channel *c, uint64_t now_ns);
/* When bf_channel_tick next has work (UINT64_MAX: never). */
uint64_t bf_channel_next_due(const bf_channel *c);

/* The descriptor to poll for POLLIN (-1: none, e.g. a loopback pair: use
 * bf_transport_wait on bf_channel_transport). */
int bf_channel_fd(const bf_channel *c);
bf_transport *bf_channel_transport(bf_channel *c);

/* Sends the clear punch (spec §7) to |to| (the sender greets a client's
 * relayed address with it: the relay then names the sender's mapping to the
 * client). 1 sent, 0 dropped, negative errno. */
int bf_channel_punch_to(bf_channel *c, const bf_addr *to);

/* ---- relay (docs/protocol.md 13.2) --------------------------------------- */

typedef struct bf_channel_relay_config {
  bf_addr server;          /* the TURN server, resolved */
  const char *server_name; /* "HOST:PORT" for messages (copied) */
  const char *user, *pass; /* long-term credentials ... */
  const char *secret;      /* ... or a TURN REST secret (|user| optional) */
  uint64_t unix_time_s;    /* REST: the wall clock now */
} bf_channel_relay_config;

typedef enum bf_channel_relay_state {
  BF_CHANNEL_RELAY_NONE = 0,   /* no relay configured */
  BF_CHANNEL_RELAY_ALLOCATING, /* Allocate in flight */
  BF_CHANNEL_RELAY_ALLOCATED,  /* relayed address known */
  BF_CHANNEL_RELAY_FAILED,     /* refused, unanswered or lost: |error| says why */
} bf_channel_relay_state;

typedef struct bf_channel_relay_status {
  bf_channel_relay_state state;
  int permitted;                 /* bf_channel_relay_permit answered */
  int active;                    /* the relay is the path (bf_channel_relay_use) */
  int bound;                     /* a channel is bound to the relay peer */
  bf_addr relayed, mapped, peer; /* len 0 until known */
  char server_name[256];
  char error[256];
  uint64_t rx;          /* peer datagrams unwrapped */
  uint64_t tx;          /* datagrams sent through the relay */
  uint64_t indications; /* ... of them as Send indications */
  uint64_t no_peer;     /* sends dropped: no relay peer yet */
  uint64_t other_peer;  /* relayed datagrams from another peer, dropped */
  uint64_t stun_bad;    /* from the server: neither STUN nor ChannelData, or unmatched */
  /* stale allocations of this socket's address the server still held
   * (437 to Allocate: this program before a crash) released before the
   * allocation (bildfunk/turn.h) */
  uint64_t stale_released;
} bf_channel_relay_status;

/* Creates the TURN client on the channel's socket and starts the
 * allocation at |now_ns|. 0, -EALREADY, -EINVAL (no credentials),
 * -ENOTSUP (a build without OpenSSL), -ENOMEM. */
int bf_channel_relay_start(bf_channel *c, const bf_channel_relay_config *cfg, uint64_t now_ns);
/* Permits |ip|'s datagrams on the allocation (the other side's public
 * IP; the port does not matter). 0, -EAGAIN (not allocated), -ENOENT (no
 * relay). */
int bf_channel_relay_permit(bf_channel *c, const bf_addr *ip, uint64_t now_ns);
/* Makes the relay the path (see Relay above). 0, -ENOENT (no relay),
 * -EAGAIN (not allocated), -EPERM (no keys: never clear through a relay). */
int bf_channel_relay_use(bf_channel *c);
/* The relay is the path no more: sends go to the channel's peer directly
 * again, the relay peer is forgotten (the allocation stays, for the next
 * bf_channel_relay_use). */
void bf_channel_relay_leave(bf_channel *c);
void bf_channel_relay_status_get(const bf_channel *c, bf_channel_relay_status *st);

void bf_channel_stats_get(const bf_channel *c, bf_channel_stats *st);
/* The opener's drop counters over every key this channel had; returns 1 in
 * sealed mode (keys now or before), 0 (and zeros) otherwise. */
int bf_channel_seal_stats(const bf_channel *c, bf_opener_stats *st);

#ifdef __cplusplus
}
#endif

#endif /* BILDFUNK_CHANNEL_H */
