#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Client benchmark (issue #5): what the client adds to the latency, its
# decode time against `ffmpeg -benchmark`, and the CPU of its transport and
# reassembly, at 1080p60 H.264 20 Mbit/s. Prints one JSON object.
#
#   bench/client/bench.sh [BUILD_DIR] [SECONDS]
#
# BUILD_DIR holds client/bildfunk and sender/bildfunk-send (default: build).
# Steps:
#  1. a 1080p60 H.264 clip at 20 Mbit/s CBR (ffmpeg testsrc2, libx264 veryfast
#     + zerolatency, as in the project's reference measurements), cached in
#     $BF_BENCH_CACHE (default /tmp/bf-client-bench);
#  2. `ffmpeg -benchmark` decodes it with the client's flags and threads
#     (-flags low_delay -thread_type slice -threads min(4, cores)), and so does
#     the client's own decoder module (bildfunk-client-bench), back to back and
#     paced at 60 fps;
#  3. bildfunk-send streams the clip unchanged (file passthrough, paced at
#     60 fps) over loopback to the client in a window on SDL's dummy video
#     driver, then to a headless client; each writes --stats-json.
# client-added latency per frame = (presented - last shard arrived) - decode
# = queue + present stages. With the dummy driver "present" includes SDL's
# software renderer converting YUV to RGB on the CPU (there is no GPU), so
# the JSON also gives the headless figure and the queue stage alone.
set -euo pipefail
build=${1:-build}
seconds=${2:-10}
client=$build/client/bildfunk
bench=$build/client/bildfunk-client-bench
sender=$build/sender/bildfunk-send
for p in "$client" "$bench" "$sender"; do
  [ -x "$p" ] || { echo "bench: build $p first" >&2; exit 2; }
