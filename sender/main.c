/*
 * bildfunk-send: streams a picture source to one bildfunk client.
 *
 * One thread, one loop: receive what arrived on the data port (punches and
 * feedback, handled by the session), send the next burst of the current AU
 * when the pacer allows, otherwise capture, encode and packetize the next
 * picture when its time has come, and sleep on the socket until the next of
 * these is due. Pacing has priority over capture: a picture is captured only
 * once the previous AU has left, so an AU never waits behind another in a
 * queue of ours. Only this file reads clocks and touches the socket; the
 * decisions live in the sans-I/O modules (session, pacer).
 *
 * Control mode (the default): the same loop also serves the TCP control
 * connections (ctl_server.h: accept, TLS, pairing, keepalive; the operator's
 * confirmation lines on stdin). A session that becomes established gets a
 * freshly keyed sealed data plane and the punch is accepted only from its
 * IP; when it closes, streaming stops at once. --direct is the old mode.
 */
#include "au.h"
#include "cli.h"
#include "ctl_server.h"
#include "encoder.h"
#include "pacer.h"
#include "ratectl.h"
#include "session.h"
#include "sources.h"
#include "stats.h"

#include <bildfunk/common.h>
#include <bildfunk/feedback.h>
#include <bildfunk/fecctl.h>
#ifdef BF_HAVE_SEAL
#include <bildfunk/identity.h>
#endif
#include <bildfunk/packetizer.h>
#include <bildfunk/seal.h>
#include <bildfunk/transport.h>
#include <bildfunk/wire.h>

#include <libavcodec/version.h>
#include <libavutil/log.h>

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BF_MAX_AU_BYTES (8u << 20)
#define BF_IP_UDP_OVERHEAD 28u /* IPv4 + UDP headers, for the rate cap */
#define BF_BYE_REPEAT 3

static volatile sig_atomic_t g_stop;

static void on_signal(int sig) {
  (void)sig;
  g_stop = 1;
}

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

typedef struct sender {
  bf_send_options o;
  bf_source *src;
  bf_source_info sinfo;
  bf_encoder *enc;
  bf_transport *t;
  bf_recv_ring ring;
  bf_packetizer *pk;
  bf_pacer pacer;
  bf_send_session ss;
  bf_fecctl fec;              /* adaptive FEC (--fec auto) */
  bf_ratectl rate;            /* total send budget (--rate-control on) */
  uint64_t rate_not_applied;  /* encoder shares the encoder could not take */
  bf_refresh_tracker refresh; /* intra-refresh recovery points */
  uint64_t recovery_points;
  uint32_t fec_applied;                /* the % the packetizer uses now */
  uint32_t fec_min_seen, fec_max_seen; /* over the AUs sent after the first loss report */
  FILE *dump;
  uint64_t interval_ns;
  uint64_t bitrate;
  unsigned packet_bytes;
  bf_dgram burst[1024];
  /* sealed data plane (--seal-key-file): NULL sealer = clear direct mode */
  bf_sealer *sealer; /* s2c: video, pongs, byes */
  bf_opener *opener; /* c2s: feedback (punches stay clear) */
  bf_seal_key c2s;   /* kept to give each adopted client a fresh replay window */
  uint8_t *seal_buf; /* per-burst scratch: one sealed datagram per burst slot */
  size_t seal_stride;
  uint64_t sealed, seal_failed;
  bf_opener_stats seal_carry; /* counters of the openers of earlier clients */
  /* control mode (not --direct) */
  int ctl_mode;
#ifdef BF_HAVE_SEAL
  bf_sctl *ctl;
  bf_identity *id;
  bf_pinstore *pins;
#endif
  int ctl_kick;         /* a control descriptor was ready in the last wait */
  uint64_t ctl_next_ns; /* run the control step by then */
  uint64_t ctl_sessions, ctl_stops;
  unsigned offer_fps; /* the rate offered (rounded up): a Welcome with less is refused */
  /* streaming state */
  uint64_t next_capture_ns;
  uint64_t stream_start_ns;
  uint64_t frames_streamed;
  int finished; /* 1 = end of stream reached (frames, duration, file end) */
  int failed;   /* 1 = a runtime error ended the run */
  /* totals */
  uint64_t frames_sent, au_bytes, keyframes_sent, keyframe_misses, encoder_empty;
  uint64_t frames_late, au_too_big, packets_sent, packets_dropped, send_calls;
  uint64_t pongs_sent, byes_sent, au_malformed;
  bf_hist enc_all;
  bf_hist enc_win;
  /* status window */
  uint64_t win_start_ns, win_frames, win_bytes, win_packets, win_drops;
} sender;

/* ---- sending -------------------------------------------------------------- */

/* Sealed mode: seals |d| into |out|. Returns the sealed length, or a
 * negative errno (counted; the datagram is not sent). */
static int seal_one(sender *s, const bf_dgram *d, uint8_t *out, size_t cap) {
#ifdef BF_HAVE_SEAL
  int n = bf_sealer_seal(s->sealer, d, out, cap);
  if (n < 0)
    s->seal_failed++;
  else
    s->sealed++;
  return n;
#else
  (void)s, (void)d, (void)out, (void)cap;
  return -ENOTSUP;
#endif
}

/* Sealed mode: replaces the |n| datagrams of |b| by their sealed forms in the
 * per-burst scratch array (one stride per slot; a sealed burst keeps equal
 * segment sizes, so GSO still applies). Returns how many are ready: a
 * failure cuts the burst there. Costs one AES-GCM pass per datagram. */
static size_t seal_burst(sender *s, bf_dgram *b, size_t n) {
  for (size_t i = 0; i < n; i++) {
    uint8_t *out = s->seal_buf + i * s->seal_stride;
    int m = seal_one(s, &b[i], out, s->seal_stride);
    if (m < 0) return i;
    b[i] = (bf_dgram){out, (size_t)m, NULL, 0};
  }
  return n;
}

/* Sends a feedback message to |to| (the current peer when NULL). */
static void send_control(sender *s, const bf_feedback *fb, const bf_addr *to) {
  uint8_t buf[BF_FB_MAX_BYTES];
  int n = bf_feedback_encode(fb, buf, sizeof buf);
  if (n <= 0) return;
  bf_dgram d = {buf, (size_t)n, NULL, 0};
  uint8_t sealed[BF_FB_MAX_BYTES + BF_SEAL_OVERHEAD];
  if (s->sealer) {
    int m = seal_one(s, &d, sealed, sizeof sealed);
    if (m < 0) return;
    d = (bf_dgram){sealed, (size_t)m, NULL, 0};
  }
  bf_addr keep = s->t->peer;
  if (to) bf_transport_set_peer(s->t, to);
  bf_send(s->t, &d);
  if (to) bf_transport_set_peer(s->t, keep.len ? &keep : NULL);
}

static void send_bye(sender *s, uint32_t reason, const bf_addr *to) {
  bf_feedback fb;
  memset(&fb, 0, sizeof fb);
  fb.type = BF_FB_BYE;
  fb.u.bye.reason = reason;
  for (int i = 0; i < BF_BYE_REPEAT; i++)
    send_control(s, &fb, to);
  s->byes_sent++;
}

