/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * LAN discovery, the client's side: the senders that publish
 * `_bildfunk._tcp` on the LAN (bildfunk/lan.h), browsed for a bounded
 * time, each resolved to its address, control port and TXT record.
 *
 * Backends: lan_browse_avahi.c (libavahi-client through the system's
 * avahi-daemon), lan_browse_none.c (a build without Avahi). Two ways:
 * bf_lan_browse() for `bildfunk list` (sender_book.c) runs Avahi's simple
 * poll on the caller's thread for the window and no longer (it blocks);
 * bf_lan_watch for the window's "Sender" prompt (screens.c) browses on
 * Avahi's threaded poll while the prompt is up, and the loop takes a copy
 * of what was found so far (under the poll's lock, a few microseconds).
 *
 * A sender that withdraws its service (its goodbye) leaves the list; one
 * that vanished without a goodbye stays until avahi-daemon's cache expires
 * it (mDNS), and connecting to it then fails as for any dead host.
 * A record that does not parse (anyone on the LAN may publish one) is
 * kept with |txt_ok| 0 and |why|, so the list can say so; at most |cap|
 * senders are kept (more are counted in |*more|).
 */
#ifndef BF_CLIENT_LAN_BROWSE_H
#define BF_CLIENT_LAN_BROWSE_H

#include <bildfunk/lan.h>

#include <stddef.h>
#include <stdint.h>

#define BF_LAN_BROWSE_MAX 32u

typedef struct bf_lan_sender {
  char service[BF_LAN_MAX_NAME + 1]; /* the DNS-SD instance name (printable) */
  char ip[64];                       /* its address, as text */
  uint16_t port;                     /* its control port */
  int ipv6;                          /* |ip| is an IPv6 address */
  int txt_ok;                        /* |txt| parsed */
  const char *why;                   /* else why not (static text) */
  bf_lan_txt txt;
} bf_lan_sender;

/* Browses for |window_ms| and resolves what it finds into |out| (|cap|).
 * Returns how many were kept (>= 0; |*more| those beyond |cap|), or a
 * negative errno with one line in |err| (-ECONNREFUSED: no avahi-daemon;
 * -ENOTSUP: this build has no Avahi; -EIO: another Avahi error). */
int bf_lan_browse(uint32_t window_ms, bf_lan_sender *out, size_t cap, size_t *more, char *err,
                  size_t errcap);

/* The window's watcher: browses until stopped, on a thread of its own. */
typedef struct bf_lan_watch bf_lan_watch;

/* Starts browsing. 0 with |*out|, or a negative errno (as bf_lan_browse)
 * with one line in |err|. */
int bf_lan_watch_start(bf_lan_watch **out, char *err, size_t errcap);

/* A copy of the senders resolved so far (at most |cap|, in the order they
 * were found). Returns how many. */
size_t bf_lan_watch_get(bf_lan_watch *w, bf_lan_sender *out, size_t cap);

/* Stops the thread and frees |*w| (NULL is fine). */
void bf_lan_watch_stop(bf_lan_watch **w);

#endif
