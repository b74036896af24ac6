/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * bildfunk-send command line: see send_cli.h.
 */
#include "send_cli.h"

#include <bildfunk/turn_conf.h>
#include <bildfunk/common.h>
#include <bildfunk/ctl_codec.h>
#include <bildfunk/feedback.h>
#include <bildfunk/inputlink.h>
#include <bildfunk/lan.h>
#include <bildfunk/wire.h>

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void bf_send_options_default(bf_send_options *o) {
  memset(o, 0, sizeof *o);
  snprintf(o->listen_buf, sizeof o->listen_buf, "0.0.0.0:%u", (unsigned)BF_DEFAULT_DATA_PORT);
  o->listen = o->listen_buf;
  snprintf(o->control_buf, sizeof o->control_buf, "0.0.0.0:%u", (unsigned)BF_CTL_DEFAULT_PORT);
  o->control = o->control_buf;
  o->pair_timeout_ns = 60000000000ull;
  o->source = BF_SOURCE_TESTSRC;
  o->loop = 1;
  o->codec = BF_CODEC_H264;
  o->fec_percent = 10;
  o->fec_auto = 1;
  o->rate_control = 1;
  o->shard_bytes = BF_DEFAULT_SHARD_V4;
  o->max_k = BF_DEFAULT_MAX_K;
  o->rate_cap_bps = 800000000ull;
  o->spread_permille = 250;
  o->burst = 32;
  o->gso = 1;
  o->silence_ns = 10000000000ull;
  o->audio_frame_ms = 5;
  o->audio_bitrate = 128000;
  o->audio_fec_k = 2;
  o->audio_fec_m = 1;
  o->input_classes = BF_INCLASS_ALL;
}

