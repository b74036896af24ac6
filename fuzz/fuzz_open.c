/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * libFuzzer: the sealed-datagram opener (spec §6) with a fixed key. The
 * input is a script of records, each run against one fresh opener:
 *   raw      arbitrary bytes as a datagram: must never open
 *   sealed   a genuine datagram (seq = base + offset from the input, a
 *            plaintext from the input, split head/body at an input offset):
 *            must open iff a plain replay-window model says so, to the same
 *            bytes
 *   mutated  a genuine datagram with bytes flipped, truncated or extended:
 *            must never open
 * and every datagram lands in exactly one opener counter.
 */
#include <bildfunk/seal.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct reader {
  const uint8_t *p;
  size_t n;
} reader;

static uint32_t rd(reader *r, unsigned bytes) {
  uint32_t v = 0;
  for (unsigned i = 0; i < bytes; i++) {
    v = (v << 8) | (r->n ? *r->p : 0u);
    if (r->n) {
      r->p++;
      r->n--;
    }
  }
  return v;
}

#define MAX_SEEN 512u

typedef struct model {
  int have;
  uint64_t top;
  uint64_t seen[MAX_SEEN];
  unsigned nseen;
} model;

/* 0 = accept, else the expected drop. */
static int model_check(const model *m, uint64_t seq) {
  if (!m->have || seq > m->top) return 0;
  if (m->top - seq >= BF_SEAL_REPLAY_WINDOW) return -ESTALE;
  for (unsigned i = 0; i < m->nseen; i++)
    if (m->seen[i] == seq) return -EALREADY;
  return 0;
}

static void model_accept(model *m, uint64_t seq) {
  if (!m->have || seq > m->top) m->top = seq;
  m->have = 1;
  if (m->nseen < MAX_SEEN) m->seen[m->nseen++] = seq;
}

static uint8_t g_plain[BF_SEAL_MAX_PLAIN], g_dg[BF_RECV_BUF_BYTES + 64], g_orig[BF_MAX_DATAGRAM],
    g_out[BF_RECV_BUF_BYTES];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const bf_seal_key key = {{0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe, 0x01, 0x23, 0x45,
                                   0x67, 0x89, 0xab, 0xcd, 0xef},
                                  {0x2b, 0x7e, 0x15, 0x16}};
  reader r = {data, size};
  bf_opener *o = NULL;
  if (bf_opener_new(&key, BF_SEAL_S2C, 1, &o)) abort();
  model m = {0};
  const uint64_t base = ((uint64_t)rd(&r, 4) << 32) | rd(&r, 4);
  uint64_t calls = 0;
  for (unsigned rec = 0; r.n && rec < MAX_SEEN; rec++) {
    const uint32_t op = rd(&r, 1);
    const int inplace = (op >> 2) & 1;
    size_t len;
    int want; /* expected result when genuine */
    size_t plain = 0;
    int mutated = 0;
    uint64_t seq = 0;
    if ((op & 3) == 0) { /* raw */
      len = rd(&r, 2) % (BF_RECV_BUF_BYTES + 1);
      if (len > r.n) len = r.n;
      memcpy(g_dg, r.p, len);
      r.p += len;
      r.n -= len;
      want = 1; /* "must fail" */
      mutated = 1;
    } else {
      uint32_t off = rd(&r, 4);
      if (op & 0x80) off &= 0x3ffffu; /* stay near base: window edges */
      seq = base + off;
      plain = 1 + rd(&r, 2) % BF_SEAL_MAX_PLAIN;
      const size_t head = rd(&r, 2) % (plain + 1);
      for (size_t i = 0; i < plain; i++)
        g_plain[i] = (uint8_t)(i * 31 + op + rec);
      size_t take = r.n < 16 ? r.n : 16; /* up to 16 input bytes start the plaintext */
      if (take > plain) take = plain;
      memcpy(g_plain, r.p, take);
      r.p += take;
      r.n -= take;
      bf_sealer *s = NULL;
      if (bf_sealer_new(&key, BF_SEAL_S2C, seq, &s)) abort();
      const bf_dgram dg = {g_plain, head, g_plain + head, plain - head};
      const int n = bf_sealer_seal(s, &dg, g_dg, sizeof g_dg);
      bf_sealer_del(&s);
      if (n != (int)(plain + BF_SEAL_OVERHEAD)) abort();
      len = (size_t)n;
      memcpy(g_orig, g_dg, len);
      if ((op & 3) == 2 || (op & 3) == 3) { /* mutate */
        const unsigned edits = 1 + rd(&r, 1) % 4;
        for (unsigned e = 0; e < edits; e++) {
          const uint32_t what = rd(&r, 1), pos = rd(&r, 2);
          if (what < 32) { /* truncate */
            if (len) len = pos % len;
          } else if (what < 48) { /* extend */
            size_t add = 1 + pos % 64;
            if (len + add > BF_RECV_BUF_BYTES) add = BF_RECV_BUF_BYTES - len;
            memset(g_dg + len, (int)what, add);
            len += add;
          } else if (len) {
            g_dg[pos % len] ^= (uint8_t)(what & 0x0f ? what : 0x80);
          }
        }
        mutated = len != (size_t)n || memcmp(g_dg, g_orig, len) != 0;
      }
      want = model_check(&m, seq);
    }
    uint64_t got_seq = 0;
    int rc = inplace ? bf_opener_open_inplace(o, g_dg, len, &got_seq)
                     : bf_opener_open(o, g_dg, len, g_out, sizeof g_out, &got_seq);
    calls++;
    const uint8_t *pt = inplace ? g_dg + BF_SEAL_SEQ_BYTES : g_out;
    if (mutated) {
      if (rc >= 0) abort(); /* a forgery opened */
    } else if (want == 0) {
      if (rc != (int)plain || got_seq != seq || memcmp(pt, g_plain, plain) != 0) abort();
      model_accept(&m, seq);
    } else if (rc != want) {
      abort();
    }
  }
  bf_opener_stats st;
  bf_opener_stats_get(o, &st);
  if (st.opened + st.short_ + st.oversize + st.replay_old + st.replay_dup + st.bad_tag != calls)
    abort();
  bf_opener_del(&o);
  return 0;
}