/* Sends every burst of the current AU the pacer allows at |now|. */
static void send_paced(sender *s, uint64_t now) {
  for (;;) {
    uint64_t next;
    uint32_t n = bf_pacer_poll(&s->pacer, now, &next);
    if (n == 0) return;
    if (n > sizeof s->burst / sizeof s->burst[0]) n = sizeof s->burst / sizeof s->burst[0];
    int got = bf_packetizer_next(s->pk, s->burst, n);
    if (got <= 0) { /* the AU is done (or the FEC coder failed): skip the rest */
      bf_pacer_sent(&s->pacer, now, s->pacer.packets - s->pacer.sent);
      return;
    }
    size_t ready = s->sealer ? seal_burst(s, s->burst, (size_t)got) : (size_t)got;
    int r = ready == 0 ? 0
            : s->o.gso ? bf_send_gso(s->t, s->burst, ready)
                       : bf_send_batch(s->t, s->burst, ready);
    s->send_calls++;
    uint64_t ok = r > 0 ? (uint64_t)r : 0;
    s->packets_sent += ok;
    s->packets_dropped += (uint64_t)got - ok;
    s->win_packets += ok;
    s->win_drops += (uint64_t)got - ok;
    bf_pacer_sent(&s->pacer, now, (uint32_t)got);
    now = mono_ns();
  }
}

/* ---- session events -------------------------------------------------------- */

#ifdef BF_HAVE_SEAL
/* Adds the current opener's drop counters to those of earlier openers (the
 * statistics count over the whole run). */
static void seal_carry_add(sender *s) {
  bf_opener_stats keep;
  bf_opener_stats_get(s->opener, &keep);
  s->seal_carry.opened += keep.opened;
  s->seal_carry.short_ += keep.short_;
  s->seal_carry.oversize += keep.oversize;
  s->seal_carry.replay_old += keep.replay_old;
  s->seal_carry.replay_dup += keep.replay_dup;
  s->seal_carry.bad_tag += keep.bad_tag;
}
#endif

/* Sealed direct mode (--seal-key-file): a new client starts its seqs where
 * its own clock says, which need not be near the previous client's: it gets
 * a fresh replay window (the drop counters carry over). Not in control
 * mode: there every session has its own keys and a fresh opener
 * (ctl_stream_start), and within a session the client's seqs run on; a
 * fresh window on a re-target (a clear punch that anyone sending from the
 * client's IP can make) would let the session's earlier datagrams be
 * replayed. */
static void seal_new_client(sender *s) {
#ifdef BF_HAVE_SEAL
  if (!s->opener || s->ctl_mode) return;
  seal_carry_add(s);
  bf_opener_del(&s->opener);
  if (bf_opener_new(&s->c2s, BF_SEAL_C2S, 2, &s->opener) < 0) {
    fprintf(stderr, "bildfunk-send: sealed data plane: cannot renew the opener\n");
    s->failed = 1;
  }
#else
  (void)s;
#endif
}

/* ---- rate control ------------------------------------------------------------ */

/* Applies the budget: the encoder's share (libx264 reconfigures before the
 * next picture; other encoders and passthrough files cannot, said once and
 * counted) and the pacing (bf_ratectl_pacing). */
static void rate_apply(sender *s) {
  if (!s->o.rate_control) return;
  uint32_t fec = s->o.fec_auto ? bf_fecctl_percent(&s->fec) : s->o.fec_percent;
  uint64_t want = bf_ratectl_encoder_bps(&s->rate, fec);
  uint64_t have = s->enc ? bf_encoder_bitrate(s->enc) : s->bitrate;
  if (want != have && (!s->enc || bf_encoder_set_bitrate(s->enc, want) < 0)) {
    if (s->rate_not_applied++ == 0)
      fprintf(stderr, "bildfunk-send: rate control: %s cannot change its bitrate while running; "
                      "only FEC and pacing follow the budget\n",
              s->enc ? bf_encoder_name(s->enc) : "a passed-through file");
  }
  uint64_t cap;
  uint32_t burst;
  bf_ratectl_pacing(&s->rate, s->o.rate_cap_bps, s->o.burst, s->packet_bytes, &cap, &burst);
  bf_pacer_set_cap(&s->pacer, cap, burst);
}

static void rate_on_loss(sender *s, const bf_feedback *fb, uint64_t now) {
  if (!s->o.rate_control) return;
  uint64_t before = bf_ratectl_budget(&s->rate), undone = s->rate.stats.undone;
  if (bf_ratectl_on_report(&s->rate, fb, now, s->packets_sent * s->packet_bytes) == 0) {
    rate_apply(s); /* the FEC share may have changed */
    return;
  }
  rate_apply(s);
  fprintf(stderr,
          "bildfunk-send: rate %.3f -> %.3f Mbit/s (loss %.2f %%, sent %.3f, received %.3f "
          "Mbit/s); encoder %.3f Mbit/s%s\n",
          (double)before / 1e6, (double)bf_ratectl_budget(&s->rate) / 1e6,
          (double)s->rate.last_loss_ppm / 1e4, (double)s->rate.last_sent_bps / 1e6,
          (double)s->rate.last_recv_bps / 1e6,
          (double)(s->enc ? bf_encoder_bitrate(s->enc) : s->bitrate) / 1e6,
          s->rate.stats.undone != undone ? "; cut undone: the loss did not fall (random loss)" : "");
}

/* A new receiver: nothing in flight is of use to it. */
static void fresh_start(sender *s, uint64_t now) {
  seal_new_client(s);
  bf_fecctl_reset(&s->fec); /* another client, another network */
  bf_ratectl_reset(&s->rate);
  rate_apply(s);
  bf_refresh_reset(&s->refresh);
  bf_pacer_begin(&s->pacer, now, s->interval_ns, 0, s->packet_bytes);
  if (s->enc) bf_encoder_reset(s->enc);
  if (s->src) bf_source_want_keyframe(s->src);
}

static void start_stream(sender *s, uint64_t now) {
  bf_transport_set_peer(s->t, &s->ss.peer);
  fresh_start(s, now);
  s->next_capture_ns = now;
  s->stream_start_ns = now;
  s->frames_streamed = 0;
}

static void stop_stream(sender *s) {
  bf_pacer_begin(&s->pacer, 0, s->interval_ns, 0, s->packet_bytes); /* drop what is left */
  bf_transport_set_peer(s->t, NULL);
}

