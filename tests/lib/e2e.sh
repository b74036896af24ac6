# Shared by the end-to-end drivers (tests/client/e2e.sh, tests/fire/fire.sh,
# tests/security/e2e.sh). Source it after setting case_name:
#   source "$(dirname "$0")/../lib/e2e.sh" PREFIX
# It makes $tmp (/tmp/PREFIX.XXXXXX; BF_E2E_KEEP=1 keeps it), $pids (processes
# the driver started: TERM, then KILL, on exit) and the helpers below.
tmp=$(mktemp -d "/tmp/${1:-bf-e2e}.XXXXXX")
pids=()
cleanup() {
  # TERM first, so Xvfb removes its lock file and socket; then KILL
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  sleep 0.2
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
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
