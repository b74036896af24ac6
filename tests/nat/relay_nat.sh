#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The relayed data path (issue #18) with the real programs in network
# namespaces made here: the client and the sender each behind a home router
# (nftables masquerade, a stateful forward filter, nothing unsolicited in),
# a TURN server (coturn, started here) in the "internet" between them:
#
#   client 10.78.1.2 -- rc 10.78.10.2 --+-- 10.78.10.1 internet (coturn) 10.78.20.1 --+-- rs 10.78.20.2 -- 10.78.2.2 sender
#
# Nothing unsolicited from the internet reaches a router's own stack either
# (its input chain drops it before conntrack keeps an entry: an entry for a
# punch the router itself answered would take the port a port-preserving
# masquerade needs for the opening punches, docs/protocol.md 7.1).
# The sender's router forwards its TCP control port 47999; the client reaches
# the sender at 10.78.20.2:47999 (pinned under that name by a pairing first,
# the test typing both codes as tests/fire/fire.sh does). Each case runs a
# fresh sender (320x240 at 30 fps, --dump-au) and one client (--frames 60,
# --framemd5, --stats-json):
#   direct  the sender's router forwards UDP 47998 too (port-preserving
#           masquerade on both): the punch opens the path; the client has
#           --turn, and the path stays "direct"
#   both    port-preserving masquerade on both, the sender's router forwards
#           only TCP 47999 (no UDP): the sender's opening punches toward the
#           client's DataAddr open its NAT, the client's punches get in, and
#           the path is "direct" (the client has --turn), bit-exact
#   relayed the sender's router masquerades with random ports and forwards
#           only TCP 47999: the punch cannot open the path; after 3 s the
#           client offers its relayed address and the stream goes through
#           coturn: path "relayed via 10.78.10.1:3478", every picture the
#           client shows bit-exact with the sender's dump, and the client
#           names the sender's NAT as the one that maps ports itself
#   reconnect  the same through the client's relay with --reconnect: the
#           sender freezes 3 s, the new session is offered the relayed
#           address again and the stream goes on to its 240 pictures
#   senders the same router, the client without --turn, the sender with it:
#           after 4.5 s the sender offers its relayed address, the client's
#           punches come through coturn and adopt; bit-exact again
#           (the client said it has no relay: the sender offers at 3 s)
#   senderrestart  the same, then the sender is killed (kill -9: its
#           allocation stays on coturn) and started again: its Allocate from
#           the same 5-tuple (47998, the NAT's mapping still alive) meets
#           437 Allocation Mismatch; it releases the stale allocation
#           (Refresh 0) and allocates again, and the client streams through
#           the new sender's relay, bit-exact
#   sendersreconnect  the same with --reconnect: the sender freezes 3 s, the
#           new session goes through the sender's relay again, 240 pictures
#   bothturn both with --turn: the client's offer (3 s) wins over the
#           sender's (4.5 s); bit-exact
#   noturn  the same router, a client without --turn: it ends (exit 1) and
#           says the data path did not open, and what would open it, and
#           that the sender has no relay either (its RelayFailed)
#   senderbad the sender's relay refuses its password, the client has none:
#           the client names the sender's relay failure
#   badcred the same with a wrong TURN password and --relay always: exit 1
#           and coturn's 401 in words
# Usage: relay_nat.sh (BF_CLIENT, BF_SENDER in the environment). Needs root
# and turnserver, ip, nft, ffmpeg (exit 77 = skip; with BF_REQUIRE_ALL=1 a
# missing one is a failure). Traffic stays in the namespaces; they are
# deleted on exit, also on failure.
set -uo pipefail
# shellcheck source=tests/lib/turn.sh
. "$(dirname "$0")/../lib/turn.sh"
# shellcheck source=tests/lib/procs.sh
. "$(dirname "$0")/../lib/procs.sh"

need() {
  echo "relay_nat: $*" >&2
  if [ "${BF_REQUIRE_ALL:-0}" = 1 ]; then exit 1; fi
  exit 77
}
[ "$(id -u)" -eq 0 ] || need "needs root (network namespaces)"
for tool in ip nft turnserver ffmpeg; do command -v "$tool" > /dev/null || need "needs $tool"; done
: "${BF_CLIENT:?BF_CLIENT}" "${BF_SENDER:?BF_SENDER}"

