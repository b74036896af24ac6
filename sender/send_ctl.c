/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The sender's control-mode glue: see send_ctl.h.
 */
#include "send_ctl.h"

#include "host_ifs.h"
#include "publish.h"
#include "send_adapt.h"
#include "send_admin.h"
#include "send_input.h"
#include "send_video.h"

#include <bildfunk/clock.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#ifdef BF_HAVE_SEAL

static uint16_t addr_port(const bf_addr *a) {
  if (a->ss.ss_family == AF_INET) return ntohs(((const struct sockaddr_in *)&a->ss)->sin_port);
  if (a->ss.ss_family == AF_INET6) return ntohs(((const struct sockaddr_in6 *)&a->ss)->sin6_port);
  return 0;
}

/* What the sender streams, as the control plane offers it. */
static void offer(const bf_send_state *s, uint16_t data_port, bf_ctl_offer *of) {
  const bf_send_options *o = &s->o;
  of->codec_pref[0] = (uint8_t)o->codec;
  of->width = (uint16_t)s->sinfo.width;
  of->height = (uint16_t)s->sinfo.height;
  unsigned fps = (s->sinfo.fps_num + s->sinfo.fps_den - 1) / s->sinfo.fps_den;
  of->fps = (uint16_t)(fps ? fps : 1);
  /* through our relay a datagram gets the 4-byte ChannelData header: room
   * for it in the path MTU (docs/protocol.md 13.1) */
  of->shard_bytes = (uint16_t)(o->shard_bytes - (s->relay.configured ? 4u : 0u));
  of->max_k = (uint16_t)o->max_k;
  of->fec_percent = (uint8_t)s->fec_applied;
  of->data_port = data_port;
  of->max_frame_bytes = BF_SEND_MAX_AU_BYTES;
  of->bitrate_kbps = (uint32_t)(s->bitrate / 1000u);
  of->sealed = 2;
  if (s->audio_on) of->grants |= BF_CTL_WELCOME_AUDIO; /* sound for a client whose Hello asks */
  if (bf_send_input_classes(s)) of->grants |= BF_CTL_WELCOME_INPUT;
  of->grants |= BF_CTL_WELCOME_RELAY; /* the relay messages (send_relay.h) */
}

/* The control port on the LAN's DNS-SD (publish.h): best effort, said in
 * one line when it cannot be. A control port on a loopback address is not
 * for the LAN: nothing is published (and nothing said). */
static void publish(bf_send_state *s, uint16_t data_port) {
  bf_publish_config pc;
  memset(&pc, 0, sizeof pc);
  bf_addr cl;
  if (bf_sctl_local_addr(s->ctl, &cl) < 0 || (pc.ifindex = bf_host_publish_ifindex(&cl)) < 0)
    return;
  pc.ctl_port = addr_port(&cl);
  pc.log = stderr;
  pc.txt.version = BF_LAN_TXT_VERSION;
  pc.txt.data_port = data_port;
  if (s->o.lan_name)
    snprintf(pc.txt.name, sizeof pc.txt.name, "%s", s->o.lan_name);
  else if (gethostname(pc.txt.name, sizeof pc.txt.name - 1) != 0 || !bf_lan_name_ok(pc.txt.name))
    snprintf(pc.txt.name, sizeof pc.txt.name, "bildfunk");
  uint8_t fp[BF_FP_BYTES];
  char hex[BF_FP_HEX_BYTES];
  bf_identity_fp(s->id, fp);
  bf_fp_hex(fp, hex);
  snprintf(pc.txt.fp, sizeof pc.txt.fp, "%.16s", hex);
  (void)bf_publish_start(&pc, &s->pub);
}

