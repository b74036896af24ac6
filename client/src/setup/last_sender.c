/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The last sender's file: see last_sender.h.
 */
#include "last_sender.h"

#include <bildfunk/identity.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int bf_config_file_path(const char *config_dir, const char *name, char *out, size_t cap) {
  char dir[1024];
  if (config_dir)
    snprintf(dir, sizeof dir, "%s", config_dir);
  else if (bf_config_dir(dir, sizeof dir) < 0)
    return -ENOENT;
  int n = snprintf(out, cap, "%s/%s", dir, name);
  return n > 0 && (size_t)n < cap ? 0 : -ENAMETOOLONG;
}

int bf_last_sender_path(const char *config_dir, char *out, size_t cap) {
  return bf_config_file_path(config_dir, "last-sender", out, cap);
}

int bf_config_file_replace(const char *path, const char *text, size_t len, char *where,
                           size_t cap) {
  char tmp[1120];
  snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    int r = -errno;
    snprintf(where, cap, "%s", tmp);
    return r;
  }
  int ok = write(fd, text, len) == (ssize_t)len;
  ok &= close(fd) == 0;
  if (!ok || rename(tmp, path) < 0) {
    int r = errno ? -errno : -EIO;
    snprintf(where, cap, "%s", path);
    unlink(tmp);
    return r;
  }
  return 0;
}

void bf_last_sender_read(const char *config_dir, char *out, size_t cap) {
  char path[1100], buf[BF_LAST_SENDER_MAX + 1];
  out[0] = 0;
  if (cap > BF_LAST_SENDER_MAX) cap = BF_LAST_SENDER_MAX;
  if (bf_last_sender_path(config_dir, path, sizeof path) < 0) return;
  FILE *f = fopen(path, "r");
  if (!f) return;
  size_t n = fread(buf, 1, cap, f); /* the longest line taken + '\n' */
  fclose(f);
  buf[n] = 0;
  size_t k = 0;
  while (k < n && buf[k] > 0x20 && buf[k] < 0x7f)
    k++;
  if (k < n ? buf[k] != '\n' : n == cap) return; /* not one clean line: ignore it */
  memcpy(out, buf, k);
  out[k] = 0;
}

int bf_last_sender_write(const char *config_dir, const char *target, char *where, size_t cap) {
  char path[1100];
  int r = bf_last_sender_path(config_dir, path, sizeof path);
  if (r < 0) return r;
  char line[BF_LAST_SENDER_MAX + 1];
  int n = snprintf(line, sizeof line, "%s\n", target);
  if (n <= 0 || (size_t)n >= sizeof line) return -ENAMETOOLONG;
  return bf_config_file_replace(path, line, (size_t)n, where, cap);
}

int bf_config_read_line(FILE *f, char *line, size_t cap) {
  while (fgets(line, (int)cap, f)) {
    size_t len = strcspn(line, "\n");
    if (!line[len] && !feof(f)) { /* longer than any good line: skip the rest */
      int ch;
      while ((ch = fgetc(f)) != EOF && ch != '\n') {
      }
      continue;
    }
    line[len] = 0;
    return 1;
  }
  return 0;
}

int bf_config_file_put(const char *config_dir, const char *name, const char *text, size_t len,
                       char *where, size_t cap) {
  char path[1100];
  int r = bf_config_file_path(config_dir, name, path, sizeof path);
  return r < 0 ? r : bf_config_file_replace(path, text, len, where, cap);
}