static void on_datagram(sender *s, const uint8_t *d, size_t len, const bf_addr *from, uint64_t now,
                        uint64_t rx_realtime) {
  bf_ss_result res;
  char a[BF_ADDR_STRLEN], b[BF_ADDR_STRLEN];
  switch (bf_send_session_on_datagram(&s->ss, d, len, from, now, &res)) {
  case BF_SS_ADOPT:
    fprintf(stderr, "bildfunk-send: client %s punched in: streaming to it\n",
            bf_addr_format(&s->ss.peer, a, sizeof a));
    start_stream(s, now);
    break;
  case BF_SS_RETARGET:
    fprintf(stderr, "bildfunk-send: client moved from %s to %s: streaming there\n",
            bf_addr_format(&res.old_peer, a, sizeof a), bf_addr_format(&s->ss.peer, b, sizeof b));
    send_bye(s, BF_BYE_REPLACED, &res.old_peer);
    bf_transport_set_peer(s->t, &s->ss.peer);
    fresh_start(s, now);
    break;
  case BF_SS_KEYFRAME:
    if (s->src && !s->enc) bf_source_want_keyframe(s->src);
    break;
  case BF_SS_PING: {
    bf_feedback fb;
    memset(&fb, 0, sizeof fb);
    fb.type = BF_FB_CLOCK_PONG;
    fb.u.pong.id = res.fb.u.ping.id;
    fb.u.pong.t1_ns = res.fb.u.ping.t1_ns;
    fb.u.pong.t2_ns = rx_realtime;
    fb.u.pong.t3_ns = realtime_ns();
    send_control(s, &fb, NULL);
    s->pongs_sent++;
    break;
  }
  case BF_SS_LOSS: {
    uint32_t before = bf_fecctl_percent(&s->fec);
    if (s->o.verbose)
      fprintf(stderr, "bildfunk-send: loss report: %u ppm, %u frames lost, %u recovered\n",
              res.fb.u.loss.loss_ppm, res.fb.u.loss.frames_lost, res.fb.u.loss.shards_recovered);
    if (s->o.fec_auto && bf_fecctl_on_report(&s->fec, &res.fb, now) == 1)
      fprintf(stderr, "bildfunk-send: FEC %u%% -> %u%% (loss %.4f %%, floor %u%%)\n", before,
              bf_fecctl_percent(&s->fec), (double)s->fec.last_loss_ppm / 1e4, s->fec.floor);
    rate_on_loss(s, &res.fb, now);
    break;
  }
  case BF_SS_BYE:
    fprintf(stderr, "bildfunk-send: client %s said bye; waiting for the next client\n",
            bf_addr_format(from, a, sizeof a));
    stop_stream(s);
    break;
  default:
    break;
  }
}

static void drain_rx(sender *s) {
  for (;;) {
    int n = bf_recv_batch(s->t, &s->ring);
    if (n <= 0) return;
    uint64_t now = mono_ns(), rt = realtime_ns();
    for (size_t i = 0; i < s->ring.n; i++) {
      uint8_t *d = s->ring.slots[i].data;
      size_t len = s->ring.slots[i].len;
      int punch = len == BF_PUNCH_BYTES && bf_is_punch(d, len);
      if (s->ctl_mode && !s->sealer && !punch) continue; /* no session: nothing to open it with */
      if (s->sealer && !punch) {
        /* sealed feedback; the punch (8 bytes, shorter than any sealed
         * datagram) stays clear. Drops are counted by the opener. */
        if (!s->opener) continue;
#ifdef BF_HAVE_SEAL
        int n_open = bf_opener_open_inplace(s->opener, d, len, NULL);
        if (n_open < 0) continue;
        d += BF_SEAL_SEQ_BYTES;
        len = (size_t)n_open;
#endif
      }
      on_datagram(s, d, len, s->ring.slots[i].from, now, rt);
    }
  }
}

/* ---- capture, encode, packetize --------------------------------------------- */

/* Starts sending AU |au| of |len| bytes captured at |pts_ns|: dump it,
 * packetize it, and plan its bursts. */
static int begin_au(sender *s, const uint8_t *au, size_t len, uint64_t pts_ns, int key_wanted) {
  if (len == 0) {
    s->encoder_empty++;
    return 0;
  }
  if (len > BF_MAX_AU_BYTES) {
    s->au_too_big++;
    return 0;
  }
  bf_au_info ai;
  bf_au_inspect(s->o.codec, au, len, &ai);
  if (ai.malformed) s->au_malformed++;
  if (key_wanted && !ai.keyframe) s->keyframe_misses++;
  if (s->dump && fwrite(au, 1, len, s->dump) != len) {
    fprintf(stderr, "bildfunk-send: cannot write --dump-au file '%s'\n", s->o.dump_au);
    return -EIO;
  }
  if (s->o.fec_auto) {
    uint32_t pct = bf_fecctl_percent(&s->fec);
    if (pct != s->fec_applied && bf_packetizer_set_fec_percent(s->pk, pct) == 0)
      s->fec_applied = pct;
    if (s->fec.have_last) {
      if (s->fec_applied < s->fec_min_seen) s->fec_min_seen = s->fec_applied;
      if (s->fec_applied > s->fec_max_seen) s->fec_max_seen = s->fec_applied;
    }
  }
  uint32_t flags = ai.keyframe ? BF_AU_KEYFRAME : 0;
  if (bf_refresh_track(&s->refresh, &ai)) {
    flags |= BF_AU_RECOVERY_POINT;
    s->recovery_points++;
  }
  int r = bf_packetizer_begin(s->pk, au, len, pts_ns, flags);
  if (r < 0) {
    fprintf(stderr, "bildfunk-send: packetizer: %s\n", bf_strerror(r));
    return r;
  }
  bf_packetizer_au_info info;
  bf_packetizer_au_info_get(s->pk, &info);
  bf_pacer_begin(&s->pacer, mono_ns(), s->interval_ns, info.remaining, s->packet_bytes);
  s->frames_sent++;
  s->frames_streamed++;
  s->au_bytes += len;
  s->win_frames++;
  s->win_bytes += len;
  if (ai.keyframe) s->keyframes_sent++;
  return 0;
}

/* Takes the next AU out of the encoder and starts sending it. 1 if there
 * was one, 0 if not, negative on failure. */
static int next_encoded(sender *s) {
  bf_encoded au;
  if (!s->enc || !bf_encoder_receive(s->enc, &au)) return 0;
  bf_hist_add(&s->enc_all, au.encode_ns);
  bf_hist_add(&s->enc_win, au.encode_ns);
  int r = begin_au(s, au.data, au.len, au.capture_ns, au.keyframe_requested);
  return r < 0 ? r : 1;
}

/* Captures the next picture: into the encoder, or (passthrough) straight
 * out as an AU. */
static int capture(sender *s, uint64_t now) {
  char err[512] = "";
  int want_key = bf_send_session_take_keyframe(&s->ss, now);
  if (want_key && !s->enc) bf_source_want_keyframe(s->src);
  bf_source_item item;
  int r = bf_source_read(s->src, &item, err, sizeof err);
  if (r == -ENODATA) {
    fprintf(stderr, "bildfunk-send: end of %s\n", s->o.source_arg ? s->o.source_arg : "source");
    s->finished = 1;
    return 0;
  }
  if (r < 0) {
    fprintf(stderr, "bildfunk-send: %s\n", err[0] ? err : bf_strerror(r));
    return r;
  }
  if (!item.frame) return begin_au(s, item.au, item.au_len, item.pts_ns, want_key);
  r = bf_encoder_send(s->enc, item.frame, item.pts_ns, want_key, err, sizeof err);
  if (r < 0) {
    fprintf(stderr, "bildfunk-send: %s\n", err);
    return r;
  }
  r = next_encoded(s);
  return r < 0 ? r : 0;
}

/* ---- status and statistics ---------------------------------------------------- */

static void status_line(sender *s, uint64_t now) {
  double secs = (double)(now - s->win_start_ns) / 1e9;
  if (!s->o.quiet && s->ss.streaming && secs > 0) {
    fprintf(stderr,
            "bildfunk-send: %5.1f fps %7.2f Mbit/s  encode p50 %5.1f p95 %5.1f ms  "
            "%" PRIu64 " pkts  %" PRIu64 " drops  FEC %u%%%s  GSO %s\n",
            (double)s->win_frames / secs, (double)s->win_bytes * 8 / secs / 1e6,
            (double)bf_hist_percentile(&s->enc_win, 500) / 1e6,
            (double)bf_hist_percentile(&s->enc_win, 950) / 1e6, s->win_packets, s->win_drops,
            s->fec_applied, s->o.fec_auto ? " auto" : "",
            s->o.gso && s->t->stats.gso_active ? "on" : "off");
  }
  s->win_start_ns = now;
  s->win_frames = s->win_bytes = s->win_packets = s->win_drops = 0;
  bf_hist_reset(&s->enc_win);
}

