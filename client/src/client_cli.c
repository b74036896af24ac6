/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Command line parsing for `bildfunk`: see client_cli.h.
 */
#include "client_cli.h"

#include <bildfunk/turn_conf.h>

#include <bildfunk/wire.h>

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void bf_cli_defaults(bf_cli *c) {
  memset(c, 0, sizeof *c);
  c->overlay = BF_OVERLAY_OFF;
  c->codec = BF_CODEC_UNKNOWN;
  c->decoder = BF_HWDEC_AUTO;
  c->timeout_s = 2.0;
  c->browse_s = 2.0;
  c->max_k = BF_DEFAULT_MAX_K;
}

/* --help's usage forms and description (the options follow). */
static void usage_intro(FILE *out) {
  fputs("Usage: bildfunk [options] HOST[:PORT]\n"
        "       bildfunk [options]\n"
        "       bildfunk pair [options] HOST[:PORT]\n"
        "       bildfunk list [--config-dir DIR] [--browse S]\n"
        "       bildfunk unpair [--config-dir DIR] HOST[:PORT]\n"
        "       bildfunk wake [--config-dir DIR] HOST[:PORT]\n"
        "       bildfunk --direct HOST[:PORT] [options]\n"
        "\n"
        "Receives a bildfunk video stream from bildfunk-send and shows it with the\n"
        "least latency it can. `bildfunk HOST` connects to the sender's control port\n"
        "(TCP, default 47999) over TLS 1.3, checks the sender's pinned certificate,\n"
        "agrees on the mode and receives the video sealed (AES-128-GCM) with keys\n"
        "from that session. The first time (no pin for HOST yet) it pairs: it shows a\n"
        "6-digit code to type on the sender and asks for the 6-digit code the sender\n"
        "shows (in the window, or on stdin). `bildfunk pair HOST` pairs again (after\n"
        "the sender's certificate changed) and exits. Without HOST (and without\n"
        "--direct or --headless) the window asks for the sender, prefilled with the\n"
        "last one this client streamed from (Tab picks one found on the LAN); with no\n"
        "display that is a usage error.\n"
        "`bildfunk list` prints the paired senders (name, address, fingerprint, when\n"
        "paired and last used) and the senders it finds on the LAN (through\n"
        "avahi-daemon, for --browse S seconds, default 2; 0 = not), paired or not;\n"
        "`bildfunk unpair HOST` forgets one; `bildfunk wake HOST` sends a paired\n"
        "sender the Wake-on-LAN magic packet for the MAC addresses it told at its last\n"
        "session (UDP port 9: the LAN's broadcast and its last address). A host\n"
        "called list, pair, unpair or wake is reached as list:47999.\n"
        "\n",
        out);
}

