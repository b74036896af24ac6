/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Input datagrams (docs/protocol.md, "Input"): the codec of the data channel's
 * input kind, first byte 0xB0 (BF_MAGIC_INPUT, channel.h), both ways.
 *
 *   INPUT (type 1, client -> sender): the client's input as of one moment.
 *     - discrete events (key, mouse button and pad button down/up, "release
 *       everything") numbered by a per-session event sequence: each
 *       datagram carries the events the sender has not acknowledged yet,
 *       oldest first (first_seq, then one after another);
 *     - a snapshot, latest wins, numbered by the datagram's own snap_seq:
 *       relative motion and wheel as running totals since the session began
 *       (a lost datagram delays them, never loses them), the absolute
 *       pointer in stream pixels with the size it refers to, which pads are
 *       connected and the axes of those that are.
 *   STATE (type 2, sender -> client): what the sender applied (the highest
 *     contiguous event sequence, the newest snapshot and when), rumble per
 *     pad (latest wins, numbered by rumble_seq), and the recent pictures'
 *     stamps: for a capture time (the AU's pts), the input applied before it
 *     was captured.
 *
 * Fields little-endian, decoded field by field; every datagram is shorter
 * than BF_CHANNEL_VIDEO_MIN (552) bytes. A decoder accepts trailing bytes
 * (room for extension) and rejects anything malformed as a whole (counted
 * by the caller): a wrong magic or type, counts above their bounds, a
 * length short of what the counts say, an unknown event kind, a key usage
 * above 0xFF, a mouse button outside 1..5, a pad slot above 3 or listed
 * twice, axes of a pad the mask says is absent, an absolute position
 * outside the size it names (also a button's), a position on any event
 * but a mouse button's.
 *
 * Pure: no I/O, no clocks, no allocation; caller-owned storage.
 */
#ifndef BILDFUNK_INPUTMSG_H
#define BILDFUNK_INPUTMSG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BF_INMSG_MAGIC 0xB0u /* = BF_MAGIC_INPUT (channel.h) */
#define BF_INMSG_INPUT 1u    /* client -> sender */
#define BF_INMSG_STATE 2u    /* sender -> client */

#define BF_INMSG_PADS 4u         /* pad slots 0..3 */
#define BF_INMSG_AXES 6u         /* left x, left y, right x, right y, left trigger, right trigger */
#define BF_INMSG_MAX_EVENTS 56u  /* events one INPUT datagram carries */
#define BF_INMSG_MAX_STAMPS 8u   /* picture stamps one STATE datagram carries */
#define BF_INMSG_INPUT_HEAD 42u  /* INPUT bytes before the pad records */
#define BF_INMSG_PAD_BYTES 13u   /* slot u8 + 6 x i16 */
#define BF_INMSG_EVENT_BYTES 8u  /* kind u8, arg u8, code u16, x u16, y u16 */
#define BF_INMSG_STATE_HEAD 28u  /* STATE bytes before the rumble records */
#define BF_INMSG_RUMBLE_BYTES 5u /* slot u8, low u16, high u16 */
#define BF_INMSG_STAMP_BYTES 16u /* pts u64, event seq u32, snapshot seq u32 */
/* the largest datagram of either type */
#define BF_INMSG_MAX_BYTES                                                                         \
  (BF_INMSG_INPUT_HEAD + BF_INMSG_PADS * BF_INMSG_PAD_BYTES +                                      \
   BF_INMSG_MAX_EVENTS * BF_INMSG_EVENT_BYTES)

/* Pad axes, SDL's game controller order and ranges: sticks -32768..32767
 * (y positive down), triggers 0..32767. */
enum { BF_AXIS_LX = 0, BF_AXIS_LY, BF_AXIS_RX, BF_AXIS_RY, BF_AXIS_LT, BF_AXIS_RT };

/* Pad buttons, SDL's game controller numbering (SDL_GameControllerButton). */
enum {
  BF_PAD_A = 0,
  BF_PAD_B,
  BF_PAD_X,
  BF_PAD_Y,
  BF_PAD_BACK,
  BF_PAD_GUIDE,
  BF_PAD_START,
  BF_PAD_LSTICK,
  BF_PAD_RSTICK,
  BF_PAD_LSHOULDER,
  BF_PAD_RSHOULDER,
  BF_PAD_DPAD_UP,
  BF_PAD_DPAD_DOWN,
  BF_PAD_DPAD_LEFT,
  BF_PAD_DPAD_RIGHT,
  BF_PAD_MISC1,
  BF_PAD_PADDLE1,
  BF_PAD_PADDLE2,
  BF_PAD_PADDLE3,
  BF_PAD_PADDLE4,
  BF_PAD_TOUCHPAD,
  BF_PAD_BUTTONS /* 21; codes 21..31 are accepted and passed on */
};

typedef enum bf_inev_kind {
  BF_INEV_KEY_DOWN = 1,    /* code: USB HID usage, keyboard page 7 (0..0xFF); arg: HID modifiers */
  BF_INEV_KEY_UP = 2,      /* (arg: the HID modifier byte when it happened; informative) */
  BF_INEV_BUTTON_DOWN = 3, /* code: 1 left, 2 middle, 3 right, 4 back (X1), 5 forward (X2);
                              arg: where the pointer was (BF_INEV_AT_*), in x, y */
  BF_INEV_BUTTON_UP = 4,
  BF_INEV_PAD_DOWN = 5, /* code: pad button (BF_PAD_*, < 32); arg: pad slot */
  BF_INEV_PAD_UP = 6,
  BF_INEV_RELEASE_ALL = 7, /* the client lost focus: everything held is released */
  BF_INEV_KIND_MAX_ = 7,
} bf_inev_kind;

/* Where the pointer was when a mouse button event happened (its arg): at
 * (x, y) in stream pixels of the snapshot's abs_w x abs_h, or at relative
 * motion totals whose low 16 bits are x, y. The sender puts the pointer
 * there first, so a click lands where it was made even when the datagram
 * that first carried it was lost and a later one carries motion made
 * after it. */
#define BF_INEV_AT_ABS 0x1u
#define BF_INEV_AT_REL 0x2u

/* HID modifier byte bits (arg of key events). */
#define BF_HID_MOD_LCTRL 0x01u
#define BF_HID_MOD_LSHIFT 0x02u
#define BF_HID_MOD_LALT 0x04u
#define BF_HID_MOD_LGUI 0x08u
#define BF_HID_MOD_RCTRL 0x10u
#define BF_HID_MOD_RSHIFT 0x20u
#define BF_HID_MOD_RALT 0x40u
#define BF_HID_MOD_RGUI 0x80u

typedef struct bf_inev {
  uint8_t kind; /* bf_inev_kind */
  uint8_t arg;
  uint16_t code;
  uint16_t x, y; /* mouse buttons: where the pointer was (arg); else 0 */
} bf_inev;

typedef struct bf_inpad {
  uint8_t slot;
  int16_t axis[BF_INMSG_AXES];
} bf_inpad;

typedef struct bf_inmsg_input {
  uint8_t flags;        /* 0; unknown bits are ignored */
  uint8_t pads_present; /* bit i: pad slot i is connected */
  uint32_t snap_seq;    /* this datagram's number (1, 2, ...): the snapshot's age */
  uint32_t rumble_ack;  /* the highest rumble_seq the client has applied */
  int32_t rel_x, rel_y; /* relative motion since the session began (wraps) */
  int32_t wheel_v; /* vertical wheel since the session began, 1/120 notch, + = away from the user */
  int32_t wheel_h; /* horizontal, + = right */
  uint16_t abs_x, abs_y; /* absolute pointer in stream pixels ... */
  uint16_t abs_w, abs_h; /* ... of a picture this size; abs_w = 0: none */
  uint32_t first_seq;    /* sequence of ev[0] (the rest follow one by one) */
  uint8_t n_pads;        /* axis records (pads connected and known) */
  uint8_t n_events;
  bf_inpad pads[BF_INMSG_PADS];
  bf_inev ev[BF_INMSG_MAX_EVENTS];
} bf_inmsg_input;

typedef struct bf_inrumble {
  uint8_t slot;
  uint16_t low, high; /* motor strengths 0..65535 (low: the heavy motor) */
} bf_inrumble;

typedef struct bf_instamp {
  uint64_t pts_ns;   /* the picture's capture time (its AU's pts) */
  uint32_t ev_seq;   /* events applied before the capture: up to this sequence */
  uint32_t snap_seq; /* the newest snapshot applied before the capture */
} bf_instamp;

/* STATE flags: what the sender does with this client's input. */
#define BF_INSTATE_APPLYING 0x1u /* it applies it (a paired, sealed session that asked) */
#define BF_INSTATE_KEYBOARD 0x2u /* --input allows each class */
#define BF_INSTATE_MOUSE 0x4u
#define BF_INSTATE_GAMEPAD 0x8u

typedef struct bf_inmsg_state {
  uint16_t flags;      /* BF_INSTATE_* */
  uint32_t ev_ack;     /* every event up to this sequence was taken (applied or dropped) */
  uint32_t snap_ack;   /* the newest snapshot taken */
  uint64_t apply_ns;   /* the sender's CLOCK_REALTIME when it took snap_ack; 0: none */
  uint32_t rumble_seq; /* rises with every rumble change */
  uint8_t n_rumble;
  uint8_t n_stamps;
  bf_inrumble rumble[BF_INMSG_PADS];
  bf_instamp stamps[BF_INMSG_MAX_STAMPS];
} bf_inmsg_state;

/* 1 when |e|'s kind is known and its code (and pad slot) in range: the
 * rules both ends share (the decoder adds the position rules). */
int bf_inev_valid(const bf_inev *e);

/* The type of an input datagram (BF_INMSG_INPUT / _STATE), 0 when |d| is not one. */
unsigned bf_inmsg_type(const uint8_t *d, size_t len);

/* Encodes |m| into |out| (|cap| bytes). Returns the length, or -EINVAL
 * (counts or fields out of range) / -ENOSPC. */
int bf_inmsg_input_encode(const bf_inmsg_input *m, uint8_t *out, size_t cap);
int bf_inmsg_state_encode(const bf_inmsg_state *m, uint8_t *out, size_t cap);

/* Decodes |len| bytes at |d| into |m|: 0, or -EBADMSG (malformed, see
 * above; |m| is then unspecified). */
int bf_inmsg_input_decode(const uint8_t *d, size_t len, bf_inmsg_input *m);
int bf_inmsg_state_decode(const uint8_t *d, size_t len, bf_inmsg_state *m);

#ifdef __cplusplus
}
#endif

#endif /* BILDFUNK_INPUTMSG_H */
