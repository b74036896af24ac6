#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Makes the screenshots the AppStream metadata shows (assets/screenshots/),
# on a virtual X display, from the real programs on loopback:
#   pairing.png  the client's pairing screen: its own code, and the prompt for
#                the sender's code
#   stream.png   the same window, once paired, showing the sender's test
#                pattern with the statistics overlay (normal level)
# Both are the whole 1280x720 screen with the client fullscreen. The script
# plays both users (as scripts/demo.sh does): it types the client's code into
# the sender and the sender's code into the client's stdin. Each picture is
# checked before it is written (bf_shotcheck: light text on the dark pairing
# screen; the overlay and the test pattern's colour bars). Every run shows
# the same scene; the codes, the port, the overlay's figures and the
# pattern's frame counter differ.
#
#   packaging/screenshots.sh OUTDIR
#   (BF_CLIENT, BF_SENDER, BF_SHOTCHECK: the programs; default build/...)
#
# Regenerate the committed ones with
#   bash packaging/screenshots.sh assets/screenshots
# after a change to what the window shows. packaging_screenshots (ctest) runs
# it into a scratch folder.
# As the e2e drivers: no -e (tests/lib/e2e.sh's clean-up kills processes that
# may be gone); every step that matters is checked.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ $# = 1 ] || { echo "usage: screenshots.sh OUTDIR" >&2; exit 2; }
mkdir -p "$1" || exit 1
out=$(cd "$1" && pwd)
case_name=screenshots
# shellcheck source=../tests/lib/e2e.sh
source "$here/../tests/lib/e2e.sh" bf-shots
build=$here/../build
BF_CLIENT=${BF_CLIENT:-$build/client/bildfunk}
BF_SENDER=${BF_SENDER:-$build/sender/bildfunk-send}
BF_SHOTCHECK=${BF_SHOTCHECK:-$build/tests/bf_shotcheck}
for v in BF_CLIENT BF_SENDER BF_SHOTCHECK; do [ -x "${!v}" ] || unset "$v"; need "$v"; done
for t in Xvfb ffmpeg; do
  command -v "$t" >/dev/null && continue
  [ "${BF_REQUIRE_ALL:-0}" = 1 ] && fail "$t is missing"
  echo "skip: $t is missing"
  exit 77
done
W=1280 H=720

# A free display number, then Xvfb on it.
for _ in $(seq 20); do
  n=$((100 + RANDOM % 800))
  [ -e "/tmp/.X$n-lock" ] || [ -e "/tmp/.X11-unix/X$n" ] || break
done
Xvfb ":$n" -screen 0 "${W}x${H}x24" -nolisten tcp >"$tmp/xvfb.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -e "/tmp/.X11-unix/X$n" ] && break; sleep 0.05; done
[ -e "/tmp/.X11-unix/X$n" ] || fail "Xvfb did not start"
export DISPLAY=:$n
sleep 0.2

# grab NAME CHECK...: the screen as NAME.png in OUTDIR, once bf_shotcheck
# passes CHECK (tried for up to 5 s: the window may still be drawing)
grab() {
  local name=$1 ok=0
  shift
  for _ in $(seq 10); do
    ffmpeg -hide_banner -loglevel error -f x11grab -draw_mouse 0 -video_size "${W}x$H" -i "$DISPLAY" -frames:v 1 \
      -pix_fmt rgb24 -f rawvideo -y "$tmp/$name.rgb" || fail "x11grab failed"
    if "$BF_SHOTCHECK" "$tmp/$name.rgb" "$W" "$H" "$@" >"$tmp/$name.check"; then ok=1; break; fi
    sleep 0.5
  done
  [ $ok = 1 ] || { cat "$tmp/$name.check"; fail "$name: the screen does not show what it should"; }
  ffmpeg -hide_banner -loglevel error -f rawvideo -pix_fmt rgb24 -video_size "${W}x$H" \
    -i "$tmp/$name.rgb" -fflags +bitexact -flags +bitexact -compression_level 100 -y "$out/$name.png" ||
    fail "writing $name.png"
  echo "$name.png: $(stat -c %s "$out/$name.png") bytes ($(tr '\n' ' ' <"$tmp/$name.check"))"
}

mkfifo "$tmp/sin" "$tmp/cin" || fail "mkfifo"
exec 3<>"$tmp/sin" 4<>"$tmp/cin" || fail "opening the fifos"
"$BF_SENDER" --control 127.0.0.1:0 --listen 127.0.0.1:0 --config-dir "$tmp/sender" \
  --size "${W}x$H" --fps 60 <"$tmp/sin" 2>"$tmp/sender.err" &
pids+=($!)
cport=
for _ in $(seq 200); do
  cport=$(sed -n 's/.*control on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/sender.err" | head -n 1)
  [ -n "$cport" ] && break
  sleep 0.05
done
[ -n "$cport" ] || fail "the sender did not start"

# (Under ASan without leak checking, as the e2e tests' windowed runs: SDL
# unloads the X libraries it opened, their leftovers cannot be attributed.)
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" SDL_VIDEODRIVER=x11 \
  "$BF_CLIENT" "127.0.0.1:$cport" --config-dir "$tmp/client" --name laptop \
  --fullscreen --overlay normal --no-wait-on-error --stats-json "$tmp/client.json" \
  <"$tmp/cin" >/dev/null 2>"$tmp/client.err" &
client=$!
pids+=("$client")
code= scode=
for _ in $(seq 300); do
  kill -0 "$client" 2>/dev/null || fail "the client ended before pairing"
  code=$(sed -n 's/.*code \([0-9]\{6\}\) (type it on the sender).*/\1/p' "$tmp/client.err" | head -n 1)
  scode=$(sed -n "s/.*this sender's code: \([0-9]\{6\}\).*/\1/p" "$tmp/sender.err" | head -n 1)
  [ -n "$code" ] && [ -n "$scode" ] && grep -q "or in the window" "$tmp/client.err" && break
  sleep 0.05
done
[ -n "$code" ] && [ -n "$scode" ] || fail "no pairing codes"
sleep 0.5
grab pairing text 0 0 "$W" "$H"

echo "$code" >&3 || fail "typing the client's code into the sender"
echo "$scode" >&4 || fail "typing the sender's code into the client"
for _ in $(seq 200); do grep -q "paired with" "$tmp/client.err" && break; sleep 0.05; done
grep -q "paired with" "$tmp/client.err" || fail "the client did not pair"
# The graph holds the last 256 pictures: about 4.3 s at 60 fps.
sleep 5
grab stream overlay 0 0 $((W / 2)) $((H / 2)) bars 0 $((H * 3 / 4)) "$W" $((H / 4))

kill -TERM "$client"
rc=0
wait "$client" || rc=$?
[ "$rc" = 0 ] || fail "the client exited $rc"
shown=$(jnum "$tmp/client.json" pictures)
# 5 s of 60 fps; a busy machine shows fewer, a second's worth is the bound
[ "${shown:-0}" -ge 60 ] || fail "the client showed only ${shown:-0} pictures"
[ "$(jnum "$tmp/client.json" sealed)" = 1 ] || fail "the stream was not sealed"
echo "screenshots: pairing.png and stream.png in $out (client: $shown pictures, sealed)"
