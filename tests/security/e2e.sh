#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# End-to-end tests of the sealed data plane (spec §6) through the real
# programs, keyed with a shared --seal-key-file secret (the authenticated
# control session, issue #6, will hand the same secret over TLS instead).
#   e2e.sh CASE      CASE = tamper | capture | foreign-punch | forged-bye
# Binaries from the environment (tests/cmake/security.cmake): BF_SENDER,
# BF_CLIENT, BF_TAMPER. Small streams (320x240, ~1 s). Exit 0 pass, 1 fail,
# 77 skip.
#   tamper         a relay replays and forges datagrams: the client drops and
#                  counts them (replay, bad_tag) and still decodes every picture;
#                  a clear client is refused by a sealed sender
#   capture        tshark on lo: no Annex-B start code and no clear header magic
#                  in any UDP payload of a sealed stream
#   foreign-punch  a punch from 127.0.0.2 does not take the stream over
#   forged-bye     clear mode: a BYE forged from the sender's address mid-stream
#                  is ignored and counted; the genuine BYE at the end still
#                  ends the client within 2 s
set -uo pipefail
case_name=${1:?usage: e2e.sh CASE}
: "${BF_SENDER:?}" "${BF_CLIENT:?}" "${BF_TAMPER:?}"
source "$(dirname "$0")/../lib/e2e.sh" bf-sec-e2e
source "$(dirname "$0")/../lib/capture.sh"
# seal_num FILE KEY: KEY inside the "seal" object
seal_num() { grep -o '"seal": {[^}]*}' "$1" | grep -o "\"$2\": [0-9]*" | awk '{print $2}'; }

head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$tmp/key"
echo >> "$tmp/key"

start_sender() { # ARGS...: sealed sender on 127.0.0.1:ephemeral -> SENDER_PORT
  # emptied here, not in the child: the poll below must not read the port of
  # the sender before (tamper starts two; a stale port failed it under load)
  : > "$tmp/sender.err"
  "$BF_SENDER" --direct --listen 127.0.0.1:0 --size 320x240 --quiet --seal-key-file "$tmp/key" \
    --stats-json "$tmp/sender.json" "$@" 2> "$tmp/sender.err" &
  SENDER_PID=$!
  pids+=("$SENDER_PID")
  for _ in $(seq 200); do
    SENDER_PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/sender.err")
    [ -n "$SENDER_PORT" ] && return 0
    sleep 0.05
  done
  fail "the sender did not start"
}
stop_sender() {
  kill -INT "$SENDER_PID" 2>/dev/null
  wait "$SENDER_PID" 2>/dev/null
}

# A clear direct sender (no key), 180 frames at 60 fps, and a tamper relay in
# front of it with the given relay options; sets SENDER_PID, SENDER_PORT and
# RELAY_PID, the relay's port in $tmp/relay.port.
start_clear_relay() {
  : > "$tmp/sender.err"
  "$BF_SENDER" --direct --listen 127.0.0.1:0 --size 320x240 --quiet --frames 180 \
    --stats-json "$tmp/sender.json" 2> "$tmp/sender.err" &
  SENDER_PID=$!
  pids+=("$SENDER_PID")
  for _ in $(seq 200); do
    SENDER_PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/sender.err")
    [ -n "$SENDER_PORT" ] && break
    sleep 0.05
  done
  [ -n "$SENDER_PORT" ] || fail "the sender did not start"
  "$BF_TAMPER" relay --listen 0 --to "127.0.0.1:$SENDER_PORT" --every 0 "$@" \
    --idle-exit 3 --port-file "$tmp/relay.port" > "$tmp/relay.json" 2> "$tmp/relay.err" &
  RELAY_PID=$!
  pids+=("$RELAY_PID")
  for _ in $(seq 100); do [ -s "$tmp/relay.port" ] && break; sleep 0.05; done
}

