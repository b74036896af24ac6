/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The display: the SDL2 window, textures, present, fullscreen and the
 * system font. See display.h.
 */
#include "display.h"

#include "winfit.h"

#include <SDL.h>
#include <SDL_syswm.h>
#include <SDL_ttf.h>
#include <fontconfig/fontconfig.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

void bf_letterbox(int vw, int vh, int sar_num, int sar_den, int ow, int oh, bf_rect *out) {
  out->x = out->y = 0;
  out->w = ow;
  out->h = oh;
  if (vw <= 0 || vh <= 0 || ow <= 0 || oh <= 0) return;
  if (sar_num <= 0 || sar_den <= 0) sar_num = sar_den = 1;
  /* display width : height = vw * sar : vh, compared in 64-bit integers */
  int64_t dw = (int64_t)vw * sar_num, dh = (int64_t)vh * sar_den;
  if ((int64_t)ow * dh > (int64_t)oh * dw) { /* output wider: bars left and right */
    out->w = (int)(((int64_t)oh * dw + dh / 2) / dh);
    out->x = (ow - out->w) / 2;
  } else { /* taller: bars top and bottom */
    out->h = (int)(((int64_t)ow * dh + dw / 2) / dw);
    out->y = (oh - out->h) / 2;
  }
  if (out->w < 1) out->w = 1;
  if (out->h < 1) out->h = 1;
}

/* --- system font -------------------------------------------------------------- */

typedef struct ttf_text {
  TTF_Font *font;
  int px;
} ttf_text;

/* "over" compositing of one straight-alpha ARGB pixel onto another */
static uint32_t over(uint32_t dst, uint32_t src) {
  uint32_t sa = src >> 24;
  if (sa == 255) return src;
  if (sa == 0) return dst;
  uint32_t da = dst >> 24;
  uint32_t oa = sa + da * (255 - sa) / 255;
  if (!oa) return 0;
  uint32_t out = oa << 24;
  for (int sh = 0; sh <= 16; sh += 8) {
    uint32_t s = (src >> sh) & 255, d = (dst >> sh) & 255;
    uint32_t c = (s * sa + d * da * (255 - sa) / 255) / oa;
    out |= (c > 255 ? 255 : c) << sh;
  }
  return out;
}

static int ttf_draw(void *ctx, bf_canvas *c, int x, int y, const char *s, uint32_t argb) {
  ttf_text *t = ctx;
  SDL_Color col = {(uint8_t)(argb >> 16), (uint8_t)(argb >> 8), (uint8_t)argb, 255};
  SDL_Surface *raw = TTF_RenderUTF8_Blended(t->font, s, col);
  if (!raw) return 0;
  SDL_Surface *sf = SDL_ConvertSurfaceFormat(raw, SDL_PIXELFORMAT_ARGB8888, 0);
  SDL_FreeSurface(raw);
  if (!sf) return 0;
  int w = sf->w;
  if (SDL_LockSurface(sf) == 0) {
    for (int j = 0; j < sf->h; j++) {
      int yy = y + j;
      if (yy < 0 || yy >= c->h) continue;
      const uint32_t *row = (const uint32_t *)((const uint8_t *)sf->pixels + j * sf->pitch);
      for (int i = 0; i < sf->w; i++) {
        int xx = x + i;
        if (xx < 0 || xx >= c->w) continue;
        c->px[yy * c->w + xx] = over(c->px[yy * c->w + xx], row[i]);
      }
    }
    SDL_UnlockSurface(sf);
  }
  SDL_FreeSurface(sf);
  return w;
}

/* Path of the system's monospace font through fontconfig, or 0. */
static int find_font(char *path, size_t cap) {
  if (!FcInit()) return 0;
  int ok = 0;
  FcPattern *pat = FcNameParse((const FcChar8 *)"monospace:style=Regular");
  if (pat) {
    FcConfigSubstitute(NULL, pat, FcMatchPattern);
    FcDefaultSubstitute(pat);
    FcResult res;
    FcPattern *m = FcFontMatch(NULL, pat, &res);
    FcChar8 *file = NULL;
    if (m && FcPatternGetString(m, FC_FILE, 0, &file) == FcResultMatch && file) {
      snprintf(path, cap, "%s", (const char *)file);
      ok = 1;
    }
    if (m) FcPatternDestroy(m);
    FcPatternDestroy(pat);
  }
  return ok;
}

