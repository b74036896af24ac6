#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Impairment benchmark (issue #7): the real sender and client through
# bildfunk-netsim, one run per impairment profile (down direction, toward
# the client), adaptive FEC (--fec auto, the default). For each profile:
# end-to-end latency p50/p95 (capture -> on screen, the client's own figure
# through its clock offset), frames presented of frames sent, keyframe
# requests, the client's loss and netsim's drops. Prints one JSON object on
# stdout and a markdown table (for docs/benchmarks.md) on stderr.
#
#   bench/impairment.sh [BUILD_DIR] [FRAMES]   (defaults: build, 600)
#   BF_IMPAIR_ONLY=REGEX runs only the profiles whose name matches (the
#   clean run always, it measures the rate the rate-limit profile uses).
#
# The profiles named "control: ..." run the mode players use instead of
# --direct: a paired TLS control session with the sealed data plane through
# netsim (the client's --data-via). The script pairs once before them (it
# types both codes through FIFOs) and keeps one control port for all.
#
# Stream: testsrc 640x360 at 60 fps, H.264, 512-byte shards (many shards per
# frame, so loss lands inside FEC blocks), headless client with
# --skip-to-live off. Same seeds every run.
set -euo pipefail
build=${1:-build}
frames=${2:-600}
sender=${BF_SENDER:-$build/sender/bildfunk-send}
client=${BF_CLIENT:-$build/client/bildfunk}
netsim=${BF_NETSIM:-$build/netsim/bildfunk-netsim}
for b in "$sender" "$client" "$netsim"; do
  [ -x "$b" ] || { echo "impairment: $b is not built" >&2; exit 1; }
done
tmp=$(mktemp -d /tmp/bf-impair.XXXXXX)
cfg=$(mktemp -d /tmp/bf-impair-cfg.XXXXXX) # s/ and c/: the sender's and the client's config dirs
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp" "$cfg"; }
trap cleanup EXIT

