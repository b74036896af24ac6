# SPDX-License-Identifier: GPL-3.0-or-later
# Shared by the end-to-end drivers (tests/client/e2e.sh, tests/fire/fire.sh,
# tests/security/e2e.sh, tests/security/pair.sh). Source it after setting case_name:
#   source "$(dirname "$0")/../lib/e2e.sh" PREFIX
# It makes $tmp (/tmp/PREFIX.XXXXXX; BF_E2E_KEEP=1 keeps it), $pids (processes
# the driver started: TERM, then KILL, on exit) and the helpers below.
tmp=$(mktemp -d "/tmp/${1:-bf-e2e}.XXXXXX")
pids=()
# shellcheck source=tests/lib/procs.sh
. "$(dirname "${BASH_SOURCE[0]}")/procs.sh"
cleanup() {
  # TERM first, so Xvfb removes its lock file and socket; then KILL; only
  # our own children (procs.sh: a reused pid may be another test's)
  bf_kill_children TERM "${pids[@]}"
  sleep 0.2
  bf_kill_children KILL "${pids[@]}"
  wait 2>/dev/null
  [ -n "${BF_E2E_KEEP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT

# fail MESSAGE: says why, shows the tail of every *.err in $tmp, exits 1
fail() {
  echo "FAIL ($case_name): $*"
  for f in "$tmp"/*.err; do [ -f "$f" ] && { echo "--- $f"; tail -n 20 "$f"; }; done
  exit 1
}
ok() { echo "ok: $*"; }
# need VAR: the program VAR names must be built (exit 77 = skipped, a failure
# under BF_REQUIRE_ALL=1 as in CI)
need() {
  [ -n "${!1:-}" ] && return 0
  echo "skip: $1 is not built"
  [ -n "${BF_REQUIRE_ALL:-}" ] && fail "BF_REQUIRE_ALL is set and $1 is missing"
  exit 77
}
# fcmp A OP B: floating-point comparison through awk
fcmp() { awk "BEGIN { exit !(($1) $2 ($3)) }"; }
# the last value of "KEY": in a stats JSON file (the summary comes last)
jnum() { grep -o "\"$2\": [-0-9.e+]*" "$1" | tail -n 1 | awk '{print $2}'; }
jstr() { grep -o "\"$2\": \"[^\"]*\"" "$1" | tail -n 1 | sed 's/.*: "\(.*\)"/\1/'; }

# check_no_plaintext PCAP: the UDP payloads of a capture of a sealed stream
# carry nothing in the clear. Fails unless: >= 50 datagrams; at most 1 holds
# an Annex-B start code (000001, which 00000001 contains, at a byte offset:
# random ciphertext holds one by chance in ~1 of 10000 datagrams); >= 100
# are video-sized; fewer than 1 in 10 of those show the video header's magic
# (0xC9) at byte 36 (clear form) or 44 (sealed form: in every clear video
# datagram, in ~1/256 of sealed ones). Sets CAP_SUMMARY for the ok line.
check_no_plaintext() {
  local pay="$tmp/payloads.txt" n sc big hdr
  tshark -r "$1" -T fields -e udp.payload > "$pay" 2> /dev/null
  n=$(grep -c . "$pay")
  [ "$n" -ge 50 ] || fail "captured only $n datagrams"
  sc=$(awk '{ for (i = 1; i + 5 <= length($0); i += 2) if (substr($0, i, 6) == "000001") { c++; break } } END { print c + 0 }' "$pay")
  read -r big hdr < <(awk 'length($0) > 200 { b++; if (substr($0, 73, 2) == "c9" || substr($0, 89, 2) == "c9") h++ } END { print b + 0, h + 0 }' "$pay")
  [ "$sc" -le 1 ] || fail "$sc of $n datagrams hold an Annex-B start code"
  [ "$big" -ge 100 ] || fail "only $big video-sized datagrams captured"
  [ $((hdr * 10)) -lt "$big" ] || fail "$hdr of $big datagrams show the clear header magic"
  CAP_SUMMARY="$n sealed datagrams captured: $sc with a start code, $hdr of $big with 0xC9 at byte 36/44"
}
