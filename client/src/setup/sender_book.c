/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The client's book of senders: see sender_book.h.
 */
#include "sender_book.h"

#include "net/ctl_client.h"
#include "setup/lan_browse.h"
#include "setup/last_sender.h"
#include "setup/wake_book.h"

#include <bildfunk/common.h>
#include <bildfunk/ctl_codec.h>
#include <bildfunk/identity.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define USED_FILE "senders-used"

typedef struct used_line {
  int64_t t;
  char name[BF_PIN_MAX_NAME + 1];
} used_line;

/* The lines of the file into |u| (BF_PIN_MAX_PINS of them at most); what
 * does not parse is skipped. Returns how many. */
static size_t used_read(const char *config_dir, used_line *u) {
  char path[1100], line[BF_PIN_MAX_NAME + 48];
  if (bf_config_file_path(config_dir, USED_FILE, path, sizeof path) < 0) return 0;
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  size_t n = 0;
  while (n < BF_PIN_MAX_PINS && bf_config_read_line(f, line, sizeof line)) {
    char *end;
    errno = 0;
    long long t = strtoll(line, &end, 10);
    size_t nlen = strlen(end);
    if (errno || end == line || t <= 0 || *end != ' ' || nlen < 2 || nlen > BF_PIN_MAX_NAME + 1)
      continue;
    u[n].t = t;
    memcpy(u[n].name, end + 1, nlen);
    n++;
  }
  fclose(f);
  return n;
}

/* Writes |n| lines of |u| as the file. 0 or negative errno (|where|). */
static int used_write(const char *config_dir, const used_line *u, size_t n, char *where,
                      size_t cap) {
  size_t room = n * (BF_PIN_MAX_NAME + 24) + 1, len = 0;
  char *text = malloc(room);
  if (!text) return -ENOMEM;
  for (size_t i = 0; i < n; i++)
    len += (size_t)snprintf(text + len, room - len, "%lld %s\n", (long long)u[i].t, u[i].name);
  int r = bf_config_file_put(config_dir, USED_FILE, text, len, where, cap);
  free(text);
  return r;
}

/* Drops |name|'s lines from |u|; returns the count left. */
static size_t used_drop(used_line *u, size_t n, const char *name) {
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    if (strcmp(u[i].name, name)) u[k++] = u[i];
  return k;
}

int bf_sender_used_touch(const char *config_dir, const char *pin_name, int64_t now_unix,
                         char *where, size_t cap) {
  if (!*pin_name || strlen(pin_name) > BF_PIN_MAX_NAME || strpbrk(pin_name, "\n\r")) return -EINVAL;
  used_line *u = malloc(BF_PIN_MAX_PINS * sizeof *u);
  if (!u) return -ENOMEM;
  size_t n = used_drop(u, used_read(config_dir, u), pin_name);
  if (n == BF_PIN_MAX_PINS) { /* full: the one used longest ago makes room */
    size_t old = 0;
    for (size_t i = 1; i < n; i++)
      if (u[i].t < u[old].t) old = i;
    u[old] = u[--n];
  }
  u[n].t = now_unix;
  snprintf(u[n].name, sizeof u[n].name, "%s", pin_name);
  int r = used_write(config_dir, u, n + 1, where, cap);
  free(u);
  return r;
}

int64_t bf_sender_used_get(const char *config_dir, const char *pin_name) {
  used_line *u = malloc(BF_PIN_MAX_PINS * sizeof *u);
  if (!u) return 0;
  size_t n = used_read(config_dir, u);
  int64_t t = 0;
  for (size_t i = 0; i < n; i++)
    if (!strcmp(u[i].name, pin_name) && u[i].t > t) t = u[i].t;
  free(u);
  return t;
}

#ifdef BF_HAVE_SEAL

/* "YYYY-MM-DD HH:MM UTC", as the sender's --list-clients. */
static void date_of(int64_t unix_s, char *out, size_t cap) {
  time_t t = (time_t)unix_s;
  struct tm tm;
  if (unix_s <= 0 || !gmtime_r(&t, &tm) || !strftime(out, cap, "%Y-%m-%d %H:%M UTC", &tm))
    snprintf(out, cap, "never");
}

/* The address a pin name connects to: the port filled in as the client does. */
static void address_of(const char *name, char *out, size_t cap) {
  const char *colon = strchr(name, ':');
  int has_port = name[0] == '[' ? strstr(name, "]:") != NULL : colon && !strchr(colon + 1, ':');
  if (has_port)
    snprintf(out, cap, "%s", name);
  else if (colon) /* a bare IPv6 address */
    snprintf(out, cap, "[%s]:%u", name, (unsigned)BF_CTL_DEFAULT_PORT);
  else
    snprintf(out, cap, "%s:%u", name, (unsigned)BF_CTL_DEFAULT_PORT);
}

/* The pin store of |config_dir|, or NULL (said on stderr). */
static bf_pinstore *open_pins(const char *config_dir, char *path, size_t cap) {
  bf_pinstore *ps = NULL;
  if (bf_config_file_path(config_dir, "senders", path, cap) < 0) {
    fprintf(stderr, "bildfunk: no config directory (set HOME or XDG_CONFIG_HOME, or "
                    "--config-dir)\n");
    return NULL;
  }
  int r = bf_pinstore_open(path, &ps);
  if (r < 0) fprintf(stderr, "bildfunk: paired senders file %s: %s\n", path, bf_strerror(r));
  return r < 0 ? NULL : ps;
}

