/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Identities on disk (created once, 0600 files in a 0700 directory,
 * reloaded with the same fingerprint, refused when world-readable or
 * corrupt), the config directory rule, the pin store (add, replace, find,
 * revoke by name and fingerprint prefix, persistence, bad files) and the
 * pairing rate limiter.
 */
#include "testutil.h"

#include <bildfunk/identity.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char g_tmp[256];

static int setup(void **state) {
  (void)state;
  snprintf(g_tmp, sizeof g_tmp, "%s/bf-identity-XXXXXX",
           getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
  return mkdtemp(g_tmp) ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  char cmd[512];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmp);
  return system(cmd) == 0 ? 0 : -1;
}

static void path(char *out, size_t cap, const char *rel) {
  snprintf(out, cap, "%s/%s", g_tmp, rel);
}

static unsigned mode_of(const char *p) {
  struct stat st;
  assert_int_equal(stat(p, &st), 0);
  return (unsigned)(st.st_mode & 0777);
}

static void test_identity_files(void **state) {
  (void)state;
  char dir[320], key[400], cert[400];
  path(dir, sizeof dir, "cfg/deeper/bildfunk");
  snprintf(key, sizeof key, "%s/sender-key.pem", dir);
  snprintf(cert, sizeof cert, "%s/sender-cert.pem", dir);
  bf_identity *a = NULL, *b = NULL, *c = NULL;
  assert_int_equal(bf_identity_load(dir, "sender", "my sender", &a), 0);
  assert_int_equal(mode_of(dir), 0700);
  assert_int_equal(mode_of(key), 0600);
  assert_int_equal(mode_of(cert), 0600);
  assert_int_equal(bf_identity_load(dir, "sender", NULL, &b), 0);
  uint8_t fa[32], fb[32], fc[32];
  bf_identity_fp(a, fa);
  bf_identity_fp(b, fb);
  assert_memory_equal(fa, fb, 32); /* loaded, not recreated */
  assert_int_equal(bf_identity_load(dir, "client", NULL, &c), 0);
  bf_identity_fp(c, fc);
  assert_memory_not_equal(fa, fc, 32); /* one identity per role */
  bf_identity_del(&b);
  bf_identity_del(&c);
  char hex[BF_FP_HEX_BYTES];
  bf_fp_hex(fa, hex);
  assert_int_equal(strlen(hex), 64);
  assert_true(hex[0] == "0123456789abcdef"[fa[0] >> 4]);

  assert_int_equal(bf_identity_load(dir, "Bad/Role", NULL, &b), -EINVAL);
  /* A key others can read is refused. */
  assert_int_equal(chmod(key, 0644), 0);
  assert_int_equal(bf_identity_load(dir, "sender", NULL, &b), -EPERM);
  assert_null(b);
  assert_int_equal(chmod(key, 0600), 0);
  /* A certificate that does not belong to the key is refused. */
  char ccert[400];
  snprintf(ccert, sizeof ccert, "%s/client-cert.pem", dir);
  assert_int_equal(rename(ccert, cert), 0);
  assert_int_equal(bf_identity_load(dir, "sender", NULL, &b), -EBADMSG);
  /* Garbage too. */
  FILE *f = fopen(cert, "w");
  assert_non_null(f);
  fputs("not a certificate\n", f);
  fclose(f);
  assert_int_equal(bf_identity_load(dir, "sender", NULL, &b), -EBADMSG);
  bf_identity_del(&a);
}

static void test_config_dir(void **state) {
  (void)state;
  char *old_x = getenv("XDG_CONFIG_HOME") ? strdup(getenv("XDG_CONFIG_HOME")) : NULL;
  char *old_h = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
  char out[512];
  setenv("XDG_CONFIG_HOME", "/x/cfg", 1);
  assert_int_equal(bf_config_dir(out, sizeof out), 0);
  assert_string_equal(out, "/x/cfg/bildfunk");
  setenv("XDG_CONFIG_HOME", "relative", 1); /* not absolute: ignored */
  setenv("HOME", "/tmp/bf-fake-home/u", 1);
  assert_int_equal(bf_config_dir(out, sizeof out), 0);
  assert_string_equal(out, "/tmp/bf-fake-home/u/.config/bildfunk");
  unsetenv("XDG_CONFIG_HOME");
  assert_int_equal(bf_config_dir(out, 8), -ENAMETOOLONG);
  unsetenv("HOME");
  assert_int_equal(bf_config_dir(out, sizeof out), -ENOENT);
  /* The default directory is used when none is given. */
  setenv("XDG_CONFIG_HOME", g_tmp, 1);
  bf_identity *id = NULL;
  assert_int_equal(bf_identity_load(NULL, "client", NULL, &id), 0);
  char key[400];
  snprintf(key, sizeof key, "%s/bildfunk/client-key.pem", g_tmp);
  assert_int_equal(mode_of(key), 0600);
  bf_identity_del(&id);
  if (old_x)
    setenv("XDG_CONFIG_HOME", old_x, 1);
  else
    unsetenv("XDG_CONFIG_HOME");
  if (old_h) setenv("HOME", old_h, 1);
  free(old_x);
  free(old_h);
}

