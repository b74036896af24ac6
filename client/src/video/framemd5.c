/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * ffmpeg-compatible framemd5 writer: see framemd5.h.
 */
#include "framemd5.h"

#include <libavformat/version.h>
#include <libavutil/imgutils.h>
#include <libavutil/md5.h>
#include <libavutil/pixdesc.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct bf_framemd5 {
  FILE *f;
  struct AVMD5 *md5;
  int header_done;
  int err;
};

int bf_framemd5_open(const char *path, bf_framemd5 **out) {
  bf_framemd5 *m = calloc(1, sizeof *m);
  if (!m) return -ENOMEM;
  m->md5 = av_md5_alloc();
  if (!m->md5) {
    free(m);
    return -ENOMEM;
  }
  m->f = strcmp(path, "-") ? fopen(path, "w") : stdout;
  if (!m->f) {
    int e = -errno;
    av_free(m->md5);
    free(m);
    return e;
  }
  *out = m;
  return 0;
}

static int hash_into(struct AVMD5 *md5, const AVFrame *f, char hex[33]) {
  enum AVPixelFormat fmt = (enum AVPixelFormat)f->format;
  const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(fmt);
  if (!d || (d->flags & (AV_PIX_FMT_FLAG_HWACCEL | AV_PIX_FMT_FLAG_PAL))) return -EINVAL;
  int size = av_image_get_buffer_size(fmt, f->width, f->height, 1);
  if (size < 0) return -EINVAL;
  av_md5_init(md5);
  int planes = av_pix_fmt_count_planes(fmt);
  for (int p = 0; p < planes; p++) {
    int row = av_image_get_linesize(fmt, f->width, p);
    int rows = f->height;
    /* chroma planes are subsampled vertically; alpha (plane 3) is not */
    if ((p == 1 || p == 2) && !(d->flags & AV_PIX_FMT_FLAG_RGB))
      rows = -((-f->height) >> d->log2_chroma_h);
    if (row < 0) return -EINVAL;
    for (int y = 0; y < rows; y++)
      av_md5_update(md5, f->data[p] + (ptrdiff_t)y * f->linesize[p], (size_t)row);
  }
  uint8_t sum[16];
  av_md5_final(md5, sum);
  for (int i = 0; i < 16; i++)
    snprintf(hex + 2 * i, 3, "%02x", sum[i]);
  return size;
}

int bf_framemd5_hash(const AVFrame *f, char hex[33]) {
  struct AVMD5 *md5 = av_md5_alloc();
  if (!md5) return -ENOMEM;
  int r = hash_into(md5, f, hex);
  av_free(md5);
  return r;
}

int bf_framemd5_write(bf_framemd5 *m, const AVFrame *f, int64_t pts, AVRational rate) {
  char hex[33];
  int size = hash_into(m->md5, f, hex);
  if (size < 0) return size;
  if (!m->header_done) {
    if (rate.num <= 0 || rate.den <= 0) rate = (AVRational){25, 1};
    AVRational tb = av_inv_q(rate);
    /* printed as the decoder reports it; unknown is 0/1, as in ffmpeg */
    AVRational sar = f->sample_aspect_ratio;
    if (sar.num < 0 || sar.den <= 0) sar = (AVRational){0, 1};
    /* the same lines, in the same order, as libavformat's framehash
     * header for one rawvideo stream */
    if (fprintf(m->f,
                "#format: frame checksums\n#version: 2\n#hash: MD5\n#software: %s\n"
                "#tb 0: %d/%d\n#media_type 0: video\n#codec_id 0: rawvideo\n"
                "#dimensions 0: %dx%d\n#sar 0: %d/%d\n"
                "#stream#, dts,        pts, duration,     size, hash\n",
                LIBAVFORMAT_IDENT, tb.num, tb.den, f->width, f->height, sar.num, sar.den) < 0)
      m->err = 1;
    m->header_done = 1;
  }
  if (fprintf(m->f, "0, %10lld, %10lld, %8d, %8d, %s\n", (long long)pts, (long long)pts, 1, size,
              hex) < 0)
    m->err = 1;
  return m->err ? -EIO : 0;
}

int bf_framemd5_close(bf_framemd5 **pm) {
  bf_framemd5 *m = *pm;
  if (!m) return 0;
  int err = m->err || ferror(m->f);
  if (m->f == stdout) {
    if (fflush(m->f) != 0) err = 1;
  } else if (fclose(m->f) != 0) {
    err = 1;
  }
  av_free(m->md5);
  free(m);
  *pm = NULL;
  return err ? -EIO : 0;
}