/* --- display ------------------------------------------------------------------- */

struct bf_display {
  bf_display_config cfg;
  SDL_Window *win;
  SDL_Renderer *ren;
  SDL_Texture *video;
  int tex_w, tex_h;
  Uint32 tex_fmt;
  int sar_num, sar_den;
  SDL_Texture *ov_tex;
  int ov_w, ov_h;
  struct SwsContext *sws; /* only for formats SDL cannot take directly */
  AVFrame *conv;
  int have_picture;
  int sized_to_stream;
  int fit_w, fit_h; /* the picture size the window was last fitted to */
  int event_fd;
  int fake_fs;          /* fullscreen done by us: no window manager */
  uint64_t fs_check_ms; /* SDL ticks when to check a fullscreen request */
  bf_rect saved;        /* windowed geometry to return to */
  bf_rect pic_rect;
  char desc[96];
  /* system font */
  int ttf_init;
  int ttf_tried;
  int fc_init;
  char font_path[512];
  ttf_text ttf;
};

static void fs_request(bf_display *r);

/* Sizes the window for a |w| x |h| picture (smaller when that does not fit)
 * and centres it in its display's usable area, decorations included: a
 * window that grew where it was opened could hang half off the screen. */
static void fit_window(bf_display *r, int w, int h) {
  SDL_Rect u;
  int idx = SDL_GetWindowDisplayIndex(r->win);
  r->fit_w = w;
  r->fit_h = h;
  if (idx < 0 || SDL_GetDisplayUsableBounds(idx, &u) != 0) {
    SDL_SetWindowSize(r->win, w, h);
    return;
  }
  int b[4] = {0, 0, 0, 0}; /* top, left, bottom, right; unknown (no window manager): 0 */
  if (!r->cfg.borderless && SDL_GetWindowBordersSize(r->win, &b[0], &b[1], &b[2], &b[3]) != 0)
    b[0] = b[1] = b[2] = b[3] = 0;
  bf_rect fit, usable = {u.x, u.y, u.w, u.h};
  bf_window_fit(usable, b[0], b[1], b[2], b[3], w, h, &fit);
  SDL_SetWindowSize(r->win, fit.w, fit.h);
  SDL_SetWindowPosition(r->win, fit.x, fit.y);
}

/* Draws a small black picture of each texture format the video may use
 * (IYUV from software decoders, NV12 from hardware ones) and presents black:
 * a renderer compiles its shaders for a format at its first use (OpenGL on
 * a CPU rasteriser: 360 ms measured on a loaded Xvfb), which the first
 * picture of the stream would pay otherwise. */
static void warm_up(bf_display *r) {
  static const Uint32 fmts[2] = {SDL_PIXELFORMAT_IYUV, SDL_PIXELFORMAT_NV12};
  uint8_t y[16 * 16], uv[16 * 16];
  memset(y, 16, sizeof y);
  memset(uv, 128, sizeof uv);
  SDL_SetRenderDrawColor(r->ren, 0, 0, 0, 255);
  SDL_RenderClear(r->ren);
  for (int i = 0; i < 2; i++) {
    SDL_Texture *t = SDL_CreateTexture(r->ren, fmts[i], SDL_TEXTUREACCESS_STREAMING, 16, 16);
    if (!t) continue;
    if (i == 0)
      SDL_UpdateYUVTexture(t, NULL, y, 16, uv, 8, uv, 8);
    else
      SDL_UpdateNVTexture(t, NULL, y, 16, uv, 16);
    SDL_Rect dst = {0, 0, 1, 1};
    SDL_RenderCopy(r->ren, t, NULL, &dst);
    SDL_DestroyTexture(t);
  }
  SDL_RenderClear(r->ren);
  SDL_RenderPresent(r->ren);
}

void bf_display_expect(bf_display *r, int w, int h) {
  if (r->sized_to_stream || r->cfg.width || bf_display_is_fullscreen(r) || w <= 0 || h <= 0) return;
  fit_window(r, w, h);
  SDL_RenderClear(r->ren); /* the first present at the new size, before the stream */
  SDL_RenderPresent(r->ren);
}