void bf_send_usage(FILE *out) {
  fprintf(out,
          "usage: bildfunk-send [options]\n"
          "       bildfunk-send --list-clients | --revoke NAME|FPPREFIX [--config-dir DIR]\n"
          "\n"
          "Streams a picture source to one bildfunk client over UDP. By default a client\n"
          "connects to the control port first (TCP + TLS 1.3): a new client is paired\n"
          "once (you type the 6-digit code it shows; its user types the one shown\n"
          "here), paired clients are recognised by\n"
          "their certificate, and the stream is sealed (AES-128-GCM) with keys from\n"
          "that session. --direct is the old diagnostic mode: no control session, the\n"
          "client punches to our data port, and the stream is UNENCRYPTED.\n"
          "\n"
          "Session:\n"
          "  --control [ADDR:]PORT  control port (TCP, TLS 1.3) to wait on\n"
          "                         (default 0.0.0.0:%u; 0 = any free port)\n"
          "  --listen [ADDR:]PORT   data port to wait on (default 0.0.0.0:%u)\n"
          "  --config-dir DIR       identity (sender-*.pem) and paired clients (file\n"
          "                         'clients'); default ~/.config/bildfunk\n"
          "  --no-pairing           refuse pairing requests (paired clients only)\n"
          "  --pair-timeout S       wait S seconds for the pairing code to be typed (60)\n"
          "  --no-publish           do not publish the sender on the LAN (DNS-SD, Avahi)\n"
          "  --lan-name NAME        the name published on the LAN (default: host name)\n"
          "  --list-clients         print the paired clients and exit\n"
          "  --revoke NAME|FP       unpair a client (name, or 8+ hex digits of its\n"
          "                         fingerprint) and exit\n"
          "  --direct               direct mode (diagnostics): no control session,\n"
          "                         anyone may punch in, the stream is UNENCRYPTED\n"
          "  --allow IP             direct mode: only a client from this IP may start\n"
          "  --silence S            drop a client silent for S seconds (default 10)\n"
          "  --turn turn:HOST[:PORT] a TURN relay (e.g. coturn; port 3478) for the data\n"
          "                         path of a client that has none, when its punch does\n"
          "                         not get in (file 'turn' in the config directory:\n"
          "                         lines turn, user, pass, secret)\n"
          "  --turn-user USER       the relay's long-term credentials, with --turn-pass\n"
          "  --turn-pass PASSWORD\n"
          "  --turn-secret SECRET   or its TURN REST shared secret\n"
          "  --relay auto|always|never  auto (default): through our relay when neither a\n"
          "                         punch nor the client's relay came within 4.5 s\n"
          "  --seal-key-file FILE   direct mode: seal the data plane (AES-128-GCM, spec 6)\n"
          "                         with the 32-byte secret in FILE (64 hex digits),\n"
          "                         shared out of band; for tests and diagnostics\n"
          "Input (from the paired client of a control session; never in --direct):\n"
          "  --input all|none|LIST  what the client may drive: all (default), none, or\n"
          "                         a comma list of keyboard, mouse, gamepad\n"
          "  --input-backend auto|xtest|uinput\n"
          "                         auto (default): XTest into the x11 source's\n"
          "                         display, /dev/uinput for gamepads (and for keyboard\n"
          "                         and mouse with a file source); testsrc draws what\n"
          "                         it gets; xtest: XTest into the x11 source's display\n"
          "                         or $DISPLAY; uinput: everything through /dev/uinput\n"
          "Source:\n"
          "  --source SRC           testsrc (default), file:PATH, x11[:DISPLAY]\n"
          "                         (x11:0 is DISPLAY :0; x11 alone takes $DISPLAY)\n"
          "  --no-loop              file: stop at the end instead of starting over\n"
          "  --size WxH             picture size (testsrc default 1280x720; file, x11:\n"
          "                         their own size unless given)\n"
          "  --fps N[/D]            frame rate (default 60; file: the file's rate)\n"
          "Encoding:\n"
          "  --codec h264|hevc|av1  (default h264)\n"
          "  --encoder NAME         libavcodec encoder (default libx264, libx265,\n"
          "                         libsvtav1); hardware ones such as h264_vaapi or\n"
          "                         h264_nvenc when present, else the software one\n"
          "  --preset NAME          encoder preset (default veryfast, ultrafast, 12);\n"
          "                         pins it: without it a guard steps to a faster\n"
          "                         preset (at a keyframe) when encoding cannot keep\n"
          "                         the frame rate, and back when there is room\n"
          "  --test-encode-delay MS test option: each encode at the starting preset\n"
          "                         takes MS longer (a machine too slow for it)\n"
          "  --bitrate RATE         e.g. 20M, 8000k (default: from size and rate); a\n"
          "                         number without a unit is bit/s and must be at least\n"
          "                         100000 (20000 is refused: write 20000k or 20M)\n"
          "  --gop N                a keyframe every N frames (default: only at start,\n"
          "                         for a new client and on request)\n"
          "  --slices N             slices per frame (AV1: tile columns)\n"
          "  --intra-refresh        libx264: periodic intra refresh (a column wave per\n"
          "                         keyframe interval) instead of IDR pictures\n"
          "Transport:\n"
          "  --fec auto|PCT         Reed-Solomon parity in %% of data shards: auto (default)\n"
          "                         follows the client's loss reports (start 10, 1-50);\n"
          "                         a number 0-90 pins it\n"
          "  --rate-control on|off  adapt the total send rate (video + FEC + headers)\n"
          "                         to the client's loss reports (default on; libx264\n"
          "                         follows at once, other encoders keep their bitrate)\n"
          "  --shard BYTES          shard payload size S, even, %u-%u (%u)\n"
          "  --max-k K              data shards per FEC block (%u)\n"
          "  --rate-cap RATE        pacing rate cap, e.g. 800M (default), 0 = none\n"
          "  --pace-spread PCT      spread a frame's bursts over PCT %% of the frame\n"
          "                         interval (25)\n"
          "  --burst N              most packets per burst / send call (32)\n"
          "  --no-gso               no UDP segmentation offload\n"
          "Sound:\n"
          "  --audio SRC            testsrc (a 1 kHz tone, a 2 kHz beep at every whole\n"
          "                         second, the picture flashes with it), file (the\n"
          "                         file's own sound), pulse[:SOURCE] (PulseAudio;\n"
          "                         default the default sink's monitor) or off; default:\n"
          "                         testsrc for testsrc, file for file:, pulse for x11\n"
          "                         when a PulseAudio server answers; sent only to a\n"
          "                         client that asks for sound\n"
          "  --audio-frame 5|10     Opus frame length in ms (5)\n"
          "  --audio-bitrate RATE   Opus constant bitrate, 16k-256k (128k)\n"
          "  --audio-fec K+M|off    Reed-Solomon over blocks of K frames with M parity\n"
          "                         datagrams (2+1)\n"
          "  --audio-test-offset MS\n"
          "                         test: shift the sound's capture times by MS\n"
          "  --audio-test-drift PPM\n"
          "                         test: the test tone's sample clock runs PPM fast\n"
          "Run:\n"
          "  --frames N             stop after streaming N frames\n"
          "  --duration S           stop after streaming S seconds\n"
          "  --stats-json FILE      write statistics as JSON at exit\n"
          "  --dump-au FILE         write every access unit sent (.h264, .hevc, .obu)\n"
          "  --quiet                no status line\n"
          "  --verbose              FFmpeg's own messages too\n"
          "  -h, --help             this text;  -V, --version: the version\n",
          (unsigned)BF_CTL_DEFAULT_PORT, (unsigned)BF_DEFAULT_DATA_PORT, (unsigned)BF_MIN_SHARD,
          (unsigned)BF_MAX_SHARD, (unsigned)BF_DEFAULT_SHARD_V4, (unsigned)BF_DEFAULT_MAX_K);
}

