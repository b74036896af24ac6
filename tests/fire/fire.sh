#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# "Under fire" end-to-end tests (issue #7): bildfunk-send -> netsim or the
# flood relay -> bildfunk, real processes on loopback.
#   fire.sh CASE
# Binaries from the environment (tests/cmake/fire.cmake): BF_SENDER, BF_CLIENT,
# BF_NETSIM, BF_FLOOD. BF_FIRE_SHORT=1 (set for the ASan build) shortens the
# streams and lowers the flood rate. Exit 0 pass, 1 fail, 77 skip.
# Cases: loss1, loss5, loss10 (random loss toward the client, adaptive FEC:
# bit-exact share, keyframe recovery time), mixed (burst loss, jitter with
# reordering, duplication: the stream keeps going and the client's loss
# figure matches netsim's), ratelimit (a link 20 % below the stream's rate
# with a bounded queue: the sender's rate control keeps the stream going),
# jitter (30 ms jitter with reordering and 2 % duplication, no loss: bit-exact
# share, few keyframe requests, the client's reorder/duplicate counts vs
# netsim's, no loss reported and the sender's FEC floor not raised), flood (100 k bad datagrams/s into the client's port: pictures
# presented, memory flat). control_loss5, control_jitter: loss5 and jitter in
# the mode players use (a paired TLS control session, sealed data plane),
# netsim put between them with the client's --data-via.
# BF_E2E_KEEP=1 keeps the temporary directory.
set -uo pipefail
case_name=${1:?usage: fire.sh CASE}
source "$(dirname "$0")/../lib/e2e.sh" bf-fire
for v in BF_SENDER BF_CLIENT BF_NETSIM BF_FLOOD; do need "$v"; done
short=${BF_FIRE_SHORT:-}
# jdir FILE DIR KEY: KEY inside netsim's "up"/"down" object
jdir() { tr -d '\n' < "$1" | grep -o "\"$2\": {.*" | sed 's/"config": {[^}]*}//' |
  grep -o "\"$3\": [-0-9.e+]*" | head -n 1 | awk '{print $2}'; }

start_sender() { # ARGS...: SENDER_PORT, SENDER_PID
  : > "$tmp/sender.err" # emptied here, not in the child: the poll below must not read a stale port
  "$BF_SENDER" --direct --listen 127.0.0.1:0 "$@" 2> "$tmp/sender.err" > "$tmp/sender.out" &
  SENDER_PID=$!
  pids+=("$SENDER_PID")
  for _ in $(seq 200); do
    SENDER_PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/sender.err")
    [ -n "$SENDER_PORT" ] && return 0
    kill -0 "$SENDER_PID" 2>/dev/null || fail "the sender exited at start"
    sleep 0.05
  done
  fail "the sender did not start listening"
}
stop_pid() { # stop_pid PID SECONDS: waits, then TERM, then KILL
  for _ in $(seq $(($2 * 10))); do kill -0 "$1" 2>/dev/null || { wait "$1" 2>/dev/null; return 0; }; sleep 0.1; done
  kill "$1" 2>/dev/null; sleep 0.5; kill -9 "$1" 2>/dev/null; wait "$1" 2>/dev/null
}
start_netsim() { # ARGS...: impairments; NETSIM_PORT, NETSIM_PID
  : > "$tmp/netsim.out"; : > "$tmp/netsim.err" # (as in start_sender)
  "$BF_NETSIM" --to "127.0.0.1:$SENDER_PORT" --listen 127.0.0.1:0 --quiet --max-queue 16384 \
    --stats-json "$tmp/netsim.json" "$@" > "$tmp/netsim.out" 2> "$tmp/netsim.err" &
  NETSIM_PID=$!
  pids+=("$NETSIM_PID")
  for _ in $(seq 100); do
    NETSIM_PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/netsim.out" "$tmp/netsim.err" | head -n 1)
    [ -n "$NETSIM_PORT" ] && return 0
    sleep 0.05
  done
  fail "netsim did not start"
}
stop_netsim() {
  kill -TERM "$NETSIM_PID" 2>/dev/null
  wait "$NETSIM_PID" 2>/dev/null
  [ -s "$tmp/netsim.json" ] || fail "netsim wrote no statistics"
}
client() { # ARGS...: bildfunk in the foreground; CLIENT_RC
  "$BF_CLIENT" --headless --skip-to-live off --framemd5 "$tmp/c.md5" --stats-json "$tmp/c.json" \
    "$@" 2> "$tmp/client.err"
  CLIENT_RC=$?
}
# exact_share: pictures bit-exact vs the sender's dump -> EXACT REF WRONG
exact_share() {
  ffmpeg -hide_banner -loglevel error -i "$tmp/dump.h264" -f framemd5 - 2> /dev/null |
    grep -v '^#' > "$tmp/ref.lines" || fail "ffmpeg cannot read the dump"
  grep -v '^#' "$tmp/c.md5" > "$tmp/c.lines"
  REF=$(wc -l < "$tmp/ref.lines")
  EXACT=$(grep -cxFf "$tmp/ref.lines" "$tmp/c.lines")
  WRONG=$(grep -cvxFf "$tmp/ref.lines" "$tmp/c.lines")
}

