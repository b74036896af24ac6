/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * SDL audio as the sound output (audio_out.h). SDL calls the render
 * function on its audio thread with the device's period; the format is
 * asked for exactly (48 kHz, s16, stereo) and SDL converts when the device
 * takes another. SDL_AUDIODRIVER picks the driver (the tests use "disk",
 * which writes the raw samples to SDL_DISKAUDIOFILE at the device's pace).
 *
 * The audio thread is created with a timer slack of 1 us (Linux keeps a
 * thread's slack for the threads it creates): the default 50 us would make
 * every period of a sleeping driver (disk, dummy) 1 % long.
 */
#include "audio_out.h"

#include <SDL.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

struct bf_audio_out {
  SDL_AudioDeviceID dev;
  bf_audio_render_fn fn;
  void *user;
  unsigned period;
  char desc[160];
};

static void callback(void *u, Uint8 *stream, int len) {
  bf_audio_out *o = u;
  o->fn(o->user, (int16_t *)(void *)stream, (unsigned)len / 4u);
}

int bf_audio_out_open(const char *name, unsigned period, bf_audio_render_fn fn, void *user,
                      bf_audio_out **out, char *err, size_t cap) {
  *out = NULL;
  if (SDL_InitSubSystem(SDL_INIT_AUDIO) != 0) {
    snprintf(err, cap, "no sound output: %s", SDL_GetError());
    return -ENODEV;
  }
  bf_audio_out *o = calloc(1, sizeof *o);
  if (!o) {
    SDL_QuitSubSystem(SDL_INIT_AUDIO);
    return -ENOMEM;
  }
  o->fn = fn;
  o->user = user;
  SDL_AudioSpec want, have;
  SDL_zero(want);
  want.freq = 48000;
  want.format = AUDIO_S16SYS;
  want.channels = 2;
  want.samples = (Uint16)period;
  want.callback = callback;
  want.userdata = o;
#ifdef __linux__
  int slack = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
  (void)prctl(PR_SET_TIMERSLACK, 1000, 0, 0, 0);
#endif
  o->dev = SDL_OpenAudioDevice(name, 0, &want, &have, 0);
#ifdef __linux__
  if (slack > 0) (void)prctl(PR_SET_TIMERSLACK, (unsigned long)slack, 0, 0, 0);
#endif
  if (!o->dev) {
    snprintf(err, cap, "cannot open the sound device %s: %s", name ? name : "(default)",
             SDL_GetError());
    free(o);
    SDL_QuitSubSystem(SDL_INIT_AUDIO);
    return -ENODEV;
  }
  o->period = have.samples;
  snprintf(o->desc, sizeof o->desc, "SDL %s (%.80s), %u samples", SDL_GetCurrentAudioDriver(),
           name ? name : "default device", o->period);
  SDL_PauseAudioDevice(o->dev, 0);
  *out = o;
  return 0;
}

void bf_audio_out_close(bf_audio_out **po) {
  bf_audio_out *o = *po;
  if (!o) return;
  SDL_CloseAudioDevice(o->dev); /* waits for the callback to return */
  SDL_QuitSubSystem(SDL_INIT_AUDIO);
  free(o);
  *po = NULL;
}

unsigned bf_audio_out_period(const bf_audio_out *o) {
  return o->period;
}

const char *bf_audio_out_describe(const bf_audio_out *o) {
  return o->desc;
}

int bf_audio_thread_start(int (*fn)(void *), void *arg, bf_audio_thread **th) {
  SDL_Thread *t = SDL_CreateThread(fn, "bf-audio-open", arg);
  *th = (bf_audio_thread *)t;
  return t ? 0 : -EAGAIN;
}

void bf_audio_thread_join(bf_audio_thread **th) {
  if (*th) SDL_WaitThread((SDL_Thread *)*th, NULL);
  *th = NULL;
}