case $case_name in
tamper)
  start_sender --frames 90
  "$BF_TAMPER" relay --listen 0 --to "127.0.0.1:$SENDER_PORT" --every 7 --idle-exit 3 \
    --port-file "$tmp/relay.port" > "$tmp/relay.json" 2> "$tmp/relay.err" &
  relay=$!
  pids+=("$relay")
  for _ in $(seq 100); do [ -s "$tmp/relay.port" ] && break; sleep 0.05; done
  rport=$(cat "$tmp/relay.port")
  timeout 30 "$BF_CLIENT" --direct "127.0.0.1:$rport" --headless --frames 60 \
    --seal-key-file "$tmp/key" --stats-json "$tmp/client.json" 2> "$tmp/client.err" \
    || fail "the sealed client failed"
  stop_sender
  kill "$relay"; wait "$relay" 2>/dev/null
  pics=$(jnum "$tmp/client.json" pictures)
  [ "${pics:-0}" -eq 60 ] || fail "decoded ${pics:-0} pictures, want 60"
  [ "$(seal_num "$tmp/client.json" sealed_mode)" = 1 ] || fail "the client was not sealed"
  replay=$(seal_num "$tmp/client.json" replay)
  bad=$(seal_num "$tmp/client.json" bad_tag)
  inj=$(grep -o '"replayed": [0-9]*' "$tmp/relay.json" | awk '{print $2}')
  [ "${inj:-0}" -gt 0 ] || fail "the relay injected nothing"
  [ "${replay:-0}" -gt 0 ] && [ "${bad:-0}" -gt 0 ] \
    || fail "replays ($replay) or forgeries ($bad) not counted"
  # the relay adds datagrams and drops none: nothing may be lost
  lost=$(jnum "$tmp/client.json" frames_lost)
  [ "${lost:-x}" = 0 ] || fail "frames lost: ${lost:-none reported} (the relay drops nothing)"
  echo "ok: 60 pictures through $inj replays and forgeries; client counted replay=$replay bad_tag=$bad"

  # a clear (unsealed) client gets nothing from a sealed sender
  start_sender --frames 30
  timeout 10 "$BF_CLIENT" --direct "127.0.0.1:$SENDER_PORT" --headless --frames 5 \
    --timeout 1 --stats-json "$tmp/clear.json" 2> "$tmp/clear.err"
  [ $? -ne 0 ] || fail "a clear client decoded a sealed stream"
  stop_sender
  [ "$(jnum "$tmp/clear.json" pictures)" = 0 ] || fail "a clear client got pictures"
  bad=$(seal_num "$tmp/sender.json" short)
  [ "$(( ${bad:-0} + $(seal_num "$tmp/sender.json" bad_tag) ))" -gt 0 ] \
    || fail "the sender did not count the clear feedback as dropped"
  echo "ok: a clear client decodes nothing; its clear feedback is dropped and counted"
  ;;
capture)
  for t in tshark dumpcap capinfos; do # (tests/lib/capture.sh uses all three)
    command -v $t > /dev/null || { echo "skip: no $t"; exit 77; }
  done
  [ "$(id -u)" = 0 ] || { echo "skip: capturing on lo needs root"; exit 77; }
  start_sender --frames 60 --bitrate 4M --no-gso # one datagram per captured packet
  cap_start "$tmp/cap.pcap" "udp port $SENDER_PORT" || fail "cannot capture on lo"
  pids+=("$CAP_PID")
  timeout 30 "$BF_CLIENT" --direct "127.0.0.1:$SENDER_PORT" --headless --frames 50 \
    --seal-key-file "$tmp/key" --stats-json "$tmp/client.json" 2> "$tmp/client.err" \
    || fail "the sealed client failed"
  sleep 0.3
  cap_stop || fail "cannot read the capture"
  stop_sender
  check_no_plaintext "$tmp/cap.pcap"
  pics=$(jnum "$tmp/client.json" pictures)
  [ "${pics:-0}" -eq 50 ] || fail "decoded ${pics:-0} pictures, want 50"
  ok "$CAP_SUMMARY"
  ;;
foreign-punch)
  start_sender --frames 120
  timeout 30 "$BF_CLIENT" --direct "127.0.0.1:$SENDER_PORT" --headless --frames 90 \
    --seal-key-file "$tmp/key" --stats-json "$tmp/client.json" 2> "$tmp/client.err" &
  client=$!
  sleep 0.7
  "$BF_TAMPER" punch 127.0.0.2 "127.0.0.1:$SENDER_PORT" || fail "cannot punch from 127.0.0.2"
  wait "$client" || fail "the client failed"
  stop_sender
  [ "$(jnum "$tmp/client.json" pictures)" = 90 ] || fail "the stream was disturbed"
  busy=$(jnum "$tmp/sender.json" punches_busy)
  [ "$(jnum "$tmp/sender.json" retargets)" = 0 ] || fail "the sender re-targeted"
  [ "${busy:-0}" -ge 1 ] || fail "the foreign punch was not counted (punches_busy=$busy)"
  echo "ok: a punch from 127.0.0.2 is ignored (punches_busy=$busy), 90 pictures"
  ;;