static int write_stats(const sender *s, const char *path) {
  FILE *f = fopen(path, "w");
  if (!f) return -errno;
  const bf_send_session_stats *ss = &s->ss.stats;
  const bf_transport_stats *ts = &s->t->stats;
  fprintf(f, "{\n");
  fprintf(f, "  \"codec\": \"%s\",\n  \"encoder\": \"%s\",\n", bf_codec_name(s->o.codec),
          s->enc ? bf_encoder_name(s->enc) : "passthrough");
  fprintf(f, "  \"width\": %u, \"height\": %u, \"fps\": %.3f, \"bitrate\": %" PRIu64 ",\n",
          s->sinfo.width, s->sinfo.height, (double)s->sinfo.fps_num / s->sinfo.fps_den, s->bitrate);
  fprintf(f,
          "  \"frames_sent\": %" PRIu64 ", \"au_bytes\": %" PRIu64 ", \"keyframes_sent\": %" PRIu64
          ",\n",
          s->frames_sent, s->au_bytes, s->keyframes_sent);
  fprintf(f,
          "  \"keyframe_misses\": %" PRIu64 ", \"encoder_empty\": %" PRIu64
          ", \"frames_late\": %" PRIu64 ", \"au_too_big\": %" PRIu64 ", \"au_malformed\": %" PRIu64
          ",\n",
          s->keyframe_misses, s->encoder_empty, s->frames_late, s->au_too_big, s->au_malformed);
  fprintf(f, "  \"encoder_switches\": %" PRIu64 ", \"encoder_switch_waits\": %" PRIu64 ",\n",
          s->enc ? bf_encoder_switches(s->enc) : 0, s->enc ? bf_encoder_switch_waits(s->enc) : 0);
  fprintf(f,
          "  \"encode_ms\": {\"p50\": %.3f, \"p95\": %.3f, \"max\": %.3f, \"count\": %" PRIu64
          "},\n",
          (double)bf_hist_percentile(&s->enc_all, 500) / 1e6,
          (double)bf_hist_percentile(&s->enc_all, 950) / 1e6, (double)s->enc_all.max_ns / 1e6,
          s->enc_all.count);
  fprintf(f,
          "  \"intra_refresh\": %d, \"refresh_waves\": %" PRIu64 ", \"recovery_points\": %" PRIu64
          ", \"refresh_abandoned\": %" PRIu64 ",\n",
          s->o.intra_refresh, s->refresh.waves, s->recovery_points, s->refresh.abandoned);
  fprintf(f,
          "  \"fec\": {\"auto\": %d, \"percent\": %u, \"min_seen\": %u, \"max_seen\": %u, "
          "\"floor\": %u, \"reports\": %" PRIu64 ", \"lossy\": %" PRIu64 ", \"burns\": %" PRIu64
          ", \"reburns\": %" PRIu64 ", \"decays\": %" PRIu64 ", \"changes\": %" PRIu64 "},\n",
          s->o.fec_auto, s->fec_applied, s->fec_min_seen > s->fec_max_seen ? 0 : s->fec_min_seen,
          s->fec_max_seen, s->fec.floor, s->fec.stats.reports, s->fec.stats.lossy,
          s->fec.stats.burns, s->fec.stats.reburns, s->fec.stats.decays, s->fec.stats.changes);
  fprintf(f,
          "  \"rate\": {\"control\": %d, \"budget_bps\": %" PRIu64 ", \"min_bps\": %" PRIu64
          ", \"max_bps\": %" PRIu64 ", \"ceiling_bps\": %" PRIu64 ", \"decreases\": %" PRIu64
          ", \"increases\": %" PRIu64 ", \"held\": %" PRIu64 ", \"undone\": %" PRIu64
          ", \"reports\": %" PRIu64
          ", \"encoder_bitrate_now\": %" PRIu64 ", \"not_applied\": %" PRIu64 "},\n",
          s->o.rate_control, bf_ratectl_budget(&s->rate), s->rate.stats.min_bps,
          s->rate.stats.max_bps, s->rate.cfg.max_bps, s->rate.stats.decreases,
          s->rate.stats.increases, s->rate.stats.held, s->rate.stats.undone, s->rate.stats.reports,
          s->enc ? bf_encoder_bitrate(s->enc) : s->bitrate, s->rate_not_applied);
  fprintf(f,
          "  \"packets_sent\": %" PRIu64 ", \"packets_dropped\": %" PRIu64
          ", \"send_calls\": %" PRIu64 ", \"pacer_cap_waits\": %" PRIu64 ",\n",
          s->packets_sent, s->packets_dropped, s->send_calls, s->pacer.cap_waits);
  fprintf(f,
          "  \"transport\": {\"tx_packets\": %" PRIu64 ", \"tx_dropped\": %" PRIu64
          ", \"tx_calls\": %" PRIu64 ", \"tx_gso_calls\": %" PRIu64 ", \"gso_active\": %d, "
          "\"rx_packets\": %" PRIu64 ", \"rx_oversize\": %" PRIu64 "},\n",
          ts->tx_packets, ts->tx_dropped, ts->tx_calls, ts->tx_gso_calls, ts->gso_active,
          ts->rx_packets, ts->rx_oversize);
  fprintf(f,
          "  \"session\": {\"clients\": %" PRIu64 ", \"punches\": %" PRIu64
          ", \"punches_denied\": %" PRIu64 ", \"punches_busy\": %" PRIu64
          ", \"retargets\": %" PRIu64 ", \"silences\": %" PRIu64 ", \"byes_received\": %" PRIu64
          ", \"byes_sent\": %" PRIu64 ",\n",
          ss->clients, ss->punches, ss->punches_denied, ss->punches_busy, ss->retargets,
          ss->silences, ss->byes, s->byes_sent);
  fprintf(f,
          "              \"keyframe_requests\": %" PRIu64 ", \"keyframe_ids\": %" PRIu64
          ", \"keyframes_forced\": %" PRIu64 ", \"loss_reports\": %" PRIu64 ", \"pings\": %" PRIu64
          ", \"pongs_sent\": %" PRIu64 ", \"foreign\": %" PRIu64 ", \"garbage\": %" PRIu64 "}\n",
          ss->keyframe_requests, ss->keyframe_ids, ss->keyframes_forced, ss->loss_reports,
          ss->pings, s->pongs_sent, ss->foreign, ss->garbage);
  bf_opener_stats os;
  memset(&os, 0, sizeof os);
#ifdef BF_HAVE_SEAL
  if (s->opener) bf_opener_stats_get(s->opener, &os);
#endif
  os.opened += s->seal_carry.opened;
  os.short_ += s->seal_carry.short_;
  os.oversize += s->seal_carry.oversize;
  os.replay_old += s->seal_carry.replay_old;
  os.replay_dup += s->seal_carry.replay_dup;
  os.bad_tag += s->seal_carry.bad_tag;
  fprintf(f,
          ",  \"seal\": {\"sealed_mode\": %d, \"sealed\": %" PRIu64 ", \"seal_failed\": %" PRIu64
          ", \"opened\": %" PRIu64 ", \"short\": %" PRIu64 ", \"oversize\": %" PRIu64
          ", \"replay\": %" PRIu64 ", \"replay_old\": %" PRIu64 ", \"replay_dup\": %" PRIu64
          ", \"bad_tag\": %" PRIu64 "}\n",
          s->sealer != NULL || s->ctl_mode, s->sealed, s->seal_failed, os.opened, os.short_,
          os.oversize, os.replay_old + os.replay_dup, os.replay_old, os.replay_dup, os.bad_tag);
  bf_sctl_stats cs;
  memset(&cs, 0, sizeof cs);
#ifdef BF_HAVE_SEAL
  if (s->ctl) cs = *bf_sctl_stats_get(s->ctl);
#endif
  fprintf(f,
          ",  \"control\": {\"mode\": \"%s\", \"connections\": %" PRIu64
          ", \"refused_full\": %" PRIu64 ", \"established\": %" PRIu64 ", \"replaced\": %" PRIu64
          ", \"pair_only\": %" PRIu64 ", \"pairings_ok\": %" PRIu64
          ", \"pairings_refused\": %" PRIu64 ", \"rate_limited\": %" PRIu64
          ", \"not_paired\": %" PRIu64 ", \"closed_dead\": %" PRIu64
          ", \"handshake_failed\": %" PRIu64 ", \"pin_reload_failed\": %" PRIu64
          ", \"streams\": %" PRIu64 ", \"stops\": %" PRIu64 "}\n",
          s->ctl_mode ? "control" : "direct", cs.connections, cs.refused_full, cs.established,
          cs.replaced, cs.pair_only, cs.pairings_ok, cs.pairings_refused, cs.rate_limited,
          cs.not_paired, cs.closed_dead, cs.handshake_failed, cs.pin_reload_failed, s->ctl_sessions,
          s->ctl_stops);
  fprintf(f, "}\n");
  return fclose(f) == 0 ? 0 : -EIO;
}

