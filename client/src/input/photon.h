/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Input-to-photon latency: how long an input takes from the client to the
 * screen, measured on the client for every key, button and pad button
 * event and every change of the pointer, wheel or pad axes it sends.
 *
 *   an input      is stamped when the client takes it from the window
 *                 system (an event: its sequence; a snapshot change: the
 *                 first change a datagram carries, by the datagram's number)
 *   the sender    says, for each picture it captures (by the picture's pts),
 *                 which events and snapshot it had applied before the
 *                 capture (the STATE datagrams' stamps, inputlink.h)
 *   the photon    is the first picture presented whose stamp covers the
 *                 input: present time - input time is one sample
 *
 * Also the input-to-apply time: when the sender applied a datagram (its
 * CLOCK_REALTIME, on the client's clock through the clock offset) minus
 * when the client sent it: the network and the wait in the sender's loop
 * (an encode in progress).
 *
 * Statistics: every sample of the session in a histogram of 0.1 ms bins up
 * to 2 s (percentiles exact to 0.1 ms; longer samples count in the last
 * bin, and max keeps their value), and the last 256 for the overlay.
 *
 * Memory: one heap object of about 260 KiB (rings of 4096 inputs and
 * snapshots, the histograms), made at start; nothing per input. Sans-I/O:
 * time passed in. One thread.
 */
#ifndef BF_CLIENT_INPUT_PHOTON_H
#define BF_CLIENT_INPUT_PHOTON_H

#include <bildfunk/inputlink.h>

#include <stddef.h>
#include <stdint.h>

#define BF_PHOTON_RING 4096u
#define BF_PHOTON_STAMPS 128u
#define BF_PHOTON_BIN_NS 100000ull /* 0.1 ms */
#define BF_PHOTON_BINS 20000u      /* up to 2 s */
#define BF_PHOTON_RECENT 256u

typedef struct bf_photon_view {
  uint64_t n;
  double p50_ms, p95_ms, p99_ms, max_ms, mean_ms;
} bf_photon_view;

typedef struct bf_photon bf_photon;

/* 0 or -ENOMEM. */
int bf_photon_new(bf_photon **out);
void bf_photon_del(bf_photon **p);

/* Event |seq| was taken from the window system at |t_ns|. */
void bf_photon_event(bf_photon *p, uint32_t seq, uint64_t t_ns);
/* An INPUT datagram went out at |send_ns| carrying |s|. */
void bf_photon_sent(bf_photon *p, const bf_inlink_sent *s, uint64_t send_ns);
/* A STATE from the sender: its stamps, and the apply time of its snapshot
 * acknowledgement (|offset_ns|: the sender's clock minus the client's). */
void bf_photon_state(bf_photon *p, const bf_inmsg_state *st, int64_t offset_ns);
/* The picture captured at |pts_ns| (the sender's clock) was presented at
 * |present_ns|: the inputs it is the first to show become samples. */
void bf_photon_present(bf_photon *p, uint64_t pts_ns, uint64_t present_ns);

/* Input-to-photon over the session / the last BF_PHOTON_RECENT samples. */
void bf_photon_session(const bf_photon *p, bf_photon_view *v);
void bf_photon_recent(const bf_photon *p, bf_photon_view *v);
/* Input-to-apply over the session. */
void bf_photon_apply(const bf_photon *p, bf_photon_view *v);
/* Inputs taken that no presented picture showed (yet). */
uint64_t bf_photon_pending(const bf_photon *p);

#endif
