/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The sender's statistics as the operator and the tests see them: the
 * status line on stderr once a second while streaming, the --stats-json
 * file at exit, and the one-line summary at exit. The JSON's names and
 * meanings are an interface: tests/sender/e2e.sh, tests/security and
 * tests/fire read them, docs/sender.md lists them.
 *
 * Not here: the counting (each stage counts its own into bf_send_state;
 * the channel, the seal and the control plane keep theirs), the latency
 * histogram (hist.h).
 *
 * Reads bf_send_state; the status line also starts the next one-second
 * window. No queue; one thread.
 */
#ifndef BF_SENDER_SEND_STATS_H
#define BF_SENDER_SEND_STATS_H

#include "send_state.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The status line for the window that ends at |now_ns| (not with --quiet
 * or while nobody is streamed to), then a new window. */
void bf_send_stats_status(bf_send_state *s, uint64_t now_ns);
/* Writes the statistics as JSON to |path|. 0 or a negative errno. */
int bf_send_stats_write(const bf_send_state *s, const char *path);
/* The summary line on stderr. */
void bf_send_stats_summary(const bf_send_state *s);

#ifdef __cplusplus
}
#endif

#endif /* BF_SENDER_SEND_STATS_H */