forged-bye)
  # the relay forges a BYE after its 60th datagram toward the client
  start_clear_relay --bye-after 60
  relay=$RELAY_PID
  timeout 30 "$BF_CLIENT" --direct "127.0.0.1:$(cat "$tmp/relay.port")" --headless --timeout 5 \
    --stats-json "$tmp/client.json" 2> "$tmp/client.err" &
  client=$!
  pids+=("$client")
  # the sender exits after its last frame and BYE; the client must follow
  for _ in $(seq 750); do
    kill -0 "$SENDER_PID" 2>/dev/null || break
    kill -0 "$client" 2>/dev/null || break
    sleep 0.02
  done
  t_end=$(date +%s.%N)
  if kill -0 "$SENDER_PID" 2>/dev/null; then
    kill -0 "$client" 2>/dev/null && fail "the sender did not finish in 15 s"
    fail "the client ended while the sender was still streaming ($(tail -n 2 "$tmp/client.err" | tr '\n' ' '))"
  fi
  wait "$client"
  rc=$?
  t_client=$(date +%s.%N)
  kill "$relay" 2>/dev/null; wait "$relay" 2>/dev/null
  [ "$rc" -eq 0 ] || fail "client exit $rc"
  byes=$(grep -o '"byes": [0-9]*' "$tmp/relay.json" | awk '{print $2}')
  [ "${byes:-0}" = 1 ] || fail "the relay did not forge a BYE"
  sent=$(jnum "$tmp/sender.json" frames_sent)
  pics=$(jnum "$tmp/client.json" pictures)
  ignored=$(jnum "$tmp/client.json" byes_ignored)
  end=$(grep -o '"end": "[a-z ]*"' "$tmp/client.json" | sed 's/.*: "//; s/"//')
  lag=$(awk -v a="$t_end" -v b="$t_client" 'BEGIN { printf "%.3f", b - a }')
  echo "measured: $pics pictures of $sent sent, byes_ignored $ignored, end '$end'," \
    "client ended $lag s after the sender"
  [ "${ignored:-0}" = 1 ] || fail "the forged BYE was not counted as ignored ($ignored)"
  [ "${pics:-0}" -ge $((sent * 9 / 10)) ] || fail "the stream stopped at the forged BYE"
  [ "$end" = bye ] || fail "the client ended by '$end', not the sender's BYE"
  fcmp "$lag" "<=" 2 || fail "the client ended $lag s after the sender"
  echo "ok: forged BYE ignored and counted; $pics/$sent pictures; genuine BYE ended it in $lag s"
  ;;
forged-jump)
  # one forged AU 5000 frames ahead after the relay's 60th datagram, one
  # 2^31-1 ahead after its 200th: the stream must go on, and the counters
  # must not report the jumped-over indices as lost
  start_clear_relay --jump-at 60:5000 --jump-at 200:2147483647
  timeout 30 "$BF_CLIENT" --direct "127.0.0.1:$(cat "$tmp/relay.port")" --headless --timeout 5 \
    --stats-json "$tmp/client.json" 2> "$tmp/client.err" &
  client=$!
  pids+=("$client")
  wait "$client" || fail "client exit $? ($(tail -n 2 "$tmp/client.err" | tr '\n' ' '))"
  wait "$SENDER_PID" 2>/dev/null
  kill "$RELAY_PID" 2>/dev/null; wait "$RELAY_PID" 2>/dev/null
  jumps=$(grep -o '"jumps": [0-9]*' "$tmp/relay.json" | awk '{print $2}')
  [ "${jumps:-0}" = 2 ] || fail "the relay forged ${jumps:-0} AUs, want 2"
  sent=$(jnum "$tmp/sender.json" frames_sent)
  pics=$(jnum "$tmp/client.json" pictures)
  lost=$(jnum "$tmp/client.json" frames_lost)
  kfr=$(jnum "$tmp/client.json" keyframe_requests)
  rejected_jump=$(grep -o '"rejected": {[^}]*}' "$tmp/client.json" | grep -o '"jump": [0-9]*' | awk '{print $2}')
  moved=$(jnum "$tmp/client.json" reassembler_jumps)
  echo "measured: $pics pictures of $sent sent, frames_lost $lost, keyframe requests $kfr," \
    "rejected as jump ${rejected_jump:-none}, window moves ${moved:-none}"
  [ "${rejected_jump:-0}" -ge 2 ] || fail "the statistics show ${rejected_jump:-no} datagrams rejected as jump, want the 2 forged"
  [ "${moved:-x}" = 0 ] || fail "reassembler_jumps ${moved:-missing}: the window followed a forged AU"
  [ "${pics:-0}" -ge $((sent * 9 / 10)) ] || fail "the stream froze at a forged AU ($pics of $sent)"
  [ "${lost:-x}" -le 1 ] 2>/dev/null || fail "frames_lost $lost: the forged jumps were counted as loss"
  echo "ok: two forged far-ahead AUs ignored; $pics/$sent pictures, frames_lost $lost"
  ;;
*) echo "unknown case $case_name"; exit 2 ;;
esac
exit 0
