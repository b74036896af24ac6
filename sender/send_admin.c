/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The sender's administration commands: see send_admin.h.
 */
#include "send_admin.h"

#include <bildfunk/common.h>
#ifdef BF_HAVE_SEAL
#include <bildfunk/identity.h>
#endif

#include <errno.h>
#include <stdio.h>
#include <time.h>

#ifdef BF_HAVE_SEAL

int bf_send_admin_dir(const bf_send_options *o, char *dir, size_t cap) {
  if (!o->config_dir) return bf_config_dir(dir, cap);
  snprintf(dir, cap, "%s", o->config_dir);
  return 0;
}

static void list_clients(const bf_pinstore *ps) {
  size_t n = bf_pinstore_count(ps);
  if (n == 0) printf("no paired clients\n");
  for (size_t i = 0; i < n; i++) {
    const bf_pin *p = bf_pinstore_at(ps, i);
    char hex[BF_FP_HEX_BYTES], date[32] = "?";
    bf_fp_hex(p->fp, hex);
    time_t t = (time_t)p->paired_unix;
    struct tm tm;
    if (gmtime_r(&t, &tm)) strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", &tm);
    printf("%s  %s  paired %s\n", p->name[0] ? p->name : "(no name)", hex, date);
  }
}

/* Returns the exit code. */
static int revoke(bf_pinstore *ps, const char *what, const char *path) {
  int r = bf_pinstore_revoke(ps, what);
  if (r > 0) {
    printf("bildfunk-send: unpaired %d client%s matching '%s'\n", r, r == 1 ? "" : "s", what);
    return 0;
  }
  if (r == -ENOENT)
    fprintf(stderr,
            "bildfunk-send: --revoke: no paired client matches '%s' (see "
            "--list-clients)\n",
            what);
  else if (r == -EEXIST)
    fprintf(stderr,
            "bildfunk-send: --revoke: '%s' matches several clients: give more "
            "digits of the fingerprint\n",
            what);
  else
    fprintf(stderr, "bildfunk-send: --revoke: cannot save %s: %s\n", path, bf_strerror(r));
  return 1;
}

int bf_send_admin_run(const bf_send_options *o) {
  char dir[512], path[600];
  int r;
  if (bf_send_admin_dir(o, dir, sizeof dir) < 0) {
    fprintf(stderr, "bildfunk-send: no config directory (set HOME or XDG_CONFIG_HOME, or "
                    "--config-dir)\n");
    return 1;
  }
  snprintf(path, sizeof path, "%s/clients", dir);
  bf_pinstore *ps = NULL;
  if ((r = bf_pinstore_open(path, &ps)) < 0) {
    fprintf(stderr, "bildfunk-send: paired clients file %s: %s\n", path, bf_strerror(r));
    return 1;
  }
  int rc = 0;
  if (o->list_clients)
    list_clients(ps);
  else
    rc = revoke(ps, o->revoke, path);
  bf_pinstore_del(&ps);
  return rc;
}

#else /* no OpenSSL: no pin store */

int bf_send_admin_dir(const bf_send_options *o, char *dir, size_t cap) {
  (void)o, (void)dir, (void)cap;
  return -ENOTSUP;
}

int bf_send_admin_run(const bf_send_options *o) {
  (void)o;
  fprintf(stderr, "bildfunk-send: this build has no control mode (no OpenSSL)\n");
  return 1;
}

#endif /* BF_HAVE_SEAL */
