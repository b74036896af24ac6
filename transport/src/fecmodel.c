/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Gilbert block-loss model for sizing FEC parity: see bildfunk/fecmodel.h.
 * Forward recursion over the packets of a block: g[j] / b[j] = probability
 * that j packets were lost so far and the last packet's state is good / bad.
 */
#include <bildfunk/fecmodel.h>

#include <string.h>

static double clamp01(double v, double lo) {
  return v < lo ? lo : v > 1.0 ? 1.0 : v;
}

bf_ge bf_ge_estimate(double expected, double lost, double runs) {
  bf_ge g = {0.0, 1.0};
  if (!(expected > 0.0) || !(lost > 0.0)) return g;
  if (lost > expected) lost = expected;
  double q = lost / expected;
  if (q >= 1.0) return (bf_ge){1.0, 1e-9};
  if (runs <= 0.0) return (bf_ge){q, clamp01(1.0 - q, 1e-9)};
  if (runs > lost) runs = lost;
  g.p = clamp01(runs / (expected - lost), 1e-9);
  g.r = clamp01(runs / lost, 1e-9);
  return g;
}

double bf_ge_loss(bf_ge g) {
  return g.p + g.r > 0.0 ? g.p / (g.p + g.r) : 0.0;
}

/* One packet more: states in g/b (0..top losses) move one step. */
static void step(bf_ge m, double *g, double *b, uint32_t top) {
  for (uint32_t j = top + 1; j-- > 0;) {
    double from_g = g[j], from_b = b[j];
    double to_g = from_g * (1.0 - m.p) + from_b * m.r;
    double to_b_prev = j > 0 ? g[j - 1] * m.p + b[j - 1] * (1.0 - m.r) : 0.0;
    g[j] = to_g;
    b[j] = to_b_prev;
  }
}

/* The first packet: the stationary state. */
static void first(bf_ge m, double *g, double *b) {
  double pb = bf_ge_loss(m);
  g[0] = 1.0 - pb;
  b[1] = pb;
}

double bf_fecmodel_fail(bf_ge m, uint32_t n, uint32_t par) {
  if (n == 0 || par >= n) return 0.0;
  if (n > BF_FECMODEL_MAX_N) n = BF_FECMODEL_MAX_N;
  double g[BF_FECMODEL_MAX_N + 2], b[BF_FECMODEL_MAX_N + 2];
  memset(g, 0, sizeof g);
  memset(b, 0, sizeof b);
  first(m, g, b);
  for (uint32_t i = 1; i < n; i++)
    step(m, g, b, i + 1);
  double ok = 0.0;
  for (uint32_t j = 0; j <= par; j++)
    ok += g[j] + b[j];
  double f = 1.0 - ok;
  return f > 0.0 ? f : 0.0;
}

void bf_fecmodel_table(bf_ge m, double target, uint32_t m_min, uint32_t max_k, uint8_t *m_out) {
  if (max_k > BF_FECMODEL_MAX_N - 2) max_k = BF_FECMODEL_MAX_N - 2;
  memset(m_out, 0, max_k + 1);
  double g[BF_FECMODEL_MAX_N + 2], b[BF_FECMODEL_MAX_N + 2], ok[BF_FECMODEL_MAX_N + 2];
  uint8_t done[BF_FECMODEL_MAX_N + 1];
  memset(done, 0, sizeof done);
  memset(g, 0, sizeof g);
  memset(b, 0, sizeof b);
  first(m, g, b);
  uint32_t left = max_k;
  for (uint32_t n = 1; n <= BF_FECMODEL_MAX_N && left; n++) {
    if (n > 1) step(m, g, b, n);
    double acc = 0.0;
    for (uint32_t j = 0; j <= n; j++)
      ok[j] = acc += g[j] + b[j];
    /* blocks of n packets: k = n - par data shards and par parity */
    for (uint32_t par = m_min; par < n; par++) {
      uint32_t k = n - par;
      if (k > max_k || done[k]) continue;
      if (1.0 - ok[par] <= target) {
        m_out[k] = (uint8_t)par;
        done[k] = 1;
        left--;
      }
    }
  }
  for (uint32_t k = 1; k <= max_k; k++)
    if (!done[k]) m_out[k] = (uint8_t)(BF_FECMODEL_MAX_N - k);
}
