/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Codec names and detection: see codec.h. One table holds every name; the
 * bitstream reading is bitstream.c's.
 */
#include <bildfunk/bitstream.h>
#include <bildfunk/codec.h>

#include <errno.h>
#include <string.h>

static const struct {
  bf_codec codec;
  const char *name;  /* what the programs print */
  const char *alias; /* also accepted by bf_codec_parse() */
} codecs[] = {
    {BF_CODEC_H264, "h264", "avc"},
    {BF_CODEC_HEVC, "hevc", "h265"},
    {BF_CODEC_AV1, "av1", NULL},
};

const char *bf_codec_name(bf_codec c) {
  if (c == BF_CODEC_UNKNOWN) return "unknown";
  for (size_t i = 0; i < sizeof codecs / sizeof codecs[0]; i++)
    if (codecs[i].codec == c) return codecs[i].name;
  return NULL;
}

int bf_codec_parse(const char *name, bf_codec *out) {
  if (!name) return -EINVAL;
  for (size_t i = 0; i < sizeof codecs / sizeof codecs[0]; i++)
    if (!strcmp(name, codecs[i].name) || (codecs[i].alias && !strcmp(name, codecs[i].alias))) {
      *out = codecs[i].codec;
      return 0;
    }
  return -EINVAL;
}

/* Annex B: looks at every NAL unit header after a 00 00 01 start code. */
static bf_codec detect_annexb(const uint8_t *p, size_t len) {
  for (size_t i = bf_annexb_find(p, len, 0); i + 4 < len;
       i = bf_annexb_find(p, len, i + BF_ANNEXB_START_CODE_BYTES)) {
    uint8_t b0 = p[i + 3], b1 = p[i + 4];
    if (b0 & 0x80) continue;                    /* forbidden_zero_bit */
    if ((b0 & 0x1f) == 7) return BF_CODEC_H264; /* SPS */
    /* HEVC VPS: type 32, nuh_layer_id 0, temporal_id_plus1 != 0 */
    if (b0 == 0x40 && (b1 & 0xf8) == 0 && (b1 & 7) != 0) return BF_CODEC_HEVC;
  }
  return BF_CODEC_UNKNOWN;
}

/* Low-overhead bitstream format: every OBU must have a size field, a known
 * type and its reserved bit clear. */
static bf_codec detect_av1(const uint8_t *p, size_t len) {
  bf_obu o;
  for (size_t i = 0; i < len; i = o.end) {
    if (bf_obu_read(p, len, i, &o) < 0 || (o.header & 0x01)) return BF_CODEC_UNKNOWN;
    if (!o.has_size || o.type == 0 || (o.type > BF_OBU_TILE_LIST && o.type != BF_OBU_PADDING))
      return BF_CODEC_UNKNOWN;
    if (o.type == BF_OBU_SEQUENCE_HEADER) return BF_CODEC_AV1;
  }
  return BF_CODEC_UNKNOWN;
}

bf_codec bf_codec_detect(const uint8_t *au, size_t len) {
  if (len >= 3 && au[0] == 0 && au[1] == 0) return detect_annexb(au, len);
  return detect_av1(au, len);
}