int bf_display_open(const bf_display_config *cfg, bf_display **out, char *err, size_t cap) {
  *out = NULL;
  bf_display *r = calloc(1, sizeof *r);
  if (!r) return -ENOMEM;
  r->cfg = *cfg;
  r->event_fd = -1;
  SDL_SetHint(SDL_HINT_RENDER_VSYNC, cfg->vsync ? "1" : "0");
  SDL_SetHint(SDL_HINT_RENDER_SCALE_QUALITY, "linear");
  SDL_SetHint(SDL_HINT_VIDEO_X11_NET_WM_BYPASS_COMPOSITOR, "1");
  if (SDL_InitSubSystem(SDL_INIT_VIDEO) != 0) {
    snprintf(err, cap, "cannot open a window: %s", SDL_GetError());
    free(r);
    return -ENODEV;
  }
  /* hidden until the renderer is made: an OpenGL renderer makes SDL destroy
   * the window it made and create another (SDL_RecreateWindow), so a window
   * shown at once is mapped twice, and whoever looks for it in between (a
   * window manager, a test's xdotool) may take the one about to go */
  Uint32 flags = SDL_WINDOW_RESIZABLE | SDL_WINDOW_ALLOW_HIGHDPI | SDL_WINDOW_HIDDEN;
  if (cfg->borderless) flags |= SDL_WINDOW_BORDERLESS;
  int w = cfg->width ? cfg->width : 960, h = cfg->height ? cfg->height : 540;
  r->win = SDL_CreateWindow(cfg->title ? cfg->title : "bildfunk", SDL_WINDOWPOS_CENTERED,
                            SDL_WINDOWPOS_CENTERED, w, h, flags);
  if (!r->win) {
    snprintf(err, cap, "cannot create the window: %s", SDL_GetError());
    goto fail;
  }
  Uint32 rflags = cfg->vsync ? SDL_RENDERER_PRESENTVSYNC : 0;
  r->ren = SDL_CreateRenderer(r->win, -1, rflags | SDL_RENDERER_ACCELERATED);
  if (!r->ren) r->ren = SDL_CreateRenderer(r->win, -1, rflags | SDL_RENDERER_SOFTWARE);
  if (!r->ren) {
    snprintf(err, cap, "cannot create a renderer: %s", SDL_GetError());
    goto fail;
  }
  SDL_ShowWindow(r->win);
  SDL_RendererInfo info;
  SDL_GetRendererInfo(r->ren, &info);
  snprintf(r->desc, sizeof r->desc, "%s / %s", SDL_GetCurrentVideoDriver(), info.name);
  SDL_SysWMinfo wm;
  SDL_VERSION(&wm.version);
#if defined(SDL_VIDEO_DRIVER_X11)
  if (SDL_GetWindowWMInfo(r->win, &wm) && wm.subsystem == SDL_SYSWM_X11)
    r->event_fd = ConnectionNumber(wm.info.x11.display);
#endif
  fit_window(r, w, h);                      /* a small screen, a panel: inside the usable area */
  if (!cfg->width) r->fit_w = r->fit_h = 0; /* not the stream's yet */
  if (cfg->fullscreen) fs_request(r);
  warm_up(r);
  *out = r;
  return 0;
fail:
  bf_display_close(&r);
  return -ENODEV;
}

void bf_display_close(bf_display **pr) {
  bf_display *r = *pr;
  if (!r) return;
  if (r->ttf.font) TTF_CloseFont(r->ttf.font);
  if (r->ttf_init) TTF_Quit();
  if (r->fc_init) FcFini();
  if (r->video) SDL_DestroyTexture(r->video);
  if (r->ov_tex) SDL_DestroyTexture(r->ov_tex);
  if (r->ren) SDL_DestroyRenderer(r->ren);
  if (r->win) SDL_DestroyWindow(r->win);
  sws_freeContext(r->sws);
  av_frame_free(&r->conv);
  SDL_QuitSubSystem(SDL_INIT_VIDEO);
  SDL_Quit();
  free(r);
  *pr = NULL;
}

const char *bf_display_describe(bf_display *r) {
  return r->desc;
}
int bf_display_visible(bf_display *r) {
  (void)r;
  const char *d = SDL_GetCurrentVideoDriver();
  return d && strcmp(d, "offscreen") != 0 && strcmp(d, "dummy") != 0;
}

void bf_display_set_title(bf_display *r, const char *title) {
  SDL_SetWindowTitle(r->win, title);
}

int bf_display_event_fd(bf_display *r) {
  return r->event_fd;
}
bf_rect bf_display_picture_rect(bf_display *r) {
  return r->pic_rect;
}

