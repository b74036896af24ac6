/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The sender's input stage: see send_input.h.
 */
#include "send_input.h"

#include "input_backend.h"
#include "input_echo.h"

#include <bildfunk/clock.h>
#include <bildfunk/inputlink.h>

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

typedef struct bf_send_input {
  bf_send_state *s;
  bf_inject kbm;  /* keyboard and mouse (xtest or uinput); ctx NULL = none */
  bf_inject pads; /* game pads (uinput); ctx NULL = none */
  bf_inject echo_be;
  bf_echo echo;   /* testsrc only (echo_be.ctx set) */
  unsigned serve; /* classes applied: --input & what a backend serves */
  bf_inlink_rx rx;
  bf_inlink_sink sink;
  int granted;   /* the streaming session's input is applied */
  int state_due; /* a STATE goes back after this batch */
  int flush_due;
  uint64_t datagrams, direct_dropped, unauthorized, states_sent, rumble_changes;
  /* what came in (the statistics): applied per class */
  uint64_t keys, buttons, pad_connects, pad_buttons;
  uint32_t pad_buttons_seen;        /* bit per pad button ever pressed */
  int16_t axes_peak[BF_INMSG_AXES]; /* the largest magnitude per axis */
} bf_send_input;

/* --- the sink: the link's output to every backend of its class ------------- */

#define EACH(in, cls, call)                                                                        \
  do {                                                                                             \
    bf_inject *b_[3] = {&(in)->kbm, &(in)->pads, &(in)->echo_be};                                  \
    for (int i_ = 0; i_ < 3; i_++) {                                                               \
      bf_inject *b = b_[i_];                                                                       \
      if (b->ctx && (b->classes & (cls))) call;                                                    \
    }                                                                                              \
  } while (0)

static void k_key(void *u, uint16_t usage, int down) {
  bf_send_input *in = u;
  in->flush_due = 1;
  in->keys += down != 0;
  EACH(in, BF_INCLASS_KEYBOARD, if (b->key) b->key(b->ctx, usage, down));
}
static void k_button(void *u, uint8_t bt, int down) {
  bf_send_input *in = u;
  in->flush_due = 1;
  in->buttons += down != 0;
  EACH(in, BF_INCLASS_MOUSE, if (b->button) b->button(b->ctx, bt, down));
}
static void k_motion(void *u, int32_t dx, int32_t dy) {
  bf_send_input *in = u;
  in->flush_due = 1;
  EACH(in, BF_INCLASS_MOUSE, if (b->motion) b->motion(b->ctx, dx, dy));
}
static void k_abs(void *u, uint16_t x, uint16_t y, uint16_t w, uint16_t h) {
  bf_send_input *in = u;
  in->flush_due = 1;
  EACH(in, BF_INCLASS_MOUSE, if (b->abs) b->abs(b->ctx, x, y, w, h));
}
static void k_wheel(void *u, int32_t v, int32_t h) {
  bf_send_input *in = u;
  in->flush_due = 1;
  EACH(in, BF_INCLASS_MOUSE, if (b->wheel) b->wheel(b->ctx, v, h));
}
static void k_pad(void *u, unsigned slot, int on) {
  bf_send_input *in = u;
  in->flush_due = 1;
  in->pad_connects += on != 0;
  EACH(in, BF_INCLASS_GAMEPAD, if (b->pad) b->pad(b->ctx, slot, on));
}
static void k_pad_button(void *u, unsigned slot, uint8_t bt, int down) {
  bf_send_input *in = u;
  in->flush_due = 1;
  if (down) {
    in->pad_buttons++;
    in->pad_buttons_seen |= 1u << (bt & 31u);
  }
  EACH(in, BF_INCLASS_GAMEPAD, if (b->pad_button) b->pad_button(b->ctx, slot, bt, down));
}
static void k_pad_axes(void *u, unsigned slot, const int16_t *axis) {
  bf_send_input *in = u;
  in->flush_due = 1;
  for (unsigned a = 0; a < BF_INMSG_AXES; a++) {
    int16_t m = axis[a] < -32767 ? 32767 : (int16_t)(axis[a] < 0 ? -axis[a] : axis[a]);
    if (m > in->axes_peak[a]) in->axes_peak[a] = m;
  }
  EACH(in, BF_INCLASS_GAMEPAD, if (b->pad_axes) b->pad_axes(b->ctx, slot, axis));
}

