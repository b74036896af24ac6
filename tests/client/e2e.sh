#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# End-to-end tests of the client, bildfunk: real processes over loopback.
#   e2e.sh CASE
# The binaries come from the environment (set by tests/cmake/client.cmake):
# BF_CLIENT, BF_SENDER (bildfunk-send), BF_RELAY, BF_FAKESEND and BF_FAKECTL
# (test tools in this directory), BF_XTOOL and BF_SHOTCHECK (display tests).
# Every case is small (320x240, a few dozen frames) so the suite stays fast
# on two shared cores and under ASan. Exit 0 pass, 1 fail, 77 skip.
# Cases (see the case statement at the end and docs/client.md): usage,
# no-sender, wrong-port, garbage, junk-bitstream, decoder-fallback, idle-cpu,
# md5-h264, md5-hevc, md5-av1, fec-loss, keyframe-recovery,
# intra-refresh-recovery, empty-au, sender-dies, sender-error, burst-frozen, skip-off-slow, no-keyframe,
# wait-resume, garbage-mixed, skip-to-live, clock-offset, xvfb-screenshot,
# xvfb-aspect, control-fake, control-stream, xvfb-pair, xvfb-pair-refused,
# xvfb-connect, xvfb-error, list-unpair, xvfb-fit, host-stage, start-smooth,
# gro, hwdec-fallback, xvfb-slow-shown.
# BF_E2E_KEEP=1 keeps the case's temporary directory.
set -uo pipefail
case_name=${1:?usage: e2e.sh CASE}
: "${BF_CLIENT:?BF_CLIENT must point at the bildfunk binary}"

source "$(dirname "$0")/../lib/e2e.sh" bf-client-e2e
now() { date +%s.%N; }

