#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# End-to-end tests of bildfunk-send over loopback (registered with ctest in
# tests/cmake/sender.cmake, one ctest test per case).
#
#   e2e.sh CASE SENDER TEST_RECEIVER STRIP_CHECK
#
# Every case starts the real sender on a port the kernel picks and the test
# receiver (real UDP transport + punch + reassembler), then checks what came
# out: the received AU stream equals --dump-au byte for byte, ffprobe decodes
# it to the right number of pictures of the right size, the keyframe flag of
# every AU agrees with the bitstream (our parser and ffprobe), the testsrc
# strip in every decoded picture carries the pts the AU had on the wire.
set -euo pipefail
# shellcheck source=tests/lib/procs.sh
. "$(dirname "$0")/../lib/procs.sh"

case_=$1
SEND=$2
RECV=$3
STRIP=$4
NETSIM=${5:-}

work=$(mktemp -d "${TMPDIR:-/tmp}/bf-sender-e2e.XXXXXX")
pids=()
cleanup() {
  local p
  bf_kill_children TERM "${pids[@]}" # only our own (procs.sh)
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"

fail() {
  echo "FAIL ($case_): $*" >&2
  local f
  for f in "$work"/*.log "$work"/*.out; do
    [ -f "$f" ] && { echo "--- $(basename "$f")" >&2; tail -n 40 "$f" >&2; }
  done
  exit 1
}

skip() {
  if [ "${BF_REQUIRE_ALL:-0}" = 1 ]; then fail "cannot run here: $*"; fi
  echo "SKIP ($case_): $*"
  exit 77
}

for tool in ffmpeg ffprobe; do command -v "$tool" >/dev/null || skip "$tool is not installed"; done

# key=value from a receiver's output
val() { sed -n "s/^$1=//p" "$2" | head -n 1; }
# a number from the sender's --stats-json (first occurrence of the key)
stat() { grep -o "\"$1\": [0-9.]*" "$2" | head -n 1 | sed 's/.*: //'; }

expect_eq() { [ "$2" = "$3" ] || fail "$1: expected $3, got '$2'"; }

# start_sender LOG ARGS...: starts the sender on 127.0.0.1 with a kernel-picked
# port; sets SPID and PORT.
start_sender() {
  local log=$1
  shift
  : >"$log" # emptied here, not in the child: the poll below must not read a stale port
  "$SEND" --direct --listen 127.0.0.1:0 "$@" 2>"$log" &
  SPID=$!
  pids+=("$SPID")
  local i
  for i in $(seq 300); do
    PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log" | head -n 1)
    [ -n "$PORT" ] && return 0
    kill -0 "$SPID" 2>/dev/null || fail "the sender exited before listening"
    sleep 0.1
  done
  fail "the sender did not start listening"
}

# wait_sender: the sender must exit 0 on its own
wait_sender() {
  local rc=0
  wait "$SPID" || rc=$?
  expect_eq "sender exit status" "$rc" 0
}

# check_stream EXT FRAMES W H [strip]: the received stream against the dump,
# ffprobe and the index.
check_stream() {
  local ext=$1 n=$2 w=$3 h=$4 strip=${5:-strip}
  [ -s "recv.$ext" ] || fail "nothing received"
  cmp -s "sent.$ext" "recv.$ext" || fail "received AU stream differs from --dump-au"
  local probe
  probe=$(ffprobe -v error -count_frames -show_entries stream=nb_read_frames,width,height \
          -of csv=p=0 "recv.$ext")
  expect_eq "ffprobe width,height,frames" "$probe" "$w,$h,$n"
  # keyframe flags: ffprobe's view of the bitstream against user_flags
  local probe_keys flag_keys
  probe_keys=$(ffprobe -v error -show_entries frame=key_frame -of csv=p=0 "recv.$ext" | cut -d, -f1 |
               tr -d "\n")
  flag_keys=$(tail -n +2 index.csv | awk -F, '{printf "%d", (int($3 / 4) % 2)}')
  expect_eq "keyframes (ffprobe vs user_flags)" "$probe_keys" "$flag_keys"
  [ "${flag_keys:0:1}" = 1 ] || fail "the first AU is not a keyframe"
  if [ "$strip" = strip ]; then
    ffmpeg -v error -i "recv.$ext" -f rawvideo -pix_fmt gray - | "$STRIP" "${w}x${h}" index.csv \
      >strip.out || fail "strip check"
    expect_eq "strip frames" "$(val strip_frames strip.out)" "$n"
  fi
}

# receiver checks common to every complete stream of N frames
check_recv() {
  local out=$1 n=$2
  expect_eq "frames received" "$(val frames "$out")" "$n"
  expect_eq "frames lost" "$(val lost "$out")" 0
  expect_eq "user_flags vs bitstream mismatches" "$(val flag_mismatch "$out")" 0
  expect_eq "rejected datagrams" "$(val rejected "$out")" 0
}

ext_of() { case $1 in h264) echo h264 ;; hevc) echo hevc ;; av1) echo obu ;; esac; }

# stream_case CODEC: testsrc 320x240@30, 30 frames, clock pings.
stream_case() {
  local c=$1 ext
  ext=$(ext_of "$c")
  start_sender send.log --size 320x240 --fps 30 --frames 30 --codec "$c" \
    --dump-au "sent.$ext" --stats-json stats.json
  "$RECV" --connect "127.0.0.1:$PORT" --codec "$c" --out "recv.$ext" --index index.csv \
    --frames 30 --pings 6 >recv.out || fail "receiver"
  wait_sender
  check_recv recv.out 30
  expect_eq "BYE at the end" "$(val bye recv.out)" 1
  check_stream "$ext" 30 320 240
  expect_eq "pongs" "$(val pongs recv.out)" 6
  local off
  off=$(val clock_offset_ns recv.out)
  [ "${off#-}" -lt 5000000 ] || fail "clock offset on one machine is $off ns"
  [ "$(val clock_rtt_ns recv.out)" -gt 0 ] || fail "clock rtt is 0"
  expect_eq "frames_sent" "$(stat frames_sent stats.json)" 30
  expect_eq "keyframes_sent" "$(stat keyframes_sent stats.json)" 1
}

# keyframe_case CODEC SLACK: a keyframe request after the 10th frame makes a
# keyframe within SLACK AUs (1 = the very next AU).
keyframe_case() {
  local c=$1 slack=$2 ext
  ext=$(ext_of "$c")
  start_sender send.log --size 320x240 --fps 30 --frames 40 --codec "$c" \
    --dump-au "sent.$ext" --stats-json stats.json
  "$RECV" --connect "127.0.0.1:$PORT" --codec "$c" --out "recv.$ext" --index index.csv \
    --frames 40 --keyframe-after 10 >recv.out || fail "receiver"
  wait_sender
  check_recv recv.out 40
  check_stream "$ext" 40 320 240
  local after arrived
  after=$(val kf_request_after recv.out)
  arrived=$(val kf_arrived recv.out)
  [ "${arrived:0:1}" != - ] || fail "no keyframe came after the request"
  [ $((arrived - after)) -ge 1 ] && [ $((arrived - after)) -le "$slack" ] ||
    fail "keyframe requested after AU $after came as AU $arrived (allowed: $slack later)"
  expect_eq "keyframes received" "$(val keyframes recv.out)" 2
  expect_eq "keyframe ids honoured" "$(stat keyframe_ids stats.json)" 1
  expect_eq "keyframes forced" "$(stat keyframes_forced stats.json)" 1
  expect_eq "keyframe misses" "$(stat keyframe_misses stats.json)" 0
}

garbage_case() {
  start_sender send.log --size 320x240 --fps 30 --frames 30 --dump-au sent.h264 \
    --stats-json stats.json
  "$RECV" --connect "127.0.0.1:$PORT" --out recv.h264 --index index.csv --frames 30 \
    --garbage 50 >recv.out || fail "receiver"
  wait_sender
  check_recv recv.out 30
  check_stream h264 30 320 240
  expect_eq "garbage counted" "$(stat garbage stats.json)" 50
  expect_eq "foreign feedback counted" "$(stat foreign stats.json)" 1
  expect_eq "pongs sent" "$(stat pongs_sent stats.json)" 0
}

# The direct-mode session: client BYE, a silent client, a new client, a
# re-target to another port of the same IP (the old one gets BYE/replaced),
# --allow.
session_case() {
  # --silence 3: above the 2 s punch keepalive of a client that sends nothing else
  start_sender send.log --size 320x240 --fps 30 --silence 3 --stats-json stats.json
  # a client that says bye
  "$RECV" --connect "127.0.0.1:$PORT" --out a.h264 --index a.csv --quit-after 10 >a.out ||
    fail "client A"
  # a client that vanishes without a word
  "$RECV" --connect "127.0.0.1:$PORT" --out b.h264 --index b.csv --quit-after 10 \
    --no-bye 1 >b.out || fail "client B"
  local i
  for i in $(seq 100); do grep -q "silent for" send.log && break; sleep 0.1; done
  grep -q "silent for" send.log || fail "the silent client was not dropped"
  # client C streams until D, from the same IP, takes over
  "$RECV" --connect "127.0.0.1:$PORT" --out c.h264 --index c.csv --frames 100000 \
    --timeout 20 >c.out &
  local cpid=$!
  pids+=("$cpid")
  for i in $(seq 100); do [ "$(tail -n +2 c.csv 2>/dev/null | wc -l)" -ge 5 ] && break; sleep 0.1; done
  "$RECV" --connect "127.0.0.1:$PORT" --out d.h264 --index d.csv --quit-after 10 >d.out ||
    fail "client D"
  wait "$cpid" || true
  expect_eq "C told it was replaced" "$(val bye c.out)/$(val bye_reason c.out)" 1/2
  kill -INT "$SPID"
  wait_sender
  local f
  for f in a b c d; do
    [ "$(sed -n 2p $f.csv | cut -d, -f3)" = 4 ] || fail "client $f: the first AU is not a keyframe"
    [ "$(val lost $f.out)" = 0 ] || fail "client $f lost frames"
    expect_eq "client $f: flag mismatches" "$(val flag_mismatch $f.out)" 0
  done
  expect_eq "clients adopted" "$(stat clients stats.json)" 3
  expect_eq "re-targets" "$(stat retargets stats.json)" 1
  expect_eq "silences" "$(stat silences stats.json)" 1
  expect_eq "byes received (A, D)" "$(stat byes_received stats.json)" 2
  grep -q "said bye" send.log || fail "no 'said bye' message"
  # --allow: nobody else starts a stream
  start_sender send2.log --size 320x240 --fps 30 --allow 192.0.2.1 --stats-json stats2.json
  if "$RECV" --connect "127.0.0.1:$PORT" --out e.h264 --index e.csv --timeout 1.5 >e.out; then
    fail "a client that --allow does not admit got a stream"
  fi
  kill -INT "$SPID"
  wait_sender
  expect_eq "frames for a denied client" "$(val frames e.out)" 0
  [ "$(stat punches_denied stats2.json)" -ge 1 ] || fail "denied punches not counted"
  expect_eq "clients" "$(stat clients stats2.json)" 0
}

# control mode (the default): startup lines, no stream for a punch without a
# control session, a non-TLS connection on the control port counted and
# closed, the config directory's files, --list-clients and --revoke.
control_case() {
  local cfg=$work/cfg
  "$SEND" --control 127.0.0.1:0 --listen 127.0.0.1:0 --config-dir "$cfg" --size 320x240 \
    --fps 30 --stats-json stats.json 2>send.log </dev/null &
  SPID=$!
  pids+=("$SPID")
  local i cport=""
  for i in $(seq 300); do
    PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' send.log | head -n 1)
    cport=$(sed -n 's/.*control on 127\.0\.0\.1:\([0-9]*\) (TLS 1\.3), data on 127\.0\.0\.1:\([0-9]*\)$/\1/p' \
            send.log | head -n 1)
    [ -n "$PORT" ] && [ -n "$cport" ] && break
    kill -0 "$SPID" 2>/dev/null || fail "the sender exited before listening"
    sleep 0.1
  done
  [ -n "$cport" ] || fail "no 'control on ADDR (TLS 1.3), data on ADDR' line"
  grep -q "data on 127.0.0.1:$PORT\$" send.log || fail "the data port differs between the lines"
  # a punch without a control session gets nothing
  if "$RECV" --connect "127.0.0.1:$PORT" --out e.h264 --index e.csv --timeout 1.5 >e.out; then
    fail "a punch without a control session got a stream"
  fi
  # something that does not speak TLS on the control port
  exec 3<>"/dev/tcp/127.0.0.1/$cport"
  printf 'GET / HTTP/1.0\r\n\r\n' >&3
  local eof=0
  for i in $(seq 50); do
    grep -q "control connection from 127.0.0.1 ended" send.log && { eof=1; break; }
    sleep 0.1
  done
  exec 3>&-
  [ $eof = 1 ] || fail "the non-TLS connection was not ended with a message"
  kill -INT "$SPID"
  wait_sender
  expect_eq "frames for a punch without a session" "$(val frames e.out)" 0
  [ "$(stat punches_denied stats.json)" -ge 1 ] || fail "denied punches not counted"
  expect_eq "clients" "$(stat clients stats.json)" 0
  expect_eq "control connections" "$(stat connections stats.json)" 1
  expect_eq "failed handshakes" "$(stat handshake_failed stats.json)" 1
  grep -q '"mode": "control"' stats.json || fail "stats: no control mode"
  [ -f "$cfg/sender-key.pem" ] && [ -f "$cfg/sender-cert.pem" ] || fail "no identity in $cfg"
  [ "$(command stat -c %a "$cfg/sender-key.pem")" = 600 ] || fail "the key file is not 0600"
  "$SEND" --list-clients --config-dir "$cfg" >list.out || fail "--list-clients failed"
  expect_eq "--list-clients on a new sender" "$(cat list.out)" "no paired clients"
  # a pin store with two clients (the file format of identity.h)
  printf '%s 1700000000 laptop\n%s 1700000100 tv\n' "$(printf 'ab%.0s' $(seq 32))" \
    "$(printf 'cd%.0s' $(seq 32))" >"$cfg/clients"
  "$SEND" --list-clients --config-dir "$cfg" >list.out || fail "--list-clients failed"
  expect_eq "clients listed" "$(wc -l <list.out)" 2
  grep -q "^laptop  $(printf 'ab%.0s' $(seq 32))  paired 2023-11-14" list.out ||
    fail "--list-clients line: $(cat list.out)"
  local rc=0
  "$SEND" --revoke nobody --config-dir "$cfg" >rev.out 2>rev.err || rc=$?
  expect_eq "--revoke of an unknown client exits" "$rc" 1
  grep -q "no paired client matches 'nobody'" rev.err || fail "--revoke: $(cat rev.err)"
  "$SEND" --revoke cdcdcdcd --config-dir "$cfg" >rev.out || fail "--revoke by fingerprint"
  "$SEND" --list-clients --config-dir "$cfg" >list.out || fail "--list-clients failed"
  expect_eq "clients after --revoke" "$(wc -l <list.out)" 1
  grep -q "^laptop " list.out || fail "the wrong client was revoked"
  # direct-mode options are refused in control mode
  rc=0
  "$SEND" --control 127.0.0.1:0 --seal-key-file /dev/null >sk.log 2>&1 </dev/null || rc=$?
  expect_eq "--seal-key-file without --direct exits" "$rc" 2
  grep -q -- "--seal-key-file is for direct mode" sk.log || fail "sealkey: $(cat sk.log)"
}

# start_control_sender CFG: a control-mode sender (320x240, 30 fps) with
# config dir CFG whose stdin is the FIFO in.fifo, held open on fd 4 so lines
# can be typed into it; sets SPID and CPORT (its control port)
start_control_sender() {
  local i
  mkfifo in.fifo
  exec 4<>in.fifo
  : >send.log # (as in start_sender)
  "$SEND" --control 127.0.0.1:0 --listen 127.0.0.1:0 --config-dir "$1" --size 320x240 \
    --fps 30 --stats-json stats.json --quiet <in.fifo 2>send.log &
  SPID=$!
  pids+=("$SPID")
  CPORT=""
  for i in $(seq 300); do
    CPORT=$(sed -n 's/.*control on 127\.0\.0\.1:\([0-9]*\) (TLS 1\.3).*/\1/p' send.log | head -n 1)
    [ -n "$CPORT" ] && break
    kill -0 "$SPID" 2>/dev/null || fail "the sender exited before listening"
    sleep 0.1
  done
  [ -n "$CPORT" ] || fail "the sender did not start"
}

# control mode with a real control client (bf-ctl-client: the library's
# client role and sealed data plane): pairing by the code typed into the
# sender's stdin, a sealed stream with the Welcome's S, a paired reconnect
# without a code, a wrong code, a second client replacing the first, a
# frozen client noticed, a punch from another IP than the control peer's.
control_stream_case() {
  [ -n "${BF_CTL_CLIENT:-}" ] || skip "bf-ctl-client not built (no OpenSSL)"
  local cfg=$work/cfg i
  start_control_sender "$cfg"
  local cport=$CPORT
  # type_code N CODEFILE [LINE]: once the sender has asked its Nth question,
  # type LINE (default: the code the client wrote into CODEFILE)
  type_code() {
    local n=$1 file=$2 line=${3:-} j
    for j in $(seq 200); do
      [ "$(grep -c "type the 6-digit code it shows" send.log)" -ge "$n" ] && [ -s "$file" ] && break
      sleep 0.05
    done
    [ -s "$file" ] || fail "no code shown for question $n"
    [ -n "$line" ] || line=$(cat "$file")
    echo "$line" >&4
  }
  client() { # client OUT ARGS...
    local out=$1
    shift
    "$BF_CTL_CLIENT" --connect "127.0.0.1:$cport" "$@" >"$out" 2>&1
  }
  # 1. A pairs: the operator types the code A shows; A gets a sealed stream
  client a1.out --id-dir "$work/a" --name laptop --seconds 2 --code-file a1.code &
  local cp=$!
  type_code 1 a1.code
  wait $cp || fail "client A"
  expect_eq "A established" "$(val established a1.out)" 1
  expect_eq "A sealed" "$(val sealed a1.out)" 1
  expect_eq "A shard size (its Hello's 1200)" "$(val shard a1.out)" 1200
  [ "$(val opened a1.out)" -ge 30 ] || fail "A opened only $(val opened a1.out) datagrams"
  expect_eq "A datagrams that did not open" "$(val bad a1.out)" 0
  grep -q 'paired with "laptop" (fp [0-9a-f]\{16\}\.\.\.)' send.log || fail "no 'paired with' line"
  # 2. A again: pinned, no code
  client a2.out --id-dir "$work/a" --name laptop --seconds 1
  expect_eq "A reconnects" "$(val established a2.out)" 1
  [ -z "$(val code a2.out)" ] || fail "a paired client was asked to pair again"
  [ "$(val opened a2.out)" -ge 10 ] || fail "A (reconnect) opened only $(val opened a2.out)"
  # 2b. A can only take 160x120: the sender does not rescale and says so
  client a2b.out --id-dir "$work/a" --name laptop --max-size 160x120
  expect_eq "A (small) ended with" "$(val closed_reason a2b.out)/$(val closed_by_peer a2b.out)" 8/1
  expect_eq "A (small) datagrams" "$(val opened a2b.out)" 0
  grep -q "the client takes at most 160x120 at 30 fps; this sender streams 320x240 at 30 fps" \
    send.log || fail "no message for the too-small client"
  # 3. B pairs with a wrong code: refused
  client b1.out --id-dir "$work/b" --name tv --code-file b1.code &
  cp=$!
  type_code 2 b1.code 000000
  wait $cp || fail "client B"
  [ "$(val code b1.out)" != 000000 ] || fail "B's code happened to be 000000; rerun"
  expect_eq "B established after a wrong code" "$(val established b1.out)" 0
  expect_eq "B's Bye" "$(val closed_reason b1.out)" 4
  grep -q 'pairing with "tv" refused: wrong code' send.log || fail "no 'wrong code' line"
  # 4. B pairs properly while A streams, and takes over from it
  client a3.out --id-dir "$work/a" --name laptop --seconds 8 &
  local apid=$!
  for i in $(seq 100); do grep -q "established" a3.out && break; sleep 0.1; done
  client b2.out --id-dir "$work/b" --name tv --seconds 1 --code-file b2.code &
  cp=$!
  type_code 3 b2.code
  wait $cp || fail "client B (second)"
  wait $apid || fail "client A (replaced)"
  expect_eq "B established" "$(val established b2.out)" 1
  expect_eq "A replaced" "$(val closed_reason a3.out)/$(val closed_by_peer a3.out)" 2/1
  [ "$(val opened b2.out)" -ge 10 ] || fail "B opened only $(val opened b2.out)"
  # 5. A punches from 127.0.0.2 while its control connection comes from 127.0.0.1: nothing
  client a4.out --id-dir "$work/a" --name laptop --seconds 1.5 --punch-from 127.0.0.2
  expect_eq "A established (wrong punch IP)" "$(val established a4.out)" 1
  expect_eq "datagrams to a punch from another IP" "$(val opened a4.out)/$(val bad a4.out)" 0/0
  # 6. A freezes: the sender stops within 2 s (1.5 s silence) and says why
  client a5.out --id-dir "$work/a" --name laptop --mute-after 0.5
  grep -q 'control session of "laptop" at 127.0.0.1 ended (by us: the peer went silent' send.log ||
    fail "the frozen client was not noticed"
  kill -INT "$SPID"
  wait_sender
  exec 4>&-
  expect_eq "pairings ok" "$(stat pairings_ok stats.json)" 2
  expect_eq "pairings refused" "$(stat pairings_refused stats.json)" 1
  expect_eq "established" "$(stat established stats.json)" 7
  expect_eq "replaced" "$(stat replaced stats.json)" 1
  expect_eq "closed dead" "$(stat closed_dead stats.json)" 1
  expect_eq "data-plane clients adopted (all but the wrong-IP punch)" "$(stat clients stats.json)" 5
  [ "$(stat punches_denied stats.json)" -ge 1 ] || fail "the punch from 127.0.0.2 was not counted"
  expect_eq "datagrams that failed to open at the sender" "$(stat bad_tag stats.json)" 0
  "$SEND" --list-clients --config-dir "$cfg" >list.out
  expect_eq "paired clients" "$(wc -l <list.out)" 2
  grep -q "^laptop  [0-9a-f]\{64\}  paired " list.out || fail "--list-clients: $(cat list.out)"
}

# control mode: an attacker who recorded one sealed datagram of the client
# and can send from the client's IP (another user on its machine, a spoofer
# on its LAN) punches from another port (the sender re-targets, as it must
# for a client behind a rebinding NAT) and replays the datagram from there.
# The session's replay window must survive the re-target: the replay is
# dropped and counted, not taken as a second keyframe request.
control_replay_case() {
  [ -n "${BF_CTL_CLIENT:-}" ] || skip "bf-ctl-client not built (no OpenSSL)"
  local cfg=$work/cfg i
  start_control_sender "$cfg"
  local cport=$CPORT
  "$BF_CTL_CLIENT" --connect "127.0.0.1:$cport" --id-dir "$work/a" --name laptop --seconds 2 \
    --replay-at 1 --code-file a.code >a.out 2>&1 &
  local cp=$!
  for i in $(seq 200); do
    grep -q "type the 6-digit code it shows" send.log && [ -s a.code ] && break
    sleep 0.05
  done
  [ -s a.code ] || fail "no code shown"
  cat a.code >&4
  wait $cp || fail "the client failed"
  expect_eq "established" "$(val established a.out)" 1
  expect_eq "replayed" "$(val replayed a.out)" 1
  kill -INT "$SPID"
  wait_sender
  exec 4>&-
  # the client's sealed keyframe request came first: the clear punch from
  # the second socket moves nothing (issue #15), and the recorded datagram
  # sent again from there is dropped as a replay
  expect_eq "re-targets" "$(stat retargets stats.json)" 0
  [ "$(stat punches_unauthenticated stats.json)" -ge 1 ] || fail "the clear punch was not refused"
  expect_eq "replays dropped by the sender" "$(stat replay_dup stats.json)" 1
}

# control mode started in the background of an interactive shell
# (`bildfunk-send &`): its stdin is the terminal, where the user types into
# the shell. The sender must not be stopped by SIGTTIN when it looks at that
# input, and must go on streaming and exit cleanly on SIGINT. script(1)
# gives the shell a terminal; `set -m` gives it job control.
control_background_case() {
  command -v script >/dev/null || skip "no script(1) to run a shell on a terminal"
  (sleep 1.5; printf 'typed into the shell\n'; sleep 5) | timeout 60 script -qec "set -m
    \"$SEND\" --control 127.0.0.1:0 --listen 127.0.0.1:0 --config-dir '$work/cfg' \
      --size 320x240 --fps 30 --quiet --stats-json '$work/stats.json' 2>'$work/send.log' &
    pid=\$!
    sleep 3.5
    ps -o stat= -p \$pid >'$work/state'
    kill -CONT \$pid
    kill -INT \$pid
    wait \$pid
    echo \$? >'$work/rc'" /dev/null >script.out 2>&1
  grep -q "control on 127.0.0.1" send.log || fail "the sender did not start: $(cat send.log)"
  local state
  state=$(tr -d ' \n' <state)
  [ -n "$state" ] || fail "no process state recorded: $(cat script.out)"
  case $state in
  T*) fail "the background sender was stopped by terminal input (state $state)" ;;
  esac
  expect_eq "sender exit status" "$(cat rc)" 0
  [ -s stats.json ] || fail "no statistics written"
}