int bf_send_ctl_open(bf_send_state *s, char *err, size_t cap) {
  const bf_send_options *o = &s->o;
  char dir[512], path[600];
  int r;
  s->ctl_mode = 1;
  if ((r = bf_send_admin_dir(o, dir, sizeof dir)) < 0) {
    snprintf(err, cap, "no config directory (set HOME or XDG_CONFIG_HOME, or --config-dir)");
    return r;
  }
  if ((r = bf_identity_load(dir, "sender", NULL, &s->id)) < 0) {
    if (r == -EPERM)
      snprintf(err, cap, "identity in %s: the key file is readable by others (chmod 600 it)", dir);
    else if (r == -EISDIR)
      snprintf(
          err, cap,
          "identity in %s: sender-key.pem or sender-cert.pem there is not a file (a directory?)",
          dir);
    else
      snprintf(err, cap, "identity in %s: %s", dir, bf_strerror(r));
    return r;
  }
  snprintf(path, sizeof path, "%s/clients", dir);
  size_t bad = 0;
  if ((r = bf_pinstore_open_at(path, &s->pins, &bad)) < 0) {
    if (bad)
      snprintf(err, cap,
               "paired clients file %.400s: line %zu is not a pin (FINGERPRINT DATE NAME)", path,
               bad);
    else
      snprintf(err, cap, "paired clients file %.400s: %s", path,
               r == -EISDIR ? "it is not a file (a directory?)" : bf_strerror(r));
    return r;
  }
  bf_addr local;
  if ((r = bf_transport_local_addr(bf_send_endpoint_transport(&s->ep), &local)) < 0) {
    snprintf(err, cap, "data port: %s", bf_strerror(r));
    return r;
  }
  bf_sctl_config cc;
  memset(&cc, 0, sizeof cc);
  cc.listen = o->control;
  cc.id = s->id;
  cc.pins = s->pins;
  offer(s, addr_port(&local), &cc.offer);
  cc.pairing_disabled = o->no_pairing;
  cc.confirm_ns = o->pair_timeout_ns;
  cc.input_fd = STDIN_FILENO;
  cc.log = stderr;
  cc.wake_count = (uint8_t)bf_host_macs(cc.wake_mac, BF_CTL_MAX_MACS);
  if ((r = bf_sctl_open(&cc, &s->ctl, err, cap)) < 0) return r;
  if (!o->no_publish) publish(s, addr_port(&local));
  return 0;
}

void bf_send_ctl_close(bf_send_state *s) {
  bf_publish_stop(&s->pub);
  bf_sctl_close(&s->ctl);
  bf_pinstore_del(&s->pins);
  bf_identity_del(&s->id);
}

void bf_send_ctl_watch(const bf_send_state *s, bf_evloop *l) {
  if (!s->ctl) return;
  struct pollfd p[BF_SCTL_MAX_FDS];
  size_t n = bf_sctl_pollfds(s->ctl, p, BF_SCTL_MAX_FDS);
  for (size_t i = 0; i < n; i++)
    bf_evloop_add(l, p[i].fd, p[i].events);
}

/* The streaming client's session ended (or was replaced): stop at once,
 * refuse punches, forget its keys. */
static void stream_stop(bf_send_state *s) {
  bf_send_input_stop(s, bf_clock_mono_ns());
  if (s->ss.streaming) bf_send_video_stop(s);
  bf_send_session_allow(&s->ss, NULL);
  bf_send_relay_end(s);
  bf_send_open_stop(s);
  s->ss.streaming = 0;
  s->ctl_audio = 0;
  bf_send_endpoint_unkey(&s->ep);
}

/* A session was established: the data plane for it. */
static void stream_start(bf_send_state *s, bf_sctl_event *ev, uint64_t now) {
  char err[256] = "";
  const bf_ctl_welcome *w = &ev->welcome;
  if (s->ss.streaming) bf_send_endpoint_bye(&s->ep, BF_BYE_REPLACED, NULL); /* old keys, old peer */
  stream_stop(s);
  /* the Welcome is the sender's own mode: sender/ctl_server.c refused any
   * other before it got here (and before the old stream was stopped) */
  int r = bf_send_endpoint_key(&s->ep, ev->secret);
  if (r < 0) {
    snprintf(err, sizeof err, "sealed data plane: %s", bf_strerror(r));
  } else {
    if (!s->o.fec_auto) s->fec_applied = w->fec_percent;
    r = bf_send_video_packetizer(s, w->shard_bytes, w->max_k, err, sizeof err);
    /* the encoder's share of the budget depends on S and K: the Welcome's
     * now (the counters run on across clients) */
    bf_send_adapt_configure(s, w->shard_bytes, w->max_k, 1);
  }
  if (r < 0) {
    fprintf(stderr, "bildfunk-send: %s\n", err);
    bf_send_endpoint_unkey(&s->ep);
    bf_sctl_end_stream(s->ctl, BF_CTL_BYE_ERROR, "the sender could not set up the data plane", now);
    if (!s->pk) s->failed = 1;
    return;
  }
  bf_send_session_allow(&s->ss, &ev->peer);
  s->ctl_audio = (w->flags & BF_CTL_WELCOME_AUDIO) != 0;
  bf_send_input_session(s, (w->flags & BF_CTL_WELCOME_INPUT) != 0, now);
  if (w->flags & BF_CTL_WELCOME_RELAY) bf_send_relay_session(s, &ev->peer, now);
  bf_send_open_session(s, &ev->peer, now); /* punches once the client's DataAddr names its port */
  s->ctl_sessions++;
}

