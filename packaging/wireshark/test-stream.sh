#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Tests bildfunk.lua on a capture of a real stream: bildfunk-send streams its
# test pattern for about a second to a headless bildfunk over loopback while
# dumpcap captures the port; then tshark decodes the capture with the
# dissector and
#   - every datagram is claimed as bildfunk (video, punch or feedback), none
#     is unknown and none carries expert info (GSO batches are split);
#   - the counts match what the programs logged in their --stats-json:
#     video packets and all datagrams the sender sent, pongs, the client's
#     punches, the frames sent;
#   - every frame the client logged decodes, packet by packet, to the same
#     frame_bytes, keyframe flag, pts_ns and number of data shards.
#
#   test-stream.sh BILDFUNK_SEND BILDFUNK BILDFUNK_LUA
#
# Needs tshark and the right to capture on lo (root). Exits 77 (skip) when
# it cannot run, or fails instead when BF_REQUIRE_ALL=1 (CI).
set -euo pipefail
sender=$1
client=$2
lua=$3

skip() {
  echo "SKIP: $*"
  if [ "${BF_REQUIRE_ALL:-0}" = 1 ]; then echo "BF_REQUIRE_ALL=1: failing instead of skipping"; exit 1; fi
  exit 77
}
command -v tshark >/dev/null || skip "tshark is not installed"
command -v dumpcap >/dev/null || skip "dumpcap is not installed"
command -v capinfos >/dev/null || skip "capinfos is not installed"
tshark -v 2>/dev/null | grep -i 'with lua' >/dev/null || skip "this tshark has no Lua"

tmp=$(mktemp -d)
source "$(dirname "$0")/../../tests/lib/capture.sh"
send_pid=
cleanup() {
  for p in $send_pid $CAP_PID; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

lua_args=(-X "lua_script:$lua")
if tshark -G protocols 2>/dev/null | awk -F'\t' '$3 == "bildfunk" {f = 1} END {exit !f}'; then
  lua_args=() # installed system-wide already (the package is installed)
fi

# below the kernel's ephemeral range (32768-60999 by default), so no socket
# another test binds to port 0 at the same time can take it or add to the
# capture
port=$((20000 + RANDOM % 8000))
cap=$tmp/stream.pcapng
cap_start "$cap" "udp port $port" || skip "cannot capture on lo"

"$sender" --direct --listen "127.0.0.1:$port" --duration 1 --quiet --stats-json "$tmp/sender.json" \
  >"$tmp/sender.log" 2>&1 &
send_pid=$!
sleep 0.3
set +e
timeout 30 "$client" --direct "127.0.0.1:$port" --headless --duration 10 --quiet \
  --stats-json "$tmp/client.json" >"$tmp/client.log" 2>&1
crc=$?
timeout 10 tail --pid="$send_pid" -f /dev/null
wait "$send_pid"
src=$?
set -e
send_pid=
[ $crc -eq 0 ] || { cat "$tmp/client.log"; fail "bildfunk exited $crc"; }
[ $src -eq 0 ] || { cat "$tmp/sender.log"; fail "bildfunk-send exited $src"; }

# Stop the capture once it holds everything: the count has not grown for
# 1 s (on a busy machine dumpcap can be off the CPU for longer than one
# look), 20 s at most.
last=-1 same=0
for _ in $(seq 100); do
  now=$(cap_count "$cap")
  if [ "$now" -eq "$last" ]; then same=$((same + 1)); else same=0; fi
  [ "$same" -ge 5 ] && break
  last=$now
  sleep 0.2
done
cap_stop

# One row per bildfunk packet: a GSO batch (one frame) becomes several rows.
tshark -r "$cap" "${lua_args[@]}" -T fields -E separator=/t -E occurrence=a -E aggregator=, \
  -e frame.number -e udp.srcport -e bildfunk.kind -e bildfunk.frame_index \
  -e bildfunk.frame_bytes -e bildfunk.user_flags.keyframe -e bildfunk.pts_ns \
  -e bildfunk.block_index -e bildfunk.data_shards -e bildfunk.flags.probe -e bildfunk.fb.type \
  -e _ws.expert.message >"$tmp/frames.tsv" 2>"$tmp/tshark.err" || { cat "$tmp/tshark.err"; exit 1; }
awk -F'\t' -v OFS='\t' '{
  n = split($3, kind, ",")
  if (n == 0) { print $1, $2, ""; next }
  delete v
  for (c = 4; c <= 11; c++) { m = split($c, t, ","); for (i = 1; i <= m; i++) v[c, i] = t[i] }
  vi = 0; fi = 0
  for (i = 1; i <= n; i++) {
    if (kind[i] == "video") {
      vi++
      print $1, $2, kind[i], v[4, vi], v[5, vi], v[6, vi], v[7, vi], v[8, vi], v[9, vi], v[10, vi], "", $12
    } else {
      fi++
      print $1, $2, kind[i], "", "", "", "", "", "", "", v[11, fi], $12
    }
  }
}' "$tmp/frames.tsv" >"$tmp/packets.tsv"

