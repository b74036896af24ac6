/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * LAN discovery through Avahi: see lan_browse.h. One browser; a resolver
 * per service found. bf_lan_browse: everything on the caller's thread inside
 * avahi_simple_poll_iterate(), until the window is over; the watcher: on
 * Avahi's threaded poll, its results read under that poll's lock.
 */
#include "lan_browse.h"

#include <bildfunk/clock.h>

#include <avahi-client/client.h>
#include <avahi-client/lookup.h>
#include <avahi-common/error.h>
#include <avahi-common/simple-watch.h>
#include <avahi-common/strlst.h>
#include <avahi-common/thread-watch.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct browse {
  AvahiClient *client;
  bf_lan_sender *out;
  size_t cap, n, more;
  int failed;
  char *err;
  size_t errcap;
} browse;

/* |s| for a terminal: as it is when it is a name the TXT rules allow
 * (printable UTF-8, lan.h), else every byte outside printable ASCII as '?'
 * (no escape sequence reaches the terminal, C1 controls in UTF-8 included). */
static void printable(char *dst, size_t cap, const char *s) {
  snprintf(dst, cap, "%s", s);
  if (bf_lan_name_ok(dst)) return;
  for (char *p = dst; *p; p++)
    if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f) *p = '?';
}

/* Where a resolved service goes: one line per service name (names are
 * unique on a LAN), its IPv4 address rather than its IPv6 one; NULL: it is
 * there already. */
static bf_lan_sender *slot(browse *b, const char *name, int ipv6) {
  for (size_t i = 0; i < b->n; i++)
    if (!strcmp(b->out[i].service, name)) return b->out[i].ipv6 && !ipv6 ? &b->out[i] : NULL;
  if (b->n == b->cap) {
    b->more++;
    return NULL;
  }
  return &b->out[b->n++];
}

static void resolve_cb(AvahiServiceResolver *r, AvahiIfIndex iface, AvahiProtocol proto,
                       AvahiResolverEvent ev, const char *name, const char *type,
                       const char *domain, const char *host, const AvahiAddress *a, uint16_t port,
                       AvahiStringList *txt, AvahiLookupResultFlags flags, void *user) {
  (void)iface, (void)proto, (void)type, (void)domain, (void)host, (void)flags;
  browse *b = user;
  if (ev == AVAHI_RESOLVER_FOUND && a) {
    char ip[AVAHI_ADDRESS_STR_MAX], shown[BF_LAN_MAX_NAME + 1];
    avahi_address_snprint(ip, sizeof ip, a);
    printable(shown, sizeof shown, name);
    bf_lan_sender *s = slot(b, shown, a->proto == AVAHI_PROTO_INET6);
    if (s) {
      memset(s, 0, sizeof *s);
      snprintf(s->service, sizeof s->service, "%s", shown);
      snprintf(s->ip, sizeof s->ip, "%s", ip);
      s->ipv6 = a->proto == AVAHI_PROTO_INET6;
      s->port = port;
      uint8_t rdata[1024];
      size_t len = avahi_string_list_serialize(txt, rdata, sizeof rdata);
      s->txt_ok = bf_lan_txt_parse(rdata, len, &s->txt, &s->why) == 0;
    }
  }
  avahi_service_resolver_free(r);
}

/* A service that went away (its goodbye, or its records expired): off the list. */
static void forget(browse *b, const char *name) {
  char shown[BF_LAN_MAX_NAME + 1];
  printable(shown, sizeof shown, name);
  for (size_t i = 0; i < b->n; i++)
    if (!strcmp(b->out[i].service, shown)) {
      memmove(&b->out[i], &b->out[i + 1], (b->n - i - 1) * sizeof *b->out);
      b->n--;
      return;
    }
}

static void browse_cb(AvahiServiceBrowser *sb, AvahiIfIndex iface, AvahiProtocol proto,
                      AvahiBrowserEvent ev, const char *name, const char *type, const char *domain,
                      AvahiLookupResultFlags flags, void *user) {
  (void)sb, (void)flags;
  browse *b = user;
  if (ev == AVAHI_BROWSER_NEW) {
    if (!avahi_service_resolver_new(b->client, iface, proto, name, type, domain, AVAHI_PROTO_UNSPEC,
                                    0, resolve_cb, b))
      b->more++; /* cannot be resolved now: counted, not listed */
  } else if (ev == AVAHI_BROWSER_REMOVE) {
    forget(b, name);
  } else if (ev == AVAHI_BROWSER_FAILURE) {
    snprintf(b->err, b->errcap, "LAN browsing failed: %s",
             avahi_strerror(avahi_client_errno(b->client)));
    b->failed = 1;
  }
}

