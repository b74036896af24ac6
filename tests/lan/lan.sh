#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The LAN half of issue #18 through the real programs in two network
# namespaces made here, one LAN (a veth pair): each side has its own
# dbus-daemon (a private system bus, DBUS_SYSTEM_BUS_ADDRESS) and its own
# avahi-daemon (explicit host name, a private /run through `unshare -m`).
#   1. discovery: the sender publishes _bildfunk._tcp; `bildfunk list` in the
#      client's namespace shows it by name, address and fingerprint prefix
#      within its --browse window (2.5 s), "unpaired"; once paired, "paired as"
#   2. WakeInfo: pairing leaves the sender's MAC (its veth's) in senders-wake
#   3. Wake-on-LAN: `bildfunk wake HOST` in the client's namespace; tcpdump in
#      the sender's captures the magic packet (6 x ff, 16 x that MAC) to UDP
#      port 9, broadcast and to the sender's address
#   3b. the window: `bildfunk` without a HOST, in Xvfb in the client's
#      namespace, offers the sender under its prompt; Tab puts its address on
#      the line, Enter streams 30 pictures (and last-sender is that address)
#   --no-publish: a sender with it is not listed
#   4. no daemon: `bildfunk list` says so in one line and lists the paired
#      sender (exit 0); `bildfunk HOST --wake` started before the sender sends
#      the packet and waits (a progress line) until the sender -- on a bus
#      without avahi-daemon: it says so in one line -- answers 6 s later,
#      then gets its 30 pictures
# Binaries from the environment: BF_SENDER, BF_CLIENT, BF_XTOOL. Needs root, ip,
# avahi-daemon, dbus-daemon, tcpdump, tshark, Xvfb (exit 77 = skip; a failure with
# BF_REQUIRE_ALL=1). The namespaces and daemons are removed on exit.
set -uo pipefail
case_name=${1:-lan}
: "${BF_SENDER:?}" "${BF_CLIENT:?}" "${BF_XTOOL:?}"
skip() {
  echo "skip: $*"
  [ "${BF_REQUIRE_ALL:-0}" = 1 ] && { echo "FAIL: BF_REQUIRE_ALL is set"; exit 1; }
  exit 77
}
[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces)"
for t in ip unshare avahi-daemon dbus-daemon tcpdump tshark Xvfb; do
  command -v "$t" > /dev/null || skip "needs $t"
done
source "$(dirname "$0")/../lib/e2e.sh" bf-lan-e2e
S=bflan-s-$$ C=bflan-c-$$
netns_cleanup() {
  cleanup
  ip netns del "$S" 2> /dev/null
  ip netns del "$C" 2> /dev/null
}
trap netns_cleanup EXIT
mkdir -p "$tmp/s" "$tmp/c"
chmod 700 "$tmp/s" "$tmp/c"