/* ---- setup ------------------------------------------------------------------ */

static uint64_t auto_bitrate(const bf_source_info *si) {
  double px = (double)si->width * si->height * si->fps_num / si->fps_den;
  double b = px * 0.15;
  return b < 1000000 ? 1000000 : (uint64_t)b;
}

/* Sealed mode from the 32-byte secret (here: the key file; with a control
 * session: its TLS exporter output): one sealer s2c, one opener c2s and the
 * per-burst scratch array. The first seq is the wall clock in ns, so a
 * restarted sender with the same key never reuses a nonce (it sends far
 * fewer than 1e9 datagrams per second). */
static int seal_setup(sender *s, const uint8_t secret[32], char *err, size_t cap) {
#ifdef BF_HAVE_SEAL
  bf_seal_key s2c, c2s;
  int r = bf_seal_derive(secret, 32, &s2c, &c2s);
  if (r == 0) r = bf_sealer_new(&s2c, BF_SEAL_S2C, realtime_ns(), &s->sealer);
  if (r == 0) r = bf_opener_new(&c2s, BF_SEAL_C2S, 2, &s->opener);
  s->c2s = c2s;
  bf_seal_key_wipe(&s2c);
  bf_seal_key_wipe(&c2s);
  if (r < 0) {
    snprintf(err, cap, "sealed data plane: %s", bf_strerror(r));
    return r;
  }
  s->seal_stride = BF_HEADER_BYTES + s->o.shard_bytes + BF_SEAL_OVERHEAD;
  if (!s->seal_buf) s->seal_buf = malloc(s->seal_stride * (sizeof s->burst / sizeof s->burst[0]));
  if (!s->seal_buf) {
    snprintf(err, cap, "out of memory");
    return -ENOMEM;
  }
  return 0;
#else
  (void)s, (void)secret;
  snprintf(err, cap, "--seal-key-file: this build has no sealed data plane (no OpenSSL)");
  return -ENOTSUP;
#endif
}

/* Control mode: forgets the data-plane keys of the last session (wiped;
 * the opener's counters carry over). */
static void seal_drop(sender *s) {
#ifdef BF_HAVE_SEAL
  if (s->opener) seal_carry_add(s);
  bf_sealer_del(&s->sealer);
  bf_opener_del(&s->opener);
  bf_seal_key_wipe(&s->c2s);
#else
  (void)s;
#endif
}

#ifdef BF_HAVE_SEAL
/* Control mode: the streaming client's session ended (or was replaced):
 * stop at once, refuse punches, forget its keys. */
static void ctl_stream_stop(sender *s) {
  if (s->ss.streaming) stop_stream(s);
  bf_send_session_allow(&s->ss, NULL);
  s->ss.streaming = 0;
  seal_drop(s);
}

/* Control mode: a session was established: the data plane for it. */
static void ctl_stream_start(sender *s, bf_sctl_event *ev, uint64_t now) {
  char err[256] = "";
  const bf_ctl_welcome *w = &ev->welcome;
  if (s->ss.streaming) send_bye(s, BF_BYE_REPLACED, NULL); /* old keys, old peer */
  ctl_stream_stop(s);
  /* the Welcome is the sender's own mode: sender/ctl_server.c refused any
   * other before it got here (and before the old stream was stopped) */
  int r = seal_setup(s, ev->secret, err, sizeof err);
  if (r == 0) {
    bf_packetizer_config pc;
    bf_packetizer_config_default(&pc);
    pc.shard_bytes = w->shard_bytes;
    pc.max_k = w->max_k;
    if (!s->o.fec_auto) s->fec_applied = w->fec_percent;
    pc.fec_percent = s->fec_applied;
    pc.max_frame_bytes = BF_MAX_AU_BYTES;
    bf_packetizer_del(&s->pk);
    r = bf_packetizer_new(&pc, &s->pk);
    if (r < 0) snprintf(err, sizeof err, "packetizer: %s", bf_strerror(r));
    s->packet_bytes = BF_HEADER_BYTES + w->shard_bytes + BF_IP_UDP_OVERHEAD;
    /* the encoder's share of the budget depends on S and K: the Welcome's
     * now (the counters run on across clients) */
    bf_ratectl_stats keep = s->rate.stats;
    bf_ratectl_config rc;
    bf_ratectl_config_default(&rc, s->bitrate, s->fec_applied, w->shard_bytes, w->max_k,
                              BF_HEADER_BYTES + BF_IP_UDP_OVERHEAD, s->sinfo.fps_num,
                              s->sinfo.fps_den);
    bf_ratectl_init(&s->rate, &rc);
    uint64_t b = bf_ratectl_budget(&s->rate);
    s->rate.stats = keep;
    if (b < s->rate.stats.min_bps) s->rate.stats.min_bps = b;
    if (b > s->rate.stats.max_bps) s->rate.stats.max_bps = b;
  }
  if (r < 0) {
    fprintf(stderr, "bildfunk-send: %s\n", err);
    seal_drop(s);
    bf_sctl_end_stream(s->ctl, BF_CTL_BYE_ERROR, "the sender could not set up the data plane", now);
    if (!s->pk) s->failed = 1;
    return;
  }
  bf_send_session_allow(&s->ss, &ev->peer);
  s->ctl_sessions++;
}