int bf_display_to_picture(bf_display *r, int wx, int wy, int *px, int *py, int *pw, int *ph) {
  if (!r->have_picture || r->tex_w <= 0 || r->tex_h <= 0) return -1;
  int ow, oh, ww, wh;
  bf_display_output_size(r, &ow, &oh);
  SDL_GetWindowSize(r->win, &ww, &wh);
  bf_rect pic;
  bf_letterbox(r->tex_w, r->tex_h, r->sar_num, r->sar_den, ow, oh, &pic);
  /* window points -> output pixels (HiDPI) -> the picture's pixels */
  int64_t ox = ww > 0 ? (int64_t)wx * ow / ww : wx, oy = wh > 0 ? (int64_t)wy * oh / wh : wy;
  int64_t x = (ox - pic.x) * r->tex_w / pic.w, y = (oy - pic.y) * r->tex_h / pic.h;
  int inside = ox >= pic.x && oy >= pic.y && x < r->tex_w && y < r->tex_h;
  *px = (int)(x < 0 ? 0 : x >= r->tex_w ? r->tex_w - 1 : x);
  *py = (int)(y < 0 ? 0 : y >= r->tex_h ? r->tex_h - 1 : y);
  *pw = r->tex_w;
  *ph = r->tex_h;
  return inside;
}

int bf_display_pointer(bf_display *r, bf_pointer_mode m) {
  (void)r;
  int rc = SDL_SetRelativeMouseMode(m == BF_POINTER_CAPTURED ? SDL_TRUE : SDL_FALSE);
  SDL_ShowCursor(m == BF_POINTER_SHOWN ? SDL_ENABLE : SDL_DISABLE);
  return rc == 0 ? 0 : -EIO;
}

void bf_display_grab_keyboard(bf_display *r, int on) {
  SDL_SetWindowKeyboardGrab(r->win, on ? SDL_TRUE : SDL_FALSE);
}

void bf_display_output_size(bf_display *r, int *w, int *h) {
  if (SDL_GetRendererOutputSize(r->ren, w, h) != 0) SDL_GetWindowSize(r->win, w, h);
}

int bf_display_is_fullscreen(bf_display *r) {
  return r->fake_fs || (SDL_GetWindowFlags(r->win) & SDL_WINDOW_FULLSCREEN) != 0;
}

/* Fullscreen is asked of the window manager; with none (a bare X server)
 * nothing happens, so a moment later we check and, if the window is not
 * covering its display, make it a borderless window that does. */
#define FS_CHECK_MS 250u

/* The window's size as the display server has it. SDL reports the size it
 * asked for, which a bare X server without a window manager never grants
 * for fullscreen; Xlib tells the truth there. */
static void real_size(bf_display *r, int *w, int *h) {
  SDL_GetWindowSize(r->win, w, h);
#if defined(BF_HAVE_XLIB) && defined(SDL_VIDEO_DRIVER_X11)
  SDL_SysWMinfo wm;
  SDL_VERSION(&wm.version);
  XWindowAttributes a;
  if (SDL_GetWindowWMInfo(r->win, &wm) && wm.subsystem == SDL_SYSWM_X11 &&
      XGetWindowAttributes(wm.info.x11.display, wm.info.x11.window, &a)) {
    *w = a.width;
    *h = a.height;
  }
#endif
}

static void fs_request(bf_display *r) {
  SDL_GetWindowPosition(r->win, &r->saved.x, &r->saved.y);
  SDL_GetWindowSize(r->win, &r->saved.w, &r->saved.h);
  SDL_SetWindowFullscreen(r->win, SDL_WINDOW_FULLSCREEN_DESKTOP);
  r->fs_check_ms = SDL_GetTicks64() + FS_CHECK_MS;
}

void bf_display_toggle_fullscreen(bf_display *r) {
  r->fs_check_ms = 0;
  if (r->fake_fs) {
    r->fake_fs = 0;
    if (!r->cfg.borderless) SDL_SetWindowBordered(r->win, SDL_TRUE);
    SDL_SetWindowPosition(r->win, r->saved.x, r->saved.y);
    SDL_SetWindowSize(r->win, r->saved.w, r->saved.h);
  } else if (SDL_GetWindowFlags(r->win) & SDL_WINDOW_FULLSCREEN) {
    SDL_SetWindowFullscreen(r->win, 0);
  } else {
    fs_request(r);
  }
}

