#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# NAT punch test (spec §7) through a real NAT: three network namespaces made
# here -- client, router (nftables masquerade + a stateful forward filter that
# behaves like a home router), sender -- and tests/nat/nat_peer on both ends.
#
# Checks, all in one ~15 s run (four client/sender pairs in parallel):
#   1. the punch opens the path: the sender adopts the router's public
#      address and port, and its packets reach the client through the NAT;
#   2. port-restricted: packets from another sender port do not get in;
#   3. without a punch the sender falls back to the reported (private)
#      address and nothing gets through (unsolicited traffic is dropped);
#   4. keepalives: the router's UDP conntrack timeout is set to 5 s here
#      (scaled down from the kernel's 30 s default, both the unreplied and the
#      stream timeout); the sender then goes idle for 10 s. The client that
#      stops after its 15 fast punches is silent for ~8 s before the sender
#      resumes, longer than the timeout: its path is gone. The client that
#      keeps punching every 2 s still gets the resumed stream.
#
# Usage: nat_punch.sh PATH/TO/nat_peer. Needs root (exit 77 = skip otherwise;
# with BF_REQUIRE_ALL=1 a missing capability is a failure). Traffic stays in
# the namespaces; they are deleted on exit, also on failure.
set -euo pipefail
# shellcheck source=tests/lib/procs.sh
. "$(dirname "$0")/../lib/procs.sh"

peer=${1:?usage: nat_punch.sh PATH/TO/nat_peer}
need() {
  echo "nat_punch: $*" >&2
  if [ "${BF_REQUIRE_ALL:-0}" = 1 ]; then exit 1; fi
  exit 77
}
[ "$(id -u)" -eq 0 ] || need "needs root (network namespaces)"
for tool in ip nft; do command -v "$tool" >/dev/null || need "needs $tool"; done