static void fp_of(uint8_t fp[32], uint8_t v) {
  for (int i = 0; i < 32; i++)
    fp[i] = (uint8_t)(v + i);
}

static void test_pinstore(void **state) {
  (void)state;
  char file[320];
  path(file, sizeof file, "client-pins");
  bf_pinstore *ps = NULL;
  assert_int_equal(bf_pinstore_open(file, &ps), 0);
  assert_int_equal(bf_pinstore_count(ps), 0);
  uint8_t a[32], b[32], c[32];
  fp_of(a, 0x10);
  fp_of(b, 0x20);
  fp_of(c, 0x11); /* shares the hex prefix "1" with a */
  assert_int_equal(bf_pinstore_add(ps, a, "laptop", 1700000000, 0), 0);
  assert_int_equal(bf_pinstore_add(ps, b, "tv\nbox", 1700000001, 0), 0);
  assert_int_equal(bf_pinstore_add(ps, c, "laptop", 1700000002, 0), 0); /* same name kept */
  assert_int_equal(mode_of(file), 0600);
  assert_int_equal(bf_pinstore_count(ps), 3);
  const bf_pin *p = bf_pinstore_find_fp(ps, b);
  assert_non_null(p);
  assert_string_equal(p->name, "tv?box"); /* no control characters */
  assert_true(p->paired_unix == 1700000001);
  assert_null(bf_pinstore_find_name(ps, "nobody"));
  bf_pinstore_del(&ps);

  /* Persisted, in order. */
  assert_int_equal(bf_pinstore_open(file, &ps), 0);
  assert_int_equal(bf_pinstore_count(ps), 3);
  assert_memory_equal(bf_pinstore_at(ps, 0)->fp, a, 32);
  assert_string_equal(bf_pinstore_at(ps, 2)->name, "laptop");
  assert_null(bf_pinstore_at(ps, 3));
  /* unique_name replaces every pin of that name (the client's per-host pin). */
  assert_int_equal(bf_pinstore_add(ps, b, "laptop", 5, 1), 0);
  assert_int_equal(bf_pinstore_count(ps), 1);
  assert_memory_equal(bf_pinstore_find_name(ps, "laptop")->fp, b, 32);
  assert_int_equal(bf_pinstore_add(ps, a, "one", 6, 0), 0);
  assert_int_equal(bf_pinstore_add(ps, c, "two", 7, 0), 0);
  /* Revoke: ambiguous prefix, unknown, too short, then precise. */
  char hex[BF_FP_HEX_BYTES];
  bf_fp_hex(a, hex); /* "101112..." vs c "111213..." */
  assert_int_equal(bf_pinstore_revoke(ps, "nobody"), -ENOENT);
  assert_int_equal(bf_pinstore_revoke(ps, "1011"), -ENOENT); /* < 8 digits: a name */
  hex[8] = '\0';
  assert_int_equal(bf_pinstore_revoke(ps, hex), 1);
  assert_null(bf_pinstore_find_fp(ps, a));
  assert_int_equal(bf_pinstore_revoke(ps, "two"), 1);
  assert_int_equal(bf_pinstore_count(ps), 1);
  bf_pinstore_del(&ps);
  assert_int_equal(bf_pinstore_open(file, &ps), 0);
  assert_int_equal(bf_pinstore_count(ps), 1);
  assert_string_equal(bf_pinstore_path(ps), file);
  /* put: in memory at once, the file untouched until a save; a reload forgets it */
  assert_int_equal(bf_pinstore_put(ps, a, "mem\tonly", 8, 0), 0);
  assert_int_equal(bf_pinstore_count(ps), 2);
  assert_string_equal(bf_pinstore_find_fp(ps, a)->name, "mem?only");
  bf_pinstore *other = NULL;
  assert_int_equal(bf_pinstore_open(file, &other), 0);
  assert_int_equal(bf_pinstore_count(other), 1);
  assert_int_equal(bf_pinstore_reload(ps), 0);
  assert_null(bf_pinstore_find_fp(ps, a));
  /* ... and with unique_name it replaces the pins of that name, in memory */
  assert_int_equal(bf_pinstore_put(other, a, bf_pinstore_at(other, 0)->name, 9, 1), 0);
  assert_int_equal(bf_pinstore_count(other), 1);
  assert_memory_equal(bf_pinstore_at(other, 0)->fp, a, 32);
  bf_pinstore_del(&other);
  bf_pinstore_del(&ps);

  /* Ambiguous fingerprint prefix. */
  assert_int_equal(bf_pinstore_open(NULL, &ps), 0); /* memory only */
  assert_null(bf_pinstore_path(ps));
  uint8_t d[32], e[32];
  memset(d, 0xab, 32);
  memset(e, 0xab, 32);
  e[31] = 0;
  assert_int_equal(bf_pinstore_add(ps, d, "d", 1, 0), 0);
  assert_int_equal(bf_pinstore_add(ps, e, "e", 1, 0), 0);
  assert_int_equal(bf_pinstore_revoke(ps, "ABABABAB"), -EEXIST);
  assert_int_equal(bf_pinstore_count(ps), 2);
  bf_pinstore_del(&ps);

  /* A damaged file is refused, not overwritten. */
  FILE *f = fopen(file, "w");
  assert_non_null(f);
  fputs("zz not a pin\n", f);
  fclose(f);
  assert_int_equal(bf_pinstore_open(file, &ps), -EBADMSG);
  assert_null(ps);
}

