/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Control session state machine: TLS 1.3 + control messages + pins and
 * pairing, both roles, sans-I/O. See bildfunk/ctl_session.h for the flow.
 *
 * Received bytes go into the TLS endpoint; decrypted bytes are kept in
 * |rx| and run through the framer only while the event ring has room, so
 * a burst of messages is never dropped, only delayed until the caller has
 * polled. Every path that ends the session goes through close_local() or
 * peer_bye(), which emit exactly one CLOSED event.
 */
#include <bildfunk/ctl_session.h>

#include <bildfunk/seal.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#define RX_BYTES 16384u
#define EV_PUMP_LIMIT (BF_CTL_EVENTS - 3u) /* room kept for PAIRED, ESTABLISHED, CLOSED */

struct bf_ctl_session {
  bf_ctl_session_cfg cfg;
  char peer_name[BF_PIN_MAX_NAME + 1]; /* client: host the sender's pin is under */
  bf_tls *tls;
  bf_ctl_state st;
  uint64_t t_start, last_rx, last_tx, confirm_deadline;
  uint8_t peer_fp[BF_FP_BYTES];
  char code[BF_PAIR_CODE_DIGITS + 1];   /* the client shows it, the sender's user types it */
  char code_s[BF_PAIR_CODE_DIGITS + 1]; /* the sender shows it, the client's user types it */
  int pairing;                          /* client: PairRequest sent; sender: PairRequest accepted */
  int paired;                           /* client: PairResult ok received */
  int saving; /* sender: accepted and pinned; PairResult waits for pin_saved */
  /* Commit-then-reveal (docs/security.md): the code is derived from the
   * exporter and both nonces only once n_c is revealed. */
  int committed; /* client: PairCommit sent; sender: PairCommit received, PairNonce sent */
  int revealed;  /* client: PairNonce received, PairReveal sent, code shown;
                    sender: PairReveal matched the commitment, code known */
  uint8_t pair_exp[BF_CTL_PAIR_EXPORTER_BYTES]; /* exporter, BF_PAIR_EXPORTER_LABEL */
  uint8_t n_c[BF_CTL_PAIR_NONCE_BYTES];         /* the client's nonce */
  uint8_t n_s[BF_CTL_PAIR_NONCE_BYTES];         /* the sender's nonce */
  uint8_t commit[BF_CTL_PAIR_COMMIT_BYTES];     /* sender: the client's PairCommit */
  int have_hello;
  bf_ctl_hello hello; /* the client's Hello (own on the client) */
  bf_ctl_welcome welcome;
  uint8_t seal[BF_SEAL_EXPORTER_BYTES];
  int have_seal;
  size_t rx_off, rx_len;
  unsigned ev_head, ev_n;
  bf_ctl_event ev[BF_CTL_EVENTS];
  uint8_t rx[RX_BYTES];
  bf_ctl_framer framer;
};

/* ---- negotiation --------------------------------------------------------- */

static uint16_t even_down(uint32_t v) {
  return (uint16_t)(v & ~1u);
}