id=$$
C=bfrl-c-$id RC=bfrl-rc-$id I=bfrl-i-$id RS=bfrl-rs-$id S=bfrl-s-$id
tmp=$(mktemp -d)
pids=()
cleanup() {
  bf_kill_children TERM "${pids[@]}" # only our own (procs.sh)
  wait 2> /dev/null || true
  for ns in "$C" "$RC" "$I" "$RS" "$S"; do ip netns del "$ns" 2> /dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
fail() {
  echo "FAIL - $*"
  for f in "$tmp"/*.err; do [ -f "$f" ] && { echo "--- $f"; tail -n 15 "$f"; }; done
  exit 1
}
ok() { echo "ok   - $*"; }

# --- the network -----------------------------------------------------------------
for ns in "$C" "$RC" "$I" "$RS" "$S"; do
  ip netns add "$ns"
  ip -n "$ns" link set lo up
done
link() { # NS1 IF1 ADDR1 NS2 IF2 ADDR2
  ip -n "$1" link add "$2" type veth peer name "$5" netns "$4"
  ip -n "$1" addr add "$3" dev "$2"
  ip -n "$4" addr add "$6" dev "$5"
  ip -n "$1" link set "$2" up
  ip -n "$4" link set "$5" up
}
link "$C" lan0 10.78.1.2/24 "$RC" lan1 10.78.1.1/24
link "$RC" wan0 10.78.10.2/24 "$I" c0 10.78.10.1/24
link "$RS" wan0 10.78.20.2/24 "$I" s0 10.78.20.1/24
link "$S" lan0 10.78.2.2/24 "$RS" lan1 10.78.2.1/24
ip -n "$C" route add default via 10.78.1.1
ip -n "$RC" route add default via 10.78.10.1
ip -n "$RS" route add default via 10.78.20.1
ip -n "$S" route add default via 10.78.2.1
for ns in "$RC" "$I" "$RS"; do ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1; done

router() { # NS [random] [udp]: a home router; the sender's forwards TCP 47999 (and UDP 47998)
  local ns=$1 masq=masquerade fwd=""
  [ "${2:-}" = random ] && masq="masquerade random"
  if [ "$ns" = "$RS" ]; then
    fwd="iifname \"wan0\" tcp dport 47999 dnat to 10.78.2.2:47999"
    [ "${3:-}" = udp ] && fwd="$fwd
    iifname \"wan0\" udp dport 47998 dnat to 10.78.2.2:47998"
  fi
  ip netns exec "$ns" nft -f - << NFT
flush ruleset
table ip nat {
  chain prerouting {
    type nat hook prerouting priority -100;
    $fwd
  }
  chain postrouting {
    type nat hook postrouting priority 100;
    oifname "wan0" $masq
  }
}
table ip filter {
  chain input {
    type filter hook input priority 0; policy accept;
    iifname "wan0" ct state established,related accept
    iifname "wan0" drop
  }
  chain forward {
    type filter hook forward priority 0; policy drop;
    ct state established,related accept
    ct status dnat accept
    iifname "lan1" oifname "wan0" accept
  }
}
NFT
  ip netns exec "$ns" conntrack -F 2> /dev/null || true
}
router "$RC"

# coturn in the internet, long-term credentials
bf_turnserver "$I" 10.78.10.1 bildfunk.test alice alice-pass "$tmp" 49152 49999
pids+=("$TURN_PID")
ip netns exec "$I" ss -lun | grep -q "10.78.10.1:3478" || fail "turnserver did not start"

# --- the programs ---------------------------------------------------------------------
mkdir -p "$tmp/s" "$tmp/c"
chmod 700 "$tmp/s" "$tmp/c"
HOST=10.78.20.2:47999
start_sender() { # ARGS...: SENDER_PID; stdin = FIFO on fd 3
  rm -f "$tmp/op"
  mkfifo "$tmp/op"
  exec 3<> "$tmp/op"
  : > "$tmp/sender.err"
  ip netns exec "$S" "$BF_SENDER" --control 0.0.0.0:47999 --listen 0.0.0.0:47998 \
    --config-dir "$tmp/s" --size 320x240 --fps 30 "$@" < "$tmp/op" 2> "$tmp/sender.err" \
    > /dev/null &
  SENDER_PID=$!
  pids+=("$SENDER_PID")
  for _ in $(seq 200); do
    grep -q "control on" "$tmp/sender.err" && return 0
    kill -0 "$SENDER_PID" 2> /dev/null || fail "the sender exited at start"
    sleep 0.05
  done
  fail "the sender did not start"
}
stop_sender() {
  kill -INT "$SENDER_PID" 2> /dev/null
  wait "$SENDER_PID" 2> /dev/null
  exec 3>&-
}
client() { # ARGS...: bildfunk in the client's namespace; CLIENT_RC, CLIENT_S (its run time)
  local t0
  t0=$(date +%s%N)
  timeout 60 ip netns exec "$C" "$BF_CLIENT" "$HOST" --headless --config-dir "$tmp/c" \
    --skip-to-live off --framemd5 "$tmp/c.md5" --stats-json "$tmp/c.json" "$@" \
    2> "$tmp/client.err"
  CLIENT_RC=$?
  CLIENT_S=$(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
}
TURN=(--turn turn:10.78.10.1:3478 --turn-user alice)
TURN_OK=("${TURN[@]}" --turn-pass alice-pass) # the right password
# freeze_run PATTERN ARGS...: a client for 240 pictures with --reconnect (and
# ARGS); once PATTERN is in its log the sender freezes for 3 s; CLIENT_RC
freeze_run() {
  local pattern=$1 cl
  shift
  timeout 60 ip netns exec "$C" "$BF_CLIENT" "$HOST" --headless --config-dir "$tmp/c" \
    --skip-to-live off --framemd5 "$tmp/c.md5" --stats-json "$tmp/c.json" --frames 240 \
    --reconnect "$@" 2> "$tmp/client.err" &
  cl=$!
  pids+=("$cl")
  for _ in $(seq 300); do grep -q "$pattern" "$tmp/client.err" && break; sleep 0.05; done
  sleep 1
  kill -STOP "$SENDER_PID"
  sleep 3
  kill -CONT "$SENDER_PID"
  wait "$cl"
  CLIENT_RC=$?
}
path_field() { # FIELD: from the client's --stats-json "path" object
  grep -o '"path": {[^}]*}' "$tmp/c.json" | grep -o "\"$1\": [^,}]*" | head -n 1 |
    sed 's/^"[^"]*": //; s/^"//; s/"$//'
}
# exact_md5: the same by the pictures' MD5 alone (a resumed stream's
# timestamps start again on the client)
exact_md5() {
  ffmpeg -hide_banner -loglevel error -i "$tmp/dump.h264" -f framemd5 - 2> /dev/null |
    grep -v '^#' | awk -F', *' '{print $NF}' > "$tmp/ref.md5" || fail "ffmpeg cannot read the dump"
  grep -v '^#' "$tmp/c.md5" | awk -F', *' '{print $NF}' > "$tmp/c.md5s"
  SHOWN=$(wc -l < "$tmp/c.md5s")
  EXACT=$(grep -cxFf "$tmp/ref.md5" "$tmp/c.md5s")
}
# exact: every picture the client decoded is one of the sender's dump
exact() {
  ffmpeg -hide_banner -loglevel error -i "$tmp/dump.h264" -f framemd5 - 2> /dev/null |
    grep -v '^#' > "$tmp/ref.lines" || fail "ffmpeg cannot read the dump"
  grep -v '^#' "$tmp/c.md5" > "$tmp/c.lines"
  SHOWN=$(wc -l < "$tmp/c.lines")
  EXACT=$(grep -cxFf "$tmp/ref.lines" "$tmp/c.lines")
}

# pairing over the forwarded control port (the client pins 10.78.20.2:47999)
router "$RS" plain udp
start_sender --quiet
rm -f "$tmp/cin"
mkfifo "$tmp/cin"
ip netns exec "$C" "$BF_CLIENT" pair "$HOST" --config-dir "$tmp/c" --name relay-client \
  < "$tmp/cin" 2> "$tmp/pair.err" &
cl=$!
pids+=("$cl")
exec 5> "$tmp/cin"
code="" req=""
for _ in $(seq 200); do
  [ -z "$code" ] && code=$(sed -n 's/.*code \([0-9]\{6\}\).*/\1/p' "$tmp/pair.err" | head -n 1)
  req=$(grep "pairing request" "$tmp/sender.err" | head -n 1)
  [ -n "$code" ] && [ -n "$req" ] && break
  sleep 0.05
done
scode=$(sed -n 's/.*this sender.s code: \([0-9]\{6\}\).*/\1/p' <<< "$req")
[ -n "$code" ] && [ -n "$scode" ] || fail "no pairing codes (client '$code', sender '$scode')"
echo "$code" >&3
(trap '' PIPE; echo "$scode" >&5) 2> /dev/null
wait "$cl" || fail "pairing failed: $(tail -n 3 "$tmp/pair.err")"
exec 5>&-
stop_sender
ok "paired through the sender's router"

# 1. direct: the data port forwarded, the relay stays unused
start_sender --dump-au "$tmp/dump.h264"
client --frames 60 "${TURN_OK[@]}"
stop_sender
[ "$CLIENT_RC" -eq 0 ] || fail "direct: exit $CLIENT_RC"
[ "$(path_field kind)" = direct ] || fail "direct: path '$(path_field kind)'"
exact
[ "$SHOWN" -ge 60 ] && [ "$EXACT" -eq "$SHOWN" ] || fail "direct: $EXACT of $SHOWN bit-exact"
grep -q "TURN relay" "$tmp/client.err" && fail "direct: the relay was used"
ok "direct: path direct, $EXACT/$SHOWN pictures bit-exact, rtt $(path_field rtt_ms) ms"

# 1b. two-sided punch: port-preserving NATs on both sides, only the control
# port forwarded: the sender punches toward the client's DataAddr (its own
# NAT then lets the client's punches in) and the path is direct
router "$RS" plain
start_sender --dump-au "$tmp/dump.h264" --stats-json "$tmp/s.json"
client --frames 60 "${TURN_OK[@]}"
stop_sender
[ "$CLIENT_RC" -eq 0 ] || fail "both: exit $CLIENT_RC"
[ "$(path_field kind)" = direct ] || fail "both: path '$(path_field kind)'"
grep -q "TURN relay" "$tmp/client.err" && fail "both: the relay was used"
grep -q "opening the direct path toward the client: 10.78.10.2:[0-9]* and 10.78.1.2:" \
  "$tmp/sender.err" || fail "both: the sender did not punch toward the client"
grep -q "client 10.78.10.2:[0-9]* punched in" "$tmp/sender.err" || fail "both: no punch adopted"
sopen=$(grep -o '"open": {[^}]*}' "$tmp/s.json")
grep -q '"data_addrs": 1' <<< "$sopen" || fail "both: sender stats $sopen"
sp=$(grep -o '"punches": [0-9]*' <<< "$sopen" | awk '{print $2}')
[ "${sp:-0}" -ge 2 ] || fail "both: only ${sp:-0} opening punches sent"
# (the client sees an opening punch only when one came after its own first
# punch and before the sender adopted one: usually none)
crx=$(grep -o '"punches_received": [0-9]*' "$tmp/c.json" | awk '{print $2}')
[ -n "$crx" ] || fail "both: no punches_received in the client's stats"
exact
[ "$SHOWN" -ge 60 ] && [ "$EXACT" -eq "$SHOWN" ] || fail "both: $EXACT of $SHOWN bit-exact"
ok "both: NATs on both sides, no UDP forward: path direct, $sp opening punches ($crx seen by the client)," \
  "$EXACT/$SHOWN pictures bit-exact"

# 2. relayed: a random-port NAT, only the control port forwarded
router "$RS" random
start_sender --dump-au "$tmp/dump.h264"
client --frames 60 "${TURN_OK[@]}" --report "$tmp/r.html"
stop_sender
[ "$CLIENT_RC" -eq 0 ] || fail "relayed: exit $CLIENT_RC"
[ "$(path_field kind)" = relayed ] || fail "relayed: path '$(path_field kind)'"
[ "$(path_field via)" = 10.78.10.1:3478 ] || fail "relayed: via '$(path_field via)'"
grep -qF "<th>data path</th><td>relayed via 10.78.10.1:3478</td>" "$tmp/r.html" ||
  fail "relayed: the report does not name the path"
rx=$(path_field relay_rx)
[ "${rx:-0}" -ge 100 ] || fail "relayed: only ${rx:-0} datagrams came through the relay"
grep -q "the data path goes through the TURN relay 10.78.10.1:3478" "$tmp/client.err" ||
  fail "relayed: the client did not say it switched to the relay"
grep -q "data path goes through the TURN relay 10.78.10.1:3478" "$tmp/sender.err" ||
  fail "relayed: the sender did not say so"
# why: the random-port NAT named (its mapping of 47998 toward the relay)
grep -q "the sender's NAT maps its data port 47998 to 10.78.20.2:[0-9]* toward the relay" \
  "$tmp/client.err" || fail "relayed: the client did not say which NAT maps ports itself"
exact
[ "$SHOWN" -ge 60 ] && [ "$EXACT" -eq "$SHOWN" ] || fail "relayed: $EXACT of $SHOWN bit-exact"
ok "relayed: path relayed via 10.78.10.1:3478, $rx datagrams through coturn, $EXACT/$SHOWN" \
  "pictures bit-exact, rtt $(path_field rtt_ms) ms"

# 2b. --reconnect through the relay: the sender freezes for 3 s, the new
# session gets the relayed address again, the stream goes on (bit-exact)
start_sender --dump-au "$tmp/dump.h264"
freeze_run "goes through the TURN relay" "${TURN_OK[@]}"
stop_sender
[ "$CLIENT_RC" -eq 0 ] || fail "reconnect: exit $CLIENT_RC"
grep -q "set up again: the stream goes on" "$tmp/client.err" || fail "reconnect: no new session"
[ "$(grep -c "the client's data path goes through the TURN relay" "$tmp/sender.err")" -ge 2 ] ||
  fail "reconnect: the new session was not offered the relay"
[ "$(path_field kind)" = relayed ] || fail "reconnect: path '$(path_field kind)'"
exact_md5
[ "$SHOWN" -eq 240 ] && [ "$EXACT" -eq "$SHOWN" ] || fail "reconnect: $EXACT of $SHOWN bit-exact"
ok "reconnect: a 3 s freeze, the new session relayed again, $EXACT/$SHOWN pictures bit-exact"

# 3. the sender's relay: a client without --turn, the sender with it
start_sender --dump-au "$tmp/dump.h264" "${TURN_OK[@]}" --stats-json "$tmp/s.json"
client --frames 60
stop_sender
[ "$CLIENT_RC" -eq 0 ] || fail "senders: exit $CLIENT_RC"
[ "$(path_field kind)" = relayed ] || fail "senders: path '$(path_field kind)'"
[ "$(path_field via)" = 10.78.10.1:3478 ] || fail "senders: via '$(path_field via)'"
grep -q "the data path goes through the sender's TURN relay 10.78.10.1:3478" "$tmp/client.err" ||
  fail "senders: the client did not say it uses the sender's relay"
# the client said it has no relay (RelayFailed): the sender offers after 3 s, not 4.5 s
grep -q "no punch from the client within 3 s: the data path goes through the TURN relay" \
  "$tmp/sender.err" || fail "senders: the sender did not offer its relay at 3 s"
grep -q "the client has no relay: no TURN server on the client (--turn)" "$tmp/sender.err" ||
  fail "senders: the sender did not hear that the client has no relay"
srelay=$(grep -o '"relay": {[^}]*}' "$tmp/s.json")
grep -q '"offers_made": 1' <<< "$srelay" && grep -q '"client_has_none": 1' <<< "$srelay" &&
  grep -q '"failed_sent": 0' <<< "$srelay" || fail "senders: sender stats $srelay"
stx=$(grep -o '"tx": [0-9]*' <<< "$srelay" | awk '{print $2}')
[ "${stx:-0}" -ge 100 ] || fail "senders: only ${stx:-0} datagrams sent through the sender's relay"
exact
[ "$SHOWN" -ge 60 ] && [ "$EXACT" -eq "$SHOWN" ] || fail "senders: $EXACT of $SHOWN bit-exact"
ok "senders: path relayed via the sender's relay 10.78.10.1:3478, $EXACT/$SHOWN pictures" \
  "bit-exact in $CLIENT_S s, rtt $(path_field rtt_ms) ms"

# 3'. the sender's relay after a crash: kill -9 leaves its allocation on
# coturn (600 s); the new sender allocates from the same 5-tuple (data port
# 47998, the NAT's mapping still in conntrack), meets 437, releases the
# stale allocation and allocates again
# (the last sender released its allocation at exit, and coturn deletes a
# released allocation about a second later, answering 437 until then: wait,
# so that the first sender here allocates afresh even without the recovery)
sleep 2
start_sender --dump-au "$tmp/dump.h264" "${TURN_OK[@]}"
client --frames 60
[ "$CLIENT_RC" -eq 0 ] || fail "senderrestart: the first client: exit $CLIENT_RC"
[ "$(path_field kind)" = relayed ] || fail "senderrestart: first path '$(path_field kind)'"
kill -9 "$SENDER_PID"
{ wait "$SENDER_PID"; } 2> /dev/null
exec 3>&-
start_sender --dump-au "$tmp/dump.h264" "${TURN_OK[@]}" --stats-json "$tmp/s.json"
client --frames 60
stop_sender
# (437 as a word: a random port or a pid may hold the digits)
mm='(^|[^0-9:.])437([^0-9]|$)'
grep -qE "$mm" "$tmp/sender.err" && fail "senderrestart: $(grep -m 1 -E "$mm" "$tmp/sender.err")"
[ "$CLIENT_RC" -eq 0 ] || fail "senderrestart: exit $CLIENT_RC"
[ "$(path_field kind)" = relayed ] || fail "senderrestart: path '$(path_field kind)'"
[ "$(path_field via)" = 10.78.10.1:3478 ] || fail "senderrestart: via '$(path_field via)'"
grep -q "the data path goes through the sender's TURN relay 10.78.10.1:3478" "$tmp/client.err" ||
  fail "senderrestart: the client did not use the new sender's relay"
grep -q '"failed_sent": 0' "$tmp/s.json" || fail "senderrestart: the new sender said RelayFailed"
# the recovery is said and counted (the stale allocation was there: kill -9)
grep -q "TURN relay 10.78.10.1:3478 still held an allocation for this address" "$tmp/sender.err" ||
  fail "senderrestart: the new sender did not say it released a stale allocation"
grep -q '"stale_released": 1' "$tmp/s.json" || fail "senderrestart: stale_released not 1"
exact
[ "$SHOWN" -ge 60 ] && [ "$EXACT" -eq "$SHOWN" ] ||
  fail "senderrestart: $EXACT of $SHOWN bit-exact"
ok "senderrestart: after kill -9 the new sender released the stale allocation and relays," \
  "$EXACT/$SHOWN pictures bit-exact in $CLIENT_S s"

# 3a. --reconnect through the sender's relay: the sender freezes for 3 s,
# the new session gets the sender's relay again, the stream goes on
start_sender --dump-au "$tmp/dump.h264" "${TURN_OK[@]}"
freeze_run "goes through the sender's TURN relay"
stop_sender
[ "$CLIENT_RC" -eq 0 ] || fail "sendersreconnect: exit $CLIENT_RC"
grep -q "set up again: the stream goes on" "$tmp/client.err" || fail "sendersreconnect: no new session"
[ "$(grep -c "the data path goes through the sender's TURN relay" "$tmp/client.err")" -ge 2 ] ||
  fail "sendersreconnect: the new session did not go through the sender's relay"
[ "$(path_field kind)" = relayed ] || fail "sendersreconnect: path '$(path_field kind)'"
exact_md5
[ "$SHOWN" -eq 240 ] && [ "$EXACT" -eq "$SHOWN" ] ||
  fail "sendersreconnect: $EXACT of $SHOWN bit-exact"
ok "sendersreconnect: a 3 s freeze, the new session through the sender's relay again," \
  "$EXACT/$SHOWN pictures bit-exact"

# 3b. both have a relay: the client's offer (3 s) comes first and wins
start_sender --dump-au "$tmp/dump.h264" "${TURN_OK[@]}" --stats-json "$tmp/s.json"
client --frames 60 "${TURN_OK[@]}"
stop_sender
[ "$CLIENT_RC" -eq 0 ] || fail "bothturn: exit $CLIENT_RC"
[ "$(path_field kind)" = relayed ] || fail "bothturn: path '$(path_field kind)'"
grep -q "the data path goes through the TURN relay 10.78.10.1:3478" "$tmp/client.err" ||
  fail "bothturn: the client's own relay is not the path"
grep -q "sender's TURN relay" "$tmp/client.err" && fail "bothturn: the sender's relay was taken"
srelay=$(grep -o '"relay": {[^}]*}' "$tmp/s.json")
grep -q '"offers_taken": 1' <<< "$srelay" && grep -q '"offers_made": 0' <<< "$srelay" &&
  grep -q '"ours": 0' <<< "$srelay" || fail "bothturn: sender stats $srelay"
exact
[ "$SHOWN" -ge 60 ] && [ "$EXACT" -eq "$SHOWN" ] || fail "bothturn: $EXACT of $SHOWN bit-exact"
ok "bothturn: the client's relay wins, $EXACT/$SHOWN pictures bit-exact"

# 4. no relay: the client says the data path did not open, and what opens it
start_sender
client --frames 60 --timeout 2
stop_sender
[ "$CLIENT_RC" -ne 0 ] || fail "noturn: exit 0 without any data"
grep -q "the control session is up, so the sender runs, but the data path did not open" \
  "$tmp/client.err" || fail "noturn: not said that the data path did not open"
grep -q "forward UDP port 47998 on the sender's router" "$tmp/client.err" &&
  grep -q -- "--turn turn:HOST" "$tmp/client.err" || fail "noturn: no advice"
grep -q "is the sender running" "$tmp/client.err" && fail "noturn: 'is the sender running?'"
# the sender said it has no relay (RelayFailed): the client did not wait 6.5 s for its offer
grep -q "data path did not open.*; the sender has no relay to offer: no TURN server on the sender" \
  "$tmp/client.err" || fail "noturn: the sender's missing relay not named"
ok "noturn: exit $CLIENT_RC after $CLIENT_S s, '$(grep -o 'the data path did not open.*' "$tmp/client.err" | head -c 120)...'"

# 4b. the sender's relay refuses it (wrong password), the client has none:
# the client's message names the sender's relay failure
start_sender "${TURN[@]}" --turn-pass wrong --stats-json "$tmp/s.json"
client --frames 60 --timeout 2
stop_sender
[ "$CLIENT_RC" -eq 1 ] || fail "senderbad: exit $CLIENT_RC"
grep -q "the sender has no relay to offer: TURN server 10.78.10.1:3478 refused .*401.*wrong user name" \
  "$tmp/client.err" || fail "senderbad: the sender's relay failure not named"
grep -q '"failed_sent": 1' "$tmp/s.json" || fail "senderbad: no RelayFailed counted by the sender"
ok "senderbad: exit 1 after $CLIENT_S s, the client names the sender's relay failure ($(grep -o '(401[^)]*)' \
  "$tmp/client.err" | head -n 1))"

# 5. wrong credentials: a clear error, exit 1
start_sender
client --frames 60 "${TURN[@]}" --turn-pass wrong --relay always
stop_sender
[ "$CLIENT_RC" -eq 1 ] || fail "badcred: exit $CLIENT_RC"
grep -q "TURN relay 10.78.10.1:3478 cannot carry the stream: .*401.*wrong user name or password" \
  "$tmp/client.err" || fail "badcred: no clear error"
ok "badcred: exit 1, $(grep -o '(401[^)]*): wrong user name or password' "$tmp/client.err" | head -n 1)"

echo "relay_nat: all checks passed"
