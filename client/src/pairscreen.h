/*
 * The pairing screen: what the client's window shows while the control
 * session sets up (docs/security.md "Both sides type"), and the line the
 * user types there.
 *
 *   connecting  "Connecting to HOST ..."
 *   asking      the client's code (for the sender's user to type there),
 *               the prompt for the code the sender shows, the digits typed
 *               so far, "Esc cancels"
 *   checking    the code was given; waiting for the sender to confirm
 *
 * Input: only digits are taken, at most BF_PAIR_CODE_DIGITS; Backspace
 * removes the last; Enter gives the line once it is complete (a shorter one
 * is not sent: the screen says how many digits are missing).
 *
 * Drawing: the whole window as one bf_canvas with the built-in font, scaled
 * to fit, centred. Pure: no SDL, no I/O; the canvas is the caller's (grown
 * by bf_canvas_resize when the window grows), nothing else is allocated.
 */
#ifndef BF_CLIENT_PAIRSCREEN_H
#define BF_CLIENT_PAIRSCREEN_H

#include "font.h"

#include <bildfunk/identity.h>

typedef enum bf_pairscreen_phase {
  BF_PAIRSCREEN_CONNECTING = 0,
  BF_PAIRSCREEN_ASKING,
  BF_PAIRSCREEN_CHECKING,
} bf_pairscreen_phase;

#define BF_PAIRSCREEN_BG 0xFF141A22u
#define BF_PAIRSCREEN_TEXT 0xFFF0F0F0u
#define BF_PAIRSCREEN_DIM 0xFFA0A8B0u
#define BF_PAIRSCREEN_CODE 0xFFFFD24Au

typedef struct bf_pairscreen {
  bf_pairscreen_phase phase;
  char host[96];                       /* the sender, as the user named it */
  char code[BF_PAIR_CODE_DIGITS + 1];  /* ours: the sender's user types it */
  char typed[BF_PAIR_CODE_DIGITS + 1]; /* digits typed here so far */
  unsigned ntyped;
  int short_line; /* Enter came before all digits: say so */
} bf_pairscreen;

/* Connecting to |host| (copied, cut to fit). */
void bf_pairscreen_init(bf_pairscreen *p, const char *host);
/* The control session showed |code| (ours): ask for the sender's. */
void bf_pairscreen_ask(bf_pairscreen *p, const char *code);
/* Typed text (UTF-8, as the window gives it): its digits are appended up to
 * the limit, the rest ignored. Returns the number of digits taken. */
unsigned bf_pairscreen_type(bf_pairscreen *p, const char *text);
void bf_pairscreen_backspace(bf_pairscreen *p);
/* Enter: 1 and the typed line in |line| (BF_PAIR_CODE_DIGITS + 1 bytes)
 * when it is complete (the phase becomes checking), else 0. Only while
 * asking. */
int bf_pairscreen_enter(bf_pairscreen *p, char *line);

/* Draws the screen into |cv| at |w| x |h| pixels. 0 or -ENOMEM/-EINVAL. */
int bf_pairscreen_draw(const bf_pairscreen *p, bf_canvas *cv, int w, int h);

#endif