make_clip() { # make_clip OUT FRAMES ENCODER-ARGS...
  local out=$1 n=$2
  shift 2
  ffmpeg -v error -y -f lavfi -i "testsrc2=size=320x240:rate=30" -frames:v "$n" \
    -pix_fmt yuv420p "$@" "$out" || fail "ffmpeg could not make $out"
}

file_passthrough_case() {
  make_clip clip.mp4 30 -c:v libx264 -bf 2 -g 15
  start_sender send.log --source file:clip.mp4 --codec h264 --no-loop --dump-au sent.h264 \
    --stats-json stats.json
  "$RECV" --connect "127.0.0.1:$PORT" --out recv.h264 --index index.csv --frames 30 >recv.out ||
    fail "receiver"
  wait_sender
  check_recv recv.out 30
  expect_eq "BYE at the end of the file" "$(val bye recv.out)" 1
  check_stream h264 30 320 240 nostrip
  grep -q '"encoder": "passthrough"' stats.json || fail "the file was re-encoded"
  # passthrough means the file's own bytes, as Annex-B
  ffmpeg -v error -y -i clip.mp4 -c:v copy -bsf:v h264_mp4toannexb -f h264 ref.h264
  cmp -s ref.h264 recv.h264 || fail "passthrough AUs differ from the file's Annex-B stream"
}

