/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The video stage: queue, gate, decode, present. See playback.h.
 */
#include "playback.h"

#include <bildfunk/clock.h>
#include <bildfunk/common.h>
#include <bildfunk/wire.h>

#include <libavutil/error.h>

#include <string.h>
#include <time.h>

#define MS BF_MS_NS
#define SEC BF_SEC_NS

/* --- into the queue ------------------------------------------------------------------ */

/* The frame interval from pts spacing, smoothed, for the gate. */
static void track_interval(bf_client *c, const bf_frame *f) {
  if (c->have_last && bf_seq32_diff(f->frame_index, c->last_idx) > 0 && f->pts_ns > c->last_pts) {
    uint64_t d = (f->pts_ns - c->last_pts) / (uint32_t)bf_seq32_diff(f->frame_index, c->last_idx);
    if (d > MS && d < SEC) {
      c->interval_ns = c->interval_ns ? (c->interval_ns * 7 + d) / 8 : d;
      bf_decode_gate_set_frame_interval(&c->gate, c->interval_ns);
    }
  }
  if (!c->have_last || bf_seq32_diff(f->frame_index, c->last_idx) > 0) {
    c->have_last = 1;
    c->last_idx = f->frame_index;
    c->last_pts = f->pts_ns;
  }
}

static void on_frame(bf_client *c, bf_frame *f, uint64_t now) {
  track_interval(c, f);
  bf_nominal_rate_push(&c->rate, f->frame_index, f->pts_ns);
  if (!c->first_au_ns) c->first_au_ns = now ? now : 1;
  bf_queued_au au;
  memset(&au, 0, sizeof au);
  au.f = *f;
  bf_frame_record *rec = &au.rec;
  rec->frame_index = f->frame_index;
  rec->bytes = (uint32_t)f->len;
  rec->user_flags = f->user_flags;
  rec->shards_received = f->shards_received;
  rec->shards_recovered = f->shards_recovered;
  rec->data_shards = f->data_shards;
  rec->parity_shards = f->parity_shards;
  rec->pts_ns = f->pts_ns;
  rec->capture_ns = (uint64_t)((int64_t)f->pts_ns - bf_client_clock_offset(c));
  rec->first_shard_ns = f->first_arrival_ns;
  rec->last_shard_ns = f->last_arrival_ns;
  bf_stats_on_completed(&c->st, rec, now);
  /* in frame_index order: an AU that overtook an earlier one on the network
   * waits behind it (the gate holds it, see decode_gate.h) */
  if (bf_au_queue_push(&c->q, &au) < 0) {
    /* skip-to-live on, and more AUs completed at once than the queue holds
     * (off never gets here: see back-pressure below): counted as skipped */
    if (!c->queue_full_drops++)
      bf_client_say(c, "%u pictures wait for the decoder: frame %u dropped", BF_AU_QUEUE_MAX,
                    f->frame_index);
    bf_client_outcome(c, rec, BF_OUT_SKIPPED, now);
    bf_pump_release(c->pump, f);
  }
}

/* --skip-to-live off: a full queue holds the stream back instead of dropping:
 * completed AUs wait in the reassembler, within its memory budget (the
 * socket is still read: garbage and control keep their way, and a flood
 * cannot fill the kernel's buffer in front of the video). */
static int queue_full(const bf_client *c) {
  return c->cli->no_skip_to_live && bf_au_queue_len(&c->q) >= BF_AU_QUEUE_MAX;
}

static void backpressure(bf_client *c, int on, uint64_t now) {
  if (on == c->backpressure) return;
  c->backpressure = on;
  if (on) {
    if (!c->backpressure_waits++)
      bf_client_say(c,
                    "the decoder is slower than the stream: %u pictures wait, so the next ones "
                    "wait in the reassembler until it catches up (--skip-to-live off; beyond "
                    "its memory budget they are lost, counted)",
                    BF_AU_QUEUE_MAX);
    c->backpressure_since_ns = now;
  } else {
    c->backpressure_ns += now - c->backpressure_since_ns;
  }
}