void bf_cli_usage(FILE *out) {
  usage_intro(out);
  fputs("connection:\n"
        "  HOST[:PORT]             the sender (control port, default 47999); the pin is\n"
        "                          kept under HOST[:PORT] as typed, lower-cased\n"
        "  --config-dir DIR        identity (client-*.pem), pins (file senders) and the\n"
        "                          last sender (file last-sender);\n"
        "                          default $XDG_CONFIG_HOME/bildfunk or ~/.config/bildfunk\n"
        "  --name NAME             this client's name shown on the sender (default: host\n"
        "                          name)\n"
        "  --max-size WxH          largest video mode to accept (default 7680x4320)\n"
        "  --data-via HOST:PORT    send the data plane (punch, feedback) to a UDP relay\n"
        "                          at HOST:PORT (e.g. bildfunk-netsim) instead of the\n"
        "                          sender's data port; run the relay on this host: the\n"
        "                          sender takes punches only from the control\n"
        "                          connection's IP\n"
        "  --turn turn:HOST[:PORT] a TURN relay (e.g. coturn; port 3478) for the data path\n"
        "                          when the punch does not open it (file 'turn' in the\n"
        "                          config directory: lines turn, user, pass, secret)\n"
        "  --turn-user USER        the relay's long-term credentials, with --turn-pass\n"
        "  --turn-pass PASSWORD\n"
        "  --turn-secret SECRET    or its TURN REST shared secret\n"
        "  --relay auto|always|never  auto (default): through the relay when nothing came\n"
        "                          from the sender within 3 s; always: at once\n"
        "  --direct HOST[:PORT]    diagnostics: no control session, punch straight to the\n"
        "                          sender's data port (default 47998); UNENCRYPTED unless\n"
        "                          with --seal-key-file; the sender runs --direct too\n"
        "  --bind ADDR[:PORT]      local address to bind (default: any, ephemeral port)\n"
        "  --browse S              list: look for senders on the LAN for S seconds\n"
        "                          (default 2; 0 = not at all)\n"
        "  --wake                  wake HOST first (as bildfunk wake HOST), wait up to\n"
        "                          90 s for its control port to answer, then connect\n"
        "  --reconnect             when the sender goes silent, keep waiting and resume\n"
        "                          when it returns, do not exit (alias: --wait)\n"
        "  --timeout S             silence before giving up (default 2)\n"
        "  --max-k K               --direct: data shards per FEC block, as the sender's\n"
        "                          (default 128; a control session gets it from the sender)\n"
        "  --seal-key-file FILE    --direct: sealed data plane (AES-128-GCM) with the\n"
        "                          32-byte secret in FILE (64 hex digits), the same as the\n"
        "                          sender's; for tests and diagnostics\n"
        "\n"
        "decoding:\n"
        "  --codec auto|h264|hevc|av1            default auto: from the first keyframe\n"
        "  --decoder auto|software|vaapi|vdpau|cuda\n"
        "                          auto tries hardware, then software (default auto)\n"
        "  --threads N             software decoder slice threads (default min(4, cores))\n"
        "  --skip-to-live on|off   drop queued pictures and ask for a keyframe when the\n"
        "                          decoder falls behind (default on; off decodes every\n"
        "                          picture, for bit-exactness checks: when 64 wait, the\n"
        "                          next wait in the reassembler's bounded memory)\n"
        "\n"
        "display:\n"
        "  --headless              decode without a window\n"
        "  --no-wait-on-error      when the session cannot be set up, exit at once\n"
        "                          (default: the window shows why until Enter, Esc or\n"
        "                          60 s)\n"
        "  --fullscreen            start fullscreen\n"
        "  --borderless            window without decorations\n"
        "  --size WxH              initial window size (default: the stream's)\n"
        "  --vsync                 pace presentation to the display (default: off,\n"
        "                          every picture is shown as soon as it is decoded)\n"
        "  --overlay off|compact|normal|detailed   statistics overlay (default off)\n"
        "  --font auto|builtin|system             overlay text (default auto)\n"
        "  hotkeys: Ctrl+Alt+Shift+S overlay, +X fullscreen, +U mute, +Q quit,\n"
        "           +M mouse mode, +Z release the captured pointer\n"
        "\n"
        "sound:\n"
        "  --no-audio              do not ask the sender for sound (default: ask, and\n"
        "                          play it, in sync with the picture)\n"
        "  --audio-device NAME     SDL sound output device (default: the default one;\n"
        "                          SDL_AUDIODRIVER picks the driver)\n"
        "\n"
        "input (a control session whose sender takes it; never in --direct):\n"
        "  --mouse absolute|relative\n"
        "                          absolute (default): the pointer where it is over the\n"
        "                          picture; relative: a click captures the pointer and\n"
        "                          its motion is sent (games), Ctrl+Alt+Shift+Z lets go\n"
        "  --capture-system-keys   in fullscreen, grab the keyboard: Alt+Tab, the Super\n"
        "                          key go to the sender\n"
        "  --no-input              watch only: send no keyboard, mouse or game pads\n"
        "  --virtual-pad FILE      diagnostics: a game pad driven by the script in FILE\n"
        "                          (lines MS button NAME 0|1, MS axis NAME VALUE)\n"
        "\n"
        "diagnostics:\n"
        "  --frames N              stop after N decoded pictures\n"
        "  --duration S            stop after S seconds\n"
        "  --stats-json FILE       per-frame stage timestamps and a summary (- = stdout)\n"
        "  --report FILE.html      at exit, a self-contained HTML session report\n"
        "  --framemd5 FILE         ffmpeg-style framemd5 of every decoded picture\n"
        "  --debug-decode-delay MS\n"
        "                          pretend every decode takes MS longer\n"
        "  -v, --verbose           more log lines; -q, --quiet: errors only\n"
        "  -h, --help              this text;  -V, --version: the version\n"
        "\n"
        "exit status: 0 when the stream ended (sender's BYE, --frames/--duration\n"
        "reached, window closed, Ctrl+Alt+Shift+Q) or `pair` paired, 1 on a runtime\n"
        "error (cannot connect, not paired, pairing refused, certificate changed, sender\n"
        "went silent, no data, nothing decodable), 2 on a usage error.\n",
        out);
}

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t cap, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, cap, fmt, ap);
  va_end(ap);
  return -EINVAL;
}