file_loop_case() {
  make_clip clip.mp4 30 -c:v libx264 -g 15
  start_sender send.log --source file:clip.mp4 --codec h264 --frames 45 --dump-au sent.h264 \
    --stats-json stats.json
  "$RECV" --connect "127.0.0.1:$PORT" --out recv.h264 --index index.csv --frames 45 >recv.out ||
    fail "receiver"
  wait_sender
  check_recv recv.out 45
  check_stream h264 45 320 240 nostrip
  # the second pass starts with the file's first (key)frame
  [ "$(sed -n 32p index.csv | cut -d, -f3)" = 4 ] || fail "AU 30 (start of pass 2) is not a keyframe"
}

# file_loop_raw: raw streams (Annex B, OBU) have no index to seek in; the
# sender opens them again for the next pass (issue #15). A file cut in the
# middle of an AU loops too.
file_loop_raw_case() {
  make_clip clip.h264 30 -c:v libx264 -g 15 -bsf:v h264_mp4toannexb -f h264
  start_sender send.log --source file:clip.h264 --codec h264 --frames 45 --dump-au sent.h264
  "$RECV" --connect "127.0.0.1:$PORT" --out recv.h264 --index index.csv --frames 45 >recv.out ||
    fail "receiver (raw H.264)"
  wait_sender
  check_recv recv.out 45
  check_stream h264 45 320 240 nostrip
  [ "$(sed -n 32p index.csv | cut -d, -f3)" = 4 ] || fail "AU 30 (start of pass 2) is not a keyframe"
  make_clip clip.obu 20 -c:v libsvtav1 -preset 12 -g 10 -f obu
  start_sender send.log --source file:clip.obu --codec av1 --frames 30 --dump-au sent.obu
  "$RECV" --connect "127.0.0.1:$PORT" --codec av1 --out recv.obu --index index.csv --frames 30 \
    >recv.out || fail "receiver (raw AV1)"
  wait_sender
  check_recv recv.out 30
  check_stream obu 30 320 240 nostrip
  head -c "$(($(stat -c %s clip.h264) * 2 / 3))" clip.h264 >cut.h264
  start_sender send.log --source file:cut.h264 --codec h264 --frames 45 --dump-au sent.h264
  "$RECV" --connect "127.0.0.1:$PORT" --out recv.h264 --index index.csv --frames 45 >recv.out ||
    fail "receiver (a cut raw file)"
  wait_sender
  check_recv recv.out 45
  grep -q "cannot start over" send.log && fail "the sender could not start over"
  return 0
}

