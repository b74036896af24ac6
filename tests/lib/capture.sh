# SPDX-License-Identifier: GPL-3.0-or-later
# Loopback captures that are live before the test sends anything. Shared by
# packaging/wireshark/test-dissector.sh, test-stream.sh and the capture cases
# of tests/security/{e2e,pair}.sh. Source it; it needs $tmp (a directory of
# the caller's).
#
# dumpcap and tshark print "Capturing on 'Loopback: lo'" before they open
# the interface, so a datagram sent right after that line can be missed (6
# of 15 on a loaded machine). cap_start therefore also captures datagrams to
# a canary port and sends canaries until one shows up in the file; cap_stop
# ends the capture and removes the canaries from the file, so the file holds
# only what the filter asked for, from the first datagram the test sends.
#
#   cap_start FILE FILTER   start capturing lo with FILTER into FILE (pcapng);
#                           returns 1 (after saying why) when it cannot capture
#   cap_stop                stop it, strip the canaries; FILE is complete after
#   cap_count FILE          packets in FILE now, canaries not counted
# Sets CAP_PID while a capture runs (the caller's cleanup should kill it).

CAP_PID=
CAP_FILE=
CAP_CANARY=

cap_count() {
  # (tshark complains about a file whose last packet is still being written,
  # after printing the packets before it)
  { tshark -r "$1" -Y "not (udp.dstport == ${CAP_CANARY:-0})" -T fields -e frame.number \
      2>/dev/null || true; } | grep -c . || true
}

cap_start() {
  CAP_FILE=$1
  CAP_CANARY=$((49000 + RANDOM % 1000))
  rm -f "$CAP_FILE"
  dumpcap -q -i lo -f "($2) or (udp and dst host 127.0.0.1 and dst port $CAP_CANARY)" \
    -w "$CAP_FILE" 2>"$tmp/dumpcap.err" &
  CAP_PID=$!
  local i
  for i in $(seq 200); do
    kill -0 "$CAP_PID" 2>/dev/null || break
    # nothing listens on the canary port: the kernel answers with an ICMP
    # port-unreachable, which the filter does not take
    printf 'bildfunk capture canary' >/dev/udp/127.0.0.1/$CAP_CANARY 2>/dev/null || true
    # (capinfos fails on a file whose last packet is still being written)
    { capinfos -c -M "$CAP_FILE" 2>/dev/null || true; } |
      awk -F': *' '/Number of packets/ {n = $2 + 0} END {exit !(n > 0)}' && return 0
    sleep 0.05
  done
  echo "cannot capture on lo (dumpcap said: $(tr '\n' ' ' <"$tmp/dumpcap.err"))"
  kill "$CAP_PID" 2>/dev/null || true
  wait "$CAP_PID" 2>/dev/null || true
  CAP_PID=
  return 1
}

cap_stop() {
  [ -n "$CAP_PID" ] || return 0
  kill -INT "$CAP_PID" 2>/dev/null || true
  wait "$CAP_PID" 2>/dev/null || true
  CAP_PID=
  # -2: a two-pass read, which tshark wants for a read filter with -w
  tshark -r "$CAP_FILE" -2 -R "not (udp.dstport == $CAP_CANARY)" -w "$CAP_FILE.tmp" \
    2>"$tmp/capstrip.err" || { cat "$tmp/capstrip.err"; return 1; }
  mv "$CAP_FILE.tmp" "$CAP_FILE"
}