void bf_playback_take_events(bf_client *c, uint64_t now) {
  bf_event ev;
  int more = 0;
  while (!(more = queue_full(c)) && bf_pump_event(c->pump, &ev)) {
    switch (ev.type) {
    case BF_EVENT_FRAME:
      on_frame(c, &ev.u.frame, now);
      break;
    case BF_EVENT_LOSS: {
      uint32_t n = ev.u.loss.last - ev.u.loss.first + 1;
      bf_stats_on_lost(&c->st, n);
      if (c->report) bf_report_on_lost(c->report, n, now);
      bf_decode_gate_on_loss(&c->gate, ev.u.loss.first, ev.u.loss.last, now);
      if (ev.u.loss.au_flags & BF_AU_KEYFRAME)
        bf_decode_gate_on_key_lost(&c->gate, ev.u.loss.last, 0, now);
      bf_client_verbose(c, "frames %u..%u lost", ev.u.loss.first, ev.u.loss.last);
      break;
    }
    case BF_EVENT_BLOCK_SHORT:
      /* the block's last shard came and it still cannot be rebuilt: treat
       * the AU as lost now instead of when it ages out (unless the network
       * reorders: then stragglers may still come) */
      bf_decode_gate_on_short(&c->gate, ev.u.block.frame_index, now);
      if (ev.u.block.au_flags & BF_AU_KEYFRAME)
        bf_decode_gate_on_key_lost(&c->gate, ev.u.block.frame_index, 1, now);
      bf_client_verbose(c, "frame %u block %u short (%u of %u shards)", ev.u.block.frame_index,
                        ev.u.block.block_index, ev.u.block.have, ev.u.block.need);
      break;
    }
  }
  backpressure(c, more, now);
  bf_decode_gate_set_reorder(&c->gate, bf_pump_reorder_ns(c->pump, now));
}

void bf_playback_restart(bf_client *c) {
  bf_decode_gate_restart(&c->gate);
  bf_nominal_rate_init(&c->rate);
  c->have_last = 0;
  c->md5_have_base = 0;
}

uint32_t bf_playback_backlog(const bf_client *c) {
  if (c->holding) return 0; /* waiting for an earlier one, not for the decoder */
  uint32_t idx[BF_AU_QUEUE_MAX], flags[BF_AU_QUEUE_MAX], n = 0;
  const bf_queued_au *au;
  while ((au = bf_au_queue_at(&c->q, n)) != NULL) {
    idx[n] = au->f.frame_index;
    flags[n++] = au->f.user_flags;
  }
  return n < c->gate.cfg.backlog_frames ? n : bf_decode_gate_decodable(&c->gate, idx, flags, n);
}

/* Every queued AU dropped, counted as skipped; returns how many. */
static size_t drop_queue(bf_client *c, uint64_t now) {
  size_t n = bf_au_queue_len(&c->q);
  bf_queued_au au;
  while (bf_au_queue_pop(&c->q, &au)) {
    bf_client_outcome(c, &au.rec, BF_OUT_SKIPPED, now);
    bf_pump_release(c->pump, &au.f);
  }
  return n;
}

void bf_playback_skip_to_live(bf_client *c, uint64_t now) {
  size_t n = drop_queue(c, now);
  bf_pump_reset_reassembly(c->pump);
  /* why: decoding slower than the stream (a backlog a fast decoder clears
   * is decoded through: decode_gate.h) */
  bf_client_say(c,
                "decoder fell behind: skipped %zu queued frames, asking for a keyframe (a decode "
                "takes %.1f ms, a frame comes every %.1f ms)",
                n, (double)bf_decode_gate_decode_cost(&c->gate) / 1e6,
                (double)c->gate.cfg.frame_interval_ns / 1e6);
}

/* --- decode ------------------------------------------------------------------------------ */

/* The decoder for |want|, opened unless it is the one open. 0 or negative
 * (said; the stream ends). */
