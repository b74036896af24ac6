/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The client's control connection (issue #6): name resolution, the pins,
 * the user's half of pairing and the messages for the user, around one
 * bf_ctl_conn (bildfunk/ctl_conn.h: the non-blocking TCP connect with a
 * timeout, reads, writes and the library's sans-I/O control session, role
 * BF_TLS_CLIENT, on that socket). The caller's loop polls bf_cctl_fd() for bf_cctl_poll_events(),
 * calls bf_cctl_service() when it is ready or at bf_cctl_deadline(), and
 * reads what happened with bf_cctl_event() and bf_cctl_state().
 *
 * Pins: the sender's certificate is pinned under the name the user typed,
 * HOST[:PORT] exactly as given, lower-cased ("Box:48000" -> "box:48000");
 * "box" and "box:47999" are two names. Identity client-*.pem and the pin
 * store file "senders" live in the config directory.
 * The session runs against an in-memory pin store holding the host's pin
 * (none in pair mode, `bildfunk pair`, so a changed or existing pin does not
 * stop it) and hands a new pin up (BF_CTL_EV_PAIRED); this module writes it
 * to the file only once the pairing succeeded on both sides: the sender's
 * user typed the client's code there, and this side's user typed the
 * sender's code here (bf_cctl_confirm_code). That write is part of setup,
 * before ESTABLISHED is passed on: no video flows yet.
 *
 * Ending: when the session closes, bf_cctl_close_message() gives the
 * one-line explanation for the user (docs/client.md lists them) and the
 * exit code (0 for the sender's normal Bye, else 1).
 *
 * Memory: one heap object (~19 KiB: 16 KiB of it the connection's output
 * buffer) plus the session's (~104 KiB) and OpenSSL's; nothing per message.
 * Blocking: never; connect, read and write are non-blocking (bf_cctl_del()
 * tries to flush the Bye for up to 200 ms). One thread. Needs BF_HAVE_SEAL (OpenSSL 3); without it
 * bf_cctl_open() fails with -ENOTSUP.
 */
#ifndef BF_CLIENT_CTL_CLIENT_H
#define BF_CLIENT_CTL_CLIENT_H

#include <bildfunk/ctl_codec.h>
#include <bildfunk/wire.h>

#include <stddef.h>
#include <stdint.h>

/* Types only: without BF_HAVE_SEAL the library lacks these functions and
 * this module is a stub. */
#include <bildfunk/ctl_session.h>
#include <bildfunk/identity.h>

#define BF_CCTL_CONNECT_NS 5000000000ull /* TCP connect timeout */
#define BF_CCTL_MAX_WIDTH 7680u
#define BF_CCTL_MAX_HEIGHT 4320u
#define BF_CCTL_MAX_FPS 240u
#define BF_CCTL_MTU 1500u
#define BF_CCTL_SHARD_BYTES BF_DEFAULT_SHARD_V4 /* what an MTU of 1500 carries sealed over IPv4 */
#define BF_CCTL_CONFIRM_NS BF_CTL_CODE_ENTRY_NS /* the user's time to type the sender's code */

typedef struct bf_cctl_config {
  const char *target;             /* HOST[:PORT] as the user gave it; default port 47999 */
  const char *config_dir;         /* NULL: bf_config_dir() */
  const char *name;               /* Hello name; NULL: the host name */
  uint16_t max_width, max_height; /* 0: BF_CCTL_MAX_WIDTH x BF_CCTL_MAX_HEIGHT */
  int pair;                       /* 1: pair when there is no pin; 2: `bildfunk pair` (its
                                     Hello carries BF_CTL_CAP_PAIR_ONLY: it will not stream) */
  uint32_t caps;                  /* more Hello caps to ask for: BF_CTL_CAP_INPUT,
                                     BF_CTL_CAP_AUDIO, BF_CTL_CAP_RELAY */
  int relay_room;                 /* 1: the Hello's shard size leaves 4 bytes of the MTU for the
                                     ChannelData header of a relayed path (--turn) */
  uint64_t connect_ns;            /* 0: BF_CCTL_CONNECT_NS */
  uint64_t handshake_ns;          /* 0: the library's BF_CTL_HANDSHAKE_NS */
  uint64_t (*now)(void);          /* the client clock, ns */
  /* Tests: a borrowed identity and pin store instead of the config
   * directory's (both or neither). */
  const bf_identity *id;
  bf_pinstore *pins;
} bf_cctl_config;

typedef enum bf_cctl_state {
  BF_CCTL_CONNECTING = 0, /* TCP connect in progress */
  BF_CCTL_SETUP,          /* TLS, pairing, Hello/Welcome */
  BF_CCTL_ESTABLISHED,    /* Welcome accepted; bf_cctl_welcome() valid */
  BF_CCTL_CLOSED,         /* over; bf_cctl_close_message() says why */
} bf_cctl_state;

/* Why the session closed (beyond the library's Bye reason). */
typedef enum bf_cctl_end {
  BF_CCTL_END_NONE = 0,
  BF_CCTL_END_CONNECT,      /* TCP connect refused / failed / timed out */
  BF_CCTL_END_SESSION,      /* the control session closed (see reason) */
  BF_CCTL_END_CERT_CHANGED, /* the sender's certificate differs from the pin */
  BF_CCTL_END_CLEAR,        /* the Welcome did not seal the data plane */
  BF_CCTL_END_LOCAL,        /* bf_cctl_close() by this program */
  BF_CCTL_END_USER_CODE,    /* pairing: the user typed another code than the
                               sender's, or none in time */
} bf_cctl_end;

typedef struct bf_cctl bf_cctl;

/* Loads the identity and pin store (unless given), resolves cfg->target and
 * starts the TCP connect. Returns 0, or a negative errno with a one-line
 * reason in |err|: -EINVAL malformed target, -ENOENT host not found, an
 * identity / pin store error, or a socket error. */
int bf_cctl_open(const bf_cctl_config *cfg, bf_cctl **out, char *err, size_t errcap);

/* Flushes what is pending without blocking, closes the socket, frees;
 * NULL is fine. */
void bf_cctl_del(bf_cctl **c);

/* The socket (-1 once closed) and the poll() events to wait for. */
int bf_cctl_fd(const bf_cctl *c);
short bf_cctl_poll_events(const bf_cctl *c);
/* When bf_cctl_service() must run next even without socket activity
 * (connect timeout, keepalive, dead peer, handshake); UINT64_MAX: none. */
uint64_t bf_cctl_deadline(const bf_cctl *c);

/* Completes the connect, reads, feeds the session, runs its timers, writes
 * what it has. Never blocks. Call when the fd is ready or the deadline has
 * passed (extra calls are harmless). */
void bf_cctl_service(bf_cctl *c, uint64_t now_ns);

/* Session events in order (SHOW_CODE, PAIRED, ESTABLISHED, MESSAGE,
 * CLOSED): 1 and |*ev|, or 0 when none. */
int bf_cctl_event(bf_cctl *c, bf_ctl_event *ev);

/* Pairing, the other half (docs/security.md): after SHOW_CODE the client's
 * user types the code the sender shows. bf_cctl_awaiting_code() is 1 while
 * that answer is due (BF_CCTL_CONFIRM_NS); bf_cctl_confirm_code() takes the
 * typed line (NULL: the input is closed): 1 it matches (the pin is saved
 * once the sender accepted too; PAIRED and ESTABLISHED are passed on only
 * then), 0 it does not (the session closes with BF_CCTL_END_USER_CODE),
 * -EINVAL nothing is due. Until then the sender is not trusted: no pin is
 * saved and no video is taken. */
int bf_cctl_awaiting_code(const bf_cctl *c);
int bf_cctl_confirm_code(bf_cctl *c, const char *line, uint64_t now_ns);
/* The client's user declines to answer (Esc or the window closed while the
 * code was asked for): the pairing is refused here as a wrong code is, with
 * |why| (copied, e.g. "the pairing was cancelled in the window") in the
 * close message. 0, or -EINVAL when nothing is due. */
int bf_cctl_refuse_code(bf_cctl *c, const char *why, uint64_t now_ns);

bf_cctl_state bf_cctl_state_get(const bf_cctl *c);
bf_cctl_end bf_cctl_end_get(const bf_cctl *c);
/* The Bye reason (bf_ctl_bye_reason) and whether the sender sent it. */
uint32_t bf_cctl_reason(const bf_cctl *c, int *by_peer);

/* Established: the Welcome, the address the TCP connection went to (data
 * goes to its IP and welcome->data_port) as "IP:PORT" text, and the seal
 * secret (32 bytes; wipe your copy). Return 0 or -EAGAIN. */
int bf_cctl_welcome(const bf_cctl *c, bf_ctl_welcome *w);
int bf_cctl_data_addr(const bf_cctl *c, uint16_t data_port, char *out, size_t cap);
int bf_cctl_seal_secret(const bf_cctl *c, uint8_t *out, size_t len);
/* The sender's certificate fingerprint once TLS is up: 0 or -EAGAIN. */
int bf_cctl_peer_fp(const bf_cctl *c, uint8_t fp[BF_FP_BYTES]);

/* "HOST[:PORT]" as given, the pin name (lower-cased) and "HOST:PORT" with
 * the port filled in, for messages. */
const char *bf_cctl_target(const bf_cctl *c);
const char *bf_cctl_pin_name(const bf_cctl *c);
const char *bf_cctl_endpoint(const bf_cctl *c);

/* Sends |m| on the established session (a relay message). 0, -EAGAIN (not
 * established) or the session's error. */
int bf_cctl_send(bf_cctl *c, const bf_ctl_msg *m, uint64_t now_ns);

/* Closes from this side: Bye(|reason|, |text|) is queued and flushed on
 * the next service or bf_cctl_del(). No-op once closed. */
void bf_cctl_close(bf_cctl *c, uint32_t reason, const char *text, uint64_t now_ns);

/* Once closed: the user's one-line message (without "bildfunk: ") into
 * |out| and the exit code (0: the sender's normal Bye, else 1). */
int bf_cctl_close_message(const bf_cctl *c, char *out, size_t cap);

/* The first 16 hex digits of |fp| and a NUL (for messages). */
void bf_cctl_fp_prefix(const uint8_t fp[BF_FP_BYTES], char out[17]);

/* Lower-cases |target| into |out| (the pin name). -ENAMETOOLONG or 0. */
int bf_cctl_pin_name_of(const char *target, char *out, size_t cap);

#endif