static void flush(bf_send_input *in) {
  if (!in->flush_due) return;
  in->flush_due = 0;
  EACH(in, BF_INCLASS_ALL, if (b->flush) b->flush(b->ctx));
}

/* --- datagrams ---------------------------------------------------------------- */

static void on_input(void *user, const uint8_t *d, size_t len, const bf_addr *from, uint64_t now) {
  bf_send_state *s = user;
  bf_send_input *in = s->input;
  in->datagrams++;
  if (s->o.direct) { /* unauthenticated: never applied */
    in->direct_dropped++;
    return;
  }
  if (!in->granted || !s->ss.streaming || !from || !bf_addr_equal(from, &s->ss.peer) ||
      !bf_channel_sealed(s->ep.ch)) {
    in->unauthorized++;
    return;
  }
  if (bf_inmsg_type(d, len) != BF_INMSG_INPUT) { /* a STATE from the client, or junk */
    in->rx.st.malformed++;
    return;
  }
  (void)bf_inlink_rx_datagram(&in->rx, d, len, now, bf_clock_realtime_ns(), &in->sink);
  in->state_due = 1;
}

static uint16_t state_flags(const bf_send_input *in) {
  uint16_t f = in->granted ? BF_INSTATE_APPLYING : 0;
  if (in->serve & BF_INCLASS_KEYBOARD) f |= BF_INSTATE_KEYBOARD;
  if (in->serve & BF_INCLASS_MOUSE) f |= BF_INSTATE_MOUSE;
  if (in->serve & BF_INCLASS_GAMEPAD) f |= BF_INSTATE_GAMEPAD;
  return f;
}

static void send_state(bf_send_state *s) {
  bf_send_input *in = s->input;
  in->state_due = 0;
  if (!in->granted || !s->ss.streaming) return;
  uint8_t b[BF_INMSG_MAX_BYTES];
  int n = bf_inlink_rx_state(&in->rx, state_flags(in), b, sizeof b);
  if (n > 0 && bf_send_endpoint_send(&s->ep, b, (size_t)n) == 1) in->states_sent++;
}

void bf_send_input_after_batch(bf_send_state *s) {
  bf_send_input *in = s->input;
  if (!in) return;
  flush(in);
  if (in->state_due) send_state(s);
}

void bf_send_input_captured(bf_send_state *s, uint64_t pts_ns) {
  bf_send_input *in = s->input;
  if (!in || !in->granted) return;
  bf_inlink_rx_stamp(&in->rx, pts_ns);
  send_state(s);
}

/* The testsrc source's drawer: the band says what was applied when it drew. */
static void draw_echo(void *user, AVFrame *f) {
  bf_send_input *in = user;
  if (!in->granted) return; /* the plain pattern while nobody sends input */
  in->echo.band.ev_seq = in->rx.ev_next - 1;
  in->echo.band.snap_seq = in->rx.snap.snap_seq;
  bf_echo_draw(&in->echo, f);
}

/* --- sessions ------------------------------------------------------------------- */

void bf_send_input_stop(bf_send_state *s, uint64_t now) {
  bf_send_input *in = s->input;
  if (!in) return;
  bf_inlink_rx_end(&in->rx, &in->sink, now);
  flush(in);
  in->granted = 0;
}

void bf_send_input_session(bf_send_state *s, int granted, uint64_t now) {
  bf_send_input *in = s->input;
  if (!in) return;
  bf_send_input_stop(s, now);
  in->granted = granted && in->serve;
}

uint64_t bf_send_input_tick(bf_send_state *s, uint64_t now) {
  bf_send_input *in = s->input;
  if (!in) return UINT64_MAX;
  if (bf_inlink_rx_tick(&in->rx, now, &in->sink)) {
    fprintf(stderr, "bildfunk-send: input: the client was silent for 1 s: released what it held\n");
    flush(in);
  }
  uint16_t r[BF_INMSG_PADS][2];
  bf_inject *srcs[2] = {&in->pads, &in->echo_be};
  for (int i = 0; i < 2; i++) {
    if (!srcs[i]->ctx || !srcs[i]->rumble || !srcs[i]->rumble(srcs[i]->ctx, now, r)) continue;
    for (unsigned p = 0; p < BF_INMSG_PADS; p++)
      bf_inlink_rx_set_rumble(&in->rx, p, r[p][0], r[p][1]);
    in->rumble_changes++;
    in->state_due = 1;
  }
  if (in->state_due) send_state(s);
  uint64_t d = bf_inlink_rx_deadline(&in->rx);
  /* a pad backend may start a rumble any moment: look again soon */
  if (in->pads.ctx && now + 20 * BF_MS_NS < d) d = now + 20 * BF_MS_NS;
  return d;
}