static int open_decoder(bf_client *c, bf_codec want) {
  if (c->dec && bf_decoder_codec(c->dec) == want) return 0;
  if (c->dec) bf_client_say(c, "the stream changed to %s", bf_codec_name(want));
  bf_decoder_close(&c->dec);
  bf_hwdec hw = c->hw_failed ? BF_HWDEC_SOFTWARE : c->cli->decoder;
  bf_decoder_config dc = {want, hw, c->cli->threads, c->cli->verbose};
  char err[256];
  int r = bf_decoder_open(&dc, &c->dec, err, sizeof err);
  if (r < 0) {
    bf_client_say(c, "decoder: %s", err);
    c->exit_code = 1;
    c->done = 1;
    c->end_reason = "decoder";
    return r;
  }
  bf_client_verbose(c, "decoding %s with %s", bf_codec_name(want), bf_decoder_describe(c->dec));
  return 0;
}

static int ensure_decoder(bf_client *c, const bf_frame *f) {
  bf_codec want = c->cli->codec;
  if (want == BF_CODEC_UNKNOWN) want = bf_codec_detect(f->data, f->len);
  if (want == BF_CODEC_UNKNOWN) {
    if (c->dec) return 0; /* keep the codec we have */
    if (!c->codec_unknown_logged++)
      bf_client_say(c,
                    "cannot tell the codec of frame %u (no H.264 SPS, HEVC VPS or AV1 sequence "
                    "header); use --codec",
                    f->frame_index);
    return -EINVAL;
  }
  return open_decoder(c, want);
}

int bf_playback_prepare(bf_client *c, bf_codec codec) {
  bf_codec want = c->cli->codec != BF_CODEC_UNKNOWN ? c->cli->codec : codec;
  if (want == BF_CODEC_UNKNOWN) return 0; /* told at the first keyframe */
  uint64_t t0 = bf_clock_epoch_ns();
  int r = open_decoder(c, want);
  bf_client_verbose(c, "decoder opened before the stream in %.1f ms",
                    (double)(bf_clock_epoch_ns() - t0) / 1e6);
  return r;
}

static void log_decode_error(bf_client *c, uint32_t idx, int err, uint64_t now) {
  c->decode_errors++;
  if (c->err_log_ns && now - c->err_log_ns < SEC) {
    c->err_suppressed++;
    return;
  }
  char e[96];
  av_strerror(err, e, sizeof e);
  if (c->err_suppressed)
    bf_client_say(c, "decoder rejected frame %u: %s (and %llu more); waiting for a keyframe", idx,
                  e, (unsigned long long)c->err_suppressed);
  else
    bf_client_say(c, "decoder rejected frame %u: %s; waiting for a keyframe", idx, e);
  c->err_log_ns = now;
  c->err_suppressed = 0;
}

/* The hardware decoder failed (not the stream): it is closed, the next
 * keyframe opens a software decoder (the gate waits for it and asks the
 * sender for it); the session goes on. One line. */
static void hw_fallback(bf_client *c) {
  bf_client_say(c, "hardware decoder %s failed; decoding in software from the next keyframe",
                bf_decoder_describe(c->dec));
  bf_decoder_close(&c->dec);
  c->hw_failed = 1;
  c->decoder_fallbacks++;
}

/* --framemd5: the picture's line, its pts counted from the first one. */
static void write_md5(bf_client *c, const AVFrame *pic, uint32_t frame_index) {
  if (!c->md5_have_base) {
    c->md5_have_base = 1;
    c->md5_base = frame_index;
  }
  int64_t pts = (int64_t)(uint32_t)(frame_index - c->md5_base);
  if (bf_framemd5_write(c->md5, pic, pts, bf_decoder_frame_rate(c->dec)) < 0 && !c->end_reason) {
    bf_client_say(c, "cannot write the framemd5 file");
    c->exit_code = 1;
    c->done = 1;
    c->end_reason = "framemd5";
  }
}

/* A decoded, shown picture: it becomes the pending one (a pending one not yet
 * presented is replaced). */
