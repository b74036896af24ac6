/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * LAN discovery through Avahi: see publish.h. Everything Avahi calls back
 * runs on its threaded poll's thread; the struct is only touched there
 * after bf_publish_start() returns (and by bf_publish_stop() once that
 * thread has stopped).
 */
#include "publish.h"

#include <avahi-client/client.h>
#include <avahi-client/publish.h>
#include <avahi-common/alternative.h>
#include <avahi-common/error.h>
#include <avahi-common/malloc.h>
#include <avahi-common/strlst.h>
#include <avahi-common/thread-watch.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bf_publish {
  AvahiThreadedPoll *poll;
  AvahiClient *client;
  AvahiEntryGroup *group;
  AvahiStringList *txt;
  char *name; /* the service's name (Avahi's allocation: renamed on collisions) */
  bf_publish_config cfg;
};

__attribute__((format(printf, 2, 3))) static void say(const bf_publish *p, const char *fmt, ...) {
  if (!p->cfg.log) return;
  char line[300];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  fprintf(p->cfg.log, "bildfunk-send: LAN discovery: %s\n", line);
  fflush(p->cfg.log);
}

static void add_service(bf_publish *p, AvahiClient *c);

/* Another host has the name: take Avahi's alternative and register again. */
static void rename_and_retry(bf_publish *p, AvahiClient *c) {
  char *n = avahi_alternative_service_name(p->name);
  if (!n) return;
  say(p, "the name \"%s\" is taken on the LAN; published as \"%s\"", p->name, n);
  avahi_free(p->name);
  p->name = n;
  if (p->group) avahi_entry_group_reset(p->group);
  add_service(p, c);
}

static void group_cb(AvahiEntryGroup *g, AvahiEntryGroupState st, void *user) {
  bf_publish *p = user;
  p->group = g;
  if (st == AVAHI_ENTRY_GROUP_ESTABLISHED)
    say(p, "published \"%s\" (%s, port %u)", p->name, BF_LAN_SERVICE, (unsigned)p->cfg.ctl_port);
  else if (st == AVAHI_ENTRY_GROUP_COLLISION)
    rename_and_retry(p, avahi_entry_group_get_client(g));
  else if (st == AVAHI_ENTRY_GROUP_FAILURE)
    say(p, "publishing failed: %s",
        avahi_strerror(avahi_client_errno(avahi_entry_group_get_client(g))));
}

static void add_service(bf_publish *p, AvahiClient *c) {
  if (!p->group && !(p->group = avahi_entry_group_new(c, group_cb, p))) {
    say(p, "publishing failed: %s", avahi_strerror(avahi_client_errno(c)));
    return;
  }
  if (!avahi_entry_group_is_empty(p->group)) return;
  const AvahiIfIndex ifc = p->cfg.ifindex > 0 ? p->cfg.ifindex : AVAHI_IF_UNSPEC;
  int r = avahi_entry_group_add_service_strlst(p->group, ifc, AVAHI_PROTO_UNSPEC, 0, p->name,
                                               BF_LAN_SERVICE, NULL, NULL, p->cfg.ctl_port, p->txt);
  if (r == AVAHI_ERR_COLLISION) {
    rename_and_retry(p, c);
    return;
  }
  if (r >= 0) r = avahi_entry_group_commit(p->group);
  if (r < 0) say(p, "publishing failed: %s", avahi_strerror(r));
}

static void client_cb(AvahiClient *c, AvahiClientState st, void *user) {
  bf_publish *p = user;
  if (st == AVAHI_CLIENT_S_RUNNING) {
    add_service(p, c);
  } else if (st == AVAHI_CLIENT_S_COLLISION || st == AVAHI_CLIENT_S_REGISTERING) {
    if (p->group) avahi_entry_group_reset(p->group); /* registered again once RUNNING */
  } else if (st == AVAHI_CLIENT_FAILURE) {
    say(p, "stopped: %s (the stream goes on; clients connect by address)",
        avahi_strerror(avahi_client_errno(c)));
  }
}

void bf_publish_stop(bf_publish **pp) {
  bf_publish *p = *pp;
  if (!p) return;
  if (p->poll) avahi_threaded_poll_stop(p->poll);
  if (p->client) avahi_client_free(p->client); /* withdraws the service */
  if (p->poll) avahi_threaded_poll_free(p->poll);
  avahi_string_list_free(p->txt);
  avahi_free(p->name);
  free(p);
  *pp = NULL;
}

int bf_publish_start(const bf_publish_config *cfg, bf_publish **out) {
  *out = NULL;
  bf_publish *p = calloc(1, sizeof *p);
  if (!p) return -ENOMEM;
  p->cfg = *cfg;
  uint8_t rdata[BF_LAN_TXT_MAX];
  int n = bf_lan_txt_encode(&cfg->txt, rdata, sizeof rdata);
  if (n < 0 || avahi_string_list_parse(rdata, (size_t)n, &p->txt) < 0) {
    say(p, "off: the TXT record cannot be made (%s)", n < 0 ? "bad field" : "Avahi");
    bf_publish_stop(&p);
    return n < 0 ? n : -ENOMEM;
  }
  p->name = avahi_strdup(cfg->txt.name[0] ? cfg->txt.name : "bildfunk");
  int err = 0;
  if (!p->name || !(p->poll = avahi_threaded_poll_new())) {
    bf_publish_stop(&p);
    return -ENOMEM;
  }
  p->client = avahi_client_new(avahi_threaded_poll_get(p->poll), 0, client_cb, p, &err);
  if (!p->client) {
    say(p, "off: %s (is avahi-daemon running?); clients connect by address", avahi_strerror(err));
    bf_publish_stop(&p);
    return err == AVAHI_ERR_NO_DAEMON ? -ECONNREFUSED : -EIO;
  }
  if (avahi_threaded_poll_start(p->poll) < 0) {
    say(p, "off: its thread did not start");
    bf_publish_stop(&p);
    return -EAGAIN;
  }
  *out = p;
  return 0;
}
