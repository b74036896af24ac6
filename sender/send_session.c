/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Direct-mode session of the sender: see send_session.h.
 */
#include "send_session.h"

#include <string.h>

#define KF_RECENT 4u

void bf_send_session_config_default(bf_send_session_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->silence_ns = 10000000000ull;
  cfg->keyframe_gap_ns = 50000000ull;
}

/* Opens the punch state machine to whoever may start a session. */
static void punch_open(bf_send_session *s) {
  bf_punch_sender_config pc;
  memset(&pc, 0, sizeof pc);
  if (s->cfg.allow_set) {
    pc.allow = &s->cfg.allow;
    pc.n_allow = 1;
  }
  bf_punch_sender_init(&s->punch, &pc, 0);
}

/* Locks the punch state machine to the IP of the client at |from|. */
static void punch_lock(bf_send_session *s, const bf_addr *from, uint64_t now_ns) {
  bf_punch_sender_config pc;
  memset(&pc, 0, sizeof pc);
  pc.expected = *from;
  bf_punch_sender_init(&s->punch, &pc, now_ns);
  bf_punch_sender_on_datagram(&s->punch, (const uint8_t *)BF_PUNCH_MAGIC, BF_PUNCH_BYTES, from,
                              now_ns);
}

void bf_send_session_init(bf_send_session *s, const bf_send_session_config *cfg) {
  memset(s, 0, sizeof *s);
  s->cfg = *cfg;
  punch_open(s);
}

static void adopt(bf_send_session *s, const bf_addr *from, uint64_t now_ns) {
  s->streaming = 1;
  s->authentic = 0;
  s->peer = *from;
  s->last_heard_ns = now_ns;
  s->kf_id_valid = 0;
  s->kf_pending = 1;
  s->kf_adopt = 1;
  s->stats.clients++;
  punch_lock(s, from, now_ns);
}

static void end_streaming(bf_send_session *s) {
  s->streaming = 0;
  s->kf_pending = 0;
  s->kf_adopt = 0;
  punch_open(s);
}

static bf_ss_event on_punch(bf_send_session *s, const uint8_t *d, size_t len, const bf_addr *from,
                            uint64_t now_ns, bf_ss_result *res) {
  if (s->cfg.closed && !s->cfg.allow_set) { /* control mode, no established session */
    s->stats.punches_denied++;
    return BF_SS_NONE;
  }
  bf_punch_event ev = bf_punch_sender_on_datagram(&s->punch, d, len, from, now_ns);
  if (ev == BF_PUNCH_REJECTED || ev == BF_PUNCH_NOT_PUNCH) {
    if (!s->streaming || (s->cfg.allow_set && !bf_addr_same_ip(from, &s->cfg.allow)))
      s->stats.punches_denied++;
    else
      s->stats.punches_busy++;
    return BF_SS_NONE;
  }
  if (s->streaming && s->authentic) { /* sealed: a clear punch proves nothing */
    if (ev != BF_PUNCH_REFRESH) {
      s->stats.punches_unauthenticated++;
      punch_lock(s, &s->peer, now_ns); /* the target stays the client's */
      return BF_SS_NONE;
    }
    s->stats.punches++;
    return BF_SS_NONE;
  }
  s->stats.punches++;
  if (!s->streaming) {
    adopt(s, from, now_ns);
    return BF_SS_ADOPT;
  }
  s->last_heard_ns = now_ns;
  if (ev == BF_PUNCH_REFRESH) return BF_SS_NONE;
  /* same IP, another port: whoever is there now needs a picture to start from */
  res->old_peer = s->peer;
  s->peer = *from;
  s->stats.retargets++;
  s->kf_id_valid = 0;
  s->kf_pending = 1;
  s->kf_adopt = 1;
  return BF_SS_RETARGET;
}

static bf_ss_event on_keyframe_request(bf_send_session *s, const bf_feedback *fb) {
  s->stats.keyframe_requests++;
  uint32_t id = fb->u.keyframe.request_id;
  if (s->kf_id_valid) {
    int32_t age = bf_seq32_diff(s->kf_last_id, id);
    /* a repeat, or a late copy of one of the few ids before it */
    if (age >= 0 && age < (int32_t)KF_RECENT) return BF_SS_NONE;
  }
  s->kf_id_valid = 1;
  s->kf_last_id = id;
  s->stats.keyframe_ids++;
  s->kf_pending = 1;
  return BF_SS_KEYFRAME;
}

