/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The pairing screen: see pairscreen.h.
 */
#include "pairscreen.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

void bf_pairscreen_init(bf_pairscreen *p, const char *host) {
  memset(p, 0, sizeof *p);
  snprintf(p->host, sizeof p->host, "%s", host ? host : "");
}

void bf_pairscreen_ask(bf_pairscreen *p, const char *code) {
  snprintf(p->code, sizeof p->code, "%s", code ? code : "");
  memset(p->typed, 0, sizeof p->typed);
  p->ntyped = 0;
  p->short_line = 0;
  p->phase = BF_PAIRSCREEN_ASKING;
}

static unsigned type_sender(bf_pairscreen *p, const char *text) {
  unsigned n = 0;
  for (; *text; text++) {
    if (*text < 0x21 || *text > 0x7e || p->nline + 1 >= sizeof p->line) continue;
    p->line[p->nline++] = *text;
    p->line[p->nline] = 0;
    n++;
  }
  if (n) p->short_line = 0;
  return n;
}

void bf_pairscreen_ask_sender(bf_pairscreen *p, const char *prefill) {
  memset(p, 0, sizeof *p);
  p->phase = BF_PAIRSCREEN_SENDER;
  if (prefill) type_sender(p, prefill);
}

int bf_pairscreen_set_lan(bf_pairscreen *p, const char (*label)[BF_PAIRSCREEN_COLS],
                          const char (*host)[BF_PAIRSCREEN_HOST], unsigned n) {
  if (n > BF_PAIRSCREEN_LAN) n = BF_PAIRSCREEN_LAN;
  int changed = n != p->nlan;
  for (unsigned i = 0; i < n; i++) {
    char l[BF_PAIRSCREEN_COLS], h[BF_PAIRSCREEN_HOST];
    snprintf(l, sizeof l, "%s", label[i]);
    snprintf(h, sizeof h, "%s", host[i]);
    changed |= strcmp(l, p->lan_label[i]) != 0 || strcmp(h, p->lan_host[i]) != 0;
    memcpy(p->lan_label[i], l, sizeof l);
    memcpy(p->lan_host[i], h, sizeof h);
  }
  p->nlan = n;
  if (p->lan_pick > n) p->lan_pick = 0;
  return changed;
}

int bf_pairscreen_next_lan(bf_pairscreen *p) {
  if (p->phase != BF_PAIRSCREEN_SENDER || !p->nlan) return 0;
  p->lan_pick = p->lan_pick % p->nlan + 1;
  p->nline = 0;
  p->line[0] = 0;
  type_sender(p, p->lan_host[p->lan_pick - 1]);
  p->short_line = 0;
  return 1;
}

void bf_pairscreen_fail(bf_pairscreen *p, const char *msg) {
  snprintf(p->msg, sizeof p->msg, "%s", msg ? msg : "");
  p->phase = BF_PAIRSCREEN_FAILED;
}

void bf_pairscreen_ask_again(bf_pairscreen *p, const char *host, const char *msg) {
  bf_pairscreen_ask_sender(p, host);
  snprintf(p->host, sizeof p->host, "%s", host ? host : "");
  snprintf(p->msg, sizeof p->msg, "%s", msg ? msg : "");
}

unsigned bf_pairscreen_type(bf_pairscreen *p, const char *text) {
  unsigned n = 0;
  if (!text) return 0;
  if (p->phase == BF_PAIRSCREEN_SENDER) return type_sender(p, text);
  if (p->phase != BF_PAIRSCREEN_ASKING) return 0;
  for (; *text; text++) {
    if (*text < '0' || *text > '9' || p->ntyped >= BF_PAIR_CODE_DIGITS) continue;
    p->typed[p->ntyped++] = *text;
    p->typed[p->ntyped] = 0;
    n++;
  }
  if (n) p->short_line = 0;
  return n;
}

void bf_pairscreen_backspace(bf_pairscreen *p) {
  if (p->phase == BF_PAIRSCREEN_SENDER && p->nline) {
    p->line[--p->nline] = 0;
    p->short_line = 0;
    return;
  }
  if (p->phase != BF_PAIRSCREEN_ASKING || !p->ntyped) return;
  p->typed[--p->ntyped] = 0;
  p->short_line = 0;
}