file_reencode_case() {
  make_clip clip.mkv 20 -c:v libx265 -x265-params log-level=error
  start_sender send.log --source file:clip.mkv --codec h264 --no-loop --dump-au sent.h264 \
    --stats-json stats.json
  "$RECV" --connect "127.0.0.1:$PORT" --out recv.h264 --index index.csv --frames 20 >recv.out ||
    fail "receiver"
  wait_sender
  check_recv recv.out 20
  check_stream h264 20 320 240 nostrip
  grep -q '"encoder": "libx264"' stats.json || fail "the HEVC file was not re-encoded to H.264"
}

file_av1_case() {
  make_clip clip.mp4 20 -c:v libsvtav1 -preset 12 -g 10
  start_sender send.log --source file:clip.mp4 --codec av1 --no-loop --dump-au sent.obu \
    --stats-json stats.json
  "$RECV" --connect "127.0.0.1:$PORT" --codec av1 --out recv.obu --index index.csv --frames 20 \
    >recv.out || fail "receiver"
  wait_sender
  check_recv recv.out 20
  check_stream obu 20 320 240 nostrip
  grep -q '"encoder": "passthrough"' stats.json || fail "the AV1 file was re-encoded"
}

x11_case() {
  command -v Xvfb >/dev/null || skip "Xvfb is not installed"
  exec 5>xvfb.display
  Xvfb -displayfd 5 -screen 0 320x240x24 -nolisten tcp >xvfb.log 2>&1 &
  pids+=("$!")
  local i disp=
  for i in $(seq 100); do
    disp=$(head -n 1 xvfb.display 2>/dev/null || true)
    [ -n "$disp" ] && break
    sleep 0.1
  done
  [ -n "$disp" ] || fail "Xvfb did not start"
  # X's own form (x11::N) and the README's (x11:N, issue #17)
  local form
  for form in "x11::$disp" "x11:$disp"; do
    start_sender send.log --source "$form" --fps 30 --frames 20 --dump-au sent.h264 \
      --stats-json stats.json
    "$RECV" --connect "127.0.0.1:$PORT" --out recv.h264 --index index.csv --frames 20 >recv.out ||
      fail "receiver ($form)"
    wait_sender
    check_recv recv.out 20
    check_stream h264 20 320 240 nostrip
  done
}

