/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * TURN client (RFC 8656) over UDP: the state machine of one allocation on
 * one TURN server, sans-I/O. The caller owns the socket and the clock: it
 * feeds what arrives from the server (bf_turn_read, with the time), sends
 * what bf_turn_write hands out, waits until bf_turn_next_due, and takes
 * events (bf_turn_poll_event). Nothing here reads a clock, opens a socket
 * or allocates after bf_turn_new.
 *
 * What it does:
 * - Allocate with the long-term credential mechanism: the first request
 *   goes without credentials, the server's 401 brings REALM and NONCE, the
 *   request is repeated with USERNAME, REALM, NONCE and MESSAGE-INTEGRITY
 *   (MESSAGE-INTEGRITY-SHA256 when the server offers SHA-256 in
 *   PASSWORD-ALGORITHMS). A 438 (stale nonce) is retried with the new
 *   nonce, up to 3 times per request; a 401 to a request that carried
 *   credentials is final ("wrong user name or password"). Credentials are
 *   a user and password, or a TURN REST shared secret: user name
 *   "<expiry>:<user>", password base64(HMAC-SHA1(secret, user name)),
 *   expiry = the wall clock the caller passes + the credential's lifetime.
 * - CreatePermission (per peer IP, refreshed every 4 min, the permission
 *   lives 5), ChannelBind (per peer address, channels 0x4000 + i, refreshed
 *   every 9 min, a binding lives 10; it also refreshes the IP's
 *   permission), Refresh of the allocation 60 s before its lifetime ends
 *   (half way for lifetimes under 2 min), and Refresh with lifetime 0 to
 *   release it.
 * - A 437 (Allocation Mismatch) to Allocate: the server still holds an
 *   allocation for this 5-tuple (this program before a crash: the relay
 *   lives on the fixed data port). The client releases it (Refresh with
 *   lifetime 0, the same credentials; no EV_RELEASED) once per
 *   bf_turn_allocate and sends a new Allocate 1.5 s later (coturn deletes
 *   a released allocation about a second after answering), up to 3 times;
 *   a refused or unanswered release, or a third 437, is the error (code
 *   437, -EADDRINUSE); a 437 to the release itself (nothing left to
 *   release) is followed by the Allocate at once.
 * - Binding requests (no credentials) so a side learns its server-reflexive
 *   address; Allocate's answer carries it too.
 * - Retransmission per RFC 8489 §6.2.1: RTO 500 ms doubling, 7 sends, the
 *   request fails 16 RTO after the last (39.5 s in all).
 * - Peer data: ChannelData (a 4-byte header: channel, length) and Data
 *   indications are unwrapped without copying: bf_turn_read points into the
 *   caller's datagram. Sends: bf_turn_channel_header writes the 4 bytes a
 *   caller puts in front of its datagram (no padding over UDP, RFC 8656
 *   §12.5), so wrapping copies nothing; bf_turn_send_indication copies the
 *   payload once (the fallback before a channel is bound).
 *
 * Trust: responses are matched by their random 96-bit transaction id;
 * success responses to requests with credentials count only with a valid
 * integrity attribute (they carry addresses and lifetimes). The caller
 * feeds bf_turn_read only datagrams whose source is the server's address.
 *
 * Memory: one object of about 22 KiB (8 request slots of 1 KiB kept for
 * retransmission, 8 permissions, 8 channels, 16 queued events). Latency: no
 * queue on the data path; events wait in a bounded queue until polled
 * (overflow is counted, the newest is dropped).
 *
 * Needs OpenSSL (built with BF_SEAL, like seal.c).
 */
#ifndef BILDFUNK_TURN_H
#define BILDFUNK_TURN_H

#include <bildfunk/stun.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BF_TURN_DEFAULT_PORT 3478u
#define BF_TURN_MAX_PERMS 8u
#define BF_TURN_MAX_CHANNELS 8u
#define BF_TURN_MAX_REQUESTS 8u
/* The largest request this client writes (bf_turn_write's |cap|). */
#define BF_TURN_REQ_MAX 1024u
#define BF_TURN_CHANNEL_MIN 0x4000u
#define BF_TURN_CHANNEL_MAX 0x4FFFu
#define BF_TURN_CHANNEL_HEADER 4u
/* Send indication overhead for an IPv4 peer with FINGERPRINT (header 20,
 * XOR-PEER-ADDRESS 12, DATA header 4, FINGERPRINT 8) plus padding 0..3. */
#define BF_TURN_SEND_IND_OVERHEAD 44u
#define BF_TURN_USER_MAX 256u
#define BF_TURN_REALM_MAX 256u
#define BF_TURN_NONCE_MAX 256u

