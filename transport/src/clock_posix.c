/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Clocks on POSIX systems: see clock.h.
 */
#include <bildfunk/clock.h>

#include <stdatomic.h>
#include <time.h>

static uint64_t read_clock(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (uint64_t)ts.tv_sec * BF_SEC_NS + (uint64_t)ts.tv_nsec;
}

uint64_t bf_clock_mono_ns(void) {
  return read_clock(CLOCK_MONOTONIC);
}

uint64_t bf_clock_realtime_ns(void) {
  return read_clock(CLOCK_REALTIME);
}

uint64_t bf_clock_epoch_ns(void) {
  static _Atomic uint64_t base;
  uint64_t b = atomic_load_explicit(&base, memory_order_relaxed);
  if (!b) {
    uint64_t want = read_clock(CLOCK_REALTIME) - read_clock(CLOCK_MONOTONIC);
    /* the first caller's base wins, so every caller sees one clock */
    if (!atomic_compare_exchange_strong(&base, &b, want)) return read_clock(CLOCK_MONOTONIC) + b;
    b = want;
  }
  return read_clock(CLOCK_MONOTONIC) + b;
}
