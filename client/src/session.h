/*
 * The client's one decode/present thread for a direct-mode session: polls
 * the network pump, feeds completed access units through the recovery gate
 * to the decoder, presents the newest picture, handles window events and
 * timers, and sleeps in poll() on the socket (and the display connection)
 * when there is nothing to do.
 *
 * Latency policy: an AU is decoded as soon as it completes; a decoded picture
 * is presented as soon as no newer AU is already waiting (older pictures that
 * a newer one overtakes are counted as replaced, never shown late). With
 * --vsync the present itself waits for the display. The queue of completed
 * AUs holds at most BF_SESSION_QUEUE (latency: at most that many pictures);
 * skip-to-live empties it long before. With --skip-to-live off a full queue
 * drops the newest AU (counted as skipped) rather than block the network side.
 */
#ifndef BF_CLIENT_SESSION_H
#define BF_CLIENT_SESSION_H

#include "client_cli.h"

#include <stdint.h>

#define BF_SESSION_QUEUE 64

/* The client clock: CLOCK_MONOTONIC shifted onto the realtime epoch once at
 * start (monotonic, and comparable with the sender's CLOCK_REALTIME pts on
 * the same machine). ns. */
uint64_t bf_client_now(void);

/* Runs a session per |cli| until the stream ends, the user quits or an
 * error happens. Returns the process exit code (0, 1). */
int bf_session_run(const bf_cli *cli);

#endif
