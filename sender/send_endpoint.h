/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The sender's data endpoint: its end of the data-plane channel
 * (bildfunk/channel.h: the data socket, the receive ring, the seal), with
 * the data-plane session (send_session.h) deciding what each datagram means.
 *
 * Receiving: bf_send_endpoint_receive() reads one batch; the channel sorts
 * every datagram into a kind. Punches and feedback go to the session, and
 * so do the kinds a sender does not take (video, audio, garbage): the
 * session counts those as garbage, as it always did. Input datagrams go to
 * the handler the input stage registers (bf_send_endpoint_on_input; until
 * then they are the session's garbage too). What the session
 * decides is acted on in two places:
 *   - on the wire, at once, here: where sends go (a new client, a
 *     re-target, a BYE), a fresh replay window for a new client in sealed
 *     direct mode, the BYE (replaced) to the address a client left, and the
 *     PONG for a CLOCK_PING (t2 = when its batch was read);
 *   - by the stream, after the batch: ADOPT, RETARGET, KEYFRAME, LOSS and
 *     BYE are queued as events for the loop (bf_send_endpoint_next_event).
 *     The queue holds one batch's events (at most one per datagram,
 *     BF_SEND_EP_EVENTS, so it never overflows) and the loop empties it
 *     right after each batch: no latency beyond the rest of that batch.
 *
 * Audio REQUESTs from the client (direct mode's way to ask for sound) are
 * noted here (audio_request_ns), not passed to the session.
 *
 * Sending: the paced video bursts (bf_send_endpoint_burst, sealed into the
 * channel's scratch), BYE, PONG and FRAME_INFO (feedback messages); the
 * audio thread sends through the same channel (send_audio.h).
 *
 * Not here: what the stream does on those events (send_video.h,
 * send_adapt.h), the control session that supplies the keys (send_ctl.h),
 * pacing. Keys: a control session's secret (control mode, require_seal:
 * without keys only punches are taken) or the --seal-key-file secret
 * (sealed direct mode), both through bf_send_endpoint_key().
 *
 * Ownership: the endpoint owns the channel, and through it the socket,
 * from _open to _close; the session is the caller's, borrowed for the
 * endpoint's life. The struct is the caller's storage. One thread.
 */
#ifndef BF_SENDER_SEND_ENDPOINT_H
#define BF_SENDER_SEND_ENDPOINT_H

#include "send_session.h"

#include <bildfunk/channel.h>
#include <bildfunk/feedback.h>

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Events of one batch: one datagram makes at most one. */
#define BF_SEND_EP_EVENTS BF_RECV_BATCH
/* Copies of each BYE sent (feedback is not retransmitted). */
#define BF_SEND_EP_BYE_REPEAT 3

typedef struct bf_send_event {
  bf_ss_event type; /* BF_SS_ADOPT, _RETARGET, _KEYFRAME, _LOSS, _BYE */
  bf_addr from;     /* the datagram's source: the client's new address
                       (ADOPT, RETARGET) or who said BYE */
  bf_addr old_peer; /* RETARGET: where the client was */
  bf_feedback fb;   /* LOSS: the report */
  uint64_t now_ns;  /* when its batch was read (monotonic) */
} bf_send_event;

typedef struct bf_send_endpoint_config {
  const char *bind;     /* data port, "[host]:port" */
  int gso;              /* segmentation offload for the bursts (off: offload disabled) */
  int require_seal;     /* control mode: nothing but punches without keys */
  unsigned shard_bytes; /* the largest shard the sender sends (S) */
  size_t burst_max;     /* the most datagrams one burst may have */
  int send_threads;     /* the audio thread sends too (channel.h cfg.send_threads) */
} bf_send_endpoint_config;

typedef struct bf_send_endpoint {
  bf_channel *ch;
  bf_send_session *ss; /* borrowed */
  int require_seal;
  bf_send_event ev[BF_SEND_EP_EVENTS]; /* this batch's events, in order */
  size_t ev_n, ev_next;
  uint64_t batch_ns, batch_realtime_ns; /* when the current batch was read */
  uint64_t pongs_sent, byes_sent, frame_infos_sent;
  /* direct mode: the client asks for sound with audio REQUEST datagrams
   * (docs/protocol.md 8.2); only the peer's count */
  uint64_t audio_request_ns; /* the last one (batch time), 0 = none */
  uint64_t audio_requests;
  int failed; /* a new client's replay window could not be set up */
} bf_send_endpoint;

/* Opens the data socket per |cfg| into |e| and takes datagrams to |ss|.
 * Returns 0 or a negative errno with a one-line reason in |err|. */
int bf_send_endpoint_open(bf_send_endpoint *e, const bf_send_endpoint_config *cfg,
                          bf_send_session *ss, char *err, size_t cap);
/* Closes the socket and wipes any keys. Safe on a zeroed or closed |e|. */
void bf_send_endpoint_close(bf_send_endpoint *e);

/* Keys the seal from a 32-byte |secret| (read only during the call); the
 * first seq is the wall clock in ns, so a restarted sender with the same
 * key never reuses a nonce. 0 or a negative errno (-ENOTSUP without
 * OpenSSL). */
int bf_send_endpoint_key(bf_send_endpoint *e, const uint8_t secret[32]);
/* Forgets the keys (wiped; the opener's counters carry over). */
void bf_send_endpoint_unkey(bf_send_endpoint *e);

/* Reads one batch and hands it to the session (see above). Returns the
 * datagrams read, 0 when nothing was pending, or a negative errno. */
int bf_send_endpoint_receive(bf_send_endpoint *e);
/* Takes the next queued event into |out|: 1, or 0 when there is none. */
int bf_send_endpoint_next_event(bf_send_endpoint *e, bf_send_event *out);

/* Where bursts, PONGs and BYEs go (copied; NULL: nowhere). */
void bf_send_endpoint_set_peer(bf_send_endpoint *e, const bf_addr *peer);
/* Sends BYE with |reason| (BF_BYE_*) BF_SEND_EP_BYE_REPEAT times to |to|,
 * or to the peer when NULL. */
void bf_send_endpoint_bye(bf_send_endpoint *e, uint32_t reason, const bf_addr *to);
/* Sends FRAME_INFO (once: it is not repeated) to the peer: AU |frame_index|
 * took |host_us| from capture to its last packet handed to the kernel. */
void bf_send_endpoint_frame_info(bf_send_endpoint *e, uint32_t frame_index, uint32_t host_us);
/* Sends |n| video datagrams of |d| (rewritten in place) to the peer; see
 * bf_channel_send_burst. Returns how many the kernel took or a negative
 * errno. */
int bf_send_endpoint_burst(bf_send_endpoint *e, bf_dgram *d, size_t n, int gso);

/* Input datagrams (0xB0) go to |fn| with |user| from now on (the input
 * stage, send_input.h: it decides who may). */
void bf_send_endpoint_on_input(bf_send_endpoint *e, bf_channel_fn fn, void *user);
/* One datagram that is not video (an input STATE) to the peer, sealed in
 * sealed mode: 1 sent, 0 dropped (counted), negative errno. */
int bf_send_endpoint_send(bf_send_endpoint *e, const uint8_t *d, size_t len);

/* The descriptor to poll for POLLIN. */
int bf_send_endpoint_fd(const bf_send_endpoint *e);
/* The socket (for its address and statistics). */
bf_transport *bf_send_endpoint_transport(const bf_send_endpoint *e);

#ifdef __cplusplus
}
#endif

#endif /* BF_SENDER_SEND_ENDPOINT_H */
