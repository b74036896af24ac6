/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The testsrc source's input echo: see input_echo.h.
 */
#include "input_echo.h"

#include <bildfunk/inputlink.h>

#include <stdio.h>
#include <string.h>

void bf_echo_init(bf_echo *e, unsigned w, unsigned h) {
  memset(e, 0, sizeof *e);
  e->w = w;
  e->h = h;
  e->px = (int32_t)w / 2;
  e->py = (int32_t)h / 2;
}

static int32_t clamp(int32_t v, int32_t hi) {
  return v < 0 ? 0 : v > hi ? hi : v;
}

static void e_key(void *x, uint16_t usage, int down) {
  bf_echo *e = x;
  if (usage >= 256) return;
  uint8_t m = (uint8_t)(1u << (usage % 8));
  e->keys[usage / 8] = (uint8_t)(down ? e->keys[usage / 8] | m : e->keys[usage / 8] & ~m);
}

static void e_button(void *x, uint8_t b, int down) {
  bf_echo *e = x;
  uint8_t m = (uint8_t)(1u << (b & 7u));
  e->buttons = (uint8_t)(down ? e->buttons | m : e->buttons & ~m);
}

static void e_motion(void *x, int32_t dx, int32_t dy) {
  bf_echo *e = x;
  e->px = clamp(e->px + dx, (int32_t)e->w - 1);
  e->py = clamp(e->py + dy, (int32_t)e->h - 1);
}

static void e_abs(void *x, uint16_t px, uint16_t py, uint16_t w, uint16_t h) {
  bf_echo *e = x;
  if (!w || !h) return;
  e->px = (int32_t)((uint32_t)px * e->w / w);
  e->py = (int32_t)((uint32_t)py * e->h / h);
}

static void e_wheel(void *x, int32_t v, int32_t h) {
  bf_echo *e = x;
  e->wheel_v += v;
  e->wheel_h += h;
}

static void e_pad(void *x, unsigned slot, int on) {
  bf_echo *e = x;
  if (slot >= BF_INMSG_PADS) return;
  uint8_t m = (uint8_t)(1u << slot);
  e->pads = (uint8_t)(on ? e->pads | m : e->pads & ~m);
  e->pad_buttons[slot] = 0;
  memset(e->axes[slot], 0, sizeof e->axes[slot]);
}

static void e_pad_button(void *x, unsigned slot, uint8_t b, int down) {
  bf_echo *e = x;
  if (slot >= BF_INMSG_PADS || b >= 32) return;
  e->pad_buttons[slot] = down ? e->pad_buttons[slot] | 1u << b : e->pad_buttons[slot] & ~(1u << b);
}

static uint16_t motor(int16_t trigger) {
  return trigger <= 0 ? 0 : (uint16_t)(trigger * 2);
}

static void e_pad_axes(void *x, unsigned slot, const int16_t *axis) {
  bf_echo *e = x;
  if (slot >= BF_INMSG_PADS) return;
  memcpy(e->axes[slot], axis, sizeof e->axes[slot]);
  uint16_t lo = motor(axis[BF_AXIS_LT]), hi = motor(axis[BF_AXIS_RT]);
  if (lo != e->rumble[slot][0] || hi != e->rumble[slot][1]) e->rumble_changed = 1;
  e->rumble[slot][0] = lo;
  e->rumble[slot][1] = hi;
}

static int e_rumble(void *x, uint64_t now, uint16_t out[BF_INMSG_PADS][2]) {
  bf_echo *e = x;
  (void)now;
  for (unsigned p = 0; p < BF_INMSG_PADS; p++) {
    int on = e->pads >> p & 1u;
    out[p][0] = on ? e->rumble[p][0] : 0;
    out[p][1] = on ? e->rumble[p][1] : 0;
  }
  int c = e->rumble_changed;
  e->rumble_changed = 0;
  return c;
}

void bf_echo_inject(bf_echo *e, bf_inject *out) {
  *out = (bf_inject){"testsrc echo", BF_INCLASS_ALL, e,        e_key, e_button,
                     e_motion,       e_abs,          e_wheel,  e_pad, e_pad_button,
                     e_pad_axes,     NULL,           e_rumble, NULL};
}

/* --- drawing --------------------------------------------------------------- */