# expect_error NAME WANT_TEXT ARGS...: the sender refuses with a message.
expect_error() {
  local name=$1 want=$2 rc=0
  shift 2
  "$SEND" --direct --listen 127.0.0.1:0 "$@" >"$name.log" 2>&1 </dev/null || rc=$?
  [ "$rc" -ne 0 ] || fail "$name: exit status 0"
  grep -qF -- "$want" "$name.log" || fail "$name: no '$want' in: $(cat "$name.log")"
}

bad_input_case() {
  expect_error codec "unknown codec 'vp9'" --codec vp9
  expect_error encoder "unknown encoder 'nosuchenc'" --encoder nosuchenc
  expect_error mismatch "encodes hevc, not h264" --codec h264 --encoder libx265
  expect_error option "unknown option '--frobnicate'" --frobnicate
  expect_error size "--size: bad size" --size 12x7
  expect_error shard "--shard: bad size" --shard 1001
  expect_error intra "--intra-refresh needs libx264 (not libx265)" --codec hevc --intra-refresh
  expect_error nofile "cannot open file '$work/nonexistent.mp4'" --source "file:$work/nonexistent.mp4"
  : >empty.mp4
  expect_error emptyfile "file '$work/empty.mp4'" --source "file:$work/empty.mp4"
  make_clip whole.mp4 30 -c:v libx264
  head -c 3000 whole.mp4 >cut.mp4 # the index (moov) is at the end: gone
  expect_error truncated "file '$work/cut.mp4'" --source "file:$work/cut.mp4"
  head -c 20000 /dev/urandom >noise.mp4
  expect_error garbagefile "file '$work/noise.mp4'" --source "file:$work/noise.mp4"
  expect_error nodisplay "cannot open x11 display ':987'" --source x11::987
  # the README's form is display :987 too, and the error names the form that works
  expect_error nodisplay2 "cannot open x11 display ':987'" --source x11:987
  grep -qF -- "e.g. --source x11:0" nodisplay2.log || fail "nodisplay2: no hint at the working form"
  # a busy port
  start_sender hold.log --size 320x240
  expect_error busy "port 127.0.0.1:$PORT is busy" --listen "127.0.0.1:$PORT" --size 320x240
  kill -INT "$SPID"
  wait_sender
  # a hardware encoder asked for by name that is not there: an error (exit 1)
  # that names the software encoder to use instead (issue #17; it fell back
  # with one line before)
  expect_status hw 1 "hardware encoder h264_nvenc cannot be used here" --encoder h264_nvenc \
    --size 320x240
  grep -q "leave out --encoder for the software encoder libx264" hw.log || fail "hw: no hint"
  # command-line errors: exit 2, the --help hint as the last line
  expect_status preset 2 "--preset: 'fast2' is not a preset of libx264" --preset fast2
  expect_status preset_av1 2 "is not a preset of libsvtav1 (a number" --codec av1 --preset 99
  expect_status bitrate 2 "--bitrate: '20000' has no unit" --bitrate 20000
  expect_status unknown 2 "unknown option '--frobnicate'" --frobnicate
  local f
  for f in preset preset_av1 bitrate unknown; do
    [ "$(tail -n 1 "$f.log")" = "Try 'bildfunk-send --help'." ] || fail "$f: no --help hint at the end"
  done
  "$SEND" -V | grep -q "^bildfunk-send [0-9]" || fail "-V"
}

