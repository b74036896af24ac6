/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * LAN discovery in a build without Avahi (BF_AVAHI=OFF): see publish.h.
 */
#include "publish.h"

#include <errno.h>

int bf_publish_start(const bf_publish_config *cfg, bf_publish **out) {
  *out = NULL;
  if (cfg->log)
    fprintf(cfg->log, "bildfunk-send: LAN discovery off: this build has no Avahi (connect by "
                      "address)\n");
  return -ENOTSUP;
}

void bf_publish_stop(bf_publish **p) {
  *p = NULL;
}
