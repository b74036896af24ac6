#!/usr/bin/env bash
# Tests the man page / bash completion pipeline on a stand-in program
# (fakeprog) whose --help exercises every form gen-completion.sh reads:
# help2man and gen-completion.sh must produce files that check-help.sh
# accepts, the completion must offer the right words, and check-help.sh must
# fail when the man page or the completion is older than the program.
#
#   test-help-pipeline.sh PACKAGING_DIR
set -euo pipefail
pkg=$1
fake=$pkg/tests/fakeprog
skip() {
  echo "SKIP: $*"
  if [ "${BF_REQUIRE_ALL:-0}" = 1 ]; then echo "BF_REQUIRE_ALL=1: failing instead of skipping"; exit 1; fi
  exit 77
}
command -v help2man >/dev/null || skip "help2man is not installed"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# The real pipeline, as packaging/CMakeLists.txt runs it.
h2m=$pkg/tests/fakeprog.h2m
help2man --no-info --include="$h2m" --output="$tmp/fakeprog.1" "$fake"
bash "$pkg/gen-completion.sh" fakeprog "$fake" >"$tmp/fakeprog.bash"
bash "$pkg/check-help.sh" "$fake" "$tmp/fakeprog.1" "$tmp/fakeprog.bash" "$h2m" ||
  fail "check-help.sh rejects a freshly generated man page and completion"
grep -q 'stand-in program for the packaging tests' "$tmp/fakeprog.1" ||
  fail "help2man did not use the include file's NAME"

# What the completion offers, word by word.
complete_words() { # LINE...: the words of a command line, the last is completed
  bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=()
           _bf_complete_fakeprog; [ ${#COMPREPLY[@]} -eq 0 ] || printf "%s\n" "${COMPREPLY[@]}"' _ "$tmp/fakeprog.bash" "$@"
}
expect() { # WANT LINE...
  local want=$1; shift
  local got
  got=$(complete_words "$@" | sort | tr '\n' ' ')
  [ "$got" = "$want" ] || fail "completing '$*': got '$got', want '$want'"
}
expect "--overlay " fakeprog --ov
expect "full normal off " fakeprog --overlay ""
expect "normal " fakeprog --overlay no
expect "" fakeprog --direct ""
expect "" fakeprog --direct -
expect "--verbose --version " fakeprog --direct h --ver
mkdir "$tmp/d" && touch "$tmp/d/conf.ini"
expect "$tmp/d/conf.ini " fakeprog -c "$tmp/d/co"
expect "$tmp/d " fakeprog --log-dir "$tmp/"
expect "--fec " fakeprog --fec "--f"

# Drift: a man page or completion made from an older program must fail.
FAKEPROG_DROP=--headless bash "$pkg/gen-completion.sh" fakeprog "$fake" >"$tmp/old.bash"
if bash "$pkg/check-help.sh" "$fake" "$tmp/fakeprog.1" "$tmp/old.bash" >"$tmp/out" 2>&1; then
  fail "check-help.sh accepted a completion that lacks --headless"
fi
grep -q -- "--headless" "$tmp/out" || fail "check-help.sh did not name the missing option"
FAKEPROG_DROP=--log-dir help2man --no-info --output="$tmp/old.1" "$fake"
if bash "$pkg/check-help.sh" "$fake" "$tmp/old.1" "$tmp/fakeprog.bash" >"$tmp/out" 2>&1; then
  fail "check-help.sh accepted a man page that lacks --log-dir"
fi
# A completion that offers an option the program no longer has.
if FAKEPROG_DROP=--verbose bash "$pkg/check-help.sh" "$fake" "$tmp/fakeprog.1" "$tmp/fakeprog.bash" \
   >"$tmp/out" 2>&1; then
  fail "check-help.sh accepted a completion that offers a removed option"
fi
# A hand-written example that uses an option the program no longer has.
if FAKEPROG_DROP=--overlay bash "$pkg/check-help.sh" "$fake" "$tmp/fakeprog.1" "$tmp/fakeprog.bash" \
   "$h2m" >"$tmp/out" 2>&1; then
  fail "check-help.sh accepted an include file that mentions a removed option"
fi
grep -q "fakeprog.h2m mentions --overlay" "$tmp/out" || { cat "$tmp/out"; fail "wrong complaint"; }
echo "PASS: man page and completion pipeline"
