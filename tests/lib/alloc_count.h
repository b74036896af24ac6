/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Counting allocations in a test: a program built with
 * bf_test_count_allocs(TARGET) (tests/cmake/alloc_count.cmake) is linked
 * with -Wl,--wrap=malloc,calloc,realloc, so every such call made by the
 * library's objects and the test's own goes through alloc_count.c's
 * wrappers. The receive and send paths assert "none after warm-up" with it.
 */
#ifndef BF_TEST_ALLOC_COUNT_H
#define BF_TEST_ALLOC_COUNT_H

/* malloc + calloc + realloc calls so far (any thread). */
unsigned long bf_test_allocs(void);
/* 1 when the wrapping works (a malloc is counted): a test asserts it, so a
 * build that lost the link options fails instead of counting nothing. */
int bf_test_allocs_counted(void);

#endif
