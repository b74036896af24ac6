/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * libFuzzer: the files a user (or an attacker with write access) can leave
 * in the config directory, through the same calls the programs make
 * (bildfunk/identity.h). Byte 0 chooses:
 *   even  the rest is a pin file (`senders` / `clients`): bf_pinstore_open_at
 *         must parse it or refuse it (-EBADMSG with the line, -ENOSPC ...);
 *         a store it parsed is written back (a pin added, fsync'd, renamed)
 *         and must read again to the same pins, names cleaned (no control
 *         bytes), at most BF_PIN_MAX_PINS;
 *   odd   the rest is a key file and a certificate, split at the first
 *         "\n--\n": bf_identity_load must load them or say why (a negative
 *         errno), never crash; a loaded identity has a fingerprint.
 * Files go to a private temporary directory made once per process (fsync
 * makes this harness slower than the in-memory ones: a few thousand runs
 * per second).
 */
#include <bildfunk/common.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#ifndef BF_HAVE_SEAL
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  (void)data;
  (void)size;
  return 0;
}
#else

#include <bildfunk/identity.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char g_dir[256];

static void put(const char *path, const uint8_t *d, size_t n) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) abort();
  while (n) {
    ssize_t w = write(fd, d, n);
    if (w <= 0) abort();
    d += w;
    n -= (size_t)w;
  }
  close(fd);
}

static void check_names(const bf_pinstore *ps) {
  if (bf_pinstore_count(ps) > BF_PIN_MAX_PINS) abort();
  for (size_t i = 0; i < bf_pinstore_count(ps); i++) {
    const bf_pin *p = bf_pinstore_at(ps, i);
    size_t n = strnlen(p->name, sizeof p->name);
    if (n > BF_PIN_MAX_NAME) abort();
    for (size_t k = 0; k < n; k++)
      if ((unsigned char)p->name[k] < 0x20 || p->name[k] == 0x7f) abort();
  }
}

static void pins(const uint8_t *d, size_t n) {
  char path[320];
  snprintf(path, sizeof path, "%s/pins", g_dir);
  put(path, d, n);
  bf_pinstore *ps = NULL;
  size_t bad = 0;
  int r = bf_pinstore_open_at(path, &ps, &bad);
  if (r < 0) {
    if (ps || (r == -EBADMSG) != (bad > 0)) abort();
    return;
  }
  check_names(ps);
  /* written back with one more pin, it reads the same */
  uint8_t fp[BF_FP_BYTES];
  memset(fp, 0xA5, sizeof fp);
  r = bf_pinstore_add(ps, fp, "fuzz", 1700000000, 0);
  if (r < 0 && r != -ENOSPC) abort();
  bf_pinstore *again = NULL;
  if (bf_pinstore_open_at(path, &again, &bad) != 0) abort();
  if (bf_pinstore_count(again) != bf_pinstore_count(ps)) abort();
  for (size_t i = 0; i < bf_pinstore_count(ps); i++) {
    const bf_pin *a = bf_pinstore_at(ps, i), *b = bf_pinstore_at(again, i);
    /* a name with trailing blanks or a '\r' may read back shorter: the
     * fingerprint and the date are exact */
    if (memcmp(a->fp, b->fp, sizeof a->fp) || a->paired_unix != b->paired_unix) abort();
  }
  bf_pinstore_del(&again);
  bf_pinstore_del(&ps);
}

static void identity(const uint8_t *d, size_t n) {
  char key[320], cert[320];
  snprintf(key, sizeof key, "%s/fuzz-key.pem", g_dir);
  snprintf(cert, sizeof cert, "%s/fuzz-cert.pem", g_dir);
  size_t cut = n;
  for (size_t i = 0; i + 4 <= n; i++)
    if (!memcmp(d + i, "\n--\n", 4)) {
      cut = i;
      break;
    }
  put(key, d, cut);
  put(cert, d + (cut + 4 <= n ? cut + 4 : n), cut + 4 <= n ? n - cut - 4 : 0);
  bf_identity *id = NULL;
  int r = bf_identity_load(g_dir, "fuzz", NULL, &id);
  if (r > 0 || (r == 0) != (id != NULL)) abort();
  if (id) {
    uint8_t fp[BF_FP_BYTES];
    bf_identity_fp(id, fp);
    bf_identity_del(&id);
  }
}

static void cleanup(void) {
  static const char *const names[] = {"pins", "fuzz-key.pem", "fuzz-cert.pem"};
  char p[320];
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    snprintf(p, sizeof p, "%s/%s", g_dir, names[i]);
    unlink(p);
  }
  rmdir(g_dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!g_dir[0]) {
    const char *t = getenv("TMPDIR");
    snprintf(g_dir, sizeof g_dir, "%s/bf-fuzz-pins-XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(g_dir)) abort();
    atexit(cleanup);
  }
  if (size < 1) return 0;
  if (data[0] & 1)
    identity(data + 1, size - 1);
  else
    pins(data + 1, size - 1);
  return 0;
}

#endif