unsigned bf_send_input_classes(const bf_send_state *s) {
  return s->input ? s->input->serve : 0;
}

/* --- open, close ----------------------------------------------------------------- */

static const char *class_names(unsigned c, char *buf, size_t cap) {
  snprintf(buf, cap, "%s%s%s%s%s", c & BF_INCLASS_KEYBOARD ? "keyboard" : "",
           (c & BF_INCLASS_KEYBOARD) && (c & ~BF_INCLASS_KEYBOARD) ? ", " : "",
           c & BF_INCLASS_MOUSE ? "mouse" : "",
           (c & BF_INCLASS_MOUSE) && (c & BF_INCLASS_GAMEPAD) ? ", " : "",
           c & BF_INCLASS_GAMEPAD ? "gamepads" : "");
  return buf;
}

/* The keyboard and mouse backend per --input-backend and the source. */
static int open_kbm(bf_send_input *in, unsigned want, char *why, size_t cap) {
  const bf_send_options *o = &in->s->o;
  int x11 = o->source == BF_SOURCE_X11;
  if (o->input_backend == BF_INBACKEND_XTEST || (o->input_backend == BF_INBACKEND_AUTO && x11))
    return bf_inject_xtest_open(x11 ? o->source_arg : NULL, &in->kbm, why, cap);
  if (o->input_backend == BF_INBACKEND_UINPUT || o->source == BF_SOURCE_FILE)
    return bf_inject_uinput_open(want & (BF_INCLASS_KEYBOARD | BF_INCLASS_MOUSE), &in->kbm, why,
                                 cap);
  snprintf(why, cap, "the test pattern draws it instead");
  return -ENOENT;
}

static void open_backends(bf_send_input *in) {
  const bf_send_options *o = &in->s->o;
  unsigned want = o->input_classes;
  char why[300] = "", names[64];
  if (o->source == BF_SOURCE_TESTSRC) {
    bf_echo_init(&in->echo, in->s->sinfo.width, in->s->sinfo.height);
    bf_echo_inject(&in->echo, &in->echo_be);
    in->echo_be.classes &= want;
    bf_source_set_overlay(in->s->src, draw_echo, in);
  }
  if ((want & (BF_INCLASS_KEYBOARD | BF_INCLASS_MOUSE)) &&
      open_kbm(in, want, why, sizeof why) < 0) {
    if (o->source != BF_SOURCE_TESTSRC || o->input_backend != BF_INBACKEND_AUTO)
      fprintf(stderr, "bildfunk-send: input: %s off: %s\n",
              class_names(want & (BF_INCLASS_KEYBOARD | BF_INCLASS_MOUSE), names, sizeof names),
              why);
  }
  in->kbm.classes &= want;
  if ((want & BF_INCLASS_GAMEPAD) &&
      bf_inject_uinput_open(BF_INCLASS_GAMEPAD, &in->pads, why, sizeof why) < 0) {
    fprintf(stderr, "bildfunk-send: input: gamepads off%s: %s\n",
            o->source == BF_SOURCE_TESTSRC ? " (the test pattern still shows them)" : "", why);
  }
  in->pads.classes &= BF_INCLASS_GAMEPAD & want;
  in->serve = (in->kbm.ctx ? in->kbm.classes : 0) | (in->pads.ctx ? in->pads.classes : 0) |
              (in->echo_be.ctx ? in->echo_be.classes : 0);
}

