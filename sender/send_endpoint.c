/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The sender's data endpoint: see send_endpoint.h.
 */
#include "send_endpoint.h"

#include <bildfunk/audio_wire.h>
#include <bildfunk/clock.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

static void send_feedback(bf_send_endpoint *e, const bf_feedback *fb, const bf_addr *to) {
  uint8_t buf[BF_FB_MAX_BYTES];
  int n = bf_feedback_encode(fb, buf, sizeof buf);
  if (n > 0) (void)bf_channel_send(e->ch, buf, (size_t)n, to);
}

void bf_send_endpoint_bye(bf_send_endpoint *e, uint32_t reason, const bf_addr *to) {
  bf_feedback fb;
  memset(&fb, 0, sizeof fb);
  fb.type = BF_FB_BYE;
  fb.u.bye.reason = reason;
  for (int i = 0; i < BF_SEND_EP_BYE_REPEAT; i++)
    send_feedback(e, &fb, to);
  e->byes_sent++;
}

static void pong(bf_send_endpoint *e, const bf_feedback *ping) {
  bf_feedback fb;
  memset(&fb, 0, sizeof fb);
  fb.type = BF_FB_CLOCK_PONG;
  fb.u.pong.id = ping->u.ping.id;
  fb.u.pong.t1_ns = ping->u.ping.t1_ns;
  fb.u.pong.t2_ns = e->batch_realtime_ns;
  fb.u.pong.t3_ns = bf_clock_realtime_ns();
  send_feedback(e, &fb, NULL);
  e->pongs_sent++;
}

void bf_send_endpoint_frame_info(bf_send_endpoint *e, uint32_t frame_index, uint32_t host_us) {
  bf_feedback fb;
  memset(&fb, 0, sizeof fb);
  fb.type = BF_FB_FRAME_INFO;
  fb.u.frame_info.frame_index = frame_index;
  fb.u.frame_info.host_us = host_us;
  send_feedback(e, &fb, NULL);
  e->frame_infos_sent++;
}

/* Sealed direct mode (--seal-key-file): a new client starts its seqs where
 * its own clock says, which need not be near the previous client's: it gets
 * a fresh replay window (the drop counters carry over). At once, so the
 * rest of its batch is judged by the new window. Not in control mode:
 * there every session has its own keys and a fresh opener, and within a
 * session the client's seqs run on; a fresh window on a re-target (a clear
 * punch that anyone sending from the client's IP can make) would let the
 * session's earlier datagrams be replayed. */
static void new_client(bf_send_endpoint *e, const bf_addr *peer) {
  bf_channel_set_peer(e->ch, peer);
  if (e->require_seal || !bf_channel_sealed(e->ch)) return;
  if (bf_channel_renew_opener(e->ch) < 0) {
    fprintf(stderr, "bildfunk-send: sealed data plane: cannot renew the opener\n");
    e->failed = 1;
  }
}

/* Every kind: the session tells punches and feedback apart and counts the
 * rest as garbage. */
static void on_datagram(void *user, const uint8_t *d, size_t len, const bf_addr *from,
                        uint64_t now) {
  bf_send_endpoint *e = user;
  if (now != e->batch_ns) { /* the first datagram of a batch */
    e->batch_ns = now;
    e->batch_realtime_ns = bf_clock_realtime_ns();
  }
  bf_ss_result res;
  switch (bf_send_session_on_datagram(e->ss, d, len, from, now, &res)) {
  case BF_SS_ADOPT:
    new_client(e, from);
    e->audio_request_ns = 0; /* a new client asks for itself */
    break;
  case BF_SS_RETARGET:
    bf_send_endpoint_bye(e, BF_BYE_REPLACED, &res.old_peer);
    new_client(e, from);
    break;
  case BF_SS_BYE:
    bf_channel_set_peer(e->ch, NULL);
    break;
  case BF_SS_PING:
    pong(e, &res.fb);
    return;
  case BF_SS_KEYFRAME:
  case BF_SS_LOSS:
    break;
  default:
    return;
  }
  if (e->ev_n == BF_SEND_EP_EVENTS) return; /* cannot happen: one batch at most */
  bf_send_event *ev = &e->ev[e->ev_n++];
  ev->type = res.event;
  if (from)
    ev->from = *from;
  else
    memset(&ev->from, 0, sizeof ev->from);
  ev->old_peer = res.old_peer;
  ev->fb = res.fb;
  ev->now_ns = now;
}

