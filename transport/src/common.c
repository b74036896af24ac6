/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Library-wide helpers: error text.
 */
#include <bildfunk/common.h>

#include <string.h>

const char *bf_strerror(int err) {
  if (err >= 0) return "success";
  return strerror(-err);
}