static void ctl_events(sender *s, uint64_t now) {
  bf_sctl_event ev;
  while (bf_sctl_next_event(s->ctl, &ev)) {
    if (ev.type == BF_SCTL_EV_STREAM) {
      ctl_stream_start(s, &ev, now);
    } else if (ev.type == BF_SCTL_EV_STOP) {
      s->ctl_stops++;
      ctl_stream_stop(s);
    }
    memset(ev.secret, 0, sizeof ev.secret);
  }
}

static uint64_t ctl_step(sender *s, uint64_t now) {
  bf_sctl_step(s->ctl, now);
  ctl_events(s, now);
  uint64_t d = bf_sctl_deadline(s->ctl);
  uint64_t soon = now + 50000000ull; /* and at least every 50 ms (descriptors polled anyway) */
  return d < soon ? d : soon;
}

static uint16_t addr_port(const bf_addr *a) {
  if (a->ss.ss_family == AF_INET) return ntohs(((const struct sockaddr_in *)&a->ss)->sin_port);
  if (a->ss.ss_family == AF_INET6) return ntohs(((const struct sockaddr_in6 *)&a->ss)->sin6_port);
  return 0;
}

/* --list-clients / --revoke: the pin store only (no identity, no sockets).
 * Returns the exit code. */
static int admin(const bf_send_options *o) {
  char dir[512], path[600];
  int r;
  if (o->config_dir)
    snprintf(dir, sizeof dir, "%s", o->config_dir);
  else if (bf_config_dir(dir, sizeof dir) < 0) {
    fprintf(stderr, "bildfunk-send: no config directory (set HOME or XDG_CONFIG_HOME, or "
                    "--config-dir)\n");
    return 1;
  }
  snprintf(path, sizeof path, "%s/clients", dir);
  bf_pinstore *ps = NULL;
  if ((r = bf_pinstore_open(path, &ps)) < 0) {
    fprintf(stderr, "bildfunk-send: paired clients file %s: %s\n", path, bf_strerror(r));
    return 1;
  }
  int rc = 0;
  if (o->list_clients) {
    size_t n = bf_pinstore_count(ps);
    if (n == 0) printf("no paired clients\n");
    for (size_t i = 0; i < n; i++) {
      const bf_pin *p = bf_pinstore_at(ps, i);
      char hex[BF_FP_HEX_BYTES], date[32] = "?";
      bf_fp_hex(p->fp, hex);
      time_t t = (time_t)p->paired_unix;
      struct tm tm;
      if (gmtime_r(&t, &tm)) strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", &tm);
      printf("%s  %s  paired %s\n", p->name[0] ? p->name : "(no name)", hex, date);
    }
  } else {
    r = bf_pinstore_revoke(ps, o->revoke);
    if (r > 0) {
      printf("bildfunk-send: unpaired %d client%s matching '%s'\n", r, r == 1 ? "" : "s",
             o->revoke);
    } else {
      rc = 1;
      if (r == -ENOENT)
        fprintf(stderr,
                "bildfunk-send: --revoke: no paired client matches '%s' (see "
                "--list-clients)\n",
                o->revoke);
      else if (r == -EEXIST)
        fprintf(stderr,
                "bildfunk-send: --revoke: '%s' matches several clients: give more "
                "digits of the fingerprint\n",
                o->revoke);
      else
        fprintf(stderr, "bildfunk-send: --revoke: cannot save %s: %s\n", path, bf_strerror(r));
    }
  }
  bf_pinstore_del(&ps);
  return rc;
}

/* Control mode setup: identity, pins, listener. */
static int ctl_setup(sender *s, char *err, size_t cap) {
  const bf_send_options *o = &s->o;
  char dir[512], path[600];
  int r;
  if (o->config_dir)
    snprintf(dir, sizeof dir, "%s", o->config_dir);
  else if ((r = bf_config_dir(dir, sizeof dir)) < 0) {
    snprintf(err, cap, "no config directory (set HOME or XDG_CONFIG_HOME, or --config-dir)");
    return r;
  }
  if ((r = bf_identity_load(dir, "sender", NULL, &s->id)) < 0) {
    if (r == -EPERM)
      snprintf(err, cap, "identity in %s: the key file is readable by others (chmod 600 it)", dir);
    else
      snprintf(err, cap, "identity in %s: %s", dir, bf_strerror(r));
    return r;
  }
  snprintf(path, sizeof path, "%s/clients", dir);
  if ((r = bf_pinstore_open(path, &s->pins)) < 0) {
    snprintf(err, cap, "paired clients file %.400s: %s", path, bf_strerror(r));
    return r;
  }
  bf_addr local;
  if ((r = bf_transport_local_addr(s->t, &local)) < 0) {
    snprintf(err, cap, "data port: %s", bf_strerror(r));
    return r;
  }
  bf_sctl_config cc;
  memset(&cc, 0, sizeof cc);
  cc.listen = o->control;
  cc.id = s->id;
  cc.pins = s->pins;
  cc.offer.codec_pref[0] = (uint8_t)o->codec;
  cc.offer.width = (uint16_t)s->sinfo.width;
  cc.offer.height = (uint16_t)s->sinfo.height;
  unsigned fps = (s->sinfo.fps_num + s->sinfo.fps_den - 1) / s->sinfo.fps_den;
  cc.offer.fps = (uint16_t)(fps ? fps : 1);
  s->offer_fps = cc.offer.fps;
  cc.offer.shard_bytes = (uint16_t)o->shard_bytes;
  cc.offer.max_k = (uint16_t)o->max_k;
  cc.offer.fec_percent = (uint8_t)s->fec_applied;
  cc.offer.data_port = addr_port(&local);
  cc.offer.max_frame_bytes = BF_MAX_AU_BYTES;
  cc.offer.bitrate_kbps = (uint32_t)(s->bitrate / 1000u);
  cc.offer.sealed = 2;
  cc.pairing_disabled = o->no_pairing;
  cc.confirm_ns = o->pair_timeout_ns;
  cc.input_fd = STDIN_FILENO;
  cc.log = stderr;
  return bf_sctl_open(&cc, &s->ctl, err, cap);
}
#endif /* BF_HAVE_SEAL */