static int parse_u64(const char *s, uint64_t max, uint64_t *out) {
  if (!*s || *s == '-' || *s == '+') return -EINVAL;
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || *end || v > max) return -EINVAL;
  *out = v;
  return 0;
}

static int parse_seconds(const char *s, double *out) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || !*s || *end || !(v > 0) || !isfinite(v) || v > 1e7) return -EINVAL;
  *out = v;
  return 0;
}

/* 1 when |s| is what the control wire takes as a name: well-formed UTF-8
 * (shortest forms, no surrogates, <= U+10FFFF) without C0/C1 controls or DEL. */
static int printable_utf8(const char *str) {
  const unsigned char *s = (const unsigned char *)str;
  while (*s) {
    unsigned c = *s, need, cp, min;
    if (c < 0x80) {
      if (c < 0x20 || c == 0x7f) return 0;
      s++;
      continue;
    }
    if ((c & 0xe0) == 0xc0)
      need = 1, cp = c & 0x1fu, min = 0x80;
    else if ((c & 0xf0) == 0xe0)
      need = 2, cp = c & 0x0fu, min = 0x800;
    else if ((c & 0xf8) == 0xf0)
      need = 3, cp = c & 0x07u, min = 0x10000;
    else
      return 0;
    for (unsigned k = 1; k <= need; k++) {
      if ((s[k] & 0xc0) != 0x80) return 0; /* also stops at the NUL */
      cp = cp << 6 | (s[k] & 0x3fu);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp <= 0x9f) return 0;
    s += need + 1;
  }
  return 1;
}

/* 1 when |s| is HOST:PORT or [V6]:PORT with a non-empty HOST and a port
 * 1..65535 (the form only: the name is resolved when the session starts). */
static int host_port(const char *s) {
  const char *colon = strrchr(s, ':');
  if (!colon || colon == s) return 0;
  if (s[0] == '[') {
    if (colon[-1] != ']' || colon - s < 3) return 0;
  } else if (memchr(s, ':', (size_t)(colon - s))) {
    return 0; /* a bare IPv6 address: its last group would pass for a port */
  }
  uint64_t port;
  return parse_u64(colon + 1, 65535, &port) == 0 && port > 0;
}

static int parse_size(const char *s, int *w, int *h) {
  char *end;
  errno = 0;
  long a = strtol(s, &end, 10);
  if (errno || end == s || (*end != 'x' && *end != 'X')) return -EINVAL;
  const char *t = end + 1;
  long b = strtol(t, &end, 10);
  if (errno || end == t || *end || a < 16 || b < 16 || a > 16384 || b > 16384) return -EINVAL;
  *w = (int)a;
  *h = (int)b;
  return 0;
}

/* --codec: a codec's name, or auto (BF_CODEC_UNKNOWN: told from the first
 * keyframe). 0 or -EINVAL. */
static int parse_codec(const char *s, bf_codec *out) {
  if (strcmp(s, "auto")) return bf_codec_parse(s, out);
  *out = BF_CODEC_UNKNOWN;
  return 0;
}

