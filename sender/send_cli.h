/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * bildfunk-send command line: the options, their defaults, parsing and the
 * help text. Parsing is pure (no I/O besides the caller's error buffer), so
 * every rule is unit-tested; checks that need the outside world (does the
 * encoder exist, can the file be opened, is the port free) happen later, in
 * the modules that touch it.
 */
#ifndef BF_SENDER_CLI_H
#define BF_SENDER_CLI_H

#include "au.h"

#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum bf_source_kind {
  BF_SOURCE_TESTSRC = 1,
  BF_SOURCE_FILE = 2,
  BF_SOURCE_X11 = 3,
} bf_source_kind;

/* --audio: where the sound comes from. */
typedef enum bf_audio_src {
  BF_AUDIO_SRC_AUTO = 0, /* follow the picture: testsrc, file, x11 -> pulse when a server answers */
  BF_AUDIO_SRC_OFF,
  BF_AUDIO_SRC_TESTSRC,
  BF_AUDIO_SRC_PULSE,
  BF_AUDIO_SRC_FILE,
} bf_audio_src;
/* --input-backend */
typedef enum bf_input_backend {
  BF_INBACKEND_AUTO = 0, /* xtest into the x11 source's display, uinput for pads (and
                            for the keyboard and mouse with a file source), the
                            testsrc echo */
  BF_INBACKEND_XTEST,    /* keyboard and mouse through XTest (the x11 source's display,
                            else $DISPLAY) */
  BF_INBACKEND_UINPUT,   /* everything through /dev/uinput */
} bf_input_backend;

typedef struct bf_send_options {
  const char *listen;        /* data port: bind address "[host]:port" (normalised) */
  const char *control;       /* control mode: TCP listen address "[host]:port" (normalised) */
  int control_set;           /* --control was given */
  int direct;                /* --direct: the old unauthenticated, unencrypted mode */
  const char *config_dir;    /* --config-dir: identity and pin store, NULL = bf_config_dir() */
  int list_clients;          /* --list-clients: print the pins and exit */
  const char *revoke;        /* --revoke NAME|FPPREFIX: remove a pin and exit */
  int no_pairing;            /* --no-pairing: refuse pairing requests */
  int no_publish;            /* --no-publish: not on the LAN's DNS-SD (Avahi) */
  const char *lan_name;      /* --lan-name: the published name, NULL = the host name */
  uint64_t pair_timeout_ns;  /* --pair-timeout: operator confirmation window (60 s) */
  const char *allow;         /* --allow IP, NULL = anyone */
  const char *turn;          /* --turn turn:HOST[:PORT]: a TURN relay for clients without one */
  const char *turn_user, *turn_pass, *turn_secret; /* its credentials (or the config dir's) */
  int relay_mode;            /* --relay: bf_relay_mode (auto, always, never) */
  const char *seal_key_file; /* --seal-key-file: sealed direct mode (diagnostics), NULL = clear */
  bf_source_kind source;
  const char *source_arg;    /* file path or X display, NULL if none */
  int loop;                  /* file: start over at the end (default 1) */
  bf_codec codec;            /* default h264 */
  const char *encoder;       /* libavcodec encoder name, NULL = the codec's default */
  const char *preset;        /* encoder preset, NULL = ours per encoder */
  unsigned test_encode_delay_ms; /* test option: delay per encode at the start preset */
  unsigned width, height;    /* 0 = the source's own (testsrc: 1280x720) */
  unsigned fps_num, fps_den; /* 0/0 = the source's own (testsrc, x11: 60) */
  uint64_t bitrate;          /* bit/s, 0 = automatic from size and rate */
  unsigned gop;              /* frames between periodic keyframes, 0 = infinite */
  unsigned slices;           /* slices (tiles for AV1) per frame, 0 = encoder default */
  unsigned fec_percent;      /* 0..90: --fec N pins it; with fec_auto the start value (10) */
  int fec_auto;              /* 1 = adaptive FEC from loss reports (default; --fec auto) */
  int rate_control;          /* 1 = total send budget follows loss reports (default) */
  int intra_refresh;         /* 1 = periodic intra refresh instead of IDR keyframes (libx264) */
  unsigned shard_bytes;      /* S, default 1408 */
  unsigned max_k;            /* K, default 128 */
  uint64_t rate_cap_bps;     /* default 800 Mbit/s, 0 = none */
  unsigned spread_permille;  /* default 250 */
  unsigned burst;            /* packets per burst, default 32 */
  int gso;                   /* 1 = use segmentation offload (default) */
  uint64_t frames;           /* stop after this many AUs streamed, 0 = no limit */
  uint64_t duration_ns;      /* stop after streaming this long, 0 = no limit */
  uint64_t silence_ns;       /* drop a silent client after this (10 s) */
  unsigned input_classes;    /* --input: BF_INCLASS_* (inputlink.h) applied; default all */
  bf_input_backend input_backend; /* --input-backend */
  const char *stats_json;    /* write statistics here at exit */
  const char *dump_au;       /* write every AU sent here */
  bf_audio_src audio;        /* --audio, default AUTO */
  const char *audio_arg;     /* pulse: the source name, NULL = the default sink's monitor */
  unsigned audio_frame_ms;   /* --audio-frame 5|10 (5) */
  unsigned audio_bitrate;    /* --audio-bitrate, bit/s (128000) */
  unsigned audio_fec_k;      /* --audio-fec K+M: Reed-Solomon blocks (2+1); m 0 = off */
  unsigned audio_fec_m;
  int64_t audio_test_offset_ns; /* --audio-test-offset MS: added to the sound's capture times */
  int64_t audio_test_drift_ppm; /* --audio-test-drift PPM: the test tone's clock runs fast */
  int quiet;                 /* no status line */
  int verbose;               /* FFmpeg log messages too */
  char listen_buf[128];      /* storage behind |listen| */
  char control_buf[128];     /* storage behind |control| */
} bf_send_options;

void bf_send_options_default(bf_send_options *o);

enum {
  BF_CLI_RUN = 0,     /* options parsed: run */
  BF_CLI_HELP = 1,    /* --help: print bf_send_usage() and exit 0 */
  BF_CLI_VERSION = 2, /* --version */
};

/* Parses |argv|[1..|argc|) into |o| (start from bf_send_options_default).
 * Strings in |o| point into |argv| or into |o|'s own storage. Returns
 * BF_CLI_RUN, BF_CLI_HELP, BF_CLI_VERSION, or -EINVAL with a one-line reason
 * naming the bad option in |err|. */
int bf_send_options_parse(int argc, char **argv, bf_send_options *o, char *err, size_t errcap);

/* Writes the help text. */
void bf_send_usage(FILE *out);

/* Parses "20M", "8000k", "2.5M", "1G" or plain bit/s. Returns 0 or -EINVAL. */
int bf_parse_bitrate(const char *s, uint64_t *out);

#ifdef __cplusplus
}
#endif

#endif /* BF_SENDER_CLI_H */
