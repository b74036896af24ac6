/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * libFuzzer: datagrams into the data-plane channel's receive path — punch
 * recognition, opening, the classifier, and each kind's decoder behind it
 * (feedback decode, the video header check). Input: byte 0 picks the role,
 * sealed or clear, require_seal and only_from_peer; then records of
 * [flags u8][len u16 LE][bytes]: flag 1 seals the bytes with the peer's
 * real keys first (so the plaintext after opening is fuzz-controlled),
 * flag 2 sends them from a stranger's address. Invariant: every datagram
 * read ends in exactly one counter.
 */
#include <bildfunk/channel.h>
#include <bildfunk/feedback.h>
#include <bildfunk/loopback.h>
#include <bildfunk/wire.h>

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t fake_now(void) {
  return 42;
}

static void on_feedback(void *user, const uint8_t *d, size_t len, const bf_addr *from,
                        uint64_t now) {
  (void)user, (void)from, (void)now;
  bf_feedback fb;
  (void)bf_feedback_decode(d, len, &fb);
}

static void on_video(void *user, const uint8_t *d, size_t len, const bf_addr *from, uint64_t now) {
  (void)user, (void)from, (void)now;
  bf_header h;
  bf_wire_limits lim;
  bf_wire_limits_default(&lim);
  (void)bf_datagram_parse(d, len, &lim, &h);
}

static void on_any(void *user, const uint8_t *d, size_t len, const bf_addr *from, uint64_t now) {
  (void)from, (void)now;
  if (len && d[len - 1] == 0xEE) ++*(size_t *)user; /* touch every byte's end */
}

/* One channel pair per mode (16), made on first use and kept: a pair's
 * queues are empty between runs and the seal is re-keyed (or dropped) at
 * the start of each, so a run does not depend on the ones before it; the
 * counters are compared as differences. */
typedef struct pair {
  bf_channel *rx, *peer;
  bf_transport *raw; /* the peer's transport, for unsealed sends */
} pair;

static int make_pair(uint8_t mode, pair *p) {
  bf_transport *a = NULL, *b = NULL;
  bf_loopback_config lc = {.depth = 70}; /* every run sends at most 64 */
  if (bf_loopback_pair(&lc, &a, &b) < 0) return -1;
  bf_channel_config rc = {.role = (mode & 1) ? BF_CHANNEL_SENDER : BF_CHANNEL_CLIENT,
                          .now = fake_now,
                          .require_seal = (mode >> 2) & 1,
                          .only_from_peer = (mode >> 3) & 1,
                          .ring_count = 4,
                          .burst_max = 1};
  bf_channel_config pc = {.role = (mode & 1) ? BF_CHANNEL_CLIENT : BF_CHANNEL_SENDER,
                          .now = fake_now,
                          .ring_count = 1,
                          .burst_max = 1};
  if (bf_channel_new(&rc, a, &p->rx) < 0) {
    bf_transport_close(&b);
    return -1;
  }
  p->raw = b;
  if (bf_channel_new(&pc, b, &p->peer) < 0) abort();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static pair pairs[16];
  if (size < 1) return 0;
  uint8_t mode = data[0];
  pair *pp = &pairs[mode & 15];
  if (!pp->rx && make_pair(mode & 15, pp) < 0) return 0;
  bf_channel *rx = pp->rx, *peer = pp->peer;
  bf_transport *raw = pp->raw;
  bf_channel_stats st0;
  bf_opener_stats os0;
  bf_channel_stats_get(rx, &st0);
  bf_channel_seal_stats(rx, &os0);
  static const uint8_t secret[32] = {1, 2, 3, 4};
  if (mode & 2) {
    (void)bf_channel_seal(rx, secret, 1);
    (void)bf_channel_seal(peer, secret, 1);
  } else {
    bf_channel_unseal(rx);
    bf_channel_unseal(peer);
  }
  size_t hits = 0;
  bf_channel_on(rx, BF_DKIND_FEEDBACK, on_feedback, NULL);
  bf_channel_on(rx, BF_DKIND_VIDEO, on_video, NULL);
  bf_channel_on(rx, BF_DKIND_AUDIO, on_any, &hits);
  bf_channel_on(rx, BF_DKIND_INPUT, on_any, &hits);
  bf_channel_on(rx, BF_DKIND_PUNCH, on_any, &hits);
  bf_addr stranger;
  memset(&stranger, 0, sizeof stranger);
  (void)bf_addr_parse("127.0.0.9:9", 0, &stranger);
  const bf_addr *home = bf_channel_peer(rx);
  bf_addr keep_home;
  if (home) keep_home = *home;
  size_t at = 1, sent = 0;
  while (at + 3 <= size && sent < 64) {
    uint8_t flags = data[at];
    size_t len = (size_t)data[at + 1] | (size_t)data[at + 2] << 8;
    at += 3;
    if (len > size - at) len = size - at;
    const uint8_t *d = data + at;
    at += len;
    if (flags & 2) bf_loopback_set_addr(raw, &stranger);
    if ((flags & 1) && len <= BF_SEAL_MAX_PLAIN) {
      bf_dgram g = {d, len, NULL, 0};
      if (len <= BF_CHANNEL_MSG_MAX)
        (void)bf_channel_send(peer, d, len, NULL);
      else
        (void)bf_channel_send_burst(peer, &g, 1, 0);
    } else {
      bf_dgram g = {d, len, NULL, 0};
      (void)bf_send(raw, &g);
    }
    if ((flags & 2) && home) bf_loopback_set_addr(raw, &keep_home);
    sent++;
    (void)bf_channel_receive(rx, 2);
  }
  bf_channel_stats st;
  bf_channel_stats_get(rx, &st);
  bf_opener_stats os;
  bf_channel_seal_stats(rx, &os);
  uint64_t ended = st.foreign + st.unsealed + os.short_ + os.oversize + os.replay_old +
                   os.replay_dup + os.bad_tag;
  ended -= st0.foreign + st0.unsealed + os0.short_ + os0.oversize + os0.replay_old +
           os0.replay_dup + os0.bad_tag;
  for (int k = 0; k < BF_DKIND_COUNT_; k++)
    ended += st.by_kind[k] - st0.by_kind[k];
  if (ended != st.datagrams - st0.datagrams) abort();
  return 0;
}