/* The field of a flag (an option without a value), or NULL. */
static int *flag_of(bf_cli *c, const char *name) {
  if (!strcmp(name, "--headless")) return &c->headless;
  if (!strcmp(name, "--no-wait-on-error")) return &c->no_wait_on_error;
  if (!strcmp(name, "--fullscreen")) return &c->fullscreen;
  if (!strcmp(name, "--borderless")) return &c->borderless;
  if (!strcmp(name, "--vsync")) return &c->vsync;
  if (!strcmp(name, "--no-audio")) return &c->no_audio;
  if (!strcmp(name, "--wake")) return &c->wake;
  if (!strcmp(name, "--wait") || !strcmp(name, "--reconnect")) return &c->wait;
  if (!strcmp(name, "--no-input")) return &c->no_input;
  if (!strcmp(name, "--capture-system-keys")) return &c->capture_system_keys;
  if (!strcmp(name, "-v") || !strcmp(name, "--verbose")) return &c->verbose;
  if (!strcmp(name, "-q") || !strcmp(name, "--quiet")) return &c->quiet;
  return NULL;
}

/* HOST, or the word `pair`, `list`, `unpair` or `wake` before it. 0 or -EINVAL. */
static int parse_positional(bf_cli *c, const char *arg, char *err, size_t cap) {
  int first = !c->target && !c->pair && c->action == BF_CLI_RUN;
  if (first && !strcmp(arg, "pair")) {
    c->pair = 1;
    return 0;
  }
  if (first && (!strcmp(arg, "list") || !strcmp(arg, "unpair") || !strcmp(arg, "wake"))) {
    c->action = arg[0] == 'l' ? BF_CLI_LIST : arg[0] == 'u' ? BF_CLI_UNPAIR : BF_CLI_WAKE;
    return 0;
  }
  if (c->action == BF_CLI_LIST) return fail(err, cap, "list takes no HOST ('%s')", arg);
  if (c->target) return fail(err, cap, "'%s': only one sender (HOST[:PORT]) at a time", arg);
  if (!*arg) return fail(err, cap, "an empty HOST");
  c->target = arg;
  return 0;
}

/* The options that take a value. */
static int takes_value(const char *name) {
  /* clang-format off */
  static const char *const with_value[] = {
      "--direct",   "--bind",    "--frames",  "--duration", "--stats-json", "--report",
      "--framemd5", "--overlay", "--font",    "--codec",    "--decoder",
      "--threads",  "--size",    "--timeout", "--max-k",    "--debug-decode-delay",
      "--skip-to-live", "--seal-key-file", "--config-dir", "--name", "--max-size", "--data-via",
      "--audio-device", "--browse",
      "--mouse", "--virtual-pad",
      "--turn", "--turn-user", "--turn-pass", "--turn-secret", "--relay",
      NULL};
  /* clang-format on */
  int known = 0;
  for (int k = 0; with_value[k]; k++)
    known |= !strcmp(name, with_value[k]);
  return known;
}

/* The connection's options with a value. 0, -EINVAL (with the message) or 1
 * (not one of them). */