static int fail(char *err, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t cap, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  if (err && cap) vsnprintf(err, cap, fmt, ap);
  va_end(ap);
  return -EINVAL;
}

static int parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out) {
  if (!s || !*s || *s == '-' || *s == '+') return -EINVAL;
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || *end || v < lo || v > hi) return -EINVAL;
  *out = v;
  return 0;
}

static int parse_uint(const char *s, unsigned lo, unsigned hi, unsigned *out) {
  uint64_t v;
  if (parse_u64(s, lo, hi, &v)) return -EINVAL;
  *out = (unsigned)v;
  return 0;
}

int bf_parse_bitrate(const char *s, uint64_t *out) {
  if (!s || !*s || *s == '-' || *s == '+') return -EINVAL;
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || end == s || v < 0) return -EINVAL;
  double mul = 1;
  if (*end == 'k' || *end == 'K')
    mul = 1e3, end++;
  else if (*end == 'm' || *end == 'M')
    mul = 1e6, end++;
  else if (*end == 'g' || *end == 'G')
    mul = 1e9, end++;
  if (*end || v * mul > 1e12) return -EINVAL;
  *out = (uint64_t)(v * mul + 0.5);
  return 0;
}

/* A rate of bare digits (no unit) below a plausible video rate: someone
 * typed kbit/s, as Moonlight takes them. Refused, with the forms that work. */
#define BF_BARE_RATE_MIN 100000u
static int bare_rate_too_low(const char *s, uint64_t bps) {
  return strspn(s, "0123456789.") == strlen(s) && bps < BF_BARE_RATE_MIN;
}

static int parse_seconds(const char *s, uint64_t *ns) {
  if (!s || !*s || *s == '-' || *s == '+') return -EINVAL;
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || end == s || *end || !(v > 0) || v > 1e7) return -EINVAL;
  *ns = (uint64_t)(v * 1e9 + 0.5);
  return 0;
}

static int parse_size(const char *s, unsigned *w, unsigned *h) {
  const char *x = s ? strchr(s, 'x') : NULL;
  if (!x) return -EINVAL;
  char wb[16];
  size_t n = (size_t)(x - s);
  if (n == 0 || n >= sizeof wb) return -EINVAL;
  memcpy(wb, s, n);
  wb[n] = 0;
  if (parse_uint(wb, 64, 8192, w) || parse_uint(x + 1, 48, 8192, h)) return -EINVAL;
  if ((*w | *h) & 1u) return -EINVAL;
  return 0;
}

