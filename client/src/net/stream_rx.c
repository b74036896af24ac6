/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The client's network side (the pump): see stream_rx.h.
 */
#include "stream_rx.h"

#include "seqtrack.h"

#include <bildfunk/channel.h>
#include <bildfunk/clock.h>
#include <bildfunk/wire.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bf_pump {
  bf_pump_config cfg;
  bf_channel *ch; /* the data socket: ring, seal, punch, classifier */
  bf_reassembler *ras;
  bf_clocksync clock;
  char peer_name[BF_ADDR_STRLEN];
  uint64_t last_data_ns;
  uint64_t last_video_ns;
  uint64_t last_fresh_ns; /* the last video datagram the reassembler accepted */
  int bye;                /* acted upon: the session ends */
  uint32_t bye_reason;
  int bye_pending;    /* BYE heard, waiting out the grace period */
  int bye_sealed;     /* ...and it was sealed: authentic, never ignored */
  uint64_t bye_at_ns; /* when the pending BYE arrived */
  uint32_t bye_pending_reason;
  bf_seqtrack order; /* reorders, duplicates, lateness by stream_seq */
  bf_pump_counters n;
  uint64_t window_start_ns;
  bf_reassembler_stats window_ras; /* reassembler counters at the window's start */
  struct {
    uint32_t frame_index, host_us;
    uint8_t have;
  } info[BF_PUMP_FRAME_INFOS]; /* FRAME_INFO by frame_index % size, overwritten */
  bf_pump_input_fn on_input_fn;    /* the input stage's, NULL = none */
  void *on_input_user;
};

static void on_feedback(void *user, const uint8_t *d, size_t len, const bf_addr *from,
                        uint64_t now);
static void on_video(void *user, const uint8_t *d, size_t len, const bf_addr *from, uint64_t now);
static void on_garbage(void *user, const uint8_t *d, size_t len, const bf_addr *from, uint64_t now);

/* Sealed mode from the 32-byte secret. The sealer's first seq is the wall
 * clock in ns, so a client restarted with the same secret never reuses a
 * nonce. */
static int seal_open(bf_pump *p, const uint8_t *secret, char *err, size_t errcap) {
  int r = bf_channel_seal(p->ch, secret, bf_clock_realtime_ns());
  if (r == -ENOTSUP)
    snprintf(err, errcap, "this build has no sealed data plane (no OpenSSL)");
  else if (r < 0)
    snprintf(err, errcap, "sealed data plane: %s", bf_strerror(r));
  return r;
}

int bf_pump_open_transport(const bf_pump_config *cfg, bf_transport *t, bf_pump **out, char *err,
                           size_t errcap) {
  *out = NULL;
  bf_pump *p = calloc(1, sizeof *p);
  if (!p) {
    bf_transport_close(&t); /* ours from here on */
    snprintf(err, errcap, "out of memory");
    return -ENOMEM;
  }
  p->cfg = *cfg;
  bf_addr_format(&t->peer, p->peer_name, sizeof p->peer_name);
  /* the client's channel: only the sender's address, punching it */
  bf_channel_config chc = {
      .role = BF_CHANNEL_CLIENT, .now = cfg->now, .only_from_peer = 1, .punch = 1, .burst_max = 1};
  int r = bf_channel_new(&chc, t, &p->ch);
  if (r < 0) {
    snprintf(err, errcap, "data channel: %s", bf_strerror(r));
    goto fail;
  }
  bf_channel_on(p->ch, BF_DKIND_FEEDBACK, on_feedback, p);
  bf_channel_on(p->ch, BF_DKIND_VIDEO, on_video, p);
  bf_channel_on(p->ch, BF_DKIND_GARBAGE, on_garbage, p);
  bf_reassembler_config rc;
  bf_reassembler_config_default(&rc);
  rc.limits.max_k = (uint16_t)(cfg->max_k ? cfg->max_k : BF_DEFAULT_MAX_K);
  r = bf_reassembler_new(&rc, &p->ras);
  if (r < 0) {
    snprintf(err, errcap, "reassembler: %s", bf_strerror(r));
    goto fail;
  }
  if (cfg->seal_secret && (r = seal_open(p, cfg->seal_secret, err, errcap)) < 0) goto fail;
  p->cfg.seal_secret = NULL; /* not kept */
  uint64_t now = cfg->now();
  bf_clocksync_init(&p->clock, NULL, now);
  p->window_start_ns = now;
  bf_seqtrack_init(&p->order);
  *out = p;
  return 0;
fail:
  bf_pump_close(&p, 0);
  return r;
}

