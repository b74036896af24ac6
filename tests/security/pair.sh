#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# End-to-end tests of the authenticated control session (issue #6) through
# the real programs: bildfunk-send in its default control mode (TLS 1.3 on a
# TCP port, sealed data plane keyed from the TLS exporter) and `bildfunk HOST`
# / `bildfunk pair HOST`, each with its own --config-dir. The test plays both
# users: it reads the code the client shows from the client's stderr and
# types it into the sender's stdin, and the code the sender shows from the
# sender's stderr into the client's stdin (FIFOs).
#   pair.sh CASE
#   pair          pairing happy path: both sides pin; the next `bildfunk HOST`
#                 streams sealed without pairing; a second pairing is not needed
#   wrong-code    the operator types another code: refused on both sides, no pin
#   client-wrong-code  the client's user types another code than the sender
#                 shows (an impostor sender): the client refuses, pins nothing
#   revoked       `--revoke` while the sender runs: the client's next connection
#                 is refused and told to pair
#   changed-cert  the sender's identity is replaced: the client refuses and says
#                 why; `bildfunk pair` fixes it
#   unpaired      a sender with --no-pairing refuses an unknown client, which
#                 is told why (a client it paired with but revoked: revoked)
#   capture       tshark on lo during a control-mode stream: no start code, no
#                 clear header magic in any UDP payload
#   foreign-punch a punch from 127.0.0.2 (not the control peer's IP) is refused
#                 and counted; the stream goes on
#   dead-sender   the sender freezes (SIGSTOP): the client says so within 2 s
#   crlf-pins     both pin files rewritten with CRLF line ends (edited on
#                 Windows): the client still knows the sender, no new pairing
#   not-a-file    a directory where a pin or key file should be: both programs
#                 say it is not a file (not "chmod 600", not an I/O error)
#   paired-name   a paired client whose Hello claims another name is shown
#                 under the name it was paired under (the one --revoke takes)
#   busy          one address holds every setup slot it may (4 idle TCP
#                 connections): the next client is told the sender is busy
#   reconnect     with --reconnect the sender freezes for 3 s (SIGSTOP): the
#                 client sets the session up again (pinned, no pairing) and
#                 the stream goes on to its --frames
#   sender-error  the sender stops on an error (--dump-au /dev/full): its BYE
#                 and Bye say so, and the client exits 1
#   pair-while-streaming  client 1 pairs and streams; meanwhile `bildfunk pair`
#                 from a second device (its own config dir and name) pairs: its
#                 session is pair-only, client 1 gets every picture, nothing is
#                 replaced, and the second device pins the sender
# Binaries from the environment: BF_SENDER, BF_CLIENT, BF_TAMPER.
# Exit 0 pass, 1 fail, 77 skip.
set -uo pipefail
case_name=${1:?usage: pair.sh CASE}
: "${BF_SENDER:?}" "${BF_CLIENT:?}" "${BF_TAMPER:?}"
source "$(dirname "$0")/../lib/e2e.sh" bf-pair-e2e
source "$(dirname "$0")/../lib/capture.sh"
mkdir -p "$tmp/s" "$tmp/c"
chmod 700 "$tmp/s" "$tmp/c"
# ctl_num FILE KEY: KEY inside the "control" object of a stats JSON file
ctl_num() { grep -o '"control": {[^}]*}' "$1" | tail -n 1 | grep -o "\"$2\": [0-9]*" | awk '{print $2}'; }