static int parse_connection(bf_cli *c, const char *name, const char *val, char *err, size_t cap) {
  uint64_t u;
  if (!strcmp(name, "--direct")) {
    if (!*val) return fail(err, cap, "--direct needs HOST[:PORT]");
    c->direct = val;
  } else if (!strcmp(name, "--data-via")) {
    if (!host_port(val))
      return fail(err, cap, "--data-via: '%s' is not HOST:PORT (1..65535; IPv6: [ADDR]:PORT)", val);
    c->data_via = val;
  } else if (!strcmp(name, "--turn")) {
    char host[256];
    uint16_t port;
    if (bf_turn_url_parse(val, host, sizeof host, &port) < 0)
      return fail(err, cap, "--turn: '%s' is not turn:HOST[:PORT]", val);
    c->turn = val;
  } else if (!strcmp(name, "--turn-user") || !strcmp(name, "--turn-pass") ||
             !strcmp(name, "--turn-secret")) {
    if (!*val) return fail(err, cap, "%s needs a value", name);
    *(name[7] == 'u' ? &c->turn_user : name[7] == 'p' ? &c->turn_pass : &c->turn_secret) = val;
  } else if (!strcmp(name, "--relay")) {
    bf_relay_mode m;
    if (bf_relay_mode_parse(val, &m) < 0)
      return fail(err, cap, "--relay: '%s' is not auto, always or never", val);
    c->relay_mode = (int)m;
  } else if (!strcmp(name, "--config-dir")) {
    if (!*val) return fail(err, cap, "--config-dir needs a directory");
    c->config_dir = val;
  } else if (!strcmp(name, "--name")) {
    size_t n = strlen(val);
    if (!n || n > 64) return fail(err, cap, "--name: 1..64 bytes");
    if (!printable_utf8(val))
      return fail(err, cap, "--name: printable UTF-8 only (no control characters)");
    c->name = val;
  } else if (!strcmp(name, "--max-size")) {
    if (parse_size(val, &c->max_width, &c->max_height))
      return fail(err, cap, "--max-size: '%s' is not WxH (16..16384)", val);
  } else if (!strcmp(name, "--bind")) {
    c->bind = val;
  } else if (!strcmp(name, "--timeout")) {
    if (parse_seconds(val, &c->timeout_s))
      return fail(err, cap, "--timeout: '%s' is not a positive number of seconds", val);
  } else if (!strcmp(name, "--seal-key-file")) {
    if (!*val) return fail(err, cap, "--seal-key-file needs a path");
    c->seal_key_file = val;
  } else if (!strcmp(name, "--browse")) {
    errno = 0;
    char *end;
    c->browse_s = strtod(val, &end);
    if (errno || end == val || *end || !(c->browse_s >= 0 && c->browse_s <= 60))
      return fail(err, cap, "--browse: '%s' is not 0..60 seconds", val);
    c->browse_set = 1;
  } else if (!strcmp(name, "--max-k")) {
    if (parse_u64(val, 253, &u) || u == 0)
      return fail(err, cap, "--max-k: '%s' is not 1..253", val);
    c->max_k = (uint32_t)u;
  } else {
    return 1;
  }
  return 0;
}

/* The display's options with a value. 0, -EINVAL or 1 (not one of them). */
static int parse_display(bf_cli *c, const char *name, const char *val, char *err, size_t cap) {
  if (!strcmp(name, "--overlay")) {
    int l = -1;
    for (int k = 0; k < BF_OVERLAY_COUNT_; k++)
      if (!strcmp(val, bf_overlay_level_name((bf_overlay_level)k))) l = k;
    if (l < 0)
      return fail(err, cap, "--overlay: '%s' is not off, compact, normal or detailed", val);
    c->overlay = (bf_overlay_level)l;
  } else if (!strcmp(name, "--font")) {
    if (!strcmp(val, "auto"))
      c->font = BF_FONT_AUTO;
    else if (!strcmp(val, "builtin"))
      c->font = BF_FONT_BUILTIN;
    else if (!strcmp(val, "system"))
      c->font = BF_FONT_SYSTEM;
    else
      return fail(err, cap, "--font: '%s' is not auto, builtin or system", val);
  } else if (!strcmp(name, "--size")) {
    if (parse_size(val, &c->width, &c->height))
      return fail(err, cap, "--size: '%s' is not WxH (16..16384)", val);
  } else if (!strcmp(name, "--audio-device")) {
    if (!*val) return fail(err, cap, "--audio-device needs a device name");
    c->audio_device = val;
  } else if (!strcmp(name, "--mouse")) {
    if (strcmp(val, "absolute") && strcmp(val, "relative"))
      return fail(err, cap, "--mouse: '%s' is not absolute or relative", val);
    c->mouse_relative = !strcmp(val, "relative");
  } else if (!strcmp(name, "--virtual-pad")) {
    if (!*val) return fail(err, cap, "--virtual-pad needs a script file");
    c->virtual_pad = val;
  } else {
    return 1;
  }
  return 0;
}

