# SPDX-License-Identifier: GPL-3.0-or-later
# Sourced by bench/loss_realcontent.sh and bench/encode_guard.sh: the
# real-content clip (issue #16), every pixel moving: ffmpeg's mandelbrot zoom
# plus temporal noise, 1920x1080 at 60 fps, H.264 (libx264 veryfast,
# zerolatency) at 20 Mbit/s with an IDR every 60 frames. Made once per frame
# count and cached under BF_CLIP_CACHE (/tmp/bf-realcontent); mandelbrot at
# 1080p is slow (about 3 frames/s on 2 busy cores).
#
#   bf_realcontent_clip FRAMES   prints the clip's path (makes it if needed)
bf_realcontent_clip() {
  local n=$1 cache=${BF_CLIP_CACHE:-/tmp/bf-realcontent}
  local clip=$cache/mandel-noise-1080p60-20M-$n.h264
  command -v ffmpeg >/dev/null || { echo "realcontent_clip: ffmpeg is not installed" >&2; return 1; }
  mkdir -p "$cache"
  if [ ! -s "$clip" ]; then
    echo "realcontent_clip: making $clip (once; minutes on 2 cores)" >&2
    ffmpeg -v error -y -f lavfi -i "mandelbrot=size=1920x1080:rate=60" \
      -vf "noise=alls=12:allf=t,format=yuv420p" -frames:v "$n" \
      -c:v libx264 -preset veryfast -tune zerolatency -b:v 20M -maxrate 20M -bufsize 667k \
      -g 60 -keyint_min 60 -sc_threshold 0 -f h264 "$clip.part" || return 1
    mv "$clip.part" "$clip"
  fi
  echo "$clip"
}
