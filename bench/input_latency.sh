#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Input-to-photon latency beside the picture's end-to-end latency, in one
# run, and what input costs the client's CPU (issue #13).
#
# bildfunk-send (testsrc, SIZE at FPS, libx264 veryfast) -> bildfunk in a
# window on an Xvfb display it starts, over loopback, on a paired, sealed
# control session. Client sessions:
#   latency  KEYS key taps typed into the window by xdotool at random
#            intervals (50..150 ms, so they fall anywhere in the frame
#            interval); the client's input_to_photon (press/release ->
#            the first presented picture whose stamp covers it) and, from the
#            same session, the picture's end-to-end latency (capture ->
#            present) and input_to_apply (client send -> the sender's loop
#            applies it: loopback plus the wait behind an encode in progress).
#   cpu      the client's CPU (/proc utime + stime) over IDLE seconds of
#            streaming without input, then over the same time with mouse
#            motion at ~250 events/s (xdotool), then idle again; CPU per
#            1000 input events = (motion CPU - idle CPU) / events x 1000,
#            against a second sender with a tiny stream (64x48 at 5 fps)
#            so the decoder's CPU does not drown the input path's; once with
#            --no-input (the window system, SDL and the loop taking the
#            events: what any client pays) and once forwarding them: the
#            difference is the input stage's own cost.
# The target (issue #13): input-to-photon p50 <= picture e2e p50 + one frame
# interval + 2 ms. Prints one JSON object.
#   bench/input_latency.sh BUILD_DIR
# Env: SIZE (1920x1080), FPS (60), KEYS (200), IDLE (8), WINDOW (960x540).
set -euo pipefail
build=${1:?usage: input_latency.sh BUILD_DIR}
send=$build/sender/bildfunk-send
client=$build/client/bildfunk
size=${SIZE:-1920x1080} fps=${FPS:-60} keys=${KEYS:-200} idle=${IDLE:-8} window=${WINDOW:-960x540}
for p in Xvfb xdotool; do command -v $p > /dev/null || { echo "input_latency: $p missing" >&2; exit 1; }; done
tmp=$(mktemp -d /tmp/bf-input-bench.XXXXXX)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2> /dev/null; done; sleep 0.3; rm -rf "$tmp"' EXIT

Xvfb -displayfd 7 -screen 0 1920x1080x24 -nolisten tcp 7> "$tmp/display" > /dev/null 2>&1 &
pids+=($!)
n=
for _ in $(seq 200); do
  n=$(head -n 1 "$tmp/display")
  [ -n "$n" ] && [ -e "/tmp/.X11-unix/X$n" ] && break
  sleep 0.05
done
[ -n "$n" ] || { echo "input_latency: Xvfb did not start" >&2; exit 1; }
export DISPLAY=":$n"
mkdir -p "$tmp/s" "$tmp/c"
chmod 700 "$tmp/s" "$tmp/c"
mkfifo "$tmp/op" "$tmp/cin"
exec 3<> "$tmp/op"