# start_sender ARGS...: bildfunk-send on 127.0.0.1, an ephemeral port
# (SENDER_PORT), in the background (SENDER_PID); stderr in $tmp/sender.err.
start_sender() {
  local port=${SENDER_LISTEN_PORT:-0}
  : > "$tmp/sender.err" # emptied here, not in the child: the poll below must not read a stale port
  "$BF_SENDER" --direct --listen "127.0.0.1:$port" "$@" 2> "$tmp/sender.err" > "$tmp/sender.out" &
  SENDER_PID=$!
  pids+=("$SENDER_PID")
  SENDER_PORT=
  for _ in $(seq 200); do
    SENDER_PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/sender.err")
    [ -n "$SENDER_PORT" ] && return 0
    kill -0 "$SENDER_PID" 2>/dev/null || fail "the sender exited at start"
    sleep 0.05
  done
  fail "the sender did not start listening"
}
# stop_sender: lets it finish on its own for up to 5 s, then kills it
stop_sender() {
  for _ in $(seq 50); do
    if ! kill -0 "$SENDER_PID" 2>/dev/null; then
      wait "$SENDER_PID" 2>/dev/null
      return 0
    fi
    sleep 0.1
  done
  echo "note: the sender did not exit after its stream ended; killed"
  kill -9 "$SENDER_PID" 2>/dev/null
  wait "$SENDER_PID" 2>/dev/null
}
# start_relay ARGS...: bf_relay to the sender, RELAY_PORT for the client
start_relay() {
  "$BF_RELAY" --listen 0 --port-file "$tmp/relay.port" --to "127.0.0.1:$SENDER_PORT" \
    --idle-exit 5 "$@" > "$tmp/relay.out" 2> "$tmp/relay.err" &
  RELAY_PID=$!
  pids+=("$RELAY_PID")
  for _ in $(seq 100); do
    [ -s "$tmp/relay.port" ] && { RELAY_PORT=$(cat "$tmp/relay.port"); return 0; }
    sleep 0.05
  done
  fail "the relay did not start"
}
# client ARGS...: runs bildfunk in the foreground; CLIENT_RC, $tmp/client.err
# client ARGS...: runs bildfunk to its end (CLIENT_RC). When it pairs and asks
# for the code the sender shows, it gets the sender's code that
# bf_fakectl printed for this connection in $tmp/fakectl.err (the user
# reading it off the sender's screen); CLIENT_TYPES=wrong types another.
client() {
  local n0 cp
  n0=$(grep -c "sender code" "$tmp/fakectl.err" 2> /dev/null)
  rm -f "$tmp/cin"
  mkfifo "$tmp/cin"
  "$BF_CLIENT" "$@" < "$tmp/cin" 2> "$tmp/client.err" &
  cp=$!
  exec 4> "$tmp/cin"
  type_sender_code "$cp" "$tmp/client.err" "$tmp/fakectl.err" "${n0:-0}"
  exec 4>&-
  wait "$cp"
  CLIENT_RC=$?
}
# type_sender_code PID ERR LOG N0: while PID runs, once ERR asks for the
# sender's code, writes to fd 4 the code of the first "sender code" line of
# LOG after its first N0 (or that code + 1 with CLIENT_TYPES=wrong)
type_sender_code() {
  local code=
  while kill -0 "$1" 2> /dev/null; do
    if [ -z "$code" ] && grep -q "then type here the code the sender shows" "$2"; then
      code=$(grep "sender code" "$3" 2> /dev/null | sed -n "$(($4 + 1))s/.*sender code \([0-9]\{6\}\).*/\1/p")
      if [ -n "$code" ]; then
        [ "${CLIENT_TYPES:-}" = wrong ] && code=$(printf '%06d' $(( (10#$code + 1) % 1000000 )))
        # the client may end (refused) before it reads it: no SIGPIPE here
        (trap '' PIPE; echo "$code" >&4) 2> /dev/null
      fi
    fi
    sleep 0.02
  done
}
reference_md5() { # reference_md5 DUMP OUT: ffmpeg's own framemd5 of what was sent
  ffmpeg -hide_banner -loglevel error -i "$1" -f framemd5 - > "$2" || fail "ffmpeg cannot read $1"
}

# --- cases -------------------------------------------------------------------

case_usage() {
  # no HOST and no display: nowhere to ask for the sender (xvfb-connect has one)
  env -u DISPLAY -u WAYLAND_DISPLAY -u SDL_VIDEODRIVER "$BF_CLIENT" > /dev/null 2> "$tmp/a.err"
  [ $? -eq 2 ] || fail "no arguments: want exit 2"
  grep -q "bildfunk HOST" "$tmp/a.err" || fail "no arguments: the error does not show bildfunk HOST"
  grep -q "no window to ask in" "$tmp/a.err" || fail "no arguments: the error does not say why"
  "$BF_CLIENT" --headless --config-dir "$tmp/cfg" > /dev/null 2> "$tmp/a.err"
  [ $? -eq 2 ] || fail "--headless without HOST: want exit 2"
  grep -q "no sender given: bildfunk HOST" "$tmp/a.err" || fail "--headless without HOST: message"
  "$BF_CLIENT" --help > "$tmp/help.out" || fail "--help failed"
  grep -q "Usage: bildfunk \[options\] HOST\[:PORT\]" "$tmp/help.out" || fail "--help text"
  grep -q "bildfunk pair \[options\] HOST\[:PORT\]" "$tmp/help.out" || fail "--help: no pair"
  "$BF_CLIENT" --version | grep -Eq "^bildfunk [0-9]+\.[0-9]+\.[0-9]+" || fail "--version"
  "$BF_CLIENT" --direct 127.0.0.1:99999 --headless 2> "$tmp/b.err"
  [ $? -eq 2 ] || fail "port 99999: want exit 2"
  grep -q "127.0.0.1:99999" "$tmp/b.err" || fail "port 99999: the error does not name it"
  "$BF_CLIENT" --direct 127.0.0.1:5000 --frobnicate 2> "$tmp/c.err"
  [ $? -eq 2 ] || fail "unknown option: want exit 2"
  grep -q -- "--frobnicate" "$tmp/c.err" || fail "unknown option not named"
  "$BF_CLIENT" somehost otherhost 2> "$tmp/d.err"
  [ $? -eq 2 ] || fail "two hosts: want exit 2"
  # every usage error ends the same way, in every program (issue #17)
  env -u DISPLAY -u WAYLAND_DISPLAY -u SDL_VIDEODRIVER "$BF_CLIENT" > /dev/null 2> "$tmp/g.err"
  "$BF_CLIENT" 'host:99999' --headless 2> "$tmp/h.err"
  [ $? -eq 2 ] || fail "host:99999: want exit 2"
  local f
  for f in a b c d g h; do
    [ "$(tail -n 1 "$tmp/$f.err")" = "Try 'bildfunk --help'." ] ||
      fail "$f.err does not end with the --help hint: $(cat "$tmp/$f.err")"
  done
  "$BF_CLIENT" -V | grep -Eq "^bildfunk [0-9]+\.[0-9]+\.[0-9]+" || fail "-V"
  "$BF_CLIENT" no-such-host.invalid --headless --config-dir "$tmp/cfg" 2> "$tmp/f.err"
  [ $? -eq 1 ] || fail "control mode, unresolvable host: want exit 1"
  grep -q "no-such-host.invalid: host not found" "$tmp/f.err" || fail "control mode: host not found"
  "$BF_CLIENT" --direct no-such-host.invalid --headless 2> "$tmp/e.err"
  [ $? -eq 1 ] || fail "unresolvable host: want exit 1"
  grep -q "host not found" "$tmp/e.err" || fail "unresolvable host: message"
  # an output that cannot be written ends before the session, --report as
  # the others (issue #17: it was noticed after the session)
  local opt t0 t1
  for opt in --report --stats-json --framemd5; do
    t0=$(now)
    "$BF_CLIENT" --direct 127.0.0.1:9 --headless "$opt" "$tmp/no-such-dir/out" 2> "$tmp/o.err"
    [ $? -eq 1 ] || fail "$opt to a missing directory: want exit 1"
    t1=$(now)
    grep -q -- "$opt $tmp/no-such-dir/out: No such file or directory" "$tmp/o.err" ||
      fail "$opt: message: $(cat "$tmp/o.err")"
    grep -q "no data from" "$tmp/o.err" && fail "$opt: noticed only after the session"
    fcmp "$t1 - $t0" "<" 1.5 || fail "$opt: took $(awk "BEGIN{print $t1-$t0}") s"
  done
  # HOST but no display: SDL would stream into a window nobody sees; the
  # client says so and names --headless (issue #17)
  env -u DISPLAY -u WAYLAND_DISPLAY -u SDL_VIDEODRIVER "$BF_CLIENT" --direct 127.0.0.1:9 \
    --duration 0.5 2> "$tmp/n.err"
  grep -q -- "--headless" "$tmp/n.err" || fail "no display: --headless not suggested: $(cat "$tmp/n.err")"
  grep -q "no window will open" "$tmp/n.err" || fail "no display: not said: $(cat "$tmp/n.err")"
  ok "usage errors exit 2 with a message, --help and --version work; unwritable outputs end first"
}

case_no_sender() {
  local t0 t1 w
  t0=$(now)
  client --direct 127.0.0.1:9 --headless --stats-json "$tmp/ns.json"
  t1=$(now)
  [ "$CLIENT_RC" -eq 1 ] || fail "want exit 1, got $CLIENT_RC"
  grep -q "no data from 127.0.0.1:9 for 2 s — is the sender running?" "$tmp/client.err" ||
    fail "no 'no data' message"
  # timed by the client from the start of streaming (its own start took
  # seconds on a busy machine: 4.1 s from outside once)
  w=$(jnum "$tmp/ns.json" wall_s)
  fcmp "$w" ">=" 1.9 && fcmp "$w" "<=" 3.5 || fail "gave up after $w s (from outside $(awk "BEGIN{print $t1-$t0}") s)"
  ok "no sender: message and exit 1 after $w s"
  t0=$(now)
  client --direct 127.0.0.1:9 --headless --wait --duration 3.5
  t1=$(now)
  [ "$CLIENT_RC" -eq 0 ] || fail "--wait: want exit 0 at --duration, got $CLIENT_RC"
  fcmp "$t1 - $t0" ">=" 3.4 || fail "--wait gave up early"
  grep -q "is the sender running? (waiting)" "$tmp/client.err" || fail "--wait: no message"
  ok "--wait keeps waiting"
}

case_wrong_port() {
  need BF_SENDER
  start_sender --size 320x240 --duration 6 --quiet
  local wrong=$((SENDER_PORT + 1))
  [ "$wrong" -gt 65535 ] && wrong=$((SENDER_PORT - 1))
  client --direct "127.0.0.1:$wrong" --headless
  [ "$CLIENT_RC" -eq 1 ] || fail "want exit 1, got $CLIENT_RC"
  grep -q "no data from 127.0.0.1:$wrong" "$tmp/client.err" || fail "no message"
  grep -q "punched in" "$tmp/sender.err" && fail "the sender saw a client"
  ok "a sender on another port: message and exit 1"
}

case_garbage() {
  need BF_FAKESEND
  "$BF_FAKESEND" --listen 0 --port-file "$tmp/fake.port" --mode garbage --seconds 5 \
    > "$tmp/fake.out" 2> "$tmp/fake.err" &
  pids+=($!)
  for _ in $(seq 100); do [ -s "$tmp/fake.port" ] && break; sleep 0.05; done
  local t0 t1
  t0=$(now)
  client --direct "127.0.0.1:$(cat "$tmp/fake.port")" --headless --stats-json "$tmp/c.json"
  t1=$(now)
  [ "$CLIENT_RC" -eq 1 ] || fail "want exit 1, got $CLIENT_RC"
  grep -q "no data from" "$tmp/client.err" || fail "garbage kept the session alive"
  fcmp "$t1 - $t0" "<=" 4 || fail "took $(awk "BEGIN{print $t1-$t0}") s"
  local g p
  g=$(jnum "$tmp/c.json" garbage_datagrams)
  p=$(jnum "$tmp/c.json" pictures)
  [ "${g:-0}" -gt 50 ] || fail "only ${g:-0} garbage datagrams counted"
  [ "$p" -eq 0 ] || fail "$p pictures out of garbage"
  ok "$g garbage datagrams counted and dropped, no picture, exit 1"
}

case_junk_bitstream() {
  need BF_FAKESEND
  local round
  for round in auto h264; do
    rm -f "$tmp/fake.port"
    "$BF_FAKESEND" --listen 0 --port-file "$tmp/fake.port" --mode junk-au --frames 30 --fps 30 \
      > "$tmp/fake.out" 2> "$tmp/fake.err" &
    local fake=$!
    pids+=("$fake")
    for _ in $(seq 100); do [ -s "$tmp/fake.port" ] && break; sleep 0.05; done
    client --direct "127.0.0.1:$(cat "$tmp/fake.port")" --headless --codec "$round" \
      --stats-json "$tmp/c.json"
    wait "$fake"
    [ "$CLIENT_RC" -eq 1 ] || fail "$round: want exit 1, got $CLIENT_RC"
    if [ "$round" = auto ]; then
      grep -q "cannot tell the codec" "$tmp/client.err" || fail "auto: no codec message"
    else
      grep -q "decoder rejected frame" "$tmp/client.err" || fail "h264: no decoder error"
    fi
    grep -q "no picture could be decoded" "$tmp/client.err" || fail "$round: no final message"
    local errs kr
    errs=$(jnum "$tmp/c.json" decode_errors)
    kr=$(grep -o '"keyframe_requests": [0-9]*' "$tmp/fake.out" | awk '{print $2}')
    [ "${errs:-0}" -ge 1 ] || fail "$round: no decode errors counted"
    [ "${kr:-0}" -ge 1 ] || fail "$round: the client asked for no keyframe"
    ok "junk AUs ($round): $errs decode errors, $kr keyframe requests, exit 1"
  done
}

# The sender's host time (FRAME_INFO, issue #17; an AU shown before its
# FRAME_INFO was read waits for it: 179 of 200 had it without): the stream's "network"
# stage read 20-36 ms on loopback because it held the sender's capture and
# encode. With bildfunk-send every AU's host time comes separately and
# network is the rest; a sender that does not send it (bf_fakesend stands in
# for an older one) leaves host unknown and network as it was.
case_host_stage() {
  need BF_SENDER
  need BF_FAKESEND
  start_sender --size 320x240 --fps 60 --frames 200 --quiet --stats-json "$tmp/s.json"
  client --direct "127.0.0.1:$SENDER_PORT" --headless --stats-json "$tmp/c.json"
  stop_sender
  [ "$CLIENT_RC" -eq 0 ] || fail "client exit $CLIENT_RC"
  # the nominal rate from pts once stable (--direct has no Welcome to say it)
  [ "$(jnum "$tmp/c.json" nominal_fps)" = 60.000 ] ||
    fail "nominal rate $(jnum "$tmp/c.json" nominal_fps), not 60"
  local done hn hp50 np50 sent
  done=$(jnum "$tmp/c.json" frames_completed)
  read -r hn hp50 < <(grep -o '"host": {"n": [0-9]*, "p50": [0-9.]*' "$tmp/c.json" |
    sed 's/.*"n": \([0-9]*\), "p50": \([0-9.]*\)/\1 \2/')
  np50=$(grep -o '"network": {"n": [0-9]*, "p50": [-0-9.]*' "$tmp/c.json" | awk '{print $NF}')
  sent=$(grep -o '"frame_infos_sent": [0-9]*' "$tmp/s.json" | awk '{print $2}')
  [ "${sent:-0}" -ge 200 ] || fail "the sender sent ${sent:-0} FRAME_INFOs for 200 AUs"
  [ "${hn:-0}" -ge $((done * 95 / 100)) ] || fail "host time for ${hn:-0} of $done AUs"
  fcmp "$hp50" ">" 0 || fail "host p50 $hp50 ms"
  [ "$(grep -c '"host_ms"' "$tmp/c.json")" -ge $((done * 95 / 100)) ] || fail "frames without host_ms"
  # every AU's parts add up: host + network = capture -> last shard
  awk -v RS='}' '/"host_ms"/ {
      match($0, /"capture_ns": [0-9]+/); c = substr($0, RSTART + 14, RLENGTH - 14)
      match($0, /"last_shard_ns": [0-9]+/); l = substr($0, RSTART + 17, RLENGTH - 17)
      match($0, /"host_ms": [-0-9.]+/); h = substr($0, RSTART + 11, RLENGTH - 11)
      match($0, /"network_ms": [-0-9.]+/); n = substr($0, RSTART + 14, RLENGTH - 14)
      d = (l - c) / 1e6 - h - n; if (d < -0.01 || d > 0.01) bad++ }
      END { exit bad > 0 }' "$tmp/c.json" || fail "host_ms + network_ms is not capture -> last shard"
  [ "$(jnum "$tmp/c.json" garbage_datagrams)" -eq 0 ] || fail "FRAME_INFO counted as garbage"
  ok "host time of $hn of $done AUs: p50 $hp50 ms, network p50 $np50 ms"
  # an older sender: no FRAME_INFO, host unknown, network as before
  "$BF_FAKESEND" --listen 0 --port-file "$tmp/fake.port" --mode junk-au --frames 30 --fps 30 \
    > "$tmp/fake.out" 2> "$tmp/fake.err" &
  pids+=("$!")
  for _ in $(seq 100); do [ -s "$tmp/fake.port" ] && break; sleep 0.05; done
  client --direct "127.0.0.1:$(cat "$tmp/fake.port")" --headless --codec h264 \
    --stats-json "$tmp/o.json"
  grep -q '"host": {"n": 0,' "$tmp/o.json" || fail "older sender: host not unknown"
  grep -q '"host_ms"' "$tmp/o.json" && fail "older sender: a frame with host_ms"
  [ "$(grep -o '"network": {"n": [0-9]*' "$tmp/o.json" | awk '{print $NF}')" -ge 10 ] ||
    fail "older sender: no network stage"
  ok "a sender without FRAME_INFO: host unknown, network as before"
}

case_decoder_fallback() {
  need BF_FAKESEND
  local mode
  for mode in auto vaapi; do
    if [ "$mode" = vaapi ] && ls /dev/dri/renderD* > /dev/null 2>&1; then
      echo "note: a render node exists; not asserting that vaapi fails"
      continue
    fi
    rm -f "$tmp/fake.port"
    "$BF_FAKESEND" --listen 0 --port-file "$tmp/fake.port" --mode junk-au --frames 5 --fps 30 \
      > "$tmp/fake.out" 2> "$tmp/fake.err" &
    local fake=$!
    pids+=("$fake")
    for _ in $(seq 100); do [ -s "$tmp/fake.port" ] && break; sleep 0.05; done
    client --direct "127.0.0.1:$(cat "$tmp/fake.port")" --headless --codec h264 --decoder "$mode"
    wait "$fake"
    if [ "$mode" = auto ]; then
      [ "$(grep -c "decoding in software" "$tmp/client.err")" -eq 1 ] ||
        fail "auto: want exactly one fallback line"
      grep -q "decoder rejected frame" "$tmp/client.err" || fail "auto: the software decoder did not run"
    else
      [ "$CLIENT_RC" -eq 1 ] || fail "vaapi: want exit 1"
      grep -q "hardware decoder unavailable (vaapi" "$tmp/client.err" || fail "vaapi: no message"
    fi
  done
  ok "auto falls back to software with one line; an explicit vaapi without a device fails clearly"
}

# The data socket read both ways: UDP GRO (the default where the kernel has
# it; the sender's GSO bursts arrive as coalesced reads) and the recvmmsg
# fallback (BILDFUNK_NO_GRO=1); every picture bit-exact either way.
case_gro() {
  need BF_SENDER
  local mode
  for mode in gro mmsg; do
    start_sender --size 320x240 --frames 40 --dump-au "$tmp/dump.h264" --quiet
    if [ "$mode" = gro ]; then
      client --direct "127.0.0.1:$SENDER_PORT" --headless --framemd5 "$tmp/c.md5" \
        --stats-json "$tmp/$mode.json" --skip-to-live off --timeout 10
    else
      BILDFUNK_NO_GRO=1 client --direct "127.0.0.1:$SENDER_PORT" --headless \
        --framemd5 "$tmp/c.md5" --stats-json "$tmp/$mode.json" --skip-to-live off --timeout 10
    fi
    stop_sender
    [ "$CLIENT_RC" -eq 0 ] || fail "$mode: client exit $CLIENT_RC"
    reference_md5 "$tmp/dump.h264" "$tmp/ref.md5"
    diff "$tmp/ref.md5" "$tmp/c.md5" > /dev/null || fail "$mode: framemd5 differs"
    [ "$(grep -vc '^#' "$tmp/c.md5")" -eq 40 ] || fail "$mode: want 40 pictures"
  done
  grep -q '"recv_gro": true' "$tmp/gro.json" || fail "the default run did not read with GRO"
  grep -q '"recv_gro": false' "$tmp/mmsg.json" || fail "BILDFUNK_NO_GRO=1 still read with GRO"
  # coalesced reads: some with GRO, none with recvmmsg
  local co=$(jnum "$tmp/gro.json" recv_coalesced)
  [ "$co" -ge 1 ] && [ "$(jnum "$tmp/mmsg.json" recv_coalesced)" -eq 0 ] ||
    fail "coalesced reads: $co with GRO, $(jnum "$tmp/mmsg.json" recv_coalesced) with recvmmsg"
  ok "GRO ($co coalesced reads) and recvmmsg: 40 pictures each, bit-exact"
}

# A hardware decoder that fails mid-stream (the documented test hook
# BILDFUNK_TEST_HWDEC_FAIL; without a device a software stand-in plays the
# hardware decoder): one line, a keyframe request, software from the next
# keyframe, the session goes on; the statistics name the decoder in use.
case_hwdec_fallback() {
  need BF_SENDER
  start_sender --size 320x240 --fps 30 --frames 90 --dump-au "$tmp/dump.h264" --quiet
  BILDFUNK_TEST_HWDEC_FAIL=10 client --direct "127.0.0.1:$SENDER_PORT" --headless \
    --decoder vaapi --framemd5 "$tmp/c.md5" --stats-json "$tmp/c.json" --timeout 10
  stop_sender
  [ "$CLIENT_RC" -eq 0 ] || fail "client exit $CLIENT_RC"
  [ "$(grep -c "decoding in software from the next keyframe" "$tmp/client.err")" -eq 1 ] ||
    fail "want exactly one fallback line"
  grep -q "hardware decoder h264 vaapi" "$tmp/client.err" || fail "the line does not name the decoder"
  [ "$(jnum "$tmp/c.json" decoder_fallbacks)" -eq 1 ] || fail "decoder_fallbacks is not 1"
  case "$(jstr "$tmp/c.json" decoder)" in
    "h264 software"*) ;;
    *) fail "the statistics name '$(jstr "$tmp/c.json" decoder)', not the software decoder" ;;
  esac
  [ "$(jnum "$tmp/c.json" keyframe_requests)" -ge 1 ] || fail "no keyframe request after the failure"
  # pictures before and after the failure, every one of them bit-exact
  reference_md5 "$tmp/dump.h264" "$tmp/ref.md5"
  local n after
  n=$(grep -vc '^#' "$tmp/c.md5")
  [ "$n" -ge 30 ] || fail "only $n pictures"
  grep -v '^#' "$tmp/c.md5" | cut -d, -f6 > "$tmp/c.sums"
  grep -v '^#' "$tmp/ref.md5" | cut -d, -f6 > "$tmp/ref.sums"
  grep -vxFf "$tmp/ref.sums" "$tmp/c.sums" > /dev/null && fail "a picture differs from the sent one"
  after=$(( n - 9 ))
  [ "$after" -ge 20 ] || fail "only $after pictures after the fallback"
  ok "hardware failure at decode 10: one line, software from the next keyframe, $n pictures bit-exact"
}

# --skip-to-live off with a decoder 2.4x too slow, in a window: the queue
# never empties, yet the newest picture is shown at least every 100 ms
# (before issue #16 only the last one, at the end); every picture decoded.
case_xvfb_slow_shown() {
  need BF_SENDER
  need BF_XTOOL
  start_xvfb 640x480
  start_sender --size 320x240 --fps 60 --frames 120 --dump-au "$tmp/dump.h264" --quiet
  start_window_client --direct "127.0.0.1:$SENDER_PORT" --size 640x480 --skip-to-live off \
    --debug-decode-delay 40 --framemd5 "$tmp/c.md5" --stats-json "$tmp/c.json"
  wait_client 60
  stop_sender
  [ "$CLIENT_RC" -eq 0 ] || fail "client exit $CLIENT_RC"
  reference_md5 "$tmp/dump.h264" "$tmp/ref.md5"
  diff "$tmp/ref.md5" "$tmp/c.md5" > /dev/null || fail "framemd5 differs"
  local shown replaced
  shown=$(jnum "$tmp/c.json" frames_presented)
  replaced=$(jnum "$tmp/c.json" replaced)
  # 120 x 40 ms of decoding: > 4.8 s, a picture at least every 100 ms + a present
  [ "$shown" -ge 10 ] || fail "only $shown pictures shown while the decoder was behind"
  [ $((shown + replaced)) -eq 120 ] || fail "shown $shown + replaced $replaced != 120"
  ok "a decoder 2.4x too slow without skipping: 120 pictures bit-exact, $shown shown, $replaced replaced"
}

# An idle client must sleep in poll(), not spin or wake on a short timer: a
# busy loop costs a whole core and a 300 us sleep loop several per cent. The
# bound leaves room for a loaded or sanitizer machine; the figure itself
# (about 0.2 % headless on a quiet machine) is printed by this case.
case_idle_cpu() {
  client --direct 127.0.0.1:9 --headless --wait --duration 5 --stats-json "$tmp/h.json" -q
  [ "$CLIENT_RC" -eq 0 ] || fail "headless idle run failed"
  local h w
  h=$(jnum "$tmp/h.json" cpu_pct)
  fcmp "$h" "<" 2.0 || fail "idle headless client used $h % of a core"
  # the window run also draws the overlay text with the system font
  # (SDL2_ttf + fontconfig) once a second
  SDL_VIDEODRIVER=dummy client --direct 127.0.0.1:9 --wait --duration 5 --overlay detailed \
    --font system --stats-json "$tmp/w.json"
  [ "$CLIENT_RC" -eq 0 ] || fail "windowed idle run failed"
  grep -q "built-in font" "$tmp/client.err" && fail "no system font: $(cat "$tmp/client.err")"
  w=$(jnum "$tmp/w.json" cpu_pct)
  fcmp "$w" "<" 2.0 || fail "idle client with a (dummy) window and overlay used $w % of a core"
  ok "idle: $h % headless, $w % with a window and the overlay in the system font"
}

# md5 CODEC EXT: the client's framemd5 equals ffmpeg's over the sender's dump
md5_case() {
  need BF_SENDER
  local codec=$1 ext=$2
  start_sender --codec "$codec" --size 320x240 --frames 40 --dump-au "$tmp/dump.$ext" --quiet
  # bit-exactness of every picture: a slow (sanitizer) decoder must not skip;
  # --timeout 10: on a busy machine libx265 took more than 2 s to give its
  # first AU ("no data ... for 2 s")
  client --direct "127.0.0.1:$SENDER_PORT" --headless --framemd5 "$tmp/c.md5" \
    --stats-json "$tmp/c.json" --skip-to-live off --timeout 10
  stop_sender
  [ "$CLIENT_RC" -eq 0 ] || fail "client exit $CLIENT_RC"
  reference_md5 "$tmp/dump.$ext" "$tmp/ref.md5"
  diff "$tmp/ref.md5" "$tmp/c.md5" > "$tmp/diff.txt" || { head "$tmp/diff.txt"; fail "framemd5 differs"; }
  [ "$(grep -vc '^#' "$tmp/c.md5")" -eq 40 ] || fail "want 40 pictures"
  [ "$(jstr "$tmp/c.json" codec)" = "$codec" ] || fail "codec not detected as $codec"
  ok "$codec: 40 pictures, framemd5 identical to ffmpeg's"
}

case_fec_loss() {
  need BF_SENDER
  # small shards and a keyframe every 3 frames: AUs of many shards, so the
  # loss hits data shards that FEC must rebuild, not just parity
  start_sender --size 640x360 --bitrate 8M --gop 3 --shard 512 --frames 60 --fec 20 \
    --dump-au "$tmp/dump.h264" --quiet
  start_relay --drop-pct 5 --seed 11 --fec-bounded
  client --direct "127.0.0.1:$RELAY_PORT" --headless --framemd5 "$tmp/c.md5" \
    --stats-json "$tmp/c.json" --skip-to-live off
  stop_sender
  [ "$CLIENT_RC" -eq 0 ] || fail "client exit $CLIENT_RC"
  reference_md5 "$tmp/dump.h264" "$tmp/ref.md5"
  diff "$tmp/ref.md5" "$tmp/c.md5" > /dev/null || fail "framemd5 differs under loss"
  local dropped repaired loss kr
  kill "$RELAY_PID" 2> /dev/null
  wait "$RELAY_PID" 2> /dev/null
  dropped=$(grep -o '"dropped_random": [0-9]*' "$tmp/relay.out" | awk '{print $2}')
  repaired=$(jnum "$tmp/c.json" frames_repaired_by_fec)
  loss=$(jnum "$tmp/c.json" loss_pct)
  kr=$(jnum "$tmp/c.json" keyframe_requests)
  [ "${dropped:-0}" -ge 10 ] || fail "the relay dropped only ${dropped:-0} shards"
  [ "$repaired" -ge 5 ] || fail "only $repaired frames repaired by FEC"
  fcmp "$loss" ">=" 2 && fcmp "$loss" "<=" 9 || fail "measured loss $loss %"
  [ "$kr" -eq 0 ] || fail "$kr keyframe requests although FEC repaired everything"
  ok "5 % loss, 20 % FEC: $dropped shards dropped, $repaired frames repaired, loss $loss %, all bit-exact"
}

case_keyframe_recovery() {
  need BF_SENDER
  start_sender --size 320x240 --fps 60 --frames 120 --fec 20 --dump-au "$tmp/dump.h264" \
    --stats-json "$tmp/sender.json" --quiet
  start_relay --drop-frames 30
  client --direct "127.0.0.1:$RELAY_PORT" --headless --framemd5 "$tmp/c.md5" \
    --stats-json "$tmp/c.json" -v
  stop_sender
  [ "$CLIENT_RC" -eq 0 ] || fail "client exit $CLIENT_RC"
  local kr ms rtt fps bound frames
  kr=$(jnum "$tmp/c.json" keyframe_requests)
  [ "$kr" -ge 1 ] || fail "no keyframe request"
  ms=$(grep -o '"recoveries": \[{[^]]*' "$tmp/c.json" | grep -o '"ms": [0-9.]*' | head -n 1 | awk '{print $2}')
  frames=$(grep -o '"recoveries": \[{[^]]*' "$tmp/c.json" | grep -o '"frames": [-0-9]*' | head -n 1 | awk '{print $2}')
  [ -n "$ms" ] && [ -n "$frames" ] || fail "no recovery measured"
  rtt=$(jnum "$tmp/c.json" rtt_ms)
  fps=$(jnum "$tmp/c.json" fps)
  # within 2 frame intervals + 1 RTT, counted in frames (as fire_loss10: a
  # busy machine stretches the ms, not the sender's frame count)
  bound=$(awk -v f="$fps" -v r="$rtt" 'BEGIN { b = r * f / 1000; printf "%d", 2 + (b == int(b) ? b : int(b) + 1) }')
  [ "$frames" -le "$bound" ] ||
    fail "keyframe on screen $frames frames ($ms ms) after the request (bound $bound frames)"
  # every picture shown is bit-exact, and only the lost frame and the ones
  # up to the keyframe are missing
  reference_md5 "$tmp/dump.h264" "$tmp/ref.md5"
  grep -v '^#' "$tmp/c.md5" > "$tmp/c.lines"
  grep -v '^#' "$tmp/ref.md5" > "$tmp/ref.lines"
  local missing
  missing=$(grep -vxFf "$tmp/c.lines" "$tmp/ref.lines" | wc -l)
  grep -qvxFf "$tmp/ref.lines" "$tmp/c.lines" && fail "a picture differs from the reference"
  [ "$missing" -ge 1 ] && [ "$missing" -le 4 ] || fail "$missing pictures missing"
  local first_missing
  first_missing=$(grep -vxFf "$tmp/c.lines" "$tmp/ref.lines" | head -n 1 | awk -F', *' '{print $3}')
  [ "$first_missing" -eq 30 ] || fail "the first missing picture is $first_missing, not 30"
  ok "frame 30 lost beyond FEC: keyframe on screen $frames frames ($ms ms) after the request (bound $bound frames), $missing pictures skipped, the rest bit-exact"
}

# An empty AU (frame_bytes 0, legal in spec §2) in the middle of a GOP: a
# 0-byte packet is libavcodec's drain signal, so the client must skip it,
# counted, and decode every genuine picture bit-exact without a keyframe
# request.
case_empty_au() {
  need BF_SENDER
  start_sender --size 320x240 --fps 60 --gop 60 --frames 90 --fec 20 --dump-au "$tmp/dump.h264" \
    --quiet
  start_relay --empty-au 20
  client --direct "127.0.0.1:$RELAY_PORT" --headless --framemd5 "$tmp/c.md5" \
    --stats-json "$tmp/c.json"
  stop_sender
  kill "$RELAY_PID" 2> /dev/null
  wait "$RELAY_PID" 2> /dev/null
  [ "$CLIENT_RC" -eq 0 ] || fail "client exit $CLIENT_RC"
  local injected empty pics kr errs
  injected=$(grep -o '"empty_aus": [0-9]*' "$tmp/relay.out" | awk '{print $2}')
  [ "${injected:-0}" -eq 1 ] || fail "the relay injected ${injected:-0} empty AUs"
  empty=$(jnum "$tmp/c.json" empty_aus)
  pics=$(jnum "$tmp/c.json" pictures)
  kr=$(jnum "$tmp/c.json" keyframe_requests)
  errs=$(jnum "$tmp/c.json" decode_errors)
  [ "${empty:-x}" = 1 ] || fail "empty_aus ${empty:-missing}, want 1"
  [ "$pics" -eq 90 ] || fail "$pics of 90 pictures decoded"
  [ "$errs" -eq 0 ] && [ "$kr" -eq 0 ] || fail "$errs decode errors, $kr keyframe requests"
  # the pictures, in order (their pts move by one at the empty AU's index)
  reference_md5 "$tmp/dump.h264" "$tmp/ref.md5"
  diff <(grep -v '^#' "$tmp/ref.md5" | awk -F', *' '{print $NF}') \
    <(grep -v '^#' "$tmp/c.md5" | awk -F', *' '{print $NF}') > /dev/null || fail "a picture differs"
  ok "an empty AU in a GOP skipped (empty_aus 1): 90/90 pictures bit-exact, no keyframe request"
}

case_intra_refresh_recovery() {
  need BF_SENDER
  # refresh waves of 10 frames; the relay loses frame 30 and swallows every
  # keyframe request, so only a recovery point can end the freeze
  start_sender --size 320x240 --fps 60 --frames 120 --intra-refresh --gop 10 --fec 20 \
    --dump-au "$tmp/dump.h264" --stats-json "$tmp/sender.json" --quiet
  start_relay --drop-frames 30 --drop-keyframe-requests
  client --direct "127.0.0.1:$RELAY_PORT" --headless --framemd5 "$tmp/c.md5" \
    --stats-json "$tmp/c.json" --report "$tmp/c.html" --skip-to-live off -v
  stop_sender
  kill "$RELAY_PID" 2> /dev/null
  wait "$RELAY_PID" 2> /dev/null
  [ "$CLIENT_RC" -eq 0 ] || fail "client exit $CLIENT_RC"
  local swallowed rp keys
  swallowed=$(grep -o '"keyframe_requests_dropped": [0-9]*' "$tmp/relay.out" | awk '{print $2}')
  [ "${swallowed:-0}" -ge 1 ] || fail "the client asked for no keyframe"
  keys=$(jnum "$tmp/sender.json" keyframes_sent)
  rp=$(sed -n 's/.*recovered: recovery point \([0-9]*\) on screen.*/\1/p' "$tmp/client.err" | head -n 1)
  [ -n "$rp" ] || { cat "$tmp/client.err"; fail "no recovery at a recovery point"; }
  grep -q 'recovered: keyframe' "$tmp/client.err" && fail "recovered by a keyframe"
  [ "$rp" -gt 30 ] && [ "$rp" -le 60 ] || fail "recovered at frame $rp"
  [ "$keys" -eq 1 ] || fail "the sender sent $keys keyframes, want only the first"
  # the shown pictures: bit-exact, and exactly frames 30 .. rp-1 missing
  reference_md5 "$tmp/dump.h264" "$tmp/ref.md5"
  grep -v '^#' "$tmp/c.md5" > "$tmp/c.lines"
  grep -v '^#' "$tmp/ref.md5" > "$tmp/ref.lines"
  grep -qvxFf "$tmp/ref.lines" "$tmp/c.lines" && fail "a picture differs from the reference"
  local missing first_missing
  missing=$(grep -vxFf "$tmp/c.lines" "$tmp/ref.lines" | wc -l)
  first_missing=$(grep -vxFf "$tmp/c.lines" "$tmp/ref.lines" | head -n 1 | awk -F', *' '{print $3}')
  [ "$first_missing" -eq 30 ] || fail "the first missing picture is $first_missing, not 30"
  [ "$missing" -eq $((rp - 30)) ] || fail "$missing pictures missing, want $((rp - 30))"
  [ "$(jnum "$tmp/c.json" hidden)" -ge $((rp - 31)) ] || fail "hidden AUs not counted"
  # the session report was written, self-contained
  [ -s "$tmp/c.html" ] || fail "no report"
  grep -q '<svg' "$tmp/c.html" && ! grep -q 'http' "$tmp/c.html" || fail "report malformed"
  ok "frame 30 lost, $swallowed keyframe requests swallowed: shown again at recovery point $rp (no keyframe but the first), $missing pictures hidden, the rest bit-exact"
}

case_sender_dies() {
  need BF_SENDER
  start_sender --size 320x240 --duration 30 --quiet
  "$BF_CLIENT" --direct "127.0.0.1:$SENDER_PORT" --headless --stats-json "$tmp/c.json" \
    2> "$tmp/client.err" &
  local cpid=$!
  pids+=("$cpid")
  sleep 1.5
  local t0 t1 rc
  kill -9 "$SENDER_PID"
  t0=$(now)
  wait "$cpid"
  rc=$?
  t1=$(now)
  [ "$rc" -eq 1 ] || fail "want exit 1, got $rc"
  grep -q "no data from 127.0.0.1:$SENDER_PORT for 2 s" "$tmp/client.err" || fail "no message"
  fcmp "$t1 - $t0" "<=" 3.0 || fail "noticed after $(awk "BEGIN{print $t1-$t0}") s"
  [ "$(jnum "$tmp/c.json" pictures)" -ge 40 ] || fail "too few pictures before the kill"
  ok "sender killed: client said so and exited 1 after $(awk "BEGIN{printf \"%.2f\", $t1-$t0}") s"
}

# The sender stops on an error (its --dump-au file is /dev/full: a full
# disk) and says so in its BYE: the client's exit code says the stream
# ended in an error.
case_sender_error() {
  need BF_SENDER
  [ -w /dev/full ] || fail "no /dev/full"
  start_sender --size 320x240 --fps 60 --frames 600 --dump-au /dev/full --quiet
  client --direct "127.0.0.1:$SENDER_PORT" --headless --stats-json "$tmp/c.json"
  stop_sender
  [ "$CLIENT_RC" -eq 1 ] || fail "client exit $CLIENT_RC after the sender's error BYE, want 1"
  grep -q "the sender ended the stream after an error" "$tmp/client.err" ||
    fail "the client did not say the stream ended in an error"
  [ "$(jnum "$tmp/c.json" exit_code)" = 1 ] || fail "the statistics say exit_code $(jnum "$tmp/c.json" exit_code)"
  ok "the sender's error BYE: exit 1, 'the sender ended the stream after an error'"
}

case_wait_resume() {
  need BF_SENDER
  start_sender --size 320x240 --duration 30 --quiet
  local port=$SENDER_PORT
  "$BF_CLIENT" --direct "127.0.0.1:$port" --headless --wait --frames 150 \
    --stats-json "$tmp/c.json" 2> "$tmp/client.err" &
  local cpid=$!
  pids+=("$cpid")
  sleep 1.2
  kill -9 "$SENDER_PID"
  wait "$SENDER_PID" 2> /dev/null
  sleep 3
  kill -0 "$cpid" 2> /dev/null || fail "the client did not wait"
  grep -q "(waiting)" "$tmp/client.err" || fail "no waiting message"
  SENDER_LISTEN_PORT=$port start_sender --size 320x240 --frames 400 --quiet
  local rc=
  for _ in $(seq 150); do
    if ! kill -0 "$cpid" 2> /dev/null; then
      wait "$cpid"
      rc=$?
      break
    fi
    sleep 0.1
  done
  [ -n "$rc" ] || fail "the client did not pick up the restarted sender"
  [ "$rc" -eq 0 ] || fail "want exit 0, got $rc"
  grep -q "data from 127.0.0.1:$port again" "$tmp/client.err" || fail "no 'again' message"
  [ "$(jnum "$tmp/c.json" pictures)" -eq 150 ] || fail "want 150 pictures"
  ok "sender restarted: the waiting client resumed and finished"
}

case_garbage_mixed() {
  need BF_SENDER
  start_sender --size 320x240 --frames 60 --dump-au "$tmp/dump.h264" --quiet
  start_relay --garbage-every 3 --seed 5
  client --direct "127.0.0.1:$RELAY_PORT" --headless --framemd5 "$tmp/c.md5" \
    --stats-json "$tmp/c.json"
  stop_sender
  [ "$CLIENT_RC" -eq 0 ] || fail "client exit $CLIENT_RC"
  reference_md5 "$tmp/dump.h264" "$tmp/ref.md5"
  diff "$tmp/ref.md5" "$tmp/c.md5" > /dev/null || fail "garbage changed the pictures"
  local g
  g=$(jnum "$tmp/c.json" garbage_datagrams)
  [ "$g" -ge 20 ] || fail "only $g garbage datagrams counted"
  ok "$g garbage datagrams in the stream: pictures still bit-exact"
}

case_skip_to_live() {
  need BF_SENDER
  start_sender --size 320x240 --fps 60 --frames 180 --quiet
  client --direct "127.0.0.1:$SENDER_PORT" --headless --debug-decode-delay 45 \
    --stats-json "$tmp/c.json"
  stop_sender
  [ "$CLIENT_RC" -eq 0 ] || fail "client exit $CLIENT_RC"
  local skips kr pics p95
  skips=$(jnum "$tmp/c.json" skips)
  kr=$(jnum "$tmp/c.json" keyframe_requests)
  pics=$(jnum "$tmp/c.json" pictures)
  p95=$(grep -o '"e2e": {"n": [0-9]*, "p50": [0-9.]*, "p95": [0-9.]*' "$tmp/c.json" | awk '{print $NF}')
  [ "$skips" -ge 1 ] || fail "a decoder 3x too slow never skipped to live"
  [ "$kr" -ge 1 ] || fail "no keyframe asked for after skipping"
  [ "$pics" -ge 10 ] || fail "only $pics pictures"
  # without skipping, 180 frames at 22 per second would end 5 s behind
  fcmp "$p95" "<" 1000 || fail "end-to-end p95 $p95 ms: the backlog was not shed"
  ok "slow decoder: $skips skips to live, $kr keyframe requests, e2e p95 $p95 ms"
}

# --skip-to-live off with a decoder 2.4 times slower than the stream: the
# 64-AU queue fills; the next AUs wait in the reassembler (bounded by its
# memory), the client says so and decodes every picture.
case_skip_off_slow() {
  need BF_SENDER
  start_sender --size 320x240 --fps 60 --frames 180 --dump-au "$tmp/dump.h264" --quiet
  client --direct "127.0.0.1:$SENDER_PORT" --headless --skip-to-live off \
    --debug-decode-delay 40 --framemd5 "$tmp/c.md5" --stats-json "$tmp/c.json"
  stop_sender
  [ "$CLIENT_RC" -eq 0 ] || fail "client exit $CLIENT_RC"
  local pics waits skipped
  pics=$(jnum "$tmp/c.json" pictures)
  waits=$(jnum "$tmp/c.json" backpressure_waits)
  skipped=$(grep -o '"skipped": [0-9]*' "$tmp/c.json" | tail -n 1 | awk '{print $2}')
  [ "$pics" -eq 180 ] || fail "$pics of 180 pictures decoded with --skip-to-live off"
  [ "${skipped:-x}" = 0 ] || fail "${skipped:-?} AUs skipped with --skip-to-live off"
  [ "${waits:-0}" -ge 1 ] || fail "backpressure_waits ${waits:-missing}"
  grep -q "the decoder is slower than the stream" "$tmp/client.err" ||
    fail "the client did not say it holds the stream back"
  reference_md5 "$tmp/dump.h264" "$tmp/ref.md5"
  diff "$tmp/ref.md5" "$tmp/c.md5" > /dev/null || fail "framemd5 differs"
  ok "--skip-to-live off, decoder 2.4x too slow: held back $waits times, 180/180 pictures bit-exact"
}

# A stream that never decodes: its only keyframe (frame 0) is lost and every
# keyframe request swallowed. The client must say what is happening within
# about a second (here: before --duration 2 ends it), not stay silent.
case_no_keyframe() {
  need BF_SENDER
  start_sender --size 320x240 --fps 60 --gop 1000 --frames 300 --quiet
  start_relay --drop-frames 0 --drop-keyframe-requests
  client --direct "127.0.0.1:$RELAY_PORT" --headless --duration 2 --stats-json "$tmp/c.json"
  kill "$SENDER_PID" 2> /dev/null
  stop_sender
  [ "$CLIENT_RC" -eq 1 ] || fail "client exit $CLIENT_RC with nothing decodable, want 1"
  grep -q "no picture yet: [0-9]* frames received, none of them a keyframe" "$tmp/client.err" ||
    fail "the client did not say why nothing shows"
  ok "no keyframe ever: said within 2 s ($(grep -o 'no picture yet: [0-9]* frames' "$tmp/client.err"))"
}

# Frames the gate drops anyway are no decoder backlog: frame 29 is lost and
# every keyframe request swallowed, so the client waits for the next GOP's
# keyframe (60); meanwhile frames 31..44 arrive in one burst. Nothing waits
# for the decoder: no skip to live, no "decoder fell behind".
case_burst_frozen() {
  need BF_SENDER
  start_sender --size 320x240 --fps 60 --gop 60 --frames 120 --quiet
  start_relay --drop-frames 29 --burst 31:14 --drop-keyframe-requests
  client --direct "127.0.0.1:$RELAY_PORT" --headless --stats-json "$tmp/c.json"
  stop_sender
  kill "$RELAY_PID" 2> /dev/null
  wait "$RELAY_PID" 2> /dev/null
  [ "$CLIENT_RC" -eq 0 ] || fail "client exit $CLIENT_RC"
  local held skips pics
  held=$(grep -o '"burst_held": [0-9]*' "$tmp/relay.out" | awk '{print $2}')
  [ "${held:-0}" -ge 14 ] || fail "the relay held back ${held:-0} datagrams"
  skips=$(jnum "$tmp/c.json" skips)
  pics=$(jnum "$tmp/c.json" pictures)
  grep -q "decoder fell behind" "$tmp/client.err" && fail "'decoder fell behind' while it waited for a keyframe"
  [ "$skips" -eq 0 ] || fail "$skips skips to live while nothing waited for the decoder"
  [ "$pics" -ge 89 ] || fail "$pics pictures (want 0..28 and 60..119)"
  ok "a burst of 14 frames while frozen: no skip, $pics pictures"
}

case_clock_offset() {
  need BF_SENDER
  start_sender --size 320x240 --frames 60 --quiet
  client --direct "127.0.0.1:$SENDER_PORT" --headless --stats-json "$tmp/c.json"
  stop_sender
  [ "$CLIENT_RC" -eq 0 ] || fail "client exit $CLIENT_RC"
  grep -q '"clock_synced": true' "$tmp/c.json" || fail "clock not synced"
  local off rtt
  off=$(jnum "$tmp/c.json" clock_offset_ms)
  rtt=$(jnum "$tmp/c.json" rtt_ms)
  fcmp "$off" "<" 1 && fcmp "$off" ">" -1 || fail "offset $off ms on one machine"
  fcmp "$rtt" "<" 5 || fail "loopback rtt $rtt ms"
  ok "one machine: clock offset $off ms (rtt $rtt ms)"
}

# --- display tests (Xvfb) ----------------------------------------------------

start_xvfb() { # start_xvfb WxH [XVFB_ARGS...]: DISPLAY set on success
  command -v Xvfb > /dev/null || { [ -n "${BF_REQUIRE_ALL:-}" ] && fail "Xvfb missing"; echo "skip: no Xvfb"; exit 77; }
  local n
  for _ in $(seq 20); do
    n=$((100 + RANDOM % 800))
    [ -e "/tmp/.X$n-lock" ] || [ -e "/tmp/.X11-unix/X$n" ] || break
  done
  Xvfb ":$n" -screen 0 "${1}x24" -nolisten tcp "${@:2}" > "$tmp/xvfb.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do
    [ -e "/tmp/.X11-unix/X$n" ] && { export DISPLAY=":$n"; sleep 0.2; return 0; }
    sleep 0.05
  done
  fail "Xvfb did not start"
}
shot() { # shot FILE WxH: the whole screen as raw rgb24
  ffmpeg -hide_banner -loglevel error -f x11grab -video_size "$2" -i "$DISPLAY" -frames:v 1 \
    -pix_fmt rgb24 -f rawvideo -y "$1" || fail "screenshot failed"
}
# shot_until FILE WxH OUT SECONDS CHECK...: screenshots until bf_shotcheck
# FILE W H CHECK... passes (its output in OUT), for at most SECONDS; 1 if it
# never did. A busy machine may take seconds to show the first picture or a
# new overlay; what is checked does not change.
shot_until() {
  local file=$1 size=$2 out=$3 end=$((SECONDS + $4))
  shift 4
  while :; do
    shot "$file" "$size"
    "$BF_SHOTCHECK" "$file" "${size%x*}" "${size#*x}" "$@" > "$out" && return 0
    [ "$SECONDS" -lt "$end" ] || return 1
    sleep 0.25
  done
}
start_window_client() { # ARGS...: the client in a window, CLIENT_PID, WIN (id x y w h)
  # Under ASan, leak checking is off for these runs only: SDL unloads the X
  # libraries it opened with dlopen, so what they leave behind cannot be
  # attributed (the dummy-driver window in idle-cpu keeps leak checking on).
  ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" SDL_VIDEODRIVER=x11 \
    "$BF_CLIENT" "$@" > /dev/null 2> "$tmp/client.err" &
  CLIENT_PID=$!
  pids+=("$CLIENT_PID")
  WIN=$("$BF_XTOOL" find bildfunk 10) || fail "no client window"
}
wait_client() { # wait_client SECONDS: CLIENT_RC
  for _ in $(seq $(($1 * 10))); do
    if ! kill -0 "$CLIENT_PID" 2> /dev/null; then
      wait "$CLIENT_PID"
      CLIENT_RC=$?
      return 0
    fi
    sleep 0.1
  done
  fail "the client did not exit"
}

case_xvfb_screenshot() {
  need BF_SENDER
  need BF_XTOOL
  need BF_SHOTCHECK
  start_xvfb 640x480
  start_sender --size 320x240 --fps 30 --duration 30 --quiet
  start_window_client --direct "127.0.0.1:$SENDER_PORT" --size 640x480 --font builtin \
    --duration 20 --stats-json "$tmp/c.json"
  set -- $WIN
  local id=$1 x=$2 y=$3 w=$4 h=$5
  [ "$w" -eq 640 ] && [ "$h" -eq 480 ] || fail "window is ${w}x$h"
  # overlay off: the picture fills the window: the pattern's band is read back
  # at the window's top-left, the colour bars are there, no overlay colours
  shot_until "$tmp/a.rgb" 640x480 "$tmp/check_a.txt" 15 strip "$x" "$y" 640 480 \
    bars "$x" "$((y + 200))" 640 280 no-overlay "$x" "$y" 320 240 ||
    { cat "$tmp/check_a.txt"; fail "screenshot without overlay"; }
  # Ctrl+Alt+Shift+S twice: compact, then normal with the graph
  "$BF_XTOOL" hotkey "$id" s || fail "hotkey"
  sleep 0.3
  "$BF_XTOOL" hotkey "$id" s || fail "hotkey"
  shot_until "$tmp/b.rgb" 640x480 "$tmp/check_b.txt" 15 overlay "$x" "$y" 250 150 \
    bars "$x" 400 640 80 || { cat "$tmp/check_b.txt"; fail "screenshot with overlay"; }
  # the picture does not show through the numbers (issue #17)
  "$BF_SHOTCHECK" "$tmp/b.rgb" 640 480 opaque "$x" "$y" 250 150 >> "$tmp/check_b.txt" ||
    { cat "$tmp/check_b.txt"; fail "the picture shows through the overlay"; }
  # Ctrl+Alt+Shift+Q quits cleanly
  "$BF_XTOOL" hotkey "$id" q || fail "hotkey"
  wait_client 5
  [ "$CLIENT_RC" -eq 0 ] || fail "quit: exit $CLIENT_RC"
  grep -q '"end": "quit"' "$tmp/c.json" || fail "the client did not end by the quit hotkey"
  # Xvfb has no GPU: OpenGL there is a CPU rasteriser, and the display takes
  # SDL's software renderer instead (issue #16; the pictures above are its)
  case "$(jstr "$tmp/c.json" renderer)" in
    "x11 / software"*) ;;
    *) fail "renderer under Xvfb: $(jstr "$tmp/c.json" renderer)" ;;
  esac
  cat "$tmp/check_a.txt" "$tmp/check_b.txt"
  ok "screenshots show the test pattern, then the overlay after Ctrl+Alt+Shift+S x2; Ctrl+Alt+Shift+Q quits"
}

