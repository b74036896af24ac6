#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The relayed data path's cost (issue #18): the real sender (testsrc 1080p60,
# 20 Mbit/s, sealed control session) and the headless client in two network
# namespaces with a third between them that routes and runs coturn:
#
#   client 10.79.1.2 -- 10.79.1.1 internet (turnserver) 10.79.2.1 -- 10.79.2.2 sender
#
# Each round runs the same stream twice, alternating: direct (the punch opens
# the path: nothing blocks it here) and relayed (--turn ... --relay always:
# sender -> relayed address -> coturn -> ChannelData -> client). Per mode the
# median over the rounds of
#   - the client's network and end-to-end latency p50/p95 (its stats JSON;
#     one clock on one machine, so the figures need no offset),
#   - the path RTT (the client's clock pings, which take the data path),
#   - CPU per second of stream: the client, the sender and turnserver
#     (utime + stime from /proc over the round),
# and relayed minus direct. Prints one JSON object on stdout.
# Needs root (namespaces), turnserver (coturn) and ip. About 2 minutes.
#
#   bench/relay.sh [BUILD_DIR]   (FRAMES=600 ROUNDS=3 per run by default)
set -euo pipefail
# shellcheck source=tests/lib/turn.sh
. "$(dirname "$0")/../tests/lib/turn.sh"
build=${1:-build}
send=${BF_SENDER:-$build/sender/bildfunk-send}
client=${BF_CLIENT:-$build/client/bildfunk}
frames=${FRAMES:-600} rounds=${ROUNDS:-3} size=${SIZE:-1920x1080} fps=${FPS:-60} rate=${RATE:-20M}
[ "$(id -u)" -eq 0 ] || { echo "relay: needs root (network namespaces)" >&2; exit 1; }
for t in ip turnserver; do command -v "$t" > /dev/null || { echo "relay: needs $t" >&2; exit 1; }; done
for b in "$send" "$client"; do [ -x "$b" ] || { echo "relay: $b is not built" >&2; exit 1; }; done

id=$$
C=bfrb-c-$id I=bfrb-i-$id S=bfrb-s-$id
tmp=$(mktemp -d /tmp/bf-relay-bench.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2> /dev/null || true; done
  wait 2> /dev/null || true
  for ns in "$C" "$I" "$S"; do ip netns del "$ns" 2> /dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
for ns in "$C" "$I" "$S"; do ip netns add "$ns" && ip -n "$ns" link set lo up; done
ip -n "$C" link add c0 type veth peer name i0 netns "$I"
ip -n "$S" link add s0 type veth peer name i1 netns "$I"
ip -n "$C" addr add 10.79.1.2/24 dev c0
ip -n "$I" addr add 10.79.1.1/24 dev i0
ip -n "$I" addr add 10.79.2.1/24 dev i1
ip -n "$S" addr add 10.79.2.2/24 dev s0
ip -n "$C" link set c0 up && ip -n "$I" link set i0 up && ip -n "$I" link set i1 up
ip -n "$S" link set s0 up
ip -n "$C" route add default via 10.79.1.1
ip -n "$S" route add default via 10.79.2.1
ip netns exec "$I" sysctl -qw net.ipv4.ip_forward=1

bf_turnserver "$I" 10.79.1.1 bildfunk.bench bench bench-pass "$tmp" ||
  { echo "relay: turnserver did not start" >&2; exit 1; }
turn_pid=$TURN_PID
pids+=("$turn_pid")

tick=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2> /dev/null || echo 0; }
stage() { grep -o "\"$2\": {\"n\": [0-9]*, \"p50\": [0-9.]*, \"p95\": [0-9.]*" "$1" | tail -n 1 |
  sed "s/.*\"$3\": \([0-9.]*\).*/\1/"; }
jnum() { grep -ao "\"$2\": [-0-9.e+]*" "$1" | tail -n 1 | awk '{print $2}'; }
path_num() { grep -o '"path": {[^}]*}' "$1" | grep -o "\"$2\": [0-9.]*" | awk '{print $2}'; }

mkdir -p "$tmp/s" "$tmp/c"
chmod 700 "$tmp/s" "$tmp/c"
mkfifo "$tmp/op"
exec 3<> "$tmp/op"
HOST=10.79.2.2:47999
start_sender() { # ARGS...
  : > "$tmp/send.err"
  ip netns exec "$S" "$send" --control 0.0.0.0:47999 --listen 0.0.0.0:47998 --config-dir "$tmp/s" \
    --size "$size" --fps "$fps" --bitrate "$rate" --quiet "$@" < "$tmp/op" 2> "$tmp/send.err" &
  sp=$!
  pids+=("$sp")
  for _ in $(seq 200); do
    ip netns exec "$S" ss -ltn 2> /dev/null | grep -q ":47999" && return 0
    sleep 0.05
  done
  echo "relay: the sender did not start: $(cat "$tmp/send.err")" >&2
  exit 1
}
# pair once, as a user would
start_sender
mkfifo "$tmp/cin"
ip netns exec "$C" "$client" pair "$HOST" --config-dir "$tmp/c" < "$tmp/cin" 2> "$tmp/pair.err" &
pp=$!
exec 4> "$tmp/cin"
for _ in $(seq 400); do
  code=$(sed -n 's/.*code \([0-9]\{6\}\) (type it on the sender).*/\1/p' "$tmp/pair.err")
  scode=$(sed -n "s/.*this sender's code: \([0-9]\{6\}\).*/\1/p" "$tmp/send.err")
  [ -n "$code" ] && [ -n "$scode" ] && break
  sleep 0.05
