/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The sender's video stage: see send_video.h.
 */
#include "send_video.h"

#include "send_adapt.h"
#include "send_input.h"

#include <bildfunk/clock.h>

#include <errno.h>
#include <stdio.h>

/* Sends every burst of the current AU the pacer allows at |now|. */
static void send_paced(bf_send_state *s, uint64_t now) {
  for (;;) {
    uint64_t next;
    uint32_t n = bf_pacer_poll(&s->pacer, now, &next);
    if (n == 0) return;
    if (n > BF_SEND_BURST) n = BF_SEND_BURST;
    int got = bf_packetizer_next(s->pk, s->burst, n);
    if (got <= 0) { /* the AU is done (or the FEC coder failed): skip the rest */
      bf_pacer_sent(&s->pacer, now, s->pacer.packets - s->pacer.sent);
      return;
    }
    int r = bf_send_endpoint_burst(&s->ep, s->burst, (size_t)got, s->o.gso);
    s->send_calls++;
    uint64_t ok = r > 0 ? (uint64_t)r : 0;
    s->packets_sent += ok;
    s->packets_dropped += (uint64_t)got - ok;
    s->win_packets += ok;
    s->win_drops += (uint64_t)got - ok;
    bf_pacer_sent(&s->pacer, now, (uint32_t)got);
    if (!bf_pacer_busy(&s->pacer)) { /* the AU's last burst: the host's part is done */
      uint64_t t = bf_clock_realtime_ns(), us = t > s->au_pts_ns ? (t - s->au_pts_ns) / 1000 : 0;
      bf_send_endpoint_frame_info(&s->ep, s->au_index, us > UINT32_MAX ? UINT32_MAX : (uint32_t)us);
    }
    now = bf_clock_mono_ns();
  }
}

/* Starts sending AU |au| of |len| bytes captured at |pts_ns|: dump it,
 * packetize it, and plan its bursts. */
static int begin_au(bf_send_state *s, const uint8_t *au, size_t len, uint64_t pts_ns,
                    int key_wanted) {
  if (len == 0) {
    s->encoder_empty++;
    return 0;
  }
  if (len > BF_SEND_MAX_AU_BYTES) {
    s->au_too_big++;
    return 0;
  }
  bf_au_info ai;
  bf_au_inspect(s->o.codec, au, len, &ai);
  if (ai.malformed) s->au_malformed++;
  if (key_wanted && !ai.keyframe) s->keyframe_misses++;
  if (s->dump && fwrite(au, 1, len, s->dump) != len) {
    fprintf(stderr, "bildfunk-send: cannot write --dump-au file '%s'\n", s->o.dump_au);
    return -EIO;
  }
  bf_send_adapt_before_au(s, len, ai.keyframe);
  uint32_t flags = ai.keyframe ? BF_AU_KEYFRAME : 0;
  if (bf_refresh_track(&s->refresh, &ai)) {
    flags |= BF_AU_RECOVERY_POINT;
    s->recovery_points++;
  }
  int r = bf_packetizer_begin(s->pk, au, len, pts_ns, flags);
  if (r < 0) {
    fprintf(stderr, "bildfunk-send: packetizer: %s\n", bf_strerror(r));
    return r;
  }
  bf_send_adapt_after_au(s);
  bf_packetizer_au_info info;
  bf_packetizer_au_info_get(s->pk, &info);
  s->au_index = info.frame_index;
  s->au_pts_ns = pts_ns;
  bf_pacer_begin(&s->pacer, bf_clock_mono_ns(), s->interval_ns, info.remaining, s->packet_bytes);
  s->frames_sent++;
  s->frames_streamed++;
  s->au_bytes += len;
  s->win_frames++;
  s->win_bytes += len;
  if (ai.keyframe) s->keyframes_sent++;
  return 0;
}

/* Takes the next AU out of the encoder and starts sending it. 1 if there
 * was one, 0 if not, negative on failure. */