typedef struct bf_turn_config {
  bf_addr server; /* the TURN server (resolved by the caller) */
  /* Long-term credentials (copied; the password is wiped at _del) ... */
  const char *user;
  const char *pass;
  /* ... or a TURN REST shared secret (then |pass| is unused and |user|,
   * which may be NULL, is the part after the colon). */
  const char *secret;
  uint64_t unix_time_s; /* REST: the wall clock now, seconds since 1970 */
  uint32_t rest_ttl_s;  /* REST: credential lifetime, 0 = 86400 */
  uint32_t lifetime_s;  /* allocation lifetime to ask for, 0 = the server's (600) */
  const char *software; /* SOFTWARE attribute, NULL = "bildfunk <version>", "" = none */
  uint64_t rto_ns;      /* first retransmission timeout, 0 = 500 ms */
  unsigned max_tx;      /* sends per request, 0 = 7 */
  int fingerprint;      /* 1: FINGERPRINT on every request and indication */
  /* Randomness for transaction ids; NULL = OpenSSL's RAND_bytes. Tests and
   * the fuzzer make it deterministic. */
  void (*rand)(void *user, uint8_t *out, size_t n);
  void *rand_user;
} bf_turn_config;

typedef enum bf_turn_state {
  BF_TURN_IDLE = 0,   /* nothing asked for yet */
  BF_TURN_ALLOCATING, /* Allocate in flight */
  BF_TURN_ALLOCATED,  /* relayed address valid, refreshes run */
  BF_TURN_RELEASING,  /* Refresh(0) in flight */
  BF_TURN_RELEASED,   /* deleted on request */
  BF_TURN_FAILED,     /* Allocate failed (event says why) */
  BF_TURN_LOST,       /* the allocation is gone (refresh refused or unanswered) */
} bf_turn_state;

typedef enum bf_turn_event_type {
  BF_TURN_EV_NONE = 0,
  BF_TURN_EV_ALLOCATED,  /* addr = relayed, mapped, lifetime_s */
  BF_TURN_EV_REFRESHED,  /* lifetime_s */
  BF_TURN_EV_MAPPED,     /* Binding answered: mapped */
  BF_TURN_EV_PERMISSION, /* addr = the peer whose IP is now permitted */
  BF_TURN_EV_CHANNEL,    /* addr = peer, channel is bound (usable for sends) */
  BF_TURN_EV_RELEASED,   /* the allocation was deleted (Refresh 0 answered) */
  BF_TURN_EV_ERROR,      /* a request failed: method, code, err, reason; addr = peer */
  BF_TURN_EV_LOST,       /* the allocation is gone: reason */
} bf_turn_event_type;

typedef struct bf_turn_event {
  bf_turn_event_type type;
  uint16_t method; /* the request it answers (BF_STUN_ALLOCATE, ...) */
  int code;        /* STUN error code (401, 403, 437, 438, 486, ...) or 0 */
  int err;         /* negative errno: -EACCES (401/441), -ETIMEDOUT, -EPERM (403), ... */
  bf_addr addr;
  bf_addr mapped;
  uint32_t lifetime_s;
  uint16_t channel;
  char reason[256]; /* ERROR, LOST: what failed, in words */
} bf_turn_event;

typedef struct bf_turn_stats {
  uint64_t requests;          /* transactions started */
  uint64_t retransmits;       /* sends after a request's first */
  uint64_t timeouts;          /* requests that got no answer */
  uint64_t auth_retries;      /* 401 -> authenticated retry */
  uint64_t stale_nonce;       /* 438 -> retry with the new nonce */
  uint64_t mismatch_released; /* 437 to Allocate -> stale allocation released */
  uint64_t responses;         /* matched to a request */
  uint64_t unmatched;         /* responses with no request of that id */
  uint64_t bad_integrity;     /* success responses without valid integrity */
  uint64_t malformed;         /* neither STUN nor ChannelData, or broken */
  uint64_t channel_data;      /* ChannelData from a bound channel */
  uint64_t data_ind;          /* Data indications */
  uint64_t unknown_channel;   /* ChannelData on a channel not bound here */
  uint64_t events_dropped;    /* event queue full */
} bf_turn_stats;

typedef struct bf_turn bf_turn;

/* Creates a client for |cfg| (strings copied). Returns 0, -EINVAL (no
 * server, no credentials, a user/password/secret too long) or -ENOMEM. */
int bf_turn_new(const bf_turn_config *cfg, bf_turn **out);
/* Frees |*t| (key and password wiped) and clears the pointer. */
void bf_turn_del(bf_turn **t);

/* Starts the allocation (REQUESTED-TRANSPORT UDP). 0 or -EALREADY. */
int bf_turn_allocate(bf_turn *t, uint64_t now_ns);
/* Asks the server for this socket's mapped address (EV_MAPPED). 0 or
 * -EBUSY (no free request slot). */