done
echo "$code" >&3
echo "$scode" >&4
wait "$pp" || { echo "relay: pairing failed: $(cat "$tmp/pair.err")" >&2; exit 1; }
kill -INT "$sp"
wait "$sp" 2> /dev/null || true

run() { # MODE ROUND
  local out="$tmp/$1.$2.json" extra=() t0 s0 c_s s1 t1 wall
  [ "$1" = relayed ] && extra=(--turn turn:10.79.1.1:3478 --turn-user bench --turn-pass bench-pass
    --relay always)
  start_sender --frames $((frames + 240))
  t0=$(cpu_ticks "$turn_pid")
  s0=$(cpu_ticks "$sp")
  local w0 w1
  w0=$(date +%s.%N)
  timeout 120 ip netns exec "$C" "$client" "$HOST" --config-dir "$tmp/c" --headless \
    --frames "$frames" --quiet --stats-json "$out" "${extra[@]}" 2> "$tmp/client.err" || true
  w1=$(date +%s.%N)
  s1=$(cpu_ticks "$sp")
  t1=$(cpu_ticks "$turn_pid")
  kill -INT "$sp" 2> /dev/null || true
  wait "$sp" 2> /dev/null || true
  local kind
  kind=$(grep -o '"path": {"kind": "[a-z]*"' "$out" | sed 's/.*"\([a-z]*\)"$/\1/')
  [ "$kind" = "$1" ] || { echo "relay: a $1 round went $kind: $(cat "$tmp/client.err")" >&2; exit 1; }
  wall=$(jnum "$out" wall_s)
  c_s=$(jnum "$out" cpu_s)
  for st in network e2e; do
    for k in p50 p95; do echo "$(stage "$out" $st $k)" >> "$tmp/$1.$st.$k"; done
  done
  path_num "$out" rtt_ms >> "$tmp/$1.rtt"
  jnum "$out" pictures >> "$tmp/$1.pictures"
  # CPU per second of stream, in per cent of one core
  awk -v c="$c_s" -v w="$wall" 'BEGIN { printf "%.3f\n", (w > 0 ? 100 * c / w : 0) }' >> "$tmp/$1.cpu_client"
  awk -v s="$((s1 - s0))" -v t="$tick" -v a="$w0" -v b="$w1" \
    'BEGIN { printf "%.3f\n", 100 * s / t / (b - a) }' >> "$tmp/$1.cpu_sender"
  awk -v d="$((t1 - t0))" -v t="$tick" -v a="$w0" -v b="$w1" \
    'BEGIN { printf "%.3f\n", 100 * d / t / (b - a) }' >> "$tmp/$1.cpu_turnserver"
  echo "relay: $1 round $2: $(tail -n 1 "$tmp/$1.pictures") pictures, e2e p50 $(tail -n 1 "$tmp/$1.e2e.p50") ms," \
    "rtt $(tail -n 1 "$tmp/$1.rtt") ms, turnserver $(tail -n 1 "$tmp/$1.cpu_turnserver") %" >&2
}
for r in $(seq "$rounds"); do
  run direct "$r"
  run relayed "$r"
done
med() { sort -g "$1" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
mode_json() {
  printf '{"pictures": %s, "network_p50_ms": %s, "network_p95_ms": %s, "e2e_p50_ms": %s, "e2e_p95_ms": %s, "path_rtt_ms": %s, "cpu_client_pct": %s, "cpu_sender_pct": %s, "cpu_turnserver_pct": %s}' \
    "$(paste -sd+ "$tmp/$1.pictures" | bc)" "$(med "$tmp/$1.network.p50")" "$(med "$tmp/$1.network.p95")" \
    "$(med "$tmp/$1.e2e.p50")" "$(med "$tmp/$1.e2e.p95")" "$(med "$tmp/$1.rtt")" \
    "$(med "$tmp/$1.cpu_client")" "$(med "$tmp/$1.cpu_sender")" "$(med "$tmp/$1.cpu_turnserver")"
}
d() { awk -v a="$(med "$tmp/relayed.$1")" -v b="$(med "$tmp/direct.$1")" 'BEGIN { printf "%.4f", a - b }'; }
cpu=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')
printf '{"benchmark": "relay", "machine": {"cpu": "%s", "cores": %s, "kernel": "%s", "shared": true},\n' \
  "$cpu" "$(nproc)" "$(uname -r)"
printf ' "stream": "testsrc %s at %s fps, %s, sealed control session, %s frames per run", "rounds": %s,\n' \
  "$size" "$fps" "$rate" "$frames" "$rounds"
printf ' "turnserver": "coturn %s",\n' "$(dpkg-query -W -f='${Version}' coturn 2> /dev/null || echo '?')"
printf ' "direct": %s,\n "relayed": %s,\n' "$(mode_json direct)" "$(mode_json relayed)"
printf ' "relayed_minus_direct": {"network_p50_ms": %s, "network_p95_ms": %s, "e2e_p50_ms": %s, "e2e_p95_ms": %s, "path_rtt_ms": %s, "cpu_client_pct": %s, "cpu_sender_pct": %s, "cpu_turnserver_pct": %s}}\n' \
  "$(d network.p50)" "$(d network.p95)" "$(d e2e.p50)" "$(d e2e.p95)" "$(d rtt)" "$(d cpu_client)" \
  "$(d cpu_sender)" "$(d cpu_turnserver)"