/* A cross at the pointer: white arms with a black edge, on the luma plane. */
static void cross(AVFrame *f, int32_t cx, int32_t cy, int32_t arm) {
  uint8_t *Y = f->data[0];
  const ptrdiff_t ys = f->linesize[0];
  for (int pass = 0; pass < 2; pass++) { /* the black edge, then the white */
    int t = pass ? 1 : 2;
    uint8_t v = pass ? 235 : 16;
    for (int32_t d = -arm - (pass ? 0 : 1); d <= arm + (pass ? 0 : 1); d++)
      for (int32_t o = -t; o <= t; o++) {
        int32_t hx = cx + d, hy = cy + o, vx = cx + o, vy = cy + d;
        if (hx >= 0 && hy >= 0 && hx < f->width && hy < f->height) Y[hy * ys + hx] = v;
        if (vx >= 0 && vy >= 0 && vx < f->width && vy < f->height) Y[vy * ys + vx] = v;
      }
  }
}

static size_t held_keys(const bf_echo *e, char *out, size_t cap) {
  size_t n = (size_t)snprintf(out, cap, "KEYS");
  unsigned shown = 0;
  for (unsigned u = 0; u < 256 && n < cap; u++)
    if (e->keys[u / 8] >> (u % 8) & 1u) {
      if (++shown > 8) {
        n += (size_t)snprintf(out + n, cap - n, " ..");
        break;
      }
      n += (size_t)snprintf(out + n, cap - n, " %02X", u);
    }
  return n;
}

/* The text lines: keys and buttons, pointer and wheel, one per pad. */
static unsigned echo_lines(const bf_echo *e, char lines[6][80]) {
  unsigned n = 0;
  size_t k = held_keys(e, lines[n], sizeof lines[n]);
  snprintf(lines[n] + k, sizeof lines[n] - k, "  BTN %c%c%c%c%c", e->buttons & 2 ? 'L' : '-',
           e->buttons & 4 ? 'M' : '-', e->buttons & 8 ? 'R' : '-', e->buttons & 16 ? 'B' : '-',
           e->buttons & 32 ? 'F' : '-');
  n++;
  snprintf(lines[n++], sizeof lines[0], "PTR %d,%d  WHEEL %d/%d  IN %u/%u", (int)e->px, (int)e->py,
           (int)(e->wheel_v / 120), (int)(e->wheel_h / 120), (unsigned)e->band.ev_seq,
           (unsigned)e->band.snap_seq);
  for (unsigned p = 0; p < BF_INMSG_PADS; p++) {
    if (!(e->pads >> p & 1u)) continue;
    const int16_t *a = e->axes[p];
    snprintf(lines[n++], sizeof lines[0], "PAD%u %06X %+06d %+06d %+06d %+06d %05d %05d", p,
             (unsigned)e->pad_buttons[p], a[0], a[1], a[2], a[3], a[4], a[5]);
  }
  return n;
}

void bf_echo_draw(void *x, AVFrame *f) {
  bf_echo *e = x;
  const unsigned w = (unsigned)f->width, h = (unsigned)f->height;
  if (w != e->w || h != e->h) return;
  uint8_t *Y = f->data[0], *U = f->data[1], *V = f->data[2];
  char lines[6][80];
  unsigned n = echo_lines(e, lines);
  unsigned scale = w / 480 ? w / 480 : 1;
  unsigned band = bf_strip_input_height(w), line_h = BF_STRIP_CHAR_H * scale;
  if (band + n * line_h + 2 + bf_strip_height(w) < h) {
    unsigned top = h - band - n * line_h - 2;
    for (unsigned i = 0; i < n; i++)
      bf_strip_text(Y, f->linesize[0], w, h, 2, top + i * line_h, scale, lines[i], 235, 16);
    for (unsigned yy = top / 2; yy < h / 2; yy++) { /* neutral chroma: grey text and band */
      memset(U + (ptrdiff_t)yy * f->linesize[1], 128, w / 2);
      memset(V + (ptrdiff_t)yy * f->linesize[2], 128, w / 2);
    }
  }
  cross(f, e->px, e->py, (int32_t)(6 * scale));
  bf_strip_draw_input(Y, f->linesize[0], w, h, &e->band); /* last: nothing covers it */
}
