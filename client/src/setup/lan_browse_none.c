/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * LAN discovery in a build without Avahi (BF_AVAHI=OFF): see lan_browse.h.
 */
#include "lan_browse.h"

#include <errno.h>
#include <stdio.h>

int bf_lan_browse(uint32_t window_ms, bf_lan_sender *out, size_t cap, size_t *more, char *err,
                  size_t errcap) {
  (void)window_ms, (void)out, (void)cap;
  *more = 0;
  snprintf(err, errcap, "this build has no Avahi: senders on the LAN are not looked for");
  return -ENOTSUP;
}

int bf_lan_watch_start(bf_lan_watch **out, char *err, size_t errcap) {
  *out = NULL;
  snprintf(err, errcap, "this build has no Avahi: senders on the LAN are not looked for");
  return -ENOTSUP;
}

size_t bf_lan_watch_get(bf_lan_watch *w, bf_lan_sender *out, size_t cap) {
  (void)w, (void)out, (void)cap;
  return 0;
}

void bf_lan_watch_stop(bf_lan_watch **w) {
  *w = NULL;
}