static void keep_picture(bf_client *c, AVFrame *pic, bf_queued_au *it, uint64_t now) {
  c->pictures++;
  if (c->ep_open && !c->ep_key && (it->rec.user_flags & (BF_AU_KEYFRAME | BF_AU_RECOVERY_POINT))) {
    c->ep_key = 1;
    c->ep_key_idx = it->f.frame_index;
    c->ep_key_flags = it->rec.user_flags;
  }
  if (pic->width != c->width || pic->height != c->height) {
    bf_client_verbose(c, "stream %dx%d", pic->width, pic->height);
    c->width = pic->width;
    c->height = pic->height;
  }
  if (c->md5) write_md5(c, pic, it->f.frame_index);
  if (c->have_pending) {
    av_frame_unref(c->pending);
    c->have_pending = 0;
    bf_client_outcome(c, &c->pending_rec, BF_OUT_REPLACED, now);
  }
  if (av_frame_ref(c->pending, pic) == 0) {
    c->pending_rec = it->rec;
    c->have_pending = 1;
  } else {
    bf_client_outcome(c, &it->rec, BF_OUT_REPLACED, now);
  }
}

/* Decodes |it| (the gate said so), its frame released to the pump. Returns 1
 * when it gave a picture to show, else 0. */
static int decode(bf_client *c, bf_queued_au *it, bf_gate g) {
  uint64_t now = bf_clock_epoch_ns();
  int r = (it->f.user_flags & BF_AU_KEYFRAME) || !c->dec ? ensure_decoder(c, &it->f) : 0;
  if (r < 0 || !c->dec) {
    bf_pump_release(c->pump, &it->f);
    c->decode_errors++;
    bf_decode_gate_on_decode_error(&c->gate, it->f.frame_index, now);
    bf_client_outcome(c, &it->rec, BF_OUT_DECODE_ERROR, now);
    return 0;
  }
  AVFrame *pic = NULL;
  it->rec.decode_start_ns = bf_clock_epoch_ns();
  r = bf_decoder_decode(c->dec, it->f.data, it->f.len, it->f.frame_index, &pic);
  if (c->cli->debug_decode_delay_ms) {
    struct timespec ts = {(time_t)(c->cli->debug_decode_delay_ms / 1000),
                          (long)(c->cli->debug_decode_delay_ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
  }
  it->rec.decode_end_ns = bf_clock_epoch_ns();
  now = it->rec.decode_end_ns;
  if (bf_decoder_decodes(c->dec) > 1) /* what a decode costs, for skip-to-live */
    bf_decode_gate_on_decode_time(&c->gate, now - it->rec.decode_start_ns);
  bf_pump_release(c->pump, &it->f);
  if (r == BF_DECODER_HW_FAILED) {
    c->decode_errors++;
    hw_fallback(c);
  } else if (r < 0) {
    log_decode_error(c, it->f.frame_index, r, now);
  }
  if (r < 0) {
    bf_decode_gate_on_decode_error(&c->gate, it->f.frame_index, now);
    bf_client_outcome(c, &it->rec, BF_OUT_DECODE_ERROR, now);
    return 0;
  }
  if (!pic) {
    bf_client_outcome(c, &it->rec, BF_OUT_NO_PICTURE, now);
    return 0;
  }
  if (g == BF_GATE_DECODE_HIDDEN) { /* rebuilding references until a recovery point */
    bf_client_outcome(c, &it->rec, BF_OUT_HIDDEN, now);
    return 0;
  }
  keep_picture(c, pic, it, now);
  return 1;
}

int bf_playback_decode_one(bf_client *c) {
  uint64_t now = bf_clock_epoch_ns();
  const bf_queued_au *head = bf_au_queue_head(&c->q);
  uint32_t queued = (uint32_t)bf_au_queue_len(&c->q);
  c->holding = !c->ending && bf_decode_gate_hold(&c->gate, head->f.frame_index, head->f.user_flags,
                                                 queued, head->rec.last_shard_ns, now);
  if (c->holding) return 0;
  bf_queued_au it;
  bf_au_queue_pop(&c->q, &it);
  /* an empty AU (frame_bytes 0, legal) keeps the order but is no keyframe,
   * and never reaches libavcodec: a 0-byte packet is its drain signal */
  uint32_t flags = it.f.len ? it.f.user_flags
                            : it.f.user_flags & ~(uint32_t)(BF_AU_KEYFRAME | BF_AU_RECOVERY_POINT);
  bf_gate g = bf_decode_gate_on_frame(&c->gate, it.f.frame_index, flags, now);
  if (!it.f.len && (g == BF_GATE_DECODE || g == BF_GATE_DECODE_HIDDEN)) {
    bf_client_verbose(c, "frame %u is empty: skipped", it.f.frame_index);
    bf_pump_release(c->pump, &it.f);
    bf_client_outcome(c, &it.rec, BF_OUT_EMPTY, now);
    return 1;
  }
  if (g != BF_GATE_DECODE && g != BF_GATE_DECODE_HIDDEN) {
    bf_outcome out = g == BF_GATE_WAIT_KEY ? BF_OUT_WAIT_KEY
                     : g == BF_GATE_GAP    ? BF_OUT_GAP
                                           : BF_OUT_STALE;
    if (g == BF_GATE_GAP)
      bf_client_verbose(c, "frame %u came before an earlier one: gap", it.f.frame_index);
    bf_pump_release(c->pump, &it.f);
    bf_client_outcome(c, &it.rec, out, now);
    return 1;
  }
  if (decode(c, &it, g) && c->cli->frames && c->pictures >= c->cli->frames) {
    bf_playback_present(c);
    c->done = 1;
    c->end_reason = "frames";
  }
  return 1;
}

/* --- present ------------------------------------------------------------------------------ */

/* The overlay's font for the window's size now: the window takes the
 * stream's size at the first picture, after the overlay was set up. */
static void overlay_font(bf_client *c) {
  int w, h;
  bf_display_output_size(c->display, &w, &h);
  bf_text_ops ops;
  bf_display_text_ops(c->display, c->ov.level >= BF_OVERLAY_NORMAL, &ops);
  bf_overlay_set_font(&c->ov, &ops);
  c->ov.font_h = h;
}

void bf_playback_overlay_text(bf_client *c, uint64_t now) {
  if (!c->display || c->ov.level == BF_OVERLAY_OFF) return;
  int w, h;
  bf_display_output_size(c->display, &w, &h);
  if (h != c->ov.font_h) overlay_font(c);
  bf_stats_view v;
  bf_stats_view_now(&c->st, now, &v);
  bf_overlay_info info;
  memset(&info, 0, sizeof info);
  info.width = c->width;
  info.height = c->height;
  info.fps = bf_client_nominal_fps(c);
  info.codec = c->dec ? bf_codec_name(bf_decoder_codec(c->dec)) : NULL;
  info.decoder = c->dec ? bf_decoder_describe(c->dec) : NULL;
  int64_t off;
  uint64_t rtt;
  info.clock_synced = bf_clocksync_get(bf_pump_clock(c->pump), &off, &rtt) == 0;
  info.clock_offset_ms = info.clock_synced ? (double)off / 1e6 : 0;
  info.rtt_ms = info.clock_synced ? (double)rtt / 1e6 : 0;
  info.keyframe_requests = c->gate.requests_new;
  info.skips = c->gate.skips;
  info.decode_errors = c->decode_errors;
  bf_reassembler_stats rs;
  bf_pump_reassembler_stats(c->pump, &rs);
  info.rejected = rs.packets - rs.rejected[BF_ACCEPT] - rs.rejected[BF_REJECT_DUPLICATE];
  info.waiting_key = c->gate.need_key && c->pictures > 0;
  if (c->audio) {
    bf_astream_figures af;
    bf_astream_figures_get(c->audio, &af);
    info.audio.on = af.playing;
    info.audio.muted = af.muted;
    info.audio.p50_ms = af.lat_p50_ms;
    info.audio.p95_ms = af.lat_p95_ms;
    info.audio.av_offset_ms = af.av_offset_ms;
    info.audio.marker = af.have_marker;
    info.audio.marker_ms = af.marker_median_ms;
    info.audio.concealed = af.concealed;
    info.audio.late = af.late;
  }
  if (c->input) {
    bf_photon_view ph;
    bf_photon_recent(bf_fwd_photon(c->input), &ph);
    info.input_n = ph.n;
    info.input_p50_ms = ph.p50_ms;
    info.input_p95_ms = ph.p95_ms;
    info.input_p99_ms = ph.p99_ms;
  }
  bf_overlay_set_text(&c->ov, &v, &c->st, &info);
  /* 4 Hz while pictures come, 1 Hz when idle */
  c->next_text_ns = now + (now - c->last_present_ns < SEC ? 250 * MS : SEC);
}

void bf_playback_redraw(bf_client *c) {
  if (!c->display) return;
  bf_overlay_draw(&c->ov, &c->st);
  /* not a new picture: last_present_ns stays */
  bf_display_present(c->display, bf_overlay_canvas(&c->ov));
}

void bf_playback_set_overlay(bf_client *c, bf_overlay_level level) {
  bf_overlay_set_level(&c->ov, level);
  overlay_font(c);
  bf_playback_overlay_text(c, bf_clock_epoch_ns());
}

void bf_playback_present(bf_client *c) {
  if (!c->have_pending) return;
  c->have_pending = 0;
  if (c->display && bf_display_upload(c->display, c->pending) == 0) {
    /* the stacked graph includes this frame */
    uint64_t t = bf_clock_epoch_ns();
    if (t >= c->next_text_ns) bf_playback_overlay_text(c, t);
    bf_overlay_draw(&c->ov, &c->st);
    bf_display_present(c->display, bf_overlay_canvas(&c->ov));
  }
  uint64_t now = bf_clock_epoch_ns();
  c->pending_rec.present_ns = now;
  if (c->audio) /* the sync target and the A/V markers */
    bf_astream_on_picture(c->audio, c->pending, now, c->pending_rec.pts_ns,
                          (int64_t)(now - c->pending_rec.capture_ns));
  const bf_frame_record *r = &c->pending_rec;
  if (!c->last_present_ns) /* what the first picture cost, for a slow start */
    bf_client_verbose(c,
                      "first picture on screen %.1f ms after its last shard: %.1f ms to the "
                      "decoder (opening it included), decoded in %.1f ms, presented in %.1f ms",
                      (double)(now - r->last_shard_ns) / 1e6,
                      (double)(r->decode_start_ns - r->last_shard_ns) / 1e6,
                      (double)(r->decode_end_ns - r->decode_start_ns) / 1e6,
                      (double)(now - r->decode_end_ns) / 1e6);
  c->last_present_ns = now;
  /* the recovery is on screen: its keyframe (recovery point), or a picture
   * decoded after it that replaced it before it was shown */
  if (c->ep_open && c->ep_key) {
    c->rec_ep[c->n_ep].present_ns = now;
    c->rec_ep[c->n_ep].key_idx = c->ep_key_idx;
    bf_client_verbose(c, "recovered: %s %u on screen %.1f ms after the request",
                      (c->ep_key_flags & BF_AU_KEYFRAME) ? "keyframe" : "recovery point",
                      c->ep_key_idx, (double)(now - c->rec_ep[c->n_ep].request_ns) / 1e6);
    c->n_ep++;
    c->ep_open = 0;
    c->ep_key = 0;
  }
  av_frame_unref(c->pending);
  bf_client_outcome(c, &c->pending_rec, BF_OUT_PRESENTED, now);
}

int bf_playback_present_due(const bf_client *c, uint64_t now) {
  return c->display && c->have_pending && c->cli->no_skip_to_live &&
         now - c->last_present_ns >= BF_PLAYBACK_STALE_NS;
}

void bf_playback_flush(bf_client *c, uint64_t now) {
  if (c->have_pending) bf_playback_present(c);
  drop_queue(c, now); /* never decoded */
}
