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
  bf_queued_au au;
  memset(&au, 0, sizeof au);
  au.f = *f;
  bf_frame_record *rec = &au.rec;
  rec->frame_index = f->frame_index;
  rec->bytes = (uint32_t)f->len;
  rec->user_flags = f->user_flags;
  rec->shards_received = f->shards_received;
  rec->shards_recovered = f->shards_recovered;
  rec->pts_ns = f->pts_ns;
  rec->capture_ns = (uint64_t)((int64_t)f->pts_ns - bf_client_clock_offset(c));
  rec->first_shard_ns = f->first_arrival_ns;
  rec->last_shard_ns = f->last_arrival_ns;
  bf_stats_on_completed(&c->st, rec, now);
  /* in frame_index order: an AU that overtook an earlier one on the network
   * waits behind it (the gate holds it, see decode_gate.h) */
  if (bf_au_queue_push(&c->q, &au) < 0) {
    /* Only with --skip-to-live off (skip-to-live empties the queue long
     * before): never block the network side; the AU is counted as skipped. */
    bf_client_outcome(c, rec, BF_OUT_SKIPPED, now);
    bf_pump_release(c->pump, f);
  }
}

void bf_playback_take_events(bf_client *c, uint64_t now) {
  bf_event ev;
  while (bf_pump_event(c->pump, &ev)) {
    switch (ev.type) {
    case BF_EVENT_FRAME:
      on_frame(c, &ev.u.frame, now);
      break;
    case BF_EVENT_LOSS: {
      uint32_t n = ev.u.loss.last - ev.u.loss.first + 1;
      bf_stats_on_lost(&c->st, n);
      if (c->report) bf_report_on_lost(c->report, n, now);
      bf_decode_gate_on_loss(&c->gate, ev.u.loss.first, ev.u.loss.last, now);
      bf_client_verbose(c, "frames %u..%u lost", ev.u.loss.first, ev.u.loss.last);
      break;
    }
    case BF_EVENT_BLOCK_SHORT:
      /* the block's last shard came and it still cannot be rebuilt: treat
       * the AU as lost now instead of when it ages out (unless the network
       * reorders: then stragglers may still come) */
      bf_decode_gate_on_short(&c->gate, ev.u.block.frame_index, now);
      bf_client_verbose(c, "frame %u block %u short (%u of %u shards)", ev.u.block.frame_index,
                        ev.u.block.block_index, ev.u.block.have, ev.u.block.need);
      break;
    }
  }
  bf_decode_gate_set_reorder(&c->gate, bf_pump_reorder_ns(c->pump, now));
}

void bf_playback_restart(bf_client *c) {
  bf_decode_gate_restart(&c->gate);
  c->have_last = 0;
  c->md5_have_base = 0;
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
  bf_client_say(c, "decoder fell behind: skipped %zu queued frames, asking for a keyframe", n);
}

/* --- decode ------------------------------------------------------------------------------ */

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
  if (c->dec && bf_decoder_codec(c->dec) == want) return 0;
  if (c->dec) bf_client_say(c, "the stream changed to %s", bf_codec_name(want));
  bf_decoder_close(&c->dec);
  bf_decoder_config dc = {want, c->cli->decoder, c->cli->threads, c->cli->verbose};
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
  bf_pump_release(c->pump, &it->f);
  if (r < 0) {
    log_decode_error(c, it->f.frame_index, r, now);
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
  bf_gate g = bf_decode_gate_on_frame(&c->gate, it.f.frame_index, it.f.user_flags, now);
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

void bf_playback_overlay_text(bf_client *c, uint64_t now) {
  if (!c->display || c->ov.level == BF_OVERLAY_OFF) return;
  bf_stats_view v;
  bf_stats_view_now(&c->st, now, &v);
  bf_overlay_info info;
  memset(&info, 0, sizeof info);
  info.width = c->width;
  info.height = c->height;
  info.fps = c->interval_ns ? 1e9 / (double)c->interval_ns : 0;
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
  bf_text_ops ops;
  bf_display_text_ops(c->display, level >= BF_OVERLAY_NORMAL, &ops);
  bf_overlay_set_font(&c->ov, &ops);
  bf_overlay_set_level(&c->ov, level);
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
  c->last_present_ns = now;
  c->pending_rec.present_ns = now;
  if (c->audio) /* the sync target and the A/V markers */
    bf_astream_on_picture(c->audio, c->pending, now, c->pending_rec.pts_ns,
                          (int64_t)(now - c->pending_rec.capture_ns));
  if (c->ep_open && (c->pending_rec.user_flags & (BF_AU_KEYFRAME | BF_AU_RECOVERY_POINT))) {
    c->rec_ep[c->n_ep].present_ns = now;
    bf_client_verbose(c, "recovered: %s %u on screen %.1f ms after the request",
                      (c->pending_rec.user_flags & BF_AU_KEYFRAME) ? "keyframe" : "recovery point",
                      c->pending_rec.frame_index,
                      (double)(now - c->rec_ep[c->n_ep].request_ns) / 1e6);
    c->n_ep++;
    c->ep_open = 0;
  }
  av_frame_unref(c->pending);
  bf_client_outcome(c, &c->pending_rec, BF_OUT_PRESENTED, now);
}

void bf_playback_flush(bf_client *c, uint64_t now) {
  if (c->have_pending) bf_playback_present(c);
  drop_queue(c, now); /* never decoded */
}