# expect_status NAME STATUS WANT_TEXT ARGS...: the sender exits with STATUS
# and says WANT_TEXT.
expect_status() {
  local name=$1 want_rc=$2 want=$3 rc=0
  shift 3
  "$SEND" --direct --listen 127.0.0.1:0 "$@" >"$name.log" 2>&1 </dev/null || rc=$?
  expect_eq "$name: exit status" "$rc" "$want_rc"
  grep -qF -- "$want" "$name.log" || fail "$name: no '$want' in: $(cat "$name.log")"
}

# fec_case LOSS_PCT MIN MAX [WMIN WMAX]: adaptive FEC through bildfunk-netsim with LOSS_PCT %
# random loss toward the receiver, which sends a LOSS_REPORT every 750 ms.
# After the first report every AU must carry between MIN and MAX % parity;
# with loss, the whole run's measured loss must map to WMIN-WMAX %.
# rate_case CODEC: a link far slower than the stream (netsim 0.5 Mbit/s,
# 60 ms queue) makes the rate controller lower its budget. libx264 follows
# (its bitrate at the end is below the configured one, nothing refused);
# libx265 cannot change its bitrate while running: the sender says so once
# on stderr, counts every change it could not apply and keeps the bitrate.
rate_case() {
  local codec=$1
  [ -n "$NETSIM" ] && [ -x "$NETSIM" ] || skip "bildfunk-netsim is not built"
  start_sender send.log --codec "$codec" --size 640x360 --fps 30 --bitrate 3M --gop 15 \
    --shard 1024 --duration 5 --stats-json send.json
  start_netsim --seed 5 --dir down --rate 0.5 --queue-ms 60 --duration 12
  "$RECV" --connect "127.0.0.1:$NPORT" --out recv.bin --index recv.csv --loss-reports 1 \
    --timeout 10 >recv.out 2>recv.log || true
  wait_sender
  kill -INT "$NPID" 2>/dev/null || true
  wait "$NPID" 2>/dev/null || true
  local rate dec enc na said
  rate=$(grep -o '"rate": {[^}]*}' send.json)
  dec=$(echo "$rate" | grep -o '"decreases": [0-9]*' | sed 's/.*: //')
  enc=$(echo "$rate" | grep -o '"encoder_bitrate_now": [0-9]*' | sed 's/.*: //')
  na=$(echo "$rate" | grep -o '"not_applied": [0-9]*' | sed 's/.*: //')
  said=$(grep -c "cannot change its bitrate while running" send.log || true)
  echo "rate $codec: $rate; said $said time(s)"
  grep "rate .* -> " send.log || true
  [ "${dec:-0}" -ge 1 ] || fail "the budget was never lowered"
  if [ "$codec" = h264 ]; then
    [ "$enc" -lt 3000000 ] || fail "libx264 still at $enc bit/s"
    expect_eq "changes not applied" "$na" 0
    expect_eq "messages" "$said" 0
  else
    expect_eq "encoder bitrate" "$enc" 3000000
    [ "${na:-0}" -ge 1 ] || fail "no change counted as not applied"
    expect_eq "messages" "$said" 1
  fi
}