start_sender() { # ARGS...: control-mode sender; sets CPORT, DPORT; stdin = FIFO on fd 3
  # (a later --control in ARGS overrides the ephemeral one)
  rm -f "$tmp/op"
  mkfifo "$tmp/op"
  exec 3<> "$tmp/op"
  : > "$tmp/sender.err" # emptied here, not in the child: the poll below must not read stale ports
  "$BF_SENDER" --control 127.0.0.1:0 --listen 127.0.0.1:0 --config-dir "$tmp/s" \
    --size 320x240 --quiet --stats-json "$tmp/sender.json" "$@" \
    < "$tmp/op" 2> "$tmp/sender.err" &
  SENDER_PID=$!
  pids+=("$SENDER_PID")
  for _ in $(seq 200); do
    CPORT=$(sed -n 's/.*control on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/sender.err" | head -n 1)
    DPORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/sender.err" | head -n 1)
    [ -n "$CPORT" ] && [ -n "$DPORT" ] && return 0
    kill -0 "$SENDER_PID" 2> /dev/null || break
    sleep 0.05
  done
  fail "the sender did not start in control mode"
}
stop_sender() {
  kill -INT "$SENDER_PID" 2> /dev/null
  wait "$SENDER_PID" 2> /dev/null
  exec 3>&-
}
# code_of FILE: waits up to 10 s for the client's pairing code in FILE
code_of() {
  local c
  for _ in $(seq 200); do
    c=$(sed -n 's/.*code \([0-9]\{6\}\).*/\1/p' "$1" | head -n 1)
    [ -n "$c" ] && { echo "$c"; return 0; }
    sleep 0.05
  done
  return 1
}
# answer_codes ERR NAME N0 [WRONG [WHO]]: the test plays both users of the
# client $cl whose stderr is ERR and whose stdin is fd 5: it types the code
# the client shows into the sender (the operator, fd 3) once the sender asks
# about NAME (its pairing request number N0 + 1), and the code the sender
# shows into the client (the user at the client). WRONG=1 makes the operator
# type a wrong code, WHO=client makes the client's user do so instead.
answer_codes() {
  local err=$1 name=$2 n0=$3 code scode req
  shift 3
  code=$(code_of "$err") || { kill "$cl"; fail "the client showed no pairing code"; }
  for _ in $(seq 200); do
    req=$(grep "pairing request" "$tmp/sender.err" | sed -n "$((n0 + 1))p")
    [ -n "$req" ] && break
    sleep 0.05
  done
  case $req in
  *"pairing request from \"$name\""*) ;;
  *) kill "$cl"; fail "the sender did not ask its operator" ;;
  esac
  scode=$(sed -n 's/.*this sender.s code: \([0-9]\{6\}\).*/\1/p' <<< "$req")
  [ -n "$scode" ] || { kill "$cl"; fail "the sender showed no code of its own"; }
  [ "$scode" != "$code" ] || { kill "$cl"; fail "both sides show the same code"; }
  if [ -n "${1:-}" ] && [ "${2:-}" = client ]; then
    scode=$(printf '%06d' $(( (10#$scode + 1) % 1000000 )))
  elif [ -n "${1:-}" ]; then
    code=$(printf '%06d' $(( (10#$code + 1) % 1000000 )))
  fi
  echo "$code" >&3
  (trap '' PIPE; echo "$scode" >&5) 2> /dev/null
}
# pair_client [WRONG [WHO]]: `bildfunk pair` with --config-dir $pdir (default
# $tmp/c) and --name $pname (default e2e-client); answer_codes types the codes.
# Returns the client's exit code; output in $tmp/pair.err.
pair_client() {
  : > "$tmp/pair.err"
  local n0 cl dir=${pdir:-$tmp/c} name=${pname:-e2e-client}
  n0=$(grep -c "pairing request" "$tmp/sender.err")
  rm -f "$tmp/cin"
  mkfifo "$tmp/cin"
  timeout 30 "$BF_CLIENT" pair "127.0.0.1:$CPORT" --config-dir "$dir" --name "$name" \
    < "$tmp/cin" 2> "$tmp/pair.err" &
  cl=$!
  exec 5> "$tmp/cin"
  answer_codes "$tmp/pair.err" "$name" "$n0" "$@"
  wait "$cl"
  local rc=$?
  exec 5>&-
  return $rc
}
stream() { # ARGS...: `bildfunk HOST` with the client's config; exit code returned
  timeout 30 "$BF_CLIENT" "127.0.0.1:$CPORT" --config-dir "$tmp/c" --name e2e-client \
    --headless --stats-json "$tmp/client.json" "$@" 2> "$tmp/client.err"
}

case $case_name in
pair)
  start_sender
  pair_client || fail "pairing failed"
  grep -q "paired with 127.0.0.1:$CPORT" "$tmp/pair.err" || fail "the client did not say it paired"
  grep -q 'paired with "e2e-client"' "$tmp/sender.err" || fail "the sender did not say it paired"
  "$BF_SENDER" --config-dir "$tmp/s" --list-clients > "$tmp/list.txt" 2> "$tmp/list.err" \
    || fail "--list-clients failed"
  grep -q "e2e-client" "$tmp/list.txt" || fail "--list-clients does not show the client"
  ok "paired: both sides say so, --list-clients shows it"
  # the next connection streams at once, without a code
  stream --frames 60 || fail "the paired client could not stream"
  grep -q "code [0-9]\{6\}" "$tmp/client.err" && fail "a paired client was asked to pair again"
  pics=$(jnum "$tmp/client.json" pictures)
  [ "${pics:-0}" -eq 60 ] || fail "decoded ${pics:-0} pictures, want 60"
  [ "$(ctl_num "$tmp/client.json" sealed)" = 1 ] || fail "the control-mode stream was not sealed"
  stop_sender
  ok=$(ctl_num "$tmp/sender.json" pairings_ok)
  est=$(ctl_num "$tmp/sender.json" established)
  [ "${ok:-0}" = 1 ] || fail "sender counted pairings_ok=$ok, want 1"
  [ "${est:-0}" -ge 2 ] || fail "sender counted established=$est, want >= 2"
  ok "a paired client streams 60 sealed pictures without a code (sender: $ok pairing, $est sessions)"
  ;;
wrong-code)
  start_sender
  pair_client wrong && fail "pairing with a wrong code succeeded"
  grep -qi "wrong code" "$tmp/pair.err" || fail "the client does not say the code was wrong"
  grep -q "refused: wrong code" "$tmp/sender.err" || fail "the sender does not say it refused"
  stop_sender
  "$BF_SENDER" --config-dir "$tmp/s" --list-clients > "$tmp/list.txt" 2> /dev/null
  grep -q "e2e-client" "$tmp/list.txt" && fail "the sender pinned a refused client"
  [ -s "$tmp/c/senders" ] && fail "the client pinned the sender: $(cat "$tmp/c/senders")"
  [ "$(ctl_num "$tmp/sender.json" pairings_refused)" -ge 1 ] || fail "the refusal was not counted"
  ok "a wrong code is refused on both sides and pins nothing"
  ;;
revoked)
  start_sender
  pair_client || fail "pairing failed"
  stream --frames 10 || fail "the paired client could not stream"
  "$BF_SENDER" --config-dir "$tmp/s" --revoke e2e-client > "$tmp/revoke.txt" 2>&1 \
    || fail "--revoke failed: $(cat "$tmp/revoke.txt")"
  stream --frames 10 && fail "a revoked client could stream"
  grep -qi "not paired" "$tmp/client.err" || fail "the revoked client was not told why"
  grep -q "bildfunk pair" "$tmp/client.err" || fail "the revoked client was not told what to do"
  "$BF_SENDER" --config-dir "$tmp/s" --revoke e2e-client > "$tmp/revoke2.txt" 2>&1 \
    && fail "revoking an unknown client succeeded"
  stop_sender
  ok "a revoked client is refused while the sender runs, and told to pair"
  ;;
changed-cert)
  start_sender
  pair_client || fail "pairing failed"
  stop_sender
  rm -f "$tmp/s"/sender-*.pem # a new identity on the same host:port (the pin's name)
  port=$CPORT
  start_sender --control "127.0.0.1:$port"
  [ "$CPORT" = "$port" ] || fail "the sender did not take port $port again"
  stream --frames 10 && fail "the client accepted a changed certificate"
  grep -qi "certificate changed" "$tmp/client.err" || fail "the client does not say the certificate changed"
  grep -q "bildfunk pair" "$tmp/client.err" || fail "the client does not say how to re-pair"
  # the operator re-pairs deliberately: afterwards streaming works
  pair_client || fail "re-pairing failed"
  stream --frames 10 || fail "streaming after re-pairing failed"
  stop_sender
  ok "a changed sender certificate is refused with a reason; pair fixes it"
  ;;
client-wrong-code)
  # the user at the client types another code than the sender shows (an
  # impostor sender, or not the sender the user looks at): the client
  # refuses and pins nothing, whatever the sender answered
  start_sender
  pair_client wrong client && fail "the client accepted a sender whose code it was not given"
  grep -q "pairing refused here: the code typed on the client is not the one this sender shows" \
    "$tmp/pair.err" || fail "the client does not say why it refused"
  [ -s "$tmp/c/senders" ] && fail "the client pinned the sender: $(cat "$tmp/c/senders")"
  stop_sender
  ok "a client whose user types another code than the sender's refuses and pins nothing"
  ;;
unpaired)
  # a sender that takes no new clients: an unknown client is refused and told so
  start_sender --no-pairing
  stream --frames 5 && fail "an unpaired client could stream"
  grep -qi "pairing refused: .*not accept" "$tmp/client.err" || fail "the client was not told why"
  grep -q "code [0-9]\{6\}" "$tmp/client.err" && fail "a code was shown although pairing is off"
  stop_sender
  [ -s "$tmp/c/senders" ] && fail "the client pinned the sender"
  ok "with --no-pairing an unknown client is refused: $(grep -o 'pairing refused.*' "$tmp/client.err")"
  ;;
capture)
  for t in tshark dumpcap capinfos; do # (tests/lib/capture.sh uses all three)
    command -v $t > /dev/null || { echo "skip: no $t"; exit 77; }
  done
  [ "$(id -u)" = 0 ] || { echo "skip: capturing on lo needs root"; exit 77; }
  start_sender --bitrate 4M --no-gso
  pair_client || fail "pairing failed"
  cap_start "$tmp/cap.pcap" "udp port $DPORT" || fail "cannot capture on lo"
  pids+=("$CAP_PID")
  stream --frames 50 || fail "the paired client could not stream"
  sleep 0.3
  cap_stop || fail "cannot read the capture"
  stop_sender
  check_no_plaintext "$tmp/cap.pcap"
  ok "control-mode stream: $CAP_SUMMARY"
  ;;
