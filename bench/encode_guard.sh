#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Encoder frame-rate guard (issue #16): 1080p60 real content (the clip of
# bench/loss_realcontent.sh: mandelbrot + temporal noise, made once and
# cached under /tmp) re-encoded live by bildfunk-send with libx264 at
# 20 Mbit/s and sent to a headless client over loopback, side by side:
# without --preset (the guard starts at veryfast and steps down while
# encode p95 stays above 16.7 ms) and with --preset veryfast pinned.
# For each: frames per second delivered (the sender's status lines, one a
# second: the mean over the stream and over its last three seconds; the
# client must decode all of them), encode p50/p95 (whole run and last three seconds), the
# guard's steps and final preset, the client's end-to-end p50. Prints one
# JSON object on stdout and a markdown table on stderr; the machine's load
# is in the JSON (the machine is shared: ratios count, absolute fps do not).
#
#   bench/encode_guard.sh [BUILD_DIR]      FRAMES=600 (default) frames per run
set -euo pipefail
build=${1:-build}
frames=${FRAMES:-600}
sender=${BF_SENDER:-$build/sender/bildfunk-send}
client=${BF_CLIENT:-$build/client/bildfunk}
for b in "$sender" "$client"; do
  [ -x "$b" ] || { echo "encode_guard: $b is not built" >&2; exit 1; }
done
# shellcheck source=common/realcontent_clip.sh
. "$(dirname "$0")/common/realcontent_clip.sh"
clip=$(bf_realcontent_clip "$frames")
tmp=$(mktemp -d /tmp/bf-encguard.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
jnum() { grep -o "\"$2\": [-0-9.e+]*" "$1" | tail -n 1 | awk '{print $2}'; }
jobj() { tr -d '\n' < "$1" | grep -o "\"$2\": {[^}]*}" | grep -o "\"$3\": [-0-9.e+]*" | head -n 1 | awk '{print $2}'; }

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
json_rows=()
table="| run | fps delivered (whole / last 3 s) | encode p50 / p95 ms (whole) | last 3 s p50 / p95 ms | preset at the end | guard steps | e2e p50 ms |
|---|---|---|---|---|---|---|"
for run in guard pinned; do
  rm -f "$tmp"/*
  extra=()
  [ "$run" = pinned ] && extra=(--preset veryfast)
  : > "$tmp/sender.err"
  "$sender" --direct --listen 127.0.0.1:0 --source "file:$clip" --encoder libx264 --bitrate 20M \
    --frames "$frames" "${extra[@]}" --stats-json "$tmp/sender.json" 2> "$tmp/sender.err" &
  spid=$!
  pids+=("$spid")
  port=
  for _ in $(seq 200); do
    port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/sender.err" | head -n 1)
    [ -n "$port" ] && break
    sleep 0.05
  done
  [ -n "$port" ] || { echo "encode_guard: the sender did not start: $(cat "$tmp/sender.err")" >&2; exit 1; }
  t0=$(date +%s.%N)
  "$client" --direct "127.0.0.1:$port" --headless --timeout 5 --stats-json "$tmp/c.json" \
    2> "$tmp/client.err" || true
  wait "$spid" 2>/dev/null || true
  t1=$(date +%s.%N)
  sent=$(jnum "$tmp/sender.json" frames_sent)
  pics=$(jnum "$tmp/c.json" pictures)
  p50=$(jobj "$tmp/sender.json" encode_ms p50)
  p95=$(jobj "$tmp/sender.json" encode_ms p95)
  preset=$(tr -d '\n' < "$tmp/sender.json" | grep -o '"encoder_guard": {[^}]*}' | grep -o '"preset": "[^"]*"' | cut -d'"' -f4)
  steps=$(grep -c "encoder guard:" "$tmp/sender.err" || true)
  e2e=$(grep -o '"e2e": {"n": [0-9]*, "p50": [0-9.]*' "$tmp/c.json" | awk '{print $NF}' | tr -d , || true)
  # the sender's status lines (one a second): the last three full ones
  last=$(grep -E '^bildfunk-send: +[0-9.]+ fps' "$tmp/sender.err" | tail -n 4 | head -n 3 |
    awk '{ f += $2; e50 += $8; e95 += $10; n++ } END { if (n) printf "%.1f %.1f %.1f", f / n, e50 / n, e95 / n; else print "0 0 0" }')
  read -r lfps l50 l95 <<< "$last"
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
  # the whole stream: the mean of every full status line (the first is partial)
  fps=$(grep -E '^bildfunk-send: +[0-9.]+ fps' "$tmp/sender.err" | tail -n +2 |
    awk '{ f += $2; n++ } END { printf "%.1f", (n ? f / n : 0) }')
  json_rows+=("{\"run\": \"$run\", \"args\": \"--encoder libx264 --bitrate 20M ${extra[*]}\", \"frames_sent\": ${sent:-0}, \"pictures_decoded\": ${pics:-0}, \"wall_seconds\": $secs, \"fps_delivered\": $fps, \"fps_last3s\": $lfps, \"encode_p50_ms\": ${p50:-null}, \"encode_p95_ms\": ${p95:-null}, \"encode_p50_last3s_ms\": $l50, \"encode_p95_last3s_ms\": $l95, \"preset_at_end\": \"${preset:-veryfast}\", \"guard_steps\": $steps, \"e2e_p50_ms\": ${e2e:-null}}")
  table+="
| $run | $fps / $lfps | ${p50:-–} / ${p95:-–} | $l50 / $l95 | ${preset:-veryfast} | $steps | ${e2e:-–} |"
  echo "encode_guard: $run: $fps fps delivered ($lfps last 3 s), encode p50 $p50 p95 $p95 ms, preset ${preset:-veryfast}" >&2
  grep "encoder guard:" "$tmp/sender.err" >&2 || true
done
cpu=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')
printf '{"benchmark": "encode_guard", "machine": {"cpu": "%s", "cores": %s, "kernel": "%s", "shared": true, "loadavg_before": "%s", "loadavg_after": "%s"}, ' \
  "$cpu" "$(nproc)" "$(uname -r)" "$load_before" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '"stream": "mandelbrot + temporal noise 1920x1080 60 fps, re-encoded live with libx264 at 20 Mbit/s, %s frames", "runs": [' "$frames"
(IFS=,; printf '%s' "${json_rows[*]}")
printf ']}\n'
printf '\n%s\n' "$table" >&2
