/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The state of one bildfunk-send run, shared by its stages: the setup
 * fills it (send_setup), the loop (send_loop) drives it, the video stage
 * (send_video), the adaptation (send_adapt), the data endpoint
 * (send_endpoint), the control-mode glue (send_ctl) and the statistics
 * (send_stats) each keep their part of it here. It sits below all of them:
 * a plain struct, no functions, so a stage reaches what it needs without
 * reaching into another stage, and returns to the loop when it is done.
 *
 * Ownership: the program's entry (bildfunk_send.c) allocates it zeroed and
 * frees it; everything it points to is opened by bf_send_setup_open and
 * closed by bf_send_setup_close. One thread.
 *
 * Queues: none of ours. An AU is owned by the encoder (or the source, in
 * passthrough) and borrowed by the packetizer until its last burst is
 * sent; a picture is captured only once the previous AU has left, so an
 * AU never waits behind another. The burst array is filled and sent in
 * one step.
 */
#ifndef BF_SENDER_SEND_STATE_H
#define BF_SENDER_SEND_STATE_H

#include "au.h"
#include "ctl_server.h"
#include "enc_guard.h"
#include "encoder.h"
#include "hist.h"
#include "pacer.h"
#include "ratectl.h"
#include "send_audio.h"
#include "send_cli.h"
#include "send_endpoint.h"
#include "send_open.h"
#include "send_relay.h"
#include "send_session.h"
#include "sources.h"

#include <bildfunk/fecctl.h>
#ifdef BF_HAVE_SEAL
#include <bildfunk/identity.h>
#endif
#include <bildfunk/packetizer.h>

#include <stdint.h>
#include <stdio.h>

#define BF_SEND_MAX_AU_BYTES (8u << 20)
#define BF_SEND_IP_UDP_OVERHEAD 28u /* IPv4 + UDP headers, for the rate cap */
#define BF_SEND_BURST 1024u         /* datagrams one burst may have */

typedef struct bf_send_state {
  bf_send_options o;
  /* the video stage */
  bf_source *src;
  bf_source_info sinfo;
  bf_encoder *enc; /* NULL: the source's AUs are passed through */
  bf_encoder_config enc_cfg; /* what it was opened with (the guard reopens it) */
  bf_enc_guard guard;        /* frame-rate guard: faster preset when too slow */
  char guard_preset[16];     /* the preset the guard chose (enc_cfg.preset points here) */
  int guard_pending;         /* a step to do before the next picture: -1, +1 */
  uint64_t guard_switches;   /* steps done */
  bf_packetizer *pk;
  bf_pacer pacer;
  uint32_t au_index;          /* the AU being paced: its frame_index and capture time */
  uint64_t au_pts_ns;         /* (CLOCK_REALTIME), for its FRAME_INFO after the last burst */
  bf_refresh_tracker refresh; /* intra-refresh recovery points */
  uint64_t recovery_points;
  FILE *dump; /* --dump-au */
  uint64_t interval_ns;
  uint64_t bitrate;
  unsigned packet_bytes;         /* on the wire per full packet, IP and UDP included */
  bf_dgram burst[BF_SEND_BURST]; /* the burst being sent (borrows the packetizer's bytes) */
  /* adaptation */
  bf_fecctl fec;                       /* adaptive FEC (--fec auto) */
  bf_ratectl rate;                     /* total send budget (--rate-control on) */
  uint64_t rate_not_applied;           /* encoder shares the encoder could not take */
  uint32_t fec_applied;                /* the % the packetizer uses now */
  uint32_t fec_min_seen, fec_max_seen; /* over the AUs sent after the first loss report */
  uint64_t au_data_packets, au_parity_packets; /* over every AU packetized */
  uint32_t k_mean;                             /* data shards of a recent AU (1/16 EWMA) */
  /* the audio stage (send_audio.h: its own thread) */
  int audio_on;                /* a sound source is open */
  bf_send_audio audio;
  bf_file_anchor anchor;       /* file: where each pass over the picture file began */
  uint32_t anchor_pass;        /* the pass last published */
  uint64_t audio_request_ns;   /* direct mode: the client's last audio REQUEST (0 = none) */
  int ctl_audio;               /* control mode: the streamed client's Welcome has sound */
  /* the data plane */
  bf_send_session ss;
  bf_send_endpoint ep;
  /* control mode (not --direct) */
  int ctl_mode;
#ifdef BF_HAVE_SEAL
  bf_sctl *ctl;
  bf_identity *id;
  bf_pinstore *pins;
#endif
  struct bf_publish *pub;      /* LAN discovery (publish.h), NULL when off */
  struct bf_send_input *input; /* the input stage (send_input.h) */
  int ctl_kick;         /* a control descriptor was ready in the last wait */
  uint64_t ctl_next_ns; /* run the control step by then */
  uint64_t ctl_sessions, ctl_stops;
  bf_send_relay relay; /* the relayed data path (send_relay.h) */
  bf_send_open open;   /* the opening punches (send_open.h) */
  /* streaming */
  uint64_t next_capture_ns;
  uint64_t stream_start_ns;
  uint64_t frames_streamed;
  int finished; /* 1 = end of stream reached (frames, duration, file end) */
  int failed;   /* 1 = a runtime error ended the run */
  /* totals */
  uint64_t frames_sent, au_bytes, keyframes_sent, keyframe_misses, encoder_empty;
  uint64_t frames_late, au_too_big, packets_sent, packets_dropped, send_calls;
  uint64_t au_malformed;
  bf_hist enc_all;
  bf_hist enc_win;
  /* status window */
  uint64_t win_start_ns, win_frames, win_bytes, win_packets, win_drops;
} bf_send_state;

#endif /* BF_SENDER_SEND_STATE_H */