foreign-punch)
  start_sender
  pair_client || fail "pairing failed"
  stream --frames 90 &
  cl=$!
  sleep 1
  "$BF_TAMPER" punch 127.0.0.2 "127.0.0.1:$DPORT" || fail "cannot punch from 127.0.0.2"
  wait "$cl" || fail "the client failed"
  stop_sender
  [ "$(jnum "$tmp/client.json" pictures)" = 90 ] || fail "the stream was disturbed"
  denied=$(jnum "$tmp/sender.json" punches_denied)
  busy=$(jnum "$tmp/sender.json" punches_busy)
  [ "$(jnum "$tmp/sender.json" retargets)" = 0 ] || fail "the sender re-targeted"
  [ $(( ${denied:-0} + ${busy:-0} )) -ge 1 ] || fail "the foreign punch was not counted"
  ok "a punch from 127.0.0.2 is refused (denied=$denied busy=$busy), 90 pictures"
  ;;
same-ip-punch)
  # issue #15: a clear punch from another port of the client's own IP (anyone
  # behind the same NAT, any local user) must not move a sealed stream
  start_sender
  pair_client || fail "pairing failed"
  stream --frames 120 &
  cl=$!
  for _ in $(seq 200); do grep -q 'streaming from' "$tmp/client.err" && break; sleep 0.05; done
  sleep 0.5
  for _ in 1 2 3; do
    "$BF_TAMPER" punch 127.0.0.1 "127.0.0.1:$DPORT" || fail "cannot punch from 127.0.0.1"
    sleep 0.2
  done
  wait "$cl" || fail "the client failed ($(tail -n 2 "$tmp/client.err" | tr '\n' ' '))"
  stop_sender
  grep -q "took over" "$tmp/client.err" && fail "the forged punch took the stream"
  [ "$(jnum "$tmp/client.json" pictures)" = 120 ] || fail "the stream was disturbed"
  [ "$(jnum "$tmp/sender.json" retargets)" = 0 ] || fail "the sender re-targeted"
  refused=$(jnum "$tmp/sender.json" punches_unauthenticated)
  [ "${refused:-0}" -ge 3 ] || fail "the forged punches were not counted (${refused:-none})"
  ok "3 clear punches from another port of the client's IP refused ($refused), 120 pictures"
  ;;