/* Two processes share one pin file (a running sender and `--revoke`): a
 * reload sees the other's change, and add/revoke never write back a pin the
 * other removed. */
static void test_pinstore_shared(void **state) {
  (void)state;
  char file[320];
  path(file, sizeof file, "shared-pins");
  bf_pinstore *run = NULL, *cli = NULL;
  uint8_t a[32], b[32], c[32];
  fp_of(a, 0x40);
  fp_of(b, 0x50);
  fp_of(c, 0x60);
  assert_int_equal(bf_pinstore_open(file, &run), 0);
  assert_int_equal(bf_pinstore_add(run, a, "laptop", 1, 0), 0);
  assert_int_equal(bf_pinstore_add(run, b, "tv", 2, 0), 0);
  /* the second process revokes "laptop" */
  assert_int_equal(bf_pinstore_open(file, &cli), 0);
  assert_int_equal(bf_pinstore_revoke(cli, "laptop"), 1);
  bf_pinstore_del(&cli);
  /* not seen until reloaded ... */
  assert_non_null(bf_pinstore_find_fp(run, a));
  assert_int_equal(bf_pinstore_reload(run), 0);
  assert_null(bf_pinstore_find_fp(run, a));
  assert_non_null(bf_pinstore_find_fp(run, b));
  /* ... and an add after another revoke does not resurrect it */
  assert_int_equal(bf_pinstore_open(file, &cli), 0);
  assert_int_equal(bf_pinstore_revoke(cli, "tv"), 1);
  bf_pinstore_del(&cli);
  assert_int_equal(bf_pinstore_add(run, c, "phone", 3, 0), 0);
  assert_int_equal(bf_pinstore_count(run), 1);
  assert_int_equal(bf_pinstore_open(file, &cli), 0);
  assert_int_equal(bf_pinstore_count(cli), 1);
  assert_non_null(bf_pinstore_find_name(cli, "phone"));
  bf_pinstore_del(&cli);
  /* a damaged file keeps the old pins and is not overwritten by an add */
  FILE *f = fopen(file, "w");
  assert_non_null(f);
  fputs("zz not a pin\n", f);
  fclose(f);
  assert_int_equal(bf_pinstore_reload(run), -EBADMSG);
  assert_int_equal(bf_pinstore_count(run), 1);
  assert_int_equal(bf_pinstore_add(run, a, "laptop", 4, 0), -EBADMSG);
  assert_int_equal(bf_pinstore_open(file, &cli), -EBADMSG);
  /* a removed file is an empty store */
  assert_int_equal(remove(file), 0);
  assert_int_equal(bf_pinstore_reload(run), 0);
  assert_int_equal(bf_pinstore_count(run), 0);
  bf_pinstore_del(&run);
  /* memory only: nothing to reload */
  assert_int_equal(bf_pinstore_open(NULL, &run), 0);
  assert_int_equal(bf_pinstore_add(run, a, "x", 1, 0), 0);
  assert_int_equal(bf_pinstore_reload(run), 0);
  assert_int_equal(bf_pinstore_count(run), 1);
  bf_pinstore_del(&run);
}

