/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * bildfunk-netsim: a UDP relay between a client and a sender that impairs the
 * traffic reproducibly (docs/netsim.md). The client talks to --listen; the
 * first datagram fixes the client's address; datagrams go on to --to from a
 * socket of our own, and what the sender answers there goes back to the
 * client. Each direction runs through its own impairment engine (impair.h),
 * seeded from --seed.
 *
 * The relay is one thread: ppoll on both sockets with a timeout that ends at
 * the next due datagram or the next report, so a datagram leaves within the
 * timer's slack (tens of microseconds; the stats report the worst lateness).
 * It does not parse what it relays: any datagram up to BF_MAX_DATAGRAM bytes
 * is carried; longer ones are dropped by the socket layer and counted.
 *
 * Not here: the impairment decisions (impair.c), any knowledge of the wire
 * format.
 */
#include "impair.h"

#include <bildfunk/common.h>
#include <bildfunk/feedback.h>
#include <bildfunk/transport.h>

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PROG "bildfunk-netsim"
#define DEFAULT_LISTEN_PORT 47999u
#define DEFAULT_TO_PORT BF_DEFAULT_DATA_PORT /* the sender's data port */
#define DEFAULT_QUEUE_MS 50.0
#define SEND_BATCH 64u
#define NS_PER_S 1000000000ull

enum { UP = 0, DOWN = 1 };
static const char *const dir_name[2] = {"up", "down"};

typedef struct direction {
  bf_impair *eng;
  bf_transport *out; /* the socket this direction leaves through */
  uint64_t sent_packets, sent_bytes, send_dropped;
  uint64_t foreign; /* arrived from an address that is not this direction's source */
  /* The last report line's snapshot, for per-interval numbers. */
  bf_impair_stats prev;
  uint64_t prev_sent;
  uint64_t win_delay_max;
} direction;

static volatile sig_atomic_t g_stop;

static void on_signal(int sig) {
  (void)sig;
  g_stop = 1;
}

static uint64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

static void usage(FILE *f) {
  fprintf(f,
          "Usage: " PROG " --to HOST:PORT [--listen [HOST:]PORT] [impairments] [options]\n"
          "\n"
          "Relays UDP between a client (which sends to --listen; its first datagram fixes\n"
          "its address) and a sender at --to, impairing each direction reproducibly.\n"
          "  up = client -> sender, down = sender -> client.\n"
          "\n"
          "Addresses:\n"
          "  --to HOST[:PORT]       the sender (port default %u)\n"
          "  --listen [HOST:]PORT   where the client sends (default 0.0.0.0:%u)\n"
          "\n"
          "Impairments (apply to the directions chosen by the last --dir before them;\n"
          "before any --dir, to both):\n"
          "  --dir both|up|down     direction scope for the flags that follow\n"
          "  --loss PCT             random loss; with --burst the average burst loss\n"
          "  --burst MEAN_LEN       Gilbert-Elliott loss with this mean burst length\n"
          "  --ge-p PCT --ge-r PCT  Gilbert-Elliott given as P(good->bad), P(bad->good)\n"
          "  --delay MS             fixed one-way delay\n"
          "  --jitter MS            +- uniform jitter on the delay (order kept)\n"
          "  --reorder              let jitter reorder (datagrams may overtake)\n"
          "  --dup PCT              duplicate datagrams\n"
          "  --rate RATE            rate limit (UDP payload bits) with a bounded queue:\n"
          "                         Mbit/s, or with a unit as the sender's: 500k, 20M, 1G\n"
          "  --queue-ms MS          queue bound for --rate, tail drop beyond (default %g)\n"
          "  --mtu BYTES            drop datagrams longer than this\n"
          "  --max-queue N          datagrams held at once per direction (default %u)\n"
          "\n"
          "Options:\n"
          "  --seed N               PRNG seed (default 1): same seed, same decisions\n"
          "  --duration S           exit after S seconds (default: until SIGINT/SIGTERM)\n"
          "  --stats-json FILE      write the totals as JSON on exit\n"
          "  --quiet                no per-second lines (the summary is still printed)\n"
          "  -h, --help             this text;  -V, --version: the version\n"
          "\n"
          "Exit status: 0 done, 1 runtime error, 2 bad command line.\n",
          DEFAULT_TO_PORT, DEFAULT_LISTEN_PORT, DEFAULT_QUEUE_MS, BF_IMPAIR_DEFAULT_MAX_QUEUE);
}