profiles=(
  "clean|"
  "loss 1 %|--loss 1"
  "loss 5 %|--loss 5"
  "loss 10 %|--loss 10"
  "burst 3 % mean 20|--loss 3 --burst 20"
  "delay 30 ms jitter 30 ms reorder|--delay 30 --jitter 30 --reorder"
  "dup 2 %|--dup 2"
  "burst + jitter + reorder + dup|--loss 3 --burst 20 --delay 30 --jitter 30 --reorder --dup 2"
  "rate 20 % below the stream|--rate RATE --queue-ms 60"
  "control: loss 5 %|--loss 5"
  "control: burst + jitter + reorder + dup|--loss 3 --burst 20 --delay 30 --jitter 30 --reorder --dup 2"
)
cport= # the control port, fixed once paired (the client's pin is kept under HOST:PORT)
# start_sender ARGS...: sets spid and port (the data port), and cport in control mode
start_sender() {
  : > "$tmp/sender.err" # read at once below
  "$sender" "$@" --size 640x360 --fps 60 --shard 512 --quiet 2> "$tmp/sender.err" < "$tmp/op" &
  spid=$!
  pids+=("$spid")
  port=
  for _ in $(seq 200); do
    port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/sender.err")
    [ -n "$port" ] && break
    sleep 0.05
  done
  [ -n "$port" ] || { echo "impairment: the sender did not start: $(cat "$tmp/sender.err")" >&2; exit 1; }
  if [[ " $* " == *" --control "* ]]; then
    cport=$(sed -n 's/.*control on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/sender.err")
  fi
}
# pair: `bildfunk pair` with a sender of its own; the script types both codes
pair() {
  mkdir -p "$cfg/s" "$cfg/c"
  chmod 700 "$cfg/s" "$cfg/c"
  rm -f "$tmp/op" "$tmp/cin"
  mkfifo "$tmp/op" "$tmp/cin"
  exec 3<> "$tmp/op"
  start_sender --control 127.0.0.1:0 --listen 127.0.0.1:0 --config-dir "$cfg/s"
  "$client" pair "127.0.0.1:$cport" --config-dir "$cfg/c" --name bench < "$tmp/cin" 2> "$tmp/pair.err" &
  local cl=$! code= req=
  exec 4> "$tmp/cin"
  for _ in $(seq 200); do
    [ -n "$code" ] || code=$(sed -n 's/.*code \([0-9]\{6\}\).*/\1/p' "$tmp/pair.err" | head -n 1)
    req=$(grep "pairing request" "$tmp/sender.err" || true)
    [ -n "$code" ] && [ -n "$req" ] && break
    sleep 0.05
  done
  echo "$code" >&3
  sed -n 's/.*this sender.s code: \([0-9]\{6\}\).*/\1/p' <<< "$req" >&4
  wait "$cl" || { echo "impairment: pairing failed: $(cat "$tmp/pair.err")" >&2; exit 1; }
  exec 4>&-
  kill -INT "$spid"
  wait "$spid" 2>/dev/null || true
}
rate= # 80 % of the clean run's payload rate, measured below
jnum() { grep -o "\"$2\": [-0-9.e+]*" "$1" | tail -n 1 | awk '{print $2}'; }
jdir() { tr -d '\n' < "$1" | grep -o "\"$2\": {.*" | sed 's/"config": {[^}]*}//' |
  grep -o "\"$3\": [-0-9.e+]*" | head -n 1 | awk '{print $2}'; }
e2e() { grep -o '"e2e": {"n": [0-9]*, "p50": [0-9.]*, "p95": [0-9.]*' "$1" | awk -v k="$2" '{ print k == "p50" ? $(NF - 2) : $NF }' | tr -d ,; }

json_rows=()
table="| profile | frames presented | e2e p50 ms | e2e p95 ms | keyframe requests | client loss % | netsim dropped % |
|---|---|---|---|---|---|---|"
for p in "${profiles[@]}"; do
  name=${p%%|*}
  args=${p#*|}
  args=${args/RATE/$rate}
  if [ -n "${BF_IMPAIR_ONLY:-}" ] && [ "$name" != clean ] && ! [[ $name =~ $BF_IMPAIR_ONLY ]]; then
    continue
  fi
  control=
  [[ $name == control:* ]] && control=1
  [ -n "$control" ] && [ -z "$cport" ] && pair
  rm -f "$tmp"/*
  : > "$tmp/op" # the sender's stdin (a FIFO while pairing)
  if [ -n "$control" ]; then
    start_sender --control "127.0.0.1:$cport" --listen 127.0.0.1:0 --config-dir "$cfg/s" \
      --frames "$frames" --stats-json "$tmp/sender.json"
  else
    start_sender --direct --listen 127.0.0.1:0 --frames "$frames" --stats-json "$tmp/sender.json"
  fi
  # shellcheck disable=SC2086
  "$netsim" --to "127.0.0.1:$port" --listen 127.0.0.1:0 --quiet --seed 7 --max-queue 16384 \
    --stats-json "$tmp/netsim.json" --dir down $args > "$tmp/netsim.out" 2>&1 &
  npid=$!
  pids+=("$npid")
  nport=
  for _ in $(seq 100); do
    nport=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/netsim.out")
    [ -n "$nport" ] && break
    sleep 0.05
  done
  if [ -n "$control" ]; then
    "$client" "127.0.0.1:$cport" --config-dir "$cfg/c" --data-via "127.0.0.1:$nport" --headless \
      --skip-to-live off --timeout 5 --stats-json "$tmp/c.json" 2> "$tmp/client.err" || true
  else
    "$client" --direct "127.0.0.1:$nport" --headless --skip-to-live off --timeout 5 \
      --stats-json "$tmp/c.json" 2> "$tmp/client.err" || true
  fi
  for _ in $(seq 50); do kill -0 "$spid" 2>/dev/null || break; sleep 0.1; done
  kill "$spid" 2>/dev/null || true
  wait "$spid" 2>/dev/null || true
  kill -TERM "$npid" 2>/dev/null || true
  wait "$npid" 2>/dev/null || true
  sent=$(jnum "$tmp/sender.json" frames_sent)
  pics=$(jnum "$tmp/c.json" frames_presented)
  decoded=$(jnum "$tmp/c.json" pictures) # presented + replaced by a newer one before display
  p50=$(e2e "$tmp/c.json" p50)
  p95=$(e2e "$tmp/c.json" p95)
  kr=$(jnum "$tmp/c.json" keyframe_requests)
  closs=$(jnum "$tmp/c.json" loss_pct)
  inn=$(jdir "$tmp/netsim.json" down in_packets)
  dropped=$(jdir "$tmp/netsim.json" down dropped_total)
  dup=$(jdir "$tmp/netsim.json" down duplicated)
  if [ "$name" = clean ]; then # the stream's own rate: payload bytes over its duration
    rate=$(awk -v b="$(jdir "$tmp/netsim.json" down in_bytes)" -v f="$frames" \
      'BEGIN { printf "%.3f", 0.8 * b * 8 / (f / 60) / 1e6 }')
  fi
  nloss=$(awk -v d="${dropped:-0}" -v i="${inn:-0}" 'BEGIN { printf "%.2f", i ? 100 * d / i : 0 }')
  share=$(awk -v a="${pics:-0}" -v b="${sent:-0}" 'BEGIN { printf "%.1f", b ? 100 * a / b : 0 }')
  json_rows+=("{\"profile\": \"$name\", \"netsim\": \"--dir down $args\", \"frames_sent\": ${sent:-0}, \"frames_presented\": ${pics:-0}, \"frames_decoded\": ${decoded:-0}, \"presented_pct\": $share, \"e2e_p50_ms\": ${p50:-null}, \"e2e_p95_ms\": ${p95:-null}, \"keyframe_requests\": ${kr:-0}, \"client_loss_pct\": ${closs:-null}, \"netsim_in\": ${inn:-0}, \"netsim_dropped\": ${dropped:-0}, \"netsim_dropped_pct\": $nloss, \"netsim_duplicated\": ${dup:-0}}")
  table+="
| $name | ${pics:-0}/${sent:-0} ($share %) | ${p50:-–} | ${p95:-–} | ${kr:-0} | ${closs:-–} | $nloss |"
  echo "impairment: $name: $pics/$sent presented (${decoded:-0} decoded), e2e p50 $p50 p95 $p95 ms" >&2
done
cpu=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')
printf '{"benchmark": "impairment", "machine": {"cpu": "%s", "cores": %s, "kernel": "%s", "shared": true}, ' \
  "$cpu" "$(nproc)" "$(uname -r)"
printf '"stream": "testsrc 640x360 60 fps h264, 512-byte shards, fec auto, %s frames", "profiles": [' "$frames"
(IFS=,; printf '%s' "${json_rows[*]}")
printf ']}\n'
printf '\n%s\n' "$table" >&2
