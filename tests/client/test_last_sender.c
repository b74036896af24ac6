/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The last sender's file: what is written is read back, a missing file or
 * one that is not one clean line (spaces, control bytes, two lines, longer
 * than the caller takes) gives no prefill, and writing leaves no temporary
 * file behind.
 */
#include "testutil.h"

#include "setup/last_sender.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64];

static int setup(void **state) {
  (void)state;
  snprintf(dir, sizeof dir, "/tmp/bf_last_sender.XXXXXX");
  return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  char path[128];
  snprintf(path, sizeof path, "%s/last-sender", dir);
  unlink(path);
  return rmdir(dir);
}

static void put(const char *bytes) {
  char path[128];
  snprintf(path, sizeof path, "%s/last-sender", dir);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(bytes, f);
  fclose(f);
}

static void test_roundtrip(void **state) {
  (void)state;
  char out[96], where[256];
  bf_last_sender_read(dir, out, sizeof out);
  assert_string_equal(out, ""); /* no file yet */
  assert_int_equal(bf_last_sender_write(dir, "studio.lan:47999", where, sizeof where), 0);
  bf_last_sender_read(dir, out, sizeof out);
  assert_string_equal(out, "studio.lan:47999");
  assert_int_equal(bf_last_sender_write(dir, "[::1]:5000", where, sizeof where), 0);
  bf_last_sender_read(dir, out, sizeof out);
  assert_string_equal(out, "[::1]:5000");
  /* only the file itself is left */
  DIR *d = opendir(dir);
  assert_non_null(d);
  struct dirent *e;
  int files = 0;
  while ((e = readdir(d)))
    if (e->d_name[0] != '.') {
      assert_string_equal(e->d_name, "last-sender");
      files++;
    }
  closedir(d);
  assert_int_equal(files, 1);
  /* a directory that does not exist: the path it failed on */
  char missing[128];
  snprintf(missing, sizeof missing, "%s/nope", dir);
  assert_int_equal(bf_last_sender_write(missing, "x", where, sizeof where), -ENOENT);
  assert_non_null(strstr(where, "/nope/last-sender"));
}

static void test_unclean(void **state) {
  (void)state;
  char out[8];
  put("host:1\nsecond\n"); /* the first line is taken */
  bf_last_sender_read(dir, out, sizeof out);
  assert_string_equal(out, "host:1");
  put("host");
  bf_last_sender_read(dir, out, sizeof out); /* no newline at the end: fine */
  assert_string_equal(out, "host");
  put("a host\n");
  bf_last_sender_read(dir, out, sizeof out);
  assert_string_equal(out, "");
  put("host\t\n");
  bf_last_sender_read(dir, out, sizeof out);
  assert_string_equal(out, "");
  put("\xc3\xa4h\n");
  bf_last_sender_read(dir, out, sizeof out);
  assert_string_equal(out, "");
  put("1234567\n"); /* 7 bytes: fits 8 with the NUL */
  bf_last_sender_read(dir, out, sizeof out);
  assert_string_equal(out, "1234567");
  put("12345678\n"); /* longer than the caller takes: ignored, not cut */
  bf_last_sender_read(dir, out, sizeof out);
  assert_string_equal(out, "");
  put("1234567");
  bf_last_sender_read(dir, out, sizeof out);
  assert_string_equal(out, "1234567");
  put("12345678");
  bf_last_sender_read(dir, out, sizeof out);
  assert_string_equal(out, "");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_roundtrip),
      cmocka_unit_test(test_unclean),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
