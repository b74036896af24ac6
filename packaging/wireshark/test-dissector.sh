#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Tests bildfunk.lua on a real capture: dumpcap captures loopback UDP while
# wire_sample sends a known set of datagrams made by libbftransport (video
# packets from the packetizer, feedback from the encoder, a punch, PROBE,
# malformed, sealed and foreign datagrams) from the data port 47998 and from
# another port only the heuristic can claim, to a sink socket of its own;
# then tshark decodes the capture with the dissector and every field must
# equal what wire_sample says it sent.
#
#   test-dissector.sh WIRE_SAMPLE BILDFUNK_LUA
#
# Needs tshark and the right to capture on lo (root). Exits 77 (skip) when
# it cannot run, or fails instead when BF_REQUIRE_ALL=1 (CI).
set -euo pipefail
sample=$1
lua=$2

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
cleanup() {
  if [ -n "$CAP_PID" ]; then kill "$CAP_PID" 2>/dev/null || true; wait "$CAP_PID" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# The dissector may also be installed system-wide (the bildfunk package puts
# it in Wireshark's global plugin folder); load ours only when it is not, so
# the protocol is not registered twice.
lua_args=(-X "lua_script:$lua")
if tshark -G protocols 2>/dev/null | awk -F'\t' '$3 == "bildfunk" {f = 1} END {exit !f}'; then
  echo "note: a bildfunk dissector is installed system-wide; testing $lua by its fields anyway"
  lua_args=()
fi

data_port=47998

captured=0
for attempt in $(seq 20); do
  # Ports nothing in Wireshark is registered on (48100..48899).
  heur_port=$((48100 + RANDOM % 400))
  sink=$((48500 + RANDOM % 400))
  cap=$tmp/cap.pcapng
  # Only our own datagrams: other tests may use lo at the same time.
  cap_start "$cap" "udp and dst host 127.0.0.1 and dst port $sink" ||
    skip "cannot capture on lo (needs root or capture rights)"
  set +e
  "$sample" "$data_port" "$heur_port" "$sink" >"$tmp/expected.tsv"
  rc=$?
  set -e
  if [ $rc -eq 3 ]; then # a port is in use (47998: a sender under test): retry
    cap_stop
    sleep 1
    continue
  fi
  [ $rc -eq 0 ] || { echo "FAIL: wire_sample exited $rc"; exit 1; }
  want=$(wc -l <"$tmp/expected.tsv")
  for _ in $(seq 100); do
    [ "$(cap_count "$cap")" -ge "$want" ] && break
    sleep 0.1
  done
  cap_stop
  captured=1
  break
done
[ $captured = 1 ] || { echo "FAIL: port $data_port or the random ports stayed in use"; exit 1; }

got=$(cap_count "$cap")
echo "sent $want datagrams, captured $got"
[ "$got" -eq "$want" ] || { echo "FAIL: capture holds $got packets, expected $want"; exit 1; }

mapfile -t fields < <("$sample" --fields)
eargs=()
for f in "${fields[@]}"; do eargs+=(-e "$f"); done
tshark -r "$cap" "${lua_args[@]}" -T fields -E separator=/t -E occurrence=a -E aggregator=, \
  "${eargs[@]}" >"$tmp/actual.tsv" 2>"$tmp/tshark.err" || { cat "$tmp/tshark.err"; exit 1; }
if grep -qi 'lua' "$tmp/tshark.err"; then
  echo "FAIL: tshark reported a Lua error"; cat "$tmp/tshark.err"; exit 1
fi

if ! cmp -s "$tmp/expected.tsv" "$tmp/actual.tsv"; then
  echo "FAIL: decoded fields differ from what was sent (frame, field: expected | decoded)"
  awk -F'\t' -v names="$(printf '%s\t' "${fields[@]}")" '
    BEGIN { split(names, name, "\t") }
    FNR == NR { want[FNR] = $0; next }
    {
      n = split(want[FNR], e, "\t"); split($0, a, "\t")
      for (i = 1; i <= n; i++) if (e[i] != a[i])
        printf "  frame %d, %s: %.80s | %.80s\n", FNR, name[i], e[i], a[i]
    }' "$tmp/expected.tsv" "$tmp/actual.tsv" | head -60
  exit 1
fi

# Counts by kind, so a regression that silently drops a kind is visible.
# (A GSO batch is one frame holding several packets: "video,video,...".)
for k in video punch feedback sealed; do
  printf '  %-9s %s\n' "$k" "$(awk -F'\t' -v k="$k" '{ n = split($3, a, ","); for (i = 1; i <= n; i++) c += a[i] == k }
                                END { print c + 0 }' "$tmp/actual.tsv")"
done
heur=$(awk -F'\t' -v p="$heur_port" '$1 == p && $3 != ""' "$tmp/actual.tsv" | wc -l)
gso=$(awk -F'\t' '$3 ~ /,/' "$tmp/actual.tsv" | wc -l)
echo "  datagrams claimed by the heuristic (from port $heur_port): $heur, GSO batches split: $gso"
echo "PASS: all $want datagrams decode to the values sent"