int bf_send_input_open(bf_send_state *s, char *err, size_t cap) {
  bf_send_input *in = calloc(1, sizeof *in);
  if (!in) {
    snprintf(err, cap, "out of memory");
    return -ENOMEM;
  }
  s->input = in;
  in->s = s;
  in->sink = (bf_inlink_sink){in,      k_key, k_button,     k_motion,  k_abs,
                              k_wheel, k_pad, k_pad_button, k_pad_axes};
  if (!s->o.direct && s->o.input_classes) open_backends(in);
  bf_inlink_rx_init(&in->rx, in->serve, bf_clock_mono_ns());
  bf_send_endpoint_on_input(&s->ep, on_input, s);
  char names[64];
  if (s->o.direct)
    fprintf(stderr, "bildfunk-send: input: off in direct mode (its datagrams are not "
                    "authenticated): dropped and counted\n");
  else if (in->serve)
    fprintf(stderr, "bildfunk-send: input: %s from the paired client (%s%s%s%s%s)\n",
            class_names(in->serve, names, sizeof names), in->kbm.ctx ? in->kbm.name : "",
            in->kbm.ctx && (in->pads.ctx || in->echo_be.ctx) ? ", " : "",
            in->pads.ctx ? in->pads.name : "", in->pads.ctx && in->echo_be.ctx ? ", " : "",
            in->echo_be.ctx ? in->echo_be.name : "");
  else if (s->o.input_classes && s->o.input_backend != BF_INBACKEND_AUTO) {
    snprintf(err, cap, "--input-backend %s: no input can be applied",
             s->o.input_backend == BF_INBACKEND_XTEST ? "xtest" : "uinput");
    return -ENODEV;
  }
  return 0;
}

void bf_send_input_close(bf_send_state *s) {
  bf_send_input *in = s->input;
  if (!in) return;
  bf_send_input_stop(s, bf_clock_mono_ns());
  if (s->src) bf_source_set_overlay(s->src, NULL, NULL);
  if (in->kbm.ctx && in->kbm.close) in->kbm.close(in->kbm.ctx);
  if (in->pads.ctx && in->pads.close) in->pads.close(in->pads.ctx);
  free(in);
  s->input = NULL;
}

void bf_send_input_stats_json(const bf_send_state *s, FILE *f) {
  const bf_send_input *in = s->input;
  if (!in) return;
  const bf_inlink_rx_stats *r = &in->rx.st;
  char names[64];
  fprintf(f,
          ",  \"input\": {\"classes\": \"%s\", \"keyboard_mouse\": \"%s\", \"gamepads\": \"%s\", "
          "\"echo\": %d, \"datagrams\": %" PRIu64 ", \"direct_dropped\": %" PRIu64
          ", \"unauthorized\": %" PRIu64 ", \"taken\": %" PRIu64 ", \"malformed\": %" PRIu64
          ", \"events\": %" PRIu64 ", \"applied\": %" PRIu64 ", \"repeats\": %" PRIu64
          ", \"gaps\": %" PRIu64 ", \"filtered\": %" PRIu64 ", \"rate_dropped\": %" PRIu64
          ", \"snapshots\": %" PRIu64 ", \"stale_snapshots\": %" PRIu64
          ", \"motion_resync\": %" PRIu64 ", \"releases\": %" PRIu64
          ", \"silence_releases\": %" PRIu64 ", \"states_sent\": %" PRIu64
          ", \"rumble_changes\": %" PRIu64 ",\n",
          class_names(in->serve, names, sizeof names), in->kbm.ctx ? in->kbm.name : "",
          in->pads.ctx ? in->pads.name : "", in->echo_be.ctx != NULL, in->datagrams,
          in->direct_dropped, in->unauthorized, r->datagrams, r->malformed, r->events, r->applied,
          r->repeats, r->gaps, r->filtered, r->rate_dropped, r->snapshots, r->stale_snapshots,
          r->motion_resync, r->releases, r->silence_releases, in->states_sent, in->rumble_changes);
  const int16_t *p = in->axes_peak;
  fprintf(f,
          "             \"keys\": %" PRIu64 ", \"buttons\": %" PRIu64 ", \"pad_connects\": %" PRIu64
          ", \"pad_buttons\": %" PRIu64 ", \"pad_buttons_seen\": %" PRIu32
          ", \"pad_axes_peak\": [%d, %d, %d, %d, %d, %d]}\n",
          in->keys, in->buttons, in->pad_connects, in->pad_buttons, in->pad_buttons_seen, p[0],
          p[1], p[2], p[3], p[4], p[5]);
}
