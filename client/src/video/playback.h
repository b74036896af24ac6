/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The video stage: completed access units from the network side into the
 * AU queue (frame_index order), through the decode gate to the decoder, the
 * newest picture kept pending and presented on the display with the overlay;
 * the overlay's text; the frames' fates into the statistics.
 *
 * Latency policy: an AU is decoded as soon as it completes; a decoded picture
 * is presented as soon as no newer AU is already waiting (older pictures that
 * a newer one overtakes are counted as replaced, never shown late). With
 * --vsync the present itself waits for the display. The queue holds at most
 * BF_AU_QUEUE_MAX AUs (latency: at most that many pictures); skip-to-live
 * empties it long before. With --skip-to-live off a full queue drops the
 * newest AU (counted as skipped) rather than block the network side. One
 * pending picture (an AVFrame reference, replaced by a newer one).
 *
 * Not here: receiving (the pump), when a turn runs and in which order
 * (streaming.h), the window's events. Every function works on the shared
 * state (client.h) and returns; the frames taken from the pump are released
 * to it here.
 */
#ifndef BF_CLIENT_PLAYBACK_H
#define BF_CLIENT_PLAYBACK_H

#include "client.h"

/* Takes the pump's events: completed AUs into the queue, losses and short
 * blocks to the decode gate; the gate's reorder allowance. */
void bf_playback_take_events(bf_client *c, uint64_t now);

/* Video came back after a silence (maybe a new sender): the gate and the
 * frame interval start over. */
void bf_playback_restart(bf_client *c);

/* The decoder's backlog: the queued AUs the gate would decode (held ones
 * and ones it would drop are none). */
uint32_t bf_playback_backlog(const bf_client *c);

/* Drops every queued AU (counted as skipped) and the reassembler's window;
 * the gate then asks for a keyframe. */
void bf_playback_skip_to_live(bf_client *c, uint64_t now);

/* Opens the decoder before the stream (the codec the control session's
 * Welcome names, or --codec): the decoder's set-up and hardware probing are
 * then not paid by the first picture. 0, or negative (said: the stream
 * ends); nothing done for BF_CODEC_UNKNOWN. */
int bf_playback_prepare(bf_client *c, bf_codec codec);

/* Decodes the oldest queued AU (or drops it, as the gate says). Returns 0
 * when it is held for an earlier one (nothing done), else 1. May end the
 * stream (--frames, a decoder or --framemd5 failure: c->done). */
int bf_playback_decode_one(bf_client *c);

/* Shows the pending picture (upload, overlay, present), if any. */
void bf_playback_present(bf_client *c);

/* The stream ended: the pending picture shown, the AUs still queued counted
 * as skipped (never decoded). */
void bf_playback_flush(bf_client *c, uint64_t now);

/* The overlay: its text rebuilt (due at c->next_text_ns: 4 Hz while
 * pictures come, 1 Hz when idle), the last picture presented again with it,
 * another level (the font follows the window's size). */
void bf_playback_overlay_text(bf_client *c, uint64_t now);
void bf_playback_redraw(bf_client *c);
void bf_playback_set_overlay(bf_client *c, bf_overlay_level level);

#endif
