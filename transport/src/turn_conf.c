/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The TURN relay's settings: see bildfunk/turn_conf.h.
 */
#include <bildfunk/turn_conf.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int bf_turn_url_parse(const char *url, char *host, size_t cap, uint16_t *port) {
  if (!url || strncmp(url, "turn:", 5) != 0) return -EINVAL;
  const char *h = url + 5, *end, *colon;
  if (*h == '[') {
    end = strchr(h, ']');
    if (!end || end == h + 1) return -EINVAL;
    colon = end[1] == ':' ? end + 1 : NULL;
    if (!colon && end[1]) return -EINVAL;
    h++;
  } else {
    colon = strchr(h, ':');
    end = colon ? colon : h + strlen(h);
  }
  size_t n = (size_t)(end - h);
  if (!n || n >= cap || memchr(h, '?', n) || memchr(h, '/', n)) return -EINVAL;
  memcpy(host, h, n);
  host[n] = 0;
  *port = 3478;
  if (colon) {
    char *stop;
    unsigned long p = strtoul(colon + 1, &stop, 10);
    if (!colon[1] || *stop || p < 1 || p > 65535) return -EINVAL;
    *port = (uint16_t)p;
  }
  return 0;
}

int bf_relay_mode_parse(const char *s, bf_relay_mode *m) {
  static const char *const names[] = {"auto", "always", "never"};
  for (int i = 0; i < 3; i++)
    if (s && !strcmp(s, names[i])) {
      *m = (bf_relay_mode)i;
      return 0;
    }
  return -EINVAL;
}

const char *bf_relay_mode_name(bf_relay_mode m) {
  return m == BF_RELAY_ALWAYS ? "always" : m == BF_RELAY_NEVER ? "never" : "auto";
}

/* |dst| (BF_TURN_CONF_MAX) from |v| unless it is set already. */
static int fill(char *dst, const char *v) {
  if (strlen(v) >= BF_TURN_CONF_MAX) return -ENAMETOOLONG;
  if (!*dst) snprintf(dst, BF_TURN_CONF_MAX, "%s", v);
  return 0;
}

int bf_turn_conf_set(bf_turn_conf *c, const char *turn, const char *user, const char *pass,
                     const char *secret, char *err, size_t cap) {
  const char *v[4] = {turn, user, pass, secret};
  static const char *const opt[4] = {"--turn", "--turn-user", "--turn-pass", "--turn-secret"};
  char *dst[4] = {c->server, c->user, c->pass, c->secret};
  memset(c, 0, sizeof *c);
  for (int i = 0; i < 4; i++) {
    if (!v[i]) continue;
    if (strlen(v[i]) >= BF_TURN_CONF_MAX) {
      snprintf(err, cap, "%s: longer than %u bytes", opt[i], BF_TURN_CONF_MAX - 1);
      return -EINVAL;
    }
    snprintf(dst[i], BF_TURN_CONF_MAX, "%s", v[i]);
  }
  return 0;
}

int bf_turn_conf_read(const char *path, bf_turn_conf *c, char *err, size_t cap) {
  FILE *f = fopen(path, "r");
  if (!f) {
    if (errno == ENOENT) return -ENOENT;
    int e = errno;
    snprintf(err, cap, "%s: %s", path, strerror(e));
    return -e;
  }
  char line[1024];
  int no = 0, r = 0;
  while (r == 0 && fgets(line, sizeof line, f)) {
    no++;
    line[strcspn(line, "\r\n")] = 0;
    char *k = line + strspn(line, " \t");
    if (!*k || *k == '#') continue;
    char *v = k + strcspn(k, " \t");
    if (*v) *v++ = 0;
    v += strspn(v, " \t");
    char *e = v + strlen(v);
    while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
      *--e = 0;
    char *dst = !strcmp(k, "turn")     ? c->server
                : !strcmp(k, "user")   ? c->user
                : !strcmp(k, "pass")   ? c->pass
                : !strcmp(k, "secret") ? c->secret
                                       : NULL;
    if (!dst) {
      snprintf(err, cap, "%s:%d: unknown key '%.40s' (turn, user, pass, secret)", path, no, k);
      r = -EINVAL;
    } else if (!*v) {
      snprintf(err, cap, "%s:%d: %s without a value", path, no, k);
      r = -EINVAL;
    } else if (fill(dst, v) < 0) {
      snprintf(err, cap, "%s:%d: %s longer than %u bytes", path, no, k, BF_TURN_CONF_MAX - 1);
      r = -EINVAL;
    }
  }
  fclose(f);
  return r;
}