static int parse_fps(const char *s, unsigned *num, unsigned *den) {
  if (!s || !*s) return -EINVAL;
  const char *slash = strchr(s, '/');
  if (slash) {
    char nb[16];
    size_t n = (size_t)(slash - s);
    if (n == 0 || n >= sizeof nb) return -EINVAL;
    memcpy(nb, s, n);
    nb[n] = 0;
    if (parse_uint(nb, 1, 1000000, num) || parse_uint(slash + 1, 1, 1000000, den)) return -EINVAL;
  } else {
    if (*s == '-' || *s == '+') return -EINVAL;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v > 0)) return -EINVAL;
    *num = (unsigned)(v * 1000 + 0.5);
    *den = 1000;
  }
  double f = (double)*num / *den;
  if (f < 1 || f > 1000) return -EINVAL;
  return 0;
}

static int parse_source(const char *s, bf_send_options *o) {
  if (!strcmp(s, "testsrc")) {
    o->source = BF_SOURCE_TESTSRC;
    o->source_arg = NULL;
  } else if (!strncmp(s, "file:", 5) && s[5]) {
    o->source = BF_SOURCE_FILE;
    o->source_arg = s + 5;
  } else if (!strcmp(s, "x11")) {
    o->source = BF_SOURCE_X11;
    o->source_arg = NULL;
  } else if (!strncmp(s, "x11:", 4)) {
    o->source = BF_SOURCE_X11;
    o->source_arg = s[4] ? s + 4 : NULL;
  } else {
    return -EINVAL;
  }
  return 0;
}

/* "[ADDR:]PORT" into |buf| (128 bytes) as "ADDR:PORT" (ADDR 0.0.0.0 when missing). */
static int parse_bind(const char *s, char *buf, size_t cap) {
  if (!s || !*s) return -EINVAL;
  unsigned port;
  if (strspn(s, "0123456789") == strlen(s)) {
    if (parse_uint(s, 0, 65535, &port)) return -EINVAL;
    snprintf(buf, cap, "0.0.0.0:%u", port);
  } else if (s[0] == ':') {
    if (parse_uint(s + 1, 0, 65535, &port)) return -EINVAL;
    snprintf(buf, cap, "0.0.0.0:%u", port);
  } else {
    const char *colon = strrchr(s, ':');
    if (strlen(s) >= cap || !colon || colon == s || parse_uint(colon + 1, 0, 65535, &port))
      return -EINVAL;
    snprintf(buf, cap, "%s", s);
  }
  return 0;
}

static int parse_listen(const char *s, bf_send_options *o) {
  if (parse_bind(s, o->listen_buf, sizeof o->listen_buf)) return -EINVAL;
  o->listen = o->listen_buf;
  return 0;
}

/* Options that take a value. */
static const char *const with_value[] = {"--listen",
                                         "--allow",
                                         "--source",
                                         "--codec",
                                         "--encoder",
                                         "--preset",
                                         "--test-encode-delay",
                                         "--size",
                                         "--fps",
                                         "--bitrate",
                                         "--gop",
                                         "--slices",
                                         "--fec",
                                         "--shard",
                                         "--max-k",
                                         "--rate-cap",
                                         "--pace-spread",
                                         "--burst",
                                         "--frames",
                                         "--duration",
                                         "--silence",
                                         "--stats-json",
                                         "--dump-au",
                                         "--seal-key-file",
                                         "--control",
                                         "--config-dir",
                                         "--revoke",
                                         "--turn",
                                         "--turn-user",
                                         "--turn-pass",
                                         "--turn-secret",
                                         "--relay",
                                         "--pair-timeout",
                                         "--lan-name",
                                         "--rate-control",
                                         "--input",
                                         "--input-backend",
                                         "--audio",
                                         "--audio-frame",
                                         "--audio-bitrate",
                                         "--audio-fec",
                                         "--audio-test-offset",
                                         "--audio-test-drift",
                                         NULL};

static int takes_value(const char *name) {
  for (size_t i = 0; with_value[i]; i++)
    if (!strcmp(with_value[i], name)) return 1;
  return 0;
}

static int parse_i64(const char *s, int64_t lo, int64_t hi, int64_t *out) {
  if (!s || !*s) return -EINVAL;
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno || *end || v < lo || v > hi) return -EINVAL;
  *out = v;
  return 0;
}