ctl=0
start_sender() { # ARGS...: SP; the control port stays the first one's (the pin's name)
  : > "$tmp/send.err"
  "$send" --control "127.0.0.1:$ctl" --listen 127.0.0.1:0 --config-dir "$tmp/s" --quiet "$@" \
    < "$tmp/op" 2> "$tmp/send.err" &
  sp=$!
  pids+=("$sp")
  local port=
  for _ in $(seq 200); do
    port=$(sed -n 's/.*control on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/send.err")
    [ -n "$port" ] && break
    sleep 0.05
  done
  [ -n "$port" ] || { echo "input_latency: the sender did not start" >&2; exit 1; }
  ctl=$port
}
start_sender --size "$size" --fps "$fps" --stats-json "$tmp/sender.json"
# pair, as a user would (both codes typed)
"$client" pair "127.0.0.1:$ctl" --config-dir "$tmp/c" < "$tmp/cin" 2> "$tmp/pair.err" &
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
wait "$pp" || { echo "input_latency: pairing failed: $(cat "$tmp/pair.err")" >&2; exit 1; }

cpu_s() { awk '{ printf "%.3f", ($14 + $15) / 100 }' "/proc/$1/stat"; }
session() { # NAME ARGS...: the client in a window, CLIENT_PID, WIN
  local name=$1
  shift
  SDL_VIDEODRIVER=x11 "$client" "127.0.0.1:$ctl" --config-dir "$tmp/c" --size "$window" --quiet \
    --stats-json "$tmp/$name.json" "$@" 2> "$tmp/$name.err" &
  CLIENT_PID=$!
  pids+=("$CLIENT_PID")
  WIN=
  for _ in $(seq 100); do
    WIN=$(xdotool search --onlyvisible --name '^bildfunk' 2> /dev/null | head -n 1 || true)
    [ -n "$WIN" ] && break
    sleep 0.1
  done
  [ -n "$WIN" ] || { echo "input_latency: no client window" >&2; exit 1; }
  sleep 3 # streaming, decoder warm
  xdotool windowfocus --sync "$WIN"
}
end_session() {
  kill -TERM "$CLIENT_PID"
  wait "$CLIENT_PID" 2> /dev/null || true
}

# --- latency: key taps at random intervals ---------------------------------------------
session latency
args=()
for i in $(seq "$keys"); do
  args+=(key a sleep "0.$(printf '%03d' $((50 + RANDOM % 101)))")
done
xdotool "${args[@]}"
sleep 1
end_session

# --- CPU: idle, mouse motion, idle -------------------------------------------------------
# a tiny stream (64x48 at 5 fps), so the input path is not lost in the
# decoder's share of the CPU; the same phases once with --no-input (SDL and
# the loop take the window's motion events, nothing is forwarded) and once
# forwarding, side by side
kill -INT "$sp"
wait "$sp" 2> /dev/null || true
start_sender --size 64x48 --fps 5
cpu_run() { # NAME ARGS...: CPU_PER1000 (ms of CPU per 1000 motion events), CPU_EVENTS
  session "$@"
  local c0 c1 c2 c3 t0 t1 args=() i
  c0=$(cpu_s "$CLIENT_PID")
  sleep "$idle"
  c1=$(cpu_s "$CLIENT_PID")
  for i in $(seq "$moves"); do
    args+=(mousemove --window "$WIN" $((100 + i % 400)) $((100 + (i / 400) % 300)) sleep 0.004)
  done
  t0=$(date +%s%N)
  xdotool "${args[@]}"
  t1=$(date +%s%N)
  c2=$(cpu_s "$CLIENT_PID")
  sleep "$idle"
  c3=$(cpu_s "$CLIENT_PID")
  end_session
  # the motion phase's CPU minus idle CPU over as long (the mean of both idle phases)
  CPU_PER1000=$(awk -v a="$c0" -v b="$c1" -v c="$c2" -v d="$c3" -v t0="$t0" -v t1="$t1" -v s="$idle" \
    -v n="$moves" 'BEGIN { idle = ((b - a) + (d - c)) / 2 / s; dur = (t1 - t0) / 1e9;
      printf "%.1f", ((c - b) - idle * dur) / n * 1e6 }')
}
moves=$((idle * 250))
cpu_run cpu_off --no-input
cpu_off=$CPU_PER1000
cpu_run cpu
cpu_on=$CPU_PER1000
kill -INT "$sp"
wait "$sp" 2> /dev/null || true

# --- the figures ----------------------------------------------------------------------------
jsec() { tr -d '\n' < "$1" | grep -o "\"$2\": {[^}]*}" | tail -n 1; }
jval() { grep -o "\"$2\": [-0-9.e+]*" <<< "$1" | head -n 1 | awk '{print $2}'; }
e2e_of() { tr -d '\n' < "$1" | grep -o '"e2e": {"n": [0-9]*, "p50": [0-9.]*, "p95": [0-9.]*, "p99": [0-9.]*' | tail -n 1; }
itp=$(jsec "$tmp/latency.json" input_to_photon)
e2e=$(e2e_of "$tmp/latency.json")
inp=$(jsec "$tmp/latency.json" input)
cpuin=$(jsec "$tmp/cpu.json" input)
interval=$(awk -v f="$fps" 'BEGIN { printf "%.3f", 1000 / f }')
p50=$(jval "$itp" p50_ms)
e2e50=$(jval "$e2e" p50)
target=$(awk -v e="$e2e50" -v i="$interval" 'BEGIN { printf "%.3f", e + i + 2 }')
met=$(awk -v p="$p50" -v t="$target" 'BEGIN { print (p <= t) ? "true" : "false" }')
enc=$(jsec "$tmp/sender.json" encode_ms)
cpu_model=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
printf '{"benchmark": "input_latency", "machine": {"cpu": "%s", "cores": %s, "kernel": "%s", "shared": true},\n' \
  "$cpu_model" "$(nproc)" "$(uname -r)"
printf ' "size": "%s", "fps": %s, "frame_interval_ms": %s, "window": "%s", "key_taps": %s,\n' \
  "$size" "$fps" "$interval" "$window" "$keys"
printf ' "input_to_photon_ms": {"samples": %s, "p50": %s, "p95": %s, "p99": %s, "max": %s},\n' \
  "$(jval "$itp" samples)" "$p50" "$(jval "$itp" p95_ms)" "$(jval "$itp" p99_ms)" "$(jval "$itp" max_ms)"
printf ' "picture_e2e_ms": {"frames": %s, "p50": %s, "p95": %s, "p99": %s},\n' \
  "$(jval "$e2e" n)" "$e2e50" "$(jval "$e2e" p95)" "$(jval "$e2e" p99)"
printf ' "target_p50_ms": %s, "target_met": %s,\n' "$target" "$met"
printf ' "input_to_apply_ms": {"samples": %s, "p50": %s, "p95": %s, "p99": %s, "max": %s},\n' \
  "$(jval "$itp" apply_samples)" "$(jval "$itp" apply_p50_ms)" "$(jval "$itp" apply_p95_ms)" \
  "$(jval "$itp" apply_p99_ms)" "$(jval "$itp" apply_max_ms)"
printf ' "sender_encode_ms": {"p50": %s, "p95": %s, "max": %s},\n' \
  "$(jval "$enc" p50)" "$(jval "$enc" p95)" "$(jval "$enc" max)"
printf ' "client_cpu_ms_per_1000_motion_events": {"forwarded": %s, "not_forwarded": %s, "forwarding": %s, "events": %s, "input_datagrams": %s},\n' \
  "$cpu_on" "$cpu_off" "$(awk -v a="$cpu_on" -v b="$cpu_off" 'BEGIN { printf "%.1f", a - b }')" \
  "$(jval "$cpuin" motions)" "$(jval "$cpuin" datagrams)"
printf ' "keys_sent": %s, "events_acked": %s, "resent": %s}\n' \
  "$(jval "$inp" keys)" "$(jval "$inp" acked)" "$(jval "$inp" resent)"