/* Decoding's and the diagnostics' options with a value. 0 or -EINVAL. */
static int parse_decoding(bf_cli *c, const char *name, const char *val, char *err, size_t cap) {
  uint64_t u;
  if (!strcmp(name, "--frames")) {
    if (parse_u64(val, UINT64_MAX, &u) || u == 0)
      return fail(err, cap, "--frames: '%s' is not a positive number", val);
    c->frames = u;
  } else if (!strcmp(name, "--duration")) {
    if (parse_seconds(val, &c->duration_s))
      return fail(err, cap, "--duration: '%s' is not a positive number of seconds", val);
  } else if (!strcmp(name, "--stats-json")) {
    c->stats_json = val;
  } else if (!strcmp(name, "--report")) {
    c->report = val;
  } else if (!strcmp(name, "--framemd5")) {
    c->framemd5 = val;
  } else if (!strcmp(name, "--codec")) {
    if (parse_codec(val, &c->codec))
      return fail(err, cap, "--codec: '%s' is not auto, h264, hevc or av1", val);
  } else if (!strcmp(name, "--decoder")) {
    if (bf_hwdec_parse(val, &c->decoder))
      return fail(err, cap, "--decoder: '%s' is not auto, software, vaapi, vdpau or cuda", val);
  } else if (!strcmp(name, "--threads")) {
    if (parse_u64(val, 64, &u) || u == 0)
      return fail(err, cap, "--threads: '%s' is not 1..64", val);
    c->threads = (int)u;
  } else if (!strcmp(name, "--skip-to-live")) {
    if (!strcmp(val, "on"))
      c->no_skip_to_live = 0;
    else if (!strcmp(val, "off"))
      c->no_skip_to_live = 1;
    else
      return fail(err, cap, "--skip-to-live: '%s' is not on or off", val);
  } else if (!strcmp(name, "--debug-decode-delay")) {
    if (parse_u64(val, 10000, &u))
      return fail(err, cap, "--debug-decode-delay: '%s' is not 0..10000 ms", val);
    c->debug_decode_delay_ms = (uint32_t)u;
  }
  return 0;
}

/* `list` and `unpair` touch the pin store only: |other| is the first option
 * given that is not --config-dir, -v or -q ("" = none). 0 or -EINVAL. */
static int check_book(bf_cli *c, const char *other, char *err, size_t cap) {
  const char *word = c->action == BF_CLI_LIST     ? "list"
                     : c->action == BF_CLI_UNPAIR ? "unpair"
                                                  : "wake";
  if (c->action != BF_CLI_LIST && !c->target)
    return fail(err, cap, "%s: which sender? bildfunk %s HOST[:PORT]", word, word);
  if (c->action != BF_CLI_LIST && c->browse_set)
    return fail(err, cap, "--browse is for list, not %s", word);
  if (*other) return fail(err, cap, "%s takes only --config-dir (and -v, -q), not %s", word, other);
  if (c->quiet && c->verbose) return fail(err, cap, "--quiet and --verbose contradict");
  return 0;
}

