/*
 * bildfunk: the client. Parses the command line and runs one session.
 */
#include "client_cli.h"
#include "session.h"

#include <bildfunk/common.h>

#include <libavcodec/avcodec.h>
#include <libavutil/log.h>

#include <stdio.h>

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
  av_log_set_level(cli.verbose ? AV_LOG_WARNING : AV_LOG_FATAL);
  return bf_session_run(&cli);
}
