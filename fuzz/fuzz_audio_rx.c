/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * libFuzzer: the client's audio receive path. The input is a sequence of
 * datagrams (u16 length, bytes) pushed into the Reed-Solomon receiver
 * (bf_audio_rx) as the client's channel handler does; every frame handed
 * on must lie inside the receiver's storage or the datagram, with a length
 * in range. Malformed ones must be counted, never crash or leak.
 */
#include <bildfunk/audio_wire.h>

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static bf_audio_rx *rx;
  if (!rx && bf_audio_rx_new(&rx) != 0) abort();
  bf_audio_rx_reset(rx);
  size_t off = 0;
  while (off + 2 <= size) {
    size_t len = (size_t)data[off] | (size_t)data[off + 1] << 8;
    off += 2;
    if (len > size - off) len = size - off;
    uint8_t d[BF_AUDIO_MAX_PLAIN + 8];
    size_t n = len < sizeof d ? len : sizeof d;
    memcpy(d, data + off, n);
    off += len;
    bf_audio_frame fr[1 + BF_AUDIO_FEC_MAX_M];
    bf_audio_params p;
    int r = bf_audio_rx_push(rx, d, n, fr, &p);
    for (int i = 0; i < r; i++) {
      if (fr[i].opus_len == 0 || fr[i].opus_len > BF_AUDIO_MAX_OPUS) abort();
      volatile uint8_t sink = 0;
      for (size_t k = 0; k < fr[i].opus_len; k++)
        sink ^= fr[i].opus[k]; /* ASan: every byte readable */
      (void)sink;
    }
  }
  return 0;
}