case_xvfb_aspect() {
  need BF_SENDER
  need BF_XTOOL
  need BF_SHOTCHECK
  start_xvfb 800x600
  start_sender --size 320x180 --fps 30 --duration 30 --quiet
  start_window_client --direct "127.0.0.1:$SENDER_PORT" --size 400x400 --duration 25 \
    --stats-json "$tmp/c.json"
  set -- $WIN
  local id=$1 x=$2 y=$3
  sleep 1.5
  # 16:9 in a square window: 400x225 with bars above and below
  shot "$tmp/a.rgb" 800x600
  "$BF_SHOTCHECK" "$tmp/a.rgb" 800 600 black "$x" "$y" 400 86 strip "$x" "$((y + 87))" 400 225 \
    black "$x" "$((y + 314))" 400 86 > "$tmp/check.txt" || { cat "$tmp/check.txt"; fail "square window"; }
  # resized wide: 533x300 with bars left and right
  "$BF_XTOOL" resize "$id" 700 300 || fail "resize"
  sleep 1
  set -- $("$BF_XTOOL" geom "$id")
  x=$1 y=$2
  [ "$3" -eq 700 ] && [ "$4" -eq 300 ] || fail "window did not resize (${3}x$4)"
  shot "$tmp/b.rgb" 800x600
  "$BF_SHOTCHECK" "$tmp/b.rgb" 800 600 black "$x" "$y" 82 300 strip "$((x + 83))" "$y" 533 300 \
    black "$((x + 618))" "$y" 82 300 >> "$tmp/check.txt" || { cat "$tmp/check.txt"; fail "wide window"; }
  # Ctrl+Alt+Shift+X: fullscreen 800x600 (4:3): 800x450 with bars above and below
  "$BF_XTOOL" hotkey "$id" x || fail "hotkey"
  sleep 1.5
  set -- $("$BF_XTOOL" geom "$id")
  x=$1 y=$2
  [ "$3" -eq 800 ] && [ "$4" -eq 600 ] || fail "fullscreen window is ${3}x$4 at $x,$y"
  shot "$tmp/c.rgb" 800x600
  "$BF_SHOTCHECK" "$tmp/c.rgb" 800 600 black 0 0 800 74 strip 0 75 800 450 black 0 526 800 74 \
    >> "$tmp/check.txt" || { cat "$tmp/check.txt"; fail "fullscreen"; }
  # and back to the window it was
  "$BF_XTOOL" hotkey "$id" x || fail "hotkey"
  sleep 1
  set -- $("$BF_XTOOL" geom "$id")
  [ "$3" -eq 700 ] && [ "$4" -eq 300 ] || fail "back from fullscreen: ${3}x$4"
  cat "$tmp/check.txt"
  kill -TERM "$CLIENT_PID"
  wait_client 5
  [ "$CLIENT_RC" -eq 0 ] || fail "exit $CLIENT_RC after SIGTERM"
  ok "letterboxing keeps 16:9 in a square window, after a resize and in fullscreen"
}

