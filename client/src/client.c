/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The client's shared state and log lines: see client.h.
 */
#include "client.h"

#include "setup/lan_browse.h"

#include <bildfunk/clock.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

int bf_client_new(const bf_cli *cli, bf_client **out) {
  *out = NULL;
  bf_client *c = calloc(1, sizeof *c);
  if (!c) return 1;
  c->cli = cli;
  c->start_ns = bf_clock_epoch_ns();
  c->end_ns = UINT64_MAX;
  c->slot_ctl = c->slot_stdin = -1;
  bf_ui_events_init(&c->events);
  bf_au_queue_init(&c->q);
  bf_decode_gate_init(&c->gate, NULL);
  bf_nominal_rate_init(&c->rate);
  c->welcome_codec = BF_CODEC_UNKNOWN;
  *out = c;
  c->pending = av_frame_alloc();
  if (!c->pending || bf_stats_init(&c->st, 5 * BF_SEC_NS) < 0) {
    fprintf(stderr, "bildfunk: out of memory\n");
    return 1;
  }
  if (cli->report) {
    c->report = malloc(sizeof *c->report);
    if (!c->report) {
      fprintf(stderr, "bildfunk: out of memory\n");
      return 1;
    }
    bf_report_init(c->report, bf_clock_epoch_ns());
  }
  return 0;
}

void bf_client_free(bf_client **pc) {
  bf_client *c = *pc;
  if (!c) return;
  if (c->json_open) bf_stats_json_close(&c->json, &c->st, NULL);
  bf_framemd5_close(&c->md5);
  bf_decoder_close(&c->dec);
  bf_fwd_close(&c->input); /* before the window and the pump it borrows */
  if (c->display) {
    bf_overlay_free(&c->ov);
    bf_ui_events_free(&c->events);
    bf_display_close(&c->display);
  }
  bf_astream_close(&c->audio); /* its handler is on the pump's channel */
  /* the sender stops streaming to us at once instead of after its timeout */
  bf_pump_close(&c->pump, 1);
  bf_cctl_del(&c->ctl);
  bf_lan_watch_stop(&c->lan); /* the window's LAN browsing, if the prompt was left otherwise */
  bf_canvas_free(&c->ps_cv);
  bf_stats_free(&c->st);
  free(c->report);
  if (c->report_f) fclose(c->report_f);
  av_frame_free(&c->pending);
  free(c);
  *pc = NULL;
}

__attribute__((format(printf, 1, 0))) static void log_line(const char *fmt, va_list ap) {
  fputs("bildfunk: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
}

void bf_client_say(const bf_client *c, const char *fmt, ...) {
  if (c->cli->quiet) return;
  va_list ap;
  va_start(ap, fmt);
  log_line(fmt, ap);
  va_end(ap);
}

void bf_client_verbose(const bf_client *c, const char *fmt, ...) {
  if (!c->cli->verbose) return;
  va_list ap;
  va_start(ap, fmt);
  log_line(fmt, ap);
  va_end(ap);
}

static void record(bf_client *c, const bf_frame_record *rec, uint64_t now) {
  if (rec->outcome == BF_OUT_PRESENTED && c->input)
    bf_fwd_present(c->input, rec->pts_ns, rec->present_ns);
  bf_stats_on_outcome(&c->st, rec, now);
  if (c->report) bf_report_on_outcome(c->report, rec, now);
  if (c->json_open) bf_stats_json_frame(&c->json, rec);
}

void bf_client_outcome(bf_client *c, bf_frame_record *rec, bf_outcome out, uint64_t now) {
  rec->outcome = out;
  /* the sender's time for it (FRAME_INFO) comes right after the AU's last
   * packet: a sender that sends it gets a moment to */
  if (rec->host_known != BF_HOST_KNOWN && c->pump) {
    bf_pump_counters pc;
    bf_pump_counters_get(c->pump, &pc);
    if (bf_pump_frame_info(c->pump, rec->frame_index, &rec->host_us)) {
      rec->host_known = BF_HOST_KNOWN;
    } else if (!pc.frame_infos) {
      rec->host_known = BF_HOST_NOT_SAID;
    } else if (c->await_n < BF_CLIENT_AWAIT) {
      size_t at = (c->await_head + c->await_n++) % BF_CLIENT_AWAIT;
      c->await[at].rec = *rec;
      c->await[at].until_ns = now + BF_CLIENT_AWAIT_NS;
      return;
    } else {
      rec->host_known = BF_HOST_MISSING;
    }
  }
  record(c, rec, now);
}

void bf_client_settle(bf_client *c, uint64_t now, int all) {
  while (c->await_n) {
    bf_frame_record *r = &c->await[c->await_head].rec;
    if (c->pump && bf_pump_frame_info(c->pump, r->frame_index, &r->host_us))
      r->host_known = BF_HOST_KNOWN;
    else if (!all && now < c->await[c->await_head].until_ns)
      return; /* the oldest waits: so do the newer ones */
    else
      r->host_known = BF_HOST_MISSING;
    record(c, r, now);
    c->await_head = (c->await_head + 1) % BF_CLIENT_AWAIT;
    c->await_n--;
  }
}

int64_t bf_client_clock_offset(const bf_client *c) {
  int64_t off = 0;
  bf_clocksync_get(bf_pump_clock(c->pump), &off, NULL);
  return off;
}

double bf_client_nominal_fps(const bf_client *c) {
  double fps = 0;
  if (c->welcome_fps > 0) return c->welcome_fps;
  return bf_nominal_rate_get(&c->rate, &fps) ? fps : 0;
}
