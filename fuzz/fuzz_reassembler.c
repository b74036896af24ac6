/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * libFuzzer: a sequence of datagrams into a reassembler with small limits
 * (64 KiB AUs, shards 512..2048, K = 16, budget 256 KiB), with small arrival
 * time steps, events drained after every push.
 *
 * Input: a list of records, each starting with an op byte; its low 6 bits
 * advance the arrival clock (x 100 us), its top 2 bits choose:
 *   00 raw:    u16 length, then that many bytes as one datagram
 *   01 packet: one packet of a seeded AU (byte: which), with field overrides
 *              (byte: mask, then one byte per set bit: frame_index delta, pts
 *              delta, shard_index, flags, recovery_shards, frame_bytes xor,
 *              user_flags, a payload byte flip)
 *   10 AU:     every packet of a seeded AU (byte: which) at frame_index delta
 *              (byte), a rotation of the wire order (byte) and a drop mask
 *              (byte: packet i is dropped when bit i % 8 is set)
 *   11 control: 0 reset, 1 hold frames (up to 16 unreleased), 2 release
 * Valid packets of seeded AUs let the fuzzer reach pins, FEC, completion and
 * abandonment quickly; raw bytes keep the stateless checks honest.
 *
 * Invariants after every push: rejection counters add up to the packets;
 * late == rejected[late]; memory in flight and pooled <= budget; no event is
 * ever dropped (a push never settles more than fits the queue); a frame's
 * length equals the frame_bytes its accepted packets carried; a frame made
 * only of unmodified packets of one seeded AU equals that AU; completed and
 * lost counters match the events.
 */
#include <bildfunk/packetizer.h>
#include <bildfunk/reassembler.h>

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define K 16u
#define MAX_FRAME (64u << 10)
#define NSEED 6
#define MAX_PKTS 256
#define PTS0 1700000000000000000ull
#define MS 1000000ull

typedef struct seeded {
  uint32_t len, index, npk;
  uint16_t s;
  uint8_t *au;
  uint8_t *pk; /* npk datagrams of 40 + s bytes */
} seeded;

static seeded seeds[NSEED];
static uint32_t total_pkts;

static void make_seed(seeded *sd, uint32_t id, uint32_t len, uint16_t s, uint32_t pct) {
  bf_packetizer_config cfg;
  bf_packetizer_config_default(&cfg);
  cfg.shard_bytes = s;
  cfg.max_k = K;
  cfg.fec_percent = pct;
  cfg.max_frame_bytes = MAX_FRAME;
  cfg.first_frame_index = 100 + id;
  bf_packetizer *p = NULL;
  if (bf_packetizer_new(&cfg, &p) != 0) abort();
  sd->len = len;
  sd->s = s;
  sd->index = 100 + id;
  sd->au = malloc(len ? len : 1);
  uint32_t x = id * 2654435761u + 1;
  for (uint32_t i = 0; i < len; i++) {
    x = x * 1103515245u + 12345u;
    sd->au[i] = (uint8_t)(x >> 16);
  }
  if (bf_packetizer_begin(p, sd->au, len, PTS0 + id * 16 * MS, BF_AU_KEYFRAME) != 0) abort();
  sd->pk = malloc((size_t)MAX_PKTS * (BF_HEADER_BYTES + s));
  sd->npk = 0;
  bf_dgram d[16];
  int n;
  while ((n = bf_packetizer_next(p, d, 16)) > 0) {
    for (int j = 0; j < n; j++) {
      if (sd->npk >= MAX_PKTS) abort();
      uint8_t *o = sd->pk + (size_t)sd->npk++ * (BF_HEADER_BYTES + s);
      memcpy(o, d[j].head, BF_HEADER_BYTES);
      memcpy(o + BF_HEADER_BYTES, d[j].body, s);
    }
  }
  if (n < 0) abort();
  bf_packetizer_del(&p);
  total_pkts += sd->npk;
}

static void init_seeds(void) {
  if (total_pkts) return;
  make_seed(&seeds[0], 0, 0, 512, 50);
  make_seed(&seeds[1], 1, 1000, 512, 0);
  make_seed(&seeds[2], 2, 5000, 512, 30);
  make_seed(&seeds[3], 3, 20000, 1024, 20);
  make_seed(&seeds[4], 4, 40000, 2048, 10);
  make_seed(&seeds[5], 5, MAX_FRAME, 512, 10);
}