# `bildfunk list` and `bildfunk unpair HOST` (issue #17): a sender paired
# and used through bf_fakectl is listed with its address, fingerprint and
# both dates; unpair forgets it (and says so), a second unpair fails; `list`
# is a command, `list:PORT` a host; bad forms are usage errors.
case_list_unpair() {
  need BF_FAKECTL
  local cfg="$tmp/cfg"
  start_fakectl --script bye
  local port=$FAKECTL_PORT
  # (--browse 0: no LAN browsing through a system avahi-daemon; tests/lan has that)
  "$BF_CLIENT" list --config-dir "$cfg" --browse 0 > "$tmp/l0.out" || fail "list with nothing paired: exit $?"
  grep -q "^no paired senders" "$tmp/l0.out" || fail "empty list: $(cat "$tmp/l0.out")"
  local host="LocalHost:$port" pin="localhost:$port"
  client "$host" --headless --config-dir "$cfg"
  [ "$CLIENT_RC" -eq 0 ] || fail "pairing run: exit $CLIENT_RC"
  local fp
  fp=$(awk '{print $1}' "$cfg/senders")
  "$BF_CLIENT" list --config-dir "$cfg" --browse 0 > "$tmp/l1.out" 2> "$tmp/l1.err" || fail "list: exit $?"
  cat "$tmp/l1.out"
  local date='[0-9]\{4\}-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9] UTC'
  grep -q "^$pin  $pin  $fp  paired $date  last used $date\$" "$tmp/l1.out" ||
    fail "list: the line is not NAME ADDRESS FP paired DATE last used DATE"
  # a pin without a port is listed with the one the client uses
  printf '%s 1700000000 studio\n' "$fp" >> "$cfg/senders"
  "$BF_CLIENT" list --config-dir "$cfg" --browse 0 > "$tmp/l2.out" || fail "list: exit $?"
  grep -q "^studio  studio:47999  $fp  paired 2023-11-14 22:13 UTC  last used never\$" \
    "$tmp/l2.out" || fail "list: $(cat "$tmp/l2.out")"
  "$BF_CLIENT" unpair "$host" --config-dir "$cfg" > "$tmp/u1.out" 2> "$tmp/u1.err" ||
    fail "unpair: exit $?"
  grep -q "^bildfunk: unpaired $pin (fp ${fp:0:16}...); bildfunk pair $host pairs it again\$" \
    "$tmp/u1.out" || fail "unpair: $(cat "$tmp/u1.out" "$tmp/u1.err")"
  grep -q "$pin" "$cfg/senders" && fail "unpair: the pin is still there"
  grep -q "$pin" "$cfg/senders-used" 2> /dev/null && fail "unpair: its last use is still there"
  grep -q "studio" "$cfg/senders" || fail "unpair took another sender's pin"
  "$BF_CLIENT" unpair "$host" --config-dir "$cfg" > /dev/null 2> "$tmp/u2.err"
  [ $? -eq 1 ] || fail "unpair of an unknown sender: want exit 1"
  grep -q "no sender is paired as '$pin' (see bildfunk list)" "$tmp/u2.err" || fail "unpair: message"
  # usage: exit 2 and the hint
  local args
  for args in "unpair" "list somehost" "list --headless" "unpair $host --fullscreen"; do
    # shellcheck disable=SC2086
    "$BF_CLIENT" $args --config-dir "$cfg" > /dev/null 2> "$tmp/x.err"
    [ $? -eq 2 ] || fail "'$args': want exit 2"
    [ "$(tail -n 1 "$tmp/x.err")" = "Try 'bildfunk --help'." ] || fail "'$args': $(cat "$tmp/x.err")"
  done
  # list:PORT is a host (nobody there)
  "$BF_CLIENT" list:1 --headless --config-dir "$cfg" > /dev/null 2> "$tmp/h.err"
  [ $? -eq 1 ] || fail "list:1 was not taken as a host"
  grep -q "list:1" "$tmp/h.err" || fail "list:1: $(cat "$tmp/h.err")"
  ok "bildfunk list shows name, address, fingerprint, paired and last used; unpair forgets one"
}