dead-sender)
  start_sender
  pair_client || fail "pairing failed"
  stream &
  cl=$!
  for _ in $(seq 200); do grep -q 'streaming from' "$tmp/client.err" && break; sleep 0.05; done
  sleep 1
  kill -STOP "$SENDER_PID"
  t0=$(date +%s%N)
  wait "$cl"
  rc=$?
  t1=$(date +%s%N)
  kill -CONT "$SENDER_PID"
  stop_sender
  [ "$rc" -ne 0 ] || fail "the client exited 0 although the sender froze"
  ms=$(( (t1 - t0) / 1000000 ))
  [ "$ms" -le 2500 ] || fail "the client took $ms ms to notice (bound 2000 + exit)"
  grep -qi "silent\|went away\|timed out" "$tmp/client.err" || fail "the client did not say why it ended"
  ok "a frozen sender is noticed and named in $ms ms"
  ;;
crlf-pins)
  start_sender
  pair_client || fail "pairing failed"
  for f in "$tmp/c/senders" "$tmp/s/clients"; do
    sed -i 's/$/\r/' "$f"
    grep -q $'\r$' "$f" || fail "$f has no CRLF"
  done
  stream --frames 30 < /dev/null || fail "the client could not stream with CRLF pins: $(tail -n 1 "$tmp/client.err")"
  grep -q "code [0-9]\{6\}" "$tmp/client.err" && fail "a CRLF pin file made the client pair again"
  stop_sender
  ok "CRLF pin files: the paired client streams without a new pairing"
  ;;