static int setup(sender *s, char *err, size_t cap) {
  const bf_send_options *o = &s->o;
  int r;
  bf_source_config sc = {
      .kind = o->source,
      .arg = o->source_arg,
      .loop = o->loop,
      .width = o->width,
      .height = o->height,
      .fps_num = o->fps_num,
      .fps_den = o->fps_den,
      .codec = o->encoder ? (bf_codec)0 : o->codec, /* --encoder: always re-encode */
      .verbose = o->verbose,
  };
  if ((r = bf_source_open(&sc, &s->src, err, cap)) < 0) return r;
  bf_source_info_get(s->src, &s->sinfo);
  if (o->source == BF_SOURCE_FILE && o->fps_num &&
      (uint64_t)o->fps_num * s->sinfo.fps_den != (uint64_t)s->sinfo.fps_num * o->fps_den)
    fprintf(stderr, "bildfunk-send: --fps ignored: a file plays at its own rate (%.3f fps)\n",
            (double)s->sinfo.fps_num / s->sinfo.fps_den);
  s->interval_ns = 1000000000ull * s->sinfo.fps_den / s->sinfo.fps_num;
  s->bitrate = o->bitrate ? o->bitrate : auto_bitrate(&s->sinfo);
  if (s->sinfo.passthrough && o->intra_refresh)
    fprintf(stderr, "bildfunk-send: --intra-refresh ignored: the file is passed through\n");
  if (!s->sinfo.passthrough) {
    bf_encoder_config ec = {
        .codec = o->codec,
        .name = o->encoder,
        .preset = o->preset,
        .width = s->sinfo.width,
        .height = s->sinfo.height,
        .fps_num = s->sinfo.fps_num,
        .fps_den = s->sinfo.fps_den,
        .bitrate = s->bitrate,
        .gop = o->gop,
        .slices = o->slices,
        .verbose = o->verbose,
        .intra_refresh = o->intra_refresh,
    };
    if ((r = bf_encoder_open(&ec, &s->enc, err, cap)) < 0) return r;
    if (o->intra_refresh)
      fprintf(stderr, "bildfunk-send: intra refresh: a wave every %u frames\n",
              bf_encoder_refresh_period(&ec));
  }
  bf_packetizer_config pc;
  bf_packetizer_config_default(&pc);
  pc.shard_bytes = (uint16_t)o->shard_bytes;
  pc.max_k = (uint16_t)o->max_k;
  bf_fecctl_init(&s->fec, NULL);
  s->fec_applied = o->fec_auto ? bf_fecctl_percent(&s->fec) : o->fec_percent;
  pc.fec_percent = s->fec_applied;
  s->fec_min_seen = UINT32_MAX;
  pc.max_frame_bytes = BF_MAX_AU_BYTES;
  if ((r = bf_packetizer_new(&pc, &s->pk)) < 0) {
    snprintf(err, cap, "packetizer: %s", bf_strerror(r));
    return r;
  }
  s->packet_bytes = BF_HEADER_BYTES + o->shard_bytes + BF_IP_UDP_OVERHEAD;
  bf_ratectl_config rc;
  bf_ratectl_config_default(&rc, s->bitrate, s->fec_applied, o->shard_bytes, o->max_k,
                            BF_HEADER_BYTES + BF_IP_UDP_OVERHEAD, s->sinfo.fps_num,
                            s->sinfo.fps_den);
  bf_ratectl_init(&s->rate, &rc);
  bf_pacer_config pac = {o->rate_cap_bps, o->burst, o->spread_permille};
  if ((r = bf_pacer_init(&s->pacer, &pac)) < 0) {
    snprintf(err, cap, "pacer: bad settings");
    return r;
  }
  bf_send_session_config ssc;
  bf_send_session_config_default(&ssc);
  ssc.silence_ns = o->silence_ns;
  ssc.closed = !o->direct;
  if (o->allow) {
    if ((r = bf_addr_parse(o->allow, 0, &ssc.allow)) < 0) {
      snprintf(err, cap, "--allow: cannot use address '%s': %s", o->allow, bf_strerror(r));
      return r;
    }
    ssc.allow_set = 1;
  }
  bf_send_session_init(&s->ss, &ssc);
  if (o->dump_au && !(s->dump = fopen(o->dump_au, "wb"))) {
    r = -errno;
    snprintf(err, cap, "cannot create --dump-au file '%s': %s", o->dump_au, strerror(-r));
    return r;
  }
  bf_udp_config uc;
  bf_udp_config_default(&uc);
  uc.bind = o->listen;
  uc.gso = o->gso;
  if (!o->gso) bf_udp_offload_disable();
  if ((r = bf_udp_open(&uc, &s->t)) < 0) {
    if (r == -EADDRINUSE)
      snprintf(err, cap, "port %s is busy (is another bildfunk-send running?)", o->listen);
    else
      snprintf(err, cap, "cannot listen on %s: %s", o->listen, bf_strerror(r));
    return r;
  }
  if ((r = bf_recv_ring_init(&s->ring, 0, 0)) < 0) {
    snprintf(err, cap, "receive ring: %s", bf_strerror(r));
    return r;
  }
  if (o->seal_key_file) {
    uint8_t secret[32] = {0};
#ifdef BF_HAVE_SEAL
    char why[256];
    r = bf_seal_secret_read_file(o->seal_key_file, secret, why, sizeof why);
    if (r < 0) snprintf(err, cap, "--seal-key-file: %s", why);
#endif
    if (r == 0) r = seal_setup(s, secret, err, cap); /* says so in a build without it */
    memset(secret, 0, sizeof secret);
    if (r < 0) return r;
  }
  if (!o->direct) {
#ifdef BF_HAVE_SEAL
    s->ctl_mode = 1;
    if ((r = ctl_setup(s, err, cap)) < 0) return r;
#else
    snprintf(err, cap, "this build has no control mode (no OpenSSL): use --direct");
    return -ENOTSUP;
#endif
  }
  return 0;
}

static void teardown(sender *s) {
#ifdef BF_HAVE_SEAL
  bf_sctl_close(&s->ctl);
  bf_pinstore_del(&s->pins);
  bf_identity_del(&s->id);
  bf_sealer_del(&s->sealer);
  bf_opener_del(&s->opener);
  bf_seal_key_wipe(&s->c2s);
#endif
  free(s->seal_buf);
  if (s->dump) fclose(s->dump);
  bf_recv_ring_free(&s->ring);
  bf_transport_close(&s->t);
  bf_packetizer_del(&s->pk);
  bf_encoder_close(&s->enc);
  bf_source_close(&s->src);
}

/* Sleeps until |deadline| (monotonic ns) or until the socket (or, in
 * control mode, a control descriptor) is readable. */
static void wait_until(sender *s, uint64_t deadline) {
  uint64_t now = mono_ns();
  if (deadline <= now) return;
  uint64_t d = deadline - now;
  if (s->t->fd >= 0) {
    struct pollfd pfd[1 + BF_SCTL_MAX_FDS];
    size_t n = 0;
    pfd[n++] = (struct pollfd){.fd = s->t->fd, .events = POLLIN};
#ifdef BF_HAVE_SEAL
    if (s->ctl) n += bf_sctl_pollfds(s->ctl, pfd + 1, BF_SCTL_MAX_FDS);
#endif
    struct timespec ts = {(time_t)(d / 1000000000ull), (long)(d % 1000000000ull)};
    if (ppoll(pfd, (nfds_t)n, &ts, NULL) > 0)
      for (size_t i = 1; i < n; i++)
        if (pfd[i].revents) s->ctl_kick = 1;
  } else {
    bf_transport_wait(s->t, (int)((d + 999999) / 1000000));
  }
}