# The window takes the stream's size and stays on the screen (issue #17: a
# 1080p stream on a 1920x1080 screen grew from 960x540 at +480+270 to
# 1920x1080 without moving, half off the screen): fitted into the display's
# usable area and centred there. Xvfb has no window manager, so there are no
# decorations and SDL's usable area is the screen, until a panel is
# announced the way window managers do (_NET_WORKAREA on the root window;
# -noreset keeps it when its client has gone). With a window manager the
# borders SDL reports are added around the window; that part cannot be
# exercised here.
case_xvfb_fit() {
  need BF_SENDER
  need BF_XTOOL
  start_xvfb 1920x1080 -noreset
  start_sender --size 1920x1080 --fps 10 --duration 40 --quiet
  local round want geom
  for round in screen panel; do
    if [ "$round" = panel ]; then
      "$BF_XTOOL" workarea 0 60 1920 960 || fail "setting _NET_WORKAREA"
      want="106 60 1707 960" # 16:9 in 1920x960, centred, below the 60-pixel panel
    else
      want="0 0 1920 1080"
    fi
    # with the compact overlay from the start: it is set up for the 960x540
    # window, before the window takes the stream's size
    start_window_client --direct "127.0.0.1:$SENDER_PORT" --duration 20 --overlay compact
    set -- $WIN
    local id=$1
    [ "$2 $3 $4 $5" = "480 270 960 540" ] || [ "$round" = panel ] ||
      fail "the window opened at $2,$3 ${4}x$5, not centred"
    for _ in $(seq 150); do
      geom=$("$BF_XTOOL" geom "$id")
      [ "$geom" = "$want" ] && break
      kill -0 "$CLIENT_PID" 2> /dev/null || { cat "$tmp/client.err"; fail "the client ended"; }
      sleep 0.1
    done
    set -- $geom
    [ "$geom" = "$want" ] || fail "$round: the window is ${3}x$4 at $1,$2, want $want (x y w h)"
    # the compact overlay's 5x7 font grows with the window: 14 rows on 960
    # or 1080 lines (issue #17: 7 on a window just under 1000 lines)
    sleep 1.5
    shot "$tmp/f.rgb" 1920x1080
    "$BF_SHOTCHECK" "$tmp/f.rgb" 1920 1080 big-text "$1" "$2" 380 30 > "$tmp/check_f.txt" ||
      { cat "$tmp/check_f.txt"; fail "$round: the compact overlay's text is small"; }
    cat "$tmp/check_f.txt"
    # wholly inside the screen, below the panel
    [ "$1" -ge 0 ] && [ "$2" -ge 0 ] && [ $(($1 + $3)) -le 1920 ] && [ $(($2 + $4)) -le 1080 ] ||
      fail "$round: the window is off the screen"
    kill -TERM "$CLIENT_PID"
    wait_client 5
    [ "$CLIENT_RC" -eq 0 ] || fail "$round: client exit $CLIENT_RC"
    echo "$round: the 1920x1080 stream's window: ${3}x$4 at $1,$2"
  done
  ok "a 1080p stream's window fills a 1920x1080 screen from 0,0, and 1707x960 at 106,60 below a panel; its compact overlay's text is 14 rows tall"
}

