/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The sender's pin file writer (issue #12). When the operator confirms a
 * pairing, the control session pins the client at once, in memory
 * (bildfunk/ctl_session.h); writing the pin file is a read-modify-write of
 * a small file with fsync — milliseconds on a local disk, more on a slow
 * one — and the sender's video loop, which runs the control plane, must not
 * wait for it. So each pin becomes a job for this module's one thread,
 * which writes it with bf_pinstore_add() on a store of its own (the
 * caller's store is never touched from that thread), and hands back the
 * result. bf_pin_writer_fd() turns readable when a result is ready: it goes
 * in the caller's poll set.
 *
 * Queue: BF_PIN_WRITER_JOBS jobs at most (queued, being written, or done
 * and not yet popped); bf_pin_writer_push() says -EAGAIN when it is full.
 * Jobs are written one at a time in the order pushed; pairings are rate
 * limited (a few per minute), so a job waits for at most a few others.
 * Latency: none on the caller's thread (a push and a pop are a mutex and a
 * pipe byte); the pairing that waits for its result (PairResult) waits for
 * the disk.
 *
 * Threads: the writer thread lives from bf_pin_writer_new() to
 * bf_pin_writer_del(), which writes what is still queued before it joins.
 * Every other function belongs to one caller thread. Built with BF_HAVE_SEAL
 * (the pin store needs OpenSSL), like the control plane that uses it.
 */
#ifndef BF_SENDER_PIN_WRITER_H
#define BF_SENDER_PIN_WRITER_H

#include <bildfunk/identity.h>

#include <stdint.h>

#define BF_PIN_WRITER_JOBS 16u

typedef struct bf_pin_job {
  uint64_t tag; /* the caller's: what the result is for */
  uint8_t fp[BF_FP_BYTES];
  char name[BF_PIN_MAX_NAME + 1];
  int64_t paired_unix;
  int unique_name;
  int result; /* popped: 0, or the negative errno of reading or writing the file */
} bf_pin_job;

typedef struct bf_pin_writer bf_pin_writer;

/* Starts the writer of the pin file |path| (copied). Returns 0, -ENOMEM or
 * the -errno of making its pipe or thread. */
int bf_pin_writer_new(const char *path, bf_pin_writer **out);

/* Writes what is queued, stops the thread, frees |*w| and sets it to NULL;
 * NULL is fine. Blocks for the writes still due. */
void bf_pin_writer_del(bf_pin_writer **w);

/* Readable (POLLIN) while a result waits for bf_pin_writer_pop(). */
int bf_pin_writer_fd(const bf_pin_writer *w);

/* Queues |job| (copied; |result| is ignored). Returns 0, or -EAGAIN when
 * BF_PIN_WRITER_JOBS are in the queue. */
int bf_pin_writer_push(bf_pin_writer *w, const bf_pin_job *job);

/* The oldest finished job into |done|: 1, or 0 when none has finished. */
int bf_pin_writer_pop(bf_pin_writer *w, bf_pin_job *done);

/* After the caller re-read its store from the file (bf_pinstore_reload),
 * puts back, in memory, every pin the file may not have yet: queued, being
 * written, or written and not yet popped. Failed jobs are left out. */
void bf_pin_writer_reapply(bf_pin_writer *w, bf_pinstore *ps);

#endif
