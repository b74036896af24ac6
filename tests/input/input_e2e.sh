#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Input end to end (issue #13): the real client and sender, paired over a
# sealed control session, on two Xvfb displays the test starts: the client's
# window on one (xdotool types and clicks into it), the sender capturing the
# other with --source x11, where bf_xlog (the "game") logs what arrives.
#   input_e2e.sh CASE
# Binaries from the environment (tests/cmake/input.cmake): BF_SENDER,
# BF_CLIENT, BF_NETSIM, BF_XLOG, BF_INPEER. Exit 0 pass, 1 fail, 77 skip
# (a failure under BF_REQUIRE_ALL=1).
# Cases:
#   type      a string with shifted characters and punctuation arrives exactly
#   click     clicks at known points of a letterboxed window (absolute mode)
#             land on the right pixels; wheel notches arrive
#   relative  relative mode: a click captures the pointer (not sent), motion
#             sums right, Ctrl+Alt+Shift+Z lets go (later motion not sent)
#   loss      through bildfunk-netsim at 10 % loss with reordering (--data-via):
#             500 key events, none lost, none doubled, in order
#   kill      the window loses the focus while a key is held: released; kill -9
#             of the client while a key and a mouse button are held: both
#             released on the sender's display within 2 s; SIGSTOP: released
#             by the 1 s input silence
#   gamepad   a scripted SDL virtual pad (--virtual-pad) against testsrc: the
#             pad state the sender applies, and its rumble back to the pad
#   direct    --direct: input datagrams counted and never applied; a peer
#             without the session's keys is never applied either
#   reconnect --reconnect: the sender freezes for 3 s (SIGSTOP), the client
#             sets the session up again, and what is typed after it arrives
#             (the new session numbers its input events from 1 again)
# BF_E2E_KEEP=1 keeps the temporary directory.
set -uo pipefail
case_name=${1:?usage: input_e2e.sh CASE}
source "$(dirname "$0")/../lib/e2e.sh" bf-input
for v in BF_SENDER BF_CLIENT BF_XLOG BF_INPEER; do need "$v"; done
for p in Xvfb xdotool; do
  command -v "$p" > /dev/null && continue
  echo "skip: $p is not installed (scripts/deps.sh)"
  [ -n "${BF_REQUIRE_ALL:-}" ] && fail "BF_REQUIRE_ALL is set and $p is missing"
  exit 77
done

# --- displays ------------------------------------------------------------------
xvfb() { # xvfb VAR WxH: a display of its own in VAR (":N"); the server picks a free
  # number itself (-displayfd), so tests started at once cannot take the same
  local f="$tmp/xvfb.$1" n=
  : > "$f"
  Xvfb -displayfd 7 -screen 0 "${2}x24" -nolisten tcp 7> "$f" > "$tmp/xvfb.$1.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 200); do
    n=$(head -n 1 "$f")
    [ -n "$n" ] && [ -e "/tmp/.X11-unix/X$n" ] && { printf -v "$1" ':%s' "$n"; return 0; }
    sleep 0.05
  done
  fail "Xvfb did not start ($(tail -n 2 "$tmp/xvfb.$1.log"))"
}
start_xlog() { # on $SDISP: XLOG_PID, $tmp/xlog.txt
  "$BF_XLOG" "$SDISP" > "$tmp/xlog.txt" 2> "$tmp/xlog.err" &
  XLOG_PID=$!
  pids+=("$XLOG_PID")
  for _ in $(seq 100); do grep -q '^ready' "$tmp/xlog.txt" && return 0; sleep 0.05; done
  fail "bf_xlog did not start"
}