# start_netsim ARGS...: bildfunk-netsim between the receiver and the sender
# ($PORT), quiet, statistics to netsim.json; sets NPID and NPORT (where the
# receiver connects)
start_netsim() {
  local i
  : >netsim.log # (as in start_sender)
  "$NETSIM" --to "127.0.0.1:$PORT" --listen 127.0.0.1:0 --quiet --stats-json netsim.json "$@" \
    >netsim.log 2>&1 &
  NPID=$!
  pids+=("$NPID")
  NPORT=""
  for i in $(seq 100); do
    NPORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' netsim.log | head -n 1)
    [ -n "$NPORT" ] && break
    sleep 0.1
  done
  [ -n "$NPORT" ] || fail "netsim did not start"
}

fec_case() {
  local loss=$1 lo=$2 hi=$3
  [ -n "$NETSIM" ] && [ -x "$NETSIM" ] || skip "bildfunk-netsim is not built"
  # all-intra at small shards: ~2000 packets/s, so one window's loss estimate
  # is within about +-0.6 % of the real rate
  start_sender send.log --size 960x540 --fps 30 --bitrate 8M --gop 1 --shard 512 \
    --duration 7 --stats-json send.json
  start_netsim --seed 11 --dir down --loss "$loss" --duration 14
  "$RECV" --connect "127.0.0.1:$NPORT" --out recv.h264 --index recv.csv --loss-reports 1 \
    --timeout 12 >recv.out 2>recv.log || true
  wait_sender
  kill -INT "$NPID" 2>/dev/null || true
  wait "$NPID" 2>/dev/null || true
  local reports pct minp maxp lossy
  reports=$(val loss_reports recv.out)
  [ "${reports:-0}" -ge 6 ] || fail "only ${reports:-0} loss reports sent"
  expect_eq "loss reports taken" "$(stat reports send.json)" "$reports"
  pct=$(stat percent send.json)
  minp=$(stat min_seen send.json)
  maxp=$(stat max_seen send.json)
  lossy=$(stat lossy send.json)
  echo "fec $loss% loss: reports $reports lossy $lossy percent $pct min $minp max $maxp" \
       "measured loss $(val loss_missing recv.out)/$(val loss_expected recv.out)"
  grep "FEC .*->" send.log || true
  [ "$minp" -ge "$lo" ] && [ "$maxp" -le "$hi" ] && [ "$pct" -ge "$lo" ] && [ "$pct" -le "$hi" ] ||
    fail "FEC % outside $lo-$hi: now $pct, seen $minp-$maxp"
  # every change the sender logged is the formula on the loss it was told:
  # max(floor, ceil(loss % x 1.4) + 1), clamped to 1-50
  sed -n 's/.*FEC [0-9]*% -> \([0-9]*\)% (loss \([0-9.]*\) %, floor \([0-9]*\)%).*/\1 \2 \3/p' \
    send.log >changes.txt
  awk '{ ppm = int($2 * 10000 + 0.5); t = int((ppm * 14 + 99999) / 100000) + 1;
         if (t > 50) t = 50; if (t < $3) t = $3;
         if (t != $1) { print "change to " $1 "% for loss " $2 " %, formula says " t "%"; bad = 1 } }
       END { exit bad }' changes.txt || fail "a FEC change does not follow the formula"
  if [ "$loss" != 0 ]; then
    # the whole run's loss through the formula: 5 % -> 8, allow the sample's spread
    local m e whole
    m=$(val loss_missing recv.out)
    e=$(val loss_expected recv.out)
    whole=$(( (m * 140 + e - 1) / e + 1 ))
    [ "$whole" -ge "$4" ] && [ "$whole" -le "$5" ] ||
      fail "the run's loss $m/$e gives $whole %, expected $4-$5"
  fi
  if [ "$loss" = 0 ]; then
    expect_eq "lossy reports" "$lossy" 0
    ! grep -q "FEC .*->.*floor 5" send.log || fail "the floor was burnt without loss"
  else
    [ "$lossy" -ge $((reports - 1)) ] || fail "only $lossy of $reports reports saw loss"
    expect_eq "floor" "$(stat floor send.json)" 5
    grep -q "FEC 10% -> " send.log || fail "no change from the start value logged"
  fi
}

