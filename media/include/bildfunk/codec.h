/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Video codecs: the one codec enum of both programs, the names they print and
 * parse, and the codec of an access unit told from its bytes.
 *
 * The values are the control protocol's codec numbers (the Hello's codec
 * masks, the Welcome's codec: BF_CTL_CODEC_* in bildfunk/ctl_codec.h), taken
 * from there rather than written again. The protocol owns its numbers; this
 * enum follows them, so it cannot drift from the wire, and a Welcome's codec
 * converts to a bf_codec with a cast (bf_codec_name() says NULL for a number
 * this build does not know). 0 is no codec on the wire too.
 *
 * Not the control-message codec (that is the control header's encoder and
 * decoder of messages), and no FFmpeg: mapping a bf_codec to a libavcodec
 * decoder or encoder is the program's business. Pure computation.
 */
#ifndef BILDFUNK_CODEC_H
#define BILDFUNK_CODEC_H

#include <bildfunk/ctl_codec.h>

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum bf_codec {
  BF_CODEC_UNKNOWN = 0, /* none, or not known yet (the client's --codec auto) */
  BF_CODEC_H264 = BF_CTL_CODEC_H264,
  BF_CODEC_HEVC = BF_CTL_CODEC_HEVC,
  BF_CODEC_AV1 = BF_CTL_CODEC_AV1,
} bf_codec;

/* "h264", "hevc", "av1", and "unknown" for BF_CODEC_UNKNOWN; NULL for any
 * other value (a wire number this build does not know). Static strings. */
const char *bf_codec_name(bf_codec c);

/* Parses a codec's name, exactly and in lower case: "h264" or "avc", "hevc"
 * or "h265", "av1". Returns 0 with *|out| set, or -EINVAL (|out| untouched)
 * for anything else: NULL, "unknown", and "auto" too, since what to do
 * without a codec (detect it, refuse) is the caller's choice. */
int bf_codec_parse(const char *name, bf_codec *out);

/* Codec of an access unit that starts a sequence (a keyframe): H.264 when an
 * Annex B NAL unit of type 7 (SPS) is present, HEVC for type 32 (VPS), AV1
 * when the data parses as low-overhead OBUs (every one with a size field)
 * containing a sequence header. BF_CODEC_UNKNOWN when none is found. Reads
 * only |len| bytes of |au|; any bytes are safe (untrusted input). */
bf_codec bf_codec_detect(const uint8_t *au, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* BILDFUNK_CODEC_H */