int bf_pump_open(const bf_pump_config *cfg, bf_pump **out, char *err, size_t errcap) {
  *out = NULL;
  bf_addr peer;
  int r = bf_addr_parse(cfg->direct, BF_DEFAULT_DATA_PORT, &peer);
  if (r < 0) {
    snprintf(err, errcap, "%s: %s", cfg->direct,
             r == -ENOENT ? "host not found" : "not HOST[:PORT] with a port 1..65535");
    return r;
  }
  bf_udp_config uc;
  bf_udp_config_default(&uc);
  uc.bind = cfg->bind ? cfg->bind : (peer.ss.ss_family == AF_INET6 ? "[::]:0" : "0.0.0.0:0");
  uc.quiet = 1;
  uc.gso = 0; /* the client sends only small feedback datagrams */
  /* one read per train of equal-size datagrams where the kernel has GRO
   * (the transport falls back to recvmmsg where it has not) */
  const char *no_gro = getenv("BILDFUNK_NO_GRO");
  uc.gro = !(no_gro && *no_gro);
  bf_transport *t = NULL;
  r = bf_udp_open(&uc, &t);
  if (r < 0) {
    snprintf(err, errcap, "cannot open a UDP socket on %s: %s", uc.bind, bf_strerror(r));
    return r;
  }
  bf_transport_set_peer(t, &peer);
  return bf_pump_open_transport(cfg, t, out, err, errcap);
}

static void on_input(void *user, const uint8_t *d, size_t len, const bf_addr *from, uint64_t now) {
  (void)from; /* the channel takes datagrams from the sender's address only */
  bf_pump *p = user;
  p->on_input_fn(p->on_input_user, d, len, now);
}

void bf_pump_on_input(bf_pump *p, bf_pump_input_fn fn, void *user) {
  p->on_input_fn = fn;
  p->on_input_user = user;
  bf_channel_on(p->ch, BF_DKIND_INPUT, fn ? on_input : NULL, p);
}

int bf_pump_send_input(bf_pump *p, const uint8_t *d, size_t len) {
  return bf_channel_send(p->ch, d, len, NULL);
}

int bf_pump_rekey(bf_pump *p, const uint8_t *secret, const char *data_addr, char *err,
                  size_t errcap) {
  bf_addr peer;
  int r = bf_addr_parse(data_addr, BF_DEFAULT_DATA_PORT, &peer);
  if (r < 0) {
    snprintf(err, errcap, "%s: %s", data_addr, bf_strerror(r));
    return r;
  }
  if ((r = seal_open(p, secret, err, errcap)) < 0) return r;
  bf_channel_set_peer(p->ch, &peer);
  bf_addr_format(&peer, p->peer_name, sizeof p->peer_name);
  bf_channel_punch_restart(p->ch, p->cfg.now());
  bf_pump_clear_bye(p);
  return 0;
}

int bf_pump_send_feedback(bf_pump *p, const bf_feedback *fb) {
  uint8_t buf[BF_FB_MAX_BYTES];
  int n = bf_feedback_encode(fb, buf, sizeof buf);
  if (n < 0) return n;
  int r = bf_channel_send(p->ch, buf, (size_t)n, NULL);
  if (r == 1)
    p->n.feedback_sent++;
  else if (r == 0)
    p->n.feedback_dropped++;
  return r;
}

void bf_pump_close(bf_pump **pp, int send_bye) {
  bf_pump *p = *pp;
  if (!p) return;
  if (send_bye && p->ch) {
    bf_feedback fb;
    memset(&fb, 0, sizeof fb);
    fb.type = BF_FB_BYE;
    fb.u.bye.reason = BF_BYE_NORMAL;
    for (int i = 0; i < 3; i++)
      bf_pump_send_feedback(p, &fb);
  }
  bf_reassembler_del(&p->ras);
  bf_channel_del(&p->ch);
  free(p);
  *pp = NULL;
}