# --- sender and pairing (as tests/fire/fire.sh) ------------------------------------
start_sender() { # ARGS...: CPORT, SENDER_PORT, SENDER_PID; stdin from the FIFO on fd 3
  rm -f "$tmp/op"
  mkfifo "$tmp/op"
  exec 3<> "$tmp/op"
  : > "$tmp/sender.err"
  "$BF_SENDER" --control 127.0.0.1:0 --listen 127.0.0.1:0 --config-dir "$tmp/s" "$@" \
    < "$tmp/op" 2> "$tmp/sender.err" > /dev/null &
  SENDER_PID=$!
  pids+=("$SENDER_PID")
  for _ in $(seq 200); do
    CPORT=$(sed -n 's/.*control on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/sender.err" | head -n 1)
    SENDER_PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/sender.err" | head -n 1)
    [ -n "$CPORT" ] && [ -n "$SENDER_PORT" ] && return 0
    kill -0 "$SENDER_PID" 2> /dev/null || fail "the sender exited at start"
    sleep 0.05
  done
  fail "the sender did not start"
}
stop_pid() { # stop_pid PID SECONDS: waits, then TERM, then KILL
  for _ in $(seq $(($2 * 10))); do kill -0 "$1" 2> /dev/null || { wait "$1" 2> /dev/null; return 0; }; sleep 0.1; done
  kill "$1" 2> /dev/null; sleep 0.5; kill -9 "$1" 2> /dev/null; wait "$1" 2> /dev/null
}
pair() { # the client (config $tmp/c) pairs with a sender of its own; its control port stays CPORT
  mkdir -p "$tmp/s" "$tmp/c"
  chmod 700 "$tmp/s" "$tmp/c"
  start_sender --size 320x240 --quiet
  rm -f "$tmp/cin"
  mkfifo "$tmp/cin"
  "$BF_CLIENT" pair "127.0.0.1:$CPORT" --config-dir "$tmp/c" --name input-client \
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
  echo "$code" >&3
  (trap '' PIPE; echo "$scode" >&5) 2> /dev/null
  wait "$cl" || { exec 5>&-; fail "pairing failed: $(tail -n 3 "$tmp/pair.err")"; }
  exec 5>&-
  kill -INT "$SENDER_PID"
  stop_pid "$SENDER_PID" 5
  exec 3>&-
  mv "$tmp/sender.err" "$tmp/pair-sender.log"
}

# --- the client in a window on $CDISP -----------------------------------------------
start_client() { # ARGS...: CLIENT_PID, WIN (the window id)
  : > "$tmp/client.err"
  ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" SDL_VIDEODRIVER=x11 DISPLAY="$CDISP" \
    "$BF_CLIENT" "127.0.0.1:$CPORT" --config-dir "$tmp/c" --name input-client \
    --stats-json "$tmp/c.json" "$@" > /dev/null 2> "$tmp/client.err" &
  CLIENT_PID=$!
  pids+=("$CLIENT_PID")
  WIN=
  for _ in $(seq 100); do
    WIN=$(DISPLAY="$CDISP" xdotool search --onlyvisible --name '^bildfunk' 2> /dev/null | head -n 1)
    [ -n "$WIN" ] && break
    kill -0 "$CLIENT_PID" 2> /dev/null || fail "the client exited at start"
    sleep 0.1
  done
  [ -n "$WIN" ] || fail "no client window"
  for _ in $(seq 100); do # the stream is on and input was granted
    grep -q "input: keyboard, mouse and game pads go to the sender" "$tmp/client.err" && break
    sleep 0.1
  done
  grep -q "input: keyboard, mouse and game pads go to the sender" "$tmp/client.err" ||
    fail "the client did not start sending input"
  sleep 1 # pictures on the screen: the letterbox is known
  xd windowfocus --sync "$WIN"
}
xd() { DISPLAY="$CDISP" xdotool "$@" || fail "xdotool $*"; }
end_client() { # TERM: CLIENT_RC
  kill -TERM "$CLIENT_PID" 2> /dev/null
  for _ in $(seq 100); do kill -0 "$CLIENT_PID" 2> /dev/null || break; sleep 0.1; done
  wait "$CLIENT_PID"
  CLIENT_RC=$?
}
# typed: the text of the key-down lines bf_xlog wrote
typed() { sed -n "s/^key down 0x[0-9a-f]* '\(.*\)'$/\1/p" "$tmp/xlog.txt" | tr -d '\n'; }
wait_for() { # wait_for SECONDS CMD...: until CMD succeeds
  local t=$(($1 * 10))
  shift
  for _ in $(seq "$t"); do "$@" && return 0; sleep 0.1; done
  return 1
}

case_reconnect() {
  xvfb CDISP 800x600
  xvfb SDISP 640x360
  start_xlog
  pair
  start_sender --control "127.0.0.1:$CPORT" --source "x11:$SDISP" --fps 30 --quiet
  start_client --size 640x360 --reconnect
  xd type --delay 40 "ab"
  have() { [ "$(typed)" = "$1" ]; }
  wait_for 10 have ab || fail "before the freeze: typed '$(typed)', want 'ab'"
  kill -STOP "$SENDER_PID"
  sleep 3
  kill -CONT "$SENDER_PID"
  wait_for 20 grep -q "set up again: the stream goes on" "$tmp/client.err" ||
    fail "the client did not set the session up again: $(tail -n 3 "$tmp/client.err" | tr '\n' ' ')"
  xd windowfocus --sync "$WIN"
  xd type --delay 40 "cd"
  wait_for 10 have abcd || fail "after the reconnect: typed '$(typed)', want 'abcd'"
  end_client
  stop_pid "$SENDER_PID" 5
  ok "typed 'ab', the sender froze for 3 s, the session was set up again, 'cd' arrived: '$(typed)'"
}

case_type() {
  xvfb CDISP 800x600
  xvfb SDISP 640x360
  start_xlog
  pair
  start_sender --control "127.0.0.1:$CPORT" --source "x11:$SDISP" --fps 30 --quiet
  start_client --size 640x360
  local want='Hello, World! (a+b)*{c}=~$5.00 "q" <ok> ?_|#@%^&'
  xd type --delay 40 "$want"
  have() { [ "$(typed)" = "$want" ]; }
  wait_for 10 have || fail "typed '$(typed)', want '$want'"
  end_client
  stop_pid "$SENDER_PID" 5
  [ "$(jnum "$tmp/c.json" events_dropped)" = 0 ] || fail "the client dropped events"
  ok "typed '$want' in the client's window: the sender's display got exactly that ($(grep -c '^key down' "$tmp/xlog.txt") key presses)"
}

# --- clicks and the wheel (absolute mode, a letterboxed window) --------------------
# The picture (640x360) in an 800x400 window: 711x400 at x 44 (bars left and
# right). Picture pixel P is at window x 44 + ceil(P * 711 / 640), y
# ceil(P * 400 / 360); the sender's screen is the picture's size.
win_x() { awk -v p="$1" 'BEGIN { v = p * 711 / 640; c = int(v); if (c < v) c++; print 44 + c }'; }
win_y() { awk -v p="$1" 'BEGIN { v = p * 400 / 360; c = int(v); if (c < v) c++; print c }'; }
case_click() {
  xvfb CDISP 1024x768
  xvfb SDISP 640x360
  start_xlog
  pair
  start_sender --control "127.0.0.1:$CPORT" --source "x11:$SDISP" --fps 30 --quiet
  start_client --size 800x400
  # the pictures are on the screen (the letterbox is known) once a move to a
  # picture pixel puts the sender's pointer there
  on_screen() {
    xd mousemove --window "$WIN" "$(win_x 50)" "$(win_y 40)"
    sleep 0.3
    grep -q '^motion 50 40$' "$tmp/xlog.txt"
  }
  wait_for 20 on_screen || fail "the pointer never reached picture pixel 50,40"
  local pts="10,10 320,180 600,300 639,359 0,0 123,45" n=0 p x y
  for p in $pts; do
    x=${p%,*} y=${p#*,}
    xd mousemove --window "$WIN" "$(win_x "$x")" "$(win_y "$y")" click 1
    n=$((n + 1))
    clicked() { [ "$(grep -c '^button up 1 ' "$tmp/xlog.txt")" -ge "$n" ]; }
    wait_for 5 clicked || fail "click $n at $p did not arrive"
    grep '^button down 1 ' "$tmp/xlog.txt" | sed -n "${n}p" | grep -q "^button down 1 $x $y\$" ||
      fail "click $n: want $x $y, got '$(grep '^button down 1 ' "$tmp/xlog.txt" | sed -n "${n}p")'"
  done
  # in the bar left of the picture: the pointer stays at the picture's edge
  xd mousemove --window "$WIN" 10 200 click 1
  n=$((n + 1))
  wait_for 5 clicked || fail "the click in the bar did not arrive"
  grep '^button down 1 ' "$tmp/xlog.txt" | sed -n "${n}p" | grep -q '^button down 1 0 180$' ||
    fail "a click in the bar: got '$(grep '^button down 1 ' "$tmp/xlog.txt" | sed -n "${n}p")'"
  # wheel: 3 notches up, 2 down, 1 left, 2 right
  # (the wheel travels as a sum, like motion: an up and a down within one
  # send interval of the client net out, so the directions are 200 ms apart;
  # under ASan an up and the next down back to back arrived as nothing)
  xd click --repeat 3 --delay 30 4 sleep 0.2 click --repeat 2 --delay 30 5 sleep 0.2 click 6 \
    sleep 0.2 click --repeat 2 --delay 30 7
  wheel() { [ "$(grep -c '^button down [4-7] ' "$tmp/xlog.txt")" -ge 8 ]; }
  wait_for 5 wheel || true
  local w4 w5 w6 w7
  w4=$(grep -c '^button down 4 ' "$tmp/xlog.txt")
  w5=$(grep -c '^button down 5 ' "$tmp/xlog.txt")
  w6=$(grep -c '^button down 6 ' "$tmp/xlog.txt")
  w7=$(grep -c '^button down 7 ' "$tmp/xlog.txt")
  [ "$w4/$w5/$w6/$w7" = "3/2/1/2" ] || fail "wheel notches up/down/left/right $w4/$w5/$w6/$w7, want 3/2/1/2"
  end_client
  stop_pid "$SENDER_PID" 5
  ok "$n clicks landed on their picture pixels (one in the bar at the edge); wheel notches 3 up, 2 down, 1 left, 2 right arrived"
}

# --- relative mode ----------------------------------------------------------------------
# bf_xlog's motion lines are where the sender's pointer is: the sum of the
# relative motion is the last position minus the first.
last_motion() { grep '^motion ' "$tmp/xlog.txt" | tail -n 1 | cut -d' ' -f2,3; }
case_relative() {
  xvfb CDISP 1024x768
  xvfb SDISP 640x360
  "$BF_XLOG" --accel-off "$CDISP" || fail "pointer acceleration"
  start_xlog
  pair
  start_sender --control "127.0.0.1:$CPORT" --source "x11:$SDISP" --fps 30 --quiet
  start_client --size 640x360 --mouse relative
  xd mousemove --window "$WIN" 320 180 click 1 # captures the pointer: not sent
  sleep 0.5
  grep -q '^button' "$tmp/xlog.txt" && fail "the capturing click reached the sender"
  # first steps until one arrives (the capture takes effect in the client's
  # next turns): where the sender's pointer starts
  probe() { xd mousemove_relative -- 1 1; sleep 0.4; test -n "$(last_motion)"; }
  wait_for 10 probe || fail "no motion arrived: $(tail -n 2 "$tmp/client.err")"
  local x0 y0 x1 y1 i
  sleep 0.3
  read -r x0 y0 <<< "$(last_motion)"
  for i in $(seq 20); do xd mousemove_relative -- 3 0; sleep 0.02; done
  for i in $(seq 10); do xd mousemove_relative -- -2 3; sleep 0.02; done
  moved() { [ "$(last_motion)" = "$((x0 + 40)) $((y0 + 30))" ]; }
  wait_for 5 moved || fail "relative motion summed to '$(last_motion)', want $((x0 + 40)) $((y0 + 30)) (from $x0 $y0)"
  # Ctrl+Alt+Shift+Z lets the pointer go: motion is no longer sent, nor the hotkey
  xd key ctrl+alt+shift+z
  sleep 0.3
  xd mousemove_relative -- 5 5
  sleep 0.5
  moved || fail "motion after Ctrl+Alt+Shift+Z reached the sender: $(last_motion)"
  # (its modifiers are keys like any other until the Z comes: they go)
  grep -q '^key down 0x\(7a\|5a\) ' "$tmp/xlog.txt" && fail "the hotkey's Z reached the sender"
  end_client
  stop_pid "$SENDER_PID" 5
  [ "$(jstr "$tmp/c.json" mouse)" = relative ] || fail "the client ended in mouse mode '$(jstr "$tmp/c.json" mouse)'"
  ok "relative mode: the capturing click stayed local, 30 steps summed to +40,+30 on the sender, Ctrl+Alt+Shift+Z let the pointer go"
}

# --- 500 key events through 10 % loss with reordering -------------------------------
start_netsim() { # ARGS...: NETSIM_PORT
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
case_loss() {
  need BF_NETSIM
  xvfb CDISP 800x600
  xvfb SDISP 640x360
  start_xlog
  pair
  start_sender --control "127.0.0.1:$CPORT" --source "x11:$SDISP" --fps 30 --quiet \
    --stats-json "$tmp/sender.json"
  start_netsim --seed 13 --loss 10 --delay 5 --jitter 5 --reorder
  start_client --size 640x360 --data-via "127.0.0.1:$NETSIM_PORT"
  # 250 keys pressed and released: 500 events
  local want
  want=$(awk 'BEGIN { srand(5); s = "abcdefghijklmnopqrstuvwxyz0123456789"; for (i = 0; i < 250; i++) printf "%s", substr(s, 1 + int(rand() * 36), 1) }')
  xd type --delay 15 "$want"
  have() { [ "$(typed)" = "$want" ]; }
  wait_for 20 have || fail "500 key events through loss: got '$(typed)' (${#want} wanted)"
  # the last press is in, its release may still be on its way (repeated
  # until acknowledged, through the same loss): wait for all 250, then none
  # more (a doubled release would be a 251st)
  ups() { grep -c '^key up ' "$tmp/xlog.txt"; }
  all_up() { [ "$(ups)" -ge 250 ]; }
  wait_for 10 all_up || fail "$(ups) key releases, want 250"
  sleep 0.5
  [ "$(ups)" = 250 ] || fail "$(ups) key releases, want 250"
  end_client
  stop_pid "$SENDER_PID" 5
  kill -TERM "$NETSIM_PID"; wait "$NETSIM_PID" 2> /dev/null
  local lost repeats resent
  lost=$(tr -d '\n' < "$tmp/netsim.json" | grep -o '"up": {.*' | sed 's/"config": {[^}]*}//' |
    grep -o '"dropped_total": [0-9]*' | head -n 1 | awk '{print $2}')
  repeats=$(jnum "$tmp/sender.json" repeats)
  resent=$(jnum "$tmp/c.json" resent)
  [ "${lost:-0}" -ge 10 ] || fail "netsim dropped only ${lost:-0} datagrams toward the sender"
  [ "$(jnum "$tmp/sender.json" gaps)" = 0 ] || fail "the sender saw gaps"
  ok "500 key events through 10 % loss with reordering: exactly once, in order ($lost datagrams lost toward the sender, $resent resent, $repeats repeats not applied again)"
}

# --- nothing stuck ------------------------------------------------------------------------
held_then() { # held_then SIGNAL: a key and a button held, the client signalled; RELEASE_S
  xd mousemove --window "$WIN" 100 100 keydown shift mousedown 1
  held() { grep -q '^key down 0xffe1 ' "$tmp/xlog.txt" && grep -q '^button down 1 ' "$tmp/xlog.txt"; }
  wait_for 5 held || fail "the key and the button did not arrive"
  local t0 t1
  t0=$(date +%s%N)
  kill "-$1" "$CLIENT_PID"
  released() { grep -q '^key up 0xffe1' "$tmp/xlog.txt" && grep -q '^button up 1 ' "$tmp/xlog.txt"; }
  wait_for 5 released || fail "after SIG$1 of the client the key and the button are still held"
  t1=$(date +%s%N)
  RELEASE_S=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
  fcmp "$RELEASE_S" "<=" 2 || fail "released only after $RELEASE_S s"
}
case_kill() {
  xvfb CDISP 800x600
  xvfb SDISP 640x360
  start_xlog
  pair
  start_sender --control "127.0.0.1:$CPORT" --source "x11:$SDISP" --fps 30 --quiet
  start_client --size 640x360
  # the window loses the focus while a key is held: released on the sender
  xd keydown shift
  wait_for 5 grep -q '^key down 0xffe1 ' "$tmp/xlog.txt" || fail "the held key did not arrive"
  local root
  root=$(DISPLAY="$CDISP" xwininfo -root | sed -n 's/.*Window id: \(0x[0-9a-f]*\).*/\1/p')
  xd windowfocus "$root"
  wait_for 5 grep -q '^key up 0xffe1' "$tmp/xlog.txt" || fail "focus lost, the key still held"
  xd keyup shift windowfocus --sync "$WIN"
  : > "$tmp/xlog.txt"
  held_then KILL
  local killed=$RELEASE_S
  wait "$CLIENT_PID" 2> /dev/null
  # a client that stops without its socket closing (SIGSTOP): the sender's
  # 1 s input silence releases, before the control session notices (1.5 s)
  : > "$tmp/xlog.txt"
  start_client --size 640x360
  held_then STOP
  grep -q "input: the client was silent for 1 s" "$tmp/sender.err" ||
    fail "not released for the client's silence: $(tail -n 3 "$tmp/sender.err")"
  kill -CONT "$CLIENT_PID"
  stop_pid "$SENDER_PID" 5
  ok "a held key was released when the window lost the focus; a held key and mouse button were released ${killed} s after kill -9 of the client and $RELEASE_S s after it froze (SIGSTOP: the 1 s input silence)"
}

# --- a game pad (SDL virtual joystick) against the testsrc echo ---------------------
case_gamepad() {
  xvfb CDISP 800x600
  pair
  start_sender --control "127.0.0.1:$CPORT" --size 640x360 --fps 30 --quiet \
    --stats-json "$tmp/sender.json"
  cat > "$tmp/pad.txt" << 'PAD'
# the left stick right, the right trigger most of the way (the echo rumbles
# the pad's light motor with it), A and d-pad up pressed, then let go
400 axis leftx 20000
400 axis righttrigger 30000
500 button a 1
500 button dpup 1
1800 button a 0
1800 button dpup 0
2500 axis righttrigger 0
2500 axis leftx 0
PAD
  start_client --size 640x360 --virtual-pad "$tmp/pad.txt"
  wait_for 30 grep -q "virtual pad: the script is done" "$tmp/client.err" ||
    fail "the virtual pad's script did not finish"
  sleep 0.5 # its last change on its way to the sender and the rumble's end back
  end_client
  stop_pid "$SENDER_PID" 5
  local seen peak con upd vr last
  seen=$(jnum "$tmp/sender.json" pad_buttons_seen)
  con=$(jnum "$tmp/sender.json" pad_connects)
  peak=$(grep -o '"pad_axes_peak": \[[^]]*\]' "$tmp/sender.json")
  upd=$(jnum "$tmp/c.json" rumble_updates)
  vr=$(jnum "$tmp/c.json" virtual_pad_rumbles)
  last=$(grep -o '"virtual_pad_last_rumble": \[[^]]*\]' "$tmp/c.json")
  [ "${con:-0}" -ge 1 ] || fail "the sender saw no pad connect"
  [ "$seen" = $(((1 << 0) | (1 << 11))) ] || fail "pad buttons seen $seen, want A and d-pad up (2049)"
  [ "$peak" = '"pad_axes_peak": [20000, 0, 0, 0, 0, 30000]' ] || fail "axes: $peak"
  [ "${upd:-0}" -ge 2 ] || fail "the client applied $upd rumble changes, want on and off"
  [ "${vr:-0}" -ge 1 ] || fail "no rumble reached the virtual pad"
  [ "$last" = '"virtual_pad_last_rumble": [0, 0]' ] || fail "the pad still rumbles at the end: $last"
  ok "virtual pad: the sender applied pad 0 (A, d-pad up, left stick 20000, right trigger 30000); its rumble came back to the pad ($vr times) and stopped"
}

# --- who may not ----------------------------------------------------------------------------
case_direct() {
  # --direct: the datagrams of an adopted client are counted, never applied
  "$BF_SENDER" --direct --listen 127.0.0.1:0 --size 320x240 --fps 30 --duration 4 --quiet \
    --stats-json "$tmp/direct.json" 2> "$tmp/sender.err" &
  local sp=$!
  pids+=("$sp")
  local port=
  for _ in $(seq 100); do
    port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/sender.err")
    [ -n "$port" ] && break
    sleep 0.05
  done
  [ -n "$port" ] || fail "the direct sender did not start"
  grep -q "input: off in direct mode" "$tmp/sender.err" || fail "no 'off in direct mode' line"
  "$BF_INPEER" "127.0.0.1:$port" 50 > "$tmp/peer.out" || fail "bf_inpeer"
  wait "$sp"
  [ "$(jnum "$tmp/direct.json" direct_dropped)" = 50 ] ||
    fail "direct mode: $(jnum "$tmp/direct.json" direct_dropped) input datagrams counted, want 50"
  [ "$(jnum "$tmp/direct.json" taken)" = 0 ] && [ "$(jnum "$tmp/direct.json" keys)" = 0 ] ||
    fail "direct mode applied input"
  # a control session streams to its paired client; a peer without its keys
  # sends input from the same IP: never applied
  xvfb CDISP 800x600
  pair
  start_sender --control "127.0.0.1:$CPORT" --size 640x360 --fps 30 --quiet \
    --stats-json "$tmp/sender.json"
  start_client --size 640x360
  "$BF_INPEER" "127.0.0.1:$SENDER_PORT" 100 nopunch > "$tmp/peer2.out" || fail "bf_inpeer"
  sleep 0.5
  end_client
  stop_pid "$SENDER_PID" 5
  local bad keys
  bad=$(grep -o '"seal": {[^}]*}' "$tmp/sender.json" | grep -o '"bad_tag": [0-9]*' | awk '{print $2}')
  keys=$(jnum "$tmp/sender.json" keys)
  [ "$keys" = 0 ] || fail "the sender applied $keys key presses nobody typed"
  [ "${bad:-0}" -ge 100 ] || fail "the forged datagrams were not refused by the seal (bad_tag ${bad:-0})"
  ok "--direct: 50 input datagrams counted and never applied; 100 forged ones beside a paired session refused by the seal (bad_tag $bad), no key applied"
}

case "$case_name" in
  type) case_type ;;
  click) case_click ;;
  relative) case_relative ;;
  loss) case_loss ;;
  kill) case_kill ;;
  gamepad) case_gamepad ;;
  direct) case_direct ;;
  reconnect) case_reconnect ;;
  *) echo "unknown case $case_name"; exit 2 ;;
esac
