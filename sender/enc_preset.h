/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * --preset checked before anything opens: a preset the encoder does not
 * take is a command-line error (exit 2), said with the presets it does take,
 * not an encoder that fails to open later.
 *
 * What an encoder takes is read from libavcodec (the encoder's "preset"
 * option: its named constants, or its number range, as SVT-AV1's); x264's
 * and x265's presets are strings libavcodec does not list, so their names are
 * written here as the libraries define them. An encoder whose preset is some
 * other free string is left to itself. Not here: opening the encoder
 * (encoder.h). No I/O; libavcodec's tables only.
 */
#ifndef BF_SENDER_ENC_PRESET_H
#define BF_SENDER_ENC_PRESET_H

#include "au.h"

#include <stddef.h>

/* Checks |preset| against what encoder |name| (NULL: |codec|'s software
 * default) takes. 0; -EINVAL with a one-line reason naming the presets in
 * |err|; -ENOENT for an unknown encoder (its own error comes when it is
 * opened). */
int bf_encoder_check_preset(bf_codec codec, const char *name, const char *preset, char *err,
                            size_t errcap);

#endif
