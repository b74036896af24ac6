/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The sender's setup and teardown: see send_setup.h.
 */
#include "send_setup.h"

#include "send_adapt.h"
#include "send_ctl.h"
#include "send_input.h"
#include "send_video.h"

#include <bildfunk/seal.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

static uint64_t auto_bitrate(const bf_source_info *si) {
  double px = (double)si->width * si->height * si->fps_num / si->fps_den;
  double b = px * 0.15;
  return b < 1000000 ? 1000000 : (uint64_t)b;
}

/* --audio auto: the picture source's own sound. */
static void resolve_audio(bf_send_options *o) {
  if (o->audio != BF_AUDIO_SRC_AUTO) return;
  if (o->source == BF_SOURCE_TESTSRC)
    o->audio = BF_AUDIO_SRC_TESTSRC;
  else if (o->source == BF_SOURCE_FILE)
    o->audio = BF_AUDIO_SRC_FILE;
  else if (bf_acap_pulse_available())
    o->audio = BF_AUDIO_SRC_PULSE;
  else {
    fprintf(stderr, "bildfunk-send: no PulseAudio server answers: streaming without sound\n");
    o->audio = BF_AUDIO_SRC_OFF;
  }
}

/* The sound source, the encoder and the audio thread, on the data
 * channel. A file without sound streams its picture alone. */
static int open_audio(bf_send_state *s, char *err, size_t cap) {
  const bf_send_options *o = &s->o;
  if (o->audio == BF_AUDIO_SRC_OFF) return 0;
  bf_send_audio_config ac = {
      .src = {.kind = o->audio,
              .arg = o->audio == BF_AUDIO_SRC_FILE ? o->source_arg : o->audio_arg,
              .drift_ppm = o->audio_test_drift_ppm,
              .anchor = &s->anchor,
              .verbose = o->verbose},
      .frame_ms = o->audio_frame_ms,
      .bitrate = o->audio_bitrate,
      .fec_k = o->audio_fec_k,
      .fec_m = o->audio_fec_m,
      .offset_ns = o->audio_test_offset_ns,
  };
  int r = bf_send_audio_open(&s->audio, &ac, s->ep.ch, err, cap);
  if (r == -ENODATA) { /* a file without sound: said once, the picture goes on */
    fprintf(stderr, "bildfunk-send: %s: streaming the picture alone\n", err);
    err[0] = 0;
    return 0;
  }
  if (r == 0) s->audio_on = 1;
  return r;
}

/* The source and, unless a file is passed through, the encoder. */
static int open_pictures(bf_send_state *s, char *err, size_t cap) {
  const bf_send_options *o = &s->o;
  int r;
  bf_source_config sc = {
      .kind = o->source,
      .arg = o->source_arg,
      .loop = o->loop,
      .width = o->width,
      .height = o->height,
      .fps_num = o->fps_num,
      .fps_den = o->fps_den,
      .codec = o->encoder ? (bf_codec)0 : o->codec, /* --encoder: always re-encode */
      .verbose = o->verbose,
      .flash = o->audio == BF_AUDIO_SRC_TESTSRC,
  };
  if ((r = bf_source_open(&sc, &s->src, err, cap)) < 0) return r;
  bf_source_info_get(s->src, &s->sinfo);
  if (o->source == BF_SOURCE_FILE && o->fps_num &&
      (uint64_t)o->fps_num * s->sinfo.fps_den != (uint64_t)s->sinfo.fps_num * o->fps_den)
    fprintf(stderr, "bildfunk-send: --fps ignored: a file plays at its own rate (%.3f fps)\n",
            (double)s->sinfo.fps_num / s->sinfo.fps_den);
  s->interval_ns = 1000000000ull * s->sinfo.fps_den / s->sinfo.fps_num;
  s->bitrate = o->bitrate ? o->bitrate : auto_bitrate(&s->sinfo);
  if (s->sinfo.passthrough && o->intra_refresh)
    fprintf(stderr, "bildfunk-send: --intra-refresh ignored: the file is passed through\n");
  if (s->sinfo.passthrough) return 0;
  bf_encoder_config ec = {
      .codec = o->codec,
      .name = o->encoder,
      .strict = o->encoder != NULL,
      .preset = o->preset,
      .width = s->sinfo.width,
      .height = s->sinfo.height,
      .fps_num = s->sinfo.fps_num,
      .fps_den = s->sinfo.fps_den,
      .bitrate = s->bitrate,
      .gop = o->gop,
      .slices = o->slices,
      .verbose = o->verbose,
      .intra_refresh = o->intra_refresh,
      .test_delay_ns = (uint64_t)o->test_encode_delay_ms * 1000000u,
  };
  if ((r = bf_encoder_open(&ec, &s->enc, err, cap)) < 0) return r;
  s->enc_cfg = ec;
  s->enc_cfg.name = bf_encoder_name(s->enc); /* after any fallback */
  bf_enc_guard_init(&s->guard, s->enc_cfg.name, o->preset, o->preset != NULL, s->interval_ns);
  if (o->intra_refresh)
    fprintf(stderr, "bildfunk-send: intra refresh: a wave every %u frames\n",
            bf_encoder_refresh_period(&ec));
  return 0;
}

