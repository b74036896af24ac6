#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Soak test (issue #7), run by hand, not in CI: bildfunk-send -> netsim (2 %
# random loss toward the client) -> bildfunk at 1080p60 for 10 minutes.
# Samples the client's RSS (/proc/PID/status VmRSS) and the frames it has
# recorded every 5 s and its end-to-end latency per 30 s window (from
# --stats-json), then asserts both stay flat: the last RSS sample within
# 8 MiB of the one after a minute of warm-up, and the p95 end-to-end latency
# of the last window within 1.5x (+5 ms) of the first window after warm-up.
# The client keeps every frame's stage values for its exact session
# percentiles (6 stages x 4 bytes per frame, client/src/report/frame_stats.h), a growth
# by design; RSS minus that (the "rest"), where a leak would show up, must
# stay within 1 MiB of its value after warm-up.
#   tests/fire/soak.sh [BUILD_DIR] [SECONDS]   (defaults: build, 600)
# BF_SOAK_SIZE=WxH and BF_SOAK_FPS=N change the mode (default 1920x1080, 60).
# Exit 0 flat, 1 not flat or a process failed.
set -uo pipefail
# shellcheck source=tests/lib/procs.sh
. "$(dirname "$0")/../lib/procs.sh"
build=${1:-build}
secs=${2:-${BF_SOAK_SECONDS:-600}}
sender=${BF_SENDER:-$build/sender/bildfunk-send}
client=${BF_CLIENT:-$build/client/bildfunk}
netsim=${BF_NETSIM:-$build/netsim/bildfunk-netsim}
for b in "$sender" "$client" "$netsim"; do
  [ -x "$b" ] || { echo "soak: $b is not built"; exit 1; }