static int parse_audio_src(const char *s, bf_send_options *o) {
  o->audio_arg = NULL;
  if (!strcmp(s, "off"))
    o->audio = BF_AUDIO_SRC_OFF;
  else if (!strcmp(s, "testsrc"))
    o->audio = BF_AUDIO_SRC_TESTSRC;
  else if (!strcmp(s, "file"))
    o->audio = BF_AUDIO_SRC_FILE;
  else if (!strcmp(s, "pulse"))
    o->audio = BF_AUDIO_SRC_PULSE;
  else if (!strncmp(s, "pulse:", 6) && s[6])
    o->audio = BF_AUDIO_SRC_PULSE, o->audio_arg = s + 6;
  else
    return -EINVAL;
  return 0;
}

/* The sound's options. 0, -EINVAL with the message, or 1: not one of them. */
static int apply_audio(bf_send_options *o, const char *name, const char *v, char *err,
                       size_t cap) {
  int64_t i64;
  uint64_t u64;
  if (!strcmp(name, "--audio")) {
    if (parse_audio_src(v, o))
      return fail(err, cap, "--audio: unknown sound source '%s' (testsrc, file, pulse[:SOURCE], off)",
                  v);
  } else if (!strcmp(name, "--audio-frame")) {
    if (strcmp(v, "5") && strcmp(v, "10"))
      return fail(err, cap, "--audio-frame: '%s' is not 5 or 10 (ms)", v);
    o->audio_frame_ms = (unsigned)atoi(v);
  } else if (!strcmp(name, "--audio-bitrate")) {
    if (bf_parse_bitrate(v, &u64) || u64 < 16000 || u64 > 256000)
      return fail(err, cap, "--audio-bitrate: bad rate '%s' (16k to 256k)", v);
    o->audio_bitrate = (unsigned)u64;
  } else if (!strcmp(name, "--audio-fec")) {
    unsigned k, m;
    char tail;
    if (!strcmp(v, "off"))
      o->audio_fec_k = 1, o->audio_fec_m = 0;
    else if (sscanf(v, "%u+%u%c", &k, &m, &tail) == 2 && k >= 1 && k <= 8 && m >= 1 && m <= 4)
      o->audio_fec_k = k, o->audio_fec_m = m;
    else
      return fail(err, cap, "--audio-fec: '%s' is not K+M (K 1-8, M 1-4) or off", v);
  } else if (!strcmp(name, "--audio-test-offset")) {
    if (parse_i64(v, -1000, 1000, &i64))
      return fail(err, cap, "--audio-test-offset: '%s' is not -1000..1000 (ms)", v);
    o->audio_test_offset_ns = i64 * 1000000;
  } else if (!strcmp(name, "--audio-test-drift")) {
    if (parse_i64(v, -50000, 50000, &i64))
      return fail(err, cap, "--audio-test-drift: '%s' is not -50000..50000 (ppm)", v);
    o->audio_test_drift_ppm = i64;
  } else {
    return 1;
  }
  return 0;
}

/* --input: all, none, or a comma list of keyboard, mouse, gamepad. */
static int parse_input(const char *v, unsigned *out) {
  if (!strcmp(v, "all")) {
    *out = BF_INCLASS_ALL;
    return 0;
  }
  if (!strcmp(v, "none")) {
    *out = 0;
    return 0;
  }
  unsigned c = 0;
  for (const char *p = v;;) {
    size_t n = strcspn(p, ",");
    if (n == 8 && !strncmp(p, "keyboard", n))
      c |= BF_INCLASS_KEYBOARD;
    else if (n == 5 && !strncmp(p, "mouse", n))
      c |= BF_INCLASS_MOUSE;
    else if (n == 7 && !strncmp(p, "gamepad", n))
      c |= BF_INCLASS_GAMEPAD;
    else
      return -EINVAL;
    if (!p[n]) break;
    p += n + 1;
  }
  *out = c;
  return 0;
}

/* The input options. 0, -EINVAL (with the reason) or 1 (not one of them). */
static int apply_input(bf_send_options *o, const char *name, const char *v, char *err, size_t cap) {
  if (!strcmp(name, "--input")) {
    if (parse_input(v, &o->input_classes))
      return fail(err, cap, "--input: bad value '%s' (all, none, or keyboard,mouse,gamepad)", v);
  } else if (!strcmp(name, "--input-backend")) {
    if (!strcmp(v, "auto"))
      o->input_backend = BF_INBACKEND_AUTO;
    else if (!strcmp(v, "xtest"))
      o->input_backend = BF_INBACKEND_XTEST;
    else if (!strcmp(v, "uinput"))
      o->input_backend = BF_INBACKEND_UINPUT;
    else
      return fail(err, cap, "--input-backend: bad value '%s' (auto, xtest or uinput)", v);
  } else {
    return 1;
  }
  return 0;
}

