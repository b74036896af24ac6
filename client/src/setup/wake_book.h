/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * What the client keeps to wake a paired sender (Wake-on-LAN): its MACs
 * (WakeInfo, told by the sender before each Welcome: docs/protocol.md) and
 * the IP it last answered on, beside its pin.
 *
 * File `senders-wake` in the config directory, one line per sender:
 *   "<pin name> <ip> <mac>[,<mac>...]"   (ip "-" when unknown)
 * rewritten whole (temporary file, renamed) when a session brings news; at
 * most BF_PIN_MAX_PINS lines, a line that does not parse is dropped. The
 * pin file itself is not touched: pins from before this file stay valid,
 * they just have no MACs until the next session. Unpairing forgets the line.
 *
 * Not here: sending the packet (wake.h). Plain file I/O at setup.
 */
#ifndef BF_CLIENT_WAKE_BOOK_H
#define BF_CLIENT_WAKE_BOOK_H

#include <bildfunk/ctl_codec.h>
#include <bildfunk/identity.h>

#include <stddef.h>
#include <stdint.h>

#define BF_WAKE_FILE "senders-wake"

typedef struct bf_wake_entry {
  char name[BF_PIN_MAX_NAME + 1]; /* the pin name */
  char ip[64];                    /* the address it last answered on, "" = unknown */
  uint8_t count;                  /* 1..BF_CTL_MAX_MACS */
  uint8_t mac[BF_CTL_MAX_MACS][BF_CTL_MAC_BYTES];
} bf_wake_entry;

/* Keeps |e| (replacing the line of its name). 0 or negative errno with
 * the path it failed on in |where|. */
int bf_wake_book_put(const char *config_dir, const bf_wake_entry *e, char *where, size_t cap);

/* The entry of |name| into |e|: 0 or -ENOENT. */
int bf_wake_book_get(const char *config_dir, const char *name, bf_wake_entry *e);

/* Forgets |name|'s line (unpair). 0 or negative errno. */
int bf_wake_book_forget(const char *config_dir, const char *name);

#endif
