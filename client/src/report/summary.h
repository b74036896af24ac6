/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The end of a session: the summary lines on stderr, --stats-json's closing
 * object (the session's figures: decoder, network, seal, control session,
 * keyframe recoveries) and --report's HTML page.
 *
 * Not here: the per-frame records (frame_stats.h writes them as they come),
 * the report's rendering (report.h). Runs once, after the loop, on the
 * shared state (client.h); a file that cannot be written makes the exit
 * code 1 (said).
 */
#ifndef BF_CLIENT_SUMMARY_H
#define BF_CLIENT_SUMMARY_H

#include "client.h"

/* The streaming loop starts: wall clock and CPU time from here (start-up,
 * dynamic linking and window creation excluded). */
void bf_summary_begin(bf_client *c);

/* Writes the summary, the statistics file's end and the report; the
 * session ended at |end_ns|. */
void bf_summary_write(bf_client *c, uint64_t end_ns);

#endif