not-a-file)
  mkdir -p "$tmp/c/senders" "$tmp/s2/clients"
  chmod 700 "$tmp/s2"
  timeout 10 "$BF_CLIENT" 127.0.0.1:1 --config-dir "$tmp/c" --headless 2> "$tmp/client.err" < /dev/null
  rc=$?
  [ "$rc" -eq 1 ] || fail "client exit $rc with a directory for its pin file"
  grep -q "senders: it is not a file" "$tmp/client.err" || fail "the client does not name the problem: $(cat "$tmp/client.err")"
  rmdir "$tmp/c/senders"
  mv "$tmp/c/client-key.pem" "$tmp/c/k.pem"
  mkdir -m 755 "$tmp/c/client-key.pem"
  timeout 10 "$BF_CLIENT" 127.0.0.1:1 --config-dir "$tmp/c" --headless 2> "$tmp/client.err" < /dev/null
  grep -q "client-key.pem or client-cert.pem there is not a file" "$tmp/client.err" ||
    fail "the client does not name the key problem: $(cat "$tmp/client.err")"
  timeout 10 "$BF_SENDER" --control 127.0.0.1:0 --listen 127.0.0.1:0 --config-dir "$tmp/s2" \
    --size 320x240 --frames 1 < /dev/null 2> "$tmp/sender.err"
  rc=$?
  [ "$rc" -ne 0 ] || fail "the sender started with a directory for its clients file"
  grep -q "clients: it is not a file" "$tmp/sender.err" || fail "the sender does not name the problem: $(cat "$tmp/sender.err")"
  ok "a directory for a pin or key file is named as such by both programs"
  ;;
