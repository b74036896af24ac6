/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The programs' one event loop, as a small registry: each turn the program
 * lists the descriptors it serves (data socket, control sockets, the
 * window's connection, stdin) and the deadlines it has (punch, keepalive,
 * pacing, the next capture, the overlay's refresh), then sleeps in one
 * ppoll until a descriptor is ready, the earliest deadline comes, or a stop
 * signal arrives. The stages themselves stay out of here: they say what
 * they wait for and are called back by the program's loop, not by this.
 *
 * Also the stop signals: bf_evloop_signals() makes SIGINT and SIGTERM set a
 * flag that every wait returns for (bf_evloop_stopped), ignores SIGPIPE
 * (a closed TCP peer is an error return, not a death) and, on request,
 * SIGTTIN (a program started in a shell's background that reads stdin would
 * otherwise be stopped as soon as someone types there).
 *
 * Storage is the caller's (a bf_evloop on the stack or in its state); a
 * turn allocates nothing. One thread. Latency: a deadline is met to the
 * kernel's timer slack (ppoll takes ns); nothing is queued here.
 */
#ifndef BILDFUNK_EVLOOP_H
#define BILDFUNK_EVLOOP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BF_EVLOOP_MAX_FDS 24u

typedef struct bf_evloop {
  struct {
    int fd;
    short events;
    short revents;
  } fds[BF_EVLOOP_MAX_FDS];
  size_t n;
  uint64_t deadline_ns; /* UINT64_MAX: none */
} bf_evloop;

/* Starts a turn: no descriptors, no deadline. */
void bf_evloop_begin(bf_evloop *l);
/* Serves |fd| for |events| (POLLIN, POLLOUT) this turn. Returns its slot
 * for bf_evloop_revents, or -1 (fd < 0, which is skipped, or the registry is
 * full, which never happens with the programs' fixed sets). */
int bf_evloop_add(bf_evloop *l, int fd, short events);
/* Wakes the turn at |at_ns| (the caller's clock) at the latest; the
 * earliest of a turn's deadlines counts. */
void bf_evloop_deadline(bf_evloop *l, uint64_t at_ns);
/* Sleeps until a descriptor is ready, the deadline (relative to |now_ns|,
 * on the same clock) passes, or a signal comes. A deadline in the past
 * returns at once (after a zero-timeout look at the descriptors). Returns
 * how many descriptors are ready, 0 at the deadline, -EINTR for a signal, or
 * another negative errno. */
int bf_evloop_wait(bf_evloop *l, uint64_t now_ns);
/* What |slot| saw in the last wait (0 = nothing; -1 slots give 0). */
short bf_evloop_revents(const bf_evloop *l, int slot);

#define BF_EVLOOP_IGNORE_TTIN 0x1u
/* Installs the stop handler for SIGINT and SIGTERM, ignores SIGPIPE and,
 * with BF_EVLOOP_IGNORE_TTIN, SIGTTIN. */
void bf_evloop_signals(unsigned flags);
/* The stop signal that came (SIGINT, SIGTERM), or 0. */
int bf_evloop_stopped(void);

#ifdef __cplusplus
}
#endif

#endif /* BILDFUNK_EVLOOP_H */
