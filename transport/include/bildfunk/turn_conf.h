/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The TURN relay's settings as both programs take them (docs/protocol.md
 * 13): the server ("turn:HOST[:PORT]", RFC 7065's form without
 * parameters), long-term credentials or a TURN REST secret, and when to use
 * the relay (--relay auto|always|never). They come from the command line
 * (--turn, --turn-user, --turn-pass, --turn-secret) and, for what the
 * command line leaves out, from the file "turn" in the config directory:
 * lines "KEY VALUE" with the keys turn, user, pass and secret ('#' starts a
 * comment line), so a password need not be on a command line.
 *
 * Not here: the TURN client (turn.h), the relayed path (channel.h), what
 * the control session says (the programs). Plain text and a name lookup,
 * at start-up only; nothing on the packet path.
 */
#ifndef BILDFUNK_TURN_CONF_H
#define BILDFUNK_TURN_CONF_H

#include <bildfunk/channel.h>
#include <bildfunk/ctl_codec.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum bf_relay_mode {
  BF_RELAY_AUTO = 0, /* when the direct path has not opened within a bound */
  BF_RELAY_ALWAYS,   /* at once, without waiting for the punch */
  BF_RELAY_NEVER,    /* not even with --turn */
} bf_relay_mode;

#define BF_TURN_CONF_MAX 256u

typedef struct bf_turn_conf {
  char server[BF_TURN_CONF_MAX]; /* "turn:HOST[:PORT]", "" = none */
  char user[BF_TURN_CONF_MAX];
  char pass[BF_TURN_CONF_MAX];
  char secret[BF_TURN_CONF_MAX];
} bf_turn_conf;

/* Splits "turn:HOST[:PORT]" (IPv6 as [ADDR]) into |host| and |*port|
 * (3478 when none). 0 or -EINVAL. */
int bf_turn_url_parse(const char *url, char *host, size_t cap, uint16_t *port);
/* "auto", "always", "never". 0 or -EINVAL. */
int bf_relay_mode_parse(const char *s, bf_relay_mode *m);
const char *bf_relay_mode_name(bf_relay_mode m);

/* |c| from the command line's --turn, --turn-user, --turn-pass and
 * --turn-secret (each may be NULL). 0, or -EINVAL with the message in |err|
 * (a value of BF_TURN_CONF_MAX bytes or more). */
int bf_turn_conf_set(bf_turn_conf *c, const char *turn, const char *user, const char *pass,
                     const char *secret, char *err, size_t cap);

/* Fills the fields of |c| that are still empty from the file |path|.
 * Returns 0, -ENOENT (no such file: nothing to fill), or another negative
 * errno with the line and why in |err| (an unknown key, a value too long). */
int bf_turn_conf_read(const char *path, bf_turn_conf *c, char *err, size_t cap);

/* Checks that |c| is complete (a server; user and pass, or a secret, not
 * both) and resolves it into |rc| (whose strings point into |c|) with the
 * server's "HOST:PORT" in |name|. 0, or -EINVAL / -ENOENT (host not found)
 * with a message in |err|. */
int bf_turn_conf_resolve(const bf_turn_conf *c, bf_channel_relay_config *rc, char *name,
                         size_t ncap, char *err, size_t cap);

/* A RelayOffer (docs/protocol.md 13.3) of the relay in |st| on |server|
 * ("HOST:PORT") into |m|. */
void bf_ctl_relay_offer(bf_ctl_msg *m, const bf_channel_relay_status *st, const char *server);

/* An address of the relay messages from and to a socket address. _to:
 * 0, or -EAFNOSUPPORT for family 0 or an unknown one. */
void bf_ctl_addr_from(const bf_addr *a, bf_ctl_addr *out);
int bf_ctl_addr_to(const bf_ctl_addr *a, bf_addr *out);

#ifdef __cplusplus
}
#endif

#endif /* BILDFUNK_TURN_CONF_H */