int bf_display_timeout_ms(bf_display *r) {
  if (!r->fs_check_ms) return -1;
  uint64_t t = SDL_GetTicks64();
  return t >= r->fs_check_ms ? 0 : (int)(r->fs_check_ms - t);
}

void bf_display_tick(bf_display *r) {
  if (!r->fs_check_ms || SDL_GetTicks64() < r->fs_check_ms) return;
  r->fs_check_ms = 0;
  if (!(SDL_GetWindowFlags(r->win) & SDL_WINDOW_FULLSCREEN)) return;
  SDL_Rect b;
  int w, h;
  if (SDL_GetDisplayBounds(SDL_GetWindowDisplayIndex(r->win), &b) != 0) return;
  real_size(r, &w, &h);
  if (w == b.w && h == b.h) return; /* the window manager did it */
  SDL_SetWindowFullscreen(r->win, 0);
  SDL_SetWindowBordered(r->win, SDL_FALSE);
  SDL_SetWindowPosition(r->win, b.x, b.y);
  SDL_SetWindowSize(r->win, b.w, b.h);
  r->fake_fs = 1;
}

/* Converts |pic| to yuv420p for formats the texture cannot take. */
static const AVFrame *convert(bf_display *r, const AVFrame *pic) {
  if (!r->conv) r->conv = av_frame_alloc();
  if (!r->conv) return NULL;
  if (r->conv->width != pic->width || r->conv->height != pic->height) {
    av_frame_unref(r->conv);
    r->conv->format = AV_PIX_FMT_YUV420P;
    r->conv->width = pic->width;
    r->conv->height = pic->height;
    if (av_frame_get_buffer(r->conv, 0) < 0) return NULL;
  }
  r->sws = sws_getCachedContext(r->sws, pic->width, pic->height, (enum AVPixelFormat)pic->format,
                                pic->width, pic->height, AV_PIX_FMT_YUV420P, SWS_BILINEAR, NULL,
                                NULL, NULL);
  if (!r->sws) return NULL;
  sws_scale(r->sws, (const uint8_t *const *)pic->data, pic->linesize, 0, pic->height, r->conv->data,
            r->conv->linesize);
  return r->conv;
}

int bf_display_upload(bf_display *r, const AVFrame *pic) {
  enum AVPixelFormat f = (enum AVPixelFormat)pic->format;
  if (f != AV_PIX_FMT_YUV420P && f != AV_PIX_FMT_YUVJ420P && f != AV_PIX_FMT_NV12) {
    static int warned;
    if (!warned++)
      fprintf(stderr, "bildfunk: converting %s pictures on the CPU (slow path)\n",
              av_get_pix_fmt_name(f));
    pic = convert(r, pic);
    if (!pic) return -ENOMEM;
    f = AV_PIX_FMT_YUV420P;
  }
  Uint32 fmt = f == AV_PIX_FMT_NV12 ? SDL_PIXELFORMAT_NV12 : SDL_PIXELFORMAT_IYUV;
  if (!r->video || r->tex_w != pic->width || r->tex_h != pic->height || r->tex_fmt != fmt) {
    if (r->video) SDL_DestroyTexture(r->video);
    r->video = SDL_CreateTexture(r->ren, fmt, SDL_TEXTUREACCESS_STREAMING, pic->width, pic->height);
    if (!r->video) {
      fprintf(stderr, "bildfunk: cannot create a %dx%d texture: %s\n", pic->width, pic->height,
              SDL_GetError());
      return -ENOMEM;
    }
    r->tex_w = pic->width;
    r->tex_h = pic->height;
    r->tex_fmt = fmt;
    /* a window that was not given a size follows the stream's, once (it
     * may have already: bf_display_expect) */
    if (!r->sized_to_stream && !r->cfg.width && !bf_display_is_fullscreen(r) &&
        (pic->width != r->fit_w || pic->height != r->fit_h))
      fit_window(r, pic->width, pic->height);
    r->sized_to_stream = 1;
  }
  r->sar_num = pic->sample_aspect_ratio.num;
  r->sar_den = pic->sample_aspect_ratio.den;
  int rc = fmt == SDL_PIXELFORMAT_NV12
               ? SDL_UpdateNVTexture(r->video, NULL, pic->data[0], pic->linesize[0], pic->data[1],
                                     pic->linesize[1])
               : SDL_UpdateYUVTexture(r->video, NULL, pic->data[0], pic->linesize[0], pic->data[1],
                                      pic->linesize[1], pic->data[2], pic->linesize[2]);
  if (rc != 0) return -EIO;
  r->have_picture = 1;
  return 0;
}

