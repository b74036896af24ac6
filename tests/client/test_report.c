/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Session report: the page is well-formed (balanced tags, xmllint when
 * installed), carries the numbers it was given, references nothing outside
 * itself, and stays bounded for a long session.
 */
#include "testutil.h"

#include "report/report.h"

#include <bildfunk/wire.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MS 1000000ull

static bf_frame_record frame(uint32_t i, uint64_t t, uint32_t recovered) {
  bf_frame_record r;
  memset(&r, 0, sizeof r);
  r.frame_index = i;
  r.user_flags = i % 60 == 0 ? BF_AU_KEYFRAME : 0;
  r.shards_recovered = recovered;
  r.capture_ns = t;
  r.first_shard_ns = t + 2 * MS;
  r.last_shard_ns = t + 3 * MS;
  r.decode_start_ns = t + 3 * MS + MS / 2;
  r.decode_end_ns = t + 5 * MS + (i % 7) * MS; /* 2..8 ms decode */
  r.present_ns = r.decode_end_ns + MS;
  r.outcome = BF_OUT_PRESENTED;
  r.bytes = 12500;    /* 6 Mbit/s at 60 fps */
  r.data_shards = 10; /* 20 % FEC */
  r.parity_shards = 2;
  return r;
}

/* Runs |frames| frames at 60 fps through stats and report; returns the page. */
static char *session(uint32_t frames, size_t *len, bf_report *rep, bf_stats *st) {
  uint64_t t0 = 1000 * MS, t = t0;
  bf_report_init(rep, t0);
  assert_int_equal(bf_stats_init(st, 1000 * MS), 0);
  for (uint32_t i = 0; i < frames; i++, t += 16666667ull) {
    bf_frame_record r = frame(i, t, i % 50 == 7 ? 3 : 0);
    bf_stats_on_completed(st, &r, r.last_shard_ns);
    bf_stats_on_outcome(st, &r, r.present_ns);
    bf_report_on_outcome(rep, &r, r.present_ns);
    if (i % 100 == 99) {
      bf_stats_on_lost(st, 1);
      bf_report_on_lost(rep, 1, t);
    }
    if (i % 45 == 44) {
      bf_stats_on_packets(st, 1000, 990);
      bf_report_on_packets(rep, 1000, 990, t);
    }
  }
  char *buf = NULL;
  FILE *f = open_memstream(&buf, len);
  assert_non_null(f);
  bf_report_facts *x = &rep->facts;
  snprintf(x->sender, sizeof x->sender, "studio.lan");
  snprintf(x->sender_address, sizeof x->sender_address, "studio.lan:47999");
  snprintf(x->data_address, sizeof x->data_address, "192.0.2.7:47998");
  snprintf(x->mode, sizeof x->mode, "control session, sealed");
  snprintf(x->codec, sizeof x->codec, "h264");
  snprintf(x->decoder, sizeof x->decoder, "h264 software, 2 slice threads");
  x->width = 1920;
  x->height = 1080;
  x->fps = 60;
  x->start_unix = 1700000000;
  x->length_s = (double)frames / 60;
  snprintf(x->version, sizeof x->version, "9.8.7");
  bf_report_kv extra[] = {{"keyframe requests", 4}, {"recovery points", 2}};
  assert_int_equal(bf_report_write(rep, st, "bildfunk <session> & co", extra, 2, f), 0);
  fclose(f);
  return buf;
}

/* Every element opened is closed, in order (void elements and self-closing excepted). */
static void assert_balanced(const char *s) {
  static const char *const voids[] = {"meta", "br", "!DOCTYPE", NULL};
  char stack[64][16];
  int depth = 0;
  for (const char *p = strchr(s, '<'); p; p = strchr(p + 1, '<')) {
    const char *e = strchr(p, '>');
    assert_non_null(e);
    int closing = p[1] == '/';
    const char *n = p + 1 + closing;
    size_t nl = strcspn(n, " >/");
    assert_true(nl > 0 && nl < 16);
    char name[16];
    memcpy(name, n, nl);
    name[nl] = 0;
    int isvoid = e[-1] == '/';
    for (int k = 0; voids[k]; k++)
      isvoid |= !strcmp(name, voids[k]);
    if (closing) {
      assert_true(depth > 0);
      assert_string_equal(stack[depth - 1], name);
      depth--;
    } else if (!isvoid) {
      assert_true(depth < 64);
      strcpy(stack[depth++], name);
    }
  }
  assert_int_equal(depth, 0);
}