static uint32_t le32(const uint8_t *d) {
  return (uint32_t)d[0] | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 16 | (uint32_t)d[3] << 24;
}

static void on_garbage(void *user, const uint8_t *d, size_t len, const bf_addr *from,
                       uint64_t now) {
  (void)d, (void)len, (void)from, (void)now;
  ((bf_pump *)user)->n.garbage++;
}

static void on_feedback(void *user, const uint8_t *d, size_t len, const bf_addr *from,
                        uint64_t now) {
  (void)from;
  bf_pump *p = user;
  bf_feedback fb;
  if (bf_feedback_decode(d, len, &fb) != 0) {
    p->n.garbage++;
    return;
  }
  p->n.control++;
  switch (fb.type) {
  case BF_FB_CLOCK_PONG:
    p->n.pongs++;
    if (bf_clocksync_on_pong(&p->clock, fb.u.pong.id, fb.u.pong.t1_ns, fb.u.pong.t2_ns,
                             fb.u.pong.t3_ns, now) >= 0)
      p->last_data_ns = now;
    break;
  case BF_FB_BYE:
    p->n.byes++;
    p->last_data_ns = now;
    if (!p->bye_pending && !p->bye) {
      /* sealed: it was opened, so the sender sent it, but video it sent
       * before may still be on its way (reordered behind it); clear mode:
       * anyone who knows the sender's address can forge this, believe it
       * only if the video stops too (settle_bye) */
      p->bye_pending = 1;
      p->bye_sealed = bf_channel_sealed(p->ch);
      p->bye_at_ns = now;
      p->bye_pending_reason = fb.u.bye.reason;
    }
    break;
  case BF_FB_FRAME_INFO: {
    p->n.frame_infos++;
    uint32_t i = fb.u.frame_info.frame_index % BF_PUMP_FRAME_INFOS;
    p->info[i].frame_index = fb.u.frame_info.frame_index;
    p->info[i].host_us = fb.u.frame_info.host_us;
    p->info[i].have = 1;
    break;
  }
  default:
    p->n.garbage++;
    break; /* client-bound types only */
  }
}

int bf_pump_frame_info(const bf_pump *p, uint32_t frame_index, uint32_t *host_us) {
  uint32_t i = frame_index % BF_PUMP_FRAME_INFOS;
  if (!p->info[i].have || p->info[i].frame_index != frame_index) return 0;
  *host_us = p->info[i].host_us;
  return 1;
}

static void on_video(void *user, const uint8_t *d, size_t len, const bf_addr *from, uint64_t now) {
  (void)from;
  bf_pump *p = user;
  p->n.video++;
  /* Video after a long silence is a new stream as far as we know (a sender
   * that restarted counts its frames from 0 again): forget the old index
   * window instead of rejecting the new indices as stale. */
  if (p->last_video_ns && now - p->last_video_ns > BF_PUMP_RESUME_NS && len >= BF_HEADER_BYTES &&
      d[36] == BF_MAGIC) {
    bf_reassembler_reset(p->ras);
    bf_seqtrack_restart(&p->order);
    memset(p->info, 0, sizeof p->info); /* its frame indices start over */
    p->n.resumes++;
  }
  bf_reject v = bf_reassembler_push(p->ras, d, len, now);
  /* Everything that passed the stateless header checks was sent by the
   * sender (duplicates here are mostly parity of an already complete block),
   * so it counts as received for the loss figure; an index far ahead of the
   * window (jump) is not believed, so it keeps nothing alive. */
  if (v != BF_ACCEPT && (v < BF_REJECT_PROBE || v == BF_REJECT_JUMP)) return;
  if (v == BF_ACCEPT) {
    p->n.accepted++;
    p->last_fresh_ns = now;
  }
  p->last_data_ns = now;
  p->last_video_ns = now;
  /* order and the loss windows by stream_seq (duplicates count once) */
  bf_seqtrack_push(&p->order, le32(d + 12), now);
}