/* |cv| blended at the top-left through the overlay texture */
static void draw_canvas(bf_display *r, const bf_canvas *cv) {
  if (!r->ov_tex || r->ov_w != cv->w || r->ov_h != cv->h) {
    if (r->ov_tex) SDL_DestroyTexture(r->ov_tex);
    r->ov_tex = SDL_CreateTexture(r->ren, SDL_PIXELFORMAT_ARGB8888, SDL_TEXTUREACCESS_STREAMING,
                                  cv->w, cv->h);
    if (r->ov_tex) SDL_SetTextureBlendMode(r->ov_tex, SDL_BLENDMODE_BLEND);
    r->ov_w = cv->w;
    r->ov_h = cv->h;
  }
  if (r->ov_tex) {
    SDL_UpdateTexture(r->ov_tex, NULL, cv->px, cv->w * 4);
    SDL_Rect dst = {0, 0, cv->w, cv->h};
    SDL_RenderCopy(r->ren, r->ov_tex, NULL, &dst);
  }
}

int bf_display_present(bf_display *r, const bf_canvas *over) {
  int ow, oh;
  bf_display_output_size(r, &ow, &oh);
  SDL_SetRenderDrawColor(r->ren, 0, 0, 0, 255);
  SDL_RenderClear(r->ren);
  if (r->have_picture) {
    bf_letterbox(r->tex_w, r->tex_h, r->sar_num, r->sar_den, ow, oh, &r->pic_rect);
    SDL_Rect dst = {r->pic_rect.x, r->pic_rect.y, r->pic_rect.w, r->pic_rect.h};
    SDL_RenderCopy(r->ren, r->video, NULL, &dst);
  }
  if (over) draw_canvas(r, over);
  SDL_RenderPresent(r->ren);
  return 0;
}

int bf_display_present_canvas(bf_display *r, const bf_canvas *cv) {
  SDL_SetRenderDrawColor(r->ren, 0, 0, 0, 255);
  SDL_RenderClear(r->ren);
  if (cv->w > 0 && cv->h > 0) draw_canvas(r, cv);
  SDL_RenderPresent(r->ren);
  return 0;
}

void bf_display_text_ops(bf_display *r, int rich, bf_text_ops *ops) {
  int ow, oh;
  bf_display_output_size(r, &ow, &oh);
  int want_ttf = r->cfg.font == BF_FONT_SYSTEM || (r->cfg.font == BF_FONT_AUTO && rich);
  if (want_ttf && !r->ttf_tried) {
    r->ttf_tried = 1;
    r->fc_init = 1;
    if (!find_font(r->font_path, sizeof r->font_path)) {
      fprintf(stderr, "bildfunk: no system font found through fontconfig; "
                      "using the built-in font\n");
    } else if (TTF_Init() != 0) {
      fprintf(stderr, "bildfunk: SDL2_ttf: %s; using the built-in font\n", TTF_GetError());
    } else {
      r->ttf_init = 1;
    }
  }
  int px = oh >= 1000 ? 18 : oh >= 700 ? 15 : 12;
  if (want_ttf && r->ttf_init) {
    if (!r->ttf.font || r->ttf.px != px) {
      if (r->ttf.font) TTF_CloseFont(r->ttf.font);
      r->ttf.font = TTF_OpenFont(r->font_path, px);
      r->ttf.px = px;
      if (!r->ttf.font)
        fprintf(stderr, "bildfunk: cannot open %s: %s\n", r->font_path, TTF_GetError());
    }
    int adv = 0;
    if (r->ttf.font && TTF_GlyphMetrics(r->ttf.font, 'M', NULL, NULL, NULL, NULL, &adv) == 0) {
      ops->ctx = &r->ttf;
      ops->line_h = TTF_FontLineSkip(r->ttf.font);
      ops->char_w = adv;
      ops->draw = ttf_draw;
      return;
    }
  }
  /* the built-in 5x7 font grows with the window: 14 px tall on 1080 lines */
  bf_font_builtin_ops(oh >= 800 ? oh / 400 : 1, ops);
}
