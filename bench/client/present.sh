#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Windowed present of the real client under Xvfb (issue #16): a 1080p60
# H.264 clip streamed unchanged (file passthrough, paced at 60 fps) over
# loopback to bildfunk in a 1920x1080 window, with the renderer the client
# chose before issue #16 (SDL's first accelerated one: OpenGL, which under
# Xvfb is Mesa's llvmpipe on the CPU; forced with SDL_RENDER_DRIVER=opengl)
# and with the one it chooses now (SDL's software renderer where OpenGL is a
# CPU rasteriser), runs interleaved. Prints one JSON object: per renderer the
# median run's present stage p50/p95 (decoded -> SDL_RenderPresent returned),
# pictures shown per second, and the pictures replaced by a newer one before
# they were shown (the client shows the newest decoded picture, older ones
# are counted, not queued).
#
#   bench/client/present.sh [BUILD_DIR] [SECONDS] [RUNS]
#
# Needs Xvfb and ffmpeg (the clip is cached in $BF_BENCH_CACHE, default
# /tmp/bf-client-bench, shared with bench/client/bench.sh).
set -euo pipefail
build=${1:-build}
seconds=${2:-10}
runs=${3:-3}
client=$build/client/bildfunk
sender=$build/sender/bildfunk-send
for p in "$client" "$sender"; do
  [ -x "$p" ] || { echo "present.sh: build $p first" >&2; exit 2; }
done
command -v Xvfb > /dev/null || { echo "present.sh: needs Xvfb" >&2; exit 2; }
cache=${BF_BENCH_CACHE:-/tmp/bf-client-bench}
mkdir -p "$cache"
tmp=$(mktemp -d /tmp/bf-present-bench.XXXXXX)
xpid=
cleanup() {
  [ -n "$xpid" ] && kill "$xpid" 2> /dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
frames=$((seconds * 60))
clip=$(bash "$(dirname "$0")/clip.sh" "$cache" "$seconds")

# a display of its own
for n in $(seq 90 140); do
  [ -e "/tmp/.X11-unix/X$n" ] || [ -e "/tmp/.X$n-lock" ] && continue
  Xvfb ":$n" -screen 0 1920x1080x24 -nolisten tcp > "$tmp/xvfb.log" 2>&1 &
  xpid=$!
  for _ in $(seq 50); do
    [ -e "/tmp/.X11-unix/X$n" ] && break
    sleep 0.1
  done
  export DISPLAY=":$n"
  break
done
[ -n "$xpid" ] || { echo "present.sh: no free display" >&2; exit 1; }

run() { # run NAME [ENV=VALUE...]: one streaming run, stats in $tmp/NAME.json
  local name=$1
  shift
  : > "$tmp/$name.sender.err"
  "$sender" --direct --listen 127.0.0.1:0 --source "file:$clip" --no-loop --quiet \
    2> "$tmp/$name.sender.err" &
  local spid=$!
  timeout 10 sh -c 'until grep -q "listening on 127.0.0.1:" "$1"; do sleep 0.05; done' _ \
    "$tmp/$name.sender.err" || { cat "$tmp/$name.sender.err" >&2; exit 1; }
  local port
  port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/$name.sender.err")
  env "$@" "$client" --direct "127.0.0.1:$port" --size 1920x1080 --stats-json "$tmp/$name.json" \
    -q --skip-to-live off 2> "$tmp/$name.client.err" || true
  wait "$spid" || true
}

pct() { sort -g | awk -v p="$1" '{ a[NR] = $1 } END { if (!NR) { print "null"; exit }
  i = int(NR * p / 100); if (i < NR * p / 100) i++; if (i < 1) i = 1; printf "%.3f", a[i] }'; }
field() { grep '"outcome": "presented"' "$1" | grep -o "\"$2_ms\": [-0-9.]*" | awk '{ print $2 }'; }
summ() { grep -o "\"$2\": [-0-9.e+]*" "$1" | tail -n 1 | awk '{ print $2 }'; }

declare -A p50s
for r in $(seq "$runs"); do
  for mode in before after; do
    if [ "$mode" = before ]; then
      run "$mode$r" SDL_RENDER_DRIVER=opengl
    else
      run "$mode$r"
    fi
    p50s[$mode$r]=$(field "$tmp/$mode$r.json" present | pct 50)
  done
done

of_mode() { # of_mode MODE: JSON of its median run (by present p50)
  local best
  best=$(for r in $(seq "$runs"); do echo "${p50s[$1$r]} $1$r"; done | sort -g |
    sed -n "$(((runs + 1) / 2))p" | awk '{ print $2 }')
  local f=$tmp/$best.json
  local shown wall
  shown=$(summ "$f" frames_presented)
  wall=$(summ "$f" wall_s)
  printf '{"renderer": "%s", "present_ms": {"p50": %s, "p95": %s}, "frames_presented": %s, ' \
    "$(grep -o '"renderer": "[^"]*"' "$f" | tail -n 1 | sed 's/.*: "\(.*\)"/\1/')" \
    "$(field "$f" present | pct 50)" "$(field "$f" present | pct 95)" "$shown"
  printf '"fps_presented": %s, "replaced": %s, "frames_decoded": %s, "e2e_ms": {"p50": %s, "p95": %s}, ' \
    "$(awk -v n="$shown" -v w="$wall" 'BEGIN { printf "%.1f", (w > 0 ? n / w : 0) }')" \
    "$(summ "$f" replaced)" "$(summ "$f" frames_decoded)" \
    "$(field "$f" e2e | pct 50)" "$(field "$f" e2e | pct 95)"
  printf '"present_p50_ms_of_runs": [%s]}' \
    "$(for r in $(seq "$runs"); do echo "${p50s[$1$r]}"; done | paste -sd, -)"
}

model=$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1 | tr -d '"\\')
printf '{"benchmark": "present", "machine": {"cpu": "%s", "cores": %s, "kernel": "%s", "load1": %s}, ' \
  "$model" "$(nproc)" "$(uname -r)" "$(cut -d' ' -f1 /proc/loadavg)"
printf '"clip": {"codec": "h264", "size": "1920x1080", "fps": 60, "frames": %s}, "window": "1920x1080 on Xvfb", ' \
  "$frames"
printf '"runs": %s, "before": %s, "after": %s}\n' "$runs" "$(of_mode before)" "$(of_mode after)"
