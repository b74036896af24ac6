/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The event loop registry on POSIX systems (ppoll): see evloop.h.
 */
#include <bildfunk/evloop.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <time.h>

static volatile sig_atomic_t stop_signal;

static void on_stop(int sig) {
  stop_signal = sig;
}

void bf_evloop_signals(unsigned flags) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_stop;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  if (flags & BF_EVLOOP_IGNORE_TTIN) signal(SIGTTIN, SIG_IGN);
}

int bf_evloop_stopped(void) {
  return stop_signal;
}

void bf_evloop_begin(bf_evloop *l) {
  l->n = 0;
  l->deadline_ns = UINT64_MAX;
}

int bf_evloop_add(bf_evloop *l, int fd, short events) {
  if (fd < 0 || l->n == BF_EVLOOP_MAX_FDS) return -1;
  l->fds[l->n].fd = fd;
  l->fds[l->n].events = events;
  l->fds[l->n].revents = 0;
  return (int)l->n++;
}

void bf_evloop_deadline(bf_evloop *l, uint64_t at_ns) {
  if (at_ns < l->deadline_ns) l->deadline_ns = at_ns;
}

int bf_evloop_wait(bf_evloop *l, uint64_t now_ns) {
  struct pollfd p[BF_EVLOOP_MAX_FDS];
  for (size_t i = 0; i < l->n; i++)
    p[i] = (struct pollfd){l->fds[i].fd, l->fds[i].events, 0};
  struct timespec ts, *tp = NULL;
  if (l->deadline_ns != UINT64_MAX) {
    uint64_t d = l->deadline_ns > now_ns ? l->deadline_ns - now_ns : 0;
    ts.tv_sec = (time_t)(d / 1000000000ull);
    ts.tv_nsec = (long)(d % 1000000000ull);
    tp = &ts;
  }
  if (stop_signal) return -EINTR;
  int r = ppoll(p, (nfds_t)l->n, tp, NULL);
  if (r < 0) return -errno;
  for (size_t i = 0; i < l->n; i++)
    l->fds[i].revents = p[i].revents;
  return r;
}

short bf_evloop_revents(const bf_evloop *l, int slot) {
  return slot >= 0 && (size_t)slot < l->n ? l->fds[slot].revents : 0;
}
