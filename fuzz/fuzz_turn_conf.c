/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * libFuzzer: the TURN relay's settings (bildfunk/turn_conf.h) as a user, or
 * anyone with write access to the config directory, can leave them. The
 * input is the file "turn": bf_turn_conf_read must take it or name the
 * line it refuses, never crash; what it took is within its fields (NUL
 * terminated, no line breaks), and what it read as the server must parse
 * as a turn: URL or be refused by bf_turn_url_parse (which also gets the
 * first line of the input as it is). A command-line value set before the
 * read stays. The file lives in a private temporary directory made once
 * per process.
 */
#include <bildfunk/turn_conf.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char g_path[300];

static void field_ok(const char *f) {
  size_t n = strnlen(f, BF_TURN_CONF_MAX);
  if (n >= BF_TURN_CONF_MAX || strchr(f, '\n') || strchr(f, '\r')) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!g_path[0]) {
    char dir[] = "/tmp/bf-fuzz-turn-XXXXXX";
    if (!mkdtemp(dir)) abort();
    snprintf(g_path, sizeof g_path, "%s/turn", dir);
  }
  int fd = open(g_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) abort();
  if (size && write(fd, data, size) != (ssize_t)size) abort();
  close(fd);
  bf_turn_conf c;
  char err[512];
  if (bf_turn_conf_set(&c, NULL, "cli-user", NULL, NULL, err, sizeof err) != 0) abort();
  int r = bf_turn_conf_read(g_path, &c, err, sizeof err);
  if (r != 0 && r != -EINVAL) abort();
  if (r < 0 && !strstr(err, g_path)) abort(); /* the message names the file and line */
  field_ok(c.server), field_ok(c.user), field_ok(c.pass), field_ok(c.secret);
  if (strcmp(c.user, "cli-user") != 0) abort(); /* the command line wins */
  char host[BF_TURN_CONF_MAX];
  uint16_t port = 0;
  if (bf_turn_url_parse(c.server, host, sizeof host, &port) == 0 && (!host[0] || !port)) abort();
  /* the raw first line as a URL */
  char line[BF_TURN_CONF_MAX];
  size_t n = 0;
  while (n < size && n + 1 < sizeof line && data[n] != '\n' && data[n] != 0) {
    line[n] = (char)data[n];
    n++;
  }
  line[n] = 0;
  if (bf_turn_url_parse(line, host, sizeof host, &port) == 0 &&
      (!host[0] || !port || strlen(host) >= n))
    abort();
  return 0;
}
