/*
 * Decode/present loop of a direct-mode session: see session.h.
 */
#include "session.h"

#include "ctl_client.h"
#include "decoder.h"
#include "framemd5.h"
#include "overlay.h"
#include "pairscreen.h"
#include "pump.h"
#include "recovery.h"
#include "report.h"
#include "renderer.h"
#include "stats.h"

#include <bildfunk/common.h>
#include <bildfunk/identity.h>
#include <bildfunk/wire.h>

#include <libavutil/error.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define MS 1000000ull
#define BF_SESSION_EPISODES 32
#define SEC 1000000000ull
/* The sender's normal Bye on the control connection can overtake the last
 * datagrams on the data path (a relay or a network that delays or reorders
 * them: tests/fire control_jitter lost the last 2-3 pictures). After it the
 * client still takes data until the data plane's BYE, which the sender
 * sends after them and before the Bye, or this long at most. */
#define CTL_BYE_GRACE_NS (250 * MS)

static uint64_t rt_base_ns;
static volatile sig_atomic_t stop_signal;

static uint64_t clock_ns(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (uint64_t)ts.tv_sec * SEC + (uint64_t)ts.tv_nsec;
}

uint64_t bf_client_now(void) {
  if (!rt_base_ns) rt_base_ns = clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_MONOTONIC);
  return clock_ns(CLOCK_MONOTONIC) + rt_base_ns;
}

static void on_signal(int sig) {
  stop_signal = sig;
}

static double cpu_seconds(const struct rusage *ru) {
  return (double)ru->ru_utime.tv_sec + (double)ru->ru_utime.tv_usec / 1e6 +
         (double)ru->ru_stime.tv_sec + (double)ru->ru_stime.tv_usec / 1e6;
}

typedef struct queued {
  bf_frame f;
  bf_frame_record rec;
} queued;

typedef struct session {
  const bf_cli *cli;
  bf_pump *pump;
  bf_decoder *dec;
  bf_renderer *ren;
  bf_overlay ov;
  bf_stats st;
  bf_recovery rcv;
  bf_framemd5 *md5;
  bf_stats_json json;
  int json_open;
  bf_report *report; /* --report: NULL = none */
  /* control session (issue #6): NULL in --direct mode */
  bf_cctl *ctl;
  int ctl_ready;        /* poll() saw its socket ready */
  uint64_t ctl_last_ns; /* last bf_cctl_service() */
  int ctl_sealed;       /* the data plane is sealed with its secret */
  int ctl_paired_now;   /* this run paired */
  bf_pairscreen ps;     /* the window during the control setup */
  bf_canvas ps_cv;
  char target[320]; /* the sender: HOST[:PORT] as given (a DNS name is up to 253), or typed in
                        the window (up to BF_PAIRSCREEN_HOST - 1) */
  char setup_err[512];  /* why the control setup failed, for the window */
  int setup_user_quit;  /* the user ended the setup (Esc, window closed, signal) */
  char ctl_end[640];    /* why it closed, for the statistics */
  /* the Welcome's data address (control peer's IP, data port), and
   * --data-via resolved: the data plane goes there instead ("" = none) */
  char ctl_data[BF_ADDR_STRLEN];
  char data_via[BF_ADDR_STRLEN];
  /* completed AUs waiting for the decoder, in frame_index order */
  queued q[BF_SESSION_QUEUE];
  size_t qhead, qn;
  int holding; /* the oldest queued AU waits for an earlier one (reordering) */
  /* the newest decoded picture not yet presented */
  AVFrame *pending;
  bf_frame_record pending_rec;
  int have_pending;
  /* stream */
  int width, height;
  uint64_t interval_ns;
  int have_last;
  uint64_t last_pts;
  uint32_t last_idx;
  int md5_have_base;
  uint32_t md5_base;
  /* progress */
  uint64_t start_ns;
  uint64_t pictures;
  uint64_t decode_errors;
  uint64_t err_log_ns;
  uint64_t err_suppressed;
  int codec_unknown_logged;
  uint64_t next_text_ns;
  uint64_t last_present_ns;
  int silent_reported;
  int ending; /* BYE came: drain the queue, then stop */
  uint64_t ctl_bye_ns; /* the control session's normal Bye came (0 = not): see CTL_BYE_GRACE_NS */
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
  } rec_ep[BF_SESSION_EPISODES];
  size_t n_ep;
  int ep_open;
} session;

/* --- logging ------------------------------------------------------------------ */