static void test_page(void **state) {
  (void)state;
  bf_report *rep = malloc(sizeof *rep);
  bf_stats st;
  size_t len;
  assert_non_null(rep);
  char *html = session(600, &len, rep, &st);
  assert_true(len > 1000);
  assert_balanced(html);
  /* self-contained: no scripts, no links out */
  assert_null(strstr(html, "http"));
  assert_null(strstr(html, "<script"));
  assert_null(strstr(html, "src="));
  assert_null(strstr(html, "href"));
  /* the title is escaped, the parts are there */
  assert_non_null(strstr(html, "bildfunk &lt;session&gt; &amp; co"));
  assert_int_equal(3, (int)(strstr(html, "<svg") != NULL) +
                          (strstr(strstr(html, "<svg") + 1, "<svg") != NULL) +
                          (strstr(strstr(strstr(html, "<svg") + 1, "<svg") + 1, "<svg") != NULL));
  /* the numbers it was given */
  assert_non_null(strstr(html, "<th>frames presented</th><td>600</td>"));
  assert_non_null(strstr(html, "<th>frames lost</th><td>6</td>"));
  assert_non_null(strstr(html, "<th>frames repaired by FEC</th><td>12</td>"));
  assert_non_null(strstr(html, "<th>recovery points</th><td>2</td>"));
  assert_non_null(strstr(html, "<th>packet loss %</th><td>1</td>"));
  /* one row per presented frame, a window per 750 ms, histogram 6..12 ms */
  assert_int_equal(rep->n_rows, 600);
  assert_int_equal(rep->row_stride, 1);
  assert_int_equal(rep->n_win, 14); /* 10 s + the last present */
  uint64_t h = 0;
  for (uint32_t i = 0; i < BF_REPORT_HIST_BINS; i++) {
    if (rep->hist[i]) assert_true(i >= 6 && i <= 12);
    h += rep->hist[i];
  }
  assert_int_equal(h, 600);
  uint32_t repaired = 0, lost = 0;
  for (uint32_t i = 0; i < rep->n_win; i++) {
    repaired += rep->win[i].repaired;
    lost += rep->win[i].lost;
  }
  assert_int_equal(repaired, 12);
  assert_int_equal(lost, 6);
  /* issue #17: the session's facts (renderer not given: "?") */
  static const char *const facts[] = {"<th>sender</th><td>studio.lan</td>",
                                      "<th>sender's address</th><td>studio.lan:47999</td>",
                                      "<th>video from</th><td>192.0.2.7:47998</td>",
                                      "<th>mode</th><td>control session, sealed</td>",
                                      "<th>codec</th><td>h264</td>",
                                      "<th>resolution</th><td>1920x1080</td>",
                                      "<th>frame rate (nominal)</th><td>60 fps</td>",
                                      "<th>decoder</th><td>h264 software, 2 slice threads</td>",
                                      "<th>renderer</th><td>?</td>",
                                      "<th>date</th><td>2023-11-14 22:13:20 UTC</td>",
                                      "<th>length</th><td>10.0 s</td>",
                                      "<th>bildfunk version</th><td>9.8.7</td>"};
  for (size_t i = 0; i < sizeof facts / sizeof facts[0]; i++)
    if (!strstr(html, facts[i])) fail_msg("no %s", facts[i]);
  /* time on the x axes, not the frame index; bars placed by time */
  assert_null(strstr(html, "frame index"));
  assert_non_null(strstr(html, "time since the stream started (s)</text>"));
  assert_true(rep->row[599].t_s > 9.9f && rep->row[599].t_s < 10.1f);
  assert_true(rep->row[0].t_s < 0.1f);
  /* the bitrate and the sender's FEC level per window: 45 AUs of 12500
   * bytes in a full 750 ms window (6 Mbit/s), parity 2 of 10 data shards */
  assert_int_equal(rep->win[1].bytes, 45 * 12500);
  assert_int_equal(rep->win[1].data_shards, 450);
  assert_int_equal(rep->win[1].parity_shards, 90);
  assert_non_null(strstr(html, "<polyline class=\"fec\""));
  assert_non_null(strstr(html, "Bitrate and the sender's FEC level over time"));
  /* four charts, scaled to the page's width */
  assert_non_null(strstr(html, "svg{display:block;width:100%;height:auto}"));
  int charts = 0;
  for (const char *p = strstr(html, "<svg viewBox=\"0 0 "); p;
       p = strstr(p + 1, "<svg viewBox=\"0 0 "))
    charts++;
  assert_int_equal(charts, 4);
  assert_null(strstr(html, "<svg width="));
  /* well-formed XML too (xmllint's HTML 4 parser does not know inline SVG) */
  if (system("command -v xmllint >/dev/null 2>&1") == 0) {
    char path[] = "/tmp/bf_report_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fwrite(html, 1, len, f);
    fclose(f);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "xmllint --noout %s", path);
    int rc = system(cmd);
    if (rc != 0) {
      snprintf(cmd, sizeof cmd, "cat %s", path);
      (void)!system(cmd);
    }
    unlink(path);
    assert_int_equal(rc, 0);
  }
  free(html);
  bf_stats_free(&st);
  free(rep);
}

/* A long session (2 h at 60 fps) keeps the memory and the page bounded. */
static void test_bounded(void **state) {
  (void)state;
  bf_report *rep = malloc(sizeof *rep);
  bf_stats st;
  size_t len;
  assert_non_null(rep);
  char *html = session(2 * 3600 * 60, &len, rep, &st);
  assert_true(rep->n_rows <= BF_REPORT_FRAMES && rep->n_rows >= BF_REPORT_FRAMES / 2);
  assert_true(rep->row_stride >= 128);
  assert_true(rep->n_win <= BF_REPORT_WINDOWS && rep->win_ns > BF_REPORT_WINDOW_NS);
  uint64_t lost = 0, h = 0;
  for (uint32_t i = 0; i < rep->n_win; i++)
    lost += rep->win[i].lost;
  for (uint32_t i = 0; i < BF_REPORT_HIST_BINS; i++)
    h += rep->hist[i];
  assert_int_equal(lost, 2 * 3600 * 60 / 100); /* merging windows loses nothing */
  assert_int_equal(h, 2 * 3600 * 60);
  assert_true(len < 2u * 1024 * 1024);
  assert_balanced(html);
  free(html);
  bf_stats_free(&st);
  free(rep);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_page), cmocka_unit_test(test_bounded)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