int bf_turn_binding(bf_turn *t, uint64_t now_ns);
/* Permits |peer|'s IP on the allocation (EV_PERMISSION) and keeps it
 * permitted. 0, -EAGAIN (not allocated yet), -ENOSPC (8 IPs), -EBUSY. */
int bf_turn_permit(bf_turn *t, const bf_addr *peer, uint64_t now_ns);
/* Binds a channel to |peer| (EV_CHANNEL) and keeps it bound; the IP's
 * permission with it. 0, -EAGAIN, -ENOSPC, -EBUSY. */
int bf_turn_bind_channel(bf_turn *t, const bf_addr *peer, uint64_t now_ns);
/* Deletes the allocation (Refresh with lifetime 0; EV_RELEASED). 0 or
 * -EAGAIN when there is none. */
int bf_turn_release(bf_turn *t, uint64_t now_ns);

/* What bf_turn_read found in a datagram from the server. */
typedef enum bf_turn_rx {
  BF_TURN_RX_CONTROL = 0, /* a STUN message for this client (taken) */
  BF_TURN_RX_DATA = 1,    /* peer data: see bf_turn_data */
} bf_turn_rx;

/* Peer data inside a datagram: |d| points into the caller's bytes (valid
 * as long as they are), |peer| into the client (valid until the next
 * bf_turn_read). */
typedef struct bf_turn_data {
  uint8_t *d;
  size_t len;
  const bf_addr *peer;
  uint16_t channel; /* 0 for a Data indication */
} bf_turn_data;

/* Takes one datagram |d| (|len| bytes) the server sent at |now_ns|.
 * Returns BF_TURN_RX_DATA with |*data| filled, BF_TURN_RX_CONTROL (a
 * response or an indication was handled; events may be queued), or a
 * negative errno for a datagram that is dropped: -EPROTO (neither STUN nor
 * ChannelData), -EBADMSG (malformed, counted), -ENOENT (a response to no
 * request here, ChannelData on an unbound channel). */
int bf_turn_read(bf_turn *t, uint8_t *d, size_t len, uint64_t now_ns, bf_turn_data *data);

/* Runs the timers at |now_ns| (timeouts, refreshes) and writes the next
 * datagram due into |buf| (|cap| >= BF_TURN_REQ_MAX is always enough).
 * Returns its length, with |*to| pointing at where it goes (inside the
 * client), 0 when nothing is due, or -ENOBUFS. Call until it returns 0. */
int bf_turn_write(bf_turn *t, uint64_t now_ns, uint8_t *buf, size_t cap, const bf_addr **to);

/* When bf_turn_write next has work (UINT64_MAX: nothing planned). */
uint64_t bf_turn_next_due(const bf_turn *t);

/* 1 and the oldest event in |ev|, or 0 when there is none. */
int bf_turn_poll_event(bf_turn *t, bf_turn_event *ev);

/* The channel bound to |peer| (and confirmed by the server), or -ENOENT. */
int bf_turn_channel(const bf_turn *t, const bf_addr *peer);

/* The 4-byte ChannelData header for |len| payload bytes on |channel|. */
static inline void bf_turn_channel_header(uint16_t channel, size_t len,
                                          uint8_t hdr[BF_TURN_CHANNEL_HEADER]) {
  hdr[0] = (uint8_t)(channel >> 8);
  hdr[1] = (uint8_t)channel;
  hdr[2] = (uint8_t)(len >> 8);
  hdr[3] = (uint8_t)len;
}

/* Writes a Send indication carrying |d| (|len| bytes, copied) to |peer|
 * into |out|. Returns its length, -ENOBUFS or -EINVAL. */
int bf_turn_send_indication(bf_turn *t, const bf_addr *peer, const uint8_t *d, size_t len,
                            uint8_t *out, size_t cap);

/* What the first bytes of a datagram from the server are (RFC 7983):
 * 1 STUN, 2 ChannelData, 0 neither. Reads at most 20 bytes. */
int bf_turn_demux(const uint8_t *d, size_t len);
#define BF_TURN_DEMUX_STUN 1
#define BF_TURN_DEMUX_CHANNEL 2

bf_turn_state bf_turn_state_get(const bf_turn *t);
/* "allocated", ... */
const char *bf_turn_state_name(bf_turn_state s);
/* The relayed and the mapped (server-reflexive) address, NULL until known. */
const bf_addr *bf_turn_relayed(const bf_turn *t);
const bf_addr *bf_turn_mapped(const bf_turn *t);
/* The user name sent (for a REST secret: "<expiry>:<user>"). */
const char *bf_turn_username(const bf_turn *t);
void bf_turn_stats_get(const bf_turn *t, bf_turn_stats *st);

#ifdef __cplusplus
}
#endif

#endif /* BILDFUNK_TURN_H */