/* ---- per-index bookkeeping of the harness ----------------------------- */

#define TRACK 128

typedef struct track {
  int used;
  uint32_t index;
  uint32_t frame_bytes;
  int au; /* seeded AU all accepted packets came from unmodified; -1 = mixed */
} track;

typedef struct harness {
  bf_reassembler *r;
  size_t budget;
  uint64_t now;
  uint64_t frames, lost;
  int hold;
  bf_frame held[16];
  int nheld;
  track t[TRACK];
} harness;

static track *find(harness *h, uint32_t idx, int create) {
  track *free_slot = NULL;
  for (int i = 0; i < TRACK; i++) {
    if (h->t[i].used && h->t[i].index == idx) return &h->t[i];
    if (!h->t[i].used && !free_slot) free_slot = &h->t[i];
  }
  if (!create || !free_slot) return NULL;
  memset(free_slot, 0, sizeof *free_slot);
  free_slot->used = 1;
  free_slot->index = idx;
  free_slot->au = -2; /* no packet yet */
  return free_slot;
}

static int in_range(uint32_t i, uint32_t first, uint32_t last) {
  return (uint32_t)(i - first) <= (uint32_t)(last - first);
}

static void release_all(harness *h) {
  for (int i = 0; i < h->nheld; i++)
    bf_reassembler_release(h->r, &h->held[i]);
  h->nheld = 0;
}

static void check(harness *h) {
  bf_event ev;
  while (bf_reassembler_poll(h->r, &ev)) {
    if (ev.type == BF_EVENT_FRAME) {
      bf_frame *f = &ev.u.frame;
      if (!f->data || f->len > MAX_FRAME) abort();
      track *t = find(h, f->frame_index, 0);
      if (t) { /* the harness saw packets of it accepted */
        if (f->len != t->frame_bytes) abort();
        if (t->au >= 0) {
          const seeded *sd = &seeds[t->au];
          if (f->len != sd->len || memcmp(f->data, sd->au, f->len) != 0) abort();
        }
        t->used = 0;
      }
      h->frames++;
      if (h->hold && h->nheld < 16)
        h->held[h->nheld++] = *f;
      else
        bf_reassembler_release(h->r, f);
    } else if (ev.type == BF_EVENT_LOSS) {
      h->lost += (uint64_t)(uint32_t)(ev.u.loss.last - ev.u.loss.first) + 1u;
      for (int i = 0; i < TRACK; i++)
        if (h->t[i].used && in_range(h->t[i].index, ev.u.loss.first, ev.u.loss.last))
          h->t[i].used = 0;
    } else if (ev.type == BF_EVENT_BLOCK_SHORT) {
      if (ev.u.block.have >= ev.u.block.need) abort();
    } else {
      abort();
    }
  }
  bf_reassembler_stats s;
  bf_reassembler_stats_get(h->r, &s);
  uint64_t sum = 0;
  for (int i = 0; i < BF_REJECT_COUNT_; i++)
    sum += s.rejected[i];
  if (sum != s.packets) abort();
  if (s.late_shards != s.rejected[BF_REJECT_LATE]) abort();
  if (s.memory_in_flight > h->budget || s.memory_pooled > h->budget) abort();
  if (s.memory_peak > h->budget || s.memory_in_flight > s.memory_pooled) abort();
  if (s.events_dropped != 0) abort();
  if (s.frames_completed != h->frames || s.frames_lost != h->lost) abort();
}

/* Pushes one datagram; |au| is the seeded AU it is an unmodified packet of,
 * or -1. */
static void push(harness *h, const uint8_t *d, size_t len, int au) {
  bf_reject r = bf_reassembler_push(h->r, d, len, h->now);
  if ((unsigned)r >= BF_REJECT_COUNT_) abort();
  if (r == BF_ACCEPT) {
    bf_header hd;
    bf_header_decode(d, &hd);
    track *t = find(h, hd.frame_index, 1);
    if (t) {
      if (t->au == -2) {
        t->frame_bytes = hd.frame_bytes;
        t->au = au;
      } else {
        if (t->frame_bytes != hd.frame_bytes) abort(); /* the pin held */
        if (t->au != au) t->au = -1;
      }
    }
  }
  check(h);
}