uint64_t bf_send_ctl_step(bf_send_state *s, uint64_t now) {
  bf_sctl_step(s->ctl, now);
  bf_sctl_event ev;
  while (bf_sctl_next_event(s->ctl, &ev)) {
    if (ev.type == BF_SCTL_EV_STREAM) {
      stream_start(s, &ev, now);
    } else if (ev.type == BF_SCTL_EV_STOP) {
      s->ctl_stops++;
      stream_stop(s);
    } else if (ev.type == BF_SCTL_EV_RELAY && ev.msg.type == BF_CTL_DATA_ADDR) {
      bf_send_open_on_addr(s, &ev.msg, now);
    } else if (ev.type == BF_SCTL_EV_RELAY) {
      if (ev.msg.type == BF_CTL_RELAY_OFFER) bf_send_open_stop(s); /* the relay is the path */
      bf_send_relay_on_msg(s, &ev.msg, now);
    }
    memset(ev.secret, 0, sizeof ev.secret);
  }
  uint64_t d = bf_sctl_deadline(s->ctl);
  uint64_t soon = now + 50000000ull; /* and at least every 50 ms (descriptors polled anyway) */
  return d < soon ? d : soon;
}

void bf_send_ctl_finish(bf_send_state *s, int stopped) {
  if (!s->ctl) return;
  bf_sctl_finish(s->ctl, s->failed ? BF_CTL_BYE_ERROR : BF_CTL_BYE_NORMAL,
                 s->failed ? "the sender hit an error"
                 : stopped ? "the sender was stopped"
                           : "the stream finished",
                 500, bf_clock_mono_ns());
}

void bf_send_ctl_banner(const bf_send_state *s, const char *data_addr) {
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
  size_t pins = bf_pinstore_count(s->pins);
  fprintf(stderr,
          "bildfunk-send: control on %s (TLS 1.3), data on %s\n"
          "bildfunk-send: listening on %s (control mode: the stream is sealed with keys from "
          "the control session; identity fp %s...; %zu paired client%s%s)\n",
          ca, data_addr, data_addr, hex, pins, pins == 1 ? "" : "s",
          s->o.no_pairing ? "; pairing disabled" : "");
}

void bf_send_ctl_stats(const bf_send_state *s, bf_sctl_stats *out) {
  memset(out, 0, sizeof *out);
  if (s->ctl) *out = *bf_sctl_stats_get(s->ctl);
}

#else /* no OpenSSL: no control mode */

int bf_send_ctl_open(bf_send_state *s, char *err, size_t cap) {
  (void)s;
  snprintf(err, cap, "this build has no control mode (no OpenSSL): use --direct");
  return -ENOTSUP;
}

void bf_send_ctl_close(bf_send_state *s) {
  (void)s;
}

void bf_send_ctl_watch(const bf_send_state *s, bf_evloop *l) {
  (void)s, (void)l;
}

uint64_t bf_send_ctl_step(bf_send_state *s, uint64_t now) {
  (void)s;
  return now + 50000000ull;
}

void bf_send_ctl_finish(bf_send_state *s, int stopped) {
  (void)s, (void)stopped;
}

void bf_send_ctl_banner(const bf_send_state *s, const char *data_addr) {
  (void)s, (void)data_addr;
}

void bf_send_ctl_stats(const bf_send_state *s, bf_sctl_stats *out) {
  (void)s;
  memset(out, 0, sizeof *out);
}

#endif /* BF_HAVE_SEAL */