/* --turn, --turn-user, --turn-pass, --turn-secret, --relay. */
static int apply_relay(bf_send_options *o, const char *name, const char *v, char *err, size_t cap) {
  if (!strcmp(name, "--turn")) {
    char host[256];
    uint16_t port;
    if (bf_turn_url_parse(v, host, sizeof host, &port) < 0)
      return fail(err, cap, "--turn: '%s' is not turn:HOST[:PORT]", v);
    o->turn = v;
  } else if (!strcmp(name, "--relay")) {
    bf_relay_mode m;
    if (bf_relay_mode_parse(v, &m) < 0)
      return fail(err, cap, "--relay: '%s' is not auto, always or never", v);
    o->relay_mode = (int)m;
  } else {
    if (!*v) return fail(err, cap, "%s needs a value", name);
    *(name[7] == 'u' ? &o->turn_user : name[7] == 'p' ? &o->turn_pass : &o->turn_secret) = v;
  }
  return 0;
}

static int apply(bf_send_options *o, const char *name, const char *v, char *err, size_t cap) {
  uint64_t u64;
  if (!strcmp(name, "--listen")) {
    if (parse_listen(v, o))
      return fail(err, cap, "--listen: bad address '%s' (want [ADDR:]PORT)", v);
  } else if (!strcmp(name, "--control")) {
    if (parse_bind(v, o->control_buf, sizeof o->control_buf))
      return fail(err, cap, "--control: bad address '%s' (want [ADDR:]PORT)", v);
    o->control = o->control_buf;
    o->control_set = 1;
  } else if (!strcmp(name, "--config-dir")) {
    if (!*v) return fail(err, cap, "--config-dir: empty path");
    o->config_dir = v;
  } else if (!strncmp(name, "--turn", 6) || !strcmp(name, "--relay")) {
    return apply_relay(o, name, v, err, cap);
  } else if (!strcmp(name, "--revoke")) {
    if (!*v) return fail(err, cap, "--revoke: empty name (want NAME or a fingerprint prefix)");
    o->revoke = v;
  } else if (!strcmp(name, "--pair-timeout")) {
    if (parse_seconds(v, &o->pair_timeout_ns) || o->pair_timeout_ns > 3600000000000ull)
      return fail(err, cap, "--pair-timeout: bad seconds '%s' (more than 0, at most 3600)", v);
  } else if (!strcmp(name, "--lan-name")) {
    if (!*v || strlen(v) > BF_LAN_MAX_NAME || !bf_lan_name_ok(v))
      return fail(err, cap, "--lan-name: 1..63 bytes of printable UTF-8");
    o->lan_name = v;
  } else if (!strcmp(name, "--allow")) {
    if (!*v) return fail(err, cap, "--allow: empty address");
    o->allow = v;
  } else if (!strcmp(name, "--source")) {
    if (parse_source(v, o))
      return fail(err, cap, "--source: unknown source '%s' (testsrc, file:PATH, x11[:DISPLAY])", v);
  } else if (!strcmp(name, "--codec")) {
    if (bf_codec_parse(v, &o->codec))
      return fail(err, cap, "--codec: unknown codec '%s' (h264, hevc, av1)", v);
  } else if (!strcmp(name, "--encoder")) {
    if (!*v) return fail(err, cap, "--encoder: empty name");
    o->encoder = v;
  } else if (!strcmp(name, "--preset")) {
    if (!*v) return fail(err, cap, "--preset: empty name");
    o->preset = v;
  } else if (!strcmp(name, "--test-encode-delay")) {
    if (parse_uint(v, 0, 10000, &o->test_encode_delay_ms))
      return fail(err, cap, "--test-encode-delay: bad value '%s' (0-10000 ms)", v);
  } else if (!strcmp(name, "--size")) {
    if (parse_size(v, &o->width, &o->height))
      return fail(err, cap, "--size: bad size '%s' (want WxH, even, 64x48 to 8192x8192)", v);
  } else if (!strcmp(name, "--fps")) {
    if (parse_fps(v, &o->fps_num, &o->fps_den))
      return fail(err, cap, "--fps: bad frame rate '%s' (1 to 1000, N or N/D)", v);
  } else if (!strcmp(name, "--bitrate")) {
    int bad = bf_parse_bitrate(v, &o->bitrate);
    if (!bad && bare_rate_too_low(v, o->bitrate))
      return fail(err, cap,
                  "--bitrate: '%s' has no unit: that is %s bit/s (%.3g Mbit/s), too little for "
                  "video; write %sk for kbit/s (the unit Moonlight takes), or e.g. 20M",
                  v, v, (double)o->bitrate / 1e6, v);
    if (bad || o->bitrate < 10000)
      return fail(err, cap, "--bitrate: bad rate '%s' (e.g. 20M, 8000k; at least 10k)", v);
  } else if (!strcmp(name, "--gop")) {
    if (parse_uint(v, 0, 1000000, &o->gop)) return fail(err, cap, "--gop: bad value '%s'", v);
  } else if (!strcmp(name, "--slices")) {
    if (parse_uint(v, 0, 64, &o->slices))
      return fail(err, cap, "--slices: bad value '%s' (0-64)", v);
  } else if (!strcmp(name, "--fec")) {
    if (!strcmp(v, "auto")) {
      o->fec_auto = 1;
      o->fec_percent = 10;
    } else if (parse_uint(v, 0, BF_MAX_FEC_PERCENT, &o->fec_percent)) {
      return fail(err, cap, "--fec: bad percentage '%s' (auto or 0-%u)", v,
                  (unsigned)BF_MAX_FEC_PERCENT);
    } else {
      o->fec_auto = 0;
    }
  } else if (!strcmp(name, "--shard")) {
    if (parse_uint(v, BF_MIN_SHARD, BF_MAX_SHARD, &o->shard_bytes) || (o->shard_bytes & 1u))
      return fail(err, cap, "--shard: bad size '%s' (even, %u-%u)", v, (unsigned)BF_MIN_SHARD,
                  (unsigned)BF_MAX_SHARD);
  } else if (!strcmp(name, "--max-k")) {
    if (parse_uint(v, 1, 253, &o->max_k))
      return fail(err, cap, "--max-k: bad value '%s' (1-253)", v);
  } else if (!strcmp(name, "--rate-cap")) {
    if (bf_parse_bitrate(v, &o->rate_cap_bps) || (o->rate_cap_bps && o->rate_cap_bps < 1000000))
      return fail(err, cap, "--rate-cap: bad rate '%s' (e.g. 800M, at least 1M; 0 = none)", v);
  } else if (!strcmp(name, "--pace-spread")) {
    unsigned pct;
    if (parse_uint(v, 0, 100, &pct)) return fail(err, cap, "--pace-spread: bad percentage '%s'", v);
    o->spread_permille = pct * 10;
  } else if (!strcmp(name, "--burst")) {
    if (parse_uint(v, 1, 1024, &o->burst))
      return fail(err, cap, "--burst: bad value '%s' (1-1024)", v);
  } else if (!strcmp(name, "--frames")) {
    if (parse_u64(v, 1, UINT64_MAX, &o->frames))
      return fail(err, cap, "--frames: bad count '%s'", v);
  } else if (!strcmp(name, "--duration")) {
    if (parse_seconds(v, &o->duration_ns)) return fail(err, cap, "--duration: bad seconds '%s'", v);
  } else if (!strcmp(name, "--silence")) {
    if (parse_seconds(v, &u64)) return fail(err, cap, "--silence: bad seconds '%s'", v);
    o->silence_ns = u64;
  } else if (!strcmp(name, "--stats-json")) {
    if (!*v) return fail(err, cap, "--stats-json: empty path");
    o->stats_json = v;
  } else if (!strcmp(name, "--seal-key-file")) {
    if (!*v) return fail(err, cap, "--seal-key-file: empty path");
    o->seal_key_file = v;
  } else if (!strcmp(name, "--rate-control")) {
    if (!strcmp(v, "on"))
      o->rate_control = 1;
    else if (!strcmp(v, "off"))
      o->rate_control = 0;
    else
      return fail(err, cap, "--rate-control: bad value '%s' (on or off)", v);
  } else if (!strcmp(name, "--dump-au")) {
    if (!*v) return fail(err, cap, "--dump-au: empty path");
    o->dump_au = v;
  } else {
    return fail(err, cap, "unknown option '%s'", name);
  }
  return 0;
}

