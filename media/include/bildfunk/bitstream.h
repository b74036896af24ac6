/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Bitstream helpers: reading encoded video without a decoder. Annex B start
 * codes (the byte streams of H.264 and HEVC access units), AV1 OBU headers in
 * the low-overhead format (each OBU with a size field; the sender's AV1
 * temporal units), and the leb128 numbers those size fields are.
 *
 * Both programs read AUs with these (the sender's keyframe inspection in
 * sender/au.c, the client's codec detection in codec.c), from an encoder, a
 * file or the network: the input is untrusted. Every function takes a length
 * and reads nothing beyond it, for any bytes (fuzz/fuzz_bitstream.c runs them
 * on arbitrary input). Not a validating parser: each reads only the framing
 * it names and leaves the meaning of the payload to the caller. Pure
 * computation: no allocation, no FFmpeg.
 */
#ifndef BILDFUNK_BITSTREAM_H
#define BILDFUNK_BITSTREAM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Annex B (H.264, HEVC) --------------------------------------------- */

#define BF_ANNEXB_START_CODE_BYTES 3u /* 00 00 01 */

/* Offset of the first Annex B start code (00 00 01) at or after |from| in
 * |d| (|len| bytes), or |len| when there is none. A four-byte start code
 * (00 00 00 01) is found at its last three bytes, so its leading zero stays
 * with the NAL unit before it. The NAL unit header follows the start code:
 * at the returned offset + BF_ANNEXB_START_CODE_BYTES, which may be |len|
 * (a start code at the very end). */
size_t bf_annexb_find(const uint8_t *d, size_t len, size_t from);

/* ---- AV1 OBUs (low-overhead bitstream format) -------------------------- */

/* leb128() of the AV1 specification: a little-endian base-128 number of at
 * most 8 bytes. Reads it from |d| (|len| bytes) into *|v| and returns the
 * bytes used (1..8), or 0 when it is cut off (|len| ends while the
 * continuation bit is set) or runs past 8 bytes (*|v| is then undefined).
 * Padded encodings (0x80 0x00 for 0) are valid, as the specification says. */
size_t bf_leb128_read(const uint8_t *d, size_t len, uint64_t *v);

/* obu_type values (AV1 specification 6.2.2). */
enum {
  BF_OBU_SEQUENCE_HEADER = 1,
  BF_OBU_TEMPORAL_DELIMITER = 2,
  BF_OBU_FRAME_HEADER = 3,
  BF_OBU_TILE_GROUP = 4,
  BF_OBU_METADATA = 5,
  BF_OBU_FRAME = 6,
  BF_OBU_REDUNDANT_FRAME_HEADER = 7,
  BF_OBU_TILE_LIST = 8,
  BF_OBU_PADDING = 15,
};

/* One OBU's framing, as bf_obu_read() found it. Offsets are into the
 * caller's buffer. */
typedef struct bf_obu {
  uint8_t header; /* the first header byte, as it is (reserved bit 0 included) */
  unsigned type;  /* obu_type */
  int extension;  /* obu_extension_flag: an extension byte follows the header */
  int has_size;   /* obu_has_size_field; without one the OBU runs to the end */
  size_t payload; /* offset of the payload */
  size_t size;    /* payload bytes */
  size_t end;     /* offset just past the OBU: where the next one starts */
} bf_obu;

/* Reads the framing of the OBU at offset |pos| of |d| (|len| bytes) into
 * |obu|. Returns 0, or -EBADMSG when there is no byte at |pos|, the
 * forbidden bit is set, the extension byte or the size field is cut off, or
 * the size runs past |len|. Whether the rest of the header is acceptable
 * (the reserved bit, a missing size field, the type) is the caller's to say. */
int bf_obu_read(const uint8_t *d, size_t len, size_t pos, bf_obu *obu);

#ifdef __cplusplus
}
#endif

#endif /* BILDFUNK_BITSTREAM_H */
