/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The client's book of senders: `bildfunk list` (the paired senders with
 * their address, fingerprint, when they were paired and last used) and
 * `bildfunk unpair HOST` (the client's side of the sender's --list-clients
 * and --revoke), and the file that remembers when each was last used.
 *
 * Files in the config directory: `senders` is the pin store (transport
 * identity.h: fingerprint, date of pairing, pin name = HOST[:PORT] as typed,
 * lower-cased); `senders-used` has one line per sender a session was
 * established with, "<unix seconds> <pin name>", rewritten whole (temporary
 * file, renamed) each time one is (at most BF_PIN_MAX_PINS lines; a line that
 * does not parse is dropped). Unpairing forgets its line too.
 *
 * Not here: pairing (net/ctl_client.h), the last sender (last_sender.h),
 * browsing the LAN (lan_browse.h), the MACs kept for waking (wake_book.h).
 * Plain file I/O on the caller's thread, at setup or in these commands only.
 */
#ifndef BF_CLIENT_SENDER_BOOK_H
#define BF_CLIENT_SENDER_BOOK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* |pin_name| was used at |now_unix|. 0, or negative errno with the path it
 * failed on in |where| (failures only cost the "last used" column). */
int bf_sender_used_touch(const char *config_dir, const char *pin_name, int64_t now_unix,
                         char *where, size_t cap);

/* When |pin_name| was last used (unix seconds), 0 = never (or no file). */
int64_t bf_sender_used_get(const char *config_dir, const char *pin_name);

/* `bildfunk list`: one line per paired sender on |out| (NAME  ADDRESS
 * FINGERPRINT  paired DATE  last used DATE|never), "no paired senders" when
 * there is none; then, when |browse_ms| > 0, the senders found on the LAN
 * in that time (lan_browse.h), one line each beginning "lan: " (its name,
 * IP:PORT, fingerprint prefix, "paired as NAME" when a pin's fingerprint
 * begins with it, else "unpaired" and how to pair it). No avahi-daemon is
 * one line on stderr, not an error. Errors on stderr. Returns the exit code
 * (0, 1). */
int bf_senders_list(const char *config_dir, uint32_t browse_ms, FILE *out);

/* `bildfunk unpair HOST`: removes the pin of HOST (its pin name: HOST[:PORT]
 * as typed, any case), or of a fingerprint prefix of 8+ hex digits, says so
 * on |out|; errors on stderr. Returns the exit code (0, 1). */
int bf_senders_unpair(const char *config_dir, const char *host, FILE *out);

#endif