/* What the options given together must agree on. 0 or -EINVAL. */
static int check_together(bf_cli *c, char *err, size_t cap) {
  if (c->pair && c->direct) return fail(err, cap, "pair needs HOST[:PORT], not --direct");
  if (c->pair && !c->target) return fail(err, cap, "pair: which sender? bildfunk pair HOST[:PORT]");
  if (c->direct && c->target) return fail(err, cap, "give HOST or --direct HOST[:PORT], not both");
  if (!c->direct && !c->target) {
    /* the window can ask for it (decided at run time: no display, usage error) */
    if (c->headless)
      return fail(err, cap, "no sender given: bildfunk HOST[:PORT] (or --direct HOST[:PORT])");
    c->ask_sender = 1;
  }
  if (c->direct && c->data_via)
    return fail(err, cap,
                "--data-via is for a control session; with --direct give the relay's address to "
                "--direct itself");
  if (c->pair && c->data_via)
    return fail(err, cap, "--data-via: pair does not stream; use it with bildfunk HOST");
  if ((c->direct || c->pair) && (c->turn || c->relay_mode))
    return fail(err, cap, "--turn and --relay need a control session: bildfunk HOST");
  if (c->turn_pass && c->turn_secret)
    return fail(err, cap, "--turn-pass and --turn-secret contradict: give one");
  if (c->direct && (c->config_dir || c->name || c->max_width))
    return fail(err, cap,
                "--config-dir, --name and --max-size need a control session, not --direct");
  if (!c->direct && c->seal_key_file)
    return fail(err, cap,
                "--seal-key-file is for --direct; a control session seals with its own keys");
  if (c->headless && (c->fullscreen || c->borderless || c->vsync || c->width))
    return fail(err, cap,
                "--headless has no window: drop --fullscreen/--borderless/--vsync/--size");
  int input = c->mouse_relative || c->capture_system_keys || c->virtual_pad;
  if (input && (c->headless || c->direct || c->no_input))
    return fail(err, cap,
                "--mouse, --capture-system-keys and --virtual-pad need input: a window and a "
                "control session, without --no-input");
  if (c->quiet && c->verbose) return fail(err, cap, "--quiet and --verbose contradict");
  if (c->browse_set) return fail(err, cap, "--browse is for bildfunk list");
  if (c->wake && (!c->target || c->pair))
    return fail(err, cap, "--wake needs HOST[:PORT] of a paired sender (not --direct, not pair)");
  if (c->no_audio && c->audio_device)
    return fail(err, cap, "--no-audio and --audio-device contradict");
  return 0;
}

/* 1 for the options `list` and `unpair` take. */
static int book_option(const char *name) {
  static const char *const ok[] = {"--config-dir", "-v",     "--verbose", "-q",        "--quiet",
                                   "-h",           "--help", "-V",        "--version", "--browse"};
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
    if (!strcmp(name, ok[i])) return 1;
  return 0;
}

int bf_cli_parse(int argc, char **argv, bf_cli *c, char *err, size_t cap) {
  bf_cli_defaults(c);
  char other[32] = ""; /* the first option `list` and `unpair` do not take */
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    char name[32];
    const char *val = NULL;
    /* --name=value or --name value */
    const char *eq = strncmp(arg, "--", 2) == 0 ? strchr(arg, '=') : NULL;
    size_t nlen = eq ? (size_t)(eq - arg) : strlen(arg);
    if (arg[0] != '-' || !arg[1]) nlen = 0; /* HOST or `pair`: any length, below */
    if (nlen >= sizeof name) return fail(err, cap, "unknown option '%s'", arg);
    memcpy(name, arg, nlen);
    name[nlen] = 0;
    if (eq) val = eq + 1;
    if (nlen && !other[0] && !book_option(name)) snprintf(other, sizeof other, "%s", name);

    int *flag = flag_of(c, name);
    if (flag) {
      if (val) return fail(err, cap, "option %s takes no value", name);
      *flag = 1;
      continue;
    }
    if (!strcmp(name, "-h") || !strcmp(name, "--help")) {
      c->action = BF_CLI_HELP;
      return 0;
    }
    if (!strcmp(name, "-V") || !strcmp(name, "--version")) {
      c->action = BF_CLI_VERSION;
      return 0;
    }
    if (arg[0] != '-' || !arg[1]) {
      if (parse_positional(c, arg, err, cap) < 0) return -EINVAL;
      continue;
    }
    if (!takes_value(name)) return fail(err, cap, "unknown option '%s'", name);
    if (!val) {
      if (i + 1 >= argc) return fail(err, cap, "option %s needs a value", name);
      val = argv[++i];
    }
    int r = parse_connection(c, name, val, err, cap);
    if (r == 1) r = parse_display(c, name, val, err, cap);
    if (r == 1) r = parse_decoding(c, name, val, err, cap);
    if (r < 0) return r;
  }
  if (c->action == BF_CLI_LIST || c->action == BF_CLI_UNPAIR || c->action == BF_CLI_WAKE)
    return check_book(c, other, err, cap);
  return check_together(c, err, cap);
}
