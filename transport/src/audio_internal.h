/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Internal to the audio modules (audio_wire.c, audio_fec.c): the common
 * header writer. Not public.
 */
#ifndef BF__AUDIO_INTERNAL_H
#define BF__AUDIO_INTERNAL_H

#include <bildfunk/audio_wire.h>

/* Writes the 16-byte common header at |d|; |body| bytes follow it. */
void bf__audio_put_header(uint8_t *d, uint8_t type, const bf_audio_params *p, unsigned k,
                          unsigned m, uint32_t seq, unsigned index, size_t body);

#endif