paired-name)
  start_sender
  pair_client || fail "pairing failed"
  stream --frames 20 --name impostor < /dev/null || fail "the paired client could not stream"
  stop_sender
  grep -q 'client "e2e-client" at 127.0.0.1: session established' "$tmp/sender.err" ||
    fail "the sender does not show the paired name: $(grep 'session established' "$tmp/sender.err")"
  grep -q 'client "impostor"' "$tmp/sender.err" && fail "the sender shows the name the Hello claims"
  grep -q 'calls itself "impostor"' "$tmp/sender.err" || fail "the sender does not say what the client claims"
  "$BF_SENDER" --config-dir "$tmp/s" --revoke e2e-client > /dev/null 2>&1 || fail "--revoke by the shown name failed"
  ok "shown by its paired name (its Hello's claim said beside it); --revoke by that name works"
  ;;
busy)
  start_sender
  for fd in 7 8 9 10; do
    eval "exec $fd<>/dev/tcp/127.0.0.1/$CPORT" || fail "cannot open an idle connection"
  done
  sleep 0.3 # accepted (at most 4 in a row, 20 per second)
  timeout 20 "$BF_CLIENT" pair "127.0.0.1:$CPORT" --config-dir "$tmp/c" --name e2e-client \
    < /dev/null 2> "$tmp/pair.err"
  rc=$?
  for fd in 7 8 9 10; do eval "exec $fd>&-"; done
  stop_sender
  [ "$rc" -eq 1 ] || fail "client exit $rc, want 1"
  grep -q "is busy: too many connections are being set up there" "$tmp/pair.err" ||
    fail "the refused client was not told the sender is busy: $(cat "$tmp/pair.err")"
  refused=$(ctl_num "$tmp/sender.json" refused_full)
  [ "${refused:-0}" -ge 1 ] || fail "the sender counted refused_full=${refused:-0}"
  ok "a client refused at accept (slots full) is told the sender is busy"
  ;;
reconnect)
  start_sender
  pair_client || fail "pairing failed"
  stream --reconnect --frames 180 < /dev/null &
  cl=$!
  pids+=("$cl")
  for _ in $(seq 200); do grep -q 'streaming from' "$tmp/client.err" && break; sleep 0.05; done
  sleep 1
  kill -STOP "$SENDER_PID"
  sleep 3
  kill -CONT "$SENDER_PID"
  wait "$cl"
  rc=$?
  stop_sender
  [ "$rc" -eq 0 ] || fail "client exit $rc with --reconnect after a 3 s freeze ($(tail -n 3 "$tmp/client.err" | tr '\n' ' '))"
  grep -q "setting the session with 127.0.0.1:$CPORT up again" "$tmp/client.err" ||
    fail "the client did not say it reconnects"
  grep -q "set up again: the stream goes on" "$tmp/client.err" || fail "the client did not say the stream goes on"
  grep -q "code [0-9]\{6\}" "$tmp/client.err" && fail "the reconnect asked for a pairing"
  pics=$(jnum "$tmp/client.json" pictures)
  rec=$(ctl_num "$tmp/client.json" reconnects)
  est=$(ctl_num "$tmp/sender.json" established)
  [ "${pics:-0}" -eq 180 ] || fail "decoded ${pics:-0} pictures, want 180"
  [ "${rec:-0}" -eq 1 ] || fail "reconnects=${rec:-missing}, want 1"
  [ "${est:-0}" -ge 3 ] || fail "the sender counted established=${est:-0}, want >= 3 (pairing, stream, again)"
  ok "a 3 s freeze with --reconnect: session set up again, 180/180 pictures, exit 0"
  ;;
sender-error)
  start_sender --dump-au /dev/full
  pair_client || fail "pairing failed"
  stream
  rc=$?
  stop_sender
  [ "$rc" -eq 1 ] || fail "client exit $rc after the sender's error, want 1"
  grep -q "after an error\|the sender hit an error" "$tmp/client.err" ||
    fail "the client did not say the stream ended in an error"
  ok "the sender's error ends the control-mode stream with exit 1"
  ;;
