/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * libFuzzer: arbitrary bytes as a control stream, fed to the framer in
 * chunks whose sizes come from the input's first bytes, checked against a
 * plain walk of the same bytes (header, length, skip) that calls the
 * decoder on each contiguous body: both must yield the same messages and
 * stop with the same error at the same frame. Every decoded message must
 * re-encode to a prefix of its original body (trailing bytes are
 * extension) and decode again to itself.
 */
#include <bildfunk/ctl_codec.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bf_ctl_framer g_f;

static void check_reencode(const bf_ctl_msg *m, const uint8_t *body, size_t len) {
  uint8_t e[BF_CTL_MAX_ENCODED];
  const int n = bf_ctl_encode(m, e, sizeof e);
  if (n < (int)BF_CTL_HEADER_BYTES) abort();
  const size_t bl = (size_t)n - BF_CTL_HEADER_BYTES;
  if (bl > len || memcmp(e + BF_CTL_HEADER_BYTES, body, bl) != 0) abort();
  if (e[5] != (uint8_t)m->type) abort();
  bf_ctl_msg again;
  if (bf_ctl_decode(e[5], e + BF_CTL_HEADER_BYTES, bl, &again, NULL) != 0) abort();
  if (memcmp(&again, m, sizeof again) != 0) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2) return 0;
  const unsigned chunk_seed = data[0] | (unsigned)data[1] << 8;
  data += 2;
  size -= 2;

  /* reference walk */
  enum { MAXM = 256 };
  static bf_ctl_msg want[MAXM];
  size_t nwant = 0, off = 0;
  int want_err = 0;
  while (nwant < MAXM && size - off >= BF_CTL_HEADER_BYTES) {
    const uint8_t *h = data + off;
    const uint32_t bl =
        (uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16 | (uint32_t)h[3] << 24;
    if (h[4] != BF_CTL_FRAME_VERSION) {
      want_err = -EPROTONOSUPPORT;
      break;
    }
    if (bl > BF_CTL_MAX_BODY) {
      want_err = -EMSGSIZE;
      break;
    }
    if (h[5] == 0) {
      want_err = -EBADMSG;
      break;
    }
    if (size - off - BF_CTL_HEADER_BYTES < bl) break; /* incomplete */
    const uint8_t *body = h + BF_CTL_HEADER_BYTES;
    const int rc = bf_ctl_decode(h[5], body, bl, &want[nwant], NULL);
    off += BF_CTL_HEADER_BYTES + bl;
    if (rc == -ENOENT) continue; /* unknown type: skipped */
    if (rc) {
      if (rc != -EBADMSG) abort();
      want_err = rc;
      break;
    }
    check_reencode(&want[nwant], body, bl);
    nwant++;
  }
  if (nwant == MAXM) return 0; /* keep the comparison simple */

  /* the framer, in chunks */
  bf_ctl_framer_init(&g_f);
  size_t pos = 0, got = 0;
  unsigned rng = chunk_seed * 2654435761u + 1;
  int err = 0;
  bf_ctl_msg m;
  while (pos < size && !err) {
    rng = rng * 1103515245u + 12345u;
    size_t c = 1 + (rng >> 16) % (chunk_seed % 7 == 0 ? 1u : 97u);
    if (c > size - pos) c = size - pos;
    size_t cpos = 0;
    while (cpos < c) {
      size_t used = 0;
      const int rc = bf_ctl_framer_feed(&g_f, data + pos + cpos, c - cpos, &used, &m);
      if (used > c - cpos) abort();
      cpos += used;
      if (rc < 0) {
        err = rc;
        if (!bf_ctl_framer_why(&g_f)[0]) abort(); /* every error is named */
        break;
      }
      if (rc == 0) {
        if (cpos != c) abort();
        break;
      }
      if (got >= nwant || memcmp(&m, &want[got], sizeof m) != 0) abort();
      got++;
    }
    pos += c;
  }
  if (got != nwant || err != want_err) abort();
  if (!err && bf_ctl_framer_idle(&g_f) != (off == size)) abort();
  return 0;
}
