#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Transport throughput against iperf3 in the same run, over loopback.
# Runs `bildfunk-bench transport` in every mode (scalar, mmsg, gso, gro) and
# `iperf3 -u -b 0` (unpaced, same datagram size, client CPU 0, server CPU 1,
# like the bench's threads), iperf3 once before and once after the modes, and
# prints one JSON object: each mode's receiver goodput and its
# ratio_vs_iperf3 = mode goodput / mean iperf3 receiver goodput.
#   bench/transport_vs_iperf3.sh [--seconds N] [--size B] [--window N]
#                                [--bench PATH/TO/bildfunk-bench]
# --window N (default 0 = unpaced blast, the same load as iperf3 -b 0) keeps
# at most N datagrams in flight in our modes: the lossless rate.
# Needs iperf3 and jq. Loopback numbers: the sender's core also runs the
# kernel's receive path; on a shared machine expect +-20 % run to run.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=3
size=1200
window=0
bench=build/bench/bildfunk-bench
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --window) window=$2; shift 2 ;;
    --bench) bench=$2; shift 2 ;;
    *) echo "usage: $0 [--seconds N] [--size B] [--window N] [--bench PATH]" >&2; exit 2 ;;
  esac
done
for tool in iperf3 jq; do
  command -v "$tool" >/dev/null || { echo "transport_vs_iperf3: needs $tool" >&2; exit 1; }
done
[ -x "$bench" ] || { echo "transport_vs_iperf3: no $bench (scripts/build.sh first)" >&2; exit 1; }

tmp=$(mktemp -d)
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

run_iperf() { # $1 = output file; prints nothing
  local port=$((20000 + RANDOM % 20000))
  iperf3 -s -1 -p "$port" -A 1 >/dev/null 2>&1 &
  server=$!
  sleep 0.3
  iperf3 -c 127.0.0.1 -p "$port" -u -b 0 -l "$size" -t "$seconds" -A 0 -J >"$1"
  wait "$server" 2>/dev/null || true
  server=""
}

run_iperf "$tmp/iperf_before.json"
for mode in scalar mmsg gso gro; do
  "$bench" transport --mode "$mode" --size "$size" --seconds "$seconds" --window "$window" \
    >"$tmp/$mode.json"
done
run_iperf "$tmp/iperf_after.json"

jq -n --argjson size "$size" --argjson seconds "$seconds" --argjson window "$window" \
  --slurpfile ib "$tmp/iperf_before.json" --slurpfile ia "$tmp/iperf_after.json" \
  --slurpfile scalar "$tmp/scalar.json" --slurpfile mmsg "$tmp/mmsg.json" \
  --slurpfile gso "$tmp/gso.json" --slurpfile gro "$tmp/gro.json" '
  def ip(r): {gbps: (r.end.sum_received.bits_per_second / 1e9),
              pps: (r.end.sum_received.bytes / $size / r.end.sum_received.seconds),
              sent_gbps: (r.end.sum_sent.bits_per_second / 1e9),
              lost_percent: r.end.sum_received.lost_percent};
  (ip($ib[0])) as $b | (ip($ia[0])) as $a |
  (($b.gbps + $a.gbps) / 2) as $ig |
  {scalar: $scalar[0], mmsg: $mmsg[0], gso: $gso[0], gro: $gro[0]} as $m |
  {bench: "transport_vs_iperf3", size: $size, seconds: $seconds, window: $window,
   iperf3: {before: $b, after: $a, mean_gbps: $ig, mean_pps: ($ig * 1e9 / 8 / $size)},
   modes: ($m | map_values({pps, gbps, drop_rate, pkts_per_rx_call, pkts_per_tx_call,
                            gso_active, gro_active,
                            ratio_vs_iperf3: ((.gbps / $ig) * 100 | round / 100)})),
   ratio_vs_iperf3: ($m | map_values((.gbps / $ig) * 100 | round / 100)),
   machine: $scalar[0].machine}'
