/* SPDX-License-Identifier: GPL-3.0-or-later */
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
 *   sender      `bildfunk` started without a HOST: "Sender (host or
 *               host:port):" and the line typed so far (docs/client.md);
 *               under it the senders found on the LAN, if any ("On this
 *               LAN (Tab picks one):", NAME  ADDRESS each; Tab puts the next
 *               one's address on the line, highlighted);
 *               after a failed setup with the sender typed there, "Could
 *               not connect to HOST" and the wrapped message above it
 *   failed      the setup failed: "Could not connect to HOST", the
 *               message wrapped to the window, "Press Enter or Esc to close"
 *
 * Input while asking: only digits are taken, at most BF_PAIR_CODE_DIGITS;
 * Backspace removes the last; Enter gives the line once it is complete (a
 * shorter one is not sent: the screen says how many digits are missing).
 * Input while asking for the sender: printable ASCII without the space
 * (0x21..0x7e), at most BF_PAIRSCREEN_HOST - 1 bytes; Backspace removes the
 * last; Enter takes a non-empty line as the host (the phase becomes
 * connecting), an empty one makes the screen say what to type.
 *
 * Drawing: the whole window as one bf_canvas with the built-in font, scaled
 * to fit, centred. Pure: no SDL, no I/O; the canvas is the caller's (grown
 * by bf_canvas_resize when the window grows), nothing else is allocated.
 */
#ifndef BF_CLIENT_PAIRSCREEN_H
#define BF_CLIENT_PAIRSCREEN_H

#include "ui/font.h"

#include <bildfunk/identity.h>

typedef enum bf_pairscreen_phase {
  BF_PAIRSCREEN_CONNECTING = 0,
  BF_PAIRSCREEN_ASKING,
  BF_PAIRSCREEN_CHECKING,
  BF_PAIRSCREEN_SENDER,
  BF_PAIRSCREEN_FAILED,
} bf_pairscreen_phase;

#define BF_PAIRSCREEN_HOST 96u  /* bytes of a host, with its NUL */
#define BF_PAIRSCREEN_MSG 512u  /* bytes of a failure message, with its NUL */
#define BF_PAIRSCREEN_COLS 128u /* bytes of one wrapped line, with its NUL */
#define BF_PAIRSCREEN_LAN 4u    /* LAN senders offered under the sender prompt */

#define BF_PAIRSCREEN_BG 0xFF141A22u
#define BF_PAIRSCREEN_TEXT 0xFFF0F0F0u
#define BF_PAIRSCREEN_DIM 0xFFA0A8B0u
#define BF_PAIRSCREEN_CODE 0xFFFFD24Au

typedef struct bf_pairscreen {
  bf_pairscreen_phase phase;
  char host[BF_PAIRSCREEN_HOST];       /* the sender, as the user named it */
  char code[BF_PAIR_CODE_DIGITS + 1];  /* ours: the sender's user types it */
  char typed[BF_PAIR_CODE_DIGITS + 1]; /* digits typed here so far */
  unsigned ntyped;
  int short_line;                /* Enter came before all digits (or an empty host): say so */
  char line[BF_PAIRSCREEN_HOST]; /* the sender typed so far (phase sender) */
  unsigned nline;
  char msg[BF_PAIRSCREEN_MSG]; /* why the setup failed (phase failed) */
  unsigned nlan;               /* LAN senders offered (phase sender) */
  unsigned lan_pick;           /* 1 + the one Tab last put on the line, 0 = none */
  char lan_label[BF_PAIRSCREEN_LAN][BF_PAIRSCREEN_COLS]; /* "NAME  ADDRESS" */
  char lan_host[BF_PAIRSCREEN_LAN][BF_PAIRSCREEN_HOST];  /* what Tab puts on the line */
} bf_pairscreen;

/* Connecting to |host| (copied, cut to fit). */
void bf_pairscreen_init(bf_pairscreen *p, const char *host);
/* The control session showed |code| (ours): ask for the sender's. */
void bf_pairscreen_ask(bf_pairscreen *p, const char *code);
/* Asks for the sender, the line prefilled with |prefill| (NULL: empty; what
 * typing would not take is dropped). */
void bf_pairscreen_ask_sender(bf_pairscreen *p, const char *prefill);
/* The LAN senders to offer while asking for the sender: |n| (at most
 * BF_PAIRSCREEN_LAN taken) labels and hosts, cut to fit. Returns 1 when
 * what the screen shows changed (redraw), else 0. */
int bf_pairscreen_set_lan(bf_pairscreen *p, const char (*label)[BF_PAIRSCREEN_COLS],
                          const char (*host)[BF_PAIRSCREEN_HOST], unsigned n);
/* Tab while asking for the sender: the next offered sender's host replaces
 * the line. 1 when there was one, else 0. */
int bf_pairscreen_next_lan(bf_pairscreen *p);
/* The setup failed with |msg| (copied, cut to fit). */
void bf_pairscreen_fail(bf_pairscreen *p, const char *msg);
/* The setup with |host| (typed in the window) failed with |msg|: ask for the
 * sender again, the line prefilled with |host|, the message above it. */
void bf_pairscreen_ask_again(bf_pairscreen *p, const char *host, const char *msg);
/* Typed text (UTF-8, as the window gives it): while asking for the code its
 * digits, while asking for the sender its printable ASCII bytes, are appended
 * up to the limit, the rest ignored. Returns the number of bytes taken. */
unsigned bf_pairscreen_type(bf_pairscreen *p, const char *text);
void bf_pairscreen_backspace(bf_pairscreen *p);
/* Enter: while asking for the code, 1 and the typed line in |line|
 * (BF_PAIR_CODE_DIGITS + 1 bytes) when it is complete (the phase becomes
 * checking); while asking for the sender, 1 when the line is not empty: it
 * becomes |host| and the phase connecting (|line| is not used, may be NULL).
 * Else 0. */
int bf_pairscreen_enter(bf_pairscreen *p, char *line);

/* Wraps |text| into at most |max| lines of at most |cols| (1 ..
 * BF_PAIRSCREEN_COLS - 1) characters: breaks at spaces, cuts a longer word.
 * Returns the number of lines written (text beyond |max| lines is dropped). */
int bf_pairscreen_wrap(const char *text, unsigned cols, char (*lines)[BF_PAIRSCREEN_COLS], int max);

/* Draws the screen into |cv| at |w| x |h| pixels. 0 or -ENOMEM/-EINVAL. */
int bf_pairscreen_draw(const bf_pairscreen *p, bf_canvas *cv, int w, int h);

#endif
