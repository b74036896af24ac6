/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * bf-test-recv: a minimal bildfunk receiver for the sender's end-to-end
 * tests. It uses the real pieces a client uses: the UDP transport, the punch
 * schedule (punch.h) and the reassembler, and writes every completed AU to a
 * file (the concatenation must equal the sender's --dump-au byte for byte)
 * plus one CSV line per AU (frame_index, pts_ns, user_flags, bytes, keyframe
 * by the bitstream). It can also ask for a keyframe, send clock pings, and
 * throw garbage at the sender, and send LOSS_REPORTs every 750 ms the way the
 * client does (loss from the stream_seq gaps of each window). It prints
 * key=value results on stdout.
 *
 * Not a client: no decoding, no display, no jitter handling.
 */
#include "au.h"

#include <bildfunk/feedback.h>
#include <bildfunk/punch.h>
#include <bildfunk/reassembler.h>
#include <bildfunk/transport.h>
#include <bildfunk/wire.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t realtime_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void usage(void) {
  fprintf(stderr, "usage: bf-test-recv --connect HOST:PORT --out FILE --index FILE [--codec C]\n"
                  "       [--frames N] [--timeout S] [--wait-bye S] [--keyframe-after N]\n"
                  "       [--pings N] [--garbage N] [--quit-after N] [--no-bye 1]\n"
                  "       [--loss-reports 1]\n");
}

static void send_fb(bf_transport *t, const bf_feedback *fb) {
  uint8_t b[BF_FB_MAX_BYTES];
  int n = bf_feedback_encode(fb, b, sizeof b);
  if (n > 0) {
    bf_dgram d = {b, (size_t)n, NULL, 0};
    bf_send(t, &d);
  }
}

static void send_raw(bf_transport *t, const uint8_t *p, size_t n) {
  bf_dgram d = {p, n, NULL, 0};
  bf_send(t, &d);
}

/* Garbage of several kinds, none of them a punch or valid client feedback. */
static unsigned send_garbage(bf_transport *t, unsigned n, uint64_t *rng) {
  uint8_t b[1500];
  unsigned sent = 0;
  for (unsigned i = 0; i < n; i++) {
    size_t len;
    *rng = *rng * 6364136223846793005ull + 1442695040888963407ull;
    switch (i % 5) {
    case 0: /* random bytes, never starting like a punch or feedback */
      len = 1 + (size_t)(*rng >> 33) % sizeof b;
      for (size_t j = 0; j < len; j++)
        b[j] = (uint8_t)(*rng >> (j % 56));
      if (b[0] == 'P' || b[0] == BF_FB_MAGIC) b[0] = 0x00;
      break;
    case 1: { /* something that looks like video */
      bf_header h;
      memset(&h, 0, sizeof h);
      h.magic = BF_MAGIC;
      h.version = BF_WIRE_VERSION;
      h.shard_bytes = 512;
      h.data_shards = 1;
      h.block_count = 1;
      bf_header_encode(&h, b);
      memset(b + BF_HEADER_BYTES, 0xAB, 512);
      len = BF_HEADER_BYTES + 512;
      break;
    }
    case 2: /* feedback magic, unknown type */
      b[0] = BF_FB_MAGIC;
      b[1] = 99;
      len = 20;
      break;
    case 3: /* a keyframe request cut short */
      b[0] = BF_FB_MAGIC;
      b[1] = BF_FB_KEYFRAME_REQUEST;
      len = 5;
      break;
    default: { /* a pong: only the sender sends those */
      bf_feedback fb;
      memset(&fb, 0, sizeof fb);
      fb.type = BF_FB_CLOCK_PONG;
      len = (size_t)bf_feedback_encode(&fb, b, sizeof b);
      break;
    }
    }
    send_raw(t, b, len);
    sent++;
  }
  return sent;
}

