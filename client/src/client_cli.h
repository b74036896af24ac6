/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Command line of `bildfunk`: parsing into a plain options struct, --help
 * text. No I/O besides writing the help; errors come back as text so the
 * caller decides how to report them (exit code 2).
 */
#ifndef BF_CLIENT_CLIENT_CLI_H
#define BF_CLIENT_CLIENT_CLI_H

#include "ui/display.h"
#include "ui/overlay.h"
#include "video/decoder.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum bf_cli_action {
  BF_CLI_RUN = 0,
  BF_CLI_HELP,
  BF_CLI_VERSION,
  BF_CLI_LIST,   /* `bildfunk list`: the paired senders */
  BF_CLI_UNPAIR, /* `bildfunk unpair HOST` (|target|) */
  BF_CLI_WAKE,   /* `bildfunk wake HOST` (|target|): Wake-on-LAN */
} bf_cli_action;

typedef struct bf_cli {
  bf_cli_action action;
  const char *target;        /* HOST[:PORT] of the sender's control port (positional) */
  int ask_sender;            /* no HOST, no --direct, not --headless: the window asks for the
                                sender; when no window opens it is the usage error (exit 2) */
  int no_wait_on_error;      /* --no-wait-on-error: a failed setup is not kept on the window */
  int pair;                  /* `bildfunk pair HOST`: pair (again), then exit */
  int wake;                  /* --wake: wake HOST first and wait for it (setup/wake.h) */
  double browse_s;           /* list --browse S: look for LAN senders this long (2; 0 = not) */
  int browse_set;            /* --browse was given */
  const char *config_dir;    /* --config-dir, NULL = bf_config_dir() */
  const char *name;          /* --name: this client's name for the sender, NULL = host name */
  int max_width, max_height; /* --max-size, 0 = 7680x4320 */
  const char *direct;        /* --direct HOST[:PORT] of the sender's data port (diagnostics) */
  const char *data_via;      /* --data-via HOST:PORT: in a control session the data plane
                                (punch, feedback) goes here, a relay such as bildfunk-netsim,
                                instead of the control peer's IP and the Welcome's data port;
                                NULL = there. The parser checks the form only (no lookup). */
  const char *bind;          /* local ADDR[:PORT], NULL = any address, ephemeral port */
  const char *turn;          /* --turn turn:HOST[:PORT]: a TURN relay for the data path */
  const char *turn_user, *turn_pass, *turn_secret; /* its credentials (or the config dir's) */
  int relay_mode; /* --relay: bf_relay_mode (auto, always, never) */
  int headless;
  uint64_t frames;   /* stop after this many decoded pictures; 0 = no limit */
  double duration_s; /* stop after this long; 0 = no limit */
  const char *stats_json;
  const char *report;        /* --report FILE.html, NULL = none */
  const char *seal_key_file; /* sealed direct mode (diagnostics), NULL = clear */
  const char *framemd5;
  bf_overlay_level overlay;
  bf_font_choice font;
  bf_codec codec;
  bf_hwdec decoder;
  int threads;
  int fullscreen;
  int borderless;
  int vsync;
  int width, height;       /* initial window size, 0 = the stream's */
  int no_input;            /* --no-input: watch only, send no input */
  int mouse_relative;      /* --mouse relative (default absolute) */
  int capture_system_keys; /* --capture-system-keys: grab the keyboard while fullscreen */
  const char *virtual_pad; /* --virtual-pad FILE: a scripted SDL virtual pad */
  int wait;                /* keep waiting when the sender goes silent */
  double timeout_s;        /* silence before giving up: 2 s */
  uint32_t max_k;
  int verbose;
  int quiet;
  uint32_t debug_decode_delay_ms; /* diagnostics: pretend decoding is this slow */
  int no_skip_to_live;            /* 1 = decode every AU however far behind (bounded queue) */
  int no_audio;                   /* --no-audio: do not ask for sound */
  const char *audio_device;       /* --audio-device NAME, NULL = the default */
} bf_cli;

void bf_cli_defaults(bf_cli *c);

/* Parses argv[1..]. Returns 0 (check |action|) or -EINVAL with a one-line
 * message in |err|. The strings in |c| point into |argv|. */
int bf_cli_parse(int argc, char **argv, bf_cli *c, char *err, size_t errcap);

void bf_cli_usage(FILE *out);

#endif