# A short session in a window on an idle machine does not skip (issue #17:
# almost every session said "decoder fell behind: skipped 8 queued frames"
# in its first second). The first picture pays for the window's first
# present at the stream's size (the window opened at 960x540; the renderer's
# shaders are compiled when it opens now) and its decoder's first decode;
# AUs queue meanwhile. A backlog a decoder faster than the stream drains
# within 200 ms is decoded through. Asserted on the counters, not on times:
# no skip, no keyframe request. (640x360 and 960x540 streams, no resize, did
# not skip before either.)
case_start_smooth() {
  need BF_SENDER
  need BF_XTOOL
  start_xvfb 1280x720
  local round
  for round in 1 2 3; do
    start_sender --size 1280x720 --fps 60 --frames 150 --quiet
    start_window_client --direct "127.0.0.1:$SENDER_PORT" --overlay normal -v \
      --stats-json "$tmp/c$round.json"
    wait_client 30
    stop_sender
    [ "$CLIENT_RC" -eq 0 ] || fail "round $round: client exit $CLIENT_RC"
    local skips kr pics
    skips=$(jnum "$tmp/c$round.json" skips)
    kr=$(jnum "$tmp/c$round.json" keyframe_requests)
    pics=$(jnum "$tmp/c$round.json" pictures)
    local first onscreen
    first=$(grep "first picture on screen" "$tmp/client.err") || fail "round $round: no first-picture line"
    echo "$first"
    onscreen=$(sed -n 's/.*first picture on screen \([0-9.]*\) ms after.*/\1/p' <<< "$first")
    [ -n "$onscreen" ] || fail "round $round: the first-picture line gives no time"
    # A skip in the first second is a defect unless the machine made the
    # first picture late: the decode-through rule (docs/client.md) skips only
    # when the backlog cannot drain within 200 ms, and on a loaded machine
    # (a first present of 300 ms under load average 10) it must. So a skip
    # passes only when the client's own figures justify it: the first picture
    # took over 100 ms to the screen, and the skip line's depth N, decode
    # cost D and interval I give N x D / (1 - D / I) > 200 ms (or D >= I).
    if [ "$skips" -gt 0 ]; then
      fcmp "$onscreen" ">" 100 ||
        fail "round $round: a skip though the first picture was on screen in $onscreen ms: $(grep 'fell behind' "$tmp/client.err")"
      grep 'fell behind' "$tmp/client.err" | sed -n 's/.*skipped \([0-9]*\) queued frames.*a decode takes \([0-9.]*\) ms, a frame comes every \([0-9.]*\) ms.*/\1 \2 \3/p' \
        > "$tmp/skips$round"
      [ "$(wc -l < "$tmp/skips$round")" -eq "$skips" ] || fail "round $round: a skip line without its reason"
      awk '{ if ($2 < $3 && $1 * $2 / (1 - $2 / $3) <= 200) { print; exit 1 } }' "$tmp/skips$round" ||
        fail "round $round: a skip the decode-through rule should have decoded through: $(cat "$tmp/skips$round")"
      echo "round $round: $skips skip(s), justified by a first picture $onscreen ms late (a loaded machine)"
    fi
    [ "$kr" -le "$skips" ] || fail "round $round: $kr keyframe requests for $skips skips"
    local dropped=0 # what the skips dropped (justified above)
    [ "$skips" -gt 0 ] && dropped=$(awk '{ n += $1 } END { print n + 0 }' "$tmp/skips$round")
    [ "$pics" -ge $((140 - dropped)) ] || fail "round $round: only $pics pictures ($dropped skipped)"
    echo "round $round: $pics pictures, $(jnum "$tmp/c$round.json" catchups) backlogs decoded through"
  done
  ok "three short sessions in a window: no skip the client's own figures do not justify"
}