int bf_pairscreen_enter(bf_pairscreen *p, char *line) {
  if (p->phase == BF_PAIRSCREEN_SENDER) {
    if (!p->nline) {
      p->short_line = 1;
      return 0;
    }
    memcpy(p->host, p->line, sizeof p->host);
    p->phase = BF_PAIRSCREEN_CONNECTING;
    p->short_line = 0;
    return 1;
  }
  if (p->phase != BF_PAIRSCREEN_ASKING) return 0;
  if (p->ntyped < BF_PAIR_CODE_DIGITS) {
    p->short_line = 1;
    return 0;
  }
  memcpy(line, p->typed, BF_PAIR_CODE_DIGITS + 1);
  p->phase = BF_PAIRSCREEN_CHECKING;
  return 1;
}

int bf_pairscreen_wrap(const char *text, unsigned cols, char (*lines)[BF_PAIRSCREEN_COLS],
                       int max) {
  int n = 0;
  if (cols < 1) cols = 1;
  if (cols > BF_PAIRSCREEN_COLS - 1) cols = BF_PAIRSCREEN_COLS - 1;
  const char *t = text ? text : "";
  while (*t && n < max) {
    while (*t == ' ')
      t++;
    if (!*t) break;
    size_t len = strlen(t), take = len;
    if (len > cols) { /* the last space within cols + 1 ends the line, else cut */
      take = cols;
      for (size_t k = cols; k > 0; k--)
        if (t[k] == ' ') {
          take = k;
          break;
        }
    }
    while (take > 0 && t[take - 1] == ' ')
      take--;
    memcpy(lines[n], t, take);
    lines[n++][take] = 0;
    t += take;
  }
  return n;
}

#define MAX_LINES 22 /* the sender prompt: 12 for a failure, 4, 6 for the LAN */
#define LINE_CHARS BF_PAIRSCREEN_COLS

typedef struct text_line {
  char s[LINE_CHARS];
  uint32_t argb;
} text_line;

/* |msg| wrapped into at most |max| lines of |l| for a window |w| wide: two
 * or more pixels per font pixel where the window allows. Returns how many. */
static int wrap_msg(const char *msg, int w, text_line *l, int max) {
  int cols = (w - w / 10) / (BF_CELL_W * 2);
  if (cols < 16) cols = 16;
  if (cols > 60) cols = 60;
  char wrapped[MAX_LINES][BF_PAIRSCREEN_COLS];
  int k = bf_pairscreen_wrap(msg, (unsigned)cols, wrapped, max);
  for (int i = 0; i < k; i++) {
    memcpy(l[i].s, wrapped[i], LINE_CHARS);
    l[i].argb = BF_PAIRSCREEN_TEXT;
  }
  return k;
}