/* When a pending BYE is acted upon: BF_PUMP_BYE_GRACE_NS after it or after
 * the last fresh video (a shard the reassembler accepted) behind it; a
 * sealed one at most BF_PUMP_BYE_CANCEL_NS after it. */
static uint64_t bye_due(const bf_pump *p) {
  uint64_t ref = p->last_fresh_ns > p->bye_at_ns ? p->last_fresh_ns : p->bye_at_ns;
  uint64_t due = ref + BF_PUMP_BYE_GRACE_NS;
  if (p->bye_sealed && p->bye_at_ns + BF_PUMP_BYE_CANCEL_NS < due)
    due = p->bye_at_ns + BF_PUMP_BYE_CANCEL_NS;
  return due;
}

/* A BYE is acted upon once no fresh video came for BF_PUMP_BYE_GRACE_NS
 * after it (stragglers reordered behind it are still taken). Clear mode:
 * fresh video still arriving BF_PUMP_BYE_CANCEL_NS after it means the
 * sender is streaming: ignored; stale, duplicate or contradicting datagrams
 * (a flood from the spoofed address) count for neither. Sealed: authentic,
 * so acted upon BF_PUMP_BYE_CANCEL_NS after it at the latest. */
static void settle_bye(bf_pump *p, uint64_t now) {
  if (!p->bye_pending) return;
  if (!p->bye_sealed && p->last_fresh_ns > p->bye_at_ns &&
      p->last_fresh_ns - p->bye_at_ns >= BF_PUMP_BYE_CANCEL_NS) {
    p->bye_pending = 0;
    p->n.byes_ignored++;
    return;
  }
  if (now < bye_due(p)) return;
  p->bye_pending = 0;
  p->bye = 1;
  p->bye_reason = p->bye_pending_reason;
}

int bf_pump_receive(bf_pump *p, size_t max_batches) {
  settle_bye(p, p->cfg.now());
  int r = bf_channel_receive(p->ch, max_batches);
  if (r > 0) settle_bye(p, p->cfg.now()); /* what the batches brought */
  return r;
}

int bf_pump_event(bf_pump *p, bf_event *ev) {
  return bf_reassembler_poll(p->ras, ev);
}
void bf_pump_release(bf_pump *p, bf_frame *f) {
  bf_reassembler_release(p->ras, f);
}
void bf_pump_reset_reassembly(bf_pump *p) {
  bf_reassembler_reset(p->ras);
}

