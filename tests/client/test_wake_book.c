/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The client's Wake-on-LAN book (setup/wake_book.h): what is put is got
 * back, a sender's new line replaces its old one, lines that do not parse
 * are dropped (the others kept; CRLF and an empty list item are fine), no file is no entry,
 * forgetting removes one line, and the file stays bounded.
 */
#include "testutil.h"

#include "setup/wake_book.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64];

static int setup(void **state) {
  (void)state;
  snprintf(dir, sizeof dir, "/tmp/bf_wake_book.XXXXXX");
  return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  char path[128];
  snprintf(path, sizeof path, "%s/" BF_WAKE_FILE, dir);
  unlink(path);
  return rmdir(dir);
}

static bf_wake_entry entry(const char *name, const char *ip, uint8_t last, uint8_t count) {
  bf_wake_entry e;
  memset(&e, 0, sizeof e);
  snprintf(e.name, sizeof e.name, "%s", name);
  snprintf(e.ip, sizeof e.ip, "%s", ip);
  e.count = count;
  for (uint8_t k = 0; k < count; k++) {
    const uint8_t m[6] = {0x52, 0x54, 0, 0x12, k, last};
    memcpy(e.mac[k], m, 6);
  }
  return e;
}

static void put_ok(const bf_wake_entry *e) {
  char where[1200];
  assert_int_equal(bf_wake_book_put(dir, e, where, sizeof where), 0);
}

static void test_put_get(void **state) {
  (void)state;
  bf_wake_entry got, a = entry("box:5000", "10.0.0.2", 1, 2), b = entry("tv", "", 2, 1);
  assert_int_equal(bf_wake_book_get(dir, "box:5000", &got), -ENOENT); /* no file */
  put_ok(&a);
  put_ok(&b);
  assert_int_equal(bf_wake_book_get(dir, "box:5000", &got), 0);
  assert_memory_equal(&got, &a, sizeof got);
  assert_int_equal(bf_wake_book_get(dir, "tv", &got), 0);
  assert_string_equal(got.ip, "");
  assert_memory_equal(&got, &b, sizeof got);
  /* news replace the line */
  bf_wake_entry a2 = entry("box:5000", "10.0.0.9", 7, 8);
  put_ok(&a2);
  assert_int_equal(bf_wake_book_get(dir, "box:5000", &got), 0);
  assert_memory_equal(&got, &a2, sizeof got);
  char path[128], text[2048];
  snprintf(path, sizeof path, "%s/" BF_WAKE_FILE, dir);
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  size_t n = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  text[n] = 0;
  assert_non_null(strstr(text, "tv - 52:54:00:12:00:02\n"));
  assert_null(strstr(text, "10.0.0.2 ")); /* the old line is gone */
  assert_int_equal(bf_wake_book_forget(dir, "tv"), 0);
  assert_int_equal(bf_wake_book_get(dir, "tv", &got), -ENOENT);
  assert_int_equal(bf_wake_book_get(dir, "box:5000", &got), 0);
  assert_int_equal(bf_wake_book_forget(dir, "nobody"), 0);
}

static void test_bad_lines(void **state) {
  (void)state;
  char path[128];
  snprintf(path, sizeof path, "%s/" BF_WAKE_FILE, dir);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs("a 10.0.0.1 52:54:00:12:00:01\r\n"           /* CRLF: fine */
        "b 10.0.0.2\n"                               /* no MAC */
        "c 10.0.0.3 52:54:00:12:00\n"                /* a short MAC */
        "d - 52:54:00:12:00:01,,52:54:00:12:00:02\n" /* an empty item is skipped */
        "e - 1:2:3:4:5:6 extra\n"
        "f - 52:54:00:12:00:01,52:54:00:12:00:02,52:54:00:12:00:03,52:54:00:12:00:04,"
        "52:54:00:12:00:05,52:54:00:12:00:06,52:54:00:12:00:07,52:54:00:12:00:08,"
        "52:54:00:12:00:09\n" /* nine */
        "g - 52:54:00:12:00:07\n",
        f);
  for (int i = 0; i < 5000; i++) /* a line longer than any good one */
    fputc('x', f);
  fputs(" - 52:54:00:12:00:01\nh - 52-54-00-12-00-08\n", f);
  fclose(f);
  bf_wake_entry got;
  assert_int_equal(bf_wake_book_get(dir, "a", &got), 0);
  assert_string_equal(got.ip, "10.0.0.1");
  assert_int_equal(bf_wake_book_get(dir, "d", &got), 0);
  assert_int_equal(got.count, 2);
  for (const char *bad = "bcef"; *bad; bad++) {
    char name[2] = {*bad, 0};
    assert_int_equal(bf_wake_book_get(dir, name, &got), -ENOENT);
  }
  assert_int_equal(bf_wake_book_get(dir, "g", &got), 0);
  assert_int_equal(bf_wake_book_get(dir, "h", &got), 0);
  assert_int_equal(got.mac[0][5], 8);
  /* what cannot be written is refused */
  bf_wake_entry e = entry("with space", "", 1, 1);
  char where[1200];
  assert_int_equal(bf_wake_book_put(dir, &e, where, sizeof where), -EINVAL);
  e = entry("ok", "", 1, 0);
  assert_int_equal(bf_wake_book_put(dir, &e, where, sizeof where), -EINVAL);
}

static void test_bounded(void **state) {
  (void)state;
  for (unsigned i = 0; i < BF_PIN_MAX_PINS + 5; i++) {
    char name[32];
    snprintf(name, sizeof name, "host%u", i);
    bf_wake_entry e = entry(name, "10.1.1.1", (uint8_t)i, 1);
    put_ok(&e);
  }
  bf_wake_entry got;
  char last[32];
  snprintf(last, sizeof last, "host%u", (unsigned)BF_PIN_MAX_PINS + 4);
  assert_int_equal(bf_wake_book_get(dir, last, &got), 0);
  assert_int_equal(bf_wake_book_get(dir, "host0", &got), -ENOENT); /* the oldest made room */
  char path[128], line[256];
  snprintf(path, sizeof path, "%s/" BF_WAKE_FILE, dir);
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  size_t lines = 0;
  while (fgets(line, sizeof line, f))
    lines++;
  fclose(f);
  assert_int_equal(lines, BF_PIN_MAX_PINS);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_put_get, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bad_lines, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bounded, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
