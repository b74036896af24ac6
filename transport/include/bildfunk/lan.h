/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The LAN half of reaching a sender (issue #18), as pure codecs: the DNS-SD
 * TXT record a sender publishes with its `_bildfunk._tcp` service (version,
 * data port, name, fingerprint prefix), and the Wake-on-LAN magic packet
 * with the MAC address text helpers around it.
 *
 * TXT record = DNS TXT RDATA (RFC 6763 §6): strings of u8 length ‖ bytes,
 * each "key=value"; keys case-insensitive, the first of a key counts,
 * unknown keys and strings without '=' are ignored. Keys written:
 *   v=1            the record's version (BF_LAN_TXT_VERSION), required
 *   dp=47998       the sender's UDP data port, 1..65535, required
 *   name=TEXT      the sender's name, 0..63 bytes of printable UTF-8
 *   fp=16 hex      the first 8 bytes of its certificate's SHA-256
 *                  (8..16 lower- or upper-case hex digits accepted)
 * The TXT comes from the network (anyone on the LAN may publish one):
 * parsing checks every field and never reads past |len|.
 *
 * Magic packet = 6 x 0xFF ‖ 16 x the MAC (102 bytes), sent by UDP to port 9.
 *
 * Not here: Avahi (sender/publish_avahi.c, client/src/setup/lan_browse.c),
 * sockets (client/src/setup/wake.c), which MACs a host has (the sender).
 * No allocation, no I/O; builds without OpenSSL (also for Windows).
 */
#ifndef BILDFUNK_LAN_H
#define BILDFUNK_LAN_H

#include <bildfunk/common.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BF_LAN_SERVICE "_bildfunk._tcp" /* DNS-SD service type, on the control port */
#define BF_LAN_TXT_VERSION 1u
#define BF_LAN_MAX_NAME 63u  /* bytes of the name (a DNS label's length) */
#define BF_LAN_FP_HEX 16u    /* hex digits of the fingerprint prefix written */
#define BF_LAN_FP_HEX_MIN 8u /* fewest accepted */
#define BF_LAN_TXT_MAX 128u  /* longest record bf_lan_txt_encode() writes */

typedef struct bf_lan_txt {
  unsigned version;               /* v=, >= 1 */
  uint16_t data_port;             /* dp=, != 0 */
  char name[BF_LAN_MAX_NAME + 1]; /* name=, "" when absent */
  char fp[BF_LAN_FP_HEX + 1];     /* fp=, lower-case hex, "" when absent */
} bf_lan_txt;

/* Writes |t| as TXT RDATA into |out|. Returns its length, -EINVAL (version
 * 0, port 0, a name that is too long or not printable UTF-8, an fp that is
 * not 8..16 hex digits) or -ENOSPC. */
int bf_lan_txt_encode(const bf_lan_txt *t, uint8_t *out, size_t cap);

/* 1 when |name| can be published: 0..63 bytes of printable UTF-8. */
int bf_lan_name_ok(const char *name);

/* Parses TXT RDATA (|len| bytes) into |t|. Returns 0, or -EBADMSG with
 * |*why| (may be NULL) naming the problem ("txt: string runs past the
 * record", "txt: no v=", "txt: dp= not 1..65535", ...). */
int bf_lan_txt_parse(const uint8_t *rdata, size_t len, bf_lan_txt *t, const char **why);

/* ---- Wake-on-LAN -------------------------------------------------------- */

#define BF_MAC_BYTES 6u
#define BF_MAC_TEXT 18u /* "aa:bb:cc:dd:ee:ff" and a NUL */
#define BF_WAKE_PACKET_BYTES 102u
#define BF_WAKE_PORT 9u /* UDP "discard": where wakers send it */

/* The magic packet for |mac| into |out|. */
void bf_wake_packet(const uint8_t mac[BF_MAC_BYTES], uint8_t out[BF_WAKE_PACKET_BYTES]);

/* 1 when |mac| can belong to a host's interface: not all zero, not a
 * group (multicast/broadcast) address. */
int bf_mac_usable(const uint8_t mac[BF_MAC_BYTES]);

/* "aa:bb:cc:dd:ee:ff" (also '-' separated, either case) -> |mac|. 0 or
 * -EINVAL. */
int bf_mac_parse(const char *s, uint8_t mac[BF_MAC_BYTES]);

/* |mac| as "aa:bb:cc:dd:ee:ff". */
void bf_mac_format(const uint8_t mac[BF_MAC_BYTES], char out[BF_MAC_TEXT]);

#ifdef __cplusplus
}
#endif

#endif /* BILDFUNK_LAN_H */
