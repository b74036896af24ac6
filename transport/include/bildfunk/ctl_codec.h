/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Control-plane messages (issue #6): the typed, length-prefixed messages the
 * client and the sender exchange over their TLS 1.3 stream — session setup
 * (Hello / Welcome), clock sync, keyframe and loss feedback, keepalive,
 * pairing (request, commit-then-reveal nonces, result), Bye — and a framer
 * that turns arbitrary byte chunks from that stream into whole messages.
 *
 * Frame = header (6 bytes) ‖ body, integers little-endian:
 *   0  u32 body_len   bytes after the header; at most BF_CTL_MAX_BODY
 *   4  u8  version    BF_CTL_FRAME_VERSION (1); anything else ends the stream
 *   5  u8  type       bf_ctl_type; 0 is invalid
 * A body is its type's fields in order; a string is u16 length ‖ bytes
 * (UTF-8, no control characters, no NUL; each field has its own maximum).
 * Forward compatibility: a body longer than its fields is accepted and the
 * rest ignored (later versions append fields), and a message of an unknown
 * type is skipped by its length without being buffered. A known message
 * that is short, has a bad string or a field out of range is malformed: an
 * error with a name (bf_ctl_framer_why), after which the stream is dead.
 *
 * Sans-I/O: no sockets, no TLS, no clocks, no allocation; the framer is
 * caller-owned (embed it; 64 KiB) and buffers at most one message. The
 * session logic (who may send what when, timeouts, pairing policy) is not
 * here. Builds without OpenSSL (also for Windows).
 */
#ifndef BILDFUNK_CTL_CODEC_H
#define BILDFUNK_CTL_CODEC_H

#include <bildfunk/common.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BF_CTL_FRAME_VERSION 1u
#define BF_CTL_PROTOCOL_VERSION 1u /* Hello/Welcome proto_version */
#define BF_CTL_HEADER_BYTES 6u
#define BF_CTL_MAX_MSG 65536u /* header + body: the framer's whole buffer */
#define BF_CTL_MAX_BODY (BF_CTL_MAX_MSG - BF_CTL_HEADER_BYTES)
/* The sender's TLS control port when none is given (TCP; the data port,
 * BF_DEFAULT_DATA_PORT 47998, is UDP). */
#define BF_CTL_DEFAULT_PORT 47999u

/* String field limits in bytes (the decoded copy adds a NUL). */
#define BF_CTL_MAX_NAME 64u  /* Hello client name */
#define BF_CTL_MAX_CODE 16u  /* PairRequest code: 0..16 of [0-9A-Za-z] */
#define BF_CTL_MAX_TEXT 512u /* Bye text */
/* Longest frame bf_ctl_encode() writes (a Bye with the longest text). */
#define BF_CTL_MAX_ENCODED (BF_CTL_HEADER_BYTES + 4u + 2u + BF_CTL_MAX_TEXT)

/* Codec numbers; the media library's bf_codec (bildfunk/codec.h) takes its
 * values from these. A mask (Hello codecs, hw_codecs) has bit (codec - 1)
 * set per codec. */
#define BF_CTL_CODEC_H264 1u
#define BF_CTL_CODEC_HEVC 2u
#define BF_CTL_CODEC_AV1 3u
#define BF_CTL_CODEC_BIT(c) (1u << ((c)-1u))
#define BF_CTL_MAX_CODEC 32u

/* Hello caps bits. Unknown bits are kept and ignored. */
#define BF_CTL_CAP_SEALED 0x1u /* the client can open and send sealed datagrams */
/* The client only pairs: it will not stream on this session (`bildfunk
 * pair`). A sender that knows the bit leaves its streaming client alone; an
 * older one ignores it and hands this session the stream as before. */
#define BF_CTL_CAP_PAIR_ONLY 0x2u
#define BF_CTL_CAP_AUDIO 0x4u  /* the client plays the sender's sound (audio datagrams, 0xA0) */
#define BF_CTL_CAP_INPUT 0x8u  /* the client sends input (input datagrams, 0xB0) */
#define BF_CTL_CAP_RELAY 0x10u /* the client can use a TURN relay (docs/protocol.md 13.3) */
/* Welcome flags bits. Unknown bits are kept and ignored. */
#define BF_CTL_WELCOME_SEALED 0x1u /* the data plane is sealed (spec §6) */
#define BF_CTL_WELCOME_AUDIO 0x2u  /* the sender sends sound to this client */
#define BF_CTL_WELCOME_INPUT 0x4u  /* the sender applies this client's input */
#define BF_CTL_WELCOME_RELAY 0x8u  /* the sender can use a TURN relay */

/* Limits a Welcome is checked against. */
#define BF_CTL_MAX_FRAME_BYTES (64u << 20) /* largest max_frame_bytes accepted */
#define BF_CTL_MIN_MTU 576u

typedef enum bf_ctl_type {
  BF_CTL_HELLO = 1,            /* client -> sender, first message */
  BF_CTL_WELCOME = 2,          /* sender -> client, answer to Hello */
  BF_CTL_CLOCK_PING = 3,       /* client -> sender */
  BF_CTL_CLOCK_PONG = 4,       /* sender -> client */
  BF_CTL_KEYFRAME_REQUEST = 5, /* client -> sender */
  BF_CTL_LOSS_REPORT = 6,      /* client -> sender */
  BF_CTL_KEEPALIVE = 7,        /* both ways, empty body */
  BF_CTL_PAIR_REQUEST = 8,     /* client -> sender */
  BF_CTL_PAIR_RESULT = 9,      /* sender -> client */
  BF_CTL_BYE = 10,             /* both ways, last message */
  BF_CTL_PAIR_COMMIT = 11,     /* client -> sender: SHA-256(n_c), after PairRequest */
  BF_CTL_PAIR_NONCE = 12,      /* sender -> client: n_s, answer to PairCommit */
  BF_CTL_PAIR_REVEAL = 13,     /* client -> sender: n_c, answer to PairNonce */
  BF_CTL_RELAY_OFFER = 14,     /* both: send the data plane to my relayed address */
  BF_CTL_RELAY_READY = 15,     /* sender -> client: sending to it from now on */
  BF_CTL_RELAY_FAILED = 16,    /* both: no relay on this side, and why */
  BF_CTL_WAKE_INFO = 17,       /* sender -> client: its MACs, before Welcome */
  BF_CTL_DATA_ADDR = 18,       /* client -> sender: its data socket (two-sided punch) */
} bf_ctl_type;
#define BF_CTL_TYPE_MAX_KNOWN 18u

/* A transport address in the relay messages (docs/protocol.md 13.3): 19
 * bytes on the wire, family u8 (0 none, 4, 6), port u16, 16 address bytes
 * (IPv4 in the first 4, the rest zero). */
typedef struct bf_ctl_addr {
  uint8_t family;
  uint16_t port;
  uint8_t ip[16];
} bf_ctl_addr;
#define BF_CTL_ADDR_BYTES 19u
#define BF_CTL_MAX_SERVER 255u /* RelayOffer: the TURN server's name */

/* Commit-then-reveal pairing (docs/security.md): 32-byte nonces and the
 * 32-byte SHA-256 commitment of the client's nonce. */
#define BF_CTL_PAIR_NONCE_BYTES 32u
#define BF_CTL_PAIR_COMMIT_BYTES 32u

/* WakeInfo: the sender's interfaces' MAC addresses (Wake-on-LAN). */
#define BF_CTL_MAX_MACS 8u
#define BF_CTL_MAC_BYTES 6u

/* Bye reasons; 0..2 are the same as feedback.h's bf_fb_bye_reason. Unknown
 * values are kept (decoders must not reject them). */
typedef enum bf_ctl_bye_reason {
  BF_CTL_BYE_NORMAL = 0,      /* user quit / stream finished */
  BF_CTL_BYE_ERROR = 1,       /* the peer hit an error (text says which) */
  BF_CTL_BYE_REPLACED = 2,    /* sender: another client took over */
  BF_CTL_BYE_NOT_PAIRED = 3,  /* sender: this client is not paired */
  BF_CTL_BYE_PAIR_FAILED = 4, /* pairing refused (wrong code, rate limit) */
  BF_CTL_BYE_VERSION = 5,     /* no common protocol version */
  BF_CTL_BYE_TIMEOUT = 6,     /* the peer went silent */
  BF_CTL_BYE_MALFORMED = 7,   /* the peer sent a malformed message */
  BF_CTL_BYE_NO_MODE = 8,     /* no mode/codec both sides support */
} bf_ctl_bye_reason;

/* PairResult status values; unknown values are kept. */
typedef enum bf_ctl_pair_status {
  BF_CTL_PAIR_OK = 0, /* paired: both sides pin the certificates */
  BF_CTL_PAIR_WRONG_CODE = 1,
  BF_CTL_PAIR_RATE_LIMITED = 2, /* retry_after_ms says when to try again */
  BF_CTL_PAIR_DISABLED = 3,     /* the sender does not accept new clients */
} bf_ctl_pair_status;

typedef struct bf_ctl_hello {     /* fixed part 24 bytes, then name */
  uint16_t proto_version;         /* highest version the client speaks, >= 1 */
  uint16_t mtu;                   /* path MTU the client assumes, >= 576 */
  uint32_t codecs;                /* decodable codecs (mask), != 0 */
  uint32_t hw_codecs;             /* of those, hardware-decoded (mask) */
  uint16_t max_width, max_height; /* largest mode, >= 1 each */
  uint16_t max_fps;               /* >= 1 */
  uint16_t shard_bytes;           /* largest shard it takes: even, 512..9152 */
  uint32_t caps;                  /* BF_CTL_CAP_* */
  char name[BF_CTL_MAX_NAME + 1]; /* client name, may be empty */
} bf_ctl_hello;

typedef struct bf_ctl_welcome { /* 28 bytes */
  uint16_t proto_version;       /* chosen, >= 1 */
  uint16_t width, height, fps;  /* the mode, >= 1 each */
  uint8_t codec;                /* BF_CTL_CODEC_*, 1..32 */
  uint8_t fec_percent;          /* 0..90 */
  uint16_t shard_bytes;         /* S: even, 512..9152 */
  uint16_t max_k;               /* K: 1..253 */
  uint16_t data_port;           /* the sender's UDP data port, != 0 */
  uint32_t max_frame_bytes;     /* 1..BF_CTL_MAX_FRAME_BYTES */
  uint32_t bitrate_kbps;        /* target bitrate, informative */
  uint32_t flags;               /* BF_CTL_WELCOME_* */
} bf_ctl_welcome;

typedef struct bf_ctl_msg {
  bf_ctl_type type;
  union {
    bf_ctl_hello hello;
    bf_ctl_welcome welcome;
    struct { /* 12 bytes; as feedback.h's ping */
      uint32_t id;
      uint64_t t1_ns; /* client clock when sent */
    } ping;
    struct {          /* 28 bytes; as feedback.h's pong */
      uint32_t id;    /* echoed */
      uint64_t t1_ns; /* echoed */
      uint64_t t2_ns; /* sender clock when the ping arrived */
      uint64_t t3_ns; /* sender clock when the pong left */
    } pong;
    struct { /* 12 bytes; as feedback.h */
      uint32_t request_id, first_lost, last_lost;
    } keyframe;
    struct { /* 32 bytes; as feedback.h */
      uint32_t window_ms, packets_received, shards_missing, loss_ppm;
      uint32_t frames_completed, frames_lost, shards_recovered, late_shards;
    } loss;
    struct { /* u16 length + code */
      /* The code the user typed at the client, "" when the flow has none.
       * Not proof of anything to the sender: whoever terminates the TLS
       * session can derive that session's code (see docs/security.md). */
      char code[BF_CTL_MAX_CODE + 1];
    } pair_request;
    struct {                   /* 8 bytes */
      uint32_t status;         /* bf_ctl_pair_status */
      uint32_t retry_after_ms; /* with RATE_LIMITED */
    } pair_result;
    struct { /* 32 bytes: SHA-256 of the client's nonce n_c */
      uint8_t hash[BF_CTL_PAIR_COMMIT_BYTES];
    } pair_commit;
    struct { /* 32 bytes: n_s (PairNonce) or n_c (PairReveal), random */
      uint8_t nonce[BF_CTL_PAIR_NONCE_BYTES];
    } pair_nonce;      /* PairNonce and PairReveal */
    struct {           /* u8 count (0..8) + count x 6 bytes */
      uint8_t count;
      uint8_t mac[BF_CTL_MAX_MACS][BF_CTL_MAC_BYTES];
    } wake_info;
    struct {           /* 4 bytes + u16 length + text */
      uint32_t reason; /* bf_ctl_bye_reason */
      char text[BF_CTL_MAX_TEXT + 1];
    } bye;
    struct {               /* 38 bytes + u16 length + server */
      bf_ctl_addr relayed; /* where to send (family != 0) */
      bf_ctl_addr mapped;  /* the offerer's data socket as its TURN server sees it, or none */
      char server[BF_CTL_MAX_SERVER + 1]; /* "HOST:PORT", for the log and the overlay */
    } relay_offer;
    struct {              /* 19 bytes */
      bf_ctl_addr mapped; /* the sender's data socket as a TURN server sees it, or none */
    } relay_ready;
    struct { /* u16 length + text */
      char text[BF_CTL_MAX_TEXT + 1];
    } relay_failed;
    struct {            /* 19 bytes (docs/protocol.md 7.1) */
      bf_ctl_addr addr; /* the client's data socket: its own idea of its IP
                           (the control connection's local address) and the
                           socket's port (family != 0) */
    } data_addr;
  } u;
} bf_ctl_msg;

/* Stable name of a type ("hello", "loss_report", ...); "unknown" otherwise. */
const char *bf_ctl_type_name(unsigned type);

/* Checks |m|'s fields against the rules above. Returns 0, or -EINVAL with
 * |*why| (may be NULL) set to a static text such as "welcome: fec_percent
 * > 90". */
int bf_ctl_validate(const bf_ctl_msg *m, const char **why);

/* Encodes |m| as one frame (header + body) into |out|. Returns the frame
 * length, -EINVAL (unknown type or invalid fields; see bf_ctl_validate) or
 * -ENOSPC (|cap| too small). No frame of a known type is longer than
 * BF_CTL_MAX_ENCODED. */
int bf_ctl_encode(const bf_ctl_msg *m, uint8_t *out, size_t cap);

/* Decodes the body of a message of known |type| (|len| bytes, trailing bytes
 * ignored) into |m|. Returns 0; -ENOENT for an unknown type (skip it);
 * -EBADMSG when malformed, with |*why| (may be NULL) naming the problem. */
int bf_ctl_decode(unsigned type, const uint8_t *body, size_t len, bf_ctl_msg *m, const char **why);

/* ---- framer -------------------------------------------------------------- */

typedef struct bf_ctl_framer {
  uint8_t hdr[BF_CTL_HEADER_BYTES];
  uint32_t hdr_have;
  uint32_t body_len, body_have;
  uint8_t type;
  uint8_t skipping;  /* discarding the body of an unknown type */
  int err;           /* sticky: 0 or the error returned */
  const char *why;   /* static text for err */
  uint64_t messages; /* known messages delivered */
  uint64_t skipped;  /* unknown-type messages skipped */
  uint8_t body[BF_CTL_MAX_BODY];
} bf_ctl_framer;

/* Empties |f| (also after an error). */
void bf_ctl_framer_init(bf_ctl_framer *f);

/* Consumes bytes from |data| (|len|, any chunking) up to the end of the
 * next complete message of a known type and stores the count in |*used|.
 * Returns 1 when |m| holds that message (call again with the rest of the
 * chunk), 0 when all |len| bytes were consumed and no message is complete
 * yet, or a negative error that ends the stream (returned again by every
 * later call; bf_ctl_framer_why names it):
 *   -EMSGSIZE         body_len > BF_CTL_MAX_BODY (nothing is buffered)
 *   -EPROTONOSUPPORT  frame version != 1
 *   -EBADMSG          type 0, or a known message that is malformed
 * At most one message is buffered: memory is bounded by the struct. */
int bf_ctl_framer_feed(bf_ctl_framer *f, const uint8_t *data, size_t len, size_t *used,
                       bf_ctl_msg *m);

/* 1 when the framer is between messages (a stream may end cleanly here). */
int bf_ctl_framer_idle(const bf_ctl_framer *f);

/* Static text naming the framer's error, e.g. "frame: body_len > 65530" or
 * "welcome: fec_percent > 90"; "" when there is none. */
const char *bf_ctl_framer_why(const bf_ctl_framer *f);

#ifdef __cplusplus
}
#endif

#endif /* BILDFUNK_CTL_CODEC_H */
