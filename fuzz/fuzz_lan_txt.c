/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * libFuzzer: the LAN TXT record parser (bildfunk/lan.h) on arbitrary
 * RDATA, as anyone on the LAN may publish it. A record that parses must
 * hold terminated, checked fields, re-encode, and parse again to the same
 * fields; one that does not must name why.
 */
#include <bildfunk/lan.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok) {
  if (!ok) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  bf_lan_txt t, again;
  const char *why = NULL;
  const int r = bf_lan_txt_parse(data, size, &t, &why);
  check(why != NULL);
  if (r) {
    check(r == -EBADMSG && why[0]);
    return 0;
  }
  check(t.version >= 1 && t.data_port >= 1);
  check(memchr(t.name, 0, sizeof t.name) && memchr(t.fp, 0, sizeof t.fp));
  uint8_t out[BF_LAN_TXT_MAX];
  const int n = bf_lan_txt_encode(&t, out, sizeof out);
  check(n > 0);
  check(bf_lan_txt_parse(out, (size_t)n, &again, NULL) == 0);
  check(!memcmp(&t, &again, sizeof t));
  return 0;
}