int main(int argc, char **argv) {
  const char *connect = NULL, *out_path = NULL, *index_path = NULL, *codec_name = "h264";
  uint64_t want_frames = 0, keyframe_after = 0, quit_after = 0;
  unsigned pings = 0, garbage = 0;
  int no_bye = 0, loss_reports = 0;
  double timeout_s = 30, wait_bye_s = 5;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!v) {
      usage();
      return 2;
    }
    i++;
    if (!strcmp(a, "--connect"))
      connect = v;
    else if (!strcmp(a, "--out"))
      out_path = v;
    else if (!strcmp(a, "--index"))
      index_path = v;
    else if (!strcmp(a, "--codec"))
      codec_name = v;
    else if (!strcmp(a, "--frames"))
      want_frames = strtoull(v, NULL, 10);
    else if (!strcmp(a, "--timeout"))
      timeout_s = atof(v);
    else if (!strcmp(a, "--wait-bye"))
      wait_bye_s = atof(v);
    else if (!strcmp(a, "--keyframe-after"))
      keyframe_after = strtoull(v, NULL, 10);
    else if (!strcmp(a, "--quit-after"))
      quit_after = strtoull(v, NULL, 10);
    else if (!strcmp(a, "--pings"))
      pings = (unsigned)atoi(v);
    else if (!strcmp(a, "--garbage"))
      garbage = (unsigned)atoi(v);
    else if (!strcmp(a, "--no-bye"))
      no_bye = atoi(v);
    else if (!strcmp(a, "--loss-reports"))
      loss_reports = atoi(v);
    else {
      usage();
      return 2;
    }
  }
  bf_codec codec;
  if (!connect || !out_path || !index_path || bf_codec_parse(codec_name, &codec)) {
    usage();
    return 2;
  }
  bf_addr sender_addr;
  if (bf_addr_parse(connect, BF_DEFAULT_DATA_PORT, &sender_addr)) {
    fprintf(stderr, "bf-test-recv: bad address %s\n", connect);
    return 2;
  }
  bf_udp_config uc;
  bf_udp_config_default(&uc);
  uc.bind = "127.0.0.1:0";
  uc.quiet = 1;
  bf_transport *t = NULL, *t2 = NULL;
  if (bf_udp_open(&uc, &t) || bf_udp_open(&uc, &t2)) {
    fprintf(stderr, "bf-test-recv: cannot open a UDP socket\n");
    return 1;
  }
  bf_transport_set_peer(t, &sender_addr);
  bf_transport_set_peer(t2, &sender_addr);
  bf_recv_ring ring;
  bf_reassembler *ra = NULL;
  bf_reassembler_config rc;
  bf_reassembler_config_default(&rc);
  if (bf_recv_ring_init(&ring, 0, 0) || bf_reassembler_new(&rc, &ra)) {
    fprintf(stderr, "bf-test-recv: out of memory\n");
    return 1;
  }
  FILE *out = fopen(out_path, "wb"), *idx = fopen(index_path, "w");
  if (!out || !idx) {
    fprintf(stderr, "bf-test-recv: cannot create %s / %s\n", out_path, index_path);
    return 1;
  }
  fprintf(idx, "frame_index,pts_ns,user_flags,bytes,bitstream_keyframe,param_sets\n");

  uint64_t start = mono_ns(), deadline = start + (uint64_t)(timeout_s * 1e9);
  bf_punch_client pc;
  bf_punch_client_init(&pc, start, 1);
  uint64_t rng = 0x9e3779b97f4a7c15ull;
  uint64_t frames = 0, lost = 0, keyframes = 0, flag_mismatch = 0;
  int got_bye = 0;
  uint32_t bye_reason = 0;
  uint64_t frames_done_at = 0;
  /* keyframe request state */
  int kf_active = 0, kf_done = 0;
  uint32_t kf_after_index = 0, kf_arrived_index = 0;
  uint64_t kf_next_ns = 0, kf_started_ns = 0;
  /* clock pings */
  unsigned pings_sent = 0, pongs = 0;
  uint64_t ping_next_ns = start, best_rtt = UINT64_MAX;
  int64_t best_offset = 0;
  uint64_t ping_t1[64] = {0};
  int quit_sent = 0;
  /* loss reports: expected = advance of the newest stream_seq over the window */
  int seq_have = 0;
  uint32_t seq_max = 0, seq_base = 0;
  uint64_t win_start = start, win_received = 0, reports_sent = 0, rep_expected = 0, rep_missing = 0;

  while (mono_ns() < deadline) {
    uint64_t now = mono_ns();
    if (bf_punch_client_due(&pc, now)) bf_punch_send(t);
    if (pings_sent < pings && pings_sent < 64 && now >= ping_next_ns && frames > 0) {
      bf_feedback fb;
      memset(&fb, 0, sizeof fb);
      fb.type = BF_FB_CLOCK_PING;
      fb.u.ping.id = pings_sent;
      fb.u.ping.t1_ns = ping_t1[pings_sent] = realtime_ns();
      send_fb(t, &fb);
      pings_sent++;
      ping_next_ns = now + 50000000ull;
    }
    if (kf_active && !kf_done && now >= kf_next_ns) {
      if (now - kf_started_ns > 500000000ull) {
        kf_active = 0; /* gave up, as a client would after 500 ms */
      } else {
        bf_feedback fb;
        memset(&fb, 0, sizeof fb);
        fb.type = BF_FB_KEYFRAME_REQUEST;
        fb.u.keyframe.request_id = 1;
        fb.u.keyframe.first_lost = kf_after_index + 1;
        fb.u.keyframe.last_lost = kf_after_index + 1;
        send_fb(t, &fb);
        kf_next_ns = now + 33000000ull;
      }
    }
    if (loss_reports && now - win_start >= 750000000ull) {
      uint64_t expected = seq_have ? (uint64_t)(uint32_t)(seq_max - seq_base) : 0;
      uint64_t got = win_received < expected ? win_received : expected;
      if (expected) {
        bf_feedback fb;
        memset(&fb, 0, sizeof fb);
        fb.type = BF_FB_LOSS_REPORT;
        fb.u.loss.window_ms = (uint32_t)((now - win_start) / 1000000u);
        fb.u.loss.packets_received = (uint32_t)got;
        fb.u.loss.shards_missing = (uint32_t)(expected - got);
        fb.u.loss.loss_ppm = (uint32_t)((expected - got) * 1000000u / expected);
        send_fb(t, &fb);
        reports_sent++;
        rep_expected += expected;
        rep_missing += expected - got;
      }
      win_start = now;
      win_received = 0;
      seq_base = seq_max;
    }
    bf_transport_wait(t, 5);
    int n = bf_recv_batch(t, &ring);
    for (int i = 0; n > 0 && i < (int)ring.n; i++) {
      const uint8_t *d = ring.slots[i].data;
      size_t len = ring.slots[i].len;
      uint64_t arr = realtime_ns();
      if (len < BF_HEADER_BYTES) {
        bf_feedback fb;
        if (bf_feedback_decode(d, len, &fb) == 0) {
          if (fb.type == BF_FB_BYE) {
            got_bye = 1;
            bye_reason = fb.u.bye.reason;
          } else if (fb.type == BF_FB_CLOCK_PONG && fb.u.pong.id < 64 &&
                     fb.u.pong.t1_ns == ping_t1[fb.u.pong.id]) {
            pongs++;
            uint64_t rtt = (arr - fb.u.pong.t1_ns) - (fb.u.pong.t3_ns - fb.u.pong.t2_ns);
            if (rtt < best_rtt) {
              best_rtt = rtt;
              best_offset = ((int64_t)(fb.u.pong.t2_ns - fb.u.pong.t1_ns) +
                             (int64_t)(fb.u.pong.t3_ns - arr)) /
                            2;
            }
          }
        }
        continue;
      }
      if (loss_reports) {
        bf_header h;
        bf_header_decode(d, &h);
        if (h.magic == BF_MAGIC) {
          win_received++;
          if (!seq_have) {
            seq_have = 1;
            seq_base = h.stream_seq - 1;
            seq_max = h.stream_seq;
          } else if (bf_seq32_diff(h.stream_seq, seq_max) > 0) {
            seq_max = h.stream_seq;
          }
        }
      }
      bf_reassembler_push(ra, d, len, arr);
      bf_event ev;
      while (bf_reassembler_poll(ra, &ev)) {
        if (ev.type == BF_EVENT_LOSS) {
          lost += (uint64_t)(ev.u.loss.last - ev.u.loss.first) + 1;
          continue;
        }
        if (ev.type != BF_EVENT_FRAME) continue;
        bf_frame *f = &ev.u.frame;
        bf_au_info ai;
        bf_au_inspect(codec, f->data, f->len, &ai);
        int flag_key = (f->user_flags & BF_AU_KEYFRAME) != 0;
        if (flag_key != ai.keyframe) flag_mismatch++;
        if (flag_key) keyframes++;
        fwrite(f->data, 1, f->len, out);
        fprintf(idx, "%" PRIu32 ",%" PRIu64 ",%" PRIu32 ",%zu,%d,%d\n", f->frame_index, f->pts_ns,
                f->user_flags, f->len, ai.keyframe, ai.param_sets);
        fflush(idx); /* tests watch it grow */
        frames++;
        if (kf_active && !kf_done && flag_key) {
          kf_done = 1;
          kf_arrived_index = f->frame_index;
        }
        if (keyframe_after && frames == keyframe_after && !kf_active) {
          kf_active = 1;
          kf_after_index = f->frame_index;
          kf_started_ns = kf_next_ns = mono_ns();
        }
        if (frames == 1 && garbage) {
          send_garbage(t, garbage, &rng);
          /* and one valid ping from an address that is not the client */
          bf_feedback fb;
          memset(&fb, 0, sizeof fb);
          fb.type = BF_FB_CLOCK_PING;
          fb.u.ping.t1_ns = realtime_ns();
          send_fb(t2, &fb);
        }
        bf_reassembler_release(ra, f);
        if (want_frames && frames == want_frames) frames_done_at = mono_ns();
      }
    }
    if (quit_after && frames >= quit_after && !quit_sent) {
      bf_feedback fb;
      memset(&fb, 0, sizeof fb);
      fb.type = BF_FB_BYE;
      for (int k = 0; k < 3 && !no_bye; k++)
        send_fb(t, &fb);
      quit_sent = 1;
      break;
    }
    if (got_bye) break;
    if (frames_done_at && mono_ns() - frames_done_at > (uint64_t)(wait_bye_s * 1e9)) break;
  }
  bf_reassembler_stats rs;
  bf_reassembler_stats_get(ra, &rs);
  uint64_t rejected = rs.packets - rs.rejected[BF_ACCEPT] - rs.rejected[BF_REJECT_DUPLICATE];
  printf("frames=%" PRIu64 "\nlost=%" PRIu64 "\nkeyframes=%" PRIu64 "\nflag_mismatch=%" PRIu64
         "\nbye=%d\nbye_reason=%u\npackets=%" PRIu64 "\nrejected=%" PRIu64 "\n",
         frames, lost, keyframes, flag_mismatch, got_bye, bye_reason, rs.packets, rejected);
  if (keyframe_after)
    printf("kf_request_after=%" PRIu32 "\nkf_arrived=%s%" PRIu32 "\n", kf_after_index,
           kf_done ? "" : "-", kf_arrived_index);
  if (loss_reports)
    printf("loss_reports=%" PRIu64 "\nloss_expected=%" PRIu64 "\nloss_missing=%" PRIu64 "\n",
           reports_sent, rep_expected, rep_missing);
  if (pings)
    printf("pongs=%u\nclock_offset_ns=%" PRId64 "\nclock_rtt_ns=%" PRIu64 "\n", pongs, best_offset,
           best_rtt == UINT64_MAX ? 0 : best_rtt);
  fclose(out);
  fclose(idx);
  bf_reassembler_del(&ra);
  bf_recv_ring_free(&ring);
  bf_transport_close(&t);
  bf_transport_close(&t2);
  int ok = want_frames ? frames >= want_frames : quit_after ? frames >= quit_after : frames > 0;
  return ok ? 0 : 1;
}