int bf_ctl_negotiate(const bf_ctl_offer *o, const bf_ctl_hello *h, bf_ctl_welcome *w,
                     const char **why) {
  const char *dummy;
  if (!why) why = &dummy;
  *why = "";
  if (!o || !h || !w) return -EINVAL;
  memset(w, 0, sizeof *w);
  uint8_t codec = 0;
  for (size_t i = 0; i < sizeof o->codec_pref && o->codec_pref[i]; i++) {
    uint8_t c = o->codec_pref[i];
    if (c >= 1 && c <= BF_CTL_MAX_CODEC && (h->codecs & BF_CTL_CODEC_BIT(c))) {
      codec = c;
      break;
    }
  }
  if (!codec) {
    *why = "no codec that both the sender and the client support";
    return -ENOTSUP;
  }
  int sealed = o->sealed == 2 || (o->sealed == 1 && (h->caps & BF_CTL_CAP_SEALED));
  if (sealed && !(h->caps & BF_CTL_CAP_SEALED)) {
    *why = "the sender requires an encrypted data plane and the client cannot do it";
    return -ENOTSUP;
  }
  /* Size: scale down to fit, keeping the aspect ratio. */
  uint32_t wd = o->width ? o->width : 1, ht = o->height ? o->height : 1;
  if (wd > h->max_width || ht > h->max_height) {
    /* factor = min(max_w / w, max_h / h), in integer arithmetic */
    if ((uint64_t)h->max_width * ht <= (uint64_t)h->max_height * wd) {
      ht = (uint32_t)((uint64_t)ht * h->max_width / wd);
      wd = h->max_width;
    } else {
      wd = (uint32_t)((uint64_t)wd * h->max_height / ht);
      ht = h->max_height;
    }
    if (wd > 1) wd &= ~1u;
    if (ht > 1) ht &= ~1u;
    if (!wd) wd = 1;
    if (!ht) ht = 1;
  }
  uint32_t fps = o->fps ? o->fps : 1;
  if (fps > h->max_fps) fps = h->max_fps;
  /* Shard: what the offer, the client and its MTU (IPv4 20 + UDP 8 + header
   * 40 [+ seal 24]) allow. */
  uint32_t over = 20u + 8u + BF_HEADER_BYTES + (sealed ? BF_SEAL_OVERHEAD : 0u);
  uint32_t by_mtu = h->mtu > over ? h->mtu - over : 0;
  uint32_t shard = o->shard_bytes;
  if (shard > h->shard_bytes) shard = h->shard_bytes;
  if (shard > by_mtu) shard = by_mtu;
  if (shard > BF_MAX_SHARD) shard = BF_MAX_SHARD;
  shard = even_down(shard);
  if (shard < 512u) {
    *why = "the client's MTU or shard size is too small for a shard of 512 bytes";
    return -ENOTSUP;
  }
  w->proto_version = h->proto_version < BF_CTL_PROTOCOL_VERSION ? h->proto_version
                                                                : (uint16_t)BF_CTL_PROTOCOL_VERSION;
  w->width = (uint16_t)wd;
  w->height = (uint16_t)ht;
  w->fps = (uint16_t)fps;
  w->codec = codec;
  w->fec_percent = o->fec_percent;
  w->shard_bytes = (uint16_t)shard;
  w->max_k = o->max_k;
  w->data_port = o->data_port;
  w->max_frame_bytes = o->max_frame_bytes;
  w->bitrate_kbps = o->bitrate_kbps;
  w->flags = sealed ? BF_CTL_WELCOME_SEALED : 0u;
  if ((o->grants & BF_CTL_WELCOME_INPUT) && (h->caps & BF_CTL_CAP_INPUT))
    w->flags |= BF_CTL_WELCOME_INPUT;
  if ((o->grants & BF_CTL_WELCOME_AUDIO) && (h->caps & BF_CTL_CAP_AUDIO))
    w->flags |= BF_CTL_WELCOME_AUDIO;
  if ((o->grants & BF_CTL_WELCOME_RELAY) && (h->caps & BF_CTL_CAP_RELAY))
    w->flags |= BF_CTL_WELCOME_RELAY;
  bf_ctl_msg m = {.type = BF_CTL_WELCOME};
  m.u.welcome = *w;
  if (bf_ctl_validate(&m, why)) return -EINVAL; /* the offer itself is out of range */
  return 0;
}

static int sha256(const uint8_t *in, size_t len, uint8_t out[32]) {
  unsigned hl = 0;
  return EVP_Digest(in, len, out, &hl, EVP_sha256(), NULL) == 1 && hl == 32 ? 0 : -EIO;
}

/* The code from the exporter and both nonces; the exporter is wiped. */
static int derive_code(bf_ctl_session *s) {
  int rc = bf_ctl_pair_codes(s->pair_exp, s->n_c, s->n_s, s->code, s->code_s);
  OPENSSL_cleanse(s->pair_exp, sizeof s->pair_exp);
  return rc;
}

/* ---- events and output --------------------------------------------------- */

static bf_ctl_event *ev_push(bf_ctl_session *s, bf_ctl_event_type type) {
  if (s->ev_n == BF_CTL_EVENTS) { /* cannot happen with EV_PUMP_LIMIT; keep the newest */
    s->ev_head = (s->ev_head + 1) % BF_CTL_EVENTS;
    s->ev_n--;
  }
  bf_ctl_event *e = &s->ev[(s->ev_head + s->ev_n++) % BF_CTL_EVENTS];
  memset(e, 0, sizeof *e);
  e->type = type;
  memcpy(e->peer_fp, s->peer_fp, sizeof e->peer_fp);
  return e;
}

static int send_msg(bf_ctl_session *s, const bf_ctl_msg *m, uint64_t now) {
  uint8_t buf[BF_CTL_MAX_ENCODED];
  int n = bf_ctl_encode(m, buf, sizeof buf);
  if (n < 0) return n;
  int rc = bf_tls_write(s->tls, buf, (size_t)n);
  if (!rc) s->last_tx = now;
  return rc;
}