int bf_pairscreen_draw(const bf_pairscreen *p, bf_canvas *cv, int w, int h) {
  if (w <= 0 || h <= 0) return -EINVAL;
  int r = bf_canvas_resize(cv, w, h);
  if (r < 0) return r;
  bf_canvas_fill(cv, 0, 0, w, h, BF_PAIRSCREEN_BG);
  text_line l[MAX_LINES];
  int n = 0;
#define ADD(col, ...)                                                                              \
  do {                                                                                             \
    snprintf(l[n].s, LINE_CHARS, __VA_ARGS__);                                                     \
    l[n++].argb = (col);                                                                           \
  } while (0)
  if (p->phase == BF_PAIRSCREEN_CONNECTING) {
    ADD(BF_PAIRSCREEN_TEXT, "Connecting to %s ...", p->host);
  } else if (p->phase == BF_PAIRSCREEN_SENDER) {
    if (p->msg[0]) { /* the last try failed: why, then the line again */
      ADD(BF_PAIRSCREEN_CODE, "Could not connect to %s", p->host);
      n += wrap_msg(p->msg, w, l + n, 10);
      ADD(BF_PAIRSCREEN_TEXT, "%s", "");
    }
    ADD(BF_PAIRSCREEN_TEXT, "%s", "Sender (host or host:port):");
    ADD(BF_PAIRSCREEN_CODE, "%s_", p->line);
    ADD(BF_PAIRSCREEN_DIM, "%s", p->short_line ? "type the sender's name or address" : "");
    ADD(BF_PAIRSCREEN_DIM, "%s", "Enter connects, Esc quits");
    if (p->nlan) ADD(BF_PAIRSCREEN_TEXT, "%s", "");
    if (p->nlan) ADD(BF_PAIRSCREEN_TEXT, "%s", "On this LAN (Tab picks one):");
    for (unsigned i = 0; i < p->nlan; i++)
      ADD(i + 1 == p->lan_pick ? BF_PAIRSCREEN_CODE : BF_PAIRSCREEN_DIM, "%s", p->lan_label[i]);
  } else if (p->phase == BF_PAIRSCREEN_FAILED) {
    if (p->host[0])
      ADD(BF_PAIRSCREEN_CODE, "Could not connect to %s", p->host);
    else
      ADD(BF_PAIRSCREEN_CODE, "%s", "Could not connect");
    ADD(BF_PAIRSCREEN_TEXT, "%s", "");
    n += wrap_msg(p->msg, w, l + n, 12);
    ADD(BF_PAIRSCREEN_TEXT, "%s", "");
    ADD(BF_PAIRSCREEN_DIM, "%s", "Press Enter or Esc to close");
  } else {
    ADD(BF_PAIRSCREEN_TEXT, "Pairing with %s", p->host);
    ADD(BF_PAIRSCREEN_TEXT, "%s", "");
    ADD(BF_PAIRSCREEN_CODE, "Code for the sender: %s", p->code);
    ADD(BF_PAIRSCREEN_DIM, "%s", "(type it on the sender)");
    ADD(BF_PAIRSCREEN_TEXT, "%s", "");
    if (p->phase == BF_PAIRSCREEN_ASKING) {
      char shown[BF_PAIR_CODE_DIGITS + 1];
      for (unsigned i = 0; i < BF_PAIR_CODE_DIGITS; i++)
        shown[i] = i < p->ntyped ? p->typed[i] : '_';
      shown[BF_PAIR_CODE_DIGITS] = 0;
      ADD(BF_PAIRSCREEN_TEXT, "%s", "Type the code the sender shows, then Enter:");
      ADD(BF_PAIRSCREEN_CODE, "%s", shown);
      if (p->short_line)
        ADD(BF_PAIRSCREEN_DIM, "%u more digit%s, please", BF_PAIR_CODE_DIGITS - p->ntyped,
            BF_PAIR_CODE_DIGITS - p->ntyped == 1 ? "" : "s");
      else
        ADD(BF_PAIRSCREEN_DIM, "%s", "");
      ADD(BF_PAIRSCREEN_DIM, "%s", "Esc cancels the pairing");
    } else {
      ADD(BF_PAIRSCREEN_TEXT, "%s", "Waiting for the sender to confirm ...");
    }
  }
#undef ADD
  /* the largest built-in font scale at which the longest line fits */
  size_t longest = 1;
  for (int i = 0; i < n; i++)
    if (strlen(l[i].s) > longest) longest = strlen(l[i].s);
  int margin = w / 20;
  int scale = (w - 2 * margin) / (int)(longest * BF_CELL_W);
  int by_h = (h - 2 * margin) / (n * BF_CELL_H * 3 / 2);
  if (by_h < scale) scale = by_h;
  if (scale > 4) scale = 4;
  if (scale < 1) scale = 1;
  int line_h = BF_CELL_H * scale * 3 / 2;
  int y = (h - n * line_h) / 2;
  for (int i = 0; i < n; i++, y += line_h) {
    int tw = (int)strlen(l[i].s) * BF_CELL_W * scale;
    int x = (w - tw) / 2;
    bf_font_draw(cv, x < 0 ? 0 : x, y, l[i].s, l[i].argb, scale);
  }
  return 0;
}