static int run(sender *s) {
  uint64_t now = mono_ns();
  int r;
  s->win_start_ns = now;
  while (!g_stop && !s->finished && !s->failed) {
    drain_rx(s);
    now = mono_ns();
#ifdef BF_HAVE_SEAL
    if (s->ctl && (s->ctl_kick || now >= s->ctl_next_ns)) {
      s->ctl_kick = 0;
      s->ctl_next_ns = ctl_step(s, now);
    }
#endif
    if (bf_send_session_tick(&s->ss, now) == BF_SS_SILENT) {
      char a[BF_ADDR_STRLEN];
      fprintf(stderr, "bildfunk-send: client %s silent for %.0f s: stopped; waiting for the next\n",
              bf_addr_format(&s->ss.peer, a, sizeof a), (double)s->o.silence_ns / 1e9);
      stop_stream(s);
    }
    if (now - s->win_start_ns >= 1000000000ull) status_line(s, now);
    uint64_t deadline = s->win_start_ns + 1000000000ull;
    uint64_t sd = bf_send_session_deadline(&s->ss);
    if (sd < deadline) deadline = sd;
    if (s->ctl_mode && s->ctl_next_ns < deadline) deadline = s->ctl_next_ns;
    if (s->ss.streaming) {
      if (bf_pacer_busy(&s->pacer)) {
        send_paced(s, now);
        uint64_t next;
        if (bf_pacer_poll(&s->pacer, mono_ns(), &next) == 0 && next < deadline) deadline = next;
        if (bf_pacer_busy(&s->pacer)) {
          wait_until(s, deadline);
          continue;
        }
      }
      if ((s->o.frames && s->frames_streamed >= s->o.frames) ||
          (s->o.duration_ns && now - s->stream_start_ns >= s->o.duration_ns)) {
        s->finished = 1;
        break;
      }
      /* an AU the encoder finished late goes out before the next capture */
      if ((r = next_encoded(s)) != 0) {
        if (r < 0) {
          s->failed = 1;
          break;
        }
        continue;
      }
      if (now >= s->next_capture_ns) {
        if (capture(s, now) < 0) {
          s->failed = 1;
          break;
        }
        s->next_capture_ns += s->interval_ns;
        now = mono_ns();
        if (s->next_capture_ns + s->interval_ns < now) { /* fell behind: resync, count it */
          s->frames_late++;
          s->next_capture_ns = now + s->interval_ns;
        }
        continue;
      }
      if (s->next_capture_ns < deadline) deadline = s->next_capture_ns;
      /* an asynchronous encoder (SVT-AV1, hardware) may finish an AU any
       * moment: look every millisecond */
      if (s->enc && bf_encoder_owed(s->enc) > 0 && now + 1000000 < deadline)
        deadline = now + 1000000;
    }
    wait_until(s, deadline);
  }
  if (s->ss.streaming) {
    send_bye(s, s->failed ? BF_BYE_ERROR : BF_BYE_NORMAL, NULL);
    bf_send_session_stop(&s->ss);
  }
#ifdef BF_HAVE_SEAL
  if (s->ctl)
    bf_sctl_finish(s->ctl, s->failed ? BF_CTL_BYE_ERROR : BF_CTL_BYE_NORMAL,
                   s->failed ? "the sender hit an error"
                   : g_stop  ? "the sender was stopped"
                             : "the stream finished",
                   500, mono_ns());
#endif
  return s->failed ? 1 : 0;
}

int main(int argc, char **argv) {
  sender *s = calloc(1, sizeof *s);
  if (!s) {
    fprintf(stderr, "bildfunk-send: out of memory\n");
    return 1;
  }
  char err[600] = "";
  bf_send_options_default(&s->o);
  int r = bf_send_options_parse(argc, argv, &s->o, err, sizeof err);
  if (r == BF_CLI_HELP) {
    bf_send_usage(stdout);
    free(s);
    return 0;
  }
  if (r == BF_CLI_VERSION) {
    printf("bildfunk-send %s (wire v%u, %s)\n", BF_VERSION_STRING, (unsigned)BF_WIRE_VERSION,
           LIBAVCODEC_IDENT);
    free(s);
    return 0;
  }
  if (r < 0) {
    fprintf(stderr, "bildfunk-send: %s\n", err);
    free(s);
    return 2;
  }
  if (s->o.list_clients || s->o.revoke) {
#ifdef BF_HAVE_SEAL
    r = admin(&s->o);
#else
    fprintf(stderr, "bildfunk-send: this build has no control mode (no OpenSSL)\n");
    r = 1;
#endif
    free(s);
    return r;
  }
  av_log_set_level(s->o.verbose ? AV_LOG_INFO : AV_LOG_FATAL);
  if (!s->o.verbose) setenv("SVT_LOG", "1", 0); /* SVT-AV1: errors only */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  /* control mode reads pairing answers from stdin; started in the
   * background of a shell (`bildfunk-send &`), a read of the terminal would
   * stop the whole sender (SIGTTIN) as soon as anyone types there: ignored,
   * the read fails with EIO and ctl_server.c tries again later */
  signal(SIGTTIN, SIG_IGN);

  if ((r = setup(s, err, sizeof err)) < 0) {
    fprintf(stderr, "bildfunk-send: %s\n", err[0] ? err : bf_strerror(r));
    teardown(s);
    free(s);
    return 1;
  }
  bf_addr local;
  char la[BF_ADDR_STRLEN];
  if (bf_transport_local_addr(s->t, &local) == 0)
    bf_addr_format(&local, la, sizeof la);
  else
    snprintf(la, sizeof la, "%s", s->o.listen);
#ifdef BF_HAVE_SEAL
  if (s->ctl) {
    bf_addr cl;
    char ca[BF_ADDR_STRLEN], hex[BF_FP_HEX_BYTES];
    uint8_t fp[BF_FP_BYTES];
    if (bf_sctl_local_addr(s->ctl, &cl) == 0)
      bf_addr_format(&cl, ca, sizeof ca);
    else
      snprintf(ca, sizeof ca, "%s", s->o.control);
    bf_identity_fp(s->id, fp);
    bf_fp_hex(fp, hex);
    hex[16] = 0;
    fprintf(stderr,
            "bildfunk-send: control on %s (TLS 1.3), data on %s\n"
            "bildfunk-send: listening on %s (control mode: the stream is sealed with keys from "
            "the control session; identity fp %s...; %zu paired client%s%s)\n",
            ca, la, la, hex, bf_pinstore_count(s->pins), bf_pinstore_count(s->pins) == 1 ? "" : "s",
            s->o.no_pairing ? "; pairing disabled" : "");
  } else
#endif
    fprintf(stderr, "bildfunk-send: listening on %s (direct mode: the stream is %s)\n", la,
            s->sealer ? "sealed with the --seal-key-file secret" : "UNENCRYPTED");
  fprintf(stderr,
          "bildfunk-send: %s at %.3f fps -> %s %s %.2f Mbit/s; S=%u K=%u FEC %u%%%s; GSO %s\n",
          s->sinfo.desc, (double)s->sinfo.fps_num / s->sinfo.fps_den, bf_codec_name(s->o.codec),
          s->enc ? bf_encoder_name(s->enc) : "passthrough", (double)s->bitrate / 1e6,
          s->o.shard_bytes, s->o.max_k, s->fec_applied, s->o.fec_auto ? " (auto)" : "",
          s->o.gso && bf_udp_offload_enabled() ? "on" : "off");
  int rc = run(s);
  if (s->o.stats_json && (r = write_stats(s, s->o.stats_json)) < 0) {
    fprintf(stderr, "bildfunk-send: cannot write --stats-json '%s': %s\n", s->o.stats_json,
            bf_strerror(r));
    rc = 1;
  }
  fprintf(stderr,
          "bildfunk-send: sent %" PRIu64 " frames, %" PRIu64 " packets (%" PRIu64
          " dropped), %" PRIu64 " keyframes\n",
          s->frames_sent, s->packets_sent, s->packets_dropped, s->keyframes_sent);
  teardown(s);
  free(s);
  return rc;
}