__attribute__((format(printf, 2, 3))) static void say(const session *s, const char *fmt, ...) {
  if (s->cli->quiet) return;
  va_list ap;
  va_start(ap, fmt);
  fputs("bildfunk: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

__attribute__((format(printf, 2, 3))) static void verbose(const session *s, const char *fmt, ...) {
  if (!s->cli->verbose) return;
  va_list ap;
  va_start(ap, fmt);
  fputs("bildfunk: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

/* --- frame bookkeeping ----------------------------------------------------------- */

static void finish(session *s, bf_frame_record *rec, bf_outcome out, uint64_t now) {
  rec->outcome = out;
  bf_stats_on_outcome(&s->st, rec, now);
  if (s->report) bf_report_on_outcome(s->report, rec, now);
  if (s->json_open) bf_stats_json_frame(&s->json, rec);
}

static int64_t clock_offset(const session *s) {
  int64_t off = 0;
  bf_clocksync_get(bf_pump_clock(s->pump), &off, NULL);
  return off;
}

static void on_frame_event(session *s, bf_frame *f, uint64_t now) {
  /* frame interval from pts spacing, smoothed */
  if (s->have_last && bf_seq32_diff(f->frame_index, s->last_idx) > 0 && f->pts_ns > s->last_pts) {
    uint64_t d = (f->pts_ns - s->last_pts) / (uint32_t)bf_seq32_diff(f->frame_index, s->last_idx);
    if (d > MS && d < SEC) {
      s->interval_ns = s->interval_ns ? (s->interval_ns * 7 + d) / 8 : d;
      bf_recovery_set_frame_interval(&s->rcv, s->interval_ns);
    }
  }
  if (!s->have_last || bf_seq32_diff(f->frame_index, s->last_idx) > 0) {
    s->have_last = 1;
    s->last_idx = f->frame_index;
    s->last_pts = f->pts_ns;
  }
  bf_frame_record rec;
  memset(&rec, 0, sizeof rec);
  rec.frame_index = f->frame_index;
  rec.bytes = (uint32_t)f->len;
  rec.user_flags = f->user_flags;
  rec.shards_received = f->shards_received;
  rec.shards_recovered = f->shards_recovered;
  rec.pts_ns = f->pts_ns;
  rec.capture_ns = (uint64_t)((int64_t)f->pts_ns - clock_offset(s));
  rec.first_shard_ns = f->first_arrival_ns;
  rec.last_shard_ns = f->last_arrival_ns;
  bf_stats_on_completed(&s->st, &rec, now);
  if (s->qn == BF_SESSION_QUEUE) {
    /* Only with --skip-to-live off (skip-to-live empties the queue long
     * before): never block the network side; the AU is counted as skipped. */
    finish(s, &rec, BF_OUT_SKIPPED, now);
    bf_pump_release(s->pump, f);
    return;
  }
  /* in frame_index order: an AU that overtook an earlier one on the network
   * waits behind it (the gate holds it, see recovery.h); in order this is
   * the tail, as before */
  size_t at = s->qn++;
  while (at > 0) {
    queued *prev = &s->q[(s->qhead + at - 1) % BF_SESSION_QUEUE];
    if (bf_seq32_diff(prev->f.frame_index, f->frame_index) <= 0) break;
    s->q[(s->qhead + at) % BF_SESSION_QUEUE] = *prev;
    at--;
  }
  queued *q = &s->q[(s->qhead + at) % BF_SESSION_QUEUE];
  q->f = *f;
  q->rec = rec;
}

static void drain_events(session *s, uint64_t now) {
  bf_event ev;
  while (bf_pump_event(s->pump, &ev)) {
    switch (ev.type) {
    case BF_EVENT_FRAME:
      on_frame_event(s, &ev.u.frame, now);
      break;
    case BF_EVENT_LOSS: {
      uint32_t n = ev.u.loss.last - ev.u.loss.first + 1;
      bf_stats_on_lost(&s->st, n);
      if (s->report) bf_report_on_lost(s->report, n, now);
      bf_recovery_on_loss(&s->rcv, ev.u.loss.first, ev.u.loss.last, now);
      verbose(s, "frames %u..%u lost", ev.u.loss.first, ev.u.loss.last);
      break;
    }
    case BF_EVENT_BLOCK_SHORT:
      /* the block's last shard came and it still cannot be rebuilt: treat
       * the AU as lost now instead of when it ages out (unless the network
       * reorders: then stragglers may still come) */
      bf_recovery_on_short(&s->rcv, ev.u.block.frame_index, now);
      verbose(s, "frame %u block %u short (%u of %u shards)", ev.u.block.frame_index,
              ev.u.block.block_index, ev.u.block.have, ev.u.block.need);
      break;
    }
  }
  bf_recovery_set_reorder(&s->rcv, bf_pump_reorder_ns(s->pump, now));
}

static void skip_to_live(session *s, uint64_t now) {
  size_t n = s->qn;
  while (s->qn) {
    queued *q = &s->q[s->qhead];
    finish(s, &q->rec, BF_OUT_SKIPPED, now);
    bf_pump_release(s->pump, &q->f);
    s->qhead = (s->qhead + 1) % BF_SESSION_QUEUE;
    s->qn--;
  }
  bf_pump_reset_reassembly(s->pump);
  say(s, "decoder fell behind: skipped %zu queued frames, asking for a keyframe", n);
}

/* --- decode and present ------------------------------------------------------------ */

static int ensure_decoder(session *s, const bf_frame *f) {
  bf_codec want = s->cli->codec;
  if (want == BF_CODEC_UNKNOWN) want = bf_codec_detect(f->data, f->len);
  if (want == BF_CODEC_UNKNOWN) {
    if (s->dec) return 0; /* keep the codec we have */
    if (!s->codec_unknown_logged++)
      say(s,
          "cannot tell the codec of frame %u (no H.264 SPS, HEVC VPS or AV1 sequence header); "
          "use --codec",
          f->frame_index);
    return -EINVAL;
  }
  if (s->dec && bf_decoder_codec(s->dec) == want) return 0;
  if (s->dec) say(s, "the stream changed to %s", bf_codec_name(want));
  bf_decoder_close(&s->dec);
  bf_decoder_config dc = {want, s->cli->decoder, s->cli->threads, s->cli->verbose};
  char err[256];
  int r = bf_decoder_open(&dc, &s->dec, err, sizeof err);
  if (r < 0) {
    say(s, "decoder: %s", err);
    s->exit_code = 1;
    s->done = 1;
    s->end_reason = "decoder";
    return r;
  }
  verbose(s, "decoding %s with %s", bf_codec_name(want), bf_decoder_describe(s->dec));
  return 0;
}

static void log_decode_error(session *s, uint32_t idx, int err, uint64_t now) {
  s->decode_errors++;
  if (s->err_log_ns && now - s->err_log_ns < SEC) {
    s->err_suppressed++;
    return;
  }
  char e[96];
  av_strerror(err, e, sizeof e);
  if (s->err_suppressed)
    say(s, "decoder rejected frame %u: %s (and %llu more); waiting for a keyframe", idx, e,
        (unsigned long long)s->err_suppressed);
  else
    say(s, "decoder rejected frame %u: %s; waiting for a keyframe", idx, e);
  s->err_log_ns = now;
  s->err_suppressed = 0;
}

static void refresh_text(session *s, uint64_t now) {
  if (!s->ren || s->ov.level == BF_OVERLAY_OFF) return;
  bf_stats_view v;
  bf_stats_view_now(&s->st, now, &v);
  bf_overlay_info info;
  memset(&info, 0, sizeof info);
  info.width = s->width;
  info.height = s->height;
  info.fps = s->interval_ns ? 1e9 / (double)s->interval_ns : 0;
  info.codec = s->dec ? bf_codec_name(bf_decoder_codec(s->dec)) : NULL;
  info.decoder = s->dec ? bf_decoder_describe(s->dec) : NULL;
  int64_t off;
  uint64_t rtt;
  info.clock_synced = bf_clocksync_get(bf_pump_clock(s->pump), &off, &rtt) == 0;
  info.clock_offset_ms = info.clock_synced ? (double)off / 1e6 : 0;
  info.rtt_ms = info.clock_synced ? (double)rtt / 1e6 : 0;
  info.keyframe_requests = s->rcv.requests_new;
  info.skips = s->rcv.skips;
  info.decode_errors = s->decode_errors;
  bf_reassembler_stats rs;
  bf_pump_reassembler_stats(s->pump, &rs);
  info.rejected = rs.packets - rs.rejected[BF_ACCEPT] - rs.rejected[BF_REJECT_DUPLICATE];
  info.waiting_key = s->rcv.need_key && s->pictures > 0;
  bf_overlay_set_text(&s->ov, &v, &s->st, &info);
  /* 4 Hz while pictures come, 1 Hz when idle */
  s->next_text_ns = now + (now - s->last_present_ns < SEC ? 250 * MS : SEC);
}

static void redraw(session *s) {
  if (!s->ren) return;
  bf_overlay_draw(&s->ov, &s->st);
  bf_renderer_present(s->ren, &s->ov); /* not a new picture: last_present_ns stays */
}

/* Shows the pending picture: upload, overlay, present. */
static void present_pending(session *s) {
  if (!s->have_pending) return;
  s->have_pending = 0;
  if (s->ren) {
    if (bf_renderer_upload(s->ren, s->pending) == 0) {
      /* the stacked graph includes this frame */
      uint64_t t = bf_client_now();
      if (t >= s->next_text_ns) refresh_text(s, t);
      bf_overlay_draw(&s->ov, &s->st);
      bf_renderer_present(s->ren, &s->ov);
    }
  }
  uint64_t now = bf_client_now();
  s->last_present_ns = now;
  s->pending_rec.present_ns = now;
  if (s->ep_open && (s->pending_rec.user_flags & (BF_AU_KEYFRAME | BF_AU_RECOVERY_POINT))) {
    s->rec_ep[s->n_ep].present_ns = now;
    verbose(s, "recovered: %s %u on screen %.1f ms after the request",
            (s->pending_rec.user_flags & BF_AU_KEYFRAME) ? "keyframe" : "recovery point",
            s->pending_rec.frame_index, (double)(now - s->rec_ep[s->n_ep].request_ns) / 1e6);
    s->n_ep++;
    s->ep_open = 0;
  }
  av_frame_unref(s->pending);
  finish(s, &s->pending_rec, BF_OUT_PRESENTED, now);
}

/* Decodes the oldest queued AU. Returns 0 when it is held for an earlier
 * one (nothing done), else 1. */
static int decode_one(session *s) {
  uint64_t now = bf_client_now();
  const queued *head = &s->q[s->qhead];
  s->holding = !s->ending && bf_recovery_hold(&s->rcv, head->f.frame_index, head->f.user_flags,
                                              (uint32_t)s->qn, head->rec.last_shard_ns, now);
  if (s->holding) return 0;
  queued it = *head;
  s->qhead = (s->qhead + 1) % BF_SESSION_QUEUE;
  s->qn--;
  bf_gate g = bf_recovery_on_frame(&s->rcv, it.f.frame_index, it.f.user_flags, now);
  if (g != BF_GATE_DECODE && g != BF_GATE_DECODE_HIDDEN) {
    bf_outcome out = g == BF_GATE_WAIT_KEY ? BF_OUT_WAIT_KEY
                     : g == BF_GATE_GAP    ? BF_OUT_GAP
                                           : BF_OUT_STALE;
    if (g == BF_GATE_GAP) verbose(s, "frame %u came before an earlier one: gap", it.f.frame_index);
    bf_pump_release(s->pump, &it.f);
    finish(s, &it.rec, out, now);
    return 1;
  }
  int r = (it.f.user_flags & BF_AU_KEYFRAME) || !s->dec ? ensure_decoder(s, &it.f) : 0;
  if (r < 0 || !s->dec) {
    bf_pump_release(s->pump, &it.f);
    s->decode_errors++;
    bf_recovery_on_decode_error(&s->rcv, it.f.frame_index, now);
    finish(s, &it.rec, BF_OUT_DECODE_ERROR, now);
    return 1;
  }
  AVFrame *pic = NULL;
  it.rec.decode_start_ns = bf_client_now();
  r = bf_decoder_decode(s->dec, it.f.data, it.f.len, it.f.frame_index, &pic);
  if (s->cli->debug_decode_delay_ms) {
    struct timespec ts = {(time_t)(s->cli->debug_decode_delay_ms / 1000),
                          (long)(s->cli->debug_decode_delay_ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
  }
  it.rec.decode_end_ns = bf_client_now();
  now = it.rec.decode_end_ns;
  bf_pump_release(s->pump, &it.f);
  if (r < 0) {
    log_decode_error(s, it.f.frame_index, r, now);
    bf_recovery_on_decode_error(&s->rcv, it.f.frame_index, now);
    finish(s, &it.rec, BF_OUT_DECODE_ERROR, now);
    return 1;
  }
  if (!pic) {
    finish(s, &it.rec, BF_OUT_NO_PICTURE, now);
    return 1;
  }
  if (g == BF_GATE_DECODE_HIDDEN) { /* rebuilding references until a recovery point */
    finish(s, &it.rec, BF_OUT_HIDDEN, now);
    return 1;
  }
  s->pictures++;
  if (pic->width != s->width || pic->height != s->height) {
    verbose(s, "stream %dx%d", pic->width, pic->height);
    s->width = pic->width;
    s->height = pic->height;
  }
  if (s->md5) {
    if (!s->md5_have_base) {
      s->md5_have_base = 1;
      s->md5_base = it.f.frame_index;
    }
    int64_t pts = (int64_t)(uint32_t)(it.f.frame_index - s->md5_base);
    if (bf_framemd5_write(s->md5, pic, pts, bf_decoder_frame_rate(s->dec)) < 0 && !s->end_reason) {
      say(s, "cannot write the framemd5 file");
      s->exit_code = 1;
      s->done = 1;
      s->end_reason = "framemd5";
    }
  }
  if (s->have_pending) {
    av_frame_unref(s->pending);
    s->have_pending = 0;
    finish(s, &s->pending_rec, BF_OUT_REPLACED, now);
  }
  if (av_frame_ref(s->pending, pic) == 0) {
    s->pending_rec = it.rec;
    s->have_pending = 1;
  } else {
    finish(s, &it.rec, BF_OUT_REPLACED, now);
  }
  if (s->cli->frames && s->pictures >= s->cli->frames) {
    present_pending(s);
    s->done = 1;
    s->end_reason = "frames";
  }
  return 1;
}

/* --- UI -------------------------------------------------------------------------------- */

static void set_overlay(session *s, bf_overlay_level level) {
  bf_text_ops ops;
  bf_renderer_text_ops(s->ren, level, &ops);
  bf_overlay_set_font(&s->ov, &ops);
  bf_overlay_set_level(&s->ov, level);
  refresh_text(s, bf_client_now());
}

static void handle_ui(session *s) {
  if (!s->ren) return;
  bf_renderer_tick(s->ren);
  bf_ui_action a;
  int redraw_needed = 0;
  while (bf_renderer_poll_event(s->ren, &a)) {
    switch (a) {
    case BF_UI_QUIT:
      s->done = 1;
      s->end_reason = "quit";
      break;
    case BF_UI_OVERLAY:
      set_overlay(s, (bf_overlay_level)((s->ov.level + 1) % BF_OVERLAY_COUNT_));
      redraw_needed = 1;
      break;
    case BF_UI_FULLSCREEN:
      verbose(s, "fullscreen %s", bf_renderer_is_fullscreen(s->ren) ? "on" : "off");
      set_overlay(s, s->ov.level);
      redraw_needed = 1;
      break;
    case BF_UI_REDRAW:
      set_overlay(s, s->ov.level); /* the font size follows the window */
      redraw_needed = 1;
      break;
    case BF_UI_NONE:
    case BF_UI_TEXT: /* typing is for the pairing screen */
    case BF_UI_ENTER:
    case BF_UI_BACKSPACE:
    case BF_UI_CANCEL:
      break;
    }
  }
  if (redraw_needed && !s->done) redraw(s);
}

/* --- the loop ------------------------------------------------------------------------- */

static uint64_t min_u64(uint64_t a, uint64_t b) {
  return a < b ? a : b;
}

static void check_liveness(session *s, uint64_t now) {
  uint64_t last = bf_pump_last_data_ns(s->pump);
  uint64_t ref = last > s->start_ns ? last : s->start_ns;
  uint64_t limit = (uint64_t)(s->cli->timeout_s * 1e9);
  if (now - ref < limit) {
    if (s->silent_reported && last > s->start_ns) {
      say(s, "data from %s again", bf_pump_peer_name(s->pump));
      s->silent_reported = 0;
    }
    return;
  }
  if (s->silent_reported) return;
  say(s, "no data from %s for %g s \xe2\x80\x94 is the sender running?%s",
      bf_pump_peer_name(s->pump), s->cli->timeout_s, s->cli->wait ? " (waiting)" : "");
  s->silent_reported = 1;
  if (!s->cli->wait) {
    s->done = 1;
    s->exit_code = 1;
    s->end_reason = "no data";
  }
}

/* --- the control session ---------------------------------------------------------- */

/* A closed control session: say why, and end the stream. A normal Bye drains
 * what is queued (exit 0); anything else stops at once (exit 1). */
static void control_closed(session *s) {
  int code = bf_cctl_close_message(s->ctl, s->ctl_end, sizeof s->ctl_end);
  if (bf_cctl_end_get(s->ctl) == BF_CCTL_END_LOCAL) return; /* we closed it */
  if (code == 0)
    say(s, "%s", s->ctl_end);
  else
    fprintf(stderr, "bildfunk: %s\n", s->ctl_end);
  if (code == 0) { /* the data plane's BYE, or the grace, ends the stream (loop) */
    if (!s->ctl_bye_ns) s->ctl_bye_ns = bf_client_now();
    return;
  }
  s->done = 1;
  s->exit_code = code;
  s->end_reason = "control";
}

/* Reads, ticks and writes the control session when its socket is ready, its
 * deadline passed, or every 100 ms (the loop may not sleep while decoding). */
static void service_control(session *s, uint64_t now) {
  if (!s->ctl_ready && now < bf_cctl_deadline(s->ctl) && now - s->ctl_last_ns < 100 * MS) return;
  s->ctl_ready = 0;
  s->ctl_last_ns = now;
  bf_cctl_service(s->ctl, now);
  bf_ctl_event ev;
  while (bf_cctl_event(s->ctl, &ev)) {
    if (ev.type == BF_CTL_EV_CLOSED) control_closed(s);
    /* clock pongs stay on the data plane (the pump's clock sync) */
  }
}

/* A failed control setup: the message on stderr, and kept for the window. */
__attribute__((format(printf, 2, 3))) static void setup_error(session *s, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(s->setup_err, sizeof s->setup_err, fmt, ap);
  va_end(ap);
  fprintf(stderr, "bildfunk: %s\n", s->setup_err);
}

/* The file in the client's config directory that remembers the last sender
 * a session was established with (one line, HOST[:PORT] as typed); 0 or
 * negative when there is no config directory. */
static int last_sender_path(const bf_cli *cli, char *out, size_t cap) {
  char dir[1024];
  if (cli->config_dir)
    snprintf(dir, sizeof dir, "%s", cli->config_dir);
  else if (bf_config_dir(dir, sizeof dir) < 0)
    return -ENOENT;
  int n = snprintf(out, cap, "%s/last-sender", dir);
  return n > 0 && (size_t)n < cap ? 0 : -ENAMETOOLONG;
}

/* The last sender into |out| ("" when the file is missing or unreadable:
 * no prefill). Only the first line, printable ASCII without spaces. */
static void read_last_sender(const bf_cli *cli, char *out, size_t cap) {
  char path[1100], buf[BF_PAIRSCREEN_HOST + 1]; /* the longest line the window takes + '\n' */
  out[0] = 0;
  if (last_sender_path(cli, path, sizeof path) < 0) return;
  FILE *f = fopen(path, "r");
  if (!f) return;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  size_t k = 0;
  while (k < n && buf[k] > 0x20 && buf[k] < 0x7f)
    k++;
  if (k < n ? buf[k] != '\n' : n == sizeof buf - 1) return; /* not one clean line: ignore it */
  if (k >= cap) return;
  memcpy(out, buf, k);
  out[k] = 0;
}

/* Remembers s->target as the last sender (after ESTABLISHED): written to a
 * temporary file in the same directory, then renamed over the old one, so a
 * reader sees the old or the new name, never half of one. Failures only
 * cost the prefill: said with -v. */
static void write_last_sender(session *s) {
  char path[1100], tmp[1120];
  /* a name longer than the window's line could not be prefilled there */
  if (s->cli->pair || strlen(s->target) >= BF_PAIRSCREEN_HOST ||
      last_sender_path(s->cli, path, sizeof path) < 0)
    return;
  snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    verbose(s, "cannot write %s: %s", tmp, strerror(errno));
    return;
  }
  char line[BF_PAIRSCREEN_HOST + 1];
  int n = snprintf(line, sizeof line, "%s\n", s->target);
  int ok = n > 0 && write(fd, line, (size_t)n) == (ssize_t)n;
  ok &= close(fd) == 0;
  if (!ok || rename(tmp, path) < 0) {
    verbose(s, "cannot write %s: %s", path, strerror(errno));
    unlink(tmp);
  }
}

/* The pairing screen in the window, at the window's size. */
static void pair_redraw(session *s) {
  int w, h;
  bf_renderer_output_size(s->ren, &w, &h);
  if (bf_pairscreen_draw(&s->ps, &s->ps_cv, w, h) == 0)
    bf_renderer_present_canvas(s->ren, &s->ps_cv);
}

/* What the setup screens (sender line, pairing code) do alike with a window
 * action: typing and Backspace edit the line, a redraw or resize repaints.
 * Returns 1 when the screen must be redrawn, 0 when nothing changed, -1 for
 * the actions each screen decides itself (Enter, Esc, closing the window). */
static int screen_edit(session *s, bf_ui_action a) {
  switch (a) {
  case BF_UI_TEXT:
    return bf_pairscreen_type(&s->ps, bf_renderer_text(s->ren)) > 0;
  case BF_UI_BACKSPACE:
    bf_pairscreen_backspace(&s->ps);
    return 1;
  case BF_UI_REDRAW:
  case BF_UI_FULLSCREEN:
    return 1;
  case BF_UI_OVERLAY:
  case BF_UI_NONE:
    return 0;
  case BF_UI_ENTER:
  case BF_UI_CANCEL:
  case BF_UI_QUIT:
    break;
  }
  return -1;
}

/* The window's events during the control setup: the code typed there, Esc
 * or closing the window (the pairing refused, or the setup abandoned).
 * Returns 0 to go on, or the exit code. */
static int pair_window_input(session *s) {
  bf_ui_action a;
  int dirty = 0;
  bf_renderer_tick(s->ren);
  while (bf_renderer_poll_event(s->ren, &a)) {
    uint64_t now = bf_client_now();
    int e = screen_edit(s, a);
    if (e >= 0) {
      dirty |= e;
      continue;
    }
    switch (a) {
    case BF_UI_ENTER: {
      char code[BF_PAIR_CODE_DIGITS + 1];
      dirty = 1;
      if (bf_cctl_awaiting_code(s->ctl) && bf_pairscreen_enter(&s->ps, code))
        bf_cctl_confirm_code(s->ctl, code, now); /* a wrong one closes the session */
      break;
    }
    case BF_UI_CANCEL:
    case BF_UI_QUIT:
      s->setup_user_quit = 1;
      if (bf_cctl_awaiting_code(s->ctl)) {
        bf_cctl_refuse_code(s->ctl,
                            a == BF_UI_CANCEL ? "the pairing was cancelled in the window"
                                              : "the window was closed during the pairing",
                            now);
        return 0; /* the loop says so and ends */
      }
      fprintf(stderr, "bildfunk: %s while setting up the session with %s\n",
              a == BF_UI_CANCEL ? "cancelled" : "the window was closed", bf_cctl_endpoint(s->ctl));
      bf_cctl_close(s->ctl, BF_CTL_BYE_NORMAL, "the user quit", now);
      return 1;
    default: /* screen_edit's */
      break;
    }
    if (bf_cctl_state_get(s->ctl) == BF_CCTL_CLOSED) return 0;
  }
  if (dirty) pair_redraw(s);
  return 0;
}

/* Connects and runs the control session up to ESTABLISHED (pairing included:
 * the code is shown here and the sender's user confirms it). Fills the data
 * address, the seal secret and K. Returns 0, or the exit code. */
static int control_setup(session *s, char *data_addr, size_t cap, uint8_t secret[32],
                         uint32_t *max_k) {
  const bf_cli *cli = s->cli;
  bf_cctl_config cc;
  memset(&cc, 0, sizeof cc);
  cc.target = s->target;
  cc.config_dir = cli->config_dir;
  cc.name = cli->name;
  cc.max_width = (uint16_t)cli->max_width;
  cc.max_height = (uint16_t)cli->max_height;
  cc.pair = cli->pair ? 2 : 1;
  cc.now = bf_client_now;
  char err[512];
  int r = bf_cctl_open(&cc, &s->ctl, err, sizeof err);
  if (r < 0) {
    setup_error(s, "%s", err);
    return r == -EINVAL ? 2 : 1;
  }
  verbose(s, "connecting to %s (pin name \"%s\")", bf_cctl_endpoint(s->ctl),
          bf_cctl_pin_name(s->ctl));
  char line[64]; /* the sender's code as the user types it (stdin) */
  size_t line_len = 0;
  int line_long = 0, input_open = 1;
  if (s->ren) {
    bf_pairscreen_init(&s->ps, bf_cctl_target(s->ctl));
    pair_redraw(s);
  }
  for (;;) {
    if (stop_signal) {
      s->setup_user_quit = 1;
      fprintf(stderr, "bildfunk: interrupted while setting up the session with %s\n",
              bf_cctl_endpoint(s->ctl));
      bf_cctl_close(s->ctl, BF_CTL_BYE_NORMAL, "the user quit", bf_client_now());
      return 1;
    }
    uint64_t now = bf_client_now();
    bf_cctl_service(s->ctl, now);
    bf_ctl_event ev;
    while (bf_cctl_event(s->ctl, &ev)) {
      if (ev.type == BF_CTL_EV_SHOW_CODE) {
        fprintf(stderr,
                "bildfunk: pairing with %s: code %s (type it on the sender)\n"
                "bildfunk: then type here the code the sender shows and press Enter\n",
                bf_cctl_target(s->ctl), ev.code);
        if (s->ren && bf_renderer_on_display(s->ren))
          fprintf(stderr, "bildfunk: (or in the window: it shows the same)\n");
        fflush(stderr);
        if (s->ren) {
          bf_pairscreen_ask(&s->ps, ev.code);
          pair_redraw(s);
        }
      } else if (ev.type == BF_CTL_EV_PAIRED) {
        s->ctl_paired_now = 1;
        char hex[17];
        bf_cctl_fp_prefix(ev.peer_fp, hex);
        if (cli->pair)
          fprintf(stderr, "bildfunk: paired with %s (fp %s...)\n", bf_cctl_target(s->ctl), hex);
        else
          say(s, "paired with %s (fp %s...)", bf_cctl_target(s->ctl), hex);
      }
    }
    bf_cctl_state st = bf_cctl_state_get(s->ctl);
    if (st == BF_CCTL_CLOSED) {
      int code = bf_cctl_close_message(s->ctl, s->ctl_end, sizeof s->ctl_end);
      setup_error(s, "%s", s->ctl_end);
      return code ? code : 1; /* a Bye before streaming is never success */
    }
    if (st == BF_CCTL_ESTABLISHED) break;
    if (s->ren) {
      int wr = pair_window_input(s);
      if (wr) return wr;
      if (bf_cctl_state_get(s->ctl) == BF_CCTL_CLOSED) continue; /* refused: say why above */
    }
    uint64_t due = bf_cctl_deadline(s->ctl);
    uint64_t wait_ns = due > now ? due - now : 0;
    int ms = wait_ns >= SEC ? 1000 : (int)((wait_ns + MS - 1) / MS);
    /* window events may wait in Xlib's buffer, not on its socket: look again
     * soon */
    if (s->ren && ms > 20) ms = 20;
    int asking = bf_cctl_awaiting_code(s->ctl) && input_open;
    struct pollfd p[3] = {{bf_cctl_fd(s->ctl), bf_cctl_poll_events(s->ctl), 0},
                          {asking ? STDIN_FILENO : -1, POLLIN, 0},
                          {s->ren ? bf_renderer_event_fd(s->ren) : -1, POLLIN, 0}};
    if ((p[0].fd >= 0 || asking || s->ren) && ms > 0) (void)poll(p, 3, ms);
    if (asking && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      /* one line: the sender's code; what comes with it after a newline is
       * not wanted */
      char buf[64];
      ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
      now = bf_client_now();
      if (n <= 0 && !(n < 0 && (errno == EINTR || errno == EAGAIN))) {
        input_open = 0;
        /* a window on a display asks too: the answer comes from there (an
         * offscreen one, SDL's dummy drivers, is seen by nobody) */
        if (s->ren && bf_renderer_on_display(s->ren))
          fprintf(stderr, "bildfunk: no input here: type the code the sender shows in the "
                          "window\n");
        else
          bf_cctl_confirm_code(s->ctl, NULL, now);
      }
      for (ssize_t i = 0; i < n && bf_cctl_awaiting_code(s->ctl); i++) {
        if (buf[i] == '\n') {
          line[line_len] = 0;
          bf_cctl_confirm_code(s->ctl, line_long ? "" : line, now);
          line_len = 0;
          line_long = 0;
        } else if (line_len + 1 < sizeof line) {
          line[line_len++] = buf[i];
        } else {
          line_long = 1;
        }
      }
      /* answered here: the window waits for the sender with us */
      if (s->ren && s->ps.phase == BF_PAIRSCREEN_ASKING && !bf_cctl_awaiting_code(s->ctl) &&
          bf_cctl_state_get(s->ctl) != BF_CCTL_CLOSED) {
        s->ps.phase = BF_PAIRSCREEN_CHECKING;
        pair_redraw(s);
      }
    }
  }
  bf_canvas_free(&s->ps_cv);
  bf_ctl_welcome w;
  bf_cctl_welcome(s->ctl, &w);
  if (cli->pair) { /* `bildfunk pair`: done */
    bf_cctl_close(s->ctl, BF_CTL_BYE_NORMAL, "paired", bf_client_now());
    return -1;
  }
  if (bf_cctl_seal_secret(s->ctl, secret, 32) < 0) {
    setup_error(s, "no seal secret from the control session");
    return 1;
  }
  s->ctl_sealed = 1;
  write_last_sender(s);
  *max_k = w.max_k;
  bf_cctl_data_addr(s->ctl, w.data_port, s->ctl_data, sizeof s->ctl_data);
  /* --data-via: the same sealed data plane through a relay; the sender sees
   * the relay's address, so it must share the control connection's IP */
  snprintf(data_addr, cap, "%s", s->data_via[0] ? s->data_via : s->ctl_data);
  const char *codec = bf_codec_name((bf_codec)w.codec);
  verbose(s, "session with %s: %s %ux%u@%u, S %u, K %u, FEC %u %%, data %s sealed%s%s",
          bf_cctl_endpoint(s->ctl), codec ? codec : "?", w.width, w.height, w.fps, w.shard_bytes,
          w.max_k, w.fec_percent, s->ctl_data, s->data_via[0] ? ", via " : "", s->data_via);
  return 0;
}

/* Opens the window; on failure the reason in |err| (when given) or on
 * stderr. */
static int open_window(session *s, const char *title, char *err, size_t cap) {
  const bf_cli *cli = s->cli;
  char buf[256];
  bf_renderer_config rc = {cli->fullscreen, cli->borderless, cli->vsync, cli->width,
                           cli->height,     cli->font,       title};
  if (bf_renderer_open(&rc, &s->ren, err ? err : buf, err ? cap : sizeof buf) < 0) {
    if (!err) fprintf(stderr, "bildfunk: %s (use --headless to decode without a window)\n", buf);
    return -1;
  }
  return 0;
}

static int env_set(const char *name) {
  const char *v = getenv(name);
  return v && *v;
}

/* Waits in the window for the next input, at most |ms|. */
static void window_wait(session *s, int ms) {
  struct pollfd p = {bf_renderer_event_fd(s->ren), POLLIN, 0};
  if (ms > 20) ms = 20; /* events may wait in Xlib's buffer, not on its socket */
  (void)poll(&p, 1, ms);
}

/* `bildfunk` without HOST: the window asks for the sender, prefilled with the
 * last one. Returns 0 with s->target set, or 1 (Esc, window closed, signal). */
static int ask_sender(session *s) {
  char last[BF_PAIRSCREEN_HOST];
  read_last_sender(s->cli, last, sizeof last);
  bf_pairscreen_ask_sender(&s->ps, last);
  pair_redraw(s);
  for (;;) {
    if (stop_signal) {
      fprintf(stderr, "bildfunk: interrupted before a sender was given\n");
      return 1;
    }
    bf_ui_action a;
    int dirty = 0;
    bf_renderer_tick(s->ren);
    while (bf_renderer_poll_event(s->ren, &a)) {
      int e = screen_edit(s, a);
      if (e >= 0) {
        dirty |= e;
        continue;
      }
      switch (a) {
      case BF_UI_ENTER:
        dirty = 1;
        if (bf_pairscreen_enter(&s->ps, NULL)) {
          snprintf(s->target, sizeof s->target, "%s", s->ps.host);
          return 0;
        }
        break;
      case BF_UI_CANCEL:
      case BF_UI_QUIT:
        fprintf(stderr, "bildfunk: no sender given (%s)\n",
                a == BF_UI_CANCEL ? "Esc in the window" : "the window was closed");
        return 1;
      default: /* screen_edit's */
        break;
      }
    }
    if (dirty) pair_redraw(s);
    window_wait(s, 20);
  }
}

#define FAILED_WAIT_NS (60 * SEC)

/* The control setup failed with the window open: it shows s->setup_err until
 * Enter, Esc, the window closed, a signal, or FAILED_WAIT_NS. */
static void show_failure(session *s) {
  snprintf(s->ps.host, sizeof s->ps.host, "%s", s->target);
  bf_pairscreen_fail(&s->ps, s->setup_err);
  pair_redraw(s);
  fprintf(stderr, "bildfunk: (the window shows this until Enter or Esc)\n");
  uint64_t end = bf_client_now() + FAILED_WAIT_NS;
  while (!stop_signal && bf_client_now() < end) {
    bf_ui_action a;
    int dirty = 0;
    bf_renderer_tick(s->ren);
    while (bf_renderer_poll_event(s->ren, &a)) {
      if (a == BF_UI_ENTER || a == BF_UI_CANCEL || a == BF_UI_QUIT) return;
      if (a == BF_UI_REDRAW || a == BF_UI_FULLSCREEN) dirty = 1;
    }
    if (dirty) pair_redraw(s);
    window_wait(s, 20);
  }
}

static void loop(session *s) {
  uint64_t end_ns =
      s->cli->duration_s > 0 ? s->start_ns + (uint64_t)(s->cli->duration_s * 1e9) : UINT64_MAX;
  while (!s->done) {
    if (stop_signal) {
      s->done = 1;
      s->end_reason = "signal";
      break;
    }
    uint64_t t0 = bf_client_now();
    int r = bf_pump_receive(s->pump, 8);
    if (r < 0) {
      say(s, "receive failed: %s", bf_strerror(r));
      s->done = 1;
      s->exit_code = 1;
      s->end_reason = "socket";
      break;
    }
    uint64_t now = bf_client_now();
    bf_pump_counters pc;
    bf_pump_counters_get(s->pump, &pc);
    if (pc.resumes != s->resumes) { /* video again after a silence: maybe a new sender */
      s->resumes = pc.resumes;
      bf_recovery_restart(&s->rcv);
      s->have_last = 0;
      s->md5_have_base = 0;
    }
    drain_events(s, now);
    s->net_ns += bf_client_now() - t0;

    if (s->ctl) service_control(s, now);
    if (s->done) break;

    uint32_t reason;
    if (!s->ending && bf_pump_bye(s->pump, &reason)) {
      if (!s->ctl_bye_ns) /* else the control session's Bye said so */
        say(s, "the sender ended the stream%s",
            reason == BF_BYE_REPLACED ? " (another client took over)"
            : reason == BF_BYE_ERROR  ? " after an error"
                                      : "");
      s->ending = 1;
    }
    if (!s->ending && s->ctl_bye_ns && now >= s->ctl_bye_ns + CTL_BYE_GRACE_NS) s->ending = 1;
    if (!s->ending) check_liveness(s, now);
    /* held AUs are not a decoder backlog */
    if (!s->cli->no_skip_to_live &&
        bf_recovery_backlog(&s->rcv, s->holding ? 0 : (uint32_t)s->qn, now))
      skip_to_live(s, now);

    bf_pump_window win;
    if (bf_pump_tick(s->pump, now, &win)) {
      bf_stats_on_packets(&s->st, win.expected, win.received);
      if (s->report) bf_report_on_packets(s->report, win.expected, win.received, now);
    }
    bf_feedback fb;
    /* no keyframe requests into the void while the sender is silent */
    if (!s->silent_reported && bf_recovery_poll(&s->rcv, now, &fb)) {
      bf_pump_send_feedback(s->pump, &fb);
      if (!s->ep_open && s->n_ep < BF_SESSION_EPISODES) {
        s->ep_open = 1;
        s->rec_ep[s->n_ep].id = fb.u.keyframe.request_id;
        s->rec_ep[s->n_ep].request_ns = now;
      }
      verbose(s, "keyframe request %u (frames %u..%u)", fb.u.keyframe.request_id,
              fb.u.keyframe.first_lost, fb.u.keyframe.last_lost);
    }
    handle_ui(s);
    if (s->done) break;
    if (now >= end_ns) {
      present_pending(s);
      s->done = 1;
      s->end_reason = "duration";
      break;
    }

    if (s->qn && decode_one(s)) continue; /* back to the socket before the next AU */
    present_pending(s);
    if (s->ending) {
      s->done = 1;
      s->end_reason = "bye";
      break;
    }
    now = bf_client_now();
    if (s->ren && s->ov.level != BF_OVERLAY_OFF && now >= s->next_text_ns) {
      refresh_text(s, now);
      if (now - s->last_present_ns >= 250 * MS) redraw(s);
    }

    /* nothing to do: sleep until the socket, the display or a timer */
    uint64_t due = min_u64(bf_pump_next_due(s->pump), end_ns);
    if (!s->silent_reported) {
      due = min_u64(due, bf_recovery_next_due(&s->rcv));
      uint64_t last = bf_pump_last_data_ns(s->pump);
      uint64_t ref = last > s->start_ns ? last : s->start_ns;
      due = min_u64(due, ref + (uint64_t)(s->cli->timeout_s * 1e9));
    }
    if (s->ctl) due = min_u64(due, bf_cctl_deadline(s->ctl));
    if (s->ctl_bye_ns) due = min_u64(due, s->ctl_bye_ns + CTL_BYE_GRACE_NS);
    int fd = -1;
    if (s->ren) {
      if (s->ov.level != BF_OVERLAY_OFF) due = min_u64(due, s->next_text_ns);
      fd = bf_renderer_event_fd(s->ren);
      int ms = bf_renderer_timeout_ms(s->ren);
      if (ms >= 0) due = min_u64(due, now + (uint64_t)ms * 1000000u);
      if (fd < 0) due = min_u64(due, now + 30 * MS); /* no fd to wait on: poll events */
    }
    uint64_t wait_ns = due > now ? due - now : 0;
    int timeout_ms = wait_ns >= SEC ? 1000 : (int)((wait_ns + MS - 1) / MS);
    if (timeout_ms > 0) {
      struct pollfd ex[2] = {{fd, POLLIN, 0}, {bf_cctl_fd(s->ctl), bf_cctl_poll_events(s->ctl), 0}};
      if (bf_pump_wait(s->pump, timeout_ms, ex, 2) > 0 && ex[1].revents) s->ctl_ready = 1;
    }
  }
}

static void write_report(session *s) {
  char title[160];
  snprintf(title, sizeof title, "bildfunk session report - %s", bf_pump_peer_name(s->pump));
  const bf_report_kv extra[] = {
      {"pictures decoded", (double)s->pictures},
      {"decode errors", (double)s->decode_errors},
      {"keyframe requests", (double)s->rcv.requests_new},
      {"keyframe request datagrams", (double)s->rcv.requests_sent},
      {"keyframes", (double)s->rcv.keyframes},
      {"recovered at a recovery point", (double)s->rcv.recovery_points},
      {"skips to live", (double)s->rcv.skips},
      {"gaps", (double)s->rcv.gaps},
      {"frames held for a reordered one", (double)s->rcv.holds},
      {"holds that ran out (gaps)", (double)s->rcv.holds_expired},
  };
  FILE *f = fopen(s->cli->report, "w");
  int r = f ? bf_report_write(s->report, &s->st, title, extra, sizeof extra / sizeof extra[0], f)
            : -errno;
  if (f && fclose(f) != 0 && r == 0) r = -EIO;
  if (r < 0) {
    say(s, "cannot write the report %s: %s", s->cli->report, strerror(-r));
    if (!s->exit_code) s->exit_code = 1;
  }
}

static void summary(session *s, uint64_t end_ns) {
  bf_stats_view v;
  bf_stats_view_session(&s->st, &v);
  int64_t off = 0;
  uint64_t rtt = 0;
  int synced = bf_clocksync_get(bf_pump_clock(s->pump), &off, &rtt) == 0;
  bf_reassembler_stats rs;
  bf_pump_reassembler_stats(s->pump, &rs);
  bf_pump_counters pc;
  bf_pump_counters_get(s->pump, &pc);
  /* CPU of the session loop (start-up, dynamic linking and window
   * creation excluded): what an idle or streaming client costs */
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  double cpu_s = cpu_seconds(&ru) - s->loop_cpu0_s;
  double wall_s = (double)(end_ns - s->loop_start_ns) / 1e9;
  uint64_t garbage = pc.garbage + pc.foreign;
  for (int i = BF_REJECT_OVERSIZE; i < BF_REJECT_PROBE; i++)
    garbage += rs.rejected[i];
  if (s->json_open) {
    char extra[8192];
    snprintf(
        extra, sizeof extra,
        "\"peer\": \"%s\", \"end\": \"%s\", \"exit_code\": %d, \"codec\": \"%s\", "
        "\"decoder\": \"%s\", \"renderer\": \"%s\", \"width\": %d, \"height\": %d, "
        "\"fps\": %.3f, \"pictures\": %llu, \"decode_errors\": %llu, "
        "\"keyframe_requests\": %llu, \"keyframe_request_datagrams\": %llu, "
        "\"keyframes\": %llu, \"skips\": %llu, \"gaps\": %llu, "
        "\"clock_synced\": %s, \"clock_offset_ms\": %.4f, \"rtt_ms\": %.4f, "
        "\"datagrams\": %llu, \"video_datagrams\": %llu, \"control_datagrams\": %llu, "
        "\"garbage_datagrams\": %llu, \"pongs\": %llu, \"punches\": %llu, "
        "\"reassembler_rejected\": %llu, \"recv_batches\": %llu, "
        "\"reordered_datagrams\": %llu, \"duplicate_datagrams\": %llu, "
        "\"reorder_late_max_ms\": %.3f, \"reorder_allowance_ms\": %.3f, \"holds\": %llu, "
        "\"holds_filled\": %llu, \"holds_expired\": %llu, \"shorts_ignored\": %llu, "
        "\"byes\": %llu, \"byes_ignored\": %llu, \"late_after_window\": %llu, "
        "\"wall_s\": %.3f, \"cpu_s\": %.3f, \"cpu_pct\": %.3f, \"net_cpu_pct\": %.4f",
        bf_pump_peer_name(s->pump), s->end_reason ? s->end_reason : "?", s->exit_code,
        s->dec ? bf_codec_name(bf_decoder_codec(s->dec)) : "none",
        s->dec ? bf_decoder_describe(s->dec) : "none",
        s->ren ? bf_renderer_describe(s->ren) : "headless", s->width, s->height,
        s->interval_ns ? 1e9 / (double)s->interval_ns : 0.0, (unsigned long long)s->pictures,
        (unsigned long long)s->decode_errors, (unsigned long long)s->rcv.requests_new,
        (unsigned long long)s->rcv.requests_sent, (unsigned long long)s->rcv.keyframes,
        (unsigned long long)s->rcv.skips, (unsigned long long)s->rcv.gaps,
        synced ? "true" : "false", (double)off / 1e6, (double)rtt / 1e6,
        (unsigned long long)pc.datagrams, (unsigned long long)pc.video,
        (unsigned long long)pc.control, (unsigned long long)garbage, (unsigned long long)pc.pongs,
        (unsigned long long)pc.punches, (unsigned long long)(rs.packets - rs.rejected[BF_ACCEPT]),
        (unsigned long long)pc.batches, (unsigned long long)pc.reordered,
        (unsigned long long)pc.duplicates, (double)pc.reorder_late_max_ns / 1e6,
        (double)s->rcv.allow_ns / 1e6, (unsigned long long)s->rcv.holds,
        (unsigned long long)s->rcv.holds_filled, (unsigned long long)s->rcv.holds_expired,
        (unsigned long long)s->rcv.shorts_ignored, (unsigned long long)pc.byes,
        (unsigned long long)pc.byes_ignored, (unsigned long long)pc.late_after_window, wall_s, cpu_s, wall_s > 0 ? 100.0 * cpu_s / wall_s : 0.0,
        wall_s > 0 ? 100.0 * (double)s->net_ns / 1e9 / wall_s : 0.0);
    size_t used = strlen(extra);
    bf_opener_stats os;
    int sealed = bf_pump_seal_stats(s->pump, &os);
    used += (size_t)snprintf(
        extra + used, sizeof extra - used,
        ", \"seal\": {\"sealed_mode\": %d, \"opened\": %llu, \"short\": %llu, "
        "\"oversize\": %llu, \"replay\": %llu, \"replay_old\": %llu, \"replay_dup\": %llu, "
        "\"bad_tag\": %llu, \"sealed\": %llu, \"seal_failed\": %llu}",
        sealed, (unsigned long long)os.opened, (unsigned long long)os.short_,
        (unsigned long long)os.oversize, (unsigned long long)(os.replay_old + os.replay_dup),
        (unsigned long long)os.replay_old, (unsigned long long)os.replay_dup,
        (unsigned long long)os.bad_tag, (unsigned long long)pc.sealed,
        (unsigned long long)pc.seal_failed);
    {
      char esc[sizeof s->ctl_end];
      size_t k = 0;
      for (const char *c = s->ctl_end; *c && k + 2 < sizeof esc; c++) {
        if (*c == '"' || *c == '\\') esc[k++] = '\\';
        esc[k++] = (unsigned char)*c < 0x20 ? ' ' : *c;
      }
      esc[k] = 0;
      int by_peer = 0;
      uint32_t why = s->ctl ? bf_cctl_reason(s->ctl, &by_peer) : 0;
      used += (size_t)snprintf(
          extra + used, sizeof extra - used,
          ", \"control\": {\"mode\": \"%s\", \"sealed\": %d, \"endpoint\": \"%s\", "
          "\"data_via\": \"%s\", \"paired_now\": %d, \"closed\": %d, \"bye_reason\": %u, "
          "\"by_peer\": %d, \"end\": \"%s\"}",
          s->ctl ? "control" : "direct", s->ctl ? s->ctl_sealed : sealed,
          s->ctl ? bf_cctl_endpoint(s->ctl) : "", s->data_via, s->ctl_paired_now,
          s->ctl ? bf_cctl_state_get(s->ctl) == BF_CCTL_CLOSED : 0, why, by_peer, esc);
    }
    used += (size_t)snprintf(extra + used, sizeof extra - used, ", \"recoveries\": [");
    for (size_t i = 0; i < s->n_ep && used < sizeof extra; i++)
      used += (size_t)snprintf(extra + used, sizeof extra - used,
                               "%s{\"request_id\": %u, \"request_ns\": %llu, \"present_ns\": %llu, "
                               "\"ms\": %.3f}",
                               i ? ", " : "", s->rec_ep[i].id,
                               (unsigned long long)s->rec_ep[i].request_ns,
                               (unsigned long long)s->rec_ep[i].present_ns,
                               (double)(s->rec_ep[i].present_ns - s->rec_ep[i].request_ns) / 1e6);
    if (used < sizeof extra) snprintf(extra + used, sizeof extra - used, "]");
    if (bf_stats_json_close(&s->json, &s->st, extra) < 0) {
      say(s, "cannot write the statistics file");
      if (!s->exit_code) s->exit_code = 1;
    }
    s->json_open = 0;
  }
  if (s->report) write_report(s);
  if (s->cli->quiet) return;
  fprintf(stderr,
          "bildfunk: %llu pictures (%llu shown) from %s, %llu frames lost, %llu repaired by FEC, "
          "%llu decode errors, %llu keyframe requests; loss %.2f %%\n",
          (unsigned long long)s->pictures, (unsigned long long)s->st.frames_presented,
          bf_pump_peer_name(s->pump), (unsigned long long)s->st.frames_lost,
          (unsigned long long)s->st.frames_repaired, (unsigned long long)s->decode_errors,
          (unsigned long long)s->rcv.requests_new, v.loss_total_pct);
  if (v.n[BF_STAGE_E2E])
    fprintf(stderr,
            "bildfunk: end-to-end p50 %.2f p95 %.2f p99 %.2f ms; decode p50 %.2f p95 %.2f ms; "
            "clock offset %+.3f ms (rtt %.3f ms%s)\n",
            v.p50[BF_STAGE_E2E], v.p95[BF_STAGE_E2E], v.p99[BF_STAGE_E2E], v.p50[BF_STAGE_DECODE],
            v.p95[BF_STAGE_DECODE], (double)off / 1e6, (double)rtt / 1e6,
            synced ? "" : ", not synced");
}

int bf_session_run(const bf_cli *cli) {
  session *s = calloc(1, sizeof *s);
  if (!s) return 1;
  s->cli = cli;
  s->start_ns = bf_client_now();
  char err[256];
  int code = 1;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  bf_recovery_init(&s->rcv, NULL);
  s->pending = av_frame_alloc();
  if (!s->pending || bf_stats_init(&s->st, 5 * SEC) < 0) {
    fprintf(stderr, "bildfunk: out of memory\n");
    goto out;
  }
  if (cli->report) {
    s->report = malloc(sizeof *s->report);
    if (!s->report) {
      fprintf(stderr, "bildfunk: out of memory\n");
      goto out;
    }
    bf_report_init(s->report, bf_client_now());
  }
  bf_pump_config pc = {cli->direct, cli->bind, cli->max_k, bf_client_now, NULL};
  uint8_t secret[32] = {0};
  char data_addr[BF_ADDR_STRLEN];
  if (cli->data_via) { /* before the session: a typo ends here, not after pairing */
    bf_addr via;
    int r = bf_addr_parse(cli->data_via, 0, &via);
    if (r < 0) {
      fprintf(stderr, "bildfunk: --data-via %s: %s\n", cli->data_via,
              r == -ENOENT   ? "host not found"
              : r == -EINVAL ? "not a valid host name"
                             : bf_strerror(r));
      code = r == -ENOENT ? 1 : 2;
      goto out;
    }
    bf_addr_format(&via, s->data_via, sizeof s->data_via);
  }
  if (cli->ask_sender) {
    /* no HOST: the window asks for it; without a window that is the usage
     * error it always was */
    if (!env_set("SDL_VIDEODRIVER") && !env_set("DISPLAY") && !env_set("WAYLAND_DISPLAY"))
      snprintf(err, sizeof err, "no display: neither DISPLAY nor WAYLAND_DISPLAY is set");
    else if (open_window(s, "bildfunk", err, sizeof err) == 0 && !bf_renderer_on_display(s->ren)) {
      snprintf(err, sizeof err, "no display");
      bf_renderer_close(&s->ren);
    }
    if (!s->ren) {
      fprintf(stderr,
              "bildfunk: no sender given: bildfunk HOST[:PORT] (or --direct HOST[:PORT]); no "
              "window to ask in (%s)\nTry 'bildfunk --help'.\n",
              err);
      code = 2;
      goto out;
    }
    if (ask_sender(s)) goto out;
  } else if (cli->target) {
    if (strlen(cli->target) >= sizeof s->target) {
      fprintf(stderr, "bildfunk: the sender's name is longer than %zu bytes: %.40s...\n",
              sizeof s->target - 1, cli->target);
      code = 2;
      goto out;
    }
    snprintf(s->target, sizeof s->target, "%s", cli->target);
  }
  if (s->target[0] && !cli->pair && !cli->headless) {
    /* the window first: the pairing can happen there (no terminal needed) */
    char title[128];
    snprintf(title, sizeof title, "bildfunk - %.100s", s->target);
    if (!s->ren && open_window(s, title, NULL, 0) < 0) goto out;
    bf_renderer_set_title(s->ren, title);
  }
  if (s->target[0]) { /* control session first; the pump follows its Welcome */
    int r = control_setup(s, data_addr, sizeof data_addr, secret, &pc.max_k);
    if (r) {
      code = r < 0 ? 0 : r; /* -1: `bildfunk pair` finished */
      /* the window says why, until the user has read it */
      if (r > 0 && s->ren && bf_renderer_on_display(s->ren) && s->setup_err[0] &&
          !s->setup_user_quit && !cli->no_wait_on_error)
        show_failure(s);
      goto out;
    }
    pc.direct = data_addr;
    pc.seal_secret = secret;
    s->start_ns = bf_client_now(); /* silence and --duration count from here, not from pairing */
  } else if (cli->seal_key_file) {
#ifdef BF_HAVE_SEAL
    if (bf_seal_secret_read_file(cli->seal_key_file, secret, err, sizeof err) < 0) {
      fprintf(stderr, "bildfunk: --seal-key-file: %s\n", err);
      code = 2;
      goto out;
    }
#endif
    pc.seal_secret = secret; /* the pump says so in a build without sealing */
  }
  int pr = bf_pump_open(&pc, &s->pump, err, sizeof err);
  memset(secret, 0, sizeof secret);
  if (pr < 0) {
    fprintf(stderr, "bildfunk: %s\n", err);
    if (pr == -EINVAL) code = 2; /* a malformed address is a usage error */
    goto out;
  }
  if (cli->framemd5) {
    int r = bf_framemd5_open(cli->framemd5, &s->md5);
    if (r < 0) {
      fprintf(stderr, "bildfunk: --framemd5 %s: %s\n", cli->framemd5, strerror(-r));
      goto out;
    }
  }
  if (cli->stats_json) {
    int r = bf_stats_json_open(&s->json, cli->stats_json);
    if (r < 0) {
      fprintf(stderr, "bildfunk: --stats-json %s: %s\n", cli->stats_json, strerror(-r));
      goto out;
    }
    s->json_open = 1;
  }
  if (!cli->headless) {
    char title[128];
    snprintf(title, sizeof title, "bildfunk - %s", bf_pump_peer_name(s->pump));
    if (!s->ren && open_window(s, title, NULL, 0) < 0) goto out;
    bf_text_ops ops;
    bf_renderer_text_ops(s->ren, cli->overlay, &ops);
    bf_overlay_init(&s->ov, cli->overlay, &ops);
    refresh_text(s, bf_client_now());
    redraw(s);
  }
  verbose(s, "punching %s", bf_pump_peer_name(s->pump));
  if (s->ctl && s->data_via[0])
    say(s, "streaming from %s (TLS control session, sealed data for %s via the relay %s)",
        bf_cctl_endpoint(s->ctl), s->ctl_data, bf_pump_peer_name(s->pump));
  else if (s->ctl)
    say(s, "streaming from %s (TLS control session, sealed data on %s)", bf_cctl_endpoint(s->ctl),
        bf_pump_peer_name(s->pump));
  else if (!cli->seal_key_file)
    say(s,
        "direct mode: the stream from %s is UNENCRYPTED and unauthenticated (diagnostics; "
        "use bildfunk HOST)",
        bf_pump_peer_name(s->pump));

  struct rusage ru0;
  getrusage(RUSAGE_SELF, &ru0);
  s->loop_start_ns = bf_client_now();
  s->loop_cpu0_s = cpu_seconds(&ru0);
  loop(s);

  uint64_t end = bf_client_now();
  if (s->ctl && bf_cctl_state_get(s->ctl) != BF_CCTL_CLOSED) {
    bf_cctl_close(s->ctl, s->exit_code ? BF_CTL_BYE_ERROR : BF_CTL_BYE_NORMAL,
                  s->end_reason ? s->end_reason : "", end);
    bf_cctl_close_message(s->ctl, s->ctl_end, sizeof s->ctl_end);
  }
  if (s->have_pending) present_pending(s);
  /* AUs still queued were never decoded */
  while (s->qn) {
    queued *q = &s->q[s->qhead];
    finish(s, &q->rec, BF_OUT_SKIPPED, end);
    bf_pump_release(s->pump, &q->f);
    s->qhead = (s->qhead + 1) % BF_SESSION_QUEUE;
    s->qn--;
  }
  if (!s->exit_code && s->pictures == 0 && (s->decode_errors || s->st.frames_completed)) {
    say(s, "no picture could be decoded (%llu frames received, %llu decode errors)",
        (unsigned long long)s->st.frames_completed, (unsigned long long)s->decode_errors);
    s->exit_code = 1;
  }
  if (s->md5 && bf_framemd5_close(&s->md5) < 0) {
    say(s, "cannot write the framemd5 file");
    s->exit_code = 1;
  }
  summary(s, end);
  code = s->exit_code;
out:
  if (s->json_open) bf_stats_json_close(&s->json, &s->st, NULL);
  bf_framemd5_close(&s->md5);
  bf_decoder_close(&s->dec);
  if (s->ren) {
    bf_overlay_free(&s->ov);
    bf_renderer_close(&s->ren);
  }
  /* the sender stops streaming to us at once instead of after its timeout */
  bf_pump_close(&s->pump, 1);
  bf_cctl_del(&s->ctl);
  bf_canvas_free(&s->ps_cv);
  bf_stats_free(&s->st);
  free(s->report);
  av_frame_free(&s->pending);
  free(s);
  return code;
}