/* The pin whose fingerprint begins with |prefix| (hex, 8..16 digits). */
static const bf_pin *pin_of_prefix(const bf_pinstore *ps, const char *prefix) {
  size_t n = strlen(prefix);
  for (size_t i = 0; n && i < bf_pinstore_count(ps); i++) {
    char hex[BF_FP_HEX_BYTES];
    bf_fp_hex(bf_pinstore_at(ps, i)->fp, hex);
    if (!strncmp(hex, prefix, n)) return bf_pinstore_at(ps, i);
  }
  return NULL;
}

/* The LAN's senders, "lan: " lines on |out|, matched against |ps|. */
static void list_lan(const bf_pinstore *ps, uint32_t ms, FILE *out) {
  bf_lan_sender *found = calloc(BF_LAN_BROWSE_MAX, sizeof *found);
  if (!found) return;
  char err[300], at[96];
  size_t more = 0;
  int n = bf_lan_browse(ms, found, BF_LAN_BROWSE_MAX, &more, err, sizeof err);
  if (n < 0) fprintf(stderr, "bildfunk: %s\n", err);
  if (n == 0) fprintf(out, "lan: no senders found in %.1f s\n", (double)ms / 1000.0);
  for (int i = 0; i < n; i++) {
    const bf_lan_sender *s = &found[i];
    snprintf(at, sizeof at, s->ipv6 ? "[%s]:%u" : "%s:%u", s->ip, (unsigned)s->port);
    if (!s->txt_ok) {
      fprintf(out, "lan: \"%s\" at %s  unusable record (%s)\n", s->service, at, s->why);
      continue;
    }
    const bf_pin *p = pin_of_prefix(ps, s->txt.fp);
    fprintf(out, "lan: \"%s\" at %s  fp %s...  ", s->txt.name[0] ? s->txt.name : s->service, at,
            s->txt.fp[0] ? s->txt.fp : "?");
    if (p)
      fprintf(out, "paired as %s\n", p->name);
    else
      fprintf(out, "unpaired (bildfunk pair %s)\n", at);
  }
  if (more) fprintf(out, "lan: %zu more not listed\n", more);
  free(found);
}

int bf_senders_list(const char *config_dir, uint32_t browse_ms, FILE *out) {
  char path[1100];
  bf_pinstore *ps = open_pins(config_dir, path, sizeof path);
  if (!ps) return 1;
  size_t n = bf_pinstore_count(ps);
  if (n == 0) fprintf(out, "no paired senders (bildfunk HOST pairs the first time)\n");
  for (size_t i = 0; i < n; i++) {
    const bf_pin *p = bf_pinstore_at(ps, i);
    char hex[BF_FP_HEX_BYTES], paired[40], used[40], addr[BF_PIN_MAX_NAME + 16];
    bf_fp_hex(p->fp, hex);
    date_of(p->paired_unix, paired, sizeof paired);
    date_of(bf_sender_used_get(config_dir, p->name), used, sizeof used);
    address_of(p->name, addr, sizeof addr);
    fprintf(out, "%s  %s  %s  paired %s  last used %s\n", p->name, addr, hex, paired, used);
  }
  fflush(out);
  if (browse_ms) list_lan(ps, browse_ms, out);
  bf_pinstore_del(&ps);
  return 0;
}

int bf_senders_unpair(const char *config_dir, const char *host, FILE *out) {
  char name[BF_PIN_MAX_NAME + 1], path[1100], where[1200], hex[17] = "";
  if (bf_cctl_pin_name_of(host, name, sizeof name) < 0) {
    fprintf(stderr, "bildfunk: unpair: '%.64s...' is longer than any pin name\n", host);
    return 1;
  }
  bf_pinstore *ps = open_pins(config_dir, path, sizeof path);
  if (!ps) return 1;
  const bf_pin *p = bf_pinstore_find_name(ps, name);
  if (p) bf_cctl_fp_prefix(p->fp, hex);
  int r = bf_pinstore_revoke(ps, name);
  bf_pinstore_del(&ps);
  if (r == -ENOENT)
    fprintf(stderr, "bildfunk: unpair: no sender is paired as '%s' (see bildfunk list)\n", name);
  else if (r == -EEXIST)
    fprintf(stderr,
            "bildfunk: unpair: '%s' matches several senders' fingerprints: give more digits\n",
            name);
  else if (r < 0)
    fprintf(stderr, "bildfunk: unpair: cannot save %s: %s\n", path, bf_strerror(r));
  if (r < 0) return 1;
  if (hex[0]) { /* by name: its "last used" goes too */
    used_line *u = malloc(BF_PIN_MAX_PINS * sizeof *u);
    size_t n = u ? used_read(config_dir, u) : 0, k = u ? used_drop(u, n, name) : 0;
    if (u && k != n) (void)used_write(config_dir, u, k, where, sizeof where);
    free(u);
    (void)bf_wake_book_forget(config_dir, name);
    fprintf(out, "bildfunk: unpaired %s (fp %s...); bildfunk pair %s pairs it again\n", name, hex,
            host);
  } else {
    fprintf(out, "bildfunk: unpaired %d sender%s matching '%s'\n", r, r == 1 ? "" : "s", name);
  }
  return 0;
}

#else /* no OpenSSL: no pin store */

int bf_senders_list(const char *config_dir, uint32_t browse_ms, FILE *out) {
  (void)config_dir, (void)browse_ms, (void)out;
  fprintf(stderr, "bildfunk: this build has no control mode (no OpenSSL): nothing is paired\n");
  return 1;
}

int bf_senders_unpair(const char *config_dir, const char *host, FILE *out) {
  (void)config_dir, (void)host, (void)out;
  fprintf(stderr, "bildfunk: this build has no control mode (no OpenSSL): nothing is paired\n");
  return 1;
}

#endif /* BF_HAVE_SEAL */