# The client program against bf_fakectl (the library's sender role on a TCP
# port, no data plane), one connection per step: pairing and the code line,
# a pinned reconnect, a changed certificate, `bildfunk pair` over it, a
# revoked client, a refused code, a silent sender, the client's own Bye,
# and a Welcome without sealing. Messages and exit codes as docs/client.md.
case_control_fake() {
  need BF_FAKECTL
  local cfg="$tmp/cfg"
  start_fakectl --script bye,bye,newid,bye,forget,reject,bye,freeze,hold
  local fpid=$FAKECTL_PID port=$FAKECTL_PORT
  local host="127.0.0.1:$port"

  # 1. first contact: pairs (the code line), streams, the sender's Bye -> exit 0
  client "$host" --headless --config-dir "$cfg" --name "e2e client" --max-size 1920x1080 \
    --stats-json "$tmp/c1.json"
  [ "$CLIENT_RC" -eq 0 ] || fail "pairing run: exit $CLIENT_RC"
  local code
  code=$(sed -n "s/^bildfunk: pairing with $host: code \([0-9]\{6\}\) (type it on the sender)\$/\1/p" \
    "$tmp/client.err")
  [ -n "$code" ] || fail "no 'pairing with HOST: code NNNNNN' line"
  grep -q "confirm code $code from \"e2e client\"" "$tmp/fakectl.err" ||
    fail "the sender was asked for another code than the client showed ($code)"
  grep -q "max 1920x1080" "$tmp/fakectl.err" || fail "--max-size did not reach the Hello"
  grep -q "^bildfunk: paired with $host (fp [0-9a-f]\{16\}\.\.\.)\$" "$tmp/client.err" ||
    fail "no 'paired with' line"
  grep -q "^bildfunk: the sender ended the stream\$" "$tmp/client.err" || fail "no end message"
  [ "$(jstr "$tmp/c1.json" mode)" = control ] || fail "stats: control.mode"
  [ "$(jnum "$tmp/c1.json" sealed)" = 1 ] || fail "stats: control.sealed"
  grep -q "$host" "$cfg/senders" || fail "no pin in $cfg/senders"
  [ -s "$cfg/client-cert.pem" ] || fail "no client identity in $cfg"

  # 2. pinned: no code this time
  client "$host" --headless --config-dir "$cfg"
  [ "$CLIENT_RC" -eq 0 ] || fail "pinned run: exit $CLIENT_RC"
  grep -q "pairing with" "$tmp/client.err" && fail "paired again although pinned"

  # 3. the sender was reinstalled: refused, the pin stays
  local pin_before
  pin_before=$(cat "$cfg/senders")
  client "$host" --headless --config-dir "$cfg"
  [ "$CLIENT_RC" -eq 1 ] || fail "changed certificate: exit $CLIENT_RC"
  grep -Eq "^bildfunk: the sender's certificate changed \(expected fp [0-9a-f]{16}\.\.\., got [0-9a-f]{16}\.\.\.\); if this is expected, run bildfunk pair $host to pair again\$" \
    "$tmp/client.err" || fail "changed certificate: message"
  [ "$(cat "$cfg/senders")" = "$pin_before" ] || fail "the pin changed"
  grep -q "pairing with" "$tmp/client.err" && fail "paired silently"
  # ... and `bildfunk pair` accepts the new one
  client pair "$host" --config-dir "$cfg"
  [ "$CLIENT_RC" -eq 0 ] || fail "pair: exit $CLIENT_RC"
  grep -q "^bildfunk: pairing with $host: code [0-9]\{6\}" "$tmp/client.err" || fail "pair: no code"
  grep -q "^bildfunk: paired with $host (fp" "$tmp/client.err" || fail "pair: no 'paired with'"
  [ "$(cat "$cfg/senders")" != "$pin_before" ] || fail "pair: the pin was not replaced"
  [ "$(wc -l < "$cfg/senders")" -eq 1 ] || fail "pair: more than one pin for the host"

  # 4. the sender revoked this client
  client "$host" --headless --config-dir "$cfg"
  [ "$CLIENT_RC" -eq 1 ] || fail "revoked: exit $CLIENT_RC"
  grep -q "^bildfunk: the sender closed the session: not paired (run: bildfunk pair $host)\$" \
    "$tmp/client.err" || fail "revoked: message"

  # 5. the sender's user types another code; 6. then the right one
  client pair "$host" --config-dir "$cfg"
  [ "$CLIENT_RC" -eq 1 ] || fail "wrong code: exit $CLIENT_RC"
  grep -q "^bildfunk: pairing refused: wrong code\$" "$tmp/client.err" || fail "wrong code: message"
  client pair "$host" --config-dir "$cfg"
  [ "$CLIENT_RC" -eq 0 ] || fail "pair again: exit $CLIENT_RC"

  # 7. the sender falls silent once the session is up: noticed within 2 s
  # (without --reconnect: with it the client sets the session up again,
  # security_pair_reconnect)
  # Timed by the sender, from its falling silent to the client's hang-up
  # (the client's start, TLS included, took seconds on a busy machine)
  client "$host" --headless --config-dir "$cfg"
  [ "$CLIENT_RC" -eq 1 ] || fail "silent sender: exit $CLIENT_RC"
  grep -q "^bildfunk: sender went silent\$" "$tmp/client.err" || fail "silent sender: message"
  local hung=
  for _ in $(seq 40); do
    hung=$(sed -n 's/.*freeze: the client hung up \([0-9.]*\) s after falling silent.*/\1/p' "$tmp/fakectl.err")
    [ -n "$hung" ] && break
    sleep 0.05
  done
  [ -n "$hung" ] || fail "the sender did not see the silent client hang up"
  fcmp "$hung" "<" 3.5 || fail "silent sender noticed after $hung s"

  # 8. the client ends (--duration): the sender gets Bye 0
  client "$host" --headless --config-dir "$cfg" --duration 1 --reconnect
  [ "$CLIENT_RC" -eq 0 ] || fail "--duration: exit $CLIENT_RC"
  for _ in $(seq 50); do kill -0 "$fpid" 2>/dev/null || break; sleep 0.1; done
  grep -q "hold: closed, reason 0 by client" "$tmp/fakectl.err" || fail "the sender saw no Bye 0"
  wait "$fpid" || fail "bf_fakectl failed"

  # 9. a Welcome in the clear is refused
  "$BF_FAKECTL" --script bye --clear 2> "$tmp/fakectl2.err" &
  pids+=("$!")
  port=
  for _ in $(seq 100); do
    port=$(sed -n 's/.*control on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/fakectl2.err")
    [ -n "$port" ] && break
    sleep 0.05
  done
  client "127.0.0.1:$port" --headless --config-dir "$cfg"
  [ "$CLIENT_RC" -eq 1 ] || fail "clear Welcome: exit $CLIENT_RC"
  grep -q "refusing to stream in the clear" "$tmp/client.err" || fail "clear Welcome: message"

  # 10. nobody listens: the message names HOST:PORT
  client "127.0.0.1:$port" --headless --config-dir "$cfg"
  [ "$CLIENT_RC" -eq 1 ] || fail "refused: exit $CLIENT_RC"
  grep -q "^bildfunk: cannot connect to 127.0.0.1:$port: Connection refused" "$tmp/client.err" ||
    fail "refused: message"
  ok "pairing, pinned reconnect, changed certificate, pair, revoked, wrong code, silent sender, Bye, clear Welcome, refused"
}

# The whole client path of a control session with a real sender behind it:
# bf_fakectl runs the control session (pairing accepted) and hands its
# exported secret to a bildfunk-send started on the Welcome's data port with
# --seal-key-file; the client must punch that port on the control peer's IP,
# open the sealed video with the session's keys and K, and decode it.
case_control_stream() {
  need BF_FAKECTL
  need BF_SENDER
  local dport=
  # the sender's user takes 6 s to type the code: longer than the client's
  # 5 s data timeout, which must only start once the session is up (5 s, not
  # the default 2: the sender below starts only once the session's secret
  # exists, and under ASan on a loaded machine its start took over 2 s)
  start_fakectl --script hold --data-port 0 --max-k 128 --confirm-delay-ms 6000 --secret-file "$tmp/secret"
  local port=$FAKECTL_PORT
  dport=$FAKECTL_DPORT
  [ -n "$dport" ] || fail "bf_fakectl named no data port"
  mkfifo "$tmp/cin"
  "$BF_CLIENT" "127.0.0.1:$port" --headless --config-dir "$tmp/cfg" --frames 30 --timeout 5 \
    --stats-json "$tmp/c.json" < "$tmp/cin" 2> "$tmp/client.err" &
  local cpid=$!
  pids+=("$cpid")
  exec 4> "$tmp/cin"
  type_sender_code "$cpid" "$tmp/client.err" "$tmp/fakectl.err" 0 &
  pids+=("$!")
  for _ in $(seq 600); do [ -s "$tmp/secret" ] && break; sleep 0.05; done
  [ -s "$tmp/secret" ] || fail "no session secret from bf_fakectl"
  "$BF_SENDER" --direct --listen "127.0.0.1:$dport" --seal-key-file "$tmp/secret" \
    --size 320x240 --frames 200 --quiet 2> "$tmp/sender.err" &
  pids+=("$!")
  local rc=
  for _ in $(seq 600); do
    kill -0 "$cpid" 2>/dev/null || { wait "$cpid"; rc=$?; break; }
    sleep 0.05
  done
  [ -n "$rc" ] || fail "the client did not finish"
  [ "$rc" -eq 0 ] || fail "client exit $rc"
  grep -q "^bildfunk: pairing with 127.0.0.1:$port: code [0-9]\{6\}" "$tmp/client.err" ||
    fail "no pairing code"
  [ "$(jnum "$tmp/c.json" pictures)" -ge 30 ] || fail "fewer than 30 pictures"
  [ "$(jnum "$tmp/c.json" nominal_fps)" = 60.000 ] || fail "the Welcome's rate is not the nominal one"
  local opened
  opened=$(grep -o '"seal": {[^}]*}' "$tmp/c.json" | grep -o '"opened": [0-9]*' | awk '{print $2}')
  [ "${opened:-0}" -gt 0 ] || fail "no sealed datagram opened"
  [ "$(jstr "$tmp/c.json" mode)" = control ] || fail "stats: control.mode"
  [ "$(jnum "$tmp/c.json" sealed)" = 1 ] || fail "stats: control.sealed"
  for _ in $(seq 50); do grep -q "hold: closed" "$tmp/fakectl.err" && break; sleep 0.1; done
  grep -q "hold: closed, reason 0 by client: frames" "$tmp/fakectl.err" ||
    fail "the control session did not end with the client's Bye 0"
  ok "control session -> sealed stream from the real sender: 30 pictures, $opened datagrams opened"
}

# Pairing in the window, with no terminal (stdin /dev/null, as from a desktop
# launcher): bf_fakectl's "sender code" is typed into the client's window on
# Xvfb with key events (a stray digit and BackSpace first); the client pins
# the sender and the same window goes on to show the stream of a real
# bildfunk-send started with the session's secret.
start_fakectl() { # start_fakectl ARGS...: FAKECTL_PID, FAKECTL_PORT (control), FAKECTL_DPORT (data, if any)
  : > "$tmp/fakectl.err"
  "$BF_FAKECTL" "$@" 2> "$tmp/fakectl.err" &
  FAKECTL_PID=$!
  pids+=("$FAKECTL_PID")
  FAKECTL_PORT=
  for _ in $(seq 100); do
    FAKECTL_PORT=$(sed -n 's/.*control on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/fakectl.err")
    [ -n "$FAKECTL_PORT" ] && break
    sleep 0.05
  done
  [ -n "$FAKECTL_PORT" ] || fail "bf_fakectl did not start"
  FAKECTL_DPORT=$(sed -n 's/.*, data port \([0-9]*\).*/\1/p' "$tmp/fakectl.err")
}
# window_sender_code N0: waits until the client asks for the code and
# bf_fakectl printed its (N0+1)th "sender code": SENDER_CODE
window_sender_code() {
  SENDER_CODE=
  for _ in $(seq 200); do
    kill -0 "$CLIENT_PID" 2> /dev/null || fail "the client ended before asking for the code"
    if grep -q "or in the window" "$tmp/client.err"; then
      SENDER_CODE=$(grep "sender code" "$tmp/fakectl.err" |
        sed -n "$(($1 + 1))s/.*sender code \([0-9]\{6\}\).*/\1/p")
      [ -n "$SENDER_CODE" ] && return 0
    fi
    sleep 0.05
  done
  fail "the client did not ask for the sender's code in the window"
}

case_xvfb_pair() {
  need BF_FAKECTL
  need BF_SENDER
  need BF_XTOOL
  need BF_SHOTCHECK
  start_xvfb 640x480
  start_fakectl --script hold --data-port 0 --max-k 128 --secret-file "$tmp/secret"
  [ -n "$FAKECTL_DPORT" ] || fail "bf_fakectl named no data port"
  # --timeout 20: the sender below is started only once the session is up,
  # and on a busy machine it took more than the default 2 s to send its
  # first datagram ("no data ... for 2 s", exit 1)
  start_window_client "127.0.0.1:$FAKECTL_PORT" --config-dir "$tmp/cfg" --size 640x480 \
    --font builtin --stats-json "$tmp/c.json" --timeout 20 < /dev/null
  set -- $WIN
  local id=$1 x=$2 y=$3
  window_sender_code 0
  sleep 0.3
  # the pairing screen is drawn: light text on the dark screen
  shot "$tmp/a.rgb" 640x480
  "$BF_SHOTCHECK" "$tmp/a.rgb" 640 480 text "$x" "$y" 640 480 > "$tmp/check.txt" ||
    { cat "$tmp/check.txt"; fail "no pairing screen"; }
  grep -q "no code was typed" "$tmp/client.err" && fail "refused for the closed stdin"
  [ -s "$tmp/cfg/senders" ] && fail "pinned before the code was typed"
  "$BF_XTOOL" type "$id" "9\\b${SENDER_CODE}\\n" || fail "typing"
  for _ in $(seq 200); do [ -s "$tmp/secret" ] && break; sleep 0.05; done
  [ -s "$tmp/secret" ] || { cat "$tmp/client.err"; fail "not established after typing the code"; }
  "$BF_SENDER" --direct --listen "127.0.0.1:$FAKECTL_DPORT" --seal-key-file "$tmp/secret" \
    --size 320x240 --fps 30 --duration 30 --quiet 2> "$tmp/sender.err" &
  pids+=("$!")
  # the same window now shows the stream: the pattern's band fills it (the
  # sender starts only now: on a busy machine its first picture took > 2 s)
  set -- $("$BF_XTOOL" geom "$id")
  [ "$3" -eq 640 ] && [ "$4" -eq 480 ] || fail "the window is ${3}x$4 after pairing"
  shot_until "$tmp/b.rgb" 640x480 "$tmp/check_b.txt" 15 strip "$1" "$2" 640 480 ||
    { cat "$tmp/check.txt" "$tmp/check_b.txt"; fail "the window does not show the stream after pairing"; }
  cat "$tmp/check_b.txt" >> "$tmp/check.txt"
  sleep 2 # 60 pictures at 30 fps, at least 30 asked for below
  kill -TERM "$CLIENT_PID"
  wait_client 5
  [ "$CLIENT_RC" -eq 0 ] || { cat "$tmp/client.err"; fail "client exit $CLIENT_RC"; }
  grep -q "^bildfunk: paired with 127.0.0.1:$FAKECTL_PORT (fp" "$tmp/client.err" ||
    fail "no 'paired with' line"
  grep -q "127.0.0.1:$FAKECTL_PORT" "$tmp/cfg/senders" || fail "no pin in cfg/senders"
  [ "$(jnum "$tmp/c.json" pictures)" -ge 30 ] || fail "fewer than 30 pictures"
  [ "$(jnum "$tmp/c.json" sealed)" = 1 ] || fail "stats: control.sealed"
  cat "$tmp/check.txt"
  ok "paired in the window with stdin at /dev/null (code $SENDER_CODE typed there), then $(jnum "$tmp/c.json" pictures) pictures in the same window"
}

# The same without the right code: a wrong code typed in the window, then
# Esc, each refuse the pairing: exit 1, the message, nothing pinned.
case_xvfb_pair_refused() {
  need BF_FAKECTL
  need BF_XTOOL
  start_xvfb 640x480
  start_fakectl --script hold,hold
  local host="127.0.0.1:$FAKECTL_PORT" n=0 keys why
  for keys in wrong esc; do
    start_window_client "$host" --config-dir "$tmp/cfg" --size 640x480 --no-wait-on-error < /dev/null
    set -- $WIN
    window_sender_code "$n"
    n=$((n + 1))
    if [ "$keys" = wrong ]; then
      "$BF_XTOOL" type "$1" "$(printf '%06d' $(( (10#$SENDER_CODE + 1) % 1000000 )))\\n" || fail "typing"
      why="the code typed on the client is not the one this sender shows"
    else
      "$BF_XTOOL" type "$1" "12\\e" || fail "typing"
      why="the pairing was cancelled in the window"
    fi
    wait_client 10
    [ "$CLIENT_RC" -eq 1 ] || { cat "$tmp/client.err"; fail "$keys: exit $CLIENT_RC"; }
    grep -q "^bildfunk: pairing refused here: $why (is $host the sender you meant?)\$" \
      "$tmp/client.err" || { cat "$tmp/client.err"; fail "$keys: message"; }
    grep -q "paired with" "$tmp/client.err" && fail "$keys: paired"
    [ -s "$tmp/cfg/senders" ] && fail "$keys: a pin was saved"
    for _ in $(seq 50); do [ "$(grep -c 'hold: closed' "$tmp/fakectl.err")" -ge "$n" ] && break; sleep 0.1; done
    [ "$(grep -c 'hold: closed, reason 4 by client' "$tmp/fakectl.err")" -eq "$n" ] ||
      { cat "$tmp/fakectl.err"; fail "$keys: the sender saw no Bye 4"; }
  done
  ok "a wrong code and Esc in the window refuse the pairing: exit 1, nothing pinned, Bye 4"
}

# press ID KEYS CHECK...: types KEYS into window ID; when CHECK (a command)
# is not true within 3 s, types them once more. A synthetic key sent right
# after an x11grab screenshot is now and then lost before it reaches SDL's
# queue (seen outside the tests too: the client sat in its wait loop with no
# key event); a user would press again. CHECK must then become true within
# 10 s, or the case fails.
press() {
  local id=$1 keys=$2
  shift 2
  "$BF_XTOOL" type "$id" "$keys" || fail "typing $keys"
  for _ in $(seq 30); do "$@" && return 0; sleep 0.1; done
  echo "note: $keys typed again"
  "$BF_XTOOL" type "$id" "$keys" 2> /dev/null
  for _ in $(seq 100); do "$@" && return 0; sleep 0.1; done
  fail "typed $keys twice into window $id; still not: $*"
}
client_gone() { ! kill -0 "$CLIENT_PID" 2> /dev/null; }
have_secret() { [ -s "$tmp/secret" ]; }

# Started as from a desktop launcher: no HOST, no terminal (stdin
# /dev/null). The window asks for the sender; 127.0.0.1:PORT of bf_fakectl
# is typed there (with a stray key and BackSpace), then the pairing code; a
# real bildfunk-send's stream shows in the same window, and the config dir
# remembers the sender (last-sender). A second start without HOST shows it
# prefilled: Return alone connects, pinned now, no pairing. A third one
# quits on Esc: exit 1 and why.
case_xvfb_connect() {
  need BF_FAKECTL
  need BF_SENDER
  need BF_XTOOL
  need BF_SHOTCHECK
  start_xvfb 640x480
  start_fakectl --script hold,hold --data-port 0 --max-k 128 --secret-file "$tmp/secret"
  [ -n "$FAKECTL_DPORT" ] || fail "bf_fakectl named no data port"
  local host="127.0.0.1:$FAKECTL_PORT"
  start_window_client --config-dir "$tmp/cfg" --size 640x480 --font builtin \
    --stats-json "$tmp/c.json" < /dev/null
  set -- $WIN
  local id=$1 x=$2 y=$3
  sleep 0.3
  shot "$tmp/a.rgb" 640x480
  "$BF_SHOTCHECK" "$tmp/a.rgb" 640 480 text "$x" "$y" 640 480 > "$tmp/check.txt" ||
    { cat "$tmp/check.txt"; fail "no screen asking for the sender"; }
  kill -0 "$CLIENT_PID" 2> /dev/null || { cat "$tmp/client.err"; fail "the client ended without a HOST"; }
  [ -e "$tmp/cfg/last-sender" ] && fail "last-sender before any session"
  sleep 0.5 # a key sent right after the screenshot can be lost (see press)
  # a typo: back to the prompt with the error shown, the line kept (issue #17:
  # it ended the program)
  local typo="no-such-host.invalid"
  "$BF_XTOOL" type "$id" "$typo\\n" || fail "typing the typo"
  for _ in $(seq 100); do
    grep -q "asks for the sender again" "$tmp/client.err" && break
    kill -0 "$CLIENT_PID" 2> /dev/null || { cat "$tmp/client.err"; fail "a typo ended the client"; }
    sleep 0.05
  done
  grep -q "^bildfunk: $typo: host not found\$" "$tmp/client.err" || fail "typo: no message"
  grep -q "^bildfunk: (the window asks for the sender again)\$" "$tmp/client.err" ||
    fail "typo: the window did not ask again"
  sleep 0.3
  shot "$tmp/t.rgb" 640x480
  "$BF_SHOTCHECK" "$tmp/t.rgb" 640 480 ask-again "$x" "$y" 640 480 >> "$tmp/check.txt" ||
    { cat "$tmp/check.txt"; fail "the window does not show why the typo failed"; }
  sleep 0.5
  "$BF_XTOOL" type "$id" "$(printf '\\b%.0s' $(seq ${#typo}))x\\b$host\\n" ||
    fail "typing the sender"
  window_sender_code 0
  grep -q "^bildfunk: pairing with $host: code" "$tmp/client.err" || fail "not pairing with $host"
  [ -e "$tmp/cfg/last-sender" ] && fail "last-sender written before the session was established"
  "$BF_XTOOL" type "$id" "${SENDER_CODE}\\n" || fail "typing the code"
  for _ in $(seq 200); do [ -s "$tmp/secret" ] && break; sleep 0.05; done
  [ -s "$tmp/secret" ] || { cat "$tmp/client.err"; fail "not established after typing the code"; }
  "$BF_SENDER" --direct --listen "127.0.0.1:$FAKECTL_DPORT" --seal-key-file "$tmp/secret" \
    --size 320x240 --fps 30 --duration 30 --quiet 2> "$tmp/sender.err" &
  local spid=$!
  pids+=("$spid")
  sleep 2
  set -- $("$BF_XTOOL" geom "$id")
  shot "$tmp/b.rgb" 640x480
  "$BF_SHOTCHECK" "$tmp/b.rgb" 640 480 strip "$1" "$2" 640 480 >> "$tmp/check.txt" ||
    { cat "$tmp/check.txt"; fail "the window does not show the stream"; }
  kill -TERM "$CLIENT_PID"
  wait_client 5
  [ "$CLIENT_RC" -eq 0 ] || { cat "$tmp/client.err"; fail "client exit $CLIENT_RC"; }
  [ "$(jnum "$tmp/c.json" pictures)" -ge 30 ] || fail "fewer than 30 pictures"
  [ "$(cat "$tmp/cfg/last-sender")" = "$host" ] || fail "last-sender holds '$(cat "$tmp/cfg/last-sender")'"
  ls "$tmp/cfg" | grep -q "\.tmp\$" && fail "a temporary file was left in the config dir"
  kill "$spid" 2> /dev/null

  # the second start: the window shows the sender prefilled (yellow line); Return alone
  rm -f "$tmp/secret"
  start_window_client --config-dir "$tmp/cfg" --size 640x480 --font builtin --timeout 30 < /dev/null
  set -- $WIN
  id=$1
  sleep 0.3
  shot "$tmp/c.rgb" 640x480
  "$BF_SHOTCHECK" "$tmp/c.rgb" 640 480 heading "$2" "$3" 640 480 >> "$tmp/check.txt" ||
    { cat "$tmp/check.txt"; fail "the sender is not prefilled"; }
  press "$id" "\\n" have_secret
  for _ in $(seq 200); do [ -s "$tmp/secret" ] && break; sleep 0.05; done
  [ -s "$tmp/secret" ] || { cat "$tmp/client.err"; fail "Return alone did not connect to $host"; }
  [ "$(grep -c "hold: established" "$tmp/fakectl.err")" -eq 2 ] || fail "no second session"
  grep -q "pairing with" "$tmp/client.err" && fail "paired again on the second start"
  kill -TERM "$CLIENT_PID"
  wait_client 5
  [ "$CLIENT_RC" -eq 0 ] || { cat "$tmp/client.err"; fail "second start: exit $CLIENT_RC"; }

  # the third: Esc quits, exit 1, no session
  start_window_client --config-dir "$tmp/cfg" --size 640x480 < /dev/null
  "$BF_XTOOL" type "${WIN%% *}" "\\e" || fail "typing Esc"
  wait_client 5
  [ "$CLIENT_RC" -eq 1 ] || fail "Esc: exit $CLIENT_RC"
  grep -q "^bildfunk: no sender given (Esc in the window)" "$tmp/client.err" || fail "Esc: message"
  cat "$tmp/check.txt"
  ok "no HOST: a typo asked again with the error shown; $host typed in the window, paired there, $(jnum "$tmp/c.json" pictures) pictures; prefilled next time, Return connected without pairing; Esc quits with exit 1"
}

# A failed setup with a window: the window shows why (a yellow heading over
# the wrapped message) and stays until Esc (or Enter) is typed; the exit
# code and the stderr line are those of a headless run. --no-wait-on-error
# exits at once.
case_xvfb_error() {
  need BF_XTOOL
  need BF_SHOTCHECK
  start_xvfb 640x480
  local host="127.0.0.1:9" keys want_rc msg
  "$BF_CLIENT" "$host" --headless --config-dir "$tmp/cfg" 2> "$tmp/h.err" < /dev/null
  want_rc=$?
  [ "$want_rc" -eq 1 ] || fail "headless: exit $want_rc"
  msg=$(grep "^bildfunk: cannot connect to $host" "$tmp/h.err") || { cat "$tmp/h.err"; fail "headless: message"; }
  for keys in esc enter; do
    start_window_client "$host" --config-dir "$tmp/cfg" --size 640x480 < /dev/null
    set -- $WIN
    for _ in $(seq 100); do grep -q "the window shows this" "$tmp/client.err" && break; sleep 0.05; done
    grep -qxF "$msg" "$tmp/client.err" || { cat "$tmp/client.err"; fail "$keys: not the headless message"; }
    sleep 0.3
    shot "$tmp/$keys.rgb" 640x480
    "$BF_SHOTCHECK" "$tmp/$keys.rgb" 640 480 heading "$2" "$3" 640 480 >> "$tmp/check.txt" ||
      { cat "$tmp/check.txt"; fail "$keys: the window does not show the error"; }
    sleep 1.5
    kill -0 "$CLIENT_PID" 2> /dev/null || fail "$keys: the client did not wait in the window"
    if [ "$keys" = esc ]; then press "$1" "\\e" client_gone; else press "$1" "\\n" client_gone; fi
    wait_client 5
    [ "$CLIENT_RC" -eq "$want_rc" ] || fail "$keys: exit $CLIENT_RC, headless $want_rc"
  done
  # --no-wait-on-error: the same exit at once
  start_window_client "$host" --config-dir "$tmp/cfg" --size 640x480 --no-wait-on-error < /dev/null
  wait_client 5
  [ "$CLIENT_RC" -eq "$want_rc" ] || fail "--no-wait-on-error: exit $CLIENT_RC"
  grep -q "the window shows this" "$tmp/client.err" && fail "--no-wait-on-error waited"
  cat "$tmp/check.txt"
  ok "a refused connection is shown in the window until Esc / Enter, exit $want_rc as headless; --no-wait-on-error does not wait"
}

case "$case_name" in
  usage) case_usage ;;
  no-sender) case_no_sender ;;
  wrong-port) case_wrong_port ;;
  garbage) case_garbage ;;
  junk-bitstream) case_junk_bitstream ;;
  decoder-fallback) case_decoder_fallback ;;
  gro) case_gro ;;
  hwdec-fallback) case_hwdec_fallback ;;
  xvfb-slow-shown) case_xvfb_slow_shown ;;
  idle-cpu) case_idle_cpu ;;
  md5-h264) md5_case h264 h264 ;;
  md5-hevc) md5_case hevc hevc ;;
  md5-av1) md5_case av1 obu ;;
  fec-loss) case_fec_loss ;;
  keyframe-recovery) case_keyframe_recovery ;;
  intra-refresh-recovery) case_intra_refresh_recovery ;;
  empty-au) case_empty_au ;;
  sender-dies) case_sender_dies ;;
  wait-resume) case_wait_resume ;;
  sender-error) case_sender_error ;;
  garbage-mixed) case_garbage_mixed ;;
  skip-to-live) case_skip_to_live ;;
  burst-frozen) case_burst_frozen ;;
  no-keyframe) case_no_keyframe ;;
  skip-off-slow) case_skip_off_slow ;;
  clock-offset) case_clock_offset ;;
  xvfb-screenshot) case_xvfb_screenshot ;;
  xvfb-aspect) case_xvfb_aspect ;;
  control-fake) case_control_fake ;;
  list-unpair) case_list_unpair ;;
  host-stage) case_host_stage ;;
  start-smooth) case_start_smooth ;;
  xvfb-fit) case_xvfb_fit ;;
  control-stream) case_control_stream ;;
  xvfb-pair) case_xvfb_pair ;;
  xvfb-pair-refused) case_xvfb_pair_refused ;;
  xvfb-connect) case_xvfb_connect ;;
  xvfb-error) case_xvfb_error ;;
  *) echo "e2e.sh: unknown case '$case_name'"; exit 2 ;;
esac
