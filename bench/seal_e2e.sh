#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# End-to-end latency with and without the sealed data plane, in one run:
# bildfunk-send (testsrc) -> bildfunk --headless over loopback, alternating
# clear rounds (--direct on both sides) and sealed rounds (the normal path:
# `bildfunk HOST` over a TLS control session, paired once before the first
# round, data plane sealed with the session's keys) so both see the same
# machine state. Prints one JSON object: per mode the median over rounds of the
# client's per-round p50/p95 of the "network" stage (send of the first shard
# -> AU complete: where sealing and opening cost) and of "e2e" (capture ->
# present), and their sealed - clear differences.
#   bench/seal_e2e.sh BUILD_DIR
# Env: SIZE (1920x1080), FPS (60), RATE (20M), FRAMES (300), ROUNDS (3).
set -euo pipefail
build=${1:?usage: seal_e2e.sh BUILD_DIR}
send=$build/sender/bildfunk-send
client=$build/client/bildfunk
size=${SIZE:-1920x1080} fps=${FPS:-60} rate=${RATE:-20M} frames=${FRAMES:-300} rounds=${ROUNDS:-3}
tmp=$(mktemp -d /tmp/bf-seal-bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# stage FILE NAME KEY: the client summary's stages_ms.NAME.KEY
stage() { grep -o "\"$2\": {\"n\": [0-9]*, \"p50\": [0-9.]*, \"p95\": [0-9.]*" "$1" | tail -n 1 |
  sed "s/.*\"$3\": \([0-9.]*\).*/\1/"; }

mkdir -p "$tmp/s" "$tmp/c"
chmod 700 "$tmp/s" "$tmp/c"
mkfifo "$tmp/op"
exec 3<> "$tmp/op" # the sender's stdin: the pairing code is typed here
ctl=0              # the control port, kept from the first sealed round on (the pin's name)

run() { # MODE ROUND
  local out="$tmp/$1.$2.json" sp port= code
  : > "$tmp/send.err" # emptied before the poll below can read the last run's port
  if [ "$1" = clear ]; then
    "$send" --direct --listen 127.0.0.1:0 --size "$size" --fps "$fps" --bitrate "$rate" \
      --frames $((frames + 120)) --quiet 2> "$tmp/send.err" &
  else
    "$send" --control "127.0.0.1:$ctl" --listen 127.0.0.1:0 --config-dir "$tmp/s" --size "$size" \
      --fps "$fps" --bitrate "$rate" --frames $((frames + 120)) --quiet < "$tmp/op" \
      2> "$tmp/send.err" &
  fi
  sp=$!
  for _ in $(seq 200); do
    port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/send.err")
    [ "$1" = sealed ] && port=$(sed -n 's/.*control on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/send.err")
    [ -n "$port" ] && break
    sleep 0.05
  done
  if [ "$1" = clear ]; then
    timeout 120 "$client" --direct "127.0.0.1:$port" --headless --frames "$frames" --quiet \
      --stats-json "$out" 2> "$tmp/client.err" || true
  else
    ctl=$port
    if [ ! -s "$tmp/c/senders" ]; then # pair once, as a user would
      mkfifo "$tmp/cin"
      timeout 60 "$client" pair "127.0.0.1:$ctl" --config-dir "$tmp/c" < "$tmp/cin" \
        2> "$tmp/pair.err" &
      local pp=$! scode
      exec 4> "$tmp/cin"
      for _ in $(seq 400); do
        code=$(sed -n 's/.*code \([0-9]\{6\}\) (type it on the sender).*/\1/p' "$tmp/pair.err")
        scode=$(sed -n "s/.*this sender's code: \([0-9]\{6\}\).*/\1/p" "$tmp/send.err")
        [ -n "$code" ] && [ -n "$scode" ] && break
        sleep 0.05
      done
      echo "$code" >&3
      echo "$scode" >&4
      wait "$pp" || { echo "seal_e2e: pairing failed: $(cat "$tmp/pair.err")" >&2; exit 1; }
    fi
    timeout 120 "$client" "127.0.0.1:$ctl" --config-dir "$tmp/c" --headless --frames "$frames" \
      --quiet --stats-json "$out" 2> "$tmp/client.err" || true
  fi
  kill -INT "$sp" 2> /dev/null || true
  wait "$sp" 2> /dev/null || true
  grep -q '"sealed_mode": 1' "$out" || [ "$1" = clear ] \
    || { echo "seal_e2e: a sealed round was not sealed" >&2; exit 1; }
  for st in network e2e; do
    for k in p50 p95; do echo "$(stage "$out" $st $k)" >> "$tmp/$1.$st.$k"; done
  done
  grep -o '"pictures": [0-9]*' "$out" | awk '{print $2}' >> "$tmp/$1.pictures"
}

for r in $(seq "$rounds"); do
  run clear "$r"
  run sealed "$r"
done
med() { sort -g "$1" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
mode_json() {
  printf '{"pictures": %s, "network_p50_ms": %s, "network_p95_ms": %s, "e2e_p50_ms": %s, "e2e_p95_ms": %s}' \
    "$(paste -sd+ "$tmp/$1.pictures" | bc)" "$(med "$tmp/$1.network.p50")" "$(med "$tmp/$1.network.p95")" \
    "$(med "$tmp/$1.e2e.p50")" "$(med "$tmp/$1.e2e.p95")"
}
d() { awk -v a="$(med "$tmp/sealed.$1")" -v b="$(med "$tmp/clear.$1")" 'BEGIN { printf "%.4f", a - b }'; }
printf '{"size": "%s", "fps": %s, "bitrate": "%s", "frames_per_round": %s, "rounds": %s,\n' \
  "$size" "$fps" "$rate" "$frames" "$rounds"
printf ' "clear": %s,\n "sealed": %s,\n' "$(mode_json clear)" "$(mode_json sealed)"
printf ' "sealed_minus_clear_ms": {"network_p50": %s, "network_p95": %s, "e2e_p50": %s, "e2e_p95": %s}}\n' \
  "$(d network.p50)" "$(d network.p95)" "$(d e2e.p50)" "$(d e2e.p95)"
