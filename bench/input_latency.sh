#!/usr/bin/env bash
# Input-to-photon latency beside the picture's end-to-end latency, in one
# run, and what input costs the client's CPU (issue #13).
#
# bildfunk-send (testsrc, SIZE at FPS, libx264 veryfast) -> bildfunk in a
# window on an Xvfb display it starts, over loopback, on a paired, sealed
# control session. Two client sessions against the same sender:
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
#            1000 input events = (input CPU - mean idle CPU) / events x 1000,
#            against a second sender with a small stream (320x240 at 30 fps)
#            so the decoder's CPU does not drown the input path's.
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

n=$((100 + RANDOM % 800))
Xvfb ":$n" -screen 0 1920x1080x24 -nolisten tcp > /dev/null 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -e "/tmp/.X11-unix/X$n" ] && break; sleep 0.05; done
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
session() { # NAME: the client in a window, CLIENT_PID, WIN
  SDL_VIDEODRIVER=x11 "$client" "127.0.0.1:$ctl" --config-dir "$tmp/c" --size "$window" --quiet \
    --stats-json "$tmp/$1.json" 2> "$tmp/$1.err" &
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
# a small stream (320x240 at 30 fps), so the input path is not lost in the
# decoder's share of the CPU
kill -INT "$sp"
wait "$sp" 2> /dev/null || true
start_sender --size 320x240 --fps 30
session cpu
c0=$(cpu_s "$CLIENT_PID")
sleep "$idle"
c1=$(cpu_s "$CLIENT_PID")
args=()
moves=$((idle * 250))
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
mv_ev=$(jval "$cpuin" motions)
in_s=$(awk -v a="$c1" -v b="$c2" 'BEGIN { printf "%.3f", b - a }')
idle_s=$(awk -v a="$c0" -v b="$c1" -v c="$c2" -v d="$c3" 'BEGIN { printf "%.3f", ((b - a) + (d - c)) / 2 }')
dur=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
# idle CPU over the input phase's own duration
idle_scaled=$(awk -v i="$idle_s" -v s="$idle" -v d="$dur" 'BEGIN { printf "%.4f", i / s * d }')
per1000=$(awk -v a="$in_s" -v b="$idle_scaled" -v n="${mv_ev:-0}" 'BEGIN { if (n > 0) printf "%.4f", (a - b) / n * 1000; else print "null" }')
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
printf ' "client_cpu": {"idle_s_per_%ss": %s, "motion_s": %s, "motion_phase_s": %s, "motion_events": %s, "input_datagrams": %s, "cpu_ms_per_1000_events": %s},\n' \
  "$idle" "$idle_s" "$in_s" "$dur" "${mv_ev:-0}" "$(jval "$cpuin" datagrams)" \
  "$(awk -v v="$per1000" 'BEGIN { if (v == "null") print "null"; else printf "%.2f", v * 1000 }')"
printf ' "keys_sent": %s, "events_acked": %s, "resent": %s}\n' \
  "$(jval "$inp" keys)" "$(jval "$inp" acked)" "$(jval "$inp" resent)"
