#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The client benchmarks' clip: 1080p60 H.264 CBR 20 Mbit/s from ffmpeg's
# testsrc2 (libx264 veryfast + zerolatency, as in the project's reference
# measurements), SECONDS long, made once and cached in CACHE_DIR. Prints its
# path. Used by bench/client/bench.sh and bench/client/present.sh.
#
#   bench/client/clip.sh CACHE_DIR SECONDS
set -euo pipefail
cache=${1:?usage: clip.sh CACHE_DIR SECONDS}
seconds=${2:?usage: clip.sh CACHE_DIR SECONDS}
mkdir -p "$cache"
clip=$cache/testsrc2-1080p60-20M-${seconds}s.h264
if [ ! -s "$clip" ]; then
  ffmpeg -hide_banner -loglevel error -y -f lavfi -i "testsrc2=s=1920x1080:r=60" \
    -frames:v "$((seconds * 60))" -c:v libx264 -preset veryfast -tune zerolatency -bf 0 -g 600 \
    -b:v 20M -minrate 20M -maxrate 20M -bufsize 333k -x264-params nal-hrd=cbr \
    -bsf:v h264_mp4toannexb -f h264 "$clip" >&2
fi
echo "$clip"
