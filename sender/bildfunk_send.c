/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * bildfunk-send: streams a picture source to one bildfunk client.
 *
 * The program's entry: the command line (send_cli.h), the administration
 * commands that only touch the pin store (send_admin.h), the signals, then
 * setup (send_setup.h), the one event loop (send_loop.h) and the
 * statistics at exit (send_stats.h). The run's state (send_state.h) is
 * allocated here and owned by this function.
 *
 * Control mode (the default): the loop also serves the TCP control
 * connections (send_ctl.h: accept, TLS, pairing, keepalive; the operator's
 * confirmation lines on stdin). A session that becomes established gets a
 * freshly keyed sealed data plane and the punch is accepted only from its
 * IP; when it closes, streaming stops at once. --direct is the old mode.
 */
#include "enc_preset.h"
#include "send_admin.h"
#include "send_cli.h"
#include "send_loop.h"
#include "send_setup.h"
#include "send_state.h"
#include "send_stats.h"

#include <bildfunk/common.h>
#include <bildfunk/evloop.h>
#include <bildfunk/wire.h>

#include <libavcodec/version.h>
#include <libavutil/log.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

/* Parses the command line into |o|. Returns -1 to run, else the exit code. */
static int options(int argc, char **argv, bf_send_options *o) {
  char err[600] = "";
  bf_send_options_default(o);
  int r = bf_send_options_parse(argc, argv, o, err, sizeof err);
  if (r == BF_CLI_HELP) {
    bf_send_usage(stdout);
    return 0;
  }
  if (r == BF_CLI_VERSION) {
    printf("bildfunk-send %s (wire v%u, %s)\n", BF_VERSION_STRING, (unsigned)BF_WIRE_VERSION,
           LIBAVCODEC_IDENT);
    return 0;
  }
  if (r < 0) {
    fprintf(stderr, "bildfunk-send: %s\nTry 'bildfunk-send --help'.\n", err);
    return 2;
  }
  if (o->list_clients || o->revoke) return bf_send_admin_run(o);
  if (o->preset &&
      bf_encoder_check_preset(o->codec, o->encoder, o->preset, err, sizeof err) == -EINVAL) {
    fprintf(stderr, "bildfunk-send: %s\nTry 'bildfunk-send --help'.\n", err);
    return 2;
  }
  return -1;
}

int main(int argc, char **argv) {
  bf_send_state *s = calloc(1, sizeof *s);
  if (!s) {
    fprintf(stderr, "bildfunk-send: out of memory\n");
    return 1;
  }
  int rc = options(argc, argv, &s->o);
  if (rc >= 0) {
    free(s);
    return rc;
  }
  av_log_set_level(s->o.verbose ? AV_LOG_INFO : AV_LOG_FATAL);
  if (!s->o.verbose) setenv("SVT_LOG", "1", 0); /* SVT-AV1: errors only */
  /* control mode reads pairing answers from stdin; started in the
   * background of a shell (`bildfunk-send &`), a read of the terminal would
   * stop the whole sender (SIGTTIN) as soon as anyone types there: ignored,
   * the read fails with EIO and ctl_server.c tries again later */
  bf_evloop_signals(BF_EVLOOP_IGNORE_TTIN);

  char err[600] = "";
  int r = bf_send_setup_open(s, err, sizeof err);
  if (r < 0) {
    fprintf(stderr, "bildfunk-send: %s\n", err[0] ? err : bf_strerror(r));
    bf_send_setup_close(s);
    free(s);
    return 1;
  }
  bf_send_setup_banner(s);
  rc = bf_send_loop_run(s);
  if (s->o.stats_json && (r = bf_send_stats_write(s, s->o.stats_json)) < 0) {
    fprintf(stderr, "bildfunk-send: cannot write --stats-json '%s': %s\n", s->o.stats_json,
            bf_strerror(r));
    rc = 1;
  }
  bf_send_stats_summary(s);
  bf_send_setup_close(s);
  free(s);
  return rc;
}
