/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The client's Wake-on-LAN book: see wake_book.h.
 */
#include "wake_book.h"

#include "setup/last_sender.h"

#include <bildfunk/lan.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINE_MAX_BYTES (BF_PIN_MAX_NAME + 64 + BF_CTL_MAX_MACS * BF_MAC_TEXT + 8)

/* One line into |e| (a CR before its end is fine). 0 or -EINVAL. */
static int parse_line(char *line, bf_wake_entry *e) {
  memset(e, 0, sizeof *e);
  char *save = NULL, *name = strtok_r(line, " \r", &save), *ip = strtok_r(NULL, " \r", &save),
       *macs = strtok_r(NULL, " \r", &save);
  if (!name || !ip || !macs || strtok_r(NULL, " \r", &save)) return -EINVAL;
  if (strlen(name) > BF_PIN_MAX_NAME || strlen(ip) >= sizeof e->ip) return -EINVAL;
  snprintf(e->name, sizeof e->name, "%s", name);
  if (strcmp(ip, "-")) snprintf(e->ip, sizeof e->ip, "%s", ip);
  for (char *m = strtok_r(macs, ",", &save); m; m = strtok_r(NULL, ",", &save)) {
    if (e->count == BF_CTL_MAX_MACS || bf_mac_parse(m, e->mac[e->count]) < 0) return -EINVAL;
    e->count++;
  }
  return e->count ? 0 : -EINVAL;
}

/* The file's entries into |v| (BF_PIN_MAX_PINS at most), but for those of
 * |skip| (may be NULL), which are counted in |*skipped|. Returns how many. */
static size_t read_all(const char *config_dir, bf_wake_entry *v, const char *skip,
                       size_t *skipped) {
  char path[1100], line[LINE_MAX_BYTES];
  *skipped = 0;
  if (bf_config_file_path(config_dir, BF_WAKE_FILE, path, sizeof path) < 0) return 0;
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  size_t n = 0;
  while (n < BF_PIN_MAX_PINS && bf_config_read_line(f, line, sizeof line)) {
    if (parse_line(line, &v[n]) < 0) continue;
    if (skip && !strcmp(v[n].name, skip))
      ++*skipped;
    else
      n++;
  }
  fclose(f);
  return n;
}

static int write_all(const char *config_dir, const bf_wake_entry *v, size_t n, char *where,
                     size_t cap) {
  char *text = malloc(n * LINE_MAX_BYTES + 1);
  if (!text) return -ENOMEM;
  size_t len = 0;
  for (size_t i = 0; i < n; i++) {
    len += (size_t)snprintf(text + len, LINE_MAX_BYTES, "%s %s ", v[i].name,
                            v[i].ip[0] ? v[i].ip : "-");
    for (size_t k = 0; k < v[i].count; k++) {
      char m[BF_MAC_TEXT];
      bf_mac_format(v[i].mac[k], m);
      len += (size_t)snprintf(text + len, LINE_MAX_BYTES, "%s%s", k ? "," : "", m);
    }
    text[len++] = '\n';
  }
  int r = bf_config_file_put(config_dir, BF_WAKE_FILE, text, len, where, cap);
  free(text);
  return r;
}

int bf_wake_book_put(const char *config_dir, const bf_wake_entry *e, char *where, size_t cap) {
  if (!e->count || e->count > BF_CTL_MAX_MACS || !e->name[0] || strpbrk(e->name, " \r\n") ||
      strpbrk(e->ip, " \r\n"))
    return -EINVAL;
  bf_wake_entry *v = malloc(BF_PIN_MAX_PINS * sizeof *v);
  if (!v) return -ENOMEM;
  size_t skipped, n = read_all(config_dir, v, e->name, &skipped);
  if (n == BF_PIN_MAX_PINS) { /* full: the first (oldest) line makes room */
    memmove(v, v + 1, (n - 1) * sizeof *v);
    n--;
  }
  v[n] = *e;
  int r = write_all(config_dir, v, n + 1, where, cap);
  free(v);
  return r;
}

int bf_wake_book_get(const char *config_dir, const char *name, bf_wake_entry *e) {
  bf_wake_entry *v = malloc(BF_PIN_MAX_PINS * sizeof *v);
  if (!v) return -ENOMEM;
  size_t skipped, n = read_all(config_dir, v, NULL, &skipped);
  int r = -ENOENT;
  for (size_t i = 0; i < n && r; i++)
    if (!strcmp(v[i].name, name)) {
      *e = v[i];
      r = 0;
    }
  free(v);
  return r;
}

int bf_wake_book_forget(const char *config_dir, const char *name) {
  bf_wake_entry *v = malloc(BF_PIN_MAX_PINS * sizeof *v);
  if (!v) return -ENOMEM;
  size_t skipped, n = read_all(config_dir, v, name, &skipped);
  char where[1200];
  int r = skipped ? write_all(config_dir, v, n, where, sizeof where) : 0;
  free(v);
  return r;
}
