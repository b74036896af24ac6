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
 * Block-loss model (bildfunk/fecmodel.h; docs/protocol.md, "Adaptive FEC:
 * the block-loss model"): the reports' missing shards and their runs
 * (loss_runs) are summed with exponential forgetting (a window lossier than
 * the estimate halves the memory, others keep 15/16 of it: the estimate
 * rises within a window and falls over ~10 s) into Gilbert parameters; from
 * them two tables give the parity m of a block of k data shards for which
 * P(block lost) <= |target_ppb| (delta frames) or |target_key_ppb| (keyframes
 * and AUs of more than one block). bf_fecctl_block_m is the larger of that m
 * and the percentage rule's (never less parity than the rule above), capped
 * at |max_percent| of k but never below |small_m_cap| shards (small frames
 * get relatively more parity). Until the first report the model assumes
 * |prior_loss_ppm| (5 %) of independent loss, so the first ~750 ms of a
 * session are not left to the start percentage (measured: at 5 % loss every
 * frame lost on real content was lost there); the first report replaces the
 * prior, and while no report has shown loss the rule alone applies. The
 * prior keeps the 50 % cap without the 8-shard allowance of small frames
 * (it is a guess: on a slow link it must not multiply the first window's
 * packets). Above
 * |model_max_loss_ppm| (10 %, where the rate controller takes loss for
 * congestion) the model adds nothing to the rule: more parity on a link that
 * is too slow only deepens the loss (measured: sender_e2e_rate_h264, a
 * 0.5 Mbit/s link, had its rate cuts undone when small frames got 8 parity
 * shards each).
 *
 * Caller-owned state, no allocation, O(1) per report (a lossy one that moves
 * the estimate: two table passes, ~0.5 ms). Not thread-safe.
 */
#ifndef BILDFUNK_FECCTL_H
#define BILDFUNK_FECCTL_H

#include <bildfunk/fecmodel.h>
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
  int model;                  /* size blocks by the block-loss model: 1 */
  uint32_t target_ppb;        /* P(delta block lost) target, per 10^9: 100000 */
  uint32_t target_key_ppb;    /* keyframes, multi-block AUs: 10000 */
  uint32_t small_m_cap;       /* parity any block may have: 8 shards */
  uint32_t prior_loss_ppm;    /* the model before the first report: 50000 (0 = none) */
  uint32_t model_max_loss_ppm; /* above this estimated loss the rule alone: 100000 */
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
  /* block-loss model */
  double acc_expected, acc_lost, acc_runs; /* forgetting sums of the reports */
  bf_ge ge;                                /* their Gilbert estimate */
  int have_model; /* 0: the rule alone; 1: measured (a lossy report came); 2: the prior */
  uint8_t m_delta[BF_FECMODEL_MAX_N - 1]; /* m by k (1..253) */
  uint8_t m_key[BF_FECMODEL_MAX_N - 1];
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

/* Parity shards for a block of |k| data shards (1..253) of an AU that is a
 * keyframe or has more than one block (|strict|), by the rules above. */
uint32_t bf_fecctl_block_m(const bf_fecctl *c, uint32_t k, int strict);

/* The parity share (%) the model spends on a block of |k| data shards,
 * rounded up (for the rate controller's split of its budget). */
uint32_t bf_fecctl_share_percent(const bf_fecctl *c, uint32_t k);

/* The formula alone: ceil(loss_ppm x gain / 10^7) + headroom, clamped. */
uint32_t bf_fecctl_target(const bf_fecctl_config *cfg, uint32_t loss_ppm);

#ifdef __cplusplus
}
#endif

#endif /* BILDFUNK_FECCTL_H */
