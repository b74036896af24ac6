/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The sender's pin file writer: one thread, a fixed table of jobs under a
 * mutex, a pipe to wake the caller. See pin_writer.h.
 */
#include "pin_writer.h"

#ifdef BF_HAVE_SEAL /* the pin store needs OpenSSL */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef enum job_state { JOB_FREE = 0, JOB_QUEUED, JOB_WRITING, JOB_DONE } job_state;

typedef struct slot {
  job_state st;
  uint64_t seq; /* push order */
  bf_pin_job job;
} slot;

struct bf_pin_writer {
  char *path;
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t cv; /* a job was queued, or stop */
  int stop;
  int wake[2]; /* [0] the caller polls, [1] the thread writes a byte per result */
  uint64_t next_seq;
  slot slots[BF_PIN_WRITER_JOBS];
};

/* The oldest slot in state |st|, or NULL. Under the mutex. */
static slot *oldest(bf_pin_writer *w, job_state st) {
  slot *best = NULL;
  for (size_t i = 0; i < BF_PIN_WRITER_JOBS; i++)
    if (w->slots[i].st == st && (!best || w->slots[i].seq < best->seq)) best = &w->slots[i];
  return best;
}

/* Read-modify-write on a store of the thread's own. */
static int write_pin(const char *path, const bf_pin_job *j) {
  bf_pinstore *ps = NULL;
  int rc = bf_pinstore_open(path, &ps);
  if (rc) return rc;
  rc = bf_pinstore_add(ps, j->fp, j->name, j->paired_unix, j->unique_name);
  bf_pinstore_del(&ps);
  return rc;
}

static void *writer_main(void *arg) {
  bf_pin_writer *w = arg;
  pthread_mutex_lock(&w->mu);
  for (;;) {
    slot *s = oldest(w, JOB_QUEUED);
    if (!s) {
      if (w->stop) break;
      pthread_cond_wait(&w->cv, &w->mu);
      continue;
    }
    s->st = JOB_WRITING;
    bf_pin_job job = s->job;
    pthread_mutex_unlock(&w->mu);
    int rc = write_pin(w->path, &job);
    pthread_mutex_lock(&w->mu);
    s->job.result = rc;
    s->st = JOB_DONE;
    ssize_t n;
    do /* a full pipe already wakes the caller */
      n = write(w->wake[1], "p", 1);
    while (n < 0 && errno == EINTR);
  }
  pthread_mutex_unlock(&w->mu);
  return NULL;
}

/* Frees what bf_pin_writer_new() made; the thread is not running. */
static void writer_free(bf_pin_writer *w) {
  pthread_cond_destroy(&w->cv);
  pthread_mutex_destroy(&w->mu);
  for (int i = 0; i < 2; i++)
    if (w->wake[i] >= 0) close(w->wake[i]);
  free(w->path);
  free(w);
}

int bf_pin_writer_new(const char *path, bf_pin_writer **out) {
  *out = NULL;
  bf_pin_writer *w = calloc(1, sizeof *w);
  if (!w) return -ENOMEM;
  w->wake[0] = w->wake[1] = -1;
  pthread_mutex_init(&w->mu, NULL);
  pthread_cond_init(&w->cv, NULL);
  int rc = 0;
  if (!(w->path = strdup(path)))
    rc = -ENOMEM;
  else if (pipe2(w->wake, O_NONBLOCK | O_CLOEXEC) != 0)
    rc = -errno;
  else if ((rc = pthread_create(&w->thread, NULL, writer_main, w)) != 0)
    rc = -rc;
  if (rc) {
    writer_free(w);
    return rc;
  }
  *out = w;
  return 0;
}

void bf_pin_writer_del(bf_pin_writer **pw) {
  if (!pw || !*pw) return;
  bf_pin_writer *w = *pw;
  pthread_mutex_lock(&w->mu);
  w->stop = 1;
  pthread_cond_signal(&w->cv);
  pthread_mutex_unlock(&w->mu);
  pthread_join(w->thread, NULL); /* after the queue is written */
  writer_free(w);
  *pw = NULL;
}

int bf_pin_writer_fd(const bf_pin_writer *w) {
  return w->wake[0];
}

int bf_pin_writer_push(bf_pin_writer *w, const bf_pin_job *job) {
  pthread_mutex_lock(&w->mu);
  slot *s = oldest(w, JOB_FREE);
  if (s) {
    s->st = JOB_QUEUED;
    s->seq = w->next_seq++;
    s->job = *job;
    s->job.result = 0;
    pthread_cond_signal(&w->cv);
  }
  pthread_mutex_unlock(&w->mu);
  return s ? 0 : -EAGAIN;
}

int bf_pin_writer_pop(bf_pin_writer *w, bf_pin_job *done) {
  char buf[64];
  while (read(w->wake[0], buf, sizeof buf) > 0) {
    /* the bytes only wake the caller; the table says what is done */
  }
  pthread_mutex_lock(&w->mu);
  slot *s = oldest(w, JOB_DONE);
  if (s) {
    *done = s->job;
    s->st = JOB_FREE;
  }
  pthread_mutex_unlock(&w->mu);
  return s != NULL;
}

void bf_pin_writer_reapply(bf_pin_writer *w, bf_pinstore *ps) {
  pthread_mutex_lock(&w->mu);
  uint64_t after = 0; /* in push order: a later pin of the same client wins */
  for (;;) {
    const slot *next = NULL;
    for (size_t i = 0; i < BF_PIN_WRITER_JOBS; i++) {
      const slot *s = &w->slots[i];
      if (s->st == JOB_FREE || (s->st == JOB_DONE && s->job.result) || s->seq < after) continue;
      if (!next || s->seq < next->seq) next = s;
    }
    if (!next) break;
    (void)bf_pinstore_put(ps, next->job.fp, next->job.name, next->job.paired_unix,
                          next->job.unique_name);
    after = next->seq + 1;
  }
  pthread_mutex_unlock(&w->mu);
}

#endif /* BF_HAVE_SEAL */
