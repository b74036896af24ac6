/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Adaptive FEC controller (sans-I/O): turns the client's LOSS_REPORTs
 * (feedback.h, one per ~750 ms window) into the parity percentage the sender
 * hands to bf_packetizer_set_fec_percent for the next AU. It is not the
 * packetizer and sends nothing; the caller feeds reports with the monotonic
 * time they arrived and reads the percentage.
 *
 * Rule (docs/protocol.md, "Adaptive FEC"):
 *  - Before the first usable report the percentage is |start_percent| (10).
 *  - Each report sets target = ceil(loss% x 1.4) + 1, clamped to [1, 50]
 *    (loss% = loss_ppm / 10^4; loss_ppm above 10^6 counts as 10^6).
 *  - Any loss (loss_ppm > 0) "burns" a floor of 5 %: the percentage is
 *    max(target, floor). The floor decays by 1 % for every |decay_windows|
 *    (160, ~2 min) clean windows in a row; until it is back at the minimum
 *    the controller is on probation, and a loss that comes back after a clean
 *    window during probation doubles the requirement (up to 1280 windows).
 *    When the floor is back at the minimum the requirement is 160 again.
 *  - Clean windows are credited by the caller's clock, not by counting
 *    reports: each report earns the time since the previous one, at most two
 *    nominal windows. A silent client (no reports) therefore ratchets
 *    nothing, and a client that floods reports cannot speed up the decay.
 *  - A report that says nothing (no packet received, none missing, loss 0)
 *    is ignored. window_ms is informational (0 is accepted).
 *
 * Caller-owned state, no allocation, O(1) per report. Not thread-safe.
 */
#ifndef BILDFUNK_FECCTL_H
#define BILDFUNK_FECCTL_H

#include <bildfunk/feedback.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bf_fecctl_config {
  uint32_t start_percent;     /* before any report: 10 */
  uint32_t min_percent;       /* 1 */
  uint32_t max_percent;       /* 50 */
  uint32_t floor_percent;     /* the floor a loss burns in: 5 */
  uint32_t gain_permille;     /* target = ceil(loss% x gain/1000) + headroom: 1400 */
  uint32_t headroom_percent;  /* 1 */
  uint32_t decay_windows;     /* clean windows that re-earn 1 %: 160 */
  uint32_t decay_windows_max; /* cap of the doubled requirement: 1280 */
  uint64_t window_ns;         /* nominal report window: BF_FB_LOSS_WINDOW_NS */
} bf_fecctl_config;

void bf_fecctl_config_default(bf_fecctl_config *cfg);

typedef struct bf_fecctl_stats {
  uint64_t reports; /* reports used */
  uint64_t ignored; /* reports that said nothing, or were not LOSS_REPORTs */
  uint64_t lossy;   /* reports with loss_ppm > 0 */
  uint64_t burns;   /* lossy reports that (re)set the floor after a clean one */
  uint64_t reburns; /* of which during probation (requirement doubled) */
  uint64_t decays;  /* 1 % of floor re-earned */
  uint64_t changes; /* the percentage changed */
} bf_fecctl_stats;

typedef struct bf_fecctl {
  bf_fecctl_config cfg;
  uint32_t percent;      /* what to apply now */
  uint32_t target;       /* the formula's value for the last report */
  uint32_t floor;        /* current floor, >= min_percent */
  uint32_t need_windows; /* clean windows that earn the next 1 % */
  uint64_t clean_ns;     /* clean time credited since the last burn or decay */
  uint64_t last_ns;      /* arrival of the previous report */
  int have_last;         /* a report has arrived */
  int last_lossy;        /* the previous report had loss */
  uint32_t last_loss_ppm;
  bf_fecctl_stats stats;
} bf_fecctl;

/* Sets up |c| (caller-owned) with |cfg| (NULL = defaults; values out of
 * range are clamped into a consistent set). */
void bf_fecctl_init(bf_fecctl *c, const bf_fecctl_config *cfg);

/* Forgets everything (a new client): back to the start percentage. Keeps the
 * configuration and the statistics. */
void bf_fecctl_reset(bf_fecctl *c);

/* Takes one LOSS_REPORT that arrived at |now_ns| (monotonic). Returns 1 when
 * the percentage changed, 0 when not, -EINVAL when |fb| is not a
 * LOSS_REPORT (counted as ignored). */
int bf_fecctl_on_report(bf_fecctl *c, const bf_feedback *fb, uint64_t now_ns);

/* The parity percentage to use for the next AU. */
uint32_t bf_fecctl_percent(const bf_fecctl *c);

/* The formula alone: ceil(loss_ppm x gain / 10^7) + headroom, clamped. */
uint32_t bf_fecctl_target(const bf_fecctl_config *cfg, uint32_t loss_ppm);

#ifdef __cplusplus
}
#endif

#endif /* BILDFUNK_FECCTL_H */
