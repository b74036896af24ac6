/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * bildfunk-bench: shared helpers. Each subcommand lives in bench_<name>.c and
 * defines `int bf_bench_<name>(int argc, char **argv)`; it prints one JSON
 * object on stdout that includes the machine it ran on.
 */
#ifndef BF_BENCH_H
#define BF_BENCH_H

#include <stdint.h>
#include <stdio.h>

/* Monotonic nanoseconds. */
uint64_t bf_bench_now_ns(void);

/* bf_bench_print_machine(): the machine a figure was measured on. */
#include "common/machine.h"

/* Subcommands; a module that is not linked in leaves its symbol NULL. */
int bf_bench_fec(int argc, char **argv) __attribute__((weak));
int bf_bench_reassembly(int argc, char **argv) __attribute__((weak));
int bf_bench_transport(int argc, char **argv) __attribute__((weak));
int bf_bench_seal(int argc, char **argv) __attribute__((weak));
int bf_bench_input(int argc, char **argv) __attribute__((weak));

#endif
