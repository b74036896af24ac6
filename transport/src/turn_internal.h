/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Internal: the TURN client's object and the functions its files share
 * (turn.c the state machine, turn_auth.c credentials, turn_data.c the
 * data path). Not installed; bf__ names.
 */
#ifndef BF__TURN_INTERNAL_H
#define BF__TURN_INTERNAL_H

#include <bildfunk/turn.h>

#define NS 1000000000ull
#define DEFAULT_RTO_NS (500ull * 1000000ull)
#define DEFAULT_MAX_TX 7u
#define RM 16u                     /* RFC 8489 §6.2.1: wait Rm x RTO after the last send */
#define PERM_REFRESH_NS (240 * NS) /* permissions live 300 s */
#define CHAN_REFRESH_NS (540 * NS) /* channel bindings live 600 s */
#define MAX_STALE 3u
/* After releasing the allocation a 437 to Allocate met: Allocate again
 * 1.5 s later (coturn lets a released allocation live on for its minimum
 * lifetime, 1 s, deletes it on its next timer tick, and answers 437
 * meanwhile), up to 3 times. */
#define MISMATCH_SETTLE_NS (1500ull * 1000000ull)
#define MISMATCH_TRIES 3u
#define EVQ 16u
#define DEFAULT_REST_TTL 86400u

typedef struct req {
  int used;
  uint16_t method;
  int idx;           /* permission or channel slot, -1 */
  uint32_t lifetime; /* Refresh: 0 releases */
  int auth;          /* carries credentials */
  unsigned stale;    /* 438 retries so far */
  int release_437;   /* Refresh(0) of the allocation an Allocate's 437 met */
  unsigned sent;
  uint64_t first_ns; /* first send */
  uint64_t next_ns;  /* next send, or the timeout after the last */
  uint64_t rto_ns;
  uint8_t txid[BF_STUN_TXID_BYTES];
  size_t len;
  uint8_t buf[BF_TURN_REQ_MAX];
} req;

/* A permission (IP) or a channel (IP and port). */
typedef struct binding {
  int used;
  int ready;    /* confirmed by the server at least once */
  int inflight; /* a request for it is out */
  int announce; /* raise an event when first ready */
  uint16_t number;
  bf_addr addr;
  uint64_t refresh_ns;
} binding;

struct bf_turn {
  bf_turn_config cfg; /* its strings point into this object */
  bf_turn_state state;
  char user[BF_TURN_USER_MAX + 32];
  char pass[BF_TURN_USER_MAX];
  char software[64];
  int rest;
  uint8_t realm[BF_TURN_REALM_MAX];
  size_t realm_len;
  uint8_t nonce[BF_TURN_NONCE_MAX];
  size_t nonce_len;
  uint8_t algs[64]; /* PASSWORD-ALGORITHMS as the server sent it, echoed */
  size_t algs_len;
  bf_stun_alg alg;
  uint8_t key[BF_STUN_KEY_MAX];
  size_t key_len; /* 0 = no credentials yet */
  bf_addr relayed, mapped;
  int have_relayed, have_mapped;
  uint32_t lifetime_s;
  uint64_t expires_ns, refresh_ns;
  int refresh_inflight;
  int mismatch_tried;       /* this Allocate met a 437: the stale allocation released */
  unsigned mismatch_allocs; /* Allocates sent after that release */
  uint16_t next_channel;
  req reqs[BF_TURN_MAX_REQUESTS];
  binding perms[BF_TURN_MAX_PERMS];
  binding chans[BF_TURN_MAX_CHANNELS];
  bf_addr ind_peer; /* the peer of the last Data indication */
  bf_turn_event evq[EVQ];
  size_t ev_head, ev_n;
  bf_turn_stats st;
};

/* TURN REST credentials from |cfg| into t->user and t->pass. 0 or
 * negative errno. */
int bf__turn_rest_credentials(bf_turn *t, const bf_turn_config *cfg);
/* A fresh transaction id. 0 or -EIO (no randomness). */
int bf__turn_new_txid(bf_turn *t, uint8_t txid[BF_STUN_TXID_BYTES]);
/* USERNAME ... integrity, appended to |b|. */
void bf__turn_put_credentials(bf_turn *t, bf_stun_builder *b);
/* REALM, NONCE, PASSWORD-ALGORITHMS of a 401 or 438; derives the key. */
int bf__turn_take_challenge(bf_turn *t, const bf_stun_msg *m);
/* ChannelData and Data indications (bf_turn_read's data path). */
int bf__turn_channel_data(bf_turn *t, uint8_t *d, size_t len, bf_turn_data *data);
int bf__turn_indication(bf_turn *t, uint8_t *d, const bf_stun_msg *m, bf_turn_data *data);

#endif /* BF__TURN_INTERNAL_H */
