/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * bildfunk-present-bench: where the windowed present's time goes, with the
 * SDL calls the client's display (client/src/ui/display.c) makes, on the
 * renderer SDL picks (or --renderer NAME), side by side in one run:
 *
 *   variant   texture  upload                      window
 *   iyuv      IYUV     SDL_UpdateYUVTexture        the picture's size
 *   iyuv-lock IYUV     SDL_LockTexture + memcpy    the picture's size
 *   nv12      NV12     SDL_UpdateNVTexture         the picture's size
 *   iyuv-scaled  IYUV  SDL_UpdateYUVTexture        --scaled WxH (the
 *             default window before the stream's size is known: 960x540)
 *   rgb-cpu   ARGB8888 swscale YUV->RGB on the CPU, SDL_UpdateTexture
 *
 * Each picture is timed in three parts: upload (the texture update), draw
 * (clear + copy with the letterbox rectangle, queued by the renderer) and
 * present (SDL_RenderPresent: the renderer's work, YUV->RGB in its shader,
 * scaling, the copy to the X server, and the vsync wait with --vsync). The
 * pictures change every frame (a moving gradient) so no upload is skipped.
 *
 *   bildfunk-present-bench [--size WxH (1920x1080)] [--frames N (120)]
 *       [--renderer opengl|opengles2|software] [--scaled WxH] [--only VARIANT]
 *       [--vsync]
 *
 * Prints one JSON object: per variant p50/p95 ms of each part and of their
 * sum, the renderer and video driver. Run it where the client runs (e.g.
 * under Xvfb, where the renderer is Mesa's llvmpipe on the CPU).
 */
#include <SDL.h>
#include <libswscale/swscale.h>

#include "common/machine.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VARIANTS 5

/* SDL's monotonic counter in ns (CLOCK_MONOTONIC on Linux). */
static uint64_t now_ns(void) {
  static uint64_t hz;
  if (!hz) hz = SDL_GetPerformanceFrequency();
  uint64_t t = SDL_GetPerformanceCounter();
  return t / hz * 1000000000u + t % hz * 1000000000u / hz;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static double pct_ms(uint64_t *v, size_t n, double p) {
  qsort(v, n, sizeof *v, cmp_u64);
  size_t i = (size_t)(p * (double)(n - 1) + 0.5);
  return (double)v[i] / 1e6;
}

typedef struct picture {
  int w, h;
  uint8_t *y, *u, *v, *uv; /* I420 planes, and NV12's interleaved chroma */
  uint8_t *rgb;            /* ARGB8888 for rgb-cpu */
} picture;

static void fill(picture *p, int t) {
  for (int j = 0; j < p->h; j++)
    memset(p->y + (size_t)j * (size_t)p->w, (j + t * 4) & 0xff, (size_t)p->w);
  size_t cw = (size_t)p->w / 2, chs = (size_t)p->h / 2;
  for (size_t j = 0; j < chs; j++) {
    memset(p->u + j * cw, (int)((j + (size_t)t) & 0xff), cw);
    memset(p->v + j * cw, (int)((255 - j - (size_t)t) & 0xff), cw);
    for (size_t i = 0; i < cw; i++) {
      p->uv[j * cw * 2 + 2 * i] = p->u[j * cw + i];
      p->uv[j * cw * 2 + 2 * i + 1] = p->v[j * cw + i];
    }
  }
}

static const char *const names[VARIANTS] = {"iyuv", "iyuv-lock", "nv12", "iyuv-scaled", "rgb-cpu"};

/* One picture of variant |k| on texture |tex|: the three parts in |t|. */
static int one(SDL_Renderer *ren, SDL_Texture *tex, int k, picture *p, struct SwsContext *sws,
               SDL_Rect dst, uint64_t t[3]) {
  uint64_t a = now_ns();
  int rc = 0;
  if (k == 0 || k == 3) {
    rc = SDL_UpdateYUVTexture(tex, NULL, p->y, p->w, p->u, p->w / 2, p->v, p->w / 2);
  } else if (k == 1) {
    void *px;
    int pitch;
    rc = SDL_LockTexture(tex, NULL, &px, &pitch);
    if (rc == 0) {
      uint8_t *d = px;
      for (int j = 0; j < p->h; j++)
        memcpy(d + (size_t)j * (size_t)pitch, p->y + (size_t)j * (size_t)p->w, (size_t)p->w);
      d += (size_t)pitch * (size_t)p->h;
      size_t cp = (size_t)pitch / 2, cw = (size_t)p->w / 2;
      for (int j = 0; j < p->h / 2; j++)
        memcpy(d + (size_t)j * cp, p->u + (size_t)j * cw, cw);
      d += cp * (size_t)p->h / 2;
      for (int j = 0; j < p->h / 2; j++)
        memcpy(d + (size_t)j * cp, p->v + (size_t)j * cw, cw);
      SDL_UnlockTexture(tex);
    }
  } else if (k == 2) {
    rc = SDL_UpdateNVTexture(tex, NULL, p->y, p->w, p->uv, p->w);
  } else {
    const uint8_t *src[3] = {p->y, p->u, p->v};
    int sl[3] = {p->w, p->w / 2, p->w / 2};
    uint8_t *dd[1] = {p->rgb};
    int dl[1] = {p->w * 4};
    sws_scale(sws, src, sl, 0, p->h, dd, dl);
    rc = SDL_UpdateTexture(tex, NULL, p->rgb, p->w * 4);
  }
  uint64_t b = now_ns();
  SDL_SetRenderDrawColor(ren, 0, 0, 0, 255);
  SDL_RenderClear(ren);
  SDL_RenderCopy(ren, tex, NULL, &dst);
  uint64_t c = now_ns();
  SDL_RenderPresent(ren);
  uint64_t d = now_ns();
  t[0] = b - a;
  t[1] = c - b;
  t[2] = d - c;
  return rc;
}

static int parse_size(const char *s, int *w, int *h) {
  return sscanf(s, "%dx%d", w, h) == 2 && *w >= 16 && *h >= 16 && *w <= 7680 && *h <= 4320 &&
                 !(*w & 1) && !(*h & 1)
             ? 0
             : -1;
}

int main(int argc, char **argv) {
  int w = 1920, h = 1080, sw = 960, sh = 540, frames = 120, vsync = 0;
  const char *renderer = NULL, *only = NULL;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "";
    if (!strcmp(a, "--size") && !parse_size(v, &w, &h))
      i++;
    else if (!strcmp(a, "--scaled") && !parse_size(v, &sw, &sh))
      i++;
    else if (!strcmp(a, "--frames") && (frames = atoi(v)) >= 10)
      i++;
    else if (!strcmp(a, "--renderer") && *v)
      renderer = argv[++i];
    else if (!strcmp(a, "--only") && *v)
      only = argv[++i];
    else if (!strcmp(a, "--vsync"))
      vsync = 1;
    else {
      fprintf(stderr, "usage: bildfunk-present-bench [--size WxH] [--frames N>=10] "
                      "[--renderer NAME] [--scaled WxH] [--only VARIANT] [--vsync]\n");
      return 2;
    }
  }
  if (renderer) SDL_SetHint(SDL_HINT_RENDER_DRIVER, renderer);
  SDL_SetHint(SDL_HINT_RENDER_VSYNC, vsync ? "1" : "0");
  SDL_SetHint(SDL_HINT_RENDER_SCALE_QUALITY, "linear");
  if (SDL_Init(SDL_INIT_VIDEO) != 0) {
    fprintf(stderr, "bildfunk-present-bench: %s\n", SDL_GetError());
    return 1;
  }
  picture p = {w, h, NULL, NULL, NULL, NULL, NULL};
  size_t ys = (size_t)w * (size_t)h;
  p.y = malloc(ys);
  p.u = malloc(ys / 4);
  p.v = malloc(ys / 4);
  p.uv = malloc(ys / 2);
  p.rgb = malloc(ys * 4);
  struct SwsContext *sws = sws_getContext(w, h, AV_PIX_FMT_YUV420P, w, h, AV_PIX_FMT_BGRA,
                                          SWS_BILINEAR, NULL, NULL, NULL);
  if (!p.y || !p.u || !p.v || !p.uv || !p.rgb || !sws) return 1;
  static const Uint32 fmt[VARIANTS] = {SDL_PIXELFORMAT_IYUV, SDL_PIXELFORMAT_IYUV,
                                       SDL_PIXELFORMAT_NV12, SDL_PIXELFORMAT_IYUV,
                                       SDL_PIXELFORMAT_ARGB8888};
  uint64_t *t = calloc((size_t)frames * 4, sizeof *t);
  if (!t) return 1;
  char rname[32] = "?";
  printf("{\"bench\": \"present\", \"size\": \"%dx%d\", \"frames\": %d, \"vsync\": %d, "
         "\"video_driver\": \"%s\",\n",
         w, h, frames, vsync, SDL_GetCurrentVideoDriver());
  for (int k = 0; k < VARIANTS; k++) {
    if (only && strcmp(only, names[k]) != 0) continue;
    int ww = k == 3 ? sw : w, wh = k == 3 ? sh : h;
    SDL_Window *win = SDL_CreateWindow("present-bench", 0, 0, ww, wh, 0);
    SDL_Renderer *ren =
        win ? SDL_CreateRenderer(win, -1, vsync ? SDL_RENDERER_PRESENTVSYNC : 0) : NULL;
    SDL_Texture *tex =
        ren ? SDL_CreateTexture(ren, fmt[k], SDL_TEXTUREACCESS_STREAMING, w, h) : NULL;
    if (!tex) {
      fprintf(stderr, "bildfunk-present-bench: %s: %s\n", names[k], SDL_GetError());
      return 1;
    }
    SDL_RendererInfo info;
    SDL_GetRendererInfo(ren, &info);
    snprintf(rname, sizeof rname, "%s", info.name);
    SDL_Rect dst = {0, 0, ww, wh};
    uint64_t one_t[3];
    for (int f = 0; f < 5; f++) /* warm-up: shaders compiled, buffers made */
      one(ren, tex, k, &p, sws, dst, one_t);
    int bad = 0;
    for (int f = 0; f < frames; f++) {
      SDL_PumpEvents();
      fill(&p, f);
      bad |= one(ren, tex, k, &p, sws, dst, one_t);
      for (int q = 0; q < 3; q++)
        t[(size_t)q * (size_t)frames + (size_t)f] = one_t[q];
      t[(size_t)3 * (size_t)frames + (size_t)f] = one_t[0] + one_t[1] + one_t[2];
    }
    static const char *const parts[4] = {"upload", "draw", "present", "total"};
    printf(" \"%s\": {\"renderer\": \"%s\", \"window\": \"%dx%d\", \"errors\": %d", names[k],
           info.name, ww, wh, bad != 0);
    for (int q = 0; q < 4; q++) {
      uint64_t *v = t + (size_t)q * (size_t)frames;
      double p50 = pct_ms(v, (size_t)frames, 0.5), p95 = pct_ms(v, (size_t)frames, 0.95);
      printf(", \"%s_p50_ms\": %.3f, \"%s_p95_ms\": %.3f", parts[q], p50, parts[q], p95);
    }
    printf("},\n");
    SDL_DestroyTexture(tex);
    SDL_DestroyRenderer(ren);
    SDL_DestroyWindow(win);
  }
  printf(" \"renderer\": \"%s\",\n ", rname);
  bf_bench_print_machine(stdout);
  printf("}\n");
  sws_freeContext(sws);
  free(t);
  free(p.y), free(p.u), free(p.v), free(p.uv), free(p.rgb);
  SDL_Quit();
  return 0;
}
