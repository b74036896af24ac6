/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * bildfunk: the client program. Parses the command line and runs one
 * session through its phases, each in the one event loop (client_loop.h):
 *
 *   the sender       HOST, or typed in the window (setup/screens.h)
 *   control setup    TLS control session, pairing, Welcome (setup/connect.h);
 *                    a failure stays on the window until read
 *   the data plane   the pump (sealed with the session's secret), outputs
 *                    (--framemd5, --stats-json), the window and its overlay
 *   streaming        receive -> gate -> decode -> present (streaming.h)
 *   the end          the control session's Bye, the summary, --stats-json,
 *                    --report (report/summary.h)
 *
 * Not here: any stage's work; this file only orders them and owns the
 * session's state (client.h) from start to end.
 */
#include "client.h"
#include "client_cli.h"
#include "client_loop.h"
#include "report/summary.h"
#include "setup/connect.h"
#include "setup/screens.h"
#include "setup/sender_book.h"
#include "setup/wake.h"
#include "streaming.h"
#include "video/playback.h"

#include <bildfunk/clock.h>
#include <bildfunk/common.h>
#include <bildfunk/ctl_codec.h>
#include <bildfunk/evloop.h>
#include <bildfunk/seal.h>

#include <libavcodec/avcodec.h>
#include <libavutil/log.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GO_ON (-1)     /* a step went well: the next one follows */
#define ASK_AGAIN (-2) /* the sender typed in the window failed: ask there again */

static int env_set(const char *name) {
  const char *v = getenv(name);
  return v && *v;
}

/* Opens the window; on failure the reason in |err| (when given) or on
 * stderr. */
static int open_window(bf_client *c, const char *title, char *err, size_t cap) {
  const bf_cli *cli = c->cli;
  char buf[256];
  bf_display_config dc = {cli->fullscreen, cli->borderless, cli->vsync, cli->width,
                          cli->height,     cli->font,       title};
  if (bf_display_open(&dc, &c->display, err ? err : buf, err ? cap : sizeof buf) < 0) {
    if (!err) fprintf(stderr, "bildfunk: %s (use --headless to decode without a window)\n", buf);
    return -1;
  }
  /* SDL falls back to a window nobody sees (its offscreen or dummy driver) */
  if (!err && !bf_display_visible(c->display))
    fprintf(stderr,
            "bildfunk: no display here (%s): no window will open and the pictures are decoded "
            "but not shown; use --headless to say so, or set DISPLAY\n",
            env_set("DISPLAY") || env_set("WAYLAND_DISPLAY") ? "SDL_VIDEODRIVER chose a driver "
                                                               "without a screen"
                                                             : "neither DISPLAY nor "
                                                               "WAYLAND_DISPLAY is set");
  return 0;
}

/* --data-via resolved before the session: a typo ends here, not after
 * pairing. */
static int resolve_data_via(bf_client *c) {
  const char *via_s = c->cli->data_via;
  if (!via_s) return GO_ON;
  bf_addr via;
  int r = bf_addr_parse(via_s, 0, &via);
  if (r < 0) {
    fprintf(stderr, "bildfunk: --data-via %s: %s\n", via_s,
            r == -ENOENT   ? "host not found"
            : r == -EINVAL ? "not a valid host name"
                           : bf_strerror(r));
    return r == -ENOENT ? 1 : 2;
  }
  bf_addr_format(&via, c->data_via, sizeof c->data_via);
  return GO_ON;
}

/* No HOST: the window asks for it; without a window that is the usage
 * error it always was. */
static int ask_sender(bf_client *c) {
  char err[256];
  if (!env_set("SDL_VIDEODRIVER") && !env_set("DISPLAY") && !env_set("WAYLAND_DISPLAY"))
    snprintf(err, sizeof err, "no display: neither DISPLAY nor WAYLAND_DISPLAY is set");
  else if (open_window(c, "bildfunk", err, sizeof err) == 0 && !bf_display_visible(c->display)) {
    snprintf(err, sizeof err, "no display");
    bf_display_close(&c->display);
  }
  if (!c->display) {
    fprintf(stderr,
            "bildfunk: no sender given: bildfunk HOST[:PORT] (or --direct HOST[:PORT]); no "
            "window to ask in (%s)\n",
            err);
    return 2;
  }
  bf_screens_ask_begin(c);
  bf_client_loop_run(c, &bf_screens_ask_phase);
  return c->setup_rc ? c->setup_rc : GO_ON;
}

/* The setup with the sender typed in the window failed (said on stderr):
 * the window asks again, with the message; a fresh control session then. */
static int ask_again(bf_client *c) {
  bf_cctl_del(&c->ctl);
  c->setup_rc = 0;
  c->ctl_paired_now = 0;
  c->code_len = 0;
  c->code_long = 0;
  bf_screens_ask_again(c);
  c->setup_err[0] = 0;
  bf_client_loop_run(c, &bf_screens_ask_phase);
  if (c->setup_rc) return c->setup_rc;
  char title[128];
  snprintf(title, sizeof title, "bildfunk - %.100s", c->target);
  bf_display_set_title(c->display, title);
  return GO_ON;
}

/* The sender: HOST, or asked for in the window; and the window first for a
 * control session: the pairing can happen there (no terminal needed). */
static int choose_sender(bf_client *c) {
  const bf_cli *cli = c->cli;
  if (cli->ask_sender) {
    int r = ask_sender(c);
    if (r != GO_ON) return r;
  } else if (cli->target) {
    if (strlen(cli->target) >= sizeof c->target) {
      fprintf(stderr, "bildfunk: the sender's name is longer than %zu bytes: %.40s...\n",
              sizeof c->target - 1, cli->target);
      return 2;
    }
    snprintf(c->target, sizeof c->target, "%s", cli->target);
  }
  if (c->target[0] && !cli->pair && !cli->headless) {
    char title[128];
    snprintf(title, sizeof title, "bildfunk - %.100s", c->target);
    if (!c->display && open_window(c, title, NULL, 0) < 0) return 1;
    bf_display_set_title(c->display, title);
  }
  return GO_ON;
}

/* The control session up to ESTABLISHED; the pump follows its Welcome. */
static int control_setup(bf_client *c, bf_pump_config *pc, char *data_addr, size_t cap,
                         uint8_t secret[32]) {
  int r = bf_connect_open(c);
  if (r == 0) {
    bf_client_loop_run(c, &bf_connect_phase);
    r = c->setup_rc;
  }
  if (r == 0) r = bf_connect_finish(c, data_addr, cap, secret, &pc->max_k);
  if (r) {
    /* the window says why, until the user has read it; a sender typed there
     * is asked for again, the message above the line */
    if (r > 0 && c->display && bf_display_visible(c->display) && c->setup_err[0] &&
        !c->setup_user_quit && !c->cli->no_wait_on_error) {
      if (c->cli->ask_sender) return ASK_AGAIN;
      bf_screens_fail_begin(c, bf_clock_epoch_ns());
      bf_client_loop_run(c, &bf_screens_fail_phase);
    }
    return r < 0 ? 0 : r; /* -1: `bildfunk pair` finished */
  }
  pc->direct = data_addr;
  pc->seal_secret = secret;
  c->start_ns = bf_clock_epoch_ns(); /* silence and --duration count from here, not from pairing */
  return GO_ON;
}

/* --direct with --seal-key-file: the diagnostic sealed data plane. */
static int direct_secret(bf_client *c, bf_pump_config *pc, uint8_t secret[32]) {
  if (!c->cli->seal_key_file) return GO_ON;
#ifdef BF_HAVE_SEAL
  char err[256];
  if (bf_seal_secret_read_file(c->cli->seal_key_file, secret, err, sizeof err) < 0) {
    fprintf(stderr, "bildfunk: --seal-key-file: %s\n", err);
    return 2;
  }
#endif
  pc->seal_secret = secret; /* the pump says so in a build without sealing */
  return GO_ON;
}

/* The input stage, when the sender took this client's input. */
static int open_input(bf_client *c) {
  const bf_cli *cli = c->cli;
  if (!c->ctl || !c->display || cli->no_input || cli->headless) return GO_ON;
  if (!(c->welcome_flags & BF_CTL_WELCOME_INPUT)) {
    bf_client_say(c, "the sender does not take input from this client (watching only)");
    return GO_ON;
  }
  bf_fwd_config fc = {cli->mouse_relative, cli->capture_system_keys, cli->virtual_pad, cli->quiet};
  char err[300];
  if (bf_fwd_open(&fc, c->display, c->pump, &c->input, err, sizeof err) < 0) {
    fprintf(stderr, "bildfunk: input: %s\n", err);
    return 1;
  }
  bf_client_say(c,
                "input: keyboard, mouse and game pads go to the sender (mouse %s; "
                "Ctrl+Alt+Shift+M switches)",
                bf_fwd_mouse_mode(c->input));
  return GO_ON;
}

/* The data plane, the outputs, the window and its overlay. */
static int open_stream(bf_client *c, const bf_pump_config *pc) {
  const bf_cli *cli = c->cli;
  char err[256];
  int r = bf_pump_open(pc, &c->pump, err, sizeof err);
  if (r < 0) {
    fprintf(stderr, "bildfunk: %s\n", err);
    return r == -EINVAL ? 2 : 1; /* a malformed address is a usage error */
  }
  if (cli->framemd5 && (r = bf_framemd5_open(cli->framemd5, &c->md5)) < 0) {
    fprintf(stderr, "bildfunk: --framemd5 %s: %s\n", cli->framemd5, strerror(-r));
    return 1;
  }
  if (cli->stats_json) {
    if ((r = bf_stats_json_open(&c->json, cli->stats_json)) < 0) {
      fprintf(stderr, "bildfunk: --stats-json %s: %s\n", cli->stats_json, strerror(-r));
      return 1;
    }
    c->json_open = 1;
  }
  /* opened now, written at the end: a path that cannot be written ends here */
  if (cli->report && !(c->report_f = fopen(cli->report, "w"))) {
    fprintf(stderr, "bildfunk: --report %s: %s\n", cli->report, strerror(errno));
    return 1;
  }
  if (!cli->no_audio && (!c->ctl || (c->welcome_flags & BF_CTL_WELCOME_AUDIO))) {
    /* direct mode asks with REQUEST datagrams; a control session asked in
     * its Hello */
    bf_astream_config ac = {cli->audio_device, c->ctl == NULL, cli->quiet};
    if (bf_astream_open(&ac, bf_pump_channel(c->pump), &c->audio) < 0) {
      fprintf(stderr, "bildfunk: out of memory\n");
      return 1;
    }
  }
  if (!cli->headless) {
    char title[128];
    snprintf(title, sizeof title, "bildfunk - %s", bf_pump_peer_name(c->pump));
    if (!c->display && open_window(c, title, NULL, 0) < 0) return 1;
    bf_text_ops ops;
    bf_display_text_ops(c->display, cli->overlay >= BF_OVERLAY_NORMAL, &ops);
    bf_overlay_init(&c->ov, cli->overlay, &ops);
    bf_playback_overlay_text(c, bf_clock_epoch_ns());
    bf_playback_redraw(c);
  }
  return open_input(c);
}

static void announce(const bf_client *c) {
  const char *peer = bf_pump_peer_name(c->pump);
  bf_client_verbose(c, "punching %s", peer);
  if (c->ctl && c->data_via[0])
    bf_client_say(c, "streaming from %s (TLS control session, sealed data for %s via the relay %s)",
                  bf_cctl_endpoint(c->ctl), c->ctl_data, peer);
  else if (c->ctl)
    bf_client_say(c, "streaming from %s (TLS control session, sealed data on %s)",
                  bf_cctl_endpoint(c->ctl), peer);
  else if (!c->cli->seal_key_file)
    bf_client_say(c,
                  "direct mode: the stream from %s is UNENCRYPTED and unauthenticated "
                  "(diagnostics; use bildfunk HOST)",
                  peer);
}

/* After the loop: the control session's Bye, the last picture, what was
 * never decoded, the verdict, the summary. Returns the exit code. */
static int finish(bf_client *c) {
  uint64_t end = bf_clock_epoch_ns();
  bf_connect_close(c, end);
  bf_playback_flush(c, end);
  bf_client_settle(c, end, 1); /* every fate recorded, FRAME_INFO or not */
  if (!c->exit_code && c->pictures == 0 && (c->decode_errors || c->st.frames_completed)) {
    bf_client_say(c, "no picture could be decoded (%llu frames received, %llu decode errors)",
                  (unsigned long long)c->st.frames_completed, (unsigned long long)c->decode_errors);
    c->exit_code = 1;
  }
  if (c->md5 && bf_framemd5_close(&c->md5) < 0) {
    bf_client_say(c, "cannot write the framemd5 file");
    c->exit_code = 1;
  }
  bf_summary_write(c, end);
  return c->exit_code;
}

static int session(bf_client *c) {
  const bf_cli *cli = c->cli;
  bf_pump_config pc = {cli->direct, cli->bind, cli->max_k, bf_clock_epoch_ns, NULL};
  uint8_t secret[32] = {0};
  char data_addr[BF_ADDR_STRLEN];
  int code = bf_rpath_configure(&c->rp, cli);
  if (code) return code;
  code = resolve_data_via(c);
  if (code == GO_ON) code = choose_sender(c);
  while (code == GO_ON) {
    code = c->target[0] ? control_setup(c, &pc, data_addr, sizeof data_addr, secret)
                        : direct_secret(c, &pc, secret);
    if (code != ASK_AGAIN) break;
    code = ask_again(c);
  }
  /* the decoder before the first picture: it knows the codec (a failure
   * to open it ends the stream at its first turn) */
  if (code == GO_ON && c->ctl) (void)bf_playback_prepare(c, c->welcome_codec);
  if (code == GO_ON) code = open_stream(c, &pc);
  memset(secret, 0, sizeof secret);
  if (code != GO_ON) return code;
  c->start_ns = bf_clock_epoch_ns(); /* silence counts from here: a window may take long to open */
  if ((code = bf_rpath_start(c, c->start_ns)) != 0) return code;
  announce(c);
  bf_summary_begin(c);
  bf_streaming_begin(c);
  bf_client_loop_run(c, &bf_streaming_phase);
  return finish(c);
}

int main(int argc, char **argv) {
  bf_cli cli;
  char err[256];
  if (bf_cli_parse(argc, argv, &cli, err, sizeof err) < 0) {
    fprintf(stderr, "bildfunk: %s\nTry 'bildfunk --help'.\n", err);
    return 2;
  }
  if (cli.action == BF_CLI_HELP) {
    bf_cli_usage(stdout);
    return 0;
  }
  if (cli.action == BF_CLI_VERSION) {
    printf("bildfunk %s (libavcodec %s)\n", BF_VERSION_STRING, AV_STRINGIFY(LIBAVCODEC_VERSION));
    return 0;
  }
  if (cli.action == BF_CLI_LIST)
    return bf_senders_list(cli.config_dir, (uint32_t)(cli.browse_s * 1000.0 + 0.5), stdout);
  if (cli.action == BF_CLI_WAKE) return bf_wake_cmd(cli.config_dir, cli.target);
  if (cli.wake &&
      bf_wake_and_wait(cli.config_dir, cli.target, BF_CTL_DEFAULT_PORT, BF_WAKE_WAIT_S) != 0)
    return 1;
  if (cli.action == BF_CLI_UNPAIR) return bf_senders_unpair(cli.config_dir, cli.target, stdout);
  av_log_set_level(cli.verbose ? AV_LOG_WARNING : AV_LOG_FATAL);
  bf_client *c;
  int code = bf_client_new(&cli, &c);
  bf_evloop_signals(0);
  if (!code) code = session(c);
  bf_client_free(&c);
  if (code == 2) fprintf(stderr, "Try 'bildfunk --help'.\n"); /* every usage error ends so */
  return code;
}
