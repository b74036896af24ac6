/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * LAN discovery, the sender's side: the control port published as a
 * DNS-SD service `_bildfunk._tcp` with the TXT record of bildfunk/lan.h
 * (version, data port, name, fingerprint prefix), so that `bildfunk list`
 * finds the sender. Best effort: without a daemon (or in a build without
 * Avahi) it says so in one line on |log| and the sender streams as ever.
 *
 * Backends: publish_avahi.c (libavahi-client, through the system's
 * avahi-daemon over D-Bus; its own thread, Avahi's threaded poll, which
 * only registers and re-registers the service: nothing on the stream's
 * path waits for it), publish_none.c (a build without Avahi). A name taken
 * by another host is replaced by Avahi's alternative ("NAME #2"), said on
 * |log|.
 */
#ifndef BF_SENDER_PUBLISH_H
#define BF_SENDER_PUBLISH_H

#include <bildfunk/lan.h>

#include <stdint.h>
#include <stdio.h>

typedef struct bf_publish bf_publish;

typedef struct bf_publish_config {
  uint16_t ctl_port; /* the TCP control port the service points at */
  int ifindex;       /* the interface to publish on, 0 = every one */
  bf_lan_txt txt;    /* what the TXT record says (name: the service's name too) */
  FILE *log;         /* one line per outcome; NULL: silent */
} bf_publish_config;

/* Starts publishing. Returns 0 with |*out| set, or a negative errno (no
 * daemon: -ECONNREFUSED; no Avahi in this build: -ENOTSUP) after saying
 * so on |log|; the caller goes on either way. */
int bf_publish_start(const bf_publish_config *cfg, bf_publish **out);

/* Withdraws the service, stops the thread, frees |*p| (NULL is fine). */
void bf_publish_stop(bf_publish **p);

#endif
