#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Loss on real content (issue #16): a generated clip with every pixel moving
# (ffmpeg's mandelbrot zoom + temporal noise, 1080p60, H.264 at 20 Mbit/s,
# an IDR every 60 frames; made once and cached under /tmp) passed through
# by bildfunk-send (--source file:) through bildfunk-netsim to a headless
# client, side by side for --fec auto (the block-loss model) and --fec 20,
# at 1 % random loss, 5 % random loss and 2 % in bursts of mean 5 (the same
# seed for both). For each run: frames shown bit-exact (the client's
# --framemd5 against ffmpeg's framemd5 of the sender's --dump-au, joined on
# pts), parity overhead (parity / data packets the sender packetized), the
# model's Gilbert estimate, keyframe requests, netsim's drops. Prints one
# JSON object on stdout and a markdown table on stderr.
#
#   bench/loss_realcontent.sh [BUILD_DIR]      FRAMES=600 (default) frames per run
#   BF_LOSS_ONLY=REGEX runs only the profiles whose name matches.
set -euo pipefail
build=${1:-build}
frames=${FRAMES:-600}
sender=${BF_SENDER:-$build/sender/bildfunk-send}
client=${BF_CLIENT:-$build/client/bildfunk}
netsim=${BF_NETSIM:-$build/netsim/bildfunk-netsim}
for b in "$sender" "$client" "$netsim"; do
  [ -x "$b" ] || { echo "loss_realcontent: $b is not built" >&2; exit 1; }
done
# shellcheck source=common/realcontent_clip.sh
. "$(dirname "$0")/common/realcontent_clip.sh"
clip=$(bf_realcontent_clip "$frames")
tmp=$(mktemp -d /tmp/bf-lossrc.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

profiles=("loss 1 %|--loss 1" "loss 5 %|--loss 5" "loss 2 % burst 5|--loss 2 --burst 5")
jnum() { grep -o "\"$2\": [-0-9.e+]*" "$1" | tail -n 1 | awk '{print $2}'; }
jdir() { tr -d '\n' < "$1" | grep -o "\"$2\": {.*" | grep -o "\"$3\": [-0-9.e+]*" | head -n 1 | awk '{print $2}'; }
listen_port() { # LOG: the port a program said it listens on
  local p=
  for _ in $(seq 200); do
    p=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$1" | head -n 1)
    [ -n "$p" ] && break
    sleep 0.05
  done
  echo "$p"
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
json_rows=()
table="| profile | fec | frames bit-exact | parity / data | Gilbert p, r (model) | keyframe requests | netsim dropped % |
|---|---|---|---|---|---|---|"
for p in "${profiles[@]}"; do
  name=${p%%|*}
  args=${p#*|}
  if [ -n "${BF_LOSS_ONLY:-}" ] && ! [[ $name =~ $BF_LOSS_ONLY ]]; then continue; fi
  for fec in auto 20; do
    rm -f "$tmp"/*
    : > "$tmp/sender.err"
    "$sender" --direct --listen 127.0.0.1:0 --source "file:$clip" --frames "$frames" --fec "$fec" \
      --dump-au "$tmp/sent.h264" --stats-json "$tmp/sender.json" 2> "$tmp/sender.err" &
    spid=$!
    pids+=("$spid")
    port=$(listen_port "$tmp/sender.err")
    [ -n "$port" ] || { echo "loss_realcontent: the sender did not start: $(cat "$tmp/sender.err")" >&2; exit 1; }
    # shellcheck disable=SC2086
    "$netsim" --to "127.0.0.1:$port" --listen 127.0.0.1:0 --quiet --seed 7 --max-queue 16384 \
      --stats-json "$tmp/netsim.json" --dir down $args > "$tmp/netsim.out" 2>&1 &
    npid=$!
    pids+=("$npid")
    nport=$(listen_port "$tmp/netsim.out")
    "$client" --direct "127.0.0.1:$nport" --headless --skip-to-live off --timeout 5 \
      --framemd5 "$tmp/recv.md5" --stats-json "$tmp/c.json" 2> "$tmp/client.err" || true
    for _ in $(seq 50); do kill -0 "$spid" 2>/dev/null || break; sleep 0.1; done
    kill "$spid" 2>/dev/null || true
    wait "$spid" 2>/dev/null || true
    kill -TERM "$npid" 2>/dev/null || true
    wait "$npid" 2>/dev/null || true
    ffmpeg -v error -i "$tmp/sent.h264" -f framemd5 "$tmp/ref.md5"
    sent=$(jnum "$tmp/sender.json" frames_sent)
    exact=$(awk -F', *' '!/^#/ { if (FNR == NR) ref[$3] = $6; else if ($3 in ref && ref[$3] == $6) n++ }
      END { print n + 0 }' "$tmp/ref.md5" "$tmp/recv.md5")
    data=$(jnum "$tmp/sender.json" data_packets)
    par=$(jnum "$tmp/sender.json" parity_packets)
    gp=null gr=null
    if [ "$fec" = auto ]; then # the model in use (--fec N does not use it)
      gp=$(jnum "$tmp/sender.json" p_gb)
      gr=$(jnum "$tmp/sender.json" p_bg)
    fi
    kr=$(jnum "$tmp/c.json" keyframe_requests)
    inn=$(jdir "$tmp/netsim.json" down in_packets)
    dropped=$(jdir "$tmp/netsim.json" down dropped_total)
    share=$(awk -v a="$exact" -v b="${sent:-0}" 'BEGIN { printf "%.1f", b ? 100 * a / b : 0 }')
    over=$(awk -v a="${par:-0}" -v b="${data:-0}" 'BEGIN { printf "%.1f", b ? 100 * a / b : 0 }')
    nloss=$(awk -v d="${dropped:-0}" -v i="${inn:-0}" 'BEGIN { printf "%.2f", i ? 100 * d / i : 0 }')
    json_rows+=("{\"profile\": \"$name\", \"netsim\": \"--dir down $args --seed 7\", \"fec\": \"$fec\", \"frames_sent\": ${sent:-0}, \"frames_bit_exact\": $exact, \"bit_exact_pct\": $share, \"data_packets\": ${data:-0}, \"parity_packets\": ${par:-0}, \"parity_overhead_pct\": $over, \"model_p_gb\": ${gp:-null}, \"model_p_bg\": ${gr:-null}, \"keyframe_requests\": ${kr:-0}, \"netsim_dropped_pct\": $nloss}")
    table+="
| $name | $fec | $exact/${sent:-0} ($share %) | $over % | ${gp/null/–}, ${gr/null/–} | ${kr:-0} | $nloss |"
    echo "loss_realcontent: $name --fec $fec: $exact/$sent bit-exact, parity $over %" >&2
  done
done
cpu=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')
printf '{"benchmark": "loss_realcontent", "machine": {"cpu": "%s", "cores": %s, "kernel": "%s", "shared": true, "loadavg_before": "%s", "loadavg_after": "%s"}, ' \
  "$cpu" "$(nproc)" "$(uname -r)" "$load_before" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '"stream": "mandelbrot + temporal noise 1920x1080 60 fps h264 20 Mbit/s, IDR every 60, passthrough, %s frames", "runs": [' "$frames"
(IFS=,; printf '%s' "${json_rows[*]}")
printf ']}\n'
printf '\n%s\n' "$table" >&2
