/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The programs' clocks, read only at the edges (the protocol modules take
 * time as a uint64_t ns value passed in).
 *
 *   bf_clock_mono_ns      CLOCK_MONOTONIC: deadlines, pacing, intervals.
 *   bf_clock_realtime_ns  CLOCK_REALTIME: a video pts (spec §1), pong times.
 *   bf_clock_epoch_ns     CLOCK_MONOTONIC shifted once (at its first call)
 *                         onto the realtime epoch: monotonic, and comparable
 *                         with the sender's CLOCK_REALTIME pts on the same
 *                         machine (the client's clock).
 * Thread-safe; no allocation.
 */
#ifndef BILDFUNK_CLOCK_H
#define BILDFUNK_CLOCK_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BF_MS_NS 1000000ull
#define BF_SEC_NS 1000000000ull

uint64_t bf_clock_mono_ns(void);
uint64_t bf_clock_realtime_ns(void);
uint64_t bf_clock_epoch_ns(void);

#ifdef __cplusplus
}
#endif

#endif /* BILDFUNK_CLOCK_H */
