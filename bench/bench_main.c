/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * bildfunk-bench entry point: dispatches to the benchmark subcommands.
 */
#include "bench.h"

#include <bildfunk/common.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

uint64_t bf_bench_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

typedef struct bench_cmd {
  const char *name;
  int (*fn)(int, char **);
  const char *help;
} bench_cmd;

static void usage(FILE *out, const bench_cmd *cmds, size_t n) {
  fprintf(out, "usage: bildfunk-bench COMMAND [options]\n\ncommands:\n");
  for (size_t i = 0; i < n; i++)
    fprintf(out, "  %-12s %s%s\n", cmds[i].name, cmds[i].help,
            cmds[i].fn ? "" : " (not built)");
  fprintf(out, "\nEach command prints one JSON object; COMMAND --help for its options.\n");
}

int main(int argc, char **argv) {
  const bench_cmd cmds[] = {
      {"fec", bf_bench_fec, "Reed-Solomon encode/decode vs raw ISA-L"},
      {"reassembly", bf_bench_reassembly, "reassembler ns per packet"},
      {"transport", bf_bench_transport, "UDP send/receive modes over loopback"},
      {"seal", bf_bench_seal, "AES-128-GCM seal/open ns per packet, ctx reuse vs re-init"},
      {"input", bf_bench_input, "the input link's cost per event, both ends, vs a bare send"},
  };
  const size_t n = sizeof cmds / sizeof cmds[0];
  if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
    usage(argc < 2 ? stderr : stdout, cmds, n);
    return argc < 2 ? 2 : 0;
  }
  if (!strcmp(argv[1], "--version")) {
    printf("bildfunk-bench %s\n", BF_VERSION_STRING);
    return 0;
  }
  for (size_t i = 0; i < n; i++) {
    if (strcmp(argv[1], cmds[i].name) != 0) continue;
    if (!cmds[i].fn) {
      fprintf(stderr, "bildfunk-bench: '%s' is not built in this binary\n", argv[1]);
      return 2;
    }
    return cmds[i].fn(argc - 1, argv + 1);
  }
  fprintf(stderr, "bildfunk-bench: unknown command '%s'\n\n", argv[1]);
  usage(stderr, cmds, n);
  return 2;
}
