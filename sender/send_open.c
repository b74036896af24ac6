/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The sender's opening punches: see send_open.h.
 */
#include "send_open.h"

#include "send_state.h"

#include <bildfunk/channel.h>
#include <bildfunk/turn_conf.h>

#include <stdio.h>
#include <string.h>

void bf_send_open_session(bf_send_state *s, const bf_addr *peer, uint64_t now) {
  bf_punch_opener_start(&s->open.sched, now);
  s->open.peer = *peer;
}

void bf_send_open_on_addr(bf_send_state *s, const bf_ctl_msg *m, uint64_t now) {
  bf_ctl_addr at = m->u.data_addr.addr, ip;
  bf_addr a[2];
  bf_ctl_addr_from(&s->open.peer, &ip);
  ip.port = at.port; /* the control peer's IP, the reported port */
  if (bf_ctl_addr_to(&ip, &a[0]) < 0 || bf_ctl_addr_to(&at, &a[1]) < 0) return;
  s->open.addrs++;
  int added = 0;
  for (int i = 0; i < 2; i++)
    if (bf_punch_opener_add(&s->open.sched, &a[i], now) > 0) added++;
  if (added) {
    char x[BF_ADDR_STRLEN], y[BF_ADDR_STRLEN];
    fprintf(stderr, "bildfunk-send: opening the direct path toward the client: %s%s%s\n",
            bf_addr_format(&a[0], x, sizeof x), bf_addr_equal(&a[0], &a[1]) ? "" : " and ",
            bf_addr_equal(&a[0], &a[1]) ? "" : bf_addr_format(&a[1], y, sizeof y));
  }
}

void bf_send_open_stop(bf_send_state *s) {
  bf_punch_opener_stop(&s->open.sched);
}

uint64_t bf_send_open_tick(bf_send_state *s, uint64_t now) {
  if (s->ss.streaming) bf_punch_opener_stop(&s->open.sched); /* the client's punch got in */
  const bf_addr *cand = NULL;
  size_t n = bf_punch_opener_due(&s->open.sched, now, &cand);
  for (size_t i = 0; i < n; i++)
    if (bf_channel_punch_to(s->ep.ch, &cand[i]) == 1) s->open.punches++;
  return bf_punch_opener_next(&s->open.sched);
}