static uint32_t clamp32(uint64_t v) {
  return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

int bf_pump_tick(bf_pump *p, uint64_t now, bf_pump_window *win) {
  settle_bye(p, now);
  bf_channel_tick(p->ch, now);
  uint32_t id;
  if (bf_clocksync_poll(&p->clock, now, &id)) {
    bf_feedback fb;
    memset(&fb, 0, sizeof fb);
    fb.type = BF_FB_CLOCK_PING;
    fb.u.ping.id = id;
    fb.u.ping.t1_ns = now;
    bf_pump_send_feedback(p, &fb);
  }
  if (now - p->window_start_ns < BF_FB_LOSS_WINDOW_NS) return 0;
  bf_reassembler_stats rs;
  bf_reassembler_stats_get(p->ras, &rs);
  /* settled is judged at the last time the socket was empty: a datagram
   * still queued in it (the loop was busy) is not missing */
  bf_seqtrack_window sw;
  uint64_t drained = bf_channel_drained_ns(p->ch);
  bf_seqtrack_close_window(&p->order, drained && drained < now ? drained : now, &sw);
  memset(win, 0, sizeof *win);
  win->window_ns = now - p->window_start_ns;
  win->expected = sw.expected;
  win->received = sw.received;
  win->credited = sw.credited;
  win->uncredited = sw.uncredited;
  win->settle_ns = sw.settle_ns;
  win->open = sw.open;
  win->frames_completed = rs.frames_completed - p->window_ras.frames_completed;
  win->frames_lost = rs.frames_lost - p->window_ras.frames_lost;
  win->shards_recovered = rs.shards_recovered - p->window_ras.shards_recovered;
  win->late_shards = rs.late_shards - p->window_ras.late_shards;
  p->window_ras = rs;
  p->window_start_ns = now;
  /* a window with no video says nothing about the network */
  if (win->expected || win->frames_completed || win->frames_lost) {
    bf_feedback fb;
    memset(&fb, 0, sizeof fb);
    fb.type = BF_FB_LOSS_REPORT;
    fb.u.loss.window_ms = clamp32(win->window_ns / 1000000u);
    fb.u.loss.packets_received = clamp32(win->received);
    fb.u.loss.shards_missing = clamp32(win->expected - win->received);
    fb.u.loss.loss_ppm =
        win->expected ? clamp32((win->expected - win->received) * 1000000u / win->expected) : 0;
    fb.u.loss.frames_completed = clamp32(win->frames_completed);
    fb.u.loss.frames_lost = clamp32(win->frames_lost);
    fb.u.loss.shards_recovered = clamp32(win->shards_recovered);
    fb.u.loss.late_shards = clamp32(win->late_shards);
    fb.u.loss.loss_runs =
        clamp32(sw.lost_runs < win->expected - win->received ? sw.lost_runs
                                                             : win->expected - win->received);
    bf_pump_send_feedback(p, &fb);
  }
  return 1;
}

uint64_t bf_pump_next_due(const bf_pump *p) {
  uint64_t due = bf_channel_next_due(p->ch);
  uint64_t c = bf_clocksync_next_due(&p->clock);
  if (c < due) due = c;
  uint64_t w = p->window_start_ns + BF_FB_LOSS_WINDOW_NS;
  if (w < due) due = w;
  if (p->bye_pending && bye_due(p) < due) due = bye_due(p);
  return due;
}

int bf_pump_fd(const bf_pump *p) {
  return bf_channel_fd(p->ch);
}

uint64_t bf_pump_last_data_ns(const bf_pump *p) {
  return p->last_data_ns;
}

int bf_pump_bye(const bf_pump *p, uint32_t *reason) {
  if (reason) *reason = p->bye_reason;
  return p->bye;
}

void bf_pump_clear_bye(bf_pump *p) {
  p->bye = 0;
  p->bye_pending = 0;
}

uint64_t bf_pump_reorder_ns(bf_pump *p, uint64_t now_ns) {
  return bf_seqtrack_lateness(&p->order, now_ns);
}
int bf_pump_seal_stats(const bf_pump *p, bf_opener_stats *st) {
  return bf_channel_seal_stats(p->ch, st);
}

const bf_clocksync *bf_pump_clock(const bf_pump *p) {
  return &p->clock;
}
void bf_pump_counters_get(const bf_pump *p, bf_pump_counters *c) {
  bf_channel_stats cs;
  bf_channel_stats_get(p->ch, &cs);
  *c = p->n;
  c->datagrams = cs.datagrams;
  c->foreign = cs.foreign;
  c->batches = cs.batches;
  c->gro = (uint64_t)cs.gro;
  c->rx_coalesced = bf_channel_transport(p->ch)->stats.rx_coalesced;
  c->punches = cs.punches_sent;
  c->sealed = cs.sealed;
  c->seal_failed = cs.seal_failed;
  /* kinds nobody here reads (audio, input) are garbage to this client; a
   * punch from the sender opens its NAT (protocol.md 7.1): counted apart */
  c->garbage += cs.unhandled[BF_DKIND_AUDIO] + cs.unhandled[BF_DKIND_INPUT];
  c->punches_rx = cs.by_kind[BF_DKIND_PUNCH];
  c->reordered = p->order.reordered;
  c->duplicates = p->order.duplicates;
  c->reorder_late_max_ns = p->order.late_max_ns;
  c->late_after_window = p->order.late_closed;
}
void bf_pump_reassembler_stats(const bf_pump *p, bf_reassembler_stats *s) {
  bf_reassembler_stats_get(p->ras, s);
}
const char *bf_pump_peer_name(const bf_pump *p) {
  return p->peer_name;
}
bf_transport *bf_pump_transport(bf_pump *p) {
  return bf_channel_transport(p->ch);
}
bf_channel *bf_pump_channel(bf_pump *p) {
  return p->ch;
}
