/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The client's shared session state and its log lines: the layer under every
 * stage (setup, the video stage, the streaming phase, the summary) and under
 * the loop. It knows the stages' objects (the network side, the decoder, the
 * display...), not the stages: they include this, never the other way, and
 * none of them calls another stage or the loop; they return to the loop.
 *
 * Ownership: a bf_client owns every object it points to (opened by the
 * program or a stage, closed by bf_client_free); |cli| is the caller's and
 * outlives it. One thread (the loop's).
 *
 * Clock: bf_clock_epoch_ns (bildfunk/clock.h), CLOCK_MONOTONIC on the
 * realtime epoch, comparable with the sender's pts on the same machine; every
 * ns value here is on it.
 */
#ifndef BF_CLIENT_CLIENT_H
#define BF_CLIENT_CLIENT_H

#include "audio/audio_stream.h"
#include "client_cli.h"
#include "input/forward.h"
#include "net/ctl_client.h"
#include "net/stream_rx.h"
#include "report/frame_stats.h"
#include "report/report.h"
#include "setup/pairscreen.h"
#include "setup/relay_path.h"
#include "setup/wake_book.h"
#include "ui/display.h"
#include "ui/overlay.h"
#include "ui/ui_events.h"
#include "video/au_queue.h"
#include "video/decode_gate.h"
#include "video/decoder.h"
#include "video/framemd5.h"
#include "video/nominal_rate.h"

#include <bildfunk/transport.h>

#include <stdint.h>

#define BF_CLIENT_EPISODES 32

/* An AU's fate can be known before its FRAME_INFO (sent right after the
 * AU's last packet) was read: its record waits for it, at most this many
 * records for at most this long (then the host time is missing for it).
 * Latency: none for the stream; the statistics of an AU come up to 50 ms
 * later. */
#define BF_CLIENT_AWAIT 64u
#define BF_CLIENT_AWAIT_NS (50 * 1000000ull)

/* The sender's normal Bye on the control connection can overtake the last
 * datagrams on the data path (a relay or a network that delays or reorders
 * them: tests/fire control_jitter lost the last 2-3 pictures). After it the
 * client still takes data until the data plane's BYE, which the sender
 * sends after them and before the Bye, or this long at most. */
#define BF_CLIENT_BYE_GRACE_NS (250 * 1000000ull)

typedef struct bf_client {
  const bf_cli *cli;

  /* --- the stages' objects (NULL = not open) ------------------------------ */
  bf_pump *pump;       /* the data plane (net/) */
  bf_display *display; /* the window; NULL = headless */
  bf_ui_events events; /* the window's events */
  bf_overlay ov;       /* set up with the window */
  bf_decoder *dec;     /* opened at the first keyframe */
  /* the hardware decoder failed mid-stream: software from the next
   * keyframe on (bf_decoder_decode's BF_DECODER_HW_FAILED) */
  int hw_failed;
  uint64_t decoder_fallbacks;
  bf_decode_gate gate; /* which AUs decode, keyframe requests */
  bf_framemd5 *md5;    /* --framemd5 */
  bf_stats st;         /* per-frame statistics */
  bf_stats_json json;  /* --stats-json, when json_open */
  int json_open;
  bf_report *report; /* --report: NULL = none */
  FILE *report_f;    /* --report's file, opened with the outputs, written at the end */
  struct {
    bf_frame_record rec;
    uint64_t until_ns;
  } await[BF_CLIENT_AWAIT]; /* fates waiting for their FRAME_INFO, oldest first */
  size_t await_head, await_n;
  bf_astream *audio; /* the sound (audio/): NULL = none (--no-audio, or the sender has none) */
  bf_fwd *input;     /* the input stage (input/): NULL = none (not granted, no window) */

  /* --- setup: the control session (NULL in --direct mode) ------------------ */
  bf_cctl *ctl;
  int ctl_ready;          /* the loop saw its socket ready */
  uint64_t ctl_last_ns;   /* last bf_cctl_service() while streaming */
  int ctl_sealed;         /* the data plane is sealed with its secret */
  uint32_t welcome_flags; /* the Welcome's BF_CTL_WELCOME_* (0 in --direct mode) */
  int ctl_paired_now;     /* this run paired */
  bf_wake_entry wake;     /* the sender's WakeInfo (wake.count 0: none), kept once established */
  bf_pairscreen ps;       /* the window during the setup */
  struct bf_lan_watch *lan; /* the LAN's senders while the window asks for one (lan_browse.h) */
  unsigned lan_said;        /* how many of them stderr has been told about */
  bf_canvas ps_cv;
  char target[320];       /* the sender: HOST[:PORT] as given (a DNS name is up to 253), or typed in
                             the window (up to BF_PAIRSCREEN_HOST - 1) */
  char setup_err[512];    /* why the control setup failed, for the window */
  int setup_user_quit;    /* the user ended the setup (Esc, window closed, signal) */
  int setup_rc;           /* how the last setup phase ended: 0 on, -1 `pair` done, else exit code */
  uint64_t fail_until_ns; /* the failure screen's end */
  char code_line[64];     /* the sender's code as the user types it on stdin */
  size_t code_len;
  int code_long;            /* the line is longer than code_line: refused */
  int stdin_closed;         /* stdin ended: no code from there */
  int slot_ctl, slot_stdin; /* the loop's registry slots this turn (-1 = none) */
  char ctl_end[640];        /* why it closed, for the statistics */
  /* --reconnect (setup/reconnect.h): the control session is set up again */
  int reconnecting;
  uint64_t reconnect_at_ns; /* the next attempt */
  uint64_t reconnects;      /* times the stream went on under a new session */
  uint64_t reconnect_attempts;
  /* the Welcome's data address (control peer's IP, data port), and
   * --data-via resolved: the data plane goes there instead ("" = none) */
  char ctl_data[BF_ADDR_STRLEN];
  char data_via[BF_ADDR_STRLEN];
  bf_rpath rp; /* --turn: the relayed data path (setup/relay_path.h) */

  /* --- the video stage ------------------------------------------------------ */
  bf_au_queue q;    /* completed AUs waiting for the decoder */
  int holding;      /* the oldest queued AU waits for an earlier one (reordering) */
  AVFrame *pending; /* the newest decoded picture not yet presented */
  bf_frame_record pending_rec;
  int have_pending;
  int width, height;    /* the stream's picture size */
  uint64_t interval_ns; /* frame interval from pts spacing, smoothed */
  bf_nominal_rate rate; /* the nominal frame rate from pts, when stable */
  double welcome_fps;   /* the control session's Welcome says it (0: --direct) */
  bf_codec welcome_codec; /* ... and the codec (BF_CODEC_UNKNOWN: --direct) */
  int have_last;
  uint64_t last_pts;
  uint32_t last_idx;
  int md5_have_base;
  uint32_t md5_base;
  uint64_t pictures;
  uint64_t decode_errors;
  uint64_t err_log_ns;
  uint64_t err_suppressed;
  int codec_unknown_logged;
  /* --skip-to-live off: the queue is full, completed AUs wait in the
   * reassembler (within its memory budget) until the decoder catches up */
  int backpressure;
  uint64_t backpressure_since_ns;
  uint64_t backpressure_waits; /* times it began */
  uint64_t backpressure_ns;    /* time spent in it */
  uint64_t queue_full_drops;   /* skip-to-live on: AUs dropped at a full queue */
  uint64_t first_au_ns;        /* the first AU completed (0 = none yet) */
  int undecodable_said;        /* "no picture yet" was said */
  uint64_t next_text_ns;       /* the overlay's next text refresh */
  uint64_t last_present_ns;

  /* --- the streaming phase --------------------------------------------------- */
  uint64_t start_ns; /* silence and --duration count from here */
  uint64_t end_ns;   /* --duration's end, UINT64_MAX = none */
  int silent_reported;
  int ending;          /* BYE came: drain the queue, then stop */
  uint64_t ctl_bye_ns; /* the control session's normal Bye came (0 = not): BF_CLIENT_BYE_GRACE_NS */
  int done;
  int exit_code;
  const char *end_reason;
  uint64_t net_ns; /* time spent receiving and reassembling */
  uint64_t resumes;
  uint64_t loop_start_ns;
  double loop_cpu0_s;
  /* keyframe recoveries: request sent -> keyframe on screen */
  struct {
    uint32_t id;
    uint64_t request_ns;
    uint64_t present_ns;
    uint32_t request_idx; /* the newest frame_index completed when it was asked */
    uint32_t key_idx;     /* the keyframe (recovery point) that ended it */
  } rec_ep[BF_CLIENT_EPISODES];
  size_t n_ep;
  int ep_open;
  /* the open episode's keyframe (recovery point) was decoded: the next
   * picture on screen ends it, even when a newer one replaced it first */
  int ep_key;
  uint32_t ep_key_idx, ep_key_flags;
} bf_client;

/* A client for |cli| (kept, not copied): the statistics, the decode gate, the
 * pending picture, --report's collector. 0, or 1 (out of memory: said). */
int bf_client_new(const bf_cli *cli, bf_client **out);
/* Closes everything the client holds (the data plane sends its BYE); clears
 * |*c|. */
void bf_client_free(bf_client **c);

/* "bildfunk: ..." on stderr unless --quiet / only with --verbose. */
__attribute__((format(printf, 2, 3))) void bf_client_say(const bf_client *c, const char *fmt, ...);
__attribute__((format(printf, 2, 3))) void bf_client_verbose(const bf_client *c, const char *fmt,
                                                             ...);

/* An AU's fate is known: into the statistics, --report and --stats-json,
 * once its FRAME_INFO is known (see BF_CLIENT_AWAIT). */
void bf_client_outcome(bf_client *c, bf_frame_record *rec, bf_outcome out, uint64_t now);
/* The fates that waited for their FRAME_INFO: recorded when it came or
 * their time ran out; all of them with |all| (the end). */
void bf_client_settle(bf_client *c, uint64_t now, int all);

/* The clock offset to the sender (0 until synced). */
int64_t bf_client_clock_offset(const bf_client *c);

/* The stream's nominal frame rate: the Welcome's, else from pts once stable
 * (video/nominal_rate.h); 0 = not known (yet). */
double bf_client_nominal_fps(const bf_client *c);

#endif