# intra_refresh_case: libx264 with --intra-refresh --gop 10: the first AU is
# the only IDR, every 10th AU after it is a RECOVERY_POINT (user_flags 0x10),
# and ffmpeg decoding the received stream from a wave's first AU (with the
# parameter sets of the stream start in front) shows, from the recovery
# point on, exactly the pictures of the full decode, the strip of the
# recovery-point picture carrying that AU's pts.
intra_refresh_case() {
  start_sender send.log --size 320x240 --fps 30 --frames 45 --intra-refresh --gop 10 \
    --dump-au sent.h264 --stats-json stats.json
  "$RECV" --connect "127.0.0.1:$PORT" --out recv.h264 --index index.csv --frames 45 \
    >recv.out || fail "receiver"
  wait_sender
  check_recv recv.out 45
  grep -q "intra refresh: a wave every 10 frames" send.log || fail "no intra refresh line"
  cmp -s sent.h264 recv.h264 || fail "received AU stream differs from --dump-au"
  # AU number (0-based) of every recovery point, and of every IDR
  local rps idrs
  rps=$(tail -n +2 index.csv | awk -F, '{ if (int($3 / 16) % 2) printf "%d ", NR - 1 }')
  idrs=$(tail -n +2 index.csv | awk -F, '{ if (int($3 / 4) % 2) printf "%d ", NR - 1 }')
  echo "recovery points at AUs: $rps; IDR at: $idrs"
  expect_eq "IDR AUs" "$idrs" "0 "
  expect_eq "recovery points" "$rps" "19 29 39 "
  expect_eq "stats recovery_points" "$(stat recovery_points stats.json)" 3
  # full decode, every picture's strip against the index
  ffmpeg -v error -i recv.h264 -f rawvideo -pix_fmt gray full.gray || fail "ffmpeg full decode"
  "$STRIP" 320x240 index.csv <full.gray >strip.out || fail "strip check (full)"
  expect_eq "strip frames" "$(val strip_frames strip.out)" 45
  # the stream from the second wave's first AU (20; its recovery point is 29)
  local off20 ps
  off20=$(tail -n +2 index.csv | awk -F, 'NR <= 20 { s += $4 } END { print s }')
  # parameter sets: AU 0 up to its first SEI (type 6) or IDR slice (type 5) NAL
  ps=$(head -c 2000 recv.h264 | LC_ALL=C grep -obUaP '\x00\x00\x01[\x05\x06\x25\x45\x65]' |
       head -n 1 | cut -d: -f1)
  [ -n "$ps" ] && [ "$ps" -gt 0 ] || fail "no parameter sets found in AU 0"
  { head -c "$ps" recv.h264; tail -c +$((off20 + 1)) recv.h264; } >cut.h264
  ffmpeg -v error -flags2 +showall -i cut.h264 -f rawvideo -pix_fmt gray cut.gray ||
    fail "ffmpeg decode from the wave start"
  local fsz=$((320 * 240)) n_cut
  n_cut=$(($(wc -c <cut.gray) / fsz))
  expect_eq "pictures from the wave start" "$n_cut" 25
  # picture 29 of the stream is picture 9 of the cut: from there on identical
  cmp -s <(tail -c +$((29 * fsz + 1)) full.gray) <(tail -c +$((9 * fsz + 1)) cut.gray) ||
    fail "pictures from the recovery point on differ from the full decode"
  # and before it they are not (the refresh was needed)
  ! cmp -s <(tail -c +$((20 * fsz + 1)) full.gray | head -c $fsz) <(head -c $fsz cut.gray) ||
    fail "the wave's first picture is already clean: nothing was tested"
  # the strip of the recovery-point picture carries AU 29's pts
  { head -n 1 index.csv; tail -n +2 index.csv | tail -n +30; } >index29.csv
  tail -c +$((9 * fsz + 1)) cut.gray | "$STRIP" 320x240 index29.csv >strip29.out ||
    fail "strip check from the recovery point"
  expect_eq "strip frames from the recovery point" "$(val strip_frames strip29.out)" 16
}

# encode_guard_case PIN: an encoder made slow by the test option
# --test-encode-delay (150 ms per encode at the starting preset, a 100 ms
# frame interval at 10 fps, so a busy machine's own encode time, ~1 ms here,
# cannot decide anything): without --preset the guard steps veryfast ->
# superfast after two slow windows of 10 pictures, at a keyframe, with one
# log line, and stays there (the delay is gone); with PIN=pin (--preset
# veryfast) nothing steps.
encode_guard_case() {
  local pin=$1 n=40 extra=()
  [ "$pin" = pin ] && extra=(--preset veryfast)
  start_sender send.log --size 320x240 --fps 10 --frames $n --codec h264 "${extra[@]}" \
    --test-encode-delay 150 --dump-au sent.h264 --stats-json stats.json
  "$RECV" --connect "127.0.0.1:$PORT" --codec h264 --out recv.h264 --index index.csv \
    --frames $n >recv.out || fail "receiver"
  wait_sender
  check_recv recv.out $n
  check_stream h264 $n 320 240
  local lines keys
  lines=$(grep -c "encoder guard:" send.log || true)
  keys=$(tail -n +2 index.csv | awk -F, '{ if (int($3 / 4) % 2) printf "%d ", NR - 1 }')
  if [ "$pin" = pin ]; then
    expect_eq "guard lines with --preset" "$lines" 0
    expect_eq "keyframes (AU index)" "$keys" "0 "
    expect_eq "guard active" "$(stat active <(grep encoder_guard stats.json))" 0
  else
    expect_eq "guard lines" "$lines" 1
    grep -q "encoder guard: encode p95 .* above the frame interval 100.0 ms: preset veryfast -> superfast at a keyframe" send.log ||
      fail "the guard's line: $(grep 'encoder guard' send.log)"
    # the step comes after two windows of 10 pictures: the keyframe is AU 20
    expect_eq "keyframes (AU index)" "$keys" "0 20 "
    expect_eq "keyframes_sent" "$(stat keyframes_sent stats.json)" 2
    expect_eq "guard steps down" "$(stat steps_down stats.json)" 1
    grep -q '"preset": "superfast"' stats.json || fail "the guard's preset in --stats-json"
  fi
}

case $case_ in
  h264 | hevc | av1) stream_case "$case_" ;;
  encode_guard) encode_guard_case step ;;
  encode_guard_pinned) encode_guard_case pin ;;
  keyframe_h264) keyframe_case h264 2 ;;
  keyframe_hevc) keyframe_case hevc 2 ;;
  keyframe_av1) keyframe_case av1 4 ;; # SVT-AV1 holds two pictures back
  garbage) garbage_case ;;
  session) session_case ;;
  control) control_case ;;
  control_stream) control_stream_case ;;
  control_replay) control_replay_case ;;
  control_background) control_background_case ;;
  file_passthrough) file_passthrough_case ;;
  file_loop) file_loop_case ;;
  file_loop_raw) file_loop_raw_case ;;
  file_reencode) file_reencode_case ;;
  file_av1) file_av1_case ;;
  x11) x11_case ;;
  bad_input) bad_input_case ;;
  intra_refresh) intra_refresh_case ;;
  fec_auto_loss5) fec_case 5 5 13 8 9 ;;
  fec_auto_clean) fec_case 0 1 1 ;;
  rate_h264) rate_case h264 ;;
  rate_hevc) rate_case hevc ;;
  *) echo "e2e.sh: unknown case $case_" >&2; exit 2 ;;
esac
echo "PASS ($case_)"
