#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Sound benchmark (issue #14): the real sender (test tone, small testsrc
# picture) and the headless client (SDL's disk driver as its device) over
# loopback, direct mode, through bildfunk-netsim where there is loss.
#   latency   capture -> handed to the device, p50/p95 (the client's own
#             figure through its clock offset), at 5 and 10 ms frames,
#             lossless and at 5 % random loss (Reed-Solomon 2+1, the default)
#   fec       frames concealed (not repaired) and frames rebuilt at 5 %
#             random loss and at 5 % bursty loss (Gilbert-Elliott, mean burst
#             3), for --audio-fec off, 2+1 and 4+2. Opus in-band FEC (LBRR) is
#             not a candidate: it exists only in SILK, which the restricted
#             low-delay application at 5 ms frames never uses (docs/protocol.md
#             8.2), so it is reported as not applicable, not measured.
#   cpu       CPU per second of sound: the sender's audio thread (bf-audio:
#             capture, Opus encode, RS, seal, send) and the client's device
#             thread (SDL's, SDLAudioP*: jitter buffer, Opus decode, resampling),
#             from /proc's per-thread counters, at 5 ms frames, lossless.
#   ab        with BF_AB_CLIENT=OTHER: the 5 ms lossless latency of this
#             client and of OTHER (another build's bildfunk), interleaved,
#             BF_AB_ROUNDS pairs (5): medians and every run, so a change's
#             effect shows in one run on a shared machine; BF_AB_ONLY=1
#             runs only this part; BF_AUDIO_PICTURE=WxH@FPS streams a larger
#             picture beside the sound (default 160x120@30), to see what the
#             picture's decode costs the sound
# Prints one JSON object on stdout. About 2 minutes (ab: 20 s a pair).
#
#   bench/audio.sh [BUILD_DIR] [SECONDS]   (defaults: build, 8 per run)
set -euo pipefail
build=${1:-build}
secs=${2:-8}
sender=${BF_SENDER:-$build/sender/bildfunk-send}
picture=${BF_AUDIO_PICTURE:-160x120@30}
pic_size=${picture%@*} pic_fps=${picture#*@}
client=${BF_CLIENT:-$build/client/bildfunk}
netsim=${BF_NETSIM:-$build/netsim/bildfunk-netsim}
for b in "$sender" "$client" "$netsim"; do
  [ -x "$b" ] || { echo "audio: $b is not built" >&2; exit 1; }
done
tmp=$(mktemp -d /tmp/bf-audio-bench.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2> /dev/null || true; done; wait 2> /dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
jnum() { grep -ao "\"$2\": [-0-9.e+]*" "$1" | tail -n 1 | awk '{print $2}'; }
tick=$(getconf CLK_TCK)

# thread_cpu PID PATTERN: utime + stime (ticks) of the PID's threads named PATTERN
thread_cpu() {
  local t sum=0 comm v
  for t in /proc/"$1"/task/*; do
    comm=$(cat "$t/comm" 2> /dev/null) || continue
    # shellcheck disable=SC2254 # PATTERN is a glob on purpose
    case "$comm" in $2) ;; *) continue ;; esac
    v=$(sed 's/.*) //' "$t/stat" 2> /dev/null | awk '{print $12 + $13}') # a thread may just end
    [ -n "$v" ] && sum=$((sum + v))
  done
  echo "$sum"
}
# watch_cpu PID PATTERN FILE: the last thread_cpu, every 0.2 s, into FILE
watch_cpu() {
  while kill -0 "$1" 2> /dev/null; do
    local v
    v=$(thread_cpu "$1" "$2")
    [ -n "$v" ] && [ "$v" -gt 0 ] && echo "$v" > "$3"
    sleep 0.2
  done
}

# run NAME FRAME_MS FEC NETSIM_ARGS: one session; its figures into $tmp/NAME.*
run() {
  local name=$1 frame=$2 fec=$3 ns=$4 port target
  "$sender" --direct --listen 127.0.0.1:0 --quiet --size "$pic_size" --fps "$pic_fps" --audio testsrc \
    --audio-frame "$frame" --audio-fec "$fec" 2> "$tmp/$name.serr" > /dev/null &
  local sp=$!
  pids+=("$sp")
  for _ in $(seq 100); do
    port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/$name.serr")
    [ -n "$port" ] && break
    sleep 0.05
  done
  [ -n "$port" ] || { echo "audio: the sender did not start" >&2; exit 1; }
  target=127.0.0.1:$port
  if [ -n "$ns" ]; then
    local np=$((20000 + RANDOM % 20000))
    # shellcheck disable=SC2086 # the impairment flags are words
    "$netsim" --to "$target" --listen "127.0.0.1:$np" --quiet --seed 5 --dir down $ns \
      > /dev/null 2> "$tmp/$name.nerr" &
    pids+=($!)
    target=127.0.0.1:$np
    sleep 0.3
  fi
  echo 0 > "$tmp/$name.scpu"
  echo 0 > "$tmp/$name.ccpu"
  watch_cpu "$sp" "bf-audio" "$tmp/$name.scpu" &
  SDL_AUDIODRIVER=disk SDL_DISKAUDIOFILE=/dev/null "${run_client:-$client}" --direct "$target" --headless \
    --duration "$secs" --stats-json "$tmp/$name.json" 2> "$tmp/$name.cerr" > /dev/null &
  local cp=$!
  watch_cpu "$cp" "SDLAudioP*" "$tmp/$name.ccpu" &
  local wp=$!
  wait "$cp" || { echo "audio: the client failed ($name)" >&2; tail -n 5 "$tmp/$name.cerr" >&2; exit 1; }
  wait "$wp" 2> /dev/null || true
  kill "${pids[@]}" 2> /dev/null || true
  wait 2> /dev/null || true
  pids=()
}

# lat NAME: {"p50_ms", "p95_ms", "frames", "concealed", "recovered"}
lat() {
  local j=$tmp/$1.json
  printf '{"p50_ms": %s, "p95_ms": %s, "decoded": %s, "concealed": %s, "recovered": %s}' \
    "$(jnum "$j" latency_p50_ms)" "$(jnum "$j" latency_p95_ms)" "$(jnum "$j" decoded)" \
    "$(jnum "$j" concealed)" "$(jnum "$j" recovered)"
}
# fec NAME: concealed and rebuilt, in % of the frames played
fec() {
  local j=$tmp/$1.json d c r
  d=$(jnum "$j" decoded)
  c=$(jnum "$j" concealed)
  r=$(jnum "$j" recovered)
  awk -v d="$d" -v c="$c" -v r="$r" 'BEGIN { n = d + c; if (n < 1) n = 1;
    printf "{\"concealed_pct\": %.2f, \"rebuilt_pct\": %.2f, \"frames\": %d}", 100 * c / n, 100 * r / n, n }'
}

cpu_model=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
machine=$(printf '{"cpu": "%s", "cores": %s, "kernel": "%s", "shared": true}' \
  "$cpu_model" "$(nproc)" "$(uname -r)")

# ab: this client against BF_AB_CLIENT, interleaved
median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
ab_json=""
if [ -n "${BF_AB_CLIENT:-}" ]; then
  [ -x "$BF_AB_CLIENT" ] || { echo "audio: BF_AB_CLIENT $BF_AB_CLIENT is not a program" >&2; exit 1; }
  rounds=${BF_AB_ROUNDS:-5}
  : > "$tmp/ab.this"
  : > "$tmp/ab.other"
  for i in $(seq "$rounds"); do
    for side in this other; do
      run_client=$client
      [ "$side" = other ] && run_client=$BF_AB_CLIENT
      run "ab_${side}_$i" 5 2+1 ""
      echo "$(jnum "$tmp/ab_${side}_$i.json" latency_p50_ms) $(jnum "$tmp/ab_${side}_$i.json" latency_p95_ms)" >> "$tmp/ab.$side"
    done
  done
  run_client=
  side_json() {
    printf '{"p50_ms_median": %s, "p95_ms_median": %s, "p95_ms_runs": [%s]}' \
      "$(awk '{print $1}' "$tmp/ab.$1" | median)" "$(awk '{print $2}' "$tmp/ab.$1" | median)" \
      "$(awk '{print $2}' "$tmp/ab.$1" | paste -sd, | sed 's/,/, /g')"
  }
  ab_json=$(printf '{"frame_ms": 5, "loss": "none", "rounds": %s, "this": %s, "other": %s, "other_client": "%s"}' \
    "$rounds" "$(side_json this)" "$(side_json other)" "$BF_AB_CLIENT")
  if [ "${BF_AB_ONLY:-0}" = 1 ]; then
    printf '{"benchmark": "audio", "machine": %s, "picture": "%s", "seconds_per_run": %s, "ab": %s}\n' \
      "$machine" "$picture" "$secs" "$ab_json"
    exit 0
  fi
fi

loss="--loss 5"
burst="--loss 5 --burst 3"
run l5 5 2+1 ""
run l5loss 5 2+1 "$loss"
run l10 10 2+1 ""
run l10loss 10 2+1 "$loss"
run r_off 5 off "$loss"
run r_41 5 4+2 "$loss"
run b_off 5 off "$burst"
run b_21 5 2+1 "$burst"
run b_42 5 4+2 "$burst"

played=$(awk -v d="$(jnum "$tmp/l5.json" decoded)" -v c="$(jnum "$tmp/l5.json" concealed)" \
  'BEGIN { printf "%.3f", (d + c) * 0.005 }')
cpu() { awk -v t="$(cat "$1")" -v k="$tick" -v s="$played" 'BEGIN { printf "%.2f", 1000 * t / k / s }'; }
printf '{"benchmark": "audio", "machine": %s, "picture": "%s",\n' "$machine" "$picture"
[ -n "$ab_json" ] && printf ' "ab": %s,\n' "$ab_json"
printf ' "seconds_per_run": %s, "opus": "48 kHz stereo, restricted low delay, CBR 128 kbit/s",\n' "$secs"
printf ' "latency": {"frame_5ms": {"lossless": %s, "loss_5pct": %s},\n' "$(lat l5)" "$(lat l5loss)"
printf '             "frame_10ms": {"lossless": %s, "loss_5pct": %s}},\n' "$(lat l10)" "$(lat l10loss)"
printf ' "fec_5ms_frames": {"random_5pct": {"off": %s, "rs_2+1": %s, "rs_4+2": %s, "opus_inband": "n/a (CELT-only mode)"},\n' \
  "$(fec r_off)" "$(fec l5loss)" "$(fec r_41)"
printf '                    "bursty_5pct_mean_burst_3": {"off": %s, "rs_2+1": %s, "rs_4+2": %s, "opus_inband": "n/a (CELT-only mode)"}},\n' \
  "$(fec b_off)" "$(fec b_21)" "$(fec b_42)"
printf ' "cpu_ms_per_s_of_sound": {"sender_audio_thread": %s, "client_device_thread": %s, "seconds_of_sound": %s}}\n' \
  "$(cpu "$tmp/l5.scpu")" "$(cpu "$tmp/l5.ccpu")" "$played"