# the LAN: sender 10.78.0.2 (s0) -- client 10.78.0.1 (c0)
ip netns add "$S" && ip netns add "$C" || fail "cannot make namespaces"
ip -n "$S" link add s0 type veth peer name c0 netns "$C"
ip -n "$S" addr add 10.78.0.2/24 broadcast 10.78.0.255 dev s0
ip -n "$C" addr add 10.78.0.1/24 broadcast 10.78.0.255 dev c0
for ns in "$S" "$C"; do ip -n "$ns" link set lo up; done
ip -n "$S" link set s0 up
ip -n "$C" link set c0 up
ip -n "$C" route add default dev c0 # 255.255.255.255 leaves by it, as on a home LAN
MAC=$(ip -n "$S" -o link show s0 | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
[ -n "$MAC" ] || fail "no MAC on s0"

# side NAME NS IFACE HOST: a private system bus and an avahi-daemon for NS
side() {
  local name=$1 ns=$2 ifc=$3 host=$4
  cat > "$tmp/$name.bus.conf" << CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$tmp/$name.bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
CONF
  dbus-daemon --config-file="$tmp/$name.bus.conf" --nofork --nopidfile 2> "$tmp/$name.dbus.err" &
  pids+=($!)
  cat > "$tmp/$name.avahi.conf" << CONF
[server]
host-name=$host
use-ipv4=yes
use-ipv6=no
allow-interfaces=$ifc
enable-dbus=yes
ratelimit-interval-usec=1000000
ratelimit-burst=1000
[wide-area]
enable-wide-area=no
[publish]
publish-hinfo=no
publish-workstation=no
CONF
  for _ in $(seq 100); do [ -S "$tmp/$name.bus" ] && break; sleep 0.05; done
  [ -S "$tmp/$name.bus" ] || fail "the $name bus did not start"
  ip netns exec "$ns" env DBUS_SYSTEM_BUS_ADDRESS="unix:path=$tmp/$name.bus" \
    unshare -m --propagation private sh -c \
    'mount -t tmpfs tmpfs /run && mkdir -p /run/avahi-daemon &&
     exec avahi-daemon -f "$0" --no-drop-root --no-chroot --no-rlimits' \
    "$tmp/$name.avahi.conf" > "$tmp/$name.avahi.out" 2> "$tmp/$name.avahi.err" &
  pids+=($!)
  for _ in $(seq 200); do
    grep -q "Server startup complete" "$tmp/$name.avahi.err" && return 0
    sleep 0.05
  done
  fail "avahi-daemon ($name) did not start"
}
side sbus "$S" s0 bf-lan-sender
side cbus "$C" c0 bf-lan-client
# commands in a namespace with its bus (arrays, not functions: a function
# run in the background is a subshell, and $! would not be the program)
in_c=(ip netns exec "$C" env DBUS_SYSTEM_BUS_ADDRESS="unix:path=$tmp/cbus.bus")
in_s=(ip netns exec "$S" env DBUS_SYSTEM_BUS_ADDRESS="unix:path=$tmp/sbus.bus")

start_sender() { # ARGS...: sets CPORT, FP; stdin = FIFO on fd 3
  rm -f "$tmp/op"
  mkfifo "$tmp/op"
  exec 3<> "$tmp/op"
  : > "$tmp/sender.err"
  ip netns exec "$S" env DBUS_SYSTEM_BUS_ADDRESS="unix:path=$tmp/${SBUS:-sbus}.bus" \
    "$BF_SENDER" --control 10.78.0.2:${SPORT:-0} --listen 10.78.0.2:0 --config-dir "$tmp/s" \
    --size 320x240 --quiet "$@" < "$tmp/op" 2> "$tmp/sender.err" &
  SENDER_PID=$!
  pids+=("$SENDER_PID")
  for _ in $(seq 200); do
    CPORT=$(sed -n 's/.*control on 10\.78\.0\.2:\([0-9]*\).*/\1/p' "$tmp/sender.err" | head -n 1)
    FP=$(sed -n 's/.*identity fp \([0-9a-f]\{16\}\).*/\1/p' "$tmp/sender.err" | head -n 1)
    [ -n "$CPORT" ] && [ -n "$FP" ] && return 0
    kill -0 "$SENDER_PID" 2> /dev/null || break
    sleep 0.05
  done
  fail "the sender did not start"
}
stop_sender() {
  kill -INT "$SENDER_PID" 2> /dev/null
  wait "$SENDER_PID" 2> /dev/null
  exec 3>&-
}
list() { # the client's `bildfunk list`, 2.5 s of browsing; wall time in LIST_S
  local t0
  t0=$(now)
  "${in_c[@]}" "$BF_CLIENT" list --config-dir "$tmp/c" --browse 2.5 > "$tmp/list.out" 2> "$tmp/list.err" \
    || fail "list: exit $?"
  LIST_S=$(awk "BEGIN { printf \"%.1f\", $(now) - $t0 }")
}
now() { date +%s.%N; }

# 1. discovery
start_sender --lan-name "bf test sender"
for _ in $(seq 200); do
  grep -q "LAN discovery: published" "$tmp/sender.err" && break
  sleep 0.05
done
grep -q "LAN discovery: published \"bf test sender\" (_bildfunk._tcp, port $CPORT)" \
  "$tmp/sender.err" || fail "the sender did not publish itself"
list
want="lan: \"bf test sender\" at 10.78.0.2:$CPORT  fp $FP...  unpaired (bildfunk pair 10.78.0.2:$CPORT)"
grep -qF "$want" "$tmp/list.out" || fail "list does not show the sender: $(cat "$tmp/list.out")"
fcmp "$LIST_S" "<" 10 || fail "list took $LIST_S s"
ok "bildfunk list finds \"bf test sender\" on the LAN within its 2.5 s window (${LIST_S} s in all), unpaired"

# 2. pairing (the test plays both users) brings the MAC
rm -f "$tmp/cin"
mkfifo "$tmp/cin"
"${in_c[@]}" timeout 30 "$BF_CLIENT" pair "10.78.0.2:$CPORT" --config-dir "$tmp/c" --name lan-client \
  < "$tmp/cin" 2> "$tmp/pair.err" &
cl=$!
exec 5> "$tmp/cin"
for _ in $(seq 200); do
  code=$(sed -n 's/.*code \([0-9]\{6\}\).*/\1/p' "$tmp/pair.err" | head -n 1)
  scode=$(sed -n 's/.*this sender.s code: \([0-9]\{6\}\).*/\1/p' "$tmp/sender.err" | head -n 1)
  [ -n "$code" ] && [ -n "$scode" ] && break
  sleep 0.05
done
[ -n "$code" ] && [ -n "$scode" ] || fail "no pairing codes shown"
echo "$code" >&3
echo "$scode" >&5
wait "$cl" || fail "pairing failed"
exec 5>&-
grep -qF "10.78.0.2:$CPORT 10.78.0.2 $MAC" "$tmp/c/senders-wake" \
  || fail "senders-wake does not hold the sender's MAC $MAC: $(cat "$tmp/c/senders-wake" 2>&1)"
list
grep -qF "fp $FP...  paired as 10.78.0.2:$CPORT" "$tmp/list.out" \
  || fail "list does not show the sender as paired: $(cat "$tmp/list.out")"
ok "pairing keeps the sender's MAC ($MAC); list shows it paired"

# 3. Wake-on-LAN, captured on the sender's side
"${in_s[@]}" tcpdump -i s0 -n -U --immediate-mode -w "$tmp/wol.pcap" udp port 9 2> "$tmp/tcpdump.err" &
td=$!
pids+=("$td")
for _ in $(seq 100); do grep -q "listening on" "$tmp/tcpdump.err" && break; sleep 0.05; done
grep -q "listening on" "$tmp/tcpdump.err" || fail "tcpdump did not start"
"${in_c[@]}" "$BF_CLIENT" wake "10.78.0.2:$CPORT" --config-dir "$tmp/c" 2> "$tmp/wake.err" \
  || fail "wake: exit $?"
sleep 0.5
kill -INT "$td"
wait "$td" 2> /dev/null
magic="ffffffffffff$(for _ in $(seq 16); do printf '%s' "${MAC//:/}"; done)"
tshark -r "$tmp/wol.pcap" -T fields -e ip.dst -e udp.dstport -e udp.payload > "$tmp/wol.txt" 2> /dev/null
bc=$(awk -v m="$magic" '$2 == 9 && $3 == m && ($1 == "10.78.0.255" || $1 == "255.255.255.255")' \
  "$tmp/wol.txt" | wc -l)
uc=$(awk -v m="$magic" '$2 == 9 && $3 == m && $1 == "10.78.0.2"' "$tmp/wol.txt" | wc -l)
[ "$bc" -ge 1 ] || fail "no broadcast magic packet for $MAC captured: $(cat "$tmp/wol.txt")"
[ "$uc" -ge 1 ] || fail "no magic packet to the sender's address captured: $(cat "$tmp/wol.txt")"
ok "bildfunk wake: tcpdump in the sender's namespace captured the magic packet for $MAC ($bc broadcast, $uc to 10.78.0.2)"

# 3b. the window's prompt offers the sender; Tab, Enter
for _ in $(seq 20); do
  xn=$((100 + RANDOM % 800))
  [ -e "/tmp/.X$xn-lock" ] || [ -e "/tmp/.X11-unix/X$xn" ] || break
done
"${in_c[@]}" Xvfb ":$xn" -screen 0 640x480x24 -nolisten tcp > "$tmp/xvfb.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -e "/tmp/.X11-unix/X$xn" ] && break; sleep 0.05; done
[ -e "/tmp/.X11-unix/X$xn" ] || fail "Xvfb did not start"
sleep 0.2
[ -e "$tmp/c/last-sender" ] && fail "last-sender before any streaming session"
# (leak checks off under ASan here, as in tests/client/e2e.sh: SDL's X libraries)
"${in_c[@]}" DISPLAY=":$xn" SDL_VIDEODRIVER=x11 \
  ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
  "$BF_CLIENT" --config-dir "$tmp/c" --name lan-client --size 640x480 --font builtin \
  --frames 30 --stats-json "$tmp/win.json" < /dev/null > /dev/null 2> "$tmp/win.err" &
wcl=$!
pids+=("$wcl")
WIN=$("${in_c[@]}" DISPLAY=":$xn" "$BF_XTOOL" find bildfunk 10) || fail "no client window"
for _ in $(seq 200); do
  grep -q "the window offers 1 sender on the LAN (Tab picks)" "$tmp/win.err" && break
  sleep 0.05
done
grep -q "the window offers 1 sender on the LAN (Tab picks)" "$tmp/win.err" \
  || fail "the window offers no LAN sender"
sleep 0.5 # a key sent at once can be lost (tests/client/e2e.sh)
"${in_c[@]}" DISPLAY=":$xn" "$BF_XTOOL" type "${WIN%% *}" '\t\n' || fail "typing Tab, Return"
for _ in $(seq 300); do kill -0 "$wcl" 2> /dev/null || break; sleep 0.1; done
wait "$wcl" || fail "the window's stream failed: exit $?"
pics=$(jnum "$tmp/win.json" pictures)
[ "${pics:-0}" -eq 30 ] || fail "the window decoded ${pics:-0} pictures, want 30"
[ "$(cat "$tmp/c/last-sender")" = "10.78.0.2:$CPORT" ] \
  || fail "last-sender is '$(cat "$tmp/c/last-sender")', not the LAN sender's address"
stop_sender
ok "the window's prompt offers the LAN's sender; Tab, Enter: 30 pictures from 10.78.0.2:$CPORT"

# --no-publish: the daemon is there, the sender is not on the LAN
SPORT=$CPORT start_sender --no-publish
sleep 1.5 # the last sender's goodbye: mDNS keeps a record 1 s after it (RFC 6762 10.1)
list
grep -qx "lan: no senders found in 2.5 s" "$tmp/list.out" \
  || fail "--no-publish: list shows $(cat "$tmp/list.out")"
grep -q "LAN discovery" "$tmp/sender.err" && fail "--no-publish: the sender speaks of LAN discovery"
stop_sender
ok "--no-publish: the sender is not listed"

# 4. without a daemon: list says so in one line and exits 0; a sender says so
# once and streams; --wake gets there
ip netns exec "$C" env DBUS_SYSTEM_BUS_ADDRESS="unix:path=$tmp/nobus.bus" \
  "$BF_CLIENT" list --config-dir "$tmp/c" > "$tmp/list.out" 2> "$tmp/list.err" \
  || fail "list without a daemon: exit $?"
[ "$(grep -c "LAN discovery off: .*avahi-daemon" "$tmp/list.err")" = 1 ] \
  || fail "list without a daemon: $(cat "$tmp/list.err")"
grep -q "^10.78.0.2:$CPORT " "$tmp/list.out" || fail "list without a daemon lost the paired sender"
# --wake before the sender is up (it "wakes" 6 s later): the client waits,
# says so every 5 s, and connects once the control port answers
"${in_c[@]}" timeout 60 "$BF_CLIENT" "10.78.0.2:$CPORT" --wake --config-dir "$tmp/c" \
  --name lan-client --headless --no-audio --frames 30 --stats-json "$tmp/client.json" 2> "$tmp/client.err" &
wcl=$!
pids+=("$wcl")
sleep 6
SBUS=nobus SPORT=$CPORT start_sender
sleep 0.5
n=$(grep -c "LAN discovery" "$tmp/sender.err")
[ "$n" = 1 ] || fail "the sender without a daemon said $n lines about LAN discovery"
grep -q "LAN discovery: off: .*avahi-daemon" "$tmp/sender.err" || fail "no 'off' line"
wait "$wcl" || fail "the --wake stream failed: exit $?"
grep -q "wake: sent [0-9]* magic packets for 10.78.0.2:$CPORT (MAC $MAC)" "$tmp/client.err" \
  || fail "--wake sent no magic packet"
grep -q "wake: waiting for 10.78.0.2:$CPORT \.\.\. [0-9]* s" "$tmp/client.err" \
  || fail "--wake showed no progress while waiting"
grep -q "wake: 10.78.0.2:$CPORT answers after" "$tmp/client.err" || fail "--wake did not wait for the port"
pics=$(jnum "$tmp/client.json" pictures)
[ "${pics:-0}" -eq 30 ] || fail "decoded ${pics:-0} pictures, want 30"
stop_sender
ok "without avahi-daemon list and the sender say so in one line and go on; --wake waits for the sender (with progress), then 30 pictures"
