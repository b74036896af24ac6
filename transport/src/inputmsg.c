/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Input datagrams: see inputmsg.h. Field by field, little-endian.
 */
#include <bildfunk/inputmsg.h>

#include "endian.h"

#include <errno.h>
#include <string.h>

_Static_assert(BF_INMSG_MAX_BYTES < 552, "input datagrams stay below the video minimum");
_Static_assert(BF_INMSG_STATE_HEAD + BF_INMSG_PADS * BF_INMSG_RUMBLE_BYTES +
                       BF_INMSG_MAX_STAMPS * BF_INMSG_STAMP_BYTES <
                   552,
               "state datagrams stay below the video minimum");

/* A datagram's length: its head and two arrays of records. */
static size_t body_len(size_t head, unsigned n1, size_t size1, unsigned n2, size_t size2) {
  return head + (size_t)n1 * size1 + (size_t)n2 * size2;
}

unsigned bf_inmsg_type(const uint8_t *d, size_t len) {
  if (!d || len < 2 || d[0] != BF_INMSG_MAGIC) return 0;
  return d[1] == BF_INMSG_INPUT || d[1] == BF_INMSG_STATE ? d[1] : 0;
}

int bf_inev_valid(const bf_inev *e) {
  switch (e->kind) {
  case BF_INEV_KEY_DOWN:
  case BF_INEV_KEY_UP:
    return e->code <= 0xFFu;
  case BF_INEV_BUTTON_DOWN:
  case BF_INEV_BUTTON_UP:
    return e->code >= 1 && e->code <= 5;
  case BF_INEV_PAD_DOWN:
  case BF_INEV_PAD_UP:
    return e->code < 32 && e->arg < BF_INMSG_PADS;
  case BF_INEV_RELEASE_ALL:
    return 1;
  default:
    return 0;
  }
}

/* 1 when event |e| of |m| is well-formed on the wire: its kind and code,
 * a position only on a mouse button (within |m|'s picture when absolute),
 * nothing else in the fields an event of its kind does not use. */
static int event_ok(const bf_inmsg_input *m, const bf_inev *e) {
  if (!bf_inev_valid(e)) return 0;
  int button = e->kind == BF_INEV_BUTTON_DOWN || e->kind == BF_INEV_BUTTON_UP;
  if (!button) return !e->x && !e->y && (e->kind != BF_INEV_RELEASE_ALL || (!e->code && !e->arg));
  if (e->arg == BF_INEV_AT_ABS) return m->abs_w && e->x < m->abs_w && e->y < m->abs_h;
  return e->arg == BF_INEV_AT_REL || (e->arg == 0 && !e->x && !e->y);
}

/* 1 when the snapshot and the counts of |m| are well-formed. */
static int input_ok(const bf_inmsg_input *m) {
  if (m->n_pads > BF_INMSG_PADS || m->n_events > BF_INMSG_MAX_EVENTS) return 0;
  if (m->pads_present >> BF_INMSG_PADS) return 0;
  if (m->abs_w == 0 ? (m->abs_h || m->abs_x || m->abs_y)
                    : (m->abs_h == 0 || m->abs_x >= m->abs_w || m->abs_y >= m->abs_h))
    return 0;
  unsigned seen = 0;
  for (unsigned i = 0; i < m->n_pads; i++) {
    unsigned s = m->pads[i].slot;
    if (s >= BF_INMSG_PADS || (seen >> s & 1u) || !(m->pads_present >> s & 1u)) return 0;
    seen |= 1u << s;
  }
  for (unsigned i = 0; i < m->n_events; i++)
    if (!event_ok(m, &m->ev[i])) return 0;
  return 1;
}