/* Files as a user may leave them: CRLF line ends (accepted), a line that is
 * not a pin (refused, its number said), a directory where a file should be
 * (-EISDIR, not "chmod 600" or EIO). */
static void test_odd_files(void **state) {
  (void)state;
  char file[320], dir[320], sub[400];
  path(file, sizeof file, "crlf-pins");
  FILE *f = fopen(file, "w");
  assert_non_null(f);
  fputs("101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f 1700000000 "
        "box:48000\r\n",
        f);
  fputs("202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f 1700000001 "
        "laptop\r\n\r\n",
        f);
  fclose(f);
  bf_pinstore *ps = NULL;
  size_t bad = 99;
  assert_int_equal(bf_pinstore_open_at(file, &ps, &bad), 0);
  assert_int_equal(bad, 0);
  assert_int_equal(bf_pinstore_count(ps), 2);
  assert_non_null(bf_pinstore_find_name(ps, "box:48000"));
  assert_non_null(bf_pinstore_find_name(ps, "laptop"));
  bf_pinstore_del(&ps);
  f = fopen(file, "a");
  assert_non_null(f);
  fputs("not a pin\r\n", f);
  fclose(f);
  assert_int_equal(bf_pinstore_open_at(file, &ps, &bad), -EBADMSG);
  assert_int_equal(bad, 4);
  assert_null(ps);
  /* directories */
  path(dir, sizeof dir, "dirs");
  snprintf(sub, sizeof sub, "%s/senders", dir);
  assert_int_equal(mkdir(dir, 0700), 0);
  assert_int_equal(mkdir(sub, 0700), 0);
  assert_int_equal(bf_pinstore_open_at(sub, &ps, &bad), -EISDIR);
  assert_int_equal(bad, 0);
  bf_identity *id = NULL;
  snprintf(sub, sizeof sub, "%s/client-key.pem", dir);
  assert_int_equal(mkdir(sub, 0755), 0);
  assert_int_equal(bf_identity_load(dir, "client", NULL, &id), -EISDIR);
  assert_int_equal(chmod(sub, 0700), 0);
  assert_int_equal(bf_identity_load(dir, "client", NULL, &id), -EISDIR);
  assert_int_equal(rmdir(sub), 0);
  snprintf(sub, sizeof sub, "%s/sender-cert.pem", dir);
  assert_int_equal(bf_identity_load(dir, "sender", NULL, &id), 0); /* made */
  bf_identity_del(&id);
  assert_int_equal(unlink(sub), 0);
  assert_int_equal(mkdir(sub, 0700), 0);
  assert_int_equal(bf_identity_load(dir, "sender", NULL, &id), -EISDIR);
  assert_null(id);
}

static void test_limiter(void **state) {
  (void)state;
  bf_pair_limiter l;
  const uint64_t s = 1000000000ull;
  bf_pair_limiter_init(&l, 3, 60 * s);
  uint64_t retry = 1;
  uint64_t t0 = 1000 * s;
  assert_int_equal(bf_pair_limiter_try(&l, t0, &retry), 0);
  assert_int_equal(retry, 0);
  assert_int_equal(bf_pair_limiter_try(&l, t0 + 10 * s, NULL), 0);
  assert_int_equal(bf_pair_limiter_try(&l, t0 + 20 * s, NULL), 0);
  assert_int_equal(bf_pair_limiter_try(&l, t0 + 30 * s, &retry), -EAGAIN);
  assert_true(retry == 30 * s); /* the first leaves the window at t0 + 60 s */
  assert_int_equal(bf_pair_limiter_try(&l, t0 + 59 * s, NULL), -EAGAIN);
  assert_int_equal(bf_pair_limiter_try(&l, t0 + 60 * s, NULL), 0);
  assert_int_equal(bf_pair_limiter_try(&l, t0 + 61 * s, &retry), -EAGAIN);
  assert_true(retry == 9 * s);
  /* Clamped limits. */
  bf_pair_limiter_init(&l, 0, s);
  assert_int_equal(l.max_attempts, 1);
  bf_pair_limiter_init(&l, 1000, s);
  assert_int_equal(l.max_attempts, BF_PAIR_LIMIT_MAX);
  for (unsigned i = 0; i < BF_PAIR_LIMIT_MAX; i++)
    assert_int_equal(bf_pair_limiter_try(&l, 5, NULL), 0);
  assert_int_equal(bf_pair_limiter_try(&l, 5, NULL), -EAGAIN);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_identity_files), cmocka_unit_test(test_config_dir),
      cmocka_unit_test(test_pinstore),       cmocka_unit_test(test_pinstore_shared),
      cmocka_unit_test(test_limiter),        cmocka_unit_test(test_odd_files),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
