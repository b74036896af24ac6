/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * --preset against the encoder's presets: see enc_preset.h.
 */
#include "enc_preset.h"

#include "encoder.h"

#include <libavcodec/avcodec.h>
#include <libavutil/opt.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* x264_preset_names and x265_preset_names (the same ten) */
static const char *const k_x26x[] = {"ultrafast", "superfast", "veryfast", "faster",   "fast",
                                     "medium",    "slow",      "slower",   "veryslow", "placebo"};

static void add_name(char *list, size_t cap, const char *name) {
  size_t n = strlen(list);
  if (n + 1 < cap) snprintf(list + n, cap - n, "%s%s", n ? ", " : "", name);
}

/* |preset| among the named constants of |opt| (an int option with a unit):
 * 1, else 0 with their names in |list|. */
static int named(const AVClass **cls, const AVOption *opt, const char *preset, char *list,
                 size_t cap) {
  const AVOption *k = NULL;
  while ((k = av_opt_next(cls, k)))
    if (k->type == AV_OPT_TYPE_CONST && k->unit && !strcmp(k->unit, opt->unit)) {
      if (!strcmp(k->name, preset)) return 1;
      add_name(list, cap, k->name);
    }
  return 0;
}

int bf_encoder_check_preset(bf_codec codec, const char *name, const char *preset, char *err,
                            size_t cap) {
  const char *want = name ? name : bf_encoder_default_name(codec);
  const AVCodec *c = want ? avcodec_find_encoder_by_name(want) : NULL;
  if (!c) return -ENOENT;
  char list[512] = "";
  if (!strcmp(c->name, "libx264") || !strcmp(c->name, "libx265")) {
    for (size_t i = 0; i < sizeof k_x26x / sizeof k_x26x[0]; i++) {
      if (!strcmp(preset, k_x26x[i])) return 0;
      add_name(list, sizeof list, k_x26x[i]);
    }
    snprintf(err, cap, "--preset: '%s' is not a preset of %s (%s)", preset, c->name, list);
    return -EINVAL;
  }
  const AVClass *cls = c->priv_class;
  const AVOption *opt =
      cls ? av_opt_find2(&cls, "preset", NULL, 0, AV_OPT_SEARCH_FAKE_OBJ, NULL) : NULL;
  if (!opt) {
    snprintf(err, cap, "--preset: the encoder %s has no presets (leave out --preset)", c->name);
    return -EINVAL;
  }
  if (opt->type != AV_OPT_TYPE_INT && opt->type != AV_OPT_TYPE_INT64) return 0;
  if (opt->unit && named(&cls, opt, preset, list, sizeof list)) return 0;
  char *end;
  long long v = strtoll(preset, &end, 10);
  if (*preset && !*end && (double)v >= opt->min && (double)v <= opt->max) return 0;
  if (list[0])
    snprintf(err, cap, "--preset: '%s' is not a preset of %s (%s, or %g..%g)", preset, c->name,
             list, opt->min, opt->max);
  else
    snprintf(err, cap, "--preset: '%s' is not a preset of %s (a number %g..%g)", preset, c->name,
             opt->min, opt->max);
  return -EINVAL;
}
