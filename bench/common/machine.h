/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Shared by every benchmark program: the machine a figure was measured on.
 */
#ifndef BF_BENCH_MACHINE_H
#define BF_BENCH_MACHINE_H

#include <stdio.h>

/* Writes `"machine": {"cpu": ..., "cores": N, "kernel": ...}` without a
 * trailing comma, for inclusion in a JSON object. */
void bf_bench_print_machine(FILE *out);

#endif
