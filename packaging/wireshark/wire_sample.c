/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * wire_sample: sends a known set of bildfunk datagrams over loopback UDP for
 * the Wireshark dissector test (packaging/wireshark/test-dissector.sh), and
 * prints, one line per datagram, exactly what tshark with bildfunk.lua must
 * show for it in the columns that `wire_sample --fields` lists.
 *
 * One socket sends from the data port 47998, where the dissector is
 * registered; another from a port nothing is registered on, so only the
 * heuristic can claim those. Both send to a sink socket of our own, so no
 * other program (a sender under test listening on 47998) ever receives them.
 *
 * The datagrams are made by libbftransport itself: video packets by the
 * packetizer (sent as two iovecs, like the sender does), feedback by
 * bf_feedback_encode(), plus a punch, a PROBE filler, a malformed header, a
 * sealed-looking datagram, one AU sent as a UDP GSO batch (which a capture on
 * lo shows as one large datagram, as it does the real sender's batches) and
 * two datagrams the heuristic must not claim. Expected values are the ones
 * handed to the library, except the per-packet header fields the packetizer
 * chooses (indices, k, m, flags), which are read back with bf_header_decode()
 * (pinned by tests/test_wire.c) and cross-checked against the AU's pts,
 * user_flags and size.
 *
 * It is a test tool, not part of the product: Linux/POSIX sockets, no
 * error recovery beyond reporting and exiting non-zero.
 *
 *   wire_sample --fields                   the tshark -e list, one a line
 *   wire_sample DATA_PORT HEUR_PORT SINK   send from 127.0.0.1:DATA_PORT and
 *                                          :HEUR_PORT to :SINK; exits 3 when
 *                                          a port is taken
 */
#include <bildfunk/audio_wire.h>
#include <bildfunk/feedback.h>
#include <bildfunk/inputmsg.h>
#include <bildfunk/packetizer.h>
#include <bildfunk/wire.h>

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

/* The columns, in order. Every line the program prints has one value per
 * column, tab-separated, empty where the column does not apply. */
enum {
  C_SRCPORT,
  C_UDPLEN,
  C_KIND,
  C_PTS,
  C_FRAME,
  C_SEQ,
  C_FRAME_BYTES,
  C_UFLAGS,
  C_UF_KEY,
  C_UF_RP,
  C_UF_ANCHOR,
  C_UF_REPEAT,
  C_BLOCK,
  C_BLOCKS,
  C_K,
  C_M,
  C_SHARD,
  C_SHARD_BYTES,
  C_MAGIC,
  C_VERSION,
  C_FEC,
  C_FLAGS,
  C_PIC,
  C_EOF,
  C_SOF,
  C_PROBE,
  C_SHARD_KIND,
  C_PAYLOAD,
  C_PUNCH,
  C_FB_MAGIC,
  C_FB_TYPE,
  C_FB_REQ,
  C_FB_FIRST,
  C_FB_LAST,
  C_FB_WINDOW,
  C_FB_RECV,
  C_FB_MISSING,
  C_FB_PPM,
  C_FB_DONE,
  C_FB_LOST,
  C_FB_RECOVERED,
  C_FB_LATE,
  C_FB_RUNS,
  C_FB_ID,
  C_FB_T1,
  C_FB_T2,
  C_FB_T3,
  C_FB_REASON,
  C_FB_FRAME,
  C_FB_HOST,
  C_FB_EXT,
  C_AU_TYPE,
  C_AU_UNITS,
  C_AU_CH,
  C_AU_KBPS,
  C_AU_K,
  C_AU_M,
  C_AU_SEQ,
  C_AU_INDEX,
  C_AU_BODY,
  C_AU_CAPTURE,
  C_AU_OPUS,
  C_IN_TYPE,
  C_SEALED_SEQ,
  C_GSO,
  C_EXPERT,
  C_COUNT_
};

static const char *const column_names[C_COUNT_] = {
    "udp.srcport",
    "udp.length",
    "bildfunk.kind",
    "bildfunk.pts_ns",
    "bildfunk.frame_index",
    "bildfunk.stream_seq",
    "bildfunk.frame_bytes",
    "bildfunk.user_flags",
    "bildfunk.user_flags.keyframe",
    "bildfunk.user_flags.recovery_point",
    "bildfunk.user_flags.recovery_anchor",
    "bildfunk.user_flags.repeat",
    "bildfunk.block_index",
    "bildfunk.block_count",
    "bildfunk.data_shards",
    "bildfunk.recovery_shards",
    "bildfunk.shard_index",
    "bildfunk.shard_bytes",
    "bildfunk.magic",
    "bildfunk.version",
    "bildfunk.fec_scheme",
    "bildfunk.flags",
    "bildfunk.flags.pic",
    "bildfunk.flags.eof",
    "bildfunk.flags.sof",
    "bildfunk.flags.probe",
    "bildfunk.shard_kind",
    "bildfunk.payload",
    "bildfunk.punch",
    "bildfunk.fb.magic",
    "bildfunk.fb.type",
    "bildfunk.fb.request_id",
    "bildfunk.fb.first_lost",
    "bildfunk.fb.last_lost",
    "bildfunk.fb.window_ms",
    "bildfunk.fb.packets_received",
    "bildfunk.fb.shards_missing",
    "bildfunk.fb.loss_ppm",
    "bildfunk.fb.frames_completed",
    "bildfunk.fb.frames_lost",
    "bildfunk.fb.shards_recovered",
    "bildfunk.fb.late_shards",
    "bildfunk.fb.loss_runs",
    "bildfunk.fb.id",
    "bildfunk.fb.t1_ns",
    "bildfunk.fb.t2_ns",
    "bildfunk.fb.t3_ns",
    "bildfunk.fb.reason",
    "bildfunk.fb.frame_index",
    "bildfunk.fb.host_us",
    "bildfunk.fb.extension",
    "bildfunk.audio.type",
    "bildfunk.audio.frame_units",
    "bildfunk.audio.channels",
    "bildfunk.audio.kbps",
    "bildfunk.audio.k",
    "bildfunk.audio.m",
    "bildfunk.audio.seq",
    "bildfunk.audio.index",
    "bildfunk.audio.body_len",
    "bildfunk.audio.capture_ns",
    "bildfunk.audio.opus_len",
    "bildfunk.input.type",
    "bildfunk.sealed.seq",
    "bildfunk.gso_segments",
    "_ws.expert.message",
};

/* One expected output line under construction. */
typedef struct row {
  char col[C_COUNT_][2 * BF_MAX_DATAGRAM + 1];
} row;

static row g_row;   /* ~1 MB: static, not on the stack */
static row g_batch; /* the rows of a GSO batch, joined column by column */

static void row_clear(void) {
  for (int i = 0; i < C_COUNT_; i++)
    g_row.col[i][0] = '\0';
}

static void row_set(int c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void row_set(int c, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(g_row.col[c], sizeof g_row.col[c], fmt, ap);
  va_end(ap);
}

static void row_hex(int c, const uint8_t *d, size_t n) {
  static const char digits[] = "0123456789abcdef";
  char *o = g_row.col[c];
  for (size_t i = 0; i < n; i++) {
    o[2 * i] = digits[d[i] >> 4];
    o[2 * i + 1] = digits[d[i] & 15];
  }
  o[2 * n] = '\0';
}

static void row_print(void) {
  for (int i = 0; i < C_COUNT_; i++) {
    fputs(g_row.col[i], stdout);
    putchar(i + 1 < C_COUNT_ ? '\t' : '\n');
  }
}

/* A UDP socket bound to 127.0.0.1 and the port it is bound to. */
typedef struct sock {
  int fd;
  uint16_t port;
} sock;

static uint16_t g_sink_port;

/* Binds a socket to 127.0.0.1:|port|; exits 3 when the port is taken. */
static sock open_sock(uint16_t port) {
  sock s = {.fd = socket(AF_INET, SOCK_DGRAM, 0), .port = port};
  if (s.fd < 0) {
    perror("wire_sample: socket");
    exit(1);
  }
  struct sockaddr_in me;
  memset(&me, 0, sizeof me);
  me.sin_family = AF_INET;
  me.sin_port = htons(port);
  me.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(s.fd, (struct sockaddr *)&me, sizeof me) != 0) {
    fprintf(stderr, "wire_sample: bind 127.0.0.1:%u: %s\n", port, strerror(errno));
    exit(errno == EADDRINUSE ? 3 : 1);
  }
  return s;
}

/* Sends |n| pieces as one datagram from |s| to the sink and starts the
 * expected row with the transport columns. Exits on a send error. */
static void send_iov(const sock *s, const struct iovec *iov, size_t n) {
  struct sockaddr_in to;
  memset(&to, 0, sizeof to);
  to.sin_family = AF_INET;
  to.sin_port = htons(g_sink_port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_name = &to;
  msg.msg_namelen = sizeof to;
  msg.msg_iov = (struct iovec *)iov;
  msg.msg_iovlen = n;
  size_t len = 0;
  for (size_t i = 0; i < n; i++)
    len += iov[i].iov_len;
  ssize_t r = sendmsg(s->fd, &msg, 0);
  if (r < 0 || (size_t)r != len) {
    fprintf(stderr, "wire_sample: sendmsg: %s\n", strerror(errno));
    exit(1);
  }
  row_clear();
  row_set(C_SRCPORT, "%u", s->port);
  row_set(C_UDPLEN, "%zu", len + 8);
}

static void send_bytes(const sock *s, const uint8_t *d, size_t n) {
  struct iovec iov = {.iov_base = (void *)d, .iov_len = n};
  send_iov(s, &iov, 1);
}

static const char *tf(uint32_t v, uint32_t bit) {
  return (v & bit) ? "1" : "0";
}

/* Fills the video columns from the values the packet was made with. */
static void expect_video(const bf_header *h, const uint8_t *payload, size_t n) {
  row_set(C_KIND, "video");
  row_set(C_PTS, "%" PRIu64, h->pts_ns);
  row_set(C_FRAME, "%" PRIu32, h->frame_index);
  row_set(C_SEQ, "%" PRIu32, h->stream_seq);
  row_set(C_FRAME_BYTES, "%" PRIu32, h->frame_bytes);
  row_set(C_UFLAGS, "0x%08" PRIx32, h->user_flags);
  row_set(C_UF_KEY, "%s", tf(h->user_flags, BF_AU_KEYFRAME));
  row_set(C_UF_RP, "%s", tf(h->user_flags, BF_AU_RECOVERY_POINT));
  row_set(C_UF_ANCHOR, "%s", tf(h->user_flags, BF_AU_RECOVERY_ANCHOR));
  row_set(C_UF_REPEAT, "%s", tf(h->user_flags, BF_AU_REPEAT));
  row_set(C_BLOCK, "%u", h->block_index);
  row_set(C_BLOCKS, "%u", h->block_count);
  row_set(C_K, "%u", h->data_shards);
  row_set(C_M, "%u", h->recovery_shards);
  row_set(C_SHARD, "%u", h->shard_index);
  row_set(C_SHARD_BYTES, "%u", h->shard_bytes);
  row_set(C_MAGIC, "0x%02x", h->magic);
  row_set(C_VERSION, "%u", h->version);
  row_set(C_FEC, "%u", h->fec_scheme);
  row_set(C_FLAGS, "0x%02x", h->flags);
  row_set(C_PIC, "%s", tf(h->flags, BF_PKT_PIC));
  row_set(C_EOF, "%s", tf(h->flags, BF_PKT_EOF));
  row_set(C_SOF, "%s", tf(h->flags, BF_PKT_SOF));
  row_set(C_PROBE, "%s", tf(h->flags, BF_PKT_PROBE));
  row_set(C_SHARD_KIND, "%s", h->shard_index < h->data_shards ? "data" : "parity");
  row_hex(C_PAYLOAD, payload, n);
  row_set(C_GSO, "1");
}

/* Sends one AU through a packetizer at |fec| percent and prints the
 * expected row of each of its packets. */
static void send_au(bf_packetizer *pk, const sock *s, const uint8_t *au, size_t len, uint64_t pts,
                    uint32_t uflags, uint32_t fec) {
  if (bf_packetizer_set_fec_percent(pk, fec) != 0 ||
      bf_packetizer_begin(pk, au, len, pts, uflags) != 0) {
    fprintf(stderr, "wire_sample: packetizer refused the AU\n");
    exit(1);
  }
  bf_dgram d[8];
  int n;
  while ((n = bf_packetizer_next(pk, d, 8)) > 0) {
    for (int i = 0; i < n; i++) {
      struct iovec iov[2] = {{.iov_base = (void *)d[i].head, .iov_len = d[i].head_len},
                             {.iov_base = (void *)d[i].body, .iov_len = d[i].body_len}};
      send_iov(s, iov, 2);
      bf_header h;
      bf_header_decode(d[i].head, &h);
      /* What the packetizer was asked for must be in the header. */
      if (h.pts_ns != pts || h.user_flags != uflags || h.frame_bytes != len) {
        fprintf(stderr, "wire_sample: packetizer header differs from its input\n");
        exit(1);
      }
      expect_video(&h, d[i].body, d[i].body_len);
      row_print();
    }
  }
  if (n < 0) {
    fprintf(stderr, "wire_sample: packetizer: %s\n", bf_strerror(n));
    exit(1);
  }
}

/* Sends one AU as a single UDP GSO batch of equal-size packets and prints
 * one row for it: a capture on lo holds the batch as one datagram, which the
 * dissector splits, so every bildfunk column holds the packets' values
 * joined with commas. */
static void send_au_gso(bf_packetizer *pk, const sock *s, const uint8_t *au, size_t len,
                        uint64_t pts, uint32_t uflags, uint32_t fec) {
  enum { MAX_PKTS = 16 };
  if (bf_packetizer_set_fec_percent(pk, fec) != 0 ||
      bf_packetizer_begin(pk, au, len, pts, uflags) != 0) {
    fprintf(stderr, "wire_sample: packetizer refused the AU\n");
    exit(1);
  }
  bf_dgram d[MAX_PKTS];
  int n = bf_packetizer_next(pk, d, MAX_PKTS);
  bf_packetizer_au_info info;
  bf_packetizer_au_info_get(pk, &info);
  if (n < 2 || info.remaining != 0) {
    fprintf(stderr, "wire_sample: the GSO AU must be 2..%d packets\n", MAX_PKTS);
    exit(1);
  }
  struct iovec iov[2 * MAX_PKTS];
  size_t total = 0;
  for (int i = 0; i < n; i++) {
    iov[2 * i] = (struct iovec){.iov_base = (void *)d[i].head, .iov_len = d[i].head_len};
    iov[2 * i + 1] = (struct iovec){.iov_base = (void *)d[i].body, .iov_len = d[i].body_len};
    total += d[i].head_len + d[i].body_len;
  }
  struct sockaddr_in to;
  memset(&to, 0, sizeof to);
  to.sin_family = AF_INET;
  to.sin_port = htons(g_sink_port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  union {
    char buf[CMSG_SPACE(sizeof(uint16_t))];
    struct cmsghdr align;
  } ctl;
  memset(&ctl, 0, sizeof ctl);
  struct msghdr msg = {.msg_name = &to,
                       .msg_namelen = sizeof to,
                       .msg_iov = iov,
                       .msg_iovlen = (size_t)(2 * n),
                       .msg_control = ctl.buf,
                       .msg_controllen = sizeof ctl.buf};
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_UDP;
  c->cmsg_type = UDP_SEGMENT;
  c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
  uint16_t seg = (uint16_t)(d[0].head_len + d[0].body_len);
  memcpy(CMSG_DATA(c), &seg, sizeof seg);
  ssize_t r = sendmsg(s->fd, &msg, 0);
  if (r < 0 || (size_t)r != total) {
    fprintf(stderr, "wire_sample: sendmsg with UDP_SEGMENT: %s\n", strerror(errno));
    exit(1);
  }
  for (int i = 0; i < n; i++) {
    bf_header h;
    bf_header_decode(d[i].head, &h);
    row_clear();
    expect_video(&h, d[i].body, d[i].body_len);
    row_set(C_KIND, "video");
    row_set(C_GSO, "%d", n);
    for (int col = C_KIND; col < C_COUNT_; col++) {
      if (i == 0) {
        memcpy(g_batch.col[col], g_row.col[col], sizeof g_row.col[col]);
      } else if (g_row.col[col][0] != '\0') {
        size_t used = strlen(g_batch.col[col]);
        snprintf(g_batch.col[col] + used, sizeof g_batch.col[col] - used, ",%s", g_row.col[col]);
      }
    }
  }
  memcpy(&g_row, &g_batch, sizeof g_row);
  row_set(C_SRCPORT, "%u", s->port);
  row_set(C_UDPLEN, "%zu", total + 8);
  row_print();
}

static void send_feedback(const sock *s, const bf_feedback *fb, size_t extra) {
  uint8_t b[BF_FB_MAX_BYTES];
  int n = bf_feedback_encode(fb, b, sizeof b);
  if (n < 0 || (size_t)n + extra > sizeof b) {
    fprintf(stderr, "wire_sample: feedback encode failed\n");
    exit(1);
  }
  for (size_t i = 0; i < extra; i++)
    b[(size_t)n + i] = (uint8_t)(0xA0 + i);
  send_bytes(s, b, (size_t)n + extra);
  row_set(C_KIND, "feedback");
  row_set(C_FB_MAGIC, "0x%02x", BF_FB_MAGIC);
  row_set(C_FB_TYPE, "%d", (int)fb->type);
  switch (fb->type) {
  case BF_FB_KEYFRAME_REQUEST:
    row_set(C_FB_REQ, "%" PRIu32, fb->u.keyframe.request_id);
    row_set(C_FB_FIRST, "%" PRIu32, fb->u.keyframe.first_lost);
    row_set(C_FB_LAST, "%" PRIu32, fb->u.keyframe.last_lost);
    break;
  case BF_FB_LOSS_REPORT:
    row_set(C_FB_WINDOW, "%" PRIu32, fb->u.loss.window_ms);
    row_set(C_FB_RECV, "%" PRIu32, fb->u.loss.packets_received);
    row_set(C_FB_MISSING, "%" PRIu32, fb->u.loss.shards_missing);
    row_set(C_FB_PPM, "%" PRIu32, fb->u.loss.loss_ppm);
    row_set(C_FB_DONE, "%" PRIu32, fb->u.loss.frames_completed);
    row_set(C_FB_LOST, "%" PRIu32, fb->u.loss.frames_lost);
    row_set(C_FB_RECOVERED, "%" PRIu32, fb->u.loss.shards_recovered);
    row_set(C_FB_LATE, "%" PRIu32, fb->u.loss.late_shards);
    row_set(C_FB_RUNS, "%" PRIu32, fb->u.loss.loss_runs);
    break;
  case BF_FB_CLOCK_PING:
    row_set(C_FB_ID, "%" PRIu32, fb->u.ping.id);
    row_set(C_FB_T1, "%" PRIu64, fb->u.ping.t1_ns);
    break;
  case BF_FB_CLOCK_PONG:
    row_set(C_FB_ID, "%" PRIu32, fb->u.pong.id);
    row_set(C_FB_T1, "%" PRIu64, fb->u.pong.t1_ns);
    row_set(C_FB_T2, "%" PRIu64, fb->u.pong.t2_ns);
    row_set(C_FB_T3, "%" PRIu64, fb->u.pong.t3_ns);
    break;
  case BF_FB_BYE:
    row_set(C_FB_REASON, "%" PRIu32, fb->u.bye.reason);
    break;
  case BF_FB_FRAME_INFO:
    row_set(C_FB_FRAME, "%" PRIu32, fb->u.frame_info.frame_index);
    row_set(C_FB_HOST, "%" PRIu32, fb->u.frame_info.host_us);
    break;
  }
  if (extra) row_hex(C_FB_EXT, b + n, extra);
  row_print();
}

static void fill(uint8_t *d, size_t n, uint32_t seed) {
  for (size_t i = 0; i < n; i++) {
    seed = seed * 1103515245u + 12345u;
    d[i] = (uint8_t)(seed >> 16);
  }
}

/* An audio datagram (docs/protocol.md 8.2) as the sender or client builds it. */
static void send_audio(const sock *s, const uint8_t *d, size_t len) {
  bf_audio_pkt a;
  if (bf_audio_decode(d, len, &a) < 0) {
    fprintf(stderr, "wire_sample: audio encode/decode failed\n");
    exit(1);
  }
  send_bytes(s, d, len);
  row_set(C_KIND, "audio");
  row_set(C_AU_TYPE, "%u", (unsigned)a.type);
  if (a.type != BF_AUDIO_REQUEST) {
    row_set(C_AU_UNITS, "%u", (unsigned)a.p.frame_units);
    row_set(C_AU_CH, "%u", (unsigned)a.p.channels);
    row_set(C_AU_KBPS, "%u", (unsigned)a.p.bitrate_kbps);
    row_set(C_AU_K, "%u", (unsigned)a.k);
    row_set(C_AU_M, "%u", (unsigned)a.m);
    row_set(C_AU_SEQ, "%" PRIu32, a.seq);
    row_set(C_AU_INDEX, "%u", (unsigned)a.index);
    row_set(C_AU_BODY, "%zu", len - BF_AUDIO_HDR_BYTES);
  }
  if (a.type == BF_AUDIO_DATA) {
    row_set(C_AU_CAPTURE, "%" PRIu64, a.capture_ns);
    row_set(C_AU_OPUS, "%zu", a.opus_len);
  }
  row_print();
}

/* Two Opus frames in a 2+1 block: DATA, DATA, PARITY; then a REQUEST. */
static void send_audio_sample(const sock *s) {
  bf_audio_params ap = {2, 2, 128};
  bf_audio_tx *tx = NULL;
  if (bf_audio_tx_new(&ap, 2, 1, &tx) < 0) exit(1);
  uint8_t opus[60];
  fill(opus, sizeof opus, 11);
  bf_audio_out out[2];
  for (unsigned i = 0; i < 2; i++) {
    int n = bf_audio_tx_frame(tx, UINT64_C(1700000003000000000) + i * 5000000u, opus,
                              sizeof opus - i * 20, out);
    if (n < 0) exit(1);
    for (int j = 0; j < n; j++)
      send_audio(s, out[j].d, out[j].len);
  }
  bf_audio_tx_del(&tx);
  uint8_t req[BF_AUDIO_REQUEST_BYTES];
  if (bf_audio_encode_request(req, sizeof req) < 0) exit(1);
  send_audio(s, req, sizeof req);
}

/* An input datagram's kind and type (docs/protocol.md 14): a STATE header
 * with nothing to acknowledge, as a sender's first one looks. */
static void send_input_sample(const sock *s) {
  uint8_t st[BF_INMSG_STATE_HEAD];
  memset(st, 0, sizeof st);
  bf_inmsg_state m;
  memset(&m, 0, sizeof m);
  int n = bf_inmsg_state_encode(&m, st, sizeof st);
  if (n < 0) {
    fprintf(stderr, "wire_sample: input encode failed\n");
    exit(1);
  }
  send_bytes(s, st, (size_t)n);
  row_set(C_KIND, "input");
  row_set(C_IN_TYPE, "%u", (unsigned)st[1]);
  row_print();
}

static void send_punch(const sock *s) {
  send_bytes(s, (const uint8_t *)BF_PUNCH_MAGIC, BF_PUNCH_BYTES);
  row_set(C_KIND, "punch");
  row_set(C_PUNCH, "%s", BF_PUNCH_MAGIC);
  row_print();
}

/* A header built by hand (PROBE filler, malformed packets). */
static void send_header(const sock *s, const bf_header *h, const uint8_t *payload, size_t n,
                        const char *expert) {
  uint8_t head[BF_HEADER_BYTES];
  bf_header_encode(h, head);
  struct iovec iov[2] = {{.iov_base = head, .iov_len = sizeof head},
                         {.iov_base = (void *)payload, .iov_len = n}};
  send_iov(s, iov, 2);
  expect_video(h, payload, n);
  if (expert) row_set(C_EXPERT, "%s", expert);
  row_print();
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "--fields") == 0) {
    for (int i = 0; i < C_COUNT_; i++)
      puts(column_names[i]);
    return 0;
  }
  if (argc != 4) {
    fprintf(stderr, "usage: wire_sample --fields | DATA_PORT HEUR_PORT SINK_PORT\n");
    return 2;
  }
  g_sink_port = (uint16_t)atoi(argv[3]);
  sock sink = open_sock(g_sink_port);
  sock on_port = open_sock((uint16_t)atoi(argv[1]));
  sock heur = open_sock((uint16_t)atoi(argv[2]));

  /* S = 512, K = 4: a 2100-byte AU is 5 data shards in blocks of 4 and 1,
   * each with m = 2 at 50 %. Indices start just below the 32-bit wrap. */
  bf_packetizer_config cfg;
  bf_packetizer_config_default(&cfg);
  cfg.shard_bytes = 512;
  cfg.max_k = 4;
  cfg.max_frame_bytes = 1u << 16;
  cfg.first_frame_index = 0xFFFFFFFEu;
  cfg.first_stream_seq = 0xFFFFFFFCu;
  bf_packetizer *pk = NULL;
  if (bf_packetizer_new(&cfg, &pk) != 0) {
    fprintf(stderr, "wire_sample: bf_packetizer_new failed\n");
    return 1;
  }
  static uint8_t au[2100];
  fill(au, sizeof au, 7);

  /* --- from the data port: recognised by port --- */
  send_punch(&on_port);
  send_au(pk, &on_port, au, sizeof au, UINT64_C(1700000000123456789),
          BF_AU_KEYFRAME | BF_AU_RECOVERY_POINT, 50);
  send_au(pk, &on_port, NULL, 0, UINT64_C(1700000000140123456),
          BF_AU_RECOVERY_ANCHOR | BF_AU_REPEAT, 0);

  uint8_t zeros[512] = {0};
  bf_header h = {.pts_ns = UINT64_C(1700000000150000000),
                 .frame_index = 9,
                 .stream_seq = 77,
                 .frame_bytes = 0,
                 .user_flags = 0,
                 .block_index = 0,
                 .block_count = 1,
                 .data_shards = 1,
                 .recovery_shards = 0,
                 .shard_index = 0,
                 .shard_bytes = 512,
                 .magic = BF_MAGIC,
                 .version = BF_WIRE_VERSION,
                 .fec_scheme = BF_FEC_SCHEME_CAUCHY8,
                 .flags = BF_PKT_PROBE};
  send_header(&on_port, &h, zeros, sizeof zeros, NULL);

  bf_feedback fb;
  memset(&fb, 0, sizeof fb);
  fb.type = BF_FB_KEYFRAME_REQUEST;
  fb.u.keyframe.request_id = 3;
  fb.u.keyframe.first_lost = 0xFFFFFFFFu;
  fb.u.keyframe.last_lost = 2;
  send_feedback(&on_port, &fb, 0);
  memset(&fb, 0, sizeof fb);
  fb.type = BF_FB_LOSS_REPORT;
  fb.u.loss.window_ms = 750;
  fb.u.loss.packets_received = 123456;
  fb.u.loss.shards_missing = 42;
  fb.u.loss.loss_ppm = 340;
  fb.u.loss.frames_completed = 45;
  fb.u.loss.frames_lost = 1;
  fb.u.loss.shards_recovered = 40;
  fb.u.loss.late_shards = 4000000000u;
  fb.u.loss.loss_runs = 7;
  send_feedback(&on_port, &fb, 0);
  memset(&fb, 0, sizeof fb);
  fb.type = BF_FB_CLOCK_PING;
  fb.u.ping.id = 8;
  fb.u.ping.t1_ns = UINT64_C(18446744073709551615);
  send_feedback(&on_port, &fb, 0);
  memset(&fb, 0, sizeof fb);
  fb.type = BF_FB_CLOCK_PONG;
  fb.u.pong.id = 8;
  fb.u.pong.t1_ns = UINT64_C(1700000001000000001);
  fb.u.pong.t2_ns = UINT64_C(1700000001000500002);
  fb.u.pong.t3_ns = UINT64_C(1700000001000510003);
  send_feedback(&on_port, &fb, 0);
  memset(&fb, 0, sizeof fb);
  fb.type = BF_FB_BYE;
  fb.u.bye.reason = BF_BYE_REPLACED;
  send_feedback(&on_port, &fb, 3); /* with extension bytes, which decoders ignore */
  memset(&fb, 0, sizeof fb);
  fb.type = BF_FB_FRAME_INFO;
  fb.u.frame_info.frame_index = 0xFFFFFFFEu;
  fb.u.frame_info.host_us = 16667;
  send_feedback(&on_port, &fb, 0);

  send_audio_sample(&on_port);
  send_input_sample(&on_port);

  /* Malformed: version 2 and shard_index beyond k + m. */
  h.flags = BF_PKT_PIC | BF_PKT_SOF | BF_PKT_EOF;
  h.version = 2;
  h.shard_index = 5;
  /* Expert messages come in tree order. */
  send_header(&on_port, &h, zeros, sizeof zeros, "shard_index >= k + m,Unknown wire version");

  /* Sealed form: seq (big-endian) + ciphertext + tag; byte 0 is neither 'P'
   * nor 0xFB and byte 36 is not 0xC9. */
  uint8_t sealed[24 + 40 + 512];
  fill(sealed, sizeof sealed, 99);
  const uint64_t seal_seq = UINT64_C(0x0102030405060708);
  for (int i = 0; i < 8; i++)
    sealed[i] = (uint8_t)(seal_seq >> (56 - 8 * i));
  sealed[36] = 0x11;
  send_bytes(&on_port, sealed, sizeof sealed);
  row_set(C_KIND, "sealed");
  row_set(C_SEALED_SEQ, "%" PRIu64, seal_seq);
  row_print();

  /* --- from another port: recognised by the heuristic only --- */
  send_punch(&heur);
  static uint8_t small[600];
  fill(small, sizeof small, 3);
  send_au(pk, &heur, small, sizeof small, UINT64_C(1700000002000000000), 0, 20);
  /* 1500 bytes at S = 512: 3 data + 2 parity packets in one GSO batch. */
  send_au_gso(pk, &heur, au, 1500, UINT64_C(1700000002016666666), BF_AU_KEYFRAME, 50);
  memset(&fb, 0, sizeof fb);
  fb.type = BF_FB_CLOCK_PING;
  fb.u.ping.id = 1;
  fb.u.ping.t1_ns = UINT64_C(1700000002000000007);
  send_feedback(&heur, &fb, 0);
  memset(&fb, 0, sizeof fb);
  fb.type = BF_FB_BYE;
  fb.u.bye.reason = BF_BYE_NORMAL;
  send_feedback(&heur, &fb, 0);

  /* Not ours: the heuristic must leave these alone. */
  uint8_t junk[40 + 512];
  fill(junk, sizeof junk, 5);
  junk[0] = 0x42;
  junk[36] = 0xC8;
  send_bytes(&heur, junk, sizeof junk);
  row_print();
  const uint8_t bad_fb[10] = {BF_FB_MAGIC, 9, 1, 2, 3, 4, 5, 6, 7, 8};
  send_bytes(&heur, bad_fb, sizeof bad_fb);
  row_print();

  bf_packetizer_del(&pk);
  close(heur.fd);
  close(on_port.fd);
  close(sink.fd);
  return 0;
}