static int bad_value(const char *flag, const char *val, const char *want) {
  fprintf(stderr, PROG ": %s: '%s' is not %s\n", flag, val, want);
  return -1;
}

static int parse_double(const char *flag, const char *s, double lo, double hi, const char *want,
                        double *out) {
  char *end = NULL;
  errno = 0;
  double v = strtod(s, &end);
  if (!*s || *end || errno || !isfinite(v) || v < lo || v > hi) return bad_value(flag, s, want);
  *out = v;
  return 0;
}

/* --rate: Mbit/s, or with a unit as the sender's rates (500k, 20M, 1G). */
static int parse_rate(const char *flag, const char *s, double *out) {
  static const char units[] = "kKmMgG", *want = "Mbit/s 0.001..1000000 (or 500k, 20M, 1G)";
  static const double mbit[] = {1e-3, 1e-3, 1, 1, 1e3, 1e3};
  size_t n = strlen(s);
  const char *u = n > 1 ? strchr(units, s[n - 1]) : NULL;
  char num[64];
  snprintf(num, sizeof num, "%.*s", (int)(u ? n - 1 : n), s);
  if (parse_double(flag, num, 0, 1e9, want, out)) return -1;
  *out *= u ? mbit[u - units] : 1;
  return *out < 0.001 || *out > 1e6 ? bad_value(flag, s, want) : 0;
}

static int parse_u64(const char *flag, const char *s, uint64_t lo, uint64_t hi, const char *want,
                     uint64_t *out) {
  char *end = NULL;
  errno = 0;
  if (!*s || *s == '-' || *s == '+') return bad_value(flag, s, want);
  unsigned long long v = strtoull(s, &end, 0);
  if (*end || errno || v < lo || v > hi) return bad_value(flag, s, want);
  *out = v;
  return 0;
}

static uint64_t ms_to_ns(double ms) {
  return (uint64_t)llround(ms * 1e6);
}