int bf_send_options_parse(int argc, char **argv, bf_send_options *o, char *err, size_t cap) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) return BF_CLI_HELP;
    if (!strcmp(a, "--version") || !strcmp(a, "-V")) return BF_CLI_VERSION;
    if (!strcmp(a, "--no-loop")) {
      o->loop = 0;
      continue;
    }
    if (!strcmp(a, "--no-gso")) {
      o->gso = 0;
      continue;
    }
    if (!strcmp(a, "--intra-refresh")) {
      o->intra_refresh = 1;
      continue;
    }
    if (!strcmp(a, "--quiet")) {
      o->quiet = 1;
      continue;
    }
    if (!strcmp(a, "--verbose")) {
      o->verbose = 1;
      continue;
    }
    if (!strcmp(a, "--direct")) {
      o->direct = 1;
      continue;
    }
    if (!strcmp(a, "--no-pairing")) {
      o->no_pairing = 1;
      continue;
    }
    if (!strcmp(a, "--no-publish")) {
      o->no_publish = 1;
      continue;
    }
    if (!strcmp(a, "--list-clients")) {
      o->list_clients = 1;
      continue;
    }
    char name[32];
    const char *eq = strchr(a, '=');
    const char *val;
    if (strncmp(a, "--", 2) != 0) return fail(err, cap, "unexpected argument '%s'", a);
    if (eq) {
      size_t n = (size_t)(eq - a);
      if (n >= sizeof name) return fail(err, cap, "unknown option '%s'", a);
      memcpy(name, a, n);
      name[n] = 0;
      val = eq + 1;
    } else {
      if (strlen(a) >= sizeof name) return fail(err, cap, "unknown option '%s'", a);
      strcpy(name, a);
      val = NULL;
    }
    if (!takes_value(name)) return fail(err, cap, "unknown option '%s'", name);
    if (!val) {
      if (i + 1 >= argc) return fail(err, cap, "%s needs a value", name);
      val = argv[++i];
    }
    int r = apply_audio(o, name, val, err, cap);
    if (r == 1) r = apply_input(o, name, val, err, cap);
    if (r == 1) r = apply(o, name, val, err, cap);
    if (r) return r;
  }
  if (o->list_clients && o->revoke)
    return fail(err, cap, "--list-clients and --revoke: one at a time");
  if (o->direct && o->control_set)
    return fail(err, cap, "--control and --direct exclude each other");
  if (!o->direct && o->seal_key_file)
    return fail(err, cap,
                "--seal-key-file is for direct mode (add --direct); in control mode "
                "the stream is sealed with keys from the control session");
  if (!o->direct && o->allow)
    return fail(err, cap,
                "--allow is for direct mode (add --direct); in control mode only the "
                "control session's peer may punch in");
  if (o->direct && o->no_pairing)
    return fail(err, cap, "--no-pairing is for control mode (not with --direct)");
  if (o->direct && (o->turn || o->relay_mode))
    return fail(err, cap, "--turn and --relay are for control mode (not with --direct)");
  if (o->turn_pass && o->turn_secret)
    return fail(err, cap, "--turn-pass and --turn-secret contradict: give one");
  if (o->direct && (o->no_publish || o->lan_name))
    return fail(err, cap, "--no-publish and --lan-name are for control mode (not with --direct)");
  if (o->no_publish && o->lan_name) return fail(err, cap, "--no-publish and --lan-name contradict");
  if (o->audio == BF_AUDIO_SRC_FILE && o->source != BF_SOURCE_FILE)
    return fail(err, cap, "--audio file: the sound of a file:PATH picture source (see --source)");
  return BF_CLI_RUN;
}