bf_ss_event bf_send_session_on_datagram(bf_send_session *s, const uint8_t *d, size_t len,
                                        const bf_addr *from, uint64_t now_ns, bf_ss_result *res) {
  memset(res, 0, sizeof *res);
  if (bf_is_punch(d, len)) return res->event = on_punch(s, d, len, from, now_ns, res);
  if (bf_feedback_decode(d, len, &res->fb) != 0) {
    s->stats.garbage++;
    return res->event = BF_SS_NONE;
  }
  if (s->streaming && s->sealed && !bf_addr_equal(from, &s->peer) &&
      bf_addr_same_ip(from, s->cfg.allow_set ? &s->cfg.allow : &s->peer)) {
    /* authenticated, from the client's IP on another port: its NAT rebound */
    res->old_peer = s->peer;
    s->peer = *from;
    s->authentic = 1;
    s->last_heard_ns = now_ns;
    s->stats.retargets++;
    s->kf_id_valid = 0;
    s->kf_pending = 1;
    s->kf_adopt = 1;
    punch_lock(s, from, now_ns);
    return res->event = BF_SS_RETARGET;
  }
  if (!s->streaming || !bf_addr_equal(from, &s->peer)) {
    s->stats.foreign++;
    return res->event = BF_SS_NONE;
  }
  s->last_heard_ns = now_ns;
  if (s->sealed) s->authentic = 1;
  switch (res->fb.type) {
  case BF_FB_KEYFRAME_REQUEST:
    return res->event = on_keyframe_request(s, &res->fb);
  case BF_FB_LOSS_REPORT:
    s->stats.loss_reports++;
    s->last_loss = res->fb;
    return res->event = BF_SS_LOSS;
  case BF_FB_CLOCK_PING:
    s->stats.pings++;
    return res->event = BF_SS_PING;
  case BF_FB_BYE:
    s->stats.byes++;
    end_streaming(s);
    return res->event = BF_SS_BYE;
  case BF_FB_CLOCK_PONG:
  case BF_FB_FRAME_INFO:
    break; /* only the sender sends these */
  }
  s->stats.garbage++;
  return res->event = BF_SS_NONE;
}

bf_ss_event bf_send_session_tick(bf_send_session *s, uint64_t now_ns) {
  if (!s->streaming || now_ns - s->last_heard_ns < s->cfg.silence_ns) return BF_SS_NONE;
  end_streaming(s);
  s->stats.silences++;
  return BF_SS_SILENT;
}

uint64_t bf_send_session_deadline(const bf_send_session *s) {
  return s->streaming ? s->last_heard_ns + s->cfg.silence_ns : UINT64_MAX;
}

int bf_send_session_take_keyframe(bf_send_session *s, uint64_t now_ns) {
  if (!s->kf_pending) return 0;
  if (!s->kf_adopt) {
    if (s->kf_forced_once && now_ns - s->kf_last_forced_ns < s->cfg.keyframe_gap_ns) return 0;
    s->kf_forced_once = 1;
    s->kf_last_forced_ns = now_ns;
    s->stats.keyframes_forced++;
  }
  s->kf_pending = 0;
  s->kf_adopt = 0;
  return 1;
}

int bf_send_session_allow(bf_send_session *s, const bf_addr *ip) {
  int stop = s->streaming && (!ip || !bf_addr_same_ip(&s->peer, ip));
  s->cfg.allow_set = ip != NULL;
  if (ip) s->cfg.allow = *ip;
  if (stop || !s->streaming) {
    end_streaming(s); /* re-opens the punch state machine to the new IP */
    return stop;
  }
  return 0;
}

void bf_send_session_sealed(bf_send_session *s, int on) {
  s->sealed = on;
  if (!on) s->authentic = 0;
}

void bf_send_session_stop(bf_send_session *s) {
  end_streaming(s);
}