/* The packetizer, the controllers, the pacer, the session, --dump-au. */
static int open_stream(bf_send_state *s, char *err, size_t cap) {
  const bf_send_options *o = &s->o;
  int r;
  bf_send_adapt_init(s);
  if ((r = bf_send_video_packetizer(s, o->shard_bytes, o->max_k, err, cap)) < 0) return r;
  bf_send_adapt_configure(s, o->shard_bytes, o->max_k, 0);
  bf_pacer_config pac = {o->rate_cap_bps, o->burst, o->spread_permille};
  if ((r = bf_pacer_init(&s->pacer, &pac)) < 0) {
    snprintf(err, cap, "pacer: bad settings");
    return r;
  }
  bf_send_session_config ssc;
  bf_send_session_config_default(&ssc);
  ssc.silence_ns = o->silence_ns;
  ssc.closed = !o->direct;
  if (o->allow) {
    if ((r = bf_addr_parse(o->allow, 0, &ssc.allow)) < 0) {
      snprintf(err, cap, "--allow: cannot use address '%s': %s", o->allow, bf_strerror(r));
      return r;
    }
    ssc.allow_set = 1;
  }
  bf_send_session_init(&s->ss, &ssc);
  if (o->dump_au && !(s->dump = fopen(o->dump_au, "wb"))) {
    r = -errno;
    snprintf(err, cap, "cannot create --dump-au file '%s': %s", o->dump_au, strerror(-r));
    return r;
  }
  return 0;
}

/* Sealed direct mode: the key file's secret keys the data endpoint. */
static int open_seal_key(bf_send_state *s, char *err, size_t cap) {
#ifdef BF_HAVE_SEAL
  uint8_t secret[32] = {0};
  char why[256];
  int r = bf_seal_secret_read_file(s->o.seal_key_file, secret, why, sizeof why);
  if (r < 0) snprintf(err, cap, "--seal-key-file: %s", why);
  if (r == 0 && (r = bf_send_endpoint_key(&s->ep, secret)) < 0)
    snprintf(err, cap, "sealed data plane: %s", bf_strerror(r));
  memset(secret, 0, sizeof secret);
  return r;
#else
  (void)s;
  snprintf(err, cap, "--seal-key-file: this build has no sealed data plane (no OpenSSL)");
  return -ENOTSUP;
#endif
}

/* The data endpoint, its key, the control plane. */
static int open_planes(bf_send_state *s, char *err, size_t cap) {
  const bf_send_options *o = &s->o;
  bf_send_endpoint_config ec = {
      .bind = o->listen,
      .gso = o->gso,
      .require_seal = !o->direct,
      .shard_bytes = o->shard_bytes,
      .burst_max = BF_SEND_BURST,
      .send_threads = o->audio != BF_AUDIO_SRC_OFF,
  };
  int r = bf_send_endpoint_open(&s->ep, &ec, &s->ss, err, cap);
  if (r == 0 && o->seal_key_file) r = open_seal_key(s, err, cap);
  if (r == 0) r = open_audio(s, err, cap); /* before the offer: it says whether there is sound */
  if (r == 0) r = bf_send_input_open(s, err, cap); /* before the offer: its grants */
  if (r == 0 && !o->direct) r = bf_send_relay_configure(s, err, cap); /* before the offer */
  if (r == 0 && !o->direct) r = bf_send_ctl_open(s, err, cap);
  return r;
}

int bf_send_setup_open(bf_send_state *s, char *err, size_t cap) {
  bf_file_anchor_init(&s->anchor);
  resolve_audio(&s->o);
  int r = open_pictures(s, err, cap);
  if (r == 0) r = open_stream(s, err, cap);
  if (r == 0) r = open_planes(s, err, cap);
  return r;
}

void bf_send_setup_close(bf_send_state *s) {
  bf_send_audio_close(&s->audio); /* its thread sends on the channel: first */
  s->audio_on = 0;
  bf_send_ctl_close(s);
  bf_send_input_close(s);
  if (s->dump) fclose(s->dump);
  s->dump = NULL;
  bf_send_endpoint_close(&s->ep);
  bf_packetizer_del(&s->pk);
  bf_encoder_close(&s->enc);
  bf_source_close(&s->src);
  bf_file_anchor_destroy(&s->anchor);
}

void bf_send_setup_banner(bf_send_state *s) {
  bf_addr local;
  char la[BF_ADDR_STRLEN];
  if (bf_transport_local_addr(bf_send_endpoint_transport(&s->ep), &local) == 0)
    bf_addr_format(&local, la, sizeof la);
  else
    snprintf(la, sizeof la, "%s", s->o.listen);
  if (s->ctl_mode)
    bf_send_ctl_banner(s, la);
  else
    fprintf(stderr, "bildfunk-send: listening on %s (direct mode: the stream is %s)\n", la,
            bf_channel_sealed(s->ep.ch) ? "sealed with the --seal-key-file secret" : "UNENCRYPTED");
  fprintf(stderr,
          "bildfunk-send: %s at %.3f fps -> %s %s %.2f Mbit/s; S=%u K=%u FEC %u%%%s; GSO %s\n",
          s->sinfo.desc, (double)s->sinfo.fps_num / s->sinfo.fps_den, bf_codec_name(s->o.codec),
          s->enc ? bf_encoder_name(s->enc) : "passthrough", (double)s->bitrate / 1e6,
          s->o.shard_bytes, s->o.max_k, s->fec_applied, s->o.fec_auto ? " (auto)" : "",
          s->o.gso && bf_udp_offload_enabled() ? "on" : "off");
  if (s->audio_on)
    fprintf(stderr,
            "bildfunk-send: sound: %s -> Opus %u ms frames, %u kbit/s, Reed-Solomon %s (to "
            "clients that ask for it)\n",
            bf_send_audio_describe(&s->audio), s->o.audio_frame_ms, s->o.audio_bitrate / 1000,
            s->o.audio_fec_m ? "on" : "off");
  else
    fprintf(stderr, "bildfunk-send: sound: off\n");
}