done
cache=${BF_BENCH_CACHE:-/tmp/bf-client-bench}
mkdir -p "$cache"
tmp=$(mktemp -d /tmp/bf-client-bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
frames=$((seconds * 60))
cores=$(nproc)
threads=$((cores < 4 ? cores : 4))

clip=$cache/testsrc2-1080p60-20M-${seconds}s.h264
if [ ! -s "$clip" ]; then
  ffmpeg -hide_banner -loglevel error -y -f lavfi -i "testsrc2=s=1920x1080:r=60" \
    -frames:v "$frames" -c:v libx264 -preset veryfast -tune zerolatency -bf 0 -g 600 \
    -b:v 20M -minrate 20M -maxrate 20M -bufsize 333k -x264-params nal-hrd=cbr \
    -bsf:v h264_mp4toannexb -f h264 "$clip" >&2
fi
clip_mbps=$(awk -v b="$(stat -c %s "$clip")" -v s="$seconds" 'BEGIN { printf "%.2f", b * 8 / s / 1e6 }')

# 2. decode time: the client's decoder (bildfunk-client-bench, back to back)
# against ffmpeg -benchmark, same clip, flags and threads; runs interleaved
# because the machine is shared and its speed drifts
ff_ms=()
ours_ms=()
for _ in 1 2 3; do
  rt=$(ffmpeg -hide_banner -benchmark -flags low_delay -thread_type slice -threads "$threads" \
    -i "$clip" -f null - 2>&1 | sed -n 's/.*rtime=\([0-9.]*\)s.*/\1/p' | tail -n 1)
  ff_ms+=("$(awk -v r="$rt" -v n="$frames" 'BEGIN { printf "%.4f", r * 1000 / n }')")
  ours_ms+=("$("$bench" "$clip" --threads "$threads" --runs 1 2> /dev/null |
    sed -n 's/.*"median_mean_ms": \([0-9.]*\).*/\1/p')")
done
ff_median=$(printf '%s\n' "${ff_ms[@]}" | sort -n | sed -n 2p)
ours_median=$(printf '%s\n' "${ours_ms[@]}" | sort -n | sed -n 2p)
# ... and paced at 60 fps, as in a stream (the slice threads idle in between)
paced=$("$bench" "$clip" --threads "$threads" --runs 1 --pace 60 2> /dev/null |
  sed -n 's/.*"runs": \[{\([^}]*\)}.*/\1/p')

# 3. stream it to the client
run() { # run NAME CLIENT-ARGS...: one streaming run, stats in $tmp/NAME.json
  local name=$1
  shift
  : > "$tmp/$name.sender.err" # emptied before the poll below can read a stale port
  "$sender" --direct --listen 127.0.0.1:0 --source "file:$clip" --no-loop --quiet \
    2> "$tmp/$name.sender.err" &
  local spid=$! port=
  for _ in $(seq 200); do
    port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/$name.sender.err")
    [ -n "$port" ] && break
    sleep 0.05
  done
  [ -n "$port" ] || { cat "$tmp/$name.sender.err" >&2; exit 1; }
  "$client" --direct "127.0.0.1:$port" --stats-json "$tmp/$name.json" -q "$@"
  wait "$spid" || true
}
SDL_VIDEODRIVER=dummy run window
run headless --headless

# percentiles (nearest rank) of a column of numbers on stdin
pct() { sort -g | awk -v p="$1" '{ a[NR] = $1 } END { if (!NR) { print "null"; exit }
  i = int(NR * p / 100); if (i < NR * p / 100) i++; if (i < 1) i = 1; printf "%.4f", a[i] }'; }
mean() { awk '{ s += $1; n++ } END { printf "%.4f", n ? s / n : 0 }'; }
# per presented frame: queue + present (client-added), decode, queue
field() { grep '"outcome": "presented"' "$1" | grep -o "\"$2_ms\": [-0-9.]*" | awk '{ print $2 }'; }
added() { paste <(field "$1" queue) <(field "$1" present) | awk '{ print $1 + $2 }'; }
summ() { grep -o "\"$2\": [-0-9.e+]*" "$1" | tail -n 1 | awk '{ print $2 }'; }

stats_of() { # stats_of NAME: JSON members for one run
  local f=$tmp/$1.json
  printf '"frames_presented": %s, "frames_decoded": %s, ' "$(summ "$f" frames_presented)" \
    "$(summ "$f" frames_decoded)"
  printf '"client_added_ms": {"p50": %s, "p95": %s, "p99": %s}, ' "$(added "$f" | pct 50)" \
    "$(added "$f" | pct 95)" "$(added "$f" | pct 99)"
  printf '"queue_ms": {"p50": %s, "p95": %s}, ' "$(field "$f" queue | pct 50)" \
    "$(field "$f" queue | pct 95)"
  printf '"present_ms": {"p50": %s, "p95": %s}, ' "$(field "$f" present | pct 50)" \
    "$(field "$f" present | pct 95)"
  printf '"decode_ms": {"mean": %s, "p50": %s, "p95": %s}, ' "$(field "$f" decode | mean)" \
    "$(field "$f" decode | pct 50)" "$(field "$f" decode | pct 95)"
  printf '"e2e_ms": {"p50": %s, "p95": %s}, ' "$(field "$f" e2e | pct 50)" "$(field "$f" e2e | pct 95)"
  printf '"transport_reassembly_cpu_pct": %s, "process_cpu_pct": %s, "renderer": "%s"' \
    "$(summ "$f" net_cpu_pct)" "$(summ "$f" cpu_pct)" \
    "$(grep -o '"renderer": "[^"]*"' "$f" | tail -n 1 | sed 's/.*: "\(.*\)"/\1/')"
}

win_dec=$(field "$tmp/window.json" decode | mean)
model=$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1 | tr -d '"\\')
printf '{"benchmark": "client", "machine": {"cpu": "%s", "cores": %s, "kernel": "%s", "shared": true}, ' \
  "$model" "$cores" "$(uname -r)"
printf '"clip": {"codec": "h264", "size": "1920x1080", "fps": 60, "frames": %s, "mbit_s": %s}, ' \
  "$frames" "$clip_mbps"
printf '"decoder_threads": %s, ' "$threads"
printf '"ffmpeg_benchmark_ms_per_frame": {"median": %s, "runs": [%s]}, ' "$ff_median" \
  "$(IFS=,; echo "${ff_ms[*]}")"
printf '"client_decoder_ms_per_frame": {"median": %s, "runs": [%s]}, ' "$ours_median" \
  "$(IFS=,; echo "${ours_ms[*]}")"
printf '"decode_vs_ffmpeg_pct": %s, ' \
  "$(awk -v a="$ours_median" -v b="$ff_median" 'BEGIN { printf "%.1f", (a - b) * 100 / b }')"
printf '"client_decoder_paced_60fps": {%s}, ' "$paced"
printf '"streamed_decode_vs_ffmpeg_pct": %s, ' \
  "$(awk -v a="$win_dec" -v b="$ff_median" 'BEGIN { printf "%.1f", (a - b) * 100 / b }')"
printf '"window_dummy_driver": {%s}, ' "$(stats_of window)"
printf '"headless": {%s}}\n' "$(stats_of headless)"