int bf_turn_conf_resolve(const bf_turn_conf *c, bf_channel_relay_config *rc, char *name,
                         size_t ncap, char *err, size_t cap) {
  memset(rc, 0, sizeof *rc);
  char host[BF_TURN_CONF_MAX];
  uint16_t port;
  if (bf_turn_url_parse(c->server, host, sizeof host, &port) < 0) {
    snprintf(err, cap, "--turn: '%s' is not turn:HOST[:PORT]", c->server);
    return -EINVAL;
  }
  if (*c->secret && (*c->pass)) {
    snprintf(err, cap, "--turn-secret and --turn-pass contradict: give one");
    return -EINVAL;
  }
  if (!*c->secret && (!*c->user || !*c->pass)) {
    snprintf(err, cap,
             "--turn %s needs --turn-user and --turn-pass, or --turn-secret (or the file "
             "'turn' in the config directory)",
             c->server);
    return -EINVAL;
  }
  char text[BF_TURN_CONF_MAX + 8];
  snprintf(text, sizeof text, strchr(host, ':') ? "[%s]:%u" : "%s:%u", host, (unsigned)port);
  int r = bf_addr_parse(text, port, &rc->server);
  if (r < 0) {
    snprintf(err, cap, "TURN server %s: %s", host,
             r == -ENOENT ? "host not found" : "not a host name or address");
    return r;
  }
  snprintf(name, ncap, "%s", text);
  rc->server_name = name;
  rc->user = *c->user ? c->user : NULL;
  rc->pass = *c->pass ? c->pass : NULL;
  rc->secret = *c->secret ? c->secret : NULL;
  rc->unix_time_s = (uint64_t)time(NULL);
  return 0;
}

void bf_ctl_addr_from(const bf_addr *a, bf_ctl_addr *out) {
  memset(out, 0, sizeof *out);
  if (!a || !a->len) return;
  if (a->ss.ss_family == AF_INET) {
    const struct sockaddr_in *v4 = (const struct sockaddr_in *)&a->ss;
    out->family = 4;
    out->port = ntohs(v4->sin_port);
    memcpy(out->ip, &v4->sin_addr, 4);
  } else if (a->ss.ss_family == AF_INET6) {
    const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)&a->ss;
    out->family = 6;
    out->port = ntohs(v6->sin6_port);
    memcpy(out->ip, &v6->sin6_addr, 16);
  }
}

int bf_ctl_addr_to(const bf_ctl_addr *a, bf_addr *out) {
  memset(out, 0, sizeof *out);
  if (a->family == 4) {
    struct sockaddr_in *v4 = (struct sockaddr_in *)&out->ss;
    v4->sin_family = AF_INET;
    v4->sin_port = htons(a->port);
    memcpy(&v4->sin_addr, a->ip, 4);
    out->len = sizeof *v4;
    return 0;
  }
  if (a->family == 6) {
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&out->ss;
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(a->port);
    memcpy(&v6->sin6_addr, a->ip, 16);
    out->len = sizeof *v6;
    return 0;
  }
  return -EAFNOSUPPORT;
}

void bf_ctl_relay_offer(bf_ctl_msg *m, const bf_channel_relay_status *st, const char *server) {
  memset(m, 0, sizeof *m);
  m->type = BF_CTL_RELAY_OFFER;
  bf_ctl_addr_from(&st->relayed, &m->u.relay_offer.relayed);
  bf_ctl_addr_from(&st->mapped, &m->u.relay_offer.mapped);
  snprintf(m->u.relay_offer.server, sizeof m->u.relay_offer.server, "%s", server);
}
