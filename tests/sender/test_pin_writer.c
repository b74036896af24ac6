/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The sender's pin file writer (sender/pin_writer.c) with real files in a
 * temporary directory: jobs written in order and their results handed back
 * through the wake-up descriptor, a failed write reported, the queue bound,
 * the pins put back after a reload while the file may lack them (never the
 * failed ones), and bf_pin_writer_del() writing what is still queued.
 */
#include "testutil.h"

#include "pin_writer.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char g_dir[256];

static int setup(void **state) {
  (void)state;
  snprintf(g_dir, sizeof g_dir, "%s/bf-pinw-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
  return mkdtemp(g_dir) ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
  return system(cmd) == 0 ? 0 : -1;
}

static void file_in_dir(char *out, size_t cap, const char *name) {
  snprintf(out, cap, "%s/%s", g_dir, name);
}

static bf_pin_job job_of(uint64_t tag, uint8_t fill, const char *name) {
  bf_pin_job j;
  memset(&j, 0, sizeof j);
  j.tag = tag;
  memset(j.fp, fill, sizeof j.fp);
  snprintf(j.name, sizeof j.name, "%s", name);
  j.paired_unix = 1700000000 + (int64_t)tag;
  return j;
}

/* Waits (up to 5 s) for results and pops them until |want| are in |out|. */
static void pop_n(bf_pin_writer *w, bf_pin_job *out, size_t want) {
  size_t got = 0;
  for (int i = 0; i < 500 && got < want; i++) {
    struct pollfd p = {bf_pin_writer_fd(w), POLLIN, 0};
    poll(&p, 1, 10);
    while (got < want && bf_pin_writer_pop(w, &out[got]))
      got++;
  }
  assert_int_equal(got, want);
}

static void test_in_order(void **state) {
  (void)state;
  char path[300];
  file_in_dir(path, sizeof path, "clients");
  bf_pin_writer *w = NULL;
  assert_int_equal(bf_pin_writer_new(path, &w), 0);
  bf_pin_job none;
  assert_int_equal(bf_pin_writer_pop(w, &none), 0);
  for (uint64_t t = 1; t <= 3; t++) {
    bf_pin_job j = job_of(t, (uint8_t)(0x10 * t), t == 2 ? "tv" : "laptop");
    assert_int_equal(bf_pin_writer_push(w, &j), 0);
  }
  bf_pin_job done[3];
  pop_n(w, done, 3);
  for (int i = 0; i < 3; i++) {
    assert_true(done[i].tag == (uint64_t)i + 1);
    assert_int_equal(done[i].result, 0);
  }
  assert_int_equal(bf_pin_writer_pop(w, &none), 0);
  bf_pin_writer_del(&w);
  assert_null(w);
  bf_pinstore *ps = NULL;
  assert_int_equal(bf_pinstore_open(path, &ps), 0);
  assert_int_equal(bf_pinstore_count(ps), 3);
  assert_string_equal(bf_pinstore_at(ps, 1)->name, "tv");
  assert_true(bf_pinstore_at(ps, 2)->paired_unix == 1700000003);
  bf_pinstore_del(&ps);
}

static void test_failure(void **state) {
  (void)state;
  char path[300];
  file_in_dir(path, sizeof path, "missing/clients"); /* no such directory */
  bf_pin_writer *w = NULL;
  assert_int_equal(bf_pin_writer_new(path, &w), 0);
  bf_pin_job j = job_of(7, 0x42, "laptop");
  assert_int_equal(bf_pin_writer_push(w, &j), 0);
  bf_pin_job done;
  pop_n(w, &done, 1);
  assert_true(done.tag == 7);
  assert_int_equal(done.result, -ENOENT);
  /* a failed pin is not put back after a reload */
  assert_int_equal(bf_pin_writer_push(w, &j), 0);
  for (int i = 0; i < 500; i++) { /* done, not popped */
    struct pollfd p = {bf_pin_writer_fd(w), POLLIN, 0};
    if (poll(&p, 1, 10) > 0) break;
  }
  bf_pinstore *mem = NULL;
  assert_int_equal(bf_pinstore_open(NULL, &mem), 0);
  bf_pin_writer_reapply(w, mem);
  assert_int_equal(bf_pinstore_count(mem), 0);
  bf_pinstore_del(&mem);
  bf_pin_writer_del(&w);
}

/* A full queue says so; every pin in it (queued, being written or written
 * and not popped) comes back after a reload, later pins last. */
static void test_bound_and_reapply(void **state) {
  (void)state;
  char path[300];
  file_in_dir(path, sizeof path, "bound");
  bf_pin_writer *w = NULL;
  assert_int_equal(bf_pin_writer_new(path, &w), 0);
  for (uint64_t t = 0; t < BF_PIN_WRITER_JOBS; t++) {
    bf_pin_job j = job_of(t, (uint8_t)t, "c");
    assert_int_equal(bf_pin_writer_push(w, &j), 0);
  }
  bf_pin_job extra = job_of(99, 0x99, "late");
  assert_int_equal(bf_pin_writer_push(w, &extra), -EAGAIN);
  bf_pinstore *mem = NULL;
  assert_int_equal(bf_pinstore_open(NULL, &mem), 0);
  bf_pin_writer_reapply(w, mem);
  assert_int_equal(bf_pinstore_count(mem), BF_PIN_WRITER_JOBS);
  bf_pin_job done[BF_PIN_WRITER_JOBS];
  pop_n(w, done, BF_PIN_WRITER_JOBS);
  assert_int_equal(bf_pin_writer_push(w, &extra), 0); /* room again */
  bf_pinstore_del(&mem);
  bf_pin_writer_del(&w);
  bf_pinstore *ps = NULL;
  assert_int_equal(bf_pinstore_open(path, &ps), 0);
  assert_int_equal(bf_pinstore_count(ps), BF_PIN_WRITER_JOBS + 1);
  bf_pinstore_del(&ps);
}

/* The same client paired twice before the file caught up: the later pin
 * (its name) is what the store holds after a reapply. */
static void test_reapply_order(void **state) {
  (void)state;
  char path[300];
  file_in_dir(path, sizeof path, "order");
  bf_pin_writer *w = NULL;
  assert_int_equal(bf_pin_writer_new(path, &w), 0);
  bf_pin_job a = job_of(1, 0x33, "old-name"), b = job_of(2, 0x33, "new-name");
  assert_int_equal(bf_pin_writer_push(w, &a), 0);
  assert_int_equal(bf_pin_writer_push(w, &b), 0);
  bf_pinstore *mem = NULL;
  assert_int_equal(bf_pinstore_open(NULL, &mem), 0);
  bf_pin_writer_reapply(w, mem);
  assert_int_equal(bf_pinstore_count(mem), 1);
  assert_string_equal(bf_pinstore_at(mem, 0)->name, "new-name");
  bf_pinstore_del(&mem);
  bf_pin_writer_del(&w);
}

/* bf_pin_writer_del() writes what is still queued before it returns. */
static void test_del_writes_queue(void **state) {
  (void)state;
  char path[300];
  file_in_dir(path, sizeof path, "at-exit");
  bf_pin_writer *w = NULL;
  assert_int_equal(bf_pin_writer_new(path, &w), 0);
  for (uint64_t t = 1; t <= 5; t++) {
    bf_pin_job j = job_of(t, (uint8_t)(0xa0 + t), "c");
    assert_int_equal(bf_pin_writer_push(w, &j), 0);
  }
  bf_pin_writer_del(&w);
  bf_pinstore *ps = NULL;
  assert_int_equal(bf_pinstore_open(path, &ps), 0);
  assert_int_equal(bf_pinstore_count(ps), 5);
  bf_pinstore_del(&ps);
  bf_pin_writer_del(&w); /* NULL is fine */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_in_order),          cmocka_unit_test(test_failure),
      cmocka_unit_test(test_bound_and_reapply), cmocka_unit_test(test_reapply_order),
      cmocka_unit_test(test_del_writes_queue),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