int bf_inmsg_input_encode(const bf_inmsg_input *m, uint8_t *out, size_t cap) {
  if (!m || !out || !input_ok(m)) return -EINVAL;
  size_t len = body_len(BF_INMSG_INPUT_HEAD, m->n_pads, BF_INMSG_PAD_BYTES, m->n_events,
                        BF_INMSG_EVENT_BYTES);
  if (len > cap) return -ENOSPC;
  /* bytes 4..27: six u32, 28..35: four u16 */
  const uint32_t w32[6] = {m->snap_seq,        m->rumble_ack,        (uint32_t)m->rel_x,
                           (uint32_t)m->rel_y, (uint32_t)m->wheel_v, (uint32_t)m->wheel_h};
  const uint16_t w16[4] = {m->abs_x, m->abs_y, m->abs_w, m->abs_h};
  out[0] = BF_INMSG_MAGIC;
  out[1] = BF_INMSG_INPUT;
  out[2] = m->flags;
  out[3] = m->pads_present;
  for (unsigned i = 0; i < 6; i++)
    bf__put_le32(out + 4 + 4 * i, w32[i]);
  for (unsigned i = 0; i < 4; i++)
    bf__put_le16(out + 28 + 2 * i, w16[i]);
  bf__put_le32(out + 36, m->first_seq);
  out[40] = m->n_pads;
  out[41] = m->n_events;
  uint8_t *p = out + BF_INMSG_INPUT_HEAD;
  for (unsigned i = 0; i < m->n_pads; i++, p += BF_INMSG_PAD_BYTES) {
    p[0] = m->pads[i].slot;
    for (unsigned a = 0; a < BF_INMSG_AXES; a++)
      bf__put_le16(p + 1 + 2 * a, (uint16_t)m->pads[i].axis[a]);
  }
  for (unsigned i = 0; i < m->n_events; i++, p += BF_INMSG_EVENT_BYTES) {
    p[0] = m->ev[i].kind;
    p[1] = m->ev[i].arg;
    bf__put_le16(p + 2, m->ev[i].code);
    bf__put_le16(p + 4, m->ev[i].x);
    bf__put_le16(p + 6, m->ev[i].y);
  }
  return (int)len;
}

int bf_inmsg_input_decode(const uint8_t *d, size_t len, bf_inmsg_input *m) {
  if (!m || bf_inmsg_type(d, len) != BF_INMSG_INPUT || len < BF_INMSG_INPUT_HEAD) return -EBADMSG;
  uint32_t w32[6];
  uint16_t w16[4];
  for (unsigned i = 0; i < 6; i++)
    w32[i] = bf__get_le32(d + 4 + 4 * i);
  for (unsigned i = 0; i < 4; i++)
    w16[i] = bf__get_le16(d + 28 + 2 * i);
  m->flags = d[2];
  m->pads_present = d[3];
  m->snap_seq = w32[0];
  m->rumble_ack = w32[1];
  m->rel_x = (int32_t)w32[2];
  m->rel_y = (int32_t)w32[3];
  m->wheel_v = (int32_t)w32[4];
  m->wheel_h = (int32_t)w32[5];
  m->abs_x = w16[0];
  m->abs_y = w16[1];
  m->abs_w = w16[2];
  m->abs_h = w16[3];
  m->first_seq = bf__get_le32(d + 36);
  m->n_pads = d[40];
  m->n_events = d[41];
  if (m->n_pads > BF_INMSG_PADS || m->n_events > BF_INMSG_MAX_EVENTS ||
      len < body_len(BF_INMSG_INPUT_HEAD, m->n_pads, BF_INMSG_PAD_BYTES, m->n_events,
                     BF_INMSG_EVENT_BYTES))
    return -EBADMSG;
  const uint8_t *p = d + BF_INMSG_INPUT_HEAD;
  for (unsigned i = 0; i < m->n_pads; i++, p += BF_INMSG_PAD_BYTES) {
    m->pads[i].slot = p[0];
    for (unsigned a = 0; a < BF_INMSG_AXES; a++)
      m->pads[i].axis[a] = (int16_t)bf__get_le16(p + 1 + 2 * a);
  }
  for (unsigned i = 0; i < m->n_events; i++, p += BF_INMSG_EVENT_BYTES) {
    m->ev[i].kind = p[0];
    m->ev[i].arg = p[1];
    m->ev[i].code = bf__get_le16(p + 2);
    m->ev[i].x = bf__get_le16(p + 4);
    m->ev[i].y = bf__get_le16(p + 6);
  }
  return input_ok(m) ? 0 : -EBADMSG;
}