# --- control mode (paired, sealed) through netsim -------------------------------
# The sender in its default control mode with config dir $tmp/s, the client
# with $tmp/c; they pair first (the test types both codes, as
# tests/security/pair.sh does) against a sender of their own, so the measured
# run's --frames and --dump-au hold the measured stream only; the measured
# sender takes the pairing one's control port (the client keeps its pin under
# HOST:PORT as typed). The client then
# runs `bildfunk 127.0.0.1:CPORT --data-via 127.0.0.1:NETSIM_PORT`: TLS goes
# straight to the sender, the sealed data plane through netsim, which
# forwards from 127.0.0.1 (the control peer's IP, so the sender admits it).
start_control_sender() { # ARGS...: SENDER_PORT (data), CPORT, SENDER_PID; stdin = FIFO on fd 3
  # (a --control in ARGS overrides the ephemeral one)
  rm -f "$tmp/op"
  mkfifo "$tmp/op"
  exec 3<> "$tmp/op"
  : > "$tmp/sender.err" # (as in start_sender)
  "$BF_SENDER" --control 127.0.0.1:0 --listen 127.0.0.1:0 --config-dir "$tmp/s" "$@" \
    < "$tmp/op" 2> "$tmp/sender.err" > "$tmp/sender.out" &
  SENDER_PID=$!
  pids+=("$SENDER_PID")
  for _ in $(seq 200); do
    CPORT=$(sed -n 's/.*control on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/sender.err" | head -n 1)
    SENDER_PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/sender.err" | head -n 1)
    [ -n "$CPORT" ] && [ -n "$SENDER_PORT" ] && return 0
    kill -0 "$SENDER_PID" 2>/dev/null || fail "the control-mode sender exited at start"
    sleep 0.05
  done
  fail "the sender did not start in control mode"
}
stop_control_sender() { # stop_control_sender SECONDS: waits for its end, then as stop_pid
  stop_pid "$SENDER_PID" "$1"
  exec 3>&-
}
# pair_control: `bildfunk pair` against a sender of its own; the test types
# the client's code into the sender and the sender's into the client
pair_control() {
  mkdir -p "$tmp/s" "$tmp/c"
  chmod 700 "$tmp/s" "$tmp/c"
  start_control_sender --size 320x240 --quiet
  rm -f "$tmp/cin"
  mkfifo "$tmp/cin"
  "$BF_CLIENT" pair "127.0.0.1:$CPORT" --config-dir "$tmp/c" --name fire-client \
    < "$tmp/cin" 2> "$tmp/pair.err" &
  local cl=$! code="" req="" scode
  pids+=("$cl")
  exec 5> "$tmp/cin"
  for _ in $(seq 200); do
    [ -z "$code" ] && code=$(sed -n 's/.*code \([0-9]\{6\}\).*/\1/p' "$tmp/pair.err" | head -n 1)
    req=$(grep "pairing request" "$tmp/sender.err" | head -n 1)
    [ -n "$code" ] && [ -n "$req" ] && break
    sleep 0.05
  done
  [ -n "$code" ] || fail "the client showed no pairing code"
  scode=$(sed -n 's/.*this sender.s code: \([0-9]\{6\}\).*/\1/p' <<< "$req")
  [ -n "$scode" ] || fail "the sender showed no pairing code"
  echo "$code" >&3
  (trap '' PIPE; echo "$scode" >&5) 2> /dev/null
  wait "$cl" || { exec 5>&-; fail "pairing failed: $(tail -n 3 "$tmp/pair.err")"; }
  exec 5>&-
  grep -q "paired with" "$tmp/pair.err" || fail "the client did not say it paired"
  kill -INT "$SENDER_PID"
  stop_control_sender 5
  mv "$tmp/sender.err" "$tmp/pair-sender.log" # not an *.err: fail() shows the measured run's
}
# control_client ARGS...: the paired client in control mode, data via netsim
control_client() {
  client "127.0.0.1:$CPORT" --config-dir "$tmp/c" --name fire-client \
    --data-via "127.0.0.1:$NETSIM_PORT" --report "$tmp/r.html" "$@"
}
# control_checks: the measured run was the sealed control session, through netsim
control_checks() {
  local sealed via mode opened bad up
  mode=$(grep -o '"control": {[^}]*}' "$tmp/c.json" | grep -o '"mode": "[a-z]*"' | awk -F'"' '{print $4}')
  sealed=$(grep -o '"control": {[^}]*}' "$tmp/c.json" | grep -o '"sealed": [0-9]*' | awk '{print $2}')
  via=$(jstr "$tmp/c.json" data_via)
  opened=$(grep -o '"seal": {[^}]*}' "$tmp/c.json" | grep -o '"opened": [0-9]*' | awk '{print $2}')
  bad=$(grep -o '"seal": {[^}]*}' "$tmp/c.json" | grep -o '"bad_tag": [0-9]*' | awk '{print $2}')
  up=$(jdir "$tmp/netsim.json" up in_packets)
  echo "measured: control session: mode $mode, sealed $sealed, data via $via;" \
    "$opened datagrams opened, $bad bad tags; netsim up in $up"
  [ "$mode" = control ] && [ "$sealed" = 1 ] || fail "not a sealed control session: $mode/$sealed"
  [ "$via" = "127.0.0.1:$NETSIM_PORT" ] || fail "data_via '$via', want 127.0.0.1:$NETSIM_PORT"
  [ "${opened:-0}" -ge 500 ] && [ "$bad" = 0 ] || fail "opened ${opened:-0}, bad tags $bad"
  [ "${up:-0}" -ge 1 ] || fail "nothing went up through netsim (the punch went elsewhere)"
  grep -q "sealed data for 127.0.0.1:$SENDER_PORT via the relay 127.0.0.1:$NETSIM_PORT" \
    "$tmp/client.err" || fail "the client's startup line does not name the relay"
  # the report names the sender and where its video came from, not the relay
  # (issue #17), and shows the FEC level the sender chose
  local fact
  for fact in "<th>sender</th><td>127.0.0.1:$CPORT</td>" \
    "<th>sender's address</th><td>127.0.0.1:$CPORT</td>" \
    "<th>video from</th><td>127.0.0.1:$SENDER_PORT</td>" \
    "<th>mode</th><td>control session, sealed, through the relay 127.0.0.1:$NETSIM_PORT</td>" \
    "<th>resolution</th><td>640x360</td>" "<th>frame rate (nominal)</th><td>60 fps</td>"; do
    grep -qF "$fact" "$tmp/r.html" || fail "the report lacks $fact"
  done
  grep -q '<polyline class="fec" fill="none" points="[0-9]' "$tmp/r.html" ||
    fail "the report has no FEC level"
}

# --- random loss with adaptive FEC -------------------------------------------
# 640x360 at 60 fps and 6 Mbit/s in 512-byte shards: ~25 shards a frame, so
# the loss hits data shards of multi-shard blocks; --fec auto (the default).
loss_case() { # PCT [control]
  # 99.5 % must be measurable: one unrecoverable block costs the picture and
  # the one or two until the keyframe arrives, so 360 frames would allow a
  # single such event (a coin toss at 5 % loss); 1200 frames allow about four.
  local pct=$1 mode=${2:-direct} frames=1200
  # short (sanitizer) runs keep 1200 frames where 99.5 % is asserted: 600
  # allow only three missing pictures, one unrepaired block's worth (the
  # ASan pass once saw 596/600 at 5 %)
  [ -n "$short" ] && [ "$pct" = 10 ] && frames=600
  local sargs=(--size 640x360 --fps 60 --bitrate 6M --shard 512 --frames "$frames"
    --dump-au "$tmp/dump.h264" --stats-json "$tmp/sender.json" --quiet)
  if [ "$mode" = control ]; then
    pair_control
    start_control_sender --control "127.0.0.1:$CPORT" "${sargs[@]}"
    start_netsim --seed 7 --dir down --loss "$pct"
    control_client
    stop_control_sender 5
  else
    start_sender "${sargs[@]}"
    start_netsim --seed 7 --dir down --loss "$pct"
    client --direct "127.0.0.1:$NETSIM_PORT"
    stop_pid "$SENDER_PID" 5
  fi
  stop_netsim
  [ "$CLIENT_RC" -eq 0 ] || fail "client exit $CLIENT_RC"
  exact_share
  [ "$WRONG" -eq 0 ] || fail "$WRONG pictures differ from the reference"
  local share dropped inn nloss loss fecmin fecmax kr
  share=$(awk -v e="$EXACT" -v r="$REF" 'BEGIN { printf "%.2f", 100 * e / r }')
  dropped=$(jdir "$tmp/netsim.json" down dropped_total)
  inn=$(jdir "$tmp/netsim.json" down in_packets)
  nloss=$(awk -v d="$dropped" -v i="$inn" 'BEGIN { printf "%.2f", i ? 100 * d / i : 0 }')
  loss=$(jnum "$tmp/c.json" loss_pct)
  kr=$(jnum "$tmp/c.json" keyframe_requests)
  fecmin=$(grep -o '"min_seen": [0-9]*' "$tmp/sender.json" | awk '{print $2}')
  fecmax=$(grep -o '"max_seen": [0-9]*' "$tmp/sender.json" | awk '{print $2}')
  echo "measured: $EXACT/$REF pictures bit-exact ($share %), netsim dropped $dropped of $inn" \
    "($nloss %), client loss $loss %, FEC $fecmin-$fecmax %, $kr keyframe requests"
  [ "${dropped:-0}" -ge 1 ] || fail "netsim dropped nothing"
  if [ "$mode" = control ]; then
    control_checks
    # the client's loss (stream_seq gaps) vs netsim's drops, as case_mixed
    fcmp "($loss - $nloss)" "<=" 2 && fcmp "($nloss - $loss)" "<=" 2 ||
      fail "client loss $loss % vs netsim's $nloss %"
  fi
  # random loss is FEC's job: the rate control ends where it started (at
  # 10 % a cut may stand when the windows' noise makes the loss look as if
  # it fell after it; reported, not asserted)
  local budget ceiling
  budget=$(grep -o '"budget_bps": [0-9]*' "$tmp/sender.json" | awk '{print $2}')
  ceiling=$(grep -o '"ceiling_bps": [0-9]*' "$tmp/sender.json" | awk '{print $2}')
  echo "measured: rate budget at the end $budget bit/s of $ceiling;" \
    "$(grep -o '"decreases": [0-9]*, "increases": [0-9]*' "$tmp/sender.json")," \
    "$(grep -o '"undone": [0-9]*' "$tmp/sender.json")"
  if [ "$pct" != 10 ]; then
    [ "$budget" = "$ceiling" ] || fail "$pct % random loss left the budget at $budget (ceiling $ceiling)"
    fcmp "$share" ">=" 99.5 || fail "only $share % of the pictures presented bit-exact at $pct % loss"
    ok "$pct % loss ($mode): $share % of pictures presented bit-exact, client loss $loss %" \
      "vs netsim $nloss %"
    return 0
  fi
  # 10 %: what FEC did not repair came back by keyframe, each recovery within
  # two frame intervals plus one round trip of its request — counted in
  # frames, not ms (a busy machine stretches the ms of decoding and
  # presenting, not the sender's frame count): the keyframe on screen is at
  # most 2 + RTT-in-frames frames after the newest frame the client had when
  # it asked. The ms are reported.
  local rtt fps bound n worst worst_ms
  rtt=$(jnum "$tmp/c.json" rtt_ms)
  fps=$(jnum "$tmp/c.json" fps)
  bound=$(awk -v f="$fps" -v r="$rtt" 'BEGIN { b = r * f / 1000; printf "%d", 2 + (b == int(b) ? b : int(b) + 1) }')
  grep -o '"recoveries": \[[^]]*' "$tmp/c.json" > "$tmp/rec.json"
  grep -o '"frames": [-0-9]*' "$tmp/rec.json" | awk '{print $2}' > "$tmp/rec.frames"
  grep -o '"ms": [0-9.]*' "$tmp/rec.json" | awk '{print $2}' > "$tmp/rec.ms"
  n=$(wc -l < "$tmp/rec.frames")
  worst=$(sort -g "$tmp/rec.frames" | tail -n 1)
  worst_ms=$(sort -g "$tmp/rec.ms" | tail -n 1)
  echo "measured: $n recoveries, worst ${worst:-none} frames (bound $bound), ${worst_ms:-none} ms;" \
    "all (frames): $(tr '\n' ' ' < "$tmp/rec.frames")"
  if [ "$EXACT" -lt "$REF" ]; then
    [ "$n" -ge 1 ] || fail "pictures missing but no recovery recorded"
  fi
  # A keyframe can itself be lost (at 10 % loss a keyframe of ~20 shards
  # sometimes loses more than its parity): the sender answers each request
  # id once, so the client asks again with a new id as soon as the
  # reassembler gives that keyframe up (its short block, or at worst the
  # 120 ms age rule), within the gate's 100 ms throttle between new ids
  # (decode_gate.h) -- no longer after the 500 ms give-up of the old id.
  # Such a recovery spans two request ids; there are as many of them as
  # request ids beyond one per recovery. They get those 220 ms on top of the
  # bound; every other recovery keeps the bound.
  local extra=$(( ${kr:-0} - n )) again slow=0
  [ "$extra" -ge 0 ] || extra=0
  again=$(awk -v f="$fps" 'BEGIN { b = 0.22 * f; printf "%d", (b == int(b) ? b : int(b) + 1) }')
  sort -g -r "$tmp/rec.frames" > "$tmp/rec.sorted"
  local i=0 fr
  while read -r fr; do
    i=$((i + 1))
    if [ "$i" -le "$extra" ]; then
      [ "$fr" -le $((bound + again)) ] ||
        fail "a recovery whose keyframe was lost took $fr frames (bound $bound + $again to ask again)"
      [ "$fr" -gt "$bound" ] && slow=$((slow + 1))
    else
      [ "$fr" -le "$bound" ] ||
        fail "a recovery took $fr frames (bound $bound: 2 frames + the RTT of ${rtt} ms)"
    fi
  done < "$tmp/rec.sorted"
  fcmp "$share" ">=" 90 || fail "only $share % presented at 10 % loss"
  ok "10 % loss: $share % bit-exact, $n keyframe recoveries within $bound frames" \
    "($slow after a lost keyframe, within $((bound + again))); worst ${worst_ms:-0} ms"
}

# --- the mixed bad network ---------------------------------------------------
case_mixed() { # [NETSIM ARGS...]: more impairments
  local secs=6
  [ -n "$short" ] && secs=4
  # 640x360 60 fps: the test pattern comes out near 1.9 Mbit/s on the wire (headers
  # included); the link is 1.5 Mbit/s (20 % below) with 60 ms
  # of buffer; burst loss 3 % with mean bursts of 20 packets; 30 ms jitter
  # with reordering; 2 % duplication
  start_sender --size 640x360 --fps 60 --bitrate 5M --shard 1024 --duration "$secs" \
    --stats-json "$tmp/sender.json" --quiet
  start_netsim --seed 3 --dir down --loss 3 --burst 20 --delay 30 --jitter 30 --reorder --dup 2 "$@"
  # the sender's BYE crosses this network too: when a burst or the full
  # queue takes all its copies, the client ends at --duration (2 s past the
  # stream) instead of by its 5 s silence timeout, which exits 1
  client --direct "127.0.0.1:$NETSIM_PORT" --timeout 5 --duration $((secs + 2))
  stop_pid "$SENDER_PID" 5
  stop_netsim
  [ "$CLIENT_RC" -eq 0 ] || fail "client exit $CLIENT_RC"
  local pics sent inn out dup dropped nloss closs reord
  pics=$(jnum "$tmp/c.json" pictures)
  sent=$(jnum "$tmp/sender.json" frames_sent)
  inn=$(jdir "$tmp/netsim.json" down in_packets)
  out=$(jdir "$tmp/netsim.json" down sent_packets)
  dup=$(jdir "$tmp/netsim.json" down duplicated)
  dropped=$(jdir "$tmp/netsim.json" down dropped_total)
  reord=$(jdir "$tmp/netsim.json" down reordered)
  nloss=$(awk -v d="$dropped" -v i="$inn" 'BEGIN { printf "%.2f", 100 * d / i }')
  closs=$(jnum "$tmp/c.json" loss_pct)
  echo "measured: $pics pictures of $sent frames sent; netsim down in $inn, sent $out, dropped $dropped" \
    "($nloss %), duplicated $dup, reordered $reord; client loss $closs %"
  # reordered AUs are held for the earlier ones (about 87 % decoded here; it
  # was 30 % when each one was a gap); what is missing is burst loss and the
  # keyframe waits after it
  [ "$pics" -ge $((sent * 60 / 100)) ] || fail "only $pics of $sent frames presented"
  [ "$dup" -ge 1 ] && [ "$reord" -ge 1 ] && [ "$dropped" -ge 1 ] || fail "netsim did not impair"
  # the client's loss (by stream_seq over the whole run) vs netsim's drops:
  # within 2 points, duplicates not counted as received twice
  fcmp "($closs - $nloss)" "<=" 2 && fcmp "($nloss - $closs)" "<=" 2 ||
    fail "client loss $closs % vs netsim's $nloss %"
  # presented pictures throughout: some in the last quarter of the run
  # pictures throughout the run: they span most of it, and no gap between
  # two presented pictures is longer than 1.5 s
  local span gap
  grep -o '"present_ns": [1-9][0-9]*' "$tmp/c.json" | awk '{print $2}' | sort -n > "$tmp/present"
  span=$(awk 'NR == 1 { f = $1 } { l = $1 } END { printf "%.2f", (l - f) / 1e9 }' "$tmp/present")
  gap=$(awk 'NR > 1 && $1 - p > g { g = $1 - p } { p = $1 } END { printf "%.3f", g / 1e9 }' "$tmp/present")
  echo "measured: presented pictures span $span s of a $secs s stream, longest gap $gap s"
  fcmp "$span" ">=" "$secs * 0.75" || fail "pictures stopped early (span $span s)"
  fcmp "$gap" "<=" 1.5 || fail "no picture for $gap s"
  ok "bad network: $pics/$sent pictures, client loss $closs % vs netsim $nloss %, $dup duplicates"
}

# --- reordering --------------------------------------------------------------
# 30 ms +- 30 ms of independent jitter: datagrams up to ~60 ms apart swap
# places, so whole AUs complete out of order; 2 % duplicates; no loss. The
# client must hold an AU that overtook an earlier one until that one
# completes (decode_gate.h) instead of freezing until a keyframe.
case_jitter() { # [control]
  local frames=600 mode=${1:-direct}
  [ -n "$short" ] && frames=300
  local sargs=(--size 640x360 --fps 60 --bitrate 4M --shard 1024 --frames "$frames"
    --dump-au "$tmp/dump.h264" --stats-json "$tmp/sender.json" --quiet)
  if [ "$mode" = control ]; then
    pair_control
    start_control_sender --control "127.0.0.1:$CPORT" "${sargs[@]}"
    start_netsim --seed 11 --dir down --delay 30 --jitter 30 --reorder --dup 2
    control_client --timeout 5
    stop_control_sender 5
  else
    start_sender "${sargs[@]}"
    start_netsim --seed 11 --dir down --delay 30 --jitter 30 --reorder --dup 2
    client --direct "127.0.0.1:$NETSIM_PORT" --timeout 5
    stop_pid "$SENDER_PID" 5
  fi
  stop_netsim
  [ "$CLIENT_RC" -eq 0 ] || fail "client exit $CLIENT_RC"
  exact_share
  local share kr nreord nreordv ndup ndupv creord cdup late allow holds expired gaps closs cexp fec floor lossy burns
  share=$(awk -v e="$EXACT" -v r="$REF" 'BEGIN { printf "%.2f", 100 * e / r }')
  closs=$(jnum "$tmp/c.json" loss_pct)
  cexp=$(jnum "$tmp/c.json" packets_expected)
  fec=$(grep -o '"fec": {[^}]*}' "$tmp/sender.json")
  floor=$(grep -o '"floor": [0-9]*' <<< "$fec" | awk '{print $2}')
  lossy=$(grep -o '"lossy": [0-9]*' <<< "$fec" | awk '{print $2}')
  burns=$(grep -o '"burns": [0-9]*' <<< "$fec" | awk '{print $2}')
  kr=$(jnum "$tmp/c.json" keyframe_requests)
  gaps=$(jnum "$tmp/c.json" gaps)
  nreord=$(jdir "$tmp/netsim.json" down reordered)
  # the client counts video datagrams; netsim's reordered_video counts the
  # video-sized ones (>= 552 bytes), not the sender's FRAME_INFO and pongs
  nreordv=$(jdir "$tmp/netsim.json" down reordered_video)
  ndup=$(jdir "$tmp/netsim.json" down duplicated)
  # ... and of those copies the video-sized ones: the sound's datagrams
  # (0xA0, 300 a second with its FEC) are duplicated too, and the tracker
  # counts only video
  ndupv=$(jdir "$tmp/netsim.json" down duplicated_video)
  creord=$(jnum "$tmp/c.json" reordered_datagrams)
  cdup=$(jnum "$tmp/c.json" duplicate_datagrams)
  late=$(jnum "$tmp/c.json" reorder_late_max_ms)
  allow=$(jnum "$tmp/c.json" reorder_allowance_ms)
  holds=$(jnum "$tmp/c.json" holds)
  expired=$(jnum "$tmp/c.json" holds_expired)
  echo "measured: $EXACT/$REF pictures bit-exact ($share %), $WRONG wrong, $kr keyframe requests," \
    "$gaps gaps; $holds AUs held for an earlier one ($expired ran out), latest reordered" \
    "datagram $late ms, allowance $allow ms; reordered: netsim $nreord ($nreordv of video" \
    "size), client $creord;" \
    "duplicated: netsim $ndup ($ndupv of video size), client $cdup"
  echo "measured: client loss $closs % of $cexp datagrams; sender FEC: $fec"
  [ "${nreord:-0}" -ge 100 ] && [ "${ndup:-0}" -ge 10 ] || fail "netsim did not reorder/duplicate"
  [ "$mode" = control ] && control_checks
  [ "$WRONG" -eq 0 ] || fail "$WRONG pictures differ from the reference"
  fcmp "$share" ">=" 99 || fail "only $share % of the pictures decoded bit-exact"
  # nothing is lost, so none is needed; a client starved of CPU (a loaded
  # machine) can see a datagram later than the 100 ms the gate waits at most
  [ "$kr" -le 2 ] || fail "$kr keyframe requests on a network that loses nothing"
  [ "$holds" -ge 1 ] || fail "no AU was held: the stream was not reordered across AUs"
  # the client sees only video datagrams, netsim counts the sender's clock
  # pongs, BYEs and FRAME_INFOs (one per AU) too: reordering is compared with
  # netsim's count of video-sized datagrams; duplicates of the small ones
  # (2 % of a few per second, and of one per AU) are what the slack is for
  local slack=$((frames / 60 * 4 + 10)) rdup=0
  if [ "$mode" = control ]; then
    # sealed: the opener's replay window drops a copy before the order
    # tracker sees it, so it counts it (seal.replay_dup) instead of the
    # tracker, and a late copy is not counted as reordered; netsim counts
    # it in both. Every copy is a sealed video datagram: exact.
    rdup=$(grep -o '"seal": {[^}]*}' "$tmp/c.json" | grep -o '"replay_dup": [0-9]*' | awk '{print $2}')
    echo "measured: sealed copies dropped by the replay window $rdup, by the tracker $cdup"
    [ $((cdup + rdup)) -eq "$ndup" ] || fail "client dropped $rdup + $cdup copies, netsim made $ndup"
    # the Bye on the control connection (TCP, not delayed) overtakes the last
    # datagrams in netsim; the client still takes them (streaming.c,
    # BF_CLIENT_BYE_GRACE_NS): the last picture is presented
    grep -qxF "$(tail -n 1 "$tmp/ref.lines")" "$tmp/c.lines" ||
      fail "the last picture is missing: the control session's Bye cut off the data in flight"
  fi
  if [ "$mode" = control ]; then # every sealed copy, sound's too, meets the replay window
    [ $((cdup + rdup)) -le "$ndup" ] && [ $((cdup + rdup)) -ge $((ndup - slack)) ] ||
      fail "client counted $cdup duplicates, netsim made $ndup"
  else
    [ "$cdup" -le "$ndupv" ] && [ "$cdup" -ge $((ndupv - slack)) ] ||
      fail "client counted $cdup duplicates, netsim made $ndupv of video size ($ndup in all)"
  fi
  [ "$creord" -le $((nreordv + slack)) ] && [ $((creord + rdup)) -ge $((nreordv - slack)) ] ||
    fail "client counted $creord reordered datagrams, netsim $nreordv of video size (slack $slack)"
  # nothing is lost, so the loss reports say so: datagrams reordered across a
  # window's end count in their own window (docs/protocol.md 9.2). Bound:
  # below 0.05 % of the ~1850 datagrams, i.e. not one counted as lost; so no
  # report was lossy and the sender's FEC floor stayed at its minimum (1 %)
  [ "${cexp:-0}" -ge 500 ] || fail "the client accounted only ${cexp:-0} datagrams"
  fcmp "$closs" "<" 0.05 || fail "the client reported $closs % loss on a network that loses nothing"
  # A datagram later than the settle bound (at most 250 ms; a busy machine
  # delayed one in netsim or the client by 188 ms) is counted lost in the
  # report of its window, which had to go out; the session's total takes it
  # back (above). Only such stragglers may make a report lossy: each lossy
  # report needs one, and without them the floor stays at its minimum.
  local straggle
  straggle=$(jnum "$tmp/c.json" late_after_window)
  if [ "$lossy" != 0 ] || [ "$burns" != 0 ] || [ "$floor" != 1 ]; then
    [ "${straggle:-0}" -ge "$lossy" ] && [ "${straggle:-0}" -ge 1 ] ||
      fail "the sender's FEC floor rose on a network that loses nothing: $fec (stragglers beyond the bound: ${straggle:-0})"
    echo "note: $straggle datagrams came later than the client's settle bound (latest $late ms):" \
      "$lossy loss reports counted them lost"
  fi
  ok "jitter+reorder+dup ($mode): $share % bit-exact, $kr keyframe requests, $holds holds;" \
    "reordered $creord vs $nreord, duplicates $cdup vs $ndup; loss $closs %, FEC floor $floor %"
}

# --- a link slower than the stream ----------------------------------------------
# The issue's words: the stream keeps going and its statistics match what
# netsim reports it did. The picture source is a noisy clip (made here with
# ffmpeg) re-encoded at 2 Mbit/s, so the encoder really uses its rate:
# unlimited, the stream puts 3.0 Mbit/s of UDP payload through netsim
# (measured: ~1.6 Mbit/s of video in pictures of 2-3 shards, each block
# with at least 2 parity shards, and headers). The link carries 2.4 Mbit/s
# of UDP payload, 20 % less, behind a 60 ms tail-drop queue; 1 % random loss
# (FEC's job: it must not bring the rate down), 20 ms delay and 2 %
# duplication on top. Jitter with reordering is left to the mixed case
# (issue #7's open defect 1 costs most pictures there whatever the rate does).
case_ratelimit() {
  local secs=6 link=2.4 fps=60
  ffmpeg -hide_banner -loglevel error -f lavfi -i "testsrc2=size=640x360:rate=$fps" \
    -vf "noise=alls=10:allf=t" -t $((secs + 1)) -c:v libx264 -preset ultrafast -qp 30 \
    -pix_fmt yuv420p "$tmp/noise.mkv" || fail "ffmpeg cannot make the noisy clip"
  start_sender --source "file:$tmp/noise.mkv" --encoder libx264 --bitrate 2M --shard 1024 \
    --duration "$secs" --stats-json "$tmp/sender.json" --quiet
  start_netsim --seed 3 --dir down --loss 1 --delay 20 --dup 2 --rate "$link" --queue-ms 60
  client --direct "127.0.0.1:$NETSIM_PORT" --timeout 5
  stop_pid "$SENDER_PID" 5
  stop_netsim
  [ "$CLIENT_RC" -eq 0 ] || fail "client exit $CLIENT_RC"
  local pics sent inn dropped qdrop nloss closs kr budget bmin dec link_wire last want late
  pics=$(jnum "$tmp/c.json" pictures)
  sent=$(jnum "$tmp/sender.json" frames_sent)
  late=$(jnum "$tmp/sender.json" frames_late)
  kr=$(jnum "$tmp/c.json" keyframe_requests)
  inn=$(jdir "$tmp/netsim.json" down in_packets)
  dropped=$(jdir "$tmp/netsim.json" down dropped_total)
  qdrop=$(jdir "$tmp/netsim.json" down dropped_queue)
  nloss=$(awk -v d="$dropped" -v i="$inn" 'BEGIN { printf "%.2f", 100 * d / i }')
  closs=$(jnum "$tmp/c.json" loss_pct)
  budget=$(grep -o '"budget_bps": [0-9]*' "$tmp/sender.json" | awk '{print $2}')
  bmin=$(grep -o '"rate": {[^}]*' "$tmp/sender.json" | grep -o '"min_bps": [0-9]*' | awk '{print $2}')
  dec=$(grep -o '"decreases": [0-9]*' "$tmp/sender.json" | awk '{print $2}')
  # the budget counts IP/UDP and bildfunk headers, netsim's rate UDP payload:
  # the link in the budget's units is link x (1024 + 40 + 28) / (1024 + 40)
  link_wire=$(awk -v l="$link" 'BEGIN { printf "%.0f", l * 1e6 * 1092 / 1064 }')
  # pictures presented of the last third of the frames sent, by frame_index
  # from the first AU the client completed (the keyframe the stream starts
  # with). By index, not by time: the first picture comes a queue's delay
  # after the start, so a time window of a third of the run from it reached
  # past the end of the stream (97 of 338 counted with every picture shown)
  grep -o '"frame_index": [0-9]*[^}]*"present_ns": [0-9]*' "$tmp/c.json" |
    awk '{ print $2 + 0, $NF }' > "$tmp/present"
  local from=$(( (2 * sent + 2) / 3 )) # the last third: indices from .. sent - 1
  last=$(awk -v from="$from" -v n="$sent" 'NR == 1 { b = $1 }
    { d = ($1 - b + 4294967296) % 4294967296; if ($2 > 0 && d >= from && d < n) c++ }
    END { print c + 0 }' "$tmp/present")
  # 90 % of them (a loaded machine may fall behind 60 fps decoding and
  # encoding the clip: frames_late; sent counts what the sender achieved)
  want=$(awk -v n="$sent" -v f="$from" 'BEGIN { printf "%.1f", 0.9 * (n - f) }')
  echo "measured: $pics pictures of $sent frames sent ($late late), $last in the last third" \
    "(want >= $want), $kr keyframe requests; netsim down in $inn, dropped $dropped" \
    "($nloss %, $qdrop by the queue); client loss $closs %"
  echo "measured: budget trajectory (Mbit/s): $(sed -n 's/.*rate \([0-9.]*\) -> \([0-9.]*\) Mbit.*/\1->\2/p' \
    "$tmp/sender.err" | tr '\n' ' ')"
  echo "measured: budget now $budget, lowest $bmin bit/s, $dec decreases; link $link_wire bit/s"
  [ "${dec:-0}" -ge 1 ] || fail "the sender never lowered its budget"
  [ "$budget" -lt "$link_wire" ] || fail "the budget ends at $budget bit/s, above the link ($link_wire)"
  fcmp "$last" ">=" "$want" ||
    fail "only $last pictures of the last third of the frames shown (want >= $want: 90 % of frames $from..$((sent - 1)))"
  # the client's loss (stream_seq gaps over the whole run, duplicates not
  # counted twice) vs netsim's drops (random and queue): within 2 points
  fcmp "($closs - $nloss)" "<=" 2 && fcmp "($nloss - $closs)" "<=" 2 ||
    fail "client loss $closs % vs netsim's $nloss %"
  ok "rate limit: $last pictures in the last third (>= $want), budget $budget < link" \
    "$link_wire bit/s, client loss $closs % vs netsim $nloss %"
}

# --- flood --------------------------------------------------------------------
case_flood() {
  local frames=360 pps=100000
  [ -n "$short" ] && { frames=240; pps=20000; }
  start_sender --size 320x240 --fps 60 --frames "$frames" --dump-au "$tmp/dump.h264" --quiet
  "$BF_FLOOD" --to "127.0.0.1:$SENDER_PORT" --port-file "$tmp/flood.port" --pps "$pps" --via both \
    > "$tmp/flood.out" 2> "$tmp/flood.err" &
  local fpid=$!
  pids+=("$fpid")
  for _ in $(seq 100); do [ -s "$tmp/flood.port" ] && break; sleep 0.05; done
  # Under ASan freed blocks wait in its quarantines (256 MiB, and 1 MiB per
  # thread) before they are reused, so the RSS of a client that frees as
  # much as it allocates grows by itself (38 -> 45 MiB in one CI run, every
  # picture bit-exact). Without them memory is reused as in the normal build
  # and the same 4 MiB bound tells a leak (LSan still checks at exit); the
  # options mean nothing to a normal build.
  ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0:thread_local_quarantine_size_kb=0" \
    "$BF_CLIENT" --headless --skip-to-live off --framemd5 "$tmp/c.md5" --stats-json "$tmp/c.json" \
    --direct "127.0.0.1:$(cat "$tmp/flood.port")" 2> "$tmp/client.err" &
  local cpid=$!
  pids+=("$cpid")
  : > "$tmp/rss"
  # sampled while the stream runs: not at the exit, where LeakSanitizer's
  # own scan (ASan build) added 19 MiB to the last sample
  # and only once the client opened its sound device (at the first sound
  # datagram, about a second in; ALSA's configuration alone is ~5 MiB), so
  # the warm-up sample below comes after every one-off cost of the start
  while kill -0 "$cpid" 2>/dev/null && ! grep -q "ended the stream" "$tmp/client.err"; do
    grep -q "bildfunk: sound: \|playing without sound\|sends no sound" "$tmp/client.err" &&
      awk '/^VmRSS/ {print $2}' "/proc/$cpid/status" >> "$tmp/rss" 2>/dev/null
    sleep 0.25
  done
  wait "$cpid"
  CLIENT_RC=$?
  stop_pid "$SENDER_PID" 5
  kill -TERM "$fpid"; wait "$fpid" 2>/dev/null
  [ "$CLIENT_RC" -eq 0 ] || fail "client exit $CLIENT_RC"
  exact_share
  local share rel forn garbage warm last cpu
  share=$(awk -v e="$EXACT" -v r="$REF" 'BEGIN { printf "%.2f", 100 * e / r }')
  rel=$(grep -o '"flood_relay": [0-9]*' "$tmp/flood.out" | awk '{print $2}')
  forn=$(grep -o '"flood_foreign": [0-9]*' "$tmp/flood.out" | awk '{print $2}')
  fpps=$(grep -o '"flood_pps": [0-9]*' "$tmp/flood.out" | awk '{print $2}')
  garbage=$(jnum "$tmp/c.json" garbage_datagrams)
  cpu=$(jnum "$tmp/c.json" cpu_pct)
  # RSS: the sample half a second after the sound device opened vs the last
  warm=$(sed -n 3p "$tmp/rss")
  last=$(grep . "$tmp/rss" | tail -n 1)
  echo "measured: $EXACT/$REF bit-exact ($share %), $WRONG wrong; flood ${fpps:-0}/s, $rel via the" \
    "sender's address + $forn foreign; client counted $garbage as garbage/foreign/rejected;" \
    "client CPU $cpu %; RSS $warm -> $last KiB ($(wc -l < "$tmp/rss") samples)"
  [ "$WRONG" -eq 0 ] || fail "$WRONG pictures differ"
  fcmp "$share" ">=" 99 || fail "only $share % presented"
  [ "${rel:-0}" -ge 1000 ] && [ "${forn:-0}" -ge 1000 ] || fail "the flood did not run"
  fcmp "$garbage" ">=" "($rel + $forn) * 0.5" || fail "the client counted only $garbage bad datagrams"
  [ -n "$warm" ] && [ -n "$last" ] || fail "no RSS samples"
  fcmp "($last - $warm)" "<=" 4096 || fail "RSS grew from $warm to $last KiB"
  ok "flood: $share % presented bit-exact, RSS $warm -> $last KiB"
}

case "$case_name" in
  loss1) loss_case 1 ;;
  loss5) loss_case 5 ;;
  control_loss5) loss_case 5 control ;;
  control_jitter) case_jitter control ;;
  loss10) loss_case 10 ;;
  mixed) case_mixed ;;
  ratelimit) case_ratelimit ;;
  jitter) case_jitter ;;
  flood) case_flood ;;
  *) echo "fire.sh: unknown case '$case_name'"; exit 2 ;;
esac