/* Audio datagrams: a REQUEST from the client asks for sound (direct mode);
 * anything else goes to the session, which counts it as garbage. */
static void on_audio(void *user, const uint8_t *d, size_t len, const bf_addr *from,
                     uint64_t now) {
  bf_send_endpoint *e = user;
  bf_audio_pkt pk;
  const bf_addr *peer = bf_channel_peer(e->ch);
  if (bf_audio_decode(d, len, &pk) == 0 && pk.type == BF_AUDIO_REQUEST && from && peer &&
      bf_addr_equal(from, peer)) {
    e->audio_request_ns = now;
    e->audio_requests++;
    return;
  }
  on_datagram(user, d, len, from, now);
}

int bf_send_endpoint_open(bf_send_endpoint *e, const bf_send_endpoint_config *cfg,
                          bf_send_session *ss, char *err, size_t cap) {
  memset(e, 0, sizeof *e);
  e->ss = ss;
  e->require_seal = cfg->require_seal;
  bf_udp_config uc;
  bf_udp_config_default(&uc);
  uc.bind = cfg->bind;
  uc.gso = cfg->gso;
  if (!cfg->gso) bf_udp_offload_disable();
  bf_transport *t = NULL;
  int r = bf_udp_open(&uc, &t);
  if (r < 0) {
    if (r == -EADDRINUSE)
      snprintf(err, cap, "port %s is busy (is another bildfunk-send running?)", cfg->bind);
    else
      snprintf(err, cap, "cannot listen on %s: %s", cfg->bind, bf_strerror(r));
    return r;
  }
  bf_channel_config cc = {
      .role = BF_CHANNEL_SENDER,
      .now = bf_clock_mono_ns,
      .require_seal = cfg->require_seal,
      .burst_max = cfg->burst_max,
      .max_plain = BF_HEADER_BYTES + cfg->shard_bytes,
      .ring_count = BF_SEND_EP_EVENTS, /* the queue holds a batch's events */
      .send_threads = cfg->send_threads,
  };
  if ((r = bf_channel_new(&cc, t, &e->ch)) < 0) { /* |t| is the channel's now */
    snprintf(err, cap, "receive ring: %s", bf_strerror(r));
    return r;
  }
  for (int k = 0; k < BF_DKIND_COUNT_; k++)
    bf_channel_on(e->ch, (bf_dkind)k, on_datagram, e);
  bf_channel_on(e->ch, BF_DKIND_AUDIO, on_audio, e);
  return 0;
}

void bf_send_endpoint_close(bf_send_endpoint *e) {
  bf_channel_del(&e->ch);
}

int bf_send_endpoint_key(bf_send_endpoint *e, const uint8_t secret[32]) {
  int r = bf_channel_seal(e->ch, secret, bf_clock_realtime_ns());
  bf_send_session_sealed(e->ss, r == 0);
  return r;
}

void bf_send_endpoint_unkey(bf_send_endpoint *e) {
  bf_channel_unseal(e->ch);
  bf_send_session_sealed(e->ss, 0);
}

int bf_send_endpoint_receive(bf_send_endpoint *e) {
  e->ev_n = e->ev_next = 0; /* the loop took the last batch's events */
  return bf_channel_receive(e->ch, 1);
}

int bf_send_endpoint_next_event(bf_send_endpoint *e, bf_send_event *out) {
  if (e->ev_next == e->ev_n) return 0;
  *out = e->ev[e->ev_next++];
  return 1;
}

void bf_send_endpoint_set_peer(bf_send_endpoint *e, const bf_addr *peer) {
  bf_channel_set_peer(e->ch, peer);
}

int bf_send_endpoint_burst(bf_send_endpoint *e, bf_dgram *d, size_t n, int gso) {
  return bf_channel_send_burst(e->ch, d, n, gso);
}

void bf_send_endpoint_on_input(bf_send_endpoint *e, bf_channel_fn fn, void *user) {
  bf_channel_on(e->ch, BF_DKIND_INPUT, fn, user);
}

int bf_send_endpoint_send(bf_send_endpoint *e, const uint8_t *d, size_t len) {
  return bf_channel_send(e->ch, d, len, NULL);
}

int bf_send_endpoint_fd(const bf_send_endpoint *e) {
  return bf_channel_fd(e->ch);
}

bf_transport *bf_send_endpoint_transport(const bf_send_endpoint *e) {
  return bf_channel_transport(e->ch);
}