# Every datagram is ours and clean.
unclaimed=$(awk -F'\t' '$3 == "" || $3 == "unknown" || $3 == "sealed"' "$tmp/packets.tsv" | wc -l)
[ "$unclaimed" -eq 0 ] || fail "$unclaimed datagrams not decoded as bildfunk video/punch/feedback/audio/input"
experts=$(awk -F'\t' '$12 != ""' "$tmp/packets.tsv" | wc -l)
[ "$experts" -eq 0 ] || { awk -F'\t' '$12 != ""' "$tmp/packets.tsv" | head; fail "$experts packets carry expert info"; }

# A number from a stats JSON file: the first "key": N (keys are unique enough).
jnum() { tr -d '\n' <"$1" | grep -oE "\"$2\": *[0-9]+" | head -n1 | grep -oE '[0-9]+$' || true; }
count() { awk -F'\t' -v p="$port" "$1" "$tmp/packets.tsv" | wc -l; }

video=$(count '$2 == p && $3 == "video"')
from_sender=$(count '$2 == p')
pongs=$(count '$2 == p && $3 == "feedback" && $11 == 4')
punches=$(count '$2 != p && $3 == "punch"')
frames=$(awk -F'\t' -v p="$port" '$2 == p && $3 == "video" && $10 == 0 {f[$4] = 1}
                                   END {n = 0; for (k in f) n++; print n}' "$tmp/packets.tsv")
check() { # WHAT CAPTURED LOGGED
  printf '  %-36s captured %6s, logged %6s\n' "$1" "$2" "$3"
  [ "$2" = "$3" ] || fail "$1: the capture decodes to $2, the programs logged $3"
}
check "video packets sent" "$video" "$(jnum "$tmp/sender.json" packets_sent)"
check "datagrams sent by the sender" "$from_sender" "$(jnum "$tmp/sender.json" tx_packets)"
check "clock pongs" "$pongs" "$(jnum "$tmp/sender.json" pongs_sent)"
check "frames sent" "$frames" "$(jnum "$tmp/sender.json" frames_sent)"
check "punches sent by the client" "$punches" "$(jnum "$tmp/client.json" punches)"

# Per frame, what the capture says (all packets of a frame must agree).
awk -F'\t' -v p="$port" '$2 == p && $3 == "video" && $10 == 0 {
    f = $4; key = $5 SUBSEP $6 SUBSEP $7
    if (f in info && info[f] != key) bad[f] = 1
    info[f] = key
    if (!((f, $8) in k)) { k[f, $8] = $9; shards[f] += $9 }
  }
  END {
    for (f in info) {
      split(info[f], a, SUBSEP)
      print f, a[1], (a[2] == 1 ? "true" : "false"), a[3], shards[f], (f in bad ? "inconsistent" : "ok")
    }
  }' "$tmp/packets.tsv" | sort -n >"$tmp/captured_frames"
# Per frame, what the client logged.
awk 'function val(k,   s) {
       if (!match($0, "\"" k "\": *[^,}]*")) return "?"
       s = substr($0, RSTART, RLENGTH); sub(/^[^:]*: */, "", s); return s
     }
     /"frame_index":/ { print val("frame_index"), val("bytes"), val("keyframe"), val("pts_ns"), val("shards") }' \
  "$tmp/client.json" | sort -n >"$tmp/logged_frames"
logged=$(wc -l <"$tmp/logged_frames")
[ "$logged" -gt 10 ] || fail "the client logged only $logged frames"
grep -q inconsistent "$tmp/captured_frames" && fail "packets of one frame disagree: $(grep inconsistent "$tmp/captured_frames" | head -3)"
mismatch=$(awk 'FNR == NR { c[$1] = $2 " " $3 " " $4 " " $5; next }
                { want = $2 " " $3 " " $4 " " $5
                  if (!($1 in c)) { print "frame " $1 ": not in the capture"; next }
                  if (c[$1] != want) print "frame " $1 ": decoded " c[$1] ", logged " want }' \
           "$tmp/captured_frames" "$tmp/logged_frames")
[ -z "$mismatch" ] || { echo "$mismatch" | head -20; fail "decoded frames differ from the client's log"; }
gso=$(awk -F'\t' '$3 ~ /,/' "$tmp/frames.tsv" | wc -l)
echo "PASS: $logged logged frames decode to the logged bytes, keyframe, pts and shard counts;" \
     "$(wc -l <"$tmp/packets.tsv") packets in $(wc -l <"$tmp/frames.tsv") captured datagrams ($gso GSO batches)"