/* Ends the session from this side: Bye (when TLS is up) + close_notify. */
static void close_local(bf_ctl_session *s, uint32_t reason, uint64_t now, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void close_local(bf_ctl_session *s, uint32_t reason, uint64_t now, const char *fmt, ...) {
  if (s->st == BF_CTL_ST_CLOSED) return;
  bf_ctl_event *e = ev_push(s, BF_CTL_EV_CLOSED);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(e->text, sizeof e->text, fmt, ap);
  va_end(ap);
  e->reason = reason;
  if (bf_tls_established(s->tls)) {
    bf_ctl_msg m = {.type = BF_CTL_BYE};
    m.u.bye.reason = reason;
    /* The wire forbids control characters; our texts have none but may
     * carry peer names, which the codec already checked. */
    snprintf(m.u.bye.text, sizeof m.u.bye.text, "%s", e->text);
    (void)send_msg(s, &m, now);
  }
  bf_tls_shutdown(s->tls);
  s->st = BF_CTL_ST_CLOSED;
}

static void peer_bye(bf_ctl_session *s, const bf_ctl_msg *m) {
  bf_ctl_event *e = ev_push(s, BF_CTL_EV_CLOSED);
  e->reason = m->u.bye.reason;
  e->by_peer = 1;
  memcpy(e->text, m->u.bye.text, sizeof e->text);
  bf_tls_shutdown(s->tls);
  s->st = BF_CTL_ST_CLOSED;
}

static void establish(bf_ctl_session *s) {
  if (bf_tls_export(s->tls, BF_SEAL_EXPORTER_LABEL, s->seal, sizeof s->seal) == 0) s->have_seal = 1;
  s->st = BF_CTL_ST_ESTABLISHED;
  bf_ctl_event *e = ev_push(s, BF_CTL_EV_ESTABLISHED);
  e->hello = s->hello;
  e->welcome = s->welcome;
  memcpy(e->peer_fp, s->peer_fp, sizeof e->peer_fp);
  /* the sender knows a client by the name it was paired under: its Hello
   * may claim any name (e->hello.name keeps the claim) */
  const bf_pin *pin =
      s->cfg.role == BF_TLS_SERVER ? bf_pinstore_find_fp(s->cfg.pins, s->peer_fp) : NULL;
  snprintf(e->peer_name, sizeof e->peer_name, "%s",
           s->cfg.role == BF_TLS_CLIENT ? s->peer_name
           : pin                        ? pin->name
                                        : s->hello.name);
}

/* Pins the peer in the store, in memory, and hands the pin up to be saved. */
static int pin_peer(bf_ctl_session *s, const char *name, int unique_name) {
  int rc = bf_pinstore_put(s->cfg.pins, s->peer_fp, name, s->cfg.wall_unix, unique_name);
  if (rc) return rc;
  bf_ctl_event *e = ev_push(s, BF_CTL_EV_PAIRED);
  snprintf(e->peer_name, sizeof e->peer_name, "%s", name);
  e->paired_unix = s->cfg.wall_unix;
  e->unique_name = unique_name;
  return 0;
}

/* ---- sender side --------------------------------------------------------- */

static void server_welcome(bf_ctl_session *s, uint64_t now) {
  const char *why = "";
  if (bf_ctl_negotiate(&s->cfg.offer, &s->hello, &s->welcome, &why)) {
    close_local(s, BF_CTL_BYE_NO_MODE, now, "no common mode: %s", why);
    return;
  }
  bf_ctl_msg m = {.type = BF_CTL_WAKE_INFO}; /* the MACs first, if any (protocol.md 15.2) */
  m.u.wake_info.count = s->cfg.wake_count;
  memcpy(m.u.wake_info.mac, s->cfg.wake_mac, sizeof m.u.wake_info.mac);
  int rc = m.u.wake_info.count ? send_msg(s, &m, now) : 0;
  m.type = BF_CTL_WELCOME;
  m.u.welcome = s->welcome;
  if (!rc) rc = send_msg(s, &m, now);
  if (rc) {
    close_local(s, BF_CTL_BYE_ERROR, now, "sending Welcome failed: %s", bf_strerror(rc));
    return;
  }
  establish(s);
}

static void server_msg(bf_ctl_session *s, const bf_ctl_msg *m, uint64_t now) {
  if (s->st == BF_CTL_ST_SETUP && m->type == BF_CTL_PAIR_REQUEST && !s->have_hello && !s->pairing) {
    bf_ctl_msg r = {.type = BF_CTL_PAIR_RESULT};
    uint64_t retry = 0;
    if (s->cfg.pairing_disabled) {
      r.u.pair_result.status = BF_CTL_PAIR_DISABLED;
      (void)send_msg(s, &r, now);
      close_local(s, BF_CTL_BYE_PAIR_FAILED, now,
                  "pairing refused: this sender does not accept new clients");
      return;
    }
    /* this address's budget first: its refusal spends nothing of the sender's */
    int peer = s->cfg.limiter_peer && bf_pair_limiter_try(s->cfg.limiter_peer, now, &retry);
    if (peer || (s->cfg.limiter && bf_pair_limiter_try(s->cfg.limiter, now, &retry))) {
      uint64_t ms = (retry + 999999u) / 1000000u;
      r.u.pair_result.status = BF_CTL_PAIR_RATE_LIMITED;
      r.u.pair_result.retry_after_ms = ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
      (void)send_msg(s, &r, now);
      close_local(s, BF_CTL_BYE_PAIR_FAILED, now,
                  "pairing refused: too many pairing attempts%s, try again in %llu s",
                  peer ? " from this address" : "", (unsigned long long)((ms + 999u) / 1000u));
      return;
    }
    s->pairing = 1;
    return;
  }
  if (s->st == BF_CTL_ST_SETUP && m->type == BF_CTL_PAIR_COMMIT && s->pairing && !s->committed &&
      !s->have_hello) {
    /* n_s is drawn only now, after the client is bound to n_c. */
    memcpy(s->commit, m->u.pair_commit.hash, sizeof s->commit);
    if (RAND_bytes(s->n_s, (int)sizeof s->n_s) != 1) {
      close_local(s, BF_CTL_BYE_ERROR, now, "pairing: no random bytes for the nonce");
      return;
    }
    bf_ctl_msg r = {.type = BF_CTL_PAIR_NONCE};
    memcpy(r.u.pair_nonce.nonce, s->n_s, sizeof s->n_s);
    int rc = send_msg(s, &r, now);
    if (rc) {
      close_local(s, BF_CTL_BYE_ERROR, now, "sending PairNonce failed: %s", bf_strerror(rc));
      return;
    }
    s->committed = 1;
    return;
  }
  if (s->st == BF_CTL_ST_SETUP && m->type == BF_CTL_PAIR_REVEAL && s->committed && !s->revealed &&
      !s->have_hello) {
    uint8_t h[BF_CTL_PAIR_COMMIT_BYTES];
    memcpy(s->n_c, m->u.pair_nonce.nonce, sizeof s->n_c);
    int bad = sha256(s->n_c, sizeof s->n_c, h) || CRYPTO_memcmp(h, s->commit, sizeof h) != 0;
    if (bad) {
      bf_ctl_msg r = {.type = BF_CTL_PAIR_RESULT};
      r.u.pair_result.status = BF_CTL_PAIR_WRONG_CODE;
      (void)send_msg(s, &r, now);
      close_local(s, BF_CTL_BYE_PAIR_FAILED, now,
                  "pairing failed: the client's pair_reveal does not match its pair_commit");
      return;
    }
    if (derive_code(s)) {
      close_local(s, BF_CTL_BYE_ERROR, now, "pairing: deriving the code failed");
      return;
    }
    s->revealed = 1;
    return;
  }
  if (s->st == BF_CTL_ST_SETUP && m->type == BF_CTL_HELLO && !s->have_hello && s->pairing &&
      !s->revealed) {
    close_local(s, BF_CTL_BYE_MALFORMED, now,
                "unexpected hello from the client: pairing needs pair_commit and pair_reveal "
                "before hello");
    return;
  }
  if (s->st == BF_CTL_ST_SETUP && m->type == BF_CTL_HELLO && !s->have_hello) {
    s->hello = m->u.hello;
    s->have_hello = 1;
    if (s->pairing) {
      s->st = BF_CTL_ST_CONFIRM;
      s->confirm_deadline =
          now + (s->cfg.confirm_ns ? s->cfg.confirm_ns : BF_CTL_CONFIRM_DEFAULT_NS);
      bf_ctl_event *e = ev_push(s, BF_CTL_EV_CONFIRM_CODE);
      memcpy(e->code, s->code, sizeof e->code);
      memcpy(e->code_peer, s->code_s, sizeof e->code_peer);
      snprintf(e->peer_name, sizeof e->peer_name, "%s", s->hello.name);
      e->hello = s->hello;
      return;
    }
    if (!bf_pinstore_find_fp(s->cfg.pins, s->peer_fp)) {
      close_local(s, BF_CTL_BYE_NOT_PAIRED, now,
                  "this client is not paired with this sender (or its pairing was revoked): "
                  "run 'bildfunk pair HOST' and confirm the code shown on the sender");
      return;
    }
    server_welcome(s, now);
    return;
  }
  if (s->st == BF_CTL_ST_ESTABLISHED &&
      (m->type == BF_CTL_CLOCK_PING || m->type == BF_CTL_KEYFRAME_REQUEST ||
       m->type == BF_CTL_LOSS_REPORT || m->type == BF_CTL_RELAY_OFFER ||
       m->type == BF_CTL_RELAY_FAILED || m->type == BF_CTL_DATA_ADDR)) {
    ev_push(s, BF_CTL_EV_MESSAGE)->msg = *m;
    return;
  }
  close_local(s, BF_CTL_BYE_MALFORMED, now, "unexpected %s from the client",
              bf_ctl_type_name(m->type));
}

/* ---- client side --------------------------------------------------------- */

static const char *welcome_unfit(const bf_ctl_hello *h, const bf_ctl_welcome *w) {
  if (w->proto_version > h->proto_version) return "a newer protocol version";
  if (!(h->codecs & BF_CTL_CODEC_BIT(w->codec))) return "a codec the client cannot decode";
  if (w->width > h->max_width || w->height > h->max_height) return "a larger picture";
  if (w->fps > h->max_fps) return "a higher frame rate";
  if (w->shard_bytes > h->shard_bytes) return "larger shards";
  if ((w->flags & BF_CTL_WELCOME_SEALED) && !(h->caps & BF_CTL_CAP_SEALED))
    return "a sealed data plane";
  return NULL;
}

static void client_send_hello(bf_ctl_session *s, uint64_t now) {
  bf_ctl_msg h = {.type = BF_CTL_HELLO};
  h.u.hello = s->hello;
  int rc = send_msg(s, &h, now);
  if (rc) close_local(s, BF_CTL_BYE_ERROR, now, "sending Hello failed: %s", bf_strerror(rc));
}

static void client_msg(bf_ctl_session *s, const bf_ctl_msg *m, uint64_t now) {
  if (s->st == BF_CTL_ST_SETUP && m->type == BF_CTL_PAIR_NONCE && s->committed && !s->revealed) {
    /* n_c was fixed by the commitment before n_s was known: reveal it. */
    memcpy(s->n_s, m->u.pair_nonce.nonce, sizeof s->n_s);
    bf_ctl_msg r = {.type = BF_CTL_PAIR_REVEAL};
    memcpy(r.u.pair_nonce.nonce, s->n_c, sizeof s->n_c);
    int rc = send_msg(s, &r, now);
    OPENSSL_cleanse(&r, sizeof r);
    if (rc) {
      close_local(s, BF_CTL_BYE_ERROR, now, "sending PairReveal failed: %s", bf_strerror(rc));
      return;
    }
    if (derive_code(s)) {
      close_local(s, BF_CTL_BYE_ERROR, now, "pairing: deriving the code failed");
      return;
    }
    s->revealed = 1;
    bf_ctl_event *e = ev_push(s, BF_CTL_EV_SHOW_CODE);
    memcpy(e->code, s->code, sizeof e->code);
    memcpy(e->code_peer, s->code_s, sizeof e->code_peer);
    client_send_hello(s, now);
    return;
  }
  if (s->st == BF_CTL_ST_SETUP && m->type == BF_CTL_PAIR_RESULT && s->pairing && !s->paired &&
      m->u.pair_result.status != BF_CTL_PAIR_OK)
    return; /* refused (rate limit, disabled, wrong code): the Bye with the text follows */
  if (s->st == BF_CTL_ST_SETUP && m->type == BF_CTL_PAIR_RESULT && s->revealed && !s->paired) {
    int rc = pin_peer(s, s->peer_name, 1);
    if (rc) {
      close_local(s, BF_CTL_BYE_ERROR, now, "paired, but saving the sender's pin failed: %s",
                  bf_strerror(rc));
      return;
    }
    s->paired = 1;
    s->t_start = now; /* the user may have taken a while: Welcome gets a fresh setup window */
    return;
  }
  if (s->st == BF_CTL_ST_SETUP && m->type == BF_CTL_WELCOME && (!s->pairing || s->paired)) {
    const char *bad = welcome_unfit(&s->hello, &m->u.welcome);
    if (bad) {
      close_local(s, BF_CTL_BYE_NO_MODE, now, "the sender chose %s than this client asked for",
                  bad);
      return;
    }
    s->welcome = m->u.welcome;
    establish(s);
    return;
  }
  /* WakeInfo (the sender's MACs) comes before its Welcome, once paired */
  if ((s->st == BF_CTL_ST_ESTABLISHED &&
       (m->type == BF_CTL_CLOCK_PONG || m->type == BF_CTL_RELAY_OFFER ||
        m->type == BF_CTL_RELAY_READY || m->type == BF_CTL_RELAY_FAILED ||
        m->type == BF_CTL_WAKE_INFO)) ||
      (m->type == BF_CTL_WAKE_INFO && s->st == BF_CTL_ST_SETUP && (!s->pairing || s->paired))) {
    ev_push(s, BF_CTL_EV_MESSAGE)->msg = *m;
    return;
  }
  close_local(s, BF_CTL_BYE_MALFORMED, now, "unexpected %s from the sender",
              bf_ctl_type_name(m->type));
}

static void client_start(bf_ctl_session *s, uint64_t now) {
  const bf_pin *pin = bf_pinstore_find_name(s->cfg.pins, s->peer_name);
  if (pin && memcmp(pin->fp, s->peer_fp, BF_FP_BYTES)) {
    char was[BF_FP_HEX_BYTES], now_hex[BF_FP_HEX_BYTES];
    bf_fp_hex(pin->fp, was);
    bf_fp_hex(s->peer_fp, now_hex);
    close_local(s, BF_CTL_BYE_ERROR, now,
                "the certificate of sender '%s' changed since pairing (pinned SHA-256 %.16s..., "
                "now %.16s...): refusing to connect, this may be a man in the middle; if the "
                "sender was reinstalled, remove its pin and pair again",
                s->peer_name, was, now_hex);
    return;
  }
  if (!pin && !s->cfg.pair) {
    close_local(s, BF_CTL_BYE_NOT_PAIRED, now,
                "not paired with sender '%s': run 'bildfunk pair %s' first", s->peer_name,
                s->peer_name);
    return;
  }
  if (!pin || s->cfg.pair == 2) {
    /* PairRequest and PairCommit{SHA-256(n_c)}; the Hello follows the
     * reveal, when the code is known (client_msg). */
    bf_ctl_msg r = {.type = BF_CTL_PAIR_REQUEST}, c = {.type = BF_CTL_PAIR_COMMIT};
    if (RAND_bytes(s->n_c, (int)sizeof s->n_c) != 1 ||
        sha256(s->n_c, sizeof s->n_c, c.u.pair_commit.hash)) {
      close_local(s, BF_CTL_BYE_ERROR, now, "pairing: no random bytes for the nonce");
      return;
    }
    int rc = send_msg(s, &r, now);
    if (!rc) rc = send_msg(s, &c, now);
    if (rc) {
      close_local(s, BF_CTL_BYE_ERROR, now, "sending PairRequest failed: %s", bf_strerror(rc));
      return;
    }
    s->pairing = 1;
    s->committed = 1;
    return;
  }
  client_send_hello(s, now);
}

/* ---- input --------------------------------------------------------------- */

static void on_handshake(bf_ctl_session *s, uint64_t now) {
  s->st = BF_CTL_ST_SETUP;
  if (bf_tls_peer_fp(s->tls, s->peer_fp) ||
      bf_tls_export(s->tls, BF_PAIR_EXPORTER_LABEL, s->pair_exp, sizeof s->pair_exp)) {
    close_local(s, BF_CTL_BYE_ERROR, now, "reading the TLS session failed");
    return;
  }
  if (s->cfg.role == BF_TLS_CLIENT) client_start(s, now);
}

static void on_msg(bf_ctl_session *s, const bf_ctl_msg *m, uint64_t now) {
  if (m->type == BF_CTL_KEEPALIVE) return;
  if (m->type == BF_CTL_BYE) {
    peer_bye(s, m);
    return;
  }
  if (s->cfg.role == BF_TLS_SERVER)
    server_msg(s, m, now);
  else
    client_msg(s, m, now);
}

/* Decodes buffered plaintext while the event ring has room. */
static void pump(bf_ctl_session *s, uint64_t now) {
  while (s->st != BF_CTL_ST_CLOSED && s->ev_n < EV_PUMP_LIMIT) {
    if (s->rx_off == s->rx_len) {
      int n = bf_tls_read(s->tls, s->rx, sizeof s->rx);
      if (n == -EAGAIN) return;
      if (n == -EPIPE) {
        close_local(s, BF_CTL_BYE_ERROR, now, "the peer closed the session without a Bye");
        return;
      }
      if (n < 0) {
        close_local(s, BF_CTL_BYE_ERROR, now, "TLS error: %s", bf_tls_why(s->tls));
        return;
      }
      s->rx_off = 0;
      s->rx_len = (size_t)n;
    }
    size_t used = 0;
    bf_ctl_msg m;
    int r = bf_ctl_framer_feed(&s->framer, s->rx + s->rx_off, s->rx_len - s->rx_off, &used, &m);
    s->rx_off += used;
    if (r < 0) {
      close_local(s, BF_CTL_BYE_MALFORMED, now, "malformed control message: %s",
                  bf_ctl_framer_why(&s->framer));
      return;
    }
    if (r == 1) on_msg(s, &m, now);
  }
}

int bf_ctl_session_feed(bf_ctl_session *s, const uint8_t *data, size_t len, uint64_t now_ns) {
  if (!s || (len && !data)) return -EINVAL;
  if (s->st == BF_CTL_ST_CLOSED) return 0;
  if (len) {
    s->last_rx = now_ns;
    int rc = bf_tls_feed(s->tls, data, len);
    if (rc) {
      /* A failed handshake has no channel for a Bye; OpenSSL has queued its alert. */
      close_local(s, BF_CTL_BYE_ERROR, now_ns, "TLS failed: %s", bf_tls_why(s->tls));
      return 0;
    }
  }
  if (s->st == BF_CTL_ST_HANDSHAKE && bf_tls_established(s->tls)) on_handshake(s, now_ns);
  if (s->st != BF_CTL_ST_HANDSHAKE) pump(s, now_ns);
  return 0;
}

void bf_ctl_session_eof(bf_ctl_session *s, uint64_t now_ns) {
  if (!s || s->st == BF_CTL_ST_CLOSED) return;
  pump(s, now_ns); /* a Bye may still be buffered */
  close_local(s, BF_CTL_BYE_ERROR, now_ns, "the connection to the peer was lost");
}

/* ---- timers -------------------------------------------------------------- */

static uint64_t setup_deadline(const bf_ctl_session *s) {
  /* A client waiting for the user at the sender is kept alive by keepalives;
   * the sender bounds that wait with its confirmation timeout (and its own
   * setup window until the Hello that starts it). */
  int waiting_for_user = s->cfg.role == BF_TLS_CLIENT && s->revealed && !s->paired;
  if (s->st == BF_CTL_ST_HANDSHAKE || (s->st == BF_CTL_ST_SETUP && !waiting_for_user))
    return s->t_start + (s->cfg.handshake_ns ? s->cfg.handshake_ns : BF_CTL_HANDSHAKE_NS);
  return UINT64_MAX;
}

uint64_t bf_ctl_session_deadline(const bf_ctl_session *s) {
  if (!s || s->st == BF_CTL_ST_CLOSED) return UINT64_MAX;
  uint64_t d = setup_deadline(s);
  if (s->st == BF_CTL_ST_CONFIRM && s->confirm_deadline < d) d = s->confirm_deadline;
  if (s->st != BF_CTL_ST_HANDSHAKE) {
    if (s->last_rx + BF_CTL_DEAD_NS < d) d = s->last_rx + BF_CTL_DEAD_NS;
    if (s->last_tx + BF_CTL_KEEPALIVE_NS < d) d = s->last_tx + BF_CTL_KEEPALIVE_NS;
  }
  return d;
}

void bf_ctl_session_tick(bf_ctl_session *s, uint64_t now_ns) {
  if (!s || s->st == BF_CTL_ST_CLOSED) return;
  if (now_ns >= setup_deadline(s)) {
    close_local(s, BF_CTL_BYE_TIMEOUT, now_ns, "session setup did not finish in time");
    return;
  }
  if (s->st == BF_CTL_ST_CONFIRM && now_ns >= s->confirm_deadline && s->saving) {
    close_local(s, BF_CTL_BYE_ERROR, now_ns,
                "saving the client's pin failed: it did not finish in time");
    return;
  }
  if (s->st == BF_CTL_ST_CONFIRM && now_ns >= s->confirm_deadline) {
    bf_ctl_msg r = {.type = BF_CTL_PAIR_RESULT};
    r.u.pair_result.status = BF_CTL_PAIR_WRONG_CODE;
    (void)send_msg(s, &r, now_ns);
    close_local(s, BF_CTL_BYE_PAIR_FAILED, now_ns,
                "pairing failed: the code was not confirmed on the sender in time");
    return;
  }
  if (s->st == BF_CTL_ST_HANDSHAKE) return;
  if (now_ns >= s->last_rx + BF_CTL_DEAD_NS) {
    close_local(s, BF_CTL_BYE_TIMEOUT, now_ns, "the peer went silent (nothing for %llu ms)",
                (unsigned long long)((now_ns - s->last_rx) / 1000000u));
    return;
  }
  if (now_ns >= s->last_tx + BF_CTL_KEEPALIVE_NS) {
    bf_ctl_msg k = {.type = BF_CTL_KEEPALIVE};
    int rc = send_msg(s, &k, now_ns);
    if (rc) close_local(s, BF_CTL_BYE_ERROR, now_ns, "sending a keepalive failed");
  }
}

/* ---- API ----------------------------------------------------------------- */

int bf_ctl_session_new(const bf_ctl_session_cfg *cfg, uint64_t now_ns, bf_ctl_session **out) {
  if (!cfg || !out || !cfg->id || !cfg->pins) return -EINVAL;
  if (cfg->role == BF_TLS_CLIENT && (!cfg->peer_name || !cfg->peer_name[0])) return -EINVAL;
  *out = NULL;
  bf_ctl_session *s = calloc(1, sizeof *s);
  if (!s) return -ENOMEM;
  s->cfg = *cfg;
  if (cfg->role == BF_TLS_CLIENT) {
    snprintf(s->peer_name, sizeof s->peer_name, "%s", cfg->peer_name);
    s->hello = cfg->hello;
    bf_ctl_msg h = {.type = BF_CTL_HELLO};
    h.u.hello = s->hello;
    if (bf_ctl_validate(&h, NULL)) {
      free(s);
      return -EINVAL;
    }
  }
  s->cfg.peer_name = NULL; /* not kept: may not outlive this call */
  bf_ctl_framer_init(&s->framer);
  s->t_start = s->last_rx = s->last_tx = now_ns;
  int rc = bf_tls_new(cfg->role, cfg->id, &s->tls);
  if (rc) {
    free(s);
    return rc;
  }
  *out = s;
  return 0;
}

void bf_ctl_session_del(bf_ctl_session **ps) {
  if (!ps || !*ps) return;
  bf_ctl_session *s = *ps;
  bf_tls_del(&s->tls);
  OPENSSL_cleanse(s->seal, sizeof s->seal);
  OPENSSL_cleanse(s->pair_exp, sizeof s->pair_exp);
  OPENSSL_cleanse(s->n_c, sizeof s->n_c);
  OPENSSL_cleanse(s->n_s, sizeof s->n_s);
  OPENSSL_cleanse(s->rx, sizeof s->rx);
  free(s);
  *ps = NULL;
}

size_t bf_ctl_session_pending_out(const bf_ctl_session *s) {
  return s ? bf_tls_pending_out(s->tls) : 0;
}

size_t bf_ctl_session_take_out(bf_ctl_session *s, uint8_t *out, size_t cap) {
  return s ? bf_tls_take_out(s->tls, out, cap) : 0;
}

int bf_ctl_session_poll(bf_ctl_session *s, bf_ctl_event *ev) {
  if (!s || !ev || !s->ev_n) return 0;
  *ev = s->ev[s->ev_head];
  s->ev_head = (s->ev_head + 1) % BF_CTL_EVENTS;
  s->ev_n--;
  return 1;
}

/* The client is pinned (and saved): PairResult ok, then Welcome. */
static int pair_accepted(bf_ctl_session *s, uint64_t now_ns) {
  bf_ctl_msg r = {.type = BF_CTL_PAIR_RESULT};
  s->st = BF_CTL_ST_SETUP;
  int rc = send_msg(s, &r, now_ns);
  if (rc) {
    close_local(s, BF_CTL_BYE_ERROR, now_ns, "sending PairResult failed: %s", bf_strerror(rc));
    return 0;
  }
  server_welcome(s, now_ns);
  pump(s, now_ns); /* messages that waited behind the confirmation */
  return 0;
}

int bf_ctl_session_confirm(bf_ctl_session *s, int accept, uint64_t now_ns) {
  if (!s || s->st != BF_CTL_ST_CONFIRM || s->saving) return -EINVAL;
  if (!accept) {
    bf_ctl_msg r = {.type = BF_CTL_PAIR_RESULT};
    r.u.pair_result.status = BF_CTL_PAIR_WRONG_CODE;
    (void)send_msg(s, &r, now_ns);
    close_local(s, BF_CTL_BYE_PAIR_FAILED, now_ns,
                "pairing failed: the code was not confirmed on the sender");
    return 0;
  }
  const char *name = s->hello.name[0] ? s->hello.name : "unnamed client";
  int rc = pin_peer(s, name, 0);
  if (rc) {
    close_local(s, BF_CTL_BYE_ERROR, now_ns, "saving the client's pin failed: %s", bf_strerror(rc));
    return 0;
  }
  if (s->cfg.pin_saved_wait) {
    s->saving = 1; /* still CONFIRM: the program writes the file, then pin_saved */
    return 0;
  }
  return pair_accepted(s, now_ns);
}

int bf_ctl_session_pin_saved(bf_ctl_session *s, int err, uint64_t now_ns) {
  if (!s || s->st != BF_CTL_ST_CONFIRM || !s->saving) return -EINVAL;
  s->saving = 0;
  if (err) {
    close_local(s, BF_CTL_BYE_ERROR, now_ns, "saving the client's pin failed: %s",
                bf_strerror(err));
    return 0;
  }
  return pair_accepted(s, now_ns);
}

int bf_ctl_session_send(bf_ctl_session *s, const bf_ctl_msg *m, uint64_t now_ns) {
  if (!s || !m) return -EINVAL;
  if (s->st != BF_CTL_ST_ESTABLISHED) return -EAGAIN;
  /* relay messages (protocol.md 13.3): Offer, Failed both ways, Ready s->c;
   * DataAddr c->s (protocol.md 7.1) */
  int relay = m->type == BF_CTL_RELAY_OFFER || m->type == BF_CTL_RELAY_FAILED;
  int ok = s->cfg.role == BF_TLS_SERVER
               ? (m->type == BF_CTL_CLOCK_PONG || m->type == BF_CTL_RELAY_READY || relay)
               : (m->type == BF_CTL_CLOCK_PING || m->type == BF_CTL_KEYFRAME_REQUEST ||
                  m->type == BF_CTL_LOSS_REPORT || m->type == BF_CTL_DATA_ADDR || relay);
  if (!ok) return -EINVAL;
  return send_msg(s, m, now_ns);
}

void bf_ctl_session_close(bf_ctl_session *s, uint32_t reason, const char *text, uint64_t now_ns) {
  if (!s) return;
  close_local(s, reason, now_ns, "%s", text ? text : "");
}

bf_ctl_state bf_ctl_session_state(const bf_ctl_session *s) {
  return s ? s->st : BF_CTL_ST_CLOSED;
}

int bf_ctl_session_peer_fp(const bf_ctl_session *s, uint8_t fp[BF_FP_BYTES]) {
  if (!s || !fp) return -EINVAL;
  if (s->st == BF_CTL_ST_HANDSHAKE || !bf_tls_established(s->tls)) return -EAGAIN;
  memcpy(fp, s->peer_fp, BF_FP_BYTES);
  return 0;
}

int bf_ctl_session_seal_secret(const bf_ctl_session *s, uint8_t *out, size_t len) {
  if (!s || !out || len != BF_SEAL_EXPORTER_BYTES) return -EINVAL;
  if (!s->have_seal) return -EAGAIN;
  memcpy(out, s->seal, len);
  return 0;
}

const bf_tls *bf_ctl_session_tls(const bf_ctl_session *s) {
  return s ? s->tls : NULL;
}