pair-while-streaming)
  # `bildfunk pair` from a second device must not take the stream from the
  # client that is watching (its Hello says pair-only, BF_CTL_CAP_PAIR_ONLY)
  frames=600 # 10 s at 60 fps: the second pairing takes ~1 s
  start_sender
  n0=$(grep -c "pairing request" "$tmp/sender.err")
  rm -f "$tmp/cin1"
  mkfifo "$tmp/cin1"
  timeout 60 "$BF_CLIENT" "127.0.0.1:$CPORT" --config-dir "$tmp/c" --name e2e-client --headless \
    --frames "$frames" --stats-json "$tmp/client.json" < "$tmp/cin1" 2> "$tmp/client.err" &
  cl=$!
  pids+=("$cl")
  exec 5> "$tmp/cin1"
  answer_codes "$tmp/client.err" e2e-client "$n0"
  exec 6>&5 5>&-
  for _ in $(seq 200); do grep -q 'streaming from' "$tmp/client.err" && break; sleep 0.05; done
  grep -q 'streaming from' "$tmp/client.err" || fail "client 1 did not pair and stream"
  cl1=$cl
  mkdir -p "$tmp/c2"
  chmod 700 "$tmp/c2"
  pdir=$tmp/c2 pname=e2e-second pair_client || fail "pairing the second device failed: $(cat "$tmp/pair.err")"
  kill -0 "$cl1" 2> /dev/null || fail "client 1 ended before the second pairing was done: nothing shown"
  grep -q 'client "e2e-second" at 127.0.0.1 paired (pair only): the stream goes on' "$tmp/sender.err" \
    || fail "the sender did not say the pair-only session left the stream alone"
  wait "$cl1" || fail "client 1 failed while the second device paired: $(tail -n 3 "$tmp/client.err")"
  exec 6>&-
  stop_sender
  pics=$(jnum "$tmp/client.json" pictures)
  [ "${pics:-0}" -eq "$frames" ] || fail "client 1 decoded ${pics:-0} pictures, want $frames"
  grep -qi "replaced\|another client" "$tmp/client.err" && fail "client 1 was told it was replaced"
  replaced=$(ctl_num "$tmp/sender.json" replaced)
  ponly=$(ctl_num "$tmp/sender.json" pair_only)
  pok=$(ctl_num "$tmp/sender.json" pairings_ok)
  streams=$(ctl_num "$tmp/sender.json" streams)
  [ "$replaced" = 0 ] || fail "the sender counted replaced=$replaced, want 0"
  [ "$ponly" = 1 ] || fail "the sender counted pair_only=$ponly, want 1"
  [ "$pok" = 2 ] || fail "the sender counted pairings_ok=$pok, want 2"
  [ "$streams" = 1 ] || fail "the sender started $streams streams, want 1"
  # both devices pin the same sender certificate under the name they dialled
  fp1=$(grep "127.0.0.1:$CPORT" "$tmp/c/senders" | grep -o '[0-9a-f]\{64\}')
  [ -n "$fp1" ] || fail "client 1 did not pin the sender: $(cat "$tmp/c/senders")"
  grep "127.0.0.1:$CPORT" "$tmp/c2/senders" | grep -q "$fp1" \
    || fail "the second device did not pin the sender: $(cat "$tmp/c2/senders" 2> /dev/null)"
  "$BF_SENDER" --config-dir "$tmp/s" --list-clients > "$tmp/list.txt" 2> /dev/null
  grep -q "e2e-second" "$tmp/list.txt" || fail "the sender did not pin the second device"
  ok "a second device paired while client 1 streamed $pics pictures (replaced=$replaced pair_only=$ponly)"
  ;;
*) echo "unknown case $case_name"; exit 2 ;;
esac
exit 0