static int next_encoded(bf_send_state *s) {
  bf_encoded au;
  if (!s->enc || !bf_encoder_receive(s->enc, &au)) return 0;
  bf_hist_add(&s->enc_all, au.encode_ns);
  bf_hist_add(&s->enc_win, au.encode_ns);
  int step = bf_enc_guard_add(&s->guard, au.encode_ns);
  if (step) s->guard_pending = step;
  int r = begin_au(s, au.data, au.len, au.capture_ns, au.keyframe_requested);
  return r < 0 ? r : 1;
}

/* The guard's step: the encoder reopened at the new preset (its first
 * picture is a keyframe), one line said. The old one stays when the new
 * one cannot open. */
static void guard_step(bf_send_state *s) {
  int step = s->guard_pending;
  s->guard_pending = 0;
  char was[16], err[256] = "";
  snprintf(was, sizeof was, "%s", s->enc_cfg.preset ? s->enc_cfg.preset : "");
  if (!was[0]) { /* the wrapper's default: the guard knows its name */
    bf_enc_guard g = s->guard;
    g.pos = (unsigned)((int)g.pos - step);
    bf_enc_guard_preset(&g, was, sizeof was);
  }
  bf_enc_guard_preset(&s->guard, s->guard_preset, sizeof s->guard_preset);
  bf_encoder_config ec = s->enc_cfg;
  ec.preset = s->guard_preset;
  ec.strict = 1; /* the encoder that ran, not a fallback */
  if (s->guard.pos != s->guard.start) ec.test_delay_ns = 0; /* the delay is the start preset's */
  bf_encoder *ne = NULL;
  if (bf_encoder_open(&ec, &ne, err, sizeof err) < 0) {
    fprintf(stderr, "bildfunk-send: encoder guard: cannot reopen %s at preset %s: %s\n", ec.name,
            s->guard_preset, err);
    return;
  }
  uint64_t bps = bf_encoder_bitrate(s->enc);
  bf_encoder_close(&s->enc);
  s->enc = ne;
  if (bps != bf_encoder_bitrate(ne)) bf_encoder_set_bitrate(ne, bps);
  ec.test_delay_ns = s->enc_cfg.test_delay_ns;
  s->enc_cfg = ec;
  s->guard_switches++;
  fprintf(stderr,
          "bildfunk-send: encoder guard: encode p95 %.1f ms %s the frame interval %.1f ms: "
          "preset %s -> %s at a keyframe\n",
          (double)s->guard.last_p95_ns / 1e6, step < 0 ? "above" : "well below",
          (double)s->interval_ns / 1e6, was, s->guard_preset);
}

/* Captures the next picture: into the encoder, or (passthrough) straight
 * out as an AU. */
static int capture(bf_send_state *s, uint64_t now) {
  char err[512] = "";
  int want_key = bf_send_session_take_keyframe(&s->ss, now);
  if (want_key && !s->enc) bf_source_want_keyframe(s->src);
  bf_source_item item;
  int r = bf_source_read(s->src, &item, err, sizeof err);
  if (r == -ENODATA) {
    fprintf(stderr, "bildfunk-send: end of %s\n", s->o.source_arg ? s->o.source_arg : "source");
    s->finished = 1;
    return 0;
  }
  if (r < 0) {
    fprintf(stderr, "bildfunk-send: %s\n", err[0] ? err : bf_strerror(r));
    return r;
  }
  if (s->audio_on && s->o.audio == BF_AUDIO_SRC_FILE && item.pass != s->anchor_pass) {
    s->anchor_pass = item.pass; /* the file's sound follows this pass (acap_file.c) */
    bf_file_anchor_set(&s->anchor, item.pass, item.pts_ns, item.media_ns);
  }
  bf_send_input_captured(s, item.pts_ns); /* the input applied before this picture */
  if (!item.frame) return begin_au(s, item.au, item.au_len, item.pts_ns, want_key);
  if (s->guard_pending) guard_step(s);
  r = bf_encoder_send(s->enc, item.frame, item.pts_ns, want_key, err, sizeof err);
  if (r < 0) {
    fprintf(stderr, "bildfunk-send: %s\n", err);
    return r;
  }
  r = next_encoded(s);
  return r < 0 ? r : 0;
}

