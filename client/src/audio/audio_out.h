/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The sound output interface: what the stream side (audio_stream.h) needs
 * from a device backend, one file per backend (audio_sdl.c: SDL audio, the
 * one built today; a PulseAudio or PipeWire backend would be another).
 *
 * The backend calls |render| on its own thread (the device's) whenever the
 * device wants |n| samples (stereo s16, 48 kHz); render must not block. A
 * period of |period| samples is asked for (one frame: 240 = 5 ms); what the
 * device takes is in bf_audio_out_period(). The backend adds no queue of
 * its own beyond the device's buffer.
 */
#ifndef BF_CLIENT_AUDIO_OUT_H
#define BF_CLIENT_AUDIO_OUT_H

#include <stddef.h>
#include <stdint.h>

typedef void (*bf_audio_render_fn)(void *user, int16_t *out, unsigned n);

typedef struct bf_audio_out bf_audio_out;

/* Opens device |name| (NULL = the default) and starts calling |fn|. 0 or a
 * negative errno with one line in |err|. */
int bf_audio_out_open(const char *name, unsigned period, bf_audio_render_fn fn, void *user,
                      bf_audio_out **out, char *err, size_t cap);
/* Stops the device (render is not called after it returns), frees it. */
void bf_audio_out_close(bf_audio_out **o);
unsigned bf_audio_out_period(const bf_audio_out *o);
/* "SDL disk (default device), 240 samples" */
const char *bf_audio_out_describe(const bf_audio_out *o);

/* A thread of the backend's library, to open the device on (opening takes
 * tens of ms: audio_stream.h): the library's per-thread state (SDL's error
 * string) is freed when it ends, as it is not on a thread it did not make. */
typedef struct bf_audio_thread bf_audio_thread;
/* Starts |fn(arg)|. 0 or a negative errno. */
int bf_audio_thread_start(int (*fn)(void *), void *arg, bf_audio_thread **th);
/* Waits for it to end. Safe on NULL. */
void bf_audio_thread_join(bf_audio_thread **th);

#endif