id=$$
C=bfnat-c-$id R=bfnat-r-$id S=bfnat-s-$id
tmp=$(mktemp -d)
pids=()
cleanup() {
  bf_kill_children TERM "${pids[@]}" # only our own (procs.sh)
  wait 2>/dev/null || true
  for ns in "$C" "$R" "$S"; do ip netns del "$ns" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# client 10.77.1.2 -- lan -- 10.77.1.1 router 10.77.2.1 -- wan -- 10.77.2.2 sender
ip netns add "$C"
ip netns add "$R"
ip netns add "$S"
ip -n "$C" link add lan0 type veth peer name lan1 netns "$R"
ip -n "$R" link add wan0 type veth peer name wan1 netns "$S"
ip -n "$C" addr add 10.77.1.2/24 dev lan0
ip -n "$R" addr add 10.77.1.1/24 dev lan1
ip -n "$R" addr add 10.77.2.1/24 dev wan0
ip -n "$S" addr add 10.77.2.2/24 dev wan1
for ns in "$C" "$R" "$S"; do ip -n "$ns" link set lo up; done
ip -n "$C" link set lan0 up
ip -n "$R" link set lan1 up
ip -n "$R" link set wan0 up
ip -n "$S" link set wan1 up
ip -n "$C" route add default via 10.77.1.1
# The sender can route to the client's private network via the router, so
# the router (not a missing route) is what stops unsolicited packets.
ip -n "$S" route add 10.77.1.0/24 via 10.77.2.1
ip netns exec "$R" sysctl -qw net.ipv4.ip_forward=1
ip netns exec "$R" nft -f - <<NFT
table ip nat {
  chain postrouting {
    type nat hook postrouting priority 100;
    oifname "wan0" masquerade
  }
}
table ip filter {
  chain forward {
    type filter hook forward priority 0; policy drop;
    ct state established,related accept
    iifname "lan1" oifname "wan0" accept
  }
}
NFT
ip netns exec "$R" sysctl -qw net.netfilter.nf_conntrack_udp_timeout=5 \
  net.netfilter.nf_conntrack_udp_timeout_stream=5

# senders first (they wait up to 2.5 s for a punch), then the clients
common=(--expect 10.77.2.1 --burst-ms 1000 --pps 500 --resume-ms 11000)
ip netns exec "$S" "$peer" sender --bind 0.0.0.0:7001 --reported 10.77.1.2:6001 \
  --stray-bind 0.0.0.0:7101 "${common[@]}" >"$tmp/s1" & pids+=($!)
ip netns exec "$S" "$peer" sender --bind 0.0.0.0:7002 --reported 10.77.1.2:6002 \
  "${common[@]}" >"$tmp/s2" & pids+=($!)
ip netns exec "$S" "$peer" sender --bind 0.0.0.0:7003 --reported 10.77.1.2:6003 \
  --resume-ms 3000 --expect 10.77.2.1 --burst-ms 1000 --pps 500 >"$tmp/s3" & pids+=($!)
sleep 0.3
ip netns exec "$C" "$peer" client --bind 0.0.0.0:6001 --sender 10.77.2.2:7001 \
  --keepalive 0 --seconds 14 >"$tmp/c1" & pids+=($!)
ip netns exec "$C" "$peer" client --bind 0.0.0.0:6002 --sender 10.77.2.2:7002 \
  --keepalive 1 --seconds 14 >"$tmp/c2" & pids+=($!)
ip netns exec "$C" "$peer" client --bind 0.0.0.0:6003 --sender 10.77.2.2:7003 \
  --no-punch --seconds 8 >"$tmp/c3" & pids+=($!)
for p in "${pids[@]}"; do wait "$p"; done
pids=()

get() { sed -n "s/.*\\b$2=\\([^ ]*\\).*/\\1/p" "$tmp/$1"; }
fails=0
check() { # description, condition
  if eval "$2"; then echo "ok   - $1"; else echo "FAIL - $1"; fails=$((fails + 1)); fi
}
for f in s1 c1 s2 c2 s3 c3; do echo "# $f: $(cat "$tmp/$f")"; done

check "punch adopted (no keepalive pair)" '[ "$(get s1 state)" = adopted ]'
check "punch adopted (keepalive pair)" '[ "$(get s2 state)" = adopted ]'
check "sender sees the router's public address" \
  '[ "$(get s1 target | cut -d: -f1)" = 10.77.2.1 ] && [ "$(get s2 target | cut -d: -f1)" = 10.77.2.1 ]'
check "phase 1 reached the client through the NAT (>= 90 %)" \
  '[ "$(get c1 recv1)" -ge $(( $(get s1 sent1) * 9 / 10 )) ] && [ "$(get s1 sent1)" -ge 100 ] &&
   [ "$(get c2 recv1)" -ge $(( $(get s2 sent1) * 9 / 10 )) ]'
check "another sender port is blocked (port-restricted NAT)" \
  '[ "$(get s1 sent3)" -ge 100 ] && [ "$(get c1 recv3)" -eq 0 ]'
check "no punch: fallback to the reported address, nothing gets through" \
  '[ "$(get s3 state)" = fallback ] && [ "$(get s3 sent1)" -ge 100 ] && [ "$(get c3 recv1)" -eq 0 ] &&
   [ "$(get c3 recv2)" -eq 0 ]'
check "without keepalives the path died during the idle period" \
  '[ "$(get s1 sent2)" -ge 100 ] && [ "$(get c1 recv2)" -eq 0 ] && [ "$(get c1 punches)" -eq 15 ]'
check "with keepalives it survived the idle period (>= 90 %)" \
  '[ "$(get s2 sent2)" -ge 100 ] && [ "$(get c2 recv2)" -ge $(( $(get s2 sent2) * 9 / 10 )) ] &&
   [ "$(get c2 punches)" -gt 15 ]'
check "no foreign datagrams" '[ "$(get c1 foreign)" -eq 0 ] && [ "$(get c2 foreign)" -eq 0 ]'

if [ "$fails" -ne 0 ]; then echo "nat_punch: $fails check(s) failed"; exit 1; fi
echo "nat_punch: all checks passed"