static int state_ok(const bf_inmsg_state *m) {
  if (m->n_rumble > BF_INMSG_PADS || m->n_stamps > BF_INMSG_MAX_STAMPS) return 0;
  unsigned seen = 0;
  for (unsigned i = 0; i < m->n_rumble; i++) {
    unsigned s = m->rumble[i].slot;
    if (s >= BF_INMSG_PADS || (seen >> s & 1u)) return 0;
    seen |= 1u << s;
  }
  return 1;
}

int bf_inmsg_state_encode(const bf_inmsg_state *m, uint8_t *out, size_t cap) {
  if (!m || !out || !state_ok(m)) return -EINVAL;
  size_t len = body_len(BF_INMSG_STATE_HEAD, m->n_rumble, BF_INMSG_RUMBLE_BYTES, m->n_stamps,
                        BF_INMSG_STAMP_BYTES);
  if (len > cap) return -ENOSPC;
  out[0] = BF_INMSG_MAGIC;
  out[1] = BF_INMSG_STATE;
  bf__put_le16(out + 2, m->flags);
  const uint32_t acks[2] = {m->ev_ack, m->snap_ack}; /* bytes 4..11 */
  for (unsigned i = 0; i < 2; i++)
    bf__put_le32(out + 4 + 4 * i, acks[i]);
  bf__put_le64(out + 12, m->apply_ns);
  bf__put_le32(out + 20, m->rumble_seq);
  out[24] = m->n_rumble;
  out[25] = m->n_stamps;
  out[26] = out[27] = 0;
  uint8_t *p = out + BF_INMSG_STATE_HEAD;
  for (unsigned i = 0; i < m->n_rumble; i++, p += BF_INMSG_RUMBLE_BYTES) {
    p[0] = m->rumble[i].slot;
    bf__put_le16(p + 1, m->rumble[i].low);
    bf__put_le16(p + 3, m->rumble[i].high);
  }
  for (unsigned i = 0; i < m->n_stamps; i++, p += BF_INMSG_STAMP_BYTES) {
    bf__put_le64(p, m->stamps[i].pts_ns);
    bf__put_le32(p + 8, m->stamps[i].ev_seq);
    bf__put_le32(p + 12, m->stamps[i].snap_seq);
  }
  return (int)len;
}

int bf_inmsg_state_decode(const uint8_t *d, size_t len, bf_inmsg_state *m) {
  if (!m || bf_inmsg_type(d, len) != BF_INMSG_STATE || len < BF_INMSG_STATE_HEAD) return -EBADMSG;
  m->flags = bf__get_le16(d + 2);
  uint32_t acks[2];
  for (unsigned i = 0; i < 2; i++)
    acks[i] = bf__get_le32(d + 4 + 4 * i);
  m->ev_ack = acks[0];
  m->snap_ack = acks[1];
  m->apply_ns = bf__get_le64(d + 12);
  m->rumble_seq = bf__get_le32(d + 20);
  m->n_rumble = d[24];
  m->n_stamps = d[25];
  if (m->n_rumble > BF_INMSG_PADS || m->n_stamps > BF_INMSG_MAX_STAMPS ||
      len < body_len(BF_INMSG_STATE_HEAD, m->n_rumble, BF_INMSG_RUMBLE_BYTES, m->n_stamps,
                     BF_INMSG_STAMP_BYTES))
    return -EBADMSG;
  const uint8_t *p = d + BF_INMSG_STATE_HEAD;
  for (unsigned i = 0; i < m->n_rumble; i++, p += BF_INMSG_RUMBLE_BYTES) {
    m->rumble[i].slot = p[0];
    m->rumble[i].low = bf__get_le16(p + 1);
    m->rumble[i].high = bf__get_le16(p + 3);
  }
  for (unsigned i = 0; i < m->n_stamps; i++, p += BF_INMSG_STAMP_BYTES) {
    m->stamps[i].pts_ns = bf__get_le64(p);
    m->stamps[i].ev_seq = bf__get_le32(p + 8);
    m->stamps[i].snap_seq = bf__get_le32(p + 12);
  }
  return state_ok(m) ? 0 : -EBADMSG;
}