static uint64_t mix_seed(uint64_t seed, uint64_t k) {
  uint64_t z = seed + k * 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static void describe(FILE *f, const char *name, const bf_impair_config *c) {
  fprintf(f, "%-4s:", name);
  if (bf_impair_config_is_transparent(c)) {
    fprintf(f, " transparent\n");
    return;
  }
  if (c->mtu) fprintf(f, " mtu %u", c->mtu);
  if (c->ge_p_pct > 0)
    fprintf(f, " gilbert-elliott p %g%% r %g%%", c->ge_p_pct, c->ge_r_pct);
  else if (c->burst_mean > 0)
    fprintf(f, " burst loss %g%% mean %g", c->loss_pct, c->burst_mean);
  else if (c->loss_pct > 0)
    fprintf(f, " loss %g%%", c->loss_pct);
  if (c->dup_pct > 0) fprintf(f, " dup %g%%", c->dup_pct);
  if (c->rate_mbit > 0)
    fprintf(f, " rate %g Mbit/s queue %g ms", c->rate_mbit, (double)c->queue_ns / 1e6);
  if (c->delay_ns) fprintf(f, " delay %g ms", (double)c->delay_ns / 1e6);
  if (c->jitter_ns)
    fprintf(f, " jitter %g ms %s", (double)c->jitter_ns / 1e6,
            c->reorder ? "reordering" : "in order");
  fprintf(f, "\n");
}

/* Hands every datagram due at |now| to the socket, in batches. */
static void flush_due(direction *d, uint64_t now) {
  bf_impair_pkt pk[SEND_BATCH];
  bf_dgram dg[SEND_BATCH];
  for (;;) {
    size_t n = 0;
    while (n < SEND_BATCH && bf_impair_poll(d->eng, now, &pk[n])) {
      dg[n].head = pk[n].data;
      dg[n].head_len = pk[n].len;
      dg[n].body = NULL;
      dg[n].body_len = 0;
      uint64_t hold = pk[n].due_ns - pk[n].arrival_ns;
      if (hold > d->win_delay_max) d->win_delay_max = hold;
      n++;
    }
    if (n == 0) return;
    int took = bf_send_batch(d->out, dg, n);
    if (took < 0) {
      static int warned;
      if (!warned)
        fprintf(stderr, PROG ": send failed: %s (counted as dropped)\n", bf_strerror(took));
      warned = 1;
      took = 0;
    }
    for (size_t i = 0; i < n; i++) {
      if (i < (size_t)took) {
        d->sent_packets++;
        d->sent_bytes += pk[i].len;
      } else {
        d->send_dropped++;
      }
      bf_impair_release(d->eng, &pk[i]);
    }
    if (n < SEND_BATCH) return;
  }
}

static double mean_ms(uint64_t sum_ns, uint64_t n) {
  return n ? (double)sum_ns / (double)n / 1e6 : 0.0;
}

/* One line per direction: the last interval (|total| = 0) or the totals. */
static void report_line(FILE *f, const char *label, direction *d, const char *name, int total) {
  const bf_impair_stats *s = bf_impair_stats_get(d->eng);
  bf_impair_stats z;
  memset(&z, 0, sizeof z);
  const bf_impair_stats *p = total ? &z : &d->prev;
  uint64_t out = s->out_packets - p->out_packets;
  uint64_t dmax = total ? s->delay_max_ns : d->win_delay_max;
  fprintf(f,
          "%s %-4s in %llu out %llu sent %llu | drop loss %llu burst %llu queue %llu mtu %llu "
          "overflow %llu | dup %llu reord %llu | delay mean %.2f max %.2f ms | %.2f MB "
          "queued %llu\n",
          label, name, (unsigned long long)(s->in_packets - p->in_packets), (unsigned long long)out,
          (unsigned long long)(d->sent_packets - (total ? 0 : d->prev_sent)),
          (unsigned long long)(s->drop_loss - p->drop_loss),
          (unsigned long long)(s->drop_burst - p->drop_burst),
          (unsigned long long)(s->drop_queue - p->drop_queue),
          (unsigned long long)(s->drop_mtu - p->drop_mtu),
          (unsigned long long)(s->drop_overflow - p->drop_overflow),
          (unsigned long long)(s->duplicated - p->duplicated),
          (unsigned long long)(s->reordered - p->reordered),
          mean_ms(s->delay_sum_ns - p->delay_sum_ns, out), (double)dmax / 1e6,
          (double)(s->in_bytes - p->in_bytes) / 1e6, (unsigned long long)s->queued);
  if (!total) {
    d->prev = *s;
    d->prev_sent = d->sent_packets;
    d->win_delay_max = 0;
  }
}

static void json_dir(FILE *f, const char *name, const direction *d, const bf_transport *in) {
  const bf_impair_stats *s = bf_impair_stats_get(d->eng);
  const bf_impair_config *c = bf_impair_config_get(d->eng);
  uint64_t dropped = s->drop_loss + s->drop_burst + s->drop_queue + s->drop_mtu + s->drop_overflow;
  fprintf(f,
          "  \"%s\": {\n"
          "    \"config\": {\"loss_pct\": %g, \"burst_mean\": %g, \"ge_p_pct\": %g, "
          "\"ge_r_pct\": %g, \"delay_ms\": %g, \"jitter_ms\": %g, \"reorder\": %s, "
          "\"dup_pct\": %g, \"rate_mbit\": %g, \"queue_ms\": %g, \"mtu\": %u, "
          "\"max_queue\": %u, \"seed\": %llu},\n",
          name, c->loss_pct, c->burst_mean, c->ge_p_pct, c->ge_r_pct, (double)c->delay_ns / 1e6,
          (double)c->jitter_ns / 1e6, c->reorder ? "true" : "false", c->dup_pct, c->rate_mbit,
          (double)c->queue_ns / 1e6, c->mtu, c->max_queue, (unsigned long long)c->seed);
  fprintf(
      f,
      "    \"in_packets\": %llu, \"in_bytes\": %llu,\n"
      "    \"out_packets\": %llu, \"out_bytes\": %llu,\n"
      "    \"sent_packets\": %llu, \"sent_bytes\": %llu, \"send_dropped\": %llu,\n"
      "    \"dropped_loss\": %llu, \"dropped_burst\": %llu, \"dropped_queue\": %llu,\n"
      "    \"dropped_mtu\": %llu, \"dropped_overflow\": %llu, \"dropped_total\": %llu,\n"
      "    \"bursts\": %llu, \"duplicated\": %llu, \"reordered\": %llu,\n"
      "    \"reordered_video\": %llu, \"duplicated_video\": %llu, \"delay_mean_ms\": %.4f,\n"
      "    \"delay_max_ms\": %.4f, \"late_max_ms\": %.4f,\n"
      "    \"queued_at_exit\": %llu, \"queued_max\": %llu, \"foreign\": %llu, \"oversize\": %llu,\n"
      "    \"kernel_drops\": %llu\n  }",
      (unsigned long long)s->in_packets, (unsigned long long)s->in_bytes,
      (unsigned long long)s->out_packets, (unsigned long long)s->out_bytes,
      (unsigned long long)d->sent_packets, (unsigned long long)d->sent_bytes,
      (unsigned long long)d->send_dropped, (unsigned long long)s->drop_loss,
      (unsigned long long)s->drop_burst, (unsigned long long)s->drop_queue,
      (unsigned long long)s->drop_mtu, (unsigned long long)s->drop_overflow,
      (unsigned long long)dropped, (unsigned long long)s->bursts, (unsigned long long)s->duplicated,
      (unsigned long long)s->reordered, (unsigned long long)s->reordered_video,
      (unsigned long long)s->duplicated_video, mean_ms(s->delay_sum_ns, s->out_packets),
      (double)s->delay_max_ns / 1e6, (double)s->late_max_ns / 1e6, (unsigned long long)s->queued,
      (unsigned long long)s->queued_max, (unsigned long long)d->foreign,
      (unsigned long long)in->stats.rx_oversize, (unsigned long long)in->stats.kernel_drops);
}

/* Writes the totals to |path| through a temporary file and a rename, so a
 * reader never sees half a file. Returns 0 or -1 (reported). */
static int write_json(const char *path, uint64_t seed, double elapsed, const char *listen,
                      const char *to, const char *client, const direction dir[2],
                      const bf_transport *lsock, const bf_transport *ssock) {
  size_t n = strlen(path) + 8;
  char *tmp = malloc(n);
  if (!tmp) return -1;
  snprintf(tmp, n, "%s.tmp", path);
  FILE *f = fopen(tmp, "w");
  if (!f) {
    fprintf(stderr, PROG ": --stats-json %s: %s\n", path, strerror(errno));
    free(tmp);
    return -1;
  }
  fprintf(f,
          "{\n  \"tool\": \"" PROG "\", \"version\": \"%s\", \"seed\": %llu, "
          "\"elapsed_s\": %.3f,\n  \"listen\": \"%s\", \"to\": \"%s\", ",
          BF_VERSION_STRING, (unsigned long long)seed, elapsed, listen, to);
  if (client)
    fprintf(f, "\"client\": \"%s\",\n", client);
  else
    fprintf(f, "\"client\": null,\n");
  /* up arrives on the listen socket, down on the sender-side one. */
  json_dir(f, "up", &dir[UP], lsock);
  fprintf(f, ",\n");
  json_dir(f, "down", &dir[DOWN], ssock);
  fprintf(f, "\n}\n");
  int bad = ferror(f);
  if (fclose(f) != 0) bad = 1;
  if (bad || rename(tmp, path) != 0) {
    fprintf(stderr, PROG ": --stats-json %s: %s\n", path, strerror(errno));
    remove(tmp);
    free(tmp);
    return -1;
  }
  free(tmp);
  return 0;
}

enum {
  OPT_TO = 256,
  OPT_LISTEN,
  OPT_DIR,
  OPT_LOSS,
  OPT_BURST,
  OPT_GE_P,
  OPT_GE_R,
  OPT_DELAY,
  OPT_JITTER,
  OPT_REORDER,
  OPT_DUP,
  OPT_RATE,
  OPT_QUEUE_MS,
  OPT_MTU,
  OPT_MAX_QUEUE,
  OPT_SEED,
  OPT_DURATION,
  OPT_STATS_JSON,
  OPT_QUIET,
  OPT_HELP,
  OPT_VERSION,
  /* the impairments, OPT_LOSS..OPT_MAX_QUEUE, stay together */
  OPT_FIRST_IMPAIRMENT = OPT_LOSS,
  OPT_LAST_IMPAIRMENT = OPT_MAX_QUEUE,
};

static const struct option long_opts[] = {
    {"to", required_argument, NULL, OPT_TO},
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"dir", required_argument, NULL, OPT_DIR},
    {"loss", required_argument, NULL, OPT_LOSS},
    {"burst", required_argument, NULL, OPT_BURST},
    {"ge-p", required_argument, NULL, OPT_GE_P},
    {"ge-r", required_argument, NULL, OPT_GE_R},
    {"delay", required_argument, NULL, OPT_DELAY},
    {"jitter", required_argument, NULL, OPT_JITTER},
    {"reorder", no_argument, NULL, OPT_REORDER},
    {"dup", required_argument, NULL, OPT_DUP},
    {"rate", required_argument, NULL, OPT_RATE},
    {"queue-ms", required_argument, NULL, OPT_QUEUE_MS},
    {"mtu", required_argument, NULL, OPT_MTU},
    {"max-queue", required_argument, NULL, OPT_MAX_QUEUE},
    {"seed", required_argument, NULL, OPT_SEED},
    {"duration", required_argument, NULL, OPT_DURATION},
    {"stats-json", required_argument, NULL, OPT_STATS_JSON},
    {"quiet", no_argument, NULL, OPT_QUIET},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

typedef struct options {
  const char *to, *listen, *stats_json;
  bf_impair_config cfg[2];
  uint64_t seed;
  double duration;
  int quiet;
} options;

/* Defaults: both directions transparent, --listen 0.0.0.0, seed 1. */
static void options_init(options *o) {
  memset(o, 0, sizeof *o);
  o->listen = "0.0.0.0";
  o->seed = 1;
  for (int k = 0; k < 2; k++) {
    bf_impair_config_default(&o->cfg[k]);
    o->cfg[k].queue_ns = ms_to_ns(DEFAULT_QUEUE_MS);
  }
}

/* An option that is not an impairment: into |o|, or the --dir scope into
 * *|mask| (bit UP, bit DOWN). Returns 0, 1 to exit 0 (help, version), -1 for
 * a usage error (reported). */
static int program_option(int c, const char *flag, char **argv, options *o, int *mask) {
  switch (c) {
  case OPT_TO:
    o->to = optarg;
    return 0;
  case OPT_LISTEN:
    o->listen = optarg;
    return 0;
  case OPT_STATS_JSON:
    o->stats_json = optarg;
    return 0;
  case OPT_QUIET:
    o->quiet = 1;
    return 0;
  case OPT_HELP:
  case 'h':
    usage(stdout);
    return 1;
  case OPT_VERSION:
  case 'V':
    printf(PROG " %s\n", BF_VERSION_STRING);
    return 1;
  case OPT_DIR:
    if (strcmp(optarg, "both") == 0)
      *mask = 3;
    else if (strcmp(optarg, "up") == 0)
      *mask = 1;
    else if (strcmp(optarg, "down") == 0)
      *mask = 2;
    else
      return bad_value(flag, optarg, "both, up or down");
    return 0;
  case OPT_SEED:
    return parse_u64(flag, optarg, 0, UINT64_MAX, "an unsigned integer", &o->seed);
  case OPT_DURATION:
    return parse_double(flag, optarg, 0.001, 1e7, "a number of seconds > 0", &o->duration);
  case ':':
    fprintf(stderr, PROG ": %s needs a value\n", argv[optind - 1]);
    return -1;
  case '?':
    fprintf(stderr, PROG ": unknown option '%s'\n", argv[optind - 1]);
    return -1;
  default:
    fprintf(stderr, PROG ": unhandled option\n");
    return -1;
  }
}

/* The value of impairment option |c| (|arg|): a number into *|v| or a count
 * into *|u|. 0 or -1 (reported). */
static int impairment_value(int c, const char *flag, const char *arg, double *v, uint64_t *u) {
  switch (c) {
  case OPT_LOSS:
  case OPT_GE_P:
  case OPT_GE_R:
  case OPT_DUP:
    return parse_double(flag, arg, 0, 100, "a percentage 0..100", v);
  case OPT_BURST:
    return parse_double(flag, arg, 1, 1e9, "a mean burst length >= 1 (packets)", v);
  case OPT_DELAY:
  case OPT_JITTER:
  case OPT_QUEUE_MS:
    return parse_double(flag, arg, 0, 3.6e6, "milliseconds 0..3600000", v);
  case OPT_RATE:
    return parse_rate(flag, arg, v);
  case OPT_MTU:
    return parse_u64(flag, arg, 1, BF_IMPAIR_MAX_DGRAM, "a byte count 1..9216", u);
  case OPT_MAX_QUEUE:
    return parse_u64(flag, arg, 1, BF_IMPAIR_MAX_MAX_QUEUE, "a datagram count 1..1048576", u);
  case OPT_REORDER:
    return 0;
  default:
    fprintf(stderr, PROG ": unhandled option\n");
    return -1;
  }
}

/* Sets impairment |c| of one direction's |cf| to the value parsed. */
static void impairment_set(bf_impair_config *cf, int c, double v, uint64_t u) {
  switch (c) {
  case OPT_LOSS:
    cf->loss_pct = v;
    break;
  case OPT_GE_P:
    cf->ge_p_pct = v;
    break;
  case OPT_GE_R:
    cf->ge_r_pct = v;
    break;
  case OPT_DUP:
    cf->dup_pct = v;
    break;
  case OPT_BURST:
    cf->burst_mean = v;
    break;
  case OPT_DELAY:
    cf->delay_ns = ms_to_ns(v);
    break;
  case OPT_JITTER:
    cf->jitter_ns = ms_to_ns(v);
    break;
  case OPT_QUEUE_MS:
    cf->queue_ns = ms_to_ns(v);
    break;
  case OPT_RATE:
    cf->rate_mbit = v;
    break;
  case OPT_MTU:
    cf->mtu = (uint32_t)u;
    break;
  case OPT_MAX_QUEUE:
    cf->max_queue = (uint32_t)u;
    break;
  case OPT_REORDER:
    cf->reorder = 1;
    break;
  default:
    break;
  }
}

/* The checks after the last option: no operands, --to given, each
 * direction's configuration consistent (and seeded). 0 or -1 (reported). */
static int options_finish(int argc, char **argv, options *o) {
  if (optind < argc) {
    fprintf(stderr, PROG ": unexpected argument '%s'\n", argv[optind]);
    return -1;
  }
  if (!o->to) {
    fprintf(stderr, PROG ": --to HOST:PORT is required\n");
    return -1;
  }
  for (int k = 0; k < 2; k++) {
    o->cfg[k].seed = mix_seed(o->seed, (uint64_t)k + 1);
    const char *why = bf_impair_config_check(&o->cfg[k]);
    if (why) {
      fprintf(stderr, PROG ": %s direction: %s\n", dir_name[k], why);
      return -1;
    }
  }
  return 0;
}

/* Parses the command line into |o|. Returns 0 to run, 1 to exit 0 (help,
 * version), -1 for a usage error (already reported). */
static int parse_args(int argc, char **argv, options *o) {
  options_init(o);
  int mask = 3; /* the directions impairments apply to: bit UP, bit DOWN */
  opterr = 0;
  for (;;) {
    int idx = 0;
    int c = getopt_long(argc, argv, ":hV", long_opts, &idx);
    if (c == -1) break;
    /* The flag's own name for messages (argv may hold "--flag=value"). */
    char flag[40] = "";
    for (const struct option *lo = long_opts; lo->name; lo++)
      if (lo->val == c) snprintf(flag, sizeof flag, "--%s", lo->name);
    if (c < OPT_FIRST_IMPAIRMENT || c > OPT_LAST_IMPAIRMENT) {
      int r = program_option(c, flag, argv, o, &mask);
      if (r) return r;
      continue;
    }
    /* Impairments: parse once, apply to every direction in scope. */
    double v = 0;
    uint64_t u = 0;
    if (impairment_value(c, flag, optarg, &v, &u)) return -1;
    for (int k = 0; k < 2; k++)
      if (mask & (1 << k)) impairment_set(&o->cfg[k], c, v, u);
  }
  return options_finish(argc, argv, o);
}

/* Opens a UDP socket bound to |bind| (formatted address). */
static int open_socket(const char *bind, bf_transport **out) {
  bf_udp_config uc;
  bf_udp_config_default(&uc);
  uc.bind = bind;
  uc.gso = 0;
  uc.sock_buf = 8u << 20;
  uc.quiet = 1;
  return bf_udp_open(&uc, out);
}

/* The running relay, owned by main for the whole run. One receive ring
 * serves both sockets: each batch is pushed into its engine before the next
 * read, so nothing waits in the ring (the engines hold what is delayed). */
typedef struct relay {
  direction dir[2];
  bf_transport *lsock; /* client side: --listen; down leaves through it */
  bf_transport *ssock; /* sender side: an ephemeral port; up leaves through it */
  bf_recv_ring ring;
  bf_addr to_addr;
  bf_addr client; /* len 0 until the client's first datagram */
  char lbuf[BF_ADDR_STRLEN], tbuf[BF_ADDR_STRLEN], cbuf[BF_ADDR_STRLEN];
} relay;

/* --listen and --to into addresses. 0 or -1 (reported). */
static int resolve(const options *o, bf_addr *listen_addr, bf_addr *to_addr) {
  char any[32]; /* a bare PORT or :PORT listens on every address, as the sender's --listen */
  const char *port = o->listen[0] == ':' ? o->listen + 1 : o->listen;
  int bare = *port && strspn(port, "0123456789") == strlen(port) && strlen(port) < 6;
  snprintf(any, sizeof any, "0.0.0.0:%s", port);
  int rc = bf_addr_parse(bare ? any : o->listen, DEFAULT_LISTEN_PORT, listen_addr);
  if (rc < 0) {
    fprintf(stderr, PROG ": --listen '%s': %s\n", o->listen,
            rc == -ENOENT ? "name not resolved" : "not HOST[:PORT]");
    return -1;
  }
  rc = bf_addr_parse(o->to, DEFAULT_TO_PORT, to_addr);
  if (rc < 0) {
    fprintf(stderr, PROG ": --to '%s': %s\n", o->to,
            rc == -ENOENT ? "name not resolved" : "not HOST[:PORT]");
    return -1;
  }
  return 0;
}

/* Opens both sockets, the ring and the engines, and says so on stdout.
 * 0 or -1 (reported); relay_close() cleans up either way. */
static int relay_open(relay *r, const options *o, const bf_addr *listen_addr) {
  bf_addr_format(listen_addr, r->lbuf, sizeof r->lbuf);
  int rc = open_socket(r->lbuf, &r->lsock);
  if (rc < 0) {
    fprintf(stderr, PROG ": cannot listen on %s: %s\n", r->lbuf, bf_strerror(rc));
    return -1;
  }
  rc = open_socket(r->to_addr.ss.ss_family == AF_INET6 ? "[::]:0" : "0.0.0.0:0", &r->ssock);
  if (rc < 0) {
    fprintf(stderr, PROG ": cannot open the sender-side socket: %s\n", bf_strerror(rc));
    return -1;
  }
  bf_transport_set_peer(r->ssock, &r->to_addr);
  rc = bf_recv_ring_init(&r->ring, 0, 0);
  for (int k = 0; k < 2 && rc == 0; k++)
    rc = bf_impair_new(&o->cfg[k], &r->dir[k].eng);
  if (rc < 0) {
    fprintf(stderr, PROG ": %s\n", bf_strerror(rc));
    return -1;
  }
  r->dir[UP].out = r->ssock;
  r->dir[DOWN].out = r->lsock;

  bf_addr bound;
  if (bf_transport_local_addr(r->lsock, &bound) == 0)
    bf_addr_format(&bound, r->lbuf, sizeof r->lbuf);
  bf_addr_format(&r->to_addr, r->tbuf, sizeof r->tbuf);
  printf(PROG " listening on %s, relaying to %s, seed %llu\n", r->lbuf, r->tbuf,
         (unsigned long long)o->seed);
  for (int k = 0; k < 2; k++)
    describe(stdout, dir_name[k], &o->cfg[k]);
  return 0;
}

static void relay_close(relay *r) {
  for (int k = 0; k < 2; k++)
    bf_impair_del(&r->dir[k].eng);
  bf_recv_ring_free(&r->ring);
  bf_transport_close(&r->lsock);
  bf_transport_close(&r->ssock);
}

/* Blocks SIGINT and SIGTERM (the previous mask into |orig|) and sets their
 * handler: they arrive only inside ppoll, so a stop is never missed. */
static void block_signals(sigset_t *orig) {
  sigset_t block;
  sigemptyset(&block);
  sigaddset(&block, SIGINT);
  sigaddset(&block, SIGTERM);
  sigprocmask(SIG_BLOCK, &block, orig);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
}

/* Client side: the first source becomes the client; others are counted and
 * ignored. */
static void from_client(relay *r) {
  int n = bf_recv_batch(r->lsock, &r->ring);
  uint64_t now = mono_ns();
  for (int i = 0; i < n; i++) {
    const bf_rx_slot *sl = &r->ring.slots[i];
    if (!r->client.len) {
      r->client = *sl->from;
      bf_transport_set_peer(r->lsock, &r->client);
      printf(PROG " client is %s\n", bf_addr_format(&r->client, r->cbuf, sizeof r->cbuf));
    } else if (!bf_addr_equal(&r->client, sl->from)) {
      r->dir[UP].foreign++;
      continue;
    }
    bf_impair_push(r->dir[UP].eng, sl->data, sl->len, now);
  }
  if (n < 0) fprintf(stderr, PROG ": receive (client side): %s\n", bf_strerror(n));
}

/* Sender side: only what comes from --to, and only once a client exists. */
static void from_sender(relay *r) {
  int n = bf_recv_batch(r->ssock, &r->ring);
  uint64_t now = mono_ns();
  for (int i = 0; i < n; i++) {
    const bf_rx_slot *sl = &r->ring.slots[i];
    if (!r->client.len || !bf_addr_equal(&r->to_addr, sl->from)) {
      r->dir[DOWN].foreign++;
      continue;
    }
    bf_impair_push(r->dir[DOWN].eng, sl->data, sl->len, now);
  }
  if (n < 0) fprintf(stderr, PROG ": receive (sender side): %s\n", bf_strerror(n));
}

/* The loop, from |start| until --duration, a signal or a poll error: send
 * what is due, report once a second, sleep until the next of these or a
 * datagram. Returns the exit status so far (0, or 1 for a poll error). */
static int relay_run(relay *r, const options *o, uint64_t start, const sigset_t *orig) {
  const uint64_t end = o->duration > 0 ? start + (uint64_t)llround(o->duration * 1e9) : UINT64_MAX;
  uint64_t next_report = start + NS_PER_S;
  struct pollfd pfd[2] = {{.fd = r->lsock->fd, .events = POLLIN},
                          {.fd = r->ssock->fd, .events = POLLIN}};
  while (!g_stop) {
    uint64_t now = mono_ns();
    for (int k = 0; k < 2; k++)
      flush_due(&r->dir[k], now);
    if (now >= end) break;
    if (now >= next_report) {
      if (!o->quiet) {
        char label[32];
        snprintf(label, sizeof label, "[%7.1fs]", (double)(now - start) / 1e9);
        for (int k = 0; k < 2; k++)
          report_line(stdout, label, &r->dir[k], dir_name[k], 0);
      }
      while (next_report <= now)
        next_report += NS_PER_S;
    }
    uint64_t wake = next_report < end ? next_report : end;
    for (int k = 0; k < 2; k++) {
      uint64_t due = bf_impair_next_due(r->dir[k].eng);
      if (due < wake) wake = due;
    }
    uint64_t wait = wake > now ? wake - now : 0;
    struct timespec ts = {.tv_sec = (time_t)(wait / NS_PER_S), .tv_nsec = (long)(wait % NS_PER_S)};
    int pn = ppoll(pfd, 2, &ts, orig);
    if (pn < 0) {
      if (errno == EINTR) continue;
      fprintf(stderr, PROG ": poll: %s\n", strerror(errno));
      return 1;
    }
    if (pn == 0) continue;
    if (pfd[0].revents) from_client(r);
    if (pfd[1].revents) from_sender(r);
  }
  return 0;
}

/* The end: totals on stdout and, with --stats-json, in the file. 0 or -1
 * when the file could not be written (reported). */
static int summary(relay *r, const options *o, double elapsed) {
  printf(PROG " %s after %.1f s\n", g_stop ? "stopped" : "done", elapsed);
  for (int k = 0; k < 2; k++)
    report_line(stdout, "total", &r->dir[k], dir_name[k], 1);
  for (int k = 0; k < 2; k++) {
    const bf_impair_stats *s = bf_impair_stats_get(r->dir[k].eng);
    printf("%-4s: sent %llu send-dropped %llu late max %.3f ms foreign %llu bursts %llu\n",
           dir_name[k], (unsigned long long)r->dir[k].sent_packets,
           (unsigned long long)r->dir[k].send_dropped, (double)s->late_max_ns / 1e6,
           (unsigned long long)r->dir[k].foreign, (unsigned long long)s->bursts);
  }
  if (!o->stats_json) return 0;
  const char *client = r->client.len ? bf_addr_format(&r->client, r->cbuf, sizeof r->cbuf) : NULL;
  return write_json(o->stats_json, o->seed, elapsed, r->lbuf, r->tbuf, client, r->dir, r->lsock,
                    r->ssock);
}

int main(int argc, char **argv) {
  options o;
  relay r;
  memset(&r, 0, sizeof r);
  bf_addr listen_addr;
  int pr = parse_args(argc, argv, &o);
  if (pr == 0 && resolve(&o, &listen_addr, &r.to_addr) < 0) pr = -1;
  if (pr < 0) fprintf(stderr, "Try '" PROG " --help'.\n");
  if (pr != 0) return pr > 0 ? 0 : 2;
  setvbuf(stdout, NULL, _IOLBF, 0);
  int status = 1;
  if (relay_open(&r, &o, &listen_addr) == 0) {
    sigset_t orig;
    block_signals(&orig);
    const uint64_t start = mono_ns();
    status = relay_run(&r, &o, start, &orig);
    sigprocmask(SIG_SETMASK, &orig, NULL);
    if (summary(&r, &o, (double)(mono_ns() - start) / 1e9) < 0) status = 1;
  }
  relay_close(&r);
  return status;
}