int bf_send_video_step(bf_send_state *s, uint64_t now, uint64_t *deadline) {
  int r;
  if (bf_pacer_busy(&s->pacer)) {
    send_paced(s, now);
    uint64_t next;
    if (bf_pacer_poll(&s->pacer, bf_clock_mono_ns(), &next) == 0 && next < *deadline)
      *deadline = next;
    if (bf_pacer_busy(&s->pacer)) return BF_SEND_VIDEO_WAIT;
  }
  if ((s->o.frames && s->frames_streamed >= s->o.frames) ||
      (s->o.duration_ns && now - s->stream_start_ns >= s->o.duration_ns)) {
    s->finished = 1;
    return BF_SEND_VIDEO_AGAIN;
  }
  /* an AU the encoder finished late goes out before the next capture */
  if ((r = next_encoded(s)) != 0) return r < 0 ? r : BF_SEND_VIDEO_AGAIN;
  if (now >= s->next_capture_ns) {
    if ((r = capture(s, now)) < 0) return r;
    s->next_capture_ns += s->interval_ns;
    now = bf_clock_mono_ns();
    if (s->next_capture_ns + s->interval_ns < now) { /* fell behind: resync, count it */
      s->frames_late++;
      s->next_capture_ns = now + s->interval_ns;
    }
    return BF_SEND_VIDEO_AGAIN;
  }
  if (s->next_capture_ns < *deadline) *deadline = s->next_capture_ns;
  /* an asynchronous encoder (SVT-AV1, hardware) may finish an AU any
   * moment: look every millisecond */
  if (s->enc && bf_encoder_owed(s->enc) > 0 && now + BF_MS_NS < *deadline)
    *deadline = now + BF_MS_NS;
  return BF_SEND_VIDEO_WAIT;
}

void bf_send_video_restart(bf_send_state *s, uint64_t now) {
  bf_send_adapt_reset(s); /* another client, another network */
  bf_refresh_reset(&s->refresh);
  bf_pacer_begin(&s->pacer, now, s->interval_ns, 0, s->packet_bytes);
  if (s->enc) bf_encoder_reset(s->enc);
  if (s->src) bf_source_want_keyframe(s->src);
}

void bf_send_video_start(bf_send_state *s, uint64_t now) {
  bf_send_video_restart(s, now);
  s->next_capture_ns = now;
  s->stream_start_ns = now;
  s->frames_streamed = 0;
}

void bf_send_video_stop(bf_send_state *s) {
  bf_pacer_begin(&s->pacer, 0, s->interval_ns, 0, s->packet_bytes); /* drop what is left */
  bf_send_endpoint_set_peer(&s->ep, NULL);
}

void bf_send_video_keyframe(bf_send_state *s) {
  if (s->src && !s->enc) bf_source_want_keyframe(s->src);
}

int bf_send_video_packetizer(bf_send_state *s, unsigned shard_bytes, unsigned max_k, char *err,
                             size_t cap) {
  bf_packetizer_config pc;
  bf_packetizer_config_default(&pc);
  pc.shard_bytes = (uint16_t)shard_bytes;
  pc.max_k = (uint16_t)max_k;
  pc.fec_percent = s->fec_applied;
  pc.max_frame_bytes = BF_SEND_MAX_AU_BYTES;
  bf_packetizer_del(&s->pk);
  int r = bf_packetizer_new(&pc, &s->pk);
  if (r < 0) snprintf(err, cap, "packetizer: %s", bf_strerror(r));
  s->packet_bytes = BF_HEADER_BYTES + shard_bytes + BF_SEND_IP_UDP_OVERHEAD;
  return r;
}
