/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The small subset of the cmocka API the portable test programs use, for the
 * Windows cross-build (cmocka is not packaged for mingw-w64). The same test
 * sources build against the real cmocka on Linux; tests/CMakeLists.txt puts
 * this directory on the include path only when building for Windows.
 *
 * Semantics follow cmocka 1.1: a failed assertion ends the current test
 * (longjmp), skip() ends it as skipped, the group's return value is the
 * number of failed tests. No mocks, no leak checking.
 */
#ifndef BF_WIN_CMOCKA_H
#define BF_WIN_CMOCKA_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef void (*CMUnitTestFunction)(void **state);
typedef int (*CMFixtureFunction)(void **state);

struct CMUnitTest {
  const char *name;
  CMUnitTestFunction test_func;
  CMFixtureFunction setup_func;
  CMFixtureFunction teardown_func;
  void *initial_state;
};

#define cmocka_unit_test(f)                                                                        \
  { #f, f, NULL, NULL, NULL }
#define cmocka_unit_test_setup_teardown(f, s, t)                                                   \
  { #f, f, s, t, NULL }

static jmp_buf bf__cm_jump;
static int bf__cm_in_test;

enum { BF__CM_FAIL = 1, BF__CM_SKIP = 2 };

static inline void bf__cm_fail(const char *file, int line, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "[  ERROR   ] --- ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n[   LINE   ] --- %s:%d: error: Failure!\n", file, line);
  va_end(ap);
  fflush(stderr);
  if (bf__cm_in_test) longjmp(bf__cm_jump, BF__CM_FAIL);
}

static inline void bf__cm_skip(void) {
  if (bf__cm_in_test) longjmp(bf__cm_jump, BF__CM_SKIP);
}

#define bf__cm_check(cond, ...)                                                                    \
  do {                                                                                             \
    if (!(cond)) bf__cm_fail(__FILE__, __LINE__, __VA_ARGS__);                                     \
  } while (0)

#define assert_true(c) bf__cm_check((c), "%s", #c)
#define assert_false(c) bf__cm_check(!(c), "!(%s)", #c)
#define assert_non_null(p) bf__cm_check((p) != NULL, "%s is NULL", #p)
#define assert_null(p) bf__cm_check((p) == NULL, "%s is not NULL", #p)
#define assert_ptr_equal(a, b)                                                                     \
  bf__cm_check((const void *)(a) == (const void *)(b), "%p != %p", (const void *)(a),              \
               (const void *)(b))
#define assert_ptr_not_equal(a, b)                                                                 \
  bf__cm_check((const void *)(a) != (const void *)(b), "%p == %p", (const void *)(a),              \
               (const void *)(b))
/* As in cmocka, integers compare as the largest unsigned type. */
#define assert_int_equal(a, b)                                                                     \
  do {                                                                                             \
    uintmax_t bf__a = (uintmax_t)(a), bf__b = (uintmax_t)(b);                                      \
    bf__cm_check(bf__a == bf__b, "%#jx != %#jx", bf__a, bf__b);                                    \
  } while (0)
#define assert_int_not_equal(a, b)                                                                 \
  do {                                                                                             \
    uintmax_t bf__a = (uintmax_t)(a), bf__b = (uintmax_t)(b);                                      \
    bf__cm_check(bf__a != bf__b, "%#jx == %#jx", bf__a, bf__b);                                    \
  } while (0)
#define assert_in_range(v, lo, hi)                                                                 \
  do {                                                                                             \
    uintmax_t bf__v = (uintmax_t)(v), bf__l = (uintmax_t)(lo), bf__h = (uintmax_t)(hi);            \
    bf__cm_check(bf__v >= bf__l && bf__v <= bf__h, "%#jx is not within [%#jx, %#jx]", bf__v,       \
                 bf__l, bf__h);                                                                    \
  } while (0)
#define assert_string_equal(a, b) bf__cm_check(strcmp((a), (b)) == 0, "\"%s\" != \"%s\"", (a), (b))
#define assert_string_not_equal(a, b)                                                              \
  bf__cm_check(strcmp((a), (b)) != 0, "\"%s\" == \"%s\"", (a), (b))
#define assert_memory_equal(a, b, n)                                                               \
  bf__cm_check(memcmp((a), (b), (n)) == 0, "%zu bytes of %s and %s differ", (size_t)(n), #a, #b)
#define assert_memory_not_equal(a, b, n)                                                           \
  bf__cm_check(memcmp((a), (b), (n)) != 0, "%zu bytes of %s and %s are equal", (size_t)(n), #a, #b)
#define fail() bf__cm_fail(__FILE__, __LINE__, "fail()")
#define fail_msg(...) bf__cm_fail(__FILE__, __LINE__, __VA_ARGS__)
#define skip() bf__cm_skip()
#define print_message(...) printf(__VA_ARGS__)
#define print_error(...) fprintf(stderr, __VA_ARGS__)

static inline int bf__cm_run(const struct CMUnitTest *tests, size_t n, const char *group,
                             CMFixtureFunction setup, CMFixtureFunction teardown) {
  void *group_state = NULL;
  volatile int failed = 0, skipped = 0; /* live across setjmp */
  printf("[==========] Running %zu test(s).\n", n);
  if (setup && setup(&group_state) != 0) {
    printf("[  ERROR   ] %s group setup failed\n", group);
    return (int)n;
  }
  for (size_t i = 0; i < n; i++) {
    /* volatile: read after a longjmp back into this frame */
    volatile int outcome = 0;
    void *state = tests[i].initial_state ? tests[i].initial_state : group_state;
    printf("[ RUN      ] %s\n", tests[i].name);
    fflush(stdout);
    int jumped = setjmp(bf__cm_jump);
    if (jumped == 0) {
      bf__cm_in_test = 1;
      if (tests[i].setup_func && tests[i].setup_func(&state) != 0) {
        outcome = BF__CM_FAIL;
      } else {
        tests[i].test_func(&state);
        if (tests[i].teardown_func && tests[i].teardown_func(&state) != 0) outcome = BF__CM_FAIL;
      }
    } else {
      outcome = jumped;
    }
    bf__cm_in_test = 0;
    if (outcome == BF__CM_FAIL) {
      failed++;
      printf("[  FAILED  ] %s\n", tests[i].name);
    } else if (outcome == BF__CM_SKIP) {
      skipped++;
      printf("[  SKIPPED ] %s\n", tests[i].name);
    } else {
      printf("[       OK ] %s\n", tests[i].name);
    }
    fflush(stdout);
  }
  if (teardown) (void)teardown(&group_state);
  printf("[==========] %zu test(s) run.\n", n);
  printf("[  PASSED  ] %zu test(s).\n", n - (size_t)failed - (size_t)skipped);
  if (skipped) printf("[  SKIPPED ] %d test(s).\n", skipped);
  if (failed) printf("[  FAILED  ] %d test(s).\n", failed);
  return failed;
}

#define cmocka_run_group_tests(tests, setup, teardown)                                             \
  bf__cm_run((tests), sizeof(tests) / sizeof((tests)[0]), #tests, (setup), (teardown))

#endif /* BF_WIN_CMOCKA_H */