static void client_cb(AvahiClient *c, AvahiClientState st, void *user) {
  (void)c, (void)st, (void)user; /* a daemon that goes away ends the browser: FAILURE */
}

/* The client and the browser on |api|. 0, or a negative errno with |b->err|
 * set; |b->client| may be set either way (the caller frees it). */
static int browse_open(browse *b, const AvahiPoll *api) {
  int e = 0;
  b->client = avahi_client_new(api, 0, client_cb, b, &e);
  if (!b->client) {
    snprintf(b->err, b->errcap, "LAN discovery off: %s (is avahi-daemon running?)",
             avahi_strerror(e));
    return e == AVAHI_ERR_NO_DAEMON ? -ECONNREFUSED : -EIO;
  }
  if (!avahi_service_browser_new(b->client, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC, BF_LAN_SERVICE,
                                 NULL, 0, browse_cb, b)) {
    snprintf(b->err, b->errcap, "LAN browsing failed: %s",
             avahi_strerror(avahi_client_errno(b->client)));
    return -EIO;
  }
  return 0;
}

int bf_lan_browse(uint32_t window_ms, bf_lan_sender *out, size_t cap, size_t *more, char *err,
                  size_t errcap) {
  browse b = {.out = out, .cap = cap, .err = err, .errcap = errcap};
  *more = 0;
  AvahiSimplePoll *poll = avahi_simple_poll_new();
  if (!poll) {
    snprintf(err, errcap, "LAN browsing: out of memory");
    return -ENOMEM;
  }
  int rc = browse_open(&b, avahi_simple_poll_get(poll));
  const int sb = rc == 0;
  const uint64_t end = bf_clock_mono_ns() + (uint64_t)window_ms * 1000000u;
  for (uint64_t now = bf_clock_mono_ns(); sb && !b.failed && now < end; now = bf_clock_mono_ns()) {
    const int ms = (int)((end - now + 999999u) / 1000000u);
    if (avahi_simple_poll_iterate(poll, ms) != 0) break;
  }
  if (b.failed) rc = -EIO;
  if (b.client) avahi_client_free(b.client); /* frees the browser and the resolvers still running */
  avahi_simple_poll_free(poll);
  *more = b.more;
  return rc < 0 ? rc : (int)b.n;
}

/* ---- the window's watcher -------------------------------------------------- */

struct bf_lan_watch {
  AvahiThreadedPoll *poll;
  browse b; /* touched by the poll's thread, read under its lock */
  bf_lan_sender found[BF_LAN_BROWSE_MAX];
  char err[200];
};

void bf_lan_watch_stop(bf_lan_watch **wp) {
  bf_lan_watch *w = *wp;
  if (!w) return;
  if (w->poll) avahi_threaded_poll_stop(w->poll);
  if (w->b.client) avahi_client_free(w->b.client);
  if (w->poll) avahi_threaded_poll_free(w->poll);
  free(w);
  *wp = NULL;
}

int bf_lan_watch_start(bf_lan_watch **out, char *err, size_t errcap) {
  *out = NULL;
  bf_lan_watch *w = calloc(1, sizeof *w);
  if (!w) return -ENOMEM;
  w->b =
      (browse){.out = w->found, .cap = BF_LAN_BROWSE_MAX, .err = w->err, .errcap = sizeof w->err};
  int r = (w->poll = avahi_threaded_poll_new())
              ? browse_open(&w->b, avahi_threaded_poll_get(w->poll))
              : -ENOMEM;
  if (!r && avahi_threaded_poll_start(w->poll) < 0) {
    snprintf(w->err, sizeof w->err, "LAN browsing: its thread did not start");
    r = -EAGAIN;
  }
  if (r < 0) {
    snprintf(err, errcap, "%s", w->err[0] ? w->err : "LAN browsing: out of memory");
    bf_lan_watch_stop(&w);
    return r;
  }
  *out = w;
  return 0;
}

size_t bf_lan_watch_get(bf_lan_watch *w, bf_lan_sender *out, size_t cap) {
  avahi_threaded_poll_lock(w->poll);
  size_t n = w->b.n < cap ? w->b.n : cap;
  memcpy(out, w->found, n * sizeof *out);
  avahi_threaded_poll_unlock(w->poll);
  return n;
}
