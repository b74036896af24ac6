/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Internal: the one check of text that comes from a peer (control-plane
 * strings, the LAN TXT record's name). Defined in ctl_codec.c, where it
 * started. Not a UTF-8 library: it only says yes or no.
 */
#ifndef BF_TRANSPORT_UTF8_H
#define BF_TRANSPORT_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* 1 when |s| (|n| bytes) is well-formed UTF-8 (no overlong forms, no
 * surrogates, <= U+10FFFF) without C0/C1 control characters, DEL or NUL. */
int bf__text_ok(const uint8_t *s, size_t n);

#endif