static uint8_t buf[BF_RECV_BUF_BYTES];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  init_seeds();
  static harness h;
  memset(&h, 0, sizeof h);
  bf_reassembler_config cfg;
  bf_reassembler_config_default(&cfg);
  cfg.limits.min_shard = 512;
  cfg.limits.max_shard = 2048;
  cfg.limits.max_k = K;
  cfg.limits.max_frame_bytes = MAX_FRAME;
  if (bf_reassembler_new(&cfg, &h.r) != 0) abort();
  h.budget = 4u * MAX_FRAME;
  h.now = 1000;

  size_t p = 0;
  while (p < size) {
    uint8_t op = data[p++];
    h.now += (uint64_t)(op & 0x3f) * 100000u;
    switch (op >> 6) {
    case 0: { /* raw */
      if (p + 2 > size) goto out;
      size_t len = (size_t)data[p] | ((size_t)data[p + 1] << 8);
      p += 2;
      if (len > size - p) len = size - p;
      if (len > sizeof buf) len = sizeof buf;
      memcpy(buf, data + p, len);
      p += len;
      push(&h, buf, len, -1);
      break;
    }
    case 1: { /* one seeded packet with overrides */
      if (p + 2 > size) goto out;
      uint32_t which = ((uint32_t)data[p] << 8 | data[p + 1]) % total_pkts;
      p += 2;
      int au = 0;
      while (which >= seeds[au].npk)
        which -= seeds[au++].npk;
      const seeded *sd = &seeds[au];
      size_t len = BF_HEADER_BYTES + sd->s;
      memcpy(buf, sd->pk + which * len, len);
      if (p >= size) goto out;
      uint8_t mask = data[p++];
      bf_header hd;
      bf_header_decode(buf, &hd);
      int pure = 1;
      for (int bit = 0; bit < 8; bit++) {
        if (!(mask & (1u << bit))) continue;
        if (p >= size) goto out;
        uint8_t v = data[p++];
        switch (bit) {
        case 0:
          hd.frame_index += (uint32_t)(int32_t)(int8_t)v;
          break;
        case 1:
          hd.pts_ns += (uint64_t)(int64_t)(int8_t)v * 8 * MS;
          break;
        case 2:
          hd.shard_index = v;
          pure = 0;
          break;
        case 3:
          hd.flags = v;
          break;
        case 4:
          hd.recovery_shards = v;
          pure = 0;
          break;
        case 5:
          hd.frame_bytes ^= (uint32_t)v << (v & 7);
          pure = 0;
          break;
        case 6:
          hd.user_flags = v;
          break;
        default:
          buf[BF_HEADER_BYTES + (v * 7u) % sd->s] ^= (uint8_t)(v | 1);
          pure = 0;
          break;
        }
      }
      bf_header_encode(&hd, buf);
      push(&h, buf, len, pure ? au : -1);
      break;
    }
    case 2: { /* a whole seeded AU, rotated, with drops */
      if (p + 4 > size) goto out;
      const seeded *sd = &seeds[data[p] % NSEED];
      int au = data[p] % NSEED;
      uint32_t delta = (uint32_t)(int32_t)(int8_t)data[p + 1];
      uint32_t rot = data[p + 2] % sd->npk;
      uint8_t drop = data[p + 3];
      p += 4;
      size_t len = BF_HEADER_BYTES + sd->s;
      for (uint32_t i = 0; i < sd->npk; i++) {
        if (drop & (1u << (i % 8))) continue;
        memcpy(buf, sd->pk + (size_t)((i + rot) % sd->npk) * len, len);
        bf_header hd;
        bf_header_decode(buf, &hd);
        hd.frame_index += delta;
        bf_header_encode(&hd, buf);
        h.now += 3000;
        push(&h, buf, len, au);
      }
      break;
    }
    default: { /* control */
      if (p >= size) goto out;
      uint8_t c = data[p++] % 3;
      if (c == 0) {
        bf_reassembler_reset(h.r);
        check(&h);
        for (int i = 0; i < TRACK; i++)
          h.t[i].used = 0; /* every life ended */
      } else if (c == 1) {
        h.hold = 1;
      } else {
        h.hold = 0;
        release_all(&h);
        check(&h);
      }
      break;
    }
    }
  }
out:
  release_all(&h);
  bf_reassembler_reset(h.r);
  check(&h);
  {
    bf_reassembler_stats s;
    bf_reassembler_stats_get(h.r, &s);
    if (s.memory_in_flight != 0) abort();          /* everything released and settled */
    if (s.frames_evicted > s.frames_lost) abort(); /* evicted ones were reported */
  }
  bf_reassembler_del(&h.r);
  return 0;
}