done
tmp=$(mktemp -d /tmp/bf-soak.XXXXXX)
pids=()
cleanup() {
  bf_kill_children TERM "${pids[@]}" # only our own (procs.sh)
  wait 2>/dev/null
  [ -n "${BF_SOAK_KEEP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "SOAK FAIL: $*"; exit 1; }

size=${BF_SOAK_SIZE:-1920x1080}
fps=${BF_SOAK_FPS:-60}
"$sender" --direct --listen 127.0.0.1:0 --size "$size" --fps "$fps" --duration "$secs" --quiet \
  --stats-json "$tmp/sender.json" 2> "$tmp/sender.err" &
pids+=($!)
port=
for _ in $(seq 200); do
  port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/sender.err")
  [ -n "$port" ] && break
  sleep 0.05
done
[ -n "$port" ] || fail "the sender did not start"
"$netsim" --to "127.0.0.1:$port" --listen 127.0.0.1:0 --quiet --seed 1 --dir down --loss 2 \
  --max-queue 16384 --stats-json "$tmp/netsim.json" > "$tmp/netsim.out" 2>&1 &
npid=$!
pids+=("$npid")
nport=
for _ in $(seq 100); do
  nport=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/netsim.out")
  [ -n "$nport" ] && break
  sleep 0.05
done
[ -n "$nport" ] || fail "netsim did not start"
"$client" --direct "127.0.0.1:$nport" --headless --stats-json "$tmp/c.json" 2> "$tmp/client.err" &
cpid=$!
pids+=("$cpid")
echo "soak: ${secs} s at ${size}@${fps}, 2 % loss; RSS every 5 s"
t0=$(date +%s)
while kill -0 "$cpid" 2>/dev/null; do
  rss=$(awk '/^VmRSS/ {print $2}' "/proc/$cpid/status" 2>/dev/null)
  # frames recorded so far (one JSON line each; stdio-buffered, a few behind)
  nfr=$(grep -c '"present_ns"' "$tmp/c.json" 2>/dev/null)
  [ -n "$rss" ] && echo "$(( $(date +%s) - t0 )) $rss ${nfr:-0}" >> "$tmp/rss"
  sleep 5
done
wait "$cpid"
rc=$?
kill "$npid" 2>/dev/null
wait "$npid" 2>/dev/null
[ "$rc" -eq 0 ] || { tail "$tmp/client.err"; fail "client exit $rc"; }
tail -n 3 "$tmp/client.err"

# RSS: first sample at or after 60 s (or a tenth of the run) vs the last
warm_t=$(( secs / 10 < 60 ? secs / 10 : 60 ))
warm=$(awk -v w="$warm_t" '$1 >= w { print $2; exit }' "$tmp/rss")
last=$(tail -n 1 "$tmp/rss" | awk '{print $2}')
[ -n "$warm" ] && [ -n "$last" ] || fail "no RSS samples"
echo "RSS: $warm KiB after warm-up, $last KiB at the end ($(wc -l < "$tmp/rss") samples)"
# the rest: RSS minus the session-percentile samples (24 bytes per frame)
awk '{ printf "%d s: RSS %d KiB, %d frames, rest %d KiB\n", $1, $2, $3, $2 - $3 * 24 / 1024 }' \
  "$tmp/rss" | awk -v w="$warm_t" '$1 + 0 >= w && (n++ % 12 == 0) { print "  " $0 } { l = $0 }
                                     END { print "  " l }'
rest_warm=$(awk -v w="$warm_t" '$1 >= w { printf "%d", $2 - $3 * 24 / 1024; exit }' "$tmp/rss")
rest_last=$(tail -n 1 "$tmp/rss" | awk '{ printf "%d", $2 - $3 * 24 / 1024 }')
echo "rest (RSS - 24 B x frames): $rest_warm KiB after warm-up, $rest_last KiB at the end"
echo "client's session_sample_bytes at the end: $(grep -o '"session_sample_bytes": [0-9]*' "$tmp/c.json" | awk '{print $2}')"
# latency: e2e_ms of presented frames by window of present time (30 s, or a
# fifth of a short run)
win=$(( secs / 5 < 30 ? (secs / 5 > 0 ? secs / 5 : 1) : 30 ))
grep -o '"present_ns": [1-9][0-9]*[^}]*"e2e_ms": [0-9.]*' "$tmp/c.json" |
  awk -v W="$win" '{ t = $2; e = $NF; if (!t0) t0 = t; printf "%d %s\n", (t - t0) / (W * 1e9), e }' > "$tmp/lat"
awk '{ print $1 }' "$tmp/lat" | sort -n | uniq > "$tmp/windows"
: > "$tmp/p95"
while read -r w; do
  awk -v w="$w" '$1 == w { print $2 }' "$tmp/lat" | sort -g |
    awk -v w="$w" '{ v[NR] = $1 } END { if (NR) printf "%d %d %.2f %.2f\n", w, NR, v[int((NR - 1) * 0.5) + 1], v[int((NR - 1) * 0.95) + 1] }' >> "$tmp/p95"
done < "$tmp/windows"
echo "window (${win} s each) frames p50 p95 (ms):"
cat "$tmp/p95"
nwin=$(wc -l < "$tmp/p95")
[ "$nwin" -ge 2 ] || fail "too few latency windows ($nwin)"
first=$(awk -v w="$warm_t" -v W="$win" '$1 * W >= w { print $4; exit }' "$tmp/p95")
lastp=$(awk 'NR > 0 { l = $4 } END { print l }' "$tmp/p95")
# the last window may be partial; use the one before it when there are enough
[ "$nwin" -ge 4 ] && lastp=$(tail -n 2 "$tmp/p95" | head -n 1 | awk '{print $4}')
echo "p95: ${first:-?} ms after warm-up, $lastp ms at the end"
awk -v a="$warm" -v b="$last" 'BEGIN { exit !(b - a <= 8192) }' || fail "RSS grew $warm -> $last KiB"
awk -v a="$rest_warm" -v b="$rest_last" 'BEGIN { exit !(b - a <= 1024) }' ||
  fail "RSS less the session samples grew $rest_warm -> $rest_last KiB"
[ -n "$first" ] || fail "no latency window after warm-up"
awk -v a="$first" -v b="$lastp" 'BEGIN { exit !(b <= a * 1.5 + 5) }' || fail "p95 latency rose $first -> $lastp ms"
echo "soak: RSS (less the session samples) and latency flat"
